/*
 * os_proc.c - pages for native code, and running the native tier's compiler
 * as a child process.
 */
#define _GNU_SOURCE
#include "os/os.h"

#include "base/base.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

void *wex__os_map_rw(size_t len) {
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

bool wex__os_protect(void *p, size_t len, int prot) {
    return mprotect(p, len, prot == WEX__OS_PROT_RX ? PROT_READ | PROT_EXEC : PROT_READ) == 0;
}

void wex__os_unmap(void *p, size_t len) {
    if (p) munmap(p, len);
}

void wex__os_exe_dir(char *buf, size_t n) {
    if (n == 0) return;
    buf[0] = 0;
    char tmp[4096];
    ssize_t k = readlink("/proc/self/exe", tmp, sizeof tmp - 1);
    if (k <= 0) return;
    tmp[k] = 0;
    char *slash = strrchr(tmp, '/');
    if (!slash) return;
    *slash = 0;
    snprintf(buf, n, "%s", tmp);
}

/* Append what fd has to *buf (growing it); false on a read error. EOF
 * sets *eof. */
static bool drain(int fd, uint8_t **buf, size_t *len, size_t *cap, bool *eof) {
    for (;;) {
        if (*len == *cap) {
            size_t nc = *cap ? 2 * *cap : 65536;
            uint8_t *nb = wex__realloc(*buf, nc);
            if (!nb) return false;
            *buf = nb;
            *cap = nc;
        }
        ssize_t r = read(fd, *buf + *len, *cap - *len);
        if (r > 0) {
            *len += (size_t)r;
            continue;
        }
        if (r == 0) *eof = true;
        if (r == 0 || errno == EAGAIN) return true;
        if (errno != EINTR) return false;
    }
}

/*
 * Pipes, not files, carry the child's input and output: a pipe is not
 * subject to the file-size limit (RLIMIT_FSIZE) the host may run under, and
 * the parent writes and reads through poll(), so that neither side can
 * block the other on a full pipe.
 */
bool wex__os_child_start(const char *path, char *const argv[], wex__os_child *c, char *err,
                         size_t errlen) {
    c->pid = -1;
    c->in = c->out = c->err = -1;
    int pin[2] = {-1, -1}, pout[2] = {-1, -1}, perr[2] = {-1, -1};
    if (pipe2(pin, O_CLOEXEC) || pipe2(pout, O_CLOEXEC) || pipe2(perr, O_CLOEXEC)) {
        snprintf(err, errlen, "cannot make pipes for the compiler: %s", strerror(errno));
        for (int k = 0; k < 2; k++) {
            if (pin[k] >= 0) close(pin[k]);
            if (pout[k] >= 0) close(pout[k]);
            if (perr[k] >= 0) close(perr[k]);
        }
        return false;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pin[0], 0);
    posix_spawn_file_actions_adddup2(&fa, pout[1], 1);
    posix_spawn_file_actions_adddup2(&fa, perr[1], 2);
    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    /* The child starts with default signal handling and nothing blocked,
     * whatever the host set up. */
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &all);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    pid_t pid;
    int rc = posix_spawn(&pid, path, &fa, &at, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    close(pin[0]);
    close(pout[1]);
    close(perr[1]);
    if (rc != 0) {
        snprintf(err, errlen, "cannot run %s: %s", path, strerror(rc));
        close(pin[1]);
        close(pout[0]);
        close(perr[0]);
        return false;
    }
    fcntl(pin[1], F_SETFL, O_NONBLOCK);
    fcntl(pout[0], F_SETFL, O_NONBLOCK);
    fcntl(perr[0], F_SETFL, O_NONBLOCK);
    c->pid = pid;
    c->in = pin[1];
    c->out = pout[0];
    c->err = perr[0];
    return true;
}

void wex__os_child_stop(wex__os_child *c) {
    if (c->in >= 0) close(c->in);
    if (c->out >= 0) close(c->out);
    if (c->err >= 0) close(c->err);
    c->in = c->out = c->err = -1;
    if (c->pid > 0) {
        kill(c->pid, SIGKILL); /* not reaped yet: the pid is still its own */
        while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR) {
        }
    }
    c->pid = -1;
}

