/*
 * valid_func.c - type-checking function bodies with the spec's validation
 * algorithm (appendix "Validation Algorithm"): an operand stack of value
 * types, with WEX__T_UNKNOWN for the polymorphic stack after an
 * unconditional branch, and a control stack of frames holding each block's
 * label types, entry height and unreachable flag.
 *
 * The body was already checked for syntax by the decoder, so immediates are
 * well formed; they are still read with the bounds-checked reader. No
 * recursion: nesting lives on the (growable, capped) control stack.
 */
#include "valid/valid_internal.h"

#include "base/opcodes.h"

#include <stdio.h>

/*
 * Reads with an inline fast path for the common one-byte case (short LEB128
 * indices, opcodes); anything else goes to the checked reader in base. A
 * failed reader has p == end, so the fast paths fail after it too.
 */
static inline bool rd_u8(wex__reader *r, uint8_t *out) {
    if (WEX__LIKELY(r->p < r->end)) {
        *out = *r->p++;
        return true;
    }
    return wex__read_u8(r, out);
}
/* LEB128 u32 below 128 is its one byte. */
static inline bool rd_u32(wex__reader *r, uint32_t *out) {
    if (WEX__LIKELY(r->p < r->end && *r->p < 0x80)) {
        *out = *r->p++;
        return true;
    }
    return wex__read_u32(r, out);
}

/*
 * Operator rows by opcode without a call: one-byte opcodes at their value,
 * 0xFC-prefixed ones at 0x100 + sub-opcode, 0xFE-prefixed (threads) ones at
 * 0x200 + sub-opcode. Entries are row index + 1, so 0 means no such
 * operator. Built by the compiler from opcodes.h.
 */
#define OPSLOT(code)                                                                               \
    ((code) < 0x100 ? (code) : ((code) >> 8 == 0xFC ? 0x100 : 0x200) + ((code)&0xFF))
static const uint16_t op_slot[0x300] = {
#define WEX__OPX(name, code, imm, sig) [OPSLOT(code)] = WEX__OPI_##name + 1,
    WEX__OPCODES(WEX__OPX)
#undef WEX__OPX
};

/* Type names in messages, as the text format spells them. */
const char *wex__valid_typename(uint8_t t) {
    switch (t) {
    case WEX__T_I32: return "i32";
    case WEX__T_I64: return "i64";
    case WEX__T_F32: return "f32";
    case WEX__T_F64: return "f64";
    case WEX__T_V128: return "v128";
    case WEX__T_FUNCREF: return "funcref";
    case WEX__T_EXTERNREF: return "externref";
    case WEX__T_UNKNOWN: return "any";
    default: return "?";
    }
}

/* Record the first error of the body; returns false so callers can
 * `return fail(...)`. */
__attribute__((format(printf, 3, 4))) static bool fail(wex__valid_ctx *v, size_t off,
                                                       const char *fmt, ...) {
    if (v->err) return false;
    va_list ap;
    va_start(ap, fmt);
    v->err = wex__error_vnew(WEX_ERR_INVALID, (int64_t)off, fmt, ap);
    va_end(ap);
    return false;
}

/* An implementation limit, not a rule of the spec: "not supported". */
static bool fail_limit(wex__valid_ctx *v, size_t off, const char *what, unsigned long limit) {
    if (!v->err)
        v->err = wex__error_at(WEX_ERR_UNSUPPORTED, (int64_t)off, "%s (implementation limit %lu)",
                               what, limit);
    return false;
}

/*
 * Deepest operand stack accepted. Calls and blocks push up to 1000 values
 * for a few bytes, so without a cap a small body could make the validator
 * (and the interpreter's frame) need gigabytes. 16M slots is far beyond
 * any real function.
 */
#define MAX_OPERANDS ((size_t)1 << 24)

/* Out of memory is not a verdict on the module: its own error code. */
static bool nomem(wex__valid_ctx *v) {
    if (!v->err) v->err = wex__error_nomem();
    return false;
}

