/*
 * run_det.c - the interpreter loop for deterministic engines: explicit bounds checks, and every
 * float result that is a NaN made the canonical NaN.
 */
#include "interp/interp_run.h"

#define WEX__CHECKED 1
#define WEX__DET     1
#define WEX__RUN     wex__interp_run_det
#include "interp/interp_loop.h"
