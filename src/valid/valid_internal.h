/*
 * valid_internal.h - what the parts of the validator share: the state of the
 * function-body checker (valid_func.c), reused across all bodies of a module
 * so that checking allocates only when a stack outgrows every earlier body.
 */
#ifndef WEX_VALID_INTERNAL_H
#define WEX_VALID_INTERNAL_H

#include "valid/valid.h"

/* The operand-stack entry for a value of any type: the polymorphic stack
 * below an unconditional branch. No value type encodes as 0. */
#define WEX__T_UNKNOWN 0

/* One entry of the control stack: a block, loop, if, else or the function. */
typedef struct {
    const uint8_t *params, *results; /* the block type's [params] -> [results] */
    uint32_t nparams, nresults;
    uint32_t height;  /* operand-stack height at entry, params excluded */
    size_t mark;      /* offset + 1 of the last br_table that checked this label */
    uint8_t kind;     /* WEX__OP_BLOCK, _LOOP, _IF, _ELSE; 0 for the function */
    bool unreachable; /* the rest of this block is dead code */
} wex__valid_frame;

typedef struct {
    wex__module *m;
    uint8_t *vals; /* operand stack: value types or WEX__T_UNKNOWN */
    size_t nvals, capvals;
    wex__valid_frame *ctrls;
    size_t nctrls, capctrls;
    uint8_t *locals; /* type of every local, params first */
    size_t caplocals;
    uint32_t nlocals;
    size_t at;       /* offset of the instruction being checked */
    size_t max_vals; /* deepest operand stack of the body last checked */
    wex_error_t *err;
} wex__valid_ctx;

/* Check the body of defined function `funcidx` (an index in the function
 * index space). Returns NULL or the error. */
wex_error_t *wex__valid_func(wex__valid_ctx *v, uint32_t funcidx);

/* Release the buffers of v. */
void wex__valid_ctx_free(wex__valid_ctx *v);

/* The name of a value type for messages ("i32", "funcref", ...). */
const char *wex__valid_typename(uint8_t t);

#endif
