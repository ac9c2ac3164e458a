/*
 * latflow/nn.h -- the neural-network engine: double-precision tensors on a periodic
 * lattice, periodic d-dimensional convolutions, dense layers, activations, softmax,
 * elementwise/reduction ops, initialisers, a parameter store addressable as flat
 * arrays and by name, Adam + gradient clipping + learning-rate schedules, and
 * safetensors model/optimizer files. Every op has a hand-written backward that is
 * checked against central finite differences (tests/nn/).
 *
 * Tensor layout (everywhere in this header unless stated otherwise):
 *     x[b][c][s]   = x[(b * C + c) * V + s]
 * b = batch sample, c = channel, s = lattice site in lattice order (x fastest:
 * s = x0 + L0*(x1 + L1*(x2 + L2*x3)), as in lattice.h). Plain `double *` arrays;
 * the caller owns them. Pointers passed to one call must not alias unless stated.
 *
 * Typical use (a flow's coupling network):
 *
 *     lf_nn_params P;  lf_nn_params_init(&P);
 *     lf_nn_convnet_cfg cfg = {.nd = 2, .L = {8, 8}, .kernel = 3, .nlayers = 3,
 *                              .channels = {2, 8, 8, 3}, .act = LF_NN_ACT_LEAKY_RELU,
 *                              .act_param = 0.01, .out_act = LF_NN_ACT_NONE};
 *     lf_nn_convnet net;
 *     lf_nn_convnet_init(&net, &cfg, &P, "layer0.net");   // registers parameters in P
 *     lf_nn_convnet_init_weights(&net, &P, 1.0, seed);     // xavier-normal, zero bias
 *     lf_arena arena;  lf_arena_init(&arena, 64 << 20);
 *     for (step...) {
 *       lf_arena_reset(&arena);  lf_nn_params_zero_grad(&P);
 *       lf_nn_saved *sv;
 *       lf_nn_convnet_forward(&net, &P, batch, x, y, &arena, &sv);   // y[b][3][s]
 *       ... loss, dL/dy ...
 *       lf_nn_convnet_backward(&net, &P, sv, dy, dx, &arena);      // dx = dL/dx, P.grad +=
 *       lf_nn_clip_grad_norm(P.grad, P.n, 10.0);
 *       lf_nn_adam_step(&opt, lf_nn_lr_at(&sched, step), P.data, P.grad);
 *     }
 *     lf_nn_params_save(&P, "model.safetensors", &meta);
 *
 * Threading: the convolution and the net are parallel with OpenMP over work units
 * fixed by the shapes (chunks of 8 samples x site ranges, or (sample, site) column
 * blocks for im2col); weight gradients are reduced per unit/sample group and summed in
 * a fixed order, so every output is bitwise identical for any OMP_NUM_THREADS. Called
 * from inside the caller's own parallel region they run serially. OpenBLAS
 * is used single-threaded inside OpenMP regions (lf_nn_* calls
 * openblas_set_num_threads(1) the first time a GEMM-based op runs; set
 * OPENBLAS_NUM_THREADS=1 if your program also calls BLAS itself). Elementwise ops are
 * serial unless stated (they are memory-bound and small for flows). Parameter
 * stores, nets and optimizers belong to one thread at a time.
 *
 * Ownership: _init/_clear pairs for caller-owned structs (clear of a zeroed or
 * cleared struct is a no-op). Scratch workspaces come from an lf_arena passed in:
 * "scratch" means the call allocates from it and restores arena->used on return;
 * "saved" means the call leaves its allocations in the arena (valid until the caller
 * resets the arena).
 *
 * Math and conventions: docs/nn.md.
 */
#ifndef LATFLOW_NN_H
#define LATFLOW_NN_H

#include "latflow/core.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LF_NN_MAXDIM 4      /* lattice dimension 2..4                         */
#define LF_NN_MAX_LAYERS 16 /* conv layers in one lf_nn_convnet               */
#define LF_NN_NAME_MAX 128  /* parameter names, including the final '\0'      */
#define LF_NN_MAX_NDIM 8    /* tensor rank in the parameter store/safetensors */

