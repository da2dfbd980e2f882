/* The one dispatch table between the portable core and the kernels: the
 * executor calls ops only through it. SIMD tables from arch/ are selected in
 * dispatch.c (CPUID on x86, build time elsewhere); nothing else in src/ knows them. */
#ifndef ET_DISPATCH_H
#define ET_DISPATCH_H

#include "ops/ops.h"

/* ---------------------------------------------------------------------------
 * Convolution-like ops (conv2d of any geometry, and linear as a 1x1 conv over
 * N x 1 x 1 x in) go through an et_conv_impl chosen per node at prepare time.
 * The contract a kernel set (x86, NEON, ...) must keep:
 *   - pack_bytes(g): bytes of prepacked weights (multiple of ET_ALIGN is not
 *     required; the session aligns each node's block to ET_ALIGN). 0 means the
 *     impl reads the model's weights in place and pack is not called.
 *   - pack(g, w, bias, dst): write the packed form (w in OHWI, bias may be
 *     NULL) into dst, which is ET_ALIGN-aligned and pack_bytes long.
 *   - scratch_bytes(g): bytes of scratch one worker needs during run.
 *   - tasks(g): number of independent work units of one run.
 *   - run(a, t0, t1, scratch): compute units [t0, t1). Every output element
 *     must be produced by the same arithmetic whatever [t0, t1) ranges the
 *     units are split into: this is what makes results bit-identical for any
 *     thread count. run never allocates, prints or fails.
 * --------------------------------------------------------------------------- */
typedef struct et_conv_args {
    const et_conv_geom *g;
    const float *x;
    const void *packed;       /* pack's output, or NULL when pack_bytes is 0 */
    const float *w, *bias;    /* the model's weights (OHWI) and bias (may be NULL) */
    et_act act;
    float *y;
} et_conv_args;

typedef struct et_conv_impl {
    const char *name;         /* kernel name, et_<dtype>_<op>_<tile>__<isa> */
    size_t (*pack_bytes)(const et_conv_geom *g);
    void (*pack)(const et_conv_geom *g, const float *w, const float *bias, void *dst);
    size_t (*scratch_bytes)(const et_conv_geom *g);
    size_t (*tasks)(const et_conv_geom *g);
    void (*run)(const et_conv_args *a, size_t t0, size_t t1, void *scratch);
} et_conv_impl;

/* Instruction-set levels a table is built for (mirrors the public et_isa). */
typedef struct et_kernels {
    const char *isa;
    /* Whole-op kernels with the reference signatures (ops/ops.h). The
     * training code calls these directly. */
    void (*conv2d)(const et_conv_geom *g, const float *x, const float *w, const float *bias, et_act act, float *y);
    void (*linear)(size_t n, size_t in, size_t out, const float *x, const float *w, const float *bias, et_act act, float *y);
    void (*batchnorm)(size_t rows, size_t c, const float *x, const float *gamma, const float *beta,
                      const float *mean, const float *var, float eps, float *y);
    void (*act)(size_t count, et_act act, const float *x, float *y);
    void (*binary)(et_binary_kind kind, et_shape xs, const float *x, et_shape ys, const float *y,
                   et_shape zs, et_act act, float *z);
    void (*concat)(size_t rows, size_t n, const size_t *cs, const float *const *xs, float *y);
    void (*maxpool)(const et_pool_geom *g, const float *x, float *y);
    void (*avgpool)(const et_pool_geom *g, const float *x, float *y);
    void (*global_avgpool)(size_t n, size_t hw, size_t c, const float *x, float *y);
    void (*softmax)(size_t rows, size_t c, const float *x, float *y);
    /* The implementation for one conv geometry; never NULL (a table falls
     * back to the reference impl, et_conv_impl_ref). */
    const et_conv_impl *(*conv_select)(const et_conv_geom *g);
} et_kernels;

/* The reference (generic C) table; always present. */
const et_kernels *et_kernels_generic(void);
/* The best table for this CPU and build (ET_ISA in the environment is not
 * consulted here; see et_kernels_for). */
const et_kernels *et_kernels_best(void);
/* The table for a public et_isa level: ET_ISA_AUTO means the ET_ISA
 * environment variable if set, else the best. NULL (and a message in err)
 * when the level is unknown or this CPU/build cannot run it. */
const et_kernels *et_kernels_for(int isa, char *err, size_t err_len);

/* The reference conv impl: one task, weights read in place, no scratch. */
const et_conv_impl *et_conv_impl_ref(void);

