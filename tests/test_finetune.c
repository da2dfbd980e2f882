/* `edgetune finetune / lr-find / plot` end to end on tiny synthetic data
 * (PPM folders, IDX, .npy written here into a mkdtemp folder, and a tiny
 * builder model saved as .etm): learning, bit-identical resume, checkpoint
 * fallback, data errors naming the file, logs and well-formed SVG. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "edgetune.h"
#include "harness.h"
#include "svg_check.h"
#include "cli_run.h"


/* conv3x3(c->8, ReLU) -> GAP -> linear(8->classes) on 8x8 inputs */
static int tiny_model(size_t c, size_t classes, const char *file) {
    et_builder *b = NULL;
    et_model *m = NULL;
    float w[8 * 9 * 3], bias[8], fw[8 * 8], fb[8] = {0};
    t_fill(w, 8 * 9 * c, 5);
    t_fill(bias, 8, 6);
    t_fill(fw, 8 * classes, 7);
    et_conv2d_desc d = {8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, et_act_relu()};
    int v, g, o;
    et_status st = et_builder_new(c, 8, 8, &b);
    if (st == ET_OK) st = et_builder_conv2d(b, "conv", 0, &d, w, bias, &v);
    if (st == ET_OK) st = et_builder_global_avgpool(b, "gap", v, &g);
    if (st == ET_OK) st = et_builder_linear(b, "fc", g, classes, fw, fb, et_act_none(), &o);
    if (st == ET_OK) st = et_builder_output(b, o);
    if (st == ET_OK) st = et_builder_finish(b, &m);
    et_builder_free(b);
    if (st == ET_OK) st = et_model_save_file(m, file);
    et_model_free(m);
    return st == ET_OK;
}

/* class k: mostly colour channel k, with noise */
static void pixel_data(unsigned char *px, size_t k, size_t c, unsigned *seed) {
    for (size_t p = 0; p < 64; p++)
        for (size_t ch = 0; ch < c; ch++) {
            unsigned noise = t_rand(seed) % 60;
            px[p * c + ch] = (unsigned char)(c == 1 ? 40 + 80 * k + noise : (ch == k ? 180 + noise : noise));
        }
}

static int write_file(const char *p, const void *data, size_t n) {
    FILE *f = fopen(p, "wb");
    if (!f) return 0;
    int ok = fwrite(data, 1, n, f) == n;
    return fclose(f) == 0 && ok;
}

static int make_folders(const char *root, size_t per_class) {
    static const char *names[3] = {"blue", "green", "red"};
    static const size_t chan[3] = {2, 1, 0};
    unsigned seed = 99;
    char p[256];
    mkdir(root, 0777);
    for (size_t k = 0; k < 3; k++) {
        snprintf(p, sizeof p, "%s/%s", root, names[k]);
        mkdir(p, 0777);
        for (size_t i = 0; i < per_class; i++) {
            unsigned char buf[16 + 192];
            int h = snprintf((char *)buf, 16, "P6\n8 8\n255\n");
            pixel_data(buf + h, chan[k], 3, &seed);
            snprintf(p, sizeof p, "%s/%s/%02zu.ppm", root, names[k], i);
            if (!write_file(p, buf, (size_t)h + 192)) return 0;
        }
    }
    return 1;
}

static void put_be32(unsigned char *p, uint32_t v) { p[0] = (unsigned char)(v >> 24); p[1] = (unsigned char)(v >> 16); p[2] = (unsigned char)(v >> 8); p[3] = (unsigned char)v; }

/* IDX: n grey 8x8 images of 3 classes; labels file with n_labels entries */
static int make_idx(const char *img, const char *lbl, size_t n, size_t n_labels) {
    unsigned char *b = malloc(16 + n * 64), l[8 + 64];
    unsigned seed = 7;
    put_be32(b, 0x00000803); put_be32(b + 4, (uint32_t)n); put_be32(b + 8, 8); put_be32(b + 12, 8);
    put_be32(l, 0x00000801); put_be32(l + 4, (uint32_t)n_labels);
    for (size_t i = 0; i < n; i++) {
        pixel_data(b + 16 + i * 64, i % 3, 1, &seed);
        if (i < n_labels) l[8 + i] = (unsigned char)(i % 3);
    }
    int ok = write_file(img, b, 16 + n * 64) && write_file(lbl, l, 8 + n_labels);
    free(b);
    return ok;
}

