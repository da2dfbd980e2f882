/* Decodes an ONNX ModelProto into ox_model: graph, nodes, attributes,
 * initializers, inputs/outputs and metadata_props. Every field's wire type,
 * length and count is checked; nesting follows the fixed ONNX schema (at most
 * model > graph > node > attribute > tensor), so no recursion depth grows
 * with the input. Unknown fields are skipped as protobuf requires. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "onnx/onnx.h"
#include "onnx/pb.h"
#include "model.h"

typedef struct pctx {
    char *err;
    size_t err_len;
    int st;
} pctx;

#define PFAIL(c, status, ...) (et_fail((c)->err, (c)->err_len, (status), __VA_ARGS__))

static et_status next(pctx *c, pb_reader *r, pb_field *f, int *more) {
    *more = 0;
    char msg[200];
    int k = pb_next(r, f, msg, sizeof msg);
    if (k < 0) return PFAIL(c, ET_ERR_FORMAT, "malformed protobuf: %s", msg);
    *more = k;
    return ET_OK;
}

static et_status want(pctx *c, const pb_field *f, int wt, const char *what) {
    if (f->wt == wt) return ET_OK;
    return PFAIL(c, ET_ERR_FORMAT, "malformed ONNX: byte %zu: %s (field %u) has wire type %d, expected %d",
                 f->offset, what, f->num, f->wt, wt);
}

static char *dup_bytes(const uint8_t *p, size_t n) {
    char *s = malloc(n + 1);
    if (!s) return NULL;
    if (n) memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

/* Grows *arr (of elem-byte entries) to hold at least n + 1. */
static int grow(void **arr, size_t *cap, size_t n, size_t elem) {
    if (n < *cap) return 1;
    size_t nc = *cap ? *cap * 2 : 8;
    if (nc > (size_t)-1 / elem) return 0;
    void *a = realloc(*arr, nc * elem);
    if (!a) return 0;
    memset((char *)a + *cap * elem, 0, (nc - *cap) * elem);
    *arr = a;
    *cap = nc;
    return 1;
}

static et_status str_field(pctx *c, const pb_field *f, const char *what, char **out) {
    et_status st = want(c, f, PB_LEN, what);
    if (st != ET_OK) return st;
    free(*out);
    *out = dup_bytes(f->ptr, f->len);
    return *out ? ET_OK : PFAIL(c, ET_ERR_NO_MEMORY, "out of memory");
}

/* Number of scalars in a repeated numeric field occurrence (packed or not). */
static et_status count_scalars(pctx *c, const pb_field *f, int scalar_wt, const char *what, size_t *n) {
    if (f->wt == scalar_wt) { *n = 1; return ET_OK; }
    if (f->wt != PB_LEN) return want(c, f, scalar_wt, what);
    if (scalar_wt == PB_I32 || scalar_wt == PB_I64) {
        size_t sz = scalar_wt == PB_I32 ? 4 : 8;
        if (f->len % sz) return PFAIL(c, ET_ERR_FORMAT, "malformed ONNX: byte %zu: packed %s has %zu bytes, not a multiple of %zu", f->offset, what, f->len, sz);
        *n = f->len / sz;
        return ET_OK;
    }
    const uint8_t *p = f->ptr, *end = f->ptr + f->len;
    size_t k = 0;
    uint64_t v;
    while (p < end) {
        if (!pb_varint(&p, end, &v)) return PFAIL(c, ET_ERR_FORMAT, "malformed ONNX: byte %zu: packed %s holds a truncated varint", f->offset, what);
        k++;
    }
    *n = k;
    return ET_OK;
}

/* Appends the scalars of one occurrence as raw 64-bit values (floats as bits). */
static void read_scalars(const pb_field *f, int scalar_wt, uint64_t *dst) {
    if (f->wt != PB_LEN) { dst[0] = f->u; return; }
    const uint8_t *p = f->ptr, *end = f->ptr + f->len;
    size_t k = 0;
    while (p < end) {
        if (scalar_wt == PB_VARINT) { (void)pb_varint(&p, end, &dst[k++]); continue; }
        int sz = scalar_wt == PB_I32 ? 4 : 8;
        uint64_t v = 0;
        for (int b = sz - 1; b >= 0; b--) v = v << 8 | p[b];
        dst[k++] = v;
        p += sz;
    }
}

static float bits_to_float(uint64_t u) {
    uint32_t w = (uint32_t)u;
    float f;
    memcpy(&f, &w, 4);
    return f;
}