/* ================================================================ activations */
typedef enum {
  LF_NN_ACT_NONE = 0,   /* identity                                              */
  LF_NN_ACT_LEAKY_RELU, /* x > 0 ? x : a*x   (param a = negative slope, e.g. 0.01) */
  LF_NN_ACT_TANH,       /* tanh x                                                */
  LF_NN_ACT_SOFTPLUS,   /* log(1 + e^x), computed stably                         */
  LF_NN_ACT_SIGMOID,    /* 1 / (1 + e^-x)                                        */
  LF_NN_ACT_GELU        /* x * Phi(x) = x/2 (1 + erf(x/sqrt 2)) (exact, not tanh) */
} lf_nn_act;

/* y[i] = f(x[i]), i < n. y may equal x (in place). */
void lf_nn_act_forward(lf_nn_act f, double param, size_t n, const double *x, double *y);
/* dx[i] = dy[i] * f'(x[i]) where x is the forward INPUT. dx may equal dy. */
void lf_nn_act_backward(lf_nn_act f, double param, size_t n, const double *x, const double *dy,
                        double *dx);
/* Name <-> enum ("none", "leaky_relu", "tanh", "softplus", "sigmoid", "gelu"). */
const char *lf_nn_act_name(lf_nn_act f);
int lf_nn_act_parse(const char *name, lf_nn_act *f); /* LF_EINVAL lists valid names */

/* ================================================================ elementwise and reductions */
/* All on flat arrays of n doubles unless shapes are given. Outputs may alias inputs
 * elementwise (y == a or y == b allowed). */
void lf_nn_add(size_t n, const double *a, const double *b, double *y); /* y = a + b */
void lf_nn_mul(size_t n, const double *a, const double *b, double *y); /* y = a * b */
/* backward of y = a*b: da += dy*b, db += dy*a (either may be NULL) -- ACCUMULATES. */
void lf_nn_mul_backward(size_t n, const double *a, const double *b, const double *dy, double *da,
                        double *db);
/* backward of y = a + b is dy for both; provided for symmetry: da += dy. */
void lf_nn_add_backward(size_t n, const double *dy, double *da);
/* y[b][c] = sum_s x[b][c][s] (sites summed in order). */
void lf_nn_sum_sites(int batch, int ch, long sites, const double *x, double *y);
/* dx[b][c][s] = dy[b][c] (overwrites dx). */
void lf_nn_sum_sites_backward(int batch, int ch, long sites, const double *dy, double *dx);
/* Softmax over the channel axis: y[b][c][s] = exp(x[b][c][s]) / sum_c' exp(x[b][c'][s]),
 * max-subtracted. y may equal x. */
void lf_nn_softmax(int batch, int ch, long sites, const double *x, double *y);
/* Given the forward OUTPUT y: dx = y * (dy - sum_c y*dy). dx may equal dy. */
void lf_nn_softmax_backward(int batch, int ch, long sites, const double *y, const double *dy,
                            double *dx);

/* ================================================================ periodic convolution */
/* Periodic ("circular") cross-correlation on an nd-dimensional lattice, same as
 * torch.nn.ConvNd(padding=k//2, padding_mode="circular"):
 *
 *   y[b][co][s] = bias[co] + sum_ci sum_tap w[co][ci][tap] * x[b][ci][s + d(tap)]
 *
 * tap = t0 + k*(t1 + k*(t2 + k*t3)), t_mu in 0..k-1, offset d_mu = t_mu - k/2, the
 * shift s + d periodic in every direction. w[co][ci][tap] is exactly the memory
 * layout of a torch weight [cout][cin][k]...[k] (torch's last axis = our x).
 * Parameters: weight count cout*cin*k^nd, bias count cout. */
typedef struct {
  int nd, L[LF_NN_MAXDIM]; /* lattice (unused L entries = 1)          */
  long vol;                /* sites                                    */
  int k, taps;             /* odd kernel size, taps = k^nd             */
  int cin, cout;
  int *rowsrc; /* private: [k^(nd-1) row offsets][vol/L0 rows] source row table */
  int *nbr;    /* private: [vol][taps] neighbour table of the batch-lane kernels (or NULL) */
  int method;  /* lf_nn_conv_method, LF_NN_CONV_AUTO after init */
} lf_nn_conv;

