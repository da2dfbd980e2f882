/* A64 NEON (always on for aarch64) instantiation of arch/arm/pool_tmpl.h. Compiled only by the
 * ports that select arch/arm/neon64 (Makefile); holds no code of its own. */
#include "../pool_tmpl.h"