/* A framed reply's length, once its 8-byte header is in (UINT64_MAX: not
 * yet). */
static uint64_t frame_len(const uint8_t *b, size_t n) {
    if (n < 8) return UINT64_MAX;
    uint64_t v = 0;
    for (int k = 7; k >= 0; k--)
        v = v << 8 | b[k];
    return v;
}

/* Write in to the child (then close its input if close_in) while reading
 * its output and error: until both end (framed false), or until the output
 * holds one whole frame (framed). 0 when done, -1 on a failure (the output
 * or error ended early, a read error), -2 when cancel_fd became readable. */
static int exchange(wex__os_child *c, const void *in, size_t inlen, bool close_in, int cancel_fd,
                    bool framed, uint8_t **ob, size_t *olen, uint8_t **eb, size_t *elen) {
    size_t ocap = 0, ecap = 0;
    /* A child that exits early closes its end: writing must not kill us. */
    sigset_t pipe_set, old_set;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
    const uint8_t *ip = in;
    size_t left = inlen;
    bool oeof = false, eeof = c->err < 0, ok = true, writing = c->in >= 0, cancelled = false;
    if (left == 0 && writing) {
        writing = false;
        if (close_in) {
            close(c->in);
            c->in = -1;
        }
    }
    for (;;) {
        uint64_t fl = framed ? frame_len(*ob, *olen) : UINT64_MAX;
        if (framed && fl != UINT64_MAX && *olen - 8 >= fl) break;
        if (!ok || (oeof && (framed || eeof))) break;
        struct pollfd pf[4];
        int n = 0;
        if (cancel_fd >= 0) pf[n++] = (struct pollfd){.fd = cancel_fd, .events = POLLIN};
        if (writing) pf[n++] = (struct pollfd){.fd = c->in, .events = POLLOUT};
        if (!oeof) pf[n++] = (struct pollfd){.fd = c->out, .events = POLLIN};
        if (!eeof) pf[n++] = (struct pollfd){.fd = c->err, .events = POLLIN};
        if (poll(pf, (nfds_t)n, -1) < 0) {
            if (errno == EINTR) continue;
            ok = false;
            break;
        }
        for (int k = 0; k < n && ok; k++) {
            if (!pf[k].revents) continue;
            if (pf[k].fd == cancel_fd) {
                cancelled = true;
                ok = false;
            } else if (writing && pf[k].fd == c->in) {
                ssize_t w = write(c->in, ip, left);
                if (w > 0) {
                    ip += w;
                    left -= (size_t)w;
                }
                if (left == 0 || (w < 0 && errno != EAGAIN && errno != EINTR)) {
                    writing = false;
                    if (close_in || left) {
                        close(c->in);
                        c->in = -1;
                    }
                }
            } else if (pf[k].fd == c->out) {
                ok = drain(c->out, ob, olen, &ocap, &oeof);
            } else {
                ok = drain(c->err, eb, elen, &ecap, &eeof);
                if (*elen > 4096) *elen = 4096; /* keep only the start */
            }
        }
    }
    /* a SIGPIPE raised while it was blocked is pending: take it back */
    struct timespec zero = {0, 0};
    while (sigtimedwait(&pipe_set, NULL, &zero) > 0) {
    }
    pthread_sigmask(SIG_SETMASK, &old_set, NULL);
    if (cancelled) return -2;
    if (!ok) return -1;
    if (framed && (frame_len(*ob, *olen) == UINT64_MAX || *olen - 8 < frame_len(*ob, *olen)))
        return -1; /* the output ended before the frame did */
    return 0;
}

/* The child's error output as a message (trailing newlines dropped). */
static void error_text(const uint8_t *eb, size_t elen, char *err, size_t errlen) {
    if (!eb || !errlen) return;
    size_t n = elen < errlen - 1 ? elen : errlen - 1;
    memcpy(err, eb, n);
    while (n && (err[n - 1] == '\n' || err[n - 1] == '\r'))
        n--;
    err[n] = 0;
}