/* Make room for `n` more operands. Out of line: the common case is the
 * inline capacity test in push. */
static bool grow_vals(wex__valid_ctx *v, size_t n) {
    size_t need = v->nvals + n;
    if (need > MAX_OPERANDS) return fail_limit(v, v->at, "operand stack too deep", MAX_OPERANDS);
    size_t cap = v->capvals ? v->capvals : 256;
    while (cap < need) {
        if (cap > SIZE_MAX / 2) return nomem(v);
        cap *= 2;
    }
    uint8_t *p = wex__realloc(v->vals, cap);
    if (!p) return nomem(v);
    v->vals = p;
    v->capvals = cap;
    return true;
}

/* push_val; tracks the deepest stack, which a compiler could size frames by. */
static inline bool push(wex__valid_ctx *v, uint8_t t) {
    if (WEX__UNLIKELY(v->nvals == v->capvals) && !grow_vals(v, 1)) return false;
    v->vals[v->nvals++] = t;
    if (v->nvals > v->max_vals) v->max_vals = v->nvals;
    return true;
}

/* push_vals: a block's params or results, a call's results. */
static bool push_n(wex__valid_ctx *v, const uint8_t *ts, uint32_t n) {
    if (n == 0) return true;
    if (v->capvals - v->nvals < n && !grow_vals(v, n)) return false;
    memcpy(v->vals + v->nvals, ts, n);
    v->nvals += n;
    if (v->nvals > v->max_vals) v->max_vals = v->nvals;
    return true;
}

/* Pop one operand of any type into *out: the spec's pop_val(). Below the
 * frame's height, a dead block yields Unknown; a live one has nothing. */
static inline bool pop_any(wex__valid_ctx *v, size_t at, uint8_t *out) {
    const wex__valid_frame *f = &v->ctrls[v->nctrls - 1];
    if (v->nvals == f->height) {
        if (f->unreachable) {
            *out = WEX__T_UNKNOWN;
            return true;
        }
        return fail(v, at, "type mismatch: expected a value, stack is empty");
    }
    *out = v->vals[--v->nvals];
    return true;
}

/* Pop one operand that must have type `want` (or be Unknown): pop_val(t). */
static inline bool pop(wex__valid_ctx *v, size_t at, uint8_t want) {
    const wex__valid_frame *f = &v->ctrls[v->nctrls - 1];
    if (v->nvals == f->height) {
        if (f->unreachable) return true;
        return fail(v, at, "type mismatch: expected %s, stack is empty", wex__valid_typename(want));
    }
    uint8_t t = v->vals[--v->nvals];
    if (t != want && t != WEX__T_UNKNOWN && want != WEX__T_UNKNOWN)
        return fail(v, at, "type mismatch: expected %s, got %s", wex__valid_typename(want),
                    wex__valid_typename(t));
    return true;
}

/* pop_vals(ts): the last type is on top. */
static bool pop_n(wex__valid_ctx *v, size_t at, const uint8_t *ts, uint32_t n) {
    for (uint32_t i = n; i-- > 0;)
        if (!pop(v, at, ts[i])) return false;
    return true;
}

/*
 * Check that the top of the stack matches ts without changing it, as the
 * spec's push_vals(pop_vals(ts)) does for each br_table target. Missing
 * operands below a dead block's height would come back as Unknown, which
 * matches anything, so leaving them out changes no later check.
 */
static bool peek_n(wex__valid_ctx *v, size_t at, const uint8_t *ts, uint32_t n) {
    const wex__valid_frame *f = &v->ctrls[v->nctrls - 1];
    size_t avail = v->nvals - f->height;
    for (uint32_t i = 0; i < n; i++) {
        uint8_t want = ts[n - 1 - i];
        if (i >= avail) {
            if (f->unreachable) return true;
            return fail(v, at, "type mismatch: expected %s, stack is empty",
                        wex__valid_typename(want));
        }
        uint8_t t = v->vals[v->nvals - 1 - i];
        if (t != want && t != WEX__T_UNKNOWN)
            return fail(v, at, "type mismatch: expected %s, got %s", wex__valid_typename(want),
                        wex__valid_typename(t));
    }
    return true;
}

