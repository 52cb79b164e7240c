/*
 * compile.c - translation of validated function bodies into internal code.
 *
 * One pass per body. The translator keeps a compile-time model of the
 * operand stack in which each entry names the slot that holds its value:
 * either the entry's own ("canonical") slot, or a local's slot. local.get
 * therefore emits nothing; the next operator reads the local directly. Such
 * references are made canonical ("materialised") wherever the value must sit
 * in its own slot: before the local is written, at block boundaries, for call
 * arguments and branch values. local.set after an operator that just wrote
 * the top of the stack rewrites that operator's destination to the local, so
 * `local.get a; local.get b; i32.add; local.set c` becomes one instruction.
 *
 * Constants and i32 additions are "pending" entries: nothing is emitted
 * until a consumer sees them, so a constant becomes an immediate operand
 * (`x + 1` is I32_ADD_IMM, `x < 10` I32_LT_S_IMM), an address computed as
 * `base + k` or `base + index` folds into the load or store that uses it,
 * and a store of a constant address needs no register. A pending entry reads
 * only locals, its own slot and the slot above it (computed before anything
 * is pushed there), so it can be computed into any slot later without
 * another entry's write getting in the way.
 *
 * The body is known to be valid, so only stack heights are tracked (all slots
 * are 64 bits wide): the translator never re-checks types.
 */
#include "interp/interp.h"

#include <stdlib.h>

#define NONE UINT32_MAX

typedef struct {
    uint8_t kind;    /* wex__opindex of BLOCK, LOOP, IF; ELSE after else; END_FUNC */
    bool dead;       /* the rest of this block is unreachable */
    uint32_t height; /* stack entries below the block's params */
    uint32_t nparams, nresults;
    uint32_t loop_pc;    /* LOOP: where branches go */
    uint32_t patch;      /* chain of forward-branch sites to resolve at end (+1), 0 = none */
    uint32_t else_patch; /* IF: site of the false-branch offset (+1), 0 = none */
} ctrl;

enum { K_BLOCK, K_LOOP, K_IF, K_ELSE, K_FUNC };

/* A modelled operand-stack entry. */
enum { E_SLOT, E_CONST, E_ADDI, E_LEA, E_SHLI, E_FMUL, E_LOAD, E_SHIFT, E_XROT };
/* Shift kinds of E_SHIFT (in lop), in the order of WEX__IOPS_SHOPS. */
enum { SH_SHL, SH_SHR_S, SH_SHR_U, SH_ROTL, SH_ROTR };
/* Address forms of a pending load (as the LOAD_* families, see interp.h). */
enum { F_P, F_I, F_R, F_S, F_K };
typedef struct {
    uint8_t kind; /* E_SLOT: in slot a (its own or a local's); E_CONST: k (wide: 64 bits);
                     i32 ones: E_ADDI a + k; E_LEA a + (b << s) + k (a NONE: no a);
                     E_SHLI a << s; E_FMUL: a * b, f64 if wide, else f32;
                     E_LOAD: load lop (0 = i32.load ...) at form's address + off;
                     E_SHIFT: i32 a shifted or rotated (kind lop) by s;
                     E_XROT: by lop, 0: rotl(a, s) ^ rotl(a, b); 1: rotl(a, s) ^ (a >> b);
                     2: (form 0) ^ rotl(a, k); 3: (form 0) ^ (a >> k) */
    bool wide;
    uint8_t s;
    uint32_t a, b;
    uint64_t k;
    uint8_t form, lop;
    uint32_t off;
    uint32_t woff; /* E_LOAD: module offset of the load, for the backtrace side table */
} ventry;

typedef struct {
    const wex__module *m;
    wex__reader r;
    /* output */
    uint32_t *code;
    size_t len, cap;
    size_t fstart; /* first word of this function */
    /* operand stack model */
    ventry *vs;
    uint32_t nvs, capvs;
    uint32_t di; /* the defined function being translated */
    uint32_t nlocals;
    uint32_t max_slots;
    /* br_table label depths, reused */
    uint32_t *depths;
    uint32_t capdepths;
    /* control stack */
    ctrl *cs;
    uint32_t ncs, capcs;
    /* the destination word of the last emitted value-producing instruction */
    size_t last_dst_site;
    uint32_t last_dst_pos;
    /* where the last instruction starts (for compare-and-branch fusion) */
    size_t last_op_start;
    size_t prev_op_start; /* the one before it, NONE across a label */
    uint32_t pload;       /* the entry that is a pending load, or NONE (keeps_load) */
    bool ret_tail;        /* see dead_after_return */
    /* Straight-line start of a body (no control operator yet): declared
     * locals not yet written still hold the zero the call gave them. */
    bool prologue;
    uint8_t *written; /* per local, during the prologue: 0 untouched, 1 written first,
                         2 read first or relied on being zero */
    uint32_t capwritten;
    uint32_t nparams;
    uint32_t ndup; /* loop heads copied in this body (dup_loop_head) */
    uint8_t *mark; /* per br_table entry, reused (dup_loop_head) */
    uint32_t capmark;
    bool in_table; /* emitting a br_table's stubs: its entries are not all set yet */
    /* the start of the instruction before prev_op_start (loop_addi_extra) */
    size_t pprev_op_start;
    /* at the last i32.eqz: the float comparison it read and the float
     * operation before that (see try_fuse_fcmp), or NONE */
    size_t eqz_fcmp, eqz_fprev;
    bool oom;
    /* backtrace side table (see wex__compiled.pcmap) */
    uint32_t op_off; /* module offset of the operator being translated */
    uint32_t *pcmap;
    size_t npc, cappc; /* pairs */
    wex__buf tyrel;    /* (code word, type index) pairs: see wex__compiled.tyrel */
    wex__buf lcalls;   /* code words of CALL_L instructions, completed at the end */
    wex__buf lfused;   /* (site, X's length) of lcalls an X_CALL_L carries (ascending) */
    /* this body's bit-test branches, ascending (compile_branch.h's thr_*) */
    uint32_t *thr;
    uint32_t nthr, capthr;
    size_t thr_top; /* the last of them, 0 if none */
} comp;

/* Note that the word about to be emitted belongs to the current operator.
 * Code the translator took back (a fused constant) drops its pairs. */
static void pcmap_note(comp *c) {
    while (c->npc && c->pcmap[2 * (c->npc - 1)] >= c->len)
        c->npc--;
    if (c->npc && c->pcmap[2 * (c->npc - 1) + 1] == c->op_off) return;
    if (c->npc == c->cappc) {
        size_t n = c->cappc ? c->cappc * 2 : 256;
        uint32_t *q = wex__realloc(c->pcmap, n * 2 * sizeof *q);
        if (!q) {
            c->oom = true;
            return;
        }
        c->pcmap = q;
        c->cappc = n;
    }
    c->pcmap[2 * c->npc] = (uint32_t)c->len;
    c->pcmap[2 * c->npc + 1] = c->op_off;
    c->npc++;
}

/* Grow an array, recording out-of-memory once. */
static bool grow(comp *c, void **p, uint32_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return true;
    size_t n = *cap ? *cap : 16;
    while (n < need)
        n *= 2;
    void *q = wex__realloc(*p, n * elem);
    if (!q) {
        c->oom = true;
        return false;
    }
    *p = q;
    *cap = (uint32_t)n;
    return true;
}

/* Append one word; the code array grows geometrically. */
static void emit(comp *c, uint32_t w) {
    if (WEX__UNLIKELY(!c->npc || c->pcmap[2 * (c->npc - 1) + 1] != c->op_off ||
                      c->pcmap[2 * (c->npc - 1)] >= c->len))
        pcmap_note(c);
    if (c->len == c->cap) {
        size_t n = c->cap ? c->cap * 2 : 1024;
        uint32_t *q = wex__realloc(c->code, n * sizeof *q);
        if (!q) {
            c->oom = true;
            c->len = 0;
            return;
        }
        c->code = q;
        c->cap = n;
    }
    c->code[c->len++] = w;
}

/* The slot of stack entry i when it lives in its own slot. */
static uint32_t pos_of(comp *c, uint32_t i) {
    return c->nlocals + i;
}

static void thr_note(comp *c, uint32_t op);
/* Start an instruction: it is no longer the last value producer. */
static void emit_op(comp *c, uint32_t op) {
    if (WEX__UNLIKELY(c->thr_top >= c->len)) thr_note(c, 0); /* code taken back */
    c->last_dst_site = NONE;
    c->pprev_op_start = c->prev_op_start;
    c->prev_op_start = c->last_op_start;
    c->last_op_start = c->len;
    emit(c, op);
}

/* A label or a rewrite: nothing before may be fused with what follows. */
static void barrier(comp *c) {
    c->last_dst_site = NONE;
    c->last_op_start = NONE;
    c->prev_op_start = NONE;
    c->pprev_op_start = NONE;
}

/*
 * Compare-and-branch fusion. A branch on the result of an i32 comparison
 * that was the last instruction emitted drops the comparison and branches on
 * its operands. Its operands stay valid: they are locals, immediates, or the
 * comparison's own stack slot, which nothing else writes.
 */
typedef struct {
    uint32_t op; /* 0: plain; else the comparison's opcode */
    uint32_t a, b;
    size_t prev; /* start of the instruction before the comparison, or NONE */
    /* start of the one before prev, or NONE */
    size_t pprev;
    uint32_t k2; /* a BR_F64_*_IMM's second immediate word */
    size_t mv;   /* start of a MOVE right before an I32_EQZ comparison, or NONE */
} fused;

static bool is_cmp(uint32_t op) {
    return (op >= WEX__IOP_I32_EQ && op <= WEX__IOP_I32_GE_U) ||
           (op >= WEX__IOP_I32_EQ_IMM && op <= WEX__IOP_I32_GE_U_IMM) || op == WEX__IOP_I32_EQZ ||
           op == WEX__IOP_I32_AND || op == WEX__IOP_I32_AND_IMM; /* bit tests */
}

/* Is the instruction at p an I32_ADD_IMM or I32_ADD_IMM2 ending at `end`? */
static bool addi_ends_at(comp *c, size_t p, size_t end) {
    return p != NONE && ((p + 4 == end && c->code[p] == WEX__IOP_I32_ADD_IMM) ||
                         (p + 7 == end && c->code[p] == WEX__IOP_I32_ADD_IMM2));
}

static bool try_fuse_fcmp(comp *c, uint32_t cond, fused *f);
static void fpair_merge(comp *c);
static void ipair_merge(comp *c);
static void emit_fcond(comp *c, const fused *f, bool when);

