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
    ET_ERR_NOT_FOUND,       /* a named node, tensor or key does not exist */
    ET_ERR_NUMERIC          /* a loss or gradient is NaN/Inf: nothing was updated */
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

/* Load an .etm without the heap or a file system, e.g. from a const array in
 * flash (`edgetune export-c`). Every table of the model (the model itself,
 * nodes, value ids, names, labels, metadata, the planner's tables) is placed
 * in mem; weights stay in buf when it is 4-byte aligned on a little-endian
 * host, else they are copied into mem. buf and mem must outlive the model.
 * The file is checked exactly as et_model_load_buffer checks it (same status,
 * same message). *needed (if given) is set to the exact bytes, including up
 * to ET_ALIGN - 1 so that any mem address works; mem NULL only asks for it
 * (the bytes are checked, the graph is validated by the loading call). A
 * too small mem gives ET_ERR_ARENA_TOO_SMALL. Nothing here allocates.
 * Such a model is read-only: et_model_set_param and et_model_set_metadata give
 * ET_ERR_STATE; fold, clone, new_head and training read it and make heap
 * models. et_model_plan and et_session_prepare use its tables in mem instead
 * of the heap. et_model_free does nothing: once its sessions are done, mem
 * and buf are the caller's again. */
et_status et_model_load_static(const void *buf, size_t len, void *mem, size_t mem_bytes,
                               et_model **out, size_t *needed, char *err, size_t err_len);

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

/* Deep copy; every weight of the copy is owned by it. */
et_status et_model_clone(const et_model *m, et_model **out);

/* Weights of node `node`, slot `slot` (conv2d/linear: 0 weight, 1 bias;
 * batchnorm: 0 gamma, 1 beta, 2 mean, 3 var). count 0 means absent. */
et_status et_model_param(const et_model *m, size_t node, size_t slot, const float **data, size_t *count);
/* Replace them with a copy of data (count must match the slot's size). */
et_status et_model_set_param(et_model *m, size_t node, size_t slot, const float *data, size_t count);

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

/* Instruction-set level of the kernels a session uses. AUTO picks the
 * ET_ISA environment variable (generic|avx2|avx512|neon) when set, else the
 * best level this CPU and build support. Forcing a level the CPU or build
 * lacks gives ET_ERR_UNSUPPORTED. x86 levels are chosen at run time (CPUID);
 * NEON exists when the library was built for ARM with NEON (the ports). */
typedef enum et_isa {
    ET_ISA_AUTO = 0,
    ET_ISA_GENERIC,     /* the plain-C reference kernels */
    ET_ISA_AVX2,        /* x86-64 AVX2 + FMA */
    ET_ISA_AVX512,      /* x86-64 AVX-512 F/BW/DQ/VL */
    ET_ISA_NEON,        /* ARM NEON: A64 on aarch64, NEON + VFPv4 on 32-bit ARM */
    ET_ISA_COUNT
} et_isa;

/* "generic", "avx2", "avx512", "neon" ("auto" for ET_ISA_AUTO). */
const char *et_isa_name(et_isa isa);
/* The best level this CPU and build support (ignores ET_ISA). */
et_isa et_isa_best(void);

/* A pool of worker threads, created once and shared by any number of
 * sessions (their runs take turns). threads counts the caller: 1 creates no
 * thread. Idle workers block; they never spin for long. */
typedef struct et_threadpool et_threadpool;
et_status et_threadpool_create(size_t threads, et_threadpool **out);
size_t et_threadpool_threads(const et_threadpool *p);
/* Joins the workers. No session may be running on the pool. */
void et_threadpool_free(et_threadpool *p);

typedef struct et_config {
    size_t batch;          /* 0 means 1 */
    size_t height, width;  /* 0 means the model's default input size */
    size_t threads;        /* 0 means 1 */
} et_config;

/* Execution options beyond et_config (a separate struct so that existing
 * positional et_config initialisers keep compiling). Zero-initialise it. */
typedef struct et_exec_options {
    et_isa isa;            /* kernel level; ET_ISA_AUTO (0) by default */
    et_threadpool *pool;   /* workers for run; NULL runs on the caller's thread.
                              At most cfg->threads of its threads are used;
                              results are bit-identical for any count. */
    int unfused;           /* 1: run every node on its own instead of fusing
                              expand/depthwise/project blocks (same results;
                              for tests and per-layer comparisons) */
} et_exec_options;

typedef struct et_session et_session;

/* Planning breakdown (all bytes). total is what prepare needs; it includes
 * up to ET_ALIGN - 1 bytes so that any arena address works (and, in builds
 * with -DET_DEBUG_ARENA, ET_ALIGN guard bytes checked after every node). */
typedef struct et_plan {
    size_t total;
    size_t header;          /* session struct and per-node/per-value tables */
    size_t weights;         /* weights packed for the selected kernels */
    size_t activations;     /* activation + scratch pool after liveness reuse */
    size_t activations_naive;  /* sum of all activation + scratch buffers */
    size_t activations_bound;  /* max over steps of bytes simultaneously live */
} et_plan;

