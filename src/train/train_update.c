/* The end of a step on the trainer's threads: the finiteness check, the
 * optimizer and the gradient zeroing work element by element on chunks of
 * the parameters, repacking goes node by node, so the bits never depend on
 * the thread count. Also the zeroing of large gradient buffers. */
#include <math.h>
#include <stdatomic.h>
#include <string.h>
#include "parallel.h"
#include "train/trainer.h"

#define UPD_CHUNK 16384 /* parameter elements per unit */

enum { UPD_FINITE, UPD_STEP };

typedef struct upd_job {
    et_trainer *t;
    int kind;
    atomic_int bad; /* UPD_FINITE: a chunk held inf or NaN */
} upd_job;

static size_t n_chunks(size_t count) { return (count + UPD_CHUNK - 1) / UPD_CHUNK; }

/* One chunk [off, off + n) of parameter tp. */
static void upd_piece(upd_job *j, tparam *tp, size_t off, size_t n) {
    et_trainer *t = j->t;
    float *g = tp->g + off, *w = tp->w + off;
    if (j->kind == UPD_FINITE) {
        /* a double sum of squared floats cannot overflow: finite iff every element is */
        if (!isfinite(et_grad_sq_norm(n, g))) atomic_store_explicit(&j->bad, 1, memory_order_relaxed);
        return;
    }
    const et_optim_config *o = &t->cfg.optim;
    if (o->clip_value > 0.0f) et_grad_clip_value(n, o->clip_value, g);
    float lr = t->group_lr[tp->group], wd = tp->decay ? o->weight_decay : 0.0f;
    if (o->kind == ET_OPTIM_SGD) {
        et_sgd_hp hp = {lr, t->momentum, o->dampening, wd, o->nesterov};
        et_sgd_update(n, &hp, t->steps == 1, w, g, tp->s1 ? tp->s1 + off : NULL);
    } else if (o->kind == ET_OPTIM_RMSPROP) {
        et_rmsprop_hp hp = {lr, o->beta2, o->eps, wd, t->momentum, o->centered};
        et_rmsprop_update(n, &hp, w, g, tp->s1 + off, tp->s2 ? tp->s2 + off : NULL, tp->s3 ? tp->s3 + off : NULL);
    } else {
        et_adam_hp hp = {lr, t->momentum, o->beta2, o->eps, wd, o->kind == ET_OPTIM_ADAMW};
        et_adam_update(n, &hp, t->steps, w, g, tp->s1 + off, tp->s2 + off);
    }
    memset(g, 0, n * sizeof *g);
}

/* Units are the chunks of the trained parameters, in parameter order. */
static void upd_units(void *ctx, size_t u0, size_t u1, size_t worker) {
    upd_job *j = ctx;
    (void)worker;
    size_t u = 0;
    for (uint32_t p = 0; p < j->t->n_params && u < u1; p++) {
        tparam *tp = &j->t->params[p];
        if (!tp->trained) continue;
        size_t nc = n_chunks(tp->count);
        for (size_t c = u0 > u ? u0 - u : 0; c < nc && u + c < u1; c++) {
            size_t off = c * UPD_CHUNK;
            upd_piece(j, tp, off, tp->count - off < UPD_CHUNK ? tp->count - off : UPD_CHUNK);
        }
        u += nc;
    }
}

static int run_update(et_trainer *t, int kind) {
    upd_job j;
    j.t = t;
    j.kind = kind;
    atomic_init(&j.bad, 0);
    size_t units = 0;
    for (uint32_t p = 0; p < t->n_params; p++)
        if (t->params[p].trained) units += n_chunks(t->params[p].count);
    et_parallel_for(t->pool, t->threads, units, upd_units, &j);
    return atomic_load(&j.bad);
}

int et_train_grads_finite(et_trainer *t) { return !run_update(t, UPD_FINITE); }

static void repack_units(void *ctx, size_t i0, size_t i1, size_t worker) {
    et_trainer *t = ctx;
    (void)worker;
    for (size_t i = i0; i < i1; i++)
        if (t->nodes[t->first + i].repack) et_train_repack_node(t, (uint32_t)(t->first + i));
}

void et_train_repack(et_trainer *t) {
    et_parallel_for(t->pool, t->threads, t->n_nodes - t->first, repack_units, t);
}

void et_train_optimizer_step(et_trainer *t) {
    const et_optim_config *o = &t->cfg.optim;
    if (o->clip_norm > 0.0f) {
        /* one sum over every gradient, in parameter order */
        double sq = 0.0;
        for (uint32_t p = 0; p < t->n_params; p++)
            if (t->params[p].trained) sq += et_grad_sq_norm(t->params[p].count, t->params[p].g);
        double norm = sqrt(sq);
        if (norm > o->clip_norm) {
            float s = (float)(o->clip_norm / (norm + 1e-6));
            for (uint32_t p = 0; p < t->n_params; p++)
                if (t->params[p].trained) et_grad_scale(t->params[p].count, s, t->params[p].g);
        }
    }
    t->steps++;
    run_update(t, UPD_STEP); /* updates, then zeroes each chunk's gradient */
    et_train_repack(t);
}

/* Zeroing (src NULL) or copying in pieces of 64 KiB, each thread its share. */
#define ZERO_PIECE 65536

typedef struct fill_job { unsigned char *p; const unsigned char *src; size_t bytes; } fill_job;

static void fill_units(void *ctx, size_t u0, size_t u1, size_t worker) {
    const fill_job *j = ctx;
    (void)worker;
    size_t a = u0 * ZERO_PIECE, b = u1 * ZERO_PIECE < j->bytes ? u1 * ZERO_PIECE : j->bytes;
    if (j->src) memcpy(j->p + a, j->src + a, b - a);
    else memset(j->p + a, 0, b - a);
}

static void fill(const et_trainer *t, void *p, const void *src, size_t bytes) {
    fill_job j = {p, src, bytes};
    et_parallel_for(t->pool, t->threads, (bytes + ZERO_PIECE - 1) / ZERO_PIECE, fill_units, &j);
}

void et_train_zero_bytes(const et_trainer *t, void *p, size_t bytes) { fill(t, p, NULL, bytes); }

void et_train_copy_bytes(const et_trainer *t, void *dst, const void *src, size_t bytes) { fill(t, dst, src, bytes); }
