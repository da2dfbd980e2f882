/* The trainer's internal state, laid out in the caller's arena: per-node
 * roles (frozen prefix or trained suffix), buffers for the forward values
 * and their gradients, and the trainable parameters with optimizer state.
 * Shared by train_layout.c (planning) and train_step.c (execution). */
#ifndef ET_TRAINER_H
#define ET_TRAINER_H

#include "model.h"
#include "dispatch.h"
#include "train/grad_ops.h"

#define ET_TRAINER_MAGIC 0x45545452u /* "ETTR" */

enum { ROLE_PREFIX = 0, ROLE_SUFFIX = 1, ROLE_SKIP = 2 /* folded into its producer */ };

/* One parameter slot of a node as training sees it. */
typedef struct tparam {
    float *w;            /* weights used by the forward (arena copy when trained or folded) */
    float *g;            /* gradient (trained only) */
    float *s1, *s2, *s3; /* optimizer state (trained only) */
    size_t count;
    uint32_t node, group;
    int trained, decay;
} tparam;

typedef struct tnode {
    uint8_t role;
    uint8_t needs_x;     /* backward reads the node's inputs */
    et_act act;          /* effective fused activation (prefix: after folding) */
    int32_t p[ET_MAX_PARAMS]; /* tparam index per slot, or -1 */
    float *z;            /* suffix nodes with a fused activation: pre-activation... */
    uint8_t *zmask;      /* ...or its bit mask when that is all backward needs (ReLU family) */
    float *dz;           /* their gradient scratch */
    float *save_mean, *save_inv_std;   /* train-mode batchnorm */
    float *run_mean, *run_var;         /* batchnorm running stats (arena copies) */
    float *run_backup;                 /* [2c] restored when a step is rejected */
    uint8_t *mask;                     /* dropout; standalone ReLU-family activation (bit mask of x) */
    uint32_t group;
    const et_conv_impl *impl;          /* conv/linear: the fast kernel for its geometry */
    void *packed;                      /* its packed weights (repacked after each update when trained) */
    uint8_t repack;
    uint32_t fuse_act;   /* train-mode batchnorm: 1 + the ReLU/clip whose backward it runs (0: none)... */
    uint8_t fused;       /* ...and that activation, whose own backward is then skipped */
    double *stats;       /* train-mode batchnorm whose value backward recomputes: its double mean, inv std [2c] */
    uint32_t recompute;  /* the first value this node's backward recomputes before it runs (0: none)... */
    uint32_t rc_next;    /* ...and, on the node producing such a value, the next one (0: the last) */
} tnode;

struct et_trainer {
    uint32_t magic;
    const et_model *m;
    et_train_config cfg;
    uint32_t n_nodes, n_values, first;  /* first: index of the first suffix node */
    uint32_t n_exec;     /* nodes run while training (a trailing softmax is left to the loss) */
    uint32_t logits;     /* value the loss reads */
    uint32_t n_groups, n_params;
    const et_kernels *k;
    unsigned char *scratch; /* per-run scratch of the conv kernels: threads x scratch_stride */
    size_t scratch_stride, threads;
    et_threadpool *pool; /* workers for the conv/linear kernels, or NULL */
    size_t classes;
    tnode *nodes;
    tparam *params;
    et_shape *shapes;
    float **data;        /* forward value buffers */
    float **grad;        /* gradient buffers (NULL for values without one) */
    float **back;        /* the forward values as backward reads them: data[v], or its recompute buffer */
    uint64_t *grad_gen;  /* per buffer owner: see et_train_grad_fresh */
    uint64_t batch_gen;
    const float **concat_ptrs;
    float **concat_grads;
    float *group_lr;     /* current lr per group */
    float *group_ratio;  /* lr of the group / lr of the last group */
    uint8_t *group_trained;
    float momentum;
    uint64_t steps, batches, dropout_counter;
    const struct et_train_probe *probe;  /* observer of every value (monitors), or NULL */
    int dropout_off;                     /* probe passes: dropout acts as identity */
    int unfused;                         /* probe passes: every node writes its own output (no batchnorm + act fusion) */
    uint32_t debug_node;                 /* tests: node whose weight gradient is scaled... */
    float debug_grad_scale;              /* ...by this factor when != 0 (a deliberate bug) */
    char err[ET_ERR_LEN];
};

