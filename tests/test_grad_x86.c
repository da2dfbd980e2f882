/* x86 backward kernels (et_grad_kernels) against the reference backward
 * kernels of train/grad_ops.h on randomized geometries with tails, plus
 * determinism (same bits on a second run) and the scratch query. */
#include <stdlib.h>
#include "dispatch.h"
#include "edgetune.h"
#include "harness.h"
#include "train/grad_ops.h"

static const et_isa levels[] = {ET_ISA_AVX2, ET_ISA_AVX512};
#define N_LEVELS (sizeof levels / sizeof levels[0])
/* Every level here needs AVX2 (AVX-512 implies it): without it a per-level
 * test has nothing to run and says so rather than passing. */
#define SKIP_WITHOUT_X86() do { if (!et_kernels_for(ET_ISA_AVX2, NULL, 0)) SKIP("no AVX2 in this CPU or build"); } while (0)

/* The reference sums in double and rounds once; the SIMD kernels sum K terms
 * in float. Their error is bounded by about K * 2^-24 * sum|terms|, not by
 * the result's magnitude (cancellation can make |b| tiny), so an element
 * passes when |a - b| / max(1, |b|) <= 1e-5 (the measure), or, for
 * the long reductions where that is not attainable in float, when
 * |a - b| / max(1, sum|terms|) <= 1e-5. sum|terms| is the reference kernel
 * run on |inputs|. Returns the worst error by the first measure and counts
 * elements that needed the second in *relaxed; *fail is set (and *at names
 * the element) when an element fails both. */
static double grad_err(const float *a, const float *b, const float *mag, size_t n, size_t *at, size_t *relaxed,
                       double *worst_mag, int *fail) {
    double worst = 0.0;
    *fail = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (d != d) d = INFINITY;
        double e1 = d / (fabs((double)b[i]) > 1.0 ? fabs((double)b[i]) : 1.0);
        double e2 = d / ((double)mag[i] > 1.0 ? (double)mag[i] : 1.0);
        if (e2 > *worst_mag) *worst_mag = e2;
        if (e1 > 1e-5) {
            (*relaxed)++;
            if (e2 > 1e-5 && !*fail) { *at = i; *fail = 1; }
        }
        if (e1 > worst) worst = e1;
    }
    return worst;
}

/* kind 0: depthwise, 1: pointwise any stride, 2: general/grouped, 3: linear. */
static int random_geom(unsigned *s, et_conv_geom *g, int kind) {
    memset(g, 0, sizeof *g);
    g->n = 1 + t_rand(s) % 2;
    g->ih = 1 + t_rand(s) % 33;
    g->iw = 1 + t_rand(s) % 33;
    static const size_t ks[] = {1, 2, 3, 5};
    g->kh = ks[t_rand(s) % 4];
    g->kw = ks[t_rand(s) % 4];
    if (kind == 0 && t_rand(s) % 2) g->kw = g->kh = (t_rand(s) % 2) ? 3 : 5; /* the MobileNet cases, often */
    g->sh = 1 + t_rand(s) % 3;
    g->sw = 1 + t_rand(s) % 3;
    g->dh = 1 + t_rand(s) % 2;
    g->dw = 1 + t_rand(s) % 2;
    g->pad_t = t_rand(s) % 3;
    g->pad_l = t_rand(s) % 3;
    size_t pad_b = t_rand(s) % 3, pad_r = t_rand(s) % 3;
    if (kind == 0) {
        g->ic = g->oc = g->groups = 1 + t_rand(s) % 67;
    } else if (kind == 1) {
        g->kh = g->kw = 1;
        g->pad_t = g->pad_l = pad_b = pad_r = 0;
        g->ic = 1 + t_rand(s) % 67;
        g->oc = 1 + t_rand(s) % 67;
        g->groups = 1;
    } else if (kind == 2) {
        g->groups = 1 + t_rand(s) % 3;
        g->ic = g->groups * (1 + t_rand(s) % 22);
        g->oc = g->groups * (1 + t_rand(s) % 22);
    } else {
        g->n = 1 + t_rand(s) % 20; g->ih = g->iw = 1; g->kh = g->kw = 1; g->sh = g->sw = 1; g->dh = g->dw = 1;
        g->pad_t = g->pad_l = pad_b = pad_r = 0;
        g->ic = 1 + t_rand(s) % 300; g->oc = 1 + t_rand(s) % 67; g->groups = 1;
    }
    g->oh = et_window_out(g->ih, g->kh, g->sh, g->dh, g->pad_t, pad_b, 0);
    g->ow = et_window_out(g->iw, g->kw, g->sw, g->dw, g->pad_l, pad_r, 0);
    return g->oh > 0 && g->ow > 0;
}

static void absf(float *d, const float *s, size_t n) { for (size_t i = 0; i < n; i++) d[i] = fabsf(s[i]); }