static fused try_fuse(comp *c, uint32_t cond) {
    fused f = {0, cond, 0, NONE, NONE, 0, NONE};
    if (!c->oom && cond < c->nlocals && addi_ends_at(c, c->last_op_start, c->len)) {
        f.prev = c->last_op_start; /* br_if on a local just stepped (try_fuse_addi) */
        f.pprev = c->prev_op_start;
    }
    if (c->oom || c->last_op_start == NONE || c->last_dst_site != c->last_op_start + 1 ||
        c->last_dst_pos != cond || cond != pos_of(c, c->nvs))
        return f;
    f.prev = f.pprev = NONE;
    if (try_fuse_fcmp(c, cond, &f)) return f;
    uint32_t op = c->code[c->last_op_start];
    if (!is_cmp(op)) return f;
    f.op = op;
    if (op == WEX__IOP_I32_EQZ && c->prev_op_start != NONE &&
        c->prev_op_start + 3 == c->last_op_start && c->code[c->prev_op_start] == WEX__IOP_MOVE)
        f.mv = c->prev_op_start; /* `if (!(p = f()))`: move_br_if */
    f.a = c->code[c->last_op_start + 2];
    f.b = op == WEX__IOP_I32_EQZ ? 0 : c->code[c->last_op_start + 3];
    if (c->prev_op_start != NONE && (c->prev_op_start + 4 == c->last_op_start ||
                                     addi_ends_at(c, c->prev_op_start, c->last_op_start))) {
        f.prev = c->prev_op_start;
        f.pprev = c->pprev_op_start;
    }
    c->len = c->last_op_start;
    if (op == WEX__IOP_I32_EQZ && f.prev != NONE && f.a == cond &&
        (c->code[f.prev] == WEX__IOP_I32_AND || c->code[f.prev] == WEX__IOP_I32_AND_IMM) &&
        c->code[f.prev + 1] == cond) {
        /* eqz(a & b): a bit test that is true when the bits are clear */
        bool imm = c->code[f.prev] == WEX__IOP_I32_AND_IMM;
        f.op = imm ? WEX__IOP_BR_I32_TEST_Z_IMM : WEX__IOP_BR_I32_TEST_Z;
        f.a = c->code[f.prev + 2];
        f.b = c->code[f.prev + 3];
        c->len = f.prev;
        f.prev = f.pprev; /* now the one before the branch (opk_merge) */
        f.pprev = NONE;
    }
    barrier(c);
    return f;
}

/*
 * Loop back edges: `x = x + k` on a local, then a fused compare-and-branch
 * on x, becomes one instruction (BR_ADDI_*: add, store, compare, branch).
 * Only where the branch directly follows (no moves between): call right
 * after try_fuse. Emits all but the offset word; false if it does not apply.
 */
static void loop_addi_extra(comp *c, size_t pp);
static bool try_fuse_addi(comp *c, const fused *f) {
    /* index in EQ NE LT_S LT_U GT_S GT_U LE_S LE_U GE_S GE_U -> operands swapped */
    static const uint8_t swap[10] = {0, 1, 4, 5, 2, 3, 8, 9, 6, 7};
    if (c->oom || f->prev == NONE ||
        !(!f->op || (f->op >= WEX__IOP_I32_EQ && f->op <= WEX__IOP_I32_GE_U) ||
          (f->op >= WEX__IOP_I32_EQ_IMM && f->op <= WEX__IOP_I32_GE_U_IMM)))
        return false;
    size_t p = f->prev;
    bool two = c->code[p] == WEX__IOP_I32_ADD_IMM2; /* fuse its second add */
    if (!two && c->code[p] != WEX__IOP_I32_ADD_IMM) return false;
    const uint32_t *add = c->code + p + (two ? 4 : 1); /* dst, a, k */
    if (add[0] != add[1] || add[0] >= c->nlocals) return false;
    uint32_t x = add[0], k = add[2], n, other;
    bool imm;
    if (!f->op) { /* br_if x: x != 0 */
        if (f->a != x) return false;
        imm = true, n = 1, other = 0;
    } else {
        imm = f->op >= WEX__IOP_I32_EQ_IMM;
        n = imm ? f->op - WEX__IOP_I32_EQ_IMM : f->op - WEX__IOP_I32_EQ;
        if (f->a == x) {
            other = f->b;
        } else if (!imm && f->b == x) {
            other = f->a;
            n = swap[n];
        } else {
            return false;
        }
    }
    if (two) {
        c->code[p] = WEX__IOP_I32_ADD_IMM;
        c->len = p + 4;
    } else {
        c->len = p;
    }
    emit_op(c, (imm ? WEX__IOP_BR_ADDI_I32_EQ_IMM : WEX__IOP_BR_ADDI_I32_EQ) + n);
    emit(c, x);
    emit(c, k);
    emit(c, other);
    loop_addi_extra(c, two ? p : f->pprev);
    return true;
}

/* A br_if on slot a right after a move that starts at p (the last
 * instruction, no label between): MOVE_BR_IF_Z / MOVE_BR_IF_NZ, whose offset
 * word the caller emits. The move still runs first, so a test of its
 * destination sees the moved value. */
static bool move_br_if(comp *c, size_t p, bool nz, uint32_t a) {
    if (c->oom || c->in_table || p == NONE || c->code[p] != WEX__IOP_MOVE || c->len != p + 3)
        return false;
    c->code[p] = nz ? WEX__IOP_MOVE_BR_IF_NZ : WEX__IOP_MOVE_BR_IF_Z;
    emit(c, a);
    c->last_dst_site = NONE;
    c->prev_op_start = c->pprev_op_start = NONE;
    return true;
}

/* Emit a conditional branch (taken when the condition is `when`), all but
 * its offset word. */
static void emit_cond(comp *c, const fused *f, bool when) {
    /* index in EQ NE LT_S LT_U GT_S GT_U LE_S LE_U GE_S GE_U -> its negation */
    static const uint8_t neg[10] = {1, 0, 8, 9, 6, 7, 4, 5, 2, 3};
    if (f->op >= WEX__IOP_BR_F32_EQ && f->op <= WEX__IOP_BR_F64_NGE_IMM) {
        emit_fcond(c, f, when);
        return;
    }
    if (!f->op) {
        if (move_br_if(c, c->last_op_start, when, f->a)) return;
        emit_op(c, when ? WEX__IOP_BR_IF_NZ : WEX__IOP_BR_IF_Z);
        emit(c, f->a);
        return;
    }
    if (f->op == WEX__IOP_I32_EQZ) { /* eqz(a) is true when a is zero */
        if (move_br_if(c, f->mv, !when, f->a)) return;
        emit_op(c, when ? WEX__IOP_BR_IF_Z : WEX__IOP_BR_IF_NZ);
        emit(c, f->a);
        return;
    }
    if (f->op == WEX__IOP_I32_AND || f->op == WEX__IOP_I32_AND_IMM ||
        f->op == WEX__IOP_BR_I32_TEST_Z || f->op == WEX__IOP_BR_I32_TEST_Z_IMM) {
        /* a & b != 0, or (the TEST_Z ones, from eqz) a & b == 0 */
        bool imm = f->op == WEX__IOP_I32_AND_IMM || f->op == WEX__IOP_BR_I32_TEST_Z_IMM;
        if (f->op == WEX__IOP_BR_I32_TEST_Z || f->op == WEX__IOP_BR_I32_TEST_Z_IMM) when = !when;
        emit_op(c, when ? (imm ? WEX__IOP_BR_I32_TEST_NZ_IMM : WEX__IOP_BR_I32_TEST_NZ)
                        : (imm ? WEX__IOP_BR_I32_TEST_Z_IMM : WEX__IOP_BR_I32_TEST_Z));
        if (imm) thr_note(c, c->code[c->last_op_start]);
        emit(c, f->a);
        emit(c, f->b);
        return;
    }
    bool imm = f->op >= WEX__IOP_I32_EQ_IMM;
    uint32_t k = imm ? f->op - WEX__IOP_I32_EQ_IMM : f->op - WEX__IOP_I32_EQ;
    if (!when) k = neg[k];
    emit_op(c, (imm ? WEX__IOP_BR_I32_EQ_IMM : WEX__IOP_BR_I32_EQ) + k);
    emit(c, f->a);
    emit(c, f->b);
}

/* The immediate form of a binary i32 operator, or 0. */
static uint32_t imm_form(unsigned idx) {
    switch (idx) {
    case WEX__OPI_I32_ADD: return WEX__IOP_I32_ADD_IMM;
    case WEX__OPI_I32_SUB: return WEX__IOP_I32_SUB_IMM;
    case WEX__OPI_I32_MUL: return WEX__IOP_I32_MUL_IMM;
    case WEX__OPI_I32_AND: return WEX__IOP_I32_AND_IMM;
    case WEX__OPI_I32_OR: return WEX__IOP_I32_OR_IMM;
    case WEX__OPI_I32_XOR: return WEX__IOP_I32_XOR_IMM;
    case WEX__OPI_I32_SHL: return WEX__IOP_I32_SHL_IMM;
    case WEX__OPI_I32_SHR_S: return WEX__IOP_I32_SHR_S_IMM;
    case WEX__OPI_I32_SHR_U: return WEX__IOP_I32_SHR_U_IMM;
    case WEX__OPI_I32_ROTL: return WEX__IOP_I32_ROTL_IMM;
    case WEX__OPI_I32_ROTR: return WEX__IOP_I32_ROTR_IMM;
    case WEX__OPI_I32_DIV_S: return WEX__IOP_I32_DIV_S_IMM;
    case WEX__OPI_I32_DIV_U: return WEX__IOP_I32_DIV_U_IMM;
    case WEX__OPI_I32_REM_S: return WEX__IOP_I32_REM_S_IMM;
    case WEX__OPI_I32_REM_U: return WEX__IOP_I32_REM_U_IMM;
    case WEX__OPI_I64_DIV_S: return WEX__IOP_I64_DIV_S_IMM;
    case WEX__OPI_I64_DIV_U: return WEX__IOP_I64_DIV_U_IMM;
    case WEX__OPI_I64_REM_S: return WEX__IOP_I64_REM_S_IMM;
    case WEX__OPI_I64_REM_U: return WEX__IOP_I64_REM_U_IMM;
    case WEX__OPI_I64_ADD: return WEX__IOP_I64_ADD_IMM;
    case WEX__OPI_I64_SUB: return WEX__IOP_I64_SUB_IMM;
    case WEX__OPI_I64_MUL: return WEX__IOP_I64_MUL_IMM;
    case WEX__OPI_I64_AND: return WEX__IOP_I64_AND_IMM;
    case WEX__OPI_I64_OR: return WEX__IOP_I64_OR_IMM;
    case WEX__OPI_I64_XOR: return WEX__IOP_I64_XOR_IMM;
    case WEX__OPI_I64_SHL: return WEX__IOP_I64_SHL_IMM;
    case WEX__OPI_I64_SHR_S: return WEX__IOP_I64_SHR_S_IMM;
    case WEX__OPI_I64_SHR_U: return WEX__IOP_I64_SHR_U_IMM;
    default:
        if (idx >= WEX__OPI_I32_EQ && idx <= WEX__OPI_I32_GE_U)
            return WEX__IOP_I32_EQ_IMM + (idx - WEX__OPI_I32_EQ);
        if (idx >= WEX__OPI_I64_EQ && idx <= WEX__OPI_I64_GE_U)
            return WEX__IOP_I64_EQ_IMM + (idx - WEX__OPI_I64_EQ);
        return 0;
    }
}

