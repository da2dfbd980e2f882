/* et_model_load_static: the bundled model loads into caller memory and runs
 * bit-identically to et_model_load_buffer; sizes are exact; every corrupted
 * file the heap loader refuses is refused with the same status and message;
 * load + plan + prepare + run make no heap call. This binary is linked with
 * --wrap for the heap functions (Makefile: WRAP_test_static). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "edgetune.h"
#include "harness.h"
#include "etm_corpus.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t s);
void *__real_realloc(void *p, size_t n);
void *__real_aligned_alloc(size_t a, size_t n);
void __real_free(void *p);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t s);
void *__wrap_realloc(void *p, size_t n);
void *__wrap_aligned_alloc(size_t a, size_t n);
void __wrap_free(void *p);

static unsigned long heap_calls;
void *__wrap_malloc(size_t n) { heap_calls++; return __real_malloc(n); }
void *__wrap_calloc(size_t n, size_t s) { heap_calls++; return __real_calloc(n, s); }
void *__wrap_realloc(void *p, size_t n) { heap_calls++; return __real_realloc(p, n); }
void *__wrap_aligned_alloc(size_t a, size_t n) { heap_calls++; return __real_aligned_alloc(a, n); }
void __wrap_free(void *p) { if (p) heap_calls++; __real_free(p); }

#define BUNDLED "models/fmnist5_mbv2.etm"

/* The whole file in a 64-aligned buffer with room to shift it by `shift`. */
static unsigned char *read_model(const char *path, size_t shift, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = n > 0 ? aligned_alloc(64, ((size_t)n + shift + 63) / 64 * 64) : NULL;
    if (b && fread(b + shift, 1, (size_t)n, f) != (size_t)n) { free(b); b = NULL; }
    fclose(f);
    *len = (size_t)n;
    return b;
}

/* Run m on a fixed input at its default size; returns a malloc'ed copy of output 0. */
static float *run_once(const et_model *m, size_t *count) {
    et_plan p;
    if (et_model_plan(m, NULL, &p) != ET_OK) return NULL;
    void *arena = malloc(p.total);
    et_session *s;
    et_tensor in, out;
    float *y = NULL;
    if (arena && et_session_prepare(m, NULL, arena, p.total, &s, NULL) == ET_OK &&
        et_session_input(s, 0, &in) == ET_OK) {
        t_fill(in.data, et_shape_count(in.shape), 5);
        if (et_session_run(s) == ET_OK && et_session_output(s, 0, &out) == ET_OK) {
            *count = et_shape_count(out.shape);
            y = malloc(*count * sizeof *y);
            if (y) memcpy(y, out.data, *count * sizeof *y);
        }
    }
    free(arena);
    return y;
}

/* Static load of buf into fresh heap memory of exactly the queried size. */
static et_model *load_static_exact(const unsigned char *buf, size_t len, void **mem) {
    size_t need = 0;
    *mem = NULL;
    if (et_model_load_static(buf, len, NULL, 0, NULL, &need, NULL, 0) != ET_OK || !need) return NULL;
    *mem = malloc(need);
    et_model *m = NULL;
    if (*mem && et_model_load_static(buf, len, *mem, need, &m, NULL, NULL, 0) != ET_OK) m = NULL;
    return m;
}

static int points_into(const float *p, const void *base, size_t len) {
    uintptr_t a = (uintptr_t)p, b = (uintptr_t)base;
    return a >= b && a < b + len;
}

/* Aligned buffer: weights used in place, outputs bit-identical. Misaligned
 * buffer: weights copied into mem, outputs still bit-identical. */
