/*
 * os_thread.c - what threads need from the operating system: a monotonic
 * clock, sleeping, condition variables that wait on that clock, starting
 * detached threads, and how many CPUs this process may really use
 * (affinity and cgroup CPU quotas).
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

/* pthread_getattr_np reads /proc/self/maps for the main thread, so callers
 * keep the answer per thread. */
bool wex__os_stack_bounds(uintptr_t *lo, uintptr_t *hi) {
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
