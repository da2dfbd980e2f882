/* Sessions: the arena layout computed by et_model_plan, laid out by
 * et_session_prepare, and the executor that runs nodes through the dispatch
 * table. Nothing here allocates after prepare; no kernels here. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "dispatch.h"
#include "fuse.h"
#include "parallel.h"
#include "plan.h"
#include "threadpool.h"

#define SESSION_MAGIC 0x45545353u /* "ETSS": catches stale or foreign handles */

/* Debug builds (-DET_DEBUG_ARENA, used by `make sanitize`) plan ET_ALIGN guard
 * bytes after the activation pool and check them after every node, so a
 * kernel writing past its buffer is named instead of corrupting memory. */
#ifdef ET_DEBUG_ARENA
#define GUARD_BYTES ((size_t)ET_ALIGN)
#else
#define GUARD_BYTES ((size_t)0)
#endif
#define GUARD_BYTE 0xA5

struct et_session {
    uint32_t magic;
    const et_model *m;
    const et_kernels *k;
    size_t batch, h, w, threads;
    uint32_t n_values;
    et_shape *shapes;         /* n_values, in the arena */
    float **data;             /* n_values, in the arena */
    const float **concat_ptrs;/* one slot per concat input, in the arena */
    const et_conv_impl **impl;/* n_nodes: kernel of each conv/linear node, else NULL */
    const void **packed;      /* n_nodes: its prepacked weights in the arena */
    uint32_t *fuse;           /* n_nodes: fused blocks (fuse.h) */
    unsigned char *scratch;   /* threads x scratch_stride bytes, in the arena */
    size_t scratch_stride, kernel_scratch; /* per worker: kernel scratch, then band buffers */
    unsigned char *guard;     /* GUARD_BYTES after the pool (debug builds) */
    et_threadpool *pool;
    char err[ET_ERR_LEN];
};

/* Sizes of the arena's parts for one configuration. */
typedef struct layout {
    size_t header, concat_slots, weights, pool, naive, bound, total;
    size_t scratch_stride, kernel_scratch, threads;
    int unfused;
    const et_kernels *k;
    et_shape *shapes;
    et_buf *bufs;
    uint32_t *root;
    const et_conv_impl **impl; /* n_nodes */
    size_t *pack_off;          /* n_nodes: offset in the weights region */
    uint32_t *fuse;            /* n_nodes: fused blocks */
    uint32_t *order;           /* placement scratch */
    int borrowed;              /* the tables are the model's plan_work */
} layout;

size_t et_plan_work_bytes(uint32_t nv) {
    return et_align_up(nv * sizeof(et_shape)) + et_align_up(nv * sizeof(et_buf)) + et_align_up(nv * sizeof(uint32_t)) +
           et_align_up(nv * sizeof(et_conv_impl *)) + et_align_up(nv * sizeof(size_t)) + 2 * et_align_up(nv * sizeof(uint32_t));
}

/* The per-value tables: carved from the model's plan_work when it has one
 * (static models plan without the heap), else one malloc each. */
static int layout_tables(const et_model *m, layout *L, uint32_t nv) {
    unsigned char *w = m->plan_work;
    if (w) {
        L->borrowed = 1;
        L->shapes = (void *)w; w += et_align_up(nv * sizeof *L->shapes);
        L->bufs = (void *)w; w += et_align_up(nv * sizeof *L->bufs);
        L->root = (void *)w; w += et_align_up(nv * sizeof *L->root);
        L->impl = (void *)w; w += et_align_up(nv * sizeof *L->impl);
        L->pack_off = (void *)w; w += et_align_up(nv * sizeof *L->pack_off);
        L->fuse = (void *)w; w += et_align_up(nv * sizeof *L->fuse);
        L->order = (void *)w;
        return 1;
    }
    L->shapes = malloc(nv * sizeof *L->shapes);
    L->bufs = malloc(nv * sizeof *L->bufs);
    L->root = malloc(nv * sizeof *L->root);
    L->impl = malloc(nv * sizeof *L->impl);
    L->pack_off = malloc(nv * sizeof *L->pack_off);
    L->fuse = malloc(nv * sizeof *L->fuse);
    L->order = malloc(nv * sizeof *L->order);
    return L->shapes && L->bufs && L->root && L->impl && L->pack_off && L->fuse && L->order;
}

