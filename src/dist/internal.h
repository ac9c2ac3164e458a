/*
 * src/dist/internal.h -- private helpers of the dist module.
 */
#ifndef LF_DIST_INTERNAL_H
#define LF_DIST_INTERNAL_H

#include "latflow/dist.h"

/* Loops over fewer sites than this run on one thread (as in the action module). */
#ifndef LF_OMP_MIN_SITES
#define LF_OMP_MIN_SITES 1024
#endif

/* 1 if the decomposition communicates (several ranks, not a private one-rank one). */
static inline int lf_dist_comm(const lf_dist *d) { return !d->self && d->nranks > 1; }

/* Agree on a status over the ranks of the decomposition (identity for a private one). */
static inline int lf_dist_agree(const lf_dist *d, int rc) { return d->self ? rc : lf_par_agree(rc); }

/* Per-site exact sums over own sites: fn adds its m values of site s to acc[0..m-1]
 * (acc is a per-chunk accumulator array); the chunk sums are merged (exactly, so the
 * chunking does not matter) into out[0..m-1]. Local only, no communication. */
typedef void (*lf_dist_site_fn)(const void *ctx, long s, lf_xsum *acc);
int lf_dist_site_sums(long nsites, int m, lf_dist_site_fn fn, const void *ctx, lf_xsum *out);

/* Local per-site action terms (halo must be valid): out[0] += sum_{mu<nu} k Re tr U_P,
 * out[1] += sum k Re tr R (both orientations; only if rect). */
void lf_dist_site_action(const lf_action *a, const lf_gauge *f, long s, int rect, lf_xsum *out);
/* Local parts of S (exact): plaquette and rectangle sums over own sites. */
int lf_dist_action_local(const lf_action *a, const lf_gauge *f, lf_xsum *acc2);
/* S from the global sums. */
double lf_dist_action_value(const lf_action *a, const lf_gauge *f, const lf_xsum *acc2);
/* Local kinetic energy (exact) over own links. */
int lf_dist_kinetic_local(const lf_gauge *f, const lf_cplx *mom, lf_xsum *acc);

#endif
