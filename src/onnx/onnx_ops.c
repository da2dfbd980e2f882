/* ONNX operators with runtime inputs, part 1: Conv, BatchNormalization,
 * activations (with x*sigmoid(x) -> SiLU, x*hardsigmoid(x) -> HardSwish),
 * Add/Sub/Mul/Div and the pools. NCHW shapes are tracked per value; the
 * builder graph is NHWC. Part 2 (shapes, Gemm, dispatch) is onnx_ops2.c. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "onnx/onnx_ops.h"
#include "ops/ops.h"

ox_val *ox_run_in(ox_ctx *c, const ox_node *n, size_t k, int allow_pad) {
    ox_val *v = k < n->n_in ? ox_get(c, n->in[k]) : NULL;
    if (!v) { ox_err(c, n, ET_ERR_FORMAT, "input %zu is missing", k); return NULL; }
    if (v->kind != V_RUN) { ox_err(c, n, ET_ERR_UNSUPPORTED, "input %zu ('%s') is a constant where a runtime tensor is expected", k, n->in[k]); return NULL; }
    if ((v->rank == 3 || v->nhwc) && allow_pad != 2) {
        ox_err(c, n, ET_ERR_UNSUPPORTED, "input %zu is a %s tensor; only reshapes and transposes may use it", k, v->nhwc ? "transposed N,H,W,C" : "rank-3");
        return NULL;
    }
    if (allow_pad != 1 && (v->pad[0] | v->pad[1] | v->pad[2] | v->pad[3])) {
        ox_err(c, n, ET_ERR_UNSUPPORTED, "input %zu comes from a Pad; only Conv can absorb zero padding", k);
        return NULL;
    }
    return v;
}

et_status ox_bind(ox_ctx *c, const ox_node *n, const char *out_name, et_status st, int id, const ox_val *shape) {
    if (st != ET_OK) return ox_err(c, n, st, "%s", et_builder_error(c->b));
    ox_val v = *shape;
    v.kind = V_RUN;
    v.id = id;
    memset(v.pad, 0, sizeof v.pad);
    return ox_set(c, out_name, &v);
}

size_t ox_logical(const ox_val *v, size_t j) {
    if (!v->chw) return j;
    size_t C = (size_t)v->cdim, W = (size_t)v->wdim, H = (size_t)v->hdim;
    size_t ch = j % C, p = j / C; /* storage order is (h, w, c) */
    (void)H;
    return ch * (size_t)(v->hdim * v->wdim) + p / W * W + p % W;
}

int ox_ints(const ox_node *n, const char *name, int64_t *out, size_t want, int64_t def) {
    const ox_attr *a = ox_attr_find(n, name);
    for (size_t k = 0; k < want; k++) out[k] = def;
    if (!a) return 1;
    if (a->type != OXA_INTS || a->n != want) return 0;
    for (size_t k = 0; k < want; k++) out[k] = a->ints[k];
    return 1;
}

/* pads (t, l, b, r) for a 2-D window from pads/auto_pad; 0 on bad attributes. */
static et_status window_pads(ox_ctx *c, const ox_node *n, const int64_t in[2], const int64_t k[2], const int64_t s[2],
                             const int64_t d[2], int64_t pads[4]) {
    if (!ox_ints(n, "pads", pads, 4, 0)) return ox_err(c, n, ET_ERR_UNSUPPORTED, "pads must hold 4 values (2-D only)");
    for (int j = 0; j < 4; j++)
        if (pads[j] < 0 || pads[j] > (int64_t)ET_MAX_PAD) return ox_err(c, n, ET_ERR_UNSUPPORTED, "pad %lld", (long long)pads[j]);
    const ox_attr *ap = ox_attr_find(n, "auto_pad");
    const char *mode = ap && ap->s ? ap->s : "NOTSET";
    if (strcmp(mode, "NOTSET") == 0) return ET_OK;
    if (strcmp(mode, "VALID") == 0) { memset(pads, 0, 4 * sizeof *pads); return ET_OK; }
    int upper = strcmp(mode, "SAME_UPPER") == 0;
    if (!upper && strcmp(mode, "SAME_LOWER") != 0) return ox_err(c, n, ET_ERR_UNSUPPORTED, "auto_pad '%s' is not supported", mode);
    for (int j = 0; j < 2; j++) {
        int64_t out = (in[j] + s[j] - 1) / s[j];
        int64_t total = (out - 1) * s[j] + (k[j] - 1) * d[j] + 1 - in[j];
        if (total < 0) total = 0;
        int64_t lo = upper ? total / 2 : total - total / 2;
        pads[j] = lo;
        pads[j + 2] = total - lo;
    }
    return ET_OK;
}

