/*
 * translate.c - WebAssembly function bodies to LLVM IR (one LLVM function per
 * defined function, see native.h for the calling convention), optimised and
 * emitted as an ELF object.
 *
 * The operand stack is modelled at translation time as LLVM values; locals,
 * and the values that flow into a block's end or a loop's head, live in
 * allocas that LLVM's mem2reg turns into SSA registers and phis. Code after
 * an unconditional branch is skipped up to the end of its block, as the
 * validator has already checked it.
 */
#include "llvm/llvm.h"
#include "llvm/sink.h"

#include "base/opcodes.h"

#include <llvm-c/Analysis.h>
#include <llvm-c/Core.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#include <llvm-c/DebugInfo.h>
#include <llvm-c/Support.h>
#include <llvm-c/Transforms/PassBuilder.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { K_BLOCK, K_LOOP, K_IF, K_FUNC };
enum { KEEP_SINK, KEEP_VOLATILE, KEEP_NONE };

/* One open block. vars are the allocas its branch values go through: the
 * results of a block, if or function, the parameters of a loop. */
typedef struct {
    uint8_t kind;
    uint32_t np, nr;
    const uint8_t *pt, *rt; /* param, result types */
    LLVMBasicBlockRef cont, head, els;
    LLVMValueRef *vars;
    LLVMValueRef *ifparams; /* an if's parameters, for its else arm */
    uint32_t height;        /* operand stack height below the parameters */
    bool reached;           /* some branch reaches cont */
    bool had_else;
} ctl_t;

typedef struct {
    const wex__module *m;
    const wex__llvm_opts *o;
    LLVMContextRef C;
    LLVMModuleRef M;
    LLVMBuilderRef B;
    LLVMTypeRef ti1, ti8, ti16, ti32, ti64, tf32, tf64, tptr, tvoid;
    LLVMTypeRef *ftys; /* LLVM type of each module type index */
    LLVMValueRef *fns; /* wex_f<i> per defined function */
    unsigned md_inv;   /* "invariant.load" kind */
    LLVMValueRef md_empty;
    char *err;
    size_t errlen;
    bool failed;

    /* the function being translated */
    LLVMValueRef fn, ctx, mem, resptr;
    LLVMValueRef sink; /* guard pages: the sum loads feed (keep_loads), or NULL */
    bool sink_fed;     /* a load fed it (else the returns' stores go, at the end) */
    LLVMValueRef *flushes;
    uint32_t nflush, capflush;
    int keep; /* how guard-page loads are kept: KEEP_* */
    LLVMBasicBlockRef entry;
    LLVMValueRef *locals;
    uint8_t *ltypes;
    uint32_t nlocals;
    LLVMValueRef *stk;
    uint8_t *stt; /* value types of stk */
    uint32_t sp, stcap;
    ctl_t *ctl;
    uint32_t nctl, ctlcap;
    LLVMValueRef trapphi[32]; /* each trap block's site id, by predecessor */
    LLVMBasicBlockRef trapbb[32];
    /* Call and trap sites: the instruction being translated (defined
     * function, module offset), given to the trap helpers as an argument
     * and to every instruction as its debug location (line: the offset;
     * scope: a subprogram per LLVM function whose line is the defined
     * function's index), which LLVM's inliner extends into chains; see
     * add_stackmaps. */
    LLVMDIBuilderRef D;
    LLVMMetadataRef difile, disubty, disp;
    uint32_t cur_di, cur_off;
    /* Loop entries (OSR): osr is set while a body's entry copy wex_q<i> is
     * translated; loops and heads collect the module offset and header
     * block of each loop it can be entered at (an empty operand stack and
     * no loop parameters: the interpreter's LOOP_HEAD rule). */
    bool osr;
    uint32_t *loops, nloops, caploops;
    /* Recursive inlining: while body self_di is translated, its direct
     * self-calls go to self_callee (made on the first one when recinl
     * allows: the next clone), else to wex_f<self_di>. */
    uint32_t self_di, nself; /* nself: self-calls met in the body */
    LLVMValueRef depth0;     /* deterministic: ctx->depth at entry, restored by returns */
    bool recinl;
    LLVMValueRef self_callee;
    LLVMBasicBlockRef *heads;
} tr_t;

/* Report a failure once; the caller stops. */
static void fail(tr_t *t, const char *fmt, ...) {
    if (t->failed) return;
    t->failed = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->err, t->errlen, fmt, ap);
    va_end(ap);
}

/* The LLVM type of a WebAssembly value type: references are 64-bit words. */
static LLVMTypeRef vt(tr_t *t, uint8_t ty) {
    switch (ty) {
    case WEX__T_I32: return t->ti32;
    case WEX__T_F32: return t->tf32;
    case WEX__T_F64: return t->tf64;
    default: return t->ti64;
    }
}

/* The LLVM function type of module type k (native.h's convention). */
static LLVMTypeRef functype(tr_t *t, const wex__functype *ft) {
    LLVMTypeRef ps[ft->nparams + 2];
    unsigned n = 0;
    ps[n++] = t->tptr;
    for (uint32_t i = 0; i < ft->nparams; i++)
        ps[n++] = vt(t, ft->types[i]);
    LLVMTypeRef ret = t->tvoid;
    if (ft->nresults == 1)
        ret = vt(t, ft->types[ft->nparams]);
    else if (ft->nresults > 1)
        ps[n++] = t->tptr;
    return LLVMFunctionType(ret, ps, n, 0);
}

/* ---------------------------------------------------------------- helpers */

static LLVMValueRef c32(tr_t *t, uint64_t v) {
    return LLVMConstInt(t->ti32, v, 0);
}
static LLVMValueRef c64(tr_t *t, uint64_t v) {
    return LLVMConstInt(t->ti64, v, 0);
}

/* A load from the context or from an array it points at, which never change
 * while code runs: marked invariant so that LLVM may hoist and merge them. */
static LLVMValueRef load_inv(tr_t *t, LLVMTypeRef ty, LLVMValueRef ptr) {
    LLVMValueRef v = LLVMBuildLoad2(t->B, ty, ptr, "");
    LLVMSetMetadata(v, t->md_inv, t->md_empty);
    return v;
}

static LLVMValueRef gep8(tr_t *t, LLVMValueRef base, LLVMValueRef off) {
    return LLVMBuildGEP2(t->B, t->ti8, base, &off, 1, "");
}

/* ctx->field (a pointer or word at byte offset off). */
static LLVMValueRef ctx_field(tr_t *t, size_t off, LLVMTypeRef ty) {
    return load_inv(t, ty, gep8(t, t->ctx, c64(t, off)));
}

/* Element i of a pointer array whose address is at ctx + off. */
static LLVMValueRef ctx_elem(tr_t *t, size_t off, uint32_t i) {
    LLVMValueRef arr = ctx_field(t, off, t->tptr);
    return load_inv(t, t->tptr, gep8(t, arr, c64(t, (uint64_t)i * 8)));
}

static LLVMValueRef intrinsic(tr_t *t, const char *name, LLVMTypeRef *tys, unsigned ntys,
                              LLVMValueRef *args, unsigned nargs) {
    unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
    LLVMValueRef f = LLVMGetIntrinsicDeclaration(t->M, id, tys, ntys);
    LLVMTypeRef ft = LLVMIntrinsicGetType(t->C, id, tys, ntys);
    return LLVMBuildCall2(t->B, ft, f, args, nargs, "");
}

/* Call helper k of the context's table with the given C signature. */
/* The site id of the instruction being translated: defined function << 32
 * | module offset (the runtime's backtraces decode it). */
static uint64_t site_id(const tr_t *t) {
    return (uint64_t)t->cur_di << 32 | t->cur_off;
}

/* Instructions built from now on are at module offset off. */
static void set_site(tr_t *t, uint32_t off) {
    t->cur_off = off;
    LLVMSetCurrentDebugLocation2(t->B,
                                 LLVMDIBuilderCreateDebugLocation(t->C, off, 0, t->disp, NULL));
}

static LLVMValueRef helper(tr_t *t, unsigned k, LLVMTypeRef ret, LLVMValueRef *args,
                           unsigned nargs) {
    LLVMTypeRef ps[8];
    LLVMValueRef as[8];
    ps[0] = t->tptr;
    as[0] = t->ctx;
    for (unsigned i = 0; i < nargs; i++) {
        ps[i + 1] = LLVMTypeOf(args[i]);
        as[i + 1] = args[i];
    }
    LLVMTypeRef ft = LLVMFunctionType(ret, ps, nargs + 1, 0);
    LLVMValueRef fp = ctx_elem(t, offsetof(wex__nctx, helpers), k);
    return LLVMBuildCall2(t->B, ft, fp, as, nargs + 1, "");
}

/*
 * Guard pages: a load that is out of bounds traps only by faulting, so it
 * must happen even when its value turns out to be unused, and LLVM deletes
 * unused loads. Every load's bits are added into a sum (an alloca, a
 * register after mem2reg) that every way out of the function uses: the
 * returns store it into ctx->sink (volatile), the trap helper takes it as
 * an argument. An add per load keeps loads alive without stopping LLVM from
 * hoisting, merging or vectorising them (an add is a vectorisable
 * reduction); merged loads are still added once each, so nothing cancels.
 */
static LLVMValueRef sink_value(tr_t *t) {
    return t->sink ? LLVMBuildLoad2(t->B, t->ti64, t->sink, "") : c64(t, 0);
}

static void sink_add(tr_t *t, LLVMValueRef v) {
    LLVMTypeRef ty = LLVMTypeOf(v);
    if (ty == t->tf32) v = LLVMBuildBitCast(t->B, v, t->ti32, "");
    if (ty == t->tf64) v = LLVMBuildBitCast(t->B, v, t->ti64, "");
    if (LLVMGetIntTypeWidth(LLVMTypeOf(v)) < 64) v = LLVMBuildZExt(t->B, v, t->ti64, "");
    LLVMBuildStore(t->B, LLVMBuildAdd(t->B, sink_value(t), v, ""), t->sink);
    t->sink_fed = true;
}

/* A store of the sum into ctx->sink: at every return, and before every
 * call. The call's: a trap in the callee (inlined, its trap helper gets
 * only the callee's own sum) must come after this body's loads, and an
 * unused load that nothing uses before the call could otherwise be moved
 * past it, onto the paths that return. Noted: a body with no load at all
 * (no sum to keep) loses them when it is done (sink_unflush), as a small
 * function called in a hot recursion would otherwise store a constant per
 * call. */
static void sink_flush(tr_t *t) {
    if (!t->sink) return;
    LLVMValueRef st =
        LLVMBuildStore(t->B, sink_value(t), gep8(t, t->ctx, c64(t, offsetof(wex__nctx, sink))));
    LLVMSetVolatile(st, 1);
    if (t->nflush == t->capflush) {
        uint32_t cap = t->capflush ? 2 * t->capflush : 8;
        LLVMValueRef *n = realloc(t->flushes, cap * sizeof *n);
        if (!n) return; /* the store stays: correct, one store slower */
        t->flushes = n;
        t->capflush = cap;
    }
    t->flushes[t->nflush++] = st;
}

static void sink_unflush(tr_t *t) {
    for (uint32_t k = 0; !t->sink_fed && k < t->nflush; k++)
        LLVMInstructionEraseFromParent(t->flushes[k]);
    t->nflush = 0;
}

/* A block that calls the trap helper with code, for a branch from the
 * current block; one per code per function, the site id a phi of its
 * predecessors'. */
static LLVMBasicBlockRef trap_block(tr_t *t, unsigned code) {
    LLVMBasicBlockRef here = LLVMGetInsertBlock(t->B);
    LLVMValueRef id = c64(t, site_id(t));
    if (code < 32 && t->trapbb[code]) {
        LLVMAddIncoming(t->trapphi[code], &id, &here, 1);
        return t->trapbb[code];
    }
    LLVMBasicBlockRef bb = LLVMAppendBasicBlockInContext(t->C, t->fn, "trap");
    LLVMPositionBuilderAtEnd(t->B, bb);
    LLVMValueRef phi = LLVMBuildPhi(t->B, t->ti64, "");
    LLVMAddIncoming(phi, &id, &here, 1);
    LLVMValueRef a[3] = {c32(t, code), sink_value(t), phi};
    LLVMValueRef call = helper(t, WEX__NH_TRAP, t->tvoid, a, 3);
    LLVMAddCallSiteAttribute(
        call, LLVMAttributeFunctionIndex,
        LLVMCreateEnumAttribute(t->C, LLVMGetEnumAttributeKindForName("noreturn", 8), 0));
    LLVMAddCallSiteAttribute(
        call, LLVMAttributeFunctionIndex,
        LLVMCreateEnumAttribute(t->C, LLVMGetEnumAttributeKindForName("cold", 4), 0));
    LLVMBuildUnreachable(t->B);
    LLVMPositionBuilderAtEnd(t->B, here);
    if (code < 32) t->trapbb[code] = bb, t->trapphi[code] = phi;
    return bb;
}

/* Trap with code when cond (i1) holds; go on in a new block otherwise. */
static void trap_if(tr_t *t, LLVMValueRef cond, unsigned code) {
    LLVMBasicBlockRef ok = LLVMAppendBasicBlockInContext(t->C, t->fn, "");
    LLVMValueRef args[2] = {cond, LLVMConstInt(t->ti1, 0, 0)};
    LLVMTypeRef ty = t->ti1;
    cond = intrinsic(t, "llvm.expect", &ty, 1, args, 2);
    LLVMBuildCondBr(t->B, cond, trap_block(t, code), ok);
    LLVMPositionBuilderAtEnd(t->B, ok);
}

/* Epoch interruption: at function entries and loop heads, compare the
 * engine's epoch (an atomic load LLVM neither hoists nor merges) with the
 * store's deadline; at or past it call the EPOCH helper, which returns when
 * the store's callback moves the deadline on and traps otherwise. */
static void epoch_check(tr_t *t) {
    LLVMValueRef ep = ctx_field(t, offsetof(wex__nctx, epoch), t->tptr);
    LLVMValueRef now = LLVMBuildLoad2(t->B, t->ti64, ep, "");
    LLVMSetOrdering(now, LLVMAtomicOrderingMonotonic);
    LLVMSetAlignment(now, 8);
    LLVMValueRef dp = ctx_field(t, offsetof(wex__nctx, epoch_deadline), t->tptr);
    LLVMValueRef dl = LLVMBuildLoad2(t->B, t->ti64, dp, "");
    LLVMValueRef args[2] = {LLVMBuildICmp(t->B, LLVMIntUGE, now, dl, ""),
                            LLVMConstInt(t->ti1, 0, 0)};
    LLVMTypeRef ty = t->ti1;
    LLVMValueRef cond = intrinsic(t, "llvm.expect", &ty, 1, args, 2);
    LLVMBasicBlockRef slow = LLVMAppendBasicBlockInContext(t->C, t->fn, "epoch");
    LLVMBasicBlockRef go = LLVMAppendBasicBlockInContext(t->C, t->fn, "");
    LLVMBuildCondBr(t->B, cond, slow, go);
    LLVMPositionBuilderAtEnd(t->B, slow);
    sink_flush(t); /* loads before it fault before it traps */
    LLVMValueRef call = helper(t, WEX__NH_EPOCH, t->tvoid, NULL, 0);
    /* one call per check: merged calls would lose their places (backtraces) */
    LLVMAddCallSiteAttribute(
        call, LLVMAttributeFunctionIndex,
        LLVMCreateEnumAttribute(t->C, LLVMGetEnumAttributeKindForName("nomerge", 7), 0));
    LLVMBuildBr(t->B, go);
    LLVMPositionBuilderAtEnd(t->B, go);
}

