/*
 * tasks.c - wex-bench-tasks: what the engine's default task manager
 * (include/wex_task.h) sustains on this machine.
 *
 *   task_shared tasks/s           many tiny tasks (an atomic increment each)
 *                                 submitted from one thread, until all ran
 *   WebAssembly threads/s         batches of threads started with task_wasm
 *                                 (a new store and instance each, sharing one
 *                                 memory), each adding one number with an
 *                                 atomic, joined by the main thread with
 *                                 memory.atomic.wait32: spawned + joined
 *
 * Usage: wex-bench-tasks [SECONDS_PER_MEASURE] [threads_sum.wasm]
 * Each figure is the best of 3 measures of about SECONDS_PER_MEASURE (0.5).
 */
#include "wex.h"
#include "wex_task.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, wex_error_t *err) {
    fprintf(stderr, "wex-bench-tasks: %s: %s\n", what, err ? wex_error_message(err) : "failed");
    exit(1);
}

/* ---------------------------------------------------------------- task_shared */

static long done_count;

static void tiny(void *arg, bool cancelled) {
    (void)arg;
    (void)cancelled;
    __atomic_add_fetch(&done_count, 1, __ATOMIC_RELAXED);
}

/* Submit in batches of n and wait for each batch, until `secs` passed. */
static double shared_rate(const wex_task_manager_t *tm, double secs) {
    const long n = 10000;
    long total = 0;
    double start = now_s(), t;
    do {
        __atomic_store_n(&done_count, 0, __ATOMIC_RELAXED);
        for (long i = 0; i < n; i++) {
            wex_error_t *err = tm->task_shared(tm->data, tiny, NULL);
            if (err) die("task_shared", err);
        }
        while (__atomic_load_n(&done_count, __ATOMIC_RELAXED) < n)
            sched_yield();
        total += n;
        t = now_s() - start;
    } while (t < secs);
    return (double)total / t;
}

/* ---------------------------------------------------------------- WebAssembly threads */

typedef struct {
    wex_module_t *module;
    wex_store_t *store;
    wex_memory_t *memory;
    wex_func_t *reset, *join;
} wasm_t;

static wex_error_t *link_memory(void *env, wex_store_t *store, wex_memory_t *memory,
                                wex_extern_t *imports) {
    (void)env;
    (void)store;
    imports[0].kind = WEX_EXTERN_MEMORY;
    imports[0].of.memory = memory;
    return NULL;
}

static void thread_done(void *env, wex_error_t *err, bool cancelled) {
    (void)env;
    (void)cancelled;
    if (err) die("wasm thread", err);
}

static wex_func_t *export_func(wex_instance_t *inst, const char *name) {
    wex_extern_t ext;
    if (!wex_instance_export(inst, name, strlen(name), &ext)) die(name, NULL);
    return ext.of.func;
}

static void load(wex_engine_t *engine, const char *path, wasm_t *w) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "wex-bench-tasks: cannot open %s\n", path);
        exit(1);
    }
    static uint8_t buf[1 << 16];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    wex_error_t *err = wex_module_new(engine, buf, len, &w->module);
    if (err) die("module", err);
    w->store = wex_store_new(engine);
    wex_limits_t l = {.min = 1, .max = 1, .has_max = true, .shared = true};
    if ((err = wex_memory_new(w->store, l, &w->memory))) die("memory", err);
    wex_extern_t imp = {.kind = WEX_EXTERN_MEMORY, .of.memory = w->memory};
    wex_instance_t *inst;
    if ((err = wex_instance_new(w->store, w->module, &imp, 1, &inst))) die("instance", err);
    w->reset = export_func(inst, "reset");
    w->join = export_func(inst, "join");
}

/* Batches of `batch` threads, each adding one number; join; repeat. */
static double wasm_rate(wex_engine_t *engine, const wex_task_manager_t *tm, wasm_t *w, int batch,
                        double secs) {
    long total = 0;
    double start = now_s(), t;
    do {
        wex_error_t *err = wex_func_call(w->store, w->reset, NULL, 0, NULL, 0);
        if (err) die("reset", err);
        for (int i = 0; i < batch; i++) {
            wex_wasm_task_t task = {
                .module = w->module,
                .func = "work",
                .args = {wex_val_i32(i), wex_val_i32(batch), wex_val_i32(batch)},
                .nargs = 3,
                .memory = {.kind = WEX_SPAWN_MEMORY_SHARE, .memory = w->memory},
                .link = link_memory,
                .done = thread_done,
            };
            if ((err = tm->task_wasm(tm->data, engine, &task))) die("task_wasm", err);
        }
        wex_val_t a = wex_val_i32(batch), r;
        if ((err = wex_func_call(w->store, w->join, &a, 1, &r, 1))) die("join", err);
        if (r.of.i64 != (int64_t)batch * (batch - 1) / 2) die("wrong sum", NULL);
        total += batch;
        t = now_s() - start;
    } while (t < secs);
    return (double)total / t;
}

static double best3(double a, double b, double c) {
    double m = a > b ? a : b;
    return m > c ? m : c;
}

int main(int argc, char **argv) {
    double secs = argc > 1 ? atof(argv[1]) : 0.5;
    if (secs <= 0) secs = 0.5;
    const char *path = argc > 2 ? argv[2] : WEX_TEST_WASM_DIR "/threads_sum.wasm";
    wex_engine_t *engine = wex_engine_new(NULL);
    if (!engine) die("engine", NULL);
    const wex_task_manager_t *tm = wex_engine_task_manager(engine);
    if (!tm) die("task manager", NULL);
    printf("thread_parallelism: %u\n", tm->thread_parallelism(tm->data));
    double s = best3(shared_rate(tm, secs), shared_rate(tm, secs), shared_rate(tm, secs));
    printf("task_shared: %.0f tasks/s\n", s);
    wasm_t w;
    load(engine, path, &w);
    int batches[] = {1, 16};
    for (int k = 0; k < 2; k++) {
        int b = batches[k];
        double r = best3(wasm_rate(engine, tm, &w, b, secs), wasm_rate(engine, tm, &w, b, secs),
                         wasm_rate(engine, tm, &w, b, secs));
        printf("wasm threads (batches of %d): %.0f spawned+joined/s\n", b, r);
    }
    wex_store_delete(w.store);
    wex_module_delete(w.module);
    wex_engine_delete(engine);
    return 0;
}
