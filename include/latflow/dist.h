/*
 * latflow/dist.h -- domain decomposition of a lattice over MPI ranks: process grid, local
 * lattices with halo sites, halo exchange, exact (rank-count independent) global sums,
 * distributed HMC, heatbath + overrelaxation, measurements and Wilson flow, gather/scatter
 * of fields.
 * Design and communication model: docs/parallel.md.
 *
 *     lf_dist d;                                  // collective: same status on all ranks
 *     if (lf_dist_init(&d, &global_lat, NULL, 1)) ... lf_last_error() ...;  // automatic grid
 *     lf_gauge *f;                                // this rank's sites + halo storage
 *     lf_dist_gauge_alloc(&f, &d, LF_SU3);
 *     lf_gauge_hot(f, seed);                      // keyed by global site: same field for any grid
 *     lf_dist_hmc_work *w;
 *     lf_dist_hmc_work_alloc(&w, &d, f);
 *     for (long t = 0; t < ntraj; t++) {
 *       lf_hmc_result res;
 *       if (lf_dist_hmc_trajectory(&d, &act, &hp, f, seed, t, w, &res)) ... // same on all ranks
 *       double plaq;
 *       lf_dist_plaquette(&d, f, &plaq);          // bitwise the same for 1, 2, 4, ... ranks
 *     }
 *     lf_dist_hmc_work_free(w); lf_gauge_free(f); lf_dist_clear(&d);
 *
 * Decomposition. The global lattice L[0..nd-1] is split by a process grid P[0..nd-1]
 * (product = number of ranks, P[mu] divides L[mu]); rank r has grid coordinates
 * r = c0 + P0 (c1 + P1 (c2 + P2 c3)) (x fastest, like sites) and owns the block of
 * l[mu] = L[mu]/P[mu] sites starting at off[mu] = c[mu] l[mu]. Its local lattice (`lat`):
 *   - sites 0..vol-1 are its own sites, lexicographic in local coordinates (x fastest), so
 *     lf_lattice_coords(&d.lat, s, x) gives local coordinates of own sites;
 *   - in every split direction (P[mu] > 1) a halo of `width` layers on both sides, halo
 *     sites numbered vol..vol+nhalo-1; in unsplit directions the tables wrap periodically;
 *   - up/dn tables cover own and halo sites; a neighbour outside the halo box is -1;
 *   - lat.global[s] is the global index of local site s, lat.parity the global parity.
 * Serial kernels (action forces, staples, link updates, momenta, hot start, heatbath
 * classes) loop over s < vol and key random streams by global site, so they run unchanged
 * on a local lattice once the halo is filled. `width` 1 suffices for the Wilson action,
 * plaquette, staples and forces; the Lüscher-Weisz action needs 2.
 *
 * Fields (lf_dist_gauge_alloc): an lf_gauge on d.lat whose nlinks counts own links only
 * (vol * nd; lf_gauge_copy, unitarisation, HMC link updates touch own links) and whose
 * storage also holds the halo links after them (index s >= vol).
 *
 * Halo exchange (lf_dist_halo): split directions one after the other, each sending the
 * `width` boundary layers up and down with MPI_Sendrecv; the slab sent in direction mu
 * spans the full halo box in directions already exchanged, so edges and corners (needed by
 * staples: U_nu(x + mu - nu)) arrive without extra messages.
 *
 * Exact sums (lf_xsum): a per-site double is rounded to a 128-bit integer in units of
 * 2^-LF_XSUM_FRAC and integers are added; integer addition is associative, so the global
 * sum (per-rank partials gathered and added on every rank) is bitwise independent of the
 * grid, the rank count and the thread count. The sums of plaquettes, actions, kinetic
 * energies, Polyakov loops and charges are all formed this way, hence the Metropolis
 * decisions and the measured histories are identical for any rank count.
 *
 * Reproducibility contract: with the same seed, the fields of lf_dist_hmc_trajectory and
 * lf_dist_heatbath_sweep are bitwise identical to the serial lf_mc_hmc_trajectory /
 * lf_mc_heatbath_sweep on the global lattice (same kernels, same global random streams),
 * for any grid. Reported sums differ from the serial (chunked double) sums only in the last
 * bits and are identical for every grid.
 *
 * Contracts: functions marked "collective" must be called by every rank in the same order
 * and return the same status on every rank (STYLE rule 6). A decomposition made with
 * lf_dist_init_self is a one-rank decomposition private to the calling rank: its
 * "collective" functions communicate with no one (references, rank-0 measurements).
 * Thread contract: call from one thread per rank; kernels are OpenMP-parallel inside.
 */
#ifndef LATFLOW_DIST_H
#define LATFLOW_DIST_H

#include "latflow/mc.h"
#include "latflow/observe.h"
#include "latflow/par.h"

