/*
 * pool.c - the pooling instance allocator (PoolingCopyOnWrite, Pooling).
 *
 * One reservation, made when the engine is created, is carved into slots.
 * A slot is everything one instance needs: the address range of its memory 0
 * (maximum memory plus guard; with guard pages, the whole 8 GiB + 64 KiB any
 * access can reach, so no access from one slot lands in another), a record
 * arena for the instance record and its arrays, and element storage for its
 * tables. Untouched parts cost no memory (PROT_NONE or never-touched pages,
 * MAP_NORESERVE).
 *
 * A freed slot remembers the module it held: with copy-on-write its image
 * stays mapped, so the next instance of the same module takes it with no
 * system call at all. Other modules take the least recently freed cold slot,
 * or else steal the least recently freed warm one. Free slots are on lists
 * guarded by one mutex; the resets and mappings happen outside it.
 *
 * Resetting a freed slot: memory without an image mapped (no data, or data
 * copied) has its first keep_resident bytes zeroed in place (for
 * PoolingCopyOnWrite only the resident pages at their start: zero_in_place),
 * which needs no TLB shootdown. The rest (all of it for an image mapped copy-on-write: only
 * dropping the private pages brings the image back) must be given back with
 * MADV_DONTNEED, and in a multi-threaded process each such call interrupts
 * every other CPU running this process to flush its TLB. Reset one slot at a
 * time, two threads instantiating interrupt each other once per instance and
 * together do fewer instances per second than one. So a freed slot that has
 * pages to give back goes to a pending queue, keeping its module and image;
 * when decommit_batch slots wait, or when a thread finds no clean slot, one
 * thread takes the whole queue and resets it with one process_madvise over
 * all the ranges (one TLB shootdown: os_vm.c), outside the lock, then makes
 * the slots free again. Pending and in-flight slots count as free: a pool
 * is never "full" while some of its slots only wait to be reset.
 */
#define _GNU_SOURCE /* PTHREAD_MUTEX_ADAPTIVE_NP (glibc) */
#include "alloc/alloc.h"
#include "module/module.h"
#include "os/os.h"

#include <errno.h>
#include <pthread.h>
#include <time.h>

/* Bytes of each slot's record arena: the instance record and its arrays for
 * a module of ordinary size (about a hundred functions); larger arrays go to
 * the heap. */
#define WEX__POOL_ARENA_BYTES 4096u

/* Instance records live in the arenas, outside the C heap, and point at heap
 * arrays: under AddressSanitizer the arenas are a root region for its leak
 * checker, or every live pooled instance's arrays would read as leaked. */
#if defined(__SANITIZE_ADDRESS__)
#define WEX__LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WEX__LSAN 1
#endif
#endif
#ifdef WEX__LSAN
#include <sanitizer/lsan_interface.h>
#define WEX__LSAN_ROOT(p, n)   __lsan_register_root_region((p), (n))
#define WEX__LSAN_UNROOT(p, n) __lsan_unregister_root_region((p), (n))
#else
#define WEX__LSAN_ROOT(p, n)   ((void)0)
#define WEX__LSAN_UNROOT(p, n) ((void)0)
#endif

/*
 * Image slots (PoolingCopyOnWrite): an instance that reads a page of the
 * image maps the file's page read-only; if it then writes the page, the
 * copy-on-write fault must flush the stale entry from every CPU running the
 * process (an IPI per page, like a decommit), and the next instance pays the
 * same faults again once the slot's private pages are dropped. So, for the
 * first WEX__POOL_RESTORE_BYTES of the image, a freed slot asks the kernel
 * which pages hold a private copy (/proc/self/pagemap) and copies the
 * image's bytes back over just those: the pages stay resident and writable,
 * the next instance of the module writes them without a fault, and nothing
 * in that range needs giving back. Reading the page flags costs about 34 ns
 * a page here (9 us for 1 MiB), so a slot whose instance changed fewer than
 * WEX__POOL_RESTORE_MIN_PAGES pages skips the probe for its next
 * WEX__POOL_RESTORE_BACKOFF releases (they decommit as before). 1 MiB bounds
 * both the probe and the resident memory a warm slot keeps this way; a
 * module with a larger image keeps the rest copy-on-write.
 */
#define WEX__POOL_RESTORE_BYTES     (1u << 20)
#define WEX__POOL_RESTORE_MIN_PAGES 8u
#define WEX__POOL_RESTORE_BACKOFF   63u

/* The largest decommit batch: the range vector lives on the flushing
 * thread's stack, and past a few dozen ranges one more range per call saves
 * nothing measurable while its pages stay resident longer. */
#define WEX__POOL_MAX_BATCH 128u

#define NIL UINT32_MAX