int wex__os_child_call(wex__os_child *c, const void *req, size_t reqlen, int cancel_fd,
                       uint8_t **reply, size_t *replylen, char *err, size_t errlen) {
    *reply = NULL;
    *replylen = 0;
    if (errlen) err[0] = 0;
    if (c->pid <= 0 || c->in < 0) {
        snprintf(err, errlen, "the compiler is not running");
        return -1;
    }
    uint8_t *ob = NULL, *eb = NULL;
    size_t olen = 0, elen = 0;
    int rc = exchange(c, req, reqlen, false, cancel_fd, true, &ob, &olen, &eb, &elen);
    if (rc == 0 && olen - 8 != frame_len(ob, olen)) rc = -1; /* more than one reply */
    if (rc == 0) {
        memmove(ob, ob + 8, olen - 8);
        *reply = ob;
        *replylen = olen - 8;
        ob = NULL;
    } else if (rc == -2) {
        snprintf(err, errlen, "cancelled");
    } else {
        error_text(eb, elen, err, errlen);
        if (!err[0]) snprintf(err, errlen, "the compiler stopped without an answer");
    }
    wex__free(ob);
    wex__free(eb);
    return rc;
}

int wex__os_run_filter(const char *path, char *const argv[], const void *in, size_t inlen,
                       int cancel_fd, uint8_t **out, size_t *outlen, char *err, size_t errlen) {
    *out = NULL;
    *outlen = 0;
    if (errlen) err[0] = 0;
    wex__os_child c;
    if (!wex__os_child_start(path, argv, &c, err, errlen)) return -1;
    uint8_t *ob = NULL, *eb = NULL;
    size_t olen = 0, elen = 0;
    int rc = exchange(&c, in, inlen, true, cancel_fd, false, &ob, &olen, &eb, &elen);
    if (rc == -2) kill(c.pid, SIGKILL);
    int status = -1, ws;
    while (waitpid(c.pid, &ws, 0) < 0)
        if (errno != EINTR) {
            snprintf(err, errlen, "waiting for %s: %s", path, strerror(errno));
            goto out;
        }
    c.pid = -1;
    error_text(eb, elen, err, errlen);
    if (rc == -2) {
        snprintf(err, errlen, "cancelled");
        goto out;
    }
    if (rc != 0) {
        if (!err[0]) snprintf(err, errlen, "cannot read the compiler's output");
        goto out;
    }
    if (WIFSIGNALED(ws)) {
        if (!err[0]) snprintf(err, errlen, "%s was killed by signal %d", path, WTERMSIG(ws));
        goto out;
    }
    status = WEXITSTATUS(ws);
    if (status == 0) {
        *out = ob;
        *outlen = olen;
        ob = NULL;
        if (!*out) {
            *out = wex__malloc(1);
            if (!*out) status = -1;
        }
    }
out:
    wex__os_child_stop(&c);
    wex__free(ob);
    wex__free(eb);
    return status;
}

/* perf's map of code it has no symbols for: /tmp/perf-PID.map, a line
 * "START SIZE NAME" (hex) per function, appended as code is loaded. */
void wex__os_perf_map(uintptr_t addr, size_t size, const char *name) {
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    static FILE *f;
    static pid_t pid;
    pthread_mutex_lock(&mu);
    if (!f || pid != getpid()) { /* (a forked child writes its own) */
        char path[64];
        pid = getpid();
        snprintf(path, sizeof path, "/tmp/perf-%d.map", (int)pid);
        f = fopen(path, "a");
    }
    if (f) {
        fprintf(f, "%lx %zx %s\n", (unsigned long)addr, size, name);
        fflush(f);
    }
    pthread_mutex_unlock(&mu);
}

bool wex__os_signal_new(int fd[2]) {
    return pipe2(fd, O_CLOEXEC | O_NONBLOCK) == 0;
}

void wex__os_signal_raise(const int fd[2]) {
    char b = 1;
    if (write(fd[1], &b, 1) < 0) { /* full: raised already */
    }
}

void wex__os_signal_free(int fd[2]) {
    close(fd[0]);
    close(fd[1]);
}
