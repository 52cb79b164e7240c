/*
 * wasi_fs.c - the path_* functions of WASI preview1. Each resolves its path
 * beneath the directory fd it is given (wasi_path.c) and then acts on the last
 * component with an *at call relative to the resolved parent, so the kernel
 * never walks a guest path from anywhere but inside the sandbox.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wasi_internal.h"

#define ERRNO() wex__wasi_errno(errno)

uint16_t wex__wasi_store_filestat(wex_wasi_t *w, uint32_t ptr, const struct stat *st);
uint16_t wex__wasi_times(uint64_t atim, uint64_t mtim, uint32_t fl, struct timespec ts[2]);

/* A resolved path: the parent directory (O_PATH fd) and the last component. */
typedef struct {
    char *path;         /* the guest path, NUL-terminated */
    int parent;         /* -1 until resolved */
    const char *base;   /* points into path, or "." */
    int dirfd;          /* the host fd of the guest's directory fd */
    wex__wasi_fd_t dir; /* the directory's entry, pinned (no lock held) */
} rpath_t;

/* Fetch the directory fd and path; resolve the parent. */
static uint16_t resolve(wex_wasi_t *w, uint32_t fd, uint64_t rights, uint32_t ptr, uint32_t len,
                        rpath_t *r) {
    r->path = NULL;
    r->parent = -1;
    uint16_t err = wex__wasi_pin(w, fd, rights, &r->dir);
    if (err) return err;
    const wex__wasi_fd_t *e = &r->dir;
    if (e->filetype != WEX__FT_DIR || e->host < 0) return WEX__E_NOTDIR;
    r->dirfd = e->host;
    r->path = wex__wasi_path(w, ptr, len, &err);
    if (!r->path) return err;
    r->parent = wex__wasi_open_parent(e->host, r->path, &r->base, &err);
    return r->parent < 0 ? err : 0;
}

/* Release a resolved path. */
static void release(rpath_t *r) {
    if (r->parent >= 0) close(r->parent);
    free(r->path);
    wex__wasi_unpin(&r->dir);
}

/* Does the last component end in '/'? */
static bool has_trailing_slash(const char *base) {
    size_t n = strlen(base);
    return n > 0 && base[n - 1] == '/';
}

/* The last component without its trailing slashes, into name; *trailing
 * says whether it had any. Returns 0 or a WASI errno. */
static uint16_t base_name(const rpath_t *r, char name[NAME_MAX + 1], bool *trailing) {
    size_t n = strlen(r->base);
    *trailing = has_trailing_slash(r->base);
    while (n > 0 && r->base[n - 1] == '/')
        n--;
    if (n > NAME_MAX) return WEX__E_NAMETOOLONG;
    memcpy(name, r->base, n);
    name[n] = 0;
    return 0;
}

/* When the last component has a trailing slash and names a symlink, the
 * kernel would follow it even for "nofollow" calls; refuse that here so that
 * no *at call follows a link the sandbox did not resolve. Returns 0 if the
 * call may go ahead. The calls that run after it (mkdirat, unlinkat,
 * renameat, symlinkat, linkat's new name) never follow their last component
 * even with a slash, so a link swapped in afterwards is not followed. */