/* Algorithm: AUTO picks the batch-lane direct kernels when batch >= 8 (and the
 * neighbour table vol*taps fits in 2^24 ints), else im2col + OpenBLAS dgemm; docs/nn.md
 * has the measurements. Forcing is for tests and benchmarks; results agree to rounding. */
typedef enum { LF_NN_CONV_AUTO = 0, LF_NN_CONV_IM2COL, LF_NN_CONV_LANES } lf_nn_conv_method;

/* LF_EINVAL if nd not in 2..4, an extent < 1, k even or < 1, channels < 1. */
int lf_nn_conv_init(lf_nn_conv *c, int nd, const int *L, int k, int cin, int cout);
void lf_nn_conv_clear(lf_nn_conv *c);
/* LF_EUNSUP if LANES is asked but the neighbour table was too large to build. */
int lf_nn_conv_set_method(lf_nn_conv *c, lf_nn_conv_method m);
/* Forward. ws: scratch. y must not alias x. */
int lf_nn_conv_forward(const lf_nn_conv *c, int batch, const double *restrict w,
                       const double *restrict bias, const double *restrict x,
                       double *restrict y, lf_arena *ws);
/* Backward given the forward input x and dy = dL/dy:
 *   dx  = dL/dx            (OVERWRITTEN; pass NULL to skip),
 *   dw += dL/dw, db += dL/dbias  (ACCUMULATED; either may be NULL).
 * Bitwise independent of the thread count. ws: scratch. */
int lf_nn_conv_backward(const lf_nn_conv *c, int batch, const double *restrict w,
                        const double *restrict x, const double *restrict dy,
                        double *restrict dx, double *restrict dw, double *restrict db,
                        lf_arena *ws);
/* Multiply-adds of one forward call (backward costs twice that). */
double lf_nn_conv_macs(const lf_nn_conv *c, int batch);

/* ================================================================ dense layer */
/* y[b][o] = bias[o] + sum_i w[o][i] x[b][i]   (w row-major [nout][nin], torch Linear). */
int lf_nn_dense_forward(int batch, int nin, int nout, const double *restrict w,
                        const double *restrict bias, const double *restrict x,
                        double *restrict y);
/* dx OVERWRITTEN (NULL to skip); dw, db ACCUMULATED (NULL to skip). */
int lf_nn_dense_backward(int batch, int nin, int nout, const double *restrict w,
                         const double *restrict x, const double *restrict dy,
                         double *restrict dx, double *restrict dw, double *restrict db);

/* ================================================================ parameter store */
/* All parameters of a model in ONE flat array `data` (and `grad` of the same size),
 * tensor by tensor in registration order; each tensor has a name, a shape and an
 * offset. Flat arrays serve Adam, clipping, checkpoints and MPI all-reduce; names
 * serve safetensors. Arrays grow on registration (offsets stay valid, pointers do
 * not: layers store offsets and resolve P->data + off at call time). */
typedef struct {
  char name[LF_NN_NAME_MAX];
  int ndim;
  long shape[LF_NN_MAX_NDIM];
  size_t offset, size; /* in doubles */
} lf_nn_tensor_info;

typedef struct {
  size_t n;     /* total parameters                         */
  double *data; /* [n] values                               */
  double *grad; /* [n] gradients (accumulated by backwards)  */
  int count, cap;
  lf_nn_tensor_info *info; /* [count] */
} lf_nn_params;

void lf_nn_params_init(lf_nn_params *P); /* empty store */
void lf_nn_params_clear(lf_nn_params *P);
/* Register a zero-initialised tensor; *index (may be NULL) receives its index.
 * LF_EINVAL on a duplicate or empty/too long name or a bad shape. */
int lf_nn_params_add(lf_nn_params *P, const char *name, int ndim, const long *shape,
                     int *index);
/* Index of a named tensor, or -1. */
int lf_nn_params_find(const lf_nn_params *P, const char *name);
static inline double *lf_nn_params_ptr(const lf_nn_params *P, int i) {
  return P->data + P->info[i].offset;
}
static inline double *lf_nn_params_gptr(const lf_nn_params *P, int i) {
  return P->grad + P->info[i].offset;
}
void lf_nn_params_zero_grad(lf_nn_params *P);
/* Copy the values of src into dst if both hold the same tensors (names, shapes, order);
 * LF_EINVAL naming the first mismatch otherwise. */
