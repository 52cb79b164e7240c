/*
 * layers.c - the cache interface and its in-memory layers: the layer object
 * (a table of functions and their data), with_fallback chains, the
 * thread-local layer and the shared in-process layer; and the module
 * reference count they rely on (a layer holds a reference to what it keeps).
 */
#include "cache/cache.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

struct wex_cache {
    wex_cache_ops_t ops;
    void *data;
    uint32_t refs; /* atomic */
    /* Counters; a chain reports its layers' instead. */
    uint64_t hits, misses, saves; /* atomic */
    /* Figures only the layer knows (entries, bytes, evictions). */
    void (*stats)(void *data, wex_cache_stats_t *out);
    bool chain; /* report the sum of the chained layers instead */
};

wex_cache_t *wex_cache_new(const wex_cache_ops_t *ops, void *data) {
    if (!ops || !ops->load || !ops->save) return NULL;
    wex_cache_t *c = wex__calloc(1, sizeof *c);
    if (!c) return NULL;
    c->ops = *ops;
    c->data = data;
    c->refs = 1;
    return c;
}

wex_cache_t *wex_cache_retain(wex_cache_t *c) {
    if (c) __atomic_add_fetch(&c->refs, 1, __ATOMIC_RELAXED);
    return c;
}

void wex_cache_delete(wex_cache_t *c) {
    if (!c || __atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL) != 0) return;
    if (c->ops.destroy) c->ops.destroy(c->data);
    wex__free(c);
}

wex_module_t *wex_cache_load(wex_cache_t *c, const uint8_t hash[WEX_CACHE_HASH_SIZE],
                             wex_engine_t *e) {
    wex_module_t *m = c->ops.load(c->data, hash, e);
    __atomic_add_fetch(m ? &c->hits : &c->misses, 1, __ATOMIC_RELAXED);
    return m;
}

void wex_cache_save(wex_cache_t *c, const uint8_t hash[WEX_CACHE_HASH_SIZE], wex_engine_t *e,
                    wex_module_t *m) {
    __atomic_add_fetch(&c->saves, 1, __ATOMIC_RELAXED);
    c->ops.save(c->data, hash, e, m);
}

void wex_cache_stats(wex_cache_t *c, wex_cache_stats_t *out) {
    memset(out, 0, sizeof *out);
    if (!c->chain) {
        out->hits = __atomic_load_n(&c->hits, __ATOMIC_RELAXED);
        out->misses = __atomic_load_n(&c->misses, __ATOMIC_RELAXED);
        out->saves = __atomic_load_n(&c->saves, __ATOMIC_RELAXED);
    }
    if (c->stats) c->stats(c->data, out);
}

void wex__cache_set_stats(wex_cache_t *c, void (*stats)(void *data, wex_cache_stats_t *out)) {
    c->stats = stats;
}

void wex__cache_forget_engine(wex_cache_t *c, wex_engine_t *e) {
    if (c && c->ops.forget_engine) c->ops.forget_engine(c->data, e);
}

/* ------------------------------------------------------------ modules */

wex__modcache *wex__modcache_of(wex__module *m) {
    if (!m->cache) {
        m->cache = wex__calloc(1, sizeof *m->cache);
        if (m->cache) m->cache->refs = 1;
    }
    return m->cache;
}

wex_module_t *wex_module_retain(wex_module_t *m) {
    if (m) __atomic_add_fetch(&m->cache->refs, 1, __ATOMIC_RELAXED);
    return m;
}

/* -------------------------------------------------------- with_fallback */

typedef struct {
    wex_cache_t *primary, *secondary;
} chain_t;

/* A hit in the slower layer is saved into the faster one, so the next load
 * stops there. */
static wex_module_t *chain_load(void *d, const uint8_t *hash, wex_engine_t *e) {
    chain_t *ch = d;
    wex_module_t *m = wex_cache_load(ch->primary, hash, e);
    if (m) return m;
    m = wex_cache_load(ch->secondary, hash, e);
    if (m) wex_cache_save(ch->primary, hash, e, m);
    return m;
}

static void chain_save(void *d, const uint8_t *hash, wex_engine_t *e, wex_module_t *m) {
    chain_t *ch = d;
    wex_cache_save(ch->primary, hash, e, m);
    wex_cache_save(ch->secondary, hash, e, m);
}

