/* A64 NEON (always on for aarch64) instantiation of arch/arm/gemm_tmpl.h and dconv_tmpl.h. Compiled only by the
 * ports that select arch/arm/neon64 (Makefile); holds no code of its own. */
#include "../gemm_tmpl.h"
#include "../dconv_tmpl.h"
