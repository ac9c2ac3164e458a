/*
 * registry.c -- opening and closing a registry (backend choice from the location),
 * URL redaction, transactions, and small string helpers shared by the module.
 *
 * Where the registry lives: argument, else $LATFLOW_REGISTRY, else
 * ~/.latflow/registry.db (docs/registry.md). A "postgresql://" or "postgres://" URL
 * selects libpq, anything else is a SQLite file ("sqlite:" prefix optional).
 * Thread contract: a registry handle is used by one thread at a time.
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <unistd.h>

#include "internal.h"

/* ---------------------------------------------------------------- names */
static const char *const status_names[] = {"RUNNING", "FINISHED", "FAILED", "KILLED"};
static const char *const kind_names[] = {"model", "config", "ensemble", "report"};

const char *lf_run_status_name(lf_run_status s) {
  return (unsigned)s < 4u ? status_names[s] : "UNKNOWN";
}

int lf_run_status_parse(const char *name, lf_run_status *s) {
  for (int i = 0; name && i < 4; i++)
    if (!strcasecmp(name, status_names[i])) {
      *s = (lf_run_status)i;
      return LF_OK;
    }
  return LF_ERROR(LF_EINVAL, "unknown run status '%s'; use RUNNING, FINISHED, FAILED or KILLED",
                  name ? name : "(null)");
}

const char *lf_artifact_kind_name(lf_artifact_kind k) {
  return (unsigned)k < 4u ? kind_names[k] : "unknown";
}

int lf_artifact_kind_parse(const char *name, lf_artifact_kind *k) {
  for (int i = 0; name && i < 4; i++)
    if (!strcasecmp(name, kind_names[i])) {
      *k = (lf_artifact_kind)i;
      return LF_OK;
    }
  return LF_ERROR(LF_EINVAL, "unknown artifact kind '%s'; use model, config, ensemble or report",
                  name ? name : "(null)");
}

/* ---------------------------------------------------------------- helpers */
int64_t lf_reg_now_ms(void) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  return (int64_t)tv.tv_sec * 1000 + (int64_t)(tv.tv_usec / 1000);
}

void lf_reg_hostname(char *out, size_t cap) {
  if (gethostname(out, cap) != 0) snprintf(out, cap, "unknown");
  out[cap - 1] = '\0';
}

char *lf_reg_strdup(const char *s) {
  if (!s) s = "";
  size_t n = strlen(s);
  char *p = lf_alloc(n + 1);
  if (p) memcpy(p, s, n + 1);
  return p;
}

const char *db_cell(const db_rows *r, int row, int col) {
  if (!r || row < 0 || row >= r->nrows || col < 0 || col >= r->ncols) return NULL;
  size_t o = r->off[(size_t)row * (size_t)r->ncols + (size_t)col];
  return o ? r->text + o - 1 : NULL;
}

/* Grow an lf_alloc'ed buffer to hold at least `need` elements of `size` bytes. */
static int grow(void **p, size_t *cap, size_t need, size_t size) {
  if (need <= *cap) return LF_OK;
  size_t ncap = *cap ? *cap : 64;
  while (ncap < need) ncap *= 2;
  void *np = lf_alloc(ncap * size);
  if (!np) return LF_ERROR(LF_ENOMEM, "out of memory reading the registry");
  if (*p) memcpy(np, *p, *cap * size);
  lf_free(*p);
  *p = np;
  *cap = ncap;
  return LF_OK;
}

int db_rows_add(db_rows *r, const char *s, size_t len) {
  LF_CHECK(grow((void **)&r->off, &r->cellcap, r->ncells + 1, sizeof *r->off));
  if (!s) {
    r->off[r->ncells++] = 0;
    return LF_OK;
  }
  LF_CHECK(grow((void **)&r->text, &r->tcap, r->tlen + len + 1, 1));
  memcpy(r->text + r->tlen, s, len);
  r->text[r->tlen + len] = '\0';
  r->off[r->ncells++] = r->tlen + 1;
  r->tlen += len + 1;
  return LF_OK;
}

void db_rows_free(db_rows *r) {
  if (!r) return;
  lf_free(r->off);
  lf_free(r->text);
  memset(r, 0, sizeof *r);
}

