/*
 * coupling.c -- spectral coupling layer with plaquette active loops over a batch of SU(N)
 * fields (N = 2, 3; d = 2, 4).
 *
 * Math (docs/sunflow.md; Boyda et al. 2008.05456 sec. IV-V): layer (mu, nu, off) updates
 * the active links U = U_mu(x), x_nu = off (mod P). Active loop W = P_{mu nu}(x) = U S^dag
 * with the staple S = U_nu(x) U_mu(x+nu) U_nu(x+mu)^dag, which holds no active link.
 * W = V e^{i theta} V^dag (lf_spec_eig), theta' = class transform (angles.c) with
 * parameters from the context network at x, W' = V e^{i theta'} V^dag, U' = W' S
 * (= W' W^dag U). Context: Re/Im tr P/N of every plaquette that holds no active link
 * ("frozen"), 0 elsewhere, 2 channels per plane, through an lf_nn_convnet. The context and
 * S are unchanged by the layer and gauge covariant (W -> g W g^dag, W' likewise), so the
 * layer is gauge equivariant, and its Jacobian is block triangular with
 *     log|det J| = sum_active [Haar log-Jacobian of W -> W'] (angles.c),
 * since U -> U' = W' S is W -> W' followed by a right translation (Haar invariant).
 * Backward: U' = W' S gives dL/dW' = G S^dag, dL/dS += W'^dag G; the spectral map VJP
 * (lf_spec_map_vjp_angles, lf_sunflow_angles_backward, lf_spec_divdiff, lf_spec_map_vjp)
 * gives dL/dW (tangent); W = U S^dag gives dL/dU = G_W S, dL/dS += G_W^dag U; staples and
 * frozen plaquettes scatter to their links (field.c).
 * Learned active loops (cfg.lal, lal.c): S is replaced by Shat = P_SU(N)(S_act), S_act the
 * output of the layer's staple network on the frozen links; everything above holds with
 * S -> Shat (Shat is SU(N) and unchanged by the layer), and dL/dShat goes through
 * lf_spec_polar_vjp and the staple net's reverse mode (weight gradients per sample, summed
 * in sample order).
 * Path gradient (lf_sunflow_coupling_logq_vjp): the log-det gradient and the inverse-layer
 * VJP of a layer fused into one pass (both linear in their cotangents; docs/sunflow.md
 * "Training"). The staple-net activations of a layer's recorded input are kept in the
 * batch workspace and reused by every pass of that layer (lal_cache_get/set).
 * Thread contract: per-sample OpenMP static loops writing disjoint data around one
 * batched, thread-count independent nn call per layer.
 */
#include <math.h>
#include <string.h>

#include "internal.h"

/* Features of one sample: f[2 pl][s] = Re tr P_pl(s)/N, f[2 pl + 1][s] = Im tr P_pl(s)/N on
 * frozen plaquettes, 0 elsewhere. */
static void features(const lf_sunflow_model *m, const lf_sunflow_layer *ly, const lf_cplx *u,
                     double *f) {
  const long V = m->V;
  for (int pl = 0; pl < m->nplanes; pl++) {
    double *fr = f + (size_t)(2 * pl) * (size_t)V, *fi = fr + V;
    const double *fz = ly->frozen + (size_t)pl * (size_t)V;
    for (long s = 0; s < V; s++) {
      if (fz[s] != 0) {
        lf_cplx p[9];
        lf_sunflow_plaq(m, u, s, m->plane_mu[pl], m->plane_nu[pl], p);
        lf_cplx tr = lf_mat_trace(m->N, p) / m->N;
        fr[s] = creal(tr), fi[s] = cimag(tr);
      } else {
        fr[s] = fi[s] = 0;
      }
    }
  }
}

