/* The trainer's internal state, laid out in the caller's arena: per-node
 * roles (frozen prefix or trained suffix), buffers for the forward values
 * and their gradients, and the trainable parameters with optimizer state.
 * Shared by train_layout.c (planning) and train_step.c (execution). */
#ifndef ET_TRAINER_H
#define ET_TRAINER_H

#include "model.h"
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
    float *z;            /* suffix nodes with a fused activation: pre-activation */
    float *dz;           /* their gradient scratch */
    float *save_mean, *save_inv_std;   /* train-mode batchnorm */
    float *run_mean, *run_var;         /* batchnorm running stats (arena copies) */
    float *run_backup;                 /* [2c] restored when a step is rejected */
    uint8_t *mask;                     /* dropout */
    uint32_t group;
} tnode;

struct et_trainer {
    uint32_t magic;
    const et_model *m;
    et_train_config cfg;
    uint32_t n_nodes, n_values, first;  /* first: index of the first suffix node */
    uint32_t n_exec;     /* nodes run while training (a trailing softmax is left to the loss) */
    uint32_t logits;     /* value the loss reads */
    uint32_t n_groups, n_params;
    size_t classes;
    tnode *nodes;
    tparam *params;
    et_shape *shapes;
    float **data;        /* forward value buffers */
    float **grad;        /* gradient buffers (NULL for values without one) */
    uint64_t *grad_gen;  /* grad[v] is valid for the current batch when == batch_gen */
    uint64_t batch_gen;
    const float **concat_ptrs;
    float **concat_grads;
    float *group_lr;     /* current lr per group */
    float *group_ratio;  /* lr of the group / lr of the last group */
    uint8_t *group_trained;
    float momentum;
    uint64_t steps, batches, dropout_counter;
    char err[ET_ERR_LEN];
};

#endif
