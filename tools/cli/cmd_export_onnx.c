/* `edgetune export-onnx`: writes an .etm model (for example after fine-tuning
 * on the board) as an ONNX opset-13 model with an NCHW interface, so PyTorch
 * or ONNX Runtime can use the new weights. Logic is in the library. */
#include <stdio.h>
#include <string.h>
#include "cli/cli.h"

int cmd_export_onnx(int argc, char **argv);
void cmd_export_onnx_usage(FILE *f);

void cmd_export_onnx_usage(FILE *f) {
    fputs("usage: edgetune export-onnx MODEL.etm OUT.onnx\n"
          "\n"
          "Writes the model with its current weights as ONNX (opset 13). The ONNX\n"
          "input is N,C,H,W float32 named 'input' (batch dynamic); outputs are N,C\n"
          "for classifiers, otherwise N,C,H,W. The file is written atomically.\n", f);
}

int cmd_export_onnx(int argc, char **argv) {
    const char *in = NULL, *out = NULL;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) { cmd_export_onnx_usage(stdout); return CLI_OK; }
        if (argv[i][0] == '-' && argv[i][1] != '\0') return cli_usage_error("export-onnx", cmd_export_onnx_usage, "unknown option '%s'", argv[i]);
        if (!in) in = argv[i];
        else if (!out) out = argv[i];
        else return cli_usage_error("export-onnx", cmd_export_onnx_usage, "unexpected argument '%s'", argv[i]);
    }
    if (!in || !out) return cli_usage_error("export-onnx", cmd_export_onnx_usage, "need MODEL.etm and OUT.onnx");
    et_model *m = NULL;
    char err[512] = "";
    et_status st = et_model_load_file(in, &m, err, sizeof err);
    if (st != ET_OK) return cli_lib_error(in, st, err);
    st = et_onnx_export_file(m, out, err, sizeof err);
    int rc = st == ET_OK ? CLI_OK : cli_lib_error(out, st, err);
    if (rc == CLI_OK) printf("%s -> %s: %zu nodes, %zu parameters\n", in, out, et_model_node_count(m), et_model_param_count(m));
    et_model_free(m);
    return rc;
}
