/* `edgetune run`: one forward pass over a .npy batch, written back as .npy,
 * optionally with the top-K classes per item. The CLI owns the single
 * malloc of the arena; the library allocates nothing while running. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"

void cmd_run_usage(FILE *f) {
    fputs("usage: edgetune run MODEL.etm --input X.npy [--output Y.npy] [--batch-size N] [--top K] [--threads N]\n"
          "\n"
          "Runs the model on a float32 .npy array in the model's source layout:\n"
          "H,W,C or N,H,W,C for NHWC models, C,H,W or N,C,H,W for NCHW (ONNX) models.\n"
          "The array is fed as is (already normalised); H and W may differ from the\n"
          "model's default size. The output is written as [N, C] for classifiers,\n"
          "otherwise [N, H, W, C] (NHWC) or [N, C, H, W] (NCHW).\n"
          "\n"
          "  --input X.npy     input array (f4, f8, u1, i1, i4 and i8 are converted to float32)\n"
          "  --output Y.npy    where to write the output (written atomically)\n"
          "  --batch-size N    items per session run (default: the whole array)\n"
          "  --top K           print the K highest scores per item, with labels if the model has them\n"
          "  --threads N       threads per run (default 1)\n", f);
}

typedef struct run_opts {
    const char *model, *input, *output;
    size_t batch_size, top, threads;
} run_opts;

static int parse(int argc, char **argv, run_opts *o) {
    memset(o, 0, sizeof *o);
    o->threads = 1;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int r;
        if (cli_is_help(argv[i])) { cmd_run_usage(stdout); return -1; }
        if ((r = cli_opt(argc, argv, &i, "--input", &v)) != 0) {
            if (r < 0) return cli_usage_error("run", cmd_run_usage, "--input needs a file");
            o->input = v;
        } else if ((r = cli_opt(argc, argv, &i, "--output", &v)) != 0) {
            if (r < 0) return cli_usage_error("run", cmd_run_usage, "--output needs a file");
            o->output = v;
        } else if ((r = cli_opt(argc, argv, &i, "--batch-size", &v)) != 0) {
            if (r < 0 || !cli_parse_size(v, &o->batch_size) || o->batch_size == 0)
                return cli_usage_error("run", cmd_run_usage, "--batch-size needs a positive integer");
        } else if ((r = cli_opt(argc, argv, &i, "--top", &v)) != 0) {
            if (r < 0 || !cli_parse_size(v, &o->top) || o->top == 0)
                return cli_usage_error("run", cmd_run_usage, "--top needs a positive integer");
        } else if ((r = cli_opt(argc, argv, &i, "--threads", &v)) != 0) {
            if (r < 0 || !cli_parse_size(v, &o->threads) || o->threads == 0)
                return cli_usage_error("run", cmd_run_usage, "--threads needs a positive integer");
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return cli_usage_error("run", cmd_run_usage, "unknown option '%s'", argv[i]);
        } else if (!o->model) {
            o->model = argv[i];
        } else {
            return cli_usage_error("run", cmd_run_usage, "unexpected argument '%s'", argv[i]);
        }
    }
    if (!o->model) return cli_usage_error("run", cmd_run_usage, "missing MODEL.etm");
    if (!o->input) return cli_usage_error("run", cmd_run_usage, "missing --input X.npy");
    if (!o->output && !o->top) return cli_usage_error("run", cmd_run_usage, "nothing to do: give --output and/or --top");
    return CLI_OK;
}

static void shape_str(const et_array *a, char *buf, size_t cap) {
    size_t k = (size_t)snprintf(buf, cap, "[");
    for (size_t d = 0; d < a->ndim && k < cap; d++)
        k += (size_t)snprintf(buf + k, cap - k, d ? ", %zu" : "%zu", a->dims[d]);
    if (k < cap) snprintf(buf + k, cap - k, "]");
}

/* N, H, W, C of the input array in the model's source layout. */
static int input_geometry(const et_array *a, et_layout lay, size_t model_c, const char *path, et_shape *s) {
    char sh[128];
    shape_str(a, sh, sizeof sh);
    const char *want = lay == ET_LAYOUT_NCHW ? "C,H,W or N,C,H,W" : "H,W,C or N,H,W,C";
    if (a->ndim != 3 && a->ndim != 4)
        return cli_error("%s: shape %s: expected a 3-D or 4-D array (%s)", path, sh, want);
    const size_t *d = a->dims + (a->ndim - 3);
    s->n = a->ndim == 4 ? a->dims[0] : 1;
    if (lay == ET_LAYOUT_NCHW) { s->c = d[0]; s->h = d[1]; s->w = d[2]; }
    else { s->h = d[0]; s->w = d[1]; s->c = d[2]; }
    if (s->c != model_c)
        return cli_error("%s: shape %s has %zu channels, the model expects %zu (layout %s)", path, sh, s->c, model_c, want);
    if (!s->n || !s->h || !s->w) return cli_error("%s: shape %s is empty", path, sh);
    return CLI_OK;
}

