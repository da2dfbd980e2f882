/* The edgetune half of xnn_bench's interleaved mode (--edgetune MODEL.etm):
 * three sessions of one model (1 thread with every node on its own, 1 thread
 * fused, N threads fused) that xnn_bench times turn by turn with XNNPACK in
 * one process, so both libraries see the same phase of a noisy machine.
 * Public API only. */
#ifndef ET_BENCH_SIDE_H
#define ET_BENCH_SIDE_H
#include <stddef.h>
#include <stdio.h>

enum { ET_SIDE_UNFUSED, ET_SIDE_FUSED, ET_SIDE_THREADS, ET_SIDE_COUNT };

typedef struct et_side et_side;

/* NULL with a message on stderr on failure. */
et_side *et_side_open(const char *path, size_t threads);
void et_side_close(et_side *e);
size_t et_side_nodes(const et_side *e);
/* One run of session `which`; node_seconds (et_side_nodes entries) may be
 * NULL for a plain run. Returns 0 on failure (message on stderr). */
int et_side_run(et_side *e, int which, double *node_seconds);
/* The fields `edgetune bench --json` prints, from medians in ms:
 * layer_ms[et_side_nodes] for session `which` (unfused or fused). */
void et_side_json(const et_side *e, FILE *f, int which, const double *layer_ms, double lat1_ms, double lat1u_ms,
                  double latn_ms);

#endif
