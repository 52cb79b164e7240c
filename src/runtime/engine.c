/*
 * engine.c - configuration, the engine, and the engine-wide table of
 * interned function types (so that call_indirect compares one integer).
 */
#include "cache/cache.h"
#include "native/native_internal.h"
#include "os/os.h"
#include "runtime/runtime.h"
#include "task/task.h"

#include <stdio.h>
#include <stdlib.h>

#ifndef WEX_DEFAULT_BOUNDS_CHECKS
#define WEX_DEFAULT_BOUNDS_CHECKS 0
#endif

wex_config_t *wex_config_new(void) {
    wex_config_t *c = wex__calloc(1, sizeof *c);
    if (!c) return NULL;
    /* Guard pages need a 64-bit address space; the sanitizer build and
     * WEX_BOUNDS=explicit choose explicit checks. */
    c->bounds = (sizeof(void *) == 8 && !WEX_DEFAULT_BOUNDS_CHECKS) ? WEX_BOUNDS_GUARD_PAGES
                                                                    : WEX_BOUNDS_EXPLICIT;
    const char *env = getenv("WEX_BOUNDS");
    if (env && !strcmp(env, "explicit")) c->bounds = WEX_BOUNDS_EXPLICIT;
    if (env && !strcmp(env, "guard") && sizeof(void *) == 8) c->bounds = WEX_BOUNDS_GUARD_PAGES;
    /* The automatic tier by default; WEX_TIER=interp|native|auto sets the
     * default of new configs, so that any program built on the API (the
     * unit tests, embedders) can be run so. */
    c->tier = WEX_TIER_AUTO;
    env = getenv("WEX_TIER");
    if (env && !strcmp(env, "interp")) c->tier = WEX_TIER_INTERP;
    if (env && !strcmp(env, "native")) c->tier = WEX_TIER_NATIVE;
    c->max_call_depth = WEX__DEFAULT_MAX_CALL_DEPTH;
    c->max_stack_bytes = WEX__DEFAULT_MAX_STACK_BYTES;
    c->strategy = WEX_INSTANTIATION_POOLING_COW;
    c->pool = (wex__poolcfg){.slots = WEX__POOL_DEFAULT_SLOTS,
                             .max_memory = WEX__POOL_DEFAULT_MAX_MEMORY,
                             .guard_bytes = WEX__POOL_DEFAULT_GUARD,
                             .tables = WEX__POOL_DEFAULT_TABLES,
                             .elements = WEX__POOL_DEFAULT_ELEMENTS,
                             .keep_resident = UINT64_MAX, /* by strategy (make_allocator) */
                             .warm_per_module = WEX__POOL_DEFAULT_WARM,
                             .decommit_batch = WEX__POOL_DEFAULT_DECOMMIT_BATCH,
                             .thread_cache = WEX__POOL_DEFAULT_THREAD_CACHE,
                             .wait = false,
                             .timeout_ms = WEX__POOL_DEFAULT_TIMEOUT_MS};
    return c;
}

void wex_config_delete(wex_config_t *c) {
    if (c) wex_cache_delete(c->cache);
    wex__free(c);
}

void wex_config_set_bounds_checks(wex_config_t *c, wex_bounds_t policy) {
    if (policy == WEX_BOUNDS_GUARD_PAGES && sizeof(void *) != 8) policy = WEX_BOUNDS_EXPLICIT;
    c->bounds = policy;
}

void wex_config_set_max_call_depth(wex_config_t *c, uint32_t depth) {
    c->max_call_depth = depth ? depth : 1;
}

void wex_config_set_max_stack_bytes(wex_config_t *c, size_t bytes) {
    c->max_stack_bytes = bytes < 65536 ? 65536 : bytes;
}

void wex_config_set_deterministic(wex_config_t *c, bool on) {
    c->deterministic = on;
}

void wex_config_set_epoch_interruption(wex_config_t *c, bool on) {
    c->epochs = on;
}

void wex_engine_increment_epoch(wex_engine_t *e) {
    __atomic_add_fetch(&e->epoch, 1, __ATOMIC_RELAXED);
}

uint64_t wex_engine_epoch(const wex_engine_t *e) {
    return __atomic_load_n(&e->epoch, __ATOMIC_RELAXED);
}

void wex_config_set_tier(wex_config_t *c, wex_tier_t tier) {
    c->tier = tier == WEX_TIER_NATIVE || tier == WEX_TIER_AUTO ? tier : WEX_TIER_INTERP;
}

/* ---------------------------------------------------------------- instantiation settings */

