/*
 * internal.h -- private helpers of the mc module: exact samplers used by the heatbath.
 */
#ifndef LF_MC_INTERNAL_H
#define LF_MC_INTERNAL_H

#include "latflow/mc.h"

/* Give up a single link update after this many rejected proposals (keeps the old
 * link; never reached in practice: acceptance is >= 0.65 for every coupling). */
#define LF_HB_MAX_TRIALS 10000

/* Same fixed chunking as the action module (thread-count independent sums). */
#define LF_MC_NCHUNK 256

/* Loops over fewer sites (links) than this run on one thread: on small lattices an
 * OpenMP fork/join costs more than the work (and a lot more on a loaded machine).
 * Results do not depend on it (same partition and order either way). */
#ifndef LF_OMP_MIN_SITES
#define LF_OMP_MIN_SITES 1024
#endif

/* x0 in [-1, 1] with density sqrt(1 - x0^2) exp(alpha x0): Kennedy-Pendleton for
 * alpha >= LF_KP_MIN_ALPHA, Creutz below. *trials += proposals. Returns 0 if it gave up. */
#define LF_KP_MIN_ALPHA 2.0
int lf_mc_sample_su2_x0(double alpha, lf_rng *r, long *trials, double *x0);
/* x in (-pi, pi] with density exp(kappa cos x) (Best-Fisher 1979, wrapped-Cauchy
 * envelope). Returns 0 if it gave up. */
int lf_mc_sample_vonmises(double kappa, lf_rng *r, long *trials, double *x);

#endif
