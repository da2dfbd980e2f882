/* Tests for build/edgetune and build/mkmodel, run as programs through the
 * shell (binary dir from ET_BUILD, default "build"; run from the repo root).
 * Outputs are checked against the same model run through the library API. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "edgetune.h"
#include "harness.h"
#include "cli_run.h"


/* Runs a model file through the library: NHWC input of n x h x w, returns
 * the NHWC output (malloc'd) and its shape. */
static et_status lib_run(const char *model_path, const float *x, size_t n, size_t h, size_t w,
                         float **y, et_shape *ys) {
    et_model *m = NULL;
    char err[256];
    et_status st = et_model_load_file(model_path, &m, err, sizeof err);
    if (st != ET_OK) { printf("    load: %s\n", err); return st; }
    et_config cfg = {n, h, w, 1};
    et_plan plan;
    void *arena = NULL;
    et_session *s = NULL;
    et_tensor ti, to;
    *y = NULL;
    if ((st = et_model_plan(m, &cfg, &plan)) == ET_OK && !(arena = malloc(plan.total))) st = ET_ERR_NO_MEMORY;
    if (st == ET_OK) st = et_session_prepare(m, &cfg, arena, plan.total, &s, NULL);
    if (st == ET_OK) st = et_session_input(s, 0, &ti);
    if (st == ET_OK) {
        memcpy(ti.data, x, n * h * w * ti.shape.c * sizeof(float));
        st = et_session_run(s);
    }
    if (st == ET_OK) st = et_session_output(s, 0, &to);
    if (st == ET_OK) {
        size_t cnt = to.shape.n * to.shape.h * to.shape.w * to.shape.c;
        *ys = to.shape;
        if ((*y = malloc(cnt * sizeof(float))) != NULL) memcpy(*y, to.data, cnt * sizeof(float));
        else st = ET_ERR_NO_MEMORY;
    }
    if (st != ET_OK) printf("    library run: %s / %s\n", et_status_str(st), et_model_error(m));
    free(arena);
    et_model_free(m);
    return st;
}

static double max_abs_diff(const float *a, const float *b, size_t n) {
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (d != d) return INFINITY;
        if (d > worst) worst = d;
    }
    return worst;
}

/* NCHW <-> NHWC for one batch of n items. */
static void nchw_to_nhwc(const float *src, size_t n, size_t c, size_t h, size_t w, float *dst) {
    for (size_t b = 0; b < n; b++)
        for (size_t k = 0; k < c; k++)
            for (size_t p = 0; p < h * w; p++) dst[(b * h * w + p) * c + k] = src[(b * c + k) * h * w + p];
}

static void test_help(void) {
    CHECK(sh("edgetune --help") == 0 && has(out_buf, "usage") && has(out_buf, "run"));
    CHECK(sh("edgetune -h") == 0);
    CHECK(sh("edgetune help") == 0 && has(out_buf, "info"));
    CHECK(sh("edgetune --version") == 0 && has(out_buf, ET_VERSION_STRING));
    const char *cmds[] = {"info", "run"};
    for (size_t i = 0; i < 2; i++) {
        CHECKF(sh("edgetune %s --help", cmds[i]) == 0 && has(out_buf, "usage: edgetune"), "%s --help", cmds[i]);
        CHECKF(sh("edgetune help %s", cmds[i]) == 0 && has(out_buf, "usage: edgetune"), "help %s", cmds[i]);
    }
    CHECK(sh("mkmodel --help") == 0 && has(out_buf, "usage: mkmodel"));
}

static void test_usage_errors(void) {
    CHECK(sh("edgetune") == 2);
    CHECK(sh("edgetune frobnicate") == 2 && has(err_buf, "frobnicate"));
    CHECK(sh("edgetune help frobnicate") == 2);
    CHECK(sh("edgetune info") == 2 && has(err_buf, "usage"));
    CHECK(sh("edgetune info m.etm --bogus") == 2);
    CHECK(sh("edgetune info m.etm --batch 0") == 2);
    CHECK(sh("edgetune run m.etm") == 2 && has(err_buf, "--input"));
    CHECK(sh("edgetune run m.etm --input x.npy --top") == 2);
    CHECK(sh("edgetune run m.etm --input x.npy --top 0") == 2);
    CHECK(sh("edgetune run m.etm --input x.npy") == 2);
    CHECK(sh("mkmodel") == 2);
    CHECK(sh("mkmodel resnet9000 out.etm") == 2);
    CHECK(sh("mkmodel input 1,x,3 out.npy") == 2);
    CHECK(sh("mkmodel mobilenet_v2 out.etm --width -1") == 2);
}

