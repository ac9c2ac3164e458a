/* tests/nn/grad.c -- every op's backward against central finite differences.
 *
 * For each op the loss is L = sum_i r_i y_i with fixed random r (so dL/dy = r). The
 * analytic gradient g (input and parameters) is compared with
 *   (L(p + h v) - L(p - h v)) / 2h  along a random direction v  (all components at once)
 * and along 3 single coordinates. Criterion: relative deviation < TOL_FD = 1e-6
 * (central differences have error O(h^2) ~ 1e-10 at h = 1e-5 for these smooth ops;
 * inputs avoid the LeakyReLU kink by more than h). */
#include "latflow/nn.h"
#include "lf_test.h"
#include "nn_util.h"

#include <stdio.h>

static const double TOL_FD = 1e-6;
static const double H = 1e-5;

typedef double (*loss_fn)(void *ctx);

static void fd_check(const char *what, loss_fn L, void *ctx, double *p, const double *g, size_t n,
                     uint64_t tag) {
  double *v = lf_alloc(n * sizeof(double));
  fill_random(v, n, 99, tag, 1.0);
  double an = 0.0;
  for (size_t i = 0; i < n; i++) an += g[i] * v[i];
  for (size_t i = 0; i < n; i++) p[i] += H * v[i];
  double lp = L(ctx);
  for (size_t i = 0; i < n; i++) p[i] -= 2 * H * v[i];
  double lm = L(ctx);
  for (size_t i = 0; i < n; i++) p[i] += H * v[i];
  double fd = (lp - lm) / (2 * H);
  char buf[200];
  snprintf(buf, sizeof buf, "%s: directional derivative (n=%zu)", what, n);
  lf_test_report(fabs(fd - an) <= TOL_FD * fmax(fabs(an), 1e-3), buf, __FILE__, __LINE__,
                 "fd %.12g analytic %.12g rel.dev %.2g", fd, an,
                 fabs(fd - an) / fmax(fabs(an), 1e-300));
  lf_rng r;
  lf_rng_init(&r, 7, LF_RNG_TAG(LF_RNG_PURPOSE_TEST, tag), 1);
  double worst = 0.0, wfd = 0.0, wan = 0.0;
  for (int k = 0; k < 3; k++) {
    size_t i = (size_t)(lf_rng_uniform(&r) * (double)n);
    double p0 = p[i];
    p[i] = p0 + H;
    lp = L(ctx);
    p[i] = p0 - H;
    lm = L(ctx);
    p[i] = p0;
    fd = (lp - lm) / (2 * H);
    double dev = fabs(fd - g[i]) / fmax(fabs(g[i]), 1e-3);
    if (dev >= worst) worst = dev, wfd = fd, wan = g[i];
  }
  snprintf(buf, sizeof buf, "%s: 3 single components, worst", what);
  lf_test_report(worst <= TOL_FD, buf, __FILE__, __LINE__, "fd %.12g analytic %.12g rel.dev %.2g",
                 wfd, wan, worst);
  lf_free(v);
}

