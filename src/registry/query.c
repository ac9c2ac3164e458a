/*
 * query.c -- reading the registry: run listings with stale detection, id prefixes,
 * full run records, artifact listings, and gc of killed runs (docs/registry.md).
 *
 * Stale rule: a RUNNING run is stale (shown KILLED) when its heartbeat is older than
 * `stale_after` seconds, or when it ran on this host and its pid no longer exists
 * (kill(pid, 0) == ESRCH). The second rule catches kill -9 at once on one machine;
 * the first covers runs on other hosts (cluster nodes) after the threshold.
 * Thread contract: one thread per registry handle.
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "internal.h"

#define RUN_COLS                                                                         \
  "r.run_uuid, r.name, r.command, e.name, r.status, r.start_time, r.end_time, "         \
  "r.heartbeat, r.host, r.pid, r.latflow_version, r.git_commit "                        \
  "FROM runs r JOIN experiments e ON e.experiment_id = r.experiment_id "

static double ms_to_s(const char *c) { return c ? (double)strtoll(c, NULL, 10) / 1000.0 : 0.0; }

static int is_stale(const lf_run_info *ri, double stale_after, double now, const char *host) {
  if (ri->status != LF_RUN_RUNNING) return 0;
  if (now - ri->heartbeat > stale_after) return 1;
  if (ri->pid > 0 && ri->host && !strcmp(ri->host, host)) {
    if (kill((pid_t)ri->pid, 0) != 0 && errno == ESRCH) return 1;
  }
  return 0;
}

static int fill_info(const db_rows *r, int i, lf_run_info *ri, double stale_after) {
  memset(ri, 0, sizeof *ri);
  snprintf(ri->id, sizeof ri->id, "%s", db_cell(r, i, 0) ? db_cell(r, i, 0) : "");
  ri->name = lf_reg_strdup(db_cell(r, i, 1));
  ri->command = lf_reg_strdup(db_cell(r, i, 2));
  ri->experiment = lf_reg_strdup(db_cell(r, i, 3));
  lf_run_status st = LF_RUN_FAILED;
  if (lf_run_status_parse(db_cell(r, i, 4), &st) != LF_OK) lf_error_clear();
  ri->status = st;
  ri->start_time = ms_to_s(db_cell(r, i, 5));
  ri->end_time = ms_to_s(db_cell(r, i, 6));
  ri->heartbeat = ms_to_s(db_cell(r, i, 7));
  ri->host = lf_reg_strdup(db_cell(r, i, 8));
  ri->pid = db_cell(r, i, 9) ? strtol(db_cell(r, i, 9), NULL, 10) : 0;
  ri->version = lf_reg_strdup(db_cell(r, i, 10));
  ri->git = lf_reg_strdup(db_cell(r, i, 11));
  if (!ri->name || !ri->command || !ri->experiment || !ri->host || !ri->version || !ri->git)
    return LF_ERROR(LF_ENOMEM, "out of memory reading runs");
  char host[256];
  lf_reg_hostname(host, sizeof host);
  ri->stale = is_stale(ri, stale_after, (double)lf_reg_now_ms() / 1000.0, host);
  return LF_OK;
}

static void info_clear(lf_run_info *ri) {
  lf_free(ri->name);
  lf_free(ri->command);
  lf_free(ri->experiment);
  lf_free(ri->host);
  lf_free(ri->version);
  lf_free(ri->git);
  memset(ri, 0, sizeof *ri);
}

void lf_run_info_free(lf_run_info *runs, size_t n) {
  if (!runs) return;
  for (size_t i = 0; i < n; i++) info_clear(&runs[i]);
  lf_free(runs);
}

int lf_registry_list(lf_registry *reg, const lf_run_filter *f, lf_run_info **runs, size_t *n) {
  if (!reg || !runs || !n) return LF_ERROR(LF_EINVAL, "lf_registry_list: NULL argument");
  *runs = NULL;
  *n = 0;
  lf_run_filter none = {0};
  if (!f) f = &none;
  double stale_after = f->stale_after > 0 ? f->stale_after : LF_REGISTRY_STALE_SECONDS;
  lf_run_status want = LF_RUN_RUNNING;
  if (f->status) LF_CHECK(lf_run_status_parse(f->status, &want));
  lf_sbuf sql = {0};
  dbv v[4];
  int nv = 0;
  lf_sb_put(&sql, "SELECT " RUN_COLS "WHERE 1 = 1");
  if (f->status) {
    if (want == LF_RUN_KILLED) lf_sb_put(&sql, " AND r.status IN ('KILLED', 'RUNNING')");
    else {
      lf_sb_put(&sql, " AND r.status = ?");
      v[nv++] = dbv_text(lf_run_status_name(want));
    }
  }
  if (f->command) {
    lf_sb_put(&sql, " AND r.command = ?");
    v[nv++] = dbv_text(f->command);
  }
  if (f->experiment) {
    lf_sb_put(&sql, " AND e.name = ?");
    v[nv++] = dbv_text(f->experiment);
  }
  lf_sb_put(&sql, " ORDER BY r.start_time DESC, r.run_uuid");
  int sql_limit = f->limit > 0 && (!f->status || want == LF_RUN_FINISHED || want == LF_RUN_FAILED);
  if (sql_limit) {
    lf_sb_put(&sql, " LIMIT ?");
    v[nv++] = dbv_int(f->limit);
  }
  if (sql.oom) {
    lf_sb_free(&sql);
    return LF_ERROR(LF_ENOMEM, "out of memory building a query");
  }
  db_rows r;
  int rc = lf_reg_exec(reg, sql.p, nv, v, &r);
  lf_sb_free(&sql);
  LF_CHECK(rc);
  lf_run_info *out = r.nrows ? lf_alloc((size_t)r.nrows * sizeof *out) : NULL;
  if (r.nrows && !out) {
    db_rows_free(&r);
    return LF_ENOMEM;
  }
  size_t k = 0;
  for (int i = 0; i < r.nrows; i++) {
    if (f->limit > 0 && (long)k >= f->limit) break;
    rc = fill_info(&r, i, &out[k], stale_after);
    if (rc != LF_OK) {
      k++;
      break;
    }
    int shown_killed = out[k].status == LF_RUN_KILLED || out[k].stale;
    int keep = !f->status || (want == LF_RUN_KILLED && shown_killed) ||
               (want == LF_RUN_RUNNING && !out[k].stale) ||
               (want != LF_RUN_KILLED && want != LF_RUN_RUNNING);
    if (keep) k++;
    else info_clear(&out[k]);
  }
  db_rows_free(&r);
  if (rc != LF_OK) {
    lf_run_info_free(out, k);
    return rc;
  }
  *runs = out;
  *n = k;
  return LF_OK;
}

int lf_registry_resolve(lf_registry *reg, const char *prefix, char uuid[37]) {
  if (!reg || !prefix) return LF_ERROR(LF_EINVAL, "lf_registry_resolve: NULL argument");
  size_t len = strlen(prefix);
  if (len == 0 || len > 36)
    return LF_ERROR(LF_EINVAL, "'%s' is not a run id; give the run's uuid or its first characters "
                    "(see latflow runs list)", prefix);
  for (size_t i = 0; i < len; i++)
    if (!isxdigit((unsigned char)prefix[i]) && prefix[i] != '-')
      return LF_ERROR(LF_EINVAL, "'%s' is not a run id (hex digits and '-'); see latflow runs list",
                      prefix);
  char low[37];
  for (size_t i = 0; i <= len; i++) low[i] = (char)tolower((unsigned char)prefix[i]);
  db_rows r;
  dbv v[2] = {dbv_int((int64_t)len), dbv_text(low)};
  LF_CHECK(lf_reg_exec(reg, "SELECT run_uuid FROM runs WHERE substr(run_uuid, 1, ?) = ? LIMIT 2",
                       2, v, &r));
  int nr = r.nrows;
  if (nr == 1) snprintf(uuid, 37, "%s", db_cell(&r, 0, 0));
  db_rows_free(&r);
  if (nr == 0)
    return LF_ERROR(LF_EINVAL, "no run with id '%s' in registry %s; see latflow runs list", prefix,
                    reg->location);
  if (nr > 1)
    return LF_ERROR(LF_EINVAL, "run id prefix '%s' is ambiguous; give more characters", prefix);
  return LF_OK;
}

static int load_kv(lf_registry *reg, const char *sql, const char *id, lf_kv **kv, size_t *n) {
  db_rows r;
  dbv v = dbv_text(id);
  LF_CHECK(lf_reg_exec(reg, sql, 1, &v, &r));
  *n = 0;
  *kv = r.nrows ? lf_alloc((size_t)r.nrows * sizeof **kv) : NULL;
  if (r.nrows && !*kv) {
    db_rows_free(&r);
    return LF_ENOMEM;
  }
  int rc = LF_OK;
  for (int i = 0; i < r.nrows; i++) {
    (*kv)[i].key = lf_reg_strdup(db_cell(&r, i, 0));
    (*kv)[i].value = lf_reg_strdup(db_cell(&r, i, 1));
    (*n)++;
    if (!(*kv)[i].key || !(*kv)[i].value) {
      rc = LF_ERROR(LF_ENOMEM, "out of memory reading parameters");
      break;
    }
  }
  db_rows_free(&r);
  return rc;
}

static int fill_artifact(const db_rows *r, int i, lf_artifact *a) {
  memset(a, 0, sizeof *a);
  a->id = db_cell(r, i, 0) ? strtoll(db_cell(r, i, 0), NULL, 10) : -1;
  a->path = lf_reg_strdup(db_cell(r, i, 1));
  if (!a->path) return LF_ERROR(LF_ENOMEM, "out of memory reading artifacts");
  snprintf(a->kind, sizeof a->kind, "%s", db_cell(r, i, 2) ? db_cell(r, i, 2) : "");
  a->size = db_cell(r, i, 3) ? strtoll(db_cell(r, i, 3), NULL, 10) : 0;
  snprintf(a->sha256, sizeof a->sha256, "%s", db_cell(r, i, 4) ? db_cell(r, i, 4) : "");
  a->created = ms_to_s(db_cell(r, i, 5));
  snprintf(a->producer, sizeof a->producer, "%s", db_cell(r, i, 6) ? db_cell(r, i, 6) : "");
  snprintf(a->direction, sizeof a->direction, "%s", db_cell(r, i, 7) ? db_cell(r, i, 7) : "");
  return LF_OK;
}

#define ART_COLS                                                                          \
  "a.artifact_id, a.path, a.kind, a.size, a.sha256, a.creation_time, (SELECT p.run_uuid " \
  "FROM lineage p WHERE p.artifact_id = a.artifact_id AND p.direction = 'produced' "     \
  "ORDER BY p.run_uuid LIMIT 1)"

int lf_registry_load(lf_registry *reg, const char *id, double stale_after, lf_run_record *rec) {
  if (!reg || !id || !rec) return LF_ERROR(LF_EINVAL, "lf_registry_load: NULL argument");
  memset(rec, 0, sizeof *rec);
  char uuid[37];
  LF_CHECK(lf_registry_resolve(reg, id, uuid));
  if (stale_after <= 0) stale_after = LF_REGISTRY_STALE_SECONDS;
  db_rows r;
  dbv v = dbv_text(uuid);
  LF_CHECK(lf_reg_exec(reg, "SELECT " RUN_COLS "WHERE r.run_uuid = ?", 1, &v, &r));
  int rc = r.nrows == 1 ? fill_info(&r, 0, &rec->info, stale_after)
                        : LF_ERROR(LF_ESTATE, "run %s vanished while reading", uuid);
  db_rows_free(&r);
  if (rc == LF_OK)
    rc = load_kv(reg, "SELECT key, value FROM params WHERE run_uuid = ? ORDER BY key", uuid,
                 &rec->params, &rec->nparams);
  if (rc == LF_OK)
    rc = load_kv(reg, "SELECT key, value FROM tags WHERE run_uuid = ? ORDER BY key", uuid,
                 &rec->tags, &rec->ntags);
  if (rc == LF_OK)
    rc = lf_reg_exec(reg,
                     "SELECT key, step, timestamp, value FROM metrics WHERE run_uuid = ? "
                     "ORDER BY key, step",
                     1, &v, &r);
  if (rc == LF_OK) {
    rec->metrics = r.nrows ? lf_alloc((size_t)r.nrows * sizeof *rec->metrics) : NULL;
    if (r.nrows && !rec->metrics) rc = LF_ENOMEM;
    for (int i = 0; rc == LF_OK && i < r.nrows; i++) {
      lf_metric *m = &rec->metrics[i];
      /* Rows come ordered by key: consecutive rows share one key string. */
      const char *k = db_cell(&r, i, 0);
      if (i > 0 && k && !strcmp(k, rec->metrics[i - 1].key)) m->key = rec->metrics[i - 1].key;
      else m->key = lf_reg_strdup(k);
      if (!m->key) {
        rc = LF_ERROR(LF_ENOMEM, "out of memory reading metrics");
        break;
      }
      m->step = db_cell(&r, i, 1) ? strtol(db_cell(&r, i, 1), NULL, 10) : 0;
      m->time = ms_to_s(db_cell(&r, i, 2));
      m->value = db_cell(&r, i, 3) ? strtod(db_cell(&r, i, 3), NULL) : (double)NAN;
      rec->nmetrics++;
    }
    db_rows_free(&r);
  }
  if (rc == LF_OK)
    rc = lf_reg_exec(reg,
                     "SELECT " ART_COLS ", l.direction FROM lineage l JOIN artifacts a ON "
                     "a.artifact_id = l.artifact_id WHERE l.run_uuid = ? "
                     "ORDER BY a.artifact_id, l.direction",
                     1, &v, &r);
  if (rc == LF_OK) {
    rec->artifacts = r.nrows ? lf_alloc((size_t)r.nrows * sizeof *rec->artifacts) : NULL;
    if (r.nrows && !rec->artifacts) rc = LF_ENOMEM;
    for (int i = 0; rc == LF_OK && i < r.nrows; i++) {
      rc = fill_artifact(&r, i, &rec->artifacts[i]);
      rec->nartifacts++;
    }
    db_rows_free(&r);
  }
  if (rc != LF_OK) lf_run_record_free(rec);
  return rc;
}

