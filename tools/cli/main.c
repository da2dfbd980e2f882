/* edgetune command-line tool: git-style dispatch to one file per subcommand
 * (tools/cli/cmd_*.c). Only the table of commands and the top-level help
 * live here; each command parses its own options. */
#include <stdio.h>
#include <string.h>
#include "cli/cli.h"

typedef struct cli_cmd {
    const char *name;
    int (*run)(int argc, char **argv);
    void (*usage)(FILE *f);
    const char *summary;
} cli_cmd;

/* ONNX subcommands (tools/cli/cmd_convert.c, cmd_export_onnx.c) */
int cmd_convert(int argc, char **argv);
void cmd_convert_usage(FILE *f);
int cmd_export_onnx(int argc, char **argv);
void cmd_export_onnx_usage(FILE *f);
int cmd_export_c(int argc, char **argv); void cmd_export_c_usage(FILE *f); /* tools/cli/cmd_export_c.c */

int cmd_bench(int argc, char **argv); void cmd_bench_usage(FILE *f); /* tools/cli/cmd_bench.c */
/* Fine-tuning (tools/cli/cmd_finetune.c, cmd_lr_find.c, cmd_plot.c) */
int cmd_finetune(int argc, char **argv); void cmd_finetune_usage(FILE *f);
int cmd_lr_find(int argc, char **argv); void cmd_lr_find_usage(FILE *f);
int cmd_plot(int argc, char **argv); void cmd_plot_usage(FILE *f);
int cmd_doctor(int argc, char **argv); void cmd_doctor_usage(FILE *f); /* tools/cli/cmd_doctor.c */
int cmd_cam(int argc, char **argv); void cmd_cam_usage(FILE *f); /* tools/cli/cmd_cam.c */
static const cli_cmd commands[] = {
    {"info", cmd_info, cmd_info_usage, "show a model's layers, parameters, MACs and arena plan"},
    {"run", cmd_run, cmd_run_usage, "run a model on a .npy input and write the output .npy"},
    {"bench", cmd_bench, cmd_bench_usage, "per-layer and whole-network speed (ms, GFLOP/s, % of FMA peak)"},
    {"convert", cmd_convert, cmd_convert_usage, "convert an ONNX model to .etm (or --check it)"},
    {"export-onnx", cmd_export_onnx, cmd_export_onnx_usage, "write a model as ONNX (opset 13, NCHW)"},
    {"export-c", cmd_export_c, cmd_export_c_usage, "write a model as a C array for firmware (et_model_load_static)"},
    {"finetune", cmd_finetune, cmd_finetune_usage, "fine-tune a model on image folders, IDX or .npy data"},
    {"lr-find", cmd_lr_find, cmd_lr_find_usage, "LR range test: suggested learning rates and a loss-vs-LR plot"},
    {"plot", cmd_plot, cmd_plot_usage, "SVG plots of a finetune log (loss, accuracy, LR, momentum)"},
    {"doctor", cmd_doctor, cmd_doctor_usage, "debugging checklist: initial loss, gradients, activations, LR, data"},
    {"cam", cmd_cam, cmd_cam_usage, "class activation map of an image: where the model looks (CAM / Grad-CAM)"},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f) {
    fputs("usage: edgetune [--help] [--version] COMMAND [ARGS]\n\ncommands:\n", f);
    for (size_t i = 0; i < N_COMMANDS; i++) fprintf(f, "  %-11s %s\n", commands[i].name, commands[i].summary);
    fputs("\n'edgetune help COMMAND' or 'edgetune COMMAND --help' shows a command's options.\n"
          "Exit status: 0 ok, 1 runtime error, 2 usage error.\n", f);
}

static const cli_cmd *find(const char *name) {
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0) return &commands[i];
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    const char *a = argv[1];
    if (cli_is_help(a)) {
        usage(stdout);
        return CLI_OK;
    }
    if (strcmp(a, "--version") == 0 || strcmp(a, "version") == 0) {
        printf("edgetune %s\n", et_version());
        return CLI_OK;
    }
    if (strcmp(a, "help") == 0) {
        if (argc < 3) {
            usage(stdout);
            return CLI_OK;
        }
        const cli_cmd *c = find(argv[2]);
        if (!c) return cli_usage_error(NULL, usage, "no help for '%s': not an edgetune command", argv[2]);
        c->usage(stdout);
        return CLI_OK;
    }
    const cli_cmd *c = find(a);
    if (!c) return cli_usage_error(NULL, usage, "'%s' is not an edgetune command", a);
    return c->run(argc - 1, argv + 1);
}
