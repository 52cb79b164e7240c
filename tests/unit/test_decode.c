/*
 * test_decode.c - the binary decoder on hand-built modules: each malformed
 * case pinned by error code, message prefix and offset, and the IR that
 * well-formed modules decode into.
 */
#include "harness.h"

#include "decode/decode.h"

#define HDR 0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00
/* Type section with one type [] -> [], function section with one function. */
#define TYPE0 0x01, 0x04, 0x01, 0x60, 0x00, 0x00
#define FUNC1 0x03, 0x02, 0x01, 0x00

/* Decode a copy of b[0..n) into *m (freed by the caller). */
static wex_error_t *decode(wex__module *m, const uint8_t *b, size_t n) {
    memset(m, 0, sizeof *m);
    m->bytes = malloc(n ? n : 1);
    if (n) memcpy(m->bytes, b, n);
    m->len = n;
    return wex__decode(m);
}

/* Decode b and require an error of `code` starting with `msg` at `off`. */
static void expect_err(int line, const uint8_t *b, size_t n, wex_errcode_t code, const char *msg,
                       int64_t off) {
    wex__module m;
    wex_error_t *e = decode(&m, b, n);
    if (!e) wex_test_fail(__FILE__, line, "decoded OK, expected \"%s\"", msg);
    if (wex_error_code(e) != code || strncmp(wex_error_message(e), msg, strlen(msg)) != 0 ||
        wex_error_offset(e) != off)
        wex_test_fail(__FILE__, line, "got %s \"%s\" at %lld, expected %s \"%s\" at %lld",
                      wex_errcode_name(wex_error_code(e)), wex_error_message(e),
                      (long long)wex_error_offset(e), wex_errcode_name(code), msg, (long long)off);
    wex_error_delete(e);
    wex__module_free(&m);
}

/* Decode b and require success; the module is left in *m. */
static void expect_ok(int line, wex__module *m, const uint8_t *b, size_t n) {
    wex_error_t *e = decode(m, b, n);
    if (e)
        wex_test_fail(__FILE__, line, "expected OK, got \"%s\" at %lld", wex_error_message(e),
                      (long long)wex_error_offset(e));
}

#define MAL(msg, off, ...)                                                                         \
    do {                                                                                           \
        static const uint8_t b_[] = {__VA_ARGS__};                                                 \
        expect_err(__LINE__, b_, sizeof b_, WEX_ERR_MALFORMED, msg, off);                          \
    } while (0)
#define UNSUP(off, ...)                                                                            \
    do {                                                                                           \
        static const uint8_t b_[] = {__VA_ARGS__};                                                 \
        expect_err(__LINE__, b_, sizeof b_, WEX_ERR_UNSUPPORTED, "SIMD is not supported yet",      \
                   off);                                                                           \
    } while (0)
#define OK(m, ...)                                                                                 \
    do {                                                                                           \
        static const uint8_t b_[] = {__VA_ARGS__};                                                 \
        expect_ok(__LINE__, m, b_, sizeof b_);                                                     \
    } while (0)
#define OK_FREE(...)                                                                               \
    do {                                                                                           \
        wex__module m_;                                                                            \
        OK(&m_, __VA_ARGS__);                                                                      \
        wex__module_free(&m_);                                                                     \
    } while (0)

TEST(empty_file) {
    expect_err(__LINE__, NULL, 0, WEX_ERR_MALFORMED, "unexpected end", 0);
}