/* A value as the 64 bits of a slot: floats by their bits, i32 zero-extended. */
static LLVMValueRef to_slot(tr_t *t, LLVMValueRef v) {
    LLVMTypeRef ty = LLVMTypeOf(v);
    if (ty == t->tf32) v = LLVMBuildBitCast(t->B, v, t->ti32, "");
    if (ty == t->tf64) v = LLVMBuildBitCast(t->B, v, t->ti64, "");
    if (LLVMTypeOf(v) == t->ti32) v = LLVMBuildZExt(t->B, v, t->ti64, "");
    return v;
}

/* ---------------------------------------------------------------- stack */

static void push(tr_t *t, LLVMValueRef v, uint8_t ty) {
    if (t->sp == t->stcap) {
        t->stcap = t->stcap ? 2 * t->stcap : 64;
        t->stk = realloc(t->stk, t->stcap * sizeof *t->stk);
        t->stt = realloc(t->stt, t->stcap);
        if (!t->stk || !t->stt) {
            fprintf(stderr, "wex-llvmc: out of memory\n");
            exit(1);
        }
    }
    t->stt[t->sp] = ty;
    t->stk[t->sp++] = v;
}

static LLVMValueRef pop(tr_t *t) {
    if (t->sp == 0) {
        fail(t, "operand stack underflow (module not validated?)");
        return LLVMGetUndef(t->ti32);
    }
    return t->stk[--t->sp];
}

static LLVMValueRef alloca_at_entry(tr_t *t, LLVMTypeRef ty) {
    LLVMBasicBlockRef here = LLVMGetInsertBlock(t->B);
    LLVMMetadataRef loc = LLVMGetCurrentDebugLocation2(t->B); /* positioning before an
                                                               * instruction takes its */
    LLVMValueRef first = LLVMGetFirstInstruction(t->entry);
    if (first)
        LLVMPositionBuilderBefore(t->B, first);
    else
        LLVMPositionBuilderAtEnd(t->B, t->entry);
    LLVMValueRef a = LLVMBuildAlloca(t->B, ty, "");
    LLVMPositionBuilderAtEnd(t->B, here);
    LLVMSetCurrentDebugLocation2(t->B, loc);
    return a;
}

/* ---------------------------------------------------------------- control */

static ctl_t *push_ctl(tr_t *t, uint8_t kind, uint32_t np, const uint8_t *pt, uint32_t nr,
                       const uint8_t *rt) {
    if (t->nctl == t->ctlcap) {
        t->ctlcap = t->ctlcap ? 2 * t->ctlcap : 16;
        t->ctl = realloc(t->ctl, t->ctlcap * sizeof *t->ctl);
        if (!t->ctl) exit(1);
    }
    ctl_t *c = &t->ctl[t->nctl++];
    memset(c, 0, sizeof *c);
    c->kind = kind;
    c->np = np;
    c->nr = nr;
    c->pt = pt;
    c->rt = rt;
    c->height = t->sp - np;
    uint32_t nv = kind == K_LOOP ? np : nr;
    const uint8_t *vty = kind == K_LOOP ? pt : rt;
    c->vars = nv ? calloc(nv, sizeof *c->vars) : NULL;
    for (uint32_t i = 0; i < nv; i++)
        c->vars[i] = alloca_at_entry(t, vt(t, vty[i]));
    return c;
}

/* A branch to label depth d: its values go into the target's vars. */
static void branch_to(tr_t *t, uint32_t d) {
    ctl_t *c = &t->ctl[t->nctl - 1 - d];
    if (c->kind == K_LOOP) {
        for (uint32_t i = 0; i < c->np; i++)
            LLVMBuildStore(t->B, t->stk[t->sp - c->np + i], c->vars[i]);
        LLVMBuildBr(t->B, c->head);
        return;
    }
    for (uint32_t i = 0; i < c->nr; i++)
        LLVMBuildStore(t->B, t->stk[t->sp - c->nr + i], c->vars[i]);
    c->reached = true;
    LLVMBuildBr(t->B, c->cont);
}

/* Every byte value, so that a single-result block type has a stable pointer. */
static const uint8_t valtypes[128] = {
    [WEX__T_I32] = WEX__T_I32,
    [WEX__T_I64] = WEX__T_I64,
    [WEX__T_F32] = WEX__T_F32,
    [WEX__T_F64] = WEX__T_F64,
    [WEX__T_V128] = WEX__T_V128,
    [WEX__T_FUNCREF] = WEX__T_FUNCREF,
    [WEX__T_EXTERNREF] = WEX__T_EXTERNREF,
};

/* The block type at r: params and results (pointers into the module). */
static bool blocktype(tr_t *t, wex__reader *r, ctl_t *tmp) {
    int64_t bt;
    if (!wex__read_s33(r, &bt)) return false;
    tmp->np = tmp->nr = 0;
    tmp->pt = tmp->rt = NULL;
    if (bt == -64) return true;
    if (bt < 0) {
        tmp->nr = 1;
        tmp->rt = &valtypes[bt & 0x7F];
        return true;
    }
    const wex__functype *ft = &t->m->types[bt];
    tmp->np = ft->nparams;
    tmp->pt = ft->types;
    tmp->nr = ft->nresults;
    tmp->rt = ft->types + ft->nparams;
    return true;
}

/* ---------------------------------------------------------------- memory */

/* The host address of a `size`-byte access at addr + offset: with guard
 * pages any 32-bit address plus offset lands in the reservation; with
 * explicit checks it is compared with the memory's current size. */
static LLVMValueRef mem_addr(tr_t *t, LLVMValueRef addr, uint64_t offset, unsigned size) {
    LLVMValueRef ea = LLVMBuildZExt(t->B, addr, t->ti64, "");
    if (offset) ea = LLVMBuildAdd(t->B, ea, c64(t, offset), "");
    if (t->o->explicit_bounds) {
        LLVMValueRef szp = ctx_field(t, offsetof(wex__nctx, memsize), t->tptr);
        LLVMValueRef sz = LLVMBuildLoad2(t->B, t->ti64, szp, "");
        LLVMValueRef end = LLVMBuildAdd(t->B, ea, c64(t, size), "");
        trap_if(t, LLVMBuildICmp(t->B, LLVMIntUGT, end, sz, ""), WEX_TRAP_MEMORY_OOB);
    }
    return gep8(t, t->mem, ea);
}

static LLVMValueRef mem_load(tr_t *t, LLVMValueRef addr, uint64_t off, LLVMTypeRef ty,
                             unsigned size) {
    LLVMValueRef p = mem_addr(t, addr, off, size);
    LLVMValueRef v = LLVMBuildLoad2(t->B, ty, p, "");
    LLVMSetAlignment(v, 1);
    if (t->sink) sink_add(t, v);
    if (!t->o->explicit_bounds && t->keep == KEEP_VOLATILE) LLVMSetVolatile(v, 1);
    return v;
}

static void mem_store(tr_t *t, LLVMValueRef addr, uint64_t off, LLVMValueRef v, unsigned size) {
    LLVMValueRef p = mem_addr(t, addr, off, size);
    LLVMValueRef s = LLVMBuildStore(t->B, v, p);
    LLVMSetAlignment(s, 1);
}

/* An atomic access: naturally aligned or the trap "unaligned atomic". */
static LLVMValueRef atomic_addr(tr_t *t, LLVMValueRef addr, uint64_t offset, unsigned size) {
    LLVMValueRef ea = LLVMBuildZExt(t->B, addr, t->ti64, "");
    if (offset) ea = LLVMBuildAdd(t->B, ea, c64(t, offset), "");
    if (size > 1) {
        LLVMValueRef mis = LLVMBuildAnd(t->B, ea, c64(t, size - 1), "");
        trap_if(t, LLVMBuildICmp(t->B, LLVMIntNE, mis, c64(t, 0), ""), WEX_TRAP_UNALIGNED_ATOMIC);
    }
    LLVMValueRef szp = ctx_field(t, offsetof(wex__nctx, memsize), t->tptr);
    LLVMValueRef sz = LLVMBuildLoad2(t->B, t->ti64, szp, "");
    LLVMSetOrdering(sz, LLVMAtomicOrderingMonotonic);
    LLVMSetAlignment(sz, 8);
    LLVMValueRef end = LLVMBuildAdd(t->B, ea, c64(t, size), "");
    trap_if(t, LLVMBuildICmp(t->B, LLVMIntUGT, end, sz, ""), WEX_TRAP_MEMORY_OOB);
    return ea;
}

static LLVMTypeRef itype(tr_t *t, unsigned size) {
    return size == 1 ? t->ti8 : size == 2 ? t->ti16 : size == 4 ? t->ti32 : t->ti64;
}

/* ---------------------------------------------------------------- numeric */

static LLVMValueRef bool32(tr_t *t, LLVMValueRef i1) {
    return LLVMBuildZExt(t->B, i1, t->ti32, "");
}

static void icmp(tr_t *t, LLVMIntPredicate p) {
    LLVMValueRef b = pop(t), a = pop(t);
    push(t, bool32(t, LLVMBuildICmp(t->B, p, a, b, "")), WEX__T_I32);
}

static void fcmp(tr_t *t, LLVMRealPredicate p) {
    LLVMValueRef b = pop(t), a = pop(t);
    push(t, bool32(t, LLVMBuildFCmp(t->B, p, a, b, "")), WEX__T_I32);
}

typedef LLVMValueRef (*binop_fn)(LLVMBuilderRef, LLVMValueRef, LLVMValueRef, const char *);

static void binop(tr_t *t, binop_fn f, uint8_t ty) {
    LLVMValueRef b = pop(t), a = pop(t);
    push(t, f(t->B, a, b, ""), ty);
}

/* Shifts take their count modulo the width. */
static void shift(tr_t *t, binop_fn f, uint8_t ty) {
    LLVMValueRef b = pop(t), a = pop(t);
    unsigned bits = ty == WEX__T_I32 ? 31 : 63;
    b = LLVMBuildAnd(t->B, b, LLVMConstInt(LLVMTypeOf(a), bits, 0), "");
    push(t, f(t->B, a, b, ""), ty);
}

static void unary_intr(tr_t *t, const char *name, uint8_t ty) {
    LLVMValueRef a = pop(t);
    LLVMTypeRef lt = vt(t, ty);
    push(t, intrinsic(t, name, &lt, 1, &a, 1), ty);
}

/* A value LLVM must not look through: x + -0.0, x * 1.0, x / -1.0, -0.0 - x
 * and fptrunc(fpext x) would fold to x or -x, but WebAssembly quietens a
 * signalling NaN there. The fence costs no instruction. */
static LLVMValueRef opaque(tr_t *t, LLVMValueRef v) {
    LLVMTypeRef ty = LLVMTypeOf(v);
    return intrinsic(t, "llvm.arithmetic.fence", &ty, 1, &v, 1);
}

/* A float constant; the identities of the float operators go through a
 * fence (see opaque). */
static LLVMValueRef fconst(tr_t *t, LLVMTypeRef ty, uint64_t bits) {
    LLVMValueRef c = LLVMConstBitCast(LLVMConstInt(ty == t->tf32 ? t->ti32 : t->ti64, bits, 0), ty);
    uint64_t mag = ty == t->tf32 ? bits & 0x7FFFFFFFu : bits & 0x7FFFFFFFFFFFFFFFull;
    uint64_t one = ty == t->tf32 ? 0x3F800000u : 0x3FF0000000000000ull;
    return mag == 0 || mag == one ? opaque(t, c) : c;
}

/* Deterministic code: the result on top of the stack, if a NaN, becomes the
 * canonical NaN (positive, quiet, no payload), as in the interpreter. */
static void canon_top(tr_t *t) {
    if (!t->o->deterministic) return;
    LLVMValueRef v = t->stk[t->sp - 1];
    bool f32 = LLVMTypeOf(v) == t->tf32;
    LLVMValueRef q = f32 ? LLVMConstBitCast(c32(t, 0x7FC00000u), t->tf32)
                         : LLVMConstBitCast(c64(t, 0x7FF8000000000000ull), t->tf64);
    LLVMValueRef nan = LLVMBuildFCmp(t->B, LLVMRealUNO, v, v, "");
    t->stk[t->sp - 1] = LLVMBuildSelect(t->B, nan, q, v, "");
}

/* min/max: LLVM's minimum/maximum give -0 < +0 and propagate NaN, but may
 * return a signalling NaN as it is; the spec wants it quiet, as a + b is. */
static void minmax(tr_t *t, const char *name, uint8_t ty) {
    LLVMValueRef b = pop(t), a = pop(t);
    LLVMTypeRef lt = vt(t, ty);
    LLVMValueRef args[2] = {a, b};
    LLVMValueRef m = intrinsic(t, name, &lt, 1, args, 2);
    LLVMValueRef nan = LLVMBuildFCmp(t->B, LLVMRealUNO, a, b, "");
    push(t, LLVMBuildSelect(t->B, nan, LLVMBuildFAdd(t->B, a, b, ""), m, ""), ty);
}

static void binary_intr(tr_t *t, const char *name, uint8_t ty) {
    LLVMValueRef b = pop(t), a = pop(t);
    LLVMTypeRef lt = vt(t, ty);
    LLVMValueRef args[2] = {a, b};
    push(t, intrinsic(t, name, &lt, 1, args, 2), ty);
}

static void bitcount(tr_t *t, const char *name, uint8_t ty) {
    LLVMValueRef a = pop(t);
    LLVMTypeRef lt = vt(t, ty);
    LLVMValueRef args[2] = {a, LLVMConstInt(t->ti1, 0, 0)};
    push(t, intrinsic(t, name, &lt, 1, args, 2), ty);
}

static void rotate(tr_t *t, const char *name, uint8_t ty) {
    LLVMValueRef b = pop(t), a = pop(t);
    LLVMTypeRef lt = vt(t, ty);
    LLVMValueRef args[3] = {a, a, b};
    push(t, intrinsic(t, name, &lt, 1, args, 3), ty);
}

/* Division and remainder: traps on zero, and div_s on MIN / -1; rem_s of
 * MIN by -1 is 0 (the divisor is replaced so the machine never faults). */
