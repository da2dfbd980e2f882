/* mkmodel: writes zoo models as .etm and random input arrays as .npy, for
 * demos, benchmarks and tests. A developer tool beside the edgetune CLI;
 * it uses only the public API, the zoo and the CLI helpers. */
#define CLI_PROG "mkmodel"
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "edgetune.h"
#include "zoo/zoo.h"

static void usage(FILE *f) {
    fputs("usage: mkmodel mobilenet_v2 OUT.etm [--classes N] [--size S|HxW] [--width W] [--seed N] [--no-fold]\n"
          "       mkmodel input N,H,W,C OUT.npy [--seed N]\n"
          "\n"
          "mobilenet_v2  torchvision's MobileNetV2 with random weights (seeded), built with\n"
          "              batchnorm and folded before saving unless --no-fold.\n"
          "              Defaults: --classes 1000 --size 224 --width 1.0 --seed 1\n"
          "input         a float32 .npy of the given shape (any 1-8 dims), uniform in [-1, 1)\n"
          "\n"
          "Exit status: 0 ok, 1 runtime error, 2 usage error.\n", f);
}

#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
static int bad_usage(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("mkmodel: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    usage(stderr);
    return CLI_USAGE;
}

static int make_mobilenet(int argc, char **argv) {
    size_t classes = 1000, h = 224, w = 224;
    float width = 1.0f;
    size_t seed = 1;
    int fold = 1;
    const char *out_path = NULL;
    for (int i = 2; i < argc; i++) {
        const char *v = NULL;
        int r;
        if (strcmp(argv[i], "--no-fold") == 0) { fold = 0; continue; }
        if ((r = cli_opt(argc, argv, &i, "--classes", &v)) != 0) {
            if (r < 0 || !cli_parse_size(v, &classes) || classes == 0) return bad_usage("--classes needs a positive integer");
        } else if ((r = cli_opt(argc, argv, &i, "--size", &v)) != 0) {
            if (r < 0 || !cli_parse_hw(v, &h, &w)) return bad_usage("--size needs S or HxW");
        } else if ((r = cli_opt(argc, argv, &i, "--width", &v)) != 0) {
            if (r < 0 || !cli_parse_float(v, &width) || !(width > 0.0f)) return bad_usage("--width needs a positive number");
        } else if ((r = cli_opt(argc, argv, &i, "--seed", &v)) != 0) {
            if (r < 0 || !cli_parse_size(v, &seed) || seed > 0xffffffffu) return bad_usage("--seed needs an integer < 2^32");
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return bad_usage("unknown option '%s'", argv[i]);
        } else if (!out_path) {
            out_path = argv[i];
        } else {
            return bad_usage("unexpected argument '%s'", argv[i]);
        }
    }
    if (!out_path) return bad_usage("mobilenet_v2: missing OUT.etm");

    et_model *m = NULL, *folded = NULL;
    char err[256];
    et_status st = et_zoo_mobilenet_v2_err(classes, h, w, width, (unsigned)seed, 1, &m, err, sizeof err);
    if (st != ET_OK) return cli_error("%s", err[0] ? err : et_status_str(st));
    if (fold) {
        st = et_model_fold(m, &folded);
        if (st != ET_OK) {
            cli_error("fold: %s", et_model_error(m));
            et_model_free(m);
            return CLI_ERR;
        }
        et_model_free(m);
        m = folded;
    }
    st = et_model_save_file(m, out_path);
    int rc = CLI_OK;
    if (st != ET_OK) rc = cli_lib_error(out_path, st, et_model_error(m));
    et_model_free(m);
    return rc;
}

/* Parses "N,H,W,C" (1 to 8 positive sizes). */
static int parse_dims(const char *s, size_t *dims, size_t *ndim) {
    *ndim = 0;
    while (*s) {
        char buf[32];
        size_t n = strcspn(s, ",");
        if (n == 0 || n >= sizeof buf || *ndim == ET_NPY_MAX_DIMS) return 0;
        memcpy(buf, s, n);
        buf[n] = '\0';
        if (!cli_parse_size(buf, &dims[*ndim]) || dims[*ndim] == 0) return 0;
        ++*ndim;
        s += n;
        if (*s == ',') {
            s++;
            if (!*s) return 0;
        }
    }
    return *ndim > 0;
}

static int make_input(int argc, char **argv) {
    size_t dims[ET_NPY_MAX_DIMS], ndim = 0, seed = 1;
    const char *shape = NULL, *out_path = NULL;
    for (int i = 2; i < argc; i++) {
        const char *v = NULL;
        int r;
        if ((r = cli_opt(argc, argv, &i, "--seed", &v)) != 0) {
            if (r < 0 || !cli_parse_size(v, &seed) || seed > 0xffffffffu) return bad_usage("--seed needs an integer < 2^32");
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return bad_usage("unknown option '%s'", argv[i]);
        } else if (!shape) {
            shape = argv[i];
        } else if (!out_path) {
            out_path = argv[i];
        } else {
            return bad_usage("unexpected argument '%s'", argv[i]);
        }
    }
    if (!shape || !out_path) return bad_usage("input: needs a shape and OUT.npy");
    if (!parse_dims(shape, dims, &ndim)) return bad_usage("bad shape '%s' (want e.g. 1,224,224,3)", shape);
    size_t count = 1;
    for (size_t d = 0; d < ndim; d++) {
        if (dims[d] > ((size_t)-1 / sizeof(float)) / count) return cli_error("shape %s is too large", shape);
        count *= dims[d];
    }
    float *x = malloc(count * sizeof *x);
    if (!x) return cli_error("out of memory for %zu floats", count);
    uint64_t s = 0x1234567ull ^ ((uint64_t)seed << 20);
    for (size_t i = 0; i < count; i++) {
        uint64_t z = (s += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        z ^= z >> 31;
        x[i] = (float)(z >> 40) / (float)(1u << 23) - 1.0f;
    }
    et_status st = et_npy_write_file(out_path, x, dims, ndim);
    free(x);
    if (st != ET_OK) return cli_error("%s: cannot write: %s", out_path, et_status_str(st));
    return CLI_OK;
}

int main(int argc, char **argv) {
    if (argc < 2) { usage(stderr); return CLI_USAGE; }
    if (cli_is_help(argv[1]) || strcmp(argv[1], "help") == 0) { usage(stdout); return CLI_OK; }
    for (int i = 2; i < argc; i++)
        if (cli_is_help(argv[i])) { usage(stdout); return CLI_OK; }
    if (strcmp(argv[1], "mobilenet_v2") == 0) return make_mobilenet(argc, argv);
    if (strcmp(argv[1], "input") == 0) return make_input(argc, argv);
    return bad_usage("unknown model or command '%s'", argv[1]);
}
