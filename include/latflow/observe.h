/*
 * latflow/observe.h -- gauge observables: plaquette, rectangles, Wilson loops, Polyakov
 * loop, topological charge (2D U(1) geometric; 4D clover), action/energy densities and the
 * Wilson (gradient) flow with t0. Formulas and normalisations: docs/observables.md.
 *
 * Normalisations: loops are Re tr W / N averaged over all loops of the kind (U(1):
 * cos of the loop angle); plaquette P = < Re tr U_P / N > over all V nd(nd-1)/2 plaquettes.
 * Energy density (Lüscher, JHEP 08 (2010) 071): E = -(1/2) sum_{mu,nu} tr(G_mu nu G_mu nu)
 * per site with the anti-hermitian clover G; E_plaq = 2 sum_{mu<nu} Re tr(1 - U_mu nu(x)).
 * Topological charge: Q = -(1/32 pi^2) sum_x eps_{mu nu rho sigma} tr(G_mu nu G_rho sigma)
 * with anti-hermitian G (= +(1/32 pi^2) eps tr(F F) for hermitian F = -i G); 2D U(1):
 * Q = (1/2 pi) sum_x arg U_01(x), arg in (-pi, pi].
 *
 *     double p = lf_observe_plaquette(field);
 *     double W[4 * 4];                       // W[(R-1)*4 + (T-1)], R, T = 1..4
 *     if (lf_observe_wilson_loops(field, 4, 4, W)) ... lf_last_error() ...;
 *
 *     lf_wflow_ws ws;                        // Wilson flow, caller-owned workspace
 *     lf_wflow_point pts[100];
 *     double ts[100]; for (int i = 0; i < 100; i++) ts[i] = 0.05 * (i + 1);
 *     lf_observe_wflow_init(&ws, field);
 *     lf_observe_wflow_measure(field, ts, 100, 0.01, &ws, pts);   // flows `field` in place
 *     lf_observe_wflow_scale(pts, 100, 0.3, 1, &t0);              // t0 from clover E
 *     lf_observe_wflow_clear(&ws);
 *
 * Thread contract: functions are OpenMP-parallel over sites; sums are per-chunk partial
 * sums over a fixed partition of the sites (independent of the thread count) added in
 * chunk order, so every result is independent of the number of threads. Functions that
 * return int may allocate scratch once per call (LF_ENOMEM); none allocates per site.
 */
#ifndef LATFLOW_OBSERVE_H
#define LATFLOW_OBSERVE_H

#include "latflow/action.h"

/* ---------------------------------------------------------------- loops */
/* Average plaquette Re tr U_P / N over all plaquettes (NaN if scratch allocation fails). */
double lf_observe_plaquette(const lf_gauge *f);
/* Same, per plane (mu<nu) in plane-index order; out[nplanes]. */
void lf_observe_plaquette_planes(const lf_gauge *f, double *out);
/* Average Re tr R / N over all 1x2 and 2x1 rectangles (2 V nd(nd-1)/2 loops). */
int lf_observe_rectangle(const lf_gauge *f, double *rect);
/* Wilson loops R x T, T along the last direction, R along each of the other directions,
 * averaged over sites and those directions: W[(R-1)*tmax + (T-1)] = < Re tr W(R,T) / N >
 * for 1 <= R <= rmax, 1 <= T <= tmax. Needs rmax <= every spatial extent, tmax <= L_t. */
int lf_observe_wilson_loops(const lf_gauge *f, int rmax, int tmax, double *W);
/* Polyakov loop, the product of the links along the last direction:
 * P = (1/V_s) sum_xs tr P(xs) / N (complex). */
int lf_observe_polyakov(const lf_gauge *f, lf_cplx *P);
/* Per spatial site: out[xs] = tr P(xs) / N for xs = 0..V_s-1, V_s = vol / L_t (xs is the
 * index of the site with time coordinate 0). */
void lf_observe_polyakov_field(const lf_gauge *f, lf_cplx *out);

/* ---------------------------------------------------------------- topology, energy */
/* 2D U(1) geometric charge Q = (1/2 pi) sum_x arg U_01(x), arg in (-pi, pi]; an integer up
 * to rounding on a periodic lattice. LF_EINVAL unless nd = 2 and the group is U(1). */
int lf_observe_topo_u1(const lf_gauge *f, double *Q);
/* Its density q[s] = arg U_01(s) / (2 pi) (vol entries). Same conditions. */
int lf_observe_topo_u1_density(const lf_gauge *f, double *q);
/* Clover field strength at site s: G[p*n*n ...] for plane p (mu<nu, plane-index order),
 * G_mu nu = (1/8)(C - C^dag) minus its trace (SU(N)), C = sum of the 4 leaves in the
 * mu-nu plane around s (U(1): i Im C / 4). G needs nplanes * n*n lf_cplx. */
