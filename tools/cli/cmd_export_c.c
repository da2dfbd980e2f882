/* `edgetune export-c`: a model's .etm bytes as a C source and header, so a
 * firmware links the model into flash and loads it with
 * et_model_load_static (no file system, no heap). Only text generation here;
 * the model is checked by the library loader before anything is written. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cli/cli.h"

int cmd_export_c(int argc, char **argv);
void cmd_export_c_usage(FILE *f);

#define NAME_MAX_LEN 64
#define BYTES_PER_LINE 16

void cmd_export_c_usage(FILE *f) {
    fputs("usage: edgetune export-c MODEL.etm NAME [-o DIR]\n"
          "\n"
          "Writes DIR/NAME.c and DIR/NAME.h (DIR defaults to '.'): the model file's\n"
          "bytes as\n"
          "    _Alignas(64) const unsigned char NAME_etm[];  const size_t NAME_etm_len;\n"
          "for et_model_load_static(NAME_etm, NAME_etm_len, mem, bytes, ...), with a\n"
          "comment naming the file, its size and its FNV-1a 64 hash. NAME must be a\n"
          "C identifier. The model is loaded (and so checked) first; both files are\n"
          "written atomically. The source compiles warning-free as C11 with\n"
          "-Wall -Wextra -Wpedantic.\n"
          "\n"
          "  -o, --output DIR   folder for NAME.c and NAME.h (must exist)\n", f);
}

/* Letters, digits and '_', not starting with a digit, not reserved to the
 * implementation (a leading '__' or '_' + capital). */
static const char *bad_identifier(const char *s) {
    size_t n = strlen(s);
    if (n == 0) return "it is empty";
    if (n > NAME_MAX_LEN) return "it is longer than 64 characters";
    if (s[0] >= '0' && s[0] <= '9') return "it starts with a digit";
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
            return "only letters, digits and '_' may appear";
    }
    if (s[0] == '_' && (s[1] == '_' || (s[1] >= 'A' && s[1] <= 'Z'))) return "names starting with '__' or '_' and a capital are reserved";
    return NULL;
}

/* A path made safe for a C comment: anything but a few plain characters
 * becomes '_' (so no "*" "/", trigraph or line splice can end up there). */
static void comment_safe(const char *s, char *dst, size_t cap) {
    size_t k = 0;
    for (; *s && k + 1 < cap; s++) {
        char c = *s;
        int plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("._-+/@:=,", c);
        int closes = c == '/' && k && dst[k - 1] == '*';
        dst[k] = plain && !closes ? c : '_';
        k++;
    }
    dst[k] = '\0';
}

static uint64_t fnv1a64(const unsigned char *p, size_t n) {
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3u;
    return h;
}

typedef struct text { char *p; size_t len, cap; } text;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void put(text *t, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    if (n > 0) t->len += (size_t)n < t->cap - t->len ? (size_t)n : t->cap - t->len - 1;
}

static int read_file(const char *path, unsigned char **out, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return cli_error("%s: cannot open: %s", path, strerror(errno));
    unsigned char *b = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 1 << 16;
            unsigned char *nb = realloc(b, cap);
            if (!nb) { free(b); fclose(f); return cli_error("%s: out of memory", path); }
            b = nb;
        }
        size_t got = fread(b + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) { free(b); return cli_error("%s: read error", path); }
    *out = b;
    *len = n;
    return CLI_OK;
}

static int write_text(const char *dir, const char *name, const char *ext, const text *t) {
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s%s", dir, name, ext) >= sizeof path) return cli_error("%s: output path too long", dir);
    et_status st = et_file_write_atomic(path, t->p, t->len);
    if (st != ET_OK) return cli_error("%s: cannot write: %s", path, et_status_str(st));
    return CLI_OK;
}

