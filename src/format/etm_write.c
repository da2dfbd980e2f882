/* .etm writer: serializes an et_model into a caller buffer or, atomically,
 * into a file (PATH.tmp, fsync, rename, fsync of the directory). Output is
 * deterministic. The byte layout lives in etm.h; no parsing here. */
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "model.h"
#include "format/crc32.h"
#include "format/etm.h"
#include "atomic_file.h"

#define N_SECTIONS 4u

typedef struct layout {
    size_t meta_off, meta_size;
    size_t graph_off, graph_size;
    size_t str_off, str_size;
    size_t blob_off, blob_size;
    size_t total;
} layout;

/* The save API takes a const model but records its error message on it, as
 * every other call does. Models are heap objects from et_model_alloc or
 * live in writable caller memory (static loads), so writing through the cast
 * is defined. */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static et_status wfail(const et_model *m, et_status st, const char *fmt, ...) {
    et_model *mm = (et_model *)(uintptr_t)m;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(mm->err, sizeof mm->err, fmt, ap);
    va_end(ap);
    return st;
}

static size_t align_up(size_t v, size_t a) { return (v + a - 1) / a * a; }

/* The name written for node i: its own, or the one et_node_set_name would
 * generate, so that a file never holds an empty name. */
static const char *node_name(const et_model *m, uint32_t i, char gen[48]) {
    const char *n = m->nodes[i].name;
    if (n && *n) return n;
    snprintf(gen, 48, "%s_%u", et_op_name(m->nodes[i].op), i);
    return gen;
}