TEST(header) {
    MAL("unexpected end", 0, 0x00, 0x61, 0x73);
    MAL("unexpected end", 4, 0x00, 0x61, 0x73, 0x6d, 0x01, 0x00);
    MAL("magic header not detected", 0, 0x61, 0x73, 0x6d, 0x00, 0x01, 0x00, 0x00, 0x00);
    MAL("magic header not detected", 0, 0xef, 0xbb, 0xbf, 0x00, 0x61, 0x73, 0x6d, 0x01);
    MAL("unknown binary version", 4, 0x00, 0x61, 0x73, 0x6d, 0x02, 0x00, 0x00, 0x00);
    MAL("unknown binary version", 4, 0x00, 0x61, 0x73, 0x6d, 0x00, 0x00, 0x00, 0x01);
    wex__module m;
    OK(&m, HDR);
    CHECK_EQ_INT(m.ntypes + m.nfuncs + m.ncodes + m.nimports + m.nexports, 0);
    CHECK(m.func_names == NULL);
    wex__module_free(&m);
}

TEST(garbage) {
    MAL("malformed section id", 8, HDR, 0x0e, 0x01, 0x00);
    MAL("malformed section id", 8, HDR, 0xff, 0x01, 0x00);
    /* A second module appended: its "\0asm" reads as a custom section. */
    MAL("length out of bounds", 9, HDR, HDR);
}

TEST(truncated_section) {
    /* The size says 5 bytes, 1 is there. */
    MAL("length out of bounds", 9, HDR, 0x01, 0x05, 0x01);
    /* The size fits but the type inside is cut short. */
    MAL("unexpected end of section or function", 13, HDR, 0x01, 0x03, 0x01, 0x60, 0x00);
    /* Missing section size. */
    MAL("unexpected end", 9, HDR, 0x01);
}

TEST(section_size_mismatch) {
    /* One byte too many in the type section. */
    MAL("section size mismatch", 10, HDR, 0x01, 0x05, 0x01, 0x60, 0x00, 0x00, 0x00);
    /* The type reads past a too-small size into the next section's bytes. */
    MAL("section size mismatch", 10, HDR, 0x01, 0x03, 0x01, 0x60, 0x00, 0x00);
}

TEST(absurd_counts_fail_fast) {
    /* Counts of 0xFFFFFFFF in tiny files: refused before any allocation. */
    MAL("length out of bounds", 10, HDR, 0x01, 0x06, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x60);
    MAL("length out of bounds", 10, HDR, 0x03, 0x06, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x00);
    MAL("length out of bounds", 10, HDR, 0x0a, 0x06, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x00);
    MAL("length out of bounds", 10, HDR, 0x09, 0x06, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x00);
    MAL("length out of bounds", 10, HDR, 0x0b, 0x06, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x00);
    /* An import name of 4 GiB. */
    MAL("length out of bounds", 11, HDR, 0x02, 0x07, 0x01, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x00);
    /* A body of 4 GiB, a locals vector of 4 GiB, a br_table of 4 GiB. */
    MAL("length out of bounds", 21, HDR, TYPE0, FUNC1, 0x0a, 0x06, 0x01, 0xff, 0xff, 0xff, 0xff,
        0x0f);
    MAL("length out of bounds", 22, HDR, TYPE0, FUNC1, 0x0a, 0x07, 0x01, 0x05, 0xff, 0xff, 0xff,
        0xff, 0x0f);
    MAL("length out of bounds", 24, HDR, TYPE0, FUNC1, 0x0a, 0x09, 0x01, 0x07, 0x00, 0x0e, 0xff,
        0xff, 0xff, 0xff, 0x0f);
    /* A data segment of 4 GiB. */
    MAL("length out of bounds", 12, HDR, 0x0b, 0x07, 0x01, 0x01, 0xff, 0xff, 0xff, 0xff, 0x0f);
}

