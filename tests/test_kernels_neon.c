/* Randomized tests of the NEON kernels (arch/arm/) against their reference
 * twins on shapes with tails (C 1..67, H and W 1..33; few-channel convs up
 * to 60x60, batchnorm up to 300 channels), conv operands before guard pages.
 * Built everywhere; on a build without NEON it is one skipped test, under
 * make test-cross it runs. The backward kernels are in tests/test_grad_neon.c. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS for the guard pages */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "edgetune.h"
#include "dispatch.h"
#include "guard.h"
#include "harness.h"

#if defined(ET_HAVE_NEON64) || defined(ET_HAVE_NEON32)
#include "../arch/arm/arm.h"
#if defined(ET_HAVE_NEON64)
#define K_(name) name##__neon64
#define ISA "neon64"
#else
#define K_(name) name##__neon32
#define ISA "neon32"
#endif

static unsigned seed = 12345;
static size_t rnd(size_t lo, size_t hi) { return lo + t_rand(&seed) % (hi - lo + 1); }
/* Cases per test; ET_TEST_SCALE (percent) trims them under slow emulators. */
static size_t cases(size_t n) {
    const char *s = getenv("ET_TEST_SCALE");
    size_t pct = s && *s ? (size_t)strtoul(s, NULL, 10) : 100;
    size_t k = n * pct / 100;
    return k ? k : 1;
}

static float *fbuf(size_t n) { return malloc((n ? n : 1) * sizeof(float)); }

/* Worst per-element error |a-b| / max(1, |b|): relative for outputs above 1,
 * absolute below (sums that cancel to ~0 have no meaningful relative error). */
static double worst_err(const float *a, const float *b, size_t n) {
    double w = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(a[i]) || isnan(b[i])) {
            if (isnan(a[i]) != isnan(b[i])) return INFINITY;
            continue;
        }
        if (isinf(b[i]) || isinf(a[i])) {
            if (a[i] != b[i]) return INFINITY;
            continue;
        }
        double d = fabs((double)a[i] - (double)b[i]) / fmax(1.0, fabs((double)b[i]));
        if (d > w) w = d;
    }
    return w;
}

static et_act random_act(void) {
    et_act a;
    memset(&a, 0, sizeof a);
    a.kind = (et_act_kind)rnd(0, ET_ACT_COUNT - 1);
    if (a.kind == ET_ACT_CLIP) { a.a = -0.5f; a.b = 1.5f; }
    if (a.kind == ET_ACT_LEAKY_RELU) a.a = 0.1f;
    if (a.kind == ET_ACT_HARDSIGMOID) { a.a = 1.0f / 6.0f; a.b = 0.5f; }
    return a;
}

/* Packs, then runs the impl's tasks as [0, a), [a, b), [b, T) with random
 * cuts: results must not depend on how units are split among threads. */
static void run_impl(const et_conv_impl *ci, const et_conv_geom *g, const float *x, const float *w,
                     const float *b, et_act act, float *y, int split) {
    size_t pb = ci->pack_bytes(g), sb = ci->scratch_bytes(g), T = ci->tasks(g);
    void *packed = pb ? aligned_alloc(64, (pb + 63) / 64 * 64) : NULL;
    void *scratch = malloc(sb ? sb : 1);
    if (pb) ci->pack(g, w, b, packed);
    et_conv_args a = {g, x, packed, w, b, act, y};
    if (split && T > 2) {
        size_t c1 = rnd(0, T), c2 = rnd(c1, T);
        ci->run(&a, 0, c1, scratch);
        ci->run(&a, c1, c2, scratch);
        ci->run(&a, c2, T, scratch);
    } else {
        ci->run(&a, 0, T, scratch);
    }
    free(packed);
    free(scratch);
}

/* One conv case through the NEON table's selection vs the reference; also
 * checks that a split run is bit-identical to a whole run. Operands end at
 * guard pages, so a read or write past any of them faults. */
