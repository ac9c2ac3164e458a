/* fuzz/clang_compat.h -- force-included when clang builds the fuzz harness: glibc's
 * <complex.h> defines CMPLX only for GCC >= 4.7, which clang does not claim to be.
 * (No #include here: that would fix the feature-test macros before the sources set
 * _POSIX_C_SOURCE.) */
#ifndef CMPLX
#define CMPLX(x, y) __builtin_complex((double)(x), (double)(y))
#endif
