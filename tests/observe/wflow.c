/*
 * tests/observe/wflow.c -- Wilson flow (Lüscher 1006.4518, RK3 of appendix C).
 *  - normalisation and sign of Z = -F (Wilson action at beta = 2N): along the flow
 *    dS/dt = -sum_{x,mu,a} (dS/dw_a)^2 = -2 sum_links tr(F^dag F), compared with a
 *    Richardson-extrapolated forward difference of S along the flow;
 *  - the Wilson action decreases monotonically on a rough SU(3) field, E and t^2 E finite;
 *  - RK3 global error ~ eps^3: distance to a fine reference for eps, eps/2, eps/4;
 *  - cold field is a fixed point; gauge covariance (E(t) of a gauge-transformed field);
 *  - unitarity kept; t0 interpolation on a table; t0 of an ensemble as a derived quantity
 *    (lf_stats_gamma_derived over the averaged table) with the exact error; error paths.
 */
#include <stdio.h>
#include <string.h>

#include "fields.h"
#include "latflow/observe.h"
#include "latflow/stats.h"
#include "lf_test.h"

#define TOL_INV 1e-11
/* RK3 order estimates from eps/eps/2/eps/4: the leading correction c eps^4 makes the
 * coarse pair come out at ~3.25, the fine pair at ~3.13 (it halves with eps). */
#define TOL_ORDER_FINE 0.3
#define TOL_ORDER_COARSE 0.45

/* sum over links of ||U - V||_F */
static double field_dist(const lf_gauge *a, const lf_gauge *b) {
  double d = 0;
  size_t ls = lf_gauge_linksize(a);
  for (size_t l = 0; l < a->nlinks; l++) d += lf_mat_dist(a->n, a->u + l * ls, b->u + l * ls);
  return d / (double)a->nlinks;
}

