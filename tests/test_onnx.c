/* Tests of ONNX import and export (src/onnx/): parity with PyTorch / ONNX
 * Runtime outputs from tests/fixtures/onnx (made by tools/gen_onnx_fixtures.py),
 * round trips, error messages, and malformed protobuf that must fail cleanly. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include "edgetune.h"
#include "harness.h"

#define FIX "tests/fixtures/onnx/"

/* Runs m on an NCHW array; returns output 0 in NCHW (or [N, C]) order. */
static et_status run_nchw(const et_model *m, const et_array *x, float **y, size_t *y_count) {
    et_config cfg = {x->dims[0], x->dims[2], x->dims[3], 1};
    et_plan plan;
    et_status st = et_model_plan(m, &cfg, &plan);
    if (st != ET_OK) return st;
    void *arena = malloc(plan.total);
    et_session *s = NULL;
    if (!arena) return ET_ERR_NO_MEMORY;
    et_tensor ti, to;
    if ((st = et_session_prepare(m, &cfg, arena, plan.total, &s, NULL)) != ET_OK ||
        (st = et_session_input(s, 0, &ti)) != ET_OK || (st = et_session_output(s, 0, &to)) != ET_OK) { free(arena); return st; }
    size_t N = x->dims[0], C = x->dims[1], HW = x->dims[2] * x->dims[3];
    for (size_t n = 0; n < N; n++)
        for (size_t c = 0; c < C; c++)
            for (size_t p = 0; p < HW; p++) ti.data[(n * HW + p) * C + c] = x->data[(n * C + c) * HW + p];
    if ((st = et_session_run(s)) != ET_OK) { free(arena); return st; }
    et_shape o = to.shape;
    size_t cnt = o.n * o.h * o.w * o.c, ohw = o.h * o.w;
    *y = malloc(cnt * sizeof **y);
    if (!*y) { free(arena); return ET_ERR_NO_MEMORY; }
    for (size_t n = 0; n < o.n; n++)
        for (size_t c = 0; c < o.c; c++)
            for (size_t p = 0; p < ohw; p++) (*y)[(n * o.c + c) * ohw + p] = to.data[(n * ohw + p) * o.c + c];
    *y_count = cnt;
    free(arena);
    return ET_OK;
}

static double rel_err(const float *a, const float *b, size_t n) {
    double worst = 0, scale = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (d != d) return INFINITY;
        if (d > worst) worst = d;
        if (fabs((double)b[i]) > scale) scale = fabs((double)b[i]);
    }
    return worst / (scale > 0 ? scale : 1);
}

/* Import path, run on X, compare with Y; the error is stored in *err_out. */
static int parity(const char *onnx, const char *xs, const char *ys, const et_onnx_options *o, double *err_out, et_model **keep) {
    char err[512] = "";
    et_model *m = NULL;
    et_array x, y;
    memset(&x, 0, sizeof x);
    memset(&y, 0, sizeof y);
    float *out = NULL;
    size_t cnt = 0;
    int ok = 0;
    et_status st = et_onnx_import_file(onnx, o, &m, err, sizeof err);
    if (st != ET_OK) printf("    import %s: %s\n", onnx, err);
    else if (et_npy_read_file(xs, &x, err, sizeof err) != ET_OK || et_npy_read_file(ys, &y, err, sizeof err) != ET_OK) printf("    %s\n", err);
    else if ((st = run_nchw(m, &x, &out, &cnt)) != ET_OK) printf("    run %s: %s %s\n", onnx, et_status_str(st), et_model_error(m));
    else if (cnt != y.count) printf("    %s: %zu outputs, reference has %zu\n", onnx, cnt, y.count);
    else {
        *err_out = rel_err(out, y.data, cnt);
        ok = *err_out <= 1e-4;
        if (!ok) printf("    %s: max |d| / max |y| = %g\n", onnx, *err_out);
    }
    free(out);
    et_array_free(&x);
    et_array_free(&y);
    if (keep && ok) *keep = m;
    else et_model_free(m);
    return ok;
}

static int fixture(const char *name, const et_onnx_options *o) {
    char a[256], b[256], c[256];
    double e = -1;
    snprintf(a, sizeof a, FIX "%s.onnx", name);
    snprintf(b, sizeof b, FIX "%s_x.npy", name);
    snprintf(c, sizeof c, FIX "%s_y.npy", name);
    int ok = parity(a, b, c, o, &e, NULL);
    printf("    %-22s max |d| / max |y| = %.3g\n", name, e);
    return ok;
}

