/* Losses, optimizer updates and gradient clipping (src/train/loss.c, optim.c)
 * against PyTorch fixtures from tools/gen_train_fixtures.py in
 * tests/fixtures/train/unit/, plus a few properties needing no fixture. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "train/grad_ops.h"

#define FIXDIR "tests/fixtures/train/unit/"
#define LOSS_TOL 1e-5
#define OPTIM_TOL 1e-6

/* ------------------------------------------------------------ .npy input */

typedef struct arr { size_t count, rows; float *data; } arr;

/* Reads a little-endian float32 C-order .npy (all the generator writes).
 * rows is the first dim (1 for a 1-D array). Returns 0 on success. */
static int load(const char *case_name, const char *tensor, arr *a) {
    char path[256];
    snprintf(path, sizeof path, FIXDIR "%s_%s.npy", case_name, tensor);
    memset(a, 0, sizeof *a);
    FILE *f = fopen(path, "rb");
    if (!f) {
        printf("    cannot open %s (run from the repo root)\n", path);
        return -1;
    }
    unsigned char pre[10];
    char hdr[512];
    int rc = -1;
    if (fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY\x01", 7) != 0) goto out;
    size_t hl = (size_t)pre[8] | (size_t)pre[9] << 8;
    if (hl >= sizeof hdr || fread(hdr, 1, hl, f) != hl) goto out;
    hdr[hl] = '\0';
    if (!strstr(hdr, "'<f4'") || !strstr(hdr, "'fortran_order': False")) goto out;
    const char *p = strstr(hdr, "'shape': (");
    if (!p) goto out;
    p += strlen("'shape': (");
    a->count = 1;
    a->rows = 1;
    for (int dim = 0; *p != ')'; dim++) {
        char *end;
        unsigned long d = strtoul(p, &end, 10);
        if (end == p) goto out;
        if (dim == 0) a->rows = d;
        a->count *= d;
        p = end;
        while (*p == ',' || *p == ' ') p++;
    }
    a->data = malloc((a->count ? a->count : 1) * sizeof(float));
    for (size_t i = 0; i < a->count; i++) {
        unsigned char b[4];
        if (fread(b, 1, 4, f) != 4) goto out;
        uint32_t u = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
        memcpy(&a->data[i], &u, 4);
    }
    rc = 0;
out:
    fclose(f);
    if (rc) {
        printf("    %s: unreadable .npy\n", path);
        free(a->data);
        a->data = NULL;
    }
    return rc;
}

/* ------------------------------------------------------------ index */

typedef struct fcase { char name[64], kind[16], attrs[400]; } fcase;

static fcase cases[64];
static size_t n_cases;

static int index_load(void) {
    if (n_cases) return 0;
    FILE *f = fopen(FIXDIR "index.txt", "r");
    if (!f) {
        printf("    cannot open " FIXDIR "index.txt (run from the repo root)\n");
        return -1;
    }
    char line[512];
    while (n_cases < 64 && fgets(line, sizeof line, f)) {
        fcase *c = &cases[n_cases];
        int used = 0;
        if (sscanf(line, "%63s %15s %n", c->name, c->kind, &used) < 2) continue;
        snprintf(c->attrs, sizeof c->attrs, " %s", line + used);
        n_cases++;
    }
    fclose(f);
    return n_cases ? 0 : -1;
}

/* Value of " key=" in the case's attributes, NAN when absent. */
static float attr(const fcase *c, const char *key) {
    char pat[40];
    snprintf(pat, sizeof pat, " %s=", key);
    const char *p = strstr(c->attrs, pat);
    return p ? strtof(p + strlen(pat), NULL) : NAN;
}

/* Worst |a - b| / max(|b|, floor) with floor = 1e-6 max|b|: per element, so
 * small gradients next to large ones are checked too, without judging
 * values that are zero up to float range. */
static double rel_err(const float *a, const float *b, size_t n) {
    double mx = 0.0, worst = 0.0;
    for (size_t i = 0; i < n; i++) if (fabs((double)b[i]) > mx) mx = fabs((double)b[i]);
    double floor = mx > 0.0 ? 1e-6 * mx : 1e-30;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        double s = fabs((double)b[i]) > floor ? fabs((double)b[i]) : floor;
        if (d != d) return INFINITY;
        if (d / s > worst) worst = d / s;
    }
    return worst;
}

