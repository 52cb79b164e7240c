/*
 * minilang.c - an interpreter for a small dynamically typed language:
 * tokenizer, recursive-descent parser to an AST, and a tree-walking
 * evaluator with lexical scopes and closures.
 *
 *   minilang DIR [...]   run the built-in programs, then write one more
 *                        program to DIR/collatz.ml, read it back and run it
 *   minilang -f FILE     run the program in FILE
 *
 * The language: integers (64-bit), strings, arrays, functions (first-class,
 * closures), nil. Statements: `let x = e;`, `x = e;`, `a[i] = e;`,
 * `if (e) {..} else {..}`, `while (e) {..}`, `for (init; cond; step) {..}`,
 * `fn name(a, b) {..}`, `return e;`, `break;`, expression statements.
 * Operators: || && ! == != < <= > >= + - * / % unary -, calls, indexing.
 * Builtins: print, len, push, pop, str, substr, ord, chr, array.
 *
 * Memory: every object of a program run lives in one region freed when the
 * run ends (programs are short; there is no collector). Errors (type errors,
 * division by zero, bad index) stop the program with a message naming the
 * line; the next program still runs.
 *
 * Built for wasm32-wasi and natively (tests/wasi/run_c.sh compares them);
 * nothing printed depends on pointer sizes.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ region */

typedef struct chunk {
    struct chunk *next;
} chunk;
static chunk *region;

static void *alloc(size_t n) {
    chunk *c = malloc(sizeof(chunk) + n);
    if (!c) {
        fprintf(stderr, "minilang: out of memory\n");
        exit(3);
    }
    c->next = region;
    region = c;
    return c + 1;
}

static void region_free(void) {
    while (region) {
        chunk *n = region->next;
        free(region);
        region = n;
    }
}

/* ------------------------------------------------------------ values */

typedef enum { V_NIL, V_INT, V_STR, V_ARR, V_FN, V_BUILTIN } vkind;

typedef struct value value;
typedef struct str str;
typedef struct arr arr;
typedef struct func func;

struct value {
    vkind k;
    union {
        int64_t i;
        str *s;
        arr *a;
        func *f;
        int b; /* builtin id */
    } u;
};

struct str {
    size_t len;
    char data[];
};
struct arr {
    size_t len, cap;
    value *items;
};

static value nil(void) {
    value v = {V_NIL, {0}};
    return v;
}
static value mkint(int64_t i) {
    value v = {V_INT, {.i = i}};
    return v;
}
static value mkstr(const char *p, size_t n) {
    str *s = alloc(sizeof *s + n + 1);
    s->len = n;
    memcpy(s->data, p, n);
    s->data[n] = 0;
    value v = {V_STR, {.s = s}};
    return v;
}
static value mkarr(size_t cap) {
    arr *a = alloc(sizeof *a);
    a->len = 0;
    a->cap = cap ? cap : 4;
    a->items = alloc(a->cap * sizeof *a->items);
    value v = {V_ARR, {.a = a}};
    return v;
}
static void arr_push(arr *a, value v) {
    if (a->len == a->cap) {
        value *n = alloc(a->cap * 2 * sizeof *n);
        memcpy(n, a->items, a->len * sizeof *n);
        a->items = n; /* the old block goes with the region */
        a->cap *= 2;
    }
    a->items[a->len++] = v;
}

/* ------------------------------------------------------------ errors */

static int failed; /* set by rt_error; evaluation unwinds while it is set */
static int cur_line;

static value rt_error(const char *fmt, const char *detail) {
    if (!failed) {
        printf("runtime error at line %d: ", cur_line);
        printf(fmt, detail);
        printf("\n");
    }
    failed = 1;
    return nil();
}

/* ------------------------------------------------------------ tokens */

typedef enum {
    T_EOF,
    T_NUM,
    T_STR,
    T_ID,
    T_LET,
    T_FN,
    T_IF,
    T_ELSE,
    T_WHILE,
    T_FOR,
    T_RETURN,
    T_BREAK,
    T_NIL,
    T_LP,
    T_RP,
    T_LB,
    T_RB,
    T_LC,
    T_RC,
    T_COMMA,
    T_SEMI,
    T_ASSIGN,
    T_EQ,
    T_NE,
    T_LT,
    T_LE,
    T_GT,
    T_GE,
    T_PLUS,
    T_MINUS,
    T_STAR,
    T_SLASH,
    T_PERCENT,
    T_NOT,
    T_AND,
    T_OR
} tkind;

typedef struct {
    tkind k;
    int line;
    int64_t num;
    const char *start;
    size_t len;
} token;

typedef struct {
    const char *src, *p;
    int line;
    token tok;
    int err;
} lexer;

static const struct {
    const char *word;
    tkind k;
} keywords[] = {{"let", T_LET},       {"fn", T_FN},       {"if", T_IF},
                {"else", T_ELSE},     {"while", T_WHILE}, {"for", T_FOR},
                {"return", T_RETURN}, {"break", T_BREAK}, {"nil", T_NIL}};

