/* Training-side reference kernels: backward of every op, train-mode
 * batchnorm, losses and optimizer updates. Plain C, no intrinsics, no graph
 * knowledge, no allocation: buffers come from the caller (the trainer's arena).
 * Gradients are ACCUMULATED into dx/dw/db (+=) so that a value consumed by
 * several nodes and gradient accumulation over batches both work; callers
 * zero them first. Tensors are NHWC float32 like the forward kernels. */
#ifndef ET_GRAD_OPS_H
#define ET_GRAD_OPS_H

#include <stddef.h>
#include <stdint.h>
#include "ops/ops.h"

/* ---- activations ------------------------------------------------------
 * dx += dy * act'(x). x is the activation's INPUT (pre-activation). */
void et_f32_act_backward__ref(size_t count, et_act act, const float *x, const float *dy, float *dx);
/* ReLU, clip (ReLU6) and LeakyReLU need only which branch x took, so the
 * trainer keeps one bit per element instead of x: bit i of mask[i/8] is
 * x[i] on the identity branch (ReLU/LeakyReLU: x > 0; clip: a < x < b).
 * Clip needs no second bit: below and above both give a zero derivative. */
static inline int et_act_backward_uses_mask(et_act act) {
    return act.kind == ET_ACT_RELU || act.kind == ET_ACT_CLIP || act.kind == ET_ACT_LEAKY_RELU;
}
/* Write the mask of z (bits past count in the last byte are 0). */
void et_f32_act_mask__ref(size_t count, et_act act, const float *z, uint8_t *mask);
/* The mask of x and y = et_f32_act__ref(x) (x may be y). */
void et_f32_act_forward_mask__ref(size_t count, et_act act, const float *x, float *y, uint8_t *mask);
/* dx += dy * act'(x) from the mask: the same bits as et_f32_act_backward__ref on x. */
void et_f32_act_backward_mask__ref(size_t count, et_act act, const uint8_t *mask, const float *dy, float *dx);

/* ---- conv2d (same geometry as the forward; w: [oc][kh][kw][ic/groups]) */
/* dx += conv_transpose(dy, w). dy is the gradient of the conv's output
 * BEFORE its fused activation (apply et_f32_act_backward__ref first). */
void et_f32_conv2d_backward_input__ref(const et_conv_geom *g, const float *dy, const float *w, float *dx);
/* dw += sum over batch and positions of x * dy; db += sum of dy (db may be NULL). */
void et_f32_conv2d_backward_weight__ref(const et_conv_geom *g, const float *x, const float *dy,
                                        float *dw, float *db);
/* The dw part for output channels [oc_lo, oc_hi) only (units: channels), for threads. */
size_t et_f32_conv2d_backward_weight_units__ref(const et_conv_geom *g);
void et_f32_conv2d_backward_weight_part__ref(const et_conv_geom *g, const float *x, const float *dy, float *dw,
                                             size_t oc_lo, size_t oc_hi);

/* ---- linear: x [n][in], w [out][in], dy [n][out] ----------------------- */
void et_f32_linear_backward_input__ref(size_t n, size_t in, size_t out, const float *dy,
                                       const float *w, float *dx);
void et_f32_linear_backward_weight__ref(size_t n, size_t in, size_t out, const float *x,
                                        const float *dy, float *dw, float *db);

/* ---- batchnorm over the last axis (rows = N*H*W) ----------------------
 * Train mode forward: batch mean/var (biased var for normalising, unbiased
 * for the running update, as PyTorch), saves mean and inv_std [c] for the
 * backward, and updates running stats: r = (1 - momentum) * r + momentum * batch. */
void et_f32_batchnorm_train__ref(size_t rows, size_t c, const float *x, const float *gamma,
                                 const float *beta, float eps, float momentum,
                                 float *running_mean, float *running_var,
                                 float *save_mean, float *save_inv_std, float *y);
/* The same fused with a ReLU or clip right after it: y is the activation's
 * output and mask its bit mask (et_f32_act_forward_mask__ref). */
void et_f32_batchnorm_train_act__ref(size_t rows, size_t c, const float *x, const float *gamma,
                                     const float *beta, float eps, float momentum, float *running_mean,
                                     float *running_var, float *save_mean, float *save_inv_std, et_act act,
                                     uint8_t *mask, float *y);
/* Either of the two above (act none and mask NULL: the first) that also
 * writes to stats [2c], when not NULL, the double mean [c] and inverse std
 * [c] it normalised with. */
