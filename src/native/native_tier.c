/*
 * native_tier.c - the automatic tier: a module starts interpreted; a
 * function the interpreter enters WEX__TIER_CALLS times, or any function
 * entered while the module has been running for WEX__TIER_LOOP_MS, is
 * compiled in the background (wex-llvmc, on a dedicated task of the task
 * manager), in batches: whatever was asked for while one batch compiled
 * makes the next. Each batch is an object of its own (wex__native_add);
 * the interpreter's TIER_ENTRY instruction at the head of every function
 * sends the next entry of a compiled function to its native code, and the
 * module's cache entry is written again with the code, so that the next
 * run starts native.
 *
 * Lifetime: the state (wex__tierup) is shared by the module, a running
 * batch and a pending timer, and freed by the last. The module's side goes
 * first (wex__tier_detach, at module free): it cancels a running
 * compilation (the helper process is killed) and waits for a batch that is
 * being loaded, so the other sides never touch a freed module, and none of
 * them holds a reference on the module (the last reference dropped on a
 * task thread would delete the engine from its own task).
 */
#include "cache/cache.h"
#include "native/native_internal.h"
#include "os/os.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* F_ENTERED: loop entries done, and one was entered (traced once) */
enum { F_NONE, F_PENDING, F_COMPILING, F_DONE, F_FAILED, F_ENTERED };

typedef struct wex__tierup {
    pthread_mutex_t mu;
    uint32_t refs;  /* under mu */
    wex__module *m; /* NULL once the module is gone */
    const wex_task_manager_t *tm;
    unsigned mode;
    uint8_t *bytes; /* the module's bytes (a batch may outlive the module) */
    size_t len;
    uint32_t *size; /* per defined function: its body's bytes */
    uint8_t *state; /* per defined function: F_* of its code */
    uint8_t *osr;   /* per defined function: F_* of its loop entries (atomic loads
                     * outside mu) */
    uint32_t npending;
    bool busy;                /* a batch task is running */
    bool timer;               /* the loop timer is armed */
    int cancel[2];            /* a byte in it stops the running compilation (-1: none yet) */
    wex_engine_t *engine;     /* the module's (for its task manager) */
    wex__native_service *svc; /* the compiler process (the batch task's) */
    bool trace;               /* $WEX_TIER_TRACE: a line on stderr per batch */
    pthread_cond_t done;      /* a batch finished (eager mode waits for it) */
} wex__tierup;

/* $WEX_TIER_EAGER, for tests: "all" compiles every function on the first
 * entry into any, "some" every other one (so that interpreted and native
 * functions call each other), and the entry waits for the code. */
enum { EAGER_OFF, EAGER_ALL, EAGER_SOME };
static int eager_mode(void) {
    static int mode = -1;
    int v = __atomic_load_n(&mode, __ATOMIC_RELAXED);
    if (v < 0) {
        const char *e = getenv("WEX_TIER_EAGER");
        v = !e                   ? EAGER_OFF
            : !strcmp(e, "all")  ? EAGER_ALL
            : !strcmp(e, "some") ? EAGER_SOME
                                 : EAGER_OFF;
        __atomic_store_n(&mode, v, __ATOMIC_RELAXED);
    }
    return v;
}

int32_t wex__tier_initial_count(const wex__module *m, uint32_t di, bool loops) {
    if (eager_mode()) return 1;
    /* (a module loaded from the cache has no bodies: the base counts) */
    uint32_t len = di < m->ncodes ? m->codes[di].len : 0;
    int32_t scale = 1 + (int32_t)(len / WEX__TIER_SIZE_STEP);
    if (scale > 64) scale = 64;
    return (loops ? WEX__TIER_LOOPS : WEX__TIER_CALLS) * scale;
}

static void unref(wex__tierup *tu) {
    pthread_mutex_lock(&tu->mu);
    bool last = --tu->refs == 0;
    pthread_mutex_unlock(&tu->mu);
    if (!last) return;
    pthread_mutex_destroy(&tu->mu);
    pthread_cond_destroy(&tu->done);
    if (tu->cancel[0] >= 0) wex__os_signal_free(tu->cancel);
    wex__native_service_free(tu->svc);
    wex__free(tu->bytes);
    wex__free(tu->state);
    wex__free(tu->osr);
    wex__free(tu->size);
    wex__free(tu);
}

/* Each defined function's body size, from the module's code section (the
 * bytes were validated when the module was made); 0 where unknown. */
