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

void et_train_conv_forward(const et_trainer *t, const et_conv_impl *ci, const et_conv_args *a) {
    et_parallel_conv(t->pool, t->threads, ci, a, t->scratch, t->scratch_stride);
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
