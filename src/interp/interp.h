/*
 * interp.h - the interpreter: translation of validated function bodies into
 * internal code, and the loop that runs it.
 *
 * Internal code is a register machine over the frame's 64-bit slots. A frame
 * is params, then declared locals, then the operand stack; since WebAssembly
 * fixes the stack height at every instruction, every operand is a slot index
 * known at translation time. Each instruction is a 32-bit opcode word followed
 * by 32-bit operand words (slot indices, immediates, or branch offsets
 * relative to the opcode word). No pointers: the code is position-independent
 * and can be written to a file and mapped back (the module cache does).
 *
 * Calls: arguments sit in consecutive slots of the caller's frame; the callee's
 * frame starts at the first of them, so arguments are never copied, and the
 * callee leaves its results at the start of its frame, where the caller finds
 * them as if the call had popped the arguments and pushed the results.
 */
#ifndef WEX_INTERP_H
#define WEX_INTERP_H

#include "base/opcodes.h"
#include "module/module.h"

/* Version of the internal code's layout (opcode numbering, operand words).
 * Part of the engine's id for cached artifacts: bump it whenever translated
 * code changes meaning, so that old artifacts become misses. */
#define WEX__INTERP_FORMAT_VERSION                                                                 \
    45 /* BR_TABLE_*A2, *A3; CONST32_RET; SELECT_IKA/B; MOVE_BR_IF_Z/NZ, I32_SHL_K,                \
          I32_SHL_ADD_IMM; BR_ADDIR2_*, BR_ADDIC2_*, BR_ADDIM2_*; CALL_LZ1, X_CALL_LZ1;            \
          GLOBAL_SET_ADDI_RET*; ADDK_BR_*, ANDK_BR_*, RSUBK_BR_*, THR_*, I32_ADD_OR_IMM; FST_*,    \
          LL_*, LI_*, M2_* (float store and load pairs); ADDI_, MOVE*_, I32_LOAD_CALL_L*,          \
          I32_ADD_RET, MOVE2/3/4_JMP; GLOBAL_ADDI_TEE, MOVE_JMP; BR_ADDI2/3, BR_TABLE_*A;          \
          rotations, float branches and pairs; STOREV_*, STORE2_*, STOREV2_*, CONST32_2 ..., *_ST; \
          LB_*, LBI_* (load and branch), CP_* (copies), SELECT_I32_* */

/* Internal opcodes: every WebAssembly operator keeps its name (simple ones run
 * as themselves), plus the internal ones below. */
#define WEX__IOPS_EXTRA(X)                                                                         \
    X(JMP)         /* off */                                                                       \
    X(BR_IF_NZ)    /* cond, off */                                                                 \
    X(BR_IF_Z)     /* cond, off */                                                                 \
    X(BR_TABLE_I)  /* idx, n, off[0..n] (n+1 offsets, the last the default) */                     \
    X(BR_TABLE_MP) /* n, address words (as LOAD_*), off, off[0..n]: the key an i32 load */         \
    X(BR_TABLE_MI)                                                                                 \
    X(BR_TABLE_MR)                                                                                 \
    X(BR_TABLE_MS)                                                                                 \
    X(MOVE)               /* dst, src */                                                           \
    X(MOVE2)              /* dst, src, dst2, src2: two copies, in order */                         \
    X(MOVE3)              /* three pairs */                                                        \
    X(MOVE4)              /* four pairs */                                                         \
    X(I32_ADD3)           /* dst, a, b, c, k: a + b + c + k */                                     \
    X(CONST32)            /* dst, imm */                                                           \
    X(CONST64)            /* dst, lo, hi */                                                        \
    X(CALL_I)             /* funcidx, base */                                                      \
    X(CALL_IND_I)         /* canon type, table, idx slot, base */                                  \
    X(CALL_L)             /* defined func, base, base + its frame, its code - this word, 0, 0 */   \
    X(CALL_LZ)            /* as CALL_L, then zfrom, zcount: locals to zero (from our fp) */        \
    X(CALL_LZ1)           /* as CALL_LZ with zcount 1 (no loop test) */                            \
    X(RET)                /* results already in slots 0.. */                                       \
    X(RET1)               /* src: move one result to slot 0, return */                             \
    X(I32_LEA)            /* dst, a, b, s, k: a + (b << s) + k */                                  \
    X(I32_RSUB_IMM)       /* dst, a, k: k - a */                                                   \
    X(I32_SHL_K)          /* dst, a, k: k << (a & 31), a bit mask `1u << i` */                     \
    X(I32_SHL_ADD_IMM)    /* dst, b, s, k: (b << s) + k, an address without a base */              \
    X(SELECT_IKA)         /* dst, k, b, c: c ? k : b (k a 32-bit constant) */                      \
    X(SELECT_IKB)         /* dst, a, k, c: c ? a : k */                                            \
    X(BR_I32_TEST_NZ)     /* a, b, off: branch if a & b != 0 */                                    \
    X(BR_I32_TEST_Z)      /* a, b, off: branch if a & b == 0 */                                    \
    X(BR_I32_TEST_NZ_IMM) /* a, k, off */                                                          \
    X(BR_I32_TEST_Z_IMM)  /* a, k, off */                                                          \
    X(F32_MULADD)         /* dst, a, b, c: a * b + c (two roundings) */                            \
    X(F32_MULSUB)         /* dst, a, b, c: a * b - c */                                            \
    X(F32_SUBMUL)         /* dst, a, b, c: c - a * b */                                            \
    X(F64_MULADD)         /* as the F32 ones; same order */                                        \
    X(F64_MULSUB)                                                                                  \
    X(F64_SUBMUL)                                                                                  \
    X(SELECT_I)        /* dst, a, b, cond */                                                       \
    X(GLOBAL_GET_I)    /* dst, idx */                                                              \
    X(GLOBAL_SET_I)    /* idx, src */                                                              \
    X(GLOBAL_SET_ADDI) /* idx, src, k: global = src + k (i32) */                                   \
    X(I32_ADD_IMM2)    /* d, a, k, d2, a2, k2: two I32_ADD_IMMs, in order */                       \
    X(TABLE_GET_I)     /* dst, table, idx */                                                       \
    X(TABLE_SET_I)     /* table, idx, val */                                                       \
    X(TABLE_SIZE_I)    /* dst, table */                                                            \
    X(TABLE_GROW_I)    /* dst, table, init, n */                                                   \
    X(TABLE_FILL_I)    /* table, i, val, n */                                                      \
    X(TABLE_COPY_I)    /* dst table, src table, d, s, n */                                         \
    X(TABLE_INIT_I)    /* table, elem, d, s, n */                                                  \
    X(ELEM_DROP_I)     /* elem */                                                                  \
    X(MEMORY_SIZE_I)   /* dst */                                                                   \
    X(MEMORY_GROW_I)   /* dst, delta */                                                            \
    X(MEMORY_INIT_I)   /* data, d, s, n */                                                         \
    X(DATA_DROP_I)     /* data */                                                                  \
    X(MEMORY_COPY_I)   /* d, s, n */                                                               \
    X(MEMORY_FILL_I)   /* d, val, n */                                                             \
    X(REF_NULL_I)      /* dst */                                                                   \
    X(REF_IS_NULL_I)   /* dst, src */                                                              \
    X(REF_FUNC_I)      /* dst, funcidx */                                                          \
    X(UNREACHABLE_I)                                                                               \
    X(STOP)       /* ends an entry trampoline */                                                   \
    X(VERIFY_FN)  /* defined func index: check its code on first entry (wex__lazy) */              \
    X(TIER_ENTRY) /* defined func index: count the entry; run native code once there is some */    \
    X(LOOP_HEAD) /* defined func index, loop's module offset: count an iteration; enter the loop's \
                    native code once there is some (OSR) */                                        \
    X(EPOCH)     /* epoch interruption: stop, or ask the store, once the engine's epoch is at     \
                    the store's deadline (function entries and loop heads) */                      \
    WEX__IOPS_IMM(X)                                                                               \
    WEX__IOPS_BRCMP(X)                                                                             \
    WEX__IOPS_BRADDI(X)                                                                            \
    WEX__IOPS_IMM64(X)                                                                             \
    WEX__IOPS_FIMM(X)                                                                              \
    WEX__IOPS_DIVIMM(X)                                                                            \
    WEX__IOPS_SHOPS(X)                                                                             \
    WEX__IOPS_LOADS(X, _I)                                                                         \
    WEX__IOPS_LOADS(X, _R)                                                                         \
    WEX__IOPS_LOADS(X, _K)                                                                         \
    WEX__IOPS_LOADS(X, _S)                                                                         \
    WEX__IOPS_STORES(X, _I)                                                                        \
    WEX__IOPS_STORES(X, _R)                                                                        \
    WEX__IOPS_STORES(X, _K)                                                                        \
    WEX__IOPS_STORES(X, _S)                                                                        \
    WEX__IOPS_MOPS(X, P)                                                                           \
    WEX__IOPS_MOPS(X, I)                                                                           \
    WEX__IOPS_MOPS(X, R)                                                                           \
    WEX__IOPS_MOPS(X, S)                                                                           \
    WEX__IOPS_MOPS(X, PS)                                                                          \
    WEX__IOPS_MOPS(X, IS)                                                                          \
    WEX__IOPS_MOPS(X, RS)                                                                          \
    WEX__IOPS_MOPS(X, SS)                                                                          \
    WEX__IOPS_FRAMES(X)                                                                            \
    WEX__IOPS_LOOPS(X)                                                                             \
    WEX__IOPS_HASHFLOAT(X)                                                                         \
    WEX__IOPS_STOREV(X)                                                                            \
    WEX__IOPS_LOADBR(X)                                                                            \
    WEX__IOPS_COPY(X)                                                                              \
    WEX__IOPS_LOADBRI(X)                                                                           \
    WEX__IOPS_CALLS(X)                                                                             \
    WEX__IOPS_MOVEJ(X)                                                                             \
    WEX__IOPS_FLOATST(X)                                                                           \
    WEX__IOPS_PARSE(X)

