/* SVG checks shared by the CLI tests: a small XML well-formedness checker
 * and, when installed, xmllint. Header-only (static) like harness.h. */
#ifndef ET_TEST_SVG_CHECK_H
#define ET_TEST_SVG_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A tiny XML well-formedness check: balanced tags, quoted attributes,
 * escaped text. Enough to catch what breaks a browser's SVG parser. */
static int xml_ok(const char *s, char *why, size_t cap) {
    char stack[64][32];
    int depth = 0, root_seen = 0;
    while (*s) {
        if (*s != '<') {
            if (*s == '&' && strncmp(s, "&lt;", 4) && strncmp(s, "&gt;", 4) && strncmp(s, "&amp;", 5) && strncmp(s, "&quot;", 6))
                return snprintf(why, cap, "bare &"), 0;
            if (depth == 0 && root_seen && *s != '\n' && *s != ' ') return snprintf(why, cap, "text after the root"), 0;
            s++;
            continue;
        }
        if (s[1] == '?') { s = strstr(s, "?>"); if (!s) return snprintf(why, cap, "open <?"), 0; s += 2; continue; }
        int closing = s[1] == '/';
        const char *n = s + 1 + closing;
        size_t len = strspn(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_:-");
        if (len == 0 || len >= 32) return snprintf(why, cap, "bad tag name near '%.20s'", s), 0;
        const char *p = n + len;
        if (closing) {
            if (depth == 0 || strlen(stack[depth - 1]) != len || strncmp(stack[depth - 1], n, len))
                return snprintf(why, cap, "unbalanced </%.*s>", (int)len, n), 0;
            depth--;
            p += strspn(p, " ");
            if (*p != '>') return snprintf(why, cap, "bad closing tag"), 0;
            s = p + 1;
            continue;
        }
        /* attributes: name="value" */
        for (;;) {
            p += strspn(p, " \n\t");
            if (*p == '>' || (p[0] == '/' && p[1] == '>')) break;
            size_t an = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_:-");
            if (an == 0 || p[an] != '=' || p[an + 1] != '"') return snprintf(why, cap, "unquoted attribute near '%.20s'", p), 0;
            const char *q = strchr(p + an + 2, '"');
            if (!q) return snprintf(why, cap, "unterminated attribute"), 0;
            for (const char *c = p + an + 2; c < q; c++) if (*c == '<') return snprintf(why, cap, "< in attribute"), 0;
            p = q + 1;
        }
        if (*p == '>') {
            if (depth == 64) return snprintf(why, cap, "too deep"), 0;
            memcpy(stack[depth], n, len);
            stack[depth++][len] = '\0';
            s = p + 1;
        } else {
            s = p + 2;
        }
        root_seen = 1;
    }
    if (depth) return snprintf(why, cap, "<%s> not closed", stack[depth - 1]), 0;
    return root_seen ? 1 : (snprintf(why, cap, "no element"), 0);
}

/* xmllint when installed, and always the C checker. */
static int svg_ok(const char *file) {
    static char buf[1 << 22];
    char why[128] = "";
    FILE *f = fopen(file, "rb");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f) fclose(f);
    buf[n] = '\0';
    if (n == 0) { printf("    %s: empty or missing\n", file); return 0; }
    if (n == sizeof buf - 1) { printf("    %s: larger than the checker's buffer\n", file); return 0; }
    if (!strstr(buf, "<svg") || !xml_ok(buf, why, sizeof why)) { printf("    %s: %s\n", file, why); return 0; }
    if (system("command -v xmllint >/dev/null 2>&1") == 0) {
        char cmd[512];
        snprintf(cmd, sizeof cmd, "xmllint --noout '%s'", file);
        if (system(cmd) != 0) { printf("    xmllint rejects %s\n", file); return 0; }
    }
    return 1;
}

#endif
