/*
 * sink.c - after LLVM's passes, take out of the guard-page sum (translate.c,
 * sink_add) the floating-point loads that are kept by their own uses.
 *
 * With guard pages an out-of-bounds load traps only by faulting, so every
 * load's bits are added into a sum that every way out of a function stores
 * (volatile) or hands to the trap helper: LLVM may not delete a load whose
 * value reaches a volatile store. The price is an add per load, and for a
 * float a move from a vector register to an integer one first: nbody's
 * inner step (fourteen double loads) ran about 2x slower than with explicit
 * checks. After the passes most of those loads feed arithmetic that is
 * stored, and such a load is kept by that use; its share of the sum can go.
 *
 * Which loads: only those whose removal from the sum leaves code generation
 * no way to drop, narrow, or move them off the paths they are on. So only
 * float and vector-of-float loads (the DAG narrows integer loads under
 * masks, truncations and shifts; no such rule applies to float arithmetic),
 * and only when one chain of their other uses, within their own block,
 * through float arithmetic and compares only (no selects, shuffles, sign
 * bit operations), ends in a store of the value, a call's argument, a
 * return or a branch. That end stays in the block, so the load does too
 * (MachineSink could otherwise move a load used on one path only into that
 * path), and comes before the block's end: before any trap branch or call
 * that follows.
 *
 * What is the sum: the values that flow only into the sink's volatile
 * stores and the trap helpers' arguments (a greatest fixed point over the
 * pure instructions: casts, adds, phis, reductions). A load's uses there are
 * replaced by zero; the rest of the sum stays.
 */
#include "llvm/sink.h"

#include <llvm-c/Core.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A pointer set (open addressing) mapping instructions to their index. */
typedef struct {
    LLVMValueRef *key;
    uint32_t *val;
    size_t cap;
} imap;

static size_t ihash(LLVMValueRef v, size_t cap) {
    uintptr_t x = (uintptr_t)v;
    x ^= x >> 17;
    x *= 0x9E3779B97F4A7C15ull;
    return (size_t)(x >> 20) & (cap - 1);
}

static bool imap_init(imap *m, size_t n) {
    m->cap = 16;
    while (m->cap < 2 * n + 2)
        m->cap *= 2;
    m->key = calloc(m->cap, sizeof *m->key);
    m->val = malloc(m->cap * sizeof *m->val);
    return m->key && m->val;
}

static void imap_put(imap *m, LLVMValueRef k, uint32_t v) {
    size_t i = ihash(k, m->cap);
    while (m->key[i] && m->key[i] != k)
        i = (i + 1) & (m->cap - 1);
    m->key[i] = k;
    m->val[i] = v;
}

/* The index of k, or UINT32_MAX when it is no instruction of the function. */
static uint32_t imap_get(const imap *m, LLVMValueRef k) {
    size_t i = ihash(k, m->cap);
    while (m->key[i]) {
        if (m->key[i] == k) return m->val[i];
        i = (i + 1) & (m->cap - 1);
    }
    return UINT32_MAX;
}

static bool is_float_type(LLVMTypeRef ty) {
    LLVMTypeKind k = LLVMGetTypeKind(ty);
    if (k == LLVMVectorTypeKind) k = LLVMGetTypeKind(LLVMGetElementType(ty));
    return k == LLVMFloatTypeKind || k == LLVMDoubleTypeKind;
}

/* An intrinsic by the start of its name (llvm.sqrt.f64 is "llvm.sqrt"). */
static bool intrinsic_is(LLVMValueRef call, const char *prefix) {
    LLVMValueRef f = LLVMGetCalledValue(call);
    if (!LLVMIsAFunction(f) || !LLVMGetIntrinsicID(f)) return false;
    size_t n;
    const char *name = LLVMGetValueName2(f, &n);
    size_t p = strlen(prefix);
    return n >= p && !strncmp(name, prefix, p) && (n == p || name[p] == '.');
}

/* A call that ends in unreachable: a trap helper's. */
static bool is_trap_call(LLVMValueRef in) {
    if (!LLVMIsACallInst(in)) return false;
    LLVMValueRef next = LLVMGetNextInstruction(in);
    return next && LLVMIsAUnreachableInst(next);
}

/* Could in be part of the sum: pure, and of a kind the sum's adds become. */
static bool sum_candidate(LLVMValueRef in) {
    switch (LLVMGetInstructionOpcode(in)) {
    case LLVMBitCast:
    case LLVMZExt:
    case LLVMSExt:
    case LLVMTrunc:
    case LLVMAdd:
    case LLVMSub:
    case LLVMOr:
    case LLVMXor:
    case LLVMAnd:
    case LLVMShl:
    case LLVMLShr:
    case LLVMPHI:
    case LLVMSelect:
    case LLVMExtractElement:
    case LLVMInsertElement:
    case LLVMShuffleVector:
    case LLVMFreeze: return true;
    case LLVMCall: return intrinsic_is(in, "llvm.vector.reduce.add");
    default: return false;
    }
}

/* Is a use of v by u one of the sum's ends: the value stored by a volatile
 * store (only the sink's are volatile), or an argument of a trap call. */
static bool sum_end(LLVMValueRef u, LLVMValueRef v) {
    if (LLVMIsAStoreInst(u)) return LLVMGetVolatile(u) && LLVMGetOperand(u, 0) == v;
    return is_trap_call(u);
}

enum { ANCHOR_DEPTH = 8 };

/* Does a chain of v's uses in block bb, through float arithmetic only, end
 * in something that keeps it there (see the header comment)? */
