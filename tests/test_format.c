/* Tests of the .etm format: CRC32, writer/reader round trips, zero-copy,
 * atomic saves, and one test per kind of malformed file (each checks its
 * status and its message). No other module's behaviour is tested here. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "edgetune.h"
#include "harness.h"
#include "model.h"
#include "etm_corpus.h"
#include "format/crc32.h"
#include "format/etm.h"
#include "zoo/zoo.h"

/* ------------------------------------------------------------ helpers */

static char tmpdir[64];

#define GOLDEN_LEN 3788u
#define GOLDEN_CRC 0xbe96403fu

/* A small hand-made graph that sets every node field and uses every op. */
static void node(et_model *m, uint32_t i, et_op op, const char *name, const uint32_t *ins, uint32_t n_in) {
    et_node *nd = &m->nodes[i];
    nd->op = op;
    et_node_set_name(m, i, name);
    nd->in = malloc(n_in * sizeof *nd->in);
    memcpy(nd->in, ins, n_in * sizeof *nd->in);
    nd->n_in = n_in;
    nd->n_params = et_op_param_slots(op);
}

static void param(et_model *m, uint32_t i, uint32_t k, size_t count, unsigned seed) {
    float *tmp = malloc((count ? count : 1) * sizeof *tmp);
    t_fill(tmp, count, seed);
    et_param_copy(&m->nodes[i].params[k], tmp, count);
    free(tmp);
}

static void window(et_node *nd, uint32_t k, uint32_t s, uint32_t pad) {
    nd->kh = nd->kw = k;
    nd->sh = nd->sw = s;
    nd->pad_t = nd->pad_l = nd->pad_b = nd->pad_r = pad;
}

static et_model *make_model(void) {
    et_model *m = et_model_alloc();
    if (!m || et_model_alloc_nodes(m, 15) != ET_OK) return NULL;
    m->in_c = 3; m->in_h = 8; m->in_w = 8;
    et_node *n = m->nodes;
    node(m, 0, ET_OP_CONV2D, "features.0.conv", (uint32_t[]){0}, 1);
    n[0].out_c = 4; window(&n[0], 3, 1, 1); n[0].dh = n[0].dw = 1; n[0].groups = 1;
    n[0].act = et_act_relu6();
    param(m, 0, 0, 4 * 3 * 3 * 3, 1); param(m, 0, 1, 4, 2);
    node(m, 1, ET_OP_BATCHNORM, "features.0.bn", (uint32_t[]){1}, 1);
    n[1].eps = 1e-5f;
    for (uint32_t k = 0; k < 4; k++) param(m, 1, k, 4, 3 + k);
    {   /* variance must be positive */
        float *v = (float *)(uintptr_t)n[1].params[3].data;
        for (int c = 0; c < 4; c++) v[c] = 0.5f + (float)c;
    }
    node(m, 2, ET_OP_ACT, "features.0.act", (uint32_t[]){2}, 1);
    n[2].act = et_act_leaky_relu(0.1f);
    node(m, 3, ET_OP_CONCAT, "cat", (uint32_t[]){3, 1}, 2);
    node(m, 4, ET_OP_CONV2D, "features.1.conv.0", (uint32_t[]){4}, 1);
    n[4].out_c = 8; window(&n[4], 3, 2, 1); n[4].dh = n[4].dw = 1; n[4].groups = 8;
    param(m, 4, 0, 8 * 3 * 3 * 1, 9); /* no bias: slot 1 stays empty */
    node(m, 5, ET_OP_MAXPOOL, "pool.max", (uint32_t[]){5}, 1);
    window(&n[5], 2, 2, 0); n[5].ceil_mode = 1;
    node(m, 6, ET_OP_AVGPOOL, "pool.avg", (uint32_t[]){6}, 1);
    window(&n[6], 3, 1, 1); n[6].count_include_pad = 1;
    node(m, 7, ET_OP_MUL, "gate", (uint32_t[]){6, 7}, 2);
    node(m, 8, ET_OP_ADD, "residual", (uint32_t[]){8, 6}, 2);
    n[8].act = et_act_relu();
    node(m, 9, ET_OP_FLATTEN, "flat", (uint32_t[]){9}, 1);
    node(m, 10, ET_OP_RESHAPE, "reshape", (uint32_t[]){10}, 1);
    n[10].rh = 2; n[10].rw = 2; n[10].rc = 8;
    node(m, 11, ET_OP_GLOBAL_AVGPOOL, "gap", (uint32_t[]){11}, 1);
    node(m, 12, ET_OP_LINEAR, "classifier.1", (uint32_t[]){12}, 1);
    n[12].out_c = 3;
    param(m, 12, 0, 3 * 8, 20); param(m, 12, 1, 3, 21);
    node(m, 13, ET_OP_DROPOUT, "classifier.0", (uint32_t[]){13}, 1);
    n[13].ratio = 0.25f;
    node(m, 14, ET_OP_SOFTMAX, "prob", (uint32_t[]){14}, 1);
    m->outputs = malloc(2 * sizeof *m->outputs);
    m->outputs[0] = 15; m->outputs[1] = 13;
    m->n_outputs = 2;

    static const char *const labels[] = {"cat", "dog", "caf\xc3\xa9 au lait"};
    et_metadata md;
    memset(&md, 0, sizeof md);
    md.source_layout = ET_LAYOUT_NCHW;
    md.norm_channels = 3;
    for (int c = 0; c < 3; c++) { md.mean[c] = 0.5f + 0.125f * (float)c; md.std[c] = 0.25f + 0.0625f * (float)c; }
    for (int c = 3; c < ET_MAX_CHANNELS_META; c++) md.std[c] = 1.0f;
    md.label_count = 3;
    md.labels = labels;
    md.source = "test_format.c: hand-made graph touching every op, every attribute and all metadata";
    if (et_model_set_metadata(m, &md) != ET_OK || et_model_validate(m) != ET_OK) {
        printf("    make_model: %s\n", m->err);
        et_model_free(m);
        return NULL;
    }
    return m;
}

/* Serialize m into a fresh 64-aligned buffer (with 64 spare bytes). */
static unsigned char *save(const et_model *m, size_t *len) {
    if (et_model_save_buffer(m, NULL, 0, len) != ET_OK) return NULL;
    unsigned char *b = aligned_alloc(64, (*len + 64 + 63) / 64 * 64);
    if (b && et_model_save_buffer(m, b, *len, len) != ET_OK) { free(b); return NULL; }
    return b;
}

