/*
 * decode.c - the binary decoder: bytes -> wex__module.
 *
 * It follows the reference interpreter's decoder closely, because the spec
 * test suite's messages for malformed modules are that decoder's messages:
 *
 *  - Every read is bounded by the end of the module, not of the section:
 *    an item that runs past its section reads on into the next one, and the
 *    section's size is compared afterwards ("section size mismatch"). A read
 *    past the end of the module is "unexpected end of section or function".
 *  - A vector length or byte size larger than the bytes left in the module is
 *    "length out of bounds". Every item takes at least one byte, so this
 *    check also bounds every allocation by the size of the module.
 *  - Function bodies and constant expressions are scanned for syntax only:
 *    opcodes, immediates, block nesting. Types and indices are valid's job.
 *
 * Errors are recorded in the reader (first one wins) and turned into a
 * wex_error_t once, at the end.
 */
#include "decode/decode.h"

#include "base/opcodes.h"

#include <stdio.h>

#define TRY(x)                                                                                     \
    do {                                                                                           \
        if (!(x)) return false;                                                                    \
    } while (0)

static const char EOS_MSG[] = "unexpected end of section or function";
static const char SIMD_MSG[] = "SIMD is not supported yet";

/* The decoder's immediate-kind table: one-byte opcodes, then the 0xFC
 * sub-opcodes below 32, then the 0xFE (threads) sub-opcodes below 0x50. */
#define IMM_FC    256
#define IMM_FE    (256 + 32)
#define IMM_SLOTS (256 + 32 + 0x50)

typedef struct {
    wex__module *m;
    wex__reader r;      /* over the whole module */
    wex_errcode_t code; /* of the recorded error: MALFORMED unless said */
    char msg[64];       /* a formatted message, when the error has one */
    uint8_t *ctl;       /* per open block: 1 = `if` still open to `else` */
    size_t ctl_cap;
    bool need_datacount;    /* a body uses memory.init or data.drop */
    uint8_t imm[IMM_SLOTS]; /* 1 + immediate kind: by opcode, 0xFC sub, 0xFE sub; 0: none */
    bool has_names;         /* a "name" section was seen: [names_off, names_end) */
    size_t names_off, names_end;
} dec;

/* Offsets in errors and in the IR are from the start of the module. */
static inline size_t pos_of(const dec *d) {
    return (size_t)(d->r.p - d->r.origin);
}

/* Record a malformed-module error at `off` (only the first error counts). */
static bool fail(dec *d, size_t off, const char *msg) {
    return wex__reader_fail_at(&d->r, off, msg);
}

/* Like fail, with a message built from a format (opcode bytes and such). */
__attribute__((format(printf, 3, 4))) static bool failf(dec *d, size_t off, const char *fmt, ...) {
    if (d->r.err) return false;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->msg, sizeof d->msg, fmt, ap);
    va_end(ap);
    return fail(d, off, d->msg);
}

/* SIMD is decoded far enough to say so: the module is not malformed, wex
 * just cannot run it. */
static bool unsupported(dec *d, size_t off) {
    if (!d->r.err) d->code = WEX_ERR_UNSUPPORTED;
    return fail(d, off, SIMD_MSG);
}

static bool nomem(dec *d) {
    if (!d->r.err) d->code = WEX_ERR_NOMEM;
    return fail(d, pos_of(d), "out of memory");
}

/* calloc that records an out-of-memory error on failure. */
static void *alloc(dec *d, size_t count, size_t size) {
    void *p = wex__calloc(count, size);
    if (!p) nomem(d);
    return p;
}

/* Grow an index-space array from `old` to `old + add` elements. The module's
 * arrays stay valid (and freeable) whether this succeeds or not. */
static bool grow(dec *d, void **arr, uint32_t old, uint32_t add, size_t size) {
    if ((uint64_t)old + add > UINT32_MAX) return fail(d, pos_of(d), "length out of bounds");
    void *p = wex__realloc(*arr, ((size_t)old + add) * size);
    if (!p) return nomem(d);
    if (add) memset((char *)p + (size_t)old * size, 0, (size_t)add * size);
    *arr = p;
    return true;
}

/* ------------------------------------------------------------- basic values */