static bool anchored(LLVMValueRef v, LLVMBasicBlockRef bb, const imap *ix, const uint8_t *in_sum,
                     int depth) {
    for (LLVMUseRef u = LLVMGetFirstUse(v); u; u = LLVMGetNextUse(u)) {
        LLVMValueRef w = LLVMGetUser(u);
        if (!LLVMIsAInstruction(w) || LLVMGetInstructionParent(w) != bb) continue;
        uint32_t wi = imap_get(ix, w);
        if (wi != UINT32_MAX && in_sum[wi]) continue;
        switch (LLVMGetInstructionOpcode(w)) {
        case LLVMStore:
            if (!LLVMGetVolatile(w) && LLVMGetOperand(w, 0) == v) return true;
            break;
        case LLVMRet:
        case LLVMBr:
        case LLVMSwitch: return true;
        case LLVMFAdd:
        case LLVMFSub:
        case LLVMFMul:
        case LLVMFDiv:
        case LLVMFRem:
        case LLVMFCmp:
        case LLVMFPExt:
        case LLVMFPTrunc:
        case LLVMFPToSI:
        case LLVMFPToUI:
            if (depth < ANCHOR_DEPTH && anchored(w, bb, ix, in_sum, depth + 1)) return true;
            break;
        case LLVMCall: {
            LLVMValueRef f = LLVMGetCalledValue(w);
            if (LLVMIsAFunction(f) && LLVMGetIntrinsicID(f)) {
                if ((intrinsic_is(w, "llvm.sqrt") || intrinsic_is(w, "llvm.fma") ||
                     intrinsic_is(w, "llvm.fmuladd")) &&
                    depth < ANCHOR_DEPTH && anchored(w, bb, ix, in_sum, depth + 1))
                    return true;
                break;
            }
            if (!is_trap_call(w)) return true; /* an argument of a real call */
            break;
        }
        default: break;
        }
    }
    return false;
}

static unsigned prune_function(LLVMValueRef fn) {
    size_t n = 0;
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb))
        for (LLVMValueRef in = LLVMGetFirstInstruction(bb); in; in = LLVMGetNextInstruction(in))
            n++;
    if (!n || n >= UINT32_MAX) return 0;
    unsigned pruned = 0;
    imap ix;
    LLVMValueRef *ins = malloc(n * sizeof *ins);
    uint8_t *in_sum = calloc(n, 1), *queued = calloc(n, 1);
    uint32_t *work = malloc(n * sizeof *work); /* each index queued at most once at a time */
    if (!imap_init(&ix, n) || !ins || !in_sum || !queued || !work) goto out;
    size_t k = 0, nw = 0;
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb))
        for (LLVMValueRef in = LLVMGetFirstInstruction(bb); in; in = LLVMGetNextInstruction(in)) {
            ins[k] = in;
            imap_put(&ix, in, (uint32_t)k);
            if (sum_candidate(in) && LLVMGetFirstUse(in)) {
                in_sum[k] = queued[k] = 1;
                work[nw++] = (uint32_t)k;
            }
            k++;
        }
    /* The greatest set of candidates all of whose uses are in it or are the
     * sum's ends: drop a member with any other use, and look again at its
     * operands (their use just left the set). */
    while (nw) {
        uint32_t i = work[--nw];
        queued[i] = 0;
        if (!in_sum[i]) continue;
        bool keep = true;
        for (LLVMUseRef u = LLVMGetFirstUse(ins[i]); u && keep; u = LLVMGetNextUse(u)) {
            LLVMValueRef w = LLVMGetUser(u);
            uint32_t wi = imap_get(&ix, w);
            keep = (wi != UINT32_MAX && in_sum[wi]) || sum_end(w, ins[i]);
        }
        if (keep) continue;
        in_sum[i] = 0;
        int nops = LLVMGetNumOperands(ins[i]);
        for (int o = 0; o < nops; o++) {
            uint32_t oi = imap_get(&ix, LLVMGetOperand(ins[i], (unsigned)o));
            if (oi != UINT32_MAX && in_sum[oi] && !queued[oi]) {
                queued[oi] = 1;
                work[nw++] = oi;
            }
        }
    }
    for (size_t i = 0; i < n; i++) {
        LLVMValueRef ld = ins[i];
        if (!LLVMIsALoadInst(ld) || LLVMGetVolatile(ld) || !is_float_type(LLVMTypeOf(ld))) continue;
        bool in_the_sum = false;
        for (LLVMUseRef u = LLVMGetFirstUse(ld); u && !in_the_sum; u = LLVMGetNextUse(u)) {
            uint32_t wi = imap_get(&ix, LLVMGetUser(u));
            in_the_sum = wi != UINT32_MAX && in_sum[wi];
        }
        if (!in_the_sum || !anchored(ld, LLVMGetInstructionParent(ld), &ix, in_sum, 0)) continue;
        LLVMValueRef zero = LLVMConstNull(LLVMTypeOf(ld));
        for (LLVMUseRef u = LLVMGetFirstUse(ld); u;) {
            LLVMUseRef next = LLVMGetNextUse(u);
            LLVMValueRef w = LLVMGetUser(u);
            uint32_t wi = imap_get(&ix, w);
            if (wi != UINT32_MAX && in_sum[wi]) {
                int nops = LLVMGetNumOperands(w);
                for (int o = 0; o < nops; o++)
                    if (LLVMGetOperand(w, (unsigned)o) == ld) LLVMSetOperand(w, (unsigned)o, zero);
            }
            u = next;
        }
        pruned++;
    }
out:
    free(ix.key);
    free(ix.val);
    free(ins);
    free(in_sum);
    free(queued);
    free(work);
    return pruned;
}

unsigned wex__llvm_prune_sink(LLVMModuleRef m) {
    unsigned pruned = 0;
    for (LLVMValueRef f = LLVMGetFirstFunction(m); f; f = LLVMGetNextFunction(f))
        if (!LLVMIsDeclaration(f)) pruned += prune_function(f);
    return pruned;
}