static et_status op_conv(ox_ctx *c, const ox_node *n) {
    ox_val *x = ox_run_in(c, n, 0, 1);
    const ox_tensor *w = ox_const_in(c, n, 1, 0), *bias = ox_const_in(c, n, 2, 1);
    if (!x || !w || (n->n_in > 2 && *n->in[2] && !bias)) return c->first;
    if (x->rank != 4) return ox_err(c, n, ET_ERR_UNSUPPORTED, "input has rank %d; only 2-D convolution on N,C,H,W is supported", x->rank);
    if (w->ndim != 4 || !w->f) return ox_err(c, n, ET_ERR_UNSUPPORTED, "weight must be a float32 O,I,kH,kW tensor (1-D/3-D conv is not supported)");
    int64_t O = w->dims[0], I = w->dims[1], kh = w->dims[2], kw = w->dims[3];
    int64_t g = ox_attr_int(n, "group", 1), C = x->dims[1];
    if (g < 1 || I * g != C || O % g) return ox_err(c, n, ET_ERR_SHAPE, "weight %lldx%lldx%lldx%lld, group %lld does not fit %lld input channels",
                                                    (long long)O, (long long)I, (long long)kh, (long long)kw, (long long)g, (long long)C);
    int64_t ks[2], s[2], d[2], pads[4], H[2] = {x->dims[2] + x->pad[0] + x->pad[2], x->dims[3] + x->pad[1] + x->pad[3]};
    if (!ox_ints(n, "kernel_shape", ks, 2, 0) || (ks[0] && (ks[0] != kh || ks[1] != kw)))
        return ox_err(c, n, ET_ERR_UNSUPPORTED, "kernel_shape does not match the %lldx%lld weight", (long long)kh, (long long)kw);
    if (!ox_ints(n, "strides", s, 2, 1) || !ox_ints(n, "dilations", d, 2, 1)) return ox_err(c, n, ET_ERR_UNSUPPORTED, "strides/dilations must hold 2 values");
    for (int j = 0; j < 2; j++)
        if (s[j] < 1 || s[j] > (int64_t)ET_MAX_KERNEL || d[j] < 1 || d[j] > (int64_t)ET_MAX_KERNEL)
            return ox_err(c, n, ET_ERR_UNSUPPORTED, "stride %lld / dilation %lld", (long long)s[j], (long long)d[j]);
    if (kh < 1 || kw < 1 || kh > (int64_t)ET_MAX_KERNEL || kw > (int64_t)ET_MAX_KERNEL) return ox_err(c, n, ET_ERR_UNSUPPORTED, "kernel %lldx%lld", (long long)kh, (long long)kw);
    int64_t kk[2] = {kh, kw};
    et_status st = window_pads(c, n, H, kk, s, d, pads);
    if (st != ET_OK) return st;
    if (bias && (!bias->f || (int64_t)bias->count != O)) return ox_err(c, n, ET_ERR_SHAPE, "bias must hold %lld float32 values", (long long)O);
    size_t per = (size_t)(I * kh * kw);
    float *wt = malloc((size_t)O * per * sizeof *wt);
    if (!wt) return ox_err(c, n, ET_ERR_NO_MEMORY, "out of memory");
    for (int64_t o = 0; o < O; o++)          /* O,I,kH,kW -> O,kH,kW,I */
        for (int64_t i = 0; i < I; i++)
            for (int64_t y = 0; y < kh; y++)
                for (int64_t z = 0; z < kw; z++)
                    wt[((o * kh + y) * kw + z) * I + i] = w->f[((o * I + i) * kh + y) * kw + z];
    et_conv2d_desc dd;
    memset(&dd, 0, sizeof dd);
    dd.out_channels = (size_t)O;
    dd.kh = (size_t)kh; dd.kw = (size_t)kw; dd.sh = (size_t)s[0]; dd.sw = (size_t)s[1];
    dd.dh = (size_t)d[0]; dd.dw = (size_t)d[1]; dd.groups = (size_t)g;
    dd.pad_t = (size_t)pads[0] + x->pad[0]; dd.pad_l = (size_t)pads[1] + x->pad[1];
    dd.pad_b = (size_t)pads[2] + x->pad[2]; dd.pad_r = (size_t)pads[3] + x->pad[3];
    dd.act = et_act_none();
    char buf[ET_MAX_NAME + 1];
    int id;
    st = et_builder_conv2d(c->b, ox_et_name(n->out[0], buf, sizeof buf), x->id, &dd, wt, bias ? bias->f : NULL, &id);
    free(wt);
    ox_val o = *x;
    o.dims[1] = O;
    o.dims[2] = (int64_t)et_window_out((size_t)x->dims[2], dd.kh, dd.sh, dd.dh, dd.pad_t, dd.pad_b, 0);
    o.dims[3] = (int64_t)et_window_out((size_t)x->dims[3], dd.kw, dd.sw, dd.dw, dd.pad_l, dd.pad_r, 0);
    return ox_bind(c, n, n->out[0], st, id, &o);
}

