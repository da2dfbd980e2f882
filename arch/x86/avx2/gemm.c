/* AVX2 instantiation of the x86 GEMM microkernels and pointwise/im2col/direct conv impls (arch/x86/gemm_tmpl.h, dconv_tmpl.h).
 * Compiled with this ISA's flags only (Makefile); holds no code of its own. */
#define ET_X86_AVX2 1
#include "../simd.h"
#include "../gemm_tmpl.h"
#include "../dconv_tmpl.h"