/* Exact arena bytes for running m with cfg. Does not touch an arena.
 * Errors of plan and prepare are recorded on the model (et_model_error):
 * do not plan or prepare one model from two threads at the same time. */
et_status et_model_plan(const et_model *m, const et_config *cfg, et_plan *out);

/* Lay out a session inside arena (which it does not own; keep it alive and
 * untouched while the session is used). The session handle itself lives in
 * the arena: nothing needs freeing. Too small an arena gives
 * ET_ERR_ARENA_TOO_SMALL and, if needed != NULL, the bytes needed. The model
 * must outlive the session. */
et_status et_session_prepare(const et_model *m, const et_config *cfg, void *arena,
                             size_t arena_bytes, et_session **out, size_t *needed);

/* The same two calls with execution options (NULL: defaults). The plan
 * depends on opt->isa (packed weight sizes differ per kernel level). */
et_status et_model_plan_ex(const et_model *m, const et_config *cfg, const et_exec_options *opt, et_plan *out);
et_status et_session_prepare_ex(const et_model *m, const et_config *cfg, const et_exec_options *opt,
                                void *arena, size_t arena_bytes, et_session **out, size_t *needed);
/* Attach (or with NULL detach) a thread pool after prepare. */
et_status et_session_set_threadpool(et_session *s, et_threadpool *pool);

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

/* Name of the kernel table the session runs: "generic", "avx2", "avx512", or
 * for ET_ISA_NEON the ISA it was built for, "neon64" (A64) or "neon32" (ARMv7). */
const char *et_session_isa(const et_session *s);

/* How node runs in this session: 0 on its own; 1 it starts a fused
 * expand/depthwise/project block (et_session_run_profiled gives it the whole
 * block's time); 2 inside the block that starts before it (time 0). */
int et_session_node_fused(const et_session *s, size_t node);

/* Run once, writing each node's wall time in seconds to node_seconds[i]
 * (n must be the model's node count). For benchmarks; allocates nothing. */
et_status et_session_run_profiled(et_session *s, double *node_seconds, size_t n);

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

/* ------------------------------------------------------------ training
 * A trainer lives entirely in a caller arena, like a session. Layers split
 * into ordered parameter groups (by default one per conv/linear together with
 * the batchnorm that follows it). Frozen groups run as inference and keep
 * nothing; backward stops at the first trainable layer. */

typedef enum et_loss_kind {
    ET_LOSS_SOFTMAX_CE = 0,  /* targets: int32 class ids [batch] */
    ET_LOSS_BCE_LOGITS,      /* targets: float 0/1 [batch][classes] (multi-label) */
    ET_LOSS_MSE,             /* targets: float, same shape as the output */
    ET_LOSS_L1
} et_loss_kind;

typedef enum et_optim_kind { ET_OPTIM_SGD = 0, ET_OPTIM_ADAM, ET_OPTIM_ADAMW, ET_OPTIM_RMSPROP } et_optim_kind;

typedef enum et_bn_mode {
    ET_BN_TRAIN = 0,  /* batch statistics, running stats updated (PyTorch train()) */
    ET_BN_FROZEN      /* running statistics used and kept */
} et_bn_mode;

typedef enum et_train_scope {
    ET_SCOPE_ALL = 0,   /* every parameter of the unfrozen groups */
    ET_SCOPE_BIAS_ONLY, /* TinyTL-style: biases of the whole network + the last group */
    ET_SCOPE_BN_ONLY    /* batchnorm affine of the whole network + the last group */
} et_train_scope;

typedef struct et_optim_config {
    et_optim_kind kind;
    float lr;             /* learning rate of the last group */
    float lr_lo;          /* > 0: rates spread geometrically from lr_lo (first
                             trainable group) to lr (last), fastai's slice(lo, hi) */
    float momentum;       /* SGD and RMSprop momentum */
    float dampening;      /* SGD */
    int nesterov;         /* SGD */
    float beta1, beta2;   /* Adam/AdamW; RMSprop uses beta2 as its smoothing alpha */
    float eps;
    int centered;         /* RMSprop */
    float weight_decay;
    int decay_bn_and_bias;/* 0 (default): no weight decay on batchnorm and bias parameters */
    float clip_norm;      /* > 0: clip the global gradient norm */
    float clip_value;     /* > 0: clip each gradient element to [-v, v] */
} et_optim_config;

typedef struct et_train_config {
    size_t batch, height, width, threads;  /* as et_config */
    et_loss_kind loss;
    float label_smoothing;                 /* softmax CE only */
    const float *class_weights;            /* softmax CE only; [classes] or NULL */
    et_optim_config optim;
    int freeze_to;         /* 0: all groups train; n > 0: groups [0, n) frozen;
                              n < 0: all but the last -n groups frozen (fastai) */
    et_bn_mode bn_mode;
    int train_bn;          /* batchnorm affine trains inside frozen groups too */
    et_train_scope scope;
    size_t accum_steps;    /* optimizer step every accum_steps batches (0 = 1) */
    uint64_t seed;         /* dropout masks */
    const char *const *group_cuts; /* optional: node names where a new group starts */
    size_t n_group_cuts;
} et_train_config;

