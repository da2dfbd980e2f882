/* A tiny SVG line-plot writer for lr-find and plot: axes, ticks (linear or
 * log10 x), labels, polylines and marked points. No plotting dependency;
 * no knowledge of training here. */
#ifndef ET_CLI_SVG_H
#define ET_CLI_SVG_H

#include <stddef.h>

typedef struct svg_series {
    const double *x, *y;
    size_t n;
    const char *color, *name;
    int dots;                 /* draw points instead of a line */
} svg_series;

typedef struct svg_mark {
    double x, y;
    const char *label, *color;
} svg_mark;

typedef struct svg_plot {
    const char *title, *xlabel, *ylabel;
    int logx;
    svg_series series[4];
    size_t n_series;
    svg_mark marks[4];
    size_t n_marks;
} svg_plot;

/* Writes the plot atomically; returns 0, or prints an error naming path. */
int svg_write(const char *path, const svg_plot *p);

#endif
