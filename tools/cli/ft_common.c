/* Training options and setup shared by finetune and lr-find: parsing, the
 * model with a fresh head for the data, trainer configuration and the
 * arena under --memory-budget. No training loop here (cmd_finetune.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/ft.h"

void ft_defaults(ft_opts *o) {
    memset(o, 0, sizeof *o);
    data_opts_init(&o->data);
    o->cache_budget = (size_t)256 << 20;
    o->epochs = 1;
    o->batch = 16;
    o->optim = ET_OPTIM_ADAMW;   /* fastai's Adam decouples weight decay */
    o->lr = 1e-3f;
    o->momentum = 0.9f;
    o->beta1 = 0.9f;
    o->beta2 = 0.99f;
    o->eps = 1e-5f;
    o->wd = 0.01f;
    o->threshold = 0.5f;
    o->freeze_to = -1;
    o->bn = ET_BN_TRAIN;
    o->sched = ET_SCHED_ONECYCLE;
    o->div = 25.0f;
    o->div_final = 1e5f;
    o->gamma = 0.1f;
    o->seed = 42;
    o->shuffle = 1;
    o->threads = 1;
}

void ft_train_usage(FILE *f) {
    fputs("model and head:\n"
          "  --new-head K           fresh K-class head (default: automatic when the data's classes\n"
          "                         differ from the model's labels or output count)\n"
          "  --multi-label          BCE-with-logits on a 0/1 label matrix (sigmoid outputs)\n"
          "  --threshold T          multi-label decision threshold for the metrics (0.5)\n"
          "optimisation:\n"
          "  --batch-size N         (16)\n"
          "  --optimizer sgd|adam|adamw|rmsprop   (adamw: fastai's Adam with decoupled decay)\n"
          "  --lr LR | --lr LO:HI   peak rate, or discriminative rates from the first trainable\n"
          "                         group (LO) to the last (HI) (1e-3; fine_tune: 2e-3)\n"
          "  --momentum M           SGD / RMSprop momentum (SGD 0.9, RMSprop 0)\n"
          "  --nesterov             Nesterov momentum (SGD)\n"
          "  --betas B1,B2          Adam/AdamW betas (0.9,0.99); RMSprop smoothing takes B2\n"
          "  --eps E                (1e-5)\n"
          "  --wd W                 weight decay (0.01; not on batchnorm and biases)\n"
          "  --clip N               clip the global gradient norm to N\n"
          "  --label-smoothing E    softmax cross-entropy label smoothing\n"
          "  --freeze-to N|auto     groups [0, N) frozen; negative: all but the last -N (-1);\n"
          "                         auto: the most trainable groups that fit --memory-budget\n"
          "  --train-bn             batchnorm affine trains inside frozen groups too\n"
          "  --bn frozen|train      batchnorm statistics: running (frozen) or batch (train, default)\n"
          "  --seed S               seeds the head, split, shuffles, augmentation, dropout (42)\n"
          "  --shuffle on|off       shuffle the training samples every epoch (on)\n"
          "  --threads N            threads per step (results are identical for any N) (1)\n"
          "  --memory-budget BYTES  fail (naming the bytes) when the trainer's arena exceeds BYTES\n"
          "  --feature-cache on|off compute the frozen layers' output once per sample and train\n"
          "                         from it in later epochs (needs --augment off; default off)\n"
          "  --cache-budget BYTES   memory for cached features (default 256 MiB; the rest is\n"
          "                         spilled to a file next to the checkpoint)\n", f);
}

static int parse_lr(const char *v, ft_opts *o) {
    const char *c = strchr(v, ':');
    if (!c) { o->lr_lo = 0.0f; return cli_parse_float(v, &o->lr) && o->lr > 0.0f; }
    char lo[64];
    size_t n = (size_t)(c - v);
    if (n == 0 || n >= sizeof lo) return 0;
    memcpy(lo, v, n);
    lo[n] = '\0';
    return cli_parse_float(lo, &o->lr_lo) && cli_parse_float(c + 1, &o->lr) && o->lr_lo > 0.0f && o->lr >= o->lr_lo;
}

