/* Vectorized exp, sigmoid, tanh and SiLU of every x86 level this CPU runs,
 * swept over the float range (every 97th bit pattern plus special values)
 * against double precision: relative error <= 1e-6. */
#include <float.h>
#include <stdint.h>
#include <stdlib.h>
#include "dispatch.h"
#include "edgetune.h"
#include "harness.h"
#if defined(ET_HAVE_X86)
#include "../arch/x86/x86.h"
#endif

#define CHUNK 4096

#if defined(ET_HAVE_X86)
static double ref_of(int fn, double x) {
    switch (fn) {
    case 0: return exp(x);
    case 1: return x >= 0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x));
    case 2: return tanh(x);
    default: return x * (x >= 0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x)));
    }
}

/* Error of a against the double result b. Results that round to zero,
 * infinity or NaN must be exactly that; others are measured relative to
 * max(|b|, FLT_MIN), the float format's own resolution floor. SiLU's
 * floor is |x| FLT_MIN: for x < -87 it is x times a denormal sigmoid, and
 * a denormal carries fewer significant bits than 1e-6 asks for. */
static double err_of(int fn, float x, float a, double b) {
    float bf = (float)b;
    if (isnan(bf) || isnan(a)) return isnan(bf) && isnan(a) ? 0.0 : INFINITY;
    if (isinf(bf) || isinf(a)) return a == bf ? 0.0 : INFINITY;
    double floor = FLT_MIN;
    if (fn == 3 && fabs((double)x) > 1.0) floor *= fabs((double)x);
    double mag = fabs(b) > floor ? fabs(b) : floor;
    return fabs((double)a - b) / mag;
}

static void call(size_t n, const float *x, float *y, const et_kernels *k, int fn, void (*vexp)(size_t, const float *, float *)) {
    static const et_act_kind kinds[4] = {ET_ACT_NONE, ET_ACT_SIGMOID, ET_ACT_TANH, ET_ACT_SILU};
    if (fn == 0) vexp(n, x, y);
    else k->act(n, et_act_of(kinds[fn]), x, y);
}

static void sweep(const char *isa, const et_kernels *k, void (*vexp)(size_t, const float *, float *)) {
    static const char *names[4] = {"exp", "sigmoid", "tanh", "silu"};
    float *x = malloc(CHUNK * sizeof *x), *y = malloc(CHUNK * sizeof *y);
    CHECK(x && y);
    static const float specials[] = {0.0f, -0.0f, INFINITY, -INFINITY, NAN, FLT_MIN, -FLT_MIN, 1e-45f, -1e-45f,
                                     FLT_MAX, -FLT_MAX, 88.7228f, 88.7229f, -87.3365f, -103.97f, -103.98f, -104.0f,
                                     1e-8f, -1e-8f, 0.1733f, -0.1733f, 0.3466f, 9.0f, -9.0f, 20.0f, -20.0f};
    for (int fn = 0; fn < 4; fn++) {
        double worst = 0.0;
        float worst_x = 0.0f;
        size_t n = 0;
        for (size_t i = 0; i < sizeof specials / sizeof *specials; i++) x[n++] = specials[i];
        for (uint64_t bits = 0; bits <= 0xffffffffu; bits += 97) {
            uint32_t b = (uint32_t)bits;
            memcpy(&x[n++], &b, 4);
            if (n == CHUNK || bits + 97 > 0xffffffffu) {
                call(n, x, y, k, fn, vexp);
                for (size_t i = 0; i < n; i++) {
                    double e = err_of(fn, x[i], y[i], ref_of(fn, (double)x[i]));
                    if (e > worst) { worst = e; worst_x = x[i]; }
                }
                n = 0;
            }
        }
        printf("    %s %-7s max rel err %.3g (at %.9g)\n", isa, names[fn], worst, (double)worst_x);
        CHECKF(worst <= 1e-6, "%s %s: error %g at x = %.9g", isa, names[fn], worst, (double)worst_x);
    }
    free(x);
    free(y);
}
#endif

static void test_vmath_avx2(void) {
#if defined(ET_HAVE_X86)
    const et_kernels *k = et_kernels_for(ET_ISA_AVX2, NULL, 0);
    if (!k) SKIP("avx2 not supported by this CPU");
    sweep("avx2", k, et_f32_exp__avx2);
#else
    SKIP("not an x86 build");
#endif
}

static void test_vmath_avx512(void) {
#if defined(ET_HAVE_X86)
    const et_kernels *k = et_kernels_for(ET_ISA_AVX512, NULL, 0);
    if (!k) SKIP("avx512 not supported by this CPU");
    sweep("avx512", k, et_f32_exp__avx512);
#else
    SKIP("not an x86 build");
#endif
}

int main(void) {
#if defined(ET_USE_SLEEF)
    printf("    exp/tanh from SLEEF (make ET_USE_SLEEF=1)\n");
#else
    printf("    exp/tanh from arch/x86/vmath.h\n");
#endif
    RUN(test_vmath_avx2);
    RUN(test_vmath_avx512);
    return t_summary(__FILE__);
}