static void test_torchvision_models(void) {
    CHECK(fixture("mobilenet_v2", NULL));
    CHECK(fixture("mobilenet_v3_small", NULL));
    CHECK(fixture("resnet_small", NULL));
}

static void test_paddleocr_classifier(void) {
    et_onnx_options o;
    memset(&o, 0, sizeof o);
    o.input_n = 1; o.input_c = 3; o.input_h = 48; o.input_w = 192;
    double e = -1;
    CHECK(parity(FIX "paddle_cls/ch_ppocr_mobile_v2.0_cls_infer.onnx", FIX "paddle_cls/cls_x.npy", FIX "paddle_cls/cls_y.npy", &o, &e, NULL));
    printf("    paddle cls vs ONNX Runtime: max |d| / max |y| = %.3g\n", e);
}

static void test_ops(void) {
    static const char *const names[] = {
        "acts_opset9", "acts_opset11", "acts_opset13", "acts_opset17", "conv_group_dil", "conv_dw_bn_relu", "silu",
        "se_mul", "residual_add", "const_ops", "pools", "global_pools", "flatten_gemm", "shape_flatten",
        "reshape_paddle_style", "matmul_add", "concat", "pad_conv", "pad_conv_opset9", "autopad_same_upper",
        "autopad_same_lower", "autopad_valid", "gemm_alpha_beta"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) CHECK(fixture(names[i], NULL));
}

static void test_dynamic_input_shape(void) {
    et_model *m = NULL;
    char err[512];
    CHECK_ST(et_onnx_import_file(FIX "shape_flatten_dyn.onnx", NULL, &m, err, sizeof err), ET_ERR_UNSUPPORTED);
    CHECKF(strstr(err, "dynamic") && strstr(err, "--input-shape"), "%s", err);
    et_onnx_options o;
    memset(&o, 0, sizeof o);
    o.input_h = 7; o.input_w = 8;
    CHECK(fixture("shape_flatten_dyn", &o));
    o.input_c = 4; /* contradicts the model's C = 3 */
    CHECK_ST(et_onnx_import_file(FIX "shape_flatten_dyn.onnx", &o, &m, err, sizeof err), ET_ERR_SHAPE);
    CHECK(m == NULL);
}

static void test_fusion_and_keep_bn(void) {
    et_model *m = NULL;
    char err[256];
    CHECK_OK(et_onnx_import_file(FIX "conv_dw_bn_relu.onnx", NULL, &m, err, sizeof err));
    et_node_info ni;
    CHECK(et_model_node_count(m) == 1); /* conv + bn + relu folded into one conv */
    CHECK_OK(et_model_node_info(m, 0, &ni));
    CHECK(ni.op == ET_OP_CONV2D && ni.act.kind == ET_ACT_RELU && ni.groups == 8);
    et_model_free(m);
    et_onnx_options o;
    memset(&o, 0, sizeof o);
    o.keep_bn = 1;
    CHECK(fixture("conv_dw_bn_relu", &o));
    CHECK_OK(et_onnx_import_file(FIX "conv_dw_bn_relu.onnx", &o, &m, err, sizeof err));
    CHECK(et_model_node_count(m) == 3);
    CHECK_OK(et_model_node_info(m, 1, &ni));
    CHECK(ni.op == ET_OP_BATCHNORM);
    et_model_free(m);
    /* x * sigmoid(x) is one SiLU activation */
    CHECK_OK(et_onnx_import_file(FIX "silu.onnx", NULL, &m, err, sizeof err));
    CHECK(et_model_node_count(m) == 1);
    CHECK_OK(et_model_node_info(m, 0, &ni));
    CHECK(ni.act.kind == ET_ACT_SILU);
    et_model_free(m);
}

