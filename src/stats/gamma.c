/*
 * gamma.c -- the Gamma method: mean, error, integrated autocorrelation time and
 * normalised autocorrelation function of a Monte Carlo time series, with Wolff's
 * automatic windowing and bias correction; derived quantities by linearisation.
 *
 * Math: U. Wolff, "Monte Carlo errors with less errors", Comput. Phys. Commun. 156 (2004)
 * 143 [hep-lat/0306017], sec. 3 (Gamma(t), automatic window, bias correction, replicas,
 * derived quantities), error of tau_int from eq. (42); the steps follow Wolff's reference
 * code UWerr.m. The tau_int error keeps the paper's eq. (42), not UWerr's later
 * subleading variant 2 tau sqrt((W - tau + 1/2)/N).
 * Notes and formulas: docs/stats.md.
 * Thread contract: sequential, sums in index order; scratch memory allocated per call.
 */
#include <float.h>
#include <math.h>

#include "latflow/stats.h"

void lf_stats_gamma_opts_default(lf_stats_gamma_opts *o) {
  o->S = 1.5;
  o->wmax = 0;
  o->nrep = 1;
  o->replen = NULL;
}

/* Replica layout of the data: R chains of lengths len[r] (one chain of n if R <= 1). */
typedef struct {
  int R;
  const long *len;
  long one; /* storage for the single-chain case */
} reps;

static void reps_init(reps *p, const lf_stats_gamma_opts *o, long n) {
  p->one = n;
  if (o->nrep > 1 && o->replen) {
    p->R = o->nrep;
    p->len = o->replen;
  } else {
    p->R = 1;
    p->len = &p->one;
  }
}

/* Autocorrelation of the deviations d (mean already subtracted) at lag t: products within
 * each replica, normalised by the number of pairs N - R t (Wolff sec. 3.1, UWerr). */
static double autocov(const double *d, const reps *p, long t) {
  double s = 0.0;
  long pairs = 0;
  for (int r = 0; r < p->R; r++) {
    const long m = p->len[r];
    for (long i = 0; i + t < m; i++) s += d[i] * d[i + t];
    if (m > t) pairs += m - t;
    d += m;
  }
  return pairs > 0 ? s / (double)pairs : 0.0;
}

/* Results for a series that is analysed without autocorrelations (W = 0). */
static void set_w0(lf_stats_gamma_res *res, long n, double var, double err, unsigned flags,
                   double *rho, long nrho) {
  res->var = var;
  res->naive_err = err;
  res->err = err;
  res->window = 0;
  res->tau_int = 0.5;
  res->tau_int_err = 0.5 * sqrt(2.0 / (double)n);
  res->err_err = err * sqrt(0.5 / (double)n);
  res->n = n;
  res->flags = flags;
  for (long t = 0; t < nrho; t++) rho[t] = t == 0 ? 1.0 : 0.0;
}

