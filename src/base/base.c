/*
 * base.c - allocation, errors, buffers, the bounded reader and LEB128.
 */
#include "base/base.h"

#include <stdio.h>
#include <stdlib.h>

void *wex__malloc(size_t n) {
    return malloc(n ? n : 1);
}
void *wex__calloc(size_t count, size_t size) {
    return calloc(count ? count : 1, size ? size : 1);
}
void *wex__realloc(void *p, size_t n) {
    return realloc(p, n ? n : 1);
}
void wex__free(void *p) {
    free(p);
}
char *wex__strndup(const char *s, size_t n) {
    char *r = wex__malloc(n + 1);
    if (!r) return NULL;
    if (n) memcpy(r, s, n);
    r[n] = 0;
    return r;
}

/* A static error for when even the error cannot be allocated. */
static char wex__oom_message[] = "out of memory";
static struct wex_error wex__oom_error = {
    .code = WEX_ERR_NOMEM, .trap = WEX_TRAP_NONE, .offset = -1, .message = wex__oom_message};

wex_error_t *wex__error_nomem(void) {
    return &wex__oom_error;
}

wex_error_t *wex__error_vnew(wex_errcode_t code, int64_t offset, const char *fmt, va_list ap) {
    char tmp[512];
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    if (n < 0) n = 0;
    if ((size_t)n >= sizeof tmp) n = sizeof tmp - 1;
    wex_error_t *e = wex__malloc(sizeof *e + (size_t)n + 1);
    if (!e) return wex__error_nomem();
    e->code = code;
    e->trap = WEX_TRAP_NONE;
    e->offset = offset;
    e->exit_status = 0;
    e->message = (char *)(e + 1);
    memcpy(e->message, tmp, (size_t)n + 1);
    e->frames = NULL;
    e->nframes = 0;
    e->frames_omitted = 0;
    e->backtraced = false;
    return e;
}

wex_error_t *wex__error_at(wex_errcode_t code, int64_t offset, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    wex_error_t *e = wex__error_vnew(code, offset, fmt, ap);
    va_end(ap);
    return e;
}

wex_error_t *wex__error_trap(wex_trapcode_t trap) {
    wex_error_t *e = wex__error_at(WEX_ERR_TRAP, -1, "%s", wex_trap_message(trap));
    if (e != wex__error_nomem()) e->trap = trap;
    return e;
}

wex_error_t *wex__error_trap_index(wex_trapcode_t trap, uint32_t index) {
    wex_error_t *e = wex__error_at(WEX_ERR_TRAP, -1, "%s %u", wex_trap_message(trap), index);
    if (e != wex__error_nomem()) e->trap = trap;
    return e;
}

/* Traps that need more context than the trap code's message (where an
 * instantiation failed, say) keep the code, for embedders and the spec
 * runner, and say the rest in the message. */
wex_error_t *wex__error_trapf(wex_trapcode_t trap, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    wex_error_t *e = wex__error_vnew(WEX_ERR_TRAP, -1, fmt, ap);
    va_end(ap);
    if (e != wex__error_nomem()) e->trap = trap;
    return e;
}

wex_error_t *wex_error_new(wex_errcode_t code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    wex_error_t *e = wex__error_vnew(code, -1, fmt, ap);
    va_end(ap);
    if (code == WEX_ERR_TRAP && e != wex__error_nomem()) e->trap = WEX_TRAP_HOST;
    return e;
}

wex_error_t *wex_error_new_exit(int status) {
    wex_error_t *e = wex__error_at(WEX_ERR_EXIT, -1, "exit with status %d", status);
    if (e != wex__error_nomem()) e->exit_status = status;
    return e;
}

wex_errcode_t wex_error_code(const wex_error_t *e) {
    return e ? e->code : WEX_ERR_OK;
}
wex_trapcode_t wex_error_trap_code(const wex_error_t *e) {
    return e ? e->trap : WEX_TRAP_NONE;
}
const char *wex_error_message(const wex_error_t *e) {
    return e ? e->message : "no error";
}
int64_t wex_error_offset(const wex_error_t *e) {
    return e ? e->offset : -1;
}
int wex_error_exit_status(const wex_error_t *e) {
    return e ? e->exit_status : 0;
}
void wex_error_delete(wex_error_t *e) {
    if (!e || e == wex__error_nomem()) return;
    for (uint32_t i = 0; i < e->nframes; i++)
        wex__free(e->frames[i].name);
    wex__free(e->frames);
    wex__free(e);
}

