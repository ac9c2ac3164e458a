/*
 * wflow.c -- Wilson (gradient) flow dV/dt = Z(V) V with Lüscher's third-order
 * Runge-Kutta integrator, measurements of E(t), t^2 E(t), Q(t) along the flow, and the
 * scale t0 from t^2 E(t0) = 0.3.
 *
 * Math: M. Lüscher, "Properties and uses of the Wilson flow in lattice QCD", JHEP 08 (2010)
 * 071 [arXiv:1006.4518]: sec. 1-2 (flow equation), appendix C (integrator), sec. 3 and
 * sec. 3.3 (E and t0). Z = -g0^2 dS_W with S_W at beta = 2N/g0^2; with latflow's force
 * convention (action.h) this is Z = -F(V) for the Wilson action at beta = 2N (g0 = 1);
 * derivation in docs/observables.md, checked by tests/observe/wflow.c.
 *
 * The integrator keeps one accumulator X (2N-storage form of the scheme):
 *     X = Z0,                      W1 = exp(X/4) W0
 *     X = 8/9 Z1 - 17/36 X,        W2 = exp(X) W1
 *     X = 3/4 Z2 - X,              W3 = exp(X) W2 = V(t + eps)
 * with Z_i = eps Z(W_i).
 * Thread contract: the force (action module) and the link updates are OpenMP-parallel over
 * links with no reductions; measurements use the deterministic sums of lf_obs_reduce.
 */
#include <math.h>
#include <string.h>

#include "internal.h"

int lf_observe_wflow_init(lf_wflow_ws *ws, const lf_gauge *f) {
  memset(ws, 0, sizeof *ws);
  size_t bytes = sizeof(lf_cplx) * f->nlinks * lf_gauge_linksize(f);
  ws->z = lf_alloc(bytes);
  ws->force = lf_alloc(bytes);
  if (!ws->z || !ws->force) {
    lf_observe_wflow_clear(ws);
    return LF_ERROR(LF_ENOMEM, "Wilson flow: no memory for the workspace (2 x %zu bytes)",
                    bytes);
  }
  ws->nlinks = f->nlinks;
  ws->n = f->n;
  int rc = lf_action_init(&ws->act, LF_ACTION_WILSON, 2.0 * (double)f->n, f->lat->nd);
  if (rc) lf_observe_wflow_clear(ws);
  return rc;
}

void lf_observe_wflow_clear(lf_wflow_ws *ws) {
  lf_free(ws->z);
  lf_free(ws->force);
  memset(ws, 0, sizeof *ws);
}

/* X <- a X + b eps Z(W) = a X - b eps F(W); then U <- exp(c X) U for every link. */
int lf_observe_wflow_stage(lf_gauge *f, lf_wflow_ws *ws, double a, double b, double c) {
  LF_CHECK(lf_action_force(&ws->act, f, ws->force));
  const int n = f->n;
  const size_t ls = lf_gauge_linksize(f);
  const long nl = (long)f->nlinks;
  const lf_group g = f->group;
#pragma omp parallel for schedule(static)
  for (long l = 0; l < nl; l++) {
    lf_cplx *x = ws->z + (size_t)l * ls, *fr = ws->force + (size_t)l * ls;
    lf_cplx y[9], e[9], t[9];
    for (size_t i = 0; i < ls; i++) {
      x[i] = a * x[i] - b * fr[i];
      y[i] = c * x[i];
    }
    lf_alg_exp(g, e, y);
    lf_cplx *u = f->u + (size_t)l * ls;
    lf_mat_mul(n, t, e, u);
    lf_mat_copy(n, u, t);
  }
  return LF_OK;
}

int lf_observe_wflow_step(lf_gauge *f, double eps, lf_wflow_ws *ws) {
  if (!(eps > 0.0) || !isfinite(eps))
    return LF_ERROR(LF_EINVAL, "Wilson flow step eps = %g; use a finite eps > 0 (0.01..0.02 "
                    "is typical)", eps);
  if (ws->nlinks != f->nlinks || ws->n != f->n || !ws->z)
    return LF_ERROR(LF_ESTATE, "Wilson flow workspace was made for another field; call "
                    "lf_observe_wflow_init for this one");
  LF_CHECK(lf_observe_wflow_stage(f, ws, 0.0, eps, 0.25));                       /* X = Z0        */
  LF_CHECK(lf_observe_wflow_stage(f, ws, -17.0 / 36.0, 8.0 / 9.0 * eps, 1.0));   /* 8/9 Z1 - 17/36 Z0 */
  LF_CHECK(lf_observe_wflow_stage(f, ws, -1.0, 0.75 * eps, 1.0));                /* 3/4 Z2 - X    */
  return LF_OK;
}

