/* Training execution: forward (frozen prefix as inference, suffix saving
 * what backward needs), loss, backward in reverse down to the first trained
 * node, and the optimizer step. Allocates nothing; every buffer is in the arena. */
#include <math.h>
#include <string.h>
#include "dispatch.h"
#include "train/train_bn.h"
#include "train/trainer.h"

static int live(const et_trainer *t) { return t && t->magic == ET_TRAINER_MAGIC; }

static const float *pw(const et_trainer *t, uint32_t i, uint32_t k) {
    int32_t p = t->nodes[i].p[k];
    return p >= 0 && t->params[p].count ? t->params[p].w : NULL;
}

static float *pg(const et_trainer *t, uint32_t i, uint32_t k) {
    int32_t p = t->nodes[i].p[k];
    return p >= 0 && t->params[p].trained ? t->params[p].g : NULL;
}

/* The value owning v's gradient buffer: trained flatten/reshape outputs
 * share their input's, as the planner lays them out. The buffer's batch
 * generation is kept on the owner, so that a view and its input (each
 * written by other consumers) never zero each other's contributions. */
static uint32_t grad_owner(const et_trainer *t, uint32_t v) {
    while (v > 0 && t->nodes[v - 1].role == ROLE_SUFFIX &&
           (t->m->nodes[v - 1].op == ET_OP_FLATTEN || t->m->nodes[v - 1].op == ET_OP_RESHAPE))
        v = t->m->nodes[v - 1].in[0];
    return v;
}

int et_train_grad_fresh(const et_trainer *t, uint32_t v) {
    return t->grad[v] && t->grad_gen[grad_owner(t, v)] == t->batch_gen;
}

/* Gradient buffer of value v, zeroed on its first use in this batch. */
static float *gradbuf(et_trainer *t, uint32_t v) {
    float *g = t->grad[v];
    uint32_t o = grad_owner(t, v);
    if (g && t->grad_gen[o] != t->batch_gen) {
        et_train_zero_bytes(t, g, et_shape_count(t->shapes[v]) * sizeof(float));
        t->grad_gen[o] = t->batch_gen;
    }
    return g;
}

/* The batchnorm kernels over the trainer's threads, in the conv scratch
 * (the planner sized it for both; they never run at the same time). */
static et_bn_exec bn_exec(const et_trainer *t, const et_grad_kernels *G) {
    et_bn_exec e = {G, t->pool, t->threads, (double *)(void *)t->scratch};
    return e;
}

static et_conv_geom conv_geom(const et_node *nd, et_shape xs, et_shape ys) {
    et_conv_geom g = {xs.n, xs.h, xs.w, xs.c, ys.h, ys.w, ys.c, nd->kh, nd->kw, nd->sh, nd->sw,
                      nd->dh, nd->dw, nd->pad_t, nd->pad_l, nd->groups};
    return g;
}

static et_pool_geom pool_geom(const et_node *nd, et_shape xs, et_shape ys) {
    et_pool_geom g = {xs.n, xs.h, xs.w, xs.c, ys.h, ys.w, nd->kh, nd->kw, nd->sh, nd->sw,
                      nd->pad_t, nd->pad_l, nd->pad_b, nd->pad_r, (int)nd->count_include_pad};
    return g;
}

/* y = act(x) as the forward table computes it, and the bit mask of x. One
 * pass when the backward table is the forward table's ISA. */
static void act_with_mask(const et_kernels *k, const et_grad_kernels *G, et_act act, size_t cnt, const float *x,
                          float *y, uint8_t *mask) {
    if (strcmp(k->isa, G->isa) == 0) { G->act_forward_mask(cnt, act, x, y, mask); return; }
    G->act_mask(cnt, act, x, mask);
    k->act(cnt, act, x, y);
}

/* A batchnorm runs the ReLU/clip after it (plan: tnode.fuse_act) unless an
 * observer wants every value, and when its forward is the forward table's. */
static int fuse_fwd(const et_trainer *t, const et_grad_kernels *G) {
    return !t->probe && !t->unfused && strcmp(t->k->isa, G->isa) == 0;
}

