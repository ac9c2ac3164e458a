/* tests/io/io_test.h -- helpers shared by the io tests. */
#ifndef LF_IO_TEST_H
#define LF_IO_TEST_H

#include <dirent.h>
#include <string.h>

/* 1 if no temporary file of an atomic write ("<name>.tmp.<pid>") was left in dir. */
static inline int no_tmp_files(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *e;
  int ok = 1;
  while (d && (e = readdir(d)))
    if (strstr(e->d_name, ".tmp.")) ok = 0;
  if (d) closedir(d);
  return ok;
}

#endif
