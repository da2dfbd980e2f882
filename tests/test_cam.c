/* Class activation maps: CAM and Grad-CAM on tiny built models against maps
 * computed by hand here (which checks the backward path), the map helpers
 * (upsample, colours, overlay, image writing), `edgetune cam` on the bundled
 * model and a held-out image, and the error cases. Run from the repo root;
 * the CLI comes from $ET_BUILD (default build). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include "edgetune.h"
#include "harness.h"
#include "cli_run.h"

static char err[512];

/* Min-max normalisation as the library documents it (constant -> zeros). */
static void norm01(const double *raw, size_t n, float *out) {
    double lo = raw[0], hi = raw[0];
    for (size_t i = 1; i < n; i++) { lo = raw[i] < lo ? raw[i] : lo; hi = raw[i] > hi ? raw[i] : hi; }
    for (size_t i = 0; i < n; i++) out[i] = hi > lo ? (float)((raw[i] - lo) / (hi - lo)) : 0.0f;
}

static double max_diff(const float *a, const float *b, size_t n) {
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (d != d) return INFINITY;
        worst = d > worst ? d : worst;
    }
    return worst;
}

/* ---- model 1: conv3x3(2->3, bias) -> BN -> ReLU -> GAP -> dropout -> flatten -> linear(3->4) -> softmax */
enum { H1 = 5, W1 = 5, C1 = 2, F1 = 3, K1 = 4 };
static float cw1[F1 * 9 * C1], cb1[F1], g1[F1], be1[F1], mu1[F1], var1[F1], lw1[K1 * F1], lb1[K1];

static et_model *gap_model(void) {
    t_fill(cw1, sizeof cw1 / sizeof *cw1, 11); t_fill(cb1, F1, 12); t_fill(g1, F1, 13); t_fill(be1, F1, 14);
    t_fill(mu1, F1, 15); t_fill(var1, F1, 16); t_fill(lw1, K1 * F1, 17); t_fill(lb1, K1, 18);
    for (int c = 0; c < F1; c++) { g1[c] += 1.5f; var1[c] = var1[c] * var1[c] + 0.5f; be1[c] += 0.5f; }
    et_builder *b;
    if (et_builder_new(C1, H1, W1, &b) != ET_OK) return NULL;
    et_conv2d_desc cd = {F1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, et_act_none()};
    int v[8], ok = 1;
    ok &= et_builder_conv2d(b, "conv", 0, &cd, cw1, cb1, &v[0]) == ET_OK;
    ok &= et_builder_batchnorm(b, "bn", v[0], 1e-5f, g1, be1, mu1, var1, &v[1]) == ET_OK;
    ok &= et_builder_act(b, "relu", v[1], et_act_relu(), &v[2]) == ET_OK;
    ok &= et_builder_global_avgpool(b, "gap", v[2], &v[3]) == ET_OK;
    ok &= et_builder_dropout(b, "drop", v[3], 0.5f, &v[4]) == ET_OK;
    ok &= et_builder_flatten(b, "flat", v[4], &v[5]) == ET_OK;
    ok &= et_builder_linear(b, "fc", v[5], K1, lw1, lb1, et_act_none(), &v[6]) == ET_OK;
    ok &= et_builder_softmax(b, "prob", v[6], &v[7]) == ET_OK;
    et_model *m = NULL;
    if (ok) et_builder_finish(b, &m);
    et_builder_free(b);
    return m;
}

/* The feature map of model 1 by hand: [H1][W1][F1]. */
static void gap_features(const float *x, double *f) {
    for (int y = 0; y < H1; y++)
        for (int xx = 0; xx < W1; xx++)
            for (int o = 0; o < F1; o++) {
                double s = cb1[o];
                for (int ky = 0; ky < 3; ky++)
                    for (int kx = 0; kx < 3; kx++) {
                        int iy = y + ky - 1, ix = xx + kx - 1;
                        if (iy < 0 || ix < 0 || iy >= H1 || ix >= W1) continue;
                        for (int c = 0; c < C1; c++)
                            s += (double)cw1[((o * 3 + ky) * 3 + kx) * C1 + c] * x[(iy * W1 + ix) * C1 + c];
                    }
                s = g1[o] * (s - mu1[o]) / sqrt((double)var1[o] + 1e-5) + be1[o];
                f[(y * W1 + xx) * F1 + o] = s > 0.0 ? s : 0.0;
            }
}