/* Fill cfg with fastai-like defaults: Adam(0.9, 0.99, eps 1e-5), lr 1e-3,
 * weight decay 0.01, softmax CE, batch 16, train-mode BN, freeze_to -1. */
void et_train_config_default(et_train_config *cfg);

typedef struct et_trainer et_trainer;

/* Exact arena bytes to train m with cfg (total, and activations planned vs
 * naive vs bound; weights = trainable master weights + gradients + optimizer
 * state). */
et_status et_model_plan_train(const et_model *m, const et_train_config *cfg, et_plan *out);

/* Lay out a trainer in arena. Trainable weights are copied into the arena;
 * m is not modified and must outlive the trainer. */
et_status et_trainer_prepare(const et_model *m, const et_train_config *cfg, void *arena,
                             size_t arena_bytes, et_trainer **out, size_t *needed);

/* One batch: forward, loss, backward, and (every accum_steps batches) an
 * optimizer step. x: [batch][h][w][c] NHWC. Allocates nothing. A non-finite
 * loss or gradient changes no weight and returns ET_ERR_NUMERIC. */
et_status et_trainer_step(et_trainer *t, const float *x, const void *targets, float *loss);

/* Forward only, in evaluation mode (running BN statistics, no dropout):
 * writes [batch][classes] outputs and, if targets given, the loss. */
et_status et_trainer_eval(et_trainer *t, const float *x, const void *targets, float *out, float *loss);

/* The logits the loss saw in the last et_trainer_step or
 * et_trainer_step_features (train mode), or computed by the last
 * et_trainer_eval: count = batch x classes floats, copied to out. For
 * training metrics (accuracy) without a second forward pass. */
et_status et_trainer_logits(const et_trainer *t, float *out, size_t count);

/* Learning rate of the last group and momentum (SGD/RMSprop momentum, Adam
 * beta1) for the next steps: what a schedule changes every step. The other
 * groups keep their ratio to the last one. */
et_status et_trainer_set_lr(et_trainer *t, float lr, float momentum);

/* Run the trainer's conv/linear kernels, train-mode batchnorms and optimizer
 * step on up to cfg.threads threads of pool (NULL: the caller's thread
 * only). Trained weights are bit-identical for any thread count. Do not
 * change it while a step runs. */
et_status et_trainer_set_threadpool(et_trainer *t, et_threadpool *pool);

size_t et_trainer_group_count(const et_trainer *t);
/* Group g: its first node's name, whether it trains, and its current lr. */
et_status et_trainer_group(const et_trainer *t, size_t g, const char **first_node, int *trainable, float *lr);
uint64_t et_trainer_steps(const et_trainer *t);  /* optimizer steps taken */

/* A new model holding the current (trained) weights and running statistics. */
et_status et_trainer_export(const et_trainer *t, et_model **out);
const char *et_trainer_error(const et_trainer *t);

/* Feature cache. When the frozen prefix hands the trained suffix exactly one
 * tensor (the "cut", e.g. the pooled features for head-only training) and
 * the samples do not change (no augmentation), compute each sample's
 * features once and train from them: from the second epoch an epoch costs
 * only the trained layers. floats: values per sample at the cut;
 * ET_ERR_UNSUPPORTED when the prefix feeds the suffix more than one tensor. */
et_status et_trainer_feature_size(const et_trainer *t, size_t *floats);
/* Run the frozen prefix on x [batch][h][w][c]; write [batch][floats] features. */
et_status et_trainer_features(et_trainer *t, const float *x, float *features);
/* One training batch from cached features (same result as et_trainer_step
 * on the images that produced them). */
et_status et_trainer_step_features(et_trainer *t, const float *features, const void *targets, float *loss);

/* Checkpoint state of a trainer: trained weights, optimizer state, batchnorm
 * running statistics and step counters, with a CRC32, in a versioned
 * little-endian blob. Loading checks that the blob was saved by a trainer
 * of the same model and configuration. */
et_status et_trainer_state_size(const et_trainer *t, size_t *bytes);
et_status et_trainer_state_save(const et_trainer *t, void *buf, size_t cap);
et_status et_trainer_state_load(et_trainer *t, const void *buf, size_t len);

/* Write len bytes to path atomically: a temporary file in the same folder,
 * fsync, rename, fsync of the folder. On failure path is untouched. */
et_status et_file_write_atomic(const char *path, const void *buf, size_t len);

/* Replace the last linear layer with one of `classes` outputs, Kaiming-uniform
 * initialised from seed (bias zero). Labels are dropped unless classes match. */
et_status et_model_new_head(const et_model *m, size_t classes, uint64_t seed, et_model **out);

/* ------------------------------------------------------------ schedules
 * Learning-rate and momentum schedules (fastai's), evaluated per optimizer
 * step: the caller asks for step i of n and passes the result to
 * et_trainer_set_lr. Pure functions of their arguments, so a resumed run
 * that knows its step index gets exactly the same values. */

