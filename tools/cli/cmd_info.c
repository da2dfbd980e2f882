/* `edgetune info`: a model's metadata, a table of its layers with shapes,
 * parameters and MACs, and the arena plan for a given input size and batch.
 * Read-only: it never runs the network. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "cli/cli.h"

void cmd_info_usage(FILE *f) {
    fputs("usage: edgetune info MODEL.etm [--size HxW] [--batch N] [--threads N]\n"
          "\n"
          "Prints the model's metadata, one line per layer (output shape NHWC,\n"
          "parameters, multiply-accumulates, conv/pool geometry), the totals and\n"
          "the exact arena bytes a session needs for that input size and batch.\n"
          "\n"
          "  --size HxW    input height and width (default: the model's own)\n"
          "  --batch N     batch size for shapes, MACs and the plan (default 1)\n"
          "  --threads N   threads for the plan (default 1)\n", f);
}

static const char *act_str(et_act a, char *buf, size_t cap) {
    switch (a.kind) {
    case ET_ACT_NONE: return "-";
    case ET_ACT_CLIP:
        if (a.a == 0.0f && a.b == 6.0f) return "relu6";
        snprintf(buf, cap, "clip(%g,%g)", (double)a.a, (double)a.b);
        return buf;
    case ET_ACT_LEAKY_RELU:
        snprintf(buf, cap, "leaky(%g)", (double)a.a);
        return buf;
    default: return et_act_name(a.kind);
    }
}

/* "k3x3 s2 p1 d1 g32", writing pairs only where they differ. */
static const char *geometry(const et_node_info *ni, char *buf, size_t cap) {
    if (ni->op != ET_OP_CONV2D && ni->op != ET_OP_MAXPOOL && ni->op != ET_OP_AVGPOOL) return "";
    char s[24], p[48], d[24];
    if (ni->sh == ni->sw) snprintf(s, sizeof s, "%zu", ni->sh);
    else snprintf(s, sizeof s, "%zux%zu", ni->sh, ni->sw);
    if (ni->pad_t == ni->pad_l && ni->pad_t == ni->pad_b && ni->pad_t == ni->pad_r) snprintf(p, sizeof p, "%zu", ni->pad_t);
    else snprintf(p, sizeof p, "%zu,%zu,%zu,%zu", ni->pad_t, ni->pad_l, ni->pad_b, ni->pad_r);
    if (ni->dh == ni->dw) snprintf(d, sizeof d, "%zu", ni->dh);
    else snprintf(d, sizeof d, "%zux%zu", ni->dh, ni->dw);
    if (ni->op == ET_OP_CONV2D)
        snprintf(buf, cap, "k%zux%zu s%s p%s d%s g%zu", ni->kh, ni->kw, s, p, d, ni->groups);
    else
        snprintf(buf, cap, "k%zux%zu s%s p%s", ni->kh, ni->kw, s, p);
    return buf;
}

static void print_metadata(const et_model *m, const char *path) {
    et_metadata md;
    et_shape in;
    memset(&md, 0, sizeof md);
    memset(&in, 0, sizeof in);
    (void)et_model_metadata(m, &md);
    (void)et_model_input_shape(m, &in);
    printf("model      %s\n", path);
    printf("library    edgetune %s\n", et_version());
    printf("input      %zu x %zu x %zu (H x W x C, default size)\n", in.h, in.w, in.c);
    printf("layout     %s\n", md.source_layout == ET_LAYOUT_NCHW ? "NCHW (arrays given as N,C,H,W)" : "NHWC (arrays given as N,H,W,C)");
    if (md.norm_channels) {
        printf("normalise  mean");
        for (size_t i = 0; i < md.norm_channels; i++) printf(" %g", (double)md.mean[i]);
        printf(", std");
        for (size_t i = 0; i < md.norm_channels; i++) printf(" %g", (double)md.std[i]);
        printf("\n");
    } else {
        printf("normalise  none\n");
    }
    printf("labels     %zu", md.label_count);
    for (size_t i = 0; i < md.label_count && i < 3; i++) printf("%s%s", i ? ", " : " (", md.labels[i]);
    printf("%s\n", md.label_count > 3 ? ", ...)" : md.label_count ? ")" : "");
    printf("source     %s\n", md.source && *md.source ? md.source : "-");
}

