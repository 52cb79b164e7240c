/*
 * harness.c - runs each registered test in a forked child with an alarm.
 */
#include "harness.h"
#include "native/native_internal.h" /* wex__native_available */
#include "wex.h"

#include <signal.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_TESTS      512
#define TEST_TIMEOUT_S 60

static struct {
    const char *name;
    wex_test_fn fn;
} tests[MAX_TESTS];
static int ntests;

void wex_test_register(const char *name, wex_test_fn fn) {
    if (ntests < MAX_TESTS) {
        tests[ntests].name = name;
        tests[ntests].fn = fn;
        ntests++;
    }
}

void wex_test_fail(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "%s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    _exit(1);
}

unsigned char *wex_test_read_wasm(const char *name, size_t *len) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", WEX_TEST_WASM_DIR, name);
    FILE *f = fopen(path, "rb");
    if (!f) wex_test_fail(__FILE__, __LINE__, "cannot open %s (was wat2wasm found?)", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)(n > 0 ? n : 1));
    if (!b || n < 0 || fread(b, 1, (size_t)n, f) != (size_t)n)
        wex_test_fail(__FILE__, __LINE__, "cannot read %s", path);
    fclose(f);
    *len = (size_t)n;
    return b;
}

void wex_test_instance_new(const char *name, int bounds, wex_test_instance *t) {
    wex_config_t *cfg = wex_config_new();
    wex_config_set_bounds_checks(cfg, (wex_bounds_t)bounds);
    t->engine = wex_engine_new(cfg);
    if (!t->engine) wex_test_fail(__FILE__, __LINE__, "no engine");
    size_t len;
    unsigned char *bytes = wex_test_read_wasm(name, &len);
    wex_error_t *err = wex_module_new(t->engine, bytes, len, &t->module);
    free(bytes);
    if (err) wex_test_fail(__FILE__, __LINE__, "%s: %s", name, wex_error_message(err));
    t->store = wex_store_new(t->engine);
    err = wex_instance_new(t->store, t->module, NULL, 0, &t->inst);
    if (err) wex_test_fail(__FILE__, __LINE__, "%s: %s", name, wex_error_message(err));
}

void wex_test_instance_free(wex_test_instance *t) {
    wex_store_delete(t->store);
    wex_module_delete(t->module);
    wex_engine_delete(t->engine);
}

struct wex_func *wex_test_export_func(struct wex_instance *inst, const char *name) {
    wex_extern_t ex;
    if (!wex_instance_export(inst, name, strlen(name), &ex) || ex.kind != WEX_EXTERN_FUNC)
        wex_test_fail(__FILE__, __LINE__, "no function export `%s`", name);
    return ex.of.func;
}

int wex_test_native_rows(void) {
    const char *tier = getenv("WEX_TIER");
    if (tier && !strcmp(tier, "interp")) {
        printf("  (WEX_TIER=interp: native rows skipped)\n");
        return 0;
    }
    if (wex__native_available()) return 1;
    printf("  (no wex-llvmc: native rows skipped)\n");
    return 0;
}

static int run_one(int i) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) return 0;
    if (pid == 0) {
        alarm(TEST_TIMEOUT_S);
        tests[i].fn();
        fflush(stdout);
        _exit(0);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0) {
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 1;
    if (WIFSIGNALED(status))
        fprintf(stderr, "  (killed by signal %d%s)\n", WTERMSIG(status),
                WTERMSIG(status) == SIGALRM ? ": timeout" : "");
    return 0;
}

int main(int argc, char **argv) {
    if (argc > 1) { /* run named tests in process */
        int rc = 0;
        for (int a = 1; a < argc; a++) {
            int found = 0;
            for (int i = 0; i < ntests; i++)
                if (!strcmp(tests[i].name, argv[a])) {
                    tests[i].fn();
                    printf("ok %s\n", tests[i].name);
                    found = 1;
                }
            if (!found) {
                fprintf(stderr, "no test named %s\n", argv[a]);
                rc = 2;
            }
        }
        return rc;
    }
    /* $WEX_TEST_SKIP: names (space-separated) not to run here, counted as
     * skipped (tests/suites/memcheck.sh: what valgrind cannot run) */
    const char *skip = getenv("WEX_TEST_SKIP");
    int passed = 0, failed = 0, skipped = 0;
    for (int i = 0; i < ntests; i++) {
        size_t nl = strlen(tests[i].name);
        const char *p = skip;
        while (p && (p = strstr(p, tests[i].name)) != NULL &&
               !((p == skip || p[-1] == ' ') && (p[nl] == ' ' || p[nl] == 0)))
            p += nl;
        if (p) {
            printf("skip %s\n", tests[i].name);
            skipped++;
            continue;
        }
        if (run_one(i)) {
            printf("ok   %s\n", tests[i].name);
            passed++;
        } else {
            printf("FAIL %s\n", tests[i].name);
            failed++;
        }
    }
    if (skipped)
        printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    else
        printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
