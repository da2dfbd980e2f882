/* Training plan: parameter groups, the frozen prefix / trained suffix split,
 * prefix batchnorm folding, buffer lifetimes over the forward-loss-backward
 * timeline, and the arena layout. The same code plans (no arena) and prepares. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "plan.h"
#include "train/train_bn.h"
#include "train/train_plan.h"

static void tplan_free(tplan *P) {
    free(P->shapes); free(P->root); free(P->groot); free(P->uses); free(P->group);
    free(P->role); free(P->needs_x); free(P->folded); free(P->has_grad); free(P->act);
    free(P->trained); free(P->bufs); free(P->order); free(P->fuse); free(P->recomp); free(P->rc_node); free(P->rc_at);
    free(P->rc_first); free(P->rc_next);
}

static size_t train_threads(const et_train_config *cfg) { return cfg->threads ? cfg->threads : 1; }

static int is_param_op(et_op op) { return op == ET_OP_CONV2D || op == ET_OP_LINEAR || op == ET_OP_BATCHNORM; }

static et_status make_groups(const et_model *m, const et_train_config *cfg, tplan *P, char *err, size_t len) {
    uint32_t g = 0;
    int started = 0;
    for (uint32_t i = 0; i < P->n; i++) {
        const et_node *nd = &m->nodes[i];
        int cut = 0;
        for (size_t k = 0; k < cfg->n_group_cuts; k++)
            if (cfg->group_cuts[k] && nd->name && strcmp(cfg->group_cuts[k], nd->name) == 0) cut = 1;
        if (cfg->n_group_cuts) {
            if (cut && i > 0) g++; /* a cut starts a group; what precedes the first cut is group 0 */
        } else if (nd->op == ET_OP_CONV2D || nd->op == ET_OP_LINEAR) {
            /* a layer: conv/linear plus the batchnorm right after it */
            if (started) g++;
            started = 1;
        } else if (nd->op == ET_OP_BATCHNORM && !(nd->in[0] > 0 && is_param_op(m->nodes[nd->in[0] - 1].op) &&
                                                   m->nodes[nd->in[0] - 1].op != ET_OP_BATCHNORM)) {
            if (started) g++;
            started = 1;
        }
        P->group[i] = g;
    }
    for (size_t k = 0; k < cfg->n_group_cuts; k++) {
        int found = 0;
        for (uint32_t i = 0; i < P->n && !found; i++)
            found = cfg->group_cuts[k] && m->nodes[i].name && strcmp(cfg->group_cuts[k], m->nodes[i].name) == 0;
        if (!found) return et_fail(err, len, ET_ERR_NOT_FOUND, "group cut '%s': no node has that name", cfg->group_cuts[k] ? cfg->group_cuts[k] : "(null)");
    }
    P->n_groups = g + 1;
    return ET_OK;
}

/* Which parameter slots train, from freeze_to, scope and train_bn. */
static et_status choose_trained(const et_model *m, const et_train_config *cfg, tplan *P, char *err, size_t len) {
    int64_t ng = P->n_groups, f = cfg->freeze_to;
    if (f < 0) f += ng;
    if (f < 0 || f >= ng)
        return et_fail(err, len, ET_ERR_INVALID_ARG, "freeze_to %d leaves no trainable group (the model has %u groups)", cfg->freeze_to, P->n_groups);
    P->first = P->n;
    for (uint32_t i = 0; i < P->n; i++) {
        const et_node *nd = &m->nodes[i];
        int unfrozen = (int64_t)P->group[i] >= f;
        for (uint32_t k = 0; k < nd->n_params; k++) {
            int t = 0;
            if (nd->params[k].count) {
                int is_bias = k == 1 && nd->op != ET_OP_BATCHNORM;
                int is_bn_affine = nd->op == ET_OP_BATCHNORM && k < 2;
                if (unfrozen) t = nd->op != ET_OP_BATCHNORM || k < 2;
                else if (cfg->scope == ET_SCOPE_BIAS_ONLY) t = is_bias || (is_bn_affine && k == 1);
                else if (cfg->scope == ET_SCOPE_BN_ONLY || cfg->train_bn) t = is_bn_affine;
            }
            P->trained[i][k] = (uint8_t)t;
            if (t && i < P->first) P->first = i;
        }
    }
    if (P->first == P->n) return et_fail(err, len, ET_ERR_INVALID_ARG, "no parameter trains with this configuration");
    return ET_OK;
}

/* Prefix nodes run as inference: fold batchnorm and activations into the
 * conv/linear/add before them, as et_model_fold does for whole models. */
static void fold_prefix(const et_model *m, tplan *P) {
    for (uint32_t i = 0; i < P->first; i++) {
        const et_node *nd = &m->nodes[i];
        if (nd->op != ET_OP_BATCHNORM && nd->op != ET_OP_ACT) continue;
        uint32_t v = P->root[nd->in[0]];
        if (v == 0 || P->uses[v] != 1 || P->act[v - 1].kind != ET_ACT_NONE || P->role[v - 1] != ROLE_PREFIX) continue;
        et_op pop = m->nodes[v - 1].op;
        if (nd->op == ET_OP_BATCHNORM) {
            if (pop != ET_OP_CONV2D && pop != ET_OP_LINEAR) continue;
            P->folded[v - 1] = 1;
        } else {
            if (pop != ET_OP_CONV2D && pop != ET_OP_LINEAR && pop != ET_OP_ADD) continue;
            P->act[v - 1] = nd->act;
        }
        P->role[i] = ROLE_SKIP;
        P->root[i + 1] = v;
        P->uses[v] = P->uses[i + 1];
    }
}

