/*
 * test_threads.c - WebAssembly threads end to end: instances of
 * tests/wat/threads_sum.wat, one per thread and each in its own store, share
 * one memory; workers started with the task manager's task_wasm add numbers
 * with atomics and the main thread joins them with memory.atomic.wait32.
 * Both bounds-check policies; many more threads than CPUs; wait/notify
 * results; atomics on an unshared memory.
 */
#include "harness.h"
#include "wex.h"
#include "wex_task.h"

#include <pthread.h>
#include <stdint.h>

typedef struct {
    wex_engine_t *engine;
    wex_module_t *module;
    wex_store_t *store;
    wex_memory_t *memory;
    wex_instance_t *inst;
} env_t;

/* Every store gets the same shared memory: the task's link callback puts
 * the memory the manager built (shared with the main store's) in the only
 * import. */
static wex_error_t *link_memory(void *env, wex_store_t *store, wex_memory_t *memory,
                                wex_extern_t *imports) {
    (void)env;
    (void)store;
    imports[0].kind = WEX_EXTERN_MEMORY;
    imports[0].of.memory = memory;
    return NULL;
}

/* Failures of workers, counted (the main thread checks it). */
typedef struct {
    pthread_mutex_t mu;
    int errors, cancelled, finished;
} results_t;

static void task_done(void *env, wex_error_t *err, bool cancelled) {
    results_t *r = env;
    pthread_mutex_lock(&r->mu);
    if (err) {
        fprintf(stderr, "worker: %s\n", wex_error_message(err));
        r->errors++;
    }
    if (cancelled) r->cancelled++;
    r->finished++;
    pthread_mutex_unlock(&r->mu);
    wex_error_delete(err);
}

static env_t setup(wex_bounds_t bounds) {
    env_t e;
    wex_config_t *cfg = wex_config_new();
    wex_config_set_bounds_checks(cfg, bounds);
    e.engine = wex_engine_new(cfg);
    size_t len;
    uint8_t *bytes = wex_test_read_wasm("threads_sum.wasm", &len);
    wex_error_t *err = wex_module_new(e.engine, bytes, len, &e.module);
    free(bytes);
    if (err) wex_test_fail(__FILE__, __LINE__, "module: %s", wex_error_message(err));
    e.store = wex_store_new(e.engine);
    wex_limits_t l = {.min = 1, .max = 1, .has_max = true, .shared = true};
    CHECK(wex_memory_new(e.store, l, &e.memory) == NULL);
    wex_extern_t imp = {.kind = WEX_EXTERN_MEMORY, .of.memory = e.memory};
    err = wex_instance_new(e.store, e.module, &imp, 1, &e.inst);
    if (err) wex_test_fail(__FILE__, __LINE__, "instance: %s", wex_error_message(err));
    return e;
}

static void teardown(env_t *e) {
    wex_store_delete(e->store);
    wex_engine_delete(e->engine); /* waits for the task threads to leave */
    wex_module_delete(e->module);
}

static wex_val_t call1(env_t *e, const char *name, const wex_val_t *args, size_t nargs,
                       size_t nres) {
    wex_extern_t ext;
    CHECK(wex_instance_export(e->inst, name, strlen(name), &ext));
    wex_val_t r[1] = {wex_val_i32(0)};
    wex_error_t *err = wex_func_call(e->store, ext.of.func, args, nargs, r, nres);
    if (err) wex_test_fail(__FILE__, __LINE__, "%s: %s", name, wex_error_message(err));
    return r[0];
}

/* Start `nthreads` tasks running export `func` with args (tid, a1, a2). */
static void spawn(env_t *e, results_t *res, const char *func, int nthreads, int32_t a1, int32_t a2,
                  size_t nargs) {
    const wex_task_manager_t *tm = wex_engine_task_manager(e->engine);
    CHECK(tm != NULL);
    for (int t = 0; t < nthreads; t++) {
        wex_wasm_task_t task = {
            .module = e->module,
            .func = func,
            .args = {wex_val_i32(t), wex_val_i32(a1), wex_val_i32(a2)},
            .nargs = nargs,
            .memory = {.kind = WEX_SPAWN_MEMORY_SHARE, .memory = e->memory},
            .link = link_memory,
            .done = task_done,
            .env = res,
        };
        if (nargs == 1) task.args[0] = wex_val_i32(a1);
        wex_error_t *err = tm->task_wasm(tm->data, e->engine, &task);
        if (err) wex_test_fail(__FILE__, __LINE__, "task_wasm: %s", wex_error_message(err));
    }
}

