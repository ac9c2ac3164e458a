/*
 * mc_util.h -- helpers for the mc tests: modified Bessel functions by their power
 * series, binned error bars, Markov-chain drivers.
 */
#ifndef LF_MC_UTIL_H
#define LF_MC_UTIL_H

#include <latflow/mc.h>
#include <latflow/observe.h>
#include <latflow/stats.h>
#include <math.h>
#include <stdio.h>

/* I_n(x) = sum_k (x/2)^(2k+|n|) / (k! (k+|n|)!), summed until terms < 1e-18 of the sum.
 * Exact to rounding for the x <= 20 used here. */
static inline double bessel_i(int n, double x) {
  if (n < 0) n = -n;
  double lx = log(0.5 * x), sum = 0;
  for (int k = 0; k < 500; k++) {
    double t = exp((2.0 * k + n) * lx - lgamma(k + 1.0) - lgamma(k + n + 1.0));
    sum += t;
    if (k > 2 * x && t < 1e-18 * sum) break;
  }
  return sum;
}

/* Mean and error from nbin bins of consecutive samples (bins much longer than the
 * integrated autocorrelation time, so bin means are independent). */
static inline void binning_only(const double *x, long n, long nbin, double *mean, double *err) {
  long b = n / nbin;
  double m = 0, bm[4096];
  for (long k = 0; k < nbin; k++) {
    double s = 0;
    for (long i = 0; i < b; i++) s += x[k * b + i];
    bm[k] = s / (double)b;
    m += bm[k];
  }
  m /= (double)nbin;
  double v = 0;
  for (long k = 0; k < nbin; k++) v += (bm[k] - m) * (bm[k] - m);
  *mean = m;
  *err = sqrt(v / ((double)nbin * (double)(nbin - 1)));
}

/* Mean and error by the Gamma method (lf_stats_gamma, Wolff 2004, S = 1.5); the binned
 * error (nbin bins) is printed beside it as a cross-check. */
static inline void binned_mean_err(const double *x, long n, long nbin, double *mean,
                                   double *err) {
  double bm, be;
  binning_only(x, n, nbin, &bm, &be);
  lf_stats_gamma_res r;
  if (lf_stats_gamma(x, n, NULL, &r, NULL, 0)) {
    printf("     gamma method failed (%s): using binning\n", lf_last_error());
    *mean = bm, *err = be;
    return;
  }
  printf("     Gamma method: %.8f +- %.2g, tau_int %.2f +- %.2f (W = %ld); binned error %.2g\n",
         r.value, r.err, r.tau_int, r.tau_int_err, r.window, be);
  *mean = r.value, *err = r.err;
}

/* Average plaquette Re tr U_P / N from the Wilson action with beta = 1, k = 1 (chunked,
 * single-threaded below 1024 sites: cheaper than lf_observe_plaquette on tiny lattices). */
static inline double plaquette(const lf_gauge *f) {
  lf_action w;
  lf_action_init(&w, LF_ACTION_WILSON, 1.0, f->lat->nd);
  return -lf_action_eval(&w, f) / ((double)f->lat->vol * lf_lattice_nplanes(f->lat));
}

/* Heatbath + nor overrelaxation sweeps per measurement; plaquette into out[0..nmeas-1]. */
static inline int run_heatbath(const lf_action *a, lf_gauge *f, uint64_t seed, long ntherm,
                               long nmeas, int nor, double *out, lf_hb_stats *st) {
  long k = 0;
  for (long i = 0; i < ntherm + nmeas; i++, k++) {
    int rc = lf_mc_heatbath_sweep(a, f, seed, k, st);
    for (int o = 0; o < nor && !rc; o++) rc = lf_mc_overrelax_sweep(a, f);
    if (rc) {
      printf("heatbath failed: %s\n", lf_last_error());
      return rc;
    }
    if (i >= ntherm) out[i - ntherm] = plaquette(f);
  }
  return 0;
}

/* HMC trajectories; plaquette into out[], acceptance into *acc. */
static inline int run_hmc(const lf_action *a, const lf_hmc_params *p, lf_gauge *f, uint64_t seed,
                          long ntherm, long nmeas, double *out, double *acc) {
  lf_hmc_work *w;
  if (lf_mc_hmc_work_alloc(&w, f)) return -1;
  long nacc = 0;
  for (long t = 0; t < ntherm + nmeas; t++) {
    lf_hmc_result res;
    int rc = lf_mc_hmc_trajectory(a, p, f, seed, t, w, &res);
    if (rc) {
      printf("hmc failed: %s\n", lf_last_error());
      lf_mc_hmc_work_free(w);
      return rc;
    }
    if (t >= ntherm) {
      out[t - ntherm] = plaquette(f);
      nacc += res.accepted;
    }
  }
  *acc = (double)nacc / (double)nmeas;
  lf_mc_hmc_work_free(w);
  return 0;
}

#endif
