/* edgetune public API: inference and on-device fine-tuning of CNNs on CPUs.
 * This header is the whole public surface (C11 and C++). Nothing here prints,
 * exits or keeps global mutable state; every call returns an et_status. */
#ifndef EDGETUNE_H
#define EDGETUNE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ET_VERSION_MAJOR 0
#define ET_VERSION_MINOR 1
#define ET_VERSION_PATCH 0
#define ET_VERSION_STRING "0.1.0"

/* Alignment of every tensor the library lays out in a caller's arena. */
#define ET_ALIGN 64

/* ---------------------------------------------------------------- status */

typedef enum et_status {
    ET_OK = 0,
    ET_ERR_INVALID_ARG,     /* NULL pointer, out-of-range value, bad option */
    ET_ERR_SHAPE,           /* shapes do not agree; the message names the node */
    ET_ERR_UNSUPPORTED,     /* valid request this build or op cannot do */
    ET_ERR_ARENA_TOO_SMALL, /* caller's arena is smaller than planned bytes */
    ET_ERR_NO_MEMORY,       /* a setup-time allocation failed (never in run) */
    ET_ERR_IO,              /* open/read/write/fsync/rename failed */
    ET_ERR_FORMAT,          /* malformed file: the message gives the byte offset */
    ET_ERR_CRC,             /* a section's CRC32 does not match */
    ET_ERR_VERSION,         /* file written by an incompatible format version */
    ET_ERR_OVERFLOW,        /* a size computation would overflow size_t */
    ET_ERR_STATE,           /* API called out of order (e.g. run before prepare) */
    ET_ERR_NOT_FOUND        /* a named node, tensor or key does not exist */
} et_status;

/* Static string naming a status ("ET_ERR_SHAPE: shape mismatch"). */
const char *et_status_str(et_status s);

/* Library version string, e.g. "0.1.0". */
const char *et_version(void);

/* ------------------------------------------------------------ operators */

typedef enum et_op {
    ET_OP_INPUT = 0,   /* graph input (not a node; used in value descriptions) */
    ET_OP_CONV2D,
    ET_OP_BATCHNORM,
    ET_OP_ACT,         /* standalone activation, kind in et_act */
    ET_OP_ADD,
    ET_OP_MUL,
    ET_OP_CONCAT,
    ET_OP_MAXPOOL,
    ET_OP_AVGPOOL,
    ET_OP_GLOBAL_AVGPOOL,
    ET_OP_LINEAR,
    ET_OP_FLATTEN,
    ET_OP_RESHAPE,
    ET_OP_SOFTMAX,
    ET_OP_DROPOUT,
    ET_OP_COUNT
} et_op;

typedef enum et_act_kind {
    ET_ACT_NONE = 0,
    ET_ACT_RELU,
    ET_ACT_CLIP,        /* min(max(x, lo), hi); ReLU6 is CLIP(0, 6) */
    ET_ACT_LEAKY_RELU,  /* x < 0 ? alpha * x : x */
    ET_ACT_SIGMOID,
    ET_ACT_TANH,
    ET_ACT_SILU,        /* x * sigmoid(x) */
    ET_ACT_HARDSWISH,   /* x * relu6(x + 3) / 6 */
    ET_ACT_HARDSIGMOID, /* clip(alpha * x + beta, 0, 1); PyTorch: alpha 1/6, beta 1/2 */
    ET_ACT_COUNT
} et_act_kind;

/* An activation: kind plus up to two parameters.
 * CLIP: a = lo, b = hi. LEAKY_RELU: a = alpha. HARDSIGMOID: a = alpha, b = beta. */
typedef struct et_act {
    et_act_kind kind;
    float a, b;
} et_act;

/* Convenience constructors. */
et_act et_act_none(void);
et_act et_act_relu(void);
et_act et_act_relu6(void);
et_act et_act_clip(float lo, float hi);
et_act et_act_leaky_relu(float alpha);
et_act et_act_of(et_act_kind kind); /* default parameters for the kind */

const char *et_op_name(et_op op);
const char *et_act_name(et_act_kind kind);

/* ------------------------------------------------------------ tensors */

/* Activations are NHWC float32. Rank-2 results ([N, C], e.g. after linear)
 * are stored as N x 1 x 1 x C. */
typedef struct et_shape {
    size_t n, h, w, c;
} et_shape;

/* A view of a tensor laid out in a session's arena. */
typedef struct et_tensor {
    float *data;
    et_shape shape;
    const char *name;
} et_tensor;

/* ------------------------------------------------------------ model */

typedef struct et_model et_model;

typedef enum et_layout { ET_LAYOUT_NHWC = 0, ET_LAYOUT_NCHW = 1 } et_layout;

#define ET_MAX_CHANNELS_META 16

