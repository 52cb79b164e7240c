/*
 * compile_fuse.h - the translator's fusing consumers: loads and stores with
 * their address folded in, read-modify-write, pending address arithmetic,
 * memory operands, multiply-add, float immediates, shifts into bit
 * operations, and the simple-operator translation that chooses among them.
 * Part of compile.c (included once, where its static helpers are defined),
 * split out for size; see the "Pending entries" comment there.
 */

static void fpair_merge(comp *c);
static bool keeps_load_float(comp *c, unsigned idx);
static int fpair_index(uint32_t op, uint32_t *wide);
static bool fobr_merge(comp *c, const fused *f, uint32_t fam, uint32_t k);
static void note_eqz(comp *c);
static void ipair_merge(comp *c);
static bool fst_fuse(comp *c);
static void ll_fuse(comp *c);
static void ll_unfuse(comp *c, size_t q);
static void li_fuse(comp *c);
static bool m2_fuse(comp *c, size_t p, size_t q);

/* Loads and stores: the address entry, if pending, folds into the access
 * (base + k: the _I form, base + index: _R, a constant: _K). */
/*
 * Read-modify-write: a store of the value that the instruction just emitted
 * computed from memory at the same address (`a[i] += x`) turns that
 * instruction into its storing variant (the _MPS ... family). Returns false
 * if it does not apply.
 */
static bool try_rmw(comp *c, const ventry *m, unsigned idx, uint32_t val) {
    const uint32_t nmops = WEX__IOP_F32_ADD_MI - WEX__IOP_F32_ADD_MP;
    size_t p = c->last_op_start;
    if (c->oom || p == NONE || c->last_dst_site != p + 1 || c->code[p + 1] != val) return false;
    uint32_t op = c->code[p];
    if (op < WEX__IOP_F32_ADD_MP || op >= WEX__IOP_F32_ADD_MP + 4 * nmops) return false;
    uint32_t form = (op - WEX__IOP_F32_ADD_MP) / nmops, j = (op - WEX__IOP_F32_ADD_MP) % nmops;
    unsigned want = j < 6 ? WEX__OPI_F32_STORE : j < 12 ? WEX__OPI_F64_STORE : WEX__OPI_I32_STORE;
    if (idx != want || form != m->form) return false;
    size_t end = c->len;
    emit_addr_words(c, m); /* compare the address words, then take them back */
    emit(c, m->off);
    size_t n = c->len - end;
    bool same = !c->oom && p + 3 + n == end && memcmp(c->code + p + 3, c->code + end, n * 4) == 0;
    c->len = end;
    if (!same) return false;
    ll_unfuse(c, p);
    c->code[p] = WEX__IOP_F32_ADD_MPS + form * nmops + j;
    c->last_dst_site = NONE;
    return true;
}

static bool store_const(comp *c, unsigned idx, uint32_t offset);
static void store_pair(comp *c);
static bool store_result(comp *c, const ventry *m, unsigned idx, uint32_t val);
static size_t copy_find(comp *c);
static bool copy_fuse(comp *c, size_t p);
static void translate_mem(comp *c, unsigned idx, uint32_t offset, bool store) {
    uint32_t val = 0;
    if (store && store_const(c, idx, offset)) {
        store_pair(c);
        return;
    }
    if (store) {
        ventry ve = pop_entry(c);
        val = entry_slot(c, &ve, c->nvs);
    }
    ventry ae = pop_entry(c);
    ventry m = addr_of(c, &ae, c->nvs, offset);
    if (store) {
        size_t lp = copy_find(c);
        if (!try_rmw(c, &m, idx, val) && !store_result(c, &m, idx, val)) {
            emit_addr_op(c, &m, idx, val);
            if (!copy_fuse(c, lp) && !fst_fuse(c)) store_pair(c);
        }
        return;
    }
    m.lop = (uint8_t)(idx - WEX__OPI_I32_LOAD);
    if ((idx == WEX__OPI_I32_LOAD || idx == WEX__OPI_F32_LOAD || idx == WEX__OPI_F64_LOAD) &&
        m.form != F_K) {
        /* pending: the next operator may take it as a memory operand */
        ventry *p = push_entry(c);
        if (!p) return;
        *p = m;
        c->pload = c->nvs - 1;
        return;
    }
    emit_addr_op(c, &m, idx, push(c));
    c->last_dst_site = c->last_op_start + 1;
    c->last_dst_pos = c->code[c->last_op_start + 1];
}

/* The comparison that gives the same result with its operands swapped. */
static unsigned swapped_cmp(unsigned idx) {
    switch (idx) {
    case WEX__OPI_I32_LT_S: return WEX__OPI_I32_GT_S;
    case WEX__OPI_I32_GT_S: return WEX__OPI_I32_LT_S;
    case WEX__OPI_I32_LT_U: return WEX__OPI_I32_GT_U;
    case WEX__OPI_I32_GT_U: return WEX__OPI_I32_LT_U;
    case WEX__OPI_I32_LE_S: return WEX__OPI_I32_GE_S;
    case WEX__OPI_I32_GE_S: return WEX__OPI_I32_LE_S;
    case WEX__OPI_I32_LE_U: return WEX__OPI_I32_GE_U;
    case WEX__OPI_I32_GE_U: return WEX__OPI_I32_LE_U;
    case WEX__OPI_I32_EQ:
    case WEX__OPI_I32_NE:
    case WEX__OPI_I32_ADD:
    case WEX__OPI_I32_MUL:
    case WEX__OPI_I32_AND:
    case WEX__OPI_I32_OR:
    case WEX__OPI_I32_XOR: return idx;
    case WEX__OPI_I64_LT_S: return WEX__OPI_I64_GT_S;
    case WEX__OPI_I64_GT_S: return WEX__OPI_I64_LT_S;
    case WEX__OPI_I64_LT_U: return WEX__OPI_I64_GT_U;
    case WEX__OPI_I64_GT_U: return WEX__OPI_I64_LT_U;
    case WEX__OPI_I64_LE_S: return WEX__OPI_I64_GE_S;
    case WEX__OPI_I64_GE_S: return WEX__OPI_I64_LE_S;
    case WEX__OPI_I64_LE_U: return WEX__OPI_I64_GE_U;
    case WEX__OPI_I64_GE_U: return WEX__OPI_I64_LE_U;
    case WEX__OPI_I64_EQ:
    case WEX__OPI_I64_NE:
    case WEX__OPI_I64_ADD:
    case WEX__OPI_I64_MUL:
    case WEX__OPI_I64_AND:
    case WEX__OPI_I64_OR:
    case WEX__OPI_I64_XOR: return idx;
    default: return 0;
    }
}

/* An i32 value as a sum of at most two slot terms (one unscaled, one
 * scaled by a shift) and a constant, to combine pending additions. */
typedef struct {
    uint32_t n;       /* terms */
    uint32_t slot[2]; /* term slots */
    uint8_t shift[2]; /* term shifts */
    uint32_t k;
} affine;

static affine affine_of(const ventry *e) {
    affine f = {0, {0, 0}, {0, 0}, 0};
    switch (e->kind) {
    case E_CONST: f.k = (uint32_t)e->k; break;
    case E_SLOT: f = (affine){1, {e->a, 0}, {0, 0}, 0}; break;
    case E_ADDI: f = (affine){1, {e->a, 0}, {0, 0}, (uint32_t)e->k}; break;
    case E_SHLI: f = (affine){1, {e->a, 0}, {e->s, 0}, 0}; break;
    case E_LEA:
        if (e->a == NONE)
            f = (affine){1, {e->b, 0}, {e->s, 0}, (uint32_t)e->k};
        else
            f = (affine){2, {e->a, e->b}, {0, e->s}, (uint32_t)e->k};
        break;
    }
    return f;
}

/* Push the pending entry for f (its slots known stable); false if f has no
 * pending form. */
static bool push_affine(comp *c, affine f) {
    ventry e = {.kind = E_CONST, .wide = false, .s = 0, .a = 0, .b = 0, .k = f.k};
    if (f.n == 2 && f.shift[0] && f.shift[1]) return false;
    if (f.n == 2 && f.shift[0]) { /* the unscaled term first */
        uint32_t t = f.slot[0];
        f.slot[0] = f.slot[1], f.slot[1] = t;
        uint8_t u = f.shift[0];
        f.shift[0] = f.shift[1], f.shift[1] = u;
    }
    if (f.n == 1 && f.shift[0] && f.k) { /* (b << s) + k */
        e.kind = E_LEA;
        e.a = NONE;
        e.b = f.slot[0];
        e.s = f.shift[0];
    } else if (f.n == 1) {
        e.kind = f.shift[0] ? E_SHLI : E_ADDI;
        e.a = f.slot[0];
        e.s = f.shift[0];
    } else if (f.n == 2) {
        e.kind = E_LEA;
        e.a = f.slot[0];
        e.b = f.slot[1];
        e.s = f.shift[1];
    }
    ventry *p = push_entry(c);
    if (p) *p = e;
    return true;
}

/*
 * i32.add, i32.sub of a constant and i32.shl by a constant stay pending when
 * the result is a sum of at most two slots (one of them shifted) and a
 * constant, over stable slots (locals, or the result's own slot):
 * `base + (i << 2) + 8` is one pending entry that a load or store takes as its
 * address. Returns false if the caller should emit the operator.
 */
