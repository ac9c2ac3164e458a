/*
 * tests/sunflow/kernels_portable.c -- the checks of kernels.c on the portable C fallback
 * of src/sunflow/kernels.h (the one non-AVX2 builds use), forced with LF_SF_PORTABLE.
 */
#define LF_SF_PORTABLE 1
#include "kernels.c"