int lf_observe_wflow(lf_gauge *f, double t, double eps, lf_wflow_ws *ws) {
  if (!(t >= 0.0) || !isfinite(t))
    return LF_ERROR(LF_EINVAL, "Wilson flow to time %g; use a finite t >= 0", t);
  if (!(eps > 0.0) || !isfinite(eps))
    return LF_ERROR(LF_EINVAL, "Wilson flow step eps = %g; use a finite eps > 0", eps);
  if (t == 0.0) return LF_OK;
  long nstep = (long)ceil(t / eps - 1e-9);
  if (nstep < 1) nstep = 1;
  double h = t / (double)nstep;
  for (long k = 0; k < nstep; k++) LF_CHECK(lf_observe_wflow_step(f, h, ws));
  return LF_OK;
}

int lf_observe_wflow_point(const lf_gauge *f, double t, lf_wflow_point *out) {
  double cs[2];
  LF_CHECK(lf_obs_clover_sums(f, cs));
  double p = lf_observe_plaquette(f);
  if (!isfinite(p)) return LF_ERROR(LF_ENAN, "Wilson flow: plaquette is %g", p);
  const int np = lf_lattice_nplanes(f->lat);
  out->t = t;
  out->plaq = p;
  out->E_plaq = 2.0 * (double)np * (double)f->n * (1.0 - p);
  out->E_clov = cs[0] / (double)f->lat->vol;
  out->t2E_plaq = t * t * out->E_plaq;
  out->t2E_clov = t * t * out->E_clov;
  out->Q = cs[1];
  if (f->lat->nd == 2 && f->group == LF_U1) LF_CHECK(lf_observe_topo_u1(f, &out->Q));
  return LF_OK;
}

int lf_observe_wflow_measure(lf_gauge *f, const double *ts, int nt, double eps,
                             lf_wflow_ws *ws, lf_wflow_point *out) {
  double t = 0.0;
  for (int i = 0; i < nt; i++) {
    if (!(ts[i] >= t) || !isfinite(ts[i]))
      return LF_ERROR(LF_EINVAL, "Wilson flow measurement times must be finite, >= 0 and "
                      "increasing; ts[%d] = %g after %g", i, ts[i], t);
    LF_CHECK(lf_observe_wflow(f, ts[i] - t, eps, ws));
    t = ts[i];
    LF_CHECK(lf_observe_wflow_point(f, t, out + i));
  }
  return LF_OK;
}

int lf_observe_wflow_scale_table(const double *t, const double *y, int np, double target,
                                 double *t0) {
  for (int i = 1; i < np; i++)
    if (y[i - 1] < target && y[i] >= target) {
      *t0 = t[i - 1] + (target - y[i - 1]) * (t[i] - t[i - 1]) / (y[i] - y[i - 1]);
      return LF_OK;
    }
  return LF_ERROR(LF_ERANGE, "t^2 E(t) never crosses %g in the %d measured flow times; flow "
                  "to larger t (or the lattice is too coarse/small for this scale)", target, np);
}

int lf_observe_wflow_scale(const lf_wflow_point *p, int np, double target, int clover,
                           double *t0) {
  if (np < 2)
    return LF_ERROR(LF_EINVAL, "t0 needs at least 2 measured flow times (got %d)", np);
  double *buf = lf_alloc(sizeof(double) * 2 * (size_t)np);
  if (!buf) return LF_ERROR(LF_ENOMEM, "t0: no memory for %d points", np);
  for (int i = 0; i < np; i++) {
    buf[i] = p[i].t;
    buf[np + i] = clover ? p[i].t2E_clov : p[i].t2E_plaq;
  }
  int rc = lf_observe_wflow_scale_table(buf, buf + np, np, target, t0);
  lf_free(buf);
  if (rc) lf_error_context(rc, "%s definition of E", clover ? "clover" : "plaquette");
  return rc;
}
