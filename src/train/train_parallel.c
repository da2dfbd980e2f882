/* The trainer's kernels spread over its thread pool. Every split keeps each
 * output element's arithmetic on one thread in the single-thread order, so
 * trained weights are bit-identical for any thread count. */
#include "parallel.h"
#include "train/trainer.h"

et_status et_trainer_set_threadpool(et_trainer *t, et_threadpool *pool) {
    if (!t || t->magic != ET_TRAINER_MAGIC) return ET_ERR_INVALID_ARG;
    t->pool = pool;
    return ET_OK;
}

typedef struct fwd_job {
    const et_trainer *t;
    const et_conv_impl *ci;
    const et_conv_args *a;
} fwd_job;

static void fwd_units(void *ctx, size_t t0, size_t t1, size_t wk) {
    const fwd_job *j = ctx;
    j->ci->run(j->a, t0, t1, j->t->scratch + wk * j->t->scratch_stride);
}

void et_train_conv_forward(const et_trainer *t, const et_conv_impl *ci, const et_conv_args *a) {
    fwd_job j = {t, ci, a};
    et_parallel_for(t->pool, t->threads, ci->tasks(a->g), fwd_units, &j);
}

/* Input gradients, one sample per unit: a sample's dx depends on its dy only. */
typedef struct dx_job {
    const et_grad_kernels *G;
    const et_conv_geom *g;   /* NULL: linear */
    size_t in, out;          /* linear sizes */
    const float *dy, *w;
    float *dx;
} dx_job;

static void dx_units(void *ctx, size_t t0, size_t t1, size_t wk) {
    const dx_job *j = ctx;
    (void)wk;
    if (!j->g) {
        j->G->linear_input(t1 - t0, j->in, j->out, j->dy + t0 * j->out, j->w, j->dx + t0 * j->in);
        return;
    }
    et_conv_geom g = *j->g;
    g.n = t1 - t0;
    size_t dy_per = j->g->oh * j->g->ow * j->g->oc, dx_per = j->g->ih * j->g->iw * j->g->ic;
    j->G->conv_input(&g, j->dy + t0 * dy_per, j->w, j->dx + t0 * dx_per);
}

void et_train_conv_input(const et_trainer *t, const et_grad_kernels *G, const et_conv_geom *g, const float *dy,
                         const float *w, float *dx) {
    dx_job j = {G, g, 0, 0, dy, w, dx};
    et_parallel_for(t->pool, t->threads, g->n, dx_units, &j);
}

/* Weight gradients, split by the kernel's units of output channels. */
typedef struct dw_job {
    const et_grad_kernels *G;
    const et_conv_geom *g;
    const float *x, *dy;
    float *dw;
} dw_job;

static void dw_units(void *ctx, size_t t0, size_t t1, size_t wk) {
    const dw_job *j = ctx;
    (void)wk;
    j->G->conv_weight_part(j->g, j->x, j->dy, j->dw, t0, t1);
}

void et_train_conv_weight(const et_trainer *t, const et_grad_kernels *G, const et_conv_geom *g, const float *x,
                          const float *dy, float *dw) {
    dw_job j = {G, g, x, dy, dw};
    et_parallel_for(t->pool, t->threads, G->conv_weight_units(g), dw_units, &j);
}

void et_train_linear_input(const et_trainer *t, const et_grad_kernels *G, size_t n, size_t in, size_t out,
                           const float *dy, const float *w, float *dx) {
    dx_job j = {G, NULL, in, out, dy, w, dx};
    et_parallel_for(t->pool, t->threads, n, dx_units, &j);
}

/* Train-mode batchnorm, split by groups of 8 channels (each channel's sums
 * stay on one thread in row order; each mask byte belongs to one group). */
typedef struct bn_job {
    const et_grad_kernels *G;
    int kind; /* 0 forward, 1 recompute, 2 backward */
    size_t rows, c;
    const float *x, *gamma, *beta, *save_mean, *save_inv_std, *dy;
    float eps, momentum;
    float *running_mean, *running_var, *save_mean_out, *save_inv_std_out, *y, *dx, *dgamma, *dbeta;
    double *stats;
    const double *stats_in;
    et_act act;
    uint8_t *mask;
    const uint8_t *mask_in;
    int overwrite;
} bn_job;