/* max |a - b| / max |b|: the tensor-wise relative error. Weights are
 * compared this way because PyTorch rounds in float32 where we round once
 * from double: a weight whose update nearly cancels it carries a few ulps of
 * its operands, which is large relative to the small result only. */
static double norm_err(const float *a, const float *b, size_t n) {
    double mx = 0.0, worst = 0.0;
    for (size_t i = 0; i < n; i++) if (fabs((double)b[i]) > mx) mx = fabs((double)b[i]);
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (d != d) return INFINITY;
        if (d > worst) worst = d;
    }
    return mx > 0.0 ? worst / mx : worst;
}

/* ------------------------------------------------------------ losses */

static int run_loss(const fcase *c) {
    arr x, t, g, v, w = {0, 0, NULL};
    if (load(c->name, "x", &x) || load(c->name, "t", &t) || load(c->name, "grad", &g) ||
        load(c->name, "loss", &v))
        return 0;
    int weighted = attr(c, "weighted") == 1.0f;
    if (weighted && load(c->name, "w", &w)) return 0;
    float *got = malloc(x.count * sizeof(float));
    double val;
    const size_t n = x.rows, cls = n ? x.count / n : 0;
    if (!strcmp(c->kind, "ce")) {
        int32_t *tg = malloc(n * sizeof *tg);
        for (size_t i = 0; i < n; i++) tg[i] = (int32_t)t.data[i];
        val = et_loss_softmax_ce(n, cls, x.data, tg, attr(c, "smoothing"), w.data, got);
        free(tg);
    } else if (!strcmp(c->kind, "bce")) {
        val = et_loss_bce_logits(n, cls, x.data, t.data, got);
    } else if (!strcmp(c->kind, "mse")) {
        val = et_loss_mse(x.count, x.data, t.data, got);
    } else {
        val = et_loss_l1(x.count, x.data, t.data, got);
    }
    double want = (double)v.data[0];
    double verr = fabs(val - want) / (fabs(want) > 1e-12 ? fabs(want) : 1e-12);
    double gerr = rel_err(got, g.data, g.count);
    int ok = verr <= LOSS_TOL && gerr <= LOSS_TOL;
    if (!ok) printf("    %s: loss %.9g want %.9g (rel %.2g), gradient rel err %.2g\n", c->name, val, want, verr, gerr);
    free(x.data), free(t.data), free(g.data), free(v.data), free(w.data), free(got);
    return ok;
}

/* ------------------------------------------------------------ optimizers */

static int run_optim(const fcase *c) {
    arr w0, g, traj;
    if (load(c->name, "w0", &w0) || load(c->name, "g", &g) || load(c->name, "traj", &traj)) return 0;
    const size_t n = w0.count, steps = g.rows;
    float *w = malloc(n * 4), *s1 = calloc(n, 4), *s2 = calloc(n, 4), *s3 = calloc(n, 4);
    memcpy(w, w0.data, n * 4);
    double worst = 0.0;
    for (size_t s = 0; s < steps; s++) {
        const float *gs = g.data + s * n;
        if (!strcmp(c->kind, "sgd")) {
            et_sgd_hp hp = {attr(c, "lr"), attr(c, "momentum"), attr(c, "dampening"), attr(c, "wd"),
                            attr(c, "nesterov") == 1.0f};
            et_sgd_update(n, &hp, s == 0, w, gs, s1);
        } else if (!strcmp(c->kind, "rmsprop")) {
            et_rmsprop_hp hp = {attr(c, "lr"), attr(c, "alpha"), attr(c, "eps"), attr(c, "wd"),
                                attr(c, "momentum"), attr(c, "centered") == 1.0f};
            et_rmsprop_update(n, &hp, w, gs, s1, s2, s3);
        } else {
            et_adam_hp hp = {attr(c, "lr"), attr(c, "beta1"), attr(c, "beta2"), attr(c, "eps"), attr(c, "wd"),
                             !strcmp(c->kind, "adamw")};
            et_adam_update(n, &hp, s + 1, w, gs, s1, s2);
        }
        double e = norm_err(w, traj.data + s * n, n);
        if (e > worst) worst = e;
    }
    int ok = worst <= OPTIM_TOL;
    if (!ok) printf("    %s: trajectory rel err %.2g\n", c->name, worst);
    free(w0.data), free(g.data), free(traj.data), free(w), free(s1), free(s2), free(s3);
    return ok;
}

