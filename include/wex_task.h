/*
 * wex_task.h - the task manager: where wex runs asynchronous, blocking and
 * WebAssembly work (wasi-threads' threads, timers, blocking host calls).
 *
 * A task manager is a table of functions and the user data they get. Every
 * engine has one: the default implementation below, owned by the engine and
 * started lazily (an engine that never runs a task starts no thread), or an
 * embedder's own, set with wex_config_set_task_manager(), for example to run
 * tasks on the embedder's event loop.
 *
 * Callbacks
 *   Every callback handed to the manager is called exactly once: with
 *   cancelled == false when it runs, or with cancelled == true when the
 *   manager shuts down before running it (so that it can free its argument).
 *
 * The default implementation
 *   - shared workers, as many as thread_parallelism(), for task_shared() and
 *     timer callbacks: short, non-blocking work;
 *   - an elastic set of threads for task_dedicated(), task_wasm() and
 *     spawn_with_module(): it grows when every thread is busy, up to
 *     WEX_TASK_MAX_THREADS, and idle threads leave after a while. Blocking
 *     work therefore never occupies a shared worker, and more WebAssembly
 *     threads than CPUs still all run (the OS schedules them);
 *   - a timer thread for sleep_async();
 *   - shutdown (wex_engine_delete): queued shared tasks are finished; timers
 *     not yet due and dedicated tasks waiting for a thread are cancelled;
 *     running work is waited for. Do not delete the engine from a task, nor
 *     while WebAssembly threads that never end are running.
 *
 * Threads
 *   Every function of the table may be called from any thread.
 */
#ifndef WEX_TASK_H
#define WEX_TASK_H

#include "wex.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Threads of the default manager's elastic set, at most: a bound on what a
 * runaway guest can make the host create. Beyond it task_dedicated() queues
 * and task_wasm() fails (a guest's thread-spawn then reports an error). */
#define WEX_TASK_MAX_THREADS 512

/* A unit of work. See "Callbacks" above. */
typedef void (*wex_task_fn_t)(void *arg, bool cancelled);

/* How the memory of a thread about to start is made (build_memory). */
typedef enum {
    WEX_SPAWN_MEMORY_NONE = 0,  /* the module needs no memory */
    WEX_SPAWN_MEMORY_NEW = 1,   /* a new memory of type `type` (shared if type.shared) */
    WEX_SPAWN_MEMORY_SHARE = 2, /* `memory` itself, which must be shared */
    WEX_SPAWN_MEMORY_COPY = 3,  /* a new memory holding a copy of `memory`'s bytes */
} wex_spawn_memory_kind_t;

typedef struct wex_spawn_memory {
    wex_spawn_memory_kind_t kind;
    wex_limits_t type;    /* NEW */
    wex_memory_t *memory; /* SHARE, COPY */
} wex_spawn_memory_t;

/*
 * A WebAssembly task: on a thread of its own, make a store, build the
 * memory (build_memory), let `link` fill the imports, instantiate `module`,
 * call its export `func` with `args`, delete the store, then call `done`.
 */
typedef struct wex_wasm_task {
    const wex_module_t *module; /* must outlive the task */
    const char *func;
    wex_val_t args[4];
    size_t nargs;
    wex_spawn_memory_t memory;
    /* Fill imports[0 .. import count) for the new store; `memory` is the
     * memory built for this thread (or NULL). Return NULL or an error. */
    wex_error_t *(*link)(void *env, wex_store_t *store, wex_memory_t *memory,
                         wex_extern_t *imports);
    /* Called once: err is NULL when the call returned, else its error (a
     * trap, WEX_ERR_EXIT for proc_exit...), owned by `done`; cancelled when
     * the manager shut down before the task started. */
    void (*done)(void *env, wex_error_t *err, bool cancelled);
    void *env;
    /* Epoch interruption: the engine epoch at which the task's store stops
     * (wex_store_epoch_deadline of the spawning store, say); 0: none. */
    uint64_t epoch_deadline;
} wex_wasm_task_t;

/* The table. `data` is passed to every function. */
typedef struct wex_task_manager {
    void *data;
    /* Call fn(arg, false) on a shared worker once ns nanoseconds passed. */
    wex_error_t *(*sleep_async)(void *data, uint64_t ns, wex_task_fn_t fn, void *arg);
    /* Block the calling thread for ns nanoseconds (for code that already
     * runs on a thread of its own: dedicated or WebAssembly work). */
    void (*sleep)(void *data, uint64_t ns);
    /* Run fn soon on a shared worker. fn must not block. */
    wex_error_t *(*task_shared)(void *data, wex_task_fn_t fn, void *arg);
    /* Run fn, which may block, on a thread of the elastic set. */
    wex_error_t *(*task_dedicated)(void *data, wex_task_fn_t fn, void *arg);
    /* Run a WebAssembly task (see wex_wasm_task_t; the table is copied). */
    wex_error_t *(*task_wasm)(void *data, wex_engine_t *engine, const wex_wasm_task_t *task);
    /* Hand a compiled module to fn(arg, module, cancelled) on a thread of
     * its own. The module must outlive the call. */
    wex_error_t *(*spawn_with_module)(void *data, const wex_module_t *module,
                                      void (*fn)(void *arg, const wex_module_t *module,
                                                 bool cancelled),
                                      void *arg);
    /* How many threads can really run at once (CPU affinity, cgroup quota). */
    unsigned (*thread_parallelism)(void *data);
    /* Make the memory of a thread about to start, in its store. *out is NULL
     * for WEX_SPAWN_MEMORY_NONE. */
    wex_error_t *(*build_memory)(void *data, wex_store_t *store, const wex_spawn_memory_t *spec,
                                 wex_memory_t **out);
    /* The engine is being deleted: stop, as described above. */
    void (*destroy)(void *data);
} wex_task_manager_t;

/* Use the embedder's task manager (copied; its destroy runs at engine
 * deletion) instead of the default one. */
void wex_config_set_task_manager(wex_config_t *config, const wex_task_manager_t *manager);

/* The engine's task manager; the default one is made on first use. NULL
 * only when it cannot be made (out of memory). */
const wex_task_manager_t *wex_engine_task_manager(wex_engine_t *engine);

/*
 * The work of a WebAssembly task, done on the calling thread: what the
 * default task_wasm runs on its thread, for embedders' managers to run on
 * theirs. Calls task->done (and returns nothing).
 */
void wex_task_run_wasm(wex_engine_t *engine, const wex_wasm_task_t *task);

/* build_memory as the default manager does it, for embedders' managers. */
wex_error_t *wex_task_build_memory(wex_store_t *store, const wex_spawn_memory_t *spec,
                                   wex_memory_t **out);

#ifdef __cplusplus
}
#endif
#endif /* WEX_TASK_H */