static int make_npy(const char *xp, const char *yp, size_t n, size_t n_labels, size_t c) {
    float *x = malloc(n * 64 * c * sizeof *x), y[64];
    unsigned char px[64 * 4];
    unsigned seed = 11;
    for (size_t i = 0; i < n; i++) {
        pixel_data(px, i % 3, c, &seed);
        for (size_t j = 0; j < 64 * c; j++) x[i * 64 * c + j] = (float)px[j] / 255.0f;
        y[i] = (float)(i % 3);
    }
    size_t xd[4] = {n, 8, 8, c}, yd[1] = {n_labels};
    int ok = et_npy_write_file(xp, x, xd, 4) == ET_OK && et_npy_write_file(yp, y, yd, 1) == ET_OK;
    free(x);
    return ok;
}

/* accuracy of the last epoch line in a log */
static double last_accuracy(const char *log) {
    static char buf[1 << 20];
    slurp(log, buf, sizeof buf);
    const char *p = buf, *hit = NULL;
    while ((p = strstr(p, "\"accuracy\":")) != NULL) hit = p++;
    return hit ? atof(hit + 11) : -1;
}

static int same_file(const char *a, const char *b) {
    static char x[1 << 18], y[1 << 18];
    size_t na = slurp(a, x, sizeof x), nb = slurp(b, y, sizeof y);
    return na > 0 && na == nb && memcmp(x, y, na) == 0;
}

#define COMMON "--train '%s' --valid-pct 0.25 --batch-size 6 --lr 0.05 --augment off --seed 3"

static void test_finetune_folders_learns(void) {
    CHECK(tiny_model(3, 5, path("m3.etm")) && make_folders(path("img"), 12));
    int rc = et_cli("finetune '%s' -o '%s' --run-dir '%s' " COMMON " --epochs 6 --freeze-to 0", path("m3.etm"), path("out.etm"),
                path("run1"), path("img"));
    CHECKF(rc == 0, "rc %d: %s%s", rc, out_buf, err_buf);
    CHECK(has(out_buf, "epoch 6/6") && has(out_buf, "valid_loss") && has(out_buf, "accuracy") && has(out_buf, "train_acc "));
    double acc = last_accuracy(path("run1/run.jsonl"));
    CHECKF(acc >= 0.85, "final valid accuracy %g\n%s", acc, out_buf);
    /* the output is an inference model with the folder names as labels */
    et_model *m = NULL;
    char err[256];
    CHECK_OK(et_model_load_file(path("out.etm"), &m, err, sizeof err));
    et_metadata md;
    et_status st = et_model_metadata(m, &md);
    int ok = st == ET_OK && md.label_count == 3 && strcmp(md.labels[0], "blue") == 0 && strcmp(md.labels[2], "red") == 0;
    et_model_free(m);
    CHECK(ok);
    /* the log: a header with hyper-parameters, step and epoch lines */
    static char log[1 << 20];
    slurp(path("run1/run.jsonl"), log, sizeof log);
    CHECK(has(log, "{\"type\":\"header\"") && has(log, "\"model_fnv1a\"") && has(log, "\"isa\"") && has(log, "\"lr\":\"0.05"));
    CHECK(has(log, "\"type\":\"step\",\"step\":1,") && has(log, "\"mom\":") && has(log, "\"type\":\"epoch\""));
    CHECK(has(log, "\"class_names\":[\"blue\",\"green\",\"red\"]"));
}

