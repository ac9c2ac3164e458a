/* tests/group/spectral.c -- unitary and hermitian eigen-decompositions, the spectral map
 * W -> V e^{i f(theta)} V^dag and its VJP, the eigen-angle VJP and the Vandermonde
 * factor (all against central finite differences along group directions), and the
 * Weyl density of the eigen-angles of Haar-random SU(2)/SU(3) matrices (chi^2 tests at
 * 4 sigma). Inputs include degenerate spectra: W = 1, centre elements, two equal
 * angles, angles 1e-8 / 1e-12 apart, eigenvalues meeting at -1 across the branch cut. */
#include "latflow/group.h"
#include "lf_test.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define TOL_RECON 1e-13 /* ||V e^{i theta} V^dag - W||_F */
#define TOL_UNIT 1e-14  /* ||V^dag V - 1||_F */
#define TOL_FD 1e-7     /* FD vs analytic gradient, relative to max |gradient| */
#define FD_STEP 1e-5

static lf_rng rng;

static void unitary_from(int n, const lf_cplx *v0, const double *th, lf_cplx *w) {
  for (int i = 0; i < n; i++)
    for (int k = 0; k < n; k++) {
      lf_cplx s = 0;
      for (int j = 0; j < n; j++) s += v0[i * n + j] * cexp(LF_I * th[j]) * conj(v0[k * n + j]);
      w[i * n + k] = s;
    }
}

static double unit_defect(int n, const lf_cplx *v) {
  lf_cplx p[9], one[9];
  lf_mat_dag_mul(n, p, v, v);
  lf_mat_identity(n, one);
  return lf_mat_dist(n, p, one);
}

/* max_k=1..n |sum_j e^{i k theta_j} - tr W^k|: independent check of the angles. */
static double power_sum_dev(int n, const lf_cplx *w, const double *th) {
  lf_cplx wk[9], t[9];
  lf_mat_copy(n, wk, w);
  double dev = 0;
  for (int k = 1; k <= n; k++) {
    lf_cplx s = 0;
    for (int j = 0; j < n; j++) s += cexp(LF_I * (double)k * th[j]);
    double d = cabs(s - lf_mat_trace(n, wk));
    if (d > dev) dev = d;
    lf_mat_mul(n, t, wk, w);
    lf_mat_copy(n, wk, t);
  }
  return dev;
}

typedef struct {
  double recon, unit, psum, resid, sum, order;
} eig_err;

static int check_eig(int n, int su, const lf_cplx *w, eig_err *er) {
  lf_spec_eigsys e;
  int rc = lf_spec_eig(n, su, w, &e);
  if (rc) return rc;
  lf_cplx r[9];
  lf_spec_map(&e, e.theta, r);
  double d = lf_mat_dist(n, r, w);
  if (d > er->recon) er->recon = d;
  d = unit_defect(n, e.v);
  if (d > er->unit) er->unit = d;
  d = power_sum_dev(n, w, e.theta);
  if (d > er->psum) er->psum = d;
  double s = 0;
  for (int j = 0; j < n; j++) {
    s += e.theta[j];
    if (j && e.theta[j] < e.theta[j - 1] - 1e-15) er->order = 1; /* ties: 1 ulp */
    if (!su && (e.theta[j] <= -LF_PI || e.theta[j] > LF_PI)) er->order = 1;
    /* eigen-residual ||W v_j - e^{i theta_j} v_j|| */
    double res = 0;
    for (int a = 0; a < n; a++) {
      lf_cplx x = -cexp(LF_I * e.theta[j]) * e.v[a * n + j];
      for (int b = 0; b < n; b++) x += w[a * n + b] * e.v[b * n + j];
      res += creal(x * conj(x));
    }
    if (sqrt(res) > er->resid) er->resid = sqrt(res);
  }
  if (su && fabs(s) > er->sum) er->sum = fabs(s);
  return LF_OK;
}

static void report_eig(const char *label, const eig_err *er, int su) {
  char what[160];
  snprintf(what, sizeof what, "%s: reconstruction V e^{i theta} V^dag = W", label);
  LF_TEST_ABS(what, er->recon, 0, TOL_RECON);
  snprintf(what, sizeof what, "%s: V unitary", label);
  LF_TEST_ABS(what, er->unit, 0, TOL_UNIT);
  snprintf(what, sizeof what, "%s: sum_j e^{ik theta_j} = tr W^k (k <= n)", label);
  LF_TEST_ABS(what, er->psum, 0, 1e-13);
  snprintf(what, sizeof what, "%s: angles sorted and in range", label);
  LF_TEST_TRUE(what, er->order == 0);
  if (su) {
    snprintf(what, sizeof what, "%s: sum of angles exactly 0 (SU(N) convention)", label);
    LF_TEST_ABS(what, er->sum, 0, 0.0);
  }
}

/* ---------------------------------------------------------------- spectral map test f */
/* theta'_j = theta_j + a sin(theta_j + b) + u(theta), u = -(a/N) sum_k sin(theta_k + b) for
 * SU(N) (keeps the sum) or c sum_k cos theta_k for U(N). Permutation equivariant and
 * compatible with theta_j -> theta_j + 2 pi. */
