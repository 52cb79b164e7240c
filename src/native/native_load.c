/*
 * native_load.c - wex's own loader for the objects wex-llvmc makes: an ELF64
 * relocatable object for x86-64 is laid out in one mapping (code, read-only
 * data, and stubs for the few C library functions code may call), its
 * relocations applied, and its pages then made executable or read-only.
 * Nothing else is trusted: every offset, index and size in the object is
 * checked against the object's length, and anything unexpected is an error,
 * never a crash (the bytes may come from a damaged cache entry).
 */
#define _GNU_SOURCE /* roundeven */
#include "native/native_internal.h"

#include "os/os.h"

#include <elf.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* C library functions LLVM may call from float code on a CPU without the
 * instructions (roundeven without SSE4.1, ...) or for large copies. */
static const struct {
    const char *name;
    void *addr;
} libc_syms[] = {
    {"ceil", (void *)ceil},           {"ceilf", (void *)ceilf},
    {"floor", (void *)floor},         {"floorf", (void *)floorf},
    {"trunc", (void *)trunc},         {"truncf", (void *)truncf},
    {"roundeven", (void *)roundeven}, {"roundevenf", (void *)roundevenf},
    {"nearbyint", (void *)nearbyint}, {"nearbyintf", (void *)nearbyintf},
    {"rint", (void *)rint},           {"rintf", (void *)rintf},
    {"fmin", (void *)fmin},           {"fminf", (void *)fminf},
    {"fmax", (void *)fmax},           {"fmaxf", (void *)fmaxf},
    {"sqrt", (void *)sqrt},           {"sqrtf", (void *)sqrtf},
    {"memcpy", (void *)memcpy},       {"memmove", (void *)memmove},
    {"memset", (void *)memset},
};

/* A stub: jmp *0(%rip), then the 8-byte target. */
enum { STUB_SIZE = 16 };

static wex_error_t *bad(const char *what) {
    return wex__error_at(WEX_ERR_COMPILE, -1, "native code object: %s", what);
}

/* Round up to a power of two. */
static size_t align_up(size_t v, size_t a) {
    return (v + a - 1) & ~(a - 1);
}

/*
 * The call sites of .llvm_stackmaps (LLVM's format, version 3; relocated in
 * place): a header, then per function its address, frame size and record
 * count, then constants, then the records (id, offset in the function,
 * locations and live registers, which wex's have none of, each part padded
 * to 8 bytes). Anything malformed, or outside the object's functions, is
 * dropped: a backtrace then says less, nothing breaks.
 */
static int site_cmp(const void *a, const void *b) {
    const uintptr_t *x = a, *y = b; /* address, then record order */
    return x[0] != y[0] ? (x[0] < y[0] ? -1 : 1) : x[1] < y[1] ? -1 : x[1] > y[1];
}

/* Walk .llvm_stackmaps (version 3): every record's pc, then its id and the
 * constants among its locations, in order: one site each (add_stackmaps in
 * src/llvm/translate.c puts an inline chain in one record, so that LLVM's
 * tail merging cannot move part of it to another pc). With pairs NULL only
 * counts. Returns the number of sites, or -1 if the section is damaged. */
