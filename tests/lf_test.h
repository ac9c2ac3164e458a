/*
 * lf_test.h -- minimal test harness: every check prints what it compared, the
 * deviation and the tolerance; the program exits non-zero if any check failed.
 *
 *     LF_TEST_REL("plaquette", got, exact, 1e-12);
 *     LF_TEST_SIGMA("plaquette vs exact", mean, err, exact, 4.0);
 *     return lf_test_done();
 */
#ifndef LF_TEST_H
#define LF_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int lf_test_fails, lf_test_count;

static inline void lf_test_report(int ok, const char *what, const char *file, int line,
                                  const char *fmt, double a, double b, double c) {
  lf_test_count++;
  if (!ok) lf_test_fails++;
  printf("%s %s: ", ok ? "ok  " : "FAIL", what);
  printf(fmt, a, b, c);
  if (!ok) printf("   (%s:%d)", file, line);
  printf("\n");
  fflush(stdout);
}

/* |got - want| <= tol * max(1, |want|) */
#define LF_TEST_REL(what, got, want, tol)                                                 \
  do {                                                                                   \
    double g_ = (got), w_ = (want), t_ = (tol);                                          \
    double d_ = fabs(g_ - w_) / (fabs(w_) > 1 ? fabs(w_) : 1.0);                         \
    lf_test_report(d_ <= t_, what, __FILE__, __LINE__, "got %.15g want %.15g rel.dev %.3g", g_, \
                   w_, d_);                                                              \
    if (!(d_ <= t_)) printf("     tolerance %.3g\n", t_);                                \
  } while (0)

/* |got - want| <= tol (absolute) */
#define LF_TEST_ABS(what, got, want, tol)                                                 \
  do {                                                                                   \
    double g_ = (got), w_ = (want), t_ = (tol);                                          \
    double d_ = fabs(g_ - w_);                                                           \
    lf_test_report(d_ <= t_, what, __FILE__, __LINE__, "got %.15g want %.15g |dev| %.3g", g_, w_, \
                   d_);                                                                  \
    if (!(d_ <= t_)) printf("     tolerance %.3g\n", t_);                                \
  } while (0)

/* statistical: |mean - exact| <= nsig * err */
#define LF_TEST_SIGMA(what, mean, err, exact, nsig)                                       \
  do {                                                                                   \
    double m_ = (mean), e_ = (err), x_ = (exact), n_ = (nsig);                           \
    double z_ = fabs(m_ - x_) / e_;                                                      \
    lf_test_report(e_ > 0 && z_ <= n_, what, __FILE__, __LINE__,                         \
                   "%.8g +- %.2g vs exact %.10g", m_, e_, x_);                           \
    printf("     deviation %.2f sigma (limit %.1f)\n", z_, n_);                          \
  } while (0)

static inline void lf_test_check(int ok, const char *what, const char *file, int line) {
  lf_test_count++;
  if (!ok) lf_test_fails++;
  printf("%s %s", ok ? "ok  " : "FAIL", what);
  if (!ok) printf("   (%s:%d)", file, line);
  printf("\n");
  fflush(stdout);
}
#define LF_TEST_TRUE(what, cond) lf_test_check(!!(cond), what, __FILE__, __LINE__)

static inline int lf_test_done(void) {
  printf("%d checks, %d failed\n", lf_test_count, lf_test_fails);
  return lf_test_fails ? 1 : 0;
}

#endif
