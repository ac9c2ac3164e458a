/*
 * grid.c -- process grid (parsed or automatic), rank coordinates, and the local lattice of
 * a rank: own sites first (lexicographic), then halo sites, with neighbour tables that
 * wrap in unsplit directions and end (-1) at the edge of the halo box in split ones; the
 * index lists of the halo exchange. Layout: include/latflow/dist.h; docs/parallel.md.
 *
 * MPI contract: lf_dist_init is collective (status agreed with lf_par_agree); everything
 * else here is local arithmetic.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int lf_dist_grid_parse(const char *text, int nd, int P[LF_MAXDIM]) {
  if (!text || !*text) return LF_ERROR(LF_EINVAL, "empty process grid: write e.g. 1x1x1x2");
  const char *p = text;
  for (int mu = 0; mu < LF_MAXDIM; mu++) P[mu] = 1;
  int n = 0;
  while (*p) {
    char *end;
    errno = 0;
    long v = strtol(p, &end, 10);
    if (end == p || errno || v < 1 || v > 1 << 20 || n == nd)
      return LF_ERROR(LF_EINVAL, "process grid '%s' is not %d positive numbers like %s", text, nd,
                      nd == 4 ? "1x1x1x2" : nd == 3 ? "1x1x2" : "1x2");
    P[n++] = (int)v;
    p = end;
    if (*p == 'x' || *p == 'X') p++;
    else if (*p) return LF_ERROR(LF_EINVAL, "process grid '%s' is not of the form 1x1x1x2", text);
  }
  if (n != nd)
    return LF_ERROR(LF_EINVAL, "process grid '%s' has %d entries but the lattice has %d dimensions", text, n, nd);
  return LF_OK;
}

int lf_dist_grid_auto(int nd, const int *L, int nranks, int width, int P[LF_MAXDIM]) {
  for (int mu = 0; mu < LF_MAXDIM; mu++) P[mu] = 1;
  if (nranks < 1) return LF_ERROR(LF_EINVAL, "%d ranks: need at least one", nranks);
  int primes[64], np = 0, n = nranks;
  for (int q = 2; (long)q * q <= n; q++)
    while (n % q == 0) primes[np++] = q, n /= q;
  if (n > 1) primes[np++] = n;
  for (int k = np - 1; k >= 0; k--) { /* largest factor first */
    int q = primes[k], best = -1;
    for (int mu = 0; mu < nd; mu++) {
      int l = L[mu] / P[mu];
      if (l % q || l / q < width) continue;
      if (best < 0 || l >= L[best] / P[best]) best = mu;
    }
    if (best < 0) {
      char lat[64] = "";
      size_t o = 0;
      for (int mu = 0; mu < nd && o < sizeof lat; mu++) o += (size_t)snprintf(lat + o, sizeof lat - o, mu ? "x%d" : "%d", L[mu]);
      return LF_ERROR(LF_EINVAL,
                      "cannot split the %s lattice over %d ranks (factor %d divides no local extent "
                      "that stays >= %d): run on another number of ranks or give --grid",
                      lat, nranks, q, width);
    }
    P[best] *= q;
  }
  return LF_OK;
}

void lf_dist_grid_format(const lf_dist *d, char *buf, size_t n) {
  size_t k = 0;
  buf[0] = '\0';
  for (int mu = 0; mu < d->nd && k < n; mu++) k += (size_t)snprintf(buf + k, n - k, mu ? "x%d" : "%d", d->P[mu]);
}

void lf_dist_rank_coords(const lf_dist *d, int r, int *c) {
  for (int mu = 0; mu < LF_MAXDIM; mu++) {
    c[mu] = r % d->P[mu];
    r /= d->P[mu];
  }
}

int lf_dist_rank_at(const lf_dist *d, const int *c) {
  int r = 0;
  for (int mu = LF_MAXDIM - 1; mu >= 0; mu--) r = r * d->P[mu] + ((c[mu] % d->P[mu]) + d->P[mu]) % d->P[mu];
  return r;
}

/* ---------------------------------------------------------------- local lattice */
static long box_index(const lf_dist *d, const int *b) {
  long i = 0;
  for (int mu = LF_MAXDIM - 1; mu >= 0; mu--) i = i * d->E[mu] + b[mu];
  return i;
}

static void box_coords(const lf_dist *d, long i, int *b) {
  for (int mu = 0; mu < LF_MAXDIM; mu++) {
    b[mu] = (int)(i % d->E[mu]);
    i /= d->E[mu];
  }
}

static int is_own(const lf_dist *d, const int *b) {
  for (int mu = 0; mu < LF_MAXDIM; mu++)
    if (b[mu] < d->h[mu] || b[mu] >= d->h[mu] + d->l[mu]) return 0;
  return 1;
}

