/*
 * wex_cache.h - the compiled-module cache.
 *
 * Compiling a module (decode, validate, translate) costs far more than
 * running a short request with it, so an engine keeps compiled modules in a
 * cache keyed by
 *   - the module hash: SHA-256 of the module's bytes, and
 *   - the engine id: derived from the wex version, the artifact format, the
 *     target, the internal code format and every engine setting that changes
 *     compiled code. Two engines whose code would differ never share an entry.
 *
 * A cache is a chain of layers, each a table of functions:
 *   load(hash, engine)          a module (a new reference) or NULL (a miss)
 *   save(hash, engine, module)  remember it (failures are silent: a cache)
 * wex_cache_with_fallback(primary, secondary) chains two layers: a miss in
 * the primary asks the secondary, and a hit there is saved into the primary.
 *
 * Built-in layers:
 *   thread-local  per thread, no locks, a few entries;
 *   shared        per process, thread-safe, bounded in bytes (LRU); hands out
 *                 references to the same module, never copies;
 *   filesystem    a directory, one subdirectory per engine id, one artifact
 *                 file per module, written to a temporary file and renamed
 *                 (no reader ever sees a partial entry), bounded in bytes
 *                 (LRU by modification time, refreshed on hits); a corrupt,
 *                 truncated or foreign entry is deleted and counts as a miss.
 * The default cache of an engine is thread-local -> shared -> filesystem at
 * $XDG_CACHE_HOME/wex (else ~/.cache/wex); wex_module_new consults it.
 *
 * Artifacts (wex_module_serialize / wex_module_deserialize_file, in wex.h)
 * are loaded with mmap: the code runs in place from the mapping, data
 * segments and the memory image are read from it. Loading one runs code that
 * is not validated again, so a file from elsewhere must be trusted: the CLI
 * asks for --allow-precompiled. By default (WEX_CACHE_VERIFY_FAST) a load
 * checks the header, the sizes and a checksum of the metadata (O(metadata),
 * not O(module size)); the rest is checked lazily, each part once, when it
 * is first used: a function's code on its first call (a damaged function is
 * translated again from the body the artifact keeps), data segments and the
 * memory image at the module's first instantiation (a damaged image is
 * replaced by copying the segments), the backtrace table at the first trap.
 * A damaged entry therefore never runs damaged code; a check that fails
 * deletes the entry (and in-memory layers drop it), so the next load
 * compiles again. WEX_CACHE_VERIFY_FULL checks every byte at load instead.
 */
#ifndef WEX_CACHE_H
#define WEX_CACHE_H

#include "wex.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WEX_CACHE_HASH_SIZE 32

typedef struct wex_cache wex_cache_t;

/* What a layer can do; load and save are required, the rest may be NULL. */
typedef struct wex_cache_ops {
    wex_module_t *(*load)(void *data, const uint8_t hash[WEX_CACHE_HASH_SIZE],
                          wex_engine_t *engine);
    void (*save)(void *data, const uint8_t hash[WEX_CACHE_HASH_SIZE], wex_engine_t *engine,
                 wex_module_t *module);
    /* The engine is being deleted: drop what refers to it. */
    void (*forget_engine)(void *data, wex_engine_t *engine);
    void (*destroy)(void *data);
} wex_cache_ops_t;

/* Counters of one layer (a chain adds its layers' counters up). */
typedef struct wex_cache_stats {
    uint64_t hits, misses, saves, evictions;
    uint64_t entries, bytes; /* held now (filesystem: of every engine id) */
} wex_cache_stats_t;

/* How much of an artifact a load checks. */
typedef enum {
    WEX_CACHE_VERIFY_FAST = 0, /* header, sizes, metadata at load; the rest on first use */
    WEX_CACHE_VERIFY_FULL = 1, /* every section's checksum at load (reads every byte) */
} wex_cache_verify_t;

/* A layer made of the embedder's functions. data is passed to them. */
wex_cache_t *wex_cache_new(const wex_cache_ops_t *ops, void *data);
/* Thread-local layer: at most max_entries modules per thread (0: default). */
wex_cache_t *wex_cache_thread_local_new(uint32_t max_entries);
/* Shared in-process layer holding at most max_bytes (0: default). */
wex_cache_t *wex_cache_shared_new(uint64_t max_bytes);
/* Filesystem layer in dir (created on the first save). max_bytes 0: default.
 * Modules smaller than min_module_bytes are not saved (compiling them costs
 * little; the default chain uses 16 KiB); pass 0 to cache all. */
wex_cache_t *wex_cache_fs_new(const char *dir, uint64_t max_bytes, uint64_t min_module_bytes,
                              wex_cache_verify_t verify);
/* The chain primary -> secondary. Takes both references. */
wex_cache_t *wex_cache_with_fallback(wex_cache_t *primary, wex_cache_t *secondary);
/* The default chain: thread-local -> shared -> filesystem in dir (NULL: the
 * default directory; no filesystem layer if there is none). */
wex_cache_t *wex_cache_default_new(const char *dir);
/* The default directory: $XDG_CACHE_HOME/wex, else $HOME/.cache/wex. Returns
 * false if neither is set. */
bool wex_cache_default_dir(char *buf, size_t len);

wex_cache_t *wex_cache_retain(wex_cache_t *cache);
void wex_cache_delete(wex_cache_t *cache); /* drops one reference */

/* Use a layer directly (wex_module_new does this for the engine's cache). */
wex_module_t *wex_cache_load(wex_cache_t *cache, const uint8_t hash[WEX_CACHE_HASH_SIZE],
                             wex_engine_t *engine);
void wex_cache_save(wex_cache_t *cache, const uint8_t hash[WEX_CACHE_HASH_SIZE],
                    wex_engine_t *engine, wex_module_t *module);
void wex_cache_stats(wex_cache_t *cache, wex_cache_stats_t *out);

/* Filesystem maintenance (`wex cache stats|clean`): totals over every engine
 * id in dir; clean removes every entry. */
wex_error_t *wex_cache_dir_stats(const char *dir, wex_cache_stats_t *out);
wex_error_t *wex_cache_dir_clean(const char *dir, uint64_t *removed);

/* The engine's cache: by default the default chain. The config keeps its own
 * reference; NULL turns caching off. */
void wex_config_set_cache(wex_config_t *config, wex_cache_t *cache);
/* The cache the engine uses (NULL if none); borrowed. */
wex_cache_t *wex_engine_cache(const wex_engine_t *engine);
/* The engine id as 32 hex digits (lives as long as the engine). */
const char *wex_engine_id(const wex_engine_t *engine);

/* SHA-256 of the module's bytes: the cache key. */
void wex_module_hash(const uint8_t *bytes, size_t len, uint8_t out[WEX_CACHE_HASH_SIZE]);
/* Another reference to the same module; each is released by wex_module_delete. */
wex_module_t *wex_module_retain(wex_module_t *module);
/* Load an artifact checking as much as verify says; expected_hash may be NULL. */
wex_error_t *wex_module_deserialize_file_ex(wex_engine_t *engine, const char *path,
                                            const uint8_t *expected_hash, wex_cache_verify_t verify,
                                            wex_module_t **out);

#ifdef __cplusplus
}
#endif
#endif /* WEX_CACHE_H */