static void test_bundled_bit_identical(void) {
    for (size_t shift = 0; shift < 2; shift++) {
        size_t len;
        unsigned char *raw = read_model(BUNDLED, shift, &len), *buf = raw + shift;
        CHECKF(raw, "cannot read %s (run from the repo root)", BUNDLED);
        et_model *heap = NULL, *st = NULL;
        void *mem;
        CHECK_OK(et_model_load_buffer(buf, len, &heap, NULL, 0));
        CHECK((st = load_static_exact(buf, len, &mem)) != NULL);
        CHECK(et_model_node_count(st) == et_model_node_count(heap));
        CHECK(et_model_param_count(st) == et_model_param_count(heap));
        const float *w;
        size_t cnt;
        CHECK_OK(et_model_param(st, 0, 0, &w, &cnt));
        CHECKF(points_into(w, shift ? mem : (const void *)buf, shift ? 1u << 30 : len),
               "shift %zu: weights should live in %s", shift, shift ? "mem" : "buf");
        et_plan ph, ps;
        CHECK_OK(et_model_plan(heap, NULL, &ph));
        CHECK_OK(et_model_plan(st, NULL, &ps));
        CHECK(ph.total == ps.total && ph.weights == ps.weights && ph.activations == ps.activations);
        size_t nh = 0, ns = 0;
        float *yh = run_once(heap, &nh), *ys = run_once(st, &ns);
        CHECK(yh && ys && nh == 5 && ns == nh);
        CHECKF(memcmp(yh, ys, nh * sizeof *yh) == 0, "shift %zu: outputs differ", shift);
        et_metadata a, b;
        CHECK_OK(et_model_metadata(heap, &a));
        CHECK_OK(et_model_metadata(st, &b));
        CHECK(a.label_count == b.label_count && a.label_count == 5 && strcmp(a.labels[4], b.labels[4]) == 0);
        CHECK(strcmp(a.source, b.source) == 0 && memcmp(a.mean, b.mean, sizeof a.mean) == 0);
        free(yh);
        free(ys);
        et_model_free(st); /* a no-op: ASan would report a free of mem's interior */
        free(mem);
        et_model_free(heap);
        free(raw);
    }
}

/* The size is exact at every alignment of mem: one byte less never fits. */
static void test_exact_size(void) {
    size_t len, need = 0, need2 = 0;
    unsigned char *buf = read_model(BUNDLED, 0, &len);
    CHECK(buf);
    CHECK_OK(et_model_load_static(buf, len, NULL, 0, NULL, &need, NULL, 0));
    CHECK(need > ET_ALIGN);
    unsigned char *mem = aligned_alloc(64, (need + 2 * 64 + 63) / 64 * 64);
    CHECK(mem);
    for (size_t off = 0; off < 64; off += 7) {
        /* bytes needed from this address: the first 64-byte boundary, then the tables */
        size_t lead = (64 - off % 64) % 64, used = need - (ET_ALIGN - 1);
        et_model *m = (et_model *)(uintptr_t)1;
        char err[256] = "";
        memset(mem, 0xC3, need + 2 * 64);
        CHECK_ST(et_model_load_static(buf, len, mem + off, lead + used - 1, &m, &need2, err, sizeof err), ET_ERR_ARENA_TOO_SMALL);
        CHECKF(m == NULL && need2 == need && strstr(err, "needed"), "off %zu: %s", off, err);
        CHECK_OK(et_model_load_static(buf, len, mem + off, lead + used, &m, &need2, err, sizeof err));
        CHECK(m && need2 == need);
        /* nothing written past the end it was given */
        for (size_t i = off + lead + used; i < need + 2 * 64; i++) CHECKF(mem[i] == 0xC3, "off %zu: byte %zu written", off, i);
        CHECK(et_model_node_count(m) > 0);
    }
    free(mem);
    free(buf);
}

/* Read-only: changes are refused, copies are ordinary heap models. */
static void test_read_only(void) {
    size_t len;
    unsigned char *buf = read_model(BUNDLED, 0, &len);
    CHECK(buf);
    void *mem;
    et_model *m = load_static_exact(buf, len, &mem);
    CHECK(m);
    const float *w;
    size_t cnt;
    CHECK_OK(et_model_param(m, 0, 1, &w, &cnt));
    CHECK_ST(et_model_set_param(m, 0, 1, w, cnt), ET_ERR_STATE);
    CHECK(strstr(et_model_error(m), "read-only"));
    et_metadata md;
    CHECK_OK(et_model_metadata(m, &md));
    CHECK_ST(et_model_set_metadata(m, &md), ET_ERR_STATE);
    CHECK_OK(et_model_infer_shapes(m, 2, 0, 0));
    et_model *c = NULL, *f = NULL, *h = NULL;
    CHECK_OK(et_model_clone(m, &c));
    CHECK_OK(et_model_set_param(c, 0, 1, w, cnt));
    CHECK_OK(et_model_fold(m, &f));
    CHECK(et_model_node_count(f) < et_model_node_count(m));
    CHECK_OK(et_model_new_head(m, 3, 1, &h));
    et_model_free(h);
    et_model_free(f);
    et_model_free(c);
    et_model_free(m);
    free(mem);
    free(buf);
}