/* Save the layer input, compute features and run the network on samples 0..n-1. */
static int context(const lf_sunflow_model *m, lf_sunflow_batch *wb, int l, int n,
                   const lf_cplx *x, int save) {
  const lf_sunflow_layer *ly = &m->layers[l];
  const size_t V = (size_t)m->V, B = (size_t)wb->batch, ch0 = (size_t)m->ch0;
  lf_cplx *in = wb->in + (size_t)l * B * m->fs;
  double *feat = wb->feat + (size_t)l * B * ch0 * V;
#pragma omp parallel for schedule(static)
  for (int b = 0; b < n; b++) {
    memcpy(in + (size_t)b * m->fs, x + (size_t)b * m->fs, m->fs * sizeof(lf_cplx));
    features(m, ly, x + (size_t)b * m->fs, feat + (size_t)b * ch0 * V);
  }
  double *out = wb->out + (size_t)l * B * (size_t)m->ntp * V;
  int rc = lf_nn_convnet_forward(&ly->net, &m->P, n, feat, out, &wb->arena,
                                 save ? &wb->saved[l] : NULL);
  if (rc) return lf_error_context(rc, "context network of SU(N) flow layer %d", l);
  return LF_OK;
}

static void gather(const lf_sunflow_model *m, const double *net, long s, double *p) {
  for (int c = 0; c < m->ntp; c++) p[c] = net[(size_t)c * (size_t)m->V + (size_t)s];
}

#define MAXTP (2 * 3 * LF_SUNFLOW_MAXK)

/* Staple-net activations of layer l, sample b in the workspace: one slot per layer when
 * the workspace keeps them all (wb->lal_slots == nlayers), else one shared slot. */
static lf_cplx *lal_slot(const lf_sunflow_model *m, const lf_sunflow_batch *wb, int l, int b) {
  const size_t slot = wb->lal_slots > 1 ? (size_t)l : 0;
  return wb->lal_x + (slot * (size_t)wb->batch + (size_t)b) * m->lal_act;
}

/* Learned active loops (lal.c): staple-net forward of sample b into its workspace slot
 * unless `cached` (the slot already holds layer l of the same input); NULL without lal. */
static const lf_cplx *lal_run(const lf_sunflow_model *m, lf_sunflow_batch *wb, int l, int b,
                              const lf_cplx *u, int cached) {
  if (!m->cfg.lal) return NULL;
  lf_cplx *x = lal_slot(m, wb, l, b);
  if (!cached) lf_sunflow_lal_forward(m, l, u, x);
  return x;
}

/* The staple net of layer l depends only on links that layer l does not change, so its
 * activations for the layer's recorded input wb->in[l] serve the forward, the inverse,
 * the backward and the path-gradient step of that layer alike: wb->lal_have[slot] names
 * the layer whose activations the slot holds for samples 0..wb->lal_hn[slot]-1 (-1: none).
 * Called before a pass over n samples: whether they can be reused; marks the slot invalid
 * if not (the pass recomputes it and calls lal_cache_set when it succeeds). */
static int lal_cache_get(const lf_sunflow_model *m, lf_sunflow_batch *wb, int l, int n) {
  if (!m->cfg.lal) return 0;
  const int slot = wb->lal_slots > 1 ? l : 0;
  if (wb->lal_have[slot] == l && wb->lal_hn[slot] >= n) return 1;
  wb->lal_have[slot] = -1;
  return 0;
}
static void lal_cache_set(lf_sunflow_batch *wb, int l, int n, int ok) {
  const int slot = wb->lal_slots > 1 ? l : 0;
  wb->lal_have[slot] = ok ? l : -1;
  wb->lal_hn[slot] = ok ? n : 0;
}

/* dL/dS_act slot of sample b, zeroed (NULL without lal) */
static lf_cplx *lal_gstart(const lf_sunflow_model *m, lf_sunflow_batch *wb, int b) {
  if (!m->cfg.lal) return NULL;
  lf_cplx *gs = wb->lal_g + (size_t)b * m->lal_gact + lf_sunflow_lal_out(m);
  memset(gs, 0, (size_t)m->V * (size_t)m->N2 * sizeof *gs);
  return gs;
}

/* dL/dstaple -> links: plaquette staple, or through P_SU(N) into dL/dS_act(s) */
static void staple_backward(const lf_sunflow_model *m, const lf_sunflow_layer *ly,
                            const lf_cplx *u, long s, const lf_spec_polar_state *ps,
                            const lf_cplx *gs, lf_cplx *gb, lf_cplx *lg) {
  if (!m->cfg.lal) lf_sunflow_staple_backward(m, u, s, ly->mu, ly->nu, gs, gb);
  else lf_spec_polar_vjp(ps, gs, lg + (size_t)s * (size_t)m->N2);
}

