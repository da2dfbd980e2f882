/* `edgetune finetune`: fastai-style fine-tuning on the device — schedules,
 * the fine_tune recipe, validation metrics, early stopping, JSON-lines log,
 * progress, and crash-safe checkpoints that resume bit-identically. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "cli/checkpoint.h"
#include "cli/cli.h"
#include "cli/fit.h"
#include "cli/ft.h"

void cmd_finetune_usage(FILE *f) {
    fputs("usage: edgetune finetune MODEL.etm -o OUT.etm [data options] [options]\n"
          "\n"
          "Fine-tunes MODEL on your data (fastai's practices: one-cycle, freeze then\n"
          "unfreeze, discriminative rates) and writes a clean inference model (batchnorm\n"
          "folded, class labels in its metadata). Progress, a JSON-lines log and\n"
          "checkpoints go to a run folder (default runs/<timestamp>/).\n"
          "\n", f);
    data_opts_usage(f);
    ft_train_usage(f);
    fputs("schedule:\n"
          "  --epochs N             (1)\n"
          "  --schedule onecycle|flatcos|step|constant   (onecycle: div 25, div_final 1e5,\n"
          "                         pct_start 0.25, momentum 0.95->0.85->0.95; flatcos: pct_start 0.75)\n"
          "  --pct-start P --div D --div-final D   one-cycle / flat-cos shape\n"
          "  --gamma G --step-epochs N   step schedule: lr * G every N epochs (0.1, epochs/3)\n"
          "  --recipe fine_tune     fastai's fine_tune: 1 frozen epoch of one-cycle at LR\n"
          "                         (pct_start 0.99), then unfreeze: --epochs of one-cycle at\n"
          "                         LR/2 with slice(LR/200, LR/2), pct_start 0.3, div 5 (LR 2e-3)\n"
          "  --patience N           stop when the valid loss has not improved for N epochs and\n"
          "                         keep the best epoch's weights (per recipe phase)\n"
          "run folder, logs, checkpoints:\n"
          "  -o, --output OUT.etm   the fine-tuned model (required)\n"
          "  --run-dir DIR          where the log and checkpoints go (default runs/<timestamp>,\n"
          "                         or the folder of --resume's checkpoint)\n"
          "  --log RUN.jsonl        JSON-lines log (default RUN_DIR/run.jsonl)\n"
          "  --monitor N            every N steps, log per-layer activation statistics and\n"
          "                         per-group update/weight ratios (drawn by edgetune plot)\n"
          "  --checkpoint-every N   also checkpoint every N steps (always after each epoch);\n"
          "                         RUN_DIR/ckpt.etck, the previous one kept as ckpt.etck.prev\n"
          "  --resume CKPT          continue a run (same options) to bit-identical weights; a\n"
          "                         corrupt CKPT falls back to CKPT.prev\n", f);
}

static int parse(int argc, char **argv, ft_opts *o) {
    ft_defaults(o);
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int r;
        if (cli_is_help(argv[i])) { cmd_finetune_usage(stdout); return -1; }
        r = ft_parse(argc, argv, &i, o, "finetune", cmd_finetune_usage);
        if (r == CLI_USAGE) return r;
        if (r == 1) continue;
#define OPT(name) ((r = cli_opt(argc, argv, &i, name, &v)) != 0)
#define NEED(cond, msg) do { if (r < 0 || !(cond)) return cli_usage_error("finetune", cmd_finetune_usage, msg); } while (0)
        size_t z;
        if (OPT("-o") || OPT("--output")) { NEED(1, "-o needs a file"); o->out = v; }
        else if (OPT("--epochs")) { NEED(cli_parse_size(v, &o->epochs) && o->epochs > 0, "--epochs needs a positive integer"); }
        else if (OPT("--schedule")) {
            NEED(v && et_sched_parse(v) >= 0, "--schedule needs onecycle, flatcos, step or constant");
            o->sched = et_sched_parse(v);
        } else if (OPT("--pct-start")) {
            NEED(cli_parse_float(v, &o->pct_start) && o->pct_start >= 0 && o->pct_start <= 1, "--pct-start needs 0 <= P <= 1");
            o->pct_set = 1;
        } else if (OPT("--div")) { NEED(cli_parse_float(v, &o->div) && o->div > 0, "--div needs a positive number"); o->div_set = 1; }
        else if (OPT("--div-final")) { NEED(cli_parse_float(v, &o->div_final) && o->div_final > 0, "--div-final needs a positive number"); }
        else if (OPT("--gamma")) { NEED(cli_parse_float(v, &o->gamma) && o->gamma > 0, "--gamma needs a positive number"); }
        else if (OPT("--step-epochs")) { NEED(cli_parse_size(v, &o->step_epochs) && o->step_epochs > 0, "--step-epochs needs a positive integer"); }
        else if (OPT("--recipe")) { NEED(v && strcmp(v, "fine_tune") == 0, "--recipe: the only recipe is fine_tune"); o->recipe = RECIPE_FINE_TUNE; }
        else if (OPT("--patience")) { NEED(cli_parse_size(v, &o->patience) && o->patience > 0, "--patience needs a positive integer"); }
        else if (OPT("--run-dir")) { NEED(1, "--run-dir needs a folder"); o->run_dir = v; }
        else if (OPT("--log")) { NEED(1, "--log needs a file"); o->log = v; }
        else if (OPT("--monitor")) { NEED(cli_parse_size(v, &o->monitor_every) && o->monitor_every > 0, "--monitor needs a positive step count"); }
        else if (OPT("--checkpoint-every")) { NEED(cli_parse_size(v, &o->ckpt_every) && o->ckpt_every > 0, "--checkpoint-every needs a positive integer"); }
        else if (OPT("--resume")) { NEED(1, "--resume needs a checkpoint file"); o->resume = v; }
        else if (OPT("--stop-after-steps")) { NEED(cli_parse_size(v, &z) && z > 0, "--stop-after-steps needs a positive integer"); o->stop_after = z; }
        else if (argv[i][0] == '-' && argv[i][1] != '\0') return cli_usage_error("finetune", cmd_finetune_usage, "unknown option '%s'", argv[i]);
        else if (!o->model) o->model = argv[i];
        else return cli_usage_error("finetune", cmd_finetune_usage, "unexpected argument '%s'", argv[i]);
#undef OPT
#undef NEED
    }
    if (!o->model) return cli_usage_error("finetune", cmd_finetune_usage, "missing MODEL.etm");
    if (!o->out) return cli_usage_error("finetune", cmd_finetune_usage, "missing -o OUT.etm");
    if (ft_check(o, "finetune", cmd_finetune_usage) != CLI_OK) return CLI_USAGE;
    if (o->recipe && !o->lr_set) o->lr = 2e-3f;
    if (o->recipe && o->lr_lo > 0) return cli_usage_error("finetune", cmd_finetune_usage, "--recipe fine_tune sets its own discriminative rates: give --lr LR");
    return CLI_OK;
}

/* mkdir -p for one or two levels (runs/<stamp>). */
static int make_dir(const char *path) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0777) != 0 && errno != EEXIST) return -1;
            *p = '/';
        }
    return mkdir(tmp, 0777) != 0 && errno != EEXIST ? -1 : 0;
}

