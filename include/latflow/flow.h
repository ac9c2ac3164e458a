/*
 * latflow/flow.h -- gauge-equivariant normalizing flows for 2D U(1) lattice gauge theory
 * (Kanwar et al., PRL 125 (2020) 121601 [2003.06413]; Albergo et al. 2101.08176).
 *
 * Representation (docs/flows.md): a batch of 2D U(1) configurations is a plain array of
 * link angles
 *     theta[(b*2 + mu)*V + s],   b = sample, mu = 0 (x) / 1 (y), s = x + L0*y,
 * i.e. layout [batch][mu][site] (site x fastest, as in lattice.h). Angles are real
 * numbers (not reduced mod 2 pi inside the flow); lf_flow_to_gauge reduces them.
 * The prior is uniform (Haar) on every link, log r = -2V log(2 pi).
 *
 * The model is a stack of plaquette coupling layers: layer i updates links of direction
 * mu = i mod 2 on stripes x_nu = off (mod 4), off = (i/2) mod 4, by transforming the
 * "active" plaquette of each such link with a circle diffeomorphism (mixture of
 * non-compact projections, or a circular rational-quadratic spline) whose parameters
 * are the output of a periodic CNN (an lf_nn_convnet of the nn module) fed with cos/sin
 * of the "frozen" plaquettes.
 *
 *     lf_flow_config cfg;
 *     lf_flow_preset("u1-tutorial", &cfg);
 *     lf_flow_model *m;
 *     if (lf_flow_model_alloc(&m, &cfg, seed)) ... lf_last_error() ...;
 *     lf_flow_batch *wb;
 *     lf_flow_batch_alloc(&wb, m, 64);
 *     lf_nn_adam_cfg ac = lf_nn_adam_defaults();
 *     lf_nn_adam opt; lf_nn_adam_init(&opt, lf_flow_model_nparams(m), &ac);
 *     lf_nn_lr_schedule sched = {.kind = LF_NN_LR_COSINE, .base = 2e-3, .min = 1e-4,
 *                                .total = steps};
 *     for (step...) lf_flow_train_step(m, wb, &opt, lf_nn_lr_at(&sched, step), seed, step, &st);
 *     lf_flow_save(m, &opt, step, seed, "model.safetensors");  // + model.opt.safetensors
 *
 * Ownership: *_alloc / *_free pairs; a model owns its parameter store (lf_nn_params:
 * values and gradients, tensors named "layer<l>.net.<i>.weight|bias"); a batch workspace
 * owns the activations of every layer for one batch size and borrows the model.
 * Thread contract: batch functions run layer by layer over the whole batch: OpenMP loops
 * over samples (per-sample random streams, Philox keyed by (seed, purpose|step, sample))
 * around one batched nn convnet call per layer, which is bitwise independent of the thread
 * count and sums weight gradients in a fixed order; so every result is independent of
 * the thread count, and each sample's x and log q also of the batch it is computed in.
 */
#ifndef LATFLOW_FLOW_H
#define LATFLOW_FLOW_H

#include <stdint.h>

#include "latflow/dist.h"
#include "latflow/field.h"
#include "latflow/nn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- circle transforms */
typedef enum {
  LF_FLOW_NCP = 0,   /* mixture of non-compact projections + shift                */
  LF_FLOW_SPLINE = 1 /* circular rational-quadratic spline + shift                */
} lf_flow_tkind;

/* A transform of one angle x with parameters p (raw network outputs).
 *   NCP, weighted = 0: p = (s_1..s_K, t)            y = (1/K) sum_k g_{s_k}(x) + t
 *   NCP, weighted = 1: p = (s_1..s_K, a_1..a_K, t)  weights softmax(a)
 *       g_s(x) = 2 atan(e^s tan(x/2)) (branch continuous on (-pi, pi])
 *   SPLINE: p = (a_1..a_K widths, b_1..b_K heights, c_1..c_K knot slopes, t); bins on
 *       [0, 2pi), slope at 2pi = slope at 0, y = spline(x mod 2pi) + t.
 * y is defined modulo 2 pi; y - x is a smooth periodic function of x. */
typedef struct {
  lf_flow_tkind kind;
  int K;        /* mixture components or spline bins (1..32)   */
  int weighted; /* NCP only: learned softmax mixture weights     */
} lf_flow_tspec;