static void divrem(tr_t *t, bool is_signed, bool rem, uint8_t ty) {
    LLVMValueRef b = pop(t), a = pop(t);
    LLVMTypeRef lt = vt(t, ty);
    LLVMValueRef zero = LLVMConstInt(lt, 0, 0);
    trap_if(t, LLVMBuildICmp(t->B, LLVMIntEQ, b, zero, ""), WEX_TRAP_INT_DIV_ZERO);
    LLVMValueRef r;
    if (!is_signed) {
        r = rem ? LLVMBuildURem(t->B, a, b, "") : LLVMBuildUDiv(t->B, a, b, "");
    } else {
        LLVMValueRef m1 = LLVMConstAllOnes(lt);
        LLVMValueRef min = ty == WEX__T_I32 ? c32(t, 0x80000000u) : c64(t, 1ull << 63);
        LLVMValueRef isneg1 = LLVMBuildICmp(t->B, LLVMIntEQ, b, m1, "");
        if (!rem) {
            LLVMValueRef ovf =
                LLVMBuildAnd(t->B, isneg1, LLVMBuildICmp(t->B, LLVMIntEQ, a, min, ""), "");
            trap_if(t, ovf, WEX_TRAP_INT_OVERFLOW);
            r = LLVMBuildSDiv(t->B, a, b, "");
        } else {
            LLVMValueRef b2 = LLVMBuildSelect(t->B, isneg1, LLVMConstInt(lt, 1, 0), b, "");
            r = LLVMBuildSelect(t->B, isneg1, zero, LLVMBuildSRem(t->B, a, b2, ""), "");
        }
    }
    push(t, r, ty);
}

/* Trapping float -> integer truncation: NaN is an invalid conversion; a
 * value outside (lo, hi) (exclusive bounds, as doubles) an overflow. */
static void trunc_trap(tr_t *t, uint8_t to, bool is_signed, double lo, double hi) {
    LLVMValueRef a = pop(t);
    LLVMTypeRef ft = LLVMTypeOf(a);
    trap_if(t, LLVMBuildFCmp(t->B, LLVMRealUNO, a, a, ""), WEX_TRAP_INVALID_CONVERSION);
    LLVMValueRef x = ft == t->tf32 ? LLVMBuildFPExt(t->B, a, t->tf64, "") : a;
    LLVMValueRef bad =
        LLVMBuildOr(t->B, LLVMBuildFCmp(t->B, LLVMRealOLE, x, LLVMConstReal(t->tf64, lo), ""),
                    LLVMBuildFCmp(t->B, LLVMRealOGE, x, LLVMConstReal(t->tf64, hi), ""), "");
    trap_if(t, bad, WEX_TRAP_INT_OVERFLOW);
    LLVMTypeRef it = vt(t, to);
    push(t, is_signed ? LLVMBuildFPToSI(t->B, a, it, "") : LLVMBuildFPToUI(t->B, a, it, ""), to);
}

static void trunc_sat(tr_t *t, uint8_t to, bool is_signed) {
    LLVMValueRef a = pop(t);
    LLVMTypeRef tys[2] = {vt(t, to), LLVMTypeOf(a)};
    push(t, intrinsic(t, is_signed ? "llvm.fptosi.sat" : "llvm.fptoui.sat", tys, 2, &a, 1), to);
}

static void convert(tr_t *t, uint8_t to, bool is_signed) {
    LLVMValueRef a = pop(t);
    LLVMTypeRef ft = vt(t, to);
    push(t, is_signed ? LLVMBuildSIToFP(t->B, a, ft, "") : LLVMBuildUIToFP(t->B, a, ft, ""), to);
}

static void sext_from(tr_t *t, LLVMTypeRef small, uint8_t ty) {
    LLVMValueRef a = pop(t);
    push(t, LLVMBuildSExt(t->B, LLVMBuildTrunc(t->B, a, small, ""), vt(t, ty), ""), ty);
}

/* ---------------------------------------------------------------- calls */

/* Call a function of type ft with its arguments on the stack: directly when
 * callee is a known LLVM function or pointer, else through a helper with
 * the arguments in a slot array. Results are pushed. */
static void push_results(tr_t *t, const wex__functype *ft, LLVMValueRef ret, LLVMValueRef resbuf) {
    if (ft->nresults == 1) {
        push(t, ret, ft->types[ft->nparams]);
        return;
    }
    for (uint32_t i = 0; i < ft->nresults; i++) {
        uint8_t ty = ft->types[ft->nparams + i];
        LLVMValueRef p = gep8(t, resbuf, c64(t, (uint64_t)i * 8));
        push(t, LLVMBuildLoad2(t->B, vt(t, ty), p, ""), ty);
    }
}

static LLVMValueRef call_direct(tr_t *t, LLVMTypeRef fty, LLVMValueRef callee,
                                const wex__functype *ft, LLVMValueRef *resbuf_out) {
    uint32_t n = ft->nparams;
    LLVMValueRef args[n + 2];
    args[0] = t->ctx;
    for (uint32_t i = 0; i < n; i++)
        args[1 + i] = t->stk[t->sp - n + i];
    unsigned na = n + 1;
    LLVMValueRef resbuf = NULL;
    if (ft->nresults > 1) {
        resbuf = alloca_at_entry(t, LLVMArrayType(t->ti64, ft->nresults));
        args[na++] = resbuf;
    }
    *resbuf_out = resbuf;
    return LLVMBuildCall2(t->B, fty, callee, args, na, "");
}

/* Note an enterable loop of the entry copy being translated. */
static void note_loop(tr_t *t, uint32_t off, LLVMBasicBlockRef head) {
    if (t->nloops == t->caploops) {
        uint32_t cap = t->caploops ? 2 * t->caploops : 8;
        uint32_t *n = realloc(t->loops, cap * sizeof *n);
        if (n) t->loops = n;
        LLVMBasicBlockRef *h = n ? realloc(t->heads, cap * sizeof *h) : NULL;
        if (h) t->heads = h;
        if (!n || !h) {
            fail(t, "out of memory");
            return;
        }
        t->caploops = cap;
    }
    t->loops[t->nloops] = off;
    t->heads[t->nloops++] = head;
}

/* Store the top nparams values into a slot array (bits in 64-bit words). */
static LLVMValueRef spill_args(tr_t *t, const wex__functype *ft) {
    uint32_t n = ft->nparams > ft->nresults ? ft->nparams : ft->nresults;
    LLVMValueRef buf = alloca_at_entry(t, LLVMArrayType(t->ti64, n ? n : 1));
    for (uint32_t i = 0; i < ft->nparams; i++) {
        LLVMValueRef v = to_slot(t, t->stk[t->sp - ft->nparams + i]);
        LLVMBuildStore(t->B, v, gep8(t, buf, c64(t, (uint64_t)i * 8)));
    }
    return buf;
}

static void load_slot_results(tr_t *t, const wex__functype *ft, LLVMValueRef buf) {
    for (uint32_t i = 0; i < ft->nresults; i++) {
        uint8_t ty = ft->types[ft->nparams + i];
        push(t, LLVMBuildLoad2(t->B, vt(t, ty), gep8(t, buf, c64(t, (uint64_t)i * 8)), ""), ty);
    }
}

/* A call to a defined function this object does not define (compiled in
 * another object, or still interpreted): through the module's table of
 * native code when the callee has some by now, else through the helper. */
static void do_call_far(tr_t *t, uint32_t fidx) {
    const wex__module *m = t->m;
    const wex__functype *ft = wex__module_functype(m, fidx);
    uint32_t di = fidx - m->nfunc_imports;
    LLVMValueRef tab = ctx_field(t, offsetof(wex__nctx, fnptrs), t->tptr);
    LLVMValueRef fp = LLVMBuildLoad2(t->B, t->tptr, gep8(t, tab, c64(t, (uint64_t)di * 8)), "");
    LLVMSetOrdering(fp, LLVMAtomicOrderingMonotonic); /* filled in as code arrives */
    LLVMSetAlignment(fp, 8);
    LLVMBasicBlockRef fast = LLVMAppendBasicBlockInContext(t->C, t->fn, "");
    LLVMBasicBlockRef slow = LLVMAppendBasicBlockInContext(t->C, t->fn, "");
    LLVMBasicBlockRef join = LLVMAppendBasicBlockInContext(t->C, t->fn, "");
    LLVMBuildCondBr(t->B, LLVMBuildIsNull(t->B, fp, ""), slow, fast);
    LLVMValueRef rv[ft->nresults + 1];
    for (uint32_t i = 0; i < ft->nresults; i++)
        rv[i] = alloca_at_entry(t, vt(t, ft->types[ft->nparams + i]));

    LLVMPositionBuilderAtEnd(t->B, fast);
    LLVMValueRef rb;
    LLVMValueRef r = call_direct(t, t->ftys[m->func_types[fidx]], fp, ft, &rb);
    uint32_t sp0 = t->sp;
    LLVMValueRef args[ft->nparams + 1];
    uint8_t argt[ft->nparams + 1];
    for (uint32_t i = 0; i < ft->nparams; i++) {
        args[i] = t->stk[sp0 - ft->nparams + i];
        argt[i] = t->stt[sp0 - ft->nparams + i];
    }
    t->sp -= ft->nparams;
    push_results(t, ft, r, rb);
    for (uint32_t i = 0; i < ft->nresults; i++)
        LLVMBuildStore(t->B, t->stk[t->sp - ft->nresults + i], rv[i]);
    LLVMBuildBr(t->B, join);
    t->sp = sp0 - ft->nparams;
    for (uint32_t i = 0; i < ft->nparams; i++)
        push(t, args[i], argt[i]);

    LLVMPositionBuilderAtEnd(t->B, slow);
    LLVMValueRef buf = spill_args(t, ft);
    t->sp -= ft->nparams;
    LLVMValueRef a[2] = {c32(t, fidx), buf};
    helper(t, WEX__NH_CALL, t->tvoid, a, 2);
    load_slot_results(t, ft, buf);
    for (uint32_t i = 0; i < ft->nresults; i++)
        LLVMBuildStore(t->B, t->stk[t->sp - ft->nresults + i], rv[i]);
    LLVMBuildBr(t->B, join);
    t->sp -= ft->nresults;

    LLVMPositionBuilderAtEnd(t->B, join);
    for (uint32_t i = 0; i < ft->nresults; i++) {
        uint8_t ty = ft->types[ft->nparams + i];
        push(t, LLVMBuildLoad2(t->B, vt(t, ty), rv[i], ""), ty);
    }
}

static void do_call(tr_t *t, uint32_t fidx) {
    const wex__module *m = t->m;
    const wex__functype *ft = wex__module_functype(m, fidx);
    sink_flush(t);
    if (fidx >= m->nfunc_imports && !t->fns[fidx - m->nfunc_imports]) {
        do_call_far(t, fidx);
        return;
    }
    if (fidx >= m->nfunc_imports) {
        LLVMValueRef rb, callee = t->fns[fidx - m->nfunc_imports];
        if (fidx - m->nfunc_imports == t->self_di && t->recinl) {
            t->nself++;
            if (!t->self_callee) { /* the next level's clone, translated after this body */
                t->self_callee = LLVMAddFunction(t->M, "wex_r", t->ftys[m->func_types[fidx]]);
                LLVMSetLinkage(t->self_callee, LLVMInternalLinkage);
                LLVMAddAttributeAtIndex(
                    t->self_callee, LLVMAttributeFunctionIndex,
                    LLVMCreateEnumAttribute(
                        t->C, LLVMGetEnumAttributeKindForName("alwaysinline", 12), 0));
            }
            callee = t->self_callee;
        }
        LLVMValueRef r = call_direct(t, t->ftys[m->func_types[fidx]], callee, ft, &rb);
        t->sp -= ft->nparams;
        push_results(t, ft, r, rb);
        return;
    }
    LLVMValueRef buf = spill_args(t, ft);
    t->sp -= ft->nparams;
    LLVMValueRef a[2] = {c32(t, fidx), buf};
    helper(t, WEX__NH_CALL, t->tvoid, a, 2);
    load_slot_results(t, ft, buf);
}

/* call_indirect: the element's checks inline; a function of this same
 * instance with native code is called directly, anything else (host,
 * interpreted, another instance) through the helper. */
static void do_call_indirect(tr_t *t, uint32_t typeidx, uint32_t table) {
    const wex__llvm_layout *L = &t->o->layout;
    sink_flush(t);
    const wex__functype *ft = &t->m->types[typeidx];
    LLVMValueRef idx = pop(t);
    LLVMValueRef tab = ctx_elem(t, offsetof(wex__nctx, tables), table);
    LLVMValueRef size = LLVMBuildLoad2(t->B, t->ti32, gep8(t, tab, c64(t, L->table_size)), "");
    trap_if(t, LLVMBuildICmp(t->B, LLVMIntUGE, idx, size, ""), WEX_TRAP_UNDEFINED_ELEMENT);
    LLVMValueRef elems = LLVMBuildLoad2(t->B, t->tptr, gep8(t, tab, c64(t, L->table_elems)), "");
    LLVMValueRef off = LLVMBuildShl(t->B, LLVMBuildZExt(t->B, idx, t->ti64, ""), c64(t, 3), "");
    LLVMValueRef f = LLVMBuildLoad2(t->B, t->tptr, gep8(t, elems, off), "");
    {
        /* a null element: the trap names its index */
        LLVMBasicBlockRef null_bb = LLVMAppendBasicBlockInContext(t->C, t->fn, "");
        LLVMBasicBlockRef ok = LLVMAppendBasicBlockInContext(t->C, t->fn, "");
        LLVMBuildCondBr(t->B, LLVMBuildIsNull(t->B, f, ""), null_bb, ok);
        LLVMPositionBuilderAtEnd(t->B, null_bb);
        LLVMValueRef a[4] = {c32(t, WEX_TRAP_UNINITIALIZED_ELEMENT), idx, sink_value(t),
                             c64(t, site_id(t))};
        helper(t, WEX__NH_TRAP_INDEX, t->tvoid, a, 4);
        LLVMBuildUnreachable(t->B);
        LLVMPositionBuilderAtEnd(t->B, ok);
    }
    LLVMValueRef canon = LLVMBuildLoad2(t->B, t->ti32, gep8(t, f, c64(t, L->func_canon)), "");
    LLVMValueRef canons = ctx_field(t, offsetof(wex__nctx, canon), t->tptr);
    LLVMValueRef want = load_inv(t, t->ti32, gep8(t, canons, c64(t, (uint64_t)typeidx * 4)));
    trap_if(t, LLVMBuildICmp(t->B, LLVMIntNE, canon, want, ""), WEX_TRAP_INDIRECT_CALL_TYPE);
    LLVMValueRef fctx = LLVMBuildLoad2(t->B, t->tptr, gep8(t, f, c64(t, L->func_nctx)), "");
    LLVMBasicBlockRef fast = LLVMAppendBasicBlockInContext(t->C, t->fn, "");
    LLVMBasicBlockRef slow = LLVMAppendBasicBlockInContext(t->C, t->fn, "");
    LLVMBasicBlockRef join = LLVMAppendBasicBlockInContext(t->C, t->fn, "");
    LLVMBuildCondBr(t->B, LLVMBuildICmp(t->B, LLVMIntEQ, fctx, t->ctx, ""), fast, slow);
    /* results meet in allocas */
    LLVMValueRef rv[ft->nresults + 1];
    for (uint32_t i = 0; i < ft->nresults; i++)
        rv[i] = alloca_at_entry(t, vt(t, ft->types[ft->nparams + i]));

    LLVMPositionBuilderAtEnd(t->B, fast);
    LLVMValueRef fp = LLVMBuildLoad2(t->B, t->tptr, gep8(t, f, c64(t, L->func_native)), "");
    LLVMValueRef rb;
    LLVMValueRef r = call_direct(t, t->ftys[typeidx], fp, ft, &rb);
    /* the arguments, for the slow path (the results overwrite them) */
    uint32_t sp0 = t->sp;
    LLVMValueRef args[ft->nparams + 1];
    uint8_t argt[ft->nparams + 1];
    for (uint32_t i = 0; i < ft->nparams; i++) {
        args[i] = t->stk[sp0 - ft->nparams + i];
        argt[i] = t->stt[sp0 - ft->nparams + i];
    }
    t->sp -= ft->nparams;
    push_results(t, ft, r, rb);
    for (uint32_t i = 0; i < ft->nresults; i++)
        LLVMBuildStore(t->B, t->stk[t->sp - ft->nresults + i], rv[i]);
    LLVMBuildBr(t->B, join);
    t->sp = sp0 - ft->nparams;
    for (uint32_t i = 0; i < ft->nparams; i++)
        push(t, args[i], argt[i]);

    LLVMPositionBuilderAtEnd(t->B, slow);
    LLVMValueRef buf = spill_args(t, ft);
    t->sp -= ft->nparams;
    LLVMValueRef fi = LLVMBuildPtrToInt(t->B, f, t->ti64, "");
    LLVMValueRef a[2] = {fi, buf};
    helper(t, WEX__NH_CALL_INDIRECT, t->tvoid, a, 2);
    load_slot_results(t, ft, buf);
    for (uint32_t i = 0; i < ft->nresults; i++)
        LLVMBuildStore(t->B, t->stk[t->sp - ft->nresults + i], rv[i]);
    LLVMBuildBr(t->B, join);
    t->sp -= ft->nresults;

    LLVMPositionBuilderAtEnd(t->B, join);
    for (uint32_t i = 0; i < ft->nresults; i++) {
        uint8_t ty = ft->types[ft->nparams + i];
        push(t, LLVMBuildLoad2(t->B, vt(t, ty), rv[i], ""), ty);
    }
}

