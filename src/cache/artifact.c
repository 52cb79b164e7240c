/*
 * artifact.c - compiled modules as files: the writer, and the loader that
 * maps a file and points the module into it.
 *
 * Layout (host byte order; the engine id pins the host kind):
 *
 *   header      magic, format version, engine id, module hash, file size,
 *               the checksum of header + metadata, and per section its
 *               offset, length and checksum
 *   META        (8-aligned) what the runtime needs besides code: types,
 *               imports, exports, index spaces, globals, element and data
 *               segment descriptors, function names, the per-function code
 *               records, the relocations, the image's reason
 *   CODE        (64 KiB-aligned) the internal code words, executed in place
 *   BYTES       constant expressions and data segment contents: the parts
 *               of the module's binary that instantiation still reads, with
 *               offsets rewritten to point here
 *   PCMAP       (8-aligned, after BYTES) the backtrace side table
 *               (wex__compiled.pcmap): a pair per operator change, so about a
 *               third of the file for big modules; read only when a trap is
 *               reported, and checked then (a lazy check like the code's)
 *   BODIES      (8-aligned) each defined function's WebAssembly body
 *               (instructions) behind a table of records (body_rec): what a
 *               damaged function is translated again from (the repair, see
 *               below); read only then. About 27% of big.wasm's artifact.
 *   NATIVE      (8-aligned) native code (src/native): its object files,
 *               each a 64-bit length and the bytes padded to 8, for an
 *               engine that runs native code; checked whole and loaded
 *               (relocated into fresh pages) with the module; damaged, the
 *               native tier compiles again and the automatic one starts
 *               from the interpreter
 *   IMAGE       (WEX__IMAGE_ALIGN-aligned) the memory image, if the module
 *               has one, mapped copy-on-write straight from the file
 *
 * Loading is O(metadata): the file is mapped and the module's arrays point
 * into the mapping; only small tables (types, imports, exports, segments,
 * names) are rebuilt. Code is never read at load, unless it must be
 * relocated (below) or a full check is asked for.
 *
 * Integrity without reading everything at load (VERIFY_FAST, the default).
 * A damaged entry must be a miss, never a crash, yet a whole-file checksum
 * costs ~9 ms for an 85 MB artifact against a 2 ms budget. So each part is
 * checked when it is first used, once:
 *   - META (and the header) at load: it is small and every table is built
 *     from it; the per-function records in it carry what is checked later.
 *   - CODE per function, on the function's first entry (interp.h's
 *     wex__lazy): META stores a checksum of each function's words; after
 *     the code come two-word stubs [VERIFY_FN, i], one per defined function
 *     (compared word by word at load: 8 bytes a function), and the stored
 *     funcs[i].code_off points at function i's stub, its real start being in
 *     a separate array. The stub's handler checks the function and publishes
 *     the real start, so a function that never runs is never read, and one
 *     that runs is checked once. The words that hold an engine's type ids
 *     (relocated when another engine loads the entry) are left out of the
 *     checksum and compared with the ids this engine expects instead. Code
 *     reaches another function only through funcs[] (calls name functions by
 *     index; branches are relative and stay inside their function), so no
 *     unchecked word ever runs.
 *   - BYTES and IMAGE at the module's first instantiation (wex__cache_
 *     first_instance): instantiation reads the data then anyway, and an
 *     image-backed memory costs one pass over the image once per process.
 * A failed check removes the entry (modcache.bad: in-memory layers drop it;
 * the filesystem file is deleted) so the next load compiles again, and the
 * loaded module recovers where it can, so that the run is still correct:
 *   - a damaged function is translated again from its body in BODIES (its
 *     own checksum checked first) into its place in the private mapping;
 *     the result must match the stored checksum, else (or if the body is
 *     damaged too) the call fails with a clear error;
 *   - a damaged image with intact data segments is dropped: the memory is
 *     initialised by copying the segments;
 *   - damaged data segments fail the instantiation with a clear error.
 *
 * Relocation: the internal code of call_indirect holds the engine-wide id of
 * the expected function type, which depends on what the engine interned
 * before. The translator records every word that holds such an id, with the
 * module's type index (wex__compiled.tyrel); the writer stores that list.
 * The loader interns the types in the new engine and rewrites those words
 * only if an id differs (the mapping is private, so only the pages touched
 * are copied).
 */
#include "cache/cache.h"
#include "interp/interp.h"
#include "native/native_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC "WEXCWASM"
/* Code starts on a boundary that is a page on every host wex supports (so
 * that relocation can mprotect its pages): the WebAssembly page. */
#define CODE_ALIGN WEX__IMAGE_ALIGN

enum { SEC_META, SEC_CODE, SEC_BYTES, SEC_IMAGE, SEC_PCMAP, SEC_BODIES, SEC_NATIVE, NSEC };
static const char *const sec_name[NSEC] = {
    "metadata", "code", "data", "image", "backtrace table", "function bodies", "native code"};

/* A function's record at the start of BODIES (see the top). */
typedef struct {
    uint32_t off, len; /* its body's instructions, from the section's start */
    uint32_t nlocals;  /* declared locals */
    uint32_t pad;
    uint64_t sum; /* of the instructions, seeded with (index << 32 | nlocals) */
} body_rec;

typedef struct {
    char magic[8];
    uint32_t version, header_size;
    uint8_t engine_id[WEX__ENGINE_ID_SIZE];
    uint8_t hash[WEX_CACHE_HASH_SIZE];
    uint64_t file_size;
    uint64_t meta_sum; /* over this header (meta_sum zero) then META */
    struct {
        uint64_t off, len, sum; /* CODE's sum covers the code, not the stubs */
    } sec[NSEC];
    uint64_t nstubs; /* verify stubs at the end of CODE: one per defined function */
} header_t;

/* The words of a verify stub (see the top). */
enum { STUB_WORDS = 2 };

/* The loader's record behind wex__compiled.lazy (see the top). */
typedef struct {
    wex__lazy pub; /* first: verify gets it back */
    wex__module *m;
    const uint64_t *fsum; /* per function, in the mapping */
    const uint32_t *rel;  /* type-id words, sorted, in the mapping */
    size_t nrel;
    uint64_t pcmap_sum;
    uint32_t pcmap_state;  /* atomic: 0 unchecked, 1 intact, 2 damaged */
    const uint8_t *bodies; /* the BODIES section, in the mapping */
    uint64_t bodies_len;
    pthread_mutex_t lock; /* checks and repairs of this module's functions */
    uint8_t *seen;        /* scratch of lazy_verify, per function (under lock) */
    uint32_t *work;
} lazy_rec;

