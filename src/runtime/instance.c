/*
 * instance.c - instantiation (spec 4.5.4): check imports, allocate functions,
 * tables, memories and globals, evaluate constant expressions, apply the
 * active segments, run the start function; and export lookup.
 */
#include "cache/cache.h"
#include "interp/interp.h"
#include "native/native_internal.h"
#include "runtime/runtime.h"

/* Free an instance array unless it lives in the slot's arena (pooling). */
static void free_array(wex__allocator *a, void *p) {
    if (p && !a->in_arena(a, p)) wex__free(p);
}

/* Per-instance storage freed with the instance object. */
void wex__instance_free(wex_instance_t *inst) {
    const wex__module *m = inst->module;
    wex__allocator *a = inst->store->engine->alloc;
    if (inst->elems) {
        for (uint32_t i = 0; i < m->nelems; i++)
            free_array(a, inst->elems[i].refs);
        free_array(a, inst->elems);
    }
    free_array(a, inst->funcs);
    free_array(a, inst->tables);
    free_array(a, inst->mems);
    free_array(a, inst->globals);
    free_array(a, inst->data_dropped);
}

/*
 * Evaluate a constant expression. In 2.0 it is one instruction then `end`;
 * the extended-const operators (add, sub, mul) are accepted too, on a small
 * stack, so the evaluator needs no change when that proposal is enabled.
 */
static bool eval_const(wex_instance_t *inst, wex__constexpr ce, uint64_t *out) {
    const wex__module *m = inst->module;
    wex__reader r;
    wex__reader_init(&r, m->bytes + ce.off, ce.len, m->bytes);
    uint64_t st[16];
    unsigned n = 0;
    for (;;) {
        uint8_t op;
        if (!wex__read_u8(&r, &op)) return false;
        if (op == 0x0B) break;
        if (n == 16 && op != 0x6A && op != 0x6B && op != 0x6C && op != 0x7C && op != 0x7D &&
            op != 0x7E)
            return false;
        switch (op) {
        case 0x41: {
            int32_t v;
            if (!wex__read_s32(&r, &v)) return false;
            st[n++] = (uint32_t)v;
            break;
        }
        case 0x42: {
            int64_t v;
            if (!wex__read_s64(&r, &v)) return false;
            st[n++] = (uint64_t)v;
            break;
        }
        case 0x43: {
            uint32_t v;
            if (!wex__read_f32(&r, &v)) return false;
            st[n++] = v;
            break;
        }
        case 0x44: {
            uint64_t v;
            if (!wex__read_f64(&r, &v)) return false;
            st[n++] = v;
            break;
        }
        case 0x23: {
            uint32_t g;
            if (!wex__read_u32(&r, &g) || g >= m->nglobals || !inst->globals[g]) return false;
            st[n++] = inst->globals[g]->val;
            break;
        }
        case 0xD0: {
            uint8_t t;
            if (!wex__read_u8(&r, &t)) return false;
            st[n++] = 0;
            break;
        }
        case 0xD2: {
            uint32_t f;
            if (!wex__read_u32(&r, &f) || f >= m->nfuncs) return false;
            st[n++] = (uint64_t)(uintptr_t)inst->funcs[f];
            break;
        }
        case 0x6A:
        case 0x6B:
        case 0x6C:
        case 0x7C:
        case 0x7D:
        case 0x7E: {
            if (n < 2) return false;
            uint64_t b = st[--n], a = st[n - 1];
            uint64_t v;
            switch (op) {
            case 0x6A: v = (uint32_t)(a + b); break;
            case 0x6B: v = (uint32_t)(a - b); break;
            case 0x6C: v = (uint32_t)((uint32_t)a * (uint32_t)b); break;
            case 0x7C: v = a + b; break;
            case 0x7D: v = a - b; break;
            default: v = a * b; break;
            }
            st[n - 1] = v;
            break;
        }
        default: return false;
        }
    }
    if (n != 1) return false;
    *out = st[0];
    return true;
}

static bool limits_match(const wex__limits *have, const wex__limits *want) {
    if (have->min < want->min) return false;
    if (want->has_max) {
        if (!have->has_max || have->max > want->max) return false;
    }
    return true;
}

static wex_error_t *link_error(const wex__import *im, const char *why) {
    return wex__error_at(WEX_ERR_UNLINKABLE, -1, "%s: import %s::%s", why, im->module, im->name);
}

