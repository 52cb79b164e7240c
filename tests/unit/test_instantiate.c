/*
 * test_instantiate.c - instantiation strategies (issue 4): every strategy
 * gives the same instance; each fallback, forced through settings; the
 * madvise check; a full pool waiting and failing; isolation between the
 * occupants of one slot; memory images decided right; many threads sharing
 * one pool.
 */
#define _GNU_SOURCE /* memfd_create */
#include "harness.h"
#include "os/os.h"
#include "runtime/runtime.h"
#include "wex.h"

#include <pthread.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

static const wex_instantiation_t all[4] = {WEX_INSTANTIATION_POOLING_COW,
                                           WEX_INSTANTIATION_RECREATE_COW,
                                           WEX_INSTANTIATION_POOLING, WEX_INSTANTIATION_RECREATE};

/* An engine with small pool limits (tests run under ASan and TSan too) and a
 * decommit batch of `batch` slots; keep: keep_resident, or UINT64_MAX for the
 * default. */
static wex_engine_t *engine_batched(wex_instantiation_t s, wex_bounds_t b, unsigned simulate,
                                    uint32_t slots, uint32_t batch, uint64_t keep) {
    wex_config_t *c = wex_config_new();
    wex_config_set_bounds_checks(c, b);
    wex_config_set_instantiation_strategy(c, s);
    wex_config_set_pool_slots(c, slots);
    wex_config_set_pool_max_memory(c, (uint64_t)64 << 20);
    wex_config_set_pool_decommit_batch(c, batch);
    if (keep != UINT64_MAX) wex_config_set_pool_keep_resident(c, keep);
    wex_config_simulate(c, simulate);
    wex_engine_t *e = wex_engine_new(c);
    CHECK(e != NULL);
    return e;
}

/* The same with each freed slot reset at once (a batch of one): the next
 * instance takes the slot just freed, which several tests rely on. */
static wex_engine_t *engine_with(wex_instantiation_t s, wex_bounds_t b, unsigned simulate,
                                 uint32_t slots) {
    return engine_batched(s, b, simulate, slots, 1, UINT64_MAX);
}

static wex_module_t *compile(wex_engine_t *e, const char *name) {
    size_t len;
    uint8_t *bytes = wex_test_read_wasm(name, &len);
    wex_module_t *m;
    wex_error_t *err = wex_module_new(e, bytes, len, &m);
    free(bytes);
    if (err) wex_test_fail(__FILE__, __LINE__, "%s: %s", name, wex_error_message(err));
    return m;
}

static wex_instance_t *instantiate(wex_store_t *s, wex_module_t *m) {
    wex_instance_t *inst;
    wex_error_t *err = wex_instance_new(s, m, NULL, 0, &inst);
    if (err) wex_test_fail(__FILE__, __LINE__, "instance: %s", wex_error_message(err));
    return inst;
}

static wex_extern_t get(wex_instance_t *inst, const char *name) {
    wex_extern_t x;
    if (!wex_instance_export(inst, name, strlen(name), &x))
        wex_test_fail(__FILE__, __LINE__, "no export %s", name);
    return x;
}

/* Call an i32 function of at most two i32 arguments; returns its result
 * (0 if none), or fails the test on a trap unless *trapped is given. */
static int32_t call(wex_store_t *s, wex_instance_t *inst, const char *name, int nargs, int32_t a,
                    int32_t b, bool *trapped) {
    wex_func_t *f = get(inst, name).of.func;
    wex_functype_t ft = wex_func_type(f);
    wex_val_t args[2] = {wex_val_i32(a), wex_val_i32(b)}, res[1];
    wex_error_t *err = wex_func_call(s, f, args, (size_t)nargs, res, ft.nresults);
    if (trapped) *trapped = err != NULL;
    if (err && !trapped) wex_test_fail(__FILE__, __LINE__, "%s: %s", name, wex_error_message(err));
    wex_error_delete(err);
    return ft.nresults && !err ? res[0].of.i32 : 0;
}

/* What a fresh instance of instantiate.wat holds. */
static void check_pristine(wex_store_t *s, wex_instance_t *inst) {
    wex_memory_t *mem = get(inst, "memory").of.memory;
    const uint8_t *d = wex_memory_data(mem);
    CHECK_EQ_INT(wex_memory_size(mem), 2 * 65536);
    CHECK(memcmp(d, "helLO", 5) == 0);
    CHECK(memcmp(d + 70000, "world", 5) == 0);
    for (size_t i = 5; i < 70000; i += 997)
        CHECK_EQ_INT(d[i], 0);
    CHECK_EQ_INT(d[65535], 0);
    CHECK_EQ_INT(d[2 * 65536 - 1], 0);
    CHECK_EQ_INT(wex_global_get(get(inst, "g").of.global).of.i32, 7);
    wex_table_t *t = get(inst, "t").of.table;
    CHECK_EQ_INT(wex_table_size(t), 4);
    CHECK_EQ_INT(call(s, inst, "tnull", 1, 0, 0, NULL), 0);
    CHECK_EQ_INT(call(s, inst, "tnull", 1, 2, 0, NULL), 1);
    CHECK_EQ_INT(call(s, inst, "tnull", 1, 3, 0, NULL), 1);
    CHECK_EQ_INT(call(s, inst, "size", 0, 0, 0, NULL), 2);
    CHECK_EQ_INT(call(s, inst, "get", 1, 4, 0, NULL), 'O');
    /* The passive segment is still there. */
    call(s, inst, "init", 1, 1000, 0, NULL);
    CHECK(memcmp(d + 1000, "PASSIVE", 7) == 0);
    call(s, inst, "poke", 2, 1000, 0, NULL); /* undo, for the isolation test */
    for (int i = 1; i < 7; i++)
        call(s, inst, "poke", 2, 1000 + i, 0, NULL);
}

/* Dirty everything an instance can: memory in and past the image, grown
 * pages (and the size), the global, table entries and size. */
static void scribble(wex_store_t *s, wex_instance_t *inst) {
    call(s, inst, "poke", 2, 0, 'X', NULL);
    call(s, inst, "poke", 2, 70001, 'X', NULL);
    call(s, inst, "poke", 2, 100000, 'X', NULL);
    if (call(s, inst, "size", 0, 0, 0, NULL) == 2)
        CHECK_EQ_INT(call(s, inst, "grow", 1, 3, 0, NULL), 2);
    call(s, inst, "poke", 2, 3 * 65536 + 5, 'G', NULL);
    call(s, inst, "poke", 2, 5 * 65536 - 1, 'G', NULL);
    call(s, inst, "setg", 1, 99, 0, NULL);
    call(s, inst, "tset", 1, 2, 0, NULL);
    CHECK_EQ_INT(call(s, inst, "tgrow", 1, 5, 0, NULL), 4);
    call(s, inst, "tset", 1, 7, 0, NULL);
    CHECK_EQ_INT(wex_memory_data(get(inst, "memory").of.memory)[3 * 65536 + 5], 'G');
}

