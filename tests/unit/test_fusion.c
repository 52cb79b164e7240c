/*
 * test_fusion.c - the interpreter's fused instructions against the plain
 * ones. tests/wat/fusion.wat.py generates a program in which every check
 * computes one expression the way the translator fuses it (memory operands
 * in each address form, read-modify-write, immediates of every type on
 * either side, shifts into xor/or/and/add, bit fields, multiply-add,
 * compare-and-branch, loop back edges, bit tests, locals that start at zero)
 * and again with its operands passed through calls, which cannot be fused;
 * each exported check returns the number of mismatches. Run in both
 * bounds-check modes, over several argument sets.
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

static env_t load(wex_bounds_t bounds) {
    env_t e;
    wex_config_t *cfg = wex_config_new();
    wex_config_set_bounds_checks(cfg, bounds);
    e.engine = wex_engine_new(cfg);
    CHECK(e.engine != NULL);
    size_t len;
    uint8_t *bytes = wex_test_read_wasm("fusion.wasm", &len);
    wex_error_t *err = wex_module_new(e.engine, bytes, len, &e.module);
    free(bytes);
    if (err) wex_test_fail(__FILE__, __LINE__, "module: %s", wex_error_message(err));
    e.store = wex_store_new(e.engine);
    err = wex_instance_new(e.store, e.module, NULL, 0, &e.inst);
    if (err) wex_test_fail(__FILE__, __LINE__, "instance: %s", wex_error_message(err));
    return e;
}

static void unload(env_t *e) {
    wex_store_delete(e->store);
    wex_module_delete(e->module);
    wex_engine_delete(e->engine);
}

/* Call export `name`; it must succeed and report no mismatches (the count
 * is the program's global: it only grows). */
static void expect_clean(env_t *e, const char *name, const wex_val_t *args, size_t n) {
    wex_extern_t ex;
    CHECK(wex_instance_export(e->inst, name, strlen(name), &ex));
    CHECK(ex.kind == WEX_EXTERN_FUNC);
    wex_val_t r;
    wex_error_t *err = wex_func_call(e->store, ex.of.func, args, n, &r, 1);
    if (err) wex_test_fail(__FILE__, __LINE__, "%s: %s", name, wex_error_message(err));
    if (r.of.i32 != 0)
        wex_test_fail(__FILE__, __LINE__, "%s: %d fused results differ from plain ones", name,
                      (int)r.of.i32);
}

static wex_val_t f32v(float f) {
    wex_val_t v;
    v.kind = WEX_F32;
    memcpy(&v.of.f32_bits, &f, 4);
    return v;
}

static wex_val_t f64v(double d) {
    wex_val_t v;
    v.kind = WEX_F64;
    memcpy(&v.of.f64_bits, &d, 8);
    return v;
}

/* Call export name(p): it must trap with an out-of-bounds access (err is
 * returned for the caller to look at) or, if ok, succeed. */
static wex_error_t *call_p(env_t *e, const char *name, int32_t p, bool ok) {
    wex_extern_t ex;
    CHECK(wex_instance_export(e->inst, name, strlen(name), &ex));
    wex_val_t a = wex_val_i32(p), r;
    wex_error_t *err = wex_func_call(e->store, ex.of.func, &a, 1, &r, 1);
    if (ok) {
        if (err)
            wex_test_fail(__FILE__, __LINE__, "%s(%d): %s", name, (int)p, wex_error_message(err));
        return NULL;
    }
    CHECK(err != NULL && wex_error_trap_code(err) == WEX_TRAP_MEMORY_OOB);
    return err;
}

static int peek8(env_t *e, int32_t a) {
    wex_extern_t ex;
    CHECK(wex_instance_export(e->inst, "peek8", 5, &ex));
    wex_val_t v = wex_val_i32(a), r;
    CHECK(wex_func_call(e->store, ex.of.func, &v, 1, &r, 1) == NULL);
    return (int)r.of.i32;
}

