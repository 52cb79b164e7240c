/*
 * interp_atomic.h - the handlers of the threads proposal's operators, part of
 * the interpreter loop: interp_loop.h includes this file inside WEX__RUN, so
 * it is compiled into both bounds-check policies. The operand layouts are
 * listed in compile_atomic.c.
 *
 * Every access is sequentially consistent (__atomic builtins on the linear
 * memory, as C11 atomics would be) and checks its bounds against the
 * memory's current size explicitly, in both policies: a shared memory may
 * have been grown by another thread, and the alignment rule ("unaligned
 * atomic") needs the effective address anyway.
 */

/* The effective address of an n-byte atomic access: address in slot ip[A],
 * offset in word ip[O]. Bounds first, then alignment, as the spec orders
 * them. */
#define AEA(A, O, n)                                                                               \
    uint64_t ea = (uint64_t)(uint32_t)S(A) + ip[O];                                                \
    if (WEX__UNLIKELY(ea + (n) > __atomic_load_n(&inst->mem0->size, __ATOMIC_ACQUIRE)))            \
        TRAP(WEX_TRAP_MEMORY_OOB);                                                                 \
    if (WEX__UNLIKELY(ea & ((n)-1))) TRAP(WEX_TRAP_UNALIGNED_ATOMIC);                              \
    void *ap = inst->mem0->base + ea

#define ALOAD(name, T)                                                                             \
    L_##name : {                                                                                   \
        AEA(2, 3, sizeof(T));                                                                      \
        S(1) = (uint64_t)__atomic_load_n((T *)ap, __ATOMIC_SEQ_CST);                               \
        ip += 4;                                                                                   \
        NEXT();                                                                                    \
    }
#define ASTORE(name, T)                                                                            \
    L_##name : {                                                                                   \
        AEA(1, 3, sizeof(T));                                                                      \
        __atomic_store_n((T *)ap, (T)S(2), __ATOMIC_SEQ_CST);                                      \
        ip += 4;                                                                                   \
        NEXT();                                                                                    \
    }
/* Read-modify-write: the result is the old value, zero-extended. */
#define ARMW(name, T, fn)                                                                          \
    L_##name : {                                                                                   \
        AEA(2, 4, sizeof(T));                                                                      \
        T v_ = (T)S(3);                                                                            \
        S(1) = (uint64_t)fn((T *)ap, v_, __ATOMIC_SEQ_CST);                                        \
        ip += 5;                                                                                   \
        NEXT();                                                                                    \
    }
/* The expected value is wrapped to the access width; the result is the old
 * value whether or not the exchange happened. */
#define ACMPXCHG(name, T)                                                                          \
    L_##name : {                                                                                   \
        AEA(2, 5, sizeof(T));                                                                      \
        T e_ = (T)S(3), r_ = (T)S(4);                                                              \
        __atomic_compare_exchange_n((T *)ap, &e_, r_, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);  \
        S(1) = (uint64_t)e_;                                                                       \
        ip += 6;                                                                                   \
        NEXT();                                                                                    \
    }
