/*
 * app/exact.h -- exact plaquette values shown next to measured ones (display only; the
 * test suite computes its own references independently).
 */
#ifndef LATFLOW_APP_EXACT_H
#define LATFLOW_APP_EXACT_H

#include "latflow/action.h"

/* 0 and *p if an exact value is known for this theory: 2D U(1) Wilson (finite volume,
 * character expansion Z = sum_n I_n(beta)^V), 2D SU(2)/SU(3) Wilson (infinite volume,
 * z(x) = sum_n det[I_{n+i-j}(x)], x = beta/N). *kind names which. -1 otherwise. */
int lf_app_exact_plaquette(lf_group g, const lf_lattice *lat, const lf_action *a, double *p,
                           const char **kind);

#endif