typedef enum et_sched_kind {
    ET_SCHED_CONSTANT = 0, /* lr and momentum stay as given */
    ET_SCHED_ONECYCLE,     /* fastai fit_one_cycle: cosine warm-up to lr, cosine anneal */
    ET_SCHED_FLATCOS,      /* fastai fit_flat_cos: flat at lr, then cosine to lr / div_final */
    ET_SCHED_STEP          /* lr * gamma^(i / step_size) (integer division) */
} et_sched_kind;

typedef struct et_schedule {
    et_sched_kind kind;
    float lr;          /* peak (one-cycle) or base learning rate */
    float div;         /* one-cycle: starts at lr / div (25) */
    float div_final;   /* one-cycle, flat-cos: ends at lr / div_final (1e5) */
    float pct_start;   /* one-cycle: fraction warming up (0.25); flat-cos: flat fraction (0.75) */
    float mom_max;     /* one-cycle: momentum mom_max -> mom_min -> mom_max (0.95) */
    float mom_min;     /* (0.85) */
    float momentum;    /* the other kinds: constant momentum (0.9) */
    float gamma;       /* step: factor per step_size steps (0.1) */
    uint64_t step_size;/* step: steps between decays (0 = never) */
} et_schedule;

/* fastai's defaults for kind with peak/base rate lr. */
void et_schedule_default(et_schedule *s, et_sched_kind kind, float lr);

/* Learning rate and momentum for step i of n (i in [0, n); i >= n gives the
 * final values). fastai's convention: position p = i / n; cosine from a to b
 * is b + (a - b) / 2 * (1 + cos(pi * p')). Either output may be NULL. */
et_status et_schedule_at(const et_schedule *s, uint64_t i, uint64_t n, float *lr, float *momentum);

/* "onecycle", "flatcos", "step", "constant" <-> kind; -1 when unknown. */
const char *et_sched_name(et_sched_kind kind);
int et_sched_parse(const char *name);

/* LR finder (fastai's lr_find): exponential sweep from start_lr to end_lr
 * over num_it steps, loss smoothed with an exponential moving average
 * (beta 0.98, debiased), stopping once the smoothed loss exceeds 4x its
 * minimum. Pure bookkeeping: the caller runs the steps (on a throw-away
 * trainer, so the model's weights are untouched). */
typedef struct et_lr_finder {
    double start_lr, end_lr;
    uint64_t num_it;
    double beta;       /* 0.98 */
    double div_factor; /* stop when smoothed > div_factor * best (4) */
    double avg;        /* raw moving average (biased) */
    uint64_t count;    /* losses recorded */
    double best;       /* smallest smoothed loss so far */
} et_lr_finder;

/* start_lr 1e-7, end_lr 10, num_it 100 are fastai's defaults. */
et_status et_lr_finder_init(et_lr_finder *f, float start_lr, float end_lr, uint64_t num_it);
/* Rate for step i: start * (end / start)^(i / num_it). */
float et_lr_finder_lr(const et_lr_finder *f, uint64_t i);
/* Record step's raw loss; *smoothed gets the debiased average, *stop is set
 * when the sweep should end (diverged, non-finite, or num_it steps done). */
et_status et_lr_finder_record(et_lr_finder *f, float loss, float *smoothed, int *stop);

/* fastai's suggestions from the recorded (lr, smoothed loss) points. The
 * first num_it / 10 and the last 5 points are skipped, as fastai does, and
 * points after the first NaN are dropped. Each value is a learning rate;
 * *_idx is the index into the caller's arrays of the point it marks. */
typedef struct et_lr_suggestions {
    float valley, steep, minimum_div10;  /* minimum_div10 = lr at the minimum / 10 */
    size_t valley_idx, steep_idx, minimum_idx;
} et_lr_suggestions;
/* n <= 4096; ET_ERR_INVALID_ARG when too few points remain after skipping. */
et_status et_lr_suggest(const float *lrs, const float *losses, size_t n, uint64_t num_it,
                        et_lr_suggestions *out);


/* ------------------------------------------------------------ monitor
 * Observes a trainer's values while it runs: per-layer activation
 * statistics, the first non-finite value (layer, batch, forward or
 * backward), and per-group gradient norms and update/weight ratios. A
 * monitor allocates when created; attached, it adds one pass over each
 * layer's output per batch and allocates nothing. */

#define ET_HIST_BINS 40

typedef struct et_layer_stats {
    const char *name;        /* the node's name (owned by the model) */
    size_t node;             /* node index */
    et_op op;
    et_act_kind act;         /* fused or standalone activation of the output */
    uint64_t count;          /* values seen since the last reset */
    double mean, std, min, max;
    double frac_zero;        /* |y| < 1e-6 */
    double frac_saturated;   /* sigmoid/tanh/hardsigmoid outputs within 1% of a limit */
    size_t channels;
    size_t dead_channels;    /* ReLU family: channels never positive since the reset */
    uint64_t nonfinite;      /* NaN/Inf values seen */
    float hist_lo, hist_hi;  /* histogram range: [0, 10] after ReLU-like, else [-10, 10] */
    uint32_t hist[ET_HIST_BINS]; /* last batch's value histogram (fastai's "colourful dimension") */
} et_layer_stats;