TEST(leb128_u32) {
    /* A type count of 0 in 5 bytes is fine; in 6 it is too long. */
    OK_FREE(HDR, 0x01, 0x05, 0x80, 0x80, 0x80, 0x80, 0x00);
    MAL("integer representation too long", 15, HDR, 0x01, 0x06, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00);
    /* Bits beyond 32 set in the fifth byte. */
    MAL("integer too large", 15, HDR, 0x01, 0x05, 0x80, 0x80, 0x80, 0x80, 0x10);
    /* The largest u32 function index in the start section decodes. */
    wex__module m;
    OK(&m, HDR, 0x08, 0x05, 0xff, 0xff, 0xff, 0xff, 0x0f);
    CHECK(m.has_start);
    CHECK_EQ_INT(m.start, 0xffffffffu);
    wex__module_free(&m);
    MAL("integer too large", 15, HDR, 0x08, 0x05, 0xff, 0xff, 0xff, 0xff, 0x1f);
}

TEST(leb128_signed) {
    /* Global i32 initialised with i32.const of 5-byte encodings. */
#define G32(...) HDR, 0x06, 0x0a, 0x01, 0x7f, 0x00, 0x41, __VA_ARGS__, 0x0b
    OK_FREE(G32(0xff, 0xff, 0xff, 0xff, 0x7f)); /* -1 */
    OK_FREE(G32(0x80, 0x80, 0x80, 0x80, 0x78)); /* INT32_MIN */
    OK_FREE(G32(0xff, 0xff, 0xff, 0xff, 0x07)); /* INT32_MAX */
    MAL("integer too large", 19, G32(0xff, 0xff, 0xff, 0xff, 0x4f));
    MAL("integer too large", 19, G32(0x80, 0x80, 0x80, 0x80, 0x70));
    MAL("integer representation too long", 19, HDR, 0x06, 0x0b, 0x01, 0x7f, 0x00, 0x41, 0x80, 0x80,
        0x80, 0x80, 0x80, 0x00, 0x0b);
#undef G32
    /* i64.const: 10 bytes at most, the last carrying only the sign. */
    OK_FREE(HDR, 0x06, 0x0f, 0x01, 0x7e, 0x00, 0x42, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            0xff, 0x7f, 0x0b);
    MAL("integer too large", 24, HDR, 0x06, 0x0f, 0x01, 0x7e, 0x00, 0x42, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0x41, 0x0b);
}

TEST(section_order) {
    /* Function section before type section. */
    MAL("unexpected content after last section", 12, HDR, FUNC1, TYPE0);
    /* A repeated section. */
    MAL("unexpected content after last section", 14, HDR, TYPE0, TYPE0);
    /* Data count (12) goes after element (9) and before code (10)... */
    OK_FREE(HDR, 0x09, 0x01, 0x00, 0x0c, 0x01, 0x00, 0x0a, 0x01, 0x00);
    /* ...not after code. */
    MAL("unexpected content after last section", 11, HDR, 0x0a, 0x01, 0x00, 0x0c, 0x01, 0x00);
    /* Custom sections go anywhere, any number of times. */
    OK_FREE(HDR, 0x00, 0x02, 0x01, 0x61, TYPE0, 0x00, 0x01, 0x00, 0x00, 0x01, 0x00);
}

TEST(utf8) {
    /* Import module name 0xff. */
    MAL("malformed UTF-8 encoding", 11, HDR, 0x02, 0x06, 0x01, 0x01, 0xff, 0x00, 0x00, 0x00);
    /* Custom section name: a lone surrogate, an overlong NUL. */
    MAL("malformed UTF-8 encoding", 10, HDR, 0x00, 0x04, 0x03, 0xed, 0xa0, 0x80);
    MAL("malformed UTF-8 encoding", 10, HDR, 0x00, 0x03, 0x02, 0xc0, 0x80);
    /* A custom section whose name overruns it. */
    MAL("unexpected end", 14, HDR, 0x00, 0x01, 0x03, 0x61, 0x62, 0x63);
}