/* Forward of node i. train: suffix nodes save what backward needs. */
static void forward_node(et_trainer *t, uint32_t i, int train, const float **cptr) {
    const et_node *nd = &t->m->nodes[i];
    tnode *tn = &t->nodes[i];
    const et_kernels *k = t->k;
    if (tn->role == ROLE_SKIP) return;
    et_shape xs = t->shapes[nd->in[0]], ys = t->shapes[i + 1];
    const float *x = t->data[nd->in[0]];
    float *y = t->data[i + 1];
    size_t rows = xs.n * xs.h * xs.w, cnt = et_shape_count(ys);
    /* suffix nodes keep the pre-activation (or its bit mask) for backward, then apply the act */
    int split = (tn->z || tn->zmask) && train;
    float *out = split && tn->z ? tn->z : y;
    const et_grad_kernels *G = et_grad_kernels_of(k);
    et_act act = split ? et_act_none() : tn->act;
    switch (nd->op) {
    case ET_OP_CONV2D: case ET_OP_LINEAR: {
        et_conv_geom g;
        et_train_conv_geom(nd, xs, ys, &g);
        et_conv_args a = {&g, x, tn->packed, pw(t, i, 0), pw(t, i, 1), act, out};
        et_train_conv_forward(t, tn->impl, &a);
        break;
    }
    case ET_OP_BATCHNORM:
        if (tn->fuse_act && train && fuse_fwd(t, G)) {
            uint32_t j = tn->fuse_act - 1;
            et_bn_exec e = bn_exec(t, G);
            et_bn_train_forward(&e, rows, xs.c, x, pw(t, i, 0), pw(t, i, 1), nd->eps, 0.1f, tn->run_mean,
                                tn->run_var, tn->save_mean, tn->save_inv_std, tn->stats, t->m->nodes[j].act,
                                t->nodes[j].mask, t->data[j + 1]);
        } else if (tn->role == ROLE_SUFFIX && train && t->cfg.bn_mode == ET_BN_TRAIN) {
            et_bn_exec e = bn_exec(t, G);
            et_bn_train_forward(&e, rows, xs.c, x, pw(t, i, 0), pw(t, i, 1), nd->eps, 0.1f, tn->run_mean,
                                tn->run_var, tn->save_mean, tn->save_inv_std, tn->stats, et_act_none(), NULL, y);
        } else
            k->batchnorm(rows, xs.c, x, pw(t, i, 0), pw(t, i, 1), tn->run_mean ? tn->run_mean : pw(t, i, 2),
                         tn->run_var ? tn->run_var : pw(t, i, 3), nd->eps, y);
        break;
    case ET_OP_ACT:
        if (tn->fused && train && fuse_fwd(t, G)) break; /* its batchnorm did it */
        if (tn->mask && train) act_with_mask(k, G, nd->act, cnt, x, y, tn->mask);
        else k->act(cnt, nd->act, x, y);
        break;
    case ET_OP_ADD: case ET_OP_MUL:
        k->binary(nd->op == ET_OP_ADD ? ET_BINARY_ADD : ET_BINARY_MUL, xs, x, t->shapes[nd->in[1]], t->data[nd->in[1]], ys, act, out);
        break;
    case ET_OP_CONCAT: {
        size_t cs[ET_MAX_INPUTS];
        for (uint32_t j = 0; j < nd->n_in; j++) { cptr[j] = t->data[nd->in[j]]; cs[j] = t->shapes[nd->in[j]].c; }
        k->concat(rows, nd->n_in, cs, cptr, y);
        break;
    }
    case ET_OP_MAXPOOL: { et_pool_geom g = pool_geom(nd, xs, ys); k->maxpool(&g, x, y); break; }
    case ET_OP_AVGPOOL: { et_pool_geom g = pool_geom(nd, xs, ys); k->avgpool(&g, x, y); break; }
    case ET_OP_GLOBAL_AVGPOOL: k->global_avgpool(xs.n, xs.h * xs.w, xs.c, x, y); break;
    case ET_OP_SOFTMAX: k->softmax(rows, xs.c, x, y); break;
    case ET_OP_DROPOUT:
        if (tn->mask && train && !t->dropout_off) et_f32_dropout_train__ref(cnt, nd->ratio, t->cfg.seed, t->dropout_counter++, x, tn->mask, y);
        else if (y != x) memcpy(y, x, cnt * sizeof *y);
        break;
    default: break; /* views */
    }
    if (split && tn->z) k->act(cnt, tn->act, tn->z, y);
    else if (split) act_with_mask(k, G, tn->act, cnt, y, y, tn->zmask); /* y held the pre-activation */
}

