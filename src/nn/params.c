/*
 * params.c -- the parameter store (one flat array of values and one of gradients,
 * tensors addressable by index and name) and the initialisers: zeros, xavier-normal
 * (Glorot & Bengio, AISTATS 2010) and near-identity.
 *
 * Reproducibility: element j of tensor i is drawn from the Philox stream
 * (seed, LF_RNG_TAG(LF_RNG_PURPOSE_INIT, i), j): independent of thread count and of
 * the order in which tensors are initialised. Thread contract: a store belongs to one
 * thread at a time.
 */
#include "internal.h"

#include <math.h>
#include <string.h>

void lf_nn_params_init(lf_nn_params *P) { memset(P, 0, sizeof *P); }

void lf_nn_params_clear(lf_nn_params *P) {
  lf_free(P->data);
  lf_free(P->grad);
  lf_free(P->info);
  memset(P, 0, sizeof *P);
}

int lf_nn_params_find(const lf_nn_params *P, const char *name) {
  for (int i = 0; i < P->count; i++)
    if (!strcmp(P->info[i].name, name)) return i;
  return -1;
}

int lf_nn_params_add(lf_nn_params *P, const char *name, int ndim, const long *shape,
                     int *index) {
  size_t len = name ? strlen(name) : 0;
  if (len == 0 || len >= LF_NN_NAME_MAX)
    return LF_ERROR(LF_EINVAL, "parameter name must have 1..%d characters (got %zu)",
                    LF_NN_NAME_MAX - 1, len);
  if (lf_nn_params_find(P, name) >= 0)
    return LF_ERROR(LF_EINVAL, "parameter '%s' registered twice; use a distinct prefix", name);
  if (ndim < 1 || ndim > LF_NN_MAX_NDIM)
    return LF_ERROR(LF_EINVAL, "parameter '%s': rank %d not in 1..%d", name, ndim,
                    LF_NN_MAX_NDIM);
  size_t size = 1;
  for (int d = 0; d < ndim; d++) {
    if (shape[d] < 1 || shape[d] > (1L << 40))
      return LF_ERROR(LF_EINVAL, "parameter '%s': extent %ld of axis %d must be >= 1", name,
                      shape[d], d);
    size *= (size_t)shape[d];
  }
  if (P->count == P->cap) {
    int cap = P->cap ? 2 * P->cap : 16;
    lf_nn_tensor_info *ni = lf_alloc((size_t)cap * sizeof *ni);
    if (!ni) return LF_ENOMEM;
    if (P->count) memcpy(ni, P->info, (size_t)P->count * sizeof *ni);
    lf_free(P->info);
    P->info = ni;
    P->cap = cap;
  }
  double *nd = lf_alloc((P->n + size) * sizeof(double));
  double *ng = nd ? lf_alloc((P->n + size) * sizeof(double)) : NULL;
  if (!ng) {
    lf_free(nd);
    return LF_ENOMEM;
  }
  if (P->n) {
    memcpy(nd, P->data, P->n * sizeof(double));
    memcpy(ng, P->grad, P->n * sizeof(double));
  }
  lf_free(P->data);
  lf_free(P->grad);
  P->data = nd;
  P->grad = ng;
  lf_nn_tensor_info *t = &P->info[P->count];
  memset(t, 0, sizeof *t);
  memcpy(t->name, name, len + 1);
  t->ndim = ndim;
  for (int d = 0; d < ndim; d++) t->shape[d] = shape[d];
  t->offset = P->n;
  t->size = size;
  P->n += size;
  if (index) *index = P->count;
  P->count++;
  return LF_OK;
}

void lf_nn_params_zero_grad(lf_nn_params *P) {
  if (P->n) memset(P->grad, 0, P->n * sizeof(double));
}

int lf_nn_params_copy(lf_nn_params *dst, const lf_nn_params *src) {
  if (src->count != dst->count || src->n != dst->n)
    return LF_ERROR(LF_EINVAL, "the parameter stores differ (%d tensors / %zu values vs %d / %zu); "
                               "the networks must have the same architecture", src->count,
                    src->n, dst->count, dst->n);
  for (int i = 0; i < src->count; i++) {
    const lf_nn_tensor_info *a = &src->info[i], *b = &dst->info[i];
    int same = !strcmp(a->name, b->name) && a->ndim == b->ndim;
    for (int d = 0; same && d < a->ndim; d++) same = a->shape[d] == b->shape[d];
    if (!same)
      return LF_ERROR(LF_EINVAL, "tensor %s of the source does not match %s; the networks must "
                                 "have the same architecture", a->name, b->name);
  }
  if (src->n) memcpy(dst->data, src->data, src->n * sizeof(double));
  return LF_OK;
}

void lf_nn_init_zeros(lf_nn_params *P, int i) {
  memset(lf_nn_params_ptr(P, i), 0, P->info[i].size * sizeof(double));
}

static void fans(const lf_nn_tensor_info *t, double *fin, double *fout) {
  if (t->ndim == 1) {
    *fin = *fout = (double)t->shape[0];
    return;
  }
  double rest = 1.0;
  for (int d = 2; d < t->ndim; d++) rest *= (double)t->shape[d];
  *fin = (double)t->shape[1] * rest;
  *fout = (double)t->shape[0] * rest;
}

static void add_xavier(lf_nn_params *P, int i, double gain, uint64_t seed) {
  const lf_nn_tensor_info *t = &P->info[i];
  double fin, fout;
  fans(t, &fin, &fout);
  double sigma = gain * sqrt(2.0 / (fin + fout));
  double *w = lf_nn_params_ptr(P, i);
  if (sigma == 0.0) return;
  for (size_t j = 0; j < t->size; j++) {
    lf_rng r;
    lf_rng_init(&r, seed, LF_RNG_TAG(LF_RNG_PURPOSE_INIT, (uint64_t)i), (uint64_t)j);
    w[j] += sigma * lf_rng_normal(&r);
  }
}

void lf_nn_init_xavier_normal(lf_nn_params *P, int i, double gain, uint64_t seed) {
  lf_nn_init_zeros(P, i);
  add_xavier(P, i, gain, seed);
}

int lf_nn_init_near_identity(lf_nn_params *P, int i, int taps, double gain, uint64_t seed) {
  const lf_nn_tensor_info *t = &P->info[i];
  if (t->ndim < 2 || taps < 1 || taps % 2 == 0 ||
      (size_t)t->shape[0] * (size_t)t->shape[1] * (size_t)taps != t->size)
    return LF_ERROR(LF_EINVAL,
                    "near-identity init of '%s' needs a weight [cout][cin][taps] with odd taps "
                    "(got rank %d, taps %d)",
                    t->name, t->ndim, taps);
  long cout = t->shape[0], cin = t->shape[1], m = cout < cin ? cout : cin;
  lf_nn_init_zeros(P, i);
  double *w = lf_nn_params_ptr(P, i);
  for (long c = 0; c < m; c++) w[(c * cin + c) * taps + taps / 2] = 1.0;
  add_xavier(P, i, gain, seed);
  return LF_OK;
}
