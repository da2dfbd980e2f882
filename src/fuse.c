/* Expand -> depthwise -> project blocks run in bands of output rows (see
 * fuse.h). A band needs a few expanded input rows more than it has output
 * rows (the depthwise window); rows shared with the next band are kept by
 * moving them to the front of the buffer, not recomputed. */
#include <string.h>
#include "fuse.h"
#include "parallel.h"
#include "plan.h"
#include "threadpool.h"

/* Per-worker budget for a block's two band buffers: inside L2 (256 KiB to
 * 1 MiB measured alike on MobileNetV2; 64-128 KiB 3-5% slower). */
#define FUSE_BUDGET ((size_t)512 * 1024)

static int is_conv(const et_node *nd) { return nd->op == ET_OP_CONV2D && nd->n_in == 1; }

static int is_pointwise(const et_node *nd, et_shape xs, et_shape ys) {
    return is_conv(nd) && nd->kh == 1 && nd->kw == 1 && nd->sh == 1 && nd->sw == 1 && nd->pad_t == 0 && nd->pad_l == 0 &&
           nd->groups == 1 && xs.h == ys.h && xs.w == ys.w;
}

static int is_depthwise(const et_node *nd, et_shape xs, et_shape ys) {
    return is_conv(nd) && nd->groups > 1 && nd->groups == xs.c && xs.c == ys.c;
}

static et_conv_geom geom_of(const et_node *nd, et_shape xs, et_shape ys) {
    et_conv_geom g = {xs.n, xs.h, xs.w, xs.c, ys.h, ys.w, ys.c, nd->kh, nd->kw, nd->sh, nd->sw,
                      nd->dh, nd->dw, nd->pad_t, nd->pad_l, nd->groups};
    return g;
}

/* Depthwise input rows a band of b output rows reads. */
static size_t e_rows(const et_conv_geom *d, size_t b) {
    size_t r = (b - 1) * d->sh + (d->kh - 1) * d->dh + 1;
    return r < d->ih ? r : d->ih;
}

/* Band buffers: the expanded rows (when the block expands) and the
 * depthwise output rows. */
static size_t band_bytes(const et_conv_geom *d, size_t b, int expand) {
    return (expand ? et_align_up(e_rows(d, b) * d->iw * d->ic * sizeof(float)) : 0) +
           et_align_up(b * d->ow * d->oc * sizeof(float));
}

/* Is value v read by any node but `reader`, or a model output? */
static int read_elsewhere(const et_model *m, uint32_t v, uint32_t reader) {
    for (uint32_t j = 0; j < m->n_nodes; j++)
        for (uint32_t k = 0; k < m->nodes[j].n_in; k++)
            if (m->nodes[j].in[k] == v && j != reader) return 1;
    for (uint32_t k = 0; k < m->n_outputs; k++)
        if (m->outputs[k] == v) return 1;
    return 0;
}

/* A depthwise node dw and the pointwise node after it, reading only it. */
static int dw_pw(const et_model *m, const et_shape *shapes, const et_conv_impl *const *impl, uint32_t dw) {
    if (dw + 1 >= m->n_nodes || !impl[dw] || !impl[dw + 1]) return 0;
    const et_node *B = &m->nodes[dw], *C = &m->nodes[dw + 1];
    if (!is_depthwise(B, shapes[B->in[0]], shapes[dw + 1]) || C->in[0] != dw + 1 ||
        !is_pointwise(C, shapes[dw + 1], shapes[dw + 2]) || read_elsewhere(m, dw + 1, dw + 1))
        return 0;
    et_conv_geom d = geom_of(B, shapes[B->in[0]], shapes[dw + 1]);
    /* every output row reads at least one real input row */
    return d.oh > 0 && (d.oh - 1) * d.sh < d.pad_t + d.ih && d.pad_t < (d.kh - 1) * d.dh + 1;
}

size_t et_fuse_plan(const et_model *m, const et_shape *shapes, const et_conv_impl *const *impl, uint32_t *fuse) {
    uint32_t n = m->n_nodes;
    size_t most = 0;
    for (uint32_t i = 0; i < n; i++) fuse[i] = 0;
    for (uint32_t a = 0; a + 1 < n; a++) {
        if (fuse[a]) continue;
        const et_node *A = &m->nodes[a];
        /* expand -> depthwise -> project, else depthwise -> project */
        int expand = impl[a] && is_pointwise(A, shapes[A->in[0]], shapes[a + 1]) && A->in[0] != a + 1 &&
                     m->nodes[a + 1].in[0] == a + 1 && dw_pw(m, shapes, impl, a + 1) && !read_elsewhere(m, a + 1, a + 1);
        uint32_t dw = expand ? a + 1 : a;
        if (!expand && !dw_pw(m, shapes, impl, a)) continue;
        const et_node *B = &m->nodes[dw];
        et_conv_geom d = geom_of(B, shapes[B->in[0]], shapes[dw + 1]);
        size_t b = 1;
        while (b < d.oh && band_bytes(&d, b + 1, expand) <= FUSE_BUDGET) b++;
        fuse[a] = (uint32_t)b | (expand ? 0 : ET_FUSE_NO_EXPAND);
        for (uint32_t j = a + 1; j <= dw + 1; j++) fuse[j] = ET_FUSE_INNER;
        if (band_bytes(&d, b, expand) > most) most = band_bytes(&d, b, expand);
    }
    return most;
}

