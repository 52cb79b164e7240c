/*
 * test_limits.c - a store's resource limits (wex_store_set_limits,
 * wex_store_set_grow_callback): memory.grow and table.grow past a limit give
 * -1 in the interpreter and in native code, nothing changes size; the
 * callback refuses growth within the limits; instantiation and the API's
 * constructors fail with WEX_ERR_LIMIT beyond the counts or initial sizes.
 * Program: tests/wat/limits.wat. The native rows need wex-llvmc.
 */
#include "harness.h"
#include "wex.h"
#include "wex_cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef wex_test_instance env_t;

static const wex_store_limits_t none = {WEX_NO_LIMIT, WEX_NO_LIMIT, WEX_NO_LIMIT, WEX_NO_LIMIT,
                                        WEX_NO_LIMIT};

/* The engine, module and store; no instance yet. */
static void load(env_t *e, wex_tier_t tier) {
    wex_config_t *cfg = wex_config_new();
    wex_config_set_tier(cfg, tier);
    wex_config_set_cache(cfg, NULL);
    e->engine = wex_engine_new(cfg);
    CHECK(e->engine != NULL);
    size_t len;
    uint8_t *bytes = wex_test_read_wasm("limits.wasm", &len);
    wex_error_t *err = wex_module_new(e->engine, bytes, len, &e->module);
    free(bytes);
    if (err) wex_test_fail(__FILE__, __LINE__, "module: %s", wex_error_message(err));
    e->store = wex_store_new(e->engine);
    e->inst = NULL;
}

static void instantiate(env_t *e) {
    wex_error_t *err = wex_instance_new(e->store, e->module, NULL, 0, &e->inst);
    if (err) wex_test_fail(__FILE__, __LINE__, "instance: %s", wex_error_message(err));
}

static int32_t call1(env_t *e, const char *name, int32_t arg, bool has_arg) {
    wex_val_t a = wex_val_i32(arg), r;
    wex_error_t *err =
        wex_func_call(e->store, wex_test_export_func(e->inst, name), &a, has_arg, &r, 1);
    if (err) wex_test_fail(__FILE__, __LINE__, "%s: %s", name, wex_error_message(err));
    return r.of.i32;
}

static int tiers(wex_tier_t out[2]) {
    out[0] = WEX_TIER_INTERP;
    out[1] = WEX_TIER_NATIVE;
    return wex_test_native_rows() ? 2 : 1;
}

TEST(growth_stops_at_the_limits) {
    wex_tier_t t[2];
    for (int i = 0, n = tiers(t); i < n; i++) {
        env_t e;
        load(&e, t[i]);
        wex_store_limits_t lim = none;
        lim.memory_bytes = 3 * WEX_PAGE_SIZE;
        lim.table_elements = 5;
        wex_store_set_limits(e.store, &lim);
        instantiate(&e);
        CHECK_EQ_INT(call1(&e, "grow_mem", 2, true), 1);  /* 1 -> 3 pages */
        CHECK_EQ_INT(call1(&e, "grow_mem", 1, true), -1); /* 4: beyond */
        CHECK_EQ_INT(call1(&e, "mem_pages", 0, false), 3);
        CHECK_EQ_INT(call1(&e, "grow_table", 3, true), 2);  /* 2 -> 5 */
        CHECK_EQ_INT(call1(&e, "grow_table", 1, true), -1); /* 6: beyond */
        wex_test_instance_free(&e);
    }
}

/* A callback that allows growth to at most `data` pages and counts calls. */
typedef struct {
    uint64_t max_bytes;
    int calls;
} grow_policy;

static bool policy(void *data, wex_store_t *store, wex_externkind_t kind, uint64_t current,
                   uint64_t desired) {
    grow_policy *p = data;
    (void)store;
    p->calls++;
    CHECK(desired > current);
    return kind != WEX_EXTERN_MEMORY || desired <= p->max_bytes;
}

TEST(callback_decides_within_the_limits) {
    wex_tier_t t[2];
    for (int i = 0, n = tiers(t); i < n; i++) {
        env_t e;
        load(&e, t[i]);
        grow_policy p = {2 * WEX_PAGE_SIZE, 0};
        wex_store_set_grow_callback(e.store, policy, &p);
        instantiate(&e);
        CHECK_EQ_INT(call1(&e, "grow_mem", 1, true), 1);
        CHECK_EQ_INT(call1(&e, "grow_mem", 1, true), -1);
        CHECK_EQ_INT(call1(&e, "grow_mem", 0, true), 2); /* no growth: not asked */
        CHECK_EQ_INT(p.calls, 2);
        CHECK_EQ_INT(call1(&e, "grow_table", 1, true), 2);
        CHECK_EQ_INT(p.calls, 3);
        wex_test_instance_free(&e);
    }
}

static void expect_limit(wex_error_t *err, const char *what) {
    CHECK(err != NULL);
    CHECK_EQ_INT(wex_error_code(err), WEX_ERR_LIMIT);
    CHECK_STR_CONTAINS(wex_error_message(err), what);
    wex_error_delete(err);
}

TEST(counts_and_initial_sizes) {
    env_t e;
    load(&e, WEX_TIER_INTERP);
    wex_store_limits_t lim = none;
    lim.instances = 1;
    wex_store_set_limits(e.store, &lim);
    instantiate(&e);
    wex_instance_t *second;
    expect_limit(wex_instance_new(e.store, e.module, NULL, 0, &second), "1 instances");
    wex_test_instance_free(&e);

    load(&e, WEX_TIER_INTERP);
    lim = none;
    lim.memories = 1;
    lim.tables = 1;
    wex_store_set_limits(e.store, &lim);
    instantiate(&e); /* one memory, one table: at the limits */
    wex_memory_t *m;
    wex_table_t *tb;
    wex_limits_t l = {1, 1, true, false};
    expect_limit(wex_memory_new(e.store, l, &m), "1 memories");
    expect_limit(wex_table_new(e.store, WEX_FUNCREF, l, (wex_val_t){.kind = WEX_FUNCREF}, &tb),
                 "1 tables");
    wex_test_instance_free(&e);

    load(&e, WEX_TIER_INTERP);
    lim = none;
    lim.memory_bytes = WEX_PAGE_SIZE / 2; /* below the module's 1 page */
    wex_store_set_limits(e.store, &lim);
    wex_instance_t *inst;
    expect_limit(wex_instance_new(e.store, e.module, NULL, 0, &inst), "beyond the store's limit");
    lim.memory_bytes = WEX_NO_LIMIT;
    lim.table_elements = 1; /* below the module's 2 */
    wex_store_set_limits(e.store, &lim);
    expect_limit(wex_instance_new(e.store, e.module, NULL, 0, &inst), "table of 2 elements");
    /* the API's memories: made within, grown to the limit only */
    lim = none;
    lim.memory_bytes = 2 * WEX_PAGE_SIZE;
    wex_store_set_limits(e.store, &lim);
    CHECK(wex_memory_new(e.store, l, &m) == NULL);
    CHECK(wex_memory_grow(m, 1) == -1); /* its own max is 1 page */
    wex_limits_t l3 = {1, 3, true, false};
    CHECK(wex_memory_new(e.store, l3, &m) == NULL);
    CHECK(wex_memory_grow(m, 1) == 1);
    CHECK(wex_memory_grow(m, 1) == -1); /* 3 pages: beyond 2 */
    CHECK(wex_memory_size(m) == 2 * WEX_PAGE_SIZE);
    wex_test_instance_free(&e);
}
