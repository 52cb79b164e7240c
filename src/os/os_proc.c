/*
 * os_proc.c - pages for native code, and running the native tier's compiler
 * as a child process (Linux: memfds carry its input and output, so neither
 * side can block the other on a full pipe).
 */
#define _GNU_SOURCE
#include "os/os.h"

#include "base/base.h"

#include <errno.h>
#include <fcntl.h>
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

/* A memfd holding len bytes of data, positioned at 0; -1 on failure. */
static int memfd_with(const char *name, const void *data, size_t len) {
    int fd = memfd_create(name, MFD_CLOEXEC);
    if (fd < 0) return -1;
    const uint8_t *p = data;
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w <= 0) {
            close(fd);
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    lseek(fd, 0, SEEK_SET);
    return fd;
}

/* All of fd's contents from offset 0. */
static uint8_t *read_fd(int fd, size_t *len) {
    struct stat st;
    if (fstat(fd, &st) != 0) return NULL;
    size_t n = (size_t)st.st_size;
    uint8_t *b = wex__malloc(n ? n : 1);
    if (!b) return NULL;
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, b + got, n - got, (off_t)got);
        if (r <= 0) break;
        got += (size_t)r;
    }
    *len = got;
    return b;
}

int wex__os_run_filter(const char *path, char *const argv[], const void *in, size_t inlen,
                       uint8_t **out, size_t *outlen, char *err, size_t errlen) {
    *out = NULL;
    *outlen = 0;
    if (errlen) err[0] = 0;
    int fin = memfd_with("wex-in", in, inlen);
    int fout = memfd_create("wex-out", MFD_CLOEXEC);
    int ferr = memfd_create("wex-err", MFD_CLOEXEC);
    int status = -1;
    if (fin < 0 || fout < 0 || ferr < 0) {
        snprintf(err, errlen, "cannot make files for the compiler: %s", strerror(errno));
        goto out;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fin, 0);
    posix_spawn_file_actions_adddup2(&fa, fout, 1);
    posix_spawn_file_actions_adddup2(&fa, ferr, 2);
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
    if (rc != 0) {
        snprintf(err, errlen, "cannot run %s: %s", path, strerror(rc));
        goto out;
    }
    int ws;
    while (waitpid(pid, &ws, 0) < 0)
        if (errno != EINTR) {
            snprintf(err, errlen, "waiting for %s: %s", path, strerror(errno));
            goto out;
        }
    size_t elen = 0;
    uint8_t *e = read_fd(ferr, &elen);
    if (e && errlen) {
        size_t n = elen < errlen - 1 ? elen : errlen - 1;
        memcpy(err, e, n);
        while (n && (err[n - 1] == '\n' || err[n - 1] == '\r'))
            n--;
        err[n] = 0;
    }
    wex__free(e);
    if (WIFSIGNALED(ws)) {
        if (!err[0]) snprintf(err, errlen, "%s was killed by signal %d", path, WTERMSIG(ws));
        goto out;
    }
    status = WEXITSTATUS(ws);
    if (status == 0) {
        *out = read_fd(fout, outlen);
        if (!*out) {
            status = -1;
            snprintf(err, errlen, "cannot read the compiler's output");
        }
    }
out:
    if (fin >= 0) close(fin);
    if (fout >= 0) close(fout);
    if (ferr >= 0) close(ferr);
    return status;
}