/* ---------------------------------------------------------------- bodies */

static void do_return(tr_t *t) {
    const ctl_t *f = &t->ctl[0];
    sink_flush(t);
    if (t->depth0)
        LLVMBuildStore(t->B, t->depth0, gep8(t, t->ctx, c64(t, offsetof(wex__nctx, depth))));
    if (t->osr) { /* a loop entry: results into the slots */
        for (uint32_t i = 0; i < f->nr; i++) {
            LLVMValueRef v = to_slot(t, t->stk[t->sp - f->nr + i]);
            LLVMBuildStore(t->B, v, gep8(t, t->resptr, c64(t, (uint64_t)i * 8)));
        }
        LLVMBuildRetVoid(t->B);
    } else if (f->nr == 0) {
        LLVMBuildRetVoid(t->B);
    } else if (f->nr == 1) {
        LLVMBuildRet(t->B, t->stk[t->sp - 1]);
    } else {
        for (uint32_t i = 0; i < f->nr; i++) {
            LLVMValueRef v = to_slot(t, t->stk[t->sp - f->nr + i]);
            LLVMBuildStore(t->B, v, gep8(t, t->resptr, c64(t, (uint64_t)i * 8)));
        }
        LLVMBuildRetVoid(t->B);
    }
}

/* End of block c, reached or not by falling through (live): its results,
 * from its vars, are pushed in its continuation. Returns whether the code
 * after it is reachable. */
static bool end_block(tr_t *t, bool live) {
    ctl_t *c = &t->ctl[t->nctl - 1];
    bool reached;
    if (c->kind == K_LOOP) {
        /* a loop's end is only reached by falling through; its results stay
         * on the stack as SSA values */
        reached = live;
        uint32_t keep = live ? c->nr : 0;
        LLVMValueRef vals[keep + 1];
        uint8_t tys[keep + 1];
        for (uint32_t i = 0; i < keep; i++) {
            vals[i] = t->stk[t->sp - keep + i];
            tys[i] = t->stt[t->sp - keep + i];
        }
        t->sp = c->height;
        for (uint32_t i = 0; i < keep; i++)
            push(t, vals[i], tys[i]);
        free(c->vars);
        free(c->ifparams);
        t->nctl--;
        return reached;
    }
    if (live) {
        for (uint32_t i = 0; i < c->nr; i++)
            LLVMBuildStore(t->B, t->stk[t->sp - c->nr + i], c->vars[i]);
        LLVMBuildBr(t->B, c->cont);
        c->reached = true;
    }
    if (c->kind == K_IF && !c->had_else) {
        /* no else: the false edge passes the parameters through as results */
        LLVMPositionBuilderAtEnd(t->B, c->els);
        for (uint32_t i = 0; i < c->nr; i++)
            LLVMBuildStore(t->B, c->ifparams[i], c->vars[i]);
        LLVMBuildBr(t->B, c->cont);
        c->reached = true;
    }
    t->sp = c->height;
    reached = c->reached;
    if (reached) {
        LLVMPositionBuilderAtEnd(t->B, c->cont);
        for (uint32_t i = 0; i < c->nr; i++)
            push(t, LLVMBuildLoad2(t->B, vt(t, c->rt[i]), c->vars[i], ""), c->rt[i]);
        if (c->kind == K_FUNC) do_return(t);
    } else {
        LLVMDeleteBasicBlock(c->cont);
    }
    free(c->vars);
    free(c->ifparams);
    t->nctl--;
    return reached && c->kind != K_FUNC;
}

/* Skip to the `else` or `end` that closes the innermost open block,
 * leaving r just past it and returning its opcode. */
static uint32_t skip_dead(tr_t *t, wex__reader *r) {
    uint32_t depth = 0;
    for (;;) {
        uint8_t b;
        if (!wex__read_u8(r, &b)) {
            fail(t, "unexpected end of body");
            return WEX__OP_END;
        }
        uint32_t code = b;
        if (b == 0xFC || b == 0xFE) {
            uint32_t sub;
            if (!wex__read_u32(r, &sub)) return WEX__OP_END;
            code = (uint32_t)b << 8 | sub;
        }
        if (code == WEX__OP_BLOCK || code == WEX__OP_LOOP || code == WEX__OP_IF) {
            int64_t bt;
            wex__read_s33(r, &bt);
            depth++;
            continue;
        }
        if (code == WEX__OP_END) {
            if (depth == 0) return code;
            depth--;
            continue;
        }
        if (code == WEX__OP_ELSE && depth == 0) return code;
        const wex__opinfo *oi = wex__op_lookup(code);
        if (!oi) {
            fail(t, "unknown opcode 0x%x", code);
            return WEX__OP_END;
        }
        wex__op_skip_imm(r, oi->imm);
    }
}

static void do_else(tr_t *t) {
    ctl_t *c = &t->ctl[t->nctl - 1];
    t->sp = c->height;
    c->had_else = true;
    LLVMPositionBuilderAtEnd(t->B, c->els);
    for (uint32_t i = 0; i < c->np; i++)
        push(t, c->ifparams[i], c->pt[i]);
}

/* The function's memory operations: a memarg, then the access. */
static bool memarg(wex__reader *r, uint64_t *off) {
    uint32_t align, o;
    if (!wex__read_u32(r, &align) || !wex__read_u32(r, &o)) return false;
    *off = o;
    return true;
}

static void load_op(tr_t *t, uint64_t off, unsigned size, uint8_t ty,
                    int ext /* 0 none, 1 s, 2 u */, bool fl) {
    LLVMValueRef a = pop(t);
    LLVMTypeRef lt = fl ? vt(t, ty) : itype(t, size);
    LLVMValueRef v = mem_load(t, a, off, lt, size);
    if (ext == 1) v = LLVMBuildSExt(t->B, v, vt(t, ty), "");
    if (ext == 2) v = LLVMBuildZExt(t->B, v, vt(t, ty), "");
    push(t, v, ty);
}

static void store_op(tr_t *t, uint64_t off, unsigned size, bool fl) {
    LLVMValueRef v = pop(t), a = pop(t);
    if (!fl && LLVMGetIntTypeWidth(LLVMTypeOf(v)) > size * 8)
        v = LLVMBuildTrunc(t->B, v, itype(t, size), "");
    mem_store(t, a, off, v, size);
}

/* Atomic read-modify-write of `size` bytes, result zero-extended to ty. */
static void atomic_rmw(tr_t *t, LLVMAtomicRMWBinOp op, uint64_t off, unsigned size, uint8_t ty) {
    LLVMValueRef v = pop(t), a = pop(t);
    LLVMValueRef ea = atomic_addr(t, a, off, size);
    LLVMTypeRef it = itype(t, size);
    if (LLVMGetIntTypeWidth(LLVMTypeOf(v)) > size * 8) v = LLVMBuildTrunc(t->B, v, it, "");
    LLVMValueRef r = LLVMBuildAtomicRMW(t->B, op, gep8(t, t->mem, ea), v,
                                        LLVMAtomicOrderingSequentiallyConsistent, 0);
    if (LLVMGetIntTypeWidth(it) < LLVMGetIntTypeWidth(vt(t, ty)))
        r = LLVMBuildZExt(t->B, r, vt(t, ty), "");
    push(t, r, ty);
}

static void atomic_cmpxchg(tr_t *t, uint64_t off, unsigned size, uint8_t ty) {
    LLVMValueRef rep = pop(t), exp = pop(t), a = pop(t);
    LLVMValueRef ea = atomic_addr(t, a, off, size);
    LLVMTypeRef it = itype(t, size);
    LLVMTypeRef full = vt(t, ty);
    bool narrow = LLVMGetIntTypeWidth(it) < LLVMGetIntTypeWidth(full);
    LLVMValueRef r;
    if (narrow) {
        /* an expected value with bits above the width never matches */
        LLVMValueRef e = LLVMBuildTrunc(t->B, exp, it, "");
        LLVMValueRef fits =
            LLVMBuildICmp(t->B, LLVMIntEQ, LLVMBuildZExt(t->B, e, full, ""), exp, "");
        LLVMValueRef p = gep8(t, t->mem, ea);
        LLVMBasicBlockRef yes = LLVMAppendBasicBlockInContext(t->C, t->fn, "");
        LLVMBasicBlockRef no = LLVMAppendBasicBlockInContext(t->C, t->fn, "");
        LLVMBasicBlockRef join = LLVMAppendBasicBlockInContext(t->C, t->fn, "");
        LLVMValueRef res = alloca_at_entry(t, it);
        LLVMBuildCondBr(t->B, fits, yes, no);
        LLVMPositionBuilderAtEnd(t->B, yes);
        LLVMValueRef x = LLVMBuildAtomicCmpXchg(t->B, p, e, LLVMBuildTrunc(t->B, rep, it, ""),
                                                LLVMAtomicOrderingSequentiallyConsistent,
                                                LLVMAtomicOrderingSequentiallyConsistent, 0);
        LLVMBuildStore(t->B, LLVMBuildExtractValue(t->B, x, 0, ""), res);
        LLVMBuildBr(t->B, join);
        LLVMPositionBuilderAtEnd(t->B, no);
        LLVMValueRef ld = LLVMBuildLoad2(t->B, it, p, "");
        LLVMSetOrdering(ld, LLVMAtomicOrderingSequentiallyConsistent);
        LLVMSetAlignment(ld, size);
        LLVMBuildStore(t->B, ld, res);
        LLVMBuildBr(t->B, join);
        LLVMPositionBuilderAtEnd(t->B, join);
        r = LLVMBuildZExt(t->B, LLVMBuildLoad2(t->B, it, res, ""), full, "");
    } else {
        LLVMValueRef x = LLVMBuildAtomicCmpXchg(t->B, gep8(t, t->mem, ea), exp, rep,
                                                LLVMAtomicOrderingSequentiallyConsistent,
                                                LLVMAtomicOrderingSequentiallyConsistent, 0);
        r = LLVMBuildExtractValue(t->B, x, 0, "");
    }
    push(t, r, ty);
}

static void atomic_op(tr_t *t, uint32_t code, uint64_t off) {
    unsigned size = 1u << wex__op_atomic_log2(code);
    const wex__opinfo *oi = wex__op_lookup(code);
    const char *sig = oi->sig;
    uint8_t rty = 0;
    const char *colon = strchr(sig, ':');
    if (colon && colon[1]) rty = colon[1] == 'I' ? WEX__T_I64 : WEX__T_I32;
    switch (code) {
    case WEX__OP_MEMORY_ATOMIC_NOTIFY: {
        LLVMValueRef n = pop(t), a = pop(t);
        LLVMValueRef ea = atomic_addr(t, a, off, 4);
        LLVMValueRef args[2] = {ea, n};
        push(t, helper(t, WEX__NH_ATOMIC_NOTIFY, t->ti32, args, 2), WEX__T_I32);
        return;
    }
    case WEX__OP_MEMORY_ATOMIC_WAIT32:
    case WEX__OP_MEMORY_ATOMIC_WAIT64: {
        LLVMValueRef to = pop(t), e = pop(t), a = pop(t);
        unsigned sz = code == WEX__OP_MEMORY_ATOMIC_WAIT32 ? 4 : 8;
        LLVMValueRef ea = atomic_addr(t, a, off, sz);
        LLVMValueRef args[3] = {ea, e, to};
        push(t,
             helper(t, sz == 4 ? WEX__NH_ATOMIC_WAIT32 : WEX__NH_ATOMIC_WAIT64, t->ti32, args, 3),
             WEX__T_I32);
        return;
    }
    case WEX__OP_ATOMIC_FENCE:
        LLVMBuildFence(t->B, LLVMAtomicOrderingSequentiallyConsistent, 0, "");
        return;
    default: break;
    }
    const char *name = oi->name;
    if (strstr(name, "_LOAD")) {
        LLVMValueRef a = pop(t);
        LLVMValueRef ea = atomic_addr(t, a, off, size);
        LLVMValueRef v = LLVMBuildLoad2(t->B, itype(t, size), gep8(t, t->mem, ea), "");
        LLVMSetOrdering(v, LLVMAtomicOrderingSequentiallyConsistent);
        LLVMSetAlignment(v, size);
        if (size * 8 < LLVMGetIntTypeWidth(vt(t, rty))) v = LLVMBuildZExt(t->B, v, vt(t, rty), "");
        push(t, v, rty);
        return;
    }
    if (strstr(name, "_STORE")) {
        LLVMValueRef v = pop(t), a = pop(t);
        LLVMValueRef ea = atomic_addr(t, a, off, size);
        if (LLVMGetIntTypeWidth(LLVMTypeOf(v)) > size * 8)
            v = LLVMBuildTrunc(t->B, v, itype(t, size), "");
        LLVMValueRef s = LLVMBuildStore(t->B, v, gep8(t, t->mem, ea));
        LLVMSetOrdering(s, LLVMAtomicOrderingSequentiallyConsistent);
        LLVMSetAlignment(s, size);
        return;
    }
    if (strstr(name, "_CMPXCHG")) {
        atomic_cmpxchg(t, off, size, rty);
        return;
    }
    LLVMAtomicRMWBinOp op;
    if (strstr(name, "_ADD"))
        op = LLVMAtomicRMWBinOpAdd;
    else if (strstr(name, "_SUB"))
        op = LLVMAtomicRMWBinOpSub;
    else if (strstr(name, "_AND"))
        op = LLVMAtomicRMWBinOpAnd;
    else if (strstr(name, "_XOR"))
        op = LLVMAtomicRMWBinOpXor;
    else if (strstr(name, "_OR"))
        op = LLVMAtomicRMWBinOpOr;
    else
        op = LLVMAtomicRMWBinOpXchg;
    atomic_rmw(t, op, off, size, rty);
}