/* Does node j's backward read its inputs? */
static int backward_needs_x(const et_node *nd, const uint8_t *tr, et_bn_mode bn) {
    switch (nd->op) {
    case ET_OP_CONV2D: case ET_OP_LINEAR: return tr[0];
    case ET_OP_BATCHNORM: return bn == ET_BN_TRAIN || tr[0];
    case ET_OP_ACT: return !et_act_backward_uses_mask(nd->act); /* else a bit mask of its own */
    case ET_OP_MUL: case ET_OP_MAXPOOL: return 1;
    default: return 0;
    }
}

static void widen(et_buf *b, uint32_t step) {
    if (step > b->last) b->last = step;
    if (step < b->first) b->first = step;
}

/* A train-mode batchnorm whose output only a ReLU/clip reads runs that
 * activation's forward and backward inside its own (the batchnorm's output
 * and its gradient are then never written). */
static void plan_fusion(const et_model *m, tplan *P, et_bn_mode bn) {
    for (uint32_t i = P->first; i < P->n_exec && bn == ET_BN_TRAIN; i++) {
        if (m->nodes[i].op != ET_OP_BATCHNORM || P->role[i] != ROLE_SUFFIX || P->act[i].kind != ET_ACT_NONE ||
            P->uses[i + 1] != 1 || P->root[i + 1] != i + 1)
            continue;
        for (uint32_t j = i + 1; j < P->n_exec; j++) {
            const et_node *a = &m->nodes[j];
            if (a->n_in == 0 || a->in[0] != i + 1) continue;
            if (a->op == ET_OP_ACT && P->role[j] == ROLE_SUFFIX && P->has_grad[j + 1] &&
                (a->act.kind == ET_ACT_RELU || a->act.kind == ET_ACT_CLIP))
                P->fuse[i] = j + 1;
            break;
        }
    }
}

static int no_recompute;

void et_train_debug_no_recompute(int off) { no_recompute = off; }

