/*
 * tests/sunflow/layers4d.c -- the checks of layers.c for SU(2) and SU(3) on the 2^4 lattice
 * (mask period 2, 8 layers = one full update): invertibility, log-det vs numerical Jacobian
 * (single layers; whole flow for SU(2)), gauge equivariance and invariance of log q,
 * backward and grad log q vs finite differences.
 */
#define SUNFLOW_LAYERS_4D 1
#include "layers.c"
