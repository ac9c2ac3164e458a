/*
 * app/track.c -- registry reporting for the commands (see track.h for the rules).
 */
#define _POSIX_C_SOURCE 200809L
#include "track.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "latflow/core.h"
#include "latflow/par.h"

static void warn(app_track *t, const char *what) {
  if (!t->warned)
    fprintf(stderr, "latflow %s: warning: run registry %s: %s; the run continues without it\n",
            t->cmd, what, lf_last_error());
  t->warned = 1;
}

static void drop(app_track *t, const char *what) {
  warn(t, what);
  if (t->run) lf_run_end(t->run, LF_RUN_FAILED);
  lf_registry_close(t->reg);
  t->run = NULL;
  t->reg = NULL;
}

static void add_params(app_track *t, const char *prefix, const cJSON *o) {
  for (const cJSON *it = o ? o->child : NULL; it && t->run; it = it->next) {
    char key[256], val[512];
    snprintf(key, sizeof key, "%s%s", prefix, it->string ? it->string : "");
    if (cJSON_IsString(it) || cJSON_IsRaw(it)) snprintf(val, sizeof val, "%s", it->valuestring);
    else if (cJSON_IsNumber(it)) snprintf(val, sizeof val, "%.17g", it->valuedouble);
    else if (cJSON_IsBool(it)) snprintf(val, sizeof val, "%s", cJSON_IsTrue(it) ? "true" : "false");
    else continue; /* null: not set */
    if (lf_run_param(t->run, key, val)) drop(t, "cannot store a parameter");
  }
}

int track_begin(app_track *t, const char *cmd, const char *registry, const char *name,
                const char *experiment, const cJSON *params, const char *out_dir) {
  memset(t, 0, sizeof *t);
  t->cmd = cmd;
  if (!lf_par_root()) return 0;
  const char *env = getenv("LATFLOW_REGISTRY");
  const char *where = registry && *registry ? registry : (env && *env ? env : NULL);
  if (where && (!strcasecmp(where, "none") || !strcasecmp(where, "off"))) return 0;
  if (lf_registry_open(&t->reg, where)) {
    if (where) {
      cli_error(cmd, "fix --registry / LATFLOW_REGISTRY, or give --registry none to run without it",
                "cannot open the run registry: %s", lf_last_error());
      return -1;
    }
    warn(t, "unavailable");
    return 0;
  }
  if (lf_run_start(t->reg, &t->run, cmd, name, experiment)) {
    drop(t, "cannot start a run");
    return 0;
  }
  add_params(t, "", params);
  if (t->run && out_dir) lf_run_tag(t->run, "out", out_dir);
  t->last_beat = lf_time_now();
  if (t->run) fprintf(stderr, "latflow %s: registry run %s (%s)\n", cmd, lf_run_id(t->run),
                      lf_registry_location(t->reg));
  return 0;
}

void track_metric(app_track *t, const char *key, long step, double value) {
  if (t->run && lf_run_metric(t->run, key, step, value)) drop(t, "cannot log a metric");
}

void track_param(app_track *t, const char *key, const char *value) {
  if (t->run && value && lf_run_param(t->run, key, value)) drop(t, "cannot store a parameter");
}

void track_tick(app_track *t) {
  if (!t->run) return;
  double now = lf_time_now();
  if (now - t->last_beat < 5.0) return;
  t->last_beat = now;
  if (lf_run_heartbeat(t->run)) drop(t, "heartbeat failed");
}

void track_produced(app_track *t, const char *path, lf_artifact_kind kind) {
  if (t->run && lf_run_artifact(t->run, path, kind, NULL)) drop(t, "cannot register a file");
}

void track_consumed(app_track *t, const char *path, lf_artifact_kind kind) {
  if (t->run && lf_run_consume(t->run, path, kind, NULL)) drop(t, "cannot register a file");
}

static void final_metrics(app_track *t, const char *prefix, const cJSON *o, long step) {
  for (const cJSON *it = o ? o->child : NULL; it && t->run; it = it->next) {
    char key[256];
    snprintf(key, sizeof key, "%s%s%s", prefix, *prefix ? "." : "", it->string ? it->string : "");
    if (cJSON_IsNumber(it)) track_metric(t, key, step, it->valuedouble);
    else if (cJSON_IsObject(it)) final_metrics(t, key, it, step);
  }
}

void track_end(app_track *t, lf_run_status status, const cJSON *summary, long step) {
  if (t->run) {
    final_metrics(t, "final", summary, step);
    if (t->run && lf_run_end(t->run, status)) warn(t, "cannot end the run");
    t->run = NULL;
  }
  lf_registry_close(t->reg);
  t->reg = NULL;
}
