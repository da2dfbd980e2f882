/* Backward of broadcasting add/mul (et_f32_binary__ref): the gradient of an
 * operand sums dz over the dims along which that operand was broadcast.
 * The fused activation's backward is applied by the caller beforehand. */
#include "train/grad_ops.h"

/* Stride of each NHWC dim, 0 where the dim broadcasts (size 1), as the
 * forward reads its operands. */
static void strides(et_shape s, size_t st[4]) {
    st[3] = s.c == 1 ? 0 : 1;
    st[2] = s.w == 1 ? 0 : s.c;
    st[1] = s.h == 1 ? 0 : s.w * s.c;
    st[0] = s.n == 1 ? 0 : s.h * s.w * s.c;
}

/* dt[t] += sum over every z element that read t of dz * (other operand for
 * MUL, 1 for ADD). Gathered per element of t so each sum is one double
 * reduction: along a dim where t is 1 and z is not, the loop spans z's dim. */
static void reduce_into(et_binary_kind kind, et_shape ts, et_shape os, const float *other,
                        et_shape zs, const float *dz, float *dt) {
    size_t so[4];
    strides(os, so);
    const size_t zd[4] = {zs.n, zs.h, zs.w, zs.c};
    const size_t td[4] = {ts.n, ts.h, ts.w, ts.c};
    size_t lo[4], hi[4];
    for (size_t tn = 0; tn < ts.n; tn++)
        for (size_t th = 0; th < ts.h; th++)
            for (size_t tw = 0; tw < ts.w; tw++)
                for (size_t tc = 0; tc < ts.c; tc++) {
                    const size_t ti[4] = {tn, th, tw, tc};
                    for (int d = 0; d < 4; d++) {
                        int bc = td[d] == 1 && zd[d] != 1;
                        lo[d] = bc ? 0 : ti[d];
                        hi[d] = bc ? zd[d] : ti[d] + 1;
                    }
                    double acc = 0.0;
                    for (size_t n = lo[0]; n < hi[0]; n++)
                        for (size_t h = lo[1]; h < hi[1]; h++)
                            for (size_t w = lo[2]; w < hi[2]; w++)
                                for (size_t c = lo[3]; c < hi[3]; c++) {
                                    double g = (double)dz[((n * zs.h + h) * zs.w + w) * zs.c + c];
                                    if (kind == ET_BINARY_MUL)
                                        g *= (double)other[n * so[0] + h * so[1] + w * so[2] + c * so[3]];
                                    acc += g;
                                }
                    float *p = dt + ((tn * ts.h + th) * ts.w + tw) * ts.c + tc;
                    *p = (float)((double)*p + acc);
                }
}

void et_f32_binary_backward__ref(et_binary_kind kind, et_shape xs, const float *x, et_shape ys,
                                 const float *y, et_shape zs, const float *dz, float *dx, float *dy) {
    /* Same-shape add (residuals): each sum has one term, and a float sum
     * rounded once from double equals the float sum, so a plain float
     * accumulate gives the same bits. */
    int same = xs.n == zs.n && xs.h == zs.h && xs.w == zs.w && xs.c == zs.c &&
               ys.n == zs.n && ys.h == zs.h && ys.w == zs.w && ys.c == zs.c;
    if (kind == ET_BINARY_ADD && same) {
        size_t cnt = zs.n * zs.h * zs.w * zs.c;
        if (dx) et_grad_accumulate(cnt, dz, dx);
        if (dy) et_grad_accumulate(cnt, dz, dy);
        return;
    }
    if (dx) reduce_into(kind, xs, ys, y, zs, dz, dx);
    if (dy) reduce_into(kind, ys, xs, x, zs, dz, dy);
}