static bool try_pending_arith(comp *c, unsigned idx, ventry *ae, ventry *be, uint32_t ai) {
    if (idx != WEX__OPI_I32_ADD && !is_i32_const(be)) return false;
    /* operands of other pending kinds are computed into their own slots */
    if (be->kind > E_SHLI) {
        uint32_t sb = entry_slot(c, be, ai + 1);
        *be = (ventry){.kind = E_SLOT, .a = sb};
    }
    if (ae->kind > E_SHLI) {
        uint32_t sa = entry_slot(c, ae, ai);
        *ae = (ventry){.kind = E_SLOT, .a = sa};
    }
    if (idx == WEX__OPI_I32_SHL) {
        if (ae->kind != E_SLOT || !stable_for(c, ae->a, ai)) {
            uint32_t sa = entry_slot(c, ae, ai); /* its own slot: stable */
            *ae = (ventry){.kind = E_SLOT, .wide = false, .s = 0, .a = sa, .b = 0, .k = 0};
        }
        uint32_t sh = (uint32_t)be->k & 31;
        if (sh == 0) {
            ventry *p = push_entry(c);
            if (p) *p = *ae;
            return true;
        }
        ventry *p = push_entry(c);
        if (p)
            *p = (ventry){
                .kind = E_SHLI, .wide = false, .s = (uint8_t)sh, .a = ae->a, .b = 0, .k = 0};
        return true;
    }
    affine x = affine_of(ae), y = affine_of(be);
    if (idx == WEX__OPI_I32_SUB) y.k = 0u - y.k;
    affine f = x;
    f.k = x.k + y.k;
    if (x.n + y.n == 3 && !x.shift[0] && !x.shift[1] && !y.shift[0] && !y.shift[1]) {
        /* a + b + c (+ k): one instruction now (sums of several values) */
        uint32_t t[3], n = 0;
        for (uint32_t j = 0; j < x.n; j++)
            t[n++] = x.slot[j];
        for (uint32_t j = 0; j < y.n; j++)
            t[n++] = y.slot[j];
        emit_op(c, WEX__IOP_I32_ADD3);
        push_result(c);
        emit(c, t[0]);
        emit(c, t[1]);
        emit(c, t[2]);
        emit(c, f.k);
        c->last_dst_site = c->last_op_start + 1;
        return true;
    }
    bool ok = x.n + y.n <= 2;
    for (uint32_t j = 0; ok && j < y.n; j++) {
        f.slot[f.n] = y.slot[j];
        f.shift[f.n++] = y.shift[j];
    }
    for (uint32_t j = 0; ok && j < f.n; j++)
        ok = stable_for(c, f.slot[j], ai);
    if (ok && push_affine(c, f)) return true;
    /* Compute the operands into slots and try once more as plain slots. */
    uint32_t sb = entry_slot(c, be, ai + 1), sa = entry_slot(c, ae, ai);
    if (idx == WEX__OPI_I32_SUB) { /* slot - k */
        emit_op(c, WEX__IOP_I32_ADD_IMM);
        push_result(c);
        emit(c, sa);
        emit(c, 0u - (uint32_t)be->k);
        c->last_dst_site = merge_addi(c);
        return true;
    }
    if (stable_for(c, sa, ai) && stable_for(c, sb, ai)) {
        ventry *p = push_entry(c);
        if (p) *p = (ventry){.kind = E_LEA, .wide = false, .s = 0, .a = sa, .b = sb, .k = 0};
        return true;
    }
    emit_op(c, WEX__IOP_I32_ADD);
    push_result(c);
    emit(c, sa);
    emit(c, sb);
    c->last_dst_site = c->len - 3;
    ipair_merge(c);
    return true;
}

/* The memory-operand instruction for binary operator idx with a pending
 * load of type lop as its first (lfirst) or second operand: its index in
 * WEX__IOPS_MOPS, or -1. */
static int mop_index(unsigned idx, bool lfirst, unsigned lop) {
    int j;
    unsigned want;
    switch (idx) {
    case WEX__OPI_F32_ADD: j = 0, want = 2; break;
    case WEX__OPI_F32_SUB: j = lfirst ? 4 : 1, want = 2; break;
    case WEX__OPI_F32_MUL: j = 2, want = 2; break;
    case WEX__OPI_F32_DIV: j = lfirst ? 5 : 3, want = 2; break;
    case WEX__OPI_F64_ADD: j = 6, want = 3; break;
    case WEX__OPI_F64_SUB: j = lfirst ? 10 : 7, want = 3; break;
    case WEX__OPI_F64_MUL: j = 8, want = 3; break;
    case WEX__OPI_F64_DIV: j = lfirst ? 11 : 9, want = 3; break;
    case WEX__OPI_I32_ADD: j = 12, want = 0; break;
    case WEX__OPI_I32_SUB: j = lfirst ? 18 : 13, want = 0; break;
    case WEX__OPI_I32_MUL: j = 14, want = 0; break;
    case WEX__OPI_I32_AND: j = 15, want = 0; break;
    case WEX__OPI_I32_OR: j = 16, want = 0; break;
    case WEX__OPI_I32_XOR: j = 17, want = 0; break;
    default: return -1;
    }
    return lop == want ? j : -1;
}

/*
 * A pending load waits for the next operator only: translating anything but
 * a push of a local or a constant, or a binary operator taking it, computes
 * it first. So nothing that writes memory or traps runs between the load's
 * place and its execution, and no local it reads is written.
 */
static bool keeps_load(comp *c, unsigned idx) {
    switch (idx) {
    case WEX__OPI_LOCAL_GET:
    case WEX__OPI_I32_CONST:
    case WEX__OPI_I64_CONST:
    case WEX__OPI_F32_CONST:
    case WEX__OPI_F64_CONST: return true;
    case WEX__OPI_BR_TABLE: return c->pload + 1 == c->nvs && c->vs[c->pload].lop == 0;
    default:
        return (c->pload + 2 >= c->nvs && mop_index(idx, false, c->vs[c->pload].lop) >= 0) ||
               keeps_load_float(c, idx);
    }
}

/* A binary operator with a pending load as an operand: one instruction that
 * reads memory (F32_ADD_MP ...). Returns false if there is none. */
static bool try_mem_operand(comp *c, unsigned idx, ventry *ae, ventry *be, uint32_t ai) {
    bool lfirst = ae->kind == E_LOAD;
    const ventry *l = lfirst ? ae : be, *x = lfirst ? be : ae;
    int j = mop_index(idx, lfirst, l->lop);
    if (j < 0) return false;
    uint32_t xs = entry_slot(c, x, lfirst ? ai + 1 : ai);
    const uint32_t nmops = WEX__IOP_F32_ADD_MI - WEX__IOP_F32_ADD_MP;
    /* The only trap of the fused instruction is its load's: note that offset. */
    uint32_t here = c->op_off;
    c->op_off = l->woff;
    emit_op(c, WEX__IOP_F32_ADD_MP + l->form * nmops + (uint32_t)j);
    c->op_off = here;
    push_result(c);
    emit(c, xs);
    emit_addr_words(c, l);
    emit(c, l->off);
    c->last_dst_site = c->last_op_start + 1;
    c->pload = NONE;
    ll_fuse(c);
    return true;
}

/*
 * Float multiply-add: a multiplication over stable slots stays pending, and
 * an addition or subtraction that takes it becomes one instruction (the
 * product is rounded, then the sum: no fused rounding). Returns false if
 * the caller should emit the operator.
 */
static bool try_pending_fmul(comp *c, unsigned idx, ventry *ae, ventry *be, uint32_t ai) {
    bool wide = idx == WEX__OPI_F64_MUL || idx == WEX__OPI_F64_ADD || idx == WEX__OPI_F64_SUB;
    if (idx == WEX__OPI_F32_MUL || idx == WEX__OPI_F64_MUL) {
        uint32_t sb = entry_slot(c, be, ai + 1), sa = entry_slot(c, ae, ai);
        if (stable_for(c, sa, ai) && stable_for(c, sb, ai)) {
            ventry *p = push_entry(c);
            if (p) *p = (ventry){.kind = E_FMUL, .wide = wide, .s = 0, .a = sa, .b = sb, .k = 0};
        } else {
            emit_op(c, wide ? WEX__IOP_F64_MUL : WEX__IOP_F32_MUL);
            push_result(c);
            emit(c, sa);
            emit(c, sb);
            c->last_dst_site = c->len - 3;
            fpair_merge(c);
        }
        return true;
    }
    bool sub = idx == WEX__OPI_F32_SUB || idx == WEX__OPI_F64_SUB;
    const ventry *m;
    uint32_t other, op;
    if (ae->kind == E_FMUL) { /* a*b + c, a*b - c */
        m = ae;
        other = entry_slot(c, be, ai + 1);
        op = sub ? WEX__IOP_F32_MULSUB : WEX__IOP_F32_MULADD;
    } else if (be->kind == E_FMUL) { /* c + a*b, c - a*b */
        m = be;
        other = entry_slot(c, ae, ai);
        op = sub ? WEX__IOP_F32_SUBMUL : WEX__IOP_F32_MULADD;
    } else {
        return false;
    }
    emit_op(c, op + (wide ? WEX__IOP_F64_MULADD - WEX__IOP_F32_MULADD : 0));
    push_result(c);
    emit(c, m->a);
    emit(c, m->b);
    emit(c, other);
    c->last_dst_site = c->len - 4;
    fpair_merge(c);
    return true;
}

/*
 * Float operators with a constant operand: the constant rides in the
 * instruction (F32_ADD_IMM ... F64_GE_IMM; f64 constants take two words).
 * A constant first operand swaps (comparisons mirrored, k - x and k / x
 * have their own forms). Returns false if there is no such form.
 */
