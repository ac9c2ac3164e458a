/*
 * tests/registry/postgres.c -- the registry on a real PostgreSQL server.
 *
 * Starts a private server (initdb + pg_ctl from the Debian postgresql package, or
 * $LATFLOW_PG_BINDIR) in a temporary directory on 127.0.0.1 with a random free port and
 * a password-authenticated (scram-sha-256) user; as root the server runs as user
 * postgres (runuser). Checks: schema creation and reopen, API round trip, 4 concurrent
 * writer processes, a SIGKILLed run detected stale, a newer schema version and a
 * foreign database refused untouched, an unreachable server, and that the URL password
 * appears nowhere: error messages, CLI stderr/JSON, the report, the registry rows.
 * The server is stopped and the directory removed at the end. Missing PostgreSQL
 * binaries are a failure (install the postgresql package), never a silent skip.
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <glob.h>
#include <libpq-fe.h>
#include <math.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "latflow/core.h"
#include "latflow/registry.h"
#include "lf_test.h"
#include "testutil.h"

#define PASSWORD "Lf-s3cret_Pw7q"
#define WRONG_PASSWORD "Wr0ng-Passw0rd_x9"

static char dir[256], bindir[512], url[512];
static int port;

static int find_bindir(void) {
  const char *env = getenv("LATFLOW_PG_BINDIR");
  if (env && *env) {
    snprintf(bindir, sizeof bindir, "%s", env);
  } else {
    glob_t g;
    if (glob("/usr/lib/postgresql/*/bin/initdb", 0, NULL, &g) != 0 || g.gl_pathc == 0) return -1;
    snprintf(bindir, sizeof bindir, "%s", g.gl_pathv[g.gl_pathc - 1]); /* highest version */
    globfree(&g);
    *strrchr(bindir, '/') = '\0';
  }
  char p[600];
  snprintf(p, sizeof p, "%s/initdb", bindir);
  if (access(p, X_OK) != 0) return -1;
  snprintf(p, sizeof p, "%s/pg_ctl", bindir);
  return access(p, X_OK) == 0 ? 0 : -1;
}

static int free_port(void) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  int p = -1;
  if (s >= 0 && bind(s, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(s, (struct sockaddr *)&a, &len) == 0)
    p = ntohs(a.sin_port);
  if (s >= 0) close(s);
  return p;
}

/* Run as the server's user (postgres when we are root). */
static int as_pg(const char *cmd) {
  char full[4200];
  if (geteuid() == 0) snprintf(full, sizeof full, "runuser -u postgres -- %s", cmd);
  else snprintf(full, sizeof full, "%s", cmd);
  int st = system(full);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int start_server(void) {
  snprintf(dir, sizeof dir, "/tmp/lf_pg_XXXXXX");
  if (!mkdtemp(dir)) return -1;
  char pw[600], cmd[4096];
  snprintf(pw, sizeof pw, "%s/pwfile", dir);
  tu_write(pw, PASSWORD "\n", strlen(PASSWORD) + 1);
  if (geteuid() == 0) {
    struct passwd *pg = getpwnam("postgres");
    if (!pg) {
      printf("FAIL running as root but there is no user 'postgres' to run the server as\n");
      return -1;
    }
    if (chown(dir, pg->pw_uid, pg->pw_gid) != 0 || chown(pw, pg->pw_uid, pg->pw_gid) != 0) return -1;
  }
  double t0 = lf_time_now();
  snprintf(cmd, sizeof cmd,
           "'%s/initdb' -D '%s/data' -U lfadmin --pwfile='%s' -A scram-sha-256 -E UTF8 --locale=C "
           "--no-sync > '%s/initdb.log' 2>&1",
           bindir, dir, pw, dir);
  if (as_pg(cmd) != 0) {
    printf("FAIL initdb failed; see %s/initdb.log\n", dir);
    return -1;
  }
  for (int attempt = 0; attempt < 3; attempt++) {
    port = free_port();
    snprintf(cmd, sizeof cmd,
             "'%s/pg_ctl' -D '%s/data' -l '%s/server.log' -w -t 30 -o \"-p %d -k %s -c "
             "listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off\" start > /dev/null",
             bindir, dir, dir, port, dir);
    if (as_pg(cmd) == 0) {
      printf("     PostgreSQL (%s) up on 127.0.0.1:%d in %.1f s\n", bindir, port, lf_time_now() - t0);
      snprintf(url, sizeof url, "postgresql://lfadmin:%s@127.0.0.1:%d/postgres", PASSWORD, port);
      return 0;
    }
  }
  printf("FAIL pg_ctl start failed; see %s/server.log\n", dir);
  return -1;
}

static void stop_server(void) {
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "'%s/pg_ctl' -D '%s/data' -m fast -w -t 30 stop > /dev/null 2>&1", bindir, dir);
  as_pg(cmd);
  tu_rm_rf(dir);
}

