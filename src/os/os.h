/*
 * os.h - the operating-system layer: virtual memory reservations and the
 * guard-page fault handler. All OS-specific code lives under src/os/.
 */
#ifndef WEX_OS_H
#define WEX_OS_H

#include <pthread.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

size_t wex__os_page_size(void);
/* Reserve len bytes of address space, inaccessible. NULL on failure. */
void *wex__os_reserve(size_t len);
/* Make [p, p+len) readable and writable (zero-filled if never touched). */
bool wex__os_commit(void *p, size_t len);
/* Give back a reservation. */
void wex__os_release(void *p, size_t len);

/*
 * Guard-page traps. While a thread runs WebAssembly code in guard-page mode,
 * wex__os_trap_jmp points at a jump buffer; a SIGSEGV/SIGBUS whose address lies
 * in a registered region then jumps there. Any other fault goes to the handler
 * that was installed before ours (or the default action).
 */
extern __thread sigjmp_buf *wex__os_trap_jmp;
bool wex__os_install_trap_handler(void);
/* Register a region whose faults are traps. Returns a handle >= 0, or -1. */
int wex__os_register_region(void *base, size_t len);
void wex__os_unregister_region(int handle);

/*
 * Threads and time (os_thread.c), for the task manager and for
 * memory.atomic.wait.
 */
uint64_t wex__os_now_ns(void); /* monotonic clock */
void wex__os_sleep_ns(uint64_t ns);
/* A condition variable whose timed waits use the monotonic clock. */
bool wex__os_cond_init(pthread_cond_t *cv);
/* Wait until signalled (true) or deadline_ns passes (false); UINT64_MAX
 * waits forever. */
bool wex__os_cond_wait_until(pthread_cond_t *cv, pthread_mutex_t *mu, uint64_t deadline_ns);
/* Start a detached thread running fn(arg). */
bool wex__os_thread_start(void *(*fn)(void *), void *arg);
/* CPUs this process may use: affinity mask, then cgroup v2/v1 CPU quota. */
unsigned wex__os_parallelism(void);

#endif