static bool try_float_imm(comp *c, unsigned idx, ventry *ae, ventry *be, uint32_t ai) {
    /* per operator: form with the constant second, form with it first */
    static const struct {
        uint16_t idx, second, first;
    } forms[] = {
        {WEX__OPI_F32_ADD, WEX__IOP_F32_ADD_IMM, WEX__IOP_F32_ADD_IMM},
        {WEX__OPI_F32_SUB, WEX__IOP_F32_SUB_IMM, WEX__IOP_F32_RSUB_IMM},
        {WEX__OPI_F32_MUL, WEX__IOP_F32_MUL_IMM, WEX__IOP_F32_MUL_IMM},
        {WEX__OPI_F32_DIV, WEX__IOP_F32_DIV_IMM, WEX__IOP_F32_RDIV_IMM},
        {WEX__OPI_F32_EQ, WEX__IOP_F32_EQ_IMM, WEX__IOP_F32_EQ_IMM},
        {WEX__OPI_F32_NE, WEX__IOP_F32_NE_IMM, WEX__IOP_F32_NE_IMM},
        {WEX__OPI_F32_LT, WEX__IOP_F32_LT_IMM, WEX__IOP_F32_GT_IMM},
        {WEX__OPI_F32_GT, WEX__IOP_F32_GT_IMM, WEX__IOP_F32_LT_IMM},
        {WEX__OPI_F32_LE, WEX__IOP_F32_LE_IMM, WEX__IOP_F32_GE_IMM},
        {WEX__OPI_F32_GE, WEX__IOP_F32_GE_IMM, WEX__IOP_F32_LE_IMM},
        {WEX__OPI_F64_ADD, WEX__IOP_F64_ADD_IMM, WEX__IOP_F64_ADD_IMM},
        {WEX__OPI_F64_SUB, WEX__IOP_F64_SUB_IMM, WEX__IOP_F64_RSUB_IMM},
        {WEX__OPI_F64_MUL, WEX__IOP_F64_MUL_IMM, WEX__IOP_F64_MUL_IMM},
        {WEX__OPI_F64_DIV, WEX__IOP_F64_DIV_IMM, WEX__IOP_F64_RDIV_IMM},
        {WEX__OPI_F64_EQ, WEX__IOP_F64_EQ_IMM, WEX__IOP_F64_EQ_IMM},
        {WEX__OPI_F64_NE, WEX__IOP_F64_NE_IMM, WEX__IOP_F64_NE_IMM},
        {WEX__OPI_F64_LT, WEX__IOP_F64_LT_IMM, WEX__IOP_F64_GT_IMM},
        {WEX__OPI_F64_GT, WEX__IOP_F64_GT_IMM, WEX__IOP_F64_LT_IMM},
        {WEX__OPI_F64_LE, WEX__IOP_F64_LE_IMM, WEX__IOP_F64_GE_IMM},
        {WEX__OPI_F64_GE, WEX__IOP_F64_GE_IMM, WEX__IOP_F64_LE_IMM},
    };
    unsigned f = 0;
    while (f < sizeof forms / sizeof forms[0] && forms[f].idx != idx)
        f++;
    if (f == sizeof forms / sizeof forms[0]) return false;
    bool wide = idx >= WEX__OPI_F64_EQ && (idx <= WEX__OPI_F64_GE || idx >= WEX__OPI_F64_ADD);
    const ventry *x, *k;
    uint32_t xi, iop;
    if (be->kind == E_CONST) {
        x = ae, k = be, xi = ai, iop = forms[f].second;
    } else {
        x = be, k = ae, xi = ai + 1, iop = forms[f].first;
    }
    if (k->wide != wide || x->kind == E_CONST) return false;
    uint32_t sx = entry_slot(c, x, xi);
    emit_op(c, iop);
    push_result(c);
    emit(c, sx);
    emit(c, (uint32_t)k->k);
    if (wide) emit(c, (uint32_t)(k->k >> 32));
    c->last_dst_site = c->last_op_start + 1;
    li_fuse(c);
    return true;
}

/*
 * Shifts and rotates by a constant stay pending (E_SHIFT; shl is E_SHLI, for
 * addresses); xor, or, and, add taking one become one instruction
 * (I32_XOR_SHL ... I32_ADD_ROTR: x op (y shifted)). Returns false if the
 * caller should emit the operator.
 */
static bool try_shift_op(comp *c, unsigned idx, ventry *ae, ventry *be, uint32_t ai) {
    int sk = idx == WEX__OPI_I32_SHR_S   ? SH_SHR_S
             : idx == WEX__OPI_I32_SHR_U ? SH_SHR_U
             : idx == WEX__OPI_I32_ROTL  ? SH_ROTL
             : idx == WEX__OPI_I32_ROTR  ? SH_ROTR
                                         : -1;
    if (sk >= 0) {
        if (!is_i32_const(be) || is_i32_const(ae)) return false;
        uint32_t sa = entry_slot(c, ae, ai); /* a slot stable for ai */
        ventry *p = push_entry(c);
        if (p)
            *p = (ventry){.kind = E_SHIFT, .s = (uint8_t)(be->k & 31), .a = sa, .lop = (uint8_t)sk};
        return true;
    }
    int oi = idx == WEX__OPI_I32_XOR   ? 0
             : idx == WEX__OPI_I32_OR  ? 1
             : idx == WEX__OPI_I32_AND ? 2
             : idx == WEX__OPI_I32_ADD ? 3
                                       : -1;
    if (oi < 0) return false;
    bool bsh = be->kind == E_SHIFT || (oi < 3 && be->kind == E_SHLI);
    bool ash = ae->kind == E_SHIFT || (oi < 3 && ae->kind == E_SHLI);
    if (!bsh && !ash) return false;
    const ventry *sh0 = bsh ? be : ae, *k0 = bsh ? ae : be;
    uint32_t sk0 = sh0->kind == E_SHLI ? SH_SHL : sh0->lop;
    if (oi == 2 && is_i32_const(k0) && (sk0 == SH_SHR_U || sk0 == SH_SHL)) {
        /* (y >> s) & mask, (y << s) & mask: a bit field */
        emit_op(c, sk0 == SH_SHR_U ? WEX__IOP_I32_SHR_U_AND_IMM : WEX__IOP_I32_SHL_AND_IMM);
        push_result(c);
        emit(c, sh0->a);
        emit(c, sh0->s);
        emit(c, (uint32_t)k0->k);
        c->last_dst_site = c->last_op_start + 1;
        return true;
    }
    const ventry *sh = bsh ? be : ae, *x = bsh ? ae : be;
    uint32_t sx = entry_slot(c, x, bsh ? ai : ai + 1);
    uint32_t kind = sh->kind == E_SHLI ? SH_SHL : sh->lop;
    emit_op(c, WEX__IOP_I32_XOR_SHL + (uint32_t)oi * 5 + kind);
    push_result(c);
    emit(c, sx);
    emit(c, sh->a);
    emit(c, sh->s);
    c->last_dst_site = c->last_op_start + 1;
    return true;
}

static bool try_xor_rot(comp *c, const ventry *ae, const ventry *be, uint32_t ai);
static bool try_andn(comp *c, const ventry *ae, const ventry *be, uint32_t ai);
static bool try_add_xrot(comp *c, const ventry *ae, const ventry *be, uint32_t ai);

/* Simple operators: loads, stores and numeric ones, by signature. */
static void translate_simple(comp *c, const wex__opinfo *op, unsigned idx) {
    wex__reader *r = &c->r;
    const char *sig = op->sig;
    if (op->imm == WEX__IMM_MEMARG) {
        uint32_t align, offset;
        wex__read_u32(r, &align);
        wex__read_u32(r, &offset);
        translate_mem(c, idx, offset, sig[2] == ':' || sig[1] != ':');
        return;
    }
    unsigned nin = (unsigned)(strchr(sig, ':') - sig);
    uint32_t in[2] = {0, 0};
    if (nin == 2) {
        ventry be = pop_entry(c), ae = pop_entry(c);
        uint32_t ai = c->nvs;
        if ((ae.kind == E_LOAD || be.kind == E_LOAD) && try_mem_operand(c, idx, &ae, &be, ai))
            return;
        if (idx == WEX__OPI_I32_XOR && try_xor_rot(c, &ae, &be, ai)) return;
        if (idx == WEX__OPI_I32_ADD && try_add_xrot(c, &ae, &be, ai)) return;
        if (idx == WEX__OPI_I32_AND && try_andn(c, &ae, &be, ai)) return;
        if (try_shift_op(c, idx, &ae, &be, ai)) return;
        if ((idx == WEX__OPI_I32_ADD || idx == WEX__OPI_I32_SUB || idx == WEX__OPI_I32_SHL) &&
            try_pending_arith(c, idx, &ae, &be, ai))
            return;
        if ((ae.kind == E_CONST || be.kind == E_CONST) && try_float_imm(c, idx, &ae, &be, ai))
            return;
        if ((idx == WEX__OPI_F32_MUL || idx == WEX__OPI_F64_MUL || idx == WEX__OPI_F32_ADD ||
             idx == WEX__OPI_F64_ADD || idx == WEX__OPI_F32_SUB || idx == WEX__OPI_F64_SUB) &&
            try_pending_fmul(c, idx, &ae, &be, ai))
            return;
        uint32_t iop = imm_form(idx);
        unsigned sw = swapped_cmp(idx);
        const ventry *x = NULL, *kc = NULL;
        uint32_t xi = 0;
        if (iop && fits_imm(&be, iop)) {
            x = &ae, kc = &be, xi = ai;
        } else if (iop && sw && fits_imm(&ae, iop)) {
            iop = imm_form(sw); /* `k op x` as `x op' k` */
            x = &be, kc = &ae, xi = ai + 1;
        } else if (idx == WEX__OPI_I32_SUB && is_i32_const(&ae)) {
            if (rsub_addi(c, &ae, &be)) return;
            iop = WEX__IOP_I32_RSUB_IMM; /* k - x */
            x = &be, kc = &ae, xi = ai + 1;
        } else if (idx == WEX__OPI_I32_SHL && is_i32_const(&ae)) {
            iop = WEX__IOP_I32_SHL_K; /* k << x, a bit mask */
            x = &be, kc = &ae, xi = ai + 1;
        }
        if (x) {
            if (iop == WEX__IOP_I32_OR_IMM && add_or_imm(c, x, kc)) return;
            uint32_t sx = entry_slot(c, x, xi);
            emit_op(c, iop);
            push_result(c);
            emit(c, sx);
            emit(c, (uint32_t)kc->k);
            c->last_dst_site = c->len - 3;
            return;
        }
        in[1] = entry_slot(c, &be, ai + 1);
        in[0] = entry_slot(c, &ae, ai);
    } else if (nin == 1) {
        if (idx == WEX__OPI_I32_EQZ) note_eqz(c);
        in[0] = pop(c);
    }
    emit_op(c, idx);
    push_result(c);
    for (unsigned k = 0; k < nin; k++)
        emit(c, in[k]);
    c->last_dst_site = c->len - 1 - nin;
    if (nin == 2) fpair_merge(c);
    if (nin == 2) ipair_merge(c);
}

