/* Train-mode batchnorm over a thread pool: the row-block kernels of an
 * et_grad_kernels table, blocks spread over threads, per-block sums added
 * up in block order on the caller, so the bits are the whole-tensor
 * reference's (et_f32_batchnorm_train_stats__ref and its backward) for any
 * thread count. */
#ifndef ET_TRAIN_BN_H
#define ET_TRAIN_BN_H

#include "dispatch.h"
#include "edgetune.h"

typedef struct et_bn_exec {
    const et_grad_kernels *G;
    et_threadpool *pool; /* NULL: the caller alone */
    size_t threads;
    double *scratch;     /* et_bn_scratch_bytes(rows, c), aligned */
} et_bn_exec;

size_t et_bn_scratch_bytes(size_t rows, size_t c);

/* et_f32_batchnorm_train_stats__ref: stats may be NULL; with mask, act is a
 * ReLU/clip run after the batchnorm (y is its output), else act is ignored. */
void et_bn_train_forward(const et_bn_exec *e, size_t rows, size_t c, const float *x, const float *gamma,
                         const float *beta, float eps, float momentum, float *running_mean, float *running_var,
                         float *save_mean, float *save_inv_std, double *stats, et_act act, uint8_t *mask, float *y);
/* et_f32_batchnorm_apply__ref */
void et_bn_train_apply(const et_bn_exec *e, size_t rows, size_t c, const float *x, const float *gamma,
                       const float *beta, const double *stats, et_act act, float *y);
/* et_f32_batchnorm_train_backward_mask__ref (mask NULL: ..._backward__ref
 * with overwrite 0). */
void et_bn_train_backward(const et_bn_exec *e, size_t rows, size_t c, const float *x, const float *gamma,
                          const float *save_mean, const float *save_inv_std, const uint8_t *mask, const float *dy,
                          float *dx, int overwrite, float *dgamma, float *dbeta);

#endif