/* Translate one operator (the opcode already read). Returns false when the
 * code after it is unreachable. */
static bool op(tr_t *t, uint32_t code, wex__reader *r) {
    const wex__module *m = t->m;
    uint32_t u, v2;
    uint64_t off;
    switch (code) {
    case WEX__OP_UNREACHABLE: LLVMBuildBr(t->B, trap_block(t, WEX_TRAP_UNREACHABLE)); return false;
    case WEX__OP_NOP: return true;
    case WEX__OP_BLOCK:
    case WEX__OP_LOOP: {
        ctl_t bt;
        uint32_t at = (uint32_t)wex__reader_off(r) - 1; /* the operator's offset */
        if (!blocktype(t, r, &bt)) return false;
        ctl_t *c = push_ctl(t, code == WEX__OP_LOOP ? K_LOOP : K_BLOCK, bt.np, bt.pt, bt.nr, bt.rt);
        if (code == WEX__OP_BLOCK) c->cont = LLVMAppendBasicBlockInContext(t->C, t->fn, "");
        if (code == WEX__OP_LOOP) {
            c->head = LLVMAppendBasicBlockInContext(t->C, t->fn, "loop");
            /* A loop that can be entered from the interpreter mid-run (OSR):
             * nothing on the operand stack and no parameters, so the
             * locals are all its state; the interpreter marks the same
             * ones (LOOP_HEAD). */
            if (t->osr && t->sp == 0 && c->np == 0) note_loop(t, at, c->head);
            for (uint32_t i = 0; i < c->np; i++)
                LLVMBuildStore(t->B, t->stk[t->sp - c->np + i], c->vars[i]);
            LLVMBuildBr(t->B, c->head);
            LLVMPositionBuilderAtEnd(t->B, c->head);
            if (t->o->epochs) epoch_check(t);
            t->sp -= c->np;
            for (uint32_t i = 0; i < c->np; i++)
                push(t, LLVMBuildLoad2(t->B, vt(t, c->pt[i]), c->vars[i], ""), c->pt[i]);
        }
        return true;
    }
    case WEX__OP_IF: {
        ctl_t bt;
        if (!blocktype(t, r, &bt)) return false;
        LLVMValueRef cond = pop(t);
        ctl_t *c = push_ctl(t, K_IF, bt.np, bt.pt, bt.nr, bt.rt);
        c->cont = LLVMAppendBasicBlockInContext(t->C, t->fn, "");
        c->els = LLVMAppendBasicBlockInContext(t->C, t->fn, "else");
        LLVMBasicBlockRef then = LLVMAppendBasicBlockInContext(t->C, t->fn, "then");
        c->ifparams = c->np ? calloc(c->np, sizeof *c->ifparams) : NULL;
        for (uint32_t i = 0; i < c->np; i++)
            c->ifparams[i] = t->stk[t->sp - c->np + i];
        LLVMBuildCondBr(t->B, LLVMBuildICmp(t->B, LLVMIntNE, cond, c32(t, 0), ""), then, c->els);
        LLVMPositionBuilderAtEnd(t->B, then);
        return true;
    }
    case WEX__OP_BR:
        if (!wex__read_u32(r, &u)) return false;
        branch_to(t, u);
        return false;
    case WEX__OP_BR_IF: {
        if (!wex__read_u32(r, &u)) return false;
        LLVMValueRef cond = pop(t);
        LLVMBasicBlockRef taken = LLVMAppendBasicBlockInContext(t->C, t->fn, "");
        LLVMBasicBlockRef fall = LLVMAppendBasicBlockInContext(t->C, t->fn, "");
        LLVMBuildCondBr(t->B, LLVMBuildICmp(t->B, LLVMIntNE, cond, c32(t, 0), ""), taken, fall);
        LLVMPositionBuilderAtEnd(t->B, taken);
        branch_to(t, u);
        LLVMPositionBuilderAtEnd(t->B, fall);
        return true;
    }
    case WEX__OP_BR_TABLE: {
        uint32_t n;
        if (!wex__read_u32(r, &n)) return false;
        uint32_t *labels = malloc(((size_t)n + 1) * sizeof *labels);
        for (uint32_t i = 0; i <= n; i++)
            if (!wex__read_u32(r, &labels[i])) {
                free(labels);
                return false;
            }
        LLVMValueRef key = pop(t);
        /* each distinct target gets a block that stores its values */
        LLVMBasicBlockRef dflt = LLVMAppendBasicBlockInContext(t->C, t->fn, "");
        LLVMValueRef sw = LLVMBuildSwitch(t->B, key, dflt, n);
        uint32_t ndist = 0;
        uint32_t *dl = malloc(((size_t)n + 1) * sizeof *dl);
        LLVMBasicBlockRef *db = malloc(((size_t)n + 1) * sizeof *db);
        for (uint32_t i = 0; i <= n; i++) {
            uint32_t k = 0;
            while (k < ndist && dl[k] != labels[i])
                k++;
            if (k == ndist) {
                dl[k] = labels[i];
                db[k] = i == n ? dflt : LLVMAppendBasicBlockInContext(t->C, t->fn, "");
                LLVMPositionBuilderAtEnd(t->B, db[k]);
                branch_to(t, labels[i]);
                ndist++;
            }
            if (i < n)
                LLVMAddCase(sw, c32(t, i), db[k]);
            else if (db[k] != dflt) {
                LLVMPositionBuilderAtEnd(t->B, dflt);
                LLVMBuildBr(t->B, db[k]);
            }
        }
        free(labels);
        free(dl);
        free(db);
        return false;
    }
    case WEX__OP_RETURN: do_return(t); return false;
    case WEX__OP_CALL:
        if (!wex__read_u32(r, &u)) return false;
        do_call(t, u);
        return true;
    case WEX__OP_CALL_INDIRECT:
        if (!wex__read_u32(r, &u) || !wex__read_u32(r, &v2)) return false;
        do_call_indirect(t, u, v2);
        return true;
    case WEX__OP_DROP: pop(t); return true;
    case WEX__OP_SELECT_T: {
        uint32_t n;
        if (!wex__read_u32(r, &n)) return false;
        for (uint32_t i = 0; i < n; i++) {
            uint8_t b;
            wex__read_u8(r, &b);
        }
    }
        /* fall through */
    case WEX__OP_SELECT: {
        LLVMValueRef c = pop(t);
        uint8_t ty = t->stt[t->sp - 1];
        LLVMValueRef b = pop(t), a = pop(t);
        push(t, LLVMBuildSelect(t->B, LLVMBuildICmp(t->B, LLVMIntNE, c, c32(t, 0), ""), a, b, ""),
             ty);
        return true;
    }
    case WEX__OP_LOCAL_GET:
        if (!wex__read_u32(r, &u)) return false;
        push(t, LLVMBuildLoad2(t->B, vt(t, t->ltypes[u]), t->locals[u], ""), t->ltypes[u]);
        return true;
    case WEX__OP_LOCAL_SET:
        if (!wex__read_u32(r, &u)) return false;
        LLVMBuildStore(t->B, pop(t), t->locals[u]);
        return true;
    case WEX__OP_LOCAL_TEE:
        if (!wex__read_u32(r, &u)) return false;
        LLVMBuildStore(t->B, t->stk[t->sp - 1], t->locals[u]);
        return true;
    case WEX__OP_GLOBAL_GET: {
        if (!wex__read_u32(r, &u)) return false;
        uint8_t ty = m->global_types[u].type;
        LLVMValueRef g = ctx_elem(t, offsetof(wex__nctx, globals), u);
        LLVMValueRef p = gep8(t, g, c64(t, t->o->layout.global_val));
        push(t, LLVMBuildLoad2(t->B, vt(t, ty), p, ""), ty);
        return true;
    }
    case WEX__OP_GLOBAL_SET: {
        if (!wex__read_u32(r, &u)) return false;
        LLVMValueRef v = pop(t);
        LLVMValueRef g = ctx_elem(t, offsetof(wex__nctx, globals), u);
        LLVMValueRef p = gep8(t, g, c64(t, t->o->layout.global_val));
        LLVMBuildStore(t->B, to_slot(t, v), p);
        return true;
    }
    case WEX__OP_TABLE_GET: {
        if (!wex__read_u32(r, &u)) return false;
        LLVMValueRef a[2] = {c32(t, u), pop(t)};
        push(t, helper(t, WEX__NH_TABLE_GET, t->ti64, a, 2), m->tables[u].elem);
        return true;
    }
    case WEX__OP_TABLE_SET: {
        if (!wex__read_u32(r, &u)) return false;
        LLVMValueRef val = pop(t), i = pop(t);
        LLVMValueRef a[3] = {c32(t, u), i, val};
        helper(t, WEX__NH_TABLE_SET, t->tvoid, a, 3);
        return true;
    }
    case WEX__OP_I32_LOAD:
    case WEX__OP_I64_LOAD:
    case WEX__OP_F32_LOAD:
    case WEX__OP_F64_LOAD:
    case WEX__OP_I32_LOAD8_S:
    case WEX__OP_I32_LOAD8_U:
    case WEX__OP_I32_LOAD16_S:
    case WEX__OP_I32_LOAD16_U:
    case WEX__OP_I64_LOAD8_S:
    case WEX__OP_I64_LOAD8_U:
    case WEX__OP_I64_LOAD16_S:
    case WEX__OP_I64_LOAD16_U:
    case WEX__OP_I64_LOAD32_S:
    case WEX__OP_I64_LOAD32_U: {
        if (!memarg(r, &off)) return false;
        static const struct {
            uint8_t size, ty, ext, fl;
        } L[] = {
            {4, WEX__T_I32, 0, 0}, {8, WEX__T_I64, 0, 0}, {4, WEX__T_F32, 0, 1},
            {8, WEX__T_F64, 0, 1}, {1, WEX__T_I32, 1, 0}, {1, WEX__T_I32, 2, 0},
            {2, WEX__T_I32, 1, 0}, {2, WEX__T_I32, 2, 0}, {1, WEX__T_I64, 1, 0},
            {1, WEX__T_I64, 2, 0}, {2, WEX__T_I64, 1, 0}, {2, WEX__T_I64, 2, 0},
            {4, WEX__T_I64, 1, 0}, {4, WEX__T_I64, 2, 0},
        };
        unsigned k = code - WEX__OP_I32_LOAD;
        load_op(t, off, L[k].size, L[k].ty, L[k].ext, L[k].fl);
        return true;
    }
    case WEX__OP_I32_STORE:
    case WEX__OP_I64_STORE:
    case WEX__OP_F32_STORE:
    case WEX__OP_F64_STORE:
    case WEX__OP_I32_STORE8:
    case WEX__OP_I32_STORE16:
    case WEX__OP_I64_STORE8:
    case WEX__OP_I64_STORE16:
    case WEX__OP_I64_STORE32: {
        if (!memarg(r, &off)) return false;
        static const uint8_t S[][2] = {{4, 0}, {8, 0}, {4, 1}, {8, 1}, {1, 0},
                                       {2, 0}, {1, 0}, {2, 0}, {4, 0}};
        unsigned k = code - WEX__OP_I32_STORE;
        store_op(t, off, S[k][0], S[k][1]);
        return true;
    }
    case WEX__OP_MEMORY_SIZE: {
        uint8_t b;
        wex__read_u8(r, &b);
        push(t, helper(t, WEX__NH_MEMORY_SIZE, t->ti32, NULL, 0), WEX__T_I32);
        return true;
    }
    case WEX__OP_MEMORY_GROW: {
        uint8_t b;
        wex__read_u8(r, &b);
        LLVMValueRef a = pop(t);
        push(t, helper(t, WEX__NH_MEMORY_GROW, t->ti32, &a, 1), WEX__T_I32);
        return true;
    }
    case WEX__OP_I32_CONST: {
        int32_t k;
        if (!wex__read_s32(r, &k)) return false;
        push(t, c32(t, (uint32_t)k), WEX__T_I32);
        return true;
    }
    case WEX__OP_I64_CONST: {
        int64_t k;
        if (!wex__read_s64(r, &k)) return false;
        push(t, c64(t, (uint64_t)k), WEX__T_I64);
        return true;
    }
    case WEX__OP_F32_CONST: {
        uint32_t bits;
        if (!wex__read_f32(r, &bits)) return false;
        push(t, fconst(t, t->tf32, bits), WEX__T_F32);
        return true;
    }
    case WEX__OP_F64_CONST: {
        uint64_t bits;
        if (!wex__read_f64(r, &bits)) return false;
        push(t, fconst(t, t->tf64, bits), WEX__T_F64);
        return true;
    }
    case WEX__OP_I32_EQZ:
    case WEX__OP_I64_EQZ: {
        LLVMValueRef a = pop(t);
        push(t, bool32(t, LLVMBuildICmp(t->B, LLVMIntEQ, a, LLVMConstInt(LLVMTypeOf(a), 0, 0), "")),
             WEX__T_I32);
        return true;
    }
#define ICMP(A, B, P)                                                                              \
    case WEX__OP_I32_##A:                                                                          \
    case WEX__OP_I64_##B: icmp(t, P); return true;
        ICMP(EQ, EQ, LLVMIntEQ)
        ICMP(NE, NE, LLVMIntNE)
        ICMP(LT_S, LT_S, LLVMIntSLT)
        ICMP(LT_U, LT_U, LLVMIntULT)
        ICMP(GT_S, GT_S, LLVMIntSGT)
        ICMP(GT_U, GT_U, LLVMIntUGT)
        ICMP(LE_S, LE_S, LLVMIntSLE)
        ICMP(LE_U, LE_U, LLVMIntULE)
        ICMP(GE_S, GE_S, LLVMIntSGE)
        ICMP(GE_U, GE_U, LLVMIntUGE)
#undef ICMP
#define FCMP(A, P)                                                                                 \
    case WEX__OP_F32_##A:                                                                          \
    case WEX__OP_F64_##A: fcmp(t, P); return true;
        FCMP(EQ, LLVMRealOEQ)
        FCMP(NE, LLVMRealUNE)
        FCMP(LT, LLVMRealOLT)
        FCMP(GT, LLVMRealOGT)
        FCMP(LE, LLVMRealOLE)
        FCMP(GE, LLVMRealOGE)
#undef FCMP
#define INT2(A, F)                                                                                 \
    case WEX__OP_I32_##A: F(t, WEX__T_I32); return true;                                           \
    case WEX__OP_I64_##A:                                                                          \
        F(t, WEX__T_I64);                                                                          \
        return true;
#define CLZ(t, ty)    bitcount(t, "llvm.ctlz", ty)
#define CTZ(t, ty)    bitcount(t, "llvm.cttz", ty)
#define POPCNT(t, ty) unary_intr(t, "llvm.ctpop", ty)
#define ADD(t, ty)    binop(t, LLVMBuildAdd, ty)
#define SUB(t, ty)    binop(t, LLVMBuildSub, ty)
#define MUL(t, ty)    binop(t, LLVMBuildMul, ty)
#define AND(t, ty)    binop(t, LLVMBuildAnd, ty)
#define OR(t, ty)     binop(t, LLVMBuildOr, ty)
#define XOR(t, ty)    binop(t, LLVMBuildXor, ty)
#define SHL(t, ty)    shift(t, LLVMBuildShl, ty)
#define SHRS(t, ty)   shift(t, LLVMBuildAShr, ty)
#define SHRU(t, ty)   shift(t, LLVMBuildLShr, ty)
#define ROTL(t, ty)   rotate(t, "llvm.fshl", ty)
#define ROTR(t, ty)   rotate(t, "llvm.fshr", ty)
#define DIVS(t, ty)   divrem(t, true, false, ty)
#define DIVU(t, ty)   divrem(t, false, false, ty)
#define REMS(t, ty)   divrem(t, true, true, ty)
#define REMU(t, ty)   divrem(t, false, true, ty)
        INT2(CLZ, CLZ)
        INT2(CTZ, CTZ)
        INT2(POPCNT, POPCNT)
        INT2(ADD, ADD)
        INT2(SUB, SUB)
        INT2(MUL, MUL)
        INT2(DIV_S, DIVS)
        INT2(DIV_U, DIVU)
        INT2(REM_S, REMS)
        INT2(REM_U, REMU)
        INT2(AND, AND)
        INT2(OR, OR)
        INT2(XOR, XOR)
        INT2(SHL, SHL)
        INT2(SHR_S, SHRS)
        INT2(SHR_U, SHRU)
        INT2(ROTL, ROTL)
        INT2(ROTR, ROTR)
#define FLT2(A, F)                                                                                 \
    case WEX__OP_F32_##A: F(t, WEX__T_F32); return true;                                           \
    case WEX__OP_F64_##A:                                                                          \
        F(t, WEX__T_F64);                                                                          \
        return true;
#define FABS(t, ty)      unary_intr(t, "llvm.fabs", ty)
#define FNEG(t, ty)      push(t, LLVMBuildFNeg(t->B, pop(t), ""), ty)
#define FCEIL(t, ty)     (unary_intr(t, "llvm.ceil", ty), canon_top(t))
#define FFLOOR(t, ty)    (unary_intr(t, "llvm.floor", ty), canon_top(t))
#define FTRUNC(t, ty)    (unary_intr(t, "llvm.trunc", ty), canon_top(t))
#define FNEAREST(t, ty)  (unary_intr(t, "llvm.roundeven", ty), canon_top(t))
#define FSQRT(t, ty)     (unary_intr(t, "llvm.sqrt", ty), canon_top(t))
#define FADD(t, ty)      (binop(t, LLVMBuildFAdd, ty), canon_top(t))
#define FSUB(t, ty)      (binop(t, LLVMBuildFSub, ty), canon_top(t))
#define FMUL(t, ty)      (binop(t, LLVMBuildFMul, ty), canon_top(t))
#define FDIV(t, ty)      (binop(t, LLVMBuildFDiv, ty), canon_top(t))
#define FMIN(t, ty)      (minmax(t, "llvm.minimum", ty), canon_top(t))
#define FMAX(t, ty)      (minmax(t, "llvm.maximum", ty), canon_top(t))
#define FCOPYSIGN(t, ty) binary_intr(t, "llvm.copysign", ty)
        FLT2(ABS, FABS)
        FLT2(NEG, FNEG)
        FLT2(CEIL, FCEIL)
        FLT2(FLOOR, FFLOOR)
        FLT2(TRUNC, FTRUNC)
        FLT2(NEAREST, FNEAREST)
        FLT2(SQRT, FSQRT)
        FLT2(ADD, FADD)
        FLT2(SUB, FSUB)
        FLT2(MUL, FMUL)
        FLT2(DIV, FDIV)
        FLT2(MIN, FMIN)
        FLT2(MAX, FMAX)
        FLT2(COPYSIGN, FCOPYSIGN)
    case WEX__OP_I32_WRAP_I64:
        push(t, LLVMBuildTrunc(t->B, pop(t), t->ti32, ""), WEX__T_I32);
        return true;
    case WEX__OP_I32_TRUNC_F32_S:
        trunc_trap(t, WEX__T_I32, true, -2147483904.0, 2147483648.0);
        return true;
    case WEX__OP_I32_TRUNC_F32_U: trunc_trap(t, WEX__T_I32, false, -1.0, 4294967296.0); return true;
    case WEX__OP_I32_TRUNC_F64_S:
        trunc_trap(t, WEX__T_I32, true, -2147483649.0, 2147483648.0);
        return true;
    case WEX__OP_I32_TRUNC_F64_U: trunc_trap(t, WEX__T_I32, false, -1.0, 4294967296.0); return true;
    case WEX__OP_I64_TRUNC_F32_S:
        trunc_trap(t, WEX__T_I64, true, -9223373136366403584.0, 9223372036854775808.0);
        return true;
    case WEX__OP_I64_TRUNC_F32_U:
        trunc_trap(t, WEX__T_I64, false, -1.0, 18446744073709551616.0);
        return true;
    case WEX__OP_I64_TRUNC_F64_S:
        trunc_trap(t, WEX__T_I64, true, -9223372036854777856.0, 9223372036854775808.0);
        return true;
    case WEX__OP_I64_TRUNC_F64_U:
        trunc_trap(t, WEX__T_I64, false, -1.0, 18446744073709551616.0);
        return true;
    case WEX__OP_I64_EXTEND_I32_S:
        push(t, LLVMBuildSExt(t->B, pop(t), t->ti64, ""), WEX__T_I64);
        return true;
    case WEX__OP_I64_EXTEND_I32_U:
        push(t, LLVMBuildZExt(t->B, pop(t), t->ti64, ""), WEX__T_I64);
        return true;
    case WEX__OP_F32_CONVERT_I32_S:
    case WEX__OP_F32_CONVERT_I64_S: convert(t, WEX__T_F32, true); return true;
    case WEX__OP_F32_CONVERT_I32_U:
    case WEX__OP_F32_CONVERT_I64_U: convert(t, WEX__T_F32, false); return true;
    case WEX__OP_F64_CONVERT_I32_S:
    case WEX__OP_F64_CONVERT_I64_S: convert(t, WEX__T_F64, true); return true;
    case WEX__OP_F64_CONVERT_I32_U:
    case WEX__OP_F64_CONVERT_I64_U: convert(t, WEX__T_F64, false); return true;
    case WEX__OP_F32_DEMOTE_F64:
        push(t, LLVMBuildFPTrunc(t->B, pop(t), t->tf32, ""), WEX__T_F32);
        canon_top(t);
        return true;
    case WEX__OP_F64_PROMOTE_F32:
        push(t, opaque(t, LLVMBuildFPExt(t->B, pop(t), t->tf64, "")), WEX__T_F64);
        canon_top(t);
        return true;
    case WEX__OP_I32_REINTERPRET_F32:
        push(t, LLVMBuildBitCast(t->B, pop(t), t->ti32, ""), WEX__T_I32);
        return true;
    case WEX__OP_I64_REINTERPRET_F64:
        push(t, LLVMBuildBitCast(t->B, pop(t), t->ti64, ""), WEX__T_I64);
        return true;
    case WEX__OP_F32_REINTERPRET_I32:
        push(t, LLVMBuildBitCast(t->B, pop(t), t->tf32, ""), WEX__T_F32);
        return true;
    case WEX__OP_F64_REINTERPRET_I64:
        push(t, LLVMBuildBitCast(t->B, pop(t), t->tf64, ""), WEX__T_F64);
        return true;
    case WEX__OP_I32_EXTEND8_S: sext_from(t, t->ti8, WEX__T_I32); return true;
    case WEX__OP_I32_EXTEND16_S: sext_from(t, t->ti16, WEX__T_I32); return true;
    case WEX__OP_I64_EXTEND8_S: sext_from(t, t->ti8, WEX__T_I64); return true;
    case WEX__OP_I64_EXTEND16_S: sext_from(t, t->ti16, WEX__T_I64); return true;
    case WEX__OP_I64_EXTEND32_S: sext_from(t, t->ti32, WEX__T_I64); return true;
    case WEX__OP_REF_NULL: {
        uint8_t b;
        wex__read_u8(r, &b);
        push(t, c64(t, 0), b);
        return true;
    }
    case WEX__OP_REF_IS_NULL: {
        LLVMValueRef a = pop(t);
        push(t, bool32(t, LLVMBuildICmp(t->B, LLVMIntEQ, a, c64(t, 0), "")), WEX__T_I32);
        return true;
    }
    case WEX__OP_REF_FUNC: {
        if (!wex__read_u32(r, &u)) return false;
        LLVMValueRef f = ctx_elem(t, offsetof(wex__nctx, funcs), u);
        push(t, LLVMBuildPtrToInt(t->B, f, t->ti64, ""), WEX__T_FUNCREF);
        return true;
    }
    case WEX__OP_I32_TRUNC_SAT_F32_S:
    case WEX__OP_I32_TRUNC_SAT_F64_S: trunc_sat(t, WEX__T_I32, true); return true;
    case WEX__OP_I32_TRUNC_SAT_F32_U:
    case WEX__OP_I32_TRUNC_SAT_F64_U: trunc_sat(t, WEX__T_I32, false); return true;
    case WEX__OP_I64_TRUNC_SAT_F32_S:
    case WEX__OP_I64_TRUNC_SAT_F64_S: trunc_sat(t, WEX__T_I64, true); return true;
    case WEX__OP_I64_TRUNC_SAT_F32_U:
    case WEX__OP_I64_TRUNC_SAT_F64_U: trunc_sat(t, WEX__T_I64, false); return true;
    case WEX__OP_MEMORY_INIT: {
        uint8_t b;
        if (!wex__read_u32(r, &u) || !wex__read_u8(r, &b)) return false;
        LLVMValueRef n = pop(t), s = pop(t), d = pop(t);
        LLVMValueRef a[4] = {c32(t, u), d, s, n};
        helper(t, WEX__NH_MEMORY_INIT, t->tvoid, a, 4);
        return true;
    }
    case WEX__OP_DATA_DROP: {
        if (!wex__read_u32(r, &u)) return false;
        LLVMValueRef a = c32(t, u);
        helper(t, WEX__NH_DATA_DROP, t->tvoid, &a, 1);
        return true;
    }
    case WEX__OP_MEMORY_COPY: {
        uint8_t b;
        wex__read_u8(r, &b);
        wex__read_u8(r, &b);
        LLVMValueRef n = pop(t), s = pop(t), d = pop(t);
        LLVMValueRef a[3] = {d, s, n};
        helper(t, WEX__NH_MEMORY_COPY, t->tvoid, a, 3);
        return true;
    }
    case WEX__OP_MEMORY_FILL: {
        uint8_t b;
        wex__read_u8(r, &b);
        LLVMValueRef n = pop(t), val = pop(t), d = pop(t);
        LLVMValueRef a[3] = {d, val, n};
        helper(t, WEX__NH_MEMORY_FILL, t->tvoid, a, 3);
        return true;
    }
    case WEX__OP_TABLE_INIT: {
        if (!wex__read_u32(r, &u) || !wex__read_u32(r, &v2)) return false;
        LLVMValueRef n = pop(t), s = pop(t), d = pop(t);
        LLVMValueRef a[5] = {c32(t, v2), c32(t, u), d, s, n};
        helper(t, WEX__NH_TABLE_INIT, t->tvoid, a, 5);
        return true;
    }
    case WEX__OP_ELEM_DROP: {
        if (!wex__read_u32(r, &u)) return false;
        LLVMValueRef a = c32(t, u);
        helper(t, WEX__NH_ELEM_DROP, t->tvoid, &a, 1);
        return true;
    }
    case WEX__OP_TABLE_COPY: {
        if (!wex__read_u32(r, &u) || !wex__read_u32(r, &v2)) return false;
        LLVMValueRef n = pop(t), s = pop(t), d = pop(t);
        LLVMValueRef a[5] = {c32(t, u), c32(t, v2), d, s, n};
        helper(t, WEX__NH_TABLE_COPY, t->tvoid, a, 5);
        return true;
    }
    case WEX__OP_TABLE_GROW: {
        if (!wex__read_u32(r, &u)) return false;
        LLVMValueRef n = pop(t), init = pop(t);
        LLVMValueRef a[3] = {c32(t, u), init, n};
        push(t, helper(t, WEX__NH_TABLE_GROW, t->ti32, a, 3), WEX__T_I32);
        return true;
    }
    case WEX__OP_TABLE_SIZE: {
        if (!wex__read_u32(r, &u)) return false;
        LLVMValueRef a = c32(t, u);
        push(t, helper(t, WEX__NH_TABLE_SIZE, t->ti32, &a, 1), WEX__T_I32);
        return true;
    }
    case WEX__OP_TABLE_FILL: {
        if (!wex__read_u32(r, &u)) return false;
        LLVMValueRef n = pop(t), val = pop(t), i = pop(t);
        LLVMValueRef a[4] = {c32(t, u), i, val, n};
        helper(t, WEX__NH_TABLE_FILL, t->tvoid, a, 4);
        return true;
    }
    default: break;
    }
    if ((code >> 8) == 0xFE) {
        if (code == WEX__OP_ATOMIC_FENCE) {
            uint8_t b;
            wex__read_u8(r, &b);
            off = 0;
        } else if (!memarg(r, &off))
            return false;
        atomic_op(t, code, off);
        return true;
    }
    fail(t, "operator 0x%x is not supported by the native tier", code);
    return false;
}

