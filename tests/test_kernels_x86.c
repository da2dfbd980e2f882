/* x86 SIMD kernels against the reference kernels: every conv impl the CPU
 * supports on randomized geometries with tails, split into arbitrary work
 * ranges (bit-identity), element-wise ops, pooling, batchnorm, and
 * MobileNetV2 per ISA level. */
#include <stdlib.h>
#include <string.h>
#include "dispatch.h"
#include "edgetune.h"
#include "harness.h"
#include "zoo/zoo.h"

static const et_isa levels[] = {ET_ISA_AVX2, ET_ISA_AVX512};
#define N_LEVELS (sizeof levels / sizeof levels[0])
/* Every level here needs AVX2 (AVX-512 implies it): without it a per-level
 * test has nothing to run and says so rather than passing. */
#define SKIP_WITHOUT_X86() do { if (!et_kernels_for(ET_ISA_AVX2, NULL, 0)) SKIP("no AVX2 in this CPU or build"); } while (0)

/* per-element |a-b| / max(1, |b|); NaN in one but not the other is infinite */
static double elem_err(const float *a, const float *b, size_t n, size_t *at) {
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(a[i]) && isnan(b[i])) continue;
        double d = fabs((double)a[i] - (double)b[i]);
        if (a[i] == b[i]) d = 0.0; /* equal infinities */
        d /= fabs((double)b[i]) > 1.0 ? fabs((double)b[i]) : 1.0;
        if (d != d) d = INFINITY;
        if (d > worst) { worst = d; *at = i; }
    }
    return worst;
}

static et_act random_act(unsigned *s) {
    et_act a = et_act_of((et_act_kind)(t_rand(s) % ET_ACT_COUNT));
    if (a.kind == ET_ACT_CLIP) { a.a = -0.5f; a.b = 0.75f; }
    if (a.kind == ET_ACT_LEAKY_RELU) a.a = 0.1f;
    return a;
}

/* Runs impl on g in `parts` random work ranges; returns the packed-path output. */
static int run_impl(const et_conv_impl *ci, const et_conv_geom *g, const float *x, const float *w, const float *b,
                    et_act act, float *y, unsigned *s, int parts) {
    size_t pb = ci->pack_bytes(g), sb = ci->scratch_bytes(g);
    void *packed = NULL, *scratch = NULL;
    if (pb && posix_memalign(&packed, ET_ALIGN, pb)) return 0;
    if (posix_memalign(&scratch, ET_ALIGN, sb ? sb : 64)) { free(packed); return 0; }
    if (pb) ci->pack(g, w, b, packed);
    et_conv_args a = {g, x, packed, w, b, act, y};
    size_t T = ci->tasks(g), t = 0;
    while (t < T) {
        size_t step = parts <= 1 ? T : 1 + t_rand(s) % (T / (size_t)parts + 1);
        if (step > T - t) step = T - t;
        ci->run(&a, t, t + step, scratch);
        t += step;
    }
    free(packed);
    free(scratch);
    return 1;
}