typedef struct et_group_update {
    int trainable;
    double grad_norm;        /* of the last batch's accumulated gradient */
    double weight_norm;      /* after the step */
    double update_norm;      /* |w_after - w_before| */
    double ratio;            /* update_norm / weight_norm (0 when weight_norm is 0) */
} et_group_update;

typedef struct et_monitor et_monitor;

/* A monitor for t's layers and groups. */
et_status et_monitor_new(const et_trainer *t, et_monitor **out);
/* Detaches it from its trainer if attached: free it before the trainer's arena. */
void et_monitor_free(et_monitor *mon);
/* Attach mon (created for t) so every step/eval feeds it; NULL detaches. */
et_status et_trainer_set_monitor(et_trainer *t, et_monitor *mon);
/* Forget the statistics (not the first non-finite value). */
void et_monitor_reset(et_monitor *mon);
/* Layers observed: every executed node except views. */
size_t et_monitor_layer_count(const et_monitor *mon);
et_status et_monitor_layer(const et_monitor *mon, size_t i, et_layer_stats *out);
/* The first non-finite value seen: its layer, the trainer's batch counter at
 * that time, and whether it appeared in a gradient. ET_ERR_NOT_FOUND if none. */
et_status et_monitor_nonfinite(const et_monitor *mon, const char **layer, uint64_t *batch, int *backward);
/* Copy the trained weights; et_monitor_updates after the next optimizer
 * step gives each group's update size against this copy. */
et_status et_monitor_snapshot(et_monitor *mon);
/* out[g] for g < et_trainer_group_count(t) (n must be at least that). */
et_status et_monitor_updates(const et_monitor *mon, et_group_update *out, size_t n);

/* ------------------------------------------------------------ ONNX import/export */

/* Options for ONNX import. Zeroed means: sizes from the model, fold BN. */
typedef struct et_onnx_options {
    size_t input_n, input_c, input_h, input_w; /* fix a dynamic input (0: from the model) */
    int keep_bn;      /* keep BatchNormalization nodes (and activations) unfolded */
    int all_errors;   /* on failure write every problem found to err, one per line */
} et_onnx_options;

/* Convert an ONNX ModelProto (opsets 9..18, float32 CNNs) into a model with
 * NHWC activations and source_layout NCHW. opt may be NULL. Errors name the
 * node, the op and what is unsupported, or the byte offset of malformed data. */
et_status et_onnx_import_buffer(const void *buf, size_t len, const et_onnx_options *opt,
                                et_model **out, char *err, size_t err_len);
et_status et_onnx_import_file(const char *path, const et_onnx_options *opt,
                              et_model **out, char *err, size_t err_len);

/* Write m as an ONNX model (opset 13, NCHW input and outputs, current weights).
 * With buf NULL only *len_out is set. */
et_status et_onnx_export_buffer(const et_model *m, void *buf, size_t cap, size_t *len_out,
                                char *err, size_t err_len);
/* Written atomically (temporary file, fsync, rename). */
et_status et_onnx_export_file(const et_model *m, const char *path, char *err, size_t err_len);

/* ------------------------------------------------------------ datasets
 * Training data held in memory, loaded once at setup time (the only time this
 * section allocates). Samples are uint8 HWC images (image folders, IDX, uint8
 * .npy; folder images may each have their own size) or float32 HWC arrays
 * (float32 .npy), with labels: int class ids, or a 0/1 matrix for
 * multi-label data. et_dataset_batch turns samples into the float32 NHWC
 * input of a trainer (resize, normalise, seeded augmentation) and allocates
 * nothing. Every loading error names the file (and the byte for parsers):
 *   ET_ERR_NOT_FOUND  missing folder or file, a folder with no images
 *   ET_ERR_IO         a file or folder that cannot be opened or read
 *   ET_ERR_FORMAT     corrupt or truncated image/IDX/.npy, label out of range
 *   ET_ERR_SHAPE      label count differs from image count, mismatched shapes
 *   ET_ERR_UNSUPPORTED PNG/JPEG in a build without libpng/libjpeg, odd dtypes
 *   ET_ERR_OVERFLOW   dimensions whose byte count overflows size_t
 * See docs/DATA.md for formats, folder layout and augmentation semantics. */

typedef struct et_dataset et_dataset;

typedef enum et_sample_kind {
    ET_SAMPLE_U8 = 0,   /* uint8 pixels, scaled to [0, 1] by et_dataset_batch */
    ET_SAMPLE_F32 = 1   /* float32 values, used as they are (no scaling) */
} et_sample_kind;

typedef struct et_dataset_options {
    size_t channels;     /* channels of every sample. Folders: 1 or 3 (0 means 3);
                            grey and colour images are converted, alpha dropped.
                            IDX/.npy: 0 or the file's channel count. */
    size_t classes;      /* 0: from the data (folders: sub-folder count; ids:
                            max + 1). > 0: every label must be below it. */
    et_layout layout;    /* float32 .npy X: NHWC (default) or NCHW, which is
                            transposed to NHWC at load. uint8 X is always NHWC. */
} et_dataset_options;

