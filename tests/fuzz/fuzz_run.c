/*
 * fuzz_run.c - libFuzzer: bytes -> module; when it compiles and every run of
 * it is bounded (fuzz_runs_bounded in fuzz_common.h: no loop, no atomic
 * wait, no cycle of calls), instantiate it with stub imports and call every
 * exported function with zero arguments. Traps and link errors are fine;
 * crashes, sanitizer reports and hangs are not.
 */
#include "fuzz_common.h"

#include <stdio.h>

static wex_engine_t *engine;
static unsigned long compiled, bounded, instantiated;

/* At exit: how much of the input reached each stage (run.sh prints it). */
static void report(void) {
    fprintf(stderr,
            "fuzz_run: %lu modules compiled, %lu of them bounded, %lu instantiated and run\n",
            compiled, bounded, instantiated);
}

/* One engine for the whole run. */
int LLVMFuzzerInitialize(int *argc, char ***argv) {
    engine = fuzz_engine();
    atexit(report);
    return 0;
}

/* Compile, and run what may be run. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    wex_module_t *m = NULL;
    wex_error_t *err = wex_module_new(engine, data, size, &m);
    if (err) {
        wex_error_delete(err);
        return 0;
    }
    compiled++;
    if (!fuzz_runs_bounded(m)) {
        wex_module_delete(m);
        return 0;
    }
    wex_store_t *s = wex_store_new(engine);
    if (!s) abort();
    size_t n = wex_module_import_count(m);
    wex_extern_t *imports = calloc(n + 1, sizeof *imports);
    wex_functype_t *types = calloc(n + 1, sizeof *types);
    if (!imports || !types) abort();
    wex_instance_t *inst = NULL;
    bounded++;
    if (fuzz_stub_imports(s, m, imports, types)) {
        err = wex_instance_new(s, m, imports, n, &inst);
        if (err) {
            /* stubs have the right types: linking itself must not fail */
            if (wex_error_code(err) == WEX_ERR_UNLINKABLE) {
                fprintf(stderr, "stub imports refused: %s\n", wex_error_message(err));
                abort();
            }
            wex_error_delete(err);
            inst = NULL;
        }
    }
    if (inst) {
        instantiated++;
        fuzz_call_exports(s, inst, m);
    }
    wex_store_delete(s);
    free(imports);
    free(types);
    wex_module_delete(m);
    return 0;
}
