/*
 * latflow/io.h -- gauge configurations on disk: LIME records, ILDG files with SciDAC
 * checksums (docs/formats.md).
 *
 * Writing and reading a configuration is one call each. A file holds the standard ILDG
 * records (ildg-format, ildg-data-lfn, ildg-binary-data, scidac-checksum) plus the
 * SciDAC private/user XML records, and optionally extra records of your own (e.g. a JSON
 * state for checkpoint/restart), each in its own LIME message after the configuration:
 *
 *     lf_ildg_record extra = {"latflow-state", json, strlen(json)};
 *     lf_ildg_meta meta = {.lfn = "ens/b6.0/cfg_100", .extra = &extra, .nextra = 1};
 *     if (lf_ildg_write("cfg_100.lime", field, 64, &meta)) ... lf_last_error() ...
 *
 *     lf_lattice lat;  lf_gauge *f;  lf_ildg_info info;
 *     if (lf_ildg_read("cfg_100.lime", &lat, &f, &info, 0)) ... lf_last_error() ...
 *     printf("plaquette %.12f, checksum %s\n", info.plaquette,
 *            lf_ildg_checksum_name(info.checksum));
 *     char *json; size_t n;
 *     if (lf_ildg_read_record("cfg_100.lime", "latflow-state", &json, &n) == LF_OK) {
 *       ...; lf_free(json);
 *     }
 *     lf_gauge_free(f);  lf_lattice_clear(&lat);
 *
 * Errors: every failure returns a negative status with a message that names the file and
 * what is wrong (LF_EIO: cannot open/read/write; LF_EFORMAT: not LIME/ILDG, truncated,
 * inconsistent or corrupt structure; LF_ECHECKSUM: SciDAC checksum mismatch; LF_EUNSUP:
 * valid but unsupported, e.g. an unknown <field>; LF_ERANGE: data grossly non-unitary or
 * not finite; LF_ENOMEM). Allocations are bounded by the size of the file: a declared
 * length is checked against the bytes that exist before anything is allocated.
 *
 * Writes are atomic: data go to "<path>.tmp.<pid>", are fsync'ed and renamed over the
 * target, so a reader never sees a half-written file under the final name.
 *
 * Thread contract: functions are reentrant (no global state besides the thread-local
 * error record); one lf_lime_reader / lf_lime_writer is used by one thread at a time.
 */
#ifndef LATFLOW_IO_H
#define LATFLOW_IO_H

#include <stdint.h>

#include "latflow/field.h"

/* ---------------------------------------------------------------- LIME records */
#define LF_LIME_MAGIC 0x456789ABu
#define LF_LIME_VERSION 1
#define LF_LIME_HEADER_BYTES 144 /* 16 bytes of fields + 128-byte type string   */
#define LF_LIME_TYPE_MAX 128     /* type string bytes (NUL-padded, may be full) */

/* One record as found in a file. */
typedef struct {
  char type[LF_LIME_TYPE_MAX + 1]; /* NUL-terminated record type                  */
  uint64_t header_offset;          /* file offset of the 144-byte header          */
  uint64_t offset;                 /* file offset of the payload                  */
  uint64_t bytes;                  /* payload length (without padding)            */
  int mb, me;                      /* message-begin / message-end flags           */
  int message;                     /* 0-based message index (a message starts at MB) */
} lf_lime_record;

/* A reader: lf_lime_open walks and validates every record header of the file (magic,
 * version, lengths within the file) and keeps the list; payloads are read on demand.
 * Records are found by type, not by position. Opaque; freed by lf_lime_close. */
typedef struct lf_lime_reader lf_lime_reader;

int lf_lime_open(lf_lime_reader **r, const char *path);
void lf_lime_close(lf_lime_reader *r); /* no-op on NULL */
int lf_lime_count(const lf_lime_reader *r);
const lf_lime_record *lf_lime_get(const lf_lime_reader *r, int i);
/* Index of the first record of this type at index >= from, or -1 if none. */
int lf_lime_find(const lf_lime_reader *r, const char *type, int from);
/* Read `bytes` bytes of record i starting at payload offset `at` into buf. */
int lf_lime_read(lf_lime_reader *r, int i, uint64_t at, void *buf, size_t bytes);
/* Whole payload of record i into a new lf_alloc'ed buffer with a NUL appended
 * (caller lf_free's *data); *bytes = payload length. */
int lf_lime_read_all(lf_lime_reader *r, int i, char **data, size_t *bytes);
/* The file name given to lf_lime_open (for messages). */
const char *lf_lime_path(const lf_lime_reader *r);

/* A writer: records go to "<path>.tmp.<pid>"; lf_lime_writer_commit flushes, fsyncs and
 * renames it to `path` (and frees the writer); lf_lime_writer_abort removes the
 * temporary file (and frees the writer). Exactly one of the two must be called. */
typedef struct lf_lime_writer lf_lime_writer;

int lf_lime_writer_open(lf_lime_writer **w, const char *path);
/* A whole record. mb/me: message-begin/end flags (1 or 0). */
int lf_lime_write_record(lf_lime_writer *w, const char *type, const void *data, uint64_t bytes,
                         int mb, int me);
/* A record written in pieces: begin with the total length, then lf_lime_write_data
 * exactly `bytes` bytes in total (the padding is added when they are complete). */
int lf_lime_write_begin(lf_lime_writer *w, const char *type, uint64_t bytes, int mb, int me);
int lf_lime_write_data(lf_lime_writer *w, const void *data, size_t bytes);
int lf_lime_writer_commit(lf_lime_writer *w);
void lf_lime_writer_abort(lf_lime_writer *w); /* no-op on NULL */

