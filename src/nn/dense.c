/*
 * dense.c -- fully connected layer y = W x + b on a batch (torch.nn.Linear layout).
 *
 * Math: dx = W^T dy, dW += dy x^T (summed over the batch in sample order), db += sum dy.
 * Thread contract: serial loops (dense layers in flows are small), reentrant;
 * results do not depend on the thread count.
 */
#include "internal.h"

int lf_nn_dense_forward(int batch, int nin, int nout, const double *restrict w,
                        const double *restrict bias, const double *restrict x,
                        double *restrict y) {
  if (batch < 1 || nin < 1 || nout < 1)
    return LF_ERROR(LF_EINVAL, "dense layer sizes must be >= 1 (batch %d, in %d, out %d)", batch,
                    nin, nout);
  for (int b = 0; b < batch; b++) {
    const double *xb = x + (long)b * nin;
    for (int o = 0; o < nout; o++) {
      const double *wo = w + (long)o * nin;
      double s = bias ? bias[o] : 0.0;
      for (int i = 0; i < nin; i++) s += wo[i] * xb[i];
      y[(long)b * nout + o] = s;
    }
  }
  return LF_OK;
}

int lf_nn_dense_backward(int batch, int nin, int nout, const double *restrict w,
                         const double *restrict x, const double *restrict dy,
                         double *restrict dx, double *restrict dw, double *restrict db) {
  if (batch < 1 || nin < 1 || nout < 1)
    return LF_ERROR(LF_EINVAL, "dense layer sizes must be >= 1 (batch %d, in %d, out %d)", batch,
                    nin, nout);
  for (int b = 0; b < batch; b++) {
    const double *xb = x + (long)b * nin, *dyb = dy + (long)b * nout;
    if (dx) {
      double *dxb = dx + (long)b * nin;
      for (int i = 0; i < nin; i++) dxb[i] = 0.0;
      for (int o = 0; o < nout; o++) {
        const double *wo = w + (long)o * nin;
        for (int i = 0; i < nin; i++) dxb[i] += wo[i] * dyb[o];
      }
    }
    if (dw)
      for (int o = 0; o < nout; o++) {
        double *dwo = dw + (long)o * nin;
        for (int i = 0; i < nin; i++) dwo[i] += dyb[o] * xb[i];
      }
    if (db)
      for (int o = 0; o < nout; o++) db[o] += dyb[o];
  }
  return LF_OK;
}