typedef struct {
    uint32_t prev, next;         /* in the cold list or the warm LRU list */
    uint32_t mprev, mnext;       /* in its module's warm list */
    const wex__module *aff;      /* module it remembers (warm), or NULL (cold) */
    const wex__module *img_mod;  /* module whose image is mapped at the start, or NULL */
    uint64_t image_size;         /* bytes of that mapping */
    uint64_t copied;             /* bytes of image the occupant's memory was copied from */
    uint64_t accessible;         /* [0, accessible) is read-write */
    uint64_t used;               /* accessible bytes when the memory was released */
    const uint64_t *size_src;    /* the live memory's size, while it exists */
    const wex__module *occupant; /* while in use */
    uint64_t dirty;              /* Pooling: [0, dirty) still holds the last occupant's
                                  * bytes, to be overwritten by its module's image */
    const wex__module *dirty_mod;
    uint64_t dc_off, dc_len; /* pending: [dc_off, dc_off + dc_len) to give back */
    uint32_t restore_skip;   /* releases left before restore_image probes again */
    size_t arena_used;
    bool in_use, warm_taken, has_mem;
} pslot;

/* Per-module warm lists: an open-addressing table keyed by module. */
typedef struct {
    const wex__module *mod; /* NULL: empty */
    uint32_t head;          /* clean warm slots */
    uint32_t count;         /* clean warm slots + pending ones that will be */
    uint32_t inflight;      /* of those, in a batch being reset now */
} affent;

typedef struct {
    wex__allocator base;
    wex__poolcfg cfg;
    bool guard, cow;
    uint8_t *res; /* the reservation: slot memories */
    size_t res_len;
    uint8_t *side; /* arenas and tables, read-write, touched lazily */
    size_t side_len;
    uint8_t *mem;     /* slot memories: slots * stride */
    uint64_t stride;  /* bytes between slot memories */
    uint64_t mem_max; /* bytes a slot's memory may grow to */
    uint8_t *arenas;  /* slots * WEX__POOL_ARENA_BYTES */
    uint8_t *tables;  /* slots * tables * elements pointers */
    int region;       /* guard region over the slot memories, or -1 */
    pslot *slots;
    affent *aff;
    uint32_t affcap;               /* power of two >= 2 * slots */
    uint32_t cold_head, cold_tail; /* cold list: take from the tail (least recent) */
    uint32_t warm_head, warm_tail; /* warm LRU: steal from the tail */
    uint32_t nfree;                /* clean, pending and in-flight slots */
    uint32_t fresh;                /* slots [fresh, slots) were never used */
    uint32_t *pend;                /* pending slots, npend of batch */
    uint32_t npend, batch;
    uint32_t flushing; /* slots in batches being reset */
    pthread_mutex_t lock;
    pthread_cond_t freed; /* broadcast when slots become free or clean */
} pool;

/* ------------------------------------------------------------ lists */

static void list_push(pool *p, uint32_t *head, uint32_t *tail, uint32_t i) {
    pslot *s = &p->slots[i];
    s->prev = NIL;
    s->next = *head;
    if (*head != NIL) p->slots[*head].prev = i;
    *head = i;
    if (*tail == NIL) *tail = i;
}

static void list_remove(pool *p, uint32_t *head, uint32_t *tail, uint32_t i) {
    pslot *s = &p->slots[i];
    if (s->prev != NIL)
        p->slots[s->prev].next = s->next;
    else
        *head = s->next;
    if (s->next != NIL)
        p->slots[s->next].prev = s->prev;
    else
        *tail = s->prev;
    s->prev = s->next = NIL;
}

static uint32_t aff_hash(const pool *p, const wex__module *m) {
    uintptr_t h = (uintptr_t)m;
    h ^= h >> 17;
    h *= (uintptr_t)0x9E3779B97F4A7C15ull;
    return (uint32_t)(h >> 7) & (p->affcap - 1);
}

/* The entry of module m, or with create the empty one it would take. */
static affent *aff_find(pool *p, const wex__module *m, bool create) {
    for (uint32_t h = aff_hash(p, m);; h = (h + 1) & (p->affcap - 1)) {
        affent *e = &p->aff[h];
        if (e->mod == m) return e;
        if (!e->mod) {
            if (!create) return NULL;
            e->mod = m;
            e->head = NIL;
            e->count = 0;
            e->inflight = 0;
            return e;
        }
    }
}

/* Delete an entry by shifting later ones of its probe run back. */
static void aff_delete(pool *p, affent *e) {
    uint32_t i = (uint32_t)(e - p->aff), mask = p->affcap - 1;
    for (uint32_t j = (i + 1) & mask; p->aff[j].mod; j = (j + 1) & mask) {
        uint32_t k = aff_hash(p, p->aff[j].mod);
        /* Move j into the hole at i if its home k does not lie in (i, j]. */
        if ((j > i && (k <= i || k > j)) || (j < i && k <= i && k > j)) {
            p->aff[i] = p->aff[j];
            i = j;
        }
    }
    p->aff[i].mod = NULL;
}

