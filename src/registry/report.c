/*
 * report.c -- one self-contained HTML report of a run (docs/registry.md, "Report").
 *
 * No network access and no scripts: CSS inline, plots as inline SVG drawn here. Every
 * metric key gets a line plot against step; a histogram of one metric on request; the
 * normalised autocorrelation function rho(t) = Gamma(t)/Gamma(0) of plaquette and
 * topological-charge histories, with tau_int = 1/2 + sum_{t=1}^{W} rho(t) summed up to
 * the first W with W >= 6 tau_int(W) (Madras and Sokal, J. Stat. Phys. 50 (1988) 109;
 * automatic window as in Wolff, hep-lat/0306017, section 3.3). Tables list params,
 * tags, final values and artifacts. All user text goes through lf_sb_html.
 * Layout contract (used by tests/registry/report_browser.c): a 80 px header, then the
 * plots as a grid of PLOT_W x PLOT_H cells, two per row, before any table.
 * Thread contract: reentrant.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

#define MAX_POINTS 4000
#define ACF_MAX_LAG 200
#define ACF_WINDOW_C 6.0

void lf_report_fmt_time(double t, char *out, size_t cap) {
  if (t <= 0) {
    snprintf(out, cap, "-");
    return;
  }
  time_t s = (time_t)t;
  struct tm tm;
  gmtime_r(&s, &tm);
  strftime(out, cap, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

/* "Nice" tick spacing (1, 2, 5 x 10^k) for about `want` ticks over [lo, hi]. */
static double tick_step(double lo, double hi, int want) {
  double raw = (hi - lo) / want;
  if (!(raw > 0)) return 1.0;
  double p = pow(10.0, floor(log10(raw)));
  double m = raw / p;
  return (m < 1.5 ? 1.0 : m < 3.5 ? 2.0 : m < 7.5 ? 5.0 : 10.0) * p;
}

typedef lf_plot_box box;

static double px(const box *b, double x) {
  return MARGIN_L + (x - b->x0) / (b->x1 - b->x0) * (PLOT_W - MARGIN_L - MARGIN_R);
}
static double py(const box *b, double y) {
  return PLOT_H - MARGIN_B - (y - b->y0) / (b->y1 - b->y0) * (PLOT_H - MARGIN_T - MARGIN_B);
}

void lf_report_range(const double *v, size_t n, double *lo, double *hi) {
  *lo = INFINITY;
  *hi = -INFINITY;
  for (size_t i = 0; i < n; i++)
    if (isfinite(v[i])) {
      if (v[i] < *lo) *lo = v[i];
      if (v[i] > *hi) *hi = v[i];
    }
  if (!isfinite(*lo)) *lo = 0, *hi = 1;
  if (*hi - *lo <= 1e-12 * (fabs(*lo) + fabs(*hi)) || *hi == *lo) {
    double d = fabs(*lo) > 0 ? 0.05 * fabs(*lo) : 0.5;
    *lo -= d, *hi += d;
  }
}