static int same_f(float a, float b) { return memcmp(&a, &b, sizeof a) == 0; }

/* 1 if every field of the two models agrees; prints the first difference. */
static int models_equal(const et_model *a, const et_model *b) {
#define SAME(c) do { if (!(c)) { printf("    differs: %s\n", #c); return 0; } } while (0)
    SAME(a->n_nodes == b->n_nodes && a->in_c == b->in_c && a->in_h == b->in_h && a->in_w == b->in_w);
    SAME(a->n_outputs == b->n_outputs);
    for (uint32_t k = 0; k < a->n_outputs; k++) SAME(a->outputs[k] == b->outputs[k]);
    for (uint32_t i = 0; i < a->n_nodes; i++) {
        const et_node *x = &a->nodes[i], *y = &b->nodes[i];
        SAME(x->op == y->op && strcmp(x->name, y->name) == 0);
        SAME(x->act.kind == y->act.kind && same_f(x->act.a, y->act.a) && same_f(x->act.b, y->act.b));
        SAME(x->out_c == y->out_c && x->kh == y->kh && x->kw == y->kw && x->sh == y->sh && x->sw == y->sw);
        SAME(x->dh == y->dh && x->dw == y->dw && x->groups == y->groups);
        SAME(x->pad_t == y->pad_t && x->pad_l == y->pad_l && x->pad_b == y->pad_b && x->pad_r == y->pad_r);
        SAME(x->ceil_mode == y->ceil_mode && x->count_include_pad == y->count_include_pad);
        SAME(x->rh == y->rh && x->rw == y->rw && x->rc == y->rc);
        SAME(same_f(x->eps, y->eps) && same_f(x->ratio, y->ratio));
        SAME(x->n_in == y->n_in && x->n_params == y->n_params);
        for (uint32_t k = 0; k < x->n_in; k++) SAME(x->in[k] == y->in[k]);
        for (uint32_t k = 0; k < x->n_params; k++) {
            SAME(x->params[k].count == y->params[k].count);
            SAME(!x->params[k].count || memcmp(x->params[k].data, y->params[k].data, x->params[k].count * 4) == 0);
        }
    }
    SAME(a->source_layout == b->source_layout && a->norm_channels == b->norm_channels);
    SAME(memcmp(a->mean, b->mean, sizeof a->mean) == 0 && memcmp(a->std, b->std, sizeof a->std) == 0);
    SAME(a->n_labels == b->n_labels);
    for (uint32_t i = 0; i < a->n_labels; i++) SAME(strcmp(a->labels[i], b->labels[i]) == 0);
    SAME(strcmp(a->source ? a->source : "", b->source ? b->source : "") == 0);
    return 1;
#undef SAME
}

/* The reference file, saved once per test. */
static unsigned char *ref_file(size_t *len) {
    et_model *m = make_model();
    if (!m) return NULL;
    unsigned char *f = save(m, len);
    et_model_free(m);
    return f;
}

/* Load f (len bytes) and check the status and that the message holds want. */
static int expect(const unsigned char *f, size_t len, et_status want, const char *want_msg) {
    et_model *m = (et_model *)(uintptr_t)1;
    char err[ET_ERR_LEN];
    err[0] = 0;
    et_status st = et_model_load_buffer(f, len, &m, err, sizeof err);
    if (st != want || m != NULL || !strstr(err, want_msg)) {
        printf("    got %s (model %p), want %s; message: \"%s\" (want \"%s\")\n",
               et_status_str(st), (void *)m, et_status_str(want), err, want_msg);
        if (st == ET_OK) et_model_free(m);
        return 0;
    }
    return 1;
}

/* A test that patches the reference file: f and len are in scope, f is freed. */
#define PATCHED(body, fix, want, msg) do { \
    size_t len; unsigned char *f = ref_file(&len); CHECK(f); \
    body; \
    if (fix) fix_crcs(f, len); \
    int ok_ = expect(f, len, want, msg); free(f); CHECK(ok_); } while (0)

/* ------------------------------------------------------------ tests: CRC */

static void test_crc32_vectors(void) {
    CHECK(et_crc32("", 0) == 0);
    CHECK(et_crc32("123456789", 9) == 0xCBF43926u);
    CHECK(et_crc32("a", 1) == 0xE8B7BE43u);
    CHECK(et_crc32("The quick brown fox jumps over the lazy dog", 43) == 0x414FA339u);
    /* incremental equals one shot, and the table equals the bitwise definition */
    unsigned char d[1000];
    unsigned s = 7;
    for (size_t i = 0; i < sizeof d; i++) d[i] = (unsigned char)t_rand(&s);
    uint32_t bit = 0xFFFFFFFFu;
    for (size_t i = 0; i < sizeof d; i++) {
        bit ^= d[i];
        for (int k = 0; k < 8; k++) bit = (bit & 1) ? 0xEDB88320u ^ (bit >> 1) : bit >> 1;
    }
    bit ^= 0xFFFFFFFFu;
    CHECK(et_crc32(d, sizeof d) == bit);
    CHECK(et_crc32_update(et_crc32(d, 333), d + 333, sizeof d - 333) == bit);
}

/* ------------------------------------------------------------ tests: round trips */

static void test_roundtrip_buffer(void) {
    et_model *m = make_model();
    CHECK(m);
    size_t len = 0, len2 = 0;
    unsigned char *f = save(m, &len);
    CHECK(f);
    CHECK(len > ET_ETM_HEADER_SIZE && len % 4 == 0);
    CHECK(memcmp(f, ET_ETM_MAGIC, 8) == 0 && et_le_u64(f + ET_ETM_H_FILE_SIZE) == len);
    CHECK(sec_off(f, ET_ETM_SEC_BLOB) % 64 == 0);

    et_model *l = NULL;
    char err[ET_ERR_LEN] = "junk";
    et_status st = et_model_load_buffer(f, len, &l, err, sizeof err);
    CHECKF(st == ET_OK, "%s: %s", et_status_str(st), err);
    CHECK(err[0] == 0);
    CHECK(models_equal(m, l));

    /* metadata through the public API */
    et_metadata md;
    CHECK_OK(et_model_metadata(l, &md));
    CHECK(md.source_layout == ET_LAYOUT_NCHW && md.input_h == 8 && md.input_w == 8 && md.norm_channels == 3);
    CHECK(md.label_count == 3 && strcmp(md.labels[2], "caf\xc3\xa9 au lait") == 0);
    CHECK(strstr(md.source, "hand-made graph") != NULL);
    CHECK(md.std[1] == 0.3125f && md.mean[2] == 0.75f);

    /* save again: identical bytes; and saving is deterministic */
    unsigned char *g = save(l, &len2);
    CHECK(g);
    CHECK(len2 == len && memcmp(f, g, len) == 0);
    unsigned char *h = save(m, &len2);
    CHECK(h && len2 == len && memcmp(f, h, len) == 0);
    free(f); free(g); free(h);
    et_model_free(m);
    et_model_free(l);
}

