/* The et_kernels table of one x86 ISA and its per-geometry conv selection,
 * a template included once per ISA after simd.h. Selection policy only. */
#include "dispatch.h"
#include "x86.h"

extern const et_conv_impl ET_FN(et_f32_gemm_impl), ET_FN(et_f32_igemm_impl), ET_FN(et_f32_dwconv_impl), ET_FN(et_f32_dconv_impl);
int ET_FN(et_f32_dconv_fits)(const et_conv_geom *g);
void ET_FN(et_f32_act)(size_t count, et_act act, const float *x, float *y);
void ET_FN(et_f32_binary)(et_binary_kind kind, et_shape xs, const float *x, et_shape ys, const float *y,
                          et_shape zs, et_act act, float *z);
void ET_FN(et_f32_global_avgpool)(size_t n, size_t hw, size_t c, const float *x, float *y);
void ET_FN(et_f32_softmax)(size_t rows, size_t c, const float *x, float *y);
void ET_FN(et_f32_maxpool)(const et_pool_geom *g, const float *x, float *y);
void ET_FN(et_f32_avgpool)(const et_pool_geom *g, const float *x, float *y);
void ET_FN(et_f32_batchnorm)(size_t rows, size_t c, const float *x, const float *gamma, const float *beta,
                             const float *mean, const float *var, float eps, float *y);

static const et_conv_impl *select_conv(const et_conv_geom *g) {
    if (g->groups == 0 || g->oc == 0 || g->ic == 0) return et_conv_impl_ref();
    if (g->groups > 1 && g->groups == g->ic && g->groups == g->oc) return &ET_FN(et_f32_dwconv_impl);
    if (ET_FN(et_f32_dconv_fits)(g)) return &ET_FN(et_f32_dconv_impl);
    if (g->kh == 1 && g->kw == 1 && g->pad_t == 0 && g->pad_l == 0 && (g->oh - 1) * g->sh < g->ih && (g->ow - 1) * g->sw < g->iw) return &ET_FN(et_f32_gemm_impl);
    return &ET_FN(et_f32_igemm_impl);
}

static const et_kernels table = {
    ET_ISA_STR,
    /* whole-op conv/linear keep the reference: packed weights need the arena,
     * which only sessions (conv_select) have */
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
