/*
 * tests/sunflow/lal.c -- learned active loops (src/sunflow/lal.c, docs/sunflow.md "Learned
 * active loops"; Abbott et al. 2502.00263 sec. 2):
 *   - every check of layers.c (compiled with SUNFLOW_LAYERS_LAL: staple nets N_l = 2,
 *     N_h = 3, weights identity + N(0, 0.4^2), so the active staples are far from SU(N) and
 *     the polar projection matters) for SU(2) and SU(3) on 4x4 (this file) and on 2^4
 *     (lal4d.c, slow label; whole-flow Jacobian for SU(2), single layers for SU(3)):
 *     invertibility, log-det vs numerical Jacobian (single layers and whole flows), gauge
 *     equivariance / invariance of log q, parameter gradients (every other one a staple-net
 *     weight) and input gradients vs central differences (through the staple net and the
 *     SVD-based projection), grad_x log q (path gradient) vs differences of the inverse pass;
 *   - the active loops are SU(N) and transform as L -> g(x) L g(x)^dag;
 *   - with identity staple-net weights the flow equals the plaquette-loop flow of the same
 *     seed (context nets identical): the staple net reduces to the plaquette staple;
 *   - training with staple nets: save/load round trip (forward pass bitwise equal), loss and
 *     path gradient bitwise equal with 1 and 2 OpenMP threads;
 *   - (lal4d.c) preset su3-4d-lal = su3-4d-plaq + 16 staple nets of 392 weights, runs
 *     forward, backward and inverse on a 4^4 batch.
 */
#define _POSIX_C_SOURCE 200809L
#define SUNFLOW_LAYERS_LAL 1
#include "layers.c"

#include <omp.h>
#include <stdlib.h>
#include <unistd.h>

/* coordinates of site s (x fastest) */
static void coords(const int *L, int nd, long s, int *x) {
  for (int d = 0; d < nd; d++) x[d] = (int)(s % L[d]), s /= L[d];
}

static void check_loops(lf_group g, int nd, int L, int period) {
  const int N = (int)g, N2 = N * N, nlay = nd * period;
  lf_sunflow_model *m = make(g, nd, L, period, nlay, nd == 2 ? 0.3 : 0.05);
  if (!m) {
    LF_TEST_TRUE("model allocation", 0);
    return;
  }
  const lf_sunflow_config *c = lf_sunflow_model_config(m);
  const size_t fs = lf_sunflow_model_fieldsize(m);
  const long V = lf_sunflow_model_volume(m);
  lf_cplx *z = lf_alloc(fs * sizeof(lf_cplx)), *zg = lf_alloc(fs * sizeof(lf_cplx));
  lf_cplx *gt = lf_alloc((size_t)V * N2 * sizeof(lf_cplx));
  lf_cplx *l0 = lf_alloc((size_t)V * N2 * sizeof(lf_cplx)), *l1 = lf_alloc((size_t)V * N2 * sizeof(lf_cplx));
  lf_sunflow_prior_sample(m, 9, LF_RNG_TAG(LF_RNG_PURPOSE_PRIOR, 4), 0, 1, z);
  for (long s = 0; s < V; s++) lf_group_haar(g, gt + (size_t)s * N2, &rng);
  memcpy(zg, z, fs * sizeof(lf_cplx));
  lf_sunflow_gauge_transform(m, gt, zg);
  double wcov = 0, wsu = 0;
  int rc = 0;
  for (int l = 0; l < nlay; l++) {
    int mu, nu, off;
    long na = 0, na1 = 0;
    lf_sunflow_layer_mask(m, l, &mu, &nu, &off);
    rc |= lf_sunflow_layer_loops(m, l, z, l0, &na);
    rc |= lf_sunflow_layer_loops(m, l, zg, l1, &na1);
    long j = 0;
    for (long s = 0; s < V && !rc; s++) {
      int x[4];
      coords(c->L, nd, s, x);
      if (x[nu] % period != off) continue;
      lf_cplx t[9], r[9];
      const lf_cplx *w = l0 + (size_t)j * N2;
      lf_mat_mul(N, t, gt + (size_t)s * N2, w);
      lf_mat_mul_dag(N, r, t, gt + (size_t)s * N2);
      wcov = fmax(wcov, maxdiff((size_t)N2, r, l1 + (size_t)j * N2));
      wsu = fmax(wsu, lf_group_defect(g, w));
      j++;
    }
    rc |= j != na || na != na1;
  }
  char what[200];
  snprintf(what, sizeof what, "SU(%d) %dD: active loops L(g.z) = g(x) L(z) g(x)^dag", N, nd);
  LF_TEST_ABS(what, rc ? 1.0 : wcov, 0, 1e-12);
  snprintf(what, sizeof what, "SU(%d) %dD: active loops are SU(N) (unitarity + det defect)", N, nd);
  LF_TEST_ABS(what, rc ? 1.0 : wsu, 0, 1e-13);

  /* identity staple nets: same flow as plaquette loops (same seed, same context params) */
  lf_sunflow_config pc = *c;
  pc.lal = 0;
  lf_sunflow_model *mp;
  rc = lf_sunflow_model_alloc(&mp, &pc, 11);
  if (!rc) {
    lf_nn_params *P = lf_sunflow_model_store(m), *Pp = lf_sunflow_model_store(mp);
    memcpy(Pp->data, P->data, Pp->n * sizeof(double)); /* context nets come first */
    for (int i = 0; i < P->count; i++) {
      const lf_nn_tensor_info *t = &P->info[i];
      if (!strstr(t->name, ".lal.")) continue;
      double *w = P->data + t->offset;
      for (long co = 0; co < t->shape[0]; co++)
        for (long ci = 0; ci < t->shape[1]; ci++) w[co * t->shape[1] + ci] = co == ci;
    }
    lf_sunflow_batch *wa, *wp;
    lf_cplx *xa = lf_alloc(fs * sizeof(lf_cplx)), *xp = lf_alloc(fs * sizeof(lf_cplx));
    double lqa, lqp;
    lf_sunflow_batch_alloc(&wa, m, 1);
    lf_sunflow_batch_alloc(&wp, mp, 1);
    rc = lf_sunflow_forward(m, wa, 1, z, xa, &lqa) | lf_sunflow_forward(mp, wp, 1, z, xp, &lqp);
    snprintf(what, sizeof what, "SU(%d) %dD: identity staple nets = plaquette loops (fields)", N, nd);
    LF_TEST_ABS(what, rc ? 1.0 : maxdiff(fs, xa, xp), 0, 1e-12);
    snprintf(what, sizeof what, "SU(%d) %dD: identity staple nets = plaquette loops (log q)", N, nd);
    LF_TEST_ABS(what, lqa, lqp, 1e-10);
    lf_free(xa), lf_free(xp);
    lf_sunflow_batch_free(wa), lf_sunflow_batch_free(wp);
    lf_sunflow_model_free(mp);
  } else {
    LF_TEST_TRUE("plaquette model allocation", 0);
  }
  lf_free(z), lf_free(zg), lf_free(gt), lf_free(l0), lf_free(l1);
  lf_sunflow_model_free(m);
}

