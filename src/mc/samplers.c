/*
 * samplers.c -- exact one-dimensional samplers for the heatbath.
 *
 * SU(2) (docs/heatbath.md): x0 with density sqrt(1 - x0^2) exp(alpha x0) on [-1, 1].
 *   - Kennedy-Pendleton, Phys. Lett. B 156 (1985) 393: delta = -(ln r1 + cos^2(2 pi r2)
 *     ln r3) / (2 alpha) is Gamma(3/2, 2 alpha) distributed; accept with probability
 *     sqrt(1 - delta) (r4^2 <= 1 - delta); x0 = 1 - 2 delta.
 *   - Creutz, Phys. Rev. D 21 (1980) 2308: x0 from exp(alpha x0) on [-1, 1] by inversion,
 *     accept with probability sqrt(1 - x0^2); used for small alpha where KP rejects often.
 * U(1): von Mises exp(kappa cos x), D. J. Best and N. I. Fisher, Appl. Statist. 28 (1979)
 *   152: wrapped-Cauchy envelope, acceptance >= 0.65 for every kappa.
 *
 * Thread contract: pure functions of the rng state passed in.
 */
#include <math.h>

#include "internal.h"

int lf_mc_sample_su2_x0(double alpha, lf_rng *r, long *trials, double *x0) {
  for (int t = 1; t <= LF_HB_MAX_TRIALS; t++) {
    if (alpha >= LF_KP_MIN_ALPHA) {
      double r1 = lf_rng_uniform(r), r2 = lf_rng_uniform(r), r3 = lf_rng_uniform(r);
      double r4 = lf_rng_uniform(r);
      double c = cos(LF_TWOPI * r2);
      double delta = -(log(r1) + c * c * log(r3)) / (2.0 * alpha);
      if (r4 * r4 <= 1.0 - delta) {
        *x0 = 1.0 - 2.0 * delta;
        *trials += t;
        return 1;
      }
    } else {
      double u = lf_rng_uniform(r), v = lf_rng_uniform(r);
      double x;
      if (alpha < 1e-8) {
        x = 2.0 * u - 1.0; /* exp(alpha x) = 1 to O(1e-8) */
      } else {
        double e = exp(-2.0 * alpha);
        x = 1.0 + log(u + (1.0 - u) * e) / alpha;
        if (x < -1.0) x = -1.0;
      }
      if (v * v <= 1.0 - x * x) {
        *x0 = x;
        *trials += t;
        return 1;
      }
    }
  }
  *trials += LF_HB_MAX_TRIALS;
  return 0;
}

int lf_mc_sample_vonmises(double kappa, lf_rng *r, long *trials, double *x) {
  if (kappa < 1e-8) { /* uniform to O(1e-8) */
    *x = LF_PI * (2.0 * lf_rng_uniform(r) - 1.0);
    *trials += 1;
    return 1;
  }
  const double tau = 1.0 + sqrt(1.0 + 4.0 * kappa * kappa);
  const double rho = (tau - sqrt(2.0 * tau)) / (2.0 * kappa);
  const double rr = (1.0 + rho * rho) / (2.0 * rho);
  for (int t = 1; t <= LF_HB_MAX_TRIALS; t++) {
    double u1 = lf_rng_uniform(r), u2 = lf_rng_uniform(r), u3 = lf_rng_uniform(r);
    double z = cos(LF_PI * u1);
    double fz = (1.0 + rr * z) / (rr + z);
    double c = kappa * (rr - fz);
    if (c * (2.0 - c) - u2 > 0 || log(c / u2) + 1.0 - c >= 0) {
      if (fz > 1.0) fz = 1.0;
      if (fz < -1.0) fz = -1.0;
      double a = acos(fz);
      *x = u3 > 0.5 ? a : -a;
      *trials += t;
      return 1;
    }
  }
  *trials += LF_HB_MAX_TRIALS;
  return 0;
}