static int on_off(const char *v, int *out) {
    if (strcmp(v, "on") == 0) { *out = 1; return 1; }
    if (strcmp(v, "off") == 0) { *out = 0; return 1; }
    return 0;
}

int ft_parse(int argc, char **argv, int *i, ft_opts *o, const char *cmd, void (*usage)(FILE *)) {
    const char *v = NULL;
    int r = data_opts_parse(argc, argv, i, &o->data, cmd, usage);
    if (r != 0) return r;
    size_t z;
#define OPT(name) ((r = cli_opt(argc, argv, i, name, &v)) != 0)
#define NEED(cond, msg) do { if (r < 0 || !(cond)) return cli_usage_error(cmd, usage, msg); } while (0)
    if (OPT("--new-head")) { NEED(cli_parse_size(v, &o->new_head) && o->new_head > 0, "--new-head needs a positive class count"); return 1; }
    if (strcmp(argv[*i], "--multi-label") == 0) { o->multi_label = 1; return 1; }
    if (OPT("--threshold")) { NEED(cli_parse_float(v, &o->threshold) && o->threshold > 0 && o->threshold < 1, "--threshold needs 0 < T < 1"); return 1; }
    if (OPT("--batch-size")) { NEED(cli_parse_size(v, &o->batch) && o->batch > 0, "--batch-size needs a positive integer"); return 1; }
    if (OPT("--optimizer")) {
        NEED(v, "--optimizer needs a name");
        if (strcmp(v, "sgd") == 0) o->optim = ET_OPTIM_SGD;
        else if (strcmp(v, "adam") == 0) o->optim = ET_OPTIM_ADAM;
        else if (strcmp(v, "adamw") == 0) o->optim = ET_OPTIM_ADAMW;
        else if (strcmp(v, "rmsprop") == 0) o->optim = ET_OPTIM_RMSPROP;
        else return cli_usage_error(cmd, usage, "--optimizer: '%s' is not sgd, adam, adamw or rmsprop", v);
        return 1;
    }
    if (OPT("--lr")) { NEED(parse_lr(v, o), "--lr needs LR or LO:HI (positive, LO <= HI)"); o->lr_set = 1; return 1; }
    if (OPT("--momentum")) {
        NEED(cli_parse_float(v, &o->momentum) && o->momentum >= 0 && o->momentum < 1, "--momentum needs 0 <= M < 1");
        o->momentum_set = 1;
        return 1;
    }
    if (strcmp(argv[*i], "--nesterov") == 0) { o->nesterov = 1; return 1; }
    if (OPT("--betas")) {
        char a[32];
        const char *c = v ? strchr(v, ',') : NULL;
        size_t n = c ? (size_t)(c - v) : 0;
        int ok = c && n > 0 && n < sizeof a;
        if (ok) { memcpy(a, v, n); a[n] = '\0'; ok = cli_parse_float(a, &o->beta1) && cli_parse_float(c + 1, &o->beta2); }
        NEED(ok && o->beta1 >= 0 && o->beta1 < 1 && o->beta2 >= 0 && o->beta2 < 1, "--betas needs B1,B2 in [0, 1)");
        return 1;
    }
    if (OPT("--eps")) { NEED(cli_parse_float(v, &o->eps) && o->eps > 0, "--eps needs a positive number"); return 1; }
    if (OPT("--wd")) { NEED(cli_parse_float(v, &o->wd) && o->wd >= 0, "--wd needs a number >= 0"); return 1; }
    if (OPT("--clip")) { NEED(cli_parse_float(v, &o->clip) && o->clip > 0, "--clip needs a positive norm"); return 1; }
    if (OPT("--label-smoothing")) {
        NEED(cli_parse_float(v, &o->label_smoothing) && o->label_smoothing >= 0 && o->label_smoothing < 1, "--label-smoothing needs 0 <= E < 1");
        return 1;
    }
    if (OPT("--freeze-to")) {
        NEED(v, "--freeze-to needs N or auto");
        o->freeze_set = 1;
        if (strcmp(v, "auto") == 0) { o->freeze_auto = 1; return 1; }
        char *end;
        long n = strtol(v, &end, 10);
        NEED(*v && !*end && n > -100000 && n < 100000, "--freeze-to needs an integer or auto");
        o->freeze_to = (int)n;
        return 1;
    }
    if (strcmp(argv[*i], "--train-bn") == 0) { o->train_bn = 1; return 1; }
    if (OPT("--bn")) {
        NEED(v && (strcmp(v, "frozen") == 0 || strcmp(v, "train") == 0), "--bn needs frozen or train");
        o->bn = strcmp(v, "frozen") == 0 ? ET_BN_FROZEN : ET_BN_TRAIN;
        return 1;
    }
    if (OPT("--seed")) { NEED(cli_parse_size(v, &z), "--seed needs an integer"); o->seed = z; return 1; }
    if (OPT("--shuffle")) { NEED(on_off(v, &o->shuffle), "--shuffle needs on or off"); return 1; }
    if (OPT("--threads")) { NEED(cli_parse_size(v, &o->threads) && o->threads > 0, "--threads needs a positive integer"); return 1; }
    if (OPT("--memory-budget")) { NEED(cli_parse_size(v, &o->budget) && o->budget > 0, "--memory-budget needs a byte count"); return 1; }
    if (OPT("--feature-cache")) { NEED(on_off(v, &o->feature_cache), "--feature-cache needs on or off"); return 1; }
    if (OPT("--cache-budget")) { NEED(cli_parse_size(v, &o->cache_budget), "--cache-budget needs a byte count"); return 1; }
#undef OPT
#undef NEED
    return 0;
}

