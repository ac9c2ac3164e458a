/*
 * latflow/registry.h -- the run and model registry: which command ran when, with which
 * parameters, what it measured step by step, which files it produced or consumed.
 *
 * The tables follow MLflow's tracking store (experiments, runs, params, tags, metrics)
 * plus artifacts (path, kind, size, SHA-256) and lineage (run produced/consumed
 * artifact). Two backends share one schema:
 *   - SQLite (default): a file, WAL mode, busy timeout; several processes may log at once.
 *   - PostgreSQL (libpq): selected by a "postgresql://" or "postgres://" URL.
 * Where the registry lives: the argument of lf_registry_open, else $LATFLOW_REGISTRY,
 * else ~/.latflow/registry.db. docs/registry.md describes the schema and the rules.
 *
 *     lf_registry *reg; lf_run *run; int64_t aid;
 *     int rc = lf_registry_open(&reg, NULL);      // $LATFLOW_REGISTRY or ~/.latflow/registry.db
 *     if (rc) return cli_fail("hmc", rc);
 *     lf_run_start(reg, &run, "hmc", "beta2.0-L16", "u1-2d");
 *     lf_run_param(run, "beta", "2.0");
 *     for (step...) { lf_run_metric(run, "plaquette", step, P);  lf_run_heartbeat(run); }
 *     lf_run_artifact(run, "cfg_100.lime", LF_ARTIFACT_ENSEMBLE, &aid);   // produced
 *     lf_run_end(run, LF_RUN_FINISHED);     // flushes, frees `run`
 *     lf_registry_close(reg);
 *
 * Killed runs: commands call lf_run_end(run, LF_RUN_KILLED) on SIGTERM/SIGINT. A run
 * killed with SIGKILL stays RUNNING in the table; readers report it as stale (shown
 * KILLED) when its heartbeat is older than the stale threshold, or when it ran on this
 * host and its process no longer exists; lf_registry_gc marks such runs KILLED.
 *
 * Errors: every function returns LF_OK or a negative LF_E* code with a message
 * (lf_last_error()). Database URLs are never echoed with their password: messages show
 * them through lf_registry_redact_url ("postgresql://user:***@host/db").
 *
 * Thread contract: one lf_registry (and its runs) is used by one thread at a time; use
 * one registry handle per process (after fork, open a new one in the child). With MPI
 * only rank 0 opens the registry.
 */
#ifndef LATFLOW_REGISTRY_H
#define LATFLOW_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lf_registry lf_registry;
typedef struct lf_run lf_run;

/* Schema version this build writes; a registry with a newer version is refused. */
#define LF_REGISTRY_SCHEMA_VERSION 1
/* Default stale threshold for heartbeats (seconds): runs list / gc use it unless told. */
#define LF_REGISTRY_STALE_SECONDS 600.0

typedef enum {
  LF_RUN_RUNNING = 0,
  LF_RUN_FINISHED = 1,
  LF_RUN_FAILED = 2,
  LF_RUN_KILLED = 3
} lf_run_status;

/* Artifact kinds (stored as text: "model", "config", "ensemble", "report"). */
typedef enum {
  LF_ARTIFACT_MODEL = 0,
  LF_ARTIFACT_CONFIG = 1,
  LF_ARTIFACT_ENSEMBLE = 2,
  LF_ARTIFACT_REPORT = 3
} lf_artifact_kind;

const char *lf_run_status_name(lf_run_status s);       /* "RUNNING", ... */
int lf_run_status_parse(const char *name, lf_run_status *s); /* case-insensitive */
const char *lf_artifact_kind_name(lf_artifact_kind k);  /* "model", ... */
int lf_artifact_kind_parse(const char *name, lf_artifact_kind *k);

/* ---------------------------------------------------------------- open / close */
/* url_or_path: a file path, "sqlite:PATH", a "postgresql://" / "postgres://" URL, or NULL
 * ($LATFLOW_REGISTRY, else ~/.latflow/registry.db, whose directory is created). Creates
 * the schema if the database is new and applies pending migrations in order. Refuses,
 * without writing anything: a file that is not SQLite, a SQLite database of another
 * program, a registry with a newer schema version. On failure *reg is NULL. */
