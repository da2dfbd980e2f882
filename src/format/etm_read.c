/* .etm reader: checks every byte range, count and CRC of an untrusted file,
 * builds an et_model whose weights point into the file (zero-copy) and hands
 * the graph to et_model_validate. Reads integers byte-wise; never casts
 * unaligned pointers. The byte layout lives in etm.h; no writing here. */
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "arena.h"
#include "model.h"
#include "plan.h"
#include "format/crc32.h"
#include "format/etm.h"

/* Reader state: the whole file and where its sections are. */
typedef struct rd {
    const unsigned char *b;
    size_t len;
    char *err;
    size_t err_len;
    size_t off[5], size[5];   /* by section type 1..4 */
    int present[5];
    et_arena *ar;             /* where the model's tables go */
    const unsigned char *blob;/* host floats of the BLOB: in the file or a copy */
} rd;

#define RFAIL(r, st, ...) et_fail((r)->err, (r)->err_len, st, __VA_ARGS__)

/* pos + n <= end, without overflow. */
static int fits(size_t pos, size_t n, size_t end) { return pos <= end && n <= end - pos; }

/* ------------------------------------------------------------ header and table */

static et_status check_header(rd *r, uint32_t *n_sections) {
    const unsigned char *b = r->b;
    size_t len = r->len, m = len < ET_ETM_MAGIC_LEN ? len : ET_ETM_MAGIC_LEN;
    if (memcmp(b, ET_ETM_MAGIC, m) != 0)
        return RFAIL(r, ET_ERR_FORMAT, "byte 0: not an .etm file (bad magic)");
    if (len < ET_ETM_H_VERSION + 4)
        return RFAIL(r, ET_ERR_FORMAT, "truncated: file is %zu bytes, the header alone is %u", len, ET_ETM_HEADER_SIZE);
    /* the version comes before the header CRC: a later version may lay the rest out differently */
    uint32_t ver = et_le_u32(b + ET_ETM_H_VERSION);
    if (ver != ET_ETM_VERSION)
        return RFAIL(r, ET_ERR_VERSION, "byte %u: format version %u is not supported (this reader reads version %u)",
                     ET_ETM_H_VERSION, ver, ET_ETM_VERSION);
    if (len < ET_ETM_HEADER_SIZE)
        return RFAIL(r, ET_ERR_FORMAT, "truncated: file is %zu bytes, the header alone is %u", len, ET_ETM_HEADER_SIZE);
    uint32_t crc = et_crc32(b, ET_ETM_H_CRC), stored = et_le_u32(b + ET_ETM_H_CRC);
    if (crc != stored)
        return RFAIL(r, ET_ERR_CRC, "byte %u: header CRC32 mismatch (stored 0x%08x, computed 0x%08x)", ET_ETM_H_CRC, stored, crc);
    uint32_t hs = et_le_u32(b + ET_ETM_H_HEADER_SIZE);
    if (hs != ET_ETM_HEADER_SIZE)
        return RFAIL(r, ET_ERR_FORMAT, "byte %u: header size %u, expected %u", ET_ETM_H_HEADER_SIZE, hs, ET_ETM_HEADER_SIZE);
    if (et_le_u32(b + ET_ETM_H_FLAGS) != 0)
        return RFAIL(r, ET_ERR_FORMAT, "byte %u: header flags 0x%08x must be zero", ET_ETM_H_FLAGS, et_le_u32(b + ET_ETM_H_FLAGS));
    for (unsigned i = ET_ETM_H_RESERVED; i < ET_ETM_H_CRC; i++)
        if (b[i]) return RFAIL(r, ET_ERR_FORMAT, "byte %u: reserved header byte is not zero", i);
    uint64_t fsz = et_le_u64(b + ET_ETM_H_FILE_SIZE);
    if (fsz > (uint64_t)len)
        return RFAIL(r, ET_ERR_FORMAT, "truncated: header (byte %u) says the file is %llu bytes, only %zu are present",
                     ET_ETM_H_FILE_SIZE, (unsigned long long)fsz, len);
    if (fsz < (uint64_t)len)
        return RFAIL(r, ET_ERR_FORMAT, "byte %llu: %zu bytes of trailing data after the file size given in the header (byte %u)",
                     (unsigned long long)fsz, len - (size_t)fsz, ET_ETM_H_FILE_SIZE);
    uint32_t n = et_le_u32(b + ET_ETM_H_SECTIONS);
    if (n < 1 || n > ET_ETM_MAX_SECTIONS)
        return RFAIL(r, ET_ERR_FORMAT, "byte %u: section count %u outside 1..%u", ET_ETM_H_SECTIONS, n, ET_ETM_MAX_SECTIONS);
    if (!fits(ET_ETM_TABLE_OFFSET, (size_t)n * ET_ETM_ENTRY_SIZE, len))
        return RFAIL(r, ET_ERR_FORMAT, "byte %u: section table of %u entries runs past the end of the file (%zu bytes)",
                     ET_ETM_TABLE_OFFSET, n, len);
    crc = et_crc32(b + ET_ETM_TABLE_OFFSET, (size_t)n * ET_ETM_ENTRY_SIZE);
    stored = et_le_u32(b + ET_ETM_H_TABLE_CRC);
    if (crc != stored)
        return RFAIL(r, ET_ERR_CRC, "byte %u: section table CRC32 mismatch (stored 0x%08x, computed 0x%08x)", ET_ETM_TABLE_OFFSET, stored, crc);
    *n_sections = n;
    return ET_OK;
}

