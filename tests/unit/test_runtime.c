/*
 * test_runtime.c - the public API end to end: programs written in WAT
 * (tests/wat, compiled during the build) run in both bounds-check modes,
 * with their results checked against C computations of the same thing.
 */
#include "harness.h"
#include "wex.h"

#include <math.h>
#include <stdint.h>

typedef struct {
    wex_engine_t *engine;
    wex_module_t *module;
    wex_store_t *store;
    wex_instance_t *inst;
} env_t;

static wex_error_t *host_add(void *env, wex_store_t *s, const wex_val_t *args, wex_val_t *res) {
    (void)env;
    (void)s;
    res[0] = wex_val_i32(args[0].of.i32 + args[1].of.i32);
    return NULL;
}

static wex_error_t *host_fail(void *env, wex_store_t *s, const wex_val_t *args, wex_val_t *res) {
    (void)env;
    (void)s;
    (void)args;
    (void)res;
    return wex_error_new(WEX_ERR_TRAP, "host says no");
}

/* Load tests/wat/NAME.wasm with the given bounds policy; satisfy "host"
 * imports with host_add / host_fail. */
static env_t load(const char *name, wex_bounds_t bounds) {
    env_t e;
    wex_config_t *cfg = wex_config_new();
    wex_config_set_bounds_checks(cfg, bounds);
    e.engine = wex_engine_new(cfg);
    CHECK(e.engine != NULL);
    size_t len;
    uint8_t *bytes = wex_test_read_wasm(name, &len);
    wex_error_t *err = wex_module_new(e.engine, bytes, len, &e.module);
    free(bytes);
    if (err) wex_test_fail(__FILE__, __LINE__, "module: %s", wex_error_message(err));
    e.store = wex_store_new(e.engine);
    size_t n = wex_module_import_count(e.module);
    wex_extern_t imports[8];
    CHECK(n <= 8);
    for (size_t i = 0; i < n; i++) {
        wex_importdesc_t d;
        wex_module_import(e.module, i, &d);
        CHECK(d.kind == WEX_EXTERN_FUNC);
        imports[i].kind = WEX_EXTERN_FUNC;
        imports[i].of.func = wex_func_new(
            e.store, &d.functype, strcmp(d.name, "add") == 0 ? host_add : host_fail, NULL, NULL);
    }
    err = wex_instance_new(e.store, e.module, imports, n, &e.inst);
    if (err) wex_test_fail(__FILE__, __LINE__, "instance: %s", wex_error_message(err));
    return e;
}

static void unload(env_t *e) {
    wex_store_delete(e->store);
    wex_module_delete(e->module);
    wex_engine_delete(e->engine);
}

static wex_func_t *func(env_t *e, const char *name) {
    wex_extern_t ex;
    CHECK(wex_instance_export(e->inst, name, strlen(name), &ex));
    CHECK(ex.kind == WEX_EXTERN_FUNC);
    return ex.of.func;
}

/* Call an export of one i32/i64/f64 argument and one result. */
static wex_error_t *call1(env_t *e, const char *name, wex_val_t arg, wex_val_t *res) {
    return wex_func_call(e->store, func(e, name), &arg, 1, res, 1);
}

static uint32_t fib_c(uint32_t n) {
    return n < 2 ? n : fib_c(n - 1) + fib_c(n - 2);
}

static void run_fib(wex_bounds_t b) {
    env_t e = load("fib.wasm", b);
    wex_val_t r;
    CHECK(call1(&e, "fib", wex_val_i32(30), &r) == NULL);
    CHECK_EQ_INT(r.of.i32, fib_c(30)); /* 832040 */
    CHECK(call1(&e, "fib64", wex_val_i64(90), &r) == NULL);
    CHECK_EQ_INT(r.of.i64, 2880067194370816120LL);
    unload(&e);
}
TEST(fib_guard) {
    run_fib(WEX_BOUNDS_GUARD_PAGES);
}
TEST(fib_explicit) {
    run_fib(WEX_BOUNDS_EXPLICIT);
}

