/*
 * latflow/stats.h -- statistics of Monte Carlo time series: mean and error with the
 * Gamma method (autocorrelation, automatic windowing), derived quantities, jackknife and
 * bootstrap for general functions, and the helpers of flow sampling (log-sum-exp,
 * effective sample size, reweighting). Math and conventions: docs/stats.md.
 *
 * Gamma method (U. Wolff, Comput. Phys. Commun. 156 (2004) 143, hep-lat/0306017):
 *
 *     lf_stats_gamma_res r;
 *     double rho[50];                              // optional, NULL/0 to skip
 *     int rc = lf_stats_gamma(plaq, n, NULL, &r, rho, 50);   // NULL = default S = 1.5
 *     if (rc) fprintf(stderr, "%s\n", lf_last_error());
 *     printf("%g +- %g  tau_int %g +- %g  W %ld\n", r.value, r.err, r.tau_int,
 *            r.tau_int_err, r.window);
 *
 * A function of several primary observables (data layout [sample][obs], row-major):
 *
 *     static double ratio(const double *m, int nobs, void *ctx) { return m[0] / m[1]; }
 *     lf_stats_gamma_derived(data, n, 2, ratio, NULL, NULL, &r, NULL, 0);
 *     lf_stats_jackknife(data, n, 2, binsize, ratio, NULL, &value, &err, NULL);
 *
 * Flow sampling: log weights log w_i = -S(phi_i) - log q(phi_i) (any constant shift):
 *
 *     double ess = lf_stats_ess(logw, n);           // (sum w)^2 / (n sum w^2), in (0, 1]
 *     lf_stats_reweight(logw, obs, n, 1, &value, &err);   // sum w O / sum w, jackknife
 *
 * Degenerate input never produces NaN silently: n = 0 is LF_EINVAL; very short series,
 * zero variance, a window search that hit wmax and a non-positive Gamma-method variance
 * are reported in lf_stats_gamma_res.flags with documented finite results.
 *
 * Thread contract: all functions are sequential, deterministic (sums in index order) and
 * thread-safe (no global state except the per-thread error record). Functions that need
 * scratch memory allocate it once per call with lf_alloc (LF_ENOMEM on failure); none is
 * meant for inner loops.
 */
#ifndef LATFLOW_STATS_H
#define LATFLOW_STATS_H

#include <stdint.h>

#include "latflow/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- simple estimates */
/* Arithmetic mean (0 for n = 0). Summed in index order. */
double lf_stats_mean(const double *x, long n);
/* Mean and naive standard error sqrt(sum (x-m)^2 / (n (n-1))) (err = 0 for n = 1).
 * LF_EINVAL for n < 1. Either output pointer may be NULL. */
int lf_stats_mean_err(const double *x, long n, double *mean, double *err);
/* Block averages: out[b] = mean of x[b*binsize .. (b+1)*binsize - 1] for b < n / binsize
 * (the trailing n % binsize samples are dropped). *nbins receives n / binsize.
 * LF_EINVAL if binsize < 1 or n < binsize. out needs n / binsize doubles. */
int lf_stats_bin(const double *x, long n, long binsize, double *out, long *nbins);

/* ---------------------------------------------------------------- Gamma method */
typedef struct {
  double S;  /* Wolff's S_tau (default 1.5). S = 0 switches the autocorrelation analysis
              * off (W = 0, tau_int = 0.5): for data known to be independent. */
  long wmax; /* largest window tried; 0 (default) = (shortest replica) / 2 */
  /* Replicas (independent Markov chains of the same ensemble, Wolff sec. 3.4): nrep
   * series of lengths replen[0..nrep-1] concatenated in the data (sum = n). nrep = 0 or 1
   * (default) = one chain. Gamma(t) sums the lag-t products within each replica over
   * N - nrep t pairs; derived quantities get Wolff's bias correction of f(abar) for
   * nrep >= 2 (from the replica values f(abar_r), as in UWerr). The caller keeps replen alive during the call. */
  int nrep;
  const long *replen;
} lf_stats_gamma_opts;

/* Result flags (bits of lf_stats_gamma_res.flags). */
enum {
  LF_STATS_FEW = 1u,       /* n < LF_STATS_MIN_N: no autocorrelation analysis, naive error */
  LF_STATS_ZERO_VAR = 2u,  /* all samples equal: err = 0, tau_int = 0.5, rho = (1, 0, ...) */
  LF_STATS_NO_WINDOW = 4u, /* criterion not met up to wmax: W = wmax (series too short) */
  LF_STATS_NEG_VAR = 8u    /* Gamma(0) + 2 sum Gamma(t) <= 0 (anticorrelated noise):
                            * falls back to the naive error, tau_int = 0.5 */
};
#define LF_STATS_MIN_N 4

typedef struct {
  double value;       /* mean (or f(means) for derived quantities)                     */
  double err;         /* error of value with autocorrelations (bias-corrected Gamma)   */
  double err_err;     /* statistical error of err: err * sqrt((W + 1/2) / n)           */
  double tau_int;     /* integrated autocorrelation time at W (0.5 = independent)      */
  double tau_int_err; /* Wolff eq. (42): tau_int * sqrt((4 W + 2) / n)                 */
  double naive_err;   /* sqrt(Gamma(0) / n): the error if the data were independent    */
  double var;         /* Gamma(0) of the (projected) series, bias-corrected            */
  long window;        /* W chosen by the automatic windowing                           */
  long n;             /* number of samples used                                        */
  unsigned flags;     /* LF_STATS_* above; 0 for a normal analysis                     */
} lf_stats_gamma_res;