static double dot(const double *a, const double *b, size_t n) {
  double s = 0.0;
  for (size_t i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}

/* ---------------------------------------------------------------- activations */
typedef struct {
  lf_nn_act f;
  double a;
  size_t n;
  double *x, *y, *r;
} act_ctx;

static double act_loss(void *p) {
  act_ctx *c = p;
  lf_nn_act_forward(c->f, c->a, c->n, c->x, c->y);
  return dot(c->r, c->y, c->n);
}

static void check_acts(void) {
  size_t n = 200;
  double *x = lf_alloc(n * 8), *y = lf_alloc(n * 8), *r = lf_alloc(n * 8), *g = lf_alloc(n * 8);
  for (int f = LF_NN_ACT_NONE; f <= LF_NN_ACT_GELU; f++) {
    fill_random(x, n, 3, (uint64_t)f, 3.0);
    for (size_t i = 0; i < n; i++)
      if (fabs(x[i]) < 1e-3) x[i] = 0.0137; /* stay off the LeakyReLU kink */
    fill_random(r, n, 3, 100 + (uint64_t)f, 1.0);
    act_ctx c = {(lf_nn_act)f, 0.013, n, x, y, r};
    lf_nn_act_backward(c.f, c.a, n, x, r, g);
    char what[64];
    snprintf(what, sizeof what, "activation %s", lf_nn_act_name(c.f));
    fd_check(what, act_loss, &c, x, g, n, 200 + (uint64_t)f);
  }
  /* extreme inputs stay finite */
  double big[4] = {-800.0, -40.0, 40.0, 800.0}, out[4];
  int finite = 1;
  for (int f = LF_NN_ACT_NONE; f <= LF_NN_ACT_GELU; f++) {
    lf_nn_act_forward((lf_nn_act)f, 0.01, 4, big, out);
    for (int i = 0; i < 4; i++) finite &= isfinite(out[i]);
    lf_nn_act_backward((lf_nn_act)f, 0.01, 4, big, big, out);
    for (int i = 0; i < 4; i++) finite &= isfinite(out[i]);
  }
  LF_TEST_TRUE("activations and derivatives finite at |x| = 800", finite);
  lf_nn_act p;
  LF_TEST_TRUE("parse 'gelu'", lf_nn_act_parse("gelu", &p) == LF_OK && p == LF_NN_ACT_GELU);
  LF_TEST_TRUE("parse 'relu6' fails and lists names",
               lf_nn_act_parse("relu6", &p) == LF_EINVAL && strstr(lf_last_error(), "softplus"));
  lf_free(x), lf_free(y), lf_free(r), lf_free(g);
}

/* ---------------------------------------------------------------- softmax, mul, sum */
typedef struct {
  int b, c;
  long s;
  double *x, *x2, *y, *r;
  int op; /* 0 softmax, 1 mul, 2 sum_sites, 3 add */
} ew_ctx;

static double ew_loss(void *p) {
  ew_ctx *c = p;
  size_t n = (size_t)c->b * c->c * c->s;
  switch (c->op) {
  case 0: lf_nn_softmax(c->b, c->c, c->s, c->x, c->y); break;
  case 1: lf_nn_mul(n, c->x, c->x2, c->y); break;
  case 2: lf_nn_sum_sites(c->b, c->c, c->s, c->x, c->y); n = (size_t)c->b * c->c; break;
  default: lf_nn_add(n, c->x, c->x2, c->y); break;
  }
  return dot(c->r, c->y, n);
}

static void check_elementwise(void) {
  int B = 3, C = 5;
  long S = 12;
  size_t n = (size_t)B * C * S;
  double *x = lf_alloc(n * 8), *x2 = lf_alloc(n * 8), *y = lf_alloc(n * 8), *r = lf_alloc(n * 8),
         *g = lf_alloc(n * 8), *g2 = lf_alloc(n * 8);
  fill_random(x, n, 4, 1, 2.5);
  fill_random(x2, n, 4, 2, 1.5);
  fill_random(r, n, 4, 3, 1.0);
  ew_ctx c = {B, C, S, x, x2, y, r, 0};
  lf_nn_softmax(B, C, S, x, y);
  lf_nn_softmax_backward(B, C, S, y, r, g);
  fd_check("softmax over channels", ew_loss, &c, x, g, n, 301);
  c.op = 1;
  memset(g, 0, n * 8), memset(g2, 0, n * 8);
  lf_nn_mul_backward(n, x, x2, r, g, g2);
  fd_check("mul, first factor", ew_loss, &c, x, g, n, 302);
  fd_check("mul, second factor", ew_loss, &c, x2, g2, n, 303);
  c.op = 3;
  memset(g, 0, n * 8);
  lf_nn_add_backward(n, r, g);
  fd_check("add", ew_loss, &c, x, g, n, 304);
  c.op = 2;
  lf_nn_sum_sites_backward(B, C, S, r, g);
  fd_check("sum over sites", ew_loss, &c, x, g, n, 305);
  lf_free(x), lf_free(x2), lf_free(y), lf_free(r), lf_free(g), lf_free(g2);
}

/* ---------------------------------------------------------------- dense */
typedef struct {
  int b, nin, nout;
  double *w, *bias, *x, *y, *r;
} dense_ctx;

static double dense_loss(void *p) {
  dense_ctx *c = p;
  lf_nn_dense_forward(c->b, c->nin, c->nout, c->w, c->bias, c->x, c->y);
  return dot(c->r, c->y, (size_t)c->b * c->nout);
}

static void check_dense(void) {
  int B = 4, NI = 7, NO = 5;
  double *w = lf_alloc(NO * NI * 8), *bias = lf_alloc(NO * 8), *x = lf_alloc(B * NI * 8),
         *y = lf_alloc(B * NO * 8), *r = lf_alloc(B * NO * 8), *dx = lf_alloc(B * NI * 8),
         *dw = lf_alloc(NO * NI * 8), *db = lf_alloc(NO * 8);
  fill_random(w, NO * NI, 6, 1, 1.0);
  fill_random(bias, NO, 6, 2, 1.0);
  fill_random(x, B * NI, 6, 3, 2.0);
  fill_random(r, B * NO, 6, 4, 1.0);
  dense_ctx c = {B, NI, NO, w, bias, x, y, r};
  lf_nn_dense_backward(B, NI, NO, w, x, r, dx, dw, db);
  fd_check("dense input", dense_loss, &c, x, dx, (size_t)B * NI, 401);
  fd_check("dense weight", dense_loss, &c, w, dw, (size_t)NO * NI, 402);
  fd_check("dense bias", dense_loss, &c, bias, db, NO, 403);
  lf_free(w), lf_free(bias), lf_free(x), lf_free(y), lf_free(r), lf_free(dx), lf_free(dw),
      lf_free(db);
}

/* ---------------------------------------------------------------- conv */
typedef struct {
  lf_nn_conv *c;
  int b;
  double *w, *bias, *x, *y, *r;
  lf_arena *ws;
} conv_ctx;

static double conv_loss(void *p) {
  conv_ctx *c = p;
  lf_nn_conv_forward(c->c, c->b, c->w, c->bias, c->x, c->y, c->ws);
  return dot(c->r, c->y, (size_t)c->b * c->c->cout * (size_t)c->c->vol);
}

static void check_conv(int nd, const int *L, int k, int cin, int cout, int B, int method,
                       lf_arena *ws) {
  lf_nn_conv c;
  if (lf_nn_conv_init(&c, nd, L, k, cin, cout) || lf_nn_conv_set_method(&c, method)) {
    LF_TEST_TRUE(lf_last_error(), 0);
    return;
  }
  size_t nx = (size_t)B * cin * c.vol, ny = (size_t)B * cout * c.vol,
         nw = (size_t)cout * cin * c.taps;
  double *w = lf_alloc(nw * 8), *bias = lf_alloc(cout * 8), *x = lf_alloc(nx * 8),
         *y = lf_alloc(ny * 8), *r = lf_alloc(ny * 8), *dx = lf_alloc(nx * 8),
         *dw = lf_alloc(nw * 8), *db = lf_alloc(cout * 8);
  fill_random(w, nw, 8, 1, 1.0);
  fill_random(bias, cout, 8, 2, 1.0);
  fill_random(x, nx, 8, 3, 2.0);
  fill_random(r, ny, 8, 4, 1.0);
  conv_ctx cc = {&c, B, w, bias, x, y, r, ws};
  lf_nn_conv_backward(&c, B, w, x, r, dx, dw, db, ws);
  char what[160];
  const char *mn = method == LF_NN_CONV_LANES ? "lanes" : "im2col";
  snprintf(what, sizeof what, "%s conv d=%d k=%d %d->%d batch %d input", mn, nd, k, cin, cout, B);
  fd_check(what, conv_loss, &cc, x, dx, nx, 501);
  snprintf(what, sizeof what, "%s conv d=%d k=%d %d->%d batch %d weight", mn, nd, k, cin, cout, B);
  fd_check(what, conv_loss, &cc, w, dw, nw, 502);
  snprintf(what, sizeof what, "%s conv d=%d k=%d %d->%d batch %d bias", mn, nd, k, cin, cout, B);
  fd_check(what, conv_loss, &cc, bias, db, (size_t)cout, 503);
  /* accumulation: a second backward doubles dw */
  double *dw2 = lf_alloc(nw * 8);
  memcpy(dw2, dw, nw * 8);
  lf_nn_conv_backward(&c, B, w, x, r, NULL, dw2, NULL, ws);
  int twice = 1;
  for (size_t i = 0; i < nw; i++) twice &= fabs(dw2[i] - 2 * dw[i]) <= 1e-12 * fabs(dw[i]) + 1e-300;
  snprintf(what, sizeof what, "%s conv: weight gradients accumulate (second call doubles dw)", mn);
  LF_TEST_TRUE(what, twice);
  lf_free(dw2);
  lf_free(w), lf_free(bias), lf_free(x), lf_free(y), lf_free(r), lf_free(dx), lf_free(dw),
      lf_free(db);
  lf_nn_conv_clear(&c);
}

/* ---------------------------------------------------------------- conv net */
typedef struct {
  lf_nn_convnet *net;
  lf_nn_params *P;
  int b;
  double *x, *y, *r;
  lf_arena *a;
} net_ctx;

static double net_loss(void *p) {
  net_ctx *c = p;
  lf_arena_reset(c->a);
  lf_nn_convnet_forward(c->net, c->P, c->b, c->x, c->y, c->a, NULL);
  int n = c->net->cfg.nlayers;
  return dot(c->r, c->y, (size_t)c->b * c->net->cfg.channels[n] * (size_t)c->net->vol);
}

/* A 3-layer test net 2 -> 6 -> 5 -> cout with random weights (seed) and biases; 0 on
 * failure (reported). */
static int test_net(lf_nn_convnet *net, lf_nn_params *P, int nd, const int *L, int k, int cout,
                    lf_nn_act act, lf_nn_act out_act, uint64_t seed) {
  lf_nn_params_init(P);
  lf_nn_convnet_cfg cfg = {.nd = nd, .kernel = k, .nlayers = 3, .channels = {2, 6, 5, cout},
                           .act = act, .act_param = 0.02, .out_act = out_act};
  for (int mu = 0; mu < nd; mu++) cfg.L[mu] = L[mu];
  if (lf_nn_convnet_init(net, &cfg, P, "cnn")) {
    LF_TEST_TRUE(lf_last_error(), 0);
    return 0;
  }
  lf_nn_convnet_init_weights(net, P, 1.0, 0.7, seed);
  for (int l = 0; l < 3; l++) fill_random(lf_nn_params_ptr(P, net->bidx[l]), (size_t)cfg.channels[l + 1], 9, (uint64_t)l, 0.3);
  return 1;
}

static void check_net(int nd, const int *L, int k, int B, lf_nn_act act, lf_nn_act out_act) {
  lf_nn_params P;
  lf_nn_convnet net;
  if (!test_net(&net, &P, nd, L, k, 3, act, out_act, 17)) return;
  size_t nx = (size_t)B * 2 * net.vol, ny = (size_t)B * 3 * net.vol;
  double *x = lf_alloc(nx * 8), *y = lf_alloc(ny * 8), *r = lf_alloc(ny * 8),
         *dx = lf_alloc(nx * 8);
  fill_random(x, nx, 10, 1, 2.0);
  fill_random(r, ny, 10, 2, 1.0);
  lf_arena a;
  lf_arena_init(&a, lf_nn_convnet_arena_bytes(&net, B));
  lf_nn_saved *sv;
  lf_nn_params_zero_grad(&P);
  int rc = lf_nn_convnet_forward(&net, &P, B, x, y, &a, &sv);
  if (!rc) rc = lf_nn_convnet_backward(&net, &P, sv, r, dx, &a);
  LF_TEST_TRUE("conv net forward+backward fit in lf_nn_convnet_arena_bytes", rc == LF_OK);
  {
    /* input-only backward: the same dx bitwise, parameter gradients untouched */
    double *dx2 = lf_alloc(nx * 8), *g0 = lf_alloc(P.n * 8);
    memcpy(g0, P.grad, P.n * 8);
    rc = lf_nn_convnet_forward(&net, &P, B, x, y, &a, &sv);
    if (!rc) rc = lf_nn_convnet_backward_input(&net, &P, sv, r, dx2, &a);
    char w2[160];
    snprintf(w2, sizeof w2, "net d=%d k=%d b=%d: backward_input dx == backward dx bitwise, "
             "gradients untouched", nd, k, B);
    LF_TEST_TRUE(w2, rc == LF_OK && !memcmp(dx, dx2, nx * 8) && !memcmp(g0, P.grad, P.n * 8));
    lf_free(dx2), lf_free(g0);
  }
  net_ctx c = {&net, &P, B, x, y, r, &a};
  char what[160];
  snprintf(what, sizeof what, "net d=%d k=%d b=%d %s/%s input", nd, k, B, lf_nn_act_name(act),
           lf_nn_act_name(out_act));
  fd_check(what, net_loss, &c, x, dx, nx, 601);
  snprintf(what, sizeof what, "net d=%d k=%d b=%d %s/%s all parameters", nd, k, B,
           lf_nn_act_name(act), lf_nn_act_name(out_act));
  fd_check(what, net_loss, &c, P.data, P.grad, P.n, 602);
  lf_free(x), lf_free(y), lf_free(r), lf_free(dx);
  lf_arena_clear(&a);
  lf_nn_convnet_clear(&net);
  lf_nn_params_clear(&P);
}

/* Output restricted to listed sites (lf_nn_convnet_set_output_sites) against the full net:
 * forward equal on the listed sites (bitwise), backward with dy off the listed sites set
 * to garbage equal to the full backward with those entries zeroed (dx, dw, db). */
static void check_net_sites(int nd, const int *L, int k, int B, lf_nn_act act, lf_nn_act out_act) {
  lf_nn_params P;
  lf_nn_convnet net;
  if (!test_net(&net, &P, nd, L, k, 7, act, out_act, 19)) return;
  const long V = net.vol;
  size_t nx = (size_t)B * 2 * (size_t)V, ny = (size_t)B * 7 * (size_t)V;
  double *x = lf_alloc(nx * 8), *y0 = lf_alloc(ny * 8), *y1 = lf_alloc(ny * 8), *r = lf_alloc(ny * 8),
         *rm = lf_alloc(ny * 8), *dx0 = lf_alloc(nx * 8), *dx1 = lf_alloc(nx * 8),
         *g0 = lf_alloc(P.n * 8);
  int *sites = lf_alloc(sizeof(int) * (size_t)V);
  unsigned char *on = lf_alloc((size_t)V);
  long n = 0;
  for (long s = 0; s < V; s++) { /* an irregular third of the sites */
    on[s] = (s * 7 + s / 3) % 3 == 0;
    if (on[s]) sites[n++] = (int)s;
  }
  fill_random(x, nx, 11, 1, 2.0);
  fill_random(r, ny, 11, 2, 1.0);
  for (size_t i = 0; i < ny; i++) rm[i] = on[i % (size_t)V] ? r[i] : 0.0;
  lf_arena a;
  lf_arena_init(&a, lf_nn_convnet_arena_bytes(&net, B));
  lf_nn_saved *sv;
  lf_nn_params_zero_grad(&P);
  int rc = lf_nn_convnet_forward(&net, &P, B, x, y0, &a, &sv);
  if (!rc) rc = lf_nn_convnet_backward(&net, &P, sv, rm, dx0, &a);
  memcpy(g0, P.grad, P.n * 8);
  if (!rc) rc = lf_nn_convnet_set_output_sites(&net, sites, n);
  lf_arena_reset(&a);
  lf_nn_params_zero_grad(&P);
  if (!rc) rc = lf_nn_convnet_forward(&net, &P, B, x, y1, &a, &sv);
  if (!rc) rc = lf_nn_convnet_backward(&net, &P, sv, r, dx1, &a);
  char what[200];
  snprintf(what, sizeof what, "net d=%d k=%d b=%d, output on %ld of %ld sites: runs", nd, k, B, n, V);
  LF_TEST_TRUE(what, rc == LF_OK);
  int same = 1;
  for (size_t i = 0; i < ny; i++)
    if (on[i % (size_t)V] && y0[i] != y1[i]) same = 0;
  snprintf(what, sizeof what, "net d=%d k=%d b=%d: restricted forward == full forward on the listed sites (bitwise)", nd, k, B);
  LF_TEST_TRUE(what, same);
  double ex = 0, mx = 0, eg = 0, mg = 0;
  for (size_t i = 0; i < nx; i++) ex = fmax(ex, fabs(dx1[i] - dx0[i])), mx = fmax(mx, fabs(dx0[i]));
  for (size_t i = 0; i < P.n; i++) eg = fmax(eg, fabs(P.grad[i] - g0[i])), mg = fmax(mg, fabs(g0[i]));
  snprintf(what, sizeof what, "net d=%d k=%d b=%d: restricted backward dx == full backward of masked dy", nd, k, B);
  LF_TEST_ABS(what, ex, 0.0, 1e-13 * mx);
  snprintf(what, sizeof what, "net d=%d k=%d b=%d: restricted dw, db == full backward of masked dy", nd, k, B);
  LF_TEST_ABS(what, eg, 0.0, 1e-13 * mg);
  LF_TEST_TRUE("a site listed twice is refused",
               (sites[1] = sites[0], lf_nn_convnet_set_output_sites(&net, sites, n)) == LF_EINVAL);
  lf_error_clear();
  lf_free(x), lf_free(y0), lf_free(y1), lf_free(r), lf_free(rm), lf_free(dx0), lf_free(dx1);
  lf_free(g0), lf_free(sites), lf_free(on);
  lf_arena_clear(&a);
  lf_nn_convnet_clear(&net);
  lf_nn_params_clear(&P);
}

int main(void) {
  check_acts();
  check_elementwise();
  check_dense();
  lf_arena ws;
  lf_arena_init(&ws, (size_t)64 << 20);
  int L2[2] = {6, 4}, L4[4] = {4, 2, 4, 2};
  for (int m = LF_NN_CONV_IM2COL; m <= LF_NN_CONV_LANES; m++) {
    check_conv(2, L2, 1, 3, 2, 3, m, &ws);
    check_conv(2, L2, 3, 2, 5, 9, m, &ws);
    check_conv(2, L2, 5, 4, 3, 2, m, &ws);
    check_conv(4, L4, 1, 2, 3, 2, m, &ws);
    check_conv(4, L4, 3, 3, 2, 8, m, &ws);
    check_conv(4, L4, 5, 2, 2, 2, m, &ws);
  }
  lf_arena_clear(&ws);
  check_net(2, L2, 3, 9, LF_NN_ACT_LEAKY_RELU, LF_NN_ACT_NONE);
  check_net(2, L2, 3, 3, LF_NN_ACT_TANH, LF_NN_ACT_SIGMOID);
  check_net(2, L2, 5, 2, LF_NN_ACT_GELU, LF_NN_ACT_SOFTPLUS);
  check_net(4, L4, 3, 8, LF_NN_ACT_SOFTPLUS, LF_NN_ACT_TANH);
  int L8[2] = {8, 12};
  check_net_sites(2, L8, 3, 9, LF_NN_ACT_LEAKY_RELU, LF_NN_ACT_NONE);  /* lanes, padded chunk */
  check_net_sites(2, L8, 5, 16, LF_NN_ACT_TANH, LF_NN_ACT_SOFTPLUS);  /* lanes, 2 chunks */
  check_net_sites(2, L8, 3, 3, LF_NN_ACT_LEAKY_RELU, LF_NN_ACT_NONE);  /* im2col */
  check_net_sites(4, L4, 3, 8, LF_NN_ACT_GELU, LF_NN_ACT_NONE);        /* lanes, 4D */
  return lf_test_done();
}
