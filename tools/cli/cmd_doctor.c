/* `edgetune doctor`: the debugging checklist (et_doctor_check) on a model
 * and the data and training options finetune would use, printed as a
 * pass / warn / fail report or as JSON. Never writes the model. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/ft.h"

void cmd_doctor_usage(FILE *f) {
    fputs("usage: edgetune doctor MODEL.etm [data options] [training options] [options]\n"
          "\n"
          "Runs the practitioners' checklist on throw-away copies of MODEL with the data\n"
          "and training options finetune would use (a fresh head when the data's classes\n"
          "differ), and prints pass / warn / fail per check with what was measured and\n"
          "what to try: data, initial loss, activation statistics, non-finite values,\n"
          "gradient check, update/weight ratios, overfitting one batch, learning rate.\n"
          "Exit status 1 when a check fails.\n"
          "\n"
          "  --json                 one JSON object instead of the report\n"
          "  --check NAME[,NAME]    only these checks (data, initial-loss, activations,\n"
          "                         nonfinite, gradients, updates, overfit-batch, lr)\n"
          "  --sample-batches N     batches for statistics and the non-finite trap (4)\n"
          "  --overfit-steps N      steps on the single batch (200)\n"
          "  --grad-params N        parameters checked per trainable layer (8)\n"
          "  --lr-steps N           length of the LR-finder sweep (60)\n"
          "\n", f);
    data_opts_usage(f);
    ft_train_usage(f);
}

static void json_num(FILE *f, const char *key, double v) {
    if (isfinite(v)) fprintf(f, ",\"%s\":%.6g", key, v);
    else fprintf(f, ",\"%s\":null", key);
}

/* Marks the checks named in a comma-separated list; 0 on an unknown name. */
static int parse_checks(const char *list, int *want) {
    char buf[256];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        int found = 0;
        for (int k = 0; k < ET_CHECK_COUNT; k++)
            if (strcmp(tok, et_check_name((et_check_id)k)) == 0) want[k] = found = 1;
        if (!found) return 0;
    }
    return 1;
}

static int size_opt(int argc, char **argv, int *i, const char *name, size_t *out, int *rc) {
    const char *v;
    int r = cli_opt(argc, argv, i, name, &v);
    if (r == 0) return 0;
    if (r < 0 || !cli_parse_size(v, out) || *out == 0 || *out > 100000)
        *rc = cli_usage_error("doctor", cmd_doctor_usage, "%s needs a count 1..100000", name);
    return 1;
}

int cmd_doctor(int argc, char **argv) {
    ft_opts o;
    ft_defaults(&o);
    et_doctor_config dc;
    et_doctor_config_default(&dc);
    int json = 0, want[ET_CHECK_COUNT], picked = 0, rc = CLI_OK;
    memset(want, 0, sizeof want);
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int r;
        if (cli_is_help(argv[i])) { cmd_doctor_usage(stdout); return CLI_OK; }
        r = ft_parse(argc, argv, &i, &o, "doctor", cmd_doctor_usage);
        if (r == CLI_USAGE) return r;
        if (r == 1) continue;
        if (strcmp(argv[i], "--json") == 0) json = 1;
        else if ((r = cli_opt(argc, argv, &i, "--check", &v)) != 0) {
            if (r < 0 || !parse_checks(v, want)) return cli_usage_error("doctor", cmd_doctor_usage, "--check needs names from the list below");
            picked = 1;
        } else if (size_opt(argc, argv, &i, "--sample-batches", &dc.sample_batches, &rc) ||
                   size_opt(argc, argv, &i, "--overfit-steps", &dc.overfit_steps, &rc) ||
                   size_opt(argc, argv, &i, "--grad-params", &dc.grad_params, &rc) ||
                   size_opt(argc, argv, &i, "--lr-steps", &dc.lr_steps, &rc)) {
            if (rc != CLI_OK) return rc;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return cli_usage_error("doctor", cmd_doctor_usage, "unknown option '%s'", argv[i]);
        } else if (!o.model) {
            o.model = argv[i];
        } else {
            return cli_usage_error("doctor", cmd_doctor_usage, "unexpected argument '%s'", argv[i]);
        }
    }
    if (!o.model) return cli_usage_error("doctor", cmd_doctor_usage, "missing MODEL.etm");
    if (ft_check(&o, "doctor", cmd_doctor_usage) != CLI_OK) return CLI_USAGE;
    if (!picked)
        for (int k = 0; k < ET_CHECK_COUNT; k++) want[k] = 1;

    et_model *m = NULL, *tm = NULL;
    char err[512] = "";
    et_status st = et_model_load_file(o.model, &m, err, sizeof err);
    if (st != ET_OK) return cli_lib_error(o.model, st, err);
    data_set d;
    if (data_load(&o.data, m, o.seed, &d) != CLI_OK) { et_model_free(m); return CLI_ERR; }
    rc = ft_model_for_data(&o, m, &d, &tm);
    et_model_free(m);
    if (rc != CLI_OK) { data_free(&d); return rc; }
    size_t bs = o.batch < d.train_info.count ? o.batch : d.train_info.count;
    ft_train_config(&o, &d, bs, o.lr, o.lr_lo, o.freeze_to, &dc.train);
    dc.batch = d.bc_train;
    dc.seed = o.seed;

    if (json) printf("{\"model\":"), cli_json_str(stdout, o.model), printf(",\"checks\":[");
    else printf("edgetune doctor: %s, %zu training samples, %zu classes, batch %zu\n\n", o.model, d.train_info.count, d.classes, bs);
    int fails = 0, warns = 0, first = 1;
    for (int k = 0; k < ET_CHECK_COUNT; k++) {
        if (!want[k]) continue;
        et_check c;
        st = et_doctor_check(tm, d.train, d.valid, &dc, (et_check_id)k, &c, err, sizeof err);
        if (st != ET_OK) { rc = cli_error("doctor %s: %s", et_check_name((et_check_id)k), err); break; }
        fails += c.status == ET_CHECK_FAIL;
        warns += c.status == ET_CHECK_WARN;
        if (json) {
            printf("%s{\"check\":\"%s\",\"status\":\"%s\"", first ? "" : ",", et_check_name(c.id), et_check_status_name(c.status));
            json_num(stdout, "value", c.value);
            json_num(stdout, "expected", c.expected);
            printf(",\"where\":"); cli_json_str(stdout, c.where);
            printf(",\"measured\":"); cli_json_str(stdout, c.measured);
            printf(",\"advice\":"); cli_json_str(stdout, c.advice);
            printf("}");
        } else {
            printf("[%s] %-14s %s\n", et_check_status_name(c.status), et_check_name(c.id), c.measured);
            if (c.advice[0]) printf("       %-14s try: %s\n", "", c.advice);
        }
        first = 0;
        fflush(stdout);
    }
    if (json) printf("],\"fails\":%d,\"warnings\":%d}\n", fails, warns);
    else if (rc == CLI_OK) printf("\n%d failed, %d warnings\n", fails, warns);
    et_model_free(tm);
    data_free(&d);
    if (rc == CLI_OK && fails) rc = CLI_ERR;
    return rc;
}
