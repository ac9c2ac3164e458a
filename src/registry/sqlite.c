/*
 * sqlite.c -- the SQLite backend of the registry.
 *
 * A registry file is marked by the SQLite header field application_id = "lflw"
 * (LF_REG_SQLITE_APP_ID). Before anything is written the file is validated read-only:
 * a file without the SQLite magic, a corrupt file, or a database holding other
 * tables without our application_id is refused and left byte-for-byte untouched.
 * After the schema check the database is switched to WAL (readers never block the
 * writer) with a 10 s busy timeout, so several processes can log at once; writes
 * go through BEGIN IMMEDIATE transactions. Reference: https://sqlite.org/wal.html,
 * https://sqlite.org/fileformat.html (header, application_id).
 * Thread contract: one connection per handle, used by one thread at a time.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "internal.h"

#define BUSY_TIMEOUT_MS 10000
#define NCACHE 8

typedef struct {
  sqlite3 *db;
  char *sql[NCACHE]; /* statement cache keyed by (a copy of) the SQL text */
  sqlite3_stmt *st[NCACHE];
  int next;
} sq_conn;

static int sq_status(lf_registry *reg, sqlite3 *db, int rc, const char *what) {
  int prim = rc & 0xff;
  if (prim == SQLITE_NOTADB || prim == SQLITE_CORRUPT)
    return lf_reg_error(reg, LF_EFORMAT,
                        "%s is not a usable latflow registry (%s); nothing was changed. Give "
                        "another --registry path or restore the file from a backup",
                        reg->location, sqlite3_errstr(rc));
  if (prim == SQLITE_BUSY || prim == SQLITE_LOCKED)
    return lf_reg_error(reg, LF_EDB,
                        "%s: the registry %s stayed locked by another process for more than "
                        "%d s; retry, or look for a hung latflow process",
                        what, reg->location, BUSY_TIMEOUT_MS / 1000);
  if (prim == SQLITE_CONSTRAINT)
    return lf_reg_error(reg, LF_EINVAL, "%s: %s", what, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  return lf_reg_error(reg, LF_EDB, "%s on %s failed: %s", what, reg->location,
                      db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

static sqlite3_stmt *sq_prepare(lf_registry *reg, const char *sql, int *rcp) {
  sq_conn *c = reg->conn;
  for (int i = 0; i < NCACHE; i++)
    if (c->sql[i] && !strcmp(c->sql[i], sql)) {
      sqlite3_reset(c->st[i]);
      sqlite3_clear_bindings(c->st[i]);
      *rcp = SQLITE_OK;
      return c->st[i];
    }
  sqlite3_stmt *st = NULL;
  *rcp = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL);
  if (*rcp != SQLITE_OK) return NULL;
  /* Cache only statements that do not change the schema or transaction state. */
  if (!strncmp(sql, "INSERT", 6) || !strncmp(sql, "SELECT", 6) || !strncmp(sql, "UPDATE", 6)) {
    char *copy = lf_reg_strdup(sql);
    if (!copy) return st; /* uncached: finalized after use */
    int k = c->next;
    c->next = (c->next + 1) % NCACHE;
    if (c->st[k]) sqlite3_finalize(c->st[k]);
    lf_free(c->sql[k]);
    c->st[k] = st;
    c->sql[k] = copy;
  }
  return st;
}

static int sq_is_cached(const sq_conn *c, const sqlite3_stmt *st) {
  for (int i = 0; i < NCACHE; i++)
    if (c->st[i] == st) return 1;
  return 0;
}

static int sq_exec(lf_registry *reg, const char *sql, int n, const dbv *v, db_rows *rows) {
  sq_conn *c = reg->conn;
  if (rows) memset(rows, 0, sizeof *rows);
  int rc;
  sqlite3_stmt *st = sq_prepare(reg, sql, &rc);
  if (!st) return sq_status(reg, c->db, rc, "preparing a registry query");
  for (int i = 0; i < n && rc == SQLITE_OK; i++) {
    switch (v[i].type) {
    case DBV_NULL: rc = sqlite3_bind_null(st, i + 1); break;
    case DBV_TEXT: rc = sqlite3_bind_text(st, i + 1, v[i].s, -1, SQLITE_TRANSIENT); break;
    case DBV_INT: rc = sqlite3_bind_int64(st, i + 1, (sqlite3_int64)v[i].i); break;
    case DBV_REAL: rc = sqlite3_bind_double(st, i + 1, v[i].d); break;
    }
  }
  if (rc != SQLITE_OK) {
    int r = sq_status(reg, c->db, rc, "binding a registry query");
    if (!sq_is_cached(c, st)) sqlite3_finalize(st);
    return r;
  }
  int ncols = sqlite3_column_count(st);
  if (rows) rows->ncols = ncols;
  int status = LF_OK;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (!rows) continue;
    for (int j = 0; status == LF_OK && j < ncols; j++) {
      int t = sqlite3_column_type(st, j);
      if (t == SQLITE_FLOAT) { /* 17 digits: doubles round-trip exactly */
        char num[40];
        int len = snprintf(num, sizeof num, "%.17g", sqlite3_column_double(st, j));
        status = db_rows_add(rows, num, (size_t)len);
      } else if (t == SQLITE_NULL) {
        status = db_rows_add(rows, NULL, 0);
      } else {
        const char *txt = (const char *)sqlite3_column_text(st, j);
        status = db_rows_add(rows, txt ? txt : "", (size_t)sqlite3_column_bytes(st, j));
      }
    }
    if (status != LF_OK) break;
    rows->nrows++;
  }
  if (status == LF_OK && rc != SQLITE_DONE) status = sq_status(reg, c->db, rc, "a registry query");
  if (sq_is_cached(c, st)) sqlite3_reset(st);
  else sqlite3_finalize(st);
  if (status != LF_OK && rows) db_rows_free(rows);
  return status;
}

static int sq_begin(lf_registry *reg) { return sq_exec(reg, "BEGIN IMMEDIATE", 0, NULL, NULL); }

static void sq_close(lf_registry *reg) {
  sq_conn *c = reg->conn;
  for (int i = 0; i < NCACHE; i++) {
    if (c->st[i]) sqlite3_finalize(c->st[i]);
    lf_free(c->sql[i]);
  }
  sqlite3_close_v2(c->db);
  lf_free(c);
  reg->conn = NULL;
}

static int sq_ready(lf_registry *reg) {
  sq_conn *c = reg->conn;
  db_rows r;
  memset(&r, 0, sizeof r);
  /* WAL lets readers (runs list, report) work while a run logs. If another process
   * holds a lock at this moment the switch is retried by the next open; not fatal. */
  if (sq_exec(reg, "PRAGMA journal_mode", 0, NULL, &r) == LF_OK) {
    const char *mode = db_cell(&r, 0, 0);
    if (!mode || strcmp(mode, "wal")) sqlite3_exec(c->db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
  }
  db_rows_free(&r);
  sqlite3_exec(c->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
  lf_error_clear();
  return LF_OK;
}

static const db_backend sqlite_backend = {
    "sqlite", sq_exec, sq_begin, sq_close, sq_ready,
    "INTEGER PRIMARY KEY AUTOINCREMENT", "REAL", NULL,
    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?"};

/* Read-only checks before anything is written: magic, readable schema, our application_id. */
static int sq_validate(lf_registry *reg, int *foreign) {
  *foreign = 0;
  db_rows r;
  /* One statement, hence one read transaction: reading the id and the schema in two
   * statements let another process's schema-creating commit land in between (id 0 from
   * before it, 17 tables from after it) and a fresh registry be taken for a foreign one. */
  int rc = sq_exec(reg, "SELECT (SELECT application_id FROM pragma_application_id()), "
                        "(SELECT count(*) FROM sqlite_master)", 0, NULL, &r);
  if (rc != LF_OK) return rc;
  long appid = db_cell(&r, 0, 0) ? strtol(db_cell(&r, 0, 0), NULL, 10) : 0;
  long nobj = db_cell(&r, 0, 1) ? strtol(db_cell(&r, 0, 1), NULL, 10) : 0;
  db_rows_free(&r);
  if (appid == LF_REG_SQLITE_APP_ID) return LF_OK;
  if (appid == 0 && nobj == 0) return LF_OK; /* new or empty database: ours to initialise */
  *foreign = 1;
  return lf_reg_error(reg, LF_EFORMAT,
                      "%s is an SQLite database of another program (application_id %ld, %ld "
                      "schema objects), not a latflow registry; nothing was changed. Give "
                      "--registry a new file name",
                      reg->location, appid, nobj);
}

static int sq_connect(lf_registry *reg, const char *path, int flags) {
  sq_conn *c = lf_alloc(sizeof *c);
  if (!c) return LF_ENOMEM;
  int rc = sqlite3_open_v2(path, &c->db, flags, NULL);
  reg->conn = c;
  if (rc != SQLITE_OK) {
    int r = lf_reg_error(reg, LF_EIO, "cannot open registry %s: %s (check that the directory "
                         "exists and is writable)", reg->location,
                         c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
    sq_close(reg);
    return r;
  }
  sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);
  sqlite3_extended_result_codes(c->db, 0);
  return LF_OK;
}

int lf_reg_sqlite_open(lf_registry *reg, const char *path) {
  reg->be = &sqlite_backend;
  struct stat st;
  int existed = stat(path, &st) == 0;
  if (existed && S_ISDIR(st.st_mode))
    return lf_reg_error(reg, LF_EINVAL, "%s is a directory; give the registry file name, e.g. %s/registry.db",
                        path, path);
  if (existed && st.st_size > 0) {
    /* Check the 16-byte magic ourselves: SQLite would only notice at the first read. */
    char magic[16] = {0};
    FILE *f = fopen(path, "rb");
    if (!f)
      return lf_reg_error(reg, LF_EIO, "cannot read registry %s: %s (check the permissions)", path,
                          strerror(errno));
    size_t got = fread(magic, 1, sizeof magic, f);
    fclose(f);
    if (got < 16 || memcmp(magic, "SQLite format 3", 16) != 0)
      return lf_reg_error(reg, LF_EFORMAT,
                          "%s is not a latflow registry (not an SQLite database file); nothing "
                          "was changed. Give --registry another path",
                          path);
  }
  int rc;
  if (existed && st.st_size > 0) {
    /* Validate through a read-only "immutable" connection first (no locks, no journal or
     * WAL files touched), so even a hot journal of another program's database is left
     * alone. The main file alone is enough: our application_id and our tables reach it
     * in the same checkpoint. */
    char uri[4200];
    size_t o = (size_t)snprintf(uri, sizeof uri, "file:");
    for (const char *p = path; *p && o + 4 < sizeof uri; p++) {
      unsigned char ch = (unsigned char)*p;
      if (ch == '%' || ch == '?' || ch == '#' || ch < 0x20)
        o += (size_t)snprintf(uri + o, sizeof uri - o, "%%%02X", ch);
      else
        uri[o++] = (char)ch;
    }
    snprintf(uri + o, sizeof uri - o, "?immutable=1");
    /* An immutable reader ignores the WAL and takes no locks, so while another process
     * checkpoints a just-created registry it can see new schema pages next to an old
     * header page (tables, application_id 0) and take the file for a foreign one. Such
     * a torn view lasts only for the checkpoint: ask again before refusing; a database
     * of another program keeps its verdict every time. */
    int foreign = 0;
    for (int attempt = 0; attempt < 8; attempt++) {
      if (attempt) {
        struct timespec ts = {0, 25000000L * attempt};
        nanosleep(&ts, NULL);
      }
      foreign = 0;
      rc = sq_connect(reg, uri, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI);
      if (rc == LF_OK) rc = sq_validate(reg, &foreign);
      if (reg->conn) sq_close(reg);
      if (rc == LF_OK || !foreign) break;
    }
    if (rc != LF_OK && foreign) return rc;
    /* Anything else (e.g. a page read while another process checkpoints: immutable
     * readers take no locks) is decided by the locked check below. */
    lf_error_clear();
  }
  LF_CHECK(sq_connect(reg, path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE));
  sq_conn *c = reg->conn;
  int foreign;
  rc = sq_validate(reg, &foreign);
  if (rc == LF_OK) sqlite3_exec(c->db, "PRAGMA foreign_keys=ON", NULL, NULL, NULL);
  if (rc != LF_OK) sq_close(reg);
  return rc;
}
