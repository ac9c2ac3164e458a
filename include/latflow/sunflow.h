/*
 * latflow/sunflow.h -- SU(N) gauge-equivariant spectral flows (N = 2, 3; d = 2 and 4):
 * Boyda et al., PRD 103 (2021) 074504 [2008.05456]; 4D masks after Abbott et al.
 * 2305.02402. Math, masks and the eigen-angle transform: docs/sunflow.md.
 *
 * Representation: a batch of SU(N) gauge fields is a plain array of complex N x N
 * row-major link matrices
 *     u[((b*V + s)*nd + mu)*N*N + i*N + j],   b = sample, s = site (x fastest), mu,
 * i.e. layout [batch][site][mu][N*N]: each sample is exactly the `u` array of an lf_gauge
 * of the model's lattice (field.h), so lf_gauge/lf_action/observe functions apply to a
 * sample by pointing a lf_gauge at it. Gradients with respect to a field use the same
 * layout and the convention of group.h: G = dL/dRe U + i dL/dIm U per link, so that
 * dL = sum_links Re tr(G^dag dU); only the tangent part U X (X anti-hermitian traceless)
 * is meaningful, along U -> exp(eps A) U the derivative is Re tr(G^dag A U).
 * The prior is Haar measure on every link: density 1 with respect to the normalised
 * Haar measure, log r = 0, so log q(x) = -sum_layers log|det J| (Haar-measure Jacobians).
 *
 * A coupling layer updates the links U_mu(x) with x_nu = off (mod P) ("active"): the
 * active loop W = P_{mu nu}(x) = U S^dag (S the staple) is diagonalised,
 * W = V e^{i theta} V^dag, its class (a point of the canonical cell) is moved by a
 * bijection of the cell made of monotone rational-quadratic splines whose parameters come
 * from a periodic CNN (an lf_nn_convnet) fed with Re/Im tr/N of the frozen plaquettes,
 * W' = V e^{i theta'} V^dag and U' = W' S = W' W^dag U. Gauge equivariant, invertible,
 * triangular: log|det J| = sum over active links of the Haar Jacobian of W -> W'.
 * With learned active loops (cfg.lal; Abbott et al. 2502.00263) S is P_SU(N)(S_act), S_act
 * the output of a per-layer gauge-equivariant staple network on the frozen links; the
 * log-det is unchanged (docs/sunflow.md "Learned active loops").
 *
 *     lf_sunflow_config cfg;
 *     lf_sunflow_preset("su3-2d", &cfg);
 *     lf_sunflow_model *m;
 *     if (lf_sunflow_model_alloc(&m, &cfg, seed)) ... lf_last_error() ...;
 *     lf_sunflow_batch *wb;
 *     lf_sunflow_batch_alloc(&wb, m, 64);
 *     lf_nn_adam_cfg ac = lf_nn_adam_defaults();
 *     lf_nn_adam opt;  lf_nn_adam_init(&opt, lf_sunflow_model_nparams(m), &ac);
 *     for (step...) lf_sunflow_train_step(m, wb, &opt, lr, seed, step, LF_SUNFLOW_GRAD_PATH, &st);
 *     lf_sunflow_save(m, &opt, step, seed, "model.safetensors");
 *
 * Ownership: *_alloc / *_free pairs; the model owns its lf_nn_params store (tensors
 * "layer<l>.net.<i>.weight|bias"); a batch workspace owns the per-layer records of one
 * batch size and borrows the model.
 * Thread contract: passes run layer by layer over the batch, OpenMP loops over samples
 * (writing disjoint data) around one batched nn convnet call per layer (bitwise
 * independent of the thread count, fixed-order weight-gradient sums); the prior is keyed
 * by (seed, tag, sample global index * V + site). Every result is independent of the
 * thread count and each sample's output independent of the batch it is computed in.
 */
#ifndef LATFLOW_SUNFLOW_H
#define LATFLOW_SUNFLOW_H

#include <stdint.h>

