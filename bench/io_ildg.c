/* bench/io_ildg.c -- ILDG write/read throughput: a 4D SU(3) field (default 16^4) written
 * and read at 64 and 32 bits. Write includes conversion, checksum, fsync and rename; read
 * includes header walk, conversion, checksum, unitarity scan, (32-bit) reunitarisation and
 * the plaquette. Usage: io_ildg [L] [dir]. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "latflow/io.h"

int main(int argc, char **argv) {
  int L = argc > 1 ? atoi(argv[1]) : 16;
  const char *dir = argc > 2 ? argv[2] : "/tmp";
  int Ls[4] = {L, L, L, L};
  lf_lattice lat;
  lf_gauge *f;
  if (lf_lattice_init(&lat, 4, Ls) || lf_gauge_alloc(&f, &lat, LF_SU3)) {
    fprintf(stderr, "%s\n", lf_last_error());
    return 1;
  }
  lf_gauge_hot(f, 1);
  char path[512];
  snprintf(path, sizeof path, "%s/io_ildg_bench.%ld.lime", dir, (long)getpid());
  for (int prec = 64; prec >= 32; prec -= 32) {
    double mb = (double)lat.vol * 4.0 * 9.0 * 2.0 * prec / 8.0 / 1e6;
    double t0 = lf_time_now();
    if (lf_ildg_write(path, f, prec, NULL)) return fprintf(stderr, "%s\n", lf_last_error()), 1;
    double t1 = lf_time_now();
    lf_lattice l2;
    lf_gauge *g;
    lf_ildg_info in;
    if (lf_ildg_read(path, &l2, &g, &in, 0)) return fprintf(stderr, "%s\n", lf_last_error()), 1;
    double t2 = lf_time_now();
    printf("SU(3) %d^4 %d bit: %.1f MB data; write %.3f s (%.0f MB/s), read %.3f s (%.0f MB/s)\n",
           L, prec, mb, t1 - t0, mb / (t1 - t0), t2 - t1, mb / (t2 - t1));
    lf_gauge_free(g);
    lf_lattice_clear(&l2);
  }
  unlink(path);
  lf_gauge_free(f);
  lf_lattice_clear(&lat);
  return 0;
}
