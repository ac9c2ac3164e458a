/* tests/group/polar.c -- polar projection onto U(N)/SU(N) (lf_spec_polar) against an
 * independent long-double scaled Newton iteration X <- (g X + X^{-dag}/g)/2 (Higham 1986),
 * for well- and ill-conditioned complex matrices (condition numbers up to 1e12);
 * unitarity, det = 1, idempotence, scale invariance, conjugation equivariance
 * P(g M g^dag) = g P(M) g^dag; the VJP against central finite differences over all 2 N^2
 * real directions of M (random and ill-conditioned M, both projections), its
 * insensitivity to the non-tangent part of dL/dP; error paths. */
#include "latflow/group.h"
#include "lf_test.h"

#include <complex.h>
#include <math.h>
#include <stdio.h>

typedef long double complex lcplx;

static lf_rng rng;

/* Reference: scaled Newton iteration in long double. */
static void polar_reference(int n, const lf_cplx *m, lf_cplx *out) {
  lcplx x[9], y[9], adj[9];
  for (int i = 0; i < n * n; i++) x[i] = m[i];
  for (int it = 0; it < 200; it++) {
    lcplx d;
    if (n == 1) {
      adj[0] = 1;
      d = x[0];
    } else if (n == 2) {
      adj[0] = x[3], adj[1] = -x[1], adj[2] = -x[2], adj[3] = x[0];
      d = x[0] * x[3] - x[1] * x[2];
    } else {
      adj[0] = x[4] * x[8] - x[5] * x[7];
      adj[1] = x[2] * x[7] - x[1] * x[8];
      adj[2] = x[1] * x[5] - x[2] * x[4];
      adj[3] = x[5] * x[6] - x[3] * x[8];
      adj[4] = x[0] * x[8] - x[2] * x[6];
      adj[5] = x[2] * x[3] - x[0] * x[5];
      adj[6] = x[3] * x[7] - x[4] * x[6];
      adj[7] = x[1] * x[6] - x[0] * x[7];
      adj[8] = x[0] * x[4] - x[1] * x[3];
      d = x[0] * adj[0] + x[1] * adj[3] + x[2] * adj[6];
    }
    long double g = powl(cabsl(d), -1.0L / (long double)n); /* determinant scaling */
    if (it > 20) g = 1.0L;
    long double ch = 0;
    for (int i = 0; i < n; i++)
      for (int j = 0; j < n; j++) {
        lcplx inv_dag = conjl(adj[j * n + i] / d); /* (X^{-1})^dag_ij = conj(X^{-1}_ji) */
        y[i * n + j] = 0.5L * (g * x[i * n + j] + inv_dag / g);
        ch += cabsl(y[i * n + j] - x[i * n + j]);
      }
    for (int i = 0; i < n * n; i++) x[i] = y[i];
    if (it > 20 && ch < 1e-30L) break;
  }
  for (int i = 0; i < n * n; i++) out[i] = (lf_cplx)x[i];
}

static void random_complex(int n, lf_cplx *m) {
  for (int i = 0; i < n * n; i++) m[i] = lf_rng_normal(&rng) + LF_I * lf_rng_normal(&rng);
}

/* M = A diag(sigma) B with A, B Haar U(n): singular values exactly known. */
static void conditioned(int n, double kappa, lf_cplx *m) {
  lf_cplx a[9], b[9], t[9];
  lf_group_haar((lf_group)n, a, &rng);
  lf_group_haar((lf_group)n, b, &rng);
  lf_mat_scale(n, a, cexp(LF_I * 6.0 * lf_rng_uniform(&rng)));
  for (int i = 0; i < n; i++) {
    double s = n == 1 ? 1.0 : pow(kappa, -(double)i / (double)(n - 1));
    for (int j = 0; j < n; j++) t[i * n + j] = s * b[i * n + j];
  }
  lf_mat_mul(n, m, a, t);
  lf_mat_scale(n, m, 2.385);
}

