/*
 * compile_branch.h - the translator's fusions for branchy integer code
 * (session 5): parsers, printf's format loop, memcpy's and memset's edges.
 * Part of compile.c (included once, before compile_fuse.h, where the
 * helpers it uses are defined).
 */

/*
 * An i32 operation with a constant, then a branch on its result (`c - '0'
 * < 10` with c - '0' kept in a local, `s + 1` then `(s & 3) == 0`, `if (x
 * & 255)` on a masked local, `l > INT_MAX - cnt`): the I32_ADD_IMM (or the
 * second add of an I32_ADD_IMM2), I32_AND_IMM or I32_RSUB_IMM right before
 * the compare-and-branch just emitted joins it as one ADDK_BR_*, ANDK_BR_*
 * or RSUBK_BR_* (see interp.h). p is the instruction before the branch (the
 * fused comparison's f->prev, else the one emit_op saw); it must end where
 * the branch starts, so that nothing runs between them, and the branch must
 * test its destination. The result is still written (a local.tee may read
 * it). Neither part traps. Call right after emit_cond, before the offset
 * word; leaves everything as it was if the shapes do not match.
 */
static void opk_merge_at(comp *c, size_t p);
static inline void opk_merge(comp *c, const fused *f) {
    size_t p = f->op ? f->prev : c->prev_op_start;
    if (p != NONE && !c->oom) opk_merge_at(c, p);
}

static void opk_merge_at(comp *c, size_t p) {
    size_t q = c->last_op_start;
    if (c->in_table || q == NONE || p >= q) return;
    uint32_t op = c->code[p], first;
    size_t pw = 4;
    switch (op) {
    case WEX__IOP_I32_ADD_IMM: first = WEX__IOP_ADDK_BR_EQ; break;
    case WEX__IOP_I32_ADD_IMM2: first = WEX__IOP_ADDK_BR_EQ, pw = 7; break;
    case WEX__IOP_I32_AND_IMM: first = WEX__IOP_ANDK_BR_EQ_IMM; break;
    case WEX__IOP_I32_RSUB_IMM: first = WEX__IOP_RSUBK_BR_EQ; break;
    default: return;
    }
    if (p + pw != q) return;
    const uint32_t *a = c->code + p + pw - 3; /* d, a, k (the second add of a pair) */
    uint32_t d = a[0], src = a[1], k = a[2];
    /* The branch as a condition index (BRCMP order; 20, 21: TEST_NZ_IMM,
     * TEST_Z_IMM) and its operand b. */
    uint32_t br = c->code[q], cond, b;
    /* index in EQ NE LT_S LT_U GT_S GT_U LE_S LE_U GE_S GE_U -> operands swapped */
    static const uint8_t swap[10] = {0, 1, 4, 5, 2, 3, 8, 9, 6, 7};
    if ((br == WEX__IOP_BR_IF_Z || br == WEX__IOP_BR_IF_NZ) && c->len == q + 2) {
        if (c->code[q + 1] != d) return;
        cond = br == WEX__IOP_BR_IF_Z ? 10 : 11, b = 0; /* v == 0, v != 0 */
    } else if (c->len != q + 3) {
        return;
    } else if (br >= WEX__IOP_BR_I32_EQ && br <= WEX__IOP_BR_I32_GE_U) {
        cond = br - WEX__IOP_BR_I32_EQ;
        if (c->code[q + 1] == d) {
            b = c->code[q + 2];
        } else if (c->code[q + 2] == d) {
            b = c->code[q + 1];
            cond = swap[cond];
        } else {
            return;
        }
    } else if (br >= WEX__IOP_BR_I32_EQ_IMM && br <= WEX__IOP_BR_I32_GE_U_IMM) {
        if (c->code[q + 1] != d) return;
        cond = 10 + (br - WEX__IOP_BR_I32_EQ_IMM), b = c->code[q + 2];
    } else if (br == WEX__IOP_BR_I32_TEST_NZ_IMM || br == WEX__IOP_BR_I32_TEST_Z_IMM) {
        if (c->code[q + 1] != d) return;
        cond = br == WEX__IOP_BR_I32_TEST_NZ_IMM ? 20 : 21, b = c->code[q + 2];
    } else {
        return;
    }
    /* which conditions each family has */
    /* ANDK_BR_*: EQ NE LT_U GT_U LE_U GE_U against an immediate */
    static const int8_t andk_imm[10] = {0, 1, -1, 2, -1, 3, -1, 4, -1, 5};
    uint32_t fop = first + cond;
    if (first == WEX__IOP_ANDK_BR_EQ_IMM) {
        int j = cond < 10 || cond >= 20 ? -1 : andk_imm[cond - 10];
        if (j < 0) return;
        fop = first + (uint32_t)j;
    }
    if (first == WEX__IOP_RSUBK_BR_EQ && cond >= 10) return;
    if (pw == 7) { /* keep the first add as an I32_ADD_IMM */
        c->code[p] = WEX__IOP_I32_ADD_IMM;
        c->len = p + 4;
        c->last_op_start = NONE;
    } else {
        c->len = p;
        c->last_op_start = c->prev_op_start = NONE;
    }
    emit_op(c, fop);
    emit(c, d);
    emit(c, src);
    emit(c, k);
    emit(c, b);
    barrier(c);
}