int ft_check(ft_opts *o, const char *cmd, void (*usage)(FILE *)) {
    if (data_opts_check(&o->data, cmd, usage) != CLI_OK) return CLI_USAGE;
    if (o->feature_cache && o->data.augment != 0)
        return cli_usage_error(cmd, usage, "--feature-cache on needs --augment off: cached features must not change between epochs");
    if (o->freeze_auto && !o->budget) return cli_usage_error(cmd, usage, "--freeze-to auto needs --memory-budget");
    if (o->nesterov && o->optim != ET_OPTIM_SGD) return cli_usage_error(cmd, usage, "--nesterov is for --optimizer sgd");
    if (!o->momentum_set) o->momentum = o->optim == ET_OPTIM_SGD ? 0.9f : o->optim == ET_OPTIM_RMSPROP ? 0.0f : o->beta1;
    if (o->nesterov && o->momentum <= 0.0f) return cli_usage_error(cmd, usage, "--nesterov needs --momentum > 0");
    return CLI_OK;
}

static int labels_match(const et_metadata *md, const data_set *d) {
    if (md->label_count != d->classes) return 0;
    for (size_t k = 0; k < d->classes; k++) {
        const char *n = et_dataset_class_name(d->train, k);
        if (n && (!md->labels || strcmp(n, md->labels[k]) != 0)) return 0;
    }
    return 1;
}