/* One random conv geometry: depthwise, pointwise, grouped or general. */
static int random_geom(unsigned *s, et_conv_geom *g, int kind) {
    memset(g, 0, sizeof *g);
    g->n = 1 + t_rand(s) % 2;
    g->ih = 1 + t_rand(s) % 33;
    g->iw = 1 + t_rand(s) % 33;
    static const size_t ks[] = {1, 2, 3, 5};
    g->kh = ks[t_rand(s) % 4];
    g->kw = kind == 1 ? g->kh : ks[t_rand(s) % 4];
    g->sh = 1 + t_rand(s) % 3;
    g->sw = kind == 1 ? g->sh : 1 + t_rand(s) % 3;
    g->dh = 1 + t_rand(s) % 2;
    g->dw = 1 + t_rand(s) % 2;
    g->pad_t = t_rand(s) % 3;
    g->pad_l = t_rand(s) % 3;
    size_t pad_b = t_rand(s) % 3, pad_r = t_rand(s) % 3;
    if (kind == 0) { /* depthwise */
        g->ic = g->oc = g->groups = 1 + t_rand(s) % 67;
    } else if (kind == 1) { /* pointwise, any stride */
        g->kh = g->kw = 1;
        g->pad_t = g->pad_l = 0;
        if (t_rand(s) % 4) pad_b = pad_r = 0; /* a quarter keep bottom/right padding (found by fuzzing) */
        g->ic = 1 + t_rand(s) % 67;
        g->oc = 1 + t_rand(s) % 67;
        g->groups = 1;
    } else { /* general, maybe grouped */
        g->groups = 1 + t_rand(s) % 3;
        g->ic = g->groups * (1 + t_rand(s) % 22);
        g->oc = g->groups * (1 + t_rand(s) % 22);
    }
    if (kind == 4) { /* few input channels (first layers): the direct conv, wide rows for its tiles */
        g->groups = 1; g->ic = 1 + t_rand(s) % 4; g->oc = 1 + t_rand(s) % 80;
        g->iw = 1 + t_rand(s) % 60;
        if (g->kh * g->kw == 1) g->kw = 3;
    }
    if (kind == 5) { /* MobileNet's 3x3 and 5x5 depthwise: whole channel vectors, stride 1-2, wide and narrow rows */
        g->ic = g->oc = g->groups = 16 * (1 + t_rand(s) % 4);
        g->kh = g->kw = t_rand(s) % 3 ? 3 : 5; g->dh = g->dw = 1;
        g->pad_t = t_rand(s) % g->kh; g->pad_l = t_rand(s) % g->kw;
        g->sh = 1 + t_rand(s) % 2; g->sw = 1 + t_rand(s) % 2;
        g->iw = 1 + t_rand(s) % 40;
    }
    if (kind == 3) { g->n = 1; g->ih = 1; g->iw = 1; g->kh = g->kw = 1; g->sh = g->sw = 1; g->pad_t = g->pad_l = 0; pad_b = pad_r = 0;
        g->ic = 1 + t_rand(s) % 300; g->oc = 1 + t_rand(s) % 300; g->groups = 1; } /* linear */
    g->oh = et_window_out(g->ih, g->kh, g->sh, g->dh, g->pad_t, pad_b, 0);
    g->ow = et_window_out(g->iw, g->kw, g->sw, g->dw, g->pad_l, pad_r, 0);
    return g->oh > 0 && g->ow > 0;
}

static void conv_cases(int kind, int cases) {
    SKIP_WITHOUT_X86();
    for (size_t L = 0; L < N_LEVELS; L++) {
        const et_kernels *k = et_kernels_for(levels[L], NULL, 0);
        if (!k) { printf("    %s: not supported here, skipped\n", et_isa_name(levels[L])); continue; }
        unsigned s = 1234u + (unsigned)kind * 77u + (unsigned)L;
        int done = 0;
        while (done < cases) {
            et_conv_geom g;
            if (!random_geom(&s, &g, kind)) continue;
            done++;
            size_t nx = g.n * g.ih * g.iw * g.ic, ny = g.n * g.oh * g.ow * g.oc, nw = g.oc * g.kh * g.kw * (g.ic / g.groups);
            float *x = malloc(nx * 4), *w = malloc(nw * 4), *b = malloc(g.oc * 4);
            float *y0 = malloc(ny * 4), *y1 = malloc(ny * 4), *y2 = malloc(ny * 4);
            CHECK(x && w && b && y0 && y1 && y2);
            t_fill(x, nx, t_rand(&s));
            t_fill(w, nw, t_rand(&s));
            t_fill(b, g.oc, t_rand(&s));
            int use_bias = t_rand(&s) % 4 != 0;
            et_act act = random_act(&s);
            et_f32_conv2d__ref(&g, x, w, use_bias ? b : NULL, act, y0);
            const et_conv_impl *ci = k->conv_select(&g);
            CHECKF(kind != 4 || strstr(ci->name, "dconv"), "%s chosen for %zu input channels", ci->name, g.ic);
            CHECK(run_impl(ci, &g, x, w, use_bias ? b : NULL, act, y1, &s, 1));
            CHECK(run_impl(ci, &g, x, w, use_bias ? b : NULL, act, y2, &s, 3));
            size_t at = 0;
            double e = elem_err(y1, y0, ny, &at);
            CHECKF(e <= 1e-5, "%s %s: n%zu %zux%zux%zu -> %zux%zux%zu k%zux%zu s%zux%zu d%zux%zu p%zu,%zu g%zu act %s: err %g at %zu (%g vs %g)",
                   k->isa, ci->name, g.n, g.ih, g.iw, g.ic, g.oh, g.ow, g.oc, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.pad_t, g.pad_l,
                   g.groups, et_act_name(act.kind), e, at, (double)y1[at], (double)y0[at]);
            CHECKF(memcmp(y1, y2, ny * 4) == 0, "%s: result depends on the work split", ci->name);
            free(x); free(w); free(b); free(y0); free(y1); free(y2);
        }
    }
}