static void strategies_same(wex_bounds_t b) {
    for (int k = 0; k < 4; k++) {
        wex_engine_t *e = engine_with(all[k], b, 0, 8);
        CHECK_EQ_INT(wex_engine_instantiation_strategy(e), all[k]);
        CHECK(wex_engine_instantiation_note(e) == NULL);
        wex_module_t *m = compile(e, "instantiate.wasm");
        for (int round = 0; round < 3; round++) {
            wex_store_t *s = wex_store_new(e);
            wex_instance_t *inst = instantiate(s, m);
            check_pristine(s, inst);
            wex_store_delete(s);
        }
        const char *why;
        bool copied;
        uint64_t img = wex_module_image(m, &why, &copied);
        if (all[k] == WEX_INSTANTIATION_RECREATE) {
            CHECK_EQ_INT(img, 0);
        } else {
            CHECK_EQ_INT(img, 2 * 65536); /* "world" is in the second page */
            CHECK(!copied);
        }
        wex__allocator *a = e->alloc;
        if (all[k] == WEX_INSTANTIATION_POOLING_COW) {
            CHECK_EQ_INT(wex__alloc_counted(a)->n_mapped, 1); /* then reused warm */
            CHECK_EQ_INT(wex__alloc_counted(a)->n_warm, 2);
        } else if (all[k] == WEX_INSTANTIATION_RECREATE_COW) {
            CHECK_EQ_INT(wex__alloc_counted(a)->n_mapped, 3);
        } else if (all[k] == WEX_INSTANTIATION_POOLING) {
            CHECK_EQ_INT(wex__alloc_counted(a)->n_copied, 3);
        } else {
            CHECK_EQ_INT(wex__alloc_counted(a)->n_mapped + wex__alloc_counted(a)->n_copied, 0);
        }
        wex_module_delete(m);
        wex_engine_delete(e);
    }
}
TEST(strategies_same_results_guard) {
    strategies_same(WEX_BOUNDS_GUARD_PAGES);
}
TEST(strategies_same_results_explicit) {
    strategies_same(WEX_BOUNDS_EXPLICIT);
}

/* Dirty an instance, drop it, instantiate again (the same slot, for the
 * pooling strategies): nothing of the first one shows. */
static void isolation(wex_bounds_t b) {
    for (int k = 0; k < 4; k++) {
        wex_engine_t *e = engine_with(all[k], b, 0, 4);
        wex_module_t *m = compile(e, "instantiate.wasm");
        wex_store_t *s = wex_store_new(e);
        wex_instance_t *inst = instantiate(s, m);
        uint8_t *base = wex_memory_data(get(inst, "memory").of.memory);
        scribble(s, inst);
        wex_store_delete(s);
        for (int round = 0; round < 2; round++) {
            s = wex_store_new(e);
            inst = instantiate(s, m);
            wex_memory_t *mem = get(inst, "memory").of.memory;
            if (all[k] == WEX_INSTANTIATION_POOLING_COW || all[k] == WEX_INSTANTIATION_POOLING)
                CHECK(wex_memory_data(mem) == base); /* the same slot */
            check_pristine(s, inst);
            CHECK_EQ_INT(wex_memory_data(mem)[100000], 0);
            /* Pages grown by the last occupant are gone: out of bounds... */
            bool trapped;
            call(s, inst, "get", 1, 3 * 65536 + 5, 0, &trapped);
            CHECK(trapped);
            /* ...and zero when grown again. */
            CHECK_EQ_INT(call(s, inst, "grow", 1, 3, 0, NULL), 2);
            CHECK_EQ_INT(call(s, inst, "get", 1, 3 * 65536 + 5, 0, NULL), 0);
            CHECK_EQ_INT(call(s, inst, "get", 1, 5 * 65536 - 1, 0, NULL), 0);
            scribble(s, inst);
            wex_store_delete(s);
        }
        wex_module_delete(m);
        wex_engine_delete(e);
    }
}
TEST(isolation_guard) {
    isolation(WEX_BOUNDS_GUARD_PAGES);
}
TEST(isolation_explicit) {
    isolation(WEX_BOUNDS_EXPLICIT);
}

/* A slot that held another module is cleaned for the next: its image is
 * replaced and the Pooling strategy's kept bytes are zeroed. */
TEST(slot_changes_module) {
    for (int k = 0; k < 4; k += 2) {
        wex_engine_t *e = engine_with(all[k], WEX_BOUNDS_EXPLICIT, 0, 1);
        wex_module_t *m = compile(e, "instantiate.wasm");
        wex_module_t *other = compile(e, "instantiate_sparse.wasm");
        wex_store_t *s = wex_store_new(e);
        wex_instance_t *inst = instantiate(s, m);
        scribble(s, inst);
        wex_store_delete(s);
        s = wex_store_new(e);
        inst = instantiate(s, other);
        const uint8_t *d = wex_memory_data(get(inst, "memory").of.memory);
        CHECK(memcmp(d, "start", 5) == 0);
        for (size_t i = 5; i < 200000; i++)
            if (d[i]) wex_test_fail(__FILE__, __LINE__, "byte %zu is %d", i, d[i]);
        CHECK(memcmp(d + 4194000, "end", 3) == 0);
        wex_store_delete(s);
        /* And back; then the first module goes away and a new one may take
         * its address: the slot must not be taken as warm for it. */
        s = wex_store_new(e);
        check_pristine(s, instantiate(s, m));
        wex_store_delete(s);
        wex_module_delete(m);
        wex_module_t *m2 = compile(e, "instantiate_sparse.wasm");
        s = wex_store_new(e);
        inst = instantiate(s, m2);
        d = wex_memory_data(get(inst, "memory").of.memory);
        CHECK(memcmp(d, "start", 5) == 0);
        wex_store_delete(s);
        wex_module_delete(m2);
        wex_module_delete(other);
        wex_engine_delete(e);
    }
}

TEST(fallback_no_memfd) {
    wex_engine_t *e =
        engine_with(WEX_INSTANTIATION_POOLING_COW, WEX_BOUNDS_EXPLICIT, WEX_SIMULATE_NO_MEMFD, 4);
    wex_module_t *m = compile(e, "instantiate.wasm");
    bool copied = false;
    CHECK_EQ_INT(wex_module_image(m, NULL, &copied), 2 * 65536);
    CHECK(copied);
    for (int i = 0; i < 2; i++) {
        wex_store_t *s = wex_store_new(e);
        wex_instance_t *inst = instantiate(s, m);
        check_pristine(s, inst);
        scribble(s, inst);
        wex_store_delete(s);
    }
    CHECK_EQ_INT(wex__alloc_counted(e->alloc)->n_mapped, 0);
    CHECK_EQ_INT(wex__alloc_counted(e->alloc)->n_copied, 2);
    wex_module_delete(m);
    wex_engine_delete(e);
}

TEST(fallback_madvise_ignored) {
    for (int k = 0; k < 4; k += 2) {
        wex_engine_t *e = engine_with(all[k], WEX_BOUNDS_EXPLICIT, WEX_SIMULATE_MADVISE_IGNORED, 4);
        CHECK_EQ_INT(wex_engine_instantiation_strategy(e),
                     k == 0 ? WEX_INSTANTIATION_RECREATE_COW : WEX_INSTANTIATION_RECREATE);
        CHECK_STR_CONTAINS(wex_engine_instantiation_note(e), "madvise");
        wex_module_t *m = compile(e, "instantiate.wasm");
        wex_store_t *s = wex_store_new(e);
        check_pristine(s, instantiate(s, m));
        wex_store_delete(s);
        wex_module_delete(m);
        wex_engine_delete(e);
    }
    /* The recreate strategies do not need madvise: no fallback. */
    wex_engine_t *e = engine_with(WEX_INSTANTIATION_RECREATE_COW, WEX_BOUNDS_EXPLICIT,
                                  WEX_SIMULATE_MADVISE_IGNORED, 4);
    CHECK_EQ_INT(wex_engine_instantiation_strategy(e), WEX_INSTANTIATION_RECREATE_COW);
    wex_engine_delete(e);
}

