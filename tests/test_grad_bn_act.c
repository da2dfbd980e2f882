/* The batchnorm and activation kernels of every et_grad_kernels table this
 * CPU runs against the reference kernels of train/grad_ops.h, on random
 * shapes with tails (C 1..67, rows 1..300), special values and kinks; the
 * batchnorm through train_bn.c on 1 and 3 threads; the
 * one-bit activation mask against the pre-activation it replaces; the
 * trainer's plan dropping the input of a ReLU-family activation, and its
 * batchnorm + ReLU6 backward fusion against the unfused backward. The NEON
 * table (ARM ports, under qemu here) runs the same cases as its own tests,
 * skipped on builds without NEON. */
#include <stdint.h>
#include <stdlib.h>
#include "dispatch.h"
#include "edgetune.h"
#include "harness.h"
#include "train/grad_ops.h"
#include "train/train_bn.h"
#include "train/trainer.h"

static const et_isa levels[] = {ET_ISA_GENERIC, ET_ISA_AVX2, ET_ISA_AVX512, ET_ISA_NEON};
#define N_LEVELS (sizeof levels / sizeof levels[0])
#define L_NEON (N_LEVELS - 1) /* its own tests, so a build without it reports a skip */

static const et_grad_kernels *level(size_t L) {
    const et_kernels *k = et_kernels_for(levels[L], NULL, 0);
    if (!k) printf("    %s: not supported here, skipped\n", et_isa_name(levels[L]));
    return k ? et_grad_kernels_of(k) : NULL;
}

/* Same bits, NaN payloads included. */
static int same_bits(const float *a, const float *b, size_t n) { return memcmp(a, b, n * sizeof *a) == 0; }

static float *dup(const float *p, size_t n) {
    float *q = malloc((n ? n : 1) * sizeof *q);
    if (q && n) memcpy(q, p, n * sizeof *q);
    return q;
}

/* Batchnorm input with a per-channel offset (|mean| >> std for some channels). */
static void bn_input(float *x, size_t rows, size_t c, unsigned seed) {
    t_fill(x, rows * c, seed);
    for (size_t r = 0; r < rows; r++)
        for (size_t k = 0; k < c; k++) x[r * c + k] = x[r * c + k] * (float)(1 + k % 3) + (float)(k % 5) * 3.0f;
}

/* The batchnorm runs through train_bn.c on this pool (NULL: the caller
 * alone), with this many threads. */
static et_threadpool *bn_pool;
static size_t bn_threads = 1;

