/*
 * src/nn/internal.h -- private helpers of the nn module: column blocks of the
 * convolution, the OpenBLAS threading switch, the saved-for-backward record of a net.
 */
#ifndef LF_NN_INTERNAL_H
#define LF_NN_INTERNAL_H

#include "latflow/nn.h"

/* Target number of (sample, site) columns per GEMM block. Blocks never depend on the
 * thread count (see conv.c). */
#define LF_NN_CONV_NB 256
/* Maximum number of weight-gradient reduction groups (contiguous sample ranges). */
#define LF_NN_CONV_GROUPS 16

/* Samples per chunk of the batch-lane kernels (conv_lane.c); they run when
 * batch >= LF_NN_LANES and the neighbour table fits in LF_NN_NBR_MAX entries. */
#define LF_NN_LANES 8
#define LF_NN_NBR_MAX (1L << 24)
int lf_nn_conv_lane_forward(const lf_nn_conv *c, int batch, const double *w, const double *bias,
                            const double *x, double *y, lf_arena *ws);
int lf_nn_conv_lane_backward(const lf_nn_conv *c, int batch, const double *w, const double *x,
                             const double *dy, double *dx, double *dw, double *db,
                             lf_arena *ws);
size_t lf_nn_conv_lane_scratch(const lf_nn_conv *c, int batch);
/* Lane layout t[chunk][c][s][lane], chunk = b / 8, lane = b % 8, padded with zero
 * samples up to lf_nn_lanes_batch(batch). pack/unpack open their own parallel region
 * when `parallel` is set. The _t kernels work on that layout directly (conv nets keep
 * all activations in it, so only the net's input and output are transposed). Padded
 * lanes may hold garbage in forward outputs but contribute nothing to dw/db as long as
 * the padded lanes of dy are zero (pack writes zeros). */
static inline int lf_nn_lanes_batch(int batch) {
  return (batch + LF_NN_LANES - 1) / LF_NN_LANES * LF_NN_LANES;
}
void lf_nn_lanes_pack(int batch, int C, long V, const double *in, double *t, int parallel);
void lf_nn_lanes_unpack(int batch, int C, long V, const double *t, double *out, int parallel);
/* Output restricted to listed sites (lf_nn_convnet_set_output_sites): the tables of one
 * conv. Restricted outputs, and the dy of their backward, are stored compactly in lane
 * layout t[chunk][c][j][lane] over the n listed sites j. */
struct lf_nn_outsites {
  long n;              /* listed sites                                                 */
  int *site;           /* [n] the sites                                                */
  int *nbr;            /* [n][taps] neighbour rows of the listed sites (c->nbr rows)   */
  long *rowptr;        /* [vol + 1] CSR of the transposed taps: site s has entries     */
  int *etap, *esrc;    /*   rowptr[s]..rowptr[s+1]-1 = (tap t, listed j), site(j)+d(t)=s */
  unsigned char *mask; /* [vol] 1 on listed sites                                      */
};
typedef struct lf_nn_outsites lf_nn_outsites;
/* Gather the listed sites of in[b][c][V] into compact lanes / scatter them back (the
 * other sites of out are set to 0). */
void lf_nn_lanes_pack_sites(int batch, int C, long V, const lf_nn_outsites *o, const double *in,
                            double *t, int parallel);
void lf_nn_lanes_unpack_sites(int batch, int C, long V, const lf_nn_outsites *o, const double *t,
                              double *out, int parallel);
/* o = NULL: all sites. With o: yt (forward) and dyt (backward) are compact over the listed
 * sites; forward, dw and db cost n/vol of the full conv, dx about the same (CSR gather). */
int lf_nn_conv_lane_forward_t(const lf_nn_conv *c, const lf_nn_outsites *o, int batch,
                              const double *w, const double *bias, const double *xt, double *yt,
                              lf_arena *ws);
int lf_nn_conv_lane_backward_t(const lf_nn_conv *c, const lf_nn_outsites *o, int batch,
                               const double *w, const double *xt, const double *dyt, double *dxt,
                               double *dw, double *db, lf_arena *ws);
/* Whether forward/backward of c at this batch use the lane kernels (method + AUTO rule). */
int lf_nn_conv_pick_lanes(const lf_nn_conv *c, int batch);
static inline int lf_nn_conv_use_lanes(const lf_nn_conv *c, int batch) {
  return c->nbr != NULL && batch >= LF_NN_LANES;
}

/* Below this many multiply-adds a conv runs on one thread (results are the same; it
 * avoids fork/join cost on the small nets of tests and tiny lattices). */
#define LF_NN_PAR_MIN_MACS 262144.0

/* Make OpenBLAS single-threaded (we call it from inside OpenMP regions). Idempotent. */
void lf_nn_blas_single_thread(void);

/* A column block: samples b0..b0+nsb-1, rows r0..r0+nr-1 of each (row = x-line). */
typedef struct {
  int b0, nsb;
  long r0, nr;
} lf_nn_block;

/* Number of reduction groups for a batch, and the sample range of group g. */
static inline int lf_nn_ngroups(int batch) {
  return batch < LF_NN_CONV_GROUPS ? batch : LF_NN_CONV_GROUPS;
}
static inline void lf_nn_group_range(int batch, int g, int *b0, int *b1) {
  int G = lf_nn_ngroups(batch);
  *b0 = (int)((long)g * batch / G);
  *b1 = (int)((long)(g + 1) * batch / G);
}

/* Upper bound of the scratch bytes one conv forward or backward takes from the arena. */
size_t lf_nn_conv_scratch_bytes(const lf_nn_conv *c, int batch);

struct lf_nn_saved {
  int batch;
  int lanes;                       /* 1: x, z, a stored in lane layout (padded batch) */
  double *x;                       /* input copy [batch][c0][V]                 */
  double *z[LF_NN_MAX_LAYERS];     /* pre-activation of layer l [batch][c_{l+1}][V] */
  double *a[LF_NN_MAX_LAYERS];     /* post-activation (input of layer l+1)      */
};

#endif