#ifdef SUNFLOW_LAL_4D
static void check_preset(void) {
  lf_sunflow_config a, b;
  char fa[512], fb[512];
  int rc = lf_sunflow_preset("su3-4d-lal", &a) | lf_sunflow_preset("su3-4d-plaq", &b);
  lf_sunflow_config_format(&a, fa, sizeof fa);
  lf_sunflow_config_format(&b, fb, sizeof fb);
  char *tail = strstr(fa, " lal=2x8");
  LF_TEST_TRUE("su3-4d-lal = su3-4d-plaq + ' lal=2x8'",
               !rc && a.lal == 1 && b.lal == 0 && tail && !strcmp(tail, " lal=2x8") &&
                   !strncmp(fa, fb, (size_t)(tail - fa)) && strlen(fb) == (size_t)(tail - fa));
  lf_sunflow_model *ma, *mb;
  rc = lf_sunflow_model_alloc(&ma, &a, 3) | lf_sunflow_model_alloc(&mb, &b, 3);
  if (rc) {
    LF_TEST_TRUE("su3-4d-lal / su3-4d-plaq models", 0);
    return;
  }
  /* per coupling layer: [8][7*6] + [1][7*8] staple-net weights */
  LF_TEST_TRUE("su3-4d-lal has 16 x 392 staple-net weights more than su3-4d-plaq",
               lf_sunflow_model_nparams(ma) == lf_sunflow_model_nparams(mb) + 16 * 392);
  const size_t fs = lf_sunflow_model_fieldsize(ma);
  lf_cplx *z = lf_alloc(2 * fs * sizeof(lf_cplx)), *x = lf_alloc(2 * fs * sizeof(lf_cplx));
  lf_cplx *y = lf_alloc(2 * fs * sizeof(lf_cplx));
  lf_sunflow_batch *wb;
  double lq[2], lq2[2], glq[2] = {1, 1};
  lf_sunflow_batch_alloc(&wb, ma, 2);
  lf_sunflow_prior_sample(ma, 5, LF_RNG_TAG(LF_RNG_PURPOSE_PRIOR, 1), 0, 2, z);
  rc = lf_sunflow_forward(ma, wb, 2, z, x, lq);
  memset(y, 0, 2 * fs * sizeof(lf_cplx));
  rc |= lf_sunflow_backward(ma, wb, 2, y, glq, NULL);
  rc |= lf_sunflow_inverse(ma, wb, 2, x, y, lq2);
  LF_TEST_ABS("su3-4d-lal on 4^4: forward, backward, inverse (max |z - f^-1(f(z))|)",
              rc ? 1.0 : maxdiff(2 * fs, y, z), 0, TOL_INV);
  LF_TEST_ABS("su3-4d-lal on 4^4: log q of the inverse pass = forward", lq2[1], lq[1], TOL_INV);
  lf_free(z), lf_free(x), lf_free(y);
  lf_sunflow_batch_free(wb);
  lf_sunflow_model_free(ma), lf_sunflow_model_free(mb);
}
#endif