static const double FA = 0.37, FB = 0.61, FC = 0.23;
static void test_f(int n, int su, const double *th, double *th1, double *jac) {
  double u = 0;
  for (int k = 0; k < n; k++) u += su ? -(FA / n) * sin(th[k] + FB) : FC * cos(th[k]);
  for (int j = 0; j < n; j++) {
    th1[j] = th[j] + FA * sin(th[j] + FB) + u;
    for (int k = 0; k < n; k++)
      jac[j * n + k] = (j == k ? 1.0 + FA * cos(th[j] + FB) : 0.0) +
                       (su ? -(FA / n) * cos(th[k] + FB) : -FC * sin(th[k]));
  }
}

/* L(W) = Re tr(C^dag W') + sum_j kap cos(theta_j + dl) */
static const double KAP = 0.71, DL = 0.29;
static int loss(int n, int su, const lf_cplx *c, const lf_cplx *w, double *l) {
  lf_spec_eigsys e;
  double th1[3], jac[9];
  lf_cplx w1[9];
  int rc = lf_spec_eig(n, su, w, &e);
  if (rc) return rc;
  test_f(n, su, e.theta, th1, jac);
  lf_spec_map(&e, th1, w1);
  *l = lf_mat_retr_mul_dag(n, w1, c);
  for (int j = 0; j < n; j++) *l += KAP * cos(e.theta[j] + DL);
  return LF_OK;
}

static int loss_grad(int n, int su, const lf_cplx *c, const lf_cplx *w, lf_cplx *gw) {
  lf_spec_eigsys e;
  double th1[3], jac[9], s[9], g1[3], gth[3];
  int rc = lf_spec_eig(n, su, w, &e);
  if (rc) return rc;
  test_f(n, su, e.theta, th1, jac);
  lf_spec_map_vjp_angles(&e, th1, c, g1); /* dL/dW' = C */
  for (int k = 0; k < n; k++) {
    gth[k] = -KAP * sin(e.theta[k] + DL);
    for (int j = 0; j < n; j++) gth[k] += g1[j] * jac[j * n + k];
  }
  rc = lf_spec_divdiff(n, e.theta, th1, jac, s);
  if (rc) return rc;
  lf_spec_map_vjp(&e, th1, s, c, gth, gw);
  return LF_OK;
}

/* Directions X (anti-hermitian): the SU(N) generators i T_a, plus i 1/sqrt(n) for U(N). */
static int directions(int n, int su, lf_cplx x[][9]) {
  int ng = n == 1 ? 0 : n * n - 1, nd = 0;
  for (int a = 0; a < ng; a++) {
    double co[8] = {0};
    co[a] = 1.0;
    lf_alg_from_coords((lf_group)n, x[nd++], co);
  }
  if (!su) {
    lf_mat_identity(n, x[nd]);
    lf_mat_scale(n, x[nd], LF_I / sqrt((double)n));
    nd++;
  }
  return nd;
}

/* exp(eps X) W for anti-hermitian X (scaling and squaring + Taylor, n <= 3). */
static void exp_times(int n, double eps, const lf_cplx *x, const lf_cplx *w, lf_cplx *out) {
  lf_cplx u[9], term[9], tmp[9];
  lf_mat_identity(n, u);
  lf_mat_identity(n, term);
  for (int j = 1; j <= 20; j++) {
    lf_mat_mul(n, tmp, term, x);
    for (int i = 0; i < n * n; i++) term[i] = tmp[i] * (eps / (double)j), u[i] += term[i];
  }
  lf_mat_mul(n, out, u, w);
}

/* max over directions |FD - analytic| / max(1, max |analytic|) */
static double fd_check(int n, int su, const lf_cplx *c, const lf_cplx *w, double *gmax) {
  lf_cplx x[9][9], gw[9], wp[9], wm[9], xw[9];
  int nd = directions(n, su, x);
  *gmax = 0;
  if (loss_grad(n, su, c, w, gw)) return INFINITY;
  double dev = 0, gm = 0;
  for (int a = 0; a < nd; a++) {
    double lp, lm;
    exp_times(n, FD_STEP, x[a], w, wp);
    exp_times(n, -FD_STEP, x[a], w, wm);
    if (loss(n, su, c, wp, &lp) || loss(n, su, c, wm, &lm)) return INFINITY;
    double fd = (lp - lm) / (2 * FD_STEP);
    lf_mat_mul(n, xw, x[a], w);
    double an = lf_mat_retr_mul_dag(n, xw, gw); /* Re tr(gw^dag X W) */
    if (fabs(fd - an) > dev) dev = fabs(fd - an);
    if (fabs(an) > gm) gm = fabs(an);
  }
  *gmax = gm;
  return dev / (gm > 1 ? gm : 1);
}