static et_status compute_layout(const et_model *m, layout *L) {
    memset(L, 0, sizeof *L);
    if (m->n_nodes > ET_MAX_NODES || (m->n_nodes && !m->nodes))
        return wfail(m, ET_ERR_INVALID_ARG, "save: %u nodes (limit %u)", m->n_nodes, ET_MAX_NODES);
    if (m->n_outputs > ET_MAX_NODES || (m->n_outputs && !m->outputs))
        return wfail(m, ET_ERR_INVALID_ARG, "save: %u outputs (limit %u)", m->n_outputs, ET_MAX_NODES);
    if (m->n_labels > ET_MAX_LABELS || (m->n_labels && !m->labels))
        return wfail(m, ET_ERR_INVALID_ARG, "save: %u labels (limit %u)", m->n_labels, ET_MAX_LABELS);
    if (m->norm_channels > ET_MAX_CHANNELS_META)
        return wfail(m, ET_ERR_INVALID_ARG, "save: metadata norm_channels %u exceeds %d", m->norm_channels, ET_MAX_CHANNELS_META);
    if (m->source_layout != ET_LAYOUT_NHWC && m->source_layout != ET_LAYOUT_NCHW)
        return wfail(m, ET_ERR_INVALID_ARG, "save: unknown source layout %d", (int)m->source_layout);
    if (m->in_c > ET_MAX_DIM || m->in_h > ET_MAX_DIM || m->in_w > ET_MAX_DIM)
        return wfail(m, ET_ERR_INVALID_ARG, "save: input %ux%ux%u (HxWxC) exceeds %u", m->in_h, m->in_w, m->in_c, ET_MAX_DIM);
    for (uint32_t c = 0; c < m->norm_channels; c++)
        if (!(m->std[c] > 0.0f && m->std[c] <= FLT_MAX && m->mean[c] - m->mean[c] == 0.0f))
            return wfail(m, ET_ERR_INVALID_ARG, "save: metadata channel %u: mean %g / std %g (std must be finite and > 0, mean finite)",
                         c, (double)m->mean[c], (double)m->std[c]);
    for (uint32_t k = 0; k < m->n_outputs; k++)
        if (m->outputs[k] > m->n_nodes)
            return wfail(m, ET_ERR_INVALID_ARG, "save: output %u refers to value %u, graph has %u nodes", k, m->outputs[k], m->n_nodes);

    size_t graph = ET_ETM_GRAPH_FIXED + (size_t)m->n_outputs * 4u, strs = 0, blob = 0;
    for (uint32_t i = 0; i < m->n_nodes; i++) {
        const et_node *nd = &m->nodes[i];
        char gen[48];
        if ((unsigned)nd->op >= ET_OP_COUNT || nd->op == ET_OP_INPUT)
            return wfail(m, ET_ERR_INVALID_ARG, "save: node %u: unknown op %d", i, (int)nd->op);
        if ((unsigned)nd->act.kind >= ET_ACT_COUNT)
            return wfail(m, ET_ERR_INVALID_ARG, "save: node %u: unknown activation %d", i, (int)nd->act.kind);
        size_t nlen = strlen(node_name(m, i, gen));
        if (nlen > ET_MAX_NAME)
            return wfail(m, ET_ERR_INVALID_ARG, "save: node %u: name longer than %u bytes", i, ET_MAX_NAME);
        if (nd->n_in > ET_MAX_INPUTS || (nd->n_in && !nd->in))
            return wfail(m, ET_ERR_INVALID_ARG, "save: node %u '%s': %u inputs (limit %u)", i, nd->name, nd->n_in, ET_MAX_INPUTS);
        for (uint32_t k = 0; k < nd->n_in; k++)
            if (nd->in[k] > i)
                return wfail(m, ET_ERR_INVALID_ARG, "save: node %u '%s': input %u refers to value %u, not computed before it",
                             i, node_name(m, i, gen), k, nd->in[k]);
        if (nd->n_params > et_op_param_slots(nd->op))
            return wfail(m, ET_ERR_INVALID_ARG, "save: node %u '%s' (%s): %u params, the op has %u slots", i, node_name(m, i, gen),
                         et_op_name(nd->op), nd->n_params, et_op_param_slots(nd->op));
        const uint32_t attrs[ET_ETM_N_ATTRS] = {nd->out_c, nd->kh, nd->kw, nd->sh, nd->sw, nd->dh, nd->dw, nd->groups,
                                                nd->pad_t, nd->pad_l, nd->pad_b, nd->pad_r, nd->ceil_mode,
                                                nd->count_include_pad, nd->rh, nd->rw, nd->rc};
        for (unsigned a = 0; a < ET_ETM_N_ATTRS; a++)
            if (attrs[a] > et_etm_attr_rule(a).max)
                return wfail(m, ET_ERR_INVALID_ARG, "save: node %u '%s' (%s): %s %u exceeds the limit %u", i, node_name(m, i, gen),
                             et_op_name(nd->op), et_etm_attr_rule(a).name, attrs[a], et_etm_attr_rule(a).max);
        strs += nlen; /* at most 65536 * 127: cannot overflow */
        graph += ET_ETM_NODE_FIXED + (size_t)nd->n_in * 4u + (size_t)nd->n_params * ET_ETM_PARAM_REC;
        for (uint32_t k = 0; k < nd->n_params; k++) {
            const et_param *p = &nd->params[k];
            size_t bytes;
            if (!p->count) continue;
            if (!p->data)
                return wfail(m, ET_ERR_INVALID_ARG, "save: node %u '%s': param %u has %zu values but no data", i, node_name(m, i, gen), k, p->count);
            if (!et_mul_ok(p->count, sizeof(float), &bytes) || !et_add_ok(align_up(blob, ET_ETM_BLOB_ALIGN), bytes, &blob) ||
                blob > (size_t)-1 - 2 * ET_ETM_BLOB_ALIGN)
                return wfail(m, ET_ERR_OVERFLOW, "save: node %u '%s': param %u: weights exceed the address space", i, node_name(m, i, gen), k);
        }
    }
    for (uint32_t i = 0; i < m->n_labels; i++) {
        size_t l = m->labels[i] ? strlen(m->labels[i]) : 0;
        if (l > ET_ETM_MAX_LABEL_LEN)
            return wfail(m, ET_ERR_INVALID_ARG, "save: label %u is longer than %u bytes", i, ET_ETM_MAX_LABEL_LEN);
        strs += l; /* at most 65536 * 4095 */
    }
    size_t slen = m->source ? strlen(m->source) : 0;
    if (slen > ET_ETM_MAX_SOURCE_LEN)
        return wfail(m, ET_ERR_INVALID_ARG, "save: source string is longer than %u bytes", ET_ETM_MAX_SOURCE_LEN);
    strs += slen;
    if (strs > UINT32_MAX) return wfail(m, ET_ERR_OVERFLOW, "save: %zu bytes of strings exceed 4 GiB", strs);

    L->meta_off = ET_ETM_TABLE_OFFSET + N_SECTIONS * ET_ETM_ENTRY_SIZE;
    L->meta_size = ET_ETM_META_FIXED + (size_t)m->n_labels * ET_ETM_STRREF_SIZE;
    L->graph_off = align_up(L->meta_off + L->meta_size, 8);
    L->graph_size = graph;
    L->str_off = align_up(L->graph_off + graph, 8);
    L->str_size = strs;
    L->blob_off = align_up(L->str_off + strs, ET_ETM_BLOB_ALIGN);
    L->blob_size = blob;
    if (!et_add_ok(L->blob_off, blob, &L->total))
        return wfail(m, ET_ERR_OVERFLOW, "save: file size exceeds the address space");
    return ET_OK;
}

