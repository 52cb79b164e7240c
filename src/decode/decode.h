/*
 * decode.h - the binary decoder: bytes -> wex__module.
 *
 * Checks everything the binary format (spec chapter 5) makes "malformed":
 * magic and version, section ids, order and sizes, LEB128 forms, UTF-8 names,
 * vector counts, and the syntax of every function body (opcodes, immediates,
 * nesting), so that a malformed module is reported as malformed even when it
 * is also invalid. It checks nothing of chapter 3 (types, indices): that is
 * valid's job.
 */
#ifndef WEX_DECODE_H
#define WEX_DECODE_H

#include "module/module.h"

/*
 * Decode m->bytes[0..m->len) into m. On failure returns a WEX_ERR_MALFORMED
 * (or WEX_ERR_UNSUPPORTED for SIMD) error whose offset is the byte offset of
 * the problem and whose message begins with the spec's wording (e.g.
 * "unexpected end", "integer too large", "section size mismatch"). The module
 * may be partly filled; wex__module_free releases it either way.
 */
wex_error_t *wex__decode(wex__module *m);

#endif
