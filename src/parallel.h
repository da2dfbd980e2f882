/* Parallel loops over work units with cache locality across layers: thread
 * w first works through its own contiguous share of the units (the same
 * share of pixels in every layer, so it mostly reads what it wrote itself),
 * then helps the others. Results never depend on who ran a unit. */
#ifndef ET_PARALLEL_H
#define ET_PARALLEL_H

#include <stddef.h>
#include "edgetune.h"

/* run(ctx, t0, t1, worker) over units [0, tasks), on up to `threads`
 * threads of pool (NULL: the caller alone). Worker ids are < threads. */
void et_parallel_for(et_threadpool *pool, size_t threads, size_t tasks,
                     void (*run)(void *ctx, size_t t0, size_t t1, size_t worker), void *ctx);

#endif
