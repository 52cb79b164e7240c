/*
 * test_call_fuse.c - the call and return fusions (compile.c,
 * call_fuse_addi and emit_return) against what tests/wat/call_fuse.wat
 * means, in both bounds modes and from a serialized artifact (whose direct
 * calls are checked lazily, by the call word the fused form carries): the
 * argument the add computes reaches the callee in either position, wraps
 * around, an add into a local before a call is left alone, recursion
 * through the fused call returns and exhausts the stack with a backtrace
 * naming the function, and `return x + y` returns the sum on every path.
 * Argument moves and a load before calls (X_CALL_L/_LZ) pass the right
 * values, and the fused load's trap names the load.
 */
#include "harness.h"
#include "wex.h"

#include <stdint.h>
#include <unistd.h>

static wex_error_t *call2(wex_store_t *s, wex_instance_t *inst, const char *name, int32_t x,
                          int32_t y, size_t n, int32_t *out) {
    wex_extern_t ex;
    CHECK(wex_instance_export(inst, name, strlen(name), &ex));
    wex_val_t a[2] = {wex_val_i32(x), wex_val_i32(y)}, r;
    wex_error_t *err = wex_func_call(s, ex.of.func, a, n, &r, 1);
    if (!err) *out = r.of.i32;
    return err;
}

static int32_t ok2(wex_store_t *s, wex_instance_t *inst, const char *name, int32_t x, int32_t y,
                   size_t n) {
    int32_t r = 0;
    wex_error_t *err = call2(s, inst, name, x, y, n, &r);
    if (err) wex_test_fail(__FILE__, __LINE__, "%s: %s", name, wex_error_message(err));
    return r;
}

static int32_t call3(wex_store_t *s, wex_instance_t *inst, const char *name, int32_t x, int32_t y,
                     int32_t z) {
    wex_extern_t ex;
    CHECK(wex_instance_export(inst, name, strlen(name), &ex));
    wex_val_t a[3] = {wex_val_i32(x), wex_val_i32(y), wex_val_i32(z)}, r;
    wex_error_t *err = wex_func_call(s, ex.of.func, a, 3, &r, 1);
    if (err) wex_test_fail(__FILE__, __LINE__, "%s: %s", name, wex_error_message(err));
    return r.of.i32;
}

/* The load fused into a call traps out of bounds; with explicit checks the
 * innermost frame names the i32.load (opcode 0x28) itself. */
static void check_load_trap(wex_store_t *s, wex_instance_t *inst, bool exact) {
    int32_t r;
    wex_error_t *err = call2(s, inst, "load_arg", 65532, 1, 2, &r);
    CHECK(err != NULL);
    CHECK(wex_error_trap_code(err) == WEX_TRAP_MEMORY_OOB);
    wex_frame_t fr;
    CHECK(wex_error_frame(err, 0, &fr));
    if (exact) {
        size_t len;
        uint8_t *bytes = wex_test_read_wasm("call_fuse.wasm", &len);
        CHECK(fr.module_offset > 0 && (size_t)fr.module_offset < len);
        CHECK_EQ_INT(bytes[fr.module_offset], 0x28);
        free(bytes);
    }
    wex_error_delete(err);
}