static void poke8(env_t *e, int32_t a, int32_t v) {
    wex_extern_t ex;
    CHECK(wex_instance_export(e->inst, "poke8", 5, &ex));
    wex_val_t args[2] = {wex_val_i32(a), wex_val_i32(v)}, r;
    CHECK(wex_func_call(e->store, ex.of.func, args, 2, &r, 1) == NULL);
}

/* Session 4: stores of constants (STOREV_*), in every form and width, two
 * stores in a row (STORE2_*, STOREV2_*), and both past the end of memory:
 * `store [p + 8] = -1; store [p + 16] = 0` with the first, then the second
 * out of bounds (the first has taken effect; with explicit checks, the
 * backtrace names the failing store: its memarg offset, 4 or 16, is the
 * third byte at its module offset). */
static void stores(env_t *e, wex_bounds_t b) {
    static const int32_t ps[] = {0, 4, 100, 1000}, is[] = {0, 1, 7, 255};
    static const int32_t xs[] = {0, 1, -1, 123456789, INT32_MIN};
    for (size_t a = 0; a < 4; a++) {
        wex_val_t args[3] = {wex_val_i32(ps[a]), wex_val_i32(is[a]), wex_val_i32(0)};
        expect_clean(e, "store_consts", args, 2);
        for (size_t x = 0; x < 5; x++) {
            args[2] = wex_val_i32(xs[x]);
            expect_clean(e, "store_pairs", args, 3);
        }
    }
    size_t len;
    uint8_t *bytes = wex_test_read_wasm("fusion.wasm", &len);
    static const struct {
        const char *name;
        int32_t n;
    } sv[] = {{"stv32_oob", 4}, {"stv64_oob", 8}, {"stv8_oob", 1}, {"stv16_oob", 2},
              {"sts32_oob", 4}, {"sts64_oob", 8}, {"sts8_oob", 1}, {"sts16_oob", 2}};
    for (size_t k = 0; k < 8; k++) {
        int32_t n = sv[k].n, fit = 65536 - 16 - n;
        call_p(e, sv[k].name, fit, true);
        CHECK_EQ_INT(peek8(e, fit + 8), 0xff);
        CHECK_EQ_INT(peek8(e, fit + 16), 0);
        for (int second = 0; second < 2; second++) {
            int32_t p = second ? fit + 1 : 65536 - 8 - n + 1;
            bool in = p + 8 < 65536; /* (a byte store past the end is all out) */
            if (in) poke8(e, p + 8, 0);
            wex_error_t *err = call_p(e, sv[k].name, p, false);
            /* the first store happened exactly when the second trapped */
            if (in) CHECK_EQ_INT(peek8(e, p + 8), second ? 0xff : 0);
            wex_frame_t fr;
            if (b == WEX_BOUNDS_EXPLICIT && wex_error_frame(err, 0, &fr)) {
                CHECK(fr.module_offset > 0 && (size_t)fr.module_offset + 2 < len);
                CHECK_EQ_INT(bytes[fr.module_offset + 2], second ? 16 : 4);
            }
            wex_error_delete(err);
        }
    }
    for (size_t a = 0; a < 4; a++)
        for (size_t x = 0; x < 5; x++) {
            wex_val_t args[2] = {wex_val_i32(ps[a]), wex_val_i32(xs[x])};
            expect_clean(e, "store_results", args, 2);
        }
    call_p(e, "stres_oob", 65536 - 12, true);
    CHECK_EQ_INT(peek8(e, 65536 - 4), ((65536 - 12) & 0xff) | 1);
    wex_error_t *err = call_p(e, "stres_oob", 65536 - 11, false);
    wex_frame_t fr;
    if (b == WEX_BOUNDS_EXPLICIT && wex_error_frame(err, 0, &fr)) { /* the store, not the or */
        CHECK_EQ_INT(bytes[fr.module_offset], 0x36);
        CHECK_EQ_INT(bytes[fr.module_offset + 2], 8);
    }
    wex_error_delete(err);
    free(bytes);
    for (size_t x = 0; x < 5; x++) {
        wex_val_t v = wex_val_i32(xs[x]);
        expect_clean(e, "const_pairs", &v, 1);
    }
}

