/* Reference element-wise add/mul with NumPy broadcasting over NHWC and a
 * fused activation. Shape agreement is checked by the graph, not here. */
#include "ops/ops.h"

/* A dim of size 1 broadcasts: its stride is 0, so the same element is read
 * for every output index along that axis. */
static void strides(et_shape s, size_t st[4]) {
    st[3] = s.c == 1 ? 0 : 1;
    st[2] = s.w == 1 ? 0 : s.c;
    st[1] = s.h == 1 ? 0 : s.w * s.c;
    st[0] = s.n == 1 ? 0 : s.h * s.w * s.c;
}

void et_f32_binary__ref(et_binary_kind kind, et_shape xs, const float *x, et_shape ys,
                        const float *y, et_shape zs, et_act act, float *z) {
    size_t sx[4], sy[4];
    strides(xs, sx);
    strides(ys, sy);
    for (size_t n = 0; n < zs.n; n++)
        for (size_t h = 0; h < zs.h; h++)
            for (size_t w = 0; w < zs.w; w++)
                for (size_t c = 0; c < zs.c; c++) {
                    float a = x[n * sx[0] + h * sx[1] + w * sx[2] + c * sx[3]];
                    float b = y[n * sy[0] + h * sy[1] + w * sy[2] + c * sy[3]];
                    float v = kind == ET_BINARY_MUL ? a * b : a + b;
                    *z++ = et_act_apply(act, v);
                }
}
