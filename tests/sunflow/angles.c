/*
 * tests/sunflow/angles.c -- the class transform of the SU(N) spectral coupling layer
 * (src/sunflow/angles.c, docs/sunflow.md "canonical cell"), N = 2, 3:
 *   - inverse(forward(theta)) = theta (1e-12) and the inverse reports the forward log-det;
 *   - output in the canonical cell (ascending, sum 0, spread <= 2 pi);
 *   - log|det dtheta'/dtheta| on the N-1 free angles vs central differences, plus the
 *     Vandermonde terms computed here from the definition prod |e^{i a} - e^{i b}|^2;
 *   - Jacobian jac of the backward vs central differences;
 *   - reverse-mode gradients (angles and parameters) of L = c.theta' + a logdet vs central
 *     differences;
 *   - zero parameters are the identity (log-det 0);
 *   - reverse mode of the inverse map (angles, parameters, Jacobian) vs central differences.
 * Inputs: eigen-angles of Haar-random SU(N) matrices (lf_spec_eig), parameters N(0, 0.8^2).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "latflow/sunflow.h"
#include "lf_test.h"

#define NTRIAL 200
#define K 5
#define FD_H 1e-6
#define TOL_INV 1e-12
#define TOL_FD 1e-7

static lf_rng rng;

static double vdm(int n, const double *t) {
  double s = 0;
  for (int j = 0; j < n; j++)
    for (int k = j + 1; k < n; k++) {
      lf_cplx d = cexp(LF_I * t[j]) - cexp(LF_I * t[k]);
      s += log(creal(d * conj(d)));
    }
  return s;
}

/* all n angles from the n-1 free ones (sum 0) */
static void full(int n, const double *f, double *t) {
  t[n - 1] = 0;
  for (int k = 0; k < n - 1; k++) t[k] = f[k], t[n - 1] -= f[k];
}

static double loss(int n, const double *th, const double *p, const double *c, double a) {
  double t1[3], ld;
  lf_sunflow_angles_forward(n, K, th, p, t1, &ld);
  double L = a * ld;
  for (int j = 0; j < n; j++) L += c[j] * t1[j];
  return L;
}

static double iloss(int n, const double *t1, const double *p, const double *c) {
  double t0[3], L = 0;
  lf_sunflow_angles_inverse(n, K, t1, p, t0, NULL);
  for (int j = 0; j < n; j++) L += c[j] * t0[j];
  return L;
}