static void next(lexer *L) {
    const char *p = L->p;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
            if (*p++ == '\n') L->line++;
        if (p[0] == '/' && p[1] == '/') {
            while (*p && *p != '\n')
                p++;
            continue;
        }
        break;
    }
    token *t = &L->tok;
    t->line = L->line;
    t->start = p;
    if (!*p) {
        t->k = T_EOF;
        L->p = p;
        return;
    }
    char c = *p;
    if (c >= '0' && c <= '9') {
        int64_t n = 0;
        while (*p >= '0' && *p <= '9')
            n = n * 10 + (*p++ - '0');
        t->k = T_NUM;
        t->num = n;
    } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') {
        while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' ||
               (*p >= '0' && *p <= '9'))
            p++;
        t->k = T_ID;
        size_t n = (size_t)(p - t->start);
        for (size_t i = 0; i < sizeof keywords / sizeof *keywords; i++)
            if (strlen(keywords[i].word) == n && memcmp(keywords[i].word, t->start, n) == 0)
                t->k = keywords[i].k;
    } else if (c == '"') {
        p++;
        while (*p && *p != '"') {
            if (*p == '\\' && p[1]) p++;
            if (*p == '\n') L->line++;
            p++;
        }
        if (!*p) {
            L->err = 1;
            t->k = T_EOF;
            L->p = p;
            return;
        }
        p++;
        t->k = T_STR;
    } else {
        static const char *const ops2[] = {"==", "!=", "<=", ">=", "&&", "||"};
        static const tkind k2[] = {T_EQ, T_NE, T_LE, T_GE, T_AND, T_OR};
        static const char ops1[] = "()[]{},;=<>+-*/%!";
        static const tkind k1[] = {T_LP,    T_RP,   T_LB,     T_RB,      T_LC, T_RC,
                                   T_COMMA, T_SEMI, T_ASSIGN, T_LT,      T_GT, T_PLUS,
                                   T_MINUS, T_STAR, T_SLASH,  T_PERCENT, T_NOT};
        int found = 0;
        for (int i = 0; i < 6 && !found; i++)
            if (p[0] == ops2[i][0] && p[1] == ops2[i][1]) {
                t->k = k2[i];
                p += 2;
                found = 1;
            }
        const char *o = found ? NULL : strchr(ops1, c);
        if (!found && o) {
            t->k = k1[o - ops1];
            p++;
            found = 1;
        }
        if (!found) {
            L->err = 1;
            t->k = T_EOF;
        }
    }
    t->len = (size_t)(p - t->start);
    L->p = p;
}

/* ------------------------------------------------------------ AST */

typedef enum {
    N_NUM,
    N_STR,
    N_NIL,
    N_VAR,
    N_ARRAY,
    N_CALL,
    N_INDEX,
    N_UNARY,
    N_BINARY,
    N_AND,
    N_OR,
    N_FNEXPR,
    N_LET,
    N_ASSIGN,
    N_SETINDEX,
    N_IF,
    N_WHILE,
    N_FOR,
    N_RETURN,
    N_BREAK,
    N_BLOCK,
    N_EXPR
} nkind;

typedef struct node node;
struct node {
    nkind k;
    int line;
    int op;              /* operator token */
    const char *name;    /* interned identifier */
    value lit;           /* N_NUM, N_STR */
    node *a, *b, *c, *d; /* children */
    node **list;         /* arguments, elements, statements, parameters */
    int nlist;
};

/* Interned identifiers: equal names are the same pointer. */
static const char **names;
static int nnames, capnames;

static const char *intern(const char *p, size_t n) {
    for (int i = 0; i < nnames; i++)
        if (strlen(names[i]) == n && memcmp(names[i], p, n) == 0) return names[i];
    if (nnames == capnames) {
        capnames = capnames ? capnames * 2 : 64;
        const char **q = realloc(names, (size_t)capnames * sizeof *q);
        if (!q) exit(3);
        names = q;
    }
    char *s = malloc(n + 1); /* lives for the whole process */
    if (!s) exit(3);
    memcpy(s, p, n);
    s[n] = 0;
    return names[nnames++] = s;
}

typedef struct {
    lexer L;
    int err;
} parser;

static node *mknode(parser *P, nkind k) {
    node *n = alloc(sizeof *n);
    memset(n, 0, sizeof *n);
    n->k = k;
    n->line = P->L.tok.line;
    return n;
}

static void perr(parser *P, const char *what) {
    if (!P->err)
        printf("parse error at line %d: %s near '%.*s'\n", P->L.tok.line, what,
               (int)(P->L.tok.len > 12 ? 12 : P->L.tok.len), P->L.tok.start);
    P->err = 1;
}

static int accept(parser *P, tkind k) {
    if (P->L.tok.k != k) return 0;
    next(&P->L);
    return 1;
}
static void expect(parser *P, tkind k, const char *what) {
    if (!accept(P, k)) perr(P, what);
}

static void list_add(node *n, node *x) {
    node **l = alloc((size_t)(n->nlist + 1) * sizeof *l);
    if (n->nlist) memcpy(l, n->list, (size_t)n->nlist * sizeof *l);
    l[n->nlist++] = x;
    n->list = l;
}

static node *expr(parser *P);
static node *block(parser *P);

/* A string literal's text with its escapes (\n \t \" \\) resolved. */
static value unescape(const char *p, size_t n) {
    char *buf = alloc(n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c == '\\' && i + 1 < n) {
            c = p[++i];
            c = c == 'n' ? '\n' : c == 't' ? '\t' : c;
        }
        buf[o++] = c;
    }
    return mkstr(buf, o);
}

static node *fn_rest(parser *P, node *f) {
    expect(P, T_LP, "expected (");
    if (P->L.tok.k != T_RP) {
        do {
            if (P->L.tok.k != T_ID) {
                perr(P, "expected parameter name");
                return f;
            }
            node *prm = mknode(P, N_VAR);
            prm->name = intern(P->L.tok.start, P->L.tok.len);
            list_add(f, prm);
            next(&P->L);
        } while (accept(P, T_COMMA));
    }
    expect(P, T_RP, "expected )");
    f->a = block(P);
    return f;
}

