/*
 * postgres.c -- the PostgreSQL backend of the registry (libpq), selected by a
 * "postgresql://" or "postgres://" URL.
 *
 * Same tables as the SQLite backend (schema.c); '?' placeholders are rewritten to $n
 * and every value is sent as a text parameter (PQexecParams), never spliced into SQL.
 * The password of the URL (raw and percent-decoded, from PQconninfoParse) is kept
 * only to scrub it from error messages; the location shown anywhere is redacted.
 * libpq notices are swallowed (the library never prints). Migrations take
 * pg_advisory_xact_lock so concurrent first opens do not race.
 * Reference: PostgreSQL 15 manual, chapter 34 (libpq), 34.1.1 (connection URIs).
 * Thread contract: one connection per handle, used by one thread at a time.
 */
#define _POSIX_C_SOURCE 200809L
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define PG_MAX_PARAMS 512 /* per statement (multi-row metric inserts use 5 x 64) */

static void pg_quiet(void *arg, const char *msg) {
  (void)arg;
  (void)msg;
}

/* '?' -> $1, $2, ... outside quoted strings and identifiers. */
static char *pg_rewrite(const char *sql) {
  size_t n = strlen(sql), q = 0;
  for (size_t i = 0; i < n; i++) q += sql[i] == '?';
  char *out = lf_alloc(n + q * 6 + 1);
  if (!out) return NULL;
  size_t o = 0;
  int k = 0;
  char quote = 0;
  for (size_t i = 0; i < n; i++) {
    char ch = sql[i];
    if (quote) {
      if (ch == quote) quote = 0;
      out[o++] = ch;
    } else if (ch == '\'' || ch == '"') {
      quote = ch;
      out[o++] = ch;
    } else if (ch == '?') {
      o += (size_t)sprintf(out + o, "$%d", ++k);
    } else {
      out[o++] = ch;
    }
  }
  out[o] = '\0';
  return out;
}

static int pg_exec(lf_registry *reg, const char *sql, int n, const dbv *v, db_rows *rows) {
  PGconn *conn = reg->conn;
  if (rows) memset(rows, 0, sizeof *rows);
  char *q = pg_rewrite(sql);
  if (!q) return LF_ERROR(LF_ENOMEM, "out of memory preparing a registry query");
  if (n > PG_MAX_PARAMS) {
    lf_free(q);
    return LF_ERROR(LF_EINVAL, "internal: too many query parameters (%d > %d)", n, PG_MAX_PARAMS);
  }
  char numbuf[PG_MAX_PARAMS][32];
  const char *vals[PG_MAX_PARAMS];
  for (int i = 0; i < n; i++) {
    switch (v[i].type) {
    case DBV_NULL: vals[i] = NULL; break;
    case DBV_TEXT: vals[i] = v[i].s; break;
    case DBV_INT:
      snprintf(numbuf[i], sizeof numbuf[i], "%lld", (long long)v[i].i);
      vals[i] = numbuf[i];
      break;
    case DBV_REAL:
      snprintf(numbuf[i], sizeof numbuf[i], "%.17g", v[i].d);
      vals[i] = numbuf[i];
      break;
    }
  }
  PGresult *res = PQexecParams(conn, q, n, NULL, vals, NULL, NULL, 0);
  lf_free(q);
  ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    const char *sqlstate = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    char state[8] = "";
    if (sqlstate) snprintf(state, sizeof state, "%s", sqlstate);
    char msg[512];
    snprintf(msg, sizeof msg, "%s", res ? PQresultErrorMessage(res) : PQerrorMessage(conn));
    size_t l = strlen(msg);
    while (l > 0 && (msg[l - 1] == '\n' || msg[l - 1] == ' ')) msg[--l] = '\0';
    PQclear(res);
    if (PQstatus(conn) != CONNECTION_OK)
      return lf_reg_error(reg, LF_EDB, "lost the connection to registry %s: %s; check the server",
                          reg->location, msg);
    int code = !strncmp(state, "23", 2) ? LF_EINVAL : LF_EDB; /* 23xxx: integrity violation */
    return lf_reg_error(reg, code, "registry %s: %s", reg->location, msg);
  }
  int status = LF_OK;
  if (rows && st == PGRES_TUPLES_OK) {
    int nr = PQntuples(res), nc = PQnfields(res);
    rows->ncols = nc;
    for (int i = 0; status == LF_OK && i < nr; i++) {
      for (int j = 0; status == LF_OK && j < nc; j++)
        status = PQgetisnull(res, i, j)
                     ? db_rows_add(rows, NULL, 0)
                     : db_rows_add(rows, PQgetvalue(res, i, j), (size_t)PQgetlength(res, i, j));
      if (status == LF_OK) rows->nrows++;
    }
  }
  PQclear(res);
  if (status != LF_OK && rows) db_rows_free(rows);
  return status;
}