/* Index of the first type-id word at or after `off` (rel: sorted pairs). */
static size_t rel_first(const uint32_t *rel, size_t nrel, uint32_t off) {
    size_t lo = 0, hi = nrel;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (rel[2 * mid] < off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The checksum of function di's words [off, off + len), leaving out its
 * type-id words (rel, sorted): another engine rewrites those at load, so
 * they are compared by value instead. Seeded with di so that two identical
 * functions do not share a sum (a swapped record would pass). */
static uint64_t func_sum(const uint32_t *code, uint32_t off, uint32_t len, const uint32_t *rel,
                         size_t nrel, uint32_t di) {
    uint64_t h = di;
    uint32_t at = off, end = off + len;
    for (size_t k = rel_first(rel, nrel, off); k < nrel && rel[2 * k] < end; k++) {
        if (rel[2 * k] < at) continue; /* a duplicate */
        h = wex__checksum64(code + at, (size_t)(rel[2 * k] - at) * 4, h);
        at = rel[2 * k] + 1;
    }
    return wex__checksum64(code + at, (size_t)(end - at) * 4, h);
}

static int rel_cmp(const void *a, const void *b) {
    const uint32_t *x = a, *y = b;
    return x[0] < y[0] ? -1 : x[0] > y[0];
}

/* What the writer derives from the compiled code for lazy checking. */
typedef struct {
    uint32_t *rel; /* type-id words, sorted by word */
    size_t nrel;
    wex__fcode *funcs;  /* code_off pointing at the stubs */
    uint32_t *real_off; /* where each function's code starts */
    uint64_t *fsum;     /* func_sum of each */
    uint32_t *stubs;    /* the stub words */
} lazy_out;

static void lazy_out_free(lazy_out *z) {
    wex__free(z->rel);
    wex__free(z->funcs);
    wex__free(z->real_off);
    wex__free(z->fsum);
    wex__free(z->stubs);
}

static bool lazy_out_make(const wex__compiled *c, lazy_out *z) {
    memset(z, 0, sizeof *z);
    size_t nf = c->nfuncs ? c->nfuncs : 1;
    z->rel = wex__malloc(c->ntyrel * 8 + 8);
    z->funcs = wex__malloc(nf * sizeof *z->funcs);
    z->real_off = wex__malloc(nf * 4);
    z->fsum = wex__malloc(nf * 8);
    z->stubs = wex__malloc(nf * STUB_WORDS * 4);
    if (!z->rel || !z->funcs || !z->real_off || !z->fsum || !z->stubs) {
        lazy_out_free(z);
        return false;
    }
    if (c->ntyrel) memcpy(z->rel, c->tyrel, c->ntyrel * 8);
    qsort(z->rel, c->ntyrel, 8, rel_cmp);
    z->nrel = c->ntyrel;
    for (uint32_t i = 0; i < c->nfuncs; i++) {
        z->funcs[i] = c->funcs[i];
        z->real_off[i] = wex__fcode_start(c, i);
        z->funcs[i].code_off = (uint32_t)c->code_len + STUB_WORDS * i;
        z->fsum[i] = func_sum(c->code, z->real_off[i], c->funcs[i].code_len, z->rel, z->nrel, i);
        z->stubs[STUB_WORDS * i] = WEX__IOP_VERIFY_FN;
        z->stubs[STUB_WORDS * i + 1] = i;
    }
    return true;
}

/* ------------------------------------------------------------- writer */

typedef struct {
    wex__buf b;
    bool oom;
} out_t;

static void put(out_t *o, const void *p, size_t n) {
    if (!o->oom && !wex__buf_append(&o->b, p, n)) o->oom = true;
}
static void put32(out_t *o, uint32_t v) {
    put(o, &v, 4);
}
static void put64(out_t *o, uint64_t v) {
    put(o, &v, 8);
}
static void pad(out_t *o, size_t align) {
    static const uint8_t zero[8];
    while (!o->oom && o->b.len % align)
        put(o, zero, 1);
}
/* A string: length, bytes, NUL, padding to 4. */
static void putstr(out_t *o, const char *s, uint32_t len) {
    put32(o, len);
    if (len) put(o, s, len);
    put(o, "", 1);
    pad(o, 4);
}
/* A raw array the loader points into: 8-aligned. */
static void putraw(out_t *o, const void *p, size_t n) {
    pad(o, 8);
    if (n) put(o, p, n);
    pad(o, 4);
}
static void putlim(out_t *o, const wex__limits *l) {
    put64(o, l->min);
    put64(o, l->max);
    put32(o, l->has_max);
    put32(o, l->shared);
}

/* Copy a constant expression into the BYTES blob; returns its new place. */
static wex__constexpr move_expr(const wex__module *m, out_t *blob, wex__constexpr ce) {
    wex__constexpr r = {(uint32_t)blob->b.len, ce.len};
    if (ce.len) put(blob, m->bytes + ce.off, ce.len);
    return r;
}

/* Write everything but the header into meta and blob. */
static void write_meta(const wex__module *m, const lazy_out *z, out_t *o, out_t *blob) {
    put32(o, m->ntypes);
    for (uint32_t i = 0; i < m->ntypes; i++) {
        const wex__functype *t = &m->types[i];
        put32(o, t->nparams);
        put32(o, t->nresults);
        put32(o, t->canon);
        put(o, t->types, (size_t)t->nparams + t->nresults);
        pad(o, 4);
    }
    put32(o, m->nimports);
    for (uint32_t i = 0; i < m->nimports; i++) {
        const wex__import *im = &m->imports[i];
        putstr(o, im->module, im->module_len);
        putstr(o, im->name, im->name_len);
        put32(o, im->kind);
        switch (im->kind) {
        case WEX__EXT_FUNC: put32(o, im->u.type); break;
        case WEX__EXT_TABLE:
            put32(o, im->u.table.elem);
            putlim(o, &im->u.table.lim);
            break;
        case WEX__EXT_MEM: putlim(o, &im->u.mem.lim); break;
        default:
            put32(o, im->u.global.type);
            put32(o, im->u.global.mut);
            break;
        }
    }
    put32(o, m->nfuncs);
    put32(o, m->nfunc_imports);
    putraw(o, m->func_types, (size_t)m->nfuncs * 4);
    put32(o, m->ntables);
    put32(o, m->ntable_imports);
    for (uint32_t i = 0; i < m->ntables; i++) {
        put32(o, m->tables[i].elem);
        putlim(o, &m->tables[i].lim);
    }
    put32(o, m->nmems);
    put32(o, m->nmem_imports);
    for (uint32_t i = 0; i < m->nmems; i++)
        putlim(o, &m->mems[i].lim);
    put32(o, m->nglobals);
    put32(o, m->nglobal_imports);
    for (uint32_t i = 0; i < m->nglobals; i++) {
        put32(o, m->global_types[i].type);
        put32(o, m->global_types[i].mut);
    }
    for (uint32_t i = 0; i < m->nglobals - m->nglobal_imports; i++) {
        wex__constexpr ce = move_expr(m, blob, m->globals[i].init);
        put32(o, ce.off);
        put32(o, ce.len);
    }
    put32(o, m->nexports);
    for (uint32_t i = 0; i < m->nexports; i++) {
        putstr(o, m->exports[i].name, m->exports[i].name_len);
        put32(o, m->exports[i].kind);
        put32(o, m->exports[i].index);
    }
    put32(o, m->has_start);
    put32(o, m->start);
    put32(o, m->nelems);
    for (uint32_t i = 0; i < m->nelems; i++) {
        const wex__elem *e = &m->elems[i];
        wex__constexpr off = move_expr(m, blob, e->offset);
        put32(o, e->mode);
        put32(o, e->type);
        put32(o, e->table);
        put32(o, off.off);
        put32(o, off.len);
        put32(o, e->count);
        put32(o, e->exprs != NULL);
        put32(o, e->off);
        if (e->exprs) {
            pad(o, 8);
            for (uint32_t k = 0; k < e->count; k++) {
                wex__constexpr ce = move_expr(m, blob, e->exprs[k]);
                put32(o, ce.off);
                put32(o, ce.len);
            }
        } else {
            putraw(o, e->funcs, (size_t)e->count * 4);
        }
    }
    put32(o, m->has_datacount);
    put32(o, m->datacount);
    put32(o, m->ndatas);
    for (uint32_t i = 0; i < m->ndatas; i++) {
        const wex__data *d = &m->datas[i];
        wex__constexpr off = move_expr(m, blob, d->offset);
        uint32_t data_off = (uint32_t)blob->b.len;
        if (d->data_len) put(blob, m->bytes + d->data_off, d->data_len);
        put32(o, d->mode);
        put32(o, d->mem);
        put32(o, off.off);
        put32(o, off.len);
        put32(o, data_off);
        put32(o, d->data_len);
        put32(o, d->off);
    }
    const wex__compiled *c = m->compiled;
    put32(o, c->nfuncs);
    put64(o, c->code_len);
    putraw(o, z->funcs, (size_t)c->nfuncs * sizeof *c->funcs);
    uint32_t nnames = 0;
    for (uint32_t i = 0; m->func_names && i < m->nfuncs; i++)
        nnames += m->func_names[i] != NULL;
    put32(o, nnames);
    for (uint32_t i = 0; nnames && i < m->nfuncs; i++)
        if (m->func_names[i]) {
            put32(o, i);
            putstr(o, m->func_names[i], (uint32_t)strlen(m->func_names[i]));
        }
    /* The type-id words, as the translator recorded them (wex__compiled.tyrel),
     * sorted by word (lazy checks search them per function). */
    put32(o, (uint32_t)z->nrel);
    putraw(o, z->rel, z->nrel * 8);
    /* The direct calls (wex__compiled.lcall): a first-call check covers the
     * callees they jump to. */
    put64(o, c->nlcall);
    putraw(o, c->lcall, c->nlcall * 4);
    /* The backtrace side table (pairs of code word, module offset) is a
     * section of its own (PCMAP): only its size is here. */
    put64(o, c->npcmap);
    put32(o, m->image.no_image != NULL);
    if (m->image.no_image) putstr(o, m->image.no_image, (uint32_t)strlen(m->image.no_image));
    /* Lazy checking (see the top): each function's start and checksum. */
    putraw(o, z->real_off, (size_t)c->nfuncs * 4);
    putraw(o, z->fsum, (size_t)c->nfuncs * 8);
}

/* The BODIES section: the records, then the bodies. A module loaded from an
 * artifact has no bodies of its own: its section is copied as it is (a
 * damaged body then fails its own check if it is ever needed). */
static void write_bodies(const wex__module *m, out_t *o) {
    if (wex__cache_is_mapped(m)) {
        const lazy_rec *lz = (const lazy_rec *)m->compiled->lazy;
        put(o, lz->bodies, lz->bodies_len);
        return;
    }
    uint32_t nf = m->compiled->nfuncs;
    size_t at = (size_t)nf * sizeof(body_rec);
    for (uint32_t i = 0; i < nf; i++) {
        const wex__code *cd = &m->codes[i];
        body_rec r = {(uint32_t)at, cd->off + cd->len - cd->expr_off, cd->nlocals, 0, 0};
        r.sum = wex__checksum64(m->bytes + cd->expr_off, r.len, (uint64_t)i << 32 | r.nlocals);
        put(o, &r, sizeof r);
        at += r.len;
    }
    for (uint32_t i = 0; i < nf; i++) {
        const wex__code *cd = &m->codes[i];
        put(o, m->bytes + cd->expr_off, cd->off + cd->len - cd->expr_off);
    }
}

/* pwrite all of it, or fail with errno set. */
static bool write_at(int fd, const void *p, size_t n, uint64_t off) {
    const uint8_t *b = p;
    while (n) {
        ssize_t k = pwrite(fd, b, n, (off_t)off);
        if (k < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        if (k == 0) {
            errno = EIO;
            return false;
        }
        b += k;
        n -= (size_t)k;
        off += (uint64_t)k;
    }
    return true;
}

static uint64_t align_up(uint64_t v, uint64_t a) {
    return (v + a - 1) / a * a;
}

/* The layout of the compiled-code record this writer knows. A change there
 * must be taught to write_meta and load (see the top of interp.h); until
 * then modules are simply not cached. */
static bool layout_known(void) {
    return sizeof(wex__compiled) == sizeof(struct {
               uint32_t nfuncs;
               wex__fcode *funcs;
               uint32_t *code;
               size_t code_len;
               uint32_t *pcmap;
               size_t npcmap;
               uint32_t *tyrel;
               size_t ntyrel;
               uint32_t *lcall;
               size_t nlcall;
               struct wex__lazy *lazy;
           });
}

wex_error_t *wex__artifact_write_fd(const wex__module *m, int fd) {
    if (!m->compiled) return wex__error_at(WEX_ERR_ARGUMENT, -1, "module was not compiled");
    if (!layout_known())
        return wex__error_at(WEX_ERR_UNSUPPORTED, -1,
                             "the compiled-code record changed: the artifact writer must learn it");
    header_t h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, MAGIC, 8);
    h.version = WEX__ARTIFACT_VERSION;
    h.header_size = sizeof h;
    memcpy(h.engine_id, m->engine->cache_id, WEX__ENGINE_ID_SIZE);
    if (m->cache && m->cache->has_hash)
        memcpy(h.hash, m->cache->hash, WEX_CACHE_HASH_SIZE);
    else
        wex__sha256(m->bytes, m->len, h.hash);

    const wex__compiled *c = m->compiled;
    /* Code loaded lazily may hold functions never checked: check them all
     * now rather than write damaged code under fresh checksums. */
    for (uint32_t i = 0; c->lazy && i < c->nfuncs; i++)
        if (WEX__FCODE_OFF(&c->funcs[i]) != c->lazy->real_off[i]) {
            wex_error_t *err = c->lazy->verify(c->lazy, c, i);
            if (err) return err;
        }
    lazy_out z;
    if (!lazy_out_make(c, &z)) return wex__error_nomem();
    out_t meta = {{0}, false}, blob = {{0}, false}, bodies = {{0}, false};
    write_meta(m, &z, &meta, &blob);
    write_bodies(m, &bodies);
    if (meta.oom || blob.oom || bodies.oom) {
        wex__buf_free(&meta.b);
        wex__buf_free(&blob.b);
        wex__buf_free(&bodies.b);
        lazy_out_free(&z);
        return wex__error_nomem();
    }
    size_t stub_bytes = (size_t)c->nfuncs * STUB_WORDS * 4;
    uint64_t off = align_up(sizeof h, 8);
    h.sec[SEC_META].off = off;
    h.sec[SEC_META].len = meta.b.len;
    off = align_up(off + meta.b.len, CODE_ALIGN);
    h.sec[SEC_CODE].off = off;
    h.sec[SEC_CODE].len = (uint64_t)c->code_len * 4 + stub_bytes;
    h.nstubs = c->nfuncs;
    h.sec[SEC_CODE].sum = wex__checksum64(c->code, c->code_len * 4, 0);
    off = align_up(off + h.sec[SEC_CODE].len, 8);
    h.sec[SEC_BYTES].off = off;
    h.sec[SEC_BYTES].len = blob.b.len;
    h.sec[SEC_BYTES].sum = wex__checksum64(blob.b.data, blob.b.len, 0);
    off += blob.b.len;
    off = align_up(off, 8);
    h.sec[SEC_PCMAP].off = off;
    h.sec[SEC_PCMAP].len = (uint64_t)c->npcmap * 8;
    h.sec[SEC_PCMAP].sum = wex__checksum64(c->pcmap, c->npcmap * 8, 0);
    off += h.sec[SEC_PCMAP].len;
    off = align_up(off, 8);
    h.sec[SEC_BODIES].off = off;
    h.sec[SEC_BODIES].len = bodies.b.len;
    h.sec[SEC_BODIES].sum = wex__checksum64(bodies.b.data, bodies.b.len, 0);
    off += bodies.b.len;
    off = align_up(off, 8);
    h.sec[SEC_NATIVE].off = off;
    uint8_t *nobj = NULL;
    size_t nlen = 0;
    wex_error_delete(wex__native_serialize(m->native, &nobj, &nlen)); /* none: no native code */
    if (nlen) {
        h.sec[SEC_NATIVE].len = nlen;
        h.sec[SEC_NATIVE].sum = wex__checksum64(nobj, nlen, 0);
        off += nlen;
    }
    if (m->image.size) {
        off = align_up(off, WEX__IMAGE_ALIGN);
        h.sec[SEC_IMAGE].off = off;
        h.sec[SEC_IMAGE].len = m->image.size;
        h.sec[SEC_IMAGE].sum = wex__checksum64(m->image.bytes, m->image.size, 0);
        off += m->image.size;
    }
    h.file_size = off;
    h.meta_sum = wex__checksum64(meta.b.data, meta.b.len, wex__checksum64(&h, sizeof h, 0));

    bool ok =
        ftruncate(fd, (off_t)h.file_size) == 0 &&
        write_at(fd, meta.b.data, meta.b.len, h.sec[SEC_META].off) &&
        write_at(fd, c->code, c->code_len * 4, h.sec[SEC_CODE].off) &&
        write_at(fd, z.stubs, stub_bytes, h.sec[SEC_CODE].off + c->code_len * 4) &&
        write_at(fd, blob.b.data, blob.b.len, h.sec[SEC_BYTES].off) &&
        write_at(fd, c->pcmap, c->npcmap * 8, h.sec[SEC_PCMAP].off) &&
        write_at(fd, bodies.b.data, bodies.b.len, h.sec[SEC_BODIES].off) &&
        (!nlen || write_at(fd, nobj, nlen, h.sec[SEC_NATIVE].off)) &&
        (!m->image.size || write_at(fd, m->image.bytes, m->image.size, h.sec[SEC_IMAGE].off)) &&
        write_at(fd, &h, sizeof h, 0);
    int e = errno;
    wex__free(nobj);
    wex__buf_free(&meta.b);
    wex__buf_free(&blob.b);
    wex__buf_free(&bodies.b);
    lazy_out_free(&z);
    if (!ok) return wex__error_at(WEX_ERR_IO, -1, "cannot write the artifact: %s", strerror(e));
    return NULL;
}

/* Write to a temporary file beside path, then rename: a reader sees the old
 * file, no file, or the whole new one. */
wex_error_t *wex_module_serialize(const wex_module_t *m, const char *path) {
    size_t n = strlen(path);
    char *tmp = wex__malloc(n + 32);
    if (!tmp) return wex__error_nomem();
    static uint32_t counter;
    snprintf(tmp, n + 32, "%s.tmp.%ld.%u", path, (long)getpid(),
             __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED));
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        wex_error_t *err =
            wex__error_at(WEX_ERR_IO, -1, "cannot create `%s`: %s", tmp, strerror(errno));
        wex__free(tmp);
        return err;
    }
    wex_error_t *err = wex__artifact_write_fd(m, fd);
    if (close(fd) != 0 && !err)
        err = wex__error_at(WEX_ERR_IO, -1, "cannot write `%s`: %s", tmp, strerror(errno));
    if (!err && rename(tmp, path) != 0)
        err = wex__error_at(WEX_ERR_IO, -1, "cannot rename to `%s`: %s", path, strerror(errno));
    if (err) unlink(tmp);
    wex__free(tmp);
    return err;
}

