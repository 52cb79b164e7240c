/*
 * wex-llvmc - the native tier's compiler, run by the runtime as a helper
 * process (src/native/native_compile.c): a WebAssembly module on standard
 * input, an ELF relocatable object of its functions on standard output.
 * It is the only program that links LLVM, so that neither `wex` nor an
 * embedder's process loads LLVM, its static constructors or its C++
 * runtime, and a crash in the compiler is a failed compilation, not a
 * crashed host.
 *
 *   wex-llvmc [--build ID] [--explicit-bounds] [--deterministic] [--epochs] [-O0|-O1|-O2|-O3]
 *             [--cpu NAME --features F]
 *             [--funcs=LIST] [--osr=LIST] < in.wasm > out.o
 *   wex-llvmc [options] --serve=IDLE_MS
 *
 * --build: the runtime's WEX__NATIVE_BUILD; a compiler from another build
 * refuses (its code would not match the runtime's contract).
 *
 * --funcs: only these defined functions ("3,7-12,20", ascending indices
 * counted without imports); calls to the others go through the module's
 * table of native code, or the runtime when they have none. With --funcs=
 * (empty) only --osr's entries are made.
 * --osr: entries into these functions' loops, wex_p<i>_<offset>
 * (offset: the loop operator's in the module), for the interpreter's
 * LOOP_HEAD (on-stack replacement).
 *
 * Exit status 0 with the object; 1 with a message on standard error.
 *
 * --serve: a compiler that stays, for the automatic tier's batches (the
 * module is decoded once, LLVM set up once). Every message either way is a
 * 64-bit little-endian length and that many bytes. In: the module, then
 * requests "FUNCS;OSR" (two lists as above). Out: one reply to each, a
 * status byte ('0': then the object, or nothing for the module; '1': then
 * a message). It exits 0 at the end of its input, or when IDLE_MS pass
 * with no request (the runtime starts another when it needs one).
 */
#include "decode/decode.h"
#include "llvm/llvm.h"
#include "runtime/runtime.h"
#include "valid/valid.h"
#include "native_source_id.h" /* generated: WEX__NATIVE_SOURCE_ID */

#include <poll.h>
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

/* Read exactly n bytes of fd 0; false at its end or on an error. */
static bool read_n(uint8_t *p, size_t n) {
    while (n) {
        ssize_t r = read(0, p, n);
        if (r <= 0) return false;
        p += r;
        n -= (size_t)r;
    }
    return true;
}

/* One message of --serve's input (its bytes NUL-terminated), or NULL at
 * the end of the input. */
static uint8_t *read_msg(size_t *len) {
    uint8_t h[8];
    if (!read_n(h, 8)) return NULL;
    uint64_t n = 0;
    for (int k = 7; k >= 0; k--)
        n = n << 8 | h[k];
    if (n > ((uint64_t)1 << 40)) return NULL;
    uint8_t *b = malloc((size_t)n + 1);
    if (!b || !read_n(b, (size_t)n)) {
        free(b);
        return NULL;
    }
    b[n] = 0;
    *len = (size_t)n;
    return b;
}

