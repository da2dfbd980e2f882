/* Finite-difference checks of every backward in src/train/grad_ops.h against
 * the forward kernels (src/ops/, and a double-precision train-mode batchnorm
 * written here), plus kink conventions and the seeded dropout mask. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "ops/ops.h"
#include "train/grad_ops.h"

/* ------------------------------------------------------------ FD machinery
 * Inputs are multiples of 2^-12 and the step is 2^-7, so x +- h and x +- 2h
 * are exact floats: the step taken is the step assumed. The 4-point central
 * difference has O(h^4) truncation error, so what remains is the float
 * rounding of the forward, ~1e-5 of the gradient's scale. Every comparison
 * also proves it would have caught a gradient 1% off (see grad_ok). */
#define H (1.0 / 128.0)
#define TOL 1e-3

static double worst_err;  /* largest accepted error over the run, reported at the end */

typedef double (*obj_fn)(void *ctx);

static float quant(float v) { return (float)(nearbyint((double)v * 4096.0) / 4096.0); }

static float *buf(size_t n, unsigned seed, float scale) {
    float *p = malloc((n ? n : 1) * sizeof *p);
    t_fill(p, n, seed);
    for (size_t i = 0; i < n; i++) p[i] = quant(p[i] * scale);
    return p;
}

/* Numeric d obj / d p[i] for every i; 0 if a step was not exact. */
static int fd(obj_fn obj, void *ctx, float *p, size_t n, double *num) {
    static const double k[4] = {-2.0, -1.0, 1.0, 2.0};
    for (size_t i = 0; i < n; i++) {
        const float v = p[i];
        double f[4];
        for (int j = 0; j < 4; j++) {
            double t = (double)v + k[j] * H;
            p[i] = (float)t;
            if ((double)p[i] != t) {
                p[i] = v;
                return 0;
            }
            f[j] = obj(ctx);
        }
        p[i] = v;
        num[i] = (f[0] - 8.0 * f[1] + 8.0 * f[2] - f[3]) / (12.0 * H);
    }
    return 1;
}

/* max |a - b| / max |b| (1 when b is all zero, so a zero gradient must be
 * matched by an absolute zero). */
static double grad_err(const double *a, const double *b, size_t n) {
    double scale = 0.0, worst = 0.0;
    for (size_t i = 0; i < n; i++) if (fabs(b[i]) > scale) scale = fabs(b[i]);
    if (scale == 0.0) scale = 1.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs(a[i] - b[i]);
        if (d != d) return INFINITY;
        if (d > worst) worst = d;
    }
    return worst / scale;
}

/* Accepts ana ~ num, and checks the same comparison rejects the analytic
 * gradient scaled by 1.01 and with one element bumped by 1% of the scale, and
 * that the numeric gradient is not trivially zero. */
static int grad_ok(const char *what, const double *ana, const double *num, size_t n) {
    double e = grad_err(ana, num, n);
    if (!(e <= TOL)) {
        printf("    %s: relative error %.3g > %g\n", what, e, TOL);
        return 0;
    }
    if (e > worst_err) worst_err = e;
    double scale = 0.0;
    for (size_t i = 0; i < n; i++) if (fabs(num[i]) > scale) scale = fabs(num[i]);
    if (scale == 0.0) {
        printf("    %s: numeric gradient is all zero: the check proves nothing\n", what);
        return 0;
    }
    double *bad = malloc(n * sizeof *bad);
    for (size_t i = 0; i < n; i++) bad[i] = ana[i] * 1.01;
    int rejects = grad_err(bad, num, n) > TOL;
    for (size_t i = 0; i < n; i++) bad[i] = ana[i];
    bad[n / 2] += 0.01 * scale;
    rejects = rejects && grad_err(bad, num, n) > TOL;
    free(bad);
    if (!rejects) printf("    %s: the comparison would accept a 1%% wrong gradient\n", what);
    return rejects;
}

/* Gradients accumulate (+=): buffers start from a random prefill, and the
 * analytic gradient is what the backward added to it. */
static float *prefill(size_t n, unsigned seed) { return buf(n, seed, 1.0f); }
static double *added(const float *after, size_t n, unsigned seed) {
    float *before = prefill(n, seed);
    double *d = malloc((n ? n : 1) * sizeof *d);
    for (size_t i = 0; i < n; i++) d[i] = (double)after[i] - (double)before[i];
    free(before);
    return d;
}

/* FD of obj with respect to p [n] and comparison with the gradient the
 * backward added to g (prefilled with seed). */
static int check_param(const char *what, obj_fn obj, void *ctx, float *p, size_t n, const float *g,
                       unsigned seed) {
    double *num = malloc((n ? n : 1) * sizeof *num);
    int ok = fd(obj, ctx, p, n, num);
    if (!ok) printf("    %s: finite-difference step not exact\n", what);
    double *ana = added(g, n, seed);
    ok = ok && grad_ok(what, ana, num, n);
    free(num);
    free(ana);
    return ok;
}

static double dot(const float *r, const float *y, size_t n) {
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += (double)r[i] * (double)y[i];
    return s;
}

