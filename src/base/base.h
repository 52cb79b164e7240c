/*
 * base.h - the bottom layer: memory helpers, growable buffers, the error
 * object and a bounded byte reader with LEB128 decoding. Everything above
 * depends on this; this depends on nothing of wex.
 */
#ifndef WEX_BASE_H
#define WEX_BASE_H

#include "wex.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define WEX__LIKELY(x)    __builtin_expect(!!(x), 1)
#define WEX__UNLIKELY(x)  __builtin_expect(!!(x), 0)
#define WEX__ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Allocation: abort-free; callers check for NULL. */
void *wex__malloc(size_t n);
void *wex__calloc(size_t count, size_t size);
void *wex__realloc(void *p, size_t n);
void wex__free(void *p);
char *wex__strndup(const char *s, size_t n);

/* The error object behind wex_error_t. */
struct wex_error {
    wex_errcode_t code;
    wex_trapcode_t trap;
    int64_t offset;
    int exit_status;
    char *message; /* points just past the struct, or at a literal */
    /* A trap's WebAssembly backtrace, innermost first (see wex__error_set_frames). */
    struct wex__eframe *frames;
    uint32_t nframes;
    uint64_t frames_omitted; /* live frames beyond the recorded ones */
    bool backtraced;         /* a backtrace was attached (possibly empty) */
};

/* One recorded frame of a trap's backtrace. */
typedef struct wex__eframe {
    uint32_t func_index;
    uint32_t flags; /* WEX_FRAME_* */
    int64_t offset; /* byte offset in the module, or -1 */
    char *name;     /* owned copy, or NULL */
} wex__eframe;

/*
 * Attach a backtrace to error e: frames[0..n) are copied (names too), and
 * `omitted` more live frames are counted but not kept. Does nothing for the
 * static out-of-memory error or if e already has a backtrace (the innermost
 * capture wins when a trap travels out through a host function). Returns
 * false if the copy could not be allocated (e is then left without frames).
 */
bool wex__error_set_frames(wex_error_t *e, const wex__eframe *frames, uint32_t n, uint64_t omitted);
/* The same for the callers of frames already attached, where a trap crosses
 * from one tier into another (native code and the interpreter): frames and
 * omitted are added after e's (set as above if e has none yet). */
bool wex__error_add_frames(wex_error_t *e, const wex__eframe *frames, uint32_t n, uint64_t omitted);
/* True once a backtrace was attached (possibly an empty one). */
static inline bool wex__error_has_frames(const wex_error_t *e) {
    return e->backtraced;
}

wex_error_t *wex__error_vnew(wex_errcode_t code, int64_t offset, const char *fmt, va_list ap);
wex_error_t *wex__error_at(wex_errcode_t code, int64_t offset, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
wex_error_t *wex__error_trap(wex_trapcode_t trap);
/* A trap whose message names an index, as the spec's does: "uninitialized element 2". */
wex_error_t *wex__error_trap_index(wex_trapcode_t trap, uint32_t index);
/* A trap with a message of its own (which should begin with the trap's). */
wex_error_t *wex__error_trapf(wex_trapcode_t trap, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
wex_error_t *wex__error_nomem(void);

/* A growable byte buffer. */
typedef struct {
    uint8_t *data;
    size_t len, cap;
} wex__buf;

bool wex__buf_reserve(wex__buf *b, size_t extra);
bool wex__buf_append(wex__buf *b, const void *p, size_t n);
void wex__buf_free(wex__buf *b);

/*
 * A bounded reader over a byte range. Every read checks the end; the first
 * failure records an error (with its offset relative to `origin`) and all
 * later reads fail too, so decoders can read a run of fields and check once.
 */
typedef struct {
    const uint8_t *p, *end;
    const uint8_t *origin; /* offsets in errors are p - origin */
    const char *err;       /* first error message, NULL if none */
    size_t err_off;
} wex__reader;

static inline void wex__reader_init(wex__reader *r, const uint8_t *p, size_t n,
                                    const uint8_t *origin) {
    r->p = p;
    r->end = p + n;
    r->origin = origin;
    r->err = NULL;
    r->err_off = 0;
}
static inline size_t wex__reader_off(const wex__reader *r) {
    return (size_t)(r->p - r->origin);
}
static inline size_t wex__reader_left(const wex__reader *r) {
    return (size_t)(r->end - r->p);
}
/* Record the first failure at the current position. Returns false. */
bool wex__reader_fail(wex__reader *r, const char *msg);
bool wex__reader_fail_at(wex__reader *r, size_t off, const char *msg);

bool wex__read_u8(wex__reader *r, uint8_t *out);
bool wex__read_bytes(wex__reader *r, size_t n, const uint8_t **out);
bool wex__read_u32(wex__reader *r, uint32_t *out); /* unsigned LEB128, 32-bit */
bool wex__read_u64(wex__reader *r, uint64_t *out); /* unsigned LEB128, 64-bit */
bool wex__read_s32(wex__reader *r, int32_t *out);  /* signed LEB128, 32-bit */
bool wex__read_s33(wex__reader *r, int64_t *out);  /* signed LEB128, 33-bit (block types) */
bool wex__read_s64(wex__reader *r, int64_t *out);  /* signed LEB128, 64-bit */
bool wex__read_f32(wex__reader *r, uint32_t *bits);
bool wex__read_f64(wex__reader *r, uint64_t *bits);

/* True if s[0..n) is well-formed UTF-8 (no overlongs, surrogates, > U+10FFFF). */
bool wex__utf8_valid(const uint8_t *s, size_t n);

#endif