/* ------------------------------------------------------------ clipping */

/* clip_grad_norm_ over three tensors as the trainer composes it from the
 * helpers: one global norm, then scale = max / (norm + 1e-6) if norm > max. */
static int run_clip(const fcase *c) {
    arr g, norm, bynorm, byvalue;
    if (load(c->name, "g", &g) || load(c->name, "norm", &norm) || load(c->name, "bynorm", &bynorm) ||
        load(c->name, "byvalue", &byvalue))
        return 0;
    static const size_t sizes[3] = {37, 5, 11};
    float *a = malloc(g.count * 4);
    memcpy(a, g.data, g.count * 4);
    double sq = 0.0;
    for (size_t i = 0, off = 0; i < 3; off += sizes[i++]) sq += et_grad_sq_norm(sizes[i], a + off);
    double nrm = sqrt(sq), max_norm = (double)attr(c, "max_norm");
    if (nrm > max_norm) {
        float s = (float)(max_norm / (nrm + 1e-6));
        for (size_t i = 0, off = 0; i < 3; off += sizes[i++]) et_grad_scale(sizes[i], s, a + off);
    }
    int ok = fabs(nrm - (double)norm.data[0]) <= 1e-6 * (double)norm.data[0] &&
             norm_err(a, bynorm.data, g.count) <= OPTIM_TOL;
    if (!ok) printf("    %s: norm %.9g want %.9g, clip err %.2g\n", c->name, nrm, (double)norm.data[0],
                    norm_err(a, bynorm.data, g.count));
    memcpy(a, g.data, g.count * 4);
    for (size_t i = 0, off = 0; i < 3; off += sizes[i++]) et_grad_clip_value(sizes[i], attr(c, "limit"), a + off);
    ok = ok && memcmp(a, byvalue.data, g.count * 4) == 0;
    free(g.data), free(norm.data), free(bynorm.data), free(byvalue.data), free(a);
    return ok;
}

/* Runs every indexed case of the kinds listed (space-separated). */
static void check_kinds(const char *kinds) {
    CHECK(index_load() == 0);
    size_t seen = 0;
    for (size_t i = 0; i < n_cases; i++) {
        const fcase *c = &cases[i];
        char pat[24];
        snprintf(pat, sizeof pat, " %s ", c->kind);
        if (!strstr(kinds, pat)) continue;
        seen++;
        int ok = !strcmp(c->kind, "clip") ? run_clip(c)
                 : (!strcmp(c->kind, "sgd") || !strcmp(c->kind, "adam") || !strcmp(c->kind, "adamw") ||
                    !strcmp(c->kind, "rmsprop")) ? run_optim(c) : run_loss(c);
        CHECKF(ok, "case %s", c->name);
    }
    CHECK(seen > 0);
}

static void test_fixture_ce(void) { check_kinds(" ce "); }
static void test_fixture_bce(void) { check_kinds(" bce "); }
static void test_fixture_mse_l1(void) { check_kinds(" mse l1 "); }
static void test_fixture_sgd(void) { check_kinds(" sgd "); }
static void test_fixture_adam(void) { check_kinds(" adam adamw "); }
static void test_fixture_rmsprop(void) { check_kinds(" rmsprop "); }
static void test_fixture_clip(void) { check_kinds(" clip "); }

/* ------------------------------------------------------------ properties */

/* Out-of-range targets are skipped (value and gradient), and the loss over
 * the others is unchanged; no counted sample gives NaN and zero gradient. */