static void test_open_roundtrip(void) {
  lf_registry *reg;
  int rc = lf_registry_open(&reg, url);
  LF_TEST_TRUE("open a new PostgreSQL registry (schema created)", rc == LF_OK);
  if (rc) {
    printf("     %s\n", lf_last_error());
    return;
  }
  const char *loc = lf_registry_location(reg);
  LF_TEST_TRUE("backend postgresql, location redacted", !strcmp(lf_registry_backend(reg), "postgresql") &&
               strstr(loc, "lfadmin:***@") && !strstr(loc, PASSWORD));
  lf_registry_close(reg);
  rc = lf_registry_open(&reg, url);
  LF_TEST_TRUE("reopen finds schema version 1", rc == LF_OK && lf_registry_schema_version(reg) == 1);
  if (rc) return;
  lf_run *run;
  const char *evil = "r'); DROP TABLE runs; --";
  rc = lf_run_start(reg, &run, "train", evil, "pg-exp");
  LF_TEST_TRUE("start run", rc == LF_OK);
  if (rc) return;
  char id[37];
  snprintf(id, sizeof id, "%s", lf_run_id(run));
  lf_run_param(run, "beta", "2.385");
  lf_run_param(run, "theory", "SU(2)");
  lf_run_tag(run, "note", "$1 ? '; --");
  for (int s = 0; s < 1000; s++) lf_run_metric(run, "loss", s, -3.5 + 1.0 / (s + 0.37));
  lf_run_metric(run, "nan", 0, (double)INFINITY);
  char model[512];
  snprintf(model, sizeof model, "%s/model.bin", dir);
  tu_write(model, "abc", 3);
  int64_t aid = -1, cid = -1;
  rc = lf_run_artifact(run, model, LF_ARTIFACT_MODEL, &aid);
  if (rc == LF_OK) rc = lf_run_consume(run, model, LF_ARTIFACT_MODEL, &cid);
  LF_TEST_TRUE("artifact produced and consumed by the same run", rc == LF_OK && aid > 0 && cid == aid);
  LF_TEST_TRUE("end run", lf_run_end(run, LF_RUN_FINISHED) == LF_OK);
  lf_run_record rec;
  char pre[7];
  snprintf(pre, sizeof pre, "%.6s", id);
  rc = lf_registry_load(reg, pre, 0, &rec);
  LF_TEST_TRUE("load by prefix", rc == LF_OK);
  if (rc == LF_OK) {
    LF_TEST_TRUE("name with SQL injection verbatim; tag with $1 and ? verbatim",
                 !strcmp(rec.info.name, evil) && rec.ntags == 1 && !strcmp(rec.tags[0].value, "$1 ? '; --"));
    int exact = rec.nmetrics == 1001;
    for (size_t i = 0; exact && i < rec.nmetrics; i++)
      exact = !strcmp(rec.metrics[i].key, "nan") ? isnan(rec.metrics[i].value)
                                                 : rec.metrics[i].value == -3.5 + 1.0 / ((double)rec.metrics[i].step + 0.37);
    LF_TEST_TRUE("1001 metric rows round-trip bit-exactly (Inf stored as NULL)", exact);
    int lin = rec.nartifacts == 2 && !strcmp(rec.artifacts[0].sha256,
                                             "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    LF_TEST_TRUE("lineage: produced + consumed rows, sha256(abc)", lin);
    LF_TEST_TRUE("status FINISHED, params", rec.info.status == LF_RUN_FINISHED && rec.nparams == 2);
    lf_run_record_free(&rec);
  }
  lf_registry_close(reg);
}

static void test_concurrent(void) {
  double t0 = lf_time_now();
  const int nproc = 4, nmetric = 2000;
  int ok = tu_concurrent_writers(url, nproc, nmetric, "pgconc");
  printf("     %d x %d metrics in %.2f s\n", nproc, nmetric, lf_time_now() - t0);
  LF_TEST_ABS("4 concurrent PostgreSQL writers exited cleanly", ok, nproc, 0);
  lf_registry *reg;
  if (lf_registry_open(&reg, url)) return;
  lf_run_info *runs;
  size_t n = 0, total = 0;
  lf_run_filter f = {"FINISHED", "pgconc", NULL, 0, 0};
  if (lf_registry_list(reg, &f, &runs, &n) == LF_OK) {
    for (size_t i = 0; i < n; i++) {
      lf_run_record rec;
      if (lf_registry_load(reg, runs[i].id, 0, &rec) == LF_OK) total += rec.nmetrics, lf_run_record_free(&rec);
    }
    lf_run_info_free(runs, n);
  }
  LF_TEST_ABS("4 FINISHED runs", (double)n, nproc, 0);
  LF_TEST_ABS("metric rows: none lost", (double)total, (double)nproc * nmetric, 0);
  lf_registry_close(reg);

  /* 4 processes creating the schema of a new database at once (advisory lock). */
  PGconn *c = PQconnectdb(url);
  PQclear(PQexec(c, "CREATE DATABASE race"));
  PQfinish(c);
  char rurl[600];
  snprintf(rurl, sizeof rurl, "postgresql://lfadmin:%s@127.0.0.1:%d/race", PASSWORD, port);
  ok = tu_concurrent_writers(rurl, nproc, 100, "race");
  LF_TEST_ABS("4 writers racing to create the schema of a new database all succeed", ok, nproc, 0);
}

static void test_killed(void) {
  int fds[2];
  if (pipe(fds) != 0) return;
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    lf_registry *reg;
    lf_run *run;
    if (lf_registry_open(&reg, url) || lf_run_start(reg, &run, "hmc", "doomed", NULL)) _exit(2);
    if (write(fds[1], lf_run_id(run), 36) != 36) _exit(3);
    close(fds[1]);
    for (;;) pause();
  }
  close(fds[1]);
  char id[37] = {0};
  ssize_t got = read(fds[0], id, 36);
  close(fds[0]);
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  lf_registry *reg;
  if (lf_registry_open(&reg, url)) return;
  lf_run_record rec;
  int rc = got == 36 ? lf_registry_load(reg, id, 0, &rec) : LF_EINVAL;
  LF_TEST_TRUE("SIGKILLed run is stale (shown KILLED)", rc == LF_OK && rec.info.status == LF_RUN_RUNNING && rec.info.stale);
  if (rc == LF_OK) lf_run_record_free(&rec);
  long marked = 0;
  rc = lf_registry_gc(reg, 0, &marked);
  LF_TEST_TRUE("gc marks it KILLED", rc == LF_OK && marked == 1);
  lf_registry_close(reg);
}