static void chain_forget(void *d, wex_engine_t *e) {
    chain_t *ch = d;
    wex__cache_forget_engine(ch->primary, e);
    wex__cache_forget_engine(ch->secondary, e);
}

static void chain_destroy(void *d) {
    chain_t *ch = d;
    wex_cache_delete(ch->primary);
    wex_cache_delete(ch->secondary);
    wex__free(ch);
}

static void add_stats(wex_cache_stats_t *to, const wex_cache_stats_t *s) {
    to->hits += s->hits;
    to->misses += s->misses;
    to->saves += s->saves;
    to->evictions += s->evictions;
    to->entries += s->entries;
    to->bytes += s->bytes;
}

static void chain_stats(void *d, wex_cache_stats_t *out) {
    chain_t *ch = d;
    wex_cache_stats_t s;
    wex_cache_stats(ch->primary, &s);
    add_stats(out, &s);
    wex_cache_stats(ch->secondary, &s);
    add_stats(out, &s);
}

wex_cache_t *wex_cache_with_fallback(wex_cache_t *primary, wex_cache_t *secondary) {
    if (!primary || !secondary) {
        wex_cache_delete(primary);
        wex_cache_delete(secondary);
        return NULL;
    }
    chain_t *ch = wex__calloc(1, sizeof *ch);
    static const wex_cache_ops_t ops = {chain_load, chain_save, chain_forget, chain_destroy};
    wex_cache_t *c = ch ? wex_cache_new(&ops, ch) : NULL;
    if (!c) {
        wex__free(ch);
        wex_cache_delete(primary);
        wex_cache_delete(secondary);
        return NULL;
    }
    ch->primary = primary;
    ch->secondary = secondary;
    c->stats = chain_stats;
    c->chain = true;
    return c;
}

/* ------------------------------------------------------- thread-local */

/*
 * Each thread has one small table for every thread-local layer, keyed by
 * (layer serial, engine serial, hash): lookups touch only the calling
 * thread's memory, so they take no lock. Entries of a deleted engine or
 * layer cannot match again (serials are never reused); a thread drops them
 * on its next use after a retirement (wex__cache_retired_gen moved), and
 * everything at thread exit.
 */
typedef struct {
    uint64_t layer, engine, tick;
    uint8_t hash[WEX_CACHE_HASH_SIZE];
    wex_module_t *module;
} tl_entry;

typedef struct {
    tl_entry *e;
    uint32_t n, cap;
    uint64_t tick, seen_gen;
} tl_table;

typedef struct {
    uint64_t serial;
    uint32_t max_entries;
    uint64_t evictions; /* atomic */
} tl_layer;

static __thread tl_table *tl_current;
static pthread_key_t tl_key;
static pthread_once_t tl_once = PTHREAD_ONCE_INIT;

static void tl_drop(tl_table *t, uint32_t i) {
    wex_module_delete(t->e[i].module);
    t->e[i] = t->e[--t->n];
}

static void tl_thread_exit(void *p) {
    tl_table *t = p;
    while (t->n)
        tl_drop(t, t->n - 1);
    wex__free(t->e);
    wex__free(t);
    tl_current = NULL;
}

static void tl_make_key(void) {
    if (pthread_key_create(&tl_key, tl_thread_exit) != 0) tl_key = (pthread_key_t)-1;
}

/* The calling thread's table, made on first use; sweeps retired entries. */
static tl_table *tl_table_get(bool create) {
    tl_table *t = tl_current;
    if (!t && create) {
        pthread_once(&tl_once, tl_make_key);
        t = wex__calloc(1, sizeof *t);
        if (!t) return NULL;
        if (tl_key == (pthread_key_t)-1 || pthread_setspecific(tl_key, t) != 0) {
            wex__free(t);
            return NULL;
        }
        tl_current = t;
    }
    if (!t) return NULL;
    uint64_t gen = wex__cache_retired_gen();
    if (t->seen_gen != gen) {
        t->seen_gen = gen;
        for (uint32_t i = t->n; i-- > 0;)
            if (!wex__cache_serial_live(t->e[i].layer) || !wex__cache_serial_live(t->e[i].engine))
                tl_drop(t, i);
    }
    return t;
}

