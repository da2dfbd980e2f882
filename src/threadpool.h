/* Internal side of the thread pool: fork-join of one job over all workers.
 * No kernels and no scheduling policy here: callers split their own work. */
#ifndef ET_THREADPOOL_H
#define ET_THREADPOOL_H

#include <stddef.h>
#include "edgetune.h"

/* fn(ctx, worker, workers) runs once for each worker in [0, workers), worker
 * 0 on the calling thread; returns when all are done. workers is
 * min(want, threads of p); p NULL or want <= 1 runs fn(ctx, 0, 1) inline.
 * Concurrent callers on one pool take turns. */
void et_threadpool_run(et_threadpool *p, size_t want, void (*fn)(void *ctx, size_t worker, size_t workers), void *ctx);

#endif
