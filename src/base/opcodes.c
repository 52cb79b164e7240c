/*
 * opcodes.c - the opcode table built from the rows of opcodes.h, and lookup.
 */
#include "base/opcodes.h"

#include <stddef.h>

const wex__opinfo wex__ops[WEX__OPI_COUNT] = {
#define WEX__OPX(name, code, imm, sig) {#name, code, WEX__IMM_##imm, sig},
    WEX__OPCODES(WEX__OPX)
#undef WEX__OPX
};

/* A switch on the opcode compiles to a jump table; no table to keep in sync. */
const wex__opinfo *wex__op_lookup(uint32_t code) {
    switch (code) {
#define WEX__OPX(name, code, imm, sig)                                                             \
    case code: return &wex__ops[WEX__OPI_##name];
        WEX__OPCODES(WEX__OPX)
#undef WEX__OPX
    default: return NULL;
    }
}

/* The sub-opcodes from 0x10 come in groups of seven with the same widths:
 * i32, i64, i32 8-bit, i32 16-bit, i64 8-bit, i64 16-bit, i64 32-bit
 * (loads, stores, then each read-modify-write operator). Below 0x10:
 * notify and wait32 access 4 bytes, wait64 8. */
unsigned wex__op_atomic_log2(uint32_t code) {
    static const uint8_t group[7] = {2, 3, 0, 1, 0, 1, 2};
    uint32_t sub = code & 0xFF;
    if (sub >= 0x10) return group[(sub - 0x10) % 7];
    return sub == 0x02 ? 3 : sub == 0x03 ? 0 : 2;
}

/*
 * Skip one operator's immediates, by their shape (wex__imm_kind), for
 * readers that only walk code: the translator over dead code, the artifact
 * writer looking for call_indirect. The reader records any error.
 */
void wex__op_skip_imm(wex__reader *r, uint8_t imm) {
    uint32_t u, n;
    int32_t s32;
    int64_t s64;
    uint8_t b;
    const uint8_t *p;
    switch (imm) {
    case WEX__IMM_NONE: break;
    case WEX__IMM_BLOCK: wex__read_s33(r, &s64); break;
    case WEX__IMM_LABEL:
    case WEX__IMM_FUNC:
    case WEX__IMM_LOCAL:
    case WEX__IMM_GLOBAL:
    case WEX__IMM_TABLE:
    case WEX__IMM_DATA:
    case WEX__IMM_ELEM: wex__read_u32(r, &u); break;
    case WEX__IMM_BR_TABLE:
        wex__read_u32(r, &n);
        for (uint32_t i = 0; i <= n && !r->err; i++)
            wex__read_u32(r, &u);
        break;
    case WEX__IMM_CALL_IND:
    case WEX__IMM_MEMARG:
    case WEX__IMM_TABLE_INIT:
    case WEX__IMM_TABLE_COPY:
        wex__read_u32(r, &u);
        wex__read_u32(r, &u);
        break;
    case WEX__IMM_MEM:
    case WEX__IMM_REFTYPE: wex__read_u8(r, &b); break;
    case WEX__IMM_I32: wex__read_s32(r, &s32); break;
    case WEX__IMM_I64: wex__read_s64(r, &s64); break;
    case WEX__IMM_F32: wex__read_bytes(r, 4, &p); break;
    case WEX__IMM_F64: wex__read_bytes(r, 8, &p); break;
    case WEX__IMM_SELECT_T:
        wex__read_u32(r, &n);
        wex__read_bytes(r, n, &p);
        break;
    case WEX__IMM_MEM_INIT:
        wex__read_u32(r, &u);
        wex__read_u8(r, &b);
        break;
    case WEX__IMM_MEM_COPY:
        wex__read_u8(r, &b);
        wex__read_u8(r, &b);
        break;
    }
}
