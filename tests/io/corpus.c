/* tests/io/corpus.c -- replay the regression corpus of broken files (tests/io/corpus,
 * seeded from tests/io/corrupt.c and from inputs the fuzzer found) through the LIME walker
 * and the ILDG reader: each must fail with a status and a message naming the file (files
 * named ok-* must read), and nothing may crash or leak (ASan build). */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "latflow/io.h"
#include "lf_test.h"

static int cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv) {
  /* The corpus folder: argv[1], default tests/io/corpus of the source tree. */
  const char *cdir = argc > 1 ? argv[1] : LF_SOURCE_DIR "/tests/io/corpus";
  DIR *d = opendir(cdir);
  LF_TEST_TRUE("corpus directory opens", d != NULL);
  if (!d) return lf_test_done();
  char *names[1024];
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) && n < 1024)
    if (e->d_name[0] != '.' && strcmp(e->d_name, "README.md")) names[n++] = strdup(e->d_name);
  closedir(d);
  qsort(names, (size_t)n, sizeof *names, cmp);
  LF_TEST_TRUE("corpus is not empty", n > 10);
  for (int i = 0; i < n; i++) {
    char path[2048], what[2300];
    snprintf(path, sizeof path, "%s/%s", cdir, names[i]);
    int want_ok = !strncmp(names[i], "ok-", 3);
    lf_lattice lat;
    lf_gauge *f = NULL;
    lf_ildg_info info;
    lf_error_clear();
    int rc = lf_ildg_read(path, &lat, &f, &info, 0);
    if (rc == LF_OK) {
      lf_gauge_free(f);
      lf_lattice_clear(&lat);
    }
    snprintf(what, sizeof what, "%-34s %s", names[i], rc ? lf_strerror(rc) : "read");
    LF_TEST_TRUE(what, want_ok ? rc == LF_OK : rc < 0 && strstr(lf_last_error(), path) != NULL);
    if (rc) {
      const char *m = lf_last_error();
      size_t k = strlen(cdir);
      printf("     %s\n", !strncmp(m, cdir, k) && m[k] == '/' ? m + k + 1 : m);
    }
    /* Lenient read and a raw walk over every record must not crash either. */
    rc = lf_ildg_read(path, &lat, &f, &info, LF_ILDG_NO_CHECKSUM | LF_ILDG_ALLOW_NONUNITARY);
    if (rc == LF_OK) {
      lf_gauge_free(f);
      lf_lattice_clear(&lat);
    }
    lf_lime_reader *r;
    if (lf_lime_open(&r, path) == LF_OK) {
      for (int k = 0; k < lf_lime_count(r); k++) {
        char *p;
        size_t nb;
        if (lf_lime_read_all(r, k, &p, &nb) == LF_OK) lf_free(p);
      }
      lf_lime_close(r);
    }
    free(names[i]);
  }
  return lf_test_done();
}