static int64_t scan_sites(const wex__native_obj *o, const uint8_t *p, size_t n, uintptr_t *pairs) {
    uint32_t nfn, ncon, nrec;
    if (n < 16 || p[0] != 3) return -1;
    memcpy(&nfn, p + 4, 4);
    memcpy(&ncon, p + 8, 4);
    memcpy(&nrec, p + 12, 4);
    size_t at = 16;
    if (nfn > (n - at) / 24) return -1;
    const uint8_t *fns = p + at;
    at += (size_t)nfn * 24;
    if (ncon > (n - at) / 8) return -1;
    const uint8_t *cons = p + at;
    at += (size_t)ncon * 8;
    if (nrec > (n - at) / 24) return -1;
    uint32_t k = 0;
    int64_t kept = 0;
    for (uint32_t f = 0; f < nfn; f++) {
        uint64_t faddr, cnt;
        memcpy(&faddr, fns + 24 * (size_t)f, 8);
        memcpy(&cnt, fns + 24 * (size_t)f + 16, 8);
        for (uint64_t r = 0; r < cnt; r++, k++) {
            uint64_t id;
            uint32_t ioff;
            uint16_t nloc, nlive;
            if (k >= nrec || n - at < 16) return -1;
            memcpy(&id, p + at, 8);
            memcpy(&ioff, p + at + 8, 4);
            memcpy(&nloc, p + at + 14, 2);
            at += 16;
            if ((size_t)nloc * 12 > n - at) return -1;
            const uint8_t *locs = p + at;
            at = align_up(at + (size_t)nloc * 12, 8);
            if (at > n || n - at < 4) return -1;
            memcpy(&nlive, p + at + 2, 2);
            at += 4;
            if ((size_t)nlive * 4 > n - at) return -1;
            at = align_up(at + (size_t)nlive * 4, 8);
            if (at > n) return -1;
            uintptr_t pc = (uintptr_t)faddr + ioff;
            if (pc < o->lo || pc > o->hi) continue;
            for (uint32_t j = 0; j <= nloc && j < 256; j++) {
                uint64_t v = id;
                if (j > 0) { /* a constant location: 4 small, 5 an index into the constants */
                    const uint8_t *l = locs + 12 * (size_t)(j - 1);
                    int32_t c;
                    memcpy(&c, l + 8, 4);
                    if (l[0] == 4)
                        v = (uint64_t)(int64_t)c;
                    else if (l[0] == 5 && c >= 0 && (uint32_t)c < ncon)
                        memcpy(&v, cons + 8 * (size_t)c, 8);
                    else
                        continue;
                }
                if (pairs) {
                    pairs[3 * kept] = pc;
                    pairs[3 * kept + 1] = (uintptr_t)k << 8 | j; /* record order, then chain */
                    pairs[3 * kept + 2] = (uintptr_t)v;
                }
                kept++;
            }
        }
    }
    return kept;
}

static void read_sites(wex__native_obj *o, const uint8_t *p, size_t n) {
    int64_t total = scan_sites(o, p, n, NULL);
    if (total <= 0 || total > UINT32_MAX) return;
    uintptr_t *pairs = wex__malloc((size_t)total * 3 * sizeof *pairs);
    if (!pairs) return;
    uint32_t kept = (uint32_t)scan_sites(o, p, n, pairs);
    /* LLVM writes them in address order: sort only if not */
    bool sorted = true;
    for (uint32_t i = 1; i < kept && sorted; i++)
        sorted = site_cmp(&pairs[3 * (i - 1)], &pairs[3 * i]) <= 0;
    if (!sorted) qsort(pairs, kept, 3 * sizeof *pairs, site_cmp);
    o->site_pc = wex__malloc((size_t)kept * sizeof *o->site_pc + 1);
    o->site_id = wex__malloc((size_t)kept * sizeof *o->site_id + 1);
    if (!o->site_pc || !o->site_id) goto bad;
    for (uint32_t i = 0; i < kept; i++) {
        o->site_pc[i] = pairs[3 * i];
        o->site_id[i] = pairs[3 * i + 2];
    }
    o->nsites = kept;
    wex__free(pairs);
    return;
bad:
    wex__free(pairs);
    wex__free(o->site_pc);
    wex__free(o->site_id);
    o->site_pc = NULL;
    o->site_id = NULL;
    o->nsites = 0;
}

