/*
 * cache.h - the compiled-module cache's internals: the per-module cache
 * record (reference count, hash, the mapping of a loaded artifact), the
 * artifact writer and loader (artifact.c), the layers (layers.c, fs.c) and
 * the engine id (engine_id.c).
 */
#ifndef WEX_CACHE_INTERNAL_H
#define WEX_CACHE_INTERNAL_H

#include "base/base.h"
#include "module/module.h"
#include "runtime/runtime.h"
#include "wex_cache.h"

/* Knobs, in one place, each with its reason. */
/* Version of the artifact file layout: bump on any change to artifact.c's
 * format; part of the engine id, and checked in each file's header. */
#define WEX__ARTIFACT_VERSION 4u /* 3: lazy per-function checks; 4: native code */
/* The shared layer's default bound: room for a few large modules. */
#define WEX__CACHE_SHARED_DEFAULT_BYTES ((uint64_t)1 << 30)
/* The thread-local layer's default size: a thread runs few modules at once;
 * a linear scan over this many entries is faster than hashing. */
#define WEX__CACHE_TL_DEFAULT_ENTRIES 16u
/* The filesystem layer's default bound. */
#define WEX__CACHE_FS_DEFAULT_BYTES ((uint64_t)4 << 30)
/* The default chain writes no smaller module to disk: such a module
 * compiles in tens of microseconds (a 144 KB one in about 0.6 ms, against
 * 9 us to load), so the disk would save little, and the many tiny modules of
 * tests and spec suites stay off it. */
#define WEX__CACHE_FS_DEFAULT_MIN_BYTES ((uint64_t)16 << 10)
/* Hits refresh an entry's modification time (the LRU clock) at most this
 * often, so that hot entries cost no metadata write per load. */
#define WEX__CACHE_FS_TOUCH_SECONDS 60
/* Temporary files older than this are a crashed writer's: eviction removes them. */
#define WEX__CACHE_FS_STALE_TMP_SECONDS 3600

/* The cache's record of one module (wex__module.cache). */
typedef struct wex__modcache {
    uint32_t refs; /* atomic */
    bool has_hash;
    uint8_t hash[WEX_CACHE_HASH_SIZE];
    /* A module loaded from an artifact: everything below points into map. */
    uint8_t *map;
    size_t map_len;
    /* Checks made after load (artifact.c's top). */
    uint32_t bad;          /* atomic: a check failed; the layers drop the module */
    uint32_t data_checked; /* atomic: BYTES and IMAGE were checked */
    uint32_t resave;       /* atomic: a save that brings native code the automatic tier made
                            * (native_tier.c): the filesystem layer replaces its entry, the
                            * memory layers (which hold this very module) do nothing */
    uint64_t bytes_sum, image_sum;
    /* The filesystem entry it was loaded from (fs.c), deleted when a check
     * fails; NULL for a file the embedder named. */
    char *path;
    uint64_t dev, ino;
} wex__modcache;

/* Write m's filesystem entries again (the memory layers hold m itself):
 * it gained native code since it was saved. */
void wex__cache_resave(wex__module *m);
/* A check of a loaded module failed: mark it bad (the in-memory layers drop
 * it on their next lookup) and delete its filesystem entry, if any. */
void wex__cache_evict(wex__module *m);
/* True if m was found damaged (a layer must not hand it out again). */
static inline bool wex__cache_is_bad(const wex__module *m) {
    return m->cache && __atomic_load_n(&m->cache->bad, __ATOMIC_ACQUIRE);
}
/* Before m's first instantiation: check its data segments and memory image
 * (once per module; later calls cost one atomic load). NULL if they are
 * intact or m is not an artifact; an image that failed while the data is
 * intact is dropped (memory is then initialised from the segments). */
wex_error_t *wex__cache_first_instance(wex__module *m);
/* Delete path if it is still the file (dev, ino) (fs.c). */
void wex__cache_unlink_if_same(const char *path, uint64_t dev, uint64_t ino);

/* The cache record of a module, made on first use (NULL on OOM). */
wex__modcache *wex__modcache_of(wex__module *m);
/* Release a module built by cache code or runtime (refcount already at 0). */
void wex__cache_module_free(wex__module *m);
/* True for a module that lives in an artifact's mapping. */
static inline bool wex__cache_is_mapped(const wex__module *m) {
    return m->cache && m->cache->map;
}
/* Bytes a module holds, for the shared layer's bound. */
uint64_t wex__cache_module_footprint(const wex__module *m);

/* SHA-256 (libcrypto). */
void wex__sha256(const void *p, size_t n, uint8_t out[32]);
/* A fast 64-bit checksum (not cryptographic): detects damaged files. */
uint64_t wex__checksum64(const void *p, size_t n, uint64_t seed);

/* Engine ids (engine_id.c). */
#define WEX__ENGINE_ID_SIZE 16
/* Fill id from the engine's settings; also the description it hashes. */
void wex__engine_id_compute(wex_bounds_t bounds, bool epochs, const char *native,
                            uint8_t id[WEX__ENGINE_ID_SIZE], char *hex, size_t hexlen);
/* A process-unique serial per engine / layer, and whether it is still live:
 * in-memory layers key on it so that a freed engine's entries never match a
 * new one at the same address. */
uint64_t wex__cache_serial_new(void);
void wex__cache_serial_retire(uint64_t serial);
bool wex__cache_serial_live(uint64_t serial);
/* Bumped whenever a serial is retired: threads sweep their tables when it moved. */
uint64_t wex__cache_retired_gen(void);

/* Artifacts (artifact.c). */
wex_error_t *wex__artifact_write_fd(const wex__module *m, int fd);
/* Load from an open descriptor (kept if the module needs it, else closed:
 * either way the caller must not close it). */
wex_error_t *wex__artifact_load_fd(wex_engine_t *e, int fd, const uint8_t *expected_hash,
                                   wex_cache_verify_t verify, wex__module **out);
/* Errors that mean "this file is damaged or foreign" (delete it) carry this code. */
#define WEX__CACHE_ERR_BAD WEX_ERR_MALFORMED

/* A layer's own figures, added to its counters by wex_cache_stats. */
void wex__cache_set_stats(wex_cache_t *c, void (*stats)(void *data, wex_cache_stats_t *out));

/* Engine side (engine.c calls these): the serial, the id and the cache of a
 * new engine (from its config: the default chain unless one was set, or
 * none when $WEX_CACHE is "off"); and dropping them. */
void wex__cache_engine_init(wex_engine_t *e);
void wex__cache_engine_fini(wex_engine_t *e);
void wex__cache_forget_engine(wex_cache_t *c, wex_engine_t *e);

#endif