/*
 * k - (a + k1), with the addition still pending (`-2 - (sp + 80)`, the
 * address arithmetic of a frame's locals): one I32_RSUB_IMM of a with the
 * constants folded, (k - k1) - a, the same value in wrapping arithmetic;
 * the addition is never computed. Returns false if x is no pending add.
 */
static bool rsub_addi(comp *c, const ventry *kc, const ventry *x) {
    if (x->kind != E_ADDI) return false;
    emit_op(c, WEX__IOP_I32_RSUB_IMM);
    push_result(c);
    emit(c, x->a);
    emit(c, (uint32_t)kc->k - (uint32_t)x->k);
    c->last_dst_site = c->len - 3;
    return true;
}

/*
 * Branch threading (THR_*, see interp.h). emit_cond notes every
 * BR_I32_TEST_NZ_IMM and BR_I32_TEST_Z_IMM of the body (thr_note, with the
 * test's opcode); code taken back drops its notes, since the next
 * instruction starts where it was (emit_op calls thr_note with 0 when the
 * code is no longer past the last note: one compare, so that it stays
 * cheap). At the body's end (thr_pass) every
 * offset is final: a noted test whose target is a noted test becomes the THR_* of the pair. The
 * notes prove that the target is an instruction's first word.
 */
__attribute__((noinline)) static void thr_note(comp *c, uint32_t op) {
    size_t at = op ? c->last_op_start : c->len; /* a test just emitted, or the next word */
    while (c->nthr && c->thr[c->nthr - 1] >= at)
        c->nthr--;
    if (op && !c->oom && grow(c, (void **)&c->thr, &c->capthr, (size_t)c->nthr + 1, sizeof *c->thr))
        c->thr[c->nthr++] = (uint32_t)at;
    c->thr_top = c->nthr ? c->thr[c->nthr - 1] : 0; /* emit_op's fast test */
}

/* Is word w one of the noted tests (binary search)? */
static bool thr_is_test(const comp *c, size_t w) {
    uint32_t lo = 0, hi = c->nthr;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (c->thr[mid] == w) return true;
        if (c->thr[mid] < w)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

static void thr_pass(comp *c) {
    if (c->oom) return;
    /* the notes still hold their tests (in order, all below len) */
    for (uint32_t j = 0; j < c->nthr; j++) {
        size_t p = c->thr[j];
        if (p + 4 > c->len) return; /* cannot happen */
        uint32_t op = c->code[p];
        if (op != WEX__IOP_BR_I32_TEST_NZ_IMM && op != WEX__IOP_BR_I32_TEST_Z_IMM) continue;
        int64_t t = (int64_t)p + 3 + (int32_t)c->code[p + 3];
        if (t < (int64_t)c->fstart || t + 4 > (int64_t)c->len || !thr_is_test(c, (size_t)t))
            continue;
        uint32_t top = c->code[t];
        if (top >= WEX__IOP_THR_TEST_NZ_NZ && top <= WEX__IOP_THR_TEST_Z_Z) /* threaded already */
            top = (top - WEX__IOP_THR_TEST_NZ_NZ) / 2 ? WEX__IOP_BR_I32_TEST_Z_IMM
                                                      : WEX__IOP_BR_I32_TEST_NZ_IMM;
        uint32_t a = op == WEX__IOP_BR_I32_TEST_Z_IMM, b = top == WEX__IOP_BR_I32_TEST_Z_IMM;
        c->code[p] = WEX__IOP_THR_TEST_NZ_NZ + a * 2 + b;
    }
}

/*
 * (a + k1) | k2 with the addition still pending: one I32_ADD_OR_IMM (the
 * addresses of a frame's locals, `(sp + 80) | 8`, where the compiler knows
 * sp's alignment). Returns false if x is no pending add.
 */
static bool add_or_imm(comp *c, const ventry *x, const ventry *kc) {
    if (x->kind != E_ADDI) return false;
    emit_op(c, WEX__IOP_I32_ADD_OR_IMM);
    push_result(c);
    emit(c, x->a);
    emit(c, (uint32_t)x->k);
    emit(c, (uint32_t)kc->k);
    c->last_dst_site = c->len - 4;
    return true;
}