static int conv_case(const et_conv_geom *g, const char *want_prefix) {
    size_t icg = g->ic / g->groups;
    size_t nx = g->n * g->ih * g->iw * g->ic, nw = g->oc * g->kh * g->kw * icg, ny = g->n * g->oh * g->ow * g->oc;
    float *x = gbuf(nx), *w = gbuf(nw), *b = gbuf(g->oc), *y = gbuf(ny), *y2 = gbuf(ny), *r = fbuf(ny);
    if (!x || !w || !b || !y || !y2 || !r) return 0;
    t_fill(x, nx, t_rand(&seed));
    t_fill(w, nw, t_rand(&seed));
    t_fill(b, g->oc, t_rand(&seed));
    et_act act = random_act();
    const et_conv_impl *ci = K_(et_kernels)()->conv_select(g);
    int ok = strncmp(ci->name, want_prefix, strlen(want_prefix)) == 0;
    if (!ok) printf("    selected %s, want %s*\n", ci->name, want_prefix);
    int with_bias = (int)rnd(0, 3) != 0;
    et_f32_conv2d__ref(g, x, w, with_bias ? b : NULL, act, r);
    run_impl(ci, g, x, w, with_bias ? b : NULL, act, y, 0);
    run_impl(ci, g, x, w, with_bias ? b : NULL, act, y2, 1);
    double e = worst_err(y, r, ny);
    if (ok && e > 1e-5) {
        printf("    %s n%zu %zux%zux%zu -> %zux%zux%zu k%zux%zu s%zux%zu d%zux%zu pad %zu,%zu g%zu act %s: err %.3g\n",
               ci->name, g->n, g->ih, g->iw, g->ic, g->oh, g->ow, g->oc, g->kh, g->kw, g->sh, g->sw, g->dh, g->dw,
               g->pad_t, g->pad_l, g->groups, et_act_name(act.kind), e);
        ok = 0;
    }
    if (ok && memcmp(y, y2, ny * sizeof(float)) != 0) {
        printf("    %s: split run differs from whole run\n", ci->name);
        ok = 0;
    }
    gfree(x, nx); gfree(w, nw); gfree(b, g->oc); gfree(y, ny); gfree(y2, ny); free(r);
    return ok;
}

/* Random conv geometry; 0 when the window does not fit. */
static int make_geom(et_conv_geom *g, size_t k, size_t s, size_t d, size_t pad, size_t groups_dw) {
    memset(g, 0, sizeof *g);
    g->n = rnd(1, 2);
    g->ih = rnd(1, 33);
    g->iw = rnd(1, 33);
    g->ic = rnd(1, 67);
    g->oc = groups_dw ? g->ic : rnd(1, 67);
    g->groups = groups_dw ? g->ic : 1;
    g->kh = g->kw = k;
    g->sh = g->sw = s;
    g->dh = g->dw = d;
    g->pad_t = g->pad_l = pad;
    size_t pad_b = rnd(0, pad), pad_r = rnd(0, pad);
    g->oh = et_window_out(g->ih, k, s, d, pad, pad_b, 0);
    g->ow = et_window_out(g->iw, k, s, d, pad, pad_r, 0);
    return g->oh && g->ow;
}

static void test_gemm_pointwise(void) {
    for (size_t i = 0, n = cases(40); i < n; i++) {
        et_conv_geom g;
        if (!make_geom(&g, 1, rnd(1, 2), 1, 0, 0)) continue;
        CHECK(conv_case(&g, "et_f32_gemm_"));
    }
}

static void test_linear_as_conv(void) {
    /* batch rows x in -> out, as sessions run linear layers */
    for (size_t i = 0, n = cases(30); i < n; i++) {
        et_conv_geom g;
        memset(&g, 0, sizeof g);
        g.n = rnd(1, 9);
        g.ih = g.iw = g.oh = g.ow = 1;
        g.ic = rnd(1, 130);
        g.oc = rnd(1, 67);
        g.kh = g.kw = g.sh = g.sw = g.dh = g.dw = g.groups = 1;
        CHECK(conv_case(&g, "et_f32_gemm_"));
    }
}

static void test_conv_kxk(void) {
    for (size_t i = 0, n = cases(30); i < n; i++) {
        et_conv_geom g;
        size_t k = rnd(1, 3) * 2 - 1; /* 1, 3, 5 */
        if (!make_geom(&g, k, rnd(1, 2), rnd(1, 2), rnd(0, k / 2 + 1), 0)) continue;
        if (g.ic > 24) g.ic = g.ic % 24 + 1; /* keeps the reference quick under qemu */
        CHECK(conv_case(&g, K_(et_f32_dconv_fits)(&g) ? "et_f32_dconv_" : "et_f32_gemm_"));
    }
}

static void test_dwconv(void) {
    for (size_t i = 0, n = cases(60); i < n; i++) {
        et_conv_geom g;
        size_t k = i % 3 == 2 ? rnd(1, 7) : (i % 3 ? 5 : 3);
        size_t d = i % 7 == 6 ? 2 : 1;
        if (!make_geom(&g, k, rnd(1, 2), d, rnd(0, k / 2 * d), 1)) continue;
        if (g.ic == 1) continue; /* groups 1: an ordinary conv */
        CHECK(conv_case(&g, "et_f32_dwconv_"));
    }
}

