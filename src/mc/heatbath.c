/*
 * heatbath.c -- heatbath and overrelaxation sweeps for the Wilson action.
 *
 * Math (docs/heatbath.md). The part of S containing U = U_mu(x) is -(beta/N) Re tr(U A),
 * A = weighted staple (lf_action_staple, k_{mu nu} included). An SU(2) subgroup update
 * U <- R U (R acting on rows i < j) sees W = U A only through the quaternion part of its
 * (i, j) block, w ~ q V with q = sqrt(|a|^2 + |b|^2), a = (w_ii + w_jj^*)/2,
 * b = (w_ij - w_ji^*)/2, V in SU(2). Then X = R V has density exp((2 beta q / N) x0):
 *   heatbath: draw X (samplers.c), R = X V^dag (Creutz 1980, Kennedy-Pendleton 1985;
 *             SU(3): Cabibbo-Marinari, Phys. Lett. B 119 (1982) 387, subgroups (0,1),
 *             (0,2), (1,2));
 *   overrelaxation: X -> X^dag at X = V, i.e. R = (V^dag)^2 (Creutz, PRD 36 (1987) 515;
 *             Brown-Woch, PRL 58 (1987) 2394); Re tr(U A) is unchanged.
 * U(1): w = U a, V = w/|w|, heatbath X = exp(i x) with x ~ exp(beta |w| cos x) (von Mises),
 *   overrelaxation theta -> 2 phi - theta, i.e. R = V^{*2}.
 *
 * Thread contract: checkerboard by (direction mu, parity); within a class the links
 * share no plaquette, so they are updated in parallel (OpenMP static). Link (x, mu) of
 * sweep k uses the stream (seed, LF_RNG_PURPOSE_HEATBATH | (4k + mu), global x), so the
 * result is bitwise independent of the thread count.
 */
#include <math.h>

#include "internal.h"

static int check_wilson(const lf_action *a, const lf_gauge *f, const char *what) {
  LF_CHECK(lf_action_check(a, f));
  if (a->kind != LF_ACTION_WILSON)
    return LF_ERROR(LF_EUNSUP,
                    "%s needs the Wilson action (the %s action is not linear in each link's "
                    "staple): use HMC for it, or choose the wilson action",
                    what, lf_action_kind_name(a->kind));
  return LF_OK;
}

/* Apply the SU(2) matrix r (2x2 row-major) to rows i, j of the n x n matrix m. */
static inline void rows_apply(int n, lf_cplx *m, int i, int j, const lf_cplx *r) {
  for (int c = 0; c < n; c++) {
    lf_cplx mi = m[i * n + c], mj = m[j * n + c];
    m[i * n + c] = r[0] * mi + r[1] * mj;
    m[j * n + c] = r[2] * mi + r[3] * mj;
  }
}

/* Quaternion part of block (i, j) of W: V (SU(2)) and its weight q. */
static inline double block_su2(int n, const lf_cplx *w, int i, int j, lf_cplx *V) {
  lf_cplx a = 0.5 * (w[i * n + i] + conj(w[j * n + j]));
  lf_cplx b = 0.5 * (w[i * n + j] - conj(w[j * n + i]));
  double q = sqrt(creal(a * conj(a)) + creal(b * conj(b)));
  if (q < 1e-300) {
    V[0] = 1, V[1] = 0, V[2] = 0, V[3] = 1;
    return 0;
  }
  a /= q, b /= q;
  V[0] = a, V[1] = b, V[2] = -conj(b), V[3] = conj(a);
  return q;
}

/* One subgroup step on (U, W = U A); hb = 1 heatbath, 0 overrelaxation. */
static inline void subgroup_step(int n, lf_cplx *U, lf_cplx *W, int i, int j, double bn, int hb,
                                 lf_rng *r, long *upd, long *tri) {
  lf_cplx V[4], R[4];
  double q = block_su2(n, W, i, j, V);
  if (hb) {
    double x0;
    if (!lf_mc_sample_su2_x0(2.0 * bn * q, r, tri, &x0)) return;
    (*upd)++;
    /* uniform direction on the sphere of radius sqrt(1 - x0^2) */
    double ct = 2.0 * lf_rng_uniform(r) - 1.0, ph = LF_TWOPI * lf_rng_uniform(r);
    double rad = sqrt(fmax(0.0, 1.0 - x0 * x0)), st = sqrt(fmax(0.0, 1.0 - ct * ct));
    double x1 = rad * st * cos(ph), x2 = rad * st * sin(ph), x3 = rad * ct;
    lf_cplx X[4] = {x0 + LF_I * x3, x2 + LF_I * x1, -x2 + LF_I * x1, x0 - LF_I * x3};
    lf_mat_mul_dag(2, R, X, V); /* R = X V^dag */
  } else {
    lf_cplx Vd[4];
    lf_mat_dag(2, Vd, V);
    lf_mat_mul(2, R, Vd, Vd);   /* R = (V^dag)^2 */
  }
  rows_apply(n, U, i, j, R);
  rows_apply(n, W, i, j, R);
}

