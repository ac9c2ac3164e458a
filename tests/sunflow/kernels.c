/*
 * tests/sunflow/kernels.c -- the inline N x N kernels of src/sunflow/kernels.h (AVX2+FMA
 * when the build targets it, portable C otherwise) against the generic lf_mat_* of
 * group.h, on random complex (not unitary) matrices with entries of size ~1, N = 2, 3:
 * c = a b, a b^dag, a^dag b, the accumulating forms c += ..., real axpy and add.
 * Tolerance 1e-14 on the largest entry deviation relative to the largest entry of the
 * reference (rounding of sums of 3 products; FMA and summation order differ).
 */
#include "../../src/sunflow/kernels.h"

#include <math.h>

#include "lf_test.h"

static double rnd(lf_rng *r) { return 2.0 * lf_rng_uniform(r) - 1.0; }

/* max_i |x_i - y_i| / max_i |y_i| */
static double reldev(int N, const lf_cplx *x, const lf_cplx *y) {
  double d = 0, s = 0;
  for (int i = 0; i < N * N; i++) {
    d = fmax(d, cabs(x[i] - y[i]));
    s = fmax(s, cabs(y[i]));
  }
  return d / s;
}

int main(void) {
  const double tol = 1e-14;
  lf_rng r;
  lf_rng_init(&r, 2385, LF_RNG_TAG(LF_RNG_PURPOSE_TEST, 71), 0);
  printf("kernels.h: %s\n", LF_SF_SIMD ? "AVX2+FMA" : "portable C");
  for (int N = 2; N <= 3; N++) {
    double dev[8] = {0};
    for (int trial = 0; trial < 200; trial++) {
      lf_cplx a[9], b[9], c0[9], ref[9], got[9], t[9];
      for (int i = 0; i < N * N; i++) {
        a[i] = CMPLX(rnd(&r), rnd(&r));
        b[i] = CMPLX(rnd(&r), rnd(&r));
        c0[i] = CMPLX(2.385 * rnd(&r), 2.385 * rnd(&r));
      }
      const double s = 1.75 * rnd(&r);
      /* products */
      lf_mat_mul(N, ref, a, b);
      lf_sf_mul(N, got, a, b);
      dev[0] = fmax(dev[0], reldev(N, got, ref));
      lf_mat_mul_dag(N, ref, a, b);
      lf_sf_mul_dag(N, got, a, b);
      dev[1] = fmax(dev[1], reldev(N, got, ref));
      lf_mat_dag_mul(N, ref, a, b);
      lf_sf_dag_mul(N, got, a, b);
      dev[2] = fmax(dev[2], reldev(N, got, ref));
      /* accumulating forms: ref = c0 + product */
      lf_mat_mul(N, t, a, b);
      for (int i = 0; i < N * N; i++) ref[i] = c0[i] + t[i];
      lf_mat_copy(N, got, c0);
      lf_sf_mul_add(N, got, a, b);
      dev[3] = fmax(dev[3], reldev(N, got, ref));
      lf_mat_mul_dag(N, t, a, b);
      for (int i = 0; i < N * N; i++) ref[i] = c0[i] + t[i];
      lf_mat_copy(N, got, c0);
      lf_sf_mul_dag_add(N, got, a, b);
      dev[4] = fmax(dev[4], reldev(N, got, ref));
      lf_mat_dag_mul(N, t, a, b);
      for (int i = 0; i < N * N; i++) ref[i] = c0[i] + t[i];
      lf_mat_copy(N, got, c0);
      lf_sf_dag_mul_add(N, got, a, b);
      dev[5] = fmax(dev[5], reldev(N, got, ref));
      /* real axpy and add */
      lf_mat_copy(N, ref, c0);
      lf_mat_axpy(N, ref, s, a);
      lf_mat_copy(N, got, c0);
      lf_sf_axpy(N, got, s, a);
      dev[6] = fmax(dev[6], reldev(N, got, ref));
      for (int i = 0; i < N * N; i++) ref[i] = c0[i] + b[i];
      lf_mat_copy(N, got, c0);
      lf_sf_add(N, got, b);
      dev[7] = fmax(dev[7], reldev(N, got, ref));
    }
    static const char *names[8] = {"a b", "a b^dag", "a^dag b", "c + a b", "c + a b^dag",
                                   "c + a^dag b", "c + s a (s real)", "c + b"};
    for (int k = 0; k < 8; k++) {
      char what[96];
      snprintf(what, sizeof what, "N = %d: %s vs lf_mat_* (max rel. dev. of 200)", N, names[k]);
      LF_TEST_ABS(what, dev[k], 0.0, tol);
    }
  }
  return lf_test_done();
}
