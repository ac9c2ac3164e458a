/*
 * run.c -- writing a run: start, params, tags, buffered metrics, heartbeat,
 * artifacts with SHA-256, lineage, end (docs/registry.md, "Writing runs").
 *
 * Metrics are buffered (LF_METRIC_BUFFER rows) and flushed in one transaction with the
 * heartbeat; heartbeats themselves are rate-limited to one write per
 * HEARTBEAT_MIN_MS so calling lf_run_heartbeat every step is cheap. Run ids are random
 * version-4 UUIDs (RFC 4122, section 4.4) from /dev/urandom.
 * Thread contract: a run is used by one thread at a time (the thread owning its registry).
 */
#define _XOPEN_SOURCE 700 /* realpath */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#ifndef LATFLOW_GIT
#define LATFLOW_GIT "unknown"
#endif

#define HEARTBEAT_MIN_MS 1000
#define METRIC_ROWS_PER_INSERT 64

static int make_uuid(char out[37]) {
  unsigned char b[16];
  FILE *f = fopen("/dev/urandom", "rb");
  size_t got = f ? fread(b, 1, sizeof b, f) : 0;
  if (f) fclose(f);
  if (got != sizeof b) {
    /* Fallback: Philox keyed by time, pid and a clock reading. */
    lf_rng r;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    lf_rng_init(&r, (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20),
                (uint64_t)getpid(), (uint64_t)clock());
    for (int i = 0; i < 16; i++) b[i] = (unsigned char)lf_rng_u32(&r);
  }
  b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
  b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
  snprintf(out, 37,
           "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
           b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
           b[15]);
  return LF_OK;
}

static int check_text(const char *what, const char *s, size_t max) {
  if (!s || !*s) return LF_ERROR(LF_EINVAL, "%s is empty; give a non-empty %s", what, what);
  if (strlen(s) > max)
    return LF_ERROR(LF_EINVAL, "%s is %zu characters long (at most %zu); shorten it", what,
                    strlen(s), max);
  return LF_OK;
}