static void test_group(lf_group g) {
  const int L[4] = {4, 4, 4, 4};
  lf_lattice lat;
  lf_lattice_init(&lat, 4, L);
  lf_gauge *f, *h, *ref;
  lf_gauge_alloc(&f, &lat, g);
  lf_gauge_alloc(&h, &lat, g);
  lf_gauge_alloc(&ref, &lat, g);
  lf_wflow_ws ws;
  int rc = lf_observe_wflow_init(&ws, f);
  LF_TEST_TRUE("workspace init LF_OK", rc == LF_OK);
  char what[200];
  const char *gn = lf_group_name(g);
  lf_action act;
  lf_action_init(&act, LF_ACTION_WILSON, 2.0 * (double)f->n, 4);

  /* dS/dt = -2 sum tr(F^dag F) at t = 0 (a rough field) */
  field_near(f, 0.4, 41);
  {
    size_t nc = f->nlinks * lf_gauge_linksize(f);
    lf_cplx *F = lf_alloc(sizeof(lf_cplx) * nc);
    lf_action_force(&act, f, F);
    double n2 = 0;
    for (size_t l = 0; l < f->nlinks; l++) n2 += lf_alg_norm2(f->n, F + l * lf_gauge_linksize(f));
    lf_free(F);
    const double hh = 1e-3;
    double S0 = lf_action_eval(&act, f);
    lf_gauge_copy(h, f);
    lf_observe_wflow_step(h, hh, &ws);
    double D1 = (lf_action_eval(&act, h) - S0) / hh;
    lf_gauge_copy(h, f);
    lf_observe_wflow_step(h, hh / 2, &ws);
    double D2 = (lf_action_eval(&act, h) - S0) / (hh / 2);
    double dSdt = 2 * D2 - D1; /* Richardson: O(h^2) */
    snprintf(what, sizeof what, "4D %s: dS/dt along the flow = -2 sum tr(F^dag F) (sign and normalisation of Z)", gn);
    LF_TEST_REL(what, dSdt / (-2.0 * n2), 1.0, 1e-5);
  }

  /* monotonic decrease of S on a rough field, finite E, t^2 E */
  lf_gauge_hot(f, 42);
  {
    double S = lf_action_eval(&act, f), Sprev = S;
    int mono = 1, finite = 1;
    lf_wflow_point pt;
    for (int k = 0; k < 20; k++) {
      lf_observe_wflow_step(f, 0.04, &ws);
      double Sk = lf_action_eval(&act, f);
      if (!(Sk < Sprev)) mono = 0;
      Sprev = Sk;
      lf_observe_wflow_point(f, 0.04 * (k + 1), &pt);
      if (!isfinite(pt.E_plaq + pt.E_clov + pt.t2E_plaq + pt.t2E_clov + pt.Q)) finite = 0;
    }
    snprintf(what, sizeof what, "4D %s hot field: Wilson action decreases at each of 20 steps (%.4g -> %.4g)", gn, S, Sprev);
    LF_TEST_TRUE(what, mono);
    printf("     t = 0.8: plaq %.6f E_plaq %.6f E_clov %.6f t2E_clov %.6f Q %.4f\n", pt.plaq, pt.E_plaq,
           pt.E_clov, pt.t2E_clov, pt.Q);
    LF_TEST_TRUE("  E, t^2 E, Q finite along the flow", finite);
    snprintf(what, sizeof what, "4D %s: unitarity defect after 20 steps", gn);
    LF_TEST_ABS(what, lf_gauge_max_defect(f), 0.0, 1e-12);
  }

  /* RK3: global error at t = 0.4 ~ eps^3; start from a rough field */
  field_near(f, 0.5, 43);
  const double T = 0.4;
  lf_gauge_copy(ref, f);
  lf_observe_wflow(ref, T, T / 100, &ws); /* its error is (0.004/0.0125)^3 ~ 3% of d[2] */
  double d[3];
  for (int k = 0; k < 3; k++) {
    lf_gauge_copy(h, f);
    lf_observe_wflow(h, T, 0.05 / (1 << k), &ws);
    d[k] = field_dist(h, ref);
  }
  printf("     RK3 errors at t = %.1f: eps 0.05 %.3e, 0.025 %.3e, 0.0125 %.3e\n", T, d[0], d[1], d[2]);
  snprintf(what, sizeof what, "4D %s: RK3 order log2(d(eps)/d(eps/2)) = 3", gn);
  LF_TEST_ABS(what, log2(d[0] / d[1]), 3.0, TOL_ORDER_COARSE);
  snprintf(what, sizeof what, "4D %s: RK3 order log2(d(eps/2)/d(eps/4)) = 3", gn);
  LF_TEST_ABS(what, log2(d[1] / d[2]), 3.0, TOL_ORDER_FINE);

  /* gauge covariance: E(t) and Q(t) of the transformed field agree */
  {
    lf_wflow_point p1[2], p2[2];
    const double ts[2] = {0.0, 0.3};
    lf_gauge_copy(h, f);
    field_gauge(h, 44);
    lf_observe_wflow_measure(f, ts, 2, 0.05, &ws, p1);
    lf_observe_wflow_measure(h, ts, 2, 0.05, &ws, p2);
    snprintf(what, sizeof what, "4D %s: flow is gauge covariant: E_clov(0.3) (t2E = %.5f)", gn, p1[1].t2E_clov);
    LF_TEST_ABS(what, p2[1].E_clov, p1[1].E_clov, TOL_INV);
    LF_TEST_ABS("  E_plaq(0.3)", p2[1].E_plaq, p1[1].E_plaq, TOL_INV);
    LF_TEST_ABS("  Q(0.3)", p2[1].Q, p1[1].Q, TOL_INV);
    LF_TEST_TRUE("  measured times recorded", p1[0].t == 0.0 && p1[1].t == 0.3);
    LF_TEST_TRUE("  t^2 E consistent", p1[1].t2E_plaq == 0.09 * p1[1].E_plaq);
  }

  /* thread-count independence: 3 steps with the default threads and with 1 thread */
#ifdef _OPENMP
  {
    extern int omp_get_max_threads(void);
    extern void omp_set_num_threads(int);
    int nth = omp_get_max_threads();
    lf_gauge_hot(f, 45);
    lf_gauge_copy(h, f);
    lf_observe_wflow(f, 0.06, 0.02, &ws);
    omp_set_num_threads(1);
    lf_observe_wflow(h, 0.06, 0.02, &ws);
    omp_set_num_threads(nth);
    snprintf(what, sizeof what, "4D %s: flowed field bitwise identical with %d threads and 1", gn, nth);
    LF_TEST_TRUE(what, memcmp(f->u, h->u, sizeof(lf_cplx) * f->nlinks * lf_gauge_linksize(f)) == 0);
  }
#endif

  /* cold field is a fixed point */
  lf_gauge_cold(f);
  lf_observe_wflow(f, 0.5, 0.05, &ws);
  lf_gauge_cold(h);
  snprintf(what, sizeof what, "4D %s: cold field does not move", gn);
  LF_TEST_ABS(what, field_dist(f, h), 0.0, 1e-15);

  rc = lf_observe_wflow_step(f, -0.1, &ws);
  LF_TEST_TRUE("negative step: LF_EINVAL", rc == LF_EINVAL);
  lf_observe_wflow_clear(&ws);
  lf_gauge_free(f);
  lf_gauge_free(h);
  lf_gauge_free(ref);
  lf_lattice_clear(&lat);
}

/* lf_stats_fn: t0 from the averaged table t^2 <E>(t_k), ctx = the flow times */
static double t0_of_means(const double *means, int nt, void *ctx) {
  double t0 = 0.0 / 0.0;
  lf_observe_wflow_scale_table(ctx, means, nt, 0.3, &t0);
  return t0;
}