static et_shape mkshape(size_t n, size_t h, size_t w, size_t c) {
    et_shape s;
    s.n = n;
    s.h = h;
    s.w = w;
    s.c = c;
    return s;
}

static size_t count_of(et_shape s) { return s.n * s.h * s.w * s.c; }

/* ------------------------------------------------------------ activations */

typedef struct act_ctx { et_act act; size_t n; float *x, *r, *y; } act_ctx;

static double act_obj(void *p) {
    act_ctx *c = p;
    et_f32_act__ref(c->n, c->act, c->x, c->y);
    return dot(c->r, c->y, c->n);
}

static et_act mkact(et_act_kind kind, float a, float b) {
    et_act act;
    act.kind = kind;
    act.a = a;
    act.b = b;
    return act;
}

static void test_act_fd(void) {
    const et_act acts[] = {
        mkact(ET_ACT_NONE, 0, 0), mkact(ET_ACT_RELU, 0, 0), mkact(ET_ACT_CLIP, 0, 6),
        mkact(ET_ACT_CLIP, -1.25f, 0.75f), mkact(ET_ACT_LEAKY_RELU, 0.1f, 0),
        mkact(ET_ACT_SIGMOID, 0, 0), mkact(ET_ACT_TANH, 0, 0), mkact(ET_ACT_SILU, 0, 0),
        mkact(ET_ACT_HARDSWISH, 0, 0), mkact(ET_ACT_HARDSIGMOID, 1.0f / 6.0f, 0.5f),
        mkact(ET_ACT_HARDSIGMOID, 0.2f, 0.5f),
    };
    const size_t n = 240;
    for (size_t a = 0; a < sizeof acts / sizeof acts[0]; a++) {
        et_act act = acts[a];
        /* Kinks of every activation; samples keep 0.05 (> 2h) away. */
        double kinks[6] = {0.0, (double)act.a, (double)act.b, -3.0, 3.0, 0.0};
        size_t nk = 5;
        if (act.kind == ET_ACT_HARDSIGMOID) {
            kinks[0] = -(double)act.b / (double)act.a;
            kinks[1] = (1.0 - (double)act.b) / (double)act.a;
            nk = 2;
        }
        act_ctx c = {act, n, buf(n, 11 + (unsigned)a, 7.0f), buf(n, 23, 1.0f), malloc(n * sizeof(float))};
        unsigned s = 99;
        for (size_t i = 0; i < n; i++)
            for (size_t k = 0; k < nk; k++)
                while (fabs((double)c.x[i] - kinks[k]) < 0.05) c.x[i] = quant(t_randf(&s) * 7.0f);
        float *dx = prefill(n, 5);
        et_f32_act_backward__ref(n, act, c.x, c.r, dx);
        char what[64];
        snprintf(what, sizeof what, "act %s a=%g b=%g", et_act_name(act.kind), (double)act.a, (double)act.b);
        int ok = check_param(what, act_obj, &c, c.x, n, dx, 5);
        free(c.x);
        free(c.r);
        free(c.y);
        free(dx);
        CHECK(ok);
    }
}

/* PyTorch's values exactly at the kinks, which FD cannot see. */
static void test_act_kinks(void) {
    const float x[] = {0.0f, 6.0f, -3.0f, 3.0f, 2.0f, -3.0f, 3.0f};
    const et_act acts[] = {
        mkact(ET_ACT_RELU, 0, 0), mkact(ET_ACT_CLIP, 0, 6), mkact(ET_ACT_HARDSWISH, 0, 0),
        mkact(ET_ACT_HARDSWISH, 0, 0), mkact(ET_ACT_CLIP, -1, 2), mkact(ET_ACT_HARDSIGMOID, 1.0f / 6.0f, 0.5f),
        mkact(ET_ACT_HARDSIGMOID, 1.0f / 6.0f, 0.5f),
    };
    const float want[] = {0.0f, 0.0f, -0.5f, 1.5f, 0.0f, 0.0f, 0.0f};
    for (size_t i = 0; i < sizeof x / sizeof x[0]; i++) {
        float dy = 1.0f, dx = 0.0f;
        et_f32_act_backward__ref(1, acts[i], &x[i], &dy, &dx);
        CHECKF(dx == want[i], "case %zu: dx %g want %g", i, (double)dx, (double)want[i]);
    }
    float z = 0.0f, dy = 2.0f, dx = 0.0f;
    et_f32_act_backward__ref(1, mkact(ET_ACT_LEAKY_RELU, 0.25f, 0), &z, &dy, &dx);
    CHECK(dx == 0.5f);
    /* A masked-out element adds nothing, even for an infinite dy. */
    float neg = -1.0f, inf = INFINITY;
    dx = 1.0f;
    et_f32_act_backward__ref(1, mkact(ET_ACT_RELU, 0, 0), &neg, &inf, &dx);
    CHECK(dx == 1.0f);
}

/* ------------------------------------------------------------ conv2d */

typedef struct conv_ctx { et_conv_geom g; float *x, *w, *b, *r, *y; } conv_ctx;

