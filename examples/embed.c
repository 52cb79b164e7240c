/*
 * embed.c - the smallest embedding of wex: a module (its bytes below) that
 * imports a host function, instantiated and called from C.
 *
 *   (module
 *     (import "env" "print" (func $print (param i32)))
 *     (func (export "run") (param i32) (result i32)
 *       (call $print (i32.mul (local.get 0) (i32.const 2)))
 *       (i32.add (local.get 0) (i32.const 1))))
 *
 * Build against an installed wex:
 *   cc embed.c $(pkg-config --cflags --libs wex) -o embed
 * or with CMake: find_package(wex) and target_link_libraries(embed wex::wex).
 * Prints "print: 42" then "run(21) = 22"; exit status 0.
 */
#include <wex.h>

#include <stdio.h>

static const uint8_t module_bytes[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x0a, 0x02, 0x60, 0x01, 0x7f,
    0x00, 0x60, 0x01, 0x7f, 0x01, 0x7f, 0x02, 0x0d, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x05,
    0x70, 0x72, 0x69, 0x6e, 0x74, 0x00, 0x00, 0x03, 0x02, 0x01, 0x01, 0x07, 0x07, 0x01,
    0x03, 0x72, 0x75, 0x6e, 0x00, 0x01, 0x0a, 0x10, 0x01, 0x0e, 0x00, 0x20, 0x00, 0x41,
    0x02, 0x6c, 0x10, 0x00, 0x20, 0x00, 0x41, 0x01, 0x6a, 0x0b};

/* The host function env.print: (i32) -> (). */
static wex_error_t *print(void *env, wex_store_t *store, const wex_val_t *args,
                          wex_val_t *results) {
    (void)env, (void)store, (void)results;
    printf("print: %d\n", args[0].of.i32);
    return NULL;
}

/* Print err's message, free it, and return 1. */
static int fail(const char *what, wex_error_t *err) {
    fprintf(stderr, "%s: %s\n", what, wex_error_message(err));
    wex_error_delete(err);
    return 1;
}

int main(void) {
    wex_engine_t *engine = wex_engine_new(NULL); /* the default configuration */
    if (!engine) return 1;
    int status = 1;
    wex_module_t *module = NULL;
    wex_store_t *store = NULL;
    wex_error_t *err = wex_module_new(engine, module_bytes, sizeof module_bytes, &module);
    if (err) {
        status = fail("module", err);
        goto out;
    }
    store = wex_store_new(engine);
    static const wex_valkind_t i32[1] = {WEX_I32};
    wex_functype_t print_type = {1, 0, i32, NULL};
    wex_extern_t imports[1];
    imports[0].kind = WEX_EXTERN_FUNC;
    imports[0].of.func = wex_func_new(store, &print_type, print, NULL, NULL);
    wex_instance_t *instance;
    if ((err = wex_instance_new(store, module, imports, 1, &instance))) {
        status = fail("instantiate", err);
        goto out;
    }
    wex_extern_t run;
    if (!wex_instance_export(instance, "run", 3, &run) || run.kind != WEX_EXTERN_FUNC) {
        fprintf(stderr, "no function export `run`\n");
        goto out;
    }
    wex_val_t arg = wex_val_i32(21), result;
    if ((err = wex_func_call(store, run.of.func, &arg, 1, &result, 1))) {
        status = fail("run", err);
        goto out;
    }
    printf("run(21) = %d\n", result.of.i32);
    status = 0;
out:
    wex_store_delete(store); /* instances and host functions go with their store */
    wex_module_delete(module);
    wex_engine_delete(engine);
    return status;
}