/* ---------------------------------------------------------------- Weyl density */
/* prod_{j<k} |e^{i t_j} - e^{i t_k}|^2 */
static double weyl(int n, const double *t) {
  double p = 1;
  for (int j = 0; j < n; j++)
    for (int k = j + 1; k < n; k++) p *= 2.0 - 2.0 * cos(t[j] - t[k]);
  return p;
}
static const double GLX[4] = {-0.8611363115940526, -0.3399810435848563, 0.3399810435848563,
                              0.8611363115940526};
static const double GLW[4] = {0.3478548451374538, 0.6521451548625461, 0.6521451548625461,
                              0.3478548451374538};
/* density of one eigen-angle x (the others integrated; SU(N) constraint) */
static double marginal(int n, double x) {
  if (n == 2) {
    double t[2] = {x, -x};
    return weyl(2, t);
  }
  double s = 0;
  for (int i = 0; i < 64; i++) { /* trapezoid: exact for this trigonometric polynomial */
    double y = -LF_PI + LF_TWOPI * i / 64.0, t[3] = {x, y, -x - y};
    s += weyl(3, t);
  }
  return s * LF_TWOPI / 64.0;
}
static double wrap(double t) {
  while (t > LF_PI) t -= LF_TWOPI;
  while (t <= -LF_PI) t += LF_TWOPI;
  return t;
}

#define NBIN 32
static void weyl_chi2_1d(lf_group g, long nsamp) {
  int n = (int)g;
  double prob[NBIN], tot = 0;
  const double h = LF_TWOPI / NBIN;
  for (int b = 0; b < NBIN; b++) {
    double a = -LF_PI + b * h, s = 0;
    for (int q = 0; q < 4; q++) s += GLW[q] * marginal(n, a + 0.5 * h * (GLX[q] + 1));
    prob[b] = s * 0.5 * h;
    tot += prob[b];
  }
  long cnt[NBIN] = {0};
  for (long i = 0; i < nsamp; i++) {
    lf_rng r;
    lf_rng_init(&r, 2385, LF_RNG_TAG(LF_RNG_PURPOSE_TEST, 40 + n), (uint64_t)i);
    lf_cplx u[9];
    lf_spec_eigsys e;
    lf_group_haar(g, u, &r);
    if (lf_spec_eig(n, 1, u, &e)) continue;
    int j = (int)(lf_rng_u32(&r) % (uint32_t)n);
    int b = (int)floor((wrap(e.theta[j]) + LF_PI) / h);
    if (b >= NBIN) b = NBIN - 1;
    cnt[b]++;
  }
  double chi2 = 0;
  for (int b = 0; b < NBIN; b++) {
    double ex = (double)nsamp * prob[b] / tot;
    chi2 += ((double)cnt[b] - ex) * ((double)cnt[b] - ex) / ex;
  }
  double dof = NBIN - 1, lim = dof + 4 * sqrt(2 * dof);
  char what[128];
  snprintf(what, sizeof what, "Haar %s: one-angle histogram vs Weyl density, chi2 (dof %g)",
           lf_group_name(g), dof);
  lf_test_report(chi2 <= lim, what, __FILE__, __LINE__, "chi2 %.4g limit %.4g (%g samples)",
                 chi2, lim, (double)nsamp);
}

/* SU(3): joint histogram of two labelled angles (12 x 12 torus bins; bins with expected
 * count < 20 merged into one) vs the full Weyl density. */
#define NB2 12
static void weyl_chi2_2d(long nsamp) {
  double prob[NB2 * NB2], tot = 0;
  const double h = LF_TWOPI / NB2;
  for (int bx = 0; bx < NB2; bx++)
    for (int by = 0; by < NB2; by++) {
      double s = 0;
      for (int qx = 0; qx < 4; qx++)
        for (int qy = 0; qy < 4; qy++) {
          double x = -LF_PI + bx * h + 0.5 * h * (GLX[qx] + 1);
          double y = -LF_PI + by * h + 0.5 * h * (GLX[qy] + 1);
          double t[3] = {x, y, -x - y};
          s += GLW[qx] * GLW[qy] * weyl(3, t);
        }
      prob[bx * NB2 + by] = s;
      tot += s;
    }
  long cnt[NB2 * NB2] = {0};
  for (long i = 0; i < nsamp; i++) {
    lf_rng r;
    lf_rng_init(&r, 2385, LF_RNG_TAG(LF_RNG_PURPOSE_TEST, 50), (uint64_t)i);
    lf_cplx u[9];
    lf_spec_eigsys e;
    lf_group_haar(LF_SU3, u, &r);
    if (lf_spec_eig(3, 1, u, &e)) continue;
    int j = (int)(lf_rng_u32(&r) % 3u), k = (j + 1 + (int)(lf_rng_u32(&r) % 2u)) % 3;
    int bx = (int)floor((wrap(e.theta[j]) + LF_PI) / h), by = (int)floor((wrap(e.theta[k]) + LF_PI) / h);
    if (bx >= NB2) bx = NB2 - 1;
    if (by >= NB2) by = NB2 - 1;
    cnt[bx * NB2 + by]++;
  }
  double chi2 = 0, rest_ex = 0, rest_n = 0;
  int nb = 0;
  for (int b = 0; b < NB2 * NB2; b++) {
    double ex = (double)nsamp * prob[b] / tot;
    if (ex < 20) {
      rest_ex += ex;
      rest_n += (double)cnt[b];
      continue;
    }
    chi2 += ((double)cnt[b] - ex) * ((double)cnt[b] - ex) / ex;
    nb++;
  }
  if (rest_ex > 0) chi2 += (rest_n - rest_ex) * (rest_n - rest_ex) / rest_ex, nb++;
  double dof = nb - 1, lim = dof + 4 * sqrt(2 * dof);
  lf_test_report(chi2 <= lim, "Haar su3: joint histogram of two angles vs Weyl density, chi2",
                 __FILE__, __LINE__, "chi2 %.4g limit %.4g (dof %g)", chi2, lim, dof);
}