static double conv_obj(void *p) {
    conv_ctx *c = p;
    et_f32_conv2d__ref(&c->g, c->x, c->w, c->b, et_act_none(), c->y);
    return dot(c->r, c->y, c->g.n * c->g.oh * c->g.ow * c->g.oc);
}

typedef struct conv_case {
    size_t n, ih, iw, ic, oc, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, groups;
} conv_case;

static void test_conv2d_fd(void) {
    static const conv_case cases[] = {
        /* n ih iw ic oc  kh kw sh sw dh dw  pt pl pb pr  groups */
        {2, 7, 6, 4, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},   /* basic same */
        {1, 9, 8, 3, 4, 3, 3, 2, 2, 1, 1, 1, 0, 1, 2, 1},   /* stride 2, uneven pads */
        {1, 10, 9, 2, 3, 3, 2, 3, 3, 1, 1, 0, 1, 2, 0, 1},  /* stride 3 */
        {1, 9, 9, 4, 4, 3, 3, 1, 2, 2, 3, 2, 3, 1, 2, 2},   /* dilation 2/3, groups 2 */
        {1, 11, 10, 2, 2, 3, 3, 3, 2, 3, 2, 2, 1, 0, 3, 1}, /* dilation 3, stride 3 */
        {2, 7, 7, 6, 6, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 6},   /* depthwise s2 */
        {1, 6, 7, 3, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 3},   /* depthwise x2 multiplier */
        {1, 8, 7, 4, 6, 3, 3, 2, 1, 2, 2, 2, 2, 1, 2, 2},   /* groups 2, 3 filters each */
        {2, 5, 5, 8, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1},   /* 1x1 */
        {1, 7, 7, 4, 3, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0, 1},   /* 1x1 stride 2 */
        {1, 8, 7, 1, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},   /* C = 1 */
        {1, 5, 5, 2, 3, 2, 2, 1, 1, 1, 1, 3, 3, 3, 2, 1},   /* pad > kernel */
        {3, 5, 3, 5, 7, 3, 1, 1, 2, 1, 1, 0, 0, 2, 1, 1},   /* odd sizes, 3x1 */
        {1, 2, 2, 3, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},   /* kernel larger than input */
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const conv_case *cc = &cases[k];
        conv_ctx c;
        memset(&c, 0, sizeof c);
        et_conv_geom *g = &c.g;
        g->n = cc->n, g->ih = cc->ih, g->iw = cc->iw, g->ic = cc->ic, g->oc = cc->oc;
        g->kh = cc->kh, g->kw = cc->kw, g->sh = cc->sh, g->sw = cc->sw, g->dh = cc->dh, g->dw = cc->dw;
        g->pad_t = cc->pt, g->pad_l = cc->pl, g->groups = cc->groups;
        g->oh = et_window_out(cc->ih, cc->kh, cc->sh, cc->dh, cc->pt, cc->pb, 0);
        g->ow = et_window_out(cc->iw, cc->kw, cc->sw, cc->dw, cc->pl, cc->pr, 0);
        CHECKF(g->oh && g->ow, "case %zu: empty output", k);
        const size_t nx = g->n * g->ih * g->iw * g->ic, ny = g->n * g->oh * g->ow * g->oc;
        const size_t nw = g->oc * g->kh * g->kw * (g->ic / g->groups);
        c.x = buf(nx, 100 + (unsigned)k, 1.0f);
        c.w = buf(nw, 200 + (unsigned)k, 1.0f);
        c.b = buf(g->oc, 300 + (unsigned)k, 1.0f);
        c.r = buf(ny, 400 + (unsigned)k, 1.0f);
        c.y = malloc(ny * sizeof(float));
        float *dx = prefill(nx, 1), *dw = prefill(nw, 2), *db = prefill(g->oc, 3);
        et_f32_conv2d_backward_input__ref(g, c.r, c.w, dx);
        et_f32_conv2d_backward_weight__ref(g, c.x, c.r, dw, db);
        char what[64];
        snprintf(what, sizeof what, "conv case %zu", k);
        int ok = check_param(what, conv_obj, &c, c.x, nx, dx, 1) &&
                 check_param(what, conv_obj, &c, c.w, nw, dw, 2) &&
                 check_param(what, conv_obj, &c, c.b, g->oc, db, 3);
        /* db is optional. */
        float *dw2 = prefill(nw, 2);
        et_f32_conv2d_backward_weight__ref(g, c.x, c.r, dw2, NULL);
        ok = ok && memcmp(dw, dw2, nw * sizeof(float)) == 0;
        free(c.x), free(c.w), free(c.b), free(c.r), free(c.y), free(dx), free(dw), free(db), free(dw2);
        CHECKF(ok, "conv case %zu", k);
    }
}

/* ------------------------------------------------------------ linear */

typedef struct lin_ctx { size_t n, in, out; float *x, *w, *b, *r, *y; } lin_ctx;

static double lin_obj(void *p) {
    lin_ctx *c = p;
    et_f32_linear__ref(c->n, c->in, c->out, c->x, c->w, c->b, et_act_none(), c->y);
    return dot(c->r, c->y, c->n * c->out);
}

