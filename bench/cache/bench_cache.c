/*
 * bench_cache.c - wex-bench-cache FILE.wasm: what the compiled-module cache
 * saves. Prints the time to compile the module cold (decode, validate,
 * translate), to hash it, to write its artifact, and to load it warm from
 * each layer: filesystem (a fresh engine: open, map, check, rebuild the
 * tables), shared in-process and thread-local (a lookup and a reference).
 * Uses a temporary cache directory (or --cache-dir DIR) and removes it.
 *
 *   wex-bench-cache [--runs N] [--cache-dir DIR] FILE.wasm
 */
#include "wex.h"
#include "wex_cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The median of n samples (sorts them). */
static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static wex_engine_t *engine_with(wex_cache_t *cache) {
    wex_config_t *cfg = wex_config_new();
    wex_config_set_cache(cfg, cache);
    wex_cache_delete(cache);
    return wex_engine_new(cfg);
}

static void fail(const char *what, wex_error_t *err) {
    fprintf(stderr, "wex-bench-cache: %s: %s\n", what, err ? wex_error_message(err) : "failed");
    exit(1);
}

static void print_time(const char *label, double s, const char *extra) {
    if (s >= 1e-3)
        printf("%-44s %10.3f ms%s\n", label, s * 1e3, extra);
    else
        printf("%-44s %10.3f us%s\n", label, s * 1e6, extra);
}

