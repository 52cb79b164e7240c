/*
 * test_cache.c - the compiled-module cache: keys, artifacts (round trip,
 * relocation, the memory image), every layer, fallback promotion, eviction
 * bounds, threads and processes sharing one directory, and fault injection
 * (truncated, flipped, foreign, unreadable, full) - each fault ending in a
 * correct run of the module. Every directory is a fresh temporary one.
 */
#include "cache/cache.h"
#include "harness.h"
#include "interp/interp.h"
#include "wex.h"
#include "wex_cache.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Header fields the fault tests damage or read (artifact.c's header_t:
 * each section's offset, then its length 8 bytes later). */
enum {
    OFF_VERSION = 8,
    OFF_ENGINE_ID = 16,
    OFF_META_OFF = 80,
    OFF_CODE_OFF = 104,
    OFF_BYTES_OFF = 128,
    OFF_IMAGE_OFF = 152,
    OFF_PCMAP_OFF = 176,
    OFF_BODIES_OFF = 200,
    OFF_NATIVE_OFF = 224, /* tests/suites/native.sh damages this one */
    OFF_NSTUBS = 248
};

static char *tmpdir(void) {
    char *d = strdup("/tmp/wex-cache-test-XXXXXX");
    CHECK(d && mkdtemp(d));
    return d;
}

static void rm_rf(const char *path) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    CHECK(system(cmd) == 0);
}

/* An engine whose cache is exactly `cache` (NULL: none); takes the reference. */
static wex_engine_t *engine_with(wex_cache_t *cache) {
    wex_config_t *cfg = wex_config_new();
    wex_config_set_cache(cfg, cache);
    wex_cache_delete(cache);
    wex_engine_t *e = wex_engine_new(cfg);
    CHECK(e != NULL);
    return e;
}

static wex_engine_t *fs_engine(const char *dir, wex_cache_verify_t verify) {
    return engine_with(wex_cache_fs_new(dir, 0, 0, verify));
}

static uint8_t *wasm(const char *name, size_t *len) {
    return wex_test_read_wasm(name, len);
}

static wex_module_t *compile(wex_engine_t *e, const uint8_t *b, size_t n) {
    wex_module_t *m = NULL;
    wex_error_t *err = wex_module_new(e, b, n, &m);
    if (err) wex_test_fail(__FILE__, __LINE__, "compile: %s", wex_error_message(err));
    return m;
}

static int64_t call(wex_store_t *s, wex_instance_t *inst, const char *name, int nargs, int32_t a,
                    int32_t b) {
    wex_extern_t ex;
    if (!wex_instance_export(inst, name, strlen(name), &ex))
        wex_test_fail(__FILE__, __LINE__, "no export %s", name);
    wex_val_t args[2] = {wex_val_i32(a), wex_val_i32(b)}, res[1];
    wex_error_t *err = wex_func_call(s, ex.of.func, args, (size_t)nargs, res, 1);
    if (err) {
        int64_t code = -1000 - (int64_t)wex_error_trap_code(err);
        wex_error_delete(err);
        return code;
    }
    return res[0].kind == WEX_I64 ? res[0].of.i64 : res[0].of.i32;
}

/* Run cache.wasm's exports and check every result: the module works,
 * whether it was compiled or loaded. */
static void check_cache_module(wex_engine_t *e, wex_module_t *m) {
    wex_store_t *s = wex_store_new(e);
    wex_instance_t *inst;
    wex_error_t *err = wex_instance_new(s, m, NULL, 0, &inst);
    if (err) wex_test_fail(__FILE__, __LINE__, "instance: %s", wex_error_message(err));
    CHECK_EQ_INT(call(s, inst, "dispatch", 2, 0, 21), 42);
    CHECK_EQ_INT(call(s, inst, "dispatch", 2, 1, 9), 81);
    CHECK_EQ_INT(call(s, inst, "dispatch", 2, 2, 1), 8);
    CHECK_EQ_INT(call(s, inst, "dispatch0", 1, 3, 0), 7);
    /* wrong type through call_indirect, in both directions */
    CHECK_EQ_INT(call(s, inst, "dispatch0", 1, 0, 0), -1000 - WEX_TRAP_INDIRECT_CALL_TYPE);
    CHECK_EQ_INT(call(s, inst, "dispatch", 2, 3, 0), -1000 - WEX_TRAP_INDIRECT_CALL_TYPE);
    CHECK_EQ_INT(call(s, inst, "load8", 1, 16, 0), 'h');
    CHECK_EQ_INT(call(s, inst, "load8", 1, 27, 0), 'e');
    CHECK_EQ_INT(call(s, inst, "init_passive", 0, 0, 0), 's');
    CHECK_EQ_INT(call(s, inst, "bump", 0, 0, 0), 8);
    CHECK_EQ_INT(call(s, inst, "k", 0, 0, 0), 1234567890123LL);
    wex_extern_t ex;
    CHECK(wex_instance_export(inst, "answer", 6, &ex) && ex.kind == WEX_EXTERN_GLOBAL);
    CHECK_EQ_INT(wex_global_get(ex.of.global).of.i32, 42);
    wex_store_delete(s);
}

static void entry_path(const char *dir, wex_engine_t *e, const uint8_t *b, size_t n, char *out,
                       size_t len) {
    uint8_t h[32];
    wex_module_hash(b, n, h);
    int k = snprintf(out, len, "%s/%s/", dir, wex_engine_id(e));
    for (int i = 0; i < 32; i++)
        k += snprintf(out + k, len - (size_t)k, "%02x", h[i]);
    snprintf(out + k, len - (size_t)k, ".cwasm");
}

static bool exists(const char *p) {
    struct stat st;
    return stat(p, &st) == 0;
}

static size_t count_files(const char *dir) {
    char sub[512];
    DIR *top = opendir(dir);
    size_t n = 0;
    struct dirent *de;
    while (top && (de = readdir(top))) {
        if (de->d_name[0] == '.') continue;
        snprintf(sub, sizeof sub, "%s/%s", dir, de->d_name);
        DIR *d = opendir(sub);
        struct dirent *fe;
        while (d && (fe = readdir(d)))
            if (strcmp(fe->d_name, ".") && strcmp(fe->d_name, "..")) n++;
        if (d) closedir(d);
    }
    if (top) closedir(top);
    return n;
}

/* ------------------------------------------------------------ keys */

TEST(module_hash_is_sha256) {
    uint8_t h[32];
    wex_module_hash((const uint8_t *)"abc", 3, h);
    static const uint8_t want[4] = {0xba, 0x78, 0x16, 0xbf}; /* SHA-256("abc") */
    CHECK(memcmp(h, want, 4) == 0);
    CHECK_EQ_INT(h[31], 0xad);
}

TEST(engine_id_is_deterministic_and_setting_dependent) {
    wex_engine_t *a = engine_with(NULL), *b = engine_with(NULL);
    CHECK_EQ_INT(strlen(wex_engine_id(a)), 32);
    CHECK(strcmp(wex_engine_id(a), wex_engine_id(b)) == 0);
    wex_config_t *cfg = wex_config_new();
    wex_config_set_cache(cfg, NULL);
    wex_config_set_bounds_checks(cfg, wex_engine_bounds_checks(a) == WEX_BOUNDS_EXPLICIT
                                          ? WEX_BOUNDS_GUARD_PAGES
                                          : WEX_BOUNDS_EXPLICIT);
    wex_engine_t *c = wex_engine_new(cfg);
    if (wex_engine_bounds_checks(c) != wex_engine_bounds_checks(a))
        CHECK(strcmp(wex_engine_id(a), wex_engine_id(c)) != 0);
    wex_engine_delete(a);
    wex_engine_delete(b);
    wex_engine_delete(c);
}

/* ------------------------------------------------------- artifacts */