/* push_ctrl: enter a block; its params are on the stack inside it. */
static bool push_ctrl(wex__valid_ctx *v, size_t at, uint8_t kind, const uint8_t *params,
                      uint32_t np, const uint8_t *results, uint32_t nr) {
    /* The function's own frame does not count. */
    if (WEX__UNLIKELY(v->nctrls > WEX__MAX_BLOCK_DEPTH))
        return fail_limit(v, at, "blocks nested too deeply", WEX__MAX_BLOCK_DEPTH);
    if (v->nctrls == v->capctrls) {
        size_t cap = v->capctrls ? v->capctrls * 2 : 64;
        wex__valid_frame *p = wex__realloc(v->ctrls, cap * sizeof *p);
        if (!p) return nomem(v);
        v->ctrls = p;
        v->capctrls = cap;
    }
    wex__valid_frame *f = &v->ctrls[v->nctrls++];
    f->params = params;
    f->nparams = np;
    f->results = results;
    f->nresults = nr;
    f->height = (uint32_t)v->nvals;
    f->kind = kind;
    f->unreachable = false;
    f->mark = 0;
    return push_n(v, params, np);
}

/* pop_ctrl: leave the innermost block; its results must be exactly what is
 * left of its stack. The frame stays readable at ctrls[nctrls]. */
static bool pop_ctrl(wex__valid_ctx *v, size_t at) {
    const wex__valid_frame *f = &v->ctrls[v->nctrls - 1];
    if (!pop_n(v, at, f->results, f->nresults)) return false;
    if (v->nvals != f->height)
        return fail(v, at, "type mismatch: %zu value(s) left on the stack at block end",
                    v->nvals - f->height);
    v->nctrls--;
    return true;
}

/* The end of dead code: drop the block's operands, pop yields Unknown. */
static inline void set_unreachable(wex__valid_ctx *v) {
    wex__valid_frame *f = &v->ctrls[v->nctrls - 1];
    v->nvals = f->height;
    f->unreachable = true;
}

/* The types a branch to frame f carries: a loop's params, else its results. */
static inline void label_types(const wex__valid_frame *f, const uint8_t **ts, uint32_t *n) {
    if (f->kind == WEX__OP_LOOP) {
        *ts = f->params;
        *n = f->nparams;
    } else {
        *ts = f->results;
        *n = f->nresults;
    }
}

/* Resolve branch depth l to its frame, or fail with "unknown label". */
static const wex__valid_frame *label(wex__valid_ctx *v, size_t at, uint32_t l) {
    if (l >= v->nctrls) {
        fail(v, at, "unknown label %u", l);
        return NULL;
    }
    return &v->ctrls[v->nctrls - 1 - l];
}

/*
 * A block type: empty, one value type, or a type index. The single value
 * type needs a one-byte array to point at: the blocktype byte itself, in the
 * module's bytes, is exactly that.
 */
static bool read_blocktype(wex__valid_ctx *v, wex__reader *r, size_t at, const uint8_t **params,
                           uint32_t *np, const uint8_t **results, uint32_t *nr) {
    const uint8_t *p = r->p;
    int64_t bt;
    if (!wex__read_s33(r, &bt)) return fail(v, at, "malformed block type");
    *params = *results = NULL;
    *np = *nr = 0;
    if (bt == -64) return true; /* 0x40: empty */
    if (bt < 0) {
        uint8_t t = *p;
        switch (t) {
        case WEX__T_I32:
        case WEX__T_I64:
        case WEX__T_F32:
        case WEX__T_F64:
        case WEX__T_FUNCREF:
        case WEX__T_EXTERNREF: break;
        default: return fail(v, at, "malformed block type 0x%02x", t);
        }
        *results = p;
        *nr = 1;
        return true;
    }
    if ((uint64_t)bt >= v->m->ntypes) return fail(v, at, "unknown type %lld", (long long)bt);
    const wex__functype *ft = &v->m->types[bt];
    *params = ft->types;
    *np = ft->nparams;
    *results = ft->types + ft->nparams;
    *nr = ft->nresults;
    return true;
}