static void test_cam_equals_hand_sum(void) {
    et_model *m = gap_model();
    CHECK(m != NULL);
    float x[H1 * W1 * C1], map[H1 * W1], want[H1 * W1];
    double f[H1 * W1 * F1], raw[H1 * W1], logit[K1];
    t_fill(x, H1 * W1 * C1, 19);
    gap_features(x, f);
    int top = 0;
    for (int k = 0; k < K1; k++) {
        logit[k] = lb1[k];
        for (int c = 0; c < F1; c++) {
            double mean = 0.0;
            for (int p = 0; p < H1 * W1; p++) mean += f[p * F1 + c] / (H1 * W1);
            logit[k] += lw1[k * F1 + c] * mean;
        }
        if (logit[k] > logit[top]) top = k;
    }
    et_cam_info info;
    CHECK_OK(et_model_cam_info(m, NULL, &info, err, sizeof err));
    CHECK(info.height == H1 && info.width == W1 && info.channels == F1 && info.classes == K1);
    CHECK(info.method == ET_CAM_CAM && info.feature_node == 2 && info.linear_node == 6);
    for (int k = -1; k < K1; k++) {
        int kk = k < 0 ? top : k;
        for (int p = 0; p < H1 * W1; p++) {
            raw[p] = 0.0;
            for (int c = 0; c < F1; c++) raw[p] += lw1[kk * F1 + c] * f[p * F1 + c];
        }
        norm01(raw, H1 * W1, want);
        et_cam_result r;
        CHECK_OK(et_model_cam(m, NULL, x, k, map, H1 * W1, &r, err, sizeof err));
        CHECK(r.method == ET_CAM_CAM && r.class_id == (size_t)kk && r.top_class == (size_t)top && !r.constant);
        CHECK(r.height == H1 && r.width == W1);
        CHECKF(fabs(r.logit - logit[kk]) < 1e-5, "logit %g, want %g", (double)r.logit, logit[kk]);
        double z = 0.0;
        for (int j = 0; j < K1; j++) z += exp(logit[j] - logit[kk]);
        CHECKF(fabs(r.prob - 1.0 / z) < 1e-5, "prob %g, want %g", (double)r.prob, 1.0 / z);
        CHECKF(max_diff(map, want, H1 * W1) < 1e-5, "class %d: CAM differs by %g", kk, max_diff(map, want, H1 * W1));
        /* Grad-CAM on the same head: alpha_c = W[k][c] / (H*W), so it is
         * ReLU of the CAM sum, scaled; both normalised they agree */
        et_cam_options go = {0, 0, ET_CAM_GRADCAM};
        for (int p = 0; p < H1 * W1; p++) raw[p] = raw[p] > 0.0 ? raw[p] : 0.0;
        norm01(raw, H1 * W1, want);
        CHECK_OK(et_model_cam(m, &go, x, k, map, H1 * W1, &r, err, sizeof err));
        CHECK(r.method == ET_CAM_GRADCAM && r.class_id == (size_t)kk);
        CHECKF(max_diff(map, want, H1 * W1) < 1e-5, "class %d: Grad-CAM differs by %g", kk, max_diff(map, want, H1 * W1));
    }
    et_model_free(m);
}

static void test_constant_map(void) {
    et_model *m = gap_model();
    CHECK(m != NULL);
    float x[H1 * W1 * C1] = {0}, map[H1 * W1];
    et_cam_result r;
    /* a zero image: every position of the feature map is the same (bias only) */
    CHECK_OK(et_model_cam(m, NULL, x, 0, map, H1 * W1, &r, err, sizeof err));
    CHECK(r.constant == 1);
    for (int p = 0; p < H1 * W1; p++) CHECK(map[p] == 0.0f);
    et_model_free(m);
}

/* ---- model 2: conv1x1(2->3, ReLU) -> flatten -> linear(36->5, ReLU) -> linear(5->3): no GAP */
enum { H2 = 3, W2 = 4, C2 = 2, F2 = 3, J2 = 5, K2 = 3, N2 = H2 * W2 * F2 };
static float cw2[F2 * C2], cb2[F2], aw2[J2 * N2], ab2[J2], bw2[K2 * J2], bb2[K2];