static void default_run_dir(char *buf, size_t cap) {
    time_t now = time(NULL);
    struct tm tmv;
    char stamp[32];
    localtime_r(&now, &tmv);
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tmv);
    snprintf(buf, cap, "runs/%s", stamp);
    struct stat st;
    for (int k = 2; stat(buf, &st) == 0 && k < 100; k++) snprintf(buf, cap, "runs/%s-%d", stamp, k);
}

int cmd_finetune(int argc, char **argv) {
    ft_opts o;
    int rc = parse(argc, argv, &o);
    if (rc < 0) return CLI_OK;
    if (rc != CLI_OK) return rc;

    char run_dir[4000], log_path[4096], ckpt_path[4096];
    if (o.run_dir) snprintf(run_dir, sizeof run_dir, "%s", o.run_dir);
    else if (o.resume) {
        snprintf(run_dir, sizeof run_dir, "%s", o.resume);
        char *slash = strrchr(run_dir, '/');
        if (slash) *slash = '\0'; else snprintf(run_dir, sizeof run_dir, ".");
    } else default_run_dir(run_dir, sizeof run_dir);
    if (make_dir(run_dir) != 0) return cli_error("%s: cannot create the run folder: %s", run_dir, strerror(errno));
    snprintf(log_path, sizeof log_path, "%s", o.log ? o.log : "");
    if (!o.log) snprintf(log_path, sizeof log_path, "%s/run.jsonl", run_dir);
    snprintf(ckpt_path, sizeof ckpt_path, "%s/ckpt.etck", run_dir);

    et_model *m = NULL;
    char err[512] = "";
    et_status st = et_model_load_file(o.model, &m, err, sizeof err);
    if (st != ET_OK) return cli_lib_error(o.model, st, err);
    data_set d;
    if (data_load(&o.data, m, o.seed, &d) != CLI_OK) { et_model_free(m); return CLI_ERR; }
    if (o.multi_label && !d.multi_label) {
        data_free(&d);
        et_model_free(m);
        return cli_error("--multi-label needs a 0/1 label matrix (--train-y of shape [N, K])");
    }
    if (o.patience && !d.valid) {
        data_free(&d);
        et_model_free(m);
        return cli_error("--patience needs validation data (--valid, --valid-idx, --valid-x or --valid-pct)");
    }
    et_model *tm = NULL;
    rc = ft_model_for_data(&o, m, &d, &tm);
    et_model_free(m);
    if (rc != CLI_OK) { data_free(&d); return rc; }

    ckpt_data resume;
    memset(&resume, 0, sizeof resume);
    fit_ctx c;
    memset(&c, 0, sizeof c);
    c.o = &o;
    c.d = &d;
    c.base = tm;
    c.ckpt_path = ckpt_path;
    c.model_hash = ft_file_hash(o.model);
    ft_hparams_text(&o, &d, c.model_hash, c.hparams, sizeof c.hparams);
    if (o.resume) {
        const char *used;
        if (ckpt_read(o.resume, &resume, &used) != 0 || ckpt_check_hparams(used, resume.hparams, c.hparams) != 0) {
            ckpt_free(&resume);
            et_model_free(tm);
            data_free(&d);
            return CLI_ERR;
        }
        printf("resuming from %s: epoch %u, batch %llu\n", used, resume.pos.epoch + 1, (unsigned long long)resume.pos.batch);
        c.resume = &resume;
    }
    c.log = fopen(log_path, o.resume ? "a" : "w");
    if (!c.log) {
        ckpt_free(&resume);
        et_model_free(tm);
        data_free(&d);
        return cli_error("%s: cannot open the log: %s", log_path, strerror(errno));
    }
    fit_log_header(&c, o.resume ? "resume" : "header");
    printf("run folder %s\n", run_dir);
    et_model *out = NULL;
    rc = fit_run(&c, &out);
    fclose(c.log);
    ckpt_free(&resume);
    if (rc == CLI_OK) {
        et_model *folded = NULL;
        st = et_model_fold(out, &folded);
        if (st == ET_OK) {
            st = et_model_save_file(folded, o.out);
            if (st != ET_OK) rc = cli_error("%s: cannot write: %s", o.out, et_status_str(st));
            else printf("wrote %s\n", o.out);
        } else {
            rc = cli_error("folding the trained model: %s", et_model_error(out));
        }
        et_model_free(folded);
    }
    et_model_free(out);
    et_model_free(tm);
    data_free(&d);
    return rc;
}