static void grad_cases(int kind, int cases) {
    SKIP_WITHOUT_X86();
    for (size_t L = 0; L < N_LEVELS; L++) {
        const et_kernels *k = et_kernels_for(levels[L], NULL, 0);
        if (!k) { printf("    %s: not supported here, skipped\n", et_isa_name(levels[L])); continue; }
        const et_grad_kernels *G = et_grad_kernels_of(k);
        CHECK(strcmp(G->isa, k->isa) == 0);
        unsigned s = 4321u + (unsigned)kind * 31u + (unsigned)L;
        int done = 0;
        size_t relaxed = 0, total = 0;
        double worst = 0.0, worst_mag = 0.0;
        while (done < cases) {
            et_conv_geom g;
            if (!random_geom(&s, &g, kind)) continue;
            done++;
            size_t nx = g.n * g.ih * g.iw * g.ic, ny = g.n * g.oh * g.ow * g.oc, nw = g.oc * g.kh * g.kw * (g.ic / g.groups);
            float *x = malloc(nx * 4), *w = malloc(nw * 4), *dy = malloc(ny * 4), *ax = malloc(nx * 4), *aw = malloc(nw * 4), *ady = malloc(ny * 4);
            float *dx0 = malloc(nx * 4), *dx1 = malloc(nx * 4), *dx2 = malloc(nx * 4), *mx = calloc(nx, 4);
            float *dw0 = malloc(nw * 4), *dw1 = malloc(nw * 4), *dw2 = malloc(nw * 4), *mw = calloc(nw, 4);
            float *db0 = malloc(g.oc * 4), *db1 = malloc(g.oc * 4), *mb = calloc(g.oc, 4);
            CHECK(x && w && dy && ax && aw && ady && dx0 && dx1 && dx2 && mx && dw0 && dw1 && dw2 && mw && db0 && db1 && mb);
            t_fill(x, nx, t_rand(&s));
            t_fill(w, nw, t_rand(&s));
            t_fill(dy, ny, t_rand(&s));
            /* gradients accumulate: start from a nonzero value */
            t_fill(dx0, nx, 77); memcpy(dx1, dx0, nx * 4); memcpy(dx2, dx0, nx * 4); absf(mx, dx0, nx);
            t_fill(dw0, nw, 78); memcpy(dw1, dw0, nw * 4); memcpy(dw2, dw0, nw * 4); absf(mw, dw0, nw);
            t_fill(db0, g.oc, 79); memcpy(db1, db0, g.oc * 4); absf(mb, db0, g.oc);
            absf(ax, x, nx); absf(aw, w, nw); absf(ady, dy, ny);
            int use_db = t_rand(&s) % 2;
            if (kind == 3) {
                et_f32_linear_backward_input__ref(g.n, g.ic, g.oc, dy, w, dx0);
                et_f32_linear_backward_input__ref(g.n, g.ic, g.oc, ady, aw, mx);
                et_f32_linear_backward_weight__ref(g.n, g.ic, g.oc, x, dy, dw0, use_db ? db0 : NULL);
                et_f32_linear_backward_weight__ref(g.n, g.ic, g.oc, ax, ady, mw, use_db ? mb : NULL);
                G->linear_input(g.n, g.ic, g.oc, dy, w, dx1);
                G->linear_input(g.n, g.ic, g.oc, dy, w, dx2);
                G->linear_weight(g.n, g.ic, g.oc, x, dy, dw1, use_db ? db1 : NULL);
                G->linear_weight(g.n, g.ic, g.oc, x, dy, dw2, NULL);
            } else {
                et_f32_conv2d_backward_input__ref(&g, dy, w, dx0);
                et_f32_conv2d_backward_input__ref(&g, ady, aw, mx);
                et_f32_conv2d_backward_weight__ref(&g, x, dy, dw0, use_db ? db0 : NULL);
                et_f32_conv2d_backward_weight__ref(&g, ax, ady, mw, use_db ? mb : NULL);
                G->conv_input(&g, dy, w, dx1);
                G->conv_input(&g, dy, w, dx2);
                G->conv_weight(&g, x, dy, dw1, use_db ? db1 : NULL);
                /* dw2 in two parts split at a random unit, the later part
                 * first (as threads may run them): the same bits as whole */
                size_t units = G->conv_weight_units(&g), cut = units ? t_rand(&s) % (units + 1) : 0;
                G->conv_weight_part(&g, x, dy, dw2, cut, units);
                G->conv_weight_part(&g, x, dy, dw2, 0, cut);
                /* the reference's parts too (generic ISA and fallbacks) */
                float *dw3 = malloc(nw * 4);
                CHECK(dw3);
                t_fill(dw3, nw, 78);
                size_t rcut = t_rand(&s) % (g.oc + 1);
                CHECK(et_f32_conv2d_backward_weight_units__ref(&g) == g.oc);
                et_f32_conv2d_backward_weight_part__ref(&g, x, dy, dw3, rcut, g.oc);
                et_f32_conv2d_backward_weight_part__ref(&g, x, dy, dw3, 0, rcut);
                CHECK(memcmp(dw3, dw0, nw * 4) == 0);
                free(dw3);
            }
            CHECK(G->scratch_bytes(&g) == 0 && et_grad_scratch_bytes(k, &g) == 0);
            size_t at = 0;
            double e;
            int bad;
#define DESCR "%s %s: n%zu %zux%zux%zu -> %zux%zux%zu k%zux%zu s%zux%zu d%zux%zu p%zu,%zu g%zu: element %zu", k->isa, what, \
    g.n, g.ih, g.iw, g.ic, g.oh, g.ow, g.oc, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.pad_t, g.pad_l, g.groups, at
            const char *what = "input grad";
            e = grad_err(dx1, dx0, mx, nx, &at, &relaxed, &worst_mag, &bad);
            CHECKF(!bad, DESCR); if (e > worst) worst = e;
            CHECKF(memcmp(dx1, dx2, nx * 4) == 0, DESCR);
            what = "weight grad";
            e = grad_err(dw1, dw0, mw, nw, &at, &relaxed, &worst_mag, &bad);
            CHECKF(!bad, DESCR); if (e > worst) worst = e;
            CHECKF(memcmp(dw1, dw2, nw * 4) == 0, DESCR);
            what = "bias grad";
            if (use_db) { e = grad_err(db1, db0, mb, g.oc, &at, &relaxed, &worst_mag, &bad); CHECKF(!bad, DESCR); if (e > worst) worst = e; }
#undef DESCR
            total += nx + nw + (use_db ? g.oc : 0);
            free(x); free(w); free(dy); free(ax); free(aw); free(ady); free(dx0); free(dx1); free(dx2); free(mx);
            free(dw0); free(dw1); free(dw2); free(mw); free(db0); free(db1); free(mb);
        }
        printf("    %s: %d cases, %zu of %zu elements within 1e-5 by |a-b|/max(1,|b|) (max over all %.3g), "
               "all within 1e-5 by |a-b|/max(1,sum|terms|) (max %.3g)\n", k->isa, cases, total - relaxed, total, worst, worst_mag);
    }
}