typedef struct span { size_t off, size; uint32_t type; } span;

static et_status check_table(rd *r, uint32_t n) {
    span s[ET_ETM_MAX_SECTIONS];
    const size_t table_end = ET_ETM_TABLE_OFFSET + (size_t)n * ET_ETM_ENTRY_SIZE;
    for (uint32_t i = 0; i < n; i++) {
        const size_t eo = ET_ETM_TABLE_OFFSET + (size_t)i * ET_ETM_ENTRY_SIZE;
        const unsigned char *e = r->b + eo;
        uint32_t type = et_le_u32(e + ET_ETM_E_TYPE);
        uint64_t off = et_le_u64(e + ET_ETM_E_OFFSET), size = et_le_u64(e + ET_ETM_E_SIZE);
        const char *nm = et_etm_section_name(type);
        int known = type >= ET_ETM_SEC_META && type <= ET_ETM_SEC_BLOB;
        if (!known && !(type & ET_ETM_SEC_ANCILLARY))
            return RFAIL(r, ET_ERR_FORMAT, "byte %zu: section %u has unknown type 0x%08x", eo + ET_ETM_E_TYPE, i, type);
        if (et_le_u32(e + ET_ETM_E_FLAGS) || et_le_u32(e + ET_ETM_E_RESERVED))
            return RFAIL(r, ET_ERR_FORMAT, "byte %zu: section %u (%s): flags and reserved field must be zero", eo, i, nm);
        if (size > UINT64_MAX - off)
            return RFAIL(r, ET_ERR_OVERFLOW, "byte %zu: section %u (%s): offset %llu + size %llu wraps around",
                         eo + ET_ETM_E_OFFSET, i, nm, (unsigned long long)off, (unsigned long long)size);
        if (off + size > (uint64_t)r->len)
            return RFAIL(r, ET_ERR_FORMAT, "byte %zu: section %u (%s) at byte %llu, %llu bytes, runs past the end of the file (%zu bytes)",
                         eo + ET_ETM_E_OFFSET, i, nm, (unsigned long long)off, (unsigned long long)size, r->len);
        if (off < table_end)
            return RFAIL(r, ET_ERR_FORMAT, "byte %zu: section %u (%s) at byte %llu overlaps the header or section table (ends at byte %zu)",
                         eo + ET_ETM_E_OFFSET, i, nm, (unsigned long long)off, table_end);
        if (known) {
            if (r->present[type])
                return RFAIL(r, ET_ERR_FORMAT, "byte %zu: section %u: duplicate %s section", eo + ET_ETM_E_TYPE, i, nm);
            r->present[type] = 1;
            r->off[type] = (size_t)off;
            r->size[type] = (size_t)size;
        }
        if (type == ET_ETM_SEC_BLOB && (off % ET_ETM_BLOB_ALIGN || size % sizeof(float)))
            return RFAIL(r, ET_ERR_FORMAT, "byte %zu: BLOB section at byte %llu, %llu bytes: must start %u-byte aligned and hold whole floats",
                         eo + ET_ETM_E_OFFSET, (unsigned long long)off, (unsigned long long)size, ET_ETM_BLOB_ALIGN);
        s[i].off = (size_t)off; s[i].size = (size_t)size; s[i].type = type;
    }
    /* every pair: at most 16 sections; empty sections overlap nothing */
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t j = i + 1; j < n; j++)
            if (s[i].size && s[j].size && s[i].off < s[j].off + s[j].size && s[j].off < s[i].off + s[i].size)
                return RFAIL(r, ET_ERR_FORMAT, "byte %zu: sections %u (%s) and %u (%s) overlap",
                             s[i].off > s[j].off ? s[i].off : s[j].off, i, et_etm_section_name(s[i].type),
                             j, et_etm_section_name(s[j].type));
    for (uint32_t t = ET_ETM_SEC_META; t <= ET_ETM_SEC_BLOB; t++)
        if (!r->present[t]) return RFAIL(r, ET_ERR_FORMAT, "missing %s section", et_etm_section_name(t));
    for (uint32_t i = 0; i < n; i++) {
        const size_t eo = ET_ETM_TABLE_OFFSET + (size_t)i * ET_ETM_ENTRY_SIZE;
        const unsigned char *e = r->b + eo;
        size_t off = (size_t)et_le_u64(e + ET_ETM_E_OFFSET), size = (size_t)et_le_u64(e + ET_ETM_E_SIZE);
        uint32_t crc = et_crc32(r->b + off, size), stored = et_le_u32(e + ET_ETM_E_CRC);
        if (crc != stored)
            return RFAIL(r, ET_ERR_CRC, "byte %zu: %s section (bytes %zu..%zu) CRC32 mismatch (stored 0x%08x, computed 0x%08x)",
                         off, et_etm_section_name(et_le_u32(e + ET_ETM_E_TYPE)), off, off + size, stored, crc);
    }
    return ET_OK;
}

