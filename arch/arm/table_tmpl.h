/* The et_kernels table of one NEON ISA and its per-geometry conv selection,
 * a template included once per ISA. Selection policy only; kernels live in
 * gemm_tmpl.h, dconv_tmpl.h, dwconv_tmpl.h, eltwise_tmpl.h and pool_tmpl.h. */
#include "simd.h"
#include "arm.h"

static const et_conv_impl *select_conv(const et_conv_geom *g) {
    if (g->groups == 0 || g->oc == 0 || g->ic == 0) return et_conv_impl_ref();
    if (g->groups > 1 && g->groups == g->ic && g->groups == g->oc) return &ET_FN(et_f32_dwconv_impl);
    if (ET_FN(et_f32_dconv_fits)(g)) return &ET_FN(et_f32_dconv_impl);
    if (g->groups == 1) return &ET_FN(et_f32_gemm_impl);
    /* grouped convs that are not depthwise are rare in our models */
    return et_conv_impl_ref();
}

static const et_kernels table = {
    ET_ISA_STR,
    /* whole-op conv/linear stay the reference: packed weights need the
     * arena, which only sessions (conv_select) have */
    et_f32_conv2d__ref,
    et_f32_linear__ref,
    ET_FN(et_f32_batchnorm),
    ET_FN(et_f32_act),
    ET_FN(et_f32_binary),
    et_f32_concat__ref,
    ET_FN(et_f32_maxpool),
    ET_FN(et_f32_avgpool),
    ET_FN(et_f32_global_avgpool),
    ET_FN(et_f32_softmax),
    select_conv,
};

const et_kernels *ET_FN(et_kernels)(void) { return &table; }