void lf_run_record_free(lf_run_record *rec) {
  if (!rec) return;
  info_clear(&rec->info);
  for (size_t i = 0; i < rec->nparams; i++) lf_free(rec->params[i].key), lf_free(rec->params[i].value);
  for (size_t i = 0; i < rec->ntags; i++) lf_free(rec->tags[i].key), lf_free(rec->tags[i].value);
  for (size_t i = 0; i < rec->nmetrics; i++) /* keys are shared by consecutive rows */
    if (i == 0 || rec->metrics[i].key != rec->metrics[i - 1].key) lf_free(rec->metrics[i].key);
  lf_free(rec->params);
  lf_free(rec->tags);
  lf_free(rec->metrics);
  lf_artifact_free(rec->artifacts, rec->nartifacts);
  memset(rec, 0, sizeof *rec);
}

int lf_registry_artifacts(lf_registry *reg, const char *kind, lf_artifact **arts, size_t *n) {
  if (!reg || !arts || !n) return LF_ERROR(LF_EINVAL, "lf_registry_artifacts: NULL argument");
  *arts = NULL;
  *n = 0;
  db_rows r;
  dbv v = dbv_text(kind);
  if (kind)
    LF_CHECK(lf_reg_exec(reg, "SELECT " ART_COLS ", '' FROM artifacts a WHERE a.kind = ? "
                         "ORDER BY a.artifact_id DESC", 1, &v, &r));
  else
    LF_CHECK(lf_reg_exec(reg, "SELECT " ART_COLS ", '' FROM artifacts a ORDER BY a.artifact_id DESC",
                         0, NULL, &r));
  lf_artifact *out = r.nrows ? lf_alloc((size_t)r.nrows * sizeof *out) : NULL;
  if (r.nrows && !out) {
    db_rows_free(&r);
    return LF_ENOMEM;
  }
  int rc = LF_OK;
  size_t k = 0;
  for (int i = 0; rc == LF_OK && i < r.nrows; i++, k++) rc = fill_artifact(&r, i, &out[i]);
  db_rows_free(&r);
  if (rc != LF_OK) {
    lf_artifact_free(out, k);
    return rc;
  }
  *n = k;
  *arts = out;
  return LF_OK;
}

