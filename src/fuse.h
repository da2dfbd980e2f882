/* Inverted-residual block fusion for inference: a pointwise expand (when
 * there is one), the depthwise conv reading it and the pointwise project
 * reading that run together in bands of output rows, so the wide intermediate tensors stay
 * in per-worker cache-sized buffers instead of going through memory. The
 * same conv impls run on sub-geometries, and every output element is
 * computed by the same arithmetic as unfused, so results are the same bits. */
#ifndef ET_FUSE_H
#define ET_FUSE_H

#include "dispatch.h"
#include "model.h"

/* fuse[i] of a node: 0 runs alone; FUSE_INNER runs inside the block that
 * starts before it; else node i starts a block and fuse[i] is its band
 * height in output rows, | ET_FUSE_NO_EXPAND for a depthwise -> project
 * pair without an expand conv. */
#define ET_FUSE_INNER 0xffffffffu
#define ET_FUSE_NO_EXPAND 0x40000000u

/* Decide the blocks of m (given each value's shape and each node's impl)
 * into fuse[n_nodes]; returns the per-worker bytes of the band buffers of
 * the largest block (0 when nothing fuses). */
size_t et_fuse_plan(const et_model *m, const et_shape *shapes, const et_conv_impl *const *impl, uint32_t *fuse);

/* What running a block needs from the session. */
typedef struct et_fuse_exec {
    const et_model *m;
    const et_shape *shapes;
    const et_conv_impl *const *impl;
    const void *const *packed;
    float *const *data;
    unsigned char *scratch;   /* per worker: kernel scratch, then the band buffers */
    size_t scratch_stride, kernel_scratch;
    et_threadpool *pool;
    size_t threads;
} et_fuse_exec;

/* Run the block starting at node a; code is its fuse[] entry. */
void et_fuse_run(const et_fuse_exec *x, uint32_t a, uint32_t code);
/* Nodes in the block a fuse[] code starts (3, or 2 without expand). */
size_t et_fuse_nodes(uint32_t code);

#endif
