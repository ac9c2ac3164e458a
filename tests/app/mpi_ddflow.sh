#!/bin/bash
# tests/app/mpi_ddflow.sh -- `latflow sample --decompose` (issue #7, domain-decomposed flow
# evaluation): a model trained on 8x8 applied to 16x24 (--lattice) with every proposal spread
# over 2 ranks (grids 2x1, 1x2 and automatic) gives the serial chain: the same accept/reject
# decisions and log w / plaquette columns of chain.csv, the same acceptance in the JSON, the
# plaquette mean to 1e-12, and saved configurations with the same checksum and measurements;
# impossible grids stop every rank with a non-zero exit and a message saying what to change.
# Needs LATFLOW_MPIEXEC (mpirun) in the environment; skipped (exit 77) without MPI.
. "$(dirname "$0")/lib.sh"
M="${LATFLOW_MPIEXEC:-}"
[ -n "$M" ] || { echo "no MPI launcher: skipped"; exit 77; }
run() { local np=$1; shift; "$M" --allow-run-as-root --oversubscribe -np "$np" "$L" "$@"; }
export OMP_NUM_THREADS=1 LATFLOW_REGISTRY=none
"$L" train --preset u1-tutorial --lattice 8x8 --steps 20 --batch 16 --out "$T/m" > "$T/train.log" 2>&1 ||
  bad "training the 8x8 model failed: $(tail -2 "$T/train.log")"
S=(sample --model "$T/m/model.safetensors" --lattice 16x24 --n 120 --seed 7 --json --save-every 60)
"$L" "${S[@]}" --batch 8 --out "$T/serial" > "$T/serial.log" 2>&1 ||
  bad "serial sampling failed: $(tail -2 "$T/serial.log")"
js() { tail -1 "$1" | python3 -c "import json,sys; d=json.load(sys.stdin); print(repr(d$2))"; }
for g in 2x1 1x2 auto; do
  run 2 "${S[@]}" --decompose $g --out "$T/dd$g" > "$T/dd$g.log" 2>&1 ||
    { bad "decomposed sampling ($g) failed: $(tail -2 "$T/dd$g.log")"; continue; }
  check "--decompose $g on 2 ranks: accept/reject decisions, log w and plaquette columns of chain.csv = serial" \
    cmp -s <(cut -d, -f1-4 "$T/serial/chain.csv") <(cut -d, -f1-4 "$T/dd$g/chain.csv")
  check "--decompose $g: acceptance in the JSON = serial ($(js "$T/serial.log" "['acceptance']"))" \
    test "$(js "$T/serial.log" "['acceptance']")" = "$(js "$T/dd$g.log" "['acceptance']")"
  a=$(js "$T/serial.log" "['plaquette']['mean']"); b=$(js "$T/dd$g.log" "['plaquette']['mean']")
  check "--decompose $g: plaquette mean $b = serial $a to 1e-12" \
    python3 -c "import sys; a, b = $a, $b; sys.exit(abs(a - b) > 1e-12 * abs(a))"
  check "--decompose $g: JSON reports the grid ($(js "$T/dd$g.log" "['parallel']['grid']")) and a halo of 8" \
    test "$(js "$T/dd$g.log" "['parallel']['halo']")" = "8"
  x=$("$L" measure "$T/serial/cfg_000120.lime" --json | tail -1 | sed 's/"file":"[^"]*",//')
  y=$("$L" measure "$T/dd$g/cfg_000120.lime" --json | tail -1 | sed 's/"file":"[^"]*",//')
  check "--decompose $g: configuration 120 (gathered to rank 0) has the serial checksum and measurements" \
    test -n "$x" -a "$x" = "$y"
done
check "one summary line on stdout from 2 ranks" test "$(grep -c '^flow Metropolis' "$T/dd2x1.log")" -eq 1
# impossible grids: every rank stops with exit 1, rank 0 says what to change
expect_fail "--decompose 3x1 on 2 ranks" 1 "product is the number of ranks" -- \
  run 2 "${S[@]}" --decompose 3x1
expect_fail "--decompose 1x2 on 8x8 (local extent 4 below the halo 8)" 1 "halo width 8" -- \
  run 2 sample --model "$T/m/model.safetensors" --n 10 --decompose 1x2
expect_fail "--decompose 1x2 on 16x20 (local extent 10 not a multiple of 4)" 1 "multiple of 4" -- \
  run 2 sample --model "$T/m/model.safetensors" --n 10 --lattice 16x20 --decompose 1x2
expect_fail "--decompose abc" 1 "process grid" -- run 2 "${S[@]}" --decompose abc
finish
