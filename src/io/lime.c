/*
 * lime.c -- LIME (Lattice QCD Interchange Message Encapsulation) reader and writer.
 *
 * Format (docs/formats.md; B. Joo et al., "LIME: Lattice QCD Interchange Message
 * Encapsulation", USQCD SciDAC c-lime documentation): a file is a sequence of records,
 * each a 144-byte big-endian header
 *     uint32 magic 0x456789AB | uint16 version 1 | uint16 flags (bit 15 MB, bit 14 ME)
 *     | uint64 payload length | char type[128] (NUL-padded)
 * followed by the payload, padded with zeros to a multiple of 8 bytes. Records are grouped
 * into messages by the MB (message begin) and ME (message end) flags.
 *
 * The reader walks all headers once at open and validates them against the file size, so
 * no later allocation can exceed the bytes that exist. A missing final padding is
 * accepted (data complete); anything else that does not fit is an error naming the record
 * and offset. Thread contract: a reader/writer belongs to one thread at a time.
 */
#define _POSIX_C_SOURCE 200809L
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

#define LIME_MB 0x8000u
#define LIME_ME 0x4000u

struct lf_lime_reader {
  FILE *fp;
  int owns;
  char *path;
  uint64_t size;
  lf_lime_record *rec;
  int n, cap;
};

static char *dup_string(const char *s) {
  size_t k = strlen(s);
  char *d = lf_alloc(k + 1);
  if (d) memcpy(d, s, k + 1);
  return d;
}

static int lime_seek(FILE *fp, uint64_t at) {
  if (at > (uint64_t)INT64_MAX) return -1;
  return fseeko(fp, (off_t)at, SEEK_SET);
}

/* Read exactly n bytes at `at`; LF_EIO on a short read. */
static int read_at(lf_lime_reader *r, uint64_t at, void *buf, size_t n) {
  if (lime_seek(r->fp, at) != 0 || fread(buf, 1, n, r->fp) != n)
    return LF_ERROR(LF_EIO, "%s: cannot read %zu bytes at offset %" PRIu64 " (%s)", r->path, n,
                    at, ferror(r->fp) ? strerror(errno) : "unexpected end of file");
  return LF_OK;
}

static int push_record(lf_lime_reader *r, const lf_lime_record *rec) {
  if (r->n == r->cap) {
    int cap = r->cap ? 2 * r->cap : 16;
    lf_lime_record *p = lf_alloc(sizeof *p * (size_t)cap);
    if (!p) return LF_ERROR(LF_ENOMEM, "%s: out of memory for the record list", r->path);
    if (r->n) memcpy(p, r->rec, sizeof *p * (size_t)r->n);
    lf_free(r->rec);
    r->rec = p;
    r->cap = cap;
  }
  r->rec[r->n++] = *rec;
  return LF_OK;
}