static void test_metadata(void) {
    et_model *m = NULL;
    char err[256];
    CHECK_OK(et_onnx_import_file(FIX "gemm_alpha_beta.onnx", NULL, &m, err, sizeof err));
    et_metadata md;
    CHECK_OK(et_model_metadata(m, &md));
    CHECK(md.source_layout == ET_LAYOUT_NCHW && md.input_h == 1 && md.input_w == 1);
    CHECK(md.norm_channels == 6 && md.mean[1] == 0.25f && md.std[5] == 6.0f);
    CHECK(md.label_count == 4 && strcmp(md.labels[0], "cat") == 0 && strcmp(md.labels[3], "fish") == 0);
    et_node_info ni;
    CHECK_OK(et_model_node_info(m, et_model_node_count(m) - 1, &ni));
    CHECK(strcmp(ni.name, "output") == 0);
    /* the metadata survives export and import */
    size_t len = 0;
    CHECK_OK(et_onnx_export_buffer(m, NULL, 0, &len, err, sizeof err));
    void *buf = malloc(len);
    CHECK(buf);
    et_model *m2 = NULL;
    et_status st = et_onnx_export_buffer(m, buf, len, &len, err, sizeof err);
    if (st == ET_OK) st = et_onnx_import_buffer(buf, len, NULL, &m2, err, sizeof err);
    free(buf);
    et_model_free(m);
    CHECK_OK(st);
    CHECK_OK(et_model_metadata(m2, &md));
    CHECK(md.norm_channels == 6 && md.std[5] == 6.0f && md.label_count == 4 && strcmp(md.labels[2], "bird") == 0);
    et_model_free(m2);
}

/* import -> export -> import gives the same weights (bit for bit) and outputs */
static int round_trip(const char *name) {
    char path[256], err[512] = "";
    snprintf(path, sizeof path, FIX "%s.onnx", name);
    et_model *a = NULL, *b = NULL;
    size_t len = 0;
    void *buf = NULL;
    int ok = 0;
    if (et_onnx_import_file(path, NULL, &a, err, sizeof err) == ET_OK &&
        et_onnx_export_buffer(a, NULL, 0, &len, err, sizeof err) == ET_OK && (buf = malloc(len)) &&
        et_onnx_export_buffer(a, buf, len, &len, err, sizeof err) == ET_OK &&
        et_onnx_import_buffer(buf, len, NULL, &b, err, sizeof err) == ET_OK) {
        ok = et_model_node_count(a) == et_model_node_count(b) && et_model_param_count(a) == et_model_param_count(b);
        for (size_t i = 0; ok && i < et_model_node_count(a); i++) {
            et_node_info x, y;
            et_model_node_info(a, i, &x);
            et_model_node_info(b, i, &y);
            ok = x.op == y.op && x.act.kind == y.act.kind && x.params == y.params && strcmp(x.name, y.name) == 0;
            if (!ok) printf("    %s: node %zu differs: %s/%s %s/%s\n", name, i, et_op_name(x.op), et_op_name(y.op), x.name, y.name);
        }
        /* equal parameters: the serialized .etm files are identical once the
         * provenance string (which names the producer) is the same */
        et_metadata md;
        et_model_metadata(a, &md);
        et_model_set_metadata(b, &md);
        size_t la = 0, lb = 0;
        et_model_save_buffer(a, NULL, 0, &la);
        et_model_save_buffer(b, NULL, 0, &lb);
        char *sa = malloc(la), *sb = malloc(lb);
        if (ok && sa && sb && la == lb && et_model_save_buffer(a, sa, la, &la) == ET_OK && et_model_save_buffer(b, sb, lb, &lb) == ET_OK) {
            ok = memcmp(sa, sb, la) == 0;
            if (!ok) printf("    %s: .etm bytes differ\n", name);
        } else if (ok) {
            ok = 0;
            printf("    %s: .etm sizes %zu vs %zu\n", name, la, lb);
        }
        free(sa);
        free(sb);
        char xs[256];
        et_array x;
        memset(&x, 0, sizeof x);
        snprintf(xs, sizeof xs, FIX "%s_x.npy", name);
        float *ya = NULL, *yb = NULL;
        size_t ca = 0, cb = 0;
        if (ok && et_npy_read_file(xs, &x, err, sizeof err) == ET_OK && run_nchw(a, &x, &ya, &ca) == ET_OK && run_nchw(b, &x, &yb, &cb) == ET_OK)
            ok = ca == cb && memcmp(ya, yb, ca * sizeof *ya) == 0;
        else ok = 0;
        free(ya);
        free(yb);
        et_array_free(&x);
    } else {
        printf("    %s: %s\n", name, err);
    }
    free(buf);
    et_model_free(a);
    et_model_free(b);
    return ok;
}

static void test_round_trip(void) {
    static const char *const names[] = {"mobilenet_v2", "mobilenet_v3_small", "resnet_small", "flatten_gemm", "shape_flatten",
                                        "pools", "concat", "acts_opset13", "se_mul", "const_ops", "global_pools", "pad_conv"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) CHECKF(round_trip(names[i]), "round trip of %s", names[i]);
}