/* ------------------------------------------------------------- loader */

typedef struct {
    const uint8_t *base, *p, *end;
    bool bad;
} in_t;

static uint32_t get32(in_t *r) {
    uint32_t v = 0;
    if (r->end - r->p < 4) {
        r->bad = true;
        return 0;
    }
    memcpy(&v, r->p, 4);
    r->p += 4;
    return v;
}
static uint64_t get64(in_t *r) {
    uint64_t v = 0;
    if (r->end - r->p < 8) {
        r->bad = true;
        return 0;
    }
    memcpy(&v, r->p, 8);
    r->p += 8;
    return v;
}
static void skip_pad(in_t *r, size_t align) {
    size_t at = (size_t)(r->p - r->base);
    size_t to = (at + align - 1) / align * align;
    if ((size_t)(r->end - r->base) < to)
        r->bad = true;
    else
        r->p = r->base + to;
}
static const void *getraw(in_t *r, uint64_t n) {
    skip_pad(r, 8);
    if (r->bad || (uint64_t)(r->end - r->p) < n) {
        r->bad = true;
        return NULL;
    }
    const void *p = r->p;
    r->p += n;
    skip_pad(r, 4);
    return p;
}
static const char *getstr(in_t *r, uint32_t *len) {
    uint32_t n = get32(r);
    if (r->bad || (uint64_t)(r->end - r->p) < (uint64_t)n + 1 || r->p[n] != 0) {
        r->bad = true;
        return NULL;
    }
    const char *s = (const char *)r->p;
    r->p += n + 1;
    skip_pad(r, 4);
    if (len) *len = n;
    return s;
}
static void getlim(in_t *r, wex__limits *l) {
    l->min = get64(r);
    l->max = get64(r);
    l->has_max = get32(r) != 0;
    l->shared = get32(r) != 0;
}
/* n elements of size sz, or mark bad when the count is absurd for what is
 * left (a damaged count must not make a huge allocation). */