/* Sum 0..n-1 with 1 to 16 threads, several rounds each. */
static void sum_rounds(wex_bounds_t bounds) {
    env_t e = setup(bounds);
    results_t res = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0};
    const int32_t n = 20000;
    for (int threads = 1; threads <= 16; threads++) {
        for (int round = 0; round < 3; round++) {
            call1(&e, "reset", NULL, 0, 0);
            spawn(&e, &res, "work", threads, threads, n, 3);
            wex_val_t a = wex_val_i32(threads);
            wex_val_t total = call1(&e, "join", &a, 1, 1);
            CHECK_EQ_INT(total.of.i64, (int64_t)n * (n - 1) / 2);
        }
    }
    teardown(&e);
    CHECK_EQ_INT(res.errors, 0);
    CHECK_EQ_INT(res.cancelled, 0);
    CHECK_EQ_INT(res.finished, 16 * 17 / 2 * 3);
}

TEST(parallel_sum_1_to_16_threads_guard_pages) {
    sum_rounds(WEX_BOUNDS_GUARD_PAGES);
}

TEST(parallel_sum_1_to_16_threads_explicit_checks) {
    sum_rounds(WEX_BOUNDS_EXPLICIT);
}

/* A barrier that needs every thread running at the same time: 64 blocked
 * WebAssembly threads, far more than the shared workers, and the shared
 * workers still run a task meanwhile. */
static void shared_flag(void *arg, bool cancelled) {
    (void)cancelled;
    __atomic_store_n((int *)arg, 1, __ATOMIC_SEQ_CST);
}

TEST(saturated_pool_still_makes_progress) {
    env_t e = setup(WEX_BOUNDS_EXPLICIT);
    results_t res = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0};
    const wex_task_manager_t *tm = wex_engine_task_manager(e.engine);
    int nthreads = 64;
    CHECK((unsigned)nthreads > tm->thread_parallelism(tm->data));
    call1(&e, "reset", NULL, 0, 0);
    spawn(&e, &res, "barrier", nthreads - 1, nthreads, 0, 1);
    /* 63 threads now block in memory.atomic.wait; a shared task still runs. */
    int flag = 0;
    CHECK(tm->task_shared(tm->data, shared_flag, &flag) == NULL);
    for (int i = 0; i < 5000 && !__atomic_load_n(&flag, __ATOMIC_SEQ_CST); i++) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    CHECK(__atomic_load_n(&flag, __ATOMIC_SEQ_CST));
    /* The last one arrives: everyone passes. */
    spawn(&e, &res, "barrier", 1, nthreads, 0, 1);
    wex_val_t a = wex_val_i32(nthreads);
    call1(&e, "join", &a, 1, 1);
    teardown(&e);
    CHECK_EQ_INT(res.errors, 0);
    CHECK_EQ_INT(res.finished, nthreads);
}

TEST(wait_results_and_timeouts) {
    env_t e = setup(WEX_BOUNDS_GUARD_PAGES);
    call1(&e, "reset", NULL, 0, 0);
    /* Not equal: 1 at once. */
    wex_val_t w[3] = {wex_val_i32(0), wex_val_i32(5), wex_val_i64(-1)};
    CHECK_EQ_INT(call1(&e, "wait32", w, 3, 1).of.i32, 1);
    /* Equal, 20 ms timeout: 2. */
    w[1] = wex_val_i32(0);
    w[2] = wex_val_i64(20000000);
    CHECK_EQ_INT(call1(&e, "wait32", w, 3, 1).of.i32, 2);
    /* No waiters: notify wakes 0. */
    wex_val_t nt[2] = {wex_val_i32(0), wex_val_i32(10)};
    CHECK_EQ_INT(call1(&e, "notify", nt, 2, 1).of.i32, 0);
    /* Unaligned: trap. */
    wex_extern_t ext;
    CHECK(wex_instance_export(e.inst, "notify", 6, &ext));
    wex_val_t r;
    nt[0] = wex_val_i32(2);
    wex_error_t *err = wex_func_call(e.store, ext.of.func, nt, 2, &r, 1);
    CHECK(err != NULL);
    CHECK_EQ_INT(wex_error_trap_code(err), WEX_TRAP_UNALIGNED_ATOMIC);
    wex_error_delete(err);
    /* Out of bounds: trap. */
    nt[0] = wex_val_i32(65536);
    err = wex_func_call(e.store, ext.of.func, nt, 2, &r, 1);
    CHECK(err != NULL);
    CHECK_EQ_INT(wex_error_trap_code(err), WEX_TRAP_MEMORY_OOB);
    wex_error_delete(err);
    teardown(&e);
}

