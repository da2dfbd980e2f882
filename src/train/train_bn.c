/* Train-mode batchnorm spread over threads by row blocks (train_bn.h). Each
 * phase is one parallel loop over the blocks; what depends on every row (the
 * statistics, the gradient sums) is added up here, in block order. */
#include <math.h>
#include <string.h>
#include "parallel.h"
#include "train/grad_ops.h"
#include "train/train_bn.h"

size_t et_bn_scratch_bytes(size_t rows, size_t c) {
    return (2 * et_bn_blocks(rows) + 5) * et_bn_pad(c) * sizeof(double);
}

enum { PH_SUMS, PH_SQUARES, PH_OUT, PH_GRAD_SUMS, PH_GRAD_DX };

typedef struct bn_job {
    const et_grad_kernels *G;
    int phase, overwrite;
    size_t rows, c, cp, nb;
    const float *x, *dy;
    const double *coef;
    double *part;        /* [nb][cp] per-block sums (backward: two such) */
    double rn;
    et_act act;
    uint8_t *mask;       /* forward: written */
    const uint8_t *gmask; /* backward: read */
    float *out;
} bn_job;

static void bn_blocks(void *ctx, size_t b0, size_t b1, size_t worker) {
    const bn_job *j = ctx;
    (void)worker;
    for (size_t b = b0; b < b1; b++) {
        size_t r0 = et_bn_block_row(j->rows, b), r1 = et_bn_block_row(j->rows, b + 1);
        double *p = j->part + b * j->cp;
        switch (j->phase) {
        case PH_SUMS: j->G->bn_sums(r0, r1, j->c, j->x, NULL, p); break;
        case PH_SQUARES: j->G->bn_sums(r0, r1, j->c, j->x, j->coef, p); break;
        case PH_OUT: j->G->bn_out(r0, r1, j->c, j->x, j->coef, j->act, j->mask, j->out); break;
        case PH_GRAD_SUMS:
            j->G->bn_grad_sums(r0, r1, j->c, j->x, j->coef, j->gmask, j->dy, p, p + j->nb * j->cp);
            break;
        default: j->G->bn_grad_dx(r0, r1, j->c, j->x, j->coef, j->rn, j->gmask, j->dy, j->overwrite, j->out); break;
        }
    }
}

static void run_phase(const et_bn_exec *e, bn_job *j, int phase) {
    j->phase = phase;
    et_parallel_for(e->pool, e->threads, j->nb, bn_blocks, j);
}

/* sum over blocks of part[b][k], from 0.0 in block order */
static double block_total(const bn_job *j, const double *part, size_t k) {
    double s = 0.0;
    for (size_t b = 0; b < j->nb; b++) s += part[b * j->cp + k];
    return s;
}

static bn_job job_of(const et_bn_exec *e, size_t rows, size_t c, const float *x) {
    bn_job j;
    memset(&j, 0, sizeof j);
    j.G = e->G; j.rows = rows; j.c = c; j.cp = et_bn_pad(c); j.nb = et_bn_blocks(rows);
    j.x = x; j.part = e->scratch; j.act = et_act_none();
    return j;
}

void et_bn_train_forward(const et_bn_exec *e, size_t rows, size_t c, const float *x, const float *gamma,
                         const float *beta, float eps, float momentum, float *running_mean, float *running_var,
                         float *save_mean, float *save_inv_std, double *stats, et_act act, uint8_t *mask, float *y) {
    bn_job j = job_of(e, rows, c, x);
    const size_t cp = j.cp;
    double *mu = e->scratch + j.nb * cp, *is = mu + cp, *ga = is + cp, *be = ga + cp;
    const double m = (double)momentum;
    memset(mu, 0, 4 * cp * sizeof *mu);
    run_phase(e, &j, PH_SUMS);
    for (size_t k = 0; k < c; k++) mu[k] = rows ? block_total(&j, j.part, k) / (double)rows : 0.0;
    /* squared deviations from the mean: accurate when |mean| >> std */
    j.coef = mu;
    run_phase(e, &j, PH_SQUARES);
    for (size_t k = 0; k < c; k++) {
        double ss = block_total(&j, j.part, k);
        is[k] = 1.0 / sqrt((rows ? ss / (double)rows : 0.0) + (double)eps);
        ga[k] = (double)gamma[k];
        be[k] = (double)beta[k];
        save_mean[k] = (float)mu[k];
        save_inv_std[k] = (float)is[k];
        if (stats) { stats[k] = mu[k]; stats[c + k] = is[k]; }
        /* unbiased variance for the running stats; one row leaves them as they are */
        if (rows < 2) continue;
        if (running_mean) running_mean[k] = (float)((1.0 - m) * (double)running_mean[k] + m * mu[k]);
        if (running_var) running_var[k] = (float)((1.0 - m) * (double)running_var[k] + m * ss / (double)(rows - 1));
    }
    j.act = mask ? act : et_act_none();
    j.mask = mask;
    j.out = y;
    run_phase(e, &j, PH_OUT);
    size_t n = rows * c;
    if (mask && n % 8) mask[n / 8] = (uint8_t)(mask[n / 8] & ((1u << (n % 8)) - 1u)); /* as act_mask: no stray bits */
}

void et_bn_train_apply(const et_bn_exec *e, size_t rows, size_t c, const float *x, const float *gamma,
                       const float *beta, const double *stats, et_act act, float *y) {
    bn_job j = job_of(e, rows, c, x);
    const size_t cp = j.cp;
    double *mu = e->scratch, *is = mu + cp, *ga = is + cp, *be = ga + cp;
    memset(mu, 0, 4 * cp * sizeof *mu);
    for (size_t k = 0; k < c; k++) {
        mu[k] = stats[k]; is[k] = stats[c + k];
        ga[k] = (double)gamma[k]; be[k] = (double)beta[k];
    }
    j.coef = mu; j.act = act; j.out = y;
    run_phase(e, &j, PH_OUT);
}

void et_bn_train_backward(const et_bn_exec *e, size_t rows, size_t c, const float *x, const float *gamma,
                          const float *save_mean, const float *save_inv_std, const uint8_t *mask, const float *dy,
                          float *dx, int overwrite, float *dgamma, float *dbeta) {
    if (rows == 0) return;
    bn_job j = job_of(e, rows, c, x);
    const size_t cp = j.cp;
    double *mu = e->scratch + 2 * j.nb * cp, *is = mu + cp, *a = is + cp, *sdyx = a + cp, *sc = sdyx + cp;
    const double rn = 1.0 / (double)rows;
    memset(mu, 0, 5 * cp * sizeof *mu);
    for (size_t k = 0; k < c; k++) { mu[k] = (double)save_mean[k]; is[k] = (double)save_inv_std[k]; }
    /* the two per-channel reductions every dx element depends on */
    j.coef = mu; j.dy = dy; j.gmask = mask;
    run_phase(e, &j, PH_GRAD_SUMS);
    for (size_t k = 0; k < c; k++) {
        double sdy = block_total(&j, j.part, k);
        sdyx[k] = block_total(&j, j.part + j.nb * cp, k);
        if (dbeta) dbeta[k] = (float)((double)dbeta[k] + sdy);
        if (dgamma) dgamma[k] = (float)((double)dgamma[k] + sdyx[k]);
        sc[k] = (double)gamma[k] * is[k];
        a[k] = sdy * rn;
    }
    if (!dx) return;
    j.rn = rn; j.overwrite = overwrite; j.out = dx;
    run_phase(e, &j, PH_GRAD_DX);
}
