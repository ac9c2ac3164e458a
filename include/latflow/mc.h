/*
 * latflow/mc.h -- Markov chains for gauge fields: Hybrid Monte Carlo (leapfrog and
 * Omelyan 2MN integrators) and heatbath + overrelaxation (Wilson action).
 *
 * HMC (docs/hmc.md): H = sum_links tr(P^dag P) + S(U), P = sum_a p_a i T_a with
 * p_a ~ N(0, 1); equations of motion dU/dt = P U, dP/dt = -F (F = lf_action_force).
 * One trajectory: draw momenta (stream (seed, LF_RNG_PURPOSE_MOMENTA | traj, global site)),
 * integrate to time tau in nsteps steps, reunitarise, accept with probability
 * min(1, exp(-dH)) (uniform from stream (seed, LF_RNG_PURPOSE_ACCEPT | traj, 0)).
 *
 *     lf_hmc_params p = {.tau = 1.0, .nsteps = 10, .integrator = LF_INTEGRATOR_OMELYAN};
 *     lf_hmc_work *w;
 *     if (lf_mc_hmc_work_alloc(&w, field)) ...;
 *     for (long t = 0; t < ntraj; t++) {
 *       lf_hmc_result res;
 *       if (lf_mc_hmc_trajectory(&act, &p, field, seed, t, w, &res)) ...lf_last_error()...;
 *     }
 *     lf_mc_hmc_work_free(w);
 *
 * Heatbath (docs/heatbath.md), Wilson action only (per-plane k_{mu nu} respected):
 * a sweep updates the links of direction mu = 0..nd-1, even sites then odd sites; links
 * of one (direction, parity) class do not share plaquettes, so they are updated in
 * parallel. Link (x, mu) in sweep `sweep` draws from stream
 * (seed, LF_RNG_PURPOSE_HEATBATH | (sweep * 4 + mu), x) (x: global site index, see
 * lf_lattice_global). U(1): exact von Mises sampling
 * (Best-Fisher); SU(2): Kennedy-Pendleton (Creutz for small coupling); SU(3):
 * Cabibbo-Marinari over the subgroups (0,1), (0,2), (1,2). Overrelaxation reflects each
 * link (U(1)/SU(2)) or each SU(2) subgroup (SU(3)) so that the action is unchanged.
 *
 *     for (long k = 0; k < nsweeps; k++) {
 *       lf_mc_heatbath_sweep(&act, field, seed, k, NULL);
 *       for (int o = 0; o < 4; o++) lf_mc_overrelax_sweep(&act, field);
 *     }
 *
 * All results are bitwise independent of the number of OpenMP threads. Sums use the
 * fixed chunk partition of the action module.
 */
#ifndef LATFLOW_MC_H
#define LATFLOW_MC_H

#include "latflow/action.h"

/* ---------------------------------------------------------------- HMC */
typedef enum { LF_INTEGRATOR_LEAPFROG = 0, LF_INTEGRATOR_OMELYAN = 1 } lf_integrator;

/* Omelyan 2MN parameter (Omelyan, Mryglod, Folk, Comput. Phys. Commun. 151 (2003) 272). */
#define LF_OMELYAN_LAMBDA 0.1931833275037836

typedef struct {
  double tau;              /* trajectory length, finite > 0               */
  int nsteps;              /* integration steps, >= 1                     */
  lf_integrator integrator;
  int no_accept;           /* 1: always keep the new field (thermalisation, tests) */
} lf_hmc_params;

typedef struct {
  double dH;        /* H(end) - H(start)                                */
  double exp_mdH;   /* exp(-dH)                                         */
  int accepted;     /* 1 if the new field was kept                      */
  double S_old, S_new; /* action before / after the trajectory          */
  int nforce;       /* force evaluations in this trajectory             */
} lf_hmc_result;

/* Workspace: momenta, force and a copy of the field (caller frees). */
typedef struct lf_hmc_work lf_hmc_work;
int lf_mc_hmc_work_alloc(lf_hmc_work **w, const lf_gauge *f);
void lf_mc_hmc_work_free(lf_hmc_work *w); /* no-op on NULL */
/* The momentum field of the workspace (layout of lf_gauge.u; algebra elements). */
lf_cplx *lf_mc_hmc_momenta(lf_hmc_work *w);
/* The workspace's copy of the field (lf_mc_hmc_trajectory saves the start field there to
 * restore it on rejection; other trajectory drivers such as the dist module use it the
 * same way). Owned by the workspace. */