/* nb items from the caller's layout into the session's NHWC input. */
static void copy_in(const float *src, et_shape s, size_t nb, et_layout lay, float *dst) {
    size_t per = s.h * s.w * s.c;
    if (lay == ET_LAYOUT_NHWC) { memcpy(dst, src, nb * per * sizeof *dst); return; }
    for (size_t n = 0; n < nb; n++)
        for (size_t c = 0; c < s.c; c++)
            for (size_t p = 0; p < s.h * s.w; p++) dst[n * per + p * s.c + c] = src[n * per + c * s.h * s.w + p];
}

/* nb items from the session's NHWC output into the caller's layout. */
static void copy_out(const float *src, et_shape s, size_t nb, et_layout lay, float *dst) {
    size_t per = s.h * s.w * s.c;
    if (lay == ET_LAYOUT_NHWC || (s.h == 1 && s.w == 1)) { memcpy(dst, src, nb * per * sizeof *dst); return; }
    for (size_t n = 0; n < nb; n++)
        for (size_t c = 0; c < s.c; c++)
            for (size_t p = 0; p < s.h * s.w; p++) dst[n * per + c * s.h * s.w + p] = src[n * per + p * s.c + c];
}

static int better(float a, float b) { return a > b || (b != b && a == a); }

static void print_top(const float *y, size_t n_items, size_t per, size_t k, const et_metadata *md) {
    if (k > per) k = per;
    size_t *idx = malloc(k * sizeof *idx);
    if (!idx) return;
    for (size_t n = 0; n < n_items; n++) {
        const float *v = y + n * per;
        printf("item %zu\n", n);
        for (size_t j = 0; j < k; j++) {
            size_t best = per;
            for (size_t i = 0; i < per; i++) {
                int taken = 0;
                for (size_t q = 0; q < j && !taken; q++) taken = idx[q] == i;
                if (!taken && (best == per || better(v[i], v[best]))) best = i;
            }
            idx[j] = best;
            const char *label = md->label_count == per && md->labels ? md->labels[best] : NULL;
            printf("  %2zu. class %-6zu %12.6f%s%s\n", j + 1, best, (double)v[best], label ? "  " : "", label ? label : "");
        }
    }
    free(idx);
}