/* ---- errors: unsupported content and malformed protobuf ---- */

static void test_unsupported_messages(void) {
    et_model *m = NULL;
    char err[2048];
    CHECK_ST(et_onnx_import_file(FIX "bad_many.onnx", NULL, &m, err, sizeof err), ET_ERR_UNSUPPORTED);
    CHECKF(strstr(err, "node 'a' (Elu)") && strstr(err, "not supported") && !strchr(err, '\n'), "%s", err);
    et_onnx_options o;
    memset(&o, 0, sizeof o);
    o.all_errors = 1;
    CHECK_ST(et_onnx_import_file(FIX "bad_many.onnx", &o, &m, err, sizeof err), ET_ERR_UNSUPPORTED);
    CHECKF(strstr(err, "(Elu)") && strstr(err, "node 'b' (Conv): auto_pad 'SAME_WEIRD'") && strstr(err, "node 'c' (Pad): mode 'reflect'"), "%s", err);
    CHECK(m == NULL);
    CHECK_ST(et_onnx_import_file(FIX "bad_fp16.onnx", NULL, &m, err, sizeof err), ET_ERR_UNSUPPORTED);
    CHECKF(strstr(err, "tensor 'W'") && strstr(err, "data type 10"), "%s", err);
    CHECK_ST(et_onnx_import_file(FIX "bad_external.onnx", NULL, &m, err, sizeof err), ET_ERR_UNSUPPORTED);
    CHECKF(strstr(err, "external data"), "%s", err);
    CHECK_ST(et_onnx_import_file(FIX "bad_dynamic.onnx", NULL, &m, err, sizeof err), ET_ERR_UNSUPPORTED);
    CHECK_ST(et_onnx_import_file(FIX "does_not_exist.onnx", NULL, &m, err, sizeof err), ET_ERR_NOT_FOUND);
    /* a directory is refused before its "size" is read (fuzz_cli found a LONG_MAX malloc) */
    CHECK_ST(et_onnx_import_file("tests", NULL, &m, err, sizeof err), ET_ERR_IO);
    CHECKF(strstr(err, "not a regular file"), "%s", err);
}

static uint8_t *read_all(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(n > 0 ? (size_t)n : 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) { free(b); b = NULL; }
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void test_truncated_everywhere(void) {
    size_t len;
    uint8_t *full = read_all(FIX "conv_group_dil.onnx", &len);
    CHECK(full && len > 100);
    char err[512];
    for (size_t n = 0; n < len; n++) {
        /* a fresh exact-size copy so the sanitizer sees any read past the end */
        uint8_t *b = malloc(n ? n : 1);
        CHECK(b);
        memcpy(b, full, n);
        et_model *m = NULL;
        err[0] = '\0';
        et_status st = et_onnx_import_buffer(b, n, NULL, &m, err, sizeof err);
        free(b);
        CHECKF(st != ET_OK && m == NULL && err[0], "truncated at %zu: %s", n, err);
    }
    free(full);
}

static void test_corrupted_bytes(void) {
    size_t len;
    uint8_t *full = read_all(FIX "acts_opset9.onnx", &len);
    CHECK(full);
    static const uint8_t vals[] = {0x00, 0x07, 0x80, 0xff};
    char err[512];
    for (size_t i = 0; i < len; i++)
        for (size_t v = 0; v < sizeof vals; v++) {
            uint8_t *b = malloc(len);
            CHECK(b);
            memcpy(b, full, len);
            b[i] = vals[v];
            et_model *m = NULL;
            et_status st = et_onnx_import_buffer(b, len, NULL, &m, err, sizeof err);
            free(b);
            CHECK((st == ET_OK) == (m != NULL));
            et_model_free(m);
        }
    free(full);
}

typedef struct wbuf { uint8_t d[4096]; size_t n; } wbuf;
static void w_var(wbuf *w, uint64_t v) { do { w->d[w->n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0)); v >>= 7; } while (v); }
static void w_len(wbuf *w, uint32_t field, const wbuf *sub) {
    w_var(w, (uint64_t)field << 3 | 2);
    w_var(w, sub->n);
    memcpy(w->d + w->n, sub->d, sub->n);
    w->n += sub->n;
}

static void expect_format(const uint8_t *b, size_t n, const char *needle) {
    char err[512] = "";
    et_model *m = NULL;
    et_status st = et_onnx_import_buffer(b, n, NULL, &m, err, sizeof err);
    CHECKF(st != ET_OK && m == NULL && strstr(err, needle), "want '%s', got %s: %s", needle, et_status_str(st), err);
}

