/*
 * wasi_fd.c - the fd_* functions of WASI preview1.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "wasi_internal.h"

#define ERRNO() wex__wasi_errno(errno)

/* Pin fd with rights (a copy of its entry, see wex__wasi_pin) as `var` for
 * the rest of the calling handler, or return the errno from it. */
#define GET_FD(var, fd, rights)                                                                    \
    WEX__WASI_PINNED var##_pin_;                                                                   \
    uint16_t err_ = wex__wasi_pin(w, (fd), (rights), &var##_pin_);                                 \
    if (err_) return err_;                                                                         \
    const wex__wasi_fd_t *var = &var##_pin_

/* Look up fd with rights in the table itself, for handlers that change the
 * entry or read what a pinned copy lacks; the caller holds the lock. On
 * failure: unlock and return the errno from the calling handler. */
#define GET_LIVE_FD(var, fd, rights)                                                               \
    uint16_t err_ = 0;                                                                             \
    wex__wasi_fd_t *var = wex__wasi_get_fd(w, (fd), (rights), &err_);                              \
    if (!var) {                                                                                    \
        wex__wasi_unlock(w);                                                                       \
        return err_;                                                                               \
    }

/* Translate a guest iovec array into host iovecs, checking every buffer.
 * At most IOV_MAX entries are used (a short transfer is allowed). */
static uint16_t get_iovs(wex_wasi_t *w, uint32_t iovs, uint32_t n, struct iovec **out, int *count) {
    const uint8_t *arr = wex__wasi_mem(w, iovs, (uint64_t)n * 8);
    if (!arr) return WEX__E_FAULT;
    if (n > IOV_MAX) n = IOV_MAX;
    struct iovec *v = malloc((n ? n : 1) * sizeof *v);
    if (!v) return WEX__E_NOMEM;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t ptr = wex__wasi_ld32(arr + 8 * i), len = wex__wasi_ld32(arr + 8 * i + 4);
        uint8_t *p = wex__wasi_mem(w, ptr, len);
        if (!p) {
            free(v);
            return WEX__E_FAULT;
        }
        v[i].iov_base = p;
        v[i].iov_len = len;
    }
    *out = v;
    *count = (int)n;
    return 0;
}

/* Convert a host struct stat into the 64-byte filestat at guest ptr. */
static void put_filestat(uint8_t *p, const struct stat *st) {
    memset(p, 0, 64);
    wex__wasi_st64(p, (uint64_t)st->st_dev);
    wex__wasi_st64(p + 8, (uint64_t)st->st_ino);
    p[16] = wex__wasi_filetype_of_mode(st->st_mode);
    wex__wasi_st64(p + 24, (uint64_t)st->st_nlink);
    wex__wasi_st64(p + 32, (uint64_t)st->st_size);
    wex__wasi_st64(p + 40, (uint64_t)st->st_atim.tv_sec * 1000000000u + st->st_atim.tv_nsec);
    wex__wasi_st64(p + 48, (uint64_t)st->st_mtim.tv_sec * 1000000000u + st->st_mtim.tv_nsec);
    wex__wasi_st64(p + 56, (uint64_t)st->st_ctim.tv_sec * 1000000000u + st->st_ctim.tv_nsec);
}

/* Shared with wasi_fs.c: stat into guest memory. */
uint16_t wex__wasi_store_filestat(wex_wasi_t *w, uint32_t ptr, const struct stat *st);
uint16_t wex__wasi_store_filestat(wex_wasi_t *w, uint32_t ptr, const struct stat *st) {
    uint8_t *p = wex__wasi_mem(w, ptr, 64);
    if (!p) return WEX__E_FAULT;
    put_filestat(p, st);
    return 0;
}

/* Build the timespec pair for utimensat from fstflags; EINVAL on bad flags. */
uint16_t wex__wasi_times(uint64_t atim, uint64_t mtim, uint32_t fl, struct timespec ts[2]);
uint16_t wex__wasi_times(uint64_t atim, uint64_t mtim, uint32_t fl, struct timespec ts[2]) {
    if (fl & ~15u) return WEX__E_INVAL;
    if ((fl & 1) && (fl & 2)) return WEX__E_INVAL;
    if ((fl & 4) && (fl & 8)) return WEX__E_INVAL;
    uint64_t v[2] = {atim, mtim};
    for (int i = 0; i < 2; i++) {
        unsigned set = (fl >> (2 * i)) & 1, now = (fl >> (2 * i + 1)) & 1;
        if (now) {
            ts[i].tv_sec = 0;
            ts[i].tv_nsec = UTIME_NOW;
        } else if (set) {
            ts[i].tv_sec = (time_t)(v[i] / 1000000000u);
            ts[i].tv_nsec = (long)(v[i] % 1000000000u);
        } else {
            ts[i].tv_sec = 0;
            ts[i].tv_nsec = UTIME_OMIT;
        }
    }
    return 0;
}

