/*
 * test_backtrace.c - the WebAssembly backtraces that traps carry
 * (wex_error_frame_count / wex_error_frame), on tests/wat/backtrace.wat and
 * backtrace_host.wat (both compiled with their name sections). Offsets are
 * checked against the module's bytes: frame 0 must point at the trapping
 * operator, every caller at a `call` of the frame below it.
 */
#include "harness.h"
#include "wex.h"

#include <stdint.h>

typedef struct {
    wex_engine_t *engine;
    wex_module_t *module;
    wex_store_t *store;
    wex_instance_t *inst;
    uint8_t *bytes;
    size_t len;
} env_t;

static wex_func_t *func(env_t *e, const char *name) {
    wex_extern_t ex;
    CHECK(wex_instance_export(e->inst, name, strlen(name), &ex));
    CHECK(ex.kind == WEX_EXTERN_FUNC);
    return ex.of.func;
}

/* host.reenter: call the instance's "inner" export, passing its error on. */
static wex_error_t *host_reenter(void *env, wex_store_t *s, const wex_val_t *args, wex_val_t *res) {
    env_t *e = env;
    return wex_func_call(s, func(e, "inner"), args, 1, res, 1);
}
static wex_error_t *host_fail(void *env, wex_store_t *s, const wex_val_t *args, wex_val_t *res) {
    (void)env, (void)s, (void)args, (void)res;
    return wex_error_new(WEX_ERR_TRAP, "host says no");
}
static wex_error_t *host_quit(void *env, wex_store_t *s, const wex_val_t *args, wex_val_t *res) {
    (void)env, (void)s, (void)res;
    return wex_error_new_exit(args[0].of.i32);
}

static env_t *load(const char *name, wex_bounds_t bounds, uint32_t max_depth) {
    env_t *e = calloc(1, sizeof *e);
    CHECK(e != NULL);
    wex_config_t *cfg = wex_config_new();
    wex_config_set_bounds_checks(cfg, bounds);
    if (max_depth) wex_config_set_max_call_depth(cfg, max_depth);
    e->engine = wex_engine_new(cfg);
    CHECK(e->engine != NULL);
    e->bytes = wex_test_read_wasm(name, &e->len);
    wex_error_t *err = wex_module_new(e->engine, e->bytes, e->len, &e->module);
    if (err) wex_test_fail(__FILE__, __LINE__, "module: %s", wex_error_message(err));
    e->store = wex_store_new(e->engine);
    size_t n = wex_module_import_count(e->module);
    wex_extern_t imports[4];
    CHECK(n <= 4);
    for (size_t i = 0; i < n; i++) {
        wex_importdesc_t d;
        wex_module_import(e->module, i, &d);
        wex_host_callback_t cb = strcmp(d.name, "reenter") == 0 ? host_reenter
                                 : strcmp(d.name, "fail") == 0  ? host_fail
                                                                : host_quit;
        imports[i].kind = WEX_EXTERN_FUNC;
        imports[i].of.func = wex_func_new(e->store, &d.functype, cb, e, NULL);
    }
    err = wex_instance_new(e->store, e->module, imports, n, &e->inst);
    if (err) wex_test_fail(__FILE__, __LINE__, "instance: %s", wex_error_message(err));
    return e;
}

static void unload(env_t *e) {
    wex_store_delete(e->store);
    wex_module_delete(e->module);
    wex_engine_delete(e->engine);
    free(e->bytes);
    free(e);
}

static wex_error_t *call1(env_t *e, const char *name, int32_t arg) {
    wex_val_t a = wex_val_i32(arg), r;
    return wex_func_call(e->store, func(e, name), &a, 1, &r, 1);
}

/* Check frame i: index, name (NULL: none), and that its offset points at
 * `opcode` in the module (for a call, also that it calls `callee`). */
static void check_frame(env_t *e, const wex_error_t *err, size_t i, uint32_t index,
                        const char *name, uint8_t opcode, int64_t callee) {
    wex_frame_t fr;
    CHECK(wex_error_frame(err, i, &fr));
    CHECK_EQ_INT(fr.func_index, index);
    if (name) {
        CHECK(fr.func_name != NULL);
        CHECK(strcmp(fr.func_name, name) == 0);
    } else {
        CHECK(fr.func_name == NULL);
    }
    CHECK_EQ_INT(fr.flags, 0);
    CHECK(fr.module_offset > 0 && (size_t)fr.module_offset < e->len);
    CHECK_EQ_INT(e->bytes[fr.module_offset], opcode);
    if (callee >= 0) CHECK_EQ_INT(e->bytes[fr.module_offset + 1], callee); /* one-byte LEB */
}