/* Few input channels (first layers): the direct conv on geometries of its
 * own (wide rows for its tiles, non-square kernels, per-axis stride,
 * dilation and padding), chosen by the table, split-invariant. */
static void test_dconv(void) {
    static const size_t ks[] = {1, 2, 3, 4, 5};
    size_t done = 0;
    for (size_t i = 0, n = cases(150); i < n; i++) {
        et_conv_geom g;
        memset(&g, 0, sizeof g);
        g.n = rnd(1, 2); g.ih = rnd(1, 60); g.iw = rnd(1, 60);
        g.ic = rnd(1, 4); g.oc = rnd(1, 80); g.groups = 1;
        g.kh = ks[rnd(0, 4)]; g.kw = ks[rnd(0, 4)];
        if (g.kh * g.kw == 1) g.kw = rnd(2, 5);
        g.sh = rnd(1, 3); g.sw = rnd(1, 3); g.dh = rnd(1, 2); g.dw = rnd(1, 2);
        g.pad_t = rnd(0, 2); g.pad_l = rnd(0, 2);
        g.oh = et_window_out(g.ih, g.kh, g.sh, g.dh, g.pad_t, rnd(0, 2), 0);
        g.ow = et_window_out(g.iw, g.kw, g.sw, g.dw, g.pad_l, rnd(0, 2), 0);
        if (!g.oh || !g.ow) continue;
        CHECK(K_(et_f32_dconv_fits)(&g));
        CHECK(conv_case(&g, "et_f32_dconv_"));
        done++;
    }
    CHECK(done > 0);
}

/* exp, sigmoid, tanh and SiLU against double precision: relative error
 * <= 1e-6 wherever the result is a normal float. */
static double rel_vs(double got, double want) {
    if (isnan(want)) return isnan(got) ? 0.0 : INFINITY;
    if (isinf(want)) return got == want ? 0.0 : INFINITY;
    if (fabs(want) < 1e-37) return fabs(got - want) < 1e-37 ? 0.0 : INFINITY;
    return fabs(got - want) / fabs(want);
}

static void test_vector_math(void) {
    enum { N = 20000 };
    float *x = fbuf(N), *y = fbuf(N);
    for (size_t i = 0; i < N; i++) x[i] = -87.0f + 175.0f * (float)i / (float)N;
    x[0] = 0.0f; x[1] = -0.0f; x[2] = 1e-30f; x[3] = -1e-7f; x[4] = 0.2499f; x[5] = 0.2501f; x[6] = -0.25f;
    for (size_t i = 7; i < 2000; i++) x[i] = t_randf(&seed) * (float)(i % 5 == 0 ? 1e-3 : 4.0);
    double worst[4] = {0, 0, 0, 0};
    const char *names[4] = {"exp", "sigmoid", "tanh", "silu"};
    for (int f = 0; f < 4; f++) {
        et_act a;
        memset(&a, 0, sizeof a);
        a.kind = f == 1 ? ET_ACT_SIGMOID : f == 2 ? ET_ACT_TANH : ET_ACT_SILU;
        if (f == 0) K_(et_f32_vexp)(N, x, y);
        else K_(et_f32_act)(N, a, x, y);
        for (size_t i = 0; i < N; i++) {
            double v = x[i], want = f == 0 ? exp(v) : f == 1 ? 1.0 / (1.0 + exp(-v)) : f == 2 ? tanh(v) : v / (1.0 + exp(-v));
            double e = rel_vs(y[i], want);
            if (e > worst[f]) worst[f] = e;
        }
    }
    printf("    max rel err vs double: exp %.2e, sigmoid %.2e, tanh %.2e, silu %.2e\n", worst[0], worst[1], worst[2],
           worst[3]);
    free(x);
    free(y);
    for (int f = 0; f < 4; f++) CHECKF(worst[f] <= 1e-6, "%s: %.3g", names[f], worst[f]);
}

static void test_special_values(void) {
    const float in[8] = {NAN, INFINITY, -INFINITY, 100.0f, -100.0f, 0.0f, -0.0f, 89.0f};
    float y[8], r[8];
    for (int k = 0; k < ET_ACT_COUNT; k++) {
        et_act a = et_act_of((et_act_kind)k);
        K_(et_f32_act)(8, a, in, y);
        et_f32_act__ref(8, a, in, r);
        CHECKF(worst_err(y, r, 8) <= 1e-5, "%s on NaN/inf/extremes", et_act_name((et_act_kind)k));
    }
}