static void col_sum(size_t rows, size_t c, const float *dy, float *db) {
    for (size_t j = 0; j < c; j++) {
        double s = 0.0;
        for (size_t r = 0; r < rows; r++) s += (double)dy[r * c + j];
        db[j] += (float)s;
    }
}

/* Tests: the deliberate weight-gradient bug of et_train_debug_fault. */
static void debug_fault(et_trainer *t, uint32_t i) {
    float *gw = pg(t, i, 0);
    if (t->debug_grad_scale != 0.0f && i == t->debug_node && gw)
        et_grad_scale(t->params[t->nodes[i].p[0]].count, t->debug_grad_scale, gw);
}

/* Value v again, into the buffer backward reads it from, by the kernel its
 * forward ran on the same input (kept, or recomputed before it): a
 * depthwise conv's output, or a train-mode batchnorm's (or its fused
 * ReLU/clip's) from the double statistics the forward kept. Bit-exact. */
static void recompute(et_trainer *t, uint32_t v) {
    uint32_t i = v - 1;
    const et_node *nd = &t->m->nodes[i];
    if (nd->op == ET_OP_CONV2D) {
        const tnode *tn = &t->nodes[i];
        et_conv_geom g;
        et_train_conv_geom(nd, t->shapes[nd->in[0]], t->shapes[v], &g);
        et_conv_args a = {&g, t->back[nd->in[0]], tn->packed, pw(t, i, 0), pw(t, i, 1), tn->act, t->back[v]};
        et_train_conv_forward(t, tn->impl, &a);
        return;
    }
    const int fused = nd->op == ET_OP_ACT;
    if (fused) i = nd->in[0] - 1; /* the batchnorm that ran this activation */
    nd = &t->m->nodes[i];
    const tnode *tn = &t->nodes[i];
    const et_grad_kernels *G = et_grad_kernels_of(t->k);
    et_shape xs = t->shapes[nd->in[0]];
    size_t rows = xs.n * xs.h * xs.w;
    const float *z = t->back[nd->in[0]], *gamma = pw(t, i, 0), *beta = pw(t, i, 1);
    float *y = t->back[v];
    et_bn_exec e = bn_exec(t, G);
    if (!fused) {
        et_bn_train_apply(&e, rows, xs.c, z, gamma, beta, tn->stats, et_act_none(), y);
    } else if (fuse_fwd(t, G)) {
        et_bn_train_apply(&e, rows, xs.c, z, gamma, beta, tn->stats, t->m->nodes[v - 1].act, y);
    } else {
        /* the batchnorm, then its activation node as the forward ran them
         * (the mask is rewritten with the bits it holds) */
        et_bn_train_apply(&e, rows, xs.c, z, gamma, beta, tn->stats, et_act_none(), y);
        act_with_mask(t->k, G, t->m->nodes[v - 1].act, rows * xs.c, y, y, t->nodes[v - 1].mask);
    }
}

