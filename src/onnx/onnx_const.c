/* Constant folding at import: initializers, Constant nodes and the shape
 * arithmetic exporters emit (Shape -> Gather/Slice -> Cast -> Concat/Unsqueeze
 * -> Reshape) are evaluated once the input size is fixed, so none of it
 * reaches the runtime graph. Works on small int64/float tensors only. */
#include <stdint.h>
#include <string.h>
#include "onnx/onnx_conv.h"

static double at(const ox_tensor *t, size_t k) { return t->f ? (double)t->f[k] : (double)t->i[k]; }

static void put(ox_tensor *t, size_t k, double v) {
    if (t->f) t->f[k] = (float)v;
    else t->i[k] = (int64_t)v;
}

static et_status bind(ox_ctx *c, const ox_node *n, ox_tensor *t) {
    if (!t) return ox_err(c, n, ET_ERR_NO_MEMORY, "out of memory (or absurd shape) for a folded constant");
    ox_val v;
    memset(&v, 0, sizeof v);
    v.kind = V_CONST;
    v.c = t;
    return ox_set(c, n->out[0], &v);
}

/* Copies of a constant with new dims (same data order). */
static ox_tensor *reshaped(ox_ctx *c, const ox_tensor *x, size_t ndim, const int64_t *dims) {
    ox_tensor *t = ox_new_const(c, x->dtype, ndim, dims);
    if (!t) return NULL;
    if (t->count != x->count) return NULL;
    for (size_t k = 0; k < x->count; k++) put(t, k, at(x, k));
    return t;
}

static int axes_of(ox_ctx *c, const ox_node *n, size_t input, int64_t *axes, size_t *n_axes) {
    const ox_attr *a = ox_attr_find(n, "axes");
    *n_axes = 0;
    if (a && a->type == OXA_INTS) {
        if (a->n > OX_MAX_RANK) return 0;
        for (size_t k = 0; k < a->n; k++) axes[k] = a->ints[k];
        *n_axes = a->n;
        return 1;
    }
    if (input < n->n_in && *n->in[input]) {
        const ox_tensor *t = ox_const_in(c, n, input, 0);
        if (!t || t->count > OX_MAX_RANK || !t->i) return 0;
        for (size_t k = 0; k < t->count; k++) axes[k] = t->i[k];
        *n_axes = t->count;
    }
    return 1;
}

static et_status fold_binary(ox_ctx *c, const ox_node *n, const ox_tensor *a, const ox_tensor *b) {
    size_t r = a->ndim > b->ndim ? a->ndim : b->ndim;
    int64_t da[OX_MAX_RANK], db[OX_MAX_RANK], dz[OX_MAX_RANK];
    for (size_t k = 0; k < r; k++) {
        da[k] = k + a->ndim >= r ? a->dims[k + a->ndim - r] : 1;
        db[k] = k + b->ndim >= r ? b->dims[k + b->ndim - r] : 1;
        if (da[k] != db[k] && da[k] != 1 && db[k] != 1)
            return ox_err(c, n, ET_ERR_SHAPE, "cannot broadcast constant dims %lld and %lld on axis %zu", (long long)da[k], (long long)db[k], k);
        dz[k] = da[k] == 1 ? db[k] : da[k];
    }
    int flt = a->dtype == OX_FLOAT || b->dtype == OX_FLOAT;
    ox_tensor *z = ox_new_const(c, flt ? OX_FLOAT : OX_INT64, r, dz);
    if (!z) return bind(c, n, NULL);
    const char *op = n->op;
    for (size_t k = 0; k < z->count; k++) {
        size_t rem = k, ia = 0, ib = 0, sa = 1, sb = 1;
        for (size_t d = r; d-- > 0;) {
            size_t idx = rem % (size_t)dz[d];
            rem /= (size_t)dz[d];
            ia += (da[d] == 1 ? 0 : idx) * sa;
            ib += (db[d] == 1 ? 0 : idx) * sb;
            sa *= (size_t)da[d];
            sb *= (size_t)db[d];
        }
        if (flt) {
            double x = at(a, ia), y = at(b, ib), v;
            float fx = (float)x, fy = (float)y;
            v = op[0] == 'A' ? (double)(fx + fy) : op[0] == 'S' ? (double)(fx - fy) : op[0] == 'M' ? (double)(fx * fy) : (double)(fx / fy);
            z->f[k] = (float)v;
        } else {
            int64_t x = a->i[ia], y = b->i[ib], v = 0;
            if (op[0] == 'D' && y == 0) return ox_err(c, n, ET_ERR_INVALID_ARG, "integer division by zero in shape arithmetic");
            int ovf = op[0] == 'A' ? __builtin_add_overflow(x, y, &v) : op[0] == 'S' ? __builtin_sub_overflow(x, y, &v)
                    : op[0] == 'M' ? __builtin_mul_overflow(x, y, &v) : (x == INT64_MIN && y == -1);
            if (ovf) return ox_err(c, n, ET_ERR_OVERFLOW, "int64 overflow in shape arithmetic");
            z->i[k] = op[0] == 'D' ? x / y : v;
        }
    }
    return bind(c, n, z);
}

