/* finetune --monitor: one "monitor" log record every N steps with each
 * layer's statistics since the last record and each trained group's update
 * size on the step just taken. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/fit_monitor.h"

int fit_monitor_begin(fit_monitor *fm, et_trainer *t, size_t every) {
    memset(fm, 0, sizeof *fm);
    if (!every) return 0;
    fm->every = every;
    fm->t = t;
    fm->n_groups = et_trainer_group_count(t);
    fm->u = calloc(fm->n_groups ? fm->n_groups : 1, sizeof *fm->u);
    if (!fm->u || et_monitor_new(t, &fm->mon) != ET_OK || et_trainer_set_monitor(t, fm->mon) != ET_OK) {
        fit_monitor_end(fm);
        cli_error("--monitor: out of memory");
        return -1;
    }
    return 0;
}

void fit_monitor_before(fit_monitor *fm, uint64_t step) {
    if (fm->mon && step % fm->every == 0) et_monitor_snapshot(fm->mon);
}

static void num(FILE *f, const char *key, double v, int first) {
    if (isfinite(v)) fprintf(f, "%s\"%s\":%.6g", first ? "" : ",", key, v);
    else fprintf(f, "%s\"%s\":null", first ? "" : ",", key);
}

void fit_monitor_after(fit_monitor *fm, FILE *log, uint64_t step, size_t epoch) {
    if (!fm->mon || step % fm->every != 0) return;
    fprintf(log, "{\"type\":\"monitor\",\"step\":%llu,\"epoch\":%zu,\"layers\":[", (unsigned long long)step, epoch);
    et_layer_stats L;
    for (size_t i = 0; et_monitor_layer(fm->mon, i, &L) == ET_OK; i++) {
        fputs(i ? ",{\"name\":" : "{\"name\":", log);
        cli_json_str(log, L.name);
        num(log, "mean", L.mean, 0);
        num(log, "std", L.std, 0);
        num(log, "zero", L.frac_zero, 0);
        num(log, "dead", L.channels ? (double)L.dead_channels / (double)L.channels : 0.0, 0);
        fprintf(log, ",\"lo\":%g,\"hi\":%g,\"hist\":[", (double)L.hist_lo, (double)L.hist_hi);
        for (size_t b = 0; b < ET_HIST_BINS; b++) fprintf(log, "%s%u", b ? "," : "", (unsigned)L.hist[b]);
        fputs("]}", log);
    }
    fputs("],\"groups\":[", log);
    int first = 1;
    if (et_monitor_updates(fm->mon, fm->u, fm->n_groups) == ET_OK)
        for (size_t g = 0; g < fm->n_groups; g++) {
            if (!fm->u[g].trainable) continue;
            fprintf(log, "%s{\"group\":%zu", first ? "" : ",", g);
            num(log, "grad_norm", fm->u[g].grad_norm, 0);
            num(log, "ratio", fm->u[g].ratio, 0);
            fputc('}', log);
            first = 0;
        }
    fputs("]}\n", log);
    et_monitor_reset(fm->mon);
}

void fit_monitor_end(fit_monitor *fm) {
    if (fm->mon) et_monitor_free(fm->mon);
    free(fm->u);
    memset(fm, 0, sizeof *fm);
}