static void body_sizes(const uint8_t *b, size_t len, uint32_t nd, uint32_t *size) {
    wex__reader r;
    wex__reader_init(&r, b, len, b);
    const uint8_t *skip;
    if (!wex__read_bytes(&r, 8, &skip)) return; /* magic, version */
    uint8_t id;
    uint32_t sz;
    while (wex__read_u8(&r, &id) && wex__read_u32(&r, &sz)) {
        if (id != 10) {
            if (!wex__read_bytes(&r, sz, &skip)) return;
            continue;
        }
        uint32_t n;
        if (!wex__read_u32(&r, &n)) return;
        for (uint32_t i = 0; i < n && i < nd; i++) {
            if (!wex__read_u32(&r, &size[i]) || !wex__read_bytes(&r, size[i], &skip)) return;
        }
        return;
    }
}

/* The module's state, made with a copy of the bytes to compile from
 * (NULL: out of memory, or made already by another thread: then theirs). */
static wex__tierup *tierup_make(wex__module *m, const uint8_t *bytes, size_t len) {
    wex__native *nat = m->native;
    wex__tierup *tu = wex__calloc(1, sizeof *tu);
    if (!tu) return NULL;
    tu->bytes = wex__malloc(len ? len : 1);
    tu->state = wex__calloc(nat->nfuncs + 1, 1);
    tu->osr = wex__calloc(nat->nfuncs + 1, 1);
    tu->size = wex__calloc(nat->nfuncs + 1, sizeof *tu->size);
    tu->cancel[0] = tu->cancel[1] = -1; /* made with the first batch (start_unlock) */
    if (!tu->bytes || !tu->state || !tu->osr || !tu->size) {
        wex__free(tu->bytes);
        wex__free(tu->state);
        wex__free(tu->osr);
        wex__free(tu->size);
        wex__free(tu);
        return NULL;
    }
    memcpy(tu->bytes, bytes, len);
    tu->len = len;
    body_sizes(bytes, len, nat->nfuncs, tu->size);
    pthread_mutex_init(&tu->mu, NULL);
    pthread_cond_init(&tu->done, NULL);
    tu->refs = 1; /* the module's */
    tu->m = m;
    wex_engine_t *e = m->owner ? m->owner : m->engine;
    tu->engine = e; /* its task manager is asked for with the first batch */
    tu->mode = wex__native_mode(e);
    const char *tr = getenv("WEX_TIER_TRACE");
    tu->trace = tr && *tr && strcmp(tr, "0") != 0;
    for (uint32_t i = 0; i < nat->nfuncs; i++)
        if (__atomic_load_n(&nat->fns[i], __ATOMIC_ACQUIRE)) tu->state[i] = F_DONE;
    wex__tierup *none = NULL;
    if (!__atomic_compare_exchange_n(&nat->tierup, &none, tu, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE)) {
        tu->m = NULL;
        unref(tu);
        return none;
    }
    return tu;
}

/* The module's state, made on first use; NULL when there is none to be
 * had (a module loaded from the cache holds no module bytes of its own:
 * wex__tier_source gives them, else it stays interpreted). */
static wex__tierup *tierup_of(wex__module *m) {
    wex__tierup *tu = __atomic_load_n(&m->native->tierup, __ATOMIC_ACQUIRE);
    if (tu || wex__cache_is_mapped(m)) return tu;
    return tierup_make(m, m->bytes, m->len);
}

void wex__tier_source(wex__module *m, const uint8_t *bytes, size_t len) {
    if (!__atomic_load_n(&m->native->tierup, __ATOMIC_ACQUIRE)) tierup_make(m, bytes, len);
}

/* $WEX_TIER_TRACE's line: how many functions, which (the first few, by
 * name where the module has names), how long, and any failure. */