void wex_config_set_instantiation_strategy(wex_config_t *c, wex_instantiation_t s) {
    if (s >= WEX_INSTANTIATION_POOLING_COW && s <= WEX_INSTANTIATION_RECREATE) c->strategy = s;
}
void wex_config_set_pool_slots(wex_config_t *c, uint32_t slots) {
    c->pool.slots = slots ? slots : 1;
}
void wex_config_set_pool_max_memory(wex_config_t *c, uint64_t bytes) {
    c->pool.max_memory = bytes;
}
void wex_config_set_pool_guard_bytes(wex_config_t *c, uint64_t bytes) {
    c->pool.guard_bytes = bytes;
}
void wex_config_set_pool_tables(wex_config_t *c, uint32_t tables, uint32_t elements) {
    c->pool.tables = tables;
    c->pool.elements = elements;
}
void wex_config_set_pool_keep_resident(wex_config_t *c, uint64_t bytes) {
    c->pool.keep_resident = bytes;
}
void wex_config_set_pool_warm_slots(wex_config_t *c, uint32_t per_module) {
    c->pool.warm_per_module = per_module;
}
void wex_config_set_pool_decommit_batch(wex_config_t *c, uint32_t slots) {
    c->pool.decommit_batch = slots ? slots : 1;
}
void wex_config_set_pool_exhaustion(wex_config_t *c, wex_pool_exhaustion_t mode,
                                    uint32_t timeout_ms) {
    c->pool.wait = mode == WEX_POOL_WAIT;
    c->pool.timeout_ms = timeout_ms;
}
void wex_config_set_pool_thread_cache(wex_config_t *c, uint32_t slots) {
    c->pool.thread_cache = slots;
}
void wex_config_simulate(wex_config_t *c, unsigned flags) {
    c->simulate = flags;
}

const char *wex_instantiation_name(wex_instantiation_t s) {
    switch (s) {
    case WEX_INSTANTIATION_POOLING_COW: return "pooling-cow";
    case WEX_INSTANTIATION_RECREATE_COW: return "recreate-cow";
    case WEX_INSTANTIATION_POOLING: return "pooling";
    case WEX_INSTANTIATION_RECREATE: return "recreate";
    }
    return "?";
}

/*
 * Make the allocator for the strategy asked for, falling back where the
 * machine cannot do it: pooling needs madvise(MADV_DONTNEED) to zero pages
 * (checked once per process) and its reservation (halved until it fits the
 * address space); without either, instances are recreated. Copy-on-write
 * needs an image descriptor, which is decided per module (wex_module_image).
 */
static wex__allocator *make_allocator(wex_engine_t *e) {
    wex_instantiation_t want = e->config.strategy;
    bool cow = want == WEX_INSTANTIATION_POOLING_COW || want == WEX_INSTANTIATION_RECREATE_COW;
    bool pooling = want == WEX_INSTANTIATION_POOLING_COW || want == WEX_INSTANTIATION_POOLING;
    bool guard = e->config.bounds == WEX_BOUNDS_GUARD_PAGES;
    e->strategy_note[0] = 0;
    if (pooling && !wex__alloc_madvise_works(e->config.simulate & WEX_SIMULATE_MADVISE_IGNORED)) {
        snprintf(e->strategy_note, sizeof e->strategy_note,
                 "madvise(MADV_DONTNEED) does not zero pages here: slots cannot be reset, "
                 "instances are recreated");
        pooling = false;
    }
    if (pooling) {
        wex__poolcfg pc = e->config.pool;
        pc.simulate_no_reservation = e->config.simulate & WEX_SIMULATE_NO_RESERVATION;
        pc.simulate_no_batch = e->config.simulate & WEX_SIMULATE_NO_PROCESS_MADVISE;
        pc.restore_image = !(e->config.simulate & WEX_SIMULATE_NO_IMAGE_RESTORE);
        if (pc.keep_resident == UINT64_MAX)
            pc.keep_resident =
                cow ? WEX__POOL_DEFAULT_KEEP_RESIDENT_COW : WEX__POOL_DEFAULT_KEEP_RESIDENT;
        const char *why = NULL;
        for (;;) {
            wex__allocator *a = wex__alloc_pool_new(&pc, guard, cow, &why);
            if (a) {
                if (pc.slots != e->config.pool.slots)
                    snprintf(e->strategy_note, sizeof e->strategy_note,
                             "the pool was reduced to %u slots to fit the address space", pc.slots);
                e->strategy = want;
                return a;
            }
            if (pc.slots <= 16 || pc.simulate_no_reservation) break;
            pc.slots /= 2;
        }
        snprintf(e->strategy_note, sizeof e->strategy_note, "%s: instances are recreated",
                 why ? why : "no pool");
    }
    e->strategy = cow ? WEX_INSTANTIATION_RECREATE_COW : WEX_INSTANTIATION_RECREATE;
    return wex__alloc_ondemand_new_cow(cow);
}

wex_instantiation_t wex_engine_instantiation_strategy(const wex_engine_t *e) {
    return e->strategy;
}

