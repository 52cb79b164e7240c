/*
 * json.c - a small, strict JSON parser (RFC 8259) for wast2json output.
 */
#include "json.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Nesting deeper than this is refused, so that hostile input cannot overflow
 * the C stack through recursion. wast2json nests at most four deep. */
#define JSON_MAX_DEPTH 256

typedef struct {
    const char *start, *p, *end;
    char *err;
    size_t errlen;
    int depth;
    bool failed;
} parser_t;

static bool parse_value(parser_t *ps, json_t *out);
static void free_value(json_t *v);

/* Record the first error only, with its byte offset, so the caller can show
 * where the document went wrong. Returns false for `return fail(...)`. */
static bool fail(parser_t *ps, const char *fmt, ...) {
    if (ps->failed) return false;
    ps->failed = true;
    if (ps->err && ps->errlen) {
        int n = snprintf(ps->err, ps->errlen, "offset %zu: ", (size_t)(ps->p - ps->start));
        if (n >= 0 && (size_t)n < ps->errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return false;
}

/* JSON whitespace is exactly these four characters. */
static void skip_ws(parser_t *ps) {
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

/* A growable byte buffer for decoding strings, whose length is unknown until
 * the closing quote. */
typedef struct {
    char *data;
    size_t len, cap;
} buf_t;

/* Append n bytes; false when out of memory. */
static bool buf_add(buf_t *b, const char *s, size_t n) {
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 32;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d) return false;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return true;
}

/* Read the four hex digits of a \u escape. */
static bool read_hex4(parser_t *ps, uint32_t *out) {
    if (ps->end - ps->p < 4) return fail(ps, "truncated \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        char c = ps->p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (uint32_t)(c - 'A' + 10);
        else
            return fail(ps, "bad hex digit in \\u escape");
    }
    ps->p += 4;
    *out = v;
    return true;
}

/* Encode a code point as UTF-8. A lone surrogate is encoded as its three-byte
 * form (WTF-8) rather than refused: names are compared byte-wise anyway. */
static size_t utf8_encode(uint32_t cp, char *out) {
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Parse a string starting at the opening quote, decoding escapes. The result
 * is malloc'ed and NUL-terminated, with its true length in *len. */
static bool parse_string(parser_t *ps, char **out, size_t *len) {
    buf_t b = {0};
    ps->p++; /* opening quote */
    if (!buf_add(&b, "", 0)) return fail(ps, "out of memory");
    for (;;) {
        if (ps->p >= ps->end) {
            free(b.data);
            return fail(ps, "unterminated string");
        }
        unsigned char c = (unsigned char)*ps->p;
        if (c == '"') {
            ps->p++;
            break;
        }
        if (c < 0x20) {
            free(b.data);
            return fail(ps, "control character in string");
        }
        if (c != '\\') {
            const char *run = ps->p;
            while (ps->p < ps->end && *ps->p != '"' && *ps->p != '\\' &&
                   (unsigned char)*ps->p >= 0x20)
                ps->p++;
            if (!buf_add(&b, run, (size_t)(ps->p - run))) goto oom;
            continue;
        }
        ps->p++;
        if (ps->p >= ps->end) {
            free(b.data);
            return fail(ps, "unterminated escape");
        }
        char e = *ps->p++, ch;
        switch (e) {
        case '"': ch = '"'; break;
        case '\\': ch = '\\'; break;
        case '/': ch = '/'; break;
        case 'b': ch = '\b'; break;
        case 'f': ch = '\f'; break;
        case 'n': ch = '\n'; break;
        case 'r': ch = '\r'; break;
        case 't': ch = '\t'; break;
        case 'u': {
            uint32_t cp;
            if (!read_hex4(ps, &cp)) {
                free(b.data);
                return false;
            }
            /* A high surrogate followed by an escaped low one is a pair. */
            if (cp >= 0xD800 && cp <= 0xDBFF && ps->end - ps->p >= 6 && ps->p[0] == '\\' &&
                ps->p[1] == 'u') {
                const char *save = ps->p;
                uint32_t lo;
                ps->p += 2;
                if (!read_hex4(ps, &lo)) {
                    free(b.data);
                    return false;
                }
                if (lo >= 0xDC00 && lo <= 0xDFFF)
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                else
                    ps->p = save;
            }
            char enc[4];
            if (!buf_add(&b, enc, utf8_encode(cp, enc))) goto oom;
            continue;
        }
        default:
            ps->p--;
            free(b.data);
            return fail(ps, "bad escape '\\%c'", e);
        }
        if (!buf_add(&b, &ch, 1)) goto oom;
    }
    *out = b.data;
    *len = b.len;
    return true;
oom:
    free(b.data);
    return fail(ps, "out of memory");
}

/* Check the JSON number grammar, then convert with strtod on a NUL-terminated
 * copy (the input need not be terminated). */
static bool parse_number(parser_t *ps, double *out) {
    const char *s = ps->p;
    const char *p = s;
    if (p < ps->end && *p == '-') p++;
    if (p >= ps->end) return fail(ps, "truncated number");
    if (*p == '0')
        p++;
    else if (*p >= '1' && *p <= '9')
        while (p < ps->end && *p >= '0' && *p <= '9')
            p++;
    else
        return fail(ps, "bad number");
    if (p < ps->end && *p == '.') {
        p++;
        if (p >= ps->end || *p < '0' || *p > '9') return fail(ps, "bad fraction");
        while (p < ps->end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < ps->end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < ps->end && (*p == '+' || *p == '-')) p++;
        if (p >= ps->end || *p < '0' || *p > '9') return fail(ps, "bad exponent");
        while (p < ps->end && *p >= '0' && *p <= '9')
            p++;
    }
    size_t n = (size_t)(p - s);
    char small[64];
    char *copy = n < sizeof small ? small : malloc(n + 1);
    if (!copy) return fail(ps, "out of memory");
    memcpy(copy, s, n);
    copy[n] = '\0';
    *out = strtod(copy, NULL);
    if (copy != small) free(copy);
    ps->p = p;
    return true;
}

/* Match a bare word (true, false, null). */
static bool parse_literal(parser_t *ps, const char *word) {
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
        return fail(ps, "unexpected character");
    ps->p += n;
    return true;
}

/* Parse `[ value, ... ]` into a growable array of values. */
static bool parse_array(parser_t *ps, json_t *out) {
    size_t cap = 0;
    out->type = JSON_ARRAY;
    out->u.array.items = NULL;
    out->u.array.len = 0;
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == ']') {
        ps->p++;
        return true;
    }
    for (;;) {
        if (out->u.array.len == cap) {
            cap = cap ? cap * 2 : 4;
            json_t *items = realloc(out->u.array.items, cap * sizeof *items);
            if (!items) return fail(ps, "out of memory");
            out->u.array.items = items;
        }
        json_t *item = &out->u.array.items[out->u.array.len++];
        item->type = JSON_NULL; /* counted now so that an error frees it */
        if (!parse_value(ps, item)) return false;
        skip_ws(ps);
        if (ps->p >= ps->end) return fail(ps, "unterminated array");
        if (*ps->p == ']') {
            ps->p++;
            return true;
        }
        if (*ps->p != ',') return fail(ps, "expected ',' or ']'");
        ps->p++;
    }
}

/* Parse `{ "key": value, ... }`. Duplicate keys are kept; json_get finds the
 * first. */
static bool parse_object(parser_t *ps, json_t *out) {
    size_t cap = 0;
    out->type = JSON_OBJECT;
    out->u.object.members = NULL;
    out->u.object.len = 0;
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == '}') {
        ps->p++;
        return true;
    }
    for (;;) {
        skip_ws(ps);
        if (ps->p >= ps->end) return fail(ps, "unterminated object");
        if (*ps->p != '"') return fail(ps, "expected a string key");
        if (out->u.object.len == cap) {
            cap = cap ? cap * 2 : 4;
            json_member_t *m = realloc(out->u.object.members, cap * sizeof *m);
            if (!m) return fail(ps, "out of memory");
            out->u.object.members = m;
        }
        json_member_t *m = &out->u.object.members[out->u.object.len];
        if (!parse_string(ps, &m->key, &m->key_len)) return false;
        m->value.type = JSON_NULL;
        out->u.object.len++; /* counted now so that an error frees the key */
        skip_ws(ps);
        if (ps->p >= ps->end || *ps->p != ':') return fail(ps, "expected ':'");
        ps->p++;
        if (!parse_value(ps, &m->value)) return false;
        skip_ws(ps);
        if (ps->p >= ps->end) return fail(ps, "unterminated object");
        if (*ps->p == '}') {
            ps->p++;
            return true;
        }
        if (*ps->p != ',') return fail(ps, "expected ',' or '}'");
        ps->p++;
    }
}

/* Parse any value. On failure *out is still a well-formed (partial) tree, so
 * that the caller can free it. */
static bool parse_value(parser_t *ps, json_t *out) {
    out->type = JSON_NULL;
    skip_ws(ps);
    if (ps->p >= ps->end) return fail(ps, "unexpected end of input");
    if (++ps->depth > JSON_MAX_DEPTH) return fail(ps, "nesting too deep");
    bool ok;
    switch (*ps->p) {
    case '{': ok = parse_object(ps, out); break;
    case '[': ok = parse_array(ps, out); break;
    case '"': {
        char *s;
        size_t n;
        ok = parse_string(ps, &s, &n);
        if (ok) {
            out->type = JSON_STRING;
            out->u.string.chars = s;
            out->u.string.len = n;
        }
        break;
    }
    case 't':
        ok = parse_literal(ps, "true");
        if (ok) out->type = JSON_BOOL, out->u.boolean = true;
        break;
    case 'f':
        ok = parse_literal(ps, "false");
        if (ok) out->type = JSON_BOOL, out->u.boolean = false;
        break;
    case 'n': ok = parse_literal(ps, "null"); break;
    default:
        ok = parse_number(ps, &out->u.number);
        if (ok) out->type = JSON_NUMBER;
        break;
    }
    ps->depth--;
    return ok;
}

/* Free what a value owns (not the value itself). */
static void free_value(json_t *v) {
    size_t i;
    switch (v->type) {
    case JSON_STRING: free(v->u.string.chars); break;
    case JSON_ARRAY:
        for (i = 0; i < v->u.array.len; i++)
            free_value(&v->u.array.items[i]);
        free(v->u.array.items);
        break;
    case JSON_OBJECT:
        for (i = 0; i < v->u.object.len; i++) {
            free(v->u.object.members[i].key);
            free_value(&v->u.object.members[i].value);
        }
        free(v->u.object.members);
        break;
    default: break;
    }
    v->type = JSON_NULL;
}

/* The entry point: one value, then only whitespace. */
json_t *json_parse(const char *text, size_t len, char *err, size_t errlen) {
    parser_t ps = {text, text, text + len, err, errlen, 0, false};
    json_t *root = malloc(sizeof *root);
    if (!root) {
        if (err && errlen) snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (err && errlen) err[0] = '\0';
    bool ok = parse_value(&ps, root);
    if (ok) {
        skip_ws(&ps);
        if (ps.p != ps.end) ok = fail(&ps, "trailing characters after the value");
    }
    if (!ok) {
        free_value(root);
        free(root);
        return NULL;
    }
    return root;
}

/* Free a tree made by json_parse. */
void json_free(json_t *root) {
    if (!root) return;
    free_value(root);
    free(root);
}

/* Object lookup by key: linear, which is fine for the few keys per command. */
const json_t *json_get(const json_t *v, const char *key) {
    if (!v || v->type != JSON_OBJECT) return NULL;
    size_t n = strlen(key);
    for (size_t i = 0; i < v->u.object.len; i++) {
        const json_member_t *m = &v->u.object.members[i];
        if (m->key_len == n && memcmp(m->key, key, n) == 0) return &m->value;
    }
    return NULL;
}

/* String member, or NULL: saves a type check at every call site. */
const char *json_get_string(const json_t *v, const char *key, size_t *len) {
    const json_t *s = json_get(v, key);
    if (!s || s->type != JSON_STRING) return NULL;
    if (len) *len = s->u.string.len;
    return s->u.string.chars;
}

/* Number member with a default, for optional fields such as "line". */
double json_get_number(const json_t *v, const char *key, double dflt) {
    const json_t *n = json_get(v, key);
    return n && n->type == JSON_NUMBER ? n->u.number : dflt;
}

/* Array length; 0 for a non-array so that loops over absent fields are empty. */
size_t json_array_len(const json_t *v) {
    return v && v->type == JSON_ARRAY ? v->u.array.len : 0;
}

/* Element i, or NULL when out of range. */
const json_t *json_array_at(const json_t *v, size_t i) {
    return v && v->type == JSON_ARRAY && i < v->u.array.len ? &v->u.array.items[i] : NULL;
}
