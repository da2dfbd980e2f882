/* Properties of the reference kernels in src/ops/ that need no fixtures:
 * edge cases of activations, conv identities (groups, depthwise, 1x1,
 * padding, dilation, stride), pooling divisors, broadcasting, concat. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "ops_helpers.h"

static void test_window_out_edges(void) {
    /* Windows that do not fit give 0. */
    CHECK(et_window_out(3, 5, 1, 1, 0, 0, 0) == 0);
    CHECK(et_window_out(3, 5, 1, 1, 0, 0, 1) == 0);
    CHECK(et_window_out(4, 3, 1, 2, 0, 0, 0) == 0); /* dilated extent 5 > 4 */
    CHECK(et_window_out(0, 1, 1, 1, 0, 0, 0) == 0);
    CHECK(et_window_out(1, 2, 1, 1, 0, 0, 0) == 0);
    /* ...unless padding makes room. */
    CHECK(et_window_out(3, 5, 1, 1, 1, 1, 0) == 1);
    CHECK(et_window_out(3, 5, 1, 1, 2, 0, 0) == 1);
    CHECK(et_window_out(5, 3, 1, 2, 0, 0, 0) == 1);
    CHECK(et_window_out(1, 3, 2, 1, 1, 1, 0) == 1);
    CHECK(et_window_out(1, 1, 1, 1, 0, 0, 0) == 1);
    /* Degenerate parameters and overflow give 0 instead of nonsense. */
    CHECK(et_window_out(8, 0, 1, 1, 0, 0, 0) == 0);
    CHECK(et_window_out(8, 3, 0, 1, 0, 0, 0) == 0);
    CHECK(et_window_out(8, 3, 1, 0, 0, 0, 0) == 0);
    CHECK(et_window_out(SIZE_MAX, 1, 1, 1, 1, 0, 0) == 0);
    CHECK(et_window_out(SIZE_MAX - 1, 1, 1, 1, 1, 1, 0) == 0);
    CHECK(et_window_out(10, SIZE_MAX, 1, 2, 0, 0, 0) == 0);
    CHECK(et_window_out(10, SIZE_MAX / 2, 1, 3, 0, 0, 0) == 0);
    /* Floor and ceil. */
    CHECK(et_window_out(8, 3, 2, 1, 0, 0, 0) == 3);
    CHECK(et_window_out(8, 3, 2, 1, 0, 0, 1) == 4);
    CHECK(et_window_out(7, 3, 2, 1, 0, 0, 1) == 3); /* exact: ceil changes nothing */
    CHECK(et_window_out(10, 2, 3, 1, 0, 0, 0) == 3);
    CHECK(et_window_out(10, 2, 3, 1, 0, 0, 1) == 4);
    CHECK(et_window_out(224, 3, 2, 1, 1, 1, 0) == 112);
    CHECK(et_window_out(112, 3, 2, 1, 0, 0, 1) == 56);
    /* PyTorch drops a ceil window starting in the trailing padding:
     * in 5, k 2, s 2, pad 1+1: a naive ceil gives 4, the 4th window starts at
     * padded index 6 = in + pad_lo, past the input. */
    CHECK(et_window_out(5, 2, 2, 1, 1, 1, 1) == 3);
    CHECK(et_window_out(6, 3, 2, 1, 1, 1, 1) == 4);
    CHECK(et_window_out(1, 1, 2, 1, 0, 1, 1) == 1);
    /* Dilation. */
    CHECK(et_window_out(9, 3, 1, 2, 2, 2, 0) == 9);
    CHECK(et_window_out(11, 3, 2, 3, 1, 1, 0) == 4);
}