static void bn_case(const et_grad_kernels *G, size_t rows, size_t c, unsigned seed, int *ok) {
    size_t n = rows * c;
    double *scr = malloc(et_bn_scratch_bytes(rows, c));
    if (!scr) { *ok = 0; return; }
    const et_bn_exec ex = {G, bn_pool, bn_threads, scr}, *e = &ex;
    float *x = malloc((n ? n : 1) * 4), *dy = malloc((n ? n : 1) * 4), *g = calloc(c, 4), *b = calloc(c, 4);
    float *st = malloc(12 * c * 4), *y0 = malloc((n ? n : 1) * 4), *y1 = malloc((n ? n : 1) * 4);
    float *dx0 = malloc((n ? n : 1) * 4);
    if (!x || !dy || !g || !b || !st || !y0 || !y1 || !dx0) { *ok = 0; return; }
    bn_input(x, rows, c, seed);
    t_fill(dy, n, seed + 1); t_fill(g, c, seed + 2); t_fill(b, c, seed + 3); t_fill(dx0, n, seed + 4);
    t_fill(st, 12 * c, seed + 5);
    for (size_t k = 0; k < c; k++) st[c + k] = st[7 * c + k] = fabsf(st[c + k]) + 0.5f; /* running var > 0 */
    memcpy(st + 6 * c, st, 2 * c * 4);
    float *init = dup(st, 2 * c); /* the running stats before the update */
    if (!init) { *ok = 0; return; }
    /* st: [rm rv sm si dg db] for the reference, then the same for G */
    float *r0 = st, *r1 = st + 6 * c;
    et_f32_batchnorm_train__ref(rows, c, x, g, b, 1e-5f, 0.1f, r0, r0 + c, r0 + 2 * c, r0 + 3 * c, y0);
    et_bn_train_forward(e, rows, c, x, g, b, 1e-5f, 0.1f, r1, r1 + c, r1 + 2 * c, r1 + 3 * c, NULL, et_act_none(), NULL, y1);
    *ok &= same_bits(y0, y1, n) && same_bits(r0, r1, 4 * c);
    /* fused with a ReLU/clip forward: the activation of y0 and its mask, and the same statistics */
    const et_act fa[3] = {et_act_relu6(), et_act_relu(), et_act_clip(-0.5f, 0.5f)};
    for (int q = 0; q < 3 && n; q++) {
        float *ya = malloc(n * 4), *yb = malloc(n * 4), *s2 = malloc(8 * c * 4);
        uint8_t *ma = malloc((n + 7) / 8), *mb = malloc((n + 7) / 8);
        if (!ya || !yb || !s2 || !ma || !mb) { *ok = 0; return; }
        memcpy(s2, init, 2 * c * 4); memcpy(s2 + 4 * c, init, 2 * c * 4);
        memset(ma, 0xA5, (n + 7) / 8);
        et_bn_train_forward(e, rows, c, x, g, b, 1e-5f, 0.1f, s2, s2 + c, s2 + 2 * c, s2 + 3 * c, NULL, fa[q], ma, ya);
        et_f32_batchnorm_train_act__ref(rows, c, x, g, b, 1e-5f, 0.1f, s2 + 4 * c, s2 + 5 * c, s2 + 6 * c, s2 + 7 * c, fa[q], mb, yb);
        *ok &= same_bits(ya, yb, n) && memcmp(ma, mb, (n + 7) / 8) == 0 && same_bits(s2, s2 + 4 * c, 4 * c) && same_bits(s2, r0, 4 * c);
        G->act_forward_mask(n, fa[q], y0, yb, mb);
        *ok &= same_bits(ya, yb, n) && memcmp(ma, mb, (n + 7) / 8) == 0;
        free(ya); free(yb); free(s2); free(ma); free(mb);
    }
    /* keeping the double statistics: the same outputs, the reference's
     * statistics, and y again from them alone (alone and fused) */
    for (int q = 0; q < 4; q++) {
        const et_act a = q == 0 ? et_act_none() : fa[q - 1];
        float *ya = malloc((n ? n : 1) * 4), *yb = malloc((n ? n : 1) * 4), *s2 = malloc(8 * c * 4);
        double *da = malloc(2 * c * 8 + 8), *db = malloc(2 * c * 8 + 8);
        uint8_t *ma = malloc(n / 8 + 1), *mb = malloc(n / 8 + 1);
        if (!ya || !yb || !s2 || !da || !db || !ma || !mb) { *ok = 0; return; }
        memcpy(s2, init, 2 * c * 4); memcpy(s2 + 4 * c, init, 2 * c * 4);
        memset(ma, 0xA5, n / 8 + 1); memset(mb, 0xA5, n / 8 + 1);
        et_bn_train_forward(e, rows, c, x, g, b, 1e-5f, 0.1f, s2, s2 + c, s2 + 2 * c, s2 + 3 * c, da, a, q ? ma : NULL, ya);
        et_f32_batchnorm_train_stats__ref(rows, c, x, g, b, 1e-5f, 0.1f, s2 + 4 * c, s2 + 5 * c, s2 + 6 * c, s2 + 7 * c, db, a, q ? mb : NULL, yb);
        *ok &= same_bits(ya, yb, n) && memcmp(ma, mb, n / 8 + 1) == 0 && memcmp(da, db, 2 * c * 8) == 0 &&
               same_bits(s2, s2 + 4 * c, 4 * c) && same_bits(s2, r0, 4 * c);
        if (q == 0) *ok &= same_bits(ya, y0, n);
        else {
            et_bn_train_forward(e, rows, c, x, g, b, 1e-5f, 0.1f, s2 + 4 * c, s2 + 5 * c, s2 + 6 * c, s2 + 7 * c, NULL, a, mb, yb);
            *ok &= same_bits(ya, yb, n) && memcmp(ma, mb, n / 8 + 1) == 0;
        }
        for (size_t i = 0; i < n; i++) yb[i] = NAN;
        et_bn_train_apply(e, rows, c, x, g, b, da, a, yb);
        *ok &= same_bits(ya, yb, n);
        for (size_t i = 0; i < n; i++) yb[i] = NAN;
        et_f32_batchnorm_apply__ref(rows, c, x, g, b, da, a, yb);
        *ok &= same_bits(ya, yb, n);
        free(ya); free(yb); free(s2); free(da); free(db); free(ma); free(mb);
    }
    /* backward, accumulating into nonzero gradients, with each output optional */
    for (int drop = 0; drop < 4; drop++) {
        float *dx1 = dup(dx0, n), *dx2 = dup(dx0, n), *dg1 = dup(r0 + 4 * c, 2 * c), *dg2 = dup(r0 + 4 * c, 2 * c);
        if (!dx1 || !dx2 || !dg1 || !dg2) { *ok = 0; return; }
        et_f32_batchnorm_train_backward__ref(rows, c, x, g, r0 + 2 * c, r0 + 3 * c, dy, drop == 1 ? NULL : dx1,
                                             drop == 2 ? NULL : dg1, drop == 3 ? NULL : dg1 + c);
        et_bn_train_backward(e, rows, c, x, g, r0 + 2 * c, r0 + 3 * c, NULL, dy, drop == 1 ? NULL : dx2, 0,
                             drop == 2 ? NULL : dg2, drop == 3 ? NULL : dg2 + c);
        *ok &= same_bits(dx1, dx2, n) && same_bits(dg1, dg2, 2 * c);
        memcpy(dx1, dx0, n * 4); memcpy(dx2, dx0, n * 4);
        memcpy(dg1, r0 + 4 * c, 2 * c * 4); memcpy(dg2, r0 + 4 * c, 2 * c * 4);
        et_f32_batchnorm_frozen_backward__ref(rows, c, x, g, r0, r0 + c, 1e-3f, dy, drop == 1 ? NULL : dx1,
                                              drop == 2 ? NULL : dg1, drop == 3 ? NULL : dg1 + c);
        G->bn_frozen_backward(rows, c, x, g, r0, r0 + c, 1e-3f, dy, drop == 1 ? NULL : dx2,
                              drop == 2 ? NULL : dg2, drop == 3 ? NULL : dg2 + c);
        *ok &= same_bits(dx1, dx2, n) && same_bits(dg1, dg2, 2 * c);
        free(dx1); free(dx2); free(dg1); free(dg2);
    }
    /* fused with a ReLU after it: the same bits as the activation's backward
     * into a zeroed buffer followed by the plain backward */
    uint8_t *mask = malloc(n / 8 + 1);
    float *ga = calloc(n ? n : 1, 4), *dx1 = dup(dx0, n), *dx2 = dup(dx0, n), *dx3 = dup(dx0, n);
    float *dg = calloc(6 * c, 4);
    if (!mask || !ga || !dx1 || !dx2 || !dx3 || !dg) { *ok = 0; return; }
    for (size_t i = 0; i < n; i++) if (i % 7 == 3) dy[i] = -0.0f;
    et_f32_act_mask__ref(n, et_act_relu(), y0, mask);
    G->act_backward_mask(n, et_act_relu(), mask, dy, ga);
    et_bn_train_backward(e, rows, c, x, g, r0 + 2 * c, r0 + 3 * c, NULL, ga, dx1, 0, dg, dg + c);
    et_bn_train_backward(e, rows, c, x, g, r0 + 2 * c, r0 + 3 * c, mask, dy, dx2, 0, dg + 2 * c, dg + 3 * c);
    et_f32_batchnorm_train_backward_mask__ref(rows, c, x, g, r0 + 2 * c, r0 + 3 * c, mask, dy, dx3, 0, dg + 4 * c, dg + 5 * c);
    *ok &= same_bits(dx1, dx2, n) && same_bits(dx1, dx3, n) && same_bits(dg, dg + 2 * c, 2 * c) && same_bits(dg, dg + 4 * c, 2 * c);
    /* overwrite: as into a zeroed dx */
    for (size_t i = 0; i < n; i++) { dx1[i] = 0.0f; dx2[i] = dx3[i] = NAN; }
    et_bn_train_backward(e, rows, c, x, g, r0 + 2 * c, r0 + 3 * c, NULL, ga, dx1, 0, NULL, NULL);
    et_bn_train_backward(e, rows, c, x, g, r0 + 2 * c, r0 + 3 * c, mask, dy, dx2, 1, NULL, NULL);
    et_f32_batchnorm_train_backward_mask__ref(rows, c, x, g, r0 + 2 * c, r0 + 3 * c, mask, dy, dx3, 1, NULL, NULL);
    *ok &= same_bits(dx1, dx2, n) && same_bits(dx1, dx3, n);
    free(mask); free(ga); free(dx1); free(dx2); free(dx3); free(dg); free(init);
    free(x); free(dy); free(g); free(b); free(st); free(y0); free(y1); free(dx0); free(scr);
}