static void *alloc_n(in_t *r, uint64_t n, size_t sz, uint64_t min_each) {
    if (r->bad || n * min_each > (uint64_t)(r->end - r->p) || n > UINT32_MAX) {
        r->bad = true;
        return NULL;
    }
    void *p = wex__calloc((size_t)n, sz);
    if (!p) r->bad = true;
    return p;
}
static bool expr_ok(wex__constexpr ce, uint64_t blob_len) {
    return (uint64_t)ce.off + ce.len <= blob_len;
}

/* Free a module that lives in a mapping: only the tables load allocated. */
static void free_mapped(wex__module *m) {
    if (m->image.release) m->image.release(&m->image);
    wex__free(m->types);
    wex__free(m->kinds);
    wex__free(m->imports);
    wex__free(m->tables);
    wex__free(m->mems);
    wex__free(m->global_types);
    wex__free(m->globals);
    wex__free(m->exports);
    wex__free(m->elems);
    wex__free(m->datas);
    wex__free(m->func_names);
    if (m->compiled && m->compiled->lazy) {
        lazy_rec *lz = (lazy_rec *)m->compiled->lazy;
        pthread_mutex_destroy(&lz->lock);
        wex__free(lz->seen);
        wex__free(lz->work);
        wex__free(lz);
    }
    wex__free(m->compiled);
    if (m->cache->map) munmap(m->cache->map, m->cache->map_len);
    wex__free(m->cache->path);
    wex__free(m->cache);
    wex__free(m);
}

void wex__cache_module_free(wex__module *m) {
    if (!m) return;
    /* Slots that remember the module forget it before its address can be
     * reused; then the module's reference on its engine goes. */
    wex_engine_t *owner = m->owner;
    if (owner) owner->alloc->module_forget(owner->alloc, m);
    wex__tier_detach(m);
    wex__native_free(m->native);
    m->native = NULL;
    if (wex__cache_is_mapped(m)) {
        free_mapped(m);
    } else {
        wex__interp_free(m->compiled);
        m->compiled = NULL;
        wex__free(m->cache);
        m->cache = NULL;
        wex__module_free(m);
        wex__free(m);
    }
    if (owner) wex__engine_unref(owner);
}

uint64_t wex__cache_module_footprint(const wex__module *m) {
    if (wex__cache_is_mapped(m)) return m->cache->map_len;
    uint64_t n = sizeof *m + m->len + (uint64_t)m->ncodes * sizeof(wex__code);
    if (m->compiled)
        n += m->compiled->code_len * 4 + (uint64_t)m->compiled->nfuncs * sizeof(wex__fcode);
    return n + m->image.size;
}

static void image_release(wex__image *img) {
    if (img->fd >= 0) close(img->fd);
    img->fd = -1;
}

/* ----------------------------------------------------- lazy checking */