static et_status fold_gather(ox_ctx *c, const ox_node *n, const ox_tensor *x, const ox_tensor *ind) {
    int64_t axis = ox_attr_int(n, "axis", 0);
    if (axis < 0) axis += (int64_t)x->ndim;
    if (axis < 0 || axis >= (int64_t)x->ndim || !ind->i) return ox_err(c, n, ET_ERR_UNSUPPORTED, "axis %lld or indices type", (long long)axis);
    if (x->ndim + ind->ndim - 1 > OX_MAX_RANK) return ox_err(c, n, ET_ERR_UNSUPPORTED, "result rank too high");
    int64_t dz[OX_MAX_RANK];
    size_t r = 0, outer = 1, inner = 1, ax = (size_t)axis, len = (size_t)x->dims[ax];
    for (size_t k = 0; k < ax; k++) dz[r++] = x->dims[k], outer *= (size_t)x->dims[k];
    for (size_t k = 0; k < ind->ndim; k++) dz[r++] = ind->dims[k];
    for (size_t k = ax + 1; k < x->ndim; k++) dz[r++] = x->dims[k], inner *= (size_t)x->dims[k];
    ox_tensor *z = ox_new_const(c, x->dtype, r, dz);
    if (!z) return bind(c, n, NULL);
    for (size_t o = 0; o < outer; o++)
        for (size_t j = 0; j < ind->count; j++) {
            int64_t idx = ind->i[j] < 0 ? ind->i[j] + (int64_t)len : ind->i[j];
            if (idx < 0 || idx >= (int64_t)len) return ox_err(c, n, ET_ERR_INVALID_ARG, "index %lld out of range 0..%zu", (long long)ind->i[j], len);
            for (size_t q = 0; q < inner; q++)
                put(z, (o * ind->count + j) * inner + q, at(x, (o * len + (size_t)idx) * inner + q));
        }
    return bind(c, n, z);
}

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }

