/*
 * test_valid.c - the validator on modules built by hand in the IR, so that
 * each case pins one rule without depending on the decoder.
 */
#include "harness.h"

#include "decode/decode.h"
#include "module/module.h"
#include "valid/valid.h"

#include <stdarg.h>

/* Growing an IR array by one zeroed element. */
#define GROW(arr, n)                                                                               \
    (arr = realloc(arr, sizeof *(arr) * ((n) + 1)), memset(&(arr)[n], 0, sizeof *(arr)),           \
     &(arr)[(n)++])

static wex__module *mod_new(void) {
    wex__module *m = calloc(1, sizeof *m);
    /* A fake header: the validator looks for sections after byte 8. */
    m->bytes = calloc(1, 8);
    m->len = 8;
    return m;
}

/* Append raw bytes to the module's binary; returns their offset. */
static uint32_t add_bytes(wex__module *m, const uint8_t *p, size_t n) {
    uint32_t off = (uint32_t)m->len;
    m->bytes = realloc(m->bytes, m->len + n);
    memcpy(m->bytes + m->len, p, n);
    m->len += n;
    return off;
}

/* Type letters: i I f F, r = funcref, e = externref. */
static uint8_t ty(char c) {
    switch (c) {
    case 'i': return WEX__T_I32;
    case 'I': return WEX__T_I64;
    case 'f': return WEX__T_F32;
    case 'F': return WEX__T_F64;
    case 'r': return WEX__T_FUNCREF;
    case 'e': return WEX__T_EXTERNREF;
    default: abort();
    }
}

/* Add a function type "params:results"; returns its index. */
static uint32_t add_type(wex__module *m, const char *sig) {
    const char *colon = strchr(sig, ':');
    wex__functype *ft = GROW(m->types, m->ntypes);
    ft->nparams = (uint32_t)(colon - sig);
    ft->nresults = (uint32_t)strlen(colon + 1);
    ft->types = malloc(ft->nparams + ft->nresults + 1);
    uint32_t k = 0;
    for (const char *c = sig; *c; c++)
        if (*c != ':') ft->types[k++] = ty(*c);
    return m->ntypes - 1;
}

/* Add a defined function of type `type` with locals "iiF..." and a body
 * (instructions through the final end). Returns its function index. */
static uint32_t add_func(wex__module *m, uint32_t type, const char *locals, const uint8_t *body,
                         size_t n) {
    *GROW(m->func_types, m->nfuncs) = type;
    wex__code *c = GROW(m->codes, m->ncodes);
    c->off = c->expr_off = add_bytes(m, body, n);
    c->len = (uint32_t)n;
    for (const char *l = locals; *l; l++) {
        wex__localrun *r = GROW(c->runs, c->nruns);
        r->count = 1;
        r->type = ty(*l);
        c->nlocals++;
    }
    return m->nfuncs - 1;
}

static void add_import_func(wex__module *m, uint32_t type) {
    wex__import *im = GROW(m->imports, m->nimports);
    im->module = strdup("m");
    im->name = strdup("f");
    im->kind = WEX__EXT_FUNC;
    im->u.type = type;
    /* Imported functions come first in the index space. */
    m->func_types = realloc(m->func_types, sizeof(uint32_t) * (m->nfuncs + 1));
    memmove(m->func_types + 1, m->func_types, sizeof(uint32_t) * m->nfuncs);
    m->func_types[0] = type;
    m->nfuncs++;
    m->nfunc_imports++;
}

static void add_memory(wex__module *m, uint64_t min, bool has_max, uint64_t max) {
    wex__memtype *mt = GROW(m->mems, m->nmems);
    mt->lim.min = min;
    mt->lim.max = max;
    mt->lim.has_max = has_max;
}

static void add_table(wex__module *m, uint8_t elem, uint64_t min) {
    wex__tabletype *tt = GROW(m->tables, m->ntables);
    tt->elem = elem;
    tt->lim.min = min;
}

/* A defined global with a constant initialiser of the given bytes. */
static void add_global(wex__module *m, uint8_t type, bool mut, const uint8_t *init, size_t n) {
    wex__globaltype *gt = GROW(m->global_types, m->nglobals);
    gt->type = type;
    gt->mut = mut;
    uint32_t ndef = m->nglobals - 1 - m->nglobal_imports;
    wex__global *g = GROW(m->globals, ndef);
    g->type = *gt;
    g->init.off = add_bytes(m, init, n);
    g->init.len = (uint32_t)n;
}

