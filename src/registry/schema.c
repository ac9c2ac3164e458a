/*
 * schema.c -- the registry schema and its migrations (docs/registry.md, "Schema").
 *
 * Tables follow MLflow's tracking store (experiments, runs, params, tags, metrics with
 * key/step/timestamp/value) plus artifacts and lineage. schema_version holds one row
 * per applied migration; on open the migrations newer than the stored version are
 * applied in order inside one transaction. A database whose version is newer than
 * LF_REGISTRY_SCHEMA_VERSION is refused before anything is written.
 * To add a migration: append a step with version N+1 below and bump
 * LF_REGISTRY_SCHEMA_VERSION in registry.h; never edit a released step.
 * Dialect tokens: {ID} = auto-increment primary key, {REAL} = double column type.
 * Thread contract: called from lf_registry_open only.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef struct {
  int version;
  const char *const *sql; /* NULL-terminated */
} migration;

static const char *const v1_sql[] = {
    "CREATE TABLE schema_version (version INTEGER NOT NULL, applied_at BIGINT NOT NULL, "
    "latflow_version TEXT)",
    "CREATE TABLE experiments (experiment_id {ID}, name TEXT NOT NULL UNIQUE, "
    "creation_time BIGINT NOT NULL)",
    "CREATE TABLE runs (run_uuid TEXT PRIMARY KEY, experiment_id BIGINT NOT NULL REFERENCES "
    "experiments(experiment_id), name TEXT, command TEXT NOT NULL, status TEXT NOT NULL CHECK "
    "(status IN ('RUNNING','FINISHED','FAILED','KILLED')), start_time BIGINT NOT NULL, "
    "end_time BIGINT, heartbeat BIGINT, host TEXT, pid BIGINT, latflow_version TEXT, "
    "git_commit TEXT)",
    "CREATE INDEX runs_start_time ON runs (start_time)",
    "CREATE TABLE params (run_uuid TEXT NOT NULL REFERENCES runs(run_uuid), key TEXT NOT NULL, "
    "value TEXT, PRIMARY KEY (run_uuid, key))",
    "CREATE TABLE tags (run_uuid TEXT NOT NULL REFERENCES runs(run_uuid), key TEXT NOT NULL, "
    "value TEXT, PRIMARY KEY (run_uuid, key))",
    "CREATE TABLE metrics (run_uuid TEXT NOT NULL REFERENCES runs(run_uuid), key TEXT NOT NULL, "
    "step BIGINT NOT NULL, timestamp BIGINT NOT NULL, value {REAL})",
    "CREATE INDEX metrics_run_key_step ON metrics (run_uuid, key, step)",
    "CREATE TABLE artifacts (artifact_id {ID}, path TEXT NOT NULL, kind TEXT NOT NULL CHECK "
    "(kind IN ('model','config','ensemble','report')), size BIGINT NOT NULL, sha256 TEXT NOT "
    "NULL, creation_time BIGINT NOT NULL)",
    "CREATE INDEX artifacts_sha256 ON artifacts (sha256)",
    "CREATE TABLE lineage (run_uuid TEXT NOT NULL REFERENCES runs(run_uuid), artifact_id BIGINT "
    "NOT NULL REFERENCES artifacts(artifact_id), direction TEXT NOT NULL CHECK (direction IN "
    "('produced','consumed')), PRIMARY KEY (run_uuid, artifact_id, direction))",
    NULL};

static const migration migrations[] = {{1, v1_sql}};
#define NMIGRATIONS (sizeof migrations / sizeof migrations[0])

static char *expand(const lf_registry *reg, const char *sql) {
  lf_sbuf b = {0};
  const char *p = sql;
  while (*p) {
    if (!strncmp(p, "{ID}", 4)) {
      lf_sb_put(&b, reg->be->autoid);
      p += 4;
    } else if (!strncmp(p, "{REAL}", 6)) {
      lf_sb_put(&b, reg->be->real);
      p += 6;
    } else {
      lf_sb_putn(&b, p, 1);
      p++;
    }
  }
  if (b.oom) {
    lf_sb_free(&b);
    return NULL;
  }
  return b.p;
}

static int read_version(lf_registry *reg, int *version) {
  db_rows r;
  dbv name = dbv_text("schema_version");
  LF_CHECK(lf_reg_exec(reg, reg->be->table_exists, 1, &name, &r));
  long exists = db_cell(&r, 0, 0) ? strtol(db_cell(&r, 0, 0), NULL, 10) : 0;
  db_rows_free(&r);
  *version = 0;
  if (!exists) return LF_OK;
  LF_CHECK(lf_reg_exec(reg, "SELECT max(version) FROM schema_version", 0, NULL, &r));
  *version = db_cell(&r, 0, 0) ? atoi(db_cell(&r, 0, 0)) : 0;
  db_rows_free(&r);
  return LF_OK;
}

static int refuse_newer(lf_registry *reg, int version) {
  return lf_reg_error(reg, LF_EUNSUP,
                      "%s has registry schema version %d, newer than this latflow knows (%d); "
                      "nothing was changed. Use a newer latflow (this is %s) or another registry",
                      reg->location, version, LF_REGISTRY_SCHEMA_VERSION, lf_version());
}

int lf_reg_schema_apply(lf_registry *reg) {
  int version;
  LF_CHECK(read_version(reg, &version));
  if (version > LF_REGISTRY_SCHEMA_VERSION) return refuse_newer(reg, version);
  if (version == LF_REGISTRY_SCHEMA_VERSION) {
    reg->schema_version = version;
    return LF_OK;
  }
  LF_CHECK(lf_reg_begin(reg));
  int rc = LF_OK;
  if (reg->be->schema_lock) rc = lf_reg_exec(reg, reg->be->schema_lock, 0, NULL, NULL);
  if (rc == LF_OK) rc = read_version(reg, &version); /* another process may have migrated */
  if (rc == LF_OK && version > LF_REGISTRY_SCHEMA_VERSION) rc = refuse_newer(reg, version);
  for (size_t m = 0; rc == LF_OK && m < NMIGRATIONS; m++) {
    if (migrations[m].version <= version) continue;
    for (const char *const *s = migrations[m].sql; rc == LF_OK && *s; s++) {
      char *sql = expand(reg, *s);
      if (!sql) {
        rc = LF_ERROR(LF_ENOMEM, "out of memory creating the registry schema");
        break;
      }
      rc = lf_reg_exec(reg, sql, 0, NULL, NULL);
      lf_free(sql);
    }
    if (rc == LF_OK) {
      dbv v[3] = {dbv_int(migrations[m].version), dbv_int(lf_reg_now_ms()), dbv_text(lf_version())};
      rc = lf_reg_exec(reg,
                       "INSERT INTO schema_version (version, applied_at, latflow_version) "
                       "VALUES (?, ?, ?)",
                       3, v, NULL);
    }
    if (rc == LF_OK) version = migrations[m].version;
  }
  if (rc == LF_OK && !strcmp(reg->be->name, "sqlite")) {
    char pragma[64];
    snprintf(pragma, sizeof pragma, "PRAGMA application_id = %d", LF_REG_SQLITE_APP_ID);
    rc = lf_reg_exec(reg, pragma, 0, NULL, NULL);
  }
  if (rc != LF_OK) {
    lf_reg_rollback(reg);
    return lf_error_context(rc, "creating or migrating the registry schema failed and was rolled "
                                 "back, nothing was changed (if the database holds another "
                                 "program's tables, give latflow a database of its own)");
  }
  LF_CHECK(lf_reg_commit(reg));
  reg->schema_version = version;
  return LF_OK;
}
