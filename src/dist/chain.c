/*
 * chain.c -- distributed HMC trajectory and heatbath/overrelaxation sweeps.
 *
 * HMC (docs/hmc.md, docs/parallel.md): the serial integrator lf_mc_hmc_integrate runs on the
 * local lattice with a sync hook that refreshes the halo before every force evaluation; the
 * force of an own link reads only its staples, which lie in the halo box. H = K + S is formed
 * with exact sums, so dH, and with the accept uniform from the rank-independent stream
 * (seed, ACCEPT | traj, 0), the Metropolis decision are the same on every rank and for every
 * grid. Momenta come from (seed, MOMENTA | traj, global site) as in the serial code, so the
 * fields are bitwise those of lf_mc_hmc_trajectory on the global lattice.
 *
 * Heatbath (docs/heatbath.md): the serial classes (direction mu, parity) are updated on own
 * sites; links of a class share no plaquette, so a class needs the halo of the other links
 * only, and after each class the halo links of direction mu are refreshed (so after a sweep
 * the whole halo is current and lf_dist_heatbath_update skips the full refresh before each
 * overrelaxation sweep). Random streams
 * (seed, HEATBATH | 4 sweep + mu, global site): bitwise the serial sweep.
 *
 * Profiler regions: "md" (compute: link updates and forces), "hmc.sums" (compute: local
 * parts of H), "heatbath" (compute), "halo" and "reduce" (communication).
 * MPI contract: all public functions are collective and agree on their status.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

struct lf_dist_hmc_work {
  lf_hmc_work *w;
};

int lf_dist_hmc_work_alloc(lf_dist_hmc_work **out, const lf_dist *d, const lf_gauge *f) {
  *out = NULL;
  lf_dist_hmc_work *w = lf_alloc(sizeof *w);
  int rc = w ? LF_OK : LF_ERROR(LF_ENOMEM, "no memory for the HMC workspace");
  if (w) {
    w->w = NULL;
    rc = lf_mc_hmc_work_alloc(&w->w, f);
  }
  rc = lf_dist_agree(d, rc);
  if (rc) {
    lf_dist_hmc_work_free(w);
    return rc;
  }
  *out = w;
  return LF_OK;
}

void lf_dist_hmc_work_free(lf_dist_hmc_work *w) {
  if (!w) return;
  lf_mc_hmc_work_free(w->w);
  lf_free(w);
}

typedef struct {
  const lf_dist *d;
  int fresh;  /* the halo is already valid for the next force */
  int prof;   /* open "md" region */
} sync_ctx;

static int sync_halo(void *vc, lf_gauge *f) {
  sync_ctx *c = vc;
  if (c->fresh) {
    c->fresh = 0;
    return LF_OK;
  }
  lf_prof_end(c->prof); /* communication is not compute: close "md" around the exchange */
  int rc = lf_dist_halo(c->d, f, -1);
  c->prof = lf_prof_begin("md", LF_PROF_COMPUTE);
  return rc;
}

/* Local K and S parts, then one allreduce of the three sums: h[0] = K, h[1..2] = S parts. */
static int hamiltonian(const lf_dist *d, const lf_action *a, const lf_gauge *f, const lf_cplx *mom,
                       double *K, double *S) {
  lf_xsum h[3];
  int prof = lf_prof_begin("hmc.sums", LF_PROF_COMPUTE);
  int rc = lf_dist_kinetic_local(f, mom, &h[0]);
  if (!rc) rc = lf_dist_action_local(a, f, &h[1]);
  lf_prof_end(prof);
  rc = lf_dist_agree(d, rc);
  if (!rc) rc = lf_dist_xsum_allreduce(d, h, 3);
  if (rc) return rc;
  *K = lf_xsum_value(&h[0]);
  *S = lf_dist_action_value(a, f, &h[1]);
  return LF_OK;
}