/* Copy a string into STRINGS at *spos and write its reference at ref. */
static void put_str(unsigned char *f, const layout *L, size_t *spos, unsigned char *ref, const char *s) {
    size_t l = s ? strlen(s) : 0;
    memcpy(f + L->str_off + *spos, s ? s : "", l);
    et_put_u32(ref, l ? (uint32_t)*spos : 0); /* empty strings have offset 0 */
    et_put_u32(ref + 4, (uint32_t)l);
    *spos += l;
}

static void put_entry(unsigned char *f, uint32_t idx, uint32_t type, size_t off, size_t size, uint32_t crc) {
    unsigned char *e = f + ET_ETM_TABLE_OFFSET + idx * ET_ETM_ENTRY_SIZE;
    et_put_u32(e + ET_ETM_E_TYPE, type);
    et_put_u64(e + ET_ETM_E_OFFSET, off);
    et_put_u64(e + ET_ETM_E_SIZE, size);
    et_put_u32(e + ET_ETM_E_CRC, crc);
}

/* Fill bytes [0, blob_off) of f, which the caller zeroed: header, table,
 * META, GRAPH, STRINGS and every CRC (the BLOB's is given). */
static void fill_front(const et_model *m, const layout *L, uint32_t blob_crc, unsigned char *f) {
    unsigned char *mt = f + L->meta_off, *g = f + L->graph_off;
    size_t spos = 0;

    /* GRAPH first so that node names come first in STRINGS */
    et_put_u32(g + ET_ETM_G_IN_C, m->in_c);
    et_put_u32(g + ET_ETM_G_IN_H, m->in_h);
    et_put_u32(g + ET_ETM_G_IN_W, m->in_w);
    et_put_u32(g + ET_ETM_G_NODES, m->n_nodes);
    et_put_u32(g + ET_ETM_G_OUTPUTS, m->n_outputs);
    size_t pos = ET_ETM_GRAPH_FIXED, blob = 0;
    for (uint32_t k = 0; k < m->n_outputs; k++, pos += 4) et_put_u32(g + pos, m->outputs[k]);
    for (uint32_t i = 0; i < m->n_nodes; i++) {
        const et_node *nd = &m->nodes[i];
        unsigned char *r = g + pos;
        char gen[48];
        et_put_u32(r + ET_ETM_N_OP, (uint32_t)nd->op);
        et_put_u32(r + ET_ETM_N_ACT, (uint32_t)nd->act.kind);
        et_put_f32(r + ET_ETM_N_ACT_A, nd->act.a);
        et_put_f32(r + ET_ETM_N_ACT_B, nd->act.b);
        put_str(f, L, &spos, r + ET_ETM_N_NAME, node_name(m, i, gen));
        const uint32_t attrs[ET_ETM_N_ATTRS] = {nd->out_c, nd->kh, nd->kw, nd->sh, nd->sw, nd->dh, nd->dw, nd->groups,
                                                nd->pad_t, nd->pad_l, nd->pad_b, nd->pad_r, nd->ceil_mode,
                                                nd->count_include_pad, nd->rh, nd->rw, nd->rc};
        for (unsigned a = 0; a < ET_ETM_N_ATTRS; a++) et_put_u32(r + ET_ETM_N_OUT_C + 4 * a, attrs[a]);
        et_put_f32(r + ET_ETM_N_EPS, nd->eps);
        et_put_f32(r + ET_ETM_N_RATIO, nd->ratio);
        et_put_u32(r + ET_ETM_N_N_IN, nd->n_in);
        et_put_u32(r + ET_ETM_N_N_PARAMS, nd->n_params);
        pos += ET_ETM_NODE_FIXED;
        for (uint32_t k = 0; k < nd->n_in; k++, pos += 4) et_put_u32(g + pos, nd->in[k]);
        for (uint32_t k = 0; k < nd->n_params; k++, pos += ET_ETM_PARAM_REC) {
            size_t cnt = nd->params[k].count, off = 0;
            if (cnt) {
                off = align_up(blob, ET_ETM_BLOB_ALIGN);
                blob = off + cnt * sizeof(float);
            }
            et_put_u64(g + pos, cnt);
            et_put_u64(g + pos + 8, off);
        }
    }

    et_put_u32(mt + ET_ETM_M_LAYOUT, (uint32_t)m->source_layout);
    et_put_u32(mt + ET_ETM_M_NORM, m->norm_channels);
    for (unsigned c = 0; c < ET_MAX_CHANNELS_META; c++) {
        et_put_f32(mt + ET_ETM_M_MEAN + 4 * c, m->mean[c]);
        et_put_f32(mt + ET_ETM_M_STD + 4 * c, m->std[c]);
    }
    et_put_u32(mt + ET_ETM_M_LABELS, m->n_labels);
    for (uint32_t i = 0; i < m->n_labels; i++)
        put_str(f, L, &spos, mt + ET_ETM_META_FIXED + i * ET_ETM_STRREF_SIZE, m->labels[i]);
    put_str(f, L, &spos, mt + ET_ETM_M_SOURCE, m->source);

    put_entry(f, 0, ET_ETM_SEC_META, L->meta_off, L->meta_size, et_crc32(mt, L->meta_size));
    put_entry(f, 1, ET_ETM_SEC_GRAPH, L->graph_off, L->graph_size, et_crc32(g, L->graph_size));
    put_entry(f, 2, ET_ETM_SEC_STRINGS, L->str_off, L->str_size, et_crc32(f + L->str_off, L->str_size));
    put_entry(f, 3, ET_ETM_SEC_BLOB, L->blob_off, L->blob_size, blob_crc);

    memcpy(f, ET_ETM_MAGIC, ET_ETM_MAGIC_LEN);
    et_put_u32(f + ET_ETM_H_VERSION, ET_ETM_VERSION);
    et_put_u32(f + ET_ETM_H_HEADER_SIZE, ET_ETM_HEADER_SIZE);
    et_put_u64(f + ET_ETM_H_FILE_SIZE, L->total);
    et_put_u32(f + ET_ETM_H_SECTIONS, N_SECTIONS);
    et_put_u32(f + ET_ETM_H_TABLE_CRC, et_crc32(f + ET_ETM_TABLE_OFFSET, N_SECTIONS * ET_ETM_ENTRY_SIZE));
    et_put_u32(f + ET_ETM_H_CRC, et_crc32(f, ET_ETM_H_CRC));
}

