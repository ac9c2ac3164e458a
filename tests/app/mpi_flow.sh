#!/bin/bash
# tests/app/mpi_flow.sh -- data-parallel `latflow train` and parallel `latflow sample`
# under mpirun (issue #7):
# the same global batch on 1, 2 and 4 ranks gives bitwise identical models and metrics with
# --deterministic and the same loss curve to round-off without it; a rank that cannot read
# its --resume directory stops every rank with that rank's message; rank 0 alone writes;
# sampling on 1, 2 and 3 ranks (uneven: 3 does not divide the chunks) gives the same chain
# and the same saved configurations. SU(N) training (su2-2d on 4x4, batch 12) shares the
# U(1) driver and is checked the same way: bitwise with --deterministic, to round-off
# without it, and it reports the acceptance estimate.
# Needs LATFLOW_MPIEXEC (mpirun) in the environment; skipped (exit 77) without MPI.
. "$(dirname "$0")/lib.sh"
M="${LATFLOW_MPIEXEC:-}"
[ -n "$M" ] || { echo "no MPI launcher: skipped"; exit 77; }
run() { local np=$1; shift; "$M" --allow-run-as-root --oversubscribe -np "$np" "$L" "$@"; }
export OMP_NUM_THREADS=1 LATFLOW_REGISTRY=none
args=(train --preset u1-tutorial --lattice 8x8 --steps 12 --batch 20 --checkpoint-every 5)
for np in 1 2 4; do
  run $np "${args[@]}" --deterministic --out "$T/d$np" > "$T/d$np.log" 2>&1 ||
    bad "np $np deterministic training failed: $(tail -2 "$T/d$np.log")"
  run $np "${args[@]}" --gradient path --out "$T/n$np" > "$T/n$np.log" 2>&1 ||
    bad "np $np path-gradient training failed: $(tail -2 "$T/n$np.log")"
done
cols() { cut -d, -f1-6 "$1"; } # everything but the wall-clock seconds
for np in 2 4; do
  check "--deterministic: model of $np ranks bitwise equal to 1 rank" \
    cmp -s "$T/d1/model.safetensors" "$T/d$np/model.safetensors"
  check "--deterministic: optimizer state of $np ranks bitwise equal to 1 rank" \
    cmp -s "$T/d1/model.opt.safetensors" "$T/d$np/model.opt.safetensors"
  check "--deterministic: metrics (loss, ESS, acceptance, grad norm) of $np ranks equal to 1 rank" \
    cmp -s <(cols "$T/d1/metrics.csv") <(cols "$T/d$np/metrics.csv")
  dev=$(paste -d, <(cols "$T/n1/metrics.csv") <(cols "$T/n$np/metrics.csv") |
        awk -F, 'NR > 1 { d = ($2 - $8) / $2; if (d < 0) d = -d; if (d > m) m = d } END { printf "%.3g", m + 0 }')
  check "path gradients, fast sums: loss curve of $np ranks = 1 rank to round-off (max rel dev $dev)" \
    awk -v d="$dev" 'BEGIN { exit !(d < 1e-9) }'
done
# SU(N) flows train through the same driver: su2-2d on 4x4, global batch 12 (--deterministic:
# chunks of 8 and 4, so 2 of 4 ranks idle; without it the samples split 6/6 or 3/3/3/3)
sargs=(train --preset su2-2d --lattice 4x4 --steps 6 --batch 12 --ess-samples 0)
for np in 1 2 4; do
  run $np "${sargs[@]}" --deterministic --out "$T/sd$np" > "$T/sd$np.log" 2>&1 ||
    bad "su2-2d np $np deterministic training failed: $(tail -2 "$T/sd$np.log")"
  run $np "${sargs[@]}" --out "$T/sn$np" > "$T/sn$np.log" 2>&1 ||
    bad "su2-2d np $np training failed: $(tail -2 "$T/sn$np.log")"
done
for np in 2 4; do
  check "su2-2d --deterministic: model of $np ranks bitwise equal to 1 rank" \
    cmp -s "$T/sd1/model.safetensors" "$T/sd$np/model.safetensors"
  check "su2-2d --deterministic: metrics (loss, ESS, acceptance, grad norm) of $np ranks equal to 1 rank" \
    cmp -s <(cols "$T/sd1/metrics.csv") <(cols "$T/sd$np/metrics.csv")
  dev=$(paste -d, <(cols "$T/sn1/metrics.csv") <(cols "$T/sn$np/metrics.csv") |
        awk -F, 'NR > 1 { d = ($2 - $8) / $2; if (d < 0) d = -d; if (d > m) m = d } END { printf "%.3g", m + 0 }')
  check "su2-2d path gradients, fast sums: loss curve of $np ranks = 1 rank to round-off (max rel dev $dev)" \
    awk -v d="$dev" 'BEGIN { exit !(d < 1e-9) }'
done
check "su2-2d: the acceptance estimate is reported (not nan)" \
  awk -F, 'NR > 1 && ($5 == "nan" || $5 == "") { exit 1 }' "$T/sd4/metrics.csv"
# fewer samples than ranks: ranks without samples take part with empty batches
run 4 train --preset u1-tutorial --steps 3 --batch 2 --out "$T/tiny4" > /dev/null 2>&1 &&
  run 1 train --preset u1-tutorial --steps 3 --batch 2 --out "$T/tiny1" > /dev/null 2>&1
check "batch 2 on 4 ranks (two ranks idle): metrics equal to 1 rank" \
  cmp -s <(cols "$T/tiny1/metrics.csv") <(cols "$T/tiny4/metrics.csv")
check "12 metric rows written once (rank 0 only)" \
  test "$(wc -l < "$T/d4/metrics.csv")" -eq 13
check "one summary line on stdout from 4 ranks" \
  test "$(grep -c '^trained' "$T/d4.log")" -eq 1
# one rank resumes a directory it cannot read: every rank stops, rank 0 reports rank 1's error
mkdir -p "$T/empty"
err=$("$M" --allow-run-as-root --oversubscribe -np 1 "$L" train --resume "$T/d1" --steps 14 : \
      -np 1 "$L" train --resume "$T/empty" --steps 14 2>&1 >/dev/null); rc=$?
if [ $rc -ne 0 ] && printf '%s' "$err" | grep -q "rank 1: .*holds no training run"; then
  ok "bad --resume on rank 1 only: all ranks exit $rc, rank 0 prints: $(printf '%s' "$err" | grep 'rank 1' | head -1)"
else
  bad "bad --resume on rank 1 only: exit $rc, stderr: $err"
fi
check "... and rank 0 did not continue its run (still 12 metric rows)" \
  test "$(wc -l < "$T/d1/metrics.csv")" -eq 13
# parallel sampling: the same Metropolis chain for any rank count
for np in 1 2 3; do
  run $np sample --model "$T/d1/model.safetensors" --n 300 --batch 16 --out "$T/s$np" \
    --save-every 100 > "$T/s$np.log" 2>&1 || bad "np $np sampling failed: $(tail -2 "$T/s$np.log")"
done
for np in 2 3; do
  check "sample on $np ranks: chain.csv identical to 1 rank" cmp -s "$T/s1/chain.csv" "$T/s$np/chain.csv"
  a=$("$L" measure "$T/s1/cfg_000200.lime" --json | tail -1 | sed 's/"file":"[^"]*",//')
  b=$("$L" measure "$T/s$np/cfg_000200.lime" --json | tail -1 | sed 's/"file":"[^"]*",//')
  check "sample on $np ranks: configuration 200 has the same checksum and measurements" \
    test -n "$a" -a "$a" = "$b"
done
finish