/* Walk and validate all record headers. */
static int lime_scan(lf_lime_reader *r) {
  uint64_t o = 0;
  int message = -1;
  while (o < r->size) {
    int k = r->n;
    if (k == 0 && r->size >= 4) { /* say "not LIME" before "truncated" for foreign files */
      unsigned char m[4];
      LF_CHECK(read_at(r, 0, m, 4));
      if (lf_be32_load(m) != LF_LIME_MAGIC)
        return LF_ERROR(LF_EFORMAT,
                        "%s: not a LIME/ILDG file (first 4 bytes 0x%08" PRIx32
                        ", LIME magic is 0x456789ab)",
                        r->path, lf_be32_load(m));
    }
    if (r->size - o < LF_LIME_HEADER_BYTES)
      return LF_ERROR(LF_EFORMAT,
                      "%s: file ends %" PRIu64 " bytes into the header of record %d at offset "
                      "%" PRIu64 " (a LIME header has 144 bytes): the file is truncated or has "
                      "trailing garbage",
                      r->path, r->size - o, k, o);
    unsigned char h[LF_LIME_HEADER_BYTES];
    LF_CHECK(read_at(r, o, h, sizeof h));
    uint32_t magic = lf_be32_load(h);
    if (magic != LF_LIME_MAGIC) {
      if (k == 0)
        return LF_ERROR(LF_EFORMAT,
                        "%s: not a LIME/ILDG file (first 4 bytes 0x%08" PRIx32
                        ", LIME magic is 0x456789ab)",
                        r->path, magic);
      return LF_ERROR(LF_EFORMAT,
                      "%s: bad magic 0x%08" PRIx32 " in record %d at offset %" PRIu64
                      " (expected 0x456789ab): the previous record's length is wrong or the "
                      "file is corrupt",
                      r->path, magic, k, o);
    }
    unsigned version = (unsigned)h[4] << 8 | h[5];
    unsigned flags = (unsigned)h[6] << 8 | h[7];
    uint64_t len = lf_be64_load(h + 8);
    lf_lime_record rec;
    memset(&rec, 0, sizeof rec);
    for (int i = 0; i < LF_LIME_TYPE_MAX && h[16 + i]; i++) {
      unsigned char c = h[16 + i];
      rec.type[i] = (c >= 32 && c < 127) ? (char)c : '?';
    }
    if (version != LF_LIME_VERSION)
      return LF_ERROR(LF_EFORMAT,
                      "%s: record %d ('%s') at offset %" PRIu64
                      " has LIME version %u; only version 1 exists",
                      r->path, k, rec.type, o, version);
    if (!rec.type[0])
      return LF_ERROR(LF_EFORMAT, "%s: record %d at offset %" PRIu64 " has an empty type string",
                      r->path, k, o);
    uint64_t avail = r->size - o - LF_LIME_HEADER_BYTES;
    if (len > avail)
      return LF_ERROR(LF_EFORMAT,
                      "%s: record %d ('%s') at offset %" PRIu64 " declares %" PRIu64
                      " payload bytes but only %" PRIu64
                      " remain in the file: truncated file or corrupt length",
                      r->path, k, rec.type, o, len, avail);
    rec.header_offset = o;
    rec.offset = o + LF_LIME_HEADER_BYTES;
    rec.bytes = len;
    rec.mb = (flags & LIME_MB) != 0;
    rec.me = (flags & LIME_ME) != 0;
    if (rec.mb || message < 0) message++;
    rec.message = message;
    LF_CHECK(push_record(r, &rec));
    uint64_t padded = len + ((8 - len % 8) % 8);
    if (padded > avail) break; /* last record without its padding: data complete */
    o += LF_LIME_HEADER_BYTES + padded;
  }
  if (r->n == 0) return LF_ERROR(LF_EFORMAT, "%s: empty file (no LIME records)", r->path);
  return LF_OK;
}

int lf_lime_open_stream(lf_lime_reader **out, FILE *fp, const char *name, int owns) {
  *out = NULL;
  lf_lime_reader *r = lf_alloc(sizeof *r);
  if (!r) {
    if (owns) fclose(fp);
    return LF_ERROR(LF_ENOMEM, "%s: out of memory", name);
  }
  r->fp = fp;
  r->owns = owns;
  r->path = dup_string(name);
  if (!r->path) {
    lf_lime_close(r);
    return LF_ERROR(LF_ENOMEM, "%s: out of memory", name);
  }
  off_t end;
  if (fseeko(fp, 0, SEEK_END) != 0 || (end = ftello(fp)) < 0) {
    int e = errno;
    lf_lime_close(r);
    return LF_ERROR(LF_EIO, "%s: cannot determine the file size (%s); give a regular file",
                    name, strerror(e));
  }
  r->size = (uint64_t)end;
  int rc = lime_scan(r);
  if (rc) {
    lf_lime_close(r);
    return rc;
  }
  *out = r;
  return LF_OK;
}

int lf_lime_open(lf_lime_reader **r, const char *path) {
  *r = NULL;
  FILE *fp = fopen(path, "rb");
  if (!fp)
    return LF_ERROR(LF_EIO, "cannot open %s: %s (check the path)", path, strerror(errno));
  return lf_lime_open_stream(r, fp, path, 1);
}

void lf_lime_close(lf_lime_reader *r) {
  if (!r) return;
  if (r->owns && r->fp) fclose(r->fp);
  lf_free(r->path);
  lf_free(r->rec);
  lf_free(r);
}

