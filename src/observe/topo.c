/*
 * topo.c -- topological charge and energy density: 2D U(1) geometric charge, clover field
 * strength, clover charge density (4D) and energy densities (clover and plaquette).
 *
 * Math: geometric charge as in Kanwar et al. 2003.06413; clover G_mu nu and
 * E = -(1/2) tr G G, M. Lüscher, JHEP 08 (2010) 071 [1006.4518] secs. 2-3;
 * charge normalisation in docs/observables.md.
 * Thread contract: OpenMP over sites through lf_obs_reduce (fixed chunk partition, sums in
 * chunk order) or per-site outputs: independent of the number of threads.
 */
#include <math.h>

#include "internal.h"

/* ---------------------------------------------------------------- 2D U(1) geometric */
static int check_u1_2d(const lf_gauge *f) {
  if (f->lat->nd != 2 || f->group != LF_U1)
    return LF_ERROR(LF_EINVAL, "geometric topological charge needs a 2D U(1) field (got %dD "
                    "%s); for 4D fields use the clover charge lf_observe_topo_clover",
                    f->lat->nd, lf_group_name(f->group));
  return LF_OK;
}

/* arg of the plaquette in (-pi, pi] */
static double plaq_angle(const lf_gauge *f, long s) {
  lf_cplx p;
  lf_gauge_plaquette(f, s, 0, 1, &p);
  double th = carg(p);
  if (th <= -LF_PI) th += LF_TWOPI;
  return th;
}

static void u1_site(const void *ctx, long s, double *acc, void *scratch) {
  (void)scratch;
  acc[0] += plaq_angle(ctx, s);
}

int lf_observe_topo_u1(const lf_gauge *f, double *Q) {
  LF_CHECK(check_u1_2d(f));
  double sum;
  LF_CHECK(lf_obs_reduce(f->lat->vol, 1, u1_site, f, 0, &sum));
  *Q = sum / LF_TWOPI;
  return LF_OK;
}

int lf_observe_topo_u1_density(const lf_gauge *f, double *q) {
  LF_CHECK(check_u1_2d(f));
#pragma omp parallel for schedule(static)
  for (long s = 0; s < f->lat->vol; s++) q[s] = plaq_angle(f, s) / LF_TWOPI;
  return LF_OK;
}

/* ---------------------------------------------------------------- clover */
void lf_observe_clover(const lf_gauge *f, long s, lf_cplx *G) {
  const int nd = f->lat->nd, n = f->n, nn = n * n;
  lf_cplx C[9], M[9];
  int p = 0;
  for (int mu = 0; mu < nd; mu++)
    for (int nu = mu + 1; nu < nd; nu++, p++) {
      const int m = mu + 1, u = nu + 1;
      /* the four leaves, each starting and ending at s, all oriented mu -> nu */
      const int leaf[4][4] = {{m, u, -m, -u}, {u, -m, -u, m}, {-m, -u, m, u}, {-u, m, u, -m}};
      lf_mat_zero(n, C);
      for (int k = 0; k < 4; k++) {
        lf_obs_path(f, s, leaf[k], 4, M);
        for (int i = 0; i < nn; i++) C[i] += M[i];
      }
      /* G = (1/8)(C - C^dag) - trace part = Pi(C)/4 */
      lf_alg_project(f->group, G + p * nn, C);
      for (int i = 0; i < nn; i++) G[p * nn + i] *= 0.25;
    }
}

#define LF_INV_4PI2 (1.0 / (4.0 * LF_PI * LF_PI))

/* Clover energy density -sum_{mu<nu} tr G^2 and (nd = 4) charge density at s. */
static void clover_site(const lf_gauge *f, long s, double *e, double *q) {
  const int nd = f->lat->nd, n = f->n, nn = n * n, np = nd * (nd - 1) / 2;
  lf_cplx G[LF_MAXPLANES * 9];
  lf_observe_clover(f, s, G);
  double es = 0.0;
  for (int p = 0; p < np; p++) es += lf_mat_retr_mul_dag(n, G + p * nn, G + p * nn);
  if (e) *e = es;
  if (q && nd == 4) {
    /* planes: 0:(0,1) 1:(0,2) 2:(0,3) 3:(1,2) 4:(1,3) 5:(2,3); G31 = -G13 */
    double t = lf_mat_retr_mul(n, G + 0 * nn, G + 5 * nn) - lf_mat_retr_mul(n, G + 1 * nn, G + 4 * nn) +
               lf_mat_retr_mul(n, G + 2 * nn, G + 3 * nn);
    *q = -LF_INV_4PI2 * t;
  }
}

static void clover_acc(const void *ctx, long s, double *acc, void *scratch) {
  (void)scratch;
  const lf_gauge *f = ctx;
  double e, q = 0.0;
  clover_site(f, s, &e, f->lat->nd == 4 ? &q : NULL);
  acc[0] += e;
  acc[1] += q;
}

int lf_observe_energy(const lf_gauge *f, double *E_plaq, double *E_clov) {
  const int np = lf_lattice_nplanes(f->lat);
  if (E_plaq) {
    double p = lf_observe_plaquette(f);
    if (!isfinite(p)) return LF_ERROR(LF_ENOMEM, "plaquette: no memory for partial sums");
    *E_plaq = 2.0 * (double)np * (double)f->n * (1.0 - p);
  }
  if (E_clov) {
    double sum[2];
    LF_CHECK(lf_obs_reduce(f->lat->vol, 2, clover_acc, f, 0, sum));
    *E_clov = sum[0] / (double)f->lat->vol;
  }
  return LF_OK;
}

int lf_observe_topo_clover(const lf_gauge *f, double *Q) {
  if (f->lat->nd != 4)
    return LF_ERROR(LF_EINVAL, "clover topological charge needs a 4D field (got %dD); for "
                    "2D U(1) use lf_observe_topo_u1", f->lat->nd);
  double sum[2];
  LF_CHECK(lf_obs_reduce(f->lat->vol, 2, clover_acc, f, 0, sum));
  *Q = sum[1];
  return LF_OK;
}

int lf_observe_clover_density(const lf_gauge *f, double *e, double *q) {
  if (q && f->lat->nd != 4)
    return LF_ERROR(LF_EINVAL, "clover charge density needs a 4D field (got %dD); pass "
                    "q = NULL", f->lat->nd);
#pragma omp parallel for schedule(static)
  for (long s = 0; s < f->lat->vol; s++) clover_site(f, s, e ? e + s : NULL, q ? q + s : NULL);
  return LF_OK;
}

/* Both clover sums in one pass (used by the flow measurements): out[0] = sum e, out[1] =
 * sum q (0 unless nd = 4). */
int lf_obs_clover_sums(const lf_gauge *f, double *out) {
  return lf_obs_reduce(f->lat->vol, 2, clover_acc, f, 0, out);
}
