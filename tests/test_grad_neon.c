/* NEON backward kernels (the et_grad_kernels of the NEON table) against the
 * reference backward kernels of train/grad_ops.h on the randomized shapes of
 * tests/test_grad_x86.c (tails included), plus determinism, the scratch
 * query, reads that stop at the end of every buffer (batchnorm and
 * activation kernels too; their values are checked in test_grad_bn_act.c),
 * the ET_ISA_NEON level and the trainer's choice of table. Without NEON the kernel tests skip. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS for the guard pages */
#include <stdint.h>
#include <stdlib.h>
#include "dispatch.h"
#include "edgetune.h"
#include "guard.h"
#include "harness.h"
#include "train/grad_ops.h"
#include "train/train_bn.h"
#include "train/trainer.h"

#if defined(ET_HAVE_NEON64) || defined(ET_HAVE_NEON32)
#define HAVE_NEON 1
#if defined(ET_HAVE_NEON64)
#define ISA "neon64"
#else
#define ISA "neon32"
#endif
#else
#define HAVE_NEON 0
#define ISA "none"
#endif

/* Cases per test; ET_TEST_SCALE (percent) trims them under slow emulators. */
static int cases(int n) {
    const char *s = getenv("ET_TEST_SCALE");
    long pct = s && *s ? strtol(s, NULL, 10) : 100;
    long k = (long)n * (pct > 0 ? pct : 100) / 100;
    return k > 0 ? (int)k : 1;
}

/* The error measure of tests/test_grad_x86.c: an element passes when
 * |a - b| / max(1, |b|) <= 1e-5, or, for long reductions where float
 * summation cannot reach that, |a - b| / max(1, sum|terms|) <= 1e-5 (mag is
 * the reference run on |inputs|). Returns the worst first measure. */
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

/* The geometry generator of tests/test_grad_x86.c, same seeds: the same
 * shapes run on both. kind 0: depthwise, 1: pointwise any stride,
 * 2: general/grouped, 3: linear. */