/* List (in box order) the local indices of the box slab lo[mu] <= b[mu] < hi[mu]. */
static long slab(const lf_dist *d, const long *loc, const int *lo, const int *hi, long *out) {
  long n = 0;
  int b[LF_MAXDIM];
  for (b[3] = lo[3]; b[3] < hi[3]; b[3]++)
    for (b[2] = lo[2]; b[2] < hi[2]; b[2]++)
      for (b[1] = lo[1]; b[1] < hi[1]; b[1]++)
        for (b[0] = lo[0]; b[0] < hi[0]; b[0]++) {
          if (out) out[n] = loc[box_index(d, b)];
          n++;
        }
  return n;
}

static int build(lf_dist *d, const lf_lattice *glob) {
  const int nd = glob->nd, w = d->width;
  d->nd = nd;
  d->gvol = glob->vol;
  long box = 1, own = 1;
  for (int mu = 0; mu < LF_MAXDIM; mu++) {
    d->Lg[mu] = glob->L[mu];
    if (mu >= nd) d->P[mu] = 1;
    if (d->P[mu] < 1 || d->Lg[mu] % d->P[mu])
      return LF_ERROR(LF_EINVAL, "process grid: %d ranks do not divide extent %d in direction %d; choose a grid whose entries divide the lattice",
                      d->P[mu], d->Lg[mu], mu);
    d->l[mu] = d->Lg[mu] / d->P[mu];
    if (d->P[mu] > 1 && d->l[mu] < w)
      return LF_ERROR(LF_EINVAL, "process grid: local extent %d in direction %d is below the halo width %d; use fewer ranks in that direction",
                      d->l[mu], mu, w);
    d->h[mu] = d->P[mu] > 1 ? w : 0;
    d->E[mu] = d->l[mu] + 2 * d->h[mu];
    box *= d->E[mu];
    own *= d->l[mu];
  }
  lf_dist_rank_coords(d, d->rank, d->c);
  for (int mu = 0; mu < LF_MAXDIM; mu++) {
    int c[LF_MAXDIM];
    memcpy(c, d->c, sizeof c);
    c[mu]++;
    d->up[mu] = lf_dist_rank_at(d, c);
    c[mu] -= 2;
    d->dn[mu] = lf_dist_rank_at(d, c);
    d->off[mu] = d->c[mu] * d->l[mu];
  }
  d->nhalo = box - own;
  d->boxvol = box;
  lf_lattice *lat = &d->lat;
  memset(lat, 0, sizeof *lat);
  lat->nd = nd;
  lat->vol = own;
  for (int mu = 0; mu < LF_MAXDIM; mu++) lat->L[mu] = mu < nd ? d->l[mu] : 1;
  long *loc = lf_alloc(sizeof(long) * (size_t)box);
  lat->up = lf_alloc(sizeof(long) * (size_t)(box * nd));
  lat->dn = lf_alloc(sizeof(long) * (size_t)(box * nd));
  lat->parity = lf_alloc((size_t)box);
  lat->global = lf_alloc(sizeof(long) * (size_t)box);
  d->box = lf_alloc(sizeof(long) * (size_t)box);
  if (!loc || !lat->up || !lat->dn || !lat->parity || !lat->global || !d->box) {
    lf_free(loc);
    return LF_ERROR(LF_ENOMEM, "no memory for the local lattice tables (%ld sites with halo)", box);
  }
  /* numbering: own sites in local lexicographic order, then halo sites in box order */
  long nh = own;
  for (long i = 0; i < box; i++) {
    int b[LF_MAXDIM];
    box_coords(d, i, b);
    if (is_own(d, b)) {
      long s = 0;
      for (int mu = LF_MAXDIM - 1; mu >= 0; mu--) s = s * d->l[mu] + (b[mu] - d->h[mu]);
      loc[i] = s;
    } else {
      loc[i] = nh++;
    }
  }
  for (long i = 0; i < box; i++) {
    int b[LF_MAXDIM], g[LF_MAXDIM];
    box_coords(d, i, b);
    long s = loc[i], gi = 0;
    int par = 0;
    for (int mu = 0; mu < LF_MAXDIM; mu++) {
      g[mu] = ((d->off[mu] + b[mu] - d->h[mu]) % d->Lg[mu] + d->Lg[mu]) % d->Lg[mu];
      par += g[mu];
    }
    for (int mu = LF_MAXDIM - 1; mu >= 0; mu--) gi = gi * d->Lg[mu] + g[mu];
    lat->global[s] = gi;
    d->box[s] = i;
    lat->parity[s] = (unsigned char)(par & 1);
    for (int mu = 0; mu < nd; mu++) {
      int bu[LF_MAXDIM], bd[LF_MAXDIM];
      memcpy(bu, b, sizeof bu);
      memcpy(bd, b, sizeof bd);
      bu[mu]++, bd[mu]--;
      if (d->h[mu] == 0) { /* unsplit: periodic inside the rank */
        bu[mu] %= d->E[mu];
        bd[mu] = (bd[mu] + d->E[mu]) % d->E[mu];
      }
      lat->up[s * nd + mu] = bu[mu] < d->E[mu] ? loc[box_index(d, bu)] : -1;
      lat->dn[s * nd + mu] = bd[mu] >= 0 ? loc[box_index(d, bd)] : -1;
    }
  }
  /* exchange lists: direction mu spans the full box in directions < mu (their halos are
   * already filled when mu is exchanged) and own sites in directions > mu */
  long maxface = 0;
  for (int mu = 0; mu < nd; mu++) {
    if (d->P[mu] == 1) continue;
    int lo[LF_MAXDIM], hi[LF_MAXDIM];
    for (int nu = 0; nu < LF_MAXDIM; nu++) {
      lo[nu] = nu < mu ? 0 : d->h[nu];
      hi[nu] = nu < mu ? d->E[nu] : d->h[nu] + d->l[nu];
    }
    lo[mu] = 0, hi[mu] = w;
    long n = slab(d, loc, lo, hi, NULL);
    d->nface[mu] = n;
    if (n > maxface) maxface = n;
    d->send_up[mu] = lf_alloc(sizeof(long) * (size_t)n);
    d->send_dn[mu] = lf_alloc(sizeof(long) * (size_t)n);
    d->recv_up[mu] = lf_alloc(sizeof(long) * (size_t)n);
    d->recv_dn[mu] = lf_alloc(sizeof(long) * (size_t)n);
    if (!d->send_up[mu] || !d->send_dn[mu] || !d->recv_up[mu] || !d->recv_dn[mu]) {
      lf_free(loc);
      return LF_ERROR(LF_ENOMEM, "no memory for the halo exchange lists");
    }
    lo[mu] = 0, hi[mu] = w; /* lower halo */
    slab(d, loc, lo, hi, d->recv_dn[mu]);
    lo[mu] = w, hi[mu] = 2 * w; /* lowest own layers */
    slab(d, loc, lo, hi, d->send_dn[mu]);
    lo[mu] = d->l[mu], hi[mu] = d->l[mu] + w; /* highest own layers */
    slab(d, loc, lo, hi, d->send_up[mu]);
    lo[mu] = d->l[mu] + w, hi[mu] = d->l[mu] + 2 * w; /* upper halo */
    slab(d, loc, lo, hi, d->recv_up[mu]);
  }
  lf_free(loc);
  d->buf_bytes = 2 * (size_t)maxface * (size_t)nd * 9 * sizeof(lf_cplx);
  if (d->buf_bytes) {
    d->buf = lf_alloc(d->buf_bytes);
    if (!d->buf) return LF_ERROR(LF_ENOMEM, "no memory for the halo buffers (%zu bytes)", d->buf_bytes);
  }
  return LF_OK;
}