/* ---------------------------------------------------------------- active-loop chain */
/* The composition a spectral coupling layer with a learned active loop performs
 * (Abbott et al. 2502.00263 eq. (1), Boyda et al. 2008.05456):
 *   L = P_SU(3)(U S^dag),  L' = V e^{i f(theta)} V^dag,  U' = L' L^dag U,
 * loss Re tr(C^dag U'). Gradients w.r.t. U (tangent) and the staple S (complex). */
static int chain_loss(const lf_cplx *u, const lf_cplx *st, const lf_cplx *c, double *l) {
  lf_cplx m[9], lp[9], l1[9], t[9], u1[9];
  lf_spec_eigsys e;
  double th1[3], jac[9];
  lf_mat_mul_dag(3, m, u, st);
  int rc = lf_spec_polar(3, 1, m, lp, NULL);
  if (!rc) rc = lf_spec_eig(3, 1, lp, &e);
  if (rc) return rc;
  test_f(3, 1, e.theta, th1, jac);
  lf_spec_map(&e, th1, l1);
  lf_mat_mul_dag(3, t, l1, lp);
  lf_mat_mul(3, u1, t, u);
  *l = lf_mat_retr_mul_dag(3, u1, c);
  return LF_OK;
}

static int chain_grad(const lf_cplx *u, const lf_cplx *st, const lf_cplx *c, lf_cplx *gu,
                      lf_cplx *gs) {
  lf_cplx m[9], lp[9], l1[9], t[9], gl1[9], gl[9], gm[9], a[9];
  lf_spec_eigsys e;
  lf_spec_polar_state ps;
  double th1[3], jac[9], g1[3], gth[3], s[9];
  lf_mat_mul_dag(3, m, u, st);
  int rc = lf_spec_polar(3, 1, m, lp, &ps);
  if (!rc) rc = lf_spec_eig(3, 1, lp, &e);
  if (rc) return rc;
  test_f(3, 1, e.theta, th1, jac);
  lf_spec_map(&e, th1, l1);
  /* U' = L' L^dag U: dL/dL' = C U^dag L, dL/dL (direct) = U C^dag L', dL/dU (direct) = L L'^dag C */
  lf_mat_mul_dag(3, t, c, u);
  lf_mat_mul(3, gl1, t, lp);
  lf_mat_mul_dag(3, t, u, c);
  lf_mat_mul(3, a, t, l1);
  lf_mat_mul_dag(3, t, lp, l1);
  lf_mat_mul(3, gu, t, c);
  lf_spec_map_vjp_angles(&e, th1, gl1, g1);
  for (int k = 0; k < 3; k++) {
    gth[k] = 0;
    for (int j = 0; j < 3; j++) gth[k] += g1[j] * jac[j * 3 + k];
  }
  if ((rc = lf_spec_divdiff(3, e.theta, th1, jac, s))) return rc;
  lf_spec_map_vjp(&e, th1, s, gl1, gth, gl);
  for (int i = 0; i < 9; i++) gl[i] += a[i];
  lf_spec_polar_vjp(&ps, gl, gm); /* dL/dM, M = U S^dag */
  lf_mat_mul(3, t, gm, st);       /* dM = dU S^dag -> G_M S */
  for (int i = 0; i < 9; i++) gu[i] += t[i];
  lf_mat_dag_mul(3, gs, gm, u); /* dM = U dS^dag -> G_M^dag U */
  return LF_OK;
}