wex_error_t *wex__native_load(const uint8_t *obj, size_t len, uint32_t nfuncs,
                              wex__native_obj **out) {
    *out = NULL;
    if (len < sizeof(Elf64_Ehdr)) return bad("too short");
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)obj;
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
        eh->e_ident[EI_DATA] != ELFDATA2LSB || eh->e_type != ET_REL || eh->e_machine != EM_X86_64)
        return bad("not an x86-64 relocatable ELF object");
    if (eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_shoff > len ||
        (len - eh->e_shoff) / sizeof(Elf64_Shdr) < eh->e_shnum || eh->e_shnum == 0)
        return bad("bad section table");
    const Elf64_Shdr *sh = (const Elf64_Shdr *)(obj + eh->e_shoff);
    uint32_t nsec = eh->e_shnum;
    for (uint32_t i = 0; i < nsec; i++) {
        if (sh[i].sh_type != SHT_NOBITS &&
            (sh[i].sh_offset > len || sh[i].sh_size > len - sh[i].sh_offset))
            return bad("section outside the object");
        if (sh[i].sh_addralign > 4096) return bad("section alignment too large");
    }

    /* Layout: executable sections, then stubs, then (page-aligned) the rest. */
    size_t *place = wex__calloc(nsec, sizeof *place);
    if (!place) return wex__error_nomem();
    wex_error_t *err = NULL;
    size_t off = 0;
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            off = align_up(off, 16);
            off += STUB_SIZE * (sizeof libc_syms / sizeof libc_syms[0]);
            off = align_up(off, 4096);
        }
        for (uint32_t i = 0; i < nsec; i++) {
            if (!(sh[i].sh_flags & SHF_ALLOC)) continue;
            if (((sh[i].sh_flags & SHF_EXECINSTR) != 0) != (pass == 0)) continue;
            if (sh[i].sh_flags & SHF_WRITE) {
                if (sh[i].sh_size == 0) continue;
                err = bad("writable data section");
                goto fail;
            }
            size_t a = sh[i].sh_addralign ? sh[i].sh_addralign : 1;
            off = align_up(off, a);
            place[i] = off;
            off += sh[i].sh_size;
        }
    }
    size_t stub_off = 0;
    {
        size_t x = 0;
        for (uint32_t i = 0; i < nsec; i++)
            if ((sh[i].sh_flags & SHF_ALLOC) && (sh[i].sh_flags & SHF_EXECINSTR))
                x = place[i] + sh[i].sh_size > x ? place[i] + sh[i].sh_size : x;
        stub_off = align_up(x, 16);
    }
    size_t exec_end =
        align_up(stub_off + STUB_SIZE * (sizeof libc_syms / sizeof libc_syms[0]), 4096);
    size_t total = align_up(off > exec_end ? off : exec_end, 4096);
    uint8_t *map = wex__os_map_rw(total);
    if (!map) {
        err = wex__error_nomem();
        goto fail;
    }
    for (uint32_t i = 0; i < nsec; i++)
        if ((sh[i].sh_flags & SHF_ALLOC) && sh[i].sh_type == SHT_PROGBITS)
            memcpy(map + place[i], obj + sh[i].sh_offset, sh[i].sh_size);
    uint32_t nstubs = 0;
    int stub_of[sizeof libc_syms / sizeof libc_syms[0]];
    for (size_t k = 0; k < sizeof libc_syms / sizeof libc_syms[0]; k++)
        stub_of[k] = -1;

    /* The symbol table. */
    const Elf64_Shdr *symsec = NULL;
    for (uint32_t i = 0; i < nsec; i++)
        if (sh[i].sh_type == SHT_SYMTAB) symsec = &sh[i];
    if (!symsec || symsec->sh_entsize != sizeof(Elf64_Sym) || symsec->sh_link >= nsec) {
        err = bad("no symbol table");
        goto unmap;
    }
    const Elf64_Sym *syms = (const Elf64_Sym *)(obj + symsec->sh_offset);
    size_t nsyms = symsec->sh_size / sizeof(Elf64_Sym);
    const Elf64_Shdr *strsec = &sh[symsec->sh_link];
    const char *strs = (const char *)(obj + strsec->sh_offset);
    size_t strlen_ = strsec->sh_size;
    if (strlen_ == 0 || strs[strlen_ - 1] != 0) {
        err = bad("bad string table");
        goto unmap;
    }

    /* Relocations. */
    for (uint32_t i = 0; i < nsec && !err; i++) {
        if (sh[i].sh_type == SHT_REL) {
            err = bad("REL relocations");
            break;
        }
        if (sh[i].sh_type != SHT_RELA) continue;
        if (sh[i].sh_info >= nsec || sh[i].sh_entsize != sizeof(Elf64_Rela)) {
            err = bad("bad relocation section");
            break;
        }
        const Elf64_Shdr *target = &sh[sh[i].sh_info];
        if (!(target->sh_flags & SHF_ALLOC)) continue; /* debug info and the like */
        const Elf64_Rela *rel = (const Elf64_Rela *)(obj + sh[i].sh_offset);
        size_t nrel = sh[i].sh_size / sizeof(Elf64_Rela);
        for (size_t k = 0; k < nrel; k++) {
            uint32_t type = ELF64_R_TYPE(rel[k].r_info);
            size_t si = ELF64_R_SYM(rel[k].r_info);
            if (si >= nsyms || rel[k].r_offset > target->sh_size ||
                target->sh_size - rel[k].r_offset < (type == R_X86_64_64 ? 8 : 4)) {
                err = bad("relocation out of range");
                break;
            }
            const Elf64_Sym *sym = &syms[si];
            uint64_t S;
            if (sym->st_shndx == SHN_UNDEF) {
                if (sym->st_name >= strlen_) {
                    err = bad("bad symbol name");
                    break;
                }
                const char *name = strs + sym->st_name;
                size_t j = 0, n = sizeof libc_syms / sizeof libc_syms[0];
                while (j < n && strcmp(libc_syms[j].name, name) != 0)
                    j++;
                if (j == n) {
                    err = wex__error_at(WEX_ERR_COMPILE, -1,
                                        "native code object: unknown symbol '%.64s'", name);
                    break;
                }
                if (stub_of[j] < 0) {
                    uint8_t *st = map + stub_off + (size_t)nstubs * STUB_SIZE;
                    static const uint8_t jmp[6] = {0xFF, 0x25, 0, 0, 0, 0};
                    memcpy(st, jmp, 6);
                    uint64_t a = (uint64_t)(uintptr_t)libc_syms[j].addr;
                    memcpy(st + 6, &a, 8);
                    stub_of[j] = (int)nstubs++;
                }
                S = (uint64_t)(uintptr_t)(map + stub_off + (size_t)stub_of[j] * STUB_SIZE);
            } else if (sym->st_shndx < nsec && (sh[sym->st_shndx].sh_flags & SHF_ALLOC)) {
                if (sym->st_value > sh[sym->st_shndx].sh_size) {
                    err = bad("symbol outside its section");
                    break;
                }
                S = (uint64_t)(uintptr_t)(map + place[sym->st_shndx] + sym->st_value);
            } else {
                err = bad("relocation against an unloaded section");
                break;
            }
            uint8_t *P = map + place[sh[i].sh_info] + rel[k].r_offset;
            int64_t A = rel[k].r_addend;
            switch (type) {
            case R_X86_64_64: {
                uint64_t v = S + (uint64_t)A;
                memcpy(P, &v, 8);
                break;
            }
            case R_X86_64_PC32:
            case R_X86_64_PLT32: {
                int64_t v = (int64_t)(S + (uint64_t)A - (uint64_t)(uintptr_t)P);
                if (v != (int32_t)v) {
                    err = bad("PC-relative relocation overflow");
                    break;
                }
                int32_t w = (int32_t)v;
                memcpy(P, &w, 4);
                break;
            }
            default:
                err = wex__error_at(WEX_ERR_COMPILE, -1,
                                    "native code object: relocation type %u not supported", type);
                break;
            }
            if (err) break;
        }
    }
    if (err) goto unmap;

    /* The functions it defines: wex_f<i> and wex_e<i>, each or neither;
     * and loop entries wex_p<i>_<offset> into body i's entry copy wex_q<i>
     * (both counted as function i's code). */
    wex__native_obj *o = wex__calloc(1, sizeof *o);
    uintptr_t *fa = wex__calloc((size_t)nfuncs + 1, sizeof *fa);
    uintptr_t *ea = wex__calloc((size_t)nfuncs + 1, sizeof *ea);
    uint32_t *fs = wex__calloc((size_t)nfuncs + 1, sizeof *fs);
    size_t np = 0, capp = 0;
    struct osr_sym {
        uintptr_t addr;
        uint32_t size, di, off;
    } *ps = NULL;
    if (!o || !fa || !ea || !fs) {
        err = wex__error_nomem();
        goto free_lists;
    }
    for (size_t k = 0; k < nsyms; k++) {
        const Elf64_Sym *sym = &syms[k];
        if (sym->st_name >= strlen_ || sym->st_shndx == SHN_UNDEF || sym->st_shndx >= nsec)
            continue;
        if (!(sh[sym->st_shndx].sh_flags & SHF_EXECINSTR)) continue;
        const char *name = strs + sym->st_name;
        if (name[0] != 'w' || strncmp(name, "wex_", 4) != 0 ||
            (name[4] != 'f' && name[4] != 'e' && name[4] != 'p' && name[4] != 'q'))
            continue;
        char *end;
        unsigned long idx = strtoul(name + 5, &end, 10), loff = 0;
        if (end == name + 5 || idx >= nfuncs || sym->st_value >= sh[sym->st_shndx].sh_size)
            continue;
        if (name[4] == 'p') {
            if (*end != '_') continue;
            const char *q = end + 1;
            loff = strtoul(q, &end, 10);
            if (end == q || loff >= WEX__NATIVE_LOOP_BODY) continue;
        } else if (name[4] == 'q') {
            loff = WEX__NATIVE_LOOP_BODY;
        }
        if (*end) continue;
        uintptr_t addr = (uintptr_t)(map + place[sym->st_shndx] + sym->st_value);
        uint64_t room = sh[sym->st_shndx].sh_size - sym->st_value;
        uint32_t size = (uint32_t)(sym->st_size < room ? sym->st_size : room);
        if (name[4] == 'f') {
            fa[idx] = addr;
            fs[idx] = size;
        } else if (name[4] == 'e') {
            ea[idx] = addr;
        } else {
            if (np == capp) {
                size_t nc = capp ? 2 * capp : 8;
                struct osr_sym *n2 = wex__realloc(ps, nc * sizeof *n2);
                if (!n2) {
                    err = wex__error_nomem();
                    goto free_lists;
                }
                ps = n2;
                capp = nc;
            }
            ps[np++] = (struct osr_sym){addr, size, (uint32_t)idx, (uint32_t)loff};
        }
    }
    uint32_t nf = 0;
    for (uint32_t k = 0; k < nfuncs; k++) {
        if (!fa[k] != !ea[k]) {
            err = bad("a function's code is missing");
            goto free_lists;
        }
        nf += fa[k] != 0;
    }
    if (nf + np == 0) {
        err = bad("no functions");
        goto free_lists;
    }
    size_t ntot = nf + np;
    o->order = wex__calloc(ntot, sizeof *o->order);
    o->addr = wex__calloc(ntot, sizeof *o->addr);
    o->entry = wex__calloc(ntot, sizeof *o->entry);
    o->size = wex__calloc(ntot, sizeof *o->size);
    o->loop = wex__calloc(ntot, sizeof *o->loop);
    if (!o->order || !o->addr || !o->entry || !o->size || !o->loop) {
        err = wex__error_nomem();
        goto free_lists;
    }
    /* by address (insertion sort: the object lays them out in order, so
     * this is nearly one pass) */
    for (size_t k = 0; k < nfuncs + np; k++) {
        uintptr_t a;
        uint32_t di, sz, lp;
        uintptr_t en;
        if (k < nfuncs) {
            if (!fa[k]) continue;
            a = fa[k], di = (uint32_t)k, sz = fs[k], en = ea[k], lp = UINT32_MAX;
        } else {
            const struct osr_sym *q = &ps[k - nfuncs];
            a = q->addr, di = q->di, sz = q->size, en = q->addr, lp = q->off;
        }
        uint32_t j = o->nf++;
        while (j > 0 && o->addr[j - 1] > a) {
            o->order[j] = o->order[j - 1];
            o->addr[j] = o->addr[j - 1];
            o->entry[j] = o->entry[j - 1];
            o->size[j] = o->size[j - 1];
            o->loop[j] = o->loop[j - 1];
            j--;
        }
        o->order[j] = di;
        o->addr[j] = a;
        o->entry[j] = en;
        o->size[j] = sz;
        o->loop[j] = lp;
    }
    uint32_t last = o->nf - 1;
    o->lo = o->addr[0];
    o->hi = o->addr[last] + o->size[last];
    uint32_t shstr = eh->e_shstrndx;
    for (uint32_t i = 0; i < nsec && shstr < nsec && sh[shstr].sh_type == SHT_STRTAB; i++) {
        if (!(sh[i].sh_flags & SHF_ALLOC) || sh[i].sh_type != SHT_PROGBITS ||
            sh[i].sh_name >= sh[shstr].sh_size || sh[shstr].sh_size - sh[i].sh_name < 16)
            continue;
        if (memcmp(obj + sh[shstr].sh_offset + sh[i].sh_name, ".llvm_stackmaps", 16) == 0)
            read_sites(o, map + place[i], sh[i].sh_size);
    }
    if (!wex__os_protect(map, exec_end, WEX__OS_PROT_RX) ||
        (total > exec_end && !wex__os_protect(map + exec_end, total - exec_end, WEX__OS_PROT_R))) {
        err = wex__error_at(WEX_ERR_COMPILE, -1, "native code: cannot protect its pages");
        goto free_lists;
    }
    o->bytes = wex__malloc(len ? len : 1);
    if (!o->bytes) {
        err = wex__error_nomem();
        goto free_lists;
    }
    memcpy(o->bytes, obj, len);
    o->len = len;
    o->map = map;
    o->map_len = total;
    wex__free(fa);
    wex__free(ea);
    wex__free(fs);
    wex__free(ps);
    wex__free(place);
    *out = o;
    return NULL;