static int outputs_unused(ox_ctx *c, size_t i, const ox_node *n) {
    size_t first;
    for (size_t k = 1; k < n->n_out; k++)
        if (*n->out[k] && ox_consumers(c, n->out[k], i, &first)) return 0;
    return 1;
}

/* A per-channel vector in storage order (chw-permuted for flattened values). */
static float *channel_vec(const ox_val *x, const float *src, size_t C) {
    float *v = malloc(C * sizeof *v);
    for (size_t j = 0; v && j < C; j++) v[j] = src[ox_logical(x, j)];
    return v;
}

static et_status op_bn(ox_ctx *c, size_t i, const ox_node *n) {
    ox_val *x = ox_run_in(c, n, 0, 0);
    if (!x) return c->first;
    const ox_tensor *p[4];
    size_t C = (size_t)x->dims[1];
    for (size_t k = 0; k < 4; k++) {
        if (!(p[k] = ox_const_in(c, n, k + 1, 0))) return c->first;
        if (!p[k]->f || p[k]->count != C) return ox_err(c, n, ET_ERR_SHAPE, "parameter %zu must hold %zu float32 values", k + 1, C);
    }
    if (ox_attr_int(n, "training_mode", 0) != 0) return ox_err(c, n, ET_ERR_UNSUPPORTED, "training_mode=1");
    if (ox_attr_int(n, "spatial", 1) != 1) return ox_err(c, n, ET_ERR_UNSUPPORTED, "spatial=0");
    if (!outputs_unused(c, i, n)) return ox_err(c, n, ET_ERR_UNSUPPORTED, "running mean/var outputs are used");
    float eps = ox_attr_float(n, "epsilon", 1e-5f);
    float *v[4] = {0};
    et_status st = ET_OK;
    for (int k = 0; k < 4; k++)
        if (!(v[k] = channel_vec(x, p[k]->f, C))) st = ET_ERR_NO_MEMORY;
    int id = 0;
    char buf[ET_MAX_NAME + 1];
    if (st == ET_OK) st = et_builder_batchnorm(c->b, ox_et_name(n->out[0], buf, sizeof buf), x->id, eps, v[0], v[1], v[2], v[3], &id);
    for (int k = 0; k < 4; k++) free(v[k]);
    return ox_bind(c, n, n->out[0], st, id, x);
}

