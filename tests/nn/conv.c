/* tests/nn/conv.c -- periodic convolution against the naive definition (forward, and
 * backward via the adjoint identity <dy, conv(x)> = <conv^T dy, x>), translation
 * equivariance, and bitwise independence of the thread count (1 vs 2 threads) for
 * conv forward/backward and a whole conv net. */
#include "latflow/nn.h"
#include "lf_test.h"
#include "nn_util.h"

#include <omp.h>
#include <stdio.h>

static const double TOL_REF = 1e-12; /* relative to max |y|: only rounding differs */

static const char *mname[] = {"auto", "im2col", "lanes"};

static void check_case(int nd, const int *L, int k, int cin, int cout, int batch, int method,
                       lf_arena *ws) {
  char what[160];
  lf_nn_conv c;
  if (lf_nn_conv_init(&c, nd, L, k, cin, cout) || lf_nn_conv_set_method(&c, method)) {
    LF_TEST_TRUE(lf_last_error(), 0);
    return;
  }
  long V = c.vol;
  size_t nx = (size_t)batch * cin * V, ny = (size_t)batch * cout * V,
         nw = (size_t)cout * cin * c.taps;
  double *x = lf_alloc(nx * 8), *y = lf_alloc(ny * 8), *yr = lf_alloc(ny * 8),
         *w = lf_alloc(nw * 8), *b = lf_alloc((size_t)cout * 8), *xs = lf_alloc(nx * 8),
         *ys = lf_alloc(ny * 8), *ysr = lf_alloc(ny * 8);
  fill_random(x, nx, 11, 1, 1.7);
  fill_random(w, nw, 11, 2, 0.9);
  fill_random(b, (size_t)cout, 11, 3, 0.5);
  lf_nn_conv_forward(&c, batch, w, b, x, y, ws);
  naive_conv(nd, L, k, cin, cout, batch, w, b, x, yr);
  snprintf(what, sizeof what, "%s conv d=%d L0=%d k=%d %d->%d batch %d vs naive: max|dy|/max|y|",
           mname[method], nd, L[0], k, cin, cout, batch);
  LF_TEST_ABS(what, max_abs_diff(y, yr, ny) / max_abs(yr, ny), 0.0, TOL_REF);

  /* translation equivariance: conv(shift x) = shift conv(x) */
  int sh[4] = {1, -2, 3, 1};
  shift_field(nd, L, batch * cin, sh, x, xs);
  lf_nn_conv_forward(&c, batch, w, b, xs, ys, ws);
  shift_field(nd, L, batch * cout, sh, y, ysr);
  snprintf(what, sizeof what, "%s conv d=%d k=%d equivariance under shift (1,-2,3,1)",
           mname[method], nd, k);
  LF_TEST_ABS(what, max_abs_diff(ys, ysr, ny) / max_abs(ysr, ny), 0.0, TOL_REF);

  /* adjoint: <r, conv_nobias(x)> = <conv^T r, x> */
  double *r = ysr, *dx = xs;
  fill_random(r, ny, 11, 4, 1.3);
  lf_nn_conv_forward(&c, batch, w, NULL, x, y, ws);
  lf_nn_conv_backward(&c, batch, w, x, r, dx, NULL, NULL, ws);
  double lhs = 0, rhs = 0;
  for (size_t i = 0; i < ny; i++) lhs += r[i] * y[i];
  for (size_t i = 0; i < nx; i++) rhs += dx[i] * x[i];
  snprintf(what, sizeof what, "%s conv d=%d k=%d adjoint <r,Wx> = <W^T r,x>", mname[method], nd,
           k);
  LF_TEST_REL(what, rhs, lhs, 1e-12 * (double)nx);
  lf_free(x), lf_free(y), lf_free(yr), lf_free(w), lf_free(b), lf_free(xs), lf_free(ys),
      lf_free(ysr);
  lf_nn_conv_clear(&c);
}

/* Run conv net forward + backward with nthreads; copies outputs into out. */
static void run_net(int nthreads, const lf_nn_convnet *net, lf_nn_params *P, int batch,
                    const double *x, const double *dy, double *y, double *dx, double *grad,
                    lf_arena *a) {
  omp_set_num_threads(nthreads);
  lf_arena_reset(a);
  lf_nn_params_zero_grad(P);
  lf_nn_saved *sv;
  int rc = lf_nn_convnet_forward(net, P, batch, x, y, a, &sv);
  if (!rc) rc = lf_nn_convnet_backward(net, P, sv, dy, dx, a);
  if (rc) printf("error: %s\n", lf_last_error());
  memcpy(grad, P->grad, P->n * sizeof(double));
}