/* A raw byte (kinds, flags, opcodes). */
static bool read_u8(dec *d, uint8_t *b) {
    return wex__read_u8(&d->r, b);
}
/* Most LEB128s are one or two bytes: take those here, the rest (and every
 * error) in base. After an error the reader is at its end, so the fast path
 * never hides one. */
static inline bool read_u32(dec *d, uint32_t *v) {
    const uint8_t *p = d->r.p;
    if (WEX__LIKELY(p < d->r.end && p[0] < 0x80)) {
        *v = p[0];
        d->r.p = p + 1;
        return true;
    }
    if (d->r.end - p >= 2 && p[1] < 0x80) {
        *v = (uint32_t)(p[0] & 0x7f) | (uint32_t)p[1] << 7;
        d->r.p = p + 2;
        return true;
    }
    return wex__read_u32(&d->r, v);
}

/* Skip a signed LEB128 immediate whose value the decoder does not need: up to
 * three bytes cannot be too long or too large for 32 or 64 bits. */
static inline bool skip_sleb(dec *d, bool is64) {
    const uint8_t *p = d->r.p;
    size_t left = (size_t)(d->r.end - p);
    for (size_t k = 0; k < 3 && k < left; k++)
        if (p[k] < 0x80) {
            d->r.p = p + k + 1;
            return true;
        }
    int64_t v64;
    int32_t v32;
    return is64 ? wex__read_s64(&d->r, &v64) : wex__read_s32(&d->r, &v32);
}

/* A vector length or byte count: never more than the bytes left, which is the
 * spec's "length out of bounds" and bounds what we allocate for it. */
static bool read_len(dec *d, uint32_t *n) {
    size_t at = pos_of(d);
    TRY(read_u32(d, n));
    if (*n > d->m->len - at) return fail(d, at, "length out of bounds");
    return true;
}

/* A name: a byte vector that must be well-formed UTF-8. */
static bool read_name(dec *d, const uint8_t **s, uint32_t *n) {
    size_t at = pos_of(d);
    TRY(read_len(d, n));
    TRY(wex__read_bytes(&d->r, *n, s));
    if (!wex__utf8_valid(*s, *n)) return fail(d, at, "malformed UTF-8 encoding");
    return true;
}

/* A zero byte where a memory index will one day be (not a LEB128: a "long"
 * zero is malformed too). */
static bool read_zero(dec *d) {
    size_t at = pos_of(d);
    uint8_t b;
    TRY(read_u8(d, &b));
    if (b != 0) return fail(d, at, "zero byte expected");
    return true;
}

/* ------------------------------------------------------------------- types */

/*
 * A value type. The messages are the reference decoder's: bytes above 0x70
 * are read as number types, the rest as reference types, and a byte with the
 * continuation bit is a too-long 7-bit LEB128.
 */
static bool read_valtype(dec *d, uint8_t *t) {
    size_t at = pos_of(d);
    uint8_t b;
    TRY(read_u8(d, &b));
    switch (b) {
    case WEX__T_I32:
    case WEX__T_I64:
    case WEX__T_F32:
    case WEX__T_F64:
    case WEX__T_FUNCREF:
    case WEX__T_EXTERNREF: *t = b; return true;
    case WEX__T_V128: return unsupported(d, at);
    }
    if (b & 0x80) return fail(d, at + 1, "integer representation too long");
    return fail(d, at, b > 0x70 ? "malformed number type" : "malformed reference type");
}

/* A reference type where only one may stand (tables, segments, ref.null). */
static bool read_reftype(dec *d, uint8_t *t) {
    size_t at = pos_of(d);
    TRY(read_u8(d, t));
    if (!wex__is_reftype(*t)) return fail(d, at, "malformed reference type");
    return true;
}

/* Limits: a flag that is a 1-bit LEB128 (so 0x02 is "integer too large" and
 * 0x81 0x00 "integer representation too long"), min, and max if flagged.
 * Memories (`mem`) may also set bit 1, "shared" (threads proposal); whether
 * a shared memory has its maximum is valid's question. */
