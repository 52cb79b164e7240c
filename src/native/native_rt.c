/*
 * native_rt.c - what native code needs at run time: the entry from C (a
 * jump buffer for traps, the stack limit), the helpers it calls for calls
 * that leave the module, bulk memory, tables and atomics' waits, and the
 * per-instance context.
 *
 * Traps: a helper that traps leaves native code by siglongjmp to the
 * innermost entry's buffer, carrying the error; a guard-page fault arrives
 * there through the signal handler (os_posix.c) as an out-of-bounds access.
 * Native frames hold nothing that needs unwinding.
 */
#include "native/native_internal.h"

#include "os/os.h"

#include <setjmp.h>
#include <string.h>

/* Native stack kept free below the lowest frame a prologue allows: room for
 * the helpers, host functions and the interpreter they may call, and the
 * signal handler. */
#define WEX__NATIVE_STACK_RESERVE ((uintptr_t)256 << 10)

static __thread sigjmp_buf *native_jmp;        /* the innermost entry's */
static __thread wex_error_t *native_err;       /* what it is to return */
static __thread uintptr_t stack_limit;         /* this thread's, 0 until known */
static __thread const wex__module *native_mod; /* the innermost entry's module */

/* ---------------------------------------------------------------- backtraces
 *
 * Native code keeps frame pointers: each frame holds its caller's frame
 * pointer and, above it, the return address. From the innermost native
 * function the chain is followed while return addresses lie in the module's
 * functions (the entry trampoline ends it). Each caller's return address
 * names its call's site (wex__native_site_at), the innermost frame's trap
 * the trap helper's argument: the module offset of the instruction, as in
 * the interpreter (a trap in a function's entry checks is its caller's, at
 * the call). A site inside code LLVM inlined names the inlined
 * function: it becomes a frame of its own, followed by the function it was
 * inlined into, which then gives only its body offset
 * (WEX_FRAME_FUNC_OFFSET), as does a guard-page fault (the faulting
 * instruction has no site).
 */
typedef struct {
    uint32_t n;
    uint64_t omitted;
    uint32_t func[WEX_BACKTRACE_MAX_FRAMES];
    int64_t off[WEX_BACKTRACE_MAX_FRAMES]; /* module offset, or -1: the function's */
} native_bt;

static void bt_push(native_bt *bt, uint32_t func, int64_t off) {
    if (bt->n < WEX_BACKTRACE_MAX_FRAMES) {
        bt->func[bt->n] = func;
        bt->off[bt->n++] = off;
    } else {
        bt->omitted++;
    }
}

/* The frames of one native frame of function f: site (innermost), then
 * the n sites it was inlined through; f itself ends the chain (if the
 * sites do not, f is added, at its body's offset). */
static void frames_of(native_bt *bt, const wex__native *nat, uint32_t f, uint64_t site,
                      const uint64_t *outer, uint32_t n) {
    uint32_t last = UINT32_MAX;
    for (uint32_t k = 0; k <= n; k++) {
        uint64_t id = k ? outer[k - 1] : site;
        uint32_t sf = (uint32_t)(id >> 32), off = (uint32_t)id;
        if (id == UINT64_MAX || sf >= nat->nfuncs) continue;
        if (k == 0 && off == WEX__NATIVE_SITE_ENTRY) { /* no frame yet: its caller's */
            last = sf;
            continue;
        }
        bt_push(bt, sf, off == UINT32_MAX ? -1 : (int64_t)off);
        last = sf;
    }
    if (last != f) bt_push(bt, f, -1);
}

static __thread native_bt fault_bt; /* filled by the fault hook */

/* Walk from pc ip in the frame fp; at most `skip` leading frames outside the
 * module's code (the helper's own C frames) are passed over. ip is the
 * faulting instruction itself when exact, else (like every caller's pc) a
 * return address, looked up one byte back: a call to a function that does
 * not return may be the last instruction of its function. Reads memory
 * only, so a signal handler may call it. */