static void test_linear_fd(void) {
    static const size_t shapes[][3] = {{3, 7, 5}, {1, 1, 1}, {4, 16, 10}, {2, 9, 1}};
    for (size_t k = 0; k < 4; k++) {
        lin_ctx c = {shapes[k][0], shapes[k][1], shapes[k][2], NULL, NULL, NULL, NULL, NULL};
        c.x = buf(c.n * c.in, 10 + (unsigned)k, 1.0f);
        c.w = buf(c.out * c.in, 20 + (unsigned)k, 1.0f);
        c.b = buf(c.out, 30 + (unsigned)k, 1.0f);
        c.r = buf(c.n * c.out, 40 + (unsigned)k, 1.0f);
        c.y = malloc(c.n * c.out * sizeof(float));
        float *dx = prefill(c.n * c.in, 1), *dw = prefill(c.out * c.in, 2), *db = prefill(c.out, 3);
        et_f32_linear_backward_input__ref(c.n, c.in, c.out, c.r, c.w, dx);
        et_f32_linear_backward_weight__ref(c.n, c.in, c.out, c.x, c.r, dw, db);
        int ok = check_param("linear dx", lin_obj, &c, c.x, c.n * c.in, dx, 1) &&
                 check_param("linear dw", lin_obj, &c, c.w, c.out * c.in, dw, 2) &&
                 check_param("linear db", lin_obj, &c, c.b, c.out, db, 3);
        free(c.x), free(c.w), free(c.b), free(c.r), free(c.y), free(dx), free(dw), free(db);
        CHECKF(ok, "linear shape %zu", k);
    }
}

/* ------------------------------------------------------------ batchnorm */

typedef struct bn_ctx { size_t rows, c; float eps; float *x, *gamma, *beta, *mean, *var, *r, *y; } bn_ctx;

/* Train-mode forward in double from the float inputs: an independent
 * evaluation, so FD error is truncation only. */
static double bn_train_obj(void *p) {
    bn_ctx *b = p;
    double L = 0.0;
    for (size_t k = 0; k < b->c; k++) {
        double m = 0.0, v = 0.0;
        for (size_t r = 0; r < b->rows; r++) m += (double)b->x[r * b->c + k];
        m /= (double)b->rows;
        for (size_t r = 0; r < b->rows; r++) v += pow((double)b->x[r * b->c + k] - m, 2.0);
        v /= (double)b->rows;
        for (size_t r = 0; r < b->rows; r++) {
            double y = ((double)b->x[r * b->c + k] - m) / sqrt(v + (double)b->eps) * (double)b->gamma[k] +
                       (double)b->beta[k];
            L += (double)b->r[r * b->c + k] * y;
        }
    }
    return L;
}

static double bn_frozen_obj(void *p) {
    bn_ctx *b = p;
    et_f32_batchnorm__ref(b->rows, b->c, b->x, b->gamma, b->beta, b->mean, b->var, b->eps, b->y);
    return dot(b->r, b->y, b->rows * b->c);
}

static void test_batchnorm_train(void) {
    static const size_t shapes[][2] = {{24, 3}, {2, 5}, {50, 1}};
    static const float epss[] = {1e-5f, 1e-3f, 0.1f};
    for (size_t k = 0; k < 3; k++) {
        bn_ctx b = {shapes[k][0], shapes[k][1], epss[k], NULL, NULL, NULL, NULL, NULL, NULL, NULL};
        const size_t n = b.rows * b.c;
        b.x = buf(n, 50 + (unsigned)k, 2.0f);
        for (size_t i = 0; i < n; i++) b.x[i] = quant(b.x[i] + 0.5f); /* nonzero mean */
        b.gamma = buf(b.c, 51, 1.5f);
        b.beta = buf(b.c, 52, 1.0f);
        b.r = buf(n, 53, 1.0f);
        b.y = malloc(n * sizeof(float));
        float *rm = buf(b.c, 54, 1.0f), *rv = buf(b.c, 55, 1.0f), *sm = malloc(b.c * 4), *si = malloc(b.c * 4);
        for (size_t i = 0; i < b.c; i++) rv[i] = fabsf(rv[i]) + 0.5f;
        float *rm0 = malloc(b.c * 4), *rv0 = malloc(b.c * 4);
        memcpy(rm0, rm, b.c * 4);
        memcpy(rv0, rv, b.c * 4);
        et_f32_batchnorm_train__ref(b.rows, b.c, b.x, b.gamma, b.beta, b.eps, 0.1f, rm, rv, sm, si, b.y);
        int ok = 1;
        /* Forward, saved statistics and running update against the formula. */
        for (size_t c = 0; c < b.c && ok; c++) {
            double m = 0.0, ss = 0.0;
            for (size_t r = 0; r < b.rows; r++) m += (double)b.x[r * b.c + c];
            m /= (double)b.rows;
            for (size_t r = 0; r < b.rows; r++) ss += pow((double)b.x[r * b.c + c] - m, 2.0);
            double is = 1.0 / sqrt(ss / (double)b.rows + (double)b.eps);
            ok = fabs((double)sm[c] - m) <= 1e-6 * (1.0 + fabs(m)) && fabs((double)si[c] - is) <= 1e-6 * is &&
                 fabs((double)rm[c] - (0.9 * rm0[c] + 0.1 * m)) <= 1e-6 &&
                 fabs((double)rv[c] - (0.9 * rv0[c] + 0.1 * ss / (double)(b.rows - 1))) <= 1e-6 * (1.0 + rv[c]);
            for (size_t r = 0; r < b.rows; r++) {
                double y = ((double)b.x[r * b.c + c] - m) * is * b.gamma[c] + b.beta[c];
                ok = ok && fabs((double)b.y[r * b.c + c] - y) <= 1e-5 * (1.0 + fabs(y));
            }
        }
        CHECKF(ok, "bn train forward/statistics, shape %zu", k);
        float *dx = prefill(n, 1), *dg = prefill(b.c, 2), *dbt = prefill(b.c, 3);
        et_f32_batchnorm_train_backward__ref(b.rows, b.c, b.x, b.gamma, sm, si, b.r, dx, dg, dbt);
        ok = check_param("bn train dx", bn_train_obj, &b, b.x, n, dx, 1) &&
             check_param("bn train dgamma", bn_train_obj, &b, b.gamma, b.c, dg, 2) &&
             check_param("bn train dbeta", bn_train_obj, &b, b.beta, b.c, dbt, 3);
        /* NULL affine gradients leave dx alone. */
        float *dx2 = prefill(n, 1);
        et_f32_batchnorm_train_backward__ref(b.rows, b.c, b.x, b.gamma, sm, si, b.r, dx2, NULL, NULL);
        ok = ok && memcmp(dx, dx2, n * 4) == 0;
        free(b.x), free(b.gamma), free(b.beta), free(b.r), free(b.y), free(rm), free(rv), free(sm), free(si);
        free(rm0), free(rv0), free(dx), free(dg), free(dbt), free(dx2);
        CHECKF(ok, "bn train shape %zu", k);
    }
}

