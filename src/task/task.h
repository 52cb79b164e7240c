/*
 * task.h - the default task manager (task.c), which the engine owns.
 */
#ifndef WEX_TASK_INTERNAL_H
#define WEX_TASK_INTERNAL_H

#include "base/base.h"
#include "wex_task.h"

/* Fill *out with the default manager's table; nothing starts until used. */
wex_error_t *wex__task_default_new(wex_engine_t *engine, wex_task_manager_t *out);

#endif