static et_model *flat_model(void) {
    t_fill(cw2, F2 * C2, 21); t_fill(cb2, F2, 22); t_fill(aw2, J2 * N2, 23); t_fill(ab2, J2, 24);
    t_fill(bw2, K2 * J2, 25); t_fill(bb2, K2, 26);
    for (int j = 0; j < J2; j++) ab2[j] += 0.3f;
    et_builder *b;
    if (et_builder_new(C2, H2, W2, &b) != ET_OK) return NULL;
    et_conv2d_desc cd = {F2, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, et_act_relu()};
    int v[4], ok = 1;
    ok &= et_builder_conv2d(b, "conv", 0, &cd, cw2, cb2, &v[0]) == ET_OK;
    ok &= et_builder_flatten(b, "flat", v[0], &v[1]) == ET_OK;
    ok &= et_builder_linear(b, "hidden", v[1], J2, aw2, ab2, et_act_relu(), &v[2]) == ET_OK;
    ok &= et_builder_linear(b, "out", v[2], K2, bw2, bb2, et_act_none(), &v[3]) == ET_OK;
    et_model *m = NULL;
    if (ok) et_builder_finish(b, &m);
    et_builder_free(b);
    return m;
}

static void test_gradcam_without_gap(void) {
    et_model *m = flat_model();
    CHECK(m != NULL);
    float x[H2 * W2 * C2], map[H2 * W2], want[H2 * W2];
    double f[N2], h[J2], d[N2], raw[H2 * W2], alpha[F2];
    t_fill(x, H2 * W2 * C2, 27);
    for (int p = 0; p < H2 * W2; p++)
        for (int o = 0; o < F2; o++) {
            double s = cb2[o];
            for (int c = 0; c < C2; c++) s += (double)cw2[o * C2 + c] * x[p * C2 + c];
            f[p * F2 + o] = s > 0.0 ? s : 0.0;
        }
    for (int j = 0; j < J2; j++) {
        h[j] = ab2[j];
        for (int i = 0; i < N2; i++) h[j] += (double)aw2[j * N2 + i] * f[i];
    }
    et_cam_info info;
    CHECK_OK(et_model_cam_info(m, NULL, &info, err, sizeof err));
    CHECK(info.method == ET_CAM_GRADCAM && info.height == H2 && info.width == W2 && info.channels == F2);
    CHECK(info.feature_node == 0 && info.linear_node == (size_t)-1 && info.classes == K2);
    int nonconstant = 0;
    for (int k = 0; k < K2; k++) {
        /* d score_k / d f by the chain rule through the hidden ReLU layer */
        for (int i = 0; i < N2; i++) {
            d[i] = 0.0;
            for (int j = 0; j < J2; j++)
                if (h[j] > 0.0) d[i] += (double)bw2[k * J2 + j] * aw2[j * N2 + i];
        }
        for (int c = 0; c < F2; c++) {
            alpha[c] = 0.0;
            for (int p = 0; p < H2 * W2; p++) alpha[c] += d[p * F2 + c] / (H2 * W2);
        }
        for (int p = 0; p < H2 * W2; p++) {
            double s = 0.0;
            for (int c = 0; c < F2; c++) s += alpha[c] * f[p * F2 + c];
            raw[p] = s > 0.0 ? s : 0.0;
        }
        norm01(raw, H2 * W2, want);
        et_cam_result r;
        CHECK_OK(et_model_cam(m, NULL, x, k, map, H2 * W2, &r, err, sizeof err));
        CHECK(r.method == ET_CAM_GRADCAM && r.class_id == (size_t)k);
        CHECKF(max_diff(map, want, H2 * W2) < 1e-5, "class %d: Grad-CAM differs by %g", k, max_diff(map, want, H2 * W2));
        nonconstant += !r.constant;
    }
    CHECK(nonconstant > 0);
    /* CAM is refused for this head, with a reason */
    et_cam_options co = {0, 0, ET_CAM_CAM};
    CHECK_ST(et_model_cam(m, &co, x, 0, map, H2 * W2, NULL, err, sizeof err), ET_ERR_UNSUPPORTED);
    CHECK(has(err, "global average pool") && has(err, "Grad-CAM"));
    et_model_free(m);
}

