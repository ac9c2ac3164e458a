/* tests/group/algebra.c -- group kernels against independent references:
 * exp of algebra elements vs a scaling-and-squaring Taylor series, coordinate round trips
 * and generator normalisation tr(T_a T_b) = delta_ab/2, products vs naive loops,
 * determinant and unitarity of exp, reunitarisation, Haar moments. */
#include "latflow/group.h"
#include "lf_test.h"

#include <stdio.h>

/* Independent reference: exp(X) = (exp(X/2^k))^(2^k) with a 30-term Taylor series. */
static void exp_reference(int n, lf_cplx *u, const lf_cplx *x) {
  lf_cplx y[9], term[9], tmp[9];
  int k = 10;
  for (int i = 0; i < n * n; i++) y[i] = x[i] / 1024.0;
  lf_mat_identity(n, u);
  lf_mat_identity(n, term);
  for (int j = 1; j <= 30; j++) {
    for (int a = 0; a < n; a++)
      for (int b = 0; b < n; b++) {
        lf_cplx s = 0;
        for (int c = 0; c < n; c++) s += term[a * n + c] * y[c * n + b];
        tmp[a * n + b] = s / (double)j;
      }
    for (int i = 0; i < n * n; i++) term[i] = tmp[i], u[i] += tmp[i];
  }
  for (int j = 0; j < k; j++) {
    for (int a = 0; a < n; a++)
      for (int b = 0; b < n; b++) {
        lf_cplx s = 0;
        for (int c = 0; c < n; c++) s += u[a * n + c] * u[c * n + b];
        tmp[a * n + b] = s;
      }
    for (int i = 0; i < n * n; i++) u[i] = tmp[i];
  }
}

static void naive_mul(int n, lf_cplx *c, const lf_cplx *a, const lf_cplx *b, int da, int db) {
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++) {
      lf_cplx s = 0;
      for (int k = 0; k < n; k++) {
        lf_cplx x = da ? conj(a[k * n + i]) : a[i * n + k];
        lf_cplx y = db ? conj(b[j * n + k]) : b[k * n + j];
        s += x * y;
      }
      c[i * n + j] = s;
    }
}

