/* tf_meta.h — what rtml reads from a SavedModel's MetaGraphDef: its signatures and its saver.
 *
 * TF_LoadSessionFromSavedModel hands back the serialized MetaGraphDef of the loaded tag set. rtml never
 * guesses tensor names ("serving_default_x:0", "StatefulPartitionedCall:0" change from export to export); it
 * reads them here, with the Protocol Buffers wire reader (base/pbwire.h) and no generated code. Field numbers
 * (tensorflow/core/protobuf/meta_graph.proto, saver.proto, tensor_shape.proto):
 *   MetaGraphDef   saver_def = 3, signature_def = 5 (map<string, SignatureDef>: repeated {key = 1; value = 2})
 *   SignatureDef   inputs = 1, outputs = 2 (map<string, TensorInfo>), method_name = 3
 *   TensorInfo     name = 1 | coo_sparse = 4 | composite_tensor = 5 (oneof), dtype = 2, tensor_shape = 3
 *   TensorShapeProto  dim = 2 (Dim {size = 1}), unknown_rank = 3
 *   SaverDef       filename_tensor_name = 1, save_tensor_name = 2, restore_op_name = 3
 * Everything else is skipped. This file needs no TensorFlow headers, so it is unit-tested and fuzzed in
 * every build. Ownership: rtml_tf_meta_parse() returns a tree the caller frees with rtml_tf_meta_free(). */
#ifndef RTML_ENGINE_TF_META_H
#define RTML_ENGINE_TF_META_H
#include <stddef.h>
#include <stdint.h>

/* DataType values rtml feeds or reads (tensorflow/core/framework/types.proto). */
enum {
    RTML_TF_DT_FLOAT = 1, RTML_TF_DT_DOUBLE = 2, RTML_TF_DT_INT32 = 3, RTML_TF_DT_STRING = 7,
    RTML_TF_DT_INT64 = 9, RTML_TF_DT_BOOL = 10
};

#define RTML_TF_MAX_RANK 8

typedef struct {
    char *key;     /* the signature's name for it, e.g. "x" or "output_0" */
    char *tensor;  /* the graph tensor, "op_name:index"; NULL for a sparse or composite tensor */
    int dtype;     /* RTML_TF_DT_*, or another DataType number */
    int rank;      /* -1: unknown rank */
    int64_t dims[RTML_TF_MAX_RANK]; /* -1: unknown size (the batch dimension) */
} rtml_tf_tensor_info;

typedef struct {
    char *name;   /* "serving_default", "train", ... */
    char *method; /* method_name, may be "" */
    rtml_tf_tensor_info *inputs, *outputs; /* sorted by key (a protobuf map has no order) */
    size_t n_inputs, n_outputs;
} rtml_tf_signature;

typedef struct {
    rtml_tf_signature *signatures; /* sorted by name */
    size_t n_signatures;
    int has_saver;
    char *saver_filename; /* the string tensor to feed with a checkpoint prefix */
    char *saver_save;     /* the tensor to fetch to save */
    char *saver_restore;  /* the op to run to restore */
} rtml_tf_meta;

/* Parse a serialized MetaGraphDef. NULL with a reason ("offset N: ...") on malformed input. */
rtml_tf_meta *rtml_tf_meta_parse(const void *buf, size_t len, char *err, size_t errlen);
void rtml_tf_meta_free(rtml_tf_meta *m);

const rtml_tf_signature *rtml_tf_meta_signature(const rtml_tf_meta *m, const char *name);
const rtml_tf_tensor_info *rtml_tf_signature_input(const rtml_tf_signature *s, const char *key);
const rtml_tf_tensor_info *rtml_tf_signature_output(const rtml_tf_signature *s, const char *key);

/* "float", "int64", "string", ... or "DataType N". */
const char *rtml_tf_dtype_name(int dtype, char *buf, size_t len);
/* "[?, 4]", "[?]", "<unknown rank>" into buf. */
const char *rtml_tf_shape_str(const rtml_tf_tensor_info *t, char *buf, size_t len);

#endif