/* Signature letters to value types; anything else is 0. */
static const uint8_t sig_types[128] = {
    ['i'] = WEX__T_I32, ['I'] = WEX__T_I64, ['f'] = WEX__T_F32, ['F'] = WEX__T_F64};

/* The generic path: pop the params of a "params:results" signature (last
 * first), push its results. */
static bool apply_sig(wex__valid_ctx *v, size_t at, const char *sig) {
    uint8_t params[4];
    unsigned np = 0;
    while (*sig != ':' && np < 4)
        params[np++] = sig_types[*sig++ & 0x7F];
    while (np > 0)
        if (!pop(v, at, params[--np])) return false;
    for (sig++; *sig; sig++)
        if (!push(v, sig_types[*sig & 0x7F])) return false;
    return true;
}

/* log2 of the natural alignment of the load/store opcodes 0x28..0x3E. */
static const uint8_t natural_align[] = {
    2, 3, 2, 3, 0, 0, 1, 1, 0, 0, 1, 1, 2, 2, /* loads */
    2, 3, 2, 3, 0, 1, 0, 1, 2,                /* stores */
};

/* Memory instructions name memory 0 implicitly; it must exist. */
static bool need_memory(wex__valid_ctx *v, size_t at) {
    if (v->m->nmems == 0) return fail(v, at, "unknown memory 0");
    return true;
}

/* The table an instruction names, or NULL after "unknown table". */
static const wex__tabletype *need_table(wex__valid_ctx *v, size_t at, uint32_t x) {
    if (x >= v->m->ntables) {
        fail(v, at, "unknown table %u", x);
        return NULL;
    }
    return &v->m->tables[x];
}

/* Element segment indices of table.init and elem.drop. */
static bool need_elem(wex__valid_ctx *v, size_t at, uint32_t x) {
    if (x >= v->m->nelems) return fail(v, at, "unknown elem segment %u", x);
    return true;
}

/* Data segment indices of memory.init and data.drop; the decoder has made
 * sure the data count section announced the same number. */
static bool need_data(wex__valid_ctx *v, size_t at, uint32_t x) {
    if (x >= v->m->ndatas) return fail(v, at, "unknown data segment %u", x);
    return true;
}

/*
 * Immediates of a simple (table-driven) operator: read them and check the
 * indices they name. The operand types come from the signature.
 */