static void test_depthwise_random(void) { conv_cases(0, 300); }
static void test_depthwise_3x3_5x5_random(void) { conv_cases(5, 300); }
static void test_pointwise_random(void) { conv_cases(1, 300); }
static void test_general_conv_random(void) { conv_cases(2, 200); }
static void test_linear_random(void) { conv_cases(3, 60); }
static void test_few_channel_conv_random(void) { conv_cases(4, 300); }

static void test_elementwise(void) {
    SKIP_WITHOUT_X86();
    for (size_t L = 0; L < N_LEVELS; L++) {
        const et_kernels *k = et_kernels_for(levels[L], NULL, 0);
        if (!k) continue;
        unsigned s = 99;
        for (int it = 0; it < 40; it++) {
            size_t c = 1 + t_rand(&s) % 67, hw = 1 + t_rand(&s) % 40, n = 1 + t_rand(&s) % 2;
            size_t cnt = n * hw * c;
            float *x = malloc(cnt * 4), *y = malloc(cnt * 4), *r0 = malloc(cnt * 4), *r1 = malloc(cnt * 4), *sc = malloc(n * c * 4);
            CHECK(x && y && r0 && r1 && sc);
            t_fill(x, cnt, t_rand(&s));
            t_fill(y, cnt, t_rand(&s));
            t_fill(sc, n * c, t_rand(&s));
            for (size_t i = 0; i < cnt; i++) x[i] *= 8.0f;
            et_act act = random_act(&s);
            size_t at = 0;
            et_f32_act__ref(cnt, act, x, r0);
            k->act(cnt, act, x, r1);
            CHECKF(elem_err(r1, r0, cnt, &at) <= 1e-5, "%s act %s", k->isa, et_act_name(act.kind));
            et_shape zs = {n, hw, 1, c}, cs = {n, 1, 1, c};
            for (int kind = 0; kind < 2; kind++) {
                et_binary_kind bk = kind ? ET_BINARY_MUL : ET_BINARY_ADD;
                et_f32_binary__ref(bk, zs, x, zs, y, zs, act, r0);
                k->binary(bk, zs, x, zs, y, zs, act, r1);
                CHECKF(elem_err(r1, r0, cnt, &at) <= 1e-5, "%s binary same", k->isa);
                et_f32_binary__ref(bk, zs, x, cs, sc, zs, act, r0);
                k->binary(bk, zs, x, cs, sc, zs, act, r1);
                CHECKF(elem_err(r1, r0, cnt, &at) <= 1e-5, "%s binary channel-wise", k->isa);
                et_f32_binary__ref(bk, cs, sc, zs, x, zs, act, r0);
                k->binary(bk, cs, sc, zs, x, zs, act, r1);
                CHECKF(elem_err(r1, r0, cnt, &at) <= 1e-5, "%s binary channel-wise swapped", k->isa);
            }
            et_f32_global_avgpool__ref(n, hw, c, x, r0);
            k->global_avgpool(n, hw, c, x, r1);
            CHECKF(elem_err(r1, r0, n * c, &at) <= 1e-5, "%s global avgpool", k->isa);
            et_f32_softmax__ref(n * hw, c, x, r0);
            k->softmax(n * hw, c, x, r1);
            CHECKF(elem_err(r1, r0, cnt, &at) <= 1e-5, "%s softmax", k->isa);
            free(x); free(y); free(r0); free(r1); free(sc);
        }
    }
}

