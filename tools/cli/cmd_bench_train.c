/* `edgetune bench --train`: training images/s and peak RSS for MobileNetV2
 * (tools/zoo, with BN, new 10-class head) in three freeze configurations,
 * each in its own process so ru_maxrss is that configuration's own peak. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include "cli/cli.h"
#include "zoo/zoo.h"

int cmd_bench_train(int argc, char **argv);

static double bt_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int bt_cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The configurations of issue 6: head only, the last three inverted
 * residual blocks (features.15-17) + features.18 + head, whole network, and
 * head only from the feature cache (an epoch after the first: the frozen
 * backbone's features of the batch were computed once, before timing). */
static const char *const cfg_names[4] = {"head", "last3", "all", "cached"};
#define N_CFGS 4
/* One cut: group 0 = features.0-14 (frozen), group 1 = features.15 on. */
static const char *const last3_cut[1] = {"features.15.conv.0.0"};

static long peak_rss_kib(void) {
    struct rusage ru;
    return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : -1;
}

/* One configuration in this process; prints one result line. */
static int run_one(int which, size_t batch, size_t h, size_t w, size_t steps, size_t threads, int json) {
    et_model *raw = NULL, *m = NULL;
    void *arena = NULL;
    float *x = NULL;
    int32_t *y = NULL;
    double *t = NULL;
    float *feats = NULL;
    int rc = CLI_ERR;
    char err[256];
    et_threadpool *pool = NULL;
    et_status st = et_zoo_mobilenet_v2_err(1000, h, w, 1.0f, 11, 1, &raw, err, sizeof err);
    if (st != ET_OK) return cli_lib_error(NULL, st, err);
    if ((st = et_model_new_head(raw, 10, 5, &m)) != ET_OK) { cli_lib_error(NULL, st, et_model_error(raw)); goto done; }
    et_train_config cfg;
    et_train_config_default(&cfg);
    cfg.batch = batch; cfg.height = h; cfg.width = w; cfg.threads = threads;
    cfg.optim.kind = ET_OPTIM_SGD; cfg.optim.lr = 0.01f; cfg.optim.momentum = 0.9f; cfg.optim.weight_decay = 0.0f;
    cfg.bn_mode = ET_BN_TRAIN;
    if (which == 0 || which == 3) cfg.freeze_to = -1; /* default groups: one per layer; the last is the head */
    else if (which == 1) { cfg.group_cuts = last3_cut; cfg.n_group_cuts = 1; cfg.freeze_to = -1; }
    else cfg.freeze_to = 0;
    et_plan p;
    if ((st = et_model_plan_train(m, &cfg, &p)) != ET_OK) { cli_lib_error(NULL, st, et_model_error(m)); goto done; }
    arena = malloc(p.total);
    size_t nx = batch * h * w * 3;
    x = malloc(nx * sizeof *x);
    y = malloc(batch * sizeof *y);
    t = malloc(steps * sizeof *t);
    if (!arena || !x || !y || !t) { cli_error("out of memory (%zu arena bytes)", p.total); goto done; }
    memset(arena, 0, p.total);
    et_trainer *tr = NULL;
    if ((st = et_trainer_prepare(m, &cfg, arena, p.total, &tr, NULL)) != ET_OK) { cli_lib_error(NULL, st, et_model_error(m)); goto done; }
    if (threads > 1) {
        if (et_threadpool_create(threads, &pool) != ET_OK) { cli_error("cannot start %zu threads", threads); goto done; }
        et_trainer_set_threadpool(tr, pool);
    }
    unsigned s = 12345;
    for (size_t i = 0; i < nx; i++) { s = s * 1103515245u + 12345u; x[i] = (float)(s >> 8) / (float)(1u << 24) - 0.5f; }
    for (size_t i = 0; i < batch; i++) y[i] = (int32_t)(i % 10);
    float loss = 0.0f;
    size_t nf = 0, rejected = 0;
    if (which == 3) {
        /* the first epoch fills the cache; later epochs train from it */
        if ((st = et_trainer_feature_size(tr, &nf)) != ET_OK) { cli_lib_error(NULL, st, et_trainer_error(tr)); goto done; }
        feats = malloc(batch * nf * sizeof *feats);
        if (!feats) { cli_error("out of memory"); goto done; }
        if ((st = et_trainer_features(tr, x, feats)) != ET_OK) { cli_lib_error(NULL, st, et_trainer_error(tr)); goto done; }
    }
    for (size_t r = 0; r < steps + 2; r++) {
        double t0 = bt_now();
        st = which == 3 ? et_trainer_step_features(tr, feats, y, &loss) : et_trainer_step(tr, x, y, &loss);
        /* random data can diverge; a rejected step did all the work but the update */
        if (st == ET_ERR_NUMERIC) rejected++;
        else if (st != ET_OK) { cli_lib_error(NULL, st, et_trainer_error(tr)); goto done; }
        if (r >= 2) t[r - 2] = bt_now() - t0; /* two warm-up steps */
    }
    qsort(t, steps, sizeof *t, bt_cmp);
    double med = steps % 2 ? t[steps / 2] : 0.5 * (t[steps / 2 - 1] + t[steps / 2]);
    long rss = peak_rss_kib();
    if (json)
        printf("{\"config\": \"%s\", \"batch\": %zu, \"size\": \"%zux%zu\", \"threads\": %zu, \"steps\": %zu, \"median_step_ms\": %.2f, "
               "\"images_per_s\": %.2f, \"arena_mib\": %.1f, \"peak_rss_mib\": %.1f, \"loss\": %.4f, \"rejected_steps\": %zu}\n",
               cfg_names[which], batch, h, w, threads, steps, med * 1e3, (double)batch / med, (double)p.total / 1048576.0,
               (double)rss / 1024.0, (double)loss, rejected);
    else
        printf("%-6s batch %zu %zux%zu, %zu thread%s: median step %.1f ms, %.2f images/s, arena %.1f MiB, peak RSS %.1f MiB (loss %.3f%s)\n",
               cfg_names[which], batch, h, w, threads, threads == 1 ? "" : "s", med * 1e3, (double)batch / med, (double)p.total / 1048576.0,
               (double)rss / 1024.0, (double)loss, rejected ? ", some steps rejected as non-finite" : "");
    fflush(stdout);
    rc = CLI_OK;
done:
    free(arena); free(x); free(y); free(t); free(feats);
    et_threadpool_free(pool);
    et_model_free(m); et_model_free(raw);
    return rc;
}

