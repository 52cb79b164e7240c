/*
 * deflz.c - a deflate-like compressor: LZ77 with hash chains and lazy
 * matching, then canonical Huffman coding of literals/lengths and distances
 * (deflate's alphabets and extra bits), in blocks that fall back to stored
 * form when coding does not pay. All file I/O goes through stdio.
 *
 *   deflz c IN OUT      compress IN into OUT
 *   deflz d IN OUT      decompress IN into OUT
 *   deflz DIR [...]     self test: generate text-like, random and run-heavy
 *                       inputs in DIR, compress each to a file, decompress
 *                       that file, compare; print sizes and CRC-32s
 *
 * Built for wasm32-wasi and natively; tests/wasi/run_c.sh compares stdout,
 * exit status and the files left in DIR. Everything printed is integers, so
 * the two builds must agree byte for byte.
 *
 * Container: "DLZ1", original size (u32 LE), CRC-32 of the original (u32 LE),
 * then blocks. Block header: 1 bit final, 2 bits kind (0 stored, 1 Huffman).
 * Stored: align to a byte, u16 LE length, bytes. Huffman: 5 bits HLIT-257,
 * 5 bits HDIST-1, then each code length in 4 bits, then the symbols.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WINDOW     32768u
#define WMASK      (WINDOW - 1)
#define HASH_BITS  15
#define HASH_SIZE  (1u << HASH_BITS)
#define MIN_MATCH  3
#define MAX_MATCH  258
#define MAX_CHAIN  48
#define LAZY_LIMIT 32 /* don't look for a better match past this length */
#define MAX_BITS   15
#define NLITLEN    286
#define NDIST      30
#define BLOCK_TOK  16384 /* tokens per block */
#define STORED_MAX 65535u

static void die(const char *msg) {
    fprintf(stderr, "deflz: %s\n", msg);
    exit(2);
}

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) die("out of memory");
    return p;
}

/* ------------------------------------------------------------ CRC-32 */

static uint32_t crc_table[256];

static void crc_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

static uint32_t crc32(const uint8_t *p, size_t n) {
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++)
        c = crc_table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

/* ------------------------------------------------------------ deflate's tables */

static const uint16_t len_base[29] = {3,  4,  5,  6,   7,   8,   9,   10,  11, 13,
                                      15, 17, 19, 23,  27,  31,  35,  43,  51, 59,
                                      67, 83, 99, 115, 131, 163, 195, 227, 258};
