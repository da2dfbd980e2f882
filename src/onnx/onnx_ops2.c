/* ONNX operators with runtime inputs, part 2: global pooling, ReduceMean,
 * Flatten/Reshape/Squeeze/Unsqueeze (with the C,H,W -> H,W,C bookkeeping a
 * following Gemm needs), Gemm, MatMul(+Add), Softmax, Concat, Pad and the
 * identities; plus the dispatcher that names every unsupported op. */
#include <stdlib.h>
#include <string.h>
#include "onnx/onnx_ops.h"

static et_status alias(ox_ctx *c, const ox_node *n, const ox_val *x) {
    ox_val v = *x;
    return ox_set(c, n->out[0], &v);
}

static et_status op_global_pool(ox_ctx *c, const ox_node *n, int keepdims) {
    ox_val *x = ox_run_in(c, n, 0, 0);
    if (!x) return c->first;
    if (x->rank != 4) return ox_err(c, n, ET_ERR_UNSUPPORTED, "input rank %d", x->rank);
    char buf[ET_MAX_NAME + 1];
    int id = 0;
    et_status st = et_builder_global_avgpool(c->b, ox_et_name(n->out[0], buf, sizeof buf), x->id, &id);
    ox_val o = *x;
    o.dims[2] = o.dims[3] = 1;
    if (!keepdims) o.rank = 2;
    return ox_bind(c, n, n->out[0], st, id, &o);
}

static et_status op_reduce_mean(ox_ctx *c, const ox_node *n) {
    ox_val *x = ox_run_in(c, n, 0, 0);
    if (!x) return c->first;
    int64_t axes[OX_MAX_RANK];
    size_t na = 0;
    const ox_attr *a = ox_attr_find(n, "axes");
    if (a && a->type == OXA_INTS && a->n <= OX_MAX_RANK) { /* an empty list has no array (fuzz_onnx) */
        na = a->n;
        if (na) memcpy(axes, a->ints, na * sizeof *axes);
    }
    else if (n->n_in > 1 && *n->in[1]) {
        const ox_tensor *t = ox_const_in(c, n, 1, 0);
        if (!t) return c->first;
        if (!t->i || t->count > OX_MAX_RANK) return ox_err(c, n, ET_ERR_UNSUPPORTED, "axes must be int64");
        na = t->count;
        memcpy(axes, t->i, na * sizeof *axes);
    }
    int hw = 0;
    for (size_t k = 0; k < na; k++) {
        int64_t v = axes[k] < 0 ? axes[k] + x->rank : axes[k];
        hw |= v == 2 ? 1 : v == 3 ? 2 : 4;
    }
    if (x->rank != 4 || na != 2 || hw != 3) return ox_err(c, n, ET_ERR_UNSUPPORTED, "only a mean over H and W (axes 2,3) of N,C,H,W is supported");
    return op_global_pool(c, n, ox_attr_int(n, "keepdims", 1) != 0);
}

/* Storage follows ONNX order when at most one of C and H*W exceeds 1. */
static int ordered(const ox_val *v) {
    if (v->rank == 3) return 1;
    return v->rank == 2 ? !v->chw : v->dims[1] == 1 || v->dims[2] * v->dims[3] == 1;
}

