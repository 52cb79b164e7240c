/*
 * fuzz_wasi.c - libFuzzer: random WASI preview1 calls with random pointers,
 * lengths, descriptors and flags, made through the runtime.
 *
 * At start-up a module is built that imports every preview1 function wex
 * has (the list is src/wasi's own WEX__WASI_HANDLERS, plus proc_exit) and
 * exports each one again; wex_wasi_link satisfies the imports, so each
 * export is the runtime's host function, called with wex_func_call. The
 * guest memory is one 64 KiB page made by the harness.
 *
 * A sandbox directory holds root/ (preopened as "/" and as ".") and
 * canary/secret, and is the process's working directory; stdin is
 * /dev/null, stdout and stderr are captured. Each input is a sequence of
 * commands (at most MAX_CMDS):
 *   byte c = k % (nfuncs + 1): k < nfuncs calls function k, each argument
 *     taken by one selector byte s: s < 0x80 the value s; s < 0xC0 a 16-bit
 *     value (a pointer into the page) from the input; s < 0xF0 a 32-bit
 *     value; else a 64-bit value (i64 arguments) or an edge value.
 *   k == nfuncs writes bytes into memory: a 16-bit offset, a length byte,
 *     then the bytes.
 * poll_oneoff's clock subscriptions are clamped to 1 ms relative before the
 * call (a guest may ask to sleep for years; that is not a bug), and
 * RLIMIT_FSIZE keeps fd_allocate/fd_write from filling the disk. After each
 * input root/ is emptied and the sandbox is checked: nothing but root/ and
 * canary/ beside it, canary/ unchanged. Any change there means a guest
 * reached outside its preopen, and aborts.
 */
#define _GNU_SOURCE
#include "fuzz_common.h"
#include "wasi/wasi_internal.h"
#include "wex_wasi.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

enum { MAX_CMDS = 256, CANARY_LEN = 7 };

typedef struct {
    const char *name, *params;
    uint32_t nresults;
} wasi_fn_t;

static const wasi_fn_t fns[] = {
#define FUZZ_WASI_FN(name, sig) {#name, sig, 1},
    WEX__WASI_HANDLERS(FUZZ_WASI_FN)
#undef FUZZ_WASI_FN
        {"proc_exit", "i", 0},
};
enum { NFNS = sizeof fns / sizeof fns[0] };

static wex_engine_t *engine;
static wex_module_t *module;
static char sandbox[64], root[96];
static int devnull = -1;

/* ---- a tiny binary writer for the import module */

typedef struct {
    uint8_t *b;
    size_t n, cap;
} buf_t;

/* Append bytes, growing the buffer. */
static void put(buf_t *o, const void *p, size_t n) {
    if (o->n + n > o->cap) {
        o->cap = (o->n + n) * 2 + 64;
        o->b = realloc(o->b, o->cap);
        if (!o->b) abort();
    }
    memcpy(o->b + o->n, p, n);
    o->n += n;
}

/* Append an unsigned LEB128. */
static void leb(buf_t *o, uint32_t v) {
    do {
        uint8_t c = v & 0x7F;
        v >>= 7;
        if (v) c |= 0x80;
        put(o, &c, 1);
    } while (v);
}

/* Append a name (length, bytes). */
static void name(buf_t *o, const char *s) {
    leb(o, (uint32_t)strlen(s));
    put(o, s, strlen(s));
}

/* Append section `id` holding body. */
static void section(buf_t *o, uint8_t id, buf_t *body) {
    put(o, &id, 1);
    leb(o, (uint32_t)body->n);
    put(o, body->b, body->n);
    body->n = 0;
}

/* The module: type i = function i's type, import i, export i. */
static buf_t build_module(void) {
    buf_t o = {0}, s = {0};
    put(&o, "\0asm\1\0\0\0", 8);
    leb(&s, NFNS);
    for (size_t i = 0; i < NFNS; i++) {
        uint8_t form = 0x60;
        put(&s, &form, 1);
        size_t np = strlen(fns[i].params);
        leb(&s, (uint32_t)np);
        for (size_t k = 0; k < np; k++) {
            uint8_t t = fns[i].params[k] == 'I' ? 0x7E : 0x7F;
            put(&s, &t, 1);
        }
        leb(&s, fns[i].nresults);
        if (fns[i].nresults) put(&s, "\x7f", 1);
    }
    section(&o, 1, &s);
    leb(&s, NFNS);
    for (size_t i = 0; i < NFNS; i++) {
        name(&s, "wasi_snapshot_preview1");
        name(&s, fns[i].name);
        put(&s, "\0", 1);
        leb(&s, (uint32_t)i);
    }
    section(&o, 2, &s);
    leb(&s, NFNS);
    for (size_t i = 0; i < NFNS; i++) {
        name(&s, fns[i].name);
        put(&s, "\0", 1);
        leb(&s, (uint32_t)i);
    }
    section(&o, 7, &s);
    free(s.b);
    return o;
}