/* ---------------------------------------------- rotate and float fusions */

/* The terms of an xor of rotations of one value: rotl amounts (a rotr by k
 * is a rotl by 32 - k) and at most one logical right shift. */
typedef struct {
    uint32_t nrot, nshr;
    uint32_t rot[4];
    uint32_t shr;
} xterms;

/* Add pending entry e's terms to t; false if e is not such a term. */
static bool xrot_terms(const ventry *e, xterms *t) {
    if (e->kind == E_XROT && e->lop >= 2) return false; /* three terms already */
    if (e->kind == E_XROT) {
        t->rot[t->nrot++] = e->s;
        if (e->lop) {
            t->shr = e->b;
            t->nshr++;
        } else {
            t->rot[t->nrot++] = e->b;
        }
        return true;
    }
    if (e->kind != E_SHIFT) return false;
    if (e->lop == SH_ROTL)
        t->rot[t->nrot++] = e->s & 31u;
    else if (e->lop == SH_ROTR)
        t->rot[t->nrot++] = (32u - e->s) & 31u;
    else if (e->lop == SH_SHR_U) {
        t->shr = e->s;
        t->nshr++;
    } else
        return false;
    return true;
}

/*
 * Xor of rotations of one value: rotl(y, a) ^ rotl(y, b), with a third
 * rotation or a logical right shift (the sigma functions of SHA-2, and of
 * other hashes). Two terms over the same slot stay pending (E_XROT, which
 * reads only that slot, as the E_SHIFTs it replaces did); a third makes one
 * instruction (I32_XROT3, I32_XROT2_SHR) instead of three. Xor is
 * associative and commutative, so the terms may come in any order. Returns
 * false if the operands are not such terms.
 */
static bool try_xor_rot(comp *c, const ventry *ae, const ventry *be, uint32_t ai) {
    xterms t;
    memset(&t, 0, sizeof t);
    (void)ai;
    if (ae->a != be->a || !xrot_terms(ae, &t) || !xrot_terms(be, &t)) return false;
    if (t.nrot == 0 || t.nshr > 1 || t.nrot + t.nshr > 3) return false;
    if (t.nrot + t.nshr == 2) {
        ventry *p = push_entry(c);
        if (p)
            *p = (ventry){.kind = E_XROT,
                          .s = (uint8_t)t.rot[0],
                          .a = ae->a,
                          .b = t.nshr ? t.shr : t.rot[1],
                          .lop = (uint8_t)t.nshr};
        return true;
    }
    ventry *p = push_entry(c); /* three terms: pending too (try_add_xrot) */
    if (p)
        *p = (ventry){.kind = E_XROT,
                      .s = (uint8_t)t.rot[0],
                      .a = ae->a,
                      .b = t.rot[1],
                      .k = t.nshr ? t.shr : t.rot[2],
                      .lop = (uint8_t)(2 + t.nshr)};
    return true;
}

/*
 * x + (an xor of rotations): SHA-2's `h + Sigma1(e)`, `w + sigma0(x)`. A
 * pending E_XROT added to another value becomes one instruction
 * (I32_ADD_XROT2 ...). Returns false if neither operand is one.
 */
static bool try_add_xrot(comp *c, const ventry *ae, const ventry *be, uint32_t ai) {
    const ventry *r, *x;
    uint32_t xi;
    if (be->kind == E_XROT)
        r = be, x = ae, xi = ai;
    else if (ae->kind == E_XROT)
        r = ae, x = be, xi = ai + 1;
    else
        return false;
    uint32_t sx = entry_slot(c, x, xi);
    emit_op(c, WEX__IOP_I32_ADD_XROT2 + r->lop);
    push_result(c);
    emit(c, sx);
    emit(c, r->a);
    emit(c, r->s);
    emit(c, r->b);
    if (r->lop >= 2) emit(c, (uint32_t)r->k);
    c->last_dst_site = c->last_op_start + 1;
    return true;
}

/*
 * x & ~y (`~e & g` in SHA-2's choice function): an i32.and whose operand is
 * the temporary that the instruction just emitted computed as y ^ -1 takes
 * that instruction back and becomes I32_ANDN. The temporary is a canonical
 * slot being popped, so nothing else reads it. Returns false otherwise.
 */
static bool try_andn(comp *c, const ventry *ae, const ventry *be, uint32_t ai) {
    size_t p = c->last_op_start;
    if (c->oom || p == NONE || p + 4 != c->len || c->code[p] != WEX__IOP_I32_XOR_IMM ||
        c->code[p + 3] != UINT32_MAX)
        return false;
    uint32_t t = c->code[p + 1];
    const ventry *x;
    if (be->kind == E_SLOT && be->a == t && t == pos_of(c, ai + 1))
        x = ae;
    else if (ae->kind == E_SLOT && ae->a == t && t == pos_of(c, ai))
        x = be;
    else
        return false;
    if (x->kind != E_SLOT) return false; /* nothing may be emitted in between */
    uint32_t y = c->code[p + 2];
    c->len = p;
    c->last_op_start = c->prev_op_start;
    c->prev_op_start = NONE;
    emit_op(c, WEX__IOP_I32_ANDN);
    push_result(c);
    emit(c, x->a);
    emit(c, y);
    c->last_dst_site = c->last_op_start + 1;
    ipair_merge(c);
    return true;
}

/* Words of a float comparison instruction (F32_EQ ... F64_GE_IMM), or 0;
 * *fam its BR_F* family (F32, F32_IMM, F64, F64_IMM) and *k its index in
 * EQ NE LT GT LE GE. */
static unsigned fcmp_words(uint32_t op, uint32_t *fam, uint32_t *k) {
    if (op >= WEX__IOP_F32_EQ && op <= WEX__IOP_F32_GE)
        return *fam = 0, *k = op - WEX__IOP_F32_EQ, 4;
    if (op >= WEX__IOP_F32_EQ_IMM && op <= WEX__IOP_F32_GE_IMM)
        return *fam = 1, *k = op - WEX__IOP_F32_EQ_IMM, 4;
    if (op >= WEX__IOP_F64_EQ && op <= WEX__IOP_F64_GE)
        return *fam = 2, *k = op - WEX__IOP_F64_EQ, 4;
    if (op >= WEX__IOP_F64_EQ_IMM && op <= WEX__IOP_F64_GE_IMM)
        return *fam = 3, *k = op - WEX__IOP_F64_EQ_IMM, 5;
    return 0;
}

/* index in EQ NE LT GT LE GE NLT NGT NLE NGE -> the branch taken exactly
 * when it is not (NaN makes LT ... GE false, so their negations are the N
 * forms, never GE ... LT) */
static const uint8_t brf_neg[10] = {1, 0, 6, 7, 8, 9, 2, 3, 4, 5};

/*
 * Float compare-and-branch: a branch on the result of a float comparison
 * (or on its i32.eqz) that was the last instruction emitted drops the
 * comparison and branches on its operands (BR_F32_EQ ... BR_F64_NGE_IMM),
 * as try_fuse does for i32 ones; the operands stay valid for the same
 * reasons. Sets f (op: the branch taken when the condition holds) and
 * returns true, or returns false with nothing changed.
 */
static bool try_fuse_fcmp(comp *c, uint32_t cond, fused *f) {
    size_t p = c->last_op_start, at = p;
    uint32_t op = c->code[p], fam = 0, k = 0;
    bool neg = false;
    unsigned n;
    if (op == WEX__IOP_I32_EQZ) { /* eqz(a < b): the comparison right before it */
        size_t q = c->prev_op_start;
        if (q == NONE || p + 3 != c->len || c->code[p + 2] != cond) return false;
        n = fcmp_words(c->code[q], &fam, &k);
        if (!n || q + n != p || c->code[q + 1] != cond) return false;
        neg = true;
        at = q;
        if (c->eqz_fcmp == q && c->eqz_fprev != NONE) f->prev = c->eqz_fprev;
    } else {
        n = fcmp_words(op, &fam, &k);
        if (!n || p + n != c->len) return false;
    }
    if (neg) k = brf_neg[k];
    f->op = WEX__IOP_BR_F32_EQ + fam * 10 + k;
    f->a = c->code[at + 2];
    f->b = c->code[at + 3];
    f->k2 = n == 5 ? c->code[at + 4] : 0;
    size_t before = neg ? f->prev : c->prev_op_start; /* the instruction before the comparison */
    f->prev = NONE;
    if ((fam & 1) && before != NONE && before + 4 == at) {
        uint32_t w = 0, j = (uint32_t)fpair_index(c->code[before], &w);
        if (j < 3 && w == fam / 2) f->prev = before; /* fobr_merge may take it */
    }
    c->len = at;
    barrier(c);
    return true;
}

