/*
 * algebra.c -- Lie-algebra elements: projection, exponential, Gaussian draws, coordinates.
 *
 * Generators T_a with tr(T_a T_b) = delta_ab/2 (SU(2): sigma/2, SU(3): lambda/2 with
 * the Gell-Mann matrices; U(1): 1/sqrt(2)); X = sum_a x_a i T_a (docs/conventions.md).
 *
 * SU(3) exponential: Cayley-Hamilton form exp(iQ) = f0 + f1 Q + f2 Q^2 of C. Morningstar
 * and M. Peardon, Phys. Rev. D 69 (2004) 054501 [hep-lat/0311018], eqs. (19)-(34),
 * with the c0 < 0 symmetry f_j(-c0) = (-1)^j f_j(c0)^*, and a Taylor series for tiny Q
 * where the closed form loses digits. Checked against scaling-and-squaring Taylor in
 * tests/group/algebra.c.
 */
#include "latflow/group.h"

#include <math.h>

#define SQRT3 1.7320508075688772935
#define SQRT2 1.4142135623730950488

void lf_alg_project(lf_group g, lf_cplx *out, const lf_cplx *m) {
  int n = (int)g;
  if (g == LF_U1) {
    out[0] = LF_I * cimag(m[0]);
    return;
  }
  lf_cplx t[9] = {0};
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++) t[i * n + j] = 0.5 * (m[i * n + j] - conj(m[j * n + i]));
  lf_cplx tr = lf_mat_trace(n, t) / (double)n;
  for (int i = 0; i < n; i++) t[i * n + i] -= tr;
  lf_mat_copy(n, out, t);
}

double lf_alg_norm2(int n, const lf_cplx *x) {
  double s = 0;
  for (int i = 0; i < n * n; i++) s += creal(x[i]) * creal(x[i]) + cimag(x[i]) * cimag(x[i]);
  return s;
}

void lf_alg_from_coords(lf_group g, lf_cplx *x, const double *c) {
  switch (g) {
  case LF_U1: x[0] = LF_I * c[0] / SQRT2; break;
  case LF_SU2: {
    /* X = i H, H = sum c_a sigma_a / 2 */
    lf_cplx h00 = 0.5 * c[2], h01 = 0.5 * (c[0] - LF_I * c[1]);
    x[0] = LF_I * h00;
    x[1] = LF_I * h01;
    x[2] = LF_I * conj(h01);
    x[3] = -LF_I * h00;
    break;
  }
  case LF_SU3: {
    double d8 = c[7] / SQRT3;
    lf_cplx h[9];
    h[0] = 0.5 * (c[2] + d8);
    h[4] = 0.5 * (-c[2] + d8);
    h[8] = -d8;
    h[1] = 0.5 * (c[0] - LF_I * c[1]);
    h[2] = 0.5 * (c[3] - LF_I * c[4]);
    h[5] = 0.5 * (c[5] - LF_I * c[6]);
    h[3] = conj(h[1]), h[6] = conj(h[2]), h[7] = conj(h[5]);
    for (int i = 0; i < 9; i++) x[i] = LF_I * h[i];
    break;
  }
  }
}

void lf_alg_to_coords(lf_group g, double *c, const lf_cplx *x) {
  switch (g) {
  case LF_U1: c[0] = SQRT2 * cimag(x[0]); break;
  case LF_SU2: {
    lf_cplx h00 = -LF_I * x[0], h11 = -LF_I * x[3], h01 = -LF_I * x[1];
    c[0] = 2 * creal(h01);
    c[1] = -2 * cimag(h01);
    c[2] = creal(h00 - h11);
    break;
  }
  case LF_SU3: {
    lf_cplx h[9];
    for (int i = 0; i < 9; i++) h[i] = -LF_I * x[i];
    c[0] = 2 * creal(h[1]);
    c[1] = -2 * cimag(h[1]);
    c[2] = creal(h[0] - h[4]);
    c[3] = 2 * creal(h[2]);
    c[4] = -2 * cimag(h[2]);
    c[5] = 2 * creal(h[5]);
    c[6] = -2 * cimag(h[5]);
    c[7] = creal(h[0] + h[4] - 2.0 * h[8]) / SQRT3;
    break;
  }
  }
}

