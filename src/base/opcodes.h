/*
 * opcodes.h - one row per WebAssembly opcode (WebAssembly 2.0 without SIMD, plus
 * the threads proposal).
 *
 * X(NAME, CODE, IMM, SIG)
 *   NAME  identifier: WEX__OP_NAME
 *   CODE  the opcode: one byte, or 0xFC00 | sub (0xFC prefix), 0xFE00 | sub (0xFE)
 *   IMM   the immediates' shape (wex__imm_kind below)
 *   SIG   for simple operators, "params:results" with i=i32 I=i64 f=f32 F=f64
 *         (e.g. "ii:i"); "*" where the validator and compiler treat the
 *         operator specially (control, variables, references, calls...).
 */
#ifndef WEX_OPCODES_H
#define WEX_OPCODES_H

#include "base/base.h"

#include <stdint.h>

typedef enum {
    WEX__IMM_NONE,
    WEX__IMM_BLOCK,      /* blocktype (s33) */
    WEX__IMM_LABEL,      /* u32 label depth */
    WEX__IMM_BR_TABLE,   /* vec(u32) + u32 */
    WEX__IMM_FUNC,       /* u32 funcidx */
    WEX__IMM_CALL_IND,   /* u32 typeidx, u32 tableidx */
    WEX__IMM_LOCAL,      /* u32 localidx */
    WEX__IMM_GLOBAL,     /* u32 globalidx */
    WEX__IMM_TABLE,      /* u32 tableidx */
    WEX__IMM_MEMARG,     /* u32 align, u32 offset */
    WEX__IMM_MEM,        /* memory index byte, must be 0x00 */
    WEX__IMM_I32,        /* s32 */
    WEX__IMM_I64,        /* s64 */
    WEX__IMM_F32,        /* 4 bytes */
    WEX__IMM_F64,        /* 8 bytes */
    WEX__IMM_SELECT_T,   /* vec(valtype) */
    WEX__IMM_REFTYPE,    /* reftype byte */
    WEX__IMM_MEM_INIT,   /* u32 dataidx, memory byte 0x00 */
    WEX__IMM_DATA,       /* u32 dataidx */
    WEX__IMM_MEM_COPY,   /* two memory bytes 0x00 0x00 */
    WEX__IMM_TABLE_INIT, /* u32 elemidx, u32 tableidx */
    WEX__IMM_ELEM,       /* u32 elemidx */
    WEX__IMM_TABLE_COPY, /* u32 dst tableidx, u32 src tableidx */
} wex__imm_kind;

/*
 * The threads proposal's operators, 0xFE prefix (0xFE00 | sub-opcode). Memory
 * accesses take a memarg whose alignment must be the natural one; the access
 * width is 1 << wex__op_atomic_log2(code).
 */
