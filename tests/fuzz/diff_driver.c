/*
 * diff_driver.c - the wex side of the differential test (tests/fuzz/diff.py).
 *
 *   diff_driver [--bounds=guard|explicit] [--tier=interp|native|auto] [--deterministic]
 *               FILE.wasm...
 *
 * For each module, made by binaryen's `wasm-opt -ttf`, print what running
 * it does, in the format tests/fuzz/diff.js prints for node:
 *   module FILE
 *   invalid | unsupported-import M.N | instantiate-trap KIND | instantiate-error
 *   call NAME              each exported function but hangLimitInitializer,
 *                          in export order, after calling hangLimitInitializer
 *                          (binaryen's fuzz harnesses do the same)
 *   log TYPE:VALUE         a call of a fuzzing-support log-* import
 *   result TYPE:VALUE...   or: trap KIND
 * Arguments are zeros. Values: i32/i64 signed decimal, f32/f64 bit patterns
 * in hex, any NaN as "nan" (payloads may differ by engine). KIND is a trap
 * class both engines can name: unreachable, memory, table, indirect,
 * divzero, overflow (wex's integer overflow and invalid conversion are one
 * class: V8 reports both float-to-int traps as "float unrepresentable"),
 * stack. --deterministic: a deterministic engine, and NaNs printed as their
 * bits (its NaNs are canonical, the same in every tier).
 */
#include "wex.h"
#include "wex_cache.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool exact_nans; /* --deterministic */

/* Print one value in the shared format. */
static void print_val(wex_val_t v) {
    switch (v.kind) {
    case WEX_I32: printf("i32:%" PRId32, v.of.i32); break;
    case WEX_I64: printf("i64:%" PRId64, v.of.i64); break;
    case WEX_F32:
        if (!exact_nans && (v.of.f32_bits & 0x7F800000u) == 0x7F800000u &&
            (v.of.f32_bits & 0x7FFFFFu))
            printf("f32:nan");
        else
            printf("f32:0x%08" PRIx32, v.of.f32_bits);
        break;
    case WEX_F64:
        if (!exact_nans && (v.of.f64_bits & 0x7FF0000000000000ull) == 0x7FF0000000000000ull &&
            (v.of.f64_bits & 0xFFFFFFFFFFFFFull))
            printf("f64:nan");
        else
            printf("f64:0x%016" PRIx64, v.of.f64_bits);
        break;
    case WEX_FUNCREF: printf("funcref:%s", v.of.funcref ? "nonnull" : "null"); break;
    case WEX_EXTERNREF: printf("externref:%s", v.of.externref ? "nonnull" : "null"); break;
    default: printf("kind%d:?", (int)v.kind); break;
    }
}

/* The trap class of an error, as diff.js names V8's. */
static const char *trap_kind(const wex_error_t *err) {
    switch (wex_error_trap_code(err)) {
    case WEX_TRAP_UNREACHABLE: return "unreachable";
    case WEX_TRAP_MEMORY_OOB: return "memory";
    case WEX_TRAP_TABLE_OOB:
    case WEX_TRAP_UNDEFINED_ELEMENT: return "table";
    case WEX_TRAP_UNINITIALIZED_ELEMENT:
    case WEX_TRAP_INDIRECT_CALL_TYPE: return "indirect";
    case WEX_TRAP_INT_DIV_ZERO: return "divzero";
    case WEX_TRAP_INT_OVERFLOW:
    case WEX_TRAP_INVALID_CONVERSION: return "overflow";
    case WEX_TRAP_CALL_STACK_EXHAUSTED: return "stack";
    case WEX_TRAP_NULL_REFERENCE: return "null";
    default: return wex_error_message(err);
    }
}

/* A fuzzing-support log-* import: print its argument. */
static wex_error_t *log_value(void *env, wex_store_t *store, const wex_val_t *args,
                              wex_val_t *results) {
    printf("log ");
    print_val(args[0]);
    printf("\n");
    return NULL;
}

/* Zero of a kind. */
static wex_val_t zero(wex_valkind_t k) {
    wex_val_t v;
    memset(&v, 0, sizeof v);
    v.kind = k;
    return v;
}

/* Call f with zero arguments and print the result or the trap. */
static void call_print(wex_store_t *s, wex_func_t *f, bool print) {
    wex_functype_t t = wex_func_type(f);
    wex_val_t *args = calloc(t.nparams + 1, sizeof *args);
    wex_val_t *res = calloc(t.nresults + 1, sizeof *res);
    if (!args || !res) abort();
    for (uint32_t i = 0; i < t.nparams; i++)
        args[i] = zero(t.params[i]);
    wex_error_t *err = wex_func_call(s, f, args, t.nparams, res, t.nresults);
    if (print) {
        if (err && wex_error_code(err) == WEX_ERR_TRAP) {
            printf("trap %s\n", trap_kind(err));
        } else if (err) {
            printf("error %s\n", wex_error_message(err));
        } else {
            printf("result");
            for (uint32_t i = 0; i < t.nresults; i++) {
                printf(" ");
                print_val(res[i]);
            }
            printf("\n");
        }
    }
    wex_error_delete(err);
    free(args);
    free(res);
}