/* Call export name(s, d, 1); NULL if it returned. */
static wex_error_t *call3(env_t *e, const char *name, int32_t s, int32_t d) {
    wex_extern_t ex;
    CHECK(wex_instance_export(e->inst, name, strlen(name), &ex));
    wex_val_t args[3] = {wex_val_i32(s), wex_val_i32(d), wex_val_i32(1)}, r;
    return wex_func_call(e->store, ex.of.func, args, 3, &r, 1);
}

static int32_t peek(env_t *e, int32_t a) {
    wex_extern_t ex;
    CHECK(wex_instance_export(e->inst, "peek", 4, &ex));
    wex_val_t arg = wex_val_i32(a), r;
    CHECK(wex_func_call(e->store, ex.of.func, &arg, 1, &r, 1) == NULL);
    return r.of.i32;
}

/*
 * Copies (CP_*) past the end of memory: a load that traps stores nothing; a
 * store that traps does so after its load, and (with explicit checks, which
 * know the operator) the backtrace names the store's operator, the load's
 * for the load.
 */
static void copy_traps(env_t *e, wex_bounds_t b) {
    static const struct {
        const char *ld;
        int n;
        uint8_t lop, sop; /* opcodes of the load and the store */
    } w[] = {
        {"i32_load", 4, 0x28, 0x36}, {"i64_load", 8, 0x29, 0x37}, {"i32_load8_u", 1, 0x2d, 0x3a}};
    static const char *forms[] = {"PP", "II", "RR", "RP", "PR", "IR"};
    size_t len;
    uint8_t *bytes = wex_test_read_wasm("fusion.wasm", &len);
    for (size_t j = 0; j < 3; j++)
        for (size_t f = 0; f < 6; f++) {
            char name[64];
            snprintf(name, sizeof name, "copy_oob_%s_%s", w[j].ld, forms[f]);
            int32_t ls = forms[f][0] == 'P' ? 0 : forms[f][0] == 'I' ? 8 : 4;
            int32_t ss = forms[f][1] == 'P' ? 0 : forms[f][1] == 'I' ? 8 : 4;
            int32_t end = 65536 - w[j].n + 1; /* the first address that traps */
            /* inside: copies */
            wex_error_t *err = call3(e, name, 100 - ls, 200 - ss);
            if (err) wex_test_fail(__FILE__, __LINE__, "%s: %s", name, wex_error_message(err));
            CHECK_EQ_INT(peek(e, 200), peek(e, 100));
            for (int k = 0; k < 2; k++) { /* 0: the store traps, 1: the load */
                int32_t before = peek(e, 300);
                err = k ? call3(e, name, end - ls, 300 - ss) : call3(e, name, 100 - ls, end - ss);
                CHECK(err != NULL && wex_error_trap_code(err) == WEX_TRAP_MEMORY_OOB);
                if (k) CHECK_EQ_INT(peek(e, 300), before);
                wex_frame_t fr;
                CHECK(wex_error_frame(err, 0, &fr));
                if (b == WEX_BOUNDS_EXPLICIT) {
                    CHECK(fr.module_offset > 0 && (size_t)fr.module_offset < len);
                    CHECK_EQ_INT(bytes[fr.module_offset], k ? w[j].lop : w[j].sop);
                }
                wex_error_delete(err);
            }
        }
    free(bytes);
}

/*
 * Session 5: float operations stored right away (FST_*) and two float loads
 * combined (LL_*), over NaN, signed zeros, infinities and a denormal; then
 * past the end of memory: the store traps after the operation, a load pair
 * in either load, and (explicit checks) the backtrace names the failing
 * operator by its memarg offset (16 for the store and the second load, 4
 * for the first load: the third byte at its module offset).
 */
