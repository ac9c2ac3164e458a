/*
 * force.c -- the force of every action is the derivative of the action.
 *
 * For random (hot) fields, random links (x, mu) and random algebra directions X, compare
 *     dS/dh of S(exp(h X) U_mu(x))  at h = 0    (central differences, Richardson-extrapolated
 *                                                 from h = 1e-3 and 5e-4, error O(h^4))
 * with the analytic value 2 Re tr(X^dag F(x, mu)) (force convention of action.h).
 * Cases: Wilson, tree-level LW, LW with c1 = -0.23 and non-trivial plane coefficients,
 * Wilson with plane coefficients; U(1), SU(2), SU(3); 2D 6x4 and 4D 4^4.
 * Tolerance: relative deviation 1e-7 (rounding in S over the lattice ~1e-10).
 * Also: lf_action_staple gives F = (beta/2N) Pi(U A).
 */
#include <latflow/action.h>
#include <stdio.h>
#include <string.h>

#include "lf_test.h"

#define NLINK_CHECK 4
#define FD_TOL 1e-7

static double eval_shifted(const lf_action *a, lf_gauge *f, long s, int mu, const lf_cplx *X,
                           double h) {
  const int n = f->n;
  lf_cplx save[9], hx[9], e[9];
  lf_cplx *U = lf_gauge_link(f, s, mu);
  lf_mat_copy(n, save, U);
  for (int i = 0; i < n * n; i++) hx[i] = h * X[i];
  lf_alg_exp(f->group, e, hx);
  lf_mat_mul(n, U, e, save);
  double S = lf_action_eval(a, f);
  lf_mat_copy(n, U, save);
  return S;
}

static void check_case(const char *label, const lf_action *a, lf_gauge *f, lf_cplx *force) {
  const int n = f->n;
  char what[160];
  int rc = lf_action_force(a, f, force);
  if (rc) {
    printf("force failed: %s\n", lf_last_error());
    LF_TEST_TRUE("force status", 0);
    return;
  }
  lf_rng r;
  lf_rng_init(&r, 2385, LF_RNG_TAG(LF_RNG_PURPOSE_TEST, 1), 7);
  for (int k = 0; k < NLINK_CHECK; k++) {
    long s = (long)(lf_rng_u32(&r) % (uint32_t)f->lat->vol);
    int mu = (int)(lf_rng_u32(&r) % (uint32_t)f->lat->nd);
    lf_cplx X[9];
    lf_alg_random(f->group, X, &r);
    double h = 1e-3;
    double d1 = (eval_shifted(a, f, s, mu, X, h) - eval_shifted(a, f, s, mu, X, -h)) / (2 * h);
    double d2 = (eval_shifted(a, f, s, mu, X, h / 2) - eval_shifted(a, f, s, mu, X, -h / 2)) / h;
    double fd = (4 * d2 - d1) / 3;
    const lf_cplx *F = force + ((size_t)s * (size_t)f->lat->nd + (size_t)mu) * (size_t)(n * n);
    double an = 2 * lf_mat_retr_mul_dag(n, F, X);
    snprintf(what, sizeof what, "%s link (%ld,%d) dS/dh", label, s, mu);
    LF_TEST_REL(what, an, fd, FD_TOL);
    /* staple relation F = beta/(2N) Pi(U A) */
    lf_cplx A[9], M[9], P[9];
    lf_action_staple(a, f, s, mu, A);
    lf_mat_mul(n, M, lf_gauge_link(f, s, mu), A);
    lf_alg_project(f->group, P, M);
    lf_mat_scale(n, P, a->beta / (2.0 * n));
    snprintf(what, sizeof what, "%s link (%ld,%d) F = beta/2N Pi(U A)", label, s, mu);
    LF_TEST_ABS(what, lf_mat_dist(n, P, F), 0.0, 1e-12 * (1 + a->beta));
  }
}

int main(void) {
  const lf_group groups[3] = {LF_U1, LF_SU2, LF_SU3};
  const double kplane[LF_MAXPLANES] = {1.3, 0.7, 1.1, 0.9, 1.25, 0.8};
  for (int d = 0; d < 2; d++) {
    int nd = d ? 4 : 2;
    int L[4] = {6, 4, 4, 4};
    if (nd == 4) L[0] = 4;
    lf_lattice lat;
    if (lf_lattice_init(&lat, nd, L)) return 1;
    for (int gi = 0; gi < 3; gi++) {
      lf_gauge *f;
      if (lf_gauge_alloc(&f, &lat, groups[gi])) return 1;
      lf_gauge_hot(f, 1234 + (uint64_t)gi);
      lf_cplx *force = lf_alloc(sizeof(lf_cplx) * f->nlinks * lf_gauge_linksize(f));
      for (int c = 0; c < 4; c++) {
        lf_action a;
        lf_action_init(&a, c == 0 || c == 3 ? LF_ACTION_WILSON : LF_ACTION_LW, 2.385, nd);
        if (c == 2) a.c1 = -0.23;
        if (c >= 2)
          for (int p = 0; p < LF_MAXPLANES; p++) a.plane_coef[p] = kplane[p];
        static const char *cname[4] = {"wilson", "lw", "lw(c1=-0.23,k)", "wilson(k)"};
        char label[96];
        snprintf(label, sizeof label, "%dD %s %s", nd, lf_group_name(groups[gi]), cname[c]);
        check_case(label, &a, f, force);
      }
      lf_free(force);
      lf_gauge_free(f);
    }
    lf_lattice_clear(&lat);
  }
  return lf_test_done();
}