int main(void) {
  lf_rng r;
  lf_rng_init(&r, 2385, LF_RNG_TAG(LF_RNG_PURPOSE_TEST, 2), 0);
  const lf_group groups[3] = {LF_U1, LF_SU2, LF_SU3};
  char what[128];
  for (int gi = 0; gi < 3; gi++) {
    lf_group g = groups[gi];
    int n = (int)g, ng = lf_group_ngen(g);
    const char *gn = lf_group_name(g);

    /* Generator normalisation: -2 tr(X_a X_b) = delta_ab for X_a = i T_a. */
    double maxdev = 0;
    for (int a = 0; a < ng; a++)
      for (int b = 0; b < ng; b++) {
        double ca[8] = {0}, cb[8] = {0};
        ca[a] = 1, cb[b] = 1;
        lf_cplx xa[9], xb[9], p[9];
        lf_alg_from_coords(g, xa, ca);
        lf_alg_from_coords(g, xb, cb);
        lf_mat_mul(n, p, xa, xb);
        double v = -2 * creal(lf_mat_trace(n, p));
        double d = fabs(v - (a == b ? 1.0 : 0.0));
        if (d > maxdev) maxdev = d;
      }
    snprintf(what, sizeof what, "%s generators: -2 tr(X_a X_b) = delta_ab", gn);
    LF_TEST_ABS(what, maxdev, 0, 1e-15);

    /* exp against the reference, over small to large arguments (incl. degenerate). */
    double worst = 0, worst_defect = 0, worst_rt = 0;
    for (int t = 0; t < 300; t++) {
      lf_cplx x[9], u[9], ref[9], back[9];
      lf_alg_random(g, x, &r);
      double scale = pow(10.0, -6.0 + 7.0 * lf_rng_uniform(&r)); /* 1e-6 .. 10 */
      if (t % 50 == 7 && g == LF_SU3) { /* degenerate: diagonal with two equal entries */
        double c[8] = {0};
        c[7] = 1.3;
        lf_alg_from_coords(g, x, c);
        scale = 1;
      }
      lf_mat_scale(n, x, scale);
      lf_alg_exp(g, u, x);
      exp_reference(n, ref, x);
      double d = lf_mat_dist(n, u, ref);
      if (d > worst) worst = d;
      double def = lf_group_defect(g, u);
      if (def > worst_defect) worst_defect = def;
      double c1[8], c2[8];
      lf_alg_to_coords(g, c1, x);
      lf_alg_from_coords(g, back, c1);
      lf_alg_to_coords(g, c2, back);
      for (int a = 0; a < ng; a++)
        if (fabs(c1[a] - c2[a]) > worst_rt) worst_rt = fabs(c1[a] - c2[a]);
    }
    snprintf(what, sizeof what, "%s exp(X) vs scaling-and-squaring Taylor (300 X, |X| 1e-6..10)", gn);
    LF_TEST_ABS(what, worst, 0, 1e-12);
    snprintf(what, sizeof what, "%s exp(X) lies in the group", gn);
    LF_TEST_ABS(what, worst_defect, 0, 1e-13);
    snprintf(what, sizeof what, "%s algebra coordinates round trip", gn);
    LF_TEST_ABS(what, worst_rt, 0, 1e-14);

    /* Products against naive loops, with daggers. */
    lf_cplx a[9], b[9], c[9], ref[9];
    lf_group_haar(g, a, &r);
    lf_group_haar(g, b, &r);
    double md = 0;
    lf_mat_mul(n, c, a, b), naive_mul(n, ref, a, b, 0, 0), md = fmax(md, lf_mat_dist(n, c, ref));
    lf_mat_mul_dag(n, c, a, b), naive_mul(n, ref, a, b, 0, 1), md = fmax(md, lf_mat_dist(n, c, ref));
    lf_mat_dag_mul(n, c, a, b), naive_mul(n, ref, a, b, 1, 0), md = fmax(md, lf_mat_dist(n, c, ref));
    lf_mat_mul_dag(n, c, a, b);
    md = fmax(md, fabs(lf_mat_retr_mul_dag(n, a, b) - creal(lf_mat_trace(n, c))));
    lf_mat_mul(n, c, a, b);
    md = fmax(md, fabs(lf_mat_retr_mul(n, a, b) - creal(lf_mat_trace(n, c))));
    snprintf(what, sizeof what, "%s products, dagger products and traces vs naive loops", gn);
    LF_TEST_ABS(what, md, 0, 1e-14);

    /* Projection: traceless anti-hermitian, and idempotent. */
    lf_cplx m[9], px[9], ppx[9], h[9];
    for (int i = 0; i < n * n; i++) m[i] = lf_rng_normal(&r) + LF_I * lf_rng_normal(&r);
    lf_alg_project(g, px, m);
    lf_alg_project(g, ppx, px);
    lf_mat_dag(n, h, px);
    double ah = 0;
    for (int i = 0; i < n * n; i++) ah = fmax(ah, cabs(h[i] + px[i]));
    double tr = g == LF_U1 ? 0 : cabs(lf_mat_trace(n, px));
    snprintf(what, sizeof what, "%s algebra projection is anti-hermitian, traceless, idempotent", gn);
    LF_TEST_ABS(what, ah + tr + lf_mat_dist(n, px, ppx), 0, 1e-14);

    /* Reunitarisation of a perturbed element is close to it and in the group. */
    lf_cplx v[9];
    lf_group_haar(g, v, &r);
    lf_cplx w[9];
    lf_mat_copy(n, w, v);
    for (int i = 0; i < n * n; i++) w[i] += 1e-7 * (lf_rng_normal(&r) + LF_I * lf_rng_normal(&r));
    lf_group_unitarize(g, w);
    snprintf(what, sizeof what, "%s reunitarisation restores the group", gn);
    LF_TEST_ABS(what, lf_group_defect(g, w), 0, 1e-14);
    snprintf(what, sizeof what, "%s reunitarisation moves a 1e-7 perturbation by O(1e-7)", gn);
    LF_TEST_ABS(what, lf_mat_dist(n, w, v), 0, 1e-6);

    /* Haar moments: E[tr U] = 0, E|tr U|^2 = 1 (exact for U(1), SU(2), SU(3)),
     * E[tr U^2] = 0 for SU(N>=3)... we check the first two with 5-sigma tolerances
     * from the exactly known variances (Var Re tr U = 1/2 for N >= 2, 1/2 for U(1);
     * Var |tr U|^2 = 1 for U(1) (|tr|=1: variance 0), 1 for SU(2) (E|tr|^4 = 2), SU(3) 1). */
    const long NS = 100000;
    double s_re = 0, s_abs2 = 0, s_abs4 = 0;
    for (long k = 0; k < NS; k++) {
      lf_cplx u[9];
      lf_group_haar(g, u, &r);
      lf_cplx t = lf_mat_trace(n, u);
      double a2 = creal(t * conj(t));
      s_re += creal(t), s_abs2 += a2, s_abs4 += a2 * a2;
      if (k == 0) {
        snprintf(what, sizeof what, "%s Haar draw lies in the group", gn);
        LF_TEST_ABS(what, lf_group_defect(g, u), 0, 1e-14);
      }
    }
    double N = (double)NS;
    snprintf(what, sizeof what, "%s Haar E[Re tr U] = 0", gn);
    LF_TEST_SIGMA(what, s_re / N, sqrt(0.5 / N), 0.0, 5);
    snprintf(what, sizeof what, "%s Haar E|tr U|^2 = 1", gn);
    if (g == LF_U1) LF_TEST_ABS(what, s_abs2 / N, 1.0, 1e-12);
    else LF_TEST_SIGMA(what, s_abs2 / N, sqrt((s_abs4 / N - 1.0) / N), 1.0, 5);
    if (g == LF_SU2) {
      /* E|tr U|^4 = 2 for SU(2) (Weingarten); the variance of |trU|^4 is E|tr|^8 - 4 = 14 - 4. */
      snprintf(what, sizeof what, "%s Haar E|tr U|^4 = 2", gn);
      LF_TEST_SIGMA(what, s_abs4 / N, sqrt(10.0 / N), 2.0, 5);
    }
  }

  /* Names and parsing. */
  lf_group g;
  LF_TEST_TRUE("parse su3", lf_group_parse("su3", &g) == LF_OK && g == LF_SU3);
  LF_TEST_TRUE("parse rejects so3 with a message",
               lf_group_parse("so3", &g) == LF_EINVAL && strstr(lf_last_error(), "u1, su2 or su3"));
  return lf_test_done();
}
