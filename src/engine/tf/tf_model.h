/* tf_model.h — one loaded SavedModel: a TensorFlow session, its graph and its signatures (TF C API).
 *
 * The TensorFlow engine (tf_engine.c) holds one of these, and during a hot reload briefly two. Everything
 * that touches TF_* lives in tf_model.c and tf_engine.c; the rest of rtml sees the engine interface only.
 *
 * Versions follow TF Serving's layout: a base directory holds numbered SavedModel directories (1, 2, ...),
 * the highest is the newest. rtml_tf_export() writes a new one from a session's current variables: a copy of
 * saved_model.pb and the assets, plus variables written by the MetaGraphDef's saver, assembled in a hidden
 * temporary directory, fsynced, and renamed into place, so a reader never sees half a version.
 *
 * Ownership: rtml_tf_model_load() returns a model freed with rtml_tf_model_free(). */
#ifndef RTML_ENGINE_TF_MODEL_H
#define RTML_ENGINE_TF_MODEL_H
#include <stddef.h>
#include <stdint.h>


#include "engine/tf/tf_api.h"
#include "engine/tf/tf_meta.h"

typedef struct {
    TF_Graph *graph;
    TF_Session *session;
    rtml_tf_meta *meta;
    char *dir;       /* the SavedModel directory it came from */
    int64_t version; /* its number in a base directory, or 0 */
} rtml_tf_model;

/* Load the SavedModel at dir (tag "serve") with the given thread pool sizes (inter_threads -1: every op in the
 * calling thread). NULL with a reason that names
 * the directory and what is wrong (missing, no saved_model.pb, unreadable graph). */
rtml_tf_model *rtml_tf_model_load(const char *dir, int64_t version, size_t intra_threads, long inter_threads,
                                  char *err, size_t errlen);
void rtml_tf_model_free(rtml_tf_model *m);

/* The graph endpoint of a tensor name "op:index" (an index-less name means 0). -1 with a reason. */
int rtml_tf_model_endpoint(const rtml_tf_model *m, const char *tensor, TF_Output *out, char *err, size_t errlen);

/* Write the session's variables as version `version` under base (see above). -1 with a reason; nothing is
 * left behind on failure. */
int rtml_tf_export(const rtml_tf_model *m, const char *base, int64_t version, char *err, size_t errlen);

/* Save the session's variables to a checkpoint prefix (a directory's "DIR/variables"), and restore them from
 * one, through saver_def. -1 with a reason. */
int rtml_tf_snapshot(const rtml_tf_model *m, const char *prefix, char *err, size_t errlen);
int rtml_tf_restore(const rtml_tf_model *m, const char *prefix, char *err, size_t errlen);
/* Remove a directory tree rtml made (two levels deep at most). */
void rtml_tf_remove_tree(const char *dir);

/* The highest numbered version directory under base that holds a saved_model.pb, or 0 when there is none
 * (or base is not a directory). */
int64_t rtml_tf_newest_version(const char *base);

/* Whether dir itself is a SavedModel (holds saved_model.pb). */
int rtml_tf_is_saved_model(const char *dir);

/* Delete the oldest versions under base that rtml exported (they hold the marker file) beyond the newest
 * keep, never the one in use. Versions rtml did not write are never touched. */
void rtml_tf_prune(const char *base, int64_t in_use, size_t keep);
/* Remove the rtml-written versions newer than version (never a user's): after a restore from a checkpoint that
 * names version, newer ones were written by a run that crashed before its checkpoint file, and loading them
 * (at a restart, or by watch) would learn their records twice. */
void rtml_tf_drop_newer(const char *base, int64_t version);

#endif