/* Free-form facts about a model, stored in .etm files. */
typedef struct et_metadata {
    et_layout source_layout;     /* layout users feed at the CLI (NCHW for ONNX imports) */
    size_t input_h, input_w;     /* default input size; 0 if unknown */
    size_t norm_channels;        /* entries used in mean/std; 0 = no normalisation */
    float mean[ET_MAX_CHANNELS_META];
    float std[ET_MAX_CHANNELS_META];
    size_t label_count;
    const char *const *labels;   /* label_count strings, owned by the model */
    const char *source;          /* free-form provenance, owned by the model */
} et_metadata;

/* Last error message recorded on a model (names the node, field or byte). */
const char *et_model_error(const et_model *m);

/* Load an .etm from a caller buffer. Weights are used in place (zero-copy)
 * when the buffer is 4-byte aligned; the buffer must then outlive the model.
 * On failure *out is NULL and, if err/err_len are given, a message is written. */
et_status et_model_load_buffer(const void *buf, size_t len, et_model **out,
                               char *err, size_t err_len);

/* Load an .etm file (memory-mapped where available, weights zero-copy). */
et_status et_model_load_file(const char *path, et_model **out,
                             char *err, size_t err_len);

/* Write a model as .etm (atomically: temporary file, fsync, rename). */
et_status et_model_save_file(const et_model *m, const char *path);

/* Serialize into a caller buffer. With buf NULL only *len_out is set. */
et_status et_model_save_buffer(const et_model *m, void *buf, size_t cap, size_t *len_out);

void et_model_free(et_model *m);

/* Fold every batchnorm that directly follows a conv2d or linear into its
 * weights and fuse a following activation into the conv/linear/add before it.
 * Returns a new model with owned weights; m is unchanged. */
et_status et_model_fold(const et_model *m, et_model **out);

/* Introspection. */
size_t et_model_node_count(const et_model *m);
size_t et_model_param_count(const et_model *m); /* number of scalars in all weights */
et_status et_model_metadata(const et_model *m, et_metadata *out);
et_status et_model_set_metadata(et_model *m, const et_metadata *md);

typedef struct et_node_info {
    const char *name;
    et_op op;
    et_act act;             /* fused activation (or the activation of ET_OP_ACT) */
    size_t n_inputs;
    et_shape out_shape;     /* valid after et_model_infer_shapes */
    size_t params;          /* scalars in this node's weights */
    uint64_t macs;          /* multiply-accumulates for the inferred shapes */
    /* conv2d / pool geometry (zero for other ops) */
    size_t kh, kw, sh, sw, dh, dw, groups;
    size_t pad_t, pad_l, pad_b, pad_r;
} et_node_info;

/* Infer every node's output shape for an input of batch x h x w
 * (h, w = 0: the model's default size). */
et_status et_model_infer_shapes(et_model *m, size_t batch, size_t h, size_t w);
et_status et_model_node_info(const et_model *m, size_t i, et_node_info *out);
et_status et_model_input_shape(const et_model *m, et_shape *out);

/* ------------------------------------------------------------ builder */

/* Values are named by integer ids returned by the builder calls. The input
 * is value 0. Nodes must be added in execution order (inputs first). */
typedef struct et_builder et_builder;

/* channels: C of the input; h, w: default input size. */
et_status et_builder_new(size_t channels, size_t h, size_t w, et_builder **out);
void et_builder_free(et_builder *b);
const char *et_builder_error(const et_builder *b);

typedef struct et_conv2d_desc {
    size_t out_channels;
    size_t kh, kw;
    size_t sh, sw;                      /* 0 means 1 */
    size_t pad_t, pad_l, pad_b, pad_r;
    size_t dh, dw;                      /* 0 means 1 */
    size_t groups;                      /* 0 means 1 */
    et_act act;                         /* fused activation */
} et_conv2d_desc;

typedef struct et_pool_desc {
    size_t kh, kw;
    size_t sh, sw;                      /* 0 means kernel size */
    size_t pad_t, pad_l, pad_b, pad_r;
    int ceil_mode;                      /* output size rounds up */
    int count_include_pad;              /* avg pool: divide by the full window */
} et_pool_desc;

/* Each call appends a node named `name` (may be NULL: a name is generated)
 * and writes its output value id to *out. Weights are copied.
 * conv2d weight layout: [out_c][kh][kw][in_c / groups]; bias may be NULL. */
et_status et_builder_conv2d(et_builder *b, const char *name, int in, const et_conv2d_desc *d,
                            const float *weight, const float *bias, int *out);
/* gamma, beta, mean, var: [channels] each. */
et_status et_builder_batchnorm(et_builder *b, const char *name, int in, float eps,
                               const float *gamma, const float *beta,
                               const float *mean, const float *var, int *out);
et_status et_builder_act(et_builder *b, const char *name, int in, et_act act, int *out);
/* Element-wise with broadcasting: each of N, H, W, C of either input is equal
 * to the other's or 1. act is fused after the sum (e.g. ReLU after a residual). */
