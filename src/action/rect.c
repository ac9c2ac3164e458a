/*
 * rect.c -- 1x2 rectangle loops of the Lüscher-Weisz action: value and staples.
 *
 * Math (docs/actions.md): every 1x2 rectangle R in plane (mu, nu), both orientations
 * (long side along mu or along nu), enters S with -(beta/N) c1 k_{mu nu} Re tr R. The
 * six rectangle staples of link (x, mu) for each nu != mu and sigma = +-nu are the path
 * products, starting at x + mu and ending at x, of
 *     (+mu, +s, -mu, -mu, -s), (+s, -mu, -mu, -s, +mu), (+s, +s, -mu, -s, -s).
 * Reference: M. Lüscher and P. Weisz, Commun. Math. Phys. 97 (1985) 59.
 *
 * Generic n (1, 2, 3); not the performance path (see wilson_su3.c for that). Thread
 * contract: read-only on the field; callers parallelise over sites.
 */
#include "internal.h"

/* Multiply M by the link for step `d` (+(mu+1) forward, -(mu+1) backward) from site *y. */
static void step(const lf_gauge *f, long *y, int d, lf_cplx *M) {
  const int n = f->n;
  lf_cplx t[9];
  lf_mat_copy(n, t, M);
  if (d > 0) {
    int mu = d - 1;
    lf_mat_mul(n, M, t, lf_gauge_link(f, *y, mu));
    *y = lf_lattice_up(f->lat, *y, mu);
  } else {
    int mu = -d - 1;
    *y = lf_lattice_dn(f->lat, *y, mu);
    lf_mat_mul_dag(n, M, t, lf_gauge_link(f, *y, mu));
  }
}

static void path(const lf_gauge *f, long y, const int *steps, int nsteps, lf_cplx *M) {
  lf_mat_identity(f->n, M);
  for (int k = 0; k < nsteps; k++) step(f, &y, steps[k], M);
}

double lf_act_rect_sum(const lf_action *a, const lf_gauge *f) {
  const long vol = f->lat->vol;
  const int nd = f->lat->nd, n = f->n;
  double part[LF_ACTION_NCHUNK];
#pragma omp parallel for schedule(static) if (vol >= LF_OMP_MIN_SITES)
  for (int c = 0; c < LF_ACTION_NCHUNK; c++) {
    long s0 = vol * c / LF_ACTION_NCHUNK, s1 = vol * (c + 1) / LF_ACTION_NCHUNK;
    double acc = 0;
    lf_cplx M[9];
    for (long s = s0; s < s1; s++)
      for (int mu = 0; mu < nd; mu++)
        for (int nu = mu + 1; nu < nd; nu++) {
          int m = mu + 1, v = nu + 1;
          const int r_mu[6] = {m, m, v, -m, -m, -v}; /* long along mu */
          const int r_nu[6] = {m, v, v, -m, -v, -v}; /* long along nu */
          double k = a->plane_coef[lf_act_plane(nd, mu, nu)];
          path(f, s, r_mu, 6, M);
          acc += k * creal(lf_mat_trace(n, M));
          path(f, s, r_nu, 6, M);
          acc += k * creal(lf_mat_trace(n, M));
        }
    part[c] = acc;
  }
  double sum = 0;
  for (int c = 0; c < LF_ACTION_NCHUNK; c++) sum += part[c];
  return sum;
}

void lf_act_rect_staple_add(const lf_action *a, const lf_gauge *f, long s, int mu, lf_cplx *A) {
  const int nd = f->lat->nd, n = f->n;
  const long smu = lf_lattice_up(f->lat, s, mu);
  const int m = mu + 1;
  lf_cplx M[9];
  for (int nu = 0; nu < nd; nu++) {
    if (nu == mu) continue;
    double w = a->c1 * a->plane_coef[lf_act_plane(nd, mu, nu)];
    for (int sg = -1; sg <= 1; sg += 2) {
      int v = sg * (nu + 1);
      const int p1[5] = {m, v, -m, -m, -v};
      const int p2[5] = {v, -m, -m, -v, m};
      const int p3[5] = {v, v, -m, -v, -v};
      path(f, smu, p1, 5, M);
      lf_mat_axpy(n, A, w, M);
      path(f, smu, p2, 5, M);
      lf_mat_axpy(n, A, w, M);
      path(f, smu, p3, 5, M);
      lf_mat_axpy(n, A, w, M);
    }
  }
}
