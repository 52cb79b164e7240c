/*
 * task.c - the default task manager (see include/wex_task.h for what it
 * promises): shared workers for short tasks, an elastic set of threads for
 * blocking and WebAssembly work, a timer thread, and a shutdown that
 * finishes or cancels everything it was given.
 *
 * One mutex guards the whole pool: the work behind every task (a WebAssembly
 * thread, a blocking call) dwarfs the cost of taking it, and one lock keeps
 * the shutdown reasoning simple. Threads are detached and counted (`live`);
 * destroy waits for the count to reach zero, and a thread touches the pool
 * for the last time under the lock, as it signals that count.
 */
#include "task/task.h"
#include "os/os.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Limits and knobs, with their reasons. */
enum {
    /* An idle elastic thread waits this long for more work before it ends:
     * long enough that a burst of spawns reuses threads, short enough that
     * a finished burst gives its threads back. */
    WEX__TASK_IDLE_MS = 1000,
};

/* One queued unit of work; timers also carry their due time. */
typedef struct job {
    struct job *next;
    wex_task_fn_t fn;
    void *arg;
    uint64_t due;
} job;

typedef struct {
    job *head, *tail;
    unsigned len;
} queue;

typedef struct {
    wex_engine_t *engine;
    pthread_mutex_t lock;
    bool stopping;
    unsigned live;       /* threads started and not yet gone */
    pthread_cond_t gone; /* signalled when live drops */
    unsigned parallelism;
    /* shared workers: at most `parallelism`, started as work arrives */
    queue sq;
    unsigned nshared, shared_idle;
    pthread_cond_t shared_cv;
    /* the elastic set */
    queue eq;
    unsigned nelastic, elastic_idle;
    pthread_cond_t elastic_cv;
    /* timers, sorted by due time (earliest first) */
    job *timers;
    bool timer_thread;
    pthread_cond_t timer_cv;
} pool;

static void q_push(queue *q, job *j) {
    j->next = NULL;
    if (q->tail)
        q->tail->next = j;
    else
        q->head = j;
    q->tail = j;
    q->len++;
}

static job *q_pop(queue *q) {
    job *j = q->head;
    if (!j) return NULL;
    q->head = j->next;
    if (!q->head) q->tail = NULL;
    q->len--;
    return j;
}

/* A thread of the pool has ended its work: the last touch of the pool. */
static void *thread_gone(pool *p) {
    p->live--;
    pthread_cond_broadcast(&p->gone);
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

/* ---------------------------------------------------------------- shared workers */

/* Run shared tasks until shutdown; at shutdown, the queue is drained first
 * (queued shared work is finished, not dropped). */
static void *shared_worker(void *arg) {
    pool *p = arg;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->sq.head && !p->stopping) {
            p->shared_idle++;
            pthread_cond_wait(&p->shared_cv, &p->lock);
            p->shared_idle--;
        }
        job *j = q_pop(&p->sq);
        if (!j) break; /* stopping, nothing left */
        pthread_mutex_unlock(&p->lock);
        j->fn(j->arg, false);
        wex__free(j);
        pthread_mutex_lock(&p->lock);
    }
    p->nshared--;
    return thread_gone(p);
}

/* Queue a shared job (lock held): wake an idle worker, or start one more
 * while there are fewer than the parallelism. If no thread can be started
 * and none exists, the job still waits for the next one. */
static void push_shared(pool *p, job *j) {
    q_push(&p->sq, j);
    if (p->shared_idle >= p->sq.len) {
        pthread_cond_signal(&p->shared_cv);
        return;
    }
    if (p->nshared < p->parallelism) {
        p->nshared++;
        p->live++;
        if (!wex__os_thread_start(shared_worker, p)) {
            p->nshared--;
            p->live--;
        }
    }
    if (p->shared_idle) pthread_cond_signal(&p->shared_cv);
}

static wex_error_t *stopped(void) {
    return wex_error_new(WEX_ERR_ARGUMENT, "the task manager is shutting down");
}

