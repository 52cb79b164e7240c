/*
 * wex.h - the public API of wex, a WebAssembly executor.
 *
 * Objects
 *   wex_engine_t    compiles modules; holds settings (wex_config_t) and process-wide
 *                   state such as the interned function-type table.
 *   wex_module_t    a decoded, validated and translated module. Immutable once made.
 *   wex_store_t     owns every runtime object: instances, functions, tables,
 *                   memories, globals. Freeing the store frees all of them.
 *   wex_instance_t  an instantiated module.
 *   wex_func_t, wex_table_t, wex_memory_t, wex_global_t
 *                   runtime objects, owned by the store that made them.
 *   wex_error_t     a failure: a code (WEX_ERR_*), a message and, for malformed
 *                   modules, the byte offset. Traps are errors whose code is
 *                   WEX_ERR_TRAP; wex_error_trap_code() tells which trap.
 *
 * Ownership
 *   - Whatever a wex_*_new or wex_*_create returns through an out-parameter is
 *     owned by the caller and released with the matching wex_*_delete, except
 *     runtime objects (instances, funcs, tables, memories, globals), which belong
 *     to their store and live until wex_store_delete.
 *   - A returned wex_error_t* is owned by the caller: wex_error_delete() it.
 *   - A module may outlive the engine's users but not the engine; a store may not
 *     outlive its engine; modules used by a store must outlive the store.
 *   - Strings passed in are copied; strings returned point into the object they
 *     came from and live as long as it.
 *
 * Threads
 *   - An engine and a module may be used from any number of threads at once.
 *   - A store, and everything in it, is used by one thread at a time; the embedder
 *     serialises access. Different stores may run on different threads.
 *   - The guard-page trap handler is process-wide and installed once, the first
 *     time an engine that uses guard pages is made; it claims only faults inside
 *     wex's own memory reservations and chains to any earlier handler.
 */
#ifndef WEX_H
#define WEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- errors */

/* X(name, description) - the error codes. */
#define WEX_ERROR_LIST(X)                                                                          \
    X(OK, "no error")                                                                              \
    X(MALFORMED, "malformed module")                                                               \
    X(INVALID, "invalid module")                                                                   \
    X(UNLINKABLE, "unlinkable module")                                                             \
    X(TRAP, "trap")                                                                                \
    X(NOMEM, "out of memory")                                                                      \
    X(IO, "input/output error")                                                                    \
    X(ARGUMENT, "invalid argument")                                                                \
    X(UNSUPPORTED, "not supported")                                                                \
    X(NOT_FOUND, "not found")                                                                      \
    X(EXIT, "program exited")                                                                      \
    X(COMPILE, "compilation failed")                                                               \
    X(LIMIT, "resource limit exceeded")

typedef enum {
#define WEX__E(name, desc) WEX_ERR_##name,
    WEX_ERROR_LIST(WEX__E)
#undef WEX__E
} wex_errcode_t;

/* X(name, spec message) - the traps. The message is the spec test suite's. */
#define WEX_TRAP_LIST(X)                                                                           \
    X(NONE, "no trap")                                                                             \
    X(UNREACHABLE, "unreachable")                                                                  \
    X(MEMORY_OOB, "out of bounds memory access")                                                   \
    X(TABLE_OOB, "out of bounds table access")                                                     \
    X(INT_OVERFLOW, "integer overflow")                                                            \
    X(INT_DIV_ZERO, "integer divide by zero")                                                      \
    X(INVALID_CONVERSION, "invalid conversion to integer")                                         \
    X(UNDEFINED_ELEMENT, "undefined element")                                                      \
    X(UNINITIALIZED_ELEMENT, "uninitialized element")                                              \
    X(INDIRECT_CALL_TYPE, "indirect call type mismatch")                                           \
    X(CALL_STACK_EXHAUSTED, "call stack exhausted")                                                \
    X(NULL_REFERENCE, "null reference")                                                            \
    X(HOST, "host function failed")                                                                \
    X(UNALIGNED_ATOMIC, "unaligned atomic")                                                        \
    X(EXPECTED_SHARED, "expected shared memory")                                                   \
    X(INTERRUPT, "interrupt")

typedef enum {
#define WEX__T(name, msg) WEX_TRAP_##name,
    WEX_TRAP_LIST(WEX__T)
#undef WEX__T
} wex_trapcode_t;

typedef struct wex_error wex_error_t;