TEST(artifact_round_trip) {
    char *dir = tmpdir(), path[600];
    snprintf(path, sizeof path, "%s/m.cwasm", dir);
    size_t n;
    uint8_t *b = wasm("cache.wasm", &n);
    wex_engine_t *e = engine_with(NULL);
    wex_module_t *m = compile(e, b, n);
    wex_error_t *err = wex_module_serialize(m, path);
    CHECK(err == NULL);
    wex_module_t *l = NULL;
    err = wex_module_deserialize_file(e, path, &l);
    if (err) wex_test_fail(__FILE__, __LINE__, "load: %s", wex_error_message(err));
    CHECK(wex__cache_is_mapped(l));
    CHECK_EQ_INT(wex_module_export_count(l), wex_module_export_count(m));
    for (size_t i = 0; i < wex_module_export_count(m); i++) {
        wex_exportdesc_t x, y;
        wex_module_export(m, i, &x);
        wex_module_export(l, i, &y);
        CHECK(x.name_len == y.name_len && !memcmp(x.name, y.name, x.name_len));
        CHECK(x.kind == y.kind && x.index == y.index);
    }
    /* the code runs in place from the mapping */
    const uint8_t *map = l->cache->map;
    CHECK((const uint8_t *)l->compiled->code > map &&
          (const uint8_t *)l->compiled->code < map + l->cache->map_len);
    CHECK(l->bytes > map && l->bytes < map + l->cache->map_len);
    CHECK_EQ_INT(l->compiled->code_len, m->compiled->code_len);
    check_cache_module(e, l);
    check_cache_module(e, m);
    /* and a loaded module serializes again */
    char path2[620];
    snprintf(path2, sizeof path2, "%s/again.cwasm", dir);
    CHECK(wex_module_serialize(l, path2) == NULL);
    wex_module_t *l2;
    CHECK(wex_module_deserialize_file_ex(e, path2, l->cache->hash, WEX_CACHE_VERIFY_FULL, &l2) ==
          NULL);
    check_cache_module(e, l2);
    wex_module_delete(l2);
    wex_module_delete(l);
    wex_module_delete(m);
    wex_engine_delete(e);
    free(b);
    rm_rf(dir);
    free(dir);
}

/* A second engine that numbers function types differently must get working
 * call_indirect: the loader relocates the type ids in the code. */
TEST(artifact_relocates_type_ids) {
    char *dir = tmpdir(), path[600];
    snprintf(path, sizeof path, "%s/m.cwasm", dir);
    size_t n, fn;
    uint8_t *b = wasm("cache.wasm", &n), *f = wasm("kernels.wasm", &fn);
    wex_engine_t *e = engine_with(NULL);
    wex_module_t *m = compile(e, b, n);
    CHECK(wex_module_serialize(m, path) == NULL);
    wex_engine_t *e2 = engine_with(NULL);
    wex_module_t *other = compile(e2, f, fn); /* interns other types first */
    wex_module_t *l;
    CHECK(wex_module_deserialize_file(e2, path, &l) == NULL);
    bool moved = false;
    for (uint32_t i = 0; i < l->ntypes; i++)
        moved |= l->types[i].canon != m->types[i].canon;
    CHECK(moved);
    CHECK(l->compiled->ntyrel >= 2);
    check_cache_module(e2, l);
    wex_module_delete(l);
    wex_module_delete(other);
    wex_module_delete(m);
    wex_engine_delete(e2);
    wex_engine_delete(e);
    free(b);
    free(f);
    rm_rf(dir);
    free(dir);
}

static int image_released;
static void test_image_release(wex__image *img) {
    free((void *)img->bytes);
    image_released++;
}

/* The memory image (module/image.h) travels page-aligned in the file and
 * comes back as (fd, fd_offset) of the artifact plus bytes in the mapping. */
TEST(artifact_carries_memory_image) {
    char *dir = tmpdir(), path[600];
    snprintf(path, sizeof path, "%s/m.cwasm", dir);
    size_t n;
    uint8_t *b = wasm("cache.wasm", &n);
    wex_engine_t *e = engine_with(NULL);
    wex_module_t *m = compile(e, b, n);
    uint64_t size = 2 * WEX__IMAGE_ALIGN;
    uint8_t *img = calloc(1, size);
    memcpy(img + 16, "hello, cache", 12);
    img[size - 1] = 0x5a;
    if (m->image.release) m->image.release(&m->image); /* the one compiling built */
    m->image = (wex__image){size, img, -1, 0, NULL, test_image_release};
    CHECK(wex_module_serialize(m, path) == NULL);
    wex_module_t *l;
    CHECK(wex_module_deserialize_file_ex(e, path, NULL, WEX_CACHE_VERIFY_FULL, &l) == NULL);
    CHECK_EQ_INT(l->image.size, size);
    CHECK(l->image.fd >= 0);
    CHECK_EQ_INT(l->image.fd_offset % WEX__IMAGE_ALIGN, 0);
    CHECK(l->image.no_image == NULL && l->image.release != NULL);
    CHECK(memcmp(l->image.bytes, img, size) == 0);
    /* mapping the descriptor where the image says gives the same bytes */
    uint8_t *p = mmap(NULL, size, PROT_READ, MAP_PRIVATE, l->image.fd, (off_t)l->image.fd_offset);
    CHECK(p != MAP_FAILED);
    CHECK(memcmp(p, img, size) == 0);
    munmap(p, size);
    int fd = l->image.fd;
    check_cache_module(e, l);
    wex_module_delete(l);
    CHECK(fcntl(fd, F_GETFD) < 0); /* released with the module */
    wex_module_delete(m);
    CHECK_EQ_INT(image_released, 1);
    /* no image: the reason travels */
    m = compile(e, b, n);
    if (m->image.release) m->image.release(&m->image);
    m->image = (wex__image){0, NULL, -1, 0, "memory 0 is imported", NULL};
    CHECK(wex_module_serialize(m, path) == NULL);
    CHECK(wex_module_deserialize_file(e, path, &l) == NULL);
    CHECK_EQ_INT(l->image.size, 0);
    CHECK(l->image.no_image && !strcmp(l->image.no_image, "memory 0 is imported"));
    wex_module_delete(l);
    wex_module_delete(m);
    wex_engine_delete(e);
    free(b);
    rm_rf(dir);
    free(dir);
}

TEST(artifact_of_wasi_program_runs) {
    /* a real C program (many functions, data, names) through the CLI path */
    size_t n;
    uint8_t *b = wasm("kernels.wasm", &n);
    char *dir = tmpdir(), path[600];
    snprintf(path, sizeof path, "%s/k.cwasm", dir);
    wex_engine_t *e = engine_with(NULL);
    wex_module_t *m = compile(e, b, n);
    CHECK(wex_module_serialize(m, path) == NULL);
    wex_module_t *l;
    CHECK(wex_module_deserialize_file(e, path, &l) == NULL);
    for (int which = 0; which < 2; which++) {
        wex_store_t *s = wex_store_new(e);
        wex_instance_t *inst;
        CHECK(wex_instance_new(s, which ? l : m, NULL, 0, &inst) == NULL);
        CHECK_EQ_INT(call(s, inst, "sieve", 1, 1000, 0), 168);
        CHECK_EQ_INT(call(s, inst, "fnv", 1, 1000, 0),
                     which ? call(s, inst, "fnv", 1, 1000, 0) : call(s, inst, "fnv", 1, 1000, 0));
        wex_store_delete(s);
    }
    wex_module_delete(l);
    wex_module_delete(m);
    wex_engine_delete(e);
    free(b);
    rm_rf(dir);
    free(dir);
}

/* ----------------------------------------------------------- layers */

typedef struct {
    wex_cache_t *cache;
    wex_engine_t *engine;
    const uint8_t *hash;
    wex_module_t *got;
} tl_arg;

static void *load_in_thread(void *p) {
    tl_arg *a = p;
    a->got = wex_cache_load(a->cache, a->hash, a->engine);
    return NULL;
}

TEST(thread_local_layer_is_per_thread) {
    size_t n;
    uint8_t *b = wasm("cache.wasm", &n), h[32];
    wex_module_hash(b, n, h);
    wex_cache_t *tl = wex_cache_thread_local_new(0);
    wex_engine_t *e = engine_with(wex_cache_retain(tl));
    wex_module_t *m = compile(e, b, n); /* saved into tl by wex_module_new */
    wex_module_t *hit = wex_cache_load(tl, h, e);
    CHECK(hit == m);
    tl_arg a = {tl, e, h, NULL};
    pthread_t t;
    pthread_create(&t, NULL, load_in_thread, &a);
    pthread_join(t, NULL);
    CHECK(a.got == NULL);
    /* another engine (same id) does not see this engine's modules */
    wex_engine_t *e2 = engine_with(NULL);
    CHECK(wex_cache_load(tl, h, e2) == NULL);
    wex_module_delete(hit);
    wex_module_delete(m);
    wex_engine_delete(e2);
    wex_engine_delete(e);
    wex_cache_delete(tl);
    free(b);
}