free_lists:
    wex__free(fa);
    wex__free(ea);
    wex__free(fs);
    wex__free(ps);
    wex__native_obj_free(o);
unmap:
    wex__os_unmap(map, total);
fail:
    wex__free(place);
    return err;
}

void wex__native_obj_free(wex__native_obj *o) {
    if (!o) return;
    if (o->map) wex__os_unmap(o->map, o->map_len);
    wex__free(o->order);
    wex__free(o->addr);
    wex__free(o->entry);
    wex__free(o->size);
    wex__free(o->loop);
    wex__free(o->site_pc);
    wex__free(o->site_id);
    wex__free(o->bytes);
    wex__free(o);
}

wex_error_t *wex__native_new(wex__module *m, wex__native **out) {
    uint32_t nd = m->nfuncs - m->nfunc_imports;
    wex__native *n = wex__calloc(1, sizeof *n);
    if (!n) return wex__error_nomem();
    n->nfuncs = nd;
    pthread_mutex_init(&n->add_mu, NULL);
    n->fns = wex__calloc(2 * (size_t)nd + 1, sizeof *n->fns);
    n->entries = n->fns + nd;
    n->canon = wex__calloc(m->ntypes ? m->ntypes : 1, sizeof *n->canon);
    n->hot = wex__calloc(2 * (size_t)nd + 1, sizeof *n->hot);
    n->loophot = n->hot ? n->hot + nd : NULL;
    if (!n->fns || !n->canon || !n->hot) {
        wex__native_free(n);
        return wex__error_nomem();
    }
    for (uint32_t i = 0; i < m->ntypes; i++)
        n->canon[i] = m->types[i].canon;
    for (uint32_t i = 0; i < nd; i++) {
        n->hot[i] = wex__tier_initial_count(m, i, false);
        n->loophot[i] = wex__tier_initial_count(m, i, true);
    }
    *out = n;
    return NULL;
}

