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

/* The backing storage of one linear memory: a reservation that never moves. */
typedef struct {
    uint8_t *base;
    uint64_t reserved; /* bytes reserved */
    int region;        /* guard-region handle, or -1 */
} wex__memstore;

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
};

/* The on-demand allocator: one mmap reservation per memory, the C heap for
 * the rest. */
wex__allocator *wex__alloc_ondemand_new(void);

#endif
