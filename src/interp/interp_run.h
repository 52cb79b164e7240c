/*
 * interp_run.h - what the interpreter loop's two translation units
 * (run_checked.c, run_guard.c) share: float handling with the spec's exact
 * semantics, the host-call frame record, and the entry points they call back
 * into interp.c for. Internal to src/interp; included once per unit.
 *
 * The loop is compiled three times (explicit bounds checks, guard pages, and
 * deterministic: explicit checks with canonical NaNs). Each copy is one very
 * large function, so each lives in its own unit: they compile in parallel,
 * and a sanitizer build needs less memory per compiler.
 */
#ifndef WEX_INTERP_RUN_H
#define WEX_INTERP_RUN_H

#include "interp/interp.h"
#include "native/native_internal.h"
#include "os/os.h"
#include "runtime/runtime.h"

#include <math.h>
#include <stdlib.h>

/* WebAssembly rounds every float operation: a product and a sum computed in
 * one handler (F64_MULADD, ...) must not become a fused multiply-add. */
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

/* Floats travel as bits; these convert without changing a NaN's payload. */
static inline float wex__f32(uint64_t s) {
    uint32_t b = (uint32_t)s;
    float f;
    memcpy(&f, &b, 4);
    return f;
}
static inline double wex__f64(uint64_t s) {
    double d;
    memcpy(&d, &s, 8);
    return d;
}
static inline uint64_t wex__bits32(float f) {
    uint32_t b;
    memcpy(&b, &f, 4);
    return b;
}
static inline uint64_t wex__bits64(double d) {
    uint64_t b;
    memcpy(&b, &d, 8);
    return b;
}

/* Deterministic engines: a NaN result becomes the canonical NaN (positive,
 * quiet, no payload); anything else is kept. */
static inline uint64_t wex__canon32(uint64_t b) {
    return ((uint32_t)b & 0x7FFFFFFFu) > 0x7F800000u ? 0x7FC00000u : b;
}
static inline uint64_t wex__canon64(uint64_t b) {
    return (b & 0x7FFFFFFFFFFFFFFFull) > 0x7FF0000000000000ull ? 0x7FF8000000000000ull : b;
}

static inline uint32_t wex__rotl32(uint32_t x, uint32_t n) {
    n &= 31;
    return n ? (x << n) | (x >> (32 - n)) : x;
}
static inline uint32_t wex__rotr32(uint32_t x, uint32_t n) {
    n &= 31;
    return n ? (x >> n) | (x << (32 - n)) : x;
}
static inline uint64_t wex__rotl64(uint64_t x, uint64_t n) {
    n &= 63;
    return n ? (x << n) | (x >> (64 - n)) : x;
}
static inline uint64_t wex__rotr64(uint64_t x, uint64_t n) {
    n &= 63;
    return n ? (x >> n) | (x << (64 - n)) : x;
}

/*
 * min/max: a NaN operand gives a NaN (adding the operands propagates the
 * payload, quietened, as the spec's arithmetic NaN rule allows), and -0 is
 * smaller than +0, which C's comparisons do not see.
 */
static inline uint64_t wex__fmin32(uint64_t a, uint64_t b) {
    float x = wex__f32(a), y = wex__f32(b);
    if (x != x || y != y) return wex__bits32(x + y);
    if (x == y) return (uint32_t)a | (uint32_t)b; /* -0 wins */
    return x < y ? (uint32_t)a : (uint32_t)b;
}
static inline uint64_t wex__fmax32(uint64_t a, uint64_t b) {
    float x = wex__f32(a), y = wex__f32(b);
    if (x != x || y != y) return wex__bits32(x + y);
    if (x == y) return (uint32_t)a & (uint32_t)b; /* +0 wins */
    return x > y ? (uint32_t)a : (uint32_t)b;
}
static inline uint64_t wex__fmin64(uint64_t a, uint64_t b) {
    double x = wex__f64(a), y = wex__f64(b);
    if (x != x || y != y) return wex__bits64(x + y);
    if (x == y) return a | b;
    return x < y ? a : b;
}
static inline uint64_t wex__fmax64(uint64_t a, uint64_t b) {
    double x = wex__f64(a), y = wex__f64(b);
    if (x != x || y != y) return wex__bits64(x + y);
    if (x == y) return a & b;
    return x > y ? a : b;
}

/* Rounding: libm may hand a signalling NaN back unchanged; the spec wants an
 * arithmetic (quiet) NaN, which x + x gives. */
#define wex__round(fn, x) ((x) != (x) ? (x) + (x) : fn(x))

/* Saturating truncation (f32 operands are widened exactly to double). */
static inline int32_t wex__sat_i32_f64(double x) {
    if (x != x) return 0;
    if (x <= -2147483648.0) return INT32_MIN;
    if (x >= 2147483647.0) return INT32_MAX;
    return (int32_t)x;
}
static inline uint32_t wex__sat_u32_f64(double x) {
    if (x != x || x <= 0) return 0;
    if (x >= 4294967295.0) return UINT32_MAX;
    return (uint32_t)x;
}
static inline int64_t wex__sat_i64_f64(double x) {
    if (x != x) return 0;
    if (x <= -9223372036854775808.0) return INT64_MIN;
    if (x >= 9223372036854775808.0) return INT64_MAX;
    return (int64_t)x;
}
static inline uint64_t wex__sat_u64_f64(double x) {
    if (x != x || x <= 0) return 0;
    if (x >= 18446744073709551616.0) return UINT64_MAX;
    return (uint64_t)x;
}

/*
 * Before a host call, leave a frame record for the calling function, so that
 * a trap in WebAssembly the host calls back into lists it too. Returns the
 * depth the host call runs at. At the depth limit there is no room: the host
 * runs without a record, and any WebAssembly it calls traps at once.
 */
static inline uint32_t wex__interp_host_frame(wex_store_t *s, uint32_t depth, const uint32_t *ip,
                                              uint64_t *fp, wex_instance_t *inst,
                                              wex_func_t *host) {
    if (depth >= s->max_depth) return depth;
    wex__frame *fr = &s->frames[depth];
    fr->ip = ip;
    fr->fp = fp;
    fr->inst = inst;
    fr->callee = host;
    return depth + 1;
}

/* The word an entry's sentinel frame record returns to (interp.c). */
extern const uint32_t wex__interp_stop[1];
/* ... the same word, for an entry made by native code (wex_store.from_native) */
extern const uint32_t wex__interp_stop_native[1];

/* Records a trap's backtrace in err (interp.c; cold). */
void wex__interp_backtrace(wex_store_t *s, wex_error_t *err, const wex_instance_t *inst,
                           const uint32_t *p, uint32_t depth);
/* The same as callers of the frames err has: err came from native code this
 * loop switched to (wex__error_add_frames). */
void wex__interp_backtrace_add(wex_store_t *s, wex_error_t *err, const wex_instance_t *inst,
                               const uint32_t *p, uint32_t depth);

#ifdef WEX_INTERP_PROFILE
/* Counts one dispatch (developer profile builds only; interp.c). */
void wex__interp_iprof_hit(const wex_instance_t *inst, const uint32_t *ip);
#endif

/* The loop, once per bounds mode (run_checked.c, run_guard.c) and for
 * deterministic engines (run_det.c). */
wex_error_t *wex__interp_run_checked(wex_store_t *s, wex_func_t *f, uint64_t *slots);
wex_error_t *wex__interp_run_det(wex_store_t *s, wex_func_t *f, uint64_t *slots);
wex_error_t *wex__interp_run_guard_inner(wex_store_t *s, wex_func_t *f, uint64_t *slots);

#endif