static void test_act_all_kinds(void) {
    for (size_t i = 0, n = cases(60); i < n; i++) {
        size_t cnt = rnd(1, 300);
        float *x = fbuf(cnt), *y = fbuf(cnt), *r = fbuf(cnt);
        t_fill(x, cnt, t_rand(&seed));
        for (size_t j = 0; j < cnt; j++) x[j] *= 8.0f;
        et_act a = random_act();
        K_(et_f32_act)(cnt, a, x, y);
        et_f32_act__ref(cnt, a, x, r);
        double e = worst_err(y, r, cnt);
        K_(et_f32_act)(cnt, a, x, x); /* in place */
        int same = memcmp(x, y, cnt * sizeof(float)) == 0;
        free(x); free(y); free(r);
        CHECKF(e <= 1e-5, "%s count %zu: %.3g", et_act_name(a.kind), cnt, e);
        CHECK(same);
    }
}

static void test_binary(void) {
    for (size_t i = 0, n = cases(60); i < n; i++) {
        et_shape z = {rnd(1, 2), rnd(1, 9), rnd(1, 9), rnd(1, 67)}, xs = z, ys = z;
        /* broadcast a random subset of dims of either side */
        if (rnd(0, 1)) { size_t m = rnd(0, 15); if (m & 1) ys.n = 1; if (m & 2) ys.h = 1; if (m & 4) ys.w = 1; if (m & 8) ys.c = 1; }
        if (rnd(0, 2) == 0) { xs.h = 1; xs.w = 1; }
        size_t nz = z.n * z.h * z.w * z.c, nx = xs.n * xs.h * xs.w * xs.c, ny = ys.n * ys.h * ys.w * ys.c;
        float *x = fbuf(nx), *y = fbuf(ny), *o = fbuf(nz), *r = fbuf(nz);
        t_fill(x, nx, t_rand(&seed));
        t_fill(y, ny, t_rand(&seed));
        et_binary_kind kind = rnd(0, 1) ? ET_BINARY_MUL : ET_BINARY_ADD;
        et_act a = random_act();
        K_(et_f32_binary)(kind, xs, x, ys, y, z, a, o);
        et_f32_binary__ref(kind, xs, x, ys, y, z, a, r);
        double e = worst_err(o, r, nz);
        free(x); free(y); free(o); free(r);
        CHECKF(e <= 1e-5, "binary %d act %s: %.3g", (int)kind, et_act_name(a.kind), e);
    }
}

static void test_pooling(void) {
    for (size_t i = 0, n = cases(60); i < n; i++) {
        et_pool_geom g;
        memset(&g, 0, sizeof g);
        g.n = rnd(1, 2); g.ih = rnd(1, 33); g.iw = rnd(1, 33); g.c = rnd(1, 67);
        g.kh = rnd(1, 4); g.kw = rnd(1, 4); g.sh = rnd(1, 3); g.sw = rnd(1, 3);
        g.pad_t = g.pad_b = rnd(0, g.kh / 2);
        g.pad_l = g.pad_r = rnd(0, g.kw / 2);
        g.count_include_pad = (int)rnd(0, 1);
        int ceil_mode = (int)rnd(0, 1);
        g.oh = et_window_out(g.ih, g.kh, g.sh, 1, g.pad_t, g.pad_b, ceil_mode);
        g.ow = et_window_out(g.iw, g.kw, g.sw, 1, g.pad_l, g.pad_r, ceil_mode);
        if (!g.oh || !g.ow) continue;
        size_t nx = g.n * g.ih * g.iw * g.c, ny = g.n * g.oh * g.ow * g.c;
        float *x = fbuf(nx), *y = fbuf(ny), *r = fbuf(ny);
        t_fill(x, nx, t_rand(&seed));
        if (i % 10 == 0) x[rnd(0, nx - 1)] = NAN;
        K_(et_f32_maxpool)(&g, x, y);
        et_f32_maxpool__ref(&g, x, r);
        double e1 = worst_err(y, r, ny);
        K_(et_f32_avgpool)(&g, x, y);
        et_f32_avgpool__ref(&g, x, r);
        double e2 = worst_err(y, r, ny);
        size_t hw = g.ih * g.iw;
        K_(et_f32_global_avgpool)(g.n, hw, g.c, x, y);
        et_f32_global_avgpool__ref(g.n, hw, g.c, x, r);
        double e3 = worst_err(y, r, g.n * g.c);
        free(x); free(y); free(r);
        CHECKF(e1 <= 1e-5 && e2 <= 1e-5 && e3 <= 1e-5, "pool %zux%zu k%zux%zu s%zu: max %.3g avg %.3g gap %.3g",
               g.ih, g.iw, g.kh, g.kw, g.sh, e1, e2, e3);
    }
}

