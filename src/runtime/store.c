/*
 * store.c - the store and the runtime objects it owns: functions, memories,
 * tables, globals. Objects are kept on one list and freed with the store.
 */
#include "os/os.h"
#include "runtime/runtime.h"

#include <pthread.h>

static void free_object(wex_store_t *s, wex__obj *o);

/*
 * Each thread keeps the stack of its last deleted store for its next one.
 * Making and dropping the reservations per store costs an mmap and an munmap
 * each, and munmap in a multithreaded process interrupts every other CPU that
 * runs it (a TLB shootdown): with several threads instantiating, that was
 * what limited throughput. Reuse needs no clearing: the translated code writes
 * every slot before reading it (locals are zeroed at entry), and frames are
 * written at each call. At most one spare per thread; thread exit frees it.
 */
typedef struct {
    void *stack, *frames;
    size_t stack_bytes, frames_bytes;
    wex_store_t *store; /* the last deleted store's record, for the next (wex_store_new) */
} spare_stack;
static __thread spare_stack spare;
static pthread_key_t spare_key;
static pthread_once_t spare_once = PTHREAD_ONCE_INIT;
static bool spare_key_ok;

static void spare_release(spare_stack *sp) {
    if (sp->stack) wex__os_release(sp->stack, sp->stack_bytes);
    if (sp->frames) wex__os_release(sp->frames, sp->frames_bytes);
    wex__free(sp->store);
    memset(sp, 0, sizeof *sp);
}
static void spare_thread_exit(void *p) {
    spare_release(p);
}
static void spare_init(void) {
    spare_key_ok = pthread_key_create(&spare_key, spare_thread_exit) == 0;
}

/* Keep s's stack as this thread's spare, or release it. */
static void stack_put(wex_store_t *s, size_t frames_bytes) {
    pthread_once(&spare_once, spare_init);
    if (!spare.stack && spare_key_ok && pthread_setspecific(spare_key, &spare) == 0) {
        spare.stack = s->stack;
        spare.frames = s->frames;
        spare.stack_bytes = s->stack_bytes;
        spare.frames_bytes = frames_bytes;
        return;
    }
    spare_stack mine = {s->stack, s->frames, s->stack_bytes, frames_bytes, NULL};
    spare_release(&mine);
}

/* Keep s's record as this thread's spare, or free it: a host that makes a
 * store per instance would otherwise pay a malloc and a free for it each
 * time, on the allocator's shared arenas when several threads do. */
static void record_put(wex_store_t *s) {
    pthread_once(&spare_once, spare_init);
    if (!spare.store && spare_key_ok && pthread_setspecific(spare_key, &spare) == 0) {
        spare.store = s;
        return;
    }
    wex__free(s);
}

wex_store_t *wex_store_new(wex_engine_t *engine) {
    wex_store_t *s = spare.store;
    if (s) {
        spare.store = NULL;
        memset(s, 0, sizeof *s);
    } else if (!(s = wex__calloc(1, sizeof *s))) {
        return NULL;
    }
    s->engine = engine;
    s->max_depth = engine->config.max_call_depth;
    s->epoch_deadline = UINT64_MAX;
    return s;
}

void wex_store_delete(wex_store_t *s) {
    if (!s) return;
    wex__obj *o = s->objects;
    while (o) {
        wex__obj *next = o->next;
        free_object(s, o);
        o = next;
    }
    if (s->stack) stack_put(s, WEX__FRAME_RECORDS(s) * sizeof *s->frames);
    record_put(s);
}

void wex_store_set_data(wex_store_t *s, void *data) {
    s->data = data;
}
void *wex_store_data(const wex_store_t *s) {
    return s->data;
}

/* now + ticks, saturated: UINT64_MAX is "never". */
static uint64_t epoch_after(uint64_t now, uint64_t ticks) {
    return ticks > UINT64_MAX - now ? UINT64_MAX : now + ticks;
}

void wex_store_set_epoch_deadline(wex_store_t *s, uint64_t ticks) {
    s->epoch_deadline = epoch_after(wex_engine_epoch(s->engine), ticks);
}

