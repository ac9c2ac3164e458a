/*
 * app/exact.c -- exact 2D plaquettes from the character expansion (display only).
 * U(1): Z = sum_n I_n(b)^V on a V-site torus, <P> = sum_n I_n'(b) I_n(b)^(V-1) / Z.
 * SU(N): one-plaquette integral z(x) = sum_n det[I_{n+i-j}(x)]_{i,j<N}, x = beta/N
 * (weight exp(x Re tr U)); in infinite volume <P> = (1/N) z'(x)/z(x).
 * References: e.g. Drouffe-Zuber, Phys. Rep. 102 (1983) 1; Bars-Green, PRD 20 (1979) 3311.
 */
#include "exact.h"

#include <math.h>

/* I_n(x) by its power series (fine for |n| <= 60, 0 < x <= 60). */
static double bessel_i(int n, double x) {
  if (n < 0) n = -n;
  double term = 1.0;
  for (int k = 1; k <= n; k++) term *= 0.5 * x / k;
  double sum = term, q = 0.25 * x * x;
  for (int k = 1; k < 500; k++) {
    term *= q / ((double)k * (double)(k + n));
    sum += term;
    if (term < 1e-17 * sum) break;
  }
  return sum;
}

static double det_bessel(int N, int n, double x) {
  double m[3][3];
  for (int i = 0; i < N; i++)
    for (int j = 0; j < N; j++) m[i][j] = bessel_i(n + i - j, x);
  if (N == 1) return m[0][0];
  if (N == 2) return m[0][0] * m[1][1] - m[0][1] * m[1][0];
  return m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
         m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
         m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
}

static double z_sun(int N, double x) {
  double z = 0;
  for (int n = -40; n <= 40; n++) z += det_bessel(N, n, x);
  return z;
}

int lf_app_exact_plaquette(lf_group g, const lf_lattice *lat, const lf_action *a, double *p,
                           const char **kind) {
  if (lat->nd != 2 || a->kind != LF_ACTION_WILSON) return -1;
  double b = a->beta * a->plane_coef[0];
  if (!(b > 0) || b > 50) return -1;
  if (g == LF_U1) {
    double V = (double)lat->vol, num = 0, den = 0, i0 = bessel_i(0, b);
    for (int n = -60; n <= 60; n++) {
      double r = bessel_i(n, b) / i0;
      double dr = 0.5 * (bessel_i(n - 1, b) + bessel_i(n + 1, b)) / i0;
      if (r <= 0) continue;
      double rv1 = exp((V - 1) * log(r));
      num += dr * rv1;
      den += rv1 * r;
    }
    *p = num / den;
    *kind = "2D U(1), finite volume";
    return 0;
  }
  int N = (int)g;
  double x = b / N, h = 1e-5 * x;
  *p = (log(z_sun(N, x + h)) - log(z_sun(N, x - h))) / (2 * h) / N;
  *kind = N == 2 ? "2D SU(2), infinite volume" : "2D SU(3), infinite volume";
  return 0;
}