static et_status fold_slice(ox_ctx *c, const ox_node *n, const ox_tensor *x) {
    int64_t st[OX_MAX_RANK], en[OX_MAX_RANK], stp[OX_MAX_RANK], axes[OX_MAX_RANK];
    size_t na = 0;
    const ox_tensor *ts = NULL, *te = NULL, *tax = NULL, *tst = NULL;
    const ox_attr *as = NULL, *ae = NULL, *aa = NULL;
    if (c->opset < 10) {
        as = ox_attr_find(n, "starts"); ae = ox_attr_find(n, "ends"); aa = ox_attr_find(n, "axes");
        if (!as || !ae || as->n != ae->n) return ox_err(c, n, ET_ERR_FORMAT, "starts/ends attributes missing or of different lengths");
        na = as->n;
    } else {
        ts = ox_const_in(c, n, 1, 0); te = ox_const_in(c, n, 2, 0);
        tax = ox_const_in(c, n, 3, 1); tst = ox_const_in(c, n, 4, 1);
        if (!ts || !te) return c->first;
        if (ts->count != te->count || !ts->i || !te->i) return ox_err(c, n, ET_ERR_FORMAT, "starts/ends of different lengths or not integers");
        na = ts->count;
    }
    if (na > x->ndim || na > OX_MAX_RANK) return ox_err(c, n, ET_ERR_FORMAT, "%zu slice axes for rank %zu", na, x->ndim);
    int64_t b[OX_MAX_RANK], step[OX_MAX_RANK], dz[OX_MAX_RANK];
    for (size_t d = 0; d < x->ndim; d++) { b[d] = 0; step[d] = 1; dz[d] = x->dims[d]; }
    for (size_t k = 0; k < na; k++) {
        st[k] = as ? as->ints[k] : ts->i[k];
        en[k] = ae ? ae->ints[k] : te->i[k];
        axes[k] = aa && aa->n == na ? aa->ints[k] : tax && tax->count == na && tax->i ? tax->i[k] : (int64_t)k;
        stp[k] = tst && tst->count == na && tst->i ? tst->i[k] : 1;
        int64_t ax = axes[k] < 0 ? axes[k] + (int64_t)x->ndim : axes[k];
        if (ax < 0 || ax >= (int64_t)x->ndim || stp[k] == 0) return ox_err(c, n, ET_ERR_INVALID_ARG, "bad slice axis %lld or step 0", (long long)axes[k]);
        int64_t dim = x->dims[ax], s = st[k], e = en[k];
        /* a step longer than the axis takes one element either way; clamping it keeps the arithmetic in range */
        if (stp[k] > dim + 1) stp[k] = dim + 1;
        if (stp[k] < -(dim + 1)) stp[k] = -(dim + 1);
        if (s < 0) s += dim;
        if (e < 0) e += dim;
        if (stp[k] > 0) { s = clamp64(s, 0, dim); e = clamp64(e, 0, dim); dz[ax] = e > s ? (e - s + stp[k] - 1) / stp[k] : 0; }
        else { s = clamp64(s, 0, dim - 1); e = clamp64(e, -1, dim - 1); dz[ax] = s > e ? (s - e - stp[k] - 1) / -stp[k] : 0; }
        b[ax] = s;
        step[ax] = stp[k];
    }
    ox_tensor *z = ox_new_const(c, x->dtype, x->ndim, dz);
    if (!z) return bind(c, n, NULL);
    for (size_t k = 0; k < z->count; k++) {
        size_t rem = k, src = 0, stride = 1;
        for (size_t d = x->ndim; d-- > 0;) {
            size_t idx = rem % (size_t)dz[d];
            rem /= (size_t)dz[d];
            src += (size_t)(b[d] + (int64_t)idx * step[d]) * stride;
            stride *= (size_t)x->dims[d];
        }
        put(z, k, at(x, src));
    }
    return bind(c, n, z);
}

static et_status fold_concat(ox_ctx *c, const ox_node *n) {
    const ox_tensor *x0 = ox_const_in(c, n, 0, 0);
    if (!x0) return c->first;
    int64_t axis = ox_attr_int(n, "axis", 0);
    if (axis < 0) axis += (int64_t)x0->ndim;
    if (axis < 0 || axis >= (int64_t)x0->ndim) return ox_err(c, n, ET_ERR_INVALID_ARG, "axis %lld for rank %zu", (long long)axis, x0->ndim);
    int64_t dz[OX_MAX_RANK];
    memcpy(dz, x0->dims, sizeof dz);
    dz[axis] = 0;
    int flt = 0;
    for (size_t k = 0; k < n->n_in; k++) {
        const ox_tensor *t = ox_const_in(c, n, k, 0);
        if (!t) return c->first;
        if (t->ndim != x0->ndim) return ox_err(c, n, ET_ERR_SHAPE, "inputs of different ranks");
        for (size_t d = 0; d < t->ndim; d++)
            if ((int64_t)d != axis && t->dims[d] != x0->dims[d]) return ox_err(c, n, ET_ERR_SHAPE, "input %zu dims differ off the axis", k);
        dz[axis] += t->dims[axis];
        flt |= t->dtype == OX_FLOAT;
    }
    ox_tensor *z = ox_new_const(c, flt ? OX_FLOAT : OX_INT64, x0->ndim, dz);
    if (!z) return bind(c, n, NULL);
    size_t outer = 1, inner = 1, pos = 0;
    for (int64_t d = 0; d < axis; d++) outer *= (size_t)dz[d];
    for (size_t d = (size_t)axis + 1; d < x0->ndim; d++) inner *= (size_t)dz[d];
    for (size_t k = 0; k < n->n_in; k++) {
        const ox_tensor *t = ox_get(c, n->in[k])->c;
        size_t blk = (size_t)t->dims[axis] * inner;
        for (size_t o = 0; o < outer; o++)
            for (size_t q = 0; q < blk; q++) put(z, o * (size_t)dz[axis] * inner + pos + q, at(t, o * blk + q));
        pos += blk;
    }
    return bind(c, n, z);
}