TEST(shared_layer_shares_one_module_across_threads) {
    size_t n;
    uint8_t *b = wasm("cache.wasm", &n), h[32];
    wex_module_hash(b, n, h);
    wex_cache_t *sh = wex_cache_shared_new(0);
    wex_engine_t *e = engine_with(wex_cache_retain(sh));
    wex_module_t *m = compile(e, b, n);
    tl_arg a = {sh, e, h, NULL};
    pthread_t t;
    pthread_create(&t, NULL, load_in_thread, &a);
    pthread_join(t, NULL);
    CHECK(a.got == m); /* the same module, no copy */
    wex_cache_stats_t st;
    wex_cache_stats(sh, &st);
    CHECK_EQ_INT(st.entries, 1);
    CHECK(st.hits >= 1);
    wex_module_delete(a.got);
    /* the module outlives the caller's reference while the layer holds it */
    wex_module_delete(m);
    wex_module_t *again = compile(e, b, n);
    check_cache_module(e, again);
    wex_module_delete(again);
    wex_engine_delete(e);
    wex_cache_stats(sh, &st);
    CHECK_EQ_INT(st.entries, 0); /* the engine's entries went with it */
    wex_cache_delete(sh);
    free(b);
}

TEST(shared_layer_eviction_is_bounded_and_lru) {
    const char *names[3] = {"cache.wasm", "kernels.wasm", "fib.wasm"};
    uint8_t *b[3], h[3][32];
    size_t n[3];
    wex_engine_t *e = engine_with(NULL);
    wex_module_t *m[3];
    uint64_t fp[3];
    for (int i = 0; i < 3; i++) {
        b[i] = wasm(names[i], &n[i]);
        wex_module_hash(b[i], n[i], h[i]);
        m[i] = compile(e, b[i], n[i]);
        fp[i] = wex__cache_module_footprint(m[i]);
    }
    uint64_t max = fp[0] + fp[1] + fp[2] - 1; /* not all three */
    wex_cache_t *sh = wex_cache_shared_new(max);
    wex_cache_save(sh, h[0], e, m[0]);
    wex_cache_save(sh, h[1], e, m[1]);
    wex_module_t *x = wex_cache_load(sh, h[0], e); /* 0 is now more recent than 1 */
    CHECK(x == m[0]);
    wex_module_delete(x);
    wex_cache_save(sh, h[2], e, m[2]);
    wex_cache_stats_t st;
    wex_cache_stats(sh, &st);
    CHECK(st.bytes <= max);
    CHECK(st.evictions >= 1);
    CHECK((x = wex_cache_load(sh, h[1], e)) == NULL); /* the least recently used went */
    CHECK((x = wex_cache_load(sh, h[2], e)) == m[2]);
    wex_module_delete(x);
    /* a module larger than the bound is not kept */
    wex_cache_t *tiny = wex_cache_shared_new(16);
    wex_cache_save(tiny, h[0], e, m[0]);
    CHECK(wex_cache_load(tiny, h[0], e) == NULL);
    wex_cache_delete(tiny);
    wex_cache_delete(sh);
    for (int i = 0; i < 3; i++) {
        wex_module_delete(m[i]);
        free(b[i]);
    }
    wex_engine_delete(e);
}

TEST(fs_layer_round_trip_across_engines) {
    char *dir = tmpdir();
    size_t n;
    uint8_t *b = wasm("cache.wasm", &n);
    wex_engine_t *e = fs_engine(dir, WEX_CACHE_VERIFY_FAST);
    wex_module_t *m = compile(e, b, n);
    CHECK(!wex__cache_is_mapped(m));
    char path[700];
    entry_path(dir, e, b, n, path, sizeof path);
    CHECK(exists(path));
    wex_engine_t *e2 = fs_engine(dir, WEX_CACHE_VERIFY_FULL);
    wex_module_t *l = compile(e2, b, n);
    CHECK(wex__cache_is_mapped(l));
    check_cache_module(e2, l);
    wex_cache_stats_t st;
    wex_cache_stats(wex_engine_cache(e2), &st);
    CHECK_EQ_INT(st.hits, 1);
    CHECK_EQ_INT(st.entries, 1);
    CHECK_EQ_INT(count_files(dir), 1); /* no temporary file left */
    wex_module_delete(l);
    wex_module_delete(m);
    wex_engine_delete(e2);
    wex_engine_delete(e);
    /* clean empties it */
    uint64_t removed = 0;
    CHECK(wex_cache_dir_clean(dir, &removed) == NULL);
    CHECK_EQ_INT(removed, 1);
    CHECK_EQ_INT(count_files(dir), 0);
    free(b);
    rm_rf(dir);
    free(dir);
}

TEST(fs_layer_min_size_and_default_dir) {
    char *dir = tmpdir();
    size_t n;
    uint8_t *b = wasm("cache.wasm", &n);
    wex_engine_t *e = engine_with(wex_cache_fs_new(dir, 0, n + 1, WEX_CACHE_VERIFY_FAST));
    wex_module_delete(compile(e, b, n));
    CHECK_EQ_INT(count_files(dir), 0); /* smaller than the minimum: not written */
    wex_engine_delete(e);
    char buf[512];
    setenv("XDG_CACHE_HOME", dir, 1);
    CHECK(wex_cache_default_dir(buf, sizeof buf));
    char want[512];
    snprintf(want, sizeof want, "%s/wex", dir);
    CHECK(!strcmp(buf, want));
    unsetenv("XDG_CACHE_HOME");
    setenv("HOME", "/nonexistent-home", 1);
    CHECK(wex_cache_default_dir(buf, sizeof buf));
    CHECK(!strcmp(buf, "/nonexistent-home/.cache/wex"));
    free(b);
    rm_rf(dir);
    free(dir);
}

TEST(fallback_promotes_hits_into_faster_layers) {
    char *dir = tmpdir();
    size_t n;
    uint8_t *b = wasm("cache.wasm", &n), h[32];
    wex_module_hash(b, n, h);
    /* fill the directory with another engine */
    wex_engine_t *e0 = fs_engine(dir, WEX_CACHE_VERIFY_FAST);
    wex_module_delete(compile(e0, b, n));
    wex_engine_delete(e0);

    wex_cache_t *tl = wex_cache_thread_local_new(0), *sh = wex_cache_shared_new(0),
                *fs = wex_cache_fs_new(dir, 0, 0, WEX_CACHE_VERIFY_FAST);
    wex_cache_t *chain = wex_cache_with_fallback(
        wex_cache_retain(tl), wex_cache_with_fallback(wex_cache_retain(sh), wex_cache_retain(fs)));
    wex_engine_t *e = engine_with(chain);
    wex_module_t *m = compile(e, b, n); /* tl miss, shared miss, fs hit */
    CHECK(wex__cache_is_mapped(m));
    wex_cache_stats_t a, s, f;
    wex_cache_stats(tl, &a);
    wex_cache_stats(sh, &s);
    wex_cache_stats(fs, &f);
    CHECK_EQ_INT(a.misses, 1);
    CHECK_EQ_INT(s.misses, 1);
    CHECK_EQ_INT(f.hits, 1);
    CHECK_EQ_INT(s.entries, 1); /* promoted */
    CHECK_EQ_INT(a.entries, 1);
    wex_module_t *m2 = compile(e, b, n); /* now a thread-local hit */
    CHECK(m2 == m);
    wex_cache_stats(tl, &a);
    wex_cache_stats(sh, &s);
    CHECK_EQ_INT(a.hits, 1);
    CHECK_EQ_INT(s.hits, 0);
    /* another thread: thread-local miss, shared hit, promoted into its own */
    tl_arg t = {wex_engine_cache(e), e, h, NULL};
    pthread_t th;
    pthread_create(&th, NULL, load_in_thread, &t);
    pthread_join(th, NULL);
    CHECK(t.got == m);
    wex_cache_stats(sh, &s);
    CHECK_EQ_INT(s.hits, 1);
    check_cache_module(e, m);
    wex_module_delete(t.got);
    wex_module_delete(m2);
    wex_module_delete(m);
    wex_engine_delete(e);
    wex_cache_delete(tl);
    wex_cache_delete(sh);
    wex_cache_delete(fs);
    free(b);
    rm_rf(dir);
    free(dir);
}

