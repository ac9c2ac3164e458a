/*
 * physics.c -- 2D U(1) on link angles: uniform prior, Wilson action and its gradient,
 * plaquette, geometric topological charge, gauge transformations, and converters to
 * and from lf_gauge (docs/flows.md "representation").
 *
 * S = -beta sum_s cos P(s),  P(s) = th0(s) + th1(s+x) - th0(s+y) - th1(s)
 * dS/dP = beta sin P, scattered to the four links with signs (+, +, -, -).
 * Q = (1/2pi) sum_s arg exp(i P(s)), arg in (-pi, pi] (Kanwar et al. eq. 8).
 * Thread contract: prior sampling is keyed by (seed, tag, sample); the rest are serial
 * single-configuration functions (the callers parallelise over samples).
 */
#include <math.h>

#include "internal.h"

double lf_flow_prior_logp(const lf_flow_model *m) {
  return -2.0 * (double)m->V * log(LF_TWOPI);
}

double lf_flow_prior_sample(const lf_flow_model *m, uint64_t seed, uint64_t tag, long first,
                            int n, double *z) {
  const size_t V2 = 2 * (size_t)m->V;
#pragma omp parallel for schedule(static)
  for (int b = 0; b < n; b++) {
    lf_rng r;
    lf_rng_init(&r, seed, tag, (uint64_t)(first + b));
    double *zb = z + (size_t)b * V2;
    for (size_t i = 0; i < V2; i++) zb[i] = LF_TWOPI * lf_rng_uniform(&r) - LF_PI;
  }
  return lf_flow_prior_logp(m);
}

double lf_flow_action(const lf_flow_model *m, double beta, const double *theta, double *grad) {
  const long V = m->V;
  const double *t0 = theta, *t1 = theta + V;
  double S = 0;
  if (grad)
    for (long i = 0; i < 2 * V; i++) grad[i] = 0;
  for (long s = 0; s < V; s++) {
    double P = t0[s] + t1[m->up0[s]] - t0[m->up1[s]] - t1[s];
    S -= beta * cos(P);
    if (grad) {
      double g = beta * sin(P);
      grad[s] += g;
      grad[V + m->up0[s]] += g;
      grad[m->up1[s]] -= g;
      grad[V + s] -= g;
    }
  }
  return S;
}

double lf_flow_plaquette(const lf_flow_model *m, const double *theta) {
  const long V = m->V;
  const double *t0 = theta, *t1 = theta + V;
  double acc = 0;
  for (long s = 0; s < V; s++) acc += cos(t0[s] + t1[m->up0[s]] - t0[m->up1[s]] - t1[s]);
  return acc / (double)V;
}

double lf_flow_topo_charge(const lf_flow_model *m, const double *theta) {
  const long V = m->V;
  const double *t0 = theta, *t1 = theta + V;
  double acc = 0;
  for (long s = 0; s < V; s++)
    acc += lf_flow_wrap(t0[s] + t1[m->up0[s]] - t0[m->up1[s]] - t1[s]);
  return acc / LF_TWOPI;
}

void lf_flow_gauge_transform(const lf_flow_model *m, const double *alpha, double *theta) {
  const long V = m->V;
  for (long s = 0; s < V; s++) {
    theta[s] += alpha[s] - alpha[m->up0[s]];
    theta[V + s] += alpha[s] - alpha[m->up1[s]];
  }
}

static int same_geometry(const lf_flow_model *m, const lf_gauge *f) {
  if (f->group != LF_U1 || f->lat->nd != 2 || f->lat->L[0] != m->L0 || f->lat->L[1] != m->L1)
    return LF_ERROR(LF_EINVAL, "gauge field (group %d, %dD, %dx%d) does not match the %dx%d "
                               "U(1) flow model; use a 2D U(1) field of the model's size",
                    (int)f->group, f->lat->nd, f->lat->L[0], f->lat->nd > 1 ? f->lat->L[1] : 1,
                    m->L0, m->L1);
  return LF_OK;
}

int lf_flow_to_gauge(const lf_flow_model *m, const double *theta, lf_gauge *f) {
  LF_CHECK(same_geometry(m, f));
  const long V = m->V;
  for (long s = 0; s < V; s++)
    for (int mu = 0; mu < 2; mu++) {
      double a = lf_flow_wrap(theta[(long)mu * V + s]);
      *lf_gauge_link(f, s, mu) = cos(a) + LF_I * sin(a);
    }
  return LF_OK;
}

int lf_flow_from_gauge(const lf_flow_model *m, const lf_gauge *f, double *theta) {
  LF_CHECK(same_geometry(m, f));
  const long V = m->V;
  for (long s = 0; s < V; s++)
    for (int mu = 0; mu < 2; mu++) theta[(long)mu * V + s] = carg(*lf_gauge_link(f, s, mu));
  return LF_OK;
}