/* Reshape semantics shared with the runtime Reshape: 0 copies, -1 infers. */
et_status ox_resolve_shape(ox_ctx *c, const ox_node *n, const int64_t *in, size_t in_rank, const ox_tensor *shape, int64_t *out, size_t *out_rank);
et_status ox_resolve_shape(ox_ctx *c, const ox_node *n, const int64_t *in, size_t in_rank, const ox_tensor *shape, int64_t *out, size_t *out_rank) {
    if (!shape->i || shape->ndim != 1 || shape->count > OX_MAX_RANK) return ox_err(c, n, ET_ERR_UNSUPPORTED, "shape must be a 1-D int64 constant of rank <= %d", OX_MAX_RANK);
    int allowzero = (int)ox_attr_int(n, "allowzero", 0);
    size_t total = 1, known = 1, neg = (size_t)-1;
    for (size_t k = 0; k < in_rank; k++) total *= (size_t)in[k];
    for (size_t k = 0; k < shape->count; k++) {
        int64_t v = shape->i[k];
        if (v == 0 && !allowzero) {
            if (k >= in_rank) return ox_err(c, n, ET_ERR_SHAPE, "shape entry %zu is 0 but the input has rank %zu", k, in_rank);
            v = in[k];
        }
        if (v == -1) {
            if (neg != (size_t)-1) return ox_err(c, n, ET_ERR_SHAPE, "two -1 entries in the target shape");
            neg = k;
        } else if (v < 0 || v > OX_MAX_DIMV) {
            return ox_err(c, n, ET_ERR_SHAPE, "target shape entry %lld", (long long)v);
        } else if (!et_mul_ok(known, (size_t)v, &known)) {
            return ox_err(c, n, ET_ERR_OVERFLOW, "target shape overflows");
        }
        out[k] = v;
    }
    if (neg != (size_t)-1) {
        if (!known || total % known) return ox_err(c, n, ET_ERR_SHAPE, "cannot infer -1: %zu elements into blocks of %zu", total, known);
        out[neg] = (int64_t)(total / known);
    } else if (known != total) {
        return ox_err(c, n, ET_ERR_SHAPE, "target shape holds %zu elements, the input %zu", known, total);
    }
    *out_rank = shape->count;
    return ET_OK;
}

/* Unsqueeze/Squeeze dims; also used for runtime values. */
et_status ox_squeeze_dims(ox_ctx *c, const ox_node *n, const int64_t *in, size_t r, int64_t *out, size_t *out_r);
et_status ox_squeeze_dims(ox_ctx *c, const ox_node *n, const int64_t *in, size_t r, int64_t *out, size_t *out_r) {
    int64_t axes[OX_MAX_RANK];
    size_t na;
    if (!axes_of(c, n, 1, axes, &na)) return ox_err(c, n, ET_ERR_UNSUPPORTED, "axes must be constant");
    int uns = n->op[0] == 'U';
    size_t orank = uns ? r + na : r;
    if (orank > OX_MAX_RANK) return ox_err(c, n, ET_ERR_UNSUPPORTED, "rank above %d", OX_MAX_RANK);
    unsigned char mark[OX_MAX_RANK] = {0};
    for (size_t k = 0; k < na; k++) {
        int64_t a = axes[k] < 0 ? axes[k] + (int64_t)orank : axes[k];
        if (a < 0 || a >= (int64_t)orank) return ox_err(c, n, ET_ERR_INVALID_ARG, "axis %lld out of range", (long long)axes[k]);
        if (!uns && in[a] != 1) return ox_err(c, n, ET_ERR_SHAPE, "cannot squeeze axis %lld of size %lld", (long long)a, (long long)in[a]);
        mark[a] = 1;
    }
    size_t o = 0, j = 0;
    for (size_t k = 0; k < orank; k++) {
        if (uns) out[o++] = mark[k] ? 1 : in[j++];
        else if (!(mark[k] || (na == 0 && in[k] == 1))) out[o++] = in[k];
    }
    *out_r = o;
    return ET_OK;
}