/* Does constant entry e fit the immediate word of imm form iop? i64 forms
 * take a sign-extended 32-bit immediate. */
static bool fits_imm(const ventry *e, uint32_t iop) {
    if (e->kind != E_CONST) return false;
    /* division by a constant: never by zero, and signed never by -1 (the
     * forms have no trap checks) */
    if (iop >= WEX__IOP_I32_DIV_S_IMM && iop <= WEX__IOP_I32_REM_U_IMM)
        return !e->wide && (uint32_t)e->k != 0 && (uint32_t)e->k != UINT32_MAX;
    if (iop >= WEX__IOP_I64_DIV_S_IMM && iop <= WEX__IOP_I64_REM_U_IMM)
        return e->wide && (int64_t)e->k > 0 && (int64_t)e->k <= INT32_MAX;
    if (iop >= WEX__IOP_I64_ADD_IMM && iop <= WEX__IOP_I64_GE_U_IMM)
        return e->wide && (int64_t)e->k == (int32_t)(uint32_t)e->k;
    return !e->wide;
}

/* Count stack position i in the frame size. */
static void note_height(comp *c, uint32_t i) {
    uint32_t p = pos_of(c, i);
    if (p + 1 > c->max_slots) c->max_slots = p + 1;
}

static bool reads(const ventry *e, uint32_t x);
static void materialize(comp *c, uint32_t i);
static uint32_t entry_slot(comp *c, const ventry *e, uint32_t i);
static bool is_i32_const(const ventry *e);

static ventry *push_entry(comp *c) {
    if (!grow(c, (void **)&c->vs, &c->capvs, (size_t)c->nvs + 1, sizeof *c->vs)) return NULL;
    /* A pending top entry may read the slot above it (see stable_for):
     * compute it before that slot gets an owner. A push often comes right
     * after an instruction's opcode word (emit_op, then push_result): the
     * computation then goes before that opcode, never among its words. */
    if (c->nvs && c->vs[c->nvs - 1].kind > E_CONST &&
        reads(&c->vs[c->nvs - 1], pos_of(c, c->nvs))) {
        if (!c->oom && c->last_op_start != NONE && c->last_op_start + 1 == c->len) {
            uint32_t op = c->code[--c->len];
            materialize(c, c->nvs - 1);
            emit_op(c, op);
        } else {
            materialize(c, c->nvs - 1);
        }
    }
    note_height(c, c->nvs);
    ventry *e = &c->vs[c->nvs++];
    memset(e, 0, sizeof *e);
    return e;
}

/* Push a canonical entry and return its slot. */
static uint32_t push(comp *c) {
    ventry *e = push_entry(c);
    if (!e) return 0;
    e->kind = E_SLOT;
    e->a = pos_of(c, c->nvs - 1);
    return e->a;
}

/* Push a value just written by the instruction whose destination word is the
 * last one emitted. */
static void push_result(comp *c) {
    uint32_t slot = push(c);
    emit(c, slot);
    c->last_dst_site = c->len - 1;
    c->last_dst_pos = slot;
}

static void push_ref(comp *c, uint32_t slot) {
    ventry *e = push_entry(c);
    if (!e) return;
    e->kind = E_SLOT;
    e->a = slot;
}

static void push_const(comp *c, uint64_t k, bool wide) {
    ventry *e = push_entry(c);
    if (!e) return;
    e->kind = E_CONST;
    e->k = k;
    e->wide = wide;
}

/* Does entry e read slot x? */
static bool reads(const ventry *e, uint32_t x) {
    switch (e->kind) {
    case E_SLOT:
    case E_ADDI:
    case E_SHIFT:
    case E_XROT:
    case E_SHLI: return e->a == x;
    case E_LEA:
    case E_FMUL: return e->a == x || e->b == x;
    case E_LOAD:
        return ((e->form == F_P || e->form == F_I || e->form == F_R) && e->a == x) ||
               ((e->form == F_R || e->form == F_S) && e->b == x);
    default: return false;
    }
}

/* The address of an access whose address entry was popped from position
 * ai: a pending E_LOAD-shaped entry (form, slots, offset), computing the
 * address into a slot first only when no form takes it. */
static ventry addr_of(comp *c, ventry *ae, uint32_t ai, uint32_t off) {
    ventry m;
    memset(&m, 0, sizeof m);
    m.kind = E_LOAD;
    m.off = off;
    m.woff = c->op_off; /* the load or store being translated */
    if (ae->kind == E_ADDI) {
        m.form = F_I, m.a = ae->a, m.k = (uint32_t)ae->k;
    } else if (ae->kind == E_LEA && ae->a == NONE) {
        m.form = F_S, m.b = ae->b, m.s = ae->s, m.k = (uint32_t)ae->k;
    } else if (ae->kind == E_LEA) {
        m.form = F_R, m.a = ae->a, m.b = ae->b, m.s = ae->s, m.k = (uint32_t)ae->k;
    } else if (is_i32_const(ae)) {
        m.form = F_K, m.k = (uint32_t)ae->k;
    } else {
        m.form = F_P, m.a = entry_slot(c, ae, ai);
    }
    return m;
}

/* The operand words of address m (after any destination or value). */
static void emit_addr_words(comp *c, const ventry *m) {
    switch (m->form) {
    case F_P: emit(c, m->a); break;
    case F_I:
        emit(c, m->a);
        emit(c, (uint32_t)m->k);
        break;
    case F_R:
        emit(c, m->a);
        emit(c, m->b);
        emit(c, m->s);
        emit(c, (uint32_t)m->k);
        break;
    case F_S:
        emit(c, m->b);
        emit(c, m->s);
        emit(c, (uint32_t)m->k);
        break;
    case F_K: emit(c, (uint32_t)m->k); break;
    }
}

/* Emit load or store `idx` at address m: a load into slot x, or a store of
 * slot x. */
static void emit_addr_op(comp *c, const ventry *m, unsigned idx, uint32_t x) {
    bool load = idx <= WEX__OPI_I64_LOAD32_U;
    uint32_t k = load ? idx - WEX__OPI_I32_LOAD : idx - WEX__OPI_I32_STORE;
    static const uint32_t lforms[] = {WEX__IOP_I32_LOAD, WEX__IOP_I32_LOAD_I, WEX__IOP_I32_LOAD_R,
                                      WEX__IOP_I32_LOAD_S, WEX__IOP_I32_LOAD_K};
    static const uint32_t sforms[] = {WEX__IOP_I32_STORE, WEX__IOP_I32_STORE_I,
                                      WEX__IOP_I32_STORE_R, WEX__IOP_I32_STORE_S,
                                      WEX__IOP_I32_STORE_K};
    emit_op(c, (load ? lforms : sforms)[m->form] + k);
    if (load) emit(c, x);
    emit_addr_words(c, m);
    if (!load) emit(c, x);
    emit(c, m->off);
    if (load) {
        c->last_dst_site = c->last_op_start + 1;
        c->last_dst_pos = x;
    }
}

static bool pair_merge(comp *c, bool is_const, uint32_t dst, uint32_t x);
/* A copy between slots; one right after another (no label between) joins
 * it, up to MOVE4 (runs of copies, as when a loop rotates its variables). */
static void emit_move(comp *c, uint32_t dst, uint32_t src) {
    size_t p = c->last_op_start;
    if (!c->oom && p != NONE &&
        ((p + 3 == c->len && c->code[p] == WEX__IOP_MOVE) ||
         (p + 5 == c->len && c->code[p] == WEX__IOP_MOVE2) ||
         (p + 7 == c->len && c->code[p] == WEX__IOP_MOVE3))) {
        c->code[p] += 1; /* MOVE -> MOVE2 -> MOVE3 -> MOVE4 */
        emit(c, dst);
        emit(c, src);
        c->prev_op_start = NONE;
        return;
    }
    if (pair_merge(c, false, dst, src)) return;
    emit_op(c, WEX__IOP_MOVE);
    emit(c, dst);
    emit(c, src);
}

/* An I32_ADD_IMM just emitted right after another (no label between) joins
 * it as an I32_ADD_IMM2 (`p++; n--`). Returns the site of its destination
 * word. */
static size_t merge_addi(comp *c) {
    size_t q = c->last_op_start, p = c->prev_op_start;
    if (c->oom || p == NONE || p + 4 != q || q + 4 != c->len ||
        c->code[p] != WEX__IOP_I32_ADD_IMM || c->code[q] != WEX__IOP_I32_ADD_IMM)
        return q + 1;
    c->code[p] = WEX__IOP_I32_ADD_IMM2;
    c->code[q] = c->code[q + 1];
    c->code[q + 1] = c->code[q + 2];
    c->code[q + 2] = c->code[q + 3];
    c->len--;
    c->last_op_start = p;
    c->prev_op_start = NONE;
    return q;
}

/* Emit the instruction(s) that put entry e's value into slot dst. Leaves the
 * model alone (callers update it, or not, on a branch's taken side). */
static void emit_entry_to(comp *c, const ventry *e, uint32_t dst) {
    switch (e->kind) {
    case E_SLOT:
        if (e->a != dst) emit_move(c, dst, e->a);
        return;
    case E_CONST:
        if (e->wide) {
            emit_op(c, WEX__IOP_CONST64);
            emit(c, dst);
            emit(c, (uint32_t)e->k);
            emit(c, (uint32_t)(e->k >> 32));
        } else {
            if (pair_merge(c, true, dst, (uint32_t)e->k)) return;
            emit_op(c, WEX__IOP_CONST32);
            emit(c, dst);
            emit(c, (uint32_t)e->k);
        }
        break;
    case E_ADDI:
        emit_op(c, WEX__IOP_I32_ADD_IMM);
        emit(c, dst);
        emit(c, e->a);
        emit(c, (uint32_t)e->k);
        c->last_dst_site = merge_addi(c);
        c->last_dst_pos = dst;
        return;
    case E_LEA:
        if (e->a == NONE) { /* (b << s) + k */
            emit_op(c, WEX__IOP_I32_SHL_ADD_IMM);
            emit(c, dst);
            emit(c, e->b);
            emit(c, e->s);
            emit(c, (uint32_t)e->k);
        } else if (e->s == 0 && e->k == 0) {
            emit_op(c, WEX__IOP_I32_ADD);
            emit(c, dst);
            emit(c, e->a);
            emit(c, e->b);
        } else {
            emit_op(c, WEX__IOP_I32_LEA);
            emit(c, dst);
            emit(c, e->a);
            emit(c, e->b);
            emit(c, e->s);
            emit(c, (uint32_t)e->k);
        }
        break;
    case E_SHLI:
        emit_op(c, WEX__IOP_I32_SHL_IMM);
        emit(c, dst);
        emit(c, e->a);
        emit(c, e->s);
        break;
    case E_LOAD: {
        /* Emitted late, but a trap here is the load's: note its offset. */
        uint32_t here = c->op_off;
        c->pload = NONE;
        c->op_off = e->woff;
        emit_addr_op(c, e, WEX__OPI_I32_LOAD + e->lop, dst);
        c->op_off = here;
        return;
    }
    case E_SHIFT: {
        static const uint32_t ops[] = {WEX__IOP_I32_SHL_IMM, WEX__IOP_I32_SHR_S_IMM,
                                       WEX__IOP_I32_SHR_U_IMM, WEX__IOP_I32_ROTL_IMM,
                                       WEX__IOP_I32_ROTR_IMM};
        emit_op(c, ops[e->lop]);
        emit(c, dst);
        emit(c, e->a);
        emit(c, e->s);
        break;
    }
    case E_FMUL:
        emit_op(c, e->wide ? WEX__IOP_F64_MUL : WEX__IOP_F32_MUL);
        emit(c, dst);
        emit(c, e->a);
        emit(c, e->b);
        break;
    case E_XROT:
        emit_op(c, WEX__IOP_I32_XROT2 + e->lop); /* XROT2 XROT_SHR XROT3 XROT2_SHR */
        emit(c, dst);
        emit(c, e->a);
        emit(c, e->s);
        emit(c, e->b);
        if (e->lop >= 2) emit(c, (uint32_t)e->k);
        break;
    }
    c->last_dst_site = c->last_op_start + 1;
    c->last_dst_pos = dst;
    if (e->kind == E_FMUL) fpair_merge(c);
    if (e->kind == E_LEA) ipair_merge(c);
}

