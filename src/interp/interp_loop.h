/*
 * interp_loop.h - the interpreter loop. Included once by run_guard.c, with
 * WEX__CHECKED 0 (guard pages: no bounds check per access; a fault in the
 * reservation traps through the signal handler), once by run_checked.c,
 * with 1 (a compare per access), and once by run_det.c with WEX__DET 1 too
 * (deterministic engines: every float result through wex__bits32/64 or
 * min/max that is a NaN becomes the canonical NaN). WEX__RUN names the
 * function.
 *
 * Dispatch is direct: `goto *labels[*ip]` after every instruction (computed
 * goto, so each handler has its own indirect branch for the predictor).
 */

#ifndef WEX__DET
#define WEX__DET 0
#endif
#if WEX__DET
/* Every float operation's result passes through one of these (bit moves,
 * abs, neg, copysign and reinterpretations do not, as the spec wants);
 * the inner names are the functions (a macro does not expand itself). */
#define wex__bits32(f)    wex__canon32(wex__bits32(f))
#define wex__bits64(d)    wex__canon64(wex__bits64(d))
#define wex__fmin32(a, b) wex__canon32(wex__fmin32(a, b))
#define wex__fmax32(a, b) wex__canon32(wex__fmax32(a, b))
#define wex__fmin64(a, b) wex__canon64(wex__fmin64(a, b))
#define wex__fmax64(a, b) wex__canon64(wex__fmax64(a, b))
#endif

__attribute__((noinline)) wex_error_t *WEX__RUN(wex_store_t *s, wex_func_t *f, uint64_t *slots) {
    static void *const labels[WEX__IOP_COUNT] = {
#define WEX__L(name, code, imm, sig) [WEX__IOP_##name] = &&L_##name,
        WEX__OPCODES(WEX__L)
#undef WEX__L
#define WEX__L2(name) [WEX__IOP_##name] = &&L_##name,
            WEX__IOPS_EXTRA(WEX__L2)
#undef WEX__L2
    };
    /* Frame records: s->live is the next free one (kept in the store, not in
     * a local: the loop's callee-saved registers are all taken, so a local
     * would live in the C stack frame and cost a second store per call and
     * return; the guard build's fault backtrace reads it there too);
     * frames_end bounds the depth: the frames below this entry in every tier
     * (s->wdepth) and this entry's records together at most max_depth + 1. */
    const uint32_t entry_depth = s->depth, entry_wdepth = s->wdepth;
    wex__frame *const entry_top = s->frames + entry_depth;
    wex__frame *const frames_end =
        entry_top +
        (entry_wdepth >= WEX__FRAME_RECORDS(s)
             ? 0
             : WEX__FRAME_RECORDS(s) - (entry_wdepth > entry_depth ? entry_wdepth : entry_depth));
#define top (s->live)
    uint64_t *const stack_end = s->stack_end;
    wex_instance_t *inst = f->inst;
    /* The running instance's translated code, kept in sync with inst. */
    const wex__compiled *cm = inst->module->compiled;
    const wex__fcode *fc = &cm->funcs[f->code_index];
    uint64_t *fp = slots;
    const uint32_t *ip;
    uint8_t *mb = NULL;
    uint64_t msz = 0;
    wex_trapcode_t trap = WEX_TRAP_NONE;
    int64_t trap_index = -1; /* an element index the message names, if any */
    wex_error_t *err = NULL;
    wex_func_t *g;
    uint32_t base;
    (void)msz;

#define RELOAD_MEM()                                                                               \
    do {                                                                                           \
        wex_memory_t *m0_ = inst->mem0;                                                            \
        mb = m0_ ? m0_->base : NULL;                                                               \
        msz = m0_ ? __atomic_load_n(&m0_->size, __ATOMIC_ACQUIRE) : 0;                             \
    } while (0)
#ifdef WEX_INTERP_PROFILE
#define NEXT()                                                                                     \
    do {                                                                                           \
        wex__interp_iprof_hit(inst, ip);                                                           \
        goto *labels[*ip];                                                                         \
    } while (0)
#else
#define NEXT() goto *labels[*ip]
#endif
/* Declared locals start at zero (those the body may read before writing,
 * see wex__fcode): n chunks of WEX__ZERO_CHUNK slots from z, two 16-byte
 * stores each (the frame has room for the last one; slots past the locals
 * are the operand stack's, written before they are read). The empty asm
 * keeps it a loop: compilers would turn it into a call to memset, spilling
 * the loop's registers around it on every call. */
#define ZERO_CHUNKS(z, n)                                                                          \
    do {                                                                                           \
        typedef uint64_t v2_ __attribute__((vector_size(16), aligned(8)));                         \
        v2_ *z_ = (v2_ *)(z);                                                                      \
        uint32_t n_ = (n);                                                                         \
        z_[0] = (v2_){0, 0};                                                                       \
        z_[1] = (v2_){0, 0};                                                                       \
        while (WEX__UNLIKELY(--n_ != 0)) {                                                         \
            z_ += 2;                                                                               \
            z_[0] = (v2_){0, 0};                                                                   \
            z_[1] = (v2_){0, 0};                                                                   \
            __asm__ volatile("");                                                                  \
        }                                                                                          \
    } while (0)
#define ZERO_CHUNK1(z)                                                                             \
    do {                                                                                           \
        typedef uint64_t v2_ __attribute__((vector_size(16), aligned(8)));                         \
        v2_ *z_ = (v2_ *)(z);                                                                      \
        z_[0] = (v2_){0, 0};                                                                       \
        z_[1] = (v2_){0, 0};                                                                       \
    } while (0)
#define ZERO_LOCALS(nf)                                                                            \
    do {                                                                                           \
        if ((nf)->zero_count)                                                                      \
            ZERO_CHUNKS(fp + (nf)->zero_from, WEX__ZERO_CHUNKS((nf)->zero_count));                 \
    } while (0)
#define S(i) fp[ip[i]]
#define TRAP(code)                                                                                 \
    do {                                                                                           \
        trap = (code);                                                                             \
        goto do_trap;                                                                              \
    } while (0)

    ip = cm->code + WEX__FCODE_OFF(fc); /* first, so that a trap here has a backtrace */
    top = entry_top;
    if (fp + fc->frame_slots > stack_end || top >= frames_end) TRAP(WEX_TRAP_CALL_STACK_EXHAUSTED);
    /* The sentinel: the entry function's return pops it and runs STOP. */
    top->ip = s->from_native ? wex__interp_stop_native : wex__interp_stop;
    s->from_native = false;
    top->fp = fp;
    top->inst = inst;
    top->callee = f;
    top++;
    s->entries++;
    memset(fp + fc->nparams, 0, (size_t)(fc->nlocals - fc->nparams) * sizeof *fp);
    RELOAD_MEM();
    NEXT();

    /* ------------------------------------------------ control */
L_UNREACHABLE_I:
    TRAP(WEX_TRAP_UNREACHABLE);
L_JMP:
    ip = ip + 1 + (int32_t)ip[1];
    NEXT();
L_BR_IF_NZ:
    if ((uint32_t)S(1)) {
        ip = ip + 2 + (int32_t)ip[2];
        NEXT();
    }
    ip += 3;
    NEXT();
L_BR_IF_Z:
    if (!(uint32_t)S(1)) {
        ip = ip + 2 + (int32_t)ip[2];
        NEXT();
    }
    ip += 3;
    NEXT();
L_BR_TABLE_I : {
    uint32_t k = (uint32_t)S(1), n = ip[2];
    if (k > n) k = n;
    ip += 3 + k;          /* the offset word; then a signed move (k is unsigned: */
    ip += (int32_t)ip[0]; /* one expression would turn a backward offset forward) */
    NEXT();
}
/* Runs of copies: MOVEk does k (dst, src) pairs in order; MOVEk_JMP
 * then jumps (off in the word after them, relative to itself). */
#define MOVES1() S(1) = S(2)
#define MOVES2() MOVES1(), S(3) = S(4)
#define MOVES3() MOVES2(), S(5) = S(6)
#define MOVES4() MOVES3(), S(7) = S(8)
#define MOVEK(k)                                                                                   \
    L_MOVE##k : MOVES##k();                                                                        \
    ip += 2 * (k) + 1;                                                                             \
    NEXT();                                                                                        \
    L_MOVE##k##_JMP : MOVES##k();                                                                  \
    ip = ip + 2 * (k) + 1 + (int32_t)ip[2 * (k) + 1];                                              \
    NEXT();
#define L_MOVE1     L_MOVE
#define L_MOVE1_JMP L_MOVE_JMP
    MOVEK(1)
    MOVEK(2)
    MOVEK(3)
    MOVEK(4)
#undef L_MOVE1
#undef L_MOVE1_JMP
#undef MOVEK
L_I32_ADD3:
    S(1) = (uint32_t)((uint32_t)S(2) + (uint32_t)S(3) + (uint32_t)S(4) + ip[5]);
    ip += 6;
    NEXT();
L_CONST32:
    S(1) = ip[2];
    ip += 3;
    NEXT();
L_CONST64:
    S(1) = (uint64_t)ip[2] | (uint64_t)ip[3] << 32;
    ip += 4;
    NEXT();
L_SELECT_I:
    S(1) = (uint32_t)S(4) ? S(2) : S(3);
    ip += 5;
    NEXT();
L_SELECT_IKA:
    S(1) = (uint32_t)S(4) ? (uint64_t)ip[2] : S(3);
    ip += 5;
    NEXT();
L_SELECT_IKB:
    S(1) = (uint32_t)S(4) ? S(2) : (uint64_t)ip[3];
    ip += 5;
    NEXT();
L_CALL_I:
    g = inst->funcs[ip[1]];
    base = ip[2];
    ip += 3;
    goto do_call;
L_CALL_IND_I : {
    wex_table_t *t = inst->tables[ip[2]];
    uint32_t k = (uint32_t)S(3);
    if (k >= t->size) TRAP(WEX_TRAP_UNDEFINED_ELEMENT);
    g = t->elems[k];
    if (!g) {
        trap_index = k;
        TRAP(WEX_TRAP_UNINITIALIZED_ELEMENT);
    }
    if (g->canon != ip[1]) TRAP(WEX_TRAP_INDIRECT_CALL_TYPE);
    base = ip[4];
    ip += 5;
    goto do_call;
}
/* A call to a function of this instance: the instruction carries the
 * callee's frame need (base + its frame slots) and code position. (A
 * lazily checked cached module checks a function's direct callees
 * before its first call runs: wex__compiled.lcall.) CALL_LZ first zeroes
 * the locals the callee reads before writing them. The fused forms
 * (ADDI_CALL_*) compute an argument, then run a whole copy of the call
 * (a jump to the shared one would cost a dispatch's worth of work). */
#define CALL_L_BODY()                                                                              \
    do {                                                                                           \
        if (WEX__UNLIKELY(fp + ip[3] > stack_end || top >= frames_end))                            \
            TRAP(WEX_TRAP_CALL_STACK_EXHAUSTED);                                                   \
        top->ip = ip + 7;                                                                          \
        top->fp = fp;                                                                              \
        top->inst = inst;                                                                          \
        CALL_L_CALLEE();                                                                           \
        top++;                                                                                     \
        fp += ip[2];                                                                               \
        ip += (int32_t)ip[4];                                                                      \
        NEXT();                                                                                    \
    } while (0)
#define CALL_LZ1_BODY()                                                                            \
    do {                                                                                           \
        if (WEX__UNLIKELY(fp + ip[3] > stack_end)) TRAP(WEX_TRAP_CALL_STACK_EXHAUSTED);            \
        ZERO_CHUNK1(fp + ip[5]);                                                                   \
        CALL_L_BODY();                                                                             \
    } while (0)
#define CALL_LZ_BODY()                                                                             \
    do {                                                                                           \
        if (WEX__UNLIKELY(fp + ip[3] > stack_end)) TRAP(WEX_TRAP_CALL_STACK_EXHAUSTED);            \
        ZERO_CHUNKS(fp + ip[5], ip[6]); /* ip[6] chunks, at least one */                           \
        CALL_L_BODY();                                                                             \
    } while (0)
#if !WEX__CHECKED
/* Guard pages: as in do_call, for fault backtraces (NULL: the callee is
 * a function of this instance, named by this instruction's ip[1]). */
#define CALL_L_CALLEE() (top->callee = NULL)
#else
#define CALL_L_CALLEE() ((void)0)
#endif
L_CALL_LZ:
    CALL_LZ_BODY();
L_CALL_LZ1:
    CALL_LZ1_BODY();
L_CALL_L:
    CALL_L_BODY();
do_call:
    if (!g->inst) {             /* host function */
        wex__frame *here = top; /* a nested entry moves s->live */
        s->depth = wex__interp_host_frame(s, (uint32_t)(here - s->frames), ip, fp, inst, g);
        s->wdepth = entry_wdepth + (uint32_t)(here - entry_top) + 1; /* with the host's */
        err = wex__host_call(s, g, fp + base);
        s->depth = entry_depth;
        s->wdepth = entry_wdepth;
        top = here;
        if (err) goto do_error;
        RELOAD_MEM();
        NEXT();
    } else {
        wex_instance_t *ni = g->inst;
        const wex__compiled *ncm = ni->module->compiled;
        const wex__fcode *nf = &ncm->funcs[g->code_index];
        uint64_t *nfp = fp + base;
        if (WEX__UNLIKELY(top >= frames_end || nfp + nf->frame_slots > stack_end))
            TRAP(WEX_TRAP_CALL_STACK_EXHAUSTED);
        wex__frame *fr = top++;
        fr->ip = ip;
        fr->fp = fp;
        fr->inst = inst;
#if !WEX__CHECKED
        /* Guard pages: a fault loses the loop's registers, so the live depth
         * and callees are kept where the backtrace can find them. */
        fr->callee = g;
#endif
        fp = nfp;
        ZERO_LOCALS(nf);
        if (ni != inst) {
            inst = ni;
            cm = ncm;
            RELOAD_MEM();
        }
        ip = ncm->code + WEX__FCODE_OFF(nf);
        NEXT();
    }
L_I32_LEA:
    S(1) = (uint32_t)((uint32_t)S(2) + ((uint32_t)S(3) << ip[4]) + ip[5]);
    ip += 6;
    NEXT();
L_I32_RSUB_IMM:
    S(1) = (uint32_t)(ip[3] - (uint32_t)S(2));
    ip += 4;
    NEXT();
L_I32_SHL_K:
    S(1) = (uint32_t)(ip[3] << ((uint32_t)S(2) & 31));
    ip += 4;
    NEXT();
L_I32_SHL_ADD_IMM: /* the count is a fold's, already below 32 */
    S(1) = (uint32_t)(((uint32_t)S(2) << ip[3]) + ip[4]);
    ip += 5;
    NEXT();
L_MOVE_BR_IF_Z:
    S(1) = S(2);
    if (!(uint32_t)S(3)) {
        ip = ip + 4 + (int32_t)ip[4];
        NEXT();
    }
    ip += 5;
    NEXT();
L_MOVE_BR_IF_NZ:
    S(1) = S(2);
    if ((uint32_t)S(3)) {
        ip = ip + 4 + (int32_t)ip[4];
        NEXT();
    }
    ip += 5;
    NEXT();
    /* Bit tests and branch: a, b (slot or immediate), offset word at ip[3]. */
#define BRT(name, cond)                                                                            \
    L_##name : if (cond) {                                                                         \
        ip = ip + 3 + (int32_t)ip[3];                                                              \
        NEXT();                                                                                    \
    }                                                                                              \
    ip += 4;                                                                                       \
    NEXT();
    BRT(BR_I32_TEST_NZ, ((uint32_t)S(1) & (uint32_t)S(2)) != 0)
    BRT(BR_I32_TEST_Z, ((uint32_t)S(1) & (uint32_t)S(2)) == 0)
    BRT(BR_I32_TEST_NZ_IMM, ((uint32_t)S(1) & ip[2]) != 0)
    BRT(BR_I32_TEST_Z_IMM, ((uint32_t)S(1) & ip[2]) == 0)
