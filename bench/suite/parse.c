/* parse.c - parsing generated text: n thousand lines of "name = expr;"
 * where expr is an arithmetic expression over integers, names defined
 * earlier and parentheses; a tokenizer and a recursive-descent evaluator
 * (32-bit wrap-around arithmetic) with a symbol table (open hashing). */
#include "bench.h"

enum { NSYM = 4096 };
typedef struct {
    char name[12];
    uint32_t len;
    int32_t val;
    int used;
} sym;
static sym tab[NSYM];

static uint32_t hash(const char *s, uint32_t n) {
    uint32_t h = 5381;
    for (uint32_t i = 0; i < n; i++)
        h = h * 33 + (uint8_t)s[i];
    return h;
}

static sym *lookup(const char *s, uint32_t n, int create) {
    uint32_t h = hash(s, n) & (NSYM - 1);
    for (;;) {
        sym *e = &tab[h];
        if (!e->used) {
            if (!create) return NULL;
            e->used = 1;
            memcpy(e->name, s, n);
            e->len = n;
            return e;
        }
        if (e->len == n && memcmp(e->name, s, n) == 0) return e;
        h = (h + 1) & (NSYM - 1);
    }
}

typedef struct {
    const char *p;
} lexer;

static void ws(lexer *l) {
    while (*l->p == ' ' || *l->p == '\n' || *l->p == '\t')
        l->p++;
}

static int32_t expr(lexer *l);

static int32_t primary(lexer *l) {
    ws(l);
    char ch = *l->p;
    if (ch == '(') {
        l->p++;
        int32_t v = expr(l);
        ws(l);
        l->p++; /* ')' */
        return v;
    }
    if (ch == '-') {
        l->p++;
        return (int32_t)(0u - (uint32_t)primary(l));
    }
    if (ch >= '0' && ch <= '9') {
        uint32_t v = 0;
        while (*l->p >= '0' && *l->p <= '9')
            v = v * 10 + (uint32_t)(*l->p++ - '0');
        return (int32_t)v;
    }
    const char *s = l->p;
    while ((*l->p >= 'a' && *l->p <= 'z') || (*l->p >= '0' && *l->p <= '9'))
        l->p++;
    sym *e = lookup(s, (uint32_t)(l->p - s), 0);
    return e ? e->val : 0;
}

static int32_t term(lexer *l) {
    int32_t v = primary(l);
    for (;;) {
        ws(l);
        if (*l->p == '*') {
            l->p++;
            v = (int32_t)((uint32_t)v * (uint32_t)primary(l));
        } else if (*l->p == '%') {
            l->p++;
            int32_t d = primary(l);
            v = d > 0 ? (int32_t)((uint32_t)v % (uint32_t)d) : v;
        } else {
            return v;
        }
    }
}

static int32_t expr(lexer *l) {
    int32_t v = term(l);
    for (;;) {
        ws(l);
        if (*l->p == '+') {
            l->p++;
            v = (int32_t)((uint32_t)v + (uint32_t)term(l));
        } else if (*l->p == '-') {
            l->p++;
            v = (int32_t)((uint32_t)v - (uint32_t)term(l));
        } else {
            return v;
        }
    }
}

/* Append a random expression of depth d over the first `nsyms` names. */
static char *gen(char *o, uint32_t *r, int d, uint32_t nsyms) {
    uint32_t x = bench_rand(r);
    if (d == 0 || x % 4 == 0) {
        if (nsyms && x % 3 == 0) return o + sprintf(o, "v%u", (x >> 4) % nsyms);
        return o + sprintf(o, "%u", (x >> 4) % 100000);
    }
    static const char ops[] = "+-*%+-";
    *o++ = '(';
    o = gen(o, r, d - 1, nsyms);
    o += sprintf(o, " %c ", ops[(x >> 8) % 6]);
    o = gen(o, r, d - 1, nsyms);
    *o++ = ')';
    return o;
}

int main(int argc, char **argv) {
    uint32_t n = bench_size(argc, argv, 40) * 1000;
    char *text = malloc((size_t)n * 160 + 64), *o = text;
    if (!text) return 1;
    uint32_t r = 8080;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t nsyms = i < 1000 ? i : 1000;
        o += sprintf(o, "v%u = ", i % 1000);
        o = gen(o, &r, 4, nsyms);
        o += sprintf(o, ";\n");
    }
    *o = 0;
    uint32_t h = BENCH_SEED, lines = 0;
    lexer l = {text};
    for (;;) {
        ws(&l);
        if (!*l.p) break;
        const char *s = l.p;
        while (*l.p != ' ' && *l.p != '=')
            l.p++;
        sym *e = lookup(s, (uint32_t)(l.p - s), 1);
        ws(&l);
        l.p++; /* '=' */
        e->val = expr(&l);
        ws(&l);
        l.p++; /* ';' */
        h = bench_mix(h, (uint32_t)e->val);
        lines++;
    }
    printf("parse(%u lines, %u bytes) = %08x\n", lines, (uint32_t)(o - text), h);
    free(text);
    return 0;
}
