/*
 * tests/observe/loops.c -- plaquette, rectangles, Wilson loops, Polyakov loop:
 * cold field = 1; gauge and translation invariance on rough fields (U(1) 2D, SU(2) 3D,
 * SU(3) 4D); Wilson loops of the constant-field 2D U(1) configuration = cos(R T theta);
 * W(1,1) = plaquette of the (space, time) planes; 2D rectangles = (W(1,2)+W(2,1))/2;
 * Polyakov loop of constant time links = tr(A^Lt)/N; error paths.
 */
#include <stdio.h>
#include <string.h>

#include "fields.h"
#include "latflow/observe.h"
#include "lf_test.h"

#define TOL_INV 1e-12 /* gauge/translation invariance (rounding of ~100 products) */
#define TOL_EXACT 1e-13

enum { RM = 3, TM = 3 };

static void measure(const lf_gauge *f, double *out) {
  out[0] = lf_observe_plaquette(f);
  lf_observe_rectangle(f, out + 1);
  lf_observe_wilson_loops(f, RM, TM, out + 2);
  lf_cplx P;
  lf_observe_polyakov(f, &P);
  out[2 + RM * TM] = creal(P);
  out[3 + RM * TM] = cimag(P);
}
static const char *name(int k, char *buf) {
  if (k == 0) return "plaquette";
  if (k == 1) return "rectangle";
  if (k < 2 + RM * TM) {
    sprintf(buf, "W(%d,%d)", (k - 2) / TM + 1, (k - 2) % TM + 1);
    return buf;
  }
  return k == 2 + RM * TM ? "Re Polyakov" : "Im Polyakov";
}
#define NM (4 + RM * TM)

static void invariance(int nd, const int *L, lf_group g) {
  lf_lattice lat;
  lf_lattice_init(&lat, nd, L);
  lf_gauge *f, *h;
  lf_gauge_alloc(&f, &lat, g);
  lf_gauge_alloc(&h, &lat, g);
  field_near(f, 0.7, 5 + (uint64_t)nd);
  double a[NM], b[NM];
  char what[128], buf[32];
  measure(f, a);
  lf_gauge_copy(h, f);
  field_gauge(h, 99);
  measure(h, b);
  for (int k = 0; k < NM; k++) {
    snprintf(what, sizeof what, "%dD %s: gauge invariance of %s", nd, lf_group_name(g), name(k, buf));
    LF_TEST_ABS(what, b[k], a[k], TOL_INV);
  }
  for (int nu = 0; nu < nd; nu++) {
    field_shift(h, f, nu);
    measure(h, b);
    double dmax = 0;
    for (int k = 0; k < NM; k++) dmax = fmax(dmax, fabs(b[k] - a[k]));
    snprintf(what, sizeof what, "%dD %s: translation invariance (all loops), shift by %d^", nd,
             lf_group_name(g), nu);
    LF_TEST_ABS(what, dmax, 0.0, TOL_INV);
  }
  /* W(1,1) = average plaquette of the (i, t) planes */
  double pp[LF_MAXPLANES], wp = 0;
  lf_observe_plaquette_planes(f, pp);
  for (int i = 0; i < nd - 1; i++) wp += pp[lf_lattice_plane(nd, i, nd - 1)];
  snprintf(what, sizeof what, "%dD %s: W(1,1) = plaquette of the (space, time) planes", nd, lf_group_name(g));
  LF_TEST_ABS(what, a[2], wp / (nd - 1), TOL_EXACT);
  if (nd == 2) {
    LF_TEST_ABS("2D: rectangle = (W(1,2) + W(2,1))/2", a[1], 0.5 * (a[2 + 1] + a[2 + TM]), TOL_EXACT);
  }
  /* cold field: all loops 1 */
  lf_gauge_cold(f);
  measure(f, a);
  double dmax = 0;
  for (int k = 0; k < NM - 1; k++) dmax = fmax(dmax, fabs(a[k] - 1.0));
  dmax = fmax(dmax, fabs(a[NM - 1]));
  snprintf(what, sizeof what, "%dD %s: cold field, every loop = 1", nd, lf_group_name(g));
  LF_TEST_ABS(what, dmax, 0.0, TOL_EXACT);
  lf_gauge_free(f);
  lf_gauge_free(h);
  lf_lattice_clear(&lat);
}

