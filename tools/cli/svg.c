/* SVG line plots: a fixed 720x440 canvas, nice tick steps (1, 2, 5 x 10^k)
 * or decades on a log x axis, escaped text. Built in memory and written
 * with et_file_write_atomic so a half-written plot never appears. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/svg.h"

enum { W = 720, H = 440, L = 80, R = 150, T = 40, B = 60 };

static void text(FILE *f, const char *s) {
    for (; s && *s; s++) {
        if (*s == '<') fputs("&lt;", f);
        else if (*s == '>') fputs("&gt;", f);
        else if (*s == '&') fputs("&amp;", f);
        else if (*s == '"') fputs("&quot;", f);
        else fputc(*s, f);
    }
}

static double nice_step(double range) {
    if (!(range > 0)) return 1;
    double e = pow(10, floor(log10(range / 5))), r = range / 5 / e;
    return (r >= 5 ? 5 : r >= 2 ? 2 : 1) * e;
}

typedef struct frame { double x0, x1, y0, y1; int logx; } frame;

static double px(const frame *fr, double x) {
    double a = fr->logx ? log10(x) : x;
    return L + (a - fr->x0) / (fr->x1 - fr->x0) * (W - L - R);
}
static double py(const frame *fr, double y) { return H - B - (y - fr->y0) / (fr->y1 - fr->y0) * (H - T - B); }

static int usable(const frame *fr, double x, double y) { return isfinite(x) && isfinite(y) && (!fr->logx || x > 0); }

int svg_write(const char *path, const svg_plot *p) {
    frame fr = {INFINITY, -INFINITY, INFINITY, -INFINITY, p->logx};
    for (size_t s = 0; s < p->n_series; s++)
        for (size_t i = 0; i < p->series[s].n; i++) {
            double x = p->series[s].x[i], y = p->series[s].y[i];
            if (!usable(&fr, x, y)) continue;
            double a = fr.logx ? log10(x) : x;
            if (a < fr.x0) fr.x0 = a;
            if (a > fr.x1) fr.x1 = a;
            if (y < fr.y0) fr.y0 = y;
            if (y > fr.y1) fr.y1 = y;
        }
    if (fr.x0 > fr.x1) { fr.x0 = 0; fr.x1 = 1; fr.y0 = 0; fr.y1 = 1; }
    if (fr.x1 - fr.x0 < 1e-12) { fr.x0 -= 0.5; fr.x1 += 0.5; }
    if (fr.y1 - fr.y0 < 1e-12 * (fabs(fr.y0) + 1)) { fr.y0 -= 0.5 * (fabs(fr.y0) + 1e-3); fr.y1 += 0.5 * (fabs(fr.y1) + 1e-3); }
    double pad = 0.05 * (fr.y1 - fr.y0);
    fr.y0 -= pad;
    fr.y1 += pad;

    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return cli_error("%s: out of memory for the plot", path), -1;
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
               "font-family=\"sans-serif\" font-size=\"12\">\n", W, H, W, H);
    fprintf(f, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"white\"/>\n", W, H);
    fputs("<text x=\"360\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">", f);
    text(f, p->title);
    fputs("</text>\n", f);
    /* axes */
    fprintf(f, "<g stroke=\"black\" fill=\"none\"><line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
               "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/></g>\n", L, H - B, W - R, H - B, L, T, L, H - B);
    /* x ticks */
    if (fr.logx) {
        for (double d = ceil(fr.x0 - 1e-4); d <= fr.x1 + 1e-4; d += 1) {
            double x = L + (d - fr.x0) / (fr.x1 - fr.x0) * (W - L - R);
            fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"black\"/>"
                       "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#dddddd\"/>"
                       "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">1e%+03d</text>\n",
                    x, H - B, x, H - B + 5, x, T, x, H - B - 1, x, H - B + 18, (int)d);
        }
    } else {
        double st = nice_step(fr.x1 - fr.x0);
        for (double v = ceil(fr.x0 / st) * st; v <= fr.x1 + 1e-9 * st; v += st) {
            double x = px(&fr, v);
            fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"black\"/>"
                       "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%g</text>\n", x, H - B, x, H - B + 5, x, H - B + 18, v);
        }
    }
    double st = nice_step(fr.y1 - fr.y0);
    for (double v = ceil(fr.y0 / st) * st; v <= fr.y1 + 1e-9 * st; v += st) {
        double y = py(&fr, v);
        fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"black\"/>"
                   "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#dddddd\"/>"
                   "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.4g</text>\n",
                L - 5, y, L, y, L + 1, y, W - R, y, L - 8, y + 4, fabs(v) < 1e-12 * st ? 0.0 : v);
    }
    fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">", (L + W - R) / 2, H - 18);
    text(f, p->xlabel);
    fprintf(f, "</text>\n<text x=\"18\" y=\"%d\" text-anchor=\"middle\" transform=\"rotate(-90 18 %d)\">", (T + H - B) / 2, (T + H - B) / 2);
    text(f, p->ylabel);
    fputs("</text>\n", f);
    for (size_t s = 0; s < p->n_series; s++) {
        const svg_series *se = &p->series[s];
        if (se->dots) {
            fprintf(f, "<g fill=\"%s\">", se->color);
            for (size_t i = 0; i < se->n; i++)
                if (usable(&fr, se->x[i], se->y[i]))
                    fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\"/>", px(&fr, se->x[i]), py(&fr, se->y[i]));
            fputs("</g>\n", f);
        } else {
            fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"", se->color);
            for (size_t i = 0; i < se->n; i++)
                if (usable(&fr, se->x[i], se->y[i])) fprintf(f, "%.1f,%.1f ", px(&fr, se->x[i]), py(&fr, se->y[i]));
            fputs("\"/>\n", f);
        }
        fprintf(f, "<line x1=\"%d\" y1=\"%zu\" x2=\"%d\" y2=\"%zu\" stroke=\"%s\" stroke-width=\"3\"/><text x=\"%d\" y=\"%zu\">",
                W - R + 10, T + 10 + 18 * s, W - R + 30, T + 10 + 18 * s, se->color, W - R + 35, T + 14 + 18 * s);
        text(f, se->name);
        fputs("</text>\n", f);
    }
    for (size_t k = 0; k < p->n_marks; k++) {
        const svg_mark *mk = &p->marks[k];
        if (!usable(&fr, mk->x, mk->y)) continue;
        double x = px(&fr, mk->x), y = py(&fr, mk->y);
        size_t row = p->n_series + k;
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"%s\"/>"
                   "<circle cx=\"%d\" cy=\"%zu\" r=\"5\" fill=\"%s\"/><text x=\"%d\" y=\"%zu\">",
                x, y, mk->color, W - R + 20, T + 10 + 18 * row, mk->color, W - R + 35, T + 14 + 18 * row);
        text(f, mk->label);
        fputs("</text>\n", f);
    }
    fputs("</svg>\n", f);
    if (fclose(f) != 0 || !buf) { free(buf); return cli_error("%s: out of memory for the plot", path), -1; }
    et_status s = et_file_write_atomic(path, buf, len);
    free(buf);
    if (s != ET_OK) return cli_error("%s: cannot write: %s", path, et_status_str(s)), -1;
    return 0;
}
