/*
 * test_json.c - the spec runner's JSON parser (tools/cli/json.c), which is
 * built into the CLI, not the library, so it is compiled in here directly.
 */
#include "harness.h"

#include "../../tools/cli/json.c"

/* Parse a C string; the tests below use NUL-free documents. */
static json_t *parse(const char *s) {
    return json_parse(s, strlen(s), NULL, 0);
}

TEST(scalars) {
    json_t *v = parse(" 42 ");
    CHECK(v && v->type == JSON_NUMBER && v->u.number == 42);
    json_free(v);
    v = parse("-1.5e3");
    CHECK(v && v->type == JSON_NUMBER && v->u.number == -1500);
    json_free(v);
    v = parse("0.25");
    CHECK(v && v->u.number == 0.25);
    json_free(v);
    v = parse("true");
    CHECK(v && v->type == JSON_BOOL && v->u.boolean);
    json_free(v);
    v = parse("false");
    CHECK(v && v->type == JSON_BOOL && !v->u.boolean);
    json_free(v);
    v = parse("null");
    CHECK(v && v->type == JSON_NULL);
    json_free(v);
}

TEST(string_escapes) {
    json_t *v = parse("\"a\\\"b\\\\c\\/d\\n\\t\\r\\b\\f\"");
    CHECK(v && v->type == JSON_STRING);
    CHECK(strcmp(v->u.string.chars, "a\"b\\c/d\n\t\r\b\f") == 0);
    json_free(v);
}

TEST(string_unicode) {
    /* \u0000 is kept: export names in the spec tests contain NUL. */
    json_t *v = parse("\"x\\u0000y\\u00e9\\u20AC\\ud83d\\ude00\"");
    CHECK(v && v->type == JSON_STRING);
    CHECK_EQ_INT(v->u.string.len, 1 + 1 + 1 + 2 + 3 + 4);
    CHECK(memcmp(v->u.string.chars, "x\0y\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 12) == 0);
    json_free(v);
    /* A lone surrogate becomes its three-byte form. */
    v = parse("\"\\udc00\"");
    CHECK(v && v->u.string.len == 3);
    json_free(v);
    /* Raw UTF-8 passes through unchanged. */
    v = parse("\"\xc3\xa9\"");
    CHECK(v && v->u.string.len == 2 && strcmp(v->u.string.chars, "\xc3\xa9") == 0);
    json_free(v);
}

TEST(nested) {
    const char *doc = "{\"source_filename\": \"x.wast\",\n \"commands\": [\n"
                      "  {\"type\": \"module\", \"line\": 1, \"filename\": \"x.0.wasm\"},\n"
                      "  {\"type\": \"assert_return\", \"line\": 3, \"action\": {\"type\": "
                      "\"invoke\", \"field\": \"f\", \"args\": [{\"type\": \"i32\", \"value\": "
                      "\"4294967295\"}]}, \"expected\": [], \"empty\": {}}]}";
    char err[128];
    json_t *v = json_parse(doc, strlen(doc), err, sizeof err);
    CHECK(v != NULL);
    const json_t *cmds = json_get(v, "commands");
    CHECK_EQ_INT(json_array_len(cmds), 2);
    const json_t *c0 = json_array_at(cmds, 0);
    CHECK(strcmp(json_get_string(c0, "type", NULL), "module") == 0);
    CHECK_EQ_INT(json_get_number(c0, "line", -1), 1);
    const json_t *c1 = json_array_at(cmds, 1);
    const json_t *args = json_get(json_get(c1, "action"), "args");
    CHECK_EQ_INT(json_array_len(args), 1);
    size_t n = 0;
    CHECK(strcmp(json_get_string(json_array_at(args, 0), "value", &n), "4294967295") == 0);
    CHECK_EQ_INT(n, 10);
    CHECK_EQ_INT(json_array_len(json_get(c1, "expected")), 0);
    CHECK(json_get(c1, "empty")->type == JSON_OBJECT);
    CHECK(json_get(c1, "missing") == NULL);
    CHECK(json_array_at(cmds, 2) == NULL);
    CHECK(json_get_string(c0, "line", NULL) == NULL);
    CHECK_EQ_INT(json_get_number(c0, "nope", 7), 7);
    json_free(v);
}

TEST(errors) {
    static const char *bad[] = {
        "",         "   ",   "{",        "[1,]",       "[1 2]",     "{\"a\" 1}",
        "{\"a\":}", "{a:1}", "\"abc",    "\"\\x\"",    "\"\\u12\"", "\"\\u12g4\"",
        "01",       "1.",    "1e",       "-",          "+1",        "tru",
        "nul",      "[1] x", "\"a\nb\"", "{\"a\":1,}", "[\"\\",     "{\"a\":[1,{\"b\":",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[128] = "";
        json_t *v = json_parse(bad[i], strlen(bad[i]), err, sizeof err);
        if (v) wex_test_fail(__FILE__, __LINE__, "accepted bad input '%s'", bad[i]);
        CHECK_STR_CONTAINS(err, "offset ");
    }
}

TEST(error_offset) {
    char err[128];
    CHECK(json_parse("[1, 2, x]", 9, err, sizeof err) == NULL);
    CHECK_STR_CONTAINS(err, "offset 7");
}

TEST(deep_nesting_refused) {
    size_t n = 100000;
    char *s = malloc(n);
    memset(s, '[', n);
    char err[128];
    CHECK(json_parse(s, n, err, sizeof err) == NULL);
    CHECK_STR_CONTAINS(err, "too deep");
    free(s);
}

/* Every prefix of a valid document must be rejected cleanly (no crash, no
 * read past the end: the prefix is copied into an exact-size buffer). */
TEST(truncated_input) {
    const char *doc = "{\"a\": [1, -2.5e1, \"s\\u00e9\\n\", true, false, null, {\"b\": []}]}";
    size_t len = strlen(doc);
    for (size_t i = 0; i < len; i++) {
        char *copy = malloc(i ? i : 1);
        memcpy(copy, doc, i);
        json_t *v = json_parse(copy, i, NULL, 0);
        if (v) wex_test_fail(__FILE__, __LINE__, "accepted a prefix of length %zu", i);
        free(copy);
    }
    json_t *v = json_parse(doc, len, NULL, 0);
    CHECK(v != NULL);
    json_free(v);
}
