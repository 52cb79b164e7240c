/*
 * values.c - command-line values (see values.h).
 */
#include "values.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parse a decimal integer into [min, max], whole string only. Leading
 * whitespace is refused (strtoll would skip it). The ranges are signed, as
 * wasmtime's: a value is never wrapped into another (2147483648 is no i32;
 * write -2147483648 for its bits). */
static bool parse_int(const char *s, int64_t min, int64_t max, int64_t *out) {
    if (!s || !*s || (*s != '-' && *s != '+' && (*s < '0' || *s > '9'))) return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || end == s || v < min || v > max) return false;
    *out = v;
    return true;
}

/* Float literals: strtod/strtof accept decimal, hex floats, nan and inf in
 * any case, which covers what wasmtime accepts; the whole string must match. */
bool cli_parse_value(const char *text, wex_valkind_t kind, wex_val_t *out) {
    int64_t iv;
    char *end;
    memset(out, 0, sizeof *out);
    out->kind = kind;
    if (!text || !*text || (text[0] == ' ' || text[0] == '\t' || text[0] == '\n')) return false;
    switch (kind) {
    case WEX_I32:
        if (!parse_int(text, INT32_MIN, INT32_MAX, &iv)) return false;
        out->of.i32 = (int32_t)iv;
        return true;
    case WEX_I64:
        if (!parse_int(text, INT64_MIN, INT64_MAX, &iv)) return false;
        out->of.i64 = iv;
        return true;
    case WEX_F32: {
        errno = 0;
        float f = strtof(text, &end);
        if (*end || end == text) return false;
        memcpy(&out->of.f32_bits, &f, 4);
        return true;
    }
    case WEX_F64: {
        errno = 0;
        double d = strtod(text, &end);
        if (*end || end == text) return false;
        memcpy(&out->of.f64_bits, &d, 8);
        return true;
    }
    case WEX_FUNCREF:
    case WEX_EXTERNREF:
        /* Only null can be written; it is what wasmtime accepts too. */
        return strcmp(text, "null") == 0;
    default: return false;
    }
}

/* Write the shortest round-tripping decimal of v in positional notation.
 * is_f32 decides what "round-trips" means. */
static void format_float(double v, bool is_f32, char *buf, size_t n) {
    if (isnan(v)) {
        snprintf(buf, n, "NaN");
        return;
    }
    if (isinf(v)) {
        snprintf(buf, n, v < 0 ? "-inf" : "inf");
        return;
    }
    char e[64];
    int maxprec = is_f32 ? 9 : 17;
    for (int p = 1; p <= maxprec; p++) {
        snprintf(e, sizeof e, "%.*e", p - 1, v);
        if (is_f32 ? strtof(e, NULL) == (float)v : strtod(e, NULL) == v) break;
    }
    /* e is "[-]D[.DDD]e[+-]XX": split into sign, digits and exponent. */
    const char *p = e;
    bool neg = *p == '-';
    if (neg) p++;
    char digits[32];
    size_t nd = 0;
    for (; *p && *p != 'e'; p++)
        if (*p != '.' && nd < sizeof digits - 1) digits[nd++] = *p;
    int exp10 = *p == 'e' ? atoi(p + 1) : 0;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    digits[nd] = '\0';

    size_t o = 0;
#define PUT(c)                                                                                     \
    do {                                                                                           \
        if (o + 1 < n) buf[o++] = (c);                                                             \
    } while (0)
    if (neg) PUT('-');
    if (exp10 >= (int)nd - 1) {
        for (size_t i = 0; i < nd; i++)
            PUT(digits[i]);
        for (int i = 0; i < exp10 - ((int)nd - 1); i++)
            PUT('0');
    } else if (exp10 >= 0) {
        for (size_t i = 0; i < nd; i++) {
            PUT(digits[i]);
            if ((int)i == exp10) PUT('.');
        }
    } else {
        PUT('0');
        PUT('.');
        for (int i = 0; i < -exp10 - 1; i++)
            PUT('0');
        for (size_t i = 0; i < nd; i++)
            PUT(digits[i]);
    }
#undef PUT
    if (n) buf[o < n ? o : n - 1] = '\0';
}

/* Print a result the way `wasmtime run --invoke` does. */
void cli_format_value(const wex_val_t *v, char *buf, size_t n) {
    switch (v->kind) {
    case WEX_I32: snprintf(buf, n, "%" PRId32, v->of.i32); break;
    case WEX_I64: snprintf(buf, n, "%" PRId64, v->of.i64); break;
    case WEX_F32: {
        float f;
        memcpy(&f, &v->of.f32_bits, 4);
        format_float((double)f, true, buf, n);
        break;
    }
    case WEX_F64: {
        double d;
        memcpy(&d, &v->of.f64_bits, 8);
        format_float(d, false, buf, n);
        break;
    }
    case WEX_FUNCREF: snprintf(buf, n, "%s", v->of.funcref ? "<funcref>" : "null"); break;
    case WEX_EXTERNREF: snprintf(buf, n, "%s", v->of.externref ? "<externref>" : "null"); break;
    default: snprintf(buf, n, "<%s>", cli_kind_name(v->kind)); break;
    }
}

/* Names as in the text format, for messages. */
const char *cli_kind_name(wex_valkind_t kind) {
    switch (kind) {
    case WEX_I32: return "i32";
    case WEX_I64: return "i64";
    case WEX_F32: return "f32";
    case WEX_F64: return "f64";
    case WEX_V128: return "v128";
    case WEX_FUNCREF: return "funcref";
    case WEX_EXTERNREF: return "externref";
    }
    return "?";
}