/* ---- errors */
static void test_library_errors(void) {
    et_model *m = gap_model();
    CHECK(m != NULL);
    float x[H1 * W1 * C1], map[H1 * W1];
    t_fill(x, H1 * W1 * C1, 3);
    et_cam_result r;
    CHECK_ST(et_model_cam(m, NULL, x, K1, map, H1 * W1, &r, err, sizeof err), ET_ERR_INVALID_ARG);
    CHECK(has(err, "class 4") && has(err, "0..3") && r.height == 0);
    CHECK_ST(et_model_cam(m, NULL, x, -2, map, H1 * W1, &r, err, sizeof err), ET_ERR_INVALID_ARG);
    CHECK_ST(et_model_cam(m, NULL, x, 0, map, H1 * W1 - 1, &r, err, sizeof err), ET_ERR_INVALID_ARG);
    CHECK(has(err, "5x5"));
    CHECK_ST(et_model_cam(m, NULL, NULL, 0, map, H1 * W1, &r, err, sizeof err), ET_ERR_INVALID_ARG);
    CHECK_ST(et_model_cam(NULL, NULL, x, 0, map, H1 * W1, &r, err, sizeof err), ET_ERR_INVALID_ARG);
    CHECK_ST(et_model_cam(m, NULL, x, 0, NULL, H1 * W1, &r, NULL, 0), ET_ERR_INVALID_ARG);
    et_cam_options bad = {0, 0, (et_cam_method)7};
    CHECK_ST(et_model_cam(m, &bad, x, 0, map, H1 * W1, &r, err, sizeof err), ET_ERR_INVALID_ARG);
    et_cam_options tiny = {1, 1, ET_CAM_AUTO}; /* at 1x1 the feature map is 1x1 too */
    CHECK_ST(et_model_cam_info(m, &tiny, NULL, err, sizeof err), ET_ERR_INVALID_ARG);
    et_cam_info info;
    CHECK_ST(et_model_cam_info(m, &tiny, &info, err, sizeof err), ET_ERR_UNSUPPORTED);
    CHECK(has(err, "no spatial feature map"));
    et_model_free(m);

    /* GAP straight on the input: the only spatial value is the input itself */
    et_builder *b;
    CHECK_OK(et_builder_new(1, 4, 4, &b));
    float w[3] = {1, 2, 3};
    int g, l, ok = et_builder_global_avgpool(b, "gap", 0, &g) == ET_OK &&
                   et_builder_linear(b, "fc", g, 3, w, NULL, et_act_none(), &l) == ET_OK &&
                   et_builder_finish(b, &m) == ET_OK;
    et_builder_free(b);
    CHECK(ok);
    CHECK_ST(et_model_cam_info(m, NULL, &info, err, sizeof err), ET_ERR_UNSUPPORTED);
    CHECK(has(err, "no spatial feature map") && has(err, "'fc'"));
    CHECK_OK(et_model_save_file(m, path("flatmap.etm")));
    et_model_free(m);

    /* the feature map comes before any layer with weights: no gradient reaches it */
    CHECK_OK(et_builder_new(2, 4, 4, &b));
    et_pool_desc pd = {2, 2, 0, 0, 0, 0, 0, 0, 0, 0};
    float w2[3 * 8];
    t_fill(w2, 24, 5);
    int p, fl;
    ok = et_builder_maxpool(b, "pool", 0, &pd, &p) == ET_OK && et_builder_flatten(b, "flat", p, &fl) == ET_OK &&
         et_builder_linear(b, "fc", fl, 3, w2, NULL, et_act_none(), &l) == ET_OK && et_builder_finish(b, &m) == ET_OK;
    et_builder_free(b);
    CHECK(ok);
    float x2[32], map2[4];
    t_fill(x2, 32, 6);
    CHECK_ST(et_model_cam(m, NULL, x2, -1, map2, 4, &r, err, sizeof err), ET_ERR_UNSUPPORTED);
    CHECK(has(err, "no gradient reaches") && has(err, "'pool'"));
    et_model_free(m);
}