static wex_module_t *tl_load(void *d, const uint8_t *hash, wex_engine_t *e) {
    tl_layer *l = d;
    tl_table *t = tl_table_get(false);
    if (!t) return NULL;
    for (uint32_t i = 0; i < t->n; i++) {
        tl_entry *x = &t->e[i];
        if (x->layer == l->serial && x->engine == e->cache_serial &&
            !memcmp(x->hash, hash, WEX_CACHE_HASH_SIZE)) {
            if (wex__cache_is_bad(x->module)) { /* a later check failed: drop it */
                tl_drop(t, i);
                return NULL;
            }
            x->tick = ++t->tick;
            return wex_module_retain(x->module);
        }
    }
    return NULL;
}

static void tl_save(void *d, const uint8_t *hash, wex_engine_t *e, wex_module_t *m) {
    if (wex__cache_is_bad(m) || __atomic_load_n(&m->cache->resave, __ATOMIC_ACQUIRE)) return;
    tl_layer *l = d;
    tl_table *t = tl_table_get(true);
    if (!t) return;
    uint32_t mine = 0, oldest = UINT32_MAX;
    for (uint32_t i = 0; i < t->n; i++) {
        tl_entry *x = &t->e[i];
        if (x->layer != l->serial) continue;
        if (x->engine == e->cache_serial && !memcmp(x->hash, hash, WEX_CACHE_HASH_SIZE)) return;
        mine++;
        if (oldest == UINT32_MAX || x->tick < t->e[oldest].tick) oldest = i;
    }
    if (mine >= l->max_entries && oldest != UINT32_MAX) {
        tl_drop(t, oldest);
        __atomic_add_fetch(&l->evictions, 1, __ATOMIC_RELAXED);
    }
    if (t->n == t->cap) {
        uint32_t cap = t->cap ? t->cap * 2 : 8;
        tl_entry *ne = wex__realloc(t->e, cap * sizeof *ne);
        if (!ne) return;
        t->e = ne;
        t->cap = cap;
    }
    tl_entry *x = &t->e[t->n++];
    x->layer = l->serial;
    x->engine = e->cache_serial;
    x->tick = ++t->tick;
    memcpy(x->hash, hash, WEX_CACHE_HASH_SIZE);
    x->module = wex_module_retain(m);
}

/* Drop this thread's entries of the engine at once (others: on their next use). */
static void tl_forget(void *d, wex_engine_t *e) {
    tl_layer *l = d;
    tl_table *t = tl_current;
    for (uint32_t i = t ? t->n : 0; i-- > 0;)
        if (t->e[i].layer == l->serial && t->e[i].engine == e->cache_serial) tl_drop(t, i);
}

static void tl_destroy(void *d) {
    tl_layer *l = d;
    tl_table *t = tl_current;
    for (uint32_t i = t ? t->n : 0; i-- > 0;)
        if (t->e[i].layer == l->serial) tl_drop(t, i);
    wex__cache_serial_retire(l->serial);
    wex__free(l);
}

static void tl_stats(void *d, wex_cache_stats_t *out);

wex_cache_t *wex_cache_thread_local_new(uint32_t max_entries) {
    tl_layer *l = wex__calloc(1, sizeof *l);
    if (!l) return NULL;
    l->serial = wex__cache_serial_new();
    l->max_entries = max_entries ? max_entries : WEX__CACHE_TL_DEFAULT_ENTRIES;
    static const wex_cache_ops_t ops = {tl_load, tl_save, tl_forget, tl_destroy};
    wex_cache_t *c = wex_cache_new(&ops, l);
    if (!c) {
        wex__cache_serial_retire(l->serial);
        wex__free(l);
        return NULL;
    }
    c->stats = tl_stats;
    return c;
}

/* The counters live in the wex_cache_t; entries are the calling thread's. */
static void tl_stats(void *d, wex_cache_stats_t *out) {
    tl_layer *l = d;
    tl_table *t = tl_current;
    out->evictions = __atomic_load_n(&l->evictions, __ATOMIC_RELAXED);
    for (uint32_t i = 0; t && i < t->n; i++)
        if (t->e[i].layer == l->serial) {
            out->entries++;
            out->bytes += wex__cache_module_footprint(t->e[i].module);
        }
}

/* ------------------------------------------------------------- shared */

/*
 * The shared layer: a hash table of (engine serial, hash) -> module under a
 * mutex, with the entries on a least-recently-used list; the bytes the
 * modules hold are bounded. A hit is a lookup and a reference count
 * increment: the module is shared, never copied.
 */
