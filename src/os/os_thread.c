/*
 * os_thread.c - what threads need from the operating system: a monotonic
 * clock, sleeping, condition variables that wait on that clock, starting
 * detached threads, how many CPUs this process may really use (affinity
 * and cgroup CPU quotas), and a big stack to run on.
 */
#define _GNU_SOURCE
#include "os/os.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

uint64_t wex__os_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Sleep the whole interval even if signals interrupt it. */
void wex__os_sleep_ns(uint64_t ns) {
    struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
    while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR) {
    }
}

/* Condition variables wait on the monotonic clock, so that deadlines do not
 * move when the wall clock is set. */
bool wex__os_cond_init(pthread_cond_t *cv) {
    pthread_condattr_t a;
    if (pthread_condattr_init(&a)) return false;
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    bool ok = pthread_cond_init(cv, &a) == 0;
    pthread_condattr_destroy(&a);
    return ok;
}

/* Wait until signalled or until the monotonic clock reaches deadline_ns
 * (UINT64_MAX: no deadline). Returns false on timeout. Spurious wake-ups
 * return true: callers loop on their own condition. */
bool wex__os_cond_wait_until(pthread_cond_t *cv, pthread_mutex_t *mu, uint64_t deadline_ns) {
    if (deadline_ns == UINT64_MAX) {
        pthread_cond_wait(cv, mu);
        return true;
    }
    struct timespec ts = {(time_t)(deadline_ns / 1000000000u), (long)(deadline_ns % 1000000000u)};
    return pthread_cond_timedwait(cv, mu, &ts) != ETIMEDOUT;
}

/* Threads are made detached: whoever waits for one does so on its own
 * condition, so no join handle has to be kept (or leaked). The stack is
 * sized for the interpreter, which does not recurse for WebAssembly calls
 * but does for host calls. */
bool wex__os_thread_start(void *(*fn)(void *), void *arg) {
    pthread_attr_t a;
    pthread_t t;
    if (pthread_attr_init(&a)) return false;
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&a, (size_t)8 << 20);
    bool ok = pthread_create(&t, &a, fn, arg) == 0;
    pthread_attr_destroy(&a);
    return ok;
}

/* Read a small text file into buf; false if it cannot be read. */
static bool read_small(const char *path, char *buf, size_t cap) {
    FILE *f = fopen(path, "re");
    if (!f) return false;
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = 0;
    return n > 0;
}

/* CPUs allowed by a CFS quota, rounded up; 0 when there is no quota.
 * cgroup v2 says "QUOTA PERIOD" (or "max PERIOD") in cpu.max; v1 has
 * cpu.cfs_quota_us (-1: none) and cpu.cfs_period_us. */
static unsigned cgroup_cpus(void) {
    char buf[128];
    long long quota = -1, period = 0;
    if (read_small("/sys/fs/cgroup/cpu.max", buf, sizeof buf)) {
        if (strncmp(buf, "max", 3) == 0) return 0;
        if (sscanf(buf, "%lld %lld", &quota, &period) != 2) return 0;
    } else {
        char b2[64];
        if (!read_small("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", buf, sizeof buf) ||
            !read_small("/sys/fs/cgroup/cpu/cpu.cfs_period_us", b2, sizeof b2))
            return 0;
        quota = atoll(buf);
        period = atoll(b2);
    }
    if (quota <= 0 || period <= 0) return 0;
    return (unsigned)((quota + period - 1) / period);
}

/* The parallelism really available: the CPUs in this thread's affinity
 * mask, lowered by a cgroup CPU quota; at least 1. */
unsigned wex__os_parallelism(void) {
    unsigned n = 0;
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) n = (unsigned)CPU_COUNT(&set);
    if (n == 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        n = c > 0 ? (unsigned)c : 1;
    }
    unsigned q = cgroup_cpus();
    if (q && q < n) n = q;
    return n ? n : 1;
}

/* ---------------------------------------------------------------- big stacks
 *
 * One per thread, made on first use (addresses only: pages cost memory when
 * touched), a guard page at its low end, unmapped when the thread exits.
 * Sanitizer builds have none: their runtimes follow the thread's own stack. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define WEX__OS_BIG_STACKS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define WEX__OS_BIG_STACKS 0
#endif
#endif
#ifndef WEX__OS_BIG_STACKS
#define WEX__OS_BIG_STACKS 1
#endif

typedef struct {
    uint8_t *base;
    size_t size;
    bool on; /* this thread runs on it now */
    void (*fn)(void *);
    void *arg;
} big_stack;
static __thread big_stack big;
static pthread_key_t big_key;
static pthread_once_t big_once = PTHREAD_ONCE_INIT;

static void big_free(void *p) {
    big_stack *b = p;
    if (b->base) munmap(b->base, b->size);
    b->base = NULL;
}
static void big_init(void) {
    pthread_key_create(&big_key, big_free);
}
static void big_start(void) {
    big.fn(big.arg);
}

bool wex__os_on_big_stack(void) {
    return big.on;
}

bool wex__os_big_stacks(void) {
    return WEX__OS_BIG_STACKS;
}

bool wex__os_run_on_big_stack(size_t size, void (*fn)(void *), void *arg) {
    if (!WEX__OS_BIG_STACKS) return false;
    if (big.on) {
        fn(arg);
        return true;
    }
    long page = sysconf(_SC_PAGESIZE);
    size = (size + (size_t)page - 1) & ~((size_t)page - 1);
    if (big.size < size) {
        big_free(&big);
        void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
        if (p == MAP_FAILED) return false;
        mprotect(p, (size_t)page, PROT_NONE); /* guard */
        pthread_once(&big_once, big_init);
        pthread_setspecific(big_key, &big);
        big.base = p;
        big.size = size;
    }
    ucontext_t here, there;
    if (getcontext(&there) != 0) return false;
    there.uc_stack.ss_sp = big.base;
    there.uc_stack.ss_size = big.size;
    there.uc_link = &here;
    big.fn = fn;
    big.arg = arg;
    makecontext(&there, big_start, 0);
    big.on = true;
    bool ok = swapcontext(&here, &there) == 0;
    big.on = false;
    return ok;
}

/* pthread_getattr_np reads /proc/self/maps for the main thread, so callers
 * keep the answer per thread; on a big stack, that stack. */
bool wex__os_stack_bounds(uintptr_t *lo, uintptr_t *hi) {
    if (big.on) {
        *lo = (uintptr_t)big.base + (uintptr_t)sysconf(_SC_PAGESIZE);
        *hi = (uintptr_t)big.base + big.size;
        return true;
    }
    pthread_attr_t a;
    if (pthread_getattr_np(pthread_self(), &a) != 0) return false;
    void *addr;
    size_t size, guard = 0;
    bool ok = pthread_attr_getstack(&a, &addr, &size) == 0;
    pthread_attr_getguardsize(&a, &guard);
    pthread_attr_destroy(&a);
    if (!ok) return false;
    *lo = (uintptr_t)addr + guard;
    *hi = (uintptr_t)addr + size;
    return true;
}
