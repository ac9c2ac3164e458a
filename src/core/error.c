/*
 * error.c -- status codes and the thread-local error record (LF_ERROR).
 *
 * One place records every failure (set a breakpoint on lf_error_set), in the style of
 * GSL's GSL_ERROR and SQLite's sqlite3_errmsg. Thread contract: the record is
 * thread-local, so OpenMP threads never race on it.
 */
#include "latflow/core.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LF_ERRMSG_MAX 1024

static _Thread_local char errmsg[LF_ERRMSG_MAX];
static _Thread_local int errcode;

const char *lf_strerror(int code) {
  switch (code) {
  case LF_OK: return "success";
  case LF_EINVAL: return "invalid argument";
  case LF_ENOMEM: return "out of memory";
  case LF_EIO: return "input/output error";
  case LF_EFORMAT: return "malformed file";
  case LF_ECHECKSUM: return "checksum mismatch";
  case LF_ENOCONV: return "no convergence";
  case LF_ENAN: return "NaN or infinity";
  case LF_EUNSUP: return "not supported";
  case LF_ESTATE: return "inconsistent state";
  case LF_EINTR: return "interrupted";
  case LF_EDB: return "database error";
  case LF_EMPI: return "communication error";
  case LF_ERANGE: return "out of range";
  default: return "unknown error";
  }
}

const char *lf_last_error(void) { return errmsg; }
int lf_last_error_code(void) { return errcode; }

void lf_error_clear(void) {
  errmsg[0] = '\0';
  errcode = LF_OK;
}

int lf_error_set(int code, const char *file, int line, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(errmsg, sizeof errmsg, fmt, ap);
  va_end(ap);
  (void)file;
  (void)line;
#ifndef NDEBUG
  /* Debug builds append where the error was raised. */
  size_t n = strlen(errmsg);
  const char *base = strrchr(file, '/');
  snprintf(errmsg + n, sizeof errmsg - n, " [%s:%d]", base ? base + 1 : file, line);
#endif
  errcode = code;
  return code;
}

int lf_error_context(int code, const char *fmt, ...) {
  char prefix[512], old[LF_ERRMSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(prefix, sizeof prefix, fmt, ap);
  va_end(ap);
  memcpy(old, errmsg, sizeof old);
  size_t k = strlen(prefix);
  memcpy(errmsg, prefix, k);
  errmsg[k] = ':';
  errmsg[k + 1] = ' ';
  size_t room = sizeof errmsg - k - 3;
  size_t m = strlen(old);
  if (m > room) m = room;
  memcpy(errmsg + k + 2, old, m);
  errmsg[k + 2 + m] = '\0';
  errcode = code;
  return code;
}

#ifndef NDEBUG
void lf_assert_fail(const char *expr, const char *file, int line) {
  /* A broken precondition is a programmer error: stop loudly in debug builds. */
  fprintf(stderr, "latflow: internal assertion failed: %s (%s:%d)\n", expr, file, line);
  abort();
}
#endif