int main(int argc, char **argv) {
    int runs = 5;
    const char *file = NULL, *dir = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--runs") && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--cache-dir") && i + 1 < argc)
            dir = argv[++i];
        else
            file = argv[i];
    }
    if (!file || runs < 1) {
        fprintf(stderr, "usage: wex-bench-cache [--runs N] [--cache-dir DIR] FILE.wasm\n");
        return 2;
    }
    FILE *f = fopen(file, "rb");
    if (!f) {
        perror(file);
        return 1;
    }
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *bytes = malloc((size_t)len + 1);
    if (!bytes || fread(bytes, 1, (size_t)len, f) != (size_t)len) {
        perror(file);
        return 1;
    }
    fclose(f);
    char tmp[] = "/tmp/wex-bench-cache-XXXXXX";
    bool own_dir = !dir;
    if (own_dir && !(dir = mkdtemp(tmp))) {
        perror("mkdtemp");
        return 1;
    }

    /* cold: no cache at all */
    wex_engine_t *cold = engine_with(NULL);
    double *t = calloc((size_t)(runs > 2000 ? runs : 2000), sizeof *t);
    wex_module_t *m = NULL;
    for (int r = 0; r < runs; r++) {
        double t0 = now_s();
        wex_error_t *err = wex_module_new(cold, bytes, (size_t)len, &m);
        t[r] = now_s() - t0;
        if (err) fail("compile", err);
        if (r + 1 < runs) wex_module_delete(m);
    }
    double t_cold = median(t, runs);

    uint8_t hash[WEX_CACHE_HASH_SIZE];
    for (int r = 0; r < runs; r++) {
        double t0 = now_s();
        wex_module_hash(bytes, (size_t)len, hash);
        t[r] = now_s() - t0;
    }
    double t_hash = median(t, runs);

    /* the artifact: what the filesystem layer's save writes */
    wex_cache_t *fs = wex_cache_fs_new(dir, 0, 0, WEX_CACHE_VERIFY_FAST);
    double t0 = now_s();
    wex_cache_save(fs, hash, cold, m);
    double t_save = now_s() - t0;
    wex_cache_stats_t st;
    wex_cache_stats(fs, &st);
    if (st.entries != 1) fail("the artifact was not written", NULL);

    /* warm from the filesystem: a fresh engine each time, as a new process
     * would have (the file is in the page cache) */
    int fsruns = runs * 4;
    for (int r = 0; r < fsruns; r++) {
        wex_engine_t *e = engine_with(NULL);
        double t1 = now_s();
        wex_module_t *l = wex_cache_load(fs, hash, e);
        t[r] = now_s() - t1;
        if (!l) fail("filesystem load missed", NULL);
        wex_module_delete(l);
        wex_engine_delete(e);
    }
    double t_fs = median(t, fsruns);
    wex_cache_t *fsfull = wex_cache_fs_new(dir, 0, 0, WEX_CACHE_VERIFY_FULL);
    for (int r = 0; r < runs; r++) {
        wex_engine_t *e = engine_with(NULL);
        double t1 = now_s();
        wex_module_t *l = wex_cache_load(fsfull, hash, e);
        t[r] = now_s() - t1;
        if (!l) fail("filesystem load (full check) missed", NULL);
        wex_module_delete(l);
        wex_engine_delete(e);
    }
    double t_fsfull = median(t, runs);

    /* in memory: one engine whose module is already in the layer */
    wex_cache_t *sh = wex_cache_shared_new(0), *tl = wex_cache_thread_local_new(0);
    wex_cache_save(sh, hash, cold, m);
    wex_cache_save(tl, hash, cold, m);
    enum { MEM_RUNS = 2000 };
    for (int r = 0; r < MEM_RUNS; r++) {
        double t1 = now_s();
        wex_module_t *l = wex_cache_load(sh, hash, cold);
        t[r] = now_s() - t1;
        if (l != m) fail("shared load missed", NULL);
        wex_module_delete(l);
    }
    double t_sh = median(t, MEM_RUNS);
    for (int r = 0; r < MEM_RUNS; r++) {
        double t1 = now_s();
        wex_module_t *l = wex_cache_load(tl, hash, cold);
        t[r] = now_s() - t1;
        if (l != m) fail("thread-local load missed", NULL);
        wex_module_delete(l);
    }
    double t_tl = median(t, MEM_RUNS);

    /* end to end: wex_module_new with the default chain (hash, then the
     * layers), in a fresh engine (filesystem hit) and again (thread-local) */
    for (int r = 0; r < runs; r++) {
        wex_engine_t *e = engine_with(wex_cache_default_new(dir));
        wex_module_t *l = NULL;
        double t1 = now_s();
        wex_error_t *err = wex_module_new(e, bytes, (size_t)len, &l);
        t[r] = now_s() - t1;
        if (err) fail("wex_module_new", err);
        wex_module_delete(l);
        wex_engine_delete(e);
    }
    double t_new_fs = median(t, runs);
    wex_engine_t *ew = engine_with(wex_cache_default_new(dir));
    for (int r = 0; r <= runs; r++) {
        wex_module_t *l = NULL;
        double t1 = now_s();
        wex_error_t *err = wex_module_new(ew, bytes, (size_t)len, &l);
        if (r) t[r - 1] = now_s() - t1;
        if (err) fail("wex_module_new", err);
        wex_module_delete(l);
    }
    double t_new_tl = median(t, runs);
    wex_engine_delete(ew);

    char extra[128];
    printf("module: %s (%ld bytes, %zu exports)\n", file, len, wex_module_export_count(m));
    printf("engine id: %s; medians of %d runs (in-memory layers: %d)\n", wex_engine_id(cold), runs,
           MEM_RUNS);
    print_time("cold compile (decode+validate+translate)", t_cold, "");
    print_time("module hash (SHA-256)", t_hash, "");
    snprintf(extra, sizeof extra, "  (artifact %llu bytes)", (unsigned long long)st.bytes);
    print_time("artifact write (filesystem save)", t_save, extra);
    snprintf(extra, sizeof extra, "  (%.0fx faster than cold compile)", t_cold / t_fs);
    print_time("warm load: filesystem layer", t_fs, extra);
    snprintf(extra, sizeof extra, "  (%.0fx faster than cold compile)", t_cold / t_fsfull);
    print_time("warm load: filesystem layer, full check", t_fsfull, extra);
    print_time("warm load: shared layer", t_sh, "");
    print_time("warm load: thread-local layer", t_tl, "");
    print_time("wex_module_new, new engine (hash + fs load)", t_new_fs, "");
    print_time("wex_module_new, same engine (hash + t-l hit)", t_new_tl, "");

    wex_cache_delete(sh);
    wex_cache_delete(tl);
    wex_cache_delete(fs);
    wex_cache_delete(fsfull);
    wex_module_delete(m);
    wex_engine_delete(cold);
    if (own_dir) {
        wex_error_t *err = wex_cache_dir_clean(dir, NULL);
        wex_error_delete(err);
        rmdir(dir);
    }
    free(t);
    free(bytes);
    return 0;
}