static int init_common(lf_dist *d, const lf_lattice *glob, const int *P, int width, int self) {
  memset(d, 0, sizeof *d);
  if (width < 1)
    return LF_ERROR(LF_EINVAL, "halo width %d: use 1 (Wilson), 2 (Lüscher-Weisz) or more (deep halos of flows)", width);
  if (glob->global) return LF_ERROR(LF_EINVAL, "lf_dist_init needs the global lattice, got a local one");
  d->self = self;
  d->width = width;
  d->nranks = self ? 1 : lf_par_size();
  d->rank = self ? 0 : lf_par_rank();
  if (P) {
    long prod = 1;
    for (int mu = 0; mu < glob->nd; mu++) prod *= P[mu], d->P[mu] = P[mu];
    for (int mu = glob->nd; mu < LF_MAXDIM; mu++) d->P[mu] = 1;
    if (prod != d->nranks)
      return LF_ERROR(LF_EINVAL, "process grid with %ld ranks, but %d rank%s running: the product of --grid must equal the number of ranks",
                      prod, d->nranks, d->nranks == 1 ? " is" : "s are");
  } else {
    LF_CHECK(lf_dist_grid_auto(glob->nd, glob->L, d->nranks, width, d->P));
  }
  return build(d, glob);
}

int lf_dist_init(lf_dist *d, const lf_lattice *glob, const int *P, int width) {
  int rc = init_common(d, glob, P, width, 0);
  rc = lf_par_agree(rc);
  if (rc) lf_dist_clear(d);
  return rc;
}

int lf_dist_init_self(lf_dist *d, const lf_lattice *glob, int width) {
  int rc = init_common(d, glob, NULL, width, 1);
  if (rc) lf_dist_clear(d);
  return rc;
}

void lf_dist_clear(lf_dist *d) {
  lf_lattice_clear(&d->lat);
  for (int mu = 0; mu < LF_MAXDIM; mu++) {
    lf_free(d->send_up[mu]);
    lf_free(d->send_dn[mu]);
    lf_free(d->recv_up[mu]);
    lf_free(d->recv_dn[mu]);
  }
  lf_free(d->buf);
  lf_free(d->box);
  memset(d, 0, sizeof *d);
}
