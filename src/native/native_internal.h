/*
 * native_internal.h - the native tier as the runtime sees it: compiling some
 * or all of a module's functions (through the wex-llvmc helper process),
 * loading the objects, setting up an instance's context, entering native
 * code, and tiering up in the background (native_tier.c).
 */
#ifndef WEX_NATIVE_INTERNAL_H
#define WEX_NATIVE_INTERNAL_H

#include "native/native.h"
#include "runtime/runtime.h"

#include <pthread.h>

/* Knobs of the automatic tier (native_tier.c), in one place. */
/* Interpreted entries of a function before it is compiled: enough that
 * start-up code run a few times stays interpreted, few enough that a hot
 * function is found within a millisecond or so of interpretation. */
#define WEX__TIER_CALLS 1000
/* Iterations of a function's loops (LOOP_HEAD, all of them) before the
 * function is compiled with entries into them; and, once asked for, how
 * many more before the interpreter looks again whether they have come. */
#define WEX__TIER_LOOPS        2000
#define WEX__TIER_LOOP_RECHECK 256
/* Both counts are for a body of up to this many bytes of WebAssembly, and
 * grow by as much again for every further such step (at most 64x): a large
 * function costs the compiler the most time, so it must prove itself hotter
 * before it goes ahead of small hot ones (parse: printf_core, 9 KB and
 * 0.4 s of LLVM, is called often but matters less than the parser). */
#define WEX__TIER_SIZE_STEP 2048
/* Once requested, how many further entries before the interpreter looks
 * again whether the code has arrived. */
#define WEX__TIER_RECHECK 256
/* Time in the interpreter before the functions entered so far are compiled
 * even if none was called often: a long loop in a function entered once
 * (main) is found this way; its code serves the next run, from the cache. */
#define WEX__TIER_LOOP_MS 100
/* How long the automatic tier's compiler process (wex-llvmc --serve)
 * waits for the next batch before it exits: long enough to serve the
 * batches of a program's warm-up, short enough that an idle host does not
 * keep LLVM's memory (tens of MB) for nothing. */
#define WEX__TIER_COMPILER_IDLE_MS 2000
/* Bytes of WebAssembly code per batch of the automatic tier (at least one
 * function): a batch's code arrives when all of it is compiled, so a large
 * function asked for at the same time as small hot ones must not hold them
 * back; it gets a batch of its own. */
#define WEX__TIER_BATCH_BYTES 4096
/* A cap on wex-llvmc processes one module compiles with at once (native
 * tier: a partition each; more processes than CPUs only add memory). */
#define WEX__NATIVE_MAX_JOBS 16

/* wex__native_obj.loop of body i's entry copy wex_q<i>: code of i that is
 * no entry (module offsets stay below it). */
#define WEX__NATIVE_LOOP_BODY (UINT32_MAX - 1)

/* One loaded object file: the code of some of a module's functions. */
typedef struct wex__native_obj {
    void *map; /* code, read-only data, stubs */
    size_t map_len;
    uintptr_t lo, hi;   /* the address range of its functions' code */
    uint32_t nf;        /* functions it defines, by address: */
    uint32_t *order;    /*   their defined indices */
    uintptr_t *addr;    /*   wex_f<i> */
    uintptr_t *entry;   /*   wex_e<i> (a loop entry: itself) */
    uint32_t *size;     /*   bytes of code */
    uint32_t *loop;     /*   UINT32_MAX for wex_f<i>; for a loop entry wex_p<i>_<off>, off;
                         *   WEX__NATIVE_LOOP_BODY for the entry copy wex_q<i> */
    uint32_t nsites;    /* call sites (.llvm_stackmaps), by address: */
    uintptr_t *site_pc; /*   where the call returns to (about: see translate.c) */
    uint64_t *site_id;  /*   its site id (native.h) */
    uint8_t *bytes;     /* the object file, for the compiled-module cache */
    size_t len;
    struct wex__native_obj *next; /* older objects (published atomically) */
} wex__native_obj;

/*
 * A module's native code, owned by the module (m->native). It starts empty
 * and gains objects, each defining some functions (all of them at once for
 * the native tier; the hot ones, batch by batch, for the automatic tier).
 * A function's entries are written before fns[i] is published (release), so
 * a reader that sees fns[i] (acquire) sees the rest; nothing is ever
 * replaced or removed while the module lives.
 */
typedef struct wex__native {
    uint32_t nfuncs;            /* defined functions */
    void **fns;                 /* wex_f<i>, or NULL while i runs interpreted */
    void **entries;             /* wex_e<i> */
    uint32_t *canon;            /* engine-wide id of each module type (wex__nctx.canon) */
    int32_t *hot;               /* per function: interpreted entries left before it is
                                 * compiled (automatic tier; relaxed, races only lose counts) */
    int32_t *loophot;           /* per function: LOOP_HEAD iterations left before asking */
    uint32_t active;            /* atomic: interpreter entries running now (the loop timer
                                 * looks again only while there are some) */
    wex__native_obj *objs;      /* newest first */
    pthread_mutex_t add_mu;     /* serialises wex__native_add (readers take no lock) */
    struct wex__tierup *tierup; /* the automatic tier's state (native_tier.c), or NULL */
} wex__native;

/* An empty native record for m (every function interpreted). */
wex_error_t *wex__native_new(wex__module *m, wex__native **out);
void wex__native_free(wex__native *n);
/* Load one object made by wex-llvmc for a module with nfuncs defined
 * functions. The bytes are checked, never trusted. */
wex_error_t *wex__native_load(const uint8_t *obj, size_t len, uint32_t nfuncs,
                              wex__native_obj **out);
