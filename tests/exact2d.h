/*
 * tests/exact2d.h -- exact finite-volume results of 2D U(1) lattice gauge theory with the
 * Wilson action on a periodic L x L lattice (V sites = V plaquettes), the independent
 * reference of the HMC, heatbath and flow tests.
 *
 * With the geometric charge, Z(theta) = sum_n f(n + theta/2pi)^V where
 * f(nu) = int_{-pi}^{pi} dphi/2pi exp(beta cos phi - i nu phi) (character expansion; for
 * integer nu, f(n) = I_n(beta)). Then
 *   <P>       = (1/V) d ln Z / d beta = sum_n I_n'(beta) I_n^(V-1) / sum_n I_n^V,
 *   <Q^2>/V   = -(1/V) d^2 ln Z / d theta^2 at theta = 0.
 * f, f', f'' (derivatives in nu) by composite Simpson on [0, pi] (the odd parts cancel),
 * error ~ (pi/N)^4 far below 1e-10; ratios f_n/f_0 keep (.)^V finite for large V.
 */
#ifndef LF_TEST_EXACT2D_H
#define LF_TEST_EXACT2D_H

#include <math.h>

#include "latflow/core.h"

static inline void exact2d_fnu(double beta, double nu, double *f0, double *f1, double *f2) {
  const int N = 4000;
  const double h = LF_PI / N;
  double s0 = 0, s1 = 0, s2 = 0;
  for (int i = 0; i <= N; i++) {
    double p = i * h, w = (i == 0 || i == N) ? 1 : (i % 2 ? 4 : 2);
    double e = exp(beta * (cos(p) - 1)); /* scaled by exp(-beta): ratios are unchanged */
    s0 += w * e * cos(nu * p);
    s1 += w * e * (-p * sin(nu * p));
    s2 += w * e * (-p * p * cos(nu * p));
  }
  *f0 = s0 * h / 3 / LF_PI, *f1 = s1 * h / 3 / LF_PI, *f2 = s2 * h / 3 / LF_PI;
}

/* Exact <P> and <Q^2>/V of 2D U(1) on V sites at coupling beta. */
static inline void exact2d_u1(double beta, long V, double *plaq, double *chi) {
  enum { NMAX = 30 };
  double f0[2 * NMAX + 3], f1[2 * NMAX + 3], f2[2 * NMAX + 3];
  for (int n = -NMAX - 1; n <= NMAX + 1; n++)
    exact2d_fnu(beta, n, &f0[n + NMAX + 1], &f1[n + NMAX + 1], &f2[n + NMAX + 1]);
  const double c = f0[NMAX + 1], Vd = (double)V;
  double Z = 0, Zb = 0, Zqq = 0;
  for (int n = -NMAX; n <= NMAX; n++) {
    int k = n + NMAX + 1;
    double r = f0[k] / c;
    Z += pow(r, Vd);
    Zb += pow(r, Vd - 1) * 0.5 * (f0[k - 1] + f0[k + 1]) / c;
    Zqq += (Vd * pow(r, Vd - 1) * f2[k] / c + Vd * (Vd - 1) * pow(r, Vd - 2) * (f1[k] / c) * (f1[k] / c)) /
           (LF_TWOPI * LF_TWOPI);
  }
  if (plaq) *plaq = Zb / Z;
  if (chi) *chi = -Zqq / Z / Vd;
}

#endif