#include "latflow/flow.h"
#include "latflow/group.h"
#include "latflow/nn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- eigen-angle transform */
/* The class transform of one active loop (docs/sunflow.md "canonical cell"). For SU(N),
 * theta = SU(N) eigen-angles (lf_spec_eig convention: ascending, sum exactly 0, spread
 * theta_{N-1} - theta_0 <= 2 pi, so theta is the canonical-cell point of the class).
 * Gaps g_k = theta_k - theta_{k-1} (k = 1..N-1), stick-breaking coordinates
 * u_k = g_k / (2 pi - g_1 - ... - g_{k-1}) in [0, 1]; each u_k is moved by a monotone
 * rational-quadratic spline of [0, 1] onto itself (flow.h's circular spline with K bins
 * on 2 pi u and shift 0), then theta' is rebuilt with sum 0. Parameters p: (N-1) blocks
 * of 3K raw values (widths, heights, knot slopes); all zero = identity.
 * logdet = log|det dtheta'/dtheta| (N-1 free angles) + log|Delta(theta')|^2 -
 * log|Delta(theta)|^2: the log Jacobian of W -> W' with respect to Haar measure. */
#define LF_SUNFLOW_MAXK 16
int lf_sunflow_angles_nparams(int n, int K);
/* theta -> theta_new, logdet (may be NULL). */
void lf_sunflow_angles_forward(int n, int K, const double *theta, const double *p,
                               double *theta_new, double *logdet);
/* theta_new -> theta (the inverse), logdet of the FORWARD map at theta (may be NULL).
 * LF_ENOCONV if a spline could not be inverted (non-finite parameters). */
int lf_sunflow_angles_inverse(int n, int K, const double *theta_new, const double *p,
                              double *theta, double *logdet);
/* Reverse mode: gnew = dL/dtheta_new (all n angles as independent variables), gl =
 * dL/dlogdet. Writes gtheta[n] = total dL/dtheta (n angles as independent variables,
 * constant shifts drop out), gp[(n-1)*3K] = dL/dp (overwritten) and, if jac != NULL, the
 * n x n Jacobian jac[j*n+k] = dtheta_new_j/dtheta_k. */
void lf_sunflow_angles_backward(int n, int K, const double *theta, const double *p,
                                const double *gnew, double gl, double *gtheta, double *gp,
                                double *jac);
/* Reverse mode of the INVERSE map theta_new -> theta at fixed parameters' values, given
 * theta (its output): gtheta = dL/dtheta -> gnew = dL/dtheta_new, gp = dL/dp through the
 * inverse (overwritten), jinv (may be NULL) = dtheta/dtheta_new (n x n). Used by the path
 * gradient (gradient of log q(x) at fixed parameters). */
void lf_sunflow_angles_inverse_vjp(int n, int K, const double *theta, const double *p,
                                   const double *gtheta, double *gnew, double *gp,
                                   double *jinv);

/* ---------------------------------------------------------------- configuration */
#define LF_SUNFLOW_MAXHIDDEN 6
typedef struct {
  lf_group group;   /* LF_SU2 or LF_SU3                                               */
  int nd;           /* 2 or 4                                                         */
  int L[4];         /* extents (multiples of the mask period); unused entries 1       */
  double beta;      /* Wilson target S = -(beta/N) sum_P Re tr U_P                     */
  int period;       /* mask period P (2 or 4): active links at x_nu = off mod P        */
  int nlayers;      /* coupling layers; nd * P of them update every link once          */
  int K;            /* spline bins per cell coordinate (1..LF_SUNFLOW_MAXK)            */
  int nhidden;      /* hidden conv layers of each context network                      */
  int hidden[LF_SUNFLOW_MAXHIDDEN];
  int kernel;       /* odd conv kernel size                                           */
  double leak;      /* LeakyReLU slope                                                */
  /* Learned active loops (docs/sunflow.md "Learned active loops"; Abbott et al.
   * 2502.00263): lal = 1 replaces the plaquette staple of every active link by
   * P_SU(N)(S_act), S_act = output of a gauge-equivariant staple network of lal_layers
   * linear layers (widths 2(nd-1) -> lal_width -> ... -> 1, real weights, tensors
   * "layer<l>.lal.<i>.weight" [c_out][(2nd-1) c_in]) fed with the frozen links. */
  int lal;          /* 0 (plaquette loops) or 1                                       */
  int lal_layers;   /* N_l, 1..LF_SUNFLOW_MAXLAL (preset default 2)                    */
  int lal_width;    /* N_h, 1..LF_SUNFLOW_MAXLALWIDTH (preset default 8)               */
} lf_sunflow_config;
#define LF_SUNFLOW_MAXLAL 4
#define LF_SUNFLOW_MAXLALWIDTH 16

