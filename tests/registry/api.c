/*
 * tests/registry/api.c -- the registry on SQLite: SHA-256 test vectors (FIPS 180-4),
 * API round trip (runs, params, tags, metrics, artifacts, lineage), SQL injection text
 * stored verbatim, uuid prefixes, a SIGKILLed run detected as stale/KILLED and gc'ed,
 * refusal of a corrupt file / foreign SQLite database / newer schema (bytes unchanged),
 * 4 concurrent writer processes losing nothing, URL redaction, HTML escaping in the
 * report, and the `latflow runs` / `latflow report` commands (JSON, CSV, exit codes).
 */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "latflow/core.h"
#include "latflow/registry.h"
#include "lf_test.h"
#include "testutil.h"

static char dir[256];

static void path_in(char *out, size_t cap, const char *name) { snprintf(out, cap, "%s/%s", dir, name); }

static void test_sha256(void) {
  char hex[65];
  lf_sha256_hex("abc", 3, hex);
  LF_TEST_TRUE("sha256(\"abc\") = ba7816bf...", !strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
  lf_sha256_hex("", 0, hex);
  LF_TEST_TRUE("sha256(\"\") = e3b0c442...", !strcmp(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
  const char *m2 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  lf_sha256_hex(m2, strlen(m2), hex);
  LF_TEST_TRUE("sha256(448-bit message) = 248d6a61...", !strcmp(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"));
  char *mil = malloc(1000000);
  memset(mil, 'a', 1000000);
  char p[512];
  path_in(p, sizeof p, "million_a.bin");
  tu_write(p, mil, 1000000);
  free(mil);
  int64_t size = 0;
  int rc = lf_sha256_file(p, hex, &size);
  LF_TEST_TRUE("sha256 of a file of 10^6 'a' = cdc76e5c... (multi-block, chunked reads)",
               rc == LF_OK && size == 1000000 &&
                   !strcmp(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"));
  path_in(p, sizeof p, "does-not-exist");
  rc = lf_sha256_file(p, hex, &size);
  LF_TEST_TRUE("sha256 of a missing file fails with a message", rc == LF_EIO && strstr(lf_last_error(), "does-not-exist"));
}

static void test_redact(void) {
  struct {
    const char *in, *want;
  } c[] = {
      {"postgresql://alice:s3cr3t@db.example:5432/runs", "postgresql://alice:***@db.example:5432/runs"},
      {"postgres://bob:p%40ss@10.0.0.1/x?sslmode=require", "postgres://bob:***@10.0.0.1/x?sslmode=require"},
      {"postgresql://carol@host/db?password=hunter2&sslmode=disable", "postgresql://carol@host/db?password=***&sslmode=disable"},
      {"postgresql://host/db", "postgresql://host/db"},
      {"/home/u/.latflow/registry.db", "/home/u/.latflow/registry.db"},
  };
  for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
    char out[256];
    lf_registry_redact_url(c[i].in, out, sizeof out);
    char what[512];
    snprintf(what, sizeof what, "redact %s -> %s (got %s)", c[i].in, c[i].want, out);
    LF_TEST_TRUE(what, !strcmp(out, c[i].want));
  }
}

static void test_roundtrip(const char *db) {
  lf_registry *reg;
  int rc = lf_registry_open(&reg, db);
  LF_TEST_TRUE("open a new SQLite registry", rc == LF_OK);
  if (rc) {
    printf("     %s\n", lf_last_error());
    return;
  }
  LF_TEST_TRUE("backend is sqlite, schema version current",
               !strcmp(lf_registry_backend(reg), "sqlite") &&
                   lf_registry_schema_version(reg) == LF_REGISTRY_SCHEMA_VERSION);
  lf_run *run;
  const char *evil = "x'); DROP TABLE runs; --";
  rc = lf_run_start(reg, &run, "train", evil, "u1-2d \"quoted\"");
  LF_TEST_TRUE("start run", rc == LF_OK);
  if (rc) return;
  char id[37];
  snprintf(id, sizeof id, "%s", lf_run_id(run));
  LF_TEST_TRUE("run id is a version-4 uuid", strlen(id) == 36 && id[14] == '4' && id[8] == '-');
  LF_TEST_TRUE("param beta", lf_run_param(run, "beta", "2.385") == LF_OK);
  LF_TEST_TRUE("param lattice", lf_run_param(run, "lattice", "16x16") == LF_OK);
  LF_TEST_TRUE("param theory", lf_run_param(run, "theory", "U(1)") == LF_OK);
  LF_TEST_TRUE("param_double keeps 17 digits", lf_run_param_double(run, "lr", 0.1 + 0.2) == LF_OK);
  LF_TEST_TRUE("same param value again is accepted", lf_run_param(run, "beta", "2.385") == LF_OK);
  rc = lf_run_param(run, "beta", "3.0");
  LF_TEST_TRUE("changing a param is refused with a message naming it", rc == LF_ESTATE && strstr(lf_last_error(), "beta"));
  LF_TEST_TRUE("tag (injection text)", lf_run_tag(run, "note", "'; DELETE FROM params; --") == LF_OK);
  LF_TEST_TRUE("tag overwrite", lf_run_tag(run, "stage", "warmup") == LF_OK && lf_run_tag(run, "stage", "production") == LF_OK);
  const int nsteps = 1500; /* > LF_METRIC_BUFFER: exercises a flush inside lf_run_metric */
  int mrc = LF_OK;
  for (int s = 0; s < nsteps && mrc == LF_OK; s++) {
    mrc = lf_run_metric(run, "loss", s, -12.25 + 1.0 / (s + 1.37));
    if (mrc == LF_OK) mrc = lf_run_metric(run, "ess", s, 0.41 + 1e-4 * s);
    if (mrc == LF_OK) mrc = lf_run_heartbeat(run);
  }
  LF_TEST_TRUE("log 2 x 1500 metrics", mrc == LF_OK);
  LF_TEST_TRUE("non-finite metric accepted", lf_run_metric(run, "nan_metric", 0, (double)NAN) == LF_OK);
  char model[512], cfg[512];
  path_in(model, sizeof model, "model.safetensors");
  path_in(cfg, sizeof cfg, "input.ini");
  tu_write(model, "abc", 3);
  tu_write(cfg, "beta = 2.385\n", 13);
  int64_t aid = -1, cid = -1;
  rc = lf_run_artifact(run, model, LF_ARTIFACT_MODEL, &aid);
  LF_TEST_TRUE("register model artifact", rc == LF_OK && aid > 0);
  rc = lf_run_consume(run, cfg, LF_ARTIFACT_CONFIG, &cid);
  LF_TEST_TRUE("register consumed config", rc == LF_OK && cid > 0 && cid != aid);
  LF_TEST_TRUE("lineage with a bad direction is refused", lf_run_lineage(run, aid, "stole") == LF_EINVAL);
  LF_TEST_TRUE("lineage to a missing artifact is refused", lf_run_lineage(run, 99999, "consumed") == LF_EINVAL);
  char missing[512];
  path_in(missing, sizeof missing, "no-such-file");
  LF_TEST_TRUE("artifact that does not exist is refused", lf_run_artifact(run, missing, LF_ARTIFACT_MODEL, NULL) == LF_EIO);
  LF_TEST_TRUE("end run FINISHED", lf_run_end(run, LF_RUN_FINISHED) == LF_OK);

  /* A second run consumes the model: lineage links the two. */
  lf_run *run2;
  rc = lf_run_start(reg, &run2, "sample", "sampler", NULL);
  int64_t aid2 = -1;
  if (rc == LF_OK) rc = lf_run_consume(run2, model, LF_ARTIFACT_MODEL, &aid2);
  LF_TEST_TRUE("consuming the same file finds the registered artifact", rc == LF_OK && aid2 == aid);
  char id2[37];
  snprintf(id2, sizeof id2, "%s", rc == LF_OK ? lf_run_id(run2) : "");
  if (rc == LF_OK) lf_run_end(run2, LF_RUN_FAILED);

  lf_run_record rec;
  char prefix[9];
  snprintf(prefix, sizeof prefix, "%.8s", id);
  rc = lf_registry_load(reg, prefix, 0, &rec);
  LF_TEST_TRUE("load run by 8-character prefix", rc == LF_OK);
  if (rc == LF_OK) {
    LF_TEST_TRUE("full id, command, status FINISHED", !strcmp(rec.info.id, id) && !strcmp(rec.info.command, "train") &&
                 rec.info.status == LF_RUN_FINISHED && !rec.info.stale);
    LF_TEST_TRUE("name with SQL injection stored verbatim", !strcmp(rec.info.name, evil));
    LF_TEST_TRUE("experiment with quotes stored verbatim", !strcmp(rec.info.experiment, "u1-2d \"quoted\""));
    LF_TEST_TRUE("host, version and git recorded", *rec.info.host && strstr(rec.info.version, "0.") && *rec.info.git);
    LF_TEST_TRUE("start <= end", rec.info.start_time > 1e9 && rec.info.end_time >= rec.info.start_time);
    LF_TEST_TRUE("4 params", rec.nparams == 4);
    const char *lr = lf_run_record_param(&rec, "lr");
    LF_TEST_TRUE("param_double round-trips exactly", lr && strtod(lr, NULL) == 0.1 + 0.2);
    LF_TEST_TRUE("param beta unchanged", lf_run_record_param(&rec, "beta") && !strcmp(lf_run_record_param(&rec, "beta"), "2.385"));
    int tag_ok = rec.ntags == 2 && !strcmp(rec.tags[0].key, "note") &&
                 !strcmp(rec.tags[0].value, "'; DELETE FROM params; --") && !strcmp(rec.tags[1].value, "production");
    LF_TEST_TRUE("tags: injection text verbatim, overwrite kept the last value", tag_ok);
    LF_TEST_ABS("metric rows", (double)rec.nmetrics, 2.0 * nsteps + 1, 0);
    int exact = 1;
    for (size_t i = 0; i < rec.nmetrics; i++) {
      const lf_metric *m = &rec.metrics[i];
      if (!strcmp(m->key, "loss")) exact &= m->value == -12.25 + 1.0 / ((double)m->step + 1.37);
      else if (!strcmp(m->key, "ess")) exact &= m->value == 0.41 + 1e-4 * (double)m->step;
      else exact &= isnan(m->value);
    }
    LF_TEST_TRUE("every metric value round-trips bit-exactly (NaN stored as NULL)", exact);
    LF_TEST_REL("final ess", lf_run_record_final(&rec, "ess"), 0.41 + 1e-4 * (nsteps - 1), 0);
    int art_ok = rec.nartifacts == 2;
    for (size_t i = 0; art_ok && i < rec.nartifacts; i++) {
      const lf_artifact *a = &rec.artifacts[i];
      if (a->id == aid)
        art_ok = !strcmp(a->kind, "model") && a->size == 3 && !strcmp(a->direction, "produced") &&
                 !strcmp(a->sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") &&
                 !strcmp(a->producer, id) && a->path[0] == '/';
      else
        art_ok = a->id == cid && !strcmp(a->kind, "config") && !strcmp(a->direction, "consumed") && a->size == 13 &&
                 a->producer[0] == '\0';
    }
    LF_TEST_TRUE("artifacts: model produced (size 3, sha256(abc), absolute path), config consumed", art_ok);
    lf_run_record_free(&rec);
  }
  rc = lf_registry_load(reg, id2, 0, &rec);
  int l2 = rc == LF_OK && rec.info.status == LF_RUN_FAILED && rec.nartifacts == 1 &&
           rec.artifacts[0].id == aid && !strcmp(rec.artifacts[0].direction, "consumed") &&
           !strcmp(rec.artifacts[0].producer, id);
  LF_TEST_TRUE("second run: FAILED, consumed the model produced by the first", l2);
  if (rc == LF_OK) lf_run_record_free(&rec);

  lf_artifact *arts;
  size_t na;
  rc = lf_registry_artifacts(reg, "model", &arts, &na);
  LF_TEST_TRUE("artifact listing of kind model", rc == LF_OK && na == 1 && arts[0].id == aid && !strcmp(arts[0].producer, id));
  if (rc == LF_OK) lf_artifact_free(arts, na);

  lf_run_info *runs;
  size_t nr;
  lf_run_filter f = {NULL, "train", NULL, 0, 0};
  rc = lf_registry_list(reg, &f, &runs, &nr);
  LF_TEST_TRUE("list --command train finds one run", rc == LF_OK && nr == 1 && !strcmp(runs[0].id, id));
  if (rc == LF_OK) lf_run_info_free(runs, nr);
  lf_run_filter f2 = {"FAILED", NULL, NULL, 0, 0};
  rc = lf_registry_list(reg, &f2, &runs, &nr);
  LF_TEST_TRUE("list --status FAILED finds the sampler", rc == LF_OK && nr == 1 && !strcmp(runs[0].id, id2));
  if (rc == LF_OK) lf_run_info_free(runs, nr);

  char u[37];
  LF_TEST_TRUE("prefix with a quote is refused", lf_registry_resolve(reg, "ab'--", u) == LF_EINVAL);
  LF_TEST_TRUE("unknown prefix is refused", lf_registry_resolve(reg, id[0] == 'f' ? "0000" : "ffff0000", u) == LF_EINVAL);
  LF_TEST_TRUE("empty prefix is ambiguous/refused", lf_registry_resolve(reg, "", u) == LF_EINVAL);
  lf_registry_close(reg);

  /* The tables are intact: the injection text did nothing. */
  sqlite3 *db3;
  int nt = -1;
  if (sqlite3_open_v2(db, &db3, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db3, "SELECT count(*) FROM sqlite_master WHERE type='table' AND name IN "
                                "('runs','params','tags','metrics','artifacts','lineage','experiments','schema_version')",
                           -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
      nt = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
  }
  sqlite3_close(db3);
  LF_TEST_ABS("all 8 registry tables still exist", nt, 8, 0);
}

/* A run whose process is killed with SIGKILL while RUNNING. */
static void test_killed(const char *db) {
  int fds[2];
  if (pipe(fds) != 0) return;
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    lf_registry *reg;
    lf_run *run;
    if (lf_registry_open(&reg, db) || lf_run_start(reg, &run, "hmc", "doomed", NULL)) _exit(2);
    for (int i = 0; i < 10; i++) lf_run_metric(run, "plaquette", i, 0.5 + 0.01 * i);
    lf_run_flush(run);
    if (write(fds[1], lf_run_id(run), 36) != 36) _exit(3);
    close(fds[1]);
    for (;;) pause(); /* killed here, RUNNING */
  }
  close(fds[1]);
  char id[37] = {0};
  ssize_t got = read(fds[0], id, 36);
  close(fds[0]);
  kill(pid, SIGKILL);
  int st;
  waitpid(pid, &st, 0);
  LF_TEST_TRUE("child started a run and was killed by SIGKILL", got == 36 && WIFSIGNALED(st));

  lf_registry *reg;
  if (lf_registry_open(&reg, db)) return;
  lf_run_record rec;
  int rc = lf_registry_load(reg, id, 0, &rec);
  LF_TEST_TRUE("killed run: stored RUNNING, detected stale (process gone on this host)",
               rc == LF_OK && rec.info.status == LF_RUN_RUNNING && rec.info.stale && rec.nmetrics == 10);
  if (rc == LF_OK) lf_run_record_free(&rec);
  lf_run_info *runs;
  size_t n;
  lf_run_filter fk = {"KILLED", NULL, NULL, 0, 0}, fr = {"RUNNING", NULL, NULL, 0, 0};
  rc = lf_registry_list(reg, &fk, &runs, &n);
  LF_TEST_TRUE("list --status KILLED includes the stale run", rc == LF_OK && n == 1 && !strcmp(runs[0].id, id) && runs[0].stale);
  if (rc == LF_OK) lf_run_info_free(runs, n);
  rc = lf_registry_list(reg, &fr, &runs, &n);
  LF_TEST_TRUE("list --status RUNNING excludes it", rc == LF_OK && n == 0);
  if (rc == LF_OK) lf_run_info_free(runs, n);

  /* Heartbeat rule (other hosts): a live run with an old heartbeat is stale. */
  lf_run *live;
  rc = lf_run_start(reg, &live, "heatbath", "alive", NULL);
  nanosleep(&(struct timespec){0, 30000000L}, NULL);
  lf_run_filter fs = {"RUNNING", "heatbath", NULL, 0, 0.01}, fd = {"RUNNING", "heatbath", NULL, 0, 0};
  size_t n1 = 99, n2 = 99;
  if (rc == LF_OK && lf_registry_list(reg, &fs, &runs, &n1) == LF_OK) lf_run_info_free(runs, n1);
  if (rc == LF_OK && lf_registry_list(reg, &fd, &runs, &n2) == LF_OK) lf_run_info_free(runs, n2);
  LF_TEST_TRUE("live run: stale with --stale-after 0.01 s after 30 ms, RUNNING with the default", n1 == 0 && n2 == 1);

  /* The CLI shows it KILLED, gc marks it. */
  char cmd[1024];
  int status;
  snprintf(cmd, sizeof cmd, "'%s' runs list --registry '%s' --json --command hmc", tu_latflow_bin(), db);
  char *out = tu_run(cmd, &status);
  cJSON *j = cJSON_Parse(tu_last_line(out));
  cJSON *r0 = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "runs"), 0);
  const char *shown = cJSON_GetStringValue(cJSON_GetObjectItem(r0, "status"));
  LF_TEST_TRUE("latflow runs list --json shows the killed run as KILLED, stale", status == 0 && shown &&
               !strcmp(shown, "KILLED") && cJSON_IsTrue(cJSON_GetObjectItem(r0, "stale")));
  cJSON_Delete(j);
  free(out);
  long marked = -1;
  rc = lf_registry_gc(reg, 0, &marked);
  LF_TEST_TRUE("gc marks exactly the killed run", rc == LF_OK && marked == 1);
  rc = lf_registry_load(reg, id, 0, &rec);
  LF_TEST_TRUE("after gc: stored KILLED, end time = last heartbeat",
               rc == LF_OK && rec.info.status == LF_RUN_KILLED && !rec.info.stale && rec.info.end_time > 0 &&
                   fabs(rec.info.end_time - rec.info.heartbeat) < 1e-3);
  if (rc == LF_OK) lf_run_record_free(&rec);
  if (live) lf_run_end(live, LF_RUN_KILLED);
  lf_registry_close(reg);
}

/* Open must fail with `code`, mention `needle`, and leave the file byte-identical. */
static void expect_refused(const char *what, const char *path, int code, const char *needle) {
  size_t n0, n1;
  char *before = tu_slurp(path, &n0);
  lf_registry *reg = (lf_registry *)1;
  int rc = lf_registry_open(&reg, path);
  char msg[1100];
  snprintf(msg, sizeof msg, "%s", lf_last_error());
  char *after = tu_slurp(path, &n1);
  char w[600];
  snprintf(w, sizeof w, "%s: refused with code %d (got %d), message mentions '%s'", what, code, rc, needle);
  LF_TEST_TRUE(w, rc == code && reg == NULL && strstr(msg, needle) != NULL);
  printf("     message: %s\n", msg);
  snprintf(w, sizeof w, "%s: file bytes unchanged (%zu bytes)", what, n0);
  LF_TEST_TRUE(w, before && after && n0 == n1 && memcmp(before, after, n0) == 0);
  char side[600];
  snprintf(side, sizeof side, "%s-journal", path);
  int j = tu_exists(side);
  snprintf(side, sizeof side, "%s-wal", path);
  snprintf(w, sizeof w, "%s: no journal or WAL left behind", what);
  LF_TEST_TRUE(w, !j && !tu_exists(side));
  if (rc == LF_OK) lf_registry_close(reg);
  free(before);
  free(after);
}

static void test_refusals(void) {
  char p[512];
  /* Random bytes. */
  path_in(p, sizeof p, "garbage.db");
  unsigned char junk[8192];
  lf_rng r;
  lf_rng_init(&r, 2385, LF_RNG_TAG(LF_RNG_PURPOSE_TEST, 1), 0);
  for (size_t i = 0; i < sizeof junk; i++) junk[i] = (unsigned char)lf_rng_u32(&r);
  tu_write(p, junk, sizeof junk);
  expect_refused("random bytes", p, LF_EFORMAT, "not a latflow registry");

  /* A real registry whose first page (the schema b-tree) is overwritten. */
  path_in(p, sizeof p, "corrupt.db");
  lf_registry *reg;
  if (lf_registry_open(&reg, p) == LF_OK) lf_registry_close(reg);
  size_t n;
  char *img = tu_slurp(p, &n);
  if (img && n > 200) {
    for (size_t i = 100; i < n && i < 4096; i++) img[i] = (char)(0xA5 ^ (int)i);
    tu_write(p, img, n);
  }
  free(img);
  expect_refused("SQLite file with a corrupt schema page", p, LF_EFORMAT, "corrupt.db");

  /* Another program's SQLite database. */
  path_in(p, sizeof p, "foreign.db");
  sqlite3 *db;
  sqlite3_open(p, &db);
  sqlite3_exec(db, "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users VALUES (1, 'ann')",
               NULL, NULL, NULL);
  sqlite3_close(db);
  expect_refused("foreign SQLite database", p, LF_EFORMAT, "another program");

  /* A registry written by a newer latflow. */
  path_in(p, sizeof p, "newer.db");
  if (lf_registry_open(&reg, p) == LF_OK) lf_registry_close(reg);
  sqlite3_open(p, &db);
  sqlite3_exec(db, "INSERT INTO schema_version (version, applied_at, latflow_version) VALUES (99, 0, '9.9')",
               NULL, NULL, NULL);
  sqlite3_close(db);
  expect_refused("registry with schema version 99", p, LF_EUNSUP, "version 99");

  /* A directory and an unwritable location. */
  int rc = lf_registry_open(&reg, dir);
  LF_TEST_TRUE("a directory is refused with a hint", rc == LF_EINVAL && strstr(lf_last_error(), "directory"));
  rc = lf_registry_open(&reg, "/nonexistent-dir-lf/x/registry.db");
  LF_TEST_TRUE("a missing directory gives an I/O error", rc == LF_EIO && strstr(lf_last_error(), "registry.db"));

  /* An empty (0-byte) file becomes a registry. */
  path_in(p, sizeof p, "empty.db");
  tu_write(p, "", 0);
  rc = lf_registry_open(&reg, p);
  LF_TEST_TRUE("an empty file is initialised as a registry", rc == LF_OK);
  if (rc == LF_OK) lf_registry_close(reg);

  /* Without a location or $LATFLOW_REGISTRY: ~/.latflow/registry.db, directory created. */
  const char *home = getenv("HOME");
  char saved_home[512];
  snprintf(saved_home, sizeof saved_home, "%s", home ? home : "");
  char fake_home[512], def[600];
  path_in(fake_home, sizeof fake_home, "home");
  snprintf(def, sizeof def, "%s/.latflow/registry.db", fake_home);
  setenv("HOME", fake_home, 1);
  unsetenv("LATFLOW_REGISTRY");
  rc = lf_registry_open(&reg, NULL);
  LF_TEST_TRUE("default location ~/.latflow/registry.db is created", rc == LF_OK && tu_exists(def) &&
               !strcmp(lf_registry_location(reg), def));
  if (rc == LF_OK) lf_registry_close(reg);
  if (home) setenv("HOME", saved_home, 1);

  /* Reopen is idempotent; the default location comes from LATFLOW_REGISTRY. */
  setenv("LATFLOW_REGISTRY", p, 1);
  rc = lf_registry_open(&reg, NULL);
  LF_TEST_TRUE("NULL location uses $LATFLOW_REGISTRY", rc == LF_OK && !strcmp(lf_registry_location(reg), p));
  if (rc == LF_OK) lf_registry_close(reg);
  unsetenv("LATFLOW_REGISTRY");
}

static void test_concurrent(const char *db) {
  lf_registry *reg;
  if (lf_registry_open(&reg, db)) return;
  lf_registry_close(reg);
  const int nproc = 4, nmetric = 3000;
  double t0 = lf_time_now();
  int ok = tu_concurrent_writers(db, nproc, nmetric, "conc");
  double dt = lf_time_now() - t0;
  LF_TEST_ABS("4 concurrent SQLite writers exited cleanly", ok, nproc, 0);
  printf("     %d x %d metrics in %.2f s\n", nproc, nmetric, dt);
  if (lf_registry_open(&reg, db)) return;
  lf_run_info *runs;
  size_t n;
  lf_run_filter f = {"FINISHED", "conc", NULL, 0, 0};
  size_t total = 0;
  int distinct = 1;
  if (lf_registry_list(reg, &f, &runs, &n) == LF_OK) {
    for (size_t i = 0; i < n; i++) {
      lf_run_record rec;
      if (lf_registry_load(reg, runs[i].id, 0, &rec) == LF_OK) {
        total += rec.nmetrics;
        distinct &= rec.nparams == 1;
        lf_run_record_free(&rec);
      }
    }
    lf_run_info_free(runs, n);
  } else {
    n = 0;
  }
  LF_TEST_ABS("4 FINISHED runs", (double)n, nproc, 0);
  LF_TEST_ABS("metric rows: none lost, none duplicated", (double)total, (double)nproc * nmetric, 0);
  LF_TEST_TRUE("each run has its own param", distinct);
  lf_registry_close(reg);

  /* 4 processes creating the same new registry at once: one creates the schema. */
  char fresh[512];
  path_in(fresh, sizeof fresh, "fresh.db");
  ok = tu_concurrent_writers(fresh, nproc, 200, "race");
  LF_TEST_ABS("4 writers racing to create a new SQLite registry all succeed", ok, nproc, 0);
  size_t nf = 0;
  lf_run_filter fr = {"FINISHED", "race", NULL, 0, 0};
  if (lf_registry_open(&reg, fresh) == LF_OK) {
    if (lf_registry_list(reg, &fr, &runs, &nf) == LF_OK) lf_run_info_free(runs, nf);
    lf_registry_close(reg);
  }
  LF_TEST_ABS("... and their 4 runs are there", (double)nf, nproc, 0);
}

static void test_report_escaping(const char *db) {
  lf_registry *reg;
  lf_run *run;
  if (lf_registry_open(&reg, db)) return;
  int rc = lf_run_start(reg, &run, "train", "<script>alert(1)</script>", NULL);
  if (rc) return;
  lf_run_tag(run, "comment", "a \"quoted\" & <b>bold</b> 'tag'");
  lf_run_param(run, "<img src=x onerror=alert(2)>", "1");
  for (int i = 0; i < 300; i++) {
    lf_run_metric(run, "plaquette", i, 0.6 + 0.05 * sin(0.3 * i));
    lf_run_metric(run, "<i>loss</i>", i, 1.0 / (i + 1));
    lf_run_metric(run, "log_weight", i, -3.0 + 0.01 * (i % 37));
  }
  char id[37];
  snprintf(id, sizeof id, "%s", lf_run_id(run));
  lf_run_end(run, LF_RUN_FINISHED);
  char out[512];
  path_in(out, sizeof out, "report.html");
  lf_report_opts ro = {"log_weight", 20, NULL};
  rc = lf_registry_report(reg, id, out, &ro);
  LF_TEST_TRUE("report written", rc == LF_OK);
  char *html = tu_slurp(out, NULL);
  LF_TEST_TRUE("run name rendered as text (&lt;script&gt;...)", html && strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
  LF_TEST_TRUE("no <script> element anywhere", html && !strstr(html, "<script"));
  LF_TEST_TRUE("param key with <img onerror> escaped", html && !strstr(html, "<img") && strstr(html, "&lt;img src=x"));
  LF_TEST_TRUE("tag value with quotes/ampersand escaped", html && strstr(html, "a &quot;quoted&quot; &amp; &lt;b&gt;bold&lt;/b&gt; &#39;tag&#39;"));
  LF_TEST_TRUE("metric key escaped in plot titles", html && !strstr(html, "<i>loss") && strstr(html, "&lt;i&gt;loss&lt;/i&gt;"));
  LF_TEST_TRUE("self-contained: no external resources (link, src=, url(, @import, http-equiv refresh)",
               html && !strstr(html, "<link") && !strstr(html, " src=\"") && !strstr(html, "url(") && !strstr(html, "@import"));
  LF_TEST_TRUE("plots: plaquette, its autocorrelation, histogram of log_weight",
               html && strstr(html, "autocorrelation of plaquette (tau_int") && strstr(html, "histogram of log_weight (300 values)"));
  free(html);
  /* The same through the command. */
  char cmd[2048];
  int status;
  snprintf(cmd, sizeof cmd, "'%s' report %.6s --registry '%s' --out '%s/cli.html' --json", tu_latflow_bin(), id, db, dir);
  char *o = tu_run(cmd, &status);
  cJSON *j = cJSON_Parse(tu_last_line(o));
  const char *rid = cJSON_GetStringValue(cJSON_GetObjectItem(j, "run"));
  char cli_html[600];
  path_in(cli_html, sizeof cli_html, "cli.html");
  LF_TEST_TRUE("latflow report ID-prefix --out --json", status == 0 && rid && !strcmp(rid, id) && tu_exists(cli_html));
  cJSON_Delete(j);
  free(o);
  lf_registry_close(reg);
}

/* y values of the polyline drawn in `color` (first one), up to max; returns the count. */
static int polyline_ys(const char *html, const char *color, double *y, int max) {
  char pat[64];
  snprintf(pat, sizeof pat, "stroke=\"%s\" points=\"", color);
  const char *p = html ? strstr(html, pat) : NULL;
  if (!p) return 0;
  p += strlen(pat);
  int n = 0;
  double xv, yv;
  int used;
  while (n < max && sscanf(p, "%lf,%lf %n", &xv, &yv, &used) == 2) {
    y[n++] = yv;
    p += used;
  }
  return n;
}

/* Comparison of runs: both runs' curves in one plot, trailing mean, escaping, errors. */
static void test_compare(const char *db) {
  lf_registry *reg;
  if (lf_registry_open(&reg, db)) return;
  char ids[2][37];
  const char *names[2] = {"<b>plaq</b>", "lal"};
  for (int r = 0; r < 2; r++) {
    lf_run *run;
    if (lf_run_start(reg, &run, "train", names[r], NULL)) return;
    for (int i = 0; i < 40; i++) { /* run 0 alternates 0, 1: its 2-point mean is 0.5 */
      lf_run_metric(run, "ess_batch", i, r == 0 ? (double)(i % 2) : 0.25 + 0.01 * i);
      lf_run_metric(run, "cpu_seconds", i, (2.0 + r) * i);
    }
    lf_run_metric(run, "only_here", 0, 1.0);
    lf_run_metric(run, "only_here", 1, 2.0);
    snprintf(ids[r], sizeof ids[r], "%s", lf_run_id(run));
    lf_run_end(run, LF_RUN_FINISHED);
  }
  char out[512];
  path_in(out, sizeof out, "compare.html");
  const char *idp[2] = {ids[0], ids[1]};
  lf_compare_opts co = {2, NULL};
  int rc = lf_registry_compare(reg, idp, 2, out, &co);
  LF_TEST_TRUE("comparison written", rc == LF_OK);
  char *html = tu_slurp(out, NULL);
  LF_TEST_TRUE("one plot of ess_batch against step and one against time, both runs in each",
               html && strstr(html, "ess_batch against step") && strstr(html, "ess_batch against wall-clock time") &&
                   strstr(html, "stroke=\"#1f5fbf\"") && strstr(html, "stroke=\"#c0392b\""));
  LF_TEST_TRUE("runs with cpu_seconds: ess_batch also against CPU time (not cpu_seconds itself)",
               html && strstr(html, "ess_batch against CPU time") && !strstr(html, "cpu_seconds against CPU time"));
  LF_TEST_TRUE("run name escaped, no script", html && strstr(html, "&lt;b&gt;plaq&lt;/b&gt;") && !strstr(html, "<b>plaq") && !strstr(html, "<script"));
  double y[64];
  int n = polyline_ys(html ? strstr(html, "ess_batch against step") : NULL, "#1f5fbf", y, 64), flat = n == 40;
  for (int i = 2; i < n; i++) flat = flat && fabs(y[i] - y[1]) < 0.05;
  LF_TEST_TRUE("--smooth 2 of 0,1,0,1,...: every trailing mean after the first point is equal", flat);
  free(html);
  LF_TEST_TRUE("a comparison of one run is refused", lf_registry_compare(reg, idp, 1, out, &co) == LF_EINVAL);
  lf_error_clear();
  char cmd[2048];
  int status;
  snprintf(cmd, sizeof cmd, "'%s' report %.8s %.8s --registry '%s' --out '%s/cmp.html' --json",
           tu_latflow_bin(), ids[0], ids[1], db, dir);
  char *o = tu_run(cmd, &status);
  cJSON *j = cJSON_Parse(tu_last_line(o));
  cJSON *runs = cJSON_GetObjectItem(j, "runs");
  LF_TEST_TRUE("latflow report ID1 ID2 --json lists both runs",
               status == 0 && cJSON_GetArraySize(runs) == 2 &&
                   !strcmp(cJSON_GetStringValue(cJSON_GetArrayItem(runs, 1)), ids[1]));
  cJSON_Delete(j);
  free(o);
  snprintf(cmd, sizeof cmd, "'%s' report %.8s %.8s --smooth 0 --registry '%s' --out '%s/x.html'",
           tu_latflow_bin(), ids[0], ids[1], db, dir);
  o = tu_run(cmd, &status);
  LF_TEST_TRUE("--smooth 0 is a usage error (exit 2) that names --smooth",
               status == 2 && o && strstr(o, "--smooth"));
  free(o);
  lf_registry_close(reg);
}

/* tau_int of the report's autocorrelation for an AR(1) history x_t = phi x_{t-1} + eta_t:
 * exact tau_int = (1 + phi) / (2 (1 - phi)); error (Madras-Sokal) tau sqrt(2 (2W + 1) / N). */
static void test_acf(const char *db) {
  lf_registry *reg;
  lf_run *run;
  if (lf_registry_open(&reg, db) || lf_run_start(reg, &run, "hmc", "ar1", NULL)) return;
  const double phi = 0.8;
  const int N = 20000;
  lf_rng r;
  lf_rng_init(&r, 2385, LF_RNG_TAG(LF_RNG_PURPOSE_TEST, 3), 0);
  double x = 0;
  for (int t = 0; t < N; t++) {
    x = phi * x + lf_rng_normal(&r);
    lf_run_metric(run, "plaquette", t, 0.6 + 0.01 * x);
  }
  char id[37];
  snprintf(id, sizeof id, "%s", lf_run_id(run));
  lf_run_end(run, LF_RUN_FINISHED);
  char out[512];
  path_in(out, sizeof out, "acf.html");
  int rc = lf_registry_report(reg, id, out, NULL);
  lf_registry_close(reg);
  char *html = rc == LF_OK ? tu_slurp(out, NULL) : NULL;
  const char *p = html ? strstr(html, "autocorrelation of plaquette (tau_int = ") : NULL;
  double tau = -1;
  int W = 0;
  if (p) sscanf(p, "autocorrelation of plaquette (tau_int = %lf, W = %d)", &tau, &W);
  double exact = (1 + phi) / (2 * (1 - phi));
  double err = exact * sqrt(2.0 * (2 * W + 1) / N);
  LF_TEST_SIGMA("report tau_int of an AR(1) history (phi = 0.8, N = 20000)", tau, err, exact, 4.0);
  free(html);
}

/* Every allocation of the read paths may fail: LF_ENOMEM, no crash, no leak (ASan). */
static void test_alloc_failures(const char *db) {
  char out[512];
  path_in(out, sizeof out, "fault.html");
  int bad = 0, failed = 0, last_ok = 0;
  for (long n = 1; n <= 400; n++) {
    lf_registry *reg = NULL;
    lf_alloc_fail_after(n);
    int rc = lf_registry_open(&reg, db);
    lf_run_info *runs = NULL;
    size_t nr = 0;
    if (rc == LF_OK) rc = lf_registry_list(reg, NULL, &runs, &nr);
    if (rc == LF_OK) lf_run_info_free(runs, nr);
    lf_run_record rec;
    if (rc == LF_OK && nr > 0) {
      char id[37];
      lf_run_filter f = {NULL, "train", NULL, 1, 0};
      rc = lf_registry_list(reg, &f, &runs, &nr);
      if (rc == LF_OK) {
        snprintf(id, sizeof id, "%s", nr ? runs[0].id : "");
        lf_run_info_free(runs, nr);
        rc = lf_registry_load(reg, id, 0, &rec);
        if (rc == LF_OK) lf_run_record_free(&rec);
        if (rc == LF_OK) rc = lf_registry_report(reg, id, out, NULL);
      }
    }
    lf_artifact *arts;
    size_t na;
    if (rc == LF_OK) rc = lf_registry_artifacts(reg, NULL, &arts, &na);
    if (rc == LF_OK) lf_artifact_free(arts, na);
    lf_alloc_fail_after(0);
    lf_registry_close(reg);
    if (rc != LF_OK && rc != LF_ENOMEM) {
      bad++;
      printf("     injected failure %ld gave %d: %s\n", n, rc, lf_last_error());
    }
    failed += rc == LF_ENOMEM;
    last_ok = rc == LF_OK;
  }
  char what[200];
  snprintf(what, sizeof what, "allocation failure 1..400 in open/list/load/report/artifacts: %d x LF_ENOMEM, "
           "%d other codes, succeeds once past the last allocation", failed, bad);
  LF_TEST_TRUE(what, bad == 0 && failed > 20 && last_ok);

  /* Write path: start, param, tag, metrics, flush, artifact, end. A failed call leaves the
   * run usable; lf_run_end always frees it. */
  char model[512];
  path_in(model, sizeof model, "model.safetensors");
  bad = failed = last_ok = 0;
  for (long n = 1; n <= 120; n++) {
    lf_registry *reg = NULL;
    lf_run *run = NULL;
    lf_alloc_fail_after(n);
    int rc = lf_registry_open(&reg, db);
    if (rc == LF_OK) rc = lf_run_start(reg, &run, "fault", "writer", "faults");
    if (rc == LF_OK) rc = lf_run_param(run, "n", "1");
    if (rc == LF_OK) rc = lf_run_tag(run, "t", "v");
    for (int i = 0; rc == LF_OK && i < 5; i++) rc = lf_run_metric(run, "m", i, 0.5 * i);
    if (rc == LF_OK) rc = lf_run_flush(run);
    if (rc == LF_OK) rc = lf_run_artifact(run, model, LF_ARTIFACT_CONFIG, NULL);
    int erc = run ? lf_run_end(run, rc == LF_OK ? LF_RUN_FINISHED : LF_RUN_FAILED) : LF_OK;
    if (rc == LF_OK) rc = erc;
    lf_alloc_fail_after(0);
    lf_registry_close(reg);
    if (rc != LF_OK && rc != LF_ENOMEM) {
      bad++;
      printf("     injected failure %ld gave %d: %s\n", n, rc, lf_last_error());
    }
    failed += rc == LF_ENOMEM;
    last_ok = rc == LF_OK;
  }
  snprintf(what, sizeof what, "allocation failure 1..120 in open/start/param/tag/metric/flush/artifact/end: "
           "%d x LF_ENOMEM, %d other codes, then success", failed, bad);
  LF_TEST_TRUE(what, bad == 0 && failed > 5 && last_ok);
}

static void test_cli(const char *db) {
  char cmd[2048];
  int status;
  const char *bin = tu_latflow_bin();
  snprintf(cmd, sizeof cmd, "'%s' runs list --registry '%s' --json --limit 0", bin, db);
  char *out = tu_run(cmd, &status);
  cJSON *j = cJSON_Parse(tu_last_line(out));
  cJSON *runs = cJSON_GetObjectItem(j, "runs");
  int ok = status == 0 && cJSON_IsArray(runs) && cJSON_GetArraySize(runs) >= 2;
  char first[37] = "";
  cJSON *r;
  cJSON_ArrayForEach(r, runs) {
    ok &= cJSON_IsString(cJSON_GetObjectItem(r, "id")) && cJSON_IsString(cJSON_GetObjectItem(r, "command")) &&
          cJSON_IsString(cJSON_GetObjectItem(r, "status"));
    if (!first[0] && cJSON_IsString(cJSON_GetObjectItem(r, "id")))
      snprintf(first, sizeof first, "%s", cJSON_GetStringValue(cJSON_GetObjectItem(r, "id")));
  }
  LF_TEST_TRUE("runs list --json: one object, runs[] with id/command/status", ok);
  cJSON_Delete(j);
  free(out);

  snprintf(cmd, sizeof cmd, "'%s' runs list --registry '%s' --json --limit 1 --status FINISHED", bin, db);
  out = tu_run(cmd, &status);
  j = cJSON_Parse(tu_last_line(out));
  LF_TEST_TRUE("runs list --limit 1 --status FINISHED", status == 0 && cJSON_GetArraySize(cJSON_GetObjectItem(j, "runs")) == 1);
  cJSON_Delete(j);
  free(out);

  snprintf(cmd, sizeof cmd, "'%s' runs show %.8s --registry '%s' --json", bin, first, db);
  out = tu_run(cmd, &status);
  j = cJSON_Parse(tu_last_line(out));
  const char *sid = cJSON_GetStringValue(cJSON_GetObjectItem(j, "id"));
  LF_TEST_TRUE("runs show PREFIX --json", status == 0 && sid && !strcmp(sid, first) && cJSON_GetObjectItem(j, "params"));
  cJSON_Delete(j);
  free(out);

  snprintf(cmd, sizeof cmd, "'%s' runs list --registry '%s'", bin, db);
  out = tu_run(cmd, &status);
  LF_TEST_TRUE("runs list (text) has a header and the runs", status == 0 && out && strstr(out, "STATUS") && strstr(out, "FINISHED"));
  free(out);

  /* Export: CSV rows = metric rows + header. */
  lf_registry *reg;
  lf_run_info *ri;
  size_t n;
  lf_run_filter f = {NULL, "train", NULL, 1, 0};
  char tid[37] = "";
  size_t nmetrics = 0;
  if (lf_registry_open(&reg, db) == LF_OK) {
    if (lf_registry_list(reg, &f, &ri, &n) == LF_OK && n == 1) {
      snprintf(tid, sizeof tid, "%s", ri[0].id);
      lf_run_record rec;
      if (lf_registry_load(reg, tid, 0, &rec) == LF_OK) nmetrics = rec.nmetrics, lf_run_record_free(&rec);
      lf_run_info_free(ri, n);
    }
    lf_registry_close(reg);
  }
  snprintf(cmd, sizeof cmd, "'%s' runs export %s --registry '%s' --format csv --out '%s/export.csv'", bin, tid, db, dir);
  out = tu_run(cmd, &status);
  free(out);
  char ep[512];
  path_in(ep, sizeof ep, "export.csv");
  char *csv = tu_slurp(ep, NULL);
  size_t lines = 0;
  for (char *c = csv; c && *c; c++) lines += *c == '\n';
  LF_TEST_TRUE("runs export --format csv: header + one line per metric", status == 0 && csv &&
               !strncmp(csv, "run_id,key,step,timestamp,value\n", 32) && lines == nmetrics + 1);
  free(csv);
  snprintf(cmd, sizeof cmd, "'%s' runs export %s --registry '%s' --format json", bin, tid, db);
  out = tu_run(cmd, &status);
  j = cJSON_Parse(tu_last_line(out));
  LF_TEST_TRUE("runs export --format json has metrics history", status == 0 && cJSON_GetObjectItem(j, "metrics"));
  cJSON_Delete(j);
  free(out);

  snprintf(cmd, sizeof cmd, "'%s' runs compare %.8s %.8s --registry '%s'", bin, tid, first, db);
  out = tu_run(cmd, &status);
  LF_TEST_TRUE("runs compare shows params and final metrics", status == 0 && out && strstr(out, "-- final metrics"));
  free(out);
  snprintf(cmd, sizeof cmd, "'%s' runs models --registry '%s' --json", bin, db);
  out = tu_run(cmd, &status);
  j = cJSON_Parse(tu_last_line(out));
  cJSON *m0 = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "models"), 0);
  const char *th = cJSON_GetStringValue(cJSON_GetObjectItem(m0, "theory"));
  LF_TEST_TRUE("runs models: the model with theory U(1), lattice, ESS, size 3",
               status == 0 && th && !strcmp(th, "U(1)") && cJSON_GetNumberValue(cJSON_GetObjectItem(m0, "size")) == 3 &&
                   fabs(cJSON_GetNumberValue(cJSON_GetObjectItem(m0, "ess")) - (0.41 + 1e-4 * 1499)) < 1e-12);
  cJSON_Delete(j);
  free(out);

  /* Failures: exit 1 with a message; usage errors exit 2. */
  char garbage[512];
  path_in(garbage, sizeof garbage, "garbage.db");
  snprintf(cmd, sizeof cmd, "'%s' runs list --registry '%s'", bin, garbage);
  out = tu_run(cmd, &status);
  LF_TEST_TRUE("runs list on a non-registry file: exit 1, says so", status == 1 && out && strstr(out, "not a latflow registry"));
  free(out);
  snprintf(cmd, sizeof cmd, "'%s' runs show zzz --registry '%s'", bin, db);
  out = tu_run(cmd, &status);
  LF_TEST_TRUE("runs show with a bad id: exit 1", status == 1 && out && strstr(out, "not a run id"));
  free(out);
  snprintf(cmd, sizeof cmd, "'%s' runs list --status BOGUS --registry '%s'", bin, db);
  out = tu_run(cmd, &status);
  LF_TEST_TRUE("runs list --status BOGUS: usage error (exit 2)", status == 2);
  free(out);
  snprintf(cmd, sizeof cmd, "'%s' runs frobnicate", bin);
  out = tu_run(cmd, &status);
  LF_TEST_TRUE("unknown subcommand: exit 2 with the list", status == 2 && out && strstr(out, "compare"));
  free(out);
}

int main(void) {
  snprintf(dir, sizeof dir, "/tmp/lf_registry_api_XXXXXX");
  if (!mkdtemp(dir)) {
    printf("FAIL cannot create a temporary directory\n");
    return 1;
  }
  char db[512];
  path_in(db, sizeof db, "registry.db");
  test_sha256();
  test_redact();
  test_roundtrip(db);
  test_killed(db);
  test_refusals();
  char cdb[512];
  path_in(cdb, sizeof cdb, "concurrent.db");
  test_concurrent(cdb);
  test_report_escaping(db);
  test_compare(db);
  test_acf(db);
  test_alloc_failures(db);
  test_cli(db);
  int rc = lf_test_done();
  if (rc == 0) tu_rm_rf(dir);
  else printf("kept %s for inspection\n", dir);
  return rc;
}