/* fd_advise(fd, offset, len, advice) */
uint32_t wex__wasi_fd_advise(wex_wasi_t *w, const wex_val_t *a) {
    GET_FD(e, WEX__U32(0), WEX__R_FD_ADVISE);
    uint32_t adv = WEX__U32(3);
    static const int map[] = {POSIX_FADV_NORMAL,   POSIX_FADV_SEQUENTIAL, POSIX_FADV_RANDOM,
                              POSIX_FADV_WILLNEED, POSIX_FADV_DONTNEED,   POSIX_FADV_NOREUSE};
    if (adv > 5) return WEX__E_INVAL;
    if (WEX__U64(1) > INT64_MAX || WEX__U64(2) > INT64_MAX) return WEX__E_INVAL;
    if (e->host < 0) return WEX__E_BADF;
    if (e->filetype == WEX__FT_DIR) return WEX__E_BADF;
    int r = posix_fadvise(e->host, (off_t)WEX__U64(1), (off_t)WEX__U64(2), map[adv]);
    if (r == ESPIPE) return WEX__E_SPIPE;
    return r ? wex__wasi_errno(r) : 0;
}

/* fd_allocate(fd, offset, len) */
uint32_t wex__wasi_fd_allocate(wex_wasi_t *w, const wex_val_t *a) {
    GET_FD(e, WEX__U32(0), WEX__R_FD_ALLOCATE);
    uint64_t off = WEX__U64(1), len = WEX__U64(2);
    if (off > INT64_MAX || len > INT64_MAX || off + len > INT64_MAX) return WEX__E_INVAL;
    if (e->host < 0 || e->filetype == WEX__FT_DIR) return WEX__E_BADF;
    int r = posix_fallocate(e->host, (off_t)off, (off_t)len);
    return r ? wex__wasi_errno(r) : 0;
}

/* fd_close(fd): the entry leaves the table at once; its host fd closes when
 * calls in other threads that use it have returned. */
uint32_t wex__wasi_fd_close(wex_wasi_t *w, const wex_val_t *a) {
    wex__wasi_lock(w);
    GET_LIVE_FD(e, WEX__U32(0), 0);
    wex__wasi_fd_t old = *e;
    memset(e, 0, sizeof *e);
    e->host = -1;
    wex__wasi_unlock(w);
    wex__wasi_free_fd(&old);
    return 0;
}

/* fd_datasync(fd) */
uint32_t wex__wasi_fd_datasync(wex_wasi_t *w, const wex_val_t *a) {
    GET_FD(e, WEX__U32(0), WEX__R_FD_DATASYNC);
    if (e->host < 0) return WEX__E_INVAL;
    return fdatasync(e->host) ? ERRNO() : 0;
}

/* The fdflags of an entry, from the host's file status flags. */
static uint16_t fdflags_of(const wex__wasi_fd_t *e) {
    uint16_t f = e->rsync;
    if (e->host < 0) return f;
    int fl = fcntl(e->host, F_GETFL);
    if (fl < 0) return f;
    if (fl & O_APPEND) f |= WEX__FDF_APPEND;
    if (fl & O_NONBLOCK) f |= WEX__FDF_NONBLOCK;
    if ((fl & O_SYNC) == O_SYNC)
        f |= WEX__FDF_SYNC;
    else if (fl & O_DSYNC)
        f |= WEX__FDF_DSYNC;
    return f;
}

/* fd_fdstat_get(fd, buf) */
uint32_t wex__wasi_fd_fdstat_get(wex_wasi_t *w, const wex_val_t *a) {
    GET_FD(e, WEX__U32(0), 0);
    uint8_t *p = wex__wasi_mem(w, WEX__U32(1), 24);
    if (!p) return WEX__E_FAULT;
    memset(p, 0, 24);
    p[0] = e->filetype;
    wex__wasi_st16(p + 2, fdflags_of(e));
    wex__wasi_st64(p + 8, e->base);
    wex__wasi_st64(p + 16, e->inh);
    return 0;
}