TEST(body_syntax) {
#define BODY(size, ...) HDR, TYPE0, FUNC1, 0x0a, (size) + 2, 0x01, size, __VA_ARGS__
    OK_FREE(BODY(2, 0x00, 0x0b));
    MAL("illegal opcode 06", 23, BODY(3, 0x00, 0x06, 0x0b));
    MAL("illegal opcode fc 12", 23, BODY(4, 0x00, 0xfc, 0x12, 0x0b));
    MAL("zero byte expected", 24, BODY(4, 0x00, 0x3f, 0x01, 0x0b));
    MAL("zero byte expected", 26, BODY(6, 0x00, 0xfc, 0x0a, 0x00, 0x01, 0x0b));
    MAL("malformed memop flags", 26, BODY(7, 0x00, 0x41, 0x00, 0x28, 0x20, 0x00, 0x0b));
    /* else outside an if, a second else, end missing. */
    MAL("END opcode expected", 23, BODY(3, 0x00, 0x05, 0x0b));
    MAL("END opcode expected", 28, BODY(8, 0x00, 0x41, 0x00, 0x04, 0x40, 0x05, 0x05, 0x0b, 0x0b));
    MAL("unexpected end of section or function", 24, BODY(2, 0x00, 0x01));
    /* Block types: a type index is fine (valid checks it), a negative one
     * is not. */
    OK_FREE(BODY(5, 0x00, 0x02, 0x05, 0x0b, 0x0b));
    MAL("malformed block type", 24, BODY(6, 0x00, 0x02, 0xff, 0x7f, 0x0b, 0x0b));
    /* select t*, ref.null with a bad type. */
    OK_FREE(BODY(5, 0x00, 0x1c, 0x01, 0x7f, 0x0b));
    MAL("malformed reference type", 24, BODY(4, 0x00, 0xd0, 0x7f, 0x0b));
    /* Unknown indices are not malformed. */
    OK_FREE(BODY(4, 0x00, 0x10, 0x63, 0x0b));
    /* memory.init and data.drop need a data count section. */
    /* With a data section present; without one the index is left to the
     * validator ("unknown data segment"), as wast2json writes such modules. */
    MAL("data count section required", 33, BODY(5, 0x00, 0xfc, 0x09, 0x00, 0x0b), 0x0b, 0x04, 0x01,
        0x01, 0x01, 0x00);
    OK_FREE(BODY(5, 0x00, 0xfc, 0x09, 0x00, 0x0b));
    OK_FREE(HDR, TYPE0, FUNC1, 0x0c, 0x01, 0x00, 0x0a, 0x07, 0x01, 0x05, 0x00, 0xfc, 0x09, 0x00,
            0x0b);
#undef BODY
}

TEST(simd_refused) {
    UNSUP(23, HDR, TYPE0, FUNC1, 0x0a, 0x05, 0x01, 0x03, 0x00, 0xfd, 0x0b);
    UNSUP(13, HDR, 0x01, 0x05, 0x01, 0x60, 0x01, 0x7b, 0x00);
}

TEST(counts_match) {
    MAL("function and code section have inconsistent lengths", 18, HDR, TYPE0, FUNC1);
    MAL("function and code section have inconsistent lengths", 14, HDR, 0x0a, 0x04, 0x01, 0x02,
        0x00, 0x0b);
    MAL("data count and data section have inconsistent lengths", 11, HDR, 0x0c, 0x01, 0x01);
}

TEST(too_many_locals) {
    /* 0xFFFFFFFF + 2 locals overflow the spec's 2^32-1. */
    MAL("too many locals", 22, HDR, TYPE0, FUNC1, 0x0a, 0x0c, 0x01, 0x0a, 0x02, 0xff, 0xff, 0xff,
        0xff, 0x0f, 0x7f, 0x02, 0x7e, 0x0b);
    /* 50000 locals is the limit; one more is refused. */
    OK_FREE(HDR, TYPE0, FUNC1, 0x0a, 0x08, 0x01, 0x06, 0x01, 0xd0, 0x86, 0x03, 0x7f, 0x0b);
    MAL("too many locals", 22, HDR, TYPE0, FUNC1, 0x0a, 0x08, 0x01, 0x06, 0x01, 0xd1, 0x86, 0x03,
        0x7f, 0x0b);
    /* Parameters count when the type is known. */
    MAL("too many locals", 23, HDR, 0x01, 0x05, 0x01, 0x60, 0x01, 0x7f, 0x00, FUNC1, 0x0a, 0x08,
        0x01, 0x06, 0x01, 0xd0, 0x86, 0x03, 0x7f, 0x0b);
}

