/*
 * tests/observe/topo.c -- topological charge and energy density.
 * 2D U(1): geometric Q is an integer on random fields, exactly q on the constant-field
 * configurations with charge q = 1, 2, -1, gauge invariant, density sums to Q.
 * 4D: cold field Q = 0, E = 0; clover Q, E gauge and translation invariant on rough fields;
 * constant abelian field strength (fluxes in the 01 and 23 planes) embedded in U(1),
 * SU(2), SU(3): clover Q = c (V / 4 pi^2) sin th01 sin th23 (c = 1 for U(1), 2 for SU(N)),
 * which tends to c q01 q23; E_clov and E_plaq against their closed forms.
 */
#include <stdio.h>

#include "fields.h"
#include "latflow/observe.h"
#include "lf_test.h"

#define TOL_INT 1e-10 /* integer charge: rounding of V angles */
#define TOL_INV 1e-12
#define TOL_EXACT 1e-12

static void test_2d(void) {
  const int L[2] = {12, 10};
  lf_lattice lat;
  lf_lattice_init(&lat, 2, L);
  lf_gauge *f;
  lf_gauge_alloc(&f, &lat, LF_U1);
  char what[128];
  double Q, Qg;
  for (int k = 0; k < 4; k++) {
    if (k < 2) lf_gauge_hot(f, 100 + (uint64_t)k);
    else field_near(f, 0.8 + 0.4 * k, 200 + (uint64_t)k);
    int rc = lf_observe_topo_u1(f, &Q);
    snprintf(what, sizeof what, "2D U(1) %s field %d: Q = %.12f is an integer", k < 2 ? "hot" : "rough", k, Q);
    LF_TEST_ABS(what, Q, round(Q), TOL_INT);
    LF_TEST_TRUE("  lf_observe_topo_u1 returns LF_OK", rc == LF_OK);
    double q[120], sum = 0;
    lf_observe_topo_u1_density(f, q);
    for (int s = 0; s < 120; s++) sum += q[s];
    LF_TEST_ABS("  density sums to Q", sum, Q, TOL_INT);
    field_gauge(f, 7);
    lf_observe_topo_u1(f, &Qg);
    LF_TEST_ABS("  gauge invariance of Q", Qg, Q, TOL_INT);
  }
  const int qs[3] = {1, 2, -1};
  for (int k = 0; k < 3; k++) {
    field_twisted(f, qs[k], 0);
    lf_observe_topo_u1(f, &Q);
    snprintf(what, sizeof what, "2D U(1) constant field strength: Q = %d", qs[k]);
    LF_TEST_ABS(what, Q, qs[k], TOL_INT);
    double E;
    lf_observe_energy(f, NULL, &E);
    double th = LF_TWOPI * qs[k] / 120.0;
    LF_TEST_ABS("  clover E = sin^2 theta", E, sin(th) * sin(th), TOL_EXACT);
    lf_observe_energy(f, &E, NULL);
    LF_TEST_ABS("  plaquette E = 2 (1 - cos theta)", E, 2 * (1 - cos(th)), TOL_EXACT);
  }
  int rc = lf_observe_topo_clover(f, &Q);
  LF_TEST_TRUE("clover charge of a 2D field: LF_EINVAL", rc == LF_EINVAL);
  printf("     message: %s\n", lf_last_error());
  lf_gauge_free(f);
  lf_lattice_clear(&lat);
}

