/*
 * test_br_table.c - br_table branching backwards to a loop, in both
 * bounds-check builds of the loop (tests/wat/br_table_loop.wat).
 */
#include "harness.h"
#include "wex.h"

static void sum(wex_bounds_t bounds) {
    wex_config_t *cfg = wex_config_new();
    wex_config_set_bounds_checks(cfg, bounds);
    wex_engine_t *engine = wex_engine_new(cfg);
    size_t len;
    unsigned char *bytes = wex_test_read_wasm("br_table_loop.wasm", &len);
    wex_module_t *module;
    wex_error_t *err = wex_module_new(engine, bytes, len, &module);
    free(bytes);
    CHECK(err == NULL);
    wex_store_t *store = wex_store_new(engine);
    wex_instance_t *inst;
    CHECK(wex_instance_new(store, module, NULL, 0, &inst) == NULL);
    wex_extern_t ex;
    CHECK(wex_instance_export(inst, "sum", 3, &ex));
    for (int n = 1; n <= 100; n += 33) {
        wex_val_t a = wex_val_i32(n), r;
        CHECK(wex_func_call(store, ex.of.func, &a, 1, &r, 1) == NULL);
        CHECK_EQ_INT(r.of.i32, n * (n + 1) / 2);
    }
    wex_store_delete(store);
    wex_module_delete(module);
    wex_engine_delete(engine);
}

TEST(br_table_backward_guard) {
    sum(WEX_BOUNDS_GUARD_PAGES);
}
TEST(br_table_backward_explicit) {
    sum(WEX_BOUNDS_EXPLICIT);
}