TEST(kinds_and_flags) {
    MAL("malformed import kind", 13, HDR, 0x02, 0x05, 0x01, 0x00, 0x00, 0x04, 0x00);
    MAL("malformed export kind", 12, HDR, 0x07, 0x04, 0x01, 0x00, 0x04, 0x00);
    MAL("malformed mutability", 12, HDR, 0x06, 0x06, 0x01, 0x7f, 0x02, 0x41, 0x00, 0x0b);
    MAL("integer too large", 12, HDR, 0x04, 0x04, 0x01, 0x70, 0x02, 0x00);
    MAL("integer representation too long", 12, HDR, 0x05, 0x04, 0x01, 0x81, 0x00, 0x00);
    MAL("malformed reference type", 11, HDR, 0x04, 0x04, 0x01, 0x7f, 0x00, 0x00);
    MAL("malformed elements segment kind", 11, HDR, 0x09, 0x02, 0x01, 0x08);
    MAL("malformed element kind", 12, HDR, 0x09, 0x04, 0x01, 0x01, 0x01, 0x00);
    MAL("malformed data segment kind", 11, HDR, 0x0b, 0x02, 0x01, 0x03);
    MAL("malformed number type", 13, HDR, 0x01, 0x05, 0x01, 0x60, 0x01, 0x71, 0x00);
    MAL("malformed function type", 11, HDR, 0x01, 0x04, 0x01, 0x61, 0x00, 0x00);
}

