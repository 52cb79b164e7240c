/*
 * llvm.h - the native tier's translator: a validated module's function
 * bodies to LLVM IR, and LLVM IR to an ELF relocatable object that
 * src/native loads. Built only into the wex-llvmc helper (tools/llvmc), the
 * one program that links LLVM: the runtime itself never loads it.
 */
#ifndef WEX_LLVM_H
#define WEX_LLVM_H

#include "module/module.h"
#include "native/native.h"

/* Recursive inlining: a small function that calls itself directly gets
 * copies of its body inlined at its self-calls, level by level (a chain of
 * internal always-inline clones: LLVM's inliner never inlines a function
 * into itself), up to WEX__LLVM_RECINL_DEPTH levels and
 * WEX__LLVM_RECINL_COPIES copies in all (a body with k self-calls has k^l
 * copies at level l). fib's native code took 114 ms without, 69 ms at 6
 * levels (gcc -O2 46 ms). With guard pages, the more LLVM sees of a body the
 * likelier it drops or reorders a store beside a load that faults
 * (docs/architecture.md, "Native code and guard pages"); that is a property
 * of guard pages under LLVM, not of this inlining. */
#define WEX__LLVM_RECINL        1 /* 0: off */
#define WEX__LLVM_RECINL_DEPTH  6
#define WEX__LLVM_RECINL_COPIES 8
#define WEX__LLVM_RECINL_BYTES  256

/* What the translator needs to know of the runtime's objects (the offsets of
 * the fields native code reads), given by the caller, which sees them. */
typedef struct {
    size_t global_val;  /* wex_global_t: the value's 64 bits */
    size_t func_canon;  /* wex_func_t: engine-wide type id (uint32_t) */
    size_t func_native; /* wex_func_t: wex_f<i> of a natively compiled function, or NULL */
    size_t func_nctx;   /* wex_func_t: its instance's wex__nctx, or NULL */
    size_t table_elems; /* wex_table_t: element array (void **) */
    size_t table_size;  /* wex_table_t: element count (uint32_t) */
} wex__llvm_layout;

typedef struct {
    bool explicit_bounds; /* a compare per memory access instead of guard pages */
    bool deterministic;   /* canonical NaNs, frames counted (wex_config_set_deterministic) */
    bool epochs;          /* epoch checks (wex_config_set_epoch_interruption) */
    unsigned opt_level;   /* 0..3 */
    wex__llvm_layout layout;
    const char *cpu;      /* LLVM CPU name; NULL: the host's */
    const char *features; /* LLVM feature string; NULL: the host's */
    const uint8_t *want;  /* per defined function: translate it (NULL: all) */
    const uint8_t *osr;   /* per defined function: entries into its loops
                           * (wex_p<i>_<offset>, for the interpreter's LOOP_HEAD), or NULL */
} wex__llvm_opts;

/* Translate the wanted defined functions of m (decoded and validated) and emit an
 * object file into *obj (malloc'd, *len bytes). On failure returns false
 * with a message in err. */
bool wex__llvm_compile(const wex__module *m, const wex__llvm_opts *o, uint8_t **obj, size_t *len,
                       char *err, size_t errlen);

#endif