/* pgrad = 0: no staple-net weight gradients (path-gradient recursion) */
static void lal_backward(const lf_sunflow_model *m, lf_sunflow_batch *wb, int l, int b,
                         const lf_cplx *u, lf_cplx *gb, int pgrad) {
  lf_sunflow_lal_backward(m, l, u, lal_slot(m, wb, l, b),
                          wb->lal_g + (size_t)b * m->lal_gact, gb,
                          pgrad ? wb->lal_gw + (size_t)b * m->lal_np : NULL);
}

/* Staple-net weight gradients of samples 0..n-1 summed in sample order into the store */
static void lal_sum_grad(lf_sunflow_model *m, lf_sunflow_batch *wb, int l, int n) {
  if (!m->cfg.lal) return;
  const lf_sunflow_layer *ly = &m->layers[l];
  size_t o = 0;
  for (int i = 0; i < m->cfg.lal_layers; i++) {
    const size_t sz = m->P.info[ly->lal_widx[i]].size;
    double *g = lf_nn_params_gptr(&m->P, ly->lal_widx[i]);
    for (int b = 0; b < n; b++) {
      const double *gw = wb->lal_gw + (size_t)b * m->lal_np + o;
      for (size_t k = 0; k < sz; k++) g[k] += gw[k];
    }
    o += sz;
  }
}

/* Both directions of layer l on samples 0..n-1: forward W' = Phi(W), or inverse W = Phi^-1(W')
 * (the context, hence the parameters, comes from the frozen links, equal in input and
 * output); the active link becomes U' = W' S in either case; logJ[b] = log|det| of the
 * FORWARD map (at the forward input) summed over the active links. */
static int coupling_apply(const lf_sunflow_model *m, lf_sunflow_batch *wb, int l, int n,
                          lf_cplx *x, double *logJ, int save, int inverse) {
  if (m->cfg.lal) wb->lal_have[wb->lal_slots > 1 ? l : 0] = -1; /* wb->in[l] is rewritten */
  LF_CHECK(context(m, wb, l, n, x, save));
  const lf_sunflow_layer *ly = &m->layers[l];
  const size_t V = (size_t)m->V, B = (size_t)wb->batch;
  const int N = m->N, K = m->cfg.K;
  const double *out = wb->out + (size_t)l * B * (size_t)m->ntp * V;
  int bad = 0;
#pragma omp parallel for schedule(static) reduction(| : bad)
  for (int b = 0; b < n; b++) {
    lf_cplx *u = x + (size_t)b * m->fs;
    const double *net = out + (size_t)b * (size_t)m->ntp * V;
    double lj = 0;
    const lf_cplx *lx = lal_run(m, wb, l, b, u, 0);
    for (long j = 0; j < ly->nact && !bad; j++) {
      const long s = ly->act[j];
      lf_cplx st[9], w[9], w1[9], *U = lf_sunflow_link(m, u, s, ly->mu);
      lf_spec_eigsys e;
      double p[MAXTP], th1[3], ld;
      if (lf_sunflow_active_staple(m, ly, u, lx, s, st, NULL)) {
        bad = 1;
        break;
      }
      lf_mat_mul_dag(N, w, U, st); /* the active loop of the input */
      gather(m, net, s, p);
      if (lf_spec_eig(N, 1, w, &e) ||
          (inverse && lf_sunflow_angles_inverse(N, K, e.theta, p, th1, &ld))) {
        bad = 1;
        break;
      }
      if (!inverse) lf_sunflow_angles_forward(N, K, e.theta, p, th1, &ld);
      lf_spec_map(&e, th1, w1);
      lf_mat_mul(N, U, w1, st);
      lj += ld;
    }
    logJ[b] = lj;
  }
  if (m->cfg.lal) lal_cache_set(wb, l, n, !bad);
  if (bad && inverse)
    return LF_ERROR(LF_ENAN, "inverting SU(N) flow layer %d failed; the links must be "
                             "SU(N) matrices and the parameters finite", l);
  if (bad)
    return LF_ERROR(LF_ENAN, "SU(N) flow layer %d: an active loop is not an SU(N) matrix "
                             "(or not finite), or a learned active staple is singular; the "
                             "input links must be SU(N) matrices", l);
  return LF_OK;
}

