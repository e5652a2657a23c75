/* rng.h — rtml's one seeded pseudo-random generator: xoshiro256**, seeded through splitmix64 (Blackman &
 * Vigna, 2018). It draws the MLP's initial weights (model.seed) and the synthetic streams of `rtml gen`.
 *
 * Why our own: both must depend only on their seed, on every platform and libc, so that the same config and
 * rows give the same model and the same seed the same stream (rand() is neither portable nor reentrant). The
 * state is a value the caller owns; there is no global generator. Not for cryptography. */
#ifndef RTML_BASE_RNG_H
#define RTML_BASE_RNG_H
#include <stdint.h>

typedef struct {
    uint64_t s[4];
} rtml_rng;

static inline uint64_t rtml_splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Any seed, 0 included, gives a valid (non-zero) state. */
static inline void rtml_rng_seed(rtml_rng *r, uint64_t seed) {
    for (int i = 0; i < 4; i++) r->s[i] = rtml_splitmix64(&seed);
}

static inline uint64_t rtml_rng_rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t rtml_rng_next(rtml_rng *r) {
    uint64_t *s = r->s;
    uint64_t result = rtml_rng_rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rtml_rng_rotl(s[3], 45);
    return result;
}

/* One of several independent streams from one seed (`rtml gen` draws features, noise and drift mixing from
 * separate ones, so that changing one never shifts the others): the seed and the stream's number mixed through
 * splitmix64. */
static inline void rtml_rng_seed_stream(rtml_rng *r, uint64_t seed, uint64_t stream) {
    uint64_t x = seed;
    x = rtml_splitmix64(&x) ^ (stream * 0xD1B54A32D192ED03ULL);
    for (int i = 0; i < 4; i++) r->s[i] = rtml_splitmix64(&x);
}

/* Uniform in [0, 1), 53 random bits. */
static inline double rtml_rng_uniform(rtml_rng *r) { return (double)(rtml_rng_next(r) >> 11) * 0x1.0p-53; }

#endif
