/*
 * wasi_path.c - sandboxed path resolution. Every guest path is resolved
 * beneath a directory fd: with openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)
 * where the kernel has it, else by a component-by-component walk that opens
 * each component with O_NOFOLLOW, expands symlinks itself and refuses `..`
 * above the starting directory and absolute paths or link targets.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "wasi_internal.h"

/* Symlinks followed in one resolution before ELOOP. */
#define MAX_LINKS 40
/* Directory depth the fallback walk tracks. */
#define MAX_DEPTH 256

/* 1: openat2 works, 0: unknown, -1: not available (or, for testing the
 * fallback, disabled by setting WEX_WASI_NO_OPENAT2 in the environment). */
static int have_openat2 = 0;

/* openat2 beneath dirfd; returns fd or -1 with errno. */
static int try_openat2(int dirfd, const char *path, int flags, unsigned mode) {
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = (uint64_t)(unsigned)flags;
    how.mode = (flags & O_CREAT) ? mode : 0;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    for (;;) {
        long r = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
        if (r >= 0 || errno != EAGAIN) return (int)r;
        /* EAGAIN: a concurrent rename raced the lookup; try again. */
    }
}

/* The walk ended on a directory (".." or a trailing "x/."): open it itself. */
static int open_current(int cur, int flags, uint16_t *err) {
    int fd = openat(cur, ".", (flags & ~(O_CREAT | O_EXCL | O_NOFOLLOW)) | O_CLOEXEC);
    if (fd < 0) *err = wex__wasi_errno(errno);
    return fd;
}

/* The fallback walk. Opens `path` beneath dirfd with `flags`; intermediate
 * directories are opened O_PATH|O_NOFOLLOW one at a time and symlinks are
 * expanded here, never by the kernel. Returns fd or -1 with *err. */