static node *primary(parser *P) {
    token t = P->L.tok;
    node *n;
    switch (t.k) {
    case T_NUM:
        n = mknode(P, N_NUM);
        n->lit = mkint(t.num);
        next(&P->L);
        break;
    case T_STR:
        n = mknode(P, N_STR);
        n->lit = unescape(t.start + 1, t.len - 2);
        next(&P->L);
        break;
    case T_NIL:
        n = mknode(P, N_NIL);
        next(&P->L);
        break;
    case T_ID:
        n = mknode(P, N_VAR);
        n->name = intern(t.start, t.len);
        next(&P->L);
        break;
    case T_LP:
        next(&P->L);
        n = expr(P);
        expect(P, T_RP, "expected )");
        break;
    case T_LB:
        n = mknode(P, N_ARRAY);
        next(&P->L);
        if (P->L.tok.k != T_RB) do
                list_add(n, expr(P));
            while (accept(P, T_COMMA) && !P->err);
        expect(P, T_RB, "expected ]");
        break;
    case T_FN:
        n = mknode(P, N_FNEXPR);
        next(&P->L);
        n = fn_rest(P, n);
        break;
    default: perr(P, "expected an expression"); return mknode(P, N_NIL);
    }
    /* calls and indexing */
    for (;;) {
        if (P->L.tok.k == T_LP) {
            node *c = mknode(P, N_CALL);
            next(&P->L);
            c->a = n;
            if (P->L.tok.k != T_RP) do
                    list_add(c, expr(P));
                while (accept(P, T_COMMA) && !P->err);
            expect(P, T_RP, "expected )");
            n = c;
        } else if (P->L.tok.k == T_LB) {
            node *x = mknode(P, N_INDEX);
            next(&P->L);
            x->a = n;
            x->b = expr(P);
            expect(P, T_RB, "expected ]");
            n = x;
        } else {
            return n;
        }
    }
}

static node *unary(parser *P) {
    if (P->L.tok.k == T_MINUS || P->L.tok.k == T_NOT) {
        node *n = mknode(P, N_UNARY);
        n->op = P->L.tok.k;
        next(&P->L);
        n->a = unary(P);
        return n;
    }
    return primary(P);
}

/* Binary operators by precedence climbing. */
static int prec(tkind k) {
    switch (k) {
    case T_OR: return 1;
    case T_AND: return 2;
    case T_EQ:
    case T_NE: return 3;
    case T_LT:
    case T_LE:
    case T_GT:
    case T_GE: return 4;
    case T_PLUS:
    case T_MINUS: return 5;
    case T_STAR:
    case T_SLASH:
    case T_PERCENT: return 6;
    default: return 0;
    }
}

static node *binary(parser *P, int min) {
    node *l = unary(P);
    for (;;) {
        tkind op = P->L.tok.k;
        int p = prec(op);
        if (!p || p < min || P->err) return l;
        node *n = mknode(P, op == T_AND ? N_AND : op == T_OR ? N_OR : N_BINARY);
        n->op = op;
        next(&P->L);
        n->a = l;
        n->b = binary(P, p + 1);
        l = n;
    }
}

static node *expr(parser *P) {
    return binary(P, 1);
}

static node *statement(parser *P);

static node *block(parser *P) {
    node *b = mknode(P, N_BLOCK);
    expect(P, T_LC, "expected {");
    while (!P->err && P->L.tok.k != T_RC && P->L.tok.k != T_EOF)
        list_add(b, statement(P));
    expect(P, T_RC, "expected }");
    return b;
}

/* A simple statement without its ';': let, assignment or expression. */
static node *simple(parser *P) {
    if (accept(P, T_LET)) {
        node *n = mknode(P, N_LET);
        if (P->L.tok.k != T_ID) {
            perr(P, "expected a name");
            return n;
        }
        n->name = intern(P->L.tok.start, P->L.tok.len);
        next(&P->L);
        expect(P, T_ASSIGN, "expected =");
        n->a = expr(P);
        return n;
    }
    node *e = expr(P);
    if (accept(P, T_ASSIGN)) {
        node *n = mknode(P, e->k == N_INDEX ? N_SETINDEX : N_ASSIGN);
        n->line = e->line;
        if (e->k == N_VAR) {
            n->name = e->name;
        } else if (e->k == N_INDEX) {
            n->a = e->a;
            n->b = e->b;
        } else {
            perr(P, "cannot assign to this");
        }
        n->c = expr(P);
        return n;
    }
    node *s = mknode(P, N_EXPR);
    s->line = e->line;
    s->a = e;
    return s;
}

static node *statement(parser *P) {
    node *n;
    switch (P->L.tok.k) {
    case T_IF:
        n = mknode(P, N_IF);
        next(&P->L);
        expect(P, T_LP, "expected (");
        n->a = expr(P);
        expect(P, T_RP, "expected )");
        n->b = block(P);
        if (accept(P, T_ELSE)) n->c = P->L.tok.k == T_IF ? statement(P) : block(P);
        return n;
    case T_WHILE:
        n = mknode(P, N_WHILE);
        next(&P->L);
        expect(P, T_LP, "expected (");
        n->a = expr(P);
        expect(P, T_RP, "expected )");
        n->b = block(P);
        return n;
    case T_FOR:
        n = mknode(P, N_FOR);
        next(&P->L);
        expect(P, T_LP, "expected (");
        n->a = simple(P);
        expect(P, T_SEMI, "expected ;");
        n->b = expr(P);
        expect(P, T_SEMI, "expected ;");
        n->c = simple(P);
        expect(P, T_RP, "expected )");
        n->d = block(P);
        return n;
    case T_FN: {
        /* fn name(...) {...} is let name = fn(...) {...}, visible inside
         * itself for recursion */
        n = mknode(P, N_LET);
        next(&P->L);
        if (P->L.tok.k != T_ID) {
            perr(P, "expected a function name");
            return n;
        }
        n->name = intern(P->L.tok.start, P->L.tok.len);
        next(&P->L);
        n->a = fn_rest(P, mknode(P, N_FNEXPR));
        return n;
    }
    case T_RETURN:
        n = mknode(P, N_RETURN);
        next(&P->L);
        if (P->L.tok.k != T_SEMI) n->a = expr(P);
        expect(P, T_SEMI, "expected ;");
        return n;
    case T_BREAK:
        n = mknode(P, N_BREAK);
        next(&P->L);
        expect(P, T_SEMI, "expected ;");
        return n;
    case T_LC: return block(P);
    default:
        n = simple(P);
        expect(P, T_SEMI, "expected ;");
        return n;
    }
}