/* ---- the sandbox */

/* nftw callback: remove one entry. */
static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw) {
    if (ftw->level > 0 && remove(p) != 0) {
        fprintf(stderr, "fuzz_wasi: cannot remove %s\n", p);
        abort();
    }
    return 0;
}

/* Abort unless the sandbox holds exactly root/ and canary/secret as made. */
static void check_sandbox(void) {
    DIR *d = opendir(sandbox);
    if (!d) abort();
    struct dirent *e;
    int seen = 0;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (!strcmp(e->d_name, "root") || !strcmp(e->d_name, "canary")) {
            seen++;
            continue;
        }
        fprintf(stderr, "fuzz_wasi: %s/%s appeared outside the preopen\n", sandbox, e->d_name);
        abort();
    }
    closedir(d);
    char p[160], got[CANARY_LEN + 2] = {0};
    snprintf(p, sizeof p, "%s/canary", sandbox);
    d = opendir(p);
    int n = 0;
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    if (d) closedir(d);
    snprintf(p, sizeof p, "%s/canary/secret", sandbox);
    int fd = open(p, O_RDONLY | O_NOFOLLOW);
    ssize_t r = fd >= 0 ? read(fd, got, sizeof got) : -1;
    if (fd >= 0) close(fd);
    struct stat st;
    if (seen != 2 || n != 1 || r != CANARY_LEN || memcmp(got, "canary\n", CANARY_LEN) ||
        lstat(sandbox, &st) || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "fuzz_wasi: the sandbox around the preopen changed\n");
        abort();
    }
}

/* At exit: remove the sandbox (root/ is emptied after each input). */
static void cleanup(void) {
    char p[160];
    snprintf(p, sizeof p, "%s/canary/secret", sandbox);
    unlink(p);
    snprintf(p, sizeof p, "%s/canary", sandbox);
    rmdir(p);
    rmdir(root);
    rmdir(sandbox);
}

/* Build the module, the sandbox and the limits. */
int LLVMFuzzerInitialize(int *argc, char ***argv) {
    engine = fuzz_engine();
    buf_t b = build_module();
    wex_error_t *err = wex_module_new(engine, b.b, b.n, &module);
    if (err) {
        fprintf(stderr, "fuzz_wasi: import module: %s\n", wex_error_message(err));
        exit(1);
    }
    free(b.b);
    const char *tmp = getenv("TMPDIR");
    snprintf(sandbox, sizeof sandbox, "%s/wex-fuzz-wasi-XXXXXX",
             tmp && strlen(tmp) < 30 ? tmp : "/tmp");
    if (!mkdtemp(sandbox)) abort();
    char p[160];
    snprintf(root, sizeof root, "%s/root", sandbox);
    snprintf(p, sizeof p, "%s/canary", sandbox);
    if (mkdir(root, 0700) || mkdir(p, 0700)) abort();
    snprintf(p, sizeof p, "%s/canary/secret", sandbox);
    int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0 || write(fd, "canary\n", CANARY_LEN) != CANARY_LEN) abort();
    close(fd);
    atexit(cleanup);
    /* relative host paths, if any escaped, land where check_sandbox looks */
    if (chdir(sandbox)) abort();
    devnull = open("/dev/null", O_RDONLY);
    if (devnull < 0) abort();
    struct rlimit rl = {16u << 20, 16u << 20};
    setrlimit(RLIMIT_FSIZE, &rl);
    signal(SIGXFSZ, SIG_IGN);
    fprintf(stderr, "fuzz_wasi: %d functions; sandbox %s\n", (int)NFNS, sandbox);
    return 0;
}

/* Input reader: n bytes little-endian, zero past the end. */
static uint64_t take(const uint8_t *d, size_t size, size_t *pos, int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        if (*pos < size) v |= (uint64_t)d[(*pos)++] << (8 * i);
    return v;
}

/* One argument from its selector byte. */
static wex_val_t arg(const uint8_t *d, size_t size, size_t *pos, char type) {
    static const uint64_t edges[] = {UINT32_MAX, 65535, 65536, 0x7FFFFFFF, UINT64_MAX, INT64_MAX};
    uint64_t s = take(d, size, pos, 1), v;
    if (s < 0x80)
        v = s;
    else if (s < 0xC0)
        v = take(d, size, pos, 2);
    else if (s < 0xF0)
        v = take(d, size, pos, 4);
    else if (type == 'I' && s < 0xF8)
        v = take(d, size, pos, 8);
    else
        v = edges[s % (sizeof edges / sizeof edges[0])];
    return type == 'I' ? wex_val_i64((int64_t)v) : wex_val_i32((int32_t)(uint32_t)v);
}

