/*
 * wasi_internal.h - shared declarations of the WASI preview1 implementation:
 * the context, the descriptor table, guest-memory access and the handlers.
 *
 *   wasi.c       configuration, context, descriptor table, linking, memory
 *   wasi_path.c  sandboxed path resolution
 *   wasi_fd.c    fd_* functions
 *   wasi_fs.c    path_* functions
 *   wasi_sys.c   args, environ, clocks, random, poll, proc, sched, sock
 */
#ifndef WEX_WASI_INTERNAL_H
#define WEX_WASI_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <string.h>

#include "wex.h"
#include "wex_wasi.h"

/* errno values of preview1 */
enum {
    WEX__E_SUCCESS = 0,
    WEX__E_2BIG = 1,
    WEX__E_ACCES = 2,
    WEX__E_AGAIN = 6,
    WEX__E_BADF = 8,
    WEX__E_BUSY = 10,
    WEX__E_EXIST = 20,
    WEX__E_FAULT = 21,
    WEX__E_FBIG = 22,
    WEX__E_ILSEQ = 25,
    WEX__E_INTR = 27,
    WEX__E_INVAL = 28,
    WEX__E_IO = 29,
    WEX__E_ISDIR = 31,
    WEX__E_LOOP = 32,
    WEX__E_MFILE = 33,
    WEX__E_MLINK = 34,
    WEX__E_NAMETOOLONG = 37,
    WEX__E_NFILE = 41,
    WEX__E_NOENT = 44,
    WEX__E_NOMEM = 48,
    WEX__E_NOSPC = 51,
    WEX__E_NOSYS = 52,
    WEX__E_NOTDIR = 54,
    WEX__E_NOTEMPTY = 55,
    WEX__E_NOTSOCK = 57,
    WEX__E_NOTSUP = 58,
    WEX__E_NOTTY = 59,
    WEX__E_OVERFLOW = 61,
    WEX__E_PERM = 63,
    WEX__E_PIPE = 64,
    WEX__E_RANGE = 68,
    WEX__E_ROFS = 69,
    WEX__E_SPIPE = 70,
    WEX__E_XDEV = 75,
    WEX__E_NOTCAPABLE = 76,
};

/* rights */
#define WEX__R(bit)                    ((uint64_t)1 << (bit))
#define WEX__R_FD_DATASYNC             WEX__R(0)
#define WEX__R_FD_READ                 WEX__R(1)
#define WEX__R_FD_SEEK                 WEX__R(2)
#define WEX__R_FD_FDSTAT_SET_FLAGS     WEX__R(3)
#define WEX__R_FD_SYNC                 WEX__R(4)
#define WEX__R_FD_TELL                 WEX__R(5)
#define WEX__R_FD_WRITE                WEX__R(6)
#define WEX__R_FD_ADVISE               WEX__R(7)
#define WEX__R_FD_ALLOCATE             WEX__R(8)
#define WEX__R_PATH_CREATE_DIRECTORY   WEX__R(9)
#define WEX__R_PATH_CREATE_FILE        WEX__R(10)
#define WEX__R_PATH_LINK_SOURCE        WEX__R(11)
#define WEX__R_PATH_LINK_TARGET        WEX__R(12)
#define WEX__R_PATH_OPEN               WEX__R(13)
#define WEX__R_FD_READDIR              WEX__R(14)
#define WEX__R_PATH_READLINK           WEX__R(15)
#define WEX__R_PATH_RENAME_SOURCE      WEX__R(16)
#define WEX__R_PATH_RENAME_TARGET      WEX__R(17)
#define WEX__R_PATH_FILESTAT_GET       WEX__R(18)
#define WEX__R_PATH_FILESTAT_SET_SIZE  WEX__R(19)
#define WEX__R_PATH_FILESTAT_SET_TIMES WEX__R(20)
#define WEX__R_FD_FILESTAT_GET         WEX__R(21)
#define WEX__R_FD_FILESTAT_SET_SIZE    WEX__R(22)
#define WEX__R_FD_FILESTAT_SET_TIMES   WEX__R(23)
#define WEX__R_PATH_SYMLINK            WEX__R(24)
#define WEX__R_PATH_REMOVE_DIRECTORY   WEX__R(25)
#define WEX__R_PATH_UNLINK_FILE        WEX__R(26)
#define WEX__R_POLL_FD_READWRITE       WEX__R(27)
#define WEX__R_SOCK_SHUTDOWN           WEX__R(28)
#define WEX__R_SOCK_ACCEPT             WEX__R(29)
#define WEX__R_ALL                     (WEX__R(30) - 1)