/* ------------------------------------------------------------ scopes */

typedef struct scope scope;
struct scope {
    scope *up;
    int n, cap;
    const char **names;
    value *vals;
};

struct func {
    node *def; /* N_FNEXPR: list = parameters, a = body */
    scope *env;
    const char *name;
};

static scope *scope_new(scope *up, int cap) {
    scope *s = alloc(sizeof *s);
    s->up = up;
    s->n = 0;
    s->cap = cap < 4 ? 4 : cap;
    s->names = alloc((size_t)s->cap * sizeof *s->names);
    s->vals = alloc((size_t)s->cap * sizeof *s->vals);
    return s;
}

static void define(scope *s, const char *name, value v) {
    for (int i = 0; i < s->n; i++)
        if (s->names[i] == name) {
            s->vals[i] = v;
            return;
        }
    if (s->n == s->cap) {
        const char **nn = alloc((size_t)s->cap * 2 * sizeof *nn);
        value *nv = alloc((size_t)s->cap * 2 * sizeof *nv);
        memcpy(nn, s->names, (size_t)s->n * sizeof *nn);
        memcpy(nv, s->vals, (size_t)s->n * sizeof *nv);
        s->names = nn;
        s->vals = nv;
        s->cap *= 2;
    }
    s->names[s->n] = name;
    s->vals[s->n++] = v;
}

static value *lookup(scope *s, const char *name) {
    for (; s; s = s->up)
        for (int i = s->n; i-- > 0;)
            if (s->names[i] == name) return &s->vals[i];
    return NULL;
}

/* ------------------------------------------------------------ evaluation */

enum { B_PRINT, B_LEN, B_PUSH, B_POP, B_STR, B_SUBSTR, B_ORD, B_CHR, B_ARRAY, B_COUNT };
static const char *const builtin_names[B_COUNT] = {"print",  "len", "push", "pop",  "str",
                                                   "substr", "ord", "chr",  "array"};

typedef enum { F_NORMAL, F_RETURN, F_BREAK } flow;

static value ret_val;
/*
 * Calls recurse in C, so their depth is bounded by the C stack they use,
 * measured from where the program started. A wasm32-wasi program's stack is
 * 64 KiB of linear memory with nothing below it to stop an overflow, hence
 * the small budget there; native stacks are megabytes.
 */
#ifdef __wasm__
#define STACK_BUDGET ((size_t)40 << 10)
#else
#define STACK_BUDGET ((size_t)1 << 20)
#endif
static uintptr_t stack_base;

static size_t stack_used(void) {
    volatile char probe = 0;
    uintptr_t here = (uintptr_t)&probe;
    return stack_base > here ? stack_base - here : here - stack_base;
}

static value eval(node *n, scope *s);
static flow exec(node *n, scope *s);

static int truthy(value v) {
    switch (v.k) {
    case V_NIL: return 0;
    case V_INT: return v.u.i != 0;
    case V_STR: return v.u.s->len != 0;
    default: return 1;
    }
}

static const char *kind_name(value v) {
    static const char *const k[] = {"nil", "int", "string", "array", "function", "builtin"};
    return k[v.k];
}

/* Append the printed form of v to a growable buffer. */
typedef struct {
    char *p;
    size_t len, cap;
} sbuf;

static void sb_add(sbuf *b, const char *p, size_t n) {
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *q = alloc(cap);
        if (b->len) memcpy(q, b->p, b->len);
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = 0;
}

static void show(sbuf *b, value v, int depth) {
    char tmp[32];
    switch (v.k) {
    case V_NIL: sb_add(b, "nil", 3); break;
    case V_INT: sb_add(b, tmp, (size_t)snprintf(tmp, sizeof tmp, "%" PRId64, v.u.i)); break;
    case V_STR: sb_add(b, v.u.s->data, v.u.s->len); break;
    case V_ARR:
        if (depth > 3) {
            sb_add(b, "[...]", 5);
            break;
        }
        sb_add(b, "[", 1);
        for (size_t i = 0; i < v.u.a->len; i++) {
            if (i) sb_add(b, ", ", 2);
            if (v.u.a->items[i].k == V_STR) sb_add(b, "\"", 1);
            show(b, v.u.a->items[i], depth + 1);
            if (v.u.a->items[i].k == V_STR) sb_add(b, "\"", 1);
        }
        sb_add(b, "]", 1);
        break;
    case V_FN:
        sb_add(b, "<fn ", 4);
        sb_add(b, v.u.f->name, strlen(v.u.f->name));
        sb_add(b, ">", 1);
        break;
    case V_BUILTIN:
        sb_add(b, "<builtin ", 9);
        sb_add(b, builtin_names[v.u.b], strlen(builtin_names[v.u.b]));
        sb_add(b, ">", 1);
        break;
    }
}

