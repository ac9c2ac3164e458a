/* tests/nn/adam.c -- Adam against a hand-computed two-step example, AdamW decay,
 * gradient clipping, learning-rate schedules, a small regression problem that trains
 * (loss must drop by TRAIN_FACTOR), and exact resume from saved optimizer state. */
#define _POSIX_C_SOURCE 200809L
#include "latflow/nn.h"
#include "lf_test.h"
#include "nn_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static const double TOL_EXACT = 1e-14;
static const double TRAIN_FACTOR = 20.0; /* final loss < initial / TRAIN_FACTOR */

static void hand_example(void) {
  /* theta0 = (1, -2), lr 0.1, betas (0.9, 0.999), eps 1e-8.
   * step 1, g = (0.5, -1.5): m = (0.05, -0.15), v = (0.00025, 0.00225),
   *   mhat = (0.5, -1.5), vhat = (0.25, 2.25),
   *   theta1 = (1 - 0.1*0.5/(0.5+1e-8), -2 + 0.1*1.5/(1.5+1e-8))
   *          = (0.900000002, -1.9000000006666667)
   * step 2, g = (-0.25, 2): m = (0.02, 0.065), v = (0.00031225, 0.00624775),
   *   mhat = m/0.19 = (0.10526315789, 0.34210526316),
   *   vhat = v/0.001999 = (0.15620310155, 3.1254377189),
   *   theta2 = theta1 - 0.1*mhat/(sqrt(vhat)+1e-8)
   *          = (0.87336629870784616, -1.9193510414708577)   (30-digit mpmath) */
  lf_nn_adam_cfg cfg = lf_nn_adam_defaults();
  cfg.lr = 0.1;
  lf_nn_adam opt;
  lf_nn_adam_init(&opt, 2, &cfg);
  double th[2] = {1.0, -2.0}, g1[2] = {0.5, -1.5}, g2[2] = {-0.25, 2.0};
  lf_nn_adam_step(&opt, -1.0, th, g1);
  LF_TEST_REL("adam step 1 theta[0]", th[0], 0.90000000199999996, TOL_EXACT);
  LF_TEST_REL("adam step 1 theta[1]", th[1], -1.9000000006666666622, TOL_EXACT);
  LF_TEST_REL("adam step 1 v[1]", opt.v[1], 0.00225, TOL_EXACT);
  lf_nn_adam_step(&opt, -1.0, th, g2);
  LF_TEST_REL("adam step 2 m[1]", opt.m[1], 0.065, TOL_EXACT);
  LF_TEST_REL("adam step 2 v[0]", opt.v[0], 0.00031225, TOL_EXACT);
  LF_TEST_REL("adam step 2 theta[0]", th[0], 0.87336629870784616256, TOL_EXACT);
  LF_TEST_REL("adam step 2 theta[1]", th[1], -1.9193510414708577414, TOL_EXACT);
  LF_TEST_TRUE("step count 2", opt.step == 2);
  lf_nn_adam_clear(&opt);

  /* AdamW: theta = 1, g = 0.5, lr 0.1, wd 0.5: theta*(1 - 0.05) - 0.1*0.5/(0.5+1e-8) */
  cfg.weight_decay = 0.5;
  lf_nn_adam_init(&opt, 1, &cfg);
  double t1 = 1.0, gg = 0.5;
  lf_nn_adam_step(&opt, -1.0, &t1, &gg);
  LF_TEST_REL("adamw one step (decoupled decay)", t1, 0.85000000199999996, TOL_EXACT);
  lf_nn_adam_clear(&opt);
  cfg.beta1 = 1.0;
  LF_TEST_TRUE("beta1 = 1 rejected", lf_nn_adam_init(&opt, 1, &cfg) == LF_EINVAL);
}

