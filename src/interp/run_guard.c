/*
 * run_guard.c - the interpreter loop with guard pages: no check per access; a fault in the
 * reservation traps through the signal handler and interp.c's run_guard.
 */
#include "interp/interp_run.h"

#define WEX__CHECKED 0
#define WEX__RUN     wex__interp_run_guard_inner
#include "interp/interp_loop.h"
