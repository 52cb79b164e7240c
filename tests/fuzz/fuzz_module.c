/*
 * fuzz_module.c - libFuzzer: bytes -> wex_module_new (decode, validate,
 * translate). Any input must end in a module or an error with a message;
 * a module's description (imports, exports, names) must be readable.
 */
#include "fuzz_common.h"

#include <stdio.h>

static wex_engine_t *engine;

/* One engine for the whole run, made once. */
int LLVMFuzzerInitialize(int *argc, char ***argv) {
    engine = fuzz_engine();
    return 0;
}

/* Compile the input; on success walk the module's API descriptions. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    wex_module_t *m = NULL;
    wex_error_t *err = wex_module_new(engine, data, size, &m);
    if (err) {
        if (m) abort(); /* an error never comes with a module */
        const char *msg = wex_error_message(err);
        if (!msg || !*msg) abort();
        wex_errcode_t code = wex_error_code(err);
        if (code != WEX_ERR_MALFORMED && code != WEX_ERR_INVALID && code != WEX_ERR_UNSUPPORTED &&
            code != WEX_ERR_NOMEM) {
            fprintf(stderr, "unexpected error code %s: %s\n", wex_errcode_name(code), msg);
            abort();
        }
        wex_error_delete(err);
        return 0;
    }
    /* a module's own checks agree with the full compile */
    err = wex_module_validate(engine, data, size);
    if (err) {
        fprintf(stderr, "compiled, but validate says: %s\n", wex_error_message(err));
        abort();
    }
    size_t n = wex_module_import_count(m);
    for (size_t i = 0; i < n; i++) {
        wex_importdesc_t d;
        wex_module_import(m, i, &d);
        if (strlen(d.module) > d.module_len || strlen(d.name) > d.name_len) abort();
    }
    n = wex_module_export_count(m);
    for (size_t i = 0; i < n; i++) {
        wex_exportdesc_t d;
        wex_module_export(m, i, &d);
        if (strlen(d.name) > d.name_len) abort();
        if (d.kind == WEX_EXTERN_FUNC) (void)wex_module_func_name(m, d.index);
    }
    wex_module_delete(m);
    return 0;
}