/* Batchnorm: the reference's bits (its double sums, in its order) for random
 * shapes, one row, no rows, and more channels than one chunk. */
static void bn_level(size_t L) {
    const et_grad_kernels *G = level(L);
    if (!G) return;
    /* the caller alone, then 3 threads taking the row blocks */
    for (int pass = 0; pass < 2; pass++) {
        if (pass && et_threadpool_create(3, &bn_pool) != ET_OK) { CHECK(0); return; }
        bn_threads = pass ? 3 : 1;
        unsigned s = 99u + (unsigned)L;
        int ok = 1, cases = 0;
        for (; cases < 120 && ok; cases++) {
            size_t rows = 1 + t_rand(&s) % 300, c = 1 + t_rand(&s) % 67;
            bn_case(G, rows, c, t_rand(&s), &ok);
            CHECKF(ok, "%s: rows %zu c %zu, %zu threads", G->isa, rows, c, bn_threads);
        }
        /* many blocks with odd channel counts: blocks meet inside mask bytes unless rows align */
        static const size_t edge[][2] = {{0, 5}, {1, 9}, {2, 3}, {37, 300}, {5, 600}, {4096, 24}, {4100, 13}, {700, 261}};
        for (size_t e = 0; e < sizeof edge / sizeof edge[0]; e++) {
            bn_case(G, edge[e][0], edge[e][1], 7u + (unsigned)e, &ok);
            CHECKF(ok, "%s: rows %zu c %zu, %zu threads", G->isa, edge[e][0], edge[e][1], bn_threads);
        }
        printf("    %s, %zu thread%s: %d random shapes + edges, bit-identical to the reference\n", G->isa, bn_threads,
               bn_threads == 1 ? "" : "s", cases);
        et_threadpool_free(bn_pool);
        bn_pool = NULL;
    }
    bn_threads = 1;
}