TEST(ir_filled) {
    wex__module m;
    /* (type (func (param i32) (result i64)))
     * (import "m" "f" (func (type 0)))  (import "m" "t" (table 1 2 funcref))
     * (import "m" "g" (global (mut i32)))
     * (func (type 0) (local i32 i32 f64) nop end)
     * (table 3 externref) (memory 1) (global f32 (f32.const 0))
     * (export "e" (func 1)) (start 1)
     * (data count 1) (data (i32.const 2) "ab") */
    OK(&m, HDR, 0x01, 0x06, 0x01, 0x60, 0x01, 0x7f, 0x01, 0x7e,          /* type 8.. */
       0x02, 0x17, 0x03,                                                 /* import 16.. */
       0x01, 0x6d, 0x01, 0x66, 0x00, 0x00,                               /* m.f func 0 */
       0x01, 0x6d, 0x01, 0x74, 0x01, 0x70, 0x01, 0x01, 0x02,             /* m.t table */
       0x01, 0x6d, 0x01, 0x67, 0x03, 0x7f, 0x01,                         /* m.g global */
       0x03, 0x02, 0x01, 0x00,                                           /* func 41.. */
       0x04, 0x04, 0x01, 0x6f, 0x00, 0x03,                               /* table 45.. */
       0x05, 0x03, 0x01, 0x00, 0x01,                                     /* mem 51.. */
       0x06, 0x09, 0x01, 0x7d, 0x00, 0x43, 0x00, 0x00, 0x00, 0x00, 0x0b, /* global 56.. */
       0x07, 0x05, 0x01, 0x01, 0x65, 0x00, 0x01,                         /* export 67.. */
       0x08, 0x01, 0x01,                                                 /* start 74.. */
       0x0c, 0x01, 0x01,                                                 /* dcount 77.. */
       0x0a, 0x09, 0x01, 0x07, 0x02, 0x02, 0x7f, 0x01, 0x7c, 0x01, 0x0b, /* code 80.. */
       0x0b, 0x08, 0x01, 0x00, 0x41, 0x02, 0x0b, 0x02, 0x61, 0x62);      /* data 91.. */
    CHECK_EQ_INT(m.ntypes, 1);
    CHECK_EQ_INT(m.types[0].nparams, 1);
    CHECK_EQ_INT(m.types[0].nresults, 1);
    CHECK_EQ_INT(m.types[0].types[0], WEX__T_I32);
    CHECK_EQ_INT(m.types[0].types[1], WEX__T_I64);
    CHECK_EQ_INT(m.nimports, 3);
    CHECK(strcmp(m.imports[0].module, "m") == 0 && strcmp(m.imports[0].name, "f") == 0);
    CHECK_EQ_INT(m.imports[1].kind, WEX__EXT_TABLE);
    CHECK_EQ_INT(m.imports[1].u.table.lim.max, 2);
    CHECK_EQ_INT(m.nfuncs, 2);
    CHECK_EQ_INT(m.nfunc_imports, 1);
    CHECK_EQ_INT(m.func_types[1], 0);
    CHECK_EQ_INT(m.ntables, 2);
    CHECK_EQ_INT(m.ntable_imports, 1);
    CHECK_EQ_INT(m.tables[0].elem, WEX__T_FUNCREF);
    CHECK(m.tables[0].lim.has_max);
    CHECK_EQ_INT(m.tables[1].elem, WEX__T_EXTERNREF);
    CHECK_EQ_INT(m.tables[1].lim.min, 3);
    CHECK(!m.tables[1].lim.has_max);
    CHECK_EQ_INT(m.nmems, 1);
    CHECK_EQ_INT(m.nmem_imports, 0);
    CHECK_EQ_INT(m.nglobals, 2);
    CHECK_EQ_INT(m.nglobal_imports, 1);
    CHECK(m.global_types[0].mut);
    CHECK_EQ_INT(m.global_types[1].type, WEX__T_F32);
    CHECK_EQ_INT(m.globals[0].init.off, 61);
    CHECK_EQ_INT(m.globals[0].init.len, 6);
    CHECK_EQ_INT(m.nexports, 1);
    CHECK(strcmp(m.exports[0].name, "e") == 0);
    CHECK_EQ_INT(m.exports[0].index, 1);
    CHECK(m.has_start);
    CHECK_EQ_INT(m.start, 1);
    CHECK(m.has_datacount);
    CHECK_EQ_INT(m.ncodes, 1);
    CHECK_EQ_INT(m.codes[0].off, 84);
    CHECK_EQ_INT(m.codes[0].len, 7);
    CHECK_EQ_INT(m.codes[0].expr_off, 89);
    CHECK_EQ_INT(m.codes[0].nlocals, 3);
    CHECK_EQ_INT(m.codes[0].nruns, 2);
    CHECK_EQ_INT(m.codes[0].runs[1].type, WEX__T_F64);
    CHECK_EQ_INT(m.ndatas, 1);
    CHECK_EQ_INT(m.datas[0].mode, WEX__SEG_ACTIVE);
    CHECK_EQ_INT(m.datas[0].offset.off, 95);
    CHECK_EQ_INT(m.datas[0].offset.len, 3);
    CHECK_EQ_INT(m.datas[0].data_off, 99);
    CHECK_EQ_INT(m.datas[0].data_len, 2);
    wex__module_free(&m);
}