static void bn_units(void *ctx, size_t t0, size_t t1, size_t wk) {
    const bn_job *j = ctx;
    size_t cl = t0 * 8, ch = t1 * 8;
    (void)wk;
    if (j->kind == 0)
        j->G->bn_forward_part(j->rows, j->c, cl, ch, j->x, j->gamma, j->beta, j->eps, j->momentum, j->running_mean,
                              j->running_var, j->save_mean_out, j->save_inv_std_out, j->stats, j->act, j->mask, j->y);
    else if (j->kind == 1)
        j->G->bn_apply_part(j->rows, j->c, cl, ch, j->x, j->gamma, j->beta, j->stats_in, j->act, j->y);
    else
        j->G->bn_backward_part(j->rows, j->c, cl, ch, j->x, j->gamma, j->save_mean, j->save_inv_std, j->mask_in, j->dy,
                               j->dx, j->overwrite, j->dgamma, j->dbeta);
}

static int bn_split(const et_trainer *t, size_t c) { return t->pool && t->threads > 1 && c % 8 == 0 && c >= 16; }

void et_train_bn_forward(const et_trainer *t, const et_grad_kernels *G, size_t rows, size_t c, const float *x,
                         const float *gamma, const float *beta, float eps, float momentum, float *running_mean,
                         float *running_var, float *save_mean, float *save_inv_std, double *stats, et_act act,
                         uint8_t *mask, float *y) {
    if (!bn_split(t, c)) {
        G->bn_train_stats(rows, c, x, gamma, beta, eps, momentum, running_mean, running_var, save_mean, save_inv_std,
                          stats, act, mask, y);
        return;
    }
    bn_job j = {0};
    j.G = G; j.kind = 0; j.rows = rows; j.c = c; j.x = x; j.gamma = gamma; j.beta = beta; j.eps = eps;
    j.momentum = momentum; j.running_mean = running_mean; j.running_var = running_var; j.save_mean_out = save_mean;
    j.save_inv_std_out = save_inv_std; j.stats = stats; j.act = act; j.mask = mask; j.y = y;
    et_parallel_for(t->pool, t->threads, c / 8, bn_units, &j);
}

void et_train_bn_apply(const et_trainer *t, const et_grad_kernels *G, size_t rows, size_t c, const float *x,
                       const float *gamma, const float *beta, const double *stats, et_act act, float *y) {
    if (!bn_split(t, c)) {
        G->bn_apply(rows, c, x, gamma, beta, stats, act, y);
        return;
    }
    bn_job j = {0};
    j.G = G; j.kind = 1; j.rows = rows; j.c = c; j.x = x; j.gamma = gamma; j.beta = beta; j.stats_in = stats;
    j.act = act; j.y = y;
    et_parallel_for(t->pool, t->threads, c / 8, bn_units, &j);
}

void et_train_bn_backward(const et_trainer *t, const et_grad_kernels *G, size_t rows, size_t c, const float *x,
                          const float *gamma, const float *save_mean, const float *save_inv_std, const uint8_t *mask,
                          const float *dy, float *dx, int overwrite, float *dgamma, float *dbeta) {
    if (!bn_split(t, c)) {
        if (mask) G->bn_train_backward_mask(rows, c, x, gamma, save_mean, save_inv_std, mask, dy, dx, overwrite, dgamma, dbeta);
        else G->bn_train_backward(rows, c, x, gamma, save_mean, save_inv_std, dy, dx, dgamma, dbeta);
        return;
    }
    bn_job j = {0};
    j.G = G; j.kind = 2; j.rows = rows; j.c = c; j.x = x; j.gamma = gamma; j.save_mean = save_mean;
    j.save_inv_std = save_inv_std; j.mask_in = mask; j.dy = dy; j.dx = dx; j.overwrite = mask ? overwrite : 0;
    j.dgamma = dgamma; j.dbeta = dbeta;
    et_parallel_for(t->pool, t->threads, c / 8, bn_units, &j);
}