static void test_batchnorm_frozen(void) {
    bn_ctx b = {20, 4, 1e-3f, NULL, NULL, NULL, NULL, NULL, NULL, NULL};
    const size_t n = b.rows * b.c;
    b.x = buf(n, 60, 2.0f);
    b.gamma = buf(b.c, 61, 1.5f);
    b.beta = buf(b.c, 62, 1.0f);
    b.mean = buf(b.c, 63, 1.0f);
    b.var = buf(b.c, 64, 1.0f);
    for (size_t i = 0; i < b.c; i++) b.var[i] = fabsf(b.var[i]) + 0.25f;
    b.r = buf(n, 65, 1.0f);
    b.y = malloc(n * sizeof(float));
    float *dx = prefill(n, 1), *dg = prefill(b.c, 2), *dbt = prefill(b.c, 3);
    et_f32_batchnorm_frozen_backward__ref(b.rows, b.c, b.x, b.gamma, b.mean, b.var, b.eps, b.r, dx, dg, dbt);
    int ok = check_param("bn frozen dx", bn_frozen_obj, &b, b.x, n, dx, 1) &&
             check_param("bn frozen dgamma", bn_frozen_obj, &b, b.gamma, b.c, dg, 2) &&
             check_param("bn frozen dbeta", bn_frozen_obj, &b, b.beta, b.c, dbt, 3);
    free(b.x), free(b.gamma), free(b.beta), free(b.mean), free(b.var), free(b.r), free(b.y);
    free(dx), free(dg), free(dbt);
    CHECK(ok);
}

/* ------------------------------------------------------------ add / mul */

typedef struct bin_ctx { et_binary_kind kind; et_shape xs, ys, zs; float *x, *y, *r, *z; } bin_ctx;

static double bin_obj(void *p) {
    bin_ctx *b = p;
    et_f32_binary__ref(b->kind, b->xs, b->x, b->ys, b->y, b->zs, et_act_none(), b->z);
    return dot(b->r, b->z, count_of(b->zs));
}

