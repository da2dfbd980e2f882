/* Vectorized element-wise and reduction ops (activation, add/mul with the
 * broadcasts CNNs use, global average pool, softmax), a template included
 * once per ISA after simd.h. Shapes other kernels can't handle go to the
 * reference kernels; no conv/GEMM here. */
#include "dispatch.h"
#include "vmath.h"

void ET_FN(et_f32_act)(size_t count, et_act act, const float *x, float *y) {
    size_t i = 0;
    for (; i + VW <= count; i += VW) V_STORE(y + i, v_act(V_LOAD(x + i), act));
    if (i < count) {
        VM m = V_TAIL(count - i);
        V_STOREM(y + i, m, v_act(V_LOADM(x + i, m), act));
    }
}

static inline V bin_op(et_binary_kind k, V a, V b) { return k == ET_BINARY_MUL ? V_MUL(a, b) : V_ADD(a, b); }

/* z = act(x op y) over n elements, y broadcast with period yc (yc = n: none). */
static void bin_rows(et_binary_kind k, size_t rows, size_t c, const float *x, const float *y, size_t ystride,
                     et_act act, float *z) {
    for (size_t r = 0; r < rows; r++, x += c, z += c, y += ystride) {
        size_t i = 0;
        for (; i + VW <= c; i += VW) V_STORE(z + i, v_act(bin_op(k, V_LOAD(x + i), V_LOAD(y + i)), act));
        if (i < c) {
            VM m = V_TAIL(c - i);
            V_STOREM(z + i, m, v_act(bin_op(k, V_LOADM(x + i, m), V_LOADM(y + i, m)), act));
        }
    }
}

static int same(et_shape a, et_shape b) { return a.n == b.n && a.h == b.h && a.w == b.w && a.c == b.c; }

void ET_FN(et_f32_binary)(et_binary_kind kind, et_shape xs, const float *x, et_shape ys, const float *y,
                          et_shape zs, et_act act, float *z) {
    size_t hw = zs.h * zs.w;
    if (same(xs, zs) && same(ys, zs)) {
        bin_rows(kind, 1, (zs.n * zs.h * zs.w * zs.c), x, y, 0, act, z);
        return;
    }
    /* x full, y per (batch, channel): squeeze-excite scaling and bias-like adds */
    if (same(xs, zs) && ys.h == 1 && ys.w == 1 && ys.c == zs.c && (ys.n == zs.n || ys.n == 1)) {
        for (size_t n = 0; n < zs.n; n++)
            bin_rows(kind, hw, zs.c, x + n * hw * zs.c, y + (ys.n == 1 ? 0 : n * zs.c), 0, act, z + n * hw * zs.c);
        return;
    }
    if (kind == ET_BINARY_ADD || ET_BINARY_MUL == kind) {
        /* the op is commutative: swap to reuse the fast paths */
        if (same(ys, zs) && xs.h == 1 && xs.w == 1 && xs.c == zs.c && (xs.n == zs.n || xs.n == 1)) {
            for (size_t n = 0; n < zs.n; n++)
                bin_rows(kind, hw, zs.c, y + n * hw * zs.c, x + (xs.n == 1 ? 0 : n * zs.c), 0, act, z + n * hw * zs.c);
            return;
        }
    }
    et_f32_binary__ref(kind, xs, x, ys, y, zs, act, z);
}

/* Float sums in a fixed order (index ascending per channel): the result does
 * not depend on threads. */
void ET_FN(et_f32_global_avgpool)(size_t n, size_t hw, size_t c, const float *x, float *y) {
    if (hw == 0) {
        et_f32_global_avgpool__ref(n, hw, c, x, y);
        return;
    }
    V inv = V_SET1(1.0f / (float)hw);
    for (size_t b = 0; b < n; b++) {
        const float *xb = x + b * hw * c;
        for (size_t k = 0; k < c; k += VW) {
            VM m = V_TAIL(c - k < VW ? c - k : VW);
            V s0 = V_ZERO(), s1 = V_ZERO();
            size_t i = 0;
            for (; i + 2 <= hw; i += 2) {
                s0 = V_ADD(s0, V_LOADM(xb + i * c + k, m));
                s1 = V_ADD(s1, V_LOADM(xb + (i + 1) * c + k, m));
            }
            if (i < hw) s0 = V_ADD(s0, V_LOADM(xb + i * c + k, m));
            V_STOREM(y + b * c + k, m, V_MUL(V_ADD(s0, s1), inv));
        }
    }
}

void ET_FN(et_f32_softmax)(size_t rows, size_t c, const float *x, float *y) {
    for (size_t r = 0; r < rows; r++, x += c, y += c) {
        if (c == 0) continue;
        /* the max as in the reference: NaN anywhere makes the row NaN */
        float mx = x[0];
        for (size_t i = 1; i < c; i++)
            if (x[i] > mx || x[i] != x[i]) mx = x[i];
        V vm = V_SET1(mx), acc = V_ZERO();
        size_t i = 0;
        for (; i + VW <= c; i += VW) {
            V e = v_exp(V_SUB(V_LOAD(x + i), vm));
            V_STORE(y + i, e);
            acc = V_ADD(acc, e);
        }
        if (i < c) {
            VM m = V_TAIL(c - i);
            V e = v_exp(V_SUB(V_LOADM(x + i, m), vm));
            e = V_BLEND(m, V_ZERO(), e);
            V_STOREM(y + i, m, e);
            acc = V_ADD(acc, e);
        }
        V inv = V_SET1(1.0f / v_hsum(acc));
        for (i = 0; i + VW <= c; i += VW) V_STORE(y + i, V_MUL(V_LOAD(y + i), inv));
        if (i < c) {
            VM m = V_TAIL(c - i);
            V_STOREM(y + i, m, V_MUL(V_LOADM(y + i, m), inv));
        }
    }
}

/* exp over an array: the vector exp on its own, for tests and softmax-like callers. */
void ET_FN(et_f32_exp)(size_t n, const float *x, float *y) {
    size_t i = 0;
    for (; i + VW <= n; i += VW) V_STORE(y + i, v_exp(V_LOAD(x + i)));
    if (i < n) {
        VM m = V_TAIL(n - i);
        V_STOREM(y + i, m, v_exp(V_LOADM(x + i, m)));
    }
}