/* ------------------------------------------------------------ contents
 * Every table the model keeps comes from r->ar (heap, caller memory, or a
 * count of bytes only). When counting, the allocations are NULL: the same
 * checks run in the same order, and nothing is stored. */

/* n bytes for a table; *p stays NULL only when the arena just counts. */
static et_status rd_alloc(rd *r, size_t n, size_t align, void **p) {
    *p = et_arena_alloc(r->ar, n, align);
    if (*p || r->ar->kind == ET_ARENA_COUNT) return ET_OK;
    if (r->ar->kind == ET_ARENA_BUMP)
        return RFAIL(r, ET_ERR_ARENA_TOO_SMALL, "caller memory too small for a %zu-byte table", n);
    return RFAIL(r, ET_ERR_NO_MEMORY, "out of memory for a %zu-byte table", n);
}

enum { STR_ALLOW_EMPTY = 1, STR_EMPTY_IS_NULL = 2 };

/* Copy the string whose reference (u32 offset, u32 length into STRINGS) is at
 * file byte ref. what names it in messages. */
static et_status read_str(rd *r, size_t ref, const char *what, uint32_t max_len, int flags, char **out) {
    uint32_t so = et_le_u32(r->b + ref), sl = et_le_u32(r->b + ref + 4);
    *out = NULL;
    if (!fits(so, sl, r->size[ET_ETM_SEC_STRINGS]))
        return RFAIL(r, ET_ERR_FORMAT, "byte %zu: %s: string at offset %u, length %u runs past the end of the STRINGS section (%zu bytes)",
                     ref, what, so, sl, r->size[ET_ETM_SEC_STRINGS]);
    if (sl > max_len)
        return RFAIL(r, ET_ERR_FORMAT, "byte %zu: %s: string of %u bytes is longer than the limit %u", ref, what, sl, max_len);
    if (!sl && !(flags & STR_ALLOW_EMPTY)) return RFAIL(r, ET_ERR_FORMAT, "byte %zu: %s: empty string", ref, what);
    if (!sl && so) return RFAIL(r, ET_ERR_FORMAT, "byte %zu: %s: empty string must have offset 0, not %u", ref, what, so);
    const unsigned char *s = r->b + r->off[ET_ETM_SEC_STRINGS] + so;
    if (memchr(s, 0, sl))
        return RFAIL(r, ET_ERR_FORMAT, "byte %zu: %s: string contains a NUL byte", r->off[ET_ETM_SEC_STRINGS] + so, what);
    if (!sl && (flags & STR_EMPTY_IS_NULL)) return ET_OK;
    void *c;
    et_status st = rd_alloc(r, (size_t)sl + 1, 1, &c);
    if (st != ET_OK || !c) return st;
    memcpy(c, s, sl);
    *out = c;
    return ET_OK;
}

/* A string read_str accepted, copied for messages (counting keeps no copy). */
static void local_str(const rd *r, size_t ref, char *dst, size_t cap) {
    uint32_t so = et_le_u32(r->b + ref), sl = et_le_u32(r->b + ref + 4);
    size_t n = sl < cap - 1 ? sl : cap - 1;
    memcpy(dst, r->b + r->off[ET_ETM_SEC_STRINGS] + so, n);
    dst[n] = 0;
}