int main(void) {
  const int L2[2] = {8, 6}, L3[3] = {4, 6, 4}, L4[4] = {4, 4, 4, 6};
  invariance(2, L2, LF_U1);
  invariance(3, L3, LF_SU2);
  invariance(4, L4, LF_SU3);

  /* constant field strength in 2D U(1): W(R,T) = cos(R T theta) (Stokes) */
  {
    const int L[2] = {10, 8};
    lf_lattice lat;
    lf_lattice_init(&lat, 2, L);
    lf_gauge *f;
    lf_gauge_alloc(&f, &lat, LF_U1);
    field_twisted(f, 3, 0);
    const double th = LF_TWOPI * 3 / 80.0;
    double W[5 * 7], r;
    int rc = lf_observe_wilson_loops(f, 5, 7, W);
    lf_observe_rectangle(f, &r);
    double dmax = 0;
    for (int R = 1; R <= 5; R++)
      for (int T = 1; T <= 7; T++) dmax = fmax(dmax, fabs(W[(R - 1) * 7 + T - 1] - cos(R * T * th)));
    LF_TEST_TRUE("Wilson loops up to 5 x 7: LF_OK", rc == LF_OK);
    LF_TEST_ABS("2D U(1) constant field: max |W(R,T) - cos(R T theta)|", dmax, 0.0, TOL_EXACT);
    LF_TEST_ABS("2D U(1) constant field: rectangle = cos(2 theta)", r, cos(2 * th), TOL_EXACT);
    LF_TEST_ABS("2D U(1) constant field: plaquette = cos(theta)", lf_observe_plaquette(f), cos(th), TOL_EXACT);
    rc = lf_observe_wilson_loops(f, 11, 2, W);
    LF_TEST_TRUE("Wilson loop R > L: LF_EINVAL", rc == LF_EINVAL);
    printf("     message: %s\n", lf_last_error());
    lf_gauge_free(f);
    lf_lattice_clear(&lat);
  }

  /* Polyakov loop with constant time links A: tr(A^Lt)/N at every spatial site */
  {
    const int L[4] = {4, 4, 2, 6};
    lf_lattice lat;
    lf_lattice_init(&lat, 4, L);
    lf_gauge *f;
    lf_gauge_alloc(&f, &lat, LF_SU3);
    lf_gauge_hot(f, 31);
    lf_cplx A[9], M[9], t[9];
    lf_rng r;
    lf_rng_init(&r, 8, LF_RNG_TAG(LF_RNG_PURPOSE_TEST, 8), 0);
    lf_group_haar(LF_SU3, A, &r);
    lf_mat_identity(3, M);
    for (int k = 0; k < 6; k++) {
      lf_mat_mul(3, t, M, A);
      lf_mat_copy(3, M, t);
    }
    lf_cplx want = lf_mat_trace(3, M) / 3.0;
    for (long s = 0; s < lat.vol; s++) lf_mat_copy(3, lf_gauge_link(f, s, 3), A);
    lf_cplx P, field[32];
    lf_observe_polyakov(f, &P);
    lf_observe_polyakov_field(f, field);
    double dmax = 0;
    for (int xs = 0; xs < 32; xs++) dmax = fmax(dmax, cabs(field[xs] - want));
    LF_TEST_ABS("Polyakov loop, constant time links: Re P = Re tr(A^6)/3", creal(P), creal(want), TOL_EXACT);
    LF_TEST_ABS("Polyakov loop, constant time links: Im P = Im tr(A^6)/3", cimag(P), cimag(want), TOL_EXACT);
    LF_TEST_ABS("Polyakov field: max |P(xs) - tr(A^6)/3|", dmax, 0.0, TOL_EXACT);
    /* thread-count independence of a reduction */
    double W1[6], W2[6];
    lf_gauge_hot(f, 32);
    int rc = lf_observe_wilson_loops(f, 2, 3, W1);
#ifdef _OPENMP
    extern void omp_set_num_threads(int);
    omp_set_num_threads(1);
#endif
    rc |= lf_observe_wilson_loops(f, 2, 3, W2);
    LF_TEST_TRUE("Wilson loops bitwise identical with 1 thread and the default",
                 rc == LF_OK && memcmp(W1, W2, sizeof W1) == 0);
    /* failed allocations (1 thread: the allocation counter is not thread-safe) */
    lf_alloc_fail_after(1);
    rc = lf_observe_wilson_loops(f, 2, 3, W2);
    lf_alloc_fail_after(0);
    LF_TEST_TRUE("Wilson loops, partial sums not allocated: LF_ENOMEM", rc == LF_ENOMEM);
    lf_alloc_fail_after(2);
    rc = lf_observe_wilson_loops(f, 2, 3, W2);
    lf_alloc_fail_after(0);
    LF_TEST_TRUE("Wilson loops, scratch not allocated: LF_ENOMEM", rc == LF_ENOMEM);
    printf("     message: %s\n", lf_last_error());
    lf_alloc_fail_after(1);
    rc = lf_observe_polyakov(f, &P);
    lf_alloc_fail_after(0);
    LF_TEST_TRUE("Polyakov loop, failed allocation: LF_ENOMEM", rc == LF_ENOMEM);
    lf_alloc_fail_after(1);
    double pl = lf_observe_plaquette(f);
    lf_alloc_fail_after(0);
    LF_TEST_TRUE("plaquette, failed allocation: NaN (documented)", isnan(pl));
    lf_gauge_free(f);
    lf_lattice_clear(&lat);
  }
  return lf_test_done();
}
