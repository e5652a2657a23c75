/* modelbus.c — the model topic's record values (modelbus.h): keys, versions and policy records.
 *
 * Pure functions over bytes, no Kafka (modelbus_kafka.c has the clients), so the unit test and the fuzzer drive
 * them directly. A decoder sees whatever anyone produced to the topic, so every length is checked before it is
 * used, the metadata goes through rtml's strict JSON scanner, and the image inflates into a buffer that grows
 * only as real output arrives and never past the metadata's image_bytes: a record that lies about its size
 * costs at most twice what it actually inflates to, and is refused. */
#include "kafka/modelbus.h"

#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "codec/json.h"
#include "base/json_write.h"
#include "base/rtml.h"

#define MAGIC "RTMLMV1\n"
#define MAGIC_LEN 8
#define HEAD_LEN (MAGIC_LEN + 4)   /* magic, then the u32 metadata length */
#define META_MAX 65536u            /* the metadata is a few hundred bytes; more is not a version of ours */
#define KEY_PREFIX "version/"
#define KEY_PREFIX_LEN 8
#define KEY_DIGITS 20
#define POLICY_KEY "policy"
#define CHUNK (1u << 20)           /* zlib's lengths are 32-bit: feed and drain it a MiB at a time */
#define INFLATE_FIRST (64u << 10)  /* the first output allocation; it doubles as output arrives */

/* ---- keys -------------------------------------------------------------------------------------------- */

void rtml_modelbus_version_key(int64_t version, char *out, size_t len) {
    snprintf(out, len, KEY_PREFIX "%0*" PRId64, KEY_DIGITS, version);
}

/* Only the canonical form (exactly 20 digits) names a version: compaction keeps one record per key, so two
 * spellings of one version would both survive and contradict each other. */
int64_t rtml_modelbus_parse_key(const void *key, size_t len) {
    const char *k = key;
    if (!k) return -1;
    if (len == strlen(POLICY_KEY) && memcmp(k, POLICY_KEY, len) == 0) return 0;
    if (len != KEY_PREFIX_LEN + KEY_DIGITS || memcmp(k, KEY_PREFIX, KEY_PREFIX_LEN) != 0) return -1;
    int64_t v = 0;
    for (size_t i = KEY_PREFIX_LEN; i < len; i++) {
        if (k[i] < '0' || k[i] > '9') return -1;
        int d = k[i] - '0';
        if (v > (INT64_MAX - d) / 10) return -1;
        v = v * 10 + d;
    }
    return v > 0 ? v : -1;
}

/* ---- metadata ---------------------------------------------------------------------------------------- */

static bool is_json_object(const char *s, size_t len) {
    char why[64];
    return len && s[0] == '{' && rtml_json_validate(s, len, why, sizeof why) == 0;
}

void rtml_modelbus_meta_json(const rtml_model_meta *m, rtml_buf *out) {
    size_t ml = strnlen(m->metrics, sizeof m->metrics);
    rtml_buf_printf(out, "{\"version\":%" PRId64 ",\"parent\":%" PRId64 ",\"learned\":%" PRIu64 ",\"records\":%" PRIu64
                    ",\"created\":", m->version, m->parent, m->learned, m->records);
    rtml_buf_put_double(out, m->created);
    rtml_buf_puts(out, ",\"engine\":");
    rtml_json_put_string(out, m->engine, strnlen(m->engine, sizeof m->engine));
    rtml_buf_printf(out, ",\"image_bytes\":%" PRIu64 ",\"origin\":", m->image_bytes);
    rtml_json_put_string(out, m->origin, strnlen(m->origin, sizeof m->origin));
    rtml_buf_puts(out, ",\"metrics\":");
    if (ml < sizeof m->metrics && is_json_object(m->metrics, ml)) rtml_buf_append(out, m->metrics, ml);
    else rtml_buf_puts(out, "{}");
    rtml_buf_putc(out, '}');
}