static void test_ce_invalid_targets(void) {
    const float z[3 * 4] = {1, 2, 3, 4, -1, 0, 1, 0.5f, 2, 2, 2, 2};
    const int32_t t_all[3] = {1, 3, 0}, t_bad[3] = {1, -1, 0}, t_none[3] = {4, -1, 7};
    const int32_t t_two[2] = {1, 0};
    const float z_two[2 * 4] = {1, 2, 3, 4, 2, 2, 2, 2};
    float d[12], d2[8];
    double full = et_loss_softmax_ce(3, 4, z, t_all, 0.0f, NULL, d);
    CHECK(full > 0.0);
    double bad = et_loss_softmax_ce(3, 4, z, t_bad, 0.0f, NULL, d);
    double two = et_loss_softmax_ce(2, 4, z_two, t_two, 0.0f, NULL, d2);
    CHECK(fabs(bad - two) < 1e-12);
    for (int k = 0; k < 4; k++) CHECK(d[4 + k] == 0.0f && d[k] == d2[k] && d[8 + k] == d2[4 + k]);
    double none = et_loss_softmax_ce(3, 4, z, t_none, 0.1f, NULL, d);
    CHECK(none != none);
    for (int k = 0; k < 12; k++) CHECK(d[k] == 0.0f);
}

/* Cross-entropy gradients sum to zero per row (softmax minus a
 * distribution), with or without smoothing and weights. */
static void test_ce_rows_sum_to_zero(void) {
    float z[4 * 6], d[4 * 6];
    const float w[6] = {0.5f, 1, 2, 1, 0.25f, 3};
    const int32_t t[4] = {0, 5, 2, 2};
    t_fill(z, 24, 3);
    for (int pass = 0; pass < 2; pass++) {
        et_loss_softmax_ce(4, 6, z, t, 0.2f, pass ? w : NULL, d);
        for (int r = 0; r < 4; r++) {
            double s = 0.0;
            for (int k = 0; k < 6; k++) s += d[r * 6 + k];
            CHECK(fabs(s) < 1e-7);
        }
    }
}

/* Buffers an optimizer does not use may be NULL: SGD without momentum,
 * RMSprop without momentum or centering. */
static void test_optim_unused_state(void) {
    float w[5] = {1, -2, 3, 0.5f, 0}, g[5] = {0.1f, 0.2f, -0.3f, 1, -1}, sq[5] = {0};
    et_sgd_hp sgd = {0.1f, 0.0f, 0.0f, 0.0f, 0};
    et_sgd_update(5, &sgd, 1, w, g, NULL);
    CHECK(fabsf(w[0] - 0.99f) < 1e-7f);
    et_rmsprop_hp rms = {0.01f, 0.99f, 1e-8f, 0.0f, 0.0f, 0};
    et_rmsprop_update(5, &rms, w, g, sq, NULL, NULL);
    CHECK(isfinite(w[0]) && w[0] < 0.99f);
}

/* Extreme logits keep every loss and gradient finite. */
static void test_losses_extreme_finite(void) {
    const float z[4] = {1e30f, -1e30f, 3e38f, -3e38f}, t[4] = {0, 1, 1, 0};
    float d[4];
    CHECK(isfinite(et_loss_bce_logits(1, 4, z, t, d)));
    for (int i = 0; i < 4; i++) CHECK(isfinite(d[i]));
    const int32_t tg[1] = {1};
    CHECK(isfinite(et_loss_softmax_ce(1, 4, z, tg, 0.1f, NULL, d)));
    for (int i = 0; i < 4; i++) CHECK(isfinite(d[i]));
}

int main(void) {
    RUN(test_fixture_ce);
    RUN(test_fixture_bce);
    RUN(test_fixture_mse_l1);
    RUN(test_fixture_sgd);
    RUN(test_fixture_adam);
    RUN(test_fixture_rmsprop);
    RUN(test_fixture_clip);
    RUN(test_ce_invalid_targets);
    RUN(test_ce_rows_sum_to_zero);
    RUN(test_optim_unused_state);
    RUN(test_losses_extreme_finite);
    return t_summary("tests/test_loss_optim.c");
}