static void test_resume_bit_identical(void) {
    const char *opts = "--epochs 3 --checkpoint-every 2";
    CHECK(et_cli("finetune '%s' -o '%s' --run-dir '%s' " COMMON " %s", path("m3.etm"), path("a.etm"), path("ra"), path("img"), opts) == 0);
    /* 27 training samples / 6 = 4 steps per epoch: stop in epoch 2 after a step checkpoint */
    int rc = et_cli("finetune '%s' -o '%s' --run-dir '%s' " COMMON " %s --stop-after-steps 7", path("m3.etm"), path("b.etm"),
                path("rb"), path("img"), opts);
    CHECKF(rc == 1 && has(err_buf, "stopped after 7"), "rc %d %s", rc, err_buf);
    rc = et_cli("finetune '%s' -o '%s' --resume '%s' " COMMON " %s", path("m3.etm"), path("b.etm"), path("rb/ckpt.etck"), path("img"), opts);
    CHECKF(rc == 0 && has(out_buf, "resuming from"), "rc %d %s%s", rc, out_buf, err_buf);
    CHECK(same_file(path("a.etm"), path("b.etm")));
    /* three training threads write the same model */
    CHECK(et_cli("finetune '%s' -o '%s' --run-dir '%s' " COMMON " %s --threads 3", path("m3.etm"), path("t3.etm"), path("rt"), path("img"), opts) == 0);
    CHECK(same_file(path("a.etm"), path("t3.etm")));
    /* other settings cannot resume that run */
    rc = et_cli("finetune '%s' -o '%s' --resume '%s' " COMMON " --epochs 4", path("m3.etm"), path("c.etm"), path("rb/ckpt.etck"), path("img"));
    CHECKF(rc == 1 && has(err_buf, "epochs=3"), "rc %d %s", rc, err_buf);
}

static void test_resume_recipe_and_corrupt_checkpoint(void) {
    const char *opts = "--epochs 2 --recipe fine_tune";
    CHECK(et_cli("finetune '%s' -o '%s' --run-dir '%s' " COMMON " %s", path("m3.etm"), path("fa.etm"), path("fa"), path("img"), opts) == 0);
    CHECK(has(out_buf, "phase 2"));
    /* stop in the unfrozen phase (epoch 1 is 4 steps), then corrupt the newest checkpoint */
    CHECK(et_cli("finetune '%s' -o '%s' --run-dir '%s' " COMMON " %s --stop-after-steps 10 --checkpoint-every 3", path("m3.etm"),
             path("fb.etm"), path("fb"), path("img"), opts) == 1);
    static char ck[1 << 20];
    size_t n = slurp(path("fb/ckpt.etck"), ck, sizeof ck);
    CHECK(n > 100);
    ck[n / 2] ^= 0x5a;
    CHECK(write_file(path("fb/ckpt.etck"), ck, n));
    int rc = et_cli("finetune '%s' -o '%s' --resume '%s' " COMMON " %s --checkpoint-every 3", path("m3.etm"), path("fb.etm"),
                path("fb/ckpt.etck"), path("img"), opts);
    CHECKF(rc == 0 && has(err_buf, "CRC32") && has(err_buf, "ckpt.etck.prev"), "rc %d %s", rc, err_buf);
    CHECK(same_file(path("fa.etm"), path("fb.etm")));
    /* a truncated checkpoint with no good previous one is an error naming both */
    CHECK(write_file(path("fb/ckpt.etck"), ck, 20) && write_file(path("fb/ckpt.etck.prev"), ck, 10));
    rc = et_cli("finetune '%s' -o '%s' --resume '%s' " COMMON " %s", path("m3.etm"), path("fc.etm"), path("fb/ckpt.etck"), path("img"), opts);
    CHECKF(rc == 1 && has(err_buf, "ckpt.etck.prev") && has(err_buf, "truncated"), "%s", err_buf);
}

/* Head-only training from cached features (in memory, or spilled to a file
 * by a tiny budget) writes the same model as training from the images. */
static void test_feature_cache_same_model(void) {
    const char *opts = "--epochs 3 --freeze-to -1";
    CHECK(et_cli("finetune '%s' -o '%s' --run-dir '%s' " COMMON " %s", path("m3.etm"), path("nc.etm"), path("nc"), path("img"), opts) == 0);
    int rc = et_cli("finetune '%s' -o '%s' --run-dir '%s' " COMMON " %s --feature-cache on", path("m3.etm"), path("fc.etm"), path("fc"),
                path("img"), opts);
    CHECKF(rc == 0 && has(out_buf, "feature cache served"), "rc %d %s%s", rc, out_buf, err_buf);
    CHECK(same_file(path("nc.etm"), path("fc.etm")));
    rc = et_cli("finetune '%s' -o '%s' --run-dir '%s' " COMMON " %s --feature-cache on --cache-budget 64", path("m3.etm"), path("fs.etm"),
            path("fs"), path("img"), opts);
    CHECKF(rc == 0 && has(out_buf, "spilled to"), "rc %d %s%s", rc, out_buf, err_buf);
    CHECK(same_file(path("nc.etm"), path("fs.etm")));
}

