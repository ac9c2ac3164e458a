/*
 * eig.c -- eigen-decompositions for spectral flows:
 *  - hermitian n x n: cyclic complex Jacobi; 3x3 starts from the analytic eigenbasis
 *    (Kopp, arXiv:physics/0610206), after which one sweep usually suffices;
 *  - unitary U(N)/SU(N) W = V diag(e^{i theta}) V^dag: n = 2 closed form via the
 *    quaternion form; n = 3 Cayley transform H = i (1 - cW)(1 + cW)^{-1}, c in
 *    {1, -i, -1, i} chosen so that -1/c is far from the spectrum, then Jacobi on H;
 *    angles are the phases of the Rayleigh quotients v^dag W v.
 *
 * Math: docs/spectral.md ("Unitary eigen-decomposition"); Jacobi rotation as in
 * Numerical Recipes 11.1 with the phase of the off-diagonal element removed; Cayley
 * transform: eigenvalue e^{i a} of cW maps to tan(a/2), injective on the circle minus -1,
 * so distinct eigenvalues of W stay distinct (unlike (W - W^dag)/2i, whose eigenvalues
 * sin(theta) merge theta and pi - theta). Background: Boyda et al., arXiv:2008.05456.
 *
 * Thread contract: pure functions of their arguments, no allocation, no global state.
 */
#include "latflow/group.h"
#include "spec_internal.h"

#include <float.h>
#include <math.h>

/* Jacobi stops when the off-diagonal Frobenius norm is below this fraction of ||H||_F. */
#define JACOBI_REL_OFF 1e-18
#define JACOBI_MAX_SWEEPS 40

static int finite_mat(int n, const lf_cplx *a) {
  for (int i = 0; i < n * n; i++)
    if (!isfinite(creal(a[i])) || !isfinite(cimag(a[i]))) return 0;
  return 1;
}

/* Sort (key, column of v) ascending by key; n <= 3. */
static void sort_columns(int n, double *key, lf_cplx *v) {
  for (int i = 1; i < n; i++)
    for (int j = i; j > 0 && key[j] < key[j - 1]; j--) {
      double t = key[j];
      key[j] = key[j - 1];
      key[j - 1] = t;
      for (int r = 0; r < n; r++) {
        lf_cplx x = v[r * n + j];
        v[r * n + j] = v[r * n + j - 1];
        v[r * n + j - 1] = x;
      }
    }
}

/* c = a x b (bilinear; for rows a, b of A, A c has zeros in those rows) */
static void cross3(lf_cplx *c, const lf_cplx *a, const lf_cplx *b) {
  c[0] = a[1] * b[2] - a[2] * b[1];
  c[1] = a[2] * b[0] - a[0] * b[2];
  c[2] = a[0] * b[1] - a[1] * b[0];
}
static double norm2_3(const lf_cplx *x) {
  return creal(x[0] * conj(x[0])) + creal(x[1] * conj(x[1])) + creal(x[2] * conj(x[2]));
}

/* Unit null vector of a - lam (3x3 hermitian): the largest cross product of two rows.
 * Returns 0 when all cross products vanish (lam at least double). */
static int null_vector3(const lf_cplx *a, double lam, lf_cplx *x) {
  lf_cplx r[3][3], c[3];
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) r[i][j] = a[i * 3 + j] - (i == j ? lam : 0.0);
  double best = 0;
  for (int k = 0; k < 3; k++) {
    cross3(c, r[k], r[(k + 1) % 3]);
    double n2 = norm2_3(c);
    if (n2 > best) {
      best = n2;
      x[0] = c[0], x[1] = c[1], x[2] = c[2];
    }
  }
  if (!(best > 0)) return 0;
  double in = 1.0 / sqrt(best);
  for (int i = 0; i < 3; i++) x[i] *= in;
  return 1;
}

/* Starting basis for the 3x3 Jacobi iteration (hybrid method of J. Kopp, Int. J. Mod.
 * Phys. C 19 (2008) 523): eigenvalues by the trigonometric formula, eigenvectors of the
 * two extreme eigenvalues by cross products, Gram-Schmidt, third column conj(v1 x v2).
 * Only a preconditioner: where it is inaccurate (near-degenerate spectra) Jacobi needs
 * more sweeps, the final accuracy is Jacobi's. Fills v (unitary) and returns 1, or returns
 * 0 (v untouched). Also used by polar.c (declared in spec_internal.h). */