/* Max/avg pooling (every kernel, stride, padding, divisor mode, NaNs and
 * +-inf in windows) and inference batchnorm against the reference. */
static void test_pool_and_batchnorm(void) {
    for (size_t L = 0; L < N_LEVELS; L++) {
        const et_kernels *k = et_kernels_for(levels[L], NULL, 0);
        if (!k) continue;
        unsigned s = 7;
        for (int it = 0; it < 300; it++) {
            et_pool_geom g;
            memset(&g, 0, sizeof g);
            g.n = 1 + t_rand(&s) % 2; g.c = 1 + t_rand(&s) % 67;
            g.ih = 1 + t_rand(&s) % 17; g.iw = 1 + t_rand(&s) % 17;
            g.kh = 1 + t_rand(&s) % 4; g.kw = 1 + t_rand(&s) % 4;
            g.sh = 1 + t_rand(&s) % 3; g.sw = 1 + t_rand(&s) % 3;
            g.pad_t = t_rand(&s) % g.kh; g.pad_l = t_rand(&s) % g.kw;
            g.pad_b = t_rand(&s) % g.kh; g.pad_r = t_rand(&s) % g.kw;
            g.count_include_pad = (int)(t_rand(&s) % 2);
            if (g.ih + g.pad_t + g.pad_b < g.kh || g.iw + g.pad_l + g.pad_r < g.kw) continue;
            g.oh = (g.ih + g.pad_t + g.pad_b - g.kh) / g.sh + 1;
            g.ow = (g.iw + g.pad_l + g.pad_r - g.kw) / g.sw + 1;
            size_t in = g.n * g.ih * g.iw * g.c, out = g.n * g.oh * g.ow * g.c, at = 0;
            float *x = malloc(in * 4), *r0 = malloc(out * 4), *r1 = malloc(out * 4);
            CHECK(x && r0 && r1);
            t_fill(x, in, t_rand(&s));
            if (it % 5 == 0) { x[t_rand(&s) % in] = NAN; x[t_rand(&s) % in] = INFINITY; x[t_rand(&s) % in] = -INFINITY; }
            et_f32_maxpool__ref(&g, x, r0);
            k->maxpool(&g, x, r1);
            CHECKF(elem_err(r1, r0, out, &at) == 0.0, "%s maxpool c %zu k %zux%zu at %zu: %g vs %g", k->isa, g.c, g.kh, g.kw, at, r1[at], r0[at]);
            if (it % 5 != 0) {
                et_f32_avgpool__ref(&g, x, r0);
                k->avgpool(&g, x, r1);
                CHECKF(elem_err(r1, r0, out, &at) <= 1e-5, "%s avgpool c %zu at %zu", k->isa, g.c, at);
            }
            free(x); free(r0); free(r1);
        }
        for (int it = 0; it < 60; it++) {
            size_t c = 1 + t_rand(&s) % 300, rows = 1 + t_rand(&s) % 40, cnt = rows * c, at = 0;
            float *x = malloc(cnt * 4), *r0 = malloc(cnt * 4), *r1 = malloc(cnt * 4), *p = malloc(4 * c * 4);
            CHECK(x && r0 && r1 && p);
            t_fill(x, cnt, t_rand(&s));
            t_fill(p, 4 * c, t_rand(&s));
            for (size_t i = 0; i < c; i++) p[3 * c + i] = fabsf(p[3 * c + i]) + 0.1f; /* variance > 0 */
            et_f32_batchnorm__ref(rows, c, x, p, p + c, p + 2 * c, p + 3 * c, 1e-5f, r0);
            k->batchnorm(rows, c, x, p, p + c, p + 2 * c, p + 3 * c, 1e-5f, r1);
            CHECKF(elem_err(r1, r0, cnt, &at) <= 1e-5, "%s batchnorm c %zu at %zu", k->isa, c, at);
            k->batchnorm(rows, c, x, p, p + c, p + 2 * c, p + 3 * c, 1e-5f, x); /* in place */
            CHECK(memcmp(x, r1, cnt * 4) == 0);
            free(x); free(r0); free(r1); free(p);
        }
    }
}

