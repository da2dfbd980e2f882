/* `edgetune convert`: ONNX model in, .etm out (BatchNorm folded, activations
 * fused, NCHW interface recorded), or with --check a list of every problem
 * that stops the conversion. All conversion logic is in the library. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"

int cmd_convert(int argc, char **argv);
void cmd_convert_usage(FILE *f);

void cmd_convert_usage(FILE *f) {
    fputs("usage: edgetune convert MODEL.onnx OUT.etm [--input-shape 1,C,H,W] [--keep-bn]\n"
          "       edgetune convert --check MODEL.onnx [--input-shape 1,C,H,W]\n"
          "\n"
          "Converts a float32 ONNX CNN (opsets 9 to 18) to an edgetune model. Shape\n"
          "arithmetic is folded at the fixed input size; BatchNorm is folded into the\n"
          "preceding Conv/Gemm and activations are fused. The model keeps an NCHW\n"
          "interface: `edgetune run` takes and returns N,C,H,W arrays.\n"
          "\n"
          "  --input-shape N,C,H,W  fix dimensions the model leaves dynamic (N is ignored)\n"
          "  --keep-bn              keep BatchNormalization nodes (for fine-tuning with BN)\n"
          "  --check                only check: list every unsupported op, attribute,\n"
          "                         data type or dynamic shape, then exit (0: convertible)\n", f);
}

static int parse_shape(const char *s, et_onnx_options *o) {
    size_t v[4];
    char buf[96];
    if (strlen(s) >= sizeof buf) return 0;
    strcpy(buf, s);
    char *save = NULL, *tok = strtok_r(buf, ",x", &save);
    size_t n = 0;
    while (tok && n < 4) {
        if (!cli_parse_size(tok, &v[n]) || v[n] == 0) return 0;
        n++;
        tok = strtok_r(NULL, ",x", &save);
    }
    if (n != 4 || tok) return 0;
    o->input_n = v[0]; o->input_c = v[1]; o->input_h = v[2]; o->input_w = v[3];
    return 1;
}

int cmd_convert(int argc, char **argv) {
    const char *in = NULL, *out = NULL;
    int check = 0;
    et_onnx_options o;
    memset(&o, 0, sizeof o);
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int r;
        if (cli_is_help(argv[i])) { cmd_convert_usage(stdout); return CLI_OK; }
        if (strcmp(argv[i], "--check") == 0) check = 1;
        else if (strcmp(argv[i], "--keep-bn") == 0) o.keep_bn = 1;
        else if ((r = cli_opt(argc, argv, &i, "--input-shape", &v)) != 0) {
            if (r < 0 || !parse_shape(v, &o)) return cli_usage_error("convert", cmd_convert_usage, "--input-shape needs N,C,H,W (positive integers)");
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return cli_usage_error("convert", cmd_convert_usage, "unknown option '%s'", argv[i]);
        } else if (!in) in = argv[i];
        else if (!out) out = argv[i];
        else return cli_usage_error("convert", cmd_convert_usage, "unexpected argument '%s'", argv[i]);
    }
    if (!in) return cli_usage_error("convert", cmd_convert_usage, "missing MODEL.onnx");
    if (!check && !out) return cli_usage_error("convert", cmd_convert_usage, "missing OUT.etm (or give --check)");
    if (check && out) return cli_usage_error("convert", cmd_convert_usage, "--check takes only MODEL.onnx");
    o.all_errors = check;
    size_t err_len = check ? 65536 : 1024;
    char *err = calloc(1, err_len);
    if (!err) return cli_error("out of memory");
    et_model *m = NULL;
    et_status st = et_onnx_import_file(in, &o, &m, err, err_len);
    int rc = CLI_OK;
    if (st != ET_OK) {
        if (check) {
            size_t n = 1;
            for (const char *p = err; *p; p++) n += *p == '\n';
            fprintf(stderr, "%s: %zu problem%s:\n", in, n, n == 1 ? "" : "s");
            for (char *p = err; *p;) {
                char *e = strchr(p, '\n');
                if (e) *e = '\0';
                fprintf(stderr, "  %s\n", p);
                if (!e) break;
                p = e + 1;
            }
            rc = CLI_ERR;
        } else {
            rc = cli_lib_error(in, st, err);
        }
    } else if (check) {
        printf("%s: ok, converts to %zu nodes, %zu parameters\n", in, et_model_node_count(m), et_model_param_count(m));
    } else if ((st = et_model_save_file(m, out)) != ET_OK) {
        rc = cli_lib_error(out, st, et_model_error(m));
    } else {
        et_shape s;
        et_model_input_shape(m, &s);
        printf("%s -> %s: %zu nodes, %zu parameters, input %zux%zux%zu (C,H,W)\n", in, out, et_model_node_count(m),
               et_model_param_count(m), s.c, s.h, s.w);
    }
    et_model_free(m);
    free(err);
    return rc;
}