int lf_nn_params_copy(lf_nn_params *dst, const lf_nn_params *src);

/* ---- initialisers (reproducible: element j of tensor i draws from the Philox stream
 * (seed, LF_RNG_TAG(LF_RNG_PURPOSE_INIT, i), j), whatever the thread count). Fan-in/out
 * of a tensor [d0][d1][rest...] are d1*prod(rest) and d0*prod(rest) (torch rule);
 * a 1-d tensor has fan_in = fan_out = d0. */
void lf_nn_init_zeros(lf_nn_params *P, int i);
/* w ~ N(0, sigma^2), sigma = gain * sqrt(2 / (fan_in + fan_out)). */
void lf_nn_init_xavier_normal(lf_nn_params *P, int i, double gain, uint64_t seed);
/* For a weight [cout][cin][taps] (conv) or [nout][nin] (dense): delta(co,ci) at the
 * centre tap for co, ci < min(cin, cout), plus gain * xavier-normal. With gain 0 and
 * zero bias the layer is the identity map when cin == cout (channel copy/truncation
 * otherwise). Pass taps = 1 for dense. */
int lf_nn_init_near_identity(lf_nn_params *P, int i, int taps, double gain, uint64_t seed);

/* ================================================================ conv net */
/* A stack of periodic convolutions with an activation after every layer but the last,
 * and `out_act` after the last:  x[b][channels[0]][V] -> y[b][channels[nlayers]][V].
 * Parameters registered as "<prefix>.<l>.weight" [cout][cin][k]*nd and
 * "<prefix>.<l>.bias" [cout], l = 0..nlayers-1. */
typedef struct {
  int nd, L[LF_NN_MAXDIM];
  int kernel;                          /* odd                    */
  int nlayers;                         /* 1..LF_NN_MAX_LAYERS    */
  int channels[LF_NN_MAX_LAYERS + 1];  /* channels[0] = input     */
  lf_nn_act act;                       /* hidden activation       */
  double act_param;                    /* e.g. leaky slope        */
  lf_nn_act out_act;                   /* after the last layer    */
} lf_nn_convnet_cfg;

typedef struct {
  lf_nn_convnet_cfg cfg;
  long vol;
  lf_nn_conv conv[LF_NN_MAX_LAYERS];
  int widx[LF_NN_MAX_LAYERS], bidx[LF_NN_MAX_LAYERS]; /* tensor indices in the store */
  struct lf_nn_outsites *out; /* private: output restricted to listed sites, or NULL */
} lf_nn_convnet;

/* What a forward saved for its backward (lives in the arena). */
typedef struct lf_nn_saved lf_nn_saved;

int lf_nn_convnet_init(lf_nn_convnet *net, const lf_nn_convnet_cfg *cfg, lf_nn_params *P,
                       const char *prefix);
void lf_nn_convnet_clear(lf_nn_convnet *net);
/* Xavier-normal(gain) weights, zero biases; `last_gain` for the last layer (0 makes
 * the net output exactly out_act(0), e.g. an identity coupling at start). */
void lf_nn_convnet_init_weights(lf_nn_convnet *net, lf_nn_params *P, double gain,
                                double last_gain, uint64_t seed);
/* Forward: x [batch][channels[0]][V] -> y [batch][channels[nlayers]][V]. If saved is
 * non-NULL, copies of what backward needs (input, pre- and post-activations) are left
 * in `arena` and *saved points at them; with saved == NULL the arena is used as
 * scratch only (inference). */
int lf_nn_convnet_forward(const lf_nn_convnet *net, const lf_nn_params *P, int batch,
                          const double *x, double *y, lf_arena *arena, lf_nn_saved **saved);
/* Backward: dy [batch][cout][V] -> dx [batch][cin][V] (OVERWRITTEN, NULL to skip);
 * parameter gradients ACCUMULATED into P->grad. arena: scratch (the saved data must
 * still be in it). dy is not modified. */
int lf_nn_convnet_backward(const lf_nn_convnet *net, const lf_nn_params *P,
                           const lf_nn_saved *saved, const double *dy, double *dx,
                           lf_arena *arena);
/* Only dx (no parameter gradients: about a third less work), e.g. for d(output)/d(input)
 * products such as the path-gradient recursion of the flows. */