static void float_pairs(env_t *e, wex_bounds_t b) {
    static const double fv[] = {1.5, -0.0, 0.0, NAN, INFINITY, -3.25, 1e-310, 0.1};
    static const int32_t ps[] = {0, 4, 100, 1000}, is[] = {0, 1, 7, 255};
    for (size_t a = 0; a < 4; a++)
        for (size_t x = 0; x < 8; x++) {
            size_t y = (x * 3 + a) % 8;
            wex_val_t f[4] = {wex_val_i32(ps[a]), wex_val_i32(is[a]), f32v((float)fv[x]),
                              f32v((float)fv[y])};
            expect_clean(e, "fst_f32", f, 4);
            f[2] = f64v(fv[x]), f[3] = f64v(fv[y]);
            expect_clean(e, "fst_f64", f, 4);
            f[2] = f32v((float)fv[x]), f[3] = f32v((float)fv[y]);
            expect_clean(e, "m2_f32", f, 4);
            f[2] = f64v(fv[x]), f[3] = f64v(fv[y]);
            expect_clean(e, "m2_f64", f, 4);
        }
    for (size_t a = 0; a < 4; a++) {
        wex_val_t l[2] = {wex_val_i32(ps[a]), wex_val_i32(is[(a + 1) & 3])};
        expect_clean(e, "ll_f32", l, 2);
        expect_clean(e, "ll_f64", l, 2);
        expect_clean(e, "li_f32", l, 2);
        expect_clean(e, "li_f64", l, 2);
    }
    size_t len;
    uint8_t *bytes = wex_test_read_wasm("fusion.wasm", &len);
    static const char *types[] = {"f32", "f64"};
    for (int t = 0; t < 2; t++) {
        int32_t n = t ? 8 : 4;
        static const char *sf[] = {"P", "I", "R", "K"};
        for (int f = 0; f < 4; f++) {
            char name[64];
            snprintf(name, sizeof name, "fst_oob_%s_%s", types[t], sf[f]);
            wex_extern_t ex;
            CHECK(wex_instance_export(e->inst, name, strlen(name), &ex));
            /* ea = p + 16 (+ 8 for I, + 4 for R with x = 1; K: 65528 + 16) */
            int32_t extra = f == 1 ? 8 : f == 2 ? 4 : 0, end = 65536 - n + 1 - 16 - extra;
            wex_val_t args[3] = {wex_val_i32(end - 1), wex_val_i32(1),
                                 t ? f64v(1.25) : f32v(1.25f)};
            wex_val_t r;
            wex_error_t *err = wex_func_call(e->store, ex.of.func, args, 3, &r, 1);
            if (f == 3) { /* always out of bounds */
                CHECK(err != NULL && wex_error_trap_code(err) == WEX_TRAP_MEMORY_OOB);
            } else {
                if (err) wex_test_fail(__FILE__, __LINE__, "%s: %s", name, wex_error_message(err));
                CHECK_EQ_INT(peek8(e, end - 1 + 16 + extra + n - 1), 0x40); /* 2.5 */
                args[0] = wex_val_i32(end);
                err = wex_func_call(e->store, ex.of.func, args, 3, &r, 1);
                CHECK(err != NULL && wex_error_trap_code(err) == WEX_TRAP_MEMORY_OOB);
            }
            wex_frame_t fr;
            if (err && b == WEX_BOUNDS_EXPLICIT && wex_error_frame(err, 0, &fr)) {
                CHECK(fr.module_offset > 0 && (size_t)fr.module_offset + 2 < len);
                CHECK_EQ_INT(bytes[fr.module_offset], t ? 0x39 : 0x38);
                CHECK_EQ_INT(bytes[fr.module_offset + 2], 16);
            }
            wex_error_delete(err);
        }
        /* LI_*: the load traps (a plain load's offset, 4) */
        char lname[32];
        snprintf(lname, sizeof lname, "li_oob_%s", types[t]);
        call_p(e, lname, 65536 - n - 4, true);
        wex_error_t *lerr = call_p(e, lname, 65536 - n - 3, false);
        wex_frame_t lfr;
        if (b == WEX_BOUNDS_EXPLICIT && wex_error_frame(lerr, 0, &lfr)) {
            CHECK_EQ_INT(bytes[lfr.module_offset], t ? 0x2b : 0x2a);
            CHECK_EQ_INT(bytes[lfr.module_offset + 2], 4);
        }
        wex_error_delete(lerr);
        /* LL_* (two forms in the name), then M2_* (one for both) */
        static const struct {
            const char *fmt, *name, *lf;
        } lo[] = {{"ll_oob_%s_%s", "PP", "PP"}, {"ll_oob_%s_%s", "II", "II"},
                  {"ll_oob_%s_%s", "RR", "RR"}, {"ll_oob_%s_%s", "PR", "PR"},
                  {"ll_oob_%s_%s", "RI", "RI"}, {"m2_oob_%s_%s", "P", "PP"},
                  {"m2_oob_%s_%s", "I", "II"},  {"m2_oob_%s_%s", "R", "RR"}};
        for (size_t f = 0; f < sizeof lo / sizeof lo[0]; f++) {
            char name[64];
            const char *lf = lo[f].lf;
            snprintf(name, sizeof name, lo[f].fmt, types[t], lo[f].name);
            int32_t la = 4 + (lf[0] == 'I' ? 8 : lf[0] == 'R' ? 4 : 0);
            int32_t lb = 16 + (lf[1] == 'I' ? 8 : lf[1] == 'R' ? 4 : 0);
            int32_t enda = 65536 - n + 1 - la, endb = 65536 - n + 1 - lb;
            wex_error_t *err = call3(e, name, enda - 1, endb - 1);
            if (err) wex_test_fail(__FILE__, __LINE__, "%s: %s", name, wex_error_message(err));
            for (int k = 0; k < 2; k++) { /* 0: the first load traps, 1: the second */
                err = k ? call3(e, name, enda - 1, endb) : call3(e, name, enda, endb - 1);
                CHECK(err != NULL && wex_error_trap_code(err) == WEX_TRAP_MEMORY_OOB);
                wex_frame_t fr;
                if (err && b == WEX_BOUNDS_EXPLICIT && wex_error_frame(err, 0, &fr)) {
                    CHECK(fr.module_offset > 0 && (size_t)fr.module_offset + 2 < len);
                    CHECK_EQ_INT(bytes[fr.module_offset], t ? 0x2b : 0x2a);
                    CHECK_EQ_INT(bytes[fr.module_offset + 2], k ? 16 : 4);
                }
                wex_error_delete(err);
            }
        }
    }
    free(bytes);
}