uint64_t wex_store_epoch_deadline(const wex_store_t *s) {
    return s->epoch_deadline;
}

void wex_store_set_epoch_callback(wex_store_t *s, wex_epoch_callback_t cb, void *data) {
    s->epoch_cb = cb;
    s->epoch_data = data;
}

void wex_store_set_limits(wex_store_t *s, const wex_store_limits_t *limits) {
    s->limits = *limits;
    s->limited = true;
}

void wex_store_set_grow_callback(wex_store_t *s, wex_grow_callback_t cb, void *data) {
    s->grow_cb = cb;
    s->grow_data = data;
}

wex_error_t *wex__store_may_make(wex_store_t *s, wex_externkind_t kind, uint64_t n, uint64_t size) {
    if (!s->limited) return NULL;
    bool mem = kind == WEX_EXTERN_MEMORY;
    uint64_t have = mem ? s->nmemories : s->ntables;
    uint64_t most = mem ? s->limits.memories : s->limits.tables;
    if (n > most || have > most - n)
        return wex__error_at(WEX_ERR_LIMIT, -1, "the store's limit of %llu %s is reached",
                             (unsigned long long)most, mem ? "memories" : "tables");
    uint64_t max = mem ? s->limits.memory_bytes : s->limits.table_elements;
    if (size > max)
        return wex__error_at(WEX_ERR_LIMIT, -1,
                             "a %s of %llu %s is beyond the store's limit of %llu",
                             mem ? "memory" : "table", (unsigned long long)size,
                             mem ? "bytes" : "elements", (unsigned long long)max);
    return NULL;
}

bool wex__store_may_grow(wex_store_t *s, wex_externkind_t kind, uint64_t current,
                         uint64_t desired) {
    uint64_t max = kind == WEX_EXTERN_MEMORY ? s->limits.memory_bytes : s->limits.table_elements;
    if (s->limited && desired > max) return false;
    return !s->grow_cb || s->grow_cb(s->grow_data, s, kind, current, desired);
}

/* Both tiers call this when a check saw the deadline reached. */
bool wex__store_epoch_go_on(wex_store_t *s) {
    uint64_t now = wex_engine_epoch(s->engine), more = 0;
    if (now < s->epoch_deadline) return true; /* moved meanwhile */
    if (!s->epoch_cb || !s->epoch_cb(s->epoch_data, s, &more)) return false;
    s->epoch_deadline = epoch_after(now, more ? more : 1);
    return true;
}

void wex__store_adopt(wex_store_t *s, wex__obj *o, wex__objkind kind) {
    o->kind = (uint8_t)kind;
    o->next = s->objects;
    s->objects = o;
}

/*
 * The value stack is one reservation, committed whole but touched lazily, so
 * only pages a program really uses cost memory. The frame array is sized to
 * the call-depth limit the same way: fresh zero pages from the OS, not the C
 * heap, whose calloc zeroes all of it with memset once glibc's mmap threshold
 * has grown past its size (about 100 us a store, most of a short-lived
 * store's cost).
 */
wex_error_t *wex__store_stack(wex_store_t *s) {
    if (s->stack) return NULL;
    size_t bytes = s->engine->config.max_stack_bytes;
    if (s->engine->config.deterministic) {
        size_t det = WEX__FRAME_RECORDS(s) * (size_t)WEX__DET_STACK_SLOTS_PER_FRAME * 8;
        if (det > bytes) bytes = det;
    }
    size_t fbytes = WEX__FRAME_RECORDS(s) * sizeof *s->frames;
    if (spare.stack && spare.stack_bytes == bytes && spare.frames_bytes == fbytes) {
        s->stack = spare.stack;
        s->frames = spare.frames;
        memset(&spare, 0, sizeof spare);
        s->stack_bytes = bytes;
        s->stack_end = s->stack + bytes / sizeof(uint64_t);
        s->stack_top = s->stack;
        return NULL;
    }
    void *p = wex__os_alloc_lazy(bytes); /* one mmap, not a reservation and an mprotect */
    if (!p) return wex__error_nomem();
    s->frames = wex__os_alloc_lazy(fbytes);
    if (!s->frames) {
        wex__os_release(p, bytes);
        return wex__error_nomem();
    }
    s->stack = p;
    s->stack_bytes = bytes;
    s->stack_end = s->stack + bytes / sizeof(uint64_t);
    s->stack_top = s->stack;
    return NULL;
}

