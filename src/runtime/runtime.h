/*
 * runtime.h - the runtime objects behind the public handles: engine, store,
 * instance, function, memory, table, global.
 *
 * Instance layout: an instance holds arrays of pointers to its functions,
 * tables, memories and globals (imported ones point at the exporter's
 * objects). Code reaches memory 0 through inst->mem0, whose base never moves
 * (memories are reservations grown in place), so interpreted code and a later
 * native tier can keep the base in a register and reload the size only after
 * calls and memory.grow.
 */
#ifndef WEX_RUNTIME_H
#define WEX_RUNTIME_H

#include "alloc/alloc.h"
#include "base/base.h"
#include "module/module.h"

#include <pthread.h>

struct wex_config {
    wex_bounds_t bounds;
    uint32_t max_call_depth;
    size_t max_stack_bytes;
};

/* Defaults, in one place, with their reasons. */
enum {
    /* Deep enough for real recursive programs, shallow enough that the frame
     * array stays small: the same order as other engines' defaults. */
    WEX__DEFAULT_MAX_CALL_DEPTH = 100000,
};
/* The value stack: 64 MiB of 8-byte slots, reserved lazily (untouched pages
 * cost nothing). */
#define WEX__DEFAULT_MAX_STACK_BYTES ((size_t)64 << 20)

typedef struct {
    uint32_t nparams, nresults;
    uint8_t *types;
} wex__itype;

struct wex_engine {
    struct wex_config config;
    wex__allocator *alloc; /* memories, tables and instance records */
    pthread_mutex_t lock;  /* guards the type table */
    wex__itype *types;     /* interned function types; canon id = index */
    uint32_t ntypes, captypes;
};

/* Intern a function type; returns its canonical id (UINT32_MAX on OOM). */
uint32_t wex__engine_intern(wex_engine_t *e, uint32_t nparams, uint32_t nresults,
                            const uint8_t *types);

/* Every runtime object starts with this header; the store frees them all. */
typedef enum {
    WEX__OBJ_FUNC,
    WEX__OBJ_TABLE,
    WEX__OBJ_MEMORY,
    WEX__OBJ_GLOBAL,
    WEX__OBJ_INSTANCE
} wex__objkind;
typedef struct wex__obj {
    struct wex__obj *next;
    uint8_t kind;
} wex__obj;

/* A call frame of the interpreter: where to go back to. */
typedef struct {
    const uint32_t *ip;
    uint64_t *fp;
    struct wex_instance *inst;
    struct wex_func *callee; /* guard-page builds only: for fault backtraces */
} wex__frame;

struct wex_store {
    wex_engine_t *engine;
    void *data;
    wex__obj *objects;
    /* The value stack, reserved on first call. */
    uint64_t *stack, *stack_end, *stack_top;
    size_t stack_bytes;
    /* Call frames. depth counts frames in use across nested entries. */
    wex__frame *frames;
    uint32_t depth, max_depth;
};

struct wex_func {
    wex__obj hdr;
    uint32_t canon;               /* interned type id */
    const wex__functype *type;    /* the type */
    struct wex_instance *inst;    /* NULL for host functions */
    uint32_t code_index;          /* wasm: index into compiled->funcs */
    wex_host_callback_t callback; /* host */
    void *env;
    void (*finalizer)(void *);
    wex__functype own_type; /* host: its own copy */
    wex_valkind_t *kinds;   /* params then results, for wex_func_type */
};

struct wex_memory {
    wex__obj hdr;
    uint8_t *base;
    uint64_t size;     /* bytes accessible */
    uint64_t reserved; /* bytes reserved */
    wex__limits lim;   /* lim.min: current pages */
    int region;        /* guard region handle, or -1 */
};

struct wex_table {
    wex__obj hdr;
    void **elems;
    uint32_t size, cap;
    uint8_t elem; /* reftype */
    wex__limits lim;
    wex__allocator *alloc; /* owns elems */
};

struct wex_global {
    wex__obj hdr;
    uint64_t val; /* bits; references as pointers */
    uint8_t type;
    bool mut;
};

typedef struct {
    uint32_t count; /* 0 once dropped */
    void **refs;
} wex__elemseg;

struct wex_instance {
    wex__obj hdr;
    const wex__module *module;
    wex_store_t *store;
    wex_func_t **funcs;
    wex_table_t **tables;
    wex_memory_t **mems;
    wex_global_t **globals;
    wex_memory_t *mem0; /* mems[0] or NULL */
    wex__elemseg *elems;
    uint8_t *data_dropped;
};

/* Memories and tables. */
wex_error_t *wex__memory_create(wex_store_t *s, const wex__limits *lim, wex_memory_t **out);
int64_t wex__memory_grow(wex_memory_t *m, uint64_t delta);
wex_error_t *wex__table_create(wex_store_t *s, uint8_t elem, const wex__limits *lim, void *init,
                               wex_table_t **out);
int64_t wex__table_grow(wex_table_t *t, uint32_t delta, void *init);

/* Link an object into its store. */
void wex__store_adopt(wex_store_t *s, wex__obj *o, wex__objkind kind);
/* Make sure the value stack exists. */
wex_error_t *wex__store_stack(wex_store_t *s);

/* Call f with its arguments in slots[0..nparams); results land in slots[0..]. */
wex_error_t *wex__call(wex_store_t *s, wex_func_t *f, uint64_t *slots);

/* Convert between API values and slots. */
uint64_t wex__val_to_slot(const wex_val_t *v);
wex_val_t wex__slot_to_val(uint64_t slot, uint8_t type);

/* Call host function f with arguments in slots; results replace them. */
wex_error_t *wex__host_call(wex_store_t *s, wex_func_t *f, uint64_t *slots);
#endif
