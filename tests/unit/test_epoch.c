/*
 * test_epoch.c - epoch interruption (wex_config_set_epoch_interruption): a
 * guest that loops for ever is stopped with the trap "interrupt" once another
 * thread moves the engine's epoch to its store's deadline, in the
 * interpreter, native code and the automatic tier, with both bounds-check
 * policies; a function without loops is stopped at its entry; the store's
 * callback can extend the deadline; a store without a deadline, or engines
 * without the checks, are not affected. Programs: tests/wat/epoch.wat. The
 * native rows need wex-llvmc.
 */
#include "harness.h"
#include "wex.h"
#include "wex_cache.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef wex_test_instance env_t;

static void load(env_t *e, wex_tier_t tier, wex_bounds_t bounds, bool epochs) {
    wex_config_t *cfg = wex_config_new();
    wex_config_set_tier(cfg, tier);
    wex_config_set_bounds_checks(cfg, bounds);
    wex_config_set_epoch_interruption(cfg, epochs);
    wex_config_set_cache(cfg, NULL);
    e->engine = wex_engine_new(cfg);
    CHECK(e->engine != NULL);
    size_t len;
    uint8_t *bytes = wex_test_read_wasm("epoch.wasm", &len);
    wex_error_t *err = wex_module_new(e->engine, bytes, len, &e->module);
    free(bytes);
    if (err) wex_test_fail(__FILE__, __LINE__, "module: %s", wex_error_message(err));
    e->store = wex_store_new(e->engine);
    err = wex_instance_new(e->store, e->module, NULL, 0, &e->inst);
    if (err) wex_test_fail(__FILE__, __LINE__, "instance: %s", wex_error_message(err));
}

