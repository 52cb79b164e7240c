/*
 * test_task.c - the default task manager (include/wex_task.h): shared tasks,
 * timers, blocking tasks, memories for new threads, the parallelism figure,
 * shutdown with work still queued, and an embedder's own manager.
 */
#define _GNU_SOURCE
#include "harness.h"
#include "wex.h"
#include "wex_task.h"

#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <time.h>

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A counter that tests wait on: callbacks bump it, the test blocks until it
 * reaches a target (or fails after a few seconds). */
typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int count, cancelled;
    uint64_t last_ns;
    int order[16];
    int norder;
} counter_t;

static void counter_init(counter_t *c) {
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
}

static void bump(void *arg, bool cancelled) {
    counter_t *c = arg;
    pthread_mutex_lock(&c->mu);
    if (cancelled)
        c->cancelled++;
    else
        c->count++;
    c->last_ns = now_ns();
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

static bool wait_count(counter_t *c, int target) {
    uint64_t deadline = now_ns() + 10ull * 1000000000u;
    pthread_mutex_lock(&c->mu);
    while (c->count < target && now_ns() < deadline) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 10000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&c->cv, &c->mu, &ts);
    }
    bool ok = c->count >= target;
    pthread_mutex_unlock(&c->mu);
    return ok;
}

TEST(parallelism_is_the_affinity_or_less) {
    wex_engine_t *e = wex_engine_new(NULL);
    const wex_task_manager_t *tm = wex_engine_task_manager(e);
    CHECK(tm != NULL);
    unsigned n = tm->thread_parallelism(tm->data);
    cpu_set_t set;
    CHECK(sched_getaffinity(0, sizeof set, &set) == 0);
    CHECK(n >= 1);
    CHECK(n <= (unsigned)CPU_COUNT(&set));
    wex_engine_delete(e);
}

TEST(shared_tasks_all_run) {
    wex_engine_t *e = wex_engine_new(NULL);
    const wex_task_manager_t *tm = wex_engine_task_manager(e);
    counter_t c;
    counter_init(&c);
    for (int i = 0; i < 2000; i++) {
        wex_error_t *err = tm->task_shared(tm->data, bump, &c);
        CHECK(err == NULL);
    }
    CHECK(wait_count(&c, 2000));
    wex_engine_delete(e);
    CHECK_EQ_INT(c.count, 2000);
    CHECK_EQ_INT(c.cancelled, 0);
}

typedef struct {
    counter_t *c;
    int id;
} tagged_t;

static void record_order(void *arg, bool cancelled) {
    tagged_t *t = arg;
    pthread_mutex_lock(&t->c->mu);
    if (!cancelled && t->c->norder < 16) t->c->order[t->c->norder++] = t->id;
    pthread_mutex_unlock(&t->c->mu);
    bump(t->c, cancelled);
}

TEST(timers_fire_in_due_order_not_before_due) {
    wex_engine_t *e = wex_engine_new(NULL);
    const wex_task_manager_t *tm = wex_engine_task_manager(e);
    counter_t c;
    counter_init(&c);
    tagged_t t[3] = {{&c, 3}, {&c, 1}, {&c, 2}};
    uint64_t start = now_ns();
    CHECK(tm->sleep_async(tm->data, 60000000, record_order, &t[0]) == NULL); /* 60 ms */
    CHECK(tm->sleep_async(tm->data, 20000000, record_order, &t[1]) == NULL); /* 20 ms */
    CHECK(tm->sleep_async(tm->data, 40000000, record_order, &t[2]) == NULL); /* 40 ms */
    CHECK(wait_count(&c, 3));
    CHECK(c.last_ns - start >= 60000000);
    /* One shared worker may run two due callbacks out of order only if they
     * were due together; these are 20 ms apart. */
    CHECK_EQ_INT(c.order[0], 1);
    CHECK_EQ_INT(c.order[1], 2);
    CHECK_EQ_INT(c.order[2], 3);
    wex_engine_delete(e);
}

TEST(blocking_sleep_sleeps) {
    wex_engine_t *e = wex_engine_new(NULL);
    const wex_task_manager_t *tm = wex_engine_task_manager(e);
    uint64_t start = now_ns();
    tm->sleep(tm->data, 30000000);
    CHECK(now_ns() - start >= 30000000);
    wex_engine_delete(e);
}

/* Blocking tasks wait for a gate that only a shared task opens. */
typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool open;
    counter_t *done;
} gate_t;

static void wait_gate(void *arg, bool cancelled) {
    gate_t *g = arg;
    if (!cancelled) {
        pthread_mutex_lock(&g->mu);
        while (!g->open)
            pthread_cond_wait(&g->cv, &g->mu);
        pthread_mutex_unlock(&g->mu);
    }
    bump(g->done, cancelled);
}

static void open_gate(void *arg, bool cancelled) {
    gate_t *g = arg;
    pthread_mutex_lock(&g->mu);
    g->open = true;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
    (void)cancelled;
}

/* Far more blocked tasks than CPUs: the elastic set grows past the shared
 * workers, and the shared task that releases them still runs. */
TEST(blocking_tasks_never_starve_shared_ones) {
    wex_engine_t *e = wex_engine_new(NULL);
    const wex_task_manager_t *tm = wex_engine_task_manager(e);
    counter_t done;
    counter_init(&done);
    gate_t g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, &done};
    unsigned n = 8 * tm->thread_parallelism(tm->data) + 16;
    for (unsigned i = 0; i < n; i++)
        CHECK(tm->task_dedicated(tm->data, wait_gate, &g) == NULL);
    struct timespec ts = {0, 20000000};
    nanosleep(&ts, NULL); /* let them block */
    CHECK(tm->task_shared(tm->data, open_gate, &g) == NULL);
    CHECK(wait_count(&done, (int)n));
    wex_engine_delete(e);
}

