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
#include <sched.h>
#include <time.h>

/* Bytes of each slot's record arena: the instance record, its arrays, and
 * the records of its functions, globals, memory and tables (runtime/
 * instance.c) for a module of ordinary size (about a hundred functions);
 * what does not fit goes to the heap. Pages never used cost nothing, and a
 * release clears only the bytes used. */
#define WEX__POOL_ARENA_BYTES 16384u

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

typedef struct tcache tcache;

/* One line or more per slot: two threads' slots never share a cache line. */
typedef struct {
    _Alignas(64) uint32_t prev, next; /* in the cold list or the warm LRU list */
    uint32_t mprev, mnext;            /* in its module's warm list */
    const wex__module *aff;           /* module it remembers (warm), or NULL (cold) */
    const wex__module *img_mod;       /* module whose image is mapped at the start, or NULL */
    uint64_t image_size;              /* bytes of that mapping */
    uint64_t copied;                  /* bytes of image the occupant's memory was copied from */
    uint64_t accessible;              /* [0, accessible) is read-write */
    uint64_t used;                    /* accessible bytes when the memory was released */
    const uint64_t *size_src;         /* the live memory's size, while it exists */
    const wex__module *occupant;      /* while in use */
    uint64_t dirty;                   /* Pooling: [0, dirty) still holds the last occupant's
                                       * bytes, to be overwritten by its module's image */
    const wex__module *dirty_mod;
    uint64_t dc_off, dc_len; /* pending: [dc_off, dc_off + dc_len) to give back */
    uint32_t restore_skip;   /* releases left before restore_image probes again */
    size_t arena_used;
    tcache *tc; /* in use: the cache of the thread that took it (its counters), or NULL */
    bool in_use, warm_taken, has_mem;
} pslot;

/* Counters, per thread cache or shared (wex__allocator's n_* fields are
 * their sums, made by sync_counters). */
enum {
    C_MAPPED,
    C_COPIED,
    C_WARM,
    C_FLUSHES,
    C_FLUSHED,
    C_DECOMMIT_CALLS,
    C_ZEROED,
    C_RESTORED,
    C_RESTORED_PAGES,
    C_N
};

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
    pthread_cond_t freed;                       /* broadcast when slots become free or clean */
    tcache *tcs;                                /* the threads' caches of this pool (tc_global) */
    uint64_t cnt_shared[C_N], cnt_retired[C_N]; /* counts outside any cache; of exited threads */
    /* Threads waiting for a slot: while not 0, freed slots go to the shared
     * lists, not to thread caches. Read by every release: on a line of its
     * own, written only when a thread starts or stops waiting. */
    char pad0[64];
    uint32_t waiters;
    char pad1[64];
} pool;

static void count(pool *p, tcache *tc, int k, uint64_t v);

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
 * Give back a batch's ranges, one batch at a time in the whole process. When
 * two threads are inside such a call at once, the kernel cannot tell whether
 * the other's pending flush covers its pages and flushes the TLB of every
 * CPU running the process (mm_tlb_flush_nested in tlb_finish_mmu), even
 * where no page was present: on module (b), whose pages are never touched,
 * one thread's process_madvise calls flushed 63 times in 26,697 calls, two
 * threads' 9,779 times in 27,094, each an interrupt to the other CPU. Taken
 * once a batch (32 instances by default), this lock costs less than those.
 */