#undef BRT
    /* Multiply-add pairs: the product is rounded to its type first. */
#define FMA3(name, T, get, put, expr)                                                              \
    L_##name : {                                                                                   \
        T p_ = get(S(2)) * get(S(3));                                                              \
        T c_ = get(S(4));                                                                          \
        S(1) = put(expr);                                                                          \
        ip += 5;                                                                                   \
        NEXT();                                                                                    \
    }
    FMA3(F32_MULADD, float, wex__f32, wex__bits32, p_ + c_)
    FMA3(F32_MULSUB, float, wex__f32, wex__bits32, p_ - c_)
    FMA3(F32_SUBMUL, float, wex__f32, wex__bits32, c_ - p_)
    FMA3(F64_MULADD, double, wex__f64, wex__bits64, p_ + c_)
    FMA3(F64_MULSUB, double, wex__f64, wex__bits64, p_ - c_)
    FMA3(F64_SUBMUL, double, wex__f64, wex__bits64, c_ - p_)
#undef FMA3
    /* Return to the caller's record (the entry's sentinel, whose ip is
     * STOP, when the entry function returns). The base moves only with the instance;
     * the size matters only to explicit checks (the callee may have grown
     * memory). The common case dispatches on its own (gcc then keeps this
     * path short however it allocates the loop's registers). */
#define RET_BODY()                                                                                 \
    do {                                                                                           \
        wex__frame *fr = --top;                                                                    \
        ip = fr->ip;                                                                               \
        fp = fr->fp;                                                                               \
        if (!WEX__CHECKED && fr->inst == inst) NEXT();                                             \
        inst = fr->inst;                                                                           \
        cm = inst->module->compiled;                                                               \
        RELOAD_MEM();                                                                              \
        NEXT();                                                                                    \
    } while (0)
L_I32_ADD_RET:
    fp[0] = (uint32_t)((uint32_t)S(1) + (uint32_t)S(2));
    RET_BODY();
L_CONST32_RET:
    fp[0] = ip[1];
    RET_BODY();
L_RET1:
    fp[0] = S(1);
L_RET:
    RET_BODY();
L_GLOBAL_SET_ADDI_RET:
    inst->globals[ip[1]]->val = (uint32_t)((uint32_t)S(2) + ip[3]);
    RET_BODY();
L_GLOBAL_SET_ADDI_RET1:
    inst->globals[ip[1]]->val = (uint32_t)((uint32_t)S(2) + ip[3]);
    fp[0] = S(4);
    RET_BODY();
    /* Epoch interruption: the store's deadline reached, its callback may
     * move it on; else the call traps here. */
L_EPOCH:
    if (WEX__UNLIKELY(__atomic_load_n(&s->engine->epoch, __ATOMIC_RELAXED) >= s->epoch_deadline) &&
        !wex__store_epoch_go_on(s))
        TRAP(WEX_TRAP_INTERRUPT);
    ip += 1;
    NEXT();
    /* The native and automatic tiers: count the entry; when the counter
     * runs out, ask (wex__tier_entry) whether the function now has native
     * code, which then runs in place of this frame's interpretation. */
    {
        void *loop_entry;
        uint32_t live_slots;
    L_TIER_ENTRY : {
        int32_t *h_ = &inst->tier_hot[ip[1]];
        int32_t v_ = __atomic_load_n(h_, __ATOMIC_RELAXED) - 1;
        __atomic_store_n(h_, v_, __ATOMIC_RELAXED);
        if (WEX__LIKELY(v_ > 0) || !(g = wex__tier_entry(inst, ip[1]))) {
            ip += 2;
            NEXT();
        }
        loop_entry = NULL; /* g's own entry; its arguments are live */
        live_slots = g->type->nparams > g->type->nresults ? g->type->nparams : g->type->nresults;
        goto tier_native;
    }
        /* A loop's head (native and automatic tiers): counted
         * down the same way; once its native entry exists, the rest of this
         * call runs there, from this frame's locals (on-stack replacement). */
    L_LOOP_HEAD : {
        int32_t *h_ = &inst->tier_loop[ip[1]];
        int32_t v_ = __atomic_load_n(h_, __ATOMIC_RELAXED) - 1;
        __atomic_store_n(h_, v_, __ATOMIC_RELAXED);
        if (WEX__LIKELY(v_ > 0) || !(loop_entry = wex__tier_loop(inst, ip[1], ip[2]))) {
            ip += 3;
            NEXT();
        }
        g = inst->funcs[inst->module->nfunc_imports + ip[1]];
        live_slots = cm->funcs[ip[1]].frame_slots;
        goto tier_native;
    }
    tier_native:;
        /* The caller's record is pushed and g's frame is at fp: run g natively
         * there (from its start, or from a loop), as a host call runs (nested
         * entries build above the live slots). */
        wex__frame *here = top;
        uint64_t *saved_top_ = s->stack_top;
        s->stack_top = fp + live_slots;
        s->depth = (uint32_t)(here - s->frames);
        /* frames below: g's own counts unless its native entry counts it */
        s->wdepth = entry_wdepth + (uint32_t)(here - entry_top) - (loop_entry ? 0 : 1);
        err = loop_entry ? wex__native_call_entry(s, g, loop_entry, fp) : wex__call(s, g, fp);
        s->stack_top = saved_top_;
        s->depth = entry_depth;
        s->wdepth = entry_wdepth;
        top = here;
        if (WEX__UNLIKELY(err != NULL)) {
            /* the native frames are in err's backtrace; go on from the caller */
            wex__frame *fr = --top;
            if (fr == entry_top) { /* the entry function itself */
                s->entries--;
                return err;
            }
            ip = fr->ip;
            fp = fr->fp;
            inst = fr->inst;
            cm = inst->module->compiled;
            goto do_tier_error;
        }
        RELOAD_MEM();
        RET_BODY();
    }
#undef RET_BODY
L_STOP: /* the entry function returned to its sentinel (top is entry_top again) */
    goto done;
L_VERIFY_FN : {
    /* First entry into a function of a lazily checked module (wex__lazy):
     * the frame is set up; check the code, then run it. On damage the call
     * fails as if the function had (ip names its first word). */
    uint32_t di = ip[1];
    err = cm->lazy->verify(cm->lazy, cm, di);
    ip = cm->code + cm->lazy->real_off[di];
    if (err) {
        ip++;
        goto do_error;
    }
    NEXT();
}

    /* ------------------------------------------------ variables */
L_GLOBAL_GET_I:
    S(1) = inst->globals[ip[2]]->val;
    ip += 3;
    NEXT();
L_GLOBAL_SET_ADDI:
    inst->globals[ip[1]]->val = (uint32_t)((uint32_t)S(2) + ip[3]);
    ip += 4;
    NEXT();
L_I32_ADD_IMM2:
    S(1) = (uint32_t)((uint32_t)S(2) + ip[3]);
    S(4) = (uint32_t)((uint32_t)S(5) + ip[6]);
    ip += 7;
    NEXT();
L_GLOBAL_SET_I:
    inst->globals[ip[1]]->val = S(2);
    ip += 3;
    NEXT();
L_GLOBAL_ADDI_TEE : {
    wex_global_t *gl = inst->globals[ip[2]];
    uint64_t v = (uint32_t)((uint32_t)gl->val + ip[3]);
    gl->val = v;
    S(1) = v;
    ip += 4;
    NEXT();
}

    /* ------------------------------------------------ references and tables */
L_REF_NULL_I:
    S(1) = 0;
    ip += 2;
    NEXT();
L_REF_IS_NULL_I:
    S(1) = S(2) == 0;
    ip += 3;
    NEXT();
L_REF_FUNC_I:
    S(1) = (uint64_t)(uintptr_t)inst->funcs[ip[2]];
    ip += 3;
    NEXT();
L_TABLE_GET_I : {
    wex_table_t *t = inst->tables[ip[2]];
    uint32_t k = (uint32_t)S(3);
    if (k >= t->size) TRAP(WEX_TRAP_TABLE_OOB);
    S(1) = (uint64_t)(uintptr_t)t->elems[k];
    ip += 4;
    NEXT();
}
L_TABLE_SET_I : {
    wex_table_t *t = inst->tables[ip[1]];
    uint32_t k = (uint32_t)S(2);
    if (k >= t->size) TRAP(WEX_TRAP_TABLE_OOB);
    t->elems[k] = (void *)(uintptr_t)S(3);
    ip += 4;
    NEXT();
}
L_TABLE_SIZE_I:
    S(1) = inst->tables[ip[2]]->size;
    ip += 3;
    NEXT();
L_TABLE_GROW_I : {
    int64_t r = wex__table_grow(inst->tables[ip[2]], (uint32_t)S(4), (void *)(uintptr_t)S(3));
    S(1) = (uint32_t)(int32_t)r;
    ip += 5;
    NEXT();
}
L_TABLE_FILL_I : {
    wex_table_t *t = inst->tables[ip[1]];
    uint32_t i = (uint32_t)S(2), n = (uint32_t)S(4);
    void *v = (void *)(uintptr_t)S(3);
    if ((uint64_t)i + n > t->size) TRAP(WEX_TRAP_TABLE_OOB);
    for (uint32_t k = 0; k < n; k++)
        t->elems[i + k] = v;
    ip += 5;
    NEXT();
}
L_TABLE_COPY_I : {
    wex_table_t *dt = inst->tables[ip[1]], *st = inst->tables[ip[2]];
    uint32_t d = (uint32_t)S(3), sr = (uint32_t)S(4), n = (uint32_t)S(5);
    if ((uint64_t)d + n > dt->size || (uint64_t)sr + n > st->size) TRAP(WEX_TRAP_TABLE_OOB);
    memmove(dt->elems + d, st->elems + sr, (size_t)n * sizeof(void *));
    ip += 6;
    NEXT();
}
L_TABLE_INIT_I : {
    wex_table_t *t = inst->tables[ip[1]];
    wex__elemseg *es = &inst->elems[ip[2]];
    uint32_t d = (uint32_t)S(3), sr = (uint32_t)S(4), n = (uint32_t)S(5);
    if ((uint64_t)d + n > t->size || (uint64_t)sr + n > es->count) TRAP(WEX_TRAP_TABLE_OOB);
    if (n) memcpy(t->elems + d, es->refs + sr, (size_t)n * sizeof(void *));
    ip += 6;
    NEXT();
}
L_ELEM_DROP_I:
    inst->elems[ip[1]].count = 0;
    ip += 2;
    NEXT();

    /* ------------------------------------------------ memory */
#if WEX__CHECKED
/* Past the cached size, look again before trapping: another thread may have
 * grown a shared memory (costs nothing on the in-bounds path). */
#define BOUND(n)                                                                                   \
    if (WEX__UNLIKELY(ea + (n) > msz) &&                                                           \
        ea + (n) > (msz = __atomic_load_n(&inst->mem0->size, __ATOMIC_ACQUIRE)))                   \
    TRAP(WEX_TRAP_MEMORY_OOB)
#else
#define BOUND(n) (void)0
#endif
    /* The effective address of each form (see interp.h). */
#define EA_P(n)                                                                                    \
    uint64_t ea = (uint64_t)(uint32_t)S(2) + ip[3];                                                \
    BOUND(n)
#define EA_I(n)                                                                                    \
    uint64_t ea = (uint64_t)(uint32_t)(S(2) + ip[3]) + ip[4];                                      \
    BOUND(n)
#define EA_R(n)                                                                                    \
    uint64_t ea = (uint64_t)(uint32_t)(S(2) + ((uint32_t)S(3) << ip[4]) + ip[5]) + ip[6];          \
    BOUND(n)
#define EA_K(n)                                                                                    \
    uint64_t ea = (uint64_t)ip[2] + ip[3];                                                         \
    BOUND(n)
#define EA_S(n)                                                                                    \
    uint64_t ea = (uint64_t)(uint32_t)(((uint32_t)S(2) << ip[3]) + ip[4]) + ip[5];                 \
    BOUND(n)
#define EAS_S(n)                                                                                   \
    uint64_t ea = (uint64_t)(uint32_t)(((uint32_t)S(1) << ip[2]) + ip[3]) + ip[5];                 \
    BOUND(n)
#define EAS_P(n)                                                                                   \
    uint64_t ea = (uint64_t)(uint32_t)S(1) + ip[3];                                                \
    BOUND(n)
#define EAS_I(n)                                                                                   \
    uint64_t ea = (uint64_t)(uint32_t)(S(1) + ip[2]) + ip[4];                                      \
    BOUND(n)
#define EAS_R(n)                                                                                   \
    uint64_t ea = (uint64_t)(uint32_t)(S(1) + ((uint32_t)S(2) << ip[3]) + ip[4]) + ip[6];          \
    BOUND(n)
