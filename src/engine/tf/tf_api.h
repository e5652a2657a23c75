/* tf_api.h — the TensorFlow C API, loaded on first use (dlopen) instead of linked.
 *
 * Why: libtensorflow_cc is a gigabyte of shared objects whose static initialisers take a quarter of a second
 * and print start-up chatter (oneDNN, CUDA probing) to stderr before main() runs. Linking it would make every
 * rtml command, `rtml gen` and `rtml --version` included, pay that and print that. Loaded on use, only an
 * `engine: tensorflow` pipeline does, and rtml sets TF_CPP_MIN_LOG_LEVEL=2 first (unless the user set it)
 * and keeps TensorFlow's initial chatter off stderr while the library and the first model load (its errors
 * still reach rtml through TF_Status).
 *
 * The sources use the TF_* names as usual: after the TensorFlow headers, each name used is redefined to the
 * matching pointer in rtml_tf_api, which rtml_tf_load_library() fills once with dlsym.
 *
 * Which library (libtensorflow_cc.so.2; it finds libtensorflow_framework.so.2 beside it), first that is set:
 *   1. model.tensorflow.library in the config;
 *   2. the environment variable RTML_TENSORFLOW_LIBRARY;
 *   3. the build's default, RTML_TF_LIBRARY_DEFAULT: the tensorflow-cpu wheel in .venv in a development build.
 * Each names the file or the directory that holds it. The library is not packaged with rtml (docs/tensorflow.md
 * says where to get one); an rtml without one runs every native pipeline and says why `engine: tensorflow`
 * cannot start. */
#ifndef RTML_ENGINE_TF_API_H
#define RTML_ENGINE_TF_API_H
#include <stddef.h>

#include <tensorflow/c/c_api.h>
#include <tensorflow/c/tf_tstring.h>

typedef struct {
    TF_Tensor* (*AllocateTensor)(TF_DataType, const int64_t* dims, int num_dims, size_t len);
    void (*CloseSession)(TF_Session*, TF_Status* status);
    void (*DeleteBuffer)(TF_Buffer*);
    void (*DeleteGraph)(TF_Graph*);
    void (*DeleteSession)(TF_Session*, TF_Status* status);
    void (*DeleteSessionOptions)(TF_SessionOptions*);
    void (*DeleteStatus)(TF_Status*);
    void (*DeleteTensor)(TF_Tensor*);
    int64_t (*Dim)(const TF_Tensor* tensor, int dim_index);
    TF_Code (*GetCode)(const TF_Status* s);
    TF_Operation* (*GraphOperationByName)(TF_Graph* graph, const char* oper_name);
    TF_Session* (*LoadSessionFromSavedModel)(const TF_SessionOptions* session_options, const TF_Buffer* run_options, const char* export_dir, const char* const* tags, int tags_len, TF_Graph* graph, TF_Buffer* meta_graph_def, TF_Status* status);
    const char* (*Message)(const TF_Status* s);
    TF_Buffer* (*NewBuffer)(void);
    TF_Graph* (*NewGraph)(void);
    TF_SessionOptions* (*NewSessionOptions)(void);
    TF_Status* (*NewStatus)(void);
    int (*NumDims)(const TF_Tensor*);
    int (*OperationNumOutputs)(TF_Operation* oper);
    void (*SessionRun)(TF_Session *session, const TF_Buffer *run_options, const TF_Output *inputs,
                       TF_Tensor *const *input_values, int ninputs, const TF_Output *outputs,
                       TF_Tensor **output_values, int noutputs, const TF_Operation *const *target_opers,
                       int ntargets, TF_Buffer *run_metadata, TF_Status *status);
    void (*SetConfig)(TF_SessionOptions* options, const void* proto, size_t proto_len, TF_Status* status);
    void (*StringCopy)(TF_TString *dst, const char *src, size_t size);
    void (*StringDealloc)(TF_TString *tstr);
    void (*StringInit)(TF_TString *t);
    size_t (*TensorByteSize)(const TF_Tensor*);
    void* (*TensorData)(const TF_Tensor*);
    TF_DataType (*TensorType)(const TF_Tensor*);
    const char* (*Version)(void);
} rtml_tf_api_table;

/* Filled once by rtml_tf_load_library(), before any model loads, and read-only after: a process loads one
 * TensorFlow, so one table (the one piece of global state the TensorFlow engine has). */
extern rtml_tf_api_table rtml_tf_api;

/* Load the library that `configured` (model.tensorflow.library; NULL or "" when not set), the environment or
 * the build's default names, and resolve every function; 0, or -1 with a reason that names the file tried and
 * the settings that choose another. Later calls return the first outcome (a process loads one TensorFlow: a
 * later call that names another file fails). */
int rtml_tf_load_library(const char *configured, char *err, size_t errlen);

/* Point stderr at /dev/null until rtml_tf_quiet_end() (TensorFlow's start-up chatter); nothing else writes
 * to stderr then: the library and the first model load before any Kafka client exists. */
int rtml_tf_quiet_begin(void);
void rtml_tf_quiet_end(int saved_fd);

#define TF_AllocateTensor (rtml_tf_api.AllocateTensor)
#define TF_CloseSession (rtml_tf_api.CloseSession)
#define TF_DeleteBuffer (rtml_tf_api.DeleteBuffer)
#define TF_DeleteGraph (rtml_tf_api.DeleteGraph)
#define TF_DeleteSession (rtml_tf_api.DeleteSession)
#define TF_DeleteSessionOptions (rtml_tf_api.DeleteSessionOptions)
#define TF_DeleteStatus (rtml_tf_api.DeleteStatus)
#define TF_DeleteTensor (rtml_tf_api.DeleteTensor)
#define TF_Dim (rtml_tf_api.Dim)
#define TF_GetCode (rtml_tf_api.GetCode)
#define TF_GraphOperationByName (rtml_tf_api.GraphOperationByName)
#define TF_LoadSessionFromSavedModel (rtml_tf_api.LoadSessionFromSavedModel)
#define TF_Message (rtml_tf_api.Message)
#define TF_NewBuffer (rtml_tf_api.NewBuffer)
#define TF_NewGraph (rtml_tf_api.NewGraph)
#define TF_NewSessionOptions (rtml_tf_api.NewSessionOptions)
#define TF_NewStatus (rtml_tf_api.NewStatus)
#define TF_NumDims (rtml_tf_api.NumDims)
#define TF_OperationNumOutputs (rtml_tf_api.OperationNumOutputs)
#define TF_SessionRun (rtml_tf_api.SessionRun)
#define TF_SetConfig (rtml_tf_api.SetConfig)
#define TF_StringCopy (rtml_tf_api.StringCopy)
#define TF_StringDealloc (rtml_tf_api.StringDealloc)
#define TF_StringInit (rtml_tf_api.StringInit)
#define TF_TensorByteSize (rtml_tf_api.TensorByteSize)
#define TF_TensorData (rtml_tf_api.TensorData)
#define TF_TensorType (rtml_tf_api.TensorType)
#define TF_Version (rtml_tf_api.Version)

#endif