void lf_artifact_free(lf_artifact *arts, size_t n) {
  if (!arts) return;
  for (size_t i = 0; i < n; i++) lf_free(arts[i].path);
  lf_free(arts);
}

int lf_registry_gc(lf_registry *reg, double stale_after, long *marked) {
  if (marked) *marked = 0;
  lf_run_filter f = {"RUNNING", NULL, NULL, 0, stale_after};
  lf_run_info *runs;
  size_t n;
  /* RUNNING filter hides stale runs; list KILLED-or-stale instead. */
  f.status = "KILLED";
  LF_CHECK(lf_registry_list(reg, &f, &runs, &n));
  int rc = LF_OK;
  long count = 0;
  for (size_t i = 0; rc == LF_OK && i < n; i++) {
    if (!runs[i].stale) continue;
    dbv v[2] = {dbv_int((int64_t)llround(runs[i].heartbeat * 1000.0)), dbv_text(runs[i].id)};
    rc = lf_reg_exec(reg,
                     "UPDATE runs SET status = 'KILLED', end_time = ? "
                     "WHERE run_uuid = ? AND status = 'RUNNING'",
                     2, v, NULL);
    if (rc == LF_OK) count++;
  }
  lf_run_info_free(runs, n);
  if (marked) *marked = count;
  return rc;
}

double lf_run_record_final(const lf_run_record *rec, const char *key) {
  double v = (double)NAN;
  long best = -1;
  for (size_t i = 0; i < rec->nmetrics; i++)
    if (!strcmp(rec->metrics[i].key, key) && rec->metrics[i].step >= best) {
      best = rec->metrics[i].step;
      v = rec->metrics[i].value;
    }
  return v;
}

const char *lf_run_record_param(const lf_run_record *rec, const char *key) {
  for (size_t i = 0; i < rec->nparams; i++)
    if (!strcmp(rec->params[i].key, key)) return rec->params[i].value;
  return NULL;
}