/* mprotect the pages that hold [p, p + n). */
static bool set_prot(const void *p, size_t n, int prot) {
    uintptr_t ps = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t lo = (uintptr_t)p / ps * ps, hi = ((uintptr_t)p + n + ps - 1) / ps * ps;
    return mprotect((void *)lo, hi - lo, prot) == 0;
}

/* Function di intact? Its words (but the type-id ones) against the stored
 * sum, and the type-id words against this engine's ids. */
static bool func_ok(const lazy_rec *lz, const wex__compiled *c, uint32_t di) {
    uint32_t off = lz->pub.real_off[di], len = c->funcs[di].code_len;
    if (func_sum(c->code, off, len, lz->rel, lz->nrel, di) != lz->fsum[di]) return false;
    const wex__module *m = lz->m;
    for (size_t k = rel_first(lz->rel, lz->nrel, off); k < lz->nrel && lz->rel[2 * k] < off + len;
         k++)
        if (c->code[lz->rel[2 * k]] != m->types[lz->rel[2 * k + 1]].canon) return false;
    return true;
}

/* Translate damaged function di again from its body (BODIES) into its
 * place: the body's own checksum first, then the new words must have the
 * old record's shape, and pass the function's checksum once written. */
static bool repair(lazy_rec *lz, const wex__compiled *c, uint32_t di) {
    body_rec r;
    if (!lz->bodies || ((uint64_t)di + 1) * sizeof r > lz->bodies_len) return false;
    memcpy(&r, lz->bodies + (size_t)di * sizeof r, sizeof r);
    if ((uint64_t)r.off + r.len > lz->bodies_len ||
        wex__checksum64(lz->bodies + r.off, r.len, (uint64_t)di << 32 | r.nlocals) != r.sum)
        return false;
    wex__code *codes = wex__calloc((size_t)di + 1, sizeof *codes);
    if (!codes) return false;
    codes[di].len = r.len;
    codes[di].nlocals = r.nlocals;
    wex__module view = *lz->m; /* the same module, its body bytes in view */
    view.bytes = (uint8_t *)lz->bodies + r.off;
    view.len = r.len;
    view.codes = codes;
    view.ncodes = di + 1;
    uint32_t *words = NULL;
    size_t n = 0;
    wex__fcode fc;
    wex_error_t *err = wex__interp_compile_one(&view, di, c->funcs, lz->pub.real_off, c->nfuncs,
                                               lz->pub.real_off[di], &words, &n, &fc);
    wex__free(codes);
    const wex__fcode *old = &c->funcs[di];
    bool ok = !err && n == old->code_len && fc.nparams == old->nparams &&
              fc.nresults == old->nresults && fc.nlocals == old->nlocals &&
              fc.frame_slots == old->frame_slots && fc.zero_from == old->zero_from &&
              fc.zero_count == old->zero_count;
    wex_error_delete(err);
    uint32_t *dst = c->code + lz->pub.real_off[di];
    if (ok && n) {
        ok = set_prot(dst, n * 4, PROT_READ | PROT_WRITE);
        if (ok) {
            memcpy(dst, words, n * 4);
            set_prot(dst, n * 4, PROT_READ);
        }
    }
    wex__free(words);
    return ok && func_ok(lz, c, di);
}

/* Function di checked, or else repaired (evicting the entry: the file is
 * damaged, repaired or not). Under the module's lock. */
static bool func_check(lazy_rec *lz, const wex__compiled *c, uint32_t di) {
    if (func_ok(lz, c, di)) return true;
    wex__cache_evict(lz->m);
    return repair(lz, c, di);
}

static bool published(const lazy_rec *lz, const wex__compiled *c, uint32_t di) {
    return WEX__FCODE_OFF(&c->funcs[di]) == lz->pub.real_off[di];
}

/*
 * wex__lazy.verify: called by a function's stub on its first entry. A direct
 * call (CALL_L) jumps to its callee's code, not to the callee's stub, so a
 * function may only run once every function it reaches by direct calls is
 * intact too: this checks di and that closure (the sites are in
 * wex__compiled.lcall; a function already published had its closure
 * checked), then publishes them all. Calls through tables and exports go
 * through the stubs. Under the module's lock, so that a repair never races a
 * check of the same words (first calls only: off the steady state).
 */