/* "su2-2d", "su3-2d" (8x8), "su3-4d-plaq" (4^4), "su3-4d-lal" (= su3-4d-plaq with learned
 * active loops, N_l = 2, N_h = 8). Definitions in docs/sunflow.md. LF_EINVAL otherwise. */
int lf_sunflow_preset(const char *name, lf_sunflow_config *cfg);
int lf_sunflow_config_check(const lf_sunflow_config *cfg); /* LF_EINVAL: what to change */
/* "group=su3 L=8x8 beta=... period=4 layers=16 K=6 hidden=16,16 kernel=3 leak=0.01", with
 * " lal=<N_l>x<N_h>" appended when cfg->lal (strings without it parse as lal = 0). */
void lf_sunflow_config_format(const lf_sunflow_config *cfg, char *buf, size_t n);
int lf_sunflow_config_parse(const char *text, lf_sunflow_config *cfg);

/* ---------------------------------------------------------------- model */
typedef struct lf_sunflow_model lf_sunflow_model;

/* Context nets: xavier-normal hidden layers (gain 1), last layer gain 0.01 (the flow
 * starts near the identity), zero biases; staple networks (cfg->lal): near-identity
 * weights (lf_nn_init_near_identity, gain 0.5; gain 0 would give the plaquette staple),
 * registered after all context nets, so the context nets do not depend on cfg->lal;
 * keyed by (seed, tensor). */
int lf_sunflow_model_alloc(lf_sunflow_model **m, const lf_sunflow_config *cfg, uint64_t seed);
void lf_sunflow_model_free(lf_sunflow_model *m);
const lf_sunflow_config *lf_sunflow_model_config(const lf_sunflow_model *m);
long lf_sunflow_model_volume(const lf_sunflow_model *m);
/* Complex entries of one configuration: V * nd * N * N. */
size_t lf_sunflow_model_fieldsize(const lf_sunflow_model *m);
size_t lf_sunflow_model_nparams(const lf_sunflow_model *m);
int lf_sunflow_model_nlayers(const lf_sunflow_model *m);
lf_nn_params *lf_sunflow_model_store(lf_sunflow_model *m);
/* Mask of layer l: direction mu of the active links, plane partner nu, offset off. */
void lf_sunflow_layer_mask(const lf_sunflow_model *m, int l, int *mu, int *nu, int *off);

/* Per-batch workspace: every layer's input field, features and net outputs, and the nn
 * records, for the backward pass. */
typedef struct lf_sunflow_batch lf_sunflow_batch;
int lf_sunflow_batch_alloc(lf_sunflow_batch **wb, const lf_sunflow_model *m, int batch);
void lf_sunflow_batch_free(lf_sunflow_batch *wb);
int lf_sunflow_batch_size(const lf_sunflow_batch *wb);

/* Haar prior for samples first..first+n-1 of stream tag (LF_RNG_TAG(LF_RNG_PURPOSE_PRIOR,
 * ...)); link (s, mu) of sample i from the stream (seed, tag, i*V + s). log r = 0. */
void lf_sunflow_prior_sample(const lf_sunflow_model *m, uint64_t seed, uint64_t tag, long first,
                             int n, lf_cplx *z);