/* What decode would refuse, refused before anything is written: an encoded version always decodes. */
static int check_meta(const rtml_model_meta *m, char *err, size_t errlen) {
    if (m->version < 1) return rtml_fail(err, errlen, "model version %" PRId64 " (versions start at 1)", m->version);
    if (m->parent < 0 || m->parent >= m->version)
        return rtml_fail(err, errlen, "model version %" PRId64 ": parent %" PRId64 " is not an older version",
                         m->version, m->parent);
    if (m->learned > INT64_MAX || m->records > INT64_MAX) return rtml_fail(err, errlen, "learned/records out of range");
    if (!isfinite(m->created) || m->created < 0) return rtml_fail(err, errlen, "creation time is not a valid time");
    size_t el = strnlen(m->engine, sizeof m->engine), ol = strnlen(m->origin, sizeof m->origin);
    size_t ml = strnlen(m->metrics, sizeof m->metrics);
    if (el == 0 || el == sizeof m->engine) return rtml_fail(err, errlen, "engine name is empty or too long");
    if (ol == sizeof m->origin) return rtml_fail(err, errlen, "origin is too long");
    if (ml == sizeof m->metrics || !is_json_object(m->metrics, ml))
        return rtml_fail(err, errlen, "metrics is not a JSON object of at most %zu bytes", sizeof m->metrics - 1);
    return 0;
}

enum { F_VERSION, F_PARENT, F_LEARNED, F_RECORDS, F_CREATED, F_ENGINE, F_IMAGE_BYTES, F_ORIGIN, F_METRICS, N_FIELDS };
static const char *const META_FIELDS[N_FIELDS] = {"/version", "/parent", "/learned", "/records", "/created",
                                                  "/engine", "/image_bytes", "/origin", "/metrics"};

/* A non-negative integer field, or -1. */
static int64_t field_count(const rtml_json_span *s) {
    long long v;
    return s->type == RTML_JSON_NUMBER && rtml_json_as_int64(s, &v) == 0 && v >= 0 ? (int64_t)v : -1;
}

/* A string field of the record `what` ("metadata", "policy") into out (cap bytes with the NUL). */
static int field_string(const rtml_json_span *s, const char *what, const char *name, char *out, size_t cap, char *err,
                        size_t errlen) {
    if (s->type != RTML_JSON_STRING)
        return rtml_fail(err, errlen, "%s: %s is %s, not a string", what, name, rtml_json_type_name(s->type));
    if (rtml_json_unescape(s, out, cap) < 0)
        return rtml_fail(err, errlen, "%s: %s is longer than %zu bytes", what, name, cap - 1);
    return 0;
}