/* ---- helpers: upsample, colours, overlay, image files */
static void test_upsample_color_overlay(void) {
    float row[2] = {0.0f, 1.0f}, out[4], want[4] = {0.0f, 0.25f, 0.75f, 1.0f};
    CHECK_OK(et_cam_upsample(row, 1, 2, out, 1, 4));
    CHECKF(max_diff(out, want, 4) < 1e-6, "upsample %g %g %g %g", (double)out[0], (double)out[1], (double)out[2], (double)out[3]);
    float sq[4] = {0.1f, 0.2f, 0.3f, 0.4f}, same[4];
    CHECK_OK(et_cam_upsample(sq, 2, 2, same, 2, 2));
    CHECK(max_diff(sq, same, 4) < 1e-7);
    CHECK_ST(et_cam_upsample(sq, 0, 2, same, 2, 2), ET_ERR_INVALID_ARG);
    uint8_t c[3];
    et_cam_color(0.0f, c);
    CHECK(c[0] == 0 && c[1] == 0 && c[2] == 128);
    et_cam_color(1.0f, c);
    CHECK(c[0] == 128 && c[1] == 0 && c[2] == 0);
    et_cam_color(0.5f, c);
    CHECK(c[0] == 128 && c[1] == 255 && c[2] == 128);
    et_cam_color(NAN, c);
    CHECK(c[2] == 128 && c[0] == 0);
    et_cam_color(7.0f, c);
    CHECK(c[0] == 128);

    uint8_t px[4] = {0, 100, 200, 255};
    et_image grey = {2, 2, 1, px}, o;
    float heat[4] = {0.0f, 0.25f, 0.5f, 1.0f};
    CHECK_OK(et_cam_overlay(&grey, heat, 0.0f, &o));
    CHECK(o.channels == 3 && o.height == 2 && o.width == 2);
    for (int i = 0; i < 4; i++) CHECK(o.data[3 * i] == px[i] && o.data[3 * i + 1] == px[i] && o.data[3 * i + 2] == px[i]);
    et_image_free(&o);
    CHECK_OK(et_cam_overlay(&grey, heat, 1.0f, &o));
    for (int i = 0; i < 4; i++) {
        et_cam_color(heat[i], c);
        CHECK(memcmp(o.data + 3 * i, c, 3) == 0);
    }
    et_image_free(&o);
    CHECK_ST(et_cam_overlay(&grey, heat, 1.5f, &o), ET_ERR_INVALID_ARG);
    CHECK(o.data == NULL);
    CHECK_ST(et_cam_overlay(&grey, NULL, 0.5f, &o), ET_ERR_INVALID_ARG);
}

static int png_built(void) {
    uint8_t px[3] = {1, 2, 3};
    et_image img = {1, 1, 3, px};
    return et_image_write_file(path("probe.png"), &img, err, sizeof err) == ET_OK;
}

static void test_image_write(void) {
    uint8_t rgb[2 * 3 * 3], g[6];
    for (int i = 0; i < 18; i++) rgb[i] = (uint8_t)(i * 13);
    for (int i = 0; i < 6; i++) g[i] = (uint8_t)(i * 40);
    et_image a = {2, 3, 3, rgb}, b = {2, 3, 1, g}, back;
    const char *names[] = {"a.ppm", "a.PNG"};
    for (int k = 0; k < 2; k++) {
        if (k == 1 && !png_built()) {
            CHECK_ST(et_image_write_file(path("a.png"), &a, err, sizeof err), ET_ERR_UNSUPPORTED);
            CHECK(has(err, "a.png") && has(err, "PNG"));
            continue;
        }
        CHECK_OK(et_image_write_file(path(names[k]), &a, err, sizeof err));
        CHECK_OK(et_image_read_file(path(names[k]), 0, &back, err, sizeof err));
        CHECK(back.height == 2 && back.width == 3 && back.channels == 3 && memcmp(back.data, rgb, 18) == 0);
        et_image_free(&back);
    }
    CHECK_OK(et_image_write_file(path("g.pgm"), &b, err, sizeof err));
    CHECK_OK(et_image_read_file(path("g.pgm"), 0, &back, err, sizeof err));
    CHECK(back.channels == 1 && memcmp(back.data, g, 6) == 0);
    et_image_free(&back);
    CHECK_OK(et_image_write_file(path("g.ppm"), &b, err, sizeof err)); /* grey is replicated */
    CHECK_OK(et_image_read_file(path("g.ppm"), 0, &back, err, sizeof err));
    CHECK(back.channels == 3 && back.data[3] == g[1] && back.data[4] == g[1] && back.data[5] == g[1]);
    et_image_free(&back);
    CHECK_ST(et_image_write_file(path("a.pgm"), &a, err, sizeof err), ET_ERR_INVALID_ARG);
    CHECK(has(err, "a.pgm") && has(err, "3 channels"));
    CHECK_ST(et_image_write_file(path("a.jpg"), &a, err, sizeof err), ET_ERR_INVALID_ARG);
    CHECK(has(err, "'.jpg'"));
    CHECK_ST(et_image_write_file(path("noext"), &a, err, sizeof err), ET_ERR_INVALID_ARG);
    CHECK_ST(et_image_write_file("/nonexistent-dir/x.ppm", &a, err, sizeof err), ET_ERR_IO);
    CHECK(has(err, "/nonexistent-dir/x.ppm"));
    et_image two = {2, 3, 2, rgb};
    CHECK_ST(et_image_write_file(path("two.ppm"), &two, err, sizeof err), ET_ERR_UNSUPPORTED);
    CHECK_ST(et_image_write_file(NULL, &a, err, sizeof err), ET_ERR_INVALID_ARG);
}

