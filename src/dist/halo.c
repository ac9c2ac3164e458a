/*
 * halo.c -- halo exchange and gather/scatter of gauge fields over the process grid.
 *
 * Halo: for each split direction nu in increasing order, the `width` highest own layers go
 * to the rank above (its lower halo) and the lowest own layers to the rank below (its upper
 * halo), packed into one buffer each and swapped with MPI_Sendrecv. The slabs of direction
 * nu include the halos of directions < nu, which are complete by then, so edges and corners
 * are filled without diagonal messages (docs/parallel.md). Communication volume per
 * exchange: 2 sum_nu nface[nu] sites x (links per site) x n*n x 16 bytes.
 *
 * lf_dist_halo_box does the same for plain double fields stored in box order (the deep
 * halos of the flow module), in groups of components that fit the exchange buffer.
 *
 * Gather/scatter: every rank's own links travel to/from rank 0 in pieces of at most
 * LF_DIST_PIECE links; rank 0 maps local site s of rank r to its global index through r's
 * offsets (all ranks have the same local extents).
 *
 * MPI contract: all functions are collective over the decomposition's ranks.
 */
#include <string.h>

#include "internal.h"

/* Gather/scatter message size in links (<= 1 GiB for SU(3)). */
#define LF_DIST_PIECE (1L << 22)

/* One exchange, driven by the lists of grid.c: for each split direction nu in increasing
 * order, the highest own layers go up (into the lower halo above) and the lowest down.
 * xfer(ctx, sites, n, buf, unpack) packs (unpack = 0) or unpacks (1) the data of the n
 * local sites `sites` (box order) to/from buf; `per` bytes per site, 2 * maxface * per
 * must fit d->buf. */
typedef void (*xfer_fn)(void *ctx, const long *sites, long n, void *buf, int unpack);

static int exchange(const lf_dist *d, size_t per, xfer_fn xfer, void *ctx) {
  int rc = LF_OK;
  for (int nu = 0; nu < d->nd && !rc; nu++) {
    if (d->P[nu] == 1) continue;
    const long n = d->nface[nu];
    char *sbuf = d->buf, *rbuf = (char *)d->buf + (size_t)n * per;
    const size_t bytes = (size_t)n * per;
    /* highest own layers up, lower halo from below */
    xfer(ctx, d->send_up[nu], n, sbuf, 0);
    rc = lf_par_sendrecv(sbuf, bytes, d->up[nu], rbuf, bytes, d->dn[nu]);
    if (rc) break;
    xfer(ctx, d->recv_dn[nu], n, rbuf, 1);
    /* lowest own layers down, upper halo from above */
    xfer(ctx, d->send_dn[nu], n, sbuf, 0);
    rc = lf_par_sendrecv(sbuf, bytes, d->dn[nu], rbuf, bytes, d->up[nu]);
    if (rc) break;
    xfer(ctx, d->recv_up[nu], n, rbuf, 1);
  }
  return rc;
}

/* gauge links: all links of a site (mu < 0) or those of direction mu */
typedef struct {
  lf_gauge *f;
  int mu;
} gauge_ctx;

static void xfer_gauge(void *vctx, const long *sites, long n, void *vbuf, int unpack) {
  const gauge_ctx *c = vctx;
  lf_gauge *f = c->f;
  const int nd = f->lat->nd, mu = c->mu;
  const size_t per = (mu < 0 ? (size_t)nd : 1) * lf_gauge_linksize(f);
  lf_cplx *buf = vbuf;
#pragma omp parallel for schedule(static) if (n >= LF_OMP_MIN_SITES)
  for (long i = 0; i < n; i++) {
    lf_cplx *u = lf_gauge_link(f, sites[i], mu < 0 ? 0 : mu);
    if (unpack) memcpy(u, buf + (size_t)i * per, per * sizeof(lf_cplx));
    else memcpy(buf + (size_t)i * per, u, per * sizeof(lf_cplx));
  }
}

