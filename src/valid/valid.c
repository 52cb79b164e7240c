/*
 * valid.c - module-level validation (spec 3.4): type indices, limits, the
 * single memory, constant expressions of globals and segments, element and
 * data segments, the start function, exports; then every function body
 * through valid_func.c.
 *
 * Constant expressions follow WebAssembly 2.0: t.const, ref.null, ref.func
 * and global.get of an imported immutable global. Globals and segments are
 * checked in the context C' of the spec, whose globals are the imported ones
 * only: global.get of a defined global is an "unknown global".
 */
#include "valid/valid_internal.h"

#include "base/opcodes.h"

/* Section ids, for the offsets of entries the IR keeps no offset for. */
enum {
    SEC_TYPE = 1,
    SEC_IMPORT = 2,
    SEC_FUNCTION = 3,
    SEC_TABLE = 4,
    SEC_MEMORY = 5,
    SEC_GLOBAL = 6,
    SEC_EXPORT = 7,
    SEC_START = 8,
};

/*
 * The offset of the contents of section `id` in m->bytes, or 0 if absent.
 * Imports, tables, memories, exports and the start carry no offset in the
 * IR; their errors point at their section, which is near enough to find.
 */
static int64_t section_off(const wex__module *m, uint8_t id) {
    wex__reader r;
    if (m->len < 8) return 0;
    wex__reader_init(&r, m->bytes + 8, m->len - 8, m->bytes);
    while (wex__reader_left(&r) > 0) {
        uint8_t sid;
        uint32_t size;
        const uint8_t *p;
        if (!wex__read_u8(&r, &sid) || !wex__read_u32(&r, &size)) return 0;
        if (sid == id) return (int64_t)wex__reader_off(&r);
        if (!wex__read_bytes(&r, size, &p)) return 0;
    }
    return 0;
}

/* Every module-level rule fails through here: one code, one offset. */
__attribute__((format(printf, 2, 3))) static wex_error_t *invalid(int64_t off, const char *fmt,
                                                                  ...) {
    va_list ap;
    va_start(ap, fmt);
    wex_error_t *e = wex__error_vnew(WEX_ERR_INVALID, off, fmt, ap);
    va_end(ap);
    return e;
}

/*
 * Limits of a memory (in pages, at most 65536) or a table (any u32). The
 * spec checks the bound of min, then of max, then min <= max.
 */
static wex_error_t *check_limits(const wex__limits *l, uint64_t range, const char *msg,
                                 int64_t off) {
    if (l->min > range) return invalid(off, "%s", msg);
    if (l->has_max) {
        if (l->max > range) return invalid(off, "%s", msg);
        if (l->min > l->max) return invalid(off, "size minimum must not be greater than maximum");
    }
    return NULL;
}

/* Memories count pages: 65536 of them make the 4 GiB of 32-bit addresses.
 * A shared memory (threads) must say how far it may grow, so that its
 * reservation can be fixed once for every thread that shares it. */
static wex_error_t *check_memtype(const wex__memtype *mt, int64_t off) {
    if (mt->lim.shared && !mt->lim.has_max) return invalid(off, "shared memory must have maximum");
    return check_limits(&mt->lim, WEX__MAX_PAGES, "memory size must be at most 65536 pages (4GiB)",
                        off);
}

/* Tables hold references; their size is any u32, so only min <= max can fail. */
static wex_error_t *check_tabletype(const wex__tabletype *tt, int64_t off) {
    if (!wex__is_reftype(tt->elem)) return invalid(off, "malformed reference type");
    return check_limits(&tt->lim, 0xFFFFFFFFu, "table size must be at most 2^32-1", off);
}

/*
 * A constant expression producing one value of type `want`. Non-constant
 * instructions are refused as soon as they are met ("constant expression
 * required" wins over typing, as in the reference interpreter); the value
 * count and type are checked at `end`. Functions named by ref.func become
 * declared (C.refs).
 */
