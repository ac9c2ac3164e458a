/*
 * app/rundir.h -- run directories shared by hmc, heatbath, train and sample:
 * parameters saved as run.json (and compared on --resume), per-step CSV files that are
 * truncated back to the last checkpoint on resume, and small JSON/text file helpers.
 *
 * A run directory DIR holds
 *   run.json          command, parameters, latflow version (written once, atomically)
 *   <name>.csv        one row per trajectory/step (appended; rewritten on resume)
 *   checkpoint/       the last checkpoint (written atomically, see each command)
 */
#ifndef LATFLOW_APP_RUNDIR_H
#define LATFLOW_APP_RUNDIR_H

#include <stdio.h>

#include "cli.h"

/* Options table -> JSON object {name: value} (flags as booleans, strings as strings). */
cJSON *rundir_opts_to_json(const cli_opt *opts, const char *const *skip);
/* Restore options from a saved run.json: options not given on the command line (seen == 0)
 * take the saved value; options given with a different value are refused unless listed in
 * `mutable` or allow_change is set. Prints the reason and returns CLI_ERR on refusal. */
int rundir_opts_merge(const char *cmd, const cli_opt *opts, const int *seen, const cJSON *saved,
                      const char *const *mutable_keys, int allow_change);
/* Free the option strings restored by rundir_opts_merge (they stay valid until then; main
 * calls it after the command returns). */
void rundir_free_restored(void);

/* Read a whole file (NUL-terminated); NULL + message printed on failure. */
char *rundir_slurp(const char *cmd, const char *path, size_t *len);
/* Parse a JSON file. */
cJSON *rundir_read_json(const char *cmd, const char *path);
/* Write JSON atomically (pretty-printed). Returns LF_OK or a library status. */
int rundir_write_json(const char *path, const cJSON *obj);

/* Refuse to start a new run in a directory that already holds one. */
int rundir_check_fresh(const char *cmd, const char *dir);

/* Keep the header and the rows whose first column (an integer step) is <= last_step;
 * rewrite atomically. Missing file: OK. Returns the number of rows kept or -1. */
long rundir_csv_truncate(const char *path, long last_step);
/* Read column `col` (0-based) of rows with first column > skip_below into a new array. */
double *rundir_csv_column(const char *path, int col, long skip_below, long *n);

/* path = dir + "/" + name (truncation-checked; returns 0 on success). */
int rundir_path(char *out, size_t n, const char *dir, const char *name);

#endif