static bool read_limits(dec *d, wex__limits *l, bool mem) {
    size_t at = pos_of(d);
    uint8_t flag;
    uint32_t min, max = 0;
    TRY(read_u8(d, &flag));
    if ((flag & 0x7f) > (mem ? 3 : 1)) return fail(d, at, "integer too large");
    if (flag & 0x80) return fail(d, at + 1, "integer representation too long");
    TRY(read_u32(d, &min));
    if (flag & 1) TRY(read_u32(d, &max));
    l->min = min;
    l->max = max;
    l->has_max = (flag & 1) != 0;
    l->shared = (flag & 2) != 0;
    return true;
}

/* A table type: reference type then limits. */
static bool read_tabletype(dec *d, wex__tabletype *t) {
    TRY(read_reftype(d, &t->elem));
    return read_limits(d, &t->lim, false);
}

/* A global type: value type then a mutability byte, 0 or 1. */
static bool read_globaltype(dec *d, wex__globaltype *g) {
    TRY(read_valtype(d, &g->type));
    size_t at = pos_of(d);
    uint8_t mut;
    TRY(read_u8(d, &mut));
    if (mut > 1) return fail(d, at, "malformed mutability");
    g->mut = mut;
    return true;
}

/* ------------------------------------------------------------ instructions */

/* A block type: empty (0x40), one value type, or a non-negative s33 type
 * index. */
static bool read_blocktype(dec *d) {
    wex__reader *r = &d->r;
    size_t at = pos_of(d);
    if (r->p >= r->end) return fail(d, at, EOS_MSG);
    uint8_t b = *r->p;
    if (b == 0x40) {
        r->p++;
        return true;
    }
    if ((b & 0xc0) == 0x40) {
        uint8_t t;
        return read_valtype(d, &t);
    }
    int64_t x;
    TRY(wex__read_s33(r, &x));
    if (x < 0) return fail(d, at, "malformed block type");
    return true;
}

/* Open one more block; `is_if` blocks may still take an `else`. */
static bool push_block(dec *d, size_t depth, bool is_if) {
    if (depth == d->ctl_cap) {
        size_t cap = d->ctl_cap ? d->ctl_cap * 2 : 64;
        uint8_t *p = wex__realloc(d->ctl, cap);
        if (!p) return nomem(d);
        d->ctl = p;
        d->ctl_cap = cap;
    }
    d->ctl[depth] = is_if;
    return true;
}

/*
 * Scan an instruction sequence from the reader's position through the `end`
 * that closes it, checking syntax only. Used for function bodies (`in_func`)
 * and constant expressions alike: what a constant expression may contain is
 * valid's business. One loop with a byte per open block, no recursion, so
 * deep nesting costs neither stack nor more than a byte.
 */