/* Defaults: S = 1.5, wmax = 0 (n/2), one replica. */
void lf_stats_gamma_opts_default(lf_stats_gamma_opts *o);

/* Gamma-method analysis of one time series x[0..n-1] (Markov chain order).
 * opts NULL = defaults. rho (may be NULL) receives the bias-corrected normalised
 * autocorrelation function rho[t] = Gamma(t)/Gamma(0) for t < nrho (t >= n gives 0).
 * LF_EINVAL for n < 1, non-finite data, S < 0, replica lengths < 1 or not summing to n;
 * LF_ENOMEM. */
int lf_stats_gamma(const double *x, long n, const lf_stats_gamma_opts *opts,
                   lf_stats_gamma_res *res, double *rho, long nrho);

/* Statistical error of the normalised autocorrelation function (for plots), Lüscher's
 * formula [hep-lat/0409106 eq. (E.11)] as used by Wolff's UWerr:
 *   drho[t] = sqrt( (1/n) sum_{k=max(1,t-W)}^{t+W} (rho[k+t] + rho[|k-t|] - 2 rho[t] rho[k])^2 )
 * for t < nrho, with rho[t] = 0 for t >= nrho. Pass rho from lf_stats_gamma (nrho of
 * about 2W or more) and W = res.window, n = res.n. LF_EINVAL if nrho < 1, n < 1 or W < 0. */
int lf_stats_rho_err(const double *rho, long nrho, long W, long n, double *drho);

/* A derived quantity F = f(A_1, ..., A_nobs) of primary means, data[i*nobs + a] = sample i
 * of observable a. Wolff's linearisation: value = f(abar); the series
 * sum_a (df/dA_a) (data_ia - abar_a), with derivatives by central differences of step
 * h_a = sqrt(Gamma_aa(0) / n) / 2 (as in Wolff's UWerr), is analysed like
 * lf_stats_gamma. f must be smooth near abar. Errors as lf_stats_gamma, plus LF_ENAN if f
 * returns a non-finite value. */
typedef double (*lf_stats_fn)(const double *means, int nobs, void *ctx);
int lf_stats_gamma_derived(const double *data, long n, int nobs, lf_stats_fn f, void *ctx,
                           const lf_stats_gamma_opts *opts, lf_stats_gamma_res *res,
                           double *rho, long nrho);

/* ---------------------------------------------------------------- resampling */
/* Jackknife over bins of `binsize` consecutive samples (nb = n / binsize bins, trailing
 * n % binsize samples dropped; choose binsize >> tau_int for correlated data):
 * value = f(means of all used samples), err^2 = (nb-1)/nb sum_b (f_b - fbar)^2 with f_b
 * evaluated on the means without bin b. Needs nb >= 2. value, err and bias may each be
 * NULL; *bias receives the jackknife bias estimate (nb - 1)(fbar - value). */
int lf_stats_jackknife(const double *data, long n, int nobs, long binsize, lf_stats_fn f,
                       void *ctx, double *value, double *err, double *bias);

/* Bootstrap over bins: nboot resamples of nb bins drawn with replacement, replica r drawn
 * from the Philox stream (seed, LF_RNG_TAG(LF_STATS_RNG_BOOTSTRAP, 0), r), so the result
 * is a pure function of (data, seed). value = f(means), err = standard deviation of the
 * replica values f_r (divisor nboot - 1). Needs nb >= 2, nboot >= 2. */
#define LF_STATS_RNG_BOOTSTRAP 0x5357u /* purpose tag of bootstrap streams ("SW") */
int lf_stats_bootstrap(const double *data, long n, int nobs, long binsize, long nboot,
                       uint64_t seed, lf_stats_fn f, void *ctx, double *value, double *err);

/* ---------------------------------------------------------------- flow sampling */
/* log(sum_i exp(x_i)), stable for any magnitude (max shift, summed in index order).
 * n = 0 or all x = -inf: -inf; any +inf: +inf; any NaN: NaN. */
double lf_stats_logsumexp(const double *x, long n);
/* Effective sample size fraction ESS = (sum w)^2 / (n sum w^2) in [1/n, 1] from log
 * weights, computed as exp(2 lse(logw) - lse(2 logw) - log n). -inf entries are zero
 * weights. Returns 0 for n = 0 or when no weight is finite, NaN if any logw is NaN. */
double lf_stats_ess(const double *logw, long n);
/* Reweighting estimator <O> = sum w O / sum w (w = exp(logw - max)), with a jackknife
 * error over bins of `binsize` samples (the ratio is recomputed without each bin).
 * err may be NULL. LF_EINVAL for fewer than 2 bins, NaN input or no finite weight. */
int lf_stats_reweight(const double *logw, const double *obs, long n, long binsize,
                      double *value, double *err);

#ifdef __cplusplus
}
#endif
#endif