/* One thread waits, another notifies it: woken (0), and notify counts 1. */
typedef struct {
    env_t *e;
    wex_store_t *store;
    wex_instance_t *inst;
    int32_t result;
} waiter_t;

static void *waiter_thread(void *arg) {
    waiter_t *w = arg;
    wex_extern_t ext;
    wex_instance_export(w->inst, "wait32", 6, &ext);
    wex_val_t a[3] = {wex_val_i32(16), wex_val_i32(0), wex_val_i64(-1)};
    wex_val_t r;
    wex_error_t *err = wex_func_call(w->store, ext.of.func, a, 3, &r, 1);
    w->result = err ? -1 : r.of.i32;
    wex_error_delete(err);
    return NULL;
}

TEST(notify_wakes_a_waiter_in_another_store) {
    env_t e = setup(WEX_BOUNDS_EXPLICIT);
    call1(&e, "reset", NULL, 0, 0);
    waiter_t w = {&e, wex_store_new(e.engine), NULL, 99};
    wex_extern_t imp = {.kind = WEX_EXTERN_MEMORY, .of.memory = e.memory};
    CHECK(wex_instance_new(w.store, e.module, &imp, 1, &w.inst) == NULL);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, waiter_thread, &w) == 0);
    int woke = 0;
    for (int i = 0; i < 5000 && !woke; i++) {
        wex_val_t nt[2] = {wex_val_i32(16), wex_val_i32(1)};
        woke = call1(&e, "notify", nt, 2, 1).of.i32;
        if (!woke) {
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
        }
    }
    pthread_join(t, NULL);
    CHECK_EQ_INT(woke, 1);
    CHECK_EQ_INT(w.result, 0);
    wex_store_delete(w.store);
    teardown(&e);
}

/* A thread runs a loop in one call while another grows the shared memory:
 * its next access past the old size must see the new page, not trap (the
 * explicit-checks loop caches the size). */
typedef struct {
    wex_store_t *store;
    wex_instance_t *inst;
    int32_t result;
    bool trapped;
} loader_t;

static void *loader_thread(void *arg) {
    loader_t *l = arg;
    wex_extern_t ext;
    wex_instance_export(l->inst, "load_after_flag", 15, &ext);
    wex_val_t r;
    wex_error_t *err = wex_func_call(l->store, ext.of.func, NULL, 0, &r, 1);
    l->trapped = err != NULL;
    l->result = err ? -1 : r.of.i32;
    wex_error_delete(err);
    return NULL;
}

static void growth_seen_by_running_thread(wex_bounds_t bounds) {
    wex_config_t *cfg = wex_config_new();
    wex_config_set_bounds_checks(cfg, bounds);
    wex_engine_t *engine = wex_engine_new(cfg);
    size_t len;
    uint8_t *bytes = wex_test_read_wasm("threads_sum.wasm", &len);
    wex_module_t *mod;
    CHECK(wex_module_new(engine, bytes, len, &mod) == NULL);
    free(bytes);
    wex_store_t *a = wex_store_new(engine);
    wex_limits_t lim = {.min = 1, .max = 2, .has_max = true, .shared = true};
    wex_memory_t *m;
    CHECK(wex_memory_new(a, lim, &m) == NULL);
    loader_t l = {wex_store_new(engine), NULL, 0, false};
    wex_extern_t imp = {.kind = WEX_EXTERN_MEMORY, .of.memory = m};
    CHECK(wex_instance_new(l.store, mod, &imp, 1, &l.inst) == NULL);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, loader_thread, &l) == 0);
    struct timespec ts = {0, 5000000};
    nanosleep(&ts, NULL); /* let it start spinning */
    CHECK_EQ_INT(wex_memory_grow(m, 1), 1);
    __atomic_store_n(wex_memory_data(m) + 65536, (uint8_t)77, __ATOMIC_SEQ_CST);
    __atomic_store_n((uint32_t *)(wex_memory_data(m) + 64), 1u, __ATOMIC_SEQ_CST);
    pthread_join(t, NULL);
    CHECK(!l.trapped);
    CHECK_EQ_INT(l.result, 77);
    wex_store_delete(l.store);
    wex_store_delete(a);
    wex_module_delete(mod);
    wex_engine_delete(engine);
}

