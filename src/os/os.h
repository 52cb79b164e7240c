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
/* Called, when set, by the handler of a fault it turns into a trap, before
 * it jumps: with the faulting instruction's address and frame pointer (for a
 * native backtrace, read while the frames still exist). Must be
 * async-signal-safe. */
extern __thread void (*wex__os_fault_hook)(uintptr_t ip, uintptr_t fp);
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

/* Copy-on-write images and slot reuse (os_vm.c). */
/* An anonymous in-memory file (Linux memfd), or -1 where there is none. */
int wex__os_memfd(const char *name);
/* Map fd [off, off+len) read-only and shared (to copy from). NULL on failure. */
const void *wex__os_map_readonly(int fd, size_t len, unsigned long long off);
/* Map fd [off, off+len) privately (copy-on-write), read-write, exactly at p. */
bool wex__os_map_private_fixed(void *p, size_t len, int fd, unsigned long long off);
/* Replace [p, p+len) with fresh inaccessible anonymous memory (drops file
 * mappings and contents). */
bool wex__os_reset_fixed(void *p, size_t len);
/* Give the pages of [p, p+len) back: a private mapping reads as its file
 * (or zeros) again. simulate_ignored: do nothing, as some emulators do. */
bool wex__os_decommit(void *p, size_t len, bool simulate_ignored);
/* One range for wex__os_decommit_many; done says it was given back. */
typedef struct {
    void *p;
    size_t len;
    bool done;
} wex__os_range;
/* Give back the pages of n ranges, like wex__os_decommit on each, with as
 * few system calls (and TLB shootdowns) as the kernel allows: one
 * process_madvise where it takes MADV_DONTNEED for the calling process, else
 * one madvise per range (no_batch forces that path). Sets each range's done;
 * returns the system calls made (for tests and counters). */
unsigned wex__os_decommit_many(wex__os_range *r, size_t n, bool no_batch);
/* Whether wex__os_decommit_many can use one call for many ranges here (it
 * probes on first use; false until then is not final). */
bool wex__os_decommit_batched(void);
/* Pages of [p, p+len) (p page-aligned) resident from the start, before the
 * first that is not: mincore(2). A page not resident may be one never
 * touched (zero) or one swapped out (not zero): only a resident prefix is
 * known to be all the pages there are to clear. 0 where unknown. */
size_t wex__os_resident_prefix(void *p, size_t len);
/* What each of npages pages from p (page-aligned) holds in this process:
 * WEX__OS_PAGE_PRIVATE, a page of the process's own (for a private mapping
 * of a file: a copy the program wrote); _SHARED, a page of the file or of
 * shared memory; _ABSENT, nothing mapped yet; _SWAPPED, a private page in
 * swap. 0 on success, -1 where the kernel cannot say (no /proc, not Linux). */
enum { WEX__OS_PAGE_ABSENT, WEX__OS_PAGE_SHARED, WEX__OS_PAGE_PRIVATE, WEX__OS_PAGE_SWAPPED };
int wex__os_private_pages(const void *p, size_t npages, uint8_t *state);
/* Make [p, p+len) inaccessible again. */
bool wex__os_protect_none(void *p, size_t len);
void wex__os_close(int fd);
/* len bytes of zeroed read-write memory, committed page by page on first
 * touch (MAP_NORESERVE). NULL on failure; give back with wex__os_release. */
void *wex__os_alloc_lazy(size_t len);
/* Set fd's size (a memfd's holes read as zeros and cost nothing). */
bool wex__os_set_size(int fd, unsigned long long len);
/* Write all of buf at offset off of fd. */
bool wex__os_write_at(int fd, const void *buf, size_t len, unsigned long long off);
/* Seal fd's size and contents. */
void wex__os_seal(int fd);
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
/* The calling thread's stack: its lowest usable address (above any guard)
 * and its highest. False where unknown. */
bool wex__os_stack_bounds(uintptr_t *lo, uintptr_t *hi);
/* Run fn(arg) on this thread's big stack of at least size bytes (made or
 * grown on first use; fn runs at once if the thread is on it already); while
 * it runs, wex__os_stack_bounds gives that stack. False, without running fn,
 * where there is none (sanitizer builds) or it cannot be made. */
bool wex__os_run_on_big_stack(size_t size, void (*fn)(void *), void *arg);
/* Whether big stacks exist in this build. */
bool wex__os_big_stacks(void);
/* Whether this thread runs on its big stack now. */
bool wex__os_on_big_stack(void);

/*
 * Native code (os_proc.c): pages to load it into, and the compiler process.
 */
/* len bytes of private read-write memory (page-aligned), or NULL. */
void *wex__os_map_rw(size_t len);
enum { WEX__OS_PROT_R, WEX__OS_PROT_RX };
bool wex__os_protect(void *p, size_t len, int prot);
void wex__os_unmap(void *p, size_t len);
/* Run the program at path with argv (argv[0] first, NULL-terminated) and
 * this process's environment, `in` on its standard input; collect its
 * standard output into *out (wex__malloc'd, *outlen bytes) and the start of
 * its standard error into err. Returns the exit status (0..255), or -1 if
 * it could not run or was killed (err says why). When cancel_fd (-1: none)
 * becomes readable, the child is killed and -1 returned ("cancelled"). */
int wex__os_run_filter(const char *path, char *const argv[], const void *in, size_t inlen,
                       int cancel_fd, uint8_t **out, size_t *outlen, char *err, size_t errlen);
/* A child process with pipes to its standard streams, for a compiler that
 * serves several requests (wex-llvmc --serve). The caller's thread owns it. */
typedef struct wex__os_child {
    int pid;          /* -1: none */
    int in, out, err; /* our ends of its pipes (-1: closed) */
} wex__os_child;
/* Start path with argv and this process's environment; false (err says
 * why) if it could not run. */
bool wex__os_child_start(const char *path, char *const argv[], wex__os_child *c, char *err,
                         size_t errlen);
/* Write req to the child's input and read one reply from its output: a
 * 64-bit little-endian length and that many bytes, returned in *reply
 * (wex__malloc'd, without the length). 0 on a reply; -1 when the child
 * ended or broke the framing (err: the start of its error output); -2 when
 * cancel_fd became readable ("cancelled"). After a failure, stop it. */
int wex__os_child_call(wex__os_child *c, const void *req, size_t reqlen, int cancel_fd,
                       uint8_t **reply, size_t *replylen, char *err, size_t errlen);
/* Kill and reap the child, close the pipes (a stopped or unstarted child:
 * nothing). */
void wex__os_child_stop(wex__os_child *c);
/* Name the code at [addr, addr + size) for perf (/tmp/perf-PID.map). */
void wex__os_perf_map(uintptr_t addr, size_t size, const char *name);
/* A one-way signal between threads for wex__os_run_filter's cancel_fd:
 * fd[0] becomes readable once wex__os_signal_raise(fd) ran. */
bool wex__os_signal_new(int fd[2]);
void wex__os_signal_raise(const int fd[2]);
void wex__os_signal_free(int fd[2]);
/* The directory holding the running executable (no trailing slash), or ""
 * where unknown. */
void wex__os_exe_dir(char *buf, size_t n);

#endif