void et_f32_batchnorm_train_stats__ref(size_t rows, size_t c, const float *x, const float *gamma,
                                       const float *beta, float eps, float momentum, float *running_mean,
                                       float *running_var, float *save_mean, float *save_inv_std, double *stats,
                                       et_act act, uint8_t *mask, float *y);
/* Its y again, to the bit, from the same x, gamma, beta, stats and act (no
 * mask, no statistics): training recomputes a batchnorm (+ ReLU/clip)
 * output for backward instead of keeping it alive from the forward. */
void et_f32_batchnorm_apply__ref(size_t rows, size_t c, const float *x, const float *gamma, const float *beta,
                                 const double *stats, et_act act, float *y);
/* Backward of the train-mode forward above: dx += ..., dgamma += ..., dbeta += ...
 * (dgamma/dbeta may be NULL when the affine parameters are frozen). */
void et_f32_batchnorm_train_backward__ref(size_t rows, size_t c, const float *x, const float *gamma,
                                          const float *save_mean, const float *save_inv_std,
                                          const float *dy, float *dx, float *dgamma, float *dbeta);
/* The same fused with the backward of a ReLU or clip right after the
 * batchnorm: dy is the activation's output gradient and mask its bit mask
 * (et_f32_act_mask__ref); the same bits as running
 * et_f32_act_backward_mask__ref into a zeroed buffer and then the above.
 * overwrite: dx is written as if it had been zeroed first (no memset). */
void et_f32_batchnorm_train_backward_mask__ref(size_t rows, size_t c, const float *x, const float *gamma,
                                               const float *save_mean, const float *save_inv_std,
                                               const uint8_t *mask, const float *dy, float *dx, int overwrite,
                                               float *dgamma, float *dbeta);
/* ---- train-mode batchnorm in row blocks --------------------------------
 * The per-channel sums above run over fixed blocks of rows, each from 0.0
 * in row order, then across the blocks in order. The blocks depend on the
 * shape alone, so threads can take blocks and the bits never depend on how
 * many threads there are. Block b is rows [et_bn_block_row(rows, b),
 * et_bn_block_row(rows, b + 1)); its first row is a multiple of 8, so a
 * block owns whole bytes of a bit mask over [rows][c]. */
#define ET_BN_BLOCK_MIN 64   /* rows per block, at least (one block below that) */
#define ET_BN_MAX_BLOCKS 64
size_t et_bn_blocks(size_t rows);
size_t et_bn_block_row(size_t rows, size_t b); /* b = et_bn_blocks(rows): rows */
/* Per-channel coefficient arrays are et_bn_pad(c) doubles long (lanes past
 * c zero), so that SIMD kernels read whole vectors. */
size_t et_bn_pad(size_t c);
/* The pieces, over rows [r0, r1) of x [rows][c]; cp = et_bn_pad(c):
 * - sums: acc[k] = sum of x (mu NULL) or of (x - mu[k])^2;
 * - out: y = (float)(((x - mu) * is) * ga + be) from coef = mu, is, ga, be
 *   [4][cp], then act; with mask, act is a ReLU/clip and mask gets its bits
 *   (bit r * c + k, as et_f32_act_forward_mask__ref);
 * - grad_sums: with d = dy (or, with mask, what a ReLU/clip after the
 *   batchnorm passes back into a zeroed buffer), sdy[k] = sum of d and
 *   sdyx[k] = sum of d * (x - mu) * is, from coef = mu, is [2][cp];
 * - grad_dx: dx = (overwrite ? 0 : dx) + sc * ((d - a) - xhat * sdyx * rn),
 *   xhat = (x - mu) * is, from coef = mu, is, a, sdyx, sc [5][cp].
 * Each element's arithmetic is the whole-tensor reference's above. */
void et_f32_bn_sums__ref(size_t r0, size_t r1, size_t c, const float *x, const double *mu, double *acc);
void et_f32_bn_out__ref(size_t r0, size_t r1, size_t c, const float *x, const double *coef, et_act act,
                        uint8_t *mask, float *y);
void et_f32_bn_grad_sums__ref(size_t r0, size_t r1, size_t c, const float *x, const double *coef,
                              const uint8_t *mask, const float *dy, double *sdy, double *sdyx);
void et_f32_bn_grad_dx__ref(size_t r0, size_t r1, size_t c, const float *x, const double *coef, double rn,
                            const uint8_t *mask, const float *dy, int overwrite, float *dx);

/* Backward with frozen statistics (eval-mode BN): inv_std = 1/sqrt(var + eps). */
void et_f32_batchnorm_frozen_backward__ref(size_t rows, size_t c, const float *x, const float *gamma,
                                           const float *mean, const float *var, float eps,
                                           const float *dy, float *dx, float *dgamma, float *dbeta);

