/*
 * wasi_sys.c - the non-file functions of WASI preview1: arguments,
 * environment, clocks, randomness, poll_oneoff, proc_raise, sched_yield and
 * the socket calls (wex makes no sockets, so these only check their fd).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "wasi_internal.h"

/* Total size of a string array, NULs included. */
static uint64_t strs_size(char **v, size_t n) {
    uint64_t t = 0;
    for (size_t i = 0; i < n; i++)
        t += strlen(v[i]) + 1;
    return t;
}

/* Write the sizes of a string array. */
static uint32_t sizes_get(wex_wasi_t *w, const wex_val_t *a, char **v, size_t n) {
    if (!wex__wasi_mem(w, WEX__U32(0), 4) || !wex__wasi_mem(w, WEX__U32(1), 4)) return WEX__E_FAULT;
    wex__wasi_put_u32(w, WEX__U32(0), (uint32_t)n);
    wex__wasi_put_u32(w, WEX__U32(1), (uint32_t)strs_size(v, n));
    return 0;
}

/* Write a string array: pointers at a[0], the strings themselves at a[1]. */
static uint32_t strs_get(wex_wasi_t *w, const wex_val_t *a, char **v, size_t n) {
    uint8_t *ptrs = wex__wasi_mem(w, WEX__U32(0), (uint64_t)n * 4);
    uint8_t *buf = wex__wasi_mem(w, WEX__U32(1), strs_size(v, n));
    if (!ptrs || !buf) return WEX__E_FAULT;
    uint32_t off = 0;
    for (size_t i = 0; i < n; i++) {
        size_t k = strlen(v[i]) + 1;
        wex__wasi_st32(ptrs + 4 * i, WEX__U32(1) + off);
        memcpy(buf + off, v[i], k);
        off += (uint32_t)k;
    }
    return 0;
}

/* args_get(argv, argv_buf) */
uint32_t wex__wasi_args_get(wex_wasi_t *w, const wex_val_t *a) {
    return strs_get(w, a, w->args, w->nargs);
}

/* args_sizes_get(argc, argv_buf_size) */
uint32_t wex__wasi_args_sizes_get(wex_wasi_t *w, const wex_val_t *a) {
    return sizes_get(w, a, w->args, w->nargs);
}

/* environ_get(environ, environ_buf) */
uint32_t wex__wasi_environ_get(wex_wasi_t *w, const wex_val_t *a) {
    return strs_get(w, a, w->env, w->nenv);
}

/* environ_sizes_get(count, buf_size) */
uint32_t wex__wasi_environ_sizes_get(wex_wasi_t *w, const wex_val_t *a) {
    return sizes_get(w, a, w->env, w->nenv);
}

/* The host clock for a WASI clock id, or -1. */
static clockid_t host_clock(uint32_t id) {
    switch (id) {
    case 0: return CLOCK_REALTIME;
    case 1: return CLOCK_MONOTONIC;
    case 2: return CLOCK_PROCESS_CPUTIME_ID;
    case 3: return CLOCK_THREAD_CPUTIME_ID;
    default: return (clockid_t)-1;
    }
}

/* Nanoseconds of a timespec. */
static uint64_t ns_of(const struct timespec *t) {
    return (uint64_t)t->tv_sec * 1000000000u + (uint64_t)t->tv_nsec;
}

/* clock_res_get(id, resolution) */
uint32_t wex__wasi_clock_res_get(wex_wasi_t *w, const wex_val_t *a) {
    clockid_t c = host_clock(WEX__U32(0));
    if (c == (clockid_t)-1) return WEX__E_INVAL;
    if (!wex__wasi_mem(w, WEX__U32(1), 8)) return WEX__E_FAULT;
    struct timespec t;
    if (clock_getres(c, &t)) return wex__wasi_errno(errno);
    wex__wasi_put_u64(w, WEX__U32(1), ns_of(&t));
    return 0;
}

/* clock_time_get(id, precision, time) */
uint32_t wex__wasi_clock_time_get(wex_wasi_t *w, const wex_val_t *a) {
    clockid_t c = host_clock(WEX__U32(0));
    if (c == (clockid_t)-1) return WEX__E_INVAL;
    if (!wex__wasi_mem(w, WEX__U32(2), 8)) return WEX__E_FAULT;
    struct timespec t;
    if (clock_gettime(c, &t)) return wex__wasi_errno(errno);
    wex__wasi_put_u64(w, WEX__U32(2), ns_of(&t));
    return 0;
}

