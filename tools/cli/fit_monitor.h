/* finetune --monitor N: per-layer activation statistics and per-group
 * update ratios written into the run log every N steps ("type":"monitor"),
 * drawn by `edgetune plot`. Observing changes no weight, so resumed runs
 * stay bit-identical. */
#ifndef ET_CLI_FIT_MONITOR_H
#define ET_CLI_FIT_MONITOR_H

#include <stdio.h>
#include "edgetune.h"

typedef struct fit_monitor {
    et_monitor *mon;
    et_trainer *t;
    size_t every, n_groups;
    et_group_update *u;
} fit_monitor;

/* every 0: off (every call below is then a no-op). Returns 0 or -1 (printed). */
int fit_monitor_begin(fit_monitor *fm, et_trainer *t, size_t every);
/* Before the step that will be log step `step` (1-based). */
void fit_monitor_before(fit_monitor *fm, uint64_t step);
/* After log step `step` succeeded: writes the record when it is due. */
void fit_monitor_after(fit_monitor *fm, FILE *log, uint64_t step, size_t epoch);
void fit_monitor_end(fit_monitor *fm);

#endif
