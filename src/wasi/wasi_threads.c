/*
 * wasi_threads.c - wasi-threads: `wasi` `thread-spawn` over the engine's
 * task manager (include/wex_task.h). The shared `env` `memory` is built
 * with build_memory; each spawn runs `wasi_thread_start(tid, arg)` through
 * task_wasm, in a new instance of the same module in a store of its own,
 * linked by the same function as the main instance.
 */
#include "wasi_internal.h"
#include "wex_task.h"

#include <stdlib.h>

/* Thread ids are positive i32s below 2^29, as the wasi-threads proposal
 * says (the rest of the value space is reserved). */
#define WEX__WASI_MAX_TID 0x1FFFFFFF

struct wex_wasi_threads {
    wex_engine_t *engine;
    const wex_module_t *module;
    wex_wasi_t *wasi;
    wex_memory_t *memory; /* the shared memory every instance imports */
    pthread_mutex_t lock; /* serialises WASI calls (wasi->lock) */
    wex_wasi_exit_fn_t on_exit;
    void *env;
    uint32_t next_tid; /* atomic */
    unsigned running;  /* atomic */
    bool exiting;      /* atomic: on_exit ran */
};

static bool is_name(const char *s, size_t len, const char *want) {
    return strlen(want) == len && memcmp(s, want, len) == 0;
}

bool wex_wasi_threads_needed(const wex_module_t *module) {
    size_t n = wex_module_import_count(module);
    for (size_t i = 0; i < n; i++) {
        wex_importdesc_t d;
        wex_module_import(module, i, &d);
        if (d.kind == WEX_EXTERN_FUNC && is_name(d.module, d.module_len, "wasi") &&
            is_name(d.name, d.name_len, "thread-spawn"))
            return true;
    }
    return false;
}

/* The end of the program, reported once: the first thread to exit or trap
 * wins, later ones just end. */
static void program_exit(wex_wasi_threads_t *t, int status, const wex_error_t *err) {
    if (__atomic_exchange_n(&t->exiting, true, __ATOMIC_ACQ_REL)) return;
    if (t->on_exit) t->on_exit(t->env, status, err);
}

static void thread_done(void *env, wex_error_t *err, bool cancelled) {
    wex_wasi_threads_t *t = env;
    if (err && !cancelled) {
        if (wex_error_code(err) == WEX_ERR_EXIT)
            program_exit(t, wex_error_exit_status(err), NULL);
        else
            program_exit(t, 1, err);
    }
    wex_error_delete(err);
    __atomic_sub_fetch(&t->running, 1, __ATOMIC_ACQ_REL);
}

static wex_error_t *link_thread(void *env, wex_store_t *store, wex_memory_t *memory,
                                wex_extern_t *imports) {
    (void)memory; /* the same as t->memory: SHARE */
    return wex_wasi_threads_link(env, store, imports);
}

/*
 * thread-spawn(start_arg) -> tid, or a negative value when no thread can be
 * started (the guest's pthread_create then fails with EAGAIN).
 */
static wex_error_t *thread_spawn(void *env, wex_store_t *store, const wex_val_t *args,
                                 wex_val_t *results) {
    wex_wasi_threads_t *t = env;
    uint32_t tid = __atomic_add_fetch(&t->next_tid, 1, __ATOMIC_RELAXED);
    const wex_task_manager_t *tm = wex_engine_task_manager(t->engine);
    if (tid > WEX__WASI_MAX_TID || !tm) {
        results[0] = wex_val_i32(-WEX__E_AGAIN);
        return NULL;
    }
    wex_wasm_task_t task = {
        .module = t->module,
        .func = "wasi_thread_start",
        .args = {wex_val_i32((int32_t)tid), args[0]},
        .nargs = 2,
        .memory = {.kind = WEX_SPAWN_MEMORY_SHARE, .memory = t->memory},
        .link = link_thread,
        .done = thread_done,
        .env = t,
        .epoch_deadline = wex_store_epoch_deadline(store), /* a runaway thread stops too */
    };
    __atomic_add_fetch(&t->running, 1, __ATOMIC_ACQ_REL);
    wex_error_t *err = tm->task_wasm(tm->data, t->engine, &task);
    if (err) {
        __atomic_sub_fetch(&t->running, 1, __ATOMIC_ACQ_REL);
        wex_error_delete(err);
        results[0] = wex_val_i32(-WEX__E_AGAIN);
        return NULL;
    }
    results[0] = wex_val_i32((int32_t)tid);
    return NULL;
}