/* $WEX_PERF_MAP=1: name each function's native code for perf. */
static void perf_map(const wex__module *m, const wex__native_obj *o) {
    static int on = -1;
    if (on < 0) {
        const char *e = getenv("WEX_PERF_MAP");
        on = e && *e && strcmp(e, "0") != 0;
    }
    if (!on) return;
    for (uint32_t k = 0; k < o->nf; k++) {
        uint32_t f = m->nfunc_imports + o->order[k];
        const char *nm = m->func_names && f < m->nfuncs ? m->func_names[f] : NULL;
        char name[300];
        snprintf(name, sizeof name, "wasm[%u]%s%s%s", f, nm ? ":" : "", nm ? nm : "",
                 o->loop[k] == UINT32_MAX ? "" : " (loop entry)");
        wex__os_perf_map(o->addr[k], o->size[k], name);
    }
}

void wex__native_add(const wex__module *m, wex__native_obj *o) {
    wex__native *n = m->native;
    perf_map(m, o);
    pthread_mutex_lock(&n->add_mu); /* two threads may complete one cached module */
    for (uint32_t k = 0; k < o->nf; k++) {
        uint32_t i = o->order[k];
        if (o->loop[k] != UINT32_MAX || __atomic_load_n(&n->fns[i], __ATOMIC_ACQUIRE)) continue;
        n->entries[i] = (void *)o->entry[k];
        __atomic_store_n(&n->fns[i], (void *)o->addr[k], __ATOMIC_RELEASE);
        __atomic_store_n(&n->hot[i], 0, __ATOMIC_RELAXED);
    }
    o->next = n->objs;
    __atomic_store_n(&n->objs, o, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&n->add_mu);
}

