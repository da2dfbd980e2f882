/* Finetune checkpoints on disk: little-endian header, hyper-parameter text,
 * trainer state blobs and a trailing CRC32, written with
 * et_file_write_atomic; the previous file is kept as <path>.prev. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/checkpoint.h"
#include "cli/cli.h"

#define CKPT_MAGIC "ETFTCKPT"
/* 2 added the train accuracy counters, 3 the divergence guard's state; older
 * files still resume (counters 0, no lowered rate) */
#define CKPT_VERSION 3u

uint32_t ckpt_crc32(const void *buf, size_t len) {
    uint32_t table[256];
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
    const unsigned char *p = buf;
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < len; i++) c = table[(c ^ p[i]) & 0xff] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

typedef struct wbuf { unsigned char *p; size_t len; } wbuf;

static void put(wbuf *b, const void *src, size_t n) {
    if (b->p) memcpy(b->p + b->len, src, n);
    b->len += n;
}
static void put_u64(wbuf *b, uint64_t v) {
    unsigned char t[8];
    for (int i = 0; i < 8; i++) t[i] = (unsigned char)(v >> (8 * i));
    put(b, t, 8);
}
static void put_f64(wbuf *b, double d) { uint64_t u; memcpy(&u, &d, 8); put_u64(b, u); }

static void serialise(wbuf *b, const ckpt_data *d) {
    size_t hl = d->hparams ? strlen(d->hparams) : 0;
    put(b, CKPT_MAGIC, 8);
    put_u64(b, CKPT_VERSION);
    put_u64(b, d->pos.phase); put_u64(b, d->pos.epoch); put_u64(b, d->pos.batch);
    put_u64(b, d->pos.log_step); put_u64(b, d->pos.data_seed);
    put_f64(b, d->pos.loss_sum); put_u64(b, d->pos.loss_count); put_f64(b, d->pos.best_loss);
    put_u64(b, d->pos.best_epoch); put_u64(b, d->pos.bad_epochs);
    put_f64(b, d->pos.acc_sum); put_u64(b, d->pos.acc_count);
    put_f64(b, d->pos.lr_scale); put_u64(b, d->pos.diverged);
    put_u64(b, hl); put(b, d->hparams, hl);
    put_u64(b, d->state_len); put(b, d->state, d->state_len);
    put_u64(b, d->best ? d->best_len : 0); if (d->best) put(b, d->best, d->best_len);
}

int ckpt_write(const char *path, const ckpt_data *d) {
    wbuf b = {NULL, 0};
    serialise(&b, d);
    size_t n = b.len + 4;
    b.p = malloc(n);
    if (!b.p) { cli_error("%s: out of memory for a %zu-byte checkpoint", path, n); return -1; }
    b.len = 0;
    serialise(&b, d);
    uint32_t crc = ckpt_crc32(b.p, b.len);
    for (int i = 0; i < 4; i++) b.p[b.len + (size_t)i] = (unsigned char)(crc >> (8 * i));
    /* The newest good file becomes .prev first: a crash between the two
     * steps leaves .prev, which ckpt_read falls back to. */
    char prev[4096];
    snprintf(prev, sizeof prev, "%s.prev", path);
    FILE *f = fopen(path, "rb");
    if (f) { fclose(f); rename(path, prev); }
    et_status st = et_file_write_atomic(path, b.p, n);
    free(b.p);
    if (st != ET_OK) { cli_error("%s: cannot write checkpoint: %s", path, et_status_str(st)); return -1; }
    return 0;
}

typedef struct rbuf { const unsigned char *p; size_t len, pos; int bad; } rbuf;

static uint64_t get_u64(rbuf *r) {
    if (r->len - r->pos < 8) { r->bad = 1; return 0; }
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)r->p[r->pos + (size_t)i] << (8 * i);
    r->pos += 8;
    return v;
}
static double get_f64(rbuf *r) { uint64_t u = get_u64(r); double d; memcpy(&d, &u, 8); return d; }
static unsigned char *get_blob(rbuf *r, size_t n, int text) {
    if (r->bad || n > r->len - r->pos) { r->bad = 1; return NULL; }
    unsigned char *p = malloc(n + 1);
    if (!p) { r->bad = 1; return NULL; }
    memcpy(p, r->p + r->pos, n);
    if (text) p[n] = '\0';
    r->pos += n;
    return p;
}

void ckpt_free(ckpt_data *d) {
    free(d->hparams); free(d->state); free(d->best);
    memset(d, 0, sizeof *d);
}