static et_status parse_meta(rd *r, et_model *m) {
    const size_t mo = r->off[ET_ETM_SEC_META], ms = r->size[ET_ETM_SEC_META];
    const unsigned char *p = r->b + mo;
    if (ms < ET_ETM_META_FIXED)
        return RFAIL(r, ET_ERR_FORMAT, "byte %zu: META section is %zu bytes, shorter than its %u fixed bytes", mo, ms, ET_ETM_META_FIXED);
    uint32_t layout = et_le_u32(p + ET_ETM_M_LAYOUT), norm = et_le_u32(p + ET_ETM_M_NORM);
    uint32_t nl = et_le_u32(p + ET_ETM_M_LABELS);
    if (layout != ET_LAYOUT_NHWC && layout != ET_LAYOUT_NCHW)
        return RFAIL(r, ET_ERR_FORMAT, "byte %zu: META source_layout %u is not NHWC (0) or NCHW (1)", mo + ET_ETM_M_LAYOUT, layout);
    if (norm > ET_MAX_CHANNELS_META)
        return RFAIL(r, ET_ERR_FORMAT, "byte %zu: META norm_channels %u exceeds the limit %u", mo + ET_ETM_M_NORM, norm, ET_MAX_CHANNELS_META);
    if (nl > ET_MAX_LABELS)
        return RFAIL(r, ET_ERR_FORMAT, "byte %zu: META label_count %u exceeds the limit %u", mo + ET_ETM_M_LABELS, nl, ET_MAX_LABELS);
    if (et_le_u32(p + ET_ETM_M_RESERVED))
        return RFAIL(r, ET_ERR_FORMAT, "byte %zu: META reserved field must be zero", mo + ET_ETM_M_RESERVED);
    if (ms != ET_ETM_META_FIXED + (size_t)nl * ET_ETM_STRREF_SIZE)
        return RFAIL(r, ET_ERR_FORMAT, "byte %zu: META section is %zu bytes; with %u labels it must be %zu",
                     mo, ms, nl, ET_ETM_META_FIXED + (size_t)nl * ET_ETM_STRREF_SIZE);
    m->source_layout = (et_layout)layout;
    m->norm_channels = norm;
    for (unsigned c = 0; c < ET_MAX_CHANNELS_META; c++) {
        m->mean[c] = et_le_f32(p + ET_ETM_M_MEAN + 4 * c);
        m->std[c] = et_le_f32(p + ET_ETM_M_STD + 4 * c);
        if (c < norm && !(m->std[c] > 0.0f && m->std[c] <= FLT_MAX && m->mean[c] - m->mean[c] == 0.0f))
            return RFAIL(r, ET_ERR_FORMAT, "byte %zu: META channel %u: mean %g / std %g (std must be finite and > 0, mean finite)",
                         mo + ET_ETM_M_STD + 4 * c, c, (double)m->mean[c], (double)m->std[c]);
    }
    et_status st = ET_OK;
    if (nl) {
        void *tab;
        if ((st = rd_alloc(r, (size_t)nl * sizeof *m->labels, _Alignof(char *), &tab)) != ET_OK) return st;
        m->labels = tab;
        m->n_labels = nl;
        for (uint32_t i = 0; i < nl && st == ET_OK; i++) {
            char what[32], *counted;
            snprintf(what, sizeof what, "label %u", i);
            st = read_str(r, mo + ET_ETM_META_FIXED + (size_t)i * ET_ETM_STRREF_SIZE, what, ET_ETM_MAX_LABEL_LEN,
                          STR_ALLOW_EMPTY, m->labels ? &m->labels[i] : &counted);
        }
        if (st != ET_OK) return st;
    }
    /* no source is NULL in memory */
    return read_str(r, mo + ET_ETM_M_SOURCE, "source", ET_ETM_MAX_SOURCE_LEN, STR_ALLOW_EMPTY | STR_EMPTY_IS_NULL, &m->source);
}