int lf_registry_open(lf_registry **reg, const char *url_or_path);
void lf_registry_close(lf_registry *reg); /* no-op on NULL; does not end open runs */
/* "sqlite" or "postgresql". */
const char *lf_registry_backend(const lf_registry *reg);
/* The location with any password replaced by "***" (safe to print). */
const char *lf_registry_location(const lf_registry *reg);
/* Schema version found in the database after open (== LF_REGISTRY_SCHEMA_VERSION). */
int lf_registry_schema_version(const lf_registry *reg);

/* Write `url` into out[cap] with the password (if any) replaced by "***"; also masks
 * "password=..." keywords. Always NUL-terminates (truncates if cap is too small). */
void lf_registry_redact_url(const char *url, char *out, size_t cap);

/* ---------------------------------------------------------------- writing a run */
/* Start a run: new uuid, status RUNNING, start time, host, pid, lf_version(), git
 * commit. `experiment` NULL or "" -> "Default" (created on first use). `name` may be
 * NULL. The run belongs to `reg` and must be ended before reg is closed. */
int lf_run_start(lf_registry *reg, lf_run **run, const char *command, const char *name,
                 const char *experiment);
/* The run's uuid (36 characters + NUL). */
const char *lf_run_id(const lf_run *run);
/* Parameters are set once per key (a second value for a key is an error, as in MLflow);
 * tags may be overwritten. Written immediately. */
int lf_run_param(lf_run *run, const char *key, const char *value);
int lf_run_param_double(lf_run *run, const char *key, double value);
int lf_run_tag(lf_run *run, const char *key, const char *value);
/* Buffered: flushed in one transaction when the buffer is full, on heartbeat, flush and
 * end. Non-finite values are stored as NULL (reported as NaN). */
int lf_run_metric(lf_run *run, const char *key, long step, double value);
int lf_run_flush(lf_run *run);
/* Flush metrics and record "still alive" (cheap; call every few seconds or steps). */
int lf_run_heartbeat(lf_run *run);
/* Register a file: size and SHA-256 are computed here (the file must exist). The run is
 * recorded as its producer (lineage "produced"). */
int lf_run_artifact(lf_run *run, const char *path, lf_artifact_kind kind, int64_t *artifact_id);
/* Add a lineage edge: direction "produced" or "consumed". */
int lf_run_lineage(lf_run *run, int64_t artifact_id, const char *direction);
/* Find (or register, as an artifact without a producer) the file at `path` with the
 * same sha256 and record that this run consumed it. */
int lf_run_consume(lf_run *run, const char *path, lf_artifact_kind kind, int64_t *artifact_id);
/* Flush, set status and end time, free `run` (also on failure). */
int lf_run_end(lf_run *run, lf_run_status status);

/* ---------------------------------------------------------------- reading */
typedef struct {
  char id[37];
  char *name, *command, *experiment, *host, *version, *git;
  lf_run_status status;  /* as stored */
  int stale;             /* RUNNING but heartbeat old or process gone: shown as KILLED */
  long pid;
  double start_time, end_time, heartbeat; /* seconds since the epoch; end 0 if none */
} lf_run_info;

typedef struct {
  char *key, *value;
} lf_kv;

typedef struct {
  char *key;
  long step;
  double time;  /* seconds since the epoch */
  double value; /* NaN if stored as NULL */
} lf_metric;

typedef struct {
  int64_t id;
  char *path;
  char kind[16];
  int64_t size;
  char sha256[65];
  char direction[16]; /* "produced" / "consumed" for this run ("" in listings) */
  char producer[37];  /* run that produced it ("" if none) */
  double created;
} lf_artifact;