static void test_act_specials(void) {
    const float inf = INFINITY, nan = NAN;
    et_act sig = mkact(ET_ACT_SIGMOID, 0, 0), th = mkact(ET_ACT_TANH, 0, 0);
    et_act silu = mkact(ET_ACT_SILU, 0, 0), hs = mkact(ET_ACT_HARDSWISH, 0, 0);
    et_act hsig = mkact(ET_ACT_HARDSIGMOID, 1.0f / 6.0f, 0.5f);
    et_act relu = mkact(ET_ACT_RELU, 0, 0), relu6 = mkact(ET_ACT_CLIP, 0, 6);
    et_act leaky = mkact(ET_ACT_LEAKY_RELU, 0.1f, 0), none = mkact(ET_ACT_NONE, 0, 0);

    CHECK(et_act_apply(sig, inf) == 1.0f);
    CHECK(et_act_apply(sig, -inf) == 0.0f);
    CHECK(et_act_apply(sig, 1e30f) == 1.0f);
    CHECK(et_act_apply(sig, -1e30f) == 0.0f);
    CHECK(et_act_apply(sig, 0.0f) == 0.5f);
    CHECK(isnan(et_act_apply(sig, nan)));
    CHECK(et_act_apply(th, inf) == 1.0f);
    CHECK(et_act_apply(th, -inf) == -1.0f);
    CHECK(et_act_apply(th, 1e30f) == 1.0f);
    CHECK(et_act_apply(th, -1e30f) == -1.0f);
    CHECK(isnan(et_act_apply(th, nan)));
    CHECK(et_act_apply(silu, 1e30f) == 1e30f);
    CHECK(et_act_apply(silu, -1e30f) == 0.0f);
    CHECK(et_act_apply(silu, inf) == inf);
    CHECK(isnan(et_act_apply(silu, -inf))); /* -inf * 0, as in PyTorch */
    CHECK(isnan(et_act_apply(silu, nan)));
    CHECK(fabs((double)et_act_apply(hs, 1e30f) - 1e30) <= 1e30 * 1e-6);
    CHECK(et_act_apply(hs, -1e30f) == 0.0f);
    CHECK(et_act_apply(hs, -3.0f) == 0.0f);
    CHECK(et_act_apply(hs, 3.0f) == 3.0f);
    CHECK(isnan(et_act_apply(hs, nan)));
    CHECK(et_act_apply(hsig, inf) == 1.0f);
    CHECK(et_act_apply(hsig, -inf) == 0.0f);
    CHECK(et_act_apply(hsig, 0.0f) == 0.5f);
    CHECK(isnan(et_act_apply(hsig, nan)));
    CHECK(isnan(et_act_apply(relu, nan)));
    CHECK(isnan(et_act_apply(relu6, nan)));
    CHECK(isnan(et_act_apply(leaky, nan)));
    CHECK(isnan(et_act_apply(none, nan)));
    CHECK(et_act_apply(relu, -inf) == 0.0f);
    CHECK(et_act_apply(relu6, inf) == 6.0f);
    CHECK(et_act_apply(leaky, -inf) == -inf);
    CHECK(et_act_apply(leaky, -10.0f) == -1.0f);
    /* Unknown kinds pass the value through rather than crash. */
    CHECK(et_act_apply(mkact(ET_ACT_COUNT, 0, 0), 2.5f) == 2.5f);

    /* sigmoid stays in [0, 1], is monotone, and sigmoid(x) + sigmoid(-x) = 1. */
    float prev = 0.0f;
    for (int i = -2000; i <= 2000; i++) {
        float x = (float)i * 0.05f;
        float s = et_act_apply(sig, x);
        CHECK(s >= 0.0f && s <= 1.0f && s >= prev);
        CHECK(fabs((double)s + (double)et_act_apply(sig, -x) - 1.0) < 1e-6);
        float t = et_act_apply(th, x);
        CHECK(t >= -1.0f && t <= 1.0f);
        prev = s;
    }
}