/* A byte sink for the BLOB stream: memory, a CRC, or a file descriptor. */
typedef struct sink {
    int (*put)(struct sink *s, const void *p, size_t n);
    unsigned char *buf;
    size_t pos, cap;
    uint32_t crc;
    et_atomic *file;
} sink;

static int put_mem(sink *s, const void *p, size_t n) {
    if (n > s->cap - s->pos) return 0;
    memcpy(s->buf + s->pos, p, n);
    s->pos += n;
    return 1;
}

static int put_crc(sink *s, const void *p, size_t n) {
    s->crc = et_crc32_update(s->crc, p, n);
    return 1;
}

static int put_file(sink *s, const void *p, size_t n) {
    et_atomic_write(s->file, p, n);
    return 1; /* failures are reported by et_atomic_commit */
}

/* Stream the BLOB: each param at its 64-aligned offset, zeros between,
 * floats as little-endian bytes. */
static int emit_blob(const et_model *m, sink *s) {
    static const unsigned char zeros[ET_ETM_BLOB_ALIGN] = {0};
    const int le = et_host_is_le();
    size_t blob = 0;
    for (uint32_t i = 0; i < m->n_nodes; i++) {
        for (uint32_t k = 0; k < m->nodes[i].n_params; k++) {
            const et_param *p = &m->nodes[i].params[k];
            if (!p->count) continue;
            size_t off = align_up(blob, ET_ETM_BLOB_ALIGN);
            if (off > blob && !s->put(s, zeros, off - blob)) return 0;
            if (le) {
                if (!s->put(s, p->data, p->count * sizeof(float))) return 0;
            } else {
                unsigned char chunk[1024];
                for (size_t j = 0; j < p->count;) {
                    size_t n = p->count - j < sizeof chunk / 4 ? p->count - j : sizeof chunk / 4;
                    for (size_t t = 0; t < n; t++) et_put_f32(chunk + 4 * t, p->data[j + t]);
                    if (!s->put(s, chunk, 4 * n)) return 0;
                    j += n;
                }
            }
            blob = off + p->count * sizeof(float);
        }
    }
    return 1;
}