static bool simple_imm(wex__valid_ctx *v, wex__reader *r, size_t at, const wex__opinfo *info) {
    wex__module *m = v->m;
    uint32_t a, b;
    uint8_t byte;
    int32_t i32;
    int64_t i64;
    uint32_t f32;
    uint64_t f64;
    switch (info->imm) {
    case WEX__IMM_NONE: return true;
    case WEX__IMM_I32: return wex__read_s32(r, &i32);
    case WEX__IMM_I64: return wex__read_s64(r, &i64);
    case WEX__IMM_F32: return wex__read_f32(r, &f32);
    case WEX__IMM_F64: return wex__read_f64(r, &f64);
    case WEX__IMM_MEMARG:
        if (!rd_u32(r, &a) || !rd_u32(r, &b)) return false;
        if (!need_memory(v, at)) return false;
        if (info->code >> 8 == 0xFE) { /* atomics: exactly the natural alignment */
            if (a != wex__op_atomic_log2(info->code))
                return fail(v, at, "atomic alignment must be natural");
            return true;
        }
        if (info->code < 0x28 || info->code > 0x3E) return fail(v, at, "unexpected memarg");
        if (a > natural_align[info->code - 0x28])
            return fail(v, at, "alignment must not be larger than natural");
        return true;
    case WEX__IMM_MEM:
        if (!rd_u8(r, &byte)) return false;
        return need_memory(v, at);
    case WEX__IMM_MEM_COPY:
        if (!rd_u8(r, &byte) || !rd_u8(r, &byte)) return false;
        return need_memory(v, at);
    case WEX__IMM_MEM_INIT:
        if (!rd_u32(r, &a) || !rd_u8(r, &byte)) return false;
        return need_memory(v, at) && need_data(v, at, a);
    case WEX__IMM_DATA:
        if (!rd_u32(r, &a)) return false;
        return need_data(v, at, a);
    case WEX__IMM_ELEM:
        if (!rd_u32(r, &a)) return false;
        return need_elem(v, at, a);
    case WEX__IMM_TABLE:
        if (!rd_u32(r, &a)) return false;
        return need_table(v, at, a) != NULL;
    case WEX__IMM_TABLE_INIT: {
        if (!rd_u32(r, &a) || !rd_u32(r, &b)) return false;
        const wex__tabletype *t = need_table(v, at, b);
        if (!t || !need_elem(v, at, a)) return false;
        if (t->elem != m->elems[a].type)
            return fail(v, at, "type mismatch: table.init of %s segment into %s table",
                        wex__valid_typename(m->elems[a].type), wex__valid_typename(t->elem));
        return true;
    }
    case WEX__IMM_TABLE_COPY: {
        if (!rd_u32(r, &a) || !rd_u32(r, &b)) return false;
        const wex__tabletype *d = need_table(v, at, a);
        const wex__tabletype *s = d ? need_table(v, at, b) : NULL;
        if (!s) return false;
        if (d->elem != s->elem)
            return fail(v, at, "type mismatch: table.copy from %s table to %s table",
                        wex__valid_typename(s->elem), wex__valid_typename(d->elem));
        return true;
    }
    default: return fail(v, at, "unexpected immediate kind for %s", info->name);
    }
}

/* Set up the local types of function `funcidx`: params, then the runs. */
static bool setup_locals(wex__valid_ctx *v, const wex__functype *ft, const wex__code *c) {
    uint64_t total = ft->nparams;
    for (uint32_t i = 0; i < c->nruns; i++)
        total += c->runs[i].count;
    if (total > WEX__MAX_LOCALS) return fail(v, c->off, "too many locals");
    if (total > v->caplocals) {
        uint8_t *p = wex__realloc(v->locals, (size_t)total);
        if (!p) return nomem(v);
        v->locals = p;
        v->caplocals = (size_t)total;
    }
    if (ft->nparams) memcpy(v->locals, ft->types, ft->nparams);
    size_t n = ft->nparams;
    for (uint32_t i = 0; i < c->nruns; i++) {
        memset(v->locals + n, c->runs[i].type, c->runs[i].count);
        n += c->runs[i].count;
    }
    v->nlocals = (uint32_t)n;
    return true;
}

/* A message for a reader failure inside a body: the decoder should have
 * caught it, so this is only a safety net. */
static bool read_failed(wex__valid_ctx *v, const wex__reader *r) {
    return fail(v, r->err_off, "%s", r->err ? r->err : "unexpected end");
}

/*
 * One instruction's typing rule. `at` is its offset, for errors. Returns
 * false on error (v->err set, or the reader's error).
 */