/*
 * The backtrace is copied into the error, names included, so that it stays
 * valid after the instances and modules it describes are gone: an error is
 * owned by the caller and may outlive the store.
 */
bool wex__error_set_frames(wex_error_t *e, const wex__eframe *frames, uint32_t n,
                           uint64_t omitted) {
    if (!e || e == wex__error_nomem() || e->backtraced) return true;
    e->backtraced = true;
    e->frames_omitted = omitted;
    if (!n) return true;
    wex__eframe *c = wex__calloc(n, sizeof *c);
    if (!c) {
        e->frames_omitted += n;
        return false;
    }
    for (uint32_t i = 0; i < n; i++) {
        c[i] = frames[i];
        c[i].name = NULL;
        if (frames[i].name) c[i].name = wex__strndup(frames[i].name, strlen(frames[i].name));
        /* A name that cannot be copied is printed as its index instead. */
    }
    e->frames = c;
    e->nframes = n;
    return true;
}

bool wex__error_add_frames(wex_error_t *e, const wex__eframe *frames, uint32_t n,
                           uint64_t omitted) {
    if (!e || e == wex__error_nomem()) return true;
    if (!e->backtraced) return wex__error_set_frames(e, frames, n, omitted);
    if (e->frames_omitted) { /* frames are missing in between: keep counting */
        e->frames_omitted += n + omitted;
        return true;
    }
    uint32_t keep = WEX_BACKTRACE_MAX_FRAMES -
                    (e->nframes < WEX_BACKTRACE_MAX_FRAMES ? e->nframes : WEX_BACKTRACE_MAX_FRAMES);
    if (keep > n) keep = n;
    e->frames_omitted += omitted + (n - keep);
    if (!keep) return true;
    wex__eframe *c = wex__realloc(e->frames, (size_t)(e->nframes + keep) * sizeof *c);
    if (!c) {
        e->frames_omitted += keep;
        return false;
    }
    for (uint32_t i = 0; i < keep; i++) {
        c[e->nframes + i] = frames[i];
        c[e->nframes + i].name =
            frames[i].name ? wex__strndup(frames[i].name, strlen(frames[i].name)) : NULL;
    }
    e->frames = c;
    e->nframes += keep;
    return true;
}

size_t wex_error_frame_count(const wex_error_t *e) {
    return e ? e->nframes : 0;
}

size_t wex_error_frames_omitted(const wex_error_t *e) {
    return e ? (size_t)e->frames_omitted : 0;
}

bool wex_error_frame(const wex_error_t *e, size_t i, wex_frame_t *out) {
    if (!e || i >= e->nframes) return false;
    const wex__eframe *f = &e->frames[i];
    out->func_index = f->func_index;
    out->module_offset = f->offset;
    out->func_name = f->name;
    out->flags = f->flags;
    return true;
}

const char *wex_errcode_name(wex_errcode_t code) {
    static const char *const names[] = {
#define WEX__E(name, desc) desc,
        WEX_ERROR_LIST(WEX__E)
#undef WEX__E
    };
    return (unsigned)code < WEX__ARRAY_LEN(names) ? names[code] : "unknown error";
}

const char *wex_trap_message(wex_trapcode_t code) {
    static const char *const msgs[] = {
#define WEX__T(name, msg) msg,
        WEX_TRAP_LIST(WEX__T)
#undef WEX__T
    };
    return (unsigned)code < WEX__ARRAY_LEN(msgs) ? msgs[code] : "unknown trap";
}

bool wex__buf_reserve(wex__buf *b, size_t extra) {
    if (b->cap - b->len >= extra) return true;
    size_t need = b->len + extra;
    if (need < b->len) return false;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) {
        if (cap > SIZE_MAX / 2) return false;
        cap *= 2;
    }
    uint8_t *d = wex__realloc(b->data, cap);
    if (!d) return false;
    b->data = d;
    b->cap = cap;
    return true;
}

bool wex__buf_append(wex__buf *b, const void *p, size_t n) {
    if (!wex__buf_reserve(b, n)) return false;
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    return true;
}

