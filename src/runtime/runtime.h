/*
 * runtime.h - the runtime objects behind the public handles: engine, store,
 * instance, function, memory, table, global.
 *
 * Instance layout: an instance holds arrays of pointers to its functions,
 * tables, memories and globals (imported ones point at the exporter's
 * objects). Code reaches memory 0 through inst->mem0, whose base never moves
 * (memories are reservations grown in place), so interpreted code and a later
 * native tier can keep the base in a register and reload the size only after
 * calls and memory.grow.
 */
#ifndef WEX_RUNTIME_H
#define WEX_RUNTIME_H

#include "alloc/alloc.h"
#include "base/base.h"
#include "module/module.h"
#include "native/native.h"
#include "wex_task.h"

#include <pthread.h>

struct wex_config {
    wex_bounds_t bounds;
    wex_tier_t tier;
    uint32_t max_call_depth;
    size_t max_stack_bytes;
    bool deterministic; /* wex_config_set_deterministic */
    bool epochs;        /* wex_config_set_epoch_interruption */
    /* Instantiation strategy and pool limits (issue 4). */
    wex_instantiation_t strategy;
    wex__poolcfg pool;
    unsigned simulate; /* WEX_SIMULATE_* */
    /* Compiled-module cache (include/wex_cache.h): cache_set false means
     * the default chain; cache NULL with cache_set means none. */
    bool cache_set;
    struct wex_cache *cache;
    wex_task_manager_t task_manager; /* the embedder's, when has_task_manager */
    bool has_task_manager;
};

/* Defaults, in one place, with their reasons. */
enum {
    /* Deep enough for real recursive programs, shallow enough that the frame
     * array stays small: the same order as other engines' defaults. */
    WEX__DEFAULT_MAX_CALL_DEPTH = 100000,
};
/* The value stack: 64 MiB of 8-byte slots, reserved lazily (untouched pages
 * cost nothing). */
#define WEX__DEFAULT_MAX_STACK_BYTES ((size_t)64 << 20)
/* Deterministic engines count frames, not slots, so the value stack must not
 * run out first: at least this many slots per frame the depth limit allows
 * (100,000 frames: 200 MiB of addresses, touched as used). A recursion whose
 * frames average more still ends in "call stack exhausted", at a depth that
 * depends on the interpreter's frame sizes. */
#define WEX__DET_STACK_SLOTS_PER_FRAME 256
/* ... nor the machine stack: deterministic engines run WebAssembly on a
 * thread's big stack (wex__os_run_on_big_stack) of this many bytes per
 * frame the limit allows, plus 1 MiB (100,000 frames: 391 MiB of addresses,
 * touched as used). Native frames are tens to hundreds of bytes; a change
 * of tier (interpreter, native code, host function) costs about 1 KiB. */
#define WEX__DET_MACHINE_STACK_PER_FRAME 4096

/*
 * Pool defaults, in one place, with their reasons. Reserving costs only
 * address space (PROT_NONE, MAP_NORESERVE): a 64-bit process has 128 TiB.
 */
/* 1000 slots: as many live instances as wasmtime's default pool, more than
 * any spec-test file keeps in one store; 8 TiB of addresses with guard pages.
 * If that much cannot be reserved, the engine halves it until it can. */
#define WEX__POOL_DEFAULT_SLOTS 1000u
/* 4 GiB: every 32-bit memory fits a slot, so pooling never refuses a module. */
#define WEX__POOL_DEFAULT_MAX_MEMORY ((uint64_t)4 << 30)
/* With explicit checks nothing reaches past a memory; 64 KiB of guard after
 * each slot is defence in depth only. */
#define WEX__POOL_DEFAULT_GUARD ((uint64_t)64 << 10)
/* One table of 10,000 elements per slot: MVP modules have one table, and C
 * programs' function tables are far smaller; 80 KB of addresses per slot. */
#define WEX__POOL_DEFAULT_TABLES   1u
#define WEX__POOL_DEFAULT_ELEMENTS 10000u
/* Pooling (copying) strategy: up to 16 MiB of a freed slot's memory stays
 * resident (the image part is rewritten by the next instance of the module,
 * the rest zeroed in place) instead of being given back and faulted in again,
 * which costs more than the copy. Only slots of that strategy keep pages;
 * copy-on-write slots always give them back (that is how their image comes
 * back). 16 MiB x 16 warm slots per module stays far below this machine's
 * memory. */