typedef struct et_dataset_info {
    size_t count;              /* samples */
    size_t classes;            /* classes, or label columns when multi_label */
    int multi_label;           /* labels are a 0/1 matrix [count][classes] */
    et_sample_kind kind;
    size_t channels;
    size_t height, width;      /* common sample size; 0 when sizes vary */
    size_t max_height, max_width;
} et_dataset_info;

/* Image folder: root/<class>/<image>. Sub-folders sorted by name (bytewise)
 * give class ids 0, 1, ...; names starting with '.' are skipped. Files are
 * taken by extension (.ppm .pgm .pnm .png .jpg .jpeg, any case) and decoded
 * by content: PPM/PGM P2/P3/P5/P6 always (maxval up to 65535, scaled to 8
 * bits), PNG and JPEG when the build has libpng/libjpeg. An empty class
 * folder is an error. opt may be NULL. */
et_status et_dataset_load_folder(const char *root, const et_dataset_options *opt,
                                 et_dataset **out, char *err, size_t err_len);

/* IDX files (MNIST / Fashion-MNIST, uncompressed): images u8 [N][H][W] or
 * [N][H][W][C], labels u8 [N]. Magic, dimensions and counts are checked. */
et_status et_dataset_load_idx(const char *images, const char *labels, const et_dataset_options *opt,
                              et_dataset **out, char *err, size_t err_len);

/* NumPy: x as uint8 [N][H][W][C] (or [N][H][W]: C = 1), or float32/float64
 * [N][H][W][C] in opt->layout ([N][H][W]: C = 1; [N][F]: 1 x 1 x F); y as
 * integer class ids [N] (any integer or
 * integral float dtype) or a 0/1 matrix [N][K] (multi-label). */
et_status et_dataset_load_npy(const char *x_path, const char *y_path, const et_dataset_options *opt,
                              et_dataset **out, char *err, size_t err_len);

/* A view of samples idx[0..n) of ds (indices may repeat). It borrows ds's
 * storage: ds must outlive it. Sample i of the view keeps its augmentation
 * key (the index in the loaded dataset), so views change no random draw. */
et_status et_dataset_subset(const et_dataset *ds, const size_t *idx, size_t n, et_dataset **out);

/* fastai's RandomSplitter: a permutation drawn from seed, then the first
 * floor(valid_pct * count) samples become *valid and the rest *train (both
 * views of ds, in ascending index order). 0 <= valid_pct < 1. */
et_status et_dataset_split(const et_dataset *ds, float valid_pct, uint64_t seed,
                           et_dataset **train, et_dataset **valid, char *err, size_t err_len);

void et_dataset_free(et_dataset *ds);
et_status et_dataset_get_info(const et_dataset *ds, et_dataset_info *out);
/* Class k's name (folder name, or set below); NULL when unknown. */
const char *et_dataset_class_name(const et_dataset *ds, size_t k);
/* Copies n names (n must equal the class count). */
et_status et_dataset_set_class_names(et_dataset *ds, const char *const *names, size_t n);
/* Where sample i came from: its file for folders ("root/cat/001.png"),
 * the images/X file for IDX and .npy. Never NULL ("" if i is out of range). */
const char *et_dataset_sample_name(const et_dataset *ds, size_t i);
/* Class id of sample i (single-label datasets). */
et_status et_dataset_label(const et_dataset *ds, size_t i, int32_t *label);

/* Raw view of one sample: HWC, data is uint8_t or float per kind. */
typedef struct et_sample {
    et_sample_kind kind;
    size_t height, width, channels;
    const void *data;
} et_sample;
et_status et_dataset_sample(const et_dataset *ds, size_t i, et_sample *out);

typedef enum et_crop_mode {
    ET_CROP_NONE = 0,   /* the whole image (after center_crop) */
    ET_CROP_RANDOM_RESIZED, /* torchvision/fastai RandomResizedCrop */
    ET_CROP_PAD         /* zero-pad by `pad` pixels, random crop of the original size */
} et_crop_mode;

/* How samples become a batch. Steps, in order: geometry (crop, flip and the
 * bilinear resize to height x width, align_corners=False, no antialias; u8
 * pixels are sampled as their values), scaling (u8 / 255), lighting (u8
 * data only), then (x - mean[c]) / std[c]. Start from et_batch_config_default. */
typedef struct et_batch_config {
    size_t height, width;   /* output size; 0: the dataset's common size */
    int center_crop;        /* without augmentation: crop the largest centred
                               box of the output aspect ratio first (fastai's
                               Resize(method='crop')); 0 squishes */
    size_t norm_channels;   /* 0: no normalisation; else == the dataset channels */
    float mean[ET_MAX_CHANNELS_META], std[ET_MAX_CHANNELS_META];
    int augment;            /* 0: deterministic resize only (validation) */
    et_crop_mode crop;      /* when augmenting */
    float scale_lo, scale_hi;   /* RandomResizedCrop area fraction (0.35, 1) */
    float ratio_lo, ratio_hi;   /* RandomResizedCrop aspect ratio (3/4, 4/3) */
    size_t pad;                 /* ET_CROP_PAD padding (4) */
    float flip_p;               /* horizontal flip probability (0.5) */
    float max_lighting;         /* brightness and contrast like fastai (0.2) */
    float lighting_p;           /* probability of each of them (0.75) */
    uint64_t seed;              /* augmentation draws depend on (seed, epoch, sample key) only */
} et_batch_config;

