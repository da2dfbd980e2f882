/* Reference fully connected layer: y = act(x @ w^T + bias), w row-major
 * [out][in]. No packing or blocking here: arch/ gemm kernels own that. */
#include "ops/ops.h"

void et_f32_linear__ref(size_t n, size_t in, size_t out, const float *x, const float *w,
                        const float *bias, et_act act, float *y) {
    for (size_t r = 0; r < n; r++) {
        for (size_t o = 0; o < out; o++) {
            /* double, like conv2d: one rounding at the end, whatever the order. */
            double acc = bias ? (double)bias[o] : 0.0;
            for (size_t i = 0; i < in; i++)
                acc += (double)x[r * in + i] * (double)w[o * in + i];
            y[r * out + o] = et_act_apply(act, (float)acc);
        }
    }
}
