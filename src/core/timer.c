/*
 * timer.c -- monotonic clock and a terminal progress bar.
 *
 * The progress bar draws on stderr only when stderr is a terminal (or when the
 * environment sets LATFLOW_PROGRESS=1), at most 10 times per second, so logs and CI
 * output stay clean. This is the one place in the library that writes to a stream,
 * and only because the application asked for a bar.
 */
#define _POSIX_C_SOURCE 200809L
#include "latflow/core.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

double lf_time_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double lf_cpu_time(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)) return 0.0;
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void lf_progress_init(lf_progress *p, long total, const char *label) {
  memset(p, 0, sizeof *p);
  p->total = total;
  p->t0 = lf_time_now();
  const char *env = getenv("LATFLOW_PROGRESS");
  if (env && *env)
    p->enabled = atoi(env) != 0;
  else
    p->enabled = isatty(STDERR_FILENO);
  snprintf(p->label, sizeof p->label, "%s", label ? label : "");
}

void lf_progress_note(lf_progress *p, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(p->extra, sizeof p->extra, fmt, ap);
  va_end(ap);
}

static void draw(lf_progress *p, double now) {
  const int width = 30;
  double frac = p->total > 0 ? (double)p->done / (double)p->total : 0.0;
  if (frac > 1.0) frac = 1.0;
  int fill = (int)(frac * width);
  char bar[64];
  for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : '.';
  bar[width] = '\0';
  double el = now - p->t0;
  double eta = frac > 0 ? el * (1.0 - frac) / frac : 0.0;
  fprintf(stderr, "\r%-10s [%s] %ld/%ld %5.1fs eta %5.1fs %s\033[K", p->label, bar, p->done,
          p->total, el, eta, p->extra);
  fflush(stderr);
}

void lf_progress_update(lf_progress *p, long done) {
  p->done = done;
  if (!p->enabled) return;
  double now = lf_time_now();
  if (now - p->last_draw < 0.1 && done < p->total) return;
  p->last_draw = now;
  draw(p, now);
}

void lf_progress_finish(lf_progress *p) {
  if (!p->enabled) return;
  draw(p, lf_time_now());
  fputc('\n', stderr);
}