/* One slot fewer (clean or pending) that remembers module m. */
static void aff_drop(pool *p, const wex__module *m) {
    affent *e = aff_find(p, m, false);
    if (--e->count == 0) aff_delete(p, e);
}

/* Take free warm slot i off its lists. */
static void warm_unlink(pool *p, uint32_t i) {
    pslot *s = &p->slots[i];
    affent *e = aff_find(p, s->aff, false);
    if (s->mprev != NIL)
        p->slots[s->mprev].mnext = s->mnext;
    else
        e->head = s->mnext;
    if (s->mnext != NIL) p->slots[s->mnext].mprev = s->mprev;
    list_remove(p, &p->warm_head, &p->warm_tail, i);
    s->aff = NULL;
    if (--e->count == 0) aff_delete(p, e);
}

/* Put free clean slot i on module m's warm list; counted: the slot was
 * already counted for m while it was pending. */
static void warm_link(pool *p, uint32_t i, const wex__module *m, bool counted) {
    pslot *s = &p->slots[i];
    affent *e = aff_find(p, m, true);
    s->aff = m;
    s->mprev = NIL;
    s->mnext = e->head;
    if (e->head != NIL) p->slots[e->head].mprev = i;
    e->head = i;
    if (!counted) e->count++;
    list_push(p, &p->warm_head, &p->warm_tail, i);
}

/* ------------------------------------------------------------ slot state */

static uint8_t *slot_mem(const pool *p, uint32_t i) {
    return p->mem + (uint64_t)i * p->stride;
}

/* Drop whatever image is mapped in slot i and make its memory inaccessible. */
static void slot_make_cold(pool *p, uint32_t i) {
    pslot *s = &p->slots[i];
    if (s->image_size) {
        wex__os_reset_fixed(slot_mem(p, i), (size_t)s->accessible);
        s->accessible = 0;
    }
    if (s->dirty) wex__os_decommit(slot_mem(p, i), (size_t)s->dirty, false);
    s->dirty = 0;
    s->dirty_mod = NULL;
    s->image_size = 0;
    s->img_mod = NULL;
}

/* Replace everything slot i's last occupant may have touched with fresh
 * inaccessible pages: the fallback when pages cannot be given back, and how
 * a slot with an image mapped goes cold on release. */
static void slot_drop(pool *p, uint32_t i) {
    pslot *s = &p->slots[i];
    uint64_t end = s->dc_off + s->dc_len;
    if (end < s->accessible) end = s->accessible;
    if (end < s->dirty) end = s->dirty;
    wex__os_reset_fixed(slot_mem(p, i), (size_t)end);
    s->accessible = 0;
    s->image_size = 0;
    s->img_mod = NULL;
    s->dirty = 0;
    s->dirty_mod = NULL;
    s->dc_off = s->dc_len = 0;
}

/*
 * Reset every pending slot (called and returning with the lock held): take
 * the queue, give all its ranges back with as few system calls as the kernel
 * allows (one TLB shootdown for the batch) outside the lock, then put the
 * slots on their module's warm list, or the cold list. Meanwhile they are
 * in flight: still free, so an allocation that finds nothing else waits for
 * them rather than failing, and module_forget waits before forgetting.
 */
static void flush_locked(pool *p) {
    uint32_t n = p->npend, idx[WEX__POOL_MAX_BATCH];
    wex__os_range r[WEX__POOL_MAX_BATCH];
    memcpy(idx, p->pend, n * sizeof *idx);
    p->npend = 0;
    p->flushing += n;
    for (uint32_t k = 0; k < n; k++) {
        const wex__module *m = p->slots[idx[k]].aff;
        if (m) aff_find(p, m, false)->inflight++;
    }
    pthread_mutex_unlock(&p->lock);
    for (uint32_t k = 0; k < n; k++) {
        pslot *s = &p->slots[idx[k]];
        r[k].p = slot_mem(p, idx[k]) + s->dc_off;
        r[k].len = (size_t)s->dc_len;
    }
    unsigned calls = wex__os_decommit_many(r, n, p->cfg.simulate_no_batch);
    for (uint32_t k = 0; k < n; k++) {
        if (!r[k].done) slot_drop(p, idx[k]); /* cannot reset in place: fresh pages */
        p->slots[idx[k]].dc_off = p->slots[idx[k]].dc_len = 0;
    }
    __atomic_add_fetch(&p->base.n_flushes, 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&p->base.n_flushed, n, __ATOMIC_RELAXED);
    __atomic_add_fetch(&p->base.n_decommit_calls, calls, __ATOMIC_RELAXED);
    pthread_mutex_lock(&p->lock);
    for (uint32_t k = 0; k < n; k++) {
        pslot *s = &p->slots[idx[k]];
        if (s->aff) {
            aff_find(p, s->aff, false)->inflight--;
            warm_link(p, idx[k], s->aff, true);
        } else {
            list_push(p, &p->cold_head, &p->cold_tail, idx[k]);
        }
    }
    p->flushing -= n;
    pthread_cond_broadcast(&p->freed);
}

