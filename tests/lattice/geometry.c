/* tests/lattice/geometry.c -- site indexing (x fastest), periodic neighbours, parity,
 * parsing of "8x8"/"4x4x4x8" and rejection of bad extents. */
#include "latflow/lattice.h"
#include "lf_test.h"

#include <string.h>

int main(void) {
  const char *sizes[] = {"8x8", "4x6", "4x4x6", "4x2x6x8"};
  for (int k = 0; k < 4; k++) {
    int nd, L[LF_MAXDIM];
    char what[128];
    snprintf(what, sizeof what, "parse %s", sizes[k]);
    LF_TEST_TRUE(what, lf_lattice_parse(sizes[k], &nd, L) == LF_OK);
    lf_lattice lat;
    LF_TEST_TRUE("init", lf_lattice_init(&lat, nd, L) == LF_OK);
    char back[64];
    lf_lattice_format(&lat, back, sizeof back);
    snprintf(what, sizeof what, "format round trip %s", sizes[k]);
    LF_TEST_TRUE(what, !strcmp(back, sizes[k]));
    long bad = 0, vol = 1;
    for (int mu = 0; mu < nd; mu++) vol *= L[mu];
    for (long s = 0; s < lat.vol; s++) {
      int x[LF_MAXDIM];
      lf_lattice_coords(&lat, s, x);
      /* x fastest: s = x0 + L0*(x1 + L1*(...)) */
      long ref = 0;
      for (int mu = nd - 1; mu >= 0; mu--) ref = ref * L[mu] + x[mu];
      if (ref != s || lf_lattice_index(&lat, x) != s) bad++;
      int par = 0;
      for (int mu = 0; mu < nd; mu++) {
        par += x[mu];
        int y[LF_MAXDIM];
        memcpy(y, x, sizeof y);
        y[mu] = (x[mu] + 1) % L[mu];
        if (lf_lattice_up(&lat, s, mu) != lf_lattice_index(&lat, y)) bad++;
        if (lf_lattice_dn(&lat, lf_lattice_up(&lat, s, mu), mu) != s) bad++;
        if (lat.parity[lf_lattice_up(&lat, s, mu)] == lat.parity[s]) bad++;
      }
      if (lat.parity[s] != (par & 1)) bad++;
    }
    snprintf(what, sizeof what, "%s: volume, x-fastest index, neighbours, parity", sizes[k]);
    LF_TEST_TRUE(what, bad == 0 && lat.vol == vol);
    lf_lattice_clear(&lat);
  }
  const char *badsz[] = {"7x8", "0x8", "8", "8x8x8x8x8", "8xx8", "8x", "ax8", "-8x8", "", "8x8 "};
  for (int k = 0; k < 10; k++) {
    int nd, L[LF_MAXDIM];
    char what[128];
    snprintf(what, sizeof what, "reject '%s' with a message", badsz[k]);
    lf_error_clear();
    LF_TEST_TRUE(what, lf_lattice_parse(badsz[k], &nd, L) == LF_EINVAL && lf_last_error()[0]);
    printf("     -> %s\n", lf_last_error());
  }
  LF_TEST_TRUE("plane index (1,3) in 4D is 4", lf_lattice_plane(4, 3, 1) == 4);
  return lf_test_done();
}