/* x = f(z), log q(x) = -sum_l log|det J_l| (logq may be NULL); z and x may be the same
 * array. Records are kept in wb for the backward passes. */
int lf_sunflow_forward(const lf_sunflow_model *m, lf_sunflow_batch *wb, int n, const lf_cplx *z,
                       lf_cplx *x, double *logq);
/* z = f^-1(x) and log q(x). Overwrites the records of the last forward. */
int lf_sunflow_inverse(const lf_sunflow_model *m, lf_sunflow_batch *wb, int n, const lf_cplx *x,
                       lf_cplx *z, double *logq);
/* After lf_sunflow_forward of the same n samples (LF_ESTATE otherwise): the model
 * gradient (overwritten) of L = sum_b [ Re <gx_b, x_b> + glogq_b log q_b ], gx in the
 * field layout (dL/dx as above), and, if gz != NULL, gz = dL/dz (field layout). */
int lf_sunflow_backward(lf_sunflow_model *m, lf_sunflow_batch *wb, int n, const lf_cplx *gx,
                        const double *glogq, lf_cplx *gz);
/* After lf_sunflow_forward of the same n samples: gq = grad_x log q(x) at fixed parameters
 * (field layout; the "path" part of Vaitl et al. 2207.08219), by the recursion
 * G_l = J_l^-T (G_{l-1} - grad log|det J_l|), G_0 = grad log r = 0, where J_l^-T is the
 * vector-Jacobian product of the inverse layer. Zeroes the model gradient. */
int lf_sunflow_logq_grad(lf_sunflow_model *m, lf_sunflow_batch *wb, int n, lf_cplx *gq);
/* One layer on one configuration (tests): out = f_l(in) (or f_l^-1), logdet of the
 * forward map at the layer input. */
int lf_sunflow_layer_apply(const lf_sunflow_model *m, int l, int inverse, const lf_cplx *in,
                           lf_cplx *out, double *logdet);
/* Active loops of layer l on one configuration (tests): loops[j*N*N ...] = W of the j-th
 * active link in site order (plaquette U S^dag, or L = U P_SU(N)(S_act)^dag with learned
 * active loops), *nact (may be NULL) = their number; loops holds V*N*N entries. LF_ERANGE
 * if an active staple is numerically singular. */
int lf_sunflow_layer_loops(const lf_sunflow_model *m, int l, const lf_cplx *u, lf_cplx *loops,
                           long *nact);

/* ---------------------------------------------------------------- physics on one configuration */
/* S = -(beta/N) sum_P Re tr U_P; grad (may be NULL) = dS/dU (field layout, overwritten). */
double lf_sunflow_action(const lf_sunflow_model *m, double beta, const lf_cplx *u, lf_cplx *grad);
/* <Re tr U_P / N> over all V nd(nd-1)/2 plaquettes. */
double lf_sunflow_plaquette(const lf_sunflow_model *m, const lf_cplx *u);
/* U_mu(x) -> g(x) U_mu(x) g(x+mu)^dag, g[s*N*N + ...] (tests). */
void lf_sunflow_gauge_transform(const lf_sunflow_model *m, const lf_cplx *g, lf_cplx *u);

/* ---------------------------------------------------------------- training */
/* The statistics of flow.h (one driver trains both families): loss = mean(log q + S), its
 * standard error, batch ESS / B, independence-Metropolis acceptance estimate over the
 * batch, gradient 2-norm before clipping. */
typedef lf_flow_step_stats lf_sunflow_step_stats;

/* Gradient estimators of the reverse KL (docs/sunflow.md "training"):
 *   PATH (default; Vaitl et al. 2207.08219): dL/dparams = mean_b [ (grad_x (log q + S))|_params
 *       fixed . dx_b/dparams ] -- the score term, zero in expectation, is dropped; lower
 *       variance near convergence; costs about two more backward passes;
 *   REPARAM: the plain reparameterisation gradient of mean_b (log q(x_b) + S(x_b)).
 * Both are unbiased estimators of the same gradient. */
