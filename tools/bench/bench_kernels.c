/* `make bench`: GFLOP/s and % of this core's measured FMA peak for the kernel
 * of each MobileNetV2-1.0@224 layer shape, per ISA level (AVX2 against the
 * AVX2 peak, AVX-512 against the AVX-512 peak), one thread, medians. Builds
 * one-layer models with the public API; benchmark code only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "bench/fma_peak.h"
#include "edgetune.h"

typedef struct shape { const char *what; size_t hw, ic, oc, k, s, groups; int linear; } shape;

static const shape shapes[] = {
    {"conv3x3 s2 (first)", 224, 3, 32, 3, 2, 1, 0},
    {"dw3x3 s1 112x112x32", 112, 32, 32, 3, 1, 32, 0},
    {"pw 112x112 32->16", 112, 32, 16, 1, 1, 1, 0},
    {"pw 112x112 16->96", 112, 16, 96, 1, 1, 1, 0},
    {"dw3x3 s2 112x112x96", 112, 96, 96, 3, 2, 96, 0},
    {"pw 56x56 24->144", 56, 24, 144, 1, 1, 1, 0},
    {"dw3x3 s1 56x56x144", 56, 144, 144, 3, 1, 144, 0},
    {"pw 56x56 144->24", 56, 144, 24, 1, 1, 1, 0},
    {"pw 28x28 32->192", 28, 32, 192, 1, 1, 1, 0},
    {"dw3x3 s1 28x28x192", 28, 192, 192, 3, 1, 192, 0},
    {"pw 14x14 64->384", 14, 64, 384, 1, 1, 1, 0},
    {"pw 14x14 384->64", 14, 384, 64, 1, 1, 1, 0},
    {"pw 14x14 96->576", 14, 96, 576, 1, 1, 1, 0},
    {"dw3x3 s1 14x14x576", 14, 576, 576, 3, 1, 576, 0},
    {"dw5x5 s1 14x14x576", 14, 576, 576, 5, 1, 576, 0},
    {"pw 7x7 160->960", 7, 160, 960, 1, 1, 1, 0},
    {"pw 7x7 960->160", 7, 960, 160, 1, 1, 1, 0},
    {"dw3x3 s1 7x7x960", 7, 960, 960, 3, 1, 960, 0},
    {"pw 7x7 320->1280", 7, 320, 1280, 1, 1, 1, 0},
    {"linear 1280->1000", 1, 1280, 1000, 1, 1, 1, 1},
};

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
static int cmp_d(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return x < y ? -1 : x > y; }

/* Median seconds of one run of a single-layer model, or -1 if isa is unavailable. */
static double time_layer(const shape *sh, et_isa isa, double *macs) {
    et_builder *b;
    if (et_builder_new(sh->ic, sh->hw, sh->hw, &b) != ET_OK) return -1;
    size_t nw = sh->oc * sh->k * sh->k * (sh->ic / sh->groups);
    float *w = malloc(nw * sizeof *w), *bias = malloc(sh->oc * sizeof *bias);
    for (size_t i = 0; i < nw; i++) w[i] = (float)((i * 7919) % 17) * 0.01f - 0.08f;
    for (size_t i = 0; i < sh->oc; i++) bias[i] = 0.01f * (float)(i % 5);
    int y, g;
    et_status st;
    if (sh->linear) {
        st = et_builder_global_avgpool(b, "gap", 0, &g);
        if (st == ET_OK) st = et_builder_linear(b, "fc", g, sh->oc, w, bias, et_act_none(), &y);
    } else {
        size_t p = sh->k / 2;
        et_conv2d_desc d = {sh->oc, sh->k, sh->k, sh->s, sh->s, p, p, p, p, 1, 1, sh->groups, et_act_relu6()};
        st = et_builder_conv2d(b, "conv", 0, &d, w, bias, &y);
    }
    et_model *m = NULL;
    if (st == ET_OK) st = et_builder_finish(b, &m);
    et_builder_free(b);
    free(w);
    free(bias);
    if (st != ET_OK) return -1;
    et_model_infer_shapes(m, 1, 0, 0);
    et_node_info ni;
    et_model_node_info(m, et_model_node_count(m) - 1, &ni);
    *macs = (double)ni.macs;
    et_config cfg = {1, 0, 0, 1};
    et_exec_options opt = {isa, NULL, 0};
    et_plan p;
    double med = -1;
    if (et_model_plan_ex(m, &cfg, &opt, &p) == ET_OK) {
        void *arena = malloc(p.total);
        memset(arena, 0, p.total);
        et_session *s;
        if (et_session_prepare_ex(m, &cfg, &opt, arena, p.total, &s, NULL) == ET_OK) {
            size_t nn = et_model_node_count(m);
            double t[200], node[2];
            for (int r = 0; r < 10; r++) et_session_run_profiled(s, node, nn);
            for (int r = 0; r < 200; r++) {
                et_session_run_profiled(s, node, nn);
                t[r] = node[nn - 1];
            }
            qsort(t, 200, sizeof *t, cmp_d);
            med = t[100];
        }
        free(arena);
    }
    et_model_free(m);
    (void)now;
    return med;
}

int main(void) {
    double peak[2] = {et_bench_fma_peak(0), et_bench_fma_peak(1)};
    const et_isa isas[2] = {ET_ISA_AVX2, ET_ISA_AVX512};
    printf("measured FMA peak, one core: AVX2 %.1f GFLOP/s, AVX-512 %.1f GFLOP/s\n\n", peak[0], peak[1]);
    printf("%-24s %10s %12s %8s %12s %8s\n", "layer (MobileNetV2@224)", "MFLOP", "avx2 GF/s", "%peak", "avx512 GF/s", "%peak");
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
        printf("%-24s", shapes[i].what);
        double macs = 0;
        for (int L = 0; L < 2; L++) {
            double t = time_layer(&shapes[i], isas[L], &macs);
            if (L == 0) printf(" %10.2f", 2 * macs * 1e-6);
            if (t <= 0 || peak[L] <= 0) { printf(" %12s %8s", "-", "-"); continue; }
            double gf = 2 * macs / t * 1e-9;
            printf(" %12.1f %8.1f", gf, 100 * gf / peak[L]);
        }
        printf("\n");
    }
    return 0;
}
