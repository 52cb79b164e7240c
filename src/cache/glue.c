/*
 * glue.c - the cache's side of the engine and its config: which cache an
 * engine uses, its serial and its id.
 */
#include "cache/cache.h"
#include "native/native_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void wex_config_set_cache(wex_config_t *c, wex_cache_t *cache) {
    wex_cache_t *old = c->cache;
    c->cache = wex_cache_retain(cache);
    c->cache_set = true;
    wex_cache_delete(old);
}

/* The config's cache becomes the engine's. Without one set, the default
 * chain, unless $WEX_CACHE is "off" (or "0"): an escape hatch for scripts
 * that run many short-lived engines. */
void wex__cache_engine_init(wex_engine_t *e) {
    e->cache_serial = wex__cache_serial_new();
    char native[400];
    /* The native and automatic tiers share entries (the same interpreter
     * code, and native code for all or some functions). */
    if (e->config.tier != WEX_TIER_INTERP) {
        wex__native_key(native, sizeof native);
        /* deterministic native code differs; the interpreter's code does not */
        if (e->config.deterministic)
            snprintf(native + strlen(native), sizeof native - strlen(native), "; deterministic");
    }
    wex__engine_id_compute(e->config.bounds, e->config.epochs,
                           e->config.tier != WEX_TIER_INTERP ? native : NULL, e->cache_id,
                           e->cache_id_hex, sizeof e->cache_id_hex);
    if (e->config.cache_set) {
        e->cache = e->config.cache;
    } else {
        const char *env = getenv("WEX_CACHE");
        bool off = env && (!strcmp(env, "off") || !strcmp(env, "0"));
        e->cache = off ? NULL : wex_cache_default_new(NULL);
    }
    e->config.cache = NULL;
}

void wex__cache_engine_fini(wex_engine_t *e) {
    if (e->cache) {
        wex__cache_forget_engine(e->cache, e);
        wex_cache_delete(e->cache);
        e->cache = NULL;
    }
    wex__cache_serial_retire(e->cache_serial);
}

wex_cache_t *wex_engine_cache(const wex_engine_t *e) {
    return e->cache;
}

const char *wex_engine_id(const wex_engine_t *e) {
    return e->cache_id_hex;
}

void wex__cache_resave(wex__module *m) {
    wex_engine_t *e = m->owner ? m->owner : m->engine;
    if (!e->cache || !m->cache || !m->cache->has_hash) return;
    __atomic_store_n(&m->cache->resave, 1, __ATOMIC_RELEASE);
    wex_cache_save(e->cache, m->cache->hash, e, m);
    __atomic_store_n(&m->cache->resave, 0, __ATOMIC_RELEASE);
}