static void walk(const wex__native *nat, uintptr_t ip, uintptr_t fp, unsigned skip, bool exact,
                 uint64_t first_site, native_bt *bt) {
    bt->n = 0;
    bt->omitted = 0;
    bool first = true; /* no module frame seen yet */
    for (uint32_t steps = 0; steps < (1u << 22); steps++, exact = false) {
        int64_t f = nat && ip ? wex__native_func_at(nat, exact ? ip : ip - 1) : -1;
        if (f >= 0) {
            skip = 0;
            /* a caller: its call's inline chain; the innermost frame from
             * a trap: the helper's argument, then the trap call's chain
             * past its first level; a fault: no site */
            uint32_t n = 0;
            const uint64_t *ids = exact ? NULL : wex__native_sites_at(nat, ip, &n);
            if (first && first_site != UINT64_MAX) {
                if (n >= 2 && ids[0] == WEX__NATIVE_SITE_TRAP)
                    ids += 2, n -= 2;
                else
                    n = 0;
                frames_of(bt, nat, (uint32_t)f, first_site, ids, n);
            } else if (n && ids[0] != WEX__NATIVE_SITE_TRAP) {
                frames_of(bt, nat, (uint32_t)f, ids[0], ids + 1, n - 1);
            } else if (first) {
                bt_push(bt, (uint32_t)f, -1);
            }
            /* (a caller without sites is a thunk, not a WebAssembly frame:
             * every call in a function's code has its stackmap, but a loop
             * entry wex_p<i>_<off> calls wex_q<i> without one) */
            first = false;
        } else if (skip-- == 0 || !first) {
            return;
        }
        if (!fp || (fp & 7)) return;
        uintptr_t next = ((const uintptr_t *)fp)[0];
        ip = ((const uintptr_t *)fp)[1];
        if (next <= fp) return; /* the stack grows down: callers are above */
        fp = next;
    }
}

/* bt's frames as the error's records. */
static void frames_to(const wex__module *m, const native_bt *bt, wex__eframe *fr) {
    for (uint32_t i = 0; i < bt->n; i++) {
        uint32_t di = bt->func[i];
        fr[i].func_index = m->nfunc_imports + di;
        fr[i].flags = bt->off[i] >= 0 ? 0 : WEX_FRAME_FUNC_OFFSET;
        fr[i].offset = bt->off[i] >= 0 ? bt->off[i] : m->codes ? (int64_t)m->codes[di].off : -1;
        fr[i].name = m->func_names ? m->func_names[m->nfunc_imports + di] : NULL;
    }
}

/* Attach bt to err (a trap without frames) as wex_error_frame describes. */
static void attach(wex_error_t *err, const wex__module *m, const native_bt *bt) {
    if (!m || wex_error_code(err) != WEX_ERR_TRAP || wex__error_has_frames(err)) return;
    wex__eframe fr[WEX_BACKTRACE_MAX_FRAMES];
    frames_to(m, bt, fr);
    wex__error_set_frames(err, fr, bt->n, bt->omitted);
}

/* The backtrace of the native code that called this helper (this file is
 * built with frame pointers, so the chain runs through the helpers). */
__attribute__((noinline)) static void attach_here(wex_error_t *err, uint64_t site) {
    if (!native_mod || wex_error_code(err) != WEX_ERR_TRAP || wex__error_has_frames(err)) return;
    native_bt bt;
    uintptr_t fp = (uintptr_t)__builtin_frame_address(0);
    walk(native_mod->native, 0, fp, 4, false, site, &bt);
    attach(err, native_mod, &bt);
}

/* This code's frames as callers of the frames err has already. */
__attribute__((noinline)) static void add_here(wex_error_t *err) {
    if (!native_mod || wex_error_code(err) != WEX_ERR_TRAP) return;
    native_bt bt;
    uintptr_t fp = (uintptr_t)__builtin_frame_address(0);
    walk(native_mod->native, 0, fp, 4, false, UINT64_MAX, &bt);
    wex__eframe fr[WEX_BACKTRACE_MAX_FRAMES];
    frames_to(native_mod, &bt, fr);
    wex__error_add_frames(err, fr, bt.n, bt.omitted);
}

/* The signal handler's hook: record the frames before they are gone. */
static void fault_hook(uintptr_t ip, uintptr_t fp) {
    if (native_mod)
        walk(native_mod->native, ip, fp, 0, true, UINT64_MAX, &fault_bt);
    else
        fault_bt.n = 0;
}

