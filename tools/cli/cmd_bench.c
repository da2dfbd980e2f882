/* `edgetune bench`: per-layer median time, GFLOP/s and % of the measured FMA
 * peak, and whole-network latency with 1 and N threads, as text or JSON.
 * Uses only the public API; the peak loop lives in tools/bench/fma_peak.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "bench/fma_peak.h"
#include "cli/cli.h"

int cmd_bench_train(int argc, char **argv); /* tools/cli/cmd_bench_train.c */

void cmd_bench_usage(FILE *f) {
    fputs("usage: edgetune bench MODEL.etm [--threads N] [--json] [--size HxW] [--batch N]\n"
          "                      [--repeats R] [--isa generic|avx2|avx512|neon]\n"
          "\n"
          "Runs the model on random input and prints, per layer, the median time over\n"
          "R runs, GFLOP/s (2 flops per multiply-accumulate) and the percentage of this\n"
          "core's FMA peak (measured here with an FMA-throughput loop, for the ISA in\n"
          "use); then whole-network median latency with 1 thread (also with every node\n"
          "on its own) and with N threads. Inverted-residual blocks (expand, depthwise,\n"
          "project) run fused; the table gives a block's time on its first layer.\n"
          "\n"
          "  --threads N   threads for the second latency figure (default 2)\n"
          "  --unfused     run every node on its own (per-layer times of every layer)\n"
          "  --json        machine-readable output (per layer and whole network, ms)\n"
          "  --repeats R   runs per median (default 50)\n"
          "  --isa L       force a kernel level (default: ET_ISA or the best)\n"
          "\n"
          "       edgetune bench --train [--size HxW] [--batch N] [--repeats R] [--threads N]\n"
          "                      [--config head|last3|all|cached] [--json]\n"
          "\n"
          "Training speed: MobileNetV2-1.0 (tools/zoo, with BN, new 10-class head), SGD\n"
          "momentum 0.9, train-mode BN, N threads (default 1); median step time over R steps (default\n"
          "10) as images/s, and the process's peak RSS (getrusage ru_maxrss), for head\n"
          "only, the last three inverted-residual blocks + head, and the whole network\n"
          "(each in its own process). Defaults: 160x160, batch 16.\n", f);
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, size_t n) {
    qsort(v, n, sizeof *v, cmp_d);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

typedef struct bench_ctx {
    et_model *m;
    et_config cfg;
    et_exec_options opt;
    void *arena;
    et_session *s;
} bench_ctx;

static int setup(bench_ctx *b, size_t threads, et_threadpool *pool) {
    et_plan p;
    b->cfg.threads = threads;
    b->opt.pool = pool;
    et_status st = et_model_plan_ex(b->m, &b->cfg, &b->opt, &p);
    if (st != ET_OK) return cli_lib_error(NULL, st, et_model_error(b->m));
    free(b->arena);
    b->arena = malloc(p.total);
    if (!b->arena) return cli_error("out of memory (%zu bytes)", p.total);
    /* touch the arena once so page faults do not land in the first runs */
    memset(b->arena, 0, p.total);
    st = et_session_prepare_ex(b->m, &b->cfg, &b->opt, b->arena, p.total, &b->s, NULL);
    if (st != ET_OK) return cli_lib_error(NULL, st, et_model_error(b->m));
    et_tensor in;
    et_session_input(b->s, 0, &in);
    unsigned x = 12345;
    size_t n = in.shape.n * in.shape.h * in.shape.w * in.shape.c;
    for (size_t i = 0; i < n; i++) { x = x * 1103515245u + 12345u; in.data[i] = (float)(x >> 8) / (float)(1u << 24) - 0.5f; }
    return CLI_OK;
}

static double latency(et_session *s, size_t repeats, double *buf) {
    for (int w = 0; w < 5; w++) et_session_run(s);
    for (size_t r = 0; r < repeats; r++) {
        double t0 = now();
        et_session_run(s);
        buf[r] = now() - t0;
    }
    return median(buf, repeats);
}

int cmd_bench(int argc, char **argv) {
    const char *path = NULL, *v;
    size_t threads = 2, repeats = 50, h = 0, w = 0, batch = 1;
    int json = 0, unfused = 0, o;
    et_isa isa = ET_ISA_AUTO;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--train") == 0) return cmd_bench_train(argc, argv);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (cli_is_help(a)) { cmd_bench_usage(stdout); return CLI_OK; }
        if (strcmp(a, "--json") == 0) { json = 1; continue; }
        if (strcmp(a, "--unfused") == 0) { unfused = 1; continue; }
        if ((o = cli_opt(argc, argv, &i, "--threads", &v)) != 0) {
            if (o < 0 || !cli_parse_size(v, &threads) || threads == 0 || threads > 256) return cli_usage_error("bench", cmd_bench_usage, "--threads wants 1..256");
            continue;
        }
        if ((o = cli_opt(argc, argv, &i, "--repeats", &v)) != 0) {
            if (o < 0 || !cli_parse_size(v, &repeats) || repeats == 0 || repeats > 100000) return cli_usage_error("bench", cmd_bench_usage, "--repeats wants 1..100000");
            continue;
        }
        if ((o = cli_opt(argc, argv, &i, "--batch", &v)) != 0) {
            if (o < 0 || !cli_parse_size(v, &batch) || batch == 0) return cli_usage_error("bench", cmd_bench_usage, "--batch wants a positive number");
            continue;
        }
        if ((o = cli_opt(argc, argv, &i, "--size", &v)) != 0) {
            if (o < 0 || !cli_parse_hw(v, &h, &w)) return cli_usage_error("bench", cmd_bench_usage, "--size wants HxW");
            continue;
        }
        if ((o = cli_opt(argc, argv, &i, "--isa", &v)) != 0) {
            int found = 0;
            for (int k = ET_ISA_AUTO; o > 0 && k < ET_ISA_COUNT; k++)
                if (strcmp(v, et_isa_name((et_isa)k)) == 0) { isa = (et_isa)k; found = 1; }
            if (!found) return cli_usage_error("bench", cmd_bench_usage, "--isa wants generic, avx2, avx512, neon or auto");
            continue;
        }
        if (a[0] == '-' && a[1]) return cli_usage_error("bench", cmd_bench_usage, "unknown option '%s'", a);
        if (path) return cli_usage_error("bench", cmd_bench_usage, "one model only");
        path = a;
    }
    if (!path) return cli_usage_error("bench", cmd_bench_usage, "no model given");

    bench_ctx b;
    memset(&b, 0, sizeof b);
    char err[256];
    et_status st = et_model_load_file(path, &b.m, err, sizeof err);
    if (st != ET_OK) return cli_lib_error(path, st, err);
    b.cfg.batch = batch;
    b.cfg.height = h;
    b.cfg.width = w;
    b.opt.isa = isa;
    et_threadpool *pool = NULL;
    int rc = CLI_ERR;
    size_t nn = et_model_node_count(b.m);
    double *times = malloc((nn + 1) * repeats * sizeof *times), *node = malloc((nn + 1) * sizeof *node);
    double *med = malloc((nn + 1) * sizeof *med), *buf = malloc(repeats * sizeof *buf);
    int *fz = calloc(nn + 1, sizeof *fz);
    if (!times || !node || !med || !buf || !fz) { cli_error("out of memory"); goto done; }
    b.opt.unfused = unfused;
    if (et_threadpool_create(threads, &pool) != ET_OK) { cli_error("cannot start %zu threads", threads); goto done; }
    if (setup(&b, 1, NULL) != CLI_OK) goto done;
    et_model_infer_shapes(b.m, batch, h, w);
    const char *isa_used = et_session_isa(b.s);
    double peak = et_bench_fma_peak(strcmp(isa_used, "avx512") == 0);
    if (strcmp(isa_used, "generic") == 0) peak = et_bench_fma_peak(0);

    for (int wu = 0; wu < 5; wu++) et_session_run_profiled(b.s, node, nn);
    for (size_t r = 0; r < repeats; r++) {
        et_session_run_profiled(b.s, node, nn);
        for (size_t i = 0; i < nn; i++) times[i * repeats + r] = node[i];
    }
    double sum_layers = 0.0, total_macs = 0.0;
    for (size_t i = 0; i < nn; i++) {
        med[i] = median(times + i * repeats, repeats);
        sum_layers += med[i];
        fz[i] = et_session_node_fused(b.s, i);
    }
    double lat1 = latency(b.s, repeats, buf);
    /* the same, every node on its own: what block fusion gains */
    b.opt.unfused = 1;
    if (setup(&b, 1, NULL) != CLI_OK) goto done;
    double lat1u = latency(b.s, repeats, buf);
    b.opt.unfused = unfused;
    if (setup(&b, threads, pool) != CLI_OK) goto done;
    double latn = latency(b.s, repeats, buf);

    if (json) {
        printf("{\"model\": ");
        cli_json_str(stdout, path);
        printf(", \"isa\": \"%s\", \"fma_peak_gflops\": %.2f, \"layers\": [", isa_used, peak);
    }
    else printf("%s: isa %s, measured FMA peak %.1f GFLOP/s (one core), median of %zu runs\n\n%-28s %-7s %10s %9s %7s\n",
                path, isa_used, peak, repeats, "layer", "op", "ms", "GFLOP/s", "%peak");
    for (size_t i = 0; i < nn; i++) {
        et_node_info ni;
        et_model_node_info(b.m, i, &ni);
        total_macs += (double)ni.macs;
        /* a fused block's time is on its first node: count the block's work there */
        double macs = fz[i] == 2 ? 0.0 : (double)ni.macs;
        for (size_t j = i + 1; fz[i] == 1 && j < nn && fz[j] == 2; j++) {
            et_node_info nj;
            et_model_node_info(b.m, j, &nj);
            macs += (double)nj.macs;
        }
        double gf = med[i] > 0 ? 2.0 * macs / med[i] * 1e-9 : 0.0;
        const char *note = fz[i] == 1 ? "  fused block: time of this and the next (in block) layers" : fz[i] == 2 ? "  (in block)" : "";
        if (json) {
            printf("%s{\"name\": ", i ? ", " : "");
            cli_json_str(stdout, ni.name);
            printf(", \"op\": \"%s\", \"fused\": %d, \"ms\": %.5f, \"gflops\": %.2f, \"peak_pct\": %.1f}", et_op_name(ni.op), fz[i],
                   med[i] * 1e3, gf, peak > 0 ? 100.0 * gf / peak : 0.0);
        }
        else printf("%-28s %-7s %10.4f %9.1f %7.1f%s\n", ni.name, et_op_name(ni.op), med[i] * 1e3, gf, peak > 0 ? 100.0 * gf / peak : 0.0, note);
    }
    double gf1 = 2.0 * total_macs / lat1 * 1e-9;
    if (json)
        printf("], \"sum_of_layers_ms\": %.4f, \"latency_ms_1_thread\": %.4f, \"latency_ms_1_thread_unfused\": %.4f, "
               "\"threads\": %zu, \"latency_ms_n_threads\": %.4f, \"gflops_1_thread\": %.2f, \"speedup\": %.3f}\n",
               sum_layers * 1e3, lat1 * 1e3, lat1u * 1e3, threads, latn * 1e3, gf1, lat1 / latn);
    else
        printf("\nsum of layers %.3f ms; whole network: 1 thread %.3f ms (%.1f GFLOP/s, %.1f%% of peak;"
               " %.3f ms with every node on its own), %zu threads %.3f ms (%.2fx)\n",
               sum_layers * 1e3, lat1 * 1e3, gf1, peak > 0 ? 100.0 * gf1 / peak : 0.0, lat1u * 1e3, threads, latn * 1e3, lat1 / latn);
    rc = CLI_OK;
done:
    et_threadpool_free(pool);
    free(b.arena); free(times); free(node); free(med); free(buf); free(fz);
    et_model_free(b.m);
    return rc;
}
