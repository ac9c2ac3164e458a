/* tests/nn/init.c -- initialisers: xavier-normal variance (4 sigma of the sample
 * variance), reproducibility and independence from initialisation order, near-identity
 * (gain 0 gives exactly the identity map), zero last layer gives out_act(0), and the
 * parameter store's names, offsets and errors. */
#include "latflow/nn.h"
#include "lf_test.h"
#include "nn_util.h"

int main(void) {
  lf_nn_params P;
  lf_nn_params_init(&P);
  long sw[4] = {64, 32, 3, 3}, sb[1] = {64};
  int iw, ib;
  LF_TEST_TRUE("add weight", lf_nn_params_add(&P, "c.weight", 4, sw, &iw) == LF_OK);
  LF_TEST_TRUE("add bias", lf_nn_params_add(&P, "c.bias", 1, sb, &ib) == LF_OK);
  LF_TEST_TRUE("flat size and offsets", P.n == 64 * 32 * 9 + 64 && P.info[ib].offset == 64 * 32 * 9);
  LF_TEST_TRUE("find by name", lf_nn_params_find(&P, "c.bias") == ib && lf_nn_params_find(&P, "x") < 0);
  LF_TEST_TRUE("empty name rejected", lf_nn_params_add(&P, "", 1, sb, NULL) == LF_EINVAL);
  long bad[1] = {0};
  LF_TEST_TRUE("zero extent rejected", lf_nn_params_add(&P, "z", 1, bad, NULL) == LF_EINVAL);

  /* xavier: sigma^2 = gain^2 * 2 / (fan_in + fan_out), fan_in = 32*9, fan_out = 64*9 */
  double gain = 1.7;
  lf_nn_init_xavier_normal(&P, iw, gain, 2024);
  const double *w = lf_nn_params_ptr(&P, iw);
  size_t n = P.info[iw].size;
  double s2 = 0.0, s4 = 0.0;
  for (size_t i = 0; i < n; i++) s2 += w[i] * w[i], s4 += w[i] * w[i] * w[i] * w[i];
  double var = s2 / (double)n, err = sqrt((s4 / (double)n - var * var) / (double)n);
  LF_TEST_SIGMA("xavier-normal variance", var, err, gain * gain * 2.0 / (32 * 9 + 64 * 9), 4.0);

  /* reproducible, keyed by tensor index (not by order of calls) */
  double w0 = w[17];
  lf_nn_init_xavier_normal(&P, ib, 1.0, 2024);
  lf_nn_init_xavier_normal(&P, iw, gain, 2024);
  LF_TEST_TRUE("same seed, same values, independent of other tensors' init", w[17] == w0);
  lf_nn_init_xavier_normal(&P, iw, gain, 2025);
  LF_TEST_TRUE("other seed, other values", w[17] != w0);
  lf_nn_params_clear(&P);

  /* near identity with gain 0: conv 3 -> 3 is the identity map */
  lf_nn_params_init(&P);
  long s33[4] = {3, 3, 3, 3};
  lf_nn_params_add(&P, "id.weight", 4, s33, &iw);
  LF_TEST_TRUE("near identity init", lf_nn_init_near_identity(&P, iw, 9, 0.0, 1) == LF_OK);
  LF_TEST_TRUE("near identity rejects wrong taps",
               lf_nn_init_near_identity(&P, iw, 4, 0.0, 1) == LF_EINVAL);
  lf_nn_conv c;
  lf_nn_conv_init(&c, 2, (int[]){6, 4}, 3, 3, 3);
  lf_arena a;
  lf_arena_init(&a, 1 << 22);
  double x[2 * 3 * 24], y[2 * 3 * 24];
  fill_random(x, 2 * 3 * 24, 1, 1, 2.0);
  lf_nn_conv_forward(&c, 2, lf_nn_params_ptr(&P, iw), NULL, x, y, &a);
  LF_TEST_TRUE("gain 0 near-identity conv returns its input exactly",
               !memcmp(x, y, sizeof x));
  lf_nn_init_near_identity(&P, iw, 9, 0.1, 1);
  lf_nn_conv_forward(&c, 2, lf_nn_params_ptr(&P, iw), NULL, x, y, &a);
  LF_TEST_TRUE("gain 0.1 near-identity conv is close to but not the identity",
               max_abs_diff(x, y, 2 * 3 * 24) > 0 && max_abs_diff(x, y, 2 * 3 * 24) < 2.0);
  lf_nn_conv_clear(&c);
  lf_nn_params_clear(&P);

  /* conv net with last_gain 0: output is exactly out_act(0) */
  lf_nn_params_init(&P);
  lf_nn_convnet_cfg cfg = {.nd = 2, .L = {6, 4}, .kernel = 3, .nlayers = 2, .channels = {3, 5, 2},
                           .act = LF_NN_ACT_TANH, .out_act = LF_NN_ACT_SIGMOID};
  lf_nn_convnet net;
  lf_nn_convnet_init(&net, &cfg, &P, "flow.layer3");
  LF_TEST_TRUE("conv net parameter names", lf_nn_params_find(&P, "flow.layer3.1.weight") >= 0 &&
                                               P.info[lf_nn_params_find(&P, "flow.layer3.1.weight")].shape[1] == 5);
  lf_nn_convnet_init_weights(&net, &P, 1.0, 0.0, 3);
  double z[2 * 2 * 24];
  lf_arena_reset(&a);
  lf_nn_convnet_forward(&net, &P, 2, x, z, &a, NULL);
  int half = 1;
  for (int i = 0; i < 2 * 2 * 24; i++) half &= z[i] == 0.5;
  LF_TEST_TRUE("last_gain 0: conv net output is sigmoid(0) = 0.5 everywhere", half);
  /* a forward with saving keeps at most lf_nn_convnet_saved_bytes in the arena */
  for (int bt = 2; bt <= 9; bt += 7) {
    double *xb = lf_alloc((size_t)bt * 3 * 24 * sizeof(double));
    double *yb = lf_alloc((size_t)bt * 2 * 24 * sizeof(double));
    fill_random(xb, bt * 3 * 24, 4, 1, 1.0);
    lf_nn_saved *sv = NULL;
    lf_arena_reset(&a);
    int frc = lf_nn_convnet_forward(&net, &P, bt, xb, yb, &a, &sv);
    printf("     batch %d: record %zu bytes, bound %zu\n", bt, a.used,
           lf_nn_convnet_saved_bytes(&net, bt));
    LF_TEST_TRUE("saved record fits lf_nn_convnet_saved_bytes",
                 frc == LF_OK && sv && a.used <= lf_nn_convnet_saved_bytes(&net, bt));
    lf_free(xb), lf_free(yb);
  }
  LF_TEST_TRUE("second net with the same prefix rejected",
               lf_nn_convnet_init(&(lf_nn_convnet){0}, &cfg, &P, "flow.layer3") == LF_EINVAL);
  lf_nn_convnet_clear(&net);
  lf_nn_params_clear(&P);
  lf_arena_clear(&a);
  return lf_test_done();
}