static et_status plan_buffers(const et_model *m, tplan *P, et_bn_mode cfg_bn, int rc_level) {
    uint32_t n = P->n_exec, L = n + 1, end = 2 * n + 1;
    et_buf *B = P->bufs, *G = P->bufs + P->nv, *Z = P->bufs + 2 * P->nv, *DZ = Z + P->n, *MK = DZ + P->n, *RC = MK + P->n;
#define BSTEP(j) (L + (n - (j)))
    size_t total = 3 * (size_t)P->n + 3 * P->nv;
    for (size_t k = 0; k < total; k++) { P->bufs[k].bytes = 0; P->bufs[k].first = UINT32_MAX; P->bufs[k].last = 0; }
    P->naive = 0;
    memset(P->has_grad, 0, P->nv);
    for (uint32_t v = 0; v < P->nv; v++) {
        size_t bytes;
        if (!et_mul_ok(et_shape_count(P->shapes[v]), sizeof(float), &bytes)) return ET_ERR_OVERFLOW;
        uint32_t r = P->root[v];
        if (r == v) B[v].bytes = et_align_up(bytes);
        widen(&B[r], v);
        P->groot[v] = v;
    }
    for (uint32_t i = 0; i < P->n; i++) {
        const et_node *nd = &m->nodes[i];
        int suffix = P->role[i] == ROLE_SUFFIX && i < n;
        for (uint32_t k = 0; k < nd->n_in; k++) widen(&B[P->root[nd->in[k]]], i + 1);
        if (suffix && nd->op == ET_OP_SOFTMAX) widen(&B[P->root[i + 1]], BSTEP(i));
        size_t cnt = et_shape_count(P->shapes[i + 1]);
        if (suffix && P->act[i].kind != ET_ACT_NONE) {
            /* the pre-activation, or one bit of it where backward needs no more */
            DZ[i].bytes = et_align_up(cnt * sizeof(float));
            Z[i].bytes = et_act_backward_uses_mask(P->act[i]) ? et_align_up((cnt + 7) / 8) : DZ[i].bytes;
            Z[i].first = i + 1; Z[i].last = BSTEP(i);
            DZ[i].first = DZ[i].last = BSTEP(i);
        }
        if (suffix && (nd->op == ET_OP_DROPOUT || (nd->op == ET_OP_ACT && et_act_backward_uses_mask(nd->act)))) {
            MK[i].bytes = et_align_up((cnt + 7) / 8);
            MK[i].first = i + 1; MK[i].last = BSTEP(i);
        }
    }
    /* kept to the end so et_trainer_logits can show what the loss saw */
    widen(&B[P->root[P->logits]], end);
    for (uint32_t k = 0; k < m->n_outputs; k++) widen(&B[P->root[m->outputs[k]]], end);
    /* gradients: a value produced in the suffix, or a cut value read by a
     * suffix node that cannot skip its input gradient */
    for (uint32_t i = P->first; i < n; i++) {
        const et_node *nd = &m->nodes[i];
        if (P->role[i] != ROLE_SUFFIX) continue;
        if (nd->op == ET_OP_FLATTEN || nd->op == ET_OP_RESHAPE) P->groot[i + 1] = P->groot[nd->in[0]];
        for (uint32_t k = 0; k < nd->n_in; k++) {
            uint32_t v = nd->in[k];
            int produced_in_suffix = v > P->first;
            if (!produced_in_suffix && (nd->op == ET_OP_CONV2D || nd->op == ET_OP_LINEAR)) continue;
            P->has_grad[v] = 1;
        }
    }
    P->has_grad[P->logits] = 1;
    for (uint32_t v = 0; v < P->nv; v++) {
        if (!P->has_grad[v]) continue;
        uint32_t r = P->groot[v];
        P->has_grad[r] = 1;
        if (r == v) G[v].bytes = B[P->root[v]].bytes ? B[P->root[v]].bytes : et_align_up(et_shape_count(P->shapes[v]) * sizeof(float));
    }
    for (uint32_t i = P->first; i < n; i++) {
        const et_node *nd = &m->nodes[i];
        if (P->role[i] != ROLE_SUFFIX) continue;
        for (uint32_t k = 0; k < nd->n_in; k++)
            if (P->has_grad[nd->in[k]]) widen(&G[P->groot[nd->in[k]]], BSTEP(i));
        if (P->has_grad[i + 1]) widen(&G[P->groot[i + 1]], BSTEP(i));
    }
    widen(&G[P->groot[P->logits]], L);
    plan_fusion(m, P, cfg_bn);
    for (uint32_t i = 0; i < n; i++)
        if (P->fuse[i]) {
            /* the batchnorm writes the activation's output and mask (forward), and
             * reads its gradient and mask (backward); its own output (written
             * when observers want every value) has no gradient buffer, since
             * the activation's backward always runs inside the batchnorm's */
            uint32_t j = P->fuse[i] - 1;
            widen(&B[P->root[j + 1]], i + 1);
            widen(&MK[j], i + 1);
            widen(&G[P->groot[j + 1]], BSTEP(i));
            widen(&MK[j], BSTEP(i));
            P->has_grad[i + 1] = 0;
            G[i + 1].bytes = 0;
            G[i + 1].first = UINT32_MAX;
            G[i + 1].last = 0;
        }
    /* backward reads a node's inputs where they were kept, or recomputed
     * into a buffer of their own; a recompute reads its source there too */
    et_train_plan_recompute(m, P, cfg_bn, rc_level);
    for (uint32_t i = P->first; i < n; i++) {
        const et_node *nd = &m->nodes[i];
        if (P->role[i] != ROLE_SUFFIX || !P->needs_x[i]) continue;
        for (uint32_t k = 0; k < nd->n_in; k++) {
            uint32_t r = P->root[nd->in[k]];
            widen(P->rc_node[r] ? &RC[r] : &B[r], BSTEP(i));
        }
    }
    for (uint32_t v = 0; v < P->nv; v++) {
        if (!P->rc_node[v]) continue;
        uint32_t s = P->root[m->nodes[P->rc_node[v] - 1].in[0]], at = BSTEP(P->rc_at[v] - 1);
        RC[v].bytes = B[v].bytes;
        widen(&RC[v], at);
        widen(P->rc_node[s] ? &RC[s] : &B[s], at);
    }
    for (size_t k = 0; k < total; k++)
        if (P->bufs[k].first == UINT32_MAX) { P->bufs[k].first = P->bufs[k].last = 0; P->bufs[k].bytes = 0; }
    for (size_t k = 0; k < total; k++) P->naive += P->bufs[k].bytes;
    P->bound = et_plan_bound(P->bufs, total, end);
    P->pool = et_plan_place(P->bufs, total, P->order);
    return ET_OK;
#undef BSTEP
}

int et_train_conv_geom(const et_node *nd, et_shape xs, et_shape ys, et_conv_geom *g) {
    et_conv_geom c = {xs.n, xs.h, xs.w, xs.c, ys.h, ys.w, ys.c, nd->kh, nd->kw, nd->sh, nd->sw,
                      nd->dh, nd->dw, nd->pad_t, nd->pad_l, nd->groups};
    et_conv_geom l = {xs.n, 1, 1, xs.c, 1, 1, ys.c, 1, 1, 1, 1, 1, 1, 0, 0, 1};
    if (nd->op == ET_OP_CONV2D) *g = c;
    else if (nd->op == ET_OP_LINEAR) *g = l; /* linear is a 1x1 conv over N x 1 x 1 x in */
    else return 0;
    return 1;
}

