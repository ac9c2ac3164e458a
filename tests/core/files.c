/* tests/core/files.c -- atomic writes never leave a partial file; mkdir -p; bad paths. */
#define _POSIX_C_SOURCE 200809L
#include "latflow/core.h"
#include "lf_test.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(void) {
  char dir[] = "/tmp/lf_files_XXXXXX";
  LF_TEST_TRUE("mkdtemp", mkdtemp(dir) != NULL);
  char sub[256], path[300];
  snprintf(sub, sizeof sub, "%s/a/b/c", dir);
  LF_TEST_TRUE("mkdir -p creates nested directories", lf_mkdir_p(sub) == LF_OK);
  LF_TEST_TRUE("mkdir -p is idempotent", lf_mkdir_p(sub) == LF_OK);
  snprintf(path, sizeof path, "%s/cfg.bin", sub);
  const char msg1[] = "first version", msg2[] = "second, longer version";
  LF_TEST_TRUE("atomic write", lf_write_file_atomic(path, msg1, sizeof msg1) == LF_OK);
  LF_TEST_TRUE("atomic overwrite", lf_write_file_atomic(path, msg2, sizeof msg2) == LF_OK);
  FILE *f = fopen(path, "rb");
  char buf[64] = {0};
  size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
  if (f) fclose(f);
  LF_TEST_TRUE("file holds the new content", n == sizeof msg2 && !strcmp(buf, msg2));
  char bad[300];
  snprintf(bad, sizeof bad, "%s/missing/dir/x.bin", dir);
  LF_TEST_TRUE("write into a missing directory fails with LF_EIO",
               lf_write_file_atomic(bad, msg1, sizeof msg1) == LF_EIO);
  LF_TEST_TRUE("and says which file", strstr(lf_last_error(), "missing/dir") != NULL);
  snprintf(bad, sizeof bad, "%s/cfg.bin/sub", sub);
  LF_TEST_TRUE("mkdir over a file fails", lf_mkdir_p(bad) != LF_OK);
  char cmd[400];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd) != 0) return 1;
  return lf_test_done();
}