static bool in_pool_mem(const pool *p, const void *ptr) {
    const uint8_t *b = ptr;
    return b >= p->mem && b < p->mem + (uint64_t)p->cfg.slots * p->stride;
}

/* ------------------------------------------------------------ acquire */

static wex_error_t *exhausted(const pool *p, bool waited) {
    if (waited)
        return wex__error_at(WEX_ERR_NOMEM, -1,
                             "instance pool exhausted: all %u slots in use and none freed within "
                             "%u ms",
                             p->cfg.slots, p->cfg.timeout_ms);
    return wex__error_at(WEX_ERR_NOMEM, -1, "instance pool exhausted: all %u slots in use",
                         p->cfg.slots);
}

/*
 * Take a slot for module m: a clean one it held last (warm), else the least
 * recently freed clean cold one (or a never used one), else reset the pending
 * batch and look again, else steal the least recently freed warm one. Only
 * when no slot is free, not even pending, is the pool full: then it waits
 * (up to the timeout) or fails, as configured.
 */
static wex_error_t *instance_begin(wex__allocator *a, const wex__module *m, size_t bytes,
                                   void **record, void **slotp) {
    pool *p = (pool *)a;
    if (bytes > WEX__POOL_ARENA_BYTES) return wex__error_nomem();
    struct timespec deadline;
    bool have_deadline = false;
    uint32_t i = NIL;
    bool warm = false, stolen = false;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        affent *e = p->nfree ? aff_find(p, m, false) : NULL;
        if (e && e->head != NIL) {
            i = e->head;
            warm_unlink(p, i);
            warm = true;
        } else if (p->cold_tail != NIL) {
            i = p->cold_tail;
            list_remove(p, &p->cold_head, &p->cold_tail, i);
        } else if (p->fresh < p->cfg.slots) {
            i = p->fresh++;
        } else if (p->npend) {
            flush_locked(p);
            continue;
        } else if (p->warm_tail != NIL) {
            i = p->warm_tail;
            warm_unlink(p, i);
            stolen = true;
        }
        if (i != NIL) break;
        if (p->flushing) {
            /* Another thread is resetting slots: they are free in a moment. */
            pthread_cond_wait(&p->freed, &p->lock);
            continue;
        }
        if (!p->cfg.wait) {
            pthread_mutex_unlock(&p->lock);
            return exhausted(p, false);
        }
        if (!have_deadline) {
            clock_gettime(CLOCK_REALTIME, &deadline);
            deadline.tv_sec += p->cfg.timeout_ms / 1000;
            deadline.tv_nsec += (long)(p->cfg.timeout_ms % 1000) * 1000000L;
            if (deadline.tv_nsec >= 1000000000L) {
                deadline.tv_sec++;
                deadline.tv_nsec -= 1000000000L;
            }
            have_deadline = true;
        }
        int rc = 0;
        while (p->nfree == 0 && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&p->freed, &p->lock, &deadline);
        if (p->nfree == 0) {
            pthread_mutex_unlock(&p->lock);
            return exhausted(p, true);
        }
    }
    p->nfree--;
    pslot *s = &p->slots[i];
    s->in_use = true;
    s->occupant = m;
    s->warm_taken = warm;
    s->has_mem = false;
    s->arena_used = 0;
    pthread_mutex_unlock(&p->lock);
    if (stolen) slot_make_cold(p, i);
    *record = p->arenas + (size_t)i * WEX__POOL_ARENA_BYTES;
    s->arena_used = (bytes + 15) & ~(size_t)15;
    *slotp = s;
    return NULL;
}

/*
 * Memory 0 of the instance in slot s: make [0, min) accessible and the rest
 * not, then start it from the image: already there when the slot held this
 * module (copy-on-write), else mapped, or copied (Pooling, or no descriptor).
 */