/* One reply of --serve: status byte and payload, framed. */
static bool write_reply(char status, const void *p, size_t n) {
    uint8_t h[9];
    uint64_t len = (uint64_t)n + 1;
    for (int k = 0; k < 8; k++)
        h[k] = (uint8_t)(len >> (8 * k));
    h[8] = (uint8_t)status;
    return write_all(h, 9) && write_all(p, n);
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

/* Compile the functions in funcs and the loop entries in osrs (lists, or
 * NULL: all functions, no entries) into *obj; false with msg. */
static bool compile(const wex__module *m, wex__llvm_opts *o, const char *funcs, const char *osrs,
                    uint8_t **obj, size_t *olen, char *msg, size_t msglen) {
    uint32_t nd = m->nfuncs - m->nfunc_imports;
    uint8_t *want = NULL, *osr = NULL;
    if ((funcs && !(want = parse_list(funcs, nd))) || (osrs && !(osr = parse_list(osrs, nd)))) {
        snprintf(msg, msglen, "bad function list");
        free(want);
        return false;
    }
    o->want = want;
    o->osr = osr;
    bool ok = wex__llvm_compile(m, o, obj, olen, msg, msglen);
    o->want = o->osr = NULL;
    free(want);
    free(osr);
    return ok;
}

/* --serve: the module, then requests until the input ends or idles. */
static int serve(wex__llvm_opts *o, int idle_ms, pid_t parent) {
    size_t len;
    uint8_t *bytes = read_msg(&len);
    if (!bytes) return 1;
    wex__module *m = wex__calloc(1, sizeof *m);
    if (!m) return 1;
    m->bytes = bytes;
    m->len = len;
    wex_error_t *err = wex__decode(m);
    if (!err) err = wex__validate(m);
    if (err) {
        const char *e = wex_error_message(err);
        write_reply('1', e, strlen(e));
        return 1;
    }
    if (!write_reply('0', "", 0)) return 1;
    int rc = 0;
    for (;;) {
        struct pollfd pf = {.fd = 0, .events = POLLIN};
        int pr = poll(&pf, 1, idle_ms);
        if (pr == 0 || getppid() != parent) break; /* idle, or the runtime is gone */
        if (pr < 0) continue;
        size_t rlen;
        char *req = (char *)read_msg(&rlen);
        if (!req) break;
        char *semi = strchr(req, ';');
        if (semi) *semi = 0;
        uint8_t *obj = NULL;
        size_t olen = 0;
        char msg[512];
        bool ok = compile(m, o, req, semi ? semi + 1 : "", &obj, &olen, msg, sizeof msg);
        bool sent = ok ? write_reply('0', obj, olen) : write_reply('1', msg, strlen(msg));
        free(obj);
        free(req);
        if (!sent) {
            rc = 1;
            break;
        }
    }
    wex__module_free(m);
    wex__free(m);
    return rc;
}

int main(int argc, char **argv) {
    pid_t parent = getppid();
    wex__llvm_opts o;
    memset(&o, 0, sizeof o);
    o.opt_level = 2;
    const char *funcs = NULL, *osrs = NULL;
    int idle_ms = -1;
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--serve=", 8) == 0)
            idle_ms = atoi(argv[i] + 8);
        else if (strncmp(argv[i], "--funcs=", 8) == 0)
            funcs = argv[i] + 8;
        else if (strncmp(argv[i], "--osr=", 6) == 0)
            osrs = argv[i] + 6;
        else if (strcmp(argv[i], "--explicit-bounds") == 0)
            o.explicit_bounds = true;
        else if (strcmp(argv[i], "--deterministic") == 0)
            o.deterministic = true; /* canonical NaNs, counted frames */
        else if (strcmp(argv[i], "--epochs") == 0)
            o.epochs = true; /* epoch checks at entries and loop heads */
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
    /* Serving, we outlive the thread that started us (no death signal: it
     * follows the thread); the end of our input says the runtime is gone. */
    if (idle_ms >= 0) return serve(&o, idle_ms, parent);
    /* The runtime that started us waits for the object; if it dies (a
     * killed test, a host that exited), stop rather than compile for no one. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) return 1;

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
    uint8_t *obj;
    size_t olen;
    char msg[512];
    if (!compile(m, &o, funcs, osrs, &obj, &olen, msg, sizeof msg)) {
        fprintf(stderr, "wex-llvmc: %s\n", msg);
        wex__module_free(m);
        wex__free(m);
        return 1;
    }
    bool ok = write_all(obj, olen);
    if (!ok) fprintf(stderr, "wex-llvmc: cannot write the object\n");
    /* freed, so that a leak checker (the sanitizer builds) sees none */
    free(obj);
    wex__module_free(m);
    wex__free(m);
    return ok ? 0 : 1;
}
