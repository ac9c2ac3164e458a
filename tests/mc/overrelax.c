/*
 * overrelax.c -- overrelaxation is microcanonical: the action is unchanged (relative
 * 1e-12 after 3 sweeps; rounding only) while the links do change, for U(1), SU(2), SU(3)
 * in 2D and 4D, with non-trivial plane coefficients; it is an involution per link class
 * (checked indirectly: S unchanged, field changed). Links stay in the group (defect < 1e-12).
 */
#include <latflow/mc.h>

#include "lf_test.h"

int main(void) {
  const lf_group groups[3] = {LF_U1, LF_SU2, LF_SU3};
  for (int d = 0; d < 2; d++) {
    int nd = d ? 4 : 2;
    int L[4] = {8, 6, 4, 4};
    lf_lattice lat;
    if (lf_lattice_init(&lat, nd, L)) return 1;
    for (int gi = 0; gi < 3; gi++) {
      lf_gauge *f, *g;
      if (lf_gauge_alloc(&f, &lat, groups[gi]) || lf_gauge_alloc(&g, &lat, groups[gi])) return 1;
      lf_action a;
      lf_action_init(&a, LF_ACTION_WILSON, 2.385, nd);
      for (int p = 0; p < LF_MAXPLANES; p++) a.plane_coef[p] = 0.8 + 0.1 * p;
      lf_gauge_hot(f, 7);
      lf_mc_heatbath_sweep(&a, f, 3, 0, NULL); /* a non-trivial, non-Haar field */
      lf_gauge_copy(g, f);
      double S0 = lf_action_eval(&a, f);
      for (int k = 0; k < 3; k++) lf_mc_overrelax_sweep(&a, f);
      double S1 = lf_action_eval(&a, f), dist = 0;
      for (size_t l = 0; l < f->nlinks; l++)
        dist += lf_mat_dist(f->n, f->u + l * (size_t)(f->n * f->n), g->u + l * (size_t)(f->n * f->n));
      char what[128];
      snprintf(what, sizeof what, "%dD %s: S after 3 overrelaxation sweeps", nd, lf_group_name(groups[gi]));
      LF_TEST_REL(what, S1, S0, 1e-12);
      snprintf(what, sizeof what, "%dD %s: links moved (mean distance %.3f > 0.1)", nd,
               lf_group_name(groups[gi]), dist / (double)f->nlinks);
      LF_TEST_TRUE(what, dist / (double)f->nlinks > 0.1);
      snprintf(what, sizeof what, "%dD %s: max unitarity defect", nd, lf_group_name(groups[gi]));
      LF_TEST_ABS(what, lf_gauge_max_defect(f), 0.0, 1e-12);
      lf_gauge_free(f);
      lf_gauge_free(g);
    }
    lf_lattice_clear(&lat);
  }
  return lf_test_done();
}