/* Defaults: no augmentation and no normalisation, center_crop 1, the
 * augmentation parameters given above (so setting augment = 1 is fastai-like). */
void et_batch_config_default(et_batch_config *cfg);

/* Fill x [n][height][width][channels] with samples idx[0..n) and targets:
 * int32 class ids [n] for single-label data, float 0/1 [n][classes] for
 * multi-label (the layouts et_trainer_step takes); targets may be NULL.
 * Allocates nothing; results depend only on (cfg, epoch, sample), not on
 * which or how many threads call it, so calls may run in parallel. */
et_status et_dataset_batch(const et_dataset *ds, const et_batch_config *cfg, uint64_t epoch,
                           const size_t *idx, size_t n, float *x, void *targets);

/* A permutation of 0..n-1 from (seed, epoch) only: every epoch gets its own
 * order, and a resumed run reproduces it. */
void et_shuffle(uint64_t seed, uint64_t epoch, size_t n, size_t *perm);

/* One decoded image (uint8 HWC), e.g. to classify a file. */
typedef struct et_image {
    size_t height, width, channels;
    uint8_t *data;          /* owned; release with et_image_free */
} et_image;
/* channels: 1 or 3 (converted), 0 keeps the file's (alpha dropped). */
et_status et_image_read_file(const char *path, size_t channels, et_image *out, char *err, size_t err_len);
void et_image_free(et_image *img);
/* Preprocess one image as et_dataset_batch would sample `key` of `epoch`:
 * out is [height][width][channels] (cfg sizes must be set). */
et_status et_image_preprocess(const et_image *img, const et_batch_config *cfg, uint64_t epoch,
                              uint64_t key, float *out);

/* ------------------------------------------------------------ doctor
 * The practitioners' debugging checklist: each check builds its own
 * throw-away trainer(s) from the model and the training configuration
 * (the model is never modified), measures, and says pass / warn / fail,
 * what it measured and what to try. These calls allocate. */

typedef enum et_check_status { ET_CHECK_PASS = 0, ET_CHECK_WARN, ET_CHECK_FAIL, ET_CHECK_SKIP } et_check_status;

typedef enum et_check_id {
    ET_CHECK_DATA = 0,       /* class balance, input statistics, train/valid duplicates, label range */
    ET_CHECK_INITIAL_LOSS,   /* vs -ln(1/C) (softmax CE) or ln 2 (BCE) for a fresh head */
    ET_CHECK_ACTIVATIONS,    /* per-layer statistics: dead ReLUs, saturation, explosion */
    ET_CHECK_NONFINITE,      /* first layer and batch where NaN/Inf appears */
    ET_CHECK_GRADIENTS,      /* backward vs central finite differences per trainable layer */
    ET_CHECK_UPDATES,        /* per-group gradient norm and update/weight ratio */
    ET_CHECK_OVERFIT,        /* a single batch must be learnt: ~100% accuracy, near-zero loss */
    ET_CHECK_LR,             /* the configured rate on a short LR-finder curve */
    ET_CHECK_COUNT
} et_check_id;

typedef struct et_check {
    et_check_id id;
    et_check_status status;
    double value;            /* the main figure measured (see measured) */
    double expected;         /* what it should be near, when that has a value */
    char where[96];          /* the layer, group or sample concerned, or "" */
    char measured[512];      /* what was measured, one line */
    char advice[512];        /* what to try; "" when passing */
} et_check;

typedef struct et_doctor_config {
    et_train_config train;   /* the training to diagnose (batch, loss, optimizer, lr, freezing) */
    et_batch_config batch;   /* preprocessing of training samples (augmentation is turned off) */
    size_t sample_batches;   /* batches for statistics and the non-finite trap (4) */
    size_t overfit_steps;    /* steps on the single batch (200) */
    size_t grad_params;      /* parameters checked per trainable layer (8) */
    size_t lr_steps;         /* LR-finder sweep 1e-7 -> 10 in this many steps (60) */
    uint64_t seed;           /* which samples are drawn */
} et_doctor_config;

/* Defaults above, et_train_config_default and et_batch_config_default. */
void et_doctor_config_default(et_doctor_config *cfg);
/* "data", "initial-loss", ...; "pass", "warn", "fail", "skip". */
const char *et_check_name(et_check_id id);
const char *et_check_status_name(et_check_status s);

/* Run one check on model m with training samples `train` (valid may be NULL;
 * only the data check reads it). The batch config's size must be set. An
 * error status means the check could not run (message in err); a finding,
 * however bad, is ET_OK with out->status WARN or FAIL. */
et_status et_doctor_check(const et_model *m, const et_dataset *train, const et_dataset *valid,
                          const et_doctor_config *cfg, et_check_id id, et_check *out, char *err, size_t err_len);