static et_status emit_act(ox_ctx *c, const ox_node *n, const ox_val *x, et_act a, const char *out) {
    char buf[ET_MAX_NAME + 1];
    int id = 0;
    et_status st = et_builder_act(c->b, ox_et_name(out, buf, sizeof buf), x->id, a, &id);
    return ox_bind(c, n, out, st, id, x);
}

/* s = f(x) whose single consumer is Mul(x, s): returns that Mul's index. */
static size_t gate_mul(ox_ctx *c, size_t i, const ox_node *n) {
    size_t j;
    if (ox_consumers(c, n->out[0], i, &j) != 1 || j == (size_t)-1) return 0;
    const ox_node *m = &c->om->nodes[j];
    if (strcmp(m->op, "Mul") != 0 || m->n_in != 2) return 0;
    const char *x = n->in[0], *s = n->out[0];
    if ((strcmp(m->in[0], x) == 0 && strcmp(m->in[1], s) == 0) || (strcmp(m->in[1], x) == 0 && strcmp(m->in[0], s) == 0)) return j;
    return 0;
}

static et_status op_act(ox_ctx *c, size_t i, const ox_node *n) {
    ox_val *x = ox_run_in(c, n, 0, 0);
    if (!x) return c->first;
    const char *op = n->op;
    et_act a = et_act_none();
    size_t j;
    if (strcmp(op, "Relu") == 0) a = et_act_relu();
    else if (strcmp(op, "LeakyRelu") == 0) a = et_act_leaky_relu(ox_attr_float(n, "alpha", 0.01f));
    else if (strcmp(op, "Tanh") == 0) a = et_act_of(ET_ACT_TANH);
    else if (strcmp(op, "HardSwish") == 0) a = et_act_of(ET_ACT_HARDSWISH);
    else if (strcmp(op, "Sigmoid") == 0) {
        if ((j = gate_mul(c, i, n)) != 0) {
            c->skip[j] = 1;
            return emit_act(c, n, x, et_act_of(ET_ACT_SILU), c->om->nodes[j].out[0]);
        }
        a = et_act_of(ET_ACT_SIGMOID);
    } else if (strcmp(op, "HardSigmoid") == 0) {
        a = et_act_of(ET_ACT_HARDSIGMOID);
        a.a = ox_attr_float(n, "alpha", 0.2f);
        a.b = ox_attr_float(n, "beta", 0.5f);
        if (fabsf(a.a - 1.0f / 6.0f) < 1e-6f && a.b == 0.5f && (j = gate_mul(c, i, n)) != 0) {
            c->skip[j] = 1;
            return emit_act(c, n, x, et_act_of(ET_ACT_HARDSWISH), c->om->nodes[j].out[0]);
        }
    } else if (strcmp(op, "Clip") == 0) {
        float lo = -FLT_MAX, hi = FLT_MAX;
        if (c->opset < 11) {
            lo = ox_attr_float(n, "min", lo);
            hi = ox_attr_float(n, "max", hi);
        } else {
            for (size_t k = 1; k < 3; k++) {
                if (k >= n->n_in || !*n->in[k]) continue;
                const ox_tensor *t = ox_const_in(c, n, k, 0);
                if (!t) return c->first;
                if (t->count != 1) return ox_err(c, n, ET_ERR_UNSUPPORTED, "%s must be a scalar", k == 1 ? "min" : "max");
                float v = t->f ? t->f[0] : (float)t->i[0];
                if (k == 1) lo = v; else hi = v;
            }
        }
        if (!(lo <= hi)) return ox_err(c, n, ET_ERR_UNSUPPORTED, "min %g > max %g", (double)lo, (double)hi);
        a = lo == 0.0f && hi == FLT_MAX ? et_act_relu() : et_act_clip(lo, hi);
    } else {
        return ET_ERR_NOT_FOUND;
    }
    return emit_act(c, n, x, a, n->out[0]);
}

