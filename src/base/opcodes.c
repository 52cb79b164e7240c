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