static void backward_node(et_trainer *t, uint32_t i, float **cgrad) {
    const et_node *nd = &t->m->nodes[i];
    tnode *tn = &t->nodes[i];
    for (uint32_t v = tn->recompute; v; v = t->nodes[v - 1].rc_next) recompute(t, v);
    et_shape xs = t->shapes[nd->in[0]], ys = t->shapes[i + 1];
    const float *x = t->back[nd->in[0]];
    size_t rows = xs.n * xs.h * xs.w, cnt = et_shape_count(ys);
    /* the SIMD twins of the reference backward kernels for t->k's ISA */
    const et_grad_kernels *G = et_grad_kernels_of(t->k);
    /* a batchnorm runs the backward of the ReLU/clip after it (the plan kept
     * that one's gradient and mask alive), observed or not: the plan gives
     * the batchnorm's output no gradient buffer */
    if (tn->fused) return;
    if (tn->fuse_act) {
        uint32_t j = tn->fuse_act - 1, xv = nd->in[0];
        /* a gradient buffer not yet used in this batch is written, not zeroed and added to */
        int fresh = t->grad[xv] && t->grad_gen[xv] != t->batch_gen;
        if (fresh) t->grad_gen[xv] = t->batch_gen;
        et_bn_exec e = bn_exec(t, G);
        et_bn_train_backward(&e, rows, xs.c, x, pw(t, i, 0), tn->save_mean, tn->save_inv_std, t->nodes[j].mask,
                             gradbuf(t, j + 1), t->grad[xv], fresh, pg(t, i, 0), pg(t, i, 1));
        debug_fault(t, i);
        return;
    }
    float *dy = gradbuf(t, i + 1);
    if (!dy) return;
    if (tn->z || tn->zmask) { /* through the fused activation first */
        et_train_zero_bytes(t, tn->dz, cnt * sizeof(float));
        if (tn->zmask) G->act_backward_mask(cnt, tn->act, tn->zmask, dy, tn->dz);
        else G->act_backward(cnt, tn->act, tn->z, dy, tn->dz);
        dy = tn->dz;
    }
    /* conv/linear skip the input gradient when nothing before them trains */
    float *dx = t->grad[nd->in[0]] ? gradbuf(t, nd->in[0]) : NULL;
    switch (nd->op) {
    case ET_OP_CONV2D: {
        et_conv_geom g = conv_geom(nd, xs, ys);
        float *gw = pg(t, i, 0), *gb = pg(t, i, 1);
        if (gw) et_train_conv_weight(t, G, &g, x, dy, gw);
        if (gb) col_sum(ys.n * ys.h * ys.w, ys.c, dy, gb);
        if (dx) et_train_conv_input(t, G, &g, dy, pw(t, i, 0), dx);
        break;
    }
    case ET_OP_LINEAR: {
        float *gw = pg(t, i, 0), *gb = pg(t, i, 1);
        if (gw) G->linear_weight(xs.n, xs.c, ys.c, x, dy, gw, NULL);
        if (gb) col_sum(xs.n, ys.c, dy, gb);
        if (dx) et_train_linear_input(t, G, xs.n, xs.c, ys.c, dy, pw(t, i, 0), dx);
        break;
    }
    case ET_OP_BATCHNORM:
        if (t->cfg.bn_mode == ET_BN_TRAIN) {
            et_bn_exec e = bn_exec(t, G);
            et_bn_train_backward(&e, rows, xs.c, x, pw(t, i, 0), tn->save_mean, tn->save_inv_std, NULL, dy, dx, 0,
                                 pg(t, i, 0), pg(t, i, 1));
        } else
            G->bn_frozen_backward(rows, xs.c, x, pw(t, i, 0), tn->run_mean, tn->run_var, nd->eps, dy, dx, pg(t, i, 0), pg(t, i, 1));
        break;
    case ET_OP_ACT:
        if (tn->mask) G->act_backward_mask(cnt, nd->act, tn->mask, dy, dx);
        else G->act_backward(cnt, nd->act, x, dy, dx);
        break;
    case ET_OP_ADD: case ET_OP_MUL: {
        uint32_t yv = nd->in[1];
        float *dyb = t->grad[yv] ? gradbuf(t, yv) : NULL;
        et_f32_binary_backward__ref(nd->op == ET_OP_ADD ? ET_BINARY_ADD : ET_BINARY_MUL, xs, x, t->shapes[yv], t->back[yv], ys, dy, dx, dyb);
        break;
    }
    case ET_OP_CONCAT: {
        size_t cs[ET_MAX_INPUTS];
        for (uint32_t j = 0; j < nd->n_in; j++) { cs[j] = t->shapes[nd->in[j]].c; cgrad[j] = t->grad[nd->in[j]] ? gradbuf(t, nd->in[j]) : NULL; }
        et_f32_concat_backward__ref(rows, nd->n_in, cs, dy, cgrad);
        break;
    }
    case ET_OP_MAXPOOL: { et_pool_geom g = pool_geom(nd, xs, ys); if (dx) et_f32_maxpool_backward__ref(&g, x, dy, dx); break; }
    case ET_OP_AVGPOOL: { et_pool_geom g = pool_geom(nd, xs, ys); if (dx) et_f32_avgpool_backward__ref(&g, dy, dx); break; }
    case ET_OP_GLOBAL_AVGPOOL: if (dx) et_f32_global_avgpool_backward__ref(xs.n, xs.h * xs.w, xs.c, dy, dx); break;
    case ET_OP_SOFTMAX: if (dx) et_f32_softmax_backward__ref(rows, xs.c, t->back[i + 1], dy, dx); break;
    case ET_OP_DROPOUT:
        if (dx && t->dropout_off) et_grad_accumulate(cnt, dy, dx);
        else if (dx) et_f32_dropout_backward__ref(cnt, nd->ratio, tn->mask, dy, dx);
        break;
    default: break; /* flatten/reshape: the gradient buffer is shared with the input */
    }
    debug_fault(t, i);
}