void wex__buf_free(wex__buf *b) {
    wex__free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

bool wex__reader_fail_at(wex__reader *r, size_t off, const char *msg) {
    if (!r->err) {
        r->err = msg;
        r->err_off = off;
    }
    r->p = r->end; /* all later reads fail */
    return false;
}

bool wex__reader_fail(wex__reader *r, const char *msg) {
    return wex__reader_fail_at(r, wex__reader_off(r), msg);
}

bool wex__read_u8(wex__reader *r, uint8_t *out) {
    if (r->err) return false;
    if (r->p >= r->end) return wex__reader_fail(r, "unexpected end");
    *out = *r->p++;
    return true;
}

bool wex__read_bytes(wex__reader *r, size_t n, const uint8_t **out) {
    if (r->err) return false;
    if (wex__reader_left(r) < n) return wex__reader_fail(r, "unexpected end");
    *out = r->p;
    r->p += n;
    return true;
}

/*
 * Unsigned LEB128 of at most `bits` bits. The spec requires at most
 * ceil(bits/7) bytes ("integer representation too long") and that unused bits
 * of the last byte be zero ("integer too large").
 */
static bool read_uleb(wex__reader *r, unsigned bits, uint64_t *out) {
    if (r->err) return false;
    uint64_t result = 0;
    unsigned shift = 0;
    unsigned maxbytes = (bits + 6) / 7;
    for (unsigned i = 0;; i++) {
        if (r->p >= r->end) return wex__reader_fail(r, "unexpected end");
        uint8_t b = *r->p++;
        if (i == maxbytes - 1) {
            if (b & 0x80) return wex__reader_fail(r, "integer representation too long");
            unsigned used = bits - shift; /* bits the last byte may carry */
            if (used < 7 && (b >> used) != 0) return wex__reader_fail(r, "integer too large");
            result |= (uint64_t)b << shift;
            break;
        }
        result |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
        if (!(b & 0x80)) break;
    }
    *out = result;
    return true;
}

/* Signed LEB128 of at most `bits` bits; the unused bits of the last byte must
 * all equal the sign bit. */
static bool read_sleb(wex__reader *r, unsigned bits, int64_t *out) {
    if (r->err) return false;
    uint64_t result = 0;
    unsigned shift = 0;
    unsigned maxbytes = (bits + 6) / 7;
    uint8_t b = 0;
    for (unsigned i = 0;; i++) {
        if (r->p >= r->end) return wex__reader_fail(r, "unexpected end");
        b = *r->p++;
        if (i == maxbytes - 1) {
            if (b & 0x80) return wex__reader_fail(r, "integer representation too long");
            unsigned used = bits - shift; /* value bits in this byte incl. sign */
            if (used < 7) {
                int8_t sb = (int8_t)(b << 1) >> 1; /* sign-extend 7 bits */
                int8_t hi = (int8_t)(sb >> (used - 1));
                if (hi != 0 && hi != -1) return wex__reader_fail(r, "integer too large");
            }
            result |= (uint64_t)(b & 0x7f) << shift;
            shift += 7;
            break;
        }
        result |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
        if (!(b & 0x80)) break;
    }
    if (shift < 64 && (b & 0x40)) result |= ~(uint64_t)0 << shift;
    *out = (int64_t)result;
    return true;
}

bool wex__read_u32(wex__reader *r, uint32_t *out) {
    uint64_t v = 0;
    if (!read_uleb(r, 32, &v)) return false;
    *out = (uint32_t)v;
    return true;
}
bool wex__read_u64(wex__reader *r, uint64_t *out) {
    return read_uleb(r, 64, out);
}
bool wex__read_s32(wex__reader *r, int32_t *out) {
    int64_t v = 0;
    if (!read_sleb(r, 32, &v)) return false;
    *out = (int32_t)v;
    return true;
}
bool wex__read_s33(wex__reader *r, int64_t *out) {
    return read_sleb(r, 33, out);
}
bool wex__read_s64(wex__reader *r, int64_t *out) {
    return read_sleb(r, 64, out);
}
bool wex__read_f32(wex__reader *r, uint32_t *bits) {
    const uint8_t *p;
    if (!wex__read_bytes(r, 4, &p)) return false;
    *bits = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    return true;
}
bool wex__read_f64(wex__reader *r, uint64_t *bits) {
    const uint8_t *p;
    if (!wex__read_bytes(r, 8, &p)) return false;
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    *bits = v;
    return true;
}

bool wex__utf8_valid(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        uint32_t cp;
        if ((c & 0xE0) == 0xC0) {
            len = 2;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (n - i < len) return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return false;
            cp = cp << 6 | (s[i + k] & 0x3F);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000))
            return false; /* overlong */
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += len;
    }
    return true;
}