/* Emit a float compare-and-branch (taken when the condition is `when`),
 * all but its offset word. */
static void emit_fcond(comp *c, const fused *f, bool when) {
    uint32_t rel = f->op - WEX__IOP_BR_F32_EQ, fam = rel / 10, k = rel % 10;
    if (!when) k = brf_neg[k];
    if (fobr_merge(c, f, fam, k)) return;
    emit_op(c, WEX__IOP_BR_F32_EQ + fam * 10 + k);
    emit(c, f->a);
    emit(c, f->b);
    if (fam == 3) emit(c, f->k2);
}

/* The index of float operation op in a pair family (ADD SUB MUL MULADD
 * MULSUB SUBMUL), its type (0 f32, 1 f64) in *wide; -1 if none. */
static int fpair_index(uint32_t op, uint32_t *wide) {
    static const uint32_t ops[2][6] = {
        {WEX__IOP_F32_ADD, WEX__IOP_F32_SUB, WEX__IOP_F32_MUL, WEX__IOP_F32_MULADD,
         WEX__IOP_F32_MULSUB, WEX__IOP_F32_SUBMUL},
        {WEX__IOP_F64_ADD, WEX__IOP_F64_SUB, WEX__IOP_F64_MUL, WEX__IOP_F64_MULADD,
         WEX__IOP_F64_MULSUB, WEX__IOP_F64_SUBMUL}};
    for (uint32_t w = 0; w < 2; w++)
        for (int j = 0; j < 6; j++)
            if (ops[w][j] == op) {
                *wide = w;
                return j;
            }
    return -1;
}

/*
 * Float operations in a row (`zr*zr` then `zi + zi`, `a*b` then `c - p*m`):
 * an add, sub, mul or multiply-add instruction just completed right after
 * another of the same type (no label between) joins it as one T_PAIR_A_B
 * instruction, which runs both in order, so any data flow between them (or
 * none) stays as it was. Call right after such an instruction's last word.
 */
static void fpair_merge(comp *c) {
    size_t q = c->last_op_start, p = c->prev_op_start;
    uint32_t w1 = 0, w2 = 0;
    if (c->oom || p == NONE || q == NONE) return;
    int i1 = fpair_index(c->code[p], &w1), i2 = fpair_index(c->code[q], &w2);
    if (i1 < 0 || i2 < 0 || w1 != w2) return;
    size_t n1 = i1 < 3 ? 4 : 5, n2 = i2 < 3 ? 4 : 5;
    if (p + n1 != q || q + n2 != c->len) return;
    c->code[p] = WEX__IOP_F32_PAIR_ADD_ADD + w1 * 36 + (uint32_t)(i1 * 6 + i2);
    memmove(c->code + q, c->code + q + 1, (n2 - 1) * sizeof *c->code);
    c->len--;
    if (c->last_dst_site != NONE && c->last_dst_site > q) c->last_dst_site--;
    c->last_op_start = p;
    c->prev_op_start = NONE;
}

/*
 * A pending load may also wait below float arithmetic that does not take it
 * as an operand (`a[i] -= x * y * z`: the load of a[i], then the product):
 * float operators never trap, write memory or write locals, so the load
 * still reads what it would have, and a store back to its address can
 * become read-modify-write. The entries they push sit above the load, which
 * then reads only locals and its own slot (push_entry computed it if it read
 * the slot above).
 */
static bool keeps_load_float(comp *c, unsigned idx) {
    bool f32 = idx >= WEX__OPI_F32_ABS && idx <= WEX__OPI_F32_COPYSIGN;
    bool f64 = idx >= WEX__OPI_F64_ABS && idx <= WEX__OPI_F64_COPYSIGN;
    if (!f32 && !f64) return false;
    unsigned nin = (unsigned)(strchr(wex__ops[idx].sig, ':') - wex__ops[idx].sig);
    return c->pload + nin < c->nvs; /* its operands are all above the load */
}

/*
 * A float compare-and-branch against a constant (family fam 1 or 3, index
 * k) right after the float add, sub or mul that try_fuse_fcmp found before
 * the comparison (f->prev; `zr*zr + zi*zi <= 4`) joins that instruction as
 * one (T_A_BR_*_IMM), which does the operation, then the branch. Only if
 * nothing was emitted between them. Emits all but the offset word; false if
 * it does not apply.
 */
static bool fobr_merge(comp *c, const fused *f, uint32_t fam, uint32_t k) {
    size_t p = f->prev;
    uint32_t w = 0;
    if (c->oom || p == NONE || !(fam & 1) || p + 4 != c->len) return false;
    int j = fpair_index(c->code[p], &w);
    if (j < 0 || j > 2 || w != fam / 2) return false;
    c->code[p] =
        (w ? WEX__IOP_F64_ADD_BR_EQ_IMM : WEX__IOP_F32_ADD_BR_EQ_IMM) + (uint32_t)j * 10 + k;
    emit(c, f->a);
    emit(c, f->b);
    if (fam == 3) emit(c, f->k2);
    barrier(c);
    return true;
}

/* Translating i32.eqz: if it reads a float comparison just emitted, note
 * that comparison and the instruction before it (the eqz becomes the last
 * instruction, and try_fuse_fcmp would not know the one before). */
static void note_eqz(comp *c) {
    uint32_t fam = 0, k = 0;
    size_t p = c->last_op_start;
    c->eqz_fcmp = c->eqz_fprev = NONE;
    if (c->oom || p == NONE || !fcmp_words(c->code[p], &fam, &k)) return;
    c->eqz_fcmp = p;
    c->eqz_fprev = c->prev_op_start;
}

/* The index of i32 operation op in the pair family (ADD SUB AND OR XOR
 * ANDN), or -1. */
static int ipair_index(uint32_t op) {
    static const uint32_t ops[6] = {WEX__IOP_I32_ADD, WEX__IOP_I32_SUB, WEX__IOP_I32_AND,
                                    WEX__IOP_I32_OR,  WEX__IOP_I32_XOR, WEX__IOP_I32_ANDN};
    for (int j = 0; j < 6; j++)
        if (ops[j] == op) return j;
    return -1;
}

/*
 * i32 operations in a row (SHA-2's `(b ^ c) & a`, `t1 + t2`): an add, sub,
 * and, or, xor or and-not just completed right after another (no label
 * between) joins it as one I32_PAIR_A_B instruction, run in order as
 * fpair_merge's float pairs are. Call right after such an instruction's
 * last word.
 */
static void ipair_merge(comp *c) {
    size_t q = c->last_op_start, p = c->prev_op_start;
    if (c->oom || p == NONE || q == NONE || p + 4 != q || q + 4 != c->len) return;
    int i1 = ipair_index(c->code[p]), i2 = ipair_index(c->code[q]);
    if (i1 < 0 || i2 < 0) return;
    c->code[p] = WEX__IOP_I32_PAIR_ADD_ADD + (uint32_t)(i1 * 6 + i2);
    memmove(c->code + q, c->code + q + 1, 3 * sizeof *c->code);
    c->len--;
    if (c->last_dst_site != NONE && c->last_dst_site > q) c->last_dst_site--;
    c->last_op_start = p;
    c->prev_op_start = NONE;
}

/*
 * Loop ends (session 4): a BR_ADDI_* just emitted right after an I32_ADD_IMM
 * or I32_ADD_IMM2 that starts at pp (a second induction variable, a pointer
 * stepped with the counter) absorbs it: BR_ADDI2_* / BR_ADDI3_*, one
 * dispatch instead of two. So does one I32_ADD (`sum += v`, fib's
 * accumulator: BR_ADDIR2_*), CONST32 or MOVE (a value the next turn starts
 * from: BR_ADDIC2_*, BR_ADDIM2_*; session 6). The first instruction's words
 * stay where they are and run first (the handler writes each destination
 * before reading the next operand, so slots that alias behave as in the two
 * instructions). The caller emits the offset word next.
 */
static void loop_addi_extra(comp *c, size_t pp) {
    size_t q = c->last_op_start;
    if (c->oom || pp == NONE || q == NONE || q + 4 != c->len) return;
    uint32_t br = c->code[q], first = c->code[pp], base;
    if (br < WEX__IOP_BR_ADDI_I32_EQ || br > WEX__IOP_BR_ADDI_I32_GE_U_IMM) return;
    if (addi_ends_at(c, pp, q))
        base = first == WEX__IOP_I32_ADD_IMM2 ? WEX__IOP_BR_ADDI3_I32_EQ : WEX__IOP_BR_ADDI2_I32_EQ;
    else if (pp + 4 == q && first == WEX__IOP_I32_ADD)
        base = WEX__IOP_BR_ADDIR2_I32_EQ;
    else if (pp + 3 == q && first == WEX__IOP_CONST32)
        base = WEX__IOP_BR_ADDIC2_I32_EQ;
    else if (pp + 3 == q && first == WEX__IOP_MOVE)
        base = WEX__IOP_BR_ADDIM2_I32_EQ;
    else
        return;
    c->code[pp] = base + (br - WEX__IOP_BR_ADDI_I32_EQ);
    c->code[q] = c->code[q + 1]; /* drop the BR_ADDI's opcode word */
    c->code[q + 1] = c->code[q + 2];
    c->code[q + 2] = c->code[q + 3];
    c->len = q + 3;
    c->last_op_start = pp;
    c->prev_op_start = c->pprev_op_start = NONE;
}

