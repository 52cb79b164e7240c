/*
 * os_posix.c - mmap-based reservations and the SIGSEGV/SIGBUS handler that
 * turns faults in guard regions into WebAssembly traps.
 */
#define _GNU_SOURCE
#include "os/os.h"

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

__thread sigjmp_buf *wex__os_trap_jmp;

size_t wex__os_page_size(void) {
    static size_t ps;
    if (!ps) ps = (size_t)sysconf(_SC_PAGESIZE);
    return ps;
}

void *wex__os_reserve(size_t len) {
    void *p = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

bool wex__os_commit(void *p, size_t len) {
    return len == 0 || mprotect(p, len, PROT_READ | PROT_WRITE) == 0;
}

void wex__os_release(void *p, size_t len) {
    if (p) munmap(p, len);
}

/*
 * The region table is read by the signal handler, so it is a fixed array of
 * atomically written entries: no locks, no allocation. A slot is claimed with
 * a compare-and-swap on its base.
 */
#define WEX__MAX_REGIONS 8192
static struct {
    uintptr_t base; /* 0 = free */
    uintptr_t len;
} regions[WEX__MAX_REGIONS];

int wex__os_register_region(void *base, size_t len) {
    for (int i = 0; i < WEX__MAX_REGIONS; i++) {
        uintptr_t expected = 0;
        /* Claim with a sentinel first so the handler never sees a base
         * without its length. */
        if (__atomic_compare_exchange_n(&regions[i].base, &expected, (uintptr_t)1, false,
                                        __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
            __atomic_store_n(&regions[i].len, (uintptr_t)len, __ATOMIC_RELEASE);
            __atomic_store_n(&regions[i].base, (uintptr_t)base, __ATOMIC_RELEASE);
            return i;
        }
    }
    return -1;
}

void wex__os_unregister_region(int h) {
    if (h < 0 || h >= WEX__MAX_REGIONS) return;
    __atomic_store_n(&regions[h].len, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&regions[h].base, 0, __ATOMIC_RELEASE);
}

static bool in_region(uintptr_t a) {
    for (int i = 0; i < WEX__MAX_REGIONS; i++) {
        uintptr_t b = __atomic_load_n(&regions[i].base, __ATOMIC_ACQUIRE);
        if (b > 1 && a >= b && a - b < __atomic_load_n(&regions[i].len, __ATOMIC_ACQUIRE))
            return true;
    }
    return false;
}

__thread void (*wex__os_fault_hook)(uintptr_t ip, uintptr_t fp);

static struct sigaction prev_segv, prev_bus;

/* Chain to whatever handler was there before us. */
static void chain(int sig, siginfo_t *info, void *uctx) {
    struct sigaction *prev = sig == SIGSEGV ? &prev_segv : &prev_bus;
    if (prev->sa_flags & SA_SIGINFO) {
        if (prev->sa_sigaction) {
            prev->sa_sigaction(sig, info, uctx);
            return;
        }
    } else if (prev->sa_handler == SIG_IGN) {
        return;
    } else if (prev->sa_handler != SIG_DFL) {
        prev->sa_handler(sig);
        return;
    }
    /* Default action: restore it and return; the fault repeats and kills us. */
    signal(sig, SIG_DFL);
}

static void handler(int sig, siginfo_t *info, void *uctx) {
    sigjmp_buf *jb = wex__os_trap_jmp;
    if (jb && in_region((uintptr_t)info->si_addr)) {
        wex__os_trap_jmp = NULL;
        if (wex__os_fault_hook) {
#if defined(__x86_64__) && defined(__linux__)
            const ucontext_t *uc = uctx;
            wex__os_fault_hook((uintptr_t)uc->uc_mcontext.gregs[REG_RIP],
                               (uintptr_t)uc->uc_mcontext.gregs[REG_RBP]);
#else
            wex__os_fault_hook(0, 0);
#endif
        }
        siglongjmp(*jb, 1);
    }
    chain(sig, info, uctx);
}

void wex__os_trap_recovered(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGSEGV);
    sigaddset(&set, SIGBUS);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

static pthread_once_t once = PTHREAD_ONCE_INIT;
static bool installed;

static void install(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = handler;
    /* SA_NODEFER: we leave the handler by siglongjmp with a buffer that did not
     * save the mask, so the signal must not stay blocked. SA_ONSTACK: a guest
     * fault never happens on an overflowed native stack, but be safe. */
    sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    installed = sigaction(SIGSEGV, &sa, &prev_segv) == 0 && sigaction(SIGBUS, &sa, &prev_bus) == 0;
}

/* ThreadSanitizer runs signal handlers from its own wrapper, and leaving
 * that by siglongjmp crashes it: under TSan there is no guard-page handler,
 * and engines fall back to explicit checks (as wex_engine_new does whenever
 * the handler cannot be installed). */
#if defined(__SANITIZE_THREAD__)
#define WEX__NO_TRAP_HANDLER 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define WEX__NO_TRAP_HANDLER 1
#endif
#endif

bool wex__os_install_trap_handler(void) {
#ifdef WEX__NO_TRAP_HANDLER
    (void)install;
    (void)once;
    return false;
#else
    pthread_once(&once, install);
    return installed;
#endif
}
