/*
 * ondemand.c - the on-demand instance allocator (the RecreateInstance
 * strategy): everything is made when asked and given back when released.
 */
#include "alloc/alloc.h"
#include "module/module.h"
#include "os/os.h"

typedef struct {
    wex__allocator base;
    bool cow; /* map images copy-on-write (RecreateInstanceCopyOnWrite) */
} ondemand;

/* A fresh reservation of its own for one memory; the pool uses it too, for
 * memories it does not pool (those the host makes). */
wex_error_t *wex__alloc_reserve_fresh(wex__allocator *a, uint64_t min_bytes, uint64_t max_bytes,
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

static wex_error_t *instance_begin(wex__allocator *a, const wex__module *m, size_t bytes,
                                   void **record, void **slot) {
    (void)m;
    *slot = NULL;
    *record = instance_alloc(a, bytes);
    return *record ? NULL : wex__error_nomem();
}

/*
 * A fresh reservation; with copy-on-write the image is mapped privately over
 * its start (the rest of the initial pages are zero), else RecreateInstance
 * leaves it zero and instantiation applies the data segments as always.
 */
static wex_error_t *memory_for(wex__allocator *a, void *slot, const wex__module *m,
                               uint64_t min_bytes, uint64_t max_bytes, bool guard,
                               const uint64_t *size_src, wex__memstore *out, bool *imaged) {
    (void)slot;
    (void)size_src;
    wex_error_t *err = wex__alloc_reserve_fresh(a, min_bytes, max_bytes, guard, out);
    *imaged = false;
    if (err || !((ondemand *)a)->cow || !wex__image_usable(m, min_bytes)) return err;
    int how = wex__image_apply(m, out->base, true);
    __atomic_add_fetch(how == 1 ? &a->n_mapped : &a->n_copied, 1, __ATOMIC_RELAXED);
    *imaged = true;
    return NULL;
}

static void **table_for(wex__allocator *a, void *slot, uint32_t index, uint32_t min,
                        uint32_t *cap) {
    (void)a, (void)slot, (void)index, (void)min, (void)cap;
    return NULL;
}

static void *arena_alloc(wex__allocator *a, void *slot, size_t n) {
    (void)a, (void)slot, (void)n;
    return NULL;
}

static bool in_arena(wex__allocator *a, const void *p) {
    (void)a, (void)p;
    return false;
}

static void module_forget(wex__allocator *a, const wex__module *m) {
    (void)a, (void)m;
}

wex__allocator *wex__alloc_ondemand_new(void) {
    return wex__alloc_ondemand_new_cow(false);
}

wex__allocator *wex__alloc_ondemand_new_cow(bool cow) {
    ondemand *od = wex__calloc(1, sizeof *od);
    if (!od) return NULL;
    od->cow = cow;
    wex__allocator *a = &od->base;
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