static wex_error_t *task_shared(void *data, wex_task_fn_t fn, void *arg) {
    pool *p = data;
    job *j = wex__calloc(1, sizeof *j);
    if (!j) return wex__error_nomem();
    j->fn = fn;
    j->arg = arg;
    pthread_mutex_lock(&p->lock);
    if (p->stopping) {
        pthread_mutex_unlock(&p->lock);
        wex__free(j);
        return stopped();
    }
    push_shared(p, j);
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

/* ---------------------------------------------------------------- the elastic set */

/* Run blocking jobs; leave after WEX__TASK_IDLE_MS without work, or at
 * shutdown (jobs still queued then are cancelled by destroy). */
static void *elastic_worker(void *arg) {
    pool *p = arg;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        if (!p->eq.head && !p->stopping) {
            uint64_t deadline = wex__os_now_ns() + (uint64_t)WEX__TASK_IDLE_MS * 1000000u;
            p->elastic_idle++;
            while (!p->eq.head && !p->stopping)
                if (!wex__os_cond_wait_until(&p->elastic_cv, &p->lock, deadline)) break;
            p->elastic_idle--;
        }
        if (p->stopping || !p->eq.head) break;
        job *j = q_pop(&p->eq);
        pthread_mutex_unlock(&p->lock);
        j->fn(j->arg, false);
        wex__free(j);
        pthread_mutex_lock(&p->lock);
    }
    p->nelastic--;
    return thread_gone(p);
}

/*
 * Queue a blocking job: every queued job needs a thread of its own (it may
 * block for ever), so when the idle threads are fewer than the queued jobs
 * one more thread starts, up to WEX_TASK_MAX_THREADS. At the cap, a job that
 * must not wait (`must_start`: a WebAssembly thread, which other threads may
 * be waiting for) is refused; others queue.
 */