/* fd_fdstat_set_flags(fd, flags): APPEND and NONBLOCK can change. */
uint32_t wex__wasi_fd_fdstat_set_flags(wex_wasi_t *w, const wex_val_t *a) {
    GET_FD(e, WEX__U32(0), WEX__R_FD_FDSTAT_SET_FLAGS);
    uint32_t f = WEX__U32(1);
    if (f & ~31u) return WEX__E_INVAL;
    if (e->host < 0) return f ? WEX__E_NOTSUP : 0;
    if (f & (WEX__FDF_DSYNC | WEX__FDF_SYNC | WEX__FDF_RSYNC)) return WEX__E_NOTSUP;
    int fl = fcntl(e->host, F_GETFL);
    if (fl < 0) return ERRNO();
    fl &= ~(O_APPEND | O_NONBLOCK);
    if (f & WEX__FDF_APPEND) fl |= O_APPEND;
    if (f & WEX__FDF_NONBLOCK) fl |= O_NONBLOCK;
    return fcntl(e->host, F_SETFL, fl) ? ERRNO() : 0;
}

/* fd_fdstat_set_rights(fd, base, inheriting): rights can only shrink. */
uint32_t wex__wasi_fd_fdstat_set_rights(wex_wasi_t *w, const wex_val_t *a) {
    wex__wasi_lock(w);
    GET_LIVE_FD(e, WEX__U32(0), 0);
    uint64_t b = WEX__U64(1), i = WEX__U64(2);
    uint16_t r = 0;
    if ((b & ~e->base) || (i & ~e->inh)) {
        r = WEX__E_NOTCAPABLE;
    } else {
        e->base = b;
        e->inh = i;
    }
    wex__wasi_unlock(w);
    return r;
}

/* fd_filestat_get(fd, buf) */
uint32_t wex__wasi_fd_filestat_get(wex_wasi_t *w, const wex_val_t *a) {
    GET_FD(e, WEX__U32(0), WEX__R_FD_FILESTAT_GET);
    struct stat st;
    if (e->host < 0) {
        memset(&st, 0, sizeof st);
        st.st_mode = S_IFCHR;
        st.st_nlink = 1;
    } else if (fstat(e->host, &st)) {
        return ERRNO();
    }
    return wex__wasi_store_filestat(w, WEX__U32(1), &st);
}

/* fd_filestat_set_size(fd, size) */
uint32_t wex__wasi_fd_filestat_set_size(wex_wasi_t *w, const wex_val_t *a) {
    GET_FD(e, WEX__U32(0), WEX__R_FD_FILESTAT_SET_SIZE);
    if (WEX__U64(1) > INT64_MAX) return WEX__E_INVAL;
    if (e->host < 0) return WEX__E_INVAL;
    return ftruncate(e->host, (off_t)WEX__U64(1)) ? ERRNO() : 0;
}

/* fd_filestat_set_times(fd, atim, mtim, fstflags) */
uint32_t wex__wasi_fd_filestat_set_times(wex_wasi_t *w, const wex_val_t *a) {
    GET_FD(e, WEX__U32(0), WEX__R_FD_FILESTAT_SET_TIMES);
    struct timespec ts[2];
    uint16_t r = wex__wasi_times(WEX__U64(1), WEX__U64(2), WEX__U32(3), ts);
    if (r) return r;
    if (e->host < 0) return WEX__E_INVAL;
    return futimens(e->host, ts) ? ERRNO() : 0;
}

/* Read from an in-memory stdin into iovecs (under the lock). */
static size_t mem_read(wex__wasi_fd_t *e, const struct iovec *v, int n) {
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        size_t avail = e->mem->len - e->mem_pos;
        size_t k = v[i].iov_len < avail ? v[i].iov_len : avail;
        if (k) memcpy(v[i].iov_base, e->mem->data + e->mem_pos, k);
        e->mem_pos += k;
        total += k;
    }
    return total;
}

/* Append iovecs to an in-memory output buffer (under the lock). */
static uint16_t mem_write(wex__wasi_fd_t *e, const struct iovec *v, int n, size_t *done) {
    size_t total = 0;
    for (int i = 0; i < n; i++)
        total += v[i].iov_len;
    wex__wasi_buf_t *b = e->mem;
    if (total > SIZE_MAX / 2 - b->len) return WEX__E_NOSPC;
    if (b->len + total > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + total)
            cap *= 2;
        uint8_t *d = realloc(b->data, cap);
        if (!d) return WEX__E_NOMEM;
        b->data = d;
        b->cap = cap;
    }
    for (int i = 0; i < n; i++) {
        if (v[i].iov_len) memcpy(b->data + b->len, v[i].iov_base, v[i].iov_len);
        b->len += v[i].iov_len;
    }
    *done = total;
    return 0;
}