/* The stack-limit check: a frame below ctx->stack_limit is the trap "call
 * stack exhausted", never a native stack overflow. */
static void prologue_check(tr_t *t) {
    LLVMValueRef zero = c32(t, 0);
    LLVMTypeRef pt = t->tptr;
    LLVMValueRef fa = intrinsic(t, "llvm.frameaddress", &pt, 1, &zero, 1);
    LLVMValueRef sp = LLVMBuildPtrToInt(t->B, fa, t->ti64, "");
    LLVMValueRef lim = ctx_field(t, offsetof(wex__nctx, stack_limit), t->ti64);
    trap_if(t, LLVMBuildICmp(t->B, LLVMIntULT, sp, lim, ""), WEX_TRAP_CALL_STACK_EXHAUSTED);
}

/* Deterministic code counts frames as the interpreter does: a function
 * entered with ctx->depth frames below it traps at ctx->depth_limit, else
 * counts itself until it returns. A loop entry (osr) continues a frame the
 * interpreter counted already. */
static void depth_enter(tr_t *t) {
    LLVMValueRef d = ctx_field(t, offsetof(wex__nctx, depth), t->ti32);
    LLVMValueRef lim = LLVMBuildLoad2(
        t->B, t->ti32, gep8(t, t->ctx, c64(t, offsetof(wex__nctx, depth_limit))), "");
    trap_if(t, LLVMBuildICmp(t->B, LLVMIntUGE, d, lim, ""), WEX_TRAP_CALL_STACK_EXHAUSTED);
    LLVMBuildStore(t->B, LLVMBuildAdd(t->B, d, c32(t, 1), ""),
                   gep8(t, t->ctx, c64(t, offsetof(wex__nctx, depth))));
    t->depth0 = d;
}