/* The bytes of the reference file are pinned: any change to the writer's
 * layout must be deliberate (and bump the version if old readers would
 * misread it). The same bytes on every host, little- or big-endian. */
static void test_golden_bytes(void) {
    size_t len;
    unsigned char *f = ref_file(&len);
    CHECK(f);
    uint32_t crc = et_crc32(f, len);
    free(f);
    CHECKF(len == GOLDEN_LEN && crc == GOLDEN_CRC, "len %zu crc 0x%08x", len, crc);
}

static void test_roundtrip_builder_mobilenet(void) {
    et_model *m = NULL, *l = NULL;
    char err[ET_ERR_LEN];
    et_status st = et_zoo_mobilenet_v2_err(10, 32, 32, 0.35f, 3, 1, &m, err, sizeof err);
    CHECKF(st == ET_OK, "zoo: %s", err);
    static const char *const labels[] = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
    et_metadata md;
    CHECK_OK(et_model_metadata(m, &md));
    md.label_count = 10; md.labels = labels; md.source = "zoo mobilenet_v2 0.35";
    CHECK_OK(et_model_set_metadata(m, &md));
    size_t len, len2;
    unsigned char *f = save(m, &len);
    CHECK(f);
    st = et_model_load_buffer(f, len, &l, err, sizeof err);
    CHECKF(st == ET_OK, "%s", err);
    CHECK(models_equal(m, l));
    unsigned char *g = save(l, &len2);
    CHECK(g && len2 == len && memcmp(f, g, len) == 0);
    free(g);
    et_model_free(l);
    /* every single flipped byte is caught by a CRC or a check, never a crash */
    for (size_t i = 0; i < len; i += i < 4096 ? 61 : len / 64) {
        f[i] ^= 0x5a;
        st = et_model_load_buffer(f, len, &l, err, sizeof err);
        f[i] ^= 0x5a;
        CHECKF(st != ET_OK && l == NULL && err[0], "flip at %zu loaded", i);
    }
    free(f);
    et_model_free(m);
}

static void test_zero_copy(void) {
    size_t len;
    unsigned char *f = ref_file(&len);
    CHECK(f);
    et_model *m = NULL;
    CHECK_OK(et_model_load_buffer(f, len, &m, NULL, 0));
    CHECK(m->map_base == NULL);
    if (!et_host_is_le()) { /* big-endian hosts convert a private copy */
        CHECK(m->file_copy != NULL);
        et_model_free(m);
        free(f);
        return;
    }
    CHECK(m->file_copy == NULL);
    size_t seen = 0;
    for (uint32_t i = 0; i < m->n_nodes; i++)
        for (uint32_t k = 0; k < m->nodes[i].n_params; k++) {
            const et_param *p = &m->nodes[i].params[k];
            if (!p->count) { CHECK(p->data == NULL); continue; }
            const unsigned char *d = (const unsigned char *)p->data;
            CHECK(p->owned == 0);
            CHECK(d >= f + sec_off(f, ET_ETM_SEC_BLOB) && d + p->count * 4 <= f + len);
            CHECK((size_t)(d - f) % 64 == 0);
            seen++;
        }
    CHECK(seen == 9);
    /* names and labels are copies: they do not point into the file */
    CHECK(!((const unsigned char *)m->nodes[0].name >= f && (const unsigned char *)m->nodes[0].name < f + len));
    et_model_free(m);
    free(f);
}

static void test_misaligned_buffer_copies(void) {
    et_model *ref = make_model();
    CHECK(ref);
    size_t len;
    unsigned char *f = save(ref, &len);
    CHECK(f);
    for (size_t shift = 1; shift < 4; shift++) {
        unsigned char *raw = malloc(len + 16), *b = raw + ((8 - (uintptr_t)raw % 8) % 8) + shift;
        memcpy(b, f, len);
        et_model *m = NULL;
        char err[ET_ERR_LEN];
        et_status st = et_model_load_buffer(b, len, &m, err, sizeof err);
        CHECKF(st == ET_OK, "shift %zu: %s", shift, err);
        CHECK(m->file_copy != NULL && (uintptr_t)m->file_copy % 64 == 0);
        const unsigned char *w = (const unsigned char *)m->nodes[0].params[0].data;
        CHECK(w && !(w >= b && w < b + len));
        CHECK((uintptr_t)w % 64 == 0);
        memset(raw, 0xEE, len + 16); /* the model must not depend on the caller's buffer */
        free(raw);
        CHECK(models_equal(ref, m));
        et_model_free(m);
    }
    free(f);
    et_model_free(ref);
}

static void test_save_buffer_too_small(void) {
    et_model *m = make_model();
    CHECK(m);
    size_t len = 0, got = 0;
    CHECK_OK(et_model_save_buffer(m, NULL, 0, &len));
    unsigned char *b = malloc(len);
    memset(b, 0x77, len);
    CHECK_ST(et_model_save_buffer(m, b, len - 1, &got), ET_ERR_INVALID_ARG);
    CHECK(got == len);
    CHECK(strstr(et_model_error(m), "needs") != NULL);
    for (size_t i = 0; i < len; i++) CHECK(b[i] == 0x77); /* nothing written */
    CHECK_ST(et_model_save_buffer(m, b, len, NULL), ET_ERR_INVALID_ARG);
    CHECK_ST(et_model_save_buffer(NULL, b, len, &got), ET_ERR_INVALID_ARG);
    free(b);
    et_model_free(m);
}

