/*
 * internal.h -- private helpers of the action module: plane indices, deterministic
 * chunked reductions, accumulating SU(3) kernels, generic path products.
 */
#ifndef LF_ACTION_INTERNAL_H
#define LF_ACTION_INTERNAL_H

#include "latflow/action.h"

/* Fixed number of reduction chunks: sums are formed per contiguous chunk of sites
 * (sites in order) and the chunk sums are added in chunk order. The partition depends
 * only on the volume, so results do not depend on the number of OpenMP threads. */
#define LF_ACTION_NCHUNK 256

/* Loops over fewer sites (links) than this run on one thread: on small lattices an
 * OpenMP fork/join costs more than the work (and a lot more on a loaded machine).
 * Results do not depend on it (same partition and order either way). */
#ifndef LF_OMP_MIN_SITES
#define LF_OMP_MIN_SITES 1024
#endif

/* Plane index of (mu, nu), mu != nu, in any order (same numbering as lf_lattice_plane). */
static inline int lf_act_plane(int nd, int mu, int nu) {
  if (mu > nu) {
    int t = mu;
    mu = nu;
    nu = t;
  }
  return mu * (2 * nd - mu - 1) / 2 + (nu - mu - 1);
}

/* Weight k_{mu nu} of the plaquette term: c0 * plane_coef. */
static inline double lf_act_c0(const lf_action *a) { return 1.0 - 8.0 * a->c1; }

/* Sum of Re tr over the loops of one kind for every site, chunked (see above). */
double lf_act_rect_sum(const lf_action *a, const lf_gauge *f);
/* Add c1 * k_{mu nu} * (rectangle staples) of link (s, mu) to A (generic n). */
void lf_act_rect_staple_add(const lf_action *a, const lf_gauge *f, long s, int mu, lf_cplx *A);
/* Wilson (plaquette) staple sum weighted by w_nu = weight * plane_coef, generic n. */
void lf_act_plaq_staple(const lf_action *a, const lf_gauge *f, long s, int mu, double weight,
                        lf_cplx *A);
/* Same as lf_act_plaq_staple for SU(3), with the inline kernels (heatbath hot path). */
void lf_act_plaq_staple_su3(const lf_action *a, const lf_gauge *f, long s, int mu, double weight,
                            lf_cplx *A);
/* Fast path: SU(3) plaquette force with weight `weight` (Wilson: 1, LW: c0), times c:
 * force = c F (add = 0) or force += c F (add = 1). */
void lf_act_force_su3_plaq(const lf_action *a, const lf_gauge *f, double weight, lf_cplx *force,
                           double c, int add);

/* c += a b (SU(3)) */
static inline void lf_su3_mul_add(lf_cplx *restrict c, const lf_cplx *restrict a,
                                  const lf_cplx *restrict b) {
  for (int i = 0; i < 3; i++) {
    const lf_cplx a0 = a[3 * i], a1 = a[3 * i + 1], a2 = a[3 * i + 2];
    c[3 * i + 0] += a0 * b[0] + a1 * b[3] + a2 * b[6];
    c[3 * i + 1] += a0 * b[1] + a1 * b[4] + a2 * b[7];
    c[3 * i + 2] += a0 * b[2] + a1 * b[5] + a2 * b[8];
  }
}
/* c += a b^dagger (SU(3)) */
static inline void lf_su3_mul_dag_add(lf_cplx *restrict c, const lf_cplx *restrict a,
                                      const lf_cplx *restrict b) {
  for (int i = 0; i < 3; i++) {
    const lf_cplx a0 = a[3 * i], a1 = a[3 * i + 1], a2 = a[3 * i + 2];
    for (int j = 0; j < 3; j++)
      c[3 * i + j] += a0 * conj(b[3 * j]) + a1 * conj(b[3 * j + 1]) + a2 * conj(b[3 * j + 2]);
  }
}
/* c += a^dagger b (SU(3)) */
static inline void lf_su3_dag_mul_add(lf_cplx *restrict c, const lf_cplx *restrict a,
                                      const lf_cplx *restrict b) {
  for (int i = 0; i < 3; i++) {
    const lf_cplx a0 = conj(a[i]), a1 = conj(a[3 + i]), a2 = conj(a[6 + i]);
    c[3 * i + 0] += a0 * b[0] + a1 * b[3] + a2 * b[6];
    c[3 * i + 1] += a0 * b[1] + a1 * b[4] + a2 * b[7];
    c[3 * i + 2] += a0 * b[2] + a1 * b[5] + a2 * b[8];
  }
}

#endif