/* ---------------------------------------------------------------- SciDAC checksum */
/* Per-site CRC-32 (zlib) c_r of the site's bytes as stored, r = global lexicographic
 * site index (x fastest); suma ^= rotl32(c_r, r % 29), sumb ^= rotl32(c_r, r % 31). */
typedef struct {
  uint32_t suma, sumb;
} lf_scidac_sum;
void lf_scidac_sum_site(lf_scidac_sum *s, uint64_t rank, const void *bytes, size_t n);

/* ---------------------------------------------------------------- ILDG configurations */
/* An extra record written after the configuration, in a LIME message of its own. */
typedef struct {
  const char *type; /* record type, at most 128 bytes, e.g. "latflow-state" */
  const void *data;
  size_t bytes;
} lf_ildg_record;

/* Optional metadata for lf_ildg_write (NULL = all defaults). */
typedef struct {
  const char *lfn;       /* ildg-data-lfn; NULL or "": the base name of the path      */
  const char *info;      /* text placed in scidac-record-xml <info>...</info> (escaped);
                            NULL: "latflow <version>" + group and lattice               */
  const char *date;      /* date in scidac-private-record-xml; NULL: now (UTC);
                            "": omit it (byte-reproducible files)                       */
  const lf_ildg_record *extra; /* nextra extra records                                 */
  int nextra;
} lf_ildg_meta;

/* Write field `f` (any group, nd = 2..4) with `precision` 32 or 64 bits. 4D SU(3) files
 * are standard ILDG; other groups/dimensions use <field> u1gauge/su2gauge and the first
 * nd of <lx><ly><lz><lt> (docs/formats.md). 32-bit output rounds to nearest float.
 * A field holding NaN/Inf is refused (LF_ENAN); on any error nothing appears at `path`
 * (an existing file there is left unchanged). */
int lf_ildg_write(const char *path, const lf_gauge *f, int precision, const lf_ildg_meta *meta);

/* Checksum status of a read. */
enum {
  LF_ILDG_CHECKSUM_OK = 0,      /* scidac-checksum present and matching             */
  LF_ILDG_CHECKSUM_ABSENT = 1,  /* no scidac-checksum record in the file             */
  LF_ILDG_CHECKSUM_BAD = 2      /* mismatch (or unreadable record) accepted because of
                                   LF_ILDG_NO_CHECKSUM; otherwise the read fails      */
};
const char *lf_ildg_checksum_name(int status); /* "ok", "absent", "mismatch" */

/* Flags for lf_ildg_read. */
enum {
  LF_ILDG_NO_CHECKSUM = 1u << 0,  /* a checksum mismatch is reported in info, no error */
  LF_ILDG_NO_REUNITARIZE = 1u << 1, /* keep 32-bit data exactly as stored             */
  LF_ILDG_ALLOW_NONUNITARY = 1u << 2 /* accept links with defect > LF_ILDG_MAX_DEFECT  */
};

/* Links whose unitarity defect ||U^dag U - 1|| + |det U - 1| (lf_group_defect) exceeds
 * this are not gauge links: the read fails with LF_ERANGE (unless ALLOW_NONUNITARY).
 * Float rounding gives ~1e-7; 1e-3 is far above any rounding and far below garbage. */
#define LF_ILDG_MAX_DEFECT 1e-3

typedef struct {
  lf_group group;
  int nd, L[LF_MAXDIM];
  int precision;            /* 32 or 64                                               */
  int checksum;             /* LF_ILDG_CHECKSUM_*                                      */
  uint32_t suma, sumb;      /* computed from the data                                  */
  uint32_t file_suma, file_sumb; /* as stored (0 if absent)                            */
  double max_defect;        /* largest unitarity defect of the links as stored         */
  int reunitarized;         /* 1 if links were projected back onto the group           */
  double plaquette;         /* Re tr U_P / N of the data as stored (compare this with
                               the producer's log or another reader)                   */
  double plaquette_field;   /* the same for the field returned (after reunitarisation
                               of 32-bit data they differ at the 1e-8 level)           */
  char lfn[256];            /* ildg-data-lfn (truncated to 255 bytes; "" if absent)    */
  int nrecords, nmessages;  /* LIME structure                                         */
} lf_ildg_info;

/* Read a configuration: initialises caller storage `lat` from the file (free with
 * lf_lattice_clear after lf_gauge_free) and allocates *f (free with lf_gauge_free).
 * Verifies the SciDAC checksum (LF_ECHECKSUM on mismatch unless LF_ILDG_NO_CHECKSUM),
 * checks unitarity, reunitarises 32-bit data, measures the plaquette. `info` may be
 * NULL. On error nothing is left allocated (*f = NULL, lat cleared). */
int lf_ildg_read(const char *path, lf_lattice *lat, lf_gauge **f, lf_ildg_info *info,
                 unsigned flags);
/* Same, into an existing field whose group and lattice must match the file (LF_ESTATE
 * otherwise): for restarting a run on a lattice you already have. On an error after the
 * data were read (checksum, unitarity) the field holds the file's data: do not use it. */
int lf_ildg_read_into(const char *path, lf_gauge *f, lf_ildg_info *info, unsigned flags);
/* Only the format record: group, nd, L, precision, lfn, nrecords (no data read). */
int lf_ildg_probe(const char *path, lf_ildg_info *info);
/* The payload of the first record of `type` (e.g. "latflow-state") in a new lf_alloc'ed,
 * NUL-terminated buffer (caller lf_free's *data). LF_EFORMAT if there is no such
 * record (test with lf_ildg_has_record first when it is optional). */
int lf_ildg_read_record(const char *path, const char *type, char **data, size_t *bytes);
/* 1 if the file is readable LIME and holds a record of `type`, 0 if not, <0 on error. */
int lf_ildg_has_record(const char *path, const char *type);

#endif
