/* binfmt.c — rtml's binary state format (see binfmt.h). */
#include "base/binfmt.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "base/rtml.h"

static const char MAGIC[8] = {'R', 'T', 'M', 'L', 'S', 'T', 'A', 'T'};

/* ---- little-endian writer / reader ---------------------------------------------------------------- */

void rtml_w_u32(rtml_writer *w, uint32_t v) {
    unsigned char b[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 24)};
    rtml_buf_append(&w->buf, b, 4);
}

void rtml_w_u64(rtml_writer *w, uint64_t v) {
    rtml_w_u32(w, (uint32_t)v);
    rtml_w_u32(w, (uint32_t)(v >> 32));
}

void rtml_w_f64(rtml_writer *w, double v) {
    uint64_t bits;
    memcpy(&bits, &v, 8);
    rtml_w_u64(w, bits);
}

void rtml_w_f64s(rtml_writer *w, const double *v, size_t n) {
    for (size_t i = 0; i < n; i++) rtml_w_f64(w, v[i]);
}

void rtml_w_str(rtml_writer *w, const char *s, size_t len) {
    rtml_w_u32(w, (uint32_t)len);
    rtml_buf_append(&w->buf, s, len);
}

static const unsigned char *take(rtml_reader *r, size_t n) {
    if (r->failed || r->len - r->pos < n) {
        r->failed = true;
        return NULL;
    }
    const unsigned char *p = r->p + r->pos;
    r->pos += n;
    return p;
}

