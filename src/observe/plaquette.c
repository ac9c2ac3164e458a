/*
 * plaquette.c -- average plaquette Re tr U_P / N, total and per plane.
 * Thread contract: lf_obs_reduce (fixed chunk partition, sums in chunk order):
 * independent of the thread count.
 */
#include "internal.h"

static void plaq_site(const void *ctx, long s, double *acc, void *scratch) {
  (void)scratch;
  const lf_gauge *f = ctx;
  const int nd = f->lat->nd, n = f->n;
  lf_cplx P[9];
  int p = 0;
  for (int mu = 0; mu < nd; mu++)
    for (int nu = mu + 1; nu < nd; nu++, p++) {
      lf_gauge_plaquette(f, s, mu, nu, P);
      acc[p] += creal(lf_mat_trace(n, P));
    }
}

void lf_observe_plaquette_planes(const lf_gauge *f, double *out) {
  const int np = lf_lattice_nplanes(f->lat);
  if (lf_obs_reduce(f->lat->vol, np, plaq_site, f, 0, out)) {
    for (int p = 0; p < np; p++) out[p] = 0.0 / 0.0;
    return;
  }
  for (int p = 0; p < np; p++) out[p] /= (double)f->lat->vol * (double)f->n;
}

double lf_observe_plaquette(const lf_gauge *f) {
  double pp[LF_MAXPLANES], sum = 0;
  int np = lf_lattice_nplanes(f->lat);
  lf_observe_plaquette_planes(f, pp);
  for (int p = 0; p < np; p++) sum += pp[p];
  return sum / np;
}
