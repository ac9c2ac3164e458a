#!/usr/bin/env bash
# Run every benchmark on a quiet machine; prints machine, commit and date first.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${BUILD:-build}
echo "date: $(date -u +%Y-%m-%dT%H:%MZ)  commit: $(git rev-parse --short HEAD)"
echo "cpu: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"
for b in "$B"/bench_*; do
  [ -x "$b" ] || continue
  echo "== $b"
  "$b"
done