static et_status dw_affine(ox_ctx *c, const ox_node *n, const ox_val *x, const float *w, const float *b) {
    size_t C = (size_t)x->dims[1];
    et_conv2d_desc d;
    memset(&d, 0, sizeof d);
    d.out_channels = C; d.kh = d.kw = 1; d.groups = C; d.act = et_act_none();
    float *ws = channel_vec(x, w, C), *bs = channel_vec(x, b, C);
    char buf[ET_MAX_NAME + 1];
    int id = 0;
    et_status st = ws && bs ? et_builder_conv2d(c->b, ox_et_name(n->out[0], buf, sizeof buf), x->id, &d, ws, bs, &id) : ET_ERR_NO_MEMORY;
    free(ws);
    free(bs);
    return ox_bind(c, n, n->out[0], st, id, x);
}

/* x op k with k a per-channel constant or scalar: an exact 1x1 depthwise conv
 * y = x * w + b (Div uses w = 1/k, within one rounding of x / k). */
static et_status binary_const(ox_ctx *c, const ox_node *n, const ox_val *x, const ox_tensor *k, int const_first) {
    int r = x->rank;
    size_t C = (size_t)x->dims[1];
    if (k->ndim > (size_t)r) return ox_err(c, n, ET_ERR_UNSUPPORTED, "constant of rank %zu with a rank-%d tensor", k->ndim, r);
    size_t kc = 1;
    for (size_t j = 0; j < k->ndim; j++) {
        size_t axis = (size_t)r - k->ndim + j;
        if (axis == 1) kc = (size_t)k->dims[j];
        else if (k->dims[j] != 1) return ox_err(c, n, ET_ERR_UNSUPPORTED, "constant broadcast other than per channel or scalar (dim %zu is %lld)", axis, (long long)k->dims[j]);
    }
    if (kc != 1 && kc != C) return ox_err(c, n, ET_ERR_SHAPE, "constant has %zu channels, the tensor %zu", kc, C);
    float *w = malloc(C * sizeof *w), *b = malloc(C * sizeof *b);
    if (!w || !b) { free(w); free(b); return ox_err(c, n, ET_ERR_NO_MEMORY, "out of memory"); }
    char op = n->op[0];
    et_status st = ET_OK;
    for (size_t j = 0; j < C; j++) {
        float v = k->f ? k->f[kc == 1 ? 0 : j] : (float)k->i[kc == 1 ? 0 : j];
        w[j] = 1.0f; b[j] = 0.0f;
        if (op == 'A') b[j] = v;
        else if (op == 'S') { if (const_first) { w[j] = -1.0f; b[j] = v; } else b[j] = -v; }
        else if (op == 'M') w[j] = v;
        else if (const_first) st = ox_err(c, n, ET_ERR_UNSUPPORTED, "constant divided by a tensor");
        else if (v == 0.0f) st = ox_err(c, n, ET_ERR_UNSUPPORTED, "division by a zero constant");
        else w[j] = 1.0f / v;
        if (st != ET_OK) break;
    }
    if (st == ET_OK) st = dw_affine(c, n, x, w, b);
    free(w);
    free(b);
    return st;
}