static void layout_free(layout *L) {
    if (L->borrowed) return;
    free(L->order);
    free(L->shapes);
    free(L->bufs);
    free(L->root);
    free(L->impl);
    free(L->pack_off);
    free(L->fuse);
}

/* Conv geometry of a conv2d node, or of a linear node as a 1x1 conv over
 * N x 1 x 1 x in (same OHWI weight layout, so both share the GEMM kernels). */
static int conv_geom_of(const et_node *nd, et_shape xs, et_shape ys, et_conv_geom *g) {
    if (nd->op == ET_OP_CONV2D) {
        et_conv_geom c = {xs.n, xs.h, xs.w, xs.c, ys.h, ys.w, ys.c, nd->kh, nd->kw, nd->sh, nd->sw,
                          nd->dh, nd->dw, nd->pad_t, nd->pad_l, nd->groups};
        *g = c;
        return 1;
    }
    if (nd->op == ET_OP_LINEAR) {
        et_conv_geom c = {xs.n, 1, 1, xs.c, 1, 1, ys.c, 1, 1, 1, 1, 1, 1, 0, 0, 1};
        *g = c;
        return 1;
    }
    return 0;
}

static et_status config_of(const et_model *m, const et_config *cfg, size_t *n, size_t *h, size_t *w, size_t *t) {
    et_config def = {0, 0, 0, 0};
    if (!cfg) cfg = &def;
    *n = cfg->batch ? cfg->batch : 1;
    *h = cfg->height ? cfg->height : m->in_h;
    *w = cfg->width ? cfg->width : m->in_w;
    *t = cfg->threads ? cfg->threads : 1;
    if ((cfg->height == 0) != (cfg->width == 0)) return ET_ERR_INVALID_ARG;
    if (*t > 256) return ET_ERR_INVALID_ARG;
    return ET_OK;
}

/* Picks each conv/linear node's kernel and sums packed weights and the
 * largest per-worker scratch. */
static et_status layout_kernels(const et_model *m, layout *L, char *err, size_t err_len) {
    size_t off = 0, scratch = 0;
    for (uint32_t i = 0; i < m->n_nodes; i++) {
        const et_node *nd = &m->nodes[i];
        et_conv_geom g;
        L->impl[i] = NULL;
        L->pack_off[i] = 0;
        if (!conv_geom_of(nd, L->shapes[nd->in[0]], L->shapes[i + 1], &g)) continue;
        const et_conv_impl *ci = L->k->conv_select(&g);
        size_t pb = ci->pack_bytes(&g), sb = ci->scratch_bytes(&g);
        L->impl[i] = ci;
        L->pack_off[i] = off;
        if (pb > (size_t)-1 / 2 || !et_add_ok(off, et_align_up(pb), &off))
            return et_fail(err, err_len, ET_ERR_OVERFLOW, "node '%s': packed weights overflow", nd->name);
        if (sb > scratch) scratch = sb;
    }
    L->weights = off;
    size_t bands = 0;
    if (L->unfused) memset(L->fuse, 0, m->n_nodes * sizeof *L->fuse);
    else bands = et_fuse_plan(m, L->shapes, L->impl, L->fuse);
    if (scratch > (size_t)-1 / 4 / L->threads || bands > (size_t)-1 / 4 / L->threads)
        return et_fail(err, err_len, ET_ERR_OVERFLOW, "scratch size overflows");
    L->kernel_scratch = et_align_up(scratch);
    L->scratch_stride = L->kernel_scratch + et_align_up(bands);
    return ET_OK;
}

