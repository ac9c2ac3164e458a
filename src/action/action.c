/*
 * action.c -- Wilson and Lüscher-Weisz gauge actions: set-up, value, force, staples.
 *
 * Math (docs/actions.md): S = -(beta/N) sum_{x, mu<nu} k_{mu nu} [c0 Re tr U_P + c1 sum Re tr R],
 * c0 = 1 - 8 c1. Force F(x, mu) = sum_a dS/dw_a i T_a for U -> exp(w_a i T_a) U, which is
 *     F = (beta / 2N) Pi(U A),   Pi(M) = (M - M^dag)/2 - tr(M - M^dag)/(2N)  (U(1): i Im M),
 * with A the weighted sum of all staples of the link (plaquettes and rectangles).
 * References: K. G. Wilson, PRD 10 (1974) 2445; M. Lüscher and P. Weisz, Commun. Math.
 * Phys. 97 (1985) 59 (tree-level c1 = -1/12); force as in openQCD force0.c (M. Lüscher).
 *
 * Thread contract: OpenMP static over sites; each link's force is computed from reads
 * only (no scatter). Sums use a fixed chunk partition (internal.h), so values do not
 * depend on the thread count. No allocation.
 */
#include "internal.h"
#include "su3_simd.h"

#include <math.h>
#include <string.h>
#include <strings.h>

int lf_action_init(lf_action *a, lf_action_kind kind, double beta, int nd) {
  memset(a, 0, sizeof *a);
  if (kind != LF_ACTION_WILSON && kind != LF_ACTION_LW)
    return LF_ERROR(LF_EINVAL, "unknown action kind %d: use wilson or lw", (int)kind);
  if (!isfinite(beta) || beta <= 0)
    return LF_ERROR(LF_EINVAL, "coupling beta = %g is not allowed: give a finite beta > 0", beta);
  if (nd < 2 || nd > LF_MAXDIM)
    return LF_ERROR(LF_EINVAL, "action for dimension %d not supported: use 2, 3 or 4", nd);
  a->kind = kind;
  a->beta = beta;
  a->nd = nd;
  a->c1 = kind == LF_ACTION_LW ? -1.0 / 12.0 : 0.0;
  for (int p = 0; p < LF_MAXPLANES; p++) a->plane_coef[p] = 1.0;
  return LF_OK;
}

int lf_action_check(const lf_action *a, const lf_gauge *f) {
  if (!isfinite(a->beta) || a->beta <= 0)
    return LF_ERROR(LF_EINVAL, "coupling beta = %g is not allowed: give a finite beta > 0", a->beta);
  if (a->kind != LF_ACTION_WILSON && a->kind != LF_ACTION_LW)
    return LF_ERROR(LF_EINVAL, "unknown action kind %d: use wilson or lw", (int)a->kind);
  if (!isfinite(a->c1))
    return LF_ERROR(LF_EINVAL, "rectangle coefficient c1 = %g is not finite: set a finite c1", a->c1);
  if (a->kind == LF_ACTION_WILSON && a->c1 != 0)
    return LF_ERROR(LF_EINVAL, "Wilson action with c1 = %g: use kind lw for rectangle terms", a->c1);
  for (int p = 0; p < LF_MAXPLANES; p++)
    if (!isfinite(a->plane_coef[p]))
      return LF_ERROR(LF_EINVAL, "plane coefficient %d is not finite: set finite k_{mu nu}", p);
  if (f && a->nd != f->lat->nd)
    return LF_ERROR(LF_ESTATE, "action set up for %d dimensions but the field has %d: init the action with lat.nd",
                    a->nd, f->lat->nd);
  return LF_OK;
}

int lf_action_parse_kind(const char *name, lf_action_kind *kind) {
  if (name && !strcasecmp(name, "wilson")) *kind = LF_ACTION_WILSON;
  else if (name && (!strcasecmp(name, "lw") || !strcasecmp(name, "luscher-weisz")))
    *kind = LF_ACTION_LW;
  else
    return LF_ERROR(LF_EINVAL, "unknown action '%s': use wilson or lw", name ? name : "");
  return LF_OK;
}

