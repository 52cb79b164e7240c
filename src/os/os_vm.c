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
