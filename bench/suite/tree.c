/* tree.c - allocation and pointer chasing: build binary trees of depth d
 * with malloc, walk them (count and checksum the nodes), free them; many
 * short-lived trees and one long-lived one, after the binary-trees game. */
#include "bench.h"

typedef struct node {
    struct node *l, *r;
    uint32_t v;
} node;

static node *make(uint32_t d, uint32_t v) {
    node *t = malloc(sizeof *t);
    if (!t) exit(1);
    t->v = v;
    t->l = d ? make(d - 1, 2 * v) : NULL;
    t->r = d ? make(d - 1, 2 * v + 1) : NULL;
    return t;
}

static uint32_t walk(const node *t) {
    if (!t) return 0;
    return (t->v ^ (t->v >> 3)) + walk(t->l) + 3 * walk(t->r);
}

static void drop(node *t) {
    if (!t) return;
    drop(t->l);
    drop(t->r);
    free(t);
}

int main(int argc, char **argv) {
    uint32_t d = bench_size(argc, argv, 16);
    node *keep = make(d, 1);
    uint32_t h = BENCH_SEED;
    for (uint32_t depth = 4; depth <= d; depth += 2) {
        uint32_t iters = 1u << (d - depth + 2);
        for (uint32_t i = 0; i < iters; i++) {
            node *t = make(depth, i);
            h = bench_mix(h, walk(t));
            drop(t);
        }
    }
    h = bench_mix(h, walk(keep));
    drop(keep);
    printf("tree(%u) = %08x\n", d, h);
    return 0;
}