static int generate(const char *model, const char *name, const char *dir, const unsigned char *b, size_t len,
                    const et_model *m) {
    char where[512];
    comment_safe(model, where, sizeof where);
    uint64_t hash = fnv1a64(b, len);
    text h = {NULL, 0, 4096}, c = {NULL, 0, 0};
    /* "0xhh, " per byte, a line break and indent per line, plus the comment */
    c.cap = len / BYTES_PER_LINE * 8 + len * 6 + 4096;
    h.p = malloc(h.cap);
    c.p = malloc(c.cap);
    if (!h.p || !c.p) { free(h.p); free(c.p); return cli_error("out of memory for %zu bytes of C text", c.cap); }
    char info[1024];
    snprintf(info, sizeof info,
             " *   model file  %s\n"
             " *   size        %zu bytes\n"
             " *   FNV-1a 64   0x%016llx\n"
             " *   graph       %zu nodes, %zu parameters\n",
             where, len, (unsigned long long)hash, et_model_node_count(m), et_model_param_count(m));
    put(&h, "/* %s.h: the edgetune model below as a C array (see %s.c).\n"
            " * Generated by `edgetune export-c` (edgetune %s); do not edit.\n", name, name, et_version());
    put(&h, "%s", info);
    put(&h, " */\n#ifndef %s_ETM_H\n#define %s_ETM_H\n\n#include <stddef.h>\n\n"
            "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n"
            "/* The .etm bytes, 64-byte aligned: et_model_load_static uses the weights\n"
            " * in place, so only the model's tables need RAM. */\n"
            "extern const unsigned char %s_etm[%zu];\nextern const size_t %s_etm_len;\n\n"
            "#ifdef __cplusplus\n}\n#endif\n\n#endif\n", name, name, name, len, name);
    put(&c, "/* %s.c: the edgetune model below as a C array, for et_model_load_static.\n"
            " * Generated by `edgetune export-c` (edgetune %s); do not edit.\n", name, et_version());
    put(&c, "%s", info);
    put(&c, " */\n#include <stddef.h>\n#include \"%s.h\"\n\n_Alignas(64) const unsigned char %s_etm[%zu] = {\n", name, name, len);
    for (size_t i = 0; i < len; i++) {
        if (i % BYTES_PER_LINE == 0) put(&c, "   ");
        put(&c, " 0x%02x,", b[i]);
        if (i % BYTES_PER_LINE == BYTES_PER_LINE - 1 || i + 1 == len) put(&c, "\n");
    }
    put(&c, "};\n\nconst size_t %s_etm_len = %zu;\n", name, len);
    int rc = c.len + 1 >= c.cap || h.len + 1 >= h.cap ? cli_error("internal: C text buffer too small") : CLI_OK;
    /* the header first: a build never sees a new .c next to an old .h */
    if (rc == CLI_OK) rc = write_text(dir, name, ".h", &h);
    if (rc == CLI_OK) rc = write_text(dir, name, ".c", &c);
    free(h.p);
    free(c.p);
    return rc;
}

int cmd_export_c(int argc, char **argv) {
    const char *model = NULL, *name = NULL, *dir = ".";
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int r;
        if (cli_is_help(argv[i])) { cmd_export_c_usage(stdout); return CLI_OK; }
        if ((r = cli_opt(argc, argv, &i, "-o", &v)) != 0 || (r = cli_opt(argc, argv, &i, "--output", &v)) != 0) {
            if (r < 0 || !*v) return cli_usage_error("export-c", cmd_export_c_usage, "-o needs a folder");
            dir = v;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return cli_usage_error("export-c", cmd_export_c_usage, "unknown option '%s'", argv[i]);
        } else if (!model) {
            model = argv[i];
        } else if (!name) {
            name = argv[i];
        } else {
            return cli_usage_error("export-c", cmd_export_c_usage, "unexpected argument '%s'", argv[i]);
        }
    }
    if (!model || !name) return cli_usage_error("export-c", cmd_export_c_usage, "need MODEL.etm and NAME");
    const char *why = bad_identifier(name);
    if (why) return cli_usage_error("export-c", cmd_export_c_usage, "NAME '%s' is not a C identifier: %s", name, why);

    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) return cli_error("%s: not a folder (-o DIR must exist)", dir);
    unsigned char *b = NULL;
    size_t len = 0;
    if (read_file(model, &b, &len) != CLI_OK) return CLI_ERR;
    et_model *m = NULL;
    char err[512] = "";
    size_t need = 0;
    et_status st = et_model_load_buffer(b, len, &m, err, sizeof err);
    if (st == ET_OK) st = et_model_load_static(b, len, NULL, 0, NULL, &need, err, sizeof err);
    int rc = st == ET_OK ? generate(model, name, dir, b, len, m) : cli_lib_error(model, st, err);
    if (rc == CLI_OK)
        printf("%s -> %s/%s.c, %s/%s.h: %zu bytes as %s_etm[]; et_model_load_static needs %zu bytes of RAM on this host\n",
               model, dir, name, dir, name, len, name, need);
    et_model_free(m);
    free(b);
    return rc;
}
