/*
 * latflow/observe.h -- gauge observables: plaquette, rectangles, Wilson loops,
 * Polyakov loop, topological charge, Wilson (gradient) flow.
 *
 * Normalisation: plaquette P = < Re tr U_P / N > averaged over all V * nd(nd-1)/2
 * plaquettes (U(1): < cos theta_P >). All reductions are per-site partial sums added in
 * site order: results are independent of the number of OpenMP threads.
 *
 *     double p = lf_observe_plaquette(field);
 */
#ifndef LATFLOW_OBSERVE_H
#define LATFLOW_OBSERVE_H

#include "latflow/action.h"

/* Average plaquette Re tr U_P / N over all plaquettes. */
double lf_observe_plaquette(const lf_gauge *f);
/* Same, per plane (mu<nu) in plane-index order; out[nplanes]. */
void lf_observe_plaquette_planes(const lf_gauge *f, double *out);

#endif