static bool scan_instrs(dec *d, bool in_func) {
    wex__reader *r = &d->r;
    size_t depth = 0;
    for (;;) {
        if (WEX__UNLIKELY(r->p >= r->end)) return fail(d, d->m->len, EOS_MSG);
        size_t at = pos_of(d);
        uint8_t b = *r->p++;
        unsigned imm = d->imm[b];
        if (WEX__UNLIKELY(imm == 0)) {
            if (b == 0xFD) return unsupported(d, at);
            if (b != 0xFC && b != 0xFE) return failf(d, at, "illegal opcode %02x", b);
            uint32_t sub;
            TRY(read_u32(d, &sub));
            if (b == 0xFC)
                imm = sub < 32 ? d->imm[IMM_FC + sub] : 0;
            else
                imm = sub < 0x50 ? d->imm[IMM_FE + sub] : 0;
            if (!imm) return failf(d, at, "illegal opcode %02x %02x", b, sub);
        }
        uint32_t x;
        switch ((wex__imm_kind)(imm - 1)) {
        case WEX__IMM_NONE:
            if (b == 0x0B) { /* end */
                if (depth == 0) return true;
                depth--;
            } else if (b == 0x05) { /* else: only once, only in an if */
                if (depth == 0 || d->ctl[depth - 1] != 1) return fail(d, at, "END opcode expected");
                d->ctl[depth - 1] = 0;
            }
            break;
        case WEX__IMM_BLOCK:
            TRY(read_blocktype(d));
            TRY(push_block(d, depth, b == 0x04));
            depth++;
            break;
        case WEX__IMM_LABEL:
        case WEX__IMM_FUNC:
        case WEX__IMM_LOCAL:
        case WEX__IMM_GLOBAL:
        case WEX__IMM_TABLE:
        case WEX__IMM_ELEM: TRY(read_u32(d, &x)); break;
        case WEX__IMM_DATA:
            TRY(read_u32(d, &x));
            if (in_func) d->need_datacount = true;
            break;
        case WEX__IMM_BR_TABLE: {
            uint32_t n;
            TRY(read_len(d, &n));
            for (uint64_t i = 0; i <= n; i++)
                TRY(read_u32(d, &x));
            break;
        }
        case WEX__IMM_CALL_IND:
        case WEX__IMM_TABLE_INIT:
        case WEX__IMM_TABLE_COPY:
            TRY(read_u32(d, &x));
            TRY(read_u32(d, &x));
            break;
        case WEX__IMM_MEMARG: {
            size_t aat = pos_of(d);
            TRY(read_u32(d, &x));
            if (x >= 32) return fail(d, aat, "malformed memop flags");
            TRY(read_u32(d, &x));
            break;
        }
        case WEX__IMM_MEM: TRY(read_zero(d)); break;
        case WEX__IMM_MEM_INIT:
            TRY(read_u32(d, &x));
            TRY(read_zero(d));
            if (in_func) d->need_datacount = true;
            break;
        case WEX__IMM_MEM_COPY:
            TRY(read_zero(d));
            TRY(read_zero(d));
            break;
        case WEX__IMM_I32: TRY(skip_sleb(d, false)); break;
        case WEX__IMM_I64: TRY(skip_sleb(d, true)); break;
        case WEX__IMM_F32: {
            const uint8_t *p;
            TRY(wex__read_bytes(r, 4, &p));
            break;
        }
        case WEX__IMM_F64: {
            const uint8_t *p;
            TRY(wex__read_bytes(r, 8, &p));
            break;
        }
        case WEX__IMM_SELECT_T: {
            uint32_t n;
            uint8_t t;
            TRY(read_len(d, &n));
            for (uint32_t i = 0; i < n; i++)
                TRY(read_valtype(d, &t));
            break;
        }
        case WEX__IMM_REFTYPE: {
            uint8_t t;
            TRY(read_reftype(d, &t));
            break;
        }
        }
    }
}

/* A constant expression: its bytes from the first instruction through `end`. */
static bool read_constexpr(dec *d, wex__constexpr *e) {
    size_t start = pos_of(d);
    TRY(scan_instrs(d, false));
    e->off = (uint32_t)start;
    e->len = (uint32_t)(pos_of(d) - start);
    return true;
}

/* ---------------------------------------------------------------- sections */

/* Type section: function types, form 0x60. Value types are one byte each, so
 * a type's parameters and results are copied straight from the bytes. */
static bool sec_type(dec *d) {
    wex__module *m = d->m;
    uint32_t n;
    TRY(read_len(d, &n));
    if (!(m->types = alloc(d, n, sizeof *m->types))) return false;
    m->ntypes = n;
    for (uint32_t i = 0; i < n; i++) {
        wex__functype *ft = &m->types[i];
        size_t at = pos_of(d);
        uint8_t form, t;
        const uint8_t *ps, *rs;
        TRY(read_u8(d, &form));
        if (form != 0x60) {
            if (form & 0x80) return fail(d, at + 1, "integer representation too long");
            return fail(d, at, "malformed function type");
        }
        TRY(read_len(d, &ft->nparams));
        ps = d->r.p;
        for (uint32_t k = 0; k < ft->nparams; k++)
            TRY(read_valtype(d, &t));
        TRY(read_len(d, &ft->nresults));
        rs = d->r.p;
        for (uint32_t k = 0; k < ft->nresults; k++)
            TRY(read_valtype(d, &t));
        if (!(ft->types = wex__malloc((size_t)ft->nparams + ft->nresults))) return nomem(d);
        memcpy(ft->types, ps, ft->nparams);
        memcpy(ft->types + ft->nparams, rs, ft->nresults);
    }
    return true;
}