/* Packed weights of every conv/linear node that runs, and the largest scratch. */
static size_t pack_region(const et_model *m, const et_kernels *k, const tplan *P, size_t *scratch) {
    size_t bytes = 0;
    *scratch = 0;
    for (uint32_t i = 0; i < P->n; i++) {
        et_conv_geom g;
        if (P->role[i] == ROLE_SKIP || !et_train_conv_geom(&m->nodes[i], P->shapes[m->nodes[i].in[0]], P->shapes[i + 1], &g)) continue;
        const et_conv_impl *ci = k->conv_select(&g);
        bytes += et_align_up(ci->pack_bytes(&g));
        size_t sb = ci->scratch_bytes(&g);
        if (sb > *scratch) *scratch = sb;
    }
    return bytes;
}

/* One conv scratch per worker; the train-mode batchnorms use the same bytes
 * (train_bn.c) between convs. */
static size_t scratch_region(const et_model *m, const et_train_config *cfg, const tplan *P) {
    size_t conv = train_threads(cfg) * et_align_up(P->scratch), bn = 0;
    for (uint32_t i = 0; i < P->n && cfg->bn_mode == ET_BN_TRAIN; i++) {
        et_shape xs = P->shapes[m->nodes[i].in[0]];
        if (m->nodes[i].op != ET_OP_BATCHNORM || P->role[i] != ROLE_SUFFIX) continue;
        size_t b = et_bn_scratch_bytes(xs.n * xs.h * xs.w, xs.c);
        if (b > bn) bn = b;
    }
    return conv > et_align_up(bn) ? conv : et_align_up(bn);
}

/* Bytes of the permanent parameter region: trained copies, gradients,
 * optimizer state, folded prefix weights, batchnorm statistics. */
static size_t optim_slots(const et_optim_config *o) {
    switch (o->kind) {
    case ET_OPTIM_SGD: return o->momentum > 0.0f ? 1 : 0;
    case ET_OPTIM_ADAM: case ET_OPTIM_ADAMW: return 2;
    case ET_OPTIM_RMSPROP: return 1 + (o->momentum > 0.0f) + (o->centered != 0); /* square avg, momentum, centered avg */
    }
    return 0;
}

static size_t param_region(const et_model *m, const et_train_config *cfg, tplan *P) {
    size_t bytes = 0, slots = optim_slots(&cfg->optim);
    P->n_params = 0;
    for (uint32_t i = 0; i < P->n; i++) {
        const et_node *nd = &m->nodes[i];
        for (uint32_t k = 0; k < nd->n_params; k++) {
            size_t b = et_align_up(nd->params[k].count * sizeof(float));
            P->n_params++;
            if (P->trained[i][k]) bytes += b * (2 + slots);
            else if (P->folded[i]) bytes += k == 0 ? b : et_align_up((size_t)nd->out_c * sizeof(float));
        }
        if (nd->op == ET_OP_BATCHNORM && P->role[i] == ROLE_SUFFIX)
            bytes += 4 * et_align_up(nd->params[0].count * sizeof(float)) + et_align_up(2 * nd->params[0].count * sizeof(float));
        if (P->recomp[i]) bytes += et_align_up(2 * nd->params[0].count * sizeof(double));
    }
    return bytes;
}

/* Buffers and the parameter region (fixed: its bytes that do not depend on
 * the buffers), at the recompute level that gives the smallest arena (the
 * cheaper level on ties). Recomputing costs time in backward: where the
 * arena's peak is elsewhere (e.g. in a frozen prefix's forward) it would
 * only add the statistics it keeps, and the plan keeps every value. */
static et_status plan_memory(const et_model *m, const et_train_config *cfg, tplan *P, size_t fixed) {
    size_t best = (size_t)-1;
    int pick = RC_NONE;
    for (int level = no_recompute ? RC_NONE : RC_DEPTHWISE; level >= RC_NONE; level--) {
        et_status st = plan_buffers(m, P, cfg->bn_mode, level);
        if (st != ET_OK) return st;
        P->params_bytes = param_region(m, cfg, P) + fixed;
        if (P->n_rc == 0) level = RC_NONE; /* the keeping plan, as every level below */
        if (P->pool + P->params_bytes <= best) { best = P->pool + P->params_bytes; pick = level; }
    }
    if (pick == RC_NONE) return ET_OK; /* the plan just made */
    et_status st = plan_buffers(m, P, cfg->bn_mode, pick);
    P->params_bytes = param_region(m, cfg, P) + fixed;
    return st;
}