static et_status parse_node(rd *r, et_model *m, et_node *nd, uint32_t i, size_t *posp, size_t end) {
    size_t pos = *posp;
    const unsigned char *p = r->b + pos;
    if (!fits(pos, ET_ETM_NODE_FIXED, end))
        return RFAIL(r, ET_ERR_FORMAT, "byte %zu: node %u: the GRAPH section ends (byte %zu) inside the node's %u-byte record",
                     pos, i, end, ET_ETM_NODE_FIXED);
    uint32_t op = et_le_u32(p + ET_ETM_N_OP), act = et_le_u32(p + ET_ETM_N_ACT);
    if (op == ET_OP_INPUT || op >= ET_OP_COUNT)
        return RFAIL(r, ET_ERR_FORMAT, "byte %zu: node %u: unknown op %u", pos + ET_ETM_N_OP, i, op);
    if (act >= ET_ACT_COUNT)
        return RFAIL(r, ET_ERR_FORMAT, "byte %zu: node %u: unknown activation kind %u", pos + ET_ETM_N_ACT, i, act);
    nd->op = (et_op)op;
    char what[40], nm[ET_MAX_NAME + 1];
    snprintf(what, sizeof what, "node %u name", i);
    et_status st = read_str(r, pos + ET_ETM_N_NAME, what, ET_MAX_NAME, 0, &nd->name);
    if (st != ET_OK) return st;
    local_str(r, pos + ET_ETM_N_NAME, nm, sizeof nm);
    nd->act.kind = (et_act_kind)act;
    nd->act.a = et_le_f32(p + ET_ETM_N_ACT_A);
    nd->act.b = et_le_f32(p + ET_ETM_N_ACT_B);
    uint32_t *dst[] = {&nd->out_c, &nd->kh, &nd->kw, &nd->sh, &nd->sw, &nd->dh, &nd->dw, &nd->groups,
                       &nd->pad_t, &nd->pad_l, &nd->pad_b, &nd->pad_r, &nd->ceil_mode, &nd->count_include_pad,
                       &nd->rh, &nd->rw, &nd->rc};
    for (unsigned a = 0; a < ET_ETM_N_ATTRS; a++) {
        const unsigned fo = ET_ETM_N_OUT_C + 4 * a;
        const et_etm_attr rule = et_etm_attr_rule(a);
        uint32_t v = et_le_u32(p + fo);
        if (v > rule.max)
            return RFAIL(r, ET_ERR_FORMAT, "byte %zu: node %u '%s' (%s): %s %u exceeds the limit %u",
                         pos + fo, i, nm, et_op_name(nd->op), rule.name, v, rule.max);
        *dst[a] = v;
    }
    nd->eps = et_le_f32(p + ET_ETM_N_EPS);
    nd->ratio = et_le_f32(p + ET_ETM_N_RATIO);
    uint32_t n_in = et_le_u32(p + ET_ETM_N_N_IN), n_par = et_le_u32(p + ET_ETM_N_N_PARAMS);
    uint32_t slots = et_op_param_slots(nd->op);
    if (n_in > ET_MAX_INPUTS)
        return RFAIL(r, ET_ERR_FORMAT, "byte %zu: node %u '%s': input count %u exceeds the limit %u", pos + ET_ETM_N_N_IN, i, nm, n_in, ET_MAX_INPUTS);
    if (n_par > slots)
        return RFAIL(r, ET_ERR_FORMAT, "byte %zu: node %u '%s' (%s): param count %u exceeds the op's %u slots",
                     pos + ET_ETM_N_N_PARAMS, i, nm, et_op_name(nd->op), n_par, slots);
    if (et_le_u32(p + ET_ETM_N_RESERVED))
        return RFAIL(r, ET_ERR_FORMAT, "byte %zu: node %u '%s': reserved field must be zero", pos + ET_ETM_N_RESERVED, i, nm);
    pos += ET_ETM_NODE_FIXED;
    size_t tail = (size_t)n_in * 4u + (size_t)n_par * ET_ETM_PARAM_REC;
    if (!fits(pos, tail, end))
        return RFAIL(r, ET_ERR_FORMAT, "byte %zu: node %u '%s': %u inputs and %u params run past the end of the GRAPH section (byte %zu)",
                     pos, i, nm, n_in, n_par, end);
    if (n_in) {
        void *ids;
        if ((st = rd_alloc(r, (size_t)n_in * sizeof *nd->in, _Alignof(uint32_t), &ids)) != ET_OK) return st;
        nd->in = ids;
    }
    nd->n_in = n_in;
    for (uint32_t k = 0; k < n_in; k++, pos += 4) {
        uint32_t v = et_le_u32(r->b + pos);
        if (v > m->n_nodes)
            return RFAIL(r, ET_ERR_FORMAT, "byte %zu: node %u '%s': input %u is value %u, out of range (the graph has values 0..%u)",
                         pos, i, nm, k, v, m->n_nodes);
        if (v > i)
            return RFAIL(r, ET_ERR_FORMAT, "byte %zu: node %u '%s': input %u refers to value %u, %s (cycle or forward reference)",
                         pos, i, nm, k, v, v == i + 1 ? "its own output" : "a later value");
        if (nd->in) nd->in[k] = v;
    }
    const size_t blob_size = r->size[ET_ETM_SEC_BLOB];
    nd->n_params = n_par;
    for (uint32_t k = 0; k < n_par; k++, pos += ET_ETM_PARAM_REC) {
        uint64_t cnt = et_le_u64(r->b + pos), off = et_le_u64(r->b + pos + 8);
        if (!cnt) {
            if (off)
                return RFAIL(r, ET_ERR_FORMAT, "byte %zu: node %u '%s': param %u is empty but has offset %llu (must be 0)",
                             pos + 8, i, nm, k, (unsigned long long)off);
            continue;
        }
        if (cnt > (uint64_t)((size_t)-1 / sizeof(float)))
            return RFAIL(r, ET_ERR_OVERFLOW, "byte %zu: node %u '%s': param %u count %llu: its byte size overflows size_t",
                         pos, i, nm, k, (unsigned long long)cnt);
        size_t bytes = (size_t)cnt * sizeof(float), end_off;
        if (off > (uint64_t)(size_t)-1 || !et_add_ok((size_t)off, bytes, &end_off))
            return RFAIL(r, ET_ERR_OVERFLOW, "byte %zu: node %u '%s': param %u offset %llu + %zu bytes wraps around",
                         pos + 8, i, nm, k, (unsigned long long)off, bytes);
        if (off % ET_ETM_BLOB_ALIGN)
            return RFAIL(r, ET_ERR_FORMAT, "byte %zu: node %u '%s': param %u offset %llu is not %u-byte aligned",
                         pos + 8, i, nm, k, (unsigned long long)off, ET_ETM_BLOB_ALIGN);
        if (end_off > blob_size)
            return RFAIL(r, ET_ERR_FORMAT, "byte %zu: node %u '%s': param %u (bytes %llu..%zu of BLOB) lies outside the BLOB section (%zu bytes)",
                         pos + 8, i, nm, k, (unsigned long long)off, end_off, blob_size);
        /* 4-aligned host floats: load_into made sure of that, or copied */
        nd->params[k].data = (const float *)(const void *)(r->blob + (size_t)off);
        nd->params[k].count = (size_t)cnt;
        nd->params[k].owned = 0;
    }
    *posp = pos;
    return ET_OK;
}

