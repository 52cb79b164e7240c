/*
 * atomic.c - the runtime side of the threads proposal: shared memories
 * (shareable across stores and threads) and the parking lot behind
 * memory.atomic.wait and memory.atomic.notify.
 */
#include "os/os.h"
#include "runtime/runtime.h"

#include <errno.h>

/* ---------------------------------------------------------------- shared memories */

typedef struct wex__shmem {
    wex_memory_t mem;          /* what instances point at */
    wex_engine_t *engine;      /* whose allocator made the reservation */
    pthread_mutex_t grow_lock; /* memory.grow is serialised */
    uint32_t refs;             /* stores using it (atomic) */
} wex__shmem;

/* A store's reference: freed with the store, dropping one count. */
typedef struct {
    wex__obj hdr;
    wex__shmem *sh;
} wex__shref;

/* Count one more store as a user of sh. */
static wex_error_t *add_ref(wex_store_t *s, wex__shmem *sh) {
    wex__shref *r = wex__calloc(1, sizeof *r);
    if (!r) return wex__error_nomem();
    r->sh = sh;
    __atomic_add_fetch(&sh->refs, 1, __ATOMIC_RELAXED);
    wex__store_adopt(s, &r->hdr, WEX__OBJ_SHARE);
    return NULL;
}

/*
 * A shared memory must have a maximum (valid checks it), so its whole
 * extent is reserved at once through the engine's allocator, like any
 * memory, and never moves: other threads keep using its base while one of
 * them grows it.
 */
wex_error_t *wex__shmem_create(wex_store_t *s, const wex__limits *lim, wex_memory_t **out) {
    wex__shmem *sh = wex__calloc(1, sizeof *sh);
    if (!sh) return wex__error_nomem();
    uint64_t maxpages = lim->has_max ? lim->max : WEX__MAX_PAGES;
    if (maxpages > WEX__MAX_PAGES) maxpages = WEX__MAX_PAGES;
    wex_engine_t *e = s->engine;
    bool guard = e->config.bounds == WEX_BOUNDS_GUARD_PAGES;
    wex__memstore ms;
    wex_error_t *err = e->alloc->memory_reserve(e->alloc, lim->min * WEX_PAGE_SIZE,
                                                maxpages * WEX_PAGE_SIZE, guard, &ms);
    if (err) {
        wex__free(sh);
        return err;
    }
    sh->engine = e;
    pthread_mutex_init(&sh->grow_lock, NULL);
    wex_memory_t *m = &sh->mem;
    m->hdr.kind = WEX__OBJ_MEMORY;
    m->base = ms.base;
    m->reserved = ms.reserved;
    m->region = ms.region;
    m->lim = *lim;
    m->lim.max = maxpages;
    m->lim.shared = true;
    m->size = lim->min * WEX_PAGE_SIZE;
    m->shared = sh;
    if ((err = add_ref(s, sh))) {
        e->alloc->memory_release(e->alloc, &ms);
        pthread_mutex_destroy(&sh->grow_lock);
        wex__free(sh);
        return err;
    }
    *out = m;
    return NULL;
}

wex_error_t *wex__shmem_adopt(wex_store_t *s, wex_memory_t *m) {
    if (!m->shared) return wex__error_at(WEX_ERR_ARGUMENT, -1, "memory is not shared");
    if (m->shared->engine != s->engine)
        return wex__error_at(WEX_ERR_ARGUMENT, -1, "shared memory belongs to another engine");
    return add_ref(s, m->shared);
}

/* The last store lets go: give the reservation back. */
void wex__shmem_release(wex__obj *o) {
    wex__shmem *sh = ((wex__shref *)o)->sh;
    if (__atomic_sub_fetch(&sh->refs, 1, __ATOMIC_ACQ_REL) != 0) return;
    wex__allocator *a = sh->engine->alloc;
    wex__memstore ms = {sh->mem.base, sh->mem.reserved, sh->mem.region};
    a->memory_release(a, &ms);
    pthread_mutex_destroy(&sh->grow_lock);
    wex__free(sh);
}

/* Grow under the lock; the size is published with release stores so that
 * a thread that sees the new size also sees the committed pages. */