static int parse_meta(const char *doc, size_t len, rtml_model_meta *m, char *err, size_t errlen) {
    char why[RTML_ERRLEN];
    rtml_json_paths *paths = rtml_json_paths_new(META_FIELDS, N_FIELDS, why, sizeof why);
    if (!paths) return rtml_fail(err, errlen, "metadata: %s", why);
    rtml_json_span f[N_FIELDS];
    int rc = rtml_json_extract(paths, doc, len, f, why, sizeof why);
    rtml_json_paths_free(paths);
    if (rc != 0) return rtml_fail(err, errlen, "metadata is not a JSON object: %s", why);
    for (int i = 0; i < N_FIELDS; i++)
        if (f[i].type == RTML_JSON_ABSENT) return rtml_fail(err, errlen, "metadata lacks \"%s\"", META_FIELDS[i] + 1);
    int64_t version = field_count(&f[F_VERSION]), parent = field_count(&f[F_PARENT]);
    int64_t learned = field_count(&f[F_LEARNED]), records = field_count(&f[F_RECORDS]);
    int64_t image_bytes = field_count(&f[F_IMAGE_BYTES]);
    if (version < 1) return rtml_fail(err, errlen, "metadata: version is not an integer >= 1");
    if (parent < 0 || parent >= version) return rtml_fail(err, errlen, "metadata: parent is not an older version");
    if (learned < 0 || records < 0) return rtml_fail(err, errlen, "metadata: learned/records are not counts");
    if (image_bytes < 0 || (uint64_t)image_bytes > RTML_MODELBUS_MAX_IMAGE)
        return rtml_fail(err, errlen, "metadata: image_bytes is not a count of at most %" PRIu64,
                         (uint64_t)RTML_MODELBUS_MAX_IMAGE);
    double created;
    if (f[F_CREATED].type != RTML_JSON_NUMBER || rtml_json_as_double(&f[F_CREATED], &created) != 0 || created < 0)
        return rtml_fail(err, errlen, "metadata: created is not a time");
    if (f[F_METRICS].type != RTML_JSON_OBJECT) return rtml_fail(err, errlen, "metadata: metrics is not an object");
    if (f[F_METRICS].len >= sizeof m->metrics)
        return rtml_fail(err, errlen, "metadata: metrics is longer than %zu bytes", sizeof m->metrics - 1);
    if (field_string(&f[F_ENGINE], "metadata", "engine", m->engine, sizeof m->engine, err, errlen) != 0 ||
        field_string(&f[F_ORIGIN], "metadata", "origin", m->origin, sizeof m->origin, err, errlen) != 0)
        return -1;
    if (!m->engine[0]) return rtml_fail(err, errlen, "metadata: engine is empty");
    memcpy(m->metrics, f[F_METRICS].ptr, f[F_METRICS].len); /* verbatim: the publisher's numbers, unrounded */
    m->metrics[f[F_METRICS].len] = '\0';
    m->version = version, m->parent = parent, m->learned = (uint64_t)learned, m->records = (uint64_t)records;
    m->created = created, m->image_bytes = (uint64_t)image_bytes;
    return 0;
}

/* ---- the image --------------------------------------------------------------------------------------- */

/* Deflate src after what out holds, refusing to let out grow past limit. Level 1: a trainer publishes on its
 * scoring thread, and weights (doubles) gain little from harder work; runs of zeros still shrink to nothing. */
static int deflate_into(const void *src, size_t len, rtml_buf *out, size_t limit, char *err, size_t errlen) {
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (deflateInit(&zs, Z_BEST_SPEED) != Z_OK) return rtml_fail(err, errlen, "zlib: cannot start deflate");
    const unsigned char *in = src;
    size_t left = len;
    int rc = Z_OK;
    while (rc != Z_STREAM_END) {
        if (zs.avail_in == 0 && left) {
            size_t n = left < CHUNK ? left : CHUNK;
            zs.next_in = (Bytef *)in, zs.avail_in = (uInt)n;
            in += n, left -= n;
        }
        if (out->len >= limit) {
            deflateEnd(&zs);
            return rtml_fail(err, errlen, "the model takes more than %zu bytes deflated (the model topic's limit)",
                             limit);
        }
        size_t room = limit - out->len < CHUNK ? limit - out->len : CHUNK;
        rtml_buf_reserve(out, room);
        zs.next_out = (Bytef *)out->data + out->len, zs.avail_out = (uInt)room;
        rc = deflate(&zs, left || zs.avail_in ? Z_NO_FLUSH : Z_FINISH);
        out->len += room - zs.avail_out;
        if (rc == Z_STREAM_ERROR) {
            deflateEnd(&zs);
            return rtml_fail(err, errlen, "zlib: deflate failed");
        }
    }
    out->data[out->len] = '\0';
    deflateEnd(&zs);
    return 0;
}