static void update_link(const lf_action *a, lf_gauge *f, long s, int mu, int hb, lf_rng *r,
                        long *upd, long *tri) {
  const int n = f->n;
  const double bn = a->beta / (double)n;
  lf_cplx A[9], W[9];
  lf_cplx *U = lf_gauge_link(f, s, mu);
  lf_action_staple(a, f, s, mu, A);
  lf_mat_mul(n, W, U, A);
  if (n == 1) {
    double q = cabs(W[0]);
    lf_cplx V = q > 1e-300 ? W[0] / q : 1.0, R;
    if (hb) {
      double x;
      if (!lf_mc_sample_vonmises(a->beta * q, r, tri, &x)) return;
      (*upd)++;
      R = (cos(x) + LF_I * sin(x)) * conj(V);
    } else {
      R = conj(V) * conj(V);
    }
    U[0] = R * U[0];
  } else if (n == 2) {
    subgroup_step(2, U, W, 0, 1, bn, hb, r, upd, tri);
  } else {
    subgroup_step(3, U, W, 0, 1, bn, hb, r, upd, tri);
    subgroup_step(3, U, W, 0, 2, bn, hb, r, upd, tri);
    subgroup_step(3, U, W, 1, 2, bn, hb, r, upd, tri);
  }
  lf_group_unitarize(f->group, U); /* keep rounding drift from accumulating */
}

int lf_mc_heatbath_class(const lf_action *a, lf_gauge *f, int hb, uint64_t seed, long k, int mu,
                         int par, lf_hb_stats *stats) {
  LF_CHECK(check_wilson(a, f, hb ? "heatbath" : "overrelaxation"));
  const lf_lattice *lat = f->lat;
  if (k < 0 || mu < 0 || mu >= lat->nd || (par != 0 && par != 1))
    return LF_ERROR(LF_EINVAL, "heatbath class (sweep %ld, direction %d, parity %d) out of range", k, mu, par);
  long upd = 0, tri = 0;
#pragma omp parallel for schedule(static) if (lat->vol >= LF_OMP_MIN_SITES) reduction(+ : upd, tri)
  for (long s = 0; s < lat->vol; s++) {
    if (lat->parity[s] != par) continue;
    lf_rng r; /* unused by overrelaxation */
    lf_rng_init(&r, seed, LF_RNG_TAG(LF_RNG_PURPOSE_HEATBATH, (uint64_t)k * 4u + (uint64_t)mu),
                (uint64_t)lf_lattice_global(lat, s));
    update_link(a, f, s, mu, hb, &r, &upd, &tri);
  }
  if (stats) {
    stats->updates += upd;
    stats->trials += tri;
  }
  return LF_OK;
}

static int sweep(const lf_action *a, lf_gauge *f, int hb, uint64_t seed, long k, lf_hb_stats *stats) {
  for (int mu = 0; mu < f->lat->nd; mu++)
    for (int par = 0; par < 2; par++) LF_CHECK(lf_mc_heatbath_class(a, f, hb, seed, k, mu, par, stats));
  return LF_OK;
}

int lf_mc_heatbath_sweep(const lf_action *a, lf_gauge *f, uint64_t seed, long k, lf_hb_stats *st) {
  LF_CHECK(check_wilson(a, f, "heatbath"));
  if (k < 0) return LF_ERROR(LF_EINVAL, "heatbath sweep index %ld is negative: count sweeps from 0", k);
  return sweep(a, f, 1, seed, k, st);
}

int lf_mc_overrelax_sweep(const lf_action *a, lf_gauge *f) {
  LF_CHECK(check_wilson(a, f, "overrelaxation"));
  return sweep(a, f, 0, 0, 0, NULL);
}