static void test_binary_fd(void) {
    const et_shape z = mkshape(2, 3, 4, 5);
    const et_shape pats[][2] = {
        {{2, 3, 4, 5}, {2, 3, 4, 5}}, {{2, 3, 4, 5}, {1, 1, 1, 5}}, {{1, 1, 1, 5}, {2, 3, 4, 5}},
        {{2, 1, 1, 5}, {1, 3, 4, 1}}, {{1, 3, 1, 1}, {2, 1, 4, 5}}, {{1, 1, 1, 1}, {2, 3, 4, 5}},
        {{2, 3, 4, 1}, {1, 1, 1, 5}}, {{2, 3, 4, 5}, {2, 1, 1, 1}}, {{1, 3, 4, 5}, {2, 3, 4, 5}},
    };
    for (int kind = 0; kind < 2; kind++)
        for (size_t k = 0; k < sizeof pats / sizeof pats[0]; k++) {
            bin_ctx b = {kind ? ET_BINARY_MUL : ET_BINARY_ADD, pats[k][0], pats[k][1], z, NULL, NULL, NULL, NULL};
            const size_t nx = count_of(b.xs), ny = count_of(b.ys), nz = count_of(z);
            b.x = buf(nx, 70 + (unsigned)k, 1.0f);
            b.y = buf(ny, 80 + (unsigned)k, 1.0f);
            b.r = buf(nz, 90, 1.0f);
            b.z = malloc(nz * sizeof(float));
            float *dx = prefill(nx, 1), *dy = prefill(ny, 2);
            et_f32_binary_backward__ref(b.kind, b.xs, b.x, b.ys, b.y, z, b.r, dx, dy);
            char what[64];
            snprintf(what, sizeof what, "%s pattern %zu", kind ? "mul" : "add", k);
            int ok = check_param(what, bin_obj, &b, b.x, nx, dx, 1) &&
                     check_param(what, bin_obj, &b, b.y, ny, dy, 2);
            /* Either gradient may be skipped. */
            float *dx2 = prefill(nx, 1);
            et_f32_binary_backward__ref(b.kind, b.xs, b.x, b.ys, b.y, z, b.r, dx2, NULL);
            ok = ok && memcmp(dx, dx2, nx * 4) == 0;
            free(b.x), free(b.y), free(b.r), free(b.z), free(dx), free(dy), free(dx2);
            CHECKF(ok, "%s", what);
        }
}

/* ------------------------------------------------------------ concat */

typedef struct cat_ctx { size_t rows; size_t cs[3]; float *xs[3], *r, *y; } cat_ctx;

static double cat_obj(void *p) {
    cat_ctx *c = p;
    const float *xs[3] = {c->xs[0], c->xs[1], c->xs[2]};
    et_f32_concat__ref(c->rows, 3, c->cs, xs, c->y);
    return dot(c->r, c->y, c->rows * (c->cs[0] + c->cs[1] + c->cs[2]));
}

static void test_concat_fd(void) {
    cat_ctx c = {6, {3, 1, 4}, {NULL, NULL, NULL}, NULL, NULL};
    float *d[3];
    for (int i = 0; i < 3; i++) {
        c.xs[i] = buf(c.rows * c.cs[i], 110 + (unsigned)i, 1.0f);
        d[i] = prefill(c.rows * c.cs[i], 120 + (unsigned)i);
    }
    c.r = buf(c.rows * 8, 119, 1.0f);
    c.y = malloc(c.rows * 8 * sizeof(float));
    et_f32_concat_backward__ref(c.rows, 3, c.cs, c.r, d);
    int ok = 1;
    for (int i = 0; i < 3; i++) ok = ok && check_param("concat", cat_obj, &c, c.xs[i], c.rows * c.cs[i], d[i], 120 + (unsigned)i);
    /* A NULL slot (input needing no gradient) is skipped. */
    float *d1 = prefill(c.rows * c.cs[2], 122);
    float *part[3] = {NULL, NULL, d1};
    et_f32_concat_backward__ref(c.rows, 3, c.cs, c.r, part);
    ok = ok && memcmp(d1, d[2], c.rows * c.cs[2] * 4) == 0;
    for (int i = 0; i < 3; i++) free(c.xs[i]), free(d[i]);
    free(c.r), free(c.y), free(d1);
    CHECK(ok);
}

/* ------------------------------------------------------------ pools */

typedef struct pool_ctx { et_pool_geom g; int is_max; float *x, *r, *y; } pool_ctx;

static double pool_obj(void *p) {
    pool_ctx *c = p;
    if (c->is_max) et_f32_maxpool__ref(&c->g, c->x, c->y);
    else et_f32_avgpool__ref(&c->g, c->x, c->y);
    return dot(c->r, c->y, c->g.n * c->g.oh * c->g.ow * c->g.c);
}

typedef struct pool_case { size_t n, ih, iw, c, kh, kw, sh, sw, pt, pl, pb, pr; int ceil; } pool_case;