/* Collects every occurrence of a repeated numeric field into a new array. */
static et_status gather(pctx *c, pb_reader r, uint32_t num, int scalar_wt, const char *what, uint64_t **out, size_t *n_out) {
    pb_field f;
    int more = 0;
    size_t total = 0, n;
    et_status st;
    pb_reader r2 = r;
    while ((st = next(c, &r2, &f, &more)) == ET_OK && more) {
        if (f.num != num) continue;
        if ((st = count_scalars(c, &f, scalar_wt, what, &n)) != ET_OK) return st;
        total += n;
    }
    if (st != ET_OK) return st;
    *n_out = total;
    *out = malloc((total ? total : 1) * sizeof **out);
    if (!*out) return PFAIL(c, ET_ERR_NO_MEMORY, "out of memory for %zu values of %s", total, what);
    size_t k = 0;
    while (next(c, &r, &f, &more) == ET_OK && more) {
        if (f.num != num) continue;
        (void)count_scalars(c, &f, scalar_wt, what, &n);
        read_scalars(&f, scalar_wt, *out + k);
        k += n;
    }
    return ET_OK;
}

void ox_tensor_free(ox_tensor *t) {
    if (!t) return;
    free(t->name);
    free(t->f);
    free(t->i);
    memset(t, 0, sizeof *t);
}

static et_status parse_tensor(pctx *c, pb_reader r, ox_tensor *t) {
    pb_field f;
    int more = 0;
    et_status st;
    const uint8_t *raw = NULL;
    size_t raw_len = 0, n_typed = 0;
    int has_raw = 0, external = 0, has_dims = 0;
    uint32_t typed_field = 0;
    memset(t, 0, sizeof *t);
    t->dtype = 0;
    pb_reader r0 = r;
    while ((st = next(c, &r, &f, &more)) == ET_OK && more) {
        switch (f.num) {
        case 1: has_dims = 1; break;
        case 2: if ((st = want(c, &f, PB_VARINT, "TensorProto.data_type")) != ET_OK) return st; t->dtype = (int)f.u; break;
        case 8: if ((st = str_field(c, &f, "TensorProto.name", &t->name)) != ET_OK) return st; break;
        case 9: if ((st = want(c, &f, PB_LEN, "TensorProto.raw_data")) != ET_OK) return st; raw = f.ptr; raw_len = f.len; has_raw = 1; break;
        case 13: external = 1; break;
        case 14: if (f.wt == PB_VARINT && f.u == 1) external = 1; break;
        case 4: case 5: case 7: case 10: case 11: case 6: typed_field = f.num; break;
        default: break;
        }
    }
    if (st != ET_OK) return st;
    const char *nm = t->name ? t->name : "(unnamed)";
    if (external) return PFAIL(c, ET_ERR_UNSUPPORTED, "tensor '%s': external data is not supported (save the model with its weights inside)", nm);
    if (has_dims) {
        uint64_t *d = NULL;
        size_t nd;
        if ((st = gather(c, r0, 1, PB_VARINT, "TensorProto.dims", &d, &nd)) != ET_OK) return st;
        if (nd > OX_MAX_RANK) { free(d); return PFAIL(c, ET_ERR_UNSUPPORTED, "tensor '%s': rank %zu exceeds %d", nm, nd, OX_MAX_RANK); }
        t->ndim = nd;
        for (size_t k = 0; k < nd; k++) t->dims[k] = (int64_t)d[k];
        free(d);
    }
    size_t count = 1;
    for (size_t k = 0; k < t->ndim; k++) {
        if (t->dims[k] < 0 || t->dims[k] > OX_MAX_DIMV)
            return PFAIL(c, ET_ERR_FORMAT, "tensor '%s': dimension %zu is %lld", nm, k, (long long)t->dims[k]);
        if (!et_mul_ok(count, (size_t)t->dims[k], &count) || count > OX_MAX_ELEMS)
            return PFAIL(c, ET_ERR_OVERFLOW, "tensor '%s': more than %zu elements", nm, OX_MAX_ELEMS);
    }
    t->count = count;
    int dt = t->dtype;
    if (dt != OX_FLOAT && dt != OX_INT64 && dt != OX_INT32)
        return PFAIL(c, ET_ERR_UNSUPPORTED, "tensor '%s': data type %d is not supported (float32, int64 and int32 are)", nm, dt);
    size_t esz = dt == OX_INT64 ? 8 : 4;
    if (dt == OX_FLOAT) t->f = malloc((count ? count : 1) * sizeof *t->f);
    else t->i = malloc((count ? count : 1) * sizeof *t->i);
    if (!t->f && !t->i) return PFAIL(c, ET_ERR_NO_MEMORY, "tensor '%s': out of memory", nm);
    if (has_raw) {
        if (raw_len / esz != count || raw_len % esz)
            return PFAIL(c, ET_ERR_FORMAT, "tensor '%s': raw_data has %zu bytes, %zu elements of %zu bytes need %zu", nm, raw_len, count, esz, count * esz);
        for (size_t k = 0; k < count; k++) {
            uint64_t v = 0;
            for (size_t b = esz; b-- > 0;) v = v << 8 | raw[k * esz + b];
            if (dt == OX_FLOAT) t->f[k] = bits_to_float(v);
            else if (dt == OX_INT32) t->i[k] = (int64_t)(int32_t)(uint32_t)v;
            else t->i[k] = (int64_t)v;
        }
    } else {
        uint32_t fld = dt == OX_FLOAT ? 4 : dt == OX_INT32 ? 5 : 7;
        if (typed_field && typed_field != fld)
            return PFAIL(c, ET_ERR_FORMAT, "tensor '%s': data type %d stored in field %u", nm, dt, typed_field);
        uint64_t *v = NULL;
        if ((st = gather(c, r0, fld, dt == OX_FLOAT ? PB_I32 : PB_VARINT, "tensor data", &v, &n_typed)) != ET_OK) return st;
        if (n_typed != count) {
            free(v);
            return PFAIL(c, ET_ERR_FORMAT, "tensor '%s': holds %zu values, its dims need %zu", nm, n_typed, count);
        }
        for (size_t k = 0; k < count; k++) {
            if (dt == OX_FLOAT) t->f[k] = bits_to_float(v[k]);
            else if (dt == OX_INT32) t->i[k] = (int64_t)(int32_t)(uint32_t)v[k];
            else t->i[k] = (int64_t)v[k];
        }
        free(v);
    }
    if (dt == OX_INT32) t->dtype = OX_INT64;
    return ET_OK;
}