static void clip_and_schedules(void) {
  double g[3] = {3.0, 0.0, 4.0};
  double norm = lf_nn_clip_grad_norm(g, 3, 1.0);
  LF_TEST_REL("clip: returns norm before clipping", norm, 5.0, TOL_EXACT);
  LF_TEST_REL("clip: norm after is max_norm (torch eps 1e-6)",
              sqrt(g[0] * g[0] + g[2] * g[2]), 5.0 / (5.0 + 1e-6), TOL_EXACT);
  double h[2] = {0.3, 0.4};
  lf_nn_clip_grad_norm(h, 2, 1.0);
  LF_TEST_REL("clip: small gradient untouched", h[1], 0.4, 0.0);

  lf_nn_lr_schedule s = {.kind = LF_NN_LR_COSINE, .base = 1e-2, .min = 1e-4, .total = 100};
  LF_TEST_REL("cosine at 0", lf_nn_lr_at(&s, 0), 1e-2, TOL_EXACT);
  LF_TEST_REL("cosine at total/2", lf_nn_lr_at(&s, 50), 0.5 * (1e-2 + 1e-4), TOL_EXACT);
  LF_TEST_REL("cosine at total and beyond", lf_nn_lr_at(&s, 250), 1e-4, TOL_EXACT);
  s = (lf_nn_lr_schedule){.kind = LF_NN_LR_STEP, .base = 1.0, .step_size = 10, .gamma = 0.5};
  LF_TEST_REL("step schedule at 9", lf_nn_lr_at(&s, 9), 1.0, TOL_EXACT);
  LF_TEST_REL("step schedule at 25", lf_nn_lr_at(&s, 25), 0.25, TOL_EXACT);
  s = (lf_nn_lr_schedule){.kind = LF_NN_LR_CONSTANT, .base = 0.3, .warmup = 4};
  LF_TEST_REL("warmup step 0 = base/4", lf_nn_lr_at(&s, 0), 0.075, TOL_EXACT);
  LF_TEST_REL("after warmup = base", lf_nn_lr_at(&s, 4), 0.3, TOL_EXACT);
}

/* ---------------------------------------------------------------- regression */
/* Student conv net 1->8->1 (tanh) learns the map of a teacher with the same shape on an
 * 8x8 lattice; loss = mean squared error over a fixed set of inputs. */
typedef struct {
  lf_nn_params P, T;
  lf_nn_convnet student, teacher;
  lf_nn_adam opt;
  lf_arena a;
  int B;
  double *x, *target, *y, *dy;
} problem;

static void problem_init(problem *p, uint64_t student_seed) {
  int L[2] = {8, 8};
  lf_nn_convnet_cfg cfg = {.nd = 2, .L = {8, 8}, .kernel = 3, .nlayers = 2,
                           .channels = {1, 8, 1}, .act = LF_NN_ACT_TANH,
                           .out_act = LF_NN_ACT_NONE};
  (void)L;
  p->B = 16;
  lf_nn_params_init(&p->P);
  lf_nn_params_init(&p->T);
  lf_nn_convnet_init(&p->student, &cfg, &p->P, "student");
  lf_nn_convnet_init(&p->teacher, &cfg, &p->T, "teacher");
  lf_nn_convnet_init_weights(&p->student, &p->P, 1.0, 1.0, student_seed);
  lf_nn_convnet_init_weights(&p->teacher, &p->T, 1.5, 1.0, 777);
  lf_nn_adam_cfg ac = lf_nn_adam_defaults();
  ac.lr = 0.02;
  lf_nn_adam_init(&p->opt, p->P.n, &ac);
  lf_arena_init(&p->a, 2 * lf_nn_convnet_arena_bytes(&p->student, p->B));
  size_t n = (size_t)p->B * 64;
  p->x = lf_alloc(n * 8), p->target = lf_alloc(n * 8), p->y = lf_alloc(n * 8),
  p->dy = lf_alloc(n * 8);
  fill_random(p->x, n, 12, 1, 1.5);
  lf_nn_convnet_forward(&p->teacher, &p->T, p->B, p->x, p->target, &p->a, NULL);
}