void *wex__native_loop_entry(const wex__native *n, uint32_t di, uint32_t off) {
    for (const wex__native_obj *o = __atomic_load_n(&n->objs, __ATOMIC_ACQUIRE); o; o = o->next)
        for (uint32_t k = 0; k < o->nf; k++)
            if (o->loop[k] == off && o->order[k] == di) return (void *)o->entry[k];
    return NULL;
}

uint32_t wex__native_count(const wex__native *n) {
    uint32_t c = 0;
    for (uint32_t i = 0; n && i < n->nfuncs; i++)
        c += __atomic_load_n(&n->fns[i], __ATOMIC_ACQUIRE) != NULL;
    return c;
}

/* The object whose functions' code holds pc, and in *k the index (by
 * address) of that function; NULL if none. Reads memory only. */
static const wex__native_obj *code_at(const wex__native *n, uintptr_t pc, uint32_t *k) {
    for (const wex__native_obj *o = n ? __atomic_load_n(&n->objs, __ATOMIC_ACQUIRE) : NULL; o;
         o = o->next) {
        if (pc < o->lo || pc >= o->hi) continue;
        uint32_t lo = 0, hi = o->nf;
        while (lo < hi) { /* the first function starting above pc */
            uint32_t mid = lo + (hi - lo) / 2;
            if (o->addr[mid] <= pc)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo == 0 || pc - o->addr[lo - 1] >= o->size[lo - 1]) return NULL;
        *k = lo - 1;
        return o;
    }
    return NULL;
}