static void test_pool_fd(void) {
    static const pool_case cases[] = {
        {1, 7, 7, 3, 3, 3, 2, 2, 1, 1, 1, 1, 0}, {2, 6, 5, 2, 2, 2, 2, 2, 0, 0, 0, 0, 1},
        {1, 8, 7, 2, 3, 2, 1, 2, 1, 0, 1, 1, 0}, {1, 7, 8, 2, 3, 3, 2, 3, 1, 1, 1, 1, 1},
        {1, 6, 6, 2, 3, 3, 1, 1, 1, 1, 1, 1, 0}, {1, 9, 6, 1, 4, 3, 3, 2, 2, 1, 2, 1, 1},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
        for (int mode = 0; mode < 3; mode++) { /* max, avg excluding pad, avg including pad */
            const pool_case *pc = &cases[k];
            pool_ctx c;
            memset(&c, 0, sizeof c);
            et_pool_geom *g = &c.g;
            g->n = pc->n, g->ih = pc->ih, g->iw = pc->iw, g->c = pc->c, g->kh = pc->kh, g->kw = pc->kw;
            g->sh = pc->sh, g->sw = pc->sw, g->pad_t = pc->pt, g->pad_l = pc->pl, g->pad_b = pc->pb;
            g->pad_r = pc->pr, g->count_include_pad = mode == 2;
            g->oh = et_window_out(pc->ih, pc->kh, pc->sh, 1, pc->pt, pc->pb, pc->ceil);
            g->ow = et_window_out(pc->iw, pc->kw, pc->sw, 1, pc->pl, pc->pr, pc->ceil);
            c.is_max = mode == 0;
            const size_t nx = g->n * g->ih * g->iw * g->c, ny = g->n * g->oh * g->ow * g->c;
            /* Distinct values 1/16 apart (> 2 steps): no ties, and no FD step
             * moves the argmax. */
            c.x = malloc(nx * sizeof(float));
            for (size_t i = 0; i < nx; i++) c.x[i] = (float)i / 16.0f - 4.0f;
            if (!c.is_max) t_fill(c.x, nx, 131 + (unsigned)k); /* smaller values: less FD noise */
            unsigned s = 7 + (unsigned)k;
            for (size_t i = nx; i > 1; i--) {
                size_t j = t_rand(&s) % i;
                float t = c.x[i - 1];
                c.x[i - 1] = c.x[j], c.x[j] = t;
            }
            c.r = buf(ny, 130 + (unsigned)k, 1.0f);
            c.y = malloc(ny * sizeof(float));
            float *dx = prefill(nx, 1);
            if (c.is_max) et_f32_maxpool_backward__ref(g, c.x, c.r, dx);
            else et_f32_avgpool_backward__ref(g, c.r, dx);
            char what[64];
            snprintf(what, sizeof what, "pool case %zu mode %d", k, mode);
            int ok = check_param(what, pool_obj, &c, c.x, nx, dx, 1);
            free(c.x), free(c.r), free(c.y), free(dx);
            CHECKF(ok, "%s", what);
        }
}

/* Ties go to the first element in row-major window order; NaN wins. */
static void test_maxpool_ties(void) {
    et_pool_geom g;
    memset(&g, 0, sizeof g);
    g.n = 1, g.ih = 2, g.iw = 2, g.c = 1, g.kh = 2, g.kw = 2, g.sh = 2, g.sw = 2, g.oh = 1, g.ow = 1;
    float x[4] = {1.0f, 3.0f, 3.0f, 3.0f}, dy = 1.0f, dx[4] = {0};
    et_f32_maxpool_backward__ref(&g, x, &dy, dx);
    CHECK(dx[0] == 0.0f && dx[1] == 1.0f && dx[2] == 0.0f && dx[3] == 0.0f);
    float xn[4] = {1.0f, NAN, 3.0f, 2.0f}, dxn[4] = {0};
    et_f32_maxpool_backward__ref(&g, xn, &dy, dxn);
    CHECK(dxn[1] == 1.0f && dxn[0] == 0.0f && dxn[2] == 0.0f);
}

typedef struct gap_ctx { size_t n, hw, c; float *x, *r, *y; } gap_ctx;

static double gap_obj(void *p) {
    gap_ctx *c = p;
    et_f32_global_avgpool__ref(c->n, c->hw, c->c, c->x, c->y);
    return dot(c->r, c->y, c->n * c->c);
}

static void test_global_avgpool_fd(void) {
    gap_ctx c = {2, 12, 3, NULL, NULL, NULL};
    c.x = buf(c.n * c.hw * c.c, 140, 1.0f);
    c.r = buf(c.n * c.c, 141, 1.0f);
    c.y = malloc(c.n * c.c * sizeof(float));
    float *dx = prefill(c.n * c.hw * c.c, 1);
    et_f32_global_avgpool_backward__ref(c.n, c.hw, c.c, c.r, dx);
    int ok = check_param("global avgpool", gap_obj, &c, c.x, c.n * c.hw * c.c, dx, 1);
    free(c.x), free(c.r), free(c.y), free(dx);
    CHECK(ok);
}

/* ------------------------------------------------------------ softmax */

typedef struct sm_ctx { size_t rows, c; float *x, *r, *y; } sm_ctx;

static double sm_obj(void *p) {
    sm_ctx *s = p;
    et_f32_softmax__ref(s->rows, s->c, s->x, s->y);
    return dot(s->r, s->y, s->rows * s->c);
}

static void test_softmax_fd(void) {
    sm_ctx s = {4, 7, NULL, NULL, NULL};
    const size_t n = s.rows * s.c;
    s.x = buf(n, 150, 3.0f);
    s.r = buf(n, 151, 1.0f);
    s.y = malloc(n * sizeof(float));
    et_f32_softmax__ref(s.rows, s.c, s.x, s.y);
    float *dx = prefill(n, 1);
    et_f32_softmax_backward__ref(s.rows, s.c, s.y, s.r, dx);
    int ok = check_param("softmax", sm_obj, &s, s.x, n, dx, 1);
    free(s.x), free(s.r), free(s.y), free(dx);
    CHECK(ok);
}

/* ------------------------------------------------------------ dropout */

typedef struct drop_ctx { size_t n; float p; uint64_t seed, counter; uint8_t *mask; float *x, *r, *y; } drop_ctx;

static double drop_obj(void *p) {
    drop_ctx *d = p;
    et_f32_dropout_train__ref(d->n, d->p, d->seed, d->counter, d->x, d->mask, d->y);
    return dot(d->r, d->y, d->n);
}

static int bit(const uint8_t *m, size_t i) { return m[i / 8] >> (i % 8) & 1; }

static void test_dropout(void) {
    const size_t n = 203; /* not a multiple of 8 */
    drop_ctx d = {n, 0.3f, 42, 7, malloc((n + 7) / 8), buf(n, 160, 1.0f), buf(n, 161, 1.0f), malloc(n * 4)};
    memset(d.mask, 0xff, (n + 7) / 8);
    et_f32_dropout_train__ref(n, d.p, d.seed, d.counter, d.x, d.mask, d.y);
    const float scale = 1.0f / (1.0f - d.p);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        kept += (size_t)bit(d.mask, i);
        CHECK(d.y[i] == (bit(d.mask, i) ? d.x[i] * scale : 0.0f));
    }
    CHECK(kept > n / 2 && kept < n * 9 / 10);
    CHECK(d.mask[n / 8] >> (n % 8) == 0); /* bits past count are clear */
    /* Backward: exactly mask * scale * dy, added. */
    float *dx = prefill(n, 1), *pre = prefill(n, 1);
    et_f32_dropout_backward__ref(n, d.p, d.mask, d.r, dx);
    for (size_t i = 0; i < n; i++) CHECK(dx[i] == pre[i] + (bit(d.mask, i) ? d.r[i] * scale : 0.0f));
    int ok = check_param("dropout", drop_obj, &d, d.x, n, dx, 1);
    drop_obj(&d); /* the FD left y from a perturbed x */
    /* Reproducible from (seed, counter); another counter or seed differs. */
    uint8_t *m2 = malloc((n + 7) / 8);
    float *y2 = malloc(n * 4);
    et_f32_dropout_train__ref(n, d.p, d.seed, d.counter, d.x, m2, y2);
    ok = ok && memcmp(m2, d.mask, (n + 7) / 8) == 0 && memcmp(y2, d.y, n * 4) == 0;
    et_f32_dropout_train__ref(n, d.p, d.seed, d.counter + 1, d.x, m2, y2);
    ok = ok && memcmp(m2, d.mask, (n + 7) / 8) != 0;
    et_f32_dropout_train__ref(n, d.p, d.seed + 1, d.counter, d.x, m2, y2);
    ok = ok && memcmp(m2, d.mask, (n + 7) / 8) != 0;
    /* A prefix of a longer call is the shorter call: the stream depends on
     * the element index only, so any split of the work gives the same mask. */
    et_f32_dropout_train__ref(n - 50, d.p, d.seed, d.counter, d.x, m2, y2);
    for (size_t i = 0; i < n - 50; i++) ok = ok && bit(m2, i) == bit(d.mask, i);
    /* p = 0 keeps everything unscaled; p = 1 drops everything. */
    et_f32_dropout_train__ref(n, 0.0f, 1, 1, d.x, m2, y2);
    ok = ok && memcmp(y2, d.x, n * 4) == 0;
    et_f32_dropout_train__ref(n, 1.0f, 1, 1, d.x, m2, y2);
    for (size_t i = 0; i < n; i++) ok = ok && y2[i] == 0.0f && !bit(m2, i);
    free(d.mask), free(d.x), free(d.r), free(d.y), free(dx), free(pre), free(m2), free(y2);
    CHECK(ok);
}