typedef struct block {
    const et_fuse_exec *x;
    uint32_t a, dw;            /* first node; the depthwise node (a or a + 1) */
    int expand;
    et_conv_geom ga, gd, gc;   /* whole-tensor geometries (ga: expand only) */
    size_t band, slices;
} block;

static void run_impl(const et_fuse_exec *x, uint32_t i, const et_conv_geom *g, const float *in, float *out, void *ks) {
    const et_node *nd = &x->m->nodes[i];
    et_conv_args a = {g, in, x->packed[i], nd->params[0].data, nd->params[1].count ? nd->params[1].data : NULL, nd->act, out};
    x->impl[i]->run(&a, 0, x->impl[i]->tasks(g), ks);
}

/* Output rows [r0, r1) of sample s, band by band, on one worker. */
static void run_rows(const block *k, size_t s, size_t r0, size_t r1, unsigned char *ws) {
    const et_fuse_exec *x = k->x;
    const et_conv_geom *d = &k->gd;
    const size_t row_e = d->iw * d->ic, row_in = k->expand ? k->ga.iw * k->ga.ic : row_e;
    const size_t e_bytes = k->expand ? et_align_up(e_rows(d, k->band) * row_e * sizeof(float)) : 0;
    float *E = (float *)(void *)(ws + x->kernel_scratch);
    float *D = (float *)(void *)(ws + x->kernel_scratch + e_bytes);
    const float *X = x->data[x->m->nodes[k->a].in[0]] + s * d->ih * row_in;
    float *Y = x->data[k->dw + 2] + s * k->gc.oh * k->gc.ow * k->gc.oc;
    size_t have0 = 0, have1 = 0; /* expanded rows [have0, have1) sit at the front of E */
    for (size_t o0 = r0; o0 < r1; o0 += k->band) {
        size_t o1 = r1 - o0 < k->band ? r1 : o0 + k->band;
        size_t top = o0 * d->sh, e0 = top > d->pad_t ? top - d->pad_t : 0;
        size_t e1 = (o1 - 1) * d->sh + (d->kh - 1) * d->dh + 1;
        e1 = e1 > d->pad_t ? e1 - d->pad_t : 0;
        if (e1 > d->ih) e1 = d->ih;
        const float *in = X + e0 * row_in; /* without expand the depthwise reads the block input */
        if (k->expand) {
            if (have0 <= e0 && e0 < have1) {
                memmove(E, E + (e0 - have0) * row_e, (have1 - e0) * row_e * sizeof(float));
                have0 = e0;
            } else {
                have0 = have1 = e0;
            }
            if (e1 > have1) { /* expand the rows not yet held */
                et_conv_geom g = k->ga;
                g.n = 1;
                g.ih = g.oh = e1 - have1;
                run_impl(x, k->a, &g, X + have1 * row_in, E + (have1 - have0) * row_e, ws);
                have1 = e1;
            }
            in = E;
        }
        et_conv_geom g = *d; /* depthwise over the band's input rows */
        g.n = 1;
        g.ih = e1 - e0;
        g.oh = o1 - o0;
        g.pad_t = e0 + d->pad_t - top;
        run_impl(x, k->dw, &g, in, D, ws);
        g = k->gc; /* project the band */
        g.n = 1;
        g.ih = g.oh = o1 - o0;
        run_impl(x, k->dw + 1, &g, D, Y + o0 * g.ow * g.oc, ws);
    }
}

static void block_units(void *ctx, size_t t0, size_t t1, size_t wk) {
    const block *k = ctx;
    unsigned char *ws = k->x->scratch + wk * k->x->scratch_stride;
    for (size_t t = t0; t < t1; t++) {
        size_t s = t / k->slices, j = t % k->slices, oh = k->gd.oh;
        run_rows(k, s, oh * j / k->slices, oh * (j + 1) / k->slices, ws);
    }
}

void et_fuse_run(const et_fuse_exec *x, uint32_t a, uint32_t code) {
    const et_model *m = x->m;
    block k;
    k.x = x;
    k.a = a;
    k.expand = !(code & ET_FUSE_NO_EXPAND);
    k.dw = k.expand ? a + 1 : a;
    if (k.expand) k.ga = geom_of(&m->nodes[a], x->shapes[m->nodes[a].in[0]], x->shapes[a + 1]);
    k.gd = geom_of(&m->nodes[k.dw], x->shapes[m->nodes[k.dw].in[0]], x->shapes[k.dw + 1]);
    k.gc = geom_of(&m->nodes[k.dw + 1], x->shapes[k.dw + 1], x->shapes[k.dw + 2]);
    k.band = code & ~ET_FUSE_NO_EXPAND;
    /* one contiguous slice of rows per thread (halo rows are recomputed
     * once per slice, not per band) */
    size_t t = x->pool ? et_threadpool_threads(x->pool) : 1;
    if (t > x->threads) t = x->threads;
    k.slices = t < k.gd.oh ? t : k.gd.oh;
    if (k.slices == 0) k.slices = 1;
    et_parallel_for(x->pool, x->threads, k.gd.n * k.slices, block_units, &k);
}

size_t et_fuse_nodes(uint32_t code) { return code & ET_FUSE_NO_EXPAND ? 2 : 3; }