#define LF_FLOW_MAXTP 128 /* max parameters of one transform */
/* Clamps of the spline (fractions of 2 pi for widths/heights; absolute for slopes). */
#define LF_FLOW_SPLINE_MIN_BIN 1e-3
#define LF_FLOW_SPLINE_MIN_SLOPE 1e-3

int lf_flow_transform_nparams(const lf_flow_tspec *t);
/* y and logd = log dy/dx. */
void lf_flow_transform_forward(const lf_flow_tspec *t, double x, const double *p, double *y,
                               double *logd);
/* x with forward(x) = y (mod 2 pi); x is returned in the transform's base interval
 * ((-pi, pi] for NCP, [0, 2 pi) for splines). LF_ENOCONV if the root was not found. */
int lf_flow_transform_inverse(const lf_flow_tspec *t, double y, const double *p, double *x);
/* Reverse mode: given gy = dL/dy and gl = dL/dlogd, sets *gx = dL/dx and gp[i] = dL/dp_i
 * (overwritten, nparams entries). */
void lf_flow_transform_backward(const lf_flow_tspec *t, double x, const double *p, double gy,
                                double gl, double *gx, double *gp);

/* ---------------------------------------------------------------- model configuration */
#define LF_FLOW_MAXHIDDEN 6
typedef struct {
  int L[2];          /* lattice extents, multiples of 4                            */
  double beta;       /* Wilson coupling of the target S = -beta sum_P cos theta_P   */
  int nlayers;       /* coupling layers (even, >= 2)                                */
  lf_flow_tspec tr;  /* plaquette transform                                         */
  int nhidden;       /* hidden conv layers of the context network                   */
  int hidden[LF_FLOW_MAXHIDDEN]; /* their channel counts                            */
  int kernel;        /* odd conv kernel size                                        */
  double leak;       /* LeakyReLU slope (0.01 as in PyTorch)                         */
  int rect_context;  /* 1: also feed cos/sin of the 2x1 rectangles made of two frozen
                        plaquettes, in x and in y (two extra feature pairs)         */
} lf_flow_config;

/* Fill cfg from a preset name: "u1-tutorial", "u1-spline", "u1-best" (8x8, beta 2; see
 * docs/flows.md for their definitions and measured ESS).
 * LF_EINVAL with the list of names if unknown. */
int lf_flow_preset(const char *name, lf_flow_config *cfg);
/* Training defaults of a preset (u1-best trains longer with a cosine-decayed rate):
 * steps, batch, learning rate, final learning rate of the cosine schedule (= lr: constant;
 * else LF_NN_LR_COSINE from lr to lr_min over `steps`, lf_nn_lr_at). */
typedef struct {
  long steps;
  int batch;
  double lr, lr_min;
} lf_flow_train_defaults;
int lf_flow_preset_training(const char *name, lf_flow_train_defaults *d);
/* Validate (LF_EINVAL with what to change). */
int lf_flow_config_check(const lf_flow_config *cfg);
/* "L=8x8 beta=2 layers=16 transform=ncp K=2 weighted=0 hidden=8,8 kernel=3 leak=0.01 rect=0" */
void lf_flow_config_format(const lf_flow_config *cfg, char *buf, size_t n);
int lf_flow_config_parse(const char *text, lf_flow_config *cfg);

/* ---------------------------------------------------------------- model */
typedef struct lf_flow_model lf_flow_model;

/* Parameters initialised like PyTorch's Conv2d default (uniform +-1/sqrt(fan_in)),
 * keyed by (seed, layer, conv), weight then bias. */
int lf_flow_model_alloc(lf_flow_model **m, const lf_flow_config *cfg, uint64_t seed);
void lf_flow_model_free(lf_flow_model *m);
const lf_flow_config *lf_flow_model_config(const lf_flow_model *m);
long lf_flow_model_volume(const lf_flow_model *m);
size_t lf_flow_model_nparams(const lf_flow_model *m);
/* The flat parameter and gradient vectors (owned by the model), and the store itself
 * (names and shapes; layer l's tensors are "layer<l>.net.<i>.weight|bias"). */
double *lf_flow_model_params(lf_flow_model *m);
double *lf_flow_model_grad(lf_flow_model *m);
lf_nn_params *lf_flow_model_store(lf_flow_model *m);

/* Per-batch workspace (activations of every layer for the backward pass; memory about
 * batch * layers * V * 8 bytes * (all channels of one context net + a few)). */