static void check_all(wex_store_t *s, wex_instance_t *inst) {
    /* second argument: k - (x + 0x7fffffff), wrapping */
    CHECK_EQ_INT(ok2(s, inst, "second", 1, 0, 2), INT32_MIN);
    CHECK_EQ_INT(ok2(s, inst, "second", 0, 10, 2), 10 - INT32_MAX);
    CHECK_EQ_INT(ok2(s, inst, "first", 7, 1, 2), 1);
    CHECK_EQ_INT(ok2(s, inst, "first", INT32_MIN, 0, 2), INT32_MAX - 4);
    static const int32_t fibs[] = {0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 377, 610};
    for (int32_t n = 0; n < 16; n++)
        CHECK_EQ_INT(ok2(s, inst, "fib", n, 0, 1), fibs[n]);
    CHECK_EQ_INT(ok2(s, inst, "fib", 25, 0, 1), 75025);
    CHECK_EQ_INT(ok2(s, inst, "local_then_call", 4, 0, 1), 107);
    /* callees with three chunks of locals to zero, over dirtied slots */
    for (int k = 0; k < 3; k++) {
        CHECK_EQ_INT(ok2(s, inst, "down9", 40, 0, 1), 40);
        CHECK_EQ_INT(ok2(s, inst, "move2_z9", 5, 7, 2), 2);
    }
    /* argument moves and a load right before calls (L and LZ forms) */
    CHECK_EQ_INT(ok2(s, inst, "move1", 5, 7, 2), 1007 + 2005);
    CHECK_EQ_INT(ok2(s, inst, "move2", 5, 7, 2), 2 * 100 + 2);
    CHECK_EQ_INT(call3(s, inst, "move3", 1, 10, 100), (100 - 10 - 1) * 100 + (100 - 1 - 10));
    CHECK_EQ_INT(ok2(s, inst, "load_arg", 12, 3, 2), 1007 * 3 + 2007);
    CHECK_EQ_INT(ok2(s, inst, "load_arg", 16, 3, 2), 993 * 3 + 1993); /* loads -7 */
    CHECK_EQ_INT(ok2(s, inst, "down", 5000, 0, 1), 5000);
    CHECK_EQ_INT(ok2(s, inst, "ret_end", INT32_MAX, 1, 2), INT32_MIN);
    CHECK_EQ_INT(ok2(s, inst, "ret_return", -3, 10, 2), 7);
    CHECK_EQ_INT(ok2(s, inst, "ret_return", 3, 10, 2), -7);
    CHECK_EQ_INT(ok2(s, inst, "ret_br_if", 2, 5, 2), 7);
    CHECK_EQ_INT(ok2(s, inst, "ret_br_if", 0, 5, 2), 15);
    int32_t r;
    wex_error_t *err = call2(s, inst, "runaway", 0, 0, 1, &r);
    CHECK(err != NULL);
    CHECK(wex_error_trap_code(err) == WEX_TRAP_CALL_STACK_EXHAUSTED);
    CHECK(wex_error_frame_count(err) > 1);
    wex_frame_t fr;
    CHECK(wex_error_frame(err, 0, &fr));
    CHECK_EQ_INT(fr.func_index, 7); /* runaway, and its caller too */
    CHECK(wex_error_frame(err, 1, &fr));
    CHECK_EQ_INT(fr.func_index, 7);
    wex_error_delete(err);
    /* the store is still usable after the trap */
    CHECK_EQ_INT(ok2(s, inst, "fib", 10, 0, 1), 55);
}

static void run(wex_bounds_t bounds) {
    wex_test_instance t;
    wex_test_instance_new("call_fuse.wasm", bounds, &t);
    check_all(t.store, t.inst);
    check_load_trap(t.store, t.inst, bounds == WEX_BOUNDS_EXPLICIT);
    wex_test_instance_free(&t);
}

TEST(guard_pages) {
    run(WEX_BOUNDS_GUARD_PAGES);
}

TEST(explicit_checks) {
    run(WEX_BOUNDS_EXPLICIT);
}

/* From an artifact: the direct calls are checked on first entry (lazily),
 * by the call word inside each fused instruction. */
TEST(from_artifact) {
    wex_test_instance t;
    wex_test_instance_new("call_fuse.wasm", WEX_BOUNDS_GUARD_PAGES, &t);
    char path[] = "/tmp/wex-call-fuse-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    CHECK(wex_module_serialize(t.module, path) == NULL);
    wex_module_t *m;
    wex_error_t *err = wex_module_deserialize_file(t.engine, path, &m);
    unlink(path);
    if (err) wex_test_fail(__FILE__, __LINE__, "deserialize: %s", wex_error_message(err));
    wex_store_t *s = wex_store_new(t.engine);
    wex_instance_t *inst;
    CHECK(wex_instance_new(s, m, NULL, 0, &inst) == NULL);
    check_all(s, inst);
    wex_store_delete(s);
    wex_module_delete(m);
    wex_test_instance_free(&t);
}