/* Make entry i live in its own slot. */
static void materialize(comp *c, uint32_t i) {
    uint32_t p = pos_of(c, i);
    ventry *e = &c->vs[i];
    if (e->kind == E_SLOT && e->a == p) return;
    emit_entry_to(c, e, p);
    e->kind = E_SLOT;
    e->a = p;
}

static void materialize_from(comp *c, uint32_t from) {
    for (uint32_t i = from; i < c->nvs; i++)
        materialize(c, i);
}

/* Before local x is written: entries that read x must take its old value
 * (all but the top `keep` entries, which the caller handles). */
static void materialize_local(comp *c, uint32_t x, uint32_t keep) {
    for (uint32_t i = 0; i + keep < c->nvs; i++)
        if (reads(&c->vs[i], x)) materialize(c, i);
}

static bool refers_to(comp *c, uint32_t x) {
    for (uint32_t i = 0; i < c->nvs; i++)
        if (reads(&c->vs[i], x)) return true;
    return false;
}

/* Pop an entry as it is (it may be pending). */
static ventry pop_entry(comp *c) {
    ventry e = {.kind = E_SLOT, .wide = false, .s = 0, .a = 0, .b = 0, .k = 0};
    if (c->nvs) e = c->vs[--c->nvs];
    return e;
}

/* Pop an entry into a slot: a pending one is computed into its own slot; a
 * local's stays where it is. */
static uint32_t pop(comp *c) {
    if (!c->nvs) return 0;
    if (c->vs[c->nvs - 1].kind != E_SLOT) materialize(c, c->nvs - 1);
    return c->vs[--c->nvs].a;
}

/* The slot of a popped entry that was at stack position i, computing it into
 * its own slot if it is pending. */
static uint32_t entry_slot(comp *c, const ventry *e, uint32_t i) {
    if (e->kind == E_SLOT) return e->a;
    emit_entry_to(c, e, pos_of(c, i));
    return pos_of(c, i);
}

/* May a pending entry at stack position i read slot x? Locals and its own
 * slot are never written while it waits; the slot above it only once
 * something is pushed there, and push_entry computes it first. */
static bool stable_for(comp *c, uint32_t x, uint32_t i) {
    return x < c->nlocals || x == pos_of(c, i) || x == pos_of(c, i + 1);
}

static bool is_i32_const(const ventry *e) {
    return e->kind == E_CONST && !e->wide;
}

/* A branch offset is relative to the word that holds it. */
static void set_target(comp *c, size_t site, size_t target) {
    c->code[site] = (uint32_t)((int64_t)target - (int64_t)site);
}

/* Resolve a chain of forward sites to `target`. */
static void resolve(comp *c, uint32_t chain, size_t target) {
    while (chain) {
        size_t site = chain - 1;
        uint32_t next = c->code[site];
        set_target(c, site, target);
        chain = next;
    }
}

/* Emit the offset word of a branch to control frame t. */
static void emit_target(comp *c, ctrl *t) {
    if (t->kind == K_LOOP) {
        emit(c, 0);
        if (!c->oom) set_target(c, c->len - 1, t->loop_pc);
    } else {
        emit(c, t->patch);
        t->patch = (uint32_t)c->len; /* site + 1 */
    }
}

static uint32_t label_arity(const ctrl *t) {
    return t->kind == K_LOOP ? t->nparams : t->nresults;
}

/* Do the values for a branch to t need moving? */
static bool branch_needs_moves(comp *c, const ctrl *t) {
    uint32_t a = label_arity(t);
    for (uint32_t j = 0; j < a; j++) {
        const ventry *e = &c->vs[c->nvs - a + j];
        if (e->kind != E_SLOT || e->a != pos_of(c, t->height + j)) return true;
    }
    return false;
}

/* Move the top `a` values to the label's slots. Ascending order is safe:
 * sources are locals (below every destination) or canonical slots at or
 * above their destination, and a pending entry reads only locals and its
 * own slot, which no earlier destination can be. */
static void branch_moves(comp *c, const ctrl *t) {
    uint32_t a = label_arity(t);
    for (uint32_t j = 0; j < a; j++)
        emit_entry_to(c, &c->vs[c->nvs - a + j], pos_of(c, t->height + j));
}

/* Set by the callers of emit_return when nothing after the return is
 * reachable on the path that reaches it (the `return` operator, the
 * function's end), so the producer of the result may write slot 0 directly:
 * on a br_if's taken side the fall-through path still needs its slot. */
static bool dead_after_return(comp *c) {
    return c->ret_tail;
}

/* A C function's epilogue, `__stack_pointer = fp + N` (GLOBAL_SET_ADDI)
 * right before its return: the set becomes the head of fused, whose return
 * (and RET1's src word, which the caller emits) follows. A label in between
 * clears last_op_start. Returns false if the last instruction is another. */
static bool ret_fuse_epilogue(comp *c, uint32_t fused) {
    size_t p = c->last_op_start;
    if (c->oom || p == NONE || p + 4 != c->len || c->code[p] != WEX__IOP_GLOBAL_SET_ADDI)
        return false;
    c->code[p] = fused;
    return true;
}

/* Return: results to slots 0..n-1, then RET (RET1 src for one result). */
static void emit_return(comp *c) {
    uint32_t n = c->cs[0].nresults;
    if (n == 1) {
        const ventry *e = &c->vs[c->nvs - 1];
        uint32_t src = e->a;
        if (e->kind != E_SLOT) {
            emit_entry_to(c, e, 0); /* computed straight into slot 0 */
        } else if (src != 0 && src == pos_of(c, c->nvs - 1) && c->last_dst_site != NONE &&
                   c->last_dst_pos == src && !c->cs[c->ncs - 1].dead && dead_after_return(c)) {
            /* The instruction that just produced the result writes slot 0
             * itself: nothing runs between it and this return. */
            c->code[c->last_dst_site] = 0;
        } else if (src != 0) {
            if (ret_fuse_epilogue(c, WEX__IOP_GLOBAL_SET_ADDI_RET1)) {
                emit(c, src);
                barrier(c);
                return;
            }
            emit_op(c, WEX__IOP_RET1);
            emit(c, src);
            return;
        }
    } else if (n > 1) {
        /* Compute local references and pending entries into their own slots
         * first (without changing the model: this may be the taken side of a
         * br_if), then move down. */
        for (uint32_t j = 0; j < n; j++) {
            uint32_t i = c->nvs - n + j;
            emit_entry_to(c, &c->vs[i], pos_of(c, i));
        }
        for (uint32_t j = 0; j < n; j++) {
            uint32_t src = pos_of(c, c->nvs - n + j);
            if (src != j) emit_move(c, j, src);
        }
    }
    /* `return x + y`, `return k`: the instruction that wrote slot 0 returns
     * too (its dst word, 0, dropped). */
    size_t p = c->last_op_start;
    uint32_t w = p == NONE ? 0 : (uint32_t)(c->len - p);
    if (n == 1 && !c->oom && p != NONE && c->code[p + 1] == 0 &&
        ((w == 4 && c->code[p] == WEX__IOP_I32_ADD) ||
         (w == 3 && c->code[p] == WEX__IOP_CONST32))) {
        c->code[p] = w == 4 ? WEX__IOP_I32_ADD_RET : WEX__IOP_CONST32_RET;
        memmove(c->code + p + 1, c->code + p + 2, (w - 2) * sizeof *c->code);
        c->len--;
        barrier(c);
        return;
    }
    if (ret_fuse_epilogue(c, WEX__IOP_GLOBAL_SET_ADDI_RET)) {
        barrier(c);
        return;
    }
    emit_op(c, WEX__IOP_RET);
}

/*
 * The instruction just before a direct call, when it is one that usually
 * sets up an argument (an I32_ADD_IMM as in `f(n - 1)`, a MOVE, MOVE2 or
 * MOVE3, an I32_LOAD of slot + offset), becomes the head of an X_CALL_L:
 * its words stay, its opcode changes, and the call follows whole, so both
 * take one dispatch. Whatever X writes, running it and then the call is
 * what the two did apart; a label in between clears last_op_start, so
 * nothing else reaches the call. A load that traps still names its own
 * operator (the pcmap pair at its first word stays). Returns X's length (0:
 * no fusion); the caller records the call's site for link_calls, which
 * turns X_CALL_L into X_CALL_LZ or X_CALL_LZ1 with the call.
 */
static uint32_t call_fuse_prefix(comp *c) {
    static const struct {
        uint32_t op, fused, words;
    } pre[] = {
        {WEX__IOP_I32_ADD_IMM, WEX__IOP_ADDI_CALL_L, 4},
        {WEX__IOP_MOVE, WEX__IOP_MOVE_CALL_L, 3},
        {WEX__IOP_MOVE2, WEX__IOP_MOVE2_CALL_L, 5},
        {WEX__IOP_MOVE3, WEX__IOP_MOVE3_CALL_L, 7},
        {WEX__IOP_I32_LOAD, WEX__IOP_I32_LOAD_CALL_L, 4},
    };
    size_t p = c->last_op_start;
    if (c->oom || p == NONE) return 0;
    for (size_t k = 0; k < sizeof pre / sizeof pre[0]; k++)
        if (c->code[p] == pre[k].op && p + pre[k].words == c->len) {
            c->code[p] = pre[k].fused;
            return pre[k].words;
        }
    return 0;
}

