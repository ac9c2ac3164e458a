#!/usr/bin/env bash
# bench/dd_flow.sh -- issue #7: domain-decomposed flow evaluation (`latflow sample
# --decompose`, flow.h lf_flow_dd_*). The u1-tutorial networks (trained briefly on 8x8; the
# cost does not depend on the parameters) applied to large lattices (default 128x128 and
# 256x256): time per proposal (prior + forward + log q + S, P, Q; from the JSON "seconds" / N)
# on 1 rank without decomposition, and with --decompose on 1 and 2 ranks (1 thread each),
# the halo overhead (box volume / own volume) and the communication share of the wall time
# from the profiler regions ("halo" = deep-halo exchanges, "reduce" = exact sums).
#
#   bench/dd_flow.sh [BUILD_DIR] [OUT_DIR]      (env: LATTICES, N, BATCH, RANKS, MPIEXEC)
#
# Run it on an idle machine (load < 1.5; it prints `uptime` first) and quote the table.
set -euo pipefail
B=$(cd "${1:-build}" && pwd)
O=${2:-out/dd_flow}
LATTICES=${LATTICES:-"128x128 256x256"}
N=${N:-16}
BATCH=${BATCH:-8}
RANKS=${RANKS:-"1 2"}
MPIEXEC=${MPIEXEC:-mpirun}
export OMP_NUM_THREADS=1 LATFLOW_REGISTRY=none
mkdir -p "$O"
echo "date: $(date -u +%Y-%m-%dT%H:%MZ)  commit: $(git -C "$(dirname "$0")" rev-parse --short HEAD)  uptime: $(uptime)"
[ -f "$O/m/model.safetensors" ] ||
  "$B/latflow" train --preset u1-tutorial --lattice 8x8 --steps 5 --batch 8 --out "$O/m" > "$O/train.log" 2>&1
field() { python3 -c "import json,sys; d=json.loads(open(sys.argv[1]).read().splitlines()[-1]); print(eval('d' + sys.argv[2]))" "$@"; }
echo "| lattice | mode | ranks | grid | halo | box/own | s per proposal | comm share | speed-up vs serial |"
echo "|---|---|---|---|---|---|---|---|---|"
for lat in $LATTICES; do
  S=(sample --model "$O/m/model.safetensors" --lattice "$lat" --n "$N" --batch "$BATCH" --json)
  log="$O/$lat.serial.log"
  "$B/latflow" "${S[@]}" > "$log" 2>&1
  t1=$(field "$log" "['seconds']")
  printf '| %s | serial | 1 | - | - | 1 | %.3f | 0 | 1 |\n' "$lat" "$(python3 -c "print($t1 / $N)")"
  for np in $RANKS; do
    log="$O/$lat.dd$np.log"
    "$MPIEXEC" --allow-run-as-root --oversubscribe -np "$np" "$B/latflow" "${S[@]}" --decompose auto > "$log" 2>&1
    t=$(field "$log" "['seconds']")
    comm=$(field "$log" "['parallel']['comm_seconds']")
    wall=$(field "$log" "['parallel']['wall_seconds']")
    printf '| %s | decomposed | %s | %s | %s | %.3f | %.3f | %.1f%% | %.2f |\n' "$lat" "$np" \
      "$(field "$log" "['parallel']['grid']")" "$(field "$log" "['parallel']['halo']")" \
      "$(field "$log" "['parallel']['box_overhead']")" "$(python3 -c "print($t / $N)")" \
      "$(python3 -c "print(100 * $comm / $wall)")" "$(python3 -c "print($t1 / $t)")"
  done
done