static void test_mkmodel_and_info(void) {
    CHECK(sh("mkmodel mobilenet_v2 '%s' --classes 10 --size 32 --width 0.35 --seed 3", path("m.etm")) == 0);
    CHECK(sh("edgetune info '%s'", path("m.etm")) == 0);
    et_model *m = NULL;
    char err[256], want[64];
    CHECK_OK(et_model_load_file(path("m.etm"), &m, err, sizeof err));
    snprintf(want, sizeof want, "layers     %zu\n", et_model_node_count(m));
    et_model_free(m);
    CHECKF(has(out_buf, want), "no '%s' in info output", want);
    CHECK(has(out_buf, "features.18.0") && has(out_buf, "classifier.1") && has(out_buf, "arena"));
    CHECK(has(out_buf, "k3x3 s2 p1 d1 g1"));
    CHECK(sh("edgetune info '%s' --size 48x40 --batch 2", path("m.etm")) == 0);
    CHECK(has(out_buf, "2x24x20x") && has(out_buf, "batch 2, 48x40"));
    /* the unfolded model keeps its batchnorm nodes */
    CHECK(sh("mkmodel mobilenet_v2 '%s' --classes 10 --size 32 --width 0.35 --no-fold", path("bn.etm")) == 0);
    CHECK(sh("edgetune info '%s'", path("bn.etm")) == 0 && has(out_buf, "batchnorm"));
}

/* Runs the CLI on x.npy and the library on the same data; compares. */
static void check_run(const char *model, const char *x_name, size_t n, size_t h, size_t w, const char *extra) {
    CHECK(sh("edgetune run '%s' --input '%s' --output '%s' %s", model, path(x_name), path("y.npy"), extra) == 0);
    et_array x, y;
    char err[256];
    CHECK_OK(et_npy_read_file(path(x_name), &x, err, sizeof err));
    float *ref = NULL;
    et_shape rs;
    et_status st = lib_run(model, x.data, n, h, w, &ref, &rs);
    et_array_free(&x);
    CHECK_OK(st);
    st = et_npy_read_file(path("y.npy"), &y, err, sizeof err);
    int shape_ok = st == ET_OK && y.ndim == 2 && y.dims[0] == n && y.dims[1] == rs.c && rs.h == 1 && rs.w == 1;
    double d = shape_ok ? max_abs_diff(y.data, ref, y.count) : INFINITY;
    free(ref);
    et_array_free(&y);
    CHECK_OK(st);
    CHECK(shape_ok);
    CHECKF(d <= 1e-6, "max difference %g", d);
}

static void test_run_matches_library(void) {
    CHECK(sh("mkmodel input 3,32,32,3 '%s' --seed 5", path("x.npy")) == 0);
    check_run(path("m.etm"), "x.npy", 3, 32, 32, "");
    check_run(path("m.etm"), "x.npy", 3, 32, 32, "--batch-size 2");
    check_run(path("m.etm"), "x.npy", 3, 32, 32, "--batch-size 1 --threads 2");
}

static void test_run_3d_input_other_size(void) {
    CHECK(sh("mkmodel input 40,48,3 '%s'", path("x3.npy")) == 0);
    check_run(path("m.etm"), "x3.npy", 1, 40, 48, "");
}