/* Check import i against the provided extern (spec: external typing and
 * import subtyping). */
static wex_error_t *check_import(const wex__module *m, const wex__import *im,
                                 const wex_extern_t *ex) {
    if ((int)ex->kind != im->kind) return link_error(im, "incompatible import type");
    switch (im->kind) {
    case WEX__EXT_FUNC: {
        if (!ex->of.func) return link_error(im, "incompatible import type");
        const wex__functype *want = &m->types[im->u.type];
        if (ex->of.func->canon != want->canon) return link_error(im, "incompatible import type");
        break;
    }
    case WEX__EXT_TABLE: {
        const wex_table_t *t = ex->of.table;
        if (!t || t->elem != im->u.table.elem) return link_error(im, "incompatible import type");
        wex__limits have = {t->size, t->lim.max, t->lim.has_max, false};
        if (!limits_match(&have, &im->u.table.lim))
            return link_error(im, "incompatible import type");
        break;
    }
    case WEX__EXT_MEM: {
        const wex_memory_t *mem = ex->of.memory;
        if (!mem) return link_error(im, "incompatible import type");
        wex__limits have = mem->lim;
        have.min = __atomic_load_n(&mem->lim.min, __ATOMIC_ACQUIRE); /* shared: may grow */
        if (!limits_match(&have, &im->u.mem.lim) || have.shared != im->u.mem.lim.shared)
            return link_error(im, "incompatible import type");
        break;
    }
    case WEX__EXT_GLOBAL: {
        const wex_global_t *g = ex->of.global;
        if (!g || g->type != im->u.global.type || g->mut != im->u.global.mut)
            return link_error(im, "incompatible import type");
        break;
    }
    }
    return NULL;
}

/* n zeroed elements of size sz: from the slot's arena when pooled, else the heap. */
static void *inst_array(wex__allocator *a, void *slot, size_t n, size_t sz) {
    /* Empty arrays too: a calloc(0) would cost a malloc and a free. */
    void *p = slot ? a->arena_alloc(a, slot, n ? n * sz : 1) : NULL;
    return p ? p : wex__calloc(n, sz);
}

/* The instance record and its arrays; with pooling they come from a slot,
 * which the instance holds until its store is deleted. */
static wex_error_t *alloc_instance(wex_store_t *s, const wex__module *m, wex_instance_t **out) {
    wex__allocator *a = s->engine->alloc;
    void *rec = NULL, *slot = NULL;
    wex_error_t *err = a->instance_begin(a, m, sizeof(wex_instance_t), &rec, &slot);
    if (err) return err;
    wex_instance_t *inst = rec;
    inst->module = m;
    inst->store = s;
    inst->slot = slot;
    wex__store_adopt(s, &inst->hdr, WEX__OBJ_INSTANCE);
    inst->funcs = inst_array(a, slot, m->nfuncs, sizeof *inst->funcs);
    inst->tables = inst_array(a, slot, m->ntables, sizeof *inst->tables);
    inst->mems = inst_array(a, slot, m->nmems, sizeof *inst->mems);
    inst->globals = inst_array(a, slot, m->nglobals, sizeof *inst->globals);
    inst->elems = inst_array(a, slot, m->nelems, sizeof *inst->elems);
    inst->data_dropped = inst_array(a, slot, m->ndatas, 1);
    if (!inst->funcs || !inst->tables || !inst->mems || !inst->globals || !inst->elems ||
        !inst->data_dropped)
        return wex__error_nomem();
    *out = inst;
    return NULL;
}

/*
 * Defined memory 0 comes from the allocator's instance path: a slot's memory
 * when pooled, started from the module's image when it has one (*imaged).
 * Otherwise (and always for a shared memory) the same as wex__memory_create.
 */
