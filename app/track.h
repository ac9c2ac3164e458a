/*
 * app/track.h -- how the commands report to the run registry (module registry).
 *
 * Every hmc/heatbath/train/sample run registers itself: parameters, per-step metrics,
 * heartbeats, produced/consumed files, and its end status (FINISHED, FAILED, or KILLED
 * when stopped by a signal). The registry location is --registry, else $LATFLOW_REGISTRY,
 * else ~/.latflow/registry.db; "none" switches tracking off.
 *
 * A registry that was asked for explicitly but cannot be opened is an error before the run
 * starts. The default registry failing (or any registry error during the run) only prints
 * one warning: the physics run and its files are never lost because of bookkeeping.
 * Under MPI only rank 0 talks to the registry.
 */
#ifndef LATFLOW_APP_TRACK_H
#define LATFLOW_APP_TRACK_H

#include <cjson/cJSON.h>

#include "latflow/registry.h"

typedef struct {
  lf_registry *reg;
  lf_run *run;
  const char *cmd;
  double last_beat;
  int warned;
} app_track;

/* Returns 0, or -1 after printing an error (explicit registry unusable). */
int track_begin(app_track *t, const char *cmd, const char *registry, const char *name,
                const char *experiment, const cJSON *params, const char *out_dir);
void track_metric(app_track *t, const char *key, long step, double value);
/* One more parameter (e.g. "theory", "lattice" read by `latflow runs models`). */
void track_param(app_track *t, const char *key, const char *value);
/* Heartbeat (and metric flush) at most every few seconds. */
void track_tick(app_track *t);
void track_produced(app_track *t, const char *path, lf_artifact_kind kind);
void track_consumed(app_track *t, const char *path, lf_artifact_kind kind);
/* Log the numeric leaves of a JSON summary as final metrics ("plaquette.mean", ...) and
 * end the run with `status`. */
void track_end(app_track *t, lf_run_status status, const cJSON *summary, long step);

#endif