static uint16_t check_trailing(const rpath_t *r) {
    char name[NAME_MAX + 1];
    bool trailing;
    uint16_t e = base_name(r, name, &trailing);
    if (e || !trailing) return e;
    struct stat st;
    if (fstatat(r->parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
        return WEX__E_NOTDIR;
    return 0;
}

/* The /proc/self/fd path of a host fd (to act on O_PATH fds). */
static void proc_path(char *buf, size_t n, int fd) {
    snprintf(buf, n, "/proc/self/fd/%d", fd);
}

/* path_create_directory(fd, path, path_len) */
uint32_t wex__wasi_path_create_directory(wex_wasi_t *w, const wex_val_t *a) {
    rpath_t r;
    uint16_t e =
        resolve(w, WEX__U32(0), WEX__R_PATH_CREATE_DIRECTORY, WEX__U32(1), WEX__U32(2), &r);
    if (!e) e = check_trailing(&r);
    if (!e && mkdirat(r.parent, r.base, 0777)) e = ERRNO();
    release(&r);
    return e;
}

/* path_filestat_get(fd, flags, path, path_len, buf) */
uint32_t wex__wasi_path_filestat_get(wex_wasi_t *w, const wex_val_t *a) {
    bool follow = WEX__U32(1) & 1;
    if (!wex__wasi_mem(w, WEX__U32(4), 64)) return WEX__E_FAULT;
    rpath_t r;
    uint16_t e = resolve(w, WEX__U32(0), WEX__R_PATH_FILESTAT_GET, WEX__U32(2), WEX__U32(3), &r);
    struct stat st;
    if (!e && (follow || has_trailing_slash(r.base))) {
        int fd = wex__wasi_open_beneath(r.dirfd, r.path, O_PATH, 0, &e);
        if (fd >= 0) {
            if (fstat(fd, &st)) e = ERRNO();
            close(fd);
        }
    } else if (!e && fstatat(r.parent, r.base, &st, AT_SYMLINK_NOFOLLOW)) {
        e = ERRNO();
    }
    if (!e) e = wex__wasi_store_filestat(w, WEX__U32(4), &st);
    release(&r);
    return e;
}

/* path_filestat_set_times(fd, flags, path, path_len, atim, mtim, fstflags) */
uint32_t wex__wasi_path_filestat_set_times(wex_wasi_t *w, const wex_val_t *a) {
    bool follow = WEX__U32(1) & 1;
    struct timespec ts[2];
    uint16_t e = wex__wasi_times(WEX__U64(4), WEX__U64(5), WEX__U32(6), ts);
    if (e) return e;
    rpath_t r;
    e = resolve(w, WEX__U32(0), WEX__R_PATH_FILESTAT_SET_TIMES, WEX__U32(2), WEX__U32(3), &r);
    if (!e && (follow || has_trailing_slash(r.base))) {
        int fd = wex__wasi_open_beneath(r.dirfd, r.path, O_PATH, 0, &e);
        if (fd >= 0) {
            char pp[64];
            proc_path(pp, sizeof pp, fd);
            if (utimensat(AT_FDCWD, pp, ts, 0)) e = ERRNO();
            close(fd);
        }
    } else if (!e && utimensat(r.parent, r.base, ts, AT_SYMLINK_NOFOLLOW)) {
        e = ERRNO();
    }
    release(&r);
    return e;
}

/* path_link(old_fd, old_flags, old_path, old_len, new_fd, new_path, new_len) */
uint32_t wex__wasi_path_link(wex_wasi_t *w, const wex_val_t *a) {
    bool follow = WEX__U32(1) & 1;
    rpath_t o, n;
    n.path = NULL;
    n.parent = -1;
    n.dir.h = NULL;
    uint16_t e = resolve(w, WEX__U32(0), WEX__R_PATH_LINK_SOURCE, WEX__U32(2), WEX__U32(3), &o);
    if (!e) e = resolve(w, WEX__U32(4), WEX__R_PATH_LINK_TARGET, WEX__U32(5), WEX__U32(6), &n);
    if (!e) e = check_trailing(&n);
    if (!e && has_trailing_slash(o.base)) e = WEX__E_NOTDIR; /* only files can be linked */
    if (!e && follow) {
        int fd = wex__wasi_open_beneath(o.dirfd, o.path, O_PATH, 0, &e);
        if (fd >= 0) {
            char pp[64];
            proc_path(pp, sizeof pp, fd);
            if (linkat(AT_FDCWD, pp, n.parent, n.base, AT_SYMLINK_FOLLOW)) e = ERRNO();
            close(fd);
        }
    } else if (!e && linkat(o.parent, o.base, n.parent, n.base, 0)) {
        e = ERRNO();
    }
    release(&o);
    release(&n);
    return e;
}

/* Host open(2) flags for a guest path_open. */
static int host_flags(uint32_t oflags, uint32_t fdflags, bool follow, bool rd, bool wr) {
    int f = wr ? (rd ? O_RDWR : O_WRONLY) : O_RDONLY;
    if (oflags & 1) f |= O_CREAT;
    if (oflags & 2) f |= O_DIRECTORY;
    if (oflags & 4) f |= O_EXCL;
    if (oflags & 8) f |= O_TRUNC;
    if (fdflags & WEX__FDF_APPEND) f |= O_APPEND;
    if (fdflags & WEX__FDF_DSYNC) f |= O_DSYNC;
    if (fdflags & WEX__FDF_NONBLOCK) f |= O_NONBLOCK;
    if (fdflags & (WEX__FDF_SYNC | WEX__FDF_RSYNC)) f |= O_SYNC;
    if (!follow) f |= O_NOFOLLOW;
    return f;
}

/* path_open(fd, dirflags, path, path_len, oflags, base, inheriting, fdflags, fd_out) */
uint32_t wex__wasi_path_open(wex_wasi_t *w, const wex_val_t *a) {
    bool follow = WEX__U32(1) & 1;
    uint32_t oflags = WEX__U32(4), fdflags = WEX__U32(7);
    uint64_t base = WEX__U64(5), inh = WEX__U64(6);
    if (oflags & ~15u || fdflags & ~31u) return WEX__E_INVAL;
    if (!wex__wasi_mem(w, WEX__U32(8), 4)) return WEX__E_FAULT;
    uint64_t need = WEX__R_PATH_OPEN;
    if (oflags & 1) need |= WEX__R_PATH_CREATE_FILE;
    if (oflags & 8) need |= WEX__R_PATH_FILESTAT_SET_SIZE;
    WEX__WASI_PINNED dpin;
    uint16_t e = wex__wasi_pin(w, WEX__U32(0), need, &dpin);
    if (e) return e;
    const wex__wasi_fd_t *d = &dpin;
    if (d->filetype != WEX__FT_DIR || d->host < 0) return WEX__E_NOTDIR;
    /* The new fd gets at most what the directory passes on. */
    base &= d->inh;
    inh &= d->inh;
    char *path = wex__wasi_path(w, WEX__U32(2), WEX__U32(3), &e);
    if (!path) return e;
    bool rd = base & (WEX__R_FD_READ | WEX__R_FD_READDIR);
    /* Write rights on a directory fail with EISDIR, from the kernel. */
    bool wr = (base & (WEX__R_FD_WRITE | WEX__R_FD_ALLOCATE | WEX__R_FD_FILESTAT_SET_SIZE)) ||
              (fdflags & WEX__FDF_APPEND);
    int fd = wex__wasi_open_beneath(d->host, path, host_flags(oflags, fdflags, follow, rd, wr),
                                    0666, &e);
    free(path);
    if (fd < 0) return e;
    struct stat st;
    if (fstat(fd, &st)) {
        e = ERRNO();
        close(fd);
        return e;
    }
    wex__wasi_fd_t ne = {.used = true};
    if (!wex__wasi_set_host(&ne, fd)) return WEX__E_NOMEM;
    ne.filetype = wex__wasi_filetype_of_mode(st.st_mode);
    if (fdflags & WEX__FDF_RSYNC) ne.rsync = WEX__FDF_RSYNC;
    if (ne.filetype == WEX__FT_DIR) {
        ne.base = base & WEX__R_DIR;
        ne.inh = inh;
    } else {
        ne.base = base & WEX__R_FILE;
        ne.inh = 0;
        if (ne.filetype == WEX__FT_CHAR || ne.filetype == WEX__FT_UNKNOWN)
            ne.base &= ~(WEX__R_FD_SEEK | WEX__R_FD_TELL);
    }
    wex__wasi_lock(w);
    int64_t g = wex__wasi_add_fd(w, &ne);
    wex__wasi_unlock(w);
    if (g < 0) {
        wex__wasi_free_fd(&ne);
        return WEX__E_MFILE;
    }
    wex__wasi_put_u32(w, WEX__U32(8), (uint32_t)g);
    return 0;
}

/* path_readlink(fd, path, path_len, buf, buf_len, bufused): the contents are
 * truncated to buf_len. The link is read by its name without trailing
 * slashes (with them readlinkat would follow it): "x/" gives what the kernel
 * gives for a directory (EINVAL) or anything else (ENOTDIR), and ENOTDIR
 * for a link, as check_trailing does. */
uint32_t wex__wasi_path_readlink(wex_wasi_t *w, const wex_val_t *a) {
    uint32_t buf_len = WEX__U32(4);
    uint8_t *buf = wex__wasi_mem(w, WEX__U32(3), buf_len);
    if (!buf || !wex__wasi_mem(w, WEX__U32(5), 4)) return WEX__E_FAULT;
    rpath_t r;
    char name[NAME_MAX + 1];
    bool trailing = false;
    uint16_t e = resolve(w, WEX__U32(0), WEX__R_PATH_READLINK, WEX__U32(1), WEX__U32(2), &r);
    if (!e) e = base_name(&r, name, &trailing);
    if (!e) {
        char tmp[WEX__WASI_PATH_MAX + 1];
        ssize_t n = readlinkat(r.parent, name, tmp, sizeof tmp);
        struct stat st;
        if (n >= 0 && trailing) {
            e = WEX__E_NOTDIR;
        } else if (n < 0 && trailing && errno == EINVAL) {
            bool dir =
                fstatat(r.parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
            e = dir ? WEX__E_INVAL : WEX__E_NOTDIR;
        } else if (n < 0) {
            e = ERRNO();
        } else {
            size_t k = (size_t)n < buf_len ? (size_t)n : buf_len;
            memcpy(buf, tmp, k);
            wex__wasi_put_u32(w, WEX__U32(5), (uint32_t)k);
        }
    }
    release(&r);
    return e;
}

/* path_remove_directory(fd, path, path_len) */
uint32_t wex__wasi_path_remove_directory(wex_wasi_t *w, const wex_val_t *a) {
    rpath_t r;
    uint16_t e =
        resolve(w, WEX__U32(0), WEX__R_PATH_REMOVE_DIRECTORY, WEX__U32(1), WEX__U32(2), &r);
    if (!e) e = check_trailing(&r);
    if (!e && unlinkat(r.parent, r.base, AT_REMOVEDIR)) e = ERRNO();
    release(&r);
    return e;
}

/* path_rename(fd, old_path, old_len, new_fd, new_path, new_len) */
uint32_t wex__wasi_path_rename(wex_wasi_t *w, const wex_val_t *a) {
    rpath_t o, n;
    n.path = NULL;
    n.parent = -1;
    n.dir.h = NULL;
    uint16_t e = resolve(w, WEX__U32(0), WEX__R_PATH_RENAME_SOURCE, WEX__U32(1), WEX__U32(2), &o);
    if (!e) e = resolve(w, WEX__U32(3), WEX__R_PATH_RENAME_TARGET, WEX__U32(4), WEX__U32(5), &n);
    if (!e) e = check_trailing(&o);
    if (!e) e = check_trailing(&n);
    if (!e && renameat(o.parent, o.base, n.parent, n.base)) e = ERRNO();
    release(&o);
    release(&n);
    return e;
}

/* path_symlink(old_path, old_len, fd, new_path, new_len). Absolute targets
 * are refused: such a link could only ever lead out of the sandbox. */
uint32_t wex__wasi_path_symlink(wex_wasi_t *w, const wex_val_t *a) {
    uint16_t e = 0;
    char *target = wex__wasi_path(w, WEX__U32(0), WEX__U32(1), &e);
    if (!target) return e;
    rpath_t r;
    e = resolve(w, WEX__U32(2), WEX__R_PATH_SYMLINK, WEX__U32(3), WEX__U32(4), &r);
    if (!e && target[0] == '/') e = WEX__E_NOTCAPABLE;
    if (!e) e = check_trailing(&r);
    if (!e && symlinkat(target, r.parent, r.base)) e = ERRNO();
    release(&r);
    free(target);
    return e;
}

/* path_unlink_file(fd, path, path_len) */
uint32_t wex__wasi_path_unlink_file(wex_wasi_t *w, const wex_val_t *a) {
    rpath_t r;
    uint16_t e = resolve(w, WEX__U32(0), WEX__R_PATH_UNLINK_FILE, WEX__U32(1), WEX__U32(2), &r);
    if (!e) e = check_trailing(&r);
    if (!e && unlinkat(r.parent, r.base, 0)) e = ERRNO();
    release(&r);
    return e;
}
