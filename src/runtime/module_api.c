/*
 * module_api.c - making a module: decode -> validate -> intern types ->
 * translate; and the public queries on modules.
 */
#include "cache/cache.h"
#include "decode/decode.h"
#include "interp/interp.h"
#include "native/native_internal.h"
#include "runtime/runtime.h"
#include "valid/valid.h"

static wex_error_t *build(wex_engine_t *engine, const uint8_t *bytes, size_t len, bool compile,
                          wex__module **out) {
    *out = NULL;
    if (len > UINT32_MAX) return wex__error_at(WEX_ERR_MALFORMED, -1, "module too large");
    wex__module *m = wex__calloc(1, sizeof *m);
    if (!m) return wex__error_nomem();
    m->engine = engine;
    m->bytes = wex__malloc(len);
    if (!m->bytes) {
        wex__free(m);
        return wex__error_nomem();
    }
    if (len) memcpy(m->bytes, bytes, len);
    m->len = len;
    wex_error_t *err = wex__decode(m);
    if (!err) err = wex__validate(m);
    if (!err && compile) {
        size_t nk = 0;
        for (uint32_t i = 0; i < m->ntypes; i++)
            nk += m->types[i].nparams + m->types[i].nresults;
        m->kinds = wex__calloc(nk, sizeof *m->kinds);
        if (!m->kinds) err = wex__error_nomem();
        nk = 0;
        for (uint32_t i = 0; i < m->ntypes && !err; i++) {
            wex__functype *t = &m->types[i];
            t->canon = wex__engine_intern(engine, t->nparams, t->nresults, t->types);
            if (t->canon == UINT32_MAX) err = wex__error_nomem();
            /* Types are stored as their binary bytes, which equal the kinds. */
            t->kinds = m->kinds + nk;
            for (uint32_t j = 0; j < t->nparams + t->nresults; j++)
                m->kinds[nk++] = (wex_valkind_t)t->types[j];
        }
        m->tier_entry = engine->config.tier != WEX_TIER_INTERP;
        m->epochs = engine->config.epochs;
        if (!err) err = wex__interp_compile(m);
        if (!err && engine->config.tier == WEX_TIER_NATIVE)
            err = wex__native_compile(m, m->bytes, m->len);
        if (!err && engine->config.tier == WEX_TIER_AUTO) err = wex__native_new(m, &m->native);
        /* The memory image, for the strategies that start memory from it. */
        if (!err && engine->strategy != WEX_INSTANTIATION_RECREATE)
            wex__image_build(m, !(engine->config.simulate & WEX_SIMULATE_NO_MEMFD));
        else if (!err)
            m->image.no_image = "the recreate strategy copies the data segments";
        /* The cache's record: the reference count layers share it by. */
        if (!err && !wex__modcache_of(m)) err = wex__error_nomem();
    }
    if (err) {
        wex__cache_module_free(m);
        return err;
    }
    m->owner = engine;
    wex__engine_ref(engine);
    *out = m;
    return NULL;
}

/* With a cache, the module's SHA-256 is looked up first; a miss compiles
 * and saves into every layer. */
wex_error_t *wex_module_new(wex_engine_t *engine, const uint8_t *bytes, size_t len,
                            wex_module_t **out) {
    if (!engine->cache) return build(engine, bytes, len, true, out);
    uint8_t hash[WEX_CACHE_HASH_SIZE];
    wex__sha256(bytes, len, hash);
    *out = wex_cache_load(engine->cache, hash, engine);
    if (*out) {
        /* An entry with native code for some functions only (made by the
         * automatic tier, or damaged): the native tier compiles the rest
         * and writes the entry again; the automatic tier keeps the bytes
         * to compile from when functions get hot. */
        wex__module *m = *out;
        if (m->native && wex__native_count(m->native) < m->native->nfuncs) {
            if (engine->config.tier == WEX_TIER_AUTO) {
                wex__tier_source(m, bytes, len);
            } else if (engine->config.tier == WEX_TIER_NATIVE) {
                wex_error_t *err = wex__native_compile(m, bytes, len);
                if (err) {
                    wex_module_delete(m);
                    *out = NULL;
                    return err;
                }
                wex__cache_resave(m);
            }
        }
        return NULL;
    }
    wex_error_t *err = build(engine, bytes, len, true, out);
    if (err) return err;
    (*out)->cache->has_hash = true;
    memcpy((*out)->cache->hash, hash, WEX_CACHE_HASH_SIZE);
    wex_cache_save(engine->cache, hash, engine, *out);
    return NULL;
}

wex_error_t *wex_module_validate(wex_engine_t *engine, const uint8_t *bytes, size_t len) {
    wex__module *m;
    wex_error_t *err = build(engine, bytes, len, false, &m);
    if (!err) wex__cache_module_free(m);
    return err;
}

/* Modules are reference counted (caches hold references): the last
 * release frees it. */
void wex_module_delete(wex_module_t *m) {
    if (!m) return;
    if (m->cache && __atomic_sub_fetch(&m->cache->refs, 1, __ATOMIC_ACQ_REL) != 0) return;
    wex__cache_module_free(m);
}

size_t wex_module_import_count(const wex_module_t *m) {
    return m->nimports;
}

void wex_module_import(const wex_module_t *m, size_t i, wex_importdesc_t *out) {
    const wex__import *im = &m->imports[i];
    memset(out, 0, sizeof *out);
    out->module = im->module;
    out->module_len = im->module_len;
    out->name = im->name;
    out->name_len = im->name_len;
    out->kind = (wex_externkind_t)im->kind;
    switch (im->kind) {
    case WEX__EXT_FUNC: {
        const wex__functype *t = &m->types[im->u.type];
        out->functype = (wex_functype_t){t->nparams, t->nresults, t->kinds, t->kinds + t->nparams};
        break;
    }
    case WEX__EXT_TABLE:
        out->valkind = (wex_valkind_t)im->u.table.elem;
        out->limits = (wex_limits_t){im->u.table.lim.min, im->u.table.lim.max,
                                     im->u.table.lim.has_max, false};
        break;
    case WEX__EXT_MEM:
        out->limits = (wex_limits_t){im->u.mem.lim.min, im->u.mem.lim.max, im->u.mem.lim.has_max,
                                     im->u.mem.lim.shared};
        break;
    case WEX__EXT_GLOBAL:
        out->valkind = (wex_valkind_t)im->u.global.type;
        out->mutable_ = im->u.global.mut;
        break;
    }
}

size_t wex_module_export_count(const wex_module_t *m) {
    return m->nexports;
}

void wex_module_export(const wex_module_t *m, size_t i, wex_exportdesc_t *out) {
    const wex__export *ex = &m->exports[i];
    out->name = ex->name;
    out->name_len = ex->name_len;
    out->kind = (wex_externkind_t)ex->kind;
    out->index = ex->index;
}

const char *wex_module_func_name(const wex_module_t *m, uint32_t index) {
    if (!m->func_names || index >= m->nfuncs) return NULL;
    return m->func_names[index];
}