static void test_act_inplace(void) {
    float x[64], y[64];
    t_fill(x, 64, 7);
    for (int i = 0; i < 64; i++) x[i] *= 8.0f;
    for (int k = 0; k < ET_ACT_COUNT; k++) {
        et_act act = mkact((et_act_kind)k, k == ET_ACT_HARDSIGMOID ? 0.2f : -1.0f,
                           k == ET_ACT_HARDSIGMOID ? 0.5f : 1.0f);
        float z[64];
        et_f32_act__ref(64, act, x, y);
        memcpy(z, x, sizeof z);
        et_f32_act__ref(64, act, z, z);
        CHECK(same_bits(y, z, 64));
    }
}

/* Runs one conv group by hand: slices the input channels, filters and bias of
 * group `gi` and convolves them with groups = 1. */
static void test_conv_groups_equal_per_group(void) {
    enum { N = 2, IH = 6, IW = 5, IC = 6, OC = 9, K = 3, G = 3 };
    float x[N * IH * IW * IC], w[OC * K * K * (IC / G)], b[OC];
    t_fill(x, sizeof x / sizeof x[0], 11);
    t_fill(w, sizeof w / sizeof w[0], 12);
    t_fill(b, OC, 13);
    et_conv_geom g = conv_geom(N, IH, IW, IC, OC, K, K, 2, 1, 1, 2, 1, 2, 1, 2, G);
    CHECK(g.oh > 0 && g.ow > 0);
    float y[N * IH * IW * OC];
    et_f32_conv2d__ref(&g, x, w, b, mkact(ET_ACT_RELU, 0, 0), y);

    enum { ICG = IC / G, OCG = OC / G };
    for (size_t gi = 0; gi < G; gi++) {
        float xs[N * IH * IW * ICG], ys[N * IH * IW * OCG];
        for (size_t p = 0; p < N * IH * IW; p++)
            for (size_t c = 0; c < ICG; c++) xs[p * ICG + c] = x[p * IC + gi * ICG + c];
        const float *ws = w + gi * OCG * K * K * ICG; /* filters of a group are contiguous */
        et_conv_geom g1 = g;
        g1.ic = ICG;
        g1.oc = OCG;
        g1.groups = 1;
        et_f32_conv2d__ref(&g1, xs, ws, b + gi * OCG, mkact(ET_ACT_RELU, 0, 0), ys);
        for (size_t p = 0; p < g.n * g.oh * g.ow; p++)
            for (size_t c = 0; c < OCG; c++)
                CHECK(ys[p * OCG + c] == y[p * OC + gi * OCG + c]);
    }
}

static void test_conv_depthwise_per_channel(void) {
    enum { IH = 7, IW = 6, C = 5, K = 5 };
    float x[IH * IW * C], w[C * K * K], y[IH * IW * C];
    t_fill(x, sizeof x / sizeof x[0], 21);
    t_fill(w, sizeof w / sizeof w[0], 22);
    et_conv_geom g = conv_geom(1, IH, IW, C, C, K, K, 2, 2, 1, 1, 2, 2, 2, 2, C);
    et_f32_conv2d__ref(&g, x, w, NULL, mkact(ET_ACT_NONE, 0, 0), y);
    /* Direct definition, written out independently of the kernel. */
    for (size_t oy = 0; oy < g.oh; oy++)
        for (size_t ox = 0; ox < g.ow; ox++)
            for (size_t c = 0; c < C; c++) {
                double s = 0.0;
                for (int ky = 0; ky < K; ky++)
                    for (int kx = 0; kx < K; kx++) {
                        int iy = (int)oy * 2 - 2 + ky, ix = (int)ox * 2 - 2 + kx;
                        if (iy < 0 || iy >= IH || ix < 0 || ix >= IW) continue;
                        s += (double)x[(iy * IW + ix) * C + (int)c] *
                             (double)w[(c * K + (size_t)ky) * K + (size_t)kx];
                    }
                CHECK(y[(oy * g.ow + ox) * C + c] == (float)s);
            }
}

