/* The training planner's heap temporaries (one planning pass, setup time
 * only), shared by train_layout.c (lifetimes, layout, preparing) and
 * train_recompute.c (which values backward recomputes). Not the trainer. */
#ifndef ET_TRAIN_PLAN_H
#define ET_TRAIN_PLAN_H

#include "plan.h"
#include "train/trainer.h"

typedef struct tplan {
    uint32_t n, nv, n_exec, first, logits, n_groups, n_params;
    et_shape *shapes;
    uint32_t *root, *groot, *uses, *group;
    uint8_t *role, *needs_x, *folded, *has_grad;
    uint32_t *fuse;      /* train-mode batchnorm: 1 + the ReLU/clip node whose backward it runs, or 0 */
    /* recomputed values: per value, 1 + the node whose forward kernel
     * recomputes it (0: kept) and 1 + the node at the start of whose backward
     * it is recomputed; per node, the first value recomputed there and per
     * value the next (ascending, so sources come first; 0 ends); per node,
     * a batchnorm keeping its double statistics for that */
    uint32_t *rc_node, *rc_at, *rc_first, *rc_next;
    uint8_t *recomp;
    size_t n_rc;
    et_act *act;
    uint8_t (*trained)[ET_MAX_PARAMS];
    et_buf *bufs;        /* [0, nv): values; [nv, 2nv): grads; then z (or its bit mask), dz, masks per node; recomputed values */
    uint32_t *order;
    size_t params_bytes, header_bytes, pool, naive, bound, concat_slots, scratch;
    const et_kernels *k;
} tplan;

/* How much backward recomputes instead of keeping (each level adds to the one below). */
enum { RC_NONE = 0, RC_BATCHNORM = 1, RC_DEPTHWISE = 2 };

/* Fill the recompute fields of P for level (after plan_fusion; P->needs_x,
 * root, fuse, shapes and roles set). */
void et_train_plan_recompute(const et_model *m, tplan *P, et_bn_mode bn, int level);

#endif