typedef struct {
  lf_run_info info;
  lf_kv *params;
  size_t nparams;
  lf_kv *tags;
  size_t ntags;
  lf_metric *metrics; /* ordered by key, then step */
  size_t nmetrics;
  lf_artifact *artifacts; /* with lineage direction */
  size_t nartifacts;
} lf_run_record;

typedef struct {
  const char *status;  /* "RUNNING", "FINISHED", "FAILED", "KILLED" or NULL; KILLED
                          includes stale runs, RUNNING excludes them */
  const char *command; /* exact match or NULL */
  const char *experiment; /* exact match or NULL */
  long limit;          /* <= 0: no limit */
  double stale_after;  /* seconds; <= 0: LF_REGISTRY_STALE_SECONDS */
} lf_run_filter;

/* Runs, newest first. Free with lf_run_info_free. */
int lf_registry_list(lf_registry *reg, const lf_run_filter *filter, lf_run_info **runs,
                     size_t *n);
void lf_run_info_free(lf_run_info *runs, size_t n);
/* Full uuid of the run whose id starts with `prefix` (error if none or ambiguous). */
int lf_registry_resolve(lf_registry *reg, const char *prefix, char uuid[37]);
/* Everything about one run (id or unique prefix). Free with lf_run_record_free. */
int lf_registry_load(lf_registry *reg, const char *id, double stale_after, lf_run_record *rec);
void lf_run_record_free(lf_run_record *rec);
/* Artifacts of one kind (NULL = all) with their producer, newest first. */
int lf_registry_artifacts(lf_registry *reg, const char *kind, lf_artifact **arts, size_t *n);
void lf_artifact_free(lf_artifact *arts, size_t n);
/* Mark RUNNING runs that are stale (see above) as KILLED, end time = last heartbeat.
 * *marked receives the number of runs changed (may be NULL). */
int lf_registry_gc(lf_registry *reg, double stale_after, long *marked);

/* Last value of metric `key` in a record (NaN if absent); param value or NULL. */
double lf_run_record_final(const lf_run_record *rec, const char *key);
const char *lf_run_record_param(const lf_run_record *rec, const char *key);

/* ---------------------------------------------------------------- report */
typedef struct {
  const char *histogram_metric; /* metric whose values are histogrammed (NULL: none) */
  int histogram_bins;           /* <= 0: 40 */
  const char *title;            /* NULL: run name */
} lf_report_opts;
/* Self-contained HTML (inline SVG, no network) of one run, written atomically to path:
 * every metric against step, optional histogram, autocorrelation of plaquette/Q-like
 * metrics, tables of params, tags, final values and artifacts. All text HTML-escaped. */
int lf_registry_report(lf_registry *reg, const char *id, const char *path,
                       const lf_report_opts *opts);

/* Comparison of several runs (e.g. two architectures trained with the same budget): one
 * self-contained HTML file, written atomically, with every metric key that at least two of
 * the runs have drawn for all runs in one plot against step, one against wall-clock
 * seconds since each run's start and, for runs that log a "cpu_seconds" metric, one
 * against CPU seconds (the fair cost axis on a shared machine), a legend, and a table of each run's command, parameters
 * and final values. smooth > 1 draws the trailing mean over `smooth` points (batch
 * estimates such as ess_batch are noisy). LF_EINVAL for fewer than 2 or more than
 * LF_COMPARE_MAX runs. */
#define LF_COMPARE_MAX 8
typedef struct {
  int smooth;        /* trailing-mean window in points (<= 1: raw values) */
  const char *title; /* NULL: "comparison of N runs" */
} lf_compare_opts;
int lf_registry_compare(lf_registry *reg, const char *const *ids, int nids, const char *path,
                        const lf_compare_opts *opts);

/* ---------------------------------------------------------------- utilities */
/* SHA-256 (FIPS 180-4) of a buffer / a file, as 64 lowercase hex digits + NUL. */
void lf_sha256_hex(const void *data, size_t len, char hex[65]);
int lf_sha256_file(const char *path, char hex[65], int64_t *size);

#ifdef __cplusplus
}
#endif
#endif