static value builtin(int id, value *args, int n) {
    switch (id) {
    case B_PRINT: {
        sbuf b = {0};
        for (int i = 0; i < n; i++) {
            if (i) sb_add(&b, " ", 1);
            show(&b, args[i], 0);
        }
        sb_add(&b, "\n", 1);
        fwrite(b.p, 1, b.len, stdout);
        return nil();
    }
    case B_LEN:
        if (n == 1 && args[0].k == V_STR) return mkint((int64_t)args[0].u.s->len);
        if (n == 1 && args[0].k == V_ARR) return mkint((int64_t)args[0].u.a->len);
        return rt_error("len of %s", n ? kind_name(args[0]) : "nothing");
    case B_PUSH:
        if (n != 2 || args[0].k != V_ARR) return rt_error("push needs an array%s", "");
        arr_push(args[0].u.a, args[1]);
        return args[0];
    case B_POP:
        if (n != 1 || args[0].k != V_ARR || !args[0].u.a->len)
            return rt_error("pop needs a non-empty array%s", "");
        return args[0].u.a->items[--args[0].u.a->len];
    case B_STR: {
        sbuf b = {0};
        for (int i = 0; i < n; i++)
            show(&b, args[i], 0);
        return b.len ? mkstr(b.p, b.len) : mkstr("", 0);
    }
    case B_SUBSTR: {
        if (n != 3 || args[0].k != V_STR || args[1].k != V_INT || args[2].k != V_INT)
            return rt_error("substr(string, start, count)%s", "");
        int64_t len = (int64_t)args[0].u.s->len, st = args[1].u.i, cnt = args[2].u.i;
        if (st < 0) st = 0;
        if (st > len) st = len;
        if (cnt < 0) cnt = 0;
        if (cnt > len - st) cnt = len - st;
        return mkstr(args[0].u.s->data + st, (size_t)cnt);
    }
    case B_ORD:
        if (n != 1 || args[0].k != V_STR || !args[0].u.s->len)
            return rt_error("ord needs a non-empty string%s", "");
        return mkint((unsigned char)args[0].u.s->data[0]);
    case B_CHR: {
        if (n != 1 || args[0].k != V_INT) return rt_error("chr needs an int%s", "");
        char c = (char)(args[0].u.i & 0xFF);
        return mkstr(&c, 1);
    }
    case B_ARRAY: {
        if (n != 2 || args[0].k != V_INT || args[0].u.i < 0 || args[0].u.i > 10000000)
            return rt_error("array(count, fill)%s", "");
        value a = mkarr((size_t)args[0].u.i);
        for (int64_t i = 0; i < args[0].u.i; i++)
            arr_push(a.u.a, args[1]);
        return a;
    }
    }
    return nil();
}

static value call(value fv, value *args, int n) {
    if (fv.k == V_BUILTIN) return builtin(fv.u.b, args, n);
    if (fv.k != V_FN) return rt_error("cannot call a %s", kind_name(fv));
    func *f = fv.u.f;
    if (n != f->def->nlist) return rt_error("wrong number of arguments to %s", f->name);
    if (stack_used() > STACK_BUDGET) return rt_error("calls nested too deeply in %s", f->name);
    scope *s = scope_new(f->env, n + 2);
    for (int i = 0; i < n; i++)
        define(s, f->def->list[i]->name, args[i]);
    flow fl = exec(f->def->a, s);
    if (fl == F_RETURN) {
        value r = ret_val;
        ret_val = nil();
        return r;
    }
    return nil();
}

static value arith(int op, value a, value b) {
    if (op == T_PLUS && (a.k == V_STR || b.k == V_STR)) {
        sbuf buf = {0};
        show(&buf, a, 0);
        show(&buf, b, 0);
        return mkstr(buf.p, buf.len);
    }
    if (op == T_EQ || op == T_NE) {
        int eq;
        if (a.k != b.k)
            eq = 0;
        else if (a.k == V_INT)
            eq = a.u.i == b.u.i;
        else if (a.k == V_STR)
            eq = a.u.s->len == b.u.s->len && memcmp(a.u.s->data, b.u.s->data, a.u.s->len) == 0;
        else if (a.k == V_NIL)
            eq = 1;
        else
            eq = memcmp(&a.u, &b.u, sizeof a.u) == 0; /* identity */
        return mkint(op == T_EQ ? eq : !eq);
    }
    if (a.k == V_STR && b.k == V_STR) { /* ordering of strings */
        int c = strcmp(a.u.s->data, b.u.s->data);
        switch (op) {
        case T_LT: return mkint(c < 0);
        case T_LE: return mkint(c <= 0);
        case T_GT: return mkint(c > 0);
        case T_GE: return mkint(c >= 0);
        }
    }
    if (a.k != V_INT || b.k != V_INT)
        return rt_error("arithmetic on %s", kind_name(a.k != V_INT ? a : b));
    int64_t x = a.u.i, y = b.u.i;
    switch (op) {
    case T_PLUS: return mkint((int64_t)((uint64_t)x + (uint64_t)y));
    case T_MINUS: return mkint((int64_t)((uint64_t)x - (uint64_t)y));
    case T_STAR: return mkint((int64_t)((uint64_t)x * (uint64_t)y));
    case T_SLASH:
    case T_PERCENT:
        if (y == 0) return rt_error("division by zero%s", "");
        if (x == INT64_MIN && y == -1) return mkint(op == T_SLASH ? INT64_MIN : 0);
        return mkint(op == T_SLASH ? x / y : x % y);
    case T_LT: return mkint(x < y);
    case T_LE: return mkint(x <= y);
    case T_GT: return mkint(x > y);
    case T_GE: return mkint(x >= y);
    }
    return rt_error("bad operator%s", "");
}

