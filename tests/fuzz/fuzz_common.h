/*
 * fuzz_common.h - helpers shared by the libFuzzer harnesses (fuzz_*.c):
 * an engine fit for fuzzing, stub imports, and the pre-filter that decides
 * whether a module's code may be run without a time bound.
 *
 * Each harness is its own program; everything here is static.
 */
#ifndef WEX_FUZZ_COMMON_H
#define WEX_FUZZ_COMMON_H

#include "base/opcodes.h"
#include "module/module.h"
#include "wex.h"
#include "wex_cache.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Limits on what one fuzz input may make the runtime allocate: larger
 * imports are not made (the module is skipped), and a memory never grows
 * past the pool slot's size, so a guest cannot reach libFuzzer's RSS limit
 * by growing and filling gigabytes. */
enum {
    FUZZ_MAX_MEMORY_BYTES = 64u << 20,
    FUZZ_MAX_IMPORT_PAGES = 256,
    FUZZ_MAX_TABLE_ELEMS = 1u << 16,
    FUZZ_MAX_CALL_DEPTH = 200,
};

/* An engine for fuzzing: no compiled-module cache (a fuzzer must not fill
 * ~/.cache/wex, nor read entries back), explicit bounds checks (ASan owns
 * SIGSEGV), a small pool with a small memory per slot, a small call depth. */
static inline wex_engine_t *fuzz_engine(void) {
    wex_config_t *cfg = wex_config_new();
    if (!cfg) abort();
    wex_config_set_cache(cfg, NULL);
    wex_config_set_bounds_checks(cfg, WEX_BOUNDS_EXPLICIT);
    wex_config_set_instantiation_strategy(cfg, WEX_INSTANTIATION_POOLING);
    wex_config_set_pool_slots(cfg, 4);
    wex_config_set_pool_max_memory(cfg, FUZZ_MAX_MEMORY_BYTES);
    wex_config_set_max_call_depth(cfg, FUZZ_MAX_CALL_DEPTH);
    wex_engine_t *e = wex_engine_new(cfg);
    if (!e) abort();
    return e;
}

/* Zero of a value kind. */
static inline wex_val_t fuzz_zero(wex_valkind_t k) {
    wex_val_t v;
    memset(&v, 0, sizeof v);
    v.kind = k;
    return v;
}

/* A stub host function: every result is zero. */
static wex_error_t *fuzz_stub(void *env, wex_store_t *store, const wex_val_t *args,
                              wex_val_t *results) {
    const wex_functype_t *t = env;
    for (uint32_t i = 0; i < t->nresults; i++)
        results[i] = fuzz_zero(t->results[i]);
    return NULL;
}

/* Satisfy every import of m with a stub of its type: a function returning
 * zeros, a fresh memory, table or global. Returns false (the module is then
 * not run) when one cannot be made or would be too large. */
static inline bool fuzz_stub_imports(wex_store_t *s, const wex_module_t *m, wex_extern_t *out,
                                     wex_functype_t *types) {
    size_t n = wex_module_import_count(m);
    for (size_t i = 0; i < n; i++) {
        wex_importdesc_t d;
        wex_module_import(m, i, &d);
        wex_error_t *err = NULL;
        out[i].kind = d.kind;
        switch (d.kind) {
        case WEX_EXTERN_FUNC:
            /* the type's arrays live in the module, which outlives the store */
            types[i] = d.functype;
            out[i].of.func = wex_func_new(s, &types[i], fuzz_stub, &types[i], NULL);
            if (!out[i].of.func) return false;
            break;
        case WEX_EXTERN_MEMORY:
            if (d.limits.min > FUZZ_MAX_IMPORT_PAGES) return false;
            err = wex_memory_new(s, d.limits, &out[i].of.memory);
            break;
        case WEX_EXTERN_TABLE:
            if (d.limits.min > FUZZ_MAX_TABLE_ELEMS) return false;
            err = wex_table_new(s, d.valkind, d.limits, fuzz_zero(d.valkind), &out[i].of.table);
            break;
        case WEX_EXTERN_GLOBAL:
            err = wex_global_new(s, fuzz_zero(d.valkind), d.mutable_, &out[i].of.global);
            break;
        }
        if (err) {
            wex_error_delete(err);
            return false;
        }
    }
    return true;
}

