/* Trainer checkpoint state: a versioned little-endian blob of trained
 * weights, gradients (mid-accumulation), optimizer state, running statistics
 * and counters, closed by a CRC32. No file I/O here: callers write it with
 * et_file_write_atomic. */
#include <math.h>
#include <string.h>
#include "format/crc32.h"
#include "train/trainer.h"

#define STATE_MAGIC 0x4B435445u /* "ETCK" */
#define STATE_VERSION 1u
#define HEADER_BYTES 48u

typedef struct cursor {
    unsigned char *w;       /* writing (NULL when only measuring) */
    const unsigned char *r; /* reading */
    size_t pos;
} cursor;

static void put_u32(cursor *c, uint32_t v) {
    if (c->w) for (int i = 0; i < 4; i++) c->w[c->pos + (size_t)i] = (unsigned char)(v >> (8 * i));
    c->pos += 4;
}
static void put_u64(cursor *c, uint64_t v) { put_u32(c, (uint32_t)v); put_u32(c, (uint32_t)(v >> 32)); }
static uint32_t get_u32(cursor *c) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v |= (uint32_t)c->r[c->pos + (size_t)i] << (8 * i);
    c->pos += 4;
    return v;
}
static uint64_t get_u64(cursor *c) { uint64_t lo = get_u32(c); return lo | (uint64_t)get_u32(c) << 32; }

static void floats(cursor *c, float *p, size_t n, int load) {
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        if (load) { u = get_u32(c); memcpy(&p[i], &u, 4); }
        else { memcpy(&u, &p[i], 4); put_u32(c, u); }
    }
}

/* FNV-1a over everything that decides the state's layout. */
static uint64_t layout_hash(const et_trainer *t) {
    uint64_t h = 1469598103934665603ull;
    uint64_t v[8];
#define MIX(x) do { v[0] = (uint64_t)(x); for (int b_ = 0; b_ < 8; b_++) { h ^= (v[0] >> (8 * b_)) & 0xff; h *= 1099511628211ull; } } while (0)
    MIX(t->n_nodes); MIX(t->n_params); MIX(t->n_groups); MIX(t->first); MIX(t->cfg.optim.kind);
    for (uint32_t i = 0; i < t->n_nodes; i++) MIX(t->m->nodes[i].op);
    for (uint32_t p = 0; p < t->n_params; p++) {
        const tparam *tp = &t->params[p];
        MIX(tp->count); MIX(tp->trained); MIX(tp->s1 != NULL); MIX(tp->s2 != NULL); MIX(tp->s3 != NULL);
    }
#undef MIX
    return h;
}

/* Walk the state once: measure (c->w NULL), save, or load. */
static void walk(et_trainer *t, cursor *c, int load) {
    for (uint32_t p = 0; p < t->n_params; p++) {
        tparam *tp = &t->params[p];
        if (!tp->trained) continue;
        floats(c, tp->w, tp->count, load);
        floats(c, tp->g, tp->count, load);
        if (tp->s1) floats(c, tp->s1, tp->count, load);
        if (tp->s2) floats(c, tp->s2, tp->count, load);
        if (tp->s3) floats(c, tp->s3, tp->count, load);
    }
    for (uint32_t i = 0; i < t->n_nodes; i++)
        if (t->nodes[i].run_mean) {
            size_t n = t->m->nodes[i].params[0].count;
            floats(c, t->nodes[i].run_mean, n, load);
            floats(c, t->nodes[i].run_var, n, load);
        }
    floats(c, t->group_lr, t->n_groups, load);
}

static int live(const et_trainer *t) { return t && t->magic == ET_TRAINER_MAGIC; }

et_status et_trainer_state_size(const et_trainer *t, size_t *bytes) {
    if (!live(t) || !bytes) return ET_ERR_INVALID_ARG;
    cursor c = {NULL, NULL, HEADER_BYTES};
    walk((et_trainer *)t, &c, 0);
    *bytes = c.pos + 4;
    return ET_OK;
}

et_status et_trainer_state_save(const et_trainer *t, void *buf, size_t cap) {
    size_t need;
    if (!live(t) || !buf) return ET_ERR_INVALID_ARG;
    et_trainer_state_size(t, &need);
    if (cap < need) return et_fail(((et_trainer *)t)->err, sizeof t->err, ET_ERR_INVALID_ARG, "state: buffer of %zu bytes, %zu needed", cap, need);
    /* a checkpoint with non-finite weights would only preserve a diverged run */
    for (uint32_t p = 0; p < t->n_params; p++)
        if (t->params[p].trained && !isfinite(et_grad_sq_norm(t->params[p].count, t->params[p].w)))
            return et_fail(((et_trainer *)t)->err, sizeof t->err, ET_ERR_NUMERIC, "state: node %u has non-finite weights; not saved", t->params[p].node);
    cursor c = {buf, NULL, 0};
    float mom = t->momentum;
    uint32_t mu;
    memcpy(&mu, &mom, 4);
    put_u32(&c, STATE_MAGIC); put_u32(&c, STATE_VERSION); put_u64(&c, layout_hash(t));
    put_u64(&c, t->steps); put_u64(&c, t->batches); put_u64(&c, t->dropout_counter);
    put_u32(&c, mu); put_u32(&c, t->n_groups);
    walk((et_trainer *)t, &c, 0);
    put_u32(&c, et_crc32(buf, c.pos));
    return ET_OK;
}

et_status et_trainer_state_load(et_trainer *t, const void *buf, size_t len) {
    if (!live(t) || !buf) return ET_ERR_INVALID_ARG;
    size_t need;
    et_trainer_state_size(t, &need);
    cursor c = {NULL, buf, 0};
    if (len < HEADER_BYTES) return et_fail(t->err, sizeof t->err, ET_ERR_FORMAT, "state: %zu bytes is shorter than the %u-byte header", len, HEADER_BYTES);
    if (get_u32(&c) != STATE_MAGIC) return et_fail(t->err, sizeof t->err, ET_ERR_FORMAT, "state: byte 0: not an edgetune trainer state");
    uint32_t ver = get_u32(&c);
    if (ver != STATE_VERSION) return et_fail(t->err, sizeof t->err, ET_ERR_VERSION, "state: byte 4: version %u, this library reads %u", ver, STATE_VERSION);
    if (get_u64(&c) != layout_hash(t))
        return et_fail(t->err, sizeof t->err, ET_ERR_INVALID_ARG, "state: byte 8: saved by a trainer of another model or configuration");
    if (len != need) return et_fail(t->err, sizeof t->err, ET_ERR_FORMAT, "state: %zu bytes, this trainer's state has %zu (truncated?)", len, need);
    cursor crc = {NULL, buf, len - 4};
    uint32_t want = get_u32(&crc), got = et_crc32(buf, len - 4);
    if (want != got) return et_fail(t->err, sizeof t->err, ET_ERR_CRC, "state: CRC32 %08x, expected %08x: the state is corrupt", got, want);
    /* validated: only now touch the trainer */
    t->steps = get_u64(&c);
    t->batches = get_u64(&c);
    t->dropout_counter = get_u64(&c);
    uint32_t mu = get_u32(&c);
    memcpy(&t->momentum, &mu, 4);
    (void)get_u32(&c); /* n_groups, covered by the hash */
    walk(t, &c, 1);
    et_train_repack(t);
    return ET_OK;
}
