/* tests/field/gauge.c -- hot starts are in the group and independent of the thread count;
 * the plaquette is gauge invariant; the plaquette of a cold field is 1; copies and
 * reunitarisation behave. */
#include "latflow/field.h"
#include "lf_test.h"

#include <omp.h>
#include <string.h>

static double plaq_sum(const lf_gauge *f) {
  double s = 0;
  lf_cplx p[9];
  for (long x = 0; x < f->lat->vol; x++)
    for (int mu = 0; mu < f->lat->nd; mu++)
      for (int nu = mu + 1; nu < f->lat->nd; nu++) {
        lf_gauge_plaquette(f, x, mu, nu, p);
        s += creal(lf_mat_trace(f->n, p));
      }
  return s;
}

int main(void) {
  const lf_group groups[3] = {LF_U1, LF_SU2, LF_SU3};
  int L2[2] = {6, 4}, L4[4] = {4, 2, 4, 6};
  for (int dim = 0; dim < 2; dim++) {
    lf_lattice lat;
    lf_lattice_init(&lat, dim ? 4 : 2, dim ? L4 : L2);
    for (int gi = 0; gi < 3; gi++) {
      lf_group g = groups[gi];
      char what[160];
      lf_gauge *f, *h;
      lf_gauge_alloc(&f, &lat, g);
      lf_gauge_alloc(&h, &lat, g);
      double cold = plaq_sum(f) / ((double)lat.vol * lf_lattice_nplanes(&lat) * (double)g);
      snprintf(what, sizeof what, "%s %dD cold plaquette = 1", lf_group_name(g), lat.nd);
      LF_TEST_ABS(what, cold, 1.0, 1e-15);
      omp_set_num_threads(1);
      lf_gauge_hot(f, 99);
      omp_set_num_threads(2);
      lf_gauge_hot(h, 99);
      snprintf(what, sizeof what, "%s %dD hot start identical with 1 and 2 threads", lf_group_name(g), lat.nd);
      LF_TEST_TRUE(what, !memcmp(f->u, h->u, sizeof(lf_cplx) * f->nlinks * lf_gauge_linksize(f)));
      snprintf(what, sizeof what, "%s %dD hot links in the group", lf_group_name(g), lat.nd);
      LF_TEST_ABS(what, lf_gauge_max_defect(f), 0, 1e-13);
      double before = plaq_sum(f);
      lf_cplx *gt;
      lf_gauge_transform_alloc(&gt, f);
      lf_gauge_transform_random(f, gt, 7);
      lf_gauge_copy(h, f);
      lf_gauge_transform_apply(f, gt);
      snprintf(what, sizeof what, "%s %dD plaquette sum gauge invariant", lf_group_name(g), lat.nd);
      LF_TEST_REL(what, plaq_sum(f), before, 1e-12);
      snprintf(what, sizeof what, "%s %dD gauge transformation changed the links", lf_group_name(g), lat.nd);
      LF_TEST_TRUE(what, memcmp(f->u, h->u, sizeof(lf_cplx) * f->nlinks * lf_gauge_linksize(f)) != 0);
      lf_free(gt);
      lf_gauge_free(f);
      lf_gauge_free(h);
    }
    lf_lattice_clear(&lat);
  }
  /* copy between different groups is refused */
  lf_lattice lat;
  lf_lattice_init(&lat, 2, L2);
  lf_gauge *a, *b;
  lf_gauge_alloc(&a, &lat, LF_SU2);
  lf_gauge_alloc(&b, &lat, LF_SU3);
  LF_TEST_TRUE("copy between groups is refused", lf_gauge_copy(a, b) == LF_ESTATE);
  lf_alloc_fail_after(2);
  lf_gauge *c = (lf_gauge *)1;
  LF_TEST_TRUE("allocation failure reported, nothing leaked", lf_gauge_alloc(&c, &lat, LF_SU3) == LF_ENOMEM && c == NULL);
  lf_gauge_free(a);
  lf_gauge_free(b);
  lf_lattice_clear(&lat);
  return lf_test_done();
}