static void test_idx_and_npy(void) {
    CHECK(tiny_model(1, 3, path("m1.etm")) && make_idx(path("x.idx"), path("y.idx"), 24, 24));
    int rc = et_cli("finetune '%s' -o '%s' --run-dir '%s' --train-idx '%s' '%s' --valid-idx '%s' '%s' --epochs 2 --batch-size 8 --lr 0.05",
                path("m1.etm"), path("o1.etm"), path("ri"), path("x.idx"), path("y.idx"), path("x.idx"), path("y.idx"));
    CHECKF(rc == 0, "rc %d %s", rc, err_buf);
    CHECK(make_npy(path("x.npy"), path("y.npy"), 24, 24, 3));
    rc = et_cli("finetune '%s' -o '%s' --run-dir '%s' --train-x '%s' --train-y '%s' --epochs 2 --batch-size 8 --optimizer sgd --schedule flatcos",
            path("m3.etm"), path("o2.etm"), path("rn"), path("x.npy"), path("y.npy"));
    CHECKF(rc == 0, "rc %d %s", rc, err_buf);
}

/* A sample with a NaN makes its batch's loss NaN: the divergence guard skips
 * that step, lowers the learning rate, logs it, and the run completes. */
static void test_divergence_guard(void) {
    CHECK(make_npy(path("xn.npy"), path("yn.npy"), 24, 24, 3));
    et_array a;
    char err[256];
    CHECK_OK(et_npy_read_file(path("xn.npy"), &a, err, sizeof err));
    a.data[5 * 192 + 17] = NAN; /* sample 5 */
    CHECK_OK(et_npy_write_file(path("xn.npy"), a.data, a.dims, a.ndim));
    et_array_free(&a);
    int rc = et_cli("finetune '%s' -o '%s' --run-dir '%s' --train-x '%s' --train-y '%s' --valid-pct 0 --epochs 1 --batch-size 4"
                " --shuffle off --log '%s'", path("m3.etm"), path("dv.etm"), path("rd"), path("xn.npy"), path("yn.npy"), path("dv.jsonl"));
    CHECKF(rc == 0, "rc %d %s", rc, err_buf);
    CHECKF(has(err_buf, "step skipped") && has(err_buf, "x0.1"), "%s", err_buf);
    static char log[1 << 16];
    slurp(path("dv.jsonl"), log, sizeof log);
    CHECK(has(log, "\"type\":\"diverged\""));
    et_model *m;
    CHECK_OK(et_model_load_file(path("dv.etm"), &m, err, sizeof err));
    for (size_t node = 0; node < et_model_node_count(m); node++)
        for (size_t slot = 0; slot < 2; slot++) {
            const float *d;
            size_t n;
            if (et_model_param(m, node, slot, &d, &n) != ET_OK) continue;
            for (size_t i = 0; i < n; i++) CHECK(isfinite(d[i]));
        }
    et_model_free(m);
    /* the lowered rate is part of the checkpoint: a run stopped after the
     * skipped step and resumed ends with the same weights */
    const char *common = "--train-x '%s' --train-y '%s' --valid-pct 0 --epochs 2 --batch-size 4 --shuffle off --checkpoint-every 1";
    char args[1024];
    snprintf(args, sizeof args, common, path("xn.npy"), path("yn.npy"));
    CHECK(et_cli("finetune '%s' -o '%s' --run-dir '%s' %s", path("m3.etm"), path("dw.etm"), path("rw"), args) == 0);
    rc = et_cli("finetune '%s' -o '%s' --run-dir '%s' %s --stop-after-steps 3", path("m3.etm"), path("dx.etm"), path("rx"), args);
    CHECKF(rc == 1 && has(err_buf, "step skipped"), "rc %d %s", rc, err_buf);
    rc = et_cli("finetune '%s' -o '%s' --resume '%s' %s", path("m3.etm"), path("dx.etm"), path("rx/ckpt.etck"), args);
    CHECKF(rc == 0, "rc %d %s", rc, err_buf);
    CHECK(same_file(path("dw.etm"), path("dx.etm")));
}