/* Activation inputs: random, plus the kinks (0, clip bounds, +-3), signed
 * zeros, infinities and NaN at random places. */
static void act_input(float *x, size_t n, unsigned seed) {
    static const float special[] = {0.0f, -0.0f, 6.0f, -3.0f, 3.0f, 1.0f, -1.0f, INFINITY, -INFINITY, NAN, 1e-30f, -50.0f, 50.0f};
    unsigned s = seed ? seed : 1;
    for (size_t i = 0; i < n; i++) {
        x[i] = 8.0f * t_randf(&s);
        if (t_rand(&s) % 8 == 0) x[i] = special[t_rand(&s) % (sizeof special / sizeof special[0])];
    }
}

static const et_act_kind kinds[] = {ET_ACT_NONE, ET_ACT_RELU, ET_ACT_CLIP, ET_ACT_LEAKY_RELU, ET_ACT_SIGMOID,
                                    ET_ACT_TANH, ET_ACT_SILU, ET_ACT_HARDSWISH, ET_ACT_HARDSIGMOID};
#define N_KINDS (sizeof kinds / sizeof kinds[0])

static int smooth(et_act a) { return a.kind == ET_ACT_SIGMOID || a.kind == ET_ACT_TANH || a.kind == ET_ACT_SILU; }