int lf_nn_convnet_backward_input(const lf_nn_convnet *net, const lf_nn_params *P,
                                 const lf_nn_saved *sv, const double *dy, double *dx,
                                 lf_arena *arena);
/* Arena bytes a forward with saving + backward needs at this batch (upper bound). */
size_t lf_nn_convnet_arena_bytes(const lf_nn_convnet *net, int batch);
/* Restrict the net's OUTPUT to n listed sites (distinct, 0 <= site < vol; sites = NULL:
 * all sites again): forward computes y only there (y at other sites is unspecified: do not
 * read it), backward treats dy at other sites as 0. With the batch-lane kernels the last
 * conv then costs about n/vol of its full cost in forward, dx and dw alike (the coupling
 * networks of lattice flows read their output only on the active sites); with im2col it
 * is computed in full. Results on the listed sites agree with the unrestricted net to
 * rounding (the forward bitwise). LF_EINVAL for a bad site, LF_ENOMEM. */
int lf_nn_convnet_set_output_sites(lf_nn_convnet *net, const int *sites, long n);
/* The part of it that the saved record of one forward keeps (upper bound). A caller
 * that keeps the records of several nets for one backward pass (a flow's coupling
 * layers) needs the sum of these plus one lf_nn_convnet_arena_bytes for scratch. */
size_t lf_nn_convnet_saved_bytes(const lf_nn_convnet *net, int batch);
double lf_nn_convnet_macs(const lf_nn_convnet *net, int batch); /* forward multiply-adds */

/* ================================================================ optimisation */
typedef struct {
  double lr;           /* base learning rate (used when lf_nn_adam_step gets lr < 0) */
  double beta1, beta2; /* 0.9, 0.999                                                  */
  double eps;          /* 1e-8                                                        */
  double weight_decay; /* decoupled (AdamW), 0 = plain Adam                          */
} lf_nn_adam_cfg;

typedef struct {
  lf_nn_adam_cfg cfg;
  size_t n;
  long step;   /* steps taken                 */
  double *m;   /* [n] first moment            */
  double *v;   /* [n] second moment           */
} lf_nn_adam;

/* Defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight decay 0. */
lf_nn_adam_cfg lf_nn_adam_defaults(void);
int lf_nn_adam_init(lf_nn_adam *opt, size_t n, const lf_nn_adam_cfg *cfg);
void lf_nn_adam_clear(lf_nn_adam *opt);
/* One bias-corrected step (t = ++step):
 *   theta -= lr*wd*theta;  m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
 *   theta -= lr * (m/(1-b1^t)) / (sqrt(v/(1-b2^t)) + eps)
 * lr < 0 means cfg.lr. */
void lf_nn_adam_step(lf_nn_adam *opt, double lr, double *theta, const double *grad);
/* Scale grad so that its global 2-norm is at most max_norm (no-op if max_norm <= 0 or
 * the norm is smaller); returns the norm before clipping (summed in index order). */
double lf_nn_clip_grad_norm(double *grad, size_t n, double max_norm);

typedef enum { LF_NN_LR_CONSTANT = 0, LF_NN_LR_COSINE, LF_NN_LR_STEP } lf_nn_lr_kind;
typedef struct {
  lf_nn_lr_kind kind;
  double base;     /* learning rate at step 0 (after warmup)                          */
  double min;      /* cosine: final rate at total_steps                              */
  long total;      /* cosine: steps over which it decays                             */
  long step_size;  /* step: multiply by gamma every step_size steps                  */
  double gamma;
  long warmup;     /* linear warmup from base/warmup over this many steps (0 = none) */
} lf_nn_lr_schedule;
/* Learning rate at step (0-based). */
double lf_nn_lr_at(const lf_nn_lr_schedule *s, long step);

/* ================================================================ safetensors files */
/* Format (https://github.com/huggingface/safetensors): u64 little-endian header length
 * N, N bytes of JSON {"name": {"dtype": "F64", "shape": [...], "data_offsets": [a, b]},
 * "__metadata__": {"key": "string value", ...}}, then raw little-endian data; offsets
 * relative to the end of the header. latflow writes F64 only, tensors in
 * registration order, header padded with spaces to a multiple of 8. Writes are atomic
 * (lf_write_file_atomic). Readers reject: header length beyond the file, bad JSON,
 * non-string metadata, unknown dtype, offsets out of range / overlapping / not
 * matching the shape, and (when loading into a store) missing tensors, extra tensors
 * and shape mismatches -- each with a message naming the file and the tensor. */