static void add_export(wex__module *m, const char *name, uint8_t kind, uint32_t index) {
    wex__export *ex = GROW(m->exports, m->nexports);
    ex->name = strdup(name);
    ex->name_len = (uint32_t)strlen(name);
    ex->kind = kind;
    ex->index = index;
}

/* Validate and free; returns the message, or NULL if valid (static). */
static const char *check(wex__module *m) {
    static char msg[512];
    wex_error_t *e = wex__validate(m);
    wex__module_free(m);
    free(m);
    if (!e) return NULL;
    if (wex_error_code(e) != WEX_ERR_INVALID)
        snprintf(msg, sizeof msg, "(not INVALID) %s", wex_error_message(e));
    else
        snprintf(msg, sizeof msg, "%s", wex_error_message(e));
    wex_error_delete(e);
    return msg;
}

/* One function of type `sig`, given locals and body: the message or NULL. */
static const char *check_body(const char *sig, const char *locals, const uint8_t *body, size_t n) {
    wex__module *m = mod_new();
    add_func(m, add_type(m, sig), locals, body, n);
    return check(m);
}

#define BODY(sig, locals, ...)                                                                     \
    check_body(sig, locals, (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}))

#define VALID(r)                                                                                   \
    do {                                                                                           \
        const char *v_ = (r);                                                                      \
        if (v_) fprintf(stderr, "error: %s\n", v_);                                                \
        CHECK(v_ == NULL);                                                                         \
    } while (0)
#define INVALID(r, msg)                                                                            \
    do {                                                                                           \
        const char *r_ = (r);                                                                      \
        CHECK(r_ != NULL);                                                                         \
        CHECK(strncmp(r_, msg, strlen(msg)) == 0 || (fprintf(stderr, "got: %s\n", r_), 0));        \
    } while (0)

enum {
    END = 0x0B,
    I32C = 0x41,
    I64C = 0x42,
    F32C = 0x43,
    LGET = 0x20,
    LSET = 0x21,
    GGET = 0x23,
    GSET = 0x24,
    BLOCK = 0x02,
    LOOP = 0x03,
    IF = 0x04,
    ELSE = 0x05,
    BR = 0x0C,
    BR_IF = 0x0D,
    BR_TABLE = 0x0E,
    RET = 0x0F,
    UNREACH = 0x00,
    DROP = 0x1A,
    SELECT = 0x1B,
    SELECT_T = 0x1C,
    I32ADD = 0x6A,
    I64ADD = 0x7C,
    REF_NULL = 0xD0,
    REF_IS_NULL = 0xD1,
    REF_FUNC = 0xD2,
    CALL = 0x10,
    CALL_IND = 0x11,
    VOID = 0x40,
    T_I32 = 0x7F,
    T_I64 = 0x7E,
    T_F32 = 0x7D,
    T_FUNCREF = 0x70,
    T_EXTERNREF = 0x6F,
};

TEST(empty_and_simple_bodies) {
    VALID(BODY(":", "", END));
    VALID(BODY("ii:i", "", LGET, 0, LGET, 1, I32ADD, END));
    VALID(BODY(":I", "I", LGET, 0, END));
    VALID(BODY(":i", "", I32C, 1, I32C, 2, I32ADD, END));
}

TEST(type_mismatch) {
    INVALID(BODY(":i", "", I32C, 1, I64C, 2, I32ADD, END), "type mismatch");
    INVALID(BODY(":i", "", I64C, 1, END), "type mismatch");
    INVALID(BODY(":", "", I32C, 1, END), "type mismatch"); /* value left over */
    INVALID(BODY(":i", "", END), "type mismatch");         /* missing result */
    INVALID(BODY(":", "", I32ADD, END), "type mismatch");  /* empty stack */
    INVALID(BODY("i:", "", LGET, 0, BLOCK, VOID, DROP, END, END), "type mismatch"); /* no reach */
}

TEST(unknown_local_global_function) {
    INVALID(BODY("i:i", "I", LGET, 2, END), "unknown local 2");
    INVALID(BODY(":i", "", GGET, 0, END), "unknown global 0");
    INVALID(BODY(":", "", CALL, 5, END), "unknown function 5");
    INVALID(BODY(":", "", BR, 1, END), "unknown label");
}