TEST(growth_by_another_thread_is_seen_mid_call_explicit) {
    growth_seen_by_running_thread(WEX_BOUNDS_EXPLICIT);
}

TEST(growth_by_another_thread_is_seen_mid_call_guard) {
    growth_seen_by_running_thread(WEX_BOUNDS_GUARD_PAGES);
}

TEST(shared_memory_growth_is_seen_by_every_store) {
    wex_engine_t *engine = wex_engine_new(NULL);
    wex_store_t *a = wex_store_new(engine), *b = wex_store_new(engine);
    wex_limits_t l = {.min = 1, .max = 3, .has_max = true, .shared = true};
    wex_memory_t *m;
    CHECK(wex_memory_new(a, l, &m) == NULL);
    CHECK(wex_memory_share(b, m) == NULL);
    CHECK_EQ_INT(wex_memory_grow(m, 1), 1);
    CHECK_EQ_INT(wex_memory_limits(m).min, 2);
    CHECK_EQ_INT(wex_memory_grow(m, 2), -1);
    wex_memory_data(m)[2 * 65536 - 1] = 9;
    wex_store_delete(a);
    CHECK_EQ_INT(wex_memory_data(m)[2 * 65536 - 1], 9);
    wex_store_delete(b);
    /* A shared memory needs a maximum. */
    wex_store_t *c = wex_store_new(engine);
    l.has_max = false;
    wex_error_t *err = wex_memory_new(c, l, &m);
    CHECK(err != NULL);
    wex_error_delete(err);
    wex_store_delete(c);
    wex_engine_delete(engine);
}

TEST(atomics_on_unshared_memory) {
    wex_engine_t *engine = wex_engine_new(NULL);
    size_t len;
    uint8_t *bytes = wex_test_read_wasm("atomic_unshared.wasm", &len);
    wex_module_t *mod;
    CHECK(wex_module_new(engine, bytes, len, &mod) == NULL);
    free(bytes);
    wex_store_t *s = wex_store_new(engine);
    wex_instance_t *inst;
    CHECK(wex_instance_new(s, mod, NULL, 0, &inst) == NULL);
    wex_extern_t add, notify, wait, fence;
    CHECK(wex_instance_export(inst, "add", 3, &add));
    CHECK(wex_instance_export(inst, "notify", 6, &notify));
    CHECK(wex_instance_export(inst, "wait32", 6, &wait));
    CHECK(wex_instance_export(inst, "fence", 5, &fence));
    wex_val_t a[3] = {wex_val_i32(8), wex_val_i32(5), wex_val_i64(0)}, r;
    CHECK(wex_func_call(s, add.of.func, a, 2, &r, 1) == NULL);
    CHECK_EQ_INT(r.of.i32, 0);
    CHECK(wex_func_call(s, add.of.func, a, 2, &r, 1) == NULL);
    CHECK_EQ_INT(r.of.i32, 5);
    CHECK(wex_func_call(s, notify.of.func, a, 2, &r, 1) == NULL);
    CHECK_EQ_INT(r.of.i32, 0);
    CHECK(wex_func_call(s, fence.of.func, NULL, 0, NULL, 0) == NULL);
    wex_error_t *err = wex_func_call(s, wait.of.func, a, 3, &r, 1);
    CHECK(err != NULL);
    CHECK_EQ_INT(wex_error_trap_code(err), WEX_TRAP_EXPECTED_SHARED);
    CHECK_STR_CONTAINS(wex_error_message(err), "expected shared memory");
    wex_error_delete(err);
    wex_store_delete(s);
    wex_module_delete(mod);
    wex_engine_delete(engine);
}
