/* Kernel tables. The generic table holds the reference kernels; SIMD tables
 * from arch/ are chosen here and nowhere else. */
#include "dispatch.h"

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
};

const et_kernels *et_kernels_generic(void) { return &generic; }
const et_kernels *et_kernels_best(void) { return &generic; }