/* Every text of every registry table, concatenated (to look for the password). */
static char *dump_tables(PGconn *c) {
  static const char *const tables[] = {"schema_version", "experiments", "runs", "params", "tags",
                                       "metrics", "artifacts", "lineage"};
  size_t cap = 1 << 20, len = 0;
  char *all = calloc(1, cap);
  for (size_t t = 0; all && t < sizeof tables / sizeof tables[0]; t++) {
    char q[200];
    snprintf(q, sizeof q, "SELECT t::text FROM %s t", tables[t]);
    PGresult *r = PQexec(c, q);
    for (int i = 0; PQresultStatus(r) == PGRES_TUPLES_OK && i < PQntuples(r); i++) {
      const char *v = PQgetvalue(r, i, 0);
      size_t l = strlen(v);
      if (len + l + 2 > cap) {
        cap = 2 * (len + l + 2);
        all = realloc(all, cap);
        if (!all) break;
      }
      memcpy(all + len, v, l);
      len += l;
      all[len++] = '\n';
      all[len] = '\0';
    }
    PQclear(r);
  }
  return all;
}

static void test_secrets(void) {
  char bad[512], msg[1100];
  snprintf(bad, sizeof bad, "postgresql://lfadmin:%s@127.0.0.1:%d/postgres", WRONG_PASSWORD, port);
  lf_registry *reg;
  int rc = lf_registry_open(&reg, bad);
  snprintf(msg, sizeof msg, "%s", lf_last_error());
  printf("     message: %s\n", msg);
  LF_TEST_TRUE("wrong password: refused, message has the redacted URL and no password",
               rc == LF_EDB && !strstr(msg, WRONG_PASSWORD) && strstr(msg, "lfadmin:***@") &&
                   strstr(msg, "password authentication failed"));
  char q[600];
  snprintf(q, sizeof q, "postgresql://lfadmin@127.0.0.1:%d/postgres?password=%s&connect_timeout=3", port, WRONG_PASSWORD);
  rc = lf_registry_open(&reg, q);
  snprintf(msg, sizeof msg, "%s", lf_last_error());
  LF_TEST_TRUE("password as a query parameter: redacted too", rc == LF_EDB && !strstr(msg, WRONG_PASSWORD) && strstr(msg, "password=***"));

  /* The CLI: stderr of a failure, JSON of a listing, export, report. */
  const char *bin = tu_latflow_bin();
  char cmd[4096];
  int status;
  snprintf(cmd, sizeof cmd, "'%s' runs list --registry '%s' --json", bin, bad);
  char *out = tu_run(cmd, &status);
  LF_TEST_TRUE("CLI with a wrong password: exit 1, no password in its output", status == 1 && out && !strstr(out, WRONG_PASSWORD) && strstr(out, "***"));
  free(out);
  snprintf(cmd, sizeof cmd, "LATFLOW_REGISTRY='%s' '%s' runs list --json --limit 0", url, bin);
  out = tu_run(cmd, &status);
  cJSON *j = cJSON_Parse(tu_last_line(out));
  const char *loc = cJSON_GetStringValue(cJSON_GetObjectItem(j, "registry"));
  cJSON *r0 = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "runs"), 0);
  char id[37] = "";
  if (cJSON_GetStringValue(cJSON_GetObjectItem(r0, "id"))) snprintf(id, sizeof id, "%s", cJSON_GetStringValue(cJSON_GetObjectItem(r0, "id")));
  LF_TEST_TRUE("runs list --json via $LATFLOW_REGISTRY: works, location redacted, no password",
               status == 0 && loc && strstr(loc, "***") && out && !strstr(out, PASSWORD) && id[0]);
  cJSON_Delete(j);
  free(out);
  snprintf(cmd, sizeof cmd, "'%s' runs export %s --registry '%s' --format json; '%s' runs show %s --registry '%s'; "
           "'%s' runs models --registry '%s'", bin, id, url, bin, id, url, bin, url);
  out = tu_run(cmd, &status);
  LF_TEST_TRUE("runs export/show/models output has no password", status == 0 && out && !strstr(out, PASSWORD));
  free(out);
  char html[600];
  snprintf(html, sizeof html, "%s/report.html", dir);
  snprintf(cmd, sizeof cmd, "'%s' report %s --registry '%s' --out '%s'", bin, id, url, html);
  out = tu_run(cmd, &status);
  char *h = tu_slurp(html, NULL);
  LF_TEST_TRUE("report from PostgreSQL written, no password in it or in the output", status == 0 && h && !strstr(h, PASSWORD) && out && !strstr(out, PASSWORD));
  free(h);
  free(out);

  /* The rows. */
  PGconn *c = PQconnectdb(url);
  char *all = PQstatus(c) == CONNECTION_OK ? dump_tables(c) : NULL;
  LF_TEST_TRUE("no registry row contains the password (all 8 tables dumped as text)", all && strlen(all) > 1000 && !strstr(all, PASSWORD) && !strstr(all, WRONG_PASSWORD));
  free(all);
  PQfinish(c);
}