/* The module's memory import: it must be `env` `memory`, shared. */
static wex_error_t *memory_import(const wex_module_t *m, wex_limits_t *lim) {
    size_t n = wex_module_import_count(m);
    for (size_t i = 0; i < n; i++) {
        wex_importdesc_t d;
        wex_module_import(m, i, &d);
        if (d.kind != WEX_EXTERN_MEMORY) continue;
        if (!is_name(d.module, d.module_len, "env") || !is_name(d.name, d.name_len, "memory") ||
            !d.limits.shared)
            return wex_error_new(WEX_ERR_UNLINKABLE,
                                 "wasi-threads needs the memory imported as a shared `env` "
                                 "`memory`, not `%.*s::%.*s`",
                                 (int)d.module_len, d.module, (int)d.name_len, d.name);
        *lim = d.limits;
        return NULL;
    }
    return wex_error_new(WEX_ERR_UNLINKABLE,
                         "wasi-threads needs an imported shared `env` `memory`");
}

wex_error_t *wex_wasi_threads_new(wex_engine_t *engine, const wex_module_t *module,
                                  wex_wasi_t *wasi, wex_store_t *store, wex_wasi_exit_fn_t on_exit,
                                  void *env, wex_wasi_threads_t **out) {
    *out = NULL;
    wex_limits_t lim;
    wex_error_t *err = memory_import(module, &lim);
    if (err) return err;
    const wex_task_manager_t *tm = wex_engine_task_manager(engine);
    if (!tm) return wex_error_new(WEX_ERR_NOMEM, "no task manager");
    wex_wasi_threads_t *t = calloc(1, sizeof *t);
    if (!t) return wex_error_new(WEX_ERR_NOMEM, "out of memory");
    wex_spawn_memory_t spec = {.kind = WEX_SPAWN_MEMORY_NEW, .type = lim};
    if ((err = tm->build_memory(tm->data, store, &spec, &t->memory))) {
        free(t);
        return err;
    }
    t->engine = engine;
    t->module = module;
    t->wasi = wasi;
    t->on_exit = on_exit;
    t->env = env;
    pthread_mutex_init(&t->lock, NULL);
    wex_wasi_set_memory(wasi, t->memory);
    wasi->lock = &t->lock;
    *out = t;
    return NULL;
}

wex_error_t *wex_wasi_threads_link(wex_wasi_threads_t *t, wex_store_t *store,
                                   wex_extern_t *imports) {
    wex_error_t *err = wex_wasi_link(t->wasi, store, t->module, imports);
    if (err) return err;
    size_t n = wex_module_import_count(t->module);
    for (size_t i = 0; i < n; i++) {
        wex_importdesc_t d;
        wex_module_import(t->module, i, &d);
        if (is_name(d.module, d.module_len, "wasi_snapshot_preview1")) continue;
        if (d.kind == WEX_EXTERN_MEMORY) {
            imports[i].kind = WEX_EXTERN_MEMORY;
            imports[i].of.memory = t->memory;
            continue;
        }
        if (d.kind == WEX_EXTERN_FUNC && is_name(d.module, d.module_len, "wasi") &&
            is_name(d.name, d.name_len, "thread-spawn")) {
            static const wex_valkind_t i32[1] = {WEX_I32};
            wex_functype_t want = {1, 1, i32, i32};
            if (d.functype.nparams != 1 || d.functype.nresults != 1 ||
                d.functype.params[0] != WEX_I32 || d.functype.results[0] != WEX_I32)
                return wex_error_new(WEX_ERR_UNLINKABLE,
                                     "`wasi::thread-spawn` must have type (i32) -> i32");
            wex_func_t *f = wex_func_new(store, &want, thread_spawn, t, NULL);
            if (!f) return wex_error_new(WEX_ERR_NOMEM, "out of memory");
            imports[i].kind = WEX_EXTERN_FUNC;
            imports[i].of.func = f;
            continue;
        }
        return wex_error_new(WEX_ERR_UNLINKABLE,
                             "unknown import: `%.*s::%.*s` has not been defined (a wasi-threads "
                             "program may import wasi_snapshot_preview1, `wasi::thread-spawn` "
                             "and `env::memory`)",
                             (int)d.module_len, d.module, (int)d.name_len, d.name);
    }
    return NULL;
}

unsigned wex_wasi_threads_running(const wex_wasi_threads_t *t) {
    return __atomic_load_n(&t->running, __ATOMIC_ACQUIRE);
}

void wex_wasi_threads_delete(wex_wasi_threads_t *t) {
    if (!t) return;
    if (t->wasi && t->wasi->lock == &t->lock) t->wasi->lock = NULL;
    pthread_mutex_destroy(&t->lock);
    free(t);
}