static void test_run_nchw_model(void) {
    /* a copy of m.etm whose users feed NCHW */
    et_model *m = NULL;
    char err[256];
    CHECK_OK(et_model_load_file(path("m.etm"), &m, err, sizeof err));
    et_metadata md;
    et_status st = et_model_metadata(m, &md);
    md.source_layout = ET_LAYOUT_NCHW;
    if (st == ET_OK) st = et_model_set_metadata(m, &md);
    if (st == ET_OK) st = et_model_save_file(m, path("nchw.etm"));
    et_model_free(m);
    CHECK_OK(st);

    size_t n = 2, c = 3, h = 32, w = 32, cnt = n * c * h * w;
    float *xc = malloc(cnt * sizeof *xc), *xh = malloc(cnt * sizeof *xh);
    CHECK(xc && xh);
    t_fill(xc, cnt, 77);
    nchw_to_nhwc(xc, n, c, h, w, xh);
    size_t dims[4] = {n, c, h, w};
    st = et_npy_write_file(path("xc.npy"), xc, dims, 4);
    free(xc);
    float *ref = NULL;
    et_shape rs;
    if (st == ET_OK) st = lib_run(path("m.etm"), xh, n, h, w, &ref, &rs);
    free(xh);
    CHECK_OK(st);
    int rc = sh("edgetune run '%s' --input '%s' --output '%s'", path("nchw.etm"), path("xc.npy"), path("yc.npy"));
    et_array y;
    st = et_npy_read_file(path("yc.npy"), &y, err, sizeof err);
    int ok = rc == 0 && st == ET_OK && y.ndim == 2 && y.dims[0] == n && y.dims[1] == rs.c;
    double d = ok ? max_abs_diff(y.data, ref, y.count) : INFINITY;
    free(ref);
    et_array_free(&y);
    CHECKF(ok, "rc %d, %s", rc, err_buf);
    CHECKF(d <= 1e-6, "max difference %g", d);
    /* NHWC data given to an NCHW model has the wrong channel axis */
    CHECK(sh("edgetune run '%s' --input '%s' --output '%s'", path("nchw.etm"), path("x.npy"), path("yc.npy")) == 1);
    CHECK(has(err_buf, "channels"));
}

/* A spatial output from an NCHW model comes back as N, C, H, W. */
static void test_run_nchw_spatial_output(void) {
    et_builder *b = NULL;
    et_model *m = NULL;
    float wgt[5 * 3 * 3 * 3], bias[5];
    t_fill(wgt, sizeof wgt / sizeof wgt[0], 9);
    t_fill(bias, 5, 10);
    et_conv2d_desc d;
    memset(&d, 0, sizeof d);
    d.out_channels = 5;
    d.kh = d.kw = 3;
    d.pad_t = d.pad_l = d.pad_b = d.pad_r = 1;
    d.act = et_act_relu();
    int v = 0;
    et_status st = et_builder_new(3, 6, 7, &b);
    if (st == ET_OK) st = et_builder_conv2d(b, "conv", 0, &d, wgt, bias, &v);
    if (st == ET_OK) st = et_builder_output(b, v);
    if (st == ET_OK) st = et_builder_finish(b, &m);
    if (b) et_builder_free(b);
    CHECK_OK(st);
    et_metadata md;
    st = et_model_metadata(m, &md);
    md.source_layout = ET_LAYOUT_NCHW;
    if (st == ET_OK) st = et_model_set_metadata(m, &md);
    if (st == ET_OK) st = et_model_save_file(m, path("conv.etm"));
    et_model_free(m);
    CHECK_OK(st);

    size_t c = 3, h = 6, w = 7;
    float xc[3 * 6 * 7], xh[3 * 6 * 7];
    t_fill(xc, c * h * w, 12);
    nchw_to_nhwc(xc, 1, c, h, w, xh);
    size_t dims[3] = {c, h, w};
    CHECK_OK(et_npy_write_file(path("xs.npy"), xc, dims, 3));
    CHECK(sh("edgetune run '%s' --input '%s' --output '%s'", path("conv.etm"), path("xs.npy"), path("ys.npy")) == 0);
    float *ref = NULL;
    et_shape rs;
    CHECK_OK(lib_run(path("conv.etm"), xh, 1, h, w, &ref, &rs));
    float want[5 * 6 * 7];
    for (size_t k = 0; k < 5; k++)
        for (size_t p = 0; p < h * w; p++) want[k * h * w + p] = ref[p * 5 + k];
    free(ref);
    et_array y;
    char err[256];
    CHECK_OK(et_npy_read_file(path("ys.npy"), &y, err, sizeof err));
    int ok = y.ndim == 4 && y.dims[0] == 1 && y.dims[1] == 5 && y.dims[2] == 6 && y.dims[3] == 7;
    double diff = ok ? max_abs_diff(y.data, want, y.count) : INFINITY;
    et_array_free(&y);
    CHECK(ok);
    CHECKF(diff <= 1e-6, "max difference %g", diff);
}