static wex_error_t *memory_for(wex__allocator *a, void *slotp, const wex__module *m,
                               uint64_t min_bytes, uint64_t max_bytes, bool guard,
                               const uint64_t *size_src, wex__memstore *out, bool *imaged) {
    pool *p = (pool *)a;
    pslot *s = slotp;
    if (!s || s->has_mem || min_bytes > p->mem_max) {
        /* Not pooled (no slot, a second memory, too large): on demand. */
        *imaged = false;
        wex_error_t *err = wex__alloc_reserve_fresh(a, min_bytes, max_bytes, guard, out);
        if (err || !wex__image_usable(m, min_bytes)) return err;
        int how = wex__image_apply(m, out->base, p->cow);
        __atomic_add_fetch(how == 1 ? &a->n_mapped : &a->n_copied, 1, __ATOMIC_RELAXED);
        *imaged = true;
        return NULL;
    }
    uint32_t i = (uint32_t)(s - p->slots);
    uint8_t *base = slot_mem(p, i);
    const wex__image *img = &m->image;
    bool usable = wex__image_usable(m, min_bytes);
    uint64_t out_copied = 0;
    bool map = p->cow && usable && img->fd >= 0;
    if ((s->img_mod && (s->img_mod != m || !map)) || (s->dirty && s->dirty_mod != m))
        slot_make_cold(p, i);
    if (s->accessible < min_bytes) {
        if (!wex__os_commit(base + s->accessible, (size_t)(min_bytes - s->accessible)))
            return wex__error_at(WEX_ERR_NOMEM, -1, "cannot commit memory");
    } else if (s->accessible > min_bytes) {
        wex__os_protect_none(base + min_bytes, (size_t)(s->accessible - min_bytes));
    }
    s->accessible = min_bytes;
    *imaged = false;
    if (map && s->img_mod == m) {
        __atomic_add_fetch(&a->n_warm, 1, __ATOMIC_RELAXED);
        *imaged = true;
    } else if (usable) {
        int how = wex__image_apply(m, base, map);
        if (how == 2) out_copied = img->size;
        if (how == 1) {
            s->img_mod = m;
            s->image_size = img->size;
        }
        __atomic_add_fetch(how == 1 ? &a->n_mapped : &a->n_copied, 1, __ATOMIC_RELAXED);
        *imaged = true;
    }
    s->copied = out_copied;
    s->dirty = 0; /* overwritten by the image just copied (same module) */
    s->dirty_mod = NULL;
    s->has_mem = true;
    s->size_src = size_src;
    s->used = min_bytes;
    out->base = base;
    out->reserved = max_bytes < p->mem_max ? max_bytes : p->mem_max;
    out->region = -1; /* the pool's region covers it */
    return NULL;
}

static void **table_for(wex__allocator *a, void *slotp, uint32_t index, uint32_t min,
                        uint32_t *cap) {
    pool *p = (pool *)a;
    pslot *s = slotp;
    if (!s || index >= p->cfg.tables || min > p->cfg.elements) return NULL;
    uint32_t i = (uint32_t)(s - p->slots);
    *cap = p->cfg.elements;
    return (void **)p->tables + ((uint64_t)i * p->cfg.tables + index) * p->cfg.elements;
}

static void *arena_alloc(wex__allocator *a, void *slotp, size_t n) {
    pool *p = (pool *)a;
    pslot *s = slotp;
    n = (n + 15) & ~(size_t)15;
    if (!s || n > WEX__POOL_ARENA_BYTES - s->arena_used) return NULL;
    uint32_t i = (uint32_t)(s - p->slots);
    void *r = p->arenas + (size_t)i * WEX__POOL_ARENA_BYTES + s->arena_used;
    s->arena_used += n;
    return r;
}

static bool in_arena(wex__allocator *a, const void *ptr) {
    pool *p = (pool *)a;
    const uint8_t *b = ptr;
    return b >= p->arenas && b < p->arenas + (size_t)p->cfg.slots * WEX__POOL_ARENA_BYTES;
}

/* ------------------------------------------------------------ release */

static void memory_release(wex__allocator *a, wex__memstore *ms) {
    pool *p = (pool *)a;
    if (!in_pool_mem(p, ms->base)) {
        wex__os_unregister_region(ms->region);
        wex__os_release(ms->base, ms->reserved);
        ms->base = NULL;
        return;
    }
    pslot *s = &p->slots[(uint64_t)(ms->base - p->mem) / p->stride];
    if (s->size_src) s->used = *s->size_src;
    s->size_src = NULL;
    ms->base = NULL;
}

/*
 * Zero the start of [p, p+len) in place, the part of a freed slot's memory
 * kept resident (keep_resident) instead of given back; returns the bytes
 * zeroed, the rest is to be given back. Zeroing needs no TLB shootdown, and
 * a page zeroed in place is not faulted in again by the next occupant. But
 * storing to every byte also touches pages the occupant never did: on module
 * (b), 64 KiB never touched, zeroing it all took 1.71 us an instance against
 * 0.81 us when mincore first finds the resident pages (bench/RESULTS.md,
 * session 3). So only the resident prefix is zeroed: mincore cannot tell a
 * page never touched (zero) from one swapped out (not zero), so the first
 * page not resident ends what is known to be safe to zero here, and
 * everything from it on goes back with the decommit.
 *
 * With all (the Pooling strategy) the whole part is zeroed, resident or not:
 * a host picks Pooling for modules that touch much of their memory at each
 * call, and there the prefix rule measured slower (module (d): 75-80 us an
 * instance against 64-66 us), whereas a page zeroed once stays resident.
 */