lf_gauge *lf_mc_hmc_saved(lf_hmc_work *w);
/* Hook for domain decomposition: fn(ctx, f) runs before every force evaluation inside
 * lf_mc_hmc_integrate (the dist module refreshes halo links there); a non-zero return
 * aborts the integration with that status. fn = NULL (the default) removes it. */
void lf_mc_hmc_work_set_sync(lf_hmc_work *w, int (*fn)(void *ctx, lf_gauge *f), void *ctx);

/* LF_EINVAL with a message unless tau finite > 0, nsteps >= 1, integrator known. */
int lf_mc_hmc_check(const lf_hmc_params *p);
const char *lf_mc_integrator_name(lf_integrator i);
/* "leapfrog" / "omelyan" (also "2mn"). */
int lf_mc_integrator_parse(const char *name, lf_integrator *i);

/* One trajectory (see above). Errors: LF_EINVAL (parameters, action), LF_ENAN if H is
 * not finite (field restored). */
int lf_mc_hmc_trajectory(const lf_action *a, const lf_hmc_params *p, lf_gauge *f,
                         uint64_t seed, long traj, lf_hmc_work *w, lf_hmc_result *res);
/* Gaussian momenta for trajectory `traj` into mom (as used by lf_mc_hmc_trajectory). */
void lf_mc_hmc_draw_momenta(const lf_gauge *f, lf_cplx *mom, uint64_t seed, long traj);
/* Kinetic energy sum tr(P^dag P) (chunked, thread-count independent). */
double lf_mc_hmc_kinetic(const lf_gauge *f, const lf_cplx *mom);
/* The Metropolis decision of trajectory `traj` (as used by lf_mc_hmc_trajectory and the
 * distributed trajectory of dist.h): 1 if p->no_accept, dH <= 0, or u < exp_mdH with u the
 * uniform of the stream (seed, ACCEPT|traj) -- the same decision on every rank. */
int lf_mc_hmc_accept(const lf_hmc_params *p, uint64_t seed, long traj, double dH, double exp_mdH);
/* Pure molecular dynamics: integrate (U, P) over time p->tau with p->nsteps steps of
 * p->integrator; no reunitarisation, no accept step. *nforce (if not NULL) receives the
 * number of force evaluations. Reversible: flip P, integrate again, flip P = identity. */
int lf_mc_hmc_integrate(const lf_action *a, const lf_hmc_params *p, lf_gauge *f, lf_cplx *mom,
                        lf_hmc_work *w, int *nforce);

/* ---------------------------------------------------------------- heatbath */
typedef struct {
  long updates;   /* link (or subgroup) heatbath updates                     */
  long trials;    /* proposals drawn (acceptance = updates / trials)         */
} lf_hb_stats;

/* One heatbath sweep over all links. Wilson action only (LW: LF_EUNSUP); beta and k
 * validated (LF_EINVAL). `st` (may be NULL) accumulates counts. */
int lf_mc_heatbath_sweep(const lf_action *a, lf_gauge *f, uint64_t seed, long sweep,
                         lf_hb_stats *st);
/* One (direction mu, parity par) class of a sweep, the building block of the two sweeps
 * above: hb = 1 heatbath (stream (seed, HEATBATH | (4 sweep + mu), global site)), hb = 0
 * overrelaxation (seed and sweep unused). Links of one class share no plaquette, so a
 * domain decomposition updates its own sites of a class and then refreshes the halo
 * links of direction mu (dist module). Same restrictions as the sweeps. */
int lf_mc_heatbath_class(const lf_action *a, lf_gauge *f, int hb, uint64_t seed, long sweep,
                         int mu, int par, lf_hb_stats *st);
/* One overrelaxation sweep (deterministic, no random numbers; leaves S unchanged up to
 * rounding). Same restrictions as the heatbath. */
int lf_mc_overrelax_sweep(const lf_action *a, lf_gauge *f);

#endif