static double unit_defect(int n, const lf_cplx *v) {
  lf_cplx p[9], one[9];
  lf_mat_dag_mul(n, p, v, v);
  lf_mat_identity(n, one);
  return lf_mat_dist(n, p, one);
}

static double loss(int n, int su, const lf_cplx *c, const lf_cplx *m, int *rc) {
  lf_cplx p[9];
  *rc |= lf_spec_polar(n, su, m, p, NULL);
  return lf_mat_retr_mul_dag(n, p, c);
}

/* FD over the 2 n^2 real directions, step h; returns max |fd - an| / max |an|. */
static double fd_check(int n, int su, const lf_cplx *m, double h, double *gmax) {
  lf_cplx c[9], p[9], gm[9], mp[9], mm[9];
  lf_spec_polar_state st;
  random_complex(n, c);
  int rc = lf_spec_polar(n, su, m, p, &st);
  lf_spec_polar_vjp(&st, c, gm);
  double dev = 0, gx = 0;
  for (int i = 0; i < n * n; i++)
    for (int part = 0; part < 2; part++) {
      lf_cplx dir = part ? LF_I : 1.0;
      lf_mat_copy(n, mp, m);
      lf_mat_copy(n, mm, m);
      mp[i] += h * dir;
      mm[i] -= h * dir;
      double fd = (loss(n, su, c, mp, &rc) - loss(n, su, c, mm, &rc)) / (2 * h);
      double an = creal(conj(gm[i]) * dir);
      dev = fmax(dev, fabs(fd - an));
      gx = fmax(gx, fabs(an));
    }
  *gmax = gx;
  if (rc) return INFINITY;
  return dev / fmax(gx, 1.0);
}

