/*
 * os.h - the operating-system layer: virtual memory reservations and the
 * guard-page fault handler. All OS-specific code lives under src/os/.
 */
#ifndef WEX_OS_H
#define WEX_OS_H

#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>

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
/* After a trap jumped out of the handler: make sure SIGSEGV/SIGBUS are not
 * left blocked. Our handler runs with SA_NODEFER, but a runtime that wraps
 * signal handlers (ThreadSanitizer's does) may block the signal around it,
 * and the jump buffer does not restore the mask; a second fault would then
 * kill the process. Called on the trap path only. */
void wex__os_trap_recovered(void);

#endif