static int pg_begin(lf_registry *reg) { return pg_exec(reg, "BEGIN", 0, NULL, NULL); }

static void pg_close(lf_registry *reg) {
  PQfinish(reg->conn);
  reg->conn = NULL;
}

static const db_backend pg_backend = {
    "postgresql", pg_exec, pg_begin, pg_close, NULL, "BIGSERIAL PRIMARY KEY",
    "DOUBLE PRECISION", "SELECT pg_advisory_xact_lock(7308604658229883511)",
    "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() "
    "AND table_name = ?"};

/* The password as written in the URL (percent-encoded) and as libpq decodes it. */
static void pg_find_secret(lf_registry *reg, const char *url) {
  const char *auth = strstr(url, "://");
  if (auth) {
    auth += 3;
    const char *end = strchr(auth, '?');
    if (!end) end = auth + strlen(auth);
    const char *at = NULL;
    for (const char *c = auth; c < end; c++)
      if (*c == '@') at = c;
    if (at) {
      const char *colon = memchr(auth, ':', (size_t)(at - auth));
      if (colon && at - colon - 1 > 0 && (size_t)(at - colon - 1) < sizeof reg->secret[0])
        memcpy(reg->secret[0], colon + 1, (size_t)(at - colon - 1));
    }
  }
  char *err = NULL;
  PQconninfoOption *opts = PQconninfoParse(url, &err);
  if (err) PQfreemem(err);
  for (PQconninfoOption *o = opts; o && o->keyword; o++)
    if (!strcmp(o->keyword, "password") && o->val)
      snprintf(reg->secret[1], sizeof reg->secret[1], "%s", o->val);
  if (opts) PQconninfoFree(opts);
}

int lf_reg_pg_open(lf_registry *reg, const char *url) {
  reg->be = &pg_backend;
  pg_find_secret(reg, url);
  char *err = NULL;
  PQconninfoOption *opts = PQconninfoParse(url, &err);
  if (!opts) {
    char msg[512];
    snprintf(msg, sizeof msg, "%s", err ? err : "out of memory");
    if (err) PQfreemem(err);
    size_t l = strlen(msg);
    while (l > 0 && msg[l - 1] == '\n') msg[--l] = '\0';
    return lf_reg_error(reg, LF_EINVAL,
                        "bad PostgreSQL URL %s: %s; the form is "
                        "postgresql://user:password@host:port/dbname",
                        reg->location, msg);
  }
  PQconninfoFree(opts);
  /* Keywords before "dbname" are defaults; values in the URL override them. */
  const char *const kw[] = {"connect_timeout", "application_name", "dbname", NULL};
  const char *const val[] = {"5", "latflow", url, NULL};
  PGconn *conn = PQconnectdbParams(kw, val, 1);
  if (!conn) return LF_ERROR(LF_ENOMEM, "out of memory connecting to the registry");
  reg->conn = conn;
  if (PQstatus(conn) != CONNECTION_OK) {
    char msg[512];
    snprintf(msg, sizeof msg, "%s", PQerrorMessage(conn));
    /* One line: newlines and tabs become single spaces. */
    char *w = msg;
    for (const char *p = msg; *p; p++) {
      char ch = (*p == '\n' || *p == '\t') ? ' ' : *p;
      if (ch == ' ' && (w == msg || w[-1] == ' ')) continue;
      *w++ = ch;
    }
    while (w > msg && w[-1] == ' ') w--;
    *w = '\0';
    pg_close(reg);
    return lf_reg_error(reg, LF_EDB,
                        "cannot connect to PostgreSQL registry %s (%s); check that the server "
                        "is running and reachable, and the user name and password",
                        reg->location, msg);
  }
  PQsetNoticeProcessor(conn, pg_quiet, NULL);
  return pg_exec(reg, "SET client_min_messages = warning", 0, NULL, NULL);
}
