/* Firmware export: `edgetune export-c` writes the model's exact bytes as a
 * C array (checked by reading the array back), refuses bad names and bad
 * models without writing anything, and the firmware example built by
 * `make test` (ports/firmware-example) prints the same top class as
 * `edgetune run` on the same image, with zero heap calls. Programs run
 * through the shell from the repo root (binaries in ET_BUILD, default
 * "build"; ET_RUNNER prefixes them under qemu). */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "edgetune.h"
#include "harness.h"
#include "cli_run.h"

#define MODEL "models/fmnist5_mbv2.etm"

/* The whole file, NUL-terminated (malloc'ed), or NULL. */
static unsigned char *slurp_alloc(const char *p, size_t *len) {
    FILE *f = fopen(p, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) { free(b); b = NULL; }
    fclose(f);
    if (b) b[n] = 0;
    if (len) *len = (size_t)n;
    return b;
}
static int exists(const char *p) { struct stat sb; return stat(p, &sb) == 0; }

/* FNV-1a 64, written here from its definition to check the comment. */
static uint64_t fnv1a64(const unsigned char *p, size_t n) {
    uint64_t h = 14695981039346656037u;
    for (size_t i = 0; i < n; i++) { h ^= p[i]; h *= 1099511628211u; }
    return h;
}

/* Parse the initializer of `NAME_etm[] = { 0x.., ... };` back into bytes. */
static size_t read_back(const char *src, unsigned char *out, size_t cap, size_t *max_per_line) {
    const char *p = strstr(src, "] = {");
    size_t n = 0, line = 0;
    *max_per_line = 0;
    if (!p) return 0;
    for (p += 5; *p && *p != '}'; p++) {
        if (*p == '\n') { line = 0; continue; }
        if (p[0] == '0' && p[1] == 'x' && n < cap) {
            out[n++] = (unsigned char)strtoul(p, NULL, 16);
            if (++line > *max_per_line) *max_per_line = line;
            p += 3;
        }
    }
    return n;
}

static void test_export_c_bytes(void) {
    size_t len = 0;
    unsigned char *model = slurp_alloc(MODEL, &len);
    CHECKF(model, "cannot read %s (run from the repo root)", MODEL);
    CHECKF(sh("edgetune export-c %s fmn_1 -o '%s'", MODEL, dir) == 0, "stderr: %s", err_buf);
    CHECK(has(out_buf, "fmn_1_etm"));
    char *c = (char *)slurp_alloc(path("fmn_1.c"), NULL), *h = (char *)slurp_alloc(path("fmn_1.h"), NULL);
    CHECK(c && h);
    char want[160];
    snprintf(want, sizeof want, "_Alignas(64) const unsigned char fmn_1_etm[%zu] = {", len);
    CHECK(has(c, want) && has(c, "#include \"fmn_1.h\""));
    snprintf(want, sizeof want, "const size_t fmn_1_etm_len = %zu;", len);
    CHECK(has(c, want));
    snprintf(want, sizeof want, "extern const unsigned char fmn_1_etm[%zu];", len);
    CHECK(has(h, want) && has(h, "extern const size_t fmn_1_etm_len;") && has(h, "#ifndef fmn_1_ETM_H"));
    snprintf(want, sizeof want, "FNV-1a 64   0x%016llx", (unsigned long long)fnv1a64(model, len));
    CHECKF(has(c, want) && has(h, want), "no '%s'", want);
    CHECK(has(c, MODEL) && has(c, "bytes"));
    unsigned char *back = malloc(len + 1);
    size_t per_line = 0, n = read_back(c, back, len + 1, &per_line);
    CHECKF(n == len && memcmp(back, model, len) == 0, "read back %zu of %zu bytes", n, len);
    CHECK(per_line == 16);
    free(back);
    free(c);
    free(h);
    free(model);
}