/* Import section. Once read, the imports open the four index spaces. */
static bool sec_import(dec *d) {
    wex__module *m = d->m;
    uint32_t n;
    TRY(read_len(d, &n));
    if (!(m->imports = alloc(d, n, sizeof *m->imports))) return false;
    m->nimports = n;
    uint32_t counts[4] = {0, 0, 0, 0};
    for (uint32_t i = 0; i < n; i++) {
        wex__import *im = &m->imports[i];
        const uint8_t *s1, *s2;
        TRY(read_name(d, &s1, &im->module_len));
        TRY(read_name(d, &s2, &im->name_len));
        if (!(im->module = wex__strndup((const char *)s1, im->module_len))) return nomem(d);
        if (!(im->name = wex__strndup((const char *)s2, im->name_len))) return nomem(d);
        size_t at = pos_of(d);
        TRY(read_u8(d, &im->kind));
        switch (im->kind) {
        case WEX__EXT_FUNC: TRY(read_u32(d, &im->u.type)); break;
        case WEX__EXT_TABLE: TRY(read_tabletype(d, &im->u.table)); break;
        case WEX__EXT_MEM: TRY(read_limits(d, &im->u.mem.lim, true)); break;
        case WEX__EXT_GLOBAL: TRY(read_globaltype(d, &im->u.global)); break;
        default: return fail(d, at, "malformed import kind");
        }
        counts[im->kind]++;
    }
    TRY(grow(d, (void **)&m->func_types, 0, counts[0], sizeof *m->func_types));
    TRY(grow(d, (void **)&m->tables, 0, counts[1], sizeof *m->tables));
    TRY(grow(d, (void **)&m->mems, 0, counts[2], sizeof *m->mems));
    TRY(grow(d, (void **)&m->global_types, 0, counts[3], sizeof *m->global_types));
    for (uint32_t i = 0; i < n; i++) {
        const wex__import *im = &m->imports[i];
        switch (im->kind) {
        case WEX__EXT_FUNC: m->func_types[m->nfuncs++] = im->u.type; break;
        case WEX__EXT_TABLE: m->tables[m->ntables++] = im->u.table; break;
        case WEX__EXT_MEM: m->mems[m->nmems++] = im->u.mem; break;
        case WEX__EXT_GLOBAL: m->global_types[m->nglobals++] = im->u.global; break;
        }
    }
    m->nfunc_imports = m->nfuncs;
    m->ntable_imports = m->ntables;
    m->nmem_imports = m->nmems;
    m->nglobal_imports = m->nglobals;
    return true;
}

/* Function section: the type index of each defined function, appended to
 * the imported functions' in the function index space. */
static bool sec_func(dec *d) {
    wex__module *m = d->m;
    uint32_t n;
    TRY(read_len(d, &n));
    TRY(grow(d, (void **)&m->func_types, m->nfuncs, n, sizeof *m->func_types));
    for (uint32_t i = 0; i < n; i++)
        TRY(read_u32(d, &m->func_types[m->nfuncs + i]));
    m->nfuncs += n;
    return true;
}

/* Table section: defined tables follow the imported ones. */
static bool sec_table(dec *d) {
    wex__module *m = d->m;
    uint32_t n;
    TRY(read_len(d, &n));
    TRY(grow(d, (void **)&m->tables, m->ntables, n, sizeof *m->tables));
    for (uint32_t i = 0; i < n; i++)
        TRY(read_tabletype(d, &m->tables[m->ntables + i]));
    m->ntables += n;
    return true;
}

/* Memory section: defined memories follow the imported ones (how many there
 * may be is valid's question). */
static bool sec_mem(dec *d) {
    wex__module *m = d->m;
    uint32_t n;
    TRY(read_len(d, &n));
    TRY(grow(d, (void **)&m->mems, m->nmems, n, sizeof *m->mems));
    for (uint32_t i = 0; i < n; i++)
        TRY(read_limits(d, &m->mems[m->nmems + i].lim, true));
    m->nmems += n;
    return true;
}

/* Global section: types go to the global index space after the imports,
 * initialisers to `globals`. */
static bool sec_global(dec *d) {
    wex__module *m = d->m;
    uint32_t n;
    TRY(read_len(d, &n));
    TRY(grow(d, (void **)&m->global_types, m->nglobals, n, sizeof *m->global_types));
    if (!(m->globals = alloc(d, n, sizeof *m->globals))) return false;
    for (uint32_t i = 0; i < n; i++) {
        wex__global *g = &m->globals[i];
        TRY(read_globaltype(d, &g->type));
        TRY(read_constexpr(d, &g->init));
        m->global_types[m->nglobals + i] = g->type;
    }
    m->nglobals += n;
    return true;
}