TEST(fallback_no_reservation) {
    wex_engine_t *e = engine_with(WEX_INSTANTIATION_POOLING, WEX_BOUNDS_GUARD_PAGES,
                                  WEX_SIMULATE_NO_RESERVATION, 4);
    CHECK_EQ_INT(wex_engine_instantiation_strategy(e), WEX_INSTANTIATION_RECREATE);
    CHECK_STR_CONTAINS(wex_engine_instantiation_note(e), "cannot be reserved");
    wex_module_t *m = compile(e, "instantiate.wasm");
    wex_store_t *s = wex_store_new(e);
    check_pristine(s, instantiate(s, m));
    wex_store_delete(s);
    wex_module_delete(m);
    wex_engine_delete(e);
}

TEST(madvise_check) {
    CHECK(wex__alloc_madvise_works(false));
    CHECK(!wex__alloc_madvise_works(true)); /* a madvise that does nothing is caught */
    CHECK(wex__alloc_madvise_works(false)); /* and the real answer is kept */
}

TEST(image_decisions) {
    wex_engine_t *e = engine_with(WEX_INSTANTIATION_POOLING_COW, WEX_BOUNDS_EXPLICIT, 0, 4);
    const char *names[] = {"instantiate_noimage.wasm", "instantiate_oob.wasm",
                           "instantiate_sparse.wasm", "instantiate_import.wasm", "fib.wasm"};
    const char *reasons[] = {"not constant (global.get)", "out of bounds", "mostly zeros",
                             "imported", "no memory"};
    for (int i = 0; i < 5; i++) {
        wex_module_t *m = compile(e, names[i]);
        const char *why = NULL;
        CHECK_EQ_INT(wex_module_image(m, &why, NULL), 0);
        CHECK_STR_CONTAINS(why, reasons[i]);
        wex_module_delete(m);
    }
    wex_engine_delete(e);
}

/* Without an image the copying path reports the spec's error, having written
 * the segments before the bad one. */
TEST(out_of_bounds_segment_traps) {
    for (int k = 0; k < 4; k++) {
        wex_engine_t *e = engine_with(all[k], WEX_BOUNDS_EXPLICIT, 0, 4);
        wex_module_t *m = compile(e, "instantiate_oob.wasm");
        wex_store_t *s = wex_store_new(e);
        wex_instance_t *inst;
        wex_error_t *err = wex_instance_new(s, m, NULL, 0, &inst);
        CHECK(err != NULL);
        CHECK_EQ_INT(wex_error_trap_code(err), WEX_TRAP_MEMORY_OOB);
        /* The message says where (the second segment), not just what. */
        CHECK(!strcmp(wex_error_message(err),
                      "out of bounds memory access while initialising data segment 1"));
        wex_error_delete(err);
        wex_store_delete(s);
        /* The slot comes back clean. */
        s = wex_store_new(e);
        wex_module_t *ok = compile(e, "instantiate.wasm");
        check_pristine(s, instantiate(s, ok));
        wex_store_delete(s);
        wex_module_delete(ok);
        wex_module_delete(m);
        wex_engine_delete(e);
    }
}

/* Pool limits: a memory larger than a slot allows, and a table larger than
 * its element storage, are made on demand instead. */
TEST(pool_limits_fall_back) {
    wex_config_t *c = wex_config_new();
    wex_config_set_bounds_checks(c, WEX_BOUNDS_EXPLICIT);
    wex_config_set_pool_slots(c, 2);
    wex_config_set_pool_max_memory(c, 65536); /* smaller than the module's 2 pages */
    wex_config_set_pool_tables(c, 1, 2);      /* smaller than its 4 elements */
    wex_engine_t *e = wex_engine_new(c);
    wex_module_t *m = compile(e, "instantiate.wasm");
    for (int i = 0; i < 2; i++) {
        wex_store_t *s = wex_store_new(e);
        wex_instance_t *inst = instantiate(s, m);
        check_pristine(s, inst);
        scribble(s, inst);
        wex_store_delete(s);
    }
    wex_module_delete(m);
    wex_engine_delete(e);
    /* A pooled table that grows past its slot's storage moves to the heap. */
    c = wex_config_new();
    wex_config_set_pool_slots(c, 2);
    wex_config_set_pool_tables(c, 1, 6);
    e = wex_engine_new(c);
    m = compile(e, "instantiate.wasm");
    wex_store_t *s = wex_store_new(e);
    wex_instance_t *inst = instantiate(s, m);
    CHECK_EQ_INT(call(s, inst, "tgrow", 1, 10, 0, NULL), 4);
    call(s, inst, "tset", 1, 13, 0, NULL);
    CHECK_EQ_INT(call(s, inst, "tnull", 1, 13, 0, NULL), 0);
    CHECK_EQ_INT(call(s, inst, "tnull", 1, 0, 0, NULL), 0);
    wex_store_delete(s);
    wex_module_delete(m);
    wex_engine_delete(e);
}

static wex_engine_t *small_pool(wex_pool_exhaustion_t mode, uint32_t timeout_ms) {
    wex_config_t *c = wex_config_new();
    wex_config_set_bounds_checks(c, WEX_BOUNDS_EXPLICIT);
    wex_config_set_pool_slots(c, 2);
    wex_config_set_pool_max_memory(c, (uint64_t)1 << 20);
    wex_config_set_pool_exhaustion(c, mode, timeout_ms);
    wex_engine_t *e = wex_engine_new(c);
    CHECK_EQ_INT(wex_engine_instantiation_strategy(e), WEX_INSTANTIATION_POOLING_COW);
    return e;
}

TEST(exhaustion_fails_at_once) {
    wex_engine_t *e = small_pool(WEX_POOL_FAIL, 0);
    wex_module_t *m = compile(e, "instantiate.wasm");
    wex_store_t *s1 = wex_store_new(e), *s2 = wex_store_new(e), *s3 = wex_store_new(e);
    instantiate(s1, m);
    instantiate(s2, m);
    wex_instance_t *inst;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    wex_error_t *err = wex_instance_new(s3, m, NULL, 0, &inst);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK(err != NULL);
    CHECK_STR_CONTAINS(wex_error_message(err), "pool exhausted");
    CHECK_EQ_INT(wex_error_code(err), WEX_ERR_NOMEM);
    wex_error_delete(err);
    CHECK(t1.tv_sec - t0.tv_sec < 2);
    wex_store_delete(s2);
    check_pristine(s3, instantiate(s3, m)); /* a freed slot is usable again */
    wex_store_delete(s1);
    wex_store_delete(s3);
    wex_module_delete(m);
    wex_engine_delete(e);
}

typedef struct {
    wex_store_t *store;
    int delay_ms;
} freer_t;

static void *free_later(void *arg) {
    freer_t *f = arg;
    usleep((useconds_t)f->delay_ms * 1000);
    wex_store_delete(f->store);
    return NULL;
}

TEST(exhaustion_waits) {
    wex_engine_t *e = small_pool(WEX_POOL_WAIT, 10000);
    wex_module_t *m = compile(e, "instantiate.wasm");
    wex_store_t *s1 = wex_store_new(e), *s2 = wex_store_new(e), *s3 = wex_store_new(e);
    instantiate(s1, m);
    instantiate(s2, m);
    freer_t f = {s2, 100};
    pthread_t th;
    pthread_create(&th, NULL, free_later, &f);
    wex_instance_t *inst = instantiate(s3, m); /* waits for the other thread's free */
    check_pristine(s3, inst);
    pthread_join(th, NULL);
    wex_store_delete(s3);
    wex_store_delete(s1);
    wex_module_delete(m);
    wex_engine_delete(e);
}