static void test_depthwise_backward(void) { grad_cases(0, 300); }
static void test_pointwise_backward(void) { grad_cases(1, 200); }
static void test_general_conv_backward(void) { grad_cases(2, 200); }
static void test_linear_backward(void) { grad_cases(3, 80); }

/* Long reductions as in MobileNetV2 training (rows = 16 * 20 * 20). */
static void test_long_reduction(void) {
    SKIP_WITHOUT_X86();
    et_conv_geom g = {16, 20, 20, 40, 20, 20, 48, 1, 1, 1, 1, 1, 1, 0, 0, 1};
    et_conv_geom d = {16, 20, 20, 40, 20, 20, 40, 3, 3, 1, 1, 1, 1, 1, 1, 40};
    for (size_t L = 0; L < N_LEVELS; L++) {
        const et_kernels *k = et_kernels_for(levels[L], NULL, 0);
        if (!k) continue;
        const et_grad_kernels *G = et_grad_kernels_of(k);
        for (int c = 0; c < 2; c++) {
            const et_conv_geom *q = c ? &d : &g;
            size_t nx = q->n * q->ih * q->iw * q->ic, ny = q->n * q->oh * q->ow * q->oc, nw = q->oc * q->kh * q->kw * (q->ic / q->groups);
            float *x = malloc(nx * 4), *dy = malloc(ny * 4), *w0 = calloc(nw, 4), *w1 = calloc(nw, 4), *m = calloc(nw, 4);
            float *ax = malloc(nx * 4), *ady = malloc(ny * 4);
            CHECK(x && dy && w0 && w1 && m && ax && ady);
            t_fill(x, nx, 5); t_fill(dy, ny, 6); absf(ax, x, nx); absf(ady, dy, ny);
            et_f32_conv2d_backward_weight__ref(q, x, dy, w0, NULL);
            et_f32_conv2d_backward_weight__ref(q, ax, ady, m, NULL);
            G->conv_weight(q, x, dy, w1, NULL);
            size_t at = 0, relaxed = 0;
            int bad;
            double wm = 0.0, e = grad_err(w1, w0, m, nw, &at, &relaxed, &wm, &bad);
            printf("    %s %s weight grad over %zu rows: max |a-b|/max(1,|b|) %.3g, %zu of %zu over 1e-5, max vs sum|terms| %.3g\n",
                   k->isa, c ? "depthwise 3x3" : "pointwise", q->n * q->oh * q->ow, e, relaxed, nw, wm);
            CHECK(!bad);
            free(x); free(dy); free(w0); free(w1); free(m); free(ax); free(ady);
        }
    }
}

static void test_tables(void) {
    CHECK(et_grad_kernels_of(NULL) == et_grad_kernels_generic());
    CHECK(et_grad_kernels_of(et_kernels_generic()) == et_grad_kernels_generic());
    CHECK(strcmp(et_grad_kernels_generic()->isa, "generic") == 0);
    const et_grad_kernels *b = et_grad_kernels_of(et_kernels_best());
    CHECK(b && b->conv_input && b->conv_weight && b->linear_input && b->linear_weight && b->scratch_bytes);
}

int main(void) {
    RUN(test_tables);
    RUN(test_pointwise_backward);
    RUN(test_depthwise_backward);
    RUN(test_general_conv_backward);
    RUN(test_linear_backward);
    RUN(test_long_reduction);
    return t_summary(__FILE__);
}