/* Export section: names are copied; indices are valid's to check. */
static bool sec_export(dec *d) {
    wex__module *m = d->m;
    uint32_t n;
    TRY(read_len(d, &n));
    if (!(m->exports = alloc(d, n, sizeof *m->exports))) return false;
    m->nexports = n;
    for (uint32_t i = 0; i < n; i++) {
        wex__export *ex = &m->exports[i];
        const uint8_t *s;
        TRY(read_name(d, &s, &ex->name_len));
        if (!(ex->name = wex__strndup((const char *)s, ex->name_len))) return nomem(d);
        size_t at = pos_of(d);
        TRY(read_u8(d, &ex->kind));
        if (ex->kind > WEX__EXT_GLOBAL) return fail(d, at, "malformed export kind");
        TRY(read_u32(d, &ex->index));
    }
    return true;
}

/*
 * Element section, all eight encodings. Bit 0: passive or declarative (else
 * active); bit 1: active with an explicit table (or, with bit 0, declarative)
 * and an element kind / reference type; bit 2: expressions instead of
 * function indices.
 */
static bool sec_elem(dec *d) {
    wex__module *m = d->m;
    uint32_t n;
    TRY(read_len(d, &n));
    if (!(m->elems = alloc(d, n, sizeof *m->elems))) return false;
    m->nelems = n;
    for (uint32_t i = 0; i < n; i++) {
        wex__elem *e = &m->elems[i];
        size_t at = pos_of(d);
        uint32_t kind, count;
        TRY(read_u32(d, &kind));
        if (kind > 7) return fail(d, at, "malformed elements segment kind");
        e->off = (uint32_t)at;
        e->type = WEX__T_FUNCREF;
        if (kind & 1) {
            e->mode = (kind & 2) ? WEX__SEG_DECLARATIVE : WEX__SEG_PASSIVE;
        } else {
            e->mode = WEX__SEG_ACTIVE;
            if (kind & 2) TRY(read_u32(d, &e->table));
            TRY(read_constexpr(d, &e->offset));
        }
        if (kind & 3) {
            if (kind & 4) {
                TRY(read_reftype(d, &e->type));
            } else {
                size_t kat = pos_of(d);
                uint8_t ek;
                TRY(read_u8(d, &ek));
                if (ek != 0x00) return fail(d, kat, "malformed element kind");
            }
        }
        TRY(read_len(d, &count));
        if (kind & 4) {
            if (!(e->exprs = alloc(d, count, sizeof *e->exprs))) return false;
            e->count = count;
            for (uint32_t k = 0; k < count; k++)
                TRY(read_constexpr(d, &e->exprs[k]));
        } else {
            if (!(e->funcs = alloc(d, count, sizeof *e->funcs))) return false;
            e->count = count;
            for (uint32_t k = 0; k < count; k++)
                TRY(read_u32(d, &e->funcs[k]));
        }
    }
    return true;
}

/*
 * Code section. Each body is sized; its locals come as runs (runs of zero
 * locals are dropped), then its instructions, scanned through the final
 * `end`, which must be the body's last byte.
 */
static bool sec_code(dec *d) {
    wex__module *m = d->m;
    uint32_t n;
    TRY(read_len(d, &n));
    if (!(m->codes = alloc(d, n, sizeof *m->codes))) return false;
    m->ncodes = n;
    for (uint32_t i = 0; i < n; i++) {
        wex__code *c = &m->codes[i];
        uint32_t size, nruns;
        TRY(read_len(d, &size));
        size_t start = pos_of(d);
        c->off = (uint32_t)start;
        c->len = size;
        TRY(read_len(d, &nruns));
        if (!(c->runs = alloc(d, nruns, sizeof *c->runs))) return false;
        uint64_t total = 0;
        for (uint32_t k = 0; k < nruns; k++) {
            uint32_t count;
            uint8_t t;
            TRY(read_u32(d, &count));
            TRY(read_valtype(d, &t));
            total += count;
            if (count) c->runs[c->nruns++] = (wex__localrun){count, t};
        }
        if (total > UINT32_MAX) return fail(d, start, "too many locals");
        /* The implementation limit counts the parameters too, when the
         * function's type is already known to exist; if not, valid reports
         * the bad type index and nothing runs. */
        uint64_t params = 0;
        uint32_t fidx = m->nfunc_imports + i;
        if (fidx < m->nfuncs && m->func_types[fidx] < m->ntypes)
            params = m->types[m->func_types[fidx]].nparams;
        if (total + params > WEX__MAX_LOCALS) return fail(d, start, "too many locals");
        c->nlocals = (uint32_t)total;
        c->expr_off = (uint32_t)pos_of(d);
        TRY(scan_instrs(d, true));
        if (pos_of(d) != start + size) return fail(d, start, "section size mismatch");
    }
    return true;
}

