/*
 * util.c -- version string, atomic file writes and directory creation.
 *
 * lf_write_file_atomic is how every file latflow produces reaches the disk: write to
 * "<path>.tmp.<pid>" in the same directory, fsync, rename over the target, fsync the
 * directory. A kill at any moment leaves either the old or the new file, never a
 * truncated one.
 */
#define _POSIX_C_SOURCE 200809L
#include "latflow/core.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef LATFLOW_VERSION
#define LATFLOW_VERSION "0.0.0"
#endif
#ifndef LATFLOW_GIT
#define LATFLOW_GIT "unknown"
#endif

const char *lf_version(void) { return LATFLOW_VERSION " (git " LATFLOW_GIT ")"; }

static int fsync_dir_of(const char *path) {
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s", path);
  int fd = open(dirname(tmp), O_RDONLY);
  if (fd < 0) return LF_OK; /* best effort */
  fsync(fd);
  close(fd);
  return LF_OK;
}

int lf_write_file_atomic(const char *path, const void *data, size_t bytes) {
  char tmp[4096];
  int n = snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
  if (n < 0 || (size_t)n >= sizeof tmp)
    return LF_ERROR(LF_EINVAL, "path too long: %s", path);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0)
    return LF_ERROR(LF_EIO, "cannot create %s: %s (check that the directory exists and is writable)",
                    tmp, strerror(errno));
  const unsigned char *p = data;
  size_t left = bytes;
  while (left > 0) {
    ssize_t w = write(fd, p, left);
    if (w < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      close(fd);
      unlink(tmp);
      return LF_ERROR(LF_EIO, "writing %s failed: %s", tmp, strerror(e));
    }
    p += w;
    left -= (size_t)w;
  }
  if (fsync(fd) != 0 || close(fd) != 0) {
    int e = errno;
    unlink(tmp);
    return LF_ERROR(LF_EIO, "flushing %s failed: %s", tmp, strerror(e));
  }
  if (rename(tmp, path) != 0) {
    int e = errno;
    unlink(tmp);
    return LF_ERROR(LF_EIO, "renaming %s to %s failed: %s", tmp, path, strerror(e));
  }
  return fsync_dir_of(path);
}

int lf_mkdir_p(const char *path) {
  char tmp[4096];
  size_t len = strlen(path);
  if (len == 0 || len >= sizeof tmp) return LF_ERROR(LF_EINVAL, "bad directory name '%s'", path);
  memcpy(tmp, path, len + 1);
  for (char *p = tmp + 1; *p; p++) {
    if (*p != '/') continue;
    *p = '\0';
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
      return LF_ERROR(LF_EIO, "cannot create directory %s: %s", tmp, strerror(errno));
    *p = '/';
  }
  if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
    return LF_ERROR(LF_EIO, "cannot create directory %s: %s", tmp, strerror(errno));
  struct stat st;
  if (stat(tmp, &st) != 0 || !S_ISDIR(st.st_mode))
    return LF_ERROR(LF_EIO, "%s exists and is not a directory", tmp);
  return LF_OK;
}