/* random_get(buf, len) */
uint32_t wex__wasi_random_get(wex_wasi_t *w, const wex_val_t *a) {
    uint32_t len = WEX__U32(1);
    uint8_t *p = wex__wasi_mem(w, WEX__U32(0), len);
    if (!p) return WEX__E_FAULT;
    while (len > 0) {
        ssize_t n = getrandom(p, len, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            return wex__wasi_errno(errno);
        }
        p += n;
        len -= (uint32_t)n;
    }
    return 0;
}

/* poll_oneoff(in, out, nsubscriptions, nevents). Clock subscriptions set a
 * deadline; fd subscriptions on pipes, terminals and sockets wait with
 * ppoll; regular files and in-memory stdio are always ready. The fds are
 * pinned, and the wait holds no lock. */
uint32_t wex__wasi_poll_oneoff(wex_wasi_t *w, const wex_val_t *a) {
    uint32_t n = WEX__U32(2);
    if (n == 0) return WEX__E_INVAL;
    const uint8_t *in = wex__wasi_mem(w, WEX__U32(0), (uint64_t)n * 48);
    uint8_t *out = wex__wasi_mem(w, WEX__U32(1), (uint64_t)n * 32);
    if (!in || !out || !wex__wasi_mem(w, WEX__U32(3), 4)) return WEX__E_FAULT;
    /* Copy the subscriptions first: `in` and `out` may overlap. */
    uint8_t *subs = malloc((size_t)n * 48);
    struct pollfd *pfd = malloc((size_t)n * sizeof *pfd);
    uint16_t *perr = calloc(n, sizeof *perr); /* per-subscription error */
    uint8_t *ready = calloc(n, 1);
    int *pidx = malloc((size_t)n * sizeof *pidx);    /* subscription -> pfd index or -1 */
    uint64_t *rel = malloc((size_t)n * sizeof *rel); /* clock: relative timeout */
    wex__wasi_fd_t *pins = calloc(n, sizeof *pins);  /* fd subscriptions' entries */
    if (!subs || !pfd || !perr || !ready || !pidx || !rel || !pins) {
        free(subs), free(pfd), free(perr), free(ready), free(pidx), free(rel), free(pins);
        return WEX__E_NOMEM;
    }
    memcpy(subs, in, (size_t)n * 48);
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    uint64_t now_ns = ns_of(&now);
    uint64_t timeout = UINT64_MAX; /* relative ns */
    nfds_t np = 0;
    bool any_ready = false;
    uint32_t r = 0;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *s = subs + 48 * i;
        uint8_t tag = s[8];
        pidx[i] = -1;
        rel[i] = UINT64_MAX;
        if (tag == 0) {
            uint32_t id = wex__wasi_ld32(s + 16);
            uint64_t t = wex__wasi_ld64(s + 24);
            uint16_t fl = (uint16_t)(s[40] | s[41] << 8);
            clockid_t c = host_clock(id);
            if (c == (clockid_t)-1) {
                perr[i] = WEX__E_INVAL;
                ready[i] = 1;
                any_ready = true;
                continue;
            }
            rel[i] = t;
            if (fl & 1) {
                struct timespec ct;
                clock_gettime(c, &ct);
                uint64_t cn = ns_of(&ct);
                rel[i] = t > cn ? t - cn : 0;
            }
            if (rel[i] < timeout) timeout = rel[i];
        } else if (tag == 1 || tag == 2) {
            uint64_t need = tag == 1 ? WEX__R_FD_READ : WEX__R_FD_WRITE;
            uint16_t err = wex__wasi_pin(w, wex__wasi_ld32(s + 16), need, &pins[i]);
            const wex__wasi_fd_t *e = err ? NULL : &pins[i];
            if (!e) {
                perr[i] = err;
                ready[i] = 1;
                any_ready = true;
            } else if (e->host < 0 || e->filetype == WEX__FT_FILE || e->filetype == WEX__FT_DIR) {
                ready[i] = 1;
                any_ready = true;
            } else {
                pfd[np].fd = e->host;
                pfd[np].events = tag == 1 ? POLLIN : POLLOUT;
                pfd[np].revents = 0;
                pidx[i] = (int)np++;
            }
        } else {
            r = WEX__E_INVAL;
            goto done;
        }
    }
    {
        struct timespec ts, *tp = NULL;
        uint64_t wait = any_ready ? 0 : timeout;
        if (wait != UINT64_MAX) {
            ts.tv_sec = (time_t)(wait / 1000000000u);
            ts.tv_nsec = (long)(wait % 1000000000u);
            tp = &ts;
        }
        if (np > 0 || tp) {
            int k = ppoll(np ? pfd : NULL, np, tp, NULL);
            if (k < 0 && errno != EINTR) {
                r = wex__wasi_errno(errno);
                goto done;
            }
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &now);
    uint64_t elapsed = ns_of(&now) - now_ns;
    uint32_t nev = 0;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *s = subs + 48 * i;
        uint8_t tag = s[8];
        bool fire = ready[i];
        uint16_t flags = 0;
        if (!fire && tag == 0) fire = rel[i] <= elapsed;
        if (!fire && pidx[i] >= 0 && pfd[pidx[i]].revents) {
            fire = true;
            if (pfd[pidx[i]].revents & POLLHUP) flags = 1;
        }
        if (!fire) continue;
        uint8_t *ev = out + 32 * nev++;
        memset(ev, 0, 32);
        memcpy(ev, s, 8); /* userdata */
        wex__wasi_st16(ev + 8, perr[i]);
        ev[10] = tag;
        if (tag != 0 && !perr[i]) {
            uint64_t nbytes = 0;
            const wex__wasi_fd_t *e = &pins[i];
            if (e->host < 0 && e->mem_input) {
                /* The read position lives in the table entry. */
                uint16_t err = 0;
                wex__wasi_lock(w);
                const wex__wasi_fd_t *le = wex__wasi_get_fd(w, wex__wasi_ld32(s + 16), 0, &err);
                if (le && le->mem == e->mem) nbytes = le->mem->len - le->mem_pos;
                wex__wasi_unlock(w);
            }
            if (e->host >= 0 && e->filetype == WEX__FT_FILE && tag == 1) {
                struct stat st;
                off_t pos = lseek(e->host, 0, SEEK_CUR);
                if (fstat(e->host, &st) == 0 && pos >= 0 && st.st_size > pos)
                    nbytes = (uint64_t)(st.st_size - pos);
            }
            wex__wasi_st64(ev + 16, nbytes);
            wex__wasi_st16(ev + 24, flags);
        }
    }
    wex__wasi_put_u32(w, WEX__U32(3), nev);
