/*
 * plaquette.c -- average plaquette Re tr U_P / N, total and per plane.
 * Thread contract: per-site partial sums, added in site order (thread-count independent).
 */
#include "latflow/observe.h"

void lf_observe_plaquette_planes(const lf_gauge *f, double *out) {
  const lf_lattice *lat = f->lat;
  const int nd = lat->nd, np = lf_lattice_nplanes(lat), n = f->n;
  double *part = lf_alloc(sizeof(double) * (size_t)lat->vol * (size_t)np);
  if (!part) {
    for (int p = 0; p < np; p++) out[p] = 0.0 / 0.0;
    return;
  }
#pragma omp parallel for schedule(static)
  for (long s = 0; s < lat->vol; s++) {
    lf_cplx P[9];
    int p = 0;
    for (int mu = 0; mu < nd; mu++)
      for (int nu = mu + 1; nu < nd; nu++, p++) {
        lf_gauge_plaquette(f, s, mu, nu, P);
        part[s * np + p] = creal(lf_mat_trace(n, P));
      }
  }
  for (int p = 0; p < np; p++) out[p] = 0;
  for (long s = 0; s < lat->vol; s++)
    for (int p = 0; p < np; p++) out[p] += part[s * np + p];
  for (int p = 0; p < np; p++) out[p] /= (double)lat->vol * (double)n;
  lf_free(part);
}

double lf_observe_plaquette(const lf_gauge *f) {
  double pp[LF_MAXPLANES], sum = 0;
  int np = lf_lattice_nplanes(f->lat);
  lf_observe_plaquette_planes(f, pp);
  for (int p = 0; p < np; p++) sum += pp[p];
  return sum / np;
}