static uint64_t zero_in_place(uint8_t *p, uint64_t len, bool all) {
    if (!len) return 0;
    uint64_t n = all ? len : wex__os_resident_prefix(p, (size_t)len);
    if (n) memset(p, 0, (size_t)n);
    return n;
}

/*
 * Put back the image over the pages slot s's instance wrote, in the first
 * WEX__POOL_RESTORE_BYTES of its image (see the top of the file). Returns
 * how many bytes from the start of the memory now hold exactly the image
 * (pages untouched, or only read, are the file's own), or 0 where the probe
 * is skipped, unavailable, or finds a page in swap (its private contents
 * could not be seen: everything is given back as before).
 */
static uint64_t restore_image(pool *p, pslot *s, uint8_t *base) {
    uint64_t lim = s->image_size < s->used ? s->image_size : s->used;
    if (lim > WEX__POOL_RESTORE_BYTES) lim = WEX__POOL_RESTORE_BYTES;
    size_t ps = wex__os_page_size(), n = (size_t)(lim / ps);
    if (!n || !p->cfg.restore_image) return 0;
    if (s->restore_skip) {
        s->restore_skip--;
        return 0;
    }
    uint8_t st[WEX__POOL_RESTORE_BYTES / 4096];
    if (n > sizeof st) n = sizeof st;
    if (wex__os_private_pages(base, n, st) != 0) {
        s->restore_skip = UINT32_MAX; /* not on this system */
        return 0;
    }
    size_t priv = 0;
    for (size_t k = 0; k < n; k++) {
        if (st[k] == WEX__OS_PAGE_SWAPPED) return 0;
        priv += st[k] == WEX__OS_PAGE_PRIVATE;
    }
    const uint8_t *img = s->img_mod->image.bytes;
    for (size_t k = 0; k < n; k++)
        if (st[k] == WEX__OS_PAGE_PRIVATE) memcpy(base + k * ps, img + k * ps, ps);
    if (priv < WEX__POOL_RESTORE_MIN_PAGES) s->restore_skip = WEX__POOL_RESTORE_BACKOFF;
    __atomic_add_fetch(&p->base.n_restored, 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&p->base.n_restored_pages, priv, __ATOMIC_RELAXED);
    return (uint64_t)n * ps;
}

/*
 * Give slot s back. Its memory must return to what a fresh instance of the
 * same module starts with (the image, or zeros) before anyone can take it:
 * without an image mapped, the first keep_resident bytes are zeroed in place
 * now (the image part of a Pooling slot is left: the next instance of the
 * module copies over it, and if another takes the slot it is cleared then);
 * pages grown past the initial size become inaccessible now; what is left to
 * give back waits in the pending queue (see the top of the file), which is
 * reset as a batch when it is full. The slot keeps its module (and image)
 * when the module has fewer than warm_per_module slots; otherwise it goes
 * cold and forgets it.
 */
static void slot_release(pool *p, pslot *s) {
    uint32_t i = (uint32_t)(s - p->slots);
    uint8_t *base = slot_mem(p, i);
    s->dc_off = s->dc_len = 0;
    if (s->has_mem) {
        uint64_t used = s->used, keep = 0, dirty = 0;
        if (!s->image_size) {
            keep = used < p->cfg.keep_resident ? used : p->cfg.keep_resident;
            dirty = s->copied < keep ? s->copied : keep;
            keep = dirty + zero_in_place(base + dirty, keep - dirty, !p->cow);
        } else if (s->img_mod == s->occupant) {
            keep = restore_image(p, s, base);
        }
        s->dirty = dirty;
        s->dirty_mod = dirty ? s->occupant : NULL;
        if (used > s->accessible)
            wex__os_protect_none(base + s->accessible, (size_t)(used - s->accessible));
        s->dc_off = keep;
        s->dc_len = used - keep;
        if (keep && !s->dc_len && !s->image_size)
            __atomic_add_fetch(&p->base.n_zeroed, 1, __ATOMIC_RELAXED);
    }
    memset(p->arenas + (size_t)i * WEX__POOL_ARENA_BYTES, 0, s->arena_used);
    s->arena_used = 0;
    s->has_mem = false;
    const wex__module *m = s->occupant;
    pthread_mutex_lock(&p->lock);
    affent *e = aff_find(p, m, false);
    bool warm = p->cfg.warm_per_module > 0 && (!e || e->count < p->cfg.warm_per_module);
    if (!warm && s->img_mod) {
        /* Going cold with an image mapped: fresh pages replace it all, which
         * gives back everything at once. */
        pthread_mutex_unlock(&p->lock);
        slot_drop(p, i);
        pthread_mutex_lock(&p->lock);
    } else if (!warm && s->dirty) {
        /* The image bytes left for the next instance of m go back too. */
        s->dc_len += s->dc_off;
        s->dc_off = 0;
        s->dirty = 0;
        s->dirty_mod = NULL;
    }
    s->in_use = false;
    s->occupant = NULL;
    p->nfree++;
    if (!s->dc_len) {
        if (warm)
            warm_link(p, i, m, false);
        else
            list_push(p, &p->cold_head, &p->cold_tail, i);
    } else {
        s->aff = warm ? m : NULL;
        if (warm) aff_find(p, m, true)->count++;
        p->pend[p->npend++] = i;
        if (p->npend >= p->batch) flush_locked(p);
    }
    pthread_cond_broadcast(&p->freed);
    pthread_mutex_unlock(&p->lock);
}