typedef struct sh_entry {
    struct sh_entry *next_hash, *prev_lru, *next_lru;
    uint64_t engine, bytes;
    uint8_t hash[WEX_CACHE_HASH_SIZE];
    wex_module_t *module;
} sh_entry;

typedef struct {
    pthread_mutex_t lock;
    sh_entry **buckets;
    uint32_t nbuckets, n;
    sh_entry *lru_head, *lru_tail; /* head: most recently used */
    uint64_t bytes, max_bytes, evictions;
} sh_layer;

static uint32_t sh_bucket(const sh_layer *s, uint64_t engine, const uint8_t *hash) {
    uint64_t h;
    memcpy(&h, hash, 8); /* already uniformly distributed */
    return (uint32_t)((h ^ (engine * 0x9E3779B97F4A7C15ull)) & (s->nbuckets - 1));
}

static void lru_unlink(sh_layer *s, sh_entry *x) {
    if (x->prev_lru)
        x->prev_lru->next_lru = x->next_lru;
    else
        s->lru_head = x->next_lru;
    if (x->next_lru)
        x->next_lru->prev_lru = x->prev_lru;
    else
        s->lru_tail = x->prev_lru;
    x->prev_lru = x->next_lru = NULL;
}

static void lru_push(sh_layer *s, sh_entry *x) {
    x->prev_lru = NULL;
    x->next_lru = s->lru_head;
    if (s->lru_head) s->lru_head->prev_lru = x;
    s->lru_head = x;
    if (!s->lru_tail) s->lru_tail = x;
}

/* Unlink an entry; returns its module for release outside the lock. */
static wex_module_t *sh_remove(sh_layer *s, sh_entry *x) {
    sh_entry **pp = &s->buckets[sh_bucket(s, x->engine, x->hash)];
    while (*pp != x)
        pp = &(*pp)->next_hash;
    *pp = x->next_hash;
    lru_unlink(s, x);
    s->bytes -= x->bytes;
    s->n--;
    wex_module_t *m = x->module;
    wex__free(x);
    return m;
}

static wex_module_t *sh_load(void *d, const uint8_t *hash, wex_engine_t *e) {
    sh_layer *s = d;
    wex_module_t *m = NULL;
    pthread_mutex_lock(&s->lock);
    wex_module_t *bad = NULL;
    for (sh_entry *x = s->buckets[sh_bucket(s, e->cache_serial, hash)]; x; x = x->next_hash)
        if (x->engine == e->cache_serial && !memcmp(x->hash, hash, WEX_CACHE_HASH_SIZE)) {
            if (wex__cache_is_bad(x->module)) { /* a later check failed: drop it */
                bad = sh_remove(s, x);
                s->evictions++;
                break;
            }
            lru_unlink(s, x);
            lru_push(s, x);
            m = wex_module_retain(x->module);
            break;
        }
    pthread_mutex_unlock(&s->lock);
    wex_module_delete(bad); /* outside the lock: it may unmap */
    return m;
}

static void sh_grow(sh_layer *s) {
    uint32_t nb = s->nbuckets * 2;
    sh_entry **b = wex__calloc(nb, sizeof *b);
    if (!b) return;
    sh_entry **old = s->buckets;
    uint32_t on = s->nbuckets;
    s->buckets = b;
    s->nbuckets = nb;
    for (uint32_t i = 0; i < on; i++)
        for (sh_entry *x = old[i], *nx; x; x = nx) {
            nx = x->next_hash;
            uint32_t k = sh_bucket(s, x->engine, x->hash);
            x->next_hash = b[k];
            b[k] = x;
        }
    wex__free(old);
}

