/*
 * run_checked.c - the interpreter loop with explicit bounds checks: a compare per memory access.
 */
#include "interp/interp_run.h"

#define WEX__CHECKED 1
#define WEX__RUN     wex__interp_run_checked
#include "interp/interp_loop.h"
