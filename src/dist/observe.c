/*
 * observe.c -- distributed measurements with exact sums: plaquette, action (Wilson and
 * Lüscher-Weisz), kinetic energy, Polyakov loop, 2D U(1) geometric charge.
 *
 * Math: definitions and normalisations of latflow/observe.h and latflow/action.h
 * (docs/observables.md, docs/actions.md); each site's contribution is a function of the
 * links around it only, summed with lf_xsum (sum.c), so the results are identical for every
 * process grid. The Polyakov line at spatial site xs is the ordered product
 * U_t(xs, 0) U_t(xs, 1) ... formed left to right from the identity exactly as
 * lf_observe_polyakov does; ranks along the grid's time direction pass the partial products
 * up one after the other (P_t - 1 messages of V_s,local matrices).
 *
 * MPI contract: all public functions are collective. Threads: OpenMP over sites.
 */
#include <math.h>
#include <string.h>

#include "internal.h"

/* ---------------------------------------------------------------- per-site terms */
/* M = product of links along a path from y: +(mu+1) up, -(mu+1) down (as action/rect.c). */
static void path(const lf_gauge *f, long y, const int *steps, int nsteps, lf_cplx *M) {
  const int n = f->n;
  lf_cplx t[9];
  lf_mat_identity(n, M);
  for (int k = 0; k < nsteps; k++) {
    lf_mat_copy(n, t, M);
    if (steps[k] > 0) {
      int mu = steps[k] - 1;
      lf_mat_mul(n, M, t, lf_gauge_link(f, y, mu));
      y = lf_lattice_up(f->lat, y, mu);
    } else {
      int mu = -steps[k] - 1;
      y = lf_lattice_dn(f->lat, y, mu);
      lf_mat_mul_dag(n, M, t, lf_gauge_link(f, y, mu));
    }
  }
}

void lf_dist_site_action(const lf_action *a, const lf_gauge *f, long s, int rect, lf_xsum *out) {
  const int nd = f->lat->nd, n = f->n;
  lf_cplx P[9];
  double pl = 0, re = 0;
  for (int mu = 0; mu < nd; mu++)
    for (int nu = mu + 1; nu < nd; nu++) {
      double k = a ? a->plane_coef[lf_lattice_plane(nd, mu, nu)] : 1.0;
      lf_gauge_plaquette(f, s, mu, nu, P);
      pl += k * creal(lf_mat_trace(n, P));
      if (rect) {
        const int m = mu + 1, v = nu + 1;
        const int r_mu[6] = {m, m, v, -m, -m, -v}, r_nu[6] = {m, v, v, -m, -v, -v};
        path(f, s, r_mu, 6, P);
        re += k * creal(lf_mat_trace(n, P));
        path(f, s, r_nu, 6, P);
        re += k * creal(lf_mat_trace(n, P));
      }
    }
  lf_xsum_add(&out[0], pl);
  if (rect) lf_xsum_add(&out[1], re);
}

typedef struct {
  const lf_action *a;
  const lf_gauge *f;
  int rect;
} act_ctx;

static void act_site(const void *vc, long s, lf_xsum *acc) {
  const act_ctx *c = vc;
  lf_dist_site_action(c->a, c->f, s, c->rect, acc);
}

static int is_lw(const lf_action *a) { return a->kind == LF_ACTION_LW && a->c1 != 0; }

int lf_dist_action_local(const lf_action *a, const lf_gauge *f, lf_xsum *acc2) {
  act_ctx c = {a, f, is_lw(a)};
  LF_CHECK(lf_dist_site_sums(f->lat->vol, 2, act_site, &c, acc2));
  return LF_OK;
}

double lf_dist_action_value(const lf_action *a, const lf_gauge *f, const lf_xsum *acc2) {
  const double c0 = 1.0 - 8.0 * a->c1;
  double S = c0 * lf_xsum_value(&acc2[0]);
  if (is_lw(a)) S += a->c1 * lf_xsum_value(&acc2[1]);
  return -(a->beta / (double)f->n) * S;
}

static void kin_site(const void *vc, long s, lf_xsum *acc) {
  const void *const *c = vc;
  const lf_gauge *f = c[0];
  const lf_cplx *mom = c[1];
  const int nd = f->lat->nd;
  const size_t ls = lf_gauge_linksize(f);
  double k = 0;
  for (int mu = 0; mu < nd; mu++) k += lf_alg_norm2(f->n, mom + ((size_t)s * (size_t)nd + (size_t)mu) * ls);
  lf_xsum_add(acc, k);
}

int lf_dist_kinetic_local(const lf_gauge *f, const lf_cplx *mom, lf_xsum *acc) {
  const void *c[2] = {f, mom};
  return lf_dist_site_sums(f->lat->vol, 1, kin_site, c, acc);
}

/* ---------------------------------------------------------------- public, collective */
static int need_width(const lf_dist *d, const lf_action *a) {
  if (a && is_lw(a) && d->width < 2 && d->nhalo)
    return LF_ERROR(LF_EINVAL, "the Lüscher-Weisz action needs halo width 2, the decomposition has %d: "
                    "init it with width 2", d->width);
  return LF_OK;
}

