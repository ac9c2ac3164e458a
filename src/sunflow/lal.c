/*
 * lal.c -- learned active loops for the SU(N) spectral coupling layers: the staple network
 * of a layer, its reverse mode, and the projected active staple.
 *
 * Math (docs/sunflow.md "Learned active loops"; Abbott et al. arXiv:2502.00263 sec. 2,
 * eqs. (1)-(11)). Layer (mu, nu, off); ~U_mu(y) = (1 - m(y)) U_mu(y) are the mu-links with
 * the active ones zeroed (eq. (4)); every staple X(y) below transforms like U_mu(y),
 * X -> g(y) X g(y+mu)^dag. Transports of a mu-oriented object X through direction r != mu:
 *     T+_r[X](y) = U_r(y) X(y+r) U_r(y+mu)^dag,
 *     T-_r[X](y) = U_r(y-r)^dag X(y-r) U_r(y-r+mu)
 * (the r-links are never active in this layer). Input channels (c0 = 2(nd-1)):
 *     X0_{2t}(y) = T+_{r_t}[~U_mu](y),  X0_{2t+1}(y) = T-_{r_t}[~U_mu](y),  r_0 = nu,
 * so X0_0 is the plaquette staple of the layer. Staple-net layer i (c_i -> c_{i+1}):
 *     aug = [X_k, T+_{r_t}[X_k], T-_{r_t}[X_k]]  ((2nd-1) c_i channels, this order),
 *     X^{(i+1)}_j(y) = sum_l c^{(i)}_{jl} aug_l(y),     c real,
 * and S_act = X^{(N_l)}_0 (c_{N_l} = 1). The active loop is L = U Shat^dag with
 * Shat = P_SU(N)(S_act) (lf_spec_polar, principal N-th root of the determinant); this is
 * eq. (1), P_SU(N)(U S_act^dag), because det P_U(N)(U S^dag) = conj(det P_U(N)(S)) does not
 * depend on U. Near-identity initialisation: c^{(i)}_{jl} = delta_jl + N(0, sigma^2), so
 * the gain-0 network returns X0_0, the plaquette staple, and Shat = S.
 * Reverse mode: T+ = A B C^dag: dA = G C B^dag, dB = A^dag G C, dC = G^dag A B;
 * T- = A^dag B C: dA = B C G^dag, dB = A G C^dag, dC = B^dag A G; dc_jl = sum_y Re tr(
 * G_j(y)^dag aug_l(y)), d aug_l = sum_j c_jl G_j; gradients of zeroed links are dropped.
 * Thread contract: pure functions of one sample, writing only their outputs.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "kernels.h"

#define NAUGMAX (7 * LF_SUNFLOW_MAXLALWIDTH)

/* A staple-net layer c_in -> c_out transports its c_in inputs and mixes (c_in transports
 * per direction and site), or, when c_out < c_in, mixes first and transports the c_out
 * mixed channels (mix_channels): the same linear map, fewer 3x3 products. */
static int mix_first(int ci, int co) { return co < ci; }

static int is_active(const lf_sunflow_model *m, const lf_sunflow_layer *ly, long s) {
  int x[LF_MAXDIM];
  lf_lattice_coords(&m->lat, s, x);
  return x[ly->nu] % m->cfg.period == ly->off;
}