/* Any reshape of a runtime value to dims d (rank r) that keeps the batch. */
static et_status reshape_run(ox_ctx *c, const ox_node *n, const ox_val *x, const int64_t *d, size_t r) {
    if (x->nhwc) {
        /* element order is already edgetune's: reshape (or flatten) as is */
        ox_val o = *x;
        char buf[ET_MAX_NAME + 1];
        int id = 0;
        et_status st;
        if (d[0] != x->dims[0] || (r != 2 && r != 4)) return ox_err(c, n, ET_ERR_UNSUPPORTED, "reshape of a transposed N,H,W,C tensor to rank %zu or another batch", r);
        if (r == 2) {
            o.nhwc = 0; o.rank = 2; o.dims[1] = d[1]; o.dims[2] = o.dims[3] = 1;
            if (x->dims[1] * x->dims[2] == 1) return alias(c, n, &o);
            st = et_builder_flatten(c->b, ox_et_name(n->out[0], buf, sizeof buf), x->id, &id);
        } else {
            memcpy(o.dims, d, sizeof o.dims);
            st = et_builder_reshape(c->b, ox_et_name(n->out[0], buf, sizeof buf), x->id, (size_t)d[1], (size_t)d[2], (size_t)d[3], &id);
        }
        return ox_bind(c, n, n->out[0], st, id, &o);
    }
    if (d[0] != x->dims[0]) return ox_err(c, n, ET_ERR_UNSUPPORTED, "reshape changes the batch dimension (%lld -> %lld)", (long long)x->dims[0], (long long)d[0]);
    ox_val o = *x;
    char buf[ET_MAX_NAME + 1];
    const char *nm = ox_et_name(n->out[0], buf, sizeof buf);
    int id = 0;
    et_status st;
    if (r == 2) {
        o.rank = 2;
        o.dims[1] = d[1];
        o.dims[2] = o.dims[3] = 1;
        if (x->rank == 2 || x->rank == 3 || x->dims[2] * x->dims[3] == 1) return alias(c, n, &o);
        st = et_builder_flatten(c->b, nm, x->id, &id);
        if (x->dims[1] != 1) { o.chw = 1; o.cdim = x->dims[1]; o.hdim = x->dims[2]; o.wdim = x->dims[3]; }
        return ox_bind(c, n, n->out[0], st, id, &o);
    }
    if (r == 3) {
        /* rank 3 only as a vector in flat storage, on the way to rank 2 or 4 */
        if (d[1] != 1 && d[2] != 1) return ox_err(c, n, ET_ERR_UNSUPPORTED, "reshape to a rank-3 N,A,B tensor with A and B > 1");
        o.rank = 3;
        o.chw = 0;
        o.dims[1] = d[1]; o.dims[2] = d[2]; o.dims[3] = 1;
        if (x->rank == 2 ? !x->chw : x->rank == 3 || x->dims[2] * x->dims[3] == 1) return alias(c, n, &o);
        if (x->dims[1] != 1) return ox_err(c, n, ET_ERR_UNSUPPORTED, "reshape of a C,H,W tensor to rank 3");
        st = et_builder_flatten(c->b, nm, x->id, &id);
        return ox_bind(c, n, n->out[0], st, id, &o);
    }
    if (r != 4) return ox_err(c, n, ET_ERR_UNSUPPORTED, "reshape to rank %zu (edgetune keeps N,C or N,C,H,W)", r);
    o.rank = 4;
    o.chw = 0;
    memcpy(o.dims, d, sizeof o.dims);
    if (!ordered(x) || !ordered(&o))
        return ox_err(c, n, ET_ERR_UNSUPPORTED, "reshape between N,C,H,W layouts that reorders channels and pixels");
    int64_t xh = x->rank == 4 ? x->dims[2] : 1, xw = x->rank == 4 ? x->dims[3] : 1, xc = x->dims[1];
    if (x->rank == 3) { xh = 1; xw = 1; xc = x->dims[1] * x->dims[2]; }
    if (xh == d[2] && xw == d[3] && xc == d[1]) return alias(c, n, &o);
    st = et_builder_reshape(c->b, nm, x->id, (size_t)d[2], (size_t)d[3], (size_t)d[1], &id);
    return ox_bind(c, n, n->out[0], st, id, &o);
}

static et_status op_reshape(ox_ctx *c, const ox_node *n) {
    ox_val *x = ox_run_in(c, n, 0, 2);
    if (!x) return c->first;
    int64_t d[OX_MAX_RANK];
    size_t r;
    et_status st;
    const char *op = n->op;
    if (strcmp(op, "Flatten") == 0) {
        int64_t ax = ox_attr_int(n, "axis", 1);
        if (ax < 0) ax += x->rank;
        if (ax != 1) return ox_err(c, n, ET_ERR_UNSUPPORTED, "axis %lld (only 1 keeps the batch)", (long long)ox_attr_int(n, "axis", 1));
        d[0] = x->dims[0];
        d[1] = x->rank == 4 ? x->dims[1] * x->dims[2] * x->dims[3] : x->rank == 3 ? x->dims[1] * x->dims[2] : x->dims[1];
        r = 2;
    } else if (strcmp(op, "Reshape") == 0) {
        const ox_tensor *s = ox_const_in(c, n, 1, 0);
        if (!s) return c->first;
        if ((st = ox_resolve_shape(c, n, x->dims, (size_t)x->rank, s, d, &r)) != ET_OK) return st;
    } else if ((st = ox_squeeze_dims(c, n, x->dims, (size_t)x->rank, d, &r)) != ET_OK) {
        return st;
    }
    return reshape_run(c, n, x, d, r);
}

