/*
 * fs.c - the filesystem layer of the module cache, and the maintenance
 * behind `wex cache stats|clean`.
 *
 * Layout: DIR/ENGINE-ID/HASH.cwasm, one artifact per module; ENGINE-ID is 32
 * hex digits, HASH the module's SHA-256 in 64. An entry is written to a
 * temporary file in the same directory (.tmp-PID-N) and renamed into place,
 * so that a reader opens the old entry, no entry, or the whole new one, and
 * two writers of the same entry both write whole files (the last rename
 * wins; both are equal). A reader maps the file, so an entry unlinked after
 * it was opened (by eviction or a concurrent clean) stays readable to it.
 *
 * The bound: after each save the layer adds up its directory and removes
 * the least recently used entries (oldest modification time; a hit
 * refreshes it, at most once a minute) until the total fits. Damaged or
 * foreign entries found by a load are deleted; a leftover temporary file of
 * a crashed writer is deleted by the next eviction pass after an hour.
 */
#include "cache/cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    char *dir;
    uint64_t max_bytes, min_module_bytes;
    wex_cache_verify_t verify;
    uint64_t evictions; /* atomic */
} fs_layer;

static void hexify(const uint8_t *p, size_t n, char *out) {
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", p[i]);
}

static bool entry_path(const fs_layer *l, const wex_engine_t *e, const uint8_t *hash, char *buf,
                       size_t len) {
    char h[2 * WEX_CACHE_HASH_SIZE + 1];
    hexify(hash, WEX_CACHE_HASH_SIZE, h);
    int n = snprintf(buf, len, "%s/%s/%s.cwasm", l->dir, e->cache_id_hex, h);
    return n > 0 && (size_t)n < len;
}

/* Delete path only if it is still the file we found bad (not a good entry
 * a concurrent writer has renamed over it since). */
void wex__cache_unlink_if_same(const char *path, uint64_t dev, uint64_t ino) {
    struct stat now;
    if (stat(path, &now) == 0 && (uint64_t)now.st_ino == ino && (uint64_t)now.st_dev == dev)
        unlink(path);
}

static wex_module_t *fs_load(void *d, const uint8_t *hash, wex_engine_t *e) {
    fs_layer *l = d;
    char path[4096];
    if (!entry_path(l, e, hash, path, sizeof path)) return NULL;
    /* Anything but a regular file is a miss: O_NONBLOCK so that opening a
     * FIFO put in an entry's place does not wait for a writer (for ever),
     * O_NOFOLLOW so that no symlink leads the loader elsewhere. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return NULL;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return NULL;
    }
    if (time(NULL) - st.st_mtime >= WEX__CACHE_FS_TOUCH_SECONDS) futimens(fd, NULL);
    wex__module *m;
    wex_error_t *err = wex__artifact_load_fd(e, fd, hash, l->verify, &m);
    if (err) {
        if (wex_error_code(err) == WEX__CACHE_ERR_BAD)
            wex__cache_unlink_if_same(path, (uint64_t)st.st_dev, (uint64_t)st.st_ino);
        wex_error_delete(err);
        return NULL;
    }
    /* Checks made later (a function's code on its first call) delete the
     * entry through this if they fail. */
    size_t plen = strlen(path) + 1;
    m->cache->path = wex__malloc(plen); /* NULL on OOM: then nothing to delete */
    if (m->cache->path) memcpy(m->cache->path, path, plen);
    m->cache->dev = (uint64_t)st.st_dev;
    m->cache->ino = (uint64_t)st.st_ino;
    return m;
}

/* mkdir -p for the cache directory and the engine's subdirectory. */
static bool make_dirs(char *path) {
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        bool ok = mkdir(path, 0755) == 0 || errno == EEXIST;
        *p = '/';
        if (!ok) return false;
    }
    return mkdir(path, 0755) == 0 || errno == EEXIST;
}

typedef struct {
    char *path;
    uint64_t size;
    struct timespec mtime;
} fs_item;

static int item_cmp(const void *a, const void *b) {
    const fs_item *x = a, *y = b;
    if (x->mtime.tv_sec != y->mtime.tv_sec) return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
    if (x->mtime.tv_nsec != y->mtime.tv_nsec) return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
    return 0;
}

static bool is_engine_dir(const char *name) {
    size_t n = strlen(name);
    if (n != 2 * WEX__ENGINE_ID_SIZE) return false;
    for (size_t i = 0; i < n; i++)
        if (!strchr("0123456789abcdef", name[i])) return false;
    return true;
}

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

/* Every cache file under dir (entries, and temporary files when tmp is
 * set): only names wex makes, in subdirectories named like engine ids, so
 * that a wrong --cache-dir never deletes anything else. */
