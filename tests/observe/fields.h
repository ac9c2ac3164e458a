/*
 * tests/observe/fields.h -- test fields for the observables: random near-identity fields,
 * lattice translations, and the smooth abelian constant-field-strength configurations
 * ("twisted" construction: every plaquette in the 01 plane has angle 2 pi q01 / (L0 L1),
 * every plaquette in the 23 plane 2 pi q23 / (L2 L3), all others 1), embedded in SU(N) as
 * diag(e^{i phi}, e^{-i phi}, 1).
 */
#ifndef LF_TEST_OBSERVE_FIELDS_H
#define LF_TEST_OBSERVE_FIELDS_H

#include "latflow/field.h"

/* Every link exp(eps X), X Gaussian algebra element; keyed by (seed, site). */
static inline void field_near(lf_gauge *f, double eps, uint64_t seed) {
  for (long s = 0; s < f->lat->vol; s++) {
    lf_rng r;
    lf_rng_init(&r, seed, LF_RNG_TAG(LF_RNG_PURPOSE_TEST, 7), (uint64_t)s);
    for (int mu = 0; mu < f->lat->nd; mu++) lf_group_random_near(f->group, lf_gauge_link(f, s, mu), eps, &r);
  }
}

/* g = f translated: g_mu(x) = f_mu(x + nu^). */
static inline void field_shift(lf_gauge *g, const lf_gauge *f, int nu) {
  size_t ls = lf_gauge_linksize(f);
  for (long s = 0; s < f->lat->vol; s++) {
    long sp = lf_lattice_up(f->lat, s, nu);
    for (int mu = 0; mu < f->lat->nd; mu++)
      lf_mat_copy(f->n, lf_gauge_link(g, s, mu), lf_gauge_link(f, sp, mu));
    (void)ls;
  }
}

/* Phase of link (x, mu) of the constant-field configuration in the plane (a, b), a < b:
 * U_b(x) = exp(i th x_a), U_a(x) = exp(-i th L_a x_b) on the last slice x_a = L_a - 1. */
static inline double twist_phase(const lf_lattice *lat, const int *x, int mu, int a, int b,
                                 double th) {
  if (mu == b) return th * (double)x[a];
  if (mu == a && x[a] == lat->L[a] - 1) return -th * (double)lat->L[a] * (double)x[b];
  return 0.0;
}

/* Constant field strength: plane (0,1) with charge q01 and (nd = 4) plane (2,3) with q23. */
static inline void field_twisted(lf_gauge *f, int q01, int q23) {
  const lf_lattice *lat = f->lat;
  const double th01 = LF_TWOPI * q01 / ((double)lat->L[0] * lat->L[1]);
  const double th23 = lat->nd == 4 ? LF_TWOPI * q23 / ((double)lat->L[2] * lat->L[3]) : 0.0;
  for (long s = 0; s < lat->vol; s++) {
    int x[LF_MAXDIM];
    lf_lattice_coords(lat, s, x);
    for (int mu = 0; mu < lat->nd; mu++) {
      double ph = twist_phase(lat, x, mu, 0, 1, th01);
      if (lat->nd == 4) ph += twist_phase(lat, x, mu, 2, 3, th23);
      lf_cplx *u = lf_gauge_link(f, s, mu);
      lf_mat_identity(f->n, u);
      u[0] = cexp(LF_I * ph);
      if (f->n > 1) u[f->n + 1] = cexp(-LF_I * ph);
    }
  }
}

/* Apply a random gauge transformation (seed) in place. */
static inline int field_gauge(lf_gauge *f, uint64_t seed) {
  lf_cplx *g;
  if (lf_gauge_transform_alloc(&g, f)) return -1;
  lf_gauge_transform_random(f, g, seed);
  lf_gauge_transform_apply(f, g);
  lf_free(g);
  return 0;
}

#endif