static wex_error_t *lazy_verify(wex__lazy *pub, const wex__compiled *c, uint32_t di) {
    lazy_rec *lz = (lazy_rec *)pub;
    if (di >= c->nfuncs)
        return wex__error_at(WEX__CACHE_ERR_BAD, -1, "no function %u to check", di);
    pthread_mutex_lock(&lz->lock);
    bool ok = true;
    uint32_t bad = di, n = 0;
    if (!published(lz, c, di)) {
        if (!lz->seen) lz->seen = wex__calloc(c->nfuncs, 1);
        if (!lz->work) lz->work = wex__malloc((size_t)c->nfuncs * 4);
        if (!lz->seen || !lz->work) {
            pthread_mutex_unlock(&lz->lock);
            return wex__error_nomem();
        }
        ok = func_check(lz, c, di);
        lz->seen[di] = 1;
        lz->work[n++] = di;
        for (uint32_t w = 0; ok && w < n; w++) {
            uint32_t f = lz->work[w], off = pub->real_off[f], end = off + c->funcs[f].code_len;
            size_t lo = 0, hi = c->nlcall;
            while (lo < hi) { /* the first site at or after off */
                size_t mid = lo + (hi - lo) / 2;
                if (c->lcall[mid] < off)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            for (size_t k = lo; ok && k < c->nlcall && c->lcall[k] < end; k++) {
                const uint32_t *ins = c->code + c->lcall[k];
                if (c->lcall[k] + 7 > end ||
                    (ins[0] != WEX__IOP_CALL_L && ins[0] != WEX__IOP_CALL_LZ &&
                     ins[0] != WEX__IOP_CALL_LZ1) ||
                    ins[1] >= c->nfuncs ||
                    (int64_t)c->lcall[k] + (int32_t)ins[4] != pub->real_off[ins[1]]) {
                    ok = false; /* f's words are intact: the table is not */
                    bad = f;
                    break;
                }
                uint32_t g = ins[1];
                if (lz->seen[g] || published(lz, c, g)) continue;
                lz->seen[g] = 1;
                lz->work[n++] = g;
                if (!func_check(lz, c, g)) {
                    ok = false;
                    bad = g;
                }
            }
        }
        for (uint32_t w = 0; w < n; w++) {
            uint32_t f = lz->work[w];
            lz->seen[f] = 0;
            if (ok) __atomic_store_n(&c->funcs[f].code_off, pub->real_off[f], __ATOMIC_RELAXED);
        }
    }
    pthread_mutex_unlock(&lz->lock);
    if (ok) return NULL;
    wex__cache_evict(lz->m);
    return wex__error_at(WEX__CACHE_ERR_BAD, -1,
                         "compiled code of function %u failed its checksum and could not be "
                         "translated again; cache entry removed",
                         lz->m->nfunc_imports + bad);
}

/* wex__lazy.pcmap_ok: the first backtrace checks the table (two threads
 * may both check: they agree). */
static bool lazy_pcmap_ok(wex__lazy *pub, const wex__compiled *c) {
    lazy_rec *lz = (lazy_rec *)pub;
    uint32_t st = __atomic_load_n(&lz->pcmap_state, __ATOMIC_ACQUIRE);
    if (!st) {
        st = wex__checksum64(c->pcmap, c->npcmap * 8, 0) == lz->pcmap_sum ? 1 : 2;
        if (st == 2) wex__cache_evict(lz->m);
        __atomic_store_n(&lz->pcmap_state, st, __ATOMIC_RELEASE);
    }
    return st == 1;
}

void wex__cache_evict(wex__module *m) {
    wex__modcache *mc = m->cache;
    if (!mc) return;
    /* Only the first failure deletes: the file may have been replaced by a
     * good entry since. */
    if (__atomic_exchange_n(&mc->bad, 1, __ATOMIC_ACQ_REL)) return;
    if (mc->path) wex__cache_unlink_if_same(mc->path, mc->dev, mc->ino);
}

/* One lock for the one-time data checks of every module: they are rare
 * (once per module and process) and short. */
static pthread_mutex_t first_lock = PTHREAD_MUTEX_INITIALIZER;

wex_error_t *wex__cache_first_instance(wex__module *m) {
    wex__modcache *mc = m->cache;
    if (!mc || !mc->map || __atomic_load_n(&mc->data_checked, __ATOMIC_ACQUIRE)) return NULL;
    wex_error_t *err = NULL;
    pthread_mutex_lock(&first_lock);
    if (!mc->data_checked) {
        if (m->len && wex__checksum64(m->bytes, m->len, 0) != mc->bytes_sum) {
            wex__cache_evict(m);
            err = wex__error_at(WEX__CACHE_ERR_BAD, -1,
                                "cached data segments failed their checksum; cache entry removed");
        } else if (m->image.size &&
                   wex__checksum64(m->image.bytes, m->image.size, 0) != mc->image_sum) {
            /* No instance used the image yet (this runs before the first):
             * drop it; the segments are copied instead. */
            wex__cache_evict(m);
            m->image.size = 0;
            m->image.bytes = NULL;
            m->image.no_image = "the cached memory image failed its checksum";
        }
        /* A failure stays a failure: data_checked is left clear, and each
         * instantiation fails the same way. */
        if (!err) __atomic_store_n(&mc->data_checked, 1, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&first_lock);
    return err;
}

/* Rebuild the module's tables from META; every index and offset is checked,
 * so even a file whose checksum was forged cannot make the loader read
 * outside the mapping. */
static bool parse_meta(wex_engine_t *e, wex__module *m, in_t *r, const header_t *h,
                       const uint8_t *map) {
    uint64_t blob_len = h->sec[SEC_BYTES].len;
    /* The code proper; the stubs follow it (checked at load). */
    uint64_t code_words = h->sec[SEC_CODE].len / 4 - h->nstubs * STUB_WORDS;
    m->ntypes = get32(r);
    m->types = alloc_n(r, m->ntypes, sizeof *m->types, 12);
    uint32_t *saved = alloc_n(r, m->ntypes, 4, 12);
    uint64_t nk = 0;
    for (uint32_t i = 0; i < m->ntypes && !r->bad; i++) {
        wex__functype *t = &m->types[i];
        t->nparams = get32(r);
        t->nresults = get32(r);
        saved[i] = get32(r);
        uint64_t n = (uint64_t)t->nparams + t->nresults;
        if (r->bad || n > (uint64_t)(r->end - r->p)) {
            r->bad = true;
            break;
        }
        t->types = (uint8_t *)r->p;
        r->p += n;
        skip_pad(r, 4);
        nk += n;
    }
    if (!r->bad) m->kinds = wex__calloc(nk ? nk : 1, sizeof *m->kinds);
    if (!m->kinds) r->bad = true;
    nk = 0;
    for (uint32_t i = 0; i < m->ntypes && !r->bad; i++) {
        wex__functype *t = &m->types[i];
        t->kinds = m->kinds + nk;
        for (uint32_t j = 0; j < t->nparams + t->nresults; j++)
            m->kinds[nk++] = (wex_valkind_t)t->types[j];
        t->canon = wex__engine_intern(e, t->nparams, t->nresults, t->types);
        if (t->canon == UINT32_MAX) r->bad = true;
    }
    m->nimports = get32(r);
    m->imports = alloc_n(r, m->nimports, sizeof *m->imports, 16);
    for (uint32_t i = 0; i < m->nimports && !r->bad; i++) {
        wex__import *im = &m->imports[i];
        im->module = (char *)getstr(r, &im->module_len);
        im->name = (char *)getstr(r, &im->name_len);
        im->kind = (uint8_t)get32(r);
        switch (im->kind) {
        case WEX__EXT_FUNC:
            im->u.type = get32(r);
            if (im->u.type >= m->ntypes) r->bad = true;
            break;
        case WEX__EXT_TABLE:
            im->u.table.elem = (uint8_t)get32(r);
            getlim(r, &im->u.table.lim);
            break;
        case WEX__EXT_MEM: getlim(r, &im->u.mem.lim); break;
        case WEX__EXT_GLOBAL:
            im->u.global.type = (uint8_t)get32(r);
            im->u.global.mut = get32(r) != 0;
            break;
        default: r->bad = true;
        }
    }
    m->nfuncs = get32(r);
    m->nfunc_imports = get32(r);
    m->func_types = (uint32_t *)getraw(r, (uint64_t)m->nfuncs * 4);
    for (uint32_t i = 0; i < m->nfuncs && !r->bad; i++)
        if (m->func_types[i] >= m->ntypes) r->bad = true;
    m->ntables = get32(r);
    m->ntable_imports = get32(r);
    m->tables = alloc_n(r, m->ntables, sizeof *m->tables, 28);
    for (uint32_t i = 0; i < m->ntables && !r->bad; i++) {
        m->tables[i].elem = (uint8_t)get32(r);
        getlim(r, &m->tables[i].lim);
    }
    m->nmems = get32(r);
    m->nmem_imports = get32(r);
    m->mems = alloc_n(r, m->nmems, sizeof *m->mems, 24);
    for (uint32_t i = 0; i < m->nmems && !r->bad; i++)
        getlim(r, &m->mems[i].lim);
    m->nglobals = get32(r);
    m->nglobal_imports = get32(r);
    if (m->nglobal_imports > m->nglobals) r->bad = true;
    m->global_types = alloc_n(r, m->nglobals, sizeof *m->global_types, 8);
    for (uint32_t i = 0; i < m->nglobals && !r->bad; i++) {
        m->global_types[i].type = (uint8_t)get32(r);
        m->global_types[i].mut = get32(r) != 0;
    }
    uint32_t ndef = r->bad ? 0 : m->nglobals - m->nglobal_imports;
    m->globals = alloc_n(r, ndef, sizeof *m->globals, 8);
    for (uint32_t i = 0; i < ndef && !r->bad; i++) {
        m->globals[i].type = m->global_types[m->nglobal_imports + i];
        m->globals[i].init.off = get32(r);
        m->globals[i].init.len = get32(r);
        if (!expr_ok(m->globals[i].init, blob_len)) r->bad = true;
    }
    m->nexports = get32(r);
    m->exports = alloc_n(r, m->nexports, sizeof *m->exports, 16);
    for (uint32_t i = 0; i < m->nexports && !r->bad; i++) {
        wex__export *ex = &m->exports[i];
        ex->name = (char *)getstr(r, &ex->name_len);
        ex->kind = (uint8_t)get32(r);
        ex->index = get32(r);
        uint32_t lim = ex->kind == WEX__EXT_FUNC    ? m->nfuncs
                       : ex->kind == WEX__EXT_TABLE ? m->ntables
                       : ex->kind == WEX__EXT_MEM   ? m->nmems
                                                    : m->nglobals;
        if (ex->kind > WEX__EXT_GLOBAL || ex->index >= lim) r->bad = true;
    }
    m->has_start = get32(r) != 0;
    m->start = get32(r);
    if (m->has_start && m->start >= m->nfuncs) r->bad = true;
    m->nelems = get32(r);
    m->elems = alloc_n(r, m->nelems, sizeof *m->elems, 32);
    for (uint32_t i = 0; i < m->nelems && !r->bad; i++) {
        wex__elem *el = &m->elems[i];
        el->mode = (uint8_t)get32(r);
        el->type = (uint8_t)get32(r);
        el->table = get32(r);
        el->offset.off = get32(r);
        el->offset.len = get32(r);
        el->count = get32(r);
        bool exprs = get32(r) != 0;
        el->off = get32(r);
        if (!expr_ok(el->offset, blob_len) ||
            (el->mode == WEX__SEG_ACTIVE && el->table >= m->ntables))
            r->bad = true;
        if (exprs) {
            el->exprs = (wex__constexpr *)getraw(r, (uint64_t)el->count * 8);
            for (uint32_t k = 0; k < el->count && !r->bad; k++)
                if (!expr_ok(el->exprs[k], blob_len)) r->bad = true;
        } else {
            el->funcs = (uint32_t *)getraw(r, (uint64_t)el->count * 4);
            for (uint32_t k = 0; k < el->count && !r->bad; k++)
                if (el->funcs[k] >= m->nfuncs) r->bad = true;
        }
    }
    m->has_datacount = get32(r) != 0;
    m->datacount = get32(r);
    m->ndatas = get32(r);
    m->datas = alloc_n(r, m->ndatas, sizeof *m->datas, 28);
    for (uint32_t i = 0; i < m->ndatas && !r->bad; i++) {
        wex__data *d = &m->datas[i];
        d->mode = (uint8_t)get32(r);
        d->mem = get32(r);
        d->offset.off = get32(r);
        d->offset.len = get32(r);
        d->data_off = get32(r);
        d->data_len = get32(r);
        d->off = get32(r);
        if (!expr_ok(d->offset, blob_len) || (uint64_t)d->data_off + d->data_len > blob_len ||
            (d->mode == WEX__SEG_ACTIVE && d->mem >= m->nmems))
            r->bad = true;
    }
    wex__compiled *c = wex__calloc(1, sizeof *c);
    m->compiled = c;
    if (!c) r->bad = true;
    uint32_t nf = get32(r);
    uint64_t code_len = get64(r);
    if (r->bad || nf != m->nfuncs - m->nfunc_imports || code_len != code_words || nf != h->nstubs)
        r->bad = true;
    if (r->bad) {
        wex__free(saved);
        return false;
    }
    c->nfuncs = nf;
    c->funcs = (wex__fcode *)getraw(r, (uint64_t)nf * sizeof(wex__fcode));
    c->code = (uint32_t *)(map + h->sec[SEC_CODE].off);
    c->code_len = (size_t)code_words;
    for (uint32_t i = 0; i < nf && !r->bad; i++)
        if (c->funcs[i].code_off != code_words + (uint64_t)STUB_WORDS * i) r->bad = true;
    uint32_t nnames = get32(r);
    if (nnames && !r->bad) {
        m->func_names = alloc_n(r, m->nfuncs, sizeof *m->func_names, 0);
        for (uint32_t k = 0; k < nnames && !r->bad; k++) {
            uint32_t idx = get32(r);
            const char *s = getstr(r, NULL);
            if (idx >= m->nfuncs)
                r->bad = true;
            else if (!r->bad)
                m->func_names[idx] = (char *)s;
        }
    }
    uint32_t nrelocs = get32(r);
    const uint32_t *rel = getraw(r, (uint64_t)nrelocs * 8);
    bool patch = false;
    for (uint32_t k = 0; k < nrelocs && !r->bad; k++) {
        if (rel[2 * k] >= code_words || rel[2 * k + 1] >= m->ntypes)
            r->bad = true;
        else if (m->types[rel[2 * k + 1]].canon != saved[rel[2 * k + 1]])
            patch = true;
    }
    c->tyrel = (uint32_t *)rel; /* in the mapping: freed with it */
    c->ntyrel = nrelocs;
    uint64_t nlcall = get64(r);
    if (nlcall > code_words) r->bad = true;
    c->lcall = r->bad ? NULL : (uint32_t *)getraw(r, nlcall * 4);
    c->nlcall = r->bad ? 0 : (size_t)nlcall;
    for (size_t k = 0; k < c->nlcall && !r->bad; k++)
        if (c->lcall[k] >= code_words || (k && c->lcall[k] <= c->lcall[k - 1])) r->bad = true;
    /* Read only when a trap is reported, by a bounded binary search; its
     * entries are never used as addresses. */
    uint64_t npcmap = get64(r);
    if (npcmap > code_words + 1 || npcmap * 8 != h->sec[SEC_PCMAP].len) r->bad = true;
    c->pcmap = r->bad ? NULL : (uint32_t *)(map + h->sec[SEC_PCMAP].off);
    c->npcmap = r->bad ? 0 : (size_t)npcmap;
    if (get32(r)) m->image.no_image = getstr(r, NULL);
    const uint32_t *real_off = getraw(r, (uint64_t)nf * 4);
    const uint64_t *fsum = getraw(r, (uint64_t)nf * 8);
    for (uint32_t i = 0; i < nf && !r->bad; i++)
        if ((uint64_t)real_off[i] + c->funcs[i].code_len > code_words) r->bad = true;
    /* The stubs must be exactly what the writer put there: they run unchecked. */
    const uint32_t *stubs = c->code + code_words;
    for (uint32_t i = 0; i < nf && !r->bad; i++)
        if (stubs[STUB_WORDS * i] != WEX__IOP_VERIFY_FN || stubs[STUB_WORDS * i + 1] != i)
            r->bad = true;
    lazy_rec *lz = r->bad ? NULL : wex__calloc(1, sizeof *lz);
    if (!lz) r->bad = true;
    if (!r->bad) {
        lz->pub.real_off = real_off;
        lz->pub.stub_off = (uint32_t)code_words;
        lz->pub.verify = lazy_verify;
        lz->pub.pcmap_ok = lazy_pcmap_ok;
        lz->pcmap_sum = h->sec[SEC_PCMAP].sum;
        lz->bodies = map + h->sec[SEC_BODIES].off;
        lz->bodies_len = h->sec[SEC_BODIES].len;
        pthread_mutex_init(&lz->lock, NULL);
        lz->m = m;
        lz->fsum = fsum;
        lz->rel = rel;
        lz->nrel = nrelocs;
        c->lazy = &lz->pub;
        /* funcs[] lies in the private mapping: its pages become writable so
         * that a checked function's real start can be published there (each
         * page is copied on its first such write). */
        if (nf && !set_prot(c->funcs, (size_t)nf * sizeof *c->funcs, PROT_READ | PROT_WRITE))
            r->bad = true;
    }
    if (!r->bad && patch) {
        /* Rewrite the type ids this engine numbers differently. The mapping
         * is private: only the touched pages are copied. */
        size_t len = h->sec[SEC_CODE].len;
        if (!set_prot(c->code, len, PROT_READ | PROT_WRITE)) {
            r->bad = true;
        } else {
            for (uint32_t k = 0; k < nrelocs; k++)
                c->code[rel[2 * k]] = m->types[rel[2 * k + 1]].canon;
            set_prot(c->code, len, PROT_READ);
        }
    }
    wex__free(saved);
    return !r->bad;
}

wex_error_t *wex__artifact_load_fd(wex_engine_t *e, int fd, const uint8_t *expected_hash,
                                   wex_cache_verify_t verify, wex__module **out) {
    *out = NULL;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int er = errno;
        close(fd);
        return wex__error_at(WEX_ERR_IO, -1, "cannot read the artifact: %s", strerror(er));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return wex__error_at(WEX_ERR_IO, -1, "the artifact is not a regular file");
    }
    if ((uint64_t)st.st_size < sizeof(header_t)) {
        close(fd);
        return wex__error_at(WEX__CACHE_ERR_BAD, -1, "artifact is truncated (%lld bytes)",
                             (long long)st.st_size);
    }
    uint8_t *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
        int er = errno;
        close(fd);
        return wex__error_at(WEX_ERR_IO, -1, "cannot map the artifact: %s", strerror(er));
    }
    size_t size = (size_t)st.st_size;
    header_t h;
    memcpy(&h, map, sizeof h);
    wex_error_t *err = NULL;
    if (memcmp(h.magic, MAGIC, 8) != 0)
        err = wex__error_at(WEX__CACHE_ERR_BAD, -1, "not a wex artifact (bad magic)");
    else if (h.version != WEX__ARTIFACT_VERSION)
        err = wex__error_at(WEX__CACHE_ERR_BAD, -1,
                            "artifact format version %u; this wex reads version %u", h.version,
                            WEX__ARTIFACT_VERSION);
    else if (h.header_size != sizeof h)
        err = wex__error_at(WEX__CACHE_ERR_BAD, -1, "artifact header is damaged");
    else if (h.file_size != size)
        err = wex__error_at(WEX__CACHE_ERR_BAD, -1, "artifact is truncated: %llu bytes of %llu",
                            (unsigned long long)size, (unsigned long long)h.file_size);
    else if (memcmp(h.engine_id, e->cache_id, WEX__ENGINE_ID_SIZE) != 0) {
        char hex[33];
        for (int i = 0; i < WEX__ENGINE_ID_SIZE; i++)
            snprintf(hex + 2 * i, 3, "%02x", h.engine_id[i]);
        err = wex__error_at(WEX__CACHE_ERR_BAD, -1,
                            "artifact was compiled by another engine (id %s; this engine is %s)",
                            hex, e->cache_id_hex);
    } else if (expected_hash && memcmp(expected_hash, h.hash, WEX_CACHE_HASH_SIZE) != 0)
        err = wex__error_at(WEX__CACHE_ERR_BAD, -1, "artifact holds another module (hash differs)");
    for (int s = 0; !err && s < NSEC; s++) {
        uint64_t off = h.sec[s].off, len = h.sec[s].len;
        uint64_t align = s == SEC_CODE ? CODE_ALIGN : s == SEC_IMAGE ? WEX__IMAGE_ALIGN : 8;
        if ((len || s != SEC_IMAGE) &&
            (off % align || off > size || len > size - off || (s == SEC_CODE && len % 4) ||
             (s == SEC_CODE && h.nstubs > len / 4 / STUB_WORDS) ||
             (s == SEC_IMAGE && len % WEX__IMAGE_ALIGN)))
            err = wex__error_at(WEX__CACHE_ERR_BAD, -1, "artifact %s section is out of place",
                                sec_name[s]);
    }
    if (!err) {
        header_t z = h;
        z.meta_sum = 0;
        uint64_t sum = wex__checksum64(map + h.sec[SEC_META].off, h.sec[SEC_META].len,
                                       wex__checksum64(&z, sizeof z, 0));
        if (sum != h.meta_sum)
            err = wex__error_at(WEX__CACHE_ERR_BAD, -1, "artifact checksum mismatch (metadata)");
    }
    for (int s = SEC_CODE; !err && verify == WEX_CACHE_VERIFY_FULL && s < NSEC; s++) {
        uint64_t len = h.sec[s].len - (s == SEC_CODE ? h.nstubs * STUB_WORDS * 4 : 0);
        if (len && wex__checksum64(map + h.sec[s].off, len, 0) != h.sec[s].sum)
            err = wex__error_at(WEX__CACHE_ERR_BAD, -1, "artifact checksum mismatch (%s)",
                                sec_name[s]);
    }
    if (err) {
        munmap(map, size);
        close(fd);
        return err;
    }

    wex__module *m = wex__calloc(1, sizeof *m);
    wex__modcache *mc = wex__calloc(1, sizeof *mc);
    if (!m || !mc) {
        wex__free(m);
        wex__free(mc);
        munmap(map, size);
        close(fd);
        return wex__error_nomem();
    }
    m->engine = e;
    m->tier_entry = e->config.tier != WEX_TIER_INTERP; /* as the code was made (engine id) */
    m->epochs = e->config.epochs;
    m->cache = mc;
    mc->refs = 1;
    mc->has_hash = true;
    memcpy(mc->hash, h.hash, WEX_CACHE_HASH_SIZE);
    mc->map = map;
    mc->map_len = size;
    m->bytes = map + h.sec[SEC_BYTES].off;
    m->len = h.sec[SEC_BYTES].len;
    m->image.fd = -1;
    mc->bytes_sum = h.sec[SEC_BYTES].sum;
    mc->image_sum = h.sec[SEC_IMAGE].sum;
    in_t r = {map + h.sec[SEC_META].off, map + h.sec[SEC_META].off,
              map + h.sec[SEC_META].off + h.sec[SEC_META].len, false};
    if (!parse_meta(e, m, &r, &h, map)) {
        free_mapped(m);
        close(fd);
        return wex__error_at(WEX__CACHE_ERR_BAD, -1, "artifact metadata is inconsistent");
    }
    if (verify == WEX_CACHE_VERIFY_FULL) {
        /* Every byte was checked above: publish every function's start, and
         * the data need no check at instantiation. */
        wex__compiled *c = m->compiled;
        for (uint32_t i = 0; i < c->nfuncs; i++)
            c->funcs[i].code_off = c->lazy->real_off[i];
        mc->data_checked = 1;
        ((lazy_rec *)c->lazy)->pcmap_state = 1;
    }
    if (e->config.tier != WEX_TIER_INTERP) {
        /* Native code: checked whole, then loaded. What is damaged or
         * missing, wex_module_new compiles from the module's bytes (native
         * tier) or leaves to the automatic tier. */
        wex_error_t *nerr = NULL;
        const uint8_t *obj = map + h.sec[SEC_NATIVE].off;
        uint64_t olen = h.sec[SEC_NATIVE].len;
        if (olen && wex__checksum64(obj, olen, 0) == h.sec[SEC_NATIVE].sum)
            nerr = wex__native_attach(m, obj, olen);
        wex_error_delete(nerr);
        nerr = NULL;
        if (!m->native) nerr = wex__native_new(m, &m->native);
        if (nerr) {
            free_mapped(m);
            close(fd);
            return nerr;
        }
    }
    if (h.sec[SEC_IMAGE].len) {
        m->image.size = h.sec[SEC_IMAGE].len;
        m->image.bytes = map + h.sec[SEC_IMAGE].off;
        m->image.fd = fd; /* kept for mapping the image; closed by release */
        m->image.fd_offset = h.sec[SEC_IMAGE].off;
        m->image.no_image = NULL;
        m->image.release = image_release;
    } else {
        close(fd);
    }
    m->owner = e;
    wex__engine_ref(e);
    *out = m;
    return NULL;
}

wex_error_t *wex_module_deserialize_file_ex(wex_engine_t *e, const char *path,
                                            const uint8_t *expected_hash, wex_cache_verify_t verify,
                                            wex_module_t **out) {
    *out = NULL;
    /* O_NONBLOCK: a FIFO must not hang the open (the loader refuses it). */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return wex__error_at(errno == ENOENT ? WEX_ERR_NOT_FOUND : WEX_ERR_IO, -1,
                             "cannot open `%s`: %s", path, strerror(errno));
    return wex__artifact_load_fd(e, fd, expected_hash, verify, out);
}

wex_error_t *wex_module_deserialize_file(wex_engine_t *e, const char *path, wex_module_t **out) {
    return wex_module_deserialize_file_ex(e, path, NULL, WEX_CACHE_VERIFY_FAST, out);
}