static et_status layout_compute(const et_model *m, const et_config *cfg, const et_exec_options *opt, layout *L,
                                char *err, size_t err_len) {
    size_t n, h, w, t;
    memset(L, 0, sizeof *L);
    if (config_of(m, cfg, &n, &h, &w, &t) != ET_OK)
        return et_fail(err, err_len, ET_ERR_INVALID_ARG, "config: set both height and width (or neither); threads <= 256");
    L->threads = t;
    L->unfused = opt && opt->unfused;
    L->k = et_kernels_for(opt ? (int)opt->isa : ET_ISA_AUTO, err, err_len);
    if (!L->k) return opt && (opt->isa <= ET_ISA_AUTO || opt->isa >= ET_ISA_COUNT) ? ET_ERR_INVALID_ARG : ET_ERR_UNSUPPORTED;
    uint32_t nv = m->n_nodes + 1;
    et_status st = ET_OK;
    if (!layout_tables(m, L, nv))
        st = et_fail(err, err_len, ET_ERR_NO_MEMORY, "out of memory while planning");
    if (st == ET_OK) st = et_graph_infer(m, n, h, w, L->shapes, err, err_len);
    if (st == ET_OK && et_plan_values(m, L->shapes, L->bufs, L->root) != ET_OK)
        st = et_fail(err, err_len, ET_ERR_OVERFLOW, "activation sizes overflow for input %zux%zux%zu", n, h, w);
    if (st == ET_OK) st = layout_kernels(m, L, err, err_len);
    if (st == ET_OK) /* a fused block's intermediate tensors live only in its band buffers... */
        for (uint32_t i = 0; i < m->n_nodes; i++) {
            if (L->fuse[i] == ET_FUSE_INNER) L->bufs[L->root[m->nodes[i].in[0]]].bytes = 0;
            /* ...and its input is read until its last band writes the output */
            else if (L->fuse[i]) {
                et_buf *in = &L->bufs[L->root[m->nodes[i].in[0]]];
                size_t end = i + et_fuse_nodes(L->fuse[i]); /* the step of the block's last node */
                if (in->last < end) in->last = (uint32_t)end;
            }
        }
    if (st == ET_OK) {
        /* worker scratch is live during every step: it adds to all three figures */
        size_t scratch = L->threads * L->scratch_stride;
        for (uint32_t v = 0; v < nv; v++) L->naive += L->bufs[v].bytes;
        L->naive += scratch;
        L->bound = et_plan_bound(L->bufs, nv, nv) + scratch;
        L->pool = et_plan_place(L->bufs, nv, L->order) + scratch;
        size_t slots = 0;
        for (uint32_t i = 0; i < m->n_nodes; i++)
            if (m->nodes[i].op == ET_OP_CONCAT) slots += m->nodes[i].n_in;
        L->concat_slots = slots;
        L->header = et_align_up(sizeof(et_session)) + et_align_up(nv * sizeof(et_shape)) +
                    et_align_up(nv * sizeof(float *)) + et_align_up(slots * sizeof(float *)) +
                    2 * et_align_up(nv * sizeof(void *)) + et_align_up(m->n_nodes * sizeof(uint32_t));
        size_t total = ET_ALIGN - 1;
        if (!et_add_ok(total, L->header, &total) || !et_add_ok(total, L->weights, &total) || !et_add_ok(total, L->pool, &total) ||
            !et_add_ok(total, GUARD_BYTES, &total))
            st = et_fail(err, err_len, ET_ERR_OVERFLOW, "arena size overflows");
        L->total = total;
    }
    if (st != ET_OK) layout_free(L);
    return st;
}

et_status et_model_plan(const et_model *m, const et_config *cfg, et_plan *out) {
    return et_model_plan_ex(m, cfg, NULL, out);
}

et_status et_model_plan_ex(const et_model *m, const et_config *cfg, const et_exec_options *opt, et_plan *out) {
    if (!m || !out) return ET_ERR_INVALID_ARG;
    layout L;
    char err[ET_ERR_LEN];
    et_status st = layout_compute(m, cfg, opt, &L, err, sizeof err);
    if (st != ET_OK) return et_model_fail((et_model *)m, st, "%s", err);
    out->total = L.total;
    out->header = L.header;
    out->weights = L.weights;
    out->activations = L.pool;
    out->activations_naive = L.naive;
    out->activations_bound = L.bound;
    layout_free(&L);
    return ET_OK;
}

static void *take(unsigned char **p, size_t bytes) {
    void *r = *p;
    *p += et_align_up(bytes);
    return r;
}

et_status et_session_prepare(const et_model *m, const et_config *cfg, void *arena, size_t arena_bytes,
                             et_session **out, size_t *needed) {
    return et_session_prepare_ex(m, cfg, NULL, arena, arena_bytes, out, needed);
}