static void test_conv_1x1_equals_linear(void) {
    enum { N = 2, H = 3, W = 4, IC = 67, OC = 5 };
    float x[N * H * W * IC], w[OC * IC], b[OC], y1[N * H * W * OC], y2[N * H * W * OC];
    t_fill(x, sizeof x / sizeof x[0], 31);
    t_fill(w, sizeof w / sizeof w[0], 32);
    t_fill(b, OC, 33);
    et_conv_geom g = conv_geom(N, H, W, IC, OC, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1);
    et_act act = mkact(ET_ACT_SILU, 0, 0);
    et_f32_conv2d__ref(&g, x, w, b, act, y1);
    et_f32_linear__ref(N * H * W, IC, OC, x, w, b, act, y2);
    CHECK(same_bits(y1, y2, N * H * W * OC));
}

/* Padding must behave exactly like zeros around the input, on all four
 * sides independently. */
static void test_conv_pad_equals_zero_border(void) {
    enum { IH = 5, IW = 6, C = 3, OC = 4, K = 3, PT = 2, PL = 0, PB = 1, PR = 3 };
    enum { PH = IH + PT + PB, PW = IW + PL + PR };
    float x[IH * IW * C], xp[PH * PW * C], w[OC * K * K * C], b[OC];
    float y1[PH * PW * OC], y2[PH * PW * OC];
    t_fill(x, sizeof x / sizeof x[0], 41);
    t_fill(w, sizeof w / sizeof w[0], 42);
    t_fill(b, OC, 43);
    memset(xp, 0, sizeof xp);
    for (size_t r = 0; r < IH; r++)
        memcpy(&xp[((r + PT) * PW + PL) * C], &x[r * IW * C], IW * C * sizeof(float));
    et_conv_geom g1 = conv_geom(1, IH, IW, C, OC, K, K, 2, 1, 1, 1, PT, PL, PB, PR, 1);
    et_conv_geom g2 = conv_geom(1, PH, PW, C, OC, K, K, 2, 1, 1, 1, 0, 0, 0, 0, 1);
    CHECK(g1.oh == g2.oh && g1.ow == g2.ow);
    et_f32_conv2d__ref(&g1, x, w, b, mkact(ET_ACT_NONE, 0, 0), y1);
    et_f32_conv2d__ref(&g2, xp, w, b, mkact(ET_ACT_NONE, 0, 0), y2);
    CHECK(elem_err(y1, y2, g1.oh * g1.ow * OC) <= 1e-7);
}

/* A dilated kernel equals the dense kernel with zeros between its taps. */
static void test_conv_dilation_equals_sparse_kernel(void) {
    enum { IH = 9, IW = 8, C = 2, OC = 3, K = 3, DH = 3, DW = 2 };
    enum { EKH = (K - 1) * DH + 1, EKW = (K - 1) * DW + 1 };
    float x[IH * IW * C], w[OC * K * K * C], we[OC * EKH * EKW * C];
    float y1[IH * IW * OC], y2[IH * IW * OC];
    t_fill(x, sizeof x / sizeof x[0], 51);
    t_fill(w, sizeof w / sizeof w[0], 52);
    memset(we, 0, sizeof we);
    for (size_t o = 0; o < OC; o++)
        for (size_t ky = 0; ky < K; ky++)
            for (size_t kx = 0; kx < K; kx++)
                for (size_t c = 0; c < C; c++)
                    we[((o * EKH + ky * DH) * EKW + kx * DW) * C + c] =
                        w[((o * K + ky) * K + kx) * C + c];
    et_conv_geom g1 = conv_geom(1, IH, IW, C, OC, K, K, 1, 2, DH, DW, 3, 1, 2, 2, 1);
    et_conv_geom g2 = conv_geom(1, IH, IW, C, OC, EKH, EKW, 1, 2, 1, 1, 3, 1, 2, 2, 1);
    CHECK(g1.oh == g2.oh && g1.ow == g2.ow && g1.oh > 0);
    et_f32_conv2d__ref(&g1, x, w, NULL, mkact(ET_ACT_NONE, 0, 0), y1);
    et_f32_conv2d__ref(&g2, x, we, NULL, mkact(ET_ACT_NONE, 0, 0), y2);
    CHECK(elem_err(y1, y2, g1.oh * g1.ow * OC) <= 1e-7);
}