static bool check_instr(wex__valid_ctx *v, wex__reader *r, size_t at, uint32_t code, bool *done) {
    wex__module *m = v->m;
    uint32_t x, y;
    uint8_t t = 0, t1 = 0, t2 = 0;
    const uint8_t *ts;
    uint32_t n;
    const wex__valid_frame *f;

    switch (code) {
    case WEX__OP_UNREACHABLE: set_unreachable(v); return true;
    case WEX__OP_NOP: return true;
    case WEX__OP_ATOMIC_FENCE: /* a reserved zero byte; needs no memory */ return rd_u8(r, &t);

    case WEX__OP_BLOCK:
    case WEX__OP_LOOP:
    case WEX__OP_IF: {
        const uint8_t *params, *results;
        uint32_t np, nr;
        if (!read_blocktype(v, r, at, &params, &np, &results, &nr)) return false;
        if (code == WEX__OP_IF && !pop(v, at, WEX__T_I32)) return false;
        if (!pop_n(v, at, params, np)) return false;
        return push_ctrl(v, at, (uint8_t)code, params, np, results, nr);
    }
    case WEX__OP_ELSE: {
        f = &v->ctrls[v->nctrls - 1];
        if (f->kind != WEX__OP_IF) return fail(v, at, "else without matching if");
        if (!pop_ctrl(v, at)) return false;
        f = &v->ctrls[v->nctrls]; /* still readable after the pop */
        return push_ctrl(v, at, WEX__OP_ELSE, f->params, f->nparams, f->results, f->nresults);
    }
    case WEX__OP_END: {
        if (!pop_ctrl(v, at)) return false;
        f = &v->ctrls[v->nctrls];
        if (f->kind == WEX__OP_IF &&
            (f->nparams != f->nresults ||
             (f->nparams && memcmp(f->params, f->results, f->nparams) != 0)))
            return fail(v, at, "type mismatch: if without else must leave its params unchanged");
        if (v->nctrls == 0) {
            *done = true;
            return true;
        }
        return push_n(v, f->results, f->nresults);
    }

    case WEX__OP_BR:
        if (!rd_u32(r, &x)) return false;
        if (!(f = label(v, at, x))) return false;
        label_types(f, &ts, &n);
        if (!pop_n(v, at, ts, n)) return false;
        set_unreachable(v);
        return true;
    case WEX__OP_BR_IF:
        if (!rd_u32(r, &x)) return false;
        if (!(f = label(v, at, x))) return false;
        label_types(f, &ts, &n);
        if (!pop(v, at, WEX__T_I32) || !pop_n(v, at, ts, n)) return false;
        return push_n(v, ts, n);
    case WEX__OP_BR_TABLE: {
        uint32_t count;
        if (!rd_u32(r, &count)) return false;
        /* The default label is last in the binary: find it first, since the
         * spec takes the arity from it. */
        wex__reader targets = *r;
        for (uint32_t i = 0; i < count; i++)
            if (!rd_u32(r, &x)) return false;
        if (!rd_u32(r, &y)) return false;
        if (!pop(v, at, WEX__T_I32)) return false;
        const wex__valid_frame *fd = label(v, at, y);
        if (!fd) return false;
        const uint8_t *dts;
        uint32_t arity;
        label_types(fd, &dts, &arity);
        /* The stack does not change while the targets are checked, so each
         * label needs checking once: mark its frame with this instruction's
         * offset. Keeps a long table over wide labels linear in its size. */
        const uint8_t *last = NULL;
        for (uint32_t i = 0; i < count; i++) {
            rd_u32(&targets, &x);
            if (!(f = label(v, at, x))) return false;
            label_types(f, &ts, &n);
            if (n != arity)
                return fail(v, at, "type mismatch: br_table targets of arity %u and %u", n, arity);
            if (f->mark == at + 1 || (n > 1 && ts == last)) continue;
            v->ctrls[v->nctrls - 1 - x].mark = at + 1;
            last = ts;
            if (!peek_n(v, at, ts, n)) return false;
        }
        if (!pop_n(v, at, dts, arity)) return false;
        set_unreachable(v);
        return true;
    }
    case WEX__OP_RETURN: {
        const wex__valid_frame *fn = &v->ctrls[0];
        if (!pop_n(v, at, fn->results, fn->nresults)) return false;
        set_unreachable(v);
        return true;
    }

    case WEX__OP_CALL: {
        if (!rd_u32(r, &x)) return false;
        if (x >= m->nfuncs) return fail(v, at, "unknown function %u", x);
        const wex__functype *ft = wex__module_functype(m, x);
        if (!pop_n(v, at, ft->types, ft->nparams)) return false;
        return push_n(v, ft->types + ft->nparams, ft->nresults);
    }
    case WEX__OP_CALL_INDIRECT: {
        if (!rd_u32(r, &x) || !rd_u32(r, &y)) return false;
        const wex__tabletype *tt = need_table(v, at, y);
        if (!tt) return false;
        if (x >= m->ntypes) return fail(v, at, "unknown type %u", x);
        if (tt->elem != WEX__T_FUNCREF)
            return fail(v, at, "type mismatch: call_indirect needs a funcref table");
        const wex__functype *ft = &m->types[x];
        if (!pop(v, at, WEX__T_I32) || !pop_n(v, at, ft->types, ft->nparams)) return false;
        return push_n(v, ft->types + ft->nparams, ft->nresults);
    }

    case WEX__OP_DROP: return pop_any(v, at, &t);
    case WEX__OP_SELECT:
        if (!pop(v, at, WEX__T_I32) || !pop_any(v, at, &t1) || !pop_any(v, at, &t2)) return false;
        if (wex__is_reftype(t1) || wex__is_reftype(t2) || t1 == WEX__T_V128 || t2 == WEX__T_V128)
            return fail(v, at, "type mismatch: select without a type needs numeric operands");
        if (t1 != t2 && t1 != WEX__T_UNKNOWN && t2 != WEX__T_UNKNOWN)
            return fail(v, at, "type mismatch: select of %s and %s", wex__valid_typename(t2),
                        wex__valid_typename(t1));
        return push(v, t1 == WEX__T_UNKNOWN ? t2 : t1);
    case WEX__OP_SELECT_T:
        if (!rd_u32(r, &n)) return false;
        if (n != 1) return fail(v, at, "invalid result arity");
        if (!rd_u8(r, &t)) return false;
        if (!pop(v, at, WEX__T_I32) || !pop(v, at, t) || !pop(v, at, t)) return false;
        return push(v, t);

    case WEX__OP_LOCAL_GET:
    case WEX__OP_LOCAL_SET:
    case WEX__OP_LOCAL_TEE:
        if (!rd_u32(r, &x)) return false;
        if (x >= v->nlocals) return fail(v, at, "unknown local %u", x);
        t = v->locals[x];
        if (code == WEX__OP_LOCAL_GET) return push(v, t);
        if (!pop(v, at, t)) return false;
        return code == WEX__OP_LOCAL_TEE ? push(v, t) : true;
    case WEX__OP_GLOBAL_GET:
    case WEX__OP_GLOBAL_SET:
        if (!rd_u32(r, &x)) return false;
        if (x >= m->nglobals) return fail(v, at, "unknown global %u", x);
        t = m->global_types[x].type;
        if (code == WEX__OP_GLOBAL_GET) return push(v, t);
        if (!m->global_types[x].mut) return fail(v, at, "global is immutable");
        return pop(v, at, t);

    case WEX__OP_TABLE_GET:
    case WEX__OP_TABLE_SET: {
        if (!rd_u32(r, &x)) return false;
        const wex__tabletype *tt = need_table(v, at, x);
        if (!tt) return false;
        if (code == WEX__OP_TABLE_GET) return pop(v, at, WEX__T_I32) && push(v, tt->elem);
        return pop(v, at, tt->elem) && pop(v, at, WEX__T_I32);
    }
    case WEX__OP_TABLE_GROW:
    case WEX__OP_TABLE_FILL: {
        if (!rd_u32(r, &x)) return false;
        const wex__tabletype *tt = need_table(v, at, x);
        if (!tt) return false;
        if (code == WEX__OP_TABLE_GROW)
            return pop(v, at, WEX__T_I32) && pop(v, at, tt->elem) && push(v, WEX__T_I32);
        return pop(v, at, WEX__T_I32) && pop(v, at, tt->elem) && pop(v, at, WEX__T_I32);
    }

    case WEX__OP_REF_NULL:
        if (!rd_u8(r, &t)) return false;
        if (!wex__is_reftype(t)) return fail(v, at, "malformed reference type 0x%02x", t);
        return push(v, t);
    case WEX__OP_REF_IS_NULL:
        if (!pop_any(v, at, &t)) return false;
        if (t != WEX__T_UNKNOWN && !wex__is_reftype(t))
            return fail(v, at, "type mismatch: ref.is_null of %s", wex__valid_typename(t));
        return push(v, WEX__T_I32);
    case WEX__OP_REF_FUNC:
        if (!rd_u32(r, &x)) return false;
        if (x >= m->nfuncs) return fail(v, at, "unknown function %u", x);
        if (!m->func_declared || !m->func_declared[x])
            return fail(v, at, "undeclared function reference %u", x);
        return push(v, WEX__T_FUNCREF);

    default: {
        unsigned slot = code < 0x100          ? code
                        : (code >> 8) == 0xFC ? code - 0xFC00 + 0x100
                        : (code >> 8) == 0xFE ? code - 0xFE00 + 0x200
                                              : 0x300;
        const wex__opinfo *info =
            slot < 0x300 && op_slot[slot] ? &wex__ops[op_slot[slot] - 1] : NULL;
        if (!info || info->sig[0] == '*')
            return fail(v, at, "unknown operator 0x%x", (unsigned)code);
        if (!simple_imm(v, r, at, info)) return false;
        return apply_sig(v, at, info->sig);
    }
    }
}