static const uint8_t len_extra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                      2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
static const uint16_t dist_base[30] = {
    1,   2,   3,   4,   5,   7,    9,    13,   17,   25,   33,   49,   65,    97,    129,
    193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
static const uint8_t dist_extra[30] = {0, 0, 0, 0, 1, 1, 2, 2,  3,  3,  4,  4,  5,  5,  6,
                                       6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};

static int len_code(int len) {
    int c = 0;
    while (c < 28 && len_base[c + 1] <= len)
        c++;
    return c;
}

static int dist_code(int d) {
    int c = 0;
    while (c < 29 && dist_base[c + 1] <= d)
        c++;
    return c;
}

/* ------------------------------------------------------------ bit I/O */

typedef struct {
    uint8_t *buf;
    size_t len, cap;
    uint64_t acc;
    int nacc;
} bitw;

static void bw_byte(bitw *w, uint8_t b) {
    if (w->len == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 65536;
        uint8_t *q = realloc(w->buf, w->cap);
        if (!q) die("out of memory");
        w->buf = q;
    }
    w->buf[w->len++] = b;
}

/* LSB-first, as deflate. */
static void bw_put(bitw *w, uint32_t v, int n) {
    w->acc |= (uint64_t)v << w->nacc;
    w->nacc += n;
    while (w->nacc >= 8) {
        bw_byte(w, (uint8_t)w->acc);
        w->acc >>= 8;
        w->nacc -= 8;
    }
}

static void bw_align(bitw *w) {
    if (w->nacc) bw_put(w, 0, 8 - w->nacc);
}

typedef struct {
    const uint8_t *p;
    size_t len, pos;
    uint64_t acc;
    int nacc;
} bitr;

static uint32_t br_get(bitr *r, int n) {
    while (r->nacc < n) {
        if (r->pos >= r->len) die("truncated input");
        r->acc |= (uint64_t)r->p[r->pos++] << r->nacc;
        r->nacc += 8;
    }
    uint32_t v = (uint32_t)(r->acc & ((1u << n) - 1));
    r->acc >>= n;
    r->nacc -= n;
    return v;
}

static void br_align(bitr *r) {
    r->acc >>= r->nacc & 7;
    r->nacc -= r->nacc & 7;
}

/* ------------------------------------------------------------ Huffman */

/*
 * Code lengths from frequencies: a Huffman tree built with two sorted queues
 * (leaves sorted by frequency, internal nodes made in order), then lengths
 * read off the tree. If a length exceeds `limit`, the frequencies are
 * flattened and the tree rebuilt, which always ends since equal frequencies
 * give a balanced tree.
 */
static void build_lengths(const uint32_t *freq, int n, int limit, uint8_t *lens) {
    uint32_t f[NLITLEN];
    memcpy(f, freq, (size_t)n * sizeof *f);
    for (;;) {
        int leaves[NLITLEN], nl = 0;
        for (int i = 0; i < n; i++) {
            lens[i] = 0;
            if (f[i]) leaves[nl++] = i;
        }
        if (nl == 0) return;
        if (nl == 1) {
            lens[leaves[0]] = 1;
            return;
        }
        /* insertion sort by frequency, then symbol (deterministic) */
        for (int i = 1; i < nl; i++) {
            int s = leaves[i], j = i;
            while (j > 0 &&
                   (f[leaves[j - 1]] > f[s] || (f[leaves[j - 1]] == f[s] && leaves[j - 1] > s))) {
                leaves[j] = leaves[j - 1];
                j--;
            }
            leaves[j] = s;
        }
        /* nodes 0..nl-1 leaves, nl.. internal */
        uint64_t w[2 * NLITLEN];
        int parent[2 * NLITLEN];
        for (int i = 0; i < nl; i++)
            w[i] = f[leaves[i]];
        int li = 0, ii = nl, ni = nl;
        while (ni < 2 * nl - 1) {
            int pick[2];
            for (int k = 0; k < 2; k++) {
                if (li < nl && (ii >= ni || w[li] <= w[ii]))
                    pick[k] = li++;
                else
                    pick[k] = ii++;
            }
            w[ni] = w[pick[0]] + w[pick[1]];
            parent[pick[0]] = parent[pick[1]] = ni;
            ni++;
        }
        int depth[2 * NLITLEN];
        depth[ni - 1] = 0;
        int maxd = 0;
        for (int i = ni - 2; i >= 0; i--) {
            depth[i] = depth[parent[i]] + 1;
            if (i < nl && depth[i] > maxd) maxd = depth[i];
        }
        if (maxd <= limit) {
            for (int i = 0; i < nl; i++)
                lens[leaves[i]] = (uint8_t)depth[i];
            return;
        }
        for (int i = 0; i < n; i++)
            if (f[i]) f[i] = (f[i] >> 1) | 1;
    }
}

/* Canonical codes from lengths (bit-reversed, since bits go out LSB first). */
static void build_codes(const uint8_t *lens, int n, uint16_t *codes) {
    int count[MAX_BITS + 1] = {0};
    for (int i = 0; i < n; i++)
        count[lens[i]]++;
    count[0] = 0;
    uint32_t next[MAX_BITS + 2];
    uint32_t code = 0;
    for (int b = 1; b <= MAX_BITS; b++) {
        code = (code + (uint32_t)count[b - 1]) << 1;
        next[b] = code;
    }
    for (int i = 0; i < n; i++) {
        int l = lens[i];
        if (!l) continue;
        uint32_t c = next[l]++, r = 0;
        for (int k = 0; k < l; k++)
            r |= ((c >> k) & 1) << (l - 1 - k);
        codes[i] = (uint16_t)r;
    }
}

/* A decoder in the manner of zlib's puff: count of codes per length and the
 * symbols in canonical order; decoding walks the lengths a bit at a time. */
typedef struct {
    uint16_t count[MAX_BITS + 1];
    uint16_t symbol[NLITLEN];
} huffdec;

static void huff_dec_init(huffdec *h, const uint8_t *lens, int n) {
    memset(h->count, 0, sizeof h->count);
    for (int i = 0; i < n; i++)
        h->count[lens[i]]++;
    uint16_t offs[MAX_BITS + 1];
    offs[1] = 0;
    for (int b = 1; b < MAX_BITS; b++)
        offs[b + 1] = (uint16_t)(offs[b] + h->count[b]);
    for (int i = 0; i < n; i++)
        if (lens[i]) h->symbol[offs[lens[i]]++] = (uint16_t)i;
}

static int huff_decode(bitr *r, const huffdec *h) {
    int code = 0, first = 0, index = 0;
    for (int len = 1; len <= MAX_BITS; len++) {
        code |= (int)br_get(r, 1);
        int count = h->count[len];
        if (code - count < first) return h->symbol[index + (code - first)];
        index += count;
        first += count;
        first <<= 1;
        code <<= 1;
    }
    die("bad code");
    return -1;
}

/* ------------------------------------------------------------ LZ77 */

typedef struct {
    uint16_t len;  /* 0: literal */
    uint16_t dist; /* or the literal byte */
} token;

typedef struct {
    int32_t head[HASH_SIZE];
    int32_t prev[WINDOW];
} matcher;

static uint32_t hash3(const uint8_t *p) {
    return ((uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2]) * 2654435761u >> (32 - HASH_BITS);
}

static void insert(matcher *m, const uint8_t *in, size_t i) {
    uint32_t h = hash3(in + i);
    m->prev[i & WMASK] = m->head[h];
    m->head[h] = (int32_t)i;
}

/* Longest match for position i among the chain, at most `max` long. */
static int longest(const matcher *m, const uint8_t *in, size_t n, size_t i, int *dist) {
    int best = 0;
    size_t maxlen = n - i < MAX_MATCH ? n - i : MAX_MATCH;
    if (maxlen < MIN_MATCH) return 0;
    int32_t cand = m->head[hash3(in + i)];
    for (int chain = 0; cand >= 0 && chain < MAX_CHAIN; chain++) {
        size_t c = (size_t)cand;
        if (i - c > WINDOW - 1 || c >= i) break;
        if (in[c + best] == in[i + best]) {
            size_t l = 0;
            while (l < maxlen && in[c + l] == in[i + l])
                l++;
            if ((int)l > best) {
                best = (int)l;
                *dist = (int)(i - c);
                if (l == maxlen) break;
            }
        }
        int32_t nx = m->prev[c & WMASK];
        if (nx >= cand) break; /* a stale slot from an older window */
        cand = nx;
    }
    return best >= MIN_MATCH ? best : 0;
}

/* Tokenize in[0..n) with one-step lazy matching, as zlib's default levels. */
static token *lz77(const uint8_t *in, size_t n, size_t *ntok) {
    matcher *m = xmalloc(sizeof *m);
    for (size_t i = 0; i < HASH_SIZE; i++)
        m->head[i] = -1;
    for (size_t i = 0; i < WINDOW; i++)
        m->prev[i] = -1;
    token *t = xmalloc((n + 1) * sizeof *t);
    size_t k = 0, i = 0;
    while (i < n) {
        int dist = 0, len = n - i >= MIN_MATCH ? longest(m, in, n, i, &dist) : 0;
        if (len && len < LAZY_LIMIT && i + 1 < n && n - i - 1 >= MIN_MATCH) {
            insert(m, in, i);
            int d2 = 0, l2 = longest(m, in, n, i + 1, &d2);
            if (l2 > len) { /* emit a literal, take the later match */
                t[k].len = 0;
                t[k++].dist = in[i];
                i++;
                len = l2;
                dist = d2;
            } else {
                /* position i is already in the chain */
                t[k].len = (uint16_t)len;
                t[k++].dist = (uint16_t)dist;
                for (size_t j = i + 1; j < i + (size_t)len && j + MIN_MATCH <= n; j++)
                    insert(m, in, j);
                i += (size_t)len;
                continue;
            }
        }
        if (len) {
            t[k].len = (uint16_t)len;
            t[k++].dist = (uint16_t)dist;
            for (size_t j = i; j < i + (size_t)len && j + MIN_MATCH <= n; j++)
                insert(m, in, j);
            i += (size_t)len;
        } else {
            t[k].len = 0;
            t[k++].dist = in[i];
            if (i + MIN_MATCH <= n) insert(m, in, i);
            i++;
        }
    }
    free(m);
    *ntok = k;
    return t;
}

/* ------------------------------------------------------------ compress */

/* Emit tokens t[0..n) (covering raw[0..rawlen)) as one block: Huffman coded,
 * or stored if that is smaller. */
static void emit_block(bitw *w, const token *t, size_t n, const uint8_t *raw, size_t rawlen,
                       int final) {
    uint32_t lf[NLITLEN] = {0}, df[NDIST] = {0};
    for (size_t i = 0; i < n; i++) {
        if (t[i].len == 0) {
            lf[t[i].dist]++;
        } else {
            lf[257 + len_code(t[i].len)]++;
            df[dist_code(t[i].dist)]++;
        }
    }
    lf[256] = 1;
    uint8_t ll[NLITLEN], dl[NDIST];
    build_lengths(lf, NLITLEN, MAX_BITS, ll);
    build_lengths(df, NDIST, MAX_BITS, dl);
    int hlit = NLITLEN, hdist = NDIST;
    while (hlit > 257 && ll[hlit - 1] == 0)
        hlit--;
    while (hdist > 1 && dl[hdist - 1] == 0)
        hdist--;
    uint64_t bits = 3 + 10 + 4 * (uint64_t)(hlit + hdist);
    for (int i = 0; i < NLITLEN; i++)
        bits += (uint64_t)lf[i] * (ll[i] + (i >= 257 ? len_extra[i - 257] : 0));
    for (int i = 0; i < NDIST; i++)
        bits += (uint64_t)df[i] * (dl[i] + dist_extra[i]);
    uint64_t stored_bits = 3 + 7 + ((uint64_t)rawlen + 2 * (rawlen / STORED_MAX + 1)) * 8;
    if (stored_bits < bits) {
        size_t off = 0;
        do {
            size_t chunk = rawlen - off > STORED_MAX ? STORED_MAX : rawlen - off;
            bw_put(w, final && off + chunk == rawlen, 1);
            bw_put(w, 0, 2);
            bw_align(w);
            bw_put(w, (uint32_t)chunk, 16);
            for (size_t i = 0; i < chunk; i++)
                bw_byte(w, raw[off + i]);
            off += chunk;
        } while (off < rawlen);
        return;
    }
    uint16_t lc[NLITLEN] = {0}, dc[NDIST] = {0};
    build_codes(ll, NLITLEN, lc);
    build_codes(dl, NDIST, dc);
    bw_put(w, (uint32_t) final, 1);
    bw_put(w, 1, 2);
    bw_put(w, (uint32_t)(hlit - 257), 5);
    bw_put(w, (uint32_t)(hdist - 1), 5);
    for (int i = 0; i < hlit; i++)
        bw_put(w, ll[i], 4);
    for (int i = 0; i < hdist; i++)
        bw_put(w, dl[i], 4);
    for (size_t i = 0; i < n; i++) {
        if (t[i].len == 0) {
            bw_put(w, lc[t[i].dist], ll[t[i].dist]);
            continue;
        }
        int c = len_code(t[i].len), d = dist_code(t[i].dist);
        bw_put(w, lc[257 + c], ll[257 + c]);
        if (len_extra[c]) bw_put(w, (uint32_t)(t[i].len - len_base[c]), len_extra[c]);
        bw_put(w, dc[d], dl[d]);
        if (dist_extra[d]) bw_put(w, (uint32_t)(t[i].dist - dist_base[d]), dist_extra[d]);
    }
    bw_put(w, lc[256], ll[256]);
}

static void put32(bitw *w, uint32_t v) {
    for (int i = 0; i < 4; i++)
        bw_byte(w, (uint8_t)(v >> (8 * i)));
}

static uint8_t *compress(const uint8_t *in, size_t n, size_t *outlen) {
    bitw w = {0};
    bw_byte(&w, 'D'), bw_byte(&w, 'L'), bw_byte(&w, 'Z'), bw_byte(&w, '1');
    put32(&w, (uint32_t)n);
    put32(&w, crc32(in, n));
    size_t ntok;
    token *t = lz77(in, n, &ntok);
    size_t ti = 0, pos = 0;
    do {
        size_t cnt = ntok - ti > BLOCK_TOK ? BLOCK_TOK : ntok - ti, raw = 0;
        for (size_t i = 0; i < cnt; i++)
            raw += t[ti + i].len ? t[ti + i].len : 1;
        emit_block(&w, t + ti, cnt, in + pos, raw, ti + cnt == ntok);
        ti += cnt;
        pos += raw;
    } while (ti < ntok);
    bw_align(&w);
    free(t);
    *outlen = w.len;
    return w.buf;
}

/* ------------------------------------------------------------ decompress */

static uint32_t get32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint8_t *decompress(const uint8_t *in, size_t n, size_t *outlen) {
    if (n < 12 || memcmp(in, "DLZ1", 4) != 0) die("not a DLZ1 stream");
    size_t size = get32(in + 4);
    uint32_t want_crc = get32(in + 8);
    uint8_t *out = xmalloc(size);
    size_t o = 0;
    bitr r = {in + 12, n - 12, 0, 0, 0};
    int final = size == 0;
    while (!final) {
        final = (int)br_get(&r, 1);
        int kind = (int)br_get(&r, 2);
        if (kind == 0) {
            br_align(&r);
            size_t len = br_get(&r, 16);
            if (len > size - o) die("stored block too long");
            for (size_t i = 0; i < len; i++)
                out[o++] = (uint8_t)br_get(&r, 8);
            continue;
        }
        if (kind != 1) die("bad block kind");
        int hlit = (int)br_get(&r, 5) + 257, hdist = (int)br_get(&r, 5) + 1;
        if (hlit > NLITLEN || hdist > NDIST) die("bad table sizes");
        uint8_t ll[NLITLEN] = {0}, dl[NDIST] = {0};
        for (int i = 0; i < hlit; i++)
            ll[i] = (uint8_t)br_get(&r, 4);
        for (int i = 0; i < hdist; i++)
            dl[i] = (uint8_t)br_get(&r, 4);
        huffdec hl, hd;
        huff_dec_init(&hl, ll, NLITLEN);
        huff_dec_init(&hd, dl, NDIST);
        for (;;) {
            int sym = huff_decode(&r, &hl);
            if (sym < 256) {
                if (o >= size) die("output overrun");
                out[o++] = (uint8_t)sym;
                continue;
            }
            if (sym == 256) break;
            int c = sym - 257;
            if (c >= 29) die("bad length code");
            size_t len = len_base[c] + br_get(&r, len_extra[c]);
            int d = huff_decode(&r, &hd);
            if (d >= 30) die("bad distance code");
            size_t dist = dist_base[d] + br_get(&r, dist_extra[d]);
            if (dist > o || len > size - o) die("bad match");
            for (size_t i = 0; i < len; i++, o++)
                out[o] = out[o - dist];
        }
    }
    if (o != size) die("size mismatch");
    if (crc32(out, size) != want_crc) die("CRC mismatch");
    *outlen = size;
    return out;
}

/* ------------------------------------------------------------ files */

static uint8_t *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) die("cannot open input");
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = xmalloc(cap);
    for (;;) {
        if (n == cap) {
            cap *= 2;
            uint8_t *q = realloc(buf, cap);
            if (!q) die("out of memory");
            buf = q;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    if (ferror(f)) die("read error");
    fclose(f);
    *len = n;
    return buf;
}

static void write_file(const char *path, const uint8_t *p, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) die("cannot create output");
    /* in pieces, to exercise many writes */
    for (size_t off = 0; off < n;) {
        size_t chunk = n - off > 4096 ? 4096 : n - off;
        if (fwrite(p + off, 1, chunk, f) != chunk) die("write error");
        off += chunk;
    }
    if (fclose(f) != 0) die("close error");
}