int lf_spec_herm3_basis(const lf_cplx *a, lf_cplx *v) {
  const double m = (creal(a[0]) + creal(a[4]) + creal(a[8])) / 3.0;
  const double k0 = creal(a[0]) - m, k1 = creal(a[4]) - m, k2 = creal(a[8]) - m;
  const double o01 = creal(a[1] * conj(a[1])), o02 = creal(a[2] * conj(a[2])),
               o12 = creal(a[5] * conj(a[5]));
  const double p2 = (k0 * k0 + k1 * k1 + k2 * k2 + 2.0 * (o01 + o02 + o12)) / 6.0;
  if (!(p2 > 1e-30)) return 0;
  const double p = sqrt(p2);
  const double detk = k0 * k1 * k2 + 2.0 * creal(a[1] * a[5] * a[6]) - k0 * o12 - k1 * o02 - k2 * o01;
  double r = detk / (2.0 * p2 * p);
  r = r > 1.0 ? 1.0 : (r < -1.0 ? -1.0 : r);
  const double phi = acos(r) / 3.0;
  const double lmax = m + 2.0 * p * cos(phi), lmin = m + 2.0 * p * cos(phi + LF_TWOPI / 3.0);
  const double lmid = 3.0 * m - lmax - lmin;
  const int top = lmax - lmid >= lmid - lmin; /* the better separated extreme first */
  lf_cplx v1[3], v2[3], v3[3];
  if (!null_vector3(a, top ? lmax : lmin, v1)) return 0;
  int ok2 = null_vector3(a, top ? lmin : lmax, v2);
  lf_cplx ip = ok2 ? conj(v1[0]) * v2[0] + conj(v1[1]) * v2[1] + conj(v1[2]) * v2[2] : 0;
  for (int i = 0; i < 3 && ok2; i++) v2[i] -= ip * v1[i];
  double n2 = ok2 ? norm2_3(v2) : 0;
  if (!(n2 > 0.25)) { /* fall back: the unit vector least aligned with v1, projected */
    int k = 0;
    for (int i = 1; i < 3; i++)
      if (cabs(v1[i]) < cabs(v1[k])) k = i;
    for (int i = 0; i < 3; i++) v2[i] = -conj(v1[k]) * v1[i];
    v2[k] += 1.0;
    n2 = norm2_3(v2);
  }
  const double in = 1.0 / sqrt(n2);
  for (int i = 0; i < 3; i++) v2[i] *= in;
  cross3(v3, v1, v2);
  for (int i = 0; i < 3; i++) {
    v[i * 3 + 0] = v1[i];
    v[i * 3 + 1] = v2[i];
    v[i * 3 + 2] = conj(v3[i]);
  }
  return 1;
}

/* Body of lf_spec_eigh; inlined with constant n by the dispatcher below so that the
 * 3x3 loops are unrolled. */