/* Called after each executed node: phase 0 with the node's output (forward,
 * after its fused activation), phase 1 after its backward (its parameter
 * gradients are then complete for this batch). */
typedef struct et_train_probe {
    void (*visit)(void *ctx, const et_trainer *t, uint32_t node, int phase);
    void *ctx;
} et_train_probe;

/* Kernels over the trainer's pool (train_parallel.c); bit-identical for any thread count. */
void et_train_conv_forward(const et_trainer *t, const et_conv_impl *ci, const et_conv_args *a);
void et_train_conv_input(const et_trainer *t, const et_grad_kernels *G, const et_conv_geom *g, const float *dy,
                         const float *w, float *dx);
void et_train_conv_weight(const et_trainer *t, const et_grad_kernels *G, const et_conv_geom *g, const float *x,
                          const float *dy, float *dw);
void et_train_linear_input(const et_trainer *t, const et_grad_kernels *G, size_t n, size_t in, size_t out,
                           const float *dy, const float *w, float *dx);

/* One training batch whose values before node `from` are in place. */
et_status et_train_step_from(et_trainer *t, uint32_t from, const void *targets, float *loss);
/* Inference forward of the frozen prefix (nodes before the first trained one). */
void et_train_forward_prefix(et_trainer *t);

/* Forward the batch in data[0] (copy it in before every call: the plan
 * reuses the input's buffer once the first node has read it) as a training step does, leaving running
 * statistics and dropout draws as they were; then, when targets or dlogits
 * is given, backward from the loss on targets (or from dlogits) into zeroed
 * parameter gradients and value gradients (grad[v] valid while
 * et_train_grad_fresh(t, v)). Takes no optimizer step. loss may be NULL. */
et_status et_train_probe_pass(et_trainer *t, const void *targets, const float *dlogits, double *loss);
/* The same forward of input x and the loss on targets only: gradients are untouched. */
et_status et_train_probe_loss(et_trainer *t, const float *x, const void *targets, double *loss);
/* Does grad[v] hold v's gradient for the current batch? (Buffers are zeroed
 * lazily on first use, so an untouched one holds stale data.) */
int et_train_grad_fresh(const et_trainer *t, uint32_t v);
/* Zero every trained parameter's gradient. */
void et_train_zero_grads(et_trainer *t);
/* Tests only: every trainer prepared afterwards scales the weight gradient
 * of the node named `node` by factor (NULL turns it off): a deliberate
 * backward bug for the doctor's gradient check. Not thread-safe. */
void et_train_debug_fault(const char *node, float factor);
/* Tests only: trainers planned or prepared afterwards keep every value
 * backward reads instead of recomputing any (off = 1). Not thread-safe. */
void et_train_debug_no_recompute(int off);

/* Refresh the packed copy of node i after its weights changed. */
void et_train_repack_node(et_trainer *t, uint32_t i);

/* Refresh the packed copies of trained conv/linear weights (on the pool). */
void et_train_repack(et_trainer *t);
/* train_update.c, on the pool: are all trained gradients finite; the
 * optimizer step (clipping, update, zeroed gradients, repack); zeroing and
 * copying. */
int et_train_grads_finite(et_trainer *t);
void et_train_optimizer_step(et_trainer *t);
void et_train_zero_bytes(const et_trainer *t, void *p, size_t bytes);
void et_train_copy_bytes(const et_trainer *t, void *dst, const void *src, size_t bytes);

/* Conv geometry of a conv2d node, or of a linear node as a 1x1 conv. */
int et_train_conv_geom(const et_node *nd, et_shape xs, et_shape ys, et_conv_geom *g);

#endif
