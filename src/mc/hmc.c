/*
 * hmc.c -- Hybrid Monte Carlo: momenta, leapfrog and Omelyan 2MN integrators,
 * Metropolis accept/reject.
 *
 * Math (docs/hmc.md): H = sum tr(P^dag P) + S(U); dU/dt = P U, dP/dt = -F. Link update
 * U <- exp(eps P) U, momentum update P <- P - eps F.
 *   leapfrog: P(eps/2) U(eps) P(eps) ... U(eps) P(eps/2);  n+1 forces per trajectory.
 *   Omelyan 2MN: per step P(lambda eps) U(eps/2) P((1-2 lambda) eps) U(eps/2) P(lambda eps),
 *     lambda = 0.1931833275 (I. P. Omelyan, I. M. Mryglod, R. Folk, Comput. Phys. Commun.
 *     151 (2003) 272; T. Takaishi, Ph. de Forcrand, PRE 73 (2006) 036706); adjacent
 *     P(lambda eps) of consecutive steps merged: 2n+1 forces per trajectory.
 * Both are symmetric products of volume-preserving maps, hence reversible and area
 * preserving; dH = O(eps^2) per trajectory (S. Duane et al., PLB 195 (1987) 216).
 *
 * Thread contract: momenta keyed by (seed, MOMENTA | traj, global site); updates OpenMP static
 * over links; sums with a fixed chunk partition: bitwise thread-count independent.
 */
#include <math.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

struct lf_hmc_work {
  lf_cplx *mom;    /* momenta, nlinks * n*n */
  lf_cplx *force;  /* force,   nlinks * n*n */
  lf_gauge *copy;  /* field at the start of the trajectory */
  int (*sync)(void *ctx, lf_gauge *f); /* called before every force (dist: halo exchange) */
  void *sync_ctx;
};

int lf_mc_hmc_work_alloc(lf_hmc_work **out, const lf_gauge *f) {
  *out = NULL;
  lf_hmc_work *w = lf_alloc(sizeof *w);
  if (!w) return LF_ENOMEM;
  size_t bytes = sizeof(lf_cplx) * f->nlinks * lf_gauge_linksize(f);
  w->mom = lf_alloc(bytes);
  w->force = lf_alloc(bytes);
  int rc = lf_gauge_alloc(&w->copy, f->lat, f->group);
  if (!w->mom || !w->force || rc) {
    lf_mc_hmc_work_free(w);
    return LF_ERROR(LF_ENOMEM, "no memory for the HMC workspace (3 fields of %zu bytes): use a smaller lattice",
                    bytes);
  }
  *out = w;
  return LF_OK;
}

void lf_mc_hmc_work_free(lf_hmc_work *w) {
  if (!w) return;
  lf_free(w->mom);
  lf_free(w->force);
  lf_gauge_free(w->copy);
  lf_free(w);
}

lf_cplx *lf_mc_hmc_momenta(lf_hmc_work *w) { return w->mom; }
lf_gauge *lf_mc_hmc_saved(lf_hmc_work *w) { return w->copy; }

void lf_mc_hmc_work_set_sync(lf_hmc_work *w, int (*fn)(void *ctx, lf_gauge *f), void *ctx) {
  w->sync = fn;
  w->sync_ctx = ctx;
}

const char *lf_mc_integrator_name(lf_integrator i) {
  switch (i) {
  case LF_INTEGRATOR_LEAPFROG: return "leapfrog";
  case LF_INTEGRATOR_OMELYAN: return "omelyan";
  }
  return "?";
}

int lf_mc_integrator_parse(const char *name, lf_integrator *i) {
  if (name && !strcasecmp(name, "leapfrog")) *i = LF_INTEGRATOR_LEAPFROG;
  else if (name && (!strcasecmp(name, "omelyan") || !strcasecmp(name, "2mn")))
    *i = LF_INTEGRATOR_OMELYAN;
  else
    return LF_ERROR(LF_EINVAL, "unknown integrator '%s': use leapfrog or omelyan", name ? name : "");
  return LF_OK;
}

int lf_mc_hmc_check(const lf_hmc_params *p) {
  if (!isfinite(p->tau) || p->tau <= 0)
    return LF_ERROR(LF_EINVAL, "trajectory length tau = %g is not allowed: give a finite tau > 0", p->tau);
  if (p->nsteps < 1)
    return LF_ERROR(LF_EINVAL, "nsteps = %d is not allowed: use at least 1 integration step", p->nsteps);
  if (p->integrator != LF_INTEGRATOR_LEAPFROG && p->integrator != LF_INTEGRATOR_OMELYAN)
    return LF_ERROR(LF_EINVAL, "unknown integrator %d: use leapfrog or omelyan", (int)p->integrator);
  return LF_OK;
}

