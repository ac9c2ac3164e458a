/*
 * topo_u1.c -- 2D U(1) Wilson action on 8x8: topological susceptibility <Q^2> of the
 * geometric charge (lf_observe_topo_u1) against the exact finite-volume value.
 *
 * With a theta term, Z(theta) = sum_n f(n - theta / 2pi)^V, where
 *     f(nu) = (1/2pi) int_{-pi}^{pi} exp(beta cos phi) cos(nu phi) dphi
 * (per-plaquette angle phi in (-pi, pi], Q = sum phi_P / 2pi). Hence
 *     <Q^2> = -Z''(0)/Z(0) = -(1/2pi)^2 sum_n [V(V-1) f^(V-2) f'^2 + V f^(V-1) f''] / sum_n f^V
 * at nu = n, with f' = -(1/2pi) int phi sin(nu phi) e^(beta cos phi), f'' = -(1/2pi) int
 * phi^2 cos(nu phi) e^(beta cos phi) (Simpson, 20000 intervals, relative error < 1e-12).
 * Heatbath + 1 overrelaxation at beta = 1 and 3 (20000 sweeps) and HMC (Omelyan) at beta = 3
 * (8000 trajectories). Errors: Gamma method; tolerance 4 sigma.
 */
#include <latflow/mc.h>
#include <latflow/observe.h>
#include <omp.h>

#include "exact2d.h"
#include "lf_test.h"
#include "mc_util.h"

#define NMEAS 20000
#define NMEAS_HMC 8000

static double exact_q2(double beta, long V) {
  double chi;
  exact2d_u1(beta, V, NULL, &chi);
  return chi * (double)V; /* <Q^2> */
}

static double charge(const lf_gauge *f) {
  double Q = 0;
  lf_observe_topo_u1(f, &Q);
  return round(Q);
}

int main(void) {
  static double q2[NMEAS];
  /* 64 sites: one thread (lf_observe_topo_u1 forks a parallel region per call, which costs
   * more than the work on a lattice this small; results do not depend on it). */
  omp_set_num_threads(1);
  int L[2] = {8, 8};
  lf_lattice lat;
  lf_gauge *f;
  if (lf_lattice_init(&lat, 2, L) || lf_gauge_alloc(&f, &lat, LF_U1)) return 1;
  const double betas[2] = {1.0, 3.0};
  for (int b = 0; b < 2; b++) {
    lf_action a;
    lf_action_init(&a, LF_ACTION_WILSON, betas[b], 2);
    double ex = exact_q2(betas[b], lat.vol), m, e;
    printf("beta %g: exact <Q^2> = %.10f on 8x8\n", betas[b], ex);
    char what[128];
    lf_gauge_hot(f, 21);
    for (long k = 0; k < NMEAS + 100; k++) {
      if (lf_mc_heatbath_sweep(&a, f, 808 + (uint64_t)b, k, NULL) || lf_mc_overrelax_sweep(&a, f))
        return 1;
      if (k >= 100) q2[k - 100] = pow(charge(f), 2);
    }
    binned_mean_err(q2, NMEAS, 100, &m, &e);
    snprintf(what, sizeof what, "2D U(1) 8x8 beta %g heatbath+OR <Q^2>", betas[b]);
    LF_TEST_SIGMA(what, m, e, ex, 4.0);
    if (b == 1) {
      lf_hmc_work *w;
      if (lf_mc_hmc_work_alloc(&w, f)) return 1;
      lf_hmc_params p = {.tau = 1.0, .nsteps = 6, .integrator = LF_INTEGRATOR_OMELYAN};
      lf_gauge_hot(f, 22);
      for (long t = 0; t < NMEAS_HMC + 100; t++) {
        lf_hmc_result res;
        if (lf_mc_hmc_trajectory(&a, &p, f, 909, t, w, &res)) return 1;
        if (t >= 100) q2[t - 100] = pow(charge(f), 2);
      }
      lf_mc_hmc_work_free(w);
      binned_mean_err(q2, NMEAS_HMC, 80, &m, &e);
      snprintf(what, sizeof what, "2D U(1) 8x8 beta %g HMC <Q^2>", betas[b]);
      LF_TEST_SIGMA(what, m, e, ex, 4.0);
    }
  }
  lf_gauge_free(f);
  lf_lattice_clear(&lat);
  return lf_test_done();
}
