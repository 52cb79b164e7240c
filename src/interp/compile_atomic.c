/*
 * compile_atomic.c - translation of the threads proposal's operators (0xFE
 * prefix). It works on the translator's model of the operand stack, so
 * compile.c includes it (with WEX__COMPILE_C defined) and calls
 * translate_atomic() for every 0xFE operator. Compiled on its own (the build
 * takes every .c file of src/interp) it is empty.
 *
 * Internal form, operands in the order WebAssembly pushes them:
 *   loads       op dst addr offset
 *   stores      op addr val offset
 *   rmw         op dst addr val offset
 *   cmpxchg     op dst addr expected replacement offset
 *   wait32/64   op dst addr expected timeout offset
 *   notify      op dst addr count offset
 *   fence       op
 * The handlers are in interp_atomic.h.
 */
#ifdef WEX__COMPILE_C

/* Translate one 0xFE operator whose row is `op` (immediates not yet read).
 * The alignment immediate was checked by valid: the access width comes from
 * the opcode, so only the offset is kept. */
static void translate_atomic(comp *c, const wex__opinfo *op) {
    wex__reader *r = &c->r;
    unsigned idx = (unsigned)(op - wex__ops);
    if (idx == WEX__OPI_ATOMIC_FENCE) {
        uint8_t zero;
        wex__read_u8(r, &zero);
        emit_op(c, WEX__IOP_ATOMIC_FENCE);
        return;
    }
    uint32_t align, offset;
    wex__read_u32(r, &align);
    wex__read_u32(r, &offset);
    const char *sig = op->sig;
    unsigned nin = (unsigned)(strchr(sig, ':') - sig);
    bool result = sig[nin + 1] != '\0';
    uint32_t in[3] = {0, 0, 0};
    for (unsigned k = nin; k-- > 0;)
        in[k] = pop(c);
    emit_op(c, idx);
    if (result) push_result(c);
    for (unsigned k = 0; k < nin; k++)
        emit(c, in[k]);
    emit(c, offset);
}

#endif