/* One operator for every access width of a family. */
#define AWIDTHS(M, op, ...)                                                                        \
    M(I32_ATOMIC_##op, uint32_t, ##__VA_ARGS__)                                                    \
    M(I64_ATOMIC_##op, uint64_t, ##__VA_ARGS__)
#define ARMWS(op, fn)                                                                              \
    ARMW(I32_ATOMIC_RMW_##op, uint32_t, fn)                                                        \
    ARMW(I64_ATOMIC_RMW_##op, uint64_t, fn)                                                        \
    ARMW(I32_ATOMIC_RMW8_##op##_U, uint8_t, fn)                                                    \
    ARMW(I32_ATOMIC_RMW16_##op##_U, uint16_t, fn)                                                  \
    ARMW(I64_ATOMIC_RMW8_##op##_U, uint8_t, fn)                                                    \
    ARMW(I64_ATOMIC_RMW16_##op##_U, uint16_t, fn)                                                  \
    ARMW(I64_ATOMIC_RMW32_##op##_U, uint32_t, fn)

AWIDTHS(ALOAD, LOAD)
ALOAD(I32_ATOMIC_LOAD8_U, uint8_t)
ALOAD(I32_ATOMIC_LOAD16_U, uint16_t)
ALOAD(I64_ATOMIC_LOAD8_U, uint8_t)
ALOAD(I64_ATOMIC_LOAD16_U, uint16_t)
ALOAD(I64_ATOMIC_LOAD32_U, uint32_t)
AWIDTHS(ASTORE, STORE)
ASTORE(I32_ATOMIC_STORE8, uint8_t)
ASTORE(I32_ATOMIC_STORE16, uint16_t)
ASTORE(I64_ATOMIC_STORE8, uint8_t)
ASTORE(I64_ATOMIC_STORE16, uint16_t)
ASTORE(I64_ATOMIC_STORE32, uint32_t)
ARMWS(ADD, __atomic_fetch_add)
ARMWS(SUB, __atomic_fetch_sub)
ARMWS(AND, __atomic_fetch_and)
ARMWS(OR, __atomic_fetch_or)
ARMWS(XOR, __atomic_fetch_xor)
ARMWS(XCHG, __atomic_exchange_n)
ACMPXCHG(I32_ATOMIC_RMW_CMPXCHG, uint32_t)
ACMPXCHG(I64_ATOMIC_RMW_CMPXCHG, uint64_t)
ACMPXCHG(I32_ATOMIC_RMW8_CMPXCHG_U, uint8_t)
ACMPXCHG(I32_ATOMIC_RMW16_CMPXCHG_U, uint16_t)
ACMPXCHG(I64_ATOMIC_RMW8_CMPXCHG_U, uint8_t)
ACMPXCHG(I64_ATOMIC_RMW16_CMPXCHG_U, uint16_t)
ACMPXCHG(I64_ATOMIC_RMW32_CMPXCHG_U, uint32_t)

/* wait: only on a shared memory (anything else could never be woken);
 * blocks this thread in the parking lot (runtime/atomic.c). The timeout
 * is in nanoseconds, negative for none. */
L_MEMORY_ATOMIC_WAIT32 : {
    AEA(2, 5, 4);
    if (!inst->mem0->shared) TRAP(WEX_TRAP_EXPECTED_SHARED);
    uint32_t e_ = (uint32_t)S(3);
    int64_t t_ = (int64_t)S(4);
    S(1) = wex__atomic_wait(ap, e_, false, t_);
    ip += 6;
    NEXT();
}
L_MEMORY_ATOMIC_WAIT64 : {
    AEA(2, 5, 8);
    if (!inst->mem0->shared) TRAP(WEX_TRAP_EXPECTED_SHARED);
    uint64_t e_ = S(3);
    int64_t t_ = (int64_t)S(4);
    S(1) = wex__atomic_wait(ap, e_, true, t_);
    ip += 6;
    NEXT();
}
/* notify: no thread can wait on an unshared memory, so it wakes none. */
L_MEMORY_ATOMIC_NOTIFY : {
    AEA(2, 4, 4);
    uint32_t n_ = (uint32_t)S(3);
    S(1) = inst->mem0->shared ? wex__atomic_notify(ap, n_) : 0;
    ip += 5;
    NEXT();
}
/* A full fence. A sequentially consistent read-modify-write is one on
 * every host, and ThreadSanitizer understands it (it does not model
 * atomic_thread_fence). */
L_ATOMIC_FENCE : {
    static uint32_t fence_word;
    __atomic_fetch_add(&fence_word, 0, __ATOMIC_SEQ_CST);
    ip += 1;
    NEXT();
}

#undef AEA
#undef ALOAD
#undef ASTORE
#undef ARMW
#undef ACMPXCHG
#undef AWIDTHS
#undef ARMWS
