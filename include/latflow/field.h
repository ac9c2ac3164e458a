/*
 * latflow/field.h -- gauge fields, momenta and gauge transformations.
 *
 * Layout: links U_mu(x) stored as u[(s*nd + mu) * n*n + i*n + j] (site-major, then
 * direction, then the row-major n x n matrix): the `[site][mu]` order of ILDG. A
 * momentum field has the same layout with algebra elements (anti-hermitian).
 * Batched fields for flows use `[batch][site][mu]`, i.e. consecutive lf_gauge blocks.
 *
 *     lf_gauge *f;
 *     if (lf_gauge_alloc(&f, &lat, LF_SU3)) ...;
 *     lf_gauge_hot(f, seed);              // Haar-random links
 *     lf_cplx *U = lf_gauge_link(f, s, mu);
 *     lf_gauge_free(f);
 *
 * Ownership: lf_gauge_alloc returns a field the caller frees with lf_gauge_free; the
 * field borrows `lat`, which must outlive it. Fills are OpenMP-parallel and keyed by
 * (seed, site), so they are independent of the thread count.
 */
#ifndef LATFLOW_FIELD_H
#define LATFLOW_FIELD_H

#include "latflow/group.h"
#include "latflow/lattice.h"

typedef struct {
  const lf_lattice *lat; /* borrowed geometry                     */
  lf_group group;        /* LF_U1, LF_SU2, LF_SU3 (= n)          */
  int n;                 /* matrix size                          */
  size_t nlinks;         /* vol * nd                             */
  lf_cplx *u;            /* nlinks * n*n complex, 64-byte aligned */
} lf_gauge;

int lf_gauge_alloc(lf_gauge **f, const lf_lattice *lat, lf_group g);
void lf_gauge_free(lf_gauge *f);
static inline lf_cplx *lf_gauge_link(const lf_gauge *f, long s, int mu) {
  return f->u + ((size_t)s * (size_t)f->lat->nd + (size_t)mu) * (size_t)(f->n * f->n);
}
/* Number of lf_cplx per link (n*n). */
static inline size_t lf_gauge_linksize(const lf_gauge *f) { return (size_t)(f->n * f->n); }

void lf_gauge_cold(lf_gauge *f);                 /* all links = 1 */
void lf_gauge_hot(lf_gauge *f, uint64_t seed);   /* Haar-random, keyed by (seed, site) */
int lf_gauge_copy(lf_gauge *dst, const lf_gauge *src); /* same geometry and group */
/* Reunitarise every link; returns the largest defect found before. */
double lf_gauge_unitarize(lf_gauge *f);
/* Largest unitarity defect over all links (see lf_group_defect). */
double lf_gauge_max_defect(const lf_gauge *f);

/* Gauge transformation g(x): one group element per site, layout g[s*n*n + ...]. */
int lf_gauge_transform_alloc(lf_cplx **g, const lf_gauge *f);
void lf_gauge_transform_random(const lf_gauge *f, lf_cplx *g, uint64_t seed);
/* U_mu(x) -> g(x) U_mu(x) g(x+mu)^dagger, in place. */
void lf_gauge_transform_apply(lf_gauge *f, const lf_cplx *g);



/* Untraced plaquette P = U_mu(x) U_nu(x+mu) U_mu(x+nu)^dag U_nu(x)^dag (mu != nu). */
void lf_gauge_plaquette(const lf_gauge *f, long s, int mu, int nu, lf_cplx *p);
#endif