int lf_sunflow_coupling_forward(const lf_sunflow_model *m, lf_sunflow_batch *wb, int l, int n,
                                lf_cplx *x, double *logJ, int save) {
  return coupling_apply(m, wb, l, n, x, logJ, save, 0);
}

int lf_sunflow_coupling_inverse(const lf_sunflow_model *m, lf_sunflow_batch *wb, int l, int n,
                                lf_cplx *x, double *logJ) {
  return coupling_apply(m, wb, l, n, x, logJ, 0, 1);
}

/* Context features -> frozen plaquettes -> links: adds to g [n][fs] the gradient that
 * wb->gfeat (dL/d features, from the context net's backward) implies, for the inputs `in`
 * of layer l. */
static void features_backward(const lf_sunflow_model *m, const lf_sunflow_batch *wb, int l,
                              int n, const lf_cplx *in, lf_cplx *g) {
  const lf_sunflow_layer *ly = &m->layers[l];
  const int N = m->N;
  const size_t V = (size_t)m->V, ch0 = (size_t)m->ch0;
#pragma omp parallel for schedule(static)
  for (int b = 0; b < n; b++) {
    const lf_cplx *u = in + (size_t)b * m->fs;
    lf_cplx *gb = g + (size_t)b * m->fs;
    const double *gf = wb->gfeat + (size_t)b * ch0 * V;
    for (int pl = 0; pl < m->nplanes; pl++) {
      const double *fz = ly->frozen + (size_t)pl * V;
      const double *gr = gf + (size_t)(2 * pl) * V, *gi = gr + V;
      for (size_t s = 0; s < V; s++) {
        if (fz[s] == 0) continue;
        lf_sunflow_plaq_backward_scalar(m, u, (long)s, m->plane_mu[pl], m->plane_nu[pl],
                                        (gr[s] + LF_I * gi[s]) / N, gb);
      }
    }
  }
}

/* the context net's reverse mode, with (pgrad) or without parameter gradients */
static int net_backward(lf_sunflow_model *m, lf_sunflow_batch *wb, int l, int pgrad) {
  const lf_sunflow_layer *ly = &m->layers[l];
  return pgrad ? lf_nn_convnet_backward(&ly->net, &m->P, wb->saved[l], wb->gout, wb->gfeat,
                                        &wb->arena)
               : lf_nn_convnet_backward_input(&ly->net, &m->P, wb->saved[l], wb->gout, wb->gfeat,
                                              &wb->arena);
}