/* The shared body of fd_read/fd_pread/fd_write/fd_pwrite. */
static uint32_t transfer(wex_wasi_t *w, const wex_val_t *a, bool write, bool positional) {
    uint64_t rights = write ? WEX__R_FD_WRITE : WEX__R_FD_READ;
    if (positional) rights |= WEX__R_FD_SEEK;
    GET_FD(e, WEX__U32(0), rights);
    uint32_t out_ptr = positional ? WEX__U32(4) : WEX__U32(3);
    if (!wex__wasi_mem(w, out_ptr, 4)) return WEX__E_FAULT;
    uint64_t off = positional ? WEX__U64(3) : 0;
    if (positional && off > INT64_MAX) return WEX__E_INVAL;
    struct iovec *v;
    int n;
    uint16_t r = get_iovs(w, WEX__U32(1), WEX__U32(2), &v, &n);
    if (r) return r;
    size_t done = 0;
    if (e->host < 0) {
        /* In-memory stdio: the live entry (its read position), under the
         * lock; the fd may have been closed or renumbered since the pin. */
        wex__wasi_lock(w);
        uint16_t gerr = 0;
        wex__wasi_fd_t *le = wex__wasi_get_fd(w, WEX__U32(0), rights, &gerr);
        if (!le || le->mem != e->mem)
            r = le ? WEX__E_BADF : gerr;
        else if (positional)
            r = WEX__E_SPIPE;
        else if (le->mem_input == write)
            r = WEX__E_BADF;
        else if (write)
            r = mem_write(le, v, n, &done);
        else
            done = mem_read(le, v, n);
        wex__wasi_unlock(w);
    } else if (e->filetype == WEX__FT_DIR) {
        r = WEX__E_ISDIR;
    } else {
        ssize_t k;
        if (write && positional && (fcntl(e->host, F_GETFL) & O_APPEND)) {
            /* Linux's pwrite appends on O_APPEND files; the offset must win. */
            int fl = fcntl(e->host, F_GETFL);
            fcntl(e->host, F_SETFL, fl & ~O_APPEND);
            k = pwritev(e->host, v, n, (off_t)off);
            int saved = errno;
            fcntl(e->host, F_SETFL, fl);
            errno = saved;
        } else if (write) {
            k = positional ? pwritev(e->host, v, n, (off_t)off) : writev(e->host, v, n);
        } else {
            k = positional ? preadv(e->host, v, n, (off_t)off) : readv(e->host, v, n);
        }
        if (k < 0)
            r = ERRNO();
        else
            done = (size_t)k;
    }
    free(v);
    if (r) return r;
    wex__wasi_put_u32(w, out_ptr, (uint32_t)done);
    return 0;
}

/* fd_pread(fd, iovs, iovs_len, offset, nread) */
uint32_t wex__wasi_fd_pread(wex_wasi_t *w, const wex_val_t *a) {
    return transfer(w, a, false, true);
}

/* fd_pwrite(fd, iovs, iovs_len, offset, nwritten) */
uint32_t wex__wasi_fd_pwrite(wex_wasi_t *w, const wex_val_t *a) {
    return transfer(w, a, true, true);
}

/* fd_read(fd, iovs, iovs_len, nread) */
uint32_t wex__wasi_fd_read(wex_wasi_t *w, const wex_val_t *a) {
    return transfer(w, a, false, false);
}

/* fd_write(fd, iovs, iovs_len, nwritten) */
uint32_t wex__wasi_fd_write(wex_wasi_t *w, const wex_val_t *a) {
    return transfer(w, a, true, false);
}

/* fd_prestat_get(fd, buf): tag 0 (dir) and the guest name's length. */
uint32_t wex__wasi_fd_prestat_get(wex_wasi_t *w, const wex_val_t *a) {
    wex__wasi_lock(w);
    GET_LIVE_FD(e, WEX__U32(0), 0);
    uint16_t r = 0;
    uint8_t *p = wex__wasi_mem(w, WEX__U32(1), 8);
    if (!e->preopen) {
        r = WEX__E_BADF;
    } else if (!p) {
        r = WEX__E_FAULT;
    } else {
        memset(p, 0, 8);
        wex__wasi_st32(p + 4, (uint32_t)strlen(e->preopen));
    }
    wex__wasi_unlock(w);
    return r;
}