/* Clamp poll_oneoff's clock subscriptions to a short relative timeout. */
static void tame_poll(uint8_t *mem, size_t memlen, uint32_t in, uint32_t n) {
    for (uint64_t i = 0; i < n; i++) {
        uint64_t s = in + 48 * i;
        if (s + 48 > memlen) return;
        if (mem[s + 8] != 0) continue;
        uint64_t t;
        memcpy(&t, mem + s + 24, 8);
        if (t > 1000000) t = 1000000;
        memcpy(mem + s + 24, &t, 8);
        mem[s + 40] &= (uint8_t)~1; /* not absolute */
    }
}

/* Fixed strings and an iovec, so that random calls soon name real paths. */
static void seed_memory(uint8_t *mem) {
    static const char strs[] = "file\0dir\0../canary/secret\0..\0/\0.\0link\0dir/f\0/etc/passwd\0";
    memcpy(mem + 0x8000, strs, sizeof strs);
    uint32_t iov[4] = {0xA000, 64, 0xA100, 16};
    memcpy(mem + 0x9000, iov, sizeof iov);
    memcpy(mem + 0xA000, "hello, wasi\n", 12);
}

/* Run one input's commands, then clean up and check the sandbox. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    wex_wasi_config_t *cfg = wex_wasi_config_new();
    if (!cfg) abort();
    wex_wasi_config_arg(cfg, "guest");
    wex_wasi_config_arg(cfg, "--flag");
    wex_wasi_config_env(cfg, "HOME", "/");
    wex_wasi_config_preopen(cfg, root, "/");
    wex_wasi_config_preopen(cfg, root, ".");
    wex_wasi_config_inherit_stdio(cfg, 0, devnull);
    wex_wasi_config_capture(cfg, 1);
    wex_wasi_config_capture(cfg, 2);
    wex_wasi_t *w = NULL;
    wex_error_t *err = wex_wasi_new(cfg, &w);
    if (err) {
        fprintf(stderr, "fuzz_wasi: wex_wasi_new: %s\n", wex_error_message(err));
        abort();
    }
    wex_store_t *s = wex_store_new(engine);
    wex_extern_t imports[NFNS];
    wex_instance_t *inst = NULL;
    wex_memory_t *mem = NULL;
    wex_limits_t lim = {1, 1, true, false};
    if (!s || (err = wex_wasi_link(w, s, module, imports)) ||
        (err = wex_instance_new(s, module, imports, NFNS, &inst)) ||
        (err = wex_memory_new(s, lim, &mem))) {
        fprintf(stderr, "fuzz_wasi: set-up: %s\n", err ? wex_error_message(err) : "store");
        abort();
    }
    wex_wasi_set_memory(w, mem);
    uint8_t *m = wex_memory_data(mem);
    size_t mlen = wex_memory_size(mem);
    seed_memory(m);
    wex_func_t *funcs[NFNS];
    for (size_t i = 0; i < NFNS; i++) {
        wex_extern_t ex;
        if (!wex_instance_export(inst, fns[i].name, strlen(fns[i].name), &ex)) abort();
        funcs[i] = ex.of.func;
    }
    size_t pos = 0;
    for (int c = 0; c < MAX_CMDS && pos < size; c++) {
        size_t k = data[pos++] % (NFNS + 1);
        if (k == NFNS) {
            size_t off = take(data, size, &pos, 2), n = take(data, size, &pos, 1);
            for (size_t i = 0; i < n && pos < size; i++)
                m[(off + i) % mlen] = data[pos++];
            continue;
        }
        size_t np = strlen(fns[k].params);
        wex_val_t args[9], res[1];
        for (size_t i = 0; i < np; i++)
            args[i] = arg(data, size, &pos, fns[k].params[i]);
        if (!strcmp(fns[k].name, "poll_oneoff"))
            tame_poll(m, mlen, (uint32_t)args[0].of.i32, (uint32_t)args[2].of.i32);
        err = wex_func_call(s, funcs[k], args, np, res, fns[k].nresults);
        if (err) {
            wex_errcode_t code = wex_error_code(err);
            wex_error_delete(err);
            if (code == WEX_ERR_EXIT) break; /* proc_exit ends the guest */
            abort();                         /* no other preview1 call fails as a trap */
        }
        /* an errno is a 16-bit code: 0..76 */
        if (fns[k].nresults && (uint32_t)res[0].of.i32 > 76) {
            fprintf(stderr, "fuzz_wasi: %s returned errno %u\n", fns[k].name,
                    (unsigned)res[0].of.i32);
            abort();
        }
    }
    wex_store_delete(s);
    wex_wasi_delete(w);
    if (nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0) abort();
    check_sandbox();
    return 0;
}