/* Core of the method on deviations d (mean zero); res->value set by the caller. */
static int gamma_core(const double *d, long n, const reps *rp, const lf_stats_gamma_opts *o,
                      lf_stats_gamma_res *res, double *rho, long nrho) {
  if (!rho) nrho = 0;
  double g0 = autocov(d, rp, 0);
  if (n < LF_STATS_MIN_N) {
    double v = n > 1 ? g0 * (double)n / (double)(n - 1) : 0.0;
    set_w0(res, n, v, sqrt(v / (double)n), LF_STATS_FEW, rho, nrho);
    return LF_OK;
  }
  int constant = 1;
  for (long i = 1; i < n && constant; i++) constant = (d[i] == d[0]);
  if (constant || !(g0 > 0.0)) {
    set_w0(res, n, 0.0, 0.0, LF_STATS_ZERO_VAR, rho, nrho);
    return LF_OK;
  }
  long lmin = rp->len[0];
  for (int r = 1; r < rp->R; r++)
    if (rp->len[r] < lmin) lmin = rp->len[r];
  long wmax = o->wmax > 0 ? o->wmax : lmin / 2;
  if (wmax > lmin - 1) wmax = lmin - 1;
  if (o->S == 0.0) wmax = 0;
  long tmax = wmax; /* largest lag stored */
  if (nrho - 1 > tmax) tmax = nrho - 1 < lmin - 1 ? nrho - 1 : lmin - 1;
  double *g = lf_alloc(sizeof(double) * (size_t)(tmax + 1));
  if (!g) return LF_ERROR(LF_ENOMEM, "Gamma method: no memory for %ld lags", tmax + 1);
  /* tmax is lowered to max(W, nrho - 1) once W is known. */

  /* Automatic windowing (Wolff sec. 3.3): the first W with g(W) < 0, where
   * g(W) = exp(-W/tau) - tau/sqrt(W n) and tau = S / log((2 tau_int(W)+1)/(2 tau_int(W)-1)). */
  g[0] = g0;
  long W = 0, t = 1;
  int found = (o->S == 0.0);
  double gint = 0.0;
  for (; t <= wmax && !found; t++) {
    g[t] = autocov(d, rp, t);
    gint += g[t] / g0;
    double tau = gint <= 0.0 ? DBL_EPSILON : o->S / log((gint + 1.0) / gint);
    double gw = exp(-(double)t / tau) - tau / sqrt((double)t * (double)n);
    if (gw < 0.0) {
      W = t;
      found = 1;
    }
  }
  unsigned flags = 0;
  if (!found) {
    W = wmax;
    flags |= LF_STATS_NO_WINDOW;
  }
  long tdone = o->S == 0.0 ? 0 : t - 1; /* g[0..tdone] computed */
  /* Beyond the window only the lags asked for in rho are needed. */
  tmax = W;
  if (nrho - 1 > tmax) tmax = nrho - 1 < lmin - 1 ? nrho - 1 : lmin - 1;
  for (long u = tdone + 1; u <= tmax; u++) g[u] = autocov(d, rp, u);

  double c = g[0];
  for (long u = 1; u <= W; u++) c += 2.0 * g[u];
  if (!(c > 0.0)) {
    /* Anticorrelated noise made the summed autocorrelation non-positive. */
    double v = g0 * (double)n / (double)(n - 1);
    set_w0(res, n, v, sqrt(v / (double)n), flags | LF_STATS_NEG_VAR, rho, nrho);
    lf_free(g);
    return LF_OK;
  }
  /* Bias correction of Gamma(t) (Wolff sec. 3.3, UWerr): Gamma(t) += C(W)/n. */
  for (long u = 0; u <= tmax; u++) g[u] += c / (double)n;
  c = g[0];
  for (long u = 1; u <= W; u++) c += 2.0 * g[u];

  res->var = g[0];
  res->naive_err = sqrt(g[0] / (double)n);
  res->err = sqrt(c / (double)n);
  res->window = W;
  res->tau_int = c / (2.0 * g[0]);
  res->tau_int_err = res->tau_int * sqrt((4.0 * (double)W + 2.0) / (double)n); /* eq. (42) */
  res->err_err = res->err * sqrt(((double)W + 0.5) / (double)n);
  res->n = n;
  res->flags = flags;
  for (long u = 0; u < nrho; u++) rho[u] = u <= tmax ? g[u] / g[0] : 0.0;
  lf_free(g);
  return LF_OK;
}

static int check_opts(const lf_stats_gamma_opts *o, long n) {
  if (n < 1) return LF_ERROR(LF_EINVAL, "Gamma method on %ld samples; pass at least one", n);
  if (o->nrep > 1) {
    if (!o->replen)
      return LF_ERROR(LF_EINVAL, "Gamma method: %d replicas but no replica lengths; set "
                      "opts.replen", o->nrep);
    long sum = 0;
    for (int r = 0; r < o->nrep; r++) {
      if (o->replen[r] < 1)
        return LF_ERROR(LF_EINVAL, "Gamma method: replica %d has %ld samples; every replica "
                        "needs at least one", r, o->replen[r]);
      sum += o->replen[r];
    }
    if (sum != n)
      return LF_ERROR(LF_EINVAL, "Gamma method: replica lengths add up to %ld, but %ld samples "
                      "were passed; they must agree", sum, n);
  }
  if (!(o->S >= 0.0) || !isfinite(o->S))
    return LF_ERROR(LF_EINVAL, "Gamma method: S = %g; use S >= 0 (Wolff recommends 1..2)",
                    o->S);
  if (o->wmax < 0)
    return LF_ERROR(LF_EINVAL, "Gamma method: wmax = %ld; use 0 (= n/2) or a positive window",
                    o->wmax);
  return LF_OK;
}

int lf_stats_gamma(const double *x, long n, const lf_stats_gamma_opts *opts,
                   lf_stats_gamma_res *res, double *rho, long nrho) {
  lf_stats_gamma_opts o;
  if (opts) o = *opts;
  else lf_stats_gamma_opts_default(&o);
  LF_CHECK(check_opts(&o, n));
  for (long i = 0; i < n; i++)
    if (!isfinite(x[i]))
      return LF_ERROR(LF_EINVAL, "Gamma method: sample %ld is %g; remove non-finite data", i,
                      x[i]);
  double *d = lf_alloc(sizeof(double) * (size_t)n);
  if (!d) return LF_ERROR(LF_ENOMEM, "Gamma method: no memory for %ld samples", n);
  double m = lf_stats_mean(x, n);
  for (long i = 0; i < n; i++) d[i] = x[i] - m;
  res->value = m;
  reps rp;
  reps_init(&rp, &o, n);
  int rc = gamma_core(d, n, &rp, &o, res, rho, nrho);
  lf_free(d);
  return rc;
}