_Static_assert(WEX__IOP_ADDI_CALL_LZ == WEX__IOP_ADDI_CALL_L + 1 &&
                   WEX__IOP_MOVE_CALL_LZ == WEX__IOP_MOVE_CALL_L + 1 &&
                   WEX__IOP_MOVE2_CALL_LZ == WEX__IOP_MOVE2_CALL_L + 1 &&
                   WEX__IOP_MOVE3_CALL_LZ == WEX__IOP_MOVE3_CALL_L + 1 &&
                   WEX__IOP_I32_LOAD_CALL_LZ == WEX__IOP_I32_LOAD_CALL_L + 1 &&
                   WEX__IOP_ADDI_CALL_LZ1 == WEX__IOP_ADDI_CALL_L + 2 &&
                   WEX__IOP_MOVE_CALL_LZ1 == WEX__IOP_MOVE_CALL_L + 2 &&
                   WEX__IOP_MOVE2_CALL_LZ1 == WEX__IOP_MOVE2_CALL_L + 2 &&
                   WEX__IOP_MOVE3_CALL_LZ1 == WEX__IOP_MOVE3_CALL_L + 2 &&
                   WEX__IOP_I32_LOAD_CALL_LZ1 == WEX__IOP_I32_LOAD_CALL_L + 2,
               "link_calls turns X_CALL_L into X_CALL_LZ / _LZ1 by adding one / two");

/* Is op the L form of an X_CALL_* (see call_fuse_prefix)? */
static bool is_precall_l(uint32_t op) {
    return op == WEX__IOP_ADDI_CALL_L || op == WEX__IOP_MOVE_CALL_L ||
           op == WEX__IOP_MOVE2_CALL_L || op == WEX__IOP_MOVE3_CALL_L ||
           op == WEX__IOP_I32_LOAD_CALL_L;
}

/* The br_table form that runs k adds (1-3) first: the A, A2 or A3 twin of
 * an A form (BR_TABLE_IA, MPA, MIA, MRA, MSA; same order in each family,
 * see wex__brt_hdr). */
static uint32_t brt_aform(uint32_t op, unsigned k) {
    uint32_t i = op - WEX__IOP_BR_TABLE_IA;
    return k == 1 ? op : (k == 2 ? WEX__IOP_BR_TABLE_IA2 : WEX__IOP_BR_TABLE_IA3) + i;
}

/* Limits of loop-head copying (code growth per body, and table size). */
#define WEX__DUP_MAX_PER_BODY 256
#define WEX__DUP_MAX_TABLE    1024

/* The module offset the side table gives code word pos so far. */
static uint32_t pc_offset_of(comp *c, size_t pos) {
    uint32_t off = c->op_off;
    for (size_t k = c->npc; k-- > 0;)
        if (c->pcmap[2 * k] <= pos) {
            off = c->pcmap[2 * k + 1];
            break;
        }
    return off;
}

/*
 * A branch back to a loop whose head is a br_table (an interpreter's
 * `for (;;) switch (*pc)`), possibly after one or two i32 adds or moves:
 * instead of JMP, a copy of the head. That saves the JMP's dispatch, and each
 * copy of the br_table's indirect branch learns its own successor pattern.
 * The copy behaves exactly as the jump would (straight-line code, same
 * slots). Its offsets are rebased; an entry that still waits for its block's
 * end joins that block's chain of forward sites right after the original.
 * Returns false (nothing emitted) if the head is of another shape.
 */
static bool dup_loop_head(comp *c, const ctrl *t) {
    if (c->ndup >= WEX__DUP_MAX_PER_BODY || c->in_table) return false;
    size_t p = t->loop_pc, head[3];
    unsigned nh = 0;
    uint32_t op = 0;
    for (;;) {
        if (p >= c->len || nh == 3) return false;
        op = c->code[p];
        head[nh++] = p;
        if (op == WEX__IOP_I32_ADD_IMM)
            p += 4;
        else if (op == WEX__IOP_I32_ADD_IMM2)
            p += 7;
        else if (op == WEX__IOP_MOVE || op == WEX__IOP_CONST32 || op == WEX__IOP_LOOP_HEAD)
            p += 3;
        else if (op == WEX__IOP_MOVE2 || op == WEX__IOP_CONST32_2 || op == WEX__IOP_MOVE_CONST32 ||
                 op == WEX__IOP_CONST32_MOVE)
            p += 5;
        else
            break;
    }
    uint32_t nword;
    size_t hdr = wex__brt_hdr(op, &nword); /* words before the offsets */
    if (!hdr) return false;
    uint32_t n = c->code[p + nword];
    if (n > WEX__DUP_MAX_TABLE || p + hdr + n + 1 > c->len) return false;
    size_t table = p + hdr;
    /* Which entries still wait for their block's end: those on a chain. */
    if (!grow(c, (void **)&c->mark, &c->capmark, (size_t)n + 1, 1)) return false;
    memset(c->mark, 0, (size_t)n + 1);
    for (uint32_t j = 0; j < c->ncs; j++)
        for (uint32_t ch = c->cs[j].kind == K_LOOP ? 0 : c->cs[j].patch; ch; ch = c->code[ch - 1])
            if (ch - 1 >= table && ch - 1 <= table + n) c->mark[ch - 1 - table] = 1;
    c->ndup++;
    uint32_t saved_off = c->op_off;
    size_t end = table + n + 1;
    /* A head that is one A-form table, copied right after an I32_ADD_IMM or
     * I32_ADD_IMM2 (the step of a case that branches back): the copy takes
     * those adds in before its own (A2, A3), one dispatch fewer. */
    size_t q = c->last_op_start;
    unsigned npre = 0;
    uint32_t pre[6];
    if (nh == 1 && op >= WEX__IOP_BR_TABLE_IA && op <= WEX__IOP_BR_TABLE_MSA && q != NONE &&
        q >= end) {
        if (q + 4 == c->len && c->code[q] == WEX__IOP_I32_ADD_IMM) npre = 1;
        if (q + 7 == c->len && c->code[q] == WEX__IOP_I32_ADD_IMM2) npre = 2;
        if (npre) {
            memcpy(pre, c->code + q + 1, 3 * npre * sizeof *pre);
            c->len = q; /* taken back into the copy */
        }
    }
    for (unsigned h = 0; h < nh; h++) {
        size_t from = head[h], to = h + 1 < nh ? head[h + 1] : end;
        c->op_off = pc_offset_of(c, from); /* a trap in the copy names the same operator */
        emit_op(c, npre ? brt_aform(c->code[from], npre + 1) : c->code[from]);
        size_t at = c->len - 1; /* the copy's opcode word */
        for (size_t w = from + 1; w < to && !c->oom; w++) {
            if (npre && w == from + hdr - 3) /* before the table's own add */
                for (unsigned j = 0; j < 3 * npre; j++)
                    emit(c, pre[j]);
            emit(c, c->code[w]);
        }
        if (h + 1 < nh || c->oom) continue;
        for (uint32_t i = 0; i <= n; i++) {
            size_t os = table + i, ns = at + hdr + 3 * npre + i;
            if (c->mark[i]) {
                c->code[ns] = c->code[os]; /* after os in its chain */
                c->code[os] = (uint32_t)(ns + 1);
            } else {
                set_target(c, ns, (size_t)((int64_t)os + (int32_t)c->code[os]));
            }
        }
    }
    c->op_off = saved_off;
    barrier(c);
    return true;
}

/*
 * A C function's prologue, `global.get sp; i32.const N; i32.sub; local.tee
 * x; global.set sp`, arrives as GLOBAL_GET_I t, sp; I32_ADD_IMM x, t, -N and
 * now the global.set of x: one GLOBAL_ADDI_TEE x, sp, -N instead of three
 * dispatches. t is the global.get's own stack slot, which the add consumed,
 * so nothing reads it again (checked: it must be a stack slot no entry
 * still reads; a local.set may have retargeted the global.get). None of the
 * three can trap. Returns false
 * (nothing emitted) for any other shape.
 */
static bool frame_fuse_prologue(comp *c, uint32_t global, uint32_t val) {
    size_t p = c->prev_op_start, q = c->last_op_start;
    if (c->oom || p == NONE || q != p + 3 || c->len != q + 4) return false;
    const uint32_t *w = c->code;
    if (w[p] != WEX__IOP_GLOBAL_GET_I || w[p + 2] != global || w[q] != WEX__IOP_I32_ADD_IMM ||
        w[q + 2] != w[p + 1] || w[q + 1] != val || val >= c->nlocals || w[p + 1] < c->nlocals ||
        refers_to(c, w[p + 1]))
        return false;
    uint32_t k = w[q + 3];
    c->len = p;
    emit_op(c, WEX__IOP_GLOBAL_ADDI_TEE);
    emit(c, val);
    emit(c, global);
    emit(c, k);
    c->prev_op_start = NONE;
    return true;
}

/* A jump right after a run of value moves (MOVE .. MOVE4; no label between):
 * MOVE_JMP .. MOVE4_JMP, whose offset word the caller emits. Returns false
 * if the last instruction is not such a run. */
static bool frame_fuse_move_jmp(comp *c) {
    static const uint32_t fused[4] = {WEX__IOP_MOVE_JMP, WEX__IOP_MOVE2_JMP, WEX__IOP_MOVE3_JMP,
                                      WEX__IOP_MOVE4_JMP};
    size_t p = c->last_op_start;
    if (c->oom || c->in_table || p == NONE) return false;
    uint32_t k = c->code[p] - WEX__IOP_MOVE; /* MOVE .. MOVE4 are consecutive (emit_move) */
    if (k >= 4 || c->len != p + 3 + 2 * k) return false;
    c->code[p] = fused[k];
    c->last_dst_site = NONE;
    c->prev_op_start = NONE;
    return true;
}

/* Emit a branch to depth d (stack unchanged). */
static void emit_br(comp *c, uint32_t d) {
    ctrl *t = &c->cs[c->ncs - 1 - d];
    if (t->kind == K_FUNC) {
        emit_return(c);
        return;
    }
    branch_moves(c, t);
    if (t->kind == K_LOOP && dup_loop_head(c, t)) return;
    if (frame_fuse_move_jmp(c)) {
        emit_target(c, t);
        return;
    }
    emit_op(c, WEX__IOP_JMP);
    emit_target(c, t);
}

static void block_type(comp *c, int64_t bt, uint32_t *np, uint32_t *nr) {
    if (bt == -64) { /* 0x40: empty */
        *np = *nr = 0;
    } else if (bt < 0) {
        *np = 0;
        *nr = 1;
    } else {
        const wex__functype *ft = &c->m->types[bt];
        *np = ft->nparams;
        *nr = ft->nresults;
    }
}

