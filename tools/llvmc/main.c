/*
 * wex-llvmc - the native tier's compiler, run by the runtime as a helper
 * process (src/native/native_compile.c): a WebAssembly module on standard
 * input, an ELF relocatable object of its functions on standard output.
 * It is the only program that links LLVM, so that neither `wex` nor an
 * embedder's process loads LLVM, its static constructors or its C++
 * runtime, and a crash in the compiler is a failed compilation, not a
 * crashed host.
 *
 *   wex-llvmc [--build ID] [--explicit-bounds] [-O0|-O1|-O2|-O3] [--cpu NAME --features F]
 *             [--funcs=LIST] [--osr=LIST] < in.wasm > out.o
 *
 * --build: the runtime's WEX__NATIVE_BUILD; a compiler from another build
 * refuses (its code would not match the runtime's contract).
 *
 * --funcs: only these defined functions ("3,7-12,20", ascending indices
 * counted without imports); calls to the others go through the module's
 * table of native code, or the runtime when they have none. With --funcs=
 * (empty) only --osr's entries are made.
 * --osr: entries into these functions' outermost loops, wex_p<i>_<offset>
 * (offset: the loop operator's in the module), for the interpreter's
 * LOOP_HEAD (on-stack replacement).
 *
 * Exit status 0 with the object; 1 with a message on standard error.
 */
#include "decode/decode.h"
#include "llvm/llvm.h"
#include "runtime/runtime.h"
#include "valid/valid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

/* Read all of fd 0. */
static uint8_t *read_all(size_t *len) {
    size_t cap = 1 << 16, n = 0;
    uint8_t *b = malloc(cap);
    for (;;) {
        if (!b) return NULL;
        ssize_t r = read(0, b + n, cap - n);
        if (r < 0) {
            free(b);
            return NULL;
        }
        if (r == 0) break;
        n += (size_t)r;
        if (n == cap) b = realloc(b, cap *= 2);
    }
    *len = n;
    return b;
}

static bool write_all(const uint8_t *p, size_t n) {
    while (n) {
        ssize_t w = write(1, p, n);
        if (w <= 0) return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* A function list ("3,7-12,20", ascending defined indices below nd) as
 * one flag per function; NULL (after a message) if malformed. */
static uint8_t *parse_list(const char *list, uint32_t nd) {
    uint8_t *want = calloc(nd + 1, 1);
    const char *p = list;
    while (want && *p) {
        char *end;
        unsigned long a = strtoul(p, &end, 10), b = a;
        if (end == p) break;
        if (*end == '-') {
            p = end + 1;
            b = strtoul(p, &end, 10);
            if (end == p) break;
        }
        if (a > b || b >= nd) break;
        for (unsigned long k = a; k <= b; k++)
            want[k] = 1;
        p = end;
        if (*p == ',')
            p++;
        else if (*p)
            break;
    }
    if (!want || *p) {
        fprintf(stderr, "wex-llvmc: bad function list at '%.40s'\n", p);
        free(want);
        return NULL;
    }
    return want;
}

int main(int argc, char **argv) {
    /* The runtime that started us waits for the object; if it dies (a
     * killed test, a host that exited), stop rather than compile for no one. */
    pid_t parent = getppid();
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) return 1;
    wex__llvm_opts o;
    memset(&o, 0, sizeof o);
    o.opt_level = 2;
    const char *funcs = NULL, *osrs = NULL;
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--funcs=", 8) == 0)
            funcs = argv[i] + 8;
        else if (strncmp(argv[i], "--osr=", 6) == 0)
            osrs = argv[i] + 6;
        else if (strcmp(argv[i], "--explicit-bounds") == 0)
            o.explicit_bounds = true;
        else if (argv[i][0] == '-' && argv[i][1] == 'O' && argv[i][2] >= '0' && argv[i][2] <= '3')
            o.opt_level = (unsigned)(argv[i][2] - '0');
        else if (strcmp(argv[i], "--build") == 0 && i + 1 < argc) {
            if (strcmp(argv[++i], WEX__NATIVE_BUILD) != 0) {
                fprintf(stderr, "wex-llvmc: built for '%s', asked for '%s'\n", WEX__NATIVE_BUILD,
                        argv[i]);
                return 1;
            }
        } else if (strcmp(argv[i], "--cpu") == 0 && i + 1 < argc)
            o.cpu = argv[++i];
        else if (strcmp(argv[i], "--features") == 0 && i + 1 < argc)
            o.features = argv[++i];
        else {
            fprintf(stderr, "wex-llvmc: unknown option '%s'\n", argv[i]);
            return 2;
        }
    }
    o.layout.global_val = offsetof(struct wex_global, val);
    o.layout.func_canon = offsetof(struct wex_func, canon);
    o.layout.func_native = offsetof(struct wex_func, native);
    o.layout.func_nctx = offsetof(struct wex_func, nctx);
    o.layout.table_elems = offsetof(struct wex_table, elems);
    o.layout.table_size = offsetof(struct wex_table, size);

    size_t len;
    uint8_t *bytes = read_all(&len);
    if (!bytes) {
        fprintf(stderr, "wex-llvmc: cannot read the module\n");
        return 1;
    }
    wex__module *m = wex__calloc(1, sizeof *m);
    if (!m) return 1;
    m->bytes = bytes;
    m->len = len;
    wex_error_t *err = wex__decode(m);
    if (!err) err = wex__validate(m);
    if (err) {
        fprintf(stderr, "wex-llvmc: %s\n", wex_error_message(err));
        return 1;
    }
    uint32_t nd = m->nfuncs - m->nfunc_imports;
    uint8_t *want = NULL, *osr = NULL;
    if ((funcs && !(want = parse_list(funcs, nd))) || (osrs && !(osr = parse_list(osrs, nd))))
        return 2;
    o.want = want;
    o.osr = osr;
    uint8_t *obj;
    size_t olen;
    char msg[512];
    if (!wex__llvm_compile(m, &o, &obj, &olen, msg, sizeof msg)) {
        fprintf(stderr, "wex-llvmc: %s\n", msg);
        free(want);
        free(osr);
        wex__module_free(m);
        wex__free(m);
        return 1;
    }
    bool ok = write_all(obj, olen);
    if (!ok) fprintf(stderr, "wex-llvmc: cannot write the object\n");
    /* freed, so that a leak checker (the sanitizer builds) sees none */
    free(obj);
    free(want);
    free(osr);
    wex__module_free(m);
    wex__free(m);
    return ok ? 0 : 1;
}
