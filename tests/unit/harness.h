/*
 * harness.h - a small unit-test harness. Each test runs in a child process
 * with a time limit, so a crash or a hang fails that test alone. A test
 * program prints one line per test and ends with "N passed, N failed".
 *
 *   TEST(name) { CHECK(x == 1); CHECK_EQ_INT(a, b); CHECK_STR_CONTAINS(s, "x"); }
 *
 * Run a program with a test name as its argument to run only that test, in
 * process (handy under gdb).
 */
#ifndef WEX_TEST_HARNESS_H
#define WEX_TEST_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*wex_test_fn)(void);
void wex_test_register(const char *name, wex_test_fn fn);
void wex_test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));

/* Read build/wat/NAME (a test program compiled from tests/wat during the
 * build); fails the test if it is missing. The caller frees the buffer. */
unsigned char *wex_test_read_wasm(const char *name, size_t *len);

/* A fresh engine with the given bounds policy (a wex_bounds_t), build/wat/
 * NAME compiled and instantiated in a new store, no imports; fails the test
 * on any error. wex_test_instance_free deletes all four. */
typedef struct {
    struct wex_engine *engine;
    struct wex_module *module;
    struct wex_store *store;
    struct wex_instance *inst;
} wex_test_instance;
void wex_test_instance_new(const char *name, int bounds, wex_test_instance *t);
void wex_test_instance_free(wex_test_instance *t);

/* inst's function export NAME; fails the test if there is none. */
struct wex_func *wex_test_export_func(struct wex_instance *inst, const char *name);

/* Whether a test runs its native-tier rows: not with WEX_TIER=interp (CI's
 * unit-test pass; tests/suites/native.sh runs them natively), nor without
 * wex-llvmc. Prints why when not. */
int wex_test_native_rows(void);

#define TEST(name)                                                                                 \
    static void test_##name(void);                                                                 \
    __attribute__((constructor)) static void register_##name(void) {                               \
        wex_test_register(#name, test_##name);                                                     \
    }                                                                                              \
    static void test_##name(void)

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) wex_test_fail(__FILE__, __LINE__, "CHECK(%s)", #cond);                        \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                                         \
    do {                                                                                           \
        long long a_ = (long long)(a), b_ = (long long)(b);                                        \
        if (a_ != b_) wex_test_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, a_, b_); \
    } while (0)

#define CHECK_STR_CONTAINS(s, sub)                                                                 \
    do {                                                                                           \
        const char *s_ = (s);                                                                      \
        if (!s_ || !strstr(s_, (sub)))                                                             \
            wex_test_fail(__FILE__, __LINE__, "\"%s\" does not contain \"%s\"",                    \
                          s_ ? s_ : "(null)", (sub));                                              \
    } while (0)

#endif