static value eval(node *n, scope *s) {
    if (failed) return nil();
    cur_line = n->line;
    switch (n->k) {
    case N_NUM:
    case N_STR: return n->lit;
    case N_NIL: return nil();
    case N_VAR: {
        value *v = lookup(s, n->name);
        if (v) return *v;
        for (int i = 0; i < B_COUNT; i++)
            if (strcmp(builtin_names[i], n->name) == 0) {
                value b = {V_BUILTIN, {.b = i}};
                return b;
            }
        return rt_error("undefined variable %s", n->name);
    }
    case N_ARRAY: {
        value a = mkarr((size_t)n->nlist);
        for (int i = 0; i < n->nlist && !failed; i++)
            arr_push(a.u.a, eval(n->list[i], s));
        return a;
    }
    case N_FNEXPR: {
        func *f = alloc(sizeof *f);
        f->def = n;
        f->env = s;
        f->name = "anonymous";
        value v = {V_FN, {.f = f}};
        return v;
    }
    case N_CALL: {
        value fv = eval(n->a, s);
        value small[8], *args = n->nlist <= 8 ? small : alloc((size_t)n->nlist * sizeof *args);
        for (int i = 0; i < n->nlist && !failed; i++)
            args[i] = eval(n->list[i], s);
        if (failed) return nil();
        cur_line = n->line;
        return call(fv, args, n->nlist);
    }
    case N_INDEX: {
        value a = eval(n->a, s), i = eval(n->b, s);
        if (failed) return nil();
        if (i.k != V_INT) return rt_error("index is a %s", kind_name(i));
        if (a.k == V_ARR) {
            if (i.u.i < 0 || (uint64_t)i.u.i >= a.u.a->len)
                return rt_error("index out of range%s", "");
            return a.u.a->items[i.u.i];
        }
        if (a.k == V_STR) {
            if (i.u.i < 0 || (uint64_t)i.u.i >= a.u.s->len)
                return rt_error("index out of range%s", "");
            return mkstr(a.u.s->data + i.u.i, 1);
        }
        return rt_error("cannot index a %s", kind_name(a));
    }
    case N_UNARY: {
        value v = eval(n->a, s);
        if (n->op == T_NOT) return mkint(!truthy(v));
        if (v.k != V_INT) return rt_error("negating a %s", kind_name(v));
        return mkint((int64_t)(0 - (uint64_t)v.u.i));
    }
    case N_AND: {
        value l = eval(n->a, s);
        return truthy(l) ? eval(n->b, s) : l;
    }
    case N_OR: {
        value l = eval(n->a, s);
        return truthy(l) ? l : eval(n->b, s);
    }
    case N_BINARY: {
        value l = eval(n->a, s), r = eval(n->b, s);
        if (failed) return nil();
        cur_line = n->line;
        return arith(n->op, l, r);
    }
    default: return rt_error("not an expression%s", "");
    }
}

static flow exec(node *n, scope *s) {
    if (failed) return F_RETURN;
    cur_line = n->line;
    switch (n->k) {
    case N_LET: {
        value v = eval(n->a, s);
        if (v.k == V_FN && !strcmp(v.u.f->name, "anonymous")) v.u.f->name = n->name;
        define(s, n->name, v);
        return F_NORMAL;
    }
    case N_ASSIGN: {
        value v = eval(n->c, s), *slot = lookup(s, n->name);
        if (!slot) {
            rt_error("assignment to undefined variable %s", n->name);
            return F_RETURN;
        }
        *slot = v;
        return F_NORMAL;
    }
    case N_SETINDEX: {
        value a = eval(n->a, s), i = eval(n->b, s), v = eval(n->c, s);
        if (failed) return F_RETURN;
        if (a.k != V_ARR || i.k != V_INT || i.u.i < 0 || (uint64_t)i.u.i >= a.u.a->len) {
            rt_error("bad element assignment%s", "");
            return F_RETURN;
        }
        a.u.a->items[i.u.i] = v;
        return F_NORMAL;
    }
    case N_IF:
        if (truthy(eval(n->a, s))) return exec(n->b, s);
        return n->c ? exec(n->c, s) : F_NORMAL;
    case N_WHILE:
        while (!failed && truthy(eval(n->a, s))) {
            flow f = exec(n->b, s);
            if (f == F_BREAK) break;
            if (f == F_RETURN) return f;
        }
        return failed ? F_RETURN : F_NORMAL;
    case N_FOR: {
        scope *fs = scope_new(s, 2);
        exec(n->a, fs);
        while (!failed && truthy(eval(n->b, fs))) {
            flow f = exec(n->d, fs);
            if (f == F_BREAK) break;
            if (f == F_RETURN) return f;
            exec(n->c, fs);
        }
        return failed ? F_RETURN : F_NORMAL;
    }
    case N_RETURN: ret_val = n->a ? eval(n->a, s) : nil(); return F_RETURN;
    case N_BREAK: return F_BREAK;
    case N_BLOCK: {
        scope *bs = scope_new(s, 4);
        for (int i = 0; i < n->nlist; i++) {
            flow f = exec(n->list[i], bs);
            if (f != F_NORMAL) return f;
        }
        return F_NORMAL;
    }
    case N_EXPR: eval(n->a, s); return failed ? F_RETURN : F_NORMAL;
    default: rt_error("not a statement%s", ""); return F_RETURN;
    }
}