#define WEX__POOL_DEFAULT_KEEP_RESIDENT ((uint64_t)16 << 20)
/* PoolingCopyOnWrite: nothing kept; a slot without an image (memory but no
 * data) is given back with the decommit batch. Measured on module (b) (64 KiB,
 * never touched), median instantiation: zeroing it all in place 1.71 us,
 * zeroing the resident pages found by mincore 0.81 us, batched decommit
 * 0.39 us (bench/RESULTS.md, session 3). wasmtime's default is 0 too. */
#define WEX__POOL_DEFAULT_KEEP_RESIDENT_COW 0u
/* Freed slots that keep a module's image mapped: enough for a few threads
 * instantiating the same module at once, plus a whole decommit batch (slots
 * waiting to be reset keep their module too; a limit below the batch would
 * send a busy module's slots cold, each to be remapped). A warm slot costs
 * no memory once reset, only its mapping. */
#define WEX__POOL_DEFAULT_WARM 64u
/* Freed slots reset with one system call (pool.c: one TLB shootdown per
 * batch instead of one per instance). Module (c), pooling-cow, instances/s
 * with 1 / 2 threads on this 2-vCPU machine (bench/RESULTS.md, session 3):
 * batch 1 (a reset per instance) 0.77-0.90 M / 0.32-0.44 M; 8: 1.10 M /
 * 0.77 M; 32: 1.00-1.16 M / 0.82-0.89 M. Pending slots hold the pages their
 * occupants touched until the batch is reset: 32 x what one instance
 * touches. Must stay below WEX__POOL_DEFAULT_WARM. */
#define WEX__POOL_DEFAULT_DECOMMIT_BATCH 32u
/* Freed, reset slots each thread keeps for its own next instances (pool.c,
 * per-thread caches): as many as a decommit batch, so that a thread that
 * instantiates one module flat out takes its slots back from its cache after
 * each batch is reset and never takes the pool's lock (a batch refills an
 * empty cache). A thread holds at most this plus a batch of pending slots. */
#define WEX__POOL_DEFAULT_THREAD_CACHE 32u
/* A full pool fails at once: a single-threaded host would otherwise wait for
 * itself. Hosts with worker threads choose to wait (1 s default timeout). */
#define WEX__POOL_DEFAULT_TIMEOUT_MS 1000u

typedef struct {
    uint32_t nparams, nresults;
    uint8_t *types;
} wex__itype;

struct wex_engine {
    uint32_t refs; /* wex_engine_new's, plus one per complete module */
    struct wex_config config;
    wex__allocator *alloc; /* memories, tables and instance records */
    pthread_mutex_t lock;  /* guards the type table */
    wex__itype *types;     /* interned function types; canon id = index */
    uint32_t ntypes, captypes;
    wex_instantiation_t strategy; /* in force, after fallbacks */
    char strategy_note[160];      /* why it differs from the one asked for; "" if not */
    /* Compiled-module cache: the layers, a process-unique serial (the key
     * of in-memory layers) and the id of compiled code (src/cache). */
    struct wex_cache *cache;
    uint64_t cache_serial;
    uint8_t cache_id[16];
    char cache_id_hex[33];
    /* The task manager (wex_task.h): the embedder's or the default one,
     * made on first use under `lock`; destroyed first at engine deletion. */
    wex_task_manager_t tm;
    bool tm_ready;
    /* Epoch interruption: incremented by any thread (atomic); code of an
     * engine with epochs compares it with its store's deadline. */
    uint64_t epoch;
};

/* Engines are reference counted: modules kept by caches may outlive
 * wex_engine_delete, and freeing them needs the engine's allocator. */
void wex__engine_ref(wex_engine_t *e);
void wex__engine_unref(wex_engine_t *e);

/* Intern a function type; returns its canonical id (UINT32_MAX on OOM). */
uint32_t wex__engine_intern(wex_engine_t *e, uint32_t nparams, uint32_t nresults,
                            const uint8_t *types);

