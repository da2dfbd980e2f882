/* A fork-join pool on pthreads: workers wait for a job generation, spin a
 * short while after each job (layers follow each other within microseconds),
 * then block on a condition variable. No work-splitting policy here. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include "threadpool.h"

/* Pause iterations before blocking: some tens of microseconds, longer than
 * the gap between two layers, short enough not to matter when idle. */
#define SPIN_ITERS 4000
/* Set in `state` once the caller has finished: late workers stay out. */
#define CLOSED 0x80000000u

struct et_threadpool {
    size_t threads;             /* including the caller */
    pthread_t *tids;
    pthread_mutex_t lock;       /* guards the condition variables */
    pthread_cond_t wake, done;
    pthread_mutex_t turn;       /* one job at a time across callers */
    atomic_uint gen;            /* job generation */
    atomic_uint state;          /* workers inside fn, | CLOSED */
    atomic_int quit;
    void (*fn)(void *, size_t);
    void *ctx;
    size_t want;
};

typedef struct worker_arg { et_threadpool *p; size_t id; } worker_arg;

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __asm__ __volatile__("pause");
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* Enter the current job unless the caller already closed it. */
static int join(et_threadpool *p) {
    unsigned s = atomic_load_explicit(&p->state, memory_order_acquire);
    while (!(s & CLOSED))
        if (atomic_compare_exchange_weak_explicit(&p->state, &s, s + 1, memory_order_acq_rel, memory_order_acquire)) return 1;
    return 0;
}

static void leave(et_threadpool *p) {
    if (atomic_fetch_sub_explicit(&p->state, 1, memory_order_acq_rel) == (CLOSED | 1u)) {
        pthread_mutex_lock(&p->lock);
        pthread_cond_signal(&p->done);
        pthread_mutex_unlock(&p->lock);
    }
}

static void *worker_main(void *arg) {
    et_threadpool *p = ((worker_arg *)arg)->p;
    size_t id = ((worker_arg *)arg)->id;
    free(arg);
    unsigned seen = atomic_load(&p->gen);
    for (;;) {
        unsigned g;
        int spins = 0;
        while ((g = atomic_load_explicit(&p->gen, memory_order_acquire)) == seen && !atomic_load(&p->quit) && spins < SPIN_ITERS) {
            cpu_relax();
            spins++;
        }
        if (g == seen && !atomic_load(&p->quit)) {
            pthread_mutex_lock(&p->lock);
            while ((g = atomic_load(&p->gen)) == seen && !atomic_load(&p->quit)) pthread_cond_wait(&p->wake, &p->lock);
            pthread_mutex_unlock(&p->lock);
        }
        if (atomic_load(&p->quit)) break;
        seen = g;
        if (join(p)) {
            /* fn, ctx and want were written before state was reopened, which join acquired */
            if (id < p->want) p->fn(p->ctx, id);
            leave(p);
        }
    }
    return NULL;
}

static void stop(et_threadpool *p, size_t n) {
    pthread_mutex_lock(&p->lock);
    atomic_store(&p->quit, 1);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    for (size_t i = 0; i < n; i++) pthread_join(p->tids[i], NULL);
}

et_status et_threadpool_create(size_t threads, et_threadpool **out) {
    if (!out) return ET_ERR_INVALID_ARG;
    *out = NULL;
    if (threads == 0 || threads > 256) return ET_ERR_INVALID_ARG;
    et_threadpool *p = calloc(1, sizeof *p);
    if (!p) return ET_ERR_NO_MEMORY;
    p->threads = threads;
    p->tids = calloc(threads, sizeof *p->tids);
    if (!p->tids) { free(p); return ET_ERR_NO_MEMORY; }
    pthread_mutex_init(&p->lock, NULL);
    pthread_mutex_init(&p->turn, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    atomic_init(&p->gen, 0);
    atomic_init(&p->state, CLOSED);
    atomic_init(&p->quit, 0);
    for (size_t i = 1; i < threads; i++) {
        worker_arg *a = malloc(sizeof *a);
        if (!a || (a->p = p, a->id = i, pthread_create(&p->tids[i - 1], NULL, worker_main, a) != 0)) {
            free(a);
            stop(p, i - 1);
            p->threads = 1;
            et_threadpool_free(p);
            return ET_ERR_NO_MEMORY;
        }
    }
    *out = p;
    return ET_OK;
}

size_t et_threadpool_threads(const et_threadpool *p) { return p ? p->threads : 0; }

void et_threadpool_free(et_threadpool *p) {
    if (!p) return;
    if (p->threads > 1) stop(p, p->threads - 1);
    pthread_mutex_destroy(&p->lock);
    pthread_mutex_destroy(&p->turn);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done);
    free(p->tids);
    free(p);
}

void et_threadpool_run(et_threadpool *p, size_t want, void (*fn)(void *, size_t), void *ctx) {
    if (!p || want <= 1 || p->threads <= 1) {
        fn(ctx, 0);
        return;
    }
    pthread_mutex_lock(&p->turn);
    p->fn = fn;
    p->ctx = ctx;
    p->want = want < p->threads ? want : p->threads;
    atomic_store_explicit(&p->state, 0, memory_order_release); /* open the job */
    pthread_mutex_lock(&p->lock);
    atomic_fetch_add_explicit(&p->gen, 1, memory_order_release);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    fn(ctx, 0);
    /* close: workers that have not joined yet never will; wait for the rest */
    unsigned s = atomic_fetch_or_explicit(&p->state, CLOSED, memory_order_acq_rel) | CLOSED;
    int spins = 0;
    while (s != CLOSED && spins < SPIN_ITERS) {
        cpu_relax();
        spins++;
        s = atomic_load_explicit(&p->state, memory_order_acquire);
    }
    if (s != CLOSED) {
        pthread_mutex_lock(&p->lock);
        while (atomic_load(&p->state) != CLOSED) pthread_cond_wait(&p->done, &p->lock);
        pthread_mutex_unlock(&p->lock);
    }
    pthread_mutex_unlock(&p->turn);
}
