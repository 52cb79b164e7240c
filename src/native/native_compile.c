/*
 * native_compile.c - compiling a module to native code: the wex-llvmc
 * helper process turns the module's bytes into an object file, which is
 * loaded here (native_load.c). LLVM never enters this process.
 */
#include "native/native_internal.h"
#include "native_source_id.h" /* generated: WEX__NATIVE_SOURCE_ID */

#include "os/os.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef WEX_LIBEXEC_DIR
#define WEX_LIBEXEC_DIR "/usr/local/libexec/wex"
#endif

/* Where wex-llvmc is: $WEX_LLVMC, else beside the running executable (a
 * build tree), else in libexec/wex relative to it (an installed `wex`, moved
 * or not), else the configured libexec directory (an embedder's program);
 * whether it is there to run. */
static bool compiler_path(char *buf, size_t n) {
    const char *env = getenv("WEX_LLVMC");
    if (env && *env) {
        snprintf(buf, n, "%s", env);
        return access(buf, X_OK) == 0;
    }
    char dir[4096];
    wex__os_exe_dir(dir, sizeof dir);
    if (dir[0]) {
        snprintf(buf, n, "%s/wex-llvmc", dir);
        if (access(buf, X_OK) == 0) return true;
        snprintf(buf, n, "%s/%s/wex-llvmc", dir, WEX_LIBEXEC_FROM_BIN); /* an installed wex */
        if (access(buf, X_OK) == 0) return true;
    }
    snprintf(buf, n, "%s/wex-llvmc", WEX_LIBEXEC_DIR);
    return access(buf, X_OK) == 0;
}

bool wex__native_available(void) {
    char path[4200];
    return compiler_path(path, sizeof path);
}

/* The function list as wex-llvmc reads it: "a-b,c,...", ascending. */
static char *funcs_arg(const char *opt, const uint32_t *funcs, uint32_t n) {
    size_t cap = 16 + (size_t)n * 24, at = 0;
    char *s = wex__malloc(cap);
    if (!s) return NULL;
    strcpy(s, opt);
    at = strlen(s);
    for (uint32_t k = 0; k < n;) {
        uint32_t j = k;
        while (j + 1 < n && funcs[j + 1] == funcs[j] + 1)
            j++;
        at += (size_t)snprintf(s + at, cap - at, k ? ",%u" : "%u", funcs[k]);
        if (j > k) at += (size_t)snprintf(s + at, cap - at, "-%u", funcs[j]);
        k = j + 1;
    }
    return s;
}

/* wex-llvmc's command line: path (filled), the settings every use passes,
 * then a and b where not NULL. */
static void compiler_argv(char *argv[10], char *path, size_t n, unsigned mode, char *a, char *b) {
    compiler_path(path, n);
    int argc = 0;
    argv[argc++] = path;
    argv[argc++] = "--build";
    argv[argc++] = WEX__NATIVE_BUILD;
    if (mode & WEX__NATIVE_EXPLICIT) argv[argc++] = "--explicit-bounds";
    if (mode & WEX__NATIVE_DET) argv[argc++] = "--deterministic";
    if (mode & WEX__NATIVE_EPOCH) argv[argc++] = "--epochs";
    argv[argc++] = "-O2";
    if (a) argv[argc++] = a;
    if (b) argv[argc++] = b;
    argv[argc] = NULL;
}

wex_error_t *wex__native_compile_some(unsigned mode, const uint8_t *bytes, size_t len,
                                      const uint32_t *funcs, uint32_t n, const uint32_t *osr,
                                      uint32_t nosr, int cancel_fd, uint8_t **obj, size_t *objlen) {
    char *fl = funcs_arg("--funcs=", funcs, n);
    char *ol = nosr ? funcs_arg("--osr=", osr, nosr) : NULL;
    if (!fl || (nosr && !ol)) {
        wex__free(fl);
        wex__free(ol);
        return wex__error_nomem();
    }
    char path[4200], *argv[10];
    compiler_argv(argv, path, sizeof path, mode, fl, ol);
    char msg[600];
    int rc = wex__os_run_filter(path, argv, bytes, len, cancel_fd, obj, objlen, msg, sizeof msg);
    wex__free(fl);
    wex__free(ol);
    if (rc != 0) {
        if (rc > 0) wex__free(*obj);
        *obj = NULL;
        return wex__error_at(WEX_ERR_COMPILE, -1, "native compilation failed: %s",
                             msg[0] ? msg : "no message");
    }
    return NULL;
}

/*
 * A compiler that stays (wex-llvmc --serve), for the automatic tier: its
 * batches, often of one small function, would otherwise each pay for a
 * process, LLVM's set-up and decoding the module. It exits by itself when
 * idle (WEX__TIER_COMPILER_IDLE_MS); the next request then starts another.
 */
struct wex__native_service {
    wex__os_child child;
    bool up;         /* child runs and has the module */
    uint32_t served; /* requests it answered */
};