/* Every runtime object starts with this header; the store frees them all. */
typedef enum {
    WEX__OBJ_FUNC,
    WEX__OBJ_TABLE,
    WEX__OBJ_MEMORY,
    WEX__OBJ_GLOBAL,
    WEX__OBJ_INSTANCE,
    WEX__OBJ_SHARE /* a store's reference to a shared memory (atomic.c) */
} wex__objkind;
typedef struct wex__obj {
    struct wex__obj *next;
    uint8_t kind;
} wex__obj;

/* A call frame of the interpreter: where to go back to. */
typedef struct {
    const uint32_t *ip;
    uint64_t *fp;
    struct wex_instance *inst;
    /* Guard-page builds only, for fault backtraces: the callee (a host
     * function for a host call's record), or NULL for a direct call within
     * fr->inst, whose CALL_L word ip[-6] names the callee's code index. */
    struct wex_func *callee;
} wex__frame;
#define WEX__FRAME_RECORDS(s) ((size_t)(s)->max_depth + 1)

struct wex_store {
    wex_engine_t *engine;
    void *data;
    wex__obj *objects;
    /* The value stack, reserved on first call. */
    uint64_t *stack, *stack_end, *stack_top;
    size_t stack_bytes;
    /* Call frames. depth counts records in use across nested entries: each
     * entry into the interpreter first leaves a sentinel record (its ip is
     * the interpreter's STOP word), so a return needs no test for the entry
     * frame; entries counts the sentinels live. WEX__FRAME_RECORDS records
     * (one beyond max_depth: the outermost entry's sentinel). */
    wex__frame *frames;
    uint32_t depth, max_depth, entries;
    /* Frames live below the running entry in every tier, WebAssembly and
     * host (set where code leaves for a host function or another tier; native
     * code counts its own frames only in deterministic engines): what the
     * call-depth limit counts. */
    uint32_t wdepth;
    /* Guard-page builds: the running loop's next free frame record, kept
     * current on every call and return, for a fault's backtrace (the loop's
     * registers are lost on a fault; depth is set only at its boundaries). */
    wex__frame *live;
    /* Set by native code calling a WebAssembly function through the runtime,
     * taken by the entry it makes: an interpreter entry's sentinel then says
     * so (wex__interp_stop_native), and a backtrace stops there, since the
     * native caller adds its own frames (wex__error_add_frames). */
    bool from_native;
    /* Epoch interruption: the engine epoch at which code stops (UINT64_MAX:
     * never), and who decides then (wex_store_set_epoch_callback). */
    uint64_t epoch_deadline;
    wex_epoch_callback_t epoch_cb;
    void *epoch_data;
    /* Resource limits (wex_store_set_limits; read only once limited is
     * set, so that a new store, unlimited, initialises nothing and an
     * instantiation checks nothing) and what counts against them. */
    bool limited;
    wex_store_limits_t limits;
    uint64_t ninstances, nmemories, ntables;
    wex_grow_callback_t grow_cb;
    void *grow_data;
};

/* May s make n more memories (tables) whose initial sizes are within its
 * limits? NULL, or the WEX_ERR_LIMIT error naming the limit. */
wex_error_t *wex__store_may_make(wex_store_t *s, wex_externkind_t kind, uint64_t n, uint64_t size);
/* May s grow one of its memories (tables) from current to desired (bytes,
 * elements): its limit, then its callback. */
bool wex__store_may_grow(wex_store_t *s, wex_externkind_t kind, uint64_t current, uint64_t desired);

/* The store's deadline was reached (code saw engine epoch >= deadline):
 * true when its callback moved the deadline on, false to trap with
 * WEX_TRAP_INTERRUPT. */
bool wex__store_epoch_go_on(wex_store_t *s);

struct wex_func {
    wex__obj hdr;
    uint32_t canon;               /* interned type id */
    const wex__functype *type;    /* the type */
    struct wex_instance *inst;    /* NULL for host functions */
    uint32_t code_index;          /* wasm: index into compiled->funcs */
    wex_host_callback_t callback; /* host */
    void *env;
    void (*finalizer)(void *);
    wex__functype own_type; /* host: its own copy */
    /* Native tier (src/native): wex_f<i>, its slot trampoline wex_e<i> and
     * its instance's context; NULL when the function runs interpreted. */
    void *native;
    void *native_entry;
    struct wex__nctx *nctx;
    wex_valkind_t *kinds; /* params then results, for wex_func_type */
};