/* Linear layer from Gemm/MatMul: weight w (alpha-scaled) is read as
 * B[m][k] (trans) or B[k][m]; input columns follow the value's storage order. */
static et_status linear(ox_ctx *c, const ox_node *n, const ox_val *x, const ox_tensor *B, int trans, float alpha,
                        const ox_tensor *C, float beta, const char *out) {
    if (x->rank != 2 && (x->dims[2] != 1 || x->dims[3] != 1)) return ox_err(c, n, ET_ERR_UNSUPPORTED, "input A must be 2-D [N, K]");
    if (!B->f || B->ndim != 2) return ox_err(c, n, ET_ERR_UNSUPPORTED, "weight must be a 2-D float32 constant");
    size_t K = (size_t)x->dims[1], M = (size_t)(trans ? B->dims[0] : B->dims[1]);
    if ((size_t)(trans ? B->dims[1] : B->dims[0]) != K) return ox_err(c, n, ET_ERR_SHAPE, "weight %lldx%lld does not fit %zu input features", (long long)B->dims[0], (long long)B->dims[1], K);
    if (C && (!C->f || (C->count != M && C->count != 1))) return ox_err(c, n, ET_ERR_UNSUPPORTED, "bias must be float32 with %zu values or a scalar", M);
    float *w = malloc(M * K * sizeof *w), *b = C ? malloc(M * sizeof *b) : NULL;
    if (!w || (C && !b)) { free(w); free(b); return ox_err(c, n, ET_ERR_NO_MEMORY, "out of memory"); }
    for (size_t m = 0; m < M; m++)
        for (size_t j = 0; j < K; j++) {
            size_t k = ox_logical(x, j);
            w[m * K + j] = alpha * (trans ? B->f[m * K + k] : B->f[k * M + m]);
        }
    for (size_t m = 0; C && m < M; m++) b[m] = beta * C->f[C->count == 1 ? 0 : m];
    char buf[ET_MAX_NAME + 1];
    int id = 0;
    et_status st = et_builder_linear(c->b, ox_et_name(out, buf, sizeof buf), x->id, M, w, b, et_act_none(), &id);
    free(w);
    free(b);
    ox_val o = *x;
    o.rank = 2;
    o.chw = 0;
    o.dims[1] = (int64_t)M;
    o.dims[2] = o.dims[3] = 1;
    return ox_bind(c, n, out, st, id, &o);
}

static et_status op_gemm(ox_ctx *c, const ox_node *n) {
    ox_val *x = ox_run_in(c, n, 0, 0);
    const ox_tensor *B = ox_const_in(c, n, 1, 0), *C = ox_const_in(c, n, 2, 1);
    if (!x || !B || (n->n_in > 2 && *n->in[2] && !C)) return c->first;
    if (ox_attr_int(n, "transA", 0) != 0) return ox_err(c, n, ET_ERR_UNSUPPORTED, "transA=1");
    return linear(c, n, x, B, ox_attr_int(n, "transB", 0) != 0, ox_attr_float(n, "alpha", 1.0f), C, ox_attr_float(n, "beta", 1.0f), n->out[0]);
}

static et_status op_matmul(ox_ctx *c, size_t i, const ox_node *n) {
    ox_val *x = ox_run_in(c, n, 0, 0);
    const ox_tensor *B = ox_const_in(c, n, 1, 0);
    if (!x || !B) return c->first;
    /* MatMul followed only by Add(bias) becomes one linear with bias */
    size_t j;
    if (ox_consumers(c, n->out[0], i, &j) == 1 && j != (size_t)-1 && B->ndim == 2) {
        const ox_node *a = &c->om->nodes[j];
        if (strcmp(a->op, "Add") == 0 && a->n_in == 2) {
            const char *other = strcmp(a->in[0], n->out[0]) == 0 ? a->in[1] : a->in[0];
            ox_val *bv = ox_get(c, other);
            if (bv && bv->kind == V_CONST && bv->c->f && (bv->c->count == (size_t)B->dims[1] || bv->c->count == 1) && bv->c->ndim <= 2) {
                c->skip[j] = 1;
                return linear(c, a, x, B, 0, 1.0f, bv->c, 1.0f, a->out[0]);
            }
        }
    }
    return linear(c, n, x, B, 0, 1.0f, NULL, 0.0f, n->out[0]);
}