static wex_error_t *memory0_create(wex_store_t *s, wex_instance_t *inst, const wex__limits *lim,
                                   bool *imaged) {
    /* A shared memory outlives the instance and its slot (other threads'
     * stores hold it): never pooled, never imaged; segments are copied. */
    if (lim->shared) {
        *imaged = false;
        return wex__memory_create(s, lim, &inst->mems[0]);
    }
    wex__allocator *a = s->engine->alloc;
    wex_memory_t *m = inst_array(a, inst->slot, 1, sizeof *m);
    if (!m) return wex__error_nomem();
    uint64_t maxpages = lim->has_max ? lim->max : WEX__MAX_PAGES;
    if (maxpages > WEX__MAX_PAGES) maxpages = WEX__MAX_PAGES;
    bool guard = s->engine->config.bounds == WEX_BOUNDS_GUARD_PAGES;
    wex__memstore ms;
    memset(&ms, 0, sizeof ms);
    wex_error_t *err = a->memory_for(a, inst->slot, inst->module, lim->min * WEX_PAGE_SIZE,
                                     maxpages * WEX_PAGE_SIZE, guard, &m->size, &ms, imaged);
    if (err) {
        free_array(a, m);
        return err;
    }
    m->base = ms.base;
    m->reserved = ms.reserved;
    m->region = ms.region;
    m->lim = *lim;
    m->lim.max = maxpages;
    m->size = lim->min * WEX_PAGE_SIZE;
    m->owner = s;
    wex__store_adopt(s, &m->hdr, WEX__OBJ_MEMORY);
    inst->mems[0] = m;
    return NULL;
}

/* A defined table: its elements in the instance's slot when they fit, else
 * the same as wex__table_create. */
static wex_error_t *table_create(wex_store_t *s, wex_instance_t *inst, uint32_t i) {
    const wex__tabletype *tt = &inst->module->tables[i];
    wex__allocator *a = s->engine->alloc;
    uint32_t cap = 0;
    void **elems = tt->lim.min <= WEX__MAX_TABLE_ELEMS
                       ? a->table_for(a, inst->slot, i, (uint32_t)tt->lim.min, &cap)
                       : NULL;
    if (!elems) return wex__table_create(s, tt->elem, &tt->lim, NULL, &inst->tables[i]);
    wex_table_t *t = inst_array(a, inst->slot, 1, sizeof *t);
    if (!t) return wex__error_nomem();
    /* Entries past the size are never read: growing writes them first. */
    memset(elems, 0, (size_t)tt->lim.min * sizeof(void *));
    t->alloc = a;
    t->elems = elems;
    t->size = (uint32_t)tt->lim.min;
    t->cap = cap;
    t->elem = tt->elem;
    t->lim = tt->lim;
    t->owner = s;
    wex__store_adopt(s, &t->hdr, WEX__OBJ_TABLE);
    inst->tables[i] = t;
    return NULL;
}

/* Would an instance of m stay within s's limits? */
static wex_error_t *check_limits(wex_store_t *s, const wex_module_t *m) {
    if (s->ninstances >= s->limits.instances)
        return wex__error_at(WEX_ERR_LIMIT, -1, "the store's limit of %llu instances is reached",
                             (unsigned long long)s->limits.instances);
    uint64_t big = 0;
    for (uint32_t i = m->nmem_imports; i < m->nmems; i++)
        if (m->mems[i].lim.min * WEX_PAGE_SIZE > big) big = m->mems[i].lim.min * WEX_PAGE_SIZE;
    wex_error_t *err = wex__store_may_make(s, WEX_EXTERN_MEMORY, m->nmems - m->nmem_imports, big);
    if (err) return err;
    big = 0;
    for (uint32_t i = m->ntable_imports; i < m->ntables; i++)
        if (m->tables[i].lim.min > big) big = m->tables[i].lim.min;
    return wex__store_may_make(s, WEX_EXTERN_TABLE, m->ntables - m->ntable_imports, big);
}