/* Elements of a and b agree within tol * max(1, |b|); NaN only where b is NaN. */
static int close_to(const float *a, const float *b, size_t n, double tol, double *worst) {
    for (size_t i = 0; i < n; i++) {
        int bad = 0;
        if (b[i] != b[i] || a[i] != a[i]) bad = (b[i] != b[i]) != (a[i] != a[i]);
        else if (isinf(b[i]) || isinf(a[i])) bad = a[i] != b[i];
        else goto finite;
        if (bad) { printf("    element %zu: %.9g vs %.9g\n", i, (double)a[i], (double)b[i]); return 0; }
        continue;
    finite:;
        double e = fabs((double)a[i] - (double)b[i]) / (fabs((double)b[i]) > 1.0 ? fabs((double)b[i]) : 1.0);
        if (e > *worst) *worst = e;
        if (e > tol) { printf("    element %zu: %.9g vs %.9g\n", i, (double)a[i], (double)b[i]); return 0; }
    }
    return 1;
}

/* Every kind's backward against the reference: piecewise kinds to the bit,
 * sigmoid/tanh/SiLU within 1e-5; for the ReLU family the mask path gives the
 * same bits as the path from x, and the mask equals the reference's. */
static void act_level(size_t L) {
    {
        const et_grad_kernels *G = level(L);
        if (!G) return;
        unsigned s = 555u + (unsigned)L;
        double worst = 0.0;
        int cases = 0;
        for (size_t q = 0; q < N_KINDS; q++)
            for (int rep = 0; rep < 40; rep++, cases++) {
                et_act a = et_act_of(kinds[q]);
                if (a.kind == ET_ACT_CLIP && rep % 2) a = et_act_clip(-1.0f, 1.0f);
                if (a.kind == ET_ACT_LEAKY_RELU && rep % 3 == 1) a = et_act_leaky_relu(0.0f);
                size_t n = (1 + t_rand(&s) % 300) * (1 + t_rand(&s) % 67);
                if (rep < 3) n = 1 + (size_t)rep; /* tiny tails */
                float *x = malloc(n * 4), *dy = malloc(n * 4), *d0 = malloc(n * 4);
                uint8_t *m0 = malloc((n + 7) / 8), *m1 = malloc((n + 7) / 8);
                CHECK(x && dy && d0 && m0 && m1);
                act_input(x, n, t_rand(&s));
                t_fill(dy, n, t_rand(&s));
                /* an infinite dy must stay out where act' = 0; sigmoid/tanh/SiLU are
                 * exempt: their float derivative is tiny, not 0, where the double one
                 * rounds to 0 (|x| > 19..37) */
                if (rep % 5 == 0 && !smooth(a)) dy[t_rand(&s) % n] = INFINITY;
                t_fill(d0, n, t_rand(&s));
                float *d1 = dup(d0, n), *d2 = dup(d0, n);
                CHECK(d1 && d2);
                et_f32_act_backward__ref(n, a, x, dy, d0);
                G->act_backward(n, a, x, dy, d1);
                if (smooth(a)) CHECKF(close_to(d1, d0, n, 1e-5, &worst), "%s kind %d n %zu", G->isa, (int)a.kind, n);
                else CHECKF(same_bits(d1, d0, n), "%s kind %d n %zu", G->isa, (int)a.kind, n);
                if (et_act_backward_uses_mask(a)) {
                    memset(m1, 0xA5, (n + 7) / 8);
                    et_f32_act_mask__ref(n, a, x, m0);
                    G->act_mask(n, a, x, m1);
                    CHECKF(memcmp(m0, m1, (n + 7) / 8) == 0, "%s mask kind %d n %zu", G->isa, (int)a.kind, n);
                    /* one pass: the forward table's act and the same mask, also in place */
                    const et_kernels *k = et_kernels_for(levels[L], NULL, 0);
                    float *y0 = malloc(n * 4), *y1 = dup(x, n);
                    CHECK(y0 && y1);
                    k->act(n, a, x, y0);
                    memset(m1, 0x5A, (n + 7) / 8);
                    G->act_forward_mask(n, a, x, d2, m1);
                    CHECKF(same_bits(d2, y0, n) && memcmp(m0, m1, (n + 7) / 8) == 0, "%s forward+mask kind %d n %zu", G->isa, (int)a.kind, n);
                    memset(m1, 0x5A, (n + 7) / 8);
                    G->act_forward_mask(n, a, y1, y1, m1);
                    CHECKF(same_bits(y1, y0, n) && memcmp(m0, m1, (n + 7) / 8) == 0, "%s in-place forward+mask kind %d n %zu", G->isa, (int)a.kind, n);
                    free(y0); free(y1);
                    /* both paths from the same nonzero start */
                    float *e0 = malloc(n * 4);
                    CHECK(e0);
                    t_fill(e0, n, 1); t_fill(d2, n, 1);
                    G->act_backward(n, a, x, dy, e0);
                    G->act_backward_mask(n, a, m1, dy, d2);
                    CHECKF(same_bits(d2, e0, n), "%s mask backward kind %d n %zu", G->isa, (int)a.kind, n);
                    t_fill(d2, n, 1);
                    et_f32_act_backward_mask__ref(n, a, m0, dy, d2);
                    CHECKF(same_bits(d2, e0, n), "%s reference mask backward kind %d n %zu", G->isa, (int)a.kind, n);
                    free(e0);
                }
                free(x); free(dy); free(d0); free(d1); free(d2); free(m0); free(m1);
            }
        printf("    %s: %d cases; sigmoid/tanh/SiLU max |a-b|/max(1,|b|) %.3g, the rest bit-identical\n", G->isa, cases, worst);
    }
}