int cmd_bench_train(int argc, char **argv) {
    size_t batch = 16, h = 160, w = 160, steps = 10, threads = 1;
    int json = 0, only = -1, o;
    const char *v;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--train") == 0) continue;
        if (strcmp(a, "--json") == 0) { json = 1; continue; }
        if ((o = cli_opt(argc, argv, &i, "--batch", &v)) != 0) {
            if (o < 0 || !cli_parse_size(v, &batch) || batch == 0) return cli_error("bench --train: --batch wants a positive number");
            continue;
        }
        if ((o = cli_opt(argc, argv, &i, "--size", &v)) != 0) {
            if (o < 0 || !cli_parse_hw(v, &h, &w)) return cli_error("bench --train: --size wants HxW");
            continue;
        }
        if ((o = cli_opt(argc, argv, &i, "--repeats", &v)) != 0) {
            if (o < 0 || !cli_parse_size(v, &steps) || steps == 0 || steps > 100000) return cli_error("bench --train: --repeats wants 1..100000");
            continue;
        }
        if ((o = cli_opt(argc, argv, &i, "--threads", &v)) != 0) {
            if (o < 0 || !cli_parse_size(v, &threads) || threads == 0 || threads > 256) return cli_error("bench --train: --threads wants 1..256");
            continue;
        }
        if ((o = cli_opt(argc, argv, &i, "--config", &v)) != 0) {
            for (int k = 0; o > 0 && k < N_CFGS; k++) if (strcmp(v, cfg_names[k]) == 0) only = k;
            if (only < 0) return cli_error("bench --train: --config wants head, last3, all or cached");
            continue;
        }
        return cli_error("bench --train: unknown argument '%s' (see edgetune bench --help)", a);
    }
    if (only >= 0) return run_one(only, batch, h, w, steps, threads, json);
    /* one child per configuration: ru_maxrss is a per-process high-water mark */
    int rc = CLI_OK;
    for (int k = 0; k < N_CFGS; k++) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid < 0) return cli_error("bench --train: fork failed");
        if (pid == 0) _exit(run_one(k, batch, h, w, steps, threads, json));
        int status = 0;
        if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) rc = CLI_ERR;
    }
    return rc;
}