/* Value of "key": in the last epoch line of a log (-1 if absent). */
static double last_epoch_value(const char *log, const char *key) {
    static char buf[1 << 20];
    char want[64];
    slurp(log, buf, sizeof buf);
    snprintf(want, sizeof want, "\"%s\":", key);
    const char *p = buf, *hit = NULL;
    while ((p = strstr(p, "\"type\":\"epoch\"")) != NULL) hit = p++;
    const char *v = hit ? strstr(hit, want) : NULL;
    return v && (!strchr(hit, '\n') || v < strchr(hit, '\n')) ? atof(v + strlen(want)) : -1;
}

/* Samples whose label set picks bright channels: label vector of sample i
 * is the 3 bits of (i % 7) + 1; y is a 0/1 float matrix [n][3]. */
static int make_multi_npy(const char *xp, const char *yp, size_t n) {
    float *x = malloc(n * 192 * sizeof *x), *y = malloc(n * 3 * sizeof *y);
    unsigned seed = 21;
    int ok = x && y;
    for (size_t i = 0; ok && i < n; i++) {
        unsigned bits = (unsigned)(i % 7) + 1;
        for (size_t p = 0; p < 64; p++)
            for (size_t c = 0; c < 3; c++)
                x[(i * 64 + p) * 3 + c] = (float)((bits >> c & 1 ? 180 : 0) + t_rand(&seed) % 60) / 255.0f;
        for (size_t c = 0; c < 3; c++) y[i * 3 + c] = (float)(bits >> c & 1);
    }
    size_t xd[4] = {n, 8, 8, 3}, yd[2] = {n, 3};
    ok = ok && et_npy_write_file(xp, x, xd, 4) == ET_OK && et_npy_write_file(yp, y, yd, 2) == ET_OK;
    free(x);
    free(y);
    return ok;
}

/* --multi-label on a 0/1 .npy matrix: BCE training learns the label sets,
 * metrics are accuracy_multi and F1, train accuracy is printed too. */
static void test_multi_label_npy(void) {
    CHECK(tiny_model(3, 3, path("mm.etm")) && make_multi_npy(path("xm.npy"), path("ym.npy"), 56));
    int rc = et_cli("finetune '%s' -o '%s' --run-dir '%s' --train-x '%s' --train-y '%s' --multi-label --valid-pct 0.25"
                " --epochs 8 --batch-size 6 --lr 0.05 --seed 3 --freeze-to 0",
                path("mm.etm"), path("om.etm"), path("rm"), path("xm.npy"), path("ym.npy"));
    CHECKF(rc == 0, "rc %d: %s%s", rc, out_buf, err_buf);
    CHECK(has(out_buf, "epoch 8/8") && has(out_buf, "accuracy_multi") && has(out_buf, "f1") && has(out_buf, "train_acc_multi"));
    double acc = last_epoch_value(path("rm/run.jsonl"), "accuracy"), tacc = last_epoch_value(path("rm/run.jsonl"), "train_accuracy");
    double f1 = last_epoch_value(path("rm/run.jsonl"), "f1");
    CHECKF(acc >= 0.9 && f1 >= 0.85 && tacc >= 0.85 && tacc <= 1.0, "valid accuracy_multi %g, f1 %g, train %g\n%s", acc, f1, tacc, out_buf);
    /* class ids cannot be multi-label; a 0/1 matrix is taken as multi-label even without the flag */
    CHECK(make_npy(path("xi.npy"), path("yi.npy"), 24, 24, 3));
    CHECK(et_cli("finetune '%s' -o '%s' --train-x '%s' --train-y '%s' --multi-label --epochs 1", path("mm.etm"), path("e.etm"),
             path("xi.npy"), path("yi.npy")) != 0);
    CHECKF(has(err_buf, "0/1 label matrix"), "%s", err_buf);
    CHECK(et_cli("finetune '%s' -o '%s' --run-dir '%s' --train-x '%s' --train-y '%s' --epochs 1", path("mm.etm"), path("e.etm"),
             path("rm2"), path("xm.npy"), path("ym.npy")) == 0 && has(out_buf, "accuracy_multi"));
}