#define WEX__OPCODES_ATOMIC(X)                                                                     \
    X(MEMORY_ATOMIC_NOTIFY, 0xFE00, MEMARG, "ii:i")                                                \
    X(MEMORY_ATOMIC_WAIT32, 0xFE01, MEMARG, "iiI:i")                                               \
    X(MEMORY_ATOMIC_WAIT64, 0xFE02, MEMARG, "iII:i")                                               \
    X(ATOMIC_FENCE, 0xFE03, MEM, "*")                                                              \
    X(I32_ATOMIC_LOAD, 0xFE10, MEMARG, "i:i")                                                      \
    X(I64_ATOMIC_LOAD, 0xFE11, MEMARG, "i:I")                                                      \
    X(I32_ATOMIC_LOAD8_U, 0xFE12, MEMARG, "i:i")                                                   \
    X(I32_ATOMIC_LOAD16_U, 0xFE13, MEMARG, "i:i")                                                  \
    X(I64_ATOMIC_LOAD8_U, 0xFE14, MEMARG, "i:I")                                                   \
    X(I64_ATOMIC_LOAD16_U, 0xFE15, MEMARG, "i:I")                                                  \
    X(I64_ATOMIC_LOAD32_U, 0xFE16, MEMARG, "i:I")                                                  \
    X(I32_ATOMIC_STORE, 0xFE17, MEMARG, "ii:")                                                     \
    X(I64_ATOMIC_STORE, 0xFE18, MEMARG, "iI:")                                                     \
    X(I32_ATOMIC_STORE8, 0xFE19, MEMARG, "ii:")                                                    \
    X(I32_ATOMIC_STORE16, 0xFE1A, MEMARG, "ii:")                                                   \
    X(I64_ATOMIC_STORE8, 0xFE1B, MEMARG, "iI:")                                                    \
    X(I64_ATOMIC_STORE16, 0xFE1C, MEMARG, "iI:")                                                   \
    X(I64_ATOMIC_STORE32, 0xFE1D, MEMARG, "iI:")                                                   \
    X(I32_ATOMIC_RMW_ADD, 0xFE1E, MEMARG, "ii:i")                                                  \
    X(I64_ATOMIC_RMW_ADD, 0xFE1F, MEMARG, "iI:I")                                                  \
    X(I32_ATOMIC_RMW8_ADD_U, 0xFE20, MEMARG, "ii:i")                                               \
    X(I32_ATOMIC_RMW16_ADD_U, 0xFE21, MEMARG, "ii:i")                                              \
    X(I64_ATOMIC_RMW8_ADD_U, 0xFE22, MEMARG, "iI:I")                                               \
    X(I64_ATOMIC_RMW16_ADD_U, 0xFE23, MEMARG, "iI:I")                                              \
    X(I64_ATOMIC_RMW32_ADD_U, 0xFE24, MEMARG, "iI:I")                                              \
    X(I32_ATOMIC_RMW_SUB, 0xFE25, MEMARG, "ii:i")                                                  \
    X(I64_ATOMIC_RMW_SUB, 0xFE26, MEMARG, "iI:I")                                                  \
    X(I32_ATOMIC_RMW8_SUB_U, 0xFE27, MEMARG, "ii:i")                                               \
    X(I32_ATOMIC_RMW16_SUB_U, 0xFE28, MEMARG, "ii:i")                                              \
    X(I64_ATOMIC_RMW8_SUB_U, 0xFE29, MEMARG, "iI:I")                                               \
    X(I64_ATOMIC_RMW16_SUB_U, 0xFE2A, MEMARG, "iI:I")                                              \
    X(I64_ATOMIC_RMW32_SUB_U, 0xFE2B, MEMARG, "iI:I")                                              \
    X(I32_ATOMIC_RMW_AND, 0xFE2C, MEMARG, "ii:i")                                                  \
    X(I64_ATOMIC_RMW_AND, 0xFE2D, MEMARG, "iI:I")                                                  \
    X(I32_ATOMIC_RMW8_AND_U, 0xFE2E, MEMARG, "ii:i")                                               \
    X(I32_ATOMIC_RMW16_AND_U, 0xFE2F, MEMARG, "ii:i")                                              \
    X(I64_ATOMIC_RMW8_AND_U, 0xFE30, MEMARG, "iI:I")                                               \
    X(I64_ATOMIC_RMW16_AND_U, 0xFE31, MEMARG, "iI:I")                                              \
    X(I64_ATOMIC_RMW32_AND_U, 0xFE32, MEMARG, "iI:I")                                              \
    X(I32_ATOMIC_RMW_OR, 0xFE33, MEMARG, "ii:i")                                                   \
    X(I64_ATOMIC_RMW_OR, 0xFE34, MEMARG, "iI:I")                                                   \
    X(I32_ATOMIC_RMW8_OR_U, 0xFE35, MEMARG, "ii:i")                                                \
    X(I32_ATOMIC_RMW16_OR_U, 0xFE36, MEMARG, "ii:i")                                               \
    X(I64_ATOMIC_RMW8_OR_U, 0xFE37, MEMARG, "iI:I")                                                \
    X(I64_ATOMIC_RMW16_OR_U, 0xFE38, MEMARG, "iI:I")                                               \
    X(I64_ATOMIC_RMW32_OR_U, 0xFE39, MEMARG, "iI:I")                                               \
    X(I32_ATOMIC_RMW_XOR, 0xFE3A, MEMARG, "ii:i")                                                  \
    X(I64_ATOMIC_RMW_XOR, 0xFE3B, MEMARG, "iI:I")                                                  \
    X(I32_ATOMIC_RMW8_XOR_U, 0xFE3C, MEMARG, "ii:i")                                               \
    X(I32_ATOMIC_RMW16_XOR_U, 0xFE3D, MEMARG, "ii:i")                                              \
    X(I64_ATOMIC_RMW8_XOR_U, 0xFE3E, MEMARG, "iI:I")                                               \
    X(I64_ATOMIC_RMW16_XOR_U, 0xFE3F, MEMARG, "iI:I")                                              \
    X(I64_ATOMIC_RMW32_XOR_U, 0xFE40, MEMARG, "iI:I")                                              \
    X(I32_ATOMIC_RMW_XCHG, 0xFE41, MEMARG, "ii:i")                                                 \
    X(I64_ATOMIC_RMW_XCHG, 0xFE42, MEMARG, "iI:I")                                                 \
    X(I32_ATOMIC_RMW8_XCHG_U, 0xFE43, MEMARG, "ii:i")                                              \
    X(I32_ATOMIC_RMW16_XCHG_U, 0xFE44, MEMARG, "ii:i")                                             \
    X(I64_ATOMIC_RMW8_XCHG_U, 0xFE45, MEMARG, "iI:I")                                              \
    X(I64_ATOMIC_RMW16_XCHG_U, 0xFE46, MEMARG, "iI:I")                                             \
    X(I64_ATOMIC_RMW32_XCHG_U, 0xFE47, MEMARG, "iI:I")                                             \
    X(I32_ATOMIC_RMW_CMPXCHG, 0xFE48, MEMARG, "iii:i")                                             \
    X(I64_ATOMIC_RMW_CMPXCHG, 0xFE49, MEMARG, "iII:I")                                             \
    X(I32_ATOMIC_RMW8_CMPXCHG_U, 0xFE4A, MEMARG, "iii:i")                                          \
    X(I32_ATOMIC_RMW16_CMPXCHG_U, 0xFE4B, MEMARG, "iii:i")                                         \
    X(I64_ATOMIC_RMW8_CMPXCHG_U, 0xFE4C, MEMARG, "iII:I")                                          \
    X(I64_ATOMIC_RMW16_CMPXCHG_U, 0xFE4D, MEMARG, "iII:I")                                         \
    X(I64_ATOMIC_RMW32_CMPXCHG_U, 0xFE4E, MEMARG, "iII:I")