TEST(fs_layer_eviction_is_bounded) {
    char *dir = tmpdir();
    const char *names[3] = {"cache.wasm", "kernels.wasm", "fib.wasm"};
    /* measure one entry, then bound the directory below two of them */
    uint64_t sizes[3] = {0};
    for (int i = 0; i < 3; i++) {
        size_t n;
        uint8_t *b = wasm(names[i], &n);
        char sub[600];
        snprintf(sub, sizeof sub, "%s/m%d", dir, i);
        wex_engine_t *e = fs_engine(sub, WEX_CACHE_VERIFY_FAST);
        wex_module_delete(compile(e, b, n));
        wex_cache_stats_t st;
        CHECK(wex_cache_dir_stats(sub, &st) == NULL);
        CHECK_EQ_INT(st.entries, 1);
        sizes[i] = st.bytes;
        wex_engine_delete(e);
        free(b);
    }
    uint64_t max = sizes[0] + sizes[1] + sizes[2] - 1;
    char one[600];
    snprintf(one, sizeof one, "%s/bounded", dir);
    wex_engine_t *e = engine_with(wex_cache_fs_new(one, max, 0, WEX_CACHE_VERIFY_FAST));
    for (int i = 0; i < 3; i++) {
        size_t n;
        uint8_t *b = wasm(names[i], &n);
        wex_module_delete(compile(e, b, n));
        free(b);
        usleep(20000); /* distinct modification times */
    }
    wex_cache_stats_t st;
    CHECK(wex_cache_dir_stats(one, &st) == NULL);
    CHECK(st.bytes <= max);
    CHECK_EQ_INT(st.entries, 2);
    wex_cache_stats(wex_engine_cache(e), &st);
    CHECK_EQ_INT(st.evictions, 1);
    /* the oldest (cache.wasm) went */
    size_t n;
    uint8_t *b = wasm("cache.wasm", &n);
    char path[700];
    entry_path(one, e, b, n, path, sizeof path);
    CHECK(!exists(path));
    free(b);
    wex_engine_delete(e);
    rm_rf(dir);
    free(dir);
}

/* ----------------------------------------------------------- faults */

typedef enum {
    F_TRUNCATE,
    F_FLIP_META,
    F_FLIP_CODE,
    F_ENGINE_ID,
    F_VERSION,
    F_HASH,
    F_EMPTY
} fault_t;

static void poke(const char *path, long off, uint8_t xor_with) {
    int fd = open(path, O_RDWR);
    CHECK(fd >= 0);
    uint8_t c;
    CHECK(pread(fd, &c, 1, off) == 1);
    c ^= xor_with;
    CHECK(pwrite(fd, &c, 1, off) == 1);
    close(fd);
}

static uint64_t read64(const char *path, long off) {
    int fd = open(path, O_RDONLY);
    uint64_t v = 0;
    CHECK(fd >= 0 && pread(fd, &v, 8, off) == 8);
    close(fd);
    return v;
}

/* Damage the entry, then compile again with a new engine: the entry must be
 * refused (a miss), deleted, the module recompiled and run correctly, and
 * the entry written anew. */
static void fault_case(fault_t fault) {
    char *dir = tmpdir();
    size_t n, on;
    uint8_t *b = wasm("cache.wasm", &n), *o = wasm("fib.wasm", &on);
    wex_cache_verify_t verify =
        fault == F_FLIP_CODE ? WEX_CACHE_VERIFY_FULL : WEX_CACHE_VERIFY_FAST;
    wex_engine_t *e = fs_engine(dir, verify);
    wex_module_delete(compile(e, b, n));
    char path[700];
    entry_path(dir, e, b, n, path, sizeof path);
    CHECK(exists(path));
    struct stat st;
    CHECK(stat(path, &st) == 0);
    switch (fault) {
    case F_TRUNCATE: CHECK(truncate(path, st.st_size / 2) == 0); break;
    case F_EMPTY: CHECK(truncate(path, 0) == 0); break;
    case F_FLIP_META: poke(path, (long)read64(path, OFF_META_OFF) + 5, 0x40); break;
    case F_FLIP_CODE: poke(path, (long)read64(path, OFF_CODE_OFF) + 9, 0x01); break;
    case F_ENGINE_ID: poke(path, OFF_ENGINE_ID + 3, 0x10); break;
    case F_VERSION: poke(path, OFF_VERSION, 0x7f); break;
    case F_HASH: {
        /* another module's artifact under this module's name */
        wex_module_delete(compile(e, o, on));
        char other[700];
        entry_path(dir, e, o, on, other, sizeof other);
        CHECK(rename(other, path) == 0);
        break;
    }
    }
    /* the damaged file is refused, with a clear error */
    wex_module_t *l = NULL;
    uint8_t h[32];
    wex_module_hash(b, n, h);
    wex_error_t *err = wex_module_deserialize_file_ex(e, path, h, verify, &l);
    CHECK(err != NULL && l == NULL);
    CHECK_EQ_INT(wex_error_code(err), WEX_ERR_MALFORMED);
    const char *msg = wex_error_message(err);
    switch (fault) {
    case F_TRUNCATE:
    case F_EMPTY: CHECK_STR_CONTAINS(msg, "truncated"); break;
    case F_FLIP_META: CHECK_STR_CONTAINS(msg, "checksum mismatch (metadata)"); break;
    case F_FLIP_CODE: CHECK_STR_CONTAINS(msg, "checksum mismatch (code)"); break;
    case F_ENGINE_ID: CHECK_STR_CONTAINS(msg, "another engine"); break;
    case F_VERSION: CHECK_STR_CONTAINS(msg, "format version"); break;
    case F_HASH: CHECK_STR_CONTAINS(msg, "another module"); break;
    }
    wex_error_delete(err);

    wex_engine_t *e2 = fs_engine(dir, verify);
    wex_module_t *m = compile(e2, b, n);
    CHECK(!wex__cache_is_mapped(m)); /* recompiled */
    check_cache_module(e2, m);
    wex_cache_stats_t s;
    wex_cache_stats(wex_engine_cache(e2), &s);
    CHECK_EQ_INT(s.hits, 0);
    CHECK_EQ_INT(s.misses, 1);
    wex_module_delete(m);
    /* written anew, and good */
    wex_engine_t *e3 = fs_engine(dir, WEX_CACHE_VERIFY_FULL);
    m = compile(e3, b, n);
    CHECK(wex__cache_is_mapped(m));
    check_cache_module(e3, m);
    wex_module_delete(m);
    wex_engine_delete(e3);
    wex_engine_delete(e2);
    wex_engine_delete(e);
    free(b);
    free(o);
    rm_rf(dir);
    free(dir);
}

TEST(fault_truncated_file) {
    fault_case(F_TRUNCATE);
}
TEST(fault_empty_file) {
    fault_case(F_EMPTY);
}
TEST(fault_flipped_metadata_byte) {
    fault_case(F_FLIP_META);
}
TEST(fault_flipped_code_byte_full_verify) {
    fault_case(F_FLIP_CODE);
}
TEST(fault_wrong_engine_id) {
    fault_case(F_ENGINE_ID);
}
TEST(fault_wrong_format_version) {
    fault_case(F_VERSION);
}
TEST(fault_wrong_module_hash) {
    fault_case(F_HASH);
}

TEST(fault_unreadable_directory) {
    char *dir = tmpdir(), path[600];
    size_t n;
    uint8_t *b = wasm("cache.wasm", &n);
    /* the cache "directory" is a regular file: nothing can be read or written */
    snprintf(path, sizeof path, "%s/file", dir);
    FILE *f = fopen(path, "w");
    CHECK(f && fputs("x", f) >= 0 && fclose(f) == 0);
    for (int round = 0; round < 2; round++) {
        wex_engine_t *e = fs_engine(path, WEX_CACHE_VERIFY_FAST);
        wex_module_t *m = compile(e, b, n);
        check_cache_module(e, m);
        wex_module_delete(m);
        wex_engine_delete(e);
    }
    /* a directory without permissions (meaningful when not root) */
    char locked[600];
    snprintf(locked, sizeof locked, "%s/locked", dir);
    CHECK(mkdir(locked, 0) == 0);
    wex_engine_t *e = fs_engine(locked, WEX_CACHE_VERIFY_FAST);
    wex_module_t *m = compile(e, b, n);
    check_cache_module(e, m);
    wex_module_delete(m);
    wex_engine_delete(e);
    chmod(locked, 0700);
    free(b);
    rm_rf(dir);
    free(dir);
}

