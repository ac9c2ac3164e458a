/*
 * resample.c -- jackknife and bootstrap errors of general functions of primary means,
 * over bins of consecutive samples (docs/stats.md; B. Efron, "The jackknife, the
 * bootstrap and other resampling plans", SIAM 1982).
 * Thread contract: sequential, sums in index order; bootstrap draws come from Philox
 * streams keyed by (seed, replica), so results are a pure function of (data, seed).
 */
#include <math.h>

#include "latflow/stats.h"

/* Bin sums bs[b*nobs + a] and totals tot[a] over the nb*binsize used samples. */
static void bin_sums(const double *data, long nb, int nobs, long binsize, double *bs,
                     double *tot) {
  for (int a = 0; a < nobs; a++) tot[a] = 0.0;
  for (long b = 0; b < nb; b++)
    for (int a = 0; a < nobs; a++) {
      double s = 0.0;
      for (long i = b * binsize; i < (b + 1) * binsize; i++) s += data[i * nobs + a];
      bs[b * nobs + a] = s;
      tot[a] += s;
    }
}

static int check_args(long n, int nobs, long binsize, const char *what) {
  if (nobs < 1) return LF_ERROR(LF_EINVAL, "%s of %d observables; pass nobs >= 1", what, nobs);
  if (binsize < 1 || n / (binsize > 0 ? binsize : 1) < 2)
    return LF_ERROR(LF_EINVAL, "%s with %ld samples in bins of %ld; need at least 2 bins "
                    "(reduce the bin size or add samples)", what, n, binsize);
  return LF_OK;
}

int lf_stats_jackknife(const double *data, long n, int nobs, long binsize, lf_stats_fn f,
                       void *ctx, double *value, double *err, double *bias) {
  LF_CHECK(check_args(n, nobs, binsize, "jackknife"));
  long nb = n / binsize;
  size_t na = (size_t)nobs;
  double *bs = lf_alloc(sizeof(double) * ((size_t)nb * na + 2 * na + (size_t)nb));
  if (!bs) return LF_ERROR(LF_ENOMEM, "jackknife: no memory for %ld bins", nb);
  double *tot = bs + (size_t)nb * na, *m = tot + na, *fb = m + na;
  bin_sums(data, nb, nobs, binsize, bs, tot);
  int rc = LF_OK;
  for (int a = 0; a < nobs; a++) m[a] = tot[a] / (double)(nb * binsize);
  double f0 = f(m, nobs, ctx), fbar = 0.0;
  double nrest = (double)((nb - 1) * binsize);
  for (long b = 0; b < nb; b++) {
    for (int a = 0; a < nobs; a++) m[a] = (tot[a] - bs[b * nobs + a]) / nrest;
    fb[b] = f(m, nobs, ctx);
    fbar += fb[b];
  }
  fbar /= (double)nb;
  double ss = 0.0;
  for (long b = 0; b < nb; b++) ss += (fb[b] - fbar) * (fb[b] - fbar);
  if (!isfinite(f0) || !isfinite(ss))
    rc = LF_ERROR(LF_ENAN, "jackknife: the function gave a non-finite value (%g); check its "
                  "domain near the means", f0);
  if (value) *value = f0;
  if (err) *err = sqrt(ss * (double)(nb - 1) / (double)nb);
  if (bias) *bias = (double)(nb - 1) * (fbar - f0);
  lf_free(bs);
  return rc;
}

int lf_stats_bootstrap(const double *data, long n, int nobs, long binsize, long nboot,
                       uint64_t seed, lf_stats_fn f, void *ctx, double *value, double *err) {
  LF_CHECK(check_args(n, nobs, binsize, "bootstrap"));
  if (nboot < 2)
    return LF_ERROR(LF_EINVAL, "bootstrap with %ld replicas; use at least 2 (typically 1000)",
                    nboot);
  long nb = n / binsize;
  size_t na = (size_t)nobs;
  double *bs = lf_alloc(sizeof(double) * ((size_t)nb * na + 2 * na + (size_t)nboot));
  if (!bs) return LF_ERROR(LF_ENOMEM, "bootstrap: no memory for %ld bins", nb);
  double *tot = bs + (size_t)nb * na, *m = tot + na, *fr = m + na;
  bin_sums(data, nb, nobs, binsize, bs, tot);
  double nused = (double)(nb * binsize);
  for (int a = 0; a < nobs; a++) m[a] = tot[a] / nused;
  double f0 = f(m, nobs, ctx), fbar = 0.0;
  for (long r = 0; r < nboot; r++) {
    lf_rng rng;
    lf_rng_init(&rng, seed, LF_RNG_TAG(LF_STATS_RNG_BOOTSTRAP, 0), (uint64_t)r);
    for (int a = 0; a < nobs; a++) m[a] = 0.0;
    for (long k = 0; k < nb; k++) {
      long b = (long)(lf_rng_u64(&rng) % (uint64_t)nb);
      for (int a = 0; a < nobs; a++) m[a] += bs[b * nobs + a];
    }
    for (int a = 0; a < nobs; a++) m[a] /= nused;
    fr[r] = f(m, nobs, ctx);
    fbar += fr[r];
  }
  fbar /= (double)nboot;
  double ss = 0.0;
  for (long r = 0; r < nboot; r++) ss += (fr[r] - fbar) * (fr[r] - fbar);
  int rc = LF_OK;
  if (!isfinite(f0) || !isfinite(ss))
    rc = LF_ERROR(LF_ENAN, "bootstrap: the function gave a non-finite value (%g); check its "
                  "domain near the means", f0);
  if (value) *value = f0;
  if (err) *err = sqrt(ss / (double)(nboot - 1));
  lf_free(bs);
  return rc;
}