static void instance_free(wex__allocator *a, void *rec) {
    pool *p = (pool *)a;
    if (!in_arena(a, rec)) {
        wex__free(rec);
        return;
    }
    uint32_t i = (uint32_t)(((uint8_t *)rec - p->arenas) / WEX__POOL_ARENA_BYTES);
    slot_release(p, &p->slots[i]);
}

static void *instance_alloc(wex__allocator *a, size_t bytes) {
    (void)a;
    return wex__calloc(1, bytes);
}

/* The module is being deleted: its warm slots become cold, so that a new
 * module at the same address can never be taken for it. (Cold free slots
 * never keep an image mapped, and no slot is in use by a deleted module.)
 * Pending slots that remember it forget it now; those in a batch being reset
 * are waited for (microseconds), then forgotten as warm ones. */
static void module_forget(wex__allocator *a, const wex__module *m) {
    pool *p = (pool *)a;
    pthread_mutex_lock(&p->lock);
    affent *e;
    while ((e = aff_find(p, m, false))) {
        if (e->head != NIL) {
            uint32_t i = e->head;
            warm_unlink(p, i);
            slot_make_cold(p, i);
            list_push(p, &p->cold_head, &p->cold_tail, i);
            continue;
        }
        for (uint32_t k = 0; k < p->npend; k++) {
            pslot *s = &p->slots[p->pend[k]];
            if (s->aff != m) continue;
            s->aff = NULL;
            slot_make_cold(p, p->pend[k]);
            aff_drop(p, m);
        }
        e = aff_find(p, m, false);
        if (e && e->head == NIL) {
            if (e->inflight == 0) break; /* cannot happen: counted slots are somewhere */
            pthread_cond_wait(&p->freed, &p->lock);
        }
    }
    pthread_mutex_unlock(&p->lock);
}

/* ------------------------------------------------------------ tables, host memories */

static bool in_tables(const pool *p, void *const *e) {
    const uint8_t *b = (const uint8_t *)e;
    return b >= p->tables && b < p->tables + (uint64_t)p->cfg.slots * p->cfg.tables *
                                                 p->cfg.elements * sizeof(void *);
}

/* A pooled table that outgrows its slot moves to the heap. */
static void **table_resize(wex__allocator *a, void **elems, uint32_t old_cap, uint32_t new_cap) {
    pool *p = (pool *)a;
    bool pooled = elems && in_tables(p, elems);
    void **e =
        wex__realloc(pooled ? NULL : elems, (size_t)(new_cap ? new_cap : 1) * sizeof(void *));
    if (!e) return NULL;
    if (pooled) memcpy(e, elems, (size_t)old_cap * sizeof(void *));
    for (uint32_t i = old_cap; i < new_cap; i++)
        e[i] = NULL;
    return e;
}

static void table_free(wex__allocator *a, void **elems, uint32_t cap) {
    (void)cap;
    if (!in_tables((pool *)a, elems)) wex__free(elems);
}

static void free_tables(pool *p) {
    if (p->slots) wex__os_release(p->slots, p->cfg.slots * sizeof *p->slots);
    if (p->aff) wex__os_release(p->aff, p->affcap * sizeof *p->aff);
    wex__free(p->pend);
}

static void destroy(wex__allocator *a) {
    pool *p = (pool *)a;
    wex__os_unregister_region(p->region);
    WEX__LSAN_UNROOT(p->arenas, (size_t)p->cfg.slots * WEX__POOL_ARENA_BYTES);
    wex__os_release(p->res, p->res_len);
    wex__os_release(p->side, p->side_len);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->freed);
    free_tables(p);
    wex__free(p);
}

/* ------------------------------------------------------------ creation */

static uint64_t round_up(uint64_t v, uint64_t to) {
    return (v + to - 1) / to * to;
}

