/* Share-then-steal scheduling on top of the fork-join pool. */
#include <stdalign.h>
#include <stdatomic.h>
#include "parallel.h"
#include "threadpool.h"

/* Threads beyond this many have no share of their own and only help. */
#define MAX_SHARES 16

typedef struct share {
    alignas(64) atomic_size_t next; /* its own cache line: no false sharing */
    size_t end, chunk;
} share;

typedef struct par_job {
    void (*run)(void *, size_t, size_t, size_t);
    void *ctx;
    size_t shares;
    share s[MAX_SHARES];
} par_job;

/* Claim chunks of share sh until it is exhausted. */
static void drain(par_job *j, share *sh, size_t wk) {
    for (;;) {
        size_t t0 = atomic_fetch_add_explicit(&sh->next, sh->chunk, memory_order_relaxed);
        if (t0 >= sh->end) return;
        size_t t1 = sh->end - t0 < sh->chunk ? sh->end : t0 + sh->chunk;
        j->run(j->ctx, t0, t1, wk);
    }
}

static void par_worker(void *ctx, size_t wk) {
    par_job *j = ctx;
    size_t own = wk < j->shares ? wk : 0;
    for (size_t k = 0; k < j->shares; k++) drain(j, &j->s[(own + k) % j->shares], wk);
}

void et_parallel_for(et_threadpool *pool, size_t threads, size_t tasks,
                     void (*run)(void *ctx, size_t t0, size_t t1, size_t worker), void *ctx) {
    size_t n = threads;
    if (!pool || n == 0) n = 1;
    if (pool && n > et_threadpool_threads(pool)) n = et_threadpool_threads(pool);
    if (n > tasks) n = tasks;
    if (n <= 1) {
        if (tasks) run(ctx, 0, tasks, 0);
        return;
    }
    par_job j;
    j.run = run;
    j.ctx = ctx;
    j.shares = n < MAX_SHARES ? n : MAX_SHARES;
    for (size_t w = 0; w < j.shares; w++) {
        size_t lo = tasks * w / j.shares, hi = tasks * (w + 1) / j.shares;
        atomic_init(&j.s[w].next, lo);
        j.s[w].end = hi;
        /* a few chunks per share: a late thread's share is taken over in pieces */
        j.s[w].chunk = (hi - lo + 3) / 4;
        if (j.s[w].chunk == 0) j.s[w].chunk = 1;
    }
    et_threadpool_run(pool, n, par_worker, &j);
}

typedef struct conv_job {
    const et_conv_impl *ci;
    const et_conv_args *a;
    unsigned char *scratch;
    size_t stride;
} conv_job;

static void conv_units(void *ctx, size_t t0, size_t t1, size_t wk) {
    const conv_job *j = ctx;
    j->ci->run(j->a, t0, t1, j->scratch + wk * j->stride);
}

void et_parallel_conv(et_threadpool *pool, size_t threads, const et_conv_impl *ci, const et_conv_args *a,
                      unsigned char *scratch, size_t stride) {
    conv_job j = {ci, a, scratch, stride};
    et_parallel_for(pool, threads, ci->tasks(a->g), conv_units, &j);
}