static inline __attribute__((always_inline)) int eigh_impl(const int n, const lf_cplx *h,
                                                           double *lam, lf_cplx *v) {
  lf_cplx a[9];
  for (int i = 0; i < n; i++)
    for (int j = i; j < n; j++) {
      a[i * n + j] = h[i * n + j];
      a[j * n + i] = conj(h[i * n + j]);
    }
  for (int i = 0; i < n; i++) a[i * n + i] = creal(a[i * n + i]);
  if (!finite_mat(n, a))
    return LF_ERROR(LF_ENAN, "hermitian matrix has NaN/Inf entries; check the input");
  lf_mat_identity(n, v);
  /* scale to max |entry| = 1 so that |h| = sqrt(re^2 + im^2) cannot overflow */
  double sc = 0;
  for (int i = 0; i < n * n; i++) {
    double x = fabs(creal(a[i])), y = fabs(cimag(a[i]));
    if (x > sc) sc = x;
    if (y > sc) sc = y;
  }
  if (sc == 0) {
    for (int i = 0; i < n; i++) lam[i] = 0;
    return LF_OK;
  }
  const double isc = 1.0 / sc;
  for (int i = 0; i < n * n; i++) a[i] *= isc;
  if (n == 3 && lf_spec_herm3_basis(a, v)) { /* a <- V0^dag a V0, hermitised */
    lf_cplx t[9], b[9];
    lf_su3_mul(t, a, v);
    lf_su3_dag_mul(b, v, t);
    for (int i = 0; i < 3; i++) {
      a[i * 4] = creal(b[i * 4]);
      for (int j = i + 1; j < 3; j++) {
        a[i * 3 + j] = 0.5 * (b[i * 3 + j] + conj(b[j * 3 + i]));
        a[j * 3 + i] = conj(a[i * 3 + j]);
      }
    }
  }
  double nrm2 = 0;
  for (int i = 0; i < n * n; i++) nrm2 += creal(a[i] * conj(a[i]));
  const double lim2 = JACOBI_REL_OFF * JACOBI_REL_OFF * nrm2;
  int sweep;
  for (sweep = 0; sweep < JACOBI_MAX_SWEEPS; sweep++) {
    double off = 0;
    for (int p = 0; p < n; p++)
      for (int q = p + 1; q < n; q++) off += creal(a[p * n + q] * conj(a[p * n + q]));
    if (off <= lim2) break;
    for (int p = 0; p < n; p++)
      for (int q = p + 1; q < n; q++) {
        lf_cplx hpq = a[p * n + q];
        double r2 = creal(hpq * conj(hpq));
        if (r2 == 0) continue;
        double app = creal(a[p * n + p]), aqq = creal(a[q * n + q]), c, shift;
        lf_cplx sp;
        lf_spec_rotation(app, aqq, hpq, &c, &sp, &shift);
        /* J^dag A J changes only rows/columns p, q: the (p,q) block is diagonalised
         * analytically; the other entries of columns p, q follow from (A J)[rr][p, q]. */
        for (int rr = 0; rr < n; rr++) {
          if (rr == p || rr == q) continue;
          lf_cplx arp = a[rr * n + p], arq = a[rr * n + q];
          a[rr * n + p] = c * arp - conj(sp) * arq;
          a[rr * n + q] = sp * arp + c * arq;
          a[p * n + rr] = conj(a[rr * n + p]);
          a[q * n + rr] = conj(a[rr * n + q]);
        }
        a[p * n + q] = a[q * n + p] = 0;
        a[p * n + p] = app - shift;
        a[q * n + q] = aqq + shift;
        lf_spec_rotate_cols(n, v, p, q, c, sp);
      }
  }
  if (sweep == JACOBI_MAX_SWEEPS)
    return LF_ERROR(LF_ENOCONV, "Jacobi eigensolver did not converge in %d sweeps; report "
                                "this matrix as a bug",
                    JACOBI_MAX_SWEEPS);
  for (int i = 0; i < n; i++) lam[i] = sc * creal(a[i * n + i]);
  sort_columns(n, lam, v);
  return LF_OK;
}

int lf_spec_eigh(int n, const lf_cplx *h, double *lam, lf_cplx *v) {
  switch (n) {
  case 1: return eigh_impl(1, h, lam, v);
  case 2: return eigh_impl(2, h, lam, v);
  case 3: return eigh_impl(3, h, lam, v);
  default: return LF_ERROR(LF_EINVAL, "matrix size n = %d: use 1, 2 or 3", n);
  }
}

/* 3x3 adjugate: adj(a) a = det(a) 1. */
static void adj3(lf_cplx *r, const lf_cplx *a) {
  r[0] = a[4] * a[8] - a[5] * a[7];
  r[1] = a[2] * a[7] - a[1] * a[8];
  r[2] = a[1] * a[5] - a[2] * a[4];
  r[3] = a[5] * a[6] - a[3] * a[8];
  r[4] = a[0] * a[8] - a[2] * a[6];
  r[5] = a[2] * a[3] - a[0] * a[5];
  r[6] = a[3] * a[7] - a[4] * a[6];
  r[7] = a[1] * a[6] - a[0] * a[7];
  r[8] = a[0] * a[4] - a[1] * a[3];
}

