/*
 * compare.c -- an HTML comparison of several runs (docs/registry.md, "Comparing runs"):
 * for each metric key held by at least two of the runs, all runs' curves in one SVG plot
 * against step, one against wall-clock seconds since each run's start and, where the runs
 * log a "cpu_seconds" metric (latflow train does), one against CPU seconds; a legend
 * and a table of the runs' commands, parameters and final values. Same plot helpers,
 * style and security policy as the single-run report (report.c): no scripts, no network.
 * Smoothing: trailing mean over the last `smooth` points of a series (in step order).
 * Thread contract: reentrant.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const char *const COLORS[LF_COMPARE_MAX] = {"#1f5fbf", "#c0392b", "#2f8f4f", "#8e44ad",
                                                   "#d68910", "#17a589", "#5d6d7e", "#a04000"};

/* The series of `key` in rec: index range [*i0, *i1) of its metrics (metrics are ordered
 * by key, then step); 0 if absent. */
static int find_key(const lf_run_record *rec, const char *key, size_t *i0, size_t *i1) {
  size_t i = 0;
  while (i < rec->nmetrics && strcmp(rec->metrics[i].key, key)) i++;
  if (i == rec->nmetrics) return 0;
  size_t j = i;
  while (j < rec->nmetrics && !strcmp(rec->metrics[j].key, key)) j++;
  *i0 = i, *i1 = j;
  return 1;
}

enum { X_STEP, X_WALL, X_CPU };
#define CPU_KEY "cpu_seconds"

/* x (step, seconds since start, or the run's cpu_seconds metric at the same step: NaN
 * where it has none) and trailing-mean y of one run's series; returns n. */
static size_t series(const lf_run_record *rec, size_t i0, size_t i1, int xkind, int smooth,
                     double *x, double *y) {
  size_t n = 0;
  double acc = 0;
  size_t nacc = 0, first = i0, c0 = 0, c1 = 0, c = 0;
  if (xkind == X_CPU) find_key(rec, CPU_KEY, &c0, &c1), c = c0;
  for (size_t k = i0; k < i1; k++) {
    const lf_metric *m = &rec->metrics[k];
    if (xkind == X_CPU) { /* both series in step order: merge */
      while (c < c1 && rec->metrics[c].step < m->step) c++;
      x[n] = c < c1 && rec->metrics[c].step == m->step ? rec->metrics[c].value : (double)NAN;
    } else {
      x[n] = xkind == X_WALL ? m->time - rec->info.start_time : (double)m->step;
    }
    if (smooth <= 1) {
      y[n++] = m->value;
      continue;
    }
    if (isfinite(m->value)) acc += m->value, nacc++;
    if (k - first + 1 > (size_t)smooth) { /* drop the point that left the window */
      double old = rec->metrics[first].value;
      if (isfinite(old)) acc -= old, nacc--;
      first++;
    }
    y[n++] = nacc ? acc / (double)nacc : (double)NAN;
  }
  return n;
}

static void plot_multi(lf_sbuf *b, const char *title, const char *xlabel, const char *ylabel,
                       double *const *x, double *const *y, const size_t *n, const int *run,
                       int ns) {
  lf_plot_box bx = {INFINITY, -INFINITY, INFINITY, -INFINITY};
  for (int s = 0; s < ns; s++) {
    double lo, hi;
    lf_report_range(x[s], n[s], &lo, &hi);
    bx.x0 = fmin(bx.x0, lo), bx.x1 = fmax(bx.x1, hi);
    lf_report_range(y[s], n[s], &lo, &hi);
    bx.y0 = fmin(bx.y0, lo), bx.y1 = fmax(bx.y1, hi);
  }
  double pad = 0.05 * (bx.y1 - bx.y0);
  bx.y0 -= pad, bx.y1 += pad;
  lf_report_svg_open(b, title, xlabel, ylabel, &bx);
  for (int s = 0; s < ns; s++) {
    size_t stride = n[s] > 2000 ? (n[s] + 1999) / 2000 : 1;
    lf_sb_printf(b, "<polyline fill=\"none\" stroke-width=\"1.5\" stroke=\"%s\" points=\"",
                 COLORS[run[s]]);
    for (size_t i = 0; i < n[s]; i += stride)
      if (isfinite(x[s][i]) && isfinite(y[s][i]))
        lf_sb_printf(b, "%.1f,%.1f ", lf_report_px(&bx, x[s][i]), lf_report_py(&bx, y[s][i]));
    lf_sb_put(b, "\"/>");
  }
  lf_report_svg_close(b);
}

