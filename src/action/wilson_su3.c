/*
 * wilson_su3.c -- fast SU(3) plaquette force (the HMC hot loop).
 *
 * Math (docs/actions.md): F(x, mu) = (beta c0 / 6) Pi(U_mu(x) A_mu(x)),
 *     A_mu(x) = sum_{nu != mu} k_{mu nu} [ U_nu(x+mu) U_mu(x+nu)^dag U_nu(x)^dag
 *                                       + (U_mu(x-nu) U_nu(x-nu+mu))^dag U_nu(x-nu) ].
 * "Staple per link" scheme: 4 products per plane and one for U A, i.e. 4(nd-1)+1 SU(3)
 * products per link, no scatter and no workspace (docs/actions.md compares it with the
 * plaquette-once-and-scatter scheme of openQCD force0.c).
 *
 * Thread contract: OpenMP static over sites; every link written by exactly one thread
 * from reads only, so the result is bitwise independent of the thread count.
 */
#include "internal.h"
#include "su3_simd.h"

/* out = scale * Pi(m) for SU(3). */
static inline void su3_proj(lf_cplx *restrict out, double scale, const lf_cplx *restrict m) {
  double trim = (cimag(m[0]) + cimag(m[4]) + cimag(m[8])) * (1.0 / 3.0);
  double h = 0.5 * scale;
  for (int i = 0; i < 3; i++) {
    for (int j = 0; j < i; j++) {
      lf_cplx v = h * (m[3 * i + j] - conj(m[3 * j + i]));
      out[3 * i + j] = v;
      out[3 * j + i] = -conj(v);
    }
    out[4 * i] = scale * (cimag(m[4 * i]) - trim) * LF_I;
  }
}

/* A = sum_{nu != mu} w_nu (upper + lower staple) of link (s, mu), SU(3); w_nu = k_{mu nu}
 * unless `uniform` (then all weights are 1 and the caller scales). */
static inline void staple_su3(const lf_action *a, const lf_lattice *lat, const lf_cplx *u, long s,
                              int mu, int uniform, lf_cplx *restrict A) {
  const int nd = lat->nd;
  const long *up = lat->up, *dn = lat->dn;
  const long smu = up[s * nd + mu];
  lf_cplx B[9], t[9];
#define LINK(x, m) (u + ((size_t)(x) * (size_t)nd + (size_t)(m)) * 9)
  for (int i = 0; i < 9; i++) A[i] = 0;
  for (int nu = 0; nu < nd; nu++) {
    if (nu == mu) continue;
    const long snu = up[s * nd + nu], sd = dn[s * nd + nu], sdmu = dn[smu * nd + nu];
    lf_cplx *acc = uniform ? A : B;
    if (!uniform)
      for (int i = 0; i < 9; i++) B[i] = 0;
    lf_su3s_mul_dag(t, LINK(smu, nu), LINK(snu, mu));
    lf_su3s_mul_dag_add(acc, t, LINK(s, nu));
    lf_su3s_mul(t, LINK(sd, mu), LINK(sdmu, nu));
    lf_su3s_dag_mul_add(acc, t, LINK(sd, nu));
    if (!uniform) {
      double w = a->plane_coef[lf_act_plane(nd, mu, nu)];
      for (int i = 0; i < 9; i++) A[i] += w * B[i];
    }
  }
#undef LINK
}

static int planes_uniform(const lf_action *a, const lf_lattice *lat) {
  for (int p = 1; p < lf_lattice_nplanes(lat); p++)
    if (a->plane_coef[p] != a->plane_coef[0]) return 0;
  return 1;
}

void lf_act_plaq_staple_su3(const lf_action *a, const lf_gauge *f, long s, int mu, double weight,
                            lf_cplx *A) {
  int uniform = planes_uniform(a, f->lat);
  staple_su3(a, f->lat, f->u, s, mu, uniform, A);
  double w = weight * (uniform ? a->plane_coef[0] : 1.0);
  if (w != 1.0)
    for (int i = 0; i < 9; i++) A[i] *= w;
}

void lf_act_force_su3_plaq(const lf_action *a, const lf_gauge *f, double weight, lf_cplx *force,
                           double c, int add) {
  const lf_lattice *lat = f->lat;
  const int nd = lat->nd;
  const int uniform = planes_uniform(a, lat);
  const double scale = c * a->beta / 6.0 * weight * (uniform ? a->plane_coef[0] : 1.0);
  const long vol = lat->vol;
  const lf_cplx *u = f->u;
#pragma omp parallel for schedule(static) if (vol >= LF_OMP_MIN_SITES)
  for (long s = 0; s < vol; s++) {
    lf_cplx A[9], M[9], F[9];
    for (int mu = 0; mu < nd; mu++) {
      lf_cplx *out = force + ((size_t)s * (size_t)nd + (size_t)mu) * 9;
      staple_su3(a, lat, u, s, mu, uniform, A);
      lf_su3s_mul(M, u + ((size_t)s * (size_t)nd + (size_t)mu) * 9, A);
      if (add) {
        su3_proj(F, scale, M);
        for (int i = 0; i < 9; i++) out[i] += F[i];
      } else {
        su3_proj(out, scale, M);
      }
    }
  }
}