typedef enum { LF_SUNFLOW_GRAD_PATH = 0, LF_SUNFLOW_GRAD_REPARAM = 1 } lf_sunflow_grad_kind;

/* Reverse KL on this process alone (not collective): prior batch of the workspace size
 * (tag LF_RNG_TAG(LF_RNG_PURPOSE_PRIOR, step), samples 0..B-1), forward, action, loss
 * L = mean_b (log q + S), its gradient (estimator `kind`) into the model gradient (not
 * clipped). LF_ENAN if the loss or the gradient is not finite. */
int lf_sunflow_loss_grad(lf_sunflow_model *m, lf_sunflow_batch *wb, uint64_t seed, long step,
                         lf_sunflow_grad_kind kind, lf_sunflow_step_stats *st);
/* loss_grad + lf_nn_adam_step(opt, lr, ...) (lr < 0: opt->cfg.lr). opt must hold
 * lf_sunflow_model_nparams moments (LF_ESTATE otherwise). */
int lf_sunflow_train_step(lf_sunflow_model *m, lf_sunflow_batch *wb, lf_nn_adam *opt, double lr,
                          uint64_t seed, long step, lf_sunflow_grad_kind kind,
                          lf_sunflow_step_stats *st);
/* Data-parallel training with the U(1) flow's semantics and driver (flow.h
 * lf_flow_loss_grad_chunked; docs/sunflow.md "Data-parallel training"). Options are flow's
 * lf_flow_train_opts: path = 1 selects LF_SUNFLOW_GRAD_PATH, 0 REPARAM; deterministic and
 * chunk: gradients summed per fixed chunk in global chunk order, bitwise independent of the
 * rank count; clip > 0: gradient 2-norm clipping. The default: path gradient, fast sums,
 * chunk 8, no clipping. Allocate the workspace with lf_flow_local_batch(batch, o). */
lf_flow_train_opts lf_sunflow_train_opts_default(void);
/* Collective (o->self: not): loss, statistics and gradient of a global batch of `batch` samples split
 * over the ranks (sample b from the Haar prior stream (seed, PRIOR|step) at index b on any
 * rank); st describes the whole global batch; the gradient is the global one on every
 * rank. With one rank and o = {path, 0, -, 0} it equals lf_sunflow_loss_grad with a
 * workspace of `batch` samples bitwise. o = NULL: lf_sunflow_train_opts_default(). */
int lf_sunflow_loss_grad_par(lf_sunflow_model *m, lf_sunflow_batch *wb, long batch,
                             const lf_flow_train_opts *o, uint64_t seed, long step,
                             lf_sunflow_step_stats *st);
/* Collective (o->self: not): lf_sunflow_loss_grad_par + the same Adam update on every rank (LF_ESTATE on
 * every rank if opt does not hold lf_sunflow_model_nparams moments). */
int lf_sunflow_train_step_par(lf_sunflow_model *m, lf_sunflow_batch *wb, lf_nn_adam *opt,
                              double lr, long batch, const lf_flow_train_opts *o, uint64_t seed,
                              long step, lf_sunflow_step_stats *st);

/* ---------------------------------------------------------------- files */
/* Parameters (lf_nn_params_save) with string metadata format=latflow-sunflow-v1,
 * config, step, seed; with opt != NULL the optimizer goes to "<path minus
 * .safetensors>.opt.safetensors" (lf_nn_adam_save). Load allocates *m (and initialises
 * and restores opt if not NULL; LF_ESTATE if its file is missing or does not match). */
int lf_sunflow_save(const lf_sunflow_model *m, const lf_nn_adam *opt, long step, uint64_t seed,
                    const char *path);
int lf_sunflow_load(lf_sunflow_model **m, lf_nn_adam *opt, long *step, uint64_t *seed,
                    const char *path);

#ifdef __cplusplus
}
#endif
#endif