/* Stride s picks every s-th output of the stride-1 convolution. */
static void test_conv_stride_subsamples(void) {
    enum { IH = 9, IW = 10, C = 3, OC = 2, K = 3 };
    float x[IH * IW * C], w[OC * K * K * C], b[OC], y1[IH * IW * OC], y3[IH * IW * OC];
    t_fill(x, sizeof x / sizeof x[0], 61);
    t_fill(w, sizeof w / sizeof w[0], 62);
    t_fill(b, OC, 63);
    et_conv_geom g1 = conv_geom(1, IH, IW, C, OC, K, K, 1, 1, 1, 1, 1, 1, 1, 1, 1);
    et_conv_geom g3 = conv_geom(1, IH, IW, C, OC, K, K, 3, 2, 1, 1, 1, 1, 1, 1, 1);
    et_f32_conv2d__ref(&g1, x, w, b, mkact(ET_ACT_NONE, 0, 0), y1);
    et_f32_conv2d__ref(&g3, x, w, b, mkact(ET_ACT_NONE, 0, 0), y3);
    for (size_t oy = 0; oy < g3.oh; oy++)
        for (size_t ox = 0; ox < g3.ow; ox++)
            for (size_t o = 0; o < OC; o++)
                CHECK(y3[(oy * g3.ow + ox) * OC + o] == y1[(oy * 3 * g1.ow + ox * 2) * OC + o]);
}

static void test_linear_null_bias(void) {
    float x[3 * 7], w[4 * 7], zero[4] = {0}, y1[12], y2[12];
    t_fill(x, 21, 71);
    t_fill(w, 28, 72);
    et_f32_linear__ref(3, 7, 4, x, w, NULL, mkact(ET_ACT_NONE, 0, 0), y1);
    et_f32_linear__ref(3, 7, 4, x, w, zero, mkact(ET_ACT_NONE, 0, 0), y2);
    CHECK(same_bits(y1, y2, 12));
}

static void test_maxpool_padding_never_wins(void) {
    enum { IH = 4, IW = 5, C = 2 };
    float x[IH * IW * C], y[IH * IW * C];
    t_fill(x, sizeof x / sizeof x[0], 81);
    for (size_t i = 0; i < sizeof x / sizeof x[0]; i++) x[i] = -10.0f + x[i]; /* all < 0 */
    et_pool_geom g = pool_geom(1, IH, IW, C, 3, 3, 1, 1, 1, 1, 1, 1, 0, 0);
    et_f32_maxpool__ref(&g, x, y);
    for (size_t i = 0; i < g.oh * g.ow * C; i++) CHECK(y[i] < -8.0f);
    /* The corner window sees exactly the 2x2 real elements at the corner. */
    for (size_t c = 0; c < C; c++) {
        float m = x[c];
        m = fmaxf(m, x[C + c]);
        m = fmaxf(m, x[IW * C + c]);
        m = fmaxf(m, x[(IW + 1) * C + c]);
        CHECK(y[c] == m);
    }
    /* NaN propagates to every window that contains it, and only those. */
    x[(1 * IW + 1) * C] = NAN;
    et_f32_maxpool__ref(&g, x, y);
    for (size_t oy = 0; oy < g.oh; oy++)
        for (size_t ox = 0; ox < g.ow; ox++) {
            int has = oy <= 2 && ox <= 2;
            CHECK((isnan(y[(oy * g.ow + ox) * C]) != 0) == has);
            CHECK(!isnan(y[(oy * g.ow + ox) * C + 1]));
        }
}