static int random_geom(unsigned *s, et_conv_geom *g, int kind) {
    memset(g, 0, sizeof *g);
    g->n = 1 + t_rand(s) % 2;
    g->ih = 1 + t_rand(s) % 33;
    g->iw = 1 + t_rand(s) % 33;
    static const size_t ks[] = {1, 2, 3, 5};
    g->kh = ks[t_rand(s) % 4];
    g->kw = ks[t_rand(s) % 4];
    if (kind == 0 && t_rand(s) % 2) g->kw = g->kh = (t_rand(s) % 2) ? 3 : 5;
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

/* The NEON table, or NULL (and the test is skipped) on a build without it. */
static const et_kernels *neon_table(void) { return HAVE_NEON ? et_kernels_for(ET_ISA_NEON, NULL, 0) : NULL; }

/* One geometry: the NEON kernels twice (same bits), the reference on the
 * values and on their magnitudes. Kernel operands sit before guard pages. */
static void grad_cases(int kind, int n_cases) {
    const et_kernels *k = neon_table();
    if (!k) SKIP("not a NEON build (the ARM ports run this under qemu)");
    const et_grad_kernels *G = et_grad_kernels_of(k);
    CHECK(strcmp(G->isa, ISA) == 0 && strcmp(k->isa, ISA) == 0);
    unsigned s = 4321u + (unsigned)kind * 31u; /* avx2's seeds in test_grad_x86.c */
    int done = 0;
    size_t relaxed = 0, total = 0;
    double worst = 0.0, worst_mag = 0.0;
    while (done < n_cases) {
        et_conv_geom g;
        if (!random_geom(&s, &g, kind)) continue;
        done++;
        size_t nx = g.n * g.ih * g.iw * g.ic, ny = g.n * g.oh * g.ow * g.oc, nw = g.oc * g.kh * g.kw * (g.ic / g.groups);
        float *x = gbuf(nx), *w = gbuf(nw), *dy = gbuf(ny), *ax = malloc(nx * 4), *aw = malloc(nw * 4), *ady = malloc(ny * 4);
        float *dx0 = malloc(nx * 4), *dx1 = gbuf(nx), *dx2 = gbuf(nx), *mx = calloc(nx, 4);
        float *dw0 = malloc(nw * 4), *dw1 = gbuf(nw), *dw2 = gbuf(nw), *mw = calloc(nw, 4);
        float *db0 = malloc(g.oc * 4), *db1 = gbuf(g.oc), *mb = calloc(g.oc, 4);
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
        gfree(x, nx); gfree(w, nw); gfree(dy, ny); free(ax); free(aw); free(ady); free(dx0); gfree(dx1, nx); gfree(dx2, nx); free(mx);
        free(dw0); gfree(dw1, nw); gfree(dw2, nw); free(mw); free(db0); gfree(db1, g.oc); free(mb);
    }
    printf("    %s: %d cases, %zu of %zu elements within 1e-5 by |a-b|/max(1,|b|) (max over all %.3g), "
           "all within 1e-5 by |a-b|/max(1,sum|terms|) (max %.3g)\n", k->isa, n_cases, total - relaxed, total, worst, worst_mag);
}

static void test_depthwise_backward(void) { grad_cases(0, cases(300)); }
static void test_pointwise_backward(void) { grad_cases(1, cases(200)); }
static void test_general_conv_backward(void) { grad_cases(2, cases(200)); }
static void test_linear_backward(void) { grad_cases(3, cases(80)); }

/* Long reductions as in MobileNetV2 training (rows = 16 * 20 * 20), and a
 * 5x5 depthwise (its ARMv7 weight gradient runs in tap-row passes). */
static void test_long_reduction(void) {
    const et_kernels *k = neon_table();
    if (!k) SKIP("not a NEON build");
    const et_grad_kernels *G = et_grad_kernels_of(k);
    const et_conv_geom geoms[3] = {
        {16, 20, 20, 40, 20, 20, 48, 1, 1, 1, 1, 1, 1, 0, 0, 1},
        {16, 20, 20, 40, 20, 20, 40, 3, 3, 1, 1, 1, 1, 1, 1, 40},
        {8, 20, 20, 43, 10, 10, 43, 5, 5, 2, 2, 1, 1, 2, 2, 43},
    };
    const char *names[3] = {"pointwise", "depthwise 3x3", "depthwise 5x5 s2"};
    for (int c = 0; c < 3; c++) {
        const et_conv_geom *q = &geoms[c];
        size_t nx = q->n * q->ih * q->iw * q->ic, ny = q->n * q->oh * q->ow * q->oc, nw = q->oc * q->kh * q->kw * (q->ic / q->groups);
        float *x = gbuf(nx), *dy = gbuf(ny), *w0 = calloc(nw, 4), *w1 = gbuf(nw), *m = calloc(nw, 4);
        float *ax = malloc(nx * 4), *ady = malloc(ny * 4);
        CHECK(x && dy && w0 && w1 && m && ax && ady);
        memset(w1, 0, nw * 4);
        t_fill(x, nx, 5); t_fill(dy, ny, 6); absf(ax, x, nx); absf(ady, dy, ny);
        et_f32_conv2d_backward_weight__ref(q, x, dy, w0, NULL);
        et_f32_conv2d_backward_weight__ref(q, ax, ady, m, NULL);
        G->conv_weight(q, x, dy, w1, NULL);
        size_t at = 0, relaxed = 0;
        int bad;
        double wm = 0.0, e = grad_err(w1, w0, m, nw, &at, &relaxed, &wm, &bad);
        printf("    %s %s weight grad over %zu rows: max |a-b|/max(1,|b|) %.3g, %zu of %zu over 1e-5, max vs sum|terms| %.3g\n",
               k->isa, names[c], q->n * q->oh * q->ow, e, relaxed, nw, wm);
        gfree(x, nx); gfree(dy, ny); free(w0); gfree(w1, nw); free(m); free(ax); free(ady);
        CHECKF(!bad, "%s: element %zu", names[c], at);
    }
}

/* ET_ISA_NEON is a level like the x86 ones: the best one on a NEON build,
 * forced by the API and by ET_ISA=neon; ET_ISA=generic still gives the
 * reference kernels forward and backward. Elsewhere it is unsupported. */
static void test_isa_level(void) {
    char err[ET_ERR_LEN];
    CHECK(strcmp(et_isa_name(ET_ISA_NEON), "neon") == 0);
    const char *saved = getenv("ET_ISA");
    char keep[32] = "";
    if (saved) snprintf(keep, sizeof keep, "%s", saved);
    const et_kernels *k = et_kernels_for(ET_ISA_NEON, err, sizeof err);
    if (!HAVE_NEON) {
        CHECK(k == NULL && strstr(err, "neon") != NULL);
        CHECK(et_isa_best() != ET_ISA_NEON);
        return;
    }
    CHECK(k && strcmp(k->isa, ISA) == 0);
    CHECK(et_isa_best() == ET_ISA_NEON && et_kernels_best() == k);
    CHECK(setenv("ET_ISA", "neon", 1) == 0);
    const et_kernels *env_neon = et_kernels_for(ET_ISA_AUTO, NULL, 0);
    CHECK(setenv("ET_ISA", "generic", 1) == 0);
    const et_kernels *env_generic = et_kernels_for(ET_ISA_AUTO, NULL, 0);
    CHECK(setenv("ET_ISA", "avx2", 1) == 0);
    const et_kernels *env_avx2 = et_kernels_for(ET_ISA_AUTO, err, sizeof err);
    if (saved) setenv("ET_ISA", keep, 1); else unsetenv("ET_ISA");
    CHECK(env_neon == k);
    CHECK(env_generic == et_kernels_generic() && et_grad_kernels_of(env_generic) == et_grad_kernels_generic());
    CHECK(env_avx2 == NULL && strstr(err, "avx2") != NULL);
    CHECK(et_kernels_for(ET_ISA_AVX2, NULL, 0) == NULL);
}

static void test_tables(void) {
    CHECK(et_grad_kernels_of(NULL) == et_grad_kernels_generic());
    CHECK(et_grad_kernels_of(et_kernels_generic()) == et_grad_kernels_generic());
    const et_kernels *k = neon_table();
    if (!k) SKIP("not a NEON build");
    const et_grad_kernels *G = et_grad_kernels_of(k);
    CHECK(G != et_grad_kernels_generic() && strcmp(G->isa, ISA) == 0);
    CHECK(G->conv_input && G->conv_weight && G->linear_input && G->linear_weight && G->scratch_bytes);
    CHECK(et_grad_kernels_of(et_kernels_best()) == G);
}

/* conv3x3 -> dw3x3 -> pw -> GAP -> linear, every layer trained. */
static et_model *tiny_net(void) {
    et_builder *b;
    if (et_builder_new(5, 9, 7, &b) != ET_OK) return NULL;
    float w1[12 * 9 * 5], w2[12 * 9], b2[12], w3[10 * 12], fw[3 * 10], fb[3];
    t_fill(w1, sizeof w1 / 4, 11); t_fill(w2, 108, 12); t_fill(b2, 12, 13); t_fill(w3, 120, 14);
    t_fill(fw, 30, 15); t_fill(fb, 3, 16);
    et_conv2d_desc c1 = {12, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, et_act_relu()};
    et_conv2d_desc dw = {12, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 12, et_act_relu6()};
    et_conv2d_desc pw = {10, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, et_act_none()};
    int v, d, p, gp, fc, ok = 1;
    ok &= et_builder_conv2d(b, "conv1", 0, &c1, w1, NULL, &v) == ET_OK;
    ok &= et_builder_conv2d(b, "dw", v, &dw, w2, b2, &d) == ET_OK;
    ok &= et_builder_conv2d(b, "pw", d, &pw, w3, NULL, &p) == ET_OK;
    ok &= et_builder_global_avgpool(b, "gap", p, &gp) == ET_OK;
    ok &= et_builder_linear(b, "fc", gp, 3, fw, fb, et_act_none(), &fc) == ET_OK;
    et_model *out = NULL;
    if (ok) et_builder_finish(b, &out);
    et_builder_free(b);
    return out;
}

/* One SGD step; the trainer's updated weights, concatenated, and its table. */
static float *train_once(const et_model *m, size_t *count, const et_kernels **used) {
    et_train_config c;
    et_train_config_default(&c);
    c.batch = 3;
    c.optim.kind = ET_OPTIM_SGD;
    c.optim.lr = 0.5f;
    c.optim.momentum = 0.0f;
    c.optim.weight_decay = 0.0f;
    c.freeze_to = 0;
    et_plan p;
    if (et_model_plan_train(m, &c, &p) != ET_OK) return NULL;
    void *arena = malloc(p.total);
    et_trainer *t = NULL;
    float x[3 * 9 * 7 * 5], *out = NULL;
    int32_t y[3] = {0, 2, 1};
    t_fill(x, sizeof x / 4, 17);
    if (arena && et_trainer_prepare(m, &c, arena, p.total, &t, NULL) == ET_OK &&
        et_trainer_step(t, x, y, NULL) == ET_OK) {
        *used = t->k;
        size_t n = 0;
        for (uint32_t i = 0; i < t->n_params; i++) n += t->params[i].count;
        out = malloc(n * sizeof *out);
        for (uint32_t i = 0, o = 0; out && i < t->n_params; o += (uint32_t)t->params[i].count, i++)
            if (t->params[i].count) memcpy(out + o, t->params[i].w, t->params[i].count * sizeof *out);
        *count = n;
    }
    free(arena);
    return out;
}

/* n mask bytes ending where a PROT_NONE page starts (gbuf's float count
 * rounded up, so the bytes are the last of its data). */
static uint8_t *gmask(size_t n, size_t *cap) {
    *cap = (n + 3) / 4;
    float *f = gbuf(*cap);
    return f ? (uint8_t *)(void *)f + (*cap * 4 - n) : NULL;
}

/* Batchnorm and activation kernels on channel and element tails with every
 * operand before a guard page: a whole-vector tail access faults. Bits are
 * compared to the reference for batchnorm on the way. */
static void test_bn_act_tails(void) {
    const et_kernels *k = neon_table();
    if (!k) SKIP("not a NEON build");
    const et_grad_kernels *G = et_grad_kernels_of(k);
    int runs = 0;
    for (size_t rows = 1; rows <= 3; rows += 2)
        for (size_t c = 1; c <= 9; c++) {
            const size_t n = rows * c, nm = (n + 7) / 8;
            size_t mc = 0;
            float *x = gbuf(n), *dy = gbuf(n), *y = gbuf(n), *dx = gbuf(n), *st[8];
            float ref[32], want[27]; /* c <= 9, n <= 27 */
            uint8_t *m = gmask(nm, &mc);
            for (int i = 0; i < 8; i++) st[i] = gbuf(c);
            CHECK(x && dy && y && dx && m && st[7]);
            t_fill(x, n, (unsigned)n); t_fill(dy, n, (unsigned)n + 1); t_fill(dx, n, 3);
            for (int i = 0; i < 8; i++) t_fill(st[i], c, 10u + (unsigned)i);
            for (size_t j = 0; j < c; j++) st[1][j] = fabsf(st[1][j]) + 0.5f;
            /* st: gamma, running var (also frozen var), beta, running mean, save mean, save inv std, dgamma, dbeta */
            et_f32_batchnorm_train__ref(rows, c, x, st[0], st[2], 1e-5f, 0.1f, NULL, NULL, ref, ref + 16, want);
            double *scr = malloc(et_bn_scratch_bytes(rows, c));
            CHECK(scr);
            const et_bn_exec ex = {G, NULL, 1, scr}, *e = &ex;
            et_bn_train_forward(e, rows, c, x, st[0], st[2], 1e-5f, 0.1f, st[3], st[1], st[4], st[5], NULL, et_act_none(), NULL, y);
            CHECKF(memcmp(y, want, n * 4) == 0 && memcmp(st[4], ref, c * 4) == 0, "bn_train rows %zu c %zu", rows, c);
            et_bn_train_forward(e, rows, c, x, st[0], st[2], 1e-5f, 0.1f, st[3], st[1], st[4], st[5], NULL, et_act_relu6(), m, y);
            /* keeping the double statistics, and y again from them */
            double *ds = (double *)(void *)gbuf(4 * c);
            CHECK(ds);
            et_bn_train_forward(e, rows, c, x, st[0], st[2], 1e-5f, 0.1f, st[3], st[1], st[4], st[5], ds, et_act_relu6(), m, y);
            et_bn_train_apply(e, rows, c, x, st[0], st[2], ds, et_act_relu6(), dx);
            CHECKF(memcmp(y, dx, n * 4) == 0, "bn_apply rows %zu c %zu", rows, c);
            et_bn_train_apply(e, rows, c, x, st[0], st[2], ds, et_act_none(), dx);
            gfree((float *)(void *)ds, 4 * c);
            et_bn_train_backward(e, rows, c, x, st[0], st[4], st[5], NULL, dy, dx, 0, st[6], st[7]);
            et_bn_train_backward(e, rows, c, x, st[0], st[4], st[5], m, dy, dx, 1, st[6], st[7]);
            free(scr);
            G->bn_frozen_backward(rows, c, x, st[0], st[3], st[1], 1e-3f, dy, dx, st[6], st[7]);
            for (int q = 0; q <= (int)ET_ACT_HARDSIGMOID; q++) {
                et_act a = et_act_of((et_act_kind)q);
                G->act_backward(n, a, x, dy, dx);
                G->act_mask(n, a, x, m);
                G->act_backward_mask(n, a, m, dy, dx);
                G->act_forward_mask(n, a, x, y, m);
            }
            gfree(x, n); gfree(dy, n); gfree(y, n); gfree(dx, n); gfree((float *)(void *)(m - (mc * 4 - nm)), mc);
            for (int i = 0; i < 8; i++) gfree(st[i], c);
            runs++;
        }
    printf("    %d shapes, every operand before a guard page\n", runs);
}

/* Training picks the NEON backward kernels through et_grad_kernels_of, and
 * a step with them lands where the reference kernels' step does. */
static void test_trainer_uses_neon(void) {
    if (!neon_table()) SKIP("not a NEON build");
    et_model *m = tiny_net();
    CHECK(m);
    const char *saved = getenv("ET_ISA");
    char keep[32] = "";
    if (saved) snprintf(keep, sizeof keep, "%s", saved);
    size_t n1 = 0, n2 = 0;
    const et_kernels *k1 = NULL, *k2 = NULL;
    unsetenv("ET_ISA");
    float *a = train_once(m, &n1, &k1);
    setenv("ET_ISA", "generic", 1);
    float *b = train_once(m, &n2, &k2);
    if (saved) setenv("ET_ISA", keep, 1); else unsetenv("ET_ISA");
    et_model_free(m);
    int ok = a && b && n1 == n2 && n1 > 0;
    double e = ok ? t_max_rel_err(a, b, n1) : INFINITY;
    free(a); free(b);
    CHECK(ok);
    CHECK(k1 && strcmp(et_grad_kernels_of(k1)->isa, ISA) == 0);
    CHECK(k2 == et_kernels_generic());
    printf("    one SGD step, %zu weights: neon vs generic max rel err %.3g\n", n1, e);
    CHECKF(e <= 1e-5, "%.3g", e);
}

int main(void) {
    RUN(test_isa_level);
    RUN(test_tables);
    RUN(test_pointwise_backward);
    RUN(test_depthwise_backward);
    RUN(test_general_conv_backward);
    RUN(test_linear_backward);
    RUN(test_long_reduction);
    RUN(test_bn_act_tails);
    RUN(test_trainer_uses_neon);
    return t_summary(__FILE__);
}
