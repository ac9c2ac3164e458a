/*
 * wflow.c -- distributed Wilson flow and its measurements (plaquette, energy densities,
 * clover or 2D geometric charge), bitwise the serial lf_observe_wflow_measure for the field.
 *
 * Math: Lüscher, JHEP 08 (2010) 071 [1006.4518]: dV/dt = Z(V) V with Z = -F of the Wilson
 * action at beta = 2N, third-order Runge-Kutta (appendix C), as src/observe/wflow.c. Each
 * RK stage refreshes the halo (the force of an own link reads its staples) and then runs the
 * same per-link update as the serial stage on own links, so the flowed field is the serial
 * one. Sums (plaquette, E_clov, Q) are exact lf_xsum sums of the serial per-site densities
 * (lf_observe_clover_density, whose clover leaves need the halo corners: width 1).
 *
 * MPI contract: lf_dist_wflow_measure is collective. Threads: OpenMP over links/sites.
 */
#include <math.h>
#include <string.h>

#include "internal.h"

/* X <- a X - b F(W); U <- exp(c X) U on own links (the serial rk_stage of observe/wflow.c). */
static int stage(const lf_dist *d, lf_gauge *f, lf_wflow_ws *ws, double a, double b, double c) {
  LF_CHECK(lf_dist_halo(d, f, -1));
  int prof = lf_prof_begin("wflow", LF_PROF_COMPUTE);
  int rc = lf_observe_wflow_stage(f, ws, a, b, c);
  lf_prof_end(prof);
  return rc;
}

static int flow_step(const lf_dist *d, lf_gauge *f, double eps, lf_wflow_ws *ws) {
  LF_CHECK(stage(d, f, ws, 0.0, eps, 0.25));
  LF_CHECK(stage(d, f, ws, -17.0 / 36.0, 8.0 / 9.0 * eps, 1.0));
  LF_CHECK(stage(d, f, ws, -1.0, 0.75 * eps, 1.0));
  return LF_OK;
}

static int point(const lf_dist *d, lf_gauge *f, double t, double *dens, lf_wflow_point *out) {
  const long vol = f->lat->vol;
  const int nd = d->nd, np = nd * (nd - 1) / 2;
  double p;
  LF_CHECK(lf_dist_plaquette(d, f, &p)); /* also refreshes the halo */
  int prof = lf_prof_begin("wflow", LF_PROF_COMPUTE);
  int rc = lf_observe_clover_density(f, dens, nd == 4 ? dens + vol : NULL);
  lf_xsum acc[2];
  lf_xsum_zero(&acc[0]);
  lf_xsum_zero(&acc[1]);
  for (long s = 0; s < vol && !rc; s++) {
    lf_xsum_add(&acc[0], dens[s]);
    if (nd == 4) lf_xsum_add(&acc[1], dens[vol + s]);
  }
  lf_prof_end(prof);
  rc = lf_dist_agree(d, rc);
  if (!rc) rc = lf_dist_xsum_allreduce(d, acc, 2);
  if (rc) return rc;
  if (!isfinite(p)) return LF_ERROR(LF_ENAN, "Wilson flow: plaquette is %g at flow time %g", p, t);
  out->t = t;
  out->plaq = p;
  out->E_plaq = 2.0 * (double)np * (double)f->n * (1.0 - p);
  out->E_clov = lf_xsum_value(&acc[0]) / (double)d->gvol;
  out->t2E_plaq = t * t * out->E_plaq;
  out->t2E_clov = t * t * out->E_clov;
  out->Q = lf_xsum_value(&acc[1]);
  if (nd == 2 && f->group == LF_U1) LF_CHECK(lf_dist_topo_u1(d, f, &out->Q));
  return LF_OK;
}

int lf_dist_wflow_measure(const lf_dist *d, lf_gauge *f, const double *ts, int nt, double eps, lf_wflow_ws *ws,
                          lf_wflow_point *out) {
  if (f->lat != &d->lat) return LF_ERROR(LF_ESTATE, "Wilson flow: the field is not on this decomposition");
  if (!(eps > 0.0) || !isfinite(eps))
    return LF_ERROR(LF_EINVAL, "Wilson flow step eps = %g; use a finite eps > 0 (0.01..0.02 is typical)", eps);
  if (ws->nlinks != f->nlinks || ws->n != f->n || !ws->z)
    return LF_ERROR(LF_ESTATE, "Wilson flow workspace was made for another field; call lf_observe_wflow_init for this one");
  for (int i = 0; i < nt; i++)
    if (!(ts[i] >= (i ? ts[i - 1] : 0.0)) || !isfinite(ts[i]))
      return LF_ERROR(LF_EINVAL, "Wilson flow measurement times must be finite, >= 0 and increasing; ts[%d] = %g", i, ts[i]);
  const long vol = f->lat->vol;
  double *dens = lf_alloc(sizeof(double) * (size_t)(2 * vol));
  int rc = lf_dist_agree(d, dens ? LF_OK : LF_ERROR(LF_ENOMEM, "Wilson flow: no memory for %ld densities", 2 * vol));
  double t = 0.0;
  for (int i = 0; i < nt && !rc; i++) {
    /* the step sizes of lf_observe_wflow: ceil(dt / eps) equal steps landing on ts[i] */
    const double dt = ts[i] - t;
    if (dt > 0) {
      long nstep = (long)ceil(dt / eps - 1e-9);
      if (nstep < 1) nstep = 1;
      const double h = dt / (double)nstep;
      for (long k = 0; k < nstep && !rc; k++) rc = flow_step(d, f, h, ws);
    }
    t = ts[i];
    if (!rc) rc = point(d, f, t, dens, out + i);
  }
  lf_free(dens);
  return rc;
}