/* main -> level1 -> level2 -> div_helper, which divides by zero. */
static void three_deep(wex_bounds_t bounds) {
    env_t *e = load("backtrace.wasm", bounds, 0);
    wex_error_t *err = call1(e, "main", 0);
    CHECK(err != NULL);
    CHECK_EQ_INT(wex_error_trap_code(err), WEX_TRAP_INT_DIV_ZERO);
    CHECK_EQ_INT(wex_error_frame_count(err), 4);
    CHECK_EQ_INT(wex_error_frames_omitted(err), 0);
    check_frame(e, err, 0, 0, "div_helper", 0x6d, -1); /* i32.div_s */
    check_frame(e, err, 1, 1, "level2", 0x10, 0);
    check_frame(e, err, 2, 2, "level1", 0x10, 1);
    check_frame(e, err, 3, 3, "main", 0x10, 2);
    wex_frame_t fr;
    CHECK(!wex_error_frame(err, 4, &fr));
    wex_error_delete(err);
    /* The same instance runs on normally afterwards, with no frames left over. */
    wex_val_t a = wex_val_i32(5), r;
    CHECK(wex_func_call(e->store, func(e, "main"), &a, 1, &r, 1) == NULL);
    CHECK_EQ_INT(r.of.i32, 21);
    unload(e);
}
TEST(three_deep_guard) {
    three_deep(WEX_BOUNDS_GUARD_PAGES);
}
TEST(three_deep_explicit) {
    three_deep(WEX_BOUNDS_EXPLICIT);
}

/* The names are the error's own: it outlives store, module and engine. */
TEST(frames_outlive_the_store) {
    env_t *e = load("backtrace.wasm", WEX_BOUNDS_EXPLICIT, 0);
    wex_error_t *err = call1(e, "main", 0);
    unload(e);
    wex_frame_t fr;
    CHECK(wex_error_frame(err, 0, &fr));
    CHECK(strcmp(fr.func_name, "div_helper") == 0);
    CHECK(wex_error_frame(err, 3, &fr));
    CHECK(strcmp(fr.func_name, "main") == 0);
    wex_error_delete(err);
}

/* A function without a name, reached through call_indirect. */
TEST(unnamed_function_indirect) {
    env_t *e = load("backtrace.wasm", WEX_BOUNDS_GUARD_PAGES, 0);
    wex_error_t *err = call1(e, "indirect", 0);
    CHECK_EQ_INT(wex_error_trap_code(err), WEX_TRAP_UNREACHABLE);
    CHECK_EQ_INT(wex_error_frame_count(err), 2);
    check_frame(e, err, 0, 7, NULL, 0x00, -1);       /* unreachable */
    check_frame(e, err, 1, 8, "indirect", 0x11, -1); /* call_indirect */
    wex_error_delete(err);
    unload(e);
}

/* Unbounded recursion: the trap is call-stack exhaustion at the depth limit;
 * only the innermost frames are kept, the rest are counted. */
static void deep(wex_bounds_t bounds, uint32_t max_depth) {
    env_t *e = load("backtrace.wasm", bounds, max_depth);
    wex_error_t *err = call1(e, "recurse", 0);
    CHECK_EQ_INT(wex_error_trap_code(err), WEX_TRAP_CALL_STACK_EXHAUSTED);
    CHECK_EQ_INT(wex_error_frame_count(err), WEX_BACKTRACE_MAX_FRAMES);
    /* max_depth frames are live when the next call fails, plus the innermost */
    CHECK_EQ_INT(wex_error_frames_omitted(err), max_depth + 1 - WEX_BACKTRACE_MAX_FRAMES);
    for (size_t i = 0; i < WEX_BACKTRACE_MAX_FRAMES; i++)
        check_frame(e, err, i, 4, "recurse", 0x10, 4);
    wex_error_delete(err);
    unload(e);
}
TEST(deep_recursion_capped_guard) {
    deep(WEX_BOUNDS_GUARD_PAGES, 1000);
}
TEST(deep_recursion_capped_explicit) {
    deep(WEX_BOUNDS_EXPLICIT, 1000);
}
TEST(deep_recursion_default_limit) {
    deep(WEX_BOUNDS_GUARD_PAGES, 100000); /* the default depth limit */
}

/* Out-of-bounds load two deep. With explicit checks the load itself is
 * known; with guard pages the fault only tells the function. */