#define EAS_K(n)                                                                                   \
    uint64_t ea = (uint64_t)ip[1] + ip[3];                                                         \
    BOUND(n)
#define LOAD1(label, T, n, conv, EAF, words)                                                       \
    label : {                                                                                      \
        EAF(n);                                                                                    \
        T v_;                                                                                      \
        memcpy(&v_, mb + ea, n);                                                                   \
        S(1) = conv;                                                                               \
        ip += words;                                                                               \
        NEXT();                                                                                    \
    }
#define LOAD(name, T, n, conv)                                                                     \
    LOAD1(L_##name, T, n, conv, EA_P, 4)                                                           \
    LOAD1(L_##name##_I, T, n, conv, EA_I, 5)                                                       \
    LOAD1(L_##name##_R, T, n, conv, EA_R, 7)                                                       \
    LOAD1(L_##name##_K, T, n, conv, EA_K, 4)                                                       \
    LOAD1(L_##name##_S, T, n, conv, EA_S, 6)
    LOAD(I32_LOAD, uint32_t, 4, v_)
    LOAD(I64_LOAD, uint64_t, 8, v_)
    LOAD(F32_LOAD, uint32_t, 4, v_)
    LOAD(F64_LOAD, uint64_t, 8, v_)
    LOAD(I32_LOAD8_S, int8_t, 1, (uint32_t)(int32_t)v_)
    LOAD(I32_LOAD8_U, uint8_t, 1, (uint32_t)v_)
    LOAD(I32_LOAD16_S, int16_t, 2, (uint32_t)(int32_t)v_)
    LOAD(I32_LOAD16_U, uint16_t, 2, (uint32_t)v_)
    LOAD(I64_LOAD8_S, int8_t, 1, (uint64_t)(int64_t)v_)
    LOAD(I64_LOAD8_U, uint8_t, 1, (uint64_t)v_)
    LOAD(I64_LOAD16_S, int16_t, 2, (uint64_t)(int64_t)v_)
    LOAD(I64_LOAD16_U, uint16_t, 2, (uint64_t)v_)
    LOAD(I64_LOAD32_S, int32_t, 4, (uint64_t)(int64_t)v_)
    LOAD(I64_LOAD32_U, uint32_t, 4, (uint64_t)v_)
#undef LOAD
#undef LOAD1
    /* A store's value word: P and K forms ip[2], I ip[3], S ip[4], R ip[5]. */
#define STORE1(label, T, n, EAF, vw, words)                                                        \
    label : {                                                                                      \
        EAF(n);                                                                                    \
        T v_ = (T)S(vw);                                                                           \
        memcpy(mb + ea, &v_, n);                                                                   \
        ip += words;                                                                               \
        NEXT();                                                                                    \
    }
#define STORE(name, T, n)                                                                          \
    STORE1(L_##name, T, n, EAS_P, 2, 4)                                                            \
    STORE1(L_##name##_I, T, n, EAS_I, 3, 5)                                                        \
    STORE1(L_##name##_R, T, n, EAS_R, 5, 7)                                                        \
    STORE1(L_##name##_K, T, n, EAS_K, 2, 4)                                                        \
    STORE1(L_##name##_S, T, n, EAS_S, 4, 6)
    STORE(I32_STORE, uint32_t, 4)
    STORE(I64_STORE, uint64_t, 8)
    STORE(F32_STORE, uint32_t, 4)
    STORE(F64_STORE, uint64_t, 8)
    STORE(I32_STORE8, uint8_t, 1)
    STORE(I32_STORE16, uint16_t, 2)
    STORE(I64_STORE8, uint8_t, 1)
    STORE(I64_STORE16, uint16_t, 2)
    STORE(I64_STORE32, uint32_t, 4)
#undef STORE
#undef STORE1
    /* Memory operands: x in ip[2], the address from ip[3] (see interp.h). */
#define EAM_P(n)                                                                                   \
    uint64_t ea = (uint64_t)(uint32_t)S(3) + ip[4];                                                \
    BOUND(n)
#define EAM_I(n)                                                                                   \
    uint64_t ea = (uint64_t)(uint32_t)(S(3) + ip[4]) + ip[5];                                      \
    BOUND(n)
#define EAM_R(n)                                                                                   \
    uint64_t ea = (uint64_t)(uint32_t)(S(3) + ((uint32_t)S(4) << ip[5]) + ip[6]) + ip[7];          \
    BOUND(n)
#define EAM_S(n)                                                                                   \
    uint64_t ea = (uint64_t)(uint32_t)(((uint32_t)S(3) << ip[4]) + ip[5]) + ip[6];                 \
    BOUND(n)
#define MOP1(label, TB, T, FROM, TO, expr, EAF, words)                                             \
    label : {                                                                                      \
        EAF(sizeof(TB));                                                                           \
        TB b_;                                                                                     \
        memcpy(&b_, mb + ea, sizeof b_);                                                           \
        T m_ = FROM(b_), x_ = FROM((TB)S(2));                                                      \
        S(1) = TO(expr);                                                                           \
        ip += words;                                                                               \
        NEXT();                                                                                    \
    }
#define MOPS1(label, TB, T, FROM, TO, expr, EAF, words)                                            \
    label : {                                                                                      \
        EAF(sizeof(TB));                                                                           \
        TB b_;                                                                                     \
        memcpy(&b_, mb + ea, sizeof b_);                                                           \
        T m_ = FROM(b_), x_ = FROM((TB)S(2));                                                      \
        b_ = (TB)TO(expr);                                                                         \
        memcpy(mb + ea, &b_, sizeof b_);                                                           \
        S(1) = b_;                                                                                 \
        ip += words;                                                                               \
        NEXT();                                                                                    \
    }
#define MOP(name, TB, T, FROM, TO, expr)                                                           \
    MOP1(L_##name##_MP, TB, T, FROM, TO, expr, EAM_P, 5)                                           \
    MOP1(L_##name##_MI, TB, T, FROM, TO, expr, EAM_I, 6)                                           \
    MOP1(L_##name##_MR, TB, T, FROM, TO, expr, EAM_R, 8)                                           \
    MOP1(L_##name##_MS, TB, T, FROM, TO, expr, EAM_S, 7)                                           \
    MOPS1(L_##name##_MPS, TB, T, FROM, TO, expr, EAM_P, 5)                                         \
    MOPS1(L_##name##_MIS, TB, T, FROM, TO, expr, EAM_I, 6)                                         \
    MOPS1(L_##name##_MRS, TB, T, FROM, TO, expr, EAM_R, 8)                                         \
    MOPS1(L_##name##_MSS, TB, T, FROM, TO, expr, EAM_S, 7)
#define U32(x) ((uint32_t)(x))
    MOP(F32_ADD, uint32_t, float, wex__f32, wex__bits32, x_ + m_)
    MOP(F32_SUB, uint32_t, float, wex__f32, wex__bits32, x_ - m_)
    MOP(F32_MUL, uint32_t, float, wex__f32, wex__bits32, x_ *m_)
    MOP(F32_DIV, uint32_t, float, wex__f32, wex__bits32, x_ / m_)
    MOP(F32_RSUB, uint32_t, float, wex__f32, wex__bits32, m_ - x_)
    MOP(F32_RDIV, uint32_t, float, wex__f32, wex__bits32, m_ / x_)
    MOP(F64_ADD, uint64_t, double, wex__f64, wex__bits64, x_ + m_)
    MOP(F64_SUB, uint64_t, double, wex__f64, wex__bits64, x_ - m_)
    MOP(F64_MUL, uint64_t, double, wex__f64, wex__bits64, x_ *m_)
    MOP(F64_DIV, uint64_t, double, wex__f64, wex__bits64, x_ / m_)
    MOP(F64_RSUB, uint64_t, double, wex__f64, wex__bits64, m_ - x_)
    MOP(F64_RDIV, uint64_t, double, wex__f64, wex__bits64, m_ / x_)
    MOP(I32_ADD, uint32_t, uint32_t, U32, U32, x_ + m_)
    MOP(I32_SUB, uint32_t, uint32_t, U32, U32, x_ - m_)
    MOP(I32_MUL, uint32_t, uint32_t, U32, U32, x_ * m_)
    MOP(I32_AND, uint32_t, uint32_t, U32, U32, x_ & m_)
    MOP(I32_OR, uint32_t, uint32_t, U32, U32, x_ | m_)
    MOP(I32_XOR, uint32_t, uint32_t, U32, U32, x_ ^ m_)
    MOP(I32_RSUB, uint32_t, uint32_t, U32, U32, m_ - x_)
#undef U32
    /* br_table on a loaded key: n, address, off, then the offsets. */
#define BRTM(label, EAF, tw)                                                                       \
    label : {                                                                                      \
        EAF(4);                                                                                    \
        uint32_t k_, n_ = ip[1];                                                                   \
        memcpy(&k_, mb + ea, 4);                                                                   \
        if (k_ > n_) k_ = n_;                                                                      \
        ip += (tw) + k_; /* the offset word; then a signed move (may be backward) */               \
        ip += (int32_t)ip[0];                                                                      \
        NEXT();                                                                                    \
    }
    BRTM(L_BR_TABLE_MP, EA_P, 4)
    BRTM(L_BR_TABLE_MI, EA_I, 5)
    BRTM(L_BR_TABLE_MR, EA_R, 7)
    BRTM(L_BR_TABLE_MS, EA_S, 6)
#undef BRTM
#undef MOP
#undef MOP1
#undef MOPS1
#undef EAM_P
#undef EAM_I
#undef EAM_R
#undef EAM_S
#undef EAS_S
#undef EAS_P
#undef EAS_I
#undef EAS_R
#undef EAS_K
L_MEMORY_SIZE_I:
    S(1) = __atomic_load_n(&inst->mem0->lim.min, __ATOMIC_ACQUIRE); /* shared: may grow */
    ip += 2;
    NEXT();
L_MEMORY_GROW_I : {
    int64_t r = wex__memory_grow(inst->mem0, (uint32_t)S(2));
    S(1) = (uint32_t)(int32_t)r;
    RELOAD_MEM();
    ip += 3;
    NEXT();
}
L_MEMORY_INIT_I : {
    const wex__module *m = inst->module;
    const wex__data *ds = &m->datas[ip[1]];
    uint64_t dlen = inst->data_dropped[ip[1]] ? 0 : ds->data_len;
    uint32_t d = (uint32_t)S(2), sr = (uint32_t)S(3), n = (uint32_t)S(4);
    if ((uint64_t)d + n > __atomic_load_n(&inst->mem0->size, __ATOMIC_ACQUIRE) ||
        (uint64_t)sr + n > dlen)
        TRAP(WEX_TRAP_MEMORY_OOB);
    if (n) memcpy(inst->mem0->base + d, m->bytes + ds->data_off + sr, n);
    ip += 5;
    NEXT();
}
L_DATA_DROP_I:
    inst->data_dropped[ip[1]] = 1;
    ip += 2;
    NEXT();
L_MEMORY_COPY_I : {
    uint32_t d = (uint32_t)S(1), sr = (uint32_t)S(2), n = (uint32_t)S(3);
    uint64_t sz = __atomic_load_n(&inst->mem0->size, __ATOMIC_ACQUIRE);
    if ((uint64_t)d + n > sz || (uint64_t)sr + n > sz) TRAP(WEX_TRAP_MEMORY_OOB);
    memmove(inst->mem0->base + d, inst->mem0->base + sr, n);
    ip += 4;
    NEXT();
}
L_MEMORY_FILL_I : {
    uint32_t d = (uint32_t)S(1), n = (uint32_t)S(3);
    if ((uint64_t)d + n > __atomic_load_n(&inst->mem0->size, __ATOMIC_ACQUIRE))
        TRAP(WEX_TRAP_MEMORY_OOB);
    memset(inst->mem0->base + d, (int)(uint8_t)S(2), n);
    ip += 4;
    NEXT();
}

/* ------------------------------------------------ numeric */
#define I32(i) ((uint32_t)S(i))
#define I64(i) ((uint64_t)S(i))
#define F32(i) wex__f32(S(i))
#define F64(i) wex__f64(S(i))
#define UN(name, expr)                                                                             \
    L_##name : S(1) = (expr);                                                                      \
    ip += 3;                                                                                       \
    NEXT();
#define BIN(name, expr)                                                                            \
    L_##name : S(1) = (expr);                                                                      \
    ip += 4;                                                                                       \
    NEXT();

    UN(I32_EQZ, I32(2) == 0)
    BIN(I32_EQ, I32(2) == I32(3))
    BIN(I32_NE, I32(2) != I32(3))
    BIN(I32_LT_S, (int32_t)I32(2) < (int32_t)I32(3))
    BIN(I32_LT_U, I32(2) < I32(3))
    BIN(I32_GT_S, (int32_t)I32(2) > (int32_t)I32(3))
    BIN(I32_GT_U, I32(2) > I32(3))
    BIN(I32_LE_S, (int32_t)I32(2) <= (int32_t)I32(3))
    BIN(I32_LE_U, I32(2) <= I32(3))
    BIN(I32_GE_S, (int32_t)I32(2) >= (int32_t)I32(3))
    BIN(I32_GE_U, I32(2) >= I32(3))
    UN(I64_EQZ, I64(2) == 0)
    BIN(I64_EQ, I64(2) == I64(3))
    BIN(I64_NE, I64(2) != I64(3))
    BIN(I64_LT_S, (int64_t)I64(2) < (int64_t)I64(3))
    BIN(I64_LT_U, I64(2) < I64(3))
    BIN(I64_GT_S, (int64_t)I64(2) > (int64_t)I64(3))
    BIN(I64_GT_U, I64(2) > I64(3))
    BIN(I64_LE_S, (int64_t)I64(2) <= (int64_t)I64(3))
    BIN(I64_LE_U, I64(2) <= I64(3))
    BIN(I64_GE_S, (int64_t)I64(2) >= (int64_t)I64(3))
    BIN(I64_GE_U, I64(2) >= I64(3))
    BIN(F32_EQ, F32(2) == F32(3))
    BIN(F32_NE, F32(2) != F32(3))
    BIN(F32_LT, F32(2) < F32(3))
    BIN(F32_GT, F32(2) > F32(3))
    BIN(F32_LE, F32(2) <= F32(3))
    BIN(F32_GE, F32(2) >= F32(3))
    BIN(F64_EQ, F64(2) == F64(3))
    BIN(F64_NE, F64(2) != F64(3))
    BIN(F64_LT, F64(2) < F64(3))
    BIN(F64_GT, F64(2) > F64(3))
    BIN(F64_LE, F64(2) <= F64(3))
    BIN(F64_GE, F64(2) >= F64(3))

    UN(I32_CLZ, I32(2) ? (uint32_t)__builtin_clz(I32(2)) : 32u)
    UN(I32_CTZ, I32(2) ? (uint32_t)__builtin_ctz(I32(2)) : 32u)
    UN(I32_POPCNT, (uint32_t)__builtin_popcount(I32(2)))
    BIN(I32_ADD, (uint32_t)(I32(2) + I32(3)))
    BIN(I32_SUB, (uint32_t)(I32(2) - I32(3)))
    BIN(I32_MUL, (uint32_t)(I32(2) * I32(3)))
L_I32_DIV_S : {
    int32_t a = (int32_t)I32(2), b = (int32_t)I32(3);
    if (b == 0) TRAP(WEX_TRAP_INT_DIV_ZERO);
    if (a == INT32_MIN && b == -1) TRAP(WEX_TRAP_INT_OVERFLOW);
    S(1) = (uint32_t)(a / b);
    ip += 4;
    NEXT();
}
L_I32_DIV_U : {
    uint32_t a = I32(2), b = I32(3);
    if (b == 0) TRAP(WEX_TRAP_INT_DIV_ZERO);
    S(1) = a / b;
    ip += 4;
    NEXT();
}
L_I32_REM_S : {
    int32_t a = (int32_t)I32(2), b = (int32_t)I32(3);
    if (b == 0) TRAP(WEX_TRAP_INT_DIV_ZERO);
    S(1) = b == -1 ? 0 : (uint32_t)(a % b);
    ip += 4;
    NEXT();
}
L_I32_REM_U : {
    uint32_t a = I32(2), b = I32(3);
    if (b == 0) TRAP(WEX_TRAP_INT_DIV_ZERO);
    S(1) = a % b;
    ip += 4;
    NEXT();
}
    BIN(I32_AND, I32(2) & I32(3))
    BIN(I32_OR, I32(2) | I32(3))
    BIN(I32_XOR, I32(2) ^ I32(3))
    BIN(I32_SHL, (uint32_t)(I32(2) << (I32(3) & 31)))
    BIN(I32_SHR_S, (uint32_t)((int32_t)I32(2) >> (I32(3) & 31)))
    BIN(I32_SHR_U, I32(2) >> (I32(3) & 31))
    BIN(I32_ROTL, wex__rotl32(I32(2), I32(3)))
    BIN(I32_ROTR, wex__rotr32(I32(2), I32(3)))
    UN(I64_CLZ, I64(2) ? (uint64_t)__builtin_clzll(I64(2)) : 64u)
    UN(I64_CTZ, I64(2) ? (uint64_t)__builtin_ctzll(I64(2)) : 64u)
    UN(I64_POPCNT, (uint64_t)__builtin_popcountll(I64(2)))
    BIN(I64_ADD, I64(2) + I64(3))
    BIN(I64_SUB, I64(2) - I64(3))
    BIN(I64_MUL, I64(2) * I64(3))
L_I64_DIV_S : {
    int64_t a = (int64_t)I64(2), b = (int64_t)I64(3);
    if (b == 0) TRAP(WEX_TRAP_INT_DIV_ZERO);
    if (a == INT64_MIN && b == -1) TRAP(WEX_TRAP_INT_OVERFLOW);
    S(1) = (uint64_t)(a / b);
    ip += 4;
    NEXT();
}
L_I64_DIV_U : {
    uint64_t a = I64(2), b = I64(3);
    if (b == 0) TRAP(WEX_TRAP_INT_DIV_ZERO);
    S(1) = a / b;
    ip += 4;
    NEXT();
}
L_I64_REM_S : {
    int64_t a = (int64_t)I64(2), b = (int64_t)I64(3);
    if (b == 0) TRAP(WEX_TRAP_INT_DIV_ZERO);
    S(1) = b == -1 ? 0 : (uint64_t)(a % b);
    ip += 4;
    NEXT();
}
L_I64_REM_U : {
    uint64_t a = I64(2), b = I64(3);
    if (b == 0) TRAP(WEX_TRAP_INT_DIV_ZERO);
    S(1) = a % b;
    ip += 4;
    NEXT();
}
    BIN(I64_AND, I64(2) & I64(3))
    BIN(I64_OR, I64(2) | I64(3))
    BIN(I64_XOR, I64(2) ^ I64(3))
    BIN(I64_SHL, I64(2) << (I64(3) & 63))
    BIN(I64_SHR_S, (uint64_t)((int64_t)I64(2) >> (I64(3) & 63)))
    BIN(I64_SHR_U, I64(2) >> (I64(3) & 63))
    BIN(I64_ROTL, wex__rotl64(I64(2), I64(3)))
    BIN(I64_ROTR, wex__rotr64(I64(2), I64(3)))

    UN(F32_ABS, I32(2) & 0x7FFFFFFFu)
    UN(F32_NEG, I32(2) ^ 0x80000000u)
    UN(F32_CEIL, wex__bits32(wex__round(ceilf, F32(2))))
    UN(F32_FLOOR, wex__bits32(wex__round(floorf, F32(2))))
    UN(F32_TRUNC, wex__bits32(wex__round(truncf, F32(2))))
    UN(F32_NEAREST, wex__bits32(wex__round(nearbyintf, F32(2))))
    UN(F32_SQRT, wex__bits32(sqrtf(F32(2))))
    BIN(F32_ADD, wex__bits32(F32(2) + F32(3)))
    BIN(F32_SUB, wex__bits32(F32(2) - F32(3)))
    BIN(F32_MUL, wex__bits32(F32(2) * F32(3)))
    BIN(F32_DIV, wex__bits32(F32(2) / F32(3)))
    BIN(F32_MIN, wex__fmin32(S(2), S(3)))
    BIN(F32_MAX, wex__fmax32(S(2), S(3)))
    BIN(F32_COPYSIGN, (I32(2) & 0x7FFFFFFFu) | (I32(3) & 0x80000000u))
    UN(F64_ABS, I64(2) & 0x7FFFFFFFFFFFFFFFull)
    UN(F64_NEG, I64(2) ^ 0x8000000000000000ull)
    UN(F64_CEIL, wex__bits64(wex__round(ceil, F64(2))))
    UN(F64_FLOOR, wex__bits64(wex__round(floor, F64(2))))
    UN(F64_TRUNC, wex__bits64(wex__round(trunc, F64(2))))
    UN(F64_NEAREST, wex__bits64(wex__round(nearbyint, F64(2))))
    UN(F64_SQRT, wex__bits64(sqrt(F64(2))))
    BIN(F64_ADD, wex__bits64(F64(2) + F64(3)))
    BIN(F64_SUB, wex__bits64(F64(2) - F64(3)))
    BIN(F64_MUL, wex__bits64(F64(2) * F64(3)))
    BIN(F64_DIV, wex__bits64(F64(2) / F64(3)))
    BIN(F64_MIN, wex__fmin64(S(2), S(3)))
    BIN(F64_MAX, wex__fmax64(S(2), S(3)))
    BIN(F64_COPYSIGN, (I64(2) & 0x7FFFFFFFFFFFFFFFull) | (I64(3) & 0x8000000000000000ull))

    UN(I32_WRAP_I64, (uint32_t)I64(2))
#define TRUNC(name, FT, src, lo, hi, IT, UT)                                                       \
    L_##name : {                                                                                   \
        FT x = src(2);                                                                             \
        if (x != x) TRAP(WEX_TRAP_INVALID_CONVERSION);                                             \
        if (!(x > (lo) && x < (hi))) TRAP(WEX_TRAP_INT_OVERFLOW);                                  \
        S(1) = (UT)(IT)x;                                                                          \
        ip += 3;                                                                                   \
        NEXT();                                                                                    \
    }
    TRUNC(I32_TRUNC_F32_S, float, F32, -2147483904.0f, 2147483648.0f, int32_t, uint32_t)
    TRUNC(I32_TRUNC_F32_U, float, F32, -1.0f, 4294967296.0f, uint32_t, uint32_t)
    TRUNC(I32_TRUNC_F64_S, double, F64, -2147483649.0, 2147483648.0, int32_t, uint32_t)
    TRUNC(I32_TRUNC_F64_U, double, F64, -1.0, 4294967296.0, uint32_t, uint32_t)
    TRUNC(I64_TRUNC_F32_S, float, F32, -9223373136366403584.0f, 9223372036854775808.0f, int64_t,
          uint64_t)
    TRUNC(I64_TRUNC_F32_U, float, F32, -1.0f, 18446744073709551616.0f, uint64_t, uint64_t)
    TRUNC(I64_TRUNC_F64_S, double, F64, -9223372036854777856.0, 9223372036854775808.0, int64_t,
          uint64_t)
    TRUNC(I64_TRUNC_F64_U, double, F64, -1.0, 18446744073709551616.0, uint64_t, uint64_t)
#undef TRUNC
    UN(I64_EXTEND_I32_S, (uint64_t)(int64_t)(int32_t)I32(2))
    UN(I64_EXTEND_I32_U, (uint64_t)I32(2))
    UN(F32_CONVERT_I32_S, wex__bits32((float)(int32_t)I32(2)))
    UN(F32_CONVERT_I32_U, wex__bits32((float)I32(2)))
    UN(F32_CONVERT_I64_S, wex__bits32((float)(int64_t)I64(2)))
    UN(F32_CONVERT_I64_U, wex__bits32((float)I64(2)))
    UN(F32_DEMOTE_F64, wex__bits32((float)F64(2)))
    UN(F64_CONVERT_I32_S, wex__bits64((double)(int32_t)I32(2)))
    UN(F64_CONVERT_I32_U, wex__bits64((double)I32(2)))
    UN(F64_CONVERT_I64_S, wex__bits64((double)(int64_t)I64(2)))
    UN(F64_CONVERT_I64_U, wex__bits64((double)I64(2)))
    UN(F64_PROMOTE_F32, wex__bits64((double)F32(2)))
    UN(I32_REINTERPRET_F32, I32(2))
    UN(I64_REINTERPRET_F64, I64(2))
    UN(F32_REINTERPRET_I32, I32(2))
    UN(F64_REINTERPRET_I64, I64(2))
    UN(I32_EXTEND8_S, (uint32_t)(int32_t)(int8_t)I32(2))
    UN(I32_EXTEND16_S, (uint32_t)(int32_t)(int16_t)I32(2))
    UN(I64_EXTEND8_S, (uint64_t)(int64_t)(int8_t)I64(2))
    UN(I64_EXTEND16_S, (uint64_t)(int64_t)(int16_t)I64(2))
    UN(I64_EXTEND32_S, (uint64_t)(int64_t)(int32_t)I64(2))
    UN(I32_TRUNC_SAT_F32_S, (uint32_t)wex__sat_i32_f64(F32(2)))
    UN(I32_TRUNC_SAT_F32_U, wex__sat_u32_f64(F32(2)))
    UN(I32_TRUNC_SAT_F64_S, (uint32_t)wex__sat_i32_f64(F64(2)))
    UN(I32_TRUNC_SAT_F64_U, wex__sat_u32_f64(F64(2)))
    UN(I64_TRUNC_SAT_F32_S, (uint64_t)wex__sat_i64_f64(F32(2)))
    UN(I64_TRUNC_SAT_F32_U, wex__sat_u64_f64(F32(2)))
    UN(I64_TRUNC_SAT_F64_S, (uint64_t)wex__sat_i64_f64(F64(2)))
    UN(I64_TRUNC_SAT_F64_U, wex__sat_u64_f64(F64(2)))
#undef UN
#undef BIN
#undef I32
#undef I64
#undef F32
#undef F64

    /* ------------------------------------------------ fused forms */
#define I32(i) ((uint32_t)S(i))
#define BINI(name, expr)                                                                           \
    L_##name##_IMM : S(1) = (expr);                                                                \
    ip += 4;                                                                                       \
    NEXT();
    BINI(I32_ADD, (uint32_t)(I32(2) + ip[3]))
    BINI(I32_SUB, (uint32_t)(I32(2) - ip[3]))
    BINI(I32_MUL, (uint32_t)(I32(2) * ip[3]))
    BINI(I32_AND, I32(2) & ip[3])
    BINI(I32_OR, I32(2) | ip[3])
    BINI(I32_XOR, I32(2) ^ ip[3])
    BINI(I32_SHL, (uint32_t)(I32(2) << (ip[3] & 31)))
    BINI(I32_SHR_S, (uint32_t)((int32_t)I32(2) >> (ip[3] & 31)))
    BINI(I32_SHR_U, I32(2) >> (ip[3] & 31))
    BINI(I32_EQ, I32(2) == ip[3])
    BINI(I32_NE, I32(2) != ip[3])
    BINI(I32_LT_S, (int32_t)I32(2) < (int32_t)ip[3])
    BINI(I32_LT_U, I32(2) < ip[3])
    BINI(I32_GT_S, (int32_t)I32(2) > (int32_t)ip[3])
    BINI(I32_GT_U, I32(2) > ip[3])
    BINI(I32_LE_S, (int32_t)I32(2) <= (int32_t)ip[3])
    BINI(I32_LE_U, I32(2) <= ip[3])
    BINI(I32_GE_S, (int32_t)I32(2) >= (int32_t)ip[3])
    BINI(I32_GE_U, I32(2) >= ip[3])
    BINI(I32_ROTL, wex__rotl32(I32(2), ip[3]))
    BINI(I32_ROTR, wex__rotr32(I32(2), ip[3]))
#undef BINI
#define K64    ((uint64_t)(int64_t)(int32_t)ip[3])
#define I64(i) ((uint64_t)S(i))
#define BINI(name, expr)                                                                           \
    L_##name##_IMM : S(1) = (expr);                                                                \
    ip += 4;                                                                                       \
    NEXT();
    BINI(I64_ADD, I64(2) + K64)
    BINI(I64_SUB, I64(2) - K64)
    BINI(I64_MUL, I64(2) * K64)
    BINI(I64_AND, I64(2) & K64)
    BINI(I64_OR, I64(2) | K64)
    BINI(I64_XOR, I64(2) ^ K64)
    BINI(I64_SHL, I64(2) << (K64 & 63))
    BINI(I64_SHR_S, (uint64_t)((int64_t)I64(2) >> (K64 & 63)))
    BINI(I64_SHR_U, I64(2) >> (K64 & 63))
    BINI(I64_EQ, I64(2) == K64)
    BINI(I64_NE, I64(2) != K64)
    BINI(I64_LT_S, (int64_t)I64(2) < (int64_t)K64)
    BINI(I64_LT_U, I64(2) < K64)
    BINI(I64_GT_S, (int64_t)I64(2) > (int64_t)K64)
    BINI(I64_GT_U, I64(2) > K64)
    BINI(I64_LE_S, (int64_t)I64(2) <= (int64_t)K64)
    BINI(I64_LE_U, I64(2) <= K64)
    BINI(I64_GE_S, (int64_t)I64(2) >= (int64_t)K64)
    BINI(I64_GE_U, I64(2) >= K64)
#undef BINI
#undef I64
#undef K64
    /* x op (y shifted by k): dst, x, y, k. */
#define Y32 ((uint32_t)S(3))
#define SHOP(name, expr)                                                                           \
    L_##name : S(1) = (uint32_t)(expr);                                                            \
    ip += 5;                                                                                       \
    NEXT();
#define SHOPS(OPN, op)                                                                             \
    SHOP(I32_##OPN##_SHL, (uint32_t)S(2) op(uint32_t)(Y32 << ip[4]))                               \
    SHOP(I32_##OPN##_SHR_S, (uint32_t)S(2) op(uint32_t)((int32_t)Y32 >> ip[4]))                    \
    SHOP(I32_##OPN##_SHR_U, (uint32_t)S(2) op(Y32 >> ip[4]))                                       \
    SHOP(I32_##OPN##_ROTL, (uint32_t)S(2) op wex__rotl32(Y32, ip[4]))                              \
    SHOP(I32_##OPN##_ROTR, (uint32_t)S(2) op wex__rotr32(Y32, ip[4]))
    SHOPS(XOR, ^)
    SHOPS(OR, |)
    SHOPS(AND, &)
    SHOPS(ADD, +)
#undef SHOPS
#undef SHOP
L_I32_SHR_U_AND_IMM:
    S(1) = ((uint32_t)S(2) >> ip[3]) & ip[4];
    ip += 5;
    NEXT();
L_I32_SHL_AND_IMM:
    S(1) = (uint32_t)((uint32_t)S(2) << ip[3]) & ip[4];
    ip += 5;
    NEXT();
#undef Y32
    /* Division by a constant: no zero, no -1 (see fits_imm). */
L_I32_DIV_S_IMM:
    S(1) = (uint32_t)((int32_t)S(2) / (int32_t)ip[3]);
    ip += 4;
    NEXT();
L_I32_DIV_U_IMM:
    S(1) = (uint32_t)S(2) / ip[3];
    ip += 4;
    NEXT();
L_I32_REM_S_IMM:
    S(1) = (uint32_t)((int32_t)S(2) % (int32_t)ip[3]);
    ip += 4;
    NEXT();
L_I32_REM_U_IMM:
    S(1) = (uint32_t)S(2) % ip[3];
    ip += 4;
    NEXT();
L_I64_DIV_S_IMM:
    S(1) = (uint64_t)((int64_t)S(2) / (int64_t)ip[3]);
    ip += 4;
    NEXT();
L_I64_DIV_U_IMM:
    S(1) = S(2) / ip[3];
    ip += 4;
    NEXT();
L_I64_REM_S_IMM:
    S(1) = (uint64_t)((int64_t)S(2) % (int64_t)ip[3]);
    ip += 4;
    NEXT();
L_I64_REM_U_IMM:
    S(1) = S(2) % ip[3];
    ip += 4;
    NEXT();
    /* Float operators with a constant operand. */
#define KF32 wex__f32(ip[3])
#define KF64 wex__f64((uint64_t)ip[3] | (uint64_t)ip[4] << 32)
#define FI32(name, expr)                                                                           \
    L_##name##_IMM : S(1) = (expr);                                                                \
    ip += 4;                                                                                       \
    NEXT();
#define FI64(name, expr)                                                                           \
    L_##name##_IMM : S(1) = (expr);                                                                \
    ip += 5;                                                                                       \
    NEXT();
    FI32(F32_ADD, wex__bits32(wex__f32(S(2)) + KF32))
    FI32(F32_SUB, wex__bits32(wex__f32(S(2)) - KF32))
    FI32(F32_MUL, wex__bits32(wex__f32(S(2)) * KF32))
    FI32(F32_DIV, wex__bits32(wex__f32(S(2)) / KF32))
    FI32(F32_RSUB, wex__bits32(KF32 - wex__f32(S(2))))
    FI32(F32_RDIV, wex__bits32(KF32 / wex__f32(S(2))))
    FI32(F32_EQ, wex__f32(S(2)) == KF32)
    FI32(F32_NE, wex__f32(S(2)) != KF32)
    FI32(F32_LT, wex__f32(S(2)) < KF32)
    FI32(F32_GT, wex__f32(S(2)) > KF32)
    FI32(F32_LE, wex__f32(S(2)) <= KF32)
    FI32(F32_GE, wex__f32(S(2)) >= KF32)
    FI64(F64_ADD, wex__bits64(wex__f64(S(2)) + KF64))
    FI64(F64_SUB, wex__bits64(wex__f64(S(2)) - KF64))
    FI64(F64_MUL, wex__bits64(wex__f64(S(2)) * KF64))
    FI64(F64_DIV, wex__bits64(wex__f64(S(2)) / KF64))
    FI64(F64_RSUB, wex__bits64(KF64 - wex__f64(S(2))))
    FI64(F64_RDIV, wex__bits64(KF64 / wex__f64(S(2))))
    FI64(F64_EQ, wex__f64(S(2)) == KF64)
    FI64(F64_NE, wex__f64(S(2)) != KF64)
    FI64(F64_LT, wex__f64(S(2)) < KF64)
    FI64(F64_GT, wex__f64(S(2)) > KF64)
    FI64(F64_LE, wex__f64(S(2)) <= KF64)
    FI64(F64_GE, wex__f64(S(2)) >= KF64)
#undef FI32
#undef FI64
#undef KF32
#undef KF64
    /* Compare and branch: a, b (slot or immediate), offset word at ip[3]. */
    /* The ten i32 comparisons (name, operand type, operator), for the
     * compare-and-branch, add-and-branch and select families below. */
#define I32_CONDS(M)                                                                               \
    M(EQ, uint32_t, ==)                                                                            \
    M(NE, uint32_t, !=)                                                                            \
    M(LT_S, int32_t, <)                                                                            \
    M(LT_U, uint32_t, <)                                                                           \
    M(GT_S, int32_t, >)                                                                            \
    M(GT_U, uint32_t, >)                                                                           \
    M(LE_S, int32_t, <=)                                                                           \
    M(LE_U, uint32_t, <=)                                                                          \
    M(GE_S, int32_t, >=)                                                                           \
    M(GE_U, uint32_t, >=)
#define BRC(name, T, op)                                                                           \
    L_BR_I32_##name : if ((T)I32(1) op(T) I32(2)) {                                                \
        ip = ip + 3 + (int32_t)ip[3];                                                              \
        NEXT();                                                                                    \
    }                                                                                              \
    ip += 4;                                                                                       \
    NEXT();                                                                                        \
    L_BR_I32_##name##_IMM : if ((T)I32(1) op(T) ip[2]) {                                           \
        ip = ip + 3 + (int32_t)ip[3];                                                              \
        NEXT();                                                                                    \
    }                                                                                              \
    ip += 4;                                                                                       \
    NEXT();
    I32_CONDS(BRC)
#undef BRC
    /* x += k, then compare and branch: x, k, b (slot or immediate), offset. */
#define BRA(name, T, op)                                                                           \
    L_BR_ADDI_I32_##name : {                                                                       \
        uint32_t v_ = I32(1) + ip[2];                                                              \
        S(1) = v_;                                                                                 \
        if ((T)v_ op(T) I32(3)) {                                                                  \
            ip = ip + 4 + (int32_t)ip[4];                                                          \
            NEXT();                                                                                \
        }                                                                                          \
        ip += 5;                                                                                   \
        NEXT();                                                                                    \
    }                                                                                              \
    L_BR_ADDI_I32_##name##_IMM : {                                                                 \
        uint32_t v_ = I32(1) + ip[2];                                                              \
        S(1) = v_;                                                                                 \
        if ((T)v_ op(T) ip[3]) {                                                                   \
            ip = ip + 4 + (int32_t)ip[4];                                                          \
            NEXT();                                                                                \
        }                                                                                          \
        ip += 5;                                                                                   \
        NEXT();                                                                                    \
    }
    I32_CONDS(BRA)
#undef BRA
#undef I32

#include "interp/interp_atomic.h" /* the threads proposal's operators */

    /* ------------------------------------------------ loop ends and dispatch (session 4) */
#define I32(i) ((uint32_t)S(i))
    /* One or two `d = a + k` (or one `d = a + c`, `d = k`, `d = a`), then
     * BR_ADDI_* (x += kx, compare with b, branch): each write lands before
     * the next read, as in the unfused sequence. */
/* One fused loop end: PRE (the extra adds), then x += k for x at slot word
 * vi (k the next word), compared with B; the offset word is w. */
#define BRA_(label, T, op, PRE, vi, B, w)                                                          \
    label : {                                                                                      \
        PRE;                                                                                       \
        uint32_t v_ = I32(vi) + ip[(vi) + 1];                                                      \
        S(vi) = v_;                                                                                \
        if ((T)v_ op(T)(B)) {                                                                      \
            ip = ip + (w) + (int32_t)ip[w];                                                        \
            NEXT();                                                                                \
        }                                                                                          \
        ip += (w) + 1;                                                                             \
        NEXT();                                                                                    \
    }
#define BRA_ADD1 S(1) = (uint32_t)(I32(2) + ip[3])
#define BRA_ADD2                                                                                   \
    S(1) = (uint32_t)(I32(2) + ip[3]);                                                             \
    S(4) = (uint32_t)(I32(5) + ip[6])
#define BRA_ADDR  S(1) = (uint32_t)(I32(2) + I32(3))
#define BRA_CONST S(1) = ip[2]
#define BRA_MOVE  S(1) = S(2)
#define BRA23(name, T, op)                                                                         \
    BRA_(L_BR_ADDI2_I32_##name, T, op, BRA_ADD1, 4, I32(6), 7)                                     \
    BRA_(L_BR_ADDI2_I32_##name##_IMM, T, op, BRA_ADD1, 4, ip[6], 7)                                \
    BRA_(L_BR_ADDI3_I32_##name, T, op, BRA_ADD2, 7, I32(9), 10)                                    \
    BRA_(L_BR_ADDI3_I32_##name##_IMM, T, op, BRA_ADD2, 7, ip[9], 10)                               \
    BRA_(L_BR_ADDIR2_I32_##name, T, op, BRA_ADDR, 4, I32(6), 7)                                    \
    BRA_(L_BR_ADDIR2_I32_##name##_IMM, T, op, BRA_ADDR, 4, ip[6], 7)                               \
    BRA_(L_BR_ADDIC2_I32_##name, T, op, BRA_CONST, 3, I32(5), 6)                                   \
    BRA_(L_BR_ADDIC2_I32_##name##_IMM, T, op, BRA_CONST, 3, ip[5], 6)                              \
    BRA_(L_BR_ADDIM2_I32_##name, T, op, BRA_MOVE, 3, I32(5), 6)                                    \
    BRA_(L_BR_ADDIM2_I32_##name##_IMM, T, op, BRA_MOVE, 3, ip[5], 6)
    I32_CONDS(BRA23)
#undef BRA23
#undef BRA_
#undef BRA_ADD1
#undef BRA_ADD2
#undef BRA_ADDR
#undef BRA_CONST
#undef BRA_MOVE
    /* The A, A2 and A3 forms: one to three adds (d, a, k each, from word
     * tw), in order, then the table. BR_TABLE_IA: idx, n, then the adds and
     * the offsets; BR_TABLE_M*A*: n, address words, off, then the adds (the
     * key's address is read after them) and the offsets. */
#define BRT_ADDS(tw, nadd)                                                                         \
    for (unsigned j_ = 0; j_ < (nadd); j_++)                                                       \
        S((tw) + 3 * j_) = (uint32_t)(I32((tw) + 3 * j_ + 1) + ip[(tw) + 3 * j_ + 2]);
#define BRTIAN(label, nadd)                                                                        \
    label : {                                                                                      \
        BRT_ADDS(3, nadd);                                                                         \
        uint32_t k = I32(1), n = ip[2];                                                            \
        if (k > n) k = n;                                                                          \
        ip += 3 + 3 * (nadd) + k; /* the offset word; then a signed move (k is unsigned: */        \
        ip += (int32_t)ip[0];     /* one expression would turn a backward offset forward) */       \
        NEXT();                                                                                    \
    }
#define BRTMAN(label, EAF, tw, nadd)                                                               \
    label : {                                                                                      \
        BRT_ADDS(tw, nadd);                                                                        \
        EAF(4);                                                                                    \
        uint32_t k_, n_ = ip[1];                                                                   \
        memcpy(&k_, mb + ea, 4);                                                                   \
        if (k_ > n_) k_ = n_;                                                                      \
        ip += (tw) + 3 * (nadd) + k_;                                                              \
        ip += (int32_t)ip[0];                                                                      \
        NEXT();                                                                                    \
    }
#define BRTA_N(N, nadd)                                                                            \
    BRTIAN(L_BR_TABLE_IA##N, nadd)                                                                 \
    BRTMAN(L_BR_TABLE_MPA##N, EA_P, 4, nadd)                                                       \
    BRTMAN(L_BR_TABLE_MIA##N, EA_I, 5, nadd)                                                       \
    BRTMAN(L_BR_TABLE_MRA##N, EA_R, 7, nadd)                                                       \
    BRTMAN(L_BR_TABLE_MSA##N, EA_S, 6, nadd)
    BRTA_N(, 1)
    BRTA_N(2, 2)
    BRTA_N(3, 3)
#undef BRTA_N
#undef BRTMAN
#undef BRTIAN
#undef BRT_ADDS
    /* select on a comparison: dst, a, b, x, y, c. The comparison's slot c is
     * written before a and b are read, as in the two instructions. */
#define SELC(name, T, op)                                                                          \
    L_SELECT_I32_##name : {                                                                        \
        uint32_t c_ = (T)I32(4) op(T) I32(5);                                                      \
        S(6) = c_;                                                                                 \
        S(1) = c_ ? S(2) : S(3);                                                                   \
        ip += 7;                                                                                   \
        NEXT();                                                                                    \
    }                                                                                              \
    L_SELECT_I32_##name##_IMM : {                                                                  \
        uint32_t c_ = (T)I32(4) op(T) ip[5];                                                       \
        S(6) = c_;                                                                                 \
        S(1) = c_ ? S(2) : S(3);                                                                   \
        ip += 7;                                                                                   \
        NEXT();                                                                                    \
    }
    I32_CONDS(SELC)
#undef SELC
#undef I32_CONDS
#undef I32
    /* ------------------------------------------------ rotate and float fusions */
    /* Xor of rotations of one value; amounts are 0..31 (the translator
     * reduced them), so the rotate needs no test for zero. */
#define XROTL(x, n) (((x) << (n)) | ((x) >> ((32u - (n)) & 31u)))
L_I32_XROT2 : {
    uint32_t y_ = (uint32_t)S(2);
    S(1) = XROTL(y_, ip[3]) ^ XROTL(y_, ip[4]);
    ip += 5;
    NEXT();
}
L_I32_XROT_SHR : {
    uint32_t y_ = (uint32_t)S(2);
    S(1) = XROTL(y_, ip[3]) ^ (y_ >> ip[4]);
    ip += 5;
    NEXT();
}
L_I32_XROT3 : {
    uint32_t y_ = (uint32_t)S(2);
    S(1) = XROTL(y_, ip[3]) ^ XROTL(y_, ip[4]) ^ XROTL(y_, ip[5]);
    ip += 6;
    NEXT();
}
L_I32_XROT2_SHR : {
    uint32_t y_ = (uint32_t)S(2);
    S(1) = XROTL(y_, ip[3]) ^ XROTL(y_, ip[4]) ^ (y_ >> ip[5]);
    ip += 6;
    NEXT();
}
L_I32_ADD_XROT2 : {
    uint32_t y_ = (uint32_t)S(3);
    S(1) = (uint32_t)((uint32_t)S(2) + (XROTL(y_, ip[4]) ^ XROTL(y_, ip[5])));
    ip += 6;
    NEXT();
}
L_I32_ADD_XROT_SHR : {
    uint32_t y_ = (uint32_t)S(3);
    S(1) = (uint32_t)((uint32_t)S(2) + (XROTL(y_, ip[4]) ^ (y_ >> ip[5])));
    ip += 6;
    NEXT();
}
L_I32_ADD_XROT3 : {
    uint32_t y_ = (uint32_t)S(3);
    S(1) = (uint32_t)((uint32_t)S(2) + (XROTL(y_, ip[4]) ^ XROTL(y_, ip[5]) ^ XROTL(y_, ip[6])));
    ip += 7;
    NEXT();
}
L_I32_ADD_XROT2_SHR : {
    uint32_t y_ = (uint32_t)S(3);
    S(1) = (uint32_t)((uint32_t)S(2) + (XROTL(y_, ip[4]) ^ XROTL(y_, ip[5]) ^ (y_ >> ip[6])));
    ip += 7;
    NEXT();
}
#undef XROTL
L_I32_ANDN:
    S(1) = (uint32_t)S(2) & ~(uint32_t)S(3);
    ip += 4;
    NEXT();
    /* Float compare-and-branch: a, b (a slot, or the constant's words), then
     * the offset word. C's comparisons are IEEE's (false on NaN), and the N
     * forms negate them, so they are taken on NaN. */
#define KF64_(i) wex__f64((uint64_t)ip[i] | (uint64_t)ip[(i) + 1] << 32)
#define BRF1(label, T, x, y, cond, w)                                                              \
    L_##label : {                                                                                  \
        T a_ = (x), b_ = (y);                                                                      \
        if (cond) {                                                                                \
            ip = ip + (w)-1 + (int32_t)ip[(w)-1];                                                  \
            NEXT();                                                                                \
        }                                                                                          \
        ip += (w);                                                                                 \
        NEXT();                                                                                    \
    }
#define BRF(name, cond)                                                                            \
    BRF1(BR_F32_##name, float, wex__f32(S(1)), wex__f32(S(2)), cond, 4)                            \
    BRF1(BR_F32_##name##_IMM, float, wex__f32(S(1)), wex__f32(ip[2]), cond, 4)                     \
    BRF1(BR_F64_##name, double, wex__f64(S(1)), wex__f64(S(2)), cond, 4)                           \
    BRF1(BR_F64_##name##_IMM, double, wex__f64(S(1)), KF64_(2), cond, 5)
    BRF(EQ, a_ == b_)
    BRF(NE, a_ != b_)
    BRF(LT, a_ < b_)
    BRF(GT, a_ > b_)
    BRF(LE, a_ <= b_)
    BRF(GE, a_ >= b_)
    BRF(NLT, !(a_ < b_))
    BRF(NGT, !(a_ > b_))
    BRF(NLE, !(a_ <= b_))
    BRF(NGE, !(a_ >= b_))
#undef BRF
#undef BRF1
#undef KF64_
    /* Pairs of float operations (T_PAIR_A_B): A at operand words 1.., then
     * B; B may read what A wrote. Each operation rounds to its type, as
     * the two instructions did (the loop is compiled without contraction:
     * see interp.c). */
#define FPN_ADD                3
#define FPN_SUB                3
#define FPN_MUL                3
#define FPN_MULADD             4
#define FPN_MULSUB             4
#define FPN_SUBMUL             4
#define FPO_ADD(o, T, G, P)    S(o) = P(G(S((o) + 1)) + G(S((o) + 2)))
#define FPO_SUB(o, T, G, P)    S(o) = P(G(S((o) + 1)) - G(S((o) + 2)))
#define FPO_MUL(o, T, G, P)    S(o) = P(G(S((o) + 1)) * G(S((o) + 2)))
#define FPO_MULADD(o, T, G, P) S(o) = P((T)(G(S((o) + 1)) * G(S((o) + 2))) + G(S((o) + 3)))
#define FPO_MULSUB(o, T, G, P) S(o) = P((T)(G(S((o) + 1)) * G(S((o) + 2))) - G(S((o) + 3)))
#define FPO_SUBMUL(o, T, G, P) S(o) = P(G(S((o) + 3)) - (T)(G(S((o) + 1)) * G(S((o) + 2))))
#define FPAIR(N, T, G, P, A, B)                                                                    \
    L_##N##_PAIR_##A##_##B : FPO_##A(1, T, G, P);                                                  \
    FPO_##B(1 + FPN_##A, T, G, P);                                                                 \
    ip += 1 + FPN_##A + FPN_##B;                                                                   \
    NEXT();
#define FPAIRS(N, T, G, P, A)                                                                      \
    FPAIR(N, T, G, P, A, ADD)                                                                      \
    FPAIR(N, T, G, P, A, SUB)                                                                      \
    FPAIR(N, T, G, P, A, MUL)                                                                      \
    FPAIR(N, T, G, P, A, MULADD)                                                                   \
    FPAIR(N, T, G, P, A, MULSUB)                                                                   \
    FPAIR(N, T, G, P, A, SUBMUL)
#define FPAIRT(N, T, G, P)                                                                         \
    FPAIRS(N, T, G, P, ADD)                                                                        \
    FPAIRS(N, T, G, P, SUB)                                                                        \
    FPAIRS(N, T, G, P, MUL)                                                                        \
    FPAIRS(N, T, G, P, MULADD)                                                                     \
    FPAIRS(N, T, G, P, MULSUB)                                                                     \
    FPAIRS(N, T, G, P, SUBMUL)
    FPAIRT(F32, float, wex__f32, wex__bits32)
    FPAIRT(F64, double, wex__f64, wex__bits64)
#undef FPAIRT
#undef FPAIRS
#undef FPAIR
    /* A float add, sub or mul, then compare x with a constant and branch. */
#define FOBR1(label, T, G, P, OPX, x, y, cond, w)                                                  \
    L_##label : {                                                                                  \
        S(1) = P(G(S(2)) OPX G(S(3)));                                                             \
        T a_ = (x), b_ = (y);                                                                      \
        if (cond) {                                                                                \
            ip = ip + (w)-1 + (int32_t)ip[(w)-1];                                                  \
            NEXT();                                                                                \
        }                                                                                          \
        ip += (w);                                                                                 \
        NEXT();                                                                                    \
    }
#define FOBRA(A, OPX, C, cond)                                                                     \
    FOBR1(F32_##A##_BR_##C##_IMM, float, wex__f32, wex__bits32, OPX, wex__f32(S(4)),               \
          wex__f32(ip[5]), cond, 7)                                                                \
    FOBR1(F64_##A##_BR_##C##_IMM, double, wex__f64, wex__bits64, OPX, wex__f64(S(4)),              \
          wex__f64((uint64_t)ip[5] | (uint64_t)ip[6] << 32), cond, 8)
#define FOBR(C, cond)                                                                              \
    FOBRA(ADD, +, C, cond)                                                                         \
    FOBRA(SUB, -, C, cond)                                                                         \
    FOBRA(MUL, *, C, cond)
    FOBR(EQ, a_ == b_)
    FOBR(NE, a_ != b_)
    FOBR(LT, a_ < b_)
    FOBR(GT, a_ > b_)
    FOBR(LE, a_ <= b_)
    FOBR(GE, a_ >= b_)
    FOBR(NLT, !(a_ < b_))
    FOBR(NGT, !(a_ > b_))
    FOBR(NLE, !(a_ <= b_))
    FOBR(NGE, !(a_ >= b_))
#undef FOBR
#undef FOBRA
#undef FOBR1
    /* Pairs of i32 operations (I32_PAIR_A_B): A at words 1-3, then B at 4-6. */
#define IPO_ADD(x, y)  ((x) + (y))
#define IPO_SUB(x, y)  ((x) - (y))
#define IPO_AND(x, y)  ((x) & (y))
#define IPO_OR(x, y)   ((x) | (y))
#define IPO_XOR(x, y)  ((x) ^ (y))
#define IPO_ANDN(x, y) ((x) & ~(y))
#define IPAIR(A, B)                                                                                \
    L_I32_PAIR_##A##_##B : S(1) = (uint32_t)IPO_##A((uint32_t)S(2), (uint32_t)S(3));               \
    S(4) = (uint32_t)IPO_##B((uint32_t)S(5), (uint32_t)S(6));                                      \
    ip += 7;                                                                                       \
    NEXT();
#define IPAIRS(A)                                                                                  \
    IPAIR(A, ADD)                                                                                  \
    IPAIR(A, SUB)                                                                                  \
    IPAIR(A, AND)                                                                                  \
    IPAIR(A, OR)                                                                                   \
    IPAIR(A, XOR)                                                                                  \
    IPAIR(A, ANDN)
    IPAIRS(ADD)
    IPAIRS(SUB)
    IPAIRS(AND)
    IPAIRS(OR)
    IPAIRS(XOR)
    IPAIRS(ANDN)
#undef IPAIRS
#undef IPAIR
#undef IPO_ADD
#undef IPO_SUB
#undef IPO_AND
#undef IPO_OR
#undef IPO_XOR
#undef IPO_ANDN
#undef FPO_ADD
#undef FPO_SUB
#undef FPO_MUL
#undef FPO_MULADD
#undef FPO_MULSUB
#undef FPO_SUBMUL
#undef FPN_ADD
#undef FPN_SUB
#undef FPN_MUL
#undef FPN_MULADD
#undef FPN_MULSUB
#undef FPN_SUBMUL

    /* ------------------------------------------------ stores (session 4) */
    /* The bounds check of a store at e of n bytes; a trap first moves ip by
     * adj words, to the part of a fused instruction the failing operator's
     * words start at (the backtrace names that operator). */
#if WEX__CHECKED
#define STB(e, n, adj)                                                                             \
    if (WEX__UNLIKELY((e) + (n) > msz) &&                                                          \
        (e) + (n) > (msz = __atomic_load_n(&inst->mem0->size, __ATOMIC_ACQUIRE))) {                \
        ip += (adj);                                                                               \
        TRAP(WEX_TRAP_MEMORY_OOB);                                                                 \
    }
#else
#define STB(e, n, adj) (void)0
#endif
#define STOREV(label, T, n, conv)                                                                  \
    label : {                                                                                      \
        uint64_t ea = (uint64_t)(uint32_t)(S(1) + ip[2]) + ip[4];                                  \
        STB(ea, n, 0);                                                                             \
        T v_ = (T)(conv);                                                                          \
        memcpy(mb + ea, &v_, n);                                                                   \
        ip += 5;                                                                                   \
        NEXT();                                                                                    \
    }
    STOREV(L_STOREV_32, uint32_t, 4, ip[3])
    STOREV(L_STOREV_64, uint64_t, 8, (int64_t)(int32_t)ip[3])
    STOREV(L_STOREV_8, uint8_t, 1, ip[3])
    STOREV(L_STOREV_16, uint16_t, 2, ip[3])
    /* Two stores in a row: the second's words from ip[5]; a trap in it
     * comes after the first took effect, with ip at those words (they name
     * the second's operator). */
#define STORE2(label, T, n, v1, v2)                                                                \
    label : {                                                                                      \
        uint64_t ea = (uint64_t)(uint32_t)(S(1) + ip[2]) + ip[4];                                  \
        STB(ea, n, 0);                                                                             \
        T v_ = (T)(v1);                                                                            \
        memcpy(mb + ea, &v_, n);                                                                   \
        ea = (uint64_t)(uint32_t)(S(5) + ip[6]) + ip[8];                                           \
        STB(ea, n, 5);                                                                             \
        v_ = (T)(v2);                                                                              \
        memcpy(mb + ea, &v_, n);                                                                   \
        ip += 9;                                                                                   \
        NEXT();                                                                                    \
    }
    STORE2(L_STORE2_32, uint32_t, 4, S(3), S(7))
    STORE2(L_STORE2_64, uint64_t, 8, S(3), S(7))
    STORE2(L_STORE2_8, uint8_t, 1, S(3), S(7))
    STORE2(L_STORE2_16, uint16_t, 2, S(3), S(7))
    STORE2(L_STOREV2_32, uint32_t, 4, ip[3], ip[7])
    STORE2(L_STOREV2_64, uint64_t, 8, (int64_t)(int32_t)ip[3], (int64_t)(int32_t)ip[7])
    STORE2(L_STOREV2_8, uint8_t, 1, ip[3], ip[7])
    STORE2(L_STOREV2_16, uint16_t, 2, ip[3], ip[7])
#undef STORE2
    /* An i32 result stored right away (`p->head = size | 1`): the result
     * slot is written first, so a base that is that slot sees it, as in
     * the two instructions; a trap in the store has ip at its words. */
#define OPST(label, expr)                                                                          \
    label : {                                                                                      \
        uint32_t v_ = (expr);                                                                      \
        S(1) = v_;                                                                                 \
        uint64_t ea = (uint64_t)(uint32_t)S(4) + ip[5];                                            \
        STB(ea, 4, 4);                                                                             \
        memcpy(mb + ea, &v_, 4);                                                                   \
        ip += 6;                                                                                   \
        NEXT();                                                                                    \
    }
    OPST(L_I32_ADD_IMM_ST, (uint32_t)S(2) + ip[3])
    OPST(L_I32_OR_IMM_ST, (uint32_t)S(2) | ip[3])
    OPST(L_I32_ADD_ST, (uint32_t)S(2) + (uint32_t)S(3))
#undef OPST
#undef STOREV
#undef STB
    /* Constants and copies in a row (session 4). */
L_CONST32_2:
    S(1) = ip[2];
    S(3) = ip[4];
    ip += 5;
    NEXT();
L_MOVE_CONST32:
    S(1) = S(2);
    S(3) = ip[4];
    ip += 5;
    NEXT();
L_CONST32_MOVE:
    S(1) = ip[2];
    S(3) = S(4);
    ip += 5;
    NEXT();

    /* ------------------------------------------------ loads and the next instruction (session 4)
     */
    /* LB_*: the load (lw words), then the branch's words at b_: its opcode,
     * the loaded value's slot, the other operand (compares), the offset. */
#define LB1(P, L, T, n, EAF, lw, K, bw, cond)                                                      \
    L_##P##_##L##_##K : {                                                                          \
        EAF(n);                                                                                    \
        T v_;                                                                                      \
        memcpy(&v_, mb + ea, n);                                                                   \
        uint32_t x_ = v_;                                                                          \
        S(1) = x_;                                                                                 \
        const uint32_t *b_ = ip + (lw);                                                            \
        if (cond) {                                                                                \
            ip = b_ + (bw)-1 + (int32_t)b_[(bw)-1];                                                \
            NEXT();                                                                                \
        }                                                                                          \
        ip = b_ + (bw);                                                                            \
        NEXT();                                                                                    \
    }
#define LB(L, T, n, EAF, lw)                                                                       \
    LB1(LB, L, T, n, EAF, lw, BR_IF_Z, 3, x_ == 0)                                                 \
    LB1(LB, L, T, n, EAF, lw, BR_IF_NZ, 3, x_ != 0)                                                \
    LB1(LB, L, T, n, EAF, lw, EQ, 4, x_ == (uint32_t)fp[b_[2]])                                    \
    LB1(LB, L, T, n, EAF, lw, NE, 4, x_ != (uint32_t)fp[b_[2]])                                    \
    LB1(LB, L, T, n, EAF, lw, LT_U, 4, x_ < (uint32_t)fp[b_[2]])                                   \
    LB1(LB, L, T, n, EAF, lw, GT_U, 4, x_ > (uint32_t)fp[b_[2]])                                   \
    LB1(LB, L, T, n, EAF, lw, LE_U, 4, x_ <= (uint32_t)fp[b_[2]])                                  \
    LB1(LB, L, T, n, EAF, lw, GE_U, 4, x_ >= (uint32_t)fp[b_[2]])
    LB(I32_LOAD, uint32_t, 4, EA_P, 4)
    LB(I32_LOAD_I, uint32_t, 4, EA_I, 5)
    LB(I32_LOAD_R, uint32_t, 4, EA_R, 7)
    LB(I32_LOAD_K, uint32_t, 4, EA_K, 4)
    LB(I32_LOAD8_U, uint8_t, 1, EA_P, 4)
    LB(I32_LOAD8_U_I, uint8_t, 1, EA_I, 5)
    LB(I32_LOAD8_U_R, uint8_t, 1, EA_R, 7)
    LB(I32_LOAD8_U_K, uint8_t, 1, EA_K, 4)
    /* LBI_*: as LB_, against an immediate (b_[2]) */
#define LBI(L, T, n, EAF, lw)                                                                      \
    LB1(LBI, L, T, n, EAF, lw, EQ, 4, x_ == b_[2])                                                 \
    LB1(LBI, L, T, n, EAF, lw, NE, 4, x_ != b_[2])                                                 \
    LB1(LBI, L, T, n, EAF, lw, LT_S, 4, (int32_t)x_ < (int32_t)b_[2])                              \
    LB1(LBI, L, T, n, EAF, lw, GE_S, 4, (int32_t)x_ >= (int32_t)b_[2])                             \
    LB1(LBI, L, T, n, EAF, lw, LT_U, 4, x_ < b_[2])                                                \
    LB1(LBI, L, T, n, EAF, lw, GE_U, 4, x_ >= b_[2])                                               \
    LB1(LBI, L, T, n, EAF, lw, TEST_NZ, 4, (x_ & b_[2]) != 0)                                      \
    LB1(LBI, L, T, n, EAF, lw, TEST_Z, 4, (x_ & b_[2]) == 0)
    LBI(I32_LOAD, uint32_t, 4, EA_P, 4)
    LBI(I32_LOAD_I, uint32_t, 4, EA_I, 5)
    LBI(I32_LOAD8_U, uint8_t, 1, EA_P, 4)
    LBI(I32_LOAD8_U_I, uint8_t, 1, EA_I, 5)
#undef LBI
#undef LB
#undef LB1
    /* CP_*: the load (lw words), then the store's words at s_: its opcode,
     * address words, value slot (the load's destination), offset. The
     * store's bounds are checked with ip at the store, so that a trap names
     * it. */
#if WEX__CHECKED
#define BOUND2(n)                                                                                  \
    if (WEX__UNLIKELY(e2 + (n) > msz) &&                                                           \
        e2 + (n) > (msz = __atomic_load_n(&inst->mem0->size, __ATOMIC_ACQUIRE))) {                 \
        ip = s_;                                                                                   \
        TRAP(WEX_TRAP_MEMORY_OOB);                                                                 \
    }
#else
#define BOUND2(n) (void)0
#endif
#define EACP_P(n)                                                                                  \
    uint64_t e2 = (uint64_t)(uint32_t)fp[s_[1]] + s_[3];                                           \
    BOUND2(n)
#define EACP_I(n)                                                                                  \
    uint64_t e2 = (uint64_t)(uint32_t)(fp[s_[1]] + s_[2]) + s_[4];                                 \
    BOUND2(n)
#define EACP_R(n)                                                                                  \
    uint64_t e2 =                                                                                  \
        (uint64_t)(uint32_t)(fp[s_[1]] + ((uint32_t)fp[s_[2]] << s_[3]) + s_[4]) + s_[6];          \
    BOUND2(n)
#define CP1(name, T, n, EAF, lw, EAS, sw)                                                          \
    L_##name : {                                                                                   \
        EAF(n);                                                                                    \
        T v_;                                                                                      \
        memcpy(&v_, mb + ea, n);                                                                   \
        S(1) = v_;                                                                                 \
        const uint32_t *s_ = ip + (lw);                                                            \
        EAS(n);                                                                                    \
        memcpy(mb + e2, &v_, n);                                                                   \
        ip = s_ + (sw);                                                                            \
        NEXT();                                                                                    \
    }
#define CPL(W, T, n, LF, EAF, lw)                                                                  \
    CP1(CP_##W##_##LF##P, T, n, EAF, lw, EACP_P, 4)                                                \
    CP1(CP_##W##_##LF##I, T, n, EAF, lw, EACP_I, 5)                                                \
    CP1(CP_##W##_##LF##R, T, n, EAF, lw, EACP_R, 7)
#define CPW(W, T, n)                                                                               \
    CPL(W, T, n, P, EA_P, 4)                                                                       \
    CPL(W, T, n, I, EA_I, 5)                                                                       \
    CPL(W, T, n, R, EA_R, 7)
    CPW(I32, uint32_t, 4)
    CPW(I64, uint64_t, 8)
    CPW(I32_8, uint8_t, 1)
#undef CPW
#undef CPL
#undef CP1

    /* ------------------------------------------------ float store and load pairs (session 5) */
    /* FST_* and LL_*: the first instruction, then the second's words at
     * s_. The second's bounds are checked with ip at its words, so that a
     * trap names its operator (CP_'s BOUND2; a store's address at s_ is
     * CP_'s EACP_*, and its constant form FSE_K). */
#define FSE_K(n)                                                                                   \
    uint64_t e2 = (uint64_t)s_[1] + s_[3];                                                         \
    BOUND2(n)
    /* A memory operand's address at s_ (dst and x first, see EAM_*). */
#define LLE_P(n)                                                                                   \
    uint64_t e2 = (uint64_t)(uint32_t)fp[s_[3]] + s_[4];                                           \
    BOUND2(n)
#define LLE_I(n)                                                                                   \
    uint64_t e2 = (uint64_t)(uint32_t)(fp[s_[3]] + s_[4]) + s_[5];                                 \
    BOUND2(n)
#define LLE_R(n)                                                                                   \
    uint64_t e2 =                                                                                  \
        (uint64_t)(uint32_t)(fp[s_[3]] + ((uint32_t)fp[s_[4]] << s_[5]) + s_[6]) + s_[7];          \
    BOUND2(n)
    /* FST_*: the operation's result r (its bits, ow words), written to its
     * slot, then stored. */
#define FST1(label, TB, r, ow, EAF, sw)                                                            \
    label : {                                                                                      \
        TB v_ = (TB)(r);                                                                           \
        S(1) = v_;                                                                                 \
        const uint32_t *s_ = ip + (ow);                                                            \
        EAF(sizeof(TB));                                                                           \
        memcpy(mb + e2, &v_, sizeof v_);                                                           \
        ip = s_ + (sw);                                                                            \
        NEXT();                                                                                    \
    }
#define FSTF(T, O, TB, r, ow)                                                                      \
    FST1(L_FST_##T##_##O##_P, TB, r, ow, EACP_P, 4)                                                \
    FST1(L_FST_##T##_##O##_I, TB, r, ow, EACP_I, 5)                                                \
    FST1(L_FST_##T##_##O##_R, TB, r, ow, EACP_R, 7)                                                \
    FST1(L_FST_##T##_##O##_K, TB, r, ow, FSE_K, 4)
#define A32(i) wex__f32(S(i))
#define A64(i) wex__f64(S(i))
#define K32    wex__f32(ip[3])
#define K64    wex__f64((uint64_t)ip[3] | (uint64_t)ip[4] << 32)
    FSTF(F32, ADD, uint32_t, wex__bits32(A32(2) + A32(3)), 4)
    FSTF(F32, SUB, uint32_t, wex__bits32(A32(2) - A32(3)), 4)
    FSTF(F32, MUL, uint32_t, wex__bits32(A32(2) * A32(3)), 4)
    FSTF(F32, ADD_IMM, uint32_t, wex__bits32(A32(2) + K32), 4)
    FSTF(F32, SUB_IMM, uint32_t, wex__bits32(A32(2) - K32), 4)
    FSTF(F32, MUL_IMM, uint32_t, wex__bits32(A32(2) * K32), 4)
    FSTF(F64, ADD, uint64_t, wex__bits64(A64(2) + A64(3)), 4)
    FSTF(F64, SUB, uint64_t, wex__bits64(A64(2) - A64(3)), 4)
    FSTF(F64, MUL, uint64_t, wex__bits64(A64(2) * A64(3)), 4)
    FSTF(F64, ADD_IMM, uint64_t, wex__bits64(A64(2) + K64), 5)
    FSTF(F64, SUB_IMM, uint64_t, wex__bits64(A64(2) - K64), 5)
    FSTF(F64, MUL_IMM, uint64_t, wex__bits64(A64(2) * K64), 5)
#undef A32
#undef A64
#undef K32
#undef K64
#undef FSTF
#undef FST1
    /* LL_*: the load (lw words; its slot written), then the memory operand
     * (mw words) with the loaded value as x: x op m, as MOP1. */
#define LL1(label, TB, G, PK, OPX, EAF, lw, EAM, mw)                                               \
    label : {                                                                                      \
        EAF(sizeof(TB));                                                                           \
        TB a_;                                                                                     \
        memcpy(&a_, mb + ea, sizeof a_);                                                           \
        S(1) = a_;                                                                                 \
        const uint32_t *s_ = ip + (lw);                                                            \
        EAM(sizeof(TB));                                                                           \
        TB b_;                                                                                     \
        memcpy(&b_, mb + e2, sizeof b_);                                                           \
        fp[s_[1]] = PK(G(a_) OPX G(b_));                                                           \
        ip = s_ + (mw);                                                                            \
        NEXT();                                                                                    \
    }
#define LLL(T, O, TB, G, PK, OPX, L, EAF, lw)                                                      \
    LL1(L_LL_##T##_##O##_##L##P, TB, G, PK, OPX, EAF, lw, LLE_P, 5)                                \
    LL1(L_LL_##T##_##O##_##L##I, TB, G, PK, OPX, EAF, lw, LLE_I, 6)                                \
    LL1(L_LL_##T##_##O##_##L##R, TB, G, PK, OPX, EAF, lw, LLE_R, 8)
#define LLO(T, O, TB, G, PK, OPX)                                                                  \
    LLL(T, O, TB, G, PK, OPX, P, EA_P, 4)                                                          \
    LLL(T, O, TB, G, PK, OPX, I, EA_I, 5)                                                          \
    LLL(T, O, TB, G, PK, OPX, R, EA_R, 7)
    LLO(F32, ADD, uint32_t, wex__f32, wex__bits32, +)
    LLO(F32, MUL, uint32_t, wex__f32, wex__bits32, *)
    LLO(F64, ADD, uint64_t, wex__f64, wex__bits64, +)
    LLO(F64, MUL, uint64_t, wex__f64, wex__bits64, *)
#undef LLO
    /* M2_*: two memory operands of one kind (mw words each), in order. */
#define M21(label, TB, G, PK, OPX, EAF, EAM, mw)                                                   \
    label : {                                                                                      \
        EAF(sizeof(TB));                                                                           \
        TB b_;                                                                                     \
        memcpy(&b_, mb + ea, sizeof b_);                                                           \
        S(1) = PK(G((TB)S(2)) OPX G(b_));                                                          \
        const uint32_t *s_ = ip + (mw);                                                            \
        EAM(sizeof(TB));                                                                           \
        memcpy(&b_, mb + e2, sizeof b_);                                                           \
        fp[s_[1]] = PK(G((TB)fp[s_[2]]) OPX G(b_));                                                \
        ip = s_ + (mw);                                                                            \
        NEXT();                                                                                    \
    }
#define M2O(T, O, TB, G, PK, OPX)                                                                  \
    M21(L_M2_##T##_##O##_P, TB, G, PK, OPX, EAM2_P, LLE_P, 5)                                      \
    M21(L_M2_##T##_##O##_I, TB, G, PK, OPX, EAM2_I, LLE_I, 6)                                      \
    M21(L_M2_##T##_##O##_R, TB, G, PK, OPX, EAM2_R, LLE_R, 8)
#define EAM2_P(n)                                                                                  \
    uint64_t ea = (uint64_t)(uint32_t)S(3) + ip[4];                                                \
    BOUND(n)
#define EAM2_I(n)                                                                                  \
    uint64_t ea = (uint64_t)(uint32_t)(S(3) + ip[4]) + ip[5];                                      \
    BOUND(n)
#define EAM2_R(n)                                                                                  \
    uint64_t ea = (uint64_t)(uint32_t)(S(3) + ((uint32_t)S(4) << ip[5]) + ip[6]) + ip[7];          \
    BOUND(n)
    M2O(F32, ADD, uint32_t, wex__f32, wex__bits32, +)
    M2O(F32, SUB, uint32_t, wex__f32, wex__bits32, -)
    M2O(F32, MUL, uint32_t, wex__f32, wex__bits32, *)
    M2O(F64, ADD, uint64_t, wex__f64, wex__bits64, +)
    M2O(F64, SUB, uint64_t, wex__f64, wex__bits64, -)
    M2O(F64, MUL, uint64_t, wex__f64, wex__bits64, *)
#undef EAM2_P
#undef EAM2_I
#undef EAM2_R
#undef M2O
#undef M21
    /* LI_*: the load (lw words; its slot written), then the operation with
     * a constant (ow words) on the loaded value. */
#define LI1(label, TB, G, PK, OPX, KV, ow, EAF, lw)                                                \
    label : {                                                                                      \
        EAF(sizeof(TB));                                                                           \
        TB a_;                                                                                     \
        memcpy(&a_, mb + ea, sizeof a_);                                                           \
        S(1) = a_;                                                                                 \
        const uint32_t *s_ = ip + (lw);                                                            \
        fp[s_[1]] = PK(G(a_) OPX KV);                                                              \
        ip = s_ + (ow);                                                                            \
        NEXT();                                                                                    \
    }
#define LIO(T, O, TB, G, PK, OPX, KV, ow)                                                          \
    LI1(L_LI_##T##_##O##_P, TB, G, PK, OPX, KV, ow, EA_P, 4)                                       \
    LI1(L_LI_##T##_##O##_I, TB, G, PK, OPX, KV, ow, EA_I, 5)                                       \
    LI1(L_LI_##T##_##O##_R, TB, G, PK, OPX, KV, ow, EA_R, 7)                                       \
    LI1(L_LI_##T##_##O##_K, TB, G, PK, OPX, KV, ow, EA_K, 4)
#define KS32 wex__f32(s_[3])
#define KS64 wex__f64((uint64_t)s_[3] | (uint64_t)s_[4] << 32)
    LIO(F32, ADD_IMM, uint32_t, wex__f32, wex__bits32, +, KS32, 4)
    LIO(F32, SUB_IMM, uint32_t, wex__f32, wex__bits32, -, KS32, 4)
    LIO(F32, MUL_IMM, uint32_t, wex__f32, wex__bits32, *, KS32, 4)
    LIO(F64, ADD_IMM, uint64_t, wex__f64, wex__bits64, +, KS64, 5)
    LIO(F64, SUB_IMM, uint64_t, wex__f64, wex__bits64, -, KS64, 5)
    LIO(F64, MUL_IMM, uint64_t, wex__f64, wex__bits64, *, KS64, 5)
#undef KS32
#undef KS64
#undef LIO
#undef LI1
#undef LLL
#undef LL1
#undef EACP_P
#undef EACP_I
#undef EACP_R
#undef FSE_K
#undef LLE_P
#undef LLE_I
#undef LLE_R
#undef BOUND2
    /* ------------------------------------------------ branchy integer code (session 5) */
    /* An i32 operation with a constant, then a branch on its result: d, a,
     * k, b, off. v is written to d before b is read (b may be d), as in the
     * two instructions. */
#define OPKB(label, T, opx, cond)                                                                  \
    L_##label : {                                                                                  \
        uint32_t v_ = (opx);                                                                       \
        S(1) = v_;                                                                                 \
        if (cond) {                                                                                \
            ip = ip + 5 + (int32_t)ip[5];                                                          \
            NEXT();                                                                                \
        }                                                                                          \
        ip += 6;                                                                                   \
        NEXT();                                                                                    \
    }
#define OPKB_ADD  ((uint32_t)S(2) + ip[3])
#define OPKB_AND  ((uint32_t)S(2) & ip[3])
#define OPKB_RSUB (ip[3] - (uint32_t)S(2))
#define OPKBS(P, opx)                                                                              \
    OPKB(P##_EQ, uint32_t, opx, v_ == (uint32_t)S(4))                                              \
    OPKB(P##_NE, uint32_t, opx, v_ != (uint32_t)S(4))                                              \
    OPKB(P##_LT_S, int32_t, opx, (int32_t)v_ < (int32_t)S(4))                                      \
    OPKB(P##_LT_U, uint32_t, opx, v_ < (uint32_t)S(4))                                             \
    OPKB(P##_GT_S, int32_t, opx, (int32_t)v_ > (int32_t)S(4))                                      \
    OPKB(P##_GT_U, uint32_t, opx, v_ > (uint32_t)S(4))                                             \
    OPKB(P##_LE_S, int32_t, opx, (int32_t)v_ <= (int32_t)S(4))                                     \
    OPKB(P##_LE_U, uint32_t, opx, v_ <= (uint32_t)S(4))                                            \
    OPKB(P##_GE_S, int32_t, opx, (int32_t)v_ >= (int32_t)S(4))                                     \
    OPKB(P##_GE_U, uint32_t, opx, v_ >= (uint32_t)S(4))
    OPKBS(ADDK_BR, OPKB_ADD)
    OPKB(ADDK_BR_EQ_IMM, uint32_t, OPKB_ADD, v_ == ip[4])
    OPKB(ADDK_BR_NE_IMM, uint32_t, OPKB_ADD, v_ != ip[4])
    OPKB(ADDK_BR_LT_S_IMM, int32_t, OPKB_ADD, (int32_t)v_ < (int32_t)ip[4])
    OPKB(ADDK_BR_LT_U_IMM, uint32_t, OPKB_ADD, v_ < ip[4])
    OPKB(ADDK_BR_GT_S_IMM, int32_t, OPKB_ADD, (int32_t)v_ > (int32_t)ip[4])
    OPKB(ADDK_BR_GT_U_IMM, uint32_t, OPKB_ADD, v_ > ip[4])
    OPKB(ADDK_BR_LE_S_IMM, int32_t, OPKB_ADD, (int32_t)v_ <= (int32_t)ip[4])
    OPKB(ADDK_BR_LE_U_IMM, uint32_t, OPKB_ADD, v_ <= ip[4])
    OPKB(ADDK_BR_GE_S_IMM, int32_t, OPKB_ADD, (int32_t)v_ >= (int32_t)ip[4])
    OPKB(ADDK_BR_GE_U_IMM, uint32_t, OPKB_ADD, v_ >= ip[4])
    OPKB(ADDK_BR_TEST_NZ_IMM, uint32_t, OPKB_ADD, (v_ & ip[4]) != 0)
    OPKB(ADDK_BR_TEST_Z_IMM, uint32_t, OPKB_ADD, (v_ & ip[4]) == 0)
    OPKB(ANDK_BR_EQ_IMM, uint32_t, OPKB_AND, v_ == ip[4])
    OPKB(ANDK_BR_NE_IMM, uint32_t, OPKB_AND, v_ != ip[4])
    OPKB(ANDK_BR_LT_U_IMM, uint32_t, OPKB_AND, v_ < ip[4])
    OPKB(ANDK_BR_GT_U_IMM, uint32_t, OPKB_AND, v_ > ip[4])
    OPKB(ANDK_BR_LE_U_IMM, uint32_t, OPKB_AND, v_ <= ip[4])
    OPKB(ANDK_BR_GE_U_IMM, uint32_t, OPKB_AND, v_ >= ip[4])
    OPKBS(RSUBK_BR, OPKB_RSUB)
    /* A bit test whose target is another (THR_*): when taken, the target's
     * test runs here, on the target's words t_ (a, k, off). */
#define THR(label, c1, c2)                                                                         \
    L_##label : if (((uint32_t)S(1) & ip[2]) c1 0) {                                               \
        const uint32_t *t_ = ip + 3 + (int32_t)ip[3];                                              \
        if (((uint32_t)fp[t_[1]] & t_[2]) c2 0) {                                                  \
            ip = t_ + 3 + (int32_t)t_[3];                                                          \
            NEXT();                                                                                \
        }                                                                                          \
        ip = t_ + 4;                                                                               \
        NEXT();                                                                                    \
    }                                                                                              \
    ip += 4;                                                                                       \
    NEXT();
    THR(THR_TEST_NZ_NZ, !=, !=)
    THR(THR_TEST_NZ_Z, !=, ==)
    THR(THR_TEST_Z_NZ, ==, !=)
    THR(THR_TEST_Z_Z, ==, ==)
#undef THR
L_I32_ADD_OR_IMM:
    S(1) = (uint32_t)((uint32_t)S(2) + ip[3]) | ip[4];
    ip += 5;
    NEXT();
#undef OPKBS
#undef OPKB_ADD
#undef OPKB_AND
#undef OPKB_RSUB
#undef OPKB

    /* Operators that are translated into internal ones never run as such. */
L_BLOCK:
L_LOOP:
L_IF:
L_ELSE:
L_END:
L_BR:
L_BR_IF:
L_BR_TABLE:
L_RETURN:
L_CALL:
L_CALL_INDIRECT:
L_DROP:
L_SELECT:
L_SELECT_T:
L_LOCAL_GET:
L_LOCAL_SET:
L_LOCAL_TEE:
L_GLOBAL_GET:
L_GLOBAL_SET:
L_TABLE_GET:
L_TABLE_SET:
L_MEMORY_SIZE:
L_MEMORY_GROW:
L_I32_CONST:
L_I64_CONST:
L_F32_CONST:
L_F64_CONST:
L_REF_NULL:
L_REF_IS_NULL:
L_REF_FUNC:
L_MEMORY_INIT:
L_DATA_DROP:
L_MEMORY_COPY:
L_MEMORY_FILL:
L_TABLE_INIT:
L_ELEM_DROP:
L_TABLE_COPY:
L_TABLE_GROW:
L_TABLE_SIZE:
L_TABLE_FILL:
L_NOP:
L_UNREACHABLE:
    abort();

    /* ------------------------------------------------ an argument, then a direct call */
#define PRECALL(name, words, body)                                                                 \
    L_##name##_CALL_L : {                                                                          \
        body;                                                                                      \
        ip += words;                                                                               \
        CALL_L_BODY();                                                                             \
    }                                                                                              \
    L_##name##_CALL_LZ : {                                                                         \
        body;                                                                                      \
        ip += words;                                                                               \
        CALL_LZ_BODY();                                                                            \
    }                                                                                              \
    L_##name##_CALL_LZ1 : {                                                                        \
        body;                                                                                      \
        ip += words;                                                                               \
        CALL_LZ1_BODY();                                                                           \
    }
    PRECALL(ADDI, 4, S(1) = (uint32_t)((uint32_t)S(2) + ip[3]))
    PRECALL(MOVE, 3, MOVES1())
    PRECALL(MOVE2, 5, MOVES2())
    PRECALL(MOVE3, 7, MOVES3())
    PRECALL(I32_LOAD, 4, EA_P(4); uint32_t v_; memcpy(&v_, mb + ea, 4); S(1) = v_)
#undef PRECALL
#undef MOVES1
#undef MOVES2
#undef MOVES3
#undef MOVES4
#undef CALL_L_CALLEE
#undef CALL_L_BODY
#undef CALL_LZ_BODY
#undef CALL_LZ1_BODY

do_tier_error: /* native code this loop switched to failed: ip is past the caller's call */
    s->depth = entry_depth;
    wex__interp_backtrace_add(s, err, inst, ip - 1, (uint32_t)(top - s->frames));
    s->entries--;
    return err;
do_error: /* a host function failed: ip is past its call */
    s->depth = entry_depth;
    wex__interp_backtrace(s, err, inst, ip - 1, (uint32_t)(top - s->frames));
    s->entries--;
    return err;
do_trap:
    s->depth = entry_depth;
    err =
        trap_index >= 0 ? wex__error_trap_index(trap, (uint32_t)trap_index) : wex__error_trap(trap);
    /* Call-stack exhaustion at a call is raised with ip already past it. */
    wex__interp_backtrace(
        s, err, inst,
        trap == WEX_TRAP_CALL_STACK_EXHAUSTED && ip != cm->code + WEX__FCODE_OFF(fc) ? ip - 1 : ip,
        (uint32_t)(top - s->frames));
    if (top > entry_top) s->entries--; /* (none yet if the entry itself failed) */
    return err;
done:
    s->depth = entry_depth;
    s->entries--;
    return NULL;
#undef top
#undef BOUND
#undef EA_P
#undef EA_I
#undef EA_R
#undef EA_K
#undef EA_S
#undef RELOAD_MEM
#undef ZERO_LOCALS
#undef ZERO_CHUNKS
#undef ZERO_CHUNK1
#undef NEXT
#undef S
#undef TRAP
}