static void trace_batch(const wex__module *m, const uint32_t *list, uint32_t n, uint32_t nl,
                        uint64_t ns, const wex_error_t *err) {
    char names[256];
    size_t at = 0;
    names[0] = 0;
    uint32_t nn = n ? n : nl;
    for (uint32_t k = 0; k < nn && k < 8 && at < sizeof names; k++) {
        uint32_t f = m->nfunc_imports + list[k];
        const char *nm = m->func_names && f < m->nfuncs ? m->func_names[f] : NULL;
        int w = nm ? snprintf(names + at, sizeof names - at, "%s%s", k ? " " : "", nm)
                   : snprintf(names + at, sizeof names - at, "%s#%u", k ? " " : "", f);
        if (w > 0) at += (size_t)w;
    }
    char loops[48] = "";
    if (nl) snprintf(loops, sizeof loops, ", loop entries of %u", nl);
    fprintf(stderr, "wex: tier-up: %u function%s%s in %.1f ms (%s%s)%s%s\n", n, n == 1 ? "" : "s",
            loops, (double)ns / 1e6, names, nn > 8 ? " ..." : "", err ? ": " : "",
            err ? wex_error_message(err) : "");
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* A function asked for, as a batch is chosen. */
typedef struct {
    uint32_t di, size;
    bool fn, loops;
} cand_t;

static int by_size(const void *a, const void *b) {
    const cand_t *x = a, *y = b;
    return x->size != y->size ? (x->size < y->size ? -1 : 1) : (x->di < y->di ? -1 : x->di > y->di);
}

/* A batch task: compile what is pending, the smallest first, up to
 * WEX__TIER_BATCH_BYTES at a time (a large function costs the compiler
 * the most time and must not hold back the small hot ones asked for with
 * it), load it, and again while more is pending. */
static void batch_task(void *arg, bool cancelled) {
    wex__tierup *tu = arg;
    for (;;) {
        pthread_mutex_lock(&tu->mu);
        wex__module *m = tu->m;
        uint32_t n = 0, nl = 0, nd = m ? m->native->nfuncs : 0;
        uint32_t *list = m && !cancelled && tu->npending
                             ? wex__malloc(2 * (size_t)tu->npending * sizeof *list)
                             : NULL;
        uint32_t *loops = list ? list + tu->npending : NULL;
        cand_t *cand = list ? wex__malloc((size_t)tu->npending * sizeof *cand) : NULL;
        uint32_t nc = 0;
        for (uint32_t i = 0; cand && i < nd && nc < tu->npending; i++) {
            bool f = tu->state[i] == F_PENDING, l = tu->osr[i] == F_PENDING;
            if (f || l) cand[nc++] = (cand_t){i, tu->size[i] * (f + l), f, l};
        }
        if (cand) qsort(cand, nc, sizeof *cand, by_size);
        size_t bytes = 0;
        for (uint32_t k = 0; k < nc; k++) {
            if (k && bytes + cand[k].size > WEX__TIER_BATCH_BYTES) break; /* the next batch */
            bytes += cand[k].size;
            uint32_t i = cand[k].di;
            if (cand[k].fn) {
                tu->state[i] = F_COMPILING;
                list[n++] = i;
                tu->npending--;
            }
            if (cand[k].loops) {
                __atomic_store_n(&tu->osr[i], F_COMPILING, __ATOMIC_RELEASE);
                loops[nl++] = i;
                tu->npending--;
            }
        }
        wex__free(cand);
        /* the compiler wants them ascending */
        if (n) qsort(list, n, sizeof *list, cmp_u32);
        if (nl) qsort(loops, nl, sizeof *loops, cmp_u32);
        if (!n && !nl) {
            tu->npending = 0;
            tu->busy = false;
            pthread_mutex_unlock(&tu->mu);
            wex__free(list);
            break;
        }
        pthread_mutex_unlock(&tu->mu);

        uint8_t *obj = NULL;
        size_t olen = 0;
        uint64_t t0 = wex__os_now_ns();
        if (!tu->svc) tu->svc = wex__native_service_new();
        wex_error_t *err =
            tu->svc ? wex__native_service_compile(tu->svc, tu->mode, tu->bytes, tu->len, list, n,
                                                  loops, nl, tu->cancel[0], &obj, &olen)
                    : wex__error_nomem();
        uint64_t t1 = wex__os_now_ns();

        pthread_mutex_lock(&tu->mu);
        if ((m = tu->m) != NULL) {
            wex__native_obj *o = NULL;
            if (!err) err = wex__native_load(obj, olen, nd, &o);
            if (!err) wex__native_add(m, o);
            for (uint32_t k = 0; k < n; k++)
                tu->state[list[k]] = err ? F_FAILED : F_DONE;
            for (uint32_t k = 0; k < nl; k++)
                __atomic_store_n(&tu->osr[loops[k]], err ? F_FAILED : F_DONE, __ATOMIC_RELEASE);
            if (tu->trace) trace_batch(m, n ? list : loops, n, nl, t1 - t0, err);
            if (!err) wex__cache_resave(m);
        }
        pthread_cond_broadcast(&tu->done);
        pthread_mutex_unlock(&tu->mu);
        wex_error_delete(err);
        wex__free(obj);
        wex__free(list);
    }
    unref(tu);
}

static void timer_fired(void *arg, bool cancelled);

/* Start a batch task if none runs and something is pending; the first
 * also arms the loop timer (a module with nothing hot, such as a short
 * program, never pays for one). Called with tu->mu held; drops it. */
static void start_unlock(wex__tierup *tu) {
    /* what only compiling needs, made now: a run that never compiles (the
     * usual cached or short one) pays for neither */
    if (!tu->tm && tu->m) tu->tm = wex_engine_task_manager(tu->engine);
    if (tu->cancel[0] < 0 && tu->m && !wex__os_signal_new(tu->cancel))
        tu->cancel[0] = tu->cancel[1] = -1;
    if (tu->busy || !tu->npending || !tu->m || !tu->tm || tu->cancel[0] < 0) {
        pthread_mutex_unlock(&tu->mu);
        return;
    }
    tu->busy = true;
    tu->refs++;
    bool arm = !tu->timer && tu->tm->sleep_async;
    if (arm) {
        __atomic_store_n(&tu->timer, true, __ATOMIC_RELEASE);
        tu->refs++;
    }
    pthread_mutex_unlock(&tu->mu);
    if (arm) {
        wex_error_t *err = tu->tm->sleep_async(tu->tm->data, (uint64_t)WEX__TIER_LOOP_MS * 1000000,
                                               timer_fired, tu);
        if (err) { /* no timer: loops are still found by their counters */
            wex_error_delete(err);
            unref(tu);
        }
    }
    wex_error_t *err = tu->tm->task_dedicated(tu->tm->data, batch_task, tu);
    if (err) { /* no thread: everything pending stays interpreted */
        wex_error_delete(err);
        pthread_mutex_lock(&tu->mu);
        for (uint32_t i = 0; tu->m && i < tu->m->native->nfuncs; i++) {
            if (tu->state[i] == F_PENDING) tu->state[i] = F_FAILED;
            if (tu->osr[i] == F_PENDING) __atomic_store_n(&tu->osr[i], F_FAILED, __ATOMIC_RELEASE);
        }
        tu->npending = 0;
        tu->busy = false;
        pthread_cond_broadcast(&tu->done);
        pthread_mutex_unlock(&tu->mu);
        unref(tu);
    }
}

wex_func_t *wex__tier_entry(wex_instance_t *inst, uint32_t di) {
    wex__module *m = (wex__module *)inst->module;
    wex__native *nat = m->native;
    void *fn = __atomic_load_n(&nat->fns[di], __ATOMIC_ACQUIRE);
    if (fn) {
        wex_func_t *f = inst->funcs[m->nfunc_imports + di];
        if (!f->native_entry) {
            f->native = fn;
            f->native_entry = nat->entries[di];
            f->nctx = &inst->nctx;
        }
        __atomic_store_n(&nat->hot[di], 0, __ATOMIC_RELAXED);
        return f;
    }
    wex__tierup *tu = tierup_of(m);
    if (!tu) {
        __atomic_store_n(&nat->hot[di], INT32_MAX, __ATOMIC_RELAXED);
        return NULL;
    }
    pthread_mutex_lock(&tu->mu);
    int32_t again = WEX__TIER_RECHECK;
    int eager = eager_mode();
    if (eager) {
        if (eager == EAGER_SOME && di % 2) {
            __atomic_store_n(&nat->hot[di], INT32_MAX, __ATOMIC_RELAXED);
            pthread_mutex_unlock(&tu->mu);
            return NULL;
        }
        for (uint32_t i = 0; i < nat->nfuncs; i++)
            if (tu->state[i] == F_NONE && (eager == EAGER_ALL || i % 2 == 0)) {
                tu->state[i] = F_PENDING;
                tu->npending++;
            }
        start_unlock(tu);
        pthread_mutex_lock(&tu->mu);
        while (tu->m && (tu->state[di] == F_PENDING || tu->state[di] == F_COMPILING))
            pthread_cond_wait(&tu->done, &tu->mu);
        pthread_mutex_unlock(&tu->mu);
        fn = __atomic_load_n(&nat->fns[di], __ATOMIC_ACQUIRE);
        if (!fn) {
            __atomic_store_n(&nat->hot[di], INT32_MAX, __ATOMIC_RELAXED);
            return NULL;
        }
        return wex__tier_entry(inst, di);
    }
    if (tu->state[di] == F_NONE) {
        tu->state[di] = F_PENDING;
        tu->npending++;
    } else if (tu->state[di] == F_FAILED) {
        again = INT32_MAX; /* it stays interpreted */
    }
    __atomic_store_n(&nat->hot[di], again, __ATOMIC_RELAXED);
    start_unlock(tu);
    return NULL;
}

void *wex__tier_loop(wex_instance_t *inst, uint32_t di, uint32_t off) {
    wex__module *m = (wex__module *)inst->module;
    wex__native *nat = m->native;
    void *e = wex__native_loop_entry(nat, di, off);
    wex__tierup *tu = tierup_of(m);
    if (e) {
        __atomic_store_n(&nat->loophot[di], 1, __ATOMIC_RELAXED); /* other frames: at once */
        if (tu && tu->trace &&
            __atomic_exchange_n(&tu->osr[di], F_ENTERED, __ATOMIC_ACQ_REL) != F_ENTERED)
            fprintf(stderr, "wex: tier-up: entering a loop of #%u at offset %u\n",
                    m->nfunc_imports + di, off);
        return e;
    }
    uint8_t st = tu ? __atomic_load_n(&tu->osr[di], __ATOMIC_ACQUIRE) : F_FAILED;
    if (st == F_DONE || st == F_FAILED || st == F_ENTERED) { /* no entry here, nor will be */
        __atomic_store_n(&nat->loophot[di], INT32_MAX, __ATOMIC_RELAXED);
        return NULL;
    }
    __atomic_store_n(&nat->loophot[di], WEX__TIER_LOOP_RECHECK, __ATOMIC_RELAXED);
    if (st != F_NONE && !eager_mode()) return NULL; /* asked for already */
    pthread_mutex_lock(&tu->mu);
    if (tu->osr[di] == F_NONE) {
        __atomic_store_n(&tu->osr[di], F_PENDING, __ATOMIC_RELEASE);
        tu->npending++;
    }
    start_unlock(tu);
    if (!eager_mode()) return NULL;
    /* tests: wait for the code, as wex__tier_entry does */
    pthread_mutex_lock(&tu->mu);
    while (tu->m && (tu->osr[di] == F_PENDING || tu->osr[di] == F_COMPILING))
        pthread_cond_wait(&tu->done, &tu->mu);
    pthread_mutex_unlock(&tu->mu);
    return wex__tier_loop(inst, di, off);
}

/* The loop timer: the module has been running; ask for every function
 * entered so far, and look again later while it still runs. */
static void timer_fired(void *arg, bool cancelled) {
    wex__tierup *tu = arg;
    pthread_mutex_lock(&tu->mu);
    wex__module *m = tu->m;
    if (cancelled || !m || __atomic_load_n(&m->native->active, __ATOMIC_ACQUIRE) == 0) {
        __atomic_store_n(&tu->timer, false, __ATOMIC_RELEASE);
        pthread_mutex_unlock(&tu->mu);
        unref(tu);
        return;
    }
    wex__native *nat = m->native;
    for (uint32_t i = 0; i < nat->nfuncs; i++) {
        if (__atomic_load_n(&nat->hot[i], __ATOMIC_RELAXED) >= wex__tier_initial_count(m, i, false))
            continue; /* never entered */
        if (tu->state[i] == F_NONE) {
            tu->state[i] = F_PENDING;
            tu->npending++;
        }
        if (tu->osr[i] == F_NONE) { /* it may be in a loop now: entries into its loops */
            __atomic_store_n(&tu->osr[i], F_PENDING, __ATOMIC_RELEASE);
            tu->npending++;
            __atomic_store_n(&nat->loophot[i], 1, __ATOMIC_RELAXED);
        }
    }
    /* armed again (the reference carries over) */
    wex_error_t *err =
        tu->tm->sleep_async(tu->tm->data, (uint64_t)WEX__TIER_LOOP_MS * 1000000, timer_fired, tu);
    if (err) {
        wex_error_delete(err);
        __atomic_store_n(&tu->timer, false, __ATOMIC_RELEASE);
        tu->refs--; /* not the last: the module holds one */
    }
    start_unlock(tu);
}

void wex__tier_run_begin(wex_instance_t *inst) {
    __atomic_add_fetch(&inst->module->native->active, 1, __ATOMIC_ACQ_REL);
}

void wex__tier_run_end(wex_instance_t *inst) {
    __atomic_sub_fetch(&inst->module->native->active, 1, __ATOMIC_ACQ_REL);
}

void wex__tier_detach(wex__module *m) {
    wex__tierup *tu = m->native ? __atomic_load_n(&m->native->tierup, __ATOMIC_ACQUIRE) : NULL;
    if (!tu) return;
    pthread_mutex_lock(&tu->mu);
    tu->m = NULL;
    if (tu->cancel[0] >= 0) wex__os_signal_raise(tu->cancel);
    pthread_mutex_unlock(&tu->mu);
    unref(tu);
}