static void push_ctrl(comp *c, uint8_t kind, uint32_t np, uint32_t nr) {
    if (!grow(c, (void **)&c->cs, &c->capcs, (size_t)c->ncs + 1, sizeof *c->cs)) return;
    ctrl *t = &c->cs[c->ncs++];
    memset(t, 0, sizeof *t);
    t->kind = kind;
    t->nparams = np;
    t->nresults = nr;
    t->height = c->nvs - np;
}

/* The stack after a block ends or restarts: n canonical entries above its base. */
static void reset_stack(comp *c, uint32_t height, uint32_t n) {
    c->nvs = height;
    for (uint32_t j = 0; j < n; j++)
        push(c);
}

static const wex__opinfo *read_op(wex__reader *r) {
    uint8_t b;
    if (!wex__read_u8(r, &b)) return NULL;
    uint32_t code = b;
    if (b == 0xFC || b == 0xFE) {
        uint32_t sub;
        if (!wex__read_u32(r, &sub)) return NULL;
        code = (uint32_t)b << 8 | sub;
    }
    return wex__op_lookup(code);
}

/* Handle `end` of the innermost block. Returns true at the function's end. */
static bool do_end(comp *c) {
    ctrl *t = &c->cs[c->ncs - 1];
    if (t->kind == K_FUNC) {
        c->ret_tail = true;
        if (!t->dead) emit_return(c);
        c->ret_tail = false;
        c->ncs--;
        return true;
    }
    if (!t->dead) materialize_from(c, c->nvs - t->nresults);
    barrier(c); /* a label: other paths arrive here */
    if (t->kind != K_LOOP) resolve(c, t->patch, c->len);
    if (t->else_patch) resolve(c, t->else_patch, c->len);
    uint32_t h = t->height, nr = t->nresults;
    c->ncs--;
    reset_stack(c, h, nr);
    return false;
}

#define WEX__COMPILE_C
#include "interp/compile_atomic.c" /* translate_atomic(): the 0xFE operators */

#include "interp/compile_branch.h" /* branchy integer code (session 5) */
#include "interp/compile_fuse.h"