static et_status parse_graph(rd *r, et_model *m) {
    const size_t go = r->off[ET_ETM_SEC_GRAPH], gs = r->size[ET_ETM_SEC_GRAPH], end = go + gs;
    const unsigned char *p = r->b + go;
    if (gs < ET_ETM_GRAPH_FIXED)
        return RFAIL(r, ET_ERR_FORMAT, "byte %zu: GRAPH section is %zu bytes, shorter than its %u fixed bytes", go, gs, ET_ETM_GRAPH_FIXED);
    static const struct { unsigned off; const char *name; uint32_t max; } g_rules[] = {
        {ET_ETM_G_IN_C, "input channels", ET_MAX_DIM}, {ET_ETM_G_IN_H, "input height", ET_MAX_DIM},
        {ET_ETM_G_IN_W, "input width", ET_MAX_DIM}, {ET_ETM_G_NODES, "node count", ET_MAX_NODES},
        {ET_ETM_G_OUTPUTS, "output count", ET_MAX_NODES},
    };
    for (size_t a = 0; a < sizeof g_rules / sizeof g_rules[0]; a++)
        if (et_le_u32(p + g_rules[a].off) > g_rules[a].max)
            return RFAIL(r, ET_ERR_FORMAT, "byte %zu: GRAPH %s %u exceeds the limit %u", go + g_rules[a].off,
                         g_rules[a].name, et_le_u32(p + g_rules[a].off), g_rules[a].max);
    for (unsigned k = ET_ETM_G_RESERVED; k < ET_ETM_GRAPH_FIXED; k++)
        if (p[k]) return RFAIL(r, ET_ERR_FORMAT, "byte %zu: GRAPH reserved byte is not zero", go + k);
    m->in_c = et_le_u32(p + ET_ETM_G_IN_C);
    m->in_h = et_le_u32(p + ET_ETM_G_IN_H);
    m->in_w = et_le_u32(p + ET_ETM_G_IN_W);
    uint32_t nn = et_le_u32(p + ET_ETM_G_NODES), no = et_le_u32(p + ET_ETM_G_OUTPUTS);
    size_t pos = go + ET_ETM_GRAPH_FIXED;
    if (!fits(pos, (size_t)no * 4u, end))
        return RFAIL(r, ET_ERR_FORMAT, "byte %zu: %u output ids run past the end of the GRAPH section (byte %zu)", pos, no, end);
    /* before allocating for nn nodes, make sure their fixed parts can be there */
    if ((size_t)nn * ET_ETM_NODE_FIXED > end - pos - (size_t)no * 4u)
        return RFAIL(r, ET_ERR_FORMAT, "byte %zu: GRAPH node count %u needs at least %zu bytes of records, the section has %zu left",
                     go + ET_ETM_G_NODES, nn, (size_t)nn * ET_ETM_NODE_FIXED, end - pos - (size_t)no * 4u);
    void *nodes, *shapes, *outs = NULL;
    et_status st = rd_alloc(r, (size_t)(nn ? nn : 1) * sizeof(et_node), _Alignof(et_node), &nodes);
    if (st == ET_OK) st = rd_alloc(r, ((size_t)nn + 1) * sizeof(et_shape), _Alignof(et_shape), &shapes);
    if (st == ET_OK && no) st = rd_alloc(r, (size_t)no * sizeof *m->outputs, _Alignof(uint32_t), &outs);
    if (st != ET_OK) return st;
    m->nodes = nodes;
    m->shapes = shapes;
    m->n_nodes = nn;
    m->outputs = outs;
    m->n_outputs = no;
    for (uint32_t k = 0; k < no; k++, pos += 4) {
        uint32_t v = et_le_u32(r->b + pos);
        if (v > nn)
            return RFAIL(r, ET_ERR_FORMAT, "byte %zu: output %u is value %u, out of range (the graph has values 0..%u)", pos, k, v, nn);
        if (m->outputs) m->outputs[k] = v;
    }
    et_node counted; /* the one record a counting pass fills, node after node */
    for (uint32_t i = 0; i < nn; i++) {
        memset(&counted, 0, sizeof counted);
        if ((st = parse_node(r, m, m->nodes ? &m->nodes[i] : &counted, i, &pos, end)) != ET_OK) return st;
    }
    if (pos != end)
        return RFAIL(r, ET_ERR_FORMAT, "byte %zu: %zu unexpected bytes after the last node of the GRAPH section", pos, end - pos);
    return ET_OK;
}