int main(void) {
  lf_rng_init(&rng, 2385, LF_RNG_TAG(LF_RNG_PURPOSE_TEST, 60), 0);
  char what[200];

  /* ---- forward vs reference, by condition number */
  const double kappas[] = {1.0, 1e2, 1e4, 1e8, 1e12};
  for (int n = 1; n <= 3; n++)
    for (size_t ki = 0; ki < sizeof kappas / sizeof kappas[0]; ki++) {
      double kap = kappas[ki];
      if (n == 1 && ki > 0) continue;
      double dref = 0, dunit = 0, ddet = 0;
      int fails = 0;
      for (int t = 0; t < 200; t++) {
        lf_cplx m[9], p[9], ps[9], ref[9];
        if (ki == 0) random_complex(n, m);
        else conditioned(n, kap, m);
        if (lf_spec_polar(n, 0, m, p, NULL) || lf_spec_polar(n, 1, m, ps, NULL)) {
          fails++;
          continue;
        }
        polar_reference(n, m, ref);
        dref = fmax(dref, lf_mat_dist(n, p, ref));
        dunit = fmax(dunit, fmax(unit_defect(n, p), unit_defect(n, ps)));
        ddet = fmax(ddet, cabs(lf_mat_det(n, ps) - 1.0));
      }
      const char *lab = ki == 0 ? "random Gaussian" : "conditioned";
      double tol = 1e-14 * fmax(1.0, kap); /* polar factor condition number ~ kappa */
      snprintf(what, sizeof what, "n=%d %s (kappa %.0e) x200: no error", n, lab, kap);
      LF_TEST_TRUE(what, fails == 0);
      snprintf(what, sizeof what, "n=%d %s (kappa %.0e): P_U(N) vs long-double Newton", n, lab, kap);
      LF_TEST_ABS(what, dref, 0, tol);
      snprintf(what, sizeof what, "n=%d %s (kappa %.0e): P unitary", n, lab, kap);
      LF_TEST_ABS(what, dunit, 0, 1e-14);
      snprintf(what, sizeof what, "n=%d %s (kappa %.0e): det P_SU(N) = 1", n, lab, kap);
      LF_TEST_ABS(what, ddet, 0, 1e-14);
    }

  /* ---- invariances */
  for (int n = 2; n <= 3; n++) {
    double deq[2] = {0, 0}, didem = 0, dscale = 0, dpos = 0;
    for (int t = 0; t < 200; t++) {
      lf_cplx m[9], g[9], tmp[9], gm[9], p[9], q[9], pg[9], u[9];
      random_complex(n, m);
      if (t % 2) conditioned(n, 1e6, m);
      lf_group_haar((lf_group)n, g, &rng);
      lf_mat_mul(n, tmp, g, m);
      lf_mat_mul_dag(n, gm, tmp, g); /* g M g^dag */
      for (int su = 0; su <= 1; su++) {
        lf_spec_polar(n, su, m, p, NULL);
        lf_spec_polar(n, su, gm, q, NULL);
        lf_mat_mul(n, tmp, g, p);
        lf_mat_mul_dag(n, pg, tmp, g);
        deq[su] = fmax(deq[su], lf_mat_dist(n, q, pg));
      }
      /* idempotence on SU(N) (both projections), scale invariance, M hermitian > 0 -> 1 */
      lf_group_haar((lf_group)n, u, &rng);
      lf_spec_polar(n, 0, u, p, NULL);
      lf_spec_polar(n, 1, u, q, NULL);
      didem = fmax(didem, fmax(lf_mat_dist(n, p, u), lf_mat_dist(n, q, u)));
      random_complex(n, m);
      lf_spec_polar(n, 1, m, p, NULL);
      double sc = t % 2 ? 1e200 : 1e-200;
      for (int i = 0; i < n * n; i++) tmp[i] = m[i] * sc;
      lf_spec_polar(n, 1, tmp, q, NULL);
      dscale = fmax(dscale, lf_mat_dist(n, p, q));
      lf_mat_dag_mul(n, tmp, m, m); /* M^dag M: hermitian positive definite */
      lf_spec_polar(n, 1, tmp, p, NULL);
      lf_mat_identity(n, q);
      dpos = fmax(dpos, lf_mat_dist(n, p, q));
    }
    snprintf(what, sizeof what, "n=%d: P_U(N)(g M g^dag) = g P_U(N)(M) g^dag (kappa up to 1e6)", n);
    LF_TEST_ABS(what, deq[0], 0, 1e-9);
    snprintf(what, sizeof what, "n=%d: P_SU(N)(g M g^dag) = g P_SU(N)(M) g^dag (kappa up to 1e6)", n);
    LF_TEST_ABS(what, deq[1], 0, 1e-9);
    snprintf(what, sizeof what, "n=%d: P(U) = U for U in SU(N)", n);
    LF_TEST_ABS(what, didem, 0, 1e-14);
    snprintf(what, sizeof what, "n=%d: P(c M) = P(M), c = 1e200 and 1e-200", n);
    LF_TEST_ABS(what, dscale, 0, 1e-14);
    snprintf(what, sizeof what, "n=%d: P(H) = 1 for hermitian positive H", n);
    LF_TEST_ABS(what, dpos, 0, 1e-13);
  }

  /* ---- VJP vs finite differences */
  const double fd_kappas[] = {1.0, 1e2, 1e4};
  for (int n = 1; n <= 3; n++)
    for (int su = 0; su <= 1; su++)
      for (size_t ki = 0; ki < sizeof fd_kappas / sizeof fd_kappas[0]; ki++) {
        double kap = fd_kappas[ki];
        if (n == 1 && ki > 0) continue;
        double worst = 0, gmax = 0;
        for (int t = 0; t < 20; t++) {
          lf_cplx m[9];
          double smin;
          if (ki == 0) {
            random_complex(n, m);
            smin = 0.1; /* step 1e-5 below */
          } else {
            conditioned(n, kap, m);
            smin = 2.385 / kap;
          }
          double gx;
          double d = fd_check(n, su, m, 1e-4 * smin, &gx);
          worst = fmax(worst, d);
          gmax = fmax(gmax, gx);
        }
        snprintf(what, sizeof what, "polar VJP vs FD, n=%d %s, %s (kappa %.0e, max|grad| %.2g)", n,
                 su ? "SU(N)" : "U(N)", ki ? "conditioned" : "random", kap, gmax);
        LF_TEST_ABS(what, worst, 0, ki ? 1e-6 : 1e-7);
      }

  /* ---- VJP at degenerate singular values: M = c U (all equal), M = A diag(1, 1, 0.3) B */
  for (int su = 0; su <= 1; su++) {
    double worst = 0, gmax = 0;
    for (int t = 0; t < 20; t++) {
      lf_cplx m[9], a[9], b[9], tmp[9];
      lf_group_haar(LF_SU3, a, &rng);
      if (t % 2) {
        lf_mat_copy(3, m, a);
        lf_mat_scale(3, m, 2.385 * cexp(0.3 * LF_I));
      } else {
        lf_group_haar(LF_SU3, b, &rng);
        for (int j = 0; j < 3; j++) b[6 + j] *= 0.3;
        lf_mat_mul(3, tmp, a, b);
        lf_mat_copy(3, m, tmp);
      }
      double gx, d = fd_check(3, su, m, 1e-5, &gx);
      worst = fmax(worst, d);
      gmax = fmax(gmax, gx);
    }
    snprintf(what, sizeof what, "polar VJP vs FD, n=3 %s, degenerate singular values (max|grad| %.2g)",
             su ? "SU(N)" : "U(N)", gmax);
    LF_TEST_ABS(what, worst, 0, 1e-7);
  }

  /* ---- only the tangent part of dL/dP matters */
  for (int su = 0; su <= 1; su++) {
    double dev = 0;
    for (int t = 0; t < 100; t++) {
      lf_cplx m[9], p[9], g[9], h[9], ph[9], g2[9], gm1[9], gm2[9];
      lf_spec_polar_state st;
      random_complex(3, m);
      random_complex(3, g);
      random_complex(3, h);
      lf_spec_polar(3, su, m, p, &st);
      /* normal directions at P: P K with K hermitian (+ P i c 1 for SU(N)) */
      for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) ph[i * 3 + j] = 0.5 * (h[i * 3 + j] + conj(h[j * 3 + i]));
      if (su)
        for (int i = 0; i < 3; i++) ph[i * 4] += 0.77 * LF_I;
      lf_mat_mul(3, g2, p, ph);
      for (int i = 0; i < 9; i++) g2[i] += g[i];
      lf_spec_polar_vjp(&st, g, gm1);
      lf_spec_polar_vjp(&st, g2, gm2);
      dev = fmax(dev, lf_mat_dist(3, gm1, gm2));
    }
    snprintf(what, sizeof what, "polar VJP (%s) ignores the normal part of dL/dP",
             su ? "SU(3)" : "U(3)");
    LF_TEST_ABS(what, dev, 0, 1e-13);
  }

  /* ---- error paths */
  {
    lf_cplx m[9] = {0}, p[9];
    LF_TEST_TRUE("zero matrix -> LF_ERANGE", lf_spec_polar(3, 1, m, p, NULL) == LF_ERANGE);
    for (int i = 0; i < 3; i++)
      for (int j = 0; j < 3; j++) m[i * 3 + j] = (1.0 + i) * (0.5 - j) + LF_I * (1.0 + i); /* rank 1 */
    LF_TEST_TRUE("rank-deficient matrix -> LF_ERANGE", lf_spec_polar(3, 0, m, p, NULL) == LF_ERANGE);
    printf("     message: %s\n", lf_last_error());
    conditioned(3, 1e16, m); /* sigma = (1, 1e-8, 1e-16) */
    LF_TEST_TRUE("kappa 1e16 (rank 2 numerically) -> LF_ERANGE",
                 lf_spec_polar(3, 1, m, p, NULL) == LF_ERANGE);
    m[2] = INFINITY;
    LF_TEST_TRUE("Inf entry -> LF_ENAN", lf_spec_polar(3, 0, m, p, NULL) == LF_ENAN);
    LF_TEST_TRUE("n = 0 -> LF_EINVAL", lf_spec_polar(0, 0, m, p, NULL) == LF_EINVAL);
  }
  return lf_test_done();
}