void wex__native_obj_free(wex__native_obj *o);
/* Publish a loaded object's functions in m's native record, which takes
 * it. Functions it already has keep their first code. */
void wex__native_add(const wex__module *m, wex__native_obj *o);
/* The defined function whose code holds address pc, or -1. */
int64_t wex__native_func_at(const wex__native *n, uintptr_t pc);
/* The site ids recorded for the call that returns to ra (native.h): *count
 * of them, innermost first, or NULL. Reads memory only (a signal handler
 * may call it). */
const uint64_t *wex__native_sites_at(const wex__native *n, uintptr_t ra, uint32_t *count);
/* The entry into defined function di's loop at module offset off (OSR):
 * void (*)(wex__nctx *, uint64_t *frame), or NULL. */
void *wex__native_loop_entry(const wex__native *n, uint32_t di, uint32_t off);
/* How many functions have native code. */
uint32_t wex__native_count(const wex__native *n);

/* The native code as the cache stores it: each object as a 64-bit length
 * and its bytes, padded to 8. *out is wex__malloc'd (NULL, 0: nothing). */
wex_error_t *wex__native_serialize(const wex__native *n, uint8_t **out, size_t *len);
/* Load what wex__native_serialize wrote into m's native record (made if
 * needed). */
wex_error_t *wex__native_attach(wex__module *m, const uint8_t *buf, size_t len);

/* What an engine's settings make of native code (wex-llvmc's options). */
enum {
    WEX__NATIVE_EXPLICIT = 1u, /* explicit bounds checks (--explicit-bounds) */
    WEX__NATIVE_DET = 2u,      /* deterministic (--deterministic) */
    WEX__NATIVE_EPOCH = 4u,    /* epoch checks (--epochs) */
};
static inline unsigned wex__native_mode(const wex_engine_t *e) {
    return (e->config.bounds == WEX_BOUNDS_EXPLICIT ? WEX__NATIVE_EXPLICIT : 0u) |
           (e->config.deterministic ? WEX__NATIVE_DET : 0u) |
           (e->config.epochs ? WEX__NATIVE_EPOCH : 0u);
}

/* The native tier: compile every function of m not yet compiled (in
 * partitions, one wex-llvmc each, on the task manager's workers); bytes
 * are the module's (a module loaded from the cache has none of its own). */
wex_error_t *wex__native_compile(wex__module *m, const uint8_t *bytes, size_t len);
/* Compile the n defined functions in funcs (one wex-llvmc) into *obj;
 * cancel_fd, when readable, stops it (-1: none). */
wex_error_t *wex__native_compile_some(unsigned mode, const uint8_t *bytes, size_t len,
                                      const uint32_t *funcs, uint32_t n, const uint32_t *osr,
                                      uint32_t nosr, int cancel_fd, uint8_t **obj, size_t *objlen);
/* Whether the compiler (wex-llvmc) is there to run. */
bool wex__native_available(void);
/* A compiler process kept for a module's automatic tier (wex-llvmc
 * --serve): made empty, started on the first request, restarted when it
 * has left. Used by one thread at a time; freeing it kills the process. */
typedef struct wex__native_service wex__native_service;
wex__native_service *wex__native_service_new(void);
void wex__native_service_free(wex__native_service *sv);
/* wex__native_compile_some through sv (bytes: the module, given to a
 * process when it starts). */
wex_error_t *wex__native_service_compile(wex__native_service *sv, unsigned mode,
                                         const uint8_t *bytes, size_t len, const uint32_t *funcs,
                                         uint32_t n, const uint32_t *osr, uint32_t nosr,
                                         int cancel_fd, uint8_t **obj, size_t *objlen);
/* What native code depends on besides the module and the engine's other
 * settings: the calling contract, the compiler (its file's identity) and
 * the CPU's features, as text for the engine id. */
void wex__native_key(char *buf, size_t n);

/* Fill the context of inst, whose module has a native record, and point
 * its functions that have native code at it. */
void wex__native_instance_init(wex_instance_t *inst);

/* Run natively compiled f with its arguments in slots; results replace them. */
wex_error_t *wex__native_call(wex_store_t *s, wex_func_t *f, uint64_t *slots);
/* The same through another entry of f's code with the trampoline's
 * signature (a loop entry, with f's frame as slots). */
wex_error_t *wex__native_call_entry(wex_store_t *s, wex_func_t *f, void *entry, uint64_t *slots);

/* The automatic tier (native_tier.c). */
/* The interpreter entered defined function di of inst often enough to ask
 * (its counter ran out): returns the function to run natively instead, or
 * NULL to go on interpreting (its compilation was requested). Cold. */
wex_func_t *wex__tier_entry(wex_instance_t *inst, uint32_t di);
/* The interpreter's LOOP_HEAD of defined function di's loop at module
 * offset off counted down (inst->tier_loop): returns the native entry into
 * that loop (void (*)(wex__nctx *, uint64_t *frame)), or NULL to go on
 * interpreting (an entry was asked for). Cold. */
void *wex__tier_loop(wex_instance_t *inst, uint32_t di, uint32_t off);
/* What defined function di's entry counter (loops: its loop counter)
 * starts at. */
int32_t wex__tier_initial_count(const wex__module *m, uint32_t di, bool loops);
/* An entry into the interpreter begins / ends (for the loop timer). */
void wex__tier_run_begin(wex_instance_t *inst);
void wex__tier_run_end(wex_instance_t *inst);
/* The module (loaded from the cache, whose entry lacks some native code)
 * compiles from these bytes, copied, when its functions get hot. */
void wex__tier_source(wex__module *m, const uint8_t *bytes, size_t len);
/* The module is being freed: stop its background compilation. */
void wex__tier_detach(wex__module *m);

#endif