int lf_sunflow_lal_init(lf_sunflow_model *m, uint64_t seed) {
  const int nd = m->nd, nl = m->cfg.lal_layers, A = 2 * nd - 1;
  m->lal_ch[0] = 2 * (nd - 1);
  for (int i = 1; i < nl; i++) m->lal_ch[i] = m->cfg.lal_width;
  m->lal_ch[nl] = 1;
  size_t ch = 0, np = 0;
  for (int i = 0; i <= nl; i++) ch += (size_t)m->lal_ch[i];
  for (int i = 0; i < nl; i++) np += (size_t)(m->lal_ch[i + 1] * A * m->lal_ch[i]);
  const size_t VN = (size_t)m->V * (size_t)m->N2;
  size_t zs = 0; /* mixed channels Z of the layers transported after mixing */
  for (int i = 0; i < nl; i++)
    if (mix_first(m->lal_ch[i], m->lal_ch[i + 1])) {
      const size_t z = (size_t)(2 * (nd - 1) * m->lal_ch[i + 1]) * VN;
      zs = z > zs ? z : zs;
    }
  /* activations [channels][V][N2] + Z; gradients [channels][V][N2] + Z + dL/dZ */
  m->lal_outoff = (ch - 1) * VN;
  m->lal_zs = zs;
  m->lal_act = ch * VN + zs;
  m->lal_gact = ch * VN + 2 * zs;
  m->lal_np = np;
  for (int l = 0; l < m->cfg.nlayers; l++) {
    lf_sunflow_layer *ly = &m->layers[l];
    int t = 0;
    ly->lal_dirs[t++] = ly->nu;
    for (int r = 0; r < nd; r++)
      if (r != ly->mu && r != ly->nu) ly->lal_dirs[t++] = r;
    for (int i = 0; i < nl; i++) {
      char name[48];
      long shape[2] = {m->lal_ch[i + 1], (long)A * m->lal_ch[i]};
      snprintf(name, sizeof name, "layer%d.lal.%d.weight", l, i);
      LF_CHECK(lf_nn_params_add(&m->P, name, 2, shape, &ly->lal_widx[i]));
      LF_CHECK(lf_nn_init_near_identity(&m->P, ly->lal_widx[i], 1, 0.5, seed));
    }
  }
  return LF_OK;
}

/* T+_r[X](s) = U_r(s) X(s+r) U_r(s+mu)^dag of the channel X (an array [V][N2]) into tp,
 * or added to tp (add = 1); X may hold zero matrices. */
static void transport_plus(const lf_sunflow_model *m, const lf_sunflow_layer *ly,
                           const lf_cplx *u, const lf_cplx *X, long s, int r, lf_cplx *tp,
                           int add) {
  const int N = m->N, nd = m->nd;
  const long sr = m->lat.up[s * nd + r], smu = m->lat.up[s * nd + ly->mu];
  lf_cplx t[9];
  lf_sf_mul(N, t, lf_sunflow_clink(m, u, s, r), X + (size_t)sr * (size_t)m->N2);
  if (add) lf_sf_mul_dag_add(N, tp, t, lf_sunflow_clink(m, u, smu, r));
  else lf_sf_mul_dag(N, tp, t, lf_sunflow_clink(m, u, smu, r));
}

/* T-_r[X](s) = U_r(s-r)^dag X(s-r) U_r(s-r+mu) into (add = 0) or added to tm */
static void transport_minus(const lf_sunflow_model *m, const lf_sunflow_layer *ly,
                            const lf_cplx *u, const lf_cplx *X, long s, int r, lf_cplx *tm,
                            int add) {
  const int N = m->N, nd = m->nd;
  const long sm = m->lat.dn[s * nd + r], smmu = m->lat.up[sm * nd + ly->mu];
  lf_cplx t[9];
  lf_sf_dag_mul(N, t, lf_sunflow_clink(m, u, sm, r), X + (size_t)sm * (size_t)m->N2);
  if (add) lf_sf_mul_add(N, tm, t, lf_sunflow_clink(m, u, smmu, r));
  else lf_sf_mul(N, tm, t, lf_sunflow_clink(m, u, smmu, r));
}

static void transports(const lf_sunflow_model *m, const lf_sunflow_layer *ly, const lf_cplx *u,
                       const lf_cplx *X, long s, int r, lf_cplx *tp, lf_cplx *tm) {
  transport_plus(m, ly, u, X, s, r, tp, 0);
  transport_minus(m, ly, u, X, s, r, tm, 0);
}

/* Reverse mode of transport_plus: gp = dL/dT+(s); accumulates dL/dX into gX ([V][N2],
 * may be NULL) and the link gradients into g. */
