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
    char *argv[6];
    int argc = 0;
    argv[argc++] = path;
    argv[argc++] = "--build";
    argv[argc++] = WEX__NATIVE_BUILD;
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
    wex_error_t *err = wex__native_attach(m, obj, len);
    wex__free(obj);
    return err;
}

wex_error_t *wex__native_attach(wex__module *m, const uint8_t *obj, size_t len) {
    wex__native *nat;
    wex_error_t *err = wex__native_load(obj, len, m->nfuncs - m->nfunc_imports, &nat);
    if (err) return err;
    nat->canon = wex__calloc(m->ntypes ? m->ntypes : 1, sizeof *nat->canon);
    nat->obj = wex__malloc(len ? len : 1);
    if (!nat->canon || !nat->obj) {
        wex__native_free(nat);
        return wex__error_nomem();
    }
    memcpy(nat->obj, obj, len);
    nat->obj_len = len;
    for (uint32_t i = 0; i < m->ntypes; i++)
        nat->canon[i] = m->types[i].canon;
    m->native = nat;
    return NULL;
}

/* The CPU's identity and features (x86-64: cpuid leaves 0, 1 and 7), which
 * the compiler targets ("host" CPU): code made for one CPU is not run on
 * another. */
static void cpu_key(char *buf, size_t n) {
#if defined(__x86_64__)
    unsigned b = 0, c = 0, d = 0, max;
    __asm__ volatile("cpuid" : "=a"(max), "=b"(b), "=c"(c), "=d"(d) : "a"(0), "c"(0));
    unsigned vendor[3] = {b, d, c};
    unsigned l1[4] = {0}, l7[4] = {0};
    __asm__ volatile("cpuid" : "=a"(l1[0]), "=b"(l1[1]), "=c"(l1[2]), "=d"(l1[3]) : "a"(1), "c"(0));
    if (max >= 7)
        __asm__ volatile("cpuid"
                         : "=a"(l7[0]), "=b"(l7[1]), "=c"(l7[2]), "=d"(l7[3])
                         : "a"(7), "c"(0));
    /* leaf 1 ebx holds the APIC id and such, which differ between cores */
    snprintf(buf, n, "%.12s %08x %08x %08x %08x %08x", (const char *)vendor, l1[0], l1[2], l1[3],
             l7[1], l7[2]);
#else
    snprintf(buf, n, "unknown");
#endif
}

void wex__native_key(char *buf, size_t n) {
    char cpu[128];
    cpu_key(cpu, sizeof cpu);
    snprintf(buf, n, "native %s; cpu %s", WEX__NATIVE_BUILD, cpu);
}