#define WEX__OPCODES(X)                                                                            \
    X(UNREACHABLE, 0x00, NONE, "*")                                                                \
    X(NOP, 0x01, NONE, ":")                                                                        \
    X(BLOCK, 0x02, BLOCK, "*")                                                                     \
    X(LOOP, 0x03, BLOCK, "*")                                                                      \
    X(IF, 0x04, BLOCK, "*")                                                                        \
    X(ELSE, 0x05, NONE, "*")                                                                       \
    X(END, 0x0B, NONE, "*")                                                                        \
    X(BR, 0x0C, LABEL, "*")                                                                        \
    X(BR_IF, 0x0D, LABEL, "*")                                                                     \
    X(BR_TABLE, 0x0E, BR_TABLE, "*")                                                               \
    X(RETURN, 0x0F, NONE, "*")                                                                     \
    X(CALL, 0x10, FUNC, "*")                                                                       \
    X(CALL_INDIRECT, 0x11, CALL_IND, "*")                                                          \
    X(DROP, 0x1A, NONE, "*")                                                                       \
    X(SELECT, 0x1B, NONE, "*")                                                                     \
    X(SELECT_T, 0x1C, SELECT_T, "*")                                                               \
    X(LOCAL_GET, 0x20, LOCAL, "*")                                                                 \
    X(LOCAL_SET, 0x21, LOCAL, "*")                                                                 \
    X(LOCAL_TEE, 0x22, LOCAL, "*")                                                                 \
    X(GLOBAL_GET, 0x23, GLOBAL, "*")                                                               \
    X(GLOBAL_SET, 0x24, GLOBAL, "*")                                                               \
    X(TABLE_GET, 0x25, TABLE, "*")                                                                 \
    X(TABLE_SET, 0x26, TABLE, "*")                                                                 \
    X(I32_LOAD, 0x28, MEMARG, "i:i")                                                               \
    X(I64_LOAD, 0x29, MEMARG, "i:I")                                                               \
    X(F32_LOAD, 0x2A, MEMARG, "i:f")                                                               \
    X(F64_LOAD, 0x2B, MEMARG, "i:F")                                                               \
    X(I32_LOAD8_S, 0x2C, MEMARG, "i:i")                                                            \
    X(I32_LOAD8_U, 0x2D, MEMARG, "i:i")                                                            \
    X(I32_LOAD16_S, 0x2E, MEMARG, "i:i")                                                           \
    X(I32_LOAD16_U, 0x2F, MEMARG, "i:i")                                                           \
    X(I64_LOAD8_S, 0x30, MEMARG, "i:I")                                                            \
    X(I64_LOAD8_U, 0x31, MEMARG, "i:I")                                                            \
    X(I64_LOAD16_S, 0x32, MEMARG, "i:I")                                                           \
    X(I64_LOAD16_U, 0x33, MEMARG, "i:I")                                                           \
    X(I64_LOAD32_S, 0x34, MEMARG, "i:I")                                                           \
    X(I64_LOAD32_U, 0x35, MEMARG, "i:I")                                                           \
    X(I32_STORE, 0x36, MEMARG, "ii:")                                                              \
    X(I64_STORE, 0x37, MEMARG, "iI:")                                                              \
    X(F32_STORE, 0x38, MEMARG, "if:")                                                              \
    X(F64_STORE, 0x39, MEMARG, "iF:")                                                              \
    X(I32_STORE8, 0x3A, MEMARG, "ii:")                                                             \
    X(I32_STORE16, 0x3B, MEMARG, "ii:")                                                            \
    X(I64_STORE8, 0x3C, MEMARG, "iI:")                                                             \
    X(I64_STORE16, 0x3D, MEMARG, "iI:")                                                            \
    X(I64_STORE32, 0x3E, MEMARG, "iI:")                                                            \
    X(MEMORY_SIZE, 0x3F, MEM, ":i")                                                                \
    X(MEMORY_GROW, 0x40, MEM, "i:i")                                                               \
    X(I32_CONST, 0x41, I32, ":i")                                                                  \
    X(I64_CONST, 0x42, I64, ":I")                                                                  \
    X(F32_CONST, 0x43, F32, ":f")                                                                  \
    X(F64_CONST, 0x44, F64, ":F")                                                                  \
    X(I32_EQZ, 0x45, NONE, "i:i")                                                                  \
    X(I32_EQ, 0x46, NONE, "ii:i")                                                                  \
    X(I32_NE, 0x47, NONE, "ii:i")                                                                  \
    X(I32_LT_S, 0x48, NONE, "ii:i")                                                                \
    X(I32_LT_U, 0x49, NONE, "ii:i")                                                                \
    X(I32_GT_S, 0x4A, NONE, "ii:i")                                                                \
    X(I32_GT_U, 0x4B, NONE, "ii:i")                                                                \
    X(I32_LE_S, 0x4C, NONE, "ii:i")                                                                \
    X(I32_LE_U, 0x4D, NONE, "ii:i")                                                                \
    X(I32_GE_S, 0x4E, NONE, "ii:i")                                                                \
    X(I32_GE_U, 0x4F, NONE, "ii:i")                                                                \
    X(I64_EQZ, 0x50, NONE, "I:i")                                                                  \
    X(I64_EQ, 0x51, NONE, "II:i")                                                                  \
    X(I64_NE, 0x52, NONE, "II:i")                                                                  \
    X(I64_LT_S, 0x53, NONE, "II:i")                                                                \
    X(I64_LT_U, 0x54, NONE, "II:i")                                                                \
    X(I64_GT_S, 0x55, NONE, "II:i")                                                                \
    X(I64_GT_U, 0x56, NONE, "II:i")                                                                \
    X(I64_LE_S, 0x57, NONE, "II:i")                                                                \
    X(I64_LE_U, 0x58, NONE, "II:i")                                                                \
    X(I64_GE_S, 0x59, NONE, "II:i")                                                                \
    X(I64_GE_U, 0x5A, NONE, "II:i")                                                                \
    X(F32_EQ, 0x5B, NONE, "ff:i")                                                                  \
    X(F32_NE, 0x5C, NONE, "ff:i")                                                                  \
    X(F32_LT, 0x5D, NONE, "ff:i")                                                                  \
    X(F32_GT, 0x5E, NONE, "ff:i")                                                                  \
    X(F32_LE, 0x5F, NONE, "ff:i")                                                                  \
    X(F32_GE, 0x60, NONE, "ff:i")                                                                  \
    X(F64_EQ, 0x61, NONE, "FF:i")                                                                  \
    X(F64_NE, 0x62, NONE, "FF:i")                                                                  \
    X(F64_LT, 0x63, NONE, "FF:i")                                                                  \
    X(F64_GT, 0x64, NONE, "FF:i")                                                                  \
    X(F64_LE, 0x65, NONE, "FF:i")                                                                  \
    X(F64_GE, 0x66, NONE, "FF:i")                                                                  \
    X(I32_CLZ, 0x67, NONE, "i:i")                                                                  \
    X(I32_CTZ, 0x68, NONE, "i:i")                                                                  \
    X(I32_POPCNT, 0x69, NONE, "i:i")                                                               \
    X(I32_ADD, 0x6A, NONE, "ii:i")                                                                 \
    X(I32_SUB, 0x6B, NONE, "ii:i")                                                                 \
    X(I32_MUL, 0x6C, NONE, "ii:i")                                                                 \
    X(I32_DIV_S, 0x6D, NONE, "ii:i")                                                               \
    X(I32_DIV_U, 0x6E, NONE, "ii:i")                                                               \
    X(I32_REM_S, 0x6F, NONE, "ii:i")                                                               \
    X(I32_REM_U, 0x70, NONE, "ii:i")                                                               \
    X(I32_AND, 0x71, NONE, "ii:i")                                                                 \
    X(I32_OR, 0x72, NONE, "ii:i")                                                                  \
    X(I32_XOR, 0x73, NONE, "ii:i")                                                                 \
    X(I32_SHL, 0x74, NONE, "ii:i")                                                                 \
    X(I32_SHR_S, 0x75, NONE, "ii:i")                                                               \
    X(I32_SHR_U, 0x76, NONE, "ii:i")                                                               \
    X(I32_ROTL, 0x77, NONE, "ii:i")                                                                \
    X(I32_ROTR, 0x78, NONE, "ii:i")                                                                \
    X(I64_CLZ, 0x79, NONE, "I:I")                                                                  \
    X(I64_CTZ, 0x7A, NONE, "I:I")                                                                  \
    X(I64_POPCNT, 0x7B, NONE, "I:I")                                                               \
    X(I64_ADD, 0x7C, NONE, "II:I")                                                                 \
    X(I64_SUB, 0x7D, NONE, "II:I")                                                                 \
    X(I64_MUL, 0x7E, NONE, "II:I")                                                                 \
    X(I64_DIV_S, 0x7F, NONE, "II:I")                                                               \
    X(I64_DIV_U, 0x80, NONE, "II:I")                                                               \
    X(I64_REM_S, 0x81, NONE, "II:I")                                                               \
    X(I64_REM_U, 0x82, NONE, "II:I")                                                               \
    X(I64_AND, 0x83, NONE, "II:I")                                                                 \
    X(I64_OR, 0x84, NONE, "II:I")                                                                  \
    X(I64_XOR, 0x85, NONE, "II:I")                                                                 \
    X(I64_SHL, 0x86, NONE, "II:I")                                                                 \
    X(I64_SHR_S, 0x87, NONE, "II:I")                                                               \
    X(I64_SHR_U, 0x88, NONE, "II:I")                                                               \
    X(I64_ROTL, 0x89, NONE, "II:I")                                                                \
    X(I64_ROTR, 0x8A, NONE, "II:I")                                                                \
    X(F32_ABS, 0x8B, NONE, "f:f")                                                                  \
    X(F32_NEG, 0x8C, NONE, "f:f")                                                                  \
    X(F32_CEIL, 0x8D, NONE, "f:f")                                                                 \
    X(F32_FLOOR, 0x8E, NONE, "f:f")                                                                \
    X(F32_TRUNC, 0x8F, NONE, "f:f")                                                                \
    X(F32_NEAREST, 0x90, NONE, "f:f")                                                              \
    X(F32_SQRT, 0x91, NONE, "f:f")                                                                 \
    X(F32_ADD, 0x92, NONE, "ff:f")                                                                 \
    X(F32_SUB, 0x93, NONE, "ff:f")                                                                 \
    X(F32_MUL, 0x94, NONE, "ff:f")                                                                 \
    X(F32_DIV, 0x95, NONE, "ff:f")                                                                 \
    X(F32_MIN, 0x96, NONE, "ff:f")                                                                 \
    X(F32_MAX, 0x97, NONE, "ff:f")                                                                 \
    X(F32_COPYSIGN, 0x98, NONE, "ff:f")                                                            \
    X(F64_ABS, 0x99, NONE, "F:F")                                                                  \
    X(F64_NEG, 0x9A, NONE, "F:F")                                                                  \
    X(F64_CEIL, 0x9B, NONE, "F:F")                                                                 \
    X(F64_FLOOR, 0x9C, NONE, "F:F")                                                                \
    X(F64_TRUNC, 0x9D, NONE, "F:F")                                                                \
    X(F64_NEAREST, 0x9E, NONE, "F:F")                                                              \
    X(F64_SQRT, 0x9F, NONE, "F:F")                                                                 \
    X(F64_ADD, 0xA0, NONE, "FF:F")                                                                 \
    X(F64_SUB, 0xA1, NONE, "FF:F")                                                                 \
    X(F64_MUL, 0xA2, NONE, "FF:F")                                                                 \
    X(F64_DIV, 0xA3, NONE, "FF:F")                                                                 \
    X(F64_MIN, 0xA4, NONE, "FF:F")                                                                 \
    X(F64_MAX, 0xA5, NONE, "FF:F")                                                                 \
    X(F64_COPYSIGN, 0xA6, NONE, "FF:F")                                                            \
    X(I32_WRAP_I64, 0xA7, NONE, "I:i")                                                             \
    X(I32_TRUNC_F32_S, 0xA8, NONE, "f:i")                                                          \
    X(I32_TRUNC_F32_U, 0xA9, NONE, "f:i")                                                          \
    X(I32_TRUNC_F64_S, 0xAA, NONE, "F:i")                                                          \
    X(I32_TRUNC_F64_U, 0xAB, NONE, "F:i")                                                          \
    X(I64_EXTEND_I32_S, 0xAC, NONE, "i:I")                                                         \
    X(I64_EXTEND_I32_U, 0xAD, NONE, "i:I")                                                         \
    X(I64_TRUNC_F32_S, 0xAE, NONE, "f:I")                                                          \
    X(I64_TRUNC_F32_U, 0xAF, NONE, "f:I")                                                          \
    X(I64_TRUNC_F64_S, 0xB0, NONE, "F:I")                                                          \
    X(I64_TRUNC_F64_U, 0xB1, NONE, "F:I")                                                          \
    X(F32_CONVERT_I32_S, 0xB2, NONE, "i:f")                                                        \
    X(F32_CONVERT_I32_U, 0xB3, NONE, "i:f")                                                        \
    X(F32_CONVERT_I64_S, 0xB4, NONE, "I:f")                                                        \
    X(F32_CONVERT_I64_U, 0xB5, NONE, "I:f")                                                        \
    X(F32_DEMOTE_F64, 0xB6, NONE, "F:f")                                                           \
    X(F64_CONVERT_I32_S, 0xB7, NONE, "i:F")                                                        \
    X(F64_CONVERT_I32_U, 0xB8, NONE, "i:F")                                                        \
    X(F64_CONVERT_I64_S, 0xB9, NONE, "I:F")                                                        \
    X(F64_CONVERT_I64_U, 0xBA, NONE, "I:F")                                                        \
    X(F64_PROMOTE_F32, 0xBB, NONE, "f:F")                                                          \
    X(I32_REINTERPRET_F32, 0xBC, NONE, "f:i")                                                      \
    X(I64_REINTERPRET_F64, 0xBD, NONE, "F:I")                                                      \
    X(F32_REINTERPRET_I32, 0xBE, NONE, "i:f")                                                      \
    X(F64_REINTERPRET_I64, 0xBF, NONE, "I:F")                                                      \
    X(I32_EXTEND8_S, 0xC0, NONE, "i:i")                                                            \
    X(I32_EXTEND16_S, 0xC1, NONE, "i:i")                                                           \
    X(I64_EXTEND8_S, 0xC2, NONE, "I:I")                                                            \
    X(I64_EXTEND16_S, 0xC3, NONE, "I:I")                                                           \
    X(I64_EXTEND32_S, 0xC4, NONE, "I:I")                                                           \
    X(REF_NULL, 0xD0, REFTYPE, "*")                                                                \
    X(REF_IS_NULL, 0xD1, NONE, "*")                                                                \
    X(REF_FUNC, 0xD2, FUNC, "*")                                                                   \
    X(I32_TRUNC_SAT_F32_S, 0xFC00, NONE, "f:i")                                                    \
    X(I32_TRUNC_SAT_F32_U, 0xFC01, NONE, "f:i")                                                    \
    X(I32_TRUNC_SAT_F64_S, 0xFC02, NONE, "F:i")                                                    \
    X(I32_TRUNC_SAT_F64_U, 0xFC03, NONE, "F:i")                                                    \
    X(I64_TRUNC_SAT_F32_S, 0xFC04, NONE, "f:I")                                                    \
    X(I64_TRUNC_SAT_F32_U, 0xFC05, NONE, "f:I")                                                    \
    X(I64_TRUNC_SAT_F64_S, 0xFC06, NONE, "F:I")                                                    \
    X(I64_TRUNC_SAT_F64_U, 0xFC07, NONE, "F:I")                                                    \
    X(MEMORY_INIT, 0xFC08, MEM_INIT, "iii:")                                                       \
    X(DATA_DROP, 0xFC09, DATA, ":")                                                                \
    X(MEMORY_COPY, 0xFC0A, MEM_COPY, "iii:")                                                       \
    X(MEMORY_FILL, 0xFC0B, MEM, "iii:")                                                            \
    X(TABLE_INIT, 0xFC0C, TABLE_INIT, "iii:")                                                      \
    X(ELEM_DROP, 0xFC0D, ELEM, ":")                                                                \
    X(TABLE_COPY, 0xFC0E, TABLE_COPY, "iii:")                                                      \
    X(TABLE_GROW, 0xFC0F, TABLE, "*")                                                              \
    X(TABLE_SIZE, 0xFC10, TABLE, ":i")                                                             \
    X(TABLE_FILL, 0xFC11, TABLE, "*")                                                              \
    WEX__OPCODES_ATOMIC(X)

typedef enum {
#define WEX__OPX(name, code, imm, sig) WEX__OP_##name = code,
    WEX__OPCODES(WEX__OPX)
#undef WEX__OPX
} wex__opcode;

/* A dense numbering of the rows, for tables indexed by operator. */
typedef enum {
#define WEX__OPX(name, code, imm, sig) WEX__OPI_##name,
    WEX__OPCODES(WEX__OPX)
#undef WEX__OPX
        WEX__OPI_COUNT
} wex__opindex;

typedef struct {
    const char *name;
    uint32_t code;
    uint8_t imm; /* wex__imm_kind */
    const char *sig;
} wex__opinfo;

extern const wex__opinfo wex__ops[WEX__OPI_COUNT];

/* The row of opcode `code` (a byte, 0xFC00|sub or 0xFE00|sub), or NULL if none. */
const wex__opinfo *wex__op_lookup(uint32_t code);
/* Skip one operator's immediates of shape imm (errors stay in r). */
void wex__op_skip_imm(wex__reader *r, uint8_t imm);

/* log2 of the access width (= the required alignment) of an atomic memory
 * operator 0xFE00|sub; 0 for atomic.fence. */
unsigned wex__op_atomic_log2(uint32_t code);

#endif