static et_status check_cfg(const et_model *m, const et_train_config *cfg, char *err, size_t len) {
    const et_optim_config *o = &cfg->optim;
    if ((unsigned)cfg->loss > ET_LOSS_L1) return et_fail(err, len, ET_ERR_INVALID_ARG, "train config: unknown loss %d", (int)cfg->loss);
    if ((unsigned)o->kind > ET_OPTIM_RMSPROP) return et_fail(err, len, ET_ERR_INVALID_ARG, "train config: unknown optimizer %d", (int)o->kind);
    if (!(o->lr > 0.0f) || !isfinite(o->lr) || o->lr_lo < 0.0f || o->lr_lo > o->lr)
        return et_fail(err, len, ET_ERR_INVALID_ARG, "train config: lr %g / lr_lo %g (need 0 < lr, 0 <= lr_lo <= lr)", (double)o->lr, (double)o->lr_lo);
    if (o->momentum < 0.0f || o->momentum >= 1.0f || o->beta1 < 0.0f || o->beta1 >= 1.0f || o->beta2 < 0.0f || o->beta2 >= 1.0f)
        return et_fail(err, len, ET_ERR_INVALID_ARG, "train config: momentum/betas must be in [0, 1)");
    if ((o->kind != ET_OPTIM_SGD && !(o->eps > 0.0f)) || o->weight_decay < 0.0f || o->clip_norm < 0.0f || o->clip_value < 0.0f)
        return et_fail(err, len, ET_ERR_INVALID_ARG, "train config: eps must be > 0; weight decay and clipping >= 0");
    if (o->nesterov && (o->momentum <= 0.0f || o->dampening != 0.0f))
        return et_fail(err, len, ET_ERR_INVALID_ARG, "train config: Nesterov needs momentum > 0 and zero dampening");
    if (cfg->label_smoothing < 0.0f || cfg->label_smoothing >= 1.0f)
        return et_fail(err, len, ET_ERR_INVALID_ARG, "train config: label smoothing %g outside [0, 1)", (double)cfg->label_smoothing);
    if ((unsigned)cfg->bn_mode > ET_BN_FROZEN || (unsigned)cfg->scope > ET_SCOPE_BN_ONLY)
        return et_fail(err, len, ET_ERR_INVALID_ARG, "train config: unknown bn_mode or scope");
    if (cfg->n_group_cuts && !cfg->group_cuts)
        return et_fail(err, len, ET_ERR_INVALID_ARG, "train config: %zu group cuts but group_cuts is NULL", cfg->n_group_cuts);
    if ((cfg->n_group_cuts && !cfg->group_cuts) || cfg->n_group_cuts > ET_MAX_NODES)
        return et_fail(err, len, ET_ERR_INVALID_ARG, "train config: %zu group cuts with %s list", cfg->n_group_cuts, cfg->group_cuts ? "a" : "a NULL");
    if (m->n_outputs != 1) return et_fail(err, len, ET_ERR_UNSUPPORTED, "training needs a model with exactly one output (it has %u)", m->n_outputs);
    return ET_OK;
}

static et_status analyze(const et_model *m, const et_train_config *cfg, tplan *P, char *err, size_t len) {
    memset(P, 0, sizeof *P);
    et_status st = check_cfg(m, cfg, err, len);
    if (st != ET_OK) return st;
    P->n = m->n_nodes;
    P->nv = P->n + 1;
    size_t nb = 3 * (size_t)P->n + 3 * P->nv;
    P->shapes = malloc(P->nv * sizeof *P->shapes);
    P->root = malloc(P->nv * sizeof *P->root);
    P->groot = malloc(P->nv * sizeof *P->groot);
    P->uses = calloc(P->nv, sizeof *P->uses);
    P->group = calloc(P->n, sizeof *P->group);
    P->role = calloc(P->n, 1);
    P->needs_x = calloc(P->n, 1);
    P->folded = calloc(P->n, 1);
    P->has_grad = calloc(P->nv, 1);
    P->act = calloc(P->n, sizeof *P->act);
    P->trained = calloc(P->n, sizeof *P->trained);
    P->bufs = calloc(nb, sizeof *P->bufs);
    P->fuse = calloc(P->n, sizeof *P->fuse);
    P->order = calloc(nb, sizeof *P->order);
    P->recomp = calloc(P->n, 1);
    P->rc_node = calloc(P->nv, sizeof *P->rc_node);
    P->rc_at = calloc(P->nv, sizeof *P->rc_at);
    P->rc_next = calloc(P->nv, sizeof *P->rc_next);
    P->rc_first = calloc(P->n, sizeof *P->rc_first);
    if (!P->shapes || !P->root || !P->groot || !P->uses || !P->group || !P->role || !P->needs_x || !P->folded ||
        !P->has_grad || !P->act || !P->trained || !P->bufs || !P->order || !P->fuse || !P->recomp || !P->rc_node ||
        !P->rc_at || !P->rc_next || !P->rc_first)
        return et_fail(err, len, ET_ERR_NO_MEMORY, "out of memory while planning training");
    if (cfg->threads > 256) return et_fail(err, len, ET_ERR_INVALID_ARG, "threads %zu: at most 256", cfg->threads);
    size_t bn = cfg->batch ? cfg->batch : 1;
    size_t h = cfg->height ? cfg->height : m->in_h, w = cfg->width ? cfg->width : m->in_w;
    if ((st = et_graph_infer(m, bn, h, w, P->shapes, err, len)) != ET_OK) return st;
    if ((st = make_groups(m, cfg, P, err, len)) != ET_OK) return st;
    if ((st = choose_trained(m, cfg, P, err, len)) != ET_OK) return st;
    for (uint32_t v = 0; v < P->nv; v++) P->root[v] = v;
    for (uint32_t i = 0; i < P->n; i++) {
        const et_node *nd = &m->nodes[i];
        for (uint32_t k = 0; k < nd->n_in; k++) P->uses[nd->in[k]]++;
        P->act[i] = nd->op == ET_OP_ACT ? et_act_none() : nd->act;
        P->role[i] = i < P->first ? ROLE_PREFIX : ROLE_SUFFIX;
    }
    for (uint32_t k = 0; k < m->n_outputs; k++) P->uses[m->outputs[k]]++;
    fold_prefix(m, P);
    for (uint32_t i = 0; i < P->n; i++) {
        const et_node *nd = &m->nodes[i];
        int view = nd->op == ET_OP_FLATTEN || nd->op == ET_OP_RESHAPE || (nd->op == ET_OP_DROPOUT && P->role[i] == ROLE_PREFIX);
        if (view) P->root[i + 1] = P->root[nd->in[0]];
        if (P->role[i] == ROLE_SKIP) continue;
        P->needs_x[i] = (uint8_t)(P->role[i] == ROLE_SUFFIX && backward_needs_x(nd, P->trained[i], cfg->bn_mode));
    }
    /* a trailing softmax is left to the cross-entropy loss, which needs logits */
    P->n_exec = P->n;
    P->logits = m->outputs[0];
    const et_node *last = &m->nodes[P->n - 1];
    if (m->outputs[0] == P->n && last->op == ET_OP_SOFTMAX && cfg->loss == ET_LOSS_SOFTMAX_CE && P->first < P->n - 1) {
        P->n_exec = P->n - 1;
        P->logits = last->in[0];
    }
    for (uint32_t i = 0; i < P->n; i++)
        if (m->nodes[i].op == ET_OP_CONCAT) P->concat_slots += m->nodes[i].n_in;
    P->k = et_kernels_for(ET_ISA_AUTO, err, len);
    if (!P->k) return ET_ERR_UNSUPPORTED;
    size_t packed = pack_region(m, P->k, P, &P->scratch);
    packed += scratch_region(m, cfg, P);
    if ((st = plan_memory(m, cfg, P, packed)) != ET_OK) return et_fail(err, len, st, "training buffers overflow size_t");
    P->header_bytes = et_align_up(sizeof(et_trainer)) + et_align_up(P->n * sizeof(tnode)) +
                      et_align_up(P->n_params * sizeof(tparam)) + et_align_up(P->nv * sizeof(et_shape)) +
                      3 * et_align_up(P->nv * sizeof(void *)) + et_align_up(P->nv * sizeof(uint64_t)) + /* data, grad, back, grad_gen */
                      2 * et_align_up(P->concat_slots * sizeof(void *)) +
                      3 * et_align_up(P->n_groups * sizeof(float));
    return ET_OK;
}

