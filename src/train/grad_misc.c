/* Backward of concat and softmax, and train-mode dropout (forward with its
 * seeded mask, and backward). The dropout stream is a pure function of
 * (seed, counter, element index): no state, any thread count, resumable. */
#include "train/grad_ops.h"

void et_f32_concat_backward__ref(size_t rows, size_t n, const size_t *cs, const float *dy,
                                 float *const *dxs) {
    for (size_t r = 0; r < rows; r++)
        for (size_t i = 0; i < n; i++) {
            /* A NULL slot is an input that needs no gradient. */
            float *d = dxs[i] ? dxs[i] + r * cs[i] : NULL;
            for (size_t c = 0; c < cs[i]; c++, dy++)
                if (d) d[c] += *dy;
        }
}

void et_f32_softmax_backward__ref(size_t rows, size_t c, const float *y, const float *dy, float *dx) {
    for (size_t r = 0; r < rows; r++) {
        const float *yr = y + r * c, *gr = dy + r * c;
        float *dr = dx + r * c;
        /* dx_i = y_i * (dy_i - sum_j dy_j y_j): the Jacobian diag(y) - y y^T
         * applied without forming it. */
        double dot = 0.0;
        for (size_t i = 0; i < c; i++) dot += (double)gr[i] * (double)yr[i];
        for (size_t i = 0; i < c; i++)
            dr[i] = (float)((double)dr[i] + (double)yr[i] * ((double)gr[i] - dot));
    }
}

/* splitmix64's output function: a bijective mixer whose outputs for
 * consecutive inputs pass statistical tests, which is all a mask needs. */
static uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

#define GOLDEN 0x9e3779b97f4a7c15u

/* Keep bit of element i: a uniform 24-bit number compared with the drop
 * probability. The counter is mixed before the element index is added so
 * that (counter, i) and (counter + 1, i - 1) never share a stream position. */
static int keep_bit(uint64_t base, size_t i, double ratio) {
    uint64_t h = mix64(base + (uint64_t)i * GOLDEN);
    double u = (double)(h >> 40) * (1.0 / 16777216.0); /* [0, 1) */
    return u >= ratio;
}

void et_f32_dropout_train__ref(size_t count, float ratio, uint64_t seed, uint64_t counter,
                               const float *x, uint8_t *mask, float *y) {
    /* ratio >= 1 drops everything (PyTorch returns zeros for p = 1); the
     * scale is then irrelevant and must not be 1/0. */
    const float scale = ratio < 1.0f ? 1.0f / (1.0f - ratio) : 0.0f;
    const uint64_t base = mix64(seed ^ mix64(counter + GOLDEN));
    for (size_t i = 0; i < count; i++) {
        int keep = keep_bit(base, i, (double)ratio);
        /* Whole bytes are written so that stale bits past `count` in the
         * last byte never leak into a later comparison of masks. */
        if (i % 8 == 0) mask[i / 8] = 0;
        if (keep) mask[i / 8] |= (uint8_t)(1u << (i % 8));
        y[i] = keep ? x[i] * scale : 0.0f;
    }
}

void et_f32_dropout_backward__ref(size_t count, float ratio, const uint8_t *mask,
                                  const float *dy, float *dx) {
    const float scale = ratio < 1.0f ? 1.0f / (1.0f - ratio) : 0.0f;
    for (size_t i = 0; i < count; i++)
        if (mask[i / 8] >> (i % 8) & 1u) dx[i] += dy[i] * scale;
}
