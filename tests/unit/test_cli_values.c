/*
 * test_cli_values.c - parsing `wex run --invoke` arguments and printing
 * results (tools/cli/values.c, built into the CLI, so compiled in here).
 */
#include "harness.h"

#include "../../tools/cli/values.c"

/* Format a value of one kind from raw bits. */
static const char *fmt_bits(wex_valkind_t kind, uint64_t bits) {
    static char buf[CLI_VALUE_BUF];
    wex_val_t v;
    memset(&v, 0, sizeof v);
    v.kind = kind;
    if (kind == WEX_F32)
        v.of.f32_bits = (uint32_t)bits;
    else
        v.of.f64_bits = bits;
    cli_format_value(&v, buf, sizeof buf);
    return buf;
}

/* Parse then format, for round-trip checks. */
static const char *roundtrip(const char *text, wex_valkind_t kind) {
    static char buf[CLI_VALUE_BUF];
    wex_val_t v;
    if (!cli_parse_value(text, kind, &v)) return "(rejected)";
    cli_format_value(&v, buf, sizeof buf);
    return buf;
}

TEST(integers) {
    wex_val_t v;
    CHECK(cli_parse_value("25", WEX_I32, &v) && v.kind == WEX_I32 && v.of.i32 == 25);
    /* Integers: the signed range, both edges, and nothing beyond either
     * (as wasmtime: no value wraps into another). */
    CHECK(cli_parse_value("-2147483648", WEX_I32, &v) && v.of.i32 == INT32_MIN);
    CHECK(cli_parse_value("2147483647", WEX_I32, &v) && v.of.i32 == INT32_MAX);
    CHECK(cli_parse_value("+2147483647", WEX_I32, &v) && v.of.i32 == INT32_MAX);
    CHECK(!cli_parse_value("2147483648", WEX_I32, &v));
    CHECK(!cli_parse_value("-2147483649", WEX_I32, &v));
    CHECK(!cli_parse_value("4294967295", WEX_I32, &v));
    CHECK(!cli_parse_value("4294967296", WEX_I32, &v));
    CHECK(!cli_parse_value("12x", WEX_I32, &v));
    CHECK(!cli_parse_value("", WEX_I32, &v));
    CHECK(!cli_parse_value(" 1", WEX_I32, &v));
    CHECK(!cli_parse_value("1.5", WEX_I32, &v));
    CHECK(cli_parse_value("-9223372036854775808", WEX_I64, &v) && v.of.i64 == INT64_MIN);
    CHECK(cli_parse_value("9223372036854775807", WEX_I64, &v) && v.of.i64 == INT64_MAX);
    CHECK(!cli_parse_value("9223372036854775808", WEX_I64, &v));
    CHECK(!cli_parse_value("-9223372036854775809", WEX_I64, &v));
    CHECK(!cli_parse_value("18446744073709551615", WEX_I64, &v));
    CHECK(!cli_parse_value("18446744073709551616", WEX_I64, &v));
    CHECK(!cli_parse_value("-", WEX_I64, &v));
    CHECK(!cli_parse_value("+-1", WEX_I64, &v));
    CHECK(strcmp(roundtrip("-7", WEX_I32), "-7") == 0);
    CHECK(strcmp(roundtrip("-2147483648", WEX_I32), "-2147483648") == 0);
    CHECK(strcmp(roundtrip("9223372036854775807", WEX_I64), "9223372036854775807") == 0);
}

TEST(floats_parse) {
    wex_val_t v;
    CHECK(cli_parse_value("1.5", WEX_F32, &v) && v.of.f32_bits == 0x3FC00000u);
    CHECK(cli_parse_value("-0", WEX_F32, &v) && v.of.f32_bits == 0x80000000u);
    CHECK(cli_parse_value("nan", WEX_F32, &v) && (v.of.f32_bits & 0x7FC00000u) == 0x7FC00000u);
    CHECK(cli_parse_value("inf", WEX_F64, &v) && v.of.f64_bits == 0x7FF0000000000000ull);
    CHECK(cli_parse_value("-inf", WEX_F64, &v) && v.of.f64_bits == 0xFFF0000000000000ull);
    CHECK(cli_parse_value("0x1p-1", WEX_F64, &v) && v.of.f64_bits == 0x3FE0000000000000ull);
    CHECK(cli_parse_value("666.6", WEX_F64, &v) && v.of.f64_bits == 0x4084D4CCCCCCCCCDull);
    CHECK(cli_parse_value("666.6", WEX_F32, &v) && v.of.f32_bits == 0x4426A666u);
    CHECK(!cli_parse_value("1.5abc", WEX_F64, &v));
    CHECK(!cli_parse_value("", WEX_F64, &v));
}

TEST(floats_format) {
    CHECK(strcmp(fmt_bits(WEX_F32, 0x3FC00000u), "1.5") == 0);
    CHECK(strcmp(fmt_bits(WEX_F32, 0x3F800000u), "1") == 0);
    CHECK(strcmp(fmt_bits(WEX_F32, 0x3DCCCCCDu), "0.1") == 0);
    CHECK(strcmp(fmt_bits(WEX_F32, 0x4426A666u), "666.6") == 0);
    CHECK(strcmp(fmt_bits(WEX_F64, 0x3FB999999999999Aull), "0.1") == 0);
    CHECK(strcmp(fmt_bits(WEX_F64, 0x4084D4CCCCCCCCCDull), "666.6") == 0);
    CHECK(strcmp(fmt_bits(WEX_F64, 0x4059000000000000ull), "100") == 0);
    CHECK(strcmp(fmt_bits(WEX_F64, 0x8000000000000000ull), "-0") == 0);
    CHECK(strcmp(fmt_bits(WEX_F32, 0x7FC00000u), "NaN") == 0);
    CHECK(strcmp(fmt_bits(WEX_F32, 0xFF800000u), "-inf") == 0);
    CHECK(strcmp(fmt_bits(WEX_F64, 0x7FF0000000000000ull), "inf") == 0);
    CHECK(strcmp(roundtrip("1e20", WEX_F64), "100000000000000000000") == 0);
    CHECK(strcmp(roundtrip("1.5e-7", WEX_F64), "0.00000015") == 0);
    CHECK(strcmp(roundtrip("-123.25", WEX_F32), "-123.25") == 0);
    /* The extremes fit the buffer. */
    CHECK(strlen(fmt_bits(WEX_F64, 1)) > 300); /* the smallest subnormal */
    CHECK(strlen(fmt_bits(WEX_F64, 0x7FEFFFFFFFFFFFFFull)) == 309);
}

TEST(references) {
    wex_val_t v;
    char buf[CLI_VALUE_BUF];
    CHECK(cli_parse_value("null", WEX_EXTERNREF, &v) && v.of.externref == NULL);
    CHECK(!cli_parse_value("1", WEX_FUNCREF, &v));
    cli_format_value(&v, buf, sizeof buf);
    CHECK(strcmp(buf, "null") == 0);
    CHECK(!cli_parse_value("0", WEX_V128, &v));
}