static void transport_plus_backward(const lf_sunflow_model *m, const lf_sunflow_layer *ly,
                                    const lf_cplx *u, const lf_cplx *X, long s, int r,
                                    const lf_cplx *gp, lf_cplx *gX, lf_cplx *g) {
  const int N = m->N, nd = m->nd;
  const long sr = m->lat.up[s * nd + r], smu = m->lat.up[s * nd + ly->mu];
  /* T+ = A B C^dag, A = U_r(s), B = X(s+r), C = U_r(s+mu) */
  const lf_cplx *A = lf_sunflow_clink(m, u, s, r), *B = X + (size_t)sr * (size_t)m->N2,
                *C = lf_sunflow_clink(m, u, smu, r);
  lf_cplx t[9];
  lf_sf_mul(N, t, gp, C);
  lf_sf_mul_dag_add(N, lf_sunflow_link(m, g, s, r), t, B);
  if (gX) lf_sf_dag_mul_add(N, gX + (size_t)sr * (size_t)m->N2, A, t);
  lf_sf_mul(N, t, A, B);
  lf_sf_dag_mul_add(N, lf_sunflow_link(m, g, smu, r), gp, t);
}

/* Reverse mode of transport_minus: gm = dL/dT-(s) */
static void transport_minus_backward(const lf_sunflow_model *m, const lf_sunflow_layer *ly,
                                     const lf_cplx *u, const lf_cplx *X, long s, int r,
                                     const lf_cplx *gm, lf_cplx *gX, lf_cplx *g) {
  const int N = m->N, nd = m->nd;
  const long sm = m->lat.dn[s * nd + r], smmu = m->lat.up[sm * nd + ly->mu];
  /* T- = A^dag B C, A = U_r(s-r), B = X(s-r), C = U_r(s-r+mu) */
  const lf_cplx *A = lf_sunflow_clink(m, u, sm, r), *B = X + (size_t)sm * (size_t)m->N2,
                *C = lf_sunflow_clink(m, u, smmu, r);
  lf_cplx t[9];
  lf_sf_mul(N, t, B, C);
  lf_sf_mul_dag_add(N, lf_sunflow_link(m, g, sm, r), t, gm);
  if (gX) {
    lf_cplx q[9];
    lf_sf_mul(N, q, A, gm);
    lf_sf_mul_dag_add(N, gX + (size_t)sm * (size_t)m->N2, q, C);
  }
  lf_sf_dag_mul(N, t, B, A);
  lf_sf_mul_add(N, lf_sunflow_link(m, g, smmu, r), t, gm);
}

/* Reverse mode of transports: gp, gm = dL/dT+, dL/dT-; accumulates into gX ([V][N2]) and
 * the link gradients g. */
static void transports_backward(const lf_sunflow_model *m, const lf_sunflow_layer *ly,
                                const lf_cplx *u, const lf_cplx *X, long s, int r,
                                const lf_cplx *gp, const lf_cplx *gm, lf_cplx *gX, lf_cplx *g) {
  transport_plus_backward(m, ly, u, X, s, r, gp, gX, g);
  transport_minus_backward(m, ly, u, X, s, r, gm, gX, g);
}

/* Mixed channels of a mix-first layer (mix_first): the transports are linear in X, so
 *     sum_k c_{j,(q,k)} T_q[X_k] = T_q[Z_{q,j}],  Z_{q,j} = sum_k c_{j,(q,k)} X_k,
 * q = 2t (T+_{r_t}) or 2t+1 (T-_{r_t}); c_out (instead of c_in) transports per q and site.
 * Z[(q c_out + j) V N2 + s N2] for all sites. */
static void mix_channels(const lf_sunflow_model *m, const lf_cplx *X, int ci, int co,
                         const double *c, lf_cplx *Z) {
  const size_t N2 = (size_t)m->N2, VN = (size_t)m->V * N2;
  const int N = m->N, nq = 2 * (m->nd - 1), na = (2 * m->nd - 1) * ci;
  for (long s = 0; s < m->V; s++)
    for (int q = 0; q < nq; q++)
      for (int j = 0; j < co; j++)
        lf_sf_lincomb(N, Z + (size_t)(q * co + j) * VN + (size_t)s * N2, ci,
                      c + j * na + ci + q * ci, 1, X + (size_t)s * N2, VN);
}

/* aug_l(s) of layer input X (c channels, [c][V][N2]) into a[l*N2] */
static void augment(const lf_sunflow_model *m, const lf_sunflow_layer *ly, const lf_cplx *u,
                    const lf_cplx *X, int c, long s, lf_cplx *a) {
  const size_t N2 = (size_t)m->N2, VN = (size_t)m->V * N2;
  const int nt = m->nd - 1;
  for (int k = 0; k < c; k++) lf_mat_copy(m->N, a + (size_t)k * N2, X + k * VN + (size_t)s * N2);
  for (int t = 0; t < nt; t++)
    for (int k = 0; k < c; k++) {
      lf_cplx *ap = a + (size_t)(c + (2 * t) * c + k) * N2;
      lf_cplx *am = a + (size_t)(c + (2 * t + 1) * c + k) * N2;
      transports(m, ly, u, X + k * VN, s, ly->lal_dirs[t], ap, am);
    }
}