static int file_mode(int compressing, const char *in, const char *out) {
    size_t n, m;
    uint8_t *src = read_file(in, &n);
    uint8_t *dst = compressing ? compress(src, n, &m) : decompress(src, n, &m);
    write_file(out, dst, m);
    printf("%s %zu -> %zu bytes\n", compressing ? "compressed" : "decompressed", n, m);
    free(src);
    free(dst);
    return 0;
}

/* ------------------------------------------------------------ inputs */

static uint32_t rng_state = 12345;
static uint32_t rnd(void) { /* xorshift32: the same sequence everywhere */
    uint32_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return rng_state = x;
}

/* Text-like: words from a vocabulary with skewed frequencies, punctuation,
 * line breaks, and now and then a repeated sentence. */
static uint8_t *gen_text(size_t n) {
    static const char *const words[] = {
        "the",         "of",     "and",      "to",     "in",       "a",       "is",
        "that",        "for",    "it",       "as",     "was",      "with",    "be",
        "by",          "on",     "not",      "he",     "this",     "are",     "or",
        "his",         "from",   "at",       "which",  "but",      "have",    "an",
        "had",         "they",   "you",      "were",   "their",    "one",     "all",
        "we",          "can",    "her",      "has",    "there",    "been",    "if",
        "more",        "when",   "will",     "would",  "who",      "so",      "no",
        "compress",    "window", "huffman",  "symbol", "distance", "literal", "length",
        "interpreter", "memory", "function", "module", "assembly", "runtime", "sandbox"};
    const size_t nw = sizeof words / sizeof *words;
    uint8_t *p = xmalloc(n);
    size_t i = 0, sentence_start = 0;
    while (i < n) {
        uint32_t r = rnd();
        if (r % 97 == 0 && i > 200) { /* repeat an earlier stretch */
            size_t from = i - sentence_start >= 20 ? sentence_start : i - 200;
            size_t len = 40 + r % 120;
            for (size_t k = 0; k < len && i < n; k++) {
                uint8_t b = p[from + k % (i - from)];
                p[i++] = b;
            }
            continue;
        }
        /* skewed: small indices far more often */
        size_t w = (size_t)((uint64_t)(rnd() % 1000) * (rnd() % 1000) / 1000) % nw;
        for (const char *s = words[w]; *s && i < n; s++)
            p[i++] = (uint8_t)*s;
        if (i >= n) break;
        uint32_t q = rnd() % 16;
        p[i++] = q == 0 ? '.' : q == 1 ? ',' : q == 2 ? '\n' : ' ';
        if (q == 0) sentence_start = i;
    }
    return p;
}