uint32_t rtml_r_u32(rtml_reader *r) {
    const unsigned char *b = take(r, 4);
    return b ? (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24 : 0;
}

uint64_t rtml_r_u64(rtml_reader *r) {
    uint64_t lo = rtml_r_u32(r);
    return lo | (uint64_t)rtml_r_u32(r) << 32;
}

double rtml_r_f64(rtml_reader *r) {
    uint64_t bits = rtml_r_u64(r);
    double v;
    memcpy(&v, &bits, 8);
    return v;
}

void rtml_r_f64s(rtml_reader *r, double *out, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = rtml_r_f64(r);
}

const char *rtml_r_str(rtml_reader *r, size_t *len) {
    uint32_t n = rtml_r_u32(r);
    const unsigned char *p = take(r, n);
    *len = p ? n : 0;
    return (const char *)p;
}

/* ---- CRC-32 (IEEE 802.3, reflected) ------------------------------------------------------------------ */

/* zlib's (already linked for the model topic): table-driven, several bytes a step, where the bit loop this
 * replaced took about 40 instructions a byte; a checkpoint of a 2^20-weight model is 8 MB. */
uint32_t rtml_crc32(uint32_t crc, const void *data, size_t len) {
    return (uint32_t)crc32_z(crc, data, len);
}

/* ---- the file image --------------------------------------------------------------------------------- */

void rtml_state_encode(const rtml_section *s, size_t n, rtml_buf *out) {
    rtml_writer w = {*out};
    rtml_buf_reset(&w.buf);
    rtml_buf_append(&w.buf, MAGIC, sizeof MAGIC);
    rtml_w_u32(&w, RTML_BINFMT_VERSION);
    rtml_w_u32(&w, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        rtml_w_str(&w, s[i].name, strlen(s[i].name));
        rtml_w_u64(&w, s[i].payload.buf.len);
        rtml_buf_append(&w.buf, s[i].payload.buf.data, s[i].payload.buf.len);
    }
    rtml_w_u32(&w, rtml_crc32(0, w.buf.data, w.buf.len));
    *out = w.buf;
}

/* Walk the sections; calls visit for each, stops early when it returns true. -1 when malformed. */
static int walk(const void *image, size_t len, const char *want, rtml_reader *found) {
    rtml_reader r = {image, len - 4, sizeof MAGIC, false};
    rtml_r_u32(&r); /* version */
    uint32_t n = rtml_r_u32(&r);
    for (uint32_t i = 0; i < n && !r.failed; i++) {
        size_t nlen;
        const char *name = rtml_r_str(&r, &nlen);
        uint64_t plen = rtml_r_u64(&r);
        const unsigned char *payload = r.failed || plen > r.len - r.pos ? NULL : take(&r, (size_t)plen);
        if (!payload) return -1;
        if (want && nlen == strlen(want) && memcmp(name, want, nlen) == 0) {
            *found = (rtml_reader){payload, (size_t)plen, 0, false};
            return 1;
        }
    }
    if (r.failed) return -1;
    return want ? 0 : (r.pos == r.len ? 0 : -1);
}

int rtml_state_check(const void *image, size_t len, char *err, size_t errlen) {
    const unsigned char *p = image;
    if (len < sizeof MAGIC + 12 || memcmp(p, MAGIC, sizeof MAGIC) != 0)
        return rtml_fail(err, errlen, "not an rtml state file (no RTMLSTAT header)");
    rtml_reader r = {p, len, sizeof MAGIC, false};
    uint32_t version = rtml_r_u32(&r);
    if (version != RTML_BINFMT_VERSION)
        return rtml_fail(err, errlen, "state file format version %u, this rtml reads version %u", version,
                         RTML_BINFMT_VERSION);
    rtml_reader tail = {p, len, len - 4, false};
    uint32_t stored = rtml_r_u32(&tail), actual = rtml_crc32(0, p, len - 4);
    if (stored != actual)
        return rtml_fail(err, errlen, "state file is corrupt or truncated (checksum %08x, expected %08x)", actual,
                         stored);
    if (walk(image, len, NULL, NULL) != 0) return rtml_fail(err, errlen, "state file has malformed sections");
    return 0;
}

bool rtml_state_section(const void *image, size_t len, const char *name, rtml_reader *out) {
    return walk(image, len, name, out) == 1;
}

/* ---- atomic file I/O ---------------------------------------------------------------------------------- */

static int fsync_dir_of(const char *path) {
    char *copy = strdup(path);
    if (!copy) return -1;
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
    free(copy);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int rtml_mkdirs(const char *dir, char *err, size_t errlen) {
    char path[4096];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path)
        return rtml_fail(err, errlen, "directory name too long: %.200s", dir);
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p != '\0') continue;
        char c = *p;
        *p = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST) return rtml_fail(err, errlen, "creating %s: %s", path, strerror(errno));
        if (!(*p = c)) break;
    }
    return 0;
}

int rtml_state_write_file(const char *path, const rtml_buf *image, char *err, size_t errlen) {
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof tmp)
        return rtml_fail(err, errlen, "%s: path too long", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return rtml_fail(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
    size_t done = 0;
    while (done < image->len) {
        ssize_t n = write(fd, image->data + done, image->len - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            int e = errno;
            close(fd);
            unlink(tmp);
            return rtml_fail(err, errlen, "writing %s: %s", tmp, strerror(e));
        }
        done += (size_t)n;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        int e = errno;
        unlink(tmp);
        return rtml_fail(err, errlen, "flushing %s: %s", tmp, strerror(e));
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return rtml_fail(err, errlen, "renaming %s to %s: %s", tmp, path, strerror(e));
    }
    if (fsync_dir_of(path) != 0) return rtml_fail(err, errlen, "syncing the directory of %s: %s", path, strerror(errno));
    return 0;
}

int rtml_state_read_file(const char *path, rtml_buf *out, char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f) return rtml_fail(err, errlen, "cannot open %s: %s", path, strerror(errno));
    *out = (rtml_buf)RTML_BUF_INIT;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) rtml_buf_append(out, chunk, n);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        rtml_buf_free(out);
        return rtml_fail(err, errlen, "reading %s: read error", path);
    }
    if (!out->data) rtml_buf_append(out, "", 0);
    return 0;
}
