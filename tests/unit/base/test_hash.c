/* test_hash.c — MurmurHash3 over a prefix hashed once (rtml_murmur3_32_after): the same value as the one-shot
 * function over the prefix and the data together, for every prefix length 0..16 against every data length
 * 0..40 (every way the prefix's last partial block can meet the data's first bytes), random bytes and seeds.
 * The one-shot function itself is tested against published vectors in tests/unit/features/test_featurize.c. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "base/hash.h"

static uint64_t next(uint64_t *s) {
    *s ^= *s >> 12, *s ^= *s << 25, *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

static void test_prefix_matches_one_shot(void) {
    uint64_t s = 88172645463325252ULL;
    unsigned char text[64];
    for (int round = 0; round < 20; round++) {
        for (size_t i = 0; i < sizeof text; i++) text[i] = (unsigned char)next(&s);
        uint32_t seed = round < 10 ? 0 : (uint32_t)next(&s);
        for (size_t pl = 0; pl <= 16; pl++) {
            rtml_murmur3_prefix pre;
            rtml_murmur3_prefix_init(&pre, text, pl, seed);
            for (size_t dl = 0; dl <= 40; dl++)
                CHECK_EQ_INT(rtml_murmur3_32_after(&pre, text + pl, dl), rtml_murmur3_32(text, pl + dl, seed));
        }
    }
}

static void test_feature_text(void) {
    /* what the featurizer hashes: "NAME=" once, then each value */
    rtml_murmur3_prefix pre;
    rtml_murmur3_prefix_init(&pre, "c12=", 4, 0);
    CHECK_EQ_INT(rtml_murmur3_32_after(&pre, "v34", 3), rtml_murmur3_32("c12=v34", 7, 0));
    rtml_murmur3_prefix_init(&pre, "color=", 6, 0);
    CHECK_EQ_INT(rtml_murmur3_32_after(&pre, "", 0), rtml_murmur3_32("color=", 6, 0));
    CHECK_EQ_INT(rtml_murmur3_32_after(&pre, "r", 1), rtml_murmur3_32("color=r", 7, 0));
    CHECK_EQ_INT(rtml_murmur3_32_after(&pre, "red", 3), rtml_murmur3_32("color=red", 9, 0));
}

int main(void) {
    test_prefix_matches_one_shot();
    test_feature_text();
    return check_exit("test_hash");
}