/* Frame, grid, ticks and labels; title and labels are escaped. */
void lf_report_svg_open(lf_sbuf *b, const char *title, const char *xlabel, const char *ylabel,
                       const lf_plot_box *bx) {
  lf_sb_printf(b, "<div class=\"plot\"><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
                  "height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\"><title>",
               PLOT_W, PLOT_H, PLOT_W, PLOT_H);
  lf_sb_html(b, title);
  lf_sb_printf(b, "</title><rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>",
               PLOT_W, PLOT_H);
  lf_sb_printf(b, "<text x=\"%d\" y=\"22\" text-anchor=\"middle\" class=\"pt\">", PLOT_W / 2);
  lf_sb_html(b, title);
  lf_sb_put(b, "</text>");
  double xs = tick_step(bx->x0, bx->x1, 6), ys = tick_step(bx->y0, bx->y1, 5);
  for (double t = ceil(bx->x0 / xs) * xs; t <= bx->x1 + 1e-9 * xs; t += xs) {
    double x = px(bx, t);
    lf_sb_printf(b, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" class=\"grid\"/>", x,
                 MARGIN_T, x, PLOT_H - MARGIN_B);
    lf_sb_printf(b, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" class=\"tk\">%.4g</text>", x,
                 PLOT_H - MARGIN_B + 16, fabs(t) < 1e-12 * xs ? 0.0 : t);
  }
  for (double t = ceil(bx->y0 / ys) * ys; t <= bx->y1 + 1e-9 * ys; t += ys) {
    double y = py(bx, t);
    lf_sb_printf(b, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" class=\"grid\"/>", MARGIN_L,
                 y, PLOT_W - MARGIN_R, y);
    lf_sb_printf(b, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" class=\"tk\">%.4g</text>",
                 MARGIN_L - 6, y + 4, fabs(t) < 1e-12 * ys ? 0.0 : t);
  }
  lf_sb_printf(b, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" class=\"frame\"/>", MARGIN_L,
               MARGIN_T, PLOT_W - MARGIN_L - MARGIN_R, PLOT_H - MARGIN_T - MARGIN_B);
  lf_sb_printf(b, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" class=\"ax\">",
               (PLOT_W + MARGIN_L) / 2, PLOT_H - 8);
  lf_sb_html(b, xlabel);
  lf_sb_printf(b, "</text><text x=\"14\" y=\"%d\" text-anchor=\"middle\" class=\"ax\" "
                  "transform=\"rotate(-90 14 %d)\">",
               PLOT_H / 2, PLOT_H / 2);
  lf_sb_html(b, ylabel);
  lf_sb_put(b, "</text>");
}

void lf_report_svg_close(lf_sbuf *b) { lf_sb_put(b, "</svg></div>\n"); }

double lf_report_px(const lf_plot_box *b, double x) { return px(b, x); }
double lf_report_py(const lf_plot_box *b, double y) { return py(b, y); }

static void plot_series(lf_sbuf *b, const char *title, const char *xlabel, const char *ylabel,
                        const double *x, const double *y, size_t n, int with_zero) {
  box bx;
  lf_report_range(x, n, &bx.x0, &bx.x1);
  lf_report_range(y, n, &bx.y0, &bx.y1);
  if (with_zero && bx.y0 > 0) bx.y0 = 0;
  double pad = 0.05 * (bx.y1 - bx.y0);
  bx.y0 -= pad, bx.y1 += pad;
  lf_report_svg_open(b, title, xlabel, ylabel, &bx);
  size_t stride = n > MAX_POINTS ? (n + MAX_POINTS - 1) / MAX_POINTS : 1;
  lf_sb_put(b, "<polyline class=\"line\" points=\"");
  for (size_t i = 0; i < n; i += stride)
    if (isfinite(x[i]) && isfinite(y[i])) lf_sb_printf(b, "%.1f,%.1f ", px(&bx, x[i]), py(&bx, y[i]));
  lf_sb_put(b, "\"/>");
  if (n <= 60)
    for (size_t i = 0; i < n; i++)
      if (isfinite(x[i]) && isfinite(y[i]))
        lf_sb_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" class=\"dot\"/>", px(&bx, x[i]),
                     py(&bx, y[i]));
  lf_report_svg_close(b);
}

static void plot_histogram(lf_sbuf *b, const char *key, const double *v, size_t n, int nbins) {
  double lo, hi;
  lf_report_range(v, n, &lo, &hi);
  double *count = lf_alloc((size_t)nbins * sizeof *count);
  if (!count) {
    b->oom = 1;
    return;
  }
  size_t used = 0;
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(v[i])) continue;
    long k = (long)floor((v[i] - lo) / (hi - lo) * nbins);
    if (k < 0) k = 0;
    if (k >= nbins) k = nbins - 1;
    count[k] += 1.0;
    used++;
  }
  double cmax = 0;
  for (int k = 0; k < nbins; k++) cmax = count[k] > cmax ? count[k] : cmax;
  box bx = {lo, hi, 0.0, cmax > 0 ? 1.08 * cmax : 1.0};
  char title[300];
  snprintf(title, sizeof title, "histogram of %s (%zu values)", key, used);
  lf_report_svg_open(b, title, key, "count", &bx);
  double w = (hi - lo) / nbins;
  for (int k = 0; k < nbins; k++) {
    if (count[k] <= 0) continue;
    double x0 = px(&bx, lo + k * w), x1 = px(&bx, lo + (k + 1) * w);
    double y0 = py(&bx, count[k]), y1 = py(&bx, 0.0);
    lf_sb_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" class=\"bar\"/>",
                 x0, y0, x1 - x0 > 1 ? x1 - x0 - 0.5 : 0.5, y1 - y0);
  }
  lf_report_svg_close(b);
  lf_free(count);
}