int lf_dist_halo(const lf_dist *d, lf_gauge *f, int mu) {
  if (f->lat != &d->lat)
    return LF_ERROR(LF_ESTATE, "lf_dist_halo: the field does not live on this decomposition's local lattice (use lf_dist_gauge_alloc)");
  if (mu >= d->nd) return LF_ERROR(LF_EINVAL, "lf_dist_halo: direction %d of a %d-dimensional lattice", mu, d->nd);
  if (!d->nhalo) return LF_OK;
  int prof = lf_prof_begin("halo", LF_PROF_COMM);
  gauge_ctx c = {f, mu};
  const size_t per = (mu < 0 ? (size_t)d->nd : 1) * lf_gauge_linksize(f) * sizeof(lf_cplx);
  int rc = exchange(d, per, xfer_gauge, &c);
  lf_prof_end(prof);
  return rc;
}

/* box-order doubles: components c0 .. c0 + nc - 1, site data contiguous in the buffer */
typedef struct {
  const lf_dist *d;
  double *x;
  long c0, nc, stride;
} box_ctx;

static void xfer_box(void *vctx, const long *sites, long n, void *vbuf, int unpack) {
  const box_ctx *c = vctx;
  const long *box = c->d->box, nc = c->nc;
  double *buf = vbuf, *x = c->x + c->c0 * c->stride;
#pragma omp parallel for schedule(static) if (n >= LF_OMP_MIN_SITES)
  for (long i = 0; i < n; i++) {
    const long b = box[sites[i]];
    double *q = buf + i * nc;
    if (unpack)
      for (long k = 0; k < nc; k++) x[k * c->stride + b] = q[k];
    else
      for (long k = 0; k < nc; k++) q[k] = x[k * c->stride + b];
  }
}

int lf_dist_halo_box(const lf_dist *d, double *x, long ncomp, long stride) {
  if (ncomp < 0 || (ncomp > 1 && stride < d->boxvol))
    return LF_ERROR(LF_EINVAL, "lf_dist_halo_box: %ld components with stride %ld; the stride must be at least the box volume %ld",
                    ncomp, stride, d->boxvol);
  if (!d->nhalo || !ncomp) return LF_OK;
  long maxface = 0;
  for (int nu = 0; nu < d->nd; nu++)
    if (d->P[nu] > 1 && d->nface[nu] > maxface) maxface = d->nface[nu];
  /* components per message: what fits half of the buffer */
  long group = (long)(d->buf_bytes / 2 / (size_t)maxface / sizeof(double));
  if (group > ncomp) group = ncomp;
  int prof = lf_prof_begin("halo", LF_PROF_COMM);
  int rc = LF_OK;
  for (long c0 = 0; c0 < ncomp && !rc; c0 += group) {
    box_ctx c = {d, x, c0, ncomp - c0 < group ? ncomp - c0 : group, stride};
    rc = exchange(d, (size_t)c.nc * sizeof(double), xfer_box, &c);
  }
  lf_prof_end(prof);
  return rc;
}

int lf_dist_gauge_alloc(lf_gauge **out, const lf_dist *d, lf_group g) {
  *out = NULL;
  lf_gauge *f = lf_alloc(sizeof *f);
  if (!f) return LF_ERROR(LF_ENOMEM, "no memory for a gauge field header");
  f->lat = &d->lat;
  f->group = g;
  f->n = (int)g;
  f->nlinks = (size_t)d->lat.vol * (size_t)d->nd;
  const size_t all = (size_t)(d->lat.vol + d->nhalo) * (size_t)d->nd;
  const size_t ls = (size_t)(f->n * f->n);
  f->u = lf_alloc(sizeof(lf_cplx) * all * ls);
  if (!f->u) {
    lf_free(f);
    return LF_ERROR(LF_ENOMEM, "no memory for a local gauge field (%zu links with halo)", all);
  }
  for (size_t l = 0; l < all; l++) lf_mat_identity(f->n, f->u + l * ls);
  *out = f;
  return LF_OK;
}

/* Global index of local own site s of the rank with grid coordinates c. */
static long global_of(const lf_dist *d, const int *c, long s) {
  long gi = 0;
  int x[LF_MAXDIM];
  for (int mu = 0; mu < LF_MAXDIM; mu++) {
    x[mu] = (int)(s % d->l[mu]) + c[mu] * d->l[mu];
    s /= d->l[mu];
  }
  for (int mu = LF_MAXDIM - 1; mu >= 0; mu--) gi = gi * d->Lg[mu] + x[mu];
  return gi;
}