/*
 * Rotate and float fusions (session 4). Xors of rotations of one value (the
 * sigma functions of SHA-2 and other hashes; rotations are kept as rotl, a
 * rotr by k being a rotl by 32 - k): dst, y, amounts. I32_ANDN a & ~b.
 * Float compare-and-branch: a, b, off (a, k, off with k one word for f32,
 * two for f64 in the _IMM ones); the N forms branch when the comparison is
 * false (so when an operand is NaN): br_if on a negated float compare.
 */
#define WEX__IOPS_HASHFLOAT(X)                                                                     \
    X(I32_XROT2)     /* dst, y, a, b: rotl(y, a) ^ rotl(y, b) */                                   \
    X(I32_XROT_SHR)  /* dst, y, a, c: rotl(y, a) ^ (y >> c) */                                     \
    X(I32_XROT3)     /* dst, y, a, b, c: rotl(y, a) ^ rotl(y, b) ^ rotl(y, c) */                   \
    X(I32_XROT2_SHR) /* dst, y, a, b, c: rotl(y, a) ^ rotl(y, b) ^ (y >> c) */                     \
    X(I32_ANDN)      /* dst, a, b: a & ~b */                                                       \
    X(I32_ADD_XROT2) /* dst, x, y, a, b: x + (rotl(y, a) ^ rotl(y, b)); the others likewise */     \
    X(I32_ADD_XROT_SHR)                                                                            \
    X(I32_ADD_XROT3)                                                                               \
    X(I32_ADD_XROT2_SHR)                                                                           \
    WEX__IOPS_BRF(X, F32, )                                                                        \
    WEX__IOPS_BRF(X, F32, _IMM)                                                                    \
    WEX__IOPS_BRF(X, F64, )                                                                        \
    WEX__IOPS_BRF(X, F64, _IMM)                                                                    \
    WEX__IOPS_FPAIR(X, F32)                                                                        \
    WEX__IOPS_FPAIR(X, F64)                                                                        \
    WEX__IOPS_FOBR(X, F32)                                                                         \
    WEX__IOPS_FOBR(X, F64)                                                                         \
    WEX__IOPS_IPAIR1(X, ADD)                                                                       \
    WEX__IOPS_IPAIR1(X, SUB)                                                                       \
    WEX__IOPS_IPAIR1(X, AND)                                                                       \
    WEX__IOPS_IPAIR1(X, OR)                                                                        \
    WEX__IOPS_IPAIR1(X, XOR)                                                                       \
    WEX__IOPS_IPAIR1(X, ANDN)

/* Two i32 operations in a row, one dispatch (compile_fuse.h's ipair_merge):
 * I32_PAIR_A_B runs A (dst, a, b), then B (dst, a, b), as the two
 * instructions would; A and B among ADD SUB AND OR XOR ANDN, in this order. */