/* fd_prestat_dir_name(fd, path, path_len) */
uint32_t wex__wasi_fd_prestat_dir_name(wex_wasi_t *w, const wex_val_t *a) {
    wex__wasi_lock(w);
    GET_LIVE_FD(e, WEX__U32(0), 0);
    uint16_t r = 0;
    size_t n = e->preopen ? strlen(e->preopen) : 0;
    uint8_t *p = wex__wasi_mem(w, WEX__U32(1), n);
    if (!e->preopen)
        r = WEX__E_BADF;
    else if (WEX__U32(2) < n)
        r = WEX__E_NAMETOOLONG;
    else if (!p)
        r = WEX__E_FAULT;
    else
        memcpy(p, e->preopen, n);
    wex__wasi_unlock(w);
    return r;
}

/* Read the whole directory of host fd `host` into e's cache fields (in the
 * host's order). e is a scratch entry, not in the table: this runs without
 * the lock. */
static uint16_t load_dir(int host, wex__wasi_fd_t *e) {
    int fd = openat(host, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return ERRNO();
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return ERRNO();
    }
    size_t cap = 0;
    struct dirent *de;
    uint16_t r = 0;
    errno = 0;
    while ((de = readdir(d))) {
        if (e->nents == cap) {
            cap = cap ? cap * 2 : 16;
            wex__wasi_dirent_t *n = realloc(e->ents, cap * sizeof *n);
            if (!n) {
                r = WEX__E_NOMEM;
                break;
            }
            e->ents = n;
        }
        wex__wasi_dirent_t *x = &e->ents[e->nents];
        x->name = strdup(de->d_name);
        if (!x->name) {
            r = WEX__E_NOMEM;
            break;
        }
        x->namelen = (uint32_t)strlen(de->d_name);
        x->ino = de->d_ino;
        unsigned mode = 0;
        switch (de->d_type) {
        case DT_BLK: mode = S_IFBLK; break;
        case DT_CHR: mode = S_IFCHR; break;
        case DT_DIR: mode = S_IFDIR; break;
        case DT_REG: mode = S_IFREG; break;
        case DT_SOCK: mode = S_IFSOCK; break;
        case DT_LNK: mode = S_IFLNK; break;
        case DT_FIFO: mode = S_IFIFO; break;
        default: {
            struct stat st;
            if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) mode = st.st_mode;
        }
        }
        x->type = wex__wasi_filetype_of_mode(mode);
        e->nents++;
    }
    closedir(d);
    return r;
}

/* Is `live` still the entry that `pin` copied (not closed or renumbered)? */
static bool same_entry(const wex__wasi_fd_t *live, const wex__wasi_fd_t *pin) {
    return live && live->h == pin->h;
}

/* fd_readdir(fd, buf, buf_len, cookie, bufused): cookie k means "start at the
 * k-th entry"; the cache is refreshed when reading from cookie 0. The
 * directory is read without the lock, into a scratch entry that then becomes
 * the cache. */
uint32_t wex__wasi_fd_readdir(wex_wasi_t *w, const wex_val_t *a) {
    GET_FD(pe, WEX__U32(0), WEX__R_FD_READDIR);
    uint32_t buf_len = WEX__U32(2);
    uint8_t *buf = wex__wasi_mem(w, WEX__U32(1), buf_len);
    if (!buf || !wex__wasi_mem(w, WEX__U32(4), 4)) return WEX__E_FAULT;
    if (pe->filetype != WEX__FT_DIR || pe->host < 0) return WEX__E_NOTDIR;
    uint64_t cookie = WEX__U64(3);
    uint16_t gerr = 0;
    wex__wasi_lock(w);
    wex__wasi_fd_t *e = wex__wasi_get_fd(w, WEX__U32(0), 0, &gerr);
    bool load = cookie == 0 || !same_entry(e, pe) || !e->ents;
    wex__wasi_unlock(w);
    wex__wasi_fd_t fresh = {.host = -1};
    if (load) {
        uint16_t r = load_dir(pe->host, &fresh);
        if (r) {
            wex__wasi_clear_dir_cache(&fresh);
            return r;
        }
    }
    wex__wasi_lock(w);
    e = wex__wasi_get_fd(w, WEX__U32(0), 0, &gerr);
    if (same_entry(e, pe) && load) {
        wex__wasi_clear_dir_cache(e);
        e->ents = fresh.ents;
        e->nents = fresh.nents;
        fresh.ents = NULL;
        fresh.nents = 0;
    } else if (!same_entry(e, pe)) {
        e = &fresh; /* closed or renumbered meanwhile: this call's listing */
        if (!load) {
            wex__wasi_unlock(w);
            return WEX__E_BADF;
        }
    }
    uint32_t used = 0;
    for (uint64_t i = cookie; i < e->nents && used < buf_len; i++) {
        const wex__wasi_dirent_t *x = &e->ents[i];
        uint8_t hdr[24];
        memset(hdr, 0, sizeof hdr);
        wex__wasi_st64(hdr, i + 1);
        wex__wasi_st64(hdr + 8, x->ino);
        wex__wasi_st32(hdr + 16, x->namelen);
        hdr[20] = x->type;
        uint32_t k = buf_len - used < 24 ? buf_len - used : 24;
        memcpy(buf + used, hdr, k);
        used += k;
        k = buf_len - used < x->namelen ? buf_len - used : x->namelen;
        memcpy(buf + used, x->name, k);
        used += k;
    }
    wex__wasi_unlock(w);
    wex__wasi_clear_dir_cache(&fresh);
    wex__wasi_put_u32(w, WEX__U32(4), used);
    return 0;
}