const char *lf_action_kind_name(lf_action_kind kind) {
  switch (kind) {
  case LF_ACTION_WILSON: return "wilson";
  case LF_ACTION_LW: return "lw";
  }
  return "?";
}

/* ------------------------------------------------------------------ value */
static double site_plaq_sum(const lf_action *a, const lf_gauge *f, long s) {
  const int nd = f->lat->nd, n = f->n;
  lf_cplx t[9], t2[9];
  double acc = 0;
  for (int mu = 0; mu < nd; mu++) {
    long smu = lf_lattice_up(f->lat, s, mu);
    for (int nu = mu + 1; nu < nd; nu++) {
      long snu = lf_lattice_up(f->lat, s, nu);
      if (n == 3) {
        lf_su3s_mul(t, lf_gauge_link(f, s, mu), lf_gauge_link(f, smu, nu));
        lf_su3s_mul(t2, lf_gauge_link(f, s, nu), lf_gauge_link(f, snu, mu));
      } else {
        lf_mat_mul(n, t, lf_gauge_link(f, s, mu), lf_gauge_link(f, smu, nu));
        lf_mat_mul(n, t2, lf_gauge_link(f, s, nu), lf_gauge_link(f, snu, mu));
      }
      acc += a->plane_coef[lf_act_plane(nd, mu, nu)] * lf_mat_retr_mul_dag(n, t, t2);
    }
  }
  return acc;
}

double lf_action_eval(const lf_action *a, const lf_gauge *f) {
  const long vol = f->lat->vol;
  double part[LF_ACTION_NCHUNK];
#pragma omp parallel for schedule(static) if (vol >= LF_OMP_MIN_SITES)
  for (int c = 0; c < LF_ACTION_NCHUNK; c++) {
    long s0 = vol * c / LF_ACTION_NCHUNK, s1 = vol * (c + 1) / LF_ACTION_NCHUNK;
    double acc = 0;
    for (long s = s0; s < s1; s++) acc += site_plaq_sum(a, f, s);
    part[c] = acc;
  }
  double plaq = 0;
  for (int c = 0; c < LF_ACTION_NCHUNK; c++) plaq += part[c];
  double S = lf_act_c0(a) * plaq;
  if (a->kind == LF_ACTION_LW && a->c1 != 0) S += a->c1 * lf_act_rect_sum(a, f);
  return -(a->beta / (double)f->n) * S;
}

/* ------------------------------------------------------------------ staples */
void lf_act_plaq_staple(const lf_action *a, const lf_gauge *f, long s, int mu, double weight,
                        lf_cplx *A) {
  const lf_lattice *lat = f->lat;
  const int nd = lat->nd, n = f->n;
  if (n == 3) {
    lf_act_plaq_staple_su3(a, f, s, mu, weight, A);
    return;
  }
  lf_cplx t[9], st[9];
  lf_mat_zero(n, A);
  long smu = lf_lattice_up(lat, s, mu);
  for (int nu = 0; nu < nd; nu++) {
    if (nu == mu) continue;
    double w = weight * a->plane_coef[lf_act_plane(nd, mu, nu)];
    long snu = lf_lattice_up(lat, s, nu), sd = lf_lattice_dn(lat, s, nu);
    long sdmu = lf_lattice_dn(lat, smu, nu);
    /* upper: U_nu(x+mu) U_mu(x+nu)^dag U_nu(x)^dag */
    lf_mat_mul_dag(n, t, lf_gauge_link(f, smu, nu), lf_gauge_link(f, snu, mu));
    lf_mat_mul_dag(n, st, t, lf_gauge_link(f, s, nu));
    lf_mat_axpy(n, A, w, st);
    /* lower: (U_mu(x-nu) U_nu(x-nu+mu))^dag U_nu(x-nu) */
    lf_mat_mul(n, t, lf_gauge_link(f, sd, mu), lf_gauge_link(f, sdmu, nu));
    lf_mat_dag_mul(n, st, t, lf_gauge_link(f, sd, nu));
    lf_mat_axpy(n, A, w, st);
  }
}