static wex_func_t *func(env_t *e, const char *name) {
    return wex_test_export_func(e->inst, name);
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* A watchdog: after `ms`, one increment of the engine's epoch; the time of
 * the increment is kept for the latency. */
typedef struct {
    wex_engine_t *engine;
    unsigned ms;
    double at;
} tick_t;

static void *tick_later(void *arg) {
    tick_t *t = arg;
    struct timespec ts = {t->ms / 1000, (long)(t->ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    t->at = now_ms();
    wex_engine_increment_epoch(t->engine);
    return NULL;
}

/* Call `name` (no arguments) with the deadline one epoch away and a tick
 * after `ms`: it must end with "interrupt"; returns ms from tick to return. */
static int cur_tier, cur_explicit; /* for messages */

static double interrupted_after(env_t *e, const char *name, unsigned ms) {
    wex_store_set_epoch_deadline(e->store, 1);
    tick_t t = {e->engine, ms, 0};
    pthread_t th;
    CHECK(pthread_create(&th, NULL, tick_later, &t) == 0);
    wex_val_t r;
    wex_error_t *err = wex_func_call(e->store, func(e, name), NULL, 0, &r, 1);
    double end = now_ms();
    pthread_join(th, NULL);
    CHECK(err != NULL);
    CHECK_EQ_INT(wex_error_trap_code(err), WEX_TRAP_INTERRUPT);
    CHECK_STR_CONTAINS(wex_error_message(err), "interrupt");
    if (wex_error_frame_count(err) < 1)
        wex_test_fail(__FILE__, __LINE__, "tier %d%s, %s: no frames (%zu omitted)", cur_tier,
                      cur_explicit ? " explicit" : "", name, wex_error_frames_omitted(err));
    wex_error_delete(err);
    return end - t.at;
}

/* Every tier and bounds policy: an endless loop, and one that calls, stop. */
TEST(endless_loops_stop) {
    wex_tier_t tiers[3] = {WEX_TIER_INTERP, WEX_TIER_NATIVE, WEX_TIER_AUTO};
    int nt = wex_test_native_rows() ? 3 : 1;
    for (int i = 0; i < nt; i++)
        for (int b = 0; b < 2; b++) {
            env_t e;
            load(&e, tiers[i], b ? WEX_BOUNDS_EXPLICIT : WEX_BOUNDS_GUARD_PAGES, true);
            cur_tier = (int)tiers[i];
            cur_explicit = b;
            double a = interrupted_after(&e, "spin", 30);
            double c = interrupted_after(&e, "spin_calls", 30);
            printf("  tier %d, %s: stopped %.2f ms (spin), %.2f ms (spin_calls) after the tick\n",
                   (int)tiers[i], b ? "explicit" : "guard", a, c);
            /* the latency is measured here, not held to a bound: a busy
             * machine may not run this thread for a while */
            CHECK(a < 2000 && c < 2000);
            /* the store runs again after a new deadline */
            wex_store_set_epoch_deadline(e.store, 1000);
            wex_val_t k = wex_val_i32(1000), r;
            CHECK(wex_func_call(e.store, func(&e, "count"), &k, 1, &r, 1) == NULL);
            CHECK_EQ_INT(r.of.i32, 1000);
            wex_test_instance_free(&e);
        }
}

/* The interrupt's backtrace is the same in every tier: spin's loop, then
 * outer's first call of it (native code inlines spin twice into outer). */
TEST(backtrace_same_in_every_tier) {
    wex_tier_t tiers[2] = {WEX_TIER_INTERP, WEX_TIER_NATIVE};
    wex_frame_t want[2];
    for (int i = 0; i < (wex_test_native_rows() ? 2 : 1); i++) {
        env_t e;
        load(&e, tiers[i], WEX_BOUNDS_GUARD_PAGES, true);
        wex_store_set_epoch_deadline(e.store, 1);
        tick_t t = {e.engine, 20, 0};
        pthread_t th;
        CHECK(pthread_create(&th, NULL, tick_later, &t) == 0);
        wex_val_t r;
        wex_error_t *err = wex_func_call(e.store, func(&e, "outer"), NULL, 0, &r, 1);
        pthread_join(th, NULL);
        CHECK(err != NULL);
        CHECK_EQ_INT(wex_error_trap_code(err), WEX_TRAP_INTERRUPT);
        CHECK_EQ_INT(wex_error_frame_count(err), 2);
        for (size_t k = 0; k < 2; k++) {
            wex_frame_t f;
            CHECK(wex_error_frame(err, k, &f));
            if (i == 0)
                want[k] = f;
            else {
                CHECK_EQ_INT(f.func_index, want[k].func_index);
                CHECK_EQ_INT(f.module_offset, want[k].module_offset);
            }
        }
        wex_error_delete(err);
        wex_test_instance_free(&e);
    }
}

/* A deadline already reached stops a function with no loop at its entry. */
TEST(entry_checked) {
    wex_tier_t tiers[2] = {WEX_TIER_INTERP, WEX_TIER_NATIVE};
    for (int i = 0; i < (wex_test_native_rows() ? 2 : 1); i++) {
        env_t e;
        load(&e, tiers[i], WEX_BOUNDS_GUARD_PAGES, true);
        wex_val_t a[2] = {wex_val_i32(2), wex_val_i32(3)}, r;
        CHECK(wex_func_call(e.store, func(&e, "add"), a, 2, &r, 1) == NULL); /* no deadline */
        CHECK_EQ_INT(r.of.i32, 5);
        CHECK(wex_store_epoch_deadline(e.store) == UINT64_MAX);
        wex_store_set_epoch_deadline(e.store, 0);
        wex_error_t *err = wex_func_call(e.store, func(&e, "add"), a, 2, &r, 1);
        CHECK(err != NULL);
        CHECK_EQ_INT(wex_error_trap_code(err), WEX_TRAP_INTERRUPT);
        wex_error_delete(err);
        wex_test_instance_free(&e);
    }
}

/* The callback: extends twice by one epoch, then lets the call trap. */
static bool extend_twice(void *data, wex_store_t *store, uint64_t *ticks) {
    int *calls = data;
    (void)store;
    *ticks = 1;
    return ++*calls <= 2;
}

/* A watchdog that ticks every ms until told to stop. */
typedef struct {
    wex_engine_t *engine;
    int stop; /* atomic */
} ticker_t;

static void *ticker(void *arg) {
    ticker_t *t = arg;
    struct timespec ts = {0, 1000000L};
    while (!__atomic_load_n(&t->stop, __ATOMIC_ACQUIRE)) {
        nanosleep(&ts, NULL);
        wex_engine_increment_epoch(t->engine);
    }
    return NULL;
}

TEST(callback_extends) {
    wex_tier_t tiers[2] = {WEX_TIER_INTERP, WEX_TIER_NATIVE};
    for (int i = 0; i < (wex_test_native_rows() ? 2 : 1); i++) {
        env_t e;
        load(&e, tiers[i], WEX_BOUNDS_GUARD_PAGES, true);
        int calls = 0;
        wex_store_set_epoch_callback(e.store, extend_twice, &calls);
        wex_store_set_epoch_deadline(e.store, 1);
        ticker_t t = {e.engine, 0};
        pthread_t th;
        CHECK(pthread_create(&th, NULL, ticker, &t) == 0);
        wex_val_t r;
        wex_error_t *err = wex_func_call(e.store, func(&e, "spin"), NULL, 0, &r, 1);
        __atomic_store_n(&t.stop, 1, __ATOMIC_RELEASE);
        pthread_join(th, NULL);
        CHECK(err != NULL);
        CHECK_EQ_INT(wex_error_trap_code(err), WEX_TRAP_INTERRUPT);
        wex_error_delete(err);
        CHECK_EQ_INT(calls, 3);
        wex_test_instance_free(&e);
    }
}

/* Ticks do not touch a store without a deadline, nor an engine without
 * the checks (its code has none, whatever the deadline). */
TEST(others_unaffected) {
    wex_tier_t tiers[2] = {WEX_TIER_INTERP, WEX_TIER_NATIVE};
    for (int i = 0; i < (wex_test_native_rows() ? 2 : 1); i++) {
        for (int epochs = 0; epochs < 2; epochs++) {
            env_t e;
            load(&e, tiers[i], WEX_BOUNDS_GUARD_PAGES, epochs);
            if (!epochs) wex_store_set_epoch_deadline(e.store, 0); /* ignored: no checks */
            ticker_t t = {e.engine, 0};
            pthread_t th;
            CHECK(pthread_create(&th, NULL, ticker, &t) == 0);
            wex_val_t k = wex_val_i32(50000000), r;
            wex_error_t *err = wex_func_call(e.store, func(&e, "count"), &k, 1, &r, 1);
            __atomic_store_n(&t.stop, 1, __ATOMIC_RELEASE);
            pthread_join(th, NULL);
            CHECK(err == NULL);
            CHECK_EQ_INT(r.of.i32, 50000000);
            wex_test_instance_free(&e);
        }
    }
}