/* ~U_mu: the mu-links with the active ones zeroed, [V][N2] */
static void masked_links(const lf_sunflow_model *m, const lf_sunflow_layer *ly, const lf_cplx *u,
                         lf_cplx *um) {
  const size_t N2 = (size_t)m->N2;
  for (long s = 0; s < m->V; s++) {
    if (is_active(m, ly, s)) lf_mat_zero(m->N, um + (size_t)s * N2);
    else lf_mat_copy(m->N, um + (size_t)s * N2, lf_sunflow_clink(m, u, s, ly->mu));
  }
}

void lf_sunflow_lal_forward(const lf_sunflow_model *m, int l, const lf_cplx *u, lf_cplx *x) {
  const lf_sunflow_layer *ly = &m->layers[l];
  const size_t N2 = (size_t)m->N2, VN = (size_t)m->V * N2;
  const int nl = m->cfg.lal_layers, A = 2 * m->nd - 1, N = m->N;
  /* ~U_mu goes to the (later overwritten) output region, used only here */
  lf_cplx *um = x + lf_sunflow_lal_out(m);
  masked_links(m, ly, u, um);
  for (long s = 0; s < m->V; s++)
    for (int t = 0; t < m->nd - 1; t++)
      transports(m, ly, u, um, s, ly->lal_dirs[t], x + (size_t)(2 * t) * VN + (size_t)s * N2,
                 x + (size_t)(2 * t + 1) * VN + (size_t)s * N2);
  lf_cplx *X = x;
  for (int i = 0; i < nl; i++) {
    const int ci = m->lal_ch[i], co = m->lal_ch[i + 1], na = A * ci;
    lf_cplx *Y = X + (size_t)ci * VN;
    const double *c = lf_nn_params_ptr(&m->P, ly->lal_widx[i]);
    if (mix_first(ci, co)) {
      lf_cplx *Z = x + m->lal_outoff + VN;
      mix_channels(m, X, ci, co, c, Z);
      for (long s = 0; s < m->V; s++)
        for (int j = 0; j < co; j++) {
          lf_cplx *y = Y + (size_t)j * VN + (size_t)s * N2;
          lf_sf_lincomb(N, y, ci, c + j * na, 1, X + (size_t)s * N2, VN);
          for (int t = 0; t < m->nd - 1; t++) {
            const int r = ly->lal_dirs[t];
            transport_plus(m, ly, u, Z + (size_t)(2 * t * co + j) * VN, s, r, y, 1);
            transport_minus(m, ly, u, Z + (size_t)((2 * t + 1) * co + j) * VN, s, r, y, 1);
          }
        }
      X = Y;
      continue;
    }
    for (long s = 0; s < m->V; s++) {
      lf_cplx a[NAUGMAX * 9];
      augment(m, ly, u, X, ci, s, a);
      for (int j = 0; j < co; j++)
        lf_sf_lincomb(N, Y + (size_t)j * VN + (size_t)s * N2, na, c + j * na, 1, a, N2);
    }
    X = Y;
  }
}

/* Reverse mode of a mix-first layer: GY = dL/dY (all sites), X its input; accumulates
 * dL/dX into GX and link gradients into g, writes the weight gradient gc [co][na]
 * (NULL: not computed);
 * scratch = 2 * m->lal_zs entries (Z, then dL/dZ). */