static double compute_loss(et_trainer *t, const void *targets, float *dlogits, float scale) {
    et_shape s = t->shapes[t->logits];
    size_t n = s.n, c = et_shape_count(s) / s.n;
    const float *lg = t->data[t->logits];
    double loss;
    switch (t->cfg.loss) {
    case ET_LOSS_SOFTMAX_CE: loss = et_loss_softmax_ce(n, c, lg, targets, t->cfg.label_smoothing, t->cfg.class_weights, dlogits); break;
    case ET_LOSS_BCE_LOGITS: loss = et_loss_bce_logits(n, c, lg, targets, dlogits); break;
    case ET_LOSS_MSE: loss = et_loss_mse(n * c, lg, targets, dlogits); break;
    default: loss = et_loss_l1(n * c, lg, targets, dlogits); break;
    }
    if (dlogits && scale != 1.0f) et_grad_scale(n * c, scale, dlogits);
    return loss;
}

static int targets_ok(const et_trainer *t, const void *targets) {
    if (t->cfg.loss != ET_LOSS_SOFTMAX_CE) return 1;
    const int32_t *y = targets;
    et_shape s = t->shapes[t->logits];
    for (size_t i = 0; i < s.n; i++)
        if (y[i] < 0 || (size_t)y[i] >= t->classes) return 0;
    return 1;
}

/* Forward nodes [from, upto); concat pointer slots are counted from node 0. */
static void forward_range(et_trainer *t, uint32_t from, uint32_t upto, int train) {
    const float **cptr = t->concat_ptrs;
    for (uint32_t i = 0; i < upto; i++) {
        if (i >= from) {
            forward_node(t, i, train, cptr);
            if (t->probe && t->nodes[i].role != ROLE_SKIP) t->probe->visit(t->probe->ctx, t, i, 0);
        }
        if (t->m->nodes[i].op == ET_OP_CONCAT) cptr += t->m->nodes[i].n_in;
    }
}

static void backup_running(et_trainer *t, int restore) {
    for (uint32_t i = t->first; i < t->n_nodes; i++) {
        tnode *tn = &t->nodes[i];
        if (!tn->run_backup) continue;
        size_t b = t->m->nodes[i].params[0].count * sizeof(float);
        if (restore) { memcpy(tn->run_mean, tn->run_backup, b); memcpy(tn->run_var, (char *)tn->run_backup + b, b); }
        else { memcpy(tn->run_backup, tn->run_mean, b); memcpy((char *)tn->run_backup + b, tn->run_var, b); }
    }
}

void et_train_zero_grads(et_trainer *t) {
    for (uint32_t p = 0; p < t->n_params; p++)
        if (t->params[p].trained) memset(t->params[p].g, 0, t->params[p].count * sizeof(float));
}

/* Trained conv/linear weights changed: refresh their kernels' packed copies. */
void et_train_repack_node(et_trainer *t, uint32_t i) {
    tnode *tn = &t->nodes[i];
    if (!tn->packed) return;
    const et_node *nd = &t->m->nodes[i];
    et_conv_geom g;
    et_train_conv_geom(nd, t->shapes[nd->in[0]], t->shapes[i + 1], &g);
    tn->impl->pack(&g, pw(t, i, 0), pw(t, i, 1), tn->packed);
}