wex__native_service *wex__native_service_new(void) {
    wex__native_service *sv = wex__calloc(1, sizeof *sv);
    if (sv) {
        sv->child.pid = -1;
        sv->child.in = sv->child.out = sv->child.err = -1;
    }
    return sv;
}

void wex__native_service_free(wex__native_service *sv) {
    if (!sv) return;
    wex__os_child_stop(&sv->child);
    wex__free(sv);
}

/* One message: its length (64-bit little-endian) and bytes, into b. */
static void put_len(uint8_t *b, uint64_t n) {
    for (int k = 0; k < 8; k++)
        b[k] = (uint8_t)(n >> (8 * k));
}

/* Send msg (len bytes) framed and take the reply; 0, -1 or -2 as
 * wex__os_child_call. A reply whose status is not '0' is -1 with its
 * message in err. */
static int service_call(wex__native_service *sv, const void *msg, size_t len, int cancel_fd,
                        uint8_t **out, size_t *outlen, char *err, size_t errlen) {
    uint8_t *req = wex__malloc(len + 8);
    if (!req) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    put_len(req, len);
    memcpy(req + 8, msg, len);
    uint8_t *rep;
    size_t rlen;
    int rc = wex__os_child_call(&sv->child, req, len + 8, cancel_fd, &rep, &rlen, err, errlen);
    wex__free(req);
    if (rc != 0) return rc;
    if (rlen == 0 || rep[0] != '0') {
        size_t n = rlen > 1 ? rlen - 1 : 0;
        if (n >= errlen) n = errlen - 1;
        if (n) memcpy(err, rep + 1, n);
        err[n] = 0;
        if (!n) snprintf(err, errlen, "the compiler's reply is malformed");
        wex__free(rep);
        return -3; /* an answer, not a broken child */
    }
    memmove(rep, rep + 1, rlen - 1);
    *out = rep;
    *outlen = rlen - 1;
    return 0;
}

/* Start the compiler and give it the module. */
static int service_start(wex__native_service *sv, unsigned mode, const uint8_t *bytes, size_t len,
                         int cancel_fd, char *err, size_t errlen) {
    char serve[32];
    snprintf(serve, sizeof serve, "--serve=%u", (unsigned)WEX__TIER_COMPILER_IDLE_MS);
    char path[4200], *argv[10];
    compiler_argv(argv, path, sizeof path, mode, serve, NULL);
    if (!wex__os_child_start(path, argv, &sv->child, err, errlen)) return -1;
    uint8_t *rep = NULL;
    size_t rlen;
    int rc = service_call(sv, bytes, len, cancel_fd, &rep, &rlen, err, errlen);
    wex__free(rep);
    if (rc != 0) {
        wex__os_child_stop(&sv->child);
        return rc;
    }
    sv->up = true;
    sv->served = 0;
    return 0;
}

wex_error_t *wex__native_service_compile(wex__native_service *sv, unsigned mode,
                                         const uint8_t *bytes, size_t len, const uint32_t *funcs,
                                         uint32_t n, const uint32_t *osr, uint32_t nosr,
                                         int cancel_fd, uint8_t **obj, size_t *objlen) {
    *obj = NULL;
    *objlen = 0;
    char *fl = funcs_arg("", funcs, n);
    char *ol = funcs_arg(";", osr, nosr);
    char *req = fl && ol ? wex__malloc(strlen(fl) + strlen(ol) + 1) : NULL;
    if (!req) {
        wex__free(fl);
        wex__free(ol);
        return wex__error_nomem();
    }
    strcpy(req, fl);
    strcat(req, ol);
    wex__free(fl);
    wex__free(ol);
    char msg[600];
    msg[0] = 0;
    int rc = -1;
    /* A compiler that served before may have left (idle) just now: one
     * more try with a fresh one. */
    for (int attempt = 0; attempt < 2; attempt++) {
        bool reused = sv->up;
        if (!sv->up) rc = service_start(sv, mode, bytes, len, cancel_fd, msg, sizeof msg);
        if (sv->up)
            rc = service_call(sv, req, strlen(req), cancel_fd, obj, objlen, msg, sizeof msg);
        if (rc == 0) {
            sv->served++;
            break;
        }
        if (rc == -3) break; /* it answered: no code for these */
        wex__os_child_stop(&sv->child);
        sv->up = false;
        if (rc == -2 || !reused) break;
    }
    wex__free(req);
    if (rc != 0)
        return wex__error_at(WEX_ERR_COMPILE, -1, "native compilation failed: %s",
                             msg[0] ? msg : "no message");
    return NULL;
}

/* One partition of a whole-module compilation. */
typedef struct {
    unsigned mode;
    const uint8_t *bytes;
    size_t blen;
    uint32_t *funcs, n;
    uint8_t *obj;
    size_t len;
    wex_error_t *err;
    struct part_wait *w;
} part_t;

typedef struct part_wait {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint32_t left;
} part_wait;