static size_t plan_total(const tplan *P) { return ET_ALIGN - 1 + P->header_bytes + P->params_bytes + P->pool; }

et_status et_model_plan_train(const et_model *m, const et_train_config *cfg, et_plan *out) {
    if (!m || !cfg || !out) return ET_ERR_INVALID_ARG;
    tplan P;
    char err[ET_ERR_LEN];
    et_status st = analyze(m, cfg, &P, err, sizeof err);
    if (st == ET_OK) {
        out->total = plan_total(&P);
        out->header = P.header_bytes;
        out->weights = P.params_bytes;
        out->activations = P.pool;
        out->activations_naive = P.naive;
        out->activations_bound = P.bound;
    } else {
        et_model_fail((et_model *)m, st, "%s", err);
    }
    tplan_free(&P);
    return st;
}

static void *take(unsigned char **p, size_t bytes) {
    void *r = *p;
    *p += et_align_up(bytes);
    return r;
}

/* Fold a prefix batchnorm into its producer's arena copies (double math). */
static void fold_into(const et_node *p, const et_node *bn, float *w, float *b) {
    size_t oc = p->out_c, per = p->params[0].count / oc;
    for (size_t o = 0; o < oc; o++) {
        double s = (double)bn->params[0].data[o] / sqrt((double)bn->params[3].data[o] + (double)bn->eps);
        for (size_t j = 0; j < per; j++) w[o * per + j] = (float)((double)w[o * per + j] * s);
        b[o] = (float)(((double)b[o] - (double)bn->params[2].data[o]) * s + (double)bn->params[1].data[o]);
    }
}

