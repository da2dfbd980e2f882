/* Small helpers shared by the edgetune subcommands and tools/mkmodel.c:
 * option and number parsing, error printing, exit codes. Static inline so
 * any tool can include it alone; no library calls beyond the public API. */
#ifndef ET_CLI_H
#define ET_CLI_H

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "edgetune.h"

#ifndef CLI_PROG
#define CLI_PROG "edgetune"
#endif

enum { CLI_OK = 0, CLI_ERR = 1, CLI_USAGE = 2 };

/* Subcommands: argv[0] is the subcommand's name. */
int cmd_info(int argc, char **argv);
void cmd_info_usage(FILE *f);
int cmd_run(int argc, char **argv);
void cmd_run_usage(FILE *f);

/* "edgetune: message" on stderr; returns CLI_ERR for `return cli_error(...)`. */
#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
static inline int cli_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs(CLI_PROG ": ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return CLI_ERR;
}

/* "edgetune CMD: message" and the command's usage on stderr; CLI_USAGE. */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static inline int cli_usage_error(const char *cmd, void (*usage)(FILE *), const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, CLI_PROG "%s%s: ", cmd ? " " : "", cmd ? cmd : "");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    if (usage) usage(stderr);
    return CLI_USAGE;
}

/* A library error message that names the file when the library did not. */
static inline int cli_lib_error(const char *file, et_status st, const char *msg) {
    if (!msg || !*msg) msg = et_status_str(st);
    if (file && !strstr(msg, file)) return cli_error("%s: %s", file, msg);
    return cli_error("%s", msg);
}

/* s as a JSON string literal (quotes, backslashes and control bytes escaped). */
static inline void cli_json_str(FILE *f, const char *s) {
    fputc('"', f);
    for (; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') fprintf(f, "\\%c", ch);
        else if (ch < 0x20) fprintf(f, "\\u%04x", ch);
        else fputc(ch, f);
    }
    fputc('"', f);
}

static inline int cli_is_help(const char *a) {
    return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0;
}

/* Matches argv[*i] against "--name VALUE" or "--name=VALUE". Returns 0 when
 * it is another argument, 1 with *val set (advancing *i past a separate
 * value), -1 when the value is missing. */
static inline int cli_opt(int argc, char **argv, int *i, const char *name, const char **val) {
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0) return 0;
    if (a[n] == '=') { *val = a + n + 1; return 1; }
    if (a[n] != '\0') return 0;
    if (*i + 1 >= argc) return -1;
    *val = argv[++*i];
    return 1;
}

/* Decimal size_t with nothing else around it. */
static inline int cli_parse_size(const char *s, size_t *out) {
    if (!s || *s < '0' || *s > '9') return 0;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v > (unsigned long long)(size_t)-1) return 0;
    *out = (size_t)v;
    return 1;
}

/* "S" (square) or "HxW". */
static inline int cli_parse_hw(const char *s, size_t *h, size_t *w) {
    const char *x = strchr(s, 'x');
    if (!x) {
        if (!cli_parse_size(s, h)) return 0;
        *w = *h;
        return *h > 0;
    }
    char buf[32];
    size_t n = (size_t)(x - s);
    if (n == 0 || n >= sizeof buf) return 0;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return cli_parse_size(buf, h) && cli_parse_size(x + 1, w) && *h > 0 && *w > 0;
}

static inline int cli_parse_float(const char *s, float *out) {
    if (!s || !*s) return 0;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (errno || *end || v != v) return 0;
    *out = (float)v;
    return 1;
}

/* "3.50 M" style: counts with SI suffixes, bytes with binary ones. */
static inline const char *cli_human(double v, int binary, char *buf, size_t cap) {
    static const char *si[] = {"", " k", " M", " G", " T"}, *bi[] = {" B", " KiB", " MiB", " GiB", " TiB"};
    double base = binary ? 1024.0 : 1000.0;
    int k = 0;
    while (v >= base && k < 4) { v /= base; k++; }
    if (k == 0) snprintf(buf, cap, "%.0f%s", v, binary ? bi[0] : si[0]);
    else snprintf(buf, cap, "%.2f%s", v, binary ? bi[k] : si[k]);
    return buf;
}

#endif /* ET_CLI_H */
