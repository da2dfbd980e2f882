/* `edgetune plot`'s pictures of finetune --monitor records. */
#ifndef ET_CLI_PLOT_MONITOR_H
#define ET_CLI_PLOT_MONITOR_H

/* Writes DIR/activations.svg and DIR/updates.svg when the log has monitor
 * records (*wrote = 1); 0 on success (also when there are none), else
 * CLI_ERR after printing why. */
int plot_monitor(const char *log, const char *dir, int *wrote);

#endif
