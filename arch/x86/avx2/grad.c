/* AVX2 instantiation of the x86 backward kernels (arch/x86/grad_*_tmpl.h):
 * conv/linear per-tap GEMMs, depthwise, batchnorm, activations, and their table. Compiled with this
 * ISA's flags only (Makefile); holds no code of its own. */
#define ET_X86_AVX2 1
#include "../simd.h"
#include "../grad_gemm_tmpl.h"
#include "../grad_dw_tmpl.h"
#include "../grad_bn_tmpl.h"
#include "../grad_act_tmpl.h"
#include "../grad_table_tmpl.h"