static wex_error_t *check_const(wex__module *m, const wex__constexpr *ce, uint8_t want) {
    wex__reader r;
    if (ce->off > m->len || ce->len > m->len - ce->off)
        return invalid(ce->off, "constant expression out of range");
    wex__reader_init(&r, m->bytes + ce->off, ce->len, m->bytes);
    uint32_t n = 0;
    uint8_t top = 0;
    for (;;) {
        size_t at = wex__reader_off(&r);
        uint8_t op, t;
        uint32_t x;
        int32_t i32;
        int64_t i64;
        uint32_t f32;
        uint64_t f64;
        if (!wex__read_u8(&r, &op)) break;
        switch (op) {
        case WEX__OP_END:
            if (n != 1 || top != want)
                return invalid(at, "type mismatch: constant expression must produce one %s",
                               wex__valid_typename(want));
            return NULL;
        case WEX__OP_I32_CONST: t = WEX__T_I32, wex__read_s32(&r, &i32); break;
        case WEX__OP_I64_CONST: t = WEX__T_I64, wex__read_s64(&r, &i64); break;
        case WEX__OP_F32_CONST: t = WEX__T_F32, wex__read_f32(&r, &f32); break;
        case WEX__OP_F64_CONST: t = WEX__T_F64, wex__read_f64(&r, &f64); break;
        case WEX__OP_REF_NULL:
            if (!wex__read_u8(&r, &t)) break;
            if (!wex__is_reftype(t)) return invalid(at, "malformed reference type");
            break;
        case WEX__OP_REF_FUNC:
            if (!wex__read_u32(&r, &x)) break;
            if (x >= m->nfuncs) return invalid(at, "unknown function %u", x);
            m->func_declared[x] = 1;
            t = WEX__T_FUNCREF;
            break;
        case WEX__OP_GLOBAL_GET:
            if (!wex__read_u32(&r, &x)) break;
            if (x >= m->nglobal_imports) return invalid(at, "unknown global %u", x);
            if (m->global_types[x].mut) return invalid(at, "constant expression required");
            t = m->global_types[x].type;
            break;
        default: return invalid(at, "constant expression required");
        }
        if (r.err) break;
        n++;
        top = t;
    }
    return invalid(r.err ? (int64_t)r.err_off : ce->off, "%s",
                   r.err ? r.err : "unexpected end of constant expression");
}

/* Imports: a function's type index, a table's or memory's limits. Imported
 * globals need nothing: 2.0 allows importing mutable ones. */
static wex_error_t *check_imports(wex__module *m) {
    int64_t off = section_off(m, SEC_IMPORT);
    for (uint32_t i = 0; i < m->nimports; i++) {
        const wex__import *im = &m->imports[i];
        wex_error_t *e = NULL;
        switch (im->kind) {
        case WEX__EXT_FUNC:
            if (im->u.type >= m->ntypes) e = invalid(off, "unknown type %u", im->u.type);
            break;
        case WEX__EXT_TABLE: e = check_tabletype(&im->u.table, off); break;
        case WEX__EXT_MEM: e = check_memtype(&im->u.mem, off); break;
        default: break;
        }
        if (e) return e;
    }
    return NULL;
}

/*
 * An element segment: each element is a function index or a constant
 * expression of the segment's type; an active one also names a table of
 * that type and an i32 offset. Every function it names becomes declared.
 */
static wex_error_t *check_elem(wex__module *m, const wex__elem *seg) {
    wex_error_t *e;
    if (!wex__is_reftype(seg->type)) return invalid(seg->off, "malformed reference type");
    for (uint32_t j = 0; j < seg->count; j++) {
        if (seg->exprs) {
            if ((e = check_const(m, &seg->exprs[j], seg->type))) return e;
        } else {
            uint32_t x = seg->funcs[j];
            if (x >= m->nfuncs) return invalid(seg->off, "unknown function %u", x);
            m->func_declared[x] = 1;
        }
    }
    if (!seg->exprs && seg->type != WEX__T_FUNCREF)
        return invalid(seg->off, "type mismatch: function indices in a %s segment",
                       wex__valid_typename(seg->type));
    if (seg->mode == WEX__SEG_ACTIVE) {
        if (seg->table >= m->ntables) return invalid(seg->off, "unknown table %u", seg->table);
        if ((e = check_const(m, &seg->offset, WEX__T_I32))) return e;
        if (m->tables[seg->table].elem != seg->type)
            return invalid(seg->off, "type mismatch: %s segment for a %s table",
                           wex__valid_typename(seg->type),
                           wex__valid_typename(m->tables[seg->table].elem));
    }
    return NULL;
}

/* Order of export names: by length, then bytes. */
static bool name_less(const wex__export *a, const wex__export *b) {
    if (a->name_len != b->name_len) return a->name_len < b->name_len;
    return memcmp(a->name, b->name, a->name_len) < 0;
}

/* Heap sort's sift-down of idx[root] within idx[0..end): no recursion, no
 * allocation, O(n log n) over all, whatever the names. */
static void sift(const wex__export *ex, uint32_t *idx, uint32_t root, uint32_t end) {
    for (;;) {
        uint32_t child = 2 * root + 1;
        if (child >= end) return;
        if (child + 1 < end && name_less(&ex[idx[child]], &ex[idx[child + 1]])) child++;
        if (!name_less(&ex[idx[root]], &ex[idx[child]])) return;
        uint32_t tmp = idx[root];
        idx[root] = idx[child];
        idx[child] = tmp;
        root = child;
    }
}

