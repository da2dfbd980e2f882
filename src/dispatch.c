/* Kernel tables and their selection: the generic table holds the reference
 * kernels; SIMD tables from arch/ are chosen here (CPUID, the ET_ISA
 * environment variable or the caller's et_config.isa) and nowhere else. */
#include <stdlib.h>
#include <string.h>
#include "dispatch.h"
#include "model.h"
#include "train/grad_ops.h"
#if defined(ET_HAVE_X86)
#include "../arch/x86/x86.h"
#endif
/* NEON: one ISA per build, chosen by the port (issue 4); ET_ISA_NEON names it. */
#if defined(__aarch64__) && defined(ET_HAVE_NEON64)
#include "../arch/arm/arm.h"
#define ET_NEON_KERNELS et_kernels__neon64
#define ET_NEON_GRAD_KERNELS et_grad_kernels__neon64
#elif defined(__ARM_NEON) && !defined(__aarch64__) && defined(ET_HAVE_NEON32)
#include "../arch/arm/arm.h"
#define ET_NEON_KERNELS et_kernels__neon32
#define ET_NEON_GRAD_KERNELS et_grad_kernels__neon32
#endif

static size_t ref_zero(const et_conv_geom *g) { (void)g; return 0; }
static size_t ref_tasks(const et_conv_geom *g) { (void)g; return 1; }
static void ref_pack(const et_conv_geom *g, const float *w, const float *bias, void *dst) { (void)g; (void)w; (void)bias; (void)dst; }
static void ref_run(const et_conv_args *a, size_t t0, size_t t1, void *scratch) {
    (void)scratch;
    if (t0 == 0 && t1 > 0) et_f32_conv2d__ref(a->g, a->x, a->w, a->bias, a->act, a->y);
}
static const et_conv_impl ref_impl = {"et_f32_conv2d__ref", ref_zero, ref_pack, ref_zero, ref_tasks, ref_run};

const et_conv_impl *et_conv_impl_ref(void) { return &ref_impl; }
static const et_conv_impl *ref_select(const et_conv_geom *g) { (void)g; return &ref_impl; }

static const et_kernels generic = {
    "generic",
    et_f32_conv2d__ref,
    et_f32_linear__ref,
    et_f32_batchnorm__ref,
    et_f32_act__ref,
    et_f32_binary__ref,
    et_f32_concat__ref,
    et_f32_maxpool__ref,
    et_f32_avgpool__ref,
    et_f32_global_avgpool__ref,
    et_f32_softmax__ref,
    ref_select,
};

const et_kernels *et_kernels_generic(void) { return &generic; }

/* Table of a level if this CPU and build can run it, else NULL. */
static const et_kernels *table_of(et_isa isa) {
    switch (isa) {
    case ET_ISA_GENERIC: return &generic;
#if defined(ET_HAVE_X86)
    case ET_ISA_AVX2: return et_x86_level() >= 2 ? et_kernels__avx2() : NULL;
    case ET_ISA_AVX512: return et_x86_level() >= 3 ? et_kernels__avx512() : NULL;
#endif
#if defined(ET_NEON_KERNELS)
    case ET_ISA_NEON: return ET_NEON_KERNELS(); /* NEON is in every core the port targets */
#endif
    default: return NULL;
    }
}

et_isa et_isa_best(void) {
    for (int i = ET_ISA_COUNT - 1; i > ET_ISA_GENERIC; i--)
        if (table_of((et_isa)i)) return (et_isa)i;
    return ET_ISA_GENERIC;
}

const char *et_isa_name(et_isa isa) {
    static const char *const names[ET_ISA_COUNT] = {"auto", "generic", "avx2", "avx512", "neon"};
    return (unsigned)isa < ET_ISA_COUNT ? names[isa] : "unknown";
}

const et_kernels *et_kernels_best(void) { return table_of(et_isa_best()); }

const et_kernels *et_kernels_for(int isa, char *err, size_t err_len) {
    if (isa == ET_ISA_AUTO) {
        /* read-only use of the environment: the library keeps no state */
        const char *env = getenv("ET_ISA");
        if (!env || !*env || strcmp(env, "auto") == 0) return et_kernels_best();
        for (int i = ET_ISA_GENERIC; i < ET_ISA_COUNT; i++)
            if (strcmp(env, et_isa_name((et_isa)i)) == 0) { isa = i; break; }
        if (isa == ET_ISA_AUTO) {
            et_fail(err, err_len, ET_ERR_UNSUPPORTED, "ET_ISA=%s: expected generic, avx2, avx512, neon or auto", env);
            return NULL;
        }
    }
    if (isa <= ET_ISA_AUTO || isa >= ET_ISA_COUNT) {
        et_fail(err, err_len, ET_ERR_INVALID_ARG, "config: isa %d is not an et_isa value", isa);
        return NULL;
    }
    const et_kernels *k = table_of((et_isa)isa);
    if (!k) et_fail(err, err_len, ET_ERR_UNSUPPORTED, "isa %s: not supported by this CPU or build (best is %s)",
                    et_isa_name((et_isa)isa), et_isa_name(et_isa_best()));
    return k;
}

/* ---- backward tables ---------------------------------------------------- */

static size_t ref_grad_scratch(const et_conv_geom *g) { (void)g; return 0; }
static const et_grad_kernels generic_grad = {
    "generic",
    et_f32_conv2d_backward_input__ref,
    et_f32_conv2d_backward_weight__ref,
    et_f32_linear_backward_input__ref,
    et_f32_linear_backward_weight__ref,
    ref_grad_scratch,
    et_f32_batchnorm_frozen_backward__ref,
    et_f32_act_backward__ref,
    et_f32_act_mask__ref,
    et_f32_act_backward_mask__ref,
    et_f32_act_forward_mask__ref,
    et_f32_conv2d_backward_weight_units__ref,
    et_f32_conv2d_backward_weight_part__ref,
    et_f32_bn_sums__ref,
    et_f32_bn_out__ref,
    et_f32_bn_grad_sums__ref,
    et_f32_bn_grad_dx__ref,
};

const et_grad_kernels *et_grad_kernels_generic(void) { return &generic_grad; }

const et_grad_kernels *et_grad_kernels_of(const et_kernels *k) {
#if defined(ET_HAVE_X86)
    /* compare with the tables themselves: a caller holding one got it through
     * table_of, which checked the CPU, so no CPUID here (this runs per node) */
    if (k && k == et_kernels__avx2()) return et_grad_kernels__avx2();
    if (k && k == et_kernels__avx512()) return et_grad_kernels__avx512();
#endif
#if defined(ET_NEON_KERNELS)
    if (k && k == ET_NEON_KERNELS()) return ET_NEON_GRAD_KERNELS();
#endif
    (void)k;
    return &generic_grad;
}

size_t et_grad_scratch_bytes(const et_kernels *k, const et_conv_geom *g) {
    return et_grad_kernels_of(k)->scratch_bytes(g);
}