TEST(polymorphic_stack_after_unreachable) {
    VALID(BODY(":i", "", UNREACH, I32ADD, END));
    VALID(BODY(":i", "", UNREACH, END));
    VALID(BODY(":", "", UNREACH, SELECT, DROP, END));
    VALID(BODY(":i", "", UNREACH, REF_IS_NULL, END));
    VALID(BODY(":I", "", I64C, 0, RET, I64C, 0, I64ADD, END));
    INVALID(BODY(":I", "", RET, END), "type mismatch");
    VALID(BODY(":i", "", BLOCK, T_I32, UNREACH, BR, 0, END, END));
    INVALID(BODY(":i", "", BLOCK, T_I32, BR, 0, END, END), "type mismatch");
    /* Still typed where the types are known. */
    INVALID(BODY(":i", "", UNREACH, I64C, 0, I32ADD, END), "type mismatch");
    INVALID(BODY(":i", "", UNREACH, I64C, 0, END), "type mismatch");
    /* select of an unknown and a reference is not numeric. */
    INVALID(BODY(":", "", UNREACH, REF_NULL, T_FUNCREF, SELECT, DROP, END), "type mismatch");
    /* dead code ends at the end of its block. */
    INVALID(BODY(":", "", BLOCK, VOID, UNREACH, END, I32ADD, DROP, END), "type mismatch");
}

TEST(blocks_loops_ifs) {
    VALID(BODY(":i", "", BLOCK, T_I32, I32C, 1, END, END));
    VALID(BODY(":i", "", LOOP, T_I32, I32C, 1, END, END));
    VALID(BODY("i:i", "", LGET, 0, IF, T_I32, I32C, 1, ELSE, I32C, 2, END, END));
    INVALID(BODY("i:i", "", LGET, 0, IF, T_I32, I32C, 1, END, END), "type mismatch");
    INVALID(BODY("i:i", "", LGET, 0, IF, T_I32, I32C, 1, ELSE, END, END), "type mismatch");
    VALID(BODY("i:", "", LGET, 0, IF, VOID, END, END));
    /* loop labels carry the params: br 0 in a void loop takes nothing. */
    VALID(BODY(":i", "", LOOP, T_I32, BR, 0, END, END));
    /* Block with a type index: [i32] -> [i32]. */
    {
        wex__module *m = mod_new();
        uint32_t t0 = add_type(m, ":i");
        add_type(m, "i:i");
        add_func(m, t0, "", (const uint8_t[]){I32C, 1, BLOCK, 1, I32C, 2, I32ADD, END, END}, 9);
        VALID(check(m));
    }
    {
        wex__module *m = mod_new();
        uint32_t t0 = add_type(m, ":i");
        add_func(m, t0, "", (const uint8_t[]){BLOCK, 7, END, END}, 4);
        INVALID(check(m), "unknown type");
    }
    /* If with params and without else: params == results is fine. */
    {
        wex__module *m = mod_new();
        uint32_t t0 = add_type(m, ":i");
        add_type(m, "i:i");
        add_func(m, t0, "", (const uint8_t[]){I32C, 1, I32C, 1, IF, 1, END, END}, 8);
        VALID(check(m));
    }
}

TEST(br_table) {
    VALID(BODY("i:i", "", BLOCK, T_I32, I32C, 1, LGET, 0, BR_TABLE, 1, 0, 0, END, END));
    /* Arity mismatch between targets. */
    INVALID(BODY("i:i", "", BLOCK, T_I32, BLOCK, VOID, I32C, 1, LGET, 0, BR_TABLE, 1, 0, 1, END,
                 I32C, 0, END, END),
            "type mismatch");
    INVALID(BODY("i:", "", BLOCK, VOID, LGET, 0, BR_TABLE, 0, 2, END, END), "unknown label");
    /* Same arity, different types: f32 vs i32. */
    INVALID(BODY("i:i", "", BLOCK, T_I32, BLOCK, T_F32, I32C, 1, LGET, 0, BR_TABLE, 1, 0, 1, END,
                 DROP, I32C, 0, END, END),
            "type mismatch");
    /* Polymorphic: after unreachable, differing label types of equal arity
     * are checked against Unknown operands. */
    VALID(BODY(":", "", BLOCK, T_F32, BLOCK, T_I32, UNREACH, BR_TABLE, 1, 0, 1, END, DROP, F32C, 0,
               0, 0, 0, END, DROP, END));
}

