/*
 * errors.c -- bad input gives a status and a message that says what to change:
 * beta <= 0 / NaN / Inf, tau <= 0 / NaN, nsteps < 1, unknown integrator, heatbath and
 * overrelaxation with the Lüscher-Weisz action (LF_EUNSUP), action for the wrong
 * dimension (LF_ESTATE), negative sweep/trajectory index; the field is left unchanged.
 */
#include <latflow/mc.h>
#include <string.h>

#include "lf_test.h"

static void expect(const char *what, int rc, int code, const char *needle) {
  char buf[256];
  snprintf(buf, sizeof buf, "%s -> %s [%s]", what, lf_strerror(rc), lf_last_error());
  LF_TEST_TRUE(buf, rc == code && strstr(lf_last_error(), needle) != NULL);
  lf_error_clear();
}

int main(void) {
  int L[2] = {4, 4};
  lf_lattice lat;
  lf_gauge *f, *g;
  if (lf_lattice_init(&lat, 2, L) || lf_gauge_alloc(&f, &lat, LF_SU2) ||
      lf_gauge_alloc(&g, &lat, LF_SU2))
    return 1;
  lf_gauge_hot(f, 1);
  lf_gauge_copy(g, f);
  lf_action a;
  expect("action beta = 0", lf_action_init(&a, LF_ACTION_WILSON, 0.0, 2), LF_EINVAL, "beta");
  expect("action beta = -1", lf_action_init(&a, LF_ACTION_WILSON, -1.0, 2), LF_EINVAL, "beta");
  expect("action beta = NaN", lf_action_init(&a, LF_ACTION_WILSON, NAN, 2), LF_EINVAL, "finite");
  expect("action beta = Inf", lf_action_init(&a, LF_ACTION_WILSON, INFINITY, 2), LF_EINVAL, "finite");
  expect("action nd = 5", lf_action_init(&a, LF_ACTION_WILSON, 1.0, 5), LF_EINVAL, "dimension");
  lf_action_kind kind;
  expect("parse action 'iwasaki'", lf_action_parse_kind("iwasaki", &kind), LF_EINVAL, "wilson or lw");

  lf_action_init(&a, LF_ACTION_WILSON, 2.0, 2);
  lf_hmc_work *w;
  if (lf_mc_hmc_work_alloc(&w, f)) return 1;
  lf_hmc_result res;
  lf_hmc_params p = {.tau = 1.0, .nsteps = 4, .integrator = LF_INTEGRATOR_LEAPFROG};
  lf_hmc_params bad = p;
  bad.tau = 0;
  expect("hmc tau = 0", lf_mc_hmc_trajectory(&a, &bad, f, 1, 0, w, &res), LF_EINVAL, "tau");
  bad.tau = NAN;
  expect("hmc tau = NaN", lf_mc_hmc_trajectory(&a, &bad, f, 1, 0, w, &res), LF_EINVAL, "tau");
  bad = p;
  bad.nsteps = 0;
  expect("hmc nsteps = 0", lf_mc_hmc_trajectory(&a, &bad, f, 1, 0, w, &res), LF_EINVAL, "nsteps");
  bad = p;
  bad.integrator = (lf_integrator)7;
  expect("hmc integrator 7", lf_mc_hmc_trajectory(&a, &bad, f, 1, 0, w, &res), LF_EINVAL, "integrator");
  lf_integrator it;
  expect("parse integrator 'euler'", lf_mc_integrator_parse("euler", &it), LF_EINVAL, "leapfrog or omelyan");
  expect("hmc trajectory -1", lf_mc_hmc_trajectory(&a, &p, f, 1, -1, w, &res), LF_EINVAL, "negative");

  lf_action bada = a;
  bada.beta = -2.0;
  expect("hmc with beta = -2", lf_mc_hmc_trajectory(&bada, &p, f, 1, 0, w, &res), LF_EINVAL, "beta");
  expect("heatbath with beta = -2", lf_mc_heatbath_sweep(&bada, f, 1, 0, NULL), LF_EINVAL, "beta");
  bada.beta = NAN;
  expect("force with beta = NaN", lf_action_force(&bada, f, w ? lf_mc_hmc_momenta(w) : NULL), LF_EINVAL, "beta");
  expect("force_add without work array (SU(2))", lf_action_force_add(&a, f, -0.1, lf_mc_hmc_momenta(w), NULL),
         LF_EINVAL, "work array");
  bada = a;
  bada.nd = 4;
  expect("action for 4D on a 2D field", lf_mc_heatbath_sweep(&bada, f, 1, 0, NULL), LF_ESTATE, "dimensions");

  lf_action lw;
  lf_action_init(&lw, LF_ACTION_LW, 2.0, 2);
  expect("heatbath with LW", lf_mc_heatbath_sweep(&lw, f, 1, 0, NULL), LF_EUNSUP, "Wilson action");
  expect("overrelaxation with LW", lf_mc_overrelax_sweep(&lw, f), LF_EUNSUP, "Wilson action");
  expect("heatbath sweep -3", lf_mc_heatbath_sweep(&a, f, 1, -3, NULL), LF_EINVAL, "negative");
  LF_TEST_TRUE("field unchanged by the failed calls",
               memcmp(f->u, g->u, sizeof(lf_cplx) * f->nlinks * 4) == 0);
  /* HMC with LW works (smoke) */
  int rc = lf_mc_hmc_trajectory(&lw, &p, f, 1, 0, w, &res);
  LF_TEST_TRUE("HMC with the LW action runs", rc == LF_OK && isfinite(res.dH));
  lf_mc_hmc_work_free(w);
  lf_gauge_free(f);
  lf_gauge_free(g);
  lf_lattice_clear(&lat);
  return lf_test_done();
}