TEST(exhaustion_wait_times_out) {
    wex_engine_t *e = small_pool(WEX_POOL_WAIT, 50);
    wex_module_t *m = compile(e, "instantiate.wasm");
    wex_store_t *s1 = wex_store_new(e), *s2 = wex_store_new(e), *s3 = wex_store_new(e);
    instantiate(s1, m);
    instantiate(s2, m);
    wex_instance_t *inst;
    wex_error_t *err = wex_instance_new(s3, m, NULL, 0, &inst);
    CHECK(err != NULL);
    CHECK_STR_CONTAINS(wex_error_message(err), "none freed within 50 ms");
    wex_error_delete(err);
    wex_store_delete(s1);
    wex_store_delete(s2);
    wex_store_delete(s3);
    wex_module_delete(m);
    wex_engine_delete(e);
}

typedef struct {
    wex_engine_t *engine;
    wex_module_t *module;
    int n;
    int bad;
} worker_t;

static void *worker(void *arg) {
    worker_t *w = arg;
    for (int i = 0; i < w->n; i++) {
        wex_store_t *s = wex_store_new(w->engine);
        wex_instance_t *inst;
        wex_error_t *err = wex_instance_new(s, w->module, NULL, 0, &inst);
        if (err) {
            w->bad++;
            wex_error_delete(err);
        } else {
            wex_extern_t x;
            wex_instance_export(inst, "memory", 6, &x);
            uint8_t *d = wex_memory_data(x.of.memory);
            if (memcmp(d, "helLO", 5) != 0 || d[100] != 0 || wex_memory_size(x.of.memory) != 131072)
                w->bad++;
            d[100] = 1; /* the next occupant must not see it */
            d[0] = 'Z';
        }
        wex_store_delete(s);
    }
    return NULL;
}