static void fill_params(et_trainer *t, const tplan *P, unsigned char **cur) {
    const et_model *m = t->m;
    size_t slots = optim_slots(&t->cfg.optim);
    uint32_t np = 0;
    for (uint32_t i = 0; i < P->n; i++) {
        const et_node *nd = &m->nodes[i];
        tnode *tn = &t->nodes[i];
        for (uint32_t k = 0; k < ET_MAX_PARAMS; k++) tn->p[k] = -1;
        for (uint32_t k = 0; k < nd->n_params; k++) {
            tparam *tp = &t->params[np];
            memset(tp, 0, sizeof *tp);
            tn->p[k] = (int32_t)np++;
            tp->count = nd->params[k].count;
            tp->node = i;
            tp->group = P->group[i];
            tp->trained = P->trained[i][k];
            tp->decay = t->cfg.optim.decay_bn_and_bias || (nd->op != ET_OP_BATCHNORM && k == 0);
            size_t bytes = tp->count * sizeof(float);
            if (tp->trained) {
                tp->w = take(cur, bytes);
                memcpy(tp->w, nd->params[k].data, bytes);
                tp->g = take(cur, bytes);
                memset(tp->g, 0, bytes);
                /* RMSprop: s1 square average, s2 momentum (if any), s3 centered average (if centered) */
                int want[3] = {slots > 0, slots > 1, slots > 2};
                if (t->cfg.optim.kind == ET_OPTIM_RMSPROP)
                    want[1] = t->cfg.optim.momentum > 0.0f, want[2] = t->cfg.optim.centered != 0;
                float **st[3] = {&tp->s1, &tp->s2, &tp->s3};
                for (size_t s = 0; s < 3; s++)
                    if (want[s]) { *st[s] = take(cur, bytes); memset(*st[s], 0, bytes); }
            } else if (P->folded[i]) {
                size_t ob = (size_t)nd->out_c * sizeof(float);
                tp->w = take(cur, k == 0 ? bytes : ob);
                if (tp->count) memcpy(tp->w, nd->params[k].data, k == 0 ? bytes : ob);
                else memset(tp->w, 0, ob); /* a folded batchnorm gives the conv a bias */
                if (k == 1) tp->count = nd->out_c;
            } else {
                tp->w = (float *)nd->params[k].data; /* frozen: read in place, never written */
            }
        }
        if (nd->op == ET_OP_BATCHNORM && P->role[i] == ROLE_SUFFIX) {
            size_t c = nd->params[0].count, b = c * sizeof(float);
            tn->run_mean = take(cur, b); memcpy(tn->run_mean, nd->params[2].data, b);
            tn->run_var = take(cur, b); memcpy(tn->run_var, nd->params[3].data, b);
            tn->save_mean = take(cur, b);
            tn->save_inv_std = take(cur, b);
            tn->run_backup = take(cur, 2 * b);
        }
        if (P->recomp[i]) tn->stats = take(cur, 2 * nd->params[0].count * sizeof(double));
    }
    /* fold after every copy exists: the batchnorm's own params are read in place */
    for (uint32_t i = 0; i < P->first; i++) {
        const et_node *nd = &m->nodes[i];
        if (P->role[i] != ROLE_SKIP || nd->op != ET_OP_BATCHNORM) continue;
        uint32_t v = P->root[i + 1];
        const et_node *p = &m->nodes[v - 1];
        fold_into(p, nd, t->params[t->nodes[v - 1].p[0]].w, t->params[t->nodes[v - 1].p[1]].w);
    }
}

static char fault_node[128];
static float fault_factor;

void et_train_debug_fault(const char *node, float factor) {
    fault_factor = node ? factor : 0.0f;
    snprintf(fault_node, sizeof fault_node, "%s", node ? node : "");
}