static void run(int n) {
  const lf_group grp = n == 2 ? LF_SU2 : LF_SU3;
  const int np = lf_sunflow_angles_nparams(n, K);
  double p[64], gp[64];
  double e_inv = 0, e_ld = 0, e_cell = 0, e_det = 0, e_jac = 0, e_gth = 0, e_gp = 0, e_id = 0;
  double e_ig = 0, e_ip = 0, e_ij = 0;
  for (int t = 0; t < NTRIAL; t++) {
    lf_cplx w[9];
    lf_spec_eigsys e;
    lf_group_haar(grp, w, &rng);
    if (lf_spec_eig(n, 1, w, &e)) {
      e_inv = 1;
      continue;
    }
    const double *th = e.theta;
    for (int i = 0; i < np; i++) p[i] = 0.8 * lf_rng_normal(&rng);
    double t1[3], t0[3], ld, ld2;
    lf_sunflow_angles_forward(n, K, th, p, t1, &ld);
    if (lf_sunflow_angles_inverse(n, K, t1, p, t0, &ld2)) e_inv = 1;
    for (int j = 0; j < n; j++) e_inv = fmax(e_inv, fabs(t0[j] - th[j]));
    e_ld = fmax(e_ld, fabs(ld2 - ld));
    double sum = 0;
    for (int j = 0; j < n; j++) sum += t1[j];
    e_cell = fmax(e_cell, fabs(sum));
    for (int j = 0; j + 1 < n; j++) e_cell = fmax(e_cell, t1[j] - t1[j + 1] > 0 ? 1 : 0);
    e_cell = fmax(e_cell, t1[n - 1] - t1[0] > LF_TWOPI ? 1 : 0);
    /* identity */
    double z[64] = {0}, ti[3], lid;
    lf_sunflow_angles_forward(n, K, th, z, ti, &lid);
    for (int j = 0; j < n; j++) e_id = fmax(e_id, fabs(ti[j] - th[j]));
    e_id = fmax(e_id, fabs(lid));
    /* free-angle Jacobian and full Jacobian by central differences */
    double J[9], jac[9], fr[2], M[4];
    for (int col = 0; col < n; col++) {
      double tp[3], tm[3], op[3], om[3];
      memcpy(tp, th, sizeof tp), memcpy(tm, th, sizeof tm);
      tp[col] += FD_H, tm[col] -= FD_H;
      lf_sunflow_angles_forward(n, K, tp, p, op, NULL);
      lf_sunflow_angles_forward(n, K, tm, p, om, NULL);
      for (int j = 0; j < n; j++) J[j * n + col] = (op[j] - om[j]) / (2 * FD_H);
    }
    for (int col = 0; col < n - 1; col++) {
      double fp[2], fm[2], tp[3], tm[3], op[3], om[3];
      for (int k = 0; k < n - 1; k++) fr[k] = fp[k] = fm[k] = th[k];
      fp[col] += FD_H, fm[col] -= FD_H;
      full(n, fp, tp), full(n, fm, tm);
      lf_sunflow_angles_forward(n, K, tp, p, op, NULL);
      lf_sunflow_angles_forward(n, K, tm, p, om, NULL);
      for (int j = 0; j < n - 1; j++) M[j * (n - 1) + col] = (op[j] - om[j]) / (2 * FD_H);
    }
    (void)fr;
    double det = n == 2 ? M[0] : M[0] * M[3] - M[1] * M[2];
    double ld_fd = log(fabs(det)) + vdm(n, t1) - vdm(n, th);
    e_det = fmax(e_det, fabs(ld_fd - ld) / fmax(1, fabs(ld)));
    /* reverse mode */
    double c[3], gth[3], gnew[3], a = 0.7;
    for (int j = 0; j < n; j++) gnew[j] = c[j] = lf_rng_normal(&rng);
    lf_sunflow_angles_backward(n, K, th, p, gnew, a, gth, gp, jac);
    for (int i = 0; i < n * n; i++) e_jac = fmax(e_jac, fabs(jac[i] - J[i]));
    for (int col = 0; col < n; col++) {
      double tp[3], tm[3];
      memcpy(tp, th, sizeof tp), memcpy(tm, th, sizeof tm);
      tp[col] += FD_H, tm[col] -= FD_H;
      double fd = (loss(n, tp, p, c, a) - loss(n, tm, p, c, a)) / (2 * FD_H);
      e_gth = fmax(e_gth, fabs(fd - gth[col]) / fmax(1, fabs(fd)));
    }
    for (int i = 0; i < np; i++) {
      double s = p[i];
      p[i] = s + FD_H;
      double lp = loss(n, th, p, c, a);
      p[i] = s - FD_H;
      double lm = loss(n, th, p, c, a);
      p[i] = s;
      double fd = (lp - lm) / (2 * FD_H);
      e_gp = fmax(e_gp, fabs(fd - gp[i]) / fmax(1, fabs(fd)));
    }
    /* inverse map: L = c . theta(theta') */
    double gn[3], ji[9];
    lf_sunflow_angles_inverse_vjp(n, K, th, p, c, gn, gp, ji);
    for (int col = 0; col < n; col++) {
      double tp[3], tm[3], op[3], om[3];
      memcpy(tp, t1, sizeof tp), memcpy(tm, t1, sizeof tm);
      tp[col] += FD_H, tm[col] -= FD_H;
      double fd = (iloss(n, tp, p, c) - iloss(n, tm, p, c)) / (2 * FD_H);
      e_ig = fmax(e_ig, fabs(fd - gn[col]) / fmax(1, fabs(fd)));
      lf_sunflow_angles_inverse(n, K, tp, p, op, NULL);
      lf_sunflow_angles_inverse(n, K, tm, p, om, NULL);
      for (int j = 0; j < n; j++) {
        double fdj = (op[j] - om[j]) / (2 * FD_H);
        e_ij = fmax(e_ij, fabs(fdj - ji[j * n + col]) / fmax(1, fabs(fdj)));
      }
    }
    for (int i = 0; i < np; i++) {
      double s = p[i];
      p[i] = s + FD_H;
      double lp = iloss(n, t1, p, c);
      p[i] = s - FD_H;
      double lm = iloss(n, t1, p, c);
      p[i] = s;
      double fd = (lp - lm) / (2 * FD_H);
      e_ip = fmax(e_ip, fabs(fd - gp[i]) / fmax(1, fabs(fd)));
    }
  }
  char what[160];
  snprintf(what, sizeof what, "SU(%d) class transform: inverse(forward(theta)) = theta", n);
  LF_TEST_ABS(what, e_inv, 0, TOL_INV);
  snprintf(what, sizeof what, "SU(%d) inverse reports the forward log-det", n);
  LF_TEST_ABS(what, e_ld, 0, 1e-11);
  snprintf(what, sizeof what, "SU(%d) output in the canonical cell (sum 0, ascending, spread)", n);
  LF_TEST_ABS(what, e_cell, 0, 1e-13);
  snprintf(what, sizeof what, "SU(%d) zero parameters = identity, log-det 0", n);
  LF_TEST_ABS(what, e_id, 0, 1e-13);
  snprintf(what, sizeof what, "SU(%d) log-det vs central differences + Vandermonde (rel.)", n);
  LF_TEST_ABS(what, e_det, 0, TOL_FD);
  snprintf(what, sizeof what, "SU(%d) backward Jacobian vs central differences", n);
  LF_TEST_ABS(what, e_jac, 0, TOL_FD);
  snprintf(what, sizeof what, "SU(%d) dL/dtheta vs central differences (rel.)", n);
  LF_TEST_ABS(what, e_gth, 0, TOL_FD);
  snprintf(what, sizeof what, "SU(%d) dL/dparams vs central differences (rel.)", n);
  LF_TEST_ABS(what, e_gp, 0, TOL_FD);
  snprintf(what, sizeof what, "SU(%d) inverse map: dL/dtheta' vs central differences (rel.)", n);
  LF_TEST_ABS(what, e_ig, 0, TOL_FD);
  snprintf(what, sizeof what, "SU(%d) inverse map: Jacobian vs central differences (rel.)", n);
  LF_TEST_ABS(what, e_ij, 0, TOL_FD);
  snprintf(what, sizeof what, "SU(%d) inverse map: dL/dparams vs central differences (rel.)", n);
  LF_TEST_ABS(what, e_ip, 0, TOL_FD);
}

int main(void) {
  lf_rng_init(&rng, 2385, LF_RNG_TAG(LF_RNG_PURPOSE_TEST, 61), 0);
  run(2);
  run(3);
  return lf_test_done();
}