int ft_model_for_data(const ft_opts *o, const et_model *m, const data_set *d, et_model **train_model) {
    et_model *c = NULL;
    et_status st = et_model_clone(m, &c);
    if (st != ET_OK) return cli_error("%s: %s", o->model, et_status_str(st));
    /* the model's class count: the channels of its output */
    st = et_model_infer_shapes(c, 1, 0, 0);
    et_node_info ni;
    if (st == ET_OK) st = et_model_node_info(c, et_model_node_count(c) - 1, &ni);
    if (st != ET_OK) { et_model_free(c); return cli_error("%s: %s", o->model, et_model_error(m)); }
    et_metadata md;
    et_model_metadata(c, &md);
    size_t k = o->new_head ? o->new_head : d->classes;
    if (k != d->classes)
        { et_model_free(c); return cli_error("--new-head %zu, but the training data has %zu classes", k, d->classes); }
    int fresh = o->new_head || ni.out_shape.c != k || (md.label_count && !labels_match(&md, d));
    if (fresh) {
        et_model *h = NULL;
        st = et_model_new_head(c, k, o->seed, &h);
        et_model_free(c);
        if (st != ET_OK) return cli_lib_error(o->model, st, et_model_error(m));
        c = h;
    }
    /* labels from the data's class names (folders); ids stay unnamed */
    const char *names[1024];
    int named = d->classes <= 1024;
    for (size_t j = 0; named && j < d->classes; j++) named = (names[j] = et_dataset_class_name(d->train, j)) != NULL;
    et_model_metadata(c, &md);
    if (named) { md.label_count = d->classes; md.labels = names; }
    md.input_h = d->bc_valid.height;
    md.input_w = d->bc_valid.width;
    if (d->bc_valid.norm_channels) {
        md.norm_channels = d->bc_valid.norm_channels;
        memcpy(md.mean, d->bc_valid.mean, sizeof md.mean);
        memcpy(md.std, d->bc_valid.std, sizeof md.std);
    }
    st = et_model_set_metadata(c, &md);
    if (st != ET_OK) { et_model_free(c); return cli_error("%s: metadata: %s", o->model, et_status_str(st)); }
    *train_model = c;
    return CLI_OK;
}

void ft_train_config(const ft_opts *o, const data_set *d, size_t batch, float lr, float lr_lo, int freeze_to,
                     et_train_config *cfg) {
    et_train_config_default(cfg);
    cfg->batch = batch;
    cfg->height = d->bc_train.height;
    cfg->width = d->bc_train.width;
    cfg->threads = o->threads;
    cfg->loss = d->multi_label ? ET_LOSS_BCE_LOGITS : ET_LOSS_SOFTMAX_CE;
    cfg->label_smoothing = d->multi_label ? 0.0f : o->label_smoothing;
    cfg->optim.kind = o->optim;
    cfg->optim.lr = lr;
    cfg->optim.lr_lo = lr_lo;
    cfg->optim.momentum = o->optim == ET_OPTIM_SGD || o->optim == ET_OPTIM_RMSPROP ? o->momentum : 0.0f;
    cfg->optim.nesterov = o->nesterov;
    cfg->optim.beta1 = o->beta1;
    cfg->optim.beta2 = o->beta2;
    cfg->optim.eps = o->eps;
    cfg->optim.weight_decay = o->wd;
    cfg->optim.clip_norm = o->clip;
    cfg->freeze_to = freeze_to;
    cfg->bn_mode = o->bn;
    cfg->train_bn = o->train_bn;
    cfg->seed = o->seed;
}

/* One pool for the process (every trainer of a run shares it), joined at exit. */
static et_threadpool *ft_pool;
static void ft_pool_free(void) { et_threadpool_free(ft_pool); ft_pool = NULL; }

static int ft_attach_pool(size_t threads, et_trainer *t) {
    if (threads <= 1) return CLI_OK;
    if (!ft_pool) {
        if (et_threadpool_create(threads, &ft_pool) != ET_OK) return cli_error("cannot start %zu threads", threads);
        atexit(ft_pool_free);
    }
    et_trainer_set_threadpool(t, ft_pool);
    return CLI_OK;
}