static void test_save_rejects_bad_model(void) {
    et_model *m = make_model();
    CHECK(m);
    size_t len;
    m->nodes[5].in[0] = 9; /* forward reference: would not load */
    CHECK_ST(et_model_save_buffer(m, NULL, 0, &len), ET_ERR_INVALID_ARG);
    CHECK(strstr(et_model_error(m), "node 5") != NULL);
    m->nodes[5].in[0] = 5;
    m->nodes[5].n_params = 7;
    CHECK_ST(et_model_save_buffer(m, NULL, 0, &len), ET_ERR_INVALID_ARG);
    m->nodes[5].n_params = 1; /* maxpool has no param slots */
    CHECK_ST(et_model_save_buffer(m, NULL, 0, &len), ET_ERR_INVALID_ARG);
    CHECK(strstr(et_model_error(m), "node 5 'pool.max' (maxpool): 1 params, the op has 0 slots") != NULL);
    m->nodes[5].n_params = 0;
    m->nodes[5].kh = 256;
    CHECK_ST(et_model_save_buffer(m, NULL, 0, &len), ET_ERR_INVALID_ARG);
    CHECK(strstr(et_model_error(m), "kh 256 exceeds the limit 255") != NULL);
    m->nodes[5].kh = 2;
    m->mean[1] = NAN;
    CHECK_ST(et_model_save_buffer(m, NULL, 0, &len), ET_ERR_INVALID_ARG);
    CHECK(strstr(et_model_error(m), "metadata channel 1") != NULL);
    m->mean[1] = 0.0f;
    CHECK_OK(et_model_save_buffer(m, NULL, 0, &len));
    et_model_free(m);
}

static int read_all(const char *path, unsigned char **out, size_t *len) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return 0;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    *out = malloc((size_t)n + 1);
    *len = fread(*out, 1, (size_t)n, fp);
    fclose(fp);
    return *len == (size_t)n;
}

static int exists(const char *path) { struct stat sb; return stat(path, &sb) == 0; }