et_status et_model_save_buffer(const et_model *m, void *buf, size_t cap, size_t *len_out) {
    if (!m || !len_out) return ET_ERR_INVALID_ARG;
    layout L;
    et_status st = compute_layout(m, &L);
    if (st != ET_OK) return st;
    *len_out = L.total;
    if (!buf) return ET_OK;
    if (cap < L.total)
        return wfail(m, ET_ERR_INVALID_ARG, "save: buffer holds %zu bytes, the model needs %zu", cap, L.total);
    unsigned char *f = buf;
    memset(f, 0, L.total);
    sink s = {put_mem, f + L.blob_off, 0, L.blob_size, 0, NULL};
    if (!emit_blob(m, &s) || s.pos != L.blob_size)
        return wfail(m, ET_ERR_INVALID_ARG, "save: weights changed while writing");
    fill_front(m, &L, et_crc32(f + L.blob_off, L.blob_size), f);
    return ET_OK;
}

et_status et_model_save_file(const et_model *m, const char *path) {
    if (!m) return ET_ERR_INVALID_ARG;
    if (!path || !*path) return wfail(m, ET_ERR_INVALID_ARG, "save: empty path");
    layout L;
    et_status st = compute_layout(m, &L);
    if (st != ET_OK) return st;

    unsigned char *front = calloc(1, L.blob_off);
    if (!front) return wfail(m, ET_ERR_NO_MEMORY, "save: out of memory");
    sink c = {put_crc, NULL, 0, 0, 0, NULL};
    emit_blob(m, &c);
    fill_front(m, &L, c.crc, front);
    char err[ET_ERR_LEN];
    et_atomic w;
    st = et_atomic_begin(&w, path, NULL, err, sizeof err);
    if (st == ET_OK) {
        sink s = {put_file, NULL, 0, 0, 0, &w};
        put_file(&s, front, L.blob_off);
        emit_blob(m, &s);
        st = et_atomic_commit(&w, err, sizeof err);
    }
    free(front);
    if (st != ET_OK) wfail(m, st, "save: %s", err);
    return st;
}