/* ---------------------------------------------------------------- process grid */
typedef struct {
  int nd;
  int self;                 /* 1: private one-rank decomposition (no communication)   */
  int nranks, rank;         /* ranks in the decomposition and this one's number       */
  int width;                /* halo width (>= 1; 1 Wilson, 2 LW, deeper: flows)       */
  int P[LF_MAXDIM];         /* process grid; unused entries 1                          */
  int c[LF_MAXDIM];         /* this rank's grid coordinates                            */
  int up[LF_MAXDIM], dn[LF_MAXDIM]; /* neighbour ranks in +mu / -mu                   */
  int Lg[LF_MAXDIM];        /* global extents                                          */
  int l[LF_MAXDIM];         /* local extents (own sites)                               */
  int off[LF_MAXDIM];       /* global coordinates of local site 0                      */
  int h[LF_MAXDIM];         /* halo layers per side: width if P[mu] > 1, else 0        */
  int E[LF_MAXDIM];         /* halo box extents l + 2 h                                */
  long gvol;                /* global volume                                           */
  long nhalo;               /* halo sites (local indices vol .. vol + nhalo - 1)       */
  long boxvol;              /* sites of the halo box: prod E = vol + nhalo             */
  long *box;                /* [vol + nhalo] box index of local site s (see "Box order") */
  lf_lattice lat;           /* the local lattice (see above); owned                    */
  /* exchange lists per split direction: local site indices of the layers sent up/down
   * and of the halo layers received from below/above, all in the same (box) order */
  long nface[LF_MAXDIM];
  long *send_up[LF_MAXDIM], *send_dn[LF_MAXDIM], *recv_dn[LF_MAXDIM], *recv_up[LF_MAXDIM];
  void *buf;                /* exchange buffers (2 x largest face x nd links x 9 lf_cplx) */
  size_t buf_bytes;
} lf_dist;

/* Parse "1x1x1x2" (nd extents >= 1) into P. LF_EINVAL with a message otherwise. */
int lf_dist_grid_parse(const char *text, int nd, int P[LF_MAXDIM]);
/* Automatic grid for nranks ranks: prime factors of nranks, largest first, each splits the
 * direction with the largest local extent it divides while keeping local extents >= width
 * (ties: the later direction, i.e. time first). LF_EINVAL if no such grid exists. */
int lf_dist_grid_auto(int nd, const int *L, int nranks, int width, int P[LF_MAXDIM]);
/* Format P as "1x1x1x2". */
void lf_dist_grid_format(const lf_dist *d, char *buf, size_t n);

/* Collective: decompose the global lattice `glob` over all ranks with grid P (NULL:
 * lf_dist_grid_auto) and halo width >= 1 (1: Wilson, 2: Lüscher-Weisz; deeper halos for
 * the deep-halo flow evaluation of flow.h, docs/parallel.md). LF_EINVAL if the grid does
 * not match the number of ranks, does not divide the extents, or leaves a local extent
 * below width (the halo is filled from the nearest neighbours only). */
int lf_dist_init(lf_dist *d, const lf_lattice *glob, const int *P, int width);
/* A one-rank decomposition of glob private to the calling rank (not collective). */
int lf_dist_init_self(lf_dist *d, const lf_lattice *glob, int width);
void lf_dist_clear(lf_dist *d); /* no-op on a cleared/zeroed struct */

/* Grid coordinates of rank r and the rank at grid coordinates c (periodic). */
void lf_dist_rank_coords(const lf_dist *d, int r, int *c);
int lf_dist_rank_at(const lf_dist *d, const int *c);

/* ---------------------------------------------------------------- fields */
/* Field on the local lattice with halo storage (cold; halo links = 1). Free with
 * lf_gauge_free. */
int lf_dist_gauge_alloc(lf_gauge **f, const lf_dist *d, lf_group g);
/* Collective: refresh the halo links of direction mu (mu = -1: all directions) from the
 * neighbours' own links. */
int lf_dist_halo(const lf_dist *d, lf_gauge *f, int mu);
/* Box order. Plain per-site arrays (flow angles, network features) may be stored over the
 * whole halo box instead of in local-site order: site with box coordinates b (own sites at
 * h[mu] <= b[mu] < h[mu] + l[mu]) at index b0 + E0 (b1 + E1 (b2 + E2 b3)), x fastest. In
 * unsplit directions the box is the full periodic extent, so a box array is an ordinary
 * field on a lattice of extents E. d->box[s] maps local site s (own or halo) to its box
 * index; the global index of own site s is d->lat.global[s].
 * Collective: refresh the halo of ncomp box-order double fields, component c at
 * x + c * stride (stride >= boxvol), from the neighbours' own sites, with the exchange
 * lists of lf_dist_halo (so edges and corners arrive too). Components are sent in groups
 * that fit the exchange buffer (one message per group, direction and side). */
int lf_dist_halo_box(const lf_dist *d, double *x, long ncomp, long stride);
/* Collective: rank 0 sends the global field `glob` (a field on the global lattice; ignored
 * on other ranks, may be NULL there) to the ranks' own links of f; the halo is refreshed. */
