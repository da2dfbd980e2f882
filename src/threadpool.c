/* A fork-join pool on pthreads: workers wait for a job generation, spin a
 * short while after each job (layers follow each other within microseconds),
 * then block on a condition variable. No work splitting policy here. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include "threadpool.h"

/* Spin iterations before blocking: roughly 50-100 us on current cores, longer
 * than the gap between two layers, far shorter than anything a user notices. */
#define SPIN_ITERS 20000

struct et_threadpool {
    size_t threads;             /* including the caller */
    pthread_t *tids;
    pthread_mutex_t lock;       /* guards the condition variables */
    pthread_cond_t wake, done;
    pthread_mutex_t turn;       /* one job at a time across callers */
    atomic_uint gen;            /* job generation; odd/even does not matter */
    atomic_size_t pending;      /* workers still running the current job */
    atomic_int quit;
    void (*fn)(void *, size_t, size_t);
    void *ctx;
    size_t workers;             /* of the current job */
    size_t started;
};

typedef struct worker_arg { et_threadpool *p; size_t id; } worker_arg;

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __asm__ __volatile__("pause");
#elif defined(__aarch64__) || defined(__arm__)
    __asm__ __volatile__("yield");
#endif
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
        if (id < p->workers) {
            p->fn(p->ctx, id, p->workers);
            if (atomic_fetch_sub_explicit(&p->pending, 1, memory_order_acq_rel) == 1) {
                pthread_mutex_lock(&p->lock);
                pthread_cond_signal(&p->done);
                pthread_mutex_unlock(&p->lock);
            }
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
    atomic_init(&p->pending, 0);
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

void et_threadpool_run(et_threadpool *p, size_t want, void (*fn)(void *, size_t, size_t), void *ctx) {
    size_t n = p && want > p->threads ? p->threads : want;
    if (!p || n <= 1) {
        fn(ctx, 0, 1);
        return;
    }
    pthread_mutex_lock(&p->turn);
    p->fn = fn;
    p->ctx = ctx;
    p->workers = n;
    atomic_store(&p->pending, n - 1);
    pthread_mutex_lock(&p->lock);
    atomic_fetch_add_explicit(&p->gen, 1, memory_order_release);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    fn(ctx, 0, n);
    int spins = 0;
    while (atomic_load_explicit(&p->pending, memory_order_acquire) != 0 && spins < SPIN_ITERS) {
        cpu_relax();
        spins++;
    }
    if (atomic_load(&p->pending) != 0) {
        pthread_mutex_lock(&p->lock);
        while (atomic_load(&p->pending) != 0) pthread_cond_wait(&p->done, &p->lock);
        pthread_mutex_unlock(&p->lock);
    }
    pthread_mutex_unlock(&p->turn);
}