/* Shutdown: timers not yet due are cancelled (called once, cancelled),
 * queued shared tasks are finished, nothing is lost or called twice. */
TEST(shutdown_finishes_or_cancels_everything) {
    wex_engine_t *e = wex_engine_new(NULL);
    const wex_task_manager_t *tm = wex_engine_task_manager(e);
    counter_t c;
    counter_init(&c);
    for (int i = 0; i < 10; i++)
        CHECK(tm->sleep_async(tm->data, 3600ull * 1000000000u, bump, &c) == NULL);
    for (int i = 0; i < 500; i++)
        CHECK(tm->task_shared(tm->data, bump, &c) == NULL);
    wex_engine_delete(e);
    CHECK_EQ_INT(c.count, 500);
    CHECK_EQ_INT(c.cancelled, 10);
}

static void take_module(void *arg, const wex_module_t *m, bool cancelled) {
    counter_t *c = arg;
    if (!cancelled && wex_module_export_count(m) == 1) bump(c, false);
}

TEST(spawn_with_module_hands_the_module_over) {
    static const uint8_t mod[] = {0, 'a', 's', 'm', 1, 0, 0,   0, 1, 4,  1, 0x60, 0, 0, 3,   2,
                                  1, 0,   7,   5,   1, 1, 'f', 0, 0, 10, 4, 1,    2, 0, 0x0b};
    wex_engine_t *e = wex_engine_new(NULL);
    wex_module_t *m;
    CHECK(wex_module_new(e, mod, sizeof mod, &m) == NULL);
    const wex_task_manager_t *tm = wex_engine_task_manager(e);
    counter_t c;
    counter_init(&c);
    CHECK(tm->spawn_with_module(tm->data, m, take_module, &c) == NULL);
    CHECK(wait_count(&c, 1));
    wex_engine_delete(e); /* waits for the task */
    wex_module_delete(m);
}

TEST(build_memory_new_share_copy) {
    wex_engine_t *e = wex_engine_new(NULL);
    const wex_task_manager_t *tm = wex_engine_task_manager(e);
    wex_store_t *s1 = wex_store_new(e), *s2 = wex_store_new(e);
    wex_spawn_memory_t spec = {.kind = WEX_SPAWN_MEMORY_NEW,
                               .type = {.min = 1, .max = 4, .has_max = true, .shared = true}};
    wex_memory_t *shared = NULL, *same = NULL, *copy = NULL, *none = (wex_memory_t *)&spec;
    CHECK(tm->build_memory(tm->data, s1, &spec, &shared) == NULL);
    CHECK(wex_memory_limits(shared).shared);
    wex_memory_data(shared)[100] = 42;
    spec = (wex_spawn_memory_t){.kind = WEX_SPAWN_MEMORY_SHARE, .memory = shared};
    CHECK(tm->build_memory(tm->data, s2, &spec, &same) == NULL);
    CHECK(same == shared);
    spec.kind = WEX_SPAWN_MEMORY_COPY;
    CHECK(tm->build_memory(tm->data, s2, &spec, &copy) == NULL);
    CHECK(copy != shared);
    CHECK_EQ_INT(wex_memory_data(copy)[100], 42);
    wex_memory_data(copy)[100] = 7;
    CHECK_EQ_INT(wex_memory_data(shared)[100], 42);
    spec.kind = WEX_SPAWN_MEMORY_NONE;
    CHECK(tm->build_memory(tm->data, s2, &spec, &none) == NULL);
    CHECK(none == NULL);
    /* An unshared memory cannot be shared. */
    wex_memory_t *plain;
    wex_limits_t pl = {.min = 1, .max = 1, .has_max = true, .shared = false};
    CHECK(wex_memory_new(s1, pl, &plain) == NULL);
    spec = (wex_spawn_memory_t){.kind = WEX_SPAWN_MEMORY_SHARE, .memory = plain};
    wex_memory_t *bad = NULL;
    wex_error_t *err = tm->build_memory(tm->data, s2, &spec, &bad);
    CHECK(err != NULL);
    wex_error_delete(err);
    /* The shared memory outlives the store that made it. */
    wex_store_delete(s1);
    CHECK_EQ_INT(wex_memory_data(same)[100], 42);
    CHECK_EQ_INT(wex_memory_grow(same, 1), 1);
    CHECK_EQ_INT(wex_memory_size(same), 2 * 65536);
    wex_store_delete(s2);
    wex_engine_delete(e);
}

/* An embedder's manager: the engine uses it and destroys it. */
static int custom_destroyed;
static unsigned custom_parallelism(void *data) {
    return *(unsigned *)data;
}
static void custom_destroy(void *data) {
    (void)data;
    custom_destroyed++;
}

TEST(embedder_task_manager_is_used_and_destroyed) {
    static unsigned three = 3;
    wex_task_manager_t mine;
    memset(&mine, 0, sizeof mine);
    mine.data = &three;
    mine.thread_parallelism = custom_parallelism;
    mine.destroy = custom_destroy;
    wex_config_t *cfg = wex_config_new();
    wex_config_set_task_manager(cfg, &mine);
    wex_engine_t *e = wex_engine_new(cfg);
    const wex_task_manager_t *tm = wex_engine_task_manager(e);
    CHECK_EQ_INT(tm->thread_parallelism(tm->data), 3);
    wex_engine_delete(e);
    CHECK_EQ_INT(custom_destroyed, 1);
}

/* Engines that never ask for their manager start nothing and stop cleanly. */
TEST(unused_manager_costs_nothing) {
    for (int i = 0; i < 100; i++) {
        wex_engine_t *e = wex_engine_new(NULL);
        wex_engine_delete(e);
    }
}