int lf_lime_count(const lf_lime_reader *r) { return r->n; }
const char *lf_lime_path(const lf_lime_reader *r) { return r->path; }

const lf_lime_record *lf_lime_get(const lf_lime_reader *r, int i) {
  return (i >= 0 && i < r->n) ? &r->rec[i] : NULL;
}

int lf_lime_find(const lf_lime_reader *r, const char *type, int from) {
  for (int i = from < 0 ? 0 : from; i < r->n; i++)
    if (!strncmp(r->rec[i].type, type, LF_LIME_TYPE_MAX)) return i;
  return -1;
}

int lf_lime_read(lf_lime_reader *r, int i, uint64_t at, void *buf, size_t bytes) {
  if (i < 0 || i >= r->n)
    return LF_ERROR(LF_EINVAL, "%s: no record %d (the file has %d)", r->path, i, r->n);
  const lf_lime_record *rec = &r->rec[i];
  if (at > rec->bytes || bytes > rec->bytes - at)
    return LF_ERROR(LF_EINVAL,
                    "%s: reading %zu bytes at %" PRIu64 " of record '%s' which has %" PRIu64,
                    r->path, bytes, at, rec->type, rec->bytes);
  return read_at(r, rec->offset + at, buf, bytes);
}

int lf_lime_read_all(lf_lime_reader *r, int i, char **data, size_t *bytes) {
  *data = NULL;
  *bytes = 0;
  if (i < 0 || i >= r->n)
    return LF_ERROR(LF_EINVAL, "%s: no record %d (the file has %d)", r->path, i, r->n);
  uint64_t n = r->rec[i].bytes;
  if (n >= SIZE_MAX) return LF_ERROR(LF_ENOMEM, "%s: record '%s' too large", r->path, r->rec[i].type);
  char *p = lf_alloc((size_t)n + 1);
  if (!p)
    return LF_ERROR(LF_ENOMEM, "%s: out of memory for record '%s' (%" PRIu64 " bytes)", r->path,
                    r->rec[i].type, n);
  int rc = lf_lime_read(r, i, 0, p, (size_t)n);
  if (rc) {
    lf_free(p);
    return rc;
  }
  p[n] = '\0';
  *data = p;
  *bytes = (size_t)n;
  return LF_OK;
}

/* ---------------------------------------------------------------- writer */
struct lf_lime_writer {
  FILE *fp;
  char *path, *tmp;
  uint64_t left;  /* payload bytes still expected for the open record */
  unsigned pad;   /* padding after it                                  */
  int open;       /* a record is being written                         */
  int failed;     /* an error happened: only abort is possible         */
};

static int wfail(lf_lime_writer *w, const char *what) {
  w->failed = 1;
  return LF_ERROR(LF_EIO, "writing %s failed (%s): %s (check free disk space and permissions)",
                  w->tmp, what, strerror(errno));
}

int lf_lime_writer_open(lf_lime_writer **out, const char *path) {
  *out = NULL;
  lf_lime_writer *w = lf_alloc(sizeof *w);
  if (!w) return LF_ERROR(LF_ENOMEM, "out of memory opening %s", path);
  size_t k = strlen(path);
  w->path = dup_string(path);
  w->tmp = lf_alloc(k + 32);
  if (!w->path || !w->tmp) {
    lf_lime_writer_abort(w);
    return LF_ERROR(LF_ENOMEM, "out of memory opening %s", path);
  }
  snprintf(w->tmp, k + 32, "%s.tmp.%ld", path, (long)getpid());
  w->fp = fopen(w->tmp, "wb");
  if (!w->fp) {
    int e = errno;
    LF_ERROR(LF_EIO, "cannot create %s: %s (check that the directory exists and is writable)",
             w->tmp, strerror(e));
    lf_lime_writer_abort(w);
    return LF_EIO;
  }
  *out = w;
  return LF_OK;
}