wex_error_t *wex_instance_new(wex_store_t *s, const wex_module_t *m, const wex_extern_t *imports,
                              size_t nimports, wex_instance_t **out) {
    wex_error_t *err;
    *out = NULL;
    if (!m->compiled) return wex__error_at(WEX_ERR_ARGUMENT, -1, "module was not compiled");
    if (nimports != m->nimports)
        return wex__error_at(WEX_ERR_UNLINKABLE, -1, "expected %u imports, got %zu", m->nimports,
                             nimports);
    for (uint32_t i = 0; i < m->nimports; i++)
        if ((err = check_import(m, &m->imports[i], &imports[i]))) return err;
    /* A module loaded from the cache checks its data segments and memory
     * image before its first instance uses them (once; src/cache/artifact.c). */
    if ((err = wex__cache_first_instance((wex__module *)m))) return err;
    /* The store's limits: counts, and every defined memory's and table's
     * initial size (they count as made even if instantiation fails later,
     * as their objects stay in the store). */
    if (s->limited && (err = check_limits(s, m))) return err;
    s->ninstances++;
    s->nmemories += m->nmems - m->nmem_imports;
    s->ntables += m->ntables - m->ntable_imports;

    wex_instance_t *inst = NULL;
    if ((err = alloc_instance(s, m, &inst))) return err;

    uint32_t fi = 0, ti = 0, mi = 0, gi = 0;
    for (uint32_t i = 0; i < m->nimports; i++) {
        switch (m->imports[i].kind) {
        case WEX__EXT_FUNC: inst->funcs[fi++] = imports[i].of.func; break;
        case WEX__EXT_TABLE: inst->tables[ti++] = imports[i].of.table; break;
        case WEX__EXT_MEM:
            /* A shared memory may come from another store (another thread):
             * this store then keeps it alive too. */
            if (imports[i].of.memory->shared && (err = wex__shmem_adopt(s, imports[i].of.memory)))
                return err;
            inst->mems[mi++] = imports[i].of.memory;
            break;
        case WEX__EXT_GLOBAL: inst->globals[gi++] = imports[i].of.global; break;
        }
    }
    /* Pooled: the functions and globals are one array each in the slot's
     * arena when they fit, and are not on the store's list (nothing to free:
     * the slot's release clears its arena). Else one heap record each. */
    wex__allocator *a = s->engine->alloc;
    uint32_t ndf = m->nfuncs - m->nfunc_imports, ndg = m->nglobals - m->nglobal_imports;
    wex_func_t *fa = inst->slot && ndf ? a->arena_alloc(a, inst->slot, ndf * sizeof *fa) : NULL;
    wex_global_t *ga = inst->slot && ndg ? a->arena_alloc(a, inst->slot, ndg * sizeof *ga) : NULL;
    for (uint32_t i = m->nfunc_imports; i < m->nfuncs; i++) {
        wex_func_t *f = fa ? &fa[i - m->nfunc_imports] : wex__calloc(1, sizeof *f);
        if (!f) return wex__error_nomem();
        uint32_t t = m->func_types[i];
        f->type = &m->types[t];
        f->canon = m->types[t].canon;
        f->inst = inst;
        f->code_index = i - m->nfunc_imports;
        f->kinds = m->types[t].kinds;
        /* native code, when the module has it (the context is filled by
         * wex__native_instance_init) */
        void *fn =
            m->native ? __atomic_load_n(&m->native->fns[f->code_index], __ATOMIC_ACQUIRE) : NULL;
        f->native = fn;
        f->native_entry = fn ? m->native->entries[f->code_index] : NULL;
        f->nctx = fn ? &inst->nctx : NULL;
        f->hdr.kind = WEX__OBJ_FUNC;
        if (!fa) wex__store_adopt(s, &f->hdr, WEX__OBJ_FUNC);
        inst->funcs[i] = f;
    }
    for (uint32_t i = m->ntable_imports; i < m->ntables; i++) {
        if ((err = table_create(s, inst, i))) return err;
    }
    /* imaged: memory 0 already holds its active data segments (module/image.h). */
    bool imaged = false;
    for (uint32_t i = m->nmem_imports; i < m->nmems; i++) {
        if (i == 0)
            err = memory0_create(s, inst, &m->mems[0].lim, &imaged);
        else
            err = wex__memory_create(s, &m->mems[i].lim, &inst->mems[i]);
        if (err) return err;
    }
    inst->mem0 = m->nmems ? inst->mems[0] : NULL;
    for (uint32_t i = m->nglobal_imports; i < m->nglobals; i++) {
        const wex__global *gd = &m->globals[i - m->nglobal_imports];
        wex_global_t *g = ga ? &ga[i - m->nglobal_imports] : wex__calloc(1, sizeof *g);
        if (!g) return wex__error_nomem();
        g->type = gd->type.type;
        g->mut = gd->type.mut;
        g->hdr.kind = WEX__OBJ_GLOBAL;
        if (!ga) wex__store_adopt(s, &g->hdr, WEX__OBJ_GLOBAL);
        if (!eval_const(inst, gd->init, &g->val))
            return wex__error_at(WEX_ERR_INVALID, gd->init.off, "bad constant expression");
        inst->globals[i] = g;
    }
    /* Element segments: evaluate every element now (passive ones are kept
     * for table.init). */
    for (uint32_t i = 0; i < m->nelems; i++) {
        const wex__elem *e = &m->elems[i];
        wex__elemseg *es = &inst->elems[i];
        es->refs = inst_array(a, inst->slot, e->count ? e->count : 1, sizeof(void *));
        if (!es->refs) return wex__error_nomem();
        es->count = e->count;
        for (uint32_t j = 0; j < e->count; j++) {
            if (e->exprs) {
                uint64_t v;
                if (!eval_const(inst, e->exprs[j], &v))
                    return wex__error_at(WEX_ERR_INVALID, e->exprs[j].off,
                                         "bad constant expression");
                es->refs[j] = (void *)(uintptr_t)v;
            } else {
                es->refs[j] = inst->funcs[e->funcs[j]];
            }
        }
    }
    /* The native context, complete before any segment can trap: a table
     * keeps the functions a failed instantiation's segments put there. */
    if (m->native) wex__native_instance_init(inst);
    /* Active element segments, then active data segments, in order; a
     * failure traps and leaves what was done (spec 2.0). */
    for (uint32_t i = 0; i < m->nelems; i++) {
        const wex__elem *e = &m->elems[i];
        wex__elemseg *es = &inst->elems[i];
        if (e->mode == WEX__SEG_ACTIVE) {
            uint64_t off;
            if (!eval_const(inst, e->offset, &off))
                return wex__error_at(WEX_ERR_INVALID, e->offset.off, "bad constant expression");
            wex_table_t *t = inst->tables[e->table];
            uint32_t d = (uint32_t)off;
            if ((uint64_t)d + es->count > t->size) {
                /* The data segments were not applied yet: take the image back. */
                if (imaged) memset(inst->mem0->base, 0, (size_t)m->image.size);
                return wex__error_trapf(WEX_TRAP_TABLE_OOB,
                                        "%s while initialising element segment %u",
                                        wex_trap_message(WEX_TRAP_TABLE_OOB), i);
            }
            if (es->count) memcpy(t->elems + d, es->refs, es->count * sizeof(void *));
        }
        if (e->mode != WEX__SEG_PASSIVE) { /* applied (or declarative): dropped */
            free_array(a, es->refs);
            es->refs = NULL;
            es->count = 0;
        }
    }
    for (uint32_t i = 0; i < m->ndatas; i++) {
        const wex__data *d = &m->datas[i];
        if (d->mode != WEX__SEG_ACTIVE) continue;
        if (imaged && d->mem == 0) { /* in the image: constant and in bounds */
            inst->data_dropped[i] = 1;
            continue;
        }
        uint64_t off;
        if (!eval_const(inst, d->offset, &off))
            return wex__error_at(WEX_ERR_INVALID, d->offset.off, "bad constant expression");
        wex_memory_t *mem = inst->mems[d->mem];
        uint32_t o = (uint32_t)off;
        if ((uint64_t)o + d->data_len > mem->size)
            return wex__error_trapf(WEX_TRAP_MEMORY_OOB, "%s while initialising data segment %u",
                                    wex_trap_message(WEX_TRAP_MEMORY_OOB), i);
        if (d->data_len) memcpy(mem->base + o, m->bytes + d->data_off, d->data_len);
        inst->data_dropped[i] = 1;
    }
    if (m->has_start) {
        wex_func_t *f = inst->funcs[m->start];
        if ((err = wex_func_call(s, f, NULL, 0, NULL, 0))) return err;
    }
    *out = inst;
    return NULL;
}

bool wex_instance_export(const wex_instance_t *inst, const char *name, size_t len,
                         wex_extern_t *out) {
    const wex__module *m = inst->module;
    for (uint32_t i = 0; i < m->nexports; i++) {
        const wex__export *ex = &m->exports[i];
        if (ex->name_len != len || memcmp(ex->name, name, len)) continue;
        out->kind = (wex_externkind_t)ex->kind;
        switch (ex->kind) {
        case WEX__EXT_FUNC: out->of.func = inst->funcs[ex->index]; break;
        case WEX__EXT_TABLE: out->of.table = inst->tables[ex->index]; break;
        case WEX__EXT_MEM: out->of.memory = inst->mems[ex->index]; break;
        case WEX__EXT_GLOBAL: out->of.global = inst->globals[ex->index]; break;
        }
        return true;
    }
    return false;
}

const wex_module_t *wex_instance_module(const wex_instance_t *inst) {
    return inst->module;
}