/* Translate one instruction whose row is `op`. */
static void translate(comp *c, const wex__opinfo *op) {
    wex__reader *r = &c->r;
    unsigned idx = (unsigned)(op - wex__ops);
    uint32_t u, v, n;
    int32_t s32;
    int64_t s64;
    uint8_t b;
    switch (idx) {
    case WEX__OPI_NOP: break;
    case WEX__OPI_UNREACHABLE:
        emit_op(c, WEX__IOP_UNREACHABLE_I);
        c->cs[c->ncs - 1].dead = true;
        break;
    case WEX__OPI_BLOCK:
    case WEX__OPI_LOOP: {
        uint32_t np, nr;
        wex__read_s33(r, &s64);
        block_type(c, s64, &np, &nr);
        materialize_from(c, 0);
        /* Native and automatic tiers: a loop with an empty operand stack
         * and no parameters begins with LOOP_HEAD, where the interpreter
         * can move into the loop's native code (the translator makes
         * entries for the same loops, named by the operator's offset). */
        bool osr = idx == WEX__OPI_LOOP && c->m->tier_entry && np == 0 && c->nvs == 0;
        push_ctrl(c, idx == WEX__OPI_LOOP ? K_LOOP : K_BLOCK, np, nr);
        if (c->oom) return;
        c->cs[c->ncs - 1].loop_pc = (uint32_t)c->len;
        if (idx == WEX__OPI_LOOP)
            barrier(c);
        else /* a block's start is no label: what precedes runs right before it */
            c->last_dst_site = NONE;
        if (osr) {
            emit_op(c, WEX__IOP_LOOP_HEAD);
            emit(c, c->di);
            emit(c, c->op_off);
            barrier(c);
        }
        if (idx == WEX__OPI_LOOP && c->m->epochs) { /* every iteration passes here */
            emit_op(c, WEX__IOP_EPOCH);
            barrier(c);
        }
        break;
    }
    case WEX__OPI_IF: {
        uint32_t np, nr;
        wex__read_s33(r, &s64);
        block_type(c, s64, &np, &nr);
        uint32_t cond = pop(c);
        size_t lb = loadbr_find(c);
        fused f = try_fuse(c, cond);
        materialize_from(c, 0);
        emit_cond(c, &f, false);
        opk_merge(c, &f);
        loadbr_fuse(c, lb);
        emit(c, 0);
        uint32_t site = (uint32_t)c->len;
        push_ctrl(c, K_IF, np, nr);
        if (c->oom) return;
        c->cs[c->ncs - 1].else_patch = site;
        if (!c->oom) c->code[site - 1] = 0; /* end of its chain */
        break;
    }
    case WEX__OPI_ELSE: {
        ctrl *t = &c->cs[c->ncs - 1];
        if (!t->dead) {
            materialize_from(c, c->nvs - t->nresults);
            emit_op(c, WEX__IOP_JMP);
            emit_target(c, t);
        }
        resolve(c, t->else_patch, c->len);
        t->else_patch = 0;
        t->kind = K_ELSE;
        t->dead = false;
        barrier(c);
        reset_stack(c, t->height, t->nparams);
        break;
    }
    case WEX__OPI_BR:
        wex__read_u32(r, &u);
        emit_br(c, u);
        c->cs[c->ncs - 1].dead = true;
        break;
    case WEX__OPI_BR_IF: {
        wex__read_u32(r, &u);
        uint32_t cond = pop(c);
        size_t lb = loadbr_find(c);
        fused f = try_fuse(c, cond);
        ctrl *t = &c->cs[c->ncs - 1 - u];
        if (t->kind != K_FUNC && !branch_needs_moves(c, t)) {
            if (!try_fuse_addi(c, &f)) {
                emit_cond(c, &f, true);
                opk_merge(c, &f);
            }
            loadbr_fuse(c, lb);
            emit_target(c, t);
        } else {
            emit_cond(c, &f, false);
            opk_merge(c, &f);
            loadbr_fuse(c, lb);
            emit(c, 0);
            size_t skip = c->len - 1;
            emit_br(c, u);
            if (!c->oom) set_target(c, skip, c->len);
        }
        barrier(c);
        break;
    }
    case WEX__OPI_BR_TABLE: {
        wex__read_u32(r, &n);
        if (!grow(c, (void **)&c->depths, &c->capdepths, (size_t)n + 1, sizeof *c->depths)) return;
        uint32_t *depths = c->depths; /* reused across br_tables */
        for (uint32_t i = 0; i <= n; i++)
            wex__read_u32(r, &depths[i]);
        ventry ke = pop_entry(c);
        if (ke.kind == E_LOAD && ke.lop == 0 && ke.form != F_K) {
            /* the key loaded from memory (switch on *p): BR_TABLE_M* */
            if (!br_table_addi(c, &ke, 0, n)) {
                emit_op(c, WEX__IOP_BR_TABLE_MP + ke.form);
                emit(c, n);
                emit_addr_words(c, &ke);
                emit(c, ke.off);
            }
            c->pload = NONE;
        } else {
            uint32_t key = entry_slot(c, &ke, c->nvs);
            if (!br_table_addi(c, NULL, key, n)) {
                emit_op(c, WEX__IOP_BR_TABLE_I);
                emit(c, key);
                emit(c, n);
            }
        }
        size_t table = c->len;
        for (uint32_t i = 0; i <= n; i++)
            emit(c, 0);
        c->in_table = true;
        for (uint32_t i = 0; i <= n && !c->oom; i++) {
            ctrl *t = &c->cs[c->ncs - 1 - depths[i]];
            if (t->kind != K_FUNC && !branch_needs_moves(c, t)) {
                if (t->kind == K_LOOP) {
                    set_target(c, table + i, t->loop_pc);
                } else {
                    c->code[table + i] = t->patch;
                    t->patch = (uint32_t)(table + i + 1);
                }
            } else { /* a stub that moves the values, then jumps */
                set_target(c, table + i, c->len);
                emit_br(c, depths[i]);
            }
        }
        c->in_table = false;
        c->cs[c->ncs - 1].dead = true;
        break;
    }
    case WEX__OPI_RETURN:
        c->ret_tail = true;
        emit_return(c);
        c->ret_tail = false;
        c->cs[c->ncs - 1].dead = true;
        break;
    case WEX__OPI_CALL:
    case WEX__OPI_CALL_INDIRECT: {
        const wex__functype *ft;
        uint32_t key = 0, table = 0;
        wex__read_u32(r, &u);
        if (idx == WEX__OPI_CALL) {
            ft = wex__module_functype(c->m, u);
        } else {
            wex__read_u32(r, &table);
            ft = &c->m->types[u];
            key = pop(c);
        }
        uint32_t np = ft->nparams;
        materialize_from(c, c->nvs - np);
        uint32_t base = pos_of(c, c->nvs - np);
        /* The callee's frame starts at base and owns every slot above: a
         * pending entry just below that reads base (the slot above it, see
         * stable_for; only possible with no arguments) is computed first. */
        if (np == 0 && c->nvs && c->vs[c->nvs - 1].kind > E_CONST &&
            reads(&c->vs[c->nvs - 1], base))
            materialize(c, c->nvs - 1);
        if (idx == WEX__OPI_CALL && u >= c->m->nfunc_imports) {
            /* Same instance: no lookup. The callee's frame need and code
             * position are filled in once every body is translated
             * (link_calls). */
            uint32_t plen = call_fuse_prefix(c);
            bool fused = plen != 0;
            uint32_t site = (uint32_t)c->len, rec[2] = {site, plen};
            if (fused && !wex__buf_append(&c->lfused, rec, sizeof rec)) c->oom = true;
            emit_op(c, WEX__IOP_CALL_L);
            if (fused) c->prev_op_start = c->pprev_op_start = NONE; /* not an add before it */
            emit(c, u - c->m->nfunc_imports);
            emit(c, base);
            for (int k = 0; k < 4; k++)
                emit(c, 0);
            if (!wex__buf_append(&c->lcalls, &site, sizeof site)) c->oom = true;
            c->nvs -= np;
            for (uint32_t j = 0; j < ft->nresults; j++)
                push(c);
            break;
        } else if (idx == WEX__OPI_CALL) {
            emit_op(c, WEX__IOP_CALL_I);
            emit(c, u);
        } else {
            emit_op(c, WEX__IOP_CALL_IND_I);
            uint32_t rel[2] = {(uint32_t)c->len, u};
            if (!wex__buf_append(&c->tyrel, rel, sizeof rel)) c->oom = true;
            emit(c, ft->canon);
            emit(c, table);
            emit(c, key);
        }
        emit(c, base);
        c->nvs -= np;
        for (uint32_t j = 0; j < ft->nresults; j++)
            push(c);
        break;
    }
    case WEX__OPI_DROP: pop_entry(c); break;
    case WEX__OPI_SELECT:
    case WEX__OPI_SELECT_T: {
        if (idx == WEX__OPI_SELECT_T) wex__op_skip_imm(r, WEX__IMM_SELECT_T);
        uint32_t cond = pop(c);
        ventry be = pop_entry(c), ae = pop_entry(c);
        uint32_t ai = c->nvs;
        if (is_i32_const(&ae) != is_i32_const(&be)) { /* `c ? 16 : x`: SELECT_IK* */
            bool ka = is_i32_const(&ae);
            uint32_t x = ka ? entry_slot(c, &be, ai + 1) : entry_slot(c, &ae, ai);
            emit_op(c, ka ? WEX__IOP_SELECT_IKA : WEX__IOP_SELECT_IKB);
            push_result(c);
            emit(c, ka ? (uint32_t)ae.k : x);
            emit(c, ka ? x : (uint32_t)be.k);
            emit(c, cond);
            c->last_dst_site = c->len - 4;
            break;
        }
        uint32_t b2 = entry_slot(c, &be, ai + 1), a = entry_slot(c, &ae, ai);
        if (select_cmp(c, a, b2, cond)) break;
        emit_op(c, WEX__IOP_SELECT_I);
        push_result(c);
        emit(c, a);
        emit(c, b2);
        emit(c, cond);
        c->last_dst_site = c->len - 4;
        break;
    }
    case WEX__OPI_LOCAL_GET:
        wex__read_u32(r, &u);
        if (c->prologue && !c->written[u]) c->written[u] = 2; /* read before written */
        push_ref(c, u);
        break;
    case WEX__OPI_LOCAL_SET:
    case WEX__OPI_LOCAL_TEE: {
        wex__read_u32(r, &u);
        ventry *te = &c->vs[c->nvs - 1];
        if (c->prologue && u >= c->nparams && c->written[u] != 1 && te->kind == E_CONST &&
            te->k == 0 && idx == WEX__OPI_LOCAL_SET) {
            pop_entry(c); /* the local is zero already (so the call must zero it) */
            c->written[u] = 2;
            break;
        }
        if (c->prologue && !c->written[u]) c->written[u] = 1;
        if (te->kind == E_SLOT && te->a == u) { /* local.get x; local.set x */
            if (idx == WEX__OPI_LOCAL_SET) pop_entry(c);
            break;
        }
        uint32_t tpos = pos_of(c, c->nvs - 1);
        if (te->kind == E_SLOT && te->a == tpos && c->last_dst_site != NONE &&
            c->last_dst_pos == tpos && !refers_to(c, u)) {
            c->code[c->last_dst_site] = u; /* the producer writes the local */
        } else {
            /* Others that read u take its old value; the top itself (a
             * pending `u + 1`, say) is computed straight into u. */
            materialize_local(c, u, 1);
            emit_entry_to(c, &c->vs[c->nvs - 1], u);
        }
        pop_entry(c);
        c->last_dst_site = NONE; /* written: no second retarget */
        if (idx == WEX__OPI_LOCAL_TEE) push_ref(c, u);
        break;
    }
    case WEX__OPI_GLOBAL_GET:
        wex__read_u32(r, &u);
        emit_op(c, WEX__IOP_GLOBAL_GET_I);
        push_result(c);
        emit(c, u);
        c->last_dst_site = c->len - 2;
        break;
    case WEX__OPI_GLOBAL_SET: {
        wex__read_u32(r, &u);
        if (c->nvs && c->vs[c->nvs - 1].kind == E_ADDI) { /* sp = x + k */
            ventry e = pop_entry(c);
            emit_op(c, WEX__IOP_GLOBAL_SET_ADDI);
            emit(c, u);
            emit(c, e.a);
            emit(c, (uint32_t)e.k);
            break;
        }
        uint32_t val = pop(c); /* may emit: before the instruction starts */
        if (frame_fuse_prologue(c, u, val)) break;
        emit_op(c, WEX__IOP_GLOBAL_SET_I);
        emit(c, u);
        emit(c, val);
        break;
    }
    case WEX__OPI_TABLE_GET: {
        wex__read_u32(r, &u);
        uint32_t i = pop(c);
        emit_op(c, WEX__IOP_TABLE_GET_I);
        push_result(c);
        emit(c, u);
        emit(c, i);
        c->last_dst_site = c->len - 3;
        break;
    }
    case WEX__OPI_TABLE_SET: {
        wex__read_u32(r, &u);
        uint32_t val = pop(c), i = pop(c);
        emit_op(c, WEX__IOP_TABLE_SET_I);
        emit(c, u);
        emit(c, i);
        emit(c, val);
        break;
    }
    case WEX__OPI_TABLE_SIZE:
        wex__read_u32(r, &u);
        emit_op(c, WEX__IOP_TABLE_SIZE_I);
        push_result(c);
        emit(c, u);
        c->last_dst_site = c->len - 2;
        break;
    case WEX__OPI_TABLE_GROW: {
        wex__read_u32(r, &u);
        uint32_t cnt = pop(c), init = pop(c);
        emit_op(c, WEX__IOP_TABLE_GROW_I);
        push_result(c);
        emit(c, u);
        emit(c, init);
        emit(c, cnt);
        c->last_dst_site = c->len - 4;
        break;
    }
    case WEX__OPI_TABLE_FILL: {
        wex__read_u32(r, &u);
        uint32_t cnt = pop(c), val = pop(c), i = pop(c);
        emit_op(c, WEX__IOP_TABLE_FILL_I);
        emit(c, u);
        emit(c, i);
        emit(c, val);
        emit(c, cnt);
        break;
    }
    case WEX__OPI_TABLE_COPY:
    case WEX__OPI_TABLE_INIT: {
        wex__read_u32(r, &u);
        wex__read_u32(r, &v);
        uint32_t cnt = pop(c), s = pop(c), d = pop(c);
        if (idx == WEX__OPI_TABLE_COPY) {
            emit_op(c, WEX__IOP_TABLE_COPY_I);
            emit(c, u); /* dst table */
            emit(c, v); /* src table */
        } else {
            emit_op(c, WEX__IOP_TABLE_INIT_I);
            emit(c, v); /* table */
            emit(c, u); /* elem */
        }
        emit(c, d);
        emit(c, s);
        emit(c, cnt);
        break;
    }
    case WEX__OPI_ELEM_DROP:
        wex__read_u32(r, &u);
        emit_op(c, WEX__IOP_ELEM_DROP_I);
        emit(c, u);
        break;
    case WEX__OPI_MEMORY_SIZE:
        wex__read_u8(r, &b);
        emit_op(c, WEX__IOP_MEMORY_SIZE_I);
        push_result(c);
        break;
    case WEX__OPI_MEMORY_GROW: {
        wex__read_u8(r, &b);
        uint32_t d = pop(c);
        emit_op(c, WEX__IOP_MEMORY_GROW_I);
        push_result(c);
        emit(c, d);
        c->last_dst_site = c->len - 2;
        break;
    }
    case WEX__OPI_MEMORY_INIT: {
        wex__read_u32(r, &u);
        wex__read_u8(r, &b);
        uint32_t cnt = pop(c), s = pop(c), d = pop(c);
        emit_op(c, WEX__IOP_MEMORY_INIT_I);
        emit(c, u);
        emit(c, d);
        emit(c, s);
        emit(c, cnt);
        break;
    }
    case WEX__OPI_DATA_DROP:
        wex__read_u32(r, &u);
        emit_op(c, WEX__IOP_DATA_DROP_I);
        emit(c, u);
        break;
    case WEX__OPI_MEMORY_COPY:
    case WEX__OPI_MEMORY_FILL: {
        if (idx == WEX__OPI_MEMORY_COPY) {
            wex__read_u8(r, &b);
            wex__read_u8(r, &b);
        } else {
            wex__read_u8(r, &b);
        }
        uint32_t cnt = pop(c), s = pop(c), d = pop(c);
        emit_op(c, idx == WEX__OPI_MEMORY_COPY ? WEX__IOP_MEMORY_COPY_I : WEX__IOP_MEMORY_FILL_I);
        emit(c, d);
        emit(c, s);
        emit(c, cnt);
        break;
    }
    case WEX__OPI_I32_CONST:
        wex__read_s32(r, &s32);
        push_const(c, (uint32_t)s32, false);
        break;
    case WEX__OPI_F32_CONST:
        wex__read_f32(r, &u);
        push_const(c, u, false);
        break;
    case WEX__OPI_I64_CONST:
    case WEX__OPI_F64_CONST: {
        uint64_t bits;
        if (idx == WEX__OPI_I64_CONST) {
            wex__read_s64(r, &s64);
            bits = (uint64_t)s64;
        } else {
            wex__read_f64(r, &bits);
        }
        push_const(c, bits, true);
        break;
    }
    case WEX__OPI_REF_NULL:
        wex__read_u8(r, &b);
        emit_op(c, WEX__IOP_REF_NULL_I);
        push_result(c);
        break;
    case WEX__OPI_REF_IS_NULL: {
        uint32_t a = pop(c);
        emit_op(c, WEX__IOP_REF_IS_NULL_I);
        push_result(c);
        emit(c, a);
        c->last_dst_site = c->len - 2;
        break;
    }
    case WEX__OPI_REF_FUNC:
        wex__read_u32(r, &u);
        emit_op(c, WEX__IOP_REF_FUNC_I);
        push_result(c);
        emit(c, u);
        c->last_dst_site = c->len - 2;
        break;
    default:
        if (op->code >> 8 == 0xFE) { /* the threads proposal's operators */
            translate_atomic(c, op);
            break;
        }
        translate_simple(c, op, idx);
        break;
    }
}
/* Translate body `di` (a defined function's index). */
static void compile_func(comp *c, uint32_t di, wex__fcode *fc) {
    const wex__module *m = c->m;
    c->di = di;
    const wex__code *code = &m->codes[di];
    const wex__functype *ft = wex__module_functype(m, m->nfunc_imports + di);
    c->nlocals = ft->nparams + code->nlocals;
    c->nparams = ft->nparams;
    c->pload = NONE;
    c->prologue =
        grow(c, (void **)&c->written, &c->capwritten, (size_t)c->nlocals + 1, sizeof *c->written);
    if (c->prologue) memset(c->written, 0, c->nlocals);
    c->nvs = 0;
    c->ndup = 0;
    c->nthr = 0;
    c->thr_top = 0;
    c->ncs = 0;
    c->max_slots = c->nlocals > ft->nresults ? c->nlocals : ft->nresults;
    barrier(c);
    c->fstart = c->len;
    wex__reader_init(&c->r, m->bytes + code->expr_off, code->off + code->len - code->expr_off,
                     m->bytes);
    if (m->tier_entry) {
        /* Native and automatic tiers: every entry passes here first. */
        c->op_off = code->expr_off;
        emit_op(c, WEX__IOP_TIER_ENTRY);
        emit(c, di);
        barrier(c);
    }
    if (m->epochs) {
        c->op_off = code->expr_off;
        emit_op(c, WEX__IOP_EPOCH);
        barrier(c);
    }
    push_ctrl(c, K_FUNC, 0, ft->nresults);
    while (!c->oom && !c->r.err && c->ncs) {
        c->op_off = (uint32_t)wex__reader_off(&c->r);
        const wex__opinfo *op = read_op(&c->r);
        if (!op) break;
        ctrl *t = &c->cs[c->ncs - 1];
        if (c->pload != NONE && (t->dead || !keeps_load(c, (unsigned)(op - wex__ops))))
            materialize(c, c->pload);
        if (t->dead) {
            /* Unreachable code: skip to the else/end of this block, keeping
             * track of nested blocks. */
            unsigned idx = (unsigned)(op - wex__ops);
            if (idx == WEX__OPI_BLOCK || idx == WEX__OPI_LOOP || idx == WEX__OPI_IF) {
                uint32_t depth = 1;
                wex__op_skip_imm(&c->r, op->imm);
                while (depth && !c->r.err) {
                    const wex__opinfo *o2 = read_op(&c->r);
                    if (!o2) break;
                    unsigned i2 = (unsigned)(o2 - wex__ops);
                    if (i2 == WEX__OPI_BLOCK || i2 == WEX__OPI_LOOP || i2 == WEX__OPI_IF)
                        depth++;
                    else if (i2 == WEX__OPI_END)
                        depth--;
                    wex__op_skip_imm(&c->r, o2->imm);
                }
                continue;
            }
            if (idx == WEX__OPI_END) {
                if (do_end(c)) break;
                continue;
            }
            if (idx == WEX__OPI_ELSE) {
                translate(c, op);
                continue;
            }
            wex__op_skip_imm(&c->r, op->imm);
            continue;
        }
        if (op - wex__ops == WEX__OPI_END) {
            c->prologue = false;
            if (do_end(c)) break;
            continue;
        }
        if (op->imm == WEX__IMM_BLOCK || op->imm == WEX__IMM_LABEL ||
            op->imm == WEX__IMM_BR_TABLE || op->imm == WEX__IMM_FUNC ||
            op->imm == WEX__IMM_CALL_IND || op - wex__ops == WEX__OPI_ELSE ||
            op - wex__ops == WEX__OPI_RETURN || op - wex__ops == WEX__OPI_UNREACHABLE)
            c->prologue = false; /* control from here on */
        translate(c, op);
    }
    thr_pass(c);
    fc->code_off = (uint32_t)c->fstart;
    fc->code_len = (uint32_t)(c->len - c->fstart);
    fc->nparams = ft->nparams;
    fc->nresults = ft->nresults;
    fc->nlocals = c->nlocals;
    fc->frame_slots = c->max_slots + 1;
    /* Declared locals the call must zero: all but those the body's
     * straight-line start writes before anything reads them. */
    uint32_t lo = c->nlocals, hi = c->nparams;
    for (uint32_t x = c->nparams; x < c->nlocals; x++)
        if (!c->written || c->capwritten < c->nlocals || c->written[x] != 1) {
            if (x < lo) lo = x;
            hi = x + 1;
        }
    fc->zero_from = lo < hi ? lo : c->nparams;
    fc->zero_count = lo < hi ? hi - lo : 0;
    /* A call zeroes them four slots (32 bytes) at a time (WEX__ZERO_CHUNK):
     * room for the rounding, in slots the body writes before it reads them
     * (the operand stack's) or in slack added here. */
    uint64_t zend = (uint64_t)fc->zero_from + WEX__ZERO_CHUNKS(fc->zero_count) * WEX__ZERO_CHUNK;
    if (fc->zero_count && zend > fc->frame_slots) fc->frame_slots = (uint32_t)zend;
}