static void test_batchnorm(void) { for (size_t L = 0; L < L_NEON; L++) bn_level(L); }
static void test_activation_backward(void) { for (size_t L = 0; L < L_NEON; L++) act_level(L); }
static void test_batchnorm_neon(void) {
    if (!et_kernels_for(ET_ISA_NEON, NULL, 0)) SKIP("not a NEON build (the ARM ports run this under qemu)");
    bn_level(L_NEON);
}
static void test_activation_backward_neon(void) {
    if (!et_kernels_for(ET_ISA_NEON, NULL, 0)) SKIP("not a NEON build");
    act_level(L_NEON);
}

/* conv -> BN -> act -> conv: a ReLU6 keeps a bit mask instead of the BN
 * output, which then dies at the activation; SiLU keeps the BN output
 * (unless the plan recomputes it, tests/test_train_recompute.c: off here). */
static et_model *bn_act_model(et_act act) {
    et_builder *b = NULL;
    if (et_builder_new(3, 8, 8, &b) != ET_OK) return NULL;
    float w1[16 * 3 * 3 * 3], w2[4 * 16], g[16], be[16], mu[16], var[16], fw[4 * 4];
    t_fill(w1, 16 * 27, 3); t_fill(w2, 64, 4); t_fill(fw, 16, 5);
    for (int k = 0; k < 16; k++) { g[k] = 1.0f; be[k] = 0.1f; mu[k] = 0.0f; var[k] = 1.0f; }
    et_conv2d_desc c1 = {16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, et_act_none()};
    et_conv2d_desc c2 = {4, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, et_act_none()};
    int v = 0, ok = 1;
    ok &= et_builder_conv2d(b, "c1", 0, &c1, w1, NULL, &v) == ET_OK;
    ok &= et_builder_batchnorm(b, "bn", v, 1e-5f, g, be, mu, var, &v) == ET_OK;
    ok &= et_builder_act(b, "act", v, act, &v) == ET_OK;
    ok &= et_builder_conv2d(b, "c2", v, &c2, w2, NULL, &v) == ET_OK;
    ok &= et_builder_global_avgpool(b, "gap", v, &v) == ET_OK;
    ok &= et_builder_linear(b, "fc", v, 4, fw, NULL, et_act_none(), &v) == ET_OK;
    et_model *m = NULL;
    if (ok) et_builder_finish(b, &m);
    et_builder_free(b);
    return m;
}

