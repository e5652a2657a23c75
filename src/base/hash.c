/* hash.c — MurmurHash3 x86_32 and the vocabulary map (see hash.h). */
#include "base/hash.h"

#include <stdlib.h>
#include <string.h>

static uint32_t rotl32(uint32_t x, int r) { return (x << r) | (x >> (32 - r)); }

/* Little-endian 32-bit read, whatever the host's byte order. */
static uint32_t read32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t mix_k(uint32_t k) {
    k *= 0xcc9e2d51u;
    k = rotl32(k, 15);
    return k * 0x1b873593u;
}

static inline uint32_t block(uint32_t h, uint32_t k) {
    h ^= mix_k(k);
    h = rotl32(h, 13);
    return h * 5 + 0xe6546b64u;
}

/* The last 0 to 3 bytes, little-endian. */
static inline uint32_t tail_bytes(const unsigned char *p, size_t n) {
    uint32_t k = 0;
    switch (n) {
    case 3: k ^= (uint32_t)p[2] << 16; /* fall through */
    case 2: k ^= (uint32_t)p[1] << 8;  /* fall through */
    case 1: k ^= p[0];
    }
    return k;
}

/* The tail (k: its n bytes) and the finalisation over a total of len bytes. */
static inline uint32_t finish(uint32_t h, uint32_t k, size_t n, size_t len) {
    if (n) h ^= mix_k(k);
    h ^= (uint32_t)len;
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    return h ^ (h >> 16);
}

uint32_t rtml_murmur3_32(const void *data, size_t len, uint32_t seed) {
    const unsigned char *p = data;
    size_t blocks = len / 4;
    uint32_t h = seed;
    for (size_t i = 0; i < blocks; i++) h = block(h, read32(p + 4 * i));
    return finish(h, tail_bytes(p + 4 * blocks, len & 3), len & 3, len);
}

void rtml_murmur3_prefix_init(rtml_murmur3_prefix *pre, const void *prefix, size_t len, uint32_t seed) {
    const unsigned char *p = prefix;
    size_t blocks = len / 4;
    pre->h = seed;
    for (size_t i = 0; i < blocks; i++) pre->h = block(pre->h, read32(p + 4 * i));
    pre->nrest = len & 3;
    pre->rest = tail_bytes(p + 4 * blocks, pre->nrest);
    pre->len = len;
}

/* The prefix's last bytes join the data's first ones in one block; then the data's own blocks, shifted. */
uint32_t rtml_murmur3_32_after(const rtml_murmur3_prefix *pre, const void *data, size_t len) {
    const unsigned char *p = data;
    uint32_t h = pre->h, k = pre->rest;
    size_t n = pre->nrest, total = pre->len + len;
    if (n) {
        size_t need = 4 - n;
        if (len < need) return finish(h, k | tail_bytes(p, len) << (8 * n), n + len, total);
        h = block(h, k | tail_bytes(p, need) << (8 * n));
        p += need;
        len -= need;
    }
    for (; len >= 4; p += 4, len -= 4) h = block(h, read32(p));
    return finish(h, tail_bytes(p, len), len, total);
}

long rtml_vocab_find(const rtml_vocab *v, const char *s, size_t len, uint32_t h) {
    if (!v->n_slots)
        return -1;
    size_t mask = v->n_slots - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        uint32_t e = v->slots[i];
        if (!e)
            return -1;
        e--;
        if (v->hash[e] == h && v->len[e] == len && memcmp(v->bytes + v->off[e], s, len) == 0)
            return (long)e;
    }
}

static void place(uint32_t *slots, size_t n_slots, uint32_t h, uint32_t entry) {
    size_t mask = n_slots - 1, i = h & mask;
    while (slots[i])
        i = (i + 1) & mask;
    slots[i] = entry;
}

/* A table twice as large, every entry re-placed. */
static int grow_slots(rtml_vocab *v) {
    size_t n = v->n_slots ? v->n_slots * 2 : 16;
    uint32_t *slots = calloc(n, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t e = 0; e < v->count; e++)
        place(slots, n, v->hash[e], (uint32_t)e + 1);
    free(v->slots);
    v->slots = slots;
    v->n_slots = n;
    return 0;
}

static int grow_entries(rtml_vocab *v) {
    size_t cap = v->cap ? v->cap * 2 : 16;
    size_t *off = realloc(v->off, cap * sizeof *off);
    if (off)
        v->off = off;
    size_t *len = realloc(v->len, cap * sizeof *len);
    if (len)
        v->len = len;
    uint32_t *hash = realloc(v->hash, cap * sizeof *hash);
    if (hash)
        v->hash = hash;
    if (!off || !len || !hash)
        return -1;
    v->cap = cap;
    return 0;
}

int rtml_vocab_reserve(rtml_vocab *v, size_t len) {
    if (v->count + 1 > v->cap && grow_entries(v) != 0)
        return -1;
    if (2 * (v->count + 1) > v->n_slots && grow_slots(v) != 0)
        return -1;
    if (v->used + len + 1 > v->bytes_cap) {
        size_t cap = v->bytes_cap ? v->bytes_cap : 256;
        while (cap < v->used + len + 1)
            cap *= 2;
        char *bytes = realloc(v->bytes, cap);
        if (!bytes)
            return -1;
        v->bytes = bytes;
        v->bytes_cap = cap;
    }
    return 0;
}

size_t rtml_vocab_add(rtml_vocab *v, const char *s, size_t len, uint32_t h) {
    size_t e = v->count++;
    if (len)
        memcpy(v->bytes + v->used, s, len);
    v->off[e] = v->used;
    v->len[e] = len;
    v->hash[e] = h;
    v->used += len;
    place(v->slots, v->n_slots, h, (uint32_t)e + 1);
    return e;
}

const char *rtml_vocab_get(const rtml_vocab *v, size_t i, size_t *len) {
    *len = v->len[i];
    return v->bytes + v->off[i];
}

void rtml_vocab_free(rtml_vocab *v) {
    free(v->bytes);
    free(v->off);
    free(v->len);
    free(v->hash);
    free(v->slots);
    memset(v, 0, sizeof *v);
}