static void chain_test(void) {
  double worst_u = 0, worst_s = 0, gmax = 0;
  int fails = 0;
  for (int t = 0; t < 20; t++) {
    lf_cplx u[9], st[9], c[9], gu[9], gs[9], x[9][9], up[9], um[9], sp[9], sm[9], xu[9];
    lf_group_haar(LF_SU3, u, &rng);
    for (int i = 0; i < 9; i++) {
      st[i] = lf_rng_normal(&rng) + LF_I * lf_rng_normal(&rng);
      c[i] = lf_rng_normal(&rng) + LF_I * lf_rng_normal(&rng);
    }
    if (t % 4 == 0) lf_mat_copy(3, st, u); /* S = U: active loop = identity (degenerate) */
    if (chain_grad(u, st, c, gu, gs)) {
      fails++;
      continue;
    }
    int nd = directions(3, 1, x);
    for (int a = 0; a < nd; a++) {
      double lp, lm;
      exp_times(3, FD_STEP, x[a], u, up);
      exp_times(3, -FD_STEP, x[a], u, um);
      fails += chain_loss(up, st, c, &lp) != 0;
      fails += chain_loss(um, st, c, &lm) != 0;
      lf_mat_mul(3, xu, x[a], u);
      double an = lf_mat_retr_mul_dag(3, xu, gu);
      worst_u = fmax(worst_u, fabs((lp - lm) / (2 * FD_STEP) - an));
      gmax = fmax(gmax, fabs(an));
    }
    for (int i = 0; i < 9; i++)
      for (int part = 0; part < 2; part++) {
        lf_cplx dir = part ? LF_I : 1.0;
        double lp, lm;
        lf_mat_copy(3, sp, st);
        lf_mat_copy(3, sm, st);
        sp[i] += FD_STEP * dir;
        sm[i] -= FD_STEP * dir;
        fails += chain_loss(u, sp, c, &lp) != 0;
        fails += chain_loss(u, sm, c, &lm) != 0;
        double an = creal(conj(gs[i]) * dir);
        worst_s = fmax(worst_s, fabs((lp - lm) / (2 * FD_STEP) - an));
        gmax = fmax(gmax, fabs(an));
      }
  }
  LF_TEST_TRUE("active-loop chain: no errors", fails == 0);
  LF_TEST_ABS("active-loop chain P_SU(U S^dag) -> spectral map -> U': dL/dU vs FD",
              worst_u / fmax(1, gmax), 0, TOL_FD);
  LF_TEST_ABS("active-loop chain: dL/dS (staple) vs FD", worst_s / fmax(1, gmax), 0, TOL_FD);
}

