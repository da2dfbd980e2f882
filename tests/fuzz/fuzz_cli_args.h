/* Turns fuzz bytes into an `edgetune` command line and sets up the scratch
 * folder it runs in (a tiny model, input and ONNX file). Shared by the CLI
 * fuzz target and the replay test, so both run exactly the same argv. */
#ifndef ET_FUZZ_CLI_ARGS_H
#define ET_FUZZ_CLI_ARGS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "edgetune.h"

#define CLIF_MAX_ARGS 12
#define CLIF_MAX_ARG 80

typedef struct clif_argv {
    int argc;
    char *argv[CLIF_MAX_ARGS + 2];
    char store[CLIF_MAX_ARGS + 1][CLIF_MAX_ARG + 1];
} clif_argv;

/* Split on NUL or newline into at most CLIF_MAX_ARGS arguments after
 * argv[0] = "edgetune". Returns 0 when the command line must not be run:
 * `bench` (it measures for seconds), long digit runs (a batch of 10^6 would
 * be a legitimate multi-gigabyte request, not a bug) and paths. Slashes
 * become '_' so nothing outside the scratch folder is ever touched. */
static inline int clif_split(const unsigned char *d, size_t n, clif_argv *a) {
    memset(a, 0, sizeof *a);
    strcpy(a->store[0], "edgetune");
    a->argv[0] = a->store[0];
    a->argc = 1;
    size_t i = 0;
    while (i < n && a->argc <= CLIF_MAX_ARGS) {
        char *s = a->store[a->argc];
        size_t k = 0;
        while (i < n && d[i] != 0 && d[i] != '\n') {
            if (k < CLIF_MAX_ARG) s[k++] = d[i] == '/' ? '_' : (char)d[i];
            i++;
        }
        i++;
        s[k] = 0;
        a->argv[a->argc++] = s;
    }
    a->argv[a->argc] = NULL;
    if (a->argc > 1 && strcmp(a->argv[1], "bench") == 0) return 0;
    for (int k = 1; k < a->argc; k++) {
        int run = 0;
        for (const char *p = a->argv[k]; *p; p++) {
            run = (*p >= '0' && *p <= '9') ? run + 1 : 0;
            if (run > 2) return 0;
        }
    }
    return 1;
}

/* The scratch files a fuzzed command line can name. Kept in memory and
 * rewritten before every run: a fuzzed --output may overwrite them. */
typedef struct clif_file { const char *name; unsigned char *data; size_t len; } clif_file;
#define CLIF_FILES 4
typedef struct clif_fixtures { clif_file f[CLIF_FILES]; } clif_fixtures;

static inline unsigned char *clif_slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    unsigned char *b = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        if (n > 0 && fseek(f, 0, SEEK_SET) == 0 && (b = malloc((size_t)n)) != NULL) {
            if (fread(b, 1, (size_t)n, f) != (size_t)n) { free(b); b = NULL; }
            else *len = (size_t)n;
        }
    }
    fclose(f);
    return b;
}

/* m.etm: conv 3x3 + relu + global pool + linear on 6x6x3 input with 3
 * labels; x.npy: one input; m.onnx: the same model as ONNX; x.ppm: a 6x6
 * image (for cam). Needs the current directory to be the scratch folder. */
static inline int clif_fixtures_make(clif_fixtures *fx) {
    float w[4 * 27], fw[12], fb[3] = {0.1f, -0.2f, 0.3f}, x[6 * 6 * 3];
    for (int i = 0; i < 108; i++) w[i] = (float)((i * 37) % 17 - 8) / 16.0f;
    for (int i = 0; i < 12; i++) fw[i] = (float)((i * 11) % 7 - 3) / 4.0f;
    for (int i = 0; i < 108; i++) x[i] = (float)((i * 13) % 19) / 19.0f;
    et_builder *b;
    if (et_builder_new(3, 6, 6, &b) != ET_OK) return 0;
    et_conv2d_desc c = {4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, {ET_ACT_RELU, 0, 0}};
    int v, gp, fc, ok = 1;
    ok &= et_builder_conv2d(b, "conv", 0, &c, w, NULL, &v) == ET_OK;
    ok &= et_builder_global_avgpool(b, "gap", v, &gp) == ET_OK;
    ok &= et_builder_linear(b, "fc", gp, 3, fw, fb, et_act_none(), &fc) == ET_OK;
    et_model *m = NULL;
    if (ok) ok = et_builder_finish(b, &m) == ET_OK;
    et_builder_free(b);
    if (!ok) return 0;
    static const char *const labels[] = {"cat", "dog", "bird"};
    et_metadata md;
    et_model_metadata(m, &md);
    md.label_count = 3;
    md.labels = labels;
    et_model_set_metadata(m, &md);
    size_t dims[4] = {1, 6, 6, 3};
    char err[256];
    uint8_t px[6 * 6 * 3];
    for (int i = 0; i < 108; i++) px[i] = (uint8_t)(x[i] * 255.0f);
    et_image img = {6, 6, 3, px};
    ok = et_model_save_file(m, "m.etm") == ET_OK && et_npy_write_file("x.npy", x, dims, 4) == ET_OK &&
         et_onnx_export_file(m, "m.onnx", err, sizeof err) == ET_OK && et_image_write_file("x.ppm", &img, err, sizeof err) == ET_OK;
    et_model_free(m);
    static const char *const names[CLIF_FILES] = {"m.etm", "x.npy", "m.onnx", "x.ppm"};
    for (int i = 0; i < CLIF_FILES && ok; i++) {
        fx->f[i].name = names[i];
        ok = (fx->f[i].data = clif_slurp(names[i], &fx->f[i].len)) != NULL;
    }
    return ok;
}

/* Put the fixtures back as they were (plain writes: no fsync needed here). */
static inline void clif_fixtures_restore(const clif_fixtures *fx) {
    for (int i = 0; i < CLIF_FILES; i++) {
        if (!fx->f[i].data) continue;
        FILE *f = fopen(fx->f[i].name, "wb");
        if (!f) continue;
        if (fwrite(fx->f[i].data, 1, fx->f[i].len, f) != fx->f[i].len) { /* next run rewrites it */ }
        fclose(f);
    }
}

static inline void clif_fixtures_free(clif_fixtures *fx) {
    for (int i = 0; i < CLIF_FILES; i++) free(fx->f[i].data);
    memset(fx, 0, sizeof *fx);
}

#endif /* ET_FUZZ_CLI_ARGS_H */