static void test_avgpool_divisors(void) {
    /* 6x1 column of ones, k 3x1, stride 2, pad 1 top and bottom, ceil mode:
     * windows cover padded rows [0,3) [2,5) [4,7) and [6,9) cut to [6,8). */
    float x[6], y[8];
    for (int i = 0; i < 6; i++) x[i] = 1.0f;
    et_pool_geom g = pool_geom(1, 6, 1, 1, 3, 1, 2, 1, 1, 0, 1, 0, 1, 1);
    CHECK(g.oh == 4 && g.ow == 1);
    et_f32_avgpool__ref(&g, x, y);
    /* count_include_pad: window 0 has 1 pad + 2 real; the last one is cut at
     * the padded edge (2 rows: 1 real, 1 pad), not at the kernel size. */
    CHECK(fabsf(y[0] - 2.0f / 3.0f) < 1e-7f);
    CHECK(y[1] == 1.0f && y[2] == 1.0f);
    CHECK(y[3] == 0.5f);
    g.count_include_pad = 0;
    et_f32_avgpool__ref(&g, x, y);
    for (int i = 0; i < 4; i++) CHECK(y[i] == 1.0f);

    /* 2-D: ones with pad 1, k 3, stride 1: interior 1, edges 6/9, corners 4/9. */
    float x2[16], y2[16];
    for (int i = 0; i < 16; i++) x2[i] = 1.0f;
    et_pool_geom g2 = pool_geom(1, 4, 4, 1, 3, 3, 1, 1, 1, 1, 1, 1, 0, 1);
    et_f32_avgpool__ref(&g2, x2, y2);
    CHECK(fabsf(y2[0] - 4.0f / 9.0f) < 1e-7f);
    CHECK(fabsf(y2[1] - 6.0f / 9.0f) < 1e-7f);
    CHECK(y2[5] == 1.0f);
}

static void test_global_avgpool_equals_full_window(void) {
    enum { N = 2, H = 3, W = 5, C = 4 };
    float x[N * H * W * C], y1[N * C], y2[N * C];
    t_fill(x, sizeof x / sizeof x[0], 91);
    et_f32_global_avgpool__ref(N, H * W, C, x, y1);
    et_pool_geom g = pool_geom(N, H, W, C, H, W, 1, 1, 0, 0, 0, 0, 0, 0);
    CHECK(g.oh == 1 && g.ow == 1);
    et_f32_avgpool__ref(&g, x, y2);
    CHECK(same_bits(y1, y2, N * C));
    float z;
    et_f32_global_avgpool__ref(1, 0, 1, x, &z);
    CHECK(isnan(z));
}

static void test_binary_broadcast_equals_expanded(void) {
    enum { N = 2, H = 3, W = 4, C = 5 };
    float x[N * W], y[H * C], xe[N * H * W * C], ye[N * H * W * C];
    float z1[N * H * W * C], z2[N * H * W * C], z3[N * H * W * C];
    t_fill(x, sizeof x / sizeof x[0], 101);
    t_fill(y, sizeof y / sizeof y[0], 102);
    for (size_t n = 0; n < N; n++)
        for (size_t h = 0; h < H; h++)
            for (size_t w = 0; w < W; w++)
                for (size_t c = 0; c < C; c++) {
                    size_t i = ((n * H + h) * W + w) * C + c;
                    xe[i] = x[n * W + w]; /* x is N x 1 x W x 1 */
                    ye[i] = y[h * C + c]; /* y is 1 x H x 1 x C */
                }
    et_shape xs = mkshape(N, 1, W, 1), ys = mkshape(1, H, 1, C), zs = mkshape(N, H, W, C);
    for (int k = 0; k < 2; k++) {
        et_binary_kind kind = k ? ET_BINARY_MUL : ET_BINARY_ADD;
        et_act act = mkact(ET_ACT_LEAKY_RELU, 0.25f, 0);
        et_f32_binary__ref(kind, xs, x, ys, y, zs, act, z1);
        et_f32_binary__ref(kind, zs, xe, zs, ye, zs, act, z2);
        et_f32_binary__ref(kind, ys, y, xs, x, zs, act, z3); /* commutes */
        CHECK(same_bits(z1, z2, N * H * W * C));
        CHECK(same_bits(z1, z3, N * H * W * C));
        for (size_t i = 0; i < N * H * W * C; i++)
            CHECK(z2[i] == et_act_apply(act, k ? xe[i] * ye[i] : xe[i] + ye[i]));
    }
}