/* Four threads, each making n instances of m; none may see a wrong one. */
static void run_workers(wex_engine_t *e, wex_module_t *m, int n) {
    worker_t w[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (worker_t){e, m, n, 0};
        pthread_create(&th[i], NULL, worker, &w[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK_EQ_INT(w[i].bad, 0);
    }
}

/* Threads share one engine's pool (fewer slots than threads: they wait). */
TEST(threads_share_pool) {
    for (int k = 0; k < 3; k += 2) {
        wex_config_t *c = wex_config_new();
        wex_config_set_instantiation_strategy(c, all[k]);
        wex_config_set_bounds_checks(c, WEX_BOUNDS_EXPLICIT);
        wex_config_set_pool_slots(c, 3);
        wex_config_set_pool_max_memory(c, (uint64_t)1 << 20);
        wex_config_set_pool_exhaustion(c, WEX_POOL_WAIT, 20000);
        wex_engine_t *e = wex_engine_new(c);
        wex_module_t *m = compile(e, "instantiate.wasm");
        run_workers(e, m, 100);
        wex_module_delete(m);
        wex_engine_delete(e);
    }
}

/* ------------------------------------------------ batched decommit (session 3) */

/* n instances of m held at once, each dirtied everywhere it can be. */
static void hold(wex_engine_t *e, wex_module_t *m, int n, wex_store_t **st, uint8_t **bases) {
    for (int i = 0; i < n; i++) {
        st[i] = wex_store_new(e);
        wex_instance_t *inst = instantiate(st[i], m);
        bases[i] = wex_memory_data(get(inst, "memory").of.memory);
        scribble(st[i], inst);
    }
}

static bool one_of(uint8_t *b, uint8_t **bases, int n) {
    for (int i = 0; i < n; i++)
        if (bases[i] == b) return true;
    return false;
}

/* A fresh instance in a slot reset by a batch: pristine, grown pages gone. */
static void check_reused(wex_engine_t *e, wex_module_t *m, uint8_t **bases, int n) {
    wex_store_t *s = wex_store_new(e);
    wex_instance_t *inst = instantiate(s, m);
    CHECK(one_of(wex_memory_data(get(inst, "memory").of.memory), bases, n));
    check_pristine(s, inst);
    CHECK_EQ_INT(wex_memory_data(get(inst, "memory").of.memory)[100000], 0);
    bool trapped;
    call(s, inst, "get", 1, 3 * 65536 + 5, 0, &trapped);
    CHECK(trapped);
    CHECK_EQ_INT(call(s, inst, "grow", 1, 3, 0, NULL), 2);
    CHECK_EQ_INT(call(s, inst, "get", 1, 3 * 65536 + 5, 0, NULL), 0);
    CHECK_EQ_INT(call(s, inst, "get", 1, 5 * 65536 - 1, 0, NULL), 0);
    wex_store_delete(s);
}

/* Freed slots wait until the queue holds a batch; the batch is reset with
 * one system call where process_madvise batches (one per slot with the
 * fallback forced); every slot of it then starts pristine. */
static void batch_on_full_queue(unsigned simulate) {
    for (int k = 0; k < 4; k += 2)
        for (int b = 0; b < 2; b++) {
            wex_bounds_t bounds = b ? WEX_BOUNDS_EXPLICIT : WEX_BOUNDS_GUARD_PAGES;
            /* Pooling would keep all of this small memory resident (zeroed
             * in place): nothing to batch. */
            wex_engine_t *e = engine_batched(all[k], bounds, simulate, 8, 4, 0);
            wex__allocator *a = e->alloc;
            wex_module_t *m = compile(e, "instantiate.wasm");
            wex_store_t *st[4];
            uint8_t *bases[4];
            hold(e, m, 4, st, bases);
            for (int i = 0; i < 3; i++)
                wex_store_delete(st[i]);
            CHECK_EQ_INT(wex__alloc_counted(a)->n_flushes, 0); /* three wait */
            wex_store_delete(st[3]);
            CHECK_EQ_INT(wex__alloc_counted(a)->n_flushes, 1); /* the fourth fills the batch */
            CHECK_EQ_INT(wex__alloc_counted(a)->n_flushed, 4);
            if (simulate & WEX_SIMULATE_NO_PROCESS_MADVISE)
                CHECK_EQ_INT(wex__alloc_counted(a)->n_decommit_calls, 4);
            else if (wex__os_decommit_batched())
                CHECK_EQ_INT(wex__alloc_counted(a)->n_decommit_calls, 1);
            /* Four instances again: all in the reset slots (warm), pristine. */
            hold(e, m, 0, st, bases);
            for (int i = 0; i < 4; i++)
                check_reused(e, m, bases, 4);
            wex_module_delete(m);
            wex_engine_delete(e);
        }
}
TEST(batch_flush_on_full_queue) {
    batch_on_full_queue(0);
}
TEST(batch_fallback_no_process_madvise) {
    batch_on_full_queue(WEX_SIMULATE_NO_PROCESS_MADVISE);
}

/* The kernel path itself: ranges given back by one call read as zero. */
TEST(decommit_many_zeroes) {
    size_t len = (size_t)16 << 12;
    uint8_t *p = wex__os_alloc_lazy(len);
    CHECK(p != NULL);
    for (int pass = 0; pass < 2; pass++) {
        memset(p, 0xAB, len);
        wex__os_range r[3] = {{p, 4096, false}, {p + 8192, 3 * 4096, false}, {p + 40960, 0, false}};
        unsigned calls = wex__os_decommit_many(r, 3, pass == 1);
        CHECK(r[0].done && r[1].done && r[2].done);
        CHECK_EQ_INT(calls, pass == 1 || !wex__os_decommit_batched() ? 2 : 1);
        for (size_t i = 0; i < len; i++) {
            bool zero = i < 4096 || (i >= 8192 && i < 8192 + 3 * 4096);
            if (p[i] != (zero ? 0 : 0xAB))
                wex_test_fail(__FILE__, __LINE__, "pass %d byte %zu is %d", pass, i, p[i]);
        }
    }
    wex__os_release(p, len);
}

/* An allocation that finds no clean slot resets the pending ones at once,
 * however few: they count as free, never as a full pool (even when a full
 * pool fails at once). */
TEST(batch_flush_when_no_clean_slot) {
    for (int k = 0; k < 4; k += 2) {
        wex_config_t *c = wex_config_new();
        wex_config_set_bounds_checks(c, WEX_BOUNDS_EXPLICIT);
        wex_config_set_instantiation_strategy(c, all[k]);
        wex_config_set_pool_slots(c, 4);
        wex_config_set_pool_max_memory(c, (uint64_t)1 << 20);
        wex_config_set_pool_decommit_batch(c, 4);
        wex_config_set_pool_keep_resident(c, 0);
        wex_config_set_pool_exhaustion(c, WEX_POOL_FAIL, 0);
        wex_engine_t *e = wex_engine_new(c);
        wex__allocator *a = e->alloc;
        wex_module_t *m = compile(e, "instantiate.wasm");
        wex_store_t *st[4];
        uint8_t *bases[4];
        hold(e, m, 4, st, bases);
        wex_store_delete(st[1]);
        wex_store_delete(st[2]);
        CHECK_EQ_INT(wex__alloc_counted(a)->n_flushes, 0);
        wex_store_t *s = wex_store_new(e);
        wex_instance_t *inst = instantiate(s, m); /* resets the two pending slots */
        CHECK_EQ_INT(wex__alloc_counted(a)->n_flushes, 1);
        CHECK_EQ_INT(wex__alloc_counted(a)->n_flushed, 2);
        uint8_t *d = wex_memory_data(get(inst, "memory").of.memory);
        CHECK(d == bases[1] || d == bases[2]);
        check_pristine(s, inst);
        /* The other reset slot is clean and free; then the pool is full. */
        wex_store_t *s2 = wex_store_new(e);
        check_pristine(s2, instantiate(s2, m));
        wex_store_t *s3 = wex_store_new(e);
        wex_error_t *err = wex_instance_new(s3, m, NULL, 0, &inst);
        CHECK(err != NULL);
        CHECK_STR_CONTAINS(wex_error_message(err), "pool exhausted");
        wex_error_delete(err);
        wex_store_delete(s3);
        wex_store_delete(s2);
        wex_store_delete(s);
        wex_store_delete(st[0]);
        wex_store_delete(st[3]);
        wex_module_delete(m);
        wex_engine_delete(e);
    }
}

/* A module deleted while slots that remember it wait to be reset: they
 * forget it (a new module at its address must not take them as warm). */
TEST(batch_module_forgotten_while_pending) {
    wex_engine_t *e =
        engine_batched(WEX_INSTANTIATION_POOLING_COW, WEX_BOUNDS_EXPLICIT, 0, 4, 4, UINT64_MAX);
    wex_module_t *m = compile(e, "instantiate.wasm");
    wex_store_t *st[4];
    uint8_t *bases[4];
    hold(e, m, 2, st, bases);
    wex_store_delete(st[0]);
    wex_store_delete(st[1]);
    wex_module_delete(m);
    wex_module_t *other = compile(e, "instantiate_sparse.wasm");
    for (int i = 0; i < 4; i++) {
        hold(e, m, 0, st, bases);
        wex_store_t *s = wex_store_new(e);
        wex_instance_t *inst = instantiate(s, other);
        const uint8_t *d = wex_memory_data(get(inst, "memory").of.memory);
        CHECK(memcmp(d, "start", 5) == 0);
        for (size_t j = 5; j < 200000; j++)
            if (d[j]) wex_test_fail(__FILE__, __LINE__, "byte %zu is %d", j, d[j]);
        wex_store_delete(s);
    }
    wex_module_delete(other);
    wex_engine_delete(e);
}

/* keep_resident on a PoolingCopyOnWrite slot with no image: the resident
 * pages are zeroed in place (no decommit at all when every page was
 * touched), the rest given back; the next occupant sees zeros either way. */
TEST(keep_resident_without_image) {
    wex_config_t *c = wex_config_new();
    wex_config_set_bounds_checks(c, WEX_BOUNDS_EXPLICIT);
    wex_config_set_pool_slots(c, 2);
    wex_config_set_pool_max_memory(c, (uint64_t)1 << 20);
    wex_config_set_pool_keep_resident(c, 65536);
    wex_config_set_pool_decommit_batch(c, 1);
    wex_engine_t *e = wex_engine_new(c);
    CHECK_EQ_INT(wex_engine_instantiation_strategy(e), WEX_INSTANTIATION_POOLING_COW);
    wex__allocator *a = e->alloc;
    wex_module_t *m = compile(e, "instantiate_nodata.wasm");
    uint8_t *first = NULL;
    for (int round = 0; round < 4; round++) {
        wex_store_t *s = wex_store_new(e);
        wex_instance_t *inst = instantiate(s, m);
        wex_memory_t *mem = get(inst, "memory").of.memory;
        uint8_t *d = wex_memory_data(mem);
        if (!first) first = d;
        CHECK(d == first);
        CHECK_EQ_INT(wex_memory_size(mem), 65536);
        for (size_t i = 0; i < 65536; i++)
            if (d[i]) wex_test_fail(__FILE__, __LINE__, "round %d byte %zu is %d", round, i, d[i]);
        /* Rounds 0, 2: two pages touched (with transparent huge pages the
         * kernel may make more resident); 1, 3: all, and in 3 a grown page
         * that has to be given back. */
        for (int32_t off = 0; off < 65536; off += round % 2 == 0 ? 61440 : 4096)
            call(s, inst, "poke", 2, off + 7, 0x5A, NULL);
        if (round == 3) {
            CHECK_EQ_INT(call(s, inst, "grow", 1, 1, 0, NULL), 1);
            call(s, inst, "poke", 2, 65536 + 9, 0x5A, NULL);
        }
        uint64_t zeroed = wex__alloc_counted(a)->n_zeroed;
        wex_store_delete(s);
        if (round == 1) CHECK_EQ_INT(wex__alloc_counted(a)->n_zeroed, zeroed + 1); /* no decommit */
        if (round == 3) CHECK_EQ_INT(wex__alloc_counted(a)->n_zeroed, zeroed); /* the grown page */
    }
    /* Grown pages past the kept ones: gone, and zero when grown again. */
    wex_store_t *s = wex_store_new(e);
    wex_instance_t *inst = instantiate(s, m);
    wex_memory_t *mem = get(inst, "memory").of.memory;
    CHECK_EQ_INT(wex_memory_size(mem), 65536);
    CHECK_EQ_INT(call(s, inst, "grow", 1, 1, 0, NULL), 1);
    CHECK_EQ_INT(wex_memory_data(mem)[65536 + 9], 0);
    wex_store_delete(s);
    wex_module_delete(m);
    wex_engine_delete(e);
}

/* More threads than slots, a batch smaller than the pool: slots go through
 * the pending queue, batches and waits from every side (run under TSan). */
TEST(threads_hammer_batched_pool) {
    for (int k = 0; k < 3; k += 2) {
        wex_config_t *c = wex_config_new();
        wex_config_set_instantiation_strategy(c, all[k]);
        wex_config_set_bounds_checks(c, WEX_BOUNDS_EXPLICIT);
        wex_config_set_pool_slots(c, 5);
        wex_config_set_pool_max_memory(c, (uint64_t)1 << 20);
        wex_config_set_pool_decommit_batch(c, 2);
        wex_config_set_pool_warm_slots(c, 3);    /* some freed slots go cold */
        wex_config_set_pool_keep_resident(c, 0); /* Pooling too: all given back */
        wex_config_set_pool_exhaustion(c, WEX_POOL_WAIT, 20000);
        wex_engine_t *e = wex_engine_new(c);
        wex_module_t *m = compile(e, "instantiate.wasm");
        run_workers(e, m, 300);
        if (wex__alloc_counted(e->alloc)->n_flushes == 0)
            wex_test_fail(__FILE__, __LINE__, "no batch was reset (%s)",
                          wex_instantiation_name(all[k]));
        wex_module_delete(m);
        wex_engine_delete(e);
    }
}

TEST(strategy_names) {
    CHECK(strcmp(wex_instantiation_name(WEX_INSTANTIATION_POOLING_COW), "pooling-cow") == 0);
    CHECK(strcmp(wex_instantiation_name(WEX_INSTANTIATION_RECREATE), "recreate") == 0);
    wex_engine_t *e = wex_engine_new(NULL);
    CHECK_EQ_INT(wex_engine_instantiation_strategy(e), WEX_INSTANTIATION_POOLING_COW);
    wex_engine_delete(e);
}

/*
 * PoolingCopyOnWrite puts the image back over the pages an instance wrote
 * (pool.c, restore_image) instead of dropping them: every written page must
 * read as the image again in the next instance of the same slot, whether
 * the slot copies them back (many pages written), skips the probe after a
 * round with few (then gives them back), or cannot probe at all
 * (WEX_SIMULATE_NO_IMAGE_RESTORE). 70 rounds on one slot cover the
 * backoff; each round writes a different set of pages, in and past the image
 * (grown pages), and checks that the last round's writes are gone.
 */
TEST(image_restore_copies_back_written_pages) {
    for (int sim = 0; sim < 2; sim++) {
        for (int bi = 0; bi < 2; bi++) {
            wex_bounds_t b = bi ? WEX_BOUNDS_EXPLICIT : WEX_BOUNDS_GUARD_PAGES;
            wex_engine_t *e = engine_with(WEX_INSTANTIATION_POOLING_COW, b,
                                          sim ? WEX_SIMULATE_NO_IMAGE_RESTORE : 0, 1);
            wex_module_t *m = compile(e, "instantiate.wasm");
            int32_t last[40];
            int nlast = 0;
            for (int round = 0; round < 70; round++) {
                wex_store_t *s = wex_store_new(e);
                wex_instance_t *inst = instantiate(s, m);
                const uint8_t *d = wex_memory_data(get(inst, "memory").of.memory);
                for (int k = 0; k < nlast; k++) {
                    int32_t at = last[k];
                    uint8_t want = at == 70001 ? 'o' : 0;
                    if (d[at] != want)
                        wex_test_fail(__FILE__, __LINE__, "sim %d round %d: byte %d is %d", sim,
                                      round, at, d[at]);
                }
                check_pristine(s, inst);
                /* Every third round writes 20 pages (worth copying back),
                 * the others 2 (the next probes are skipped). */
                nlast = 0;
                int pages = round % 3 == 0 ? 20 : 2;
                for (int k = 0; k < pages; k++) {
                    int32_t at = (int32_t)((k * 5 + round) % 31 + 1) * 4096 + 1 + round;
                    call(s, inst, "poke", 2, at, 0xAB, NULL);
                    last[nlast++] = at;
                }
                call(s, inst, "poke", 2, 70001, 'Z', NULL);
                last[nlast++] = 70001;
                if (round % 5 == 0) { /* grown pages: given back, never copied */
                    CHECK_EQ_INT(call(s, inst, "grow", 1, 1, 0, NULL), 2);
                    call(s, inst, "poke", 2, 2 * 65536 + 9, 'G', NULL);
                }
                wex_store_delete(s);
            }
            wex__allocator *a = e->alloc;
            if (sim) {
                CHECK_EQ_INT(wex__alloc_counted(a)->n_restored, 0);
            } else if (wex__alloc_counted(a)->n_restored == 0) {
                printf("  (no page flags here: /proc/self/pagemap unavailable)\n");
            } else {
                CHECK(wex__alloc_counted(a)->n_restored_pages >= 20);
            }
            wex_module_delete(m);
            wex_engine_delete(e);
        }
    }
}

/* The page flags restore_image relies on: in a private mapping of a memfd,
 * pages never touched are absent, pages only read are the file's (shared),
 * pages written are the process's own (private); a forked child reads its
 * own flags (the descriptor is per process). */
TEST(private_pages_flags) {
    size_t ps = (size_t)sysconf(_SC_PAGESIZE), n = 8;
    int fd = memfd_create("wex-test", MFD_CLOEXEC);
    CHECK(fd >= 0);
    CHECK(ftruncate(fd, (off_t)(n * ps)) == 0);
    uint8_t *p = mmap(NULL, n * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK(p != MAP_FAILED);
    volatile uint8_t sink = p[2 * ps]; /* read: the file's page */
    (void)sink;
    p[4 * ps] = 1; /* written: a private copy */
    uint8_t st[8];
    if (wex__os_private_pages(p, n, st) != 0) {
        printf("  (no /proc/self/pagemap here)\n");
    } else {
        CHECK_EQ_INT(st[0], WEX__OS_PAGE_ABSENT);
        CHECK_EQ_INT(st[2], WEX__OS_PAGE_SHARED);
        CHECK_EQ_INT(st[4], WEX__OS_PAGE_PRIVATE);
        pid_t pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
            /* The child's copy of page 4 is shared with the parent until
             * written; after a write page 6 is the child's own. */
            p[6 * ps] = 1;
            uint8_t cs[8];
            _exit(wex__os_private_pages(p, n, cs) == 0 && cs[6] == WEX__OS_PAGE_PRIVATE &&
                          cs[0] == WEX__OS_PAGE_ABSENT
                      ? 0
                      : 1);
        }
        int status = 0;
        CHECK(waitpid(pid, &status, 0) == pid);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    munmap(p, n * ps);
    close(fd);
}

/* ------------------------------------------------ per-thread slot caches (session 4) */

/* A pool of `slots` with thread caches of `cache` slots and a decommit batch
 * of `batch`; mode and timeout for exhaustion. */
static wex_engine_t *engine_cached(wex_instantiation_t s, wex_bounds_t b, uint32_t slots,
                                   uint32_t cache, uint32_t batch, wex_pool_exhaustion_t mode,
                                   uint32_t timeout_ms) {
    wex_config_t *c = wex_config_new();
    wex_config_set_bounds_checks(c, b);
    wex_config_set_instantiation_strategy(c, s);
    wex_config_set_pool_slots(c, slots);
    wex_config_set_pool_max_memory(c, (uint64_t)64 << 20);
    wex_config_set_pool_decommit_batch(c, batch);
    wex_config_set_pool_thread_cache(c, cache);
    wex_config_set_pool_exhaustion(c, mode, timeout_ms);
    wex_engine_t *e = wex_engine_new(c);
    CHECK(e != NULL);
    CHECK_EQ_INT(wex_engine_instantiation_strategy(e), s);
    return e;
}

/* Isolation across cached reuse: one thread makes, dirties everywhere and
 * drops instances one after another, so each next one takes the slot its
 * predecessor left in this thread's cache (directly, or after its pending
 * batch was reset); in both bounds modes and both pooling strategies, with
 * a cache of one and of two slots. */
static void cached_isolation(wex_bounds_t b) {
    wex_instantiation_t strat[2] = {WEX_INSTANTIATION_POOLING_COW, WEX_INSTANTIATION_POOLING};
    for (int k = 0; k < 2; k++) {
        for (uint32_t cache = 1; cache <= 2; cache++) {
            wex_engine_t *e = engine_cached(strat[k], b, 4, cache, cache, WEX_POOL_FAIL, 0);
            wex_module_t *m = compile(e, "instantiate.wasm");
            for (int round = 0; round < 6; round++) {
                wex_store_t *s = wex_store_new(e);
                wex_instance_t *inst = instantiate(s, m);
                check_pristine(s, inst);
                scribble(s, inst);
                wex_store_delete(s);
            }
            if (strat[k] == WEX_INSTANTIATION_POOLING_COW)
                CHECK(wex__alloc_counted(e->alloc)->n_warm >= 4); /* reused from the cache */
            wex_module_delete(m);
            wex_engine_delete(e);
        }
    }
}
TEST(thread_cache_isolation_guard) {
    cached_isolation(WEX_BOUNDS_GUARD_PAGES);
}
TEST(thread_cache_isolation_explicit) {
    cached_isolation(WEX_BOUNDS_EXPLICIT);
}

typedef struct {
    wex_engine_t *engine;
    wex_module_t *m[2];
    int n, bad, id;
} mixer_t;

/* Instances of two modules (the same bytes, two module objects: a slot
 * changes module), alternating in a pattern of its own per thread; each is
 * checked pristine where the previous occupant wrote, then dirtied. */
static void *mixer(void *arg) {
    mixer_t *w = arg;
    for (int i = 0; i < w->n; i++) {
        wex_module_t *m = w->m[((i >> (w->id & 1)) + w->id) & 1];
        wex_store_t *s = wex_store_new(w->engine);
        wex_instance_t *inst;
        wex_error_t *err = wex_instance_new(s, m, NULL, 0, &inst);
        if (err) {
            w->bad++;
            wex_error_delete(err);
        } else {
            wex_extern_t x;
            wex_instance_export(inst, "memory", 6, &x);
            wex_memory_t *mem = x.of.memory;
            uint8_t *d = wex_memory_data(mem);
            if (memcmp(d, "helLO", 5) != 0 || d[100] != 0 || d[70001] != 'o' ||
                wex_memory_size(mem) != 131072)
                w->bad++;
            wex_instance_export(inst, "g", 1, &x);
            if (wex_global_get(x.of.global).of.i32 != 7) w->bad++;
            wex_instance_export(inst, "t", 1, &x);
            if (wex_table_size(x.of.table) != 4) w->bad++;
            d[100] = 1;
            d[0] = 'Z';
            d[70001] = 'Q';
            wex_global_set(x.of.global, wex_val_i32(99)); /* not the global: checked below */
            wex_instance_export(inst, "g", 1, &x);
            wex_global_set(x.of.global, wex_val_i32(99));
            if (wex_memory_grow(mem, 1) != 2) w->bad++;
            wex_memory_data(mem)[2 * 65536 + 7] = 'G';
        }
        wex_store_delete(s);
    }
    return NULL;
}

/* Several threads instantiate the same and different modules at once with
 * tiny caches and batches, in a pool smaller than all they could cache (so
 * they also take slots from each other's caches, and wait); nothing wrong
 * is ever seen, in both strategies. */
TEST(thread_cache_threads_mixed) {
    for (int k = 0; k < 3; k += 2) {
        wex_engine_t *e = engine_cached(all[k], WEX_BOUNDS_EXPLICIT, 5, 2, 2, WEX_POOL_WAIT, 20000);
        mixer_t w[4];
        pthread_t th[4];
        wex_module_t *m1 = compile(e, "instantiate.wasm"), *m2 = compile(e, "instantiate.wasm");
        for (int i = 0; i < 4; i++) {
            w[i] = (mixer_t){e, {m1, m2}, 150, 0, i};
            pthread_create(&th[i], NULL, mixer, &w[i]);
        }
        for (int i = 0; i < 4; i++) {
            pthread_join(th[i], NULL);
            CHECK_EQ_INT(w[i].bad, 0);
        }
        wex__allocator *a = wex__alloc_counted(e->alloc);
        if (all[k] == WEX_INSTANTIATION_POOLING_COW)
            CHECK(a->n_mapped + a->n_warm >= 600); /* every instance counted, any thread */
        wex_module_delete(m1);
        /* m1's slots, cached by threads now gone, were forgotten: the
         * pool's slots all serve m2. */
        wex_store_t *st[5];
        for (int i = 0; i < 5; i++) {
            st[i] = wex_store_new(e);
            check_pristine(st[i], instantiate(st[i], m2));
        }
        for (int i = 0; i < 5; i++)
            wex_store_delete(st[i]);
        wex_module_delete(m2);
        wex_engine_delete(e);
    }
}

typedef struct {
    wex_engine_t *engine;
    wex_module_t *module;
    int live;           /* instances held at once, then dropped together */
    pthread_mutex_t mu; /* with cv: the thread parks until `go` */
    pthread_cond_t cv;
    int parked, go;
} cacher_t;

/* Make `live` instances at once, drop them (their slots go to this thread's
 * cache or pending batch), then park until told to go on, then exit. */
static void *cacher(void *arg) {
    cacher_t *c = arg;
    wex_store_t *st[8];
    for (int i = 0; i < c->live; i++) {
        st[i] = wex_store_new(c->engine);
        instantiate(st[i], c->module);
    }
    for (int i = 0; i < c->live; i++)
        wex_store_delete(st[i]);
    pthread_mutex_lock(&c->mu);
    c->parked = 1;
    pthread_cond_broadcast(&c->cv);
    while (!c->go)
        pthread_cond_wait(&c->cv, &c->mu);
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

static void cacher_start(cacher_t *c, pthread_t *th, wex_engine_t *e, wex_module_t *m, int live) {
    *c = (cacher_t){.engine = e, .module = m, .live = live};
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    pthread_create(th, NULL, cacher, c);
    pthread_mutex_lock(&c->mu);
    while (!c->parked)
        pthread_cond_wait(&c->cv, &c->mu);
    pthread_mutex_unlock(&c->mu);
}

static void cacher_finish(cacher_t *c, pthread_t th) {
    pthread_mutex_lock(&c->mu);
    c->go = 1;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    pthread_join(th, NULL);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
}

/* Exhaustion, failing mode: every slot sits in another (live, parked)
 * thread's cache or pending batch; this thread still gets them all, and
 * only then is the pool full. Caches of 3 with batches of 1 (slots cached
 * clean) and 2 (one pending batch reset by the taker). */
TEST(thread_cache_exhaustion_fails_honestly) {
    for (uint32_t batch = 1; batch <= 2; batch++) {
        wex_engine_t *e = engine_cached(WEX_INSTANTIATION_POOLING_COW, WEX_BOUNDS_EXPLICIT, 3, 3,
                                        batch, WEX_POOL_FAIL, 0);
        wex_module_t *m = compile(e, "instantiate.wasm");
        cacher_t c;
        pthread_t th;
        cacher_start(&c, &th, e, m, 3);
        wex_store_t *st[4];
        for (int i = 0; i < 3; i++) {
            st[i] = wex_store_new(e);
            check_pristine(st[i], instantiate(st[i], m));
        }
        st[3] = wex_store_new(e);
        wex_instance_t *inst;
        wex_error_t *err = wex_instance_new(st[3], m, NULL, 0, &inst);
        CHECK(err != NULL);
        CHECK_STR_CONTAINS(wex_error_message(err), "all 3 slots in use");
        wex_error_delete(err);
        for (int i = 0; i < 4; i++)
            wex_store_delete(st[i]);
        cacher_finish(&c, th);
        wex_module_delete(m);
        wex_engine_delete(e);
    }
}

/* Exhaustion, waiting mode: (1) the only slot is in another thread's cache:
 * taken at once, no wait; (2) the other thread holds the slot in use and
 * drops it later: its release goes to the shared lists (a thread waits)
 * and wakes this one, well before the timeout. */
TEST(thread_cache_exhaustion_waits_for_cached) {
    wex_engine_t *e = engine_cached(WEX_INSTANTIATION_POOLING_COW, WEX_BOUNDS_EXPLICIT, 1, 4, 1,
                                    WEX_POOL_WAIT, 10000);
    wex_module_t *m = compile(e, "instantiate.wasm");
    cacher_t c;
    pthread_t th;
    cacher_start(&c, &th, e, m, 1);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    wex_store_t *s = wex_store_new(e);
    check_pristine(s, instantiate(s, m));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK(t1.tv_sec - t0.tv_sec < 5);
    /* (2): this thread holds it; another frees it after 100 ms. */
    freer_t f = {s, 100};
    pthread_t th2;
    pthread_create(&th2, NULL, free_later, &f);
    wex_store_t *s2 = wex_store_new(e);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    check_pristine(s2, instantiate(s2, m));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK(t1.tv_sec - t0.tv_sec < 5);
    pthread_join(th2, NULL);
    wex_store_delete(s2);
    cacher_finish(&c, th);
    wex_module_delete(m);
    wex_engine_delete(e);
}

/* A thread exits with slots in its cache and pending batch: they go back
 * to the pool (all usable at once afterwards); then the module and the
 * engine are deleted (ASan: nothing leaked, nothing used after free). */
TEST(thread_cache_thread_exit_returns_slots) {
    for (int k = 0; k < 3; k += 2) {
        wex_engine_t *e = engine_cached(all[k], WEX_BOUNDS_EXPLICIT, 4, 2, 2, WEX_POOL_FAIL, 0);
        wex_module_t *m = compile(e, "instantiate.wasm");
        cacher_t c;
        pthread_t th;
        cacher_start(&c, &th, e, m, 4); /* 2 cached clean, 2 reset as a batch... */
        cacher_finish(&c, th);          /* ...and the thread is gone */
        wex_store_t *st[4];
        for (int i = 0; i < 4; i++) {
            st[i] = wex_store_new(e);
            wex_instance_t *inst = instantiate(st[i], m);
            check_pristine(st[i], inst);
            scribble(st[i], inst);
        }
        for (int i = 0; i < 4; i++)
            wex_store_delete(st[i]);
        wex_module_delete(m);
        wex_engine_delete(e);
    }
}

typedef struct {
    cacher_t *c;
    wex_engine_t *next; /* used after waking: the dead cache is met and freed */
    int bad;
} lingerer_t;

static void *linger(void *arg) {
    lingerer_t *l = arg;
    cacher(l->c);
    wex_module_t *m = compile(l->next, "instantiate.wasm");
    for (int i = 0; i < 3; i++) {
        wex_store_t *s = wex_store_new(l->next);
        wex_instance_t *inst;
        wex_error_t *err = wex_instance_new(s, m, NULL, 0, &inst);
        if (err) {
            l->bad++;
            wex_error_delete(err);
        }
        wex_store_delete(s);
    }
    wex_module_delete(m);
    return NULL;
}

/* A live thread has slots of module m cached when m is deleted, then the
 * engine: the slots are taken from its cache (forgotten, then released with
 * the pool); the thread then uses another engine, meeting its dead cache,
 * and exits (ASan, TSan: no leak, no use after free, no race). */
TEST(thread_cache_module_and_engine_deleted_under_a_thread) {
    wex_engine_t *e = engine_cached(WEX_INSTANTIATION_POOLING_COW, WEX_BOUNDS_EXPLICIT, 4, 4, 2,
                                    WEX_POOL_FAIL, 0);
    wex_engine_t *e2 = engine_cached(WEX_INSTANTIATION_POOLING_COW, WEX_BOUNDS_EXPLICIT, 2, 2, 1,
                                     WEX_POOL_FAIL, 0);
    wex_module_t *m = compile(e, "instantiate.wasm");
    cacher_t c = {.engine = e, .module = m, .live = 3};
    pthread_mutex_init(&c.mu, NULL);
    pthread_cond_init(&c.cv, NULL);
    lingerer_t l = {&c, e2, 0};
    pthread_t th;
    pthread_create(&th, NULL, linger, &l);
    pthread_mutex_lock(&c.mu);
    while (!c.parked)
        pthread_cond_wait(&c.cv, &c.mu);
    pthread_mutex_unlock(&c.mu);
    wex_module_delete(m); /* its slots sit in the parked thread's cache */
    /* A new module (maybe at m's address) never gets m's slots warm. */
    wex_module_t *m2 = compile(e, "instantiate.wasm");
    wex_store_t *st[4];
    for (int i = 0; i < 4; i++) {
        st[i] = wex_store_new(e);
        check_pristine(st[i], instantiate(st[i], m2));
    }
    for (int i = 0; i < 4; i++)
        wex_store_delete(st[i]);
    wex_module_delete(m2);
    wex_engine_delete(e); /* this thread's and the parked thread's caches die */
    pthread_mutex_lock(&c.mu);
    c.go = 1;
    pthread_cond_broadcast(&c.cv);
    pthread_mutex_unlock(&c.mu);
    pthread_join(th, NULL);
    CHECK_EQ_INT(l.bad, 0);
    pthread_mutex_destroy(&c.mu);
    pthread_cond_destroy(&c.cv);
    wex_engine_delete(e2);
}

/* An element segment out of bounds of its table: the trap code, and a
 * message that names the segment. */
TEST(out_of_bounds_element_segment_says_which) {
    wex_engine_t *e = wex_engine_new(NULL);
    wex_module_t *m = compile(e, "instantiate_oob_elem.wasm");
    wex_store_t *s = wex_store_new(e);
    wex_instance_t *inst;
    wex_error_t *err = wex_instance_new(s, m, NULL, 0, &inst);
    CHECK(err != NULL);
    CHECK_EQ_INT(wex_error_code(err), WEX_ERR_TRAP);
    CHECK_EQ_INT(wex_error_trap_code(err), WEX_TRAP_TABLE_OOB);
    CHECK(!strcmp(wex_error_message(err),
                  "out of bounds table access while initialising element segment 0"));
    wex_error_delete(err);
    wex_store_delete(s);
    wex_module_delete(m);
    wex_engine_delete(e);
}