/*
 * Dispatch (session 4): a br_table right after an I32_ADD_IMM (the `pc + 1`
 * of `switch (code[pc++])`) takes the add in: BR_TABLE_IA for a key in a
 * slot, BR_TABLE_MPA ... BR_TABLE_MSA for a key loaded from memory (ke, a
 * pending load; NULL for a slot key). Right after an I32_ADD_IMM2, both adds
 * (the A2 forms), and an I32_ADD_IMM right after an I32_ADD_IMM2, all three
 * (A3; session 6). The add runs first, so a key or an
 * address that reads its destination sees the new value, as before. Emits
 * the instruction up to its offsets; false (nothing emitted) if there is no
 * such add. A trap in the M forms is the key load's: its offset is noted.
 */
static bool br_table_addi(comp *c, const ventry *ke, uint32_t key, uint32_t n) {
    size_t p = c->last_op_start, pp = c->prev_op_start;
    if (c->oom || c->in_table || p == NONE) return false;
    unsigned nadd; /* 1: an I32_ADD_IMM, 2: an I32_ADD_IMM2, 3: both, in that order */
    if (p + 7 == c->len && c->code[p] == WEX__IOP_I32_ADD_IMM2)
        nadd = 2;
    else if (p + 4 == c->len && c->code[p] == WEX__IOP_I32_ADD_IMM)
        nadd = pp != NONE && pp + 7 == p && c->code[pp] == WEX__IOP_I32_ADD_IMM2 ? 3 : 1;
    else
        return false;
    size_t from = nadd == 3 ? pp : p;
    uint32_t adds[9];
    memcpy(adds, c->code + from + 1, (nadd == 1 ? 3 : 6) * sizeof *adds);
    if (nadd == 3) memcpy(adds + 6, c->code + p + 1, 3 * sizeof *adds);
    c->len = from; /* take the adds back; the pcmap pairs past them go with them */
    uint32_t here = c->op_off;
    if (ke) {
        c->op_off = ke->woff;
        emit_op(c, brt_aform(WEX__IOP_BR_TABLE_MPA + ke->form, nadd));
        emit(c, n);
        emit_addr_words(c, ke);
        emit(c, ke->off);
    } else {
        emit_op(c, brt_aform(WEX__IOP_BR_TABLE_IA, nadd));
        emit(c, key);
        emit(c, n);
    }
    for (unsigned w = 0; w < 3 * nadd; w++)
        emit(c, adds[w]);
    c->op_off = here;
    c->prev_op_start = c->pprev_op_start = NONE;
    return true;
}

/*
 * Stores of a constant (session 4): `p->next = 0`, memset's zero words. A
 * store whose value is a pending constant and whose address is a slot or a
 * slot plus a constant (the P and I forms) becomes a STOREV_*, with the value
 * as an immediate, instead of a CONST32/CONST64 into a slot and the store.
 * Each store operator maps to the STOREV of its width (f32.store of a
 * constant stores its bits; i64.store32 the low word); a 64-bit constant only
 * when it is a sign-extended 32-bit one. Returns false (nothing popped) for
 * other shapes.
 */
static bool store_const(comp *c, unsigned idx, uint32_t offset) {
    if (c->nvs < 2 || c->vs[c->nvs - 1].kind != E_CONST) return false;
    uint64_t k = c->vs[c->nvs - 1].k;
    const ventry *ae = &c->vs[c->nvs - 2];
    if (ae->kind == E_LEA || is_i32_const(ae)) return false; /* the R, S, K forms */
    uint32_t op;
    switch (idx) {
    case WEX__OPI_I32_STORE:
    case WEX__OPI_F32_STORE:
    case WEX__OPI_I64_STORE32: op = WEX__IOP_STOREV_32; break;
    case WEX__OPI_I64_STORE:
    case WEX__OPI_F64_STORE:
        if ((uint64_t)(int64_t)(int32_t)(uint32_t)k != k) return false;
        op = WEX__IOP_STOREV_64;
        break;
    case WEX__OPI_I32_STORE8:
    case WEX__OPI_I64_STORE8: op = WEX__IOP_STOREV_8; break;
    case WEX__OPI_I32_STORE16:
    case WEX__OPI_I64_STORE16: op = WEX__IOP_STOREV_16; break;
    default: return false;
    }
    pop_entry(c);
    ventry a = pop_entry(c);
    ventry m = addr_of(c, &a, c->nvs, offset);
    emit_op(c, op);
    emit(c, m.a);
    emit(c, m.form == F_I ? (uint32_t)m.k : 0);
    emit(c, (uint32_t)k);
    emit(c, m.off);
    return true;
}

/* The store instruction in code words [p, end), if it is one: a plain store
 * of a slot in the P or I form, or a STOREV_*. Sets its words (k 0 for the P
 * form), its width (0..3: 32, 64, 8, 16 bits, the STOREV order) and whether
 * its value is a constant. */
typedef struct {
    uint32_t w[4]; /* a, k, value, off */
    unsigned width;
    bool imm;
} store_parts;

static bool store_at(comp *c, size_t p, size_t end, store_parts *s) {
    static const uint8_t widths[] = {0, 1, 0, 1, 2, 3, 2, 3, 0}; /* I32_STORE ... I64_STORE32 */
    const uint32_t nst = WEX__IOP_I64_STORE32 - WEX__IOP_I32_STORE + 1;
    uint32_t op = c->code[p];
    const uint32_t *x = c->code + p + 1;
    if (op >= WEX__IOP_I32_STORE && op < WEX__IOP_I32_STORE + nst && p + 4 == end) {
        *s = (store_parts){{x[0], 0, x[1], x[2]}, widths[op - WEX__IOP_I32_STORE], false};
    } else if (op >= WEX__IOP_I32_STORE_I && op < WEX__IOP_I32_STORE_I + nst && p + 5 == end) {
        *s = (store_parts){{x[0], x[1], x[2], x[3]}, widths[op - WEX__IOP_I32_STORE_I], false};
    } else if (op >= WEX__IOP_STOREV_32 && op <= WEX__IOP_STOREV_16 && p + 5 == end) {
        *s = (store_parts){{x[0], x[1], x[2], x[3]}, op - WEX__IOP_STOREV_32, true};
    } else {
        return false;
    }
    return true;
}

/*
 * Two stores in a row (session 4): struct fields initialised one after
 * another, a list's `p->next = q; q->prev = p`, memset's unrolled body. A
 * store just emitted right after another of the same width, both with slot
 * values or both with constants (P, I forms, STOREV), joins it: STORE2_* or
 * STOREV2_*, one dispatch. The first's words keep their operator's offset
 * in the backtrace table, the second's (from the fifth word) the current
 * one, which the handler's trap in the second store points at.
 */
static void store_pair(comp *c) {
    size_t q = c->last_op_start, p = c->prev_op_start;
    store_parts s1, s2;
    if (c->oom || p == NONE || q == NONE || p >= q || !store_at(c, p, q, &s1) ||
        !store_at(c, q, c->len, &s2) || s1.width != s2.width || s1.imm != s2.imm)
        return;
    uint32_t here = c->op_off;
    c->op_off = pc_offset_of(c, p);
    c->len = p; /* take both back; the table's pairs past p go with them */
    emit_op(c, (s1.imm ? WEX__IOP_STOREV2_32 : WEX__IOP_STORE2_32) + s1.width);
    for (unsigned k = 0; k < 4; k++)
        emit(c, s1.w[k]);
    c->op_off = here;
    for (unsigned k = 0; k < 4; k++)
        emit(c, s2.w[k]);
    c->prev_op_start = c->pprev_op_start = NONE;
}

/*
 * Constants and copies in a row (session 4): call arguments and select
 * operands set up one after another, a loop's counters reset. A CONST32
 * right after a CONST32 or a MOVE, or a MOVE right after a CONST32 (no label
 * between), joins it: CONST32_2, MOVE_CONST32, CONST32_MOVE, run in program
 * order. Returns false (nothing emitted) if there is no such instruction.
 */
static bool pair_merge(comp *c, bool is_const, uint32_t dst, uint32_t x) {
    size_t p = c->last_op_start;
    if (c->oom || p == NONE || p + 3 != c->len) return false;
    uint32_t op = c->code[p];
    if (op == WEX__IOP_CONST32)
        c->code[p] = is_const ? WEX__IOP_CONST32_2 : WEX__IOP_CONST32_MOVE;
    else if (op == WEX__IOP_MOVE && is_const)
        c->code[p] = WEX__IOP_MOVE_CONST32;
    else
        return false;
    emit(c, dst);
    emit(c, x);
    c->prev_op_start = c->pprev_op_start = NONE;
    /* the second part is the last value written (a local.set may retarget
     * a constant's; a copy's is never retargeted, as a MOVE's) */
    c->last_dst_site = is_const ? c->len - 2 : NONE;
    c->last_dst_pos = dst;
    return true;
}