/* rho(t) for t = 0..tmax and tau_int with the automatic window; returns W (0 if n < 4). */
static int autocorrelation(const double *v, size_t n, double *rho, int tmax, double *tau) {
  *tau = 0.5;
  if (n < 4) return 0;
  double mean = 0;
  for (size_t i = 0; i < n; i++) mean += v[i]; /* fixed order */
  mean /= (double)n;
  double g0 = 0;
  for (size_t i = 0; i < n; i++) g0 += (v[i] - mean) * (v[i] - mean);
  g0 /= (double)n;
  for (int t = 0; t <= tmax; t++) {
    double g = 0;
    for (size_t i = 0; i + (size_t)t < n; i++) g += (v[i] - mean) * (v[i + (size_t)t] - mean);
    g /= (double)(n - (size_t)t);
    rho[t] = g0 > 0 ? g / g0 : (t == 0 ? 1.0 : 0.0);
  }
  int W = tmax;
  double sum = 0.5;
  for (int t = 1; t <= tmax; t++) {
    sum += rho[t];
    if ((double)t >= ACF_WINDOW_C * sum) {
      W = t;
      break;
    }
  }
  *tau = sum > 0.5 ? sum : 0.5;
  return W;
}

static int is_acf_key(const char *k) {
  return strstr(k, "plaq") || !strcmp(k, "Q") || !strcmp(k, "q") || strstr(k, "charge") ||
         !strcmp(k, "topological_charge");
}

static void table_kv(lf_sbuf *b, const char *title, const lf_kv *kv, size_t n) {
  lf_sb_printf(b, "<h2>%s</h2>\n", title);
  if (n == 0) {
    lf_sb_put(b, "<p class=\"none\">none</p>\n");
    return;
  }
  lf_sb_put(b, "<table><tr><th>key</th><th>value</th></tr>\n");
  for (size_t i = 0; i < n; i++) {
    lf_sb_put(b, "<tr><td>");
    lf_sb_html(b, kv[i].key);
    lf_sb_put(b, "</td><td>");
    lf_sb_html(b, kv[i].value);
    lf_sb_put(b, "</td></tr>\n");
  }
  lf_sb_put(b, "</table>\n");
}

static void row(lf_sbuf *b, const char *k, const char *v) {
  lf_sb_put(b, "<tr><th>");
  lf_sb_html(b, k);
  lf_sb_put(b, "</th><td>");
  lf_sb_html(b, v);
  lf_sb_put(b, "</td></tr>\n");
}

const char *const lf_report_css =
    "body{font-family:sans-serif;margin:0;padding:0 20px 40px 20px;color:#222;background:#fff}"
    "header{height:80px;overflow:hidden}header h1{font-size:22px;margin:0;padding-top:14px}"
    "header p{margin:4px 0;font-size:13px;color:#555}"
    ".plots{display:flex;flex-wrap:wrap;width:1160px}.plot{width:560px;height:320px;"
    "margin:0 20px 20px 0}svg{display:block}.pt{font-size:14px;font-weight:bold}"
    ".tk{font-size:11px;fill:#444}.ax{font-size:12px;fill:#222}"
    ".grid{stroke:#e4e4e4;stroke-width:1}.frame{fill:none;stroke:#888;stroke-width:1}"
    ".line{fill:none;stroke:#1f5fbf;stroke-width:2}.dot{fill:#1f5fbf}"
    ".bar{fill:#2f8f4f}.acf{fill:none;stroke:#c0392b;stroke-width:2}"
    "table{border-collapse:collapse;margin:6px 0 16px 0;font-size:13px}"
    "td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}"
    "th{background:#f2f2f2}h2{font-size:17px;margin:18px 0 6px 0}.none{color:#777}"
    "code{font-size:12px}";