/*
 * Complete every CALL_L (op, callee, base, need, target, zfrom, zcount):
 * need is base plus the callee's frame size, so the stack check is one
 * compare, and target the callee's first word relative to the call's opcode
 * word, so the call needs no table lookup; a callee with locals to zero gets
 * CALL_LZ (CALL_LZ1 for one), which zeroes zcount chunks of WEX__ZERO_CHUNK slots from zfrom
 * (relative to the caller's frame, like base). Done after all bodies are translated (a call may
 * precede its callee). No fusion ever takes a call back, so every recorded site still holds its
 * call. starts gives each function's first word (NULL: funcs' code_off) and at where this buffer's
 * word 0 will lie: the module cache's repair of one function (wex__interp_compile_one) links its
 * calls with the loaded module's positions.
 */
static void link_calls(comp *c, const wex__fcode *funcs, const uint32_t *starts, uint32_t nfuncs,
                       uint32_t at) {
    const uint32_t *site = (const uint32_t *)c->lcalls.data;
    const uint32_t *fused = (const uint32_t *)c->lfused.data; /* (site, X's length) pairs */
    size_t nfused = c->lfused.len / (2 * sizeof *fused), kf = 0;
    for (size_t k = 0; k < c->lcalls.len / sizeof *site; k++) {
        uint32_t *w = c->code + site[k];
        if (site[k] + 7 > c->len || w[0] != WEX__IOP_CALL_L || w[1] >= nfuncs) {
            c->oom = true; /* cannot happen; fail the translation rather than run it */
            continue;
        }
        const wex__fcode *f = &funcs[w[1]];
        uint64_t need = (uint64_t)w[2] + f->frame_slots;
        uint32_t start = starts ? starts[w[1]] : f->code_off;
        w[3] = need > UINT32_MAX ? UINT32_MAX : (uint32_t)need;
        w[4] = (uint32_t)((int64_t)start - ((int64_t)at + site[k]));
        uint32_t *x = NULL; /* the X_CALL_L whose call this is */
        if (kf < nfused && fused[2 * kf] == site[k]) {
            x = w - fused[2 * kf + 1];
            kf++;
            if (x < c->code || !is_precall_l(*x)) {
                c->oom = true; /* cannot happen, as above */
                continue;
            }
        }
        if (f->zero_count) {
            bool one = WEX__ZERO_CHUNKS(f->zero_count) == 1;
            if (x) *x += one ? 2 : 1; /* X_CALL_LZ, then X_CALL_LZ1, follow X_CALL_L */
            w[0] = one ? WEX__IOP_CALL_LZ1 : WEX__IOP_CALL_LZ;
            w[5] = w[2] + f->zero_from; /* within need, so no overflow */
            w[6] = WEX__ZERO_CHUNKS(f->zero_count);
        }
    }
}

/* Everything a translation allocated (its outputs too, unless they were
 * handed over and cleared). */
static void comp_free(comp *c) {
    wex__free(c->code);
    wex__free(c->vs);
    wex__free(c->depths);
    wex__free(c->cs);
    wex__free(c->pcmap);
    wex__free(c->written);
    wex__free(c->mark);
    wex__free(c->thr);
    wex__buf_free(&c->tyrel);
    wex__buf_free(&c->lcalls);
    wex__buf_free(&c->lfused);
}

wex_error_t *wex__interp_compile(wex__module *m) {
    comp c;
    memset(&c, 0, sizeof c);
    c.m = m;
    wex__compiled *out = wex__calloc(1, sizeof *out);
    if (!out) return wex__error_nomem();
    out->nfuncs = m->ncodes;
    out->funcs = wex__calloc(m->ncodes, sizeof *out->funcs);
    if (!out->funcs) {
        wex__free(out);
        return wex__error_nomem();
    }
    for (uint32_t i = 0; i < m->ncodes && !c.oom; i++) {
        compile_func(&c, i, &out->funcs[i]);
        if (c.r.err && !c.oom) {
            wex_error_t *e = wex__error_at(WEX_ERR_INVALID, (int64_t)c.r.err_off,
                                           "translation failed: %s", c.r.err);
            comp_free(&c);
            wex__interp_free(out);
            return e;
        }
    }
    if (!c.oom) link_calls(&c, out->funcs, NULL, out->nfuncs, 0);
    if (c.oom) {
        comp_free(&c);
        wex__interp_free(out);
        return wex__error_nomem();
    }
    out->code = c.code;
    out->code_len = c.len;
    while (c.npc && c.pcmap[2 * (c.npc - 1)] >= c.len)
        c.npc--;
    out->pcmap = c.pcmap;
    out->npcmap = c.npc;
    /* Keep the type-id words that survived: a peephole may have taken code
     * back past one (it then no longer holds that type's id). */
    uint32_t *rel = (uint32_t *)c.tyrel.data;
    size_t nrel = 0;
    for (size_t k = 0; k < c.tyrel.len / 8; k++)
        if (rel[2 * k] < c.len && c.code[rel[2 * k]] == m->types[rel[2 * k + 1]].canon) {
            rel[2 * nrel] = rel[2 * k];
            rel[2 * nrel + 1] = rel[2 * k + 1];
            nrel++;
        }
    out->tyrel = rel;
    out->ntyrel = nrel;
    out->lcall = (uint32_t *)c.lcalls.data;
    out->nlcall = c.lcalls.len / 4;
    /* The outputs now belong to out; the rest is scratch. */
    c.code = c.pcmap = NULL;
    c.tyrel.data = c.lcalls.data = NULL;
    comp_free(&c);
    m->compiled = out;
    return NULL;
}

void wex__interp_free(wex__compiled *c) {
    if (!c) return;
    wex__free(c->funcs);
    wex__free(c->code);
    wex__free(c->pcmap);
    wex__free(c->tyrel);
    wex__free(c->lcall);
    wex__free(c);
}

/*
 * Translate defined function di alone. The module cache repairs a damaged
 * function of a loaded artifact with it (src/cache/artifact.c): translation
 * is deterministic and starts each function afresh (barrier), so the words
 * equal those wex__interp_compile made for di, with m's engine's type ids.
 * m needs types, func_types, nfunc_imports, bytes and codes[di] only.
 */
wex_error_t *wex__interp_compile_one(const wex__module *m, uint32_t di, const wex__fcode *funcs,
                                     const uint32_t *starts, uint32_t nfuncs, uint32_t at,
                                     uint32_t **code, size_t *len, wex__fcode *fc) {
    comp c;
    memset(&c, 0, sizeof c);
    c.m = m;
    compile_func(&c, di, fc);
    /* fc->code_off is where di begins in c.code: at names that word. */
    if (!c.oom && !c.r.err) link_calls(&c, funcs, starts, nfuncs, at - fc->code_off);
    wex_error_t *e = NULL;
    if (c.oom)
        e = wex__error_nomem();
    else if (c.r.err)
        e = wex__error_at(WEX_ERR_INVALID, (int64_t)c.r.err_off, "translation failed: %s", c.r.err);
    *code = NULL;
    *len = 0;
    if (!e) {
        *len = fc->code_len;
        *code = wex__malloc(*len ? *len * 4 : 4);
        if (!*code)
            e = wex__error_nomem();
        else if (*len)
            memcpy(*code, c.code + fc->code_off, *len * 4);
        fc->code_off = 0;
    }
    comp_free(&c);
    return e;
}