void lf_observe_clover(const lf_gauge *f, long s, lf_cplx *G);
/* Volume-averaged energy densities: E_plaq = (2/V) sum_x sum_{mu<nu} Re tr(1 - U_mu nu(x))
 * and E_clov = -(1/V) sum_x sum_{mu<nu} tr(G_mu nu(x)^2). Either pointer may be NULL. */
int lf_observe_energy(const lf_gauge *f, double *E_plaq, double *E_clov);
/* 4D clover charge Q = sum_x q(x), q = -(1/4 pi^2) tr(G01 G23 + G02 G31 + G03 G12).
 * LF_EINVAL unless nd = 4. */
int lf_observe_topo_clover(const lf_gauge *f, double *Q);
/* Per-site clover densities: e[s] = -sum_{mu<nu} tr G_mu nu(s)^2 (may be NULL) and, for
 * nd = 4, q[s] as above (may be NULL; LF_EINVAL if not NULL and nd != 4). */
int lf_observe_clover_density(const lf_gauge *f, double *e, double *q);

/* ---------------------------------------------------------------- Wilson flow */
/* Wilson flow dV/dt = Z(V) V, Z = -g0^2 dS_W = -F(V) for the Wilson action at beta = 2N
 * (action.h force convention), integrated with Lüscher's third-order Runge-Kutta scheme
 * (1006.4518, appendix C). Workspace: caller-owned struct, init/clear pair. */
typedef struct {
  lf_cplx *z;      /* RK accumulator, nlinks * n*n                */
  lf_cplx *force;  /* force buffer, nlinks * n*n                  */
  lf_action act;   /* Wilson action at beta = 2N (g0^2 = 1)       */
  size_t nlinks;
  int n;
} lf_wflow_ws;

typedef struct {
  double t;                 /* flow time                                          */
  double plaq;              /* average plaquette Re tr U_P / N                    */
  double E_plaq, E_clov;    /* energy densities (see lf_observe_energy)           */
  double t2E_plaq, t2E_clov;/* t^2 E                                              */
  double Q;                 /* nd = 4: clover charge; nd = 2 U(1): geometric; else 0 */
} lf_wflow_point;

/* Allocate the workspace for fields of the geometry and group of f (freed by _clear). */
int lf_observe_wflow_init(lf_wflow_ws *ws, const lf_gauge *f);
void lf_observe_wflow_clear(lf_wflow_ws *ws);
/* One RK3 step of size eps > 0, in place: f = V(t) -> V(t + eps). */
int lf_observe_wflow_step(lf_gauge *f, double eps, lf_wflow_ws *ws);
/* One stage of that step: X <- a X - b F(U) (F the Wilson force, ws->z holds X), then
 * U <- exp(c X) U on every link of f. A step is the stages (0, eps, 1/4),
 * (-17/36, 8/9 eps, 1), (-1, 3/4 eps, 1); exposed for drivers that refresh halo links
 * between stages (dist). */
int lf_observe_wflow_stage(lf_gauge *f, lf_wflow_ws *ws, double a, double b, double c);
/* Flow by a time t >= 0 in ceil(t/eps) equal steps (each <= eps), in place. */
int lf_observe_wflow(lf_gauge *f, double t, double eps, lf_wflow_ws *ws);
/* Flow f (in place) through the increasing times ts[0..nt-1] (ts[0] >= 0; 0 measures the unflowed field) with steps of at most eps, each
 * interval split into equal steps that land on ts[i], and fill out[i]. */
int lf_observe_wflow_measure(lf_gauge *f, const double *ts, int nt, double eps,
                             lf_wflow_ws *ws, lf_wflow_point *out);
/* Fill one point at flow time t for the current field (no flow). */
int lf_observe_wflow_point(const lf_gauge *f, double t, lf_wflow_point *out);
/* Scale from a measured table: the first t where t^2 E(t) crosses `target` (0.3 gives t0),
 * by linear interpolation of t^2 E between the bracketing points; E_clov if clover != 0,
 * else E_plaq. LF_ERANGE with a message if the table never reaches the target. */
int lf_observe_wflow_scale(const lf_wflow_point *p, int np, double target, int clover,
                           double *t0);
/* The same on plain arrays: first crossing of y[k] (= t[k]^2 <E(t[k])>) through target.
 * For the ensemble definition t0^2 <E(t0)> = 0.3 with an error, average first: call this
 * inside an lf_stats_fn given to lf_stats_gamma_derived (data[i*np + k] = t_k^2 E_i(t_k),
 * means = the averaged table); see docs/observables.md. */
int lf_observe_wflow_scale_table(const double *t, const double *y, int np, double target,
                                 double *t0);

#endif