static void test_concat_splits_back(void) {
    enum { R = 6 };
    float a[R * 1], b[R * 3], c[R * 2], y[R * 6];
    t_fill(a, R, 111);
    t_fill(b, R * 3, 112);
    t_fill(c, R * 2, 113);
    const size_t cs[3] = {1, 3, 2};
    const float *const xs[3] = {a, b, c};
    et_f32_concat__ref(R, 3, cs, xs, y);
    for (size_t r = 0; r < R; r++) {
        CHECK(y[r * 6] == a[r]);
        for (size_t k = 0; k < 3; k++) CHECK(y[r * 6 + 1 + k] == b[r * 3 + k]);
        for (size_t k = 0; k < 2; k++) CHECK(y[r * 6 + 4 + k] == c[r * 2 + k]);
    }
}

static void test_batchnorm_identity(void) {
    enum { R = 5, C = 3 };
    float x[R * C], y[R * C], gamma[C], beta[C], mean[C], var[C] = {0.5f, 2.0f, 0.01f};
    const float eps = 1e-3f;
    t_fill(x, R * C, 121);
    t_fill(mean, C, 122);
    for (size_t c = 0; c < C; c++) {
        gamma[c] = (float)sqrt((double)var[c] + (double)eps);
        beta[c] = mean[c];
    }
    et_f32_batchnorm__ref(R, C, x, gamma, beta, mean, var, eps, y);
    CHECK(elem_err(y, x, R * C) <= 1e-6);
}

static void test_softmax_properties(void) {
    enum { R = 4, C = 9 };
    float x[R * C], xs[R * C], y[R * C], ys[R * C];
    t_fill(x, R * C, 131);
    for (size_t i = 0; i < R * C; i++) {
        x[i] *= 20.0f;
        xs[i] = x[i] + 1000.0f;
    }
    et_f32_softmax__ref(R, C, x, y);
    et_f32_softmax__ref(R, C, xs, ys);
    for (size_t r = 0; r < R; r++) {
        double s = 0.0;
        for (size_t c = 0; c < C; c++) s += y[r * C + c];
        CHECK(fabs(s - 1.0) < 1e-6);
    }
    /* Shift invariance up to the rounding of x + 1000 in float. */
    CHECK(elem_err(y, ys, R * C) <= 1e-4);

    float big[6] = {1000.0f, -1000.0f, 0.0f, -INFINITY, 5.0f, NAN};
    float out[6];
    et_f32_softmax__ref(3, 2, big, out);
    CHECK(out[0] == 1.0f && out[1] == 0.0f);
    CHECK(out[2] == 1.0f && out[3] == 0.0f);
    CHECK(isnan(out[4]) && isnan(out[5]));
    float one = 123.0f, o;
    et_f32_softmax__ref(1, 1, &one, &o);
    CHECK(o == 1.0f);
}

int main(void) {
    RUN(test_window_out_edges);
    RUN(test_act_specials);
    RUN(test_act_inplace);
    RUN(test_conv_groups_equal_per_group);
    RUN(test_conv_depthwise_per_channel);
    RUN(test_conv_1x1_equals_linear);
    RUN(test_conv_pad_equals_zero_border);
    RUN(test_conv_dilation_equals_sparse_kernel);
    RUN(test_conv_stride_subsamples);
    RUN(test_linear_null_bias);
    RUN(test_maxpool_padding_never_wins);
    RUN(test_avgpool_divisors);
    RUN(test_global_avgpool_equals_full_window);
    RUN(test_binary_broadcast_equals_expanded);
    RUN(test_concat_splits_back);
    RUN(test_batchnorm_identity);
    RUN(test_softmax_properties);
    return t_summary(__FILE__);
}
