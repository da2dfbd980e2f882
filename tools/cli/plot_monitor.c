/* `edgetune plot` for the "monitor" records of finetune --monitor:
 * activations.svg, fastai's "colourful dimension" (per layer, the value
 * histogram over time, brighter = more values, log scale), and
 * updates.svg (log10 update/weight ratio per trained group). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/plot_monitor.h"
#include "cli/svg.h"

#define MAX_LAYERS 256
#define MAX_PANELS 12
#define BINS 40
#define MAX_GROUP_SERIES 4
#define MAX_RECS 1024

typedef struct mon_rec {
    double step;
    size_t n_layers;
    char names[MAX_LAYERS][64];
    uint32_t hist[MAX_LAYERS][BINS];
    size_t n_groups;
    int group[64];
    double ratio[64];
} mon_rec;

/* Parses one monitor line (by key search: finetune writes a fixed shape). */
static void parse_rec(const char *line, mon_rec *r) {
    memset(r, 0, sizeof *r);
    const char *p = strstr(line, "\"step\":");
    r->step = p ? strtod(p + 7, NULL) : NAN;
    const char *groups = strstr(line, "\"groups\":[");
    for (p = strstr(line, "{\"name\":\""); p && (!groups || p < groups) && r->n_layers < MAX_LAYERS;
         p = strstr(p + 1, "{\"name\":\"")) {
        size_t k = r->n_layers++, j = 0;
        const char *s = p + 9;
        for (; *s && *s != '"' && j + 1 < sizeof r->names[k]; s++)
            if (*s != '\\') r->names[k][j++] = *s;
        const char *h = strstr(p, "\"hist\":[");
        if (!h) continue;
        h += 8;
        for (size_t b = 0; b < BINS && *h && *h != ']'; b++) {
            char *end;
            r->hist[k][b] = (uint32_t)strtoul(h, &end, 10);
            h = *end == ',' ? end + 1 : end;
        }
    }
    for (p = groups ? strstr(groups, "{\"group\":") : NULL; p && r->n_groups < 64; p = strstr(p + 1, "{\"group\":")) {
        r->group[r->n_groups] = atoi(p + 9);
        const char *q = strstr(p, "\"ratio\":");
        r->ratio[r->n_groups++] = q && strncmp(q + 8, "null", 4) != 0 ? strtod(q + 8, NULL) : NAN;
    }
}

static void heat_color(double v, char *buf) {
    /* dark blue -> teal -> yellow */
    double r = v < 0.5 ? 0.1 : 0.1 + 1.8 * (v - 0.5), g = 0.1 + 0.8 * v, b = v < 0.5 ? 0.35 + 0.6 * v : 0.65 - 1.1 * (v - 0.5);
    snprintf(buf, 8, "#%02x%02x%02x", (int)(255 * fmin(1, fmax(0, r))), (int)(255 * fmin(1, fmax(0, g))), (int)(255 * fmin(1, fmax(0, b))));
}

static int write_heatmap(const char *path, mon_rec *recs, size_t n) {
    size_t nl = recs[0].n_layers, panels = nl < MAX_PANELS ? nl : MAX_PANELS;
    size_t cols = n < 200 ? n : 200, W = 640, PH = 64, top = 40, gap = 22;
    FILE *f = fopen(path, "w");
    if (!f) return cli_error("%s: cannot write: %s", path, strerror(errno));
    size_t H = top + panels * (PH + gap) + 10;
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%zu\" height=\"%zu\" viewBox=\"0 0 %zu %zu\">\n"
               "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
               "<text x=\"10\" y=\"22\" font-family=\"sans-serif\" font-size=\"14\">activation histograms over training (colourful dimension; log scale; bottom = low values)</text>\n",
            W + 20, H, W + 20, H);
    double cw = (double)W / (double)cols, ch = (double)PH / BINS;
    for (size_t pi = 0; pi < panels; pi++) {
        size_t L = panels == 1 ? 0 : pi * (nl - 1) / (panels - 1); /* spread over depth, last included */
        double y0 = (double)(top + pi * (PH + gap) + gap - 6);
        fprintf(f, "<text x=\"10\" y=\"%.1f\" font-family=\"sans-serif\" font-size=\"10\">layer %zu: ", y0 - 3, L);
        for (const char *s = recs[0].names[L]; *s; s++)
            if (*s == '<') fputs("&lt;", f); else if (*s == '&') fputs("&amp;", f); else if (*s == '>') fputs("&gt;", f); else fputc(*s, f);
        fputs("</text>\n", f);
        for (size_t c = 0; c < cols; c++) {
            const mon_rec *r = &recs[c * n / cols];
            double mx = 0;
            for (size_t b = 0; b < BINS; b++) mx = fmax(mx, log1p((double)r->hist[L][b]));
            for (size_t b = 0; b < BINS; b++) {
                char col[8];
                heat_color(mx > 0 ? log1p((double)r->hist[L][b]) / mx : 0.0, col);
                fprintf(f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\"/>\n", 10 + c * cw,
                        y0 + (BINS - 1 - b) * ch, cw + 0.05, ch + 0.05, col);
            }
        }
    }
    fputs("</svg>\n", f);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) return cli_error("%s: write failed", path);
    return 0;
}