/* Parse and run one program; returns 0, or 1 after a parse or runtime error. */
static int run(const char *title, const char *src) {
    printf("== %s\n", title);
    parser P = {{src, src, 1, {0}, 0}, 0};
    next(&P.L);
    node *prog = mknode(&P, N_BLOCK);
    while (!P.err && !P.L.err && P.L.tok.k != T_EOF)
        list_add(prog, statement(&P));
    if (P.L.err && !P.err) printf("parse error at line %d: bad token\n", P.L.line);
    int status = 0;
    if (P.err || P.L.err) {
        status = 1;
    } else {
        failed = 0;
        volatile char base = 0;
        stack_base = (uintptr_t)&base;
        scope *global = scope_new(NULL, 16);
        for (int i = 0; i < prog->nlist && !failed; i++)
            exec(prog->list[i], global);
        status = failed;
    }
    fflush(stdout);
    region_free();
    return status;
}

/* ------------------------------------------------------------ programs */

static const char *const prog_fib =
    "fn fib(n) { if (n < 2) { return n; } return fib(n - 1) + fib(n - 2); }\n"
    "let out = [];\n"
    "for (let i = 0; i <= 15; i = i + 1) { push(out, fib(i)); }\n"
    "print(\"fib 0..15:\", out);\n"
    "print(\"fib(21) =\", fib(21));\n"
    "fn fib_iter(n) { let a = 0; let b = 1; while (n > 0) { let t = a + b; a = b; b = t; n = n - "
    "1; } return a; }\n"
    "print(\"fib(90) =\", fib_iter(90));\n";

static const char *const prog_sieve =
    "fn sieve(n) {\n"
    "  let is = array(n + 1, 1); is[0] = 0; is[1] = 0;\n"
    "  for (let i = 2; i * i <= n; i = i + 1) {\n"
    "    if (is[i]) { for (let j = i * i; j <= n; j = j + i) { is[j] = 0; } }\n"
    "  }\n"
    "  let ps = [];\n"
    "  for (let i = 2; i <= n; i = i + 1) { if (is[i]) { push(ps, i); } }\n"
    "  return ps;\n"
    "}\n"
    "let ps = sieve(60000);\n"
    "print(\"primes below 60000:\", len(ps));\n"
    "let last = []; for (let i = len(ps) - 5; i < len(ps); i = i + 1) { push(last, ps[i]); }\n"
    "print(\"largest five:\", last);\n"
    "let twins = 0; for (let i = 1; i < len(ps); i = i + 1) { if (ps[i] - ps[i - 1] == 2) { twins "
    "= twins + 1; } }\n"
    "print(\"twin pairs:\", twins);\n";

static const char *const prog_strings =
    "let s = \"\";\n"
    "for (let i = 1; i <= 300; i = i + 1) { if (i > 1) { s = s + \",\"; } s = s + i; }\n"
    "print(\"joined length:\", len(s), \"tail:\", substr(s, len(s) - 15, 15));\n"
    "fn reverse(t) { let r = \"\"; let i = len(t) - 1; while (i >= 0) { r = r + t[i]; i = i - 1; } "
    "return r; }\n"
    "print(reverse(\"WebAssembly runs here\"));\n"
    "fn count_vowels(t) { let n = 0; for (let i = 0; i < len(t); i = i + 1) {\n"
    "  let c = t[i]; if (c == \"a\" || c == \"e\" || c == \"i\" || c == \"o\" || c == \"u\") { n = "
    "n + 1; } }\n"
    "  return n; }\n"
    "print(\"vowels:\", count_vowels(\"the quick brown fox jumps over the lazy dog\"));\n"
    "fn hash(t) { let h = 5381; for (let i = 0; i < len(t); i = i + 1) { h = (h * 33 + ord(t[i])) "
    "% 1000000007; } return h; }\n"
    "print(\"hash of joined:\", hash(s));\n"
    "fn caesar(t, k) { let r = \"\"; for (let i = 0; i < len(t); i = i + 1) { let c = ord(t[i]);\n"
    "  if (c >= 97 && c <= 122) { c = (c - 97 + k) % 26 + 97; } r = r + chr(c); } return r; }\n"
    "print(caesar(\"hello, world\", 13), caesar(caesar(\"round trip\", 7), 19));\n"
    "print(\"compare:\", \"apple\" < \"banana\", \"pear\" == \"pe\" + \"ar\", [1, \"two\", "
    "[3]]);\n";

static const char *const prog_sort =
    "let seed = 42;\n"
    "fn rand() { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 65536; }\n"
    "fn quicksort(a, lo, hi) {\n"
    "  while (lo < hi) {\n"
    "    let p = a[(lo + hi) / 2]; let i = lo; let j = hi;\n"
    "    while (i <= j) {\n"
    "      while (a[i] < p) { i = i + 1; }\n"
    "      while (a[j] > p) { j = j - 1; }\n"
    "      if (i <= j) { let t = a[i]; a[i] = a[j]; a[j] = t; i = i + 1; j = j - 1; }\n"
    "    }\n"
    "    if (j - lo < hi - i) { quicksort(a, lo, j); lo = i; } else { quicksort(a, i, hi); hi = j; "
    "}\n"
    "  }\n"
    "}\n"
    "fn insertion(a) { for (let i = 1; i < len(a); i = i + 1) { let x = a[i]; let j = i - 1;\n"
    "  while (j >= 0 && a[j] > x) { a[j + 1] = a[j]; j = j - 1; } a[j + 1] = x; } return a; }\n"
    "let a = []; for (let i = 0; i < 4000; i = i + 1) { push(a, rand() % 100000); }\n"
    "let b = []; for (let i = 0; i < 400; i = i + 1) { push(b, a[i]); }\n"
    "quicksort(a, 0, len(a) - 1);\n"
    "let ok = 1; let sum = 0;\n"
    "for (let i = 0; i < len(a); i = i + 1) { sum = sum + a[i]; if (i > 0 && a[i - 1] > a[i]) { ok "
    "= 0; } }\n"
    "print(\"sorted:\", ok, \"min\", a[0], \"max\", a[len(a) - 1], \"sum\", sum);\n"
    "insertion(b);\n"
    "print(\"insertion sort head:\", substr(str(b), 0, 40));\n"
    "let words = [\"pear\", \"fig\", \"apple\", \"kiwi\", \"banana\", \"cherry\"];\n"
    "print(\"words:\", insertion(words));\n";