static void mix_first_backward(const lf_sunflow_model *m, const lf_sunflow_layer *ly,
                               const lf_cplx *u, const lf_cplx *X, int ci, int co,
                               const double *c, const lf_cplx *GY, lf_cplx *GX,
                               lf_cplx *scratch, lf_cplx *g, double *gc) {
  const size_t N2 = (size_t)m->N2, VN = (size_t)m->V * N2;
  const int N = m->N, nt = m->nd - 1, nq = 2 * nt, na = (2 * m->nd - 1) * ci, nr = 2 * m->N2;
  lf_cplx *Z = scratch, *GZ = scratch + m->lal_zs;
  mix_channels(m, X, ci, co, c, Z);
  memset(GZ, 0, (size_t)(nq * co) * VN * sizeof *GZ);
  /* Y_j += T+_t[Z_{2t,j}] + T-_t[Z_{2t+1,j}]: links and dL/dZ */
  for (long s = 0; s < m->V; s++)
    for (int t = 0; t < nt; t++)
      for (int j = 0; j < co; j++) {
        const int r = ly->lal_dirs[t];
        const lf_cplx *gy = GY + (size_t)j * VN + (size_t)s * N2;
        const size_t zp = (size_t)(2 * t * co + j) * VN, zm = (size_t)((2 * t + 1) * co + j) * VN;
        transport_plus_backward(m, ly, u, Z + zp, s, r, gy, GZ + zp, g);
        transport_minus_backward(m, ly, u, Z + zm, s, r, gy, GZ + zm, g);
      }
  /* Y_j = sum_k c_jk X_k + ..., Z_{q,j} = sum_k c_{j,(q,k)} X_k: dL/dX and dL/dc */
  if (gc) memset(gc, 0, (size_t)(co * na) * sizeof *gc);
  for (long s = 0; s < m->V; s++)
    for (int k = 0; k < ci; k++) {
      lf_cplx *gxk = GX + k * VN + (size_t)s * N2;
      const double *xk = (const double *)(X + k * VN + (size_t)s * N2);
      for (int j = 0; j < co; j++)
        for (int q = -1; q < nq; q++) { /* q = -1: the direct term Y_j <- X_k */
          const lf_cplx *gin = q < 0 ? GY + (size_t)j * VN + (size_t)s * N2
                                     : GZ + (size_t)(q * co + j) * VN + (size_t)s * N2;
          const int idx = j * na + (q < 0 ? k : ci + q * ci + k);
          if (gc) {
            const double *gd = (const double *)gin;
            double d = 0;
            for (int e = 0; e < nr; e++) d += gd[e] * xk[e];
            gc[idx] += d;
          }
          lf_sf_axpy(N, gxk, c[idx], gin);
        }
    }
}

