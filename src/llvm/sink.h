/*
 * sink.h - the guard-page sum's pruning after LLVM's passes (sink.c).
 */
#ifndef WEX_LLVM_SINK_H
#define WEX_LLVM_SINK_H

#include <llvm-c/Types.h>

/* Take out of the sum every float load that its own uses keep, in every
 * function of m; returns how many. Run after the optimisation passes, before
 * code generation, only on guard-page code translated with the sum. */
unsigned wex__llvm_prune_sink(LLVMModuleRef m);

#endif