static void part_run(void *arg, bool cancelled) {
    part_t *p = arg;
    if (cancelled)
        p->err = wex__error_at(WEX_ERR_COMPILE, -1, "native compilation cancelled");
    else
        p->err = wex__native_compile_some(p->mode, p->bytes, p->blen, p->funcs, p->n, NULL, 0, -1,
                                          &p->obj, &p->len);
    pthread_mutex_lock(&p->w->mu);
    if (--p->w->left == 0) pthread_cond_signal(&p->w->cv);
    pthread_mutex_unlock(&p->w->mu);
}

/* How many wex-llvmc processes to run at once: $WEX_NATIVE_JOBS, else the
 * task manager's parallelism; never more than one per 32 KB of code (each
 * process loads LLVM, and calls between partitions cannot be inlined). */
static uint32_t jobs_for(wex_engine_t *e, size_t code_bytes) {
    uint32_t j = 1;
    const char *env = getenv("WEX_NATIVE_JOBS");
    if (env && *env) {
        j = (uint32_t)strtoul(env, NULL, 10);
    } else {
        const wex_task_manager_t *tm = wex_engine_task_manager(e);
        j = tm && tm->thread_parallelism ? tm->thread_parallelism(tm->data) : 1;
        uint32_t by_size = (uint32_t)(code_bytes / (32 << 10));
        if (j > by_size) j = by_size;
    }
    if (j < 1) j = 1;
    if (j > WEX__NATIVE_MAX_JOBS) j = WEX__NATIVE_MAX_JOBS;
    return j;
}

/* Defined function i's body size (a module loaded from the cache has no
 * body table: then all count the same). */
static size_t body_len(const wex__module *m, uint32_t i) {
    return m->codes && i < m->ncodes ? m->codes[i].len : 1024;
}

wex_error_t *wex__native_compile(wex__module *m, const uint8_t *bytes, size_t len) {
    wex_engine_t *e = m->engine;
    wex_error_t *err = NULL;
    if (!m->native) {
        err = wex__native_new(m, &m->native);
        if (err) return err;
    }
    wex__native *nat = m->native;
    uint32_t nd = nat->nfuncs, todo = 0;
    size_t code_bytes = 0;
    for (uint32_t i = 0; i < nd; i++)
        if (!nat->fns[i]) {
            todo++;
            code_bytes += body_len(m, i);
        }
    if (!todo) return NULL;
    uint32_t jobs = jobs_for(e, code_bytes);
    if (jobs > todo) jobs = todo;
    part_t parts[WEX__NATIVE_MAX_JOBS];
    memset(parts, 0, sizeof parts);
    part_wait w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
    uint32_t *list = wex__malloc((size_t)todo * sizeof *list);
    if (!list) return wex__error_nomem();
    /* contiguous runs of about equal code size */
    uint32_t k = 0, at = 0;
    size_t acc = 0;
    parts[0].funcs = list;
    for (uint32_t i = 0; i < nd; i++) {
        if (nat->fns[i]) continue;
        if (k + 1 < jobs && parts[k].n && acc + body_len(m, i) / 2 > code_bytes * (k + 1) / jobs) {
            k++;
            parts[k].funcs = list + at;
        }
        list[at++] = i;
        parts[k].n++;
        acc += body_len(m, i);
    }
    jobs = k + 1;
    const wex_task_manager_t *tm = jobs > 1 ? wex_engine_task_manager(e) : NULL;
    for (uint32_t p = 0; p < jobs; p++) {
        parts[p].mode = wex__native_mode(e);
        parts[p].bytes = bytes;
        parts[p].blen = len;
        parts[p].w = &w;
    }
    w.left = jobs;
    /* all but the first on the task manager; the first here */
    for (uint32_t p = 1; p < jobs; p++) {
        wex_error_t *te = tm ? tm->task_dedicated(tm->data, part_run, &parts[p]) : NULL;
        if (!tm || te) {
            wex_error_delete(te);
            part_run(&parts[p], false);
        }
    }
    part_run(&parts[0], false);
    pthread_mutex_lock(&w.mu);
    while (w.left)
        pthread_cond_wait(&w.cv, &w.mu);
    pthread_mutex_unlock(&w.mu);
    for (uint32_t p = 0; p < jobs; p++) {
        if (!err && parts[p].err) {
            err = parts[p].err;
            parts[p].err = NULL;
        }
        wex_error_delete(parts[p].err);
        if (!err) {
            wex__native_obj *o;
            err = wex__native_load(parts[p].obj, parts[p].len, nd, &o);
            if (!err) wex__native_add(m, o);
        }
        wex__free(parts[p].obj);
    }
    wex__free(list);
    return err;
}

/* The CPU's identity and features (x86-64: cpuid leaves 0, 1 and 7), which
 * the compiler targets ("host" CPU): code made for one CPU is not run on
 * another. */
static void cpu_key(char *buf, size_t n) {
    /* $WEX_NATIVE_CPU (tests): as if the CPU's features were these */
    const char *pretend = getenv("WEX_NATIVE_CPU");
    if (pretend && *pretend) {
        snprintf(buf, n, "as %s", pretend);
        return;
    }
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