wex_errcode_t wex_error_code(const wex_error_t *err);
wex_trapcode_t wex_error_trap_code(const wex_error_t *err); /* WEX_TRAP_NONE if not a trap */
const char *wex_error_message(const wex_error_t *err);
/* Byte offset in the module for malformed/invalid modules, else -1. */
int64_t wex_error_offset(const wex_error_t *err);
/* Exit status, for WEX_ERR_EXIT (a guest called proc_exit). */
int wex_error_exit_status(const wex_error_t *err);
void wex_error_delete(wex_error_t *err);
/* For host functions: make an error to return as a trap / exit. */
wex_error_t *wex_error_new(wex_errcode_t code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
wex_error_t *wex_error_new_exit(int status);
const char *wex_errcode_name(wex_errcode_t code);
const char *wex_trap_message(wex_trapcode_t code);

/* ------------------------------------------------------- error backtraces
 *
 * A trap raised while WebAssembly runs (WEX_ERR_TRAP, including an error a
 * host function returns) carries the WebAssembly frames that were live,
 * innermost first: frame 0 is the function that trapped (or that called the
 * host function that failed), frame i+1 the caller of frame i. Frames of
 * every nested entry (WebAssembly -> host -> WebAssembly) are listed; host
 * functions themselves are not. At most WEX_BACKTRACE_MAX_FRAMES frames are
 * recorded, the innermost ones; wex_error_frames_omitted() counts the rest.
 * Other errors have no frames. Everything is copied into the error: the
 * frames and their names stay valid until wex_error_delete(), whatever
 * happens to the store or module.
 */
#define WEX_BACKTRACE_MAX_FRAMES 64

/* module_offset is the byte offset, in the module binary, of the trapping
 * instruction (frame 0) or of the call instruction (callers). When only the
 * function is known (a guard-page fault does not say which instruction of the
 * innermost function faulted), it is the offset of the function's body and
 * WEX_FRAME_FUNC_OFFSET is set. */
#define WEX_FRAME_FUNC_OFFSET 1u

typedef struct wex_frame {
    uint32_t func_index;   /* in the module's function index space (imports first) */
    int64_t module_offset; /* see above; -1 if unknown */
    const char *func_name; /* from the name section, or NULL; owned by the error */
    uint32_t flags;        /* WEX_FRAME_* */
} wex_frame_t;

size_t wex_error_frame_count(const wex_error_t *err);
/* Fill *out with frame i (0 = innermost). Returns false if i is out of range. */
bool wex_error_frame(const wex_error_t *err, size_t i, wex_frame_t *out);
/* Live frames that were not recorded (beyond WEX_BACKTRACE_MAX_FRAMES). */
size_t wex_error_frames_omitted(const wex_error_t *err);

/* ---------------------------------------------------------------- values */

typedef enum {
    WEX_I32 = 0x7F,
    WEX_I64 = 0x7E,
    WEX_F32 = 0x7D,
    WEX_F64 = 0x7C,
    WEX_V128 = 0x7B,
    WEX_FUNCREF = 0x70,
    WEX_EXTERNREF = 0x6F,
} wex_valkind_t;

typedef struct wex_func wex_func_t;

/* A value. Floats are carried as bit patterns so that NaN payloads survive. */
typedef struct wex_val {
    wex_valkind_t kind;
    union {
        int32_t i32;
        int64_t i64;
        uint32_t f32_bits;
        uint64_t f64_bits;
        wex_func_t *funcref; /* NULL is ref.null func */
        void *externref;     /* NULL is ref.null extern */
    } of;
} wex_val_t;

static inline wex_val_t wex_val_i32(int32_t v) {
    wex_val_t r;
    r.kind = WEX_I32;
    r.of.i64 = 0;
    r.of.i32 = v;
    return r;
}
static inline wex_val_t wex_val_i64(int64_t v) {
    wex_val_t r;
    r.kind = WEX_I64;
    r.of.i64 = v;
    return r;
}

/* A function type: params then results. */
typedef struct wex_functype {
    uint32_t nparams, nresults;
    const wex_valkind_t *params, *results;
} wex_functype_t;

typedef struct wex_limits {
    uint64_t min, max; /* max is meaningful only when has_max */
    bool has_max;
    bool shared;
} wex_limits_t;

typedef enum {
    WEX_EXTERN_FUNC = 0,
    WEX_EXTERN_TABLE = 1,
    WEX_EXTERN_MEMORY = 2,
    WEX_EXTERN_GLOBAL = 3,
} wex_externkind_t;

typedef struct wex_table wex_table_t;
typedef struct wex_memory wex_memory_t;
typedef struct wex_global wex_global_t;

typedef struct wex_extern {
    wex_externkind_t kind;
    union {
        wex_func_t *func;
        wex_table_t *table;
        wex_memory_t *memory;
        wex_global_t *global;
    } of;
} wex_extern_t;

/* ---------------------------------------------------------------- engine */

typedef struct wex_config wex_config_t;
typedef struct wex_engine wex_engine_t;

typedef enum {
    WEX_BOUNDS_GUARD_PAGES = 0, /* reserve 8 GiB + guard per memory; faults trap */
    WEX_BOUNDS_EXPLICIT = 1,    /* a compare per access; no signal handler */
} wex_bounds_t;

wex_config_t *wex_config_new(void);
void wex_config_delete(wex_config_t *config);
/* Bounds-check policy. Default: guard pages on 64-bit hosts, explicit in the
 * sanitizer build and where the address space is too small. */
void wex_config_set_bounds_checks(wex_config_t *config, wex_bounds_t policy);
/* Maximum depth of nested WebAssembly calls before "call stack exhausted". */
void wex_config_set_max_call_depth(wex_config_t *config, uint32_t depth);
/* Maximum size, in bytes, of the value stack a call may use. */
void wex_config_set_max_stack_bytes(wex_config_t *config, size_t bytes);
/* Deterministic execution (default off), for runtimes whose every node must compute the same
 * thing, as blockchains do: every float operation whose result is a NaN gives the canonical NaN
 * (positive, quiet, no payload; abs, neg, copysign and reinterpretations still move bits as
 * they are); "call stack exhausted" comes at the same depth in every tier and on every machine
 * (frames of WebAssembly and host functions counted across tiers, at most the max call depth
 * plus one live); and memory bounds are checked explicitly, so that memory after an
 * out-of-bounds trap is exact in native code too (this overrides the bounds-check policy). */
void wex_config_set_deterministic(wex_config_t *config, bool on);

/* Which code runs a module's functions. INTERP: the interpreter. NATIVE: machine code compiled by
 * LLVM (in the wex-llvmc helper program, found through $WEX_LLVMC, beside the running executable,
 * or in the installed libexec directory) for the whole module when it is made, in parallel on the
 * task manager's workers; wex_module_new fails with WEX_ERR_COMPILE if that is impossible. AUTO
 * (the default; $WEX_TIER=interp|native|auto changes it): starts in the interpreter and compiles
 * the functions that run often or long in the background, switching each one's next entry to its
 * machine code (a running loop moves at its next iteration); the compiled-module cache keeps that
 * code for the next run. Without the compiler, AUTO is INTERP. */
typedef enum {
    WEX_TIER_INTERP = 0,
    WEX_TIER_NATIVE = 1,
    WEX_TIER_AUTO = 2,
} wex_tier_t;
void wex_config_set_tier(wex_config_t *config, wex_tier_t tier);

/* Epoch interruption (off by default). Compiled code then checks, at every
 * function entry and every loop iteration, whether the engine's epoch has
 * reached the running store's deadline; when it has, the store's epoch
 * callback decides, and without one the call traps with WEX_TRAP_INTERRUPT
 * ("interrupt"). The checks are part of the compiled code (and of the engine
 * id): an engine without them pays nothing. Their cost: bench/RESULTS.md. */
void wex_config_set_epoch_interruption(wex_config_t *config, bool on);

/* Takes ownership of config (may be NULL for defaults). */
wex_engine_t *wex_engine_new(wex_config_t *config);
/* Add one to the engine's epoch: from any thread (a timer, a watchdog), at
 * any time, also while its stores run code. */
void wex_engine_increment_epoch(wex_engine_t *engine);
uint64_t wex_engine_epoch(const wex_engine_t *engine);
void wex_engine_delete(wex_engine_t *engine);
wex_bounds_t wex_engine_bounds_checks(const wex_engine_t *engine);
const char *wex_version(void);

/* ------------------------------------------------------ instantiation */

/* How instances get their memory, tables and records (see docs/architecture.md). */
typedef enum {
    /* Slots from a pre-reserved pool; memory 0 starts as a private copy-on-write
     * mapping of the module's data image. The default. */
    WEX_INSTANTIATION_POOLING_COW = 0,
    /* A fresh reservation per instance, memory still copy-on-write from the image. */
    WEX_INSTANTIATION_RECREATE_COW = 1,
    /* Pooled slots; memory initialised by copying the data. */
    WEX_INSTANTIATION_POOLING = 2,
    /* Everything made from scratch for each instance. */
    WEX_INSTANTIATION_RECREATE = 3,
} wex_instantiation_t;

/* What a full pool does when one more instance is asked for. */
typedef enum {
    WEX_POOL_WAIT = 0, /* wait for a slot to be freed, up to the timeout, then fail */
    WEX_POOL_FAIL = 1, /* fail at once */
} wex_pool_exhaustion_t;

/* Fallbacks to simulate, for testing them (wex_config_simulate). */
enum {
    WEX_SIMULATE_NO_MEMFD = 1,        /* images cannot live in a memfd: they are copied */
    WEX_SIMULATE_MADVISE_IGNORED = 2, /* madvise(MADV_DONTNEED) does nothing */
    WEX_SIMULATE_NO_RESERVATION = 4,  /* the pool's reservation fails */
    /* process_madvise cannot reset many ranges at once: one madvise each */
    WEX_SIMULATE_NO_PROCESS_MADVISE = 8,
    /* no page flags (/proc/self/pagemap): freed image slots never copy the
     * image back over written pages, they give them all back */
    WEX_SIMULATE_NO_IMAGE_RESTORE = 16,
};

void wex_config_set_instantiation_strategy(wex_config_t *config, wex_instantiation_t strategy);
/* Pool limits. Defaults fit a 64-bit host; see WEX__POOL_DEFAULT_* in the source. */
void wex_config_set_pool_slots(wex_config_t *config, uint32_t slots);
void wex_config_set_pool_max_memory(wex_config_t *config, uint64_t bytes); /* per slot */
/* Inaccessible bytes after each slot's memory, with explicit bounds checks
 * (guard-page mode always keeps the 8 GiB + 64 KiB every access can reach). */
void wex_config_set_pool_guard_bytes(wex_config_t *config, uint64_t bytes);
/* Tables and elements per table a slot holds; larger tables live on the heap. */
void wex_config_set_pool_tables(wex_config_t *config, uint32_t tables, uint32_t elements);
/* Bytes of a freed slot's memory zeroed in place (kept resident) rather than
 * given back to the OS, where no image is mapped (an image's private copies
 * must be dropped). PoolingCopyOnWrite zeroes only the pages still resident
 * at the start of them. Default: 16 MiB for Pooling, 0 for
 * PoolingCopyOnWrite (see runtime.h). */
void wex_config_set_pool_keep_resident(wex_config_t *config, uint64_t bytes);
/* Freed slots that keep a module's image mapped, per module. */
void wex_config_set_pool_warm_slots(wex_config_t *config, uint32_t per_module);
/* Freed slots whose pages wait to be given back together (1: each slot at
 * once). One system call resets a whole batch, and in a multi-threaded host
 * each such call interrupts the other CPUs to flush their TLBs, so batching
 * is what lets instantiation scale with threads. Waiting slots still count
 * as free: a full pool resets them rather than waiting or failing. Waiting
 * slots keep their module and count against warm_per_module: keep that above
 * the batch, or a busy module's freed slots go cold. See
 * WEX__POOL_DEFAULT_DECOMMIT_BATCH for the default. */
void wex_config_set_pool_decommit_batch(wex_config_t *config, uint32_t slots);
void wex_config_set_pool_exhaustion(wex_config_t *config, wex_pool_exhaustion_t mode,
                                    uint32_t timeout_ms);
/* Per-thread slot caches (pooling): each thread keeps up to `slots` freed,
 * already-reset slots for itself, so that one thread instantiating and
 * dropping the same module takes no pool-wide lock. A thread that finds the
 * pool empty takes slots from other threads' caches before waiting or
 * failing, so exhaustion stays exact. 0 turns the caches off. */
void wex_config_set_pool_thread_cache(wex_config_t *config, uint32_t slots);

/* Make fallbacks happen on purpose (WEX_SIMULATE_* flags), for tests. */
void wex_config_simulate(wex_config_t *config, unsigned flags);

/* The strategy in force after fallbacks, and why it differs from the one asked
 * for (NULL if it does not). */
wex_instantiation_t wex_engine_instantiation_strategy(const wex_engine_t *engine);
const char *wex_engine_instantiation_note(const wex_engine_t *engine);
const char *wex_instantiation_name(wex_instantiation_t strategy); /* "pooling-cow", ... */

/* ---------------------------------------------------------------- module */

typedef struct wex_module wex_module_t;

/* Decode, validate and translate. On failure returns an error (MALFORMED with
 * the byte offset, INVALID, UNSUPPORTED) and sets *out to NULL. */
wex_error_t *wex_module_new(wex_engine_t *engine, const uint8_t *bytes, size_t len,
                            wex_module_t **out);
/* Decode and validate only. */
wex_error_t *wex_module_validate(wex_engine_t *engine, const uint8_t *bytes, size_t len);
void wex_module_delete(wex_module_t *module);

typedef struct wex_importdesc {
    const char *module, *name; /* NUL-terminated copies (names may hold NUL: use lens) */
    size_t module_len, name_len;
    wex_externkind_t kind;
    wex_functype_t functype; /* for FUNC */
    wex_valkind_t valkind;   /* for GLOBAL: value type; for TABLE: element type */
    bool mutable_;           /* for GLOBAL */
    wex_limits_t limits;     /* for TABLE, MEMORY */
} wex_importdesc_t;

typedef struct wex_exportdesc {
    const char *name;
    size_t name_len;
    wex_externkind_t kind;
    uint32_t index; /* index in the module's space of that kind */
} wex_exportdesc_t;

size_t wex_module_import_count(const wex_module_t *module);
void wex_module_import(const wex_module_t *module, size_t i, wex_importdesc_t *out);
size_t wex_module_export_count(const wex_module_t *module);
void wex_module_export(const wex_module_t *module, size_t i, wex_exportdesc_t *out);
/* The name of function `index` from the name section, or NULL. */
const char *wex_module_func_name(const wex_module_t *module, uint32_t index);
/* The module's memory image: its size in bytes (0 if none), and why there is
 * none; *copied is true when it cannot be mapped (no descriptor) and is copied. */
uint64_t wex_module_image(const wex_module_t *module, const char **no_image_reason, bool *copied);
/* Memory `index` of the module (imports first): its limits. False if none. */
bool wex_module_memory(const wex_module_t *module, uint32_t index, wex_limits_t *out);

/* Compiled modules as files (the cache: include/wex_cache.h). serialize
 * writes an artifact (atomically: a temporary file renamed to path).
 * deserialize_file maps one made by an engine with the same id. It runs
 * code that is NOT validated again: load only files you trust. Damaged,
 * truncated or foreign files are refused with WEX_ERR_MALFORMED. */
wex_error_t *wex_module_serialize(const wex_module_t *module, const char *path);
wex_error_t *wex_module_deserialize_file(wex_engine_t *engine, const char *path,
                                         wex_module_t **out);

/* ---------------------------------------------------------------- store */

typedef struct wex_store wex_store_t;
typedef struct wex_instance wex_instance_t;

wex_store_t *wex_store_new(wex_engine_t *engine);
void wex_store_delete(wex_store_t *store);
/* Arbitrary embedder data attached to the store. */
void wex_store_set_data(wex_store_t *store, void *data);
void *wex_store_data(const wex_store_t *store);

/* Epoch interruption (wex_config_set_epoch_interruption): the store's
 * deadline, `ticks` increments of the engine's epoch from now. A new store
 * has none (its code is never interrupted). Set it from the store's thread,
 * outside calls into it, or from its epoch callback. */
void wex_store_set_epoch_deadline(wex_store_t *store, uint64_t ticks);
/* Called on the running thread when code reaches the store's deadline:
 * return true and set *ticks to run on until that many more increments
 * (at least 1), or false to trap with WEX_TRAP_INTERRUPT. It must not call
 * into the store. NULL (the default): trap. */
typedef bool (*wex_epoch_callback_t)(void *data, wex_store_t *store, uint64_t *ticks);
/* The engine epoch at which the store's code stops; UINT64_MAX: none. */
uint64_t wex_store_epoch_deadline(const wex_store_t *store);

/* Resource limits of a store (all unlimited in a new store). A memory or
 * table that would grow past its limit stays as it is: memory.grow and
 * table.grow give -1 to the guest, wex_memory_grow and wex_table_grow to the
 * host. Instantiation, wex_memory_new and wex_table_new fail with
 * WEX_ERR_LIMIT, naming the limit, when they would make more instances,
 * memories or tables than allowed, or a memory or table that starts above
 * its limit. Shared memories (threads) live outside stores: only their
 * making is counted, not their growth. */
typedef struct wex_store_limits {
    uint64_t memory_bytes;   /* the size of each linear memory */
    uint64_t table_elements; /* the size of each table */
    uint64_t instances;      /* made in the store, in all */
    uint64_t memories;       /* defined memories made in the store */
    uint64_t tables;         /* defined tables made in the store */
} wex_store_limits_t;
#define WEX_NO_LIMIT UINT64_MAX
void wex_store_set_limits(wex_store_t *store, const wex_store_limits_t *limits);
/* Asked before each growth the limits allow (sizes in bytes for memories,
 * elements for tables): false refuses it (the grower gets -1). It runs on
 * the growing thread, inside the guest's call; it must not call into the
 * store. NULL (the default): every growth within the limits happens. */
typedef bool (*wex_grow_callback_t)(void *data, wex_store_t *store, wex_externkind_t kind,
                                    uint64_t current, uint64_t desired);
void wex_store_set_grow_callback(wex_store_t *store, wex_grow_callback_t callback, void *data);
void wex_store_set_epoch_callback(wex_store_t *store, wex_epoch_callback_t callback, void *data);

/* Instantiate. imports[i] satisfies the module's i-th import. On a link error
 * returns WEX_ERR_UNLINKABLE; if the start function or a segment traps, returns
 * the trap; objects already initialised keep their effects, as the spec says.
 * *out is set on success only. */
wex_error_t *wex_instance_new(wex_store_t *store, const wex_module_t *module,
                              const wex_extern_t *imports, size_t nimports, wex_instance_t **out);
/* Look an export up by name. Returns false if there is none. */
bool wex_instance_export(const wex_instance_t *instance, const char *name, size_t name_len,
                         wex_extern_t *out);
const wex_module_t *wex_instance_module(const wex_instance_t *instance);

/* ---------------------------------------------------------------- funcs */

/* A host function. args has type->nparams values; write type->nresults values
 * to results. Return NULL, or an error (it becomes a trap, or an exit). */
typedef wex_error_t *(*wex_host_callback_t)(void *env, wex_store_t *store, const wex_val_t *args,
                                            wex_val_t *results);

/* The type is copied. finalizer(env) runs when the store is deleted (may be NULL). */
wex_func_t *wex_func_new(wex_store_t *store, const wex_functype_t *type,
                         wex_host_callback_t callback, void *env, void (*finalizer)(void *));
/* The type of f; the arrays live as long as f. */
wex_functype_t wex_func_type(const wex_func_t *f);
/* Call. args must match the parameter types; results receives nresults values. */
wex_error_t *wex_func_call(wex_store_t *store, wex_func_t *f, const wex_val_t *args, size_t nargs,
                           wex_val_t *results, size_t nresults);

/* ---------------------------------------------------------------- memory */

#define WEX_PAGE_SIZE 65536u

wex_error_t *wex_memory_new(wex_store_t *store, wex_limits_t limits, wex_memory_t **out);
uint8_t *wex_memory_data(const wex_memory_t *mem);
size_t wex_memory_size(const wex_memory_t *mem);         /* bytes */
wex_limits_t wex_memory_limits(const wex_memory_t *mem); /* current size as min */
/* Grow by delta pages; returns the old size in pages or -1. */
int64_t wex_memory_grow(wex_memory_t *mem, uint64_t delta_pages);
/* Shared memories (limits.shared, which needs a maximum; threads proposal)
 * may be used by several stores, on several threads: each store that uses
 * one (through this call, or by importing it) keeps it alive. Let `store`
 * use `shared`, made in another store of the same engine. */
wex_error_t *wex_memory_share(wex_store_t *store, wex_memory_t *shared);

/* ---------------------------------------------------------------- tables */

wex_error_t *wex_table_new(wex_store_t *store, wex_valkind_t elem, wex_limits_t limits,
                           wex_val_t init, wex_table_t **out);
uint32_t wex_table_size(const wex_table_t *t);
wex_valkind_t wex_table_elem_kind(const wex_table_t *t);
wex_limits_t wex_table_limits(const wex_table_t *t);
bool wex_table_get(const wex_table_t *t, uint32_t i, wex_val_t *out);
bool wex_table_set(wex_table_t *t, uint32_t i, wex_val_t v);

/* ---------------------------------------------------------------- globals */

wex_error_t *wex_global_new(wex_store_t *store, wex_val_t init, bool mutable_, wex_global_t **out);
wex_val_t wex_global_get(const wex_global_t *g);
/* Fails (returns false) if the global is immutable or the kind differs. */
bool wex_global_set(wex_global_t *g, wex_val_t v);
bool wex_global_mutable(const wex_global_t *g);
wex_valkind_t wex_global_kind(const wex_global_t *g);

#ifdef __cplusplus
}
#endif
#endif /* WEX_H */
