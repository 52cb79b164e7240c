/*
 * native_compile.c - compiling a module to native code: the wex-llvmc
 * helper process turns the module's bytes into an object file, which is
 * loaded here (native_load.c). LLVM never enters this process.
 */
#include "native/native_internal.h"

#include "os/os.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef WEX_LIBEXEC_DIR
#define WEX_LIBEXEC_DIR "/usr/local/libexec/wex"
#endif

/* Where wex-llvmc is: $WEX_LLVMC, else beside the running executable (a
 * build tree), else the installed libexec directory. */
static void compiler_path(char *buf, size_t n) {
    const char *env = getenv("WEX_LLVMC");
    if (env && *env) {
        snprintf(buf, n, "%s", env);
        return;
    }
    char dir[4096];
    wex__os_exe_dir(dir, sizeof dir);
    if (dir[0]) {
        snprintf(buf, n, "%s/wex-llvmc", dir);
        if (access(buf, X_OK) == 0) return;
    }
    snprintf(buf, n, "%s/wex-llvmc", WEX_LIBEXEC_DIR);
}

wex_error_t *wex__native_compile(wex__module *m) {
    wex_engine_t *e = m->engine;
    char path[4200];
    compiler_path(path, sizeof path);
    char *argv[4];
    int argc = 0;
    argv[argc++] = path;
    if (e->config.bounds == WEX_BOUNDS_EXPLICIT) argv[argc++] = "--explicit-bounds";
    argv[argc++] = "-O2";
    argv[argc] = NULL;
    uint8_t *obj;
    size_t len;
    char msg[600];
    int rc = wex__os_run_filter(path, argv, m->bytes, m->len, &obj, &len, msg, sizeof msg);
    if (rc != 0) {
        if (rc > 0) wex__free(obj);
        return wex__error_at(WEX_ERR_COMPILE, -1, "native compilation failed: %s",
                             msg[0] ? msg : "no message");
    }
    wex__native *nat;
    wex_error_t *err = wex__native_load(obj, len, m->nfuncs - m->nfunc_imports, &nat);
    wex__free(obj);
    if (err) return err;
    nat->canon = wex__calloc(m->ntypes ? m->ntypes : 1, sizeof *nat->canon);
    if (!nat->canon) {
        wex__native_free(nat);
        return wex__error_nomem();
    }
    for (uint32_t i = 0; i < m->ntypes; i++)
        nat->canon[i] = m->types[i].canon;
    m->native = nat;
    return NULL;
}