void lf_sunflow_lal_backward(const lf_sunflow_model *m, int l, const lf_cplx *u,
                             const lf_cplx *x, lf_cplx *gx, lf_cplx *g, double *gw) {
  const lf_sunflow_layer *ly = &m->layers[l];
  const size_t N2 = (size_t)m->N2, VN = (size_t)m->V * N2;
  const int nl = m->cfg.lal_layers, A = 2 * m->nd - 1, N = m->N, nt = m->nd - 1;
  size_t off[LF_SUNFLOW_MAXLAL + 1];
  off[0] = 0;
  for (int i = 0; i < nl; i++) off[i + 1] = off[i] + (size_t)m->lal_ch[i] * VN;
  memset(gx, 0, off[nl] * sizeof(lf_cplx));
  for (int i = nl - 1; i >= 0; i--) {
    const int ci = m->lal_ch[i], co = m->lal_ch[i + 1], na = A * ci;
    const lf_cplx *X = x + off[i], *GY = gx + off[i + 1];
    lf_cplx *GX = gx + off[i];
    const double *c = lf_nn_params_ptr(&m->P, ly->lal_widx[i]);
    size_t wo = 0; /* offset of this layer's weights in gw */
    for (int q = 0; q < i; q++) wo += (size_t)(m->lal_ch[q + 1] * A * m->lal_ch[q]);
    double *gc = gw ? gw + wo : NULL;
    if (mix_first(ci, co)) {
      mix_first_backward(m, ly, u, X, ci, co, c, GY, GX, gx + m->lal_outoff + VN, g, gc);
      continue;
    }
    /* dc_jl = sum_y Re tr(G_j^dag aug_l) accumulated transposed, gcT[l][j], so that the
     * inner loop runs over j (vectorised) */
    double gcT[NAUGMAX * LF_SUNFLOW_MAXLALWIDTH], gyT[18 * LF_SUNFLOW_MAXLALWIDTH];
    const int nr = 2 * m->N2; /* doubles per matrix */
    memset(gcT, 0, (size_t)(co * na) * sizeof *gcT);
    for (long s = 0; s < m->V; s++) {
      lf_cplx a[NAUGMAX * 9], ga[NAUGMAX * 9];
      if (gc) augment(m, ly, u, X, ci, s, a); /* only the weight gradient needs it */
      for (int j = 0; j < co && gc; j++) {
        const double *gy = (const double *)(GY + (size_t)j * VN + (size_t)s * N2);
        for (int e = 0; e < nr; e++) gyT[e * co + j] = gy[e];
      }
      for (int k = 0; k < na && gc; k++) {
        const double *ak = (const double *)(a + (size_t)k * N2);
        double *gk = gcT + (size_t)k * (size_t)co;
        for (int e = 0; e < nr; e++) {
          const double aki = ak[e], *gt = gyT + e * co;
          for (int j = 0; j < co; j++) gk[j] += aki * gt[j];
        }
      }
      for (int k = 0; k < na; k++) /* d aug_k = sum_j c_jk G_j */
        lf_sf_lincomb(N, ga + (size_t)k * N2, co, c + k, (size_t)na, GY + (size_t)s * N2, VN);
      for (int k = 0; k < ci; k++) lf_sf_add(N, GX + k * VN + (size_t)s * N2, ga + (size_t)k * N2);
      for (int t = 0; t < nt; t++)
        for (int k = 0; k < ci; k++)
          transports_backward(m, ly, u, X + k * VN, s, ly->lal_dirs[t],
                              ga + (size_t)(ci + (2 * t) * ci + k) * N2,
                              ga + (size_t)(ci + (2 * t + 1) * ci + k) * N2, GX + k * VN, g);
    }
    for (int j = 0; j < co && gc; j++)
      for (int k = 0; k < na; k++) gc[j * na + k] = gcT[(size_t)k * (size_t)co + (size_t)j];
  }
  /* input staples X0 = T+-[~U_mu]: ~U_mu is rebuilt in the output slot of gx (dL/dS_act
   * has been used up); gradients of ~U_mu go straight to the links, zeroed ones dropped */
  lf_cplx *um = gx + lf_sunflow_lal_out(m);
  masked_links(m, ly, u, um);
  for (long s = 0; s < m->V; s++)
    for (int t = 0; t < nt; t++) {
      const int r = ly->lal_dirs[t];
      const lf_cplx *gp = gx + (size_t)(2 * t) * VN + (size_t)s * N2;
      const lf_cplx *gm = gx + (size_t)(2 * t + 1) * VN + (size_t)s * N2;
      /* link parts of the transports, then the ~U_mu parts by hand (dropped if active) */
      transports_backward(m, ly, u, um, s, r, gp, gm, NULL, g);
      const long sr = m->lat.up[s * m->nd + r], sm = m->lat.dn[s * m->nd + r];
      const long smu = m->lat.up[s * m->nd + ly->mu], smmu = m->lat.up[sm * m->nd + ly->mu];
      lf_cplx t1[9];
      if (!is_active(m, ly, sr)) { /* dB = A^dag G C */
        lf_sf_mul(N, t1, gp, lf_sunflow_clink(m, u, smu, r));
        lf_sf_dag_mul_add(N, lf_sunflow_link(m, g, sr, ly->mu), lf_sunflow_clink(m, u, s, r), t1);
      }
      if (!is_active(m, ly, sm)) { /* dB = A G C^dag */
        lf_sf_mul(N, t1, lf_sunflow_clink(m, u, sm, r), gm);
        lf_sf_mul_dag_add(N, lf_sunflow_link(m, g, sm, ly->mu), t1, lf_sunflow_clink(m, u, smmu, r));
      }
    }
}

int lf_sunflow_active_staple(const lf_sunflow_model *m, const lf_sunflow_layer *ly,
                             const lf_cplx *u, const lf_cplx *x, long s, lf_cplx *st,
                             lf_spec_polar_state *ps) {
  if (!m->cfg.lal) {
    lf_sunflow_staple(m, u, s, ly->mu, ly->nu, st);
    return LF_OK;
  }
  return lf_spec_polar(m->N, 1, x + lf_sunflow_lal_out(m) + (size_t)s * (size_t)m->N2, st, ps);
}