/* ------------------------------------------------------------ loading */

/* Build the model from a checked header and table, its tables from r->ar.
 * Counting: m is the caller's scratch model and is not validated (the graph
 * needs its tables). On failure a heap model is freed, *out stays NULL. */
static et_status load_into(rd *r, et_model *scratch, et_model **out) {
    et_arena *ar = r->ar;
    void *mp;
    et_status st = rd_alloc(r, sizeof(et_model), _Alignof(et_model), &mp);
    if (st != ET_OK) return st;
    et_model *m = mp ? mp : scratch;
    et_model_init(m);
    m->in_caller_mem = ar->kind != ET_ARENA_HEAP;

    const size_t blob_off = r->off[ET_ETM_SEC_BLOB], blob_size = r->size[ET_ETM_SEC_BLOB];
    r->blob = r->b + blob_off;
    if (!et_host_is_le() || (uintptr_t)r->blob % sizeof(float)) {
        /* weights cannot be used in place: an aligned copy in host byte order */
        void *copy;
        if ((st = rd_alloc(r, blob_size, ET_ALIGN, &copy)) == ET_OK && copy) {
            unsigned char *w = copy;
            for (size_t i = 0; i < blob_size; i += 4) {
                float f = et_le_f32(r->blob + i);
                memcpy(w + i, &f, 4);
            }
            r->blob = w;
            if (ar->kind == ET_ARENA_HEAP) m->file_copy = copy;
        }
    }
    if (st == ET_OK) st = parse_meta(r, m);
    if (st == ET_OK) st = parse_graph(r, m);
    if (st == ET_OK && ar->kind != ET_ARENA_HEAP) {
        /* plan and prepare then need no heap either */
        void *work;
        if ((st = rd_alloc(r, et_plan_work_bytes(m->n_nodes + 1), ET_ALIGN, &work)) == ET_OK) m->plan_work = work;
    }
    if (st == ET_OK && ar->kind != ET_ARENA_COUNT && (st = et_model_validate(m)) != ET_OK)
        et_fail(r->err, r->err_len, st, "%s", m->err);
    if (st != ET_OK) {
        if (ar->kind == ET_ARENA_HEAP) et_model_free(m);
        return st;
    }
    m->err[0] = 0;
    if (r->err && r->err_len) r->err[0] = 0;
    if (out) *out = mp ? m : NULL;
    return ET_OK;
}

static void rd_init(rd *r, const unsigned char *b, size_t len, char *err, size_t err_len) {
    memset(r, 0, sizeof *r);
    r->b = b;
    r->len = len;
    r->err = err;
    r->err_len = err_len;
}

/* Parse b[0..len) onto the heap. The storage (map or copy) belongs to the
 * load from here on: it is kept by the model or released on failure. */
static et_status load_common(const unsigned char *b, size_t len, void *map_base, size_t map_len,
                             void *copy, et_model **out, char *err, size_t err_len) {
    rd r;
    rd_init(&r, b, len, err, err_len);
    et_arena heap;
    et_arena_heap(&heap);
    r.ar = &heap;
    uint32_t n_sec = 0;
    et_model *m = NULL;
    et_status st = check_header(&r, &n_sec);
    if (st == ET_OK) st = check_table(&r, n_sec);
    if (st == ET_OK) st = load_into(&r, NULL, &m);
    if (st != ET_OK) {
        if (map_base) munmap(map_base, map_len);
        free(copy);
        return st;
    }
    if (m->file_copy && map_base) {
        /* the weights were copied: nothing points into the mapping any more */
        munmap(map_base, map_len);
        map_base = NULL;
        map_len = 0;
    }
    if (copy) {
        /* a whole-file copy (read instead of mapped) is aligned: weights point into it */
        if (m->file_copy) free(copy);
        else m->file_copy = copy;
    }
    m->map_base = map_base;
    m->map_len = map_len;
    *out = m;
    return ET_OK;
}