/*
 * Translate body di into fn: wex_f<di>, or (osr) its entry copy
 * wex_q<di>(ctx, slots, off), entered mid-run at the loop at module offset
 * off: the locals come from slots (the interpreter's frame), the entry
 * block switches to that loop's header (the code before the loops is left
 * unreachable, and LLVM drops it), and results go back into slots. One copy
 * serves every loop of the body, so a body is compiled at most twice.
 */
static void translate_body(tr_t *t, uint32_t di, LLVMValueRef fn, bool osr) {
    const wex__module *m = t->m;
    const wex__code *code = &m->codes[di];
    uint32_t fidx = m->nfunc_imports + di;
    const wex__functype *ft = wex__module_functype(m, fidx);
    t->fn = fn;
    t->osr = osr;
    t->nloops = 0;
    t->ctx = LLVMGetParam(t->fn, 0);
    memset(t->trapbb, 0, sizeof t->trapbb);
    t->cur_di = di;
    {
        size_t nl;
        const char *name = LLVMGetValueName2(fn, &nl);
        t->disp = LLVMDIBuilderCreateFunction(t->D, t->difile, name, nl, name, nl, t->difile, di,
                                              t->disubty, 1, 1, di, LLVMDIFlagZero, 1);
        LLVMSetSubprogram(fn, t->disp);
    }
    set_site(t, code->off);
    t->entry = LLVMAppendBasicBlockInContext(t->C, t->fn, "entry");
    LLVMBasicBlockRef pro = osr ? LLVMAppendBasicBlockInContext(t->C, t->fn, "osr") : NULL;
    LLVMBasicBlockRef body = LLVMAppendBasicBlockInContext(t->C, t->fn, "body");
    LLVMPositionBuilderAtEnd(t->B, osr ? pro : body);
    t->resptr = osr                ? LLVMGetParam(t->fn, 1)
                : ft->nresults > 1 ? LLVMGetParam(t->fn, 1 + ft->nparams)
                                   : NULL;

    t->nlocals = ft->nparams + code->nlocals;
    t->locals = calloc(t->nlocals + 1, sizeof *t->locals);
    t->ltypes = calloc(t->nlocals + 1, 1);
    uint32_t k = 0;
    for (uint32_t i = 0; i < ft->nparams; i++)
        t->ltypes[k++] = ft->types[i];
    for (uint32_t ri = 0; ri < code->nruns; ri++)
        for (uint32_t j = 0; j < code->runs[ri].count; j++)
            t->ltypes[k++] = code->runs[ri].type;
    for (uint32_t i = 0; i < t->nlocals; i++) {
        t->locals[i] = alloca_at_entry(t, vt(t, t->ltypes[i]));
        LLVMValueRef init = osr               ? LLVMBuildLoad2(t->B, vt(t, t->ltypes[i]),
                                                               gep8(t, t->resptr, c64(t, (uint64_t)i * 8)), "")
                            : i < ft->nparams ? LLVMGetParam(t->fn, 1 + i)
                                              : LLVMConstNull(vt(t, t->ltypes[i]));
        LLVMBuildStore(t->B, init, t->locals[i]);
    }
    t->mem = m->nmems ? ctx_field(t, offsetof(wex__nctx, mem), t->tptr) : NULL;
    t->sink = NULL;
    t->sink_fed = false;
    t->nflush = 0;
    if (t->mem && !t->o->explicit_bounds && t->keep == KEEP_SINK) {
        t->sink = alloca_at_entry(t, t->ti64);
        LLVMBuildStore(t->B, c64(t, 0), t->sink);
    }
    set_site(t, WEX__NATIVE_SITE_ENTRY);
    prologue_check(t);
    if (t->o->epochs) epoch_check(t);
    t->depth0 = NULL;
    if (t->o->deterministic && !osr) depth_enter(t);
    set_site(t, code->off);
    LLVMBasicBlockRef osr_from = NULL;
    if (osr) { /* the loop's header is not made yet: jump there at the end */
        osr_from = LLVMGetInsertBlock(t->B);
        LLVMPositionBuilderAtEnd(t->B, body);
    }

    t->sp = 0;
    t->nctl = 0;
    ctl_t *fc = push_ctl(t, K_FUNC, 0, NULL, ft->nresults, ft->types + ft->nparams);
    fc->cont = LLVMAppendBasicBlockInContext(t->C, t->fn, "ret");

    wex__reader r;
    wex__reader_init(&r, m->bytes + code->expr_off, code->off + code->len - code->expr_off,
                     m->bytes);
    bool live = true;
    while (t->nctl && !t->failed) {
        uint32_t opc;
        set_site(t, (uint32_t)(r.p - m->bytes));
        if (!live) {
            opc = skip_dead(t, &r);
        } else {
            uint8_t b;
            if (!wex__read_u8(&r, &b)) {
                fail(t, "function %u: unexpected end of body", fidx);
                break;
            }
            opc = b;
            if (b == 0xFC || b == 0xFE) {
                uint32_t sub;
                if (!wex__read_u32(&r, &sub)) break;
                opc = (uint32_t)b << 8 | sub;
            }
        }
        if (opc == WEX__OP_END) {
            live = end_block(t, live);
            continue;
        }
        if (opc == WEX__OP_ELSE) {
            ctl_t *c = &t->ctl[t->nctl - 1];
            if (live) {
                for (uint32_t i = 0; i < c->nr; i++)
                    LLVMBuildStore(t->B, t->stk[t->sp - c->nr + i], c->vars[i]);
                LLVMBuildBr(t->B, c->cont);
                c->reached = true;
            }
            do_else(t);
            live = true;
            continue;
        }
        live = op(t, opc, &r);
        if (!live && t->nctl == 0) break;
    }
    sink_unflush(t);
    /* the entry block falls into the body (a loop entry: into its loop;
     * the thunks pass only offsets from the list) */
    if (osr && !t->failed) {
        LLVMPositionBuilderAtEnd(t->B, osr_from);
        LLVMBasicBlockRef none = LLVMAppendBasicBlockInContext(t->C, t->fn, "noloop");
        LLVMValueRef sw = LLVMBuildSwitch(t->B, LLVMGetParam(t->fn, 2), none, t->nloops);
        for (uint32_t k = 0; k < t->nloops; k++)
            LLVMAddCase(sw, c32(t, t->loops[k]), t->heads[k]);
        LLVMPositionBuilderAtEnd(t->B, none);
        LLVMBuildUnreachable(t->B);
    }
    LLVMPositionBuilderAtEnd(t->B, t->entry);
    LLVMBuildBr(t->B, osr ? pro : body);
    LLVMSetCurrentDebugLocation2(t->B, NULL);
    free(t->locals);
    free(t->ltypes);
    for (uint32_t i = 0; i < t->nctl; i++) {
        free(t->ctl[i].vars);
        free(t->ctl[i].ifparams);
    }
    t->nctl = 0;
}

/* Body di's entry copy wex_q<di>(ctx, slots, off) and a thunk
 * wex_p<di>_<off>(ctx, slots) per loop it can be entered at, with the
 * trampoline's signature: the runtime finds the entries by these names;
 * each thunk is a jump into the copy (a sibling call: no frame of its own
 * in a backtrace). */
static void osr_entries(tr_t *t, uint32_t di, LLVMAttributeRef attrs[3]) {
    char name[48];
    snprintf(name, sizeof name, "wex_q%u", di);
    LLVMTypeRef ps[3] = {t->tptr, t->tptr, t->ti32};
    LLVMTypeRef qty = LLVMFunctionType(t->tvoid, ps, 3, 0);
    LLVMValueRef q = LLVMAddFunction(t->M, name, qty);
    for (int k = 0; k < 3; k++)
        LLVMAddAttributeAtIndex(q, LLVMAttributeFunctionIndex, attrs[k]);
    /* one copy, not one per thunk */
    LLVMAddAttributeAtIndex(
        q, LLVMAttributeFunctionIndex,
        LLVMCreateEnumAttribute(t->C, LLVMGetEnumAttributeKindForName("noinline", 8), 0));
    LLVMSetVisibility(q, LLVMProtectedVisibility);
    translate_body(t, di, q, true);
    for (uint32_t k = 0; k < t->nloops && !t->failed; k++) {
        snprintf(name, sizeof name, "wex_p%u_%u", di, t->loops[k]);
        LLVMValueRef fn = LLVMAddFunction(t->M, name, LLVMFunctionType(t->tvoid, ps, 2, 0));
        LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, attrs[0]); /* frame pointer */
        LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, attrs[1]); /* nounwind */
        LLVMSetVisibility(fn, LLVMProtectedVisibility);
        LLVMPositionBuilderAtEnd(t->B, LLVMAppendBasicBlockInContext(t->C, fn, ""));
        LLVMValueRef args[3] = {LLVMGetParam(fn, 0), LLVMGetParam(fn, 1), c32(t, t->loops[k])};
        LLVMValueRef call = LLVMBuildCall2(t->B, qty, q, args, 3, "");
        LLVMSetTailCall(call, 1);
        LLVMBuildRetVoid(t->B);
    }
}

/* wex_f<di>, and when it is small and calls itself, the chain of clones
 * its self-calls are inlined from (WEX__LLVM_RECINL_DEPTH levels; the last
 * level calls wex_f<di> again). */
static void translate_recursive(tr_t *t, uint32_t di, LLVMAttributeRef attrs[3]) {
    t->self_di = di;
    t->recinl = WEX__LLVM_RECINL && t->m->codes[di].len <= WEX__LLVM_RECINL_BYTES;
    t->self_callee = NULL;
    t->nself = 0;
    translate_body(t, di, t->fns[di], false);
    /* levels: while the copies (nself, nself^2, ...) fit the budget */
    uint32_t depth = 0;
    for (uint64_t copies = 0, per = t->nself;
         t->nself && depth < WEX__LLVM_RECINL_DEPTH && copies + per <= WEX__LLVM_RECINL_COPIES;
         per *= t->nself)
        copies += per, depth++;
    if (t->self_callee && depth == 0) { /* too many self-calls: call wex_f<di> itself */
        LLVMReplaceAllUsesWith(t->self_callee, t->fns[di]);
        LLVMDeleteFunction(t->self_callee);
        t->self_callee = NULL;
    }
    for (uint32_t level = 1; t->self_callee && !t->failed; level++) {
        LLVMValueRef clone = t->self_callee;
        for (int k = 0; k < 3; k++)
            LLVMAddAttributeAtIndex(clone, LLVMAttributeFunctionIndex, attrs[k]);
        t->recinl = level < depth;
        t->self_callee = NULL;
        translate_body(t, di, clone, false);
    }
    t->recinl = false;
    t->self_di = UINT32_MAX;
}

/* wex_e<i>: arguments from slots, results back into them. */
static void trampoline(tr_t *t, uint32_t di) {
    const wex__module *m = t->m;
    uint32_t fidx = m->nfunc_imports + di;
    const wex__functype *ft = wex__module_functype(m, fidx);
    char name[32];
    snprintf(name, sizeof name, "wex_e%u", di);
    LLVMTypeRef ps[2] = {t->tptr, t->tptr};
    LLVMValueRef fn = LLVMAddFunction(t->M, name, LLVMFunctionType(t->tvoid, ps, 2, 0));
    LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex,
                            LLVMCreateStringAttribute(t->C, "frame-pointer", 13, "all", 3));
    LLVMBasicBlockRef bb = LLVMAppendBasicBlockInContext(t->C, fn, "");
    LLVMPositionBuilderAtEnd(t->B, bb);
    LLVMValueRef slots = LLVMGetParam(fn, 1);
    LLVMValueRef args[ft->nparams + 2];
    args[0] = LLVMGetParam(fn, 0);
    for (uint32_t i = 0; i < ft->nparams; i++)
        args[1 + i] =
            LLVMBuildLoad2(t->B, vt(t, ft->types[i]), gep8(t, slots, c64(t, (uint64_t)i * 8)), "");
    unsigned na = 1 + ft->nparams;
    if (ft->nresults > 1) args[na++] = slots; /* read all arguments first: already done */
    LLVMValueRef r = LLVMBuildCall2(t->B, t->ftys[m->func_types[fidx]], t->fns[di], args, na, "");
    /* the entry function keeps its frame (backtraces) */
    LLVMAddCallSiteAttribute(
        r, LLVMAttributeFunctionIndex,
        LLVMCreateEnumAttribute(t->C, LLVMGetEnumAttributeKindForName("noinline", 8), 0));
    if (ft->nresults == 1) LLVMBuildStore(t->B, to_slot(t, r), slots);
    LLVMBuildRetVoid(t->B);
}

/*
 * Where calls return, for backtraces: once LLVM's passes are done, after
 * every call that returns come stackmaps (no code; records in
 * .llvm_stackmaps of the address they stand at and an id), one per level of
 * the call's inline chain, innermost first: the site ids (native.h) of the
 * call and of each call it was inlined through, read from its debug
 * location. A call with none (LLVM made it, or merged two) gets one record,
 * "somewhere in this function" (all ones). No other call comes between a
 * call and its records, so the runtime finds a return address's chain as
 * the records at the first address at or after it in the same function. A
 * trap helper's call (it does not return: it is followed by unreachable)
 * gets WEX__NATIVE_SITE_TRAP, then its chain, whose innermost level the
 * helper's argument replaces (its block is shared by the function's traps
 * of one kind). Then the debug information goes: the object has no DWARF.
 * The slot trampolines and loop thunks are left as they are.
 */