/* ---- the CLI on the bundled model and a held-out image */
#define BUNDLED "models/fmnist5_mbv2.etm"
#define HOLDOUT "models/data/fmnist_holdout/valid/bag/0000.pgm"

static void check_overlay_file(const char *file, const et_image *orig) {
    et_image o;
    CHECK_OK(et_image_read_file(file, 0, &o, err, sizeof err));
    int same_size = o.height == orig->height && o.width == orig->width && o.channels == 3 && orig->channels == 1;
    size_t differ = 0, px = o.height * o.width;
    for (size_t i = 0; same_size && i < px; i++) differ += o.data[3 * i] != orig->data[i] || o.data[3 * i + 2] != orig->data[i];
    et_image_free(&o);
    CHECKF(same_size, "%s: wrong size or channels", file);
    CHECKF(differ > px / 2, "%s: only %zu of %zu pixels differ from the image", file, differ, px);
}

static void test_cli_bundled(void) {
    et_image orig;
    CHECK_OK(et_image_read_file(HOLDOUT, 0, &orig, err, sizeof err));
    int rc = et_cli("cam " BUNDLED " " HOLDOUT " -o '%s' --map '%s'", path("bag.ppm"), path("bag_map.npy"));
    CHECKF(rc == 0, "exit %d: %s", rc, err_buf);
    CHECK(has(out_buf, "probability") && has(out_buf, "method: CAM") && has(out_buf, "wrote") && has(out_buf, "bag.ppm"));
    CHECK(has(out_buf, "(top class)") && has(out_buf, "(28x28)"));
    check_overlay_file(path("bag.ppm"), &orig);
    if (t_cur_failed) { et_image_free(&orig); return; }
    et_array map;
    CHECK_OK(et_npy_read_file(path("bag_map.npy"), &map, err, sizeof err));
    int shape = map.ndim == 2 && map.dims[0] == 7 && map.dims[1] == 7;
    double lo = 1e9, hi = -1e9, mean = 0.0, var = 0.0;
    for (size_t i = 0; i < map.count; i++) { lo = fmin(lo, map.data[i]); hi = fmax(hi, map.data[i]); mean += map.data[i] / (double)map.count; }
    for (size_t i = 0; i < map.count; i++) var += (map.data[i] - mean) * (map.data[i] - mean) / (double)map.count;
    /* the same map through the library, preprocessing as documented */
    et_model *m = NULL;
    float x[28 * 28], lib[49];
    int lib_ok = 0;
    if (et_model_load_file(BUNDLED, &m, err, sizeof err) == ET_OK) {
        et_metadata md;
        et_batch_config bc;
        et_batch_config_default(&bc);
        bc.height = bc.width = 28;
        bc.center_crop = 0;
        et_model_metadata(m, &md);
        bc.norm_channels = md.norm_channels;
        memcpy(bc.mean, md.mean, sizeof bc.mean);
        memcpy(bc.std, md.std, sizeof bc.std);
        lib_ok = et_image_preprocess(&orig, &bc, 0, 0, x) == ET_OK && et_model_cam(m, NULL, x, -1, lib, 49, NULL, err, sizeof err) == ET_OK;
    }
    double d = shape && lib_ok ? max_diff(map.data, lib, 49) : INFINITY;
    et_model_free(m);
    et_array_free(&map);
    et_image_free(&orig);
    CHECK(shape);
    CHECKF(lo >= 0.0 && hi <= 1.0 && hi > lo, "map range [%g, %g]", lo, hi);
    CHECKF(sqrt(var) > 0.05, "map std %g", sqrt(var));
    CHECKF(d < 1e-6, "CLI map differs from the library's by %g", d);
}