et_status et_session_prepare_ex(const et_model *m, const et_config *cfg, const et_exec_options *opt,
                                void *arena, size_t arena_bytes, et_session **out, size_t *needed) {
    if (out) *out = NULL;
    if (!m || !out || !arena) return ET_ERR_INVALID_ARG;
    layout L;
    char err[ET_ERR_LEN];
    et_status st = layout_compute(m, cfg, opt, &L, err, sizeof err);
    if (st != ET_OK) return et_model_fail((et_model *)m, st, "%s", err);
    if (needed) *needed = L.total;
    uintptr_t base = ((uintptr_t)arena + (ET_ALIGN - 1)) & ~(uintptr_t)(ET_ALIGN - 1);
    size_t lead = (size_t)(base - (uintptr_t)arena);
    if (arena_bytes < lead || arena_bytes - lead < L.total - (ET_ALIGN - 1)) {
        layout_free(&L);
        return et_model_fail((et_model *)m, ET_ERR_ARENA_TOO_SMALL, "arena of %zu bytes is too small: %zu needed", arena_bytes, L.total);
    }
    uint32_t nv = m->n_nodes + 1;
    unsigned char *p = (unsigned char *)base;
    et_session *s = take(&p, sizeof *s);
    memset(s, 0, sizeof *s);
    s->shapes = take(&p, nv * sizeof *s->shapes);
    s->data = take(&p, nv * sizeof *s->data);
    s->concat_ptrs = take(&p, L.concat_slots * sizeof *s->concat_ptrs);
    s->impl = take(&p, nv * sizeof *s->impl);
    s->packed = take(&p, nv * sizeof *s->packed);
    s->fuse = take(&p, m->n_nodes * sizeof *s->fuse);
    memcpy(s->fuse, L.fuse, m->n_nodes * sizeof *s->fuse);
    unsigned char *wts = p, *pool = p + L.weights;
    for (uint32_t v = 0; v < nv; v++) {
        s->shapes[v] = L.shapes[v];
        s->data[v] = (float *)(void *)(pool + L.bufs[L.root[v]].offset);
    }
    /* scratch sits at the end of the activation region (see layout_compute) */
    s->scratch_stride = L.scratch_stride;
    s->kernel_scratch = L.kernel_scratch;
    s->scratch = pool + L.pool - L.threads * L.scratch_stride;
    for (uint32_t i = 0; i < m->n_nodes; i++) {
        const et_node *nd = &m->nodes[i];
        et_conv_geom g;
        s->impl[i] = L.impl[i];
        s->packed[i] = NULL;
        if (!L.impl[i] || !conv_geom_of(nd, L.shapes[nd->in[0]], L.shapes[i + 1], &g)) continue;
        if (L.impl[i]->pack_bytes(&g) == 0) continue;
        s->packed[i] = wts + L.pack_off[i];
        L.impl[i]->pack(&g, nd->params[0].data, nd->params[1].count ? nd->params[1].data : NULL, wts + L.pack_off[i]);
    }
    s->guard = pool + L.pool;
    memset(s->guard, GUARD_BYTE, GUARD_BYTES);
    s->m = m;
    s->k = L.k;
    s->pool = opt ? opt->pool : NULL;
    config_of(m, cfg, &s->batch, &s->h, &s->w, &s->threads);
    s->n_values = nv;
    s->magic = SESSION_MAGIC;
    layout_free(&L);
    *out = s;
    return ET_OK;
}

static int live(const et_session *s) { return s && s->magic == SESSION_MAGIC; }

const char *et_session_error(const et_session *s) { return live(s) ? s->err : "invalid session handle"; }
size_t et_session_input_count(const et_session *s) { return live(s) ? 1 : 0; }
size_t et_session_output_count(const et_session *s) { return live(s) ? s->m->n_outputs : 0; }

static void view(const et_session *s, uint32_t v, et_tensor *t) {
    t->data = s->data[v];
    t->shape = s->shapes[v];
    t->name = v ? s->m->nodes[v - 1].name : "input";
}

et_status et_session_input(et_session *s, size_t i, et_tensor *out) {
    if (!live(s) || !out) return ET_ERR_INVALID_ARG;
    if (i != 0) return et_fail(s->err, sizeof s->err, ET_ERR_NOT_FOUND, "input %zu: the model has 1 input", i);
    view(s, 0, out);
    return ET_OK;
}

et_status et_session_output(et_session *s, size_t i, et_tensor *out) {
    if (!live(s) || !out) return ET_ERR_INVALID_ARG;
    if (i >= s->m->n_outputs) return et_fail(s->err, sizeof s->err, ET_ERR_NOT_FOUND, "output %zu: the model has %u outputs", i, s->m->n_outputs);
    view(s, s->m->outputs[i], out);
    return ET_OK;
}

