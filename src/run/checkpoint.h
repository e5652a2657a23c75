/* checkpoint.h (run/) — when `rtml run` writes its checkpoints (checkpoint.c); the files are state/checkpoint.h's. */
#ifndef RTML_RUN_CHECKPOINT_H
#define RTML_RUN_CHECKPOINT_H
#include "run/runner.h"

/* Write the model (TensorFlow: as a new SavedModel version first) and the positions, unless nothing was read
 * since the last checkpoint; the pending batch is scored first. A failure (a full disk) is logged and counted,
 * and the stream goes on: the previous checkpoint stays valid, only older. A failed run writes nothing (a fenced
 * member must not touch state another instance now owns). 0, or -1. */
int rtml_run_checkpoint(rtml_runner *r);
/* A checkpoint when state.checkpoint_every has passed since the last one (or, after a checkpoint that took more than a
 * quarter of that, three times its duration). */
void rtml_run_checkpoint_due(rtml_runner *r, double now);

#endif
