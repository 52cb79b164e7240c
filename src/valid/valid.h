/*
 * valid.h - the validator: checks a decoded module against the typing rules
 * of the spec (chapter 3): indices in range, limits, constant expressions,
 * exports unique, and every function body type-checked with the operand and
 * control stacks of the spec's validation algorithm (appendix).
 */
#ifndef WEX_VALID_H
#define WEX_VALID_H

#include "module/module.h"

/*
 * Validate m, already decoded. Returns NULL, or a WEX_ERR_INVALID error whose
 * message begins with the spec's wording ("type mismatch", "unknown local",
 * "unknown global 3", ...) and whose offset is the byte offset of the
 * offending instruction or entry. Fills m->func_declared.
 */
wex_error_t *wex__validate(wex__module *m);

#endif
