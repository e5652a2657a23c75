/* hash.h — MurmurHash3 (x86, 32-bit) and the small open-addressing string map behind one_hot vocabularies.
 *
 * Why our own: feature hashing must give the same bucket on every machine and in every release (the model's
 * weights are indexed by it), so the function is fixed here, written from Austin Appleby's public-domain
 * algorithm and tested against its published vectors (and scikit-learn's murmurhash3_32, which is the same
 * function). The vocabulary map keeps strings in order of first appearance (index = one_hot slot) and
 * finds them in O(1): linear probing over a power-of-two table kept at most half full.
 *
 * Growth is split from insertion: rtml_vocab_reserve() makes room (it may allocate), rtml_vocab_add() then
 * cannot fail. The featurizer reserves while it validates a record and adds only once the record is
 * accepted, so a rejected record never changes a vocabulary. */
#ifndef RTML_HASH_H
#define RTML_HASH_H
#include <stddef.h>
#include <stdint.h>

/* MurmurHash3_x86_32 of len bytes; murmur3_32("hello", seed 0) = 0x248bfa47. */
uint32_t rtml_murmur3_32(const void *data, size_t len, uint32_t seed);

/* A fixed prefix hashed once: rtml_murmur3_32_after(pre, data, n) is rtml_murmur3_32 of the prefix followed by
 * the n bytes of data, without copying them together (a hashed feature's "NAME=" before each value). */
typedef struct {
    uint32_t h;              /* the state after the prefix's whole 4-byte blocks */
    uint32_t rest;           /* its bytes after them (0 to 3), little-endian */
    size_t nrest, len;       /* how many; the prefix's length */
} rtml_murmur3_prefix;

void rtml_murmur3_prefix_init(rtml_murmur3_prefix *pre, const void *prefix, size_t len, uint32_t seed);
uint32_t rtml_murmur3_32_after(const rtml_murmur3_prefix *pre, const void *data, size_t len);

typedef struct {
    char *bytes;           /* all strings back to back */
    size_t used, bytes_cap;
    size_t *off;           /* entry i is bytes[off[i] .. off[i] + len[i]) */
    size_t *len;
    uint32_t *hash;        /* murmur3 of each entry (seed 0) */
    size_t count, cap;     /* entries held / allocated */
    uint32_t *slots;       /* entry index + 1, 0 = empty; n_slots is 0 or a power of two */
    size_t n_slots;
} rtml_vocab;

/* The index of s, or -1. h must be rtml_murmur3_32(s, len, 0). */
long rtml_vocab_find(const rtml_vocab *v, const char *s, size_t len, uint32_t h);
/* Room for one more entry of len bytes; 0, or -1 when out of memory (the vocabulary is unchanged). */
int rtml_vocab_reserve(rtml_vocab *v, size_t len);
/* Append s (not yet present) after a successful reserve; returns its index. */
size_t rtml_vocab_add(rtml_vocab *v, const char *s, size_t len, uint32_t h);
const char *rtml_vocab_get(const rtml_vocab *v, size_t i, size_t *len);
void rtml_vocab_free(rtml_vocab *v);

#endif