int rtml_modelbus_encode_version(const rtml_model_meta *m, const void *image, size_t len, rtml_buf *out, char *err,
                                 size_t errlen) {
    rtml_buf_reset(out);
    if (check_meta(m, err, errlen) != 0) return -1;
    if (len > RTML_MODELBUS_MAX_IMAGE)
        return rtml_fail(err, errlen, "the model image is %zu bytes (at most %" PRIu64 ")", len,
                         (uint64_t)RTML_MODELBUS_MAX_IMAGE);
    if (len && !image) return rtml_fail(err, errlen, "no image");
    rtml_model_meta mine = *m;
    mine.image_bytes = len; /* the value describes the bytes it carries, whatever the caller wrote there */
    rtml_buf_append(out, MAGIC, MAGIC_LEN);
    rtml_buf_append(out, "\0\0\0\0", 4);
    rtml_modelbus_meta_json(&mine, out);
    size_t ml = out->len - HEAD_LEN;
    for (int i = 0; i < 4; i++) out->data[MAGIC_LEN + i] = (char)(unsigned char)(ml >> (8 * i));
    if (deflate_into(image, len, out, RTML_MODELBUS_MAX_VALUE, err, errlen) != 0) {
        rtml_buf_reset(out);
        return -1;
    }
    return 0;
}

/* Inflate exactly want bytes from src into image. The output buffer grows as output arrives (doubling), so
 * a lying image_bytes costs no more memory than the stream really inflates to; once want bytes are out, one
 * more byte of room tells a stream that would inflate to more. */
static int inflate_exact(const unsigned char *src, size_t len, uint64_t want, rtml_buf *image, char *err,
                         size_t errlen) {
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit(&zs) != Z_OK) return rtml_fail(err, errlen, "zlib: cannot start inflate");
    rtml_buf_reserve(image, want < INFLATE_FIRST ? (size_t)want : INFLATE_FIRST);
    size_t left = len;
    unsigned char probe;
    int rc = Z_OK;
    const char *why = NULL;
    while (rc != Z_STREAM_END && !why) {
        if (zs.avail_in == 0 && left) {
            size_t n = left < CHUNK ? left : CHUNK;
            zs.next_in = (Bytef *)(src + (len - left)), zs.avail_in = (uInt)n;
            left -= n;
        }
        bool full = image->len == want;
        size_t room = 1;
        if (full) {
            zs.next_out = &probe;
        } else {
            if (image->cap - image->len <= 1) rtml_buf_reserve(image, image->cap); /* double */
            room = image->cap - image->len - 1;
            if (room > want - image->len) room = (size_t)(want - image->len);
            if (room > CHUNK) room = CHUNK;
            zs.next_out = (Bytef *)image->data + image->len;
        }
        zs.avail_out = (uInt)room;
        rc = inflate(&zs, Z_NO_FLUSH);
        size_t got = room - zs.avail_out;
        if (full && got) why = "the stream inflates to more than image_bytes";
        else image->len += got;
        if (rc == Z_BUF_ERROR && !left && !zs.avail_in) why = "the stream is truncated";
        else if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) why = zs.msg ? zs.msg : "the stream is corrupt";
    }
    size_t trailing = zs.avail_in + left;
    if (why) rtml_fail(err, errlen, "model image: %s", why); /* before inflateEnd: why may be zlib's zs.msg */
    inflateEnd(&zs);
    if (why) return -1;
    if (image->len != want)
        return rtml_fail(err, errlen, "model image: the stream inflates to %zu bytes, image_bytes says %" PRIu64,
                         image->len, want);
    if (trailing) return rtml_fail(err, errlen, "model image: %zu bytes follow the stream", trailing);
    image->data[image->len] = '\0';
    return 0;
}