static et_status op_binary(ox_ctx *c, const ox_node *n) {
    if (n->n_in != 2) return ox_err(c, n, ET_ERR_FORMAT, "needs 2 inputs");
    ox_val *a = ox_get(c, n->in[0]), *b = ox_get(c, n->in[1]);
    if (!a || !b) return ox_err(c, n, ET_ERR_FORMAT, "an input is missing");
    if (a->kind == V_CONST) return ox_run_in(c, n, 1, 0) ? binary_const(c, n, b, a->c, 1) : c->first;
    if (b->kind == V_CONST) return ox_run_in(c, n, 0, 0) ? binary_const(c, n, a, b->c, 0) : c->first;
    if (!ox_run_in(c, n, 0, 0) || !ox_run_in(c, n, 1, 0)) return c->first;
    char op = n->op[0];
    if (op == 'D') return ox_err(c, n, ET_ERR_UNSUPPORTED, "Div of two runtime tensors");
    if (a->rank != b->rank) return ox_err(c, n, ET_ERR_UNSUPPORTED, "operands of rank %d and %d", a->rank, b->rank);
    if (a->chw != b->chw || (a->chw && memcmp(a->dims, b->dims, sizeof a->dims) != 0))
        return ox_err(c, n, ET_ERR_UNSUPPORTED, "broadcast with a flattened C,H,W tensor");
    ox_val o = *a;
    for (int k = 0; k < a->rank; k++) {
        if (a->dims[k] != b->dims[k] && a->dims[k] != 1 && b->dims[k] != 1)
            return ox_err(c, n, ET_ERR_SHAPE, "cannot broadcast dim %d: %lld vs %lld", k, (long long)a->dims[k], (long long)b->dims[k]);
        o.dims[k] = a->dims[k] == 1 ? b->dims[k] : a->dims[k];
    }
    char buf[ET_MAX_NAME + 1];
    int id = 0;
    const char *nm = ox_et_name(n->out[0], buf, sizeof buf);
    int bid = b->id;
    et_status st = ET_OK;
    if (op == 'S') { /* a - b = a + (-1 * b): negation is exact */
        size_t C = (size_t)b->dims[1];
        float *w = malloc(C * sizeof *w), *z = calloc(C, sizeof *z);
        et_conv2d_desc d;
        memset(&d, 0, sizeof d);
        d.out_channels = C; d.kh = d.kw = 1; d.groups = C; d.act = et_act_none();
        for (size_t j = 0; w && j < C; j++) w[j] = -1.0f;
        char nb[ET_MAX_NAME + 1], tmp[ET_MAX_NAME + 16];
        snprintf(tmp, sizeof tmp, "%.100s_neg", nm);
        st = w && z ? et_builder_conv2d(c->b, ox_et_name(tmp, nb, sizeof nb), b->id, &d, w, z, &bid) : ET_ERR_NO_MEMORY;
        free(w);
        free(z);
    }
    if (st == ET_OK) st = op == 'M' ? et_builder_mul(c->b, nm, a->id, bid, &id) : et_builder_add(c->b, nm, a->id, bid, et_act_none(), &id);
    return ox_bind(c, n, n->out[0], st, id, &o);
}

