/* ARMv7 NEON + VFPv4 (-mfpu=neon-vfpv4) instantiation of arch/arm/pool_tmpl.h. Compiled only by the
 * ports that select arch/arm/neon32 (Makefile); holds no code of its own. */
#include "../pool_tmpl.h"