static void sh_save(void *d, const uint8_t *hash, wex_engine_t *e, wex_module_t *m) {
    if (wex__cache_is_bad(m) || __atomic_load_n(&m->cache->resave, __ATOMIC_ACQUIRE)) return;
    sh_layer *s = d;
    uint64_t bytes = wex__cache_module_footprint(m);
    if (bytes > s->max_bytes) return;
    sh_entry *nx = wex__calloc(1, sizeof *nx);
    if (!nx) return;
    nx->engine = e->cache_serial;
    nx->bytes = bytes;
    memcpy(nx->hash, hash, WEX_CACHE_HASH_SIZE);
    /* Modules to release once the lock is dropped (a release may unmap). */
    wex_module_t *victims[64];
    uint32_t nv = 0;
    pthread_mutex_lock(&s->lock);
    for (sh_entry *x = s->buckets[sh_bucket(s, nx->engine, hash)]; x; x = x->next_hash)
        if (x->engine == nx->engine && !memcmp(x->hash, hash, WEX_CACHE_HASH_SIZE)) {
            pthread_mutex_unlock(&s->lock);
            wex__free(nx);
            return;
        }
    while (s->bytes + bytes > s->max_bytes && s->lru_tail && nv < WEX__ARRAY_LEN(victims)) {
        victims[nv++] = sh_remove(s, s->lru_tail);
        s->evictions++;
    }
    if (s->bytes + bytes <= s->max_bytes) {
        if (s->n >= s->nbuckets) sh_grow(s);
        uint32_t k = sh_bucket(s, nx->engine, hash);
        nx->module = wex_module_retain(m);
        nx->next_hash = s->buckets[k];
        s->buckets[k] = nx;
        lru_push(s, nx);
        s->bytes += bytes;
        s->n++;
        nx = NULL;
    }
    pthread_mutex_unlock(&s->lock);
    wex__free(nx);
    for (uint32_t i = 0; i < nv; i++)
        wex_module_delete(victims[i]);
}

static void sh_forget(void *d, wex_engine_t *e) {
    sh_layer *s = d;
    for (;;) {
        wex_module_t *m = NULL;
        pthread_mutex_lock(&s->lock);
        for (sh_entry *x = s->lru_head; x; x = x->next_lru)
            if (x->engine == e->cache_serial) {
                m = sh_remove(s, x);
                break;
            }
        pthread_mutex_unlock(&s->lock);
        if (!m) return;
        wex_module_delete(m);
    }
}

static void sh_destroy(void *d) {
    sh_layer *s = d;
    while (s->lru_head)
        wex_module_delete(sh_remove(s, s->lru_head));
    wex__free(s->buckets);
    pthread_mutex_destroy(&s->lock);
    wex__free(s);
}

static void sh_stats(void *d, wex_cache_stats_t *out) {
    sh_layer *s = d;
    pthread_mutex_lock(&s->lock);
    out->entries = s->n;
    out->bytes = s->bytes;
    out->evictions = s->evictions;
    pthread_mutex_unlock(&s->lock);
}

wex_cache_t *wex_cache_shared_new(uint64_t max_bytes) {
    sh_layer *s = wex__calloc(1, sizeof *s);
    if (!s) return NULL;
    s->nbuckets = 64;
    s->buckets = wex__calloc(s->nbuckets, sizeof *s->buckets);
    s->max_bytes = max_bytes ? max_bytes : WEX__CACHE_SHARED_DEFAULT_BYTES;
    pthread_mutex_init(&s->lock, NULL);
    static const wex_cache_ops_t ops = {sh_load, sh_save, sh_forget, sh_destroy};
    wex_cache_t *c = s->buckets ? wex_cache_new(&ops, s) : NULL;
    if (!c) {
        sh_destroy(s);
        return NULL;
    }
    c->stats = sh_stats;
    return c;
}

/* ------------------------------------------------------------ default */

bool wex_cache_default_dir(char *buf, size_t len) {
    const char *x = getenv("XDG_CACHE_HOME");
    int n;
    if (x && x[0] == '/')
        n = snprintf(buf, len, "%s/wex", x);
    else {
        const char *home = getenv("HOME");
        if (!home || home[0] != '/') return false;
        n = snprintf(buf, len, "%s/.cache/wex", home);
    }
    return n > 0 && (size_t)n < len;
}

wex_cache_t *wex_cache_default_new(const char *dir) {
    char buf[4096];
    if (!dir && wex_cache_default_dir(buf, sizeof buf)) dir = buf;
    wex_cache_t *tail = wex_cache_shared_new(0);
    if (dir)
        tail = wex_cache_with_fallback(
            tail, wex_cache_fs_new(dir, 0, WEX__CACHE_FS_DEFAULT_MIN_BYTES, WEX_CACHE_VERIFY_FAST));
    return wex_cache_with_fallback(wex_cache_thread_local_new(0), tail);
}