static long pg_count(PGconn *c, const char *sql) {
  PGresult *r = PQexec(c, sql);
  long n = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 ? atol(PQgetvalue(r, 0, 0)) : -1;
  PQclear(r);
  return n;
}

static void test_refusals(void) {
  PGconn *c = PQconnectdb(url);
  if (PQstatus(c) != CONNECTION_OK) return;
  /* Newer schema version. */
  PQclear(PQexec(c, "INSERT INTO schema_version VALUES (99, 0, 'future')"));
  long runs_before = pg_count(c, "SELECT count(*) FROM runs");
  lf_registry *reg;
  int rc = lf_registry_open(&reg, url);
  char msg[1100];
  snprintf(msg, sizeof msg, "%s", lf_last_error());
  LF_TEST_TRUE("schema version 99 refused with a clear message, no password", rc == LF_EUNSUP && strstr(msg, "version 99") && !strstr(msg, PASSWORD));
  LF_TEST_TRUE("nothing written (run count, versions)", pg_count(c, "SELECT count(*) FROM runs") == runs_before &&
               pg_count(c, "SELECT count(*) FROM schema_version") == 2);
  PQclear(PQexec(c, "DELETE FROM schema_version WHERE version = 99"));
  /* A database that belongs to another program (a table named runs). */
  PQclear(PQexec(c, "CREATE DATABASE other"));
  char ourl[600];
  snprintf(ourl, sizeof ourl, "postgresql://lfadmin:%s@127.0.0.1:%d/other", PASSWORD, port);
  PGconn *o = PQconnectdb(ourl);
  PQclear(PQexec(o, "CREATE TABLE runs (x integer); INSERT INTO runs VALUES (7)"));
  rc = lf_registry_open(&reg, ourl);
  snprintf(msg, sizeof msg, "%s", lf_last_error());
  printf("     message: %s\n", msg);
  LF_TEST_TRUE("foreign database (its own 'runs' table) refused", rc != LF_OK && strstr(msg, "runs") && !strstr(msg, PASSWORD));
  LF_TEST_TRUE("foreign database untouched (1 table, its row)",
               pg_count(o, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'") == 1 &&
                   pg_count(o, "SELECT x FROM runs") == 7);
  PQfinish(o);
  PQfinish(c);
  /* Unreachable server. */
  int dead = free_port();
  char durl[600];
  snprintf(durl, sizeof durl, "postgresql://lfadmin:%s@127.0.0.1:%d/postgres", PASSWORD, dead);
  double t0 = lf_time_now();
  rc = lf_registry_open(&reg, durl);
  double dt = lf_time_now() - t0;
  snprintf(msg, sizeof msg, "%s", lf_last_error());
  printf("     message: %s\n", msg);
  LF_TEST_TRUE("unreachable server: LF_EDB 'cannot connect', quick, no password",
               rc == LF_EDB && strstr(msg, "cannot connect") && dt < 10 && !strstr(msg, PASSWORD));
}

int main(void) {
  if (find_bindir() != 0) {
    printf("FAIL PostgreSQL server binaries (initdb, pg_ctl) not found under /usr/lib/postgresql/*/bin "
           "and LATFLOW_PG_BINDIR is not set: install them (Debian: apt-get install -y postgresql)\n");
    return 1;
  }
  double t0 = lf_time_now();
  if (start_server() != 0) {
    LF_TEST_TRUE("start a private PostgreSQL server", 0);
    stop_server();
    return lf_test_done();
  }
  test_open_roundtrip();
  test_concurrent();
  test_killed();
  test_secrets();
  test_refusals();
  stop_server();
  LF_TEST_TRUE("server stopped and directory removed", !tu_exists(dir));
  printf("     PostgreSQL test took %.1f s\n", lf_time_now() - t0);
  return lf_test_done();
}
