/*
 * sum.c -- exact global sums: per-site doubles rounded to 128-bit fixed point
 * (LF_XSUM_FRAC fractional bits) and added as integers.
 *
 * Why: a floating-point sum depends on the order of the additions, i.e. on how sites are
 * split over ranks. Rounding each site's value to the grid 2^-60 is a function of that value
 * alone, and integer addition is associative and commutative (two's complement wrap-around
 * is harmless as long as the final total fits), so the sum over any partition of the sites
 * and in any order is the same integer. The conversion error per site, <= 2^-61 ~ 4e-19,
 * is far below the double rounding of a site's value (~1e-16 relative). Idea as in the
 * "reproducible summation" literature (e.g. Demmel and Nguyen, IEEE TC 64 (2015) 2060;
 * fixed-point long accumulators of Kulisch); here one 128-bit word suffices because site
 * values are bounded.
 *
 * MPI contract: lf_dist_xsum_allreduce is collective (allgather of the per-rank partials,
 * added on every rank). Threads: lf_dist_site_sums is OpenMP-parallel over fixed chunks.
 */
#include <math.h>
#include <string.h>

#include "internal.h"

/* Terms with |x| >= 2^60 or non-finite mark the sum bad; totals with |sum| >= 2^66 too
 * (the 128-bit word holds 2^67 in units of 2^-60). */
#define XSUM_MAX_TERM 0x1p60
#define XSUM_MAX_TOTAL 0x1p66

void lf_xsum_add(lf_xsum *a, double x) {
  if (!(fabs(x) < XSUM_MAX_TERM)) {
    a->bad = 1;
    return;
  }
  /* x * 2^60 is exact; rint rounds to an integer (ties to even) deterministically */
  lf_xsum_int q = (lf_xsum_int)rint(ldexp(x, LF_XSUM_FRAC));
  a->v = (lf_xsum_int)((unsigned __int128)a->v + (unsigned __int128)q);
  a->approx += x;
}

void lf_xsum_merge(lf_xsum *a, const lf_xsum *b) {
  a->v = (lf_xsum_int)((unsigned __int128)a->v + (unsigned __int128)b->v);
  a->approx += b->approx;
  a->bad |= b->bad;
}

double lf_xsum_value(const lf_xsum *a) {
  if (a->bad || !(fabs(a->approx) < XSUM_MAX_TOTAL)) return (double)NAN;
  return ldexp((double)a->v, -LF_XSUM_FRAC);
}

int lf_dist_xsum_allreduce(const lf_dist *d, lf_xsum *acc, int m) {
  if (!lf_dist_comm(d) || m <= 0) return LF_OK;
  int prof = lf_prof_begin("reduce", LF_PROF_COMM);
  size_t bytes = sizeof(lf_xsum) * (size_t)m;
  lf_xsum *all = lf_alloc(bytes * (size_t)d->nranks);
  int rc = all ? LF_OK : LF_ERROR(LF_ENOMEM, "no memory to gather %d sums from %d ranks", m, d->nranks);
  rc = lf_par_agree(rc);
  if (!rc) rc = lf_par_allgather_bytes(acc, bytes, all);
  if (!rc) {
    for (int k = 0; k < m; k++) {
      lf_xsum t;
      lf_xsum_zero(&t);
      for (int r = 0; r < d->nranks; r++) lf_xsum_merge(&t, &all[(size_t)r * (size_t)m + (size_t)k]);
      acc[k] = t;
    }
  }
  lf_free(all);
  lf_prof_end(prof);
  return rc;
}

/* Sites per chunk of the local sums (any value gives the same result). */
#define DIST_CHUNK 256
#define DIST_MAXM 8

int lf_dist_site_sums(long nsites, int m, lf_dist_site_fn fn, const void *ctx, lf_xsum *out) {
  if (m > DIST_MAXM) return LF_ERROR(LF_EINVAL, "lf_dist_site_sums: at most %d sums per call", DIST_MAXM);
  long nchunk = (nsites + DIST_CHUNK - 1) / DIST_CHUNK;
  for (int k = 0; k < m; k++) lf_xsum_zero(&out[k]);
  lf_xsum *part = lf_alloc(sizeof(lf_xsum) * (size_t)(nchunk > 0 ? nchunk : 1) * (size_t)m);
  if (!part) return LF_ERROR(LF_ENOMEM, "no memory for %ld partial sums", nchunk);
#pragma omp parallel for schedule(static) if (nsites >= LF_OMP_MIN_SITES)
  for (long c = 0; c < nchunk; c++) {
    lf_xsum *acc = part + (size_t)c * (size_t)m;
    for (int k = 0; k < m; k++) lf_xsum_zero(&acc[k]);
    long s1 = (c + 1) * DIST_CHUNK < nsites ? (c + 1) * DIST_CHUNK : nsites;
    for (long s = c * DIST_CHUNK; s < s1; s++) fn(ctx, s, acc);
  }
  for (long c = 0; c < nchunk; c++)
    for (int k = 0; k < m; k++) lf_xsum_merge(&out[k], &part[(size_t)c * (size_t)m + (size_t)k]);
  lf_free(part);
  return LF_OK;
}
