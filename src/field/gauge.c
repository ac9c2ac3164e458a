/*
 * gauge.c -- gauge field allocation, cold/hot starts, reunitarisation and gauge
 * transformations U_mu(x) -> g(x) U_mu(x) g(x+mu)^dagger.
 *
 * Thread contract: fills are OpenMP parallel over sites with per-site RNG streams
 * (seed, LF_RNG_PURPOSE_*, global site), so the result does not depend on the thread
 * count or (on a local lattice of the dist module) on the number of ranks.
 */
#include "latflow/field.h"

#include <math.h>
#include <string.h>

int lf_gauge_alloc(lf_gauge **out, const lf_lattice *lat, lf_group g) {
  *out = NULL;
  lf_gauge *f = lf_alloc(sizeof *f);
  if (!f) return LF_ENOMEM;
  f->lat = lat;
  f->group = g;
  f->n = (int)g;
  f->nlinks = (size_t)lat->vol * (size_t)lat->nd;
  f->u = lf_alloc(sizeof(lf_cplx) * f->nlinks * (size_t)(f->n * f->n));
  if (!f->u) {
    lf_free(f);
    return LF_ENOMEM;
  }
  lf_gauge_cold(f);
  *out = f;
  return LF_OK;
}

void lf_gauge_free(lf_gauge *f) {
  if (!f) return;
  lf_free(f->u);
  lf_free(f);
}

void lf_gauge_cold(lf_gauge *f) {
  size_t ls = lf_gauge_linksize(f);
  for (size_t l = 0; l < f->nlinks; l++) lf_mat_identity(f->n, f->u + l * ls);
}

void lf_gauge_hot(lf_gauge *f, uint64_t seed) {
  const int nd = f->lat->nd;
#pragma omp parallel for schedule(static)
  for (long s = 0; s < f->lat->vol; s++) {
    lf_rng r;
    lf_rng_init(&r, seed, LF_RNG_TAG(LF_RNG_PURPOSE_START, 0), (uint64_t)lf_lattice_global(f->lat, s));
    for (int mu = 0; mu < nd; mu++) lf_group_haar(f->group, lf_gauge_link(f, s, mu), &r);
  }
}

int lf_gauge_copy(lf_gauge *dst, const lf_gauge *src) {
  if (dst->group != src->group || dst->nlinks != src->nlinks)
    return LF_ERROR(LF_ESTATE, "gauge field copy between different groups or lattices");
  memcpy(dst->u, src->u, sizeof(lf_cplx) * src->nlinks * lf_gauge_linksize(src));
  return LF_OK;
}

double lf_gauge_max_defect(const lf_gauge *f) {
  size_t ls = lf_gauge_linksize(f);
  double m = 0;
  for (size_t l = 0; l < f->nlinks; l++) {
    double d = lf_group_defect(f->group, f->u + l * ls);
    if (!(d <= m)) m = d; /* also catches NaN */
  }
  return m;
}

double lf_gauge_unitarize(lf_gauge *f) {
  double m = lf_gauge_max_defect(f);
  size_t ls = lf_gauge_linksize(f);
  long nl = (long)f->nlinks;
#pragma omp parallel for schedule(static)
  for (long l = 0; l < nl; l++) lf_group_unitarize(f->group, f->u + (size_t)l * ls);
  return m;
}

int lf_gauge_transform_alloc(lf_cplx **g, const lf_gauge *f) {
  *g = lf_alloc(sizeof(lf_cplx) * (size_t)f->lat->vol * lf_gauge_linksize(f));
  return *g ? LF_OK : LF_ENOMEM;
}

void lf_gauge_transform_random(const lf_gauge *f, lf_cplx *g, uint64_t seed) {
  size_t ls = lf_gauge_linksize(f);
#pragma omp parallel for schedule(static)
  for (long s = 0; s < f->lat->vol; s++) {
    lf_rng r;
    lf_rng_init(&r, seed, LF_RNG_TAG(LF_RNG_PURPOSE_GAUGE, 0), (uint64_t)lf_lattice_global(f->lat, s));
    lf_group_haar(f->group, g + (size_t)s * ls, &r);
  }
}

void lf_gauge_transform_apply(lf_gauge *f, const lf_cplx *g) {
  const int n = f->n, nd = f->lat->nd;
  size_t ls = lf_gauge_linksize(f);
#pragma omp parallel for schedule(static)
  for (long s = 0; s < f->lat->vol; s++) {
    lf_cplx t[9];
    for (int mu = 0; mu < nd; mu++) {
      lf_cplx *u = lf_gauge_link(f, s, mu);
      long sp = lf_lattice_up(f->lat, s, mu);
      lf_mat_mul(n, t, g + (size_t)s * ls, u);
      lf_mat_mul_dag(n, u, t, g + (size_t)sp * ls);
    }
  }
}

void lf_gauge_plaquette(const lf_gauge *f, long s, int mu, int nu, lf_cplx *p) {
  const int n = f->n;
  lf_cplx a[9], b[9];
  long smu = lf_lattice_up(f->lat, s, mu), snu = lf_lattice_up(f->lat, s, nu);
  lf_mat_mul(n, a, lf_gauge_link(f, s, mu), lf_gauge_link(f, smu, nu));
  lf_mat_mul_dag(n, b, a, lf_gauge_link(f, snu, mu));
  lf_mat_mul_dag(n, p, b, lf_gauge_link(f, s, nu));
}