/* Leave native code with err; site: the trapping instruction's id, or
 * UINT64_MAX (the site of the call into the helper). */
__attribute__((noreturn, cold)) static void throw_at(wex_error_t *err, uint64_t site) {
    attach_here(err, site);
    native_err = err;
    siglongjmp(*native_jmp, 2);
}

__attribute__((noreturn, cold)) static void throw_error(wex_error_t *err) {
    throw_at(err, UINT64_MAX);
}

static wex_instance_t *inst_of(wex__nctx *ctx) {
    return (wex_instance_t *)ctx->inst;
}

/* sink: see translate.c's keep_loads (ignored). */
__attribute__((noreturn, cold)) static void h_trap(wex__nctx *ctx, int32_t code, uint64_t sink,
                                                   uint64_t site) {
    (void)ctx;
    (void)sink;
    throw_at(wex__error_trap((wex_trapcode_t)code), site);
}

__attribute__((noreturn, cold)) static void
h_trap_index(wex__nctx *ctx, int32_t code, int32_t index, uint64_t sink, uint64_t site) {
    (void)ctx;
    (void)sink;
    throw_at(wex__error_trap_index((wex_trapcode_t)code, (uint32_t)index), site);
}

/* Epoch-checked code saw its store's deadline reached: go on if the store's
 * callback says so, else trap here (the site of the call into this). */
static void h_epoch(wex__nctx *ctx) {
    if (!wex__store_epoch_go_on(inst_of(ctx)->store))
        throw_error(wex__error_trap(WEX_TRAP_INTERRUPT));
}

/* Call f with the arguments in slots (native stack memory): they are copied
 * to the store's value stack, where host functions and the interpreter
 * expect them and where a host function calling back builds its frames. */
static void call_slots(wex__nctx *ctx, wex_store_t *s, wex_func_t *f, uint64_t *slots) {
    const wex__functype *t = f->type;
    wex_error_t *err = wex__store_stack(s);
    if (err) throw_error(err);
    uint32_t n = t->nparams > t->nresults ? t->nparams : t->nresults;
    uint64_t *base = s->stack_top;
    if (base + n > s->stack_end) throw_error(wex__error_trap(WEX_TRAP_CALL_STACK_EXHAUSTED));
    memcpy(base, slots, (size_t)t->nparams * 8);
    /* deterministic: the callee runs above this code's frames (and a host
     * function's own, as in the interpreter) */
    uint32_t wdepth = s->wdepth;
    if (s->engine->config.deterministic) s->wdepth = ctx->depth + (f->inst ? 0 : 1);
    s->from_native = true; /* for the interpreter's entry, if it runs f */
    err = wex__call(s, f, base);
    s->from_native = false;
    s->wdepth = wdepth;
    /* a WebAssembly callee (interpreted, or native entered anew) failed
     * with its frames: this code's follow them; a host function's error
     * keeps the frames of any WebAssembly it called, alone */
    if (err && f->inst && wex__error_has_frames(err)) add_here(err);
    if (err) throw_error(err);
    memcpy(slots, base, (size_t)t->nresults * 8);
}

static void h_call(wex__nctx *ctx, int32_t idx, uint64_t *slots) {
    wex_instance_t *inst = inst_of(ctx);
    call_slots(ctx, inst->store, inst->funcs[(uint32_t)idx], slots);
}

static void h_call_indirect(wex__nctx *ctx, uint64_t f, uint64_t *slots) {
    call_slots(ctx, inst_of(ctx)->store, (wex_func_t *)(uintptr_t)f, slots);
}

static int32_t h_memory_grow(wex__nctx *ctx, int32_t delta) {
    return (int32_t)wex__memory_grow(inst_of(ctx)->mem0, (uint32_t)delta);
}

static int32_t h_memory_size(wex__nctx *ctx) {
    return (int32_t)__atomic_load_n(&inst_of(ctx)->mem0->lim.min, __ATOMIC_ACQUIRE);
}