static void run_kernels(wex_bounds_t b) {
    env_t e = load("kernels.wasm", b);
    wex_val_t r;
    /* primes below one million */
    CHECK(call1(&e, "sieve", wex_val_i32(1000000), &r) == NULL);
    CHECK_EQ_INT(r.of.i32, 78498);
    /* matmul: the same arithmetic in the same order in C */
    int n = 60;
    double sum = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double acc = 0;
            for (int k = 0; k < n; k++)
                acc += (double)(i + k) * (double)(k - j);
            sum += acc;
        }
    CHECK(call1(&e, "matmul", wex_val_i32(n), &r) == NULL);
    double got;
    memcpy(&got, &r.of.f64_bits, 8);
    CHECK(got == sum);
    /* FNV-1a of the pattern bytes */
    uint32_t h = 0x811c9dc5u;
    for (uint32_t i = 0; i < 100000; i++)
        h = (h ^ ((i * 31) & 255)) * 16777619u;
    CHECK(call1(&e, "fnv", wex_val_i32(100000), &r) == NULL);
    CHECK_EQ_INT((uint32_t)r.of.i32, h);
    unload(&e);
}
TEST(kernels_guard) {
    run_kernels(WEX_BOUNDS_GUARD_PAGES);
}
TEST(kernels_explicit) {
    run_kernels(WEX_BOUNDS_EXPLICIT);
}

static void expect_trap(wex_error_t *err, wex_trapcode_t code, const char *msg) {
    CHECK(err != NULL);
    CHECK_EQ_INT(wex_error_code(err), WEX_ERR_TRAP);
    CHECK_EQ_INT(wex_error_trap_code(err), code);
    CHECK_STR_CONTAINS(wex_error_message(err), msg);
    wex_error_delete(err);
}

