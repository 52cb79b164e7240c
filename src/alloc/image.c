/*
 * image.c - the copy-on-write image of a module's initial memory
 * (module/image.h): built once when a module is compiled, then mapped
 * privately (or copied) over the start of each new instance's memory 0.
 */
#include "alloc/alloc.h"
#include "module/module.h"
#include "os/os.h"

#include <pthread.h>

/* Images larger than this whose data fills less than a quarter of them are
 * not built: mapping (and keeping) mostly zeros costs more than copying the
 * few data bytes. 1 MiB: below it, any image is cheap to keep. */
#define WEX__IMAGE_SPARSE_MIN ((uint64_t)1 << 20)

/* Release what wex__image_build made: the read-only view and the memfd, or
 * the heap copy. */
static void image_release(wex__image *img) {
    if (img->size) {
        if (img->fd >= 0) {
            wex__os_release((void *)img->bytes, img->size);
            wex__os_close(img->fd);
        } else {
            wex__free((void *)img->bytes);
        }
    }
    img->size = 0;
    img->bytes = NULL;
    img->fd = -1;
}

/* The offset of an active data segment if it is a plain i32.const; else the
 * reason why not. */
static const char *const_offset(const wex__module *m, wex__constexpr ce, uint32_t *out) {
    wex__reader r;
    wex__reader_init(&r, m->bytes + ce.off, ce.len, m->bytes);
    uint8_t op, end;
    int32_t v;
    if (!wex__read_u8(&r, &op)) return "unreadable offset";
    if (op == 0x23) return "a data segment's offset is not constant (global.get)";
    if (op != 0x41 || !wex__read_s32(&r, &v) || !wex__read_u8(&r, &end) || end != 0x0B)
        return "a data segment's offset is not a plain constant";
    *out = (uint32_t)v;
    return NULL;
}

/*
 * Decide, then build: the initial bytes [0, size) with the segments written
 * in order (a later one overwrites an earlier one, as applying them would),
 * in a sealed memfd viewed read-only from there, so the bytes exist once.
 * Without a memfd a heap buffer is the image and instances copy it.
 */
void wex__image_build(wex__module *m, bool use_memfd) {
    wex__image *img = &m->image;
    memset(img, 0, sizeof *img);
    img->fd = -1;
    if (m->nmems == 0) {
        img->no_image = "no memory";
        return;
    }
    if (m->nmem_imports > 0) {
        img->no_image = "memory 0 is imported";
        return;
    }
    uint64_t min_bytes = m->mems[0].lim.min * (uint64_t)WEX_PAGE_SIZE, end = 0, data = 0;
    for (uint32_t i = 0; i < m->ndatas; i++) {
        const wex__data *d = &m->datas[i];
        if (d->mode != WEX__SEG_ACTIVE || d->mem != 0) continue;
        uint32_t off;
        const char *why = const_offset(m, d->offset, &off);
        if (why) {
            img->no_image = why;
            return;
        }
        if ((uint64_t)off + d->data_len > min_bytes) {
            img->no_image = "a data segment is out of bounds";
            return;
        }
        if (d->data_len && (uint64_t)off + d->data_len > end) end = (uint64_t)off + d->data_len;
        data += d->data_len;
    }
    if (data == 0) {
        img->no_image = "no data";
        return;
    }
    uint64_t size = (end + WEX__IMAGE_ALIGN - 1) / WEX__IMAGE_ALIGN * WEX__IMAGE_ALIGN;
    if (size > WEX__IMAGE_SPARSE_MIN && data < size / 4) {
        img->no_image = "the image would be mostly zeros";
        return;
    }
    /* A memfd of the image's size is all zeros (holes, no memory); write
     * only the segments, in order, straight from the module's bytes. */
    int fd = use_memfd ? wex__os_memfd("wex-image") : -1;
    bool ok = fd >= 0 && wex__os_set_size(fd, size);
    for (uint32_t i = 0; ok && i < m->ndatas; i++) {
        const wex__data *d = &m->datas[i];
        uint32_t off = 0;
        if (d->mode != WEX__SEG_ACTIVE || d->mem != 0 || !d->data_len) continue;
        const_offset(m, d->offset, &off);
        ok = wex__os_write_at(fd, m->bytes + d->data_off, d->data_len, off);
    }
    if (ok) wex__os_seal(fd);
    const void *view = ok ? wex__os_map_readonly(fd, (size_t)size, 0) : NULL;
    if (view) {
        img->bytes = view;
        img->fd = fd;
    } else {
        /* No memfd: the image is a heap buffer that instances copy. */
        wex__os_close(fd);
        uint8_t *buf = wex__calloc(1, (size_t)size);
        if (!buf) {
            img->no_image = "no memory to build the image";
            return;
        }
        for (uint32_t i = 0; i < m->ndatas; i++) {
            const wex__data *d = &m->datas[i];
            uint32_t off = 0;
            if (d->mode != WEX__SEG_ACTIVE || d->mem != 0 || !d->data_len) continue;
            const_offset(m, d->offset, &off);
            memcpy(buf + off, m->bytes + d->data_off, d->data_len);
        }
        img->bytes = buf;
        img->fd = -1;
    }
    img->size = size;
    img->fd_offset = 0;
    img->release = image_release;
}

