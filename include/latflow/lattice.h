/*
 * latflow/lattice.h -- lattice geometry: extents, site index, neighbours, parity, masks.
 *
 * Conventions (docs/conventions.md):
 *   - dimension nd = 2, 3 or 4; extents L[0..nd-1], each even and >= 2;
 *   - site index s = x0 + L0*(x1 + L1*(x2 + L2*x3)), x (mu = 0) fastest, as in ILDG;
 *   - mu = 0..nd-1 means x, y, z, t; the last direction is "time" (Polyakov loops);
 *   - parity(s) = (x0 + x1 + ...) mod 2 (even/odd checkerboard).
 *
 *     lf_lattice lat;
 *     int L[2] = {8, 8};
 *     if (lf_lattice_init(&lat, 2, L)) { ... lf_last_error() ... }
 *     long right = lf_lattice_up(&lat, s, 0);  // s + x^
 *     lf_lattice_clear(&lat);
 *
 * Tables are owned by the struct (lf_lattice_init/lf_lattice_clear). lf_lattice_init
 * builds the global (periodic) lattice. The dist module builds local lattices of a domain
 * decomposition in the same struct: sites 0..vol-1 are the rank's own (interior) sites,
 * the tables also cover halo sites numbered from vol on, and `global` maps a local site to
 * its global index, so that random streams keyed by site are the same for any number of
 * ranks (lf_lattice_global).
 */
#ifndef LATFLOW_LATTICE_H
#define LATFLOW_LATTICE_H

#include "latflow/core.h"

#define LF_MAXDIM 4

typedef struct {
  int nd;          /* number of dimensions (2..4)                 */
  int L[LF_MAXDIM];/* extents; unused entries are 1               */
  long vol;        /* number of sites                             */
  long *up;        /* up[s*nd + mu]: index of s + mu^             */
  long *dn;        /* dn[s*nd + mu]: index of s - mu^             */
  unsigned char *parity; /* parity[s] in {0, 1}                  */
  long *global;    /* global[s]: global site index of local site s; NULL on a global
                      lattice (identity). Owned like the other tables. */
} lf_lattice;

/* Validate and build tables. Error (LF_EINVAL) if nd not in 2..4 or an extent is odd,
 * zero, negative or above 1024. */
int lf_lattice_init(lf_lattice *lat, int nd, const int *L);
void lf_lattice_clear(lf_lattice *lat);
/* Parse "8x8" or "4x4x4x8" into nd and L[] (validated as in lf_lattice_init). */
int lf_lattice_parse(const char *text, int *nd, int L[LF_MAXDIM]);
/* Format as "8x8" into buf. */
void lf_lattice_format(const lf_lattice *lat, char *buf, size_t n);

long lf_lattice_index(const lf_lattice *lat, const int *x);
void lf_lattice_coords(const lf_lattice *lat, long s, int *x);
/* Site reached from s by shifting dx[mu] steps (periodic; dx may be negative). */
long lf_lattice_shift(const lf_lattice *lat, long s, const int *dx);

static inline long lf_lattice_up(const lf_lattice *lat, long s, int mu) {
  return lat->up[s * lat->nd + mu];
}
static inline long lf_lattice_dn(const lf_lattice *lat, long s, int mu) {
  return lat->dn[s * lat->nd + mu];
}
/* Global site index of site s (keys of per-site random streams, parity of the global
 * lattice): s itself on a global lattice. */
static inline long lf_lattice_global(const lf_lattice *lat, long s) {
  return lat->global ? lat->global[s] : s;
}
/* Number of planes mu < nu: nd*(nd-1)/2; plane index of (mu, nu) with mu < nu. */
static inline int lf_lattice_nplanes(const lf_lattice *lat) { return lat->nd * (lat->nd - 1) / 2; }
int lf_lattice_plane(int nd, int mu, int nu);

#endif
