/*
 * interp.c - the interpreter's entry points (choosing the loop for the
 * engine's bounds mode; the guard-page mode's trap recovery), backtraces,
 * the disassembler and the developer profile. The loop itself is in
 * run_checked.c and run_guard.c (interp_loop.h).
 */
#include "interp/interp_run.h"

/* The word an entry's sentinel frame record returns to (see wex_store). */
const uint32_t wex__interp_stop[1] = {WEX__IOP_STOP};
const uint32_t wex__interp_stop_native[1] = {WEX__IOP_STOP};

/* ------------------------------------------------------------ backtraces
 *
 * Nothing here runs unless a trap happens. The loop keeps, per live call, the
 * caller's resume point (ip just past the call instruction) and instance in
 * s->frames; a trap adds the innermost position. An internal code position
 * maps to its function by the functions' code ranges and to a module offset
 * by the translation's side table (wex__compiled.pcmap).
 */

/* Binary search of the side table: the last pair at or before pos. */
int64_t wex__interp_wasm_offset(const wex__compiled *c, size_t pos) {
    if (!c->npcmap || (c->lazy && !c->lazy->pcmap_ok(c->lazy, c)) || c->pcmap[0] > pos) return -1;
    size_t lo = 0, hi = c->npcmap;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->pcmap[2 * mid] <= pos)
            lo = mid;
        else
            hi = mid;
    }
    return c->pcmap[2 * lo + 1];
}

/* The defined function whose code holds word pos: functions are laid out in
 * order, so this is the last one starting at or before pos (a verify stub,
 * wex__lazy, belongs to its function). */
