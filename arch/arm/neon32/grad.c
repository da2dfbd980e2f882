/* ARMv7 NEON + VFPv4 instantiation of the NEON backward kernels
 * (arch/arm/grad_*_tmpl.h): conv/linear per-tap GEMMs, depthwise, batchnorm,
 * activations, and their table. Compiled only by the ports that select arch/arm/neon32; no code of its own. */
#include "../grad_gemm_tmpl.h"
#include "../grad_dw_tmpl.h"
#include "../grad_act_tmpl.h"
#include "../grad_bn_tmpl.h"
#include "../grad_table_tmpl.h"