void lf_action_staple(const lf_action *a, const lf_gauge *f, long s, int mu, lf_cplx *A) {
  if (a->kind == LF_ACTION_LW && a->c1 != 0) {
    lf_act_plaq_staple(a, f, s, mu, lf_act_c0(a), A);
    lf_act_rect_staple_add(a, f, s, mu, A);
  } else {
    lf_act_plaq_staple(a, f, s, mu, 1.0, A);
  }
}

/* ------------------------------------------------------------------ force */
/* out += scale * Pi(m), Pi = traceless anti-hermitian part (U(1): i Im m). */
static inline void add_proj(int n, lf_cplx *out, double scale, const lf_cplx *m) {
  if (n == 1) {
    out[0] += scale * LF_I * cimag(m[0]);
    return;
  }
  double trim = 0;
  for (int i = 0; i < n; i++) trim += cimag(m[i * n + i]);
  trim /= (double)n;
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++) {
      lf_cplx v = 0.5 * (m[i * n + j] - conj(m[j * n + i]));
      if (i == j) v -= LF_I * trim;
      out[i * n + j] += scale * v;
    }
}

int lf_action_force(const lf_action *a, const lf_gauge *f, lf_cplx *force) {
  LF_CHECK(lf_action_check(a, f));
  const lf_lattice *lat = f->lat;
  const int nd = lat->nd, n = f->n;
  const size_t ls = lf_gauge_linksize(f);
  const double scale = a->beta / (2.0 * (double)n);
  const int lw = a->kind == LF_ACTION_LW && a->c1 != 0;
  if (n == 3) {
    lf_act_force_su3_plaq(a, f, lw ? lf_act_c0(a) : 1.0, force, 1.0, 0);
    if (!lw) return LF_OK;
  } else {
    memset(force, 0, sizeof(lf_cplx) * f->nlinks * ls);
  }
#pragma omp parallel for schedule(static) if (lat->vol >= LF_OMP_MIN_SITES)
  for (long s = 0; s < lat->vol; s++) {
    lf_cplx A[9], M[9];
    for (int mu = 0; mu < nd; mu++) {
      if (n == 3) { /* plaquette part done by the fast kernel */
        lf_mat_zero(n, A);
      } else {
        lf_act_plaq_staple(a, f, s, mu, lw ? lf_act_c0(a) : 1.0, A);
      }
      if (lw) lf_act_rect_staple_add(a, f, s, mu, A);
      lf_mat_mul(n, M, lf_gauge_link(f, s, mu), A);
      add_proj(n, force + ((size_t)s * (size_t)nd + (size_t)mu) * ls, scale, M);
    }
  }
  return LF_OK;
}

int lf_action_force_add(const lf_action *a, const lf_gauge *f, double c, lf_cplx *mom,
                        lf_cplx *work) {
  LF_CHECK(lf_action_check(a, f));
  if (f->n == 3 && !(a->kind == LF_ACTION_LW && a->c1 != 0)) {
    lf_act_force_su3_plaq(a, f, 1.0, mom, c, 1); /* fused: F never stored */
    return LF_OK;
  }
  if (!work)
    return LF_ERROR(LF_EINVAL, "lf_action_force_add needs a work array for the %s action with %s: pass f->nlinks * n*n lf_cplx",
                    lf_action_kind_name(a->kind), lf_group_name(f->group));
  LF_CHECK(lf_action_force(a, f, work));
  const long vol = f->lat->vol, per = (long)((size_t)f->lat->nd * lf_gauge_linksize(f));
#pragma omp parallel for schedule(static) if (vol >= LF_OMP_MIN_SITES)
  for (long s = 0; s < vol; s++)
    for (long i = s * per; i < (s + 1) * per; i++) mom[i] += c * work[i];
  return LF_OK;
}