TEST(globals) {
    {
        wex__module *m = mod_new();
        add_global(m, WEX__T_I32, false, (const uint8_t[]){I32C, 0, END}, 3);
        add_func(m, add_type(m, ":"), "", (const uint8_t[]){I32C, 1, GSET, 0, END}, 5);
        INVALID(check(m), "global is immutable");
    }
    {
        wex__module *m = mod_new();
        add_global(m, WEX__T_I32, true, (const uint8_t[]){I32C, 0, END}, 3);
        add_func(m, add_type(m, ":"), "", (const uint8_t[]){I32C, 1, GSET, 0, END}, 5);
        VALID(check(m));
    }
    {
        wex__module *m = mod_new();
        add_global(m, WEX__T_I32, false, (const uint8_t[]){I32C, 0, I32C, 1, I32ADD, END}, 6);
        INVALID(check(m), "constant expression required");
    }
    {
        wex__module *m = mod_new();
        add_global(m, WEX__T_I32, false, (const uint8_t[]){I64C, 0, END}, 3);
        INVALID(check(m), "type mismatch");
    }
    {
        wex__module *m = mod_new();
        add_global(m, WEX__T_I32, false, (const uint8_t[]){I32C, 0, I32C, 0, END}, 5);
        INVALID(check(m), "type mismatch");
    }
    {
        /* global.get of a defined global: not in C' (2.0). */
        wex__module *m = mod_new();
        add_global(m, WEX__T_I32, false, (const uint8_t[]){I32C, 0, END}, 3);
        add_global(m, WEX__T_I32, false, (const uint8_t[]){GGET, 0, END}, 3);
        INVALID(check(m), "unknown global 0");
    }
}

TEST(func_references) {
    const uint8_t body[] = {REF_FUNC, 0, DROP, END};
    {
        wex__module *m = mod_new();
        add_func(m, add_type(m, ":"), "", body, sizeof body);
        INVALID(check(m), "undeclared function reference");
    }
    {
        wex__module *m = mod_new();
        add_func(m, add_type(m, ":"), "", body, sizeof body);
        add_export(m, "f", WEX__EXT_FUNC, 0);
        VALID(check(m));
    }
    {
        /* Declared by a global's initialiser. */
        wex__module *m = mod_new();
        add_func(m, add_type(m, ":"), "", body, sizeof body);
        add_global(m, WEX__T_FUNCREF, false, (const uint8_t[]){REF_FUNC, 0, END}, 3);
        VALID(check(m));
    }
    {
        /* Declared by a declarative element segment. */
        wex__module *m = mod_new();
        add_func(m, add_type(m, ":"), "", body, sizeof body);
        wex__elem *seg = GROW(m->elems, m->nelems);
        seg->mode = WEX__SEG_DECLARATIVE;
        seg->type = WEX__T_FUNCREF;
        seg->count = 1;
        seg->funcs = calloc(1, sizeof(uint32_t));
        VALID(check(m));
    }
}

TEST(memories_and_tables) {
    {
        wex__module *m = mod_new();
        add_memory(m, 1, false, 0);
        add_memory(m, 1, false, 0);
        INVALID(check(m), "multiple memories");
    }
    {
        wex__module *m = mod_new();
        add_memory(m, 65537, false, 0);
        INVALID(check(m), "memory size must be at most 65536 pages (4GiB)");
    }
    {
        wex__module *m = mod_new();
        add_memory(m, 2, true, 1);
        INVALID(check(m), "size minimum must not be greater than maximum");
    }
    {
        wex__module *m = mod_new();
        add_memory(m, 0, true, 65536);
        VALID(check(m));
    }
    INVALID(BODY(":i", "", 0x3F, 0, END), "unknown memory 0");
    INVALID(BODY("i:i", "", LGET, 0, 0x28, 2, 0, END), "unknown memory 0");
    {
        wex__module *m = mod_new();
        add_memory(m, 1, false, 0);
        add_func(m, add_type(m, "i:i"), "", (const uint8_t[]){LGET, 0, 0x28, 3, 0, END}, 6);
        INVALID(check(m), "alignment must not be larger than natural");
    }
    {
        wex__module *m = mod_new();
        add_memory(m, 1, false, 0);
        add_func(m, add_type(m, "i:I"), "", (const uint8_t[]){LGET, 0, 0x29, 3, 0, END}, 6);
        VALID(check(m));
    }
    INVALID(BODY("i:", "", LGET, 0, CALL_IND, 0, 0, END), "unknown table 0");
    {
        wex__module *m = mod_new();
        add_table(m, WEX__T_EXTERNREF, 0);
        add_func(m, add_type(m, "i:"), "", (const uint8_t[]){LGET, 0, CALL_IND, 0, 0, END}, 6);
        INVALID(check(m), "type mismatch");
    }
    {
        /* table.copy between tables of different element types. */
        wex__module *m = mod_new();
        add_table(m, WEX__T_EXTERNREF, 0);
        add_table(m, WEX__T_FUNCREF, 0);
        add_func(m, add_type(m, ":"), "",
                 (const uint8_t[]){I32C, 0, I32C, 0, I32C, 0, 0xFC, 14, 0, 1, END}, 11);
        INVALID(check(m), "type mismatch");
    }
    INVALID(BODY(":", "", 0xFC, 9, 0, END), "unknown data segment 0");
    INVALID(BODY(":", "", 0xFC, 13, 3, END), "unknown elem segment 3");
}