/* ---------------------------------------------------------------- memory */

/*
 * A memory is one reservation that never moves, made by the engine's
 * allocator (see alloc.h for its extent with guard pages).
 */
wex_error_t *wex__memory_create(wex_store_t *s, const wex__limits *lim, wex_memory_t **out) {
    if (lim->shared) return wex__shmem_create(s, lim, out); /* threads: atomic.c */
    wex_memory_t *m = wex__calloc(1, sizeof *m);
    if (!m) return wex__error_nomem();
    uint64_t maxpages = lim->has_max ? lim->max : WEX__MAX_PAGES;
    if (maxpages > WEX__MAX_PAGES) maxpages = WEX__MAX_PAGES;
    bool guard = s->engine->config.bounds == WEX_BOUNDS_GUARD_PAGES;
    wex__memstore ms;
    wex_error_t *err = s->engine->alloc->memory_reserve(s->engine->alloc, lim->min * WEX_PAGE_SIZE,
                                                        maxpages * WEX_PAGE_SIZE, guard, &ms);
    if (err) {
        wex__free(m);
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
    *out = m;
    return NULL;
}

int64_t wex__memory_grow(wex_memory_t *m, uint64_t delta) {
    if (m->shared) return wex__shmem_grow(m, delta);
    uint64_t old = m->lim.min;
    if (delta == 0) return (int64_t)old;
    if (delta > m->lim.max - old) return -1;
    uint64_t nsize = (old + delta) * WEX_PAGE_SIZE;
    if (nsize > m->reserved) return -1;
    if (m->owner && !wex__store_may_grow(m->owner, WEX_EXTERN_MEMORY, m->size, nsize)) return -1;
    if (!wex__os_commit(m->base + m->size, nsize - m->size)) return -1;
    m->size = nsize;
    m->lim.min = old + delta;
    return (int64_t)old;
}

wex_error_t *wex_memory_new(wex_store_t *s, wex_limits_t limits, wex_memory_t **out) {
    wex__limits l = {limits.min, limits.max, limits.has_max, limits.shared};
    if (l.min > WEX__MAX_PAGES || (l.has_max && (l.max > WEX__MAX_PAGES || l.max < l.min)) ||
        (l.shared && !l.has_max))
        return wex__error_at(WEX_ERR_ARGUMENT, -1, "invalid memory limits");
    wex_error_t *err = wex__store_may_make(s, WEX_EXTERN_MEMORY, 1, l.min * WEX_PAGE_SIZE);
    if (!err && !(err = wex__memory_create(s, &l, out))) s->nmemories++;
    return err;
}

uint8_t *wex_memory_data(const wex_memory_t *m) {
    return m->base;
}
size_t wex_memory_size(const wex_memory_t *m) {
    return (size_t)__atomic_load_n(&m->size, __ATOMIC_ACQUIRE); /* shared: may grow meanwhile */
}
wex_limits_t wex_memory_limits(const wex_memory_t *m) {
    return (wex_limits_t){__atomic_load_n(&m->lim.min, __ATOMIC_ACQUIRE), m->lim.max,
                          m->lim.has_max, m->lim.shared};
}
int64_t wex_memory_grow(wex_memory_t *m, uint64_t delta) {
    return wex__memory_grow(m, delta);
}
wex_error_t *wex_memory_share(wex_store_t *s, wex_memory_t *m) {
    return wex__shmem_adopt(s, m);
}

/* ---------------------------------------------------------------- tables */

wex_error_t *wex__table_create(wex_store_t *s, uint8_t elem, const wex__limits *lim, void *init,
                               wex_table_t **out) {
    if (lim->min > WEX__MAX_TABLE_ELEMS) return wex__error_at(WEX_ERR_NOMEM, -1, "table too large");
    wex_table_t *t = wex__calloc(1, sizeof *t);
    if (!t) return wex__error_nomem();
    t->alloc = s->engine->alloc;
    t->elems = t->alloc->table_resize(t->alloc, NULL, 0, lim->min ? (uint32_t)lim->min : 1);
    if (!t->elems) {
        wex__free(t);
        return wex__error_nomem();
    }
    for (uint64_t i = 0; i < lim->min; i++)
        t->elems[i] = init;
    t->size = (uint32_t)lim->min;
    t->cap = t->size ? t->size : 1;
    t->elem = elem;
    t->lim = *lim;
    t->owner = s;
    wex__store_adopt(s, &t->hdr, WEX__OBJ_TABLE);
    *out = t;
    return NULL;
}

int64_t wex__table_grow(wex_table_t *t, uint32_t delta, void *init) {
    uint32_t old = t->size;
    uint64_t n = (uint64_t)old + delta;
    uint64_t max = t->lim.has_max ? t->lim.max : UINT32_MAX;
    if (n > max || n > WEX__MAX_TABLE_ELEMS) return -1;
    if (delta && t->owner && !wex__store_may_grow(t->owner, WEX_EXTERN_TABLE, old, n)) return -1;
    if (n > t->cap) {
        uint64_t cap = t->cap;
        while (cap < n)
            cap *= 2;
        if (cap > WEX__MAX_TABLE_ELEMS) cap = n;
        void **e = t->alloc->table_resize(t->alloc, t->elems, t->cap, (uint32_t)cap);
        if (!e) return -1;
        t->elems = e;
        t->cap = (uint32_t)cap;
    }
    for (uint64_t i = old; i < n; i++)
        t->elems[i] = init;
    t->size = (uint32_t)n;
    return old;
}

static void *val_ref(wex_val_t v) {
    return v.kind == WEX_FUNCREF ? (void *)v.of.funcref : v.of.externref;
}

wex_error_t *wex_table_new(wex_store_t *s, wex_valkind_t elem, wex_limits_t limits, wex_val_t init,
                           wex_table_t **out) {
    if (elem != WEX_FUNCREF && elem != WEX_EXTERNREF)
        return wex__error_at(WEX_ERR_ARGUMENT, -1, "table element must be a reference type");
    wex__limits l = {limits.min, limits.max, limits.has_max, false};
    if (l.has_max && l.max < l.min) return wex__error_at(WEX_ERR_ARGUMENT, -1, "invalid limits");
    wex_error_t *err = wex__store_may_make(s, WEX_EXTERN_TABLE, 1, l.min);
    if (!err && !(err = wex__table_create(s, (uint8_t)elem, &l, val_ref(init), out))) s->ntables++;
    return err;
}

uint32_t wex_table_size(const wex_table_t *t) {
    return t->size;
}
wex_valkind_t wex_table_elem_kind(const wex_table_t *t) {
    return (wex_valkind_t)t->elem;
}
wex_limits_t wex_table_limits(const wex_table_t *t) {
    return (wex_limits_t){t->size, t->lim.max, t->lim.has_max, false};
}
bool wex_table_get(const wex_table_t *t, uint32_t i, wex_val_t *out) {
    if (i >= t->size) return false;
    out->kind = (wex_valkind_t)t->elem;
    if (t->elem == WEX__T_FUNCREF)
        out->of.funcref = t->elems[i];
    else
        out->of.externref = t->elems[i];
    return true;
}
bool wex_table_set(wex_table_t *t, uint32_t i, wex_val_t v) {
    if (i >= t->size || (uint8_t)v.kind != t->elem) return false;
    t->elems[i] = val_ref(v);
    return true;
}

/* ---------------------------------------------------------------- globals */

wex_error_t *wex_global_new(wex_store_t *s, wex_val_t init, bool mutable_, wex_global_t **out) {
    wex_global_t *g = wex__calloc(1, sizeof *g);
    if (!g) return wex__error_nomem();
    g->type = (uint8_t)init.kind;
    g->mut = mutable_;
    g->val = wex__val_to_slot(&init);
    wex__store_adopt(s, &g->hdr, WEX__OBJ_GLOBAL);
    *out = g;
    return NULL;
}

wex_val_t wex_global_get(const wex_global_t *g) {
    return wex__slot_to_val(g->val, g->type);
}
bool wex_global_set(wex_global_t *g, wex_val_t v) {
    if (!g->mut || (uint8_t)v.kind != g->type) return false;
    g->val = wex__val_to_slot(&v);
    return true;
}
bool wex_global_mutable(const wex_global_t *g) {
    return g->mut;
}
wex_valkind_t wex_global_kind(const wex_global_t *g) {
    return (wex_valkind_t)g->type;
}

/* ---------------------------------------------------------------- funcs */

wex_func_t *wex_func_new(wex_store_t *s, const wex_functype_t *type, wex_host_callback_t cb,
                         void *env, void (*finalizer)(void *)) {
    wex_func_t *f = wex__calloc(1, sizeof *f);
    if (!f) return NULL;
    uint32_t n = type->nparams + type->nresults;
    f->own_type.types = wex__malloc(n);
    f->kinds = wex__malloc(n * sizeof *f->kinds);
    if (!f->own_type.types || !f->kinds) {
        wex__free(f->own_type.types);
        wex__free(f->kinds);
        wex__free(f);
        return NULL;
    }
    for (uint32_t i = 0; i < type->nparams; i++)
        f->own_type.types[i] = (uint8_t)type->params[i];
    for (uint32_t i = 0; i < type->nresults; i++)
        f->own_type.types[type->nparams + i] = (uint8_t)type->results[i];
    for (uint32_t i = 0; i < n; i++)
        f->kinds[i] = (wex_valkind_t)f->own_type.types[i];
    f->own_type.nparams = type->nparams;
    f->own_type.nresults = type->nresults;
    f->canon = wex__engine_intern(s->engine, type->nparams, type->nresults, f->own_type.types);
    f->type = &f->own_type;
    f->callback = cb;
    f->env = env;
    f->finalizer = finalizer;
    wex__store_adopt(s, &f->hdr, WEX__OBJ_FUNC);
    return f;
}

wex_functype_t wex_func_type(const wex_func_t *f) {
    wex_functype_t ft = {f->type->nparams, f->type->nresults, f->kinds,
                         f->kinds + f->type->nparams};
    return ft;
}

/* ---------------------------------------------------------------- freeing */

void wex__instance_free(wex_instance_t *inst);

static void free_object(wex_store_t *s, wex__obj *o) {
    wex__allocator *a = s->engine->alloc;
    switch ((wex__objkind)o->kind) {
    case WEX__OBJ_FUNC: {
        wex_func_t *f = (wex_func_t *)o;
        if (f->finalizer) f->finalizer(f->env);
        if (!f->inst) { /* a wasm function's kinds live in its instance */
            wex__free(f->own_type.types);
            wex__free(f->kinds);
        }
        break;
    }
    case WEX__OBJ_MEMORY: {
        wex_memory_t *m = (wex_memory_t *)o;
        wex__memstore ms = {m->base, m->reserved, m->region};
        a->memory_release(a, &ms);
        break;
    }
    case WEX__OBJ_TABLE: {
        wex_table_t *t = (wex_table_t *)o;
        a->table_free(a, t->elems, t->cap);
        break;
    }
    case WEX__OBJ_GLOBAL: break;
    case WEX__OBJ_SHARE: wex__shmem_release(o); break;
    case WEX__OBJ_INSTANCE:
        wex__instance_free((wex_instance_t *)o);
        a->instance_free(a, o);
        return;
    }
    /* A pooled instance's records live in its slot's arena, cleared when
     * the instance (later on the list) releases the slot. */
    if (!a->in_arena(a, o)) wex__free(o);
}
