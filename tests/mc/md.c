/*
 * md.c -- molecular dynamics of the HMC: reversibility, step-size scaling of dH, and
 * <exp(-dH)> = 1 (Creutz's identity, a consequence of reversibility + area preservation).
 *
 * Field: 4D SU(3) Wilson, 4^4, beta = 5.7, 10 heatbath sweeps from a hot start.
 *  1. forward tau = 1 in 10 steps, flip P, forward again, flip P: max link distance and
 *     max momentum distance to the start < 1e-10 (rounding alone gives ~1e-13).
 *  2. dH at nsteps = 24, 48, 96 (same start, same momenta): least-squares exponent of
 *     |dH| vs eps must be 2 within 0.2 (both integrators are second order; the O(eps^4)
 *     terms at the largest step move the fitted exponent by < 0.1).
 *  3. 200 HMC trajectories (Omelyan, 4 steps, acceptance ~0.9): <exp(-dH)> = 1 within
 *     4 sigma; error by the Gamma method (lf_stats_gamma), binned
 *     error (20 bins) printed beside it.
 */
#include <latflow/mc.h>
#include <string.h>

#include "lf_test.h"
#include "mc_util.h"

static double hamiltonian(const lf_action *a, const lf_gauge *f, const lf_cplx *mom) {
  return lf_mc_hmc_kinetic(f, mom) + lf_action_eval(a, f);
}

int main(void) {
  int L[4] = {4, 4, 4, 4};
  lf_lattice lat;
  lf_gauge *f, *f0;
  if (lf_lattice_init(&lat, 4, L) || lf_gauge_alloc(&f, &lat, LF_SU3) ||
      lf_gauge_alloc(&f0, &lat, LF_SU3))
    return 1;
  lf_action a;
  lf_action_init(&a, LF_ACTION_WILSON, 5.7, 4);
  lf_gauge_hot(f, 3);
  for (long k = 0; k < 10; k++) lf_mc_heatbath_sweep(&a, f, 17, k, NULL);
  lf_gauge_copy(f0, f);
  lf_hmc_work *w;
  if (lf_mc_hmc_work_alloc(&w, f)) return 1;
  const size_t nel = f->nlinks * lf_gauge_linksize(f);
  lf_cplx *mom = lf_mc_hmc_momenta(w), *mom0 = lf_alloc(sizeof(lf_cplx) * nel);
  lf_mc_hmc_draw_momenta(f, mom0, 5, 0);
  char what[128];

  for (int ig = 0; ig < 2; ig++) {
    lf_integrator integ = ig ? LF_INTEGRATOR_OMELYAN : LF_INTEGRATOR_LEAPFROG;
    const char *iname = lf_mc_integrator_name(integ);
    /* 1. reversibility */
    lf_hmc_params p = {.tau = 1.0, .nsteps = 10, .integrator = integ};
    lf_gauge_copy(f, f0);
    memcpy(mom, mom0, sizeof(lf_cplx) * nel);
    int nf = 0;
    lf_mc_hmc_integrate(&a, &p, f, mom, w, &nf);
    for (size_t i = 0; i < nel; i++) mom[i] = -mom[i];
    lf_mc_hmc_integrate(&a, &p, f, mom, w, NULL);
    for (size_t i = 0; i < nel; i++) mom[i] = -mom[i];
    double du = 0, dp = 0;
    for (size_t l = 0; l < f->nlinks; l++) {
      double d = lf_mat_dist(3, f->u + 9 * l, f0->u + 9 * l);
      if (d > du) du = d;
      d = lf_mat_dist(3, mom + 9 * l, mom0 + 9 * l);
      if (d > dp) dp = d;
    }
    snprintf(what, sizeof what, "%s reversibility: max link distance", iname);
    LF_TEST_ABS(what, du, 0.0, 1e-10);
    snprintf(what, sizeof what, "%s reversibility: max momentum distance", iname);
    LF_TEST_ABS(what, dp, 0.0, 1e-10);
    snprintf(what, sizeof what, "%s force evaluations per trajectory (10 steps)", iname);
    LF_TEST_ABS(what, nf, ig ? 21 : 11, 0);

    /* 2. dH ~ eps^2 */
    const int ns[3] = {24, 48, 96};
    double lx[3], ly[3];
    for (int k = 0; k < 3; k++) {
      lf_gauge_copy(f, f0);
      memcpy(mom, mom0, sizeof(lf_cplx) * nel);
      double H0 = hamiltonian(&a, f, mom);
      p.nsteps = ns[k];
      lf_mc_hmc_integrate(&a, &p, f, mom, w, NULL);
      double dH = hamiltonian(&a, f, mom) - H0;
      printf("     %s nsteps %2d  dH = %.6e\n", iname, ns[k], dH);
      lx[k] = log(1.0 / ns[k]);
      ly[k] = log(fabs(dH));
    }
    double mx = (lx[0] + lx[1] + lx[2]) / 3, my = (ly[0] + ly[1] + ly[2]) / 3, sxx = 0, sxy = 0;
    for (int k = 0; k < 3; k++) {
      sxx += (lx[k] - mx) * (lx[k] - mx);
      sxy += (lx[k] - mx) * (ly[k] - my);
    }
    snprintf(what, sizeof what, "%s fitted exponent of |dH| vs step size", iname);
    LF_TEST_ABS(what, sxy / sxx, 2.0, 0.2);
  }

  /* 3. <exp(-dH)> = 1 */
  enum { NTRAJ = 200, NB = 20 };
  double x[NTRAJ], m, e;
  long nacc = 0;
  lf_hmc_params p = {.tau = 1.0, .nsteps = 4, .integrator = LF_INTEGRATOR_OMELYAN};
  lf_gauge_copy(f, f0);
  for (long t = 0; t < NTRAJ; t++) {
    lf_hmc_result res;
    if (lf_mc_hmc_trajectory(&a, &p, f, 2385, t, w, &res)) {
      printf("%s\n", lf_last_error());
      return 1;
    }
    x[t] = res.exp_mdH;
    nacc += res.accepted;
  }
  binned_mean_err(x, NTRAJ, NB, &m, &e);
  printf("     acceptance %.3f\n", (double)nacc / NTRAJ);
  LF_TEST_SIGMA("<exp(-dH)> over 200 Omelyan trajectories", m, e, 1.0, 4.0);

  lf_free(mom0);
  lf_mc_hmc_work_free(w);
  lf_gauge_free(f0);
  lf_gauge_free(f);
  lf_lattice_clear(&lat);
  return lf_test_done();
}