int lf_stats_gamma_derived(const double *data, long n, int nobs, lf_stats_fn f, void *ctx,
                           const lf_stats_gamma_opts *opts, lf_stats_gamma_res *res,
                           double *rho, long nrho) {
  lf_stats_gamma_opts o;
  if (opts) o = *opts;
  else lf_stats_gamma_opts_default(&o);
  LF_CHECK(check_opts(&o, n));
  if (nobs < 1)
    return LF_ERROR(LF_EINVAL, "derived quantity of %d observables; pass nobs >= 1", nobs);
  size_t na = (size_t)nobs;
  for (long i = 0; i < n * nobs; i++)
    if (!isfinite(data[i]))
      return LF_ERROR(LF_EINVAL, "Gamma method: sample %ld of observable %ld is %g; remove "
                      "non-finite data", i / nobs, i % nobs, data[i]);
  double *abar = lf_alloc(sizeof(double) * 3 * na);
  double *d = lf_alloc(sizeof(double) * (size_t)n);
  if (!abar || !d) {
    lf_free(abar);
    lf_free(d);
    return LF_ERROR(LF_ENOMEM, "Gamma method: no memory for %ld samples", n);
  }
  double *grad = abar + na, *tmp = abar + 2 * na;
  for (int a = 0; a < nobs; a++) {
    double s = 0.0;
    for (long i = 0; i < n; i++) s += data[i * nobs + a];
    abar[a] = s / (double)n;
  }
  int rc = LF_OK;
  double value = f(abar, nobs, ctx);
  if (!isfinite(value)) {
    rc = LF_ERROR(LF_ENAN, "derived quantity is %g at the mean values; check the function "
                  "and its domain", value);
    goto done;
  }
  /* Numerical gradient, step h_a = sqrt(Gamma_aa(0)/n)/2 (UWerr). */
  for (int a = 0; a < nobs; a++) {
    double ss = 0.0;
    for (long i = 0; i < n; i++) {
      double dv = data[i * nobs + a] - abar[a];
      ss += dv * dv;
    }
    double h = sqrt(ss / (double)n / (double)n) / 2.0;
    grad[a] = 0.0;
    if (h > 0.0) {
      for (int b = 0; b < nobs; b++) tmp[b] = abar[b];
      tmp[a] = abar[a] + h;
      double fp = f(tmp, nobs, ctx);
      tmp[a] = abar[a] - h;
      double fm = f(tmp, nobs, ctx);
      grad[a] = (fp - fm) / (2.0 * h);
      if (!isfinite(grad[a])) {
        rc = LF_ERROR(LF_ENAN, "derivative of the derived quantity by observable %d is %g; "
                      "f must be smooth near the means", a, grad[a]);
        goto done;
      }
    }
  }
  for (long i = 0; i < n; i++) {
    double s = 0.0;
    for (int a = 0; a < nobs; a++) s += grad[a] * (data[i * nobs + a] - abar[a]);
    d[i] = s;
  }
  reps rp;
  reps_init(&rp, &o, n);
  if (rp.R >= 2) {
    /* Wolff sec. 3.4 (UWerr): bias of f(abar) from the replica values f(abar_r),
     * value -> value - (fbar_R - value)/(R - 1), fbar_R = sum_r N_r f(abar_r) / N. */
    double fr = 0.0;
    long off = 0;
    for (int r = 0; r < rp.R; r++) {
      for (int a = 0; a < nobs; a++) {
        double sa = 0.0;
        for (long i = off; i < off + rp.len[r]; i++) sa += data[i * nobs + a];
        tmp[a] = sa / (double)rp.len[r];
      }
      double v = f(tmp, nobs, ctx);
      if (!isfinite(v)) {
        rc = LF_ERROR(LF_ENAN, "derived quantity is %g at the means of replica %d; check the "
                      "function and its domain", v, r);
        goto done;
      }
      fr += (double)rp.len[r] * v;
      off += rp.len[r];
    }
    fr /= (double)n;
    value -= (fr - value) / (double)(rp.R - 1);
  }
  res->value = value;
  rc = gamma_core(d, n, &rp, &o, res, rho, nrho);
done:
  lf_free(abar);
  lf_free(d);
  return rc;
}

int lf_stats_rho_err(const double *rho, long nrho, long W, long n, double *drho) {
  if (nrho < 1 || n < 1 || W < 0)
    return LF_ERROR(LF_EINVAL, "rho error: nrho = %ld, W = %ld, n = %ld; need nrho >= 1, "
                    "W >= 0, n >= 1", nrho, W, n);
  for (long t = 0; t < nrho; t++) {
    double s = 0.0;
    for (long k = t - W > 1 ? t - W : 1; k <= t + W; k++) {
      long a = k + t, b = k > t ? k - t : t - k;
      double ra = a < nrho ? rho[a] : 0.0, rb = b < nrho ? rho[b] : 0.0;
      double rk = k < nrho ? rho[k] : 0.0;
      double v = ra + rb - 2.0 * rho[t] * rk;
      s += v * v;
    }
    drho[t] = sqrt(s / (double)n);
  }
  return LF_OK;
}
