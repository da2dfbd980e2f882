/* `edgetune lr-find`: fastai's LR range test on a throw-away trainer (the
 * model file is never written), printing the valley / steep / minimum
 * suggestions and an SVG of smoothed loss against the learning rate. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/ft.h"
#include "cli/svg.h"

void cmd_lr_find_usage(FILE *f) {
    fputs("usage: edgetune lr-find MODEL.etm [data options] [options] [-o PLOT.svg]\n"
          "\n"
          "Trains a copy of MODEL for up to --num-it steps with the learning rate growing\n"
          "exponentially from --start-lr to --end-lr, smoothing the loss (beta 0.98,\n"
          "debiased) and stopping once it exceeds 4x its minimum. Prints fastai's\n"
          "suggestions (valley, steep, minimum/10) and plots loss vs learning rate.\n"
          "MODEL is not modified. Takes finetune's data and training options.\n"
          "\n"
          "  -o, --output PLOT.svg  the plot (default lr_find.svg)\n"
          "  --start-lr LR          (1e-7)\n"
          "  --end-lr LR            (10)\n"
          "  --num-it N             (100)\n"
          "\n", f);
    data_opts_usage(f);
    ft_train_usage(f);
}

int cmd_lr_find(int argc, char **argv) {
    ft_opts o;
    ft_defaults(&o);
    float start = 1e-7f, end = 10.0f;
    size_t num_it = 100;
    const char *plot = "lr_find.svg";
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int r;
        if (cli_is_help(argv[i])) { cmd_lr_find_usage(stdout); return CLI_OK; }
        r = ft_parse(argc, argv, &i, &o, "lr-find", cmd_lr_find_usage);
        if (r == CLI_USAGE) return r;
        if (r == 1) continue;
        if ((r = cli_opt(argc, argv, &i, "-o", &v)) != 0 || (r = cli_opt(argc, argv, &i, "--output", &v)) != 0) {
            if (r < 0) return cli_usage_error("lr-find", cmd_lr_find_usage, "-o needs a file");
            plot = v;
        } else if ((r = cli_opt(argc, argv, &i, "--start-lr", &v)) != 0) {
            if (r < 0 || !cli_parse_float(v, &start) || !(start > 0)) return cli_usage_error("lr-find", cmd_lr_find_usage, "--start-lr needs a positive rate");
        } else if ((r = cli_opt(argc, argv, &i, "--end-lr", &v)) != 0) {
            if (r < 0 || !cli_parse_float(v, &end) || !(end > 0)) return cli_usage_error("lr-find", cmd_lr_find_usage, "--end-lr needs a positive rate");
        } else if ((r = cli_opt(argc, argv, &i, "--num-it", &v)) != 0) {
            if (r < 0 || !cli_parse_size(v, &num_it) || num_it < 2 || num_it > 4096)
                return cli_usage_error("lr-find", cmd_lr_find_usage, "--num-it needs 2..4096");
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return cli_usage_error("lr-find", cmd_lr_find_usage, "unknown option '%s'", argv[i]);
        } else if (!o.model) {
            o.model = argv[i];
        } else {
            return cli_usage_error("lr-find", cmd_lr_find_usage, "unexpected argument '%s'", argv[i]);
        }
    }
    if (!o.model) return cli_usage_error("lr-find", cmd_lr_find_usage, "missing MODEL.etm");
    if (!(end > start)) return cli_usage_error("lr-find", cmd_lr_find_usage, "--end-lr must exceed --start-lr");
    if (ft_check(&o, "lr-find", cmd_lr_find_usage) != CLI_OK) return CLI_USAGE;
    if (o.lr_lo > 0) return cli_usage_error("lr-find", cmd_lr_find_usage, "lr-find sweeps the rate itself: no --lr LO:HI");

    et_model *m = NULL, *tm = NULL;
    char err[512] = "";
    et_status st = et_model_load_file(o.model, &m, err, sizeof err);
    if (st != ET_OK) return cli_lib_error(o.model, st, err);
    data_set d;
    if (data_load(&o.data, m, o.seed, &d) != CLI_OK) { et_model_free(m); return CLI_ERR; }
    int rc = ft_model_for_data(&o, m, &d, &tm);
    et_model_free(m);
    if (rc != CLI_OK) { data_free(&d); return rc; }

    size_t count = d.train_info.count, K = d.classes;
    size_t bs = o.batch < count ? o.batch : count, nb = count / bs;
    size_t per = d.bc_train.height * d.bc_train.width * d.train_info.channels;
    et_train_config cfg;
    ft_train_config(&o, &d, bs, start, 0.0f, o.freeze_to, &cfg);
    void *arena = NULL;
    et_trainer *t = NULL;
    size_t arena_bytes;
    float *x = malloc(bs * per * sizeof *x), *lrs = malloc(num_it * sizeof *lrs), *sm = malloc(num_it * sizeof *sm);
    void *tg = malloc(bs * (d.multi_label ? K * sizeof(float) : sizeof(int32_t)));
    size_t *perm = malloc(count * sizeof *perm);
    double *xs = malloc(num_it * sizeof *xs), *ys = malloc(num_it * sizeof *ys);
    if (!x || !lrs || !sm || !tg || !perm || !xs || !ys) { rc = cli_error("out of memory"); goto done; }
    if (ft_prepare(&o, tm, &cfg, &arena, &t, &arena_bytes) != CLI_OK) { rc = CLI_ERR; goto done; }
    int has_mom = o.optim == ET_OPTIM_ADAM || o.optim == ET_OPTIM_ADAMW || o.momentum > 0.0f;
    et_lr_finder f;
    et_lr_finder_init(&f, start, end, num_it);
    size_t n = 0;
    for (size_t i = 0; i < num_it; i++) {
        size_t b = i % nb, epoch = i / nb;
        if (b == 0) {
            /* a fresh seeded order per pass over the data */
            for (size_t j = 0; j < count; j++) perm[j] = j;
            uint64_t s = o.seed ^ (0x9E3779B97F4A7C15ull * (epoch + 1));
            for (size_t j = count; o.shuffle && j > 1; j--) {
                s = s * 6364136223846793005ull + 1442695040888963407ull;
                size_t k = (size_t)((s >> 33) % j), tmp = perm[j - 1];
                perm[j - 1] = perm[k];
                perm[k] = tmp;
            }
        }
        float lr = et_lr_finder_lr(&f, i), loss = NAN, s;
        st = et_trainer_set_lr(t, lr, has_mom ? o.momentum : 0.0f);
        if (st == ET_OK) st = et_dataset_batch(d.train, &d.bc_train, epoch, perm + b * bs, bs, x, tg);
        if (st == ET_OK) st = et_trainer_step(t, x, tg, &loss);
        if (st == ET_ERR_NUMERIC) break; /* diverged: the points so far tell the story */
        if (st != ET_OK) { rc = cli_error("step %zu: %s", i + 1, et_trainer_error(t)); goto done; }
        int stop = 0;
        et_lr_finder_record(&f, loss, &s, &stop);
        lrs[n] = lr;
        sm[n++] = s;
        if (stop) break;
    }
    printf("lr-find: %zu steps from %.3g to %.3g (batch %zu, %zu samples)\n", n, (double)start, (double)lrs[n ? n - 1 : 0], bs, count);
    et_lr_suggestions sg;
    st = et_lr_suggest(lrs, sm, n, num_it, &sg);
    svg_plot p;
    memset(&p, 0, sizeof p);
    p.title = "lr-find: smoothed loss vs learning rate";
    p.xlabel = "learning rate (log scale)";
    p.ylabel = "smoothed loss";
    p.logx = 1;
    for (size_t i = 0; i < n; i++) { xs[i] = lrs[i]; ys[i] = sm[i]; }
    p.series[0] = (svg_series){xs, ys, n, "#1f77b4", "loss", 0};
    p.n_series = 1;
    char l1[64], l2[64], l3[64];
    if (st == ET_OK) {
        printf("suggestions:\n  valley      %.3g\n  steep       %.3g\n  minimum/10  %.3g\n",
               (double)sg.valley, (double)sg.steep, (double)sg.minimum_div10);
        snprintf(l1, sizeof l1, "valley %.2g", (double)sg.valley);
        snprintf(l2, sizeof l2, "steep %.2g", (double)sg.steep);
        snprintf(l3, sizeof l3, "min/10 %.2g", (double)sg.minimum_div10);
        p.marks[0] = (svg_mark){lrs[sg.valley_idx], sm[sg.valley_idx], l1, "#d62728"};
        p.marks[1] = (svg_mark){lrs[sg.steep_idx], sm[sg.steep_idx], l2, "#2ca02c"};
        p.marks[2] = (svg_mark){lrs[sg.minimum_idx] / 10, sm[sg.minimum_idx], l3, "#9467bd"};
        p.n_marks = 3;
    } else {
        printf("too few points for suggestions (%zu); try a larger --num-it or --end-lr\n", n);
    }
    if (svg_write(plot, &p) != 0) rc = CLI_ERR;
    else printf("wrote %s\n", plot);
done:
    free(arena); free(x); free(lrs); free(sm); free(tg); free(perm); free(xs); free(ys);
    et_model_free(tm);
    data_free(&d);
    return rc;
}