static void test_malformed_protobuf(void) {
    static const uint8_t past_end[] = {0x3a, 0x05, 0x0a};            /* graph of 5 bytes, 1 present */
    static const uint8_t wrong_wt[] = {0x38, 0x01};                   /* graph as a varint */
    static const uint8_t group[] = {0x0b, 0x0c};                      /* wire type 3 (group) */
    static const uint8_t overlong[] = {0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    static const uint8_t huge_len[] = {0x3a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};
    expect_format(past_end, sizeof past_end, "runs past the end");
    expect_format(wrong_wt, sizeof wrong_wt, "wire type 0, expected 2");
    expect_format(group, sizeof group, "wire type 3");
    expect_format(overlong, sizeof overlong, "truncated varint");
    expect_format(huge_len, sizeof huge_len, "runs past the end");
    expect_format((const uint8_t *)"", 0, "no graph");
    /* absurd dims: an initializer of 2^40 x 2^40 floats */
    wbuf t = {{0}, 0}, g = {{0}, 0}, mo = {{0}, 0}, op = {{0}, 0};
    w_var(&t, 1 << 3); w_var(&t, (uint64_t)1 << 40);
    w_var(&t, 1 << 3); w_var(&t, (uint64_t)1 << 40);
    w_var(&t, 2 << 3); w_var(&t, 1);
    w_var(&t, 8 << 3 | 2); w_var(&t, 1); t.d[t.n++] = 'W';
    w_len(&g, 5, &t);
    w_var(&op, 2 << 3); w_var(&op, 13);
    w_len(&mo, 7, &g);
    w_len(&mo, 8, &op);
    expect_format(mo.d, mo.n, "tensor 'W': dimension 0");
    /* unknown fields nested 1000 deep are skipped without recursion */
    static uint8_t deep[8192];
    size_t n = 0, inner = 0;
    uint8_t *p = deep + sizeof deep;
    for (int lvl = 0; lvl < 1000; lvl++) {
        uint8_t hdr[8];
        size_t h = 0;
        hdr[h++] = 0x9a; hdr[h++] = 0x06; /* field 99, LEN */
        size_t v = inner;
        do { hdr[h++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0)); v >>= 7; } while (v);
        p -= h;
        memcpy(p, hdr, h);
        inner += h;
        n = inner;
    }
    expect_format(p, n, "no graph");
}

static void test_cli(void) {
    /* ET_RUNNER (e.g. qemu-aarch64 under make test-cross) runs cross-built programs */
    const char *b = getenv("ET_BUILD"), *r = getenv("ET_RUNNER");
    char bb[300];
    snprintf(bb, sizeof bb, "%s%s%s", r && *r ? r : "", r && *r ? " " : "", b ? b : "build");
    b = bb;
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s/edgetune convert --check " FIX "bad_many.onnx 2>/dev/null", b);
    int rc = system(cmd);
    CHECK(WIFEXITED(rc) && WEXITSTATUS(rc) == 1);
    snprintf(cmd, sizeof cmd, "%s/edgetune convert --check " FIX "mobilenet_v2.onnx >/dev/null", b);
    rc = system(cmd);
    CHECK(WIFEXITED(rc) && WEXITSTATUS(rc) == 0);
    snprintf(cmd, sizeof cmd, "%s/edgetune convert --bogus 2>/dev/null", b);
    rc = system(cmd);
    CHECK(WIFEXITED(rc) && WEXITSTATUS(rc) == 2);
    snprintf(cmd, sizeof cmd, "%s/edgetune export-onnx --help >/dev/null && %s/edgetune convert --help >/dev/null", b, b);
    rc = system(cmd);
    CHECK(WIFEXITED(rc) && WEXITSTATUS(rc) == 0);
}

static void run_error_tests(void) {
    RUN(test_unsupported_messages);
    RUN(test_truncated_everywhere);
    RUN(test_corrupted_bytes);
    RUN(test_malformed_protobuf);
    RUN(test_cli);
}

int main(void) {
    RUN(test_torchvision_models);
    RUN(test_paddleocr_classifier);
    RUN(test_ops);
    RUN(test_dynamic_input_shape);
    RUN(test_fusion_and_keep_bn);
    RUN(test_metadata);
    RUN(test_round_trip);
    run_error_tests();
    return t_summary("tests/test_onnx.c");
}