static int render(lf_sbuf *b, const lf_run_record *rec, const lf_report_opts *opts) {
  const lf_run_info *ri = &rec->info;
  const char *title = opts && opts->title ? opts->title : (*ri->name ? ri->name : ri->id);
  const char *status = ri->stale ? "KILLED (stale: no heartbeat / process gone)"
                                 : lf_run_status_name(ri->status);
  lf_sb_put(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
               "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
               "style-src 'unsafe-inline'; img-src data:\"><title>latflow run ");
  lf_sb_html(b, title);
  lf_sb_printf(b, "</title><style>%s</style></head><body>\n<header><h1>latflow run ", lf_report_css);
  lf_sb_html(b, title);
  lf_sb_put(b, "</h1><p>");
  lf_sb_html(b, ri->command);
  lf_sb_put(b, " &middot; ");
  lf_sb_html(b, status);
  lf_sb_put(b, " &middot; id <code>");
  lf_sb_html(b, ri->id);
  lf_sb_put(b, "</code></p></header>\n<section class=\"plots\" id=\"plots\">\n");

  /* One plot per metric key (metrics are ordered by key, then step). */
  size_t nplots = 0;
  double *xs = lf_alloc((rec->nmetrics + 1) * sizeof *xs);
  double *ys = lf_alloc((rec->nmetrics + 1) * sizeof *ys);
  double *fin = lf_alloc((rec->nmetrics + 1) * sizeof *fin);
  double rho[ACF_MAX_LAG + 1], lag[ACF_MAX_LAG + 1];
  if (!xs || !ys || !fin) {
    lf_free(xs), lf_free(ys), lf_free(fin);
    return LF_ERROR(LF_ENOMEM, "out of memory rendering the report");
  }
  for (size_t i = 0; i < rec->nmetrics;) {
    size_t j = i;
    while (j < rec->nmetrics && !strcmp(rec->metrics[j].key, rec->metrics[i].key)) j++;
    size_t n = j - i;
    for (size_t k = 0; k < n; k++) {
      xs[k] = (double)rec->metrics[i + k].step;
      ys[k] = rec->metrics[i + k].value;
    }
    if (n >= 2) { /* a single value (a final result) is shown in the table, not plotted */
      plot_series(b, rec->metrics[i].key, "step", rec->metrics[i].key, xs, ys, n, 0);
      nplots++;
    }
    size_t nfin = 0; /* the ACF uses the finite values, in step order */
    for (size_t k = 0; k < n; k++) nfin += isfinite(ys[k]) != 0;
    if (is_acf_key(rec->metrics[i].key) && nfin >= 8) {
      size_t m = 0;
      for (size_t k = 0; k < n; k++)
        if (isfinite(ys[k])) fin[m++] = ys[k];
      int tmax = (int)(nfin / 4 < ACF_MAX_LAG ? nfin / 4 : ACF_MAX_LAG);
      double tau;
      int W = autocorrelation(fin, nfin, rho, tmax, &tau);
      for (int t = 0; t <= tmax; t++) lag[t] = (double)t;
      char at[300];
      snprintf(at, sizeof at, "autocorrelation of %s (tau_int = %.3g, W = %d)", rec->metrics[i].key,
               tau, W);
      plot_series(b, at, "lag t (measurements)", "rho(t)", lag, rho, (size_t)tmax + 1, 1);
      nplots++;
    }
    if (opts && opts->histogram_metric && !strcmp(opts->histogram_metric, rec->metrics[i].key)) {
      plot_histogram(b, rec->metrics[i].key, ys, n, opts->histogram_bins > 0 ? opts->histogram_bins : 40);
      nplots++;
    }
    i = j;
  }
  if (nplots == 0) lf_sb_put(b, "<p class=\"none\">this run has no metrics</p>\n");
  lf_sb_put(b, "</section>\n");

  char t0[64], t1[64], hb[64], pid[32];
  lf_report_fmt_time(ri->start_time, t0, sizeof t0);
  lf_report_fmt_time(ri->end_time, t1, sizeof t1);
  lf_report_fmt_time(ri->heartbeat, hb, sizeof hb);
  snprintf(pid, sizeof pid, "%ld", ri->pid);
  lf_sb_put(b, "<h2>Run</h2>\n<table>\n");
  row(b, "id", ri->id);
  row(b, "name", ri->name);
  row(b, "command", ri->command);
  row(b, "experiment", ri->experiment);
  row(b, "status", status);
  row(b, "start", t0);
  row(b, "end", t1);
  row(b, "last heartbeat", hb);
  row(b, "host", ri->host);
  row(b, "pid", pid);
  row(b, "latflow version", ri->version);
  row(b, "git commit", ri->git);
  lf_sb_put(b, "</table>\n");
  table_kv(b, "Parameters", rec->params, rec->nparams);
  table_kv(b, "Tags", rec->tags, rec->ntags);

  lf_sb_put(b, "<h2>Final results</h2>\n");
  if (rec->nmetrics == 0) lf_sb_put(b, "<p class=\"none\">none</p>\n");
  else lf_sb_put(b, "<table><tr><th>metric</th><th>last step</th><th>last value</th><th>min</th>"
                    "<th>max</th><th>values</th></tr>\n");
  for (size_t i = 0; i < rec->nmetrics;) {
    size_t j = i;
    double lo = INFINITY, hi = -INFINITY;
    while (j < rec->nmetrics && !strcmp(rec->metrics[j].key, rec->metrics[i].key)) {
      double v = rec->metrics[j].value;
      if (isfinite(v)) lo = v < lo ? v : lo, hi = v > hi ? v : hi;
      j++;
    }
    lf_sb_put(b, "<tr><td>");
    lf_sb_html(b, rec->metrics[i].key);
    lf_sb_printf(b, "</td><td>%ld</td><td>%.10g</td><td>%.6g</td><td>%.6g</td><td>%zu</td></tr>\n",
                 rec->metrics[j - 1].step, rec->metrics[j - 1].value, lo, hi, j - i);
    i = j;
  }
  if (rec->nmetrics) lf_sb_put(b, "</table>\n");

  lf_sb_put(b, "<h2>Artifacts</h2>\n");
  if (rec->nartifacts == 0) lf_sb_put(b, "<p class=\"none\">none</p>\n");
  else lf_sb_put(b, "<table><tr><th>id</th><th>lineage</th><th>kind</th><th>path</th><th>bytes</th>"
                    "<th>sha256</th></tr>\n");
  for (size_t i = 0; i < rec->nartifacts; i++) {
    const lf_artifact *a = &rec->artifacts[i];
    lf_sb_printf(b, "<tr><td>%lld</td><td>", (long long)a->id);
    lf_sb_html(b, a->direction);
    lf_sb_put(b, "</td><td>");
    lf_sb_html(b, a->kind);
    lf_sb_put(b, "</td><td>");
    lf_sb_html(b, a->path);
    lf_sb_printf(b, "</td><td>%lld</td><td><code>", (long long)a->size);
    lf_sb_html(b, a->sha256);
    lf_sb_put(b, "</code></td></tr>\n");
  }
  if (rec->nartifacts) lf_sb_put(b, "</table>\n");
  lf_sb_put(b, "<p class=\"none\">Conventions: plaquette = Re tr U_P / N; S = -(beta/N) sum_P Re "
               "tr U_P. Autocorrelation: rho(t) = Gamma(t)/Gamma(0), tau_int with the automatic "
               "window W &gt;= 6 tau_int (Madras-Sokal, Wolff). Generated by latflow ");
  lf_sb_html(b, lf_version());
  lf_sb_put(b, ".</p>\n</body></html>\n");
  lf_free(xs);
  lf_free(ys);
  lf_free(fin);
  return b->oom ? LF_ERROR(LF_ENOMEM, "out of memory rendering the report") : LF_OK;
}

int lf_registry_report(lf_registry *reg, const char *id, const char *path,
                       const lf_report_opts *opts) {
  if (!reg || !id || !path) return LF_ERROR(LF_EINVAL, "lf_registry_report: NULL argument");
  lf_run_record rec;
  LF_CHECK(lf_registry_load(reg, id, 0, &rec));
  lf_sbuf b = {0};
  int rc = render(&b, &rec, opts);
  lf_run_record_free(&rec);
  if (rc == LF_OK) rc = lf_write_file_atomic(path, b.p, b.len);
  lf_sb_free(&b);
  return rc;
}