static int print_layers(et_model *m, uint64_t *params, uint64_t *macs) {
    size_t n = et_model_node_count(m), name_w = 4;
    et_node_info ni;
    for (size_t i = 0; i < n; i++)
        if (et_model_node_info(m, i, &ni) == ET_OK && ni.name && strlen(ni.name) > name_w) name_w = strlen(ni.name);
    if (name_w > 48) name_w = 48;
    printf("layers     %zu\n\n", n);
    printf("%5s  %-*s  %-14s  %-12s  %-20s  %10s  %12s  %s\n", "#", (int)name_w, "name", "op", "act",
           "output (NHWC)", "params", "MACs", "geometry");
    *params = *macs = 0;
    for (size_t i = 0; i < n; i++) {
        et_status st = et_model_node_info(m, i, &ni);
        if (st != ET_OK) return cli_error("node %zu: %s", i, et_status_str(st));
        char ab[32], gb[192], sb[96];
        snprintf(sb, sizeof sb, "%zux%zux%zux%zu", ni.out_shape.n, ni.out_shape.h, ni.out_shape.w, ni.out_shape.c);
        const char *geo = geometry(&ni, gb, sizeof gb);
        printf("%5zu  %-*s  %-14s  %-12s  %-20s  %10zu  %12llu%s%s\n", i, (int)name_w, ni.name ? ni.name : "?",
               et_op_name(ni.op), act_str(ni.act, ab, sizeof ab), sb, ni.params,
               (unsigned long long)ni.macs, *geo ? "  " : "", geo);
        *params += ni.params;
        *macs += ni.macs;
    }
    return CLI_OK;
}

static int print_plan(const et_model *m, const et_config *cfg, size_t h, size_t w) {
    et_plan p;
    memset(&p, 0, sizeof p);
    et_status st = et_model_plan(m, cfg, &p);
    if (st != ET_OK) return cli_error("plan: %s", et_model_error(m));
    char hb[32];
    printf("arena      %zu bytes (%s) for batch %zu, %zux%zu, %zu thread%s\n", p.total,
           cli_human((double)p.total, 1, hb, sizeof hb), cfg->batch, h, w, cfg->threads, cfg->threads == 1 ? "" : "s");
    printf("  header       %12zu\n", p.header);
    printf("  weights      %12zu\n", p.weights);
    printf("  activations  %12zu\n", p.activations);
    printf("    naive      %12zu  (every buffer separate)\n", p.activations_naive);
    printf("    bound      %12zu  (most bytes live at once)\n", p.activations_bound);
    if (p.activations_naive && p.activations_bound)
        printf("    planned / naive %.3f, planned / bound %.3f\n",
               (double)p.activations / (double)p.activations_naive,
               (double)p.activations / (double)p.activations_bound);
    return CLI_OK;
}

int cmd_info(int argc, char **argv) {
    const char *path = NULL;
    size_t h = 0, w = 0, batch = 1, threads = 1;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int r;
        if (cli_is_help(argv[i])) { cmd_info_usage(stdout); return CLI_OK; }
        if ((r = cli_opt(argc, argv, &i, "--size", &v)) != 0) {
            if (r < 0 || !cli_parse_hw(v, &h, &w)) return cli_usage_error("info", cmd_info_usage, "--size needs HxW");
        } else if ((r = cli_opt(argc, argv, &i, "--batch", &v)) != 0) {
            if (r < 0 || !cli_parse_size(v, &batch) || batch == 0) return cli_usage_error("info", cmd_info_usage, "--batch needs a positive integer");
        } else if ((r = cli_opt(argc, argv, &i, "--threads", &v)) != 0) {
            if (r < 0 || !cli_parse_size(v, &threads) || threads == 0) return cli_usage_error("info", cmd_info_usage, "--threads needs a positive integer");
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return cli_usage_error("info", cmd_info_usage, "unknown option '%s'", argv[i]);
        } else if (!path) {
            path = argv[i];
        } else {
            return cli_usage_error("info", cmd_info_usage, "unexpected argument '%s'", argv[i]);
        }
    }
    if (!path) return cli_usage_error("info", cmd_info_usage, "missing MODEL.etm");

    et_model *m = NULL;
    char err[512] = "";
    et_status st = et_model_load_file(path, &m, err, sizeof err);
    if (st != ET_OK) return cli_lib_error(path, st, err);
    print_metadata(m, path);
    et_shape in;
    (void)et_model_input_shape(m, &in);
    if (!h) { h = in.h; w = in.w; }
    int rc = CLI_OK;
    st = et_model_infer_shapes(m, batch, h, w);
    if (st != ET_OK) rc = cli_error("%s: shapes for %zux%zux%zux%zu: %s", path, batch, h, w, in.c, et_model_error(m));
    uint64_t params = 0, macs = 0;
    if (rc == CLI_OK) rc = print_layers(m, &params, &macs);
    if (rc == CLI_OK) {
        char pb[32], mb[32], bb[32];
        printf("\ntotal      %llu parameters (%s, %s as f32), %llu MACs (%s) at batch %zu, %zux%zu\n",
               (unsigned long long)params, cli_human((double)params, 0, pb, sizeof pb),
               cli_human((double)params * 4.0, 1, bb, sizeof bb), (unsigned long long)macs,
               cli_human((double)macs, 0, mb, sizeof mb), batch, h, w);
        et_config cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.batch = batch;
        cfg.height = h;
        cfg.width = w;
        cfg.threads = threads;
        rc = print_plan(m, &cfg, h, w);
    }
    et_model_free(m);
    return rc;
}