int main(void) {
  test_group(LF_SU3);
  test_group(LF_SU2);
  test_group(LF_U1);

  /* workspace allocation failure: LF_ENOMEM and a cleared workspace */
  {
    const int L[4] = {4, 4, 4, 4};
    lf_lattice lat;
    lf_lattice_init(&lat, 4, L);
    lf_gauge *f;
    lf_gauge_alloc(&f, &lat, LF_SU2);
    lf_wflow_ws ws;
    lf_alloc_fail_after(2);
    int rc0 = lf_observe_wflow_init(&ws, f);
    lf_alloc_fail_after(0);
    LF_TEST_TRUE("wflow workspace, failed allocation: LF_ENOMEM, nothing held",
                 rc0 == LF_ENOMEM && ws.z == NULL && ws.force == NULL);
    rc0 = lf_observe_wflow_step(f, 0.01, &ws);
    LF_TEST_TRUE("step with a cleared workspace: LF_ESTATE", rc0 == LF_ESTATE);
    printf("     message: %s\n", lf_last_error());
    lf_gauge_free(f);
    lf_lattice_clear(&lat);
  }

  /* t0 interpolation on a table with t^2 E = 0.5 t (crossing 0.3 at t = 0.6) */
  lf_wflow_point p[10];
  memset(p, 0, sizeof p);
  for (int i = 0; i < 10; i++) {
    p[i].t = 0.25 * i;
    p[i].t2E_clov = 0.5 * p[i].t;
    p[i].t2E_plaq = 0.1 * p[i].t;
  }
  double t0;
  int rc = lf_observe_wflow_scale(p, 10, 0.3, 1, &t0);
  LF_TEST_TRUE("t0 from a table: LF_OK", rc == LF_OK);
  LF_TEST_ABS("t0 from t^2 E = 0.5 t: 0.6", t0, 0.6, 1e-14);
  rc = lf_observe_wflow_scale(p, 10, 0.3, 0, &t0);
  LF_TEST_TRUE("t^2 E never reaches 0.3: LF_ERANGE", rc == LF_ERANGE);
  printf("     message: %s\n", lf_last_error());

  /* t0 of a synthetic ensemble: t^2 E_i(t_k) = 0.5 t_k (1 + nu_i), nu_i ~ N(0, 0.1^2) iid:
   * t0 = 0.6 / (1 + mean nu), error 0.6 * 0.1 / sqrt(n) to leading order. */
  {
    enum { NCFG = 400, NT = 12 };
    static double data[NCFG * NT];
    static double tk[NT];
    for (int k = 0; k < NT; k++) tk[k] = 0.1 * (k + 1);
    lf_rng r;
    lf_rng_init(&r, 77, LF_RNG_TAG(LF_RNG_PURPOSE_TEST, 9), 0);
    double nubar = 0;
    for (int i = 0; i < NCFG; i++) {
      double nu = 0.1 * lf_rng_normal(&r);
      nubar += nu / NCFG;
      for (int k = 0; k < NT; k++) data[i * NT + k] = 0.5 * tk[k] * (1 + nu);
    }
    lf_stats_gamma_res g;
    rc = lf_stats_gamma_derived(data, NCFG, NT, t0_of_means, tk, NULL, &g, NULL, 0);
    LF_TEST_TRUE("ensemble t0 via lf_stats_gamma_derived: LF_OK", rc == LF_OK);
    LF_TEST_REL("ensemble t0 = 0.6 / (1 + mean nu)", g.value, 0.6 / (1 + nubar), 1e-12);
    LF_TEST_SIGMA("ensemble t0 error vs 0.6 * 0.1 / sqrt(n) / (1 + nubar)^2", g.err, g.err_err,
                  0.06 / sqrt((double)NCFG) / ((1 + nubar) * (1 + nubar)), 4.0);
  }

  /* the flow on a 2D U(1) field keeps the geometric charge of a smooth configuration */
  {
    const int L[2] = {8, 8};
    lf_lattice lat;
    lf_lattice_init(&lat, 2, L);
    lf_gauge *f;
    lf_gauge_alloc(&f, &lat, LF_U1);
    field_twisted(f, 1, 0);
    lf_wflow_ws ws;
    lf_observe_wflow_init(&ws, f);
    const double ts[2] = {0.0, 1.0};
    lf_wflow_point q[2];
    lf_observe_wflow_measure(f, ts, 2, 0.02, &ws, q);
    LF_TEST_ABS("2D U(1) constant field is a flow fixed point: Q(1) = 1", q[1].Q, 1.0, 1e-10);
    LF_TEST_ABS("  E(1) = E(0)", q[1].E_plaq, q[0].E_plaq, 1e-12);
    lf_observe_wflow_clear(&ws);
    lf_gauge_free(f);
    lf_lattice_clear(&lat);
  }
  return lf_test_done();
}