static void h_memory_init(wex__nctx *ctx, int32_t seg, int32_t d, int32_t sr, int32_t n) {
    wex_instance_t *inst = inst_of(ctx);
    const wex__module *m = inst->module;
    const wex__data *ds = &m->datas[seg];
    uint64_t dlen = inst->data_dropped[seg] ? 0 : ds->data_len;
    if ((uint64_t)(uint32_t)d + (uint32_t)n >
            __atomic_load_n(&inst->mem0->size, __ATOMIC_ACQUIRE) ||
        (uint64_t)(uint32_t)sr + (uint32_t)n > dlen)
        throw_error(wex__error_trap(WEX_TRAP_MEMORY_OOB));
    if (n)
        memcpy(inst->mem0->base + (uint32_t)d, m->bytes + ds->data_off + (uint32_t)sr, (uint32_t)n);
}

static void h_data_drop(wex__nctx *ctx, int32_t seg) {
    inst_of(ctx)->data_dropped[seg] = 1;
}

static void h_memory_copy(wex__nctx *ctx, int32_t d, int32_t sr, int32_t n) {
    wex_memory_t *mem = inst_of(ctx)->mem0;
    uint64_t sz = __atomic_load_n(&mem->size, __ATOMIC_ACQUIRE);
    if ((uint64_t)(uint32_t)d + (uint32_t)n > sz || (uint64_t)(uint32_t)sr + (uint32_t)n > sz)
        throw_error(wex__error_trap(WEX_TRAP_MEMORY_OOB));
    memmove(mem->base + (uint32_t)d, mem->base + (uint32_t)sr, (uint32_t)n);
}

static void h_memory_fill(wex__nctx *ctx, int32_t d, int32_t val, int32_t n) {
    wex_memory_t *mem = inst_of(ctx)->mem0;
    if ((uint64_t)(uint32_t)d + (uint32_t)n > __atomic_load_n(&mem->size, __ATOMIC_ACQUIRE))
        throw_error(wex__error_trap(WEX_TRAP_MEMORY_OOB));
    memset(mem->base + (uint32_t)d, (uint8_t)val, (uint32_t)n);
}

static wex_table_t *table_of(wex__nctx *ctx, int32_t t) {
    return inst_of(ctx)->tables[(uint32_t)t];
}

static uint64_t h_table_get(wex__nctx *ctx, int32_t t, int32_t i) {
    wex_table_t *tab = table_of(ctx, t);
    if ((uint32_t)i >= tab->size) throw_error(wex__error_trap(WEX_TRAP_TABLE_OOB));
    return (uint64_t)(uintptr_t)tab->elems[(uint32_t)i];
}

static void h_table_set(wex__nctx *ctx, int32_t t, int32_t i, uint64_t v) {
    wex_table_t *tab = table_of(ctx, t);
    if ((uint32_t)i >= tab->size) throw_error(wex__error_trap(WEX_TRAP_TABLE_OOB));
    tab->elems[(uint32_t)i] = (void *)(uintptr_t)v;
}

static int32_t h_table_size(wex__nctx *ctx, int32_t t) {
    return (int32_t)table_of(ctx, t)->size;
}

static int32_t h_table_grow(wex__nctx *ctx, int32_t t, uint64_t init, int32_t n) {
    return (int32_t)wex__table_grow(table_of(ctx, t), (uint32_t)n, (void *)(uintptr_t)init);
}

static void h_table_fill(wex__nctx *ctx, int32_t t, int32_t i, uint64_t v, int32_t n) {
    wex_table_t *tab = table_of(ctx, t);
    if ((uint64_t)(uint32_t)i + (uint32_t)n > tab->size)
        throw_error(wex__error_trap(WEX_TRAP_TABLE_OOB));
    for (uint32_t k = 0; k < (uint32_t)n; k++)
        tab->elems[(uint32_t)i + k] = (void *)(uintptr_t)v;
}

