/* AVX2 instantiation of the x86 pooling and inference batchnorm kernels (arch/x86/pool_tmpl.h).
 * Compiled with this ISA's flags only (Makefile); holds no code of its own. */
#define ET_X86_AVX2 1
#include "../simd.h"
#include "../pool_tmpl.h"