static void test_mask_shrinks_plan(void) {
    et_model *mr = bn_act_model(et_act_relu6()), *ms = bn_act_model(et_act_of(ET_ACT_SILU));
    CHECK(mr && ms);
    et_train_config c;
    et_train_config_default(&c);
    c.batch = 4;
    c.freeze_to = 0;
    c.bn_mode = ET_BN_TRAIN;
    et_plan pr, ps;
    et_train_debug_no_recompute(1);
    et_status st1 = et_model_plan_train(mr, &c, &pr), st2 = et_model_plan_train(ms, &c, &ps);
    et_train_debug_no_recompute(0);
    CHECK_OK(st1);
    CHECK_OK(st2);
    printf("    training activations: relu6 %zu bytes, silu %zu bytes\n", pr.activations, ps.activations);
    CHECK(pr.activations < ps.activations);
    /* the prepared trainer runs in exactly the planned bytes (recomputing) */
    CHECK_OK(et_model_plan_train(mr, &c, &pr));
    void *arena = malloc(pr.total);
    CHECK(arena);
    et_trainer *t = NULL;
    CHECK_OK(et_trainer_prepare(mr, &c, arena, pr.total, &t, NULL));
    float x[4 * 8 * 8 * 3];
    int32_t y[4] = {0, 1, 2, 3};
    t_fill(x, sizeof x / 4, 9);
    float loss = 0.0f;
    CHECK_OK(et_trainer_step(t, x, y, &loss));
    CHECK(isfinite(loss));
    free(arena);
    et_model_free(mr);
    et_model_free(ms);
}

/* A training step's gradients (batchnorm running its ReLU6's forward and
 * backward) are the bits of a probe pass, whose forward runs unfused. */
static void test_fused_step_matches_unfused(void) {
    et_model *m = bn_act_model(et_act_relu6());
    CHECK(m);
    et_train_config c;
    et_train_config_default(&c);
    c.batch = 4;
    c.freeze_to = 0;
    c.bn_mode = ET_BN_TRAIN;
    c.accum_steps = 2; /* the first step leaves its gradients in place */
    et_plan p;
    CHECK_OK(et_model_plan_train(m, &c, &p));
    void *aa = malloc(p.total), *ab = malloc(p.total);
    CHECK(aa && ab);
    et_trainer *ta = NULL, *tb = NULL;
    CHECK_OK(et_trainer_prepare(m, &c, aa, p.total, &ta, NULL));
    CHECK_OK(et_trainer_prepare(m, &c, ab, p.total, &tb, NULL));
    int fused = 0;
    for (uint32_t i = 0; i < ta->n_nodes; i++) fused += ta->nodes[i].fuse_act != 0;
    CHECK(fused == 1);
    float x[4 * 8 * 8 * 3];
    int32_t y[4] = {0, 1, 2, 3};
    t_fill(x, sizeof x / 4, 11);
    float loss = 0.0f;
    double lb = 0.0;
    CHECK_OK(et_trainer_step(ta, x, y, &loss));
    memcpy(tb->data[0], x, sizeof x);
    CHECK_OK(et_train_probe_pass(tb, y, NULL, &lb));
    CHECK((float)lb == loss);
    size_t nt = 0;
    for (uint32_t k = 0; k < ta->n_params; k++) {
        if (!ta->params[k].trained) continue;
        nt++;
        /* the step's loss is scaled by 1/accum_steps: a power of two commutes with every rounding */
        for (size_t e = 0; e < ta->params[k].count; e++) ta->params[k].g[e] *= 2.0f;
        CHECKF(same_bits(ta->params[k].g, tb->params[k].g, ta->params[k].count), "parameter %u", k);
    }
    CHECK(nt >= 4);
    free(aa); free(ab);
    et_model_free(m);
}

int main(void) {
    RUN(test_batchnorm);
    RUN(test_activation_backward);
    RUN(test_batchnorm_neon);
    RUN(test_activation_backward_neon);
    RUN(test_mask_shrinks_plan);
    RUN(test_fused_step_matches_unfused);
    return t_summary(__FILE__);
}