int lf_lime_write_begin(lf_lime_writer *w, const char *type, uint64_t bytes, int mb, int me) {
  if (w->failed) return LF_ERROR(LF_ESTATE, "%s: writer already failed; abort it", w->tmp);
  if (w->open)
    return LF_ERROR(LF_ESTATE, "%s: previous record still has %" PRIu64 " bytes to write",
                    w->tmp, w->left);
  size_t tl = type ? strlen(type) : 0;
  if (tl == 0 || tl > LF_LIME_TYPE_MAX)
    return LF_ERROR(LF_EINVAL, "LIME record type '%s' must have 1 to 128 characters",
                    type ? type : "(null)");
  unsigned char h[LF_LIME_HEADER_BYTES];
  memset(h, 0, sizeof h);
  lf_be32_store(h, LF_LIME_MAGIC);
  h[5] = LF_LIME_VERSION;
  unsigned flags = (mb ? LIME_MB : 0u) | (me ? LIME_ME : 0u);
  h[6] = (unsigned char)(flags >> 8);
  h[7] = (unsigned char)flags;
  lf_be64_store(h + 8, bytes);
  memcpy(h + 16, type, tl);
  if (fwrite(h, 1, sizeof h, w->fp) != sizeof h) return wfail(w, "record header");
  w->left = bytes;
  w->pad = (unsigned)((8 - bytes % 8) % 8);
  w->open = 1;
  if (bytes == 0) return lf_lime_write_data(w, NULL, 0);
  return LF_OK;
}

int lf_lime_write_data(lf_lime_writer *w, const void *data, size_t bytes) {
  if (w->failed) return LF_ERROR(LF_ESTATE, "%s: writer already failed; abort it", w->tmp);
  if (!w->open || bytes > w->left)
    return LF_ERROR(LF_ESTATE, "%s: writing %zu bytes but the record expects %" PRIu64, w->tmp,
                    bytes, w->open ? w->left : 0);
  if (bytes && fwrite(data, 1, bytes, w->fp) != bytes) return wfail(w, "record data");
  w->left -= bytes;
  if (w->left == 0) {
    static const unsigned char zeros[8] = {0};
    if (w->pad && fwrite(zeros, 1, w->pad, w->fp) != w->pad) return wfail(w, "padding");
    w->open = 0;
  }
  return LF_OK;
}

int lf_lime_write_record(lf_lime_writer *w, const char *type, const void *data, uint64_t bytes,
                         int mb, int me) {
  if (bytes > SIZE_MAX) return LF_ERROR(LF_EINVAL, "record '%s' too large", type);
  LF_CHECK(lf_lime_write_begin(w, type, bytes, mb, me));
  return bytes ? lf_lime_write_data(w, data, (size_t)bytes) : LF_OK;
}

int lf_lime_writer_commit(lf_lime_writer *w) {
  if (w->failed || w->open) {
    int rc = w->failed ? LF_ERROR(LF_EIO, "%s: an earlier write failed; nothing written", w->path)
                       : LF_ERROR(LF_ESTATE, "%s: last record is incomplete (%" PRIu64
                                  " bytes missing); nothing written", w->path, w->left);
    lf_lime_writer_abort(w);
    return rc;
  }
  if (fflush(w->fp) != 0 || fsync(fileno(w->fp)) != 0) {
    int rc = wfail(w, "flush");
    lf_lime_writer_abort(w);
    return rc;
  }
  int c = fclose(w->fp);
  w->fp = NULL;
  if (c != 0) {
    int rc = wfail(w, "close");
    lf_lime_writer_abort(w);
    return rc;
  }
  if (rename(w->tmp, w->path) != 0) {
    int e = errno;
    int rc = LF_ERROR(LF_EIO, "renaming %s to %s failed: %s", w->tmp, w->path, strerror(e));
    lf_lime_writer_abort(w);
    return rc;
  }
  /* fsync the directory so the rename itself is durable (best effort). */
  char *d = dup_string(w->path);
  if (d) {
    int fd = open(dirname(d), O_RDONLY);
    if (fd >= 0) {
      fsync(fd);
      close(fd);
    }
    lf_free(d);
  }
  lf_free(w->path);
  lf_free(w->tmp);
  lf_free(w);
  return LF_OK;
}

void lf_lime_writer_abort(lf_lime_writer *w) {
  if (!w) return;
  if (w->fp) {
    fclose(w->fp);
    w->fp = NULL;
  }
  if (w->tmp) unlink(w->tmp);
  lf_free(w->path);
  lf_free(w->tmp);
  lf_free(w);
}
