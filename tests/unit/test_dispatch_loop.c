/*
 * test_dispatch_loop.c - loops whose head is a br_table, which the
 * translator copies to each branch back to the loop (compile.c,
 * dup_loop_head). tests/wat/dispatch_loop.wat holds three small bytecode
 * machines that differ only in how the br_table gets its key; each must
 * agree with the reference machine below, in both bounds-check modes; a key
 * load past the end of memory in a copied head must trap.
 */
#include "harness.h"
#include "wex.h"

#include <stdint.h>

/* The machine of dispatch_loop.wat, in C. */
static int32_t reference(const int32_t *code, int32_t cnt) {
    int32_t pc = 0, acc = 0;
    for (;;) {
        switch (code[pc]) {
        case 0: acc += code[pc + 1], pc += 2; break;
        case 1: acc *= 3, pc += 1; break;
        case 2: acc ^= pc, pc += 1; break;
        case 3: pc = --cnt > 0 ? code[pc + 1] : pc + 2; break;
        case 4: return acc;
        default: return -1;
        }
    }
}

static void run(wex_bounds_t bounds) {
    static const int32_t prog_a[] = {0, 5, 1, 2, 3, 0, 0, 7, 2, 4};
    static const int32_t prog_b[] = {1, 0, 9, 3, 0, 2, 9};
    wex_test_instance t;
    wex_test_instance_new("dispatch_loop.wasm", bounds, &t);
    wex_store_t *store = t.store;
    wex_instance_t *inst = t.inst;
    wex_error_t *err;
    static const char *const names[] = {"run_r", "run_p", "run_i"};
    for (int f = 0; f < 3; f++) {
        wex_extern_t ex;
        CHECK(wex_instance_export(inst, names[f], strlen(names[f]), &ex));
        for (int32_t cnt = 0; cnt <= 6; cnt++) {
            for (int p = 0; p < 2; p++) {
                wex_val_t a[2] = {wex_val_i32(p ? 256 : 0), wex_val_i32(cnt)}, r;
                CHECK(wex_func_call(store, ex.of.func, a, 2, &r, 1) == NULL);
                CHECK_EQ_INT(r.of.i32, reference(p ? prog_b : prog_a, cnt));
            }
        }
        /* Memory ends after one op (1: acc *= 3): the next key load (in the
         * head copied to that case's back edge, or in run_i's case body) is
         * out of bounds. */
        wex_val_t a[2] = {wex_val_i32(65536 - 4), wex_val_i32(1)}, r;
        err = wex_func_call(store, ex.of.func, a, 2, &r, 1);
        CHECK(err != NULL && wex_error_trap_code(err) == WEX_TRAP_MEMORY_OOB);
        wex_error_delete(err);
    }
    wex_test_instance_free(&t);
}

TEST(guard_pages) {
    run(WEX_BOUNDS_GUARD_PAGES);
}

TEST(explicit_checks) {
    run(WEX_BOUNDS_EXPLICIT);
}