void lf_mc_hmc_draw_momenta(const lf_gauge *f, lf_cplx *mom, uint64_t seed, long traj) {
  const int nd = f->lat->nd;
  const size_t ls = lf_gauge_linksize(f);
#pragma omp parallel for schedule(static) if (f->lat->vol >= LF_OMP_MIN_SITES)
  for (long s = 0; s < f->lat->vol; s++) {
    lf_rng r;
    lf_rng_init(&r, seed, LF_RNG_TAG(LF_RNG_PURPOSE_MOMENTA, (uint64_t)traj),
                (uint64_t)lf_lattice_global(f->lat, s));
    for (int mu = 0; mu < nd; mu++)
      lf_alg_random(f->group, mom + ((size_t)s * (size_t)nd + (size_t)mu) * ls, &r);
  }
}

double lf_mc_hmc_kinetic(const lf_gauge *f, const lf_cplx *mom) {
  const long nl = (long)f->nlinks;
  const int n = f->n;
  const size_t ls = lf_gauge_linksize(f);
  double part[LF_MC_NCHUNK];
#pragma omp parallel for schedule(static) if (f->lat->vol >= LF_OMP_MIN_SITES)
  for (int c = 0; c < LF_MC_NCHUNK; c++) {
    long l0 = nl * c / LF_MC_NCHUNK, l1 = nl * (c + 1) / LF_MC_NCHUNK;
    double acc = 0;
    for (long l = l0; l < l1; l++) acc += lf_alg_norm2(n, mom + (size_t)l * ls);
    part[c] = acc;
  }
  double K = 0;
  for (int c = 0; c < LF_MC_NCHUNK; c++) K += part[c];
  return K;
}

/* exp(X) for X in su(3) with ||X||_F <= 1 by the Cayley-Hamilton series of M. Lüscher
 * (openQCD modules/su3fcts/chexp.c, docs/hmc.md): X^3 = t X + d with t = tr(X^2)/2,
 * d = det X, so exp(X) = a0 + a1 X + a2 X^2 with the coefficients summed by Horner's
 * rule over 1/k!, k <= 18 (truncation < ||X||^19/19! < 1e-17). One 3x3 product and no
 * transcendental functions (lf_alg_exp needs nine libm calls). Larger X: lf_alg_exp. */
#define LF_EXP_NTERMS 18
static void su3_exp_small(lf_cplx *restrict u, const lf_cplx *restrict x) {
  lf_cplx x2[9];
  lf_su3_mul(x2, x, x);
  const double t = 0.5 * creal(x2[0] + x2[4] + x2[8]);
  const lf_cplx d = x[0] * (x[4] * x[8] - x[5] * x[7]) - x[1] * (x[3] * x[8] - x[5] * x[6]) +
                    x[2] * (x[3] * x[7] - x[4] * x[6]);
  static double inv_fact[LF_EXP_NTERMS + 1];
  static int init;
  if (!init) { /* benign race: every thread writes the same values */
    double fk = 1;
    for (int k = 0; k <= LF_EXP_NTERMS; k++) {
      if (k) fk *= (double)k;
      inv_fact[k] = 1.0 / fk;
    }
    init = 1;
  }
  lf_cplx a0 = inv_fact[LF_EXP_NTERMS], a1 = 0, a2 = 0;
  for (int k = LF_EXP_NTERMS - 1; k >= 0; k--) {
    /* (a0 + a1 X + a2 X^2) X = a2 d + (a0 + a2 t) X + a1 X^2, then + 1/k! */
    lf_cplx b0 = a2 * d + inv_fact[k], b1 = a0 + a2 * t, b2 = a1;
    a0 = b0, a1 = b1, a2 = b2;
  }
  for (int i = 0; i < 9; i++) u[i] = a1 * x[i] + a2 * x2[i];
  u[0] += a0, u[4] += a0, u[8] += a0;
}

/* U <- exp(eps P) U for every link. */
static void update_links(lf_gauge *f, const lf_cplx *mom, double eps) {
  const long nl = (long)f->nlinks;
  const int n = f->n;
  const size_t ls = lf_gauge_linksize(f);
#pragma omp parallel for schedule(static) if (f->lat->vol >= LF_OMP_MIN_SITES)
  for (long l = 0; l < nl; l++) {
    lf_cplx X[9], E[9], T[9];
    lf_cplx *U = f->u + (size_t)l * ls;
    double nrm = 0;
    for (int i = 0; i < n * n; i++) {
      X[i] = eps * mom[(size_t)l * ls + (size_t)i];
      nrm += creal(X[i]) * creal(X[i]) + cimag(X[i]) * cimag(X[i]);
    }
    lf_mat_copy(n, T, U);
    if (n == 3 && nrm <= 1.0) {
      su3_exp_small(E, X);
      lf_su3_mul(U, E, T);
    } else {
      lf_alg_exp(f->group, E, X);
      lf_mat_mul(n, U, E, T);
    }
  }
}

