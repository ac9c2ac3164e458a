/*
 * tests/sunflow/lalcache.c -- the staple-net activations kept in a batch workspace
 * (src/sunflow/coupling.c, internal.h LF_SUNFLOW_LAL_KEEP): a workspace that keeps every
 * layer's activations (the default for small batches) and one that keeps a single layer's
 * (forced with the model's lal_keep = 0, as for large batches) must give bitwise equal
 * results, since the cache only skips recomputing the same numbers:
 *   - path-gradient and reparameterisation training steps (loss, every parameter gradient),
 *   - grad_x log q after an inverse pass overwrote the records and a new forward,
 *   - a backward called twice after one forward (every cached layer reused),
 * for SU(2) and SU(3) learned-active-loop flows on 4x4 (staple nets 2 -> 3 -> 1, so both
 * transport-then-mix and mix-then-transport layers run).
 */
#include "../../src/sunflow/internal.h"

#include <string.h>

#include "lf_test.h"

static lf_sunflow_model *make(lf_group g) {
  lf_sunflow_config c;
  lf_sunflow_preset("su3-2d", &c);
  c.group = g, c.L[0] = c.L[1] = 4, c.nlayers = 8, c.K = 4;
  c.nhidden = 1, c.hidden[0] = 4, c.beta = 2.7;
  c.lal = 1, c.lal_layers = 2, c.lal_width = 3;
  lf_sunflow_model *m;
  if (lf_sunflow_model_alloc(&m, &c, 11)) return NULL;
  lf_nn_params *P = lf_sunflow_model_store(m);
  lf_rng r;
  lf_rng_init(&r, 2385, LF_RNG_TAG(LF_RNG_PURPOSE_TEST, 72), 0);
  for (size_t i = 0; i < P->n; i++) P->data[i] = 0.2 * lf_rng_normal(&r);
  for (int i = 0; i < P->count; i++) /* staple nets: identity + N(0, 0.4^2) */
    if (strstr(P->info[i].name, ".lal.")) {
      double *w = P->data + P->info[i].offset;
      for (long a = 0; a < P->info[i].shape[0]; a++)
        for (long b = 0; b < P->info[i].shape[1]; b++)
          w[a * P->info[i].shape[1] + b] = (a == b) + 0.4 * lf_rng_normal(&r);
    }
  return m;
}

/* every result of one workspace into out[]: returns the count, -1 on failure */
static long run(lf_sunflow_model *m, size_t keep, int *slots, double *out) {
  const int B = 3;
  m->lal_keep = keep;
  lf_sunflow_batch *wb;
  if (lf_sunflow_batch_alloc(&wb, m, B)) return -1;
  *slots = wb->lal_slots;
  const size_t fs = lf_sunflow_model_fieldsize(m), np = lf_sunflow_model_nparams(m);
  const lf_nn_params *P = lf_sunflow_model_store(m);
  lf_cplx *z = lf_alloc(4 * (size_t)B * fs * sizeof(lf_cplx));
  lf_cplx *x = z + (size_t)B * fs, *gq = x + (size_t)B * fs, *gz = gq + (size_t)B * fs;
  double lq[3], one[3] = {1, 1, 1};
  long k = 0;
  int rc = 0;
  for (int kind = 0; kind < 2; kind++) {
    lf_sunflow_step_stats st;
    rc |= lf_sunflow_loss_grad(m, wb, 5, 7 + kind, (lf_sunflow_grad_kind)kind, &st);
    out[k++] = st.loss;
    for (size_t i = 0; i < np; i++) out[k++] = P->grad[i];
  }
  /* inverse overwrites the records; a new forward, grad log q, then backward twice */
  lf_sunflow_prior_sample(m, 3, LF_RNG_TAG(LF_RNG_PURPOSE_PRIOR, 9), 0, B, z);
  rc |= lf_sunflow_inverse(m, wb, B, z, x, lq);
  rc |= lf_sunflow_forward(m, wb, B, z, x, lq);
  rc |= lf_sunflow_logq_grad(m, wb, B, gq);
  for (size_t i = 0; i < (size_t)B * fs; i++) out[k++] = creal(gq[i]), out[k++] = cimag(gq[i]);
  for (int rep = 0; rep < 2; rep++) {
    rc |= lf_sunflow_backward(m, wb, B, gq, one, gz);
    for (size_t i = 0; i < (size_t)B * fs; i++) out[k++] = creal(gz[i]), out[k++] = cimag(gz[i]);
    for (size_t i = 0; i < np; i++) out[k++] = P->grad[i];
  }
  lf_free(z);
  lf_sunflow_batch_free(wb);
  return rc ? -1 : k;
}

int main(void) {
  for (int g = 2; g <= 3; g++) {
    lf_sunflow_model *m = make((lf_group)g);
    if (!m) {
      LF_TEST_TRUE("model allocation", 0);
      continue;
    }
    const size_t np = lf_sunflow_model_nparams(m), fs = lf_sunflow_model_fieldsize(m);
    const size_t len = 4 * (np + 1) + 18 * fs + 4 * np;
    double *a = lf_alloc(2 * len * sizeof(double)), *b = a + len;
    int sa = 0, sb = 0;
    long na = run(m, LF_SUNFLOW_LAL_KEEP, &sa, a), nb = run(m, 0, &sb, b);
    char what[128];
    snprintf(what, sizeof what, "SU(%d): both workspaces ran (slots %d and %d)", g, sa, sb);
    LF_TEST_TRUE(what, na > 0 && na == nb && sa == lf_sunflow_model_nlayers(m) && sb == 1);
    long diff = 0;
    for (long i = 0; i < na && na == nb; i++) diff += memcmp(&a[i], &b[i], sizeof(double)) != 0;
    snprintf(what, sizeof what, "SU(%d): %ld results bitwise equal with all layers / one layer "
             "kept (differing count)", g, na);
    LF_TEST_ABS(what, (double)diff, 0.0, 0.0);
    lf_free(a);
    lf_sunflow_model_free(m);
  }
  return lf_test_done();
}