void lf_alg_random(lf_group g, lf_cplx *x, lf_rng *r) {
  double c[8];
  int k = lf_group_ngen(g);
  for (int a = 0; a + 1 < k; a += 2) lf_rng_normal2(r, &c[a], &c[a + 1]);
  if (k % 2) c[k - 1] = lf_rng_normal(r);
  lf_alg_from_coords(g, x, c);
}

/* exp(X) by Taylor series with scaling and squaring; used for tiny SU(3) arguments. */
static void su3_exp_taylor(lf_cplx *restrict u, const lf_cplx *restrict x) {
  lf_cplx term[9], tmp[9];
  lf_mat_identity(3, u);
  lf_mat_identity(3, term);
  for (int k = 1; k <= 12; k++) {
    lf_su3_mul(tmp, term, x);
    for (int i = 0; i < 9; i++) term[i] = tmp[i] / (double)k;
    for (int i = 0; i < 9; i++) u[i] += term[i];
  }
}

static void su3_exp(lf_cplx *restrict u, const lf_cplx *restrict x) {
  lf_cplx q[9], q2[9];
  for (int i = 0; i < 9; i++) q[i] = -LF_I * x[i]; /* Q hermitian, traceless */
  lf_su3_mul(q2, q, q);
  double c1 = 0.5 * creal(q2[0] + q2[4] + q2[8]);
  if (c1 < 1e-4) {
    su3_exp_taylor(u, x);
    return;
  }
  double c0 = creal(lf_mat_det(3, q));
  int neg = c0 < 0;
  if (neg) c0 = -c0;
  double c0max = 2.0 * pow(c1 / 3.0, 1.5);
  double ratio = c0 / c0max;
  if (ratio > 1.0) ratio = 1.0;
  double theta = acos(ratio);
  double uu = sqrt(c1 / 3.0) * cos(theta / 3.0);
  double w = sqrt(c1) * sin(theta / 3.0);
  double u2 = uu * uu, w2 = w * w;
  double cw = cos(w);
  double xi0 = fabs(w) < 0.05 ? 1.0 - w2 / 6.0 * (1.0 - w2 / 20.0 * (1.0 - w2 / 42.0)) : sin(w) / w;
  lf_cplx e2iu = cos(2 * uu) + LF_I * sin(2 * uu);
  lf_cplx emiu = cos(uu) - LF_I * sin(uu);
  lf_cplx h0 = (u2 - w2) * e2iu + emiu * (8 * u2 * cw + 2 * LF_I * uu * (3 * u2 + w2) * xi0);
  lf_cplx h1 = 2 * uu * e2iu - emiu * (2 * uu * cw - LF_I * (3 * u2 - w2) * xi0);
  lf_cplx h2 = e2iu - emiu * (cw + 3 * LF_I * uu * xi0);
  double den = 1.0 / (9 * u2 - w2);
  lf_cplx f0 = h0 * den, f1 = h1 * den, f2 = h2 * den;
  if (neg) {
    f0 = conj(f0);
    f1 = -conj(f1);
    f2 = conj(f2);
  }
  for (int i = 0; i < 9; i++) u[i] = f1 * q[i] + f2 * q2[i];
  u[0] += f0, u[4] += f0, u[8] += f0;
}

void lf_alg_exp(lf_group g, lf_cplx *restrict u, const lf_cplx *restrict x) {
  switch (g) {
  case LF_U1: {
    double phi = cimag(x[0]);
    u[0] = cos(phi) + LF_I * sin(phi);
    break;
  }
  case LF_SU2: {
    /* X = (i/2) c.sigma, exp(X) = cos(|c|/2) + (sin(|c|/2)/|c|) * 2X */
    double c[3];
    lf_alg_to_coords(g, c, x);
    double th = sqrt(c[0] * c[0] + c[1] * c[1] + c[2] * c[2]);
    double h = 0.5 * th;
    double s = h < 1e-4 ? 1.0 - h * h / 6.0 * (1.0 - h * h / 20.0) : sin(h) / h;
    double co = cos(h);
    for (int i = 0; i < 4; i++) u[i] = s * x[i];
    u[0] += co, u[3] += co;
    break;
  }
  case LF_SU3: su3_exp(u, x); break;
  }
}