/* fd_renumber(from, to): move `from` onto `to`, closing what was there. */
uint32_t wex__wasi_fd_renumber(wex_wasi_t *w, const wex_val_t *a) {
    uint32_t from = WEX__U32(0), to = WEX__U32(1);
    wex__wasi_lock(w);
    GET_LIVE_FD(e, from, 0);
    uint16_t e2;
    wex__wasi_fd_t *t = wex__wasi_get_fd(w, to, 0, &e2);
    if (!t || from == to) {
        wex__wasi_unlock(w);
        return t ? 0 : e2;
    }
    wex__wasi_fd_t old = *t;
    *t = *e;
    memset(e, 0, sizeof *e);
    e->host = -1;
    wex__wasi_unlock(w);
    wex__wasi_free_fd(&old); /* outside the lock: may close a host fd */
    return 0;
}

/* fd_seek(fd, offset, whence, newoffset) */
uint32_t wex__wasi_fd_seek(wex_wasi_t *w, const wex_val_t *a) {
    int64_t off = a[1].of.i64;
    uint32_t whence = WEX__U32(2);
    uint64_t need = (off == 0 && whence == 1) ? WEX__R_FD_TELL : WEX__R_FD_SEEK;
    WEX__WASI_PINNED pin;
    uint16_t err = wex__wasi_pin(w, WEX__U32(0), 0, &pin);
    if (err) return err;
    const wex__wasi_fd_t *e = &pin;
    if ((e->base & need) != need && (e->base & WEX__R_FD_SEEK) == 0)
        return e->filetype == WEX__FT_DIR ? WEX__E_BADF : WEX__E_NOTCAPABLE;
    if (whence > 2) return WEX__E_INVAL;
    if (!wex__wasi_mem(w, WEX__U32(3), 8)) return WEX__E_FAULT;
    if (e->host < 0) return WEX__E_SPIPE;
    if (e->filetype == WEX__FT_DIR) return WEX__E_BADF;
    static const int wh[] = {SEEK_SET, SEEK_CUR, SEEK_END};
    off_t r = lseek(e->host, (off_t)off, wh[whence]);
    if (r < 0) return ERRNO();
    wex__wasi_put_u64(w, WEX__U32(3), (uint64_t)r);
    return 0;
}

/* fd_sync(fd) */
uint32_t wex__wasi_fd_sync(wex_wasi_t *w, const wex_val_t *a) {
    GET_FD(e, WEX__U32(0), WEX__R_FD_SYNC);
    if (e->host < 0) return WEX__E_INVAL;
    return fsync(e->host) ? ERRNO() : 0;
}

/* fd_tell(fd, offset) */
uint32_t wex__wasi_fd_tell(wex_wasi_t *w, const wex_val_t *a) {
    GET_FD(e, WEX__U32(0), WEX__R_FD_TELL);
    if (!wex__wasi_mem(w, WEX__U32(1), 8)) return WEX__E_FAULT;
    if (e->host < 0) return WEX__E_SPIPE;
    off_t r = lseek(e->host, 0, SEEK_CUR);
    if (r < 0) return ERRNO();
    wex__wasi_put_u64(w, WEX__U32(1), (uint64_t)r);
    return 0;
}
