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

/* The walk ended on a directory ("x/.", "x/.." or "x/"): open it as ".",
 * with the caller's flags, so that O_CREAT gives EISDIR and O_EXCL EEXIST as
 * the kernel's own lookup would. */
static int open_current(int cur, int flags, uint16_t *err) {
    int fd = openat(cur, ".", flags | O_CLOEXEC, 0);
    if (fd < 0) *err = wex__wasi_errno(errno);
    return fd;
}

/* The entry `name` of cur itself, never followed: an O_PATH fd (a symlink's
 * own fd when it is one) and its stat, or -1 with errno. Every directory the
 * walk enters and every link it reads is this one open, so that no name is
 * looked up twice between checking and using it. */
static int open_entry(int cur, const char *name, struct stat *st) {
    int fd = openat(cur, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return -1;
    if (fstat(fd, st)) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* Read the symlink open at lfd (from open_entry) and put its target in front
 * of what is left of the path: *rest becomes target + "/" + after when the
 * link was followed by more (or a trailing slash), else target alone.
 * Absolute targets are refused. Returns 0 or a WASI errno. */
static uint16_t splice_link(int lfd, char **rest, const char *slash, const char *after) {
    char target[WEX__WASI_PATH_MAX + 1];
    ssize_t n = readlinkat(lfd, "", target, WEX__WASI_PATH_MAX);
    if (n < 0) return wex__wasi_errno(errno);
    if ((size_t)n >= WEX__WASI_PATH_MAX) return WEX__E_NAMETOOLONG;
    target[n] = 0;
    if (target[0] == '/') return WEX__E_NOTCAPABLE;
    size_t alen = after ? strlen(after) : 0;
    char *nr = malloc((size_t)n + alen + 2);
    if (!nr) return WEX__E_NOMEM;
    memcpy(nr, target, (size_t)n);
    size_t k = (size_t)n;
    if (slash) nr[k++] = '/';
    memcpy(nr + k, after ? after : "", alen);
    nr[k + alen] = 0;
    free(*rest);
    *rest = nr;
    return 0;
}

/* The fallback walk. Opens `path` beneath dirfd with `flags`. Each component
 * is opened once, relative to the descriptor of the one before, with
 * O_NOFOLLOW and without a trailing slash (which would make the kernel follow
 * a link anyway); symlinks are read from the descriptor of the link itself
 * and expanded here, never by the kernel. So a name swapped for a symlink
 * after we looked at it is at worst opened as that link, never followed out.
 * Returns fd or -1 with *err. */
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
        if (strcmp(comp, ".") == 0) {
            if (last) {
                result = open_current(cur, flags, err);
                goto out;
            }
            p = after;
            continue;
        }
        struct stat st;
        int lfd; /* the component's own O_PATH fd, once it is known to be a link */
        if (last && !trailing) {
            /* The final open, with the caller's flags; O_NOFOLLOW makes a
             * link fail it (or, with O_PATH, open the link itself). */
            int fd = openat(cur, comp, flags | O_NOFOLLOW | O_CLOEXEC, mode);
            if (fd >= 0) {
                if (!(flags & O_PATH) || !follow_last) {
                    result = fd;
                    goto out;
                }
                if (fstat(fd, &st)) {
                    *err = wex__wasi_errno(errno);
                    close(fd);
                    goto out;
                }
                if (!S_ISLNK(st.st_mode)) {
                    result = fd;
                    goto out;
                }
                lfd = fd;
            } else {
                int e = errno;
                /* ELOOP (ENOTDIR with O_DIRECTORY) may mean a link to follow. */
                if (!follow_last || (e != ELOOP && e != ENOTDIR)) {
                    *err = wex__wasi_errno(e);
                    goto out;
                }
                lfd = open_entry(cur, comp, &st);
                if (lfd >= 0 && !S_ISLNK(st.st_mode)) {
                    close(lfd);
                    lfd = -1;
                }
                if (lfd < 0) {
                    *err = wex__wasi_errno(e);
                    goto out;
                }
            }
        } else {
            /* A directory to enter, or a link to expand. */
            if (last && (flags & O_CREAT)) {
                *err = WEX__E_ISDIR; /* as open("x/", O_CREAT) says */
                goto out;
            }
            lfd = open_entry(cur, comp, &st);
            if (lfd < 0) {
                *err = wex__wasi_errno(errno);
                goto out;
            }
            if (S_ISDIR(st.st_mode)) {
                if (depth == MAX_DEPTH) {
                    close(lfd);
                    *err = WEX__E_NAMETOOLONG;
                    goto out;
                }
                stack[depth++] = lfd;
                if (last) {
                    result = open_current(lfd, flags, err);
                    goto out;
                }
                p = after;
                continue;
            }
            if (!S_ISLNK(st.st_mode)) {
                close(lfd);
                *err = WEX__E_NOTDIR;
                goto out;
            }
        }
        /* lfd is a symlink: expand it in place of the component. */
        if (++links > MAX_LINKS) {
            close(lfd);
            *err = WEX__E_LOOP;
            goto out;
        }
        uint16_t e = splice_link(lfd, &rest, slash, after);
        close(lfd);
        if (e) {
            *err = e;
            goto out;
        }
        p = rest;
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
    /* The parent without its trailing slashes ("x", not "x/"), opened with
     * O_DIRECTORY: the walk then opens its last component once, O_NOFOLLOW. */
    size_t plen = start;
    while (plen > 1 && path[plen - 1] == '/')
        plen--;
    char *parent = malloc(plen + 1);
    if (!parent) {
        *err = WEX__E_NOMEM;
        return -1;
    }
    memcpy(parent, path, plen);
    parent[plen] = 0;
    int fd = wex__wasi_open_beneath(dirfd, parent, O_PATH | O_DIRECTORY, 0, err);
    free(parent);
    return fd;
}