static et_status op_pool(ox_ctx *c, size_t i, const ox_node *n) {
    int avg = n->op[0] == 'A';
    ox_val *x = ox_run_in(c, n, 0, avg);
    if (!x) return c->first;
    if (x->rank != 4) return ox_err(c, n, ET_ERR_UNSUPPORTED, "input rank %d (2-D pooling on N,C,H,W only)", x->rank);
    int ext = (x->pad[0] | x->pad[1] | x->pad[2] | x->pad[3]) != 0;
    int64_t k[2], s[2], d[2] = {1, 1}, dil[2], pads[4], in[2] = {x->dims[2], x->dims[3]};
    if (!ox_ints(n, "kernel_shape", k, 2, 0) || k[0] < 1 || k[1] < 1 || k[0] > (int64_t)ET_MAX_KERNEL || k[1] > (int64_t)ET_MAX_KERNEL)
        return ox_err(c, n, ET_ERR_UNSUPPORTED, "kernel_shape must be 2 values in 1..%u", ET_MAX_KERNEL);
    if (!ox_ints(n, "strides", s, 2, 1) || s[0] < 1 || s[1] < 1 || s[0] > (int64_t)ET_MAX_KERNEL || s[1] > (int64_t)ET_MAX_KERNEL)
        return ox_err(c, n, ET_ERR_UNSUPPORTED, "strides must be 2 values in 1..%u", ET_MAX_KERNEL);
    if (!ox_ints(n, "dilations", dil, 2, 1) || dil[0] != 1 || dil[1] != 1) return ox_err(c, n, ET_ERR_UNSUPPORTED, "dilations other than 1");
    if (ox_attr_int(n, "storage_order", 0) != 0) return ox_err(c, n, ET_ERR_UNSUPPORTED, "storage_order=1");
    if (!outputs_unused(c, i, n)) return ox_err(c, n, ET_ERR_UNSUPPORTED, "the Indices output is used");
    et_status st = window_pads(c, n, in, k, s, d, pads);
    if (st != ET_OK) return st;
    et_pool_desc pd;
    memset(&pd, 0, sizeof pd);
    pd.kh = (size_t)k[0]; pd.kw = (size_t)k[1]; pd.sh = (size_t)s[0]; pd.sw = (size_t)s[1];
    pd.pad_t = (size_t)pads[0]; pd.pad_l = (size_t)pads[1]; pd.pad_b = (size_t)pads[2]; pd.pad_r = (size_t)pads[3];
    pd.ceil_mode = ox_attr_int(n, "ceil_mode", 0) != 0;
    pd.count_include_pad = avg && ox_attr_int(n, "count_include_pad", 0) != 0;
    if (ext) {
        /* Pad then AveragePool: padded zeros count in the divisor, which is
         * count_include_pad over the combined padding (torch emits this for ceil_mode) */
        if ((pads[0] | pads[1] | pads[2] | pads[3]) && !pd.count_include_pad)
            return ox_err(c, n, ET_ERR_UNSUPPORTED, "a Pad before an AveragePool that has its own pads with count_include_pad=0");
        pd.pad_t += x->pad[0]; pd.pad_l += x->pad[1]; pd.pad_b += x->pad[2]; pd.pad_r += x->pad[3];
        pd.count_include_pad = 1;
    }
    char buf[ET_MAX_NAME + 1];
    int id = 0;
    const char *nm = ox_et_name(n->out[0], buf, sizeof buf);
    st = avg ? et_builder_avgpool(c->b, nm, x->id, &pd, &id) : et_builder_maxpool(c->b, nm, x->id, &pd, &id);
    ox_val o = *x;
    o.dims[2] = (int64_t)et_window_out((size_t)in[0], pd.kh, pd.sh, 1, pd.pad_t, pd.pad_b, pd.ceil_mode);
    o.dims[3] = (int64_t)et_window_out((size_t)in[1], pd.kw, pd.sw, 1, pd.pad_l, pd.pad_r, pd.ceil_mode);
    return ox_bind(c, n, n->out[0], st, id, &o);
}

et_status ox_ops_part1(ox_ctx *c, size_t i) {
    const ox_node *n = &c->om->nodes[i];
    const char *op = n->op;
    if (strcmp(op, "Conv") == 0) return op_conv(c, n);
    if (strcmp(op, "BatchNormalization") == 0) return op_bn(c, i, n);
    if (strcmp(op, "Add") == 0 || strcmp(op, "Sub") == 0 || strcmp(op, "Mul") == 0 || strcmp(op, "Div") == 0) return op_binary(c, n);
    if (strcmp(op, "MaxPool") == 0 || strcmp(op, "AveragePool") == 0) return op_pool(c, i, n);
    static const char *const acts[] = {"Relu", "LeakyRelu", "Tanh", "HardSwish", "Sigmoid", "HardSigmoid", "Clip"};
    for (size_t k = 0; k < sizeof acts / sizeof acts[0]; k++)
        if (strcmp(op, acts[k]) == 0) return op_act(c, i, n);
    return ET_ERR_NOT_FOUND;
}
