/* Which values the trainer's backward recomputes instead of keeping them
 * alive from the forward (issue 6), and where: planning only; the
 * recompute itself is in train_step.c, the buffers in train_layout.c. */
#include <string.h>
#include "train/train_plan.h"

static int is_depthwise(const et_node *nd, et_shape xs, et_shape ys) {
    return nd->op == ET_OP_CONV2D && nd->groups > 1 && nd->groups == xs.c && nd->groups == ys.c;
}

/* A value is recomputed, to the bit, by running its forward kernel again on
 * what backward has anyway:
 * - RC_BATCHNORM: a train-mode batchnorm's output, or its fused ReLU/clip's,
 *   from the batchnorm's input (kept or recomputed for its own backward) and
 *   the double statistics its forward kept: one elementwise pass.
 * - RC_DEPTHWISE: a depthwise conv's output (a batchnorm's input) from the
 *   conv's input (kept or recomputed for its weight gradient) and weights
 *   (unchanged until the optimizer step): one depthwise conv.
 * Not values kept to the end anyway (logits, outputs), nor views, nor
 * values no backward reads (those die in the forward already). A value is
 * recomputed at the start of the backward of its first user in backward
 * order: a node reading it or the recompute of a value made from it. */
void et_train_plan_recompute(const et_model *m, tplan *P, et_bn_mode bn, int level) {
    memset(P->rc_node, 0, P->nv * sizeof *P->rc_node);
    memset(P->rc_at, 0, P->nv * sizeof *P->rc_at);
    memset(P->rc_next, 0, P->nv * sizeof *P->rc_next);
    memset(P->rc_first, 0, P->n * sizeof *P->rc_first);
    memset(P->recomp, 0, P->n);
    P->n_rc = 0;
    for (uint32_t i = P->first; i < P->n_exec && level > RC_NONE; i++) {
        const et_node *nd = &m->nodes[i];
        if (P->role[i] != ROLE_SUFFIX || P->act[i].kind != ET_ACT_NONE) continue;
        uint32_t v;
        if (nd->op == ET_OP_BATCHNORM && bn == ET_BN_TRAIN) v = P->fuse[i] ? P->fuse[i] : i + 1;
        else if (level >= RC_DEPTHWISE && P->needs_x[i] && is_depthwise(nd, P->shapes[nd->in[0]], P->shapes[i + 1])) v = i + 1;
        else continue;
        int kept = P->root[v] != v || P->root[P->logits] == v;
        for (uint32_t k = 0; k < m->n_outputs; k++) kept |= P->root[m->outputs[k]] == v;
        if (!kept) P->rc_node[v] = i + 1;
    }
    /* first users, latest values first: a value's sources are earlier ones */
    for (uint32_t v = P->nv; v-- > 1;) {
        if (!P->rc_node[v]) continue;
        uint32_t at = 0;
        for (uint32_t r = v; r < P->n_exec; r++) {
            if (P->role[r] != ROLE_SUFFIX || !P->needs_x[r]) continue;
            for (uint32_t k = 0; k < m->nodes[r].n_in; k++)
                if (P->root[m->nodes[r].in[k]] == v && r + 1 > at) at = r + 1;
        }
        for (uint32_t w = v + 1; w < P->nv; w++)
            if (P->rc_node[w] && P->root[m->nodes[P->rc_node[w] - 1].in[0]] == v && P->rc_at[w] > at) at = P->rc_at[w];
        if (!at) { P->rc_node[v] = 0; continue; }
        P->rc_at[v] = at;
    }
    for (uint32_t v = P->nv; v-- > 1;) {
        if (!P->rc_node[v]) continue;
        uint32_t r = P->rc_at[v] - 1, p = P->rc_node[v] - 1;
        P->rc_next[v] = P->rc_first[r];
        P->rc_first[r] = v;
        if (m->nodes[p].op == ET_OP_BATCHNORM) P->recomp[p] = 1;
        P->n_rc++;
    }
}