static void run_traps(wex_bounds_t b) {
    env_t e = load("traps.wasm", b);
    wex_val_t r, args[2];
    /* Unbounded recursion is a trap, not a crash; the store stays usable. */
    expect_trap(call1(&e, "forever", wex_val_i32(0), &r), WEX_TRAP_CALL_STACK_EXHAUSTED,
                "call stack exhausted");
    expect_trap(call1(&e, "oob", wex_val_i32(65536), &r), WEX_TRAP_MEMORY_OOB,
                "out of bounds memory access");
    expect_trap(call1(&e, "oob", wex_val_i32(-1), &r), WEX_TRAP_MEMORY_OOB,
                "out of bounds memory access");
    CHECK(call1(&e, "oob", wex_val_i32(65532), &r) == NULL);
    wex_val_t a = wex_val_i32(65532);
    expect_trap(wex_func_call(e.store, func(&e, "oob_store"), &a, 1, NULL, 0), WEX_TRAP_MEMORY_OOB,
                "out of bounds memory access");
    /* memory.grow makes the address valid, and memory.size follows. */
    CHECK(call1(&e, "grow", wex_val_i32(1), &r) == NULL);
    CHECK_EQ_INT(r.of.i32, 1);
    CHECK(call1(&e, "oob", wex_val_i32(65536), &r) == NULL);
    CHECK_EQ_INT(r.of.i32, 0);
    CHECK(call1(&e, "grow", wex_val_i32(70000), &r) == NULL);
    CHECK_EQ_INT(r.of.i32, -1);
    args[0] = wex_val_i32(1);
    args[1] = wex_val_i32(0);
    expect_trap(wex_func_call(e.store, func(&e, "div"), args, 2, &r, 1), WEX_TRAP_INT_DIV_ZERO,
                "integer divide by zero");
    args[0] = wex_val_i32(INT32_MIN);
    args[1] = wex_val_i32(-1);
    expect_trap(wex_func_call(e.store, func(&e, "div"), args, 2, &r, 1), WEX_TRAP_INT_OVERFLOW,
                "integer overflow");
    expect_trap(wex_func_call(e.store, func(&e, "unreachable"), NULL, 0, NULL, 0),
                WEX_TRAP_UNREACHABLE, "unreachable");
    CHECK(call1(&e, "indirect", wex_val_i32(0), &r) == NULL);
    CHECK_EQ_INT(r.of.i32, 7);
    expect_trap(call1(&e, "indirect", wex_val_i32(1), &r), WEX_TRAP_UNINITIALIZED_ELEMENT,
                "uninitialized element");
    expect_trap(call1(&e, "indirect", wex_val_i32(2), &r), WEX_TRAP_UNDEFINED_ELEMENT,
                "undefined element");
    /* Host functions: results come back; a host error becomes the trap. */
    args[0] = wex_val_i32(40);
    args[1] = wex_val_i32(2);
    CHECK(wex_func_call(e.store, func(&e, "call_add"), args, 2, &r, 1) == NULL);
    CHECK_EQ_INT(r.of.i32, 42);
    wex_error_t *err = wex_func_call(e.store, func(&e, "call_fail"), NULL, 0, NULL, 0);
    CHECK(err && wex_error_code(err) == WEX_ERR_TRAP);
    CHECK_STR_CONTAINS(wex_error_message(err), "host says no");
    wex_error_delete(err);
    /* NaN payloads pass through abs and neg unchanged but for the sign. */
    wex_val_t nan = {.kind = WEX_F32, .of.f32_bits = 0x7fa00001u};
    CHECK(call1(&e, "nan_bits", nan, &r) == NULL);
    CHECK_EQ_INT(r.of.f32_bits, 0xffa00001u);
    /* Wrong argument types are an API error, not a crash. */
    CHECK(wex_error_code(call1(&e, "oob", wex_val_i64(1), &r)) == WEX_ERR_ARGUMENT);
    unload(&e);
}
TEST(traps_guard) {
    run_traps(WEX_BOUNDS_GUARD_PAGES);
}
TEST(traps_explicit) {
    run_traps(WEX_BOUNDS_EXPLICIT);
}

/* Malformed input through the public API: an error with an offset, never a
 * crash. */
TEST(malformed_inputs) {
    wex_engine_t *eng = wex_engine_new(NULL);
    wex_module_t *m = NULL;
    static const uint8_t good[] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};
    struct {
        const uint8_t *b;
        size_t n;
        const char *msg;
        int64_t off;
    } cases[] = {
        {good, 0, "unexpected end", 0},
        {good, 5, "unexpected end", 4},
        {(const uint8_t *)"garbage!garbage!", 16, "magic header not detected", 0},
        /* type section claiming 2^32-1 entries in a few bytes */
        {(const uint8_t[]){0x00, 0x61, 0x73, 0x6d, 0x01, 0, 0, 0, 0x01, 0x05, 0xff, 0xff, 0xff,
                           0xff, 0x0f},
         15, "", -2},
        /* truncated section */
        {(const uint8_t[]){0x00, 0x61, 0x73, 0x6d, 0x01, 0, 0, 0, 0x01, 0x7f, 0x01}, 11, "", -2},
        /* sections out of order: function (3) after code (10) */
        {(const uint8_t[]){0x00, 0x61, 0x73, 0x6d, 0x01, 0, 0, 0, 0x0a, 0x01, 0x00, 0x03, 0x01,
                           0x00},
         14, "unexpected content after last section", -2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        wex_error_t *err = wex_module_new(eng, cases[i].b, cases[i].n, &m);
        CHECK(err != NULL);
        CHECK(m == NULL);
        CHECK_EQ_INT(wex_error_code(err), WEX_ERR_MALFORMED);
        CHECK_STR_CONTAINS(wex_error_message(err), cases[i].msg);
        if (cases[i].off != -2) CHECK_EQ_INT(wex_error_offset(err), cases[i].off);
        CHECK(wex_error_offset(err) >= 0 && (size_t)wex_error_offset(err) <= cases[i].n);
        wex_error_delete(err);
    }
    /* The empty module is fine. */
    CHECK(wex_module_new(eng, good, sizeof good, &m) == NULL);
    wex_module_delete(m);
    wex_engine_delete(eng);
}