static wex_error_t *push_elastic(pool *p, job *j, bool must_start) {
    pthread_mutex_lock(&p->lock);
    if (p->stopping) {
        pthread_mutex_unlock(&p->lock);
        return stopped();
    }
    bool need = p->eq.len + 1 > p->elastic_idle;
    if (need) {
        bool started = false;
        if (p->nelastic < WEX_TASK_MAX_THREADS) {
            p->nelastic++;
            p->live++;
            started = wex__os_thread_start(elastic_worker, p);
            if (!started) {
                p->nelastic--;
                p->live--;
            }
        }
        if (!started && (must_start || p->nelastic == 0)) {
            pthread_mutex_unlock(&p->lock);
            return wex_error_new(WEX_ERR_NOMEM, "cannot start a thread (%u running, at most %u)",
                                 p->nelastic, (unsigned)WEX_TASK_MAX_THREADS);
        }
    }
    q_push(&p->eq, j);
    if (p->elastic_idle) pthread_cond_signal(&p->elastic_cv);
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

static wex_error_t *task_dedicated(void *data, wex_task_fn_t fn, void *arg) {
    job *j = wex__calloc(1, sizeof *j);
    if (!j) return wex__error_nomem();
    j->fn = fn;
    j->arg = arg;
    wex_error_t *err = push_elastic(data, j, false);
    if (err) wex__free(j);
    return err;
}

/* ---------------------------------------------------------------- timers */

/* Move due timers to the shared workers; sleep until the next one. */
static void *timer_thread(void *arg) {
    pool *p = arg;
    pthread_mutex_lock(&p->lock);
    while (!p->stopping) {
        if (!p->timers) {
            pthread_cond_wait(&p->timer_cv, &p->lock);
            continue;
        }
        if (p->timers->due <= wex__os_now_ns()) {
            job *j = p->timers;
            p->timers = j->next;
            push_shared(p, j);
            continue;
        }
        wex__os_cond_wait_until(&p->timer_cv, &p->lock, p->timers->due);
    }
    p->timer_thread = false;
    return thread_gone(p);
}

static wex_error_t *sleep_async(void *data, uint64_t ns, wex_task_fn_t fn, void *arg) {
    pool *p = data;
    job *j = wex__calloc(1, sizeof *j);
    if (!j) return wex__error_nomem();
    j->fn = fn;
    j->arg = arg;
    uint64_t now = wex__os_now_ns();
    j->due = ns > UINT64_MAX - 1 - now ? UINT64_MAX - 1 : now + ns;
    pthread_mutex_lock(&p->lock);
    if (p->stopping) {
        pthread_mutex_unlock(&p->lock);
        wex__free(j);
        return stopped();
    }
    if (!p->timer_thread) {
        p->live++;
        if (!wex__os_thread_start(timer_thread, p)) {
            p->live--;
            pthread_mutex_unlock(&p->lock);
            wex__free(j);
            return wex_error_new(WEX_ERR_NOMEM, "cannot start the timer thread");
        }
        p->timer_thread = true;
    }
    /* Sorted insert; equal due times keep their order. */
    job **pp = &p->timers;
    while (*pp && (*pp)->due <= j->due)
        pp = &(*pp)->next;
    j->next = *pp;
    *pp = j;
    if (p->timers == j) pthread_cond_signal(&p->timer_cv);
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

static void sleep_blocking(void *data, uint64_t ns) {
    (void)data;
    wex__os_sleep_ns(ns);
}

/* ---------------------------------------------------------------- WebAssembly work */

typedef struct {
    wex_engine_t *engine;
    wex_wasm_task_t task;
    char *func; /* the task's own copy */
} wasm_job;

static void run_wasm_job(void *arg, bool cancelled) {
    wasm_job *w = arg;
    if (cancelled)
        w->task.done(w->task.env, NULL, true);
    else
        wex_task_run_wasm(w->engine, &w->task);
    free(w->func);
    wex__free(w);
}

static wex_error_t *task_wasm(void *data, wex_engine_t *engine, const wex_wasm_task_t *task) {
    wasm_job *w = wex__calloc(1, sizeof *w);
    job *j = wex__calloc(1, sizeof *j);
    char *func = task->func ? strdup(task->func) : NULL;
    if (!w || !j || !func) {
        wex__free(w);
        wex__free(j);
        free(func);
        return wex__error_nomem();
    }
    w->engine = engine;
    w->task = *task;
    w->func = func;
    w->task.func = func;
    j->fn = run_wasm_job;
    j->arg = w;
    wex_error_t *err = push_elastic(data, j, true);
    if (err) {
        free(func);
        wex__free(w);
        wex__free(j);
    }
    return err;
}

typedef struct {
    const wex_module_t *module;
    void (*fn)(void *arg, const wex_module_t *module, bool cancelled);
    void *arg;
} module_job;

static void run_module_job(void *arg, bool cancelled) {
    module_job *m = arg;
    m->fn(m->arg, m->module, cancelled);
    wex__free(m);
}

static wex_error_t *
spawn_with_module(void *data, const wex_module_t *module,
                  void (*fn)(void *arg, const wex_module_t *module, bool cancelled), void *arg) {
    module_job *m = wex__calloc(1, sizeof *m);
    job *j = wex__calloc(1, sizeof *j);
    if (!m || !j) {
        wex__free(m);
        wex__free(j);
        return wex__error_nomem();
    }
    *m = (module_job){module, fn, arg};
    j->fn = run_module_job;
    j->arg = m;
    wex_error_t *err = push_elastic(data, j, false);
    if (err) {
        wex__free(m);
        wex__free(j);
    }
    return err;
}

static unsigned thread_parallelism(void *data) {
    return ((pool *)data)->parallelism;
}

static wex_error_t *build_memory(void *data, wex_store_t *store, const wex_spawn_memory_t *spec,
                                 wex_memory_t **out) {
    (void)data;
    return wex_task_build_memory(store, spec, out);
}

/* ---------------------------------------------------------------- shutdown */

static void destroy(void *data) {
    pool *p = data;
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    pthread_cond_broadcast(&p->shared_cv);
    pthread_cond_broadcast(&p->elastic_cv);
    pthread_cond_broadcast(&p->timer_cv);
    /* Timers not yet due and blocking jobs still waiting for a thread are
     * cancelled; the shared queue is left to the workers to finish. */
    job *cancel = p->timers;
    p->timers = NULL;
    job *j;
    while ((j = q_pop(&p->eq))) {
        j->next = cancel;
        cancel = j;
    }
    /* Shared jobs with no worker left to run them (none could be started)
     * run here. */
    job *orphans = NULL;
    if (p->nshared == 0) {
        while ((j = q_pop(&p->sq))) {
            j->next = orphans;
            orphans = j;
        }
    }
    pthread_mutex_unlock(&p->lock);
    for (job *n; cancel; cancel = n) {
        n = cancel->next;
        cancel->fn(cancel->arg, true);
        wex__free(cancel);
    }
    for (job *n; orphans; orphans = n) {
        n = orphans->next;
        orphans->fn(orphans->arg, false);
        wex__free(orphans);
    }
    pthread_mutex_lock(&p->lock);
    while (p->live)
        pthread_cond_wait(&p->gone, &p->lock);
    pthread_mutex_unlock(&p->lock);
    pthread_cond_destroy(&p->gone);
    pthread_cond_destroy(&p->shared_cv);
    pthread_cond_destroy(&p->elastic_cv);
    pthread_cond_destroy(&p->timer_cv);
    pthread_mutex_destroy(&p->lock);
    wex__free(p);
}

wex_error_t *wex__task_default_new(wex_engine_t *engine, wex_task_manager_t *out) {
    pool *p = wex__calloc(1, sizeof *p);
    if (!p) return wex__error_nomem();
    p->engine = engine;
    p->parallelism = wex__os_parallelism();
    pthread_mutex_init(&p->lock, NULL);
    if (!wex__os_cond_init(&p->gone) || !wex__os_cond_init(&p->shared_cv) ||
        !wex__os_cond_init(&p->elastic_cv) || !wex__os_cond_init(&p->timer_cv)) {
        pthread_mutex_destroy(&p->lock);
        wex__free(p);
        return wex__error_nomem();
    }
    *out = (wex_task_manager_t){
        .data = p,
        .sleep_async = sleep_async,
        .sleep = sleep_blocking,
        .task_shared = task_shared,
        .task_dedicated = task_dedicated,
        .task_wasm = task_wasm,
        .spawn_with_module = spawn_with_module,
        .thread_parallelism = thread_parallelism,
        .build_memory = build_memory,
        .destroy = destroy,
    };
    return NULL;
}

/* ---------------------------------------------------------------- helpers for every manager */

wex_error_t *wex_task_build_memory(wex_store_t *store, const wex_spawn_memory_t *spec,
                                   wex_memory_t **out) {
    *out = NULL;
    switch (spec->kind) {
    case WEX_SPAWN_MEMORY_NONE: return NULL;
    case WEX_SPAWN_MEMORY_NEW: return wex_memory_new(store, spec->type, out);
    case WEX_SPAWN_MEMORY_SHARE: {
        if (!spec->memory || !wex_memory_limits(spec->memory).shared)
            return wex_error_new(WEX_ERR_ARGUMENT, "only a shared memory can be shared");
        wex_error_t *err = wex_memory_share(store, spec->memory);
        if (!err) *out = spec->memory;
        return err;
    }
    case WEX_SPAWN_MEMORY_COPY: {
        if (!spec->memory) return wex_error_new(WEX_ERR_ARGUMENT, "no memory to copy");
        wex_limits_t l = wex_memory_limits(spec->memory);
        wex_memory_t *m;
        wex_error_t *err = wex_memory_new(store, l, &m);
        if (err) return err;
        /* A snapshot: with other threads writing, each byte is either value. */
        size_t n = wex_memory_size(m) < wex_memory_size(spec->memory)
                       ? wex_memory_size(m)
                       : wex_memory_size(spec->memory);
        memcpy(wex_memory_data(m), wex_memory_data(spec->memory), n);
        *out = m;
        return NULL;
    }
    }
    return wex_error_new(WEX_ERR_ARGUMENT, "unknown memory kind %d", (int)spec->kind);
}

/* Find export `name` of inst as a function. */
static wex_func_t *export_func(wex_instance_t *inst, const char *name) {
    wex_extern_t ext;
    if (!wex_instance_export(inst, name, strlen(name), &ext) || ext.kind != WEX_EXTERN_FUNC)
        return NULL;
    return ext.of.func;
}

void wex_task_run_wasm(wex_engine_t *engine, const wex_wasm_task_t *t) {
    wex_error_t *err = NULL;
    wex_extern_t *imports = NULL;
    wex_memory_t *mem = NULL;
    wex_store_t *store = wex_store_new(engine);
    const wex_task_manager_t *tm = wex_engine_task_manager(engine);
    size_t nimports = wex_module_import_count(t->module);
    if (!store || !tm || !(imports = calloc(nimports + 1, sizeof *imports))) {
        err = wex__error_nomem();
        goto out;
    }
    if (t->epoch_deadline && t->epoch_deadline != UINT64_MAX) {
        uint64_t now = wex_engine_epoch(engine);
        wex_store_set_epoch_deadline(store, t->epoch_deadline > now ? t->epoch_deadline - now : 0);
    }
    if ((err = tm->build_memory(tm->data, store, &t->memory, &mem))) goto out;
    if (t->link && (err = t->link(t->env, store, mem, imports))) goto out;
    wex_instance_t *inst;
    if ((err = wex_instance_new(store, t->module, imports, nimports, &inst))) goto out;
    wex_func_t *f = export_func(inst, t->func);
    if (!f) {
        err = wex_error_new(WEX_ERR_NOT_FOUND, "no exported function `%s`", t->func);
        goto out;
    }
    wex_functype_t ft = wex_func_type(f);
    wex_val_t results[4];
    if (ft.nresults > 4) {
        err = wex_error_new(WEX_ERR_ARGUMENT, "`%s` has more than 4 results", t->func);
        goto out;
    }
    err = wex_func_call(store, f, t->args, t->nargs, results, ft.nresults);
out:
    free(imports);
    wex_store_delete(store);
    t->done(t->env, err, false);
}
