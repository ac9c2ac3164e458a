/* tests/nn/nn_util.h -- helpers shared by the nn tests: high-entropy random arrays,
 * a naive periodic convolution (the reference), lattice shifts. */
#ifndef NN_UTIL_H
#define NN_UTIL_H

#include "latflow/nn.h"

#include <math.h>
#include <string.h>

/* x[i] uniform in (-scale, scale) from stream (seed, TEST, tag). */
static inline void fill_random(double *x, size_t n, uint64_t seed, uint64_t tag, double scale) {
  lf_rng r;
  lf_rng_init(&r, seed, LF_RNG_TAG(LF_RNG_PURPOSE_TEST, tag), 0);
  for (size_t i = 0; i < n; i++) x[i] = scale * (2.0 * lf_rng_uniform(&r) - 1.0);
}

static inline void site_coords(int nd, const int *L, long s, int *x) {
  for (int mu = 0; mu < nd; mu++) {
    x[mu] = (int)(s % L[mu]);
    s /= L[mu];
  }
}

static inline long site_index(int nd, const int *L, const int *x) {
  long s = 0;
  for (int mu = nd - 1; mu >= 0; mu--) s = s * L[mu] + (((x[mu] % L[mu]) + L[mu]) % L[mu]);
  return s;
}

/* Straight from the definition in nn.h, no tables. */
static inline void naive_conv(int nd, const int *L, int k, int cin, int cout, int batch,
                              const double *w, const double *bias, const double *x, double *y) {
  long V = 1;
  int taps = 1;
  for (int mu = 0; mu < nd; mu++) {
    V *= L[mu];
    taps *= k;
  }
  for (int b = 0; b < batch; b++)
    for (int co = 0; co < cout; co++)
      for (long s = 0; s < V; s++) {
        int xs[4], xt[4];
        site_coords(nd, L, s, xs);
        double acc = bias ? bias[co] : 0.0;
        for (int ci = 0; ci < cin; ci++)
          for (int t = 0; t < taps; t++) {
            int q = t;
            for (int mu = 0; mu < nd; mu++) {
              xt[mu] = xs[mu] + q % k - k / 2;
              q /= k;
            }
            acc += w[((long)co * cin + ci) * taps + t] *
                   x[((long)b * cin + ci) * V + site_index(nd, L, xt)];
          }
        y[((long)b * cout + co) * V + s] = acc;
      }
}

/* y[b][c][s + shift] = x[b][c][s] */
static inline void shift_field(int nd, const int *L, int bc, const int *shift, const double *x,
                               double *y) {
  long V = 1;
  for (int mu = 0; mu < nd; mu++) V *= L[mu];
  for (int i = 0; i < bc; i++)
    for (long s = 0; s < V; s++) {
      int xs[4];
      site_coords(nd, L, s, xs);
      for (int mu = 0; mu < nd; mu++) xs[mu] += shift[mu];
      y[(long)i * V + site_index(nd, L, xs)] = x[(long)i * V + s];
    }
}

static inline double max_abs_diff(const double *a, const double *b, size_t n) {
  double m = 0.0;
  for (size_t i = 0; i < n; i++) m = fmax(m, fabs(a[i] - b[i]));
  return m;
}

static inline double max_abs(const double *a, size_t n) {
  double m = 0.0;
  for (size_t i = 0; i < n; i++) m = fmax(m, fabs(a[i]));
  return m;
}

#endif
