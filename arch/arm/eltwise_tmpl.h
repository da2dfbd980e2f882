/* NEON element-wise kernels: fused activations, exp, broadcast add/mul and
 * softmax, as a template included once per ISA (neon64/eltwise.c,
 * neon32/eltwise.c); pooling and batchnorm are in pool_tmpl.h. Semantics
 * are those of src/ops; each kernel is tested against its reference twin. */
#include <math.h>
#include <string.h>
#include "simd.h"
#include "arm.h"

/* y = f(x) over n floats, 4 lanes at a time. The tail goes through the same
 * vector code via a 4-float buffer, so an element's value never depends on
 * where a row starts or ends (bit-identical for any split). */
#define ET_MAP(n, x, y, EXPR)                                                 \
    do {                                                                      \
        size_t i_ = 0;                                                        \
        for (; i_ + 4 <= (n); i_ += 4) {                                      \
            V v = vld1q_f32((x) + i_);                                        \
            vst1q_f32((y) + i_, (EXPR));                                      \
        }                                                                     \
        if (i_ < (n)) {                                                       \
            float t_[4] = {0.0f, 0.0f, 0.0f, 0.0f};                           \
            memcpy(t_, (x) + i_, ((n) - i_) * sizeof(float));                 \
            V v = vld1q_f32(t_);                                              \
            vst1q_f32(t_, (EXPR));                                            \
            memcpy((y) + i_, t_, ((n) - i_) * sizeof(float));                 \
        }                                                                     \
    } while (0)

/* One switch per call, then a tight loop per kind: the kind never changes
 * inside a row. x and y may be the same buffer. */
static void act_row(size_t n, et_act act, const float *x, float *y) {
    const V zero = vdupq_n_f32(0.0f), one = vdupq_n_f32(1.0f);
    switch (act.kind) {
    case ET_ACT_RELU: ET_MAP(n, x, y, vmaxq_f32(v, zero)); return;
    case ET_ACT_CLIP: {
        const V lo = vdupq_n_f32(act.a), hi = vdupq_n_f32(act.b);
        ET_MAP(n, x, y, vminq_f32(vmaxq_f32(v, lo), hi));
        return;
    }
    case ET_ACT_LEAKY_RELU: {
        const V a = vdupq_n_f32(act.a);
        ET_MAP(n, x, y, vbslq_f32(vcltq_f32(v, zero), vmulq_f32(v, a), v));
        return;
    }
    case ET_ACT_SIGMOID: ET_MAP(n, x, y, v_sigmoid(v)); return;
    case ET_ACT_TANH: ET_MAP(n, x, y, v_tanh(v)); return;
    case ET_ACT_SILU: ET_MAP(n, x, y, vmulq_f32(v, v_sigmoid(v))); return;
    case ET_ACT_HARDSWISH: {
        const V three = vdupq_n_f32(3.0f), six = vdupq_n_f32(6.0f);
        /* product first, then the division, as the reference */
        ET_MAP(n, x, y, v_div(vmulq_f32(v, vminq_f32(vmaxq_f32(vaddq_f32(v, three), zero), six)), six));
        return;
    }
    case ET_ACT_HARDSIGMOID: {
        const V a = vdupq_n_f32(act.a), b = vdupq_n_f32(act.b);
        /* multiply and add unfused, as the reference rounds twice */
        ET_MAP(n, x, y, vminq_f32(vmaxq_f32(vaddq_f32(vmulq_f32(v, a), b), zero), one));
        return;
    }
    case ET_ACT_NONE:
    case ET_ACT_COUNT:
    default:
        /* unknown kinds pass values through, like the reference */
        if (x != y) memmove(y, x, n * sizeof(float));
        return;
    }
}

void ET_FN(et_f32_act)(size_t count, et_act act, const float *x, float *y) { act_row(count, act, x, y); }

void ET_FN(et_f32_vexp)(size_t count, const float *x, float *y) { ET_MAP(count, x, y, v_exp(v)); }

