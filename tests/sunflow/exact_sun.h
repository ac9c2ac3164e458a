/*
 * tests/sunflow/exact_sun.h -- exact plaquette of 2D SU(N) (N = 2, 3) Wilson gauge theory
 * on a periodic torus of V plaquettes, by the character expansion
 *     Z = sum_r (z_r / d_r)^V,   z_r = int dU chi_r(U) exp((beta/N) Re tr U),
 *     <P> = sum_r (z_r/d_r)^(V-1) (z'_r/d_r) / Z,   z'_r = int dU chi_r(U) (Re tr U/N) e^(...)
 * (genus 1: the d_r^(2-2g) factor is 1; e.g. Drouffe and Zuber, Phys. Rep. 102 (1983) 1).
 * The class-function integrals use Weyl's formula: int dU F = int dtheta |Delta|^2 F /
 * int dtheta |Delta|^2 over the free angles (theta_N = -sum of the others), with
 * |Delta|^2 chi_lambda = conj(det[e^{i (N-j) theta_k}]) det[e^{i (lambda_j + N - j) theta_k}]
 * (Weyl character formula), integrated by the trapezoidal rule on an M (x M) grid, which
 * converges exponentially for these periodic analytic integrands. Irreps lambda_1 >= lambda_2
 * >= 0 (SU(3); lambda_2 = 0 for SU(2)) with lambda_1 <= LMAX, dimensions from the Weyl
 * formula. Independent checks in the test: z_0 against the Bessel forms 2 I_1(beta)/beta
 * (SU(2)) and sum_n det I_{n+i-j}(beta/3) (SU(3)), and V -> infinity against z'_0/z_0.
 */
#ifndef LF_TEST_EXACT_SUN_H
#define LF_TEST_EXACT_SUN_H

#include <complex.h>
#include <math.h>

#include "latflow/core.h"

#define EXACT_SUN_LMAX 16
#define EXACT_SUN_M 96

static inline double exact_sun_bessel_i(int n, double x) {
  if (n < 0) n = -n;
  double lx = log(0.5 * x), sum = 0;
  for (int k = 0; k < 500; k++) {
    double t = exp((2.0 * k + n) * lx - lgamma(k + 1.0) - lgamma(k + n + 1.0));
    sum += t;
    if (k > 2 * x && t < 1e-18 * sum) break;
  }
  return sum;
}

static inline double complex exact_sun_det(int n, const double complex *a) {
  if (n == 2) return a[0] * a[3] - a[1] * a[2];
  return a[0] * (a[4] * a[8] - a[5] * a[7]) - a[1] * (a[3] * a[8] - a[5] * a[6]) +
         a[2] * (a[3] * a[7] - a[4] * a[6]);
}

/* z_lambda / d_lambda and z'_lambda / d_lambda for all irreps with lambda_1 <= LMAX;
 * returns the number of irreps. */
static inline int exact_sun_coeffs(int N, double beta, double *zr, double *zpr) {
  const int M = EXACT_SUN_M, npts = N == 2 ? M : M * M;
  int nr = 0;
  double norm = 0;
  static double zs[(EXACT_SUN_LMAX + 1) * (EXACT_SUN_LMAX + 1)],
      zps[(EXACT_SUN_LMAX + 1) * (EXACT_SUN_LMAX + 1)];
  for (int i = 0; i < (EXACT_SUN_LMAX + 1) * (EXACT_SUN_LMAX + 1); i++) zs[i] = zps[i] = 0;
  for (int q = 0; q < npts; q++) {
    double th[3];
    th[0] = LF_TWOPI * (q % M) / M;
    if (N == 2) th[1] = -th[0];
    else th[1] = LF_TWOPI * (q / M) / M, th[2] = -th[0] - th[1];
    double retr = 0;
    for (int k = 0; k < N; k++) retr += cos(th[k]);
    double w = exp(beta / N * retr), p = retr / N;
    double complex a[9];
    for (int j = 0; j < N; j++)
      for (int k = 0; k < N; k++) a[j * N + k] = cexp(CMPLX(0.0, (double)(N - 1 - j) * th[k]));
    double complex dl = conj(exact_sun_det(N, a));
    norm += creal(dl * exact_sun_det(N, a));
    for (int l1 = 0; l1 <= EXACT_SUN_LMAX; l1++)
      for (int l2 = 0; l2 <= (N == 3 ? l1 : 0); l2++) {
        int lam[3] = {l1, l2, 0};
        for (int j = 0; j < N; j++)
          for (int k = 0; k < N; k++)
            a[j * N + k] = cexp(CMPLX(0.0, (double)(lam[j] + N - 1 - j) * th[k]));
        double v = creal(dl * exact_sun_det(N, a));
        zs[l1 * (EXACT_SUN_LMAX + 1) + l2] += v * w;
        zps[l1 * (EXACT_SUN_LMAX + 1) + l2] += v * w * p;
      }
  }
  for (int l1 = 0; l1 <= EXACT_SUN_LMAX; l1++)
    for (int l2 = 0; l2 <= (N == 3 ? l1 : 0); l2++) {
      double d = N == 2 ? l1 + 1.0 : (l1 - l2 + 1.0) * (l2 + 1.0) * (l1 + 2.0) / 2.0;
      zr[nr] = zs[l1 * (EXACT_SUN_LMAX + 1) + l2] / norm / d;
      zpr[nr] = zps[l1 * (EXACT_SUN_LMAX + 1) + l2] / norm / d;
      nr++;
    }
  return nr;
}

/* Exact <Re tr U_P / N> on a torus of V plaquettes (V <= 0: infinite volume, z'_0/z_0). */
static inline double exact_sun_plaquette(int N, double beta, long V) {
  double zr[(EXACT_SUN_LMAX + 1) * (EXACT_SUN_LMAX + 1)], zpr[(EXACT_SUN_LMAX + 1) * (EXACT_SUN_LMAX + 1)];
  int nr = exact_sun_coeffs(N, beta, zr, zpr);
  if (V <= 0) return zpr[0] / zr[0];
  double num = 0, den = 0;
  for (int r = 0; r < nr; r++) {
    double ratio = zr[r] / zr[0];
    num += pow(ratio, (double)V - 1) * zpr[r] / zr[0];
    den += pow(ratio, (double)V);
  }
  return num / den;
}

#endif