wex__allocator *wex__alloc_pool_new(const wex__poolcfg *cfg, bool guard, bool cow,
                                    const char **why) {
    *why = NULL;
    if (sizeof(void *) < 8) {
        *why = "the address space is too small for a pool";
        return NULL;
    }
    if (cfg->slots == 0) {
        *why = "the pool has no slots";
        return NULL;
    }
    pool *p = wex__calloc(1, sizeof *p);
    if (!p) {
        *why = "out of memory";
        return NULL;
    }
    p->cfg = *cfg;
    p->guard = guard;
    p->cow = cow;
    p->region = -1;
    uint64_t maxmem = cfg->max_memory;
    if (maxmem > (uint64_t)WEX__MAX_PAGES * WEX_PAGE_SIZE)
        maxmem = (uint64_t)WEX__MAX_PAGES * WEX_PAGE_SIZE;
    p->mem_max = maxmem / WEX_PAGE_SIZE * WEX_PAGE_SIZE;
    p->stride = guard ? round_up(WEX__GUARD_RESERVATION, WEX_PAGE_SIZE)
                      : round_up(p->mem_max + cfg->guard_bytes, WEX_PAGE_SIZE);
    if (p->stride == 0) p->stride = WEX_PAGE_SIZE;
    uint64_t memlen = (uint64_t)cfg->slots * p->stride;
    uint64_t arenalen = (uint64_t)cfg->slots * WEX__POOL_ARENA_BYTES;
    uint64_t tablen = round_up((uint64_t)cfg->slots * cfg->tables * cfg->elements * sizeof(void *),
                               wex__os_page_size());
    p->res_len = (size_t)memlen;
    p->res = cfg->simulate_no_reservation ? NULL : wex__os_reserve(p->res_len);
    p->side_len = (size_t)(arenalen + tablen);
    p->side = p->res ? wex__os_alloc_lazy(p->side_len) : NULL;
    /* The slot table and the affinity table are touched page by page as
     * slots are used: creating an engine stays cheap. */
    p->affcap = 16;
    while (p->affcap < 2 * cfg->slots)
        p->affcap *= 2;
    p->slots = wex__os_alloc_lazy(cfg->slots * sizeof *p->slots);
    p->aff = wex__os_alloc_lazy(p->affcap * sizeof *p->aff);
    p->batch = cfg->decommit_batch ? cfg->decommit_batch : 1;
    if (p->batch > WEX__POOL_MAX_BATCH) p->batch = WEX__POOL_MAX_BATCH;
    if (p->batch > cfg->slots) p->batch = cfg->slots;
    p->pend = wex__calloc(p->batch, sizeof *p->pend);
    if (!p->res || !p->side || !p->slots || !p->aff || !p->pend) {
        *why = p->res ? "out of memory" : "the pool's address space cannot be reserved";
        if (p->res) wex__os_release(p->res, p->res_len);
        if (p->side) wex__os_release(p->side, p->side_len);
        free_tables(p);
        wex__free(p);
        return NULL;
    }
    p->mem = p->res;
    p->arenas = p->side;
    p->tables = p->arenas + arenalen;
    WEX__LSAN_ROOT(p->arenas, (size_t)arenalen);
    if (guard && (p->region = wex__os_register_region(p->mem, (size_t)memlen)) < 0) {
        *why = "too many guarded regions";
        WEX__LSAN_UNROOT(p->arenas, (size_t)arenalen);
        wex__os_release(p->res, p->res_len);
        wex__os_release(p->side, p->side_len);
        free_tables(p);
        wex__free(p);
        return NULL;
    }
    /* Freed slots go to the head of their list, slots are taken from the tail
     * (the least recently freed); never-used slots come after cold ones. */
    p->cold_head = p->cold_tail = p->warm_head = p->warm_tail = NIL;
    p->nfree = cfg->slots;
    /* An adaptive mutex spins a little before sleeping: the lock is held for
     * list operations only (tens of ns), and two threads instantiating flat
     * out would otherwise sleep and wake each other in the kernel (futex)
     * at every collision, which measured worse than the work it guards. */
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
#ifdef PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ADAPTIVE_NP);
#endif
    pthread_mutex_init(&p->lock, &attr);
    pthread_mutexattr_destroy(&attr);
    pthread_cond_init(&p->freed, NULL);
    wex__allocator *a = &p->base;
    a->memory_reserve = wex__alloc_reserve_fresh;
    a->memory_release = memory_release;
    a->table_resize = table_resize;
    a->table_free = table_free;
    a->instance_alloc = instance_alloc;
    a->instance_free = instance_free;
    a->destroy = destroy;
    a->instance_begin = instance_begin;
    a->memory_for = memory_for;
    a->table_for = table_for;
    a->arena_alloc = arena_alloc;
    a->in_arena = in_arena;
    a->module_forget = module_forget;
    return a;
}