/* --patience: the validation labels are the training labels rotated, so the
 * valid loss is best after epoch 1 and worsens while the model learns. The
 * run stops at epoch 1 + patience and keeps epoch 1: its model equals a
 * one-epoch run with the same (constant) schedule, byte for byte. */
static void test_patience_keeps_best_epoch(void) {
    CHECK(make_npy(path("xp.npy"), path("yp.npy"), 24, 24, 3));
    et_array y;
    char err[256];
    CHECK_OK(et_npy_read_file(path("yp.npy"), &y, err, sizeof err));
    for (size_t i = 0; i < y.count; i++) y.data[i] = (float)(((int)y.data[i] + 1) % 3);
    CHECK_OK(et_npy_write_file(path("yv.npy"), y.data, y.dims, y.ndim));
    et_array_free(&y);
    const char *opts = "--batch-size 6 --lr 0.05 --schedule constant --seed 3";
    int rc = et_cli("finetune '%s' -o '%s' --run-dir '%s' --train-x '%s' --train-y '%s' --valid-x '%s' --valid-y '%s' --epochs 12"
                " --patience 2 %s", path("m3.etm"), path("p.etm"), path("rp"), path("xp.npy"), path("yp.npy"), path("xp.npy"),
                path("yv.npy"), opts);
    CHECKF(rc == 0, "rc %d: %s%s", rc, out_buf, err_buf);
    CHECKF(has(out_buf, "early stopping: no improvement for 2 epoch(s); keeping epoch 1"), "%s", out_buf);
    CHECK(has(out_buf, "epoch 3/12") && !has(out_buf, "epoch 4/12"));
    /* the log agrees: 3 epoch lines, the smallest valid loss in the first */
    static char log[1 << 20];
    slurp(path("rp/run.jsonl"), log, sizeof log);
    double vl[4];
    size_t n = 0;
    for (const char *p = log; (p = strstr(p, "\"type\":\"epoch\"")) != NULL && n < 4; p++) {
        const char *v = strstr(p, "\"valid_loss\":");
        CHECK(v);
        vl[n++] = atof(v + 13);
    }
    CHECKF(n == 3 && vl[0] < vl[1] && vl[0] < vl[2], "%zu epoch lines", n);
    rc = et_cli("finetune '%s' -o '%s' --run-dir '%s' --train-x '%s' --train-y '%s' --valid-x '%s' --valid-y '%s' --epochs 1 %s",
            path("m3.etm"), path("p1.etm"), path("rp1"), path("xp.npy"), path("yp.npy"), path("xp.npy"), path("yv.npy"), opts);
    CHECKF(rc == 0, "rc %d: %s%s", rc, out_buf, err_buf);
    CHECK(same_file(path("p.etm"), path("p1.etm")));
}

static void test_data_errors_name_the_file(void) {
    /* missing folder */
    CHECK(et_cli("finetune '%s' -o '%s' --train '%s'", path("m3.etm"), path("e.etm"), path("nope")) == 1);
    CHECKF(has(err_buf, path("nope")), "%s", err_buf);
    /* unreadable image */
    CHECK(make_folders(path("bad"), 3) && write_file(path("bad/red/zz.ppm"), "P6\n8 8\n255\nxx", 14));
    CHECK(et_cli("finetune '%s' -o '%s' --train '%s'", path("m3.etm"), path("e.etm"), path("bad")) == 1);
    CHECKF(has(err_buf, "zz.ppm"), "%s", err_buf);
    /* wrong label count: IDX and .npy */
    CHECK(make_idx(path("x2.idx"), path("y2.idx"), 12, 11));
    CHECK(et_cli("finetune '%s' -o '%s' --train-idx '%s' '%s'", path("m1.etm"), path("e.etm"), path("x2.idx"), path("y2.idx")) == 1);
    CHECKF(has(err_buf, "y2.idx") || has(err_buf, "x2.idx"), "%s", err_buf);
    CHECK(make_npy(path("x3.npy"), path("y3.npy"), 12, 10, 3));
    CHECK(et_cli("finetune '%s' -o '%s' --train-x '%s' --train-y '%s'", path("m3.etm"), path("e.etm"), path("x3.npy"), path("y3.npy")) == 1);
    CHECKF(has(err_buf, "y3.npy") || has(err_buf, "x3.npy"), "%s", err_buf);
    /* mismatched shapes: 2-channel samples for a 3-channel model */
    CHECK(make_npy(path("x4.npy"), path("y4.npy"), 12, 12, 2));
    CHECK(et_cli("finetune '%s' -o '%s' --train-x '%s' --train-y '%s'", path("m3.etm"), path("e.etm"), path("x4.npy"), path("y4.npy")) == 1);
    CHECKF(has(err_buf, "x4.npy"), "%s", err_buf);
}