/* ---------------------------------------------------------------------------
 * Backward kernels of the convolution-like ops, for the trainer. Same
 * signatures and semantics as the reference kernels in train/grad_ops.h
 * (gradients are ACCUMULATED, +=; dy is the gradient before the fused
 * activation; w is OHWI; db may be NULL), plus a scratch query:
 *   - scratch_bytes(g): bytes of scratch the kernels need for geometry g.
 *     Every table today returns 0 (the kernels keep their temporaries in
 *     registers and a few KB of stack), so nothing is passed; a future kernel
 *     that needs scratch must first get a scratch argument and the trainer's
 *     plan must count et_grad_scratch_bytes (see below).
 * Kernels are single-threaded and deterministic: the summation order is a
 * function of the geometry alone. They never allocate, print or fail.
 * --------------------------------------------------------------------------- */
typedef struct et_grad_kernels {
    const char *isa;
    void (*conv_input)(const et_conv_geom *g, const float *dy, const float *w, float *dx);
    void (*conv_weight)(const et_conv_geom *g, const float *x, const float *dy, float *dw, float *db);
    void (*linear_input)(size_t n, size_t in, size_t out, const float *dy, const float *w, float *dx);
    void (*linear_weight)(size_t n, size_t in, size_t out, const float *x, const float *dy, float *dw, float *db);
    size_t (*scratch_bytes)(const et_conv_geom *g);
    /* Batchnorm over NHWC rows and activations, same signatures and results
     * as the reference kernels of train/grad_ops.h (the piecewise-linear
     * activations and batchnorm to the bit; sigmoid/tanh/SiLU within 1e-5). */
    void (*bn_frozen_backward)(size_t rows, size_t c, const float *x, const float *gamma, const float *mean,
                               const float *var, float eps, const float *dy, float *dx, float *dgamma, float *dbeta);
    void (*act_backward)(size_t count, et_act act, const float *x, const float *dy, float *dx);
    void (*act_mask)(size_t count, et_act act, const float *z, uint8_t *mask);
    void (*act_backward_mask)(size_t count, et_act act, const uint8_t *mask, const float *dy, float *dx);
    /* act_mask and y = act(x) in one pass, y as the forward table of the
     * same ISA computes it (x may be y); the trainer uses it only when the
     * forward table's isa is this table's. */
    void (*act_forward_mask)(size_t count, et_act act, const float *x, float *y, uint8_t *mask);
    /* conv_weight split for threads: units of output channels (a kernel's
     * own granule); part adds the dw of units [u0, u1) exactly as
     * conv_weight does (db is not touched). */
    size_t (*conv_weight_units)(const et_conv_geom *g);
    void (*conv_weight_part)(const et_conv_geom *g, const float *x, const float *dy, float *dw, size_t u0, size_t u1);
    /* Train-mode batchnorm in row blocks (et_f32_bn_sums__ref and the rest
     * of train/grad_ops.h, to the bit); src/train/train_bn.c runs them over
     * threads. bn_out with a mask is used only with the forward table of
     * the same ISA, as act_forward_mask. */
    void (*bn_sums)(size_t r0, size_t r1, size_t c, const float *x, const double *mu, double *acc);
    void (*bn_out)(size_t r0, size_t r1, size_t c, const float *x, const double *coef, et_act act, uint8_t *mask,
                   float *y);
    void (*bn_grad_sums)(size_t r0, size_t r1, size_t c, const float *x, const double *coef, const uint8_t *mask,
                         const float *dy, double *sdy, double *sdyx);
    void (*bn_grad_dx)(size_t r0, size_t r1, size_t c, const float *x, const double *coef, double rn,
                       const uint8_t *mask, const float *dy, int overwrite, float *dx);
} et_grad_kernels;

/* The backward table that goes with a forward table (same ISA: avx2,
 * avx512, neon64, neon32); the reference table for the generic table, for
 * NULL and for any table without SIMD backward kernels. Never NULL. */
const et_grad_kernels *et_grad_kernels_of(const et_kernels *k);
/* The reference backward table (train/grad_ops.h kernels); always present. */
const et_grad_kernels *et_grad_kernels_generic(void);
/* Scratch bytes the backward kernels of k need for one conv/linear geometry
 * (linear as the 1x1 conv et_train_conv_geom gives). For the trainer's plan
 * to take the maximum over trained nodes; 0 with every table today. */
size_t et_grad_scratch_bytes(const et_kernels *k, const et_conv_geom *g);

#endif
