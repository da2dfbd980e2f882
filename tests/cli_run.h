/* Helpers shared by the tests that drive the built programs (edgetune,
 * mkmodel, the firmware example) through the shell: a scratch folder, the
 * binary folder (ET_BUILD) and runner (ET_RUNNER, e.g. qemu-aarch64 under
 * make test-cross), captured stdout/stderr. Header-only like harness.h. */
#ifndef ET_TEST_CLI_RUN_H
#define ET_TEST_CLI_RUN_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[64];
static const char *bin_dir = "build", *runner = "";
static char out_buf[1 << 16], err_buf[1 << 14];

/* dir/name; eight rotating buffers so several can appear in one call. */
static inline const char *path(const char *name) {
    static char buf[8][256];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

/* The file's start into buf (NUL-terminated); bytes read. */
static inline size_t slurp(const char *p, char *buf, size_t cap) {
    buf[0] = '\0';
    FILE *f = fopen(p, "rb");
    if (!f) return 0;
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
    return n;
}

static inline int has(const char *hay, const char *needle) { return strstr(hay, needle) != NULL; }

/* Reads ET_BUILD / ET_RUNNER and makes the scratch folder; 0 on success. */
static inline int cli_setup(const char *tag) {
    const char *b = getenv("ET_BUILD"), *r = getenv("ET_RUNNER");
    if (b && *b) bin_dir = b;
    if (r) runner = r;
    snprintf(dir, sizeof dir, "/tmp/et_%s_XXXXXX", tag);
    if (!mkdtemp(dir)) { perror("mkdtemp"); return -1; }
    return 0;
}

static inline void cli_cleanup(void) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) printf("    could not remove %s\n", dir);
}

/* Runs "<bin_dir>/<program and args>" under the runner with stdout/stderr
 * captured in out_buf/err_buf; the exit status, or -1. */
static inline int run_va(const char *prefix, const char *fmt, va_list ap) {
    char args[2048], cmd[2800];
    vsnprintf(args, sizeof args, fmt, ap);
    snprintf(cmd, sizeof cmd, "%s%s'%s'/%s%s >'%s' 2>'%s' </dev/null", runner, *runner ? " " : "", bin_dir, prefix, args,
             path("stdout.txt"), path("stderr.txt"));
    int rc = system(cmd);
    slurp(path("stdout.txt"), out_buf, sizeof out_buf);
    slurp(path("stderr.txt"), err_buf, sizeof err_buf);
    return rc == -1 || !WIFEXITED(rc) ? -1 : WEXITSTATUS(rc);
}

#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
static inline int sh(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int rc = run_va("", fmt, ap);
    va_end(ap);
    return rc;
}

/* sh("edgetune " ...). */
#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
static inline int et_cli(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int rc = run_va("edgetune ", fmt, ap);
    va_end(ap);
    return rc;
}

#endif