static void test_run_top_with_labels(void) {
    et_model *m = NULL;
    char err[256];
    CHECK_OK(et_model_load_file(path("m.etm"), &m, err, sizeof err));
    static const char *labels[10] = {"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"};
    et_metadata md;
    et_status st = et_model_metadata(m, &md);
    md.label_count = 10;
    md.labels = labels;
    if (st == ET_OK) st = et_model_set_metadata(m, &md);
    if (st == ET_OK) st = et_model_save_file(m, path("lab.etm"));
    et_model_free(m);
    CHECK_OK(st);
    CHECK(sh("edgetune run '%s' --input '%s' --top 3", path("lab.etm"), path("x.npy")) == 0);
    /* the printed top-1 of item 0 is the library's argmax */
    et_array x;
    CHECK_OK(et_npy_read_file(path("x.npy"), &x, err, sizeof err));
    float *ref = NULL;
    et_shape rs;
    st = lib_run(path("m.etm"), x.data, 3, 32, 32, &ref, &rs);
    et_array_free(&x);
    CHECK_OK(st);
    size_t best = 0;
    for (size_t i = 1; i < rs.c; i++) if (ref[i] > ref[best]) best = i;
    free(ref);
    char want[64];
    snprintf(want, sizeof want, "1. class %-6zu", best);
    const char *item0 = strstr(out_buf, "item 0"), *item1 = strstr(out_buf, "item 1");
    CHECK(item0 && item1 && strstr(out_buf, "item 2"));
    const char *hit = strstr(item0, want);
    CHECKF(hit && hit < item1, "no '%s' in: %s", want, out_buf);
    CHECK(has(hit, labels[best]));
    CHECK(has(out_buf, "3. class"));
}

static void test_run_missing_input(void) {
    const char *missing = path("does_not_exist.npy");
    CHECK(sh("edgetune run '%s' --input '%s' --output '%s'", path("m.etm"), missing, path("y.npy")) == 1);
    CHECKF(has(err_buf, missing), "stderr: %s", err_buf);
    CHECK(sh("edgetune run '%s' --input '%s' --output '%s'", path("nope.etm"), path("x.npy"), path("y.npy")) == 1);
    CHECK(has(err_buf, "nope.etm"));
    CHECK(sh("edgetune info '%s'", path("nope.etm")) == 1 && has(err_buf, "nope.etm"));
    /* a .npy given as the model, and a model given as the input */
    CHECK(sh("edgetune info '%s'", path("x.npy")) == 1);
    CHECK(sh("edgetune run '%s' --input '%s' --output '%s'", path("m.etm"), path("m.etm"), path("y.npy")) == 1);
    CHECK(has(err_buf, "m.etm") && has(err_buf, "byte"));
}

static void test_run_wrong_shape(void) {
    CHECK(sh("mkmodel input 1,32,32,4 '%s'", path("x4.npy")) == 0);
    CHECK(sh("edgetune run '%s' --input '%s' --output '%s'", path("m.etm"), path("x4.npy"), path("y.npy")) == 1);
    CHECKF(has(err_buf, "x4.npy") && has(err_buf, "4 channels"), "stderr: %s", err_buf);
    CHECK(sh("mkmodel input 32,3 '%s'", path("x2.npy")) == 0);
    CHECK(sh("edgetune run '%s' --input '%s' --output '%s'", path("m.etm"), path("x2.npy"), path("y.npy")) == 1);
    CHECK(has(err_buf, "x2.npy"));
}

/* bench --train is a program, not a timed test: here only that every
 * configuration runs and reports a rate (tiny size, few steps). */
static void test_bench_train_configs(void) {
    CHECK(sh("edgetune bench --train --size 32x32 --batch 2 --repeats 2 --json") == 0);
    const char *cfgs[] = {"\"head\"", "\"last3\"", "\"all\"", "\"cached\""};
    for (int k = 0; k < 4; k++) {
        const char *at = strstr(out_buf, cfgs[k]), *ips = at ? strstr(at, "\"images_per_s\": ") : NULL;
        CHECKF(ips && atof(ips + strlen("\"images_per_s\": ")) > 0.0, "%s missing: %s", cfgs[k], out_buf);
    }
    CHECK(sh("edgetune bench --train --config nosuch") == 1 && has(err_buf, "cached"));
}

int main(void) {
    if (cli_setup("cli") != 0) return 1;
    RUN(test_help);
    RUN(test_usage_errors);
    RUN(test_mkmodel_and_info);
    RUN(test_run_matches_library);
    RUN(test_run_3d_input_other_size);
    RUN(test_run_nchw_model);
    RUN(test_run_nchw_spatial_output);
    RUN(test_run_top_with_labels);
    RUN(test_run_missing_input);
    RUN(test_run_wrong_shape);
    RUN(test_bench_train_configs);
    cli_cleanup();
    return t_summary(__FILE__);
}