/* n = 3: eigenvectors from the Cayley transform, angles from Rayleigh quotients. */
static int eig3(const lf_cplx *w, double *theta, lf_cplx *v, double *absdev) {
  /* c W with c in {1, -i, -1, i} (exact products); pick the c maximising |det(1 + c W)|.
   * Some c has all eigenvalues >= 45 degrees from -1, so the chosen one has
   * sigma_min(1 + cW) >= 0.765^3 / 4 ~ 0.11 (docs/spectral.md). */
  const lf_cplx rot[4] = {1.0, -LF_I, -1.0, LF_I};
  /* |det(1 + cW)| = |q(1/c)|, q(mu) = det(mu + W) = mu^3 + e1 mu^2 + e2 mu + e3 */
  const lf_cplx e1 = w[0] + w[4] + w[8];
  const lf_cplx e2 = w[0] * w[4] - w[1] * w[3] + w[0] * w[8] - w[2] * w[6] + w[4] * w[8] - w[5] * w[7];
  const lf_cplx e3 = lf_mat_det(3, w);
  const lf_cplx q[4] = {1.0 + e1 + e2 + e3, -LF_I - e1 + LF_I * e2 + e3, -1.0 + e1 - e2 + e3,
                        LF_I - e1 - LF_I * e2 + e3};
  int kbest = 0;
  double qbest = -1;
  for (int k = 0; k < 4; k++) {
    double q2 = creal(q[k] * conj(q[k]));
    if (q2 > qbest) {
      qbest = q2;
      kbest = k;
    }
  }
  lf_cplx a[9];
  for (int i = 0; i < 9; i++) a[i] = rot[kbest] * w[i];
  a[0] += 1.0;
  a[4] += 1.0;
  a[8] += 1.0;
  /* H = i (1 - cW)(1 + cW)^{-1} = 2 i A^{-1} - i, A = 1 + cW; only the upper triangle is
   * read by the solver after we symmetrise. */
  lf_cplx adj[9], hm[9];
  adj3(adj, a);
  const lf_cplx dbest = a[0] * adj[0] + a[1] * adj[3] + a[2] * adj[6];
  lf_cplx f = 2.0 * LF_I / dbest;
  for (int i = 0; i < 9; i++) hm[i] = f * adj[i];
  lf_cplx hh[9];
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) hh[i * 3 + j] = 0.5 * (hm[i * 3 + j] + conj(hm[j * 3 + i]));
  /* (the -i 1 term is anti-hermitian and drops out of the hermitian part) */
  double lam[3];
  int rc = lf_spec_eigh(3, hh, lam, v);
  if (rc) return rc;
  *absdev = 0;
  for (int j = 0; j < 3; j++) {
    lf_cplx rq = 0;
    for (int r = 0; r < 3; r++) {
      lf_cplx wv = w[r * 3] * v[j] + w[r * 3 + 1] * v[3 + j] + w[r * 3 + 2] * v[6 + j];
      rq += conj(v[r * 3 + j]) * wv;
    }
    theta[j] = carg(rq);
    double dev = fabs(cabs(rq) - 1.0);
    if (dev > *absdev) *absdev = dev;
  }
  return LF_OK;
}