static et_status parse_attr(pctx *c, pb_reader r, ox_attr *a) {
    pb_field f;
    int more = 0;
    et_status st;
    pb_reader r0 = r;
    int has_floats = 0, has_ints = 0, inferred = 0;
    while ((st = next(c, &r, &f, &more)) == ET_OK && more) {
        switch (f.num) {
        case 1: st = str_field(c, &f, "AttributeProto.name", &a->name); break;
        case 20: st = want(c, &f, PB_VARINT, "AttributeProto.type"); a->type = (int)f.u; break;
        case 2: st = want(c, &f, PB_I32, "AttributeProto.f"); a->f = bits_to_float(f.u); inferred = OXA_FLOAT; break;
        case 3: st = want(c, &f, PB_VARINT, "AttributeProto.i"); a->i = (int64_t)f.u; inferred = OXA_INT; break;
        case 4: st = str_field(c, &f, "AttributeProto.s", &a->s); inferred = OXA_STRING; break;
        case 5:
            if ((st = want(c, &f, PB_LEN, "AttributeProto.t")) != ET_OK) break;
            if (a->t) { ox_tensor_free(a->t); free(a->t); }
            if (!(a->t = calloc(1, sizeof *a->t))) return PFAIL(c, ET_ERR_NO_MEMORY, "out of memory");
            st = parse_tensor(c, pb_sub(&r, &f), a->t);
            inferred = OXA_TENSOR;
            break;
        case 7: has_floats = 1; break;
        case 8: has_ints = 1; break;
        default: break;  /* graphs, sparse tensors, strings: ops using them are rejected later */
        }
        if (st != ET_OK) return st;
    }
    if (st != ET_OK) return st;
    if (!a->type) a->type = has_floats ? OXA_FLOATS : has_ints ? OXA_INTS : inferred;
    uint64_t *v = NULL;
    if (has_floats) {
        if ((st = gather(c, r0, 7, PB_I32, "AttributeProto.floats", &v, &a->n)) != ET_OK) return st;
        a->floats = malloc((a->n ? a->n : 1) * sizeof *a->floats);
        for (size_t k = 0; a->floats && k < a->n; k++) a->floats[k] = bits_to_float(v[k]);
        free(v);
        if (!a->floats) return PFAIL(c, ET_ERR_NO_MEMORY, "out of memory");
    } else if (has_ints) {
        if ((st = gather(c, r0, 8, PB_VARINT, "AttributeProto.ints", &v, &a->n)) != ET_OK) return st;
        a->ints = (int64_t *)v; /* same width; two's complement as protobuf stores it */
    }
    if (!a->name) return PFAIL(c, ET_ERR_FORMAT, "malformed ONNX: attribute without a name");
    return ET_OK;
}