static void test_4d(lf_group g) {
  const int L[4] = {6, 4, 4, 6};
  lf_lattice lat;
  lf_lattice_init(&lat, 4, L);
  lf_gauge *f, *h;
  lf_gauge_alloc(&f, &lat, g);
  lf_gauge_alloc(&h, &lat, g);
  char what[160];
  const char *gn = lf_group_name(g);
  double Q, Ec, Ep, Q2, Ec2;
  lf_observe_topo_clover(f, &Q);
  lf_observe_energy(f, &Ep, &Ec);
  snprintf(what, sizeof what, "4D %s cold field: clover Q = 0", gn);
  LF_TEST_ABS(what, Q, 0.0, TOL_EXACT);
  snprintf(what, sizeof what, "4D %s cold field: E_clov = 0 and E_plaq = 0", gn);
  LF_TEST_ABS(what, fabs(Ec) + fabs(Ep), 0.0, TOL_EXACT);

  lf_gauge_hot(f, 17);
  lf_observe_topo_clover(f, &Q);
  lf_observe_energy(f, NULL, &Ec);
  lf_gauge_copy(h, f);
  field_gauge(h, 18);
  lf_observe_topo_clover(h, &Q2);
  lf_observe_energy(h, NULL, &Ec2);
  snprintf(what, sizeof what, "4D %s hot field: gauge invariance of clover Q (Q = %.4f)", gn, Q);
  LF_TEST_ABS(what, Q2, Q, TOL_INV);
  snprintf(what, sizeof what, "4D %s hot field: gauge invariance of clover E", gn);
  LF_TEST_ABS(what, Ec2, Ec, TOL_INV);
  for (int nu = 0; nu < 4; nu++) {
    field_shift(h, f, nu);
    lf_observe_topo_clover(h, &Q2);
    lf_observe_energy(h, NULL, &Ec2);
    snprintf(what, sizeof what, "4D %s hot field: translation invariance of Q and E, shift %d^", gn, nu);
    LF_TEST_ABS(what, fabs(Q2 - Q) + fabs(Ec2 - Ec), 0.0, TOL_INV);
  }
  /* thread-count independence of the reductions */
#ifdef _OPENMP
  {
    extern int omp_get_max_threads(void);
    extern void omp_set_num_threads(int);
    int nth = omp_get_max_threads();
    omp_set_num_threads(1);
    lf_observe_topo_clover(f, &Q2);
    lf_observe_energy(f, NULL, &Ec2);
    omp_set_num_threads(nth);
    snprintf(what, sizeof what, "4D %s: clover Q and E bitwise identical with %d threads and 1", gn, nth);
    LF_TEST_TRUE(what, Q2 == Q && Ec2 == Ec);
  }
#endif
  /* per-site densities sum to the totals */
  static double e[6 * 4 * 4 * 6], q[6 * 4 * 4 * 6];
  lf_observe_clover_density(f, e, q);
  double se = 0, sq = 0;
  for (long s = 0; s < lat.vol; s++) {
    se += e[s];
    sq += q[s];
  }
  snprintf(what, sizeof what, "4D %s: densities sum to V E_clov and Q", gn);
  LF_TEST_ABS(what, fabs(se / (double)lat.vol - Ec) + fabs(sq - Q), 0.0, TOL_EXACT);

  /* constant abelian field strength with charges (q01, q23) */
  const int q01[3] = {1, 2, -1}, q23[3] = {1, 1, 2};
  const double c = g == LF_U1 ? 1.0 : 2.0; /* tr of diag(1,-1)^2 */
  for (int k = 0; k < 3; k++) {
    field_twisted(f, q01[k], q23[k]);
    double t01 = LF_TWOPI * q01[k] / 24.0, t23 = LF_TWOPI * q23[k] / 24.0;
    lf_observe_topo_clover(f, &Q);
    lf_observe_energy(f, &Ep, &Ec);
    double want = c * (double)lat.vol / (4 * LF_PI * LF_PI) * sin(t01) * sin(t23);
    snprintf(what, sizeof what, "4D %s constant field (%d,%d): Q = c V sin th01 sin th23/(4pi^2) -> %g",
             gn, q01[k], q23[k], c * q01[k] * q23[k]);
    LF_TEST_ABS(what, Q, want, TOL_EXACT);
    /* lattice artefact 1 - Q / (c q01 q23) = (th01^2 + th23^2)/6 + O(th^4) */
    double cont = c * q01[k] * q23[k], art = (t01 * t01 + t23 * t23) / 6.0;
    snprintf(what, sizeof what, "  Q vs continuum %g: (1 - Q/%g) / ((th01^2 + th23^2)/6) = 1 + O(th^2)",
             cont, cont);
    LF_TEST_ABS(what, (1.0 - Q / cont) / art, 1.0, 0.1);
    LF_TEST_ABS("  E_clov = c (sin^2 th01 + sin^2 th23)", Ec,
                c * (sin(t01) * sin(t01) + sin(t23) * sin(t23)), TOL_EXACT);
    LF_TEST_ABS("  E_plaq = 2 c (2 - cos th01 - cos th23)", Ep, 2 * c * (2 - cos(t01) - cos(t23)), TOL_EXACT);
  }
  int rc = lf_observe_topo_u1(f, &Q);
  LF_TEST_TRUE("geometric charge of a 4D field: LF_EINVAL", rc == LF_EINVAL);
  lf_gauge_free(f);
  lf_gauge_free(h);
  lf_lattice_clear(&lat);
}

int main(void) {
  test_2d();
  test_4d(LF_U1);
  test_4d(LF_SU2);
  test_4d(LF_SU3);
  return lf_test_done();
}