/* n = 2: W = e^{i psi} (a0 + i a.sigma); eigenvectors of n.sigma, angles psi +- beta. */
static void eig2(int su, const lf_cplx *w, double *theta, lf_cplx *v, double *absdev) {
  lf_cplx d = w[0] * w[3] - w[1] * w[2];
  double psi = su ? 0.0 : 0.5 * carg(d);
  lf_cplx ph = su ? 1.0 : cexp(-LF_I * psi);
  lf_cplx s0 = ph * w[0], s1 = ph * w[1], s2 = ph * w[2], s3 = ph * w[3];
  double a0 = 0.5 * creal(s0 + s3);
  double a1 = 0.5 * cimag(s1 + s2);
  double a2 = 0.5 * creal(s1 - s2);
  double a3 = 0.5 * cimag(s0 - s3);
  double r = sqrt(a1 * a1 + a2 * a2 + a3 * a3);
  double beta = atan2(r, a0);
  /* unitarity: S must have the quaternion form [[x, y], [-y*, x*]] with |x|^2+|y|^2 = 1 */
  *absdev = fabs(cabs(d) - 1.0) + cabs(s0 - conj(s3)) + cabs(s1 + conj(s2));
  if (su) *absdev += cabs(d - 1.0);
  lf_cplx u0, u1;
  if (r == 0) {
    u0 = 1.0;
    u1 = 0.0;
  } else {
    double n1 = a1 / r, n2 = a2 / r, n3 = a3 / r;
    if (n3 >= 0) {
      double nn = 1.0 / sqrt(2.0 * (1.0 + n3));
      u0 = (1.0 + n3) * nn;
      u1 = (n1 + LF_I * n2) * nn;
    } else {
      double nn = 1.0 / sqrt(2.0 * (1.0 - n3));
      u0 = (n1 - LF_I * n2) * nn;
      u1 = (1.0 - n3) * nn;
    }
  }
  /* columns: u (eigenvalue e^{i(psi+beta)}), (-conj(u1), conj(u0)) (e^{i(psi-beta)}) */
  v[0] = u0;
  v[2] = u1;
  v[1] = -conj(u1);
  v[3] = conj(u0);
  theta[0] = psi + beta;
  theta[1] = psi - beta;
}

/* Bring angles to the documented convention and sort. */
static int finish_angles(int n, int su, double *theta, lf_cplx *v) {
  for (int j = 0; j < n; j++) {
    while (theta[j] > LF_PI) theta[j] -= LF_TWOPI;
    while (theta[j] <= -LF_PI) theta[j] += LF_TWOPI;
  }
  if (su) {
    double sum = 0;
    for (int j = 0; j < n; j++) sum += theta[j];
    double k = nearbyint(sum / LF_TWOPI);
    if (fabs(sum - k * LF_TWOPI) > LF_SPEC_UNITARY_TOL)
      return LF_ERROR(LF_EINVAL,
                      "det W = exp(i %.3g) is not 1: W is not in SU(%d); use su = 0 (U(N)) or "
                      "project with lf_spec_polar(..., su = 1, ...)",
                      sum, n);
    if (k > 0.5 || k < -0.5) {
      int jx = 0;
      for (int j = 1; j < n; j++)
        if ((k > 0 && theta[j] > theta[jx]) || (k < 0 && theta[j] < theta[jx])) jx = j;
      theta[jx] -= k * LF_TWOPI;
    }
  }
  sort_columns(n, theta, v);
  if (su) {
    /* exact zero sum: the last (largest) angle absorbs the rounding, so the sum evaluated
     * left to right is exactly 0; the order can break by an ulp at exact ties only. */
    double rest = 0;
    for (int j = 0; j < n - 1; j++) rest += theta[j];
    theta[n - 1] = -rest;
  }
  return LF_OK;
}

int lf_spec_eig(int n, int su, const lf_cplx *w, lf_spec_eigsys *e) {
  if (n < 1 || n > 3) return LF_ERROR(LF_EINVAL, "matrix size n = %d: use 1, 2 or 3", n);
  if (!finite_mat(n, w))
    return LF_ERROR(LF_ENAN, "matrix has NaN/Inf entries; check the input of lf_spec_eig");
  e->n = n;
  e->su = su ? 1 : 0;
  double dev = 0;
  if (n == 1) {
    e->v[0] = 1.0;
    e->theta[0] = su ? 0.0 : carg(w[0]);
    dev = fabs(cabs(w[0]) - 1.0);
    if (su) dev += cabs(w[0] - 1.0);
  } else if (n == 2) {
    eig2(e->su, w, e->theta, e->v, &dev);
  } else {
    int rc = eig3(w, e->theta, e->v, &dev);
    if (rc) return rc;
  }
  if (!(dev <= LF_SPEC_UNITARY_TOL))
    return LF_ERROR(LF_EINVAL,
                    "matrix is not unitary%s (deviation %.3g > %.1g); reunitarize it "
                    "(lf_group_unitarize) or project it (lf_spec_polar) first",
                    su ? " with det 1" : "", dev, LF_SPEC_UNITARY_TOL);
  if (n == 1) return LF_OK;
  return finish_angles(n, e->su, e->theta, e->v);
}