/* Write an image by the path's extension (any case): .ppm (P6; grey is
 * replicated), .pgm (P5; 1-channel images only) or .png (libpng builds;
 * ET_ERR_UNSUPPORTED naming the file otherwise). Other extensions give
 * ET_ERR_INVALID_ARG. Written atomically; allocates while encoding. */
et_status et_image_write_file(const char *path, const et_image *img, char *err, size_t err_len);

/* ------------------------------------------------------------ class activation maps
 * Where a classifier looks for class k: a heat map over the last spatial
 * feature map F ([fh][fw][C], fh * fw > 1) that the class scores depend on.
 *   CAM (Zhou et al. 2016), for a global average pool -> linear head
 *   (flatten, reshape or dropout between them allowed; no activation on the
 *   linear): map = sum_c W[k][c] * F[h][w][c], W the linear layer's weights.
 *   Grad-CAM (Selvaraju et al. 2017), for any head: map = ReLU(sum_c a_c *
 *   F[h][w][c]) with a_c the spatial mean of d score_k / d F[h][w][c],
 *   computed by one backward pass.
 * The score is the class logit (a trailing softmax is skipped). Maps are
 * min-max normalised to [0, 1]; a constant map becomes all zeros and
 * et_cam_result.constant says so. Batchnorm uses its running statistics and
 * dropout is the identity, as at inference.
 * These calls allocate (a training arena for one image, freed before they
 * return): they are analysis tools, outside the allocation-free run and
 * training paths. Errors go to err; like planning, they may also record
 * one on the model, so do not call them on one model from two threads. */

typedef enum et_cam_method {
    ET_CAM_AUTO = 0,   /* CAM when the head allows it, else Grad-CAM */
    ET_CAM_CAM,
    ET_CAM_GRADCAM
} et_cam_method;

/* "auto", "cam", "grad-cam" <-> method; -1 when unknown ("gradcam" is accepted). */
const char *et_cam_method_name(et_cam_method m);
int et_cam_method_parse(const char *name);

/* Zero-initialised means: the model's default input size, ET_CAM_AUTO. */
typedef struct et_cam_options {
    size_t height, width;     /* input size; 0: the model's default */
    et_cam_method method;
} et_cam_options;

typedef struct et_cam_info {
    size_t height, width;     /* map size: the feature map's spatial size */
    size_t channels;          /* C of the feature map */
    size_t classes;           /* class scores */
    size_t feature_node;      /* node whose output is the feature map */
    size_t linear_node;       /* CAM: the linear layer whose weights are used; (size_t)-1 for Grad-CAM */
    et_cam_method method;     /* what opt->method resolves to (never AUTO) */
} et_cam_info;

/* Which feature map and method et_model_cam would use, and the map size to
 * allocate. opt may be NULL. ET_ERR_UNSUPPORTED when the model has no
 * spatial feature map, more than one output, an output that is not a class
 * vector, or a head that does not allow the requested method. */
et_status et_model_cam_info(const et_model *m, const et_cam_options *opt, et_cam_info *out,
                            char *err, size_t err_len);

typedef struct et_cam_result {
    size_t class_id;          /* the class mapped */
    size_t top_class;         /* the highest-scoring class */
    float logit;              /* score of class_id */
    float prob;               /* softmax of the logits at class_id */
    et_cam_method method;     /* CAM or Grad-CAM */
    size_t height, width;     /* map size */
    int constant;             /* the raw map was constant: map is all zeros */
} et_cam_result;

/* The map of class_id (-1: the top class) for one preprocessed input x
 * ([h][w][c] NHWC at opt's input size). map gets [height][width] floats
 * (map_count must be at least that, see et_model_cam_info); res may be NULL.
 * A class outside 0..classes-1 gives ET_ERR_INVALID_ARG; non-finite scores
 * or maps ET_ERR_NUMERIC. */
et_status et_model_cam(const et_model *m, const et_cam_options *opt, const float *x, int class_id,
                       float *map, size_t map_count, et_cam_result *res, char *err, size_t err_len);

/* Bilinear resize of a [fh][fw] map to [h][w] (align_corners=False, edges
 * clamped, like et_dataset_batch's resize): the map over a whole image. */
et_status et_cam_upsample(const float *map, size_t fh, size_t fw, float *out, size_t h, size_t w);

/* Jet-like colour of v in [0, 1] (clamped; NaN as 0): dark blue, blue,
 * cyan, yellow, red, dark red. */
void et_cam_color(float v, uint8_t rgb[3]);

/* A new RGB image (release with et_image_free): img (1 or 3 channels) with
 * heat ([img->height][img->width] in [0, 1]) blended over it in jet colours,
 * (1 - alpha) * pixel + alpha * colour. ET_ERR_INVALID_ARG for NULL or
 * empty arguments and alpha outside [0, 1], ET_ERR_UNSUPPORTED for other
 * channel counts. */
et_status et_cam_overlay(const et_image *img, const float *heat, float alpha, et_image *out);

#ifdef __cplusplus
}
#endif

#endif /* EDGETUNE_H */