int lf_dist_action(const lf_dist *d, const lf_action *a, lf_gauge *f, double *S) {
  LF_CHECK(lf_action_check(a, f));
  LF_CHECK(need_width(d, a));
  LF_CHECK(lf_dist_halo(d, f, -1));
  lf_xsum acc[2];
  int prof = lf_prof_begin("measure", LF_PROF_COMPUTE);
  int rc = lf_dist_action_local(a, f, acc);
  lf_prof_end(prof);
  rc = lf_dist_agree(d, rc);
  if (!rc) rc = lf_dist_xsum_allreduce(d, acc, 2);
  if (!rc) *S = lf_dist_action_value(a, f, acc);
  return rc;
}

int lf_dist_plaquette(const lf_dist *d, lf_gauge *f, double *plaq) {
  LF_CHECK(lf_dist_halo(d, f, -1));
  lf_xsum acc[2];
  act_ctx c = {NULL, f, 0};
  int prof = lf_prof_begin("measure", LF_PROF_COMPUTE);
  int rc = lf_dist_site_sums(f->lat->vol, 1, act_site, &c, acc);
  lf_prof_end(prof);
  rc = lf_dist_agree(d, rc);
  if (!rc) rc = lf_dist_xsum_allreduce(d, acc, 1);
  if (!rc) {
    const int np = lf_lattice_nplanes(f->lat);
    *plaq = lf_xsum_value(&acc[0]) / ((double)d->gvol * (double)np * (double)f->n);
  }
  return rc;
}

int lf_dist_kinetic(const lf_dist *d, const lf_gauge *f, const lf_cplx *mom, double *K) {
  lf_xsum acc;
  int rc = lf_dist_agree(d, lf_dist_kinetic_local(f, mom, &acc));
  if (!rc) rc = lf_dist_xsum_allreduce(d, &acc, 1);
  if (!rc) *K = lf_xsum_value(&acc);
  return rc;
}

static void u1_site(const void *vc, long s, lf_xsum *acc) {
  lf_cplx p;
  lf_gauge_plaquette(vc, s, 0, 1, &p);
  double th = carg(p);
  if (th <= -LF_PI) th += LF_TWOPI;
  lf_xsum_add(acc, th);
}

int lf_dist_topo_u1(const lf_dist *d, lf_gauge *f, double *Q) {
  if (f->lat->nd != 2 || f->group != LF_U1)
    return LF_ERROR(LF_EINVAL, "geometric topological charge needs a 2D U(1) field (got %dD %s)",
                    f->lat->nd, lf_group_name(f->group));
  LF_CHECK(lf_dist_halo(d, f, -1));
  lf_xsum acc;
  int rc = lf_dist_agree(d, lf_dist_site_sums(f->lat->vol, 1, u1_site, f, &acc));
  if (!rc) rc = lf_dist_xsum_allreduce(d, &acc, 1);
  if (!rc) *Q = lf_xsum_value(&acc) / LF_TWOPI;
  return rc;
}

int lf_dist_polyakov(const lf_dist *d, lf_gauge *f, lf_cplx *P) {
  if (f->lat != &d->lat) return LF_ERROR(LF_ESTATE, "lf_dist_polyakov: the field is not on this decomposition");
  const int td = d->nd - 1, n = f->n, nn = n * n;
  const long vs = d->lat.vol / d->l[td]; /* own spatial sites */
  const size_t bytes = sizeof(lf_cplx) * (size_t)vs * (size_t)nn;
  lf_cplx *M = lf_alloc(bytes ? bytes : 1);
  int rc = lf_dist_agree(d, M ? LF_OK : LF_ERROR(LF_ENOMEM, "no memory for %ld Polyakov lines", vs));
  if (rc) {
    lf_free(M);
    return rc;
  }
  /* lines from the identity (rank with time coordinate 0) or from the rank below */
  if (d->c[td] == 0) {
    for (long xs = 0; xs < vs; xs++) lf_mat_identity(n, M + (size_t)xs * (size_t)nn);
  } else {
    rc = lf_par_sendrecv(NULL, 0, -1, M, bytes, d->dn[td]);
  }
  if (!rc) {
    int prof = lf_prof_begin("measure", LF_PROF_COMPUTE);
#pragma omp parallel for schedule(static) if (vs >= LF_OMP_MIN_SITES)
    for (long xs = 0; xs < vs; xs++) {
      lf_cplx t[9], *m = M + (size_t)xs * (size_t)nn;
      for (long t0 = 0; t0 < d->l[td]; t0++) {
        const lf_cplx *u = lf_gauge_link(f, xs + vs * t0, td);
        if (n == 3) lf_su3_mul(t, m, u);
        else lf_mat_mul(n, t, m, u);
        lf_mat_copy(n, m, t);
      }
    }
    lf_prof_end(prof);
  }
  if (!rc && d->c[td] + 1 < d->P[td]) rc = lf_par_sendrecv(M, bytes, d->up[td], NULL, 0, -1);
  lf_xsum acc[2];
  lf_xsum_zero(&acc[0]);
  lf_xsum_zero(&acc[1]);
  if (!rc && d->c[td] + 1 == d->P[td])
    for (long xs = 0; xs < vs; xs++) {
      lf_cplx tr = lf_mat_trace(n, M + (size_t)xs * (size_t)nn) / (double)n;
      lf_xsum_add(&acc[0], creal(tr));
      lf_xsum_add(&acc[1], cimag(tr));
    }
  lf_free(M);
  rc = lf_dist_agree(d, rc);
  if (!rc) rc = lf_dist_xsum_allreduce(d, acc, 2);
  if (!rc) {
    const double gvs = (double)d->gvol / (double)d->Lg[td];
    *P = (lf_xsum_value(&acc[0]) + LF_I * lf_xsum_value(&acc[1])) / gvs;
  }
  return rc;
}