static void test_options(void) {
    CHECK(et_cli("finetune --help") == 0 && has(out_buf, "--recipe fine_tune") && has(out_buf, "--feature-cache on|off"));
    CHECK(et_cli("finetune '%s' --train '%s'", path("m3.etm"), path("img")) == 2 && has(err_buf, "-o"));
    CHECK(et_cli("finetune '%s' -o x.etm --train '%s' --feature-cache on", path("m3.etm"), path("img")) == 2);
    CHECK(has(err_buf, "--augment off"));
    CHECK(et_cli("finetune '%s' -o x.etm --train '%s' --optimizer lion", path("m3.etm"), path("img")) == 2);
    CHECK(et_cli("finetune '%s' -o x.etm --train '%s' --lr 1:0.1", path("m3.etm"), path("img")) == 2);
    CHECK(et_cli("finetune '%s' -o '%s' --run-dir '%s' --train '%s' --memory-budget 1000", path("m3.etm"), path("e.etm"),
             path("rm"), path("img")) == 1);
    CHECKF(has(err_buf, "--memory-budget 1000"), "%s", err_buf);
}

static void test_xml_checker(void) {
    char why[128];
    CHECK(xml_ok("<a x=\"1\"><b/></a>", why, sizeof why));
    CHECK(!xml_ok("<a><b></a></b>", why, sizeof why));
    CHECK(!xml_ok("<a x=1></a>", why, sizeof why));
    CHECK(!xml_ok("<a>&</a>", why, sizeof why));
    CHECK(!xml_ok("<a>", why, sizeof why));
}

static void test_lr_find_and_plot(void) {
    int rc = et_cli("lr-find '%s' --train '%s' --batch-size 4 --freeze-to 0 --augment off -o '%s'", path("m3.etm"), path("img"), path("lr.svg"));
    CHECKF(rc == 0, "rc %d %s", rc, err_buf);
    CHECK(has(out_buf, "valley") && has(out_buf, "steep") && has(out_buf, "minimum/10"));
    CHECK(svg_ok(path("lr.svg")));
    static char svg[1 << 20];
    slurp(path("lr.svg"), svg, sizeof svg);
    CHECK(has(svg, "valley") && has(svg, "1e-07"));
    /* the model file is untouched */
    CHECK(tiny_model(3, 5, path("m3b.etm")) && same_file(path("m3.etm"), path("m3b.etm")));
    rc = et_cli("plot '%s' -o '%s'", path("run1/run.jsonl"), dir);
    CHECKF(rc == 0, "rc %d %s", rc, err_buf);
    CHECK(svg_ok(path("loss.svg")) && svg_ok(path("accuracy.svg")) && svg_ok(path("lr.svg")) && svg_ok(path("momentum.svg")));
    CHECK(et_cli("plot '%s'", path("m3.etm")) == 1);
    CHECK(et_cli("plot '%s'", path("missing.jsonl")) == 1 && has(err_buf, "missing.jsonl"));
}

int main(void) {
    if (cli_setup("ft") != 0) return 1;
    RUN(test_finetune_folders_learns);
    RUN(test_resume_bit_identical);
    RUN(test_resume_recipe_and_corrupt_checkpoint);
    RUN(test_feature_cache_same_model);
    RUN(test_idx_and_npy);
    RUN(test_divergence_guard);
    RUN(test_multi_label_npy);
    RUN(test_patience_keeps_best_epoch);
    RUN(test_data_errors_name_the_file);
    RUN(test_options);
    RUN(test_xml_checker);
    RUN(test_lr_find_and_plot);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (t_failed == 0 && !getenv("ET_KEEP") && system(cmd) != 0) printf("could not remove %s\n", dir);
    return t_summary(__FILE__);
}