/* Plans, prepares and runs every chunk of the batch; fills y. */
static int run_batches(const et_model *m, const run_opts *o, et_shape s, et_layout lay, const float *x,
                       float **y_out, et_shape *os_out) {
    size_t bs = o->batch_size && o->batch_size < s.n ? o->batch_size : s.n;
    et_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.batch = bs;
    cfg.height = s.h;
    cfg.width = s.w;
    cfg.threads = o->threads;
    et_plan plan;
    et_status st = et_model_plan(m, &cfg, &plan);
    if (st != ET_OK) return cli_error("%s: input %zux%zu, batch %zu: %s", o->model, s.h, s.w, bs, et_model_error(m));
    void *arena = malloc(plan.total);
    if (!arena) return cli_error("out of memory for a %zu-byte arena", plan.total);
    et_session *sess = NULL;
    float *y = NULL;
    int rc = CLI_OK;
    st = et_session_prepare(m, &cfg, arena, plan.total, &sess, NULL);
    if (st != ET_OK) { rc = cli_error("%s: prepare: %s", o->model, et_model_error(m)); goto done; }
    if (et_session_output_count(sess) > 1)
        fprintf(stderr, "edgetune run: the model has %zu outputs; writing output 0\n", et_session_output_count(sess));
    et_tensor ti, to;
    if (et_session_input(sess, 0, &ti) != ET_OK || et_session_output(sess, 0, &to) != ET_OK) {
        rc = cli_error("%s: %s", o->model, et_session_error(sess));
        goto done;
    }
    if (ti.shape.n != bs || ti.shape.h != s.h || ti.shape.w != s.w || ti.shape.c != s.c) {
        rc = cli_error("%s: session input is %zux%zux%zux%zu, expected %zux%zux%zux%zu", o->model,
                       ti.shape.n, ti.shape.h, ti.shape.w, ti.shape.c, bs, s.h, s.w, s.c);
        goto done;
    }
    et_shape os = to.shape;
    size_t per_in = s.h * s.w * s.c, per_out = os.h * os.w * os.c, total;
    if (per_out && s.n > (size_t)-1 / sizeof(float) / per_out) { rc = cli_error("output too large"); goto done; }
    total = s.n * per_out;
    y = malloc(total ? total * sizeof *y : 1);
    if (!y) { rc = cli_error("out of memory for %zu output floats", total); goto done; }
    for (size_t start = 0; start < s.n; start += bs) {
        size_t nb = s.n - start < bs ? s.n - start : bs;
        copy_in(x + start * per_in, s, nb, lay, ti.data);
        if (nb < bs) memset(ti.data + nb * per_in, 0, (bs - nb) * per_in * sizeof(float));
        st = et_session_run(sess);
        if (st != ET_OK) { rc = cli_error("%s: run: %s", o->model, et_session_error(sess)); goto done; }
        copy_out(to.data, os, nb, lay, y + start * per_out);
    }
    os.n = s.n;
    *os_out = os;
done:
    free(arena);
    if (rc != CLI_OK) free(y);
    else *y_out = y;
    return rc;
}

int cmd_run(int argc, char **argv) {
    run_opts o;
    int rc = parse(argc, argv, &o);
    if (rc < 0) return CLI_OK;
    if (rc != CLI_OK) return rc;

    et_model *m = NULL;
    char err[512] = "";
    et_status st = et_model_load_file(o.model, &m, err, sizeof err);
    if (st != ET_OK) return cli_lib_error(o.model, st, err);
    et_metadata md;
    et_shape ms;
    if ((st = et_model_metadata(m, &md)) != ET_OK || (st = et_model_input_shape(m, &ms)) != ET_OK) {
        et_model_free(m);
        return cli_lib_error(o.model, st, NULL);
    }
    et_array x;
    memset(&x, 0, sizeof x);
    st = et_npy_read_file(o.input, &x, err, sizeof err);
    if (st != ET_OK) {
        et_model_free(m);
        return cli_lib_error(o.input, st, err);
    }
    et_shape s = {0, 0, 0, 0}, os = {0, 0, 0, 0};
    float *y = NULL;
    rc = input_geometry(&x, md.source_layout, ms.c, o.input, &s);
    if (rc == CLI_OK) rc = run_batches(m, &o, s, md.source_layout, x.data, &y, &os);
    if (rc == CLI_OK && o.output) {
        size_t dims[4] = {os.n, os.h, os.w, os.c}, ndim = 4;
        if (os.h == 1 && os.w == 1) { dims[1] = os.c; ndim = 2; }
        else if (md.source_layout == ET_LAYOUT_NCHW) { dims[1] = os.c; dims[2] = os.h; dims[3] = os.w; }
        st = et_npy_write_file(o.output, y, dims, ndim);
        if (st != ET_OK) rc = cli_error("%s: cannot write: %s", o.output, et_status_str(st));
    }
    if (rc == CLI_OK && o.top) print_top(y, os.n, os.h * os.w * os.c, o.top, &md);
    free(y);
    et_array_free(&x);
    et_model_free(m);
    return rc;
}
