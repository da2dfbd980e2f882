/* Internal side of the thread pool: fork-join of one job over the workers.
 * No kernels and no work-splitting policy here: jobs claim their own units. */
#ifndef ET_THREADPOOL_H
#define ET_THREADPOOL_H

#include <stddef.h>
#include "edgetune.h"

/* fn(ctx, worker) runs on the calling thread (worker 0) and on those of the
 * pool's workers 1 .. want-1 that wake up before the caller has finished;
 * returns when every thread that started fn has left it. fn must therefore
 * claim work dynamically (e.g. an atomic counter) so that the caller alone
 * can do all of it. p NULL or want <= 1 runs fn(ctx, 0) inline. Concurrent
 * callers on one pool take turns. */
void et_threadpool_run(et_threadpool *p, size_t want, void (*fn)(void *ctx, size_t worker), void *ctx);

#endif