et_status et_trainer_prepare(const et_model *m, const et_train_config *cfg, void *arena, size_t arena_bytes,
                             et_trainer **out, size_t *needed) {
    if (out) *out = NULL;
    if (!m || !cfg || !arena || !out) return ET_ERR_INVALID_ARG;
    tplan P;
    char err[ET_ERR_LEN];
    et_status st = analyze(m, cfg, &P, err, sizeof err);
    if (st != ET_OK) { tplan_free(&P); return et_model_fail((et_model *)m, st, "%s", err); }
    size_t total = plan_total(&P);
    if (needed) *needed = total;
    uintptr_t base = ((uintptr_t)arena + (ET_ALIGN - 1)) & ~(uintptr_t)(ET_ALIGN - 1);
    size_t lead = (size_t)(base - (uintptr_t)arena);
    if (arena_bytes < lead || arena_bytes - lead < total - (ET_ALIGN - 1)) {
        tplan_free(&P);
        return et_model_fail((et_model *)m, ET_ERR_ARENA_TOO_SMALL, "training arena of %zu bytes is too small: %zu needed", arena_bytes, total);
    }
    unsigned char *cur = (unsigned char *)base;
    et_trainer *t = take(&cur, sizeof *t);
    memset(t, 0, sizeof *t);
    t->m = m;
    t->cfg = *cfg;
    t->cfg.class_weights = cfg->class_weights; /* caller keeps it alive, as documented for pointers in cfg */
    t->n_nodes = P.n; t->n_values = P.nv; t->first = P.first; t->n_exec = P.n_exec; t->logits = P.logits;
    t->n_groups = P.n_groups; t->n_params = P.n_params;
    t->classes = P.shapes[P.logits].c;
    t->nodes = take(&cur, P.n * sizeof *t->nodes);
    t->params = take(&cur, P.n_params * sizeof *t->params);
    t->shapes = take(&cur, P.nv * sizeof *t->shapes);
    t->data = take(&cur, P.nv * sizeof *t->data);
    t->grad = take(&cur, P.nv * sizeof *t->grad);
    t->back = take(&cur, P.nv * sizeof *t->back);
    t->grad_gen = take(&cur, P.nv * sizeof *t->grad_gen);
    t->concat_ptrs = take(&cur, P.concat_slots * sizeof *t->concat_ptrs);
    t->concat_grads = take(&cur, P.concat_slots * sizeof *t->concat_grads);
    t->group_lr = take(&cur, P.n_groups * sizeof(float));
    t->group_ratio = take(&cur, P.n_groups * sizeof(float));
    t->group_trained = take(&cur, P.n_groups * sizeof(float));
    /* the plan and this layout must agree; stop before writing past the header if they ever do not */
    if ((size_t)(cur - (unsigned char *)base) != P.header_bytes) {
        memset(t, 0, sizeof *t);
        tplan_free(&P);
        return et_model_fail((et_model *)m, ET_ERR_STATE, "internal: training header layout disagrees with its plan");
    }
    memset(t->nodes, 0, P.n * sizeof *t->nodes);
    memset(t->grad_gen, 0, P.nv * sizeof *t->grad_gen);
    fill_params(t, &P, &cur);
    t->k = P.k;
    for (uint32_t i = 0; i < P.n; i++) {
        tnode *tn = &t->nodes[i];
        et_conv_geom g;
        if (P.role[i] == ROLE_SKIP || !et_train_conv_geom(&m->nodes[i], P.shapes[m->nodes[i].in[0]], P.shapes[i + 1], &g)) continue;
        tn->impl = P.k->conv_select(&g);
        size_t pb = tn->impl->pack_bytes(&g);
        tn->packed = pb ? take(&cur, pb) : NULL;
        for (uint32_t k = 0; k < m->nodes[i].n_params; k++) tn->repack |= P.trained[i][k];
        if (pb) tn->impl->pack(&g, t->params[tn->p[0]].w, t->params[tn->p[1]].count ? t->params[tn->p[1]].w : NULL, tn->packed);
    }
    t->threads = train_threads(cfg);
    t->scratch_stride = et_align_up(P.scratch);
    t->scratch = take(&cur, scratch_region(m, cfg, &P));
    if ((size_t)(cur - (unsigned char *)base) != P.header_bytes + P.params_bytes) {
        memset(t, 0, sizeof *t);
        tplan_free(&P);
        return et_model_fail((et_model *)m, ET_ERR_STATE, "internal: training parameter layout disagrees with its plan");
    }
    unsigned char *pool = cur;
    et_buf *B = P.bufs, *G = P.bufs + P.nv, *Z = P.bufs + 2 * P.nv, *DZ = Z + P.n, *MK = DZ + P.n, *RC = MK + P.n;
    for (uint32_t v = 0; v < P.nv; v++) {
        t->shapes[v] = P.shapes[v];
        t->data[v] = (float *)(void *)(pool + B[P.root[v]].offset);
        t->back[v] = P.rc_node[P.root[v]] ? (float *)(void *)(pool + RC[P.root[v]].offset) : t->data[v];
        t->grad[v] = P.has_grad[v] ? (float *)(void *)(pool + G[P.groot[v]].offset) : NULL;
    }
    for (uint32_t i = 0; i < P.n; i++) {
        tnode *tn = &t->nodes[i];
        tn->role = P.role[i];
        tn->needs_x = P.needs_x[i];
        tn->act = P.act[i];
        tn->group = P.group[i];
        tn->fuse_act = P.fuse[i];
        tn->recompute = P.rc_first[i];
        tn->rc_next = P.rc_next[i + 1];
        if (P.fuse[i]) t->nodes[P.fuse[i] - 1].fused = 1;
        if (Z[i].bytes) {
            if (et_act_backward_uses_mask(P.act[i])) tn->zmask = pool + Z[i].offset;
            else tn->z = (float *)(void *)(pool + Z[i].offset);
            tn->dz = (float *)(void *)(pool + DZ[i].offset);
        }
        if (MK[i].bytes) tn->mask = pool + MK[i].offset;
    }
    /* group learning rates: geometric from lr_lo to lr over the trained groups */
    uint32_t k = 0, nt = 0;
    memset(t->group_trained, 0, P.n_groups);
    for (uint32_t p = 0; p < P.n_params; p++)
        if (t->params[p].trained) t->group_trained[t->params[p].group] = 1;
    for (uint32_t g = 0; g < P.n_groups; g++) nt += t->group_trained[g];
    for (uint32_t g = 0; g < P.n_groups; g++) {
        double ratio = 1.0;
        if (t->group_trained[g] && cfg->optim.lr_lo > 0.0f && nt > 1)
            ratio = pow((double)cfg->optim.lr_lo / (double)cfg->optim.lr, (double)(nt - 1 - k) / (double)(nt - 1));
        if (t->group_trained[g]) k++;
        t->group_ratio[g] = (float)ratio;
        t->group_lr[g] = (float)(ratio * cfg->optim.lr);
    }
    t->momentum = cfg->optim.kind == ET_OPTIM_ADAM || cfg->optim.kind == ET_OPTIM_ADAMW ? cfg->optim.beta1 : cfg->optim.momentum;
    for (uint32_t i = 0; fault_factor != 0.0f && i < P.n; i++)
        if (m->nodes[i].name && strcmp(m->nodes[i].name, fault_node) == 0) { t->debug_node = i; t->debug_grad_scale = fault_factor; }
    t->magic = ET_TRAINER_MAGIC;
    tplan_free(&P);
    *out = t;
    return ET_OK;
}
