/* AVX512 instantiation of the x86 kernel table and conv selection (arch/x86/table_tmpl.h).
 * Compiled with this ISA's flags only (Makefile); holds no code of its own. */
#define ET_X86_AVX512 1
#include "../simd.h"
#include "../table_tmpl.h"