/* Read a whole file; NULL on failure. */
static uint8_t *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(n > 0 ? (size_t)n : 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return b;
}

/* Run one module file, printing everything it does. */
static void run_file(wex_engine_t *e, const char *path) {
    printf("module %s\n", path);
    size_t len;
    uint8_t *bytes = slurp(path, &len);
    if (!bytes) {
        printf("unreadable\n");
        return;
    }
    wex_module_t *m = NULL;
    wex_error_t *err = wex_module_new(e, bytes, len, &m);
    free(bytes);
    if (err) {
        printf("invalid\n");
        wex_error_delete(err);
        return;
    }
    wex_store_t *s = wex_store_new(e);
    size_t n = wex_module_import_count(m);
    wex_extern_t *imports = calloc(n + 1, sizeof *imports);
    if (!s || !imports) abort();
    for (size_t i = 0; i < n; i++) {
        wex_importdesc_t d;
        wex_module_import(m, i, &d);
        if (d.kind != WEX_EXTERN_FUNC || strcmp(d.module, "fuzzing-support") ||
            strncmp(d.name, "log-", 4) || d.functype.nparams != 1 || d.functype.nresults) {
            printf("unsupported-import %s.%s\n", d.module, d.name);
            goto done;
        }
        imports[i].kind = WEX_EXTERN_FUNC;
        imports[i].of.func = wex_func_new(s, &d.functype, log_value, NULL, NULL);
    }
    wex_instance_t *inst = NULL;
    err = wex_instance_new(s, m, imports, n, &inst);
    if (err) {
        if (wex_error_code(err) == WEX_ERR_TRAP)
            printf("instantiate-trap %s\n", trap_kind(err));
        else
            printf("instantiate-error\n");
        wex_error_delete(err);
        goto done;
    }
    wex_extern_t hang;
    bool has_hang = wex_instance_export(inst, "hangLimitInitializer", 20, &hang) &&
                    hang.kind == WEX_EXTERN_FUNC;
    size_t ne = wex_module_export_count(m);
    for (size_t i = 0; i < ne; i++) {
        wex_exportdesc_t d;
        wex_module_export(m, i, &d);
        if (d.kind != WEX_EXTERN_FUNC || !strcmp(d.name, "hangLimitInitializer")) continue;
        wex_extern_t ex;
        if (!wex_instance_export(inst, d.name, d.name_len, &ex)) abort();
        if (has_hang) call_print(s, hang.of.func, false);
        printf("call %s\n", d.name);
        call_print(s, ex.of.func, true);
    }
done:
    fflush(stdout);
    wex_store_delete(s);
    free(imports);
    wex_module_delete(m);
}

/* Parse the bounds option, then run each file. */
int main(int argc, char **argv) {
    wex_config_t *cfg = wex_config_new();
    wex_config_set_cache(cfg, NULL);
    int i = 1;
    for (; i < argc && !strncmp(argv[i], "--", 2); i++) {
        if (!strcmp(argv[i], "--bounds=guard")) {
            wex_config_set_bounds_checks(cfg, WEX_BOUNDS_GUARD_PAGES);
        } else if (!strcmp(argv[i], "--bounds=explicit")) {
            wex_config_set_bounds_checks(cfg, WEX_BOUNDS_EXPLICIT);
        } else if (!strcmp(argv[i], "--tier=native")) {
            wex_config_set_tier(cfg, WEX_TIER_NATIVE);
        } else if (!strcmp(argv[i], "--tier=interp")) {
            wex_config_set_tier(cfg, WEX_TIER_INTERP);
        } else if (!strcmp(argv[i], "--tier=auto")) {
            wex_config_set_tier(cfg, WEX_TIER_AUTO);
        } else if (!strcmp(argv[i], "--deterministic")) {
            wex_config_set_deterministic(cfg, true);
            exact_nans = true;
        } else {
            fprintf(stderr,
                    "usage: %s [--bounds=guard|explicit] [--tier=interp|native|auto] "
                    "[--deterministic] FILE.wasm...\n",
                    argv[0]);
            return 2;
        }
    }
    wex_engine_t *e = wex_engine_new(cfg);
    if (!e) return 1;
    for (; i < argc; i++)
        run_file(e, argv[i]);
    wex_engine_delete(e);
    return 0;
}
