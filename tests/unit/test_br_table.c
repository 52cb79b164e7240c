/*
 * test_br_table.c - br_table branching backwards to a loop, in both
 * bounds-check builds of the loop (tests/wat/br_table_loop.wat).
 */
#include "harness.h"
#include "wex.h"

static void sum(wex_bounds_t bounds) {
    wex_test_instance t;
    wex_test_instance_new("br_table_loop.wasm", bounds, &t);
    wex_store_t *store = t.store;
    wex_instance_t *inst = t.inst;
    wex_extern_t ex;
    CHECK(wex_instance_export(inst, "sum", 3, &ex));
    for (int n = 1; n <= 100; n += 33) {
        wex_val_t a = wex_val_i32(n), r;
        CHECK(wex_func_call(store, ex.of.func, &a, 1, &r, 1) == NULL);
        CHECK_EQ_INT(r.of.i32, n * (n + 1) / 2);
    }
    wex_test_instance_free(&t);
}

TEST(br_table_backward_guard) {
    sum(WEX_BOUNDS_GUARD_PAGES);
}
TEST(br_table_backward_explicit) {
    sum(WEX_BOUNDS_EXPLICIT);
}
