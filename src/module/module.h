/*
 * module.h - the in-memory form of a WebAssembly module, shared by the
 * stages: decode fills it from bytes, valid checks it, interp translates
 * its function bodies, runtime instantiates it.
 *
 * All offsets (`off` fields) are byte offsets into `bytes`, the module's own
 * copy of its binary, so that later stages can re-read bodies and constant
 * expressions and report errors at the right place.
 */
#ifndef WEX_MODULE_H
#define WEX_MODULE_H

#include "base/base.h"
#include "module/image.h"

/* Value types, as their binary encodings. */
enum {
    WEX__T_I32 = 0x7F,
    WEX__T_I64 = 0x7E,
    WEX__T_F32 = 0x7D,
    WEX__T_F64 = 0x7C,
    WEX__T_V128 = 0x7B,
    WEX__T_FUNCREF = 0x70,
    WEX__T_EXTERNREF = 0x6F,
};

static inline int wex__is_reftype(uint8_t t) {
    return t == WEX__T_FUNCREF || t == WEX__T_EXTERNREF;
}

/* Implementation limits, in one place, each with its reason. */
enum {
    /* Total locals of one function (params included): bounds frame size. The
     * same limit as the web's JS-API. */
    WEX__MAX_LOCALS = 50000,
    /* Pages of a 32-bit memory: 4 GiB. */
    WEX__MAX_PAGES = 65536,
    /* Elements of a table: the limit web engines use; keeps tables in memory. */
    WEX__MAX_TABLE_ELEMS = 10000000,
    /* Parameters or results of one function type, as the web's JS-API. */
    WEX__MAX_FUNC_PARAMS = 1000,
    /* Nesting depth of blocks in one function body: bounds the control stack. */
    WEX__MAX_BLOCK_DEPTH = 65536,
};

typedef struct {
    uint32_t nparams, nresults;
    uint8_t *types;       /* nparams params then nresults results */
    uint32_t canon;       /* engine-wide interned id: equal types have equal ids */
    wex_valkind_t *kinds; /* the same as API kinds, into wex__module.kinds */
} wex__functype;

typedef struct {
    uint64_t min, max;
    bool has_max, shared;
} wex__limits;

typedef struct {
    uint8_t elem; /* reftype */
    wex__limits lim;
} wex__tabletype;

typedef struct {
    wex__limits lim;
} wex__memtype;

typedef struct {
    uint8_t type; /* valtype */
    bool mut;
} wex__globaltype;

enum { WEX__EXT_FUNC = 0, WEX__EXT_TABLE = 1, WEX__EXT_MEM = 2, WEX__EXT_GLOBAL = 3 };

/* A constant expression: the bytes from its first instruction through `end`. */
typedef struct {
    uint32_t off, len;
} wex__constexpr;

typedef struct {
    char *module, *name; /* NUL-terminated copies */
    uint32_t module_len, name_len;
    uint8_t kind; /* WEX__EXT_* */
    union {
        uint32_t type; /* FUNC: type index */
        wex__tabletype table;
        wex__memtype mem;
        wex__globaltype global;
    } u;
} wex__import;

typedef struct {
    char *name;
    uint32_t name_len;
    uint8_t kind;
    uint32_t index;
} wex__export;

typedef struct {
    wex__globaltype type;
    wex__constexpr init;
} wex__global;

enum { WEX__SEG_ACTIVE = 0, WEX__SEG_PASSIVE = 1, WEX__SEG_DECLARATIVE = 2 };

typedef struct {
    uint8_t mode;          /* WEX__SEG_* */
    uint8_t type;          /* reftype */
    uint32_t table;        /* active only */
    wex__constexpr offset; /* active only */
    uint32_t count;
    uint32_t *funcs;       /* function indices, when exprs is NULL */
    wex__constexpr *exprs; /* element expressions, else NULL */
    uint32_t off;          /* where the segment starts, for errors */
} wex__elem;

typedef struct {
    uint8_t mode; /* WEX__SEG_ACTIVE or WEX__SEG_PASSIVE */
    uint32_t mem;
    wex__constexpr offset;
    uint32_t data_off, data_len; /* the bytes */
    uint32_t off;                /* where the segment starts, for errors */
} wex__data;

/* Locals of a body, run-length encoded as in the binary. */
typedef struct {
    uint32_t count;
    uint8_t type;
} wex__localrun;

typedef struct {
    uint32_t off, len; /* the whole body entry, size field excluded */
    uint32_t expr_off; /* first instruction, after the local declarations */
    uint32_t nlocals;  /* declared locals, params excluded */
    uint32_t nruns;
    wex__localrun *runs;
} wex__code;

typedef struct wex__compiled wex__compiled; /* interp's translated code */

typedef struct wex_module {
    struct wex_engine *engine;
    /* The engine this module holds a reference on (set once the module is
     * complete; NULL while it is being built): caches may keep a module past
     * wex_engine_delete, and its last release still needs the engine's
     * allocator (slots that remember the module). */
    struct wex_engine *owner;
    uint8_t *bytes;
    size_t len;

    uint32_t ntypes;
    wex__functype *types;

    uint32_t nimports;
    wex__import *imports;

    /* Index spaces: imports come first in each. */
    uint32_t nfuncs, nfunc_imports;
    uint32_t *func_types; /* type index of each function */
    uint32_t ntables, ntable_imports;
    wex__tabletype *tables;
    uint32_t nmems, nmem_imports;
    wex__memtype *mems;
    uint32_t nglobals, nglobal_imports;
    wex__globaltype *global_types; /* of every global */
    wex__global *globals;          /* defined globals only: nglobals - nglobal_imports */

    uint32_t nexports;
    wex__export *exports;

    bool has_start;
    uint32_t start;

    uint32_t nelems;
    wex__elem *elems;

    bool has_datacount;
    uint32_t datacount;
    uint32_t ndatas;
    wex__data *datas;

    uint32_t ncodes;
    wex__code *codes; /* defined functions: nfuncs - nfunc_imports */

    /* From the "name" custom section, if present and well-formed. */
    char **func_names; /* nfuncs entries, each NULL or a string; NULL if none */

    /* Functions referenced outside function bodies (exports, elements,
     * globals): ref.func in a body may only name these. Set by valid. */
    uint8_t *func_declared; /* nfuncs flags */

    wex__compiled *compiled; /* set by interp after translation */
    /* The interpreter's code begins each function with TIER_ENTRY (the
     * native and automatic tiers); set before translation. */
    bool tier_entry;
    /* ... and an epoch check at each function entry and loop head
     * (wex_config_set_epoch_interruption); set before translation. */
    bool epochs;
    struct wex__native *native; /* native code (src/native), or NULL */
    wex_valkind_t *kinds;       /* every type's kinds, for the API; set at compile */

    /* Copy-on-write image of defined memory 0's initial contents (see
     * module/image.h): built by alloc at compile, or mapped from an artifact
     * by cache. image.size == 0 means none; image.no_image says why. */
    wex__image image;

    /* The compiled-module cache's record (src/cache/cache.h): reference
     * count, module hash, and for a module loaded from an artifact its
     * mapping. NULL until the cache or wex_module_new makes it. */
    struct wex__modcache *cache;
} wex__module;

/* Free everything a module holds (not the engine). */
void wex__module_free(wex__module *m);

/* The function type of function `idx`. */
static inline const wex__functype *wex__module_functype(const wex__module *m, uint32_t idx) {
    return &m->types[m->func_types[idx]];
}

#endif
