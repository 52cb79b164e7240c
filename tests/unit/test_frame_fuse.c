/*
 * test_frame_fuse.c - the prologue and branch-move fusions (compile.c,
 * frame_fuse_prologue and frame_fuse_move_jmp) against what the
 * WebAssembly in tests/wat/frame_fuse.wat means, in both bounds modes: the
 * stack pointer global is moved and restored exactly, a global.get that a
 * local.set retargeted is not fused away, a set of another global goes to
 * that global, and branches that carry one value land with it. Also: the
 * declared locals a call zeroes in chunks of four slots start at zero after
 * a call that left -1 in every slot above. Runs of two to five moves before
 * a loop's jump (MOVE2_JMP .. MOVE4_JMP) rotate its locals as C does, and
 * an epilogue's stack-pointer restore fused with the return
 * (GLOBAL_SET_ADDI_RET*) restores it and returns the result.
 */
#include "harness.h"
#include "wex.h"

#include <stdint.h>

static int32_t call(wex_test_instance *t, const char *name, const int32_t *args, size_t n) {
    wex_extern_t ex;
    CHECK(wex_instance_export(t->inst, name, strlen(name), &ex));
    wex_val_t a[3], r;
    for (size_t i = 0; i < n; i++)
        a[i] = wex_val_i32(args[i]);
    wex_error_t *err = wex_func_call(t->store, ex.of.func, a, n, &r, 1);
    if (err) wex_test_fail(__FILE__, __LINE__, "%s: %s", name, wex_error_message(err));
    return r.of.i32;
}

static void run(wex_bounds_t bounds) {
    wex_test_instance t;
    wex_test_instance_new("frame_fuse.wasm", bounds, &t);
    CHECK_EQ_INT(call(&t, "sp", NULL, 0), 1000);
    /* depth 3, 10 bytes a frame: fps 990, 980, 970, 960; sum of them */
    int32_t a[2] = {10, 3};
    CHECK_EQ_INT(call(&t, "frame", a, 2), 990 + 980 + 970 + 960);
    CHECK_EQ_INT(call(&t, "sp", NULL, 0), 1000);
    CHECK_EQ_INT(call(&t, "frame16", NULL, 0), 984);
    CHECK_EQ_INT(call(&t, "sp", NULL, 0), 1000);
    CHECK_EQ_INT(call(&t, "retarget", NULL, 0), 1000 * 1000 + 984);
    CHECK_EQ_INT(call(&t, "sp", NULL, 0), 1000);
    CHECK_EQ_INT(call(&t, "cross", NULL, 0), 992);
    CHECK_EQ_INT(call(&t, "sp", NULL, 0), 1000);
    CHECK_EQ_INT(call(&t, "other", NULL, 0), 992);
    /* wraparound of the i32 subtraction */
    int32_t w[2] = {1001, 0};
    CHECK_EQ_INT(call(&t, "frame", w, 2), -1 + 0);
    CHECK_EQ_INT(call(&t, "sp", NULL, 0), 1000);
    for (int32_t c = 0; c < 2; c++) {
        int32_t p[3] = {c, 11, 22};
        CHECK_EQ_INT(call(&t, "pick", p, 3), c ? 11 : 22);
    }
    for (int32_t n = 0; n < 6; n++)
        CHECK_EQ_INT(call(&t, "sumto", &n, 1), n * (n - 1) / 2);
    /* br_if $i carries a when b is set (then a + 7), else br $o carries a */
    int32_t q[2] = {0, 5}, r[2] = {3, 5}, z[2] = {3, 0};
    CHECK_EQ_INT(call(&t, "nested", q, 2), 7);
    CHECK_EQ_INT(call(&t, "nested", r, 2), 10);
    CHECK_EQ_INT(call(&t, "nested", z, 2), 3);
    /* declared locals read before written start at zero in every chunk */
    wex_extern_t ex;
    CHECK(wex_instance_export(t.inst, "zeros", 5, &ex));
    wex_val_t zr;
    CHECK(wex_func_call(t.store, ex.of.func, NULL, 0, &zr, 1) == NULL);
    CHECK(zr.of.i64 == 0);
    /* epilogues fused with the return: the result, and sp restored */
    int32_t x = 5;
    CHECK_EQ_INT(call(&t, "epi1", &x, 1), 15 + 968);
    CHECK_EQ_INT(call(&t, "sp", NULL, 0), 1000);
    CHECK(wex_instance_export(t.inst, "epi0", 4, &ex));
    wex_val_t xv = wex_val_i32(2000);
    CHECK(wex_func_call(t.store, ex.of.func, &xv, 1, NULL, 0) == NULL);
    CHECK_EQ_INT(call(&t, "seen", NULL, 0), 2000 - 984);
    CHECK_EQ_INT(call(&t, "sp", NULL, 0), 1000);
    /* k locals rotated by moves before the loop's jump, as C computes it */
    for (uint32_t k = 2; k <= 5; k++) {
        for (int32_t n = 0; n < 7; n++) {
            uint32_t v[5], m = (uint32_t)n;
            for (uint32_t i = 0; i < k; i++)
                v[i] = i + 1;
            while (m) {
                uint32_t tv = v[0] + 2 * v[k - 1] + m;
                m--;
                for (uint32_t i = 0; i + 1 < k; i++)
                    v[i] = v[i + 1];
                v[k - 1] = tv;
            }
            uint32_t want = 0;
            for (uint32_t i = 0; i < k; i++)
                want = want * 31 + v[i];
            char name[8];
            snprintf(name, sizeof name, "rot%u", k);
            CHECK_EQ_INT((uint32_t)call(&t, name, &n, 1), want);
        }
    }
    wex_test_instance_free(&t);
}

TEST(guard_pages) {
    run(WEX_BOUNDS_GUARD_PAGES);
}

TEST(explicit_checks) {
    run(WEX_BOUNDS_EXPLICIT);
}
