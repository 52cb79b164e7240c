/*
 * bench_cache.c - wex-bench-cache FILE.wasm: what the compiled-module cache
 * saves. Prints the time to compile the module cold (decode, validate,
 * translate), to hash it, to write its artifact, and to load it warm from
 * each layer: filesystem (a fresh engine: open, map, check, rebuild the
 * tables), shared in-process and thread-local (a lookup and a reference).
 * Uses a temporary cache directory (or --cache-dir DIR) and removes it.
 *
 * For a WASI program it then prints what the lazy checks of a loaded
 * artifact cost (src/cache/artifact.c): the first instantiation (data and
 * image checked once) against a second, the first run of `_start ARG`
 * (each function checked on its first call) against a second, and the
 * checks alone: of the functions that run, and of every function.
 *
 *   wex-bench-cache [--runs N] [--cache-dir DIR] [--arg ARG] FILE.wasm
 */
#include "cache/cache.h" /* the lazy-check record, to time the checks alone */
#include "interp/interp.h"
#include "wex.h"
#include "wex_cache.h"
#include "wex_wasi.h"

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

/* Instantiate m in a new store and run `_start arg`; the seconds of each. */
static void run_start(wex_engine_t *e, wex_module_t *m, const char *arg, double *t_inst,
                      double *t_run) {
    wex_wasi_config_t *wc = wex_wasi_config_new();
    wex_wasi_config_arg(wc, "prog");
    wex_wasi_config_arg(wc, arg);
    wex_wasi_config_capture(wc, 1);
    wex_wasi_t *w;
    wex_error_t *err = wex_wasi_new(wc, &w);
    if (err) fail("wasi", err);
    wex_store_t *s = wex_store_new(e);
    size_t ni = wex_module_import_count(m);
    wex_extern_t *imp = calloc(ni ? ni : 1, sizeof *imp);
    if ((err = wex_wasi_link(w, s, m, imp))) fail("link", err);
    wex_instance_t *inst;
    double t0 = now_s();
    if ((err = wex_instance_new(s, m, imp, ni, &inst))) fail("instantiate", err);
    *t_inst = now_s() - t0;
    if ((err = wex_wasi_bind_memory(w, inst))) fail("bind memory", err);
    int code = 0;
    t0 = now_s();
    if ((err = wex_wasi_run_start(w, s, inst, &code))) fail("run", err);
    *t_run = now_s() - t0;
    free(imp);
    wex_store_delete(s);
    wex_wasi_delete(w);
}

/* The lazy checks' costs (see the top), on fresh loads from the fs layer. */
static void lazy_costs(wex_cache_t *fs, const uint8_t *hash, const char *arg, int runs, double *t) {
    double *ti1 = calloc((size_t)runs, sizeof *ti1), *ti2 = calloc((size_t)runs, sizeof *ti2);
    double *tr1 = calloc((size_t)runs, sizeof *tr1), *tr2 = calloc((size_t)runs, sizeof *tr2);
    double *tall = calloc((size_t)runs, sizeof *tall);
    uint32_t nran = 0, nfuncs = 0;
    for (int r = 0; r < runs; r++) {
        wex_engine_t *e = engine_with(NULL);
        wex_module_t *l = wex_cache_load(fs, hash, e);
        if (!l || !l->compiled->lazy) fail("lazy load", NULL);
        run_start(e, l, arg, &ti1[r], &tr1[r]);
        run_start(e, l, arg, &ti2[r], &tr2[r]);
        /* which functions the run checked, then the checks alone on a fresh
         * load (so that the code pages are mapped anew, as in a real first
         * run): those functions, and every function */
        const wex__compiled *c = l->compiled;
        nfuncs = c->nfuncs;
        uint8_t *ran = calloc(nfuncs ? nfuncs : 1, 1);
        nran = 0;
        for (uint32_t i = 0; i < nfuncs; i++)
            nran += ran[i] = c->funcs[i].code_off == c->lazy->real_off[i];
        wex_module_delete(l);
        for (int pass = 0; pass < 2; pass++) {
            l = wex_cache_load(fs, hash, e);
            c = l->compiled;
            double t0 = now_s();
            for (uint32_t i = 0; i < nfuncs; i++)
                if ((pass || ran[i]) && c->lazy->verify(c->lazy, c, i)) fail("check", NULL);
            (pass ? tall : t)[r] = now_s() - t0;
            wex_module_delete(l);
        }
        free(ran);
        wex_engine_delete(e);
    }
    char extra[128];
    printf("lazy checks of a loaded artifact (`_start %s`, fresh loads):\n", arg);
    print_time("  first instantiation (data + image checked)", median(ti1, runs), "");
    print_time("  second instantiation", median(ti2, runs), "");
    print_time("  first run (functions checked on first call)", median(tr1, runs), "");
    print_time("  second run (all checked already)", median(tr2, runs), "");
    snprintf(extra, sizeof extra, "  (%u of %u functions)", nran, nfuncs);
    print_time("  checks of the functions the run called", median(t, runs), extra);
    print_time("  checks of every function", median(tall, runs), "");
    free(ti1);
    free(ti2);
    free(tr1);
    free(tr2);
    free(tall);
}

/* A module without imports: the first instantiation of a fresh load (data
 * and image checked once) against a second. */
static void inst_costs(wex_cache_t *fs, const uint8_t *hash, int runs, double *t) {
    double *t2 = calloc((size_t)runs, sizeof *t2);
    for (int r = 0; r < runs; r++) {
        wex_engine_t *e = engine_with(NULL);
        wex_module_t *l = wex_cache_load(fs, hash, e);
        if (!l) fail("load", NULL);
        for (int k = 0; k < 2; k++) {
            wex_store_t *s = wex_store_new(e);
            wex_instance_t *inst;
            double t0 = now_s();
            wex_error_t *err = wex_instance_new(s, l, NULL, 0, &inst);
            (k ? t2 : t)[r] = now_s() - t0;
            if (err) fail("instantiate", err);
            wex_store_delete(s);
        }
        wex_module_delete(l);
        wex_engine_delete(e);
    }
    printf("a loaded artifact's instantiation (fresh loads):\n");
    print_time("  first instantiation (data + image checked)", median(t, runs), "");
    print_time("  second instantiation", median(t2, runs), "");
    free(t2);
}

int main(int argc, char **argv) {
    int runs = 5;
    const char *file = NULL, *dir = NULL, *arg = "1000";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--runs") && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--arg") && i + 1 < argc)
            arg = argv[++i];
        else if (!strcmp(argv[i], "--cache-dir") && i + 1 < argc)
            dir = argv[++i];
        else
            file = argv[i];
    }
    if (!file || runs < 1) {
        fprintf(stderr,
                "usage: wex-bench-cache [--runs N] [--cache-dir DIR] [--arg ARG] FILE.wasm\n");
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
    if (wex_wasi_module_uses_wasi(m))
        lazy_costs(fs, hash, arg, runs, t);
    else if (!wex_module_import_count(m))
        inst_costs(fs, hash, runs, t);

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