static void problem_clear(problem *p) {
  lf_free(p->x), lf_free(p->target), lf_free(p->y), lf_free(p->dy);
  lf_arena_clear(&p->a);
  lf_nn_adam_clear(&p->opt);
  lf_nn_convnet_clear(&p->student);
  lf_nn_convnet_clear(&p->teacher);
  lf_nn_params_clear(&p->P);
  lf_nn_params_clear(&p->T);
}

static double train_step(problem *p) {
  size_t n = (size_t)p->B * 64;
  lf_arena_reset(&p->a);
  lf_nn_params_zero_grad(&p->P);
  lf_nn_saved *sv;
  lf_nn_convnet_forward(&p->student, &p->P, p->B, p->x, p->y, &p->a, &sv);
  double loss = 0.0;
  for (size_t i = 0; i < n; i++) {
    double d = p->y[i] - p->target[i];
    loss += d * d / (double)n;
    p->dy[i] = 2.0 * d / (double)n;
  }
  lf_nn_convnet_backward(&p->student, &p->P, sv, p->dy, NULL, &p->a);
  lf_nn_clip_grad_norm(p->P.grad, p->P.n, 10.0);
  lf_nn_adam_step(&p->opt, -1.0, p->P.data, p->P.grad);
  return loss;
}

static void regression(const char *dir) {
  problem p;
  problem_init(&p, 5);
  double first = train_step(&p), last = first;
  for (int it = 1; it < 400; it++) last = train_step(&p);
  char what[128];
  snprintf(what, sizeof what, "regression trains: loss %.3g -> %.3g, factor > %.0f", first, last,
           TRAIN_FACTOR);
  LF_TEST_TRUE(what, last * TRAIN_FACTOR < first);
  problem_clear(&p);

  /* exact resume: 20 steps straight vs 10 steps, save, load into fresh objects, 10 */
  char mpath[512], opath[512];
  snprintf(mpath, sizeof mpath, "%s/m.safetensors", dir);
  snprintf(opath, sizeof opath, "%s/m.opt.safetensors", dir);
  problem a, b;
  problem_init(&a, 5);
  for (int it = 0; it < 10; it++) train_step(&a);
  int rc = lf_nn_params_save(&a.P, mpath, NULL);
  if (!rc) rc = lf_nn_adam_save(&a.opt, opath);
  LF_TEST_TRUE("save model + optimizer state", rc == LF_OK);
  for (int it = 0; it < 10; it++) train_step(&a);
  problem_init(&b, 99); /* different init, overwritten by the load */
  rc = lf_nn_params_load(&b.P, mpath, NULL);
  if (!rc) rc = lf_nn_adam_load(&b.opt, opath);
  LF_TEST_TRUE("load model + optimizer state", rc == LF_OK);
  LF_TEST_TRUE("restored step count", b.opt.step == 10);
  for (int it = 0; it < 10; it++) train_step(&b);
  LF_TEST_TRUE("resumed training is bitwise identical to uninterrupted training",
               !memcmp(a.P.data, b.P.data, a.P.n * 8) && !memcmp(a.opt.m, b.opt.m, a.P.n * 8));
  lf_nn_adam small;
  lf_nn_adam_cfg ac = lf_nn_adam_defaults();
  lf_nn_adam_init(&small, 3, &ac);
  LF_TEST_TRUE("optimizer state for another model size: LF_ESTATE",
               lf_nn_adam_load(&small, opath) == LF_ESTATE);
  LF_TEST_TRUE("Adam state loader rejects a model file", lf_nn_adam_load(&small, mpath) == LF_EFORMAT);
  lf_nn_adam_clear(&small);
  problem_clear(&a);
  problem_clear(&b);
  remove(mpath);
  remove(opath);
}

int main(void) {
  hand_example();
  clip_and_schedules();
  char dir[] = "/tmp/lf_nn_adam_XXXXXX";
  if (!mkdtemp(dir)) return 1;
  regression(dir);
  rmdir(dir);
  return lf_test_done();
}
