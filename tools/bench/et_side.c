/* See et_side.h. */
#include "et_side.h"
#include <stdlib.h>
#include <string.h>
#include <edgetune.h>
#define CLI_PROG "xnn_bench"
#include "cli/cli.h"

struct et_side {
    et_model *m;
    et_threadpool *pool;
    size_t threads, nodes;
    void *arena[ET_SIDE_COUNT];
    et_session *s[ET_SIDE_COUNT];
};

static int prepare(et_side *e, int which) {
    et_config cfg = {1, 0, 0, which == ET_SIDE_THREADS ? e->threads : 1};
    et_exec_options opt;
    memset(&opt, 0, sizeof opt);
    opt.unfused = which == ET_SIDE_UNFUSED;
    opt.pool = which == ET_SIDE_THREADS ? e->pool : NULL;
    et_plan p;
    et_status st = et_model_plan_ex(e->m, &cfg, &opt, &p);
    if (st == ET_OK && !(e->arena[which] = malloc(p.total))) st = ET_ERR_NO_MEMORY;
    if (st == ET_OK) {
        memset(e->arena[which], 0, p.total); /* fault the pages in before timing */
        st = et_session_prepare_ex(e->m, &cfg, &opt, e->arena[which], p.total, &e->s[which], NULL);
    }
    if (st != ET_OK) {
        fprintf(stderr, "xnn_bench: edgetune session: %s: %s\n", et_status_str(st), et_model_error(e->m));
        return 0;
    }
    et_tensor in;
    et_session_input(e->s[which], 0, &in);
    unsigned x = 12345; /* the input `edgetune bench` uses */
    size_t n = in.shape.n * in.shape.h * in.shape.w * in.shape.c;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        in.data[i] = (float)(x >> 8) / (float)(1u << 24) - 0.5f;
    }
    return 1;
}

et_side *et_side_open(const char *path, size_t threads) {
    et_side *e = calloc(1, sizeof *e);
    char err[256];
    if (!e) return NULL;
    e->threads = threads;
    et_status st = et_model_load_file(path, &e->m, err, sizeof err);
    if (st != ET_OK) {
        fprintf(stderr, "xnn_bench: %s: %s\n", path, err);
        free(e);
        return NULL;
    }
    e->nodes = et_model_node_count(e->m);
    if (et_model_infer_shapes(e->m, 1, 0, 0) != ET_OK || et_threadpool_create(threads, &e->pool) != ET_OK) {
        fprintf(stderr, "xnn_bench: %s: cannot infer shapes or start %zu threads\n", path, threads);
        et_side_close(e);
        return NULL;
    }
    for (int w = 0; w < ET_SIDE_COUNT; w++)
        if (!prepare(e, w)) {
            et_side_close(e);
            return NULL;
        }
    return e;
}

void et_side_close(et_side *e) {
    if (!e) return;
    et_threadpool_free(e->pool);
    for (int w = 0; w < ET_SIDE_COUNT; w++) free(e->arena[w]);
    et_model_free(e->m);
    free(e);
}

size_t et_side_nodes(const et_side *e) { return e->nodes; }

int et_side_run(et_side *e, int which, double *node_seconds) {
    et_status st = node_seconds ? et_session_run_profiled(e->s[which], node_seconds, e->nodes) : et_session_run(e->s[which]);
    if (st != ET_OK) fprintf(stderr, "xnn_bench: edgetune run: %s\n", et_session_error(e->s[which]));
    return st == ET_OK;
}

void et_side_json(const et_side *e, FILE *f, int which, const double *layer_ms, double lat1_ms, double lat1u_ms,
                  double latn_ms) {
    double sum = 0.0;
    fprintf(f, "{\"isa\": \"%s\", \"layers\": [", et_session_isa(e->s[which]));
    for (size_t i = 0; i < e->nodes; i++) {
        et_node_info ni;
        et_model_node_info(e->m, i, &ni);
        fprintf(f, "%s{\"name\": ", i ? ", " : "");
        cli_json_str(f, ni.name);
        fprintf(f, ", \"op\": \"%s\", \"fused\": %d, \"ms\": %.5f}", et_op_name(ni.op), et_session_node_fused(e->s[which], i),
                layer_ms[i]);
        sum += layer_ms[i];
    }
    fprintf(f, "], \"sum_of_layers_ms\": %.4f, \"latency_ms_1_thread\": %.4f, \"latency_ms_1_thread_unfused\": %.4f, "
               "\"threads\": %zu, \"latency_ms_n_threads\": %.4f, \"speedup\": %.3f}",
            sum, lat1_ms, lat1u_ms, e->threads, latn_ms, lat1_ms / latn_ms);
}