#ifndef SUNFLOW_LAL_4D
static void check_files_threads(void) {
  char dir[] = "/tmp/lf_sunflow_lal_XXXXXX", path[512], opath[512];
  if (!mkdtemp(dir)) {
    LF_TEST_TRUE("temporary directory", 0);
    return;
  }
  snprintf(path, sizeof path, "%s/m.safetensors", dir);
  snprintf(opath, sizeof opath, "%s/m.opt.safetensors", dir);
  lf_sunflow_config c;
  lf_sunflow_preset("su3-2d", &c);
  c.L[0] = c.L[1] = 4, c.nlayers = 4, c.hidden[0] = c.hidden[1] = 4;
  c.lal = 1, c.lal_layers = 2, c.lal_width = 3;
  lf_sunflow_model *m, *m2 = NULL;
  lf_sunflow_batch *wb, *wb2;
  lf_nn_adam opt;
  lf_nn_adam_cfg ac = lf_nn_adam_defaults();
  lf_sunflow_step_stats st;
  if (lf_sunflow_model_alloc(&m, &c, 3)) {
    LF_TEST_TRUE("model allocation", 0);
    return;
  }
  lf_sunflow_batch_alloc(&wb, m, 4);
  lf_nn_adam_init(&opt, lf_sunflow_model_nparams(m), &ac);
  int rc = 0;
  for (long s = 0; s < 2; s++)
    rc |= lf_sunflow_train_step(m, wb, &opt, -1, 9, s, LF_SUNFLOW_GRAD_PATH, &st);
  rc |= lf_sunflow_save(m, &opt, 2, 9, path);
  rc |= lf_sunflow_load(&m2, NULL, NULL, NULL, path);
  const size_t fs = lf_sunflow_model_fieldsize(m);
  lf_cplx *z = lf_alloc(4 * fs * sizeof(lf_cplx)), *x = lf_alloc(4 * fs * sizeof(lf_cplx));
  lf_cplx *y = lf_alloc(4 * fs * sizeof(lf_cplx));
  double lq[4], lq2[4];
  lf_sunflow_prior_sample(m, 1, 77, 0, 4, z);
  if (!rc) {
    lf_sunflow_batch_alloc(&wb2, m2, 4);
    rc |= lf_sunflow_forward(m, wb, 4, z, x, lq) | lf_sunflow_forward(m2, wb2, 4, z, y, lq2);
    lf_sunflow_batch_free(wb2);
  }
  LF_TEST_TRUE("staple nets: train 2 steps, save, load: forward pass bitwise equal",
               !rc && lf_sunflow_model_nparams(m2) == lf_sunflow_model_nparams(m) &&
                   !memcmp(x, y, 4 * fs * sizeof(lf_cplx)) && !memcmp(lq, lq2, sizeof lq));
  lf_nn_params *P = lf_sunflow_model_store(m);
  double *g1 = lf_alloc(P->n * sizeof(double));
  omp_set_num_threads(1);
  rc = lf_sunflow_loss_grad(m, wb, 5, 11, LF_SUNFLOW_GRAD_PATH, &st);
  double l1 = st.loss;
  memcpy(g1, P->grad, P->n * sizeof(double));
  omp_set_num_threads(2);
  rc |= lf_sunflow_loss_grad(m, wb, 5, 11, LF_SUNFLOW_GRAD_PATH, &st);
  LF_TEST_TRUE("staple nets: loss and path gradient bitwise equal with 1 and 2 threads",
               !rc && st.loss == l1 && !memcmp(g1, P->grad, P->n * sizeof(double)));
  lf_free(g1), lf_free(z), lf_free(x), lf_free(y);
  lf_nn_adam_clear(&opt);
  lf_sunflow_batch_free(wb);
  lf_sunflow_model_free(m), lf_sunflow_model_free(m2);
  unlink(path), unlink(opath), rmdir(dir);
}
#endif

int main(void) {
  lf_rng_init(&rng, 2385, LF_RNG_TAG(LF_RNG_PURPOSE_TEST, 63), 0);
  double t0 = lf_time_now();
#ifndef SUNFLOW_LAL_4D
  check_loops(LF_SU2, 2, 4, 4);
  check_loops(LF_SU3, 2, 4, 4);
  check_files_threads();
  check_model(LF_SU2, 2, 4, 4, 1);
  check_model(LF_SU3, 2, 4, 4, 1);
#else
  check_loops(LF_SU2, 4, 2, 2);
  check_loops(LF_SU3, 4, 2, 2);
  check_preset();
  printf("     (%.1f s)\n", lf_time_now() - t0);
  check_model(LF_SU2, 4, 2, 2, 1);
  printf("     (%.1f s)\n", lf_time_now() - t0);
  check_model(LF_SU3, 4, 2, 2, 0);
#endif
  printf("     (%.1f s)\n", lf_time_now() - t0);
  return lf_test_done();
}