/* Broadcast strides: a dim of size 1 is read with stride 0. */
static void bstrides(et_shape s, size_t st[4]) {
    st[3] = s.c == 1 ? 0 : 1;
    st[2] = s.w == 1 ? 0 : s.c;
    st[1] = s.h == 1 ? 0 : s.w * s.c;
    st[0] = s.n == 1 ? 0 : s.h * s.w * s.c;
}

/* z[0..c) = x op y where x and y step by sx, sy in {0, 1}. */
static void binary_row(et_binary_kind kind, size_t c, const float *x, size_t sx, const float *y, size_t sy,
                       float *z) {
    size_t i = 0;
    int mul = kind == ET_BINARY_MUL;
    for (; i + 4 <= c; i += 4) {
        V a = sx ? vld1q_f32(x + i) : vdupq_n_f32(x[0]);
        V b = sy ? vld1q_f32(y + i) : vdupq_n_f32(y[0]);
        vst1q_f32(z + i, mul ? vmulq_f32(a, b) : vaddq_f32(a, b));
    }
    for (; i < c; i++) {
        float a = x[i * sx], b = y[i * sy];
        z[i] = mul ? a * b : a + b;
    }
}

void ET_FN(et_f32_binary)(et_binary_kind kind, et_shape xs, const float *x, et_shape ys, const float *y,
                          et_shape zs, et_act act, float *z) {
    if (xs.n == zs.n && xs.h == zs.h && xs.w == zs.w && xs.c == zs.c &&
        ys.n == zs.n && ys.h == zs.h && ys.w == zs.w && ys.c == zs.c) {
        /* same shapes (residual adds): one flat row */
        size_t count = zs.n * zs.h * zs.w * zs.c;
        binary_row(kind, count, x, 1, y, 1, z);
        act_row(count, act, z, z);
        return;
    }
    size_t sx[4], sy[4];
    bstrides(xs, sx);
    bstrides(ys, sy);
    for (size_t n = 0; n < zs.n; n++)
        for (size_t h = 0; h < zs.h; h++)
            for (size_t w = 0; w < zs.w; w++) {
                binary_row(kind, zs.c, x + n * sx[0] + h * sx[1] + w * sx[2], sx[3],
                           y + n * sy[0] + h * sy[1] + w * sy[2], sy[3], z);
                act_row(zs.c, act, z, z);
                z += zs.c;
            }
}

void ET_FN(et_f32_softmax)(size_t rows, size_t c, const float *x, float *y) {
    for (size_t r = 0; r < rows; r++) {
        const float *xr = x + r * c;
        float *yr = y + r * c;
        if (c == 0) continue;
        /* max first so exp() <= 1; a NaN anywhere becomes the max and makes
         * the whole row NaN, as in the reference */
        size_t i = 0;
        float m = xr[0];
        if (c >= 4) {
            V mv = vld1q_f32(xr);
            for (i = 4; i + 4 <= c; i += 4) mv = vmaxq_f32(mv, vld1q_f32(xr + i));
            m = v_hmax(mv);
        }
        for (; i < c; i++)
            if (xr[i] > m || xr[i] != xr[i]) m = xr[i];
        const V mv = vdupq_n_f32(m);
        V sv = vdupq_n_f32(0.0f);
        for (i = 0; i + 4 <= c; i += 4) {
            V e = v_exp(vsubq_f32(vld1q_f32(xr + i), mv));
            vst1q_f32(yr + i, e);
            sv = vaddq_f32(sv, e);
        }
        float sum = v_hsum(sv);
        if (i < c) {
            float t[4] = {0.0f, 0.0f, 0.0f, 0.0f};
            memcpy(t, xr + i, (c - i) * sizeof(float));
            vst1q_f32(t, v_exp(vsubq_f32(vld1q_f32(t), mv)));
            for (size_t j = 0; j < c - i; j++) { yr[i + j] = t[j]; sum += t[j]; }
        }
        const V inv = vdupq_n_f32(1.0f / sum);
        for (i = 0; i + 4 <= c; i += 4) vst1q_f32(yr + i, vmulq_f32(vld1q_f32(yr + i), inv));
        for (; i < c; i++) yr[i] *= 1.0f / sum;
    }
}
