/*
 * os_cpu.c - what the CPU offers, as far as wex asks: today only whether
 * the SHA-256 instructions (x86 SHA extensions) may be used.
 */
#include "os/os.h"

#if defined(__x86_64__) && defined(__has_include)
#if __has_include(<sys/platform/x86.h>)
#include <sys/platform/x86.h>
#define WEX__HAVE_GLIBC_X86 1
#endif
#endif
#if defined(__x86_64__) && !defined(WEX__HAVE_GLIBC_X86)
#include <cpuid.h>
#endif

/*
 * Ask glibc, which ran cpuid at start-up and keeps the answers (with what
 * the kernel and tunables allow), rather than run cpuid again: in a virtual
 * machine each cpuid is a trap to the hypervisor, about 8 us on the
 * project's VM, which `wex run`'s start-up would notice. Elsewhere cpuid
 * leaf 7 once. SSSE3 and SSE4.1 come with every CPU that has SHA, but the
 * code uses them, so they are checked too.
 */
bool wex__os_cpu_has_sha256(void) {
#if defined(WEX__HAVE_GLIBC_X86)
    return CPU_FEATURE_ACTIVE(SHA) && CPU_FEATURE_ACTIVE(SSSE3) && CPU_FEATURE_ACTIVE(SSE4_1);
#elif defined(__x86_64__)
    static int known; /* 0 not asked, 1 no, 2 yes: a benign race, every thread gets the same */
    int k = __atomic_load_n(&known, __ATOMIC_RELAXED);
    if (!k) {
        unsigned a, b, c, d, ok = 0;
        if (__get_cpuid(1, &a, &b, &c, &d) && (c & bit_SSSE3) && (c & bit_SSE4_1) &&
            __get_cpuid_count(7, 0, &a, &b, &c, &d))
            ok = (b >> 29) & 1;
        k = ok ? 2 : 1;
        __atomic_store_n(&known, k, __ATOMIC_RELAXED);
    }
    return k == 2;
#else
    return false;
#endif
}
