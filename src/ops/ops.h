/* Op semantics and reference kernels: plain portable C, no intrinsics, the
 * ground truth every SIMD kernel is tested against. Kernels see flat
 * geometry structs and pointers only, never graphs or nodes.
 * All tensors are NHWC float32, densely packed. */
#ifndef ET_OPS_H
#define ET_OPS_H

#include <stddef.h>
#include "edgetune.h"

/* Scalar activation, the definition every kernel must match. */
float et_act_apply(et_act act, float x);

/* Output size of a sliding window along one axis; 0 when the window does not
 * fit. ceil_mode follows PyTorch: the last window must start inside the input
 * or its leading padding. */
size_t et_window_out(size_t in, size_t k, size_t stride, size_t dil,
                     size_t pad_lo, size_t pad_hi, int ceil_mode);

typedef struct et_conv_geom {
    size_t n, ih, iw, ic;     /* input */
    size_t oh, ow, oc;        /* output */
    size_t kh, kw, sh, sw, dh, dw;
    size_t pad_t, pad_l;      /* bottom/right padding is implied by oh/ow */
    size_t groups;            /* ic and oc are multiples of groups */
} et_conv_geom;

/* Output columns [*lo, *hi) whose every tap lies inside the input width
 * (ox*sw >= pad_l and ox*sw + (kw-1)*dw - pad_l < iw): the SIMD conv
 * kernels run these without border checks. */
static inline void et_conv_interior_cols(const et_conv_geom *g, size_t *lo, size_t *hi) {
    size_t span = (g->kw - 1) * g->dw, a = (g->pad_l + g->sw - 1) / g->sw;
    size_t b = g->iw + g->pad_l > span ? (g->iw + g->pad_l - span - 1) / g->sw + 1 : 0;
    if (b > g->ow) b = g->ow;
    if (a > b) a = b;
    *lo = a;
    *hi = b;
}

/* y = act(conv(x, w) + bias). w: [oc][kh][kw][ic/groups]; bias may be NULL. */
void et_f32_conv2d__ref(const et_conv_geom *g, const float *x, const float *w,
                        const float *bias, et_act act, float *y);

/* y = act(x @ w^T + bias). x: [n][in], w: [out][in], bias may be NULL. */
void et_f32_linear__ref(size_t n, size_t in, size_t out, const float *x, const float *w,
                        const float *bias, et_act act, float *y);

/* Inference batchnorm over the last axis: y = (x - mean) / sqrt(var + eps) * gamma + beta. */
void et_f32_batchnorm__ref(size_t rows, size_t c, const float *x, const float *gamma,
                           const float *beta, const float *mean, const float *var,
                           float eps, float *y);

/* y[i] = act(x[i]); x and y may be the same buffer. */
void et_f32_act__ref(size_t count, et_act act, const float *x, float *y);

typedef enum et_binary_kind { ET_BINARY_ADD, ET_BINARY_MUL } et_binary_kind;

/* z = act(x op y) with NumPy broadcasting over the four NHWC dims: each dim
 * of x and y equals z's or is 1. */
void et_f32_binary__ref(et_binary_kind kind, et_shape xs, const float *x, et_shape ys,
                        const float *y, et_shape zs, et_act act, float *z);

/* Concatenate n inputs along channels. rows = N*H*W; cs[i] channels of input i. */
void et_f32_concat__ref(size_t rows, size_t n, const size_t *cs, const float *const *xs,
                        float *y);

typedef struct et_pool_geom {
    size_t n, ih, iw, c, oh, ow;
    size_t kh, kw, sh, sw;
    size_t pad_t, pad_l, pad_b, pad_r;
    int count_include_pad;    /* avg: divisor counts padding (clipped to the padded input) */
} et_pool_geom;

/* One pooling window along one axis, in padded coordinates (real input is
 * [pad_lo, pad_lo + in)): [lo, hi) clamped to the real input, and `full`,
 * PyTorch's avg-pool divisor factor, clamped only to the padded input. The
 * forward and backward pool kernels share this definition. */
typedef struct et_pool_window {
    size_t lo, hi, full;
} et_pool_window;

static inline et_pool_window et_pool_window_at(size_t o, size_t stride, size_t k, size_t pad_lo,
                                               size_t pad_hi, size_t in) {
    et_pool_window wd;
    size_t start = o * stride;
    size_t end = start + k;
    if (end > in + pad_lo + pad_hi) end = in + pad_lo + pad_hi;
    wd.full = end > start ? end - start : 0;
    wd.lo = start < pad_lo ? pad_lo : start;
    wd.hi = end > pad_lo + in ? pad_lo + in : end;
    if (wd.hi < wd.lo) wd.hi = wd.lo;
    return wd;
}

/* Padding never wins a max: windows see only real input elements. */
void et_f32_maxpool__ref(const et_pool_geom *g, const float *x, float *y);
/* PyTorch semantics for the divisor, including with ceil_mode. */
void et_f32_avgpool__ref(const et_pool_geom *g, const float *x, float *y);
/* y[n][c] = mean over h*w of x[n][h][w][c]. */
void et_f32_global_avgpool__ref(size_t n, size_t hw, size_t c, const float *x, float *y);

/* Numerically stable softmax over the last axis of rows x c. */
void et_f32_softmax__ref(size_t rows, size_t c, const float *x, float *y);

#endif /* ET_OPS_H */
