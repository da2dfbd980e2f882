/* `edgetune plot RUN.jsonl`: SVG plots of a finetune log — loss per step
 * with valid loss per epoch, accuracy per epoch, and the LR and momentum
 * schedules. Reads only the keys finetune writes (fit.c). */
#include <math.h>
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/plot_monitor.h"
#include "cli/svg.h"

void cmd_plot_usage(FILE *f) {
    fputs("usage: edgetune plot RUN.jsonl [-o DIR]\n"
          "\n"
          "Writes DIR/loss.svg (train loss per step, valid loss per epoch),\n"
          "DIR/accuracy.svg, DIR/lr.svg and DIR/momentum.svg from a finetune log, and\n"
          "with finetune --monitor records DIR/activations.svg (per-layer value histograms\n"
          "over time) and DIR/updates.svg (update/weight ratio per group).\n"
          "DIR defaults to the log's folder.\n", f);
}

/* The number after "key": in a JSON line; NAN when absent or null. */
static double jget(const char *line, const char *key) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(line, pat);
    if (!p) return NAN;
    p += strlen(pat);
    if (strncmp(p, "null", 4) == 0) return NAN;
    char *end;
    double v = strtod(p, &end);
    return end == p ? NAN : v;
}

typedef struct col { double *v; size_t n, cap; } col;

static int push(col *c, double v) {
    if (c->n == c->cap) {
        size_t nc = c->cap ? 2 * c->cap : 256;
        double *p = realloc(c->v, nc * sizeof *p);
        if (!p) return 0;
        c->v = p;
        c->cap = nc;
    }
    c->v[c->n++] = v;
    return 1;
}

int cmd_plot(int argc, char **argv) {
    const char *log = NULL, *out = NULL;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int r;
        if (cli_is_help(argv[i])) { cmd_plot_usage(stdout); return CLI_OK; }
        if ((r = cli_opt(argc, argv, &i, "-o", &v)) != 0) {
            if (r < 0) return cli_usage_error("plot", cmd_plot_usage, "-o needs a folder");
            out = v;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return cli_usage_error("plot", cmd_plot_usage, "unknown option '%s'", argv[i]);
        } else if (!log) {
            log = argv[i];
        } else {
            return cli_usage_error("plot", cmd_plot_usage, "unexpected argument '%s'", argv[i]);
        }
    }
    if (!log) return cli_usage_error("plot", cmd_plot_usage, "missing RUN.jsonl");
    char dir[4000];
    if (out) snprintf(dir, sizeof dir, "%s", out);
    else {
        snprintf(dir, sizeof dir, "%s", log);
        char *s = strrchr(dir, '/');
        if (s) *s = '\0'; else snprintf(dir, sizeof dir, ".");
    }
    /* -o names a folder to write into; make it like mkdir would */
    if (out && mkdir(dir, 0777) != 0 && errno != EEXIST) return cli_error("%s: cannot create the folder: %s", dir, strerror(errno));
    FILE *f = fopen(log, "r");
    if (!f) return cli_error("%s: cannot open the log", log);
    col st = {0}, loss = {0}, lr = {0}, mom = {0}, est = {0}, tl = {0}, vl = {0}, acc = {0}, f1 = {0};
    char *line = NULL;
    size_t cap = 0, lineno = 0, bad = 0;
    int ok = 1;
    while (ok && getline(&line, &cap, f) > 0) {
        lineno++;
        if (strstr(line, "\"type\":\"step\"")) {
            ok = push(&st, jget(line, "step")) && push(&loss, jget(line, "loss")) && push(&lr, jget(line, "lr")) &&
                 push(&mom, jget(line, "mom"));
        } else if (strstr(line, "\"type\":\"epoch\"")) {
            ok = push(&est, jget(line, "step")) && push(&tl, jget(line, "train_loss")) && push(&vl, jget(line, "valid_loss")) &&
                 push(&acc, jget(line, "accuracy")) && push(&f1, jget(line, "f1"));
        } else if (!strstr(line, "\"type\":")) {
            bad++;
        }
    }
    free(line);
    fclose(f);
    int rc = CLI_OK;
    if (!ok) rc = cli_error("out of memory reading %s", log);
    else if (st.n == 0) rc = cli_error("%s: no step lines: not a finetune log (%zu lines)", log, lineno);
    if (rc == CLI_OK) {
        if (bad) fprintf(stderr, CLI_PROG " plot: %s: skipped %zu lines that are not finetune records\n", log, bad);
        char p1[4096], p2[4096], p3[4096], p4[4096];
        snprintf(p1, sizeof p1, "%s/loss.svg", dir);
        snprintf(p2, sizeof p2, "%s/accuracy.svg", dir);
        snprintf(p3, sizeof p3, "%s/lr.svg", dir);
        snprintf(p4, sizeof p4, "%s/momentum.svg", dir);
        svg_plot p;
        memset(&p, 0, sizeof p);
        p.title = "loss";
        p.xlabel = "step";
        p.ylabel = "loss";
        p.series[0] = (svg_series){st.v, loss.v, st.n, "#1f77b4", "train (step)", 0};
        p.series[1] = (svg_series){est.v, tl.v, est.n, "#ff7f0e", "train (epoch)", 1};
        p.series[2] = (svg_series){est.v, vl.v, est.n, "#d62728", "valid (epoch)", 1};
        p.n_series = 3;
        if (svg_write(p1, &p) != 0) rc = CLI_ERR;
        memset(&p, 0, sizeof p);
        p.title = "validation metrics";
        p.xlabel = "step";
        p.ylabel = "metric";
        p.series[0] = (svg_series){est.v, acc.v, est.n, "#2ca02c", "accuracy", 1};
        p.series[1] = (svg_series){est.v, f1.v, est.n, "#9467bd", "f1 (multi-label)", 1};
        p.n_series = 2;
        if (rc == CLI_OK && svg_write(p2, &p) != 0) rc = CLI_ERR;
        memset(&p, 0, sizeof p);
        p.title = "learning rate schedule";
        p.xlabel = "step";
        p.ylabel = "learning rate (last group)";
        p.series[0] = (svg_series){st.v, lr.v, st.n, "#1f77b4", "lr", 0};
        p.n_series = 1;
        if (rc == CLI_OK && svg_write(p3, &p) != 0) rc = CLI_ERR;
        p.title = "momentum schedule";
        p.ylabel = "momentum (SGD/RMSprop) or beta1 (Adam)";
        p.series[0] = (svg_series){st.v, mom.v, st.n, "#ff7f0e", "momentum", 0};
        if (rc == CLI_OK && svg_write(p4, &p) != 0) rc = CLI_ERR;
        if (rc == CLI_OK) printf("wrote %s, %s, %s, %s\n", p1, p2, p3, p4);
        int wrote;
        if (rc == CLI_OK && plot_monitor(log, dir, &wrote) != 0) rc = CLI_ERR;
    }
    free(st.v); free(loss.v); free(lr.v); free(mom.v); free(est.v); free(tl.v); free(vl.v); free(acc.v); free(f1.v);
    return rc;
}