/* ---------------------------------------------------------------- growable strings */
static void sb_reserve(lf_sbuf *b, size_t extra) {
  if (b->oom) return;
  if (b->len + extra + 1 <= b->cap) return;
  size_t cap = b->cap ? b->cap : 4096;
  while (cap < b->len + extra + 1) cap *= 2;
  char *p = lf_alloc(cap);
  if (!p) {
    b->oom = 1;
    return;
  }
  if (b->p) memcpy(p, b->p, b->len + 1);
  lf_free(b->p);
  b->p = p;
  b->cap = cap;
}

void lf_sb_putn(lf_sbuf *b, const char *s, size_t n) {
  sb_reserve(b, n);
  if (b->oom) return;
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

void lf_sb_put(lf_sbuf *b, const char *s) { lf_sb_putn(b, s, strlen(s)); }

void lf_sb_printf(lf_sbuf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  sb_reserve(b, (size_t)n);
  if (b->oom) return;
  va_start(ap, fmt);
  vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

void lf_sb_html(lf_sbuf *b, const char *s) {
  if (!s) return;
  for (const char *p = s; *p; p++) {
    switch (*p) {
    case '&': lf_sb_put(b, "&amp;"); break;
    case '<': lf_sb_put(b, "&lt;"); break;
    case '>': lf_sb_put(b, "&gt;"); break;
    case '"': lf_sb_put(b, "&quot;"); break;
    case '\'': lf_sb_put(b, "&#39;"); break;
    default: lf_sb_putn(b, p, 1);
    }
  }
}

void lf_sb_free(lf_sbuf *b) {
  lf_free(b->p);
  b->p = NULL;
  b->len = b->cap = 0;
}

/* ---------------------------------------------------------------- secrets */
static void scrub_one(const char *secret, char *msg, size_t cap) {
  size_t sl = strlen(secret);
  if (sl == 0) return;
  char *hit;
  while ((hit = strstr(msg, secret)) != NULL) {
    size_t tail = strlen(hit + sl);
    if (3 + tail + (size_t)(hit - msg) + 1 > cap) { /* no room: cut the message */
      memcpy(hit, "***", cap - (size_t)(hit - msg) > 3 ? 4 : 1);
      msg[cap - 1] = '\0';
      if (strlen(msg) < (size_t)(hit - msg) + 3) *hit = '\0';
      return;
    }
    memmove(hit + 3, hit + sl, tail + 1);
    memcpy(hit, "***", 3);
  }
}

void lf_reg_scrub(const lf_registry *reg, char *msg, size_t cap) {
  if (!reg) return;
  for (int i = 0; i < 2; i++) scrub_one(reg->secret[i], msg, cap);
}

int lf_reg_error_at(const lf_registry *reg, int code, const char *file, int line, const char *fmt,
                    ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  lf_reg_scrub(reg, msg, sizeof msg);
  return lf_error_set(code, file, line, "%s", msg);
}

/* Mask "password=VALUE" (VALUE up to '&', whitespace or end). */
static void mask_password_kw(char *s, size_t cap) {
  char *p = s;
  while ((p = strstr(p, "password=")) != NULL) {
    char *v = p + 9;
    char *e = v;
    while (*e && *e != '&' && *e != ' ' && *e != '\t') e++;
    size_t tail = strlen(e);
    if ((size_t)(v - s) + 3 + tail + 1 > cap) {
      *v = '\0';
      return;
    }
    memmove(v + 3, e, tail + 1);
    memcpy(v, "***", 3);
    p = v + 3;
  }
}

void lf_registry_redact_url(const char *url, char *out, size_t cap) {
  if (!out || cap == 0) return;
  out[0] = '\0';
  if (!url) return;
  char buf[2048];
  snprintf(buf, sizeof buf, "%s", url);
  char *auth = strstr(buf, "://");
  if (auth) {
    auth += 3;
    char *q = strchr(auth, '?');
    char *end = q ? q : auth + strlen(auth);
    char *at = NULL;
    for (char *c = auth; c < end; c++)
      if (*c == '@') at = c; /* last '@' of the authority ends the user info */
    if (at) {
      char *colon = memchr(auth, ':', (size_t)(at - auth));
      if (colon) {
        size_t tail = strlen(at);
        memmove(colon + 4, at, tail + 1);
        memcpy(colon + 1, "***", 3);
      }
    }
  }
  mask_password_kw(buf, sizeof buf);
  snprintf(out, cap, "%s", buf);
}

/* ---------------------------------------------------------------- transactions */
int lf_reg_exec(lf_registry *reg, const char *sql, int n, const dbv *v, db_rows *rows) {
  if (rows) memset(rows, 0, sizeof *rows);
  return reg->be->exec(reg, sql, n, v, rows);
}

int lf_reg_begin(lf_registry *reg) {
  int rc = reg->be->begin(reg);
  if (rc == LF_OK) reg->in_tx = 1;
  return rc;
}

int lf_reg_commit(lf_registry *reg) {
  int rc = reg->be->exec(reg, "COMMIT", 0, NULL, NULL);
  if (rc != LF_OK) lf_reg_rollback(reg);
  reg->in_tx = 0;
  return rc;
}

void lf_reg_rollback(lf_registry *reg) {
  if (!reg->in_tx) return;
  char saved[1024];
  int code = lf_last_error_code();
  snprintf(saved, sizeof saved, "%s", lf_last_error());
  int rc = reg->be->exec(reg, "ROLLBACK", 0, NULL, NULL);
  reg->in_tx = 0;
  if (rc != LF_OK && code != LF_OK) lf_error_set(code, __FILE__, __LINE__, "%s", saved); /* keep the cause */
}

/* ---------------------------------------------------------------- open / close */
static int is_pg_url(const char *s) {
  return !strncmp(s, "postgresql://", 13) || !strncmp(s, "postgres://", 11);
}

int lf_registry_open(lf_registry **out, const char *url_or_path) {
  if (!out) return LF_ERROR(LF_EINVAL, "lf_registry_open: NULL result pointer");
  *out = NULL;
  const char *loc = url_or_path;
  if (!loc || !*loc) loc = getenv("LATFLOW_REGISTRY");
  char def[4096];
  if (!loc || !*loc) {
    const char *home = getenv("HOME");
    if (!home || !*home)
      return LF_ERROR(LF_EINVAL, "no registry location: HOME is not set; give --registry PATH or "
                                 "set LATFLOW_REGISTRY");
    snprintf(def, sizeof def, "%s/.latflow", home);
    LF_CHECK(lf_mkdir_p(def));
    snprintf(def, sizeof def, "%s/.latflow/registry.db", home);
    loc = def;
  }
  lf_registry *reg = lf_alloc(sizeof *reg);
  if (!reg) return LF_ENOMEM;
  lf_registry_redact_url(loc, reg->location, sizeof reg->location);
  int rc;
  if (is_pg_url(loc)) {
    rc = lf_reg_pg_open(reg, loc);
  } else {
    const char *path = loc;
    if (!strncmp(path, "sqlite://", 9)) path += 9;
    else if (!strncmp(path, "sqlite:", 7)) path += 7;
    if (!*path) {
      lf_free(reg);
      return LF_ERROR(LF_EINVAL, "empty registry path; give a file name such as runs.db");
    }
    rc = lf_reg_sqlite_open(reg, path);
  }
  if (rc == LF_OK) rc = lf_reg_schema_apply(reg);
  if (rc == LF_OK && reg->be->ready) rc = reg->be->ready(reg);
  if (rc != LF_OK) { /* the backends' messages name the (redacted) location */
    lf_registry_close(reg);
    return rc;
  }
  *out = reg;
  return LF_OK;
}

void lf_registry_close(lf_registry *reg) {
  if (!reg) return;
  if (reg->be && reg->conn) reg->be->close(reg);
  memset(reg->secret, 0, sizeof reg->secret);
  lf_free(reg);
}

const char *lf_registry_backend(const lf_registry *reg) { return reg->be->name; }
const char *lf_registry_location(const lf_registry *reg) { return reg->location; }
int lf_registry_schema_version(const lf_registry *reg) { return reg->schema_version; }