static void backward_all(et_trainer *t) {
    float *cgrad[ET_MAX_INPUTS];
    for (uint32_t i = t->n_exec; i-- > t->first;)
        if (t->nodes[i].role == ROLE_SUFFIX) {
            backward_node(t, i, cgrad);
            if (t->probe) t->probe->visit(t->probe->ctx, t, i, 1);
        }
}

et_status et_train_probe_pass(et_trainer *t, const void *targets, const float *dlogits, double *loss) {
    if (targets && !targets_ok(t, targets)) return et_fail(t->err, sizeof t->err, ET_ERR_INVALID_ARG, "probe: a class id is outside 0..%zu", t->classes - 1);
    uint64_t draws = t->dropout_counter;
    t->batch_gen++;
    backup_running(t, 0);
    t->unfused = 1; /* callers read every value, and every gradient that has a buffer */
    forward_range(t, 0, t->n_exec, 1);
    float *dl = targets || dlogits ? gradbuf(t, t->logits) : NULL;
    double l = targets ? compute_loss(t, targets, dl, 1.0f) : 0.0;
    if (dlogits && dl) memcpy(dl, dlogits, et_shape_count(t->shapes[t->logits]) * sizeof *dl);
    if (dl) {
        et_train_zero_grads(t);
        backward_all(t);
    }
    t->unfused = 0;
    backup_running(t, 1);
    t->dropout_counter = draws;
    if (loss) *loss = l;
    return ET_OK;
}

et_status et_train_probe_loss(et_trainer *t, const float *x, const void *targets, double *loss) {
    if (!targets_ok(t, targets)) return et_fail(t->err, sizeof t->err, ET_ERR_INVALID_ARG, "probe: a class id is outside 0..%zu", t->classes - 1);
    memcpy(t->data[0], x, et_shape_count(t->shapes[0]) * sizeof *x);
    uint64_t draws = t->dropout_counter;
    backup_running(t, 0);
    forward_range(t, 0, t->n_exec, 1);
    *loss = compute_loss(t, targets, NULL, 1.0f);
    backup_running(t, 1);
    t->dropout_counter = draws;
    return ET_OK;
}

/* One batch whose values before node `from` are already in place. */
et_status et_train_step_from(et_trainer *t, uint32_t from, const void *targets, float *loss) {
    if (!targets_ok(t, targets)) return et_fail(t->err, sizeof t->err, ET_ERR_INVALID_ARG, "step: a class id is outside 0..%zu", t->classes - 1);
    t->batch_gen++;
    backup_running(t, 0);
    forward_range(t, from, t->n_exec, 1);
    size_t accum = t->cfg.accum_steps ? t->cfg.accum_steps : 1;
    float *dl = gradbuf(t, t->logits);
    double l = compute_loss(t, targets, dl, 1.0f / (float)accum);
    if (loss) *loss = (float)l;
    if (!isfinite(l)) {
        backup_running(t, 1);
        return et_fail(t->err, sizeof t->err, ET_ERR_NUMERIC, "step %llu: loss is %g; no weight changed", (unsigned long long)t->steps, l);
    }
    backward_all(t);
    if (!et_train_grads_finite(t)) {
        et_train_zero_grads(t);
        backup_running(t, 1);
        return et_fail(t->err, sizeof t->err, ET_ERR_NUMERIC, "step %llu: non-finite gradient; no weight changed", (unsigned long long)t->steps);
    }
    if (++t->batches % accum == 0) et_train_optimizer_step(t);
    return ET_OK;
}

void et_train_forward_prefix(et_trainer *t) { forward_range(t, 0, t->first, 0); }

et_status et_trainer_step(et_trainer *t, const float *x, const void *targets, float *loss) {
    if (!live(t)) return ET_ERR_INVALID_ARG;
    if (!x || !targets) return et_fail(t->err, sizeof t->err, ET_ERR_INVALID_ARG, "step: NULL input or targets");
    et_train_copy_bytes(t, t->data[0], x, et_shape_count(t->shapes[0]) * sizeof *x);
    return et_train_step_from(t, 0, targets, loss);
}

