/*
 * src/observe/internal.h -- private helpers of the observe module.
 */
#ifndef LATFLOW_OBSERVE_INTERNAL_H
#define LATFLOW_OBSERVE_INTERNAL_H

#include "latflow/observe.h"

/* Sites per chunk of the deterministic reduction (fixed: the partition, hence the
 * rounding, does not depend on the number of threads). */
#define LF_OBS_CHUNK 64

/* Per-site kernel: add the site's contributions to acc[0..m-1]; scratch is a per-thread
 * buffer of the requested size (64-byte aligned, NULL if 0 bytes were asked for). */
typedef void (*lf_obs_site_fn)(const void *ctx, long s, double *acc, void *scratch);

/* out[k] = sum over s < nsites of the kernel's contributions, computed as partial sums
 * over chunks of LF_OBS_CHUNK consecutive sites (each in site order) added in chunk order.
 * OpenMP parallel over chunks. LF_ENOMEM if the partial sums or scratch cannot be had. */
int lf_obs_reduce(long nsites, int m, lf_obs_site_fn fn, const void *ctx, size_t scratch,
                  double *out);

/* c = a b (dag = 0) or a b^dag (dag = 1); inline SU(3) kernels for n = 3. c must not
 * alias a or b. */
static inline void lf_obs_mul(int n, lf_cplx *restrict c, const lf_cplx *restrict a,
                              const lf_cplx *restrict b, int dag) {
  if (n == 3) {
    if (dag) lf_su3_mul_dag(c, a, b);
    else lf_su3_mul(c, a, b);
  } else {
    if (dag) lf_mat_mul_dag(n, c, a, b);
    else lf_mat_mul(n, c, a, b);
  }
}

/* M = product of the links along a path from site s: steps[k] = +(mu+1) for a step up in
 * direction mu (U_mu(y)), -(mu+1) for a step down (U_mu(y - mu)^dag). Returns the end site. */
long lf_obs_path(const lf_gauge *f, long s, const int *steps, int nsteps, lf_cplx *M);

/* Clover sums over all sites: out[0] = sum_x -sum_{mu<nu} tr G^2, out[1] = sum_x q(x)
 * (0 unless nd = 4). */
int lf_obs_clover_sums(const lf_gauge *f, double *out);

#endif