static int walk(int dirfd, const char *path, int flags, unsigned mode, uint16_t *err) {
    int stack[MAX_DEPTH];
    int depth = 0; /* stack[0..depth) are fds we own; the current dir is top or dirfd */
    int links = 0, result = -1;
    size_t cap = strlen(path) + 1;
    char *rest = malloc(cap);
    if (!rest) {
        *err = WEX__E_NOMEM;
        return -1;
    }
    memcpy(rest, path, cap);
    bool follow_last = !(flags & O_NOFOLLOW);
    char *p = rest;
    for (;;) {
        int cur = depth ? stack[depth - 1] : dirfd;
        if (*p == '/') {
            *err = WEX__E_NOTCAPABLE;
            goto out;
        }
        char *slash = strchr(p, '/');
        size_t clen = slash ? (size_t)(slash - p) : strlen(p);
        char *after = slash;
        while (after && *after == '/')
            after++;
        bool last = !slash || !*after;
        bool trailing = slash != NULL; /* a trailing slash asks for a directory */
        char comp[NAME_MAX + 1];
        if (clen > NAME_MAX) {
            *err = WEX__E_NAMETOOLONG;
            goto out;
        }
        memcpy(comp, p, clen);
        comp[clen] = 0;
        if (clen == 0) comp[0] = '.', comp[1] = 0;
        if (strcmp(comp, "..") == 0) {
            if (depth == 0) {
                *err = WEX__E_NOTCAPABLE;
                goto out;
            }
            close(stack[--depth]);
            if (last) {
                result = open_current(depth ? stack[depth - 1] : dirfd, flags, err);
                goto out;
            }
            p = after;
            continue;
        }
        if (last) {
            /* Is the last component a symlink to expand? */
            struct stat st;
            bool islink = fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
            if (!islink || (!follow_last && !trailing)) {
                char name[NAME_MAX + 2];
                memcpy(name, comp, clen + 1);
                if (trailing) strcat(name, "/");
                result = openat(cur, name, flags | O_NOFOLLOW | O_CLOEXEC, mode);
                if (result < 0) *err = wex__wasi_errno(errno);
                goto out;
            }
            if (flags & O_EXCL) {
                *err = WEX__E_EXIST;
                goto out;
            }
        }
        struct stat st;
        if (fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            *err = wex__wasi_errno(errno);
            goto out;
        }
        if (S_ISLNK(st.st_mode)) {
            if (++links > MAX_LINKS) {
                *err = WEX__E_LOOP;
                goto out;
            }
            char target[WEX__WASI_PATH_MAX + 1];
            ssize_t n = readlinkat(cur, comp, target, WEX__WASI_PATH_MAX);
            if (n < 0) {
                *err = wex__wasi_errno(errno);
                goto out;
            }
            target[n] = 0;
            if (target[0] == '/') {
                *err = WEX__E_NOTCAPABLE;
                goto out;
            }
            /* rest = target + "/" + after (or target + trailing slash) */
            size_t alen = after ? strlen(after) : 0;
            char *nr = malloc((size_t)n + alen + 3);
            if (!nr) {
                *err = WEX__E_NOMEM;
                goto out;
            }
            memcpy(nr, target, (size_t)n);
            size_t k = (size_t)n;
            if (slash) nr[k++] = '/';
            if (alen) memcpy(nr + k, after, alen);
            nr[k + alen] = 0;
            free(rest);
            rest = p = nr;
            continue;
        }
        if (!S_ISDIR(st.st_mode)) {
            *err = WEX__E_NOTDIR;
            goto out;
        }
        if (strcmp(comp, ".") != 0) {
            if (depth == MAX_DEPTH) {
                *err = WEX__E_NAMETOOLONG;
                goto out;
            }
            int nfd = openat(cur, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (nfd < 0) {
                *err = wex__wasi_errno(errno);
                goto out;
            }
            stack[depth++] = nfd;
        }
        if (last) {
            result = open_current(depth ? stack[depth - 1] : dirfd, flags, err);
            goto out;
        }
        p = after;
    }
out:
    while (depth > 0)
        close(stack[--depth]);
    free(rest);
    return result;
}

/* Open a path beneath dirfd; see wasi_internal.h. */
int wex__wasi_open_beneath(int dirfd, const char *path, int flags, unsigned mode, uint16_t *err) {
    if (path[0] == '/') {
        *err = WEX__E_NOTCAPABLE;
        return -1;
    }
    if (path[0] == 0) {
        *err = WEX__E_NOENT;
        return -1;
    }
    flags |= O_CLOEXEC;
    if (have_openat2 == 0 && getenv("WEX_WASI_NO_OPENAT2")) have_openat2 = -1;
    if (have_openat2 >= 0) {
        int fd = try_openat2(dirfd, path, flags, mode);
        if (fd >= 0) {
            have_openat2 = 1;
            return fd;
        }
        if (errno != ENOSYS || have_openat2 == 1) {
            have_openat2 = 1;
            *err = errno == EXDEV ? WEX__E_NOTCAPABLE : wex__wasi_errno(errno);
            return -1;
        }
        have_openat2 = -1;
    }
    return walk(dirfd, path, flags, mode, err);
}

/* Split off the last component and open its parent beneath dirfd. */
int wex__wasi_open_parent(int dirfd, const char *path, const char **base, uint16_t *err) {
    size_t len = strlen(path);
    if (len == 0) {
        *err = WEX__E_NOENT;
        return -1;
    }
    if (path[0] == '/') {
        *err = WEX__E_NOTCAPABLE;
        return -1;
    }
    size_t end = len; /* end of the last component, before trailing slashes */
    while (end > 0 && path[end - 1] == '/')
        end--;
    size_t start = end;
    while (start > 0 && path[start - 1] != '/')
        start--;
    size_t clen = end - start;
    bool dots = (clen == 1 && path[start] == '.') ||
                (clen == 2 && path[start] == '.' && path[start + 1] == '.');
    if (dots) {
        /* "x/.." names a directory: resolve all of it and act on ".". */
        *base = ".";
        return wex__wasi_open_beneath(dirfd, path, O_PATH | O_DIRECTORY, 0, err);
    }
    *base = path + start;
    if (start == 0) return wex__wasi_open_beneath(dirfd, ".", O_PATH | O_DIRECTORY, 0, err);
    char *parent = malloc(start + 1);
    if (!parent) {
        *err = WEX__E_NOMEM;
        return -1;
    }
    memcpy(parent, path, start);
    parent[start] = 0;
    int fd = wex__wasi_open_beneath(dirfd, parent, O_PATH | O_DIRECTORY, 0, err);
    free(parent);
    return fd;
}