TEST(memory_oob_explicit) {
    env_t *e = load("backtrace.wasm", WEX_BOUNDS_EXPLICIT, 0);
    wex_error_t *err = call1(e, "oob", 70000);
    CHECK_EQ_INT(wex_error_trap_code(err), WEX_TRAP_MEMORY_OOB);
    CHECK_EQ_INT(wex_error_frame_count(err), 2);
    check_frame(e, err, 0, 5, "load", 0x28, -1); /* i32.load */
    check_frame(e, err, 1, 6, "oob", 0x10, 5);
    wex_error_delete(err);
    unload(e);
}
TEST(memory_oob_guard) {
    env_t *e = load("backtrace.wasm", WEX_BOUNDS_GUARD_PAGES, 0);
    if (wex_engine_bounds_checks(e->engine) != WEX_BOUNDS_GUARD_PAGES) {
        unload(e); /* no guard pages on this host: covered by the test above */
        return;
    }
    wex_error_t *err = call1(e, "oob", 70000);
    CHECK_EQ_INT(wex_error_trap_code(err), WEX_TRAP_MEMORY_OOB);
    CHECK_EQ_INT(wex_error_frame_count(err), 2);
    wex_frame_t fr;
    CHECK(wex_error_frame(err, 0, &fr));
    CHECK_EQ_INT(fr.func_index, 5);
    CHECK(strcmp(fr.func_name, "load") == 0);
    CHECK_EQ_INT(fr.flags, WEX_FRAME_FUNC_OFFSET);
    /* the body's offset: its local declarations (none) and then i32.load */
    CHECK_EQ_INT(e->bytes[fr.module_offset], 0x00);
    CHECK_EQ_INT(e->bytes[fr.module_offset + 3], 0x28);
    check_frame(e, err, 1, 6, "oob", 0x10, 5);
    wex_error_delete(err);
    /* A second fault after a successful deeper call: the depth kept for
     * faults must not be stale. */
    CHECK(call1(e, "main", 5) == NULL);
    err = call1(e, "oob", 70000);
    CHECK_EQ_INT(wex_error_frame_count(err), 2);
    CHECK(wex_error_frame(err, 0, &fr));
    CHECK_EQ_INT(fr.func_index, 5);
    wex_error_delete(err);
    unload(e);
}

/* outer -> mid -> host.reenter -> inner -> boom: the frames of both entries,
 * none omitted. */
static void across_host(wex_bounds_t bounds) {
    env_t *e = load("backtrace_host.wasm", bounds, 0);
    wex_error_t *err = call1(e, "outer", 1);
    CHECK_EQ_INT(wex_error_trap_code(err), WEX_TRAP_UNREACHABLE);
    CHECK_EQ_INT(wex_error_frame_count(err), 4);
    check_frame(e, err, 0, 3, "boom", 0x00, -1);
    check_frame(e, err, 1, 4, "inner", 0x10, 3);
    check_frame(e, err, 2, 5, "mid", 0x10, 0); /* the call of the host function */
    check_frame(e, err, 3, 6, "outer", 0x10, 5);
    /* each entry's sentinel record (two live here) is no frame */
    CHECK_EQ_INT(wex_error_frames_omitted(err), 0);
    wex_error_delete(err);
    /* again: the trap left no sentinel counted */
    err = call1(e, "outer", 1);
    CHECK_EQ_INT(wex_error_frame_count(err), 4);
    CHECK_EQ_INT(wex_error_frames_omitted(err), 0);
    wex_error_delete(err);
    unload(e);
}
TEST(across_host_calls_guard) {
    across_host(WEX_BOUNDS_GUARD_PAGES);
}
TEST(across_host_calls_explicit) {
    across_host(WEX_BOUNDS_EXPLICIT);
}

/* A host function's own trap is located at its call; an exit has no frames. */
TEST(host_error_and_exit) {
    env_t *e = load("backtrace_host.wasm", WEX_BOUNDS_GUARD_PAGES, 0);
    wex_error_t *err = call1(e, "failing", 1);
    CHECK_EQ_INT(wex_error_trap_code(err), WEX_TRAP_HOST);
    CHECK_STR_CONTAINS(wex_error_message(err), "host says no");
    CHECK_EQ_INT(wex_error_frame_count(err), 1);
    check_frame(e, err, 0, 7, "failing", 0x10, 1);
    wex_error_delete(err);
    err = call1(e, "quitting", 3);
    CHECK_EQ_INT(wex_error_code(err), WEX_ERR_EXIT);
    CHECK_EQ_INT(wex_error_exit_status(err), 3);
    CHECK_EQ_INT(wex_error_frame_count(err), 0);
    CHECK_EQ_INT(wex_error_frames_omitted(err), 0);
    wex_error_delete(err);
    unload(e);
}

/* Errors that are not traps, and NULL, have no frames. */
TEST(no_frames_elsewhere) {
    CHECK_EQ_INT(wex_error_frame_count(NULL), 0);
    wex_error_t *err = wex_error_new(WEX_ERR_IO, "x");
    CHECK_EQ_INT(wex_error_frame_count(err), 0);
    wex_frame_t fr;
    CHECK(!wex_error_frame(err, 0, &fr));
    wex_error_delete(err);
}