/* A small model touching every op and all metadata: the corpus source. */
static unsigned char *small_file(size_t *len) {
    et_builder *b = NULL;
    et_model *m = NULL;
    float w[8 * 3 * 3 * 8];
    t_fill(w, sizeof w / sizeof w[0], 3);
    float g[8], beta[8], mean[8], var[8];
    for (int c = 0; c < 8; c++) { g[c] = 1.0f + 0.1f * (float)c; beta[c] = 0.01f * (float)c; mean[c] = 0.0f; var[c] = 1.0f; }
    int v[16];
    et_conv2d_desc c0 = {.out_channels = 4, .kh = 3, .kw = 3, .pad_t = 1, .pad_l = 1, .pad_b = 1, .pad_r = 1, .act = et_act_relu6()};
    et_conv2d_desc c1 = {.out_channels = 8, .kh = 3, .kw = 3, .sh = 2, .sw = 2, .pad_t = 1, .pad_l = 1, .pad_b = 1, .pad_r = 1, .groups = 8};
    et_pool_desc mp = {.kh = 2, .kw = 2, .ceil_mode = 1}, ap = {.kh = 3, .kw = 3, .sh = 1, .sw = 1, .pad_t = 1, .pad_l = 1, .pad_b = 1, .pad_r = 1, .count_include_pad = 1};
    int ok = et_builder_new(3, 8, 8, &b) == ET_OK &&
             et_builder_conv2d(b, "conv0", 0, &c0, w, g, &v[0]) == ET_OK &&
             et_builder_batchnorm(b, "bn0", v[0], 1e-5f, g, beta, mean, var, &v[1]) == ET_OK &&
             et_builder_act(b, "act0", v[1], et_act_leaky_relu(0.1f), &v[2]) == ET_OK &&
             et_builder_concat(b, "cat", (int[]){v[2], v[0]}, 2, &v[3]) == ET_OK &&
             et_builder_conv2d(b, "dw", v[3], &c1, w, NULL, &v[4]) == ET_OK &&
             et_builder_maxpool(b, "max", v[4], &mp, &v[5]) == ET_OK &&
             et_builder_avgpool(b, "avg", v[5], &ap, &v[6]) == ET_OK &&
             et_builder_mul(b, "gate", v[6], v[5], &v[7]) == ET_OK &&
             et_builder_add(b, "res", v[7], v[5], et_act_relu(), &v[8]) == ET_OK &&
             et_builder_global_avgpool(b, "gap", v[8], &v[9]) == ET_OK &&
             et_builder_flatten(b, "flat", v[9], &v[10]) == ET_OK &&
             et_builder_reshape(b, "reshape", v[10], 1, 1, 8, &v[11]) == ET_OK &&
             et_builder_linear(b, "fc", v[11], 3, w, g, et_act_none(), &v[12]) == ET_OK &&
             et_builder_dropout(b, "drop", v[12], 0.25f, &v[13]) == ET_OK &&
             et_builder_softmax(b, "prob", v[13], &v[14]) == ET_OK &&
             et_builder_output(b, v[14]) == ET_OK && et_builder_output(b, v[12]) == ET_OK &&
             et_builder_finish(b, &m) == ET_OK;
    et_builder_free(b);
    static const char *const labels[] = {"cat", "", "caf\xc3\xa9"};
    et_metadata md;
    memset(&md, 0, sizeof md);
    md.source_layout = ET_LAYOUT_NCHW;
    md.norm_channels = 3;
    for (int c = 0; c < ET_MAX_CHANNELS_META; c++) { md.mean[c] = 0.25f * (float)c; md.std[c] = 0.5f + (float)c; }
    md.label_count = 3;
    md.labels = labels;
    md.source = "test_static.c";
    unsigned char *f = NULL;
    if (ok && et_model_set_metadata(m, &md) == ET_OK && et_model_save_buffer(m, NULL, 0, len) == ET_OK &&
        (f = aligned_alloc(64, (*len + 63) / 64 * 64)) != NULL && et_model_save_buffer(m, f, *len, len) != ET_OK) {
        free(f);
        f = NULL;
    }
    et_model_free(m);
    return f;
}

