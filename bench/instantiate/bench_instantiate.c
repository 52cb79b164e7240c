/*
 * bench_instantiate.c - wex-bench-instantiate: how long one instantiation
 * takes under each strategy.
 *
 *   wex-bench-instantiate [--strategy NAME|all] [--threads N] [--iterations N]
 *                         [--min-seconds S] [--max-seconds S]
 *                         [--keep-resident BYTES] [--decommit-batch N]
 *                         [--no-image-restore] [--thread-cache N] FILE.wasm
 *
 * Per iteration (timed as a whole): a store, an instance of FILE, a call of
 * its export `run` if it has one, and the store's deletion (which drops the
 * instance: with pooling, its slot is reset and freed). One line per
 * strategy:
 *
 *   STRATEGY median_ns=N p99_ns=N inst_per_s=N threads=N iterations=N cpu_ns_per_instance=N
 *
 * cpu_ns_per_instance is the CPU time the worker threads used
 * (CLOCK_THREAD_CPUTIME_ID, summed) over the instances they made: unlike
 * inst_per_s it does not depend on whether the machine gave the threads a
 * core each, so 1 and 2 threads compare even on a busy or overcommitted VM
 * (contention shows as more CPU per instance: spinning, cache-line
 * transfers, interrupts; time spent asleep waiting does not count).
 *
 * inst_per_s counts all threads' instantiations over the wall time. Each
 * thread does at least --iterations, and goes on until --min-seconds (default
 * 0.5) have passed, so that throughput is not measured over a few
 * milliseconds. A strategy stops early after --max-seconds (default 5) once
 * every thread has done 20 iterations, so that RecreateInstance on a large
 * module stays bearable; `iterations` says how many were timed (the fewest
 * of any thread). --keep-resident and --decommit-batch set those pool
 * settings (wex_config_set_pool_*), to measure their effect; by default the
 * engine's defaults apply. --thread-cache sets the per-thread slot caches
 * (wex_config_set_pool_thread_cache; 0 turns them off).
 *
 *   wex-bench-instantiate --cpu-check
 *
 * prints how much work two busy threads do against one (0.3 s each), to tell
 * whether a second core was really there for a 2-thread run: on a virtual
 * machine whose two vCPUs share a physical core, or whose host is busy, two
 * threads do far less than twice the work of one whatever the code.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wex.h"

typedef struct {
    wex_engine_t *engine;
    wex_module_t *module;
    long iterations;
    double min_seconds, max_seconds;
    uint64_t *lat; /* cap entries */
    long done, cap;
    uint64_t cpu_ns; /* CPU time of the thread over its timed loop */
    const char *error;
    char errbuf[256];
} worker_t;

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One instantiation, call and drop. Returns false (with w->error) on failure. */
static bool once(worker_t *w) {
    wex_store_t *store = wex_store_new(w->engine);
    if (!store) {
        w->error = "cannot create a store";
        return false;
    }
    wex_instance_t *inst;
    wex_error_t *err = wex_instance_new(store, w->module, NULL, 0, &inst);
    if (!err) {
        wex_extern_t ext;
        if (wex_instance_export(inst, "run", 3, &ext) && ext.kind == WEX_EXTERN_FUNC) {
            wex_functype_t ft = wex_func_type(ext.of.func);
            wex_val_t res[4];
            if (ft.nparams == 0 && ft.nresults <= 4)
                err = wex_func_call(store, ext.of.func, NULL, 0, res, ft.nresults);
        }
    }
    if (err) {
        snprintf(w->errbuf, sizeof w->errbuf, "%s", wex_error_message(err));
        w->error = w->errbuf;
        wex_error_delete(err);
    }
    wex_store_delete(store);
    return !err;
}