static et_status fold_transpose(ox_ctx *c, const ox_node *n, const ox_tensor *x) {
    size_t r = x->ndim;
    int64_t perm[OX_MAX_RANK], dz[OX_MAX_RANK], stride[OX_MAX_RANK];
    const ox_attr *a = ox_attr_find(n, "perm");
    for (size_t k = 0; k < r; k++) perm[k] = a && a->n == r ? a->ints[k] : (int64_t)(r - 1 - k);
    unsigned seen = 0;
    for (size_t k = 0; k < r; k++) {
        if (perm[k] < 0 || perm[k] >= (int64_t)r || (seen >> perm[k] & 1)) return ox_err(c, n, ET_ERR_INVALID_ARG, "perm is not a permutation of %zu axes", r);
        seen |= 1u << perm[k];
        dz[k] = x->dims[perm[k]];
    }
    for (size_t k = r, s = 1; k-- > 0;) { stride[k] = (int64_t)s; s *= (size_t)x->dims[k]; }
    ox_tensor *z = ox_new_const(c, x->dtype, r, dz);
    if (!z) return bind(c, n, NULL);
    for (size_t k = 0; k < z->count; k++) {
        size_t rem = k, src = 0;
        for (size_t d = r; d-- > 0;) {
            size_t idx = rem % (size_t)dz[d];
            rem /= (size_t)dz[d];
            src += idx * (size_t)stride[perm[d]];
        }
        put(z, k, at(x, src));
    }
    return bind(c, n, z);
}

static et_status fold_constant(ox_ctx *c, const ox_node *n) {
    const ox_attr *a = n->n_attr == 1 ? &n->attr[0] : NULL;
    if (!a) return ox_err(c, n, ET_ERR_FORMAT, "needs exactly one value attribute");
    int64_t one = 1;
    ox_tensor *t = NULL;
    if (strcmp(a->name, "value") == 0 && a->t) {
        t = reshaped(c, a->t, a->t->ndim, a->t->dims);
    } else if (strcmp(a->name, "value_float") == 0 || strcmp(a->name, "value_int") == 0) {
        int f = a->name[6] == 'f';
        t = ox_new_const(c, f ? OX_FLOAT : OX_INT64, 0, &one);
        if (t) put(t, 0, f ? (double)a->f : (double)a->i);
    } else if (strcmp(a->name, "value_floats") == 0 || strcmp(a->name, "value_ints") == 0) {
        int f = a->name[6] == 'f';
        int64_t len = (int64_t)a->n;
        t = ox_new_const(c, f ? OX_FLOAT : OX_INT64, 1, &len);
        for (size_t k = 0; t && k < a->n; k++) put(t, k, f ? (double)a->floats[k] : (double)a->ints[k]);
    } else {
        return ox_err(c, n, ET_ERR_UNSUPPORTED, "attribute '%s' (sparse or string constants are not supported)", a->name);
    }
    return bind(c, n, t);
}

