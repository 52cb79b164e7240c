/*
 * alloc.h - the instance allocator interface. Every linear memory, table
 * element array and instance record is created and released through one
 * wex__allocator, owned by the engine, so that instantiation strategies
 * (on-demand today; pooling and copy-on-write next) differ only in which
 * allocator the engine holds.
 */
#ifndef WEX_ALLOC_H
#define WEX_ALLOC_H

#include "base/base.h"

/* Guard reservations: 4 GiB of addresses + 4 GiB of offsets + a page for the
 * widest access that starts just below the end. */
#define WEX__GUARD_RESERVATION (((uint64_t)8 << 30) + 65536)

/* The backing storage of one linear memory: a reservation that never moves. */
typedef struct {
    uint8_t *base;
    uint64_t reserved; /* bytes reserved */
    int region;        /* guard-region handle, or -1 */
} wex__memstore;

struct wex_module;

typedef struct wex__allocator wex__allocator;
struct wex__allocator {
    /* Reserve a memory able to grow to max_bytes, with min_bytes accessible
     * and zero. With guard, the reservation also covers every address a
     * 32-bit address plus 32-bit offset can form, and faults in it trap. */
    wex_error_t *(*memory_reserve)(wex__allocator *a, uint64_t min_bytes, uint64_t max_bytes,
                                   bool guard, wex__memstore *out);
    void (*memory_release)(wex__allocator *a, wex__memstore *ms);
    /* Table element storage: a new array of new_cap entries holding the
     * first old_cap of elems (NULL, 0 for a fresh one); the rest is NULL.
     * Returns NULL on failure, leaving elems as it was. */
    void **(*table_resize)(wex__allocator *a, void **elems, uint32_t old_cap, uint32_t new_cap);
    void (*table_free)(wex__allocator *a, void **elems, uint32_t cap);
    /* Zeroed storage for an instance record of the given size. */
    void *(*instance_alloc)(wex__allocator *a, size_t bytes);
    void (*instance_free)(wex__allocator *a, void *p);
    void (*destroy)(wex__allocator *a);

    /* Instance-level operations (instantiation strategies). */
    /* The record of an instance of module m, zeroed, and *slot, the handle
     * its memory and tables are then made with (NULL when not pooled). May
     * wait for a slot, or fail with an error when the pool is exhausted. */
    wex_error_t *(*instance_begin)(wex__allocator *a, const struct wex_module *m, size_t bytes,
                                   void **record, void **slot);
    /* Memory 0 of an instance (defined by m): like memory_reserve, but from
     * the slot and, when the module has an image, initialised from it (mapped
     * copy-on-write or copied; *imaged says so). size_src points at the
     * memory's live size, read when it is released. */
    wex_error_t *(*memory_for)(wex__allocator *a, void *slot, const struct wex_module *m,
                               uint64_t min_bytes, uint64_t max_bytes, bool guard,
                               const uint64_t *size_src, wex__memstore *out, bool *imaged);
    /* Element storage for defined table `index` of a slot instance: an array
     * of *cap >= min entries inside the slot, or NULL (use table_resize). */
    void **(*table_for)(wex__allocator *a, void *slot, uint32_t index, uint32_t min, uint32_t *cap);
    /* Carve n zeroed bytes from the slot's record arena, or NULL (use the heap). */
    void *(*arena_alloc)(wex__allocator *a, void *slot, size_t n);
    bool (*in_arena)(wex__allocator *a, const void *p);
    /* A module is going away: forget slots that remember it. */
    void (*module_forget)(wex__allocator *a, const struct wex_module *m);

    /* Counters (atomic), for tests and -v: images mapped, images copied,
     * slots reused warm (same module, no remapping). */
    uint64_t n_mapped, n_copied, n_warm;
    /* Pooling: batches of freed slots reset, slots in them, system calls
     * those resets made (one per batch where process_madvise batches), and
     * slots reset by zeroing in place with nothing to give back. */
    uint64_t n_flushes, n_flushed, n_decommit_calls, n_zeroed;
    /* image slots reset by copying back the pages the instance wrote (pool.c,
     * restore_image), and the pages so copied */
    uint64_t n_restored, n_restored_pages;
    /* Bring the counters above up to date (the pool counts per thread and
     * sums here); NULL where they always are. Read them through
     * wex__alloc_counted. */
    void (*sync_counters)(wex__allocator *a);
};

/* a, with its counters up to date (tests and -v). */
static inline wex__allocator *wex__alloc_counted(wex__allocator *a) {
    if (a->sync_counters) a->sync_counters(a);
    return a;
}

/* Pool limits and behaviour, filled from the configuration. */
typedef struct {
    uint32_t slots;
    uint64_t max_memory; /* bytes per slot */
    uint64_t guard_bytes;
    uint32_t tables, elements;
    uint64_t keep_resident;
    uint32_t warm_per_module;
    bool wait;
    uint32_t timeout_ms;
    bool simulate_no_reservation;
    uint32_t decommit_batch; /* freed slots reset together (pool.c) */
    bool simulate_no_batch;  /* one madvise per range, as without process_madvise */
    bool restore_image;      /* image slots: copy back written pages (pool.c, restore_image) */
    uint32_t thread_cache;   /* clean slots each thread keeps for itself; 0: none (pool.c) */
} wex__poolcfg;

/* The on-demand allocator: one mmap reservation per memory, the C heap for
 * the rest. */
/* One memory's own reservation, as the on-demand allocator makes it. */
wex_error_t *wex__alloc_reserve_fresh(wex__allocator *a, uint64_t min_bytes, uint64_t max_bytes,
                                      bool guard, wex__memstore *out);

wex__allocator *wex__alloc_ondemand_new(void);
/* The same, mapping images copy-on-write when cow (RecreateInstanceCopyOnWrite). */
wex__allocator *wex__alloc_ondemand_new_cow(bool cow);
/* The pooling allocator: one reservation of cfg->slots slots, made now. On
 * failure returns NULL and sets *why (a static string). */
wex__allocator *wex__alloc_pool_new(const wex__poolcfg *cfg, bool guard, bool cow,
                                    const char **why);

/* Initialise [base, base + min_bytes) of a fresh, zero memory from m's image:
 * map it copy-on-write (cow and the image has a descriptor) or copy it.
 * Returns 1 if mapped, 2 if copied, 0 if there is no image. */
int wex__image_apply(const struct wex_module *m, uint8_t *base, bool cow);
/* m has an image that fits a memory of min_bytes (an image from an artifact
 * is checked here too, not trusted). */
bool wex__image_usable(const struct wex_module *m, uint64_t min_bytes);
/* Build m's image (module/image.h) at compile time; sets no_image if none. */
void wex__image_build(struct wex_module *m, bool use_memfd);

/* madvise(MADV_DONTNEED) really zeroes pages here (checked once per process;
 * simulate_ignored runs the check with a madvise that does nothing). */
bool wex__alloc_madvise_works(bool simulate_ignored);

#endif