/* ---- element-wise with broadcasting (shapes as in et_f32_binary__ref) --
 * z = x + y: dx += reduce(dz) over the dims where x broadcasts; same for y.
 * z = x * y: dx += reduce(dz * y); dy += reduce(dz * x).
 * dz is the gradient before the fused activation. dx or dy may be NULL. */
void et_f32_binary_backward__ref(et_binary_kind kind, et_shape xs, const float *x, et_shape ys,
                                 const float *y, et_shape zs, const float *dz, float *dx, float *dy);

/* ---- concat: split dy [rows][sum cs] back into dxs[i] [rows][cs[i]] (+=) */
void et_f32_concat_backward__ref(size_t rows, size_t n, const size_t *cs, const float *dy,
                                 float *const *dxs);

/* ---- pools -------------------------------------------------------------
 * Max pool backward routes dy to the first maximal element of each window
 * (ties: lowest index in row-major window order, as PyTorch). */
void et_f32_maxpool_backward__ref(const et_pool_geom *g, const float *x, const float *dy, float *dx);
void et_f32_avgpool_backward__ref(const et_pool_geom *g, const float *dy, float *dx);
void et_f32_global_avgpool_backward__ref(size_t n, size_t hw, size_t c, const float *dy, float *dx);

/* ---- softmax over the last axis: y is the forward OUTPUT --------------- */
void et_f32_softmax_backward__ref(size_t rows, size_t c, const float *y, const float *dy, float *dx);

/* ---- dropout (train mode, inverted scaling 1/(1-p)) ---------------------
 * mask gets one bit per element (bit i of mask[i/8]); the stream is a pure
 * function of (seed, counter) so a resumed run reproduces it. */
void et_f32_dropout_train__ref(size_t count, float ratio, uint64_t seed, uint64_t counter,
                               const float *x, uint8_t *mask, float *y);
void et_f32_dropout_backward__ref(size_t count, float ratio, const uint8_t *mask,
                                  const float *dy, float *dx);

/* ---- losses: value is the MEAN over the batch (PyTorch's default);
 * dlogits is WRITTEN (not accumulated) with d(loss)/d(logits). ---------- */
/* Softmax cross-entropy on logits [n][c] with integer targets; stable for
 * large logits. smoothing in [0,1); class_weight may be NULL. PyTorch
 * semantics: with weights the mean divides by the sum of target weights. */
double et_loss_softmax_ce(size_t n, size_t c, const float *logits, const int32_t *target,
                          float smoothing, const float *class_weight, float *dlogits);
/* BCE with logits, targets in [0,1] [n][c]; mean over n*c; stable. */
double et_loss_bce_logits(size_t n, size_t c, const float *logits, const float *target, float *dlogits);
double et_loss_mse(size_t count, const float *pred, const float *target, float *dpred);
double et_loss_l1(size_t count, const float *pred, const float *target, float *dpred);

/* ---- optimizers: one parameter tensor per call, PyTorch semantics ------
 * step is 1-based (Adam bias correction). State buffers are caller-owned,
 * zero-initialised before the first step. */
typedef struct et_sgd_hp { float lr, momentum, dampening, weight_decay; int nesterov; } et_sgd_hp;
/* buf: momentum buffer [count]; first_step: PyTorch initialises buf = g on step 1. */
void et_sgd_update(size_t count, const et_sgd_hp *hp, int first_step, float *w, const float *g, float *buf);

typedef struct et_adam_hp { float lr, beta1, beta2, eps, weight_decay; int decoupled; /* 1 = AdamW */ } et_adam_hp;
void et_adam_update(size_t count, const et_adam_hp *hp, uint64_t step, float *w, const float *g,
                    float *m, float *v);

typedef struct et_rmsprop_hp { float lr, alpha, eps, weight_decay, momentum; int centered; } et_rmsprop_hp;
/* sq: square average; mom: momentum buffer (used when momentum > 0); gavg: centered average. */
void et_rmsprop_update(size_t count, const et_rmsprop_hp *hp, float *w, const float *g,
                       float *sq, float *mom, float *gavg);

/* Gradient clipping helpers. */
double et_grad_sq_norm(size_t count, const float *g);        /* sum of squares, in double */
void et_grad_scale(size_t count, float s, float *g);
void et_grad_clip_value(size_t count, float limit, float *g);
void et_grad_accumulate(size_t count, const float *dy, float *dx); /* dx += dy */

#endif /* ET_GRAD_OPS_H */
