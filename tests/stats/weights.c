/*
 * tests/stats/weights.c -- log-sum-exp at +-1e3, effective sample size (equal weights,
 * one dominant weight, a two-valued case), reweighting estimator (exact ratio, iid limit,
 * Gaussian shift with known answer), error paths.
 */
#include <math.h>
#include <stdio.h>

#include "latflow/stats.h"
#include "lf_test.h"

#define NSIG 4.0

int main(void) {
  double a[3] = {1000.0, 1000.0, -HUGE_VAL};
  LF_TEST_REL("lse(1000, 1000, -inf) = 1000 + log 2", lf_stats_logsumexp(a, 3), 1000.0 + log(2.0), 1e-15);
  double b[2] = {-1000.0, -1001.0};
  LF_TEST_REL("lse(-1000, -1001) = -1000 + log(1 + e^-1)", lf_stats_logsumexp(b, 2),
              -1000.0 + log1p(exp(-1.0)), 1e-15);
  double c[2] = {1000.0, -1000.0};
  LF_TEST_REL("lse(1000, -1000) = 1000", lf_stats_logsumexp(c, 2), 1000.0, 1e-15);
  double d[2] = {-HUGE_VAL, -HUGE_VAL};
  LF_TEST_TRUE("lse of zero weights = -inf", lf_stats_logsumexp(d, 2) == -HUGE_VAL);
  LF_TEST_TRUE("lse of nothing = -inf", lf_stats_logsumexp(d, 0) == -HUGE_VAL);
  double e[2] = {1.0, 0.0 / 0.0};
  LF_TEST_TRUE("lse with NaN = NaN", isnan(lf_stats_logsumexp(e, 2)));

  enum { N = 1000 };
  static double lw[N], o[N];
  for (int i = 0; i < N; i++) lw[i] = 987.654;
  LF_TEST_REL("ESS of equal weights (log w = 987.654) = 1", lf_stats_ess(lw, N), 1.0, 1e-14);
  for (int i = 0; i < N; i++) lw[i] = i == 17 ? 2.5 : -1000.0 - i;
  LF_TEST_REL("ESS of one dominant weight = 1/N", lf_stats_ess(lw, N), 1.0 / N, 1e-12);
  double two[2] = {-700.0, -700.0 + log(2.0)};
  LF_TEST_REL("ESS of weights (1, 2) = 9/10", lf_stats_ess(two, 2), 0.9, 1e-13);
  LF_TEST_TRUE("ESS of no sample = 0", lf_stats_ess(two, 0) == 0.0);
  LF_TEST_TRUE("ESS of all -inf = 0", lf_stats_ess(d, 2) == 0.0);

  /* reweighting: exact ratio on given numbers */
  for (int i = 0; i < N; i++) {
    lw[i] = 1e3 + 0.01 * i;
    o[i] = sin(0.1 * i);
  }
  double sw = 0, so = 0;
  for (int i = 0; i < N; i++) {
    double w = exp(0.01 * i);
    sw += w;
    so += w * o[i];
  }
  double v, err;
  int rc = lf_stats_reweight(lw, o, N, 1, &v, &err);
  LF_TEST_TRUE("reweight returns LF_OK", rc == LF_OK);
  LF_TEST_REL("reweighted value = sum w O / sum w", v, so / sw, 1e-13);
  /* equal weights: the jackknife error is the naive error of the mean */
  for (int i = 0; i < N; i++) lw[i] = -3.21;
  double m, me;
  lf_stats_mean_err(o, N, &m, &me);
  lf_stats_reweight(lw, o, N, 1, &v, &err);
  LF_TEST_REL("equal weights: value = mean", v, m, 1e-13);
  LF_TEST_REL("equal weights: jackknife error / naive error = 1", err / me, 1.0, 1e-10);

  /* importance sampling: x ~ N(0,1), target N(mu,1): log w = mu x - mu^2/2, <x> = mu */
  enum { M = 100000 };
  static double lx[M], xs[M];
  const double mu = 0.7;
  lf_rng r;
  lf_rng_init(&r, 4242, LF_RNG_TAG(LF_RNG_PURPOSE_TEST, 3), 0);
  for (int i = 0; i < M; i++) {
    xs[i] = lf_rng_normal(&r);
    lx[i] = mu * xs[i] - 0.5 * mu * mu + 1e3;
  }
  rc = lf_stats_reweight(lx, xs, M, 10, &v, &err);
  LF_TEST_SIGMA("reweighted <x> of N(0.7,1) from N(0,1) samples", v, err, mu, NSIG);
  /* ESS: E[w]^2 / E[w^2] = exp(-mu^2) for this pair of Gaussians */
  double ess = lf_stats_ess(lx, M);
  LF_TEST_REL("ESS vs exp(-mu^2)", ess, exp(-mu * mu), 0.05);

  /* error paths */
  for (int i = 0; i < N; i++) lw[i] = i < 10 ? 0.0 : -1e4;
  rc = lf_stats_reweight(lw, o, N, 10, &v, &err);
  LF_TEST_TRUE("all weight in one bin: LF_ERANGE, err = inf, value finite",
               rc == LF_ERANGE && err == HUGE_VAL && isfinite(v));
  printf("     message: %s\n", lf_last_error());
  lf_alloc_fail_after(1);
  rc = lf_stats_reweight(lx, xs, M, 10, &v, &err);
  lf_alloc_fail_after(0);
  LF_TEST_TRUE("reweight, failed allocation: LF_ENOMEM", rc == LF_ENOMEM);
  rc = lf_stats_reweight(d, o, 2, 1, &v, &err);
  LF_TEST_TRUE("no finite weight: LF_EINVAL", rc == LF_EINVAL);
  rc = lf_stats_reweight(lw, o, 1, 1, &v, &err);
  LF_TEST_TRUE("one sample: LF_EINVAL", rc == LF_EINVAL);
  return lf_test_done();
}
