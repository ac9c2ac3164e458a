/*
 * weights.c -- helpers of flow sampling with importance weights w = exp(log w):
 * stable log-sum-exp, effective sample size ESS = (sum w)^2 / (n sum w^2) and the
 * reweighting estimator sum w O / sum w with a jackknife error (docs/stats.md; Kong 1992
 * for the ESS; Albergo et al. 2101.08176 sec. on reweighting).
 * Thread contract: sequential, sums in index order (deterministic).
 */
#include <math.h>

#include "latflow/stats.h"

/* Largest entry; NaN if any entry is NaN, -inf for n = 0. */
static double max_of(const double *x, long n) {
  double m = -HUGE_VAL;
  for (long i = 0; i < n; i++) {
    if (isnan(x[i])) return x[i];
    if (x[i] > m) m = x[i];
  }
  return m;
}

double lf_stats_logsumexp(const double *x, long n) {
  double m = max_of(x, n);
  if (!isfinite(m)) return m; /* NaN, +inf, or -inf (empty / all zero weights) */
  double s = 0.0;
  for (long i = 0; i < n; i++) s += exp(x[i] - m);
  return m + log(s);
}

double lf_stats_ess(const double *logw, long n) {
  double m = max_of(logw, n);
  if (isnan(m)) return m;
  if (m == HUGE_VAL) return (double)NAN;
  if (m == -HUGE_VAL) return 0.0;
  /* With the largest weight scaled to 1 both sums lie in [1, n]: no overflow. This is
   * exp(2 lse(logw) - lse(2 logw) - log n). */
  double s1 = 0.0, s2 = 0.0;
  for (long i = 0; i < n; i++) {
    double w = exp(logw[i] - m);
    s1 += w;
    s2 += w * w;
  }
  return exp(2.0 * log(s1) - log(s2) - log((double)n));
}

int lf_stats_reweight(const double *logw, const double *obs, long n, long binsize,
                      double *value, double *err) {
  if (binsize < 1 || n / (binsize > 0 ? binsize : 1) < 2)
    return LF_ERROR(LF_EINVAL, "reweighting %ld samples in bins of %ld; need at least 2 bins "
                    "(reduce the bin size or add samples)", n, binsize);
  double m = max_of(logw, n);
  if (!isfinite(m))
    return LF_ERROR(LF_EINVAL, "reweighting: the largest log weight is %g; pass finite log "
                    "weights (-inf = zero weight is allowed)", m);
  for (long i = 0; i < n; i++)
    if (!isfinite(obs[i]) && logw[i] > -HUGE_VAL)
      return LF_ERROR(LF_EINVAL, "reweighting: observable %ld is %g; remove non-finite data",
                      i, obs[i]);
  long nb = n / binsize;
  double *bw = lf_alloc(sizeof(double) * 2 * (size_t)nb);
  if (!bw) return LF_ERROR(LF_ENOMEM, "reweighting: no memory for %ld bins", nb);
  double *bo = bw + nb, tw = 0.0, to = 0.0;
  for (long b = 0; b < nb; b++) {
    double sw = 0.0, so = 0.0;
    for (long i = b * binsize; i < (b + 1) * binsize; i++) {
      double w = exp(logw[i] - m);
      sw += w;
      if (w > 0.0) so += w * obs[i];
    }
    bw[b] = sw;
    bo[b] = so;
    tw += sw;
    to += so;
  }
  int rc = LF_OK;
  if (!(tw > 0.0)) {
    lf_free(bw);
    return LF_ERROR(LF_EINVAL, "reweighting: all weights of the used samples vanish");
  }
  double v = to / tw, e = HUGE_VAL;
  double fbar = 0.0, ss = 0.0;
  int ok = 1;
  for (long b = 0; b < nb && ok; b++) ok = (tw - bw[b]) > 0.0;
  if (ok) {
    for (long b = 0; b < nb; b++) fbar += (to - bo[b]) / (tw - bw[b]);
    fbar /= (double)nb;
    for (long b = 0; b < nb; b++) {
      double fb = (to - bo[b]) / (tw - bw[b]);
      ss += (fb - fbar) * (fb - fbar);
    }
    e = sqrt(ss * (double)(nb - 1) / (double)nb);
  } else {
    rc = LF_ERROR(LF_ERANGE, "reweighting: one bin carries all the weight, the error is "
                  "undefined (err = inf); the effective sample size is too small: take more "
                  "samples or improve the model");
  }
  if (value) *value = v;
  if (err) *err = e;
  lf_free(bw);
  return rc;
}
