/* vm.c - a small bytecode VM (a stack machine with a switch loop) running
 * a program that counts primes below n by trial division and sums them. */
#include "bench.h"

enum { PUSH, LOAD, STORE, ADD, SUB, MUL, MOD, LT, JZ, JMP, DUP, POP, HALT };

static int32_t run(const int32_t *code, int32_t *vars) {
    int32_t stack[64], sp = 0, pc = 0;
    for (;;) {
        int32_t op = code[pc++];
        switch (op) {
        case PUSH: stack[sp++] = code[pc++]; break;
        case LOAD: stack[sp++] = vars[code[pc++]]; break;
        case STORE: vars[code[pc++]] = stack[--sp]; break;
        case ADD: sp--, stack[sp - 1] += stack[sp]; break;
        case SUB: sp--, stack[sp - 1] -= stack[sp]; break;
        case MUL: sp--, stack[sp - 1] *= stack[sp]; break;
        case MOD: sp--, stack[sp - 1] %= stack[sp]; break;
        case LT: sp--, stack[sp - 1] = stack[sp - 1] < stack[sp]; break;
        case JZ: pc = stack[--sp] ? pc + 1 : code[pc]; break;
        case JMP: pc = code[pc]; break;
        case DUP: stack[sp] = stack[sp - 1], sp++; break;
        case POP: sp--; break;
        case HALT: return stack[sp - 1];
        default: return -1;
        }
    }
}

int main(int argc, char **argv) {
    int32_t n = (int32_t)bench_size(argc, argv, 12000);
    /* vars: 0 n, 1 i, 2 d, 3 count, 4 sum, 5 isprime */
    /* for (i = 2; i < n; i++) { isprime = 1; for (d = 2; d*d <= i; d++) if (i % d == 0) {isprime = 0; break;}
     *   count += isprime; sum += isprime * i; } */
    /* The program, assembled with labels. */
    int32_t p[128], k = 0;
#define E(x) p[k++] = (x)
    E(PUSH), E(2), E(STORE), E(1);
    int32_t outer = k;
    E(LOAD), E(1), E(LOAD), E(0), E(LT), E(JZ);
    int32_t fix_end = k;
    E(0);
    E(PUSH), E(1), E(STORE), E(5), E(PUSH), E(2), E(STORE), E(2);
    int32_t inner = k;
    E(LOAD), E(2), E(LOAD), E(2), E(MUL), E(LOAD), E(1), E(PUSH), E(1), E(ADD), E(LT), E(JZ);
    int32_t fix_next = k;
    E(0);
    E(LOAD), E(1), E(LOAD), E(2), E(MOD), E(JZ);
    int32_t fix_comp = k;
    E(0);
    E(LOAD), E(2), E(PUSH), E(1), E(ADD), E(STORE), E(2), E(JMP), E(inner);
    int32_t composite = k;
    E(PUSH), E(0), E(STORE), E(5);
    int32_t next = k;
    E(LOAD), E(3), E(LOAD), E(5), E(ADD), E(STORE), E(3);
    E(LOAD), E(4), E(LOAD), E(5), E(LOAD), E(1), E(MUL), E(ADD), E(STORE), E(4);
    E(LOAD), E(1), E(PUSH), E(1), E(ADD), E(STORE), E(1), E(JMP), E(outer);
    int32_t end = k;
    E(LOAD), E(4), E(HALT);
#undef E
    p[fix_end] = end;
    p[fix_next] = next;
    p[fix_comp] = composite;
    int32_t vars[8] = {n, 0, 0, 0, 0, 0, 0, 0};
    int32_t sum = run(p, vars);
    printf("vm(%d) = %d primes, sum %d\n", n, vars[3], sum);
    return 0;
}