static void test_export_c_refuses(void) {
    static const char *const bad[] = {"9lives", "a-b", "x.y", "__x", "_Cap", "", "caf\xc3\xa9",
                                      "a2345678901234567890123456789012345678901234567890123456789012345"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECKF(sh("edgetune export-c %s '%s' -o '%s'", MODEL, bad[i], dir) == 2, "name '%s'", bad[i]);
        CHECKF(has(err_buf, "is not a C identifier"), "name '%s': %s", bad[i], err_buf);
    }
    CHECK(sh("edgetune export-c %s ok_Name2 -o '%s'", MODEL, dir) == 0);
    /* not a model: refused with the loader's message, old files untouched */
    size_t before = 0, after = 0;
    unsigned char *old = slurp_alloc(path("ok_Name2.c"), &before);
    CHECK(old);
    CHECK(sh("edgetune export-c README.md ok_Name2 -o '%s'", dir) == 1);
    CHECKF(has(err_buf, "README.md") && has(err_buf, "bad magic"), "stderr: %s", err_buf);
    unsigned char *now = slurp_alloc(path("ok_Name2.c"), &after);
    CHECK(now && after == before && memcmp(old, now, before) == 0);
    free(old);
    free(now);
    CHECK(sh("edgetune export-c %s fresh -o '%s'", MODEL, path("no_such_dir")) == 1);
    CHECKF(has(err_buf, "no_such_dir"), "stderr: %s", err_buf);
    CHECK(!exists(path("fresh.c")) && !exists(path("fresh.h")));
    CHECK(sh("edgetune export-c %s", MODEL) == 2 && has(err_buf, "usage: edgetune export-c"));
    CHECK(sh("edgetune export-c --help") == 0 && has(out_buf, "et_model_load_static"));
}

/* The example's top class equals `edgetune run` on the same image,
 * normalised the same way, and it made no heap call. */
static void test_example_matches_run(void) {
    const char *ex = "firmware-example/firmware-example";
    CHECKF(sh("%s", ex) == 0, "%s/%s: stdout: %s stderr: %s (make test builds it)", bin_dir, ex, out_buf, err_buf);
    CHECKF(has(out_buf, "heap calls: 0\n"), "stdout: %s", out_buf);
    char img[256], label[64];
    size_t cls = 0;
    float score = 0;
    const char *in = strstr(out_buf, "input: "), *top = strstr(out_buf, "top class: ");
    CHECK(in && top && sscanf(in, "input: %255s", img) == 1);
    CHECK(sscanf(top, "top class: %zu (%63[^)]), score %f", &cls, label, &score) == 3);

    et_image im;
    char err[256];
    CHECK_OK(et_image_read_file(img, 1, &im, err, sizeof err));
    et_model *m = NULL;
    et_metadata md;
    CHECK_OK(et_model_load_file(MODEL, &m, err, sizeof err));
    CHECK_OK(et_model_metadata(m, &md));
    CHECK(md.norm_channels == 1 && md.label_count > cls && strcmp(md.labels[cls], label) == 0);
    float *x = malloc(im.height * im.width * sizeof *x);
    CHECK(x);
    for (size_t i = 0; i < im.height * im.width; i++) x[i] = ((float)im.data[i] / 255.0f - md.mean[0]) / md.std[0];
    size_t dims[4] = {1, 1, im.height, im.width};
    CHECK_OK(et_npy_write_file(path("x.npy"), x, dims, 4));
    free(x);
    et_image_free(&im);
    et_model_free(m);

    CHECKF(sh("edgetune run %s --input '%s' --top 1", MODEL, path("x.npy")) == 0, "stderr: %s", err_buf);
    size_t run_cls = 99;
    float run_score = 0;
    const char *hit = strstr(out_buf, "1. class");
    CHECK(hit && sscanf(hit, "1. class %zu %f", &run_cls, &run_score) == 2);
    CHECKF(run_cls == cls, "example: class %zu, edgetune run: class %zu", cls, run_cls);
    CHECKF(fabsf(run_score - score) <= 1e-5f, "scores %f vs %f", (double)score, (double)run_score);
}

int main(void) {
    if (cli_setup("fw") != 0) return 1;
    RUN(test_export_c_bytes);
    RUN(test_export_c_refuses);
    RUN(test_example_matches_run);
    cli_cleanup();
    return t_summary(__FILE__);
}