TEST(fault_full_directory) {
    /* a write failure: the file size limit stands in for a full disk */
    char *dir = tmpdir();
    size_t n;
    uint8_t *b = wasm("kernels.wasm", &n);
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl = {1024, 1024};
    CHECK(setrlimit(RLIMIT_FSIZE, &rl) == 0);
    wex_engine_t *e = fs_engine(dir, WEX_CACHE_VERIFY_FAST);
    wex_module_t *m = compile(e, b, n);
    wex_store_t *s = wex_store_new(e);
    wex_instance_t *inst;
    CHECK(wex_instance_new(s, m, NULL, 0, &inst) == NULL);
    CHECK_EQ_INT(call(s, inst, "sieve", 1, 1000, 0), 168);
    wex_store_delete(s);
    wex_module_delete(m);
    CHECK_EQ_INT(count_files(dir), 0); /* no entry, no temporary file */
    wex_engine_delete(e);
    free(b);
    rm_rf(dir);
    free(dir);
}

/* ------------------------------------------------------ concurrency */

typedef struct {
    wex_engine_t *engine; /* shared, or NULL: one engine per thread */
    const char *dir;
    int iters;
    int failures;
} worker_arg;

static bool run_one(wex_engine_t *e, const uint8_t *b, size_t n) {
    wex_module_t *m = NULL;
    wex_error_t *err = wex_module_new(e, b, n, &m);
    if (err) {
        wex_error_delete(err);
        return false;
    }
    wex_store_t *s = wex_store_new(e);
    wex_instance_t *inst;
    bool ok = wex_instance_new(s, m, NULL, 0, &inst) == NULL;
    wex_extern_t ex;
    wex_val_t args[2] = {wex_val_i32(1), wex_val_i32(12)}, res[1];
    ok = ok && wex_instance_export(inst, "dispatch", 8, &ex) &&
         wex_func_call(s, ex.of.func, args, 2, res, 1) == NULL && res[0].of.i32 == 144;
    wex_store_delete(s);
    wex_module_delete(m);
    return ok;
}

static void *worker(void *p) {
    worker_arg *a = p;
    size_t n;
    uint8_t *b = wasm("cache.wasm", &n);
    for (int i = 0; i < a->iters; i++) {
        wex_engine_t *e = a->engine;
        if (!e) e = engine_with(wex_cache_default_new(a->dir));
        if (!run_one(e, b, n)) a->failures++;
        if (!a->engine) wex_engine_delete(e);
    }
    free(b);
    return NULL;
}

TEST(threads_share_engine_and_directory) {
    char *dir = tmpdir();
    wex_engine_t *shared = engine_with(wex_cache_default_new(dir));
    enum { N = 6 };
    pthread_t t[N];
    worker_arg a[N];
    for (int i = 0; i < N; i++) {
        a[i] = (worker_arg){i % 2 ? shared : NULL, dir, 15, 0};
        pthread_create(&t[i], NULL, worker, &a[i]);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        CHECK_EQ_INT(a[i].failures, 0);
    }
    wex_engine_delete(shared);
    rm_rf(dir);
    free(dir);
}

/* Several processes write and read one directory at once, each deleting
 * entries (as eviction would) so that writes keep racing reads; every load
 * must be whole and every run correct. */
TEST(processes_share_directory) {
    char *dir = tmpdir();
    enum { P = 4, ITERS = 25 };
    const char *names[2] = {"cache.wasm", "kernels.wasm"};
    pid_t pids[P];
    for (int p = 0; p < P; p++) {
        pids[p] = fork();
        CHECK(pids[p] >= 0);
        if (pids[p] == 0) {
            int bad = 0;
            size_t n[2];
            uint8_t *b[2] = {wasm(names[0], &n[0]), wasm(names[1], &n[1])};
            for (int i = 0; i < ITERS; i++) {
                wex_engine_t *e =
                    fs_engine(dir, i % 3 ? WEX_CACHE_VERIFY_FAST : WEX_CACHE_VERIFY_FULL);
                if (!run_one(e, b[0], n[0])) bad++;
                wex_module_t *k = NULL;
                wex_error_t *err = wex_module_new(e, b[1], n[1], &k);
                if (err) bad++;
                wex_error_delete(err);
                wex_module_delete(k);
                if ((i + p) % 4 == 0) {
                    char path[700];
                    entry_path(dir, e, b[0], n[0], path, sizeof path);
                    unlink(path);
                }
                wex_engine_delete(e);
            }
            _exit(bad ? 1 : 0);
        }
    }
    for (int p = 0; p < P; p++) {
        int status;
        CHECK(waitpid(pids[p], &status, 0) == pids[p]);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    /* what is left is whole */
    wex_engine_t *e = fs_engine(dir, WEX_CACHE_VERIFY_FULL);
    size_t n;
    uint8_t *b = wasm("kernels.wasm", &n);
    wex_module_t *m = compile(e, b, n);
    CHECK(wex__cache_is_mapped(m));
    wex_module_delete(m);
    wex_engine_delete(e);
    free(b);
    rm_rf(dir);
    free(dir);
}

/* A layer of the embedder's: keeps one module, counts its calls. */
static struct {
    int loads, saves, destroyed;
    uint8_t hash[32];
    wex_module_t *kept;
} mine;

static wex_module_t *mine_load(void *d, const uint8_t *hash, wex_engine_t *e) {
    (void)d;
    (void)e;
    mine.loads++;
    return mine.kept && !memcmp(hash, mine.hash, 32) ? wex_module_retain(mine.kept) : NULL;
}
static void mine_save(void *d, const uint8_t *hash, wex_engine_t *e, wex_module_t *m) {
    (void)d;
    (void)e;
    mine.saves++;
    wex_module_delete(mine.kept);
    mine.kept = wex_module_retain(m);
    memcpy(mine.hash, hash, 32);
}
static void mine_destroy(void *d) {
    (void)d;
    wex_module_delete(mine.kept);
    mine.kept = NULL;
    mine.destroyed++;
}

TEST(embedder_layer_through_the_interface) {
    size_t n;
    uint8_t *b = wasm("cache.wasm", &n);
    static const wex_cache_ops_t ops = {mine_load, mine_save, NULL, mine_destroy};
    wex_cache_t *c =
        wex_cache_with_fallback(wex_cache_thread_local_new(0), wex_cache_new(&ops, NULL));
    wex_engine_t *e = engine_with(c);
    wex_module_t *m = compile(e, b, n);
    CHECK_EQ_INT(mine.loads, 1);
    CHECK_EQ_INT(mine.saves, 1);
    CHECK(mine.kept == m);
    wex_module_t *m2 = compile(e, b, n); /* thread-local hit: the embedder is not asked */
    CHECK(m2 == m);
    CHECK_EQ_INT(mine.loads, 1);
    check_cache_module(e, m2);
    wex_module_delete(m2);
    wex_module_delete(m);
    wex_engine_delete(e);
    CHECK_EQ_INT(mine.destroyed, 1);
    free(b);
}

/* A thread keeps thread-local entries of an engine that another thread
 * deletes: they must never match again, and the thread drops them safely
 * (the module outlives its engine only in that table) on its next use. */
typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stage;
    wex_engine_t *first;
    int ok;
} stale_arg;

static void stage_wait(stale_arg *a, int stage) {
    pthread_mutex_lock(&a->mu);
    while (a->stage < stage)
        pthread_cond_wait(&a->cv, &a->mu);
    pthread_mutex_unlock(&a->mu);
}
static void stage_set(stale_arg *a, int stage) {
    pthread_mutex_lock(&a->mu);
    a->stage = stage;
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
}

static void *stale_thread(void *p) {
    stale_arg *a = p;
    size_t n;
    uint8_t *b = wasm("cache.wasm", &n);
    a->ok = run_one(a->first, b, n); /* leaves an entry in this thread's table */
    stage_set(a, 1);
    stage_wait(a, 2); /* the engine is gone now */
    wex_engine_t *e2 = engine_with(wex_cache_thread_local_new(0));
    a->ok &= run_one(e2, b, n) && run_one(e2, b, n);
    wex_engine_delete(e2);
    free(b);
    return NULL;
}

TEST(thread_local_entries_of_deleted_engine_are_dropped) {
    stale_arg a;
    memset(&a, 0, sizeof a);
    pthread_mutex_init(&a.mu, NULL);
    pthread_cond_init(&a.cv, NULL);
    a.first = engine_with(wex_cache_thread_local_new(0));
    pthread_t t;
    pthread_create(&t, NULL, stale_thread, &a);
    stage_wait(&a, 1);
    wex_engine_delete(a.first);
    stage_set(&a, 2);
    pthread_join(t, NULL);
    CHECK(a.ok);
}