static void free_node(ox_node *n) {
    for (size_t k = 0; k < n->n_in; k++) free(n->in[k]);
    for (size_t k = 0; k < n->n_out; k++) free(n->out[k]);
    for (size_t k = 0; k < n->n_attr; k++) {
        ox_attr *a = &n->attr[k];
        free(a->name); free(a->s); free(a->floats); free(a->ints);
        if (a->t) { ox_tensor_free(a->t); free(a->t); }
    }
    free(n->in); free(n->out); free(n->attr);
    free(n->name); free(n->op); free(n->domain);
}

static et_status add_str(pctx *c, char ***arr, size_t *n, size_t *cap, const pb_field *f, const char *what) {
    if (*n >= OX_MAX_IO) return PFAIL(c, ET_ERR_UNSUPPORTED, "byte %zu: more than %u %s", f->offset, OX_MAX_IO, what);
    if (!grow((void **)arr, cap, *n, sizeof **arr)) return PFAIL(c, ET_ERR_NO_MEMORY, "out of memory");
    et_status st = str_field(c, f, what, &(*arr)[*n]);
    if (st == ET_OK) (*n)++;
    return st;
}

static et_status parse_node(pctx *c, pb_reader r, ox_node *n) {
    pb_field f;
    int more = 0;
    et_status st;
    size_t cap_in = 0, cap_out = 0, cap_attr = 0;
    while ((st = next(c, &r, &f, &more)) == ET_OK && more) {
        switch (f.num) {
        case 1: st = add_str(c, &n->in, &n->n_in, &cap_in, &f, "node inputs"); break;
        case 2: st = add_str(c, &n->out, &n->n_out, &cap_out, &f, "node outputs"); break;
        case 3: st = str_field(c, &f, "NodeProto.name", &n->name); break;
        case 4: st = str_field(c, &f, "NodeProto.op_type", &n->op); break;
        case 7: st = str_field(c, &f, "NodeProto.domain", &n->domain); break;
        case 5:
            if ((st = want(c, &f, PB_LEN, "NodeProto.attribute")) != ET_OK) break;
            if (n->n_attr >= OX_MAX_ATTRS) return PFAIL(c, ET_ERR_UNSUPPORTED, "byte %zu: node has more than %u attributes", f.offset, OX_MAX_ATTRS);
            if (!grow((void **)&n->attr, &cap_attr, n->n_attr, sizeof *n->attr)) return PFAIL(c, ET_ERR_NO_MEMORY, "out of memory");
            st = parse_attr(c, pb_sub(&r, &f), &n->attr[n->n_attr++]);
            break;
        default: break;
        }
        if (st != ET_OK) return st;
    }
    if (st != ET_OK) return st;
    if (!n->op) return PFAIL(c, ET_ERR_FORMAT, "malformed ONNX: node '%s' has no op_type", n->name ? n->name : "");
    return ET_OK;
}

