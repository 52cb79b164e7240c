/*
 * test_wasi.c - the WASI embedding API (wex_wasi.h): linking, captured
 * stdout, in-memory stdin, arguments, proc_exit, and link errors.
 */
#include "harness.h"
#include "wex.h"
#include "wex_wasi.h"

#include <stdint.h>

TEST(echo_captured) {
    size_t len;
    uint8_t *bytes = wex_test_read_wasm("wasi_echo.wasm", &len);
    wex_engine_t *engine = wex_engine_new(NULL);
    wex_module_t *module = NULL;
    CHECK(!wex_module_new(engine, bytes, len, &module));
    CHECK(wex_wasi_module_uses_wasi(module));
    wex_wasi_config_t *cfg = wex_wasi_config_new();
    CHECK(wex_wasi_config_arg(cfg, "echo"));
    CHECK(wex_wasi_config_arg(cfg, "hello"));
    CHECK(wex_wasi_config_stdin_bytes(cfg, "from stdin, longer than one read", 32));
    CHECK(wex_wasi_config_capture(cfg, 1));
    wex_wasi_t *wasi = NULL;
    CHECK(!wex_wasi_new(cfg, &wasi));
    wex_store_t *store = wex_store_new(engine);
    size_t n = wex_module_import_count(module);
    wex_extern_t *imports = calloc(n, sizeof *imports);
    CHECK(!wex_wasi_link(wasi, store, module, imports));
    wex_instance_t *inst = NULL;
    CHECK(!wex_instance_new(store, module, imports, n, &inst));
    CHECK(!wex_wasi_bind_memory(wasi, inst));
    int code = -1;
    CHECK(!wex_wasi_run_start(wasi, store, inst, &code));
    CHECK_EQ_INT(code, 5);
    size_t olen = 0;
    const uint8_t *out = wex_wasi_captured(wasi, 1, &olen);
    const char *want = "arg:hello\nfrom stdin, longer than one read";
    CHECK_EQ_INT(olen, strlen(want));
    CHECK(memcmp(out, want, olen) == 0);
    free(imports);
    wex_store_delete(store);
    wex_wasi_delete(wasi);
    wex_module_delete(module);
    wex_engine_delete(engine);
    free(bytes);
}

TEST(unknown_function_named) {
    size_t len;
    uint8_t *bytes = wex_test_read_wasm("wasi_unknown.wasm", &len);
    wex_engine_t *engine = wex_engine_new(NULL);
    wex_module_t *module = NULL;
    CHECK(!wex_module_new(engine, bytes, len, &module));
    wex_wasi_t *wasi = NULL;
    CHECK(!wex_wasi_new(wex_wasi_config_new(), &wasi));
    wex_store_t *store = wex_store_new(engine);
    wex_extern_t imports[1];
    wex_error_t *err = wex_wasi_link(wasi, store, module, imports);
    CHECK(err);
    CHECK_EQ_INT(wex_error_code(err), WEX_ERR_UNLINKABLE);
    CHECK_STR_CONTAINS(wex_error_message(err), "no_such_function");
    wex_error_delete(err);
    wex_store_delete(store);
    wex_wasi_delete(wasi);
    wex_module_delete(module);
    wex_engine_delete(engine);
    free(bytes);
}

TEST(bad_preopen_fails) {
    wex_wasi_config_t *cfg = wex_wasi_config_new();
    CHECK(wex_wasi_config_preopen(cfg, "/nonexistent/wex-test-dir", "/"));
    wex_wasi_t *wasi = NULL;
    wex_error_t *err = wex_wasi_new(cfg, &wasi);
    CHECK(err && !wasi);
    CHECK_STR_CONTAINS(wex_error_message(err), "wex-test-dir");
    wex_error_delete(err);
}