/* Whole MobileNetV2 (folded, 96x96) per ISA level against generic. */
static float *run_mnv2(et_model *m, et_isa isa, const float *in, size_t nin, size_t nout) {
    et_config cfg = {1, 96, 96, 1};
    et_exec_options opt = {isa, NULL, 0};
    et_plan p;
    if (et_model_plan_ex(m, &cfg, &opt, &p) != ET_OK) return NULL;
    void *arena = malloc(p.total);
    float *out = malloc(nout * 4);
    et_session *s;
    if (!arena || !out || et_session_prepare_ex(m, &cfg, &opt, arena, p.total, &s, NULL) != ET_OK ||
        et_session_run_copy(s, in, nin, out, nout) != ET_OK || strcmp(et_session_isa(s), et_isa_name(isa)) != 0) {
        free(arena); free(out);
        return NULL;
    }
    free(arena);
    return out;
}

static void test_mobilenet_v2_per_isa(void) {
    SKIP_WITHOUT_X86();
    et_model *raw = NULL, *m = NULL;
    CHECK_OK(et_zoo_mobilenet_v2(1000, 96, 96, 1.0f, 7, 1, &raw));
    CHECK_OK(et_model_fold(raw, &m));
    size_t nin = 96 * 96 * 3, nout = 1000;
    float *in = malloc(nin * 4);
    t_fill(in, nin, 3);
    float *ref = run_mnv2(m, ET_ISA_GENERIC, in, nin, nout);
    CHECK(ref);
    for (size_t L = 0; L < N_LEVELS; L++) {
        if (!et_kernels_for(levels[L], NULL, 0)) continue;
        float *o = run_mnv2(m, levels[L], in, nin, nout);
        CHECK(o);
        double e = t_max_rel_err(o, ref, nout);
        printf("    MobileNetV2@96 %s vs generic: max rel err %.3g\n", et_isa_name(levels[L]), e);
        CHECK(e <= 1e-4);
        free(o);
    }
    free(ref); free(in);
    et_model_free(raw); et_model_free(m);
}

static void test_isa_forcing(void) {
    et_model *m = NULL;
    CHECK_OK(et_zoo_mobilenet_v2(10, 32, 32, 0.5f, 3, 0, &m));
    et_plan p;
    et_exec_options bad = {(et_isa)99, NULL, 0};
    CHECK_ST(et_model_plan_ex(m, NULL, &bad, &p), ET_ERR_INVALID_ARG);
    for (int i = ET_ISA_GENERIC; i < ET_ISA_COUNT; i++) {
        et_exec_options o = {(et_isa)i, NULL, 0};
        et_status st = et_model_plan_ex(m, NULL, &o, &p);
        if (et_kernels_for(i, NULL, 0)) CHECK(st == ET_OK);
        else CHECK(st == ET_ERR_UNSUPPORTED);
    }
    CHECK(strcmp(et_isa_name(ET_ISA_AVX512), "avx512") == 0);
    CHECK(et_isa_best() >= ET_ISA_GENERIC);
    et_model_free(m);
}

int main(void) {
    RUN(test_isa_forcing);
    RUN(test_pointwise_random);
    RUN(test_depthwise_random);
    RUN(test_depthwise_3x3_5x5_random);
    RUN(test_general_conv_random);
    RUN(test_linear_random);
    RUN(test_few_channel_conv_random);
    RUN(test_elementwise);
    RUN(test_pool_and_batchnorm);
    RUN(test_mobilenet_v2_per_isa);
    return t_summary(__FILE__);
}