int lf_sunflow_coupling_backward(lf_sunflow_model *m, lf_sunflow_batch *wb, int l, int n,
                                 lf_cplx *g, const double *gl) {
  const lf_sunflow_layer *ly = &m->layers[l];
  const size_t V = (size_t)m->V, B = (size_t)wb->batch;
  const int N = m->N, K = m->cfg.K, ntp = m->ntp;
  const lf_cplx *in = wb->in + (size_t)l * B * m->fs;
  const double *out = wb->out + (size_t)l * B * (size_t)ntp * V;
  const int cached = lal_cache_get(m, wb, l, n);
  int bad = 0;
#pragma omp parallel for schedule(static) reduction(| : bad)
  for (int b = 0; b < n; b++) {
    const lf_cplx *u = in + (size_t)b * m->fs;
    lf_cplx *gb = g + (size_t)b * m->fs;
    const double *net = out + (size_t)b * (size_t)ntp * V;
    double *gout = wb->gout + (size_t)b * (size_t)ntp * V;
    memset(gout, 0, (size_t)ntp * V * sizeof *gout);
    const lf_cplx *lx = lal_run(m, wb, l, b, u, cached);
    lf_cplx *lg = lal_gstart(m, wb, b);
    for (long j = 0; j < ly->nact && !bad; j++) {
      const long s = ly->act[j];
      const lf_cplx *U = lf_sunflow_clink(m, u, s, ly->mu);
      lf_cplx *gU = lf_sunflow_link(m, gb, s, ly->mu);
      lf_cplx st[9], w[9], w1[9], gw1[9], gw[9], gs[9], t[9];
      lf_spec_eigsys e;
      double p[MAXTP], gp[MAXTP], th1[3], gth1[3], gth[3], jac[9], sdd[9];
      lf_spec_polar_state ps;
      if (lf_sunflow_active_staple(m, ly, u, lx, s, st, &ps)) {
        bad = 1;
        break;
      }
      lf_mat_mul_dag(N, w, U, st);
      if (lf_spec_eig(N, 1, w, &e)) {
        bad = 1;
        break;
      }
      gather(m, net, s, p);
      lf_sunflow_angles_forward(N, K, e.theta, p, th1, NULL);
      lf_spec_map(&e, th1, w1);
      /* U' = W' S */
      lf_mat_mul_dag(N, gw1, gU, st);
      lf_mat_dag_mul(N, gs, w1, gU);
      lf_spec_map_vjp_angles(&e, th1, gw1, gth1);
      lf_sunflow_angles_backward(N, K, e.theta, p, gth1, gl[b], gth, gp, jac);
      if (lf_spec_divdiff(N, e.theta, th1, jac, sdd)) {
        bad = 1;
        break;
      }
      lf_spec_map_vjp(&e, th1, sdd, gw1, gth, gw);
      /* W = U S^dag */
      lf_mat_mul(N, gU, gw, st);
      lf_mat_dag_mul(N, t, gw, U);
      for (int i = 0; i < N * N; i++) gs[i] += t[i];
      staple_backward(m, ly, u, s, &ps, gs, gb, lg);
      for (int c = 0; c < ntp; c++) gout[(size_t)c * V + (size_t)s] = gp[c];
    }
    if (m->cfg.lal && !bad) lal_backward(m, wb, l, b, u, gb, 1);
  }
  lal_sum_grad(m, wb, l, n);
  if (m->cfg.lal) lal_cache_set(wb, l, n, !bad);
  if (bad)
    return LF_ERROR(LF_ENAN, "SU(N) flow layer %d backward: an active loop is not SU(N) "
                             "or two eigenvalues coincide; the links must be SU(N)", l);
  int rc = net_backward(m, wb, l, 1);
  if (rc) return lf_error_context(rc, "context network of SU(N) flow layer %d (backward)", l);
  /* features -> frozen plaquettes -> links */
  features_backward(m, wb, l, n, in, g);
  return LF_OK;
}