int64_t wex__native_func_at(const wex__native *n, uintptr_t pc) {
    uint32_t k;
    const wex__native_obj *o = code_at(n, pc, &k);
    return o ? (int64_t)o->order[k] : -1;
}

const uint64_t *wex__native_sites_at(const wex__native *n, uintptr_t ra, uint32_t *count) {
    *count = 0;
    uint32_t f;
    /* ra - 1: the call, which may be its function's last instruction */
    const wex__native_obj *o = code_at(n, ra - 1, &f);
    if (!o) return NULL;
    uintptr_t fend = o->addr[f] + o->size[f];
    uint32_t lo = 0, hi = o->nsites;
    while (lo < hi) { /* the first site at or after ra */
        uint32_t mid = lo + (hi - lo) / 2;
        if (o->site_pc[mid] < ra)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo >= o->nsites || o->site_pc[lo] > fend) return NULL;
    uint32_t k = lo;
    while (k < o->nsites && o->site_pc[k] == o->site_pc[lo])
        k++;
    *count = k - lo;
    return &o->site_id[lo];
}

void wex__native_free(wex__native *n) {
    if (!n) return;
    wex__native_obj *o = n->objs;
    while (o) {
        wex__native_obj *next = o->next;
        wex__native_obj_free(o);
        o = next;
    }
    pthread_mutex_destroy(&n->add_mu);
    wex__free(n->fns);
    wex__free(n->canon);
    wex__free(n->hot);
    wex__free(n);
}

wex_error_t *wex__native_serialize(const wex__native *n, uint8_t **out, size_t *len) {
    *out = NULL;
    *len = 0;
    size_t total = 0;
    const wex__native_obj *head = n ? __atomic_load_n(&n->objs, __ATOMIC_ACQUIRE) : NULL;
    for (const wex__native_obj *o = head; o; o = o->next)
        total += 8 + align_up(o->len, 8);
    if (!total) return NULL;
    uint8_t *b = wex__calloc(1, total);
    if (!b) return wex__error_nomem();
    size_t at = 0;
    for (const wex__native_obj *o = head; o; o = o->next) {
        uint64_t l = o->len;
        memcpy(b + at, &l, 8);
        memcpy(b + at + 8, o->bytes, o->len);
        at += 8 + align_up(o->len, 8);
    }
    *out = b;
    *len = total;
    return NULL;
}

wex_error_t *wex__native_attach(wex__module *m, const uint8_t *buf, size_t len) {
    wex_error_t *err = NULL;
    if (!m->native) {
        err = wex__native_new(m, &m->native);
        if (err) return err;
    }
    uint32_t nd = m->nfuncs - m->nfunc_imports;
    size_t at = 0;
    while (at < len) {
        uint64_t l;
        if (len - at < 8) return bad("truncated list of objects");
        memcpy(&l, buf + at, 8);
        if (l > len - at - 8) return bad("object longer than its section");
        wex__native_obj *o;
        err = wex__native_load(buf + at + 8, (size_t)l, nd, &o);
        if (err) return err;
        wex__native_add(m, o);
        at += 8 + align_up((size_t)l, 8);
    }
    return NULL;
}