bool wex__image_usable(const wex__module *m, uint64_t min_bytes) {
    const wex__image *img = &m->image;
    return img->size && img->size <= min_bytes && img->size % WEX__IMAGE_ALIGN == 0 &&
           img->fd_offset % WEX__IMAGE_ALIGN == 0 && img->bytes;
}

/* Map copy-on-write when allowed and possible, else copy. Returns 1 if
 * mapped, 2 if copied, 0 if the module has no image. */
int wex__image_apply(const wex__module *m, uint8_t *base, bool cow) {
    const wex__image *img = &m->image;
    if (img->size == 0) return 0;
    if (cow && img->fd >= 0 &&
        wex__os_map_private_fixed(base, (size_t)img->size, img->fd, img->fd_offset))
        return 1;
    memcpy(base, img->bytes, (size_t)img->size);
    return 2;
}

uint64_t wex_module_image(const wex_module_t *m, const char **why, bool *copied) {
    if (why) *why = m->image.size ? NULL : m->image.no_image ? m->image.no_image : "not built";
    if (copied) *copied = m->image.size && m->image.fd < 0;
    return m->image.size;
}

bool wex_module_memory(const wex_module_t *m, uint32_t i, wex_limits_t *out) {
    if (i >= m->nmems) return false;
    const wex__limits *l = &m->mems[i].lim;
    *out = (wex_limits_t){l->min, l->max, l->has_max, l->shared};
    return true;
}

/*
 * Pooling resets slots with madvise(MADV_DONTNEED), trusting that the next
 * read of a private page gives zeros (or the file's bytes). Some emulators
 * accept the call and do nothing; then a slot would leak its last occupant's
 * data. So check once, on a real page, before trusting it.
 */
static bool check_madvise(bool simulate_ignored) {
    size_t ps = wex__os_page_size();
    uint8_t *p = wex__os_reserve(ps);
    if (!p) return false;
    bool ok = false;
    if (wex__os_commit(p, ps)) {
        volatile uint8_t *v = p;
        v[0] = 0xA5;
        v[ps - 1] = 0x5A;
        ok = wex__os_decommit(p, ps, simulate_ignored) && v[0] == 0 && v[ps - 1] == 0;
    }
    wex__os_release(p, ps);
    return ok;
}

static pthread_once_t madvise_once = PTHREAD_ONCE_INIT;
static bool madvise_ok;
static void madvise_check_once(void) {
    madvise_ok = check_madvise(false);
}

bool wex__alloc_madvise_works(bool simulate_ignored) {
    if (simulate_ignored) return check_madvise(true);
    pthread_once(&madvise_once, madvise_check_once);
    return madvise_ok;
}