et_status et_model_load_buffer(const void *buf, size_t len, et_model **out, char *err, size_t err_len) {
    if (out) *out = NULL;
    if (!out || (!buf && len)) return et_fail(err, err_len, ET_ERR_INVALID_ARG, "load: NULL %s", out ? "buffer" : "output pointer");
    static const unsigned char empty[1] = {0};
    return load_common(buf ? buf : empty, len, NULL, 0, NULL, out, err, err_len);
}

et_status et_model_load_static(const void *buf, size_t len, void *mem, size_t mem_bytes, et_model **out,
                               size_t *needed, char *err, size_t err_len) {
    if (out) *out = NULL;
    if (needed) *needed = 0;
    if (!buf && len) return et_fail(err, err_len, ET_ERR_INVALID_ARG, "load_static: NULL buffer");
    if (mem ? !out : !needed)
        return et_fail(err, err_len, ET_ERR_INVALID_ARG, "load_static: NULL %s", mem ? "output pointer" : "needed (mem NULL asks for the size)");
    static const unsigned char empty[1] = {0};
    rd r;
    rd_init(&r, buf ? buf : empty, len, err, err_len);
    uint32_t n_sec = 0;
    et_status st = check_header(&r, &n_sec);
    if (st == ET_OK) st = check_table(&r, n_sec);
    if (st != ET_OK) return st;
    /* a first pass only counts: the exact size is known before mem is touched */
    et_arena count;
    et_arena_count(&count);
    r.ar = &count;
    et_model scratch;
    if ((st = load_into(&r, &scratch, NULL)) != ET_OK) return st;
    if (count.overflow) return et_fail(err, err_len, ET_ERR_OVERFLOW, "load_static: the model's size overflows size_t");
    size_t need;
    if (!et_add_ok(count.used, ET_ALIGN - 1, &need)) return et_fail(err, err_len, ET_ERR_OVERFLOW, "load_static: the model's size overflows size_t");
    if (needed) *needed = need;
    if (!mem) return ET_OK;
    et_arena bump;
    et_arena_bump(&bump, mem, mem_bytes);
    if (bump.cap < count.used)
        return et_fail(err, err_len, ET_ERR_ARENA_TOO_SMALL, "load_static: %zu bytes of memory are too small: %zu needed", mem_bytes, need);
    r.ar = &bump;
    return load_into(&r, NULL, out);
}

et_status et_model_load_file(const char *path, et_model **out, char *err, size_t err_len) {
    char msg[ET_ERR_LEN + 64];
    if (out) *out = NULL;
    if (!out || !path) return et_fail(err, err_len, ET_ERR_INVALID_ARG, "load: NULL %s", out ? "path" : "output pointer");
    int fd = open(path, O_RDONLY);
    if (fd < 0) return et_fail(err, err_len, ET_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        return et_fail(err, err_len, ET_ERR_IO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return et_fail(err, err_len, ET_ERR_IO, "%s: not a regular file", path);
    }
    if (sb.st_size < 0 || (uintmax_t)sb.st_size > (uintmax_t)((size_t)-1 - ET_ALIGN)) {
        close(fd);
        return et_fail(err, err_len, ET_ERR_OVERFLOW, "%s: file of %jd bytes does not fit in memory", path, (intmax_t)sb.st_size);
    }
    size_t len = (size_t)sb.st_size;
    void *map = len ? mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
    void *copy = NULL;
    static const unsigned char empty[1] = {0};
    const unsigned char *b = empty;
    if (map != MAP_FAILED) {
        b = map;
    } else if (len) {
        copy = aligned_alloc(ET_ALIGN, (len + ET_ALIGN - 1) / ET_ALIGN * ET_ALIGN);
        if (!copy) {
            close(fd);
            return et_fail(err, err_len, ET_ERR_NO_MEMORY, "%s: out of memory for %zu bytes", path, len);
        }
        size_t got = 0;
        ssize_t n = 0;
        while (got < len) {
            n = read(fd, (unsigned char *)copy + got, len - got);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            got += (size_t)n;
        }
        if (got != len) {
            const char *why = n < 0 ? strerror(errno) : "file shrank while reading";
            close(fd);
            free(copy);
            return et_fail(err, err_len, ET_ERR_IO, "%s: read %zu of %zu bytes: %s", path, got, len, why);
        }
        b = copy;
    }
    close(fd);
    et_status st = load_common(b, len, map != MAP_FAILED ? map : NULL, map != MAP_FAILED ? len : 0, copy, out, msg, sizeof msg);
    if (st != ET_OK) et_fail(err, err_len, st, "%s: %s", path, msg);
    else if (err && err_len) err[0] = 0;
    return st;
}