int lf_dist_scatter(const lf_dist *d, const lf_gauge *glob, lf_gauge *f);
/* Collective: the ranks' own links of f are collected into `glob` on rank 0 (ignored on
 * other ranks, may be NULL there). */
int lf_dist_gather(const lf_dist *d, const lf_gauge *f, lf_gauge *glob);

/* ---------------------------------------------------------------- exact sums */
#define LF_XSUM_FRAC 60 /* fractional bits of the fixed-point accumulator */
__extension__ typedef __int128 lf_xsum_int;
typedef struct {
  lf_xsum_int v;   /* sum of round(x * 2^LF_XSUM_FRAC), two's complement (wraps)      */
  double approx;   /* plain double sum, only to detect a total beyond the range        */
  int bad;         /* a non-finite or too large term was added                         */
} lf_xsum;

static inline void lf_xsum_zero(lf_xsum *a) {
  a->v = 0;
  a->approx = 0;
  a->bad = 0;
}
/* Add x (exact up to 2^-LF_XSUM_FRAC rounding of x itself; |x| < 2^60). */
void lf_xsum_add(lf_xsum *a, double x);
/* b into a. */
void lf_xsum_merge(lf_xsum *a, const lf_xsum *b);
/* The sum rounded to double: NaN if a bad term was added or the total left the range
 * (|total| >= 2^66). */
double lf_xsum_value(const lf_xsum *a);
/* Collective: acc[0..m-1] <- sums over all ranks (identical on every rank). */
int lf_dist_xsum_allreduce(const lf_dist *d, lf_xsum *acc, int m);

/* ---------------------------------------------------------------- measurements */
/* All collective; halos are refreshed first (hence f is not const). Values are exact sums
 * (see above), identical on every rank and for every grid. */
/* Average plaquette <Re tr U_P / N> (normalisation of lf_observe_plaquette). */
int lf_dist_plaquette(const lf_dist *d, lf_gauge *f, double *plaq);
/* Action S of lf_action_eval (LW needs width 2). */
int lf_dist_action(const lf_dist *d, const lf_action *a, lf_gauge *f, double *S);
/* Kinetic energy sum tr(P^dag P) over own links (no halo needed, f only for the layout). */
int lf_dist_kinetic(const lf_dist *d, const lf_gauge *f, const lf_cplx *mom, double *K);
/* Polyakov loop (1/V_s) sum_xs tr P(xs) / N; the products along the last direction are
 * formed in site order, passed from rank to rank along the grid's time direction. */
int lf_dist_polyakov(const lf_dist *d, lf_gauge *f, lf_cplx *P);
/* 2D U(1) geometric charge (lf_observe_topo_u1). */
int lf_dist_topo_u1(const lf_dist *d, lf_gauge *f, double *Q);
/* Wilson flow of f in place through the times ts[0..nt-1] with the steps of
 * lf_observe_wflow_measure (ws from lf_observe_wflow_init(ws, f) on this rank's field),
 * filling out[i] on every rank: the flowed field is bitwise the serial one; plaquette,
 * E_plaq, E_clov and Q (4D clover, 2D U(1) geometric) are exact sums. */
int lf_dist_wflow_measure(const lf_dist *d, lf_gauge *f, const double *ts, int nt, double eps, lf_wflow_ws *ws,
                          lf_wflow_point *out);

/* ---------------------------------------------------------------- Markov chains */
typedef struct lf_dist_hmc_work lf_dist_hmc_work;
int lf_dist_hmc_work_alloc(lf_dist_hmc_work **w, const lf_dist *d, const lf_gauge *f);
void lf_dist_hmc_work_free(lf_dist_hmc_work *w); /* no-op on NULL */
/* Collective: one HMC trajectory as lf_mc_hmc_trajectory (momenta keyed by global site,
 * halo exchange before every force, exact sums for H). Same errors, on every rank: LF_ENAN
 * if H is not finite on any rank (field restored). LF_EINVAL for LW with width < 2. */
int lf_dist_hmc_trajectory(const lf_dist *d, const lf_action *a, const lf_hmc_params *p, lf_gauge *f,
                           uint64_t seed, long traj, lf_dist_hmc_work *w, lf_hmc_result *res);
/* Collective: heatbath / overrelaxation sweeps as lf_mc_heatbath_sweep /
 * lf_mc_overrelax_sweep (classes (mu, parity) with a halo refresh of direction mu after
 * each). st (may be NULL) receives the counts summed over ranks. */
int lf_dist_heatbath_sweep(const lf_dist *d, const lf_action *a, lf_gauge *f, uint64_t seed, long sweep,
                           lf_hb_stats *st);
int lf_dist_overrelax_sweep(const lf_dist *d, const lf_action *a, lf_gauge *f);
/* Collective: one heatbath sweep and then nor overrelaxation sweeps (the update of latflow
 * heatbath), the same field as the separate calls with one full halo refresh instead of
 * nor + 1. */
int lf_dist_heatbath_update(const lf_dist *d, const lf_action *a, lf_gauge *f, uint64_t seed, long sweep, int nor,
                            lf_hb_stats *st);

#endif
