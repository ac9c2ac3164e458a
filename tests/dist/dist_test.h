/* tests/dist/dist_test.h -- helpers shared by the dist tests: cross-rank agreement of
 * checks (rank 0 reports what every rank found), grid lists per rank count. */
#ifndef LF_DIST_TEST_H
#define LF_DIST_TEST_H

#include <stdio.h>
#include <string.h>

#include "latflow/dist.h"
#include "lf_test.h"

/* 1 if ok on every rank. */
static inline int all_ranks(int ok) {
  double v = ok ? 1.0 : 0.0;
  lf_par_allreduce_min(&v, 1);
  return v == 1.0;
}

/* The bits of x are the same on every rank. */
static inline int same_on_ranks(double x) {
  double lo = x, hi = x;
  lf_par_allreduce_min(&lo, 1);
  lf_par_allreduce_max(&hi, 1);
  return !memcmp(&lo, &x, sizeof x) && !memcmp(&hi, &x, sizeof x);
}

static inline void dist_test_start(int *argc, char ***argv) {
  if (lf_par_init(argc, argv)) {
    printf("FAIL init: %s\n", lf_last_error());
    exit(1);
  }
  if (lf_par_rank() != 0 && !freopen("/dev/null", "w", stdout)) exit(1); /* rank 0 reports */
  printf("backend: %s, %d rank(s)\n", lf_par_backend(), lf_par_size());
}

static inline int dist_test_done(void) {
  double f = lf_test_done();
  lf_par_allreduce_max(&f, 1);
  lf_par_finalize();
  return f > 0;
}

/* Does grid text (e.g. "1x2x1x2") fit the number of running ranks? */
static inline int grid_fits(const char *text, int nd) {
  int P[LF_MAXDIM];
  if (lf_dist_grid_parse(text, nd, P)) {
    lf_error_clear();
    return 0;
  }
  int prod = 1;
  for (int mu = 0; mu < nd; mu++) prod *= P[mu];
  return prod == lf_par_size();
}

#endif
