/*
 * threads.c -- the same seed gives bitwise identical fields with 1 and 2 OpenMP threads,
 * for HMC (2 Omelyan trajectories, also dH) and heatbath + overrelaxation (2 sweeps).
 * Lattices have >= 1024 sites so that the loops really run in parallel
 * (LF_OMP_MIN_SITES); cases: 4D SU(3) 6^4, 2D U(1) 32x32, 2D SU(2) 32x32 with
 * non-trivial plane coefficient.
 */
#include <latflow/mc.h>
#include <omp.h>
#include <string.h>

#include "lf_test.h"

static int run(lf_gauge *f, const lf_action *a, int nthreads, int hmc, double *dH) {
  omp_set_num_threads(nthreads);
  lf_gauge_hot(f, 99);
  if (hmc) {
    lf_hmc_work *w;
    if (lf_mc_hmc_work_alloc(&w, f)) return 1;
    lf_hmc_params p = {.tau = 0.5, .nsteps = 3, .integrator = LF_INTEGRATOR_OMELYAN};
    *dH = 0;
    for (long t = 0; t < 2; t++) {
      lf_hmc_result res;
      if (lf_mc_hmc_trajectory(a, &p, f, 4242, t, w, &res)) return 1;
      *dH += res.dH;
    }
    lf_mc_hmc_work_free(w);
  } else {
    for (long k = 0; k < 2; k++)
      if (lf_mc_heatbath_sweep(a, f, 4242, k, NULL) || lf_mc_overrelax_sweep(a, f)) return 1;
  }
  return 0;
}

int main(void) {
  struct { int nd, L; lf_group g; double beta; } cases[3] = {
      {4, 6, LF_SU3, 5.9}, {2, 32, LF_U1, 2.2}, {2, 32, LF_SU2, 3.1}};
  for (int c = 0; c < 3; c++) {
    int L[4] = {cases[c].L, cases[c].L, cases[c].L, cases[c].L};
    lf_lattice lat;
    lf_gauge *f1, *f2;
    if (lf_lattice_init(&lat, cases[c].nd, L) || lf_gauge_alloc(&f1, &lat, cases[c].g) ||
        lf_gauge_alloc(&f2, &lat, cases[c].g))
      return 1;
    lf_action a;
    lf_action_init(&a, LF_ACTION_WILSON, cases[c].beta, cases[c].nd);
    if (c == 2) a.plane_coef[0] = 1.37;
    size_t bytes = sizeof(lf_cplx) * f1->nlinks * lf_gauge_linksize(f1);
    for (int hmc = 0; hmc < 2; hmc++) {
      double dH1 = 0, dH2 = 0;
      if (run(f1, &a, 1, hmc, &dH1) || run(f2, &a, 2, hmc, &dH2)) {
        printf("run failed: %s\n", lf_last_error());
        return 1;
      }
      char what[128];
      snprintf(what, sizeof what, "%dD %s %s: field bitwise equal with 1 and 2 threads",
               cases[c].nd, lf_group_name(cases[c].g), hmc ? "HMC" : "heatbath+OR");
      LF_TEST_TRUE(what, memcmp(f1->u, f2->u, bytes) == 0);
      if (hmc) {
        snprintf(what, sizeof what, "%dD %s HMC: sum of dH with 1 and 2 threads (bitwise)",
                 cases[c].nd, lf_group_name(cases[c].g));
        LF_TEST_ABS(what, dH1, dH2, 0.0);
      }
    }
    lf_gauge_free(f1);
    lf_gauge_free(f2);
    lf_lattice_clear(&lat);
  }
  return lf_test_done();
}
