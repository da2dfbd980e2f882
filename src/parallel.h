/* Parallel loops over work units with cache locality across layers: thread
 * w first works through its own contiguous share of the units (the same
 * share of pixels in every layer, so it mostly reads what it wrote itself),
 * then helps the others. Results never depend on who ran a unit. */
#ifndef ET_PARALLEL_H
#define ET_PARALLEL_H

#include <stddef.h>
#include "dispatch.h"
#include "edgetune.h"

/* run(ctx, t0, t1, worker) over units [0, tasks), on up to `threads`
 * threads of pool (NULL: the caller alone). Worker ids are < threads. */
void et_parallel_for(et_threadpool *pool, size_t threads, size_t tasks,
                     void (*run)(void *ctx, size_t t0, size_t t1, size_t worker), void *ctx);

/* One conv/linear impl over its tasks; worker w uses scratch + w * stride.
 * The impl computes every element alike however the tasks are split, so
 * results are bit-identical for any thread count. */
void et_parallel_conv(et_threadpool *pool, size_t threads, const et_conv_impl *ci, const et_conv_args *a,
                      unsigned char *scratch, size_t stride);

#endif
