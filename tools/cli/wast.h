/*
 * wast.h - the spec-test runner: runs the .json command lists that wabt's
 * wast2json makes from the WebAssembly spec tests (.wast).
 */
#ifndef WEX_CLI_WAST_H
#define WEX_CLI_WAST_H

#include <stdbool.h>
#include <stdio.h>

#include "wex.h"

typedef struct {
    bool verbose; /* print every failure detail, message mismatches, spectest prints */
} wast_options_t;

typedef struct {
    unsigned long passed, failed, skipped;
    unsigned long msg_mismatches; /* right outcome, different message: not failures */
} wast_counts_t;

/* Run one .json file in a fresh store of `engine`, print its PASS/FAIL line
 * (and, for failures, a line per failed command) to stdout, and add its
 * counts to *total. Returns true if nothing failed. */
bool wast_run_file(wex_engine_t *engine, const char *path, const wast_options_t *opts,
                   wast_counts_t *total);

#endif
