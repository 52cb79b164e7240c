/*
 * native.h - the native tier: machine code for a module's functions, made by
 * LLVM in a helper process (wex-llvmc, tools/llvmc), loaded by wex's own
 * small ELF loader (native_load.c) and run in place (native_rt.c).
 *
 * The contract between the code and the runtime is this header: the context
 * every native function takes as its first argument (wex__nctx, one per
 * instance, embedded in it), the helper table the code calls for anything
 * that is not straight-line arithmetic or memory access, and the symbols the
 * object file defines. The translator (src/llvm) is built from the same
 * header in the same build, so offsets agree by construction;
 * WEX__NATIVE_ABI_VERSION names the contract for cached code.
 *
 * Native functions use the C calling convention:
 *   RT wex_f<i>(wex__nctx *ctx, T1 p1, ..., Tn pn [, uint64_t *results])
 * for defined function i (imports excluded): i32/i64/f32/f64 as themselves,
 * references as 64-bit integers (the wex_func_t pointer or extern pointer,
 * 0 for null); no result: void; one: returned; several: void, stored as
 * 64-bit slots through the extra last argument. And per function a slot
 * trampoline for calls from C:
 *   void wex_e<i>(wex__nctx *ctx, uint64_t *slots)
 * which reads the arguments from slots[0..] and writes the results there.
 * An object may define some of the functions only (compiled in partitions,
 * or hot ones by the automatic tier); it calls the others through
 * ctx->fnptrs, or through the CALL helper while they have no native code.
 *
 * Backtraces: a site id is a defined function's index << 32 | a module
 * offset (all ones: unknown; an offset of all ones: the function, no
 * instruction). The trap helpers take the trapping instruction's; the
 * object's .llvm_stackmaps records, at the address after every call, the
 * ids of the call's inline chain, innermost first (translate.c,
 * add_stackmaps), after WEX__NATIVE_SITE_TRAP for a trap helper's call.
 */
#define WEX__NATIVE_SITE_TRAP (UINT64_MAX - 1)
/* The offset of a function's entry checks (stack limit, call depth): a
 * trap there is the caller's, at its call, as in the interpreter. */
#define WEX__NATIVE_SITE_ENTRY (UINT32_MAX - 1)
#ifndef WEX_NATIVE_H
#define WEX_NATIVE_H

#include <stddef.h>
#include <stdint.h>

/* Bumped whenever the context, the helper table or the calling convention
 * changes meaning. */
#define WEX__NATIVE_ABI_VERSION 7 /* 7: epoch interruption (context, EPOCH helper) */

/* The build a compiler and a runtime must share: the runtime passes it to
 * wex-llvmc (--build), which refuses to compile for another, and it is part
 * of the cache key. WEX_VERSION and WEX_LLVM_VERSION come from the build;
 * WEX__NATIVE_SOURCE_ID from the generated native_source_id.h (a hash of the
 * translator's sources, scripts/native_source_id.cmake), which a file that
 * uses this includes. */
#define WEX__NATIVE_STR2(x) #x
#define WEX__NATIVE_STR(x)  WEX__NATIVE_STR2(x)
#define WEX__NATIVE_BUILD                                                                          \
    "abi " WEX__NATIVE_STR(WEX__NATIVE_ABI_VERSION) " wex " WEX_VERSION " llvm " WEX_LLVM_VERSION  \
                                                    " src " WEX__NATIVE_SOURCE_ID

/* The context: what native code reads of its instance. The base of memory 0
 * never moves (memories are reservations grown in place), so code keeps it
 * in a register; the size (explicit checks only) is re-read after calls. */
typedef struct wex__nctx {
    uint8_t *mem;            /* memory 0's base, or NULL */
    const uint64_t *memsize; /* &memory 0's size in bytes (grows; atomic for shared) */
    void *const *globals;    /* the instance's wex_global_t pointers */
    void *const *helpers;    /* WEX__NH_* entries (native_rt.c) */
    void *const *funcs;      /* the instance's wex_func_t pointers (imports first) */
    void *const *tables;     /* the instance's wex_table_t pointers */
    const uint32_t *canon;   /* the engine-wide id of each of the module's types */
    uintptr_t stack_limit;   /* a prologue traps when its frame reaches below this */
    void *inst;              /* the wex_instance_t */
    void *const *fnptrs;     /* wex_f<i> of each defined function, NULL while it has none */
    uint64_t sink;           /* written, never read: keeps guard-page loads alive (translate.c) */
    /* Deterministic code only: frames live below the running function (a
     * prologue traps at depth_limit, else adds its own; returns restore
     * it), set by each entry from the store's count. */
    uint32_t depth, depth_limit;
    /* Epoch-checked code only: the engine's epoch (atomic) and the store's
     * deadline; at or past it, code calls the EPOCH helper. */
    const uint64_t *epoch;
    const uint64_t *epoch_deadline;
} wex__nctx;

/* The helper table, in order: each entry's C signature is in native_rt.c. */
#define WEX__NATIVE_HELPERS(X)                                                                     \
    X(TRAP)       /* (ctx, i32 trap code, i64 sink, i64 site): does not return */                  \
    X(TRAP_INDEX) /* (ctx, i32 code, i32 index, i64 sink, i64 site): the same, naming an element   \
                   */                                                                              \
    X(CALL)       /* (ctx, i32 funcidx, u64 *slots): an imported or foreign function */            \
    X(CALL_INDIRECT) /* (ctx, i32 table, i32 elem, i32 typeidx, u64 *slots) */                     \
    X(MEMORY_GROW)   /* (ctx, i32 delta) -> i32 */                                                 \
    X(MEMORY_SIZE)   /* (ctx) -> i32 pages */                                                      \
    X(MEMORY_INIT)   /* (ctx, i32 seg, i32 d, i32 s, i32 n) */                                     \
    X(DATA_DROP)     /* (ctx, i32 seg) */                                                          \
    X(MEMORY_COPY)   /* (ctx, i32 d, i32 s, i32 n) */                                              \
    X(MEMORY_FILL)   /* (ctx, i32 d, i32 val, i32 n) */                                            \
    X(TABLE_GET)     /* (ctx, i32 table, i32 i) -> i64 */                                          \
    X(TABLE_SET)     /* (ctx, i32 table, i32 i, i64 ref) */                                        \
    X(TABLE_SIZE)    /* (ctx, i32 table) -> i32 */                                                 \
    X(TABLE_GROW)    /* (ctx, i32 table, i64 init, i32 n) -> i32 */                                \
    X(TABLE_FILL)    /* (ctx, i32 table, i32 i, i64 ref, i32 n) */                                 \
    X(TABLE_COPY)    /* (ctx, i32 dst, i32 src, i32 d, i32 s, i32 n) */                            \
    X(TABLE_INIT)    /* (ctx, i32 table, i32 seg, i32 d, i32 s, i32 n) */                          \
    X(ELEM_DROP)     /* (ctx, i32 seg) */                                                          \
    X(ATOMIC_WAIT32) /* (ctx, i64 ea, i32 expected, i64 timeout) -> i32 */                         \
    X(ATOMIC_WAIT64) /* (ctx, i64 ea, i64 expected, i64 timeout) -> i32 */                         \
    X(ATOMIC_NOTIFY) /* (ctx, i64 ea, i32 count) -> i32 */                                         \
    X(EPOCH)         /* (ctx): the deadline was reached; returns if the store goes on, else traps */

enum {
#define WEX__NH(name) WEX__NH_##name,
    WEX__NATIVE_HELPERS(WEX__NH)
#undef WEX__NH
        WEX__NH_COUNT
};

#endif