/* 0 on success; else fills why. */
static int read_one(const char *path, ckpt_data *d, char *why, size_t cap) {
    memset(d, 0, sizeof *d);
    FILE *f = fopen(path, "rb");
    if (!f) { snprintf(why, cap, "cannot open it"); return -1; }
    unsigned char *buf = NULL;
    size_t len = 0, cap_b = 0, got;
    do {
        if (len == cap_b) {
            cap_b = cap_b ? 2 * cap_b : 1 << 16;
            unsigned char *nb = realloc(buf, cap_b);
            if (!nb) { free(buf); fclose(f); snprintf(why, cap, "out of memory"); return -1; }
            buf = nb;
        }
        got = fread(buf + len, 1, cap_b - len, f);
        len += got;
    } while (got > 0);
    fclose(f);
    int rc = -1;
    if (len < 12 || memcmp(buf, CKPT_MAGIC, 8) != 0) {
        snprintf(why, cap, len < 12 ? "truncated (%zu bytes)" : "not an edgetune finetune checkpoint", len);
        goto done;
    }
    uint32_t want = 0;
    for (int i = 0; i < 4; i++) want |= (uint32_t)buf[len - 4 + (size_t)i] << (8 * i);
    uint32_t crc = ckpt_crc32(buf, len - 4);
    if (crc != want) {
        snprintf(why, cap, "CRC32 %08x, expected %08x: corrupt or truncated", crc, want);
        goto done;
    }
    rbuf r = {buf, len - 4, 8, 0};
    uint64_t ver = get_u64(&r);
    if (ver < 1 || ver > CKPT_VERSION) { snprintf(why, cap, "version %llu, this edgetune reads %u", (unsigned long long)ver, CKPT_VERSION); goto done; }
    d->pos.phase = (uint32_t)get_u64(&r); d->pos.epoch = (uint32_t)get_u64(&r); d->pos.batch = get_u64(&r);
    d->pos.log_step = get_u64(&r); d->pos.data_seed = get_u64(&r);
    d->pos.loss_sum = get_f64(&r); d->pos.loss_count = get_u64(&r); d->pos.best_loss = get_f64(&r);
    d->pos.best_epoch = (uint32_t)get_u64(&r); d->pos.bad_epochs = (uint32_t)get_u64(&r);
    if (ver >= 2) { d->pos.acc_sum = get_f64(&r); d->pos.acc_count = get_u64(&r); }
    d->pos.lr_scale = 1.0;
    if (ver >= 3) {
        d->pos.lr_scale = get_f64(&r);
        d->pos.diverged = (uint32_t)get_u64(&r);
        if (!(d->pos.lr_scale > 0.0 && d->pos.lr_scale <= 1.0) || d->pos.diverged > 5) r.bad = 1;
    }
    size_t n = (size_t)get_u64(&r);
    d->hparams = (char *)get_blob(&r, n, 1);
    d->state_len = (size_t)get_u64(&r);
    d->state = get_blob(&r, d->state_len, 0);
    d->best_len = (size_t)get_u64(&r);
    if (d->best_len) d->best = get_blob(&r, d->best_len, 0);
    if (r.bad || r.pos != r.len) { snprintf(why, cap, "malformed sections"); ckpt_free(d); goto done; }
    rc = 0;
done:
    free(buf);
    return rc;
}

int ckpt_read(const char *path, ckpt_data *d, const char **used_path) {
    static char prev[4096];
    char why[160], why2[160];
    *used_path = path;
    if (read_one(path, d, why, sizeof why) == 0) return 0;
    snprintf(prev, sizeof prev, "%s.prev", path);
    fprintf(stderr, CLI_PROG ": %s: %s; trying the previous checkpoint %s\n", path, why, prev);
    if (read_one(prev, d, why2, sizeof why2) == 0) {
        *used_path = prev;
        return 0;
    }
    cli_error("%s: %s; and %s: %s", path, why, prev, why2);
    return -1;
}

int ckpt_check_hparams(const char *path, const char *saved, const char *now) {
    if (strcmp(saved, now) == 0) return 0;
    /* name the first line that differs */
    const char *a = saved, *b = now;
    while (*a && *b) {
        size_t la = strcspn(a, "\n"), lb = strcspn(b, "\n");
        if (la != lb || memcmp(a, b, la) != 0) {
            cli_error("%s: the run was started with '%.*s', now '%.*s': cannot resume with other settings",
                      path, (int)la, a, (int)lb, b);
            return -1;
        }
        a += la + (a[la] != 0);
        b += lb + (b[lb] != 0);
    }
    cli_error("%s: the run was started with other settings (%s)", path, *a ? a : b);
    return -1;
}