/* Rights a regular file (or stdio stream) can have. */
#define WEX__R_FILE                                                                                \
    (WEX__R_FD_DATASYNC | WEX__R_FD_READ | WEX__R_FD_SEEK | WEX__R_FD_FDSTAT_SET_FLAGS |           \
     WEX__R_FD_SYNC | WEX__R_FD_TELL | WEX__R_FD_WRITE | WEX__R_FD_ADVISE | WEX__R_FD_ALLOCATE |   \
     WEX__R_FD_FILESTAT_GET | WEX__R_FD_FILESTAT_SET_SIZE | WEX__R_FD_FILESTAT_SET_TIMES |         \
     WEX__R_POLL_FD_READWRITE)
/* Rights a directory can have. */
#define WEX__R_DIR                                                                                 \
    (WEX__R_FD_FDSTAT_SET_FLAGS | WEX__R_FD_SYNC | WEX__R_FD_ADVISE |                              \
     WEX__R_PATH_CREATE_DIRECTORY | WEX__R_PATH_CREATE_FILE | WEX__R_PATH_LINK_SOURCE |            \
     WEX__R_PATH_LINK_TARGET | WEX__R_PATH_OPEN | WEX__R_FD_READDIR | WEX__R_PATH_READLINK |       \
     WEX__R_PATH_RENAME_SOURCE | WEX__R_PATH_RENAME_TARGET | WEX__R_PATH_FILESTAT_GET |            \
     WEX__R_PATH_FILESTAT_SET_SIZE | WEX__R_PATH_FILESTAT_SET_TIMES | WEX__R_FD_FILESTAT_GET |     \
     WEX__R_FD_FILESTAT_SET_TIMES | WEX__R_PATH_SYMLINK | WEX__R_PATH_REMOVE_DIRECTORY |           \
     WEX__R_PATH_UNLINK_FILE)

/* filetype */
enum {
    WEX__FT_UNKNOWN = 0,
    WEX__FT_BLOCK = 1,
    WEX__FT_CHAR = 2,
    WEX__FT_DIR = 3,
    WEX__FT_FILE = 4,
    WEX__FT_SOCK_DGRAM = 5,
    WEX__FT_SOCK_STREAM = 6,
    WEX__FT_SYMLINK = 7,
};

/* fdflags */
#define WEX__FDF_APPEND   1u
#define WEX__FDF_DSYNC    2u
#define WEX__FDF_NONBLOCK 4u
#define WEX__FDF_RSYNC    8u
#define WEX__FDF_SYNC     16u

/* A growable byte buffer (captured output, in-memory stdin). */
typedef struct {
    uint8_t *data;
    size_t len, cap;
} wex__wasi_buf_t;

/* A cached directory entry for fd_readdir. */
typedef struct {
    uint64_t ino;
    uint8_t type;
    uint32_t namelen;
    char *name;
} wex__wasi_dirent_t;

/* A host descriptor, shared by the table entry that owns it and by the calls
 * using it at the moment (wex__wasi_pin): it is closed when the last
 * reference goes, so an fd_close or fd_renumber in one thread never closes,
 * and lets the kernel reuse, a descriptor that another thread is blocked on. */
typedef struct {
    int fd;
    unsigned refs; /* atomic */
} wex__wasi_host_t;

/* One descriptor-table entry. */
typedef struct {
    bool used;
    int host;                 /* host fd (h->fd), or -1 for in-memory stdio */
    wex__wasi_host_t *h;      /* the reference to host, or NULL */
    uint8_t filetype;         /* WEX__FT_* */
    uint16_t rsync;           /* WEX__FDF_RSYNC as the guest set it */
    uint64_t base, inh;       /* rights */
    char *preopen;            /* guest name of a preopened directory, else NULL */
    wex__wasi_buf_t *mem;     /* in-memory stdio buffer, else NULL */
    bool mem_input;           /* mem is read (stdin) rather than appended to */
    size_t mem_pos;           /* read position in mem */
    wex__wasi_dirent_t *ents; /* fd_readdir cache */
    size_t nents;
} wex__wasi_fd_t;

