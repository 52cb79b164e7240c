/*
 * ondemand.c - the on-demand instance allocator (the RecreateInstance
 * strategy): everything is made when asked and given back when released.
 */
#include "alloc/alloc.h"
#include "os/os.h"

/* Guard reservations: 4 GiB of addresses + 4 GiB of offsets + a page for the
 * widest access that starts just below the end. */
#define WEX__GUARD_RESERVATION (((uint64_t)8 << 30) + 65536)

static wex_error_t *memory_reserve(wex__allocator *a, uint64_t min_bytes, uint64_t max_bytes,
                                   bool guard, wex__memstore *out) {
    (void)a;
    uint64_t reserve = guard ? WEX__GUARD_RESERVATION : max_bytes;
    if (reserve == 0) reserve = wex__os_page_size();
    uint8_t *base = wex__os_reserve(reserve);
    if (!base) return wex__error_at(WEX_ERR_NOMEM, -1, "cannot reserve memory");
    if (!wex__os_commit(base, min_bytes)) {
        wex__os_release(base, reserve);
        return wex__error_at(WEX_ERR_NOMEM, -1, "cannot commit memory");
    }
    out->base = base;
    out->reserved = reserve;
    out->region = guard ? wex__os_register_region(base, reserve) : -1;
    if (guard && out->region < 0) {
        wex__os_release(base, reserve);
        return wex__error_at(WEX_ERR_NOMEM, -1, "too many guarded memories");
    }
    return NULL;
}

static void memory_release(wex__allocator *a, wex__memstore *ms) {
    (void)a;
    wex__os_unregister_region(ms->region);
    wex__os_release(ms->base, ms->reserved);
    ms->base = NULL;
}

static void **table_resize(wex__allocator *a, void **elems, uint32_t old_cap, uint32_t new_cap) {
    (void)a;
    void **e = wex__realloc(elems, (size_t)(new_cap ? new_cap : 1) * sizeof(void *));
    if (!e) return NULL;
    for (uint32_t i = old_cap; i < new_cap; i++)
        e[i] = NULL;
    return e;
}

static void table_free(wex__allocator *a, void **elems, uint32_t cap) {
    (void)a;
    (void)cap;
    wex__free(elems);
}

static void *instance_alloc(wex__allocator *a, size_t bytes) {
    (void)a;
    return wex__calloc(1, bytes);
}

static void instance_free(wex__allocator *a, void *p) {
    (void)a;
    wex__free(p);
}

static void destroy(wex__allocator *a) {
    wex__free(a);
}

wex__allocator *wex__alloc_ondemand_new(void) {
    wex__allocator *a = wex__calloc(1, sizeof *a);
    if (!a) return NULL;
    a->memory_reserve = memory_reserve;
    a->memory_release = memory_release;
    a->table_resize = table_resize;
    a->table_free = table_free;
    a->instance_alloc = instance_alloc;
    a->instance_free = instance_free;
    a->destroy = destroy;
    return a;
}
