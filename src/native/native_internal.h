/*
 * native_internal.h - the native tier as the runtime sees it: compiling a
 * module (through the wex-llvmc helper process), loading an object, setting
 * up an instance's context and entering native code.
 */
#ifndef WEX_NATIVE_INTERNAL_H
#define WEX_NATIVE_INTERNAL_H

#include "native/native.h"
#include "runtime/runtime.h"

/* A module's loaded native code. Owned by the module (m->native). */
typedef struct wex__native {
    void *map; /* the loaded object: code, read-only data, stubs */
    size_t map_len;
    uint32_t nfuncs; /* defined functions */
    void **fns;      /* wex_f<i> */
    void **entries;  /* wex_e<i> */
    uint32_t *fsize; /* bytes of code of wex_f<i> */
    uint32_t *order; /* defined function indices by address (backtraces) */
    uint32_t *canon; /* engine-wide id of each module type (wex__nctx.canon) */
    uint8_t *obj;    /* the object file, for the compiled-module cache */
    size_t obj_len;
} wex__native;

/* Load an object made by wex-llvmc for a module with nfuncs defined
 * functions. The bytes are checked, never trusted. */
wex_error_t *wex__native_load(const uint8_t *obj, size_t len, uint32_t nfuncs, wex__native **out);
void wex__native_free(wex__native *n);
/* The defined function whose code holds address pc, or -1. */
int64_t wex__native_func_at(const wex__native *n, uintptr_t pc);

/* Compile m's functions to native code with the engine's settings and
 * attach it (m->native). */
wex_error_t *wex__native_compile(wex__module *m);
/* Load an object made for m (from a cache entry) and attach it. */
wex_error_t *wex__native_attach(wex__module *m, const uint8_t *obj, size_t len);
/* What native code depends on besides the module and the engine's other
 * settings: the calling contract, the compiler (its file's identity) and
 * the CPU's features, as text for the engine id. */
void wex__native_key(char *buf, size_t n);

/* Fill the context of inst, whose module has native code (instance.c has
 * pointed its functions at their native code). */
void wex__native_instance_init(wex_instance_t *inst);

/* Run natively compiled f with its arguments in slots; results replace them. */
wex_error_t *wex__native_call(wex_store_t *s, wex_func_t *f, uint64_t *slots);

#endif