static et_status op_softmax(ox_ctx *c, const ox_node *n) {
    ox_val *x = ox_run_in(c, n, 0, 0);
    if (!x) return c->first;
    int64_t ax = ox_attr_int(n, "axis", c->opset < 13 ? 1 : -1);
    if (ax < 0) ax += x->rank;
    int ok = x->rank == 2 ? ax == 1 : ax == 1 && (c->opset >= 13 || x->dims[2] * x->dims[3] == 1);
    if (!ok) return ox_err(c, n, ET_ERR_UNSUPPORTED, "softmax over axis %lld of a rank-%d tensor (only over channels)", (long long)ox_attr_int(n, "axis", 0), x->rank);
    char buf[ET_MAX_NAME + 1];
    int id = 0;
    et_status st = et_builder_softmax(c->b, ox_et_name(n->out[0], buf, sizeof buf), x->id, &id);
    return ox_bind(c, n, n->out[0], st, id, x);
}

static et_status op_concat(ox_ctx *c, const ox_node *n) {
    if (n->n_in < 1) return ox_err(c, n, ET_ERR_FORMAT, "no inputs");
    ox_val *x0 = ox_run_in(c, n, 0, 0);
    if (!x0) return c->first;
    int64_t ax = ox_attr_int(n, "axis", 1);
    if (ax < 0) ax += x0->rank;
    if (ax != 1) return ox_err(c, n, ET_ERR_UNSUPPORTED, "concat along axis %lld (only channels, axis 1)", (long long)ox_attr_int(n, "axis", 1));
    int ids[OX_MAX_IO];
    ox_val o = *x0;
    o.dims[1] = 0;
    for (size_t k = 0; k < n->n_in; k++) {
        ox_val *v = ox_run_in(c, n, k, 0);
        if (!v) return c->first;
        if (v->rank != x0->rank || v->chw || (v->rank == 4 && (v->dims[2] != x0->dims[2] || v->dims[3] != x0->dims[3])))
            return ox_err(c, n, ET_ERR_UNSUPPORTED, "input %zu has a different rank, layout or spatial size", k);
        ids[k] = v->id;
        o.dims[1] += v->dims[1];
    }
    char buf[ET_MAX_NAME + 1];
    int id = 0;
    et_status st = et_builder_concat(c->b, ox_et_name(n->out[0], buf, sizeof buf), ids, n->n_in, &id);
    return ox_bind(c, n, n->out[0], st, id, &o);
}

/* Only the NCHW <-> NHWC transposes that exporters (and our own export)
 * put around flatten and reshape: they change no storage. */
static et_status op_transpose(ox_ctx *c, const ox_node *n) {
    ox_val *x = ox_run_in(c, n, 0, 2);
    if (!x) return c->first;
    int64_t p[4];
    if (x->rank != 4 || !ox_ints(n, "perm", p, 4, -1)) return ox_err(c, n, ET_ERR_UNSUPPORTED, "transpose of a rank-%d tensor or without a 4-axis perm", x->rank);
    ox_val o = *x;
    if (!x->nhwc && p[0] == 0 && p[1] == 2 && p[2] == 3 && p[3] == 1) {
        o.nhwc = 1;
        o.dims[1] = x->dims[2]; o.dims[2] = x->dims[3]; o.dims[3] = x->dims[1];
    } else if (x->nhwc && p[0] == 0 && p[1] == 3 && p[2] == 1 && p[3] == 2) {
        o.nhwc = 0;
        o.dims[1] = x->dims[3]; o.dims[2] = x->dims[1]; o.dims[3] = x->dims[2];
    } else {
        return ox_err(c, n, ET_ERR_UNSUPPORTED, "perm %lld,%lld,%lld,%lld (only NCHW <-> NHWC around a flatten or reshape)",
                      (long long)p[0], (long long)p[1], (long long)p[2], (long long)p[3]);
    }
    return alias(c, n, &o);
}