int plot_monitor(const char *log, const char *dir, int *wrote) {
    *wrote = 0;
    FILE *f = fopen(log, "r");
    if (!f) return cli_error("%s: cannot open the log", log);
    mon_rec *recs = NULL;
    size_t n = 0, cap = 0;
    char *line = NULL;
    size_t lcap = 0;
    int rc = 0;
    /* long runs: keep every stride-th record, doubling the stride whenever
     * MAX_RECS are held (the plots show at most 200 columns anyway) */
    size_t seen = 0, stride = 1;
    while (rc == 0 && getline(&line, &lcap, f) > 0) {
        if (!strstr(line, "\"type\":\"monitor\"")) continue;
        if (seen++ % stride != 0) continue;
        if (n == MAX_RECS) {
            for (size_t i = 0; i < n / 2; i++) recs[i] = recs[2 * i];
            n /= 2;
            stride *= 2;
            if ((seen - 1) % stride != 0) continue;
        }
        if (n == cap) {
            size_t nc = cap ? 2 * cap : 16;
            mon_rec *p = realloc(recs, nc * sizeof *p);
            if (!p) { rc = cli_error("out of memory reading %s", log); break; }
            recs = p;
            cap = nc;
        }
        parse_rec(line, &recs[n]);
        /* the layer set changes when a recipe phase unfreezes: keep the last phase's */
        if (n && recs[n].n_layers != recs[0].n_layers) { recs[0] = recs[n]; n = 0; }
        n++;
    }
    free(line);
    fclose(f);
    if (rc == 0 && n && recs[0].n_layers) {
        char p1[4096], p2[4096];
        snprintf(p1, sizeof p1, "%s/activations.svg", dir);
        snprintf(p2, sizeof p2, "%s/updates.svg", dir);
        rc = write_heatmap(p1, recs, n);
        double *xs = malloc(n * sizeof *xs), *ys = malloc(MAX_GROUP_SERIES * n * sizeof *ys);
        static const char *const colors[MAX_GROUP_SERIES] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"};
        char names[MAX_GROUP_SERIES][32];
        svg_plot p;
        memset(&p, 0, sizeof p);
        p.title = "update / weight ratio per trained group (log10; about -3 is typical)";
        p.xlabel = "step";
        p.ylabel = "log10(|update| / |weight|)";
        size_t ng = recs[n - 1].n_groups, first = ng > MAX_GROUP_SERIES ? ng - MAX_GROUP_SERIES : 0;
        if (rc == 0 && xs && ys && ng) {
            for (size_t s = first; s < ng; s++) {
                double *y = ys + (s - first) * n;
                for (size_t i = 0; i < n; i++) {
                    xs[i] = recs[i].step;
                    y[i] = NAN;
                    for (size_t g = 0; g < recs[i].n_groups; g++)
                        if (recs[i].group[g] == recs[n - 1].group[s] && recs[i].ratio[g] > 0) y[i] = log10(recs[i].ratio[g]);
                }
                snprintf(names[s - first], sizeof names[0], "group %d", recs[n - 1].group[s]);
                p.series[p.n_series++] = (svg_series){xs, y, n, colors[s - first], names[s - first], 0};
            }
            if (svg_write(p2, &p) != 0) rc = CLI_ERR;
        } else if (rc == 0 && (!xs || !ys)) {
            rc = cli_error("out of memory plotting %s", log);
        }
        free(xs);
        free(ys);
        if (rc == 0) *wrote = 1, printf("wrote %s, %s (%zu monitor records)\n", p1, p2, n);
    }
    free(recs);
    return rc;
}