static void test_cli_png_and_options(void) {
    et_image orig;
    CHECK_OK(et_image_read_file(HOLDOUT, 0, &orig, err, sizeof err));
    if (png_built()) {
        int rc = et_cli("cam " BUNDLED " " HOLDOUT " -o '%s' --class 1 --alpha 0.8 --method grad-cam", path("bag.png"));
        CHECKF(rc == 0, "exit %d: %s", rc, err_buf);
        CHECK(has(out_buf, "class 1 (Trouser)") && has(out_buf, "Grad-CAM") && !has(out_buf, "(top class)"));
        check_overlay_file(path("bag.png"), &orig);
    } else {
        CHECK(et_cli("cam " BUNDLED " " HOLDOUT " -o '%s'", path("bag.png")) == 1);
        CHECK(has(err_buf, "bag.png") && has(err_buf, "PNG support is not built in"));
    }
    et_image_free(&orig);
    CHECK(et_cli("cam --help") == 0 && has(out_buf, "usage: edgetune cam"));
    CHECK(et_cli("help cam") == 0 && has(out_buf, "--alpha"));
    CHECK(et_cli("--help") == 0 && has(out_buf, "cam"));
}

static void test_cli_errors(void) {
    CHECK(et_cli("cam " BUNDLED " " HOLDOUT " -o '%s' --class 5", path("e.ppm")) == 1);
    CHECK(has(err_buf, "--class 5") && has(err_buf, "5 classes (0..4)"));
    CHECK(et_cli("cam " BUNDLED " " HOLDOUT " -o '%s' --class -1", path("e.ppm")) == 2);
    CHECK(et_cli("cam " BUNDLED " " HOLDOUT " -o '%s' --class x", path("e.ppm")) == 2);
    CHECK(et_cli("cam " BUNDLED " '%s' -o '%s'", path("missing.pgm"), path("e.ppm")) == 1);
    CHECK(has(err_buf, "missing.pgm") && has(err_buf, "cannot open"));
    FILE *f = fopen(path("junk.pgm"), "wb");
    CHECK(f != NULL);
    fputs("not an image", f);
    fclose(f);
    CHECK(et_cli("cam " BUNDLED " '%s' -o '%s'", path("junk.pgm"), path("e.ppm")) == 1);
    CHECK(has(err_buf, "junk.pgm"));
    CHECK(et_cli("cam " BUNDLED " " HOLDOUT " -o '%s'", path("e.jpg")) == 2);
    CHECK(has(err_buf, "e.jpg") && has(err_buf, ".ppm or .png"));
    CHECK(et_cli("cam " BUNDLED " " HOLDOUT " -o '%s' --alpha 2", path("e.ppm")) == 2);
    CHECK(et_cli("cam " BUNDLED " " HOLDOUT " -o '%s' --method best", path("e.ppm")) == 2);
    CHECK(et_cli("cam " BUNDLED " " HOLDOUT " -o '%s' --map '%s'", path("e.ppm"), path("m.txt")) == 2);
    CHECK(et_cli("cam " BUNDLED " " HOLDOUT) == 2 && has(err_buf, "-o"));
    CHECK(et_cli("cam " BUNDLED) == 2 && has(err_buf, "IMAGE"));
    CHECK(et_cli("cam '%s' " HOLDOUT " -o '%s'", path("nomodel.etm"), path("e.ppm")) == 1 && has(err_buf, "nomodel.etm"));
    /* saved by test_library_errors: a model with no spatial feature map */
    CHECK(et_cli("cam '%s' " HOLDOUT " -o '%s'", path("flatmap.etm"), path("e.ppm")) == 1);
    CHECK(has(err_buf, "flatmap.etm") && has(err_buf, "no spatial feature map"));
    FILE *e = fopen(path("e.ppm"), "rb");
    CHECK(e == NULL); /* no failed run left an output behind */
}

int main(void) {
    if (cli_setup("cam") != 0) return 1;
    RUN(test_cam_equals_hand_sum);
    RUN(test_constant_map);
    RUN(test_gradcam_without_gap);
    RUN(test_library_errors);
    RUN(test_upsample_color_overlay);
    RUN(test_image_write);
    RUN(test_cli_bundled);
    RUN(test_cli_png_and_options);
    RUN(test_cli_errors);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) printf("could not remove %s\n", dir);
    return t_summary(__FILE__);
}
