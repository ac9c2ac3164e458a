/*
 * src/registry/internal.h -- private pieces of the registry: the backend table (SQLite,
 * PostgreSQL), parameter/row types, string helpers shared by the .c files.
 *
 * SQL in this module is written once with '?' placeholders; the PostgreSQL backend
 * rewrites them to $1, $2, ... All user text travels as bound parameters.
 */
#ifndef LATFLOW_REGISTRY_INTERNAL_H
#define LATFLOW_REGISTRY_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "latflow/core.h"
#include "latflow/registry.h"

/* A bound parameter. */
typedef enum { DBV_NULL = 0, DBV_TEXT, DBV_INT, DBV_REAL } dbv_type;
typedef struct {
  dbv_type type;
  const char *s;
  int64_t i;
  double d;
} dbv;
static inline dbv dbv_text(const char *s) { return (dbv){s ? DBV_TEXT : DBV_NULL, s, 0, 0.0}; }
static inline dbv dbv_int(int64_t i) { return (dbv){DBV_INT, NULL, i, 0.0}; }
static inline dbv dbv_real(double d) { return (dbv){DBV_REAL, NULL, 0, d}; }

/* Result rows as text (NULL cell = SQL NULL); doubles keep 17 significant digits. */
typedef struct {
  int nrows, ncols;
  size_t *off; /* per cell, row-major: 0 = SQL NULL, else 1 + offset of its text */
  size_t ncells, cellcap;
  char *text; /* all cell texts, NUL-terminated, one allocation */
  size_t tlen, tcap;
} db_rows;
const char *db_cell(const db_rows *r, int row, int col);
/* Append one cell (s NULL = SQL NULL); the backend bumps nrows after each row. */
int db_rows_add(db_rows *r, const char *s, size_t len);
void db_rows_free(db_rows *r);

typedef struct {
  const char *name; /* "sqlite" / "postgresql" */
  /* Run one statement; rows (may be NULL) receive the result set. */
  int (*exec)(lf_registry *reg, const char *sql, int n, const dbv *v, db_rows *rows);
  /* Start a write transaction (SQLite: BEGIN IMMEDIATE). */
  int (*begin)(lf_registry *reg);
  void (*close)(lf_registry *reg);
  /* Called once the schema is known good (SQLite: switch to WAL). May be NULL. */
  int (*ready)(lf_registry *reg);
  /* SQL dialect bits for the schema. */
  const char *autoid; /* "INTEGER PRIMARY KEY AUTOINCREMENT" / "BIGSERIAL PRIMARY KEY" */
  const char *real;   /* "REAL" / "DOUBLE PRECISION" */
  const char *schema_lock; /* statement serialising migrations inside the transaction */
  const char *table_exists; /* SELECT count(*) ... with one '?' = table name */
} db_backend;

struct lf_registry {
  const db_backend *be;
  void *conn;         /* sqlite3* or PGconn* */
  char location[1024]; /* redacted */
  char secret[2][256]; /* password from the URL (raw, decoded), scrubbed from messages */
  int schema_version;
  int in_tx;
  int nruns_open;
};

#define LF_METRIC_BUFFER 512
typedef struct {
  char key[128];
  long step;
  int64_t t_ms;
  double value;
} metric_buf;

struct lf_run {
  lf_registry *reg;
  char id[37];
  int64_t last_beat_ms;
  int nbuf;
  metric_buf buf[LF_METRIC_BUFFER];
};

/* SQLite header field application_id of a latflow registry ("lflw"). */
#define LF_REG_SQLITE_APP_ID 0x6c666c77

/* backends */
int lf_reg_sqlite_open(lf_registry *reg, const char *path);
int lf_reg_pg_open(lf_registry *reg, const char *url);
/* schema.c: create or migrate; refuses newer versions. */
int lf_reg_schema_apply(lf_registry *reg);

/* helpers (registry.c) */
int64_t lf_reg_now_ms(void);
int lf_reg_exec(lf_registry *reg, const char *sql, int n, const dbv *v, db_rows *rows);
int lf_reg_begin(lf_registry *reg);
int lf_reg_commit(lf_registry *reg);
void lf_reg_rollback(lf_registry *reg);
/* Replace every occurrence of the URL password in msg (in place) with "***". */
void lf_reg_scrub(const lf_registry *reg, char *msg, size_t cap);
/* LF_ERROR with the message scrubbed of the password. */
int lf_reg_error_at(const lf_registry *reg, int code, const char *file, int line, const char *fmt,
                    ...) __attribute__((format(printf, 5, 6)));
#define lf_reg_error(reg, code, ...) lf_reg_error_at((reg), (code), __FILE__, __LINE__, __VA_ARGS__)
char *lf_reg_strdup(const char *s); /* lf_alloc'ed; NULL -> "" */
void lf_reg_hostname(char *out, size_t cap);

/* A growable string for HTML / SQL building (lf_alloc'ed). */
typedef struct {
  char *p;
  size_t len, cap;
  int oom;
} lf_sbuf;
void lf_sb_put(lf_sbuf *b, const char *s);
void lf_sb_putn(lf_sbuf *b, const char *s, size_t n);
void lf_sb_printf(lf_sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void lf_sb_html(lf_sbuf *b, const char *s); /* HTML-escaped (& < > " ') */
void lf_sb_free(lf_sbuf *b);

/* SVG plot helpers of the HTML reports (report.c; compare.c draws with them too). */
#define PLOT_W 560
#define PLOT_H 320
#define MARGIN_L 70
#define MARGIN_R 20
#define MARGIN_T 36
#define MARGIN_B 44
typedef struct {
  double x0, x1, y0, y1;
} lf_plot_box;
extern const char *const lf_report_css;
/* [lo, hi] of the finite values (a small interval around a constant). */
void lf_report_range(const double *v, size_t n, double *lo, double *hi);
/* Frame, grid, ticks, title and axis labels (escaped) / the closing tags. */
void lf_report_svg_open(lf_sbuf *b, const char *title, const char *xlabel, const char *ylabel,
                        const lf_plot_box *bx);
void lf_report_svg_close(lf_sbuf *b);
double lf_report_px(const lf_plot_box *b, double x); /* data -> SVG coordinates */
double lf_report_py(const lf_plot_box *b, double y);
void lf_report_fmt_time(double t, char *out, size_t cap); /* "2026-11-22 05:00:00 UTC" */

#endif
