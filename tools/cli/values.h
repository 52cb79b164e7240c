/*
 * values.h - command-line values: parsing `wex run --invoke` arguments by
 * parameter type, and printing results the way wasmtime does.
 */
#ifndef WEX_CLI_VALUES_H
#define WEX_CLI_VALUES_H

#include <stdbool.h>
#include <stddef.h>

#include "wex.h"

/* Parse text as a value of `kind`: i32/i64 as decimal in the signed range
 * (-2^(N-1) to 2^(N-1)-1, as wasmtime; nothing wraps), f32/f64 as decimal or hex float
 * literals including nan, inf and -inf. Returns false if the text is not a
 * whole, in-range literal, or the kind cannot be written on a command line. */
bool cli_parse_value(const char *text, wex_valkind_t kind, wex_val_t *out);

/* Format a value for printing: integers as signed decimal; floats as the
 * shortest decimal that reads back to the same value, without exponent
 * (1.5, 100, 0.1, NaN, inf, -0); references as "null" or "<funcref>" /
 * "<externref>". buf should hold at least CLI_VALUE_BUF bytes. */
#define CLI_VALUE_BUF 400
void cli_format_value(const wex_val_t *v, char *buf, size_t n);

/* The text name of a value kind ("i32", ...). */
const char *cli_kind_name(wex_valkind_t kind);

#endif
