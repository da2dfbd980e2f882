/* The memory planner: buffer lifetimes from the graph and greedy-by-size
 * offsets with reuse. Knows nothing about kernels or the session struct. */
#ifndef ET_PLAN_H
#define ET_PLAN_H

#include "model.h"

/* One buffer to place: live from step first to step last inclusive.
 * Step 0 is "before node 0" (the input); node i runs at step i + 1. */
typedef struct et_buf {
    size_t bytes;     /* already rounded to ET_ALIGN */
    uint32_t first, last;
    size_t offset;    /* result */
} et_buf;

/* Place bufs (in place) so no two buffers live at the same step overlap.
 * order is scratch of n entries. Returns the pool size. */
size_t et_plan_place(et_buf *bufs, size_t n, uint32_t *order);

/* Max over steps of the bytes live at that step: a lower bound for any placement. */
size_t et_plan_bound(const et_buf *bufs, size_t n, uint32_t steps);

/* Activation buffers of a model for shapes[] (n_nodes + 1 values). View
 * nodes share their input's buffer: root[v] is the value owning v's storage.
 * bufs[v] is meaningful only for roots. Returns ET_ERR_OVERFLOW on size overflow. */
et_status et_plan_values(const et_model *m, const et_shape *shapes, et_buf *bufs, uint32_t *root);

/* Bytes of the planner's per-value tables for nv values: what a model that
 * must plan without the heap keeps in plan_work (see session.c). */
size_t et_plan_work_bytes(uint32_t nv);

static inline size_t et_align_up(size_t v) { return (v + (ET_ALIGN - 1)) & ~(size_t)(ET_ALIGN - 1); }

#endif
