/*
 * call.c - calls across the API boundary: host -> WebAssembly through
 * wex_func_call, WebAssembly -> host through wex__host_call, and the value
 * conversions between wex_val_t and 64-bit slots.
 */
#include "interp/interp.h"
#include "native/native_internal.h"
#include "os/os.h"
#include "runtime/runtime.h"

/* Nested host->wasm->host->... entries each use native stack; bound them
 * (on a big stack the call-depth limit does). */
#define WEX__MAX_NESTED_ENTRIES 1000

uint64_t wex__val_to_slot(const wex_val_t *v) {
    switch (v->kind) {
    case WEX_I32: return (uint32_t)v->of.i32;
    case WEX_I64: return (uint64_t)v->of.i64;
    case WEX_F32: return v->of.f32_bits;
    case WEX_F64: return v->of.f64_bits;
    case WEX_FUNCREF: return (uint64_t)(uintptr_t)v->of.funcref;
    case WEX_EXTERNREF: return (uint64_t)(uintptr_t)v->of.externref;
    default: return 0;
    }
}

wex_val_t wex__slot_to_val(uint64_t s, uint8_t type) {
    wex_val_t v;
    v.kind = (wex_valkind_t)type;
    v.of.i64 = 0;
    switch (type) {
    case WEX__T_I32: v.of.i32 = (int32_t)(uint32_t)s; break;
    case WEX__T_I64: v.of.i64 = (int64_t)s; break;
    case WEX__T_F32: v.of.f32_bits = (uint32_t)s; break;
    case WEX__T_F64: v.of.f64_bits = s; break;
    case WEX__T_FUNCREF: v.of.funcref = (wex_func_t *)(uintptr_t)s; break;
    case WEX__T_EXTERNREF: v.of.externref = (void *)(uintptr_t)s; break;
    default: break;
    }
    return v;
}

static __thread unsigned nested_entries;

typedef struct {
    wex_store_t *s;
    wex_func_t *f;
    uint64_t *slots;
    wex_error_t *err;
} big_call;

static void call_big(void *arg) {
    big_call *c = arg;
    c->err = wex__call(c->s, c->f, c->slots);
}

/* Run f with its arguments in slots (at the store's stack top). */
wex_error_t *wex__call(wex_store_t *s, wex_func_t *f, uint64_t *slots) {
    if (!f->inst) return wex__host_call(s, f, slots);
    /* Deterministic engines run on a big stack, so that only the call-depth
     * count ends a recursion, in any tier and through host functions. */
    if (s->engine->config.deterministic && !wex__os_on_big_stack() && wex__os_big_stacks()) {
        big_call c = {s, f, slots, NULL};
        size_t bytes = ((size_t)s->max_depth + 1) * WEX__DET_MACHINE_STACK_PER_FRAME + (1u << 20);
        if (wex__os_run_on_big_stack(bytes, call_big, &c)) return c.err;
    }
    if (nested_entries >= WEX__MAX_NESTED_ENTRIES && !wex__os_on_big_stack())
        return wex__error_trap(WEX_TRAP_CALL_STACK_EXHAUSTED);
    nested_entries++;
    uint64_t *saved_top = s->stack_top;
    wex_error_t *err;
    if (f->native_entry) {
        err = wex__native_call(s, f, slots);
    } else if (f->inst->tier_auto) { /* timed, for the automatic tier */
        wex__tier_run_begin(f->inst);
        err = wex__interp_run(s, f, slots);
        wex__tier_run_end(f->inst);
    } else {
        err = wex__interp_run(s, f, slots);
    }
    s->stack_top = saved_top;
    nested_entries--;
    return err;
}

wex_error_t *wex_func_call(wex_store_t *s, wex_func_t *f, const wex_val_t *args, size_t nargs,
                           wex_val_t *results, size_t nresults) {
    const wex__functype *t = f->type;
    if (nargs != t->nparams || nresults != t->nresults)
        return wex__error_at(WEX_ERR_ARGUMENT, -1,
                             "wrong number of arguments or results: want %u and %u", t->nparams,
                             t->nresults);
    for (size_t i = 0; i < nargs; i++)
        if ((uint8_t)args[i].kind != t->types[i])
            return wex__error_at(WEX_ERR_ARGUMENT, -1, "argument %zu has the wrong type", i);
    wex_error_t *err = wex__store_stack(s);
    if (err) return err;
    uint64_t *slots = s->stack_top;
    size_t need = nargs > nresults ? nargs : nresults;
    if (slots + need > s->stack_end) return wex__error_trap(WEX_TRAP_CALL_STACK_EXHAUSTED);
    for (size_t i = 0; i < nargs; i++)
        slots[i] = wex__val_to_slot(&args[i]);
    err = wex__call(s, f, slots);
    if (err) return err;
    for (size_t i = 0; i < nresults; i++)
        results[i] = wex__slot_to_val(slots[i], t->types[t->nparams + i]);
    return NULL;
}

/*
 * WebAssembly calls the host. The arguments are copied out before the
 * callback runs, and the stack top moves past them, so a callback that calls
 * back into WebAssembly builds its frames above.
 */
wex_error_t *wex__host_call(wex_store_t *s, wex_func_t *f, uint64_t *slots) {
    const wex__functype *t = f->type;
    wex_val_t small[16];
    wex_val_t *vals = small;
    uint32_t n = t->nparams > t->nresults ? t->nparams : t->nresults;
    if (n * 2 > 16) {
        vals = wex__malloc(2 * (size_t)n * sizeof *vals);
        if (!vals) return wex__error_nomem();
    }
    wex_val_t *args = vals, *res = vals + n;
    for (uint32_t i = 0; i < t->nparams; i++)
        args[i] = wex__slot_to_val(slots[i], t->types[i]);
    for (uint32_t i = 0; i < t->nresults; i++) {
        res[i].kind = (wex_valkind_t)t->types[t->nparams + i];
        res[i].of.i64 = 0;
    }
    uint64_t *saved_top = s->stack_top;
    s->stack_top = slots + n;
    wex_error_t *err = f->callback(f->env, s, args, res);
    s->stack_top = saved_top;
    if (!err) {
        for (uint32_t i = 0; i < t->nresults; i++)
            slots[i] = wex__val_to_slot(&res[i]);
    }
    if (vals != small) wex__free(vals);
    return err;
}