/*
 * An i32 result stored right away (session 4): `p->head = size | 1`, a
 * pointer bumped and saved. An i32.store in the P form of the value that the
 * I32_ADD_IMM, I32_OR_IMM or I32_ADD just emitted computed turns it into
 * its _ST variant (the result is still written to its slot). The store's
 * words come after the operator's, under the store's module offset. Returns
 * false if it does not apply.
 */
static bool store_result(comp *c, const ventry *m, unsigned idx, uint32_t val) {
    size_t p = c->last_op_start;
    if (c->oom || idx != WEX__OPI_I32_STORE || m->form != F_P || p == NONE || p + 4 != c->len ||
        c->last_dst_site != p + 1 || c->code[p + 1] != val)
        return false;
    uint32_t op = c->code[p];
    if (op == WEX__IOP_I32_ADD_IMM)
        op = WEX__IOP_I32_ADD_IMM_ST;
    else if (op == WEX__IOP_I32_OR_IMM)
        op = WEX__IOP_I32_OR_IMM_ST;
    else if (op == WEX__IOP_I32_ADD)
        op = WEX__IOP_I32_ADD_ST;
    else
        return false;
    c->code[p] = op;
    emit(c, m->a);
    emit(c, m->off);
    c->last_dst_site = NONE;
    c->prev_op_start = c->pprev_op_start = NONE;
    return true;
}

/*
 * Loads fused with the branch right after them (session 4): `if (*p == 0)`,
 * `if (*s >= 10)`, `if (*s & 0x80)`,
 * `while (s[i] != c)`, where the loaded value is also kept (a local.tee) and
 * so cannot be folded away. The branch's first operand must be the load's
 * destination (a compare with it second is mirrored). Only the load's opcode
 * word changes (LB_*, see interp.h); the branch stays a whole instruction
 * after it. loadbr_find, called before the branch's condition is fused,
 * names the load that may end up right before the branch: the last
 * instruction, or the one before a comparison the branch may take back.
 */
static int loadbr_load(uint32_t op) {
    static const uint32_t loads[8] = {WEX__IOP_I32_LOAD,      WEX__IOP_I32_LOAD_I,
                                      WEX__IOP_I32_LOAD_R,    WEX__IOP_I32_LOAD_K,
                                      WEX__IOP_I32_LOAD8_U,   WEX__IOP_I32_LOAD8_U_I,
                                      WEX__IOP_I32_LOAD8_U_R, WEX__IOP_I32_LOAD8_U_K};
    for (int j = 0; j < 8; j++)
        if (loads[j] == op) return j;
    return -1;
}

/* Words of load j of loadbr_load's list (P, I, R, K forms). */
static size_t loadbr_words(int j) {
    static const uint8_t words[4] = {4, 5, 7, 4};
    return words[j & 3];
}

static size_t loadbr_find(comp *c) {
    size_t q = c->last_op_start, p = c->prev_op_start;
    if (c->oom || q == NONE) return NONE;
    int lq = loadbr_load(c->code[q]);
    if (lq >= 0 && q + loadbr_words(lq) == c->len) return q;
    int lp = p == NONE ? -1 : loadbr_load(c->code[p]);
    if (lp >= 0 && p + loadbr_words(lp) == q) return p;
    return NONE;
}

/* After the branch's opcode and operand words (not its offset): fuse the
 * load found at p into it if they are adjacent and of the listed kinds. */
static void loadbr_fuse(comp *c, size_t p) {
    size_t q = c->last_op_start;
    if (c->oom || p == NONE || q == NONE) return;
    int li = loadbr_load(c->code[p]);
    if (li < 0 || p + loadbr_words(li) != q) return;
    uint32_t op = c->code[q], dst = c->code[p + 1];
    int k;
    switch (op) {
    case WEX__IOP_BR_IF_Z: k = 0; break;
    case WEX__IOP_BR_IF_NZ: k = 1; break;
    case WEX__IOP_BR_I32_EQ: k = 2; break;
    case WEX__IOP_BR_I32_NE: k = 3; break;
    case WEX__IOP_BR_I32_LT_U: k = 4; break;
    case WEX__IOP_BR_I32_GT_U: k = 5; break;
    case WEX__IOP_BR_I32_LE_U: k = 6; break;
    case WEX__IOP_BR_I32_GE_U: k = 7; break;
    case WEX__IOP_BR_I32_EQ_IMM: k = 8; break;
    case WEX__IOP_BR_I32_NE_IMM: k = 9; break;
    case WEX__IOP_BR_I32_LT_S_IMM: k = 10; break;
    case WEX__IOP_BR_I32_GE_S_IMM: k = 11; break;
    case WEX__IOP_BR_I32_LT_U_IMM: k = 12; break;
    case WEX__IOP_BR_I32_GE_U_IMM: k = 13; break;
    case WEX__IOP_BR_I32_TEST_NZ_IMM: k = 14; break;
    case WEX__IOP_BR_I32_TEST_Z_IMM: k = 15; break;
    default: return;
    }
    if (k >= 8) { /* against an immediate (LBI_*): P and I forms */
        if (li % 4 > 1 || c->len != q + 3 || c->code[q + 1] != dst) return;
        c->code[p] =
            WEX__IOP_LBI_I32_LOAD_EQ + (uint32_t)(li / 4 * 2 + li % 4) * 8 + (uint32_t)(k - 8);
        barrier(c);
        return;
    }
    if (c->len != q + (k < 2 ? 2 : 3)) return;
    if (c->code[q + 1] != dst) {
        /* b op a for the value second: the mirrored comparison */
        static const uint32_t mirror[8] = {0,
                                           0,
                                           WEX__IOP_BR_I32_EQ,
                                           WEX__IOP_BR_I32_NE,
                                           WEX__IOP_BR_I32_GT_U,
                                           WEX__IOP_BR_I32_LT_U,
                                           WEX__IOP_BR_I32_GE_U,
                                           WEX__IOP_BR_I32_LE_U};
        if (k < 2 || c->code[q + 2] != dst) return;
        c->code[q] = mirror[k];
        c->code[q + 2] = c->code[q + 1];
        c->code[q + 1] = dst;
        k ^= k >= 4 ? 1 : 0;
    }
    c->code[p] = WEX__IOP_LB_I32_LOAD_BR_IF_Z + (uint32_t)li * 8 + (uint32_t)k;
    barrier(c);
}

/*
 * Copies (session 4): a load right before a store of the same width of the
 * loaded value, `*d = *s` (CP_*, see interp.h). Only the load's opcode word
 * changes; the store stays a whole instruction after it, and the load's
 * destination is still written (a local.tee may read it later). copy_find,
 * called right before the store is emitted, names the load if it is the
 * last instruction; copy_fuse, right after, fuses the two.
 */
static const uint32_t copy_loads[9] = {
    WEX__IOP_I32_LOAD,    WEX__IOP_I32_LOAD_I,    WEX__IOP_I32_LOAD_R,
    WEX__IOP_I64_LOAD,    WEX__IOP_I64_LOAD_I,    WEX__IOP_I64_LOAD_R,
    WEX__IOP_I32_LOAD8_U, WEX__IOP_I32_LOAD8_U_I, WEX__IOP_I32_LOAD8_U_R};
static const uint32_t copy_stores[9] = {
    WEX__IOP_I32_STORE,  WEX__IOP_I32_STORE_I,  WEX__IOP_I32_STORE_R,
    WEX__IOP_I64_STORE,  WEX__IOP_I64_STORE_I,  WEX__IOP_I64_STORE_R,
    WEX__IOP_I32_STORE8, WEX__IOP_I32_STORE8_I, WEX__IOP_I32_STORE8_R};

/* The index of op in a 9-entry list (width * 3 + form), or -1. */
static int copy_index(const uint32_t *list, uint32_t op) {
    for (int j = 0; j < 9; j++)
        if (list[j] == op) return j;
    return -1;
}

static size_t copy_find(comp *c) {
    size_t q = c->last_op_start;
    if (c->oom || q == NONE) return NONE;
    int j = copy_index(copy_loads, c->code[q]);
    return j >= 0 && q + loadbr_words(j % 3) == c->len ? q : NONE;
}

static bool copy_fuse(comp *c, size_t p) {
    size_t q = c->last_op_start;
    if (c->oom || p == NONE || q == NONE) return false;
    int l = copy_index(copy_loads, c->code[p]), st = copy_index(copy_stores, c->code[q]);
    if (l < 0 || st < 0 || l / 3 != st / 3 || p + loadbr_words(l % 3) != q) return false;
    static const uint8_t words[3] = {4, 5, 7}, valw[3] = {2, 3, 5};
    if (c->len != q + words[st % 3] || c->code[q + valw[st % 3]] != c->code[p + 1]) return false;
    c->code[p] =
        WEX__IOP_CP_I32_PP + (uint32_t)(l / 3) * 9 + (uint32_t)(l % 3) * 3 + (uint32_t)(st % 3);
    barrier(c);
    return true;
}

/*
 * Select on a comparison (session 4): `select(a, b, x < y)`, the lowering of
 * `x < y ? a : b`, where the i32 comparison (or eqz) writing the condition's
 * slot was the last instruction emitted, becomes one instruction
 * (SELECT_I32_*: compare, write the comparison's slot as before, since a
 * local.tee may have made it a local that is read later, then pick). Nothing
 * ran between the two, so the comparison's operands still hold the values it
 * read. Returns false (nothing emitted) otherwise.
 */
