/* AVX512 instantiation of the x86 vectorized element-wise ops (arch/x86/eltwise_tmpl.h).
 * Compiled with this ISA's flags only (Makefile); holds no code of its own. */
#define ET_X86_AVX512 1
#include "../simd.h"
#include "../eltwise_tmpl.h"