static pthread_mutex_t decommit_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned decommit_serial(wex__os_range *r, size_t n, bool no_batch) {
    pthread_mutex_lock(&decommit_lock);
    unsigned calls = wex__os_decommit_many(r, n, no_batch);
    pthread_mutex_unlock(&decommit_lock);
    return calls;
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
    unsigned calls = decommit_serial(r, n, p->cfg.simulate_no_batch);
    for (uint32_t k = 0; k < n; k++) {
        if (!r[k].done) slot_drop(p, idx[k]); /* cannot reset in place: fresh pages */
        p->slots[idx[k]].dc_off = p->slots[idx[k]].dc_len = 0;
    }
    count(p, NULL, C_FLUSHES, 1);
    count(p, NULL, C_FLUSHED, n);
    count(p, NULL, C_DECOMMIT_CALLS, calls);
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

/* ------------------------------------------------------------ per-thread caches */

/*
 * Per-thread slot caches. With one pool-wide list, every instantiation and
 * every release takes the pool's mutex, and two threads instantiating flat
 * out pass its cache line (and the lists' lines) back and forth at each
 * instance: in a 2-thread profile of module (b) the lock took a fifth of the
 * samples (bench/RESULTS.md, session 3). So each thread keeps, per pool, a
 * small cache of its own: up to thread_cache clean slots that remember their
 * module, and its own pending batch. A release puts the slot there (a slot
 * with pages to give back goes to the pending batch; when the batch is full,
 * the thread resets it with one process_madvise, as the shared queue does,
 * and the reset slots refill its cache); an instantiation first looks there
 * for a slot of its module. Cache and pending batch are guarded by the
 * cache's own lock (tc_lock), which only its thread takes in the steady
 * state (uncontended, on a line no other thread writes); other threads take it
 * only on slow paths: a thread that finds the pool empty, module deletion,
 * pool destruction. Slots in a cache are outside the pool's counts (nfree).
 *
 * Exhaustion stays exact: a thread that finds no free slot in the shared
 * lists takes one from another thread's cache (resetting that thread's
 * pending batch if need be) before it waits or fails, and while a thread
 * waits (waiters) freed slots go to the shared lists and wake it.
 *
 * Lifetime: the caches of a pool are on its registry, and each thread's
 * caches on its own list (tc_list); both under tc_global, a process-wide
 * mutex taken only on the slow paths above and when a thread first uses a
 * pool. At thread exit (a pthread key's destructor) the thread's slots go
 * back to their pools. When a pool is destroyed, its caches are emptied and
 * marked dead (p NULL); their threads free them when they next meet them.
 *
 * Lock order: tc_global, then a cache's lock, then the pool's lock.
 */

/* The most slots a thread cache holds (the setting is clamped to it). */
#define WEX__POOL_TC_MAX 128u

struct tcache {
    uint32_t lock;         /* tc_lock */
    pool *p;               /* atomic; NULL once the pool is gone */
    tcache *tl_next;       /* the owning thread's list */
    tcache *rnext, *rprev; /* the pool's registry (tc_global) */
    uint32_t n, npend;     /* cached clean slots, pending slots */
    uint64_t cnt[C_N];     /* atomic: counters of this thread's work */
    uint32_t idx[WEX__POOL_TC_MAX];
    uint32_t pend[WEX__POOL_MAX_BATCH];
};

static pthread_mutex_t tc_global = PTHREAD_MUTEX_INITIALIZER;
static pthread_key_t tc_key;
static pthread_once_t tc_once = PTHREAD_ONCE_INIT;
static bool tc_key_ok;
static __thread tcache *tc_list;

/*
 * A cache's lock: a flag, not a pthread mutex. Its thread takes it twice an
 * instance and almost never finds it taken, so what counts is the cost of
 * the uncontended case: one atomic exchange, and a plain store to release
 * (a mutex's unlock is an atomic read-modify-write too, and both are calls;
 * in a 2-thread profile of module (b) they were 7% of the samples). The
 * rare waiter (another thread stealing, a module being deleted) yields
 * while the holder finishes, at most a batch's decommit.
 */
static void tc_lock(tcache *tc) {
    while (__atomic_exchange_n(&tc->lock, 1, __ATOMIC_ACQUIRE))
        while (__atomic_load_n(&tc->lock, __ATOMIC_RELAXED))
            sched_yield();
}
static void tc_unlock(tcache *tc) {
    __atomic_store_n(&tc->lock, 0, __ATOMIC_RELEASE);
}

static void count(pool *p, tcache *tc, int k, uint64_t v) {
    __atomic_add_fetch(tc ? &tc->cnt[k] : &p->cnt_shared[k], v, __ATOMIC_RELAXED);
}

/* Sum the counters into the allocator's fields (tests, -v). */
static void sync_counters(wex__allocator *a) {
    pool *p = (pool *)a;
    uint64_t sum[C_N];
    pthread_mutex_lock(&tc_global);
    for (int k = 0; k < C_N; k++)
        sum[k] = __atomic_load_n(&p->cnt_shared[k], __ATOMIC_RELAXED) + p->cnt_retired[k];
    for (tcache *tc = p->tcs; tc; tc = tc->rnext)
        for (int k = 0; k < C_N; k++)
            sum[k] += __atomic_load_n(&tc->cnt[k], __ATOMIC_RELAXED);
    pthread_mutex_unlock(&tc_global);
    uint64_t *dst[C_N] = {&a->n_mapped,  &a->n_copied,   &a->n_warm,
                          &a->n_flushes, &a->n_flushed,  &a->n_decommit_calls,
                          &a->n_zeroed,  &a->n_restored, &a->n_restored_pages};
    for (int k = 0; k < C_N; k++)
        __atomic_store_n(dst[k], sum[k], __ATOMIC_RELAXED);
}

/*
 * Give n freed clean slots to the shared lists (a cache that is full or
 * whose pool has waiters, a thread exiting, a module forgotten): warm on
 * their module's list while it has fewer than warm_per_module, else cold.
 * Making a slot cold can take a system call; this is the slow path.
 */
static void shared_put(pool *p, const uint32_t *idx, uint32_t n) {
    if (!n) return;
    pthread_mutex_lock(&p->lock);
    for (uint32_t k = 0; k < n; k++) {
        uint32_t i = idx[k];
        pslot *s = &p->slots[i];
        const wex__module *m = s->aff;
        s->aff = NULL;
        affent *e = m ? aff_find(p, m, false) : NULL;
        if (m && p->cfg.warm_per_module > 0 && (!e || e->count < p->cfg.warm_per_module)) {
            warm_link(p, i, m, false);
        } else {
            slot_make_cold(p, i);
            list_push(p, &p->cold_head, &p->cold_tail, i);
        }
        p->nfree++;
    }
    pthread_cond_broadcast(&p->freed);
    pthread_mutex_unlock(&p->lock);
}

/*
 * Reset tc's pending batch (its lock held): one process_madvise over all the
 * ranges, as flush_locked does for the shared queue, then the slots refill
 * the cache; those that do not fit, or all of them while a thread waits for
 * a slot, go to the shared lists.
 */
static void tc_flush(pool *p, tcache *tc) {
    uint32_t n = tc->npend, over[WEX__POOL_MAX_BATCH], nover = 0;
    if (!n) return;
    wex__os_range r[WEX__POOL_MAX_BATCH];
    for (uint32_t k = 0; k < n; k++) {
        pslot *s = &p->slots[tc->pend[k]];
        r[k].p = slot_mem(p, tc->pend[k]) + s->dc_off;
        r[k].len = (size_t)s->dc_len;
    }
    unsigned calls = decommit_serial(r, n, p->cfg.simulate_no_batch);
    tc->npend = 0;
    bool waiting = __atomic_load_n(&p->waiters, __ATOMIC_SEQ_CST) != 0;
    for (uint32_t k = 0; k < n; k++) {
        uint32_t i = tc->pend[k];
        pslot *s = &p->slots[i];
        if (!r[k].done) slot_drop(p, i); /* cannot reset in place: fresh pages */
        s->dc_off = s->dc_len = 0;
        if (s->aff && !waiting && tc->n < p->cfg.thread_cache)
            tc->idx[tc->n++] = i;
        else
            over[nover++] = i;
    }
    count(p, tc, C_FLUSHES, 1);
    count(p, tc, C_FLUSHED, n);
    count(p, tc, C_DECOMMIT_CALLS, calls);
    shared_put(p, over, nover);
}

/* Thread exit: this thread's slots go back to their pools' shared lists. */
static void tc_thread_exit(void *unused) {
    (void)unused;
    pthread_mutex_lock(&tc_global);
    for (tcache *tc = tc_list, *next; tc; tc = next) {
        next = tc->tl_next;
        pool *p = __atomic_load_n(&tc->p, __ATOMIC_ACQUIRE);
        if (p) {
            tc_lock(tc);
            tc_flush(p, tc);
            shared_put(p, tc->idx, tc->n);
            tc->n = 0;
            for (int k = 0; k < C_N; k++)
                p->cnt_retired[k] += __atomic_load_n(&tc->cnt[k], __ATOMIC_RELAXED);
            tc_unlock(tc);
            if (tc->rprev)
                tc->rprev->rnext = tc->rnext;
            else
                p->tcs = tc->rnext;
            if (tc->rnext) tc->rnext->rprev = tc->rprev;
        }
        wex__os_release(tc, sizeof *tc);
    }
    tc_list = NULL;
    pthread_mutex_unlock(&tc_global);
}

static void tc_key_init(void) {
    tc_key_ok = pthread_key_create(&tc_key, tc_thread_exit) == 0;
}

/*
 * This thread's cache of pool p, made and registered on first use; NULL
 * where there is none (setting 0, no memory, no thread key). Caches of
 * destroyed pools met on the way are freed (their pool let go of them).
 */
static tcache *tc_get(pool *p) {
    tcache **link = &tc_list;
    for (tcache *tc = tc_list; tc;) {
        pool *q = __atomic_load_n(&tc->p, __ATOMIC_ACQUIRE);
        if (q == p) {
            if (link != &tc_list) { /* most recently used first */
                *link = tc->tl_next;
                tc->tl_next = tc_list;
                tc_list = tc;
            }
            return tc;
        }
        if (!q) {
            tcache *dead = tc;
            *link = tc = tc->tl_next;
            wex__os_release(dead, sizeof *dead);
            continue;
        }
        link = &tc->tl_next;
        tc = tc->tl_next;
    }
    if (!p->cfg.thread_cache) return NULL;
    pthread_once(&tc_once, tc_key_init);
    if (!tc_key_ok || pthread_setspecific(tc_key, (void *)&tc_list) != 0) return NULL;
    tcache *tc = wex__os_alloc_lazy(sizeof *tc);
    if (!tc) return NULL;
    tc->p = p;
    pthread_mutex_lock(&tc_global);
    tc->rnext = p->tcs;
    if (p->tcs) p->tcs->rprev = tc;
    p->tcs = tc;
    pthread_mutex_unlock(&tc_global);
    tc->tl_next = tc_list;
    tc_list = tc;
    return tc;
}

/* Take a clean slot of module m from this thread's cache (the most recently
 * freed), or NIL. */
static uint32_t tc_take(pool *p, tcache *tc, const wex__module *m) {
    uint32_t i = NIL;
    tc_lock(tc);
    for (uint32_t k = tc->n; k-- > 0;) {
        if (p->slots[tc->idx[k]].aff != m) continue;
        i = tc->idx[k];
        tc->idx[k] = tc->idx[--tc->n];
        break;
    }
    tc_unlock(tc);
    if (i != NIL) p->slots[i].aff = NULL;
    return i;
}

/*
 * Keep freed slot i (module m) in this thread's cache: clean in the cache,
 * or with pages to give back in the pending batch, reset when full. False
 * when it must go to the shared lists: the cache is full, or a thread waits.
 * The waiters check is under the cache's lock, which a waiting thread takes
 * after counting itself (instance_begin), so either it sees this slot or
 * this sees it waiting.
 */
static bool tc_put(pool *p, tcache *tc, uint32_t i, const wex__module *m) {
    pslot *s = &p->slots[i];
    tc_lock(tc);
    if (__atomic_load_n(&p->waiters, __ATOMIC_SEQ_CST) ||
        (!s->dc_len && tc->n >= p->cfg.thread_cache)) {
        tc_unlock(tc);
        return false;
    }
    s->in_use = false;
    s->occupant = NULL;
    s->aff = m;
    if (!s->dc_len) {
        tc->idx[tc->n++] = i;
    } else {
        tc->pend[tc->npend++] = i;
        if (tc->npend >= p->batch) tc_flush(p, tc);
    }
    tc_unlock(tc);
    return true;
}

/*
 * The pool has no free slot: take one from another thread's cache (the
 * caller's own is empty of it too), resetting a pending batch if that is
 * all a cache holds. NIL when every cache is empty.
 */
static uint32_t tc_steal(pool *p, bool *moved) {
    uint32_t i = NIL;
    pthread_mutex_lock(&tc_global);
    for (tcache *tc = p->tcs; tc && i == NIL; tc = tc->rnext) {
        tc_lock(tc);
        if (!tc->n && tc->npend) {
            /* Reset its batch: into its cache, or (threads waiting) into
             * the shared lists, where the caller looks again. */
            tc_flush(p, tc);
            *moved = true;
        }
        if (tc->n) i = tc->idx[--tc->n];
        tc_unlock(tc);
    }
    pthread_mutex_unlock(&tc_global);
    return i;
}

/* Module m is going away: slots in thread caches that remember it forget it
 * (cold: its image unmapped); pending ones forget it now and go cold when
 * their batch is reset. */
static void tc_forget(pool *p, const wex__module *m) {
    pthread_mutex_lock(&tc_global);
    for (tcache *tc = p->tcs; tc; tc = tc->rnext) {
        uint32_t out[WEX__POOL_TC_MAX], nout = 0;
        tc_lock(tc);
        for (uint32_t k = 0; k < tc->n;) {
            uint32_t i = tc->idx[k];
            if (p->slots[i].aff != m) {
                k++;
                continue;
            }
            tc->idx[k] = tc->idx[--tc->n];
            p->slots[i].aff = NULL;
            out[nout++] = i; /* made cold by shared_put */
        }
        for (uint32_t k = 0; k < tc->npend; k++) {
            pslot *s = &p->slots[tc->pend[k]];
            if (s->aff != m) continue;
            s->aff = NULL;
            slot_make_cold(p, tc->pend[k]);
        }
        shared_put(p, out, nout);
        tc_unlock(tc);
    }
    pthread_mutex_unlock(&tc_global);
}

/* The pool is being destroyed: its caches let go of their slots and are
 * marked dead, for their threads to free. */
static void tc_pool_gone(pool *p) {
    pthread_mutex_lock(&tc_global);
    for (tcache *tc = p->tcs, *next; tc; tc = next) {
        next = tc->rnext;
        tc_lock(tc);
        tc->n = tc->npend = 0;
        tc_unlock(tc);
        __atomic_store_n(&tc->p, NULL, __ATOMIC_RELEASE); /* the last touch */
    }
    p->tcs = NULL;
    pthread_mutex_unlock(&tc_global);
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

/* The deadline of a wait of timeout_ms from now (CLOCK_REALTIME, as
 * pthread_cond_timedwait wants). */
static struct timespec deadline_in(uint32_t timeout_ms) {
    struct timespec d;
    clock_gettime(CLOCK_REALTIME, &d);
    d.tv_sec += timeout_ms / 1000;
    d.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (d.tv_nsec >= 1000000000L) {
        d.tv_sec++;
        d.tv_nsec -= 1000000000L;
    }
    return d;
}

/* Take a slot from the shared lists (the pool's lock held): m's warm one,
 * else the least recently freed cold one (or a never used one), else reset
 * the pending batch and look again, else steal the least recently freed warm
 * one (*stolen). NIL when the lists hold no free slot. */
static uint32_t shared_take(pool *p, const wex__module *m, bool *warm, bool *stolen) {
    for (;;) {
        affent *e = p->nfree ? aff_find(p, m, false) : NULL;
        uint32_t i = NIL;
        if (e && e->head != NIL) {
            i = e->head;
            warm_unlink(p, i);
            *warm = true;
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
            *stolen = true;
        }
        if (i != NIL) p->nfree--;
        return i;
    }
}

/*
 * Take a slot for module m: a clean one of m in this thread's cache (no
 * pool-wide lock), else from the shared lists (shared_take), else from
 * another thread's cache (tc_steal). Only when no slot is free anywhere, not
 * even pending, is the pool full: then it waits (up to the timeout) or
 * fails, as configured.
 */
static wex_error_t *instance_begin(wex__allocator *a, const wex__module *m, size_t bytes,
                                   void **record, void **slotp) {
    pool *p = (pool *)a;
    if (bytes > WEX__POOL_ARENA_BYTES) return wex__error_nomem();
    tcache *tc = p->cfg.thread_cache ? tc_get(p) : NULL;
    uint32_t i = tc ? tc_take(p, tc, m) : NIL;
    bool warm = i != NIL, stolen = false;
    if (i == NIL) {
        struct timespec deadline;
        bool have_deadline = false, timed_out = false, counted = false;
        pthread_mutex_lock(&p->lock);
        for (;;) {
            if ((i = shared_take(p, m, &warm, &stolen)) != NIL) break;
            if (p->flushing) {
                /* Another thread is resetting slots: they are free in a moment. */
                pthread_cond_wait(&p->freed, &p->lock);
                continue;
            }
            bool moved = false;
            if (p->cfg.thread_cache) {
                pthread_mutex_unlock(&p->lock);
                i = tc_steal(p, &moved);
                pthread_mutex_lock(&p->lock);
                if (i != NIL) {
                    stolen = true; /* its module is checked below */
                    break;
                }
                if (moved) continue; /* a batch went to the shared lists */
            }
            if (!p->cfg.wait || timed_out) {
                if (counted) __atomic_sub_fetch(&p->waiters, 1, __ATOMIC_SEQ_CST);
                pthread_mutex_unlock(&p->lock);
                return exhausted(p, timed_out);
            }
            if (!have_deadline) {
                deadline = deadline_in(p->cfg.timeout_ms);
                have_deadline = true;
            }
            if (!counted) {
                /* From now on freed slots come to the shared lists and wake
                 * this thread; look in the caches once more, for a slot put
                 * there just before (tc_put). */
                __atomic_add_fetch(&p->waiters, 1, __ATOMIC_SEQ_CST);
                counted = true;
                continue;
            }
            if (pthread_cond_timedwait(&p->freed, &p->lock, &deadline) == ETIMEDOUT)
                timed_out = true; /* one more look, then fail */
        }
        if (counted) __atomic_sub_fetch(&p->waiters, 1, __ATOMIC_SEQ_CST);
        pthread_mutex_unlock(&p->lock);
    }
    pslot *s = &p->slots[i];
    if (stolen) {
        /* From the warm lists (aff cleared) or another thread's cache,
         * which may hold a slot of m. */
        warm = s->aff == m;
        if (!warm) slot_make_cold(p, i);
        s->aff = NULL;
    }
    s->in_use = true;
    s->occupant = m;
    s->warm_taken = warm;
    s->has_mem = false;
    s->tc = tc;
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
        count(p, s ? s->tc : NULL, how == 1 ? C_MAPPED : C_COPIED, 1);
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
        count(p, s->tc, C_WARM, 1);
        *imaged = true;
    } else if (usable) {
        int how = wex__image_apply(m, base, map);
        if (how == 2) out_copied = img->size;
        if (how == 1) {
            s->img_mod = m;
            s->image_size = img->size;
        }
        count(p, s->tc, how == 1 ? C_MAPPED : C_COPIED, 1);
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
static uint64_t restore_image(pool *p, tcache *tc, pslot *s, uint8_t *base) {
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
    count(p, tc, C_RESTORED, 1);
    count(p, tc, C_RESTORED_PAGES, priv);
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
 * cold and forgets it. With thread caches, the releasing thread's cache
 * takes it instead when it can (tc_put): there it stays warm.
 */
static void slot_release(pool *p, pslot *s) {
    uint32_t i = (uint32_t)(s - p->slots);
    uint8_t *base = slot_mem(p, i);
    tcache *tc = p->cfg.thread_cache ? tc_get(p) : NULL;
    s->tc = NULL;
    s->dc_off = s->dc_len = 0;
    if (s->has_mem) {
        uint64_t used = s->used, keep = 0, dirty = 0;
        if (!s->image_size) {
            keep = used < p->cfg.keep_resident ? used : p->cfg.keep_resident;
            dirty = s->copied < keep ? s->copied : keep;
            keep = dirty + zero_in_place(base + dirty, keep - dirty, !p->cow);
        } else if (s->img_mod == s->occupant) {
            keep = restore_image(p, tc, s, base);
        }
        s->dirty = dirty;
        s->dirty_mod = dirty ? s->occupant : NULL;
        if (used > s->accessible)
            wex__os_protect_none(base + s->accessible, (size_t)(used - s->accessible));
        s->dc_off = keep;
        s->dc_len = used - keep;
        if (keep && !s->dc_len && !s->image_size) count(p, tc, C_ZEROED, 1);
    }
    memset(p->arenas + (size_t)i * WEX__POOL_ARENA_BYTES, 0, s->arena_used);
    s->arena_used = 0;
    s->has_mem = false;
    const wex__module *m = s->occupant;
    /* This thread's cache first: no pool-wide lock (see tcache). */
    if (tc && p->cfg.warm_per_module > 0 && tc_put(p, tc, i, m)) return;
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
    if (p->cfg.thread_cache) tc_forget(p, m);
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
    tc_pool_gone(p);
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
    if (p->cfg.thread_cache > WEX__POOL_TC_MAX) p->cfg.thread_cache = WEX__POOL_TC_MAX;
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
    a->sync_counters = sync_counters;
    return a;
}