struct wex_wasi_config {
    char **args, **env;
    size_t nargs, nenv;
    char **pre_host, **pre_guest;
    size_t npre;
    int stdio_host[3]; /* -1: in memory */
    bool capture[3];
    wex__wasi_buf_t stdin_data;
};

struct wex_wasi {
    char **args, **env;
    size_t nargs, nenv;
    wex__wasi_fd_t *fds;
    uint32_t nfds;          /* table length (used or not) */
    wex__wasi_buf_t out[3]; /* captured stdout/stderr; out[0] is in-memory stdin */
    wex_memory_t *memory;
    /* wasi-threads (wasi_threads.c): when set, it guards the descriptor
     * table and the in-memory stdio buffers, which the threads of one program
     * share. It is never held across a call that can block: such calls work
     * on a pinned copy of their entry (wex__wasi_pin). */
    pthread_mutex_t *lock;
};

/* The largest table size; more opens give EMFILE. */
#define WEX__WASI_MAX_FDS 16384u
/* Paths longer than this give ENAMETOOLONG. */
#define WEX__WASI_PATH_MAX 4096u

/* ------------------------------------------------------------ helpers */

uint16_t wex__wasi_errno(int host_errno);
/* The entry for guest fd `fd` if it is open and has all `rights`; on failure
 * *err is EBADF or ENOTCAPABLE and NULL is returned. The caller holds the
 * lock for as long as it uses the entry. */
wex__wasi_fd_t *wex__wasi_get_fd(wex_wasi_t *w, uint32_t fd, uint64_t rights, uint16_t *err);
/* Put an entry into the lowest free slot, under the lock; returns the guest
 * fd or -1 (table full). */
int64_t wex__wasi_add_fd(wex_wasi_t *w, const wex__wasi_fd_t *e);
/* Release an entry's host resources (its reference to the host fd, which
 * closes when no call uses it any more) and mark it free. */
void wex__wasi_free_fd(wex__wasi_fd_t *e);
/* Give entry e the new host fd `fd` (taking ownership); false, with fd
 * closed, when out of memory. */
bool wex__wasi_set_host(wex__wasi_fd_t *e, int fd);
/* Take and drop the table lock (no-ops without wasi-threads). */
void wex__wasi_lock(wex_wasi_t *w);
void wex__wasi_unlock(wex_wasi_t *w);
/* Under the lock, copy guest fd `fd`'s entry into *pin if it is open with all
 * `rights`, holding a reference to its host fd; the copy has no preopen name
 * or readdir cache, and its `mem` buffer may only be used under the lock.
 * Returns 0 or the WASI errno (then *pin is an empty entry). Every pin,
 * failed or not, ends with wex__wasi_unpin. */
uint16_t wex__wasi_pin(wex_wasi_t *w, uint32_t fd, uint64_t rights, wex__wasi_fd_t *pin);
void wex__wasi_unpin(wex__wasi_fd_t *pin);
/* Declare a pinned copy that is unpinned when it goes out of scope. */
#define WEX__WASI_PINNED __attribute__((cleanup(wex__wasi_unpin))) wex__wasi_fd_t
void wex__wasi_clear_dir_cache(wex__wasi_fd_t *e);
uint8_t wex__wasi_filetype_of_mode(unsigned mode);

/* Guest memory: pointer to [ptr, ptr+len) or NULL when out of bounds. */
uint8_t *wex__wasi_mem(wex_wasi_t *w, uint32_t ptr, uint64_t len);
bool wex__wasi_put_u32(wex_wasi_t *w, uint32_t ptr, uint32_t v);
bool wex__wasi_put_u64(wex_wasi_t *w, uint32_t ptr, uint64_t v);
static inline void wex__wasi_st16(uint8_t *p, uint16_t v) {
    memcpy(p, &v, 2);
}
static inline void wex__wasi_st32(uint8_t *p, uint32_t v) {
    memcpy(p, &v, 4);
}
static inline void wex__wasi_st64(uint8_t *p, uint64_t v) {
    memcpy(p, &v, 8);
}
static inline uint32_t wex__wasi_ld32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}
static inline uint64_t wex__wasi_ld64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}
/* Copy a guest path to a new NUL-terminated string; *err on failure. */
char *wex__wasi_path(wex_wasi_t *w, uint32_t ptr, uint32_t len, uint16_t *err);