TEST(select_and_references) {
    VALID(BODY("ii:i", "", LGET, 0, LGET, 1, LGET, 0, SELECT, END));
    INVALID(BODY(":", "", REF_NULL, T_FUNCREF, REF_NULL, T_FUNCREF, I32C, 1, SELECT, DROP, END),
            "type mismatch");
    VALID(BODY(":r", "", REF_NULL, T_FUNCREF, REF_NULL, T_FUNCREF, I32C, 1, SELECT_T, 1, T_FUNCREF,
               END));
    INVALID(BODY(":i", "", I32C, 1, I32C, 1, I32C, 1, SELECT_T, 2, T_I32, T_I32, END),
            "invalid result arity");
    VALID(BODY(":i", "", REF_NULL, T_EXTERNREF, REF_IS_NULL, END));
    INVALID(BODY(":i", "", I32C, 0, REF_IS_NULL, END), "type mismatch");
}

TEST(start_and_exports) {
    {
        wex__module *m = mod_new();
        add_func(m, add_type(m, "i:"), "", (const uint8_t[]){END}, 1);
        m->has_start = true;
        m->start = 0;
        INVALID(check(m), "start function");
    }
    {
        wex__module *m = mod_new();
        m->has_start = true;
        m->start = 3;
        INVALID(check(m), "unknown function 3");
    }
    {
        wex__module *m = mod_new();
        add_func(m, add_type(m, ":"), "", (const uint8_t[]){END}, 1);
        add_export(m, "a", WEX__EXT_FUNC, 0);
        add_export(m, "b", WEX__EXT_FUNC, 0);
        add_export(m, "c", WEX__EXT_FUNC, 0);
        add_export(m, "a", WEX__EXT_FUNC, 0);
        INVALID(check(m), "duplicate export name");
    }
    {
        wex__module *m = mod_new();
        char name[8];
        add_func(m, add_type(m, ":"), "", (const uint8_t[]){END}, 1);
        for (int i = 0; i < 300; i++) {
            snprintf(name, sizeof name, "e%d", (i * 37) % 300);
            add_export(m, name, WEX__EXT_FUNC, 0);
        }
        VALID(check(m));
    }
    {
        wex__module *m = mod_new();
        add_export(m, "g", WEX__EXT_GLOBAL, 0);
        INVALID(check(m), "unknown global 0");
    }
}

TEST(imports_and_calls) {
    wex__module *m = mod_new();
    uint32_t t = add_type(m, "iI:f");
    add_import_func(m, t);
    add_func(m, add_type(m, ":f"), "", (const uint8_t[]){I32C, 0, I64C, 0, CALL, 0, END}, 7);
    VALID(check(m));
    m = mod_new();
    add_import_func(m, 4);
    INVALID(check(m), "unknown type");
}

TEST(deep_nesting_is_capped) {
    size_t depth = WEX__MAX_BLOCK_DEPTH + 10, n = 0;
    uint8_t *body = malloc(depth * 3 + 1);
    for (size_t i = 0; i < depth; i++)
        body[n++] = BLOCK, body[n++] = VOID;
    for (size_t i = 0; i < depth; i++)
        body[n++] = END;
    body[n++] = END;
    wex__module *m = mod_new();
    add_func(m, add_type(m, ":"), "", body, n);
    wex_error_t *e = wex__validate(m);
    CHECK_EQ_INT(wex_error_code(e), WEX_ERR_UNSUPPORTED);
    CHECK_STR_CONTAINS(wex_error_message(e), "blocks nested too deeply");
    wex_error_delete(e);
    wex__module_free(m);
    free(m);
    /* Just under the cap is fine. */
    n = 0;
    depth = WEX__MAX_BLOCK_DEPTH;
    for (size_t i = 0; i < depth; i++)
        body[n++] = BLOCK, body[n++] = VOID;
    for (size_t i = 0; i < depth; i++)
        body[n++] = END;
    body[n++] = END;
    m = mod_new();
    add_func(m, add_type(m, ":"), "", body, n);
    VALID(check(m));
    free(body);
}