/* ------------------------------------------------------ lazy checks
 *
 * cache_lazy.wasm's defined functions: 0 $sq, 1 $neg, 2 sum (a loop),
 * 3 pick (br_table), 4 apply (call_indirect), 5 peek, 6 init_passive,
 * 7 never (no test calls it but one), 8 twice_sum (calls sum twice).
 */

/* Call an export with up to two i32 arguments: the error (NULL on success),
 * the result in *out. */
static wex_error_t *lcall(wex_store_t *s, wex_instance_t *inst, const char *name, int nargs,
                          int32_t a, int32_t b, int32_t *out) {
    wex_extern_t ex;
    if (!wex_instance_export(inst, name, strlen(name), &ex))
        wex_test_fail(__FILE__, __LINE__, "no export %s", name);
    wex_val_t args[2] = {wex_val_i32(a), wex_val_i32(b)}, res[1];
    wex_error_t *err = wex_func_call(s, ex.of.func, args, (size_t)nargs, res, 1);
    if (!err) *out = res[0].of.i32;
    return err;
}

static int32_t lcall_ok(wex_store_t *s, wex_instance_t *inst, const char *name, int nargs,
                        int32_t a, int32_t b) {
    int32_t r = 0;
    wex_error_t *err = lcall(s, inst, name, nargs, a, b, &r);
    if (err) wex_test_fail(__FILE__, __LINE__, "%s: %s", name, wex_error_message(err));
    return r;
}

/* Every export of cache_lazy.wasm gives the right answer. */
static void check_lazy_module(wex_engine_t *e, wex_module_t *m) {
    wex_store_t *s = wex_store_new(e);
    wex_instance_t *inst;
    wex_error_t *err = wex_instance_new(s, m, NULL, 0, &inst);
    if (err) wex_test_fail(__FILE__, __LINE__, "instance: %s", wex_error_message(err));
    CHECK_EQ_INT(lcall_ok(s, inst, "sum", 1, 100, 0), 5050);
    CHECK_EQ_INT(lcall_ok(s, inst, "twice_sum", 1, 10, 0), 110);
    CHECK_EQ_INT(lcall_ok(s, inst, "pick", 1, 0, 0), 10);
    CHECK_EQ_INT(lcall_ok(s, inst, "pick", 1, 1, 0), 20);
    CHECK_EQ_INT(lcall_ok(s, inst, "pick", 1, 7, 0), 30);
    CHECK_EQ_INT(lcall_ok(s, inst, "apply", 2, 0, 7), 49);
    CHECK_EQ_INT(lcall_ok(s, inst, "apply", 2, 1, 7), -7);
    CHECK_EQ_INT(lcall_ok(s, inst, "peek", 1, 64, 0), 'l');
    CHECK_EQ_INT(lcall_ok(s, inst, "peek", 1, 69, 0), 'i');
    CHECK_EQ_INT(lcall_ok(s, inst, "init_passive", 0, 0, 0), 'b');
    CHECK_EQ_INT(lcall_ok(s, inst, "never", 1, 5, 0), 16);
    wex_store_delete(s);
}

/* After a damaged entry was removed: the next load is a miss, compiles
 * again, runs correctly and writes the entry anew. */
static void recompiles_and_runs(wex_engine_t *e, const uint8_t *b, size_t n, const char *path) {
    wex_module_t *m = compile(e, b, n);
    CHECK(!wex__cache_is_mapped(m));
    check_lazy_module(e, m);
    CHECK(exists(path));
    wex_module_delete(m);
}

/* Write cache_lazy.wasm's entry into dir (a fresh engine compiles it). */
static void lazy_write(const char *dir, const uint8_t *b, size_t n, char *path, size_t len) {
    wex_engine_t *e = fs_engine(dir, WEX_CACHE_VERIFY_FAST);
    entry_path(dir, e, b, n, path, len);
    unlink(path);
    wex_module_t *m = compile(e, b, n);
    CHECK(!wex__cache_is_mapped(m));
    wex_module_delete(m);
    CHECK(exists(path));
    wex_engine_delete(e);
}

/* Where defined function di's code starts in the file (bytes), and its
 * length in words: from the loaded entry's records. */
static long func_code_at(const char *path, uint32_t di, uint32_t *words) {
    wex_engine_t *e = engine_with(NULL);
    wex_module_t *l = NULL;
    CHECK(wex_module_deserialize_file(e, path, &l) == NULL);
    const wex__compiled *c = l->compiled;
    CHECK(c->lazy != NULL && di < c->nfuncs);
    /* nothing ran: the record still points at the stub */
    CHECK_EQ_INT(c->funcs[di].code_off, c->lazy->stub_off + 2 * di);
    long at = (long)read64(path, OFF_CODE_OFF) + 4 * (long)c->lazy->real_off[di];
    *words = c->funcs[di].code_len;
    wex_module_delete(l);
    wex_engine_delete(e);
    return at;
}

/* A damaged function of a loaded entry, called with (1, 3): the entry is
 * deleted at the first call, and the function is translated again from its
 * body, so the call gives `want` (repairable) - or, when its body is
 * damaged too, every call that reaches it fails with the checksum error.
 * Never a crash; the module's other functions still run, and the next load
 * compiles again and runs correctly. */
static void damaged_function_case(const char *dir, const uint8_t *b, size_t n, const char *path,
                                  const char *export, int nargs, uint32_t func, bool repairable,
                                  int32_t want_result) {
    wex_engine_t *e = fs_engine(dir, WEX_CACHE_VERIFY_FAST);
    wex_module_t *m = compile(e, b, n);
    CHECK(wex__cache_is_mapped(m)); /* the FAST load does not read code */
    wex_store_t *s = wex_store_new(e);
    wex_instance_t *inst;
    CHECK(wex_instance_new(s, m, NULL, 0, &inst) == NULL);
    CHECK(exists(path));
    char want[96];
    snprintf(want, sizeof want, "compiled code of function %u failed its checksum", func);
    for (int k = 0; k < 2; k++) { /* again: the same result, no crash */
        int32_t r;
        wex_error_t *err = lcall(s, inst, export, nargs, 1, 3, &r);
        CHECK(!exists(path));
        CHECK(wex__cache_is_bad(m));
        if (repairable) {
            if (err) wex_test_fail(__FILE__, __LINE__, "%s: %s", export, wex_error_message(err));
            CHECK_EQ_INT(r, want_result);
            CHECK_EQ_INT(m->compiled->funcs[func].code_off, m->compiled->lazy->real_off[func]);
            continue;
        }
        CHECK(err != NULL);
        CHECK_EQ_INT(wex_error_code(err), WEX_ERR_MALFORMED);
        CHECK_STR_CONTAINS(wex_error_message(err), want);
        CHECK_STR_CONTAINS(wex_error_message(err), "cache entry removed");
        wex_error_delete(err);
    }
    if (func != 3) CHECK_EQ_INT(lcall_ok(s, inst, "pick", 1, 1, 0), 20);
    wex_store_delete(s);
    wex_module_delete(m);
    recompiles_and_runs(e, b, n, path);
    wex_engine_delete(e);
}

/* Flip a bit in every word of three running functions in turn (opcode
 * words, slot operands, branch offsets, br_table offsets, the type-id word
 * of a call_indirect), once in the low byte and once in the high byte (a
 * branch offset or opcode index far out of range): each is caught on the
 * function's first call and repaired, and the call's result is right. */
TEST(lazy_flipped_word_in_a_running_function) {
    char *dir = tmpdir(), path[700];
    size_t n;
    uint8_t *b = wasm("cache_lazy.wasm", &n);
    static const struct {
        const char *export;
        int nargs;
        uint32_t func;
        int32_t want; /* for (1, 3) */
    } fs[] = {{"sum", 1, 2, 1}, {"pick", 1, 3, 20}, {"apply", 2, 4, -3}, {"twice_sum", 1, 2, 2}};
    lazy_write(dir, b, n, path, sizeof path);
    int flips = 0;
    for (size_t f = 0; f < WEX__ARRAY_LEN(fs); f++) {
        uint32_t words;
        long at = func_code_at(path, fs[f].func, &words);
        CHECK(words >= 5);
        for (uint32_t w = 0; w < words; w++)
            for (int byte = 0; byte < 4; byte += 3) {
                poke(path, at + 4 * (long)w + byte, byte ? 0x80 : 0x01);
                damaged_function_case(dir, b, n, path, fs[f].export, fs[f].nargs, fs[f].func, true,
                                      fs[f].want);
                flips++;
            }
    }
    fprintf(stderr, "  %d flips\n", flips);
    CHECK(flips >= 40);
    free(b);
    rm_rf(dir);
    free(dir);
}