typedef struct lf_flow_batch lf_flow_batch;
int lf_flow_batch_alloc(lf_flow_batch **wb, const lf_flow_model *m, int batch);
void lf_flow_batch_free(lf_flow_batch *wb);
int lf_flow_batch_size(const lf_flow_batch *wb);

/* Uniform prior angles for samples first..first+n-1 of stream `tag`
 * (LF_RNG_TAG(LF_RNG_PURPOSE_PRIOR, ...)), in (-pi, pi). Returns log r (same for all). */
double lf_flow_prior_sample(const lf_flow_model *m, uint64_t seed, uint64_t tag, long first,
                            int n, double *z);
double lf_flow_prior_logp(const lf_flow_model *m);

/* x = f(z) for n <= batch samples and log q(x) = log r(z) - log|det df/dz| (logq may be
 * NULL). Activations are kept in wb for lf_flow_backward. z and x may be the same array. */
int lf_flow_forward(const lf_flow_model *m, lf_flow_batch *wb, int n, const double *z,
                    double *x, double *logq);
/* lf_flow_forward that also returns dlogq [n][2][V] = d log q(x)/dx at x = f(z) with the
 * parameters held fixed, by the layer recursion a_{l+1} J_l = a_l - d log|det J_l|/dx_l
 * (about one extra backward pass per layer): the "path" part of the path-gradient
 * estimator (Vaitl et al. 2207.08219). Keeps the records for lf_flow_backward; leaves
 * the model gradient undefined until then. */
int lf_flow_forward_path(lf_flow_model *m, lf_flow_batch *wb, int n, const double *z,
                         double *x, double *logq, double *dlogq);
/* z = f^-1(x) and log q(x). Overwrites the records of the last forward. */
int lf_flow_inverse(const lf_flow_model *m, lf_flow_batch *wb, int n, const double *x,
                    double *z, double *logq);
/* After lf_flow_forward of the same n samples (LF_ESTATE otherwise): write into the model
 * gradient (overwritten, not added)
 *   dL/dparams for L = sum_b [ <gx_b, x_b> + glogq_b * log q_b ]
 * gx: [n][2][V] (dL/dx), glogq: [n]. */
int lf_flow_backward(lf_flow_model *m, lf_flow_batch *wb, int n, const double *gx,
                     const double *glogq);
/* Same as lf_flow_backward but also returns dL/dz in gz ([n][2][V]); for tests. */
int lf_flow_backward_input(lf_flow_model *m, lf_flow_batch *wb, int n, const double *gx,
                           const double *glogq, double *gz);

/* Copy the network parameters of src into dst (same architecture, any lattice extents and
 * beta: the context networks are convolutional, so a model trained on a small lattice is a
 * starting point, or directly a proposal, for a larger one). LF_EINVAL naming the first
 * tensor whose name or shape differs. */
int lf_flow_model_copy_params(lf_flow_model *dst, const lf_flow_model *src);

/* Layer-level access for tests: apply layer l alone to one configuration. */
int lf_flow_layer_forward(const lf_flow_model *m, int l, const double *in, double *out,
                          double *logdet);
int lf_flow_layer_inverse(const lf_flow_model *m, int l, const double *in, double *out,
                          double *logdet);
int lf_flow_model_nlayers(const lf_flow_model *m);

/* ---------------------------------------------------------------- U(1) physics on angles */
/* S = -beta sum_P cos(theta_P), plaquette theta_P(s) = th0(s)+th1(s+x)-th0(s+y)-th1(s);
 * if grad != NULL it receives dS/dtheta ([2][V], overwritten). */
double lf_flow_action(const lf_flow_model *m, double beta, const double *theta, double *grad);
/* Mean plaquette <cos theta_P> and geometric charge Q = (1/2pi) sum_P arg(e^{i theta_P}). */
double lf_flow_plaquette(const lf_flow_model *m, const double *theta);
double lf_flow_topo_charge(const lf_flow_model *m, const double *theta);
/* Random gauge transformation theta_mu(s) += alpha(s) - alpha(s+mu) (tests). */
void lf_flow_gauge_transform(const lf_flow_model *m, const double *alpha, double *theta);
/* Converters between one configuration of angles and a U(1) lf_gauge on a 2D lattice
 * with the same extents (LF_EINVAL otherwise). to_gauge: U = exp(i theta). */
