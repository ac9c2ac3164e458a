/*
 * matrix.c -- generic n x n complex kernels (n = 1, 2, 3) and group names.
 * SU(3) products dispatch to the inline kernels of latflow/group.h.
 */
#include "latflow/group.h"

#include <math.h>
#include <string.h>
#include <strings.h>

int lf_group_parse(const char *name, lf_group *g) {
  if (name && !strcasecmp(name, "u1")) *g = LF_U1;
  else if (name && !strcasecmp(name, "su2")) *g = LF_SU2;
  else if (name && !strcasecmp(name, "su3")) *g = LF_SU3;
  else
    return LF_ERROR(LF_EINVAL, "unknown gauge group '%s': use u1, su2 or su3", name ? name : "");
  return LF_OK;
}

const char *lf_group_name(lf_group g) {
  switch (g) {
  case LF_U1: return "u1";
  case LF_SU2: return "su2";
  case LF_SU3: return "su3";
  }
  return "?";
}

void lf_mat_mul(int n, lf_cplx *restrict c, const lf_cplx *restrict a, const lf_cplx *restrict b) {
  if (n == 3) {
    lf_su3_mul(c, a, b);
  } else if (n == 2) {
    c[0] = a[0] * b[0] + a[1] * b[2];
    c[1] = a[0] * b[1] + a[1] * b[3];
    c[2] = a[2] * b[0] + a[3] * b[2];
    c[3] = a[2] * b[1] + a[3] * b[3];
  } else {
    c[0] = a[0] * b[0];
  }
}

void lf_mat_mul_dag(int n, lf_cplx *restrict c, const lf_cplx *restrict a,
                    const lf_cplx *restrict b) {
  if (n == 3) {
    lf_su3_mul_dag(c, a, b);
  } else if (n == 2) {
    c[0] = a[0] * conj(b[0]) + a[1] * conj(b[1]);
    c[1] = a[0] * conj(b[2]) + a[1] * conj(b[3]);
    c[2] = a[2] * conj(b[0]) + a[3] * conj(b[1]);
    c[3] = a[2] * conj(b[2]) + a[3] * conj(b[3]);
  } else {
    c[0] = a[0] * conj(b[0]);
  }
}

void lf_mat_dag_mul(int n, lf_cplx *restrict c, const lf_cplx *restrict a,
                    const lf_cplx *restrict b) {
  if (n == 3) {
    lf_su3_dag_mul(c, a, b);
  } else if (n == 2) {
    c[0] = conj(a[0]) * b[0] + conj(a[2]) * b[2];
    c[1] = conj(a[0]) * b[1] + conj(a[2]) * b[3];
    c[2] = conj(a[1]) * b[0] + conj(a[3]) * b[2];
    c[3] = conj(a[1]) * b[1] + conj(a[3]) * b[3];
  } else {
    c[0] = conj(a[0]) * b[0];
  }
}

void lf_mat_dag(int n, lf_cplx *restrict c, const lf_cplx *restrict a) {
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++) c[i * n + j] = conj(a[j * n + i]);
}

void lf_mat_identity(int n, lf_cplx *c) {
  lf_mat_zero(n, c);
  for (int i = 0; i < n; i++) c[i * n + i] = 1.0;
}

void lf_mat_zero(int n, lf_cplx *c) { memset(c, 0, sizeof(lf_cplx) * (size_t)(n * n)); }

void lf_mat_axpy(int n, lf_cplx *restrict y, lf_cplx s, const lf_cplx *restrict x) {
  for (int i = 0; i < n * n; i++) y[i] += s * x[i];
}

void lf_mat_scale(int n, lf_cplx *c, lf_cplx s) {
  for (int i = 0; i < n * n; i++) c[i] *= s;
}

lf_cplx lf_mat_trace(int n, const lf_cplx *a) {
  lf_cplx t = 0;
  for (int i = 0; i < n; i++) t += a[i * n + i];
  return t;
}

lf_cplx lf_mat_det(int n, const lf_cplx *a) {
  if (n == 1) return a[0];
  if (n == 2) return a[0] * a[3] - a[1] * a[2];
  return a[0] * (a[4] * a[8] - a[5] * a[7]) - a[1] * (a[3] * a[8] - a[5] * a[6]) +
         a[2] * (a[3] * a[7] - a[4] * a[6]);
}

double lf_mat_retr_mul(int n, const lf_cplx *a, const lf_cplx *b) {
  double s = 0;
  for (int i = 0; i < n; i++)
    for (int k = 0; k < n; k++) s += creal(a[i * n + k] * b[k * n + i]);
  return s;
}

double lf_mat_retr_mul_dag(int n, const lf_cplx *a, const lf_cplx *b) {
  double s = 0;
  for (int i = 0; i < n * n; i++) s += creal(a[i]) * creal(b[i]) + cimag(a[i]) * cimag(b[i]);
  return s;
}

double lf_mat_dist(int n, const lf_cplx *a, const lf_cplx *b) {
  double s = 0;
  for (int i = 0; i < n * n; i++) {
    lf_cplx d = a[i] - b[i];
    s += creal(d) * creal(d) + cimag(d) * cimag(d);
  }
  return sqrt(s);
}

double lf_group_defect(lf_group g, const lf_cplx *u) {
  int n = (int)g;
  lf_cplx p[9], one[9];
  lf_mat_dag_mul(n, p, u, u);
  lf_mat_identity(n, one);
  double d = lf_mat_dist(n, p, one);
  if (g != LF_U1) d += cabs(lf_mat_det(n, u) - 1.0);
  return d;
}