/* Damage in a function that never runs costs nothing and changes nothing:
 * the module loads and runs, the entry stays; only a call to it fails. */
TEST(lazy_flipped_word_in_a_function_that_never_runs) {
    char *dir = tmpdir(), path[700];
    size_t n;
    uint8_t *b = wasm("cache_lazy.wasm", &n);
    lazy_write(dir, b, n, path, sizeof path);
    uint32_t words;
    long at = func_code_at(path, 7, &words);
    poke(path, at, 0x80);
    wex_engine_t *e = fs_engine(dir, WEX_CACHE_VERIFY_FAST);
    wex_module_t *m = compile(e, b, n);
    CHECK(wex__cache_is_mapped(m));
    wex_store_t *s = wex_store_new(e);
    wex_instance_t *inst;
    CHECK(wex_instance_new(s, m, NULL, 0, &inst) == NULL);
    CHECK_EQ_INT(lcall_ok(s, inst, "sum", 1, 100, 0), 5050);
    CHECK_EQ_INT(lcall_ok(s, inst, "twice_sum", 1, 10, 0), 110);
    CHECK_EQ_INT(lcall_ok(s, inst, "pick", 1, 1, 0), 20);
    CHECK_EQ_INT(lcall_ok(s, inst, "apply", 2, 0, 7), 49);
    CHECK_EQ_INT(lcall_ok(s, inst, "peek", 1, 64, 0), 'l');
    CHECK_EQ_INT(lcall_ok(s, inst, "init_passive", 0, 0, 0), 'b');
    CHECK(exists(path));
    /* checked functions were published: their records hold their code */
    const wex__compiled *c = m->compiled;
    CHECK_EQ_INT(c->funcs[2].code_off, c->lazy->real_off[2]);
    CHECK_EQ_INT(c->funcs[7].code_off, c->lazy->stub_off + 14);
    wex_store_delete(s);
    wex_module_delete(m);
    /* a second load, same: the entry is still good for what runs */
    m = compile(e, b, n);
    CHECK(wex__cache_is_mapped(m));
    s = wex_store_new(e);
    CHECK(wex_instance_new(s, m, NULL, 0, &inst) == NULL);
    CHECK_EQ_INT(lcall_ok(s, inst, "sum", 1, 10, 0), 55);
    wex_store_delete(s);
    wex_module_delete(m);
    wex_engine_delete(e);
    /* and once it is called, it is caught (and repaired) like any other */
    damaged_function_case(dir, b, n, path, "never", 1, 7, true, 4);
    free(b);
    rm_rf(dir);
    free(dir);
}

/* A damaged function whose body (BODIES) is damaged too cannot be
 * repaired: each call of it fails with a clear error, the entry is removed,
 * the next load compiles again. Also a damaged body record, and (k == 3) the
 * damaged sum reached only through twice_sum's direct calls, which jump to
 * sum's code without its stub: twice_sum's first call must check sum too. */
TEST(lazy_flipped_word_and_body) {
    char *dir = tmpdir(), path[700];
    size_t n;
    uint8_t *b = wasm("cache_lazy.wasm", &n);
    for (int k = 0; k < 4; k++) {
        uint32_t func = k == 2 ? 7 : 2;
        lazy_write(dir, b, n, path, sizeof path);
        uint32_t words;
        poke(path, func_code_at(path, func, &words) + 4 * (words / 2), 0x08);
        long bodies = (long)read64(path, OFF_BODIES_OFF);
        uint32_t body_off = (uint32_t)read64(path, bodies + 24 * (long)func);
        if (k == 1) /* the record's nlocals */
            poke(path, bodies + 24 * (long)func + 8, 0x01);
        else
            poke(path, bodies + (long)body_off + 1, 0x10);
        damaged_function_case(dir, b, n, path,
                              func == 7 ? "never"
                              : k == 3  ? "twice_sum"
                                        : "sum",
                              1, func, false, 0);
    }
    free(b);
    rm_rf(dir);
    free(dir);
}

/* The stubs run unchecked, so the load compares them: a damaged one makes
 * the entry a miss (deleted, compiled again). */
TEST(lazy_flipped_stub) {
    char *dir = tmpdir(), path[700];
    size_t n;
    uint8_t *b = wasm("cache_lazy.wasm", &n);
    for (int k = 0; k < 2; k++) { /* the opcode word, then the index word */
        lazy_write(dir, b, n, path, sizeof path);
        uint64_t code = read64(path, OFF_CODE_OFF), len = read64(path, OFF_CODE_OFF + 8);
        uint64_t nstubs = read64(path, OFF_NSTUBS);
        CHECK_EQ_INT(nstubs, 9); /* (the header layout the test assumes) */
        poke(path, (long)(code + len - nstubs * 8 + 2 * 8 + 4 * (uint64_t)k), 0x04);
        wex_engine_t *e = engine_with(NULL);
        wex_module_t *l = NULL;
        wex_error_t *err = wex_module_deserialize_file(e, path, &l);
        CHECK(err != NULL && l == NULL);
        CHECK_STR_CONTAINS(wex_error_message(err), "metadata is inconsistent");
        wex_error_delete(err);
        wex_engine_delete(e);
        e = fs_engine(dir, WEX_CACHE_VERIFY_FAST);
        recompiles_and_runs(e, b, n, path);
        wex_engine_delete(e);
    }
    free(b);
    rm_rf(dir);
    free(dir);
}

/* Where `what` lies in the file's section at header field off (bytes). */
static long find_in_section(const char *path, int off_field, const char *what) {
    uint64_t at = read64(path, off_field), len = read64(path, off_field + 8);
    uint8_t *buf = malloc(len);
    int fd = open(path, O_RDONLY);
    CHECK(buf && fd >= 0 && pread(fd, buf, len, (off_t)at) == (ssize_t)len);
    close(fd);
    size_t wl = strlen(what), i = 0;
    while (i + wl <= len && memcmp(buf + i, what, wl))
        i++;
    CHECK(i + wl <= len);
    long r = (long)at + (long)i;
    free(buf);
    return r;
}

/* Damaged data segments (BYTES): the first instantiation fails with a clear
 * error and removes the entry; the next load compiles again and runs. */
TEST(lazy_flipped_data_byte) {
    char *dir = tmpdir(), path[700];
    size_t n;
    uint8_t *b = wasm("cache_lazy.wasm", &n);
    lazy_write(dir, b, n, path, sizeof path);
    poke(path, find_in_section(path, OFF_BYTES_OFF, "from-bytes") + 5, 0x20);
    wex_engine_t *e = fs_engine(dir, WEX_CACHE_VERIFY_FAST);
    wex_module_t *m = compile(e, b, n);
    CHECK(wex__cache_is_mapped(m));
    wex_store_t *s = wex_store_new(e);
    for (int k = 0; k < 2; k++) {
        wex_instance_t *inst = NULL;
        wex_error_t *err = wex_instance_new(s, m, NULL, 0, &inst);
        CHECK(err != NULL);
        CHECK_EQ_INT(wex_error_code(err), WEX_ERR_MALFORMED);
        CHECK_STR_CONTAINS(wex_error_message(err), "data segments failed their checksum");
        wex_error_delete(err);
        CHECK(!exists(path));
    }
    wex_store_delete(s);
    wex_module_delete(m);
    recompiles_and_runs(e, b, n, path);
    wex_engine_delete(e);
    free(b);
    rm_rf(dir);
    free(dir);
}

/* A damaged memory image with intact data segments: the instance copies
 * the segments instead, and the run is correct at once; the entry goes. */