et_status et_builder_add(et_builder *b, const char *name, int x, int y, et_act act, int *out);
et_status et_builder_mul(et_builder *b, const char *name, int x, int y, int *out);
et_status et_builder_concat(et_builder *b, const char *name, const int *ins, size_t n, int *out);
et_status et_builder_maxpool(et_builder *b, const char *name, int in, const et_pool_desc *d, int *out);
et_status et_builder_avgpool(et_builder *b, const char *name, int in, const et_pool_desc *d, int *out);
et_status et_builder_global_avgpool(et_builder *b, const char *name, int in, int *out);
/* weight: [out_features][in_features]; bias may be NULL. Input must be N x 1 x 1 x in. */
et_status et_builder_linear(et_builder *b, const char *name, int in, size_t out_features,
                            const float *weight, const float *bias, et_act act, int *out);
/* N x H x W x C -> N x 1 x 1 x (H*W*C), NHWC order. */
et_status et_builder_flatten(et_builder *b, const char *name, int in, int *out);
/* Reinterpret as N x h x w x c (same element count per batch item, NHWC order). */
et_status et_builder_reshape(et_builder *b, const char *name, int in,
                             size_t h, size_t w, size_t c, int *out);
/* Softmax over channels. */
et_status et_builder_softmax(et_builder *b, const char *name, int in, int *out);
/* Identity at inference; ratio is kept for training. */
et_status et_builder_dropout(et_builder *b, const char *name, int in, float ratio, int *out);
/* Mark a value as a graph output (in call order). */
et_status et_builder_output(et_builder *b, int value);

/* Turn the builder into a model (shapes checked at the default input size).
 * The builder stays usable and must still be freed. */
et_status et_builder_finish(et_builder *b, et_model **out);

/* ------------------------------------------------------------ sessions */

typedef struct et_config {
    size_t batch;          /* 0 means 1 */
    size_t height, width;  /* 0 means the model's default input size */
    size_t threads;        /* 0 means 1 */
} et_config;

typedef struct et_session et_session;

/* Planning breakdown (all bytes). total is what prepare needs; it includes
 * up to ET_ALIGN - 1 bytes so that any arena address works. */
typedef struct et_plan {
    size_t total;
    size_t header;          /* session struct and per-node/per-value tables */
    size_t weights;         /* weights packed for the selected kernels */
    size_t activations;     /* activation + scratch pool after liveness reuse */
    size_t activations_naive;  /* sum of all activation + scratch buffers */
    size_t activations_bound;  /* max over steps of bytes simultaneously live */
} et_plan;

/* Exact arena bytes for running m with cfg. Does not touch an arena. */
et_status et_model_plan(const et_model *m, const et_config *cfg, et_plan *out);

/* Lay out a session inside arena (which it does not own; keep it alive and
 * untouched while the session is used). The session handle itself lives in
 * the arena: nothing needs freeing. Too small an arena gives
 * ET_ERR_ARENA_TOO_SMALL and, if needed != NULL, the bytes needed. The model
 * must outlive the session. */
et_status et_session_prepare(const et_model *m, const et_config *cfg, void *arena,
                             size_t arena_bytes, et_session **out, size_t *needed);

/* Input/output tensors inside the arena: write inputs there, then run. */
size_t et_session_input_count(const et_session *s);
size_t et_session_output_count(const et_session *s);
et_status et_session_input(et_session *s, size_t i, et_tensor *out);
et_status et_session_output(et_session *s, size_t i, et_tensor *out);

/* Run the network on the inputs already in the arena. Allocates nothing. */
et_status et_session_run(et_session *s);

/* Copying convenience: input 0 from `in`, output 0 to `out` (NHWC). */
et_status et_session_run_copy(et_session *s, const float *in, size_t in_count,
                              float *out, size_t out_count);

const char *et_session_error(const et_session *s);

/* ------------------------------------------------------------ .npy I/O */

/* A float32 array read from or written to NumPy .npy (C order, up to 8 dims). */
#define ET_NPY_MAX_DIMS 8
typedef struct et_array {
    size_t ndim;
    size_t dims[ET_NPY_MAX_DIMS];
    size_t count;        /* product of dims */
    float *data;         /* owned; release with et_array_free */
} et_array;

/* Reads <f4, <f8 (converted), |u1 (converted) and <i4/<i8 (converted) arrays.
 * Errors name the file and the byte at fault in err. */
et_status et_npy_read_buffer(const void *buf, size_t len, et_array *out, char *err, size_t err_len);
et_status et_npy_read_file(const char *path, et_array *out, char *err, size_t err_len);
et_status et_npy_write_file(const char *path, const float *data, const size_t *dims, size_t ndim);
void et_array_free(et_array *a);

#ifdef __cplusplus
}
#endif

#endif /* EDGETUNE_H */
