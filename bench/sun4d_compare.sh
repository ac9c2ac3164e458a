#!/usr/bin/env bash
# bench/sun4d_compare.sh -- issue #6 target: 4D SU(3) Wilson action on 4^4 (default beta 2.0,
# the paper's benchmark, Abbott et al. 2502.00263): su3-4d-plaq (fixed plaquette active loops)
# against su3-4d-lal (learned active loops), trained with the SAME budget of CPU time.
#
#   bench/sun4d_compare.sh [BUILD_DIR] [OUT_DIR]   (env: BUDGET CPU s per run (1800), BATCH (8),
#                                                  BETA (2.0), LR (1e-3), LR_MIN (= LR: constant;
#                                                  smaller: cosine), CAL calibration steps (3),
#                                                  N proposals for the final sampling (1024))
# 1. calibrate: CPU seconds per training step of each preset (one thread, --ess-samples 0);
# 2. train both at once, one thread each, with steps = BUDGET / (CPU s per step) so that both
#    spend the same CPU time (CPU time, not wall time, is the fair cost on a shared machine;
#    each run gets its full cosine learning-rate schedule), metrics into one registry;
# 3. sample N proposals from each model (independence Metropolis: ESS/N, acceptance);
# 4. write OUT_DIR/compare.html: ESS (batch estimate, trailing mean over 25 steps) and loss
#    against step, wall time and CPU time for both runs (`latflow report ID1 ID2`).
set -euo pipefail
B=$(cd "${1:-build}" && pwd)
O=${2:-out/sun4d_compare}
BUDGET=${BUDGET:-1800}
BATCH=${BATCH:-8}
BETA=${BETA:-2.0}
LR=${LR:-1e-3}
LR_MIN=${LR_MIN:-$LR}
CAL=${CAL:-3}
N=${N:-1024}
export OMP_NUM_THREADS=1
mkdir -p "$O"
export LATFLOW_REGISTRY="$O/registry.db"
echo "date: $(date -u +%Y-%m-%dT%H:%MZ)  commit: $(git -C "$(dirname "$0")" rev-parse --short HEAD)"
echo "uptime: $(uptime)"
declare -A per steps
for p in su3-4d-plaq su3-4d-lal; do
  rm -rf "$O/cal-$p"
  "$B/latflow" train --preset "$p" --beta "$BETA" --batch "$BATCH" --steps $((CAL + 1)) \
    --ess-samples 0 --registry none --out "$O/cal-$p" > /dev/null
  # CPU seconds per step from the metrics (step 0 excluded: first-touch of buffers)
  per[$p]=$(awk -F, -v n="$CAL" 'NR == 2 { c0 = $8 } END { printf "%.4f", ($8 - c0) / n }' "$O/cal-$p/metrics.csv")
  steps[$p]=$(awk -v b="$BUDGET" -v c="${per[$p]}" 'BEGIN { printf "%d", b / c }')
  echo "$p: ${per[$p]} CPU s per step at batch $BATCH -> ${steps[$p]} steps in $BUDGET CPU s"
done
for p in su3-4d-plaq su3-4d-lal; do
  rm -rf "$O/$p"
  "$B/latflow" train --preset "$p" --beta "$BETA" --batch "$BATCH" --lr "$LR" --lr-min "$LR_MIN" --steps "${steps[$p]}" \
    --ess-samples 0 --experiment sun4d_compare --out "$O/$p" --json > "$O/$p.train.log" 2>&1 &
done
wait
echo "| preset | steps | train CPU s | train wall s | ESS/N ($N proposals) | acceptance | plaquette |"
echo "|---|---|---|---|---|---|---|"
for p in su3-4d-plaq su3-4d-lal; do
  "$B/latflow" sample --model "$O/$p/model.safetensors" --n "$N" --json --registry none > "$O/$p.sample.log" 2>&1
  t=$(tail -1 "$O/$p.train.log")
  s=$(tail -1 "$O/$p.sample.log")
  cpu=$(sed -n 's/.*"cpu_seconds":\([0-9.eE+-]*\).*/\1/p' <<< "$t")
  wall=$(sed -n 's/.*"seconds":\([0-9.eE+-]*\).*/\1/p' <<< "$t")
  ess=$(sed -n 's/.*"ess":\([0-9.eE+-]*\).*/\1/p' <<< "$s")
  acc=$(sed -n 's/.*"acceptance":\([0-9.eE+-]*\).*/\1/p' <<< "$s")
  pl=$(sed -n 's/^  plaquette *\([0-9.]* +- [0-9.]*\).*/\1/p' "$O/$p.sample.log")
  printf '| %s | %s | %.0f | %.0f | %.3f | %.3f | %s |\n' "$p" "${steps[$p]}" "$cpu" "$wall" "$ess" "$acc" "$pl"
done
ids=$("$B/latflow" runs list --json | python3 -c "import json,sys; print(' '.join(r['id'] for r in json.load(sys.stdin)['runs'] if r['command'] == 'train')[:1000])")
"$B/latflow" report $ids --smooth 25 --title "4D SU(3) 4^4 beta $BETA: plaquette vs learned active loops, $BUDGET CPU s each" \
  --out "$O/compare.html" > /dev/null
echo "plots: $O/compare.html"