const char *wex_engine_instantiation_note(const wex_engine_t *e) {
    return e->strategy_note[0] ? e->strategy_note : NULL;
}

wex_engine_t *wex_engine_new(wex_config_t *config) {
    wex_engine_t *e = wex__calloc(1, sizeof *e);
    if (!e) {
        wex_config_delete(config);
        return NULL;
    }
    if (!config) config = wex_config_new();
    if (!config) {
        wex__free(e);
        return NULL;
    }
    e->config = *config;
    config->cache = NULL; /* the engine's reference now */
    wex_config_delete(config);
    /* Deterministic: explicit checks keep native code's stores in order
     * around an out-of-bounds access (docs/architecture.md). */
    if (e->config.deterministic) e->config.bounds = WEX_BOUNDS_EXPLICIT;
    if (e->config.bounds == WEX_BOUNDS_GUARD_PAGES && !wex__os_install_trap_handler())
        e->config.bounds = WEX_BOUNDS_EXPLICIT;
    /* The automatic tier without a compiler to run would only count: the
     * interpreter's own code (no counters) serves better. */
    if (e->config.tier == WEX_TIER_AUTO && !wex__native_available())
        e->config.tier = WEX_TIER_INTERP;
    e->alloc = make_allocator(e);
    if (!e->alloc) {
        wex_cache_delete(e->config.cache);
        wex__free(e);
        return NULL;
    }
    pthread_mutex_init(&e->lock, NULL);
    e->refs = 1;
    wex__cache_engine_init(e);
    return e;
}

/* The caller's reference goes; the cache layers drop theirs (which may free
 * modules); the engine itself goes with the last module. */
void wex_engine_delete(wex_engine_t *e) {
    if (!e) return;
    /* Tasks may still use the allocator (their stores' memories): stop them first. */
    if (e->tm_ready && e->tm.destroy) e->tm.destroy(e->tm.data);
    wex__cache_engine_fini(e);
    wex__engine_unref(e);
}

void wex__engine_ref(wex_engine_t *e) {
    __atomic_add_fetch(&e->refs, 1, __ATOMIC_RELAXED);
}

void wex__engine_unref(wex_engine_t *e) {
    if (__atomic_sub_fetch(&e->refs, 1, __ATOMIC_ACQ_REL) != 0) return;
    for (uint32_t i = 0; i < e->ntypes; i++)
        wex__free(e->types[i].types);
    wex__free(e->types);
    e->alloc->destroy(e->alloc);
    pthread_mutex_destroy(&e->lock);
    wex__free(e);
}

void wex_config_set_task_manager(wex_config_t *c, const wex_task_manager_t *tm) {
    c->task_manager = *tm;
    c->has_task_manager = true;
}

/* Made on first use, so that an engine that never runs a task starts no
 * thread and allocates nothing for it. */
const wex_task_manager_t *wex_engine_task_manager(wex_engine_t *e) {
    pthread_mutex_lock(&e->lock);
    if (!e->tm_ready) {
        if (e->config.has_task_manager) {
            e->tm = e->config.task_manager;
            e->tm_ready = true;
        } else {
            wex_error_t *err = wex__task_default_new(e, &e->tm);
            if (err)
                wex_error_delete(err);
            else
                e->tm_ready = true;
        }
    }
    const wex_task_manager_t *tm = e->tm_ready ? &e->tm : NULL;
    pthread_mutex_unlock(&e->lock);
    return tm;
}

wex_bounds_t wex_engine_bounds_checks(const wex_engine_t *e) {
    return e->config.bounds;
}

const char *wex_version(void) {
    return WEX_VERSION;
}

/* Linear search: modules have few distinct types, and this runs at compile
 * time only. */
uint32_t wex__engine_intern(wex_engine_t *e, uint32_t np, uint32_t nr, const uint8_t *types) {
    uint32_t id = UINT32_MAX;
    size_t n = (size_t)np + nr;
    pthread_mutex_lock(&e->lock);
    for (uint32_t i = 0; i < e->ntypes; i++) {
        wex__itype *t = &e->types[i];
        if (t->nparams == np && t->nresults == nr && (n == 0 || !memcmp(t->types, types, n))) {
            id = i;
            goto out;
        }
    }
    if (e->ntypes == e->captypes) {
        uint32_t cap = e->captypes ? e->captypes * 2 : 64;
        wex__itype *nt = wex__realloc(e->types, cap * sizeof *nt);
        if (!nt) goto out;
        e->types = nt;
        e->captypes = cap;
    }
    uint8_t *copy = wex__malloc(n);
    if (!copy) goto out;
    if (n) memcpy(copy, types, n);
    e->types[e->ntypes] = (wex__itype){np, nr, copy};
    id = e->ntypes++;
out:
    pthread_mutex_unlock(&e->lock);
    return id;
}