/* Data section, three encodings: active on memory 0, passive, active with an
 * explicit memory. */
static bool sec_data(dec *d) {
    wex__module *m = d->m;
    uint32_t n;
    TRY(read_len(d, &n));
    if (!(m->datas = alloc(d, n, sizeof *m->datas))) return false;
    m->ndatas = n;
    for (uint32_t i = 0; i < n; i++) {
        wex__data *s = &m->datas[i];
        size_t at = pos_of(d);
        uint32_t kind, len;
        const uint8_t *bytes;
        TRY(read_u32(d, &kind));
        if (kind > 2) return fail(d, at, "malformed data segment kind");
        s->off = (uint32_t)at;
        s->mode = kind == 1 ? WEX__SEG_PASSIVE : WEX__SEG_ACTIVE;
        if (kind == 2) TRY(read_u32(d, &s->mem));
        if (kind != 1) TRY(read_constexpr(d, &s->offset));
        TRY(read_len(d, &len));
        TRY(wex__read_bytes(&d->r, len, &bytes));
        s->data_off = (uint32_t)(bytes - d->r.origin);
        s->data_len = len;
    }
    return true;
}

/* A custom section: a UTF-8 name, then bytes we skip. The "name" section is
 * remembered and parsed at the end, when the function count is known. */
static bool sec_custom(dec *d, size_t start, uint32_t size) {
    const uint8_t *name;
    uint32_t len;
    TRY(read_name(d, &name, &len));
    size_t used = pos_of(d) - start;
    if (used > size) return fail(d, d->m->len, EOS_MSG);
    if (len == 4 && memcmp(name, "name", 4) == 0) {
        d->has_names = true;
        d->names_off = pos_of(d);
        d->names_end = start + size;
    }
    d->r.p = d->r.origin + start + size;
    return true;
}

/*
 * The function names of the "name" section (subsection 1). Leniently: the
 * section is debug information, so an error in it ends parsing quietly and
 * keeps what was read.
 */
static void parse_names(dec *d) {
    wex__module *m = d->m;
    wex__reader r;
    wex__reader_init(&r, m->bytes + d->names_off, d->names_end - d->names_off, m->bytes);
    while (wex__reader_left(&r) > 0) {
        uint8_t id;
        uint32_t size;
        const uint8_t *sub;
        if (!wex__read_u8(&r, &id) || !wex__read_u32(&r, &size) || !wex__read_bytes(&r, size, &sub))
            return;
        if (id != 1) continue;
        wex__reader s;
        uint32_t n;
        wex__reader_init(&s, sub, size, m->bytes);
        if (!wex__read_u32(&s, &n) || m->nfuncs == 0) return;
        if (!m->func_names && !(m->func_names = wex__calloc(m->nfuncs, sizeof(char *)))) return;
        for (uint32_t i = 0; i < n; i++) {
            uint32_t idx, len;
            const uint8_t *name;
            if (!wex__read_u32(&s, &idx) || !wex__read_u32(&s, &len) ||
                !wex__read_bytes(&s, len, &name) || !wex__utf8_valid(name, len))
                return;
            if (idx < m->nfuncs && !m->func_names[idx] &&
                !(m->func_names[idx] = wex__strndup((const char *)name, len)))
                return;
        }
    }
}

/* Where each non-custom section id must come in the module: the data count
 * section (12) sits between element (9) and code (10). */
static const uint8_t section_rank[13] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 10};