/* Loads f both ways and checks they agree: status, message, and (when it
 * loads) the saved bytes. The query agrees too, except that it cannot see
 * graph-level errors (those need the tables): then it says OK and the load
 * into memory refuses. *loaded counts successes. */
static int same_verdict(const unsigned char *f, size_t len, unsigned char *mem, size_t mem_cap, size_t *loaded) {
    char e1[ET_ERR_LEN] = "", e2[ET_ERR_LEN] = "", e3[ET_ERR_LEN] = "";
    et_model *a = NULL, *b = NULL;
    size_t need = 0;
    et_status s1 = et_model_load_buffer(f, len, &a, e1, sizeof e1);
    et_status s3 = et_model_load_static(f, len, NULL, 0, NULL, &need, e3, sizeof e3);
    et_status s2 = need > mem_cap ? ET_ERR_ARENA_TOO_SMALL : et_model_load_static(f, len, mem, mem_cap, &b, NULL, e2, sizeof e2);
    int ok = s1 == s2 && strcmp(e1, e2) == 0 && (a == NULL) == (b == NULL);
    ok = ok && ((s3 == s1 && strcmp(e3, e1) == 0) || (s3 == ET_OK && need > 0));
    if (ok && a) {
        size_t la = 0, lb = 0;
        unsigned char *ga = NULL, *gb = NULL;
        et_status sa = et_model_save_buffer(a, NULL, 0, &la), sb = et_model_save_buffer(b, NULL, 0, &lb);
        ok = sa == sb && la == lb;
        if (ok && sa == ET_OK) {
            ga = malloc(la);
            gb = malloc(lb);
            ok = ga && gb && et_model_save_buffer(a, ga, la, &la) == ET_OK && et_model_save_buffer(b, gb, lb, &lb) == ET_OK &&
                 memcmp(ga, gb, la) == 0;
        }
        free(ga);
        free(gb);
        (*loaded)++;
    }
    if (!ok)
        printf("    heap: %s \"%s\"; static: %s \"%s\"; query: %s \"%s\"\n", et_status_str(s1), e1, et_status_str(s2), e2,
               et_status_str(s3), e3);
    et_model_free(a);
    et_model_free(b);
    return ok;
}

static void test_corpus_truncated(void) {
    size_t len, loaded = 0;
    unsigned char *f = small_file(&len), *mem = malloc(1 << 20);
    CHECK(f && mem);
    for (size_t n = 0; n <= len; n++) {
        /* an exact-size heap copy, so ASan sees any read past the end */
        unsigned char *c = malloc(n ? n : 1);
        memcpy(c, f, n);
        int ok = same_verdict(c, n, mem, 1 << 20, &loaded);
        free(c);
        CHECKF(ok, "length %zu of %zu", n, len);
    }
    CHECK(loaded == 1);
    free(mem);
    free(f);
}

/* Every byte before the weights set to four values, CRCs repaired (as in
 * test_format.c's test_every_byte_patched), loaded both ways. */
