/*
 * os_vm.c - the virtual-memory calls behind copy-on-write images and pooled
 * slots: memfd images, private file mappings placed over a reservation,
 * decommitting pages for reuse.
 */
#define _GNU_SOURCE
#include "os/os.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/syscall.h>
#endif

/* memfd_create through syscall(): older C libraries lack the wrapper. */
int wex__os_memfd(const char *name) {
#if defined(__linux__) && defined(SYS_memfd_create)
    long fd = syscall(SYS_memfd_create, name, 0x0001U /* MFD_CLOEXEC */ | 0x0002U /* SEALING */);
    return fd < 0 ? -1 : (int)fd;
#else
    (void)name;
    return -1;
#endif
}

bool wex__os_set_size(int fd, unsigned long long len) {
    return ftruncate(fd, (off_t)len) == 0;
}

bool wex__os_write_at(int fd, const void *buf, size_t len, unsigned long long off) {
    const uint8_t *p = buf;
    size_t done = 0;
    while (done < len) {
        ssize_t n = pwrite(fd, p + done, len - done, (off_t)(off + done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        done += (size_t)n;
    }
    return true;
}

/* Seal so that nobody (not even wex by mistake) can change an image that
 * live instances map: their untouched pages read straight from it. */
void wex__os_seal(int fd) {
#if defined(F_ADD_SEALS) && defined(F_SEAL_WRITE)
    (void)fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
#else
    (void)fd;
#endif
}

void *wex__os_alloc_lazy(size_t len) {
    void *p =
        mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

const void *wex__os_map_readonly(int fd, size_t len, unsigned long long off) {
    void *p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, (off_t)off);
    return p == MAP_FAILED ? NULL : p;
}

bool wex__os_map_private_fixed(void *p, size_t len, int fd, unsigned long long off) {
    return mmap(p, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd, (off_t)off) == p;
}

bool wex__os_reset_fixed(void *p, size_t len) {
    return len == 0 || mmap(p, len, PROT_NONE,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0) == p;
}

bool wex__os_decommit(void *p, size_t len, bool simulate_ignored) {
    if (len == 0 || simulate_ignored) return true;
    return madvise(p, len, MADV_DONTNEED) == 0;
}

bool wex__os_protect_none(void *p, size_t len) {
    return len == 0 || mprotect(p, len, PROT_NONE) == 0;
}

void wex__os_close(int fd) {
    if (fd >= 0) close(fd);
}

/*
 * Batched decommit. In a multi-threaded process every madvise(MADV_DONTNEED)
 * that drops present pages ends with a TLB shootdown: an inter-processor
 * interrupt to every other CPU running a thread of this process. A pool that
 * resets each freed slot with its own madvise therefore interrupts the other
 * instantiating threads once per instance, and adding a thread makes all of
 * them slower. process_madvise(2) takes a vector of ranges; since Linux 6.13
 * it accepts MADV_DONTNEED when the target is the calling process, and since
 * 6.16 it gathers the TLB flush over all ranges of one call: n slots cost one
 * shootdown instead of n.
 *
 * The pidfd it needs names a process, so a pidfd opened before fork() would
 * name the parent in the child (and MADV_DONTNEED on another process is
 * refused, or worse): the cache holds the pid it was opened for, packed with
 * the descriptor in one atomic word, and a process whose pid differs opens
 * its own. Whether the kernel takes the call is probed on first use and
 * remembered (ENOSYS: no syscall; EINVAL: MADV_DONTNEED not allowed there;
 * EPERM/EBADF: refused, e.g. by a seccomp filter); without it each range gets
 * its own madvise, still in one pass.
 */
#if defined(__linux__)
/*
 * A descriptor that names this process (a pidfd, /proc/self/pagemap), opened
 * once per process: *cache packs (pid << 32) | fd, with fd 0xffffffff when
 * opening failed, or is 0 before the first use. One opened before fork()
 * names the parent in the child, so a process whose pid differs opens its
 * own (and closes the inherited one). -1 if unavailable.
 */
static int self_fd(uint64_t *cache, int (*open_fd)(uint32_t pid)) {
    uint32_t pid = (uint32_t)getpid();
    uint64_t v = __atomic_load_n(cache, __ATOMIC_ACQUIRE);
    if (v && (uint32_t)(v >> 32) == pid) return (uint32_t)v == 0xffffffffu ? -1 : (int)(uint32_t)v;
    int fd = open_fd(pid);
    uint64_t nv = ((uint64_t)pid << 32) | (fd < 0 ? 0xffffffffu : (uint32_t)fd);
    if (__atomic_compare_exchange_n(cache, &v, nv, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        if (v && (uint32_t)v != 0xffffffffu) close((int)(uint32_t)v); /* the parent's */
        return fd < 0 ? -1 : fd;
    }
    if (fd >= 0) close(fd); /* another thread was first */
    return (uint32_t)(v >> 32) == pid && (uint32_t)v != 0xffffffffu ? (int)(uint32_t)v : -1;
}
#endif

#if defined(__linux__) && defined(SYS_process_madvise) && defined(SYS_pidfd_open)
#include <sys/uio.h>
#define WEX__HAVE_PMADV 1
/* 0: not yet known, 1: works, -1: unavailable. */
static int pmadv_state;
/* This process's pidfd, or 0: see self_fd. */
static uint64_t pmadv_fd;

static int open_pidfd(uint32_t pid) {
    return (int)syscall(SYS_pidfd_open, (long)pid, 0L);
}
#endif

bool wex__os_decommit_batched(void) {
#ifdef WEX__HAVE_PMADV
    return __atomic_load_n(&pmadv_state, __ATOMIC_RELAXED) > 0;
#else
    return false;
#endif
}

/* Ranges per process_madvise: the kernel takes up to 1024 (UIO_MAXIOV); 128
 * keeps the vector small on the stack and covers the pool's largest batch. */
#define WEX__OS_MAX_IOV 128

unsigned wex__os_decommit_many(wex__os_range *r, size_t n, bool no_batch) {
    unsigned calls = 0;
    size_t first = 0; /* ranges before this are done */
    for (size_t i = 0; i < n; i++)
        r[i].done = r[i].len == 0;
#ifdef WEX__HAVE_PMADV
    int state = __atomic_load_n(&pmadv_state, __ATOMIC_RELAXED);
    int fd = no_batch || state < 0 || n < 2 ? -1 : self_fd(&pmadv_fd, open_pidfd);
    while (fd >= 0 && first < n) {
        struct iovec iov[WEX__OS_MAX_IOV];
        size_t k = 0, end = first;
        size_t total = 0;
        for (; end < n && k < WEX__OS_MAX_IOV; end++) {
            if (r[end].len == 0) continue;
            iov[k].iov_base = r[end].p;
            iov[k].iov_len = r[end].len;
            total += r[end].len;
            k++;
        }
        if (k == 0) {
            first = end;
            break;
        }
        long got = syscall(SYS_process_madvise, fd, iov, k, (long)MADV_DONTNEED, 0L);
        calls++;
        if (got < 0 && state == 0 &&
            (errno == ENOSYS || errno == EINVAL || errno == EPERM || errno == EBADF)) {
            __atomic_store_n(&pmadv_state, -1, __ATOMIC_RELAXED);
            break;
        }
        if (got > 0 && state == 0) __atomic_store_n(&pmadv_state, state = 1, __ATOMIC_RELAXED);
        /* Mark the ranges wholly covered; a short count leaves the rest (and
         * the range it stopped in) to the loop below. */
        size_t left = got > 0 ? (size_t)got : 0;
        for (; first < end; first++) {
            if (r[first].len > left) break;
            left -= r[first].len;
            r[first].done = true;
        }
        if ((size_t)(got > 0 ? got : 0) != total) break;
    }
#else
    (void)no_batch;
#endif
    for (size_t i = first; i < n; i++) {
        if (r[i].done) continue;
        r[i].done = madvise(r[i].p, r[i].len, MADV_DONTNEED) == 0;
        calls++;
    }
    return calls;
}

/* mincore over at most 4096 pages at a time, a page's byte on the stack. */
size_t wex__os_resident_prefix(void *p, size_t len) {
    size_t ps = wex__os_page_size(), done = 0;
    unsigned char vec[4096];
    while (done < len) {
        size_t n = (len - done + ps - 1) / ps;
        if (n > sizeof vec) n = sizeof vec;
        if (mincore((uint8_t *)p + done, n * ps, vec) != 0) return done;
        for (size_t k = 0; k < n; k++) {
            if (!(vec[k] & 1)) return done;
            done += ps;
        }
    }
    return done < len ? done : len;
}

/*
 * Which pages of a private mapping hold a private copy: /proc/self/pagemap,
 * one 64-bit entry per page (bit 63 present, bit 62 swapped, bit 61 a page of
 * a file or shared memory). For a private mapping of a file, a present page
 * without bit 61 is the process's own copy: one the program wrote to. The
 * pool uses it to put back, by copying, exactly the pages an instance
 * changed in its copy-on-write image (pool.c, restore_image). Like the
 * pidfd above, the descriptor names a process, so it is kept with the pid
 * it was opened for and a forked child opens its own. Flags need no
 * privilege (only the frame numbers do, and they are not used).
 */
#if defined(__linux__)
/* This process's /proc/self/pagemap, or 0: see self_fd. */
static uint64_t pagemap_fd;

static int open_pagemap(uint32_t pid) {
    (void)pid; /* "self" is the caller */
    return open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
}
#endif

int wex__os_private_pages(const void *p, size_t npages, uint8_t *state) {
#if defined(__linux__)
    int fd = self_fd(&pagemap_fd, open_pagemap);
    if (fd < 0) return -1;
    size_t ps = wex__os_page_size(), done = 0;
    uint64_t ent[256];
    while (done < npages) {
        size_t n = npages - done < 256 ? npages - done : 256;
        off_t at = (off_t)(((uintptr_t)p / ps + done) * sizeof(uint64_t));
        ssize_t k = pread(fd, ent, n * sizeof *ent, at);
        if (k != (ssize_t)(n * sizeof *ent)) return -1;
        for (size_t i = 0; i < n; i++) {
            uint64_t e = ent[i];
            state[done + i] = (e >> 62) & 1      ? WEX__OS_PAGE_SWAPPED
                              : !((e >> 63) & 1) ? WEX__OS_PAGE_ABSENT
                              : ((e >> 61) & 1)  ? WEX__OS_PAGE_SHARED
                                                 : WEX__OS_PAGE_PRIVATE;
        }
        done += n;
    }
    return 0;
#else
    (void)p;
    (void)npages;
    (void)state;
    return -1;
#endif
}