/* P <- P - eps F(U) (fused in the action module for SU(3) Wilson); the workspace's sync
 * hook runs first (a domain decomposition refreshes its halo links there). */
static int update_mom(const lf_action *a, lf_gauge *f, lf_cplx *mom, lf_hmc_work *w, double eps,
                      int *nforce) {
  if (w->sync) LF_CHECK(w->sync(w->sync_ctx, f));
  LF_CHECK(lf_action_force_add(a, f, -eps, mom, w->force));
  (*nforce)++;
  return LF_OK;
}

int lf_mc_hmc_integrate(const lf_action *a, const lf_hmc_params *p, lf_gauge *f, lf_cplx *mom,
                        lf_hmc_work *w, int *nforce) {
  LF_CHECK(lf_mc_hmc_check(p));
  LF_CHECK(lf_action_check(a, f));
  int nf = 0;
  const double eps = p->tau / (double)p->nsteps;
  if (p->integrator == LF_INTEGRATOR_LEAPFROG) {
    LF_CHECK(update_mom(a, f, mom, w, 0.5 * eps, &nf));
    for (int k = 0; k < p->nsteps; k++) {
      update_links(f, mom, eps);
      LF_CHECK(update_mom(a, f, mom, w, k + 1 < p->nsteps ? eps : 0.5 * eps, &nf));
    }
  } else {
    const double lam = LF_OMELYAN_LAMBDA;
    LF_CHECK(update_mom(a, f, mom, w, lam * eps, &nf));
    for (int k = 0; k < p->nsteps; k++) {
      update_links(f, mom, 0.5 * eps);
      LF_CHECK(update_mom(a, f, mom, w, (1.0 - 2.0 * lam) * eps, &nf));
      update_links(f, mom, 0.5 * eps);
      LF_CHECK(update_mom(a, f, mom, w, (k + 1 < p->nsteps ? 2.0 : 1.0) * lam * eps, &nf));
    }
  }
  if (nforce) *nforce = nf;
  return LF_OK;
}

static void unitarize_all(lf_gauge *f) {
  const long nl = (long)f->nlinks;
  const size_t ls = lf_gauge_linksize(f);
#pragma omp parallel for schedule(static) if (f->lat->vol >= LF_OMP_MIN_SITES)
  for (long l = 0; l < nl; l++) lf_group_unitarize(f->group, f->u + (size_t)l * ls);
}

int lf_mc_hmc_accept(const lf_hmc_params *p, uint64_t seed, long traj, double dH, double exp_mdH) {
  if (p->no_accept) return 1;
  lf_rng r;
  lf_rng_init(&r, seed, LF_RNG_TAG(LF_RNG_PURPOSE_ACCEPT, (uint64_t)traj), 0);
  double u = lf_rng_uniform(&r);
  return dH <= 0 || u < exp_mdH;
}

int lf_mc_hmc_trajectory(const lf_action *a, const lf_hmc_params *p, lf_gauge *f, uint64_t seed,
                         long traj, lf_hmc_work *w, lf_hmc_result *res) {
  LF_CHECK(lf_mc_hmc_check(p));
  LF_CHECK(lf_action_check(a, f));
  if (traj < 0) return LF_ERROR(LF_EINVAL, "trajectory index %ld is negative: count from 0", traj);
  memset(res, 0, sizeof *res);
  LF_CHECK(lf_gauge_copy(w->copy, f));
  lf_mc_hmc_draw_momenta(f, w->mom, seed, traj);
  const double K0 = lf_mc_hmc_kinetic(f, w->mom), S0 = lf_action_eval(a, f);
  int rc = lf_mc_hmc_integrate(a, p, f, w->mom, w, &res->nforce);
  if (rc) {
    lf_gauge_copy(f, w->copy);
    return rc;
  }
  unitarize_all(f);
  const double K1 = lf_mc_hmc_kinetic(f, w->mom), S1 = lf_action_eval(a, f);
  res->S_old = S0;
  res->S_new = S1;
  res->dH = (K1 - K0) + (S1 - S0);
  res->exp_mdH = exp(-res->dH);
  if (!isfinite(res->dH)) {
    lf_gauge_copy(f, w->copy);
    res->S_new = S0;
    return LF_ERROR(LF_ENAN, "trajectory %ld gave dH = %g (field restored): reduce the step size tau/nsteps",
                    traj, res->dH);
  }
  res->accepted = lf_mc_hmc_accept(p, seed, traj, res->dH, res->exp_mdH);
  if (!res->accepted) {
    lf_gauge_copy(f, w->copy);
    res->S_new = S0;
  }
  return LF_OK;
}