/* The drop rate over a large tensor is p within statistical noise. */
static void test_dropout_rate(void) {
    const size_t n = 100000;
    float *x = calloc(n, 4), *y = malloc(n * 4);
    uint8_t *m = malloc((n + 7) / 8);
    static const float ps[] = {0.1f, 0.5f, 0.9f};
    int ok = 1;
    for (size_t k = 0; k < 3; k++) {
        et_f32_dropout_train__ref(n, ps[k], 1234, k, x, m, y);
        size_t kept = 0;
        for (size_t i = 0; i < n; i++) kept += (size_t)bit(m, i);
        double rate = 1.0 - (double)kept / (double)n;
        ok = ok && fabs(rate - (double)ps[k]) < 0.01;
    }
    free(x), free(y), free(m);
    CHECK(ok);
}

int main(void) {
    RUN(test_act_fd);
    RUN(test_act_kinks);
    RUN(test_conv2d_fd);
    RUN(test_linear_fd);
    RUN(test_batchnorm_train);
    RUN(test_batchnorm_frozen);
    RUN(test_binary_fd);
    RUN(test_concat_fd);
    RUN(test_pool_fd);
    RUN(test_maxpool_ties);
    RUN(test_global_avgpool_fd);
    RUN(test_softmax_fd);
    RUN(test_dropout);
    RUN(test_dropout_rate);
    printf("worst accepted FD relative error: %.2g (tolerance %g)\n", worst_err, TOL);
    return t_summary("tests/test_grad_ops.c");
}