static void test_corpus_every_byte(void) {
    size_t len, loaded = 0, cases = 0;
    unsigned char *f = small_file(&len), *mem = malloc(1 << 20);
    CHECK(f && mem);
    unsigned char *c = aligned_alloc(64, (len + 63) / 64 * 64);
    CHECK(c);
    static const unsigned char vals[] = {0x00, 0x01, 0x80, 0xFF};
    for (size_t i = 0; i < sec_off(f, ET_ETM_SEC_BLOB); i++)
        for (size_t v = 0; v < sizeof vals; v++) {
            memcpy(c, f, len);
            if (c[i] == vals[v]) continue;
            c[i] = vals[v];
            if (i < ET_ETM_H_CRC || i >= ET_ETM_H_CRC + 4) fix_crcs(c, len);
            cases++;
            CHECKF(same_verdict(c, len, mem, 1 << 20, &loaded), "byte %zu = 0x%02x", i, vals[v]);
        }
    CHECK(cases > 1000 && loaded > 0 && loaded < cases);
    free(c);
    free(mem);
    free(f);
}

/* Query, load, plan, prepare and run: not one heap call. */
static void test_zero_heap(void) {
    size_t len, need = 0, arena_need = 0;
    unsigned char *buf = read_model(BUNDLED, 0, &len);
    CHECK(buf);
    static unsigned char mem[256 << 10], arena[1 << 20];
    static float out[5];
    unsigned long before = heap_calls;
    char err[ET_ERR_LEN];
    et_model *m = NULL;
    et_session *s = NULL;
    et_plan p;
    et_tensor in, o;
    CHECK_OK(et_model_load_static(buf, len, NULL, 0, NULL, &need, err, sizeof err));
    CHECKF(need <= sizeof mem, "mem of %zu bytes, %zu needed", sizeof mem, need);
    CHECK_OK(et_model_load_static(buf, len, mem, sizeof mem, &m, NULL, err, sizeof err));
    CHECK_OK(et_model_plan(m, NULL, &p));
    CHECKF(p.total <= sizeof arena, "arena of %zu bytes, %zu needed", sizeof arena, p.total);
    CHECK_OK(et_session_prepare(m, NULL, arena, sizeof arena, &s, &arena_need));
    CHECK_OK(et_session_input(s, 0, &in));
    for (size_t i = 0; i < et_shape_count(in.shape); i++) in.data[i] = (float)(i % 17) * 0.1f;
    CHECK_OK(et_session_run(s));
    CHECK_OK(et_session_output(s, 0, &o));
    memcpy(out, o.data, sizeof out);
    et_model_free(m);
    unsigned long during = heap_calls - before;
    CHECKF(during == 0, "%lu heap calls", during);
    CHECK(arena_need == p.total && out[0] == out[0]);
    /* the wrapper does see the heap loader's calls */
    before = heap_calls;
    CHECK_OK(et_model_load_buffer(buf, len, &m, NULL, 0));
    CHECK(heap_calls > before);
    et_model_free(m);
    free(buf);
}

/* Arguments: NULLs are refused with a message, never a crash. */
static void test_bad_arguments(void) {
    size_t len, need = 0;
    unsigned char *buf = read_model(BUNDLED, 0, &len), mem[64];
    CHECK(buf);
    et_model *m = NULL;
    char err[128] = "";
    CHECK_ST(et_model_load_static(NULL, len, NULL, 0, NULL, &need, err, sizeof err), ET_ERR_INVALID_ARG);
    CHECK_ST(et_model_load_static(buf, len, NULL, 0, NULL, NULL, err, sizeof err), ET_ERR_INVALID_ARG);
    CHECK(strstr(err, "needed"));
    CHECK_ST(et_model_load_static(buf, len, mem, sizeof mem, NULL, &need, err, sizeof err), ET_ERR_INVALID_ARG);
    CHECK_ST(et_model_load_static(buf, len, mem, sizeof mem, &m, &need, err, sizeof err), ET_ERR_ARENA_TOO_SMALL);
    CHECK(m == NULL && need > sizeof mem);
    CHECK_ST(et_model_load_static(buf, 0, NULL, 0, NULL, &need, err, sizeof err), ET_ERR_FORMAT);
    CHECK(need == 0 && strstr(err, "truncated"));
    free(buf);
}

int main(void) {
    RUN(test_bundled_bit_identical);
    RUN(test_exact_size);
    RUN(test_read_only);
    RUN(test_corpus_truncated);
    RUN(test_corpus_every_byte);
    RUN(test_zero_heap);
    RUN(test_bad_arguments);
    return t_summary(__FILE__);
}
