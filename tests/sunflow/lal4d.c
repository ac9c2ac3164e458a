/*
 * tests/sunflow/lal4d.c -- the learned-active-loop checks of lal.c on the 2^4 lattice (mask
 * period 2, 8 layers) plus the su3-4d-lal preset on 4^4; slow label (numerical Jacobians
 * take minutes under the sanitizers).
 */
#define SUNFLOW_LAL_4D 1
#include "lal.c"