et_status et_trainer_eval(et_trainer *t, const float *x, const void *targets, float *out, float *loss) {
    if (!live(t)) return ET_ERR_INVALID_ARG;
    if (!x) return et_fail(t->err, sizeof t->err, ET_ERR_INVALID_ARG, "eval: NULL input");
    if (targets && !targets_ok(t, targets)) return et_fail(t->err, sizeof t->err, ET_ERR_INVALID_ARG, "eval: a class id is outside 0..%zu", t->classes - 1);
    memcpy(t->data[0], x, et_shape_count(t->shapes[0]) * sizeof *x);
    forward_range(t, 0, t->n_nodes, 0);
    if (targets && loss) *loss = (float)compute_loss(t, targets, NULL, 1.0f);
    uint32_t o = t->m->outputs[0];
    if (out) memcpy(out, t->data[o], et_shape_count(t->shapes[o]) * sizeof *out);
    return ET_OK;
}

et_status et_trainer_logits(const et_trainer *t, float *out, size_t count) {
    if (!live(t) || !out) return ET_ERR_INVALID_ARG;
    size_t want = et_shape_count(t->shapes[t->logits]);
    if (count != want)
        return et_fail(((et_trainer *)(uintptr_t)t)->err, sizeof t->err, ET_ERR_SHAPE, "logits: %zu floats given, the batch has %zu", count, want);
    memcpy(out, t->data[t->logits], want * sizeof *out);
    return ET_OK;
}

et_status et_trainer_set_lr(et_trainer *t, float lr, float momentum) {
    if (!live(t)) return ET_ERR_INVALID_ARG;
    if (!(lr >= 0.0f) || !isfinite(lr) || !(momentum >= 0.0f && momentum < 1.0f))
        return et_fail(t->err, sizeof t->err, ET_ERR_INVALID_ARG, "set_lr: lr %g, momentum %g", (double)lr, (double)momentum);
    int has_buffer = t->cfg.optim.kind == ET_OPTIM_ADAM || t->cfg.optim.kind == ET_OPTIM_ADAMW || t->cfg.optim.momentum > 0.0f;
    if (momentum > 0.0f && !has_buffer)
        return et_fail(t->err, sizeof t->err, ET_ERR_STATE, "set_lr: momentum %g needs momentum buffers; prepare with optim.momentum > 0", (double)momentum);
    for (uint32_t g = 0; g < t->n_groups; g++) t->group_lr[g] = lr * t->group_ratio[g];
    t->momentum = momentum;
    return ET_OK;
}

size_t et_trainer_group_count(const et_trainer *t) { return live(t) ? t->n_groups : 0; }
uint64_t et_trainer_steps(const et_trainer *t) { return live(t) ? t->steps : 0; }
const char *et_trainer_error(const et_trainer *t) { return live(t) ? t->err : "invalid trainer handle"; }

et_status et_trainer_group(const et_trainer *t, size_t g, const char **first_node, int *trainable, float *lr) {
    if (!live(t)) return ET_ERR_INVALID_ARG;
    if (g >= t->n_groups) return ET_ERR_NOT_FOUND;
    for (uint32_t i = 0; i < t->n_nodes; i++)
        if (t->nodes[i].group == g) { if (first_node) *first_node = t->m->nodes[i].name; break; }
    if (trainable) *trainable = t->group_trained[g];
    if (lr) *lr = t->group_lr[g];
    return ET_OK;
}

et_status et_trainer_export(const et_trainer *t, et_model **out) {
    if (out) *out = NULL;
    if (!live(t) || !out) return ET_ERR_INVALID_ARG;
    et_model *m;
    et_status st = et_model_clone(t->m, &m);
    if (st != ET_OK) return st;
    for (uint32_t i = 0; i < t->n_nodes; i++)
        for (uint32_t k = 0; k < m->nodes[i].n_params; k++) {
            int32_t p = t->nodes[i].p[k];
            if (p >= 0 && t->params[p].trained)
                memcpy((float *)m->nodes[i].params[k].data, t->params[p].w, t->params[p].count * sizeof(float));
        }
    for (uint32_t i = t->first; i < t->n_nodes; i++)
        if (t->nodes[i].run_mean) {
            size_t b = m->nodes[i].params[2].count * sizeof(float);
            memcpy((float *)m->nodes[i].params[2].data, t->nodes[i].run_mean, b);
            memcpy((float *)m->nodes[i].params[3].data, t->nodes[i].run_var, b);
        }
    *out = m;
    return ET_OK;
}