/* The header, then the sections in order, then the checks across sections. */
static bool decode_module(dec *d, bool *in_sections) {
    wex__module *m = d->m;
    wex__reader *r = &d->r;
    const uint8_t *p;
    TRY(wex__read_bytes(r, 4, &p));
    if (memcmp(p, "\0asm", 4) != 0) return fail(d, 0, "magic header not detected");
    TRY(wex__read_bytes(r, 4, &p));
    if (memcmp(p, "\1\0\0\0", 4) != 0) return fail(d, 4, "unknown binary version");
    *in_sections = true;

    unsigned last = 0;
    while (r->p < r->end) {
        size_t idpos = pos_of(d);
        uint8_t id = *r->p;
        if (id > 12) return fail(d, idpos, "malformed section id");
        if (id != 0) {
            if (section_rank[id] <= last)
                return fail(d, idpos, "unexpected content after last section");
            last = section_rank[id];
        }
        r->p++;
        uint32_t size;
        TRY(read_len(d, &size));
        size_t start = pos_of(d);
        switch (id) {
        case 0: TRY(sec_custom(d, start, size)); break;
        case 1: TRY(sec_type(d)); break;
        case 2: TRY(sec_import(d)); break;
        case 3: TRY(sec_func(d)); break;
        case 4: TRY(sec_table(d)); break;
        case 5: TRY(sec_mem(d)); break;
        case 6: TRY(sec_global(d)); break;
        case 7: TRY(sec_export(d)); break;
        case 8:
            TRY(read_u32(d, &m->start));
            m->has_start = true;
            break;
        case 9: TRY(sec_elem(d)); break;
        case 10: TRY(sec_code(d)); break;
        case 11: TRY(sec_data(d)); break;
        case 12:
            TRY(read_u32(d, &m->datacount));
            m->has_datacount = true;
            break;
        }
        if (pos_of(d) != start + size) return fail(d, start, "section size mismatch");
    }

    if (m->nfuncs - m->nfunc_imports != m->ncodes)
        return fail(d, m->len, "function and code section have inconsistent lengths");
    if (m->has_datacount && m->datacount != m->ndatas)
        return fail(d, m->len, "data count and data section have inconsistent lengths");
    /* Code that names data segments needs the data count section. A module
     * with no data section at all is left to validation, where any data
     * index is unknown: wabt's wast2json writes such modules for the spec's
     * assert_invalid tests ("unknown data segment") without a data count. */
    if (d->need_datacount && !m->has_datacount && m->ndatas > 0)
        return fail(d, m->len, "data count section required");
    return true;
}

/*
 * Decode m->bytes into m. All allocation goes into m (wex__module_free
 * releases it, filled or not) except the block stack, freed here.
 */
wex_error_t *wex__decode(wex__module *m) {
    if (m->len > UINT32_MAX)
        return wex__error_at(WEX_ERR_UNSUPPORTED, -1, "modules over 4 GiB are not supported");
    static const uint8_t empty[1];
    dec d;
    memset(&d, 0, sizeof d);
    d.m = m;
    d.code = WEX_ERR_MALFORMED;
    wex__reader_init(&d.r, m->bytes ? m->bytes : empty, m->len, m->bytes ? m->bytes : empty);
    for (unsigned i = 0; i < WEX__OPI_COUNT; i++) {
        uint32_t code = wex__ops[i].code;
        if (code < 256)
            d.imm[code] = (uint8_t)(wex__ops[i].imm + 1);
        else if (code - 0xFC00u < 32)
            d.imm[IMM_FC + (code - 0xFC00u)] = (uint8_t)(wex__ops[i].imm + 1);
        else if (code - 0xFE00u < 0x50)
            d.imm[IMM_FE + (code - 0xFE00u)] = (uint8_t)(wex__ops[i].imm + 1);
    }
    bool in_sections = false;
    bool ok = decode_module(&d, &in_sections);
    wex__free(d.ctl);
    if (ok) {
        if (d.has_names) parse_names(&d);
        return NULL;
    }
    if (d.code == WEX_ERR_NOMEM) return wex__error_nomem();
    const char *msg = d.r.err;
    if (in_sections && strcmp(msg, "unexpected end") == 0) msg = EOS_MSG;
    return wex__error_at(d.code, (int64_t)d.r.err_off, "%s", msg);
}