int lf_run_start(lf_registry *reg, lf_run **out, const char *command, const char *name,
                 const char *experiment) {
  if (!reg || !out) return LF_ERROR(LF_EINVAL, "lf_run_start: NULL registry or result pointer");
  *out = NULL;
  LF_CHECK(check_text("command", command, 256));
  if (!experiment || !*experiment) experiment = "Default";
  LF_CHECK(check_text("experiment name", experiment, 1024));
  lf_run *run = lf_alloc(sizeof *run);
  if (!run) return LF_ENOMEM;
  run->reg = reg;
  make_uuid(run->id);
  char host[256];
  lf_reg_hostname(host, sizeof host);
  int64_t now = lf_reg_now_ms();
  run->last_beat_ms = now;
  int rc = lf_reg_begin(reg);
  if (rc != LF_OK) {
    lf_free(run);
    return rc;
  }
  dbv e[2] = {dbv_text(experiment), dbv_int(now)};
  rc = lf_reg_exec(reg,
                   "INSERT INTO experiments (name, creation_time) VALUES (?, ?) "
                   "ON CONFLICT (name) DO NOTHING",
                   2, e, NULL);
  db_rows r;
  memset(&r, 0, sizeof r);
  if (rc == LF_OK)
    rc = lf_reg_exec(reg, "SELECT experiment_id FROM experiments WHERE name = ?", 1, e, &r);
  int64_t eid = db_cell(&r, 0, 0) ? strtoll(db_cell(&r, 0, 0), NULL, 10) : -1;
  db_rows_free(&r);
  if (rc == LF_OK) {
    dbv v[11] = {dbv_text(run->id), dbv_int(eid),          dbv_text(name),
                 dbv_text(command), dbv_text("RUNNING"),   dbv_int(now),
                 dbv_int(now),      dbv_text(host),        dbv_int((int64_t)getpid()),
                 dbv_text(lf_version()), dbv_text(LATFLOW_GIT)};
    rc = lf_reg_exec(reg,
                     "INSERT INTO runs (run_uuid, experiment_id, name, command, status, "
                     "start_time, heartbeat, host, pid, latflow_version, git_commit) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     11, v, NULL);
  }
  if (rc == LF_OK) rc = lf_reg_commit(reg);
  else lf_reg_rollback(reg);
  if (rc != LF_OK) {
    lf_free(run);
    return lf_error_context(rc, "starting a run in the registry");
  }
  reg->nruns_open++;
  *out = run;
  return LF_OK;
}

const char *lf_run_id(const lf_run *run) { return run ? run->id : ""; }

int lf_run_param(lf_run *run, const char *key, const char *value) {
  if (!run) return LF_ERROR(LF_EINVAL, "lf_run_param: NULL run");
  LF_CHECK(check_text("parameter name", key, 250));
  if (!value) value = "";
  db_rows r;
  dbv k[2] = {dbv_text(run->id), dbv_text(key)};
  LF_CHECK(lf_reg_exec(run->reg, "SELECT value FROM params WHERE run_uuid = ? AND key = ?", 2, k,
                       &r));
  int have = r.nrows > 0;
  int same = have && db_cell(&r, 0, 0) && !strcmp(db_cell(&r, 0, 0), value);
  char old[128];
  snprintf(old, sizeof old, "%s", have && db_cell(&r, 0, 0) ? db_cell(&r, 0, 0) : "");
  db_rows_free(&r);
  if (same) return LF_OK;
  if (have)
    return LF_ERROR(LF_ESTATE,
                    "parameter '%s' of run %s is already '%s'; parameters are written once "
                    "(use lf_run_tag or a metric for values that change)",
                    key, run->id, old);
  dbv v[3] = {dbv_text(run->id), dbv_text(key), dbv_text(value)};
  return lf_reg_exec(run->reg, "INSERT INTO params (run_uuid, key, value) VALUES (?, ?, ?)", 3, v,
                     NULL);
}

int lf_run_param_double(lf_run *run, const char *key, double value) {
  char s[40];
  snprintf(s, sizeof s, "%.17g", value);
  return lf_run_param(run, key, s);
}

int lf_run_tag(lf_run *run, const char *key, const char *value) {
  if (!run) return LF_ERROR(LF_EINVAL, "lf_run_tag: NULL run");
  LF_CHECK(check_text("tag name", key, 250));
  dbv v[3] = {dbv_text(run->id), dbv_text(key), dbv_text(value ? value : "")};
  return lf_reg_exec(run->reg,
                     "INSERT INTO tags (run_uuid, key, value) VALUES (?, ?, ?) "
                     "ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value",
                     3, v, NULL);
}

/* Write the buffered metrics and the heartbeat in one transaction. */
static int flush(lf_run *run, int64_t now) {
  lf_registry *reg = run->reg;
  LF_CHECK(lf_reg_begin(reg));
  int rc = LF_OK;
  /* Multi-row INSERTs of up to METRIC_ROWS_PER_INSERT rows: one round trip each on
   * PostgreSQL; on SQLite full chunks reuse one cached statement. */
  dbv v[5 * METRIC_ROWS_PER_INSERT];
  for (int i0 = 0; rc == LF_OK && i0 < run->nbuf; i0 += METRIC_ROWS_PER_INSERT) {
    int k = run->nbuf - i0 < METRIC_ROWS_PER_INSERT ? run->nbuf - i0 : METRIC_ROWS_PER_INSERT;
    lf_sbuf sql = {0};
    lf_sb_put(&sql, "INSERT INTO metrics (run_uuid, key, step, timestamp, value) VALUES ");
    for (int j = 0; j < k; j++) {
      const metric_buf *m = &run->buf[i0 + j];
      lf_sb_put(&sql, j ? ", (?, ?, ?, ?, ?)" : "(?, ?, ?, ?, ?)");
      v[5 * j] = dbv_text(run->id);
      v[5 * j + 1] = dbv_text(m->key);
      v[5 * j + 2] = dbv_int((int64_t)m->step);
      v[5 * j + 3] = dbv_int(m->t_ms);
      v[5 * j + 4] = isfinite(m->value) ? dbv_real(m->value) : dbv_text(NULL);
    }
    rc = sql.oom ? LF_ERROR(LF_ENOMEM, "out of memory writing metrics")
                 : lf_reg_exec(reg, sql.p, 5 * k, v, NULL);
    lf_sb_free(&sql);
  }
  if (rc == LF_OK) {
    dbv hb[2] = {dbv_int(now), dbv_text(run->id)};
    rc = lf_reg_exec(reg, "UPDATE runs SET heartbeat = ? WHERE run_uuid = ?", 2, hb, NULL);
  }
  if (rc == LF_OK) rc = lf_reg_commit(reg);
  else lf_reg_rollback(reg);
  if (rc != LF_OK) /* keep the buffer: a later flush retries */
    return lf_error_context(rc, "writing %d metrics of run %s", run->nbuf, run->id);
  run->nbuf = 0;
  run->last_beat_ms = now;
  return LF_OK;
}

int lf_run_metric(lf_run *run, const char *key, long step, double value) {
  if (!run) return LF_ERROR(LF_EINVAL, "lf_run_metric: NULL run");
  LF_CHECK(check_text("metric name", key, sizeof run->buf[0].key - 1));
  if (run->nbuf == LF_METRIC_BUFFER) LF_CHECK(flush(run, lf_reg_now_ms()));
  metric_buf *m = &run->buf[run->nbuf++];
  snprintf(m->key, sizeof m->key, "%s", key);
  m->step = step;
  m->t_ms = lf_reg_now_ms();
  m->value = value;
  return LF_OK;
}

int lf_run_flush(lf_run *run) {
  if (!run) return LF_ERROR(LF_EINVAL, "lf_run_flush: NULL run");
  return flush(run, lf_reg_now_ms());
}

int lf_run_heartbeat(lf_run *run) {
  if (!run) return LF_ERROR(LF_EINVAL, "lf_run_heartbeat: NULL run");
  int64_t now = lf_reg_now_ms();
  if (now - run->last_beat_ms < HEARTBEAT_MIN_MS) return LF_OK;
  return flush(run, now);
}

static int insert_artifact(lf_run *run, const char *path, lf_artifact_kind kind, int64_t *id,
                           char sha[65]) {
  int64_t size = 0;
  LF_CHECK(lf_sha256_file(path, sha, &size));
  char abs[PATH_MAX];
  const char *stored = realpath(path, abs) ? abs : path;
  db_rows r;
  dbv v[5] = {dbv_text(stored), dbv_text(lf_artifact_kind_name(kind)), dbv_int(size),
              dbv_text(sha), dbv_int(lf_reg_now_ms())};
  LF_CHECK(lf_reg_exec(run->reg,
                       "INSERT INTO artifacts (path, kind, size, sha256, creation_time) "
                       "VALUES (?, ?, ?, ?, ?) RETURNING artifact_id",
                       5, v, &r));
  *id = db_cell(&r, 0, 0) ? strtoll(db_cell(&r, 0, 0), NULL, 10) : -1;
  db_rows_free(&r);
  return LF_OK;
}

int lf_run_lineage(lf_run *run, int64_t artifact_id, const char *direction) {
  if (!run) return LF_ERROR(LF_EINVAL, "lf_run_lineage: NULL run");
  if (!direction || (strcmp(direction, "produced") && strcmp(direction, "consumed")))
    return LF_ERROR(LF_EINVAL, "lineage direction '%s' is not 'produced' or 'consumed'",
                    direction ? direction : "(null)");
  db_rows r;
  dbv a = dbv_int(artifact_id);
  LF_CHECK(lf_reg_exec(run->reg, "SELECT count(*) FROM artifacts WHERE artifact_id = ?", 1, &a, &r));
  long n = db_cell(&r, 0, 0) ? strtol(db_cell(&r, 0, 0), NULL, 10) : 0;
  db_rows_free(&r);
  if (n == 0)
    return LF_ERROR(LF_EINVAL, "no artifact with id %lld in the registry; register the file "
                    "with lf_run_artifact first", (long long)artifact_id);
  dbv v[3] = {dbv_text(run->id), dbv_int(artifact_id), dbv_text(direction)};
  return lf_reg_exec(run->reg,
                     "INSERT INTO lineage (run_uuid, artifact_id, direction) VALUES (?, ?, ?) "
                     "ON CONFLICT DO NOTHING",
                     3, v, NULL);
}

int lf_run_artifact(lf_run *run, const char *path, lf_artifact_kind kind, int64_t *artifact_id) {
  if (!run || !path) return LF_ERROR(LF_EINVAL, "lf_run_artifact: NULL run or path");
  if ((unsigned)kind > LF_ARTIFACT_REPORT)
    return LF_ERROR(LF_EINVAL, "artifact kind %d is not one of model/config/ensemble/report",
                    (int)kind);
  char sha[65];
  int64_t id = -1;
  LF_CHECK(lf_reg_begin(run->reg));
  int rc = insert_artifact(run, path, kind, &id, sha);
  if (rc == LF_OK) rc = lf_run_lineage(run, id, "produced");
  if (rc == LF_OK) rc = lf_reg_commit(run->reg);
  else lf_reg_rollback(run->reg);
  if (rc != LF_OK) return lf_error_context(rc, "registering artifact %s", path);
  if (artifact_id) *artifact_id = id;
  return LF_OK;
}

int lf_run_consume(lf_run *run, const char *path, lf_artifact_kind kind, int64_t *artifact_id) {
  if (!run || !path) return LF_ERROR(LF_EINVAL, "lf_run_consume: NULL run or path");
  char sha[65];
  int64_t size;
  LF_CHECK(lf_sha256_file(path, sha, &size));
  LF_CHECK(lf_reg_begin(run->reg));
  db_rows r;
  dbv s = dbv_text(sha);
  int64_t id = -1;
  int rc = lf_reg_exec(run->reg,
                       "SELECT artifact_id FROM artifacts WHERE sha256 = ? ORDER BY artifact_id "
                       "LIMIT 1",
                       1, &s, &r);
  if (rc == LF_OK && r.nrows > 0) id = strtoll(db_cell(&r, 0, 0), NULL, 10);
  db_rows_free(&r);
  if (rc == LF_OK && id < 0) rc = insert_artifact(run, path, kind, &id, sha);
  if (rc == LF_OK) rc = lf_run_lineage(run, id, "consumed");
  if (rc == LF_OK) rc = lf_reg_commit(run->reg);
  else lf_reg_rollback(run->reg);
  if (rc != LF_OK) return lf_error_context(rc, "recording that run %s consumed %s", run->id, path);
  if (artifact_id) *artifact_id = id;
  return LF_OK;
}

int lf_run_end(lf_run *run, lf_run_status status) {
  if (!run) return LF_ERROR(LF_EINVAL, "lf_run_end: NULL run");
  lf_registry *reg = run->reg;
  int64_t now = lf_reg_now_ms();
  int rc = (unsigned)status <= LF_RUN_KILLED
               ? LF_OK
               : LF_ERROR(LF_EINVAL, "run status %d is not RUNNING/FINISHED/FAILED/KILLED",
                          (int)status);
  int frc = rc == LF_OK ? flush(run, now) : rc;
  /* Record the end even if the metrics could not be written. */
  if (rc == LF_OK) {
    dbv v[4] = {dbv_text(lf_run_status_name(status)), dbv_int(now), dbv_int(now),
                dbv_text(run->id)};
    rc = lf_reg_exec(reg,
                     "UPDATE runs SET status = ?, end_time = ?, heartbeat = ? WHERE run_uuid = ?",
                     4, v, NULL);
  }
  reg->nruns_open--;
  lf_free(run);
  return frc != LF_OK ? frc : rc;
}