/* ------------------------------------------------------------ path resolution */

/* Open `path` beneath directory fd `dirfd` with open flags `flags` (O_NOFOLLOW
 * honoured for the last component); never leaves dirfd's tree. Returns the
 * host fd, or -1 with the WASI errno in *err. */
int wex__wasi_open_beneath(int dirfd, const char *path, int flags, unsigned mode, uint16_t *err);
/* Resolve every component but the last: returns an O_PATH directory fd beneath
 * dirfd and sets *base to the last component (trailing slashes kept; "." when
 * the path names a directory through "." or ".."). -1 with *err on failure. */
int wex__wasi_open_parent(int dirfd, const char *path, const char **base, uint16_t *err);

/* ------------------------------------------------------------ handlers */

typedef uint32_t (*wex__wasi_handler_t)(wex_wasi_t *w, const wex_val_t *a);

#define WEX__WASI_HANDLERS(X)                                                                      \
    X(args_get, "ii")                                                                              \
    X(args_sizes_get, "ii")                                                                        \
    X(environ_get, "ii")                                                                           \
    X(environ_sizes_get, "ii")                                                                     \
    X(clock_res_get, "ii")                                                                         \
    X(clock_time_get, "iIi")                                                                       \
    X(fd_advise, "iIIi")                                                                           \
    X(fd_allocate, "iII")                                                                          \
    X(fd_close, "i")                                                                               \
    X(fd_datasync, "i")                                                                            \
    X(fd_fdstat_get, "ii")                                                                         \
    X(fd_fdstat_set_flags, "ii")                                                                   \
    X(fd_fdstat_set_rights, "iII")                                                                 \
    X(fd_filestat_get, "ii")                                                                       \
    X(fd_filestat_set_size, "iI")                                                                  \
    X(fd_filestat_set_times, "iIIi")                                                               \
    X(fd_pread, "iiiIi")                                                                           \
    X(fd_prestat_get, "ii")                                                                        \
    X(fd_prestat_dir_name, "iii")                                                                  \
    X(fd_pwrite, "iiiIi")                                                                          \
    X(fd_read, "iiii")                                                                             \
    X(fd_readdir, "iiiIi")                                                                         \
    X(fd_renumber, "ii")                                                                           \
    X(fd_seek, "iIii")                                                                             \
    X(fd_sync, "i")                                                                                \
    X(fd_tell, "ii")                                                                               \
    X(fd_write, "iiii")                                                                            \
    X(path_create_directory, "iii")                                                                \
    X(path_filestat_get, "iiiii")                                                                  \
    X(path_filestat_set_times, "iiiiIIi")                                                          \
    X(path_link, "iiiiiii")                                                                        \
    X(path_open, "iiiiiIIii")                                                                      \
    X(path_readlink, "iiiiii")                                                                     \
    X(path_remove_directory, "iii")                                                                \
    X(path_rename, "iiiiii")                                                                       \
    X(path_symlink, "iiiii")                                                                       \
    X(path_unlink_file, "iii")                                                                     \
    X(poll_oneoff, "iiii")                                                                         \
    X(proc_raise, "i")                                                                             \
    X(sched_yield, "")                                                                             \
    X(random_get, "ii")                                                                            \
    X(sock_accept, "iii")                                                                          \
    X(sock_recv, "iiiiii")                                                                         \
    X(sock_send, "iiiii")                                                                          \
    X(sock_shutdown, "ii")

#define WEX__WASI_DECL(name, sig) uint32_t wex__wasi_##name(wex_wasi_t *w, const wex_val_t *a);
WEX__WASI_HANDLERS(WEX__WASI_DECL)
#undef WEX__WASI_DECL

/* Argument accessors: a[i] as u32 / u64. */
#define WEX__U32(i) ((uint32_t)a[i].of.i32)
#define WEX__U64(i) ((uint64_t)a[i].of.i64)

#endif