static int render(lf_sbuf *b, const lf_run_record *rec, int nr, const lf_compare_opts *o) {
  char title[128];
  if (o && o->title) snprintf(title, sizeof title, "%s", o->title);
  else snprintf(title, sizeof title, "comparison of %d runs", nr);
  const int smooth = o && o->smooth > 1 ? o->smooth : 1;
  lf_sb_put(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
               "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
               "style-src 'unsafe-inline'; img-src data:\"><title>latflow: ");
  lf_sb_html(b, title);
  lf_sb_printf(b, "</title><style>%s.sw{display:inline-block;width:22px;height:4px;"
                  "vertical-align:middle}</style></head><body>\n<header><h1>latflow: ",
               lf_report_css);
  lf_sb_html(b, title);
  lf_sb_put(b, "</h1><p>");
  for (int r = 0; r < nr; r++) {
    lf_sb_printf(b, "%s<span class=\"sw\" style=\"background:%s\"></span> ", r ? " &middot; " : "",
                 COLORS[r]);
    lf_sb_html(b, *rec[r].info.name ? rec[r].info.name : rec[r].info.id);
  }
  if (smooth > 1) lf_sb_printf(b, " &middot; trailing mean over %d points", smooth);
  lf_sb_put(b, "</p></header>\n<section class=\"plots\" id=\"plots\">\n");
  size_t maxn = 1;
  for (int r = 0; r < nr; r++) maxn = rec[r].nmetrics > maxn ? rec[r].nmetrics : maxn;
  double *buf = lf_alloc(2 * (size_t)nr * maxn * sizeof(double));
  if (!buf) return LF_ERROR(LF_ENOMEM, "out of memory rendering the comparison");
  int nplots = 0;
  /* keys in order of first appearance, run 0 first; a key is drawn once */
  for (int r0 = 0; r0 < nr; r0++)
    for (size_t i = 0; i < rec[r0].nmetrics;) {
      const char *key = rec[r0].metrics[i].key;
      size_t a = 0, z = i + 1;
      find_key(&rec[r0], key, &a, &z);
      i = z;
      int seen_before = 0;
      for (int q = 0; q < r0 && !seen_before; q++) seen_before = find_key(&rec[q], key, &a, &z);
      if (seen_before) continue;
      double *x[LF_COMPARE_MAX], *y[LF_COMPARE_MAX];
      size_t n[LF_COMPARE_MAX];
      int run[LF_COMPARE_MAX], ns = 0;
      static const char *const xname[3] = {"step", "wall-clock time", "CPU time"};
      static const char *const xlabel[3] = {"step", "seconds since the run started",
                                            "CPU seconds (" CPU_KEY ")"};
      for (int xk = X_STEP; xk <= X_CPU; xk++) {
        if (xk == X_CPU && !strcmp(key, CPU_KEY)) break;
        ns = 0;
        for (int r = 0; r < nr; r++) {
          size_t c0, c1;
          if (!find_key(&rec[r], key, &a, &z) || z - a < 2) continue;
          if (xk == X_CPU && !find_key(&rec[r], CPU_KEY, &c0, &c1)) continue;
          x[ns] = buf + (size_t)(2 * r) * maxn, y[ns] = x[ns] + maxn;
          n[ns] = series(&rec[r], a, z, xk, smooth, x[ns], y[ns]);
          run[ns++] = r;
        }
        if (ns < 2) break;
        char t[200];
        snprintf(t, sizeof t, "%s against %s", key, xname[xk]);
        plot_multi(b, t, xlabel[xk], key, x, y, n, run, ns);
        nplots++;
      }
    }
  lf_free(buf);
  if (nplots == 0) lf_sb_put(b, "<p class=\"none\">the runs share no metric with two or more values</p>\n");
  lf_sb_put(b, "</section>\n<h2>Runs</h2>\n<table><tr><th></th><th>name</th><th>id</th>"
               "<th>command</th><th>status</th><th>start</th><th>parameters</th>"
               "<th>final values</th></tr>\n");
  for (int r = 0; r < nr; r++) {
    const lf_run_info *ri = &rec[r].info;
    char t0[64];
    lf_report_fmt_time(ri->start_time, t0, sizeof t0);
    lf_sb_printf(b, "<tr><td><span class=\"sw\" style=\"background:%s\"></span></td><td>", COLORS[r]);
    lf_sb_html(b, ri->name);
    lf_sb_put(b, "</td><td><code>");
    lf_sb_html(b, ri->id);
    lf_sb_put(b, "</code></td><td>");
    lf_sb_html(b, ri->command);
    lf_sb_put(b, "</td><td>");
    lf_sb_html(b, ri->stale ? "KILLED (stale)" : lf_run_status_name(ri->status));
    lf_sb_put(b, "</td><td>");
    lf_sb_html(b, t0);
    lf_sb_put(b, "</td><td>");
    for (size_t k = 0; k < rec[r].nparams; k++) {
      lf_sb_html(b, rec[r].params[k].key);
      lf_sb_put(b, "=");
      lf_sb_html(b, rec[r].params[k].value);
      lf_sb_put(b, "<br>");
    }
    lf_sb_put(b, "</td><td>");
    for (size_t i = 0; i < rec[r].nmetrics;) {
      size_t a = 0, z = i + 1;
      find_key(&rec[r], rec[r].metrics[i].key, &a, &z);
      lf_sb_html(b, rec[r].metrics[z - 1].key);
      lf_sb_printf(b, " = %.6g (step %ld)<br>", rec[r].metrics[z - 1].value, rec[r].metrics[z - 1].step);
      i = z;
    }
    lf_sb_put(b, "</td></tr>\n");
  }
  lf_sb_put(b, "</table>\n<p class=\"none\">Generated by latflow ");
  lf_sb_html(b, lf_version());
  lf_sb_put(b, ".</p>\n</body></html>\n");
  return b->oom ? LF_ERROR(LF_ENOMEM, "out of memory rendering the comparison") : LF_OK;
}

int lf_registry_compare(lf_registry *reg, const char *const *ids, int nids, const char *path,
                        const lf_compare_opts *opts) {
  if (!reg || !ids || !path) return LF_ERROR(LF_EINVAL, "lf_registry_compare: NULL argument");
  if (nids < 2 || nids > LF_COMPARE_MAX)
    return LF_ERROR(LF_EINVAL, "a comparison needs 2 to %d runs (got %d)", LF_COMPARE_MAX, nids);
  lf_run_record rec[LF_COMPARE_MAX];
  int nl = 0, rc = LF_OK;
  for (; nl < nids && !rc; nl++) {
    rc = lf_registry_load(reg, ids[nl], 0, &rec[nl]);
    if (rc) lf_error_context(rc, "run %s", ids[nl]);
  }
  if (rc) nl--;
  lf_sbuf b = {0};
  if (!rc) rc = render(&b, rec, nids, opts);
  for (int r = 0; r < nl; r++) lf_run_record_free(&rec[r]);
  if (!rc) rc = lf_write_file_atomic(path, b.p, b.len);
  lf_sb_free(&b);
  return rc;
}
