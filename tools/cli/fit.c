/* The finetune loop: recipe phases, seeded epoch order, schedule per step,
 * validation, early stopping, log lines, progress, checkpoints. Everything
 * a step depends on is a function of (options, phase, epoch, batch) or lives
 * in the checkpoint, which is what makes --resume bit-identical. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cli/cli.h"
#include "cli/fit.h"
#include "cli/feature_cache.h"
#include "cli/fit_monitor.h"

typedef struct phase {
    size_t epochs, first_epoch;
    int freeze_to;
    float lr_lo;
    et_schedule sched;
} phase;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* JSON number; non-finite values become null. */
static void jnum(FILE *f, const char *key, double v) {
    if (isfinite(v)) fprintf(f, ",\"%s\":%.9g", key, v);
    else fprintf(f, ",\"%s\":null", key);
}

static void cpu_name(char *buf, size_t cap) {
    snprintf(buf, cap, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) != 0 && strncmp(line, "Model", 5) != 0) continue;
        const char *c = strchr(line, ':');
        if (!c) continue;
        c += 1 + (c[1] == ' ');
        size_t j = 0;
        for (; c[j] && c[j] != '\n' && j + 1 < cap; j++) buf[j] = c[j] == '"' || c[j] == '\\' ? '_' : c[j];
        buf[j] = '\0';
        break;
    }
    fclose(f);
}

void fit_log_header(fit_ctx *c, const char *type) {
    char cpu[128];
    cpu_name(cpu, sizeof cpu);
    FILE *f = c->log;
    fprintf(f, "{\"type\":\"%s\",\"edgetune\":\"%s\",\"model_fnv1a\":\"%016llx\",\"cpu\":\"%s\",\"isa\":\"%s\",\"threads\":%zu,"
            "\"data\":%s,\"hparams\":{", type, et_version(), (unsigned long long)c->model_hash, cpu,
            et_isa_name(et_isa_best()), c->o->threads, c->d->summary);
    /* every "key=value" line of the canonical text, as strings */
    const char *p = c->hparams;
    int first = 1;
    while (*p) {
        size_t n = strcspn(p, "\n"), k = strcspn(p, "=");
        if (k < n) {
            fprintf(f, "%s\"%.*s\":\"", first ? "" : ",", (int)k, p);
            for (size_t j = k + 1; j < n; j++) fputc(p[j] == '"' || p[j] == '\\' ? '_' : p[j], f);
            fputc('"', f);
            first = 0;
        }
        p += n + (p[n] != 0);
    }
    fprintf(f, "}}\n");
    fflush(f);
}

static void build_phases(const ft_opts *o, size_t nb, phase *ph, size_t *n) {
    memset(ph, 0, 2 * sizeof *ph);
    if (o->recipe == RECIPE_FINE_TUNE) {
        /* fastai fine_tune: freeze, fit_one_cycle(1, base, pct_start 0.99);
         * unfreeze, fit_one_cycle(epochs, slice(base/2/100, base/2), pct_start 0.3, div 5) */
        ph[0].epochs = 1;
        ph[0].freeze_to = o->freeze_set ? o->freeze_to : -1;
        et_schedule_default(&ph[0].sched, ET_SCHED_ONECYCLE, o->lr);
        ph[0].sched.pct_start = 0.99f;
        ph[1].epochs = o->epochs;
        ph[1].first_epoch = 1;
        ph[1].freeze_to = 0;
        et_schedule_default(&ph[1].sched, ET_SCHED_ONECYCLE, o->lr / 2);
        ph[1].sched.pct_start = 0.3f;
        ph[1].sched.div = 5.0f;
        ph[1].lr_lo = o->lr / 2 / 100;
        *n = 2;
        return;
    }
    ph[0].epochs = o->epochs;
    ph[0].freeze_to = o->freeze_to;
    ph[0].lr_lo = o->lr_lo;
    et_schedule_default(&ph[0].sched, (et_sched_kind)o->sched, o->lr);
    if (o->pct_set) ph[0].sched.pct_start = o->pct_start;
    ph[0].sched.div = o->div;
    ph[0].sched.div_final = o->div_final;
    ph[0].sched.gamma = o->gamma;
    ph[0].sched.step_size = (o->step_epochs ? o->step_epochs : (o->epochs >= 3 ? o->epochs / 3 : 1)) * nb;
    ph[0].sched.momentum = o->momentum;
    *n = 1;
}

