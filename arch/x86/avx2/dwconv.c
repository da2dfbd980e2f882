/* AVX2 instantiation of the x86 depthwise conv impl (arch/x86/dwconv_tmpl.h).
 * Compiled with this ISA's flags only (Makefile); holds no code of its own. */
#define ET_X86_AVX2 1
#include "../simd.h"
#include "../dwconv_tmpl.h"
