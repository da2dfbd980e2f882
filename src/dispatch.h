/* The one dispatch table between the portable core and the kernels: the
 * executor calls ops only through it. Selecting SIMD kernels (arch/) later
 * means filling this table differently; nothing else in src/ changes. */
#ifndef ET_DISPATCH_H
#define ET_DISPATCH_H

#include "ops/ops.h"

typedef struct et_kernels {
    const char *isa;
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
} et_kernels;

/* The reference (generic C) table; always present. */
const et_kernels *et_kernels_generic(void);
/* The best table for this CPU and build. */
const et_kernels *et_kernels_best(void);

#endif