/* One conv/linear node spread over the workers (see parallel.h). */
static void run_conv(et_session *s, uint32_t i, const et_conv_geom *g) {
    const et_node *nd = &s->m->nodes[i];
    et_conv_args a = {g, s->data[nd->in[0]], s->packed[i], nd->params[0].data,
                      nd->params[1].count ? nd->params[1].data : NULL, nd->act, s->data[i + 1]};
    et_parallel_conv(s->pool, s->threads, s->impl[i], &a, s->scratch, s->scratch_stride);
}

/* Elementwise add/mul of two same-shape tensors, split by pixels like the
 * convs around it so each thread reads what it wrote. */
typedef struct binary_job {
    const et_kernels *k;
    et_binary_kind kind;
    size_t c;
    const float *x, *y;
    et_act act;
    float *z;
} binary_job;

/* Pixels per unit: small enough to balance, large enough to amortise a call. */
#define ELT_UNIT_PIXELS 64

static void binary_units(void *ctx, size_t t0, size_t t1, size_t wk) {
    binary_job *j = ctx;
    (void)wk;
    size_t p0 = t0 * ELT_UNIT_PIXELS, p1 = t1 * ELT_UNIT_PIXELS, off = p0 * j->c;
    et_shape sh = {1, 1, p1 - p0, j->c};
    j->k->binary(j->kind, sh, j->x + off, sh, j->y + off, sh, j->act, j->z + off);
}

static void run_binary(et_session *s, const et_node *nd, et_shape xs, const float *x, float *y) {
    et_binary_kind kind = nd->op == ET_OP_ADD ? ET_BINARY_ADD : ET_BINARY_MUL;
    et_shape bs = s->shapes[nd->in[1]], ys = s->shapes[(size_t)(nd - s->m->nodes) + 1];
    size_t pixels = xs.n * xs.h * xs.w;
    int same = xs.n == bs.n && xs.h == bs.h && xs.w == bs.w && xs.c == bs.c;
    if (!same || pixels % ELT_UNIT_PIXELS) {
        s->k->binary(kind, xs, x, bs, s->data[nd->in[1]], ys, nd->act, y);
        return;
    }
    binary_job j = {s->k, kind, xs.c, x, s->data[nd->in[1]], nd->act, y};
    et_parallel_for(s->pool, s->threads, pixels / ELT_UNIT_PIXELS, binary_units, &j);
}

static void run_node(et_session *s, uint32_t i, const float **cptr) {
    const et_node *nd = &s->m->nodes[i];
    const et_kernels *k = s->k;
    et_shape xs = s->shapes[nd->in[0]], ys = s->shapes[i + 1];
    const float *x = s->data[nd->in[0]];
    float *y = s->data[i + 1];
    size_t rows = xs.n * xs.h * xs.w;
    et_conv_geom g;
    switch (nd->op) {
    case ET_OP_CONV2D: case ET_OP_LINEAR:
        if (conv_geom_of(nd, xs, ys, &g) && s->impl[i]) run_conv(s, i, &g);
        break;
    case ET_OP_BATCHNORM:
        k->batchnorm(rows, xs.c, x, nd->params[0].data, nd->params[1].data, nd->params[2].data, nd->params[3].data, nd->eps, y);
        break;
    case ET_OP_ACT: k->act(rows * xs.c, nd->act, x, y); break;
    case ET_OP_ADD: case ET_OP_MUL:
        run_binary(s, nd, xs, x, y);
        break;
    case ET_OP_CONCAT: {
        size_t cs[ET_MAX_INPUTS];
        for (uint32_t j = 0; j < nd->n_in; j++) { cptr[j] = s->data[nd->in[j]]; cs[j] = s->shapes[nd->in[j]].c; }
        k->concat(rows, nd->n_in, cs, cptr, y);
        break;
    }
    case ET_OP_MAXPOOL: case ET_OP_AVGPOOL: {
        et_pool_geom g = {xs.n, xs.h, xs.w, xs.c, ys.h, ys.w, nd->kh, nd->kw, nd->sh, nd->sw,
                          nd->pad_t, nd->pad_l, nd->pad_b, nd->pad_r, (int)nd->count_include_pad};
        (nd->op == ET_OP_MAXPOOL ? k->maxpool : k->avgpool)(&g, x, y);
        break;
    }
    case ET_OP_GLOBAL_AVGPOOL: k->global_avgpool(xs.n, xs.h * xs.w, xs.c, x, y); break;
    case ET_OP_SOFTMAX: k->softmax(rows, xs.c, x, y); break;
    default: break; /* flatten, reshape, dropout: views of their input */
    }
}