int main(void) {
  lf_rng_init(&rng, 2385, LF_RNG_TAG(LF_RNG_PURPOSE_TEST, 30), 0);
  char what[200];

  /* ---- hermitian Jacobi */
  {
    double maxrec = 0, maxun = 0, inv = 0;
    for (int t = 0; t < 300; t++) {
      lf_cplx h[9], v[9], r[9];
      double lam[3];
      for (int i = 0; i < 9; i++) h[i] = lf_rng_normal(&rng) + LF_I * lf_rng_normal(&rng);
      if (t % 3 == 1) { /* degenerate: U diag(a, a, b) U^dag */
        lf_cplx u0[9];
        lf_group_haar(LF_SU3, u0, &rng);
        double d[3] = {1.7, 1.7, -0.3};
        for (int i = 0; i < 3; i++)
          for (int k = 0; k < 3; k++) {
            h[i * 3 + k] = 0;
            for (int j = 0; j < 3; j++) h[i * 3 + k] += u0[i * 3 + j] * d[j] * conj(u0[k * 3 + j]);
          }
      }
      for (int i = 0; i < 3; i++)
        for (int k = 0; k < i; k++) h[i * 3 + k] = conj(h[k * 3 + i]);
      for (int i = 0; i < 3; i++) h[i * 4] = creal(h[i * 4]);
      if (lf_spec_eigh(3, h, lam, v)) {
        maxrec = INFINITY;
        continue;
      }
      for (int i = 0; i < 3; i++)
        for (int k = 0; k < 3; k++) {
          r[i * 3 + k] = 0;
          for (int j = 0; j < 3; j++) r[i * 3 + k] += v[i * 3 + j] * lam[j] * conj(v[k * 3 + j]);
        }
      double sc = 0; /* ||H||_F */
      for (int i = 0; i < 9; i++) sc += creal(h[i] * conj(h[i]));
      sc = sqrt(sc);
      if (lf_mat_dist(3, r, h) / sc > maxrec) maxrec = lf_mat_dist(3, r, h) / sc;
      if (unit_defect(3, v) > maxun) maxun = unit_defect(3, v);
      double d1 = fabs(lam[0] + lam[1] + lam[2] - creal(lf_mat_trace(3, h))) / sc;
      double d2 = fabs(lam[0] * lam[1] * lam[2] - creal(lf_mat_det(3, h))) / (sc * sc * sc);
      if (d1 > inv) inv = d1;
      if (d2 > inv) inv = d2;
      if (!(lam[0] <= lam[1] && lam[1] <= lam[2])) inv = INFINITY;
    }
    LF_TEST_ABS("eigh 3x3 (random + degenerate): ||V diag V^dag - H|| / ||H||", maxrec, 0, 1e-14);
    LF_TEST_ABS("eigh 3x3: V unitary", maxun, 0, TOL_UNIT);
    LF_TEST_ABS("eigh 3x3: sorted, sum = tr H, product = det H (relative)", inv, 0, 1e-14);
  }

  /* ---- unitary eigen-decomposition: random matrices */
  for (int n = 2; n <= 3; n++)
    for (int su = 0; su <= 1; su++) {
      eig_err er = {0};
      int fails = 0;
      for (int t = 0; t < 2000; t++) {
        lf_cplx u[9];
        lf_group_haar((lf_group)n, u, &rng);
        if (!su) lf_mat_scale(n, u, cexp(LF_I * (6.0 * lf_rng_uniform(&rng) - 3.0)));
        if (check_eig(n, su, u, &er)) fails++;
      }
      snprintf(what, sizeof what, "%s(%d) Haar x2000", su ? "SU" : "U", n);
      LF_TEST_TRUE(what, fails == 0);
      report_eig(what, &er, su);
      snprintf(what, sizeof what, "%s(%d) Haar x2000: eigen-residual ||W v - e^{i theta} v||",
               su ? "SU" : "U", n);
      LF_TEST_ABS(what, er.resid, 0, 1e-13);
    }

  /* ---- degenerate and near-degenerate spectra */
  {
    const double p = LF_PI, w3 = LF_TWOPI / 3;
    struct {
      const char *name;
      int n, su;
      double th[3];
    } cases[] = {
        {"SU(3) identity", 3, 1, {0, 0, 0}},
        {"SU(3) centre e^{2 pi i/3}", 3, 1, {w3, w3, w3}},
        {"SU(3) centre e^{-2 pi i/3}", 3, 1, {-w3, -w3, -w3}},
        {"SU(3) two equal angles", 3, 1, {0.3, 0.3, -0.6}},
        {"SU(3) angles 1e-8 apart", 3, 1, {0.3, 0.3 + 1e-8, -0.6 - 1e-8}},
        {"SU(3) angles 1e-12 apart", 3, 1, {-1.1, -1.1 + 1e-12, 2.2 - 1e-12}},
        {"SU(3) eigenvalues -1, -1, 1", 3, 1, {p, p, 0}},
        {"SU(3) meeting at -1 across the cut", 3, 1, {p - 1e-9, -p + 1e-9, 0}},
        {"SU(3) theta and pi - theta", 3, 1, {0.4, p - 0.4, -p}},
        {"U(3) -1", 3, 0, {p, p, p}},
        {"U(3) two equal", 3, 0, {2.1, 2.1, -0.7}},
        {"U(3) e^{i a}, -e^{-i a} (equal sin)", 3, 0, {0.5, p - 0.5, 1.3}},
        {"SU(2) identity", 2, 1, {0, 0, 0}},
        {"SU(2) -1", 2, 1, {p, -p, 0}},
        {"SU(2) angles 1e-9 apart", 2, 1, {5e-10, -5e-10, 0}},
        {"U(2) i 1", 2, 0, {p / 2, p / 2, 0}},
        {"U(2) near -1", 2, 0, {p - 1e-9, -p + 1e-9, 0}},
    };
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
      eig_err er = {0};
      int n = cases[ci].n, su = cases[ci].su, fails = 0;
      for (int t = 0; t < 50; t++) {
        lf_cplx v0[9], w[9];
        lf_group_haar((lf_group)n, v0, &rng);
        if (t == 0) lf_mat_identity(n, v0);
        unitary_from(n, v0, cases[ci].th, w);
        if (check_eig(n, su, w, &er)) fails++;
      }
      LF_TEST_TRUE(cases[ci].name, fails == 0);
      report_eig(cases[ci].name, &er, su);
    }
    /* exact identity and exact centre elements (no rounding in W) */
    lf_cplx w[9] = {0};
    lf_cplx z = cexp(LF_I * w3);
    for (int i = 0; i < 3; i++) w[i * 4] = z;
    eig_err er = {0};
    LF_TEST_TRUE("exact centre element accepted", check_eig(3, 1, w, &er) == LF_OK);
    report_eig("exact centre element", &er, 1);
    lf_spec_eigsys e;
    lf_spec_eig(3, 1, w, &e);
    snprintf(what, sizeof what, "centre element angles: %.6f %.6f %.6f (convention: one shifted by -2pi)",
             e.theta[0], e.theta[1], e.theta[2]);
    LF_TEST_TRUE(what, fabs(e.theta[0] + 2 * w3) < 1e-15 && fabs(e.theta[2] - w3) < 1e-15);
    /* near identity: exp(1e-7 X) */
    er = (eig_err){0};
    int fails = 0;
    for (int t = 0; t < 200; t++) {
      lf_group_random_near(LF_SU3, w, 1e-7, &rng);
      if (check_eig(3, 1, w, &er)) fails++;
    }
    LF_TEST_TRUE("SU(3) near identity (eps 1e-7) x200", fails == 0);
    report_eig("SU(3) near identity", &er, 1);
  }

  /* ---- conjugation invariance of the angles */
  {
    double dev = 0;
    for (int t = 0; t < 200; t++) {
      lf_cplx u[9], g[9], tmp[9], u2[9];
      lf_spec_eigsys e1, e2;
      lf_group_haar(LF_SU3, u, &rng);
      lf_group_haar(LF_SU3, g, &rng);
      lf_mat_mul(3, tmp, g, u);
      lf_mat_mul_dag(3, u2, tmp, g);
      lf_spec_eig(3, 1, u, &e1);
      lf_spec_eig(3, 1, u2, &e2);
      for (int j = 0; j < 3; j++) dev = fmax(dev, fabs(e1.theta[j] - e2.theta[j]));
    }
    LF_TEST_ABS("SU(3): angles of g W g^dag = angles of W", dev, 0, 1e-13);
    /* spectral map is conjugation equivariant: map(g W g^dag) = g map(W) g^dag */
    dev = 0;
    for (int t = 0; t < 200; t++) {
      lf_cplx u[9], g[9], tmp[9], u2[9], w1[9], w2[9], gw1[9];
      lf_spec_eigsys e1, e2;
      double th1[3], th2[3], jac[9];
      lf_group_haar(LF_SU3, u, &rng);
      lf_group_haar(LF_SU3, g, &rng);
      lf_mat_mul(3, tmp, g, u);
      lf_mat_mul_dag(3, u2, tmp, g);
      lf_spec_eig(3, 1, u, &e1);
      lf_spec_eig(3, 1, u2, &e2);
      test_f(3, 1, e1.theta, th1, jac);
      test_f(3, 1, e2.theta, th2, jac);
      lf_spec_map(&e1, th1, w1);
      lf_spec_map(&e2, th2, w2);
      lf_mat_mul(3, tmp, g, w1);
      lf_mat_mul_dag(3, gw1, tmp, g);
      dev = fmax(dev, lf_mat_dist(3, gw1, w2));
    }
    LF_TEST_ABS("SU(3): spectral map(g W g^dag) = g map(W) g^dag", dev, 0, 1e-13);
  }

  /* ---- error paths */
  {
    lf_cplx m[9];
    lf_spec_eigsys e;
    for (int i = 0; i < 9; i++) m[i] = 0.3 + 0.1 * i;
    LF_TEST_TRUE("non-unitary W -> LF_EINVAL", lf_spec_eig(3, 0, m, &e) == LF_EINVAL);
    LF_TEST_TRUE("non-unitary 2x2 -> LF_EINVAL", lf_spec_eig(2, 0, m, &e) == LF_EINVAL);
    lf_mat_identity(3, m);
    lf_mat_scale(3, m, LF_I);
    LF_TEST_TRUE("U(3) element with det != 1 and su = 1 -> LF_EINVAL",
                 lf_spec_eig(3, 1, m, &e) == LF_EINVAL);
    printf("     message: %s\n", lf_last_error());
    m[4] = NAN;
    LF_TEST_TRUE("NaN -> LF_ENAN", lf_spec_eig(3, 0, m, &e) == LF_ENAN);
    LF_TEST_TRUE("n = 4 -> LF_EINVAL", lf_spec_eig(4, 0, m, &e) == LF_EINVAL);
    double th[3] = {0.1, 0.1, -0.2}, th1[3] = {0.2, 0.2, -0.4}, s[9];
    LF_TEST_TRUE("divdiff at coincident angles without jac -> LF_EINVAL",
                 lf_spec_divdiff(3, th, th1, NULL, s) == LF_EINVAL);
  }

  /* ---- spectral map VJP vs finite differences */
  {
    const double p = LF_PI, w3 = LF_TWOPI / 3;
    struct {
      const char *name;
      int n, su;
      double th[3]; /* NAN: Haar-random W */
    } cases[] = {
        {"SU(3) random", 3, 1, {NAN, 0, 0}},
        {"U(3) random", 3, 0, {NAN, 0, 0}},
        {"SU(2) random", 2, 1, {NAN, 0, 0}},
        {"U(2) random", 2, 0, {NAN, 0, 0}},
        {"SU(3) identity", 3, 1, {0, 0, 0}},
        {"SU(3) centre", 3, 1, {w3, w3, w3}},
        {"SU(3) two equal", 3, 1, {0.3, 0.3, -0.6}},
        {"SU(3) 1e-8 apart", 3, 1, {0.3, 0.3 + 1e-8, -0.6 - 1e-8}},
        {"SU(3) 1e-6 apart (divided-difference switch)", 3, 1, {0.3, 0.3 + 1e-6, -0.6 - 1e-6}},
        {"SU(3) 3e-5 apart", 3, 1, {0.3, 0.3 + 3e-5, -0.6 - 3e-5}},
        {"SU(3) -1, -1, 1", 3, 1, {p, p, 0}},
        {"SU(3) meeting at -1 across the cut", 3, 1, {p - 1e-9, -p + 1e-9, 0}},
        {"U(3) two equal", 3, 0, {2.1, 2.1, -0.7}},
        {"U(3) all equal", 3, 0, {-2.5, -2.5, -2.5}},
        {"U(3) meeting at -1 across the cut", 3, 0, {p - 1e-9, -p + 1e-9, 0.7}},
        {"U(2) meeting at -1 across the cut", 2, 0, {p - 1e-10, -p + 1e-10, 0}},
        {"SU(2) identity", 2, 1, {0, 0, 0}},
        {"SU(2) -1", 2, 1, {p, -p, 0}},
        {"U(2) equal", 2, 0, {1.2, 1.2, 0}},
    };
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
      int n = cases[ci].n, su = cases[ci].su;
      double worst = 0, gmax = 0;
      for (int t = 0; t < 20; t++) {
        lf_cplx w[9], c[9], v0[9];
        if (isnan(cases[ci].th[0])) {
          lf_group_haar((lf_group)n, w, &rng);
          if (!su) lf_mat_scale(n, w, cexp(LF_I * 2.0 * lf_rng_normal(&rng)));
        } else {
          lf_group_haar((lf_group)n, v0, &rng);
          unitary_from(n, v0, cases[ci].th, w);
        }
        for (int i = 0; i < n * n; i++) c[i] = lf_rng_normal(&rng) + LF_I * lf_rng_normal(&rng);
        double gm = 0;
        double d = fd_check(n, su, c, w, &gm);
        if (d > worst) worst = d;
        if (gm > gmax) gmax = gm;
      }
      snprintf(what, sizeof what, "spectral map VJP vs FD, %s (x20, max|grad| %.2g)",
               cases[ci].name, gmax);
      LF_TEST_ABS(what, worst, 0, TOL_FD);
    }
  }

  /* ---- gradient of the eigen-angles alone (lf_spec_eig_vjp) vs FD of theta_j */
  {
    double worst = 0, worst_co = 0;
    for (int t = 0; t < 50; t++) {
      lf_cplx w[9], x[9][9], wp[9], wm[9], gw[9], xw[9];
      lf_group_haar(LF_SU3, w, &rng);
      lf_spec_eigsys e, ep, em;
      lf_spec_eig(3, 1, w, &e);
      double gth[3] = {0.7, -1.3, 0.4};
      lf_spec_eig_vjp(&e, gth, gw);
      int nd = directions(3, 1, x);
      for (int a = 0; a < nd; a++) {
        exp_times(3, FD_STEP, x[a], w, wp);
        exp_times(3, -FD_STEP, x[a], w, wm);
        lf_spec_eig(3, 1, wp, &ep);
        lf_spec_eig(3, 1, wm, &em);
        double fd = 0;
        for (int j = 0; j < 3; j++) fd += gth[j] * (ep.theta[j] - em.theta[j]) / (2 * FD_STEP);
        lf_mat_mul(3, xw, x[a], w);
        worst = fmax(worst, fabs(fd - lf_mat_retr_mul_dag(3, xw, gw)));
        /* documented shortcut: dL/deps_a (W -> exp(eps i T_a) W) = coords(gW W^dag)_a / 2 */
        lf_cplx y[9];
        double co[8];
        lf_mat_mul_dag(3, y, gw, w);
        lf_alg_to_coords(LF_SU3, co, y);
        worst_co = fmax(worst_co, fabs(fd - 0.5 * co[a]));
      }
    }
    LF_TEST_ABS("eigen-angle VJP vs FD, SU(3) random x50", worst, 0, 1e-8);
    LF_TEST_ABS("algebra coordinates of gW W^dag / 2 = derivatives along i T_a (vs FD)",
                worst_co, 0, 1e-8);
  }

  /* ---- log Vandermonde: value and gradient */
  {
    double dv = 0, dg = 0;
    for (int t = 0; t < 100; t++) {
      int n = 2 + t % 2;
      double th[3], g[3];
      double sep;
      do { /* angles at least 0.05 apart on the circle, so that the references are accurate */
        for (int j = 0; j < n; j++) th[j] = 6.0 * lf_rng_uniform(&rng) - 3.0;
        sep = INFINITY;
        for (int j = 0; j < n; j++)
          for (int k = j + 1; k < n; k++) sep = fmin(sep, cabs(cexp(LF_I * th[j]) - cexp(LF_I * th[k])));
      } while (sep < 0.05);
      double lv = lf_spec_log_vandermonde(n, th, g), ref = 0;
      for (int j = 0; j < n; j++)
        for (int k = j + 1; k < n; k++) ref += 2 * log(cabs(cexp(LF_I * th[j]) - cexp(LF_I * th[k])));
      dv = fmax(dv, fabs(lv - ref) / fmax(1, fabs(lv)));
      for (int j = 0; j < n; j++) {
        double tp[3], tm[3];
        memcpy(tp, th, sizeof tp);
        memcpy(tm, th, sizeof tm);
        tp[j] += 1e-6;
        tm[j] -= 1e-6;
        double fd = (lf_spec_log_vandermonde(n, tp, NULL) - lf_spec_log_vandermonde(n, tm, NULL)) / 2e-6;
        dg = fmax(dg, fabs(fd - g[j]) / fmax(1, fabs(g[j])));
      }
    }
    LF_TEST_ABS("log Vandermonde = log prod |e^{i t_j} - e^{i t_k}|^2", dv, 0, 1e-13);
    LF_TEST_ABS("log Vandermonde gradient vs FD", dg, 0, 1e-7);
  }

  chain_test();

  /* ---- Weyl density of Haar eigen-angles */
  weyl_chi2_1d(LF_SU2, 100000);
  weyl_chi2_1d(LF_SU3, 100000);
  weyl_chi2_2d(200000);

  return lf_test_done();
}