et_status ox_fold_const(ox_ctx *c, const ox_node *n) {
    const char *op = n->op;
    if (strcmp(op, "Constant") == 0) return fold_constant(c, n);
    if (strcmp(op, "Shape") == 0) {
        ox_val *x = n->n_in ? ox_get(c, n->in[0]) : NULL;
        if (!x) return ox_err(c, n, ET_ERR_FORMAT, "no input");
        int64_t d[OX_MAX_RANK];
        size_t r = x->kind == V_CONST ? x->c->ndim : (size_t)x->rank;
        for (size_t k = 0; k < r; k++) d[k] = x->kind == V_CONST ? x->c->dims[k] : x->dims[k];
        if (x->kind == V_RUN && x->rank == 4) { /* pending pads change the apparent shape */
            d[2] += x->pad[0] + x->pad[2];
            d[3] += x->pad[1] + x->pad[3];
        }
        int64_t s = ox_attr_int(n, "start", 0), e = ox_attr_int(n, "end", (int64_t)r);
        if (s < 0) s += (int64_t)r;
        if (e < 0) e += (int64_t)r;
        s = clamp64(s, 0, (int64_t)r);
        e = clamp64(e, s, (int64_t)r);
        int64_t len = e - s;
        ox_tensor *t = ox_new_const(c, OX_INT64, 1, &len);
        for (int64_t k = 0; t && k < len; k++) t->i[k] = d[s + k];
        return bind(c, n, t);
    }
    for (size_t k = 0; k < n->n_in; k++) {
        ox_val *v = ox_get(c, n->in[k]);
        if (v && v->kind != V_CONST) return ET_ERR_NOT_FOUND;
    }
    if (!n->n_in || !ox_get(c, n->in[0])) return ET_ERR_NOT_FOUND;
    const ox_tensor *x = ox_get(c, n->in[0])->c;
    if (strcmp(op, "Identity") == 0 || strcmp(op, "Dropout") == 0) return bind(c, n, (ox_tensor *)x);
    if (strcmp(op, "Add") == 0 || strcmp(op, "Sub") == 0 || strcmp(op, "Mul") == 0 || strcmp(op, "Div") == 0) {
        const ox_tensor *y = ox_const_in(c, n, 1, 0);
        return y ? fold_binary(c, n, x, y) : c->first;
    }
    if (strcmp(op, "Gather") == 0) {
        const ox_tensor *ind = ox_const_in(c, n, 1, 0);
        return ind ? fold_gather(c, n, x, ind) : c->first;
    }
    if (strcmp(op, "Slice") == 0) return fold_slice(c, n, x);
    if (strcmp(op, "Transpose") == 0) return fold_transpose(c, n, x);
    if (strcmp(op, "Concat") == 0) return fold_concat(c, n);
    if (strcmp(op, "Cast") == 0) {
        int64_t to = ox_attr_int(n, "to", 0);
        if (to != OX_FLOAT && to != OX_INT64 && to != OX_INT32) return ox_err(c, n, ET_ERR_UNSUPPORTED, "cast to data type %lld", (long long)to);
        ox_tensor *t = ox_new_const(c, to == OX_FLOAT ? OX_FLOAT : OX_INT64, x->ndim, x->dims);
        for (size_t k = 0; t && k < x->count; k++) put(t, k, at(x, k));
        return bind(c, n, t);
    }
    if (strcmp(op, "Reshape") == 0 || strcmp(op, "Squeeze") == 0 || strcmp(op, "Unsqueeze") == 0 || strcmp(op, "Flatten") == 0) {
        int64_t d[OX_MAX_RANK];
        size_t r;
        et_status st;
        if (op[0] == 'R') {
            const ox_tensor *s = ox_const_in(c, n, 1, 0);
            if (!s) return c->first;
            st = ox_resolve_shape(c, n, x->dims, x->ndim, s, d, &r);
        } else if (op[0] == 'F') {
            int64_t ax = ox_attr_int(n, "axis", 1);
            if (ax < 0) ax += (int64_t)x->ndim;
            d[0] = d[1] = 1;
            for (size_t k = 0; k < x->ndim; k++) d[(int64_t)k < ax ? 0 : 1] *= x->dims[k];
            r = 2;
            st = ET_OK;
        } else {
            st = ox_squeeze_dims(c, n, x->dims, x->ndim, d, &r);
        }
        return st != ET_OK ? st : bind(c, n, reshaped(c, x, r, d));
    }
    if (strcmp(op, "ConstantOfShape") == 0) {
        if (!x->i || x->ndim != 1 || x->count > OX_MAX_RANK) return ox_err(c, n, ET_ERR_UNSUPPORTED, "shape must be a short 1-D int64 tensor");
        const ox_attr *a = ox_attr_find(n, "value");
        ox_tensor *t = ox_new_const(c, a && a->t ? a->t->dtype : OX_FLOAT, x->count, x->i);
        for (size_t k = 0; t && k < t->count; k++) put(t, k, a && a->t && a->t->count ? at(a->t, 0) : 0.0);
        return bind(c, n, t);
    }
    return ET_ERR_NOT_FOUND;
}
