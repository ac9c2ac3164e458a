/* tests/io/lime.c -- the low-level LIME API: records of every padding length, streamed
 * records, messages (MB/ME), type strings of 128 characters, find by type, partial reads,
 * misuse of the writer (too many/few bytes, bad types) and that an aborted or incomplete
 * write leaves no file. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "latflow/io.h"
#include "io_test.h"
#include "lf_test.h"

int main(void) {
  char dir[] = "/tmp/lf_io_lime_XXXXXX";
  if (!mkdtemp(dir)) return 1;
  char path[512];
  snprintf(path, sizeof path, "%s/a.lime", dir);
  char payload[64], type128[129];
  for (int i = 0; i < 64; i++) payload[i] = (char)('a' + i % 26);
  memset(type128, 'T', 128);
  type128[128] = '\0';

  lf_lime_writer *w;
  LF_TEST_TRUE("writer opens", lf_lime_writer_open(&w, path) == LF_OK);
  int rc = LF_OK;
  /* message 0: lengths 0..9 (all paddings) */
  for (int n = 0; n <= 9 && !rc; n++) {
    char t[32];
    snprintf(t, sizeof t, "len-%d", n);
    rc = lf_lime_write_record(w, t, payload, (uint64_t)n, n == 0, n == 9);
  }
  LF_TEST_TRUE("records of length 0..9", rc == LF_OK);
  /* message 1: a streamed record and a 128-character type */
  rc = lf_lime_write_begin(w, "streamed", 40, 1, 0);
  for (int k = 0; k < 4 && !rc; k++) rc = lf_lime_write_data(w, payload + 10 * k, 10);
  LF_TEST_TRUE("streamed record in 4 pieces", rc == LF_OK);
  LF_TEST_TRUE("128-character type", lf_lime_write_record(w, type128, "x", 1, 0, 1) == LF_OK);
  /* misuse */
  char t129[130];
  memset(t129, 'U', 129);
  t129[129] = '\0';
  LF_TEST_TRUE("129-character type refused", lf_lime_write_record(w, t129, "x", 1, 1, 1) == LF_EINVAL);
  LF_TEST_TRUE("empty type refused", lf_lime_write_record(w, "", "x", 1, 1, 1) == LF_EINVAL);
  LF_TEST_TRUE("begin", lf_lime_write_begin(w, "dup", 8, 1, 1) == LF_OK);
  LF_TEST_TRUE("too many bytes refused", lf_lime_write_data(w, payload, 9) == LF_ESTATE);
  LF_TEST_TRUE("begin while a record is open refused", lf_lime_write_begin(w, "x", 1, 1, 1) == LF_ESTATE);
  LF_TEST_TRUE("the rest of the record", lf_lime_write_data(w, payload, 8) == LF_OK);
  LF_TEST_TRUE("commit", lf_lime_writer_commit(w) == LF_OK);
  LF_TEST_TRUE("no temporary left", no_tmp_files(dir));

  lf_lime_reader *r;
  rc = lf_lime_open(&r, path);
  LF_TEST_TRUE("reader opens", rc == LF_OK);
  if (rc) return lf_test_done();
  LF_TEST_TRUE("13 records", lf_lime_count(r) == 13);
  int ok = 1;
  for (int n = 0; n <= 9; n++) {
    char t[32];
    snprintf(t, sizeof t, "len-%d", n);
    int i = lf_lime_find(r, t, 0);
    const lf_lime_record *rec = lf_lime_get(r, i);
    char *d;
    size_t nb;
    ok &= i == n && rec->bytes == (uint64_t)n && rec->message == 0 && rec->mb == (n == 0) &&
          rec->me == (n == 9) && rec->offset % 8 == 0;
    ok &= lf_lime_read_all(r, i, &d, &nb) == LF_OK && nb == (size_t)n && !memcmp(d, payload, nb) &&
          d[nb] == '\0';
    lf_free(d);
  }
  LF_TEST_TRUE("lengths, flags, message index, 8-byte alignment, payloads", ok);
  int is = lf_lime_find(r, "streamed", 0);
  char part[16];
  LF_TEST_TRUE("partial read at an offset", lf_lime_read(r, is, 13, part, 7) == LF_OK &&
                                                !memcmp(part, payload + 13, 7));
  LF_TEST_TRUE("read past the record refused", lf_lime_read(r, is, 35, part, 6) == LF_EINVAL);
  LF_TEST_TRUE("bad index refused", lf_lime_read(r, 99, 0, part, 1) == LF_EINVAL &&
                                        lf_lime_get(r, 99) == NULL);
  LF_TEST_TRUE("message 1 holds the streamed and the long-type record",
               lf_lime_get(r, is)->message == 1 && lf_lime_find(r, type128, 0) == is + 1);
  LF_TEST_TRUE("find from an index", lf_lime_find(r, "len-3", 4) == -1 && lf_lime_find(r, "nope", 0) == -1);
  LF_TEST_TRUE("path kept", !strcmp(lf_lime_path(r), path));
  lf_lime_close(r);

  /* An aborted writer and an incomplete record leave no file. */
  snprintf(path, sizeof path, "%s/b.lime", dir);
  lf_lime_writer_open(&w, path);
  lf_lime_write_record(w, "x", "abc", 3, 1, 1);
  lf_lime_writer_abort(w);
  LF_TEST_TRUE("abort: no file, no temporary", access(path, F_OK) != 0 && no_tmp_files(dir));
  lf_lime_writer_open(&w, path);
  lf_lime_write_begin(w, "x", 100, 1, 1);
  lf_lime_write_data(w, payload, 50);
  rc = lf_lime_writer_commit(w);
  LF_TEST_TRUE("commit of an incomplete record: LF_ESTATE, no file",
               rc == LF_ESTATE && access(path, F_OK) != 0 && no_tmp_files(dir));
  printf("     message: %s\n", lf_last_error());
  lf_lime_writer_abort(NULL);
  lf_lime_close(NULL);

  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd) != 0) return 1;
  return lf_test_done();
}
