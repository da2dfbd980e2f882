/* Reference linear backward: x [n][in], w [out][in], dy [n][out]. Plain
 * loops with double accumulators; blocking belongs to the arch/ gemm kernels. */
#include "train/grad_ops.h"

void et_f32_linear_backward_input__ref(size_t n, size_t in, size_t out, const float *dy,
                                       const float *w, float *dx) {
    for (size_t r = 0; r < n; r++)
        for (size_t i = 0; i < in; i++) {
            double acc = 0.0;
            for (size_t o = 0; o < out; o++) acc += (double)dy[r * out + o] * (double)w[o * in + i];
            dx[r * in + i] = (float)((double)dx[r * in + i] + acc);
        }
}

void et_f32_linear_backward_weight__ref(size_t n, size_t in, size_t out, const float *x,
                                        const float *dy, float *dw, float *db) {
    for (size_t o = 0; o < out; o++) {
        if (db) {
            double acc = 0.0;
            for (size_t r = 0; r < n; r++) acc += (double)dy[r * out + o];
            db[o] = (float)((double)db[o] + acc);
        }
        for (size_t i = 0; i < in; i++) {
            double acc = 0.0;
            for (size_t r = 0; r < n; r++) acc += (double)dy[r * out + o] * (double)x[r * in + i];
            dw[o * in + i] = (float)((double)dw[o * in + i] + acc);
        }
    }
}