static int check_glob(const lf_dist *d, const lf_gauge *f, const lf_gauge *glob) {
  if (d->rank != 0) return LF_OK;
  if (!glob || glob->lat->vol != d->gvol || glob->lat->nd != d->nd || glob->group != f->group)
    return LF_ERROR(LF_ESTATE, "gather/scatter: rank 0 needs a %s field on the global lattice (%ld sites)",
                    lf_group_name(f->group), d->gvol);
  return LF_OK;
}

/* Move the own links of every rank between f (on each rank) and glob (on rank 0):
 * to_root = 1 gathers, 0 scatters. Pieces of LF_DIST_PIECE links, rank by rank. */
static int transfer(const lf_dist *d, lf_gauge *f, lf_gauge *glob, int to_root) {
  int rc = lf_dist_agree(d, check_glob(d, f, glob));
  if (rc) return rc;
  const int nd = d->nd;
  const size_t ls = lf_gauge_linksize(f), site_bytes = (size_t)nd * ls * sizeof(lf_cplx);
  const long vol = d->lat.vol;
  const long piece_sites = LF_DIST_PIECE / nd;
  lf_cplx *tmp = NULL;
  if (d->rank == 0 && lf_dist_comm(d)) {
    tmp = lf_alloc(site_bytes * (size_t)(vol < piece_sites ? vol : piece_sites));
    if (!tmp) rc = LF_ERROR(LF_ENOMEM, "no memory for the gather/scatter buffer");
  }
  rc = lf_dist_agree(d, rc);
  if (rc) {
    lf_free(tmp);
    return rc;
  }
  for (int r = 0; r < d->nranks && !rc; r++) {
    int c[LF_MAXDIM];
    lf_dist_rank_coords(d, r, c);
    for (long s0 = 0; s0 < vol && !rc; s0 += piece_sites) {
      long ns = vol - s0 < piece_sites ? vol - s0 : piece_sites;
      size_t bytes = (size_t)ns * site_bytes;
      if (d->rank == 0) {
        lf_cplx *buf = r == 0 ? f->u + (size_t)s0 * (size_t)nd * ls : tmp;
        if (to_root && r != 0) rc = lf_par_sendrecv(NULL, 0, -1, tmp, bytes, r);
        for (long s = s0; s < s0 + ns && !rc; s++) {
          lf_cplx *g = lf_gauge_link(glob, global_of(d, c, s), 0), *b = buf + (size_t)(s - s0) * (size_t)nd * ls;
          if (g == b) continue; /* one rank, glob viewing f's storage */
          if (to_root) memcpy(g, b, site_bytes);
          else memcpy(b, g, site_bytes);
        }
        if (!to_root && r != 0 && !rc) rc = lf_par_sendrecv(tmp, bytes, r, NULL, 0, -1);
      } else if (d->rank == r) {
        lf_cplx *mine = f->u + (size_t)s0 * (size_t)nd * ls;
        rc = to_root ? lf_par_sendrecv(mine, bytes, 0, NULL, 0, -1) : lf_par_sendrecv(NULL, 0, -1, mine, bytes, 0);
      }
    }
  }
  lf_free(tmp);
  return lf_dist_agree(d, rc);
}

int lf_dist_gather(const lf_dist *d, const lf_gauge *f, lf_gauge *glob) {
  if (f->lat != &d->lat) return LF_ERROR(LF_ESTATE, "lf_dist_gather: the field is not on this decomposition");
  return transfer(d, (lf_gauge *)f, glob, 1);
}

int lf_dist_scatter(const lf_dist *d, const lf_gauge *glob, lf_gauge *f) {
  if (f->lat != &d->lat) return LF_ERROR(LF_ESTATE, "lf_dist_scatter: the field is not on this decomposition");
  LF_CHECK(transfer(d, f, (lf_gauge *)glob, 0));
  return lf_dist_halo(d, f, -1);
}