static et_status op_pad(ox_ctx *c, const ox_node *n) {
    ox_val *x = ox_run_in(c, n, 0, 1);
    if (!x) return c->first;
    const ox_attr *mode = ox_attr_find(n, "mode");
    if (mode && mode->s && strcmp(mode->s, "constant") != 0) return ox_err(c, n, ET_ERR_UNSUPPORTED, "mode '%s' (only constant zero padding)", mode->s);
    if (x->rank != 4) return ox_err(c, n, ET_ERR_UNSUPPORTED, "input rank %d", x->rank);
    int64_t p[8];
    float value = 0.0f;
    if (c->opset < 11) {
        if (!ox_ints(n, "pads", p, 8, 0)) return ox_err(c, n, ET_ERR_UNSUPPORTED, "pads must hold 8 values");
        value = ox_attr_float(n, "value", 0.0f);
    } else {
        const ox_tensor *t = ox_const_in(c, n, 1, 0), *v = ox_const_in(c, n, 2, 1);
        if (!t || (n->n_in > 2 && *n->in[2] && !v)) return c->first;
        if (n->n_in > 3 && *n->in[3]) return ox_err(c, n, ET_ERR_UNSUPPORTED, "the axes input");
        if (!t->i || t->count != 8) return ox_err(c, n, ET_ERR_UNSUPPORTED, "pads must be 8 int64 values");
        memcpy(p, t->i, sizeof p);
        if (v) value = v->count == 1 ? (v->f ? v->f[0] : (float)v->i[0]) : 1.0f;
    }
    if (value != 0.0f) return ox_err(c, n, ET_ERR_UNSUPPORTED, "padding value %g (only 0)", (double)value);
    if (p[0] || p[1] || p[4] || p[5]) return ox_err(c, n, ET_ERR_UNSUPPORTED, "padding of the batch or channel dimension");
    int64_t add[4] = {p[2], p[3], p[6], p[7]};
    ox_val o = *x;
    for (int k = 0; k < 4; k++) {
        if (add[k] < 0 || add[k] + o.pad[k] > (int64_t)ET_MAX_PAD) return ox_err(c, n, ET_ERR_UNSUPPORTED, "padding %lld (negative or too large)", (long long)add[k]);
        o.pad[k] += (uint32_t)add[k];
    }
    return ox_set(c, n->out[0], &o);
}

et_status ox_convert_node(ox_ctx *c, size_t i) {
    const ox_node *n = &c->om->nodes[i];
    const char *op = n->op;
    et_status st = ox_ops_part1(c, i);
    if (st != ET_ERR_NOT_FOUND) return st;
    if (strcmp(op, "GlobalAveragePool") == 0) return op_global_pool(c, n, 1);
    if (strcmp(op, "ReduceMean") == 0) return op_reduce_mean(c, n);
    if (strcmp(op, "Flatten") == 0 || strcmp(op, "Reshape") == 0 || strcmp(op, "Squeeze") == 0 || strcmp(op, "Unsqueeze") == 0)
        return op_reshape(c, n);
    if (strcmp(op, "Gemm") == 0) return op_gemm(c, n);
    if (strcmp(op, "MatMul") == 0) return op_matmul(c, i, n);
    if (strcmp(op, "Softmax") == 0) return op_softmax(c, n);
    if (strcmp(op, "Concat") == 0) return op_concat(c, n);
    if (strcmp(op, "Pad") == 0) return op_pad(c, n);
    if (strcmp(op, "Transpose") == 0) return op_transpose(c, n);
    if (strcmp(op, "Identity") == 0 || strcmp(op, "Dropout") == 0 || strcmp(op, "Cast") == 0) {
        ox_val *x = ox_run_in(c, n, 0, 1);
        if (!x) return c->first;
        size_t j;
        if (op[0] == 'D' && n->n_out > 1 && *n->out[1] && ox_consumers(c, n->out[1], i, &j))
            return ox_err(c, n, ET_ERR_UNSUPPORTED, "the mask output is used");
        if (op[0] == 'C' && ox_attr_int(n, "to", 1) != OX_FLOAT) return ox_err(c, n, ET_ERR_UNSUPPORTED, "cast of a float tensor to type %lld", (long long)ox_attr_int(n, "to", 1));
        return alias(c, n, x);
    }
    return ox_err(c, n, ET_ERR_UNSUPPORTED, "op '%s' is not supported", op);
}