/*
 * One body: locals, then the function's own frame (whose label is the
 * function's results, for br to depth 0 and return), then instructions up to
 * the end that closes that frame.
 */
wex_error_t *wex__valid_func(wex__valid_ctx *v, uint32_t funcidx) {
    wex__module *m = v->m;
    const wex__code *c = &m->codes[funcidx - m->nfunc_imports];
    const wex__functype *ft = wex__module_functype(m, funcidx);
    v->err = NULL;
    v->nvals = 0;
    v->nctrls = 0;
    v->max_vals = 0;
    if (!setup_locals(v, ft, c)) return v->err;
    if (c->expr_off > m->len || c->off + (uint64_t)c->len > m->len || c->expr_off > c->off + c->len)
        return wex__error_at(WEX_ERR_INVALID, c->off, "function body out of range");
    wex__reader r;
    wex__reader_init(&r, m->bytes + c->expr_off, c->off + c->len - c->expr_off, m->bytes);
    push_ctrl(v, c->off, 0, NULL, 0, ft->types + ft->nparams, ft->nresults);
    bool done = false;
    while (!done) {
        size_t at = wex__reader_off(&r);
        uint8_t op;
        uint32_t code;
        if (!rd_u8(&r, &op)) {
            read_failed(v, &r);
            break;
        }
        code = op;
        if (op == 0xFC || op == 0xFE) {
            uint32_t sub;
            if (!rd_u32(&r, &sub)) {
                read_failed(v, &r);
                break;
            }
            code = sub <= 0xFF ? (uint32_t)op << 8 | sub : 0xFFFFFFFF;
        }
        v->at = at;
        if (!check_instr(v, &r, at, code, &done)) {
            if (!v->err) read_failed(v, &r);
            break;
        }
    }
    if (!v->err && wex__reader_left(&r) != 0)
        fail(v, wex__reader_off(&r), "operators remaining after end of function");
    wex_error_t *e = v->err;
    v->err = NULL;
    return e;
}

/* The buffers outlive one body so that the next reuses them. */
void wex__valid_ctx_free(wex__valid_ctx *v) {
    wex__free(v->vals);
    wex__free(v->ctrls);
    wex__free(v->locals);
    v->vals = NULL;
    v->ctrls = NULL;
    v->locals = NULL;
    v->capvals = v->capctrls = v->caplocals = 0;
}
