/*
 * latflow/action.h -- gauge actions and their forces: Wilson plaquette and
 * Lüscher-Weisz (plaquette + 1x2 rectangles), with a coupling factor per plane.
 *
 * Convention (docs/conventions.md; codes disagree, so every output states it):
 *     S = -(beta/N) sum_{x, mu<nu} k_{mu nu} [ c0 Re tr U_P(x) + c1 sum_{2 orientations} Re tr R(x) ]
 * with c0 = 1 - 8 c1; Wilson: c1 = 0; tree-level Lüscher-Weisz: c1 = -1/12.
 * U(1) (N = 1): S = -beta sum_P cos(theta_P). k_{mu nu} = plane_coef[plane(mu,nu)],
 * default 1 (set them for anisotropic lattices or the Feynman-Hellmann operator).
 *
 * Force convention: for U -> exp(w_a i T_a) U the force is the algebra element
 *     F(x, mu) = sum_a (dS/dw_a) i T_a,
 * so the HMC momentum update is P <- P - eps F (docs/hmc.md). For the Wilson action
 * F = (beta k / 2N) * Pi(U A), Pi = traceless anti-hermitian part, A = staple sum.
 *
 *     lf_action act;
 *     lf_action_init(&act, LF_ACTION_WILSON, 6.0, lat.nd);
 *     double S = lf_action_eval(&act, field);
 *     lf_action_force(&act, field, force);   // force: nlinks * n*n lf_cplx
 *
 * Reductions are done per site and then summed in site order, so S does not depend on
 * the number of OpenMP threads.
 */
#ifndef LATFLOW_ACTION_H
#define LATFLOW_ACTION_H

#include "latflow/field.h"

typedef enum { LF_ACTION_WILSON = 0, LF_ACTION_LW = 1 } lf_action_kind;

#define LF_MAXPLANES 6

typedef struct {
  lf_action_kind kind;
  double beta;
  double c1;                        /* rectangle coefficient (0 for Wilson) */
  double plane_coef[LF_MAXPLANES];  /* k_{mu nu} by plane index, default 1  */
  int nd;
} lf_action;

/* beta must be finite and > 0; LW gets c1 = -1/12 (change act->c1 after init). */
int lf_action_init(lf_action *a, lf_action_kind kind, double beta, int nd);
/* "wilson" or "lw" */
int lf_action_parse_kind(const char *name, lf_action_kind *kind);
const char *lf_action_kind_name(lf_action_kind kind);

/* Validate a (finite beta > 0, finite c1 and k, c1 = 0 for Wilson) and, if f is not
 * NULL, that a->nd matches the field. LF_EINVAL / LF_ESTATE with a message. */
int lf_action_check(const lf_action *a, const lf_gauge *f);

/* Total action S. */
double lf_action_eval(const lf_action *a, const lf_gauge *f);
/* Force F(x, mu) for every link (layout of lf_gauge.u; algebra elements); overwrites
 * `force` (f->nlinks * n*n lf_cplx, caller-owned). Returns lf_action_check's status. */
int lf_action_force(const lf_action *a, const lf_gauge *f, lf_cplx *force);
/* mom += c F for every link (the HMC momentum update with c = -eps), fused with the force
 * computation for the SU(3) Wilson action so F is never stored (saves two passes over
 * memory per step); otherwise F goes through `work` (f->nlinks * n*n lf_cplx, caller-
 * owned; may be NULL only for SU(3) Wilson). Same status as lf_action_force. */
int lf_action_force_add(const lf_action *a, const lf_gauge *f, double c, lf_cplx *mom,
                        lf_cplx *work);

/* Weighted staple sum A such that the part of S containing U_mu(x) is
 * -(beta/N) Re tr(U_mu(x) A) (k_{mu nu} included). For LW, A also holds c0 times the
 * plaquette staples plus c1 times the six rectangle staples per plane; then
 * dS/dw_a = -(beta/N) Re tr(i T_a U A) still holds (the force), but A depends on U
 * when an extent is 2, so heatbath uses the Wilson action only. */
void lf_action_staple(const lf_action *a, const lf_gauge *f, long s, int mu, lf_cplx *A);

#endif