/* The training order of one epoch: a Fisher-Yates shuffle drawn from
 * (seed, epoch) alone, so a resumed run sees the same order. */
static void epoch_order(uint64_t seed, uint64_t epoch, int shuffle, size_t n, size_t *perm) {
    for (size_t i = 0; i < n; i++) perm[i] = i;
    if (!shuffle) return;
    uint64_t s = seed * 0x9E3779B97F4A7C15ull ^ (epoch + 1) * 0xD1B54A32D192ED03ull;
    for (size_t i = n; i > 1; i--) {
        uint64_t z = (s += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        z ^= z >> 31;
        size_t j = (size_t)(z % i);
        size_t t = perm[i - 1]; perm[i - 1] = perm[j]; perm[j] = t;
    }
}

int fit_validate(et_trainer *t, const data_set *d, const et_dataset *ds, size_t batch, float threshold,
                 float label_smoothing, int probs_out, fit_metrics *mt) {
    et_dataset_info vi;
    et_dataset_get_info(ds, &vi);
    size_t K = d->classes, per = d->bc_valid.height * d->bc_valid.width * d->train_info.channels;
    float *x = malloc(batch * per * sizeof *x), *y = malloc(batch * K * sizeof *y);
    void *tg = malloc(batch * (d->multi_label ? K * sizeof(float) : sizeof(int32_t)));
    size_t *idx = malloc(batch * sizeof *idx), *tp = calloc(K, sizeof *tp), *fp = calloc(K, sizeof *fp);
    size_t *fn = calloc(K, sizeof *fn), *right = calloc(K, sizeof *right);
    int rc = CLI_OK;
    double loss = 0, correct = 0;
    if (!x || !y || !tg || !idx || !tp || !fp || !fn || !right) { rc = cli_error("out of memory for validation"); goto done; }
    for (size_t s = 0; s < vi.count; s += batch) {
        size_t nb = vi.count - s < batch ? vi.count - s : batch;
        for (size_t i = 0; i < batch; i++) idx[i] = s + (i < nb ? i : nb - 1); /* pad with the last sample */
        et_status st = et_dataset_batch(ds, &d->bc_valid, 0, idx, batch, x, tg);
        if (st != ET_OK) { rc = cli_error("%s: %s", et_dataset_sample_name(ds, idx[0]), et_status_str(st)); goto done; }
        st = et_trainer_eval(t, x, NULL, y, NULL);
        if (st != ET_OK) { rc = cli_error("validation: %s", et_trainer_error(t)); goto done; }
        for (size_t i = 0; i < nb; i++) {
            const float *z = y + i * K;
            if (d->multi_label) {
                const float *g = (const float *)tg + i * K;
                for (size_t k = 0; k < K; k++) {
                    double v = z[k];
                    /* BCE with logits, the stable form */
                    loss += (v > 0 ? v : 0) - v * (double)g[k] + log1p(exp(-fabs(v))) ;
                    int pred = 1.0 / (1.0 + exp(-v)) > (double)threshold, truth = g[k] > 0.5f;
                    right[k] += pred == truth;
                    tp[k] += pred && truth; fp[k] += pred && !truth; fn[k] += !pred && truth;
                }
            } else {
                int32_t lab = ((const int32_t *)tg)[i];
                size_t best = 0;
                for (size_t k = 1; k < K; k++) if (z[k] > z[best]) best = k;
                correct += best == (size_t)lab;
                double mx = z[best], lse = 0, sum_lp = 0, lp_y;
                if (probs_out) {
                    for (size_t k = 0; k < K; k++) sum_lp += log(z[k] > 1e-30f ? (double)z[k] : 1e-30);
                    lp_y = log(z[lab] > 1e-30f ? (double)z[lab] : 1e-30);
                } else {
                    for (size_t k = 0; k < K; k++) lse += exp((double)z[k] - mx);
                    lse = mx + log(lse);
                    for (size_t k = 0; k < K; k++) sum_lp += (double)z[k] - lse;
                    lp_y = (double)z[lab] - lse;
                }
                loss += -(1.0 - label_smoothing) * lp_y - label_smoothing * sum_lp / (double)K;
            }
        }
    }
    if (d->multi_label) {
        double f1 = 0, acc = 0;
        mt->class_acc = malloc(K * sizeof *mt->class_acc);
        for (size_t k = 0; k < K; k++) {
            double den = 2.0 * (double)tp[k] + (double)fp[k] + (double)fn[k];
            f1 += den > 0 ? 2.0 * (double)tp[k] / den : 0.0;
            acc += (double)right[k];
            if (mt->class_acc) mt->class_acc[k] = (double)right[k] / (double)vi.count;
        }
        mt->f1 = f1 / (double)K;
        mt->accuracy = acc / (double)(K * vi.count);
        mt->loss = loss / (double)(K * vi.count);
    } else {
        mt->accuracy = correct / (double)vi.count;
        mt->loss = loss / (double)vi.count;
        mt->f1 = NAN;
    }
done:
    free(x); free(y); free(tg); free(idx); free(tp); free(fp); free(fn); free(right);
    return rc;
}

/* Train accuracy of one batch from the logits its step computed (train
 * mode, as fastai's train metrics): top-1 for class ids, per-class
 * sigmoid > threshold for multi-label, like fit_validate. */
static void train_accuracy(const data_set *d, const float *lg, const void *tg, size_t bs, float threshold, ckpt_pos *pos) {
    size_t K = d->classes;
    for (size_t i = 0; i < bs; i++) {
        const float *z = lg + i * K;
        if (d->multi_label) {
            const float *g = (const float *)tg + i * K;
            for (size_t k = 0; k < K; k++) pos->acc_sum += (1.0 / (1.0 + exp(-(double)z[k])) > (double)threshold) == (g[k] > 0.5f);
            pos->acc_count += K;
        } else {
            size_t best = 0;
            for (size_t k = 1; k < K; k++) if (z[k] > z[best]) best = k;
            pos->acc_sum += best == (size_t)((const int32_t *)tg)[i];
            pos->acc_count++;
        }
    }
}

static void progress(int tty, size_t epoch, size_t n_epochs, size_t b, size_t nb, double loss, double acc,
                     double ips, double eta) {
    if (!tty) return;
    char bar[21];
    size_t fill = nb ? 20 * b / nb : 20;
    for (size_t i = 0; i < 20; i++) bar[i] = i < fill ? '#' : '.';
    bar[20] = '\0';
    printf("\repoch %zu/%zu [%s] %zu/%zu loss %.4f", epoch, n_epochs, bar, b, nb, loss);
    if (acc == acc) printf(" acc %.4f", acc);
    printf(" %.1f img/s ETA %d:%02d   ", ips, (int)(eta / 60), (int)fmod(eta, 60));
    fflush(stdout);
}

/* Saves the trainer state into a malloc'd blob. */
static unsigned char *state_blob(et_trainer *t, size_t *len) {
    if (et_trainer_state_size(t, len) != ET_OK) return NULL;
    unsigned char *b = malloc(*len);
    if (b && et_trainer_state_save(t, b, *len) != ET_OK) { free(b); b = NULL; }
    return b;
}

static int checkpoint(fit_ctx *c, et_trainer *t, const ckpt_pos *pos, unsigned char *best, size_t best_len) {
    ckpt_data cd;
    memset(&cd, 0, sizeof cd);
    cd.pos = *pos;
    cd.hparams = c->hparams;
    cd.state = state_blob(t, &cd.state_len);
    if (!cd.state) return cli_error("checkpoint: %s", et_trainer_error(t));
    cd.best = best;
    cd.best_len = best_len;
    int r = ckpt_write(c->ckpt_path, &cd);
    free(cd.state);
    fflush(c->log);
    return r == 0 ? CLI_OK : CLI_ERR;
}

int fit_run(fit_ctx *c, et_model **out) {
    const ft_opts *o = c->o;
    const data_set *d = c->d;
    size_t count = d->train_info.count, K = d->classes;
    size_t bs = o->batch < count ? o->batch : count;
    size_t nb = count / bs; /* fastai drops the last partial training batch */
    size_t per = d->bc_train.height * d->bc_train.width * d->train_info.channels;
    phase ph[2];
    size_t n_phases;
    build_phases(o, nb, ph, &n_phases);
    size_t total_epochs = ph[0].epochs + (n_phases > 1 ? ph[1].epochs : 0);
    int tty = isatty(STDOUT_FILENO);
    et_node_info last;
    int probs_out = et_model_node_info(c->base, et_model_node_count(c->base) - 1, &last) == ET_OK && last.op == ET_OP_SOFTMAX;
    int has_mom = o->optim == ET_OPTIM_ADAM || o->optim == ET_OPTIM_ADAMW || o->momentum > 0.0f;

    float *x = malloc(bs * per * sizeof *x), *lg = malloc(bs * K * sizeof *lg);
    void *tg = malloc(bs * (d->multi_label ? K * sizeof(float) : sizeof(int32_t)));
    size_t *perm = malloc(count * sizeof *perm);
    if (!x || !tg || !perm || !lg) { free(x); free(tg); free(perm); free(lg); return cli_error("out of memory for %zu-sample batches", bs); }

    ckpt_pos pos;
    memset(&pos, 0, sizeof pos);
    pos.data_seed = o->seed;
    size_t start_phase = 0;
    if (c->resume) { pos = c->resume->pos; start_phase = pos.phase; }
    et_model *cur = NULL; /* the previous phase's export */
    int rc = CLI_OK;
    for (size_t p = start_phase; p < n_phases && rc == CLI_OK; p++) {
        phase *P = &ph[p];
        et_train_config cfg;
        ft_train_config(o, d, bs, P->sched.lr, P->lr_lo, P->freeze_to, &cfg);
        void *arena = NULL;
        et_trainer *t = NULL;
        size_t arena_bytes = 0;
        const et_model *pm = cur ? cur : c->base;
        if (ft_prepare(o, pm, &cfg, &arena, &t, &arena_bytes) != CLI_OK) { rc = CLI_ERR; break; }
        fit_monitor fm;
        if (fit_monitor_begin(&fm, t, o->monitor_every) != 0) { free(arena); rc = CLI_ERR; break; }
        size_t trainable = 0, ng = et_trainer_group_count(t);
        for (size_t g = 0; g < ng; g++) { int tr = 0; et_trainer_group(t, g, NULL, &tr, NULL); trainable += tr != 0; }
        char hb[32];
        printf("phase %zu: %zu epoch(s) of %s, lr %.3g%s, %zu of %zu groups train, arena %s, %zu batches of %zu\n",
               p + 1, P->epochs, et_sched_name(P->sched.kind), (double)P->sched.lr, P->lr_lo > 0 ? " (discriminative)" : "",
               trainable, ng, cli_human((double)arena_bytes, 1, hb, sizeof hb), nb, bs);
        /* the feature cache pays when the trained layers start after the input */
        feature_cache fc;
        float *feats = NULL;
        size_t nfeat = 0;
        int fc_on = o->feature_cache && et_trainer_feature_size(t, &nfeat) == ET_OK && nfeat < per;
        if (fc_on) {
            char spill[4200];
            snprintf(spill, sizeof spill, "%s.features", c->ckpt_path);
            feats = malloc(bs * nfeat * sizeof *feats);
            if (!feats || feature_cache_open(&fc, count, nfeat, o->cache_budget, spill) != 0)
                rc = cli_error("feature cache: cannot hold %zu x %zu floats (spill file %s)", count, nfeat, spill);
            else
                printf("phase %zu: feature cache of %zu floats per sample (%zu in memory, the rest spilled to %s)\n",
                       p + 1, nfeat, fc.in_memory, fc.in_memory < count ? spill : "no file");
        } else if (o->feature_cache) {
            printf("phase %zu: feature cache not used: the trained layers start at the input\n", p + 1);
        }
        unsigned char *best = NULL;
        size_t best_len = 0;
        if (c->resume && p == start_phase) {
            et_status st = et_trainer_state_load(t, c->resume->state, c->resume->state_len);
            if (st == ET_OK && c->resume->best) {
                best = malloc(c->resume->best_len);
                if (best) { memcpy(best, c->resume->best, c->resume->best_len); best_len = c->resume->best_len; }
            }
            if (st != ET_OK) rc = cli_error("resume: %s", et_trainer_error(t));
        } else {
            pos.phase = (uint32_t)p;
            pos.epoch = (uint32_t)P->first_epoch;
            pos.batch = 0;
            pos.loss_sum = 0;
            pos.loss_count = 0;
            pos.acc_sum = 0;
            pos.acc_count = 0;
            pos.best_loss = INFINITY;
            pos.best_epoch = 0;
            pos.bad_epochs = 0;
            pos.lr_scale = 1.0;
            pos.diverged = 0;
        }
        size_t end_epoch = P->first_epoch + P->epochs;
        /* lowered by the divergence guard; checkpointed so a resume continues the same */
        float lr_scale = (float)pos.lr_scale;
        int diverged = (int)pos.diverged;
        uint64_t n_steps = (uint64_t)P->epochs * nb;
        while (rc == CLI_OK && pos.epoch < end_epoch) {
            size_t E = pos.epoch;
            double t0 = now_s(), shown = 0;
            epoch_order(pos.data_seed, E, o->shuffle, count, perm);
            for (size_t b = (size_t)pos.batch; b < nb && rc == CLI_OK; b++) {
                uint64_t i = (uint64_t)(E - P->first_epoch) * nb + b;
                float lr, mom;
                et_schedule_at(&P->sched, i, n_steps, &lr, &mom);
                lr *= lr_scale;
                if (!has_mom) mom = 0.0f;
                et_status st = et_trainer_set_lr(t, lr, mom);
                const size_t *bi = perm + b * bs;
                int cached = fc_on && !d->multi_label;
                for (size_t k = 0; cached && k < bs; k++) cached = fc.filled[bi[k]];
                /* a fully cached batch needs only its labels, not its images */
                for (size_t k = 0; cached && st == ET_OK && k < bs; k++) st = et_dataset_label(d->train, bi[k], (int32_t *)tg + k);
                if (st == ET_OK && !cached) st = et_dataset_batch(d->train, &d->bc_train, E, bi, bs, x, tg);
                if (st != ET_OK) { rc = cli_error("batch %zu: %s", b, et_status_str(st)); break; }
                float loss = NAN;
                fit_monitor_before(&fm, pos.log_step + 1);
                st = fc_on ? feature_cache_step(&fc, t, bi, bs, x, feats, tg, &loss) : et_trainer_step(t, x, tg, &loss);
                if (st == ET_ERR_NUMERIC && ++diverged <= 5) {
                    /* divergence guard: the library changed nothing; go on with a 10x lower rate */
                    lr_scale *= 0.1f;
                    pos.lr_scale = lr_scale;
                    pos.diverged = (uint32_t)diverged;
                    fprintf(c->log, "{\"type\":\"diverged\",\"epoch\":%zu,\"batch\":%zu,\"lr_scale\":%g,\"why\":",
                            E + 1, b + 1, (double)lr_scale);
                    cli_json_str(c->log, et_trainer_error(t));
                    fputs("}\n", c->log);
                    fprintf(stderr, CLI_PROG " finetune: epoch %zu, batch %zu: %s; step skipped, learning rate x%g from now on\n",
                            E + 1, b + 1, et_trainer_error(t), (double)lr_scale);
                    continue;
                }
                if (st != ET_OK) { rc = cli_error("epoch %zu, batch %zu: %s", E + 1, b + 1, et_trainer_error(t)); break; }
                diverged = 0;
                pos.diverged = 0;
                pos.loss_sum += loss;
                pos.loss_count++;
                if (et_trainer_logits(t, lg, bs * K) == ET_OK) train_accuracy(d, lg, tg, bs, o->threshold, &pos);
                pos.log_step++;
                pos.batch = b + 1;
                fprintf(c->log, "{\"type\":\"step\",\"step\":%llu,\"epoch\":%zu,\"phase\":%zu,\"batch\":%zu",
                        (unsigned long long)pos.log_step, E + 1, p + 1, b + 1);
                jnum(c->log, "loss", loss); jnum(c->log, "lr", lr); jnum(c->log, "mom", mom);
                fputs("}\n", c->log);
                fit_monitor_after(&fm, c->log, pos.log_step, E + 1);
                double el = now_s() - t0;
                if (tty && (el - shown > 0.1 || b + 1 == nb)) {
                    shown = el;
                    size_t done = b + 1 - 0;
                    double ips = el > 0 ? (double)(done * bs) / el : 0;
                    progress(tty, E + 1, total_epochs, b + 1, nb, pos.loss_sum / (double)pos.loss_count,
                             pos.acc_count ? pos.acc_sum / (double)pos.acc_count : NAN, ips,
                             ips > 0 ? (double)((nb - b - 1) * bs) / ips : 0);
                }
                if (o->ckpt_every && pos.log_step % o->ckpt_every == 0 && b + 1 < nb)
                    rc = checkpoint(c, t, &pos, best, best_len);
                if (o->stop_after && pos.log_step >= o->stop_after) {
                    if (tty) putchar('\n');
                    fprintf(stderr, CLI_PROG " finetune: stopped after %llu steps (--stop-after-steps)\n", (unsigned long long)pos.log_step);
                    rc = CLI_ERR;
                }
            }
            if (rc != CLI_OK) break;
            double train_loss = pos.loss_count ? pos.loss_sum / (double)pos.loss_count : NAN, el = now_s() - t0;
            double train_acc = pos.acc_count ? pos.acc_sum / (double)pos.acc_count : NAN;
            fit_metrics mt = {NAN, NAN, NAN, NULL};
            if (d->valid) rc = fit_validate(t, d, d->valid, bs, o->threshold, d->multi_label ? 0.0f : o->label_smoothing, probs_out, &mt);
            if (rc != CLI_OK) break;
            if (tty) putchar('\n');
            printf("epoch %zu/%zu  train_loss %.4f  %s %.4f", E + 1, total_epochs, train_loss,
                   d->multi_label ? "train_acc_multi" : "train_acc", train_acc);
            if (d->valid) {
                printf("  valid_loss %.4f  %s %.4f", mt.loss, d->multi_label ? "accuracy_multi" : "accuracy", mt.accuracy);
                if (d->multi_label) printf("  f1 %.4f", mt.f1);
            }
            printf("  time %.1fs\n", el);
            fprintf(c->log, "{\"type\":\"epoch\",\"epoch\":%zu,\"phase\":%zu,\"step\":%llu", E + 1, p + 1, (unsigned long long)pos.log_step);
            jnum(c->log, "train_loss", train_loss);
            jnum(c->log, "train_accuracy", train_acc);
            jnum(c->log, "valid_loss", mt.loss);
            jnum(c->log, "accuracy", mt.accuracy);
            if (d->multi_label) {
                jnum(c->log, "f1", mt.f1);
                fputs(",\"class_accuracy\":[", c->log);
                for (size_t k = 0; k < K && mt.class_acc; k++) fprintf(c->log, "%s%.6g", k ? "," : "", mt.class_acc[k]);
                fputs("]", c->log);
                if (mt.class_acc) {
                    printf("  per-class accuracy:");
                    for (size_t k = 0; k < K; k++) printf(" %.3f", mt.class_acc[k]);
                    printf("\n");
                }
            }
            jnum(c->log, "time_s", el);
            fputs("}\n", c->log);
            free(mt.class_acc);
            int stop = 0;
            if (o->patience) {
                if (mt.loss < pos.best_loss) {
                    pos.best_loss = mt.loss;
                    pos.best_epoch = (uint32_t)E + 1;
                    pos.bad_epochs = 0;
                    free(best);
                    best = state_blob(t, &best_len);
                    if (!best) { rc = cli_error("early stopping: %s", et_trainer_error(t)); break; }
                } else if (++pos.bad_epochs >= o->patience) {
                    printf("early stopping: no improvement for %zu epoch(s); keeping epoch %u (valid_loss %.4f)\n",
                           o->patience, pos.best_epoch, pos.best_loss);
                    stop = 1;
                }
            }
            pos.epoch = stop ? (uint32_t)end_epoch : (uint32_t)E + 1;
            pos.batch = 0;
            pos.loss_sum = 0;
            pos.loss_count = 0;
            pos.acc_sum = 0;
            pos.acc_count = 0;
            rc = checkpoint(c, t, &pos, best, best_len);
        }
        if (rc == CLI_OK && best && et_trainer_state_load(t, best, best_len) != ET_OK)
            rc = cli_error("restoring the best epoch: %s", et_trainer_error(t));
        free(best);
        if (fc_on) {
            printf("phase %zu: feature cache served %zu samples, computed %zu\n", p + 1, fc.hits, fc.misses);
            feature_cache_close(&fc);
        }
        free(feats);
        et_model *next = NULL;
        if (rc == CLI_OK && et_trainer_export(t, &next) != ET_OK) rc = cli_error("export: %s", et_trainer_error(t));
        fit_monitor_end(&fm);
        free(arena);
        et_model_free(cur);
        cur = next;
        /* the next phase starts fresh */
        if (p + 1 < n_phases) {
            pos.phase = (uint32_t)p + 1;
            pos.batch = 0;
        }
    }
    free(x); free(tg); free(perm); free(lg);
    if (rc != CLI_OK) { et_model_free(cur); return rc; }
    *out = cur;
    return CLI_OK;
}
