/*
 * symmetry.c -- gauge and translation invariance of every action.
 *
 * Gauge: S(U^g) = S(U) for a random gauge transformation g (lf_gauge_transform_random),
 * and the force is covariant, F^g(x, mu) = g(x) F(x, mu) g(x)^dag (checked at all links).
 * Translation: S of the field shifted by one site in each direction equals S.
 * Cases: Wilson, LW (c1 = -1/12), LW with plane coefficients; U(1), SU(2), SU(3); 2D 8x6,
 * 4D 4^3x6. Tolerance: relative 1e-12 (rounding in sums of ~1e3 terms).
 */
#include <latflow/action.h>
#include <string.h>

#include "lf_test.h"

#define SYM_TOL 1e-12

int main(void) {
  const lf_group groups[3] = {LF_U1, LF_SU2, LF_SU3};
  const double kplane[LF_MAXPLANES] = {1.3, 0.7, 1.1, 0.9, 1.25, 0.8};
  for (int d = 0; d < 2; d++) {
    int nd = d ? 4 : 2;
    int L[4] = {8, 6, 4, 4};
    if (nd == 4) L[0] = 4, L[1] = 4, L[3] = 6;
    lf_lattice lat;
    if (lf_lattice_init(&lat, nd, L)) return 1;
    for (int gi = 0; gi < 3; gi++) {
      lf_gauge *f, *h;
      if (lf_gauge_alloc(&f, &lat, groups[gi]) || lf_gauge_alloc(&h, &lat, groups[gi])) return 1;
      const int n = f->n;
      const size_t ls = lf_gauge_linksize(f), nel = f->nlinks * ls;
      lf_gauge_hot(f, 31 + (uint64_t)gi);
      lf_cplx *gt, *F = lf_alloc(sizeof(lf_cplx) * nel), *Fg = lf_alloc(sizeof(lf_cplx) * nel);
      if (lf_gauge_transform_alloc(&gt, f) || !F || !Fg) return 1;
      lf_gauge_transform_random(f, gt, 555);
      for (int c = 0; c < 3; c++) {
        lf_action a;
        lf_action_init(&a, c == 0 ? LF_ACTION_WILSON : LF_ACTION_LW, 1.789, nd);
        if (c == 2)
          for (int p = 0; p < LF_MAXPLANES; p++) a.plane_coef[p] = kplane[p];
        static const char *cname[3] = {"wilson", "lw", "lw(k)"};
        char what[160];
        double S = lf_action_eval(&a, f);
        /* gauge */
        lf_gauge_copy(h, f);
        lf_gauge_transform_apply(h, gt);
        snprintf(what, sizeof what, "%dD %s %s: S gauge invariant", nd, lf_group_name(groups[gi]), cname[c]);
        LF_TEST_REL(what, lf_action_eval(&a, h), S, SYM_TOL);
        lf_action_force(&a, f, F);
        lf_action_force(&a, h, Fg);
        double dev = 0;
        for (long s = 0; s < lat.vol; s++)
          for (int mu = 0; mu < nd; mu++) {
            lf_cplx t[9], r[9];
            size_t off = ((size_t)s * (size_t)nd + (size_t)mu) * ls;
            lf_mat_mul(n, t, gt + (size_t)s * ls, F + off);
            lf_mat_mul_dag(n, r, t, gt + (size_t)s * ls);
            double dd = lf_mat_dist(n, r, Fg + off);
            if (dd > dev) dev = dd;
          }
        snprintf(what, sizeof what, "%dD %s %s: force covariant, max |g F g^dag - F^g|", nd,
                 lf_group_name(groups[gi]), cname[c]);
        LF_TEST_ABS(what, dev, 0.0, SYM_TOL * 10);
        /* translation by one site in each direction */
        for (int mu = 0; mu < nd; mu++) {
          for (long s = 0; s < lat.vol; s++)
            memcpy(h->u + (size_t)s * (size_t)nd * ls,
                   f->u + (size_t)lf_lattice_up(&lat, s, mu) * (size_t)nd * ls,
                   sizeof(lf_cplx) * (size_t)nd * ls);
          snprintf(what, sizeof what, "%dD %s %s: S invariant under shift along %d", nd,
                   lf_group_name(groups[gi]), cname[c], mu);
          LF_TEST_REL(what, lf_action_eval(&a, h), S, SYM_TOL);
        }
      }
      lf_free(gt);
      lf_free(F);
      lf_free(Fg);
      lf_gauge_free(f);
      lf_gauge_free(h);
    }
    lf_lattice_clear(&lat);
  }
  return lf_test_done();
}