static uint8_t *gen_random(size_t n) {
    uint8_t *p = xmalloc(n);
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(rnd() >> 11);
    return p;
}

/* Runs of one byte, repeated short patterns, and a little noise. */
static uint8_t *gen_runs(size_t n) {
    uint8_t *p = xmalloc(n);
    size_t i = 0;
    while (i < n) {
        uint32_t r = rnd(), len = 1 + rnd() % 600;
        if (r % 3 == 0) {
            uint8_t b = (uint8_t)(rnd() % 8);
            for (uint32_t k = 0; k < len && i < n; k++)
                p[i++] = b;
        } else if (r % 3 == 1) {
            uint8_t pat[7];
            uint32_t pl = 2 + rnd() % 6;
            for (uint32_t k = 0; k < pl; k++)
                pat[k] = (uint8_t)('a' + rnd() % 26);
            for (uint32_t k = 0; k < len && i < n; k++)
                p[i++] = pat[k % pl];
        } else {
            for (uint32_t k = 0; k < len % 40 && i < n; k++)
                p[i++] = (uint8_t)rnd();
        }
    }
    return p;
}

static int self_test(const char *dir) {
    struct {
        const char *name;
        uint8_t *(*gen)(size_t);
        size_t size;
    } inputs[] = {
        {"text", gen_text, 1200000},
        {"random", gen_random, 300000},
        {"runs", gen_runs, 900000},
        {"empty", gen_random, 0},
    };
    int bad = 0;
    char in_path[512], lz_path[512], out_path[512];
    for (size_t k = 0; k < sizeof inputs / sizeof *inputs; k++) {
        snprintf(in_path, sizeof in_path, "%s/%s.in", dir, inputs[k].name);
        snprintf(lz_path, sizeof lz_path, "%s/%s.dlz", dir, inputs[k].name);
        snprintf(out_path, sizeof out_path, "%s/%s.out", dir, inputs[k].name);
        uint8_t *data = inputs[k].gen(inputs[k].size);
        write_file(in_path, data, inputs[k].size);
        /* the two modes, through files */
        file_mode(1, in_path, lz_path);
        file_mode(0, lz_path, out_path);
        size_t zn, on;
        uint8_t *z = read_file(lz_path, &zn);
        uint8_t *o = read_file(out_path, &on);
        int ok = on == inputs[k].size && memcmp(o, data, on) == 0;
        printf("%-6s %8zu bytes -> %8zu (%3zu.%01zu%%)  crc %08" PRIx32 "  stream crc %08" PRIx32
               "  %s\n",
               inputs[k].name, inputs[k].size, zn, inputs[k].size ? zn * 100 / inputs[k].size : 0,
               inputs[k].size ? zn * 1000 / inputs[k].size % 10 : 0, crc32(data, inputs[k].size),
               crc32(z, zn), ok ? "round trip ok" : "ROUND TRIP FAILED");
        bad |= !ok;
        free(data);
        free(z);
        free(o);
    }
    return bad;
}

int main(int argc, char **argv) {
    crc_init();
    if (argc == 4 && (strcmp(argv[1], "c") == 0 || strcmp(argv[1], "d") == 0))
        return file_mode(argv[1][0] == 'c', argv[2], argv[3]);
    if (argc < 2) {
        fprintf(stderr, "usage: deflz c|d IN OUT | deflz DIR\n");
        return 2;
    }
    return self_test(argv[1]);
}