/* String key/value metadata (architecture, training configuration). */
typedef struct {
  int n, cap;
  char **key, **val;
} lf_nn_meta;
void lf_nn_meta_init(lf_nn_meta *m);
void lf_nn_meta_clear(lf_nn_meta *m);
int lf_nn_meta_set(lf_nn_meta *m, const char *key, const char *val); /* replaces */
const char *lf_nn_meta_get(const lf_nn_meta *m, const char *key);    /* NULL if absent */

/* One tensor to write. */
typedef struct {
  const char *name;
  int ndim;
  const long *shape;
  const double *data;
} lf_nn_st_entry;
int lf_nn_st_write(const char *path, const lf_nn_st_entry *e, int n, const lf_nn_meta *meta);

/* A parsed file (whole file in memory, header validated on open). */
typedef struct lf_nn_st_file lf_nn_st_file;
int lf_nn_st_open(const char *path, lf_nn_st_file **f); /* *f = NULL on error */
void lf_nn_st_close(lf_nn_st_file *f);                  /* NULL ok */
int lf_nn_st_count(const lf_nn_st_file *f);
const char *lf_nn_st_name(const lf_nn_st_file *f, int i);
/* Index of a tensor (-1 if absent); its shape (ndim, shape[] up to LF_NN_MAX_NDIM). */
int lf_nn_st_find(const lf_nn_st_file *f, const char *name);
int lf_nn_st_shape(const lf_nn_st_file *f, int i, long *shape);
/* Copy tensor `name` into out, checking that it exists and has exactly this shape. */
int lf_nn_st_read(const lf_nn_st_file *f, const char *name, int ndim, const long *shape,
                  double *out);
/* Metadata copy (all string values) into m (m initialised by the caller). */
int lf_nn_st_meta(const lf_nn_st_file *f, lf_nn_meta *m);

/* Whole parameter store by name. save: every tensor with its shape, plus meta (may be
 * NULL). load: every tensor of P must be in the file with the same shape and the file
 * must hold no other tensor; on error P is unchanged. meta_out may be NULL. */
int lf_nn_params_save(const lf_nn_params *P, const char *path, const lf_nn_meta *meta);
int lf_nn_params_load(lf_nn_params *P, const char *path, lf_nn_meta *meta_out);

/* Optimizer state (companion file, e.g. "model.opt.safetensors"): tensors "adam.m",
 * "adam.v" [n] and "adam.step" [1]; config in metadata. load restores m, v, step and
 * cfg exactly (LF_ESTATE if n differs), so training resumes bit for bit. */
int lf_nn_adam_save(const lf_nn_adam *opt, const char *path);
int lf_nn_adam_load(lf_nn_adam *opt, const char *path);

/* Model checkpoints (used by the flow families; docs/nn.md "Model checkpoints"): PATH holds
 * the store with metadata format, config, step, seed, adam_step; with opt != NULL the Adam
 * state goes first to the companion file lf_nn_opt_path(PATH) ("DIR/model.safetensors" ->
 * "DIR/model.opt.safetensors"). Atomic writes. */
int lf_nn_opt_path(const char *path, char *buf, size_t n);
int lf_nn_checkpoint_save(const lf_nn_params *P, const lf_nn_adam *opt, const char *format,
                          const char *config, long step, uint64_t seed, const char *path);
/* The config string of a checkpoint whose format tag must equal `format` (LF_EFORMAT naming
 * `what`, e.g. "U(1) flow", otherwise). */
int lf_nn_checkpoint_config(const char *path, const char *format, const char *what,
                            char *config, size_t n);
/* Values into P (built from that config; every tensor must match), finiteness checked; with
 * opt != NULL the Adam state is initialised and restored from the companion file, whose
 * step must equal the model file's adam_step (LF_ESTATE otherwise; the caller clears opt
 * only on success). step, seed may be NULL. */
int lf_nn_checkpoint_load(lf_nn_params *P, lf_nn_adam *opt, long *step, uint64_t *seed,
                          const char *path);

#ifdef __cplusplus
}
#endif
#endif