static uint32_t func_at(const wex__compiled *cm, size_t pos) {
    if (cm->lazy && pos >= cm->lazy->stub_off && cm->nfuncs)
        return (uint32_t)((pos - cm->lazy->stub_off) / 2 < cm->nfuncs
                              ? (pos - cm->lazy->stub_off) / 2
                              : cm->nfuncs - 1);
    uint32_t lo = 0, hi = cm->nfuncs;
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (wex__fcode_start(cm, mid) <= pos)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* Describe the frame whose current instruction contains word p of inst's
 * code. The name points into the module; the error copies it. */
static void frame_at(wex__eframe *ef, const wex_instance_t *inst, const uint32_t *p) {
    const wex__module *m = inst->module;
    const wex__compiled *cm = m->compiled;
    size_t pos = (size_t)(p - cm->code);
    uint32_t di = func_at(cm, pos);
    int64_t off = wex__interp_wasm_offset(cm, pos);
    ef->func_index = m->nfunc_imports + di;
    ef->flags = 0;
    if (off < 0 && m->codes) { /* a module loaded from the cache has no codes[] */
        off = m->codes[di].off;
        ef->flags = WEX_FRAME_FUNC_OFFSET;
    }
    ef->offset = off;
    ef->name = m->func_names ? m->func_names[ef->func_index] : NULL;
}

/*
 * Record the backtrace of err: the innermost frame is at word p of inst's
 * code, and frames[0..depth) hold the callers (of every nested entry, since
 * a host call leaves a record too). Only the innermost
 * WEX_BACKTRACE_MAX_FRAMES are described, so a trap at the call-depth limit
 * costs the same as any other. Errors that are not traps (a WASI exit) and
 * errors that already carry a backtrace (a trap that came out of a nested
 * entry through a host function) are left alone.
 */
static void backtrace(wex_store_t *s, wex_error_t *err, const wex_instance_t *inst,
                      const uint32_t *p, uint32_t depth, bool add) {
    if (!err || err->code != WEX_ERR_TRAP || (!add && wex__error_has_frames(err))) return;
    wex__eframe fr[WEX_BACKTRACE_MAX_FRAMES];
    uint32_t n = 0;
    frame_at(&fr[n++], inst, p);
    /* the records below, through the sentinels of entries from host
     * functions, down to an entry made by native code (whose frames that
     * code adds) or the outermost */
    uint64_t live = 1;
    for (uint32_t d = depth; d-- > 0;) {
        const uint32_t *rip = s->frames[d].ip;
        if (rip == wex__interp_stop_native) break;
        if (rip == wex__interp_stop) continue; /* an entry's sentinel is no frame */
        live++;
        if (n < WEX_BACKTRACE_MAX_FRAMES) frame_at(&fr[n++], s->frames[d].inst, rip - 1);
    }
    uint64_t omitted = live - n;
    if (add)
        wex__error_add_frames(err, fr, n, omitted);
    else
        wex__error_set_frames(err, fr, n, omitted);
}

__attribute__((noinline, cold)) void wex__interp_backtrace(wex_store_t *s, wex_error_t *err,
                                                           const wex_instance_t *inst,
                                                           const uint32_t *p, uint32_t depth) {
    backtrace(s, err, inst, p, depth, false);
}

/* Native code this loop switched to failed with its own frames: the
 * interpreter's callers follow them. */
__attribute__((noinline, cold)) void wex__interp_backtrace_add(wex_store_t *s, wex_error_t *err,
                                                               const wex_instance_t *inst,
                                                               const uint32_t *p, uint32_t depth) {
    backtrace(s, err, inst, p, depth, true);
}

#ifdef WEX_INTERP_PROFILE
/*
 * Developer profile (build with -DWEX_INTERP_PROFILE; never in normal
 * builds): counts every dispatch by internal opcode and by code word of the
 * first module run, and at exit prints the most frequent opcodes, opcode
 * pairs and functions to stderr. It tells which fusions would pay.
 */
#define WEX__IPROF_WORDS (1u << 22)
static uint64_t iprof_ops[WEX__IOP_COUNT], iprof_pairs[WEX__IOP_COUNT][64];
static uint32_t iprof_pair_op[WEX__IOP_COUNT][64];
static uint64_t *iprof_words;
static const wex__module *iprof_mod;
static uint32_t iprof_prev;

static const char *iop_name(uint32_t op);

static void iprof_report(void) {
    if (!iprof_mod) return;
    uint64_t total = 0;
    for (uint32_t k = 0; k < WEX__IOP_COUNT; k++)
        total += iprof_ops[k];
    fprintf(stderr, "== dispatches: %llu\n", (unsigned long long)total);
    for (int r = 0; r < 50; r++) {
        uint32_t best = 0;
        for (uint32_t k = 1; k < WEX__IOP_COUNT; k++)
            if (iprof_ops[k] > iprof_ops[best]) best = k;
        if (!iprof_ops[best]) break;
        fprintf(stderr, "  %-22s %12llu %5.1f%%\n", iop_name(best),
                (unsigned long long)iprof_ops[best], 100.0 * iprof_ops[best] / total);
        iprof_ops[best] = 0;
    }
    fprintf(stderr, "== pairs\n");
    const char *np = getenv("WEX_IPROF_PAIRS");
    int npairs = np ? atoi(np) : 40;
    for (int r = 0; r < npairs; r++) {
        uint32_t ba = 0, bs = 0;
        uint64_t bv = 0;
        for (uint32_t a = 0; a < WEX__IOP_COUNT; a++)
            for (uint32_t j = 0; j < 64; j++)
                if (iprof_pairs[a][j] > bv) bv = iprof_pairs[a][j], ba = a, bs = j;
        if (!bv) break;
        fprintf(stderr, "  %-22s %-22s %12llu\n", iop_name(ba), iop_name(iprof_pair_op[ba][bs]),
                (unsigned long long)bv);
        iprof_pairs[ba][bs] = 0;
    }
    const wex__compiled *c = iprof_mod->compiled;
    fprintf(stderr, "== functions\n");
    uint64_t *per = calloc(c->nfuncs, sizeof *per);
    for (uint32_t fi = 0; fi < c->nfuncs; fi++)
        for (uint32_t w = 0; w < c->funcs[fi].code_len; w++)
            if (c->funcs[fi].code_off + w < WEX__IPROF_WORDS)
                per[fi] += iprof_words[c->funcs[fi].code_off + w];
    const char *dn = getenv("WEX_IPROF_DUMP");
    int ndump = dn ? atoi(dn) : 0;
    for (int r = 0; r < 30; r++) {
        uint32_t best = 0;
        for (uint32_t fi = 1; fi < c->nfuncs; fi++)
            if (per[fi] > per[best]) best = fi;
        if (!per[best]) break;
        uint32_t fx = iprof_mod->nfunc_imports + best;
        const char *nm = iprof_mod->func_names ? iprof_mod->func_names[fx] : NULL;
        fprintf(stderr, "  f%-5u %-28s %12llu %5.1f%%\n", fx, nm ? nm : "?",
                (unsigned long long)per[best], 100.0 * per[best] / total);
        if (r < ndump) wex__interp_dump(stderr, iprof_mod, best);
        per[best] = 0;
    }
    free(per);
}

void wex__interp_iprof_hit(const wex_instance_t *inst, const uint32_t *ip) {
    const wex__compiled *c = inst->module->compiled;
    if (!iprof_mod) {
        iprof_mod = inst->module;
        iprof_words = calloc(WEX__IPROF_WORDS, sizeof *iprof_words);
    }
    uint32_t op = *ip;
    iprof_ops[op]++;
    for (uint32_t j = 0; j < 64; j++) {
        if (iprof_pair_op[iprof_prev][j] == op || !iprof_pairs[iprof_prev][j]) {
            iprof_pair_op[iprof_prev][j] = op;
            iprof_pairs[iprof_prev][j]++;
            break;
        }
    }
    iprof_prev = op;
    if (inst->module == iprof_mod) {
        size_t pos = (size_t)(ip - c->code);
        if (pos < WEX__IPROF_WORDS) iprof_words[pos]++;
    }
}
#endif

/*
 * The backtrace of a guard-page fault. The loop's registers are gone, but in
 * this build it keeps s->depth current and notes each call's callee, so the
 * callers are exact; of the innermost function only its identity is known,
 * and its frame gives the function body's offset.
 */
__attribute__((noinline, cold)) static void guard_backtrace(wex_store_t *s, wex_func_t *f,
                                                            wex_error_t *e, uint32_t entry_depth) {
    uint32_t depth = s->live ? (uint32_t)(s->live - s->frames) : entry_depth;
    const wex__frame *top = depth > entry_depth ? &s->frames[depth - 1] : NULL;
    wex_func_t *inner = top ? top->callee : f;
    const wex_instance_t *ii;
    uint32_t code_index;
    if (inner) {                  /* the entry function, or a call through a function object */
        if (!inner->inst) return; /* a host function's record */
        ii = inner->inst;
        code_index = inner->code_index;
    } else { /* a direct call within the caller's instance: CALL_L's ip[1] */
        ii = top->inst;
        code_index = top->ip[-6];
    }
    const wex__compiled *cm = ii->module->compiled;
    const uint32_t *start = cm->code + wex__fcode_start(cm, code_index);
    wex__interp_backtrace(s, e, ii, start, depth);
    if (e->nframes && ii->module->codes) { /* (a cached module keeps the operator's) */
        e->frames[0].offset = ii->module->codes[code_index].off;
        e->frames[0].flags = WEX_FRAME_FUNC_OFFSET;
    }
}

/*
 * Guard-page mode: a fault in a wex reservation while this thread runs
 * WebAssembly lands here through the signal handler, as an out-of-bounds
 * trap. The jump buffer lives in this small frame so that the loop's
 * registers are never live across sigsetjmp.
 */
static wex_error_t *run_guard(wex_store_t *s, wex_func_t *f, uint64_t *slots) {
    sigjmp_buf jb;
    sigjmp_buf *prev = wex__os_trap_jmp;
    uint32_t depth = s->depth, wdepth = s->wdepth, entries = s->entries;
    if (sigsetjmp(jb, 0)) {
        wex__os_trap_jmp = prev;
        wex__os_trap_recovered();
        wex_error_t *e = wex__error_trap(WEX_TRAP_MEMORY_OOB);
        guard_backtrace(s, f, e, depth);
        s->depth = depth;
        s->wdepth = wdepth;
        s->entries = entries; /* the faulting entry's sentinel (and any inner ones) */
        return e;
    }
    wex__os_trap_jmp = &jb;
    wex_error_t *e = wex__interp_run_guard_inner(s, f, slots);
    wex__os_trap_jmp = prev;
    return e;
}

wex_error_t *wex__interp_run(wex_store_t *s, wex_func_t *f, uint64_t *slots) {
#ifdef WEX_INTERP_PROFILE
    /* The report comes when the outermost entry returns (the module may be
     * gone at exit). */
    if (s->depth == 0) {
        wex_error_t *e = s->engine->config.bounds == WEX_BOUNDS_GUARD_PAGES
                             ? run_guard(s, f, slots)
                             : wex__interp_run_checked(s, f, slots);
        iprof_report();
        return e;
    }
#endif
    if (s->engine->config.deterministic) return wex__interp_run_det(s, f, slots);
    if (s->engine->config.bounds == WEX_BOUNDS_GUARD_PAGES) return run_guard(s, f, slots);
    return wex__interp_run_checked(s, f, slots);
}

/* Operand counts of internal instructions, for the disassembler. */
static unsigned iop_words(const uint32_t *ip) {
    uint32_t op = ip[0], nword;
    uint32_t hdr = wex__brt_hdr(op, &nword);
    if (hdr) return hdr + ip[nword] + 1;
    switch (op) {
    case WEX__IOP_JMP: return 2;
    case WEX__IOP_BR_IF_NZ:
    case WEX__IOP_BR_IF_Z: return 3;
    case WEX__IOP_MOVE:
    case WEX__IOP_CONST32: return 3;
    case WEX__IOP_CONST64: return 4;
    case WEX__IOP_MOVE2: return 5;
    case WEX__IOP_MOVE3: return 7;
    case WEX__IOP_MOVE4: return 9;
    case WEX__IOP_I32_ADD3: return 6;
    case WEX__IOP_GLOBAL_SET_ADDI: return 4;
    case WEX__IOP_I32_ADD_IMM2: return 7;
    case WEX__IOP_GLOBAL_ADDI_TEE:
    case WEX__IOP_MOVE_JMP: return 4;
    case WEX__IOP_MOVE2_JMP: return 6;
    case WEX__IOP_MOVE3_JMP: return 8;
    case WEX__IOP_MOVE4_JMP: return 10;
    case WEX__IOP_CALL_I: return 3;
    case WEX__IOP_VERIFY_FN:
    case WEX__IOP_TIER_ENTRY: return 2;
    case WEX__IOP_LOOP_HEAD: return 3;
    case WEX__IOP_EPOCH: return 1;
    case WEX__IOP_CALL_L:
    case WEX__IOP_CALL_LZ:
    case WEX__IOP_CALL_LZ1: return 7;
    /* X_CALL_*: X's words; the call follows as its own instruction */
    case WEX__IOP_ADDI_CALL_L:
    case WEX__IOP_ADDI_CALL_LZ:
    case WEX__IOP_ADDI_CALL_LZ1:
    case WEX__IOP_I32_LOAD_CALL_L:
    case WEX__IOP_I32_LOAD_CALL_LZ:
    case WEX__IOP_I32_LOAD_CALL_LZ1: return 4;
    case WEX__IOP_MOVE_CALL_L:
    case WEX__IOP_MOVE_CALL_LZ:
    case WEX__IOP_MOVE_CALL_LZ1: return 3;
    case WEX__IOP_MOVE2_CALL_L:
    case WEX__IOP_MOVE2_CALL_LZ:
    case WEX__IOP_MOVE2_CALL_LZ1: return 5;
    case WEX__IOP_MOVE3_CALL_L:
    case WEX__IOP_MOVE3_CALL_LZ:
    case WEX__IOP_MOVE3_CALL_LZ1: return 7;
    case WEX__IOP_I32_ADD_RET: return 3;
    case WEX__IOP_CONST32_RET: return 2;
    case WEX__IOP_GLOBAL_SET_ADDI_RET: return 4;
    case WEX__IOP_GLOBAL_SET_ADDI_RET1: return 5;
    case WEX__IOP_RET1: return 2;
    case WEX__IOP_MOVE_BR_IF_Z:
    case WEX__IOP_MOVE_BR_IF_NZ:
    case WEX__IOP_I32_SHL_ADD_IMM:
    case WEX__IOP_SELECT_IKA:
    case WEX__IOP_SELECT_IKB: return 5;
    case WEX__IOP_I32_LEA: return 6;
    case WEX__IOP_I32_RSUB_IMM:
    case WEX__IOP_I32_SHL_K:
    case WEX__IOP_BR_I32_TEST_NZ:
    case WEX__IOP_BR_I32_TEST_Z:
    case WEX__IOP_BR_I32_TEST_NZ_IMM:
    case WEX__IOP_BR_I32_TEST_Z_IMM: return 4;
    case WEX__IOP_F32_MULADD:
    case WEX__IOP_F32_MULSUB:
    case WEX__IOP_F32_SUBMUL:
    case WEX__IOP_F64_MULADD:
    case WEX__IOP_F64_MULSUB:
    case WEX__IOP_F64_SUBMUL: return 5;
    case WEX__IOP_CALL_IND_I: return 5;
    case WEX__IOP_I32_XROT2:
    case WEX__IOP_I32_XROT_SHR: return 5;
    case WEX__IOP_I32_XROT3:
    case WEX__IOP_I32_XROT2_SHR: return 6;
    case WEX__IOP_I32_ANDN: return 4;
    case WEX__IOP_I32_ADD_XROT2:
    case WEX__IOP_I32_ADD_XROT_SHR: return 6;
    case WEX__IOP_I32_ADD_XROT3:
    case WEX__IOP_I32_ADD_XROT2_SHR: return 7;
    case WEX__IOP_RET:
    case WEX__IOP_UNREACHABLE_I:
    case WEX__IOP_STOP: return 1;
    case WEX__IOP_SELECT_I: return 5;
    case WEX__IOP_GLOBAL_GET_I:
    case WEX__IOP_GLOBAL_SET_I: return 3;
    case WEX__IOP_TABLE_GET_I:
    case WEX__IOP_TABLE_SET_I: return 4;
    case WEX__IOP_TABLE_SIZE_I: return 3;
    case WEX__IOP_TABLE_GROW_I:
    case WEX__IOP_TABLE_FILL_I: return 5;
    case WEX__IOP_TABLE_COPY_I:
    case WEX__IOP_TABLE_INIT_I: return 6;
    case WEX__IOP_ELEM_DROP_I:
    case WEX__IOP_DATA_DROP_I:
    case WEX__IOP_MEMORY_SIZE_I:
    case WEX__IOP_REF_NULL_I: return 2;
    case WEX__IOP_MEMORY_GROW_I:
    case WEX__IOP_REF_IS_NULL_I:
    case WEX__IOP_REF_FUNC_I: return 3;
    case WEX__IOP_MEMORY_INIT_I: return 5;
    case WEX__IOP_MEMORY_COPY_I:
    case WEX__IOP_MEMORY_FILL_I: return 4;
    case WEX__IOP_STOREV_32:
    case WEX__IOP_STOREV_64:
    case WEX__IOP_STOREV_8:
    case WEX__IOP_STOREV_16: return 5;
    case WEX__IOP_STORE2_32:
    case WEX__IOP_STORE2_64:
    case WEX__IOP_STORE2_8:
    case WEX__IOP_STORE2_16:
    case WEX__IOP_STOREV2_32:
    case WEX__IOP_STOREV2_64:
    case WEX__IOP_STOREV2_8:
    case WEX__IOP_STOREV2_16: return 9;
    case WEX__IOP_CONST32_2:
    case WEX__IOP_MOVE_CONST32:
    case WEX__IOP_CONST32_MOVE:
    case WEX__IOP_I32_ADD_OR_IMM: return 5;
    case WEX__IOP_I32_ADD_IMM_ST:
    case WEX__IOP_I32_OR_IMM_ST:
    case WEX__IOP_I32_ADD_ST: return 6;
    default:
        if (op >= WEX__IOP_BR_ADDI2_I32_EQ && op <= WEX__IOP_BR_ADDI2_I32_GE_U_IMM) return 8;
        if (op >= WEX__IOP_BR_ADDI3_I32_EQ && op <= WEX__IOP_BR_ADDI3_I32_GE_U_IMM) return 11;
        if (op >= WEX__IOP_BR_ADDIR2_I32_EQ && op <= WEX__IOP_BR_ADDIR2_I32_GE_U_IMM) return 8;
        if (op >= WEX__IOP_BR_ADDIC2_I32_EQ && op <= WEX__IOP_BR_ADDIM2_I32_GE_U_IMM) return 7;
        if (op >= WEX__IOP_LB_I32_LOAD_BR_IF_Z && op <= WEX__IOP_LB_I32_LOAD8_U_K_GE_U)
            return (unsigned[]){4, 5, 7, 4}[((op - WEX__IOP_LB_I32_LOAD_BR_IF_Z) / 8) & 3];
        if (op >= WEX__IOP_LBI_I32_LOAD_EQ && op <= WEX__IOP_LBI_I32_LOAD8_U_I_TEST_Z)
            return (op - WEX__IOP_LBI_I32_LOAD_EQ) / 8 % 2 ? 5 : 4;
        if (op >= WEX__IOP_CP_I32_PP && op <= WEX__IOP_CP_I32_8_RR)
            return (unsigned[]){4, 5, 7}[(op - WEX__IOP_CP_I32_PP) / 3 % 3];
        if (op >= WEX__IOP_SELECT_I32_EQ && op <= WEX__IOP_SELECT_I32_GE_U_IMM) return 7;
        if (op >= WEX__IOP_FST_F32_ADD_P && op <= WEX__IOP_FST_F64_MUL_IMM_K) /* the operation's */
            return op >= WEX__IOP_FST_F64_ADD_IMM_P ? 5 : 4;
        if (op >= WEX__IOP_LL_F32_ADD_PP && op <= WEX__IOP_LL_F64_MUL_RR) /* the load's */
            return (unsigned[]){4, 5, 7}[(op - WEX__IOP_LL_F32_ADD_PP) / 3 % 3];
        if (op >= WEX__IOP_LI_F32_ADD_IMM_P && op <= WEX__IOP_LI_F64_MUL_IMM_K) /* the load's */
            return (unsigned[]){4, 5, 7, 4}[(op - WEX__IOP_LI_F32_ADD_IMM_P) % 4];
        if (op >= WEX__IOP_M2_F32_ADD_P && op <= WEX__IOP_M2_F64_MUL_R) /* the first's */
            return (unsigned[]){5, 6, 8}[(op - WEX__IOP_M2_F32_ADD_P) % 3];
        if (op >= WEX__IOP_ADDK_BR_EQ && op <= WEX__IOP_RSUBK_BR_GE_U) return 6;
        if (op >= WEX__IOP_THR_TEST_NZ_NZ && op <= WEX__IOP_THR_TEST_Z_Z) return 4;
        if (op >= WEX__IOP_I32_ADD_IMM && op <= WEX__IOP_BR_I32_GE_U_IMM) return 4;
        if (op >= WEX__IOP_BR_ADDI_I32_EQ && op <= WEX__IOP_BR_ADDI_I32_GE_U_IMM) return 5;
        if (op >= WEX__IOP_I64_ADD_IMM && op <= WEX__IOP_I64_GE_U_IMM) return 4;
        if (op >= WEX__IOP_F32_ADD_IMM && op <= WEX__IOP_F32_GE_IMM) return 4;
        if (op >= WEX__IOP_I32_DIV_S_IMM && op <= WEX__IOP_I64_REM_U_IMM) return 4;
        if (op >= WEX__IOP_F64_ADD_IMM && op <= WEX__IOP_F64_GE_IMM) return 5;
        if (op >= WEX__IOP_I32_XOR_SHL && op <= WEX__IOP_I32_SHL_AND_IMM) return 5;
        if (op >= WEX__IOP_BR_F32_EQ && op <= WEX__IOP_BR_F64_NGE) return 4;
        if (op >= WEX__IOP_BR_F64_EQ_IMM && op <= WEX__IOP_BR_F64_NGE_IMM) return 5;
        if (op >= WEX__IOP_F32_ADD_BR_EQ_IMM && op <= WEX__IOP_F32_MUL_BR_NGE_IMM) return 7;
        if (op >= WEX__IOP_I32_PAIR_ADD_ADD && op <= WEX__IOP_I32_PAIR_ANDN_ANDN) return 7;
        if (op >= WEX__IOP_F64_ADD_BR_EQ_IMM && op <= WEX__IOP_F64_MUL_BR_NGE_IMM) return 8;
        if (op >= WEX__IOP_F32_PAIR_ADD_ADD && op <= WEX__IOP_F64_PAIR_SUBMUL_SUBMUL) {
            uint32_t j = (op - WEX__IOP_F32_PAIR_ADD_ADD) % 36; /* 3 or 4 operands each */
            return 1 + (j / 6 < 3 ? 3 : 4) + (j % 6 < 3 ? 3 : 4);
        }
        if (op >= WEX__IOP_I32_LOAD_I && op <= WEX__IOP_I64_LOAD32_U_I) return 5;
        if (op >= WEX__IOP_I32_LOAD_R && op <= WEX__IOP_I64_LOAD32_U_R) return 7;
        if (op >= WEX__IOP_I32_LOAD_K && op <= WEX__IOP_I64_LOAD32_U_K) return 4;
        if (op >= WEX__IOP_I32_STORE_I && op <= WEX__IOP_I64_STORE32_I) return 5;
        if (op >= WEX__IOP_I32_STORE_R && op <= WEX__IOP_I64_STORE32_R) return 7;
        if (op >= WEX__IOP_I32_STORE_K && op <= WEX__IOP_I64_STORE32_K) return 4;
        if (op >= WEX__IOP_I32_LOAD_S && op <= WEX__IOP_I64_LOAD32_U_S) return 6;
        if (op >= WEX__IOP_I32_STORE_S && op <= WEX__IOP_I64_STORE32_S) return 6;
        if (op >= WEX__IOP_F32_ADD_MP && op <= WEX__IOP_I32_RSUB_MP) return 5;
        if (op >= WEX__IOP_F32_ADD_MI && op <= WEX__IOP_I32_RSUB_MI) return 6;
        if (op >= WEX__IOP_F32_ADD_MR && op <= WEX__IOP_I32_RSUB_MR) return 8;
        if (op >= WEX__IOP_F32_ADD_MS && op <= WEX__IOP_I32_RSUB_MS) return 7;
        if (op >= WEX__IOP_F32_ADD_MPS && op <= WEX__IOP_I32_RSUB_MPS) return 5;
        if (op >= WEX__IOP_F32_ADD_MIS && op <= WEX__IOP_I32_RSUB_MIS) return 6;
        if (op >= WEX__IOP_F32_ADD_MRS && op <= WEX__IOP_I32_RSUB_MRS) return 8;
        if (op >= WEX__IOP_F32_ADD_MSS && op <= WEX__IOP_I32_RSUB_MSS) return 7;
        if (op < WEX__OPI_COUNT) {
            const wex__opinfo *oi = &wex__ops[op];
            if (oi->imm == WEX__IMM_MEMARG) return 4;
            return (unsigned)(strchr(oi->sig, ':') - oi->sig) + 2;
        }
        return 1;
    }
}

static const char *iop_name(uint32_t op) {
    static const char *const extra[] = {
#define WEX__N(name) #name,
        WEX__IOPS_EXTRA(WEX__N)
#undef WEX__N
    };
    if (op < WEX__OPI_COUNT) return wex__ops[op].name;
    if (op < WEX__IOP_COUNT) return extra[op - WEX__OPI_COUNT];
    return "?";
}

void wex__interp_dump(FILE *out, const wex__module *m, uint32_t di) {
    const wex__compiled *c = m->compiled;
    if (!c || di >= c->nfuncs) return;
    const wex__fcode *fc = &c->funcs[di];
    fprintf(out, "func %u: params %u locals %u frame %u\n", m->nfunc_imports + di, fc->nparams,
            fc->nlocals, fc->frame_slots);
    const uint32_t *start = c->code + wex__fcode_start(c, di);
    const uint32_t *ip = start, *end = ip + fc->code_len;
    while (ip < end) {
        unsigned n = iop_words(ip);
#ifdef WEX_INTERP_PROFILE
        /* profile builds: how often each instruction ran (first module only) */
        size_t pos_ = (size_t)(ip - c->code);
        if (m == iprof_mod && iprof_words && pos_ < WEX__IPROF_WORDS)
            fprintf(out, "%10llu", (unsigned long long)iprof_words[pos_]);
#endif
        fprintf(out, "  %5u %-18s", (unsigned)(ip - start), iop_name(ip[0]));
        for (unsigned k = 1; k < n; k++)
            fprintf(out, " %d", (int32_t)ip[k]);
        fputc('\n', out);
        ip += n;
    }
}
