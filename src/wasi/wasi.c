/*
 * wasi.c - WASI preview1: configuration, the context and its descriptor
 * table, guest-memory access, errno mapping and linking of host functions.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wasi_internal.h"

#define WASI_MODULE "wasi_snapshot_preview1"

/* ------------------------------------------------------------ config */

/* A new configuration with stdio inherited from host fds 0-2. */
wex_wasi_config_t *wex_wasi_config_new(void) {
    wex_wasi_config_t *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    for (int i = 0; i < 3; i++)
        c->stdio_host[i] = i;
    return c;
}

/* Free a string array of n entries. */
static void free_strs(char **v, size_t n) {
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* Free a configuration and everything it copied. */
void wex_wasi_config_delete(wex_wasi_config_t *c) {
    if (!c) return;
    free_strs(c->args, c->nargs);
    free_strs(c->env, c->nenv);
    free_strs(c->pre_host, c->npre);
    free_strs(c->pre_guest, c->npre);
    free(c->stdin_data.data);
    free(c);
}

/* Append s (taking ownership) to the array *v of *n strings. */
static bool push_str(char ***v, size_t *n, char *s) {
    if (!s) return false;
    char **nv = realloc(*v, (*n + 1) * sizeof *nv);
    if (!nv) {
        free(s);
        return false;
    }
    nv[(*n)++] = s;
    *v = nv;
    return true;
}

/* Append one guest argument. */
bool wex_wasi_config_arg(wex_wasi_config_t *c, const char *arg) {
    return push_str(&c->args, &c->nargs, strdup(arg));
}

/* Add NAME=VALUE to the guest environment. */
bool wex_wasi_config_env(wex_wasi_config_t *c, const char *name, const char *value) {
    size_t a = strlen(name), b = strlen(value);
    char *s = malloc(a + b + 2);
    if (!s) return false;
    memcpy(s, name, a);
    s[a] = '=';
    memcpy(s + a + 1, value, b + 1);
    return push_str(&c->env, &c->nenv, s);
}

/* Add a preopened directory. */
bool wex_wasi_config_preopen(wex_wasi_config_t *c, const char *host_path, const char *guest_path) {
    size_t n = c->npre;
    if (!push_str(&c->pre_host, &n, strdup(host_path))) return false;
    n = c->npre;
    if (!push_str(&c->pre_guest, &n, strdup(guest_path))) {
        free(c->pre_host[c->npre]);
        return false;
    }
    c->npre = n;
    return true;
}

/* Guest stdio fd uses a host fd. */
bool wex_wasi_config_inherit_stdio(wex_wasi_config_t *c, int guest_fd, int host_fd) {
    if (guest_fd < 0 || guest_fd > 2 || host_fd < 0) return false;
    c->stdio_host[guest_fd] = host_fd;
    c->capture[guest_fd] = false;
    return true;
}

/* Guest stdin reads from a copy of data. */
bool wex_wasi_config_stdin_bytes(wex_wasi_config_t *c, const void *data, size_t len) {
    uint8_t *d = malloc(len ? len : 1);
    if (!d) return false;
    if (len) memcpy(d, data, len);
    free(c->stdin_data.data);
    c->stdin_data.data = d;
    c->stdin_data.len = c->stdin_data.cap = len;
    c->stdio_host[0] = -1;
    return true;
}

/* Guest stdout/stderr go to memory. */
bool wex_wasi_config_capture(wex_wasi_config_t *c, int guest_fd) {
    if (guest_fd != 1 && guest_fd != 2) return false;
    c->stdio_host[guest_fd] = -1;
    c->capture[guest_fd] = true;
    return true;
}

/* ------------------------------------------------------------ context */

/* The WASI filetype of a host st_mode. */
uint8_t wex__wasi_filetype_of_mode(unsigned mode) {
    switch (mode & S_IFMT) {
    case S_IFBLK: return WEX__FT_BLOCK;
    case S_IFCHR: return WEX__FT_CHAR;
    case S_IFDIR: return WEX__FT_DIR;
    case S_IFREG: return WEX__FT_FILE;
    case S_IFSOCK: return WEX__FT_SOCK_STREAM;
    case S_IFLNK: return WEX__FT_SYMLINK;
    default: return WEX__FT_UNKNOWN;
    }
}

/* Free a context, closing every host fd it owns. */
void wex_wasi_delete(wex_wasi_t *w) {
    if (!w) return;
    for (uint32_t i = 0; i < w->nfds; i++)
        if (w->fds[i].used) wex__wasi_free_fd(&w->fds[i]);
    free(w->fds);
    free_strs(w->args, w->nargs);
    free_strs(w->env, w->nenv);
    for (int i = 0; i < 3; i++)
        free(w->out[i].data);
    free(w);
}

/* Set up guest stdio fd i from the configuration. */
static wex_error_t *init_stdio(wex_wasi_t *w, wex_wasi_config_t *c, int i) {
    wex__wasi_fd_t e = {.used = true, .host = -1};
    if (c->stdio_host[i] >= 0) {
        int fd = fcntl(c->stdio_host[i], F_DUPFD_CLOEXEC, 3);
        if (fd < 0) {
            /* A closed host stdio fd: the guest's fd stays closed too. */
            return NULL;
        }
        if (!wex__wasi_set_host(&e, fd)) return wex_error_new(WEX_ERR_NOMEM, "out of memory");
        struct stat st;
        e.filetype = fstat(e.host, &st) == 0 ? wex__wasi_filetype_of_mode(st.st_mode) : 0;
        e.base = WEX__R_FILE;
        if (e.filetype == WEX__FT_CHAR || e.filetype == WEX__FT_SOCK_STREAM ||
            e.filetype == WEX__FT_UNKNOWN)
            e.base &= ~(WEX__R_FD_SEEK | WEX__R_FD_TELL);
    } else {
        e.filetype = WEX__FT_CHAR;
        e.mem = &w->out[i];
        e.mem_input = i == 0;
        e.base = (i == 0 ? WEX__R_FD_READ : WEX__R_FD_WRITE) | WEX__R_FD_FILESTAT_GET |
                 WEX__R_POLL_FD_READWRITE | WEX__R_FD_FDSTAT_SET_FLAGS;
        if (i == 0) {
            w->out[0] = c->stdin_data;
            c->stdin_data.data = NULL;
        }
    }
    if (!w->fds[i].used)
        w->fds[i] = e;
    else
        wex__wasi_free_fd(&e);
    return NULL;
}

/* Make a context: stdio, then the preopens as fds 3, 4, ... */
wex_error_t *wex_wasi_new(wex_wasi_config_t *c, wex_wasi_t **out) {
    *out = NULL;
    if (!c) return wex_error_new(WEX_ERR_ARGUMENT, "no WASI configuration");
    wex_wasi_t *w = calloc(1, sizeof *w);
    wex_error_t *err = NULL;
    if (!w || !(w->fds = calloc(3 + c->npre, sizeof *w->fds))) {
        free(w);
        wex_wasi_config_delete(c);
        return wex_error_new(WEX_ERR_NOMEM, "out of memory");
    }
    w->nfds = (uint32_t)(3 + c->npre);
    w->args = c->args;
    w->nargs = c->nargs;
    w->env = c->env;
    w->nenv = c->nenv;
    c->args = c->env = NULL;
    c->nargs = c->nenv = 0;
    for (int i = 0; i < 3 && !err; i++)
        err = init_stdio(w, c, i);
    for (size_t i = 0; i < c->npre && !err; i++) {
        int fd = open(c->pre_host[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
            err = wex_error_new(WEX_ERR_IO, "cannot open directory `%s` to preopen: %s",
                                c->pre_host[i], strerror(errno));
            break;
        }
        wex__wasi_fd_t *e = &w->fds[3 + i];
        if (!wex__wasi_set_host(e, fd)) {
            err = wex_error_new(WEX_ERR_NOMEM, "out of memory");
            break;
        }
        e->used = true;
        e->filetype = WEX__FT_DIR;
        e->base = WEX__R_DIR;
        e->inh = WEX__R_DIR | WEX__R_FILE;
        e->preopen = c->pre_guest[i];
        c->pre_guest[i] = NULL;
    }
    wex_wasi_config_delete(c);
    if (err) {
        wex_wasi_delete(w);
        return err;
    }
    *out = w;
    return NULL;
}

/* Captured output of guest fd 1 or 2. */
const uint8_t *wex_wasi_captured(const wex_wasi_t *w, int guest_fd, size_t *len) {
    if (guest_fd != 1 && guest_fd != 2) return NULL;
    *len = w->out[guest_fd].len;
    return w->out[guest_fd].data ? w->out[guest_fd].data : (const uint8_t *)"";
}

/* ------------------------------------------------------------ fd table */

/* Drop an entry's fd_readdir cache. */
void wex__wasi_clear_dir_cache(wex__wasi_fd_t *e) {
    for (size_t i = 0; i < e->nents; i++)
        free(e->ents[i].name);
    free(e->ents);
    e->ents = NULL;
    e->nents = 0;
}

/* Drop a reference to a host fd; the last one closes it. */
static void host_unref(wex__wasi_host_t *h) {
    if (h && __atomic_sub_fetch(&h->refs, 1, __ATOMIC_ACQ_REL) == 0) {
        close(h->fd);
        free(h);
    }
}

/* Entries own their host fd through a counted reference (see
 * wex__wasi_host_t); this makes the first one. */
bool wex__wasi_set_host(wex__wasi_fd_t *e, int fd) {
    wex__wasi_host_t *h = malloc(sizeof *h);
    if (!h) {
        close(fd);
        return false;
    }
    h->fd = fd;
    h->refs = 1;
    e->h = h;
    e->host = fd;
    return true;
}

/* Release an entry: the host fd closes once no pinned copy uses it. */
void wex__wasi_free_fd(wex__wasi_fd_t *e) {
    host_unref(e->h);
    free(e->preopen);
    wex__wasi_clear_dir_cache(e);
    memset(e, 0, sizeof *e);
    e->host = -1;
}

/* The table lock exists only for wasi-threads programs: a context without
 * threads is used by one thread at a time. */
void wex__wasi_lock(wex_wasi_t *w) {
    if (w->lock) pthread_mutex_lock(w->lock);
}

/* Counterpart of wex__wasi_lock. */
void wex__wasi_unlock(wex_wasi_t *w) {
    if (w->lock) pthread_mutex_unlock(w->lock);
}

/* Calls that may block must not hold the table lock, yet must not see their
 * host fd closed under them by another thread's fd_close: they work on a
 * copy of the entry that holds a reference to the host fd. */
uint16_t wex__wasi_pin(wex_wasi_t *w, uint32_t fd, uint64_t rights, wex__wasi_fd_t *pin) {
    memset(pin, 0, sizeof *pin);
    pin->host = -1;
    uint16_t err = 0;
    wex__wasi_lock(w);
    wex__wasi_fd_t *e = wex__wasi_get_fd(w, fd, rights, &err);
    if (e) {
        *pin = *e;
        pin->preopen = NULL; /* owned by the entry, which may go */
        pin->ents = NULL;
        pin->nents = 0;
        if (pin->h) __atomic_add_fetch(&pin->h->refs, 1, __ATOMIC_RELAXED);
    }
    wex__wasi_unlock(w);
    return err;
}

/* End a pin: drop its reference (closing the host fd if the entry has been
 * closed meanwhile). */
void wex__wasi_unpin(wex__wasi_fd_t *pin) {
    host_unref(pin->h);
    pin->h = NULL;
    pin->host = -1;
}

/* Look up an open guest fd that has the given rights. */
wex__wasi_fd_t *wex__wasi_get_fd(wex_wasi_t *w, uint32_t fd, uint64_t rights, uint16_t *err) {
    if (fd >= w->nfds || !w->fds[fd].used) {
        *err = WEX__E_BADF;
        return NULL;
    }
    wex__wasi_fd_t *e = &w->fds[fd];
    if ((e->base & rights) != rights) {
        *err = WEX__E_NOTCAPABLE;
        return NULL;
    }
    return e;
}

/* Insert an entry at the lowest free index. */
int64_t wex__wasi_add_fd(wex_wasi_t *w, const wex__wasi_fd_t *e) {
    uint32_t i = 0;
    while (i < w->nfds && w->fds[i].used)
        i++;
    if (i == w->nfds) {
        if (w->nfds >= WEX__WASI_MAX_FDS) return -1;
        uint32_t n = w->nfds * 2 + 4;
        if (n > WEX__WASI_MAX_FDS) n = WEX__WASI_MAX_FDS;
        wex__wasi_fd_t *nf = realloc(w->fds, n * sizeof *nf);
        if (!nf) return -1;
        memset(nf + w->nfds, 0, (n - w->nfds) * sizeof *nf);
        w->fds = nf;
        w->nfds = n;
    }
    w->fds[i] = *e;
    w->fds[i].used = true;
    return i;
}

/* ------------------------------------------------------------ memory */

/* The host address of guest bytes [ptr, ptr+len), or NULL if any of them lies
 * outside the memory. 64-bit arithmetic: ptr + len cannot wrap. */
uint8_t *wex__wasi_mem(wex_wasi_t *w, uint32_t ptr, uint64_t len) {
    if (!w->memory) return NULL;
    size_t size = wex_memory_size(w->memory);
    if (len > size || (uint64_t)ptr > size - len) return NULL;
    return wex_memory_data(w->memory) + ptr;
}

/* Store a little-endian u32 at a guest address. */
bool wex__wasi_put_u32(wex_wasi_t *w, uint32_t ptr, uint32_t v) {
    uint8_t *p = wex__wasi_mem(w, ptr, 4);
    if (p) wex__wasi_st32(p, v);
    return p != NULL;
}

/* Store a little-endian u64 at a guest address. */
bool wex__wasi_put_u64(wex_wasi_t *w, uint32_t ptr, uint64_t v) {
    uint8_t *p = wex__wasi_mem(w, ptr, 8);
    if (p) wex__wasi_st64(p, v);
    return p != NULL;
}

/* Copy a guest path into a NUL-terminated host string. Paths with a NUL byte
 * are invalid; over-long ones give ENAMETOOLONG. */
char *wex__wasi_path(wex_wasi_t *w, uint32_t ptr, uint32_t len, uint16_t *err) {
    const uint8_t *p = wex__wasi_mem(w, ptr, len);
    if (!p) {
        *err = WEX__E_FAULT;
        return NULL;
    }
    if (len > WEX__WASI_PATH_MAX) {
        *err = WEX__E_NAMETOOLONG;
        return NULL;
    }
    if (memchr(p, 0, len)) {
        *err = WEX__E_ILSEQ;
        return NULL;
    }
    char *s = malloc((size_t)len + 1);
    if (!s) {
        *err = WEX__E_NOMEM;
        return NULL;
    }
    memcpy(s, p, len);
    s[len] = 0;
    return s;
}

/* Use an instance's exported "memory". */
wex_error_t *wex_wasi_bind_memory(wex_wasi_t *w, const wex_instance_t *inst) {
    wex_extern_t ext;
    if (!wex_instance_export(inst, "memory", 6, &ext) || ext.kind != WEX_EXTERN_MEMORY)
        return wex_error_new(WEX_ERR_NOT_FOUND, "the module exports no memory named `memory`");
    w->memory = ext.of.memory;
    return NULL;
}

/* Use a given memory. */
void wex_wasi_set_memory(wex_wasi_t *w, wex_memory_t *memory) {
    w->memory = memory;
}

/* ------------------------------------------------------------ errno */

/* Map a host errno to preview1's numbering. */
uint16_t wex__wasi_errno(int e) {
    switch (e) {
    case 0: return 0;
    case E2BIG: return 1;
    case EACCES: return 2;
    case EADDRINUSE: return 3;
    case EADDRNOTAVAIL: return 4;
    case EAFNOSUPPORT: return 5;
    case EAGAIN: return 6;
    case EALREADY: return 7;
    case EBADF: return 8;
    case EBADMSG: return 9;
    case EBUSY: return 10;
    case ECANCELED: return 11;
    case ECHILD: return 12;
    case ECONNABORTED: return 13;
    case ECONNREFUSED: return 14;
    case ECONNRESET: return 15;
    case EDEADLK: return 16;
    case EDESTADDRREQ: return 17;
    case EDOM: return 18;
    case EDQUOT: return 19;
    case EEXIST: return 20;
    case EFAULT: return 21;
    case EFBIG: return 22;
    case EHOSTUNREACH: return 23;
    case EIDRM: return 24;
    case EILSEQ: return 25;
    case EINPROGRESS: return 26;
    case EINTR: return 27;
    case EINVAL: return 28;
    case EIO: return 29;
    case EISCONN: return 30;
    case EISDIR: return 31;
    case ELOOP: return 32;
    case EMFILE: return 33;
    case EMLINK: return 34;
    case EMSGSIZE: return 35;
    case EMULTIHOP: return 36;
    case ENAMETOOLONG: return 37;
    case ENETDOWN: return 38;
    case ENETRESET: return 39;
    case ENETUNREACH: return 40;
    case ENFILE: return 41;
    case ENOBUFS: return 42;
    case ENODEV: return 43;
    case ENOENT: return 44;
    case ENOEXEC: return 45;
    case ENOLCK: return 46;
    case ENOLINK: return 47;
    case ENOMEM: return 48;
    case ENOMSG: return 49;
    case ENOPROTOOPT: return 50;
    case ENOSPC: return 51;
    case ENOSYS: return 52;
    case ENOTCONN: return 53;
    case ENOTDIR: return 54;
    case ENOTEMPTY: return 55;
    case ENOTRECOVERABLE: return 56;
    case ENOTSOCK: return 57;
    case ENOTSUP: return 58;
    case ENOTTY: return 59;
    case ENXIO: return 60;
    case EOVERFLOW: return 61;
    case EOWNERDEAD: return 62;
    case EPERM: return 63;
    case EPIPE: return 64;
    case EPROTO: return 65;
    case EPROTONOSUPPORT: return 66;
    case EPROTOTYPE: return 67;
    case ERANGE: return 68;
    case EROFS: return 69;
    case ESPIPE: return 70;
    case ESRCH: return 71;
    case ESTALE: return 72;
    case ETIMEDOUT: return 73;
    case ETXTBSY: return 74;
    case EXDEV: return 75;
    default: return WEX__E_IO;
    }
}

/* ------------------------------------------------------------ linking */

/* One preview1 function: name, parameter types ('i' i32, 'I' i64), handler. */
typedef struct {
    const char *name, *params;
    wex__wasi_handler_t fn;
} wasi_entry_t;

static const wasi_entry_t entries[] = {
#define WEX__WASI_ENTRY(name, sig) {#name, sig, wex__wasi_##name},
    WEX__WASI_HANDLERS(WEX__WASI_ENTRY)
#undef WEX__WASI_ENTRY
};

/* The environment of a linked host function. */
typedef struct {
    wex_wasi_t *wasi;
    wex__wasi_handler_t fn;
} binding_t;

/* The callback of every preview1 function but proc_exit: run the handler,
 * return its errno as the i32 result. */
static wex_error_t *call_handler(void *env, wex_store_t *store, const wex_val_t *args,
                                 wex_val_t *results) {
    binding_t *b = env;
    /* No lock here: the handlers lock the table themselves, and only while
     * they use it (see wex_wasi_t's lock). */
    results[0] = wex_val_i32((int32_t)b->fn(b->wasi, args));
    return NULL;
}

/* proc_exit: end the guest with the status. */
static wex_error_t *call_proc_exit(void *env, wex_store_t *store, const wex_val_t *args,
                                   wex_val_t *results) {
    return wex_error_new_exit(args[0].of.i32);
}

/* Does the import's type equal params -> results? */
static bool type_is(const wex_functype_t *t, const char *params, uint32_t nresults) {
    size_t np = strlen(params);
    if (t->nparams != np || t->nresults != nresults) return false;
    for (size_t i = 0; i < np; i++)
        if (t->params[i] != (params[i] == 'I' ? WEX_I64 : WEX_I32)) return false;
    for (uint32_t i = 0; i < nresults; i++)
        if (t->results[i] != WEX_I32) return false;
    return true;
}

/* Is this import from wasi_snapshot_preview1? */
static bool is_wasi_import(const wex_importdesc_t *d) {
    return d->module_len == sizeof WASI_MODULE - 1 &&
           memcmp(d->module, WASI_MODULE, sizeof WASI_MODULE - 1) == 0;
}

/* True if the module imports anything from preview1. */
bool wex_wasi_module_uses_wasi(const wex_module_t *module) {
    size_t n = wex_module_import_count(module);
    for (size_t i = 0; i < n; i++) {
        wex_importdesc_t d;
        wex_module_import(module, i, &d);
        if (is_wasi_import(&d)) return true;
    }
    return false;
}

/* Create host functions for the module's preview1 imports. */
wex_error_t *wex_wasi_link(wex_wasi_t *w, wex_store_t *store, const wex_module_t *module,
                           wex_extern_t *imports_out) {
    size_t n = wex_module_import_count(module);
    static const wex_valkind_t kinds[9] = {WEX_I32, WEX_I32, WEX_I32, WEX_I32, WEX_I32,
                                           WEX_I32, WEX_I32, WEX_I32, WEX_I32};
    for (size_t i = 0; i < n; i++) {
        wex_importdesc_t d;
        wex_module_import(module, i, &d);
        if (!is_wasi_import(&d)) continue;
        if (d.kind != WEX_EXTERN_FUNC)
            return wex_error_new(WEX_ERR_UNLINKABLE, "import `%s::%.*s` must be a function",
                                 WASI_MODULE, (int)d.name_len, d.name);
        bool is_exit = d.name_len == 9 && memcmp(d.name, "proc_exit", 9) == 0;
        const wasi_entry_t *ent = NULL;
        for (size_t k = 0; k < sizeof entries / sizeof entries[0] && !is_exit; k++)
            if (strlen(entries[k].name) == d.name_len &&
                memcmp(entries[k].name, d.name, d.name_len) == 0)
                ent = &entries[k];
        if (!is_exit && !ent)
            return wex_error_new(WEX_ERR_UNLINKABLE,
                                 "unknown import: `%s::%.*s` is not a WASI preview1 function",
                                 WASI_MODULE, (int)d.name_len, d.name);
        const char *params = is_exit ? "i" : ent->params;
        uint32_t nres = is_exit ? 0 : 1;
        if (!type_is(&d.functype, params, nres))
            return wex_error_new(WEX_ERR_UNLINKABLE, "import `%s::%.*s` has the wrong type",
                                 WASI_MODULE, (int)d.name_len, d.name);
        wex_valkind_t pk[9];
        size_t np = strlen(params);
        for (size_t k = 0; k < np; k++)
            pk[k] = params[k] == 'I' ? WEX_I64 : WEX_I32;
        wex_functype_t ft = {(uint32_t)np, nres, pk, kinds};
        wex_func_t *f;
        if (is_exit) {
            f = wex_func_new(store, &ft, call_proc_exit, NULL, NULL);
        } else {
            binding_t *b = malloc(sizeof *b);
            if (!b) return wex_error_new(WEX_ERR_NOMEM, "out of memory");
            b->wasi = w;
            b->fn = ent->fn;
            f = wex_func_new(store, &ft, call_handler, b, free);
            if (!f) free(b);
        }
        if (!f) return wex_error_new(WEX_ERR_NOMEM, "out of memory");
        imports_out[i].kind = WEX_EXTERN_FUNC;
        imports_out[i].of.func = f;
    }
    return NULL;
}

/* Call _start; proc_exit becomes the exit code. */
wex_error_t *wex_wasi_run_start(wex_wasi_t *w, wex_store_t *store, const wex_instance_t *inst,
                                int *exit_code) {
    wex_extern_t ext;
    if (!wex_instance_export(inst, "_start", 6, &ext) || ext.kind != WEX_EXTERN_FUNC)
        return wex_error_new(WEX_ERR_NOT_FOUND, "the module exports no `_start` function");
    wex_functype_t ft = wex_func_type(ext.of.func);
    if (ft.nparams || ft.nresults)
        return wex_error_new(WEX_ERR_ARGUMENT, "`_start` must take and return nothing");
    wex_error_t *err = wex_func_call(store, ext.of.func, NULL, 0, NULL, 0);
    if (err && wex_error_code(err) == WEX_ERR_EXIT) {
        *exit_code = wex_error_exit_status(err);
        wex_error_delete(err);
        return NULL;
    }
    if (!err) *exit_code = 0;
    return err;
}