static void h_table_copy(wex__nctx *ctx, int32_t dt, int32_t st, int32_t d, int32_t sr, int32_t n) {
    wex_table_t *a = table_of(ctx, dt), *b = table_of(ctx, st);
    if ((uint64_t)(uint32_t)d + (uint32_t)n > a->size ||
        (uint64_t)(uint32_t)sr + (uint32_t)n > b->size)
        throw_error(wex__error_trap(WEX_TRAP_TABLE_OOB));
    memmove(a->elems + (uint32_t)d, b->elems + (uint32_t)sr, (size_t)(uint32_t)n * sizeof(void *));
}

static void h_table_init(wex__nctx *ctx, int32_t t, int32_t seg, int32_t d, int32_t sr, int32_t n) {
    wex_table_t *tab = table_of(ctx, t);
    wex__elemseg *es = &inst_of(ctx)->elems[(uint32_t)seg];
    if ((uint64_t)(uint32_t)d + (uint32_t)n > tab->size ||
        (uint64_t)(uint32_t)sr + (uint32_t)n > es->count)
        throw_error(wex__error_trap(WEX_TRAP_TABLE_OOB));
    if (n)
        memcpy(tab->elems + (uint32_t)d, es->refs + (uint32_t)sr,
               (size_t)(uint32_t)n * sizeof(void *));
}

static void h_elem_drop(wex__nctx *ctx, int32_t seg) {
    inst_of(ctx)->elems[(uint32_t)seg].count = 0;
}

/* Waits need a shared memory; the address was checked by the code. */
static int32_t wait_common(wex__nctx *ctx, uint64_t ea, uint64_t expected, bool is64,
                           int64_t timeout) {
    wex_memory_t *mem = inst_of(ctx)->mem0;
    if (!mem->shared) throw_error(wex__error_trap(WEX_TRAP_EXPECTED_SHARED));
    return (int32_t)wex__atomic_wait(mem->base + ea, expected, is64, timeout);
}

static int32_t h_wait32(wex__nctx *ctx, uint64_t ea, int32_t expected, int64_t timeout) {
    return wait_common(ctx, ea, (uint32_t)expected, false, timeout);
}

static int32_t h_wait64(wex__nctx *ctx, uint64_t ea, int64_t expected, int64_t timeout) {
    return wait_common(ctx, ea, (uint64_t)expected, true, timeout);
}

static int32_t h_notify(wex__nctx *ctx, uint64_t ea, int32_t count) {
    wex_memory_t *mem = inst_of(ctx)->mem0;
    if (!mem->shared) return 0; /* nothing can wait on an unshared memory */
    return (int32_t)wex__atomic_notify(mem->base + ea, (uint32_t)count);
}

/* In WEX__NATIVE_HELPERS order. */
static void *const helpers[WEX__NH_COUNT] = {
    [WEX__NH_TRAP] = (void *)h_trap,
    [WEX__NH_TRAP_INDEX] = (void *)h_trap_index,
    [WEX__NH_CALL] = (void *)h_call,
    [WEX__NH_CALL_INDIRECT] = (void *)h_call_indirect,
    [WEX__NH_MEMORY_GROW] = (void *)h_memory_grow,
    [WEX__NH_MEMORY_SIZE] = (void *)h_memory_size,
    [WEX__NH_MEMORY_INIT] = (void *)h_memory_init,
    [WEX__NH_DATA_DROP] = (void *)h_data_drop,
    [WEX__NH_MEMORY_COPY] = (void *)h_memory_copy,
    [WEX__NH_MEMORY_FILL] = (void *)h_memory_fill,
    [WEX__NH_TABLE_GET] = (void *)h_table_get,
    [WEX__NH_TABLE_SET] = (void *)h_table_set,
    [WEX__NH_TABLE_SIZE] = (void *)h_table_size,
    [WEX__NH_TABLE_GROW] = (void *)h_table_grow,
    [WEX__NH_TABLE_FILL] = (void *)h_table_fill,
    [WEX__NH_TABLE_COPY] = (void *)h_table_copy,
    [WEX__NH_TABLE_INIT] = (void *)h_table_init,
    [WEX__NH_ELEM_DROP] = (void *)h_elem_drop,
    [WEX__NH_ATOMIC_WAIT32] = (void *)h_wait32,
    [WEX__NH_ATOMIC_WAIT64] = (void *)h_wait64,
    [WEX__NH_ATOMIC_NOTIFY] = (void *)h_notify,
    [WEX__NH_EPOCH] = (void *)h_epoch,
};

