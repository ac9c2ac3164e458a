/*
 * unitary.c -- reunitarisation, Haar sampling and near-identity random elements.
 *
 * Haar measure: U(1) uniform phase; SU(2) uniform on S^3 (normalised Gaussian
 * 4-vector); SU(3) rows 1, 2 by Gram-Schmidt of complex Gaussian vectors and
 * row 3 = (r1 x r2)^*. The row construction commutes with right multiplication by
 * any SU(3) matrix, so the law is right-invariant, hence Haar (docs/group.md).
 */
#include "latflow/group.h"

#include <math.h>

static void su3_complete_row3(lf_cplx *u) {
  u[6] = conj(u[1] * u[5] - u[2] * u[4]);
  u[7] = conj(u[2] * u[3] - u[0] * u[5]);
  u[8] = conj(u[0] * u[4] - u[1] * u[3]);
}

static void su3_gram_schmidt(lf_cplx *u) {
  double n0 = 0;
  for (int j = 0; j < 3; j++) n0 += creal(u[j] * conj(u[j]));
  n0 = 1.0 / sqrt(n0);
  for (int j = 0; j < 3; j++) u[j] *= n0;
  lf_cplx ip = 0;
  for (int j = 0; j < 3; j++) ip += conj(u[j]) * u[3 + j];
  for (int j = 0; j < 3; j++) u[3 + j] -= ip * u[j];
  double n1 = 0;
  for (int j = 0; j < 3; j++) n1 += creal(u[3 + j] * conj(u[3 + j]));
  n1 = 1.0 / sqrt(n1);
  for (int j = 0; j < 3; j++) u[3 + j] *= n1;
  su3_complete_row3(u);
}

void lf_group_unitarize(lf_group g, lf_cplx *u) {
  switch (g) {
  case LF_U1: u[0] /= cabs(u[0]); break;
  case LF_SU2: {
    /* closest matrix of the form [[a, b], [-b*, a*]], then normalise */
    lf_cplx a = 0.5 * (u[0] + conj(u[3])), b = 0.5 * (u[1] - conj(u[2]));
    double nrm = 1.0 / sqrt(creal(a * conj(a)) + creal(b * conj(b)));
    a *= nrm, b *= nrm;
    u[0] = a, u[1] = b, u[2] = -conj(b), u[3] = conj(a);
    break;
  }
  case LF_SU3: su3_gram_schmidt(u); break;
  }
}

void lf_group_haar(lf_group g, lf_cplx *u, lf_rng *r) {
  switch (g) {
  case LF_U1: {
    double phi = LF_TWOPI * lf_rng_uniform(r);
    u[0] = cos(phi) + LF_I * sin(phi);
    break;
  }
  case LF_SU2: {
    double a[4];
    lf_rng_normal2(r, &a[0], &a[1]);
    lf_rng_normal2(r, &a[2], &a[3]);
    double nrm = 1.0 / sqrt(a[0] * a[0] + a[1] * a[1] + a[2] * a[2] + a[3] * a[3]);
    for (int i = 0; i < 4; i++) a[i] *= nrm;
    u[0] = a[0] + LF_I * a[3];
    u[1] = a[2] + LF_I * a[1];
    u[2] = -a[2] + LF_I * a[1];
    u[3] = a[0] - LF_I * a[3];
    break;
  }
  case LF_SU3: {
    for (int k = 0; k < 6; k++) {
      double re, im;
      lf_rng_normal2(r, &re, &im);
      u[k] = re + LF_I * im;
    }
    su3_gram_schmidt(u);
    break;
  }
  }
}

void lf_group_random_near(lf_group g, lf_cplx *u, double eps, lf_rng *r) {
  lf_cplx x[9];
  int n = (int)g;
  lf_alg_random(g, x, r);
  lf_mat_scale(n, x, eps);
  lf_alg_exp(g, u, x);
}