static et_status parse_value_info(pctx *c, pb_reader r, ox_value_info *v) {
    pb_field f, g, h, d;
    int more = 0;
    et_status st;
    v->elem_type = -1;
    while ((st = next(c, &r, &f, &more)) == ET_OK && more) {
        if (f.num == 1) { if ((st = str_field(c, &f, "ValueInfoProto.name", &v->name)) != ET_OK) return st; continue; }
        if (f.num != 2) continue;
        if ((st = want(c, &f, PB_LEN, "ValueInfoProto.type")) != ET_OK) return st;
        pb_reader tr = pb_sub(&r, &f);
        while ((st = next(c, &tr, &g, &more)) == ET_OK && more) {
            if (g.num != 1) continue; /* sequence/map/optional types stay elem_type -1 */
            if ((st = want(c, &g, PB_LEN, "TypeProto.tensor_type")) != ET_OK) return st;
            pb_reader ttr = pb_sub(&tr, &g);
            v->elem_type = 0;
            while ((st = next(c, &ttr, &h, &more)) == ET_OK && more) {
                if (h.num == 1) { if ((st = want(c, &h, PB_VARINT, "elem_type")) != ET_OK) return st; v->elem_type = (int)h.u; }
                if (h.num != 2) continue;
                if ((st = want(c, &h, PB_LEN, "TensorShapeProto")) != ET_OK) return st;
                pb_reader sr = pb_sub(&ttr, &h);
                v->has_shape = 1;
                v->ndim = 0;
                while ((st = next(c, &sr, &d, &more)) == ET_OK && more) {
                    if (d.num != 1) continue;
                    if ((st = want(c, &d, PB_LEN, "TensorShapeProto.dim")) != ET_OK) return st;
                    if (v->ndim >= OX_MAX_RANK) return PFAIL(c, ET_ERR_UNSUPPORTED, "value '%s': rank above %d", v->name ? v->name : "", OX_MAX_RANK);
                    pb_reader dr = pb_sub(&sr, &d);
                    pb_field e;
                    int64_t dim = -1;
                    while ((st = next(c, &dr, &e, &more)) == ET_OK && more)
                        if (e.num == 1 && e.wt == PB_VARINT) dim = (int64_t)e.u;
                    if (st != ET_OK) return st;
                    if (dim < -1 || dim > OX_MAX_DIMV) return PFAIL(c, ET_ERR_FORMAT, "value '%s': dimension %lld", v->name ? v->name : "", (long long)dim);
                    v->dims[v->ndim++] = dim == 0 ? -1 : dim;
                }
                if (st != ET_OK) return st;
            }
            if (st != ET_OK) return st;
        }
        if (st != ET_OK) return st;
    }
    return st;
}

static et_status parse_graph(pctx *c, pb_reader r, ox_model *m) {
    pb_field f;
    int more = 0;
    et_status st;
    size_t cap_n = 0, cap_i = 0, cap_in = 0, cap_out = 0;
    while ((st = next(c, &r, &f, &more)) == ET_OK && more) {
        switch (f.num) {
        case 1:
            if ((st = want(c, &f, PB_LEN, "GraphProto.node")) != ET_OK) return st;
            if (m->n_nodes >= OX_MAX_NODES) return PFAIL(c, ET_ERR_UNSUPPORTED, "graph has more than %u nodes", OX_MAX_NODES);
            if (!grow((void **)&m->nodes, &cap_n, m->n_nodes, sizeof *m->nodes)) return PFAIL(c, ET_ERR_NO_MEMORY, "out of memory");
            st = parse_node(c, pb_sub(&r, &f), &m->nodes[m->n_nodes++]);
            break;
        case 5:
            if ((st = want(c, &f, PB_LEN, "GraphProto.initializer")) != ET_OK) return st;
            if (m->n_init >= OX_MAX_NODES) return PFAIL(c, ET_ERR_UNSUPPORTED, "graph has more than %u initializers", OX_MAX_NODES);
            if (!grow((void **)&m->inits, &cap_i, m->n_init, sizeof *m->inits)) return PFAIL(c, ET_ERR_NO_MEMORY, "out of memory");
            st = parse_tensor(c, pb_sub(&r, &f), &m->inits[m->n_init++]);
            if (st == ET_OK && !m->inits[m->n_init - 1].name) st = PFAIL(c, ET_ERR_FORMAT, "malformed ONNX: initializer %zu has no name", m->n_init - 1);
            break;
        case 11: case 12: {
            ox_value_info **arr = f.num == 11 ? &m->inputs : &m->outputs;
            size_t *n = f.num == 11 ? &m->n_inputs : &m->n_outputs, *cap = f.num == 11 ? &cap_in : &cap_out;
            if ((st = want(c, &f, PB_LEN, "GraphProto.input/output")) != ET_OK) return st;
            if (*n >= OX_MAX_NODES) return PFAIL(c, ET_ERR_UNSUPPORTED, "too many graph inputs/outputs");
            if (!grow((void **)arr, cap, *n, sizeof **arr)) return PFAIL(c, ET_ERR_NO_MEMORY, "out of memory");
            st = parse_value_info(c, pb_sub(&r, &f), &(*arr)[(*n)++]);
            if (st == ET_OK && !(*arr)[*n - 1].name) st = PFAIL(c, ET_ERR_FORMAT, "malformed ONNX: graph input/output without a name");
            break;
        }
        case 15: return PFAIL(c, ET_ERR_UNSUPPORTED, "sparse initializers are not supported");
        default: break;
        }
        if (st != ET_OK) return st;
    }
    return st;
}