done:
    for (uint32_t i = 0; i < n; i++)
        wex__wasi_unpin(&pins[i]);
    free(subs), free(pfd), free(perr), free(ready), free(pidx), free(rel), free(pins);
    return r;
}

/* proc_raise(sig): wex delivers no signals to guests. */
uint32_t wex__wasi_proc_raise(wex_wasi_t *w, const wex_val_t *a) {
    return WEX__E_NOSYS;
}

/* sched_yield() */
uint32_t wex__wasi_sched_yield(wex_wasi_t *w, const wex_val_t *a) {
    sched_yield();
    return 0;
}

/* The errno of a socket call on fd: EBADF if not open, ENOTSOCK otherwise
 * (no fd of a wex guest is a socket). */
static uint32_t not_socket(wex_wasi_t *w, uint32_t fd) {
    uint16_t err = 0;
    wex__wasi_lock(w);
    bool open = wex__wasi_get_fd(w, fd, 0, &err) != NULL;
    wex__wasi_unlock(w);
    return open ? WEX__E_NOTSOCK : err;
}

/* sock_accept(fd, flags, fd_out) */
uint32_t wex__wasi_sock_accept(wex_wasi_t *w, const wex_val_t *a) {
    return not_socket(w, WEX__U32(0));
}

/* sock_recv(fd, ri_data, ri_data_len, ri_flags, ro_datalen, ro_flags) */
uint32_t wex__wasi_sock_recv(wex_wasi_t *w, const wex_val_t *a) {
    return not_socket(w, WEX__U32(0));
}

/* sock_send(fd, si_data, si_data_len, si_flags, so_datalen) */
uint32_t wex__wasi_sock_send(wex_wasi_t *w, const wex_val_t *a) {
    return not_socket(w, WEX__U32(0));
}

/* sock_shutdown(fd, how) */
uint32_t wex__wasi_sock_shutdown(wex_wasi_t *w, const wex_val_t *a) {
    return not_socket(w, WEX__U32(0));
}