struct wex_memory {
    wex__obj hdr;
    uint8_t *base;
    uint64_t size;           /* bytes accessible */
    uint64_t reserved;       /* bytes reserved */
    wex__limits lim;         /* lim.min: current pages */
    int region;              /* guard region handle, or -1 */
    struct wex_store *owner; /* the store that made it: its limits apply */
    /* Shared memories (threads proposal) only, else NULL: this record then
     * lives outside every store, counted by the stores that use it. */
    struct wex__shmem *shared;
};

struct wex_table {
    wex__obj hdr;
    void **elems;
    uint32_t size, cap;
    uint8_t elem; /* reftype */
    wex__limits lim;
    wex__allocator *alloc;   /* owns elems */
    struct wex_store *owner; /* the store that made it: its limits apply */
};

struct wex_global {
    wex__obj hdr;
    uint64_t val; /* bits; references as pointers */
    uint8_t type;
    bool mut;
};

typedef struct {
    uint32_t count; /* 0 once dropped */
    void **refs;
} wex__elemseg;

struct wex_instance {
    wex__obj hdr;
    const wex__module *module;
    wex_store_t *store;
    wex_func_t **funcs;
    wex_table_t **tables;
    wex_memory_t **mems;
    wex_global_t **globals;
    wex_memory_t *mem0; /* mems[0] or NULL */
    wex__elemseg *elems;
    uint8_t *data_dropped;
    void *slot;     /* the allocator's slot (pooling), or NULL */
    wex__nctx nctx; /* what native code reads (native.h); unused otherwise */
    /* Native and automatic tiers: the module's per-function entry counters
     * (wex__native.hot), which the interpreter's TIER_ENTRY counts down;
     * tier_auto: entries are timed for the automatic tier's loop timer. */
    int32_t *tier_hot;
    int32_t *tier_loop; /* wex__native.loophot, which LOOP_HEAD counts down */
    bool tier_auto;
};

/* Memories and tables. */
wex_error_t *wex__memory_create(wex_store_t *s, const wex__limits *lim, wex_memory_t **out);
int64_t wex__memory_grow(wex_memory_t *m, uint64_t delta);
wex_error_t *wex__table_create(wex_store_t *s, uint8_t elem, const wex__limits *lim, void *init,
                               wex_table_t **out);
int64_t wex__table_grow(wex_table_t *t, uint32_t delta, void *init);

/* Link an object into its store. */
void wex__store_adopt(wex_store_t *s, wex__obj *o, wex__objkind kind);
/* Make sure the value stack exists. */
wex_error_t *wex__store_stack(wex_store_t *s);

/* Call f with its arguments in slots[0..nparams); results land in slots[0..]. */
wex_error_t *wex__call(wex_store_t *s, wex_func_t *f, uint64_t *slots);

/* Convert between API values and slots. */
uint64_t wex__val_to_slot(const wex_val_t *v);
wex_val_t wex__slot_to_val(uint64_t slot, uint8_t type);

/* Call host function f with arguments in slots; results replace them. */
wex_error_t *wex__host_call(wex_store_t *s, wex_func_t *f, uint64_t *slots);

/*
 * Shared memories and wait/notify (atomic.c). A shared memory is one
 * wex_memory_t made outside any store and reference-counted: each store that
 * uses it holds a WEX__OBJ_SHARE object, so it lives until the last such
 * store is deleted. Its reservation never moves; growth is serialised by a
 * lock and publishes the new size with atomic stores.
 */
wex_error_t *wex__shmem_create(wex_store_t *s, const wex__limits *lim, wex_memory_t **out);
/* Let store s use shared memory m (another reference). */
wex_error_t *wex__shmem_adopt(wex_store_t *s, wex_memory_t *m);
void wex__shmem_release(wex__obj *share);
int64_t wex__shmem_grow(wex_memory_t *m, uint64_t delta);
/* memory.atomic.wait on a host address inside a shared memory: 0 woken,
 * 1 not equal, 2 timed out (timeout_ns < 0: never). */
uint32_t wex__atomic_wait(void *addr, uint64_t expected, bool is64, int64_t timeout_ns);
/* memory.atomic.notify: wake up to count waiters on addr; returns how many. */
uint32_t wex__atomic_notify(void *addr, uint32_t count);
#endif