static const char *const prog_closures =
    "fn make_counter(step) { let n = 0; return fn() { n = n + step; return n; }; }\n"
    "let c1 = make_counter(1); let c5 = make_counter(5);\n"
    "c1(); c1(); c5();\n"
    "print(\"counters:\", c1(), c5(), c1());\n"
    "fn map(a, f) { let r = []; for (let i = 0; i < len(a); i = i + 1) { push(r, f(a[i])); } "
    "return r; }\n"
    "fn filter(a, f) { let r = []; for (let i = 0; i < len(a); i = i + 1) { if (f(a[i])) { push(r, "
    "a[i]); } } return r; }\n"
    "fn reduce(a, f, acc) { for (let i = 0; i < len(a); i = i + 1) { acc = f(acc, a[i]); } return "
    "acc; }\n"
    "fn range(n) { let r = []; for (let i = 0; i < n; i = i + 1) { push(r, i); } return r; }\n"
    "let squares = map(range(12), fn(x) { return x * x; });\n"
    "print(\"squares:\", squares);\n"
    "print(\"odd squares:\", filter(squares, fn(x) { return x % 2 == 1; }));\n"
    "print(\"sum:\", reduce(squares, fn(a, b) { return a + b; }, 0));\n"
    "fn compose(f, g) { return fn(x) { return f(g(x)); }; }\n"
    "let inc = fn(x) { return x + 1; }; let dbl = fn(x) { return x * 2; };\n"
    "print(\"compose:\", compose(inc, dbl)(10), compose(dbl, inc)(10), compose);\n"
    "let adders = []; for (let i = 0; i < 4; i = i + 1) { let k = i * 10; push(adders, fn(x) { "
    "return x + k; }); }\n"
    "print(\"adders:\", map(adders, fn(f) { return f(1); }));\n"
    "fn ackermann(m, n) { if (m == 0) { return n + 1; } if (n == 0) { return ackermann(m - 1, 1); "
    "}\n"
    "  return ackermann(m - 1, ackermann(m, n - 1)); }\n"
    "print(\"ackermann(2, 3) =\", ackermann(2, 3));\n";

static const char *const prog_errors = "fn safe_div(a, b) { return a / b; }\n"
                                       "print(\"before:\", safe_div(7, 2));\n"
                                       "print(\"never:\", safe_div(1, 0));\n"
                                       "print(\"not reached\");\n";

static const char *const prog_bad_syntax = "let x = (1 + ;\n";

static const char *const prog_deep = "fn down(n) { return down(n + 1); }\ndown(0);\n";

/* Written to a file by the driver, read back and run. */
static const char *const prog_file =
    "// longest Collatz chain below a limit, and a table of gcds\n"
    "fn collatz_len(n) { let steps = 1; while (n != 1) { if (n % 2 == 0) { n = n / 2; } else { n = "
    "3 * n + 1; } steps = steps + 1; } return steps; }\n"
    "let best = 0; let arg = 0;\n"
    "for (let i = 1; i < 3000; i = i + 1) { let l = collatz_len(i); if (l > best) { best = l; arg "
    "= i; } }\n"
    "print(\"longest chain below 3000 starts at\", arg, \"length\", best);\n"
    "fn gcd(a, b) { while (b != 0) { let t = a % b; a = b; b = t; } return a; }\n"
    "for (let i = 1; i <= 6; i = i + 1) { let row = \"\"; for (let j = 1; j <= 6; j = j + 1) { row "
    "= row + gcd(i * 12, j * 18) + \" \"; } print(row); }\n";

static char *read_all(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) break;
        if (n + 1 == cap) {
            char *q = realloc(buf, cap * 2);
            if (!q) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = q;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf) buf[n] = 0;
    return buf;
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "-f") == 0) {
        char *src = read_all(argv[2]);
        if (!src) {
            fprintf(stderr, "minilang: cannot read %s\n", argv[2]);
            return 2;
        }
        int st = run(argv[2], src);
        free(src);
        return st;
    }
    if (argc < 2) {
        fprintf(stderr, "usage: minilang DIR | minilang -f FILE\n");
        return 2;
    }
    int errors = 0;
    errors += run("fib", prog_fib);
    errors += run("sieve", prog_sieve);
    errors += run("strings", prog_strings);
    errors += run("sort", prog_sort);
    errors += run("closures", prog_closures);
    errors += run("runtime error", prog_errors);
    errors += run("syntax error", prog_bad_syntax);
    errors += run("deep recursion", prog_deep);
    /* a program from a file */
    char path[512];
    snprintf(path, sizeof path, "%s/collatz.ml", argv[1]);
    FILE *f = fopen(path, "w");
    if (!f || fputs(prog_file, f) < 0 || fclose(f) != 0) {
        fprintf(stderr, "minilang: cannot write %s\n", path);
        return 2;
    }
    char *src = read_all(path);
    if (!src) {
        fprintf(stderr, "minilang: cannot read %s\n", path);
        return 2;
    }
    errors += run("collatz.ml", src);
    free(src);
    printf("%d programs failed (3 expected)\n", errors);
    return errors == 3 ? 0 : 1;
}