#define WEX__IOPS_IPAIR1(X, A)                                                                     \
    X(I32_PAIR_##A##_ADD)                                                                          \
    X(I32_PAIR_##A##_SUB)                                                                          \
    X(I32_PAIR_##A##_AND)                                                                          \
    X(I32_PAIR_##A##_OR)                                                                           \
    X(I32_PAIR_##A##_XOR)                                                                          \
    X(I32_PAIR_##A##_ANDN)

/* A float add, sub or mul, then a compare-and-branch against a constant
 * (BR_T_*_IMM), one dispatch: dst, a, b, x, k (f64: two words), off. The
 * branch compares x, which may be what the operation just wrote. */
#define WEX__IOPS_FOBR1(X, T, A)                                                                   \
    X(T##_##A##_BR_EQ_IMM)                                                                         \
    X(T##_##A##_BR_NE_IMM)                                                                         \
    X(T##_##A##_BR_LT_IMM)                                                                         \
    X(T##_##A##_BR_GT_IMM)                                                                         \
    X(T##_##A##_BR_LE_IMM)                                                                         \
    X(T##_##A##_BR_GE_IMM)                                                                         \
    X(T##_##A##_BR_NLT_IMM)                                                                        \
    X(T##_##A##_BR_NGT_IMM)                                                                        \
    X(T##_##A##_BR_NLE_IMM)                                                                        \
    X(T##_##A##_BR_NGE_IMM)
#define WEX__IOPS_FOBR(X, T)                                                                       \
    WEX__IOPS_FOBR1(X, T, ADD)                                                                     \
    WEX__IOPS_FOBR1(X, T, SUB)                                                                     \
    WEX__IOPS_FOBR1(X, T, MUL)

/* Two float operations in a row, one dispatch (compile_fuse.h's
 * fpair_merge): T_PAIR_A_B runs A then B, each with its own operand words
 * (A's first), as the two instructions would; A and B among ADD SUB MUL
 * (dst, a, b) and MULADD MULSUB SUBMUL (dst, a, b, c), in this order. */
#define WEX__IOPS_FPAIR1(X, T, A)                                                                  \
    X(T##_PAIR_##A##_ADD)                                                                          \
    X(T##_PAIR_##A##_SUB)                                                                          \
    X(T##_PAIR_##A##_MUL)                                                                          \
    X(T##_PAIR_##A##_MULADD)                                                                       \
    X(T##_PAIR_##A##_MULSUB)                                                                       \
    X(T##_PAIR_##A##_SUBMUL)
#define WEX__IOPS_FPAIR(X, T)                                                                      \
    WEX__IOPS_FPAIR1(X, T, ADD)                                                                    \
    WEX__IOPS_FPAIR1(X, T, SUB)                                                                    \
    WEX__IOPS_FPAIR1(X, T, MUL)                                                                    \
    WEX__IOPS_FPAIR1(X, T, MULADD)                                                                 \
    WEX__IOPS_FPAIR1(X, T, MULSUB)                                                                 \
    WEX__IOPS_FPAIR1(X, T, SUBMUL)

/* Float compare-and-branch, one family per type and operand form, in the
 * order of compile_fuse.h's BRF_* indices. */
#define WEX__IOPS_BRF(X, T, F)                                                                     \
    X(BR_##T##_EQ##F)                                                                              \
    X(BR_##T##_NE##F)                                                                              \
    X(BR_##T##_LT##F)                                                                              \
    X(BR_##T##_GT##F)                                                                              \
    X(BR_##T##_LE##F)                                                                              \
    X(BR_##T##_GE##F)                                                                              \
    X(BR_##T##_NLT##F)                                                                             \
    X(BR_##T##_NGT##F)                                                                             \
    X(BR_##T##_NLE##F)                                                                             \
    X(BR_##T##_NGE##F)

/*
 * Prologue and branch-move fusions (compile.c, frame_fuse_*):
 * GLOBAL_ADDI_TEE: dst, idx, k: dst = global + k (i32), global = dst: a C
 *   function's `sp = __stack_pointer - N; __stack_pointer = sp`.
 * MOVE_JMP: dst, src, off: a branch's value move, then the jump.
 * MOVE_BR_IF_Z, MOVE_BR_IF_NZ: dst, src, cond, off: a move, then br_if on
 *   cond (which may be dst: `p = malloc(n); if (!p)`; session 6).
 */
#define WEX__IOPS_FRAMES(X)                                                                        \
    X(GLOBAL_ADDI_TEE)                                                                             \
    X(MOVE_JMP)                                                                                    \
    X(MOVE_BR_IF_Z)                                                                                \
    X(MOVE_BR_IF_NZ)

/*
 * Call and return fusions (compile.c, call_fuse_prefix, emit_return): the
 * instruction just before a direct call (an argument's add, move or load)
 * and the call as one dispatch. X_CALL_L, X_CALL_LZ: X's operand words, then
 * a whole CALL_L / CALL_LZ (its opcode word included, which
 * wex__compiled.lcall names): X runs, then the call. The LZ form of each
 * follows its L form, and the LZ1 form (one chunk to zero) its LZ form. X is
 * I32_ADD_IMM (ADDI: `f(n - 1)`), MOVE, MOVE2,
 * MOVE3 or I32_LOAD (slot + offset).
 * I32_ADD_RET: a, b: slot 0 = a + b (i32), then RET (`return x + y`).
 * CONST32_RET: k: slot 0 = k, then RET (`return 0`; session 6).
 * GLOBAL_SET_ADDI_RET, _RET1: as GLOBAL_SET_ADDI (idx, src, k), then RET, or
 *   RET1 src (one more word): a C function's epilogue restoring its stack
 *   pointer, then its return.
 */
#define WEX__IOPS_CALLS(X)                                                                         \
    X(ADDI_CALL_L)                                                                                 \
    X(ADDI_CALL_LZ)                                                                                \
    X(ADDI_CALL_LZ1)                                                                               \
    X(MOVE_CALL_L)                                                                                 \
    X(MOVE_CALL_LZ)                                                                                \
    X(MOVE_CALL_LZ1)                                                                               \
    X(MOVE2_CALL_L)                                                                                \
    X(MOVE2_CALL_LZ)                                                                               \
    X(MOVE2_CALL_LZ1)                                                                              \
    X(MOVE3_CALL_L)                                                                                \
    X(MOVE3_CALL_LZ)                                                                               \
    X(MOVE3_CALL_LZ1)                                                                              \
    X(I32_LOAD_CALL_L)                                                                             \
    X(I32_LOAD_CALL_LZ)                                                                            \
    X(I32_LOAD_CALL_LZ1)                                                                           \
    X(I32_ADD_RET)                                                                                 \
    X(CONST32_RET)                                                                                 \
    X(GLOBAL_SET_ADDI_RET)                                                                         \
    X(GLOBAL_SET_ADDI_RET1)

/*
 * A branch's value moves, then its jump (compile.c, frame_fuse_move_jmp),
 * as MOVE_JMP for one: MOVEk_JMP: k (dst, src) pairs, then off (relative to
 * its own word, like JMP's). A loop that carries k variables to its head.
 */
#define WEX__IOPS_MOVEJ(X)                                                                         \
    X(MOVE2_JMP)                                                                                   \
    X(MOVE3_JMP)                                                                                   \
    X(MOVE4_JMP)

/*
 * Binary operators with one operand in memory (a load the translator folded
 * in), one family per address form, each in this order (compile.c's
 * mop_index): dst, x, address words of the form (as LOAD_*), off; the result
 * is x op m (m op x for the R ones), m the value loaded. The _MPS ... _MSS
 * families also store the result back to the same address (`a[i] += x`).
 */
#define WEX__IOPS_MOPS(X, F)                                                                       \
    X(F32_ADD_M##F)                                                                                \
    X(F32_SUB_M##F)                                                                                \
    X(F32_MUL_M##F)                                                                                \
    X(F32_DIV_M##F)                                                                                \
    X(F32_RSUB_M##F)                                                                               \
    X(F32_RDIV_M##F)                                                                               \
    X(F64_ADD_M##F)                                                                                \
    X(F64_SUB_M##F)                                                                                \
    X(F64_MUL_M##F)                                                                                \
    X(F64_DIV_M##F)                                                                                \
    X(F64_RSUB_M##F)                                                                               \
    X(F64_RDIV_M##F)                                                                               \
    X(I32_ADD_M##F)                                                                                \
    X(I32_SUB_M##F)                                                                                \
    X(I32_MUL_M##F)                                                                                \
    X(I32_AND_M##F)                                                                                \
    X(I32_OR_M##F)                                                                                 \
    X(I32_XOR_M##F)                                                                                \
    X(I32_RSUB_M##F)

/*
 * Loads and stores with their address folded in, one family per form, in
 * the order of the WebAssembly operators (so form + (op - first) maps):
 *   LOAD_I  dst, a, k, off         ea = (uint32)(a + k) + off
 *   LOAD_R  dst, a, b, s, k, off   ea = (uint32)(a + (b << s) + k) + off
 *   LOAD_K  dst, k, off            ea = k + off
 *   LOAD_S  dst, b, s, k, off      ea = (uint32)((b << s) + k) + off
 *   STORE_I a, k, val, off    STORE_R a, b, s, k, val, off    STORE_K k, val, off
 *   STORE_S b, s, k, val, off
 * The i32 arithmetic wraps as the WebAssembly operators it replaces did.
 */
#define WEX__IOPS_LOADS(X, F)                                                                      \
    X(I32_LOAD##F)                                                                                 \
    X(I64_LOAD##F)                                                                                 \
    X(F32_LOAD##F)                                                                                 \
    X(F64_LOAD##F)                                                                                 \
    X(I32_LOAD8_S##F)                                                                              \
    X(I32_LOAD8_U##F)                                                                              \
    X(I32_LOAD16_S##F)                                                                             \
    X(I32_LOAD16_U##F)                                                                             \
    X(I64_LOAD8_S##F)                                                                              \
    X(I64_LOAD8_U##F)                                                                              \
    X(I64_LOAD16_S##F)                                                                             \
    X(I64_LOAD16_U##F)                                                                             \
    X(I64_LOAD32_S##F)                                                                             \
    X(I64_LOAD32_U##F)
#define WEX__IOPS_STORES(X, F)                                                                     \
    X(I32_STORE##F)                                                                                \
    X(I64_STORE##F)                                                                                \
    X(F32_STORE##F)                                                                                \
    X(F64_STORE##F)                                                                                \
    X(I32_STORE8##F)                                                                               \
    X(I32_STORE16##F)                                                                              \
    X(I64_STORE8##F)                                                                               \
    X(I64_STORE16##F)                                                                              \
    X(I64_STORE32##F)

/* i32 operators with a constant second operand: dst, a, imm. */
#define WEX__IOPS_IMM(X)                                                                           \
    X(I32_ADD_IMM)                                                                                 \
    X(I32_SUB_IMM)                                                                                 \
    X(I32_MUL_IMM)                                                                                 \
    X(I32_AND_IMM)                                                                                 \
    X(I32_OR_IMM)                                                                                  \
    X(I32_XOR_IMM)                                                                                 \
    X(I32_SHL_IMM)                                                                                 \
    X(I32_SHR_S_IMM)                                                                               \
    X(I32_SHR_U_IMM)                                                                               \
    X(I32_EQ_IMM)                                                                                  \
    X(I32_NE_IMM)                                                                                  \
    X(I32_LT_S_IMM)                                                                                \
    X(I32_LT_U_IMM)                                                                                \
    X(I32_GT_S_IMM)                                                                                \
    X(I32_GT_U_IMM)                                                                                \
    X(I32_LE_S_IMM) X(I32_LE_U_IMM) X(I32_GE_S_IMM) X(I32_GE_U_IMM) X(I32_ROTL_IMM) X(I32_ROTR_IMM)

/* i64 operators with a constant second operand: dst, a, imm (sign-extended
 * from 32 bits). */
#define WEX__IOPS_IMM64(X)                                                                         \
    X(I64_ADD_IMM)                                                                                 \
    X(I64_SUB_IMM)                                                                                 \
    X(I64_MUL_IMM)                                                                                 \
    X(I64_AND_IMM)                                                                                 \
    X(I64_OR_IMM)                                                                                  \
    X(I64_XOR_IMM)                                                                                 \
    X(I64_SHL_IMM)                                                                                 \
    X(I64_SHR_S_IMM)                                                                               \
    X(I64_SHR_U_IMM)                                                                               \
    X(I64_EQ_IMM)                                                                                  \
    X(I64_NE_IMM)                                                                                  \
    X(I64_LT_S_IMM)                                                                                \
    X(I64_LT_U_IMM)                                                                                \
    X(I64_GT_S_IMM)                                                                                \
    X(I64_GT_U_IMM)                                                                                \
    X(I64_LE_S_IMM)                                                                                \
    X(I64_LE_U_IMM)                                                                                \
    X(I64_GE_S_IMM)                                                                                \
    X(I64_GE_U_IMM)

/* Division by a constant (never zero, never -1): dst, a, k (i64: k is a
 * positive 32-bit value). */
#define WEX__IOPS_DIVIMM(X)                                                                        \
    X(I32_DIV_S_IMM)                                                                               \
    X(I32_DIV_U_IMM)                                                                               \
    X(I32_REM_S_IMM)                                                                               \
    X(I32_REM_U_IMM)                                                                               \
    X(I64_DIV_S_IMM)                                                                               \
    X(I64_DIV_U_IMM)                                                                               \
    X(I64_REM_S_IMM)                                                                               \
    X(I64_REM_U_IMM)

/* Float operators with a constant operand: dst, a, k (f64: k lo, k hi);
 * RSUB k - a, RDIV k / a. */
#define WEX__IOPS_FIMM(X)                                                                          \
    X(F32_ADD_IMM)                                                                                 \
    X(F32_SUB_IMM)                                                                                 \
    X(F32_MUL_IMM)                                                                                 \
    X(F32_DIV_IMM)                                                                                 \
    X(F32_RSUB_IMM)                                                                                \
    X(F32_RDIV_IMM)                                                                                \
    X(F32_EQ_IMM)                                                                                  \
    X(F32_NE_IMM)                                                                                  \
    X(F32_LT_IMM)                                                                                  \
    X(F32_GT_IMM)                                                                                  \
    X(F32_LE_IMM)                                                                                  \
    X(F32_GE_IMM)                                                                                  \
    X(F64_ADD_IMM)                                                                                 \
    X(F64_SUB_IMM)                                                                                 \
    X(F64_MUL_IMM)                                                                                 \
    X(F64_DIV_IMM)                                                                                 \
    X(F64_RSUB_IMM)                                                                                \
    X(F64_RDIV_IMM)                                                                                \
    X(F64_EQ_IMM)                                                                                  \
    X(F64_NE_IMM)                                                                                  \
    X(F64_LT_IMM)                                                                                  \
    X(F64_GT_IMM)                                                                                  \
    X(F64_LE_IMM)                                                                                  \
    X(F64_GE_IMM)

/* x op (y shifted or rotated by a constant): dst, x, y, k. Operators in
 * the order XOR OR AND ADD, five shift kinds each (compile.c's SH_*). */
#define WEX__IOPS_SHOPS(X)                                                                         \
    X(I32_XOR_SHL)                                                                                 \
    X(I32_XOR_SHR_S)                                                                               \
    X(I32_XOR_SHR_U)                                                                               \
    X(I32_XOR_ROTL)                                                                                \
    X(I32_XOR_ROTR)                                                                                \
    X(I32_OR_SHL)                                                                                  \
    X(I32_OR_SHR_S)                                                                                \
    X(I32_OR_SHR_U)                                                                                \
    X(I32_OR_ROTL)                                                                                 \
    X(I32_OR_ROTR)                                                                                 \
    X(I32_AND_SHL)                                                                                 \
    X(I32_AND_SHR_S)                                                                               \
    X(I32_AND_SHR_U)                                                                               \
    X(I32_AND_ROTL)                                                                                \
    X(I32_AND_ROTR)                                                                                \
    X(I32_ADD_SHL)                                                                                 \
    X(I32_ADD_SHR_S)                                                                               \
    X(I32_ADD_SHR_U)                                                                               \
    X(I32_ADD_ROTL)                                                                                \
    X(I32_ADD_ROTR)                                                                                \
    X(I32_SHR_U_AND_IMM) /* dst, y, s, mask: (y >> s) & mask */                                    \
    X(I32_SHL_AND_IMM)   /* dst, y, s, mask: (y << s) & mask */

/* Compare and branch if true: a, b, off (or a, imm, off for the _IMM ones). */
#define WEX__IOPS_BRCMP(X)                                                                         \
    X(BR_I32_EQ)                                                                                   \
    X(BR_I32_NE)                                                                                   \
    X(BR_I32_LT_S)                                                                                 \
    X(BR_I32_LT_U)                                                                                 \
    X(BR_I32_GT_S)                                                                                 \
    X(BR_I32_GT_U)                                                                                 \
    X(BR_I32_LE_S)                                                                                 \
    X(BR_I32_LE_U)                                                                                 \
    X(BR_I32_GE_S)                                                                                 \
    X(BR_I32_GE_U)                                                                                 \
    X(BR_I32_EQ_IMM)                                                                               \
    X(BR_I32_NE_IMM)                                                                               \
    X(BR_I32_LT_S_IMM)                                                                             \
    X(BR_I32_LT_U_IMM)                                                                             \
    X(BR_I32_GT_S_IMM)                                                                             \
    X(BR_I32_GT_U_IMM) X(BR_I32_LE_S_IMM) X(BR_I32_LE_U_IMM) X(BR_I32_GE_S_IMM) X(BR_I32_GE_U_IMM)

/* Add a constant to a local, then compare it and branch if true (loop back
 * edges): x, k, b, off (b an immediate for the _IMM ones). Same order as
 * WEX__IOPS_BRCMP. */
#define WEX__IOPS_BRADDI(X)                                                                        \
    X(BR_ADDI_I32_EQ)                                                                              \
    X(BR_ADDI_I32_NE)                                                                              \
    X(BR_ADDI_I32_LT_S)                                                                            \
    X(BR_ADDI_I32_LT_U)                                                                            \
    X(BR_ADDI_I32_GT_S)                                                                            \
    X(BR_ADDI_I32_GT_U)                                                                            \
    X(BR_ADDI_I32_LE_S)                                                                            \
    X(BR_ADDI_I32_LE_U)                                                                            \
    X(BR_ADDI_I32_GE_S)                                                                            \
    X(BR_ADDI_I32_GE_U)                                                                            \
    X(BR_ADDI_I32_EQ_IMM)                                                                          \
    X(BR_ADDI_I32_NE_IMM)                                                                          \
    X(BR_ADDI_I32_LT_S_IMM)                                                                        \
    X(BR_ADDI_I32_LT_U_IMM)                                                                        \
    X(BR_ADDI_I32_GT_S_IMM)                                                                        \
    X(BR_ADDI_I32_GT_U_IMM)                                                                        \
    X(BR_ADDI_I32_LE_S_IMM)                                                                        \
    X(BR_ADDI_I32_LE_U_IMM)                                                                        \
    X(BR_ADDI_I32_GE_S_IMM)                                                                        \
    X(BR_ADDI_I32_GE_U_IMM)

/*
 * Loop ends and interpreter dispatch (session 4):
 *   BR_ADDI2_*  d, a, k, x, kx, b, off: d = a + k (i32), then BR_ADDI_* x, kx, b, off
 *   BR_ADDI3_*  d, a, k, d2, a2, k2, x, kx, b, off: two such adds, in order, then BR_ADDI_*
 *   BR_ADDIR2_* d, a, c, x, kx, b, off: d = a + c (c a slot: `sum += v`), then BR_ADDI_*
 *   BR_ADDIC2_* d, k, x, kx, b, off: d = k (a constant), then BR_ADDI_*
 *   BR_ADDIM2_* d, a, x, kx, b, off: d = a (a move), then BR_ADDI_*
 * (conditions in the order of WEX__IOPS_BRADDI, so BR_ADDI2_I32_EQ + (op -
 * BR_ADDI_I32_EQ) maps), and br_tables that first step a counter (the
 * `pc + 1` of a `switch (code[pc++])`):
 *   BR_TABLE_IA  idx, n, d, a, k, off[0..n]: d = a + k, then BR_TABLE_I
 *   BR_TABLE_MPA ... BR_TABLE_MSA  n, address words, off, d, a, k, off[0..n]:
 *                d = a + k, then the BR_TABLE_M* (the address read after the add)
 *   BR_TABLE_IA2, BR_TABLE_MPA2 ... MSA2, and the same with 3: as the A
 *                forms with two or three adds (d, a, k each; an I32_ADD_IMM2's
 *                pair, and the I32_ADD_IMM after it), run in order (session 6)
 * and selects on an i32 comparison (conditions in WEX__IOPS_BRCMP's order):
 *   SELECT_I32_*  dst, a, b, x, y, c: c = x cmp y, then dst = c ? a : b (y an
 *                 immediate for the _IMM ones)
 */
#define WEX__IOPS_BRADDI_N(X, N)                                                                   \
    X(BR_ADDI##N##_I32_EQ)                                                                         \
    X(BR_ADDI##N##_I32_NE)                                                                         \
    X(BR_ADDI##N##_I32_LT_S)                                                                       \
    X(BR_ADDI##N##_I32_LT_U)                                                                       \
    X(BR_ADDI##N##_I32_GT_S)                                                                       \
    X(BR_ADDI##N##_I32_GT_U)                                                                       \
    X(BR_ADDI##N##_I32_LE_S)                                                                       \
    X(BR_ADDI##N##_I32_LE_U)                                                                       \
    X(BR_ADDI##N##_I32_GE_S)                                                                       \
    X(BR_ADDI##N##_I32_GE_U)                                                                       \
    X(BR_ADDI##N##_I32_EQ_IMM)                                                                     \
    X(BR_ADDI##N##_I32_NE_IMM)                                                                     \
    X(BR_ADDI##N##_I32_LT_S_IMM)                                                                   \
    X(BR_ADDI##N##_I32_LT_U_IMM)                                                                   \
    X(BR_ADDI##N##_I32_GT_S_IMM)                                                                   \
    X(BR_ADDI##N##_I32_GT_U_IMM)                                                                   \
    X(BR_ADDI##N##_I32_LE_S_IMM)                                                                   \
    X(BR_ADDI##N##_I32_LE_U_IMM)                                                                   \
    X(BR_ADDI##N##_I32_GE_S_IMM)                                                                   \
    X(BR_ADDI##N##_I32_GE_U_IMM)
#define WEX__IOPS_LOOPS(X)                                                                         \
    WEX__IOPS_BRADDI_N(X, 2)                                                                       \
    WEX__IOPS_BRADDI_N(X, 3)                                                                       \
    WEX__IOPS_BRADDI_N(X, R2)                                                                      \
    WEX__IOPS_BRADDI_N(X, C2)                                                                      \
    WEX__IOPS_BRADDI_N(X, M2)                                                                      \
    X(BR_TABLE_IA)                                                                                 \
    X(BR_TABLE_MPA)                                                                                \
    X(BR_TABLE_MIA)                                                                                \
    X(BR_TABLE_MRA)                                                                                \
    X(BR_TABLE_MSA)                                                                                \
    X(BR_TABLE_IA2)                                                                                \
    X(BR_TABLE_MPA2)                                                                               \
    X(BR_TABLE_MIA2)                                                                               \
    X(BR_TABLE_MRA2)                                                                               \
    X(BR_TABLE_MSA2)                                                                               \
    X(BR_TABLE_IA3)                                                                                \
    X(BR_TABLE_MPA3)                                                                               \
    X(BR_TABLE_MIA3)                                                                               \
    X(BR_TABLE_MRA3)                                                                               \
    X(BR_TABLE_MSA3)                                                                               \
    WEX__IOPS_SELCMP(X)
#define WEX__IOPS_SELCMP(X)                                                                        \
    X(SELECT_I32_EQ)                                                                               \
    X(SELECT_I32_NE)                                                                               \
    X(SELECT_I32_LT_S)                                                                             \
    X(SELECT_I32_LT_U)                                                                             \
    X(SELECT_I32_GT_S)                                                                             \
    X(SELECT_I32_GT_U)                                                                             \
    X(SELECT_I32_LE_S)                                                                             \
    X(SELECT_I32_LE_U)                                                                             \
    X(SELECT_I32_GE_S)                                                                             \
    X(SELECT_I32_GE_U)                                                                             \
    X(SELECT_I32_EQ_IMM)                                                                           \
    X(SELECT_I32_NE_IMM)                                                                           \
    X(SELECT_I32_LT_S_IMM)                                                                         \
    X(SELECT_I32_LT_U_IMM)                                                                         \
    X(SELECT_I32_GT_S_IMM)                                                                         \
    X(SELECT_I32_GT_U_IMM)                                                                         \
    X(SELECT_I32_LE_S_IMM)                                                                         \
    X(SELECT_I32_LE_U_IMM)                                                                         \
    X(SELECT_I32_GE_S_IMM)                                                                         \
    X(SELECT_I32_GE_U_IMM)

/*
 * Loads fused with the instruction right after them (session 4, compile.c's
 * loadbr_*): the load's words and the next instruction's words both stay as
 * they were (the second keeps its own opcode word, so the backtrace table,
 * the dump and a jump to it are unchanged); only the load's opcode word
 * names the pair, and its handler runs both with one dispatch.
 *   LB_<load>_<branch>: an i32 load (P, I, R, K forms; 32 or 8 bits
 *     unsigned), then a branch whose first operand is the loaded value:
 *     BR_IF_Z, BR_IF_NZ, BR_I32_EQ ... BR_I32_GE_U (the unsigned ones).
 *     Index: LB_I32_LOAD_BR_IF_Z + load * 8 + branch (loadbr_kind).
 *   CP_<width>_<load form><store form>: a load (P, I, R forms), then a
 *     store of the same width (i32, i64, 8 bits) of the loaded value (`*d =
 *     *s`); the load's slot is written too. A trap in the store part reports
 *     the store (ip at its opcode word), after the load succeeded. Index:
 *     CP_I32_PP + width * 9 + load form * 3 + store form.
 *   LBI_<load>_<branch>: as LB_, a branch against an immediate, for the P
 *     and I forms only: BR_I32_EQ_IMM, NE, LT_S, GE_S, LT_U, GE_U and the
 *     bit tests BR_I32_TEST_NZ_IMM, TEST_Z (both polarities of each, for
 *     if and br_if). Index: LBI_I32_LOAD_EQ + load * 8 + branch.
 */
#define WEX__IOPS_LOADBR_K(X, L)                                                                   \
    X(LB_##L##_BR_IF_Z)                                                                            \
    X(LB_##L##_BR_IF_NZ)                                                                           \
    X(LB_##L##_EQ)                                                                                 \
    X(LB_##L##_NE)                                                                                 \
    X(LB_##L##_LT_U)                                                                               \
    X(LB_##L##_GT_U)                                                                               \
    X(LB_##L##_LE_U)                                                                               \
    X(LB_##L##_GE_U)
#define WEX__IOPS_LOADBR(X)                                                                        \
    WEX__IOPS_LOADBR_K(X, I32_LOAD)                                                                \
    WEX__IOPS_LOADBR_K(X, I32_LOAD_I)                                                              \
    WEX__IOPS_LOADBR_K(X, I32_LOAD_R)                                                              \
    WEX__IOPS_LOADBR_K(X, I32_LOAD_K)                                                              \
    WEX__IOPS_LOADBR_K(X, I32_LOAD8_U)                                                             \
    WEX__IOPS_LOADBR_K(X, I32_LOAD8_U_I)                                                           \
    WEX__IOPS_LOADBR_K(X, I32_LOAD8_U_R)                                                           \
    WEX__IOPS_LOADBR_K(X, I32_LOAD8_U_K)

#define WEX__IOPS_COPY_F(X, W, LF)                                                                 \
    X(CP_##W##_##LF##P)                                                                            \
    X(CP_##W##_##LF##I)                                                                            \
    X(CP_##W##_##LF##R)
#define WEX__IOPS_COPY_W(X, W)                                                                     \
    WEX__IOPS_COPY_F(X, W, P)                                                                      \
    WEX__IOPS_COPY_F(X, W, I)                                                                      \
    WEX__IOPS_COPY_F(X, W, R)
#define WEX__IOPS_COPY(X)                                                                          \
    WEX__IOPS_COPY_W(X, I32)                                                                       \
    WEX__IOPS_COPY_W(X, I64)                                                                       \
    WEX__IOPS_COPY_W(X, I32_8)

#define WEX__IOPS_LOADBRI_K(X, L)                                                                  \
    X(LBI_##L##_EQ)                                                                                \
    X(LBI_##L##_NE)                                                                                \
    X(LBI_##L##_LT_S)                                                                              \
    X(LBI_##L##_GE_S)                                                                              \
    X(LBI_##L##_LT_U)                                                                              \
    X(LBI_##L##_GE_U)                                                                              \
    X(LBI_##L##_TEST_NZ)                                                                           \
    X(LBI_##L##_TEST_Z)
#define WEX__IOPS_LOADBRI(X)                                                                       \
    WEX__IOPS_LOADBRI_K(X, I32_LOAD)                                                               \
    WEX__IOPS_LOADBRI_K(X, I32_LOAD_I)                                                             \
    WEX__IOPS_LOADBRI_K(X, I32_LOAD8_U)                                                            \
    WEX__IOPS_LOADBRI_K(X, I32_LOAD8_U_I)

/*
 * Store fusions (session 4, compile_fuse.h's store_*):
 *   STOREV_32 ... STOREV_8  a, k, imm, off: store a constant, ea = (uint32)(a + k) + off
 *     (the P form with k 0); the 64-bit one sign-extends imm. The widths of
 *     every store operator of a constant map to one of these.
 *   STORE2_32 ... STORE2_16  a, k, v, off, a2, k2, v2, off2: two stores of slots of the
 *     same width in a row (any bases), in order; STOREV2_* the same of two constants.
 */
#define WEX__IOPS_STOREV(X)                                                                        \
    X(STOREV_32)                                                                                   \
    X(STOREV_64)                                                                                   \
    X(STOREV_8)                                                                                    \
    X(STOREV_16)                                                                                   \
    X(STORE2_32)                                                                                   \
    X(STORE2_64)                                                                                   \
    X(STORE2_8)                                                                                    \
    X(STORE2_16)                                                                                   \
    X(STOREV2_32)                                                                                  \
    X(STOREV2_64)                                                                                  \
    X(STOREV2_8)                                                                                   \
    X(STOREV2_16)                                                                                  \
    X(CONST32_2)      /* d, k, d2, k2: two CONST32, in order */                                    \
    X(MOVE_CONST32)   /* d, s, d2, k: MOVE, then CONST32 */                                        \
    X(CONST32_MOVE)   /* d, k, d2, s: CONST32, then MOVE */                                        \
    X(I32_ADD_IMM_ST) /* d, a, k, p, off: d = a + k, then i32.store [p + off] = d */               \
    X(I32_OR_IMM_ST)  /* d, a, k, p, off: d = a | k, then the store */                             \
    X(I32_ADD_ST)     /* d, a, b, p, off: d = a + b, then the store */

/*
 * Float store and load-pair fusions (session 5, compile_fuse.h's fst_* and
 * ll_*). As LB_ and CP_ above, both instructions keep all their words (the
 * second its own opcode word, so the backtrace table and the dump are
 * unchanged); only the first one's opcode word names the pair, whose
 * handler runs both with one dispatch:
 *   FST_<T>_<op>_<store form>: a float operation (ADD SUB MUL: dst, a, b;
 *     ADD_IMM SUB_IMM MUL_IMM: dst, a, k, f64 k two words), then a store of
 *     the same type of its result (P, I, R, K forms). The result slot is
 *     still written, before the store's address is read. A trap in the
 *     store has ip at the store's words. Index: FST_F32_ADD_P + type * 24 +
 *     op * 4 + form.
 *   LL_<T>_<op>_<load form><operand form>: a float load (P, I, R forms),
 *     then the memory-operand instruction (T_ADD_M* or T_MUL_M*: P, I, R
 *     forms) whose x is the loaded value: two loads combined (`u[k] +
 *     u[k - 1]`). The load's slot is written too. Index: LL_F32_ADD_PP +
 *     type * 18 + op * 9 + load form * 3 + operand form.
 *   LI_<T>_<op>_<load form>: a float load (P, I, R, K forms), then
 *     T_ADD_IMM, T_SUB_IMM or T_MUL_IMM of the loaded value (`a[i] * 0.5`);
 *     the load's slot is written too. Index: LI_F32_ADD_IMM_P + type * 12 +
 *     op * 4 + form.
 *   M2_<T>_<op>_<form>: two memory-operand instructions of the same kind in
 *     a row (T_ADD_M*, T_SUB_M*, T_MUL_M*; P, I, R forms), in order; a trap
 *     in the second has ip at its words. Index: M2_F32_ADD_P + type * 9 +
 *     op * 3 + form.
 */
#define WEX__IOPS_FST_OP(X, T, O)                                                                  \
    X(FST_##T##_##O##_P)                                                                           \
    X(FST_##T##_##O##_I)                                                                           \
    X(FST_##T##_##O##_R)                                                                           \
    X(FST_##T##_##O##_K)
#define WEX__IOPS_FST_T(X, T)                                                                      \
    WEX__IOPS_FST_OP(X, T, ADD)                                                                    \
    WEX__IOPS_FST_OP(X, T, SUB)                                                                    \
    WEX__IOPS_FST_OP(X, T, MUL)                                                                    \
    WEX__IOPS_FST_OP(X, T, ADD_IMM)                                                                \
    WEX__IOPS_FST_OP(X, T, SUB_IMM)                                                                \
    WEX__IOPS_FST_OP(X, T, MUL_IMM)
#define WEX__IOPS_LL_L(X, T, O, L)                                                                 \
    X(LL_##T##_##O##_##L##P)                                                                       \
    X(LL_##T##_##O##_##L##I)                                                                       \
    X(LL_##T##_##O##_##L##R)
#define WEX__IOPS_LL_OP(X, T, O)                                                                   \
    WEX__IOPS_LL_L(X, T, O, P)                                                                     \
    WEX__IOPS_LL_L(X, T, O, I)                                                                     \
    WEX__IOPS_LL_L(X, T, O, R)
#define WEX__IOPS_LI_OP(X, T, O)                                                                   \
    X(LI_##T##_##O##_P)                                                                            \
    X(LI_##T##_##O##_I)                                                                            \
    X(LI_##T##_##O##_R)                                                                            \
    X(LI_##T##_##O##_K)
#define WEX__IOPS_LI_T(X, T)                                                                       \
    WEX__IOPS_LI_OP(X, T, ADD_IMM)                                                                 \
    WEX__IOPS_LI_OP(X, T, SUB_IMM)                                                                 \
    WEX__IOPS_LI_OP(X, T, MUL_IMM)
#define WEX__IOPS_M2_OP(X, T, O)                                                                   \
    X(M2_##T##_##O##_P)                                                                            \
    X(M2_##T##_##O##_I)                                                                            \
    X(M2_##T##_##O##_R)
#define WEX__IOPS_M2_T(X, T)                                                                       \
    WEX__IOPS_M2_OP(X, T, ADD)                                                                     \
    WEX__IOPS_M2_OP(X, T, SUB)                                                                     \
    WEX__IOPS_M2_OP(X, T, MUL)
#define WEX__IOPS_FLOATST(X)                                                                       \
    WEX__IOPS_FST_T(X, F32)                                                                        \
    WEX__IOPS_FST_T(X, F64)                                                                        \
    WEX__IOPS_LL_OP(X, F32, ADD)                                                                   \
    WEX__IOPS_LL_OP(X, F32, MUL)                                                                   \
    WEX__IOPS_LL_OP(X, F64, ADD)                                                                   \
    WEX__IOPS_LL_OP(X, F64, MUL)                                                                   \
    WEX__IOPS_LI_T(X, F32)                                                                         \
    WEX__IOPS_LI_T(X, F64)                                                                         \
    WEX__IOPS_M2_T(X, F32)                                                                         \
    WEX__IOPS_M2_T(X, F64)

/*
 * Branchy integer code (session 5, compile_branch.h): an i32 operation with
 * a constant, then a branch on its result, one dispatch. All are
 * d, a, k, b, off: v = a op k is written to d (a local may read it later),
 * then compared with b (a slot, or an immediate for the _IMM ones) and the
 * branch taken if true; off is relative to its own word (the sixth).
 *   ADDK_BR_*  v = a + k: `c - '0' < 10`, `s + 1` then `(s & 3) == 0`;
 *              conditions in WEX__IOPS_BRCMP's order, then TEST_NZ_IMM,
 *              TEST_Z_IMM (v & b != 0, == 0)
 *   ANDK_BR_*  v = a & k: EQ_IMM, NE_IMM (br_if on a masked local: b = 0),
 *              LT_U_IMM, GT_U_IMM, LE_U_IMM, GE_U_IMM (`(uint8_t)(c - '0') < 10`)
 *   RSUBK_BR_* v = k - a: the slot conditions (`l > INT_MAX - cnt`)
 * and branches threaded through the bit test they jump to (memcpy's tail,
 * `if (n & 16) ...; if (n & 8) ...`): THR_TEST_<A>_<B> is a
 * BR_I32_TEST_<A>_IMM (a, k, off, same words) whose target is a
 * BR_I32_TEST_<B>_IMM; when taken, it runs that test too, reading the
 * target's words, and goes where the target would (one dispatch fewer).
 * The target stays as it was (others may jump to it). I32_ADD_OR_IMM: an
 * or with a constant of a pending add (`(sp + 80) | 8`, a frame's address
 * arithmetic where the compiler knows the alignment).
 */
#define WEX__IOPS_OPKBR(X, P)                                                                      \
    X(P##_EQ)                                                                                      \
    X(P##_NE)                                                                                      \
    X(P##_LT_S)                                                                                    \
    X(P##_LT_U)                                                                                    \
    X(P##_GT_S)                                                                                    \
    X(P##_GT_U)                                                                                    \
    X(P##_LE_S)                                                                                    \
    X(P##_LE_U)                                                                                    \
    X(P##_GE_S)                                                                                    \
    X(P##_GE_U)
#define WEX__IOPS_PARSE(X)                                                                         \
    WEX__IOPS_OPKBR(X, ADDK_BR)                                                                    \
    X(ADDK_BR_EQ_IMM)                                                                              \
    X(ADDK_BR_NE_IMM)                                                                              \
    X(ADDK_BR_LT_S_IMM)                                                                            \
    X(ADDK_BR_LT_U_IMM)                                                                            \
    X(ADDK_BR_GT_S_IMM)                                                                            \
    X(ADDK_BR_GT_U_IMM)                                                                            \
    X(ADDK_BR_LE_S_IMM)                                                                            \
    X(ADDK_BR_LE_U_IMM)                                                                            \
    X(ADDK_BR_GE_S_IMM)                                                                            \
    X(ADDK_BR_GE_U_IMM)                                                                            \
    X(ADDK_BR_TEST_NZ_IMM)                                                                         \
    X(ADDK_BR_TEST_Z_IMM)                                                                          \
    X(ANDK_BR_EQ_IMM)                                                                              \
    X(ANDK_BR_NE_IMM)                                                                              \
    X(ANDK_BR_LT_U_IMM)                                                                            \
    X(ANDK_BR_GT_U_IMM)                                                                            \
    X(ANDK_BR_LE_U_IMM)                                                                            \
    X(ANDK_BR_GE_U_IMM)                                                                            \
    WEX__IOPS_OPKBR(X, RSUBK_BR)                                                                   \
    X(THR_TEST_NZ_NZ)                                                                              \
    X(THR_TEST_NZ_Z)                                                                               \
    X(THR_TEST_Z_NZ)                                                                               \
    X(THR_TEST_Z_Z)                                                                                \
    X(I32_ADD_OR_IMM) /* dst, a, k1, k2: (a + k1) | k2 */

typedef enum {
#define WEX__IOPX(name, code, imm, sig) WEX__IOP_##name,
    WEX__OPCODES(WEX__IOPX)
#undef WEX__IOPX
#define WEX__IOPY(name) WEX__IOP_##name,
        WEX__IOPS_EXTRA(WEX__IOPY)
#undef WEX__IOPY
            WEX__IOP_COUNT
} wex__iop;

/* A br_table's shape: the words before its offsets (0 if op is none) and, in
 * *nword, the word that holds n (n + 1 offsets follow). Five key forms (I,
 * MP, MI, MR, MS), each also with one, two or three adds' d, a, k words
 * before the offsets (the A, A2, A3 families, in the same order). */
_Static_assert(WEX__IOP_BR_TABLE_MS == WEX__IOP_BR_TABLE_I + 4 &&
                   WEX__IOP_BR_TABLE_MSA == WEX__IOP_BR_TABLE_IA + 4 &&
                   WEX__IOP_BR_TABLE_MSA2 == WEX__IOP_BR_TABLE_IA2 + 4 &&
                   WEX__IOP_BR_TABLE_MSA3 == WEX__IOP_BR_TABLE_IA3 + 4,
               "br_table forms out of order");
static inline uint32_t wex__brt_hdr(uint32_t op, uint32_t *nword) {
    static const uint8_t words[5] = {3, 4, 5, 7, 6};
    static const uint32_t first[4] = {WEX__IOP_BR_TABLE_I, WEX__IOP_BR_TABLE_IA,
                                      WEX__IOP_BR_TABLE_IA2, WEX__IOP_BR_TABLE_IA3};
    for (uint32_t k = 0; k < 4; k++)
        if (op >= first[k] && op - first[k] < 5) {
            *nword = op == first[k] ? 2 : 1;
            return words[op - first[k]] + 3 * k;
        }
    return 0;
}

/* Declared locals a call zeroes go in chunks of this many slots (32 bytes,
 * two 16-byte stores), a loop of a few iterations instead of one per slot;
 * a function's frame has room for its last chunk (compile.c). */
#define WEX__ZERO_CHUNK     4u
#define WEX__ZERO_CHUNKS(n) (((n) + WEX__ZERO_CHUNK - 1) / WEX__ZERO_CHUNK)

/* One translated function. */
typedef struct {
    uint32_t code_off; /* first word in wex__compiled.code */
    uint32_t code_len; /* words */
    uint32_t nparams;  /* slots of params */
    uint32_t nresults;
    uint32_t nlocals;     /* params + declared locals */
    uint32_t frame_slots; /* locals + the deepest operand stack */
    uint32_t zero_from;   /* declared locals a call zeroes: [zero_from, +zero_count) */
    uint32_t zero_count;  /* (others are written before they are read; see WEX__ZERO_CHUNK) */
} wex__fcode;

struct wex__compiled {
    uint32_t nfuncs; /* defined functions */
    wex__fcode *funcs;
    uint32_t *code;
    size_t code_len;
    /* Side table for backtraces, off the hot path: pairs (first word of an
     * instruction, byte offset in the module of the WebAssembly operator it
     * came from), ascending by word, one pair where the operator changes. A
     * word maps to the last pair at or before it. Offsets only: it is
     * position-independent like the code. */
    uint32_t *pcmap;
    size_t npcmap; /* pairs */
    /* The words that hold an engine's interned type id (call_indirect's
     * expected type): pairs (code word, module type index), so that code
     * saved by one engine can be renumbered for another (the module cache). */
    uint32_t *tyrel;
    size_t ntyrel; /* pairs */
    /* The first word of every CALL_L/CALL_LZ, ascending. Such a call jumps
     * straight to its callee's code (the position is in the instruction), so
     * a lazily checked module checks a function's direct callees with it
     * before its first call runs (src/cache/artifact.c). */
    uint32_t *lcall;
    size_t nlcall;
    /* Code loaded from the module cache and checked lazily; NULL otherwise. */
    struct wex__lazy *lazy;
};

/*
 * Lazily verified code (a module loaded from the cache, src/cache/artifact.c).
 * Checking 75 MB of code at load would cost ~9 ms, so each function is
 * checked on its first entry instead: funcs[i].code_off first points at a
 * two-word stub [VERIFY_FN, i] past the code, whose handler calls verify;
 * verify checks the function's words against the checksum the writer stored
 * and, if they are intact, stores real_off[i] into funcs[i].code_off (a
 * relaxed atomic store: a thread that still reads the stub verifies again,
 * harmlessly), so later calls cost nothing. On damage it returns the error
 * the call fails with (and the cache drops the entry). Calls reach code only
 * through funcs[].code_off, and a function's branches stay inside its own
 * code, so no unchecked word of a damaged entry is ever executed.
 */
typedef struct wex__lazy {
    const uint32_t *real_off; /* per defined function: the first word of its code */
    uint32_t stub_off;        /* first word of the stubs: function i's at stub_off + 2i */
    wex_error_t *(*verify)(struct wex__lazy *lz, const struct wex__compiled *c, uint32_t di);
    /* The backtrace table (pcmap) is large (a pair per operator change) and
     * checked on its first use too: false if it is damaged (backtraces then
     * carry no operator offsets). */
    bool (*pcmap_ok)(struct wex__lazy *lz, const struct wex__compiled *c);
} wex__lazy;

/* A function's entry word offset: funcs[].code_off may be published by
 * another thread (wex__lazy), so it is read atomically (a plain load). */
#define WEX__FCODE_OFF(fc) __atomic_load_n(&(fc)->code_off, __ATOMIC_RELAXED)
/* The first word of defined function di's own code (not its stub). */
static inline uint32_t wex__fcode_start(const struct wex__compiled *c, uint32_t di) {
    return c->lazy ? c->lazy->real_off[di] : c->funcs[di].code_off;
}

/* The module offset of the operator that internal code word pos belongs to,
 * or -1 if the table has none. */
int64_t wex__interp_wasm_offset(const wex__compiled *c, size_t pos);

/* Translate every function body of a validated module; sets m->compiled. */
wex_error_t *wex__interp_compile(wex__module *m);
/* Translate defined function di alone (the cache's repair of a damaged
 * function): its words in *code (wex__free them), *len words, its record
 * (code_off 0). Its calls are completed from funcs (the module's function
 * records: frame sizes, zero ranges) and starts (each function's first code
 * word), as if its code began at word at. Equal to what wex__interp_compile
 * makes for di. */
wex_error_t *wex__interp_compile_one(const wex__module *m, uint32_t di, const wex__fcode *funcs,
                                     const uint32_t *starts, uint32_t nfuncs, uint32_t at,
                                     uint32_t **code, size_t *len, wex__fcode *fc);
void wex__interp_free(wex__compiled *c);

struct wex_store;
struct wex_func;
/*
 * Run wasm function f with its arguments in slots[0..nparams) (which must be
 * the store's stack top, with room for the frame); results are left in
 * slots[0..nresults). Returns NULL or the trap.
 */
wex_error_t *wex__interp_run(struct wex_store *s, struct wex_func *f, uint64_t *slots);

/* Disassemble one function to a stream (debugging, `-v`). */
#include <stdio.h>
void wex__interp_dump(FILE *out, const wex__module *m, uint32_t defined_index);

#endif