et_status ox_parse(const void *buf, size_t len, ox_model *m, char *err, size_t err_len) {
    pctx c = {err, err_len, 0};
    memset(m, 0, sizeof *m);
    m->opset = -1;
    if (!buf && len) return PFAIL(&c, ET_ERR_INVALID_ARG, "NULL buffer");
    pb_reader r = {buf, (const uint8_t *)buf + len, buf};
    pb_field f, g;
    int more = 0, has_graph = 0;
    size_t cap_p = 0, cap_v = 0;
    et_status st;
    while ((st = next(&c, &r, &f, &more)) == ET_OK && more) {
        switch (f.num) {
        case 1: st = want(&c, &f, PB_VARINT, "ModelProto.ir_version"); m->ir_version = (int64_t)f.u; break;
        case 2: st = str_field(&c, &f, "ModelProto.producer_name", &m->producer); break;
        case 7:
            if ((st = want(&c, &f, PB_LEN, "ModelProto.graph")) != ET_OK) break;
            if (has_graph) { st = PFAIL(&c, ET_ERR_FORMAT, "malformed ONNX: byte %zu: second graph", f.offset); break; }
            has_graph = 1;
            st = parse_graph(&c, pb_sub(&r, &f), m);
            break;
        case 8: {
            if ((st = want(&c, &f, PB_LEN, "ModelProto.opset_import")) != ET_OK) break;
            pb_reader o = pb_sub(&r, &f);
            size_t dom_len = 0;
            int64_t ver = -1;
            while ((st = next(&c, &o, &g, &more)) == ET_OK && more) {
                if (g.num == 1 && g.wt == PB_LEN) dom_len = g.len + (g.len == 7 && memcmp(g.ptr, "ai.onnx", 7) == 0 ? (size_t)-7 : 0);
                if (g.num == 2 && g.wt == PB_VARINT) ver = (int64_t)g.u;
            }
            if (st == ET_OK && dom_len == 0) m->opset = ver;
            break;
        }
        case 14: {
            if ((st = want(&c, &f, PB_LEN, "ModelProto.metadata_props")) != ET_OK) break;
            if (m->n_props >= 1024) break;
            if (!grow((void **)&m->prop_keys, &cap_p, m->n_props, sizeof *m->prop_keys) ||
                !grow((void **)&m->prop_values, &cap_v, m->n_props, sizeof *m->prop_values)) { st = PFAIL(&c, ET_ERR_NO_MEMORY, "out of memory"); break; }
            pb_reader o = pb_sub(&r, &f);
            size_t k = m->n_props++;
            while ((st = next(&c, &o, &g, &more)) == ET_OK && more) {
                if (g.num == 1) st = str_field(&c, &g, "metadata key", &m->prop_keys[k]);
                else if (g.num == 2) st = str_field(&c, &g, "metadata value", &m->prop_values[k]);
                if (st != ET_OK) break;
            }
            break;
        }
        default: break;
        }
        if (st != ET_OK) break;
    }
    if (st == ET_OK && !has_graph) st = PFAIL(&c, ET_ERR_FORMAT, "not an ONNX model: no graph (field 7) in %zu bytes", len);
    if (st == ET_OK && m->opset < 0) st = PFAIL(&c, ET_ERR_FORMAT, "ONNX model imports no default-domain opset");
    if (st != ET_OK) ox_model_free(m);
    return st;
}

void ox_model_free(ox_model *m) {
    for (size_t k = 0; k < m->n_nodes; k++) free_node(&m->nodes[k]);
    for (size_t k = 0; k < m->n_init; k++) ox_tensor_free(&m->inits[k]);
    for (size_t k = 0; k < m->n_inputs; k++) free(m->inputs[k].name);
    for (size_t k = 0; k < m->n_outputs; k++) free(m->outputs[k].name);
    for (size_t k = 0; k < m->n_props; k++) { free(m->prop_keys[k]); free(m->prop_values[k]); }
    free(m->nodes); free(m->inits); free(m->inputs); free(m->outputs);
    free(m->prop_keys); free(m->prop_values); free(m->producer);
    memset(m, 0, sizeof *m);
}

const ox_attr *ox_attr_find(const ox_node *n, const char *name) {
    for (size_t k = 0; k < n->n_attr; k++)
        if (strcmp(n->attr[k].name, name) == 0) return &n->attr[k];
    return NULL;
}
int64_t ox_attr_int(const ox_node *n, const char *name, int64_t def) {
    const ox_attr *a = ox_attr_find(n, name);
    return a && a->type == OXA_INT ? a->i : def;
}
float ox_attr_float(const ox_node *n, const char *name, float def) {
    const ox_attr *a = ox_attr_find(n, name);
    return a && a->type == OXA_FLOAT ? a->f : def;
}
