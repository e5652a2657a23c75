/* binfmt.h — rtml's binary state format: model weights, optimizer state and feature statistics.
 *
 * A state file is a header, then named sections, then a CRC-32 of everything before it:
 *     "RTMLSTAT" | u32 format version | u32 section count |
 *     { u32 name length | name | u64 payload length | payload } ... | u32 crc32
 * All integers little-endian, doubles as IEEE-754 bits. A reader checks the magic (a foreign file), the
 * version (a newer rtml's file), the lengths and the checksum (a torn or corrupt file) before anything is
 * used, and says which in its error. Sections let the model, the feature statistics, the positions and the rest
 * evolve separately; an unknown section is skipped.
 *
 * rtml_writer builds a payload in memory (rtml_buf); rtml_reader walks one with bounds checks: after any
 * failed read r->failed is set and every later read returns zeros, so a loader checks once at the end. */
#ifndef RTML_BINFMT_H
#define RTML_BINFMT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

#define RTML_BINFMT_VERSION 1

typedef struct {
    rtml_buf buf;
} rtml_writer;

typedef struct {
    const unsigned char *p;
    size_t len, pos;
    bool failed;
} rtml_reader;

void rtml_w_u32(rtml_writer *w, uint32_t v);
void rtml_w_u64(rtml_writer *w, uint64_t v);
void rtml_w_f64(rtml_writer *w, double v);
void rtml_w_f64s(rtml_writer *w, const double *v, size_t n);
void rtml_w_str(rtml_writer *w, const char *s, size_t len); /* u32 length + bytes */

uint32_t rtml_r_u32(rtml_reader *r);
uint64_t rtml_r_u64(rtml_reader *r);
double rtml_r_f64(rtml_reader *r);
void rtml_r_f64s(rtml_reader *r, double *out, size_t n);
/* A borrowed view of a string written by rtml_w_str; NULL (and failed) if it does not fit. */
const char *rtml_r_str(rtml_reader *r, size_t *len);

uint32_t rtml_crc32(uint32_t crc, const void *data, size_t len);

/* One named section of a state file. */
typedef struct {
    const char *name;
    rtml_writer payload;
} rtml_section;

/* Encode sections into a complete state file image (header, sections, crc) in out. */
void rtml_state_encode(const rtml_section *s, size_t n, rtml_buf *out);
/* Check a state file image; 0, or -1 with the reason (foreign file, newer version, truncated, checksum).
 * On success rtml_state_section() finds sections in it (the image must outlive the readers). */
int rtml_state_check(const void *image, size_t len, char *err, size_t errlen);
/* A reader over section `name` of a checked image; returns false when the section is absent. */
bool rtml_state_section(const void *image, size_t len, const char *name, rtml_reader *out);

/* mkdir -p: every missing directory on the way to dir (state directories, model directories). 0, or -1 with
 * the reason. */
int rtml_mkdirs(const char *dir, char *err, size_t errlen);

/* Write an image to path atomically: a temporary file in the same directory, fsync, rename, fsync of the
 * directory. 0, or -1 with the reason. */
int rtml_state_write_file(const char *path, const rtml_buf *image, char *err, size_t errlen);
/* Read a whole file into out (caller frees out->data with rtml_buf_free). 0, or -1 with the reason. */
int rtml_state_read_file(const char *path, rtml_buf *out, char *err, size_t errlen);

#endif
