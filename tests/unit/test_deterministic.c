/*
 * test_deterministic.c - deterministic engines (wex_config_set_deterministic):
 * NaN results are the canonical NaN, and "call stack exhausted" comes at the
 * same depth in the interpreter, in native code and in the automatic tier
 * with functions switched at their first entry, through host functions too.
 * Programs: tests/wat/deterministic.wat. The native rows need wex-llvmc.
 */
#include "harness.h"
#include "os/os.h"
#include "wex.h"
#include "wex_cache.h"

#include <stdlib.h>
#include <string.h>

typedef wex_test_instance env_t;

static wex_func_t *func(env_t *e, const char *name) {
    return wex_test_export_func(e->inst, name);
}

/* host.reenter: calls via_host again, handing its error back. */
static wex_error_t *reenter(void *env, wex_store_t *s, const wex_val_t *args, wex_val_t *res) {
    (void)args;
    (void)res;
    return wex_func_call(s, func(env, "via_host"), NULL, 0, NULL, 0);
}

static void load(env_t *e, wex_tier_t tier, bool det, uint32_t depth) {
    wex_config_t *cfg = wex_config_new();
    wex_config_set_tier(cfg, tier);
    wex_config_set_deterministic(cfg, det);
    wex_config_set_max_call_depth(cfg, depth);
    wex_config_set_cache(cfg, NULL);
    e->engine = wex_engine_new(cfg);
    CHECK(e->engine != NULL);
    size_t len;
    uint8_t *bytes = wex_test_read_wasm("deterministic.wasm", &len);
    wex_error_t *err = wex_module_new(e->engine, bytes, len, &e->module);
    free(bytes);
    if (err) wex_test_fail(__FILE__, __LINE__, "module: %s", wex_error_message(err));
    e->store = wex_store_new(e->engine);
    wex_importdesc_t d;
    wex_module_import(e->module, 0, &d);
    wex_extern_t imp = {.kind = WEX_EXTERN_FUNC};
    imp.of.func = wex_func_new(e->store, &d.functype, reenter, e, NULL);
    err = wex_instance_new(e->store, e->module, &imp, 1, &e->inst);
    if (err) wex_test_fail(__FILE__, __LINE__, "instance: %s", wex_error_message(err));
}

/* Run export name (no arguments, or one i64 for "fat") to its trap; the
 * frames it counted. */
static int32_t exhaust(env_t *e, const char *name) {
    CHECK(wex_func_call(e->store, func(e, "reset"), NULL, 0, NULL, 0) == NULL);
    wex_val_t a = wex_val_i64(1), r;
    bool fat = !strcmp(name, "fat");
    wex_error_t *err = wex_func_call(e->store, func(e, name), &a, fat, &r, fat);
    CHECK(err != NULL);
    CHECK_STR_CONTAINS(wex_error_message(err), "call stack exhausted");
    wex_error_delete(err);
    wex_val_t n;
    CHECK(wex_func_call(e->store, func(e, "count"), NULL, 0, &n, 1) == NULL);
    return n.of.i32;
}

/* Native rows need wex-llvmc, and an environment that does not ask for
 * the interpreter (scripts/test.sh and memcheck.sh set WEX_TIER=interp;
 * valgrind cannot run code made for this CPU; tests/suites/native.sh runs
 * this program with WEX_TIER=native). */
/* The tiers a deterministic engine is run in: the interpreter, native code,
 * and the automatic tier with every other function native at its first
 * entry (WEX_TIER_EAGER=some: interpreted and native frames interleave). */
static int tiers(wex_tier_t out[3]) {
    int n = 0;
    out[n++] = WEX_TIER_INTERP;
    if (wex_test_native_rows()) {
        out[n++] = WEX_TIER_NATIVE;
        out[n++] = WEX_TIER_AUTO;
    }
    return n;
}

/* Frames counted: max_call_depth + 1 live at most (the entry's included), a
 * host function's frame counting as one; the same in every tier. */
