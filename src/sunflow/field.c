/*
 * field.c -- SU(N) fields of a sunflow model: Haar prior, plaquettes and staples with
 * their reverse-mode derivatives, Wilson action + gradient, plaquette, gauge transforms.
 *
 * Conventions: docs/conventions.md (P_{mu nu}(x) = U_mu(x) U_nu(x+mu) U_mu(x+nu)^dag
 * U_nu(x)^dag, S = -(beta/N) sum_P Re tr U_P). Gradients: G = dL/dRe U + i dL/dIm U, so for
 * P = A B C^dag D^dag and G_P = dL/dP:
 *     dL/dA = G_P D C B^dag,  dL/dB = A^dag G_P D C,  dL/dC = D^dag G_P^dag A B,
 *     dL/dD = G_P^dag A B C^dag
 * (docs/sunflow.md "gradients"). The Wilson action has G_P = -(beta/N) 1 on every plaquette.
 * Thread contract: the prior is OpenMP over samples, each link from the Philox stream
 * (seed, tag, sample * V + site); everything else is serial on one configuration.
 */
#include <math.h>
#include <string.h>

#include "internal.h"
#include "kernels.h"

void lf_sunflow_prior_sample(const lf_sunflow_model *m, uint64_t seed, uint64_t tag, long first,
                             int n, lf_cplx *z) {
  const long V = m->V;
#pragma omp parallel for schedule(static)
  for (int b = 0; b < n; b++) {
    lf_cplx *zb = z + (size_t)b * m->fs;
    for (long s = 0; s < V; s++) {
      lf_rng r;
      lf_rng_init(&r, seed, tag, (uint64_t)(first + b) * (uint64_t)V + (uint64_t)s);
      for (int mu = 0; mu < m->nd; mu++)
        lf_group_haar(m->cfg.group, lf_sunflow_link(m, zb, s, mu), &r);
    }
  }
}

void lf_sunflow_plaq(const lf_sunflow_model *m, const lf_cplx *u, long s, int mu, int nu,
                     lf_cplx *p) {
  lf_cplx st[9];
  lf_sunflow_staple(m, u, s, mu, nu, st);
  lf_sf_mul_dag(m->N, p, lf_sunflow_clink(m, u, s, mu), st);
}

void lf_sunflow_staple(const lf_sunflow_model *m, const lf_cplx *u, long s, int mu, int nu,
                       lf_cplx *st) {
  const int N = m->N, nd = m->nd;
  const long smu = m->lat.up[s * nd + mu], snu = m->lat.up[s * nd + nu];
  lf_cplx t[9];
  lf_sf_mul(N, t, lf_sunflow_clink(m, u, s, nu), lf_sunflow_clink(m, u, snu, mu));
  lf_sf_mul_dag(N, st, t, lf_sunflow_clink(m, u, smu, nu));
}

void lf_sunflow_staple_backward(const lf_sunflow_model *m, const lf_cplx *u, long s, int mu,
                                int nu, const lf_cplx *gs, lf_cplx *g) {
  /* S = A B C^dag: dL/dA = G C B^dag, dL/dB = A^dag G C, dL/dC = G^dag A B */
  const int N = m->N, nd = m->nd;
  const long smu = m->lat.up[s * nd + mu], snu = m->lat.up[s * nd + nu];
  const lf_cplx *A = lf_sunflow_clink(m, u, s, nu), *B = lf_sunflow_clink(m, u, snu, mu),
                *C = lf_sunflow_clink(m, u, smu, nu);
  lf_cplx t[9];
  lf_sf_mul(N, t, gs, C);
  lf_sf_mul_dag_add(N, lf_sunflow_link(m, g, s, nu), t, B);
  lf_sf_dag_mul_add(N, lf_sunflow_link(m, g, snu, mu), A, t);
  lf_sf_mul(N, t, A, B);
  lf_sf_dag_mul_add(N, lf_sunflow_link(m, g, smu, nu), gs, t);
}

void lf_sunflow_plaq_backward(const lf_sunflow_model *m, const lf_cplx *u, long s, int mu, int nu,
                              const lf_cplx *gp, lf_cplx *g) {
  /* P = U S^dag: dL/dU = G_P S, dL/dS = G_P^dag U */
  const int N = m->N;
  lf_cplx st[9], r[9];
  lf_sunflow_staple(m, u, s, mu, nu, st);
  lf_sf_mul_add(N, lf_sunflow_link(m, g, s, mu), gp, st);
  lf_sf_dag_mul(N, r, gp, lf_sunflow_clink(m, u, s, mu));
  lf_sunflow_staple_backward(m, u, s, mu, nu, r, g);
}

void lf_sunflow_plaq_backward_scalar(const lf_sunflow_model *m, const lf_cplx *u, long s, int mu,
                                     int nu, lf_cplx c, lf_cplx *g) {
  /* G_P = c 1: dL/dU = c S, dL/dS = conj(c) U (no matrix products) */
  const int N2 = m->N2;
  const lf_cplx *U = lf_sunflow_clink(m, u, s, mu);
  lf_cplx st[9], r[9], *gU = lf_sunflow_link(m, g, s, mu);
  lf_sunflow_staple(m, u, s, mu, nu, st);
  for (int i = 0; i < N2; i++) gU[i] += c * st[i], r[i] = conj(c) * U[i];
  lf_sunflow_staple_backward(m, u, s, mu, nu, r, g);
}

double lf_sunflow_action(const lf_sunflow_model *m, double beta, const lf_cplx *u, lf_cplx *grad) {
  const int N = m->N;
  const double c = -beta / N;
  if (grad) memset(grad, 0, m->fs * sizeof(lf_cplx));
  double S = 0;
  for (long s = 0; s < m->V; s++)
    for (int pl = 0; pl < m->nplanes; pl++) {
      lf_cplx p[9];
      int mu = m->plane_mu[pl], nu = m->plane_nu[pl];
      lf_sunflow_plaq(m, u, s, mu, nu, p);
      S += c * creal(lf_mat_trace(N, p));
      if (grad) lf_sunflow_plaq_backward_scalar(m, u, s, mu, nu, c, grad);
    }
  return S;
}

double lf_sunflow_plaquette(const lf_sunflow_model *m, const lf_cplx *u) {
  double acc = 0;
  for (long s = 0; s < m->V; s++)
    for (int pl = 0; pl < m->nplanes; pl++) {
      lf_cplx p[9];
      lf_sunflow_plaq(m, u, s, m->plane_mu[pl], m->plane_nu[pl], p);
      acc += creal(lf_mat_trace(m->N, p));
    }
  return acc / ((double)m->N * (double)m->V * m->nplanes);
}

void lf_sunflow_gauge_transform(const lf_sunflow_model *m, const lf_cplx *g, lf_cplx *u) {
  const int N = m->N, N2 = m->N2, nd = m->nd;
  for (long s = 0; s < m->V; s++)
    for (int mu = 0; mu < nd; mu++) {
      lf_cplx t[9], *U = lf_sunflow_link(m, u, s, mu);
      lf_mat_mul(N, t, g + (size_t)s * (size_t)N2, U);
      lf_mat_mul_dag(N, U, t, g + (size_t)m->lat.up[s * nd + mu] * (size_t)N2);
    }
}