static const uint64_t no_memory_size = 0;

void wex__native_instance_init(wex_instance_t *inst) {
    const wex__module *m = inst->module;
    wex__native *nat = m->native;
    wex__nctx *ctx = &inst->nctx;
    ctx->mem = inst->mem0 ? inst->mem0->base : NULL;
    ctx->memsize = inst->mem0 ? &inst->mem0->size : &no_memory_size;
    ctx->globals = (void *const *)inst->globals;
    ctx->helpers = helpers;
    ctx->funcs = (void *const *)inst->funcs;
    ctx->tables = (void *const *)inst->tables;
    ctx->canon = nat->canon;
    ctx->stack_limit = 0;
    ctx->inst = inst;
    ctx->fnptrs = (void *const *)nat->fns;
    ctx->epoch = &inst->store->engine->epoch;
    ctx->epoch_deadline = &inst->store->epoch_deadline;
    inst->tier_hot = nat->hot;
    inst->tier_loop = nat->loophot;
    inst->tier_auto = inst->store->engine->config.tier == WEX_TIER_AUTO;
}

/* This thread's lowest frame address for native code. */
static uintptr_t thread_stack_limit(bool det) {
    uintptr_t lo, hi;
    /* deterministic engines run on the thread's big stack (call.c) */
    if (det && wex__os_on_big_stack() && wex__os_stack_bounds(&lo, &hi))
        return lo + WEX__NATIVE_STACK_RESERVE;
    if (stack_limit) return stack_limit;
    if (wex__os_stack_bounds(&lo, &hi) && hi - lo > 2 * WEX__NATIVE_STACK_RESERVE) {
        stack_limit = lo + WEX__NATIVE_STACK_RESERVE;
    } else {
        /* unknown: allow 1 MiB below here */
        char here;
        stack_limit = (uintptr_t)&here - ((uintptr_t)1 << 20);
    }
    return stack_limit;
}

wex_error_t *wex__native_call(wex_store_t *s, wex_func_t *f, uint64_t *slots) {
    return wex__native_call_entry(s, f, f->native_entry, slots);
}

wex_error_t *wex__native_call_entry(wex_store_t *s, wex_func_t *f, void *entry, uint64_t *slots) {
    wex__nctx *ctx = &f->inst->nctx;
    s->from_native = false; /* (a native caller's call runs natively) */
    ctx->stack_limit = thread_stack_limit(s->engine->config.deterministic);
    bool guard = s->engine->config.bounds == WEX_BOUNDS_GUARD_PAGES;
    /* deterministic code counts from the frames below this entry */
    uint32_t depth = ctx->depth;
    ctx->depth = s->wdepth;
    ctx->depth_limit = s->max_depth + 1;
    sigjmp_buf jb;
    sigjmp_buf *prev = native_jmp, *prev_os = wex__os_trap_jmp;
    const wex__module *prev_mod = native_mod;
    void (*prev_hook)(uintptr_t, uintptr_t) = wex__os_fault_hook;
    int k = sigsetjmp(jb, 0);
    if (k) {
        native_jmp = prev;
        wex__os_trap_jmp = prev_os;
        wex__os_fault_hook = prev_hook;
        const wex__module *m = native_mod;
        native_mod = prev_mod;
        ctx->depth = depth;
        if (k == 1) {
            wex__os_trap_recovered();
            wex_error_t *e = wex__error_trap(WEX_TRAP_MEMORY_OOB);
            attach(e, m, &fault_bt);
            return e;
        }
        wex_error_t *e = native_err;
        native_err = NULL;
        return e;
    }
    native_jmp = &jb;
    native_mod = f->inst->module;
    if (guard) {
        wex__os_trap_jmp = &jb;
        wex__os_fault_hook = fault_hook;
    }
    ((void (*)(wex__nctx *, uint64_t *))entry)(ctx, slots);
    ctx->depth = depth;
    native_jmp = prev;
    native_mod = prev_mod;
    wex__os_trap_jmp = prev_os;
    wex__os_fault_hook = prev_hook;
    return NULL;
}
