/* checkpoint.h — crash-safe pipeline state: what makes "learned exactly once" true across crashes.
 *
 * A checkpoint is one state file (binfmt.h) in state.dir, named checkpoint-<seq>.rtml with a 12-digit
 * sequence number, holding:
 *   the pipeline's sections (rtml_pipeline_save: model, feature statistics, class names, evaluation) and
 *   "positions": per input partition, learn_next — every record before it is in the model, none after it;
 *   "meta":      the sequence number, when it was written, and the rtml version that wrote it;
 *   "joins":     with label.topic, the pending joins (join.h): records waiting for their label, labels waiting
 *                for their record. Their positions are among the partitions' (both topics'), so the three are
 *                restored together. A published model version (rtml_ckpt_image) leaves them out.
 * A file is written whole or not at all (temporary file, fsync, rename, fsync of the directory) and carries a
 * CRC-32, so a crash or a full disk can leave only older checkpoints or a stray temporary file behind. The
 * `keep` newest are kept. On start the newest that checks is restored; a corrupt, truncated or foreign newest
 * one is skipped with a warning, falling back to the one before (its positions are older, so more records are
 * re-read and learned: still exactly once).
 *
 * How the positions are used (run/loop.c): at assignment, a partition starts at min(learn_next, committed),
 * where committed is the group's committed offset (the records whose outputs are done). A re-read record
 * below learn_next is scored but not learned; one below committed gets no output again. Hence every labelled
 * record is learned exactly once, and no output is lost, whatever the order of checkpoints, commits and
 * crashes. With the TensorFlow engine the model section names the SavedModel version written just before the
 * checkpoint file, and restoring loads that version. */
#ifndef RTML_CHECKPOINT_H
#define RTML_CHECKPOINT_H
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "state/offsets.h"
#include "pipeline/pipeline.h"

#define RTML_CKPT_KEEP_DEFAULT 3

/* Lock dir (created if missing) for this process: two processes sharing one state directory would each
 * checkpoint their own model over the other's. Returns the lock's file descriptor (held until the process
 * ends or closes it), or -1 with the reason, naming the pid that holds it. */
int rtml_ckpt_lock(const char *dir, char *err, size_t errlen);

/* Write checkpoint number seq of the pipeline and the positions in o to dir (created if missing), then
 * delete all but the keep newest. 0, or -1 with the reason (nothing older is touched on failure). */
int rtml_ckpt_write(const char *dir, const rtml_pipeline *p, const rtml_offsets *o, uint64_t seq, unsigned keep,
                    char *err, size_t errlen);

/* The image rtml_ckpt_write writes, in memory (reset first): what a trainer publishes as a model version. */
void rtml_ckpt_image(const rtml_pipeline *p, const rtml_offsets *o, uint64_t seq, rtml_buf *image);

/* Restore the newest valid checkpoint in dir into p and o's positions. Returns 1 with *seq set, 0 when dir
 * holds no checkpoint (a fresh start), or -1 with the reason: every checkpoint there is corrupt, or the newest
 * valid one was made by a different model or config (refused rather than silently started afresh). */
int rtml_ckpt_restore(const char *dir, rtml_pipeline *p, rtml_offsets *o, uint64_t *seq, char *err, size_t errlen);

/* Load one checkpoint image (already read) into p and o. 0, or -1 with the reason; on failure p may hold
 * part of it and must be discarded. Exposed for the fuzzer. */
int rtml_ckpt_load_image(const void *image, size_t len, rtml_pipeline *p, rtml_offsets *o, char *err,
                         size_t errlen);

/* The sequence numbers of the checkpoint files in dir, newest first (caller frees). -1 when dir cannot be
 * read (a missing dir is 0 files). */
int rtml_ckpt_list(const char *dir, uint64_t **seqs, size_t *n);

/* dir/checkpoint-<seq>.rtml into out. */
void rtml_ckpt_path(const char *dir, uint64_t seq, char *out, size_t len);

/* Describe one checkpoint file as a JSON object (no newline) for `rtml state`: path, seq, written_at, engine,
 * learned, positions, and a digest (FNV-1a 64 of the model and feature sections: equal digests, equal
 * models). 0, or -1 with the reason the file is not a valid checkpoint. */
int rtml_ckpt_describe(const char *path, rtml_buf *out, char *err, size_t errlen);

#endif