/*
 * Is every run of this module's code bounded? wex has no fuel or
 * interruption yet, and a timer that longjmps out of the interpreter would
 * leave the store broken, so the run harnesses only run modules whose
 * execution must end soon, and still compile every other one:
 *   - no `loop` in any body (a branch can then only go forward);
 *   - no memory.atomic.wait (a lone thread waiting on shared memory sleeps
 *     for as long as the guest asks);
 *   - no cycle among the defined functions through call and call_indirect
 *     (call_indirect is taken to reach every defined function), so calls
 *     nest at most nfuncs deep and no recursion repeats.
 * Every call then does work bounded by the code's size to the power of the
 * call graph's depth; libFuzzer's -timeout catches what little is left (a
 * deep graph of functions that each call the next many times).
 * The bodies are walked with the runtime's own opcode table and immediate
 * skipper on a module the runtime has already validated.
 */
static inline bool fuzz_runs_bounded(const wex_module_t *pub) {
    const wex__module *m = (const wex__module *)pub;
    uint32_t nf = m->ncodes, base = m->nfunc_imports;
    if (nf == 0) return true;
    /* adjacency as a bit matrix: fine for fuzz-sized modules */
    if (nf > 4096) return false;
    uint8_t *adj = calloc((size_t)nf * nf, 1);
    uint8_t *state = calloc(nf, 1);
    uint32_t *stack = malloc(sizeof(uint32_t) * (nf + 1));
    uint32_t *iter = malloc(sizeof(uint32_t) * (nf + 1));
    bool ok = adj && state && stack && iter;
    for (uint32_t f = 0; f < nf && ok; f++) {
        const wex__code *c = &m->codes[f];
        wex__reader r;
        wex__reader_init(&r, m->bytes + c->expr_off, c->off + c->len - c->expr_off, m->bytes);
        while (ok && wex__reader_left(&r) > 0 && !r.err) {
            uint8_t b;
            uint32_t code, sub;
            wex__read_u8(&r, &b);
            code = b;
            if (b == 0xFC || b == 0xFE) {
                if (!wex__read_u32(&r, &sub)) break;
                code = (uint32_t)b << 8 | (sub & 0xFF);
                if (sub > 0xFF) ok = false;
            }
            const wex__opinfo *op = wex__op_lookup(code);
            if (!op) {
                ok = false; /* validated code has none: be safe */
                break;
            }
            if (code == 0x03 || code == 0xFE01 || code == 0xFE02) {
                ok = false;
                break;
            }
            if (code == 0x10) {
                uint32_t callee;
                if (!wex__read_u32(&r, &callee)) break;
                if (callee >= base && callee - base < nf) adj[(size_t)f * nf + callee - base] = 1;
                continue;
            }
            if (code == 0x11) memset(adj + (size_t)f * nf, 1, nf);
            wex__op_skip_imm(&r, op->imm);
        }
        if (r.err) ok = false;
    }
    /* cycle search: iterative depth-first, 1 = on the path, 2 = done */
    for (uint32_t root = 0; root < nf && ok; root++) {
        if (state[root]) continue;
        uint32_t sp = 0;
        stack[sp] = root;
        iter[sp] = 0;
        state[root] = 1;
        while (ok) {
            uint32_t v = stack[sp];
            if (iter[sp] == nf) {
                state[v] = 2;
                if (sp == 0) break;
                sp--;
                continue;
            }
            uint32_t w = iter[sp]++;
            if (!adj[(size_t)v * nf + w]) continue;
            if (state[w] == 1)
                ok = false;
            else if (state[w] == 0) {
                state[w] = 1;
                sp++;
                stack[sp] = w;
                iter[sp] = 0;
            }
        }
    }
    free(adj);
    free(state);
    free(stack);
    free(iter);
    return ok;
}

/* Call every exported function with zero arguments; traps are fine. */
static inline void fuzz_call_exports(wex_store_t *s, wex_instance_t *inst, const wex_module_t *m) {
    size_t n = wex_module_export_count(m);
    for (size_t i = 0; i < n; i++) {
        wex_exportdesc_t d;
        wex_module_export(m, i, &d);
        if (d.kind != WEX_EXTERN_FUNC) continue;
        wex_extern_t ex;
        if (!wex_instance_export(inst, d.name, d.name_len, &ex)) abort(); /* it must exist */
        wex_functype_t t = wex_func_type(ex.of.func);
        wex_val_t args[16], res[16];
        wex_val_t *a = t.nparams <= 16 ? args : calloc(t.nparams, sizeof *a);
        wex_val_t *rs = t.nresults <= 16 ? res : calloc(t.nresults, sizeof *rs);
        if (!a || !rs) abort();
        for (uint32_t k = 0; k < t.nparams; k++)
            a[k] = fuzz_zero(t.params[k]);
        wex_error_t *err = wex_func_call(s, ex.of.func, a, t.nparams, rs, t.nresults);
        wex_error_delete(err);
        if (a != args) free(a);
        if (rs != res) free(rs);
    }
}

#endif
