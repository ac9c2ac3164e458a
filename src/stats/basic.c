/*
 * basic.c -- arithmetic mean, naive standard error and block averages (docs/stats.md).
 * Thread contract: sequential; sums in index order (deterministic).
 */
#include <math.h>

#include "latflow/stats.h"

double lf_stats_mean(const double *x, long n) {
  if (n < 1) return 0.0;
  double s = 0.0;
  for (long i = 0; i < n; i++) s += x[i];
  return s / (double)n;
}

int lf_stats_mean_err(const double *x, long n, double *mean, double *err) {
  if (n < 1) return LF_ERROR(LF_EINVAL, "mean of %ld samples; pass at least one sample", n);
  double m = lf_stats_mean(x, n), ss = 0.0;
  for (long i = 0; i < n; i++) ss += (x[i] - m) * (x[i] - m);
  if (mean) *mean = m;
  if (err) *err = n > 1 ? sqrt(ss / ((double)n * (double)(n - 1))) : 0.0;
  return LF_OK;
}

int lf_stats_bin(const double *x, long n, long binsize, double *out, long *nbins) {
  if (binsize < 1 || n < binsize)
    return LF_ERROR(LF_EINVAL, "binning %ld samples in bins of %ld; use 1 <= binsize <= n", n,
                    binsize);
  long nb = n / binsize;
  for (long b = 0; b < nb; b++) out[b] = lf_stats_mean(x + b * binsize, binsize);
  if (nbins) *nbins = nb;
  return LF_OK;
}