TEST(elem_encodings) {
    wex__module m;
    OK(&m, HDR, 0x09, 0x2e, 0x08, 0x00, 0x41, 0x00, 0x0b, 0x01, 0x05, /* 0: active t0, funcs [5] */
       0x01, 0x00, 0x01, 0x06,                                        /* 1: passive, funcs [6] */
       0x02, 0x02, 0x41, 0x00, 0x0b, 0x00, 0x00,                      /* 2: active t2, funcs [] */
       0x03, 0x00, 0x01, 0x07,                         /* 3: declarative, funcs [7] */
       0x04, 0x41, 0x00, 0x0b, 0x01, 0xd2, 0x00, 0x0b, /* 4: active t0, exprs */
       0x05, 0x6f, 0x01, 0xd0, 0x6f, 0x0b,             /* 5: passive externref */
       0x06, 0x01, 0x41, 0x00, 0x0b, 0x70, 0x00,       /* 6: active t1, no exprs */
       0x07, 0x70, 0x00);                              /* 7: declarative */
    CHECK_EQ_INT(m.nelems, 8);
    static const uint8_t modes[8] = {0, 1, 0, 2, 0, 1, 0, 2};
    for (int i = 0; i < 8; i++) {
        CHECK_EQ_INT(m.elems[i].mode, modes[i]);
        CHECK((m.elems[i].exprs != NULL) == (i >= 4));
        CHECK((m.elems[i].funcs != NULL) == (i < 4));
    }
    CHECK_EQ_INT(m.elems[0].funcs[0], 5);
    CHECK_EQ_INT(m.elems[1].funcs[0], 6);
    CHECK_EQ_INT(m.elems[2].table, 2);
    CHECK_EQ_INT(m.elems[2].count, 0);
    CHECK_EQ_INT(m.elems[3].funcs[0], 7);
    CHECK_EQ_INT(m.elems[4].count, 1);
    CHECK_EQ_INT(m.elems[4].exprs[0].len, 3);
    CHECK_EQ_INT(m.elems[5].type, WEX__T_EXTERNREF);
    CHECK_EQ_INT(m.elems[6].table, 1);
    CHECK_EQ_INT(m.elems[7].type, WEX__T_FUNCREF);
    CHECK_EQ_INT(m.elems[4].off, 32);
    wex__module_free(&m);
}

TEST(data_encodings) {
    wex__module m;
    OK(&m, HDR, 0x0b, 0x0f, 0x03, 0x00, 0x41, 0x01, 0x0b, 0x00, /* active mem 0, empty */
       0x01, 0x01, 0x78,                                        /* passive "x" */
       0x02, 0x03, 0x41, 0x02, 0x0b, 0x00);                     /* active mem 3 */
    CHECK_EQ_INT(m.ndatas, 3);
    CHECK_EQ_INT(m.datas[1].mode, WEX__SEG_PASSIVE);
    CHECK_EQ_INT(m.datas[1].data_len, 1);
    CHECK_EQ_INT(m.bytes[m.datas[1].data_off], 0x78);
    CHECK_EQ_INT(m.datas[2].mem, 3);
    CHECK_EQ_INT(m.datas[2].offset.off, 21);
    wex__module_free(&m);
}

TEST(name_section) {
    wex__module m;
    /* Two functions; the name section names function 1 "fn" (and an
     * out-of-range index 9, ignored). */
    OK(&m, HDR, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x03, 0x02, 0x00, 0x00, 0x0a, 0x07, 0x02,
       0x02, 0x00, 0x0b, 0x02, 0x00, 0x0b, 0x00, 0x13, 0x04, 0x6e, 0x61, 0x6d, 0x65, 0x00, 0x02,
       0x01, 0x61, /* module name subsection */
       0x01, 0x08, 0x02, 0x01, 0x02, 0x66, 0x6e, 0x09, 0x01, 0x7a);
    CHECK(m.func_names != NULL);
    CHECK(m.func_names[0] == NULL);
    CHECK(strcmp(m.func_names[1], "fn") == 0);
    wex__module_free(&m);
    /* A broken name section does not fail the module. */
    OK(&m, HDR, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00, 0x0a, 0x04, 0x01, 0x02,
       0x00, 0x0b, 0x00, 0x0a, 0x04, 0x6e, 0x61, 0x6d, 0x65, 0x01, 0x7f, 0x01, 0x00, 0xff);
    wex__module_free(&m);
}