static bool scan(const char *dir, bool tmp, fs_item **items, size_t *n, uint64_t *total) {
    *items = NULL;
    *n = 0;
    *total = 0;
    size_t cap = 0;
    DIR *top = opendir(dir);
    if (!top) return errno == ENOENT;
    struct dirent *de;
    while ((de = readdir(top))) {
        if (!is_engine_dir(de->d_name)) continue;
        char sub[4096];
        if (snprintf(sub, sizeof sub, "%s/%s", dir, de->d_name) >= (int)sizeof sub) continue;
        DIR *d = opendir(sub);
        if (!d) continue;
        struct dirent *fe;
        while ((fe = readdir(d))) {
            bool entry = ends_with(fe->d_name, ".cwasm") && fe->d_name[0] != '.';
            bool t = !strncmp(fe->d_name, ".tmp-", 5);
            if (!entry && !(tmp && t)) continue;
            char path[4096];
            struct stat st;
            if (snprintf(path, sizeof path, "%s/%s", sub, fe->d_name) >= (int)sizeof path ||
                lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
                continue;
            if (*n == cap) {
                cap = cap ? cap * 2 : 64;
                fs_item *ni = wex__realloc(*items, cap * sizeof *ni);
                if (!ni) break;
                *items = ni;
            }
            char *p = wex__strndup(path, strlen(path));
            if (!p) break;
            (*items)[(*n)++] = (fs_item){p, (uint64_t)st.st_size, st.st_mtim};
            if (entry) *total += (uint64_t)st.st_size;
        }
        closedir(d);
    }
    closedir(top);
    return true;
}

static void free_items(fs_item *items, size_t n) {
    for (size_t i = 0; i < n; i++)
        wex__free(items[i].path);
    wex__free(items);
}

/* Remove the least recently used entries until the directory fits. */
static void fs_evict(fs_layer *l) {
    fs_item *items;
    size_t n;
    uint64_t total;
    if (!scan(l->dir, true, &items, &n, &total)) return;
    time_t now = time(NULL);
    qsort(items, n, sizeof *items, item_cmp);
    for (size_t i = 0; i < n; i++) {
        const char *base = strrchr(items[i].path, '/') + 1;
        if (!strncmp(base, ".tmp-", 5)) {
            if (now - items[i].mtime.tv_sec > WEX__CACHE_FS_STALE_TMP_SECONDS)
                unlink(items[i].path);
            continue;
        }
        if (total <= l->max_bytes) continue;
        if (unlink(items[i].path) == 0) __atomic_add_fetch(&l->evictions, 1, __ATOMIC_RELAXED);
        total -= items[i].size; /* gone either way: we or a concurrent evictor */
    }
    free_items(items, n);
}

static void fs_save(void *d, const uint8_t *hash, wex_engine_t *e, wex_module_t *m) {
    fs_layer *l = d;
    if (!wex__cache_is_mapped(m) && m->len < l->min_module_bytes) return;
    char path[4096], tmp[4200];
    if (!entry_path(l, e, hash, path, sizeof path)) return;
    if (!__atomic_load_n(&m->cache->resave, __ATOMIC_ACQUIRE) && access(path, F_OK) == 0) return;
    char *slash = strrchr(path, '/');
    *slash = 0;
    bool ok = make_dirs(path);
    static uint32_t counter;
    snprintf(tmp, sizeof tmp, "%s/.tmp-%ld-%u", path, (long)getpid(),
             __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED));
    *slash = '/';
    if (!ok) return;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return;
    wex_error_t *err = wex__artifact_write_fd(m, fd);
    if (close(fd) != 0 && !err) err = wex__error_at(WEX_ERR_IO, -1, "close failed");
    if (err || rename(tmp, path) != 0) {
        unlink(tmp);
        wex_error_delete(err);
        return;
    }
    fs_evict(l);
}

static void fs_destroy(void *d) {
    fs_layer *l = d;
    wex__free(l->dir);
    wex__free(l);
}

static void fs_stats(void *d, wex_cache_stats_t *out) {
    fs_layer *l = d;
    wex_cache_stats_t s;
    if (!wex_cache_dir_stats(l->dir, &s)) {
        out->entries = s.entries;
        out->bytes = s.bytes;
    }
    out->evictions = __atomic_load_n(&l->evictions, __ATOMIC_RELAXED);
}

wex_cache_t *wex_cache_fs_new(const char *dir, uint64_t max_bytes, uint64_t min_module_bytes,
                              wex_cache_verify_t verify) {
    if (!dir || !*dir) return NULL;
    fs_layer *l = wex__calloc(1, sizeof *l);
    if (!l) return NULL;
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    l->dir = wex__strndup(dir, n);
    l->max_bytes = max_bytes ? max_bytes : WEX__CACHE_FS_DEFAULT_BYTES;
    l->min_module_bytes = min_module_bytes;
    l->verify = verify;
    static const wex_cache_ops_t ops = {fs_load, fs_save, NULL, fs_destroy};
    wex_cache_t *c = l->dir ? wex_cache_new(&ops, l) : NULL;
    if (!c) {
        fs_destroy(l);
        return NULL;
    }
    wex__cache_set_stats(c, fs_stats);
    return c;
}

wex_error_t *wex_cache_dir_stats(const char *dir, wex_cache_stats_t *out) {
    memset(out, 0, sizeof *out);
    fs_item *items;
    size_t n;
    uint64_t total;
    if (!scan(dir, false, &items, &n, &total))
        return wex__error_at(WEX_ERR_IO, -1, "cannot read `%s`: %s", dir, strerror(errno));
    out->entries = n;
    out->bytes = total;
    free_items(items, n);
    return NULL;
}

wex_error_t *wex_cache_dir_clean(const char *dir, uint64_t *removed) {
    fs_item *items;
    size_t n;
    uint64_t total;
    if (removed) *removed = 0;
    if (!scan(dir, true, &items, &n, &total))
        return wex__error_at(WEX_ERR_IO, -1, "cannot read `%s`: %s", dir, strerror(errno));
    for (size_t i = 0; i < n; i++) {
        if (unlink(items[i].path) == 0 && removed) (*removed)++;
        char *slash = strrchr(items[i].path, '/');
        *slash = 0;
        rmdir(items[i].path); /* the engine's directory, once empty */
    }
    free_items(items, n);
    return NULL;
}