/* Inference batchnorm (scale folded in double per channel) vs the reference
 * formula, C up to 300 (more than one 256-channel block), in place too.
 * Every operand ends at a guard page, so channel tails must stay inside. */
static void test_batchnorm(void) {
    for (size_t i = 0, n = cases(60); i < n; i++) {
        size_t c = rnd(1, 300), rows = rnd(1, 40), cnt = rows * c;
        float *x = gbuf(cnt), *y = gbuf(cnt), *r = fbuf(cnt), *p[4];
        for (int j = 0; j < 4; j++) p[j] = gbuf(c);
        CHECK(x && y && r && p[0] && p[1] && p[2] && p[3]);
        t_fill(x, cnt, t_rand(&seed));
        for (int j = 0; j < 4; j++) t_fill(p[j], c, t_rand(&seed));
        for (size_t k = 0; k < c; k++) p[3][k] = fabsf(p[3][k]) + 0.05f; /* variance > 0 */
        K_(et_f32_batchnorm)(rows, c, x, p[0], p[1], p[2], p[3], 1e-5f, y);
        et_f32_batchnorm__ref(rows, c, x, p[0], p[1], p[2], p[3], 1e-5f, r);
        double e = worst_err(y, r, cnt);
        K_(et_f32_batchnorm)(rows, c, x, p[0], p[1], p[2], p[3], 1e-5f, x); /* in place */
        int same = memcmp(x, y, cnt * sizeof(float)) == 0;
        gfree(x, cnt); gfree(y, cnt); free(r);
        for (int j = 0; j < 4; j++) gfree(p[j], c);
        CHECKF(e <= 1e-5, "batchnorm %zux%zu: %.3g", rows, c, e);
        CHECK(same);
    }
    CHECK(K_(et_kernels)()->batchnorm == K_(et_f32_batchnorm));
}

static void test_softmax(void) {
    for (size_t i = 0, n = cases(40); i < n; i++) {
        size_t rows = rnd(1, 5), c = rnd(1, 67), cnt = rows * c;
        float *x = fbuf(cnt), *y = fbuf(cnt), *r = fbuf(cnt);
        t_fill(x, cnt, t_rand(&seed));
        for (size_t j = 0; j < cnt; j++) x[j] *= i % 4 == 0 ? 500.0f : 10.0f;
        if (i % 8 == 1) x[rnd(0, cnt - 1)] = NAN;
        K_(et_f32_softmax)(rows, c, x, y);
        et_f32_softmax__ref(rows, c, x, r);
        double e = worst_err(y, r, cnt);
        free(x); free(y); free(r);
        CHECKF(e <= 1e-5, "softmax %zux%zu: %.3g", rows, c, e);
    }
}

static void test_table_is_neon(void) {
    CHECK(strcmp(et_kernels_best()->isa, ISA) == 0);
    CHECK(et_isa_best() == ET_ISA_NEON && et_kernels_for(ET_ISA_NEON, NULL, 0) == et_kernels_best());
    CHECK(strcmp(K_(et_kernels)()->isa, ISA) == 0);
}

int main(void) {
    RUN(test_table_is_neon);
    RUN(test_gemm_pointwise);
    RUN(test_linear_as_conv);
    RUN(test_conv_kxk);
    RUN(test_dwconv);
    RUN(test_dconv);
    RUN(test_vector_math);
    RUN(test_special_values);
    RUN(test_act_all_kinds);
    RUN(test_binary);
    RUN(test_pooling);
    RUN(test_batchnorm);
    RUN(test_softmax);
    return t_summary(__FILE__);
}

#else /* no NEON in this build */

static void test_neon_kernels(void) {
    /* The NEON kernels are compiled only by ARM ports; make test-cross runs
     * this file for real under qemu-aarch64 and qemu-arm. */
#if defined(__aarch64__)
    CHECK(!"an aarch64 build must compile arch/arm/neon64");
#endif
    CHECK(et_kernels_best() != NULL && et_kernels_for(ET_ISA_NEON, NULL, 0) == NULL);
    SKIP("not a NEON build (the ARM ports run these under qemu)");
}

int main(void) {
    RUN(test_neon_kernels);
    return t_summary(__FILE__);
}
#endif