static void check_threads(int nd, const int *L, int batch, int c0, int c1, int c2) {
  lf_nn_params P;
  lf_nn_params_init(&P);
  lf_nn_convnet_cfg cfg = {.nd = nd, .kernel = 3, .nlayers = 3, .channels = {c0, c1, c1, c2},
                           .act = LF_NN_ACT_LEAKY_RELU, .act_param = 0.01,
                           .out_act = LF_NN_ACT_TANH};
  for (int mu = 0; mu < nd; mu++) cfg.L[mu] = L[mu];
  lf_nn_convnet net;
  if (lf_nn_convnet_init(&net, &cfg, &P, "net")) {
    LF_TEST_TRUE(lf_last_error(), 0);
    return;
  }
  lf_nn_convnet_init_weights(&net, &P, 1.0, 0.5, 42);
  long V = net.vol;
  size_t nx = (size_t)batch * c0 * V, ny = (size_t)batch * c2 * V;
  double *x = lf_alloc(nx * 8), *dy = lf_alloc(ny * 8);
  double *y1 = lf_alloc(ny * 8), *y2 = lf_alloc(ny * 8), *dx1 = lf_alloc(nx * 8),
         *dx2 = lf_alloc(nx * 8), *g1 = lf_alloc(P.n * 8), *g2 = lf_alloc(P.n * 8);
  fill_random(x, nx, 5, 1, 2.0);
  fill_random(dy, ny, 5, 2, 1.0);
  lf_arena a;
  lf_arena_init(&a, lf_nn_convnet_arena_bytes(&net, batch) * 2);
  run_net(1, &net, &P, batch, x, dy, y1, dx1, g1, &a);
  run_net(2, &net, &P, batch, x, dy, y2, dx2, g2, &a);
  char what[160];
  snprintf(what, sizeof what, "net d=%d batch %d: 1 vs 2 threads bitwise (y, dx, grad)", nd, batch);
  LF_TEST_TRUE(what, !memcmp(y1, y2, ny * 8) && !memcmp(dx1, dx2, nx * 8) &&
                         !memcmp(g1, g2, P.n * 8));
  run_net(3, &net, &P, batch, x, dy, y2, dx2, g2, &a);
  snprintf(what, sizeof what, "net d=%d batch %d: 1 vs 3 threads bitwise (y, dx, grad)", nd, batch);
  LF_TEST_TRUE(what, !memcmp(y1, y2, ny * 8) && !memcmp(dx1, dx2, nx * 8) &&
                         !memcmp(g1, g2, P.n * 8));
  omp_set_num_threads(2);
  lf_free(x), lf_free(dy), lf_free(y1), lf_free(y2), lf_free(dx1), lf_free(dx2), lf_free(g1),
      lf_free(g2);
  lf_arena_clear(&a);
  lf_nn_convnet_clear(&net);
  lf_nn_params_clear(&P);
}

int main(void) {
  lf_arena ws;
  lf_arena_init(&ws, (size_t)256 << 20);
  int L2[2] = {8, 6}, L2b[2] = {32, 32}, L3[3] = {4, 6, 2}, L4[4] = {4, 4, 6, 2},
      L4b[4] = {8, 4, 6, 4};
  for (int m = LF_NN_CONV_IM2COL; m <= LF_NN_CONV_LANES; m++) {
    check_case(2, L2, 3, 2, 8, 5, m, &ws);
    check_case(2, L2, 5, 3, 4, 9, m, &ws);
    check_case(2, L2, 1, 4, 3, 3, m, &ws);
    check_case(2, L2b, 3, 3, 5, 2, m, &ws); /* > LF_NN_CONV_NB sites: row blocks */
    check_case(3, L3, 3, 2, 3, 10, m, &ws);
    check_case(4, L4, 3, 3, 6, 8, m, &ws);
    check_case(4, L4, 5, 2, 2, 1, m, &ws);
    check_case(4, L4b, 3, 2, 5, 9, m, &ws);
    check_case(2, (int[]){2, 2}, 5, 2, 2, 2, m, &ws); /* kernel wider than the lattice */
  }

  /* error paths */
  lf_nn_conv c;
  LF_TEST_TRUE("even kernel rejected", lf_nn_conv_init(&c, 2, L2, 4, 1, 1) == LF_EINVAL);
  LF_TEST_TRUE("dimension 5 rejected", lf_nn_conv_init(&c, 5, L4, 3, 1, 1) == LF_EINVAL);
  LF_TEST_TRUE("zero channels rejected", lf_nn_conv_init(&c, 2, L2, 3, 0, 1) == LF_EINVAL);
  LF_TEST_TRUE("message says what to use", strstr(lf_last_error(), ">= 1") != NULL);
  lf_nn_conv_clear(&c);
  lf_nn_conv_init(&c, 2, L2, 3, 2, 2);
  lf_arena tiny;
  lf_arena_init(&tiny, 256);
  double buf[2 * 2 * 48] = {0}, w[36] = {0}, out[2 * 2 * 48];
  LF_TEST_TRUE("full arena gives LF_ENOMEM, arena untouched",
               lf_nn_conv_forward(&c, 2, w, NULL, buf, out, &tiny) == LF_ENOMEM && tiny.used == 0);
  lf_arena_clear(&tiny);
  lf_nn_conv_clear(&c);

  check_threads(2, (int[]){8, 8}, 37, 2, 8, 3);   /* lanes */
  check_threads(4, (int[]){4, 4, 4, 4}, 5, 3, 4, 2); /* im2col */
  check_threads(4, (int[]){4, 4, 6, 4}, 17, 3, 5, 2); /* lanes */
  check_threads(2, (int[]){32, 16}, 3, 2, 4, 2);   /* im2col, row blocks */
  check_threads(2, (int[]){64, 64}, 8, 2, 4, 2);   /* lanes, site blocks */
  lf_arena_clear(&ws);
  return lf_test_done();
}