int lf_flow_to_gauge(const lf_flow_model *m, const double *theta, lf_gauge *f);
int lf_flow_from_gauge(const lf_flow_model *m, const lf_gauge *f, double *theta);

/* ---------------------------------------------------------------- training */
typedef struct {
  double loss;       /* mean(log q + S)                                          */
  double loss_err;   /* standard error of the mean                                */
  double ess;        /* effective sample size / batch, from the batch weights    */
  double acceptance; /* independence Metropolis acceptance over the batch order  */
  double grad_norm;
} lf_flow_step_stats;

/* One reverse-KL step: prior sample (tag step), forward, action, loss, backward, then
 * lf_nn_adam_step(opt, lr, ...) (lr < 0: opt->cfg.lr; take it from lf_nn_lr_at).
 * Reparameterisation gradient of L = mean_b (log q(x_b) + S(x_b)). opt must have
 * lf_flow_model_nparams(m) moments (LF_ESTATE otherwise).
 * LF_ENAN (parameters untouched) if the loss or a gradient is not finite. */
int lf_flow_train_step(lf_flow_model *m, lf_flow_batch *wb, lf_nn_adam *opt, double lr,
                       uint64_t seed, long step, lf_flow_step_stats *st);
/* Only loss and gradient (no update). */
int lf_flow_loss_grad(lf_flow_model *m, lf_flow_batch *wb, uint64_t seed, long step,
                      lf_flow_step_stats *st);
/* Data-parallel training (docs/flows.md). Functions marked collective run on every
 * MPI rank (lf_par_*) and return the same status everywhere (except with o->self); with
 * one rank (or no MPI) they are the plain single-process functions. The driver is shared
 * with the SU(N) flows (lf_flow_loss_grad_chunked below, sunflow.h). */
typedef struct {
  int path;          /* 1: path-gradient estimator (Vaitl et al. 2207.08219), 0: reparam. */
  int deterministic; /* 1: gradients of fixed chunks of `chunk` samples summed in global
                        chunk order: bitwise independent of the rank count             */
  int chunk;         /* samples per chunk in deterministic mode (0: 8)                  */
  double clip;       /* > 0: rescale the gradient to this 2-norm if it is larger (0: off) */
  int self;          /* 1: not collective: the calling rank computes the whole global batch
                        alone with the same chunking (the one-rank reference, for tests) */
} lf_flow_train_opts;
lf_flow_train_opts lf_flow_train_opts_default(void); /* reparameterisation, fast sums */
/* Samples this rank computes at once for a global batch: allocate the workspace with it
 * (with o->self: as if it were the only rank). */
long lf_flow_local_batch(long batch, const lf_flow_train_opts *o);
/* Collective: loss, statistics and gradient of a global batch of `batch` samples split
 * over the ranks (sample b from the prior stream (seed, PRIOR|step) at index b on any
 * rank); st describes the whole global batch; the gradient (lf_flow_model_grad) is the
 * global one on every rank. With o = NULL: lf_flow_train_opts_default(). */
int lf_flow_loss_grad_par(lf_flow_model *m, lf_flow_batch *wb, long batch,
                          const lf_flow_train_opts *o, uint64_t seed, long step,
                          lf_flow_step_stats *st);
/* Collective: lf_flow_loss_grad_par + the same Adam update on every rank. */
int lf_flow_train_step_par(lf_flow_model *m, lf_flow_batch *wb, lf_nn_adam *opt, double lr,
                           long batch, const lf_flow_train_opts *o, uint64_t seed, long step,
                           lf_flow_step_stats *st);
/* The family-independent driver of (data-parallel) reverse-KL training, shared by the
 * U(1) flow and the SU(N) flows (sunflow.h). It plans which samples of the global batch
 * this rank computes (lf_par_block over samples, or over fixed chunks of o->chunk samples
 * in deterministic mode), asks the family's `chunk` callback for them one workspace-full
 * at a time, gathers the per-sample losses l_b = log q_b + S_b of the whole batch
 * (lf_par_allgather) into the statistics of lf_flow_step_stats (mean, error, ESS,
 * independence-Metropolis acceptance), sums the gradient (allreduce, or per chunk in
 * global chunk order with lf_par_sum_chunks), clips it to o->clip and checks that loss
 * and gradient are finite (LF_ENAN). With collective = 0 the calling rank computes the
 * whole batch alone (the serial lf_*_loss_grad). The callback contract: */