TEST(element_segments) {
    {
        wex__module *m = mod_new();
        add_table(m, WEX__T_EXTERNREF, 1);
        add_func(m, add_type(m, ":"), "", (const uint8_t[]){END}, 1);
        wex__elem *seg = GROW(m->elems, m->nelems);
        seg->mode = WEX__SEG_ACTIVE;
        seg->type = WEX__T_FUNCREF;
        seg->offset.off = add_bytes(m, (const uint8_t[]){I32C, 0, END}, 3);
        seg->offset.len = 3;
        INVALID(check(m), "type mismatch");
    }
    {
        wex__module *m = mod_new();
        add_table(m, WEX__T_FUNCREF, 1);
        wex__elem *seg = GROW(m->elems, m->nelems);
        seg->mode = WEX__SEG_ACTIVE;
        seg->type = WEX__T_FUNCREF;
        seg->offset.off = add_bytes(m, (const uint8_t[]){I64C, 0, END}, 3);
        seg->offset.len = 3;
        INVALID(check(m), "type mismatch");
    }
    {
        wex__module *m = mod_new();
        wex__elem *seg = GROW(m->elems, m->nelems);
        seg->mode = WEX__SEG_ACTIVE;
        seg->type = WEX__T_FUNCREF;
        seg->table = 0;
        seg->offset.off = add_bytes(m, (const uint8_t[]){I32C, 0, END}, 3);
        seg->offset.len = 3;
        INVALID(check(m), "unknown table");
    }
}

TEST(operand_stack_is_capped) {
    /* A function returning 1000 values, called 20000 times: 20M operands. */
    wex__module *m = mod_new();
    char sig[1002];
    memset(sig, 'i', 1001);
    sig[0] = ':';
    sig[1001] = 0;
    uint32_t t = add_type(m, sig);
    add_import_func(m, t);
    size_t calls = 20000, n = 0;
    uint8_t *body = malloc(calls * 2 + 1);
    for (size_t i = 0; i < calls; i++)
        body[n++] = CALL, body[n++] = 0;
    body[n++] = END;
    add_func(m, add_type(m, ":"), "", body, n);
    free(body);
    wex_error_t *e = wex__validate(m);
    CHECK_EQ_INT(wex_error_code(e), WEX_ERR_UNSUPPORTED);
    CHECK_STR_CONTAINS(wex_error_message(e), "operand stack too deep");
    wex_error_delete(e);
    wex__module_free(m);
    free(m);
}

/* Decode and validate a whole binary; returns the error (caller deletes). */
static wex_error_t *decode_validate(const uint8_t *bytes, size_t n) {
    wex__module m;
    memset(&m, 0, sizeof m);
    m.bytes = malloc(n);
    memcpy(m.bytes, bytes, n);
    m.len = n;
    wex_error_t *e = wex__decode(&m);
    if (!e) e = wex__validate(&m);
    wex__module_free(&m);
    return e;
}

TEST(through_the_decoder_offsets) {
    /* (func (result i32) (i32.const 1) (i64.const 2) (i32.add)) */
    static const uint8_t bad[] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05,
                                  0x01, 0x60, 0x00, 0x01, 0x7f, 0x03, 0x02, 0x01, 0x00, 0x0a,
                                  0x09, 0x01, 0x07, 0x00, 0x41, 0x01, 0x42, 0x02, 0x6a, 0x0b};
    wex_error_t *e = decode_validate(bad, sizeof bad);
    CHECK_EQ_INT(wex_error_code(e), WEX_ERR_INVALID);
    CHECK_STR_CONTAINS(wex_error_message(e), "type mismatch");
    CHECK_EQ_INT(wex_error_offset(e), 28); /* the i32.add */
    wex_error_delete(e);

    /* The same with i32.const 2 is valid. */
    uint8_t good[sizeof bad];
    memcpy(good, bad, sizeof bad);
    good[26] = 0x41;
    e = decode_validate(good, sizeof good);
    CHECK(e == NULL);
}
