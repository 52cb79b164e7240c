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
