/*
 * engine.c - configuration, the engine, and the engine-wide table of
 * interned function types (so that call_indirect compares one integer).
 */
#include "os/os.h"
#include "runtime/runtime.h"
#include "task/task.h"

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
    c->max_call_depth = WEX__DEFAULT_MAX_CALL_DEPTH;
    c->max_stack_bytes = WEX__DEFAULT_MAX_STACK_BYTES;
    return c;
}

void wex_config_delete(wex_config_t *c) {
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
    wex_config_delete(config);
    if (e->config.bounds == WEX_BOUNDS_GUARD_PAGES && !wex__os_install_trap_handler())
        e->config.bounds = WEX_BOUNDS_EXPLICIT;
    e->alloc = wex__alloc_ondemand_new();
    if (!e->alloc) {
        wex__free(e);
        return NULL;
    }
    pthread_mutex_init(&e->lock, NULL);
    return e;
}

void wex_engine_delete(wex_engine_t *e) {
    if (!e) return;
    /* Tasks may still use the allocator (their stores' memories): stop them first. */
    if (e->tm_ready && e->tm.destroy) e->tm.destroy(e->tm.data);
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