static uint64_t thread_cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *work(void *arg) {
    worker_t *w = arg;
    uint64_t start = now_ns(), cpu0 = thread_cpu_ns();
    for (;;) {
        uint64_t t0 = now_ns();
        if (!once(w)) break;
        uint64_t t1 = now_ns();
        if (w->done == w->cap) {
            long cap = w->cap ? w->cap * 2 : 1024;
            uint64_t *l = realloc(w->lat, (size_t)cap * sizeof *l);
            if (!l) {
                w->error = "out of memory";
                return NULL;
            }
            w->lat = l;
            w->cap = cap;
        }
        w->lat[w->done++] = t1 - t0;
        double secs = (double)(t1 - start) / 1e9;
        if (w->done >= 20 && secs > w->max_seconds) break;
        if (w->done >= w->iterations && secs >= w->min_seconds) break;
    }
    w->cpu_ns = thread_cpu_ns() - cpu0;
    return NULL;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Pool settings given on the command line; negative: the engine's default. */
static long long opt_keep_resident = -1, opt_decommit_batch = -1, opt_thread_cache = -1;
static bool opt_no_restore; /* --no-image-restore: WEX_SIMULATE_NO_IMAGE_RESTORE */

static int run_strategy(wex_instantiation_t s, const uint8_t *bytes, size_t len, int nthreads,
                        long iterations, double min_seconds, double max_seconds) {
    wex_config_t *cfg = wex_config_new();
    wex_config_set_instantiation_strategy(cfg, s);
    if (opt_keep_resident >= 0) wex_config_set_pool_keep_resident(cfg, (uint64_t)opt_keep_resident);
    if (opt_no_restore) wex_config_simulate(cfg, WEX_SIMULATE_NO_IMAGE_RESTORE);
    if (opt_decommit_batch >= 0)
        wex_config_set_pool_decommit_batch(cfg, (uint32_t)opt_decommit_batch);
    if (opt_thread_cache >= 0) wex_config_set_pool_thread_cache(cfg, (uint32_t)opt_thread_cache);
    wex_config_set_pool_exhaustion(cfg, WEX_POOL_WAIT, 10000);
    wex_engine_t *engine = wex_engine_new(cfg);
    if (!engine) {
        fprintf(stderr, "cannot create an engine\n");
        return 1;
    }
    const char *name = wex_instantiation_name(s);
    if (wex_engine_instantiation_strategy(engine) != s)
        fprintf(stderr, "# %s: running as %s: %s\n", name,
                wex_instantiation_name(wex_engine_instantiation_strategy(engine)),
                wex_engine_instantiation_note(engine));
    wex_module_t *module;
    wex_error_t *err = wex_module_new(engine, bytes, len, &module);
    if (err) {
        fprintf(stderr, "cannot compile: %s\n", wex_error_message(err));
        wex_error_delete(err);
        wex_engine_delete(engine);
        return 1;
    }
    if (wex_module_import_count(module) > 0) {
        fprintf(stderr, "the module has imports; this benchmark provides none\n");
        wex_module_delete(module);
        wex_engine_delete(engine);
        return 1;
    }
    worker_t *ws = calloc((size_t)nthreads, sizeof *ws);
    pthread_t *th = calloc((size_t)nthreads, sizeof *th);
    int status = 0;
    /* Warm up: the first instances map images, fault in code paths. */
    worker_t warm = {.engine = engine, .module = module, .iterations = 3, .max_seconds = 1e9};
    work(&warm);
    free(warm.lat);
    if (warm.error) {
        fprintf(stderr, "%s: %s\n", name, warm.error);
        status = 1;
        goto out;
    }
    for (int t = 0; t < nthreads; t++) {
        ws[t] = (worker_t){.engine = engine,
                           .module = module,
                           .iterations = iterations,
                           .min_seconds = min_seconds,
                           .max_seconds = max_seconds};
    }
    uint64_t t0 = now_ns();
    for (int t = 0; t < nthreads; t++)
        pthread_create(&th[t], NULL, work, &ws[t]);
    for (int t = 0; t < nthreads; t++)
        pthread_join(th[t], NULL);
    uint64_t wall = now_ns() - t0;
    long total = 0, min_done = LONG_MAX;
    uint64_t cpu = 0;
    for (int t = 0; t < nthreads; t++) {
        cpu += ws[t].cpu_ns;
        if (ws[t].error) {
            fprintf(stderr, "%s: %s\n", name, ws[t].error);
            status = 1;
        }
        total += ws[t].done;
        if (ws[t].done < min_done) min_done = ws[t].done;
    }
    if (status == 0 && total > 0) {
        uint64_t *all = malloc((size_t)total * sizeof *all);
        long k = 0;
        for (int t = 0; t < nthreads; t++)
            for (long i = 0; i < ws[t].done; i++)
                all[k++] = ws[t].lat[i];
        qsort(all, (size_t)total, sizeof *all, cmp_u64);
        uint64_t median = all[total / 2], p99 = all[(size_t)((double)(total - 1) * 0.99)];
        printf("%s median_ns=%llu p99_ns=%llu inst_per_s=%.0f threads=%d iterations=%ld "
               "cpu_ns_per_instance=%.0f\n",
               name, (unsigned long long)median, (unsigned long long)p99,
               (double)total / ((double)wall / 1e9), nthreads, min_done,
               (double)cpu / (double)total);
        fflush(stdout);
        free(all);
    }
    for (int t = 0; t < nthreads; t++)
        free(ws[t].lat);
out:
    free(ws);
    free(th);
    wex_module_delete(module);
    wex_engine_delete(engine);
    return status;
}

static void *spin(void *arg) {
    volatile uint64_t n = 0;
    uint64_t end = now_ns() + 300000000u;
    while (now_ns() < end)
        for (int i = 0; i < 10000; i++)
            n++;
    *(uint64_t *)arg = n;
    return NULL;
}

static int cpu_check(void) {
    uint64_t one = 0, two[2] = {0, 0}, again = 0;
    /* One thread alone, the better of two runs (the vCPUs may differ). */
    spin(&one);
    spin(&again);
    if (again > one) one = again;
    pthread_t th[2];
    for (int t = 0; t < 2; t++)
        pthread_create(&th[t], NULL, spin, &two[t]);
    for (int t = 0; t < 2; t++)
        pthread_join(th[t], NULL);
    printf("cpu_check two_threads_work=%.2f\n",
           (double)(two[0] + two[1]) / (double)(one ? one : 1));
    return 0;
}

static int usage(void) {
    fprintf(stderr, "usage: wex-bench-instantiate [--strategy NAME|all] [--threads N] "
                    "[--iterations N] [--min-seconds S] [--max-seconds S]\n"
                    "       [--keep-resident BYTES] [--decommit-batch N] [--no-image-restore]\n"
                    "       [--thread-cache N] FILE.wasm\n"
                    "  NAME: pooling-cow, recreate-cow, pooling, recreate\n");
    return 2;
}

int main(int argc, char **argv) {
    const char *strategy = "all", *file = NULL;
    int threads = 1;
    long iterations = 2000;
    double min_seconds = 0.5, max_seconds = 5;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 < argc && strcmp(a, "--strategy") == 0)
            strategy = argv[++i];
        else if (i + 1 < argc && strcmp(a, "--threads") == 0)
            threads = atoi(argv[++i]);
        else if (i + 1 < argc && strcmp(a, "--iterations") == 0)
            iterations = atol(argv[++i]);
        else if (i + 1 < argc && strcmp(a, "--min-seconds") == 0)
            min_seconds = atof(argv[++i]);
        else if (i + 1 < argc && strcmp(a, "--max-seconds") == 0)
            max_seconds = atof(argv[++i]);
        else if (strcmp(a, "--cpu-check") == 0)
            return cpu_check();
        else if (strcmp(a, "--no-image-restore") == 0)
            opt_no_restore = true;
        else if (i + 1 < argc && strcmp(a, "--keep-resident") == 0)
            opt_keep_resident = atoll(argv[++i]);
        else if (i + 1 < argc && strcmp(a, "--decommit-batch") == 0)
            opt_decommit_batch = atoll(argv[++i]);
        else if (i + 1 < argc && strcmp(a, "--thread-cache") == 0)
            opt_thread_cache = atoll(argv[++i]);
        else if (a[0] == '-')
            return usage();
        else if (!file)
            file = a;
        else
            return usage();
    }
    if (!file || threads < 1 || threads > 256 || iterations < 1) return usage();
    FILE *f = fopen(file, "rb");
    if (!f) {
        perror(file);
        return 1;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *bytes = malloc(n > 0 ? (size_t)n : 1);
    if (!bytes || fread(bytes, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "%s: cannot read\n", file);
        fclose(f);
        return 1;
    }
    fclose(f);
    int status = 0, matched = 0;
    for (int s = WEX_INSTANTIATION_POOLING_COW; s <= WEX_INSTANTIATION_RECREATE; s++) {
        const char *name = wex_instantiation_name((wex_instantiation_t)s);
        if (strcmp(strategy, "all") != 0 && strcmp(strategy, name) != 0) continue;
        matched++;
        status |= run_strategy((wex_instantiation_t)s, bytes, (size_t)n, threads, iterations,
                               min_seconds, max_seconds);
    }
    free(bytes);
    if (!matched) {
        fprintf(stderr, "unknown strategy '%s'\n", strategy);
        return 2;
    }
    return status;
}