/* Deep but bounded recursion works; the limit is a setting. */
TEST(call_depth_setting) {
    wex_config_t *cfg = wex_config_new();
    wex_config_set_max_call_depth(cfg, 50);
    wex_engine_t *eng = wex_engine_new(cfg);
    size_t len;
    uint8_t *bytes = wex_test_read_wasm("fib.wasm", &len);
    wex_module_t *m;
    CHECK(wex_module_new(eng, bytes, len, &m) == NULL);
    free(bytes);
    wex_store_t *s = wex_store_new(eng);
    wex_instance_t *inst;
    CHECK(wex_instance_new(s, m, NULL, 0, &inst) == NULL);
    wex_extern_t ex;
    CHECK(wex_instance_export(inst, "fib", 3, &ex));
    wex_val_t a = wex_val_i32(20), r;
    CHECK(wex_func_call(s, ex.of.func, &a, 1, &r, 1) == NULL); /* depth 20 */
    CHECK_EQ_INT(r.of.i32, 6765);
    a = wex_val_i32(60); /* depth 60 > 50 */
    expect_trap(wex_func_call(s, ex.of.func, &a, 1, &r, 1), WEX_TRAP_CALL_STACK_EXHAUSTED,
                "call stack exhausted");
    wex_store_delete(s);
    wex_module_delete(m);
    wex_engine_delete(eng);
}

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

/* Run fn in a child; return how it ended (the signal number, or 1000+exit). */
static int in_child(void (*fn)(void)) {
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        /* The fault is expected; keep a sanitizer's report out of the log. */
        if (!freopen("/dev/null", "w", stderr)) abort(); /* fails the check */
        fn();
        _exit(0);
    }
    int st;
    CHECK(waitpid(pid, &st, 0) == pid);
    return WIFSIGNALED(st) ? WTERMSIG(st) : 1000 + WEXITSTATUS(st);
}

static volatile uint8_t *volatile fault_at;

/* A host fault outside any reservation, after the handler is installed. */
static void host_fault_elsewhere(void) {
    env_t e = load("traps.wasm", WEX_BOUNDS_GUARD_PAGES);
    wex_val_t r;
    expect_trap(call1(&e, "oob", wex_val_i32(-1), &r), WEX_TRAP_MEMORY_OOB, "out of bounds");
    fault_at = (volatile uint8_t *)16;
    *fault_at = 1; /* must kill us with SIGSEGV */
}

/* A host fault inside a memory's guard region while no WebAssembly runs: not
 * a trap either, since only faults of running guest code are claimed. */
static void host_fault_in_guard(void) {
    env_t e = load("traps.wasm", WEX_BOUNDS_GUARD_PAGES);
    wex_val_t r;
    expect_trap(call1(&e, "oob", wex_val_i32(-1), &r), WEX_TRAP_MEMORY_OOB, "out of bounds");
    /* traps.wasm does not export its memory; reserve one through the API */
    wex_memory_t *mem;
    CHECK(wex_memory_new(e.store, (wex_limits_t){1, 2, true, false}, &mem) == NULL);
    fault_at = wex_memory_data(mem) + wex_memory_size(mem) + 4096;
    *fault_at = 1;
}

/* The fault must reach the earlier handler: the default action (SIGSEGV), or
 * under ASan, ASan's handler, which reports and exits non-zero. Exit 0 would
 * mean the fault was swallowed. */
TEST(fault_handler_claims_only_guest_faults) {
    int r = in_child(host_fault_elsewhere);
    CHECK(r == SIGSEGV || r > 1000);
    r = in_child(host_fault_in_guard);
    CHECK(r == SIGSEGV || r > 1000);
}