TEST(lazy_flipped_image_byte) {
    char *dir = tmpdir(), path[700];
    size_t n;
    uint8_t *b = wasm("cache_lazy.wasm", &n);
    lazy_write(dir, b, n, path, sizeof path);
    CHECK(read64(path, OFF_IMAGE_OFF + 8) > 0);               /* the module has an image */
    poke(path, (long)read64(path, OFF_IMAGE_OFF) + 64, 0x20); /* 'l' of "lazy-image" */
    wex_engine_t *e = fs_engine(dir, WEX_CACHE_VERIFY_FAST);
    wex_module_t *m = compile(e, b, n);
    CHECK(wex__cache_is_mapped(m));
    CHECK(m->image.size > 0);
    check_lazy_module(e, m); /* peek(64) is 'l': the segments were copied */
    CHECK_EQ_INT(m->image.size, 0);
    CHECK(!exists(path));
    check_lazy_module(e, m); /* a second instance, the same */
    wex_module_delete(m);
    recompiles_and_runs(e, b, n, path);
    wex_engine_delete(e);
    free(b);
    rm_rf(dir);
    free(dir);
}

/* A trap in a loaded module reports its backtrace (read from the backtrace
 * table, checked then); a damaged table gives a backtrace without offsets,
 * never a crash, and removes the entry. The trap is the guard-page fault
 * path by default (which once read a table loaded modules lack). */
TEST(lazy_trap_backtrace_and_flipped_pcmap) {
    char *dir = tmpdir(), path[700];
    size_t n;
    uint8_t *b = wasm("cache_lazy.wasm", &n);
    for (int damage = 0; damage < 2; damage++) {
        lazy_write(dir, b, n, path, sizeof path);
        CHECK(read64(path, OFF_PCMAP_OFF + 8) >= 8);
        if (damage) poke(path, (long)read64(path, OFF_PCMAP_OFF) + 4, 0x02);
        wex_engine_t *e = fs_engine(dir, WEX_CACHE_VERIFY_FAST);
        wex_module_t *m = compile(e, b, n);
        CHECK(wex__cache_is_mapped(m));
        wex_store_t *s = wex_store_new(e);
        wex_instance_t *inst;
        CHECK(wex_instance_new(s, m, NULL, 0, &inst) == NULL);
        int32_t r;
        wex_error_t *err = lcall(s, inst, "peek", 1, 1 << 30, 0, &r);
        CHECK(err != NULL);
        CHECK_EQ_INT(wex_error_trap_code(err), WEX_TRAP_MEMORY_OOB);
        wex_error_delete(err);
        CHECK_EQ_INT(lcall_ok(s, inst, "peek", 1, 64, 0), 'l');
        CHECK(exists(path) == !damage);
        wex_store_delete(s);
        wex_module_delete(m);
        m = compile(e, b, n);
        CHECK(wex__cache_is_mapped(m) == !damage);
        check_lazy_module(e, m);
        wex_module_delete(m);
        wex_engine_delete(e);
    }
    free(b);
    rm_rf(dir);
    free(dir);
}

/* Another engine numbers the types differently: the loader rewrites the
 * type-id words, and the lazy checks (which compare those words with the
 * new ids) still pass; a full check passes too. */
TEST(lazy_checks_pass_after_relocation) {
    char *dir = tmpdir(), path[600];
    snprintf(path, sizeof path, "%s/m.cwasm", dir);
    size_t n, fn;
    uint8_t *b = wasm("cache_lazy.wasm", &n), *f = wasm("kernels.wasm", &fn);
    wex_engine_t *e = engine_with(NULL);
    wex_module_t *m = compile(e, b, n);
    CHECK(wex_module_serialize(m, path) == NULL);
    for (int full = 0; full < 2; full++) {
        wex_engine_t *e2 = engine_with(NULL);
        wex_module_t *other = compile(e2, f, fn); /* interns other types first */
        wex_module_t *l;
        CHECK(wex_module_deserialize_file_ex(e2, path, NULL,
                                             full ? WEX_CACHE_VERIFY_FULL : WEX_CACHE_VERIFY_FAST,
                                             &l) == NULL);
        bool moved = false;
        for (uint32_t i = 0; i < l->ntypes; i++)
            moved |= l->types[i].canon != m->types[i].canon;
        CHECK(moved);
        CHECK(l->compiled->ntyrel >= 1);
        check_lazy_module(e2, l);
        CHECK(!wex__cache_is_bad(l));
        /* a loaded module serializes again (every function checked first) */
        char again[700];
        snprintf(again, sizeof again, "%s/again.cwasm", dir);
        CHECK(wex_module_serialize(l, again) == NULL);
        wex_module_t *l2;
        CHECK(wex_module_deserialize_file_ex(e2, again, NULL, WEX_CACHE_VERIFY_FULL, &l2) == NULL);
        check_lazy_module(e2, l2);
        wex_module_delete(l2);
        wex_module_delete(l);
        wex_module_delete(other);
        wex_engine_delete(e2);
    }
    wex_module_delete(m);
    wex_engine_delete(e);
    free(b);
    free(f);
    rm_rf(dir);
    free(dir);
}

/* A damaged module held by the in-memory layers: after the failed check
 * (the function is repaired, the call is right) they drop it (thread-local, then shared), the
 * filesystem entry is gone, and the next wex_module_new compiles again. */
TEST(lazy_failure_evicts_from_every_layer) {
    char *dir = tmpdir(), path[700];
    size_t n;
    uint8_t *b = wasm("cache_lazy.wasm", &n);
    lazy_write(dir, b, n, path, sizeof path);
    uint32_t words;
    poke(path, func_code_at(path, 2, &words) + 4, 0x01);
    wex_engine_t *e = engine_with(wex_cache_with_fallback(
        wex_cache_thread_local_new(0),
        wex_cache_with_fallback(wex_cache_shared_new(0), wex_cache_fs_new(dir, 0, 0, 0))));
    wex_module_t *m = compile(e, b, n); /* from the file, promoted into both */
    CHECK(wex__cache_is_mapped(m));
    wex_module_t *again = compile(e, b, n); /* a thread-local hit: the same */
    CHECK(again == m);
    wex_module_delete(again);
    wex_store_t *s = wex_store_new(e);
    wex_instance_t *inst;
    CHECK(wex_instance_new(s, m, NULL, 0, &inst) == NULL);
    CHECK_EQ_INT(lcall_ok(s, inst, "sum", 1, 3, 0), 6); /* repaired */
    CHECK(wex__cache_is_bad(m));
    CHECK(!exists(path));
    wex_store_delete(s);
    wex_module_t *fresh = compile(e, b, n);
    CHECK(fresh != m && !wex__cache_is_mapped(fresh));
    check_lazy_module(e, fresh);
    wex_module_delete(m);
    wex_module_t *hit = compile(e, b, n); /* the fresh one is what the layers hold now */
    CHECK(hit == fresh);
    wex_module_delete(hit);
    wex_module_delete(fresh);
    wex_engine_delete(e);
    free(b);
    rm_rf(dir);
    free(dir);
}

/* Threads enter the same unchecked functions of one loaded module at once:
 * each may check a function, one publishes; all results right (TSan). */
typedef struct {
    wex_engine_t *e;
    wex_module_t *m;
    int bad;
} lazy_thread_arg;

static void *lazy_thread(void *p) {
    lazy_thread_arg *a = p;
    wex_store_t *s = wex_store_new(a->e);
    wex_instance_t *inst;
    if (wex_instance_new(s, a->m, NULL, 0, &inst)) {
        a->bad++;
    } else {
        for (int i = 0; i < 20; i++) {
            int32_t r = 0;
            wex_error_t *err = lcall(s, inst, "twice_sum", 1, 100, 0, &r);
            if (err || r != 10100) a->bad++;
            wex_error_delete(err);
            err = lcall(s, inst, "apply", 2, 0, 9, &r);
            if (err || r != 81) a->bad++;
            wex_error_delete(err);
        }
    }
    wex_store_delete(s);
    return NULL;
}

TEST(lazy_checks_race_between_threads) {
    char *dir = tmpdir(), path[700];
    size_t n;
    uint8_t *b = wasm("cache_lazy.wasm", &n);
    lazy_write(dir, b, n, path, sizeof path);
    wex_engine_t *e = fs_engine(dir, WEX_CACHE_VERIFY_FAST);
    wex_module_t *m = compile(e, b, n);
    CHECK(wex__cache_is_mapped(m));
    enum { N = 4 };
    pthread_t t[N];
    lazy_thread_arg a[N];
    for (int i = 0; i < N; i++) {
        a[i] = (lazy_thread_arg){e, m, 0};
        pthread_create(&t[i], NULL, lazy_thread, &a[i]);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        CHECK_EQ_INT(a[i].bad, 0);
    }
    CHECK(exists(path) && !wex__cache_is_bad(m));
    wex_module_delete(m);
    wex_engine_delete(e);
    free(b);
    rm_rf(dir);
    free(dir);
}