/* Exports: indices in range, then names unique (spec: "duplicate export name"). */
static wex_error_t *check_exports(wex__module *m) {
    int64_t off = section_off(m, SEC_EXPORT);
    for (uint32_t i = 0; i < m->nexports; i++) {
        const wex__export *ex = &m->exports[i];
        uint32_t x = ex->index;
        switch (ex->kind) {
        case WEX__EXT_FUNC:
            if (x >= m->nfuncs) return invalid(off, "unknown function %u", x);
            break;
        case WEX__EXT_TABLE:
            if (x >= m->ntables) return invalid(off, "unknown table %u", x);
            break;
        case WEX__EXT_MEM:
            if (x >= m->nmems) return invalid(off, "unknown memory %u", x);
            break;
        case WEX__EXT_GLOBAL:
            if (x >= m->nglobals) return invalid(off, "unknown global %u", x);
            break;
        default: return invalid(off, "malformed export kind");
        }
    }
    /* Unique names: sort a permutation by (length, bytes) and compare
     * neighbours; quadratic search would let a large module stall. */
    if (m->nexports < 2) return NULL;
    uint32_t *idx = wex__malloc(sizeof(uint32_t) * m->nexports);
    if (!idx) return wex__error_nomem();
    for (uint32_t i = 0; i < m->nexports; i++)
        idx[i] = i;
    uint32_t n = m->nexports;
    for (uint32_t k = n / 2; k > 0; k--)
        sift(m->exports, idx, k - 1, n);
    for (uint32_t end = n - 1; end > 0; end--) {
        uint32_t tmp = idx[0];
        idx[0] = idx[end];
        idx[end] = tmp;
        sift(m->exports, idx, 0, end);
    }
    const wex__export *ex = m->exports;
    wex_error_t *e = NULL;
    for (uint32_t i = 1; i < n && !e; i++) {
        const wex__export *a = &ex[idx[i - 1]], *b = &ex[idx[i]];
        if (a->name_len == b->name_len && memcmp(a->name, b->name, a->name_len) == 0)
            e = invalid(off, "duplicate export name \"%.*s\"",
                        (int)(a->name_len > 64 ? 64 : a->name_len), a->name);
    }
    wex__free(idx);
    return e;
}

/* Everything outside function bodies, in the order of the spec's rules. */
static wex_error_t *check_module(wex__module *m) {
    wex_error_t *e;
    if ((e = check_imports(m))) return e;

    int64_t off = section_off(m, SEC_FUNCTION);
    for (uint32_t i = 0; i < m->nfuncs; i++)
        if (m->func_types[i] >= m->ntypes)
            return invalid(i < m->nfunc_imports ? section_off(m, SEC_IMPORT) : off,
                           "unknown type %u", m->func_types[i]);
    if (m->ncodes != m->nfuncs - m->nfunc_imports)
        return invalid(off, "function and code section have inconsistent lengths");

    off = section_off(m, SEC_TABLE);
    for (uint32_t i = m->ntable_imports; i < m->ntables; i++)
        if ((e = check_tabletype(&m->tables[i], off))) return e;

    off = section_off(m, SEC_MEMORY);
    for (uint32_t i = m->nmem_imports; i < m->nmems; i++)
        if ((e = check_memtype(&m->mems[i], off))) return e;
    if (m->nmems > 1) return invalid(off, "multiple memories");

    /* Exports declare the functions they name (C.refs) before any body. */
    for (uint32_t i = 0; i < m->nexports; i++)
        if (m->exports[i].kind == WEX__EXT_FUNC && m->exports[i].index < m->nfuncs)
            m->func_declared[m->exports[i].index] = 1;

    for (uint32_t i = m->nglobal_imports; i < m->nglobals; i++) {
        const wex__global *g = &m->globals[i - m->nglobal_imports];
        if ((e = check_const(m, &g->init, g->type.type))) return e;
    }

    for (uint32_t i = 0; i < m->nelems; i++)
        if ((e = check_elem(m, &m->elems[i]))) return e;

    for (uint32_t i = 0; i < m->ndatas; i++) {
        const wex__data *d = &m->datas[i];
        if (d->mode != WEX__SEG_ACTIVE) continue;
        if (d->mem >= m->nmems) return invalid(d->off, "unknown memory %u", d->mem);
        if ((e = check_const(m, &d->offset, WEX__T_I32))) return e;
    }

    if (m->has_start) {
        off = section_off(m, SEC_START);
        if (m->start >= m->nfuncs) return invalid(off, "unknown function %u", m->start);
        const wex__functype *ft = wex__module_functype(m, m->start);
        if (ft->nparams || ft->nresults)
            return invalid(off, "start function must have type [] -> []");
    }

    return check_exports(m);
}

/*
 * The entry point: module-level rules first, since they fill func_declared,
 * which ref.func in bodies needs; then each body with one shared context.
 */
wex_error_t *wex__validate(wex__module *m) {
    wex__free(m->func_declared);
    m->func_declared = wex__calloc(m->nfuncs, 1);
    if (!m->func_declared) return wex__error_nomem();

    wex_error_t *e = check_module(m);
    if (e) return e;

    wex__valid_ctx v;
    memset(&v, 0, sizeof v);
    v.m = m;
    for (uint32_t i = m->nfunc_imports; i < m->nfuncs && !e; i++)
        e = wex__valid_func(&v, i);
    wex__valid_ctx_free(&v);
    return e;
}