static void run(wex_bounds_t b) {
    env_t e = load(b);
    wex_extern_t init;
    CHECK(wex_instance_export(e.inst, "init", 4, &init));
    CHECK(wex_func_call(e.store, init.of.func, NULL, 0, NULL, 0) == NULL);
    static const int32_t ps[] = {0, 4, 100, 1000}, is[] = {0, 1, 7, 255};
    static const int32_t xs[] = {0, 1, -1, 123456789, INT32_MIN};
    for (size_t a = 0; a < 4; a++)
        for (size_t x = 0; x < 5; x++) {
            wex_val_t args[3] = {wex_val_i32(ps[a]), wex_val_i32(is[a]), wex_val_i32(xs[x])};
            expect_clean(&e, "mem_i32", args, 3);
            args[2] = f32v((float)xs[x] / 3.0f);
            expect_clean(&e, "mem_f32", args, 3);
            args[2] = f64v((double)xs[x] / 7.0);
            expect_clean(&e, "mem_f64", args, 3);
            args[2] = wex_val_i64((int64_t)((uint64_t)(int64_t)xs[x] * 0x100000001ULL));
            expect_clean(&e, "mem_widths", args, 3);
            wex_val_t sh[2] = {wex_val_i32(xs[x]), wex_val_i32(xs[(x + 2) % 5] ^ ps[a])};
            expect_clean(&e, "shifts", sh, 2);
            expect_clean(&e, "xrot", sh, 2);
            wex_val_t ip3[3] = {wex_val_i32(xs[x]), wex_val_i32(xs[(x + 1) % 5] + ps[a]),
                                wex_val_i32(xs[(x + 3) % 5] ^ is[a])};
            expect_clean(&e, "ipair", ip3, 3);
            wex_val_t im[4] = {wex_val_i32(xs[x] + ps[a]),
                               wex_val_i64((int64_t)((uint64_t)(int64_t)xs[x] << is[a] % 40)),
                               f32v((float)xs[x] * 0.25f), f64v((double)xs[x] - 0.5)};
            expect_clean(&e, "imms", im, 4);
        }
    for (int32_t v = -1; v < 5; v++) {
        wex_val_t sw[3] = {wex_val_i32(ps[v & 3]), wex_val_i32(is[v & 3]), wex_val_i32(v)};
        expect_clean(&e, "switch", sw, 3);
    }
    for (size_t a = 0; a < 4; a++) {
        wex_val_t ca[3] = {wex_val_i32(ps[a] + 3), wex_val_i32(ps[a] & ~3), f64v(ps[a] * 0.5)};
        expect_clean(&e, "calls", ca, 3);
    }
    static const int32_t ns[] = {0, 1, 5, 37, 40, -3};
    for (size_t n = 0; n < 6; n++) {
        wex_val_t lp[2] = {wex_val_i32(ns[n]), wex_val_i32(ns[(n + 1) % 6] * 3)};
        expect_clean(&e, "loops", lp, 2);
    }
    /* float compare-and-branch over NaN, signed zeros, infinities, a denormal */
    static const double fv[] = {0.5, -0.0, 0.0, NAN, INFINITY, -INFINITY, -3.0, 1e-310, 2.5};
    for (size_t a = 0; a < 9; a++)
        for (size_t b = 0; b < 9; b++) {
            wex_val_t fa[4] = {f32v((float)fv[a]), f32v((float)fv[b]), f64v(fv[a]), f64v(fv[b])};
            expect_clean(&e, "fbr", fa, 4);
            expect_clean(&e, "fobr", fa, 4);
        }
    /* pairs of float operations: NaN, signed zeros, infinities, and values
     * whose product rounds (a fused multiply-add would differ) */
    static const double pv[][3] = {{1.0 + 0x1p-30, 1.0 - 0x1p-30, -1.0},
                                   {1.0 + 0x1p-12, 1.0 - 0x1p-12, -1.0},
                                   {0.1, 3.0, -0.3},
                                   {-0.0, 0.0, -0.0},
                                   {INFINITY, 0.0, 1.0},
                                   {NAN, 2.0, -INFINITY},
                                   {1e300, 1e10, -1e308},
                                   {1.0 / 3.0, 3.0, -1.0},
                                   {1e-310, 0.5, 2.5}};
    for (size_t k = 0; k < sizeof pv / sizeof pv[0]; k++) {
        wex_val_t d[3] = {f64v(pv[k][0]), f64v(pv[k][1]), f64v(pv[k][2])};
        expect_clean(&e, "fpair_f64", d, 3);
        wex_val_t f[3] = {f32v((float)pv[k][0]), f32v((float)pv[k][1]), f32v((float)pv[k][2])};
        expect_clean(&e, "fpair_f32", f, 3);
    }
    for (size_t a = 0; a < 4; a++)
        for (size_t k = 0; k < sizeof pv / sizeof pv[0]; k++) {
            wex_val_t d[3] = {wex_val_i32(ps[a] & ~7), f64v(pv[k][0]), f64v(pv[k][1])};
            expect_clean(&e, "ldfloat_f64", d, 3);
            wex_val_t f[3] = {wex_val_i32(ps[a] & ~7), f32v((float)pv[k][0]),
                              f32v((float)pv[k][1])};
            expect_clean(&e, "ldfloat_f32", f, 3);
        }
    /* a load kept below float arithmetic still traps out of bounds (after
     * the arithmetic, which has no effect), and writes nothing */
    {
        wex_extern_t ex;
        CHECK(wex_instance_export(e.inst, "ldtrap", 6, &ex));
        wex_val_t ta[2] = {wex_val_i32(65536 - 4), f64v(2.0)}, r;
        wex_error_t *err = wex_func_call(e.store, ex.of.func, ta, 2, &r, 1);
        CHECK(err != NULL);
        if (err) {
            CHECK(strstr(wex_error_message(err), "out of bounds") != NULL);
            wex_error_delete(err);
        }
        ta[0] = wex_val_i32(64);
        CHECK(wex_func_call(e.store, ex.of.func, ta, 2, &r, 1) == NULL);
    }
    wex_val_t z = wex_val_i32(-559038737);
    expect_clean(&e, "zeros", &z, 1);
    /* Session 4: loop ends with more adds, br_tables after an add. */
    for (size_t n = 0; n < 6; n++) {
        wex_val_t lp[2] = {wex_val_i32(ns[n]), wex_val_i32(ns[(n + 2) % 6] - 7)};
        expect_clean(&e, "loop_ends", lp, 2);
    }
    for (int32_t v = -1; v < 5; v++) {
        wex_val_t sw[3] = {wex_val_i32(ps[(v + 1) & 3]), wex_val_i32(is[v & 3]), wex_val_i32(v)};
        expect_clean(&e, "switch_addi", sw, 3);
    }
    /* The fused br_table's key load past the end of memory traps; just
     * inside, it runs (a key of 0: the first case). */
    wex_extern_t oob;
    CHECK(wex_instance_export(e.inst, "switch_addi_oob", 15, &oob));
    wex_val_t in = wex_val_i32(65536 - 10), past = wex_val_i32(65536 - 9), r;
    CHECK(wex_func_call(e.store, oob.of.func, &in, 1, &r, 1) == NULL);
    CHECK_EQ_INT(r.of.i32, 1);
    wex_error_t *err = wex_func_call(e.store, oob.of.func, &past, 1, &r, 1);
    CHECK(err != NULL && wex_error_trap_code(err) == WEX_TRAP_MEMORY_OOB);
    wex_error_delete(err);
    for (size_t x = 0; x < 5; x++)
        for (size_t y = 0; y < 5; y++) {
            wex_val_t sel[3] = {wex_val_i32(xs[x] + 7 * (x == 3)), wex_val_i32(xs[y] ^ 7),
                                f64v(xs[x] * -0.5)};
            expect_clean(&e, "selects", sel, 3);
        }
    /* The same from a copy of a loop head (zeros up to the end of memory:
     * the walk reaches it). */
    CHECK(wex_instance_export(e.inst, "walk_oob", 8, &oob));
    wex_val_t from = wex_val_i32(65536 - 40);
    err = wex_func_call(e.store, oob.of.func, &from, 1, &r, 1);
    CHECK(err != NULL && wex_error_trap_code(err) == WEX_TRAP_MEMORY_OOB);
    wex_error_delete(err);
    stores(&e, b);
    /* Session 4: loads fused with the branch after them (LB_*). */
    for (size_t a = 0; a < 4; a++)
        for (size_t x = 0; x < 5; x++) {
            wex_val_t lb[3] = {wex_val_i32(ps[a]), wex_val_i32(is[(a + x) & 3]),
                               wex_val_i32(x == 4 ? 128 : xs[x])};
            expect_clean(&e, "loadbr", lb, 3);
        }
    for (size_t a = 0; a < 4; a++)
        for (size_t i = 0; i < 4; i++) {
            wex_val_t lb[2] = {wex_val_i32(ps[a] + (int32_t)i), wex_val_i32(is[i])};
            expect_clean(&e, "loadbr_imm", lb, 2);
        }
    static const struct {
        const char *name;
        int32_t last; /* the largest $p whose access is inside (with $i = 1) */
    } lbo[] = {{"loadbr_oob_P", 65532},  {"loadbr_oob_I", 65524},     {"loadbr_oob_R", 65531},
               {"loadbr_oob_I8", 65527}, {"loadbr_imm_oob_P", 65532}, {"loadbr_imm_oob_I8", 65527}};
    for (size_t j = 0; j < sizeof lbo / sizeof lbo[0]; j++) {
        CHECK(wex_instance_export(e.inst, lbo[j].name, strlen(lbo[j].name), &oob));
        wex_val_t ok[2] = {wex_val_i32(lbo[j].last), wex_val_i32(1)};
        wex_val_t bad[2] = {wex_val_i32(lbo[j].last + 1), wex_val_i32(1)};
        err = wex_func_call(e.store, oob.of.func, ok, 2, &r, 1);
        if (err) wex_test_fail(__FILE__, __LINE__, "%s: %s", lbo[j].name, wex_error_message(err));
        err = wex_func_call(e.store, oob.of.func, bad, 2, &r, 1);
        CHECK(err != NULL && wex_error_trap_code(err) == WEX_TRAP_MEMORY_OOB);
        wex_error_delete(err);
    }
    /* Session 4: copies (CP_*), then ones that trap in their load or store. */
    for (size_t a = 0; a < 4; a++) {
        wex_val_t cp[3] = {wex_val_i32(ps[a]), wex_val_i32(is[(a + 1) & 3]),
                           wex_val_i32(ps[3 - a])};
        expect_clean(&e, "copies", cp, 3);
    }
    copy_traps(&e, b);
    float_pairs(&e, b);
    /* Session 5: an operation with a constant, then a branch on its result;
     * bit tests threaded through the tests they jump to. */
    static const int32_t ov[] = {0, 1, -1, 47, 48, 57, 58, 10, 255, 256, INT32_MAX, INT32_MIN, -48};
    for (size_t x = 0; x < sizeof ov / sizeof ov[0]; x++)
        for (size_t y = 0; y < 4; y++) {
            wex_val_t ob[2] = {wex_val_i32(ov[x]), wex_val_i32(ov[(x + 3 * y + 1) % 13])};
            expect_clean(&e, "opk_branches", ob, 2);
        }
    for (int32_t n = 0; n < 512; n += 7) {
        wex_val_t bc[2] = {wex_val_i32(n), wex_val_i32(-n)};
        expect_clean(&e, "bit_chains", bc, 2);
    }
    /* Session 6: an interpreter's loop, its table copied after adds. */
    for (int32_t seed = 0; seed < 12; seed++) {
        wex_val_t sd = wex_val_i32(seed);
        expect_clean(&e, "vm_loops", &sd, 1);
    }
    /* Session 6: `return k`. */
    for (int32_t x = 0; x < 5; x++) {
        wex_val_t rk = wex_val_i32(x);
        expect_clean(&e, "ret_consts", &rk, 1);
    }
    /* Session 6: a move, then a branch; `k << x`. */
    for (int32_t x = -3; x < 40; x += 2)
        for (int32_t y = -1; y < 70; y += 3) {
            wex_val_t mb[2] = {wex_val_i32(x), wex_val_i32(y)};
            expect_clean(&e, "move_branches", mb, 2);
        }
    unload(&e);
}

TEST(fused_guard) {
    run(WEX_BOUNDS_GUARD_PAGES);
}
TEST(fused_explicit) {
    run(WEX_BOUNDS_EXPLICIT);
}