int ft_prepare(const ft_opts *o, const et_model *m, et_train_config *cfg, void **arena, et_trainer **t,
               size_t *arena_bytes) {
    et_plan p;
    char b1[32], b2[32];
    et_status st = et_model_plan_train(m, cfg, &p);
    if (st != ET_OK) return cli_error("%s: planning the trainer: %s", o->model, et_model_error(m));
    if (o->budget && p.total > o->budget) {
        /* the most trainable last groups that still fit (plans grow with k) */
        int fit = 0;
        et_train_config c2 = *cfg;
        for (int k = 1; k <= (int)et_model_node_count(m); k++) {
            et_plan q;
            c2.freeze_to = -k;
            if (et_model_plan_train(m, &c2, &q) != ET_OK || q.total > o->budget) break;
            fit = k;
        }
        if (o->freeze_auto && fit > 0) {
            cfg->freeze_to = -fit;
            et_model_plan_train(m, cfg, &p);
            printf("--freeze-to auto: training the last %d group(s) fits --memory-budget (%s of %s)\n", fit,
                   cli_human((double)p.total, 1, b1, sizeof b1), cli_human((double)o->budget, 1, b2, sizeof b2));
        } else {
            cli_error("the trainer needs %zu bytes (%s), over --memory-budget %zu (%s)%s", p.total,
                      cli_human((double)p.total, 1, b1, sizeof b1), o->budget, cli_human((double)o->budget, 1, b2, sizeof b2),
                      fit > 0 ? "; a smaller --batch-size or --freeze-to auto would fit" : "; even the last group alone does not fit: lower --batch-size or --size");
            if (fit > 0) fprintf(stderr, "  (--freeze-to -%d fits)\n", fit);
            return CLI_ERR;
        }
    }
    *arena = malloc(p.total);
    if (!*arena) return cli_error("out of memory for the trainer's %zu-byte arena", p.total);
    st = et_trainer_prepare(m, cfg, *arena, p.total, t, NULL);
    if (st != ET_OK) {
        free(*arena);
        *arena = NULL;
        return cli_error("%s: preparing the trainer: %s", o->model, et_model_error(m));
    }
    *arena_bytes = p.total;
    return ft_attach_pool(cfg->threads, *t);
}

void ft_hparams_text(const ft_opts *o, const data_set *d, uint64_t model_hash, char *buf, size_t cap) {
    const data_opts *x = &o->data;
    snprintf(buf, cap,
             "model_fnv1a=%016llx\ntrain=%s%s%s\nvalid=%s\nvalid_pct=%g\nsize=%zux%zu\naugment=%d\ncrop=%d\n"
             "train_count=%zu\nvalid_count=%zu\nclasses=%zu\nmulti_label=%d\nnew_head=%zu\n"
             "epochs=%zu\nbatch=%zu\noptimizer=%d\nlr=%.9g\nlr_lo=%.9g\nmomentum=%.9g\nnesterov=%d\nbetas=%.9g,%.9g\n"
             "eps=%.9g\nwd=%.9g\nclip=%.9g\nlabel_smoothing=%.9g\nfreeze_to=%d%s\ntrain_bn=%d\nbn=%d\n"
             "schedule=%d\nrecipe=%d\npct_start=%.9g/%d\ndiv=%.9g/%d\ndiv_final=%.9g\ngamma=%.9g\nstep_epochs=%zu\n"
             "seed=%llu\nshuffle=%d\npatience=%zu\n",
             (unsigned long long)model_hash,
             x->train_dir ? x->train_dir : x->train_idx[0] ? x->train_idx[0] : x->train_x ? x->train_x : "",
             x->train_y ? "," : "", x->train_y ? x->train_y : "",
             x->valid_dir ? x->valid_dir : x->valid_idx[0] ? x->valid_idx[0] : x->valid_x ? x->valid_x : "",
             (double)x->valid_pct, d->bc_train.height, d->bc_train.width, d->bc_train.augment, (int)d->bc_train.crop,
             d->train_info.count, d->valid_count, d->classes, d->multi_label, o->new_head,
             o->epochs, o->batch, (int)o->optim, (double)o->lr, (double)o->lr_lo, (double)o->momentum, o->nesterov,
             (double)o->beta1, (double)o->beta2, (double)o->eps, (double)o->wd, (double)o->clip,
             (double)o->label_smoothing, o->freeze_to, o->freeze_auto ? " auto" : "", o->train_bn, (int)o->bn,
             o->sched, o->recipe, (double)o->pct_start, o->pct_set, (double)o->div, o->div_set,
             (double)o->div_final, (double)o->gamma, o->step_epochs,
             (unsigned long long)o->seed, o->shuffle, o->patience);
}

uint64_t ft_file_hash(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    uint64_t h = 1469598103934665603ull;
    unsigned char buf[1 << 14];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        for (size_t i = 0; i < n; i++) { h ^= buf[i]; h *= 1099511628211ull; }
    fclose(f);
    return h;
}