static void add_stackmaps(tr_t *t) {
    const char *sm = "llvm.experimental.stackmap";
    unsigned iid = LLVMLookupIntrinsicID(sm, strlen(sm));
    LLVMValueRef smf = LLVMGetIntrinsicDeclaration(t->M, iid, NULL, 0);
    LLVMTypeRef smt = LLVMIntrinsicGetType(t->C, iid, NULL, 0);
    for (LLVMValueRef f = LLVMGetFirstFunction(t->M); f; f = LLVMGetNextFunction(f)) {
        size_t nl;
        const char *name = LLVMGetValueName2(f, &nl);
        if (LLVMIsDeclaration(f) || nl < 5 || strncmp(name, "wex_", 4) != 0 ||
            (name[4] != 'f' && name[4] != 'q'))
            continue;
        for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(f); bb; bb = LLVMGetNextBasicBlock(bb)) {
            for (LLVMValueRef in = LLVMGetFirstInstruction(bb); in;
                 in = LLVMGetNextInstruction(in)) {
                if (!LLVMIsACallInst(in)) continue;
                LLVMValueRef callee = LLVMGetCalledValue(in);
                if (LLVMIsAFunction(callee) && LLVMGetIntrinsicID(callee)) continue;
                LLVMValueRef next = LLVMGetNextInstruction(in);
                if (!next) continue;
                bool trap = LLVMIsAUnreachableInst(next);
                uint64_t ids[64];
                unsigned n = 0;
                if (trap) ids[n++] = WEX__NATIVE_SITE_TRAP;
                for (LLVMMetadataRef loc = LLVMInstructionGetDebugLoc(in); loc && n < 64;
                     loc = LLVMDILocationGetInlinedAt(loc)) {
                    LLVMMetadataRef sp = LLVMDILocationGetScope(loc);
                    unsigned line = LLVMDILocationGetLine(loc);
                    uint64_t di = sp ? LLVMDISubprogramGetLine(sp) : UINT32_MAX;
                    ids[n++] = di << 32 | (line ? line : UINT32_MAX);
                }
                if (n == (trap ? 1u : 0u)) ids[n++] = UINT64_MAX;
                /* One stackmap for the whole chain (its id, then the
                 * outer levels as constant operands, which the record
                 * keeps): separate ones at a block's end were moved apart
                 * by code generation's tail merging, when two blocks ended
                 * with the same outer levels and went on to one block. */
                LLVMPositionBuilderBefore(t->B, next);
                LLVMValueRef a[66];
                a[0] = c64(t, ids[0]);
                a[1] = c32(t, 0);
                for (unsigned k = 1; k < n; k++)
                    a[k + 1] = c64(t, ids[k]);
                LLVMBuildCall2(t->B, smt, smf, a, n + 1, "");
                while (LLVMGetNextInstruction(in) != next)
                    in = LLVMGetNextInstruction(in); /* past the stackmaps */
            }
        }
    }
    LLVMStripModuleDebugInfo(t->M);
}

/* LLVM's own command-line options, set once per process (LLVM keeps them
 * in globals): -vectorize-slp=false for guard-page code (see emit), then the
 * words of $WEX_LLVMC_LLVM_ARGS, a developer's knob (-time-passes, say). */
static void llvm_options(bool noslp) {
    static bool once;
    if (once) return;
    once = true;
    const char *argv[34] = {"wex-llvmc"};
    int argc = 1;
    if (noslp) argv[argc++] = "-vectorize-slp=false";
    static char extra[1024];
    const char *env = getenv("WEX_LLVMC_LLVM_ARGS");
    if (env) {
        snprintf(extra, sizeof extra, "%s", env);
        for (char *w = strtok(extra, " "); w && argc < 34; w = strtok(NULL, " "))
            argv[argc++] = w;
    }
    if (argc > 1) LLVMParseCommandLineOptions(argc, argv, NULL);
}

/* Monotonic milliseconds, for $WEX_LLVMC_TIME. */
static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static bool emit(tr_t *t, uint8_t **obj, size_t *len) {
    double t0 = now_ms();
    char *triple = LLVMGetDefaultTargetTriple();
    LLVMTargetRef target;
    char *msg = NULL;
    if (LLVMGetTargetFromTriple(triple, &target, &msg)) {
        fail(t, "LLVM target %s: %s", triple, msg ? msg : "?");
        LLVMDisposeMessage(msg);
        LLVMDisposeMessage(triple);
        return false;
    }
    char *cpu = t->o->cpu ? strdup(t->o->cpu) : LLVMGetHostCPUName();
    char *feat = t->o->features ? strdup(t->o->features) : LLVMGetHostCPUFeatures();
    LLVMCodeGenOptLevel lvl = t->o->opt_level >= 3   ? LLVMCodeGenLevelAggressive
                              : t->o->opt_level == 0 ? LLVMCodeGenLevelNone
                              : t->o->opt_level == 1 ? LLVMCodeGenLevelLess
                                                     : LLVMCodeGenLevelDefault;
    LLVMTargetMachineRef tm =
        LLVMCreateTargetMachine(target, triple, cpu, feat, lvl, LLVMRelocPIC, LLVMCodeModelSmall);
    LLVMSetTarget(t->M, triple);
    LLVMTargetDataRef td = LLVMCreateTargetDataLayout(tm);
    char *dl = LLVMCopyStringRepOfTargetData(td);
    LLVMSetDataLayout(t->M, dl);
    LLVMDisposeMessage(dl);
    LLVMDisposeTargetData(td);

    if (getenv("WEX_LLVMC_DUMP0")) LLVMDumpModule(t->M);
    if (LLVMVerifyModule(t->M, LLVMReturnStatusAction, &msg)) {
        fail(t, "invalid LLVM IR: %.400s", msg ? msg : "?");
        if (getenv("WEX_LLVMC_DUMP")) LLVMDumpModule(t->M);
        LLVMDisposeMessage(msg);
        goto out;
    }
    LLVMDisposeMessage(msg);
    msg = NULL;
    char pipeline[32];
    snprintf(pipeline, sizeof pipeline, "default<O%u>", t->o->opt_level > 3 ? 3 : t->o->opt_level);
    LLVMPassBuilderOptionsRef po = LLVMCreatePassBuilderOptions();
    /* Guard pages: no SLP vectoriser. LLVM 19's keeps the distance between
     * two addresses in an int, so a load at base + 2^32 + 4 (i32.const -1,
     * offset 5: out of bounds, it must fault) passed for the one at base + 4
     * and was merged with it (tests/wat/guard_slp.wat; opt-bisect: pass 123,
     * SLPVectorizerPass). Explicit checks keep each access behind its own
     * compare. Without it (interleaved, 9 rounds): nbody 133 -> 151 ms,
     * matmul 43.0 -> 43.8, stencil 18.1 -> 18.0. WEX_LLVMC_NOSLP=1: without
     * it in both modes. The pipeline's option does not reach the pass; LLVM's own
     * command-line switch does (once per process: a process serves one
     * bounds mode). */
    bool noslp = !t->o->explicit_bounds || getenv("WEX_LLVMC_NOSLP");
    llvm_options(noslp);
    if (noslp) LLVMPassBuilderOptionsSetSLPVectorization(po, 0);
    double tv = now_ms();
    LLVMErrorRef e = LLVMRunPasses(t->M, pipeline, tm, po);
    LLVMDisposePassBuilderOptions(po);
    double tp = now_ms();
    if (e) {
        char *em = LLVMGetErrorMessage(e);
        fail(t, "LLVM passes: %s", em);
        LLVMDisposeErrorMessage(em);
        goto out;
    }
    if (!t->o->explicit_bounds && t->keep == KEEP_SINK && !getenv("WEX_LLVMC_NOPRUNE")) {
        unsigned np = wex__llvm_prune_sink(t->M);
        if (getenv("WEX_LLVMC_TIME"))
            fprintf(stderr, "wex-llvmc: %u float loads out of the sum\n", np);
    }
    double tq = now_ms();
    add_stackmaps(t);
    if (getenv("WEX_LLVMC_DUMP")) LLVMDumpModule(t->M);
    double t1 = now_ms();
    if (getenv("WEX_LLVMC_TIME"))
        fprintf(stderr,
                "wex-llvmc: set-up and verifier %.1f ms, pipeline %.1f ms, pruning %.1f ms, "
                "stackmaps %.1f ms\n",
                tv - t0, tp - tv, tq - tp, t1 - tq);
    LLVMMemoryBufferRef buf;
    if (LLVMTargetMachineEmitToMemoryBuffer(tm, t->M, LLVMObjectFile, &msg, &buf)) {
        fail(t, "LLVM code generation: %s", msg ? msg : "?");
        LLVMDisposeMessage(msg);
        goto out;
    }
    *len = LLVMGetBufferSize(buf);
    *obj = malloc(*len ? *len : 1);
    if (*obj) memcpy(*obj, LLVMGetBufferStart(buf), *len);
    LLVMDisposeMemoryBuffer(buf);
    /* WEX_LLVMC_TIME=1: where the time goes (translation is timed by the caller) */
    if (getenv("WEX_LLVMC_TIME"))
        fprintf(stderr, "wex-llvmc: passes %.1f ms, code generation %.1f ms\n", t1 - t0,
                now_ms() - t1);
out:
    LLVMDisposeTargetMachine(tm);
    LLVMDisposeMessage(triple);
    free(cpu);
    free(feat);
    return !t->failed && *obj;
}

bool wex__llvm_compile(const wex__module *m, const wex__llvm_opts *o, uint8_t **obj, size_t *len,
                       char *err, size_t errlen) {
    LLVMInitializeX86TargetInfo();
    LLVMInitializeX86Target();
    LLVMInitializeX86TargetMC();
    LLVMInitializeX86AsmPrinter();
    double t_start = now_ms();
    tr_t T;
    memset(&T, 0, sizeof T);
    tr_t *t = &T;
    t->m = m;
    t->o = o;
    t->err = err;
    t->errlen = errlen;
    err[0] = 0;
    *obj = NULL;
    *len = 0;
    t->C = LLVMContextCreate();
    t->M = LLVMModuleCreateWithNameInContext("wex", t->C);
    t->B = LLVMCreateBuilderInContext(t->C);
    t->ti1 = LLVMInt1TypeInContext(t->C);
    t->ti8 = LLVMInt8TypeInContext(t->C);
    t->ti16 = LLVMInt16TypeInContext(t->C);
    t->ti32 = LLVMInt32TypeInContext(t->C);
    t->ti64 = LLVMInt64TypeInContext(t->C);
    t->tf32 = LLVMFloatTypeInContext(t->C);
    t->tf64 = LLVMDoubleTypeInContext(t->C);
    t->tptr = LLVMPointerTypeInContext(t->C, 0);
    t->tvoid = LLVMVoidTypeInContext(t->C);
    t->md_inv = LLVMGetMDKindIDInContext(t->C, "invariant.load", 14);
    t->D = LLVMCreateDIBuilder(t->M);
    t->difile = LLVMDIBuilderCreateFile(t->D, "module.wasm", 11, "", 0);
    LLVMDIBuilderCreateCompileUnit(t->D, LLVMDWARFSourceLanguageC, t->difile, "wex", 3, 1, "", 0, 0,
                                   "", 0, LLVMDWARFEmissionLineTablesOnly, 0, 0, 0, "", 0, "", 0);
    t->disubty = LLVMDIBuilderCreateSubroutineType(t->D, t->difile, NULL, 0, LLVMDIFlagZero);
    LLVMAddModuleFlag(t->M, LLVMModuleFlagBehaviorWarning, "Debug Info Version", 18,
                      LLVMValueAsMetadata(c32(t, LLVMDebugMetadataVersion())));
    /* WEX_LLVMC_KEEP=volatile|none: other ways of keeping guard-page loads,
     * for measuring (none is not correct: unused loads vanish) */
    const char *keep = getenv("WEX_LLVMC_KEEP");
    t->keep = keep && !strcmp(keep, "volatile") ? KEEP_VOLATILE
              : keep && !strcmp(keep, "none")   ? KEEP_NONE
                                                : KEEP_SINK;
    t->md_empty = LLVMMetadataAsValue(t->C, LLVMMDNodeInContext2(t->C, NULL, 0));

    t->ftys = calloc(m->ntypes + 1, sizeof *t->ftys);
    for (uint32_t i = 0; i < m->ntypes; i++)
        t->ftys[i] = functype(t, &m->types[i]);
    uint32_t nd = m->nfuncs - m->nfunc_imports;
    t->fns = calloc(nd + 1, sizeof *t->fns);
    LLVMAttributeRef fpall = LLVMCreateStringAttribute(t->C, "frame-pointer", 13, "all", 3);
    LLVMAttributeRef notail = LLVMCreateStringAttribute(t->C, "disable-tail-calls", 18, "true", 4);
    LLVMAttributeRef nounwind =
        LLVMCreateEnumAttribute(t->C, LLVMGetEnumAttributeKindForName("nounwind", 8), 0);
    LLVMAttributeRef attrs[3] = {fpall, nounwind, notail};
    for (uint32_t i = 0; i < nd; i++) {
        if (o->want && !o->want[i]) continue; /* another object's, or interpreted */
        char name[32];
        snprintf(name, sizeof name, "wex_f%u", i);
        t->fns[i] = LLVMAddFunction(t->M, name, t->ftys[m->func_types[m->nfunc_imports + i]]);
        LLVMAddAttributeAtIndex(t->fns[i], LLVMAttributeFunctionIndex, fpall);
        LLVMAddAttributeAtIndex(t->fns[i], LLVMAttributeFunctionIndex, nounwind);
        /* A recursive tail call must stay a call: each one's stack check is
         * what turns unbounded recursion into "call stack exhausted"
         * (tail calls of the tail-call proposal will be explicit). */
        LLVMAddAttributeAtIndex(t->fns[i], LLVMAttributeFunctionIndex, notail);
        LLVMSetVisibility(t->fns[i], LLVMProtectedVisibility);
    }
    for (uint32_t i = 0; i < nd && !t->failed; i++) {
        if (t->fns[i]) translate_recursive(t, i, attrs);
        if (o->osr && o->osr[i] && !t->failed) osr_entries(t, i, attrs);
    }
    for (uint32_t i = 0; i < nd && !t->failed; i++)
        if (t->fns[i]) trampoline(t, i);
    LLVMDIBuilderFinalize(t->D);
    if (getenv("WEX_LLVMC_TIME"))
        fprintf(stderr, "wex-llvmc: translation %.1f ms\n", now_ms() - t_start);
    bool ok = !t->failed && emit(t, obj, len);
    LLVMDisposeDIBuilder(t->D);
    free(t->stk);
    free(t->stt);
    free(t->ctl);
    free(t->ftys);
    free(t->fns);
    free(t->loops);
    free(t->heads);
    free(t->flushes);
    LLVMDisposeBuilder(t->B);
    LLVMDisposeModule(t->M);
    LLVMContextDispose(t->C);
    return ok;
}