int rtml_modelbus_decode_version(const void *value, size_t len, rtml_model_meta *m, rtml_buf *image, char *err,
                                 size_t errlen) {
    memset(m, 0, sizeof *m);
    if (image) rtml_buf_reset(image);
    const unsigned char *p = value;
    if (!p || len < MAGIC_LEN || memcmp(p, MAGIC, MAGIC_LEN) != 0)
        return rtml_fail(err, errlen, "not a model version (no RTMLMV1 header)");
    if (len < HEAD_LEN) return rtml_fail(err, errlen, "truncated: no metadata length");
    uint32_t ml = (uint32_t)p[8] | (uint32_t)p[9] << 8 | (uint32_t)p[10] << 16 | (uint32_t)p[11] << 24;
    if (ml > META_MAX) return rtml_fail(err, errlen, "metadata of %" PRIu32 " bytes (at most %u)", ml, META_MAX);
    if (ml > len - HEAD_LEN)
        return rtml_fail(err, errlen, "truncated: %" PRIu32 " bytes of metadata announced, %zu follow", ml,
                         len - HEAD_LEN);
    if (parse_meta((const char *)p + HEAD_LEN, ml, m, err, errlen) != 0) return -1;
    if (!image) return 0;
    if (inflate_exact(p + HEAD_LEN + ml, len - HEAD_LEN - ml, m->image_bytes, image, err, errlen) != 0) {
        rtml_buf_reset(image);
        return -1;
    }
    return 0;
}

/* ---- policy ------------------------------------------------------------------------------------------ */

void rtml_modelbus_encode_policy(const rtml_model_policy *p, rtml_buf *out) {
    rtml_buf_reset(out);
    rtml_buf_puts(out, "{\"pinned\":");
    if (p->pinned > 0) rtml_buf_put_i64(out, p->pinned);
    else rtml_buf_puts(out, "null");
    rtml_buf_printf(out, ",\"rollback\":%s,\"at\":", p->rollback && p->pinned > 0 ? "true" : "false");
    rtml_buf_put_double(out, isfinite(p->at) ? p->at : 0);
    rtml_buf_puts(out, ",\"by\":");
    rtml_json_put_string(out, p->by, strnlen(p->by, sizeof p->by));
    rtml_buf_putc(out, '}');
}

/* pinned and rollback are required; at and by only describe the record (a hand-written one may omit them). */
int rtml_modelbus_decode_policy(const void *value, size_t len, rtml_model_policy *p, char *err, size_t errlen) {
    static const char *const fields[] = {"/pinned", "/rollback", "/at", "/by"};
    memset(p, 0, sizeof *p);
    if (!value) return rtml_fail(err, errlen, "policy: no value");
    char why[RTML_ERRLEN];
    rtml_json_paths *paths = rtml_json_paths_new(fields, 4, why, sizeof why);
    if (!paths) return rtml_fail(err, errlen, "policy: %s", why);
    rtml_json_span f[4];
    int rc = rtml_json_extract(paths, value, len, f, why, sizeof why);
    rtml_json_paths_free(paths);
    if (rc != 0) return rtml_fail(err, errlen, "policy is not a JSON object: %s", why);
    long long pinned = 0;
    if (f[0].type == RTML_JSON_ABSENT) return rtml_fail(err, errlen, "policy lacks \"pinned\"");
    if (f[0].type != RTML_JSON_NULL && (f[0].type != RTML_JSON_NUMBER || rtml_json_as_int64(&f[0], &pinned) != 0 ||
                                        pinned < 1))
        return rtml_fail(err, errlen, "policy: pinned is neither null nor a version >= 1");
    if (f[1].type != RTML_JSON_TRUE && f[1].type != RTML_JSON_FALSE)
        return rtml_fail(err, errlen, "policy: rollback is not true or false");
    if (f[1].type == RTML_JSON_TRUE && !pinned) return rtml_fail(err, errlen, "policy: rollback without a version");
    double at = 0;
    if (f[2].type != RTML_JSON_ABSENT && (f[2].type != RTML_JSON_NUMBER || rtml_json_as_double(&f[2], &at) != 0))
        return rtml_fail(err, errlen, "policy: at is not a time");
    if (f[3].type != RTML_JSON_ABSENT && field_string(&f[3], "policy", "by", p->by, sizeof p->by, err, errlen) != 0) {
        memset(p, 0, sizeof *p);
        return -1;
    }
    p->pinned = pinned, p->rollback = f[1].type == RTML_JSON_TRUE, p->at = at;
    return 0;
}
