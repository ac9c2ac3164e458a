/*
 * geometry.c -- site indexing (x fastest), periodic neighbour tables, parity.
 * Conventions in docs/conventions.md. Thread contract: tables are read-only after init.
 */
#include "latflow/lattice.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LF_MAX_EXTENT 1024

static int validate(int nd, const int *L) {
  if (nd < 2 || nd > LF_MAXDIM)
    return LF_ERROR(LF_EINVAL, "lattice dimension %d not supported: use 2, 3 or 4", nd);
  for (int mu = 0; mu < nd; mu++) {
    if (L[mu] < 2 || L[mu] > LF_MAX_EXTENT)
      return LF_ERROR(LF_EINVAL, "lattice extent %d in direction %d out of range: use an even number from 2 to %d",
                      L[mu], mu, LF_MAX_EXTENT);
    if (L[mu] % 2)
      return LF_ERROR(LF_EINVAL, "lattice extent %d in direction %d is odd: extents must be even (checkerboard updates)",
                      L[mu], mu);
  }
  return LF_OK;
}

int lf_lattice_parse(const char *text, int *nd, int L[LF_MAXDIM]) {
  if (!text || !*text) return LF_ERROR(LF_EINVAL, "empty lattice size: write e.g. 8x8 or 4x4x4x8");
  int n = 0;
  const char *p = text;
  for (int mu = 0; mu < LF_MAXDIM; mu++) L[mu] = 1;
  while (*p) {
    if (n == LF_MAXDIM)
      return LF_ERROR(LF_EINVAL, "lattice size '%s' has more than %d extents", text, LF_MAXDIM);
    char *end;
    errno = 0;
    long v = strtol(p, &end, 10);
    if (end == p || errno || v < -100000 || v > 100000)
      return LF_ERROR(LF_EINVAL, "lattice size '%s' is not of the form 8x8 or 4x4x4x8", text);
    L[n++] = (int)v;
    p = end;
    if (*p == 'x' || *p == 'X') {
      p++;
      if (!*p) return LF_ERROR(LF_EINVAL, "lattice size '%s' ends with 'x'", text);
    } else if (*p) {
      return LF_ERROR(LF_EINVAL, "lattice size '%s' is not of the form 8x8 or 4x4x4x8", text);
    }
  }
  if (n < 2)
    return LF_ERROR(LF_EINVAL, "lattice size '%s' needs at least two extents, e.g. 8x8", text);
  *nd = n;
  return validate(n, L);
}

void lf_lattice_format(const lf_lattice *lat, char *buf, size_t n) {
  size_t k = 0;
  buf[0] = '\0';
  for (int mu = 0; mu < lat->nd && k < n; mu++)
    k += (size_t)snprintf(buf + k, n - k, mu ? "x%d" : "%d", lat->L[mu]);
}

long lf_lattice_index(const lf_lattice *lat, const int *x) {
  long s = 0;
  for (int mu = lat->nd - 1; mu >= 0; mu--) {
    int xm = ((x[mu] % lat->L[mu]) + lat->L[mu]) % lat->L[mu];
    s = s * lat->L[mu] + xm;
  }
  return s;
}

void lf_lattice_coords(const lf_lattice *lat, long s, int *x) {
  for (int mu = 0; mu < lat->nd; mu++) {
    x[mu] = (int)(s % lat->L[mu]);
    s /= lat->L[mu];
  }
}

long lf_lattice_shift(const lf_lattice *lat, long s, const int *dx) {
  int x[LF_MAXDIM];
  lf_lattice_coords(lat, s, x);
  for (int mu = 0; mu < lat->nd; mu++) x[mu] += dx[mu];
  return lf_lattice_index(lat, x);
}

int lf_lattice_plane(int nd, int mu, int nu) {
  if (mu > nu) {
    int t = mu;
    mu = nu;
    nu = t;
  }
  int p = 0;
  for (int a = 0; a < nd; a++)
    for (int b = a + 1; b < nd; b++, p++)
      if (a == mu && b == nu) return p;
  return -1;
}

int lf_lattice_init(lf_lattice *lat, int nd, const int *L) {
  memset(lat, 0, sizeof *lat);
  LF_CHECK(validate(nd, L));
  lat->nd = nd;
  lat->vol = 1;
  for (int mu = 0; mu < LF_MAXDIM; mu++) {
    lat->L[mu] = mu < nd ? L[mu] : 1;
    lat->vol *= lat->L[mu];
  }
  lat->up = lf_alloc(sizeof(long) * (size_t)(lat->vol * nd));
  lat->dn = lf_alloc(sizeof(long) * (size_t)(lat->vol * nd));
  lat->parity = lf_alloc((size_t)lat->vol);
  if (!lat->up || !lat->dn || !lat->parity) {
    lf_lattice_clear(lat);
    return LF_ENOMEM;
  }
  for (long s = 0; s < lat->vol; s++) {
    int x[LF_MAXDIM];
    lf_lattice_coords(lat, s, x);
    int par = 0;
    for (int mu = 0; mu < nd; mu++) {
      par += x[mu];
      x[mu]++;
      lat->up[s * nd + mu] = lf_lattice_index(lat, x);
      x[mu] -= 2;
      lat->dn[s * nd + mu] = lf_lattice_index(lat, x);
      x[mu]++;
    }
    lat->parity[s] = (unsigned char)(par & 1);
  }
  return LF_OK;
}

void lf_lattice_clear(lf_lattice *lat) {
  lf_free(lat->up);
  lf_free(lat->dn);
  lf_free(lat->parity);
  lf_free(lat->global);
  memset(lat, 0, sizeof *lat);
}