static bool select_cmp(comp *c, uint32_t a, uint32_t b, uint32_t cond) {
    size_t p = c->last_op_start;
    if (c->oom || p == NONE || (p + 3 != c->len && p + 4 != c->len) || c->code[p + 1] != cond)
        return false;
    uint32_t op = c->code[p], x = 0, y = 0, sel;
    if (op == WEX__IOP_I32_EQZ && p + 3 == c->len) { /* x == 0 */
        sel = WEX__IOP_SELECT_I32_EQ_IMM;
        x = c->code[p + 2];
    } else if (p + 4 == c->len && op >= WEX__IOP_I32_EQ && op <= WEX__IOP_I32_GE_U) {
        sel = WEX__IOP_SELECT_I32_EQ + (op - WEX__IOP_I32_EQ);
        x = c->code[p + 2], y = c->code[p + 3];
    } else if (p + 4 == c->len && op >= WEX__IOP_I32_EQ_IMM && op <= WEX__IOP_I32_GE_U_IMM) {
        sel = WEX__IOP_SELECT_I32_EQ_IMM + (op - WEX__IOP_I32_EQ_IMM);
        x = c->code[p + 2], y = c->code[p + 3];
    } else {
        return false;
    }
    c->len = p; /* take the comparison back */
    emit_op(c, sel);
    push_result(c);
    emit(c, a);
    emit(c, b);
    emit(c, x);
    emit(c, y);
    emit(c, cond);
    c->last_dst_site = c->last_op_start + 1;
    return true;
}

/*
 * Float store and load pairs (session 5; FST_* and LL_*, see interp.h): as
 * the copies above, only the first instruction's opcode word changes and
 * the second keeps all its words.
 *
 * fst_fuse: a float store (P, I, R, K forms) of the value that the float
 * add, sub or mul (of two slots, or of a slot and a constant) right before
 * it computed, `v[k] = 0.2f * s`, `p->x = x + dt * vx`. Nothing ran between
 * them (no label: the operation is the previous instruction, and the store's
 * words follow its last one). Call right after the store's last word;
 * false if it does not apply.
 */
static const uint32_t fst_ops[2][6] = {
    {WEX__IOP_F32_ADD, WEX__IOP_F32_SUB, WEX__IOP_F32_MUL, WEX__IOP_F32_ADD_IMM,
     WEX__IOP_F32_SUB_IMM, WEX__IOP_F32_MUL_IMM},
    {WEX__IOP_F64_ADD, WEX__IOP_F64_SUB, WEX__IOP_F64_MUL, WEX__IOP_F64_ADD_IMM,
     WEX__IOP_F64_SUB_IMM, WEX__IOP_F64_MUL_IMM}};
static const uint32_t fst_stores[2][4] = {
    {WEX__IOP_F32_STORE, WEX__IOP_F32_STORE_I, WEX__IOP_F32_STORE_R, WEX__IOP_F32_STORE_K},
    {WEX__IOP_F64_STORE, WEX__IOP_F64_STORE_I, WEX__IOP_F64_STORE_R, WEX__IOP_F64_STORE_K}};

static bool fst_fuse(comp *c) {
    static const uint8_t swords[4] = {4, 5, 7, 4}, valw[4] = {2, 3, 5, 2};
    size_t q = c->last_op_start, p = c->prev_op_start;
    if (c->oom || p == NONE || q == NONE || p >= q) return false;
    for (uint32_t t = 0; t < 2; t++)
        for (uint32_t f = 0; f < 4; f++) {
            if (c->code[q] != fst_stores[t][f]) continue;
            if (c->len != q + swords[f]) return false;
            for (uint32_t o = 0; o < 6; o++) {
                if (c->code[p] != fst_ops[t][o]) continue;
                size_t ow = o >= 3 && t ? 5 : 4; /* an f64 constant takes two words */
                if (p + ow != q || c->code[q + valw[f]] != c->code[p + 1]) return false;
                c->code[p] = WEX__IOP_FST_F32_ADD_P + t * 24 + o * 4 + f;
                barrier(c);
                return true;
            }
            return false;
        }
    return false;
}

/*
 * ll_fuse: a float load (P, I, R forms) right before the add or mul with a
 * memory operand (P, I, R forms) that takes the loaded value as x: a sum or
 * product of two loads (`u[k] + u[k - 1]`, `a[i] * b[i]`), where the
 * translator computed one load and folded the other into the operator.
 * Call right after the memory-operand instruction (try_mem_operand). The
 * pair stays one only while that instruction stays what it is: a store back
 * to its address makes it read-modify-write (try_rmw), which calls
 * ll_unfuse first.
 */
static const uint32_t ll_loads[2][3] = {
    {WEX__IOP_F32_LOAD, WEX__IOP_F32_LOAD_I, WEX__IOP_F32_LOAD_R},
    {WEX__IOP_F64_LOAD, WEX__IOP_F64_LOAD_I, WEX__IOP_F64_LOAD_R}};

/*
 * m2_fuse: two memory-operand instructions of the same kind in a row (a
 * float add, sub or mul, P, I or R form), `s + a[i] + a[i + n]`, `a->x -
 * b->x` then `a->y - b->y` (M2_*, see interp.h). Returns whether it applied.
 */
static bool m2_fuse(comp *c, size_t p, size_t q) {
    static const uint8_t mwords[3] = {5, 6, 8};
    const uint32_t nmops = WEX__IOP_F32_ADD_MI - WEX__IOP_F32_ADD_MP;
    uint32_t op = c->code[q];
    if (c->code[p] != op || op < WEX__IOP_F32_ADD_MP || op >= WEX__IOP_F32_ADD_MP + 3 * nmops)
        return false;
    uint32_t f = (op - WEX__IOP_F32_ADD_MP) / nmops, j = (op - WEX__IOP_F32_ADD_MP) % nmops;
    uint32_t t = j / 6, o = j % 6; /* ADD SUB MUL of f32 (0..2) and f64 (6..8) */
    if (j >= 12 || o > 2 || p + mwords[f] != q) return false;
    c->code[p] = WEX__IOP_M2_F32_ADD_P + t * 9 + o * 3 + f;
    return true;
}

static void ll_fuse(comp *c) {
    static const uint8_t lwords[3] = {4, 5, 7};
    const uint32_t nmops = WEX__IOP_F32_ADD_MI - WEX__IOP_F32_ADD_MP;
    size_t q = c->last_op_start, p = c->prev_op_start;
    if (c->oom || p == NONE || q == NONE || p >= q) return;
    uint32_t mop = c->code[q];
    if (m2_fuse(c, p, q)) return;
    for (uint32_t t = 0; t < 2; t++)
        for (uint32_t lf = 0; lf < 3; lf++) {
            if (c->code[p] != ll_loads[t][lf]) continue;
            if (p + lwords[lf] != q || c->code[q + 2] != c->code[p + 1]) return;
            for (uint32_t mf = 0; mf < 3; mf++)
                for (uint32_t o = 0; o < 2; o++) { /* ADD, MUL: 0 and 2 of each MOPS family */
                    uint32_t want = WEX__IOP_F32_ADD_MP + mf * nmops + t * 6 + o * 2;
                    if (mop != want) continue;
                    c->code[p] = WEX__IOP_LL_F32_ADD_PP + t * 18 + o * 9 + lf * 3 + mf;
                    return;
                }
            return;
        }
}

/* The memory-operand instruction at q is about to change: a load or
 * memory-operand instruction fused with it (ll_fuse, m2_fuse) becomes a
 * plain one again. */
static void ll_unfuse(comp *c, size_t q) {
    size_t p = c->prev_op_start;
    if (c->oom || p == NONE || p >= q) return;
    uint32_t op = c->code[p];
    if (op >= WEX__IOP_M2_F32_ADD_P && op <= WEX__IOP_M2_F64_MUL_R) {
        c->code[p] = c->code[q];
        return;
    }
    if (op < WEX__IOP_LL_F32_ADD_PP || op > WEX__IOP_LL_F64_MUL_RR) return;
    uint32_t j = op - WEX__IOP_LL_F32_ADD_PP;
    c->code[p] = ll_loads[j / 18][j % 9 / 3];
}

/*
 * li_fuse: a float load (P, I, R, K forms) right before the add, sub or mul
 * with a constant (T_ADD_IMM ...) of the loaded value: `a[i] * 0.5`,
 * `dt * p->vx` (LI_*, see interp.h). Call right after the operation's last
 * word (try_float_imm). The operation may still become the first of an
 * FST_* pair: LI_* runs it by its words alone, and its store then
 * dispatches by itself.
 */
static void li_fuse(comp *c) {
    static const uint32_t loads[2][4] = {
        {WEX__IOP_F32_LOAD, WEX__IOP_F32_LOAD_I, WEX__IOP_F32_LOAD_R, WEX__IOP_F32_LOAD_K},
        {WEX__IOP_F64_LOAD, WEX__IOP_F64_LOAD_I, WEX__IOP_F64_LOAD_R, WEX__IOP_F64_LOAD_K}};
    static const uint8_t lwords[4] = {4, 5, 7, 4};
    size_t q = c->last_op_start, p = c->prev_op_start;
    if (c->oom || p == NONE || q == NONE || p >= q) return;
    for (uint32_t t = 0; t < 2; t++)
        for (uint32_t f = 0; f < 4; f++) {
            if (c->code[p] != loads[t][f]) continue;
            if (p + lwords[f] != q || c->code[q + 2] != c->code[p + 1]) return;
            for (uint32_t o = 0; o < 3; o++) /* ADD_IMM SUB_IMM MUL_IMM */
                if (c->code[q] == fst_ops[t][3 + o]) {
                    c->code[p] = WEX__IOP_LI_F32_ADD_IMM_P + t * 12 + o * 4 + f;
                    return;
                }
            return;
        }
}