TEST(depth_same_in_every_tier) {
    setenv("WEX_TIER_EAGER", "some", 1);
    wex_tier_t t[3];
    int nt = tiers(t);
    static const uint32_t depths[] = {1, 2, 77, 1000, 20000};
    for (size_t k = 0; k < sizeof depths / sizeof *depths; k++) {
        for (int i = 0; i < nt; i++) {
            env_t e;
            load(&e, t[i], true, depths[k]);
            CHECK_EQ_INT(exhaust(&e, "rec"), (int)depths[k] + 1);
            /* via_host, host, via_host, ...: frames 1, 3, 5, ...; without
             * a big stack (sanitizer builds) 1,000 nested entries at most */
            if (wex__os_big_stacks() || depths[k] < 1000)
                CHECK_EQ_INT(exhaust(&e, "via_host"), (int)(depths[k] + 2) / 2);
            CHECK_EQ_INT(exhaust(&e, "fat"), (int)depths[k] + 1);
            /* and again in the same store: nothing left over */
            CHECK_EQ_INT(exhaust(&e, "rec"), (int)depths[k] + 1);
            wex_test_instance_free(&e);
        }
    }
    unsetenv("WEX_TIER_EAGER");
}

/* The default depth (100,000) is reached in native code too, whatever the
 * size of its frames, and through 50,000 host frames (on the big stack;
 * sanitizer builds have none, and their frames are too big for this). */
TEST(depth_default_native) {
    if (!wex__os_big_stacks()) {
        printf("  (no big stacks in this build: skipped)\n");
        return;
    }
    wex_tier_t t[3];
    int nt = tiers(t);
    for (int i = 0; i < nt; i++) {
        env_t e;
        load(&e, t[i], true, 100000);
        CHECK_EQ_INT(exhaust(&e, "rec"), 100001);
        CHECK_EQ_INT(exhaust(&e, "fat"), 100001);
        CHECK_EQ_INT(exhaust(&e, "via_host"), 50001);
        wex_test_instance_free(&e);
    }
}

static uint32_t call_i32(env_t *e, const char *name, const wex_val_t *a, size_t na) {
    wex_val_t r;
    CHECK(wex_func_call(e->store, func(e, name), a, na, &r, 1) == NULL);
    return (uint32_t)r.of.i32;
}

static uint64_t call_i64(env_t *e, const char *name, const wex_val_t *a, size_t na) {
    wex_val_t r;
    CHECK(wex_func_call(e->store, func(e, name), a, na, &r, 1) == NULL);
    return (uint64_t)r.of.i64;
}

/* Arithmetic NaNs are canonical; bit operations keep what they are given. */
TEST(nan_canonical) {
    wex_tier_t t[3];
    int nt = tiers(t);
    for (int i = 0; i < nt; i++) {
        env_t e;
        load(&e, t[i], true, 1000);
        wex_val_t a;
        CHECK_EQ_INT(call_i32(&e, "f32_div0", NULL, 0), 0x7FC00000);
        a.kind = WEX_F32;
        a.of.f32_bits = 0xBF800000u; /* -1 */
        CHECK_EQ_INT(call_i32(&e, "f32_sqrt_neg", &a, 1), 0x7FC00000);
        a = wex_val_i32((int32_t)0xFFA00001u); /* negative, signalling, a payload */
        CHECK_EQ_INT(call_i32(&e, "f32_add_payload", &a, 1), 0x7FC00000);
        CHECK_EQ_INT(call_i32(&e, "f32_min_payload", &a, 1), 0x7FC00000);
        CHECK_EQ_INT(call_i32(&e, "f32_ceil_payload", &a, 1), 0x7FC00000);
        CHECK(call_i32(&e, "f32_neg_payload", &a, 1) == 0x7FA00001u);
        a = wex_val_i64((int64_t)0xFFF4000000000001ull);
        CHECK_EQ_INT(call_i32(&e, "f32_demote_payload", &a, 1), 0x7FC00000);
        CHECK(call_i64(&e, "f64_mul_payload", &a, 1) == 0x7FF8000000000000ull);
        CHECK(call_i64(&e, "f64_max_payload", &a, 1) == 0x7FF8000000000000ull);
        CHECK(call_i64(&e, "f64_copysign_payload", &a, 1) == 0xFFF4000000000001ull);
        CHECK(call_i64(&e, "f64_sub_inf", NULL, 0) == 0x7FF8000000000000ull);
        a = wex_val_i32((int32_t)0xFFA00001u);
        CHECK(call_i64(&e, "f64_promote_payload", &a, 1) == 0x7FF8000000000000ull);
        wex_test_instance_free(&e);
    }
}

/* Without the setting the hardware's NaN shows (x86: negative), so the
 * canonical one above is the setting's doing. */
TEST(nan_not_canonical_by_default) {
#if defined(__x86_64__)
    env_t e;
    load(&e, WEX_TIER_INTERP, false, 1000);
    CHECK(call_i32(&e, "f32_div0", NULL, 0) == 0xFFC00000u);
    wex_test_instance_free(&e);
#endif
}