int lf_sunflow_coupling_logq_vjp(lf_sunflow_model *m, lf_sunflow_batch *wb, int l, int n,
                                 lf_cplx *g) {
  /* One step G <- J_l^-T (G - grad log|det J_l|) of the path-gradient recursion, i.e.
   *   (A) gd = d log|det J_l| / d(layer input)   (the backward with zero output cotangent),
   *   (B) the VJP of x = f_l^-1(y) applied to G - gd,
   * fused. Both are linear in their cotangents, and every path through the frozen links
   * (context net -> features -> plaquettes, staples or staple net) is shared; (A) only
   * reaches the active links through the active link itself, the frozen ones through
   * dL/dS and dL/dp. So per active link: G_U -= dA/dU, then (B) on G_U, and the frozen
   * paths get the differences dL/dS(B) - dL/dS(A) and dL/dp(B) - dL/dp(A) once: one pass of
   * the context net, the staple net and the plaquette features instead of two (docs/sunflow.md
   * "training"). (B): x = f^-1(y): active U = Phi^-1(U' S^dag) S; the records of layer l hold
   * its input x; the output's active loop W' and its eigensystem (eigenvectors of W, angles
   * theta') are rebuilt from it. */
  const lf_sunflow_layer *ly = &m->layers[l];
  const size_t V = (size_t)m->V, B = (size_t)wb->batch;
  const int N = m->N, K = m->cfg.K, ntp = m->ntp;
  const lf_cplx *in = wb->in + (size_t)l * B * m->fs;
  const double *out = wb->out + (size_t)l * B * (size_t)ntp * V;
  const int cached = lal_cache_get(m, wb, l, n);
  int bad = 0;
#pragma omp parallel for schedule(static) reduction(| : bad)
  for (int b = 0; b < n; b++) {
    const lf_cplx *u = in + (size_t)b * m->fs;
    lf_cplx *gb = g + (size_t)b * m->fs;
    const double *net = out + (size_t)b * (size_t)ntp * V;
    double *gout = wb->gout + (size_t)b * (size_t)ntp * V;
    memset(gout, 0, (size_t)ntp * V * sizeof *gout);
    const lf_cplx *lx = lal_run(m, wb, l, b, u, cached);
    lf_cplx *lg = lal_gstart(m, wb, b);
    for (long j = 0; j < ly->nact && !bad; j++) {
      const long s = ly->act[j];
      const lf_cplx *U = lf_sunflow_clink(m, u, s, ly->mu);
      lf_cplx *gU = lf_sunflow_link(m, gb, s, ly->mu);
      lf_cplx st[9], w[9], w1[9], u1[9], gw[9], gw1[9], gs[9], gsa[9], t[9];
      lf_spec_eigsys e, e1;
      double p[MAXTP], gpa[MAXTP], gp[MAXTP], th1[3], gth[3], gth1[3], jinv[9], sdd[9];
      const double zero[3] = {0, 0, 0};
      lf_spec_polar_state ps;
      if (lf_sunflow_active_staple(m, ly, u, lx, s, st, &ps)) {
        bad = 1;
        break;
      }
      lf_mat_mul_dag(N, w, U, st);
      if (lf_spec_eig(N, 1, w, &e)) {
        bad = 1;
        break;
      }
      gather(m, net, s, p);
      /* (A): log|det| depends on W = U S^dag through its angles only */
      lf_sunflow_angles_backward(N, K, e.theta, p, zero, 1.0, gth, gpa, NULL);
      lf_spec_eig_vjp(&e, gth, gw);
      lf_mat_mul(N, t, gw, st); /* dA/dU = G_W S, dA/dS = G_W^dag U */
      for (int i = 0; i < N * N; i++) gU[i] -= t[i];
      lf_mat_dag_mul(N, gsa, gw, U);
      /* (B) on G - gd */
      lf_sunflow_angles_forward(N, K, e.theta, p, th1, NULL);
      lf_spec_map(&e, th1, w1);
      lf_mat_mul(N, u1, w1, st);
      e1 = e; /* W' = V e^{i theta'} V^dag: theta' is its canonical-cell point */
      memcpy(e1.theta, th1, sizeof th1);
      /* U = W S with W = Phi^-1(W') */
      lf_mat_mul_dag(N, gw, gU, st);
      lf_mat_dag_mul(N, gs, w, gU);
      lf_spec_map_vjp_angles(&e1, e.theta, gw, gth);
      lf_sunflow_angles_inverse_vjp(N, K, e.theta, p, gth, gth1, gp, jinv);
      if (lf_spec_divdiff(N, th1, e.theta, jinv, sdd)) {
        bad = 1;
        break;
      }
      lf_spec_map_vjp(&e1, e.theta, sdd, gw, gth1, gw1);
      /* W' = U' S^dag */
      lf_mat_mul(N, gU, gw1, st);
      lf_mat_dag_mul(N, t, gw1, u1);
      for (int i = 0; i < N * N; i++) gs[i] += t[i] - gsa[i];
      staple_backward(m, ly, u, s, &ps, gs, gb, lg);
      for (int c = 0; c < ntp; c++) gout[(size_t)c * V + (size_t)s] = gp[c] - gpa[c];
    }
    if (m->cfg.lal && !bad) lal_backward(m, wb, l, b, u, gb, 0);
  }
  if (m->cfg.lal) lal_cache_set(wb, l, n, !bad);
  if (bad)
    return LF_ERROR(LF_ENAN, "SU(N) flow layer %d, gradient of log q: an active loop is not "
                             "SU(N) or two eigenvalues coincide; the links must be SU(N)", l);
  int rc = net_backward(m, wb, l, 0);
  if (rc) return lf_error_context(rc, "context network of SU(N) flow layer %d (grad log q)", l);
  features_backward(m, wb, l, n, in, g);
  return LF_OK;
}