static void test_file_roundtrip(void) {
    et_model *m = make_model();
    CHECK(m);
    char path[128], tmp[136];
    snprintf(path, sizeof path, "%s/model.etm", tmpdir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    CHECK_OK(et_model_save_file(m, path));
    CHECK(!exists(tmp));
    size_t len, flen;
    unsigned char *f = save(m, &len), *disk = NULL;
    CHECK(read_all(path, &disk, &flen));
    CHECK(flen == len && memcmp(f, disk, len) == 0);
    et_model *l = NULL;
    char err[ET_ERR_LEN];
    et_status st = et_model_load_file(path, &l, err, sizeof err);
    CHECKF(st == ET_OK, "%s", err);
    if (et_host_is_le()) { /* mapped, weights borrowed from the map */
        CHECK(l->map_base != NULL && l->map_len == len);
        const unsigned char *w = (const unsigned char *)l->nodes[0].params[0].data;
        CHECK(w >= (const unsigned char *)l->map_base && w < (const unsigned char *)l->map_base + len);
    } else {
        CHECK(l->map_base == NULL && l->file_copy != NULL);
    }
    CHECK(models_equal(m, l));
    /* saving over an existing file replaces it */
    l->nodes[13].ratio = 0.5f;
    CHECK_OK(et_model_save_file(l, path));
    et_model *l2 = NULL;
    CHECK_OK(et_model_load_file(path, &l2, err, sizeof err));
    CHECK(l2->nodes[13].ratio == 0.5f);
    et_model_free(l2);
    et_model_free(l);
    free(f); free(disk);
    remove(path);
    et_model_free(m);
}

static void test_save_file_atomic(void) {
    et_model *m = make_model();
    CHECK(m);
    char path[128], tmp[136], bad[160], sub[160];
    snprintf(path, sizeof path, "%s/keep.etm", tmpdir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *fp = fopen(path, "wb");
    CHECK(fp);
    fputs("precious old contents", fp);
    fclose(fp);

    /* into a directory that does not exist */
    snprintf(bad, sizeof bad, "%s/no/such/dir/keep.etm", tmpdir);
    CHECK_ST(et_model_save_file(m, bad), ET_ERR_IO);
    CHECK(strstr(et_model_error(m), "no/such/dir") != NULL);

    /* the temporary file cannot be created: PATH survives untouched */
    CHECK(mkdir(tmp, 0755) == 0);
    CHECK_ST(et_model_save_file(m, path), ET_ERR_IO);
    CHECK(rmdir(tmp) == 0);
    unsigned char *d = NULL;
    size_t n;
    CHECK(read_all(path, &d, &n));
    CHECK(n == 21 && memcmp(d, "precious old contents", 21) == 0);
    free(d);

    /* the rename fails (PATH is a non-empty directory): the temp file is removed */
    snprintf(path, sizeof path, "%s/dir.etm", tmpdir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    snprintf(sub, sizeof sub, "%s/x", path);
    CHECK(mkdir(path, 0755) == 0);
    fp = fopen(sub, "wb");
    CHECK(fp);
    fclose(fp);
    CHECK_ST(et_model_save_file(m, path), ET_ERR_IO);
    CHECK(strstr(et_model_error(m), "rename") != NULL);
    CHECK(!exists(tmp) && exists(sub));
    remove(sub);
    rmdir(path);

    /* an invalid model is refused before any file is touched */
    snprintf(path, sizeof path, "%s/keep.etm", tmpdir);
    m->nodes[0].in[0] = 3;
    CHECK_ST(et_model_save_file(m, path), ET_ERR_INVALID_ARG);
    CHECK(read_all(path, &d, &n) && n == 21);
    free(d);
    remove(path);
    et_model_free(m);
}

static void test_load_file_errors(void) {
    char path[128], err[ET_ERR_LEN];
    et_model *m = (et_model *)(uintptr_t)1;
    snprintf(path, sizeof path, "%s/missing.etm", tmpdir);
    CHECK_ST(et_model_load_file(path, &m, err, sizeof err), ET_ERR_IO);
    CHECK(m == NULL && strstr(err, "missing.etm") && strstr(err, "cannot open"));
    CHECK_ST(et_model_load_file(tmpdir, &m, err, sizeof err), ET_ERR_IO);
    CHECK(strstr(err, "not a regular file") != NULL);
    /* empty file and a corrupt file: the message starts with the path */
    snprintf(path, sizeof path, "%s/empty.etm", tmpdir);
    FILE *fp = fopen(path, "wb");
    CHECK(fp);
    fclose(fp);
    CHECK_ST(et_model_load_file(path, &m, err, sizeof err), ET_ERR_FORMAT);
    CHECK(strncmp(err, path, strlen(path)) == 0 && strstr(err, "truncated"));
    size_t len;
    unsigned char *f = ref_file(&len);
    CHECK(f);
    f[len - 1] ^= 1;
    fp = fopen(path, "wb");
    CHECK(fp);
    fwrite(f, 1, len, fp);
    fclose(fp);
    free(f);
    CHECK_ST(et_model_load_file(path, &m, err, sizeof err), ET_ERR_CRC);
    CHECK(strncmp(err, path, strlen(path)) == 0 && strstr(err, "BLOB section"));
    remove(path);
    CHECK_ST(et_model_load_file(NULL, &m, err, sizeof err), ET_ERR_INVALID_ARG);
    CHECK_ST(et_model_load_buffer(NULL, 10, &m, err, sizeof err), ET_ERR_INVALID_ARG);
    CHECK_ST(et_model_load_buffer("x", 1, NULL, err, sizeof err), ET_ERR_INVALID_ARG);
    /* no error buffer at all is fine */
    CHECK_ST(et_model_load_buffer("x", 1, &m, NULL, 0), ET_ERR_FORMAT);
}

/* ------------------------------------------------------------ tests: malformed files */

static void test_truncated_everywhere(void) {
    size_t len;
    unsigned char *f = ref_file(&len);
    CHECK(f);
    for (size_t n = 0; n < len; n++) {
        /* an exact-size heap copy, so ASan sees any read past the end */
        unsigned char *c = malloc(n ? n : 1);
        memcpy(c, f, n);
        int ok = expect(c, n, ET_ERR_FORMAT, "truncated");
        free(c);
        CHECKF(ok, "length %zu of %zu", n, len);
    }
    free(f);
}

static void test_trailing_bytes(void) {
    size_t len;
    unsigned char *f = ref_file(&len);
    CHECK(f);
    CHECK(expect(f, len + 7, ET_ERR_FORMAT, "trailing data"));
    free(f);
}

static void test_bad_magic(void) {
    PATCHED(f[1] = 'X', 0, ET_ERR_FORMAT, "bad magic");
    PATCHED(f[0] = 'E', 0, ET_ERR_FORMAT, "bad magic");
    CHECK(expect((const unsigned char *)"PK\3\4", 4, ET_ERR_FORMAT, "bad magic"));
}

static void test_bad_version(void) {
    PATCHED(et_put_u32(f + ET_ETM_H_VERSION, 2), 1, ET_ERR_VERSION, "format version 2 is not supported");
    PATCHED(et_put_u32(f + ET_ETM_H_VERSION, 0), 1, ET_ERR_VERSION, "format version 0");
    /* the version is checked before the header CRC */
    PATCHED(et_put_u32(f + ET_ETM_H_VERSION, 7), 0, ET_ERR_VERSION, "version 7");
}

static void test_bad_header_crc(void) {
    PATCHED(f[ET_ETM_H_FILE_SIZE] ^= 0x40, 0, ET_ERR_CRC, "header CRC32 mismatch");
    PATCHED(f[ET_ETM_H_CRC] ^= 1, 0, ET_ERR_CRC, "byte 60: header CRC32");
}

static void test_bad_table_crc(void) {
    PATCHED(f[ET_ETM_TABLE_OFFSET + 9] ^= 1, 0, ET_ERR_CRC, "section table CRC32 mismatch");
}

static void test_bad_section_crcs(void) {
    static const uint32_t types[] = {ET_ETM_SEC_META, ET_ETM_SEC_GRAPH, ET_ETM_SEC_STRINGS, ET_ETM_SEC_BLOB};
    static const char *const want[] = {"META section", "GRAPH section", "STRINGS section", "BLOB section"};
    for (int t = 0; t < 4; t++) {
        size_t len;
        unsigned char *f = ref_file(&len);
        CHECK(f);
        f[sec_off(f, types[t]) + sec_size(f, types[t]) / 2] ^= 0x10;
        int ok = expect(f, len, ET_ERR_CRC, want[t]);
        free(f);
        CHECKF(ok, "section %s", want[t]);
    }
}

static void test_header_fields(void) {
    PATCHED(f[ET_ETM_H_RESERVED + 5] = 1, 1, ET_ERR_FORMAT, "byte 41: reserved header byte");
    PATCHED(et_put_u32(f + ET_ETM_H_FLAGS, 4), 1, ET_ERR_FORMAT, "header flags");
    PATCHED(et_put_u32(f + ET_ETM_H_HEADER_SIZE, 128), 1, ET_ERR_FORMAT, "header size 128");
    PATCHED(et_put_u32(f + ET_ETM_H_SECTIONS, 0), 1, ET_ERR_FORMAT, "byte 24: section count 0 outside 1..16");
    PATCHED(et_put_u32(f + ET_ETM_H_SECTIONS, 100000), 1, ET_ERR_FORMAT, "section count 100000");
    /* file size says shorter than the buffer */
    PATCHED(et_put_u64(f + ET_ETM_H_FILE_SIZE, len - 64), 1, ET_ERR_FORMAT, "trailing data");
    /* file size says longer than the buffer */
    PATCHED(et_put_u64(f + ET_ETM_H_FILE_SIZE, UINT64_MAX), 1, ET_ERR_FORMAT, "truncated");
}

static void test_section_table(void) {
    /* past the end */
    PATCHED(et_put_u64(f + sec_entry(f, ET_ETM_SEC_STRINGS) + ET_ETM_E_SIZE, len), 1, ET_ERR_FORMAT,
            "(STRINGS) at byte");
    PATCHED(et_put_u64(f + sec_entry(f, ET_ETM_SEC_META) + ET_ETM_E_OFFSET, len + 4096), 1, ET_ERR_FORMAT,
            "runs past the end of the file");
    /* offset + size wraps around */
    PATCHED(et_put_u64(f + sec_entry(f, ET_ETM_SEC_GRAPH) + ET_ETM_E_SIZE, UINT64_MAX - 100), 1, ET_ERR_OVERFLOW,
            "section 1 (GRAPH): offset");
    PATCHED(et_put_u64(f + sec_entry(f, ET_ETM_SEC_GRAPH) + ET_ETM_E_SIZE, UINT64_MAX - 100), 1, ET_ERR_OVERFLOW,
            "wraps around");
    /* overlapping sections */
    PATCHED(et_put_u64(f + sec_entry(f, ET_ETM_SEC_STRINGS) + ET_ETM_E_OFFSET, sec_off(f, ET_ETM_SEC_GRAPH) + 8), 1,
            ET_ERR_FORMAT, "(GRAPH) and 2 (STRINGS) overlap");
    /* an empty section between two overlapping ones hides nothing */
    PATCHED({ size_t g = sec_off(f, ET_ETM_SEC_GRAPH);
              et_put_u64(f + sec_entry(f, ET_ETM_SEC_META) + ET_ETM_E_OFFSET, g + 4);
              et_put_u64(f + sec_entry(f, ET_ETM_SEC_META) + ET_ETM_E_SIZE, 0);
              et_put_u64(f + sec_entry(f, ET_ETM_SEC_STRINGS) + ET_ETM_E_OFFSET, g + 8); },
            1, ET_ERR_FORMAT, "sections 1 (GRAPH) and 2 (STRINGS) overlap");
    /* a section over the header or the table */
    PATCHED(et_put_u64(f + sec_entry(f, ET_ETM_SEC_META) + ET_ETM_E_OFFSET, 100), 1, ET_ERR_FORMAT,
            "overlaps the header or section table");
    /* duplicated section */
    PATCHED(et_put_u32(f + sec_entry(f, ET_ETM_SEC_STRINGS), ET_ETM_SEC_GRAPH), 1, ET_ERR_FORMAT, "duplicate GRAPH section");
    /* an ancillary section is skipped, so STRINGS is then missing */
    PATCHED(et_put_u32(f + sec_entry(f, ET_ETM_SEC_STRINGS), 0x80000009u), 1, ET_ERR_FORMAT, "missing STRINGS section");
    /* an unknown critical section is refused */
    PATCHED(et_put_u32(f + sec_entry(f, ET_ETM_SEC_STRINGS), 9), 1, ET_ERR_FORMAT, "unknown type 0x00000009");
    /* table flags */
    PATCHED(et_put_u32(f + sec_entry(f, ET_ETM_SEC_META) + ET_ETM_E_FLAGS, 1), 1, ET_ERR_FORMAT, "flags and reserved field");
    /* a misaligned BLOB */
    PATCHED({ size_t e = sec_entry(f, ET_ETM_SEC_BLOB);
              et_put_u64(f + e + ET_ETM_E_OFFSET, sec_off(f, ET_ETM_SEC_BLOB) + 4);
              et_put_u64(f + e + ET_ETM_E_SIZE, sec_size(f, ET_ETM_SEC_BLOB) - 4); },
            1, ET_ERR_FORMAT, "must start 64-byte aligned");
    PATCHED(et_put_u64(f + sec_entry(f, ET_ETM_SEC_BLOB) + ET_ETM_E_SIZE, sec_size(f, ET_ETM_SEC_BLOB) - 2),
            1, ET_ERR_FORMAT, "hold whole floats");
}

static void test_meta_fields(void) {
    PATCHED(et_put_u32(f + sec_off(f, ET_ETM_SEC_META) + ET_ETM_M_LAYOUT, 7), 1, ET_ERR_FORMAT, "source_layout 7");
    PATCHED(et_put_u32(f + sec_off(f, ET_ETM_SEC_META) + ET_ETM_M_NORM, 17), 1, ET_ERR_FORMAT, "norm_channels 17 exceeds the limit 16");
    PATCHED(et_put_u32(f + sec_off(f, ET_ETM_SEC_META) + ET_ETM_M_LABELS, 70000), 1, ET_ERR_FORMAT, "label_count 70000");
    PATCHED(et_put_u32(f + sec_off(f, ET_ETM_SEC_META) + ET_ETM_M_LABELS, 4), 1, ET_ERR_FORMAT, "with 4 labels it must be");
    PATCHED(et_put_f32(f + sec_off(f, ET_ETM_SEC_META) + ET_ETM_M_STD + 4, 0.0f), 1, ET_ERR_FORMAT, "channel 1");
    PATCHED(et_put_u64(f + sec_entry(f, ET_ETM_SEC_META) + ET_ETM_E_SIZE, 100), 1, ET_ERR_FORMAT, "shorter than its 152 fixed bytes");
    /* a label pointing past STRINGS */
    PATCHED(et_put_u32(f + sec_off(f, ET_ETM_SEC_META) + ET_ETM_META_FIXED + 8, 1u << 20), 1, ET_ERR_FORMAT,
            "label 1: string at offset 1048576");
    PATCHED(et_put_u32(f + sec_off(f, ET_ETM_SEC_META) + ET_ETM_META_FIXED + 12, 0xFFFFFFFFu), 1, ET_ERR_FORMAT,
            "runs past the end of the STRINGS section");
    /* the source with a NUL inside */
    PATCHED({ size_t so = sec_off(f, ET_ETM_SEC_META) + ET_ETM_M_SOURCE;
              f[sec_off(f, ET_ETM_SEC_STRINGS) + et_le_u32(f + so) + 3] = 0; },
            1, ET_ERR_FORMAT, "source: string contains a NUL byte");
    /* an empty string with an offset */
    PATCHED(et_put_u32(f + sec_off(f, ET_ETM_SEC_META) + ET_ETM_META_FIXED + 4, 0), 1, ET_ERR_FORMAT,
            "label 0: empty string must have offset 0");
}

static void test_graph_counts(void) {
    PATCHED(et_put_u32(f + sec_off(f, ET_ETM_SEC_GRAPH) + ET_ETM_G_NODES, 70000), 1, ET_ERR_FORMAT,
            "node count 70000 exceeds the limit 65536");
    PATCHED(et_put_u32(f + sec_off(f, ET_ETM_SEC_GRAPH) + ET_ETM_G_IN_C, 1u << 20), 1, ET_ERR_FORMAT,
            "input channels 1048576 exceeds");
    PATCHED(et_put_u32(f + sec_off(f, ET_ETM_SEC_GRAPH) + ET_ETM_G_OUTPUTS, 65536), 1, ET_ERR_FORMAT,
            "65536 output ids run past the end of the GRAPH section");
    PATCHED(et_put_u32(f + sec_off(f, ET_ETM_SEC_GRAPH) + ET_ETM_G_RESERVED + 4, 1), 1, ET_ERR_FORMAT,
            "GRAPH reserved byte");
    PATCHED(et_put_u32(f + sec_off(f, ET_ETM_SEC_GRAPH) + ET_ETM_G_NODES, 0), 1, ET_ERR_FORMAT, "output 0 is value 15, out of range");
    /* more nodes than the section can hold */
    PATCHED(et_put_u32(f + sec_off(f, ET_ETM_SEC_GRAPH) + ET_ETM_G_NODES, 60000), 1, ET_ERR_FORMAT,
            "GRAPH node count 60000 needs at least 6720000 bytes of records");
    /* one node more than there are records: the section ends inside a record */
    PATCHED(et_put_u32(f + sec_off(f, ET_ETM_SEC_GRAPH) + ET_ETM_G_NODES, 16), 1, ET_ERR_FORMAT,
            "node 15: the GRAPH section ends");
    /* a short GRAPH section: the last node's lists run out */
    PATCHED(et_put_u64(f + sec_entry(f, ET_ETM_SEC_GRAPH) + ET_ETM_E_SIZE, sec_size(f, ET_ETM_SEC_GRAPH) - 4), 1,
            ET_ERR_FORMAT, "node 14 'prob': 1 inputs and 0 params run past the end of the GRAPH section");
    /* fewer nodes than records: bytes left over */
    PATCHED({ size_t g = sec_off(f, ET_ETM_SEC_GRAPH);
              et_put_u32(f + g + ET_ETM_G_NODES, 14);
              et_put_u32(f + g + ET_ETM_GRAPH_FIXED, 13); },
            1, ET_ERR_FORMAT, "unexpected bytes after the last node");
}

static void test_node_enums(void) {
    PATCHED(et_put_u32(f + node_pos(f, 3) + ET_ETM_N_OP, 99), 1, ET_ERR_FORMAT, "node 3: unknown op 99");
    PATCHED(et_put_u32(f + node_pos(f, 3) + ET_ETM_N_OP, 0), 1, ET_ERR_FORMAT, "node 3: unknown op 0");
    PATCHED(et_put_u32(f + node_pos(f, 2) + ET_ETM_N_ACT, 42), 1, ET_ERR_FORMAT, "node 2: unknown activation kind 42");
}

static void test_node_names(void) {
    /* NUL inside a name */
    PATCHED(f[sec_off(f, ET_ETM_SEC_STRINGS) + et_le_u32(f + node_pos(f, 1) + ET_ETM_N_NAME) + 2] = 0, 1,
            ET_ERR_FORMAT, "node 1 name: string contains a NUL byte");
    /* too long (the bytes exist, but 128 > ET_MAX_NAME) */
    PATCHED(et_put_u32(f + node_pos(f, 1) + ET_ETM_N_NAME + 4, 128), 1, ET_ERR_FORMAT,
            "node 1 name: string of 128 bytes is longer than the limit 127");
    /* empty */
    PATCHED({ et_put_u32(f + node_pos(f, 1) + ET_ETM_N_NAME, 0); et_put_u32(f + node_pos(f, 1) + ET_ETM_N_NAME + 4, 0); },
            1, ET_ERR_FORMAT, "node 1 name: empty string");
    /* offset past the STRINGS section */
    PATCHED(et_put_u32(f + node_pos(f, 4) + ET_ETM_N_NAME, (uint32_t)sec_size(f, ET_ETM_SEC_STRINGS) - 2), 1, ET_ERR_FORMAT,
            "node 4 name: string at offset");
}

static void test_node_attributes(void) {
    char want[128];
    size_t len0;
    unsigned char *f0 = ref_file(&len0);
    CHECK(f0);
    snprintf(want, sizeof want, "byte %zu: node 4 'features.1.conv.0' (conv2d): kh 1000 exceeds the limit 255",
             node_pos(f0, 4) + ET_ETM_N_KH);
    free(f0);
    PATCHED(et_put_u32(f + node_pos(f, 4) + ET_ETM_N_KH, 1000), 1, ET_ERR_FORMAT, want);
    PATCHED(et_put_u32(f + node_pos(f, 4) + ET_ETM_N_PAD_R, 5000), 1, ET_ERR_FORMAT, "pad_r 5000 exceeds the limit 1024");
    PATCHED(et_put_u32(f + node_pos(f, 4) + ET_ETM_N_GROUPS, 0xFFFFFFFFu), 1, ET_ERR_FORMAT, "groups 4294967295");
    PATCHED(et_put_u32(f + node_pos(f, 5) + ET_ETM_N_CEIL, 2), 1, ET_ERR_FORMAT, "ceil_mode 2 exceeds the limit 1");
    PATCHED(et_put_u32(f + node_pos(f, 10) + ET_ETM_N_RC, 0x80000000u), 1, ET_ERR_FORMAT, "node 10 'reshape' (reshape): rc");
    PATCHED(et_put_u32(f + node_pos(f, 3) + ET_ETM_N_N_IN, 1000), 1, ET_ERR_FORMAT, "node 3 'cat': input count 1000 exceeds the limit 256");
    PATCHED(et_put_u32(f + node_pos(f, 0) + ET_ETM_N_N_PARAMS, 3), 1, ET_ERR_FORMAT, "param count 3 exceeds the op's 2 slots");
    PATCHED(et_put_u32(f + node_pos(f, 0) + ET_ETM_N_RESERVED, 3), 1, ET_ERR_FORMAT, "node 0 'features.0.conv': reserved field");
}

static void test_value_ids(void) {
    /* out of range */
    PATCHED(et_put_u32(f + node_pos(f, 3) + ET_ETM_NODE_FIXED + 4, 400), 1, ET_ERR_FORMAT,
            "node 3 'cat': input 1 is value 400, out of range (the graph has values 0..15)");
    /* a later value (forward reference) */
    PATCHED(et_put_u32(f + node_pos(f, 3) + ET_ETM_NODE_FIXED, 9), 1, ET_ERR_FORMAT,
            "node 3 'cat': input 0 refers to value 9, a later value (cycle or forward reference)");
    /* its own output (a cycle) */
    PATCHED(et_put_u32(f + node_pos(f, 3) + ET_ETM_NODE_FIXED, 4), 1, ET_ERR_FORMAT, "its own output (cycle");
    /* outputs */
    PATCHED(et_put_u32(f + sec_off(f, ET_ETM_SEC_GRAPH) + ET_ETM_GRAPH_FIXED + 4, 16), 1, ET_ERR_FORMAT,
            "output 1 is value 16, out of range");
    /* the message gives the byte of the bad id */
    char want[64];
    size_t len0;
    unsigned char *f0 = ref_file(&len0);
    CHECK(f0);
    snprintf(want, sizeof want, "byte %zu: node 3", node_pos(f0, 3) + ET_ETM_NODE_FIXED + 4);
    free(f0);
    PATCHED(et_put_u32(f + node_pos(f, 3) + ET_ETM_NODE_FIXED + 4, 400), 1, ET_ERR_FORMAT, want);
}

static void test_param_ranges(void) {
    /* element count whose byte size overflows size_t */
    PATCHED(et_put_u64(f + param_pos(f, 0, 0), (uint64_t)1 << 62), 1, ET_ERR_OVERFLOW,
            "node 0 'features.0.conv': param 0 count 4611686018427387904: its byte size overflows size_t");
    PATCHED(et_put_u64(f + param_pos(f, 0, 0), UINT64_MAX), 1, ET_ERR_OVERFLOW, "overflows size_t");
    /* offset + size wraps */
    PATCHED(et_put_u64(f + param_pos(f, 12, 0) + 8, UINT64_MAX - 63), 1, ET_ERR_OVERFLOW,
            "node 12 'classifier.1': param 0 offset 18446744073709551552");
    /* outside the BLOB */
    PATCHED(et_put_u64(f + param_pos(f, 12, 1) + 8, (sec_size(f, ET_ETM_SEC_BLOB) + 63) / 64 * 64), 1, ET_ERR_FORMAT,
            "param 1 (bytes");
    PATCHED(et_put_u64(f + param_pos(f, 12, 0), 1000000), 1, ET_ERR_FORMAT, "lies outside the BLOB section");
    /* misaligned */
    PATCHED(et_put_u64(f + param_pos(f, 1, 2) + 8, et_le_u64(f + param_pos(f, 1, 2) + 8) + 4), 1, ET_ERR_FORMAT,
            "node 1 'features.0.bn': param 2 offset");
    PATCHED(et_put_u64(f + param_pos(f, 1, 2) + 8, et_le_u64(f + param_pos(f, 1, 2) + 8) + 4), 1, ET_ERR_FORMAT,
            "is not 64-byte aligned");
    /* an absent param (no bias) with an offset */
    PATCHED(et_put_u64(f + param_pos(f, 4, 1) + 8, 64), 1, ET_ERR_FORMAT, "param 1 is empty but has offset 64");
}

static void test_validate_runs(void) {
    /* byte-level fine, graph-level wrong: et_model_validate's message comes through */
    PATCHED(et_put_u32(f + node_pos(f, 12) + ET_ETM_N_OUT_C, 4), 1, ET_ERR_SHAPE, "classifier.1");
    PATCHED(et_put_u32(f + node_pos(f, 4) + ET_ETM_N_GROUPS, 3), 1, ET_ERR_INVALID_ARG, "groups 3");
    PATCHED(et_put_f32(f + node_pos(f, 1) + ET_ETM_N_EPS, -1.0f), 1, ET_ERR_INVALID_ARG, "eps");
}

/* Every byte of the non-weight part changed, with CRCs repaired so that the
 * structural checks see it: loading either works or fails with a message,
 * never crashes or reads out of bounds (run under ASan). */
static void test_every_byte_patched(void) {
    size_t len;
    unsigned char *f = ref_file(&len);
    CHECK(f);
    unsigned char *c = malloc(len);
    size_t blob = sec_off(f, ET_ETM_SEC_BLOB);
    static const unsigned char vals[] = {0x00, 0x01, 0x80, 0xFF};
    size_t loaded = 0, failed = 0;
    for (size_t i = 0; i < blob; i++) {
        for (size_t v = 0; v < sizeof vals; v++) {
            memcpy(c, f, len);
            if (c[i] == vals[v]) continue;
            c[i] = vals[v];
            if (i >= ET_ETM_HEADER_SIZE || (i != ET_ETM_H_CRC && i != ET_ETM_H_CRC + 1 && i != ET_ETM_H_CRC + 2 && i != ET_ETM_H_CRC + 3))
                fix_crcs(c, len);
            et_model *m = NULL;
            char err[ET_ERR_LEN];
            err[0] = 0;
            et_status st = et_model_load_buffer(c, len, &m, err, sizeof err);
            if (st == ET_OK) {
                CHECK(m != NULL);
                loaded++;
                /* whatever loaded must save and reload to the same model */
                size_t l2;
                unsigned char *g = save(m, &l2);
                CHECKF(g, "byte %zu = 0x%02x: loaded but does not save: %s", i, vals[v], m->err);
                et_model *m2 = NULL;
                CHECK_OK(et_model_load_buffer(g, l2, &m2, NULL, 0));
                CHECK(models_equal(m, m2));
                et_model_free(m2);
                free(g);
                et_model_free(m);
            } else {
                CHECKF(m == NULL && err[0] != 0, "byte %zu = 0x%02x: no message", i, vals[v]);
                failed++;
            }
        }
    }
    CHECK(failed > loaded);
    free(c);
    free(f);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/et_test_format_XXXXXX");
    if (!mkdtemp(tmpdir)) { perror("mkdtemp"); return 1; }
    RUN(test_crc32_vectors);
    RUN(test_roundtrip_buffer);
    RUN(test_golden_bytes);
    RUN(test_roundtrip_builder_mobilenet);
    RUN(test_zero_copy);
    RUN(test_misaligned_buffer_copies);
    RUN(test_save_buffer_too_small);
    RUN(test_save_rejects_bad_model);
    RUN(test_file_roundtrip);
    RUN(test_save_file_atomic);
    RUN(test_load_file_errors);
    RUN(test_truncated_everywhere);
    RUN(test_trailing_bytes);
    RUN(test_bad_magic);
    RUN(test_bad_version);
    RUN(test_bad_header_crc);
    RUN(test_bad_table_crc);
    RUN(test_bad_section_crcs);
    RUN(test_header_fields);
    RUN(test_section_table);
    RUN(test_meta_fields);
    RUN(test_graph_counts);
    RUN(test_node_enums);
    RUN(test_node_names);
    RUN(test_node_attributes);
    RUN(test_value_ids);
    RUN(test_param_ranges);
    RUN(test_validate_runs);
    RUN(test_every_byte_patched);
    rmdir(tmpdir);
    return t_summary(__FILE__);
}