typedef struct {
  /* For samples first..first+n-1 (1 <= n <= capacity) of a global batch of `batch`
   * samples: draw sample b from the prior stream (seed, LF_RNG_TAG(PRIOR, step)) at its
   * global index b, push it through the flow, write l[b - first] = log q_b + S_b and WRITE
   * (overwrite) into grad the parameter gradient of sum_b (1/batch) (log q_b + S_b) over
   * these samples (path = 1: path-gradient estimator, 0: reparameterisation). Returns a
   * status; the driver makes collective calls agree on it. */
  int (*chunk)(void *ctx, uint64_t seed, long step, long first, int n, long batch, int path,
               double *l);
  void *ctx;
  double *grad;   /* the model's gradient vector: nparams doubles, the global one on return */
  size_t nparams;
  int capacity;   /* most samples one chunk call takes (the workspace batch) */
} lf_flow_chunk_fn;
/* Collective if `collective` (all ranks, same status): fills st and fn->grad as described
 * above for a global batch of `batch` >= 1 samples. LF_EINVAL if this rank would compute
 * more samples at once than fn->capacity (allocate with lf_flow_local_batch). */
int lf_flow_loss_grad_chunked(const lf_flow_chunk_fn *fn, long batch, const lf_flow_train_opts *o,
                              uint64_t seed, long step, int collective, lf_flow_step_stats *st);
/* Batch ESS/B from log weights (log-sum-exp stable); n entries. */
double lf_flow_ess(const double *logw, long n);

/* ---------------------------------------------------------------- files */
/* safetensors via the nn module (docs/flows.md "Files"): `path` holds the parameter store
 * (lf_nn_params_save: one F64 tensor per conv weight/bias, PyTorch names and shapes) and
 * string metadata format, config, step, seed, adam_step; if opt is not NULL its state
 * goes to the companion file lf_flow_opt_path(path) (lf_nn_adam_save), written first.
 * Both writes are atomic. */
int lf_flow_save(const lf_flow_model *m, const lf_nn_adam *opt, long step, uint64_t seed,
                 const char *path);
/* Load: allocates *m; if opt is not NULL, initialises it (caller clears it with
 * lf_nn_adam_clear) and restores it from the companion file, which must exist and match
 * the model file's adam_step (LF_ESTATE otherwise). step, seed may be NULL. */
int lf_flow_load(lf_flow_model **m, lf_nn_adam *opt, long *step, uint64_t *seed,
                 const char *path);
/* Companion optimizer file of a model file: "DIR/model.safetensors" ->
 * "DIR/model.opt.safetensors" (".opt.safetensors" appended to other names). */
int lf_flow_opt_path(const char *path, char *buf, size_t n);

/* ---------------------------------------------------------------- domain decomposition */
/* Evaluation of ONE configuration (or a few) spread over all MPI ranks by a 2D process
 * grid (dist.h), with results identical to the serial flow (docs/parallel.md "Flows"):
 *
 *     lf_flow_dd *dd;                         // collective; model m of any extents
 *     int L[2] = {256, 256};
 *     if (lf_flow_dd_alloc(&dd, m, L, 8, NULL)) ... lf_last_error() ...;
 *     long vol = lf_flow_dd_volume(dd);       // own sites of this rank
 *     double *x = malloc(8 * 2 * vol * sizeof *x), logq[8], S[8], plaq[8], Q[8];
 *     lf_flow_dd_sample(dd, seed, tag, first, 8, x, logq);   // samples first..first+7
 *     lf_flow_dd_measure(dd, 8, x, beta, S, plaq, Q);
 *     lf_flow_dd_free(dd);
 *
 * Deep halo: the output of a coupling layer on a link depends only on input links within
 * lf_flow_dd_radius(cfg) of it, so every rank evaluates the layers on its block plus a
 * halo of width H (the radius rounded up to a multiple of 4, which keeps the stripe masks'
 * global phase) with a "box model" (the model on the halo box, parameters copied) that
 * updates only the rank's own links; one halo exchange of the updated direction per layer
 * refreshes the rest. Local extents of split directions must be multiples of 4 and >= H.
 * Layouts: x [n][2][vol] holds the own links, x[(b*2 + mu)*vol + s] for own site s of
 * the rank's local lattice (lf_flow_dd_dist(dd)->lat: local lexicographic, x fastest;
 * global index lat.global[s]).
 * Reproducibility: x equals the serial lf_flow_prior_sample + lf_flow_forward of the same
 * samples bitwise (prior angles keyed by the global link index mu*V + s, the same kernels
 * on the same inputs); log q, S, plaquette and Q are exact sums (lf_xsum), bitwise the same
 * for every grid and rank count and equal to the serial (plain double) sums to round-off.
 * All functions marked collective must be called by every rank of the decomposition (a
 * `self` one: the calling rank only) and return the same status everywhere. */