/* Debug builds: did node i write into the guard after the pool? */
static et_status check_guard(et_session *s, uint32_t i) {
#ifdef ET_DEBUG_ARENA
    for (size_t k = 0; k < GUARD_BYTES; k++)
        if (s->guard[k] != GUARD_BYTE)
            return et_fail(s->err, sizeof s->err, ET_ERR_STATE, "node %u '%s' (%s) wrote into the guard %zu bytes past the end of the arena",
                           i, s->m->nodes[i].name, et_op_name(s->m->nodes[i].op), k + 1);
#else
    (void)s; (void)i;
#endif
    return ET_OK;
}

/* Node i alone, or the fused block it starts; nothing for a node inside a block. */
static void run_step(et_session *s, uint32_t i, const float **cptr) {
    if (s->fuse[i] == ET_FUSE_INNER) return; /* ran inside its block */
    if (!s->fuse[i]) {
        run_node(s, i, cptr);
        return;
    }
    et_fuse_exec fx = {s->m, s->shapes, s->impl, s->packed, s->data, s->scratch, s->scratch_stride, s->kernel_scratch,
                       s->pool, s->threads};
    et_fuse_run(&fx, i, s->fuse[i]);
}

et_status et_session_run(et_session *s) {
    if (!live(s)) return ET_ERR_INVALID_ARG;
    const float **cptr = s->concat_ptrs;
    if (GUARD_BYTES && s->m->n_nodes && check_guard(s, 0) != ET_OK)
        return et_fail(s->err, sizeof s->err, ET_ERR_STATE, "the arena guard was overwritten before the run (by the caller?)");
    for (uint32_t i = 0; i < s->m->n_nodes; i++) {
        run_step(s, i, cptr);
        if (s->m->nodes[i].op == ET_OP_CONCAT) cptr += s->m->nodes[i].n_in;
        if (GUARD_BYTES && check_guard(s, i) != ET_OK) return ET_ERR_STATE;
    }
    return ET_OK;
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

et_status et_session_run_profiled(et_session *s, double *node_seconds, size_t n) {
    if (!live(s) || !node_seconds) return ET_ERR_INVALID_ARG;
    if (n != s->m->n_nodes)
        return et_fail(s->err, sizeof s->err, ET_ERR_INVALID_ARG, "run_profiled: %zu slots given, the model has %u nodes", n, s->m->n_nodes);
    const float **cptr = s->concat_ptrs;
    for (uint32_t i = 0; i < s->m->n_nodes; i++) {
        double t0 = now_seconds();
        run_step(s, i, cptr);
        node_seconds[i] = now_seconds() - t0;
        if (s->m->nodes[i].op == ET_OP_CONCAT) cptr += s->m->nodes[i].n_in;
    }
    return ET_OK;
}

int et_session_node_fused(const et_session *s, size_t node) {
    if (!live(s) || node >= s->m->n_nodes || !s->fuse[node]) return 0;
    return s->fuse[node] == ET_FUSE_INNER ? 2 : 1;
}

const char *et_session_isa(const et_session *s) { return live(s) ? s->k->isa : "invalid session handle"; }

et_status et_session_set_threadpool(et_session *s, et_threadpool *pool) {
    if (!live(s)) return ET_ERR_INVALID_ARG;
    s->pool = pool;
    return ET_OK;
}

et_status et_session_run_copy(et_session *s, const float *in, size_t in_count, float *out, size_t out_count) {
    if (!live(s) || !in || !out) return ET_ERR_INVALID_ARG;
    size_t want_in = et_shape_count(s->shapes[0]);
    uint32_t ov = s->m->outputs[0];
    size_t want_out = et_shape_count(s->shapes[ov]);
    if (in_count != want_in || out_count != want_out)
        return et_fail(s->err, sizeof s->err, ET_ERR_SHAPE, "run_copy: got %zu input / %zu output floats, session needs %zu / %zu",
                       in_count, out_count, want_in, want_out);
    memcpy(s->data[0], in, want_in * sizeof *in);
    et_session_run(s);
    memcpy(out, s->data[ov], want_out * sizeof *out);
    return ET_OK;
}