int64_t wex__shmem_grow(wex_memory_t *m, uint64_t delta) {
    wex__shmem *sh = m->shared;
    pthread_mutex_lock(&sh->grow_lock);
    uint64_t old = __atomic_load_n(&m->lim.min, __ATOMIC_RELAXED);
    int64_t r = (int64_t)old;
    if (delta > 0) {
        uint64_t size = old * WEX_PAGE_SIZE;
        uint64_t nsize = (old + delta) * WEX_PAGE_SIZE;
        if (delta > m->lim.max - old || nsize > m->reserved ||
            !wex__os_commit(m->base + size, nsize - size)) {
            r = -1;
        } else {
            __atomic_store_n(&m->size, nsize, __ATOMIC_RELEASE);
            __atomic_store_n(&m->lim.min, old + delta, __ATOMIC_RELEASE);
        }
    }
    pthread_mutex_unlock(&sh->grow_lock);
    return r;
}

/* ---------------------------------------------------------------- wait / notify */

/*
 * The parking lot: waiters hang on a list in one of a fixed set of buckets,
 * chosen by the host address they wait on (addresses in different memories
 * never collide: reservations are disjoint). The value is compared and the
 * waiter queued under the bucket's lock, and notify takes the same lock, so
 * a notify that follows a store can never miss a waiter that saw the old
 * value. Each waiter has its own condition variable: notify wakes exactly
 * the ones it counts, in the order they came.
 */
#define WEX__PARK_BUCKETS 256 /* a power of two; contention, not correctness */

typedef struct waiter {
    struct waiter *next;
    void *addr;
    pthread_cond_t cv;
    bool woken;
} waiter;

static struct {
    pthread_mutex_t lock;
    waiter *head, *tail;
} park[WEX__PARK_BUCKETS] = {[0 ... WEX__PARK_BUCKETS - 1] = {PTHREAD_MUTEX_INITIALIZER, 0, 0}};

static unsigned bucket_of(void *addr) {
    uintptr_t a = (uintptr_t)addr >> 2;
    a ^= a >> 11;
    a *= 0x9E3779B97F4A7C15ull;
    return (unsigned)(a >> 56) & (WEX__PARK_BUCKETS - 1);
}

/* Take w off its bucket's list (lock held). */
static void unlink_waiter(unsigned b, waiter *w) {
    waiter **pp = &park[b].head, *prev = NULL;
    while (*pp && *pp != w) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    if (!*pp) return;
    *pp = w->next;
    if (park[b].tail == w) park[b].tail = prev;
}

uint32_t wex__atomic_wait(void *addr, uint64_t expected, bool is64, int64_t timeout_ns) {
    unsigned b = bucket_of(addr);
    pthread_mutex_lock(&park[b].lock);
    uint64_t cur = is64 ? __atomic_load_n((uint64_t *)addr, __ATOMIC_SEQ_CST)
                        : __atomic_load_n((uint32_t *)addr, __ATOMIC_SEQ_CST);
    if (cur != expected) {
        pthread_mutex_unlock(&park[b].lock);
        return 1;
    }
    if (timeout_ns == 0) {
        pthread_mutex_unlock(&park[b].lock);
        return 2;
    }
    waiter w = {NULL, addr, PTHREAD_COND_INITIALIZER, false};
    if (!wex__os_cond_init(&w.cv)) {
        pthread_mutex_unlock(&park[b].lock);
        return 2; /* cannot wait: behave as an immediate timeout */
    }
    if (park[b].tail)
        park[b].tail->next = &w;
    else
        park[b].head = &w;
    park[b].tail = &w;
    uint64_t deadline = UINT64_MAX;
    if (timeout_ns > 0) {
        uint64_t now = wex__os_now_ns();
        deadline = (uint64_t)timeout_ns > UINT64_MAX - 1 - now ? UINT64_MAX - 1
                                                               : now + (uint64_t)timeout_ns;
    }
    while (!w.woken)
        if (!wex__os_cond_wait_until(&w.cv, &park[b].lock, deadline)) break;
    if (!w.woken) unlink_waiter(b, &w);
    pthread_mutex_unlock(&park[b].lock);
    pthread_cond_destroy(&w.cv);
    return w.woken ? 0 : 2;
}

uint32_t wex__atomic_notify(void *addr, uint32_t count) {
    unsigned b = bucket_of(addr);
    uint32_t n = 0;
    pthread_mutex_lock(&park[b].lock);
    waiter *prev = NULL, *w = park[b].head;
    while (w && n < count) {
        waiter *next = w->next;
        if (w->addr == addr) {
            if (prev)
                prev->next = next;
            else
                park[b].head = next;
            if (park[b].tail == w) park[b].tail = prev;
            w->woken = true;
            pthread_cond_signal(&w->cv);
            n++;
        } else {
            prev = w;
        }
        w = next;
    }
    pthread_mutex_unlock(&park[b].lock);
    return n;
}