typedef struct lf_flow_dd lf_flow_dd;

typedef struct {
  const int *grid; /* process grid P[2] (NULL: automatic, the grid of smallest halo box
                      among the valid ones; ties: more ranks in y)                     */
  int halo;        /* halo width (0: lf_flow_dd_halo of the config). A width below
                      lf_flow_dd_radius gives WRONG results: for tests that must fail  */
  int self;        /* 1: a private one-rank decomposition (not collective; references) */
} lf_flow_dd_opts;

/* Radius of influence of one coupling layer: a link's output depends only on input links
 * whose coordinates differ by at most (nhidden + 1) * (kernel / 2) + 1 + rect_context
 * (conv receptive field + active plaquette / 2x1 rectangle features); the returned radius
 * adds one layer of margin. lf_flow_dd_halo: the radius rounded up to a multiple of 4. */
int lf_flow_dd_radius(const lf_flow_config *cfg);
int lf_flow_dd_halo(const lf_flow_config *cfg);

/* Collective: a decomposed evaluator of model m (its configuration and parameters, copied;
 * m may be freed afterwards) on the global lattice L (NULL: the model's extents; multiples
 * of 4) for up to `batch` samples at once (o = NULL: automatic grid and halo). LF_EINVAL
 * naming the grid or lattice to use if the grid does not match the rank count, does not
 * divide L, or leaves a split local extent that is not a multiple of 4 or below the halo. */
int lf_flow_dd_alloc(lf_flow_dd **dd, const lf_flow_model *m, const int *L, int batch,
                     const lf_flow_dd_opts *o);
void lf_flow_dd_free(lf_flow_dd *dd); /* no-op on NULL; not collective */
/* The decomposition (process grid P, local extents l, halo width, local lattice with the
 * global index of own site s in lat.global[s]). */
const lf_dist *lf_flow_dd_dist(const lf_flow_dd *dd);
long lf_flow_dd_volume(const lf_flow_dd *dd);   /* own sites of this rank */
int lf_flow_dd_batch(const lf_flow_dd *dd);
/* Volume of the halo box / own volume (redundant work per layer, >= 1). */
double lf_flow_dd_overhead(const lf_flow_dd *dd);
/* Own links of n global configurations xg [n][2][V] (V = global volume) into x [n][2][vol]. */
void lf_flow_dd_restrict(const lf_flow_dd *dd, int n, const double *xg, double *x);

/* Collective: samples first..first+n-1 (n <= batch) of prior stream `tag` (as
 * lf_flow_prior_sample) pushed through the flow: own links x [n][2][vol] and the global
 * log q [n] (identical on every rank). */
int lf_flow_dd_sample(lf_flow_dd *dd, uint64_t seed, uint64_t tag, long first, int n, double *x,
                      double *logq);
/* Collective: log q [n] of the n distributed configurations x (inverse flow, as
 * lf_flow_inverse). LF_ENOCONV (on every rank) if a transform could not be inverted. */
int lf_flow_dd_logq(lf_flow_dd *dd, int n, const double *x, double *logq);
/* Collective: action S = -beta sum_P cos theta_P, mean plaquette and geometric charge of
 * the n distributed configurations x (any output may be NULL), exact sums. */
int lf_flow_dd_measure(lf_flow_dd *dd, int n, const double *x, double beta, double *S,
                       double *plaq, double *Q);
/* Collective: one distributed configuration x [2][vol] as U = exp(i theta) (the formula of
 * lf_flow_to_gauge) into the U(1) field glob on the global 2D lattice on rank 0 (ignored
 * on other ranks, may be NULL there). */
int lf_flow_dd_gather(lf_flow_dd *dd, const double *x, lf_gauge *glob);

#ifdef __cplusplus
}
#endif
#endif
