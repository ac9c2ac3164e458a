/*
 * reduce.c -- deterministic parallel site sums and path products for the observables.
 * Thread contract: partial sums over a fixed partition of the sites into chunks of
 * LF_OBS_CHUNK (each summed in site order), added in chunk order; per-thread scratch is
 * allocated once per call inside the parallel region. Independent of the thread count.
 */
#include <string.h>

#include "internal.h"

int lf_obs_reduce(long nsites, int m, lf_obs_site_fn fn, const void *ctx, size_t scratch,
                  double *out) {
  long nchunk = (nsites + LF_OBS_CHUNK - 1) / LF_OBS_CHUNK;
  double *part = lf_alloc(sizeof(double) * (size_t)nchunk * (size_t)m);
  if (!part) return LF_ERROR(LF_ENOMEM, "observable: no memory for %ld partial sums", nchunk);
  int fail = 0;
#pragma omp parallel
  {
    void *buf = scratch ? lf_alloc(scratch) : NULL;
    if (scratch && !buf) {
#pragma omp atomic write
      fail = 1;
    }
#pragma omp for schedule(static)
    for (long c = 0; c < nchunk; c++) {
      if (scratch && !buf) continue;
      double *acc = part + (size_t)c * (size_t)m;
      long s1 = (c + 1) * LF_OBS_CHUNK < nsites ? (c + 1) * LF_OBS_CHUNK : nsites;
      for (long s = c * LF_OBS_CHUNK; s < s1; s++) fn(ctx, s, acc, buf);
    }
    lf_free(buf);
  }
  if (fail) {
    lf_free(part);
    return LF_ERROR(LF_ENOMEM, "observable: no memory for %zu bytes of per-thread scratch",
                    scratch);
  }
  for (int k = 0; k < m; k++) out[k] = 0.0;
  for (long c = 0; c < nchunk; c++)
    for (int k = 0; k < m; k++) out[k] += part[(size_t)c * (size_t)m + (size_t)k];
  lf_free(part);
  return LF_OK;
}

long lf_obs_path(const lf_gauge *f, long s, const int *steps, int nsteps, lf_cplx *M) {
  const int n = f->n;
  lf_cplx buf[2][9];
  int cur = 0;
  if (nsteps < 1) {
    lf_mat_identity(n, M);
    return s;
  }
  for (int k = 0; k < nsteps; k++) {
    const int up = steps[k] > 0, mu = (up ? steps[k] : -steps[k]) - 1;
    if (!up) s = lf_lattice_dn(f->lat, s, mu);
    const lf_cplx *u = lf_gauge_link(f, s, mu);
    if (k == 0) {
      if (up) lf_mat_copy(n, buf[0], u);
      else lf_mat_dag(n, buf[0], u);
    } else {
      lf_obs_mul(n, buf[1 - cur], buf[cur], u, !up);
      cur = 1 - cur;
    }
    if (up) s = lf_lattice_up(f->lat, s, mu);
  }
  lf_mat_copy(n, M, buf[cur]);
  return s;
}