int lf_dist_hmc_trajectory(const lf_dist *d, const lf_action *a, const lf_hmc_params *p, lf_gauge *f,
                           uint64_t seed, long traj, lf_dist_hmc_work *dw, lf_hmc_result *res) {
  LF_CHECK(lf_mc_hmc_check(p));
  LF_CHECK(lf_action_check(a, f));
  if (f->lat != &d->lat) return LF_ERROR(LF_ESTATE, "lf_dist_hmc_trajectory: the field is not on this decomposition");
  if (a->kind == LF_ACTION_LW && a->c1 != 0 && d->width < 2 && d->nhalo)
    return LF_ERROR(LF_EINVAL, "the Lüscher-Weisz action needs halo width 2, the decomposition has %d: init it with width 2",
                    d->width);
  if (traj < 0) return LF_ERROR(LF_EINVAL, "trajectory index %ld is negative: count from 0", traj);
  memset(res, 0, sizeof *res);
  lf_hmc_work *w = dw->w;
  lf_gauge *saved = lf_mc_hmc_saved(w);
  lf_cplx *mom = lf_mc_hmc_momenta(w);
  LF_CHECK(lf_gauge_copy(saved, f));
  int prof = lf_prof_begin("md", LF_PROF_COMPUTE);
  lf_mc_hmc_draw_momenta(f, mom, seed, traj);
  lf_prof_end(prof);
  double K0, S0, K1, S1;
  int rc = lf_dist_halo(d, f, -1);
  if (!rc) rc = hamiltonian(d, a, f, mom, &K0, &S0);
  if (rc) return rc;
  sync_ctx sc = {d, 1, lf_prof_begin("md", LF_PROF_COMPUTE)};
  lf_mc_hmc_work_set_sync(w, sync_halo, &sc);
  rc = lf_mc_hmc_integrate(a, p, f, mom, w, &res->nforce);
  lf_mc_hmc_work_set_sync(w, NULL, NULL);
  if (!rc) lf_gauge_unitarize(f);
  lf_prof_end(sc.prof);
  rc = lf_dist_agree(d, rc);
  if (!rc) rc = lf_dist_halo(d, f, -1);
  if (!rc) rc = hamiltonian(d, a, f, mom, &K1, &S1);
  if (rc) {
    lf_gauge_copy(f, saved);
    return rc;
  }
  res->S_old = S0;
  res->S_new = S1;
  res->dH = (K1 - K0) + (S1 - S0);
  res->exp_mdH = exp(-res->dH);
  if (!isfinite(res->dH)) { /* the same on every rank; name the first rank whose own links
                                were already non-finite at the start, if any */
    lf_gauge_copy(f, saved);
    res->S_new = S0;
    const size_t n = f->nlinks * lf_gauge_linksize(f);
    int own_bad = 0;
    for (size_t i = 0; i < n && !own_bad; i++) own_bad = !isfinite(creal(f->u[i])) || !isfinite(cimag(f->u[i]));
    double first = own_bad ? (double)d->rank : (double)d->nranks;
    if (lf_dist_comm(d)) lf_par_allreduce_min(&first, 1);
    char where[96] = "";
    if (first < d->nranks && lf_dist_comm(d))
      snprintf(where, sizeof where, "; the field held non-finite links on rank %d before it", (int)first);
    else if (first < d->nranks)
      snprintf(where, sizeof where, "; the field held non-finite links before it");
    return LF_ERROR(LF_ENAN, "trajectory %ld gave dH = %g (field restored%s): reduce the step size tau/nsteps, "
                    "or look for a damaged input field", traj, res->dH, where);
  }
  res->accepted = lf_mc_hmc_accept(p, seed, traj, res->dH, res->exp_mdH);
  if (!res->accepted) {
    lf_gauge_copy(f, saved);
    res->S_new = S0;
  }
  return LF_OK;
}

/* ---------------------------------------------------------------- heatbath */
/* One sweep; `refresh`: exchange the whole halo first (not needed right after a sweep,
 * which leaves every direction refreshed). */
static int sweep(const lf_dist *d, const lf_action *a, lf_gauge *f, int hb, uint64_t seed, long k,
                 lf_hb_stats *st, int refresh) {
  if (f->lat != &d->lat) return LF_ERROR(LF_ESTATE, "heatbath: the field is not on this decomposition");
  lf_hb_stats loc = {0, 0};
  int rc = refresh ? lf_dist_halo(d, f, -1) : LF_OK;
  for (int mu = 0; mu < d->nd && !rc; mu++)
    for (int par = 0; par < 2 && !rc; par++) {
      int prof = lf_prof_begin("heatbath", LF_PROF_COMPUTE);
      rc = lf_mc_heatbath_class(a, f, hb, seed, k, mu, par, &loc);
      lf_prof_end(prof);
      rc = lf_dist_agree(d, rc);
      if (!rc) rc = lf_dist_halo(d, f, mu);
    }
  if (!rc && st) {
    double c[2] = {(double)loc.updates, (double)loc.trials};
    if (lf_dist_comm(d)) rc = lf_par_allreduce_sum(c, 2);
    st->updates += (long)c[0];
    st->trials += (long)c[1];
  }
  return rc;
}

int lf_dist_heatbath_sweep(const lf_dist *d, const lf_action *a, lf_gauge *f, uint64_t seed, long k,
                           lf_hb_stats *st) {
  if (k < 0) return LF_ERROR(LF_EINVAL, "heatbath sweep index %ld is negative: count sweeps from 0", k);
  return sweep(d, a, f, 1, seed, k, st, 1);
}

int lf_dist_overrelax_sweep(const lf_dist *d, const lf_action *a, lf_gauge *f) {
  return sweep(d, a, f, 0, 0, 0, NULL, 1);
}

int lf_dist_heatbath_update(const lf_dist *d, const lf_action *a, lf_gauge *f, uint64_t seed, long k, int nor,
                            lf_hb_stats *st) {
  if (k < 0) return LF_ERROR(LF_EINVAL, "heatbath sweep index %ld is negative: count sweeps from 0", k);
  LF_CHECK(sweep(d, a, f, 1, seed, k, st, 1));
  for (int o = 0; o < nor; o++) LF_CHECK(sweep(d, a, f, 0, 0, 0, NULL, 0));
  return LF_OK;
}
