/* pbwire.c — the Protocol Buffers wire reader and writer (see pbwire.h). */
#include "base/pbwire.h"

#include <string.h>

#include "base/rtml.h"

/* ---- wire reader ------------------------------------------------------------------------------------- */

int rtml_pb_varint(rtml_pb_reader *r, uint64_t *v) {
    uint64_t u = 0;
    for (int i = 0;; i++) {
        if (r->p >= r->end) return rtml_pb_fail(r, "truncated varint");
        uint8_t b = *r->p;
        if (i == 9 && b > 1) return rtml_pb_fail(r, "varint overflows 64 bits");
        r->p++;
        u |= (uint64_t)(b & 0x7F) << (7 * i);
        if (!(b & 0x80)) break;
    }
    *v = u;
    return 0;
}

int rtml_pb_key(rtml_pb_reader *r, uint32_t *field, int *wire) {
    uint64_t k;
    const uint8_t *at = r->p;
    if (rtml_pb_varint(r, &k) != 0) return -1;
    uint64_t num = k >> 3;
    *wire = (int)(k & 7);
    if (num == 0 || num > 0x1FFFFFFF) {
        r->p = at;
        return rtml_pb_fail(r, "bad field number");
    }
    *field = (uint32_t)num;
    if (*wire == RTML_PB_SGROUP || *wire == RTML_PB_EGROUP) {
        r->p = at;
        return rtml_pb_fail(r, "groups (wire types 3 and 4) are not supported");
    }
    if (*wire > RTML_PB_I32) {
        r->p = at;
        return rtml_pb_fail(r, "bad wire type");
    }
    return 0;
}

int rtml_pb_fixed32(rtml_pb_reader *r, uint32_t *v) {
    if (r->end - r->p < 4) return rtml_pb_fail(r, "truncated fixed32");
    *v = (uint32_t)r->p[0] | (uint32_t)r->p[1] << 8 | (uint32_t)r->p[2] << 16 | (uint32_t)r->p[3] << 24;
    r->p += 4;
    return 0;
}

int rtml_pb_fixed64(rtml_pb_reader *r, uint64_t *v) {
    if (r->end - r->p < 8) return rtml_pb_fail(r, "truncated fixed64");
    uint64_t u = 0;
    for (int i = 7; i >= 0; i--) u = u << 8 | r->p[i];
    *v = u;
    r->p += 8;
    return 0;
}

int rtml_pb_bytes(rtml_pb_reader *r, const uint8_t **p, size_t *n) {
    uint64_t len;
    if (rtml_pb_varint(r, &len) != 0) return -1;
    if (len > (uint64_t)(r->end - r->p)) return rtml_pb_fail(r, "length runs past the end");
    *p = r->p;
    *n = (size_t)len;
    r->p += len;
    return 0;
}

int rtml_pb_skip(rtml_pb_reader *r, int wire) {
    uint64_t v;
    const uint8_t *p;
    size_t n;
    switch (wire) {
    case RTML_PB_VARINT: return rtml_pb_varint(r, &v);
    case RTML_PB_I64: return rtml_pb_fixed64(r, &v);
    case RTML_PB_LEN: return rtml_pb_bytes(r, &p, &n);
    case RTML_PB_I32: return r->end - r->p < 4 ? rtml_pb_fail(r, "truncated fixed32") : (r->p += 4, 0);
    default: return rtml_pb_fail(r, "bad wire type");
    }
}

/* ---- wire writer ------------------------------------------------------------------------------------- */

void rtml_pb_put_varint(rtml_buf *b, uint64_t v) {
    uint8_t tmp[10];
    size_t n = 0;
    do {
        tmp[n] = v & 0x7F;
        v >>= 7;
        if (v) tmp[n] |= 0x80;
        n++;
    } while (v);
    rtml_buf_append(b, tmp, n);
}

void rtml_pb_put_key(rtml_buf *b, uint32_t field, int wire) {
    rtml_pb_put_varint(b, (uint64_t)field << 3 | (unsigned)wire);
}

void rtml_pb_put_fixed32(rtml_buf *b, uint32_t v) {
    uint8_t tmp[4];
    for (int i = 0; i < 4; i++) tmp[i] = (uint8_t)(v >> (8 * i));
    rtml_buf_append(b, tmp, 4);
}

void rtml_pb_put_fixed64(rtml_buf *b, uint64_t v) {
    uint8_t tmp[8];
    for (int i = 0; i < 8; i++) tmp[i] = (uint8_t)(v >> (8 * i));
    rtml_buf_append(b, tmp, 8);
}
