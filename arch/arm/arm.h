/* The NEON kernel tables as seen by src/dispatch.c and the tests, plus the
 * entry points tests/test_kernels_neon.c checks one by one. Kernels are
 * private to arch/arm otherwise; both ISAs are declared, one is built. */
#ifndef ET_ARCH_ARM_H
#define ET_ARCH_ARM_H

#include "dispatch.h"

#define ET_ARM_DECLARE(sfx)                                                              \
    const et_kernels *et_kernels__##sfx(void);                                           \
    extern const et_conv_impl et_f32_gemm_impl__##sfx, et_f32_dwconv_impl__##sfx,       \
        et_f32_dconv_impl__##sfx;                                                        \
    int et_f32_dconv_fits__##sfx(const et_conv_geom *g);                                 \
    void et_f32_act__##sfx(size_t count, et_act act, const float *x, float *y);          \
    void et_f32_vexp__##sfx(size_t count, const float *x, float *y);                     \
    void et_f32_binary__##sfx(et_binary_kind kind, et_shape xs, const float *x,          \
                              et_shape ys, const float *y, et_shape zs, et_act act,      \
                              float *z);                                                 \
    void et_f32_maxpool__##sfx(const et_pool_geom *g, const float *x, float *y);         \
    void et_f32_avgpool__##sfx(const et_pool_geom *g, const float *x, float *y);         \
    void et_f32_global_avgpool__##sfx(size_t n, size_t hw, size_t c, const float *x,     \
                                      float *y);                                         \
    void et_f32_softmax__##sfx(size_t rows, size_t c, const float *x, float *y);         \
    void et_f32_batchnorm__##sfx(size_t rows, size_t c, const float *x,                  \
                                 const float *gamma, const float *beta,                  \
                                 const float *mean, const float *var, float eps,         \
                                 float *y);                                              \
    /* the backward (training) table, arch/arm/grad_table_tmpl.h */                      \
    const et_grad_kernels *et_grad_kernels__##sfx(void);

ET_ARM_DECLARE(neon64)
ET_ARM_DECLARE(neon32)

#endif
