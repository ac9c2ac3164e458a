#!/usr/bin/env bash
# bench/freezing.sh -- topological freezing in 2D U(1) (issue #5): tau_int of the geometric
# charge Q for HMC and for flow Metropolis at 16x16, beta in {3, 4, 5, 6}, per configuration
# and per CPU-second, the flow's training time included.
#
#   bench/freezing.sh [BUILD_DIR] [OUT_DIR]  (env: BETAS, HMC_TRAJ, FLOW_STEPS8, FLOW_STEPS16,
#                                             FLOW_N, GRADIENT, REUSE_HMC)
#
# Costs are CPU seconds of one thread (OMP_NUM_THREADS=1, user + system time of each
# command), which do not depend on other load on a shared machine; on an idle machine they
# equal wall-clock seconds of a one-thread run. tau_int(Q) with its error from the Gamma
# method (stats module, bench/tauint.c for the HMC chain, `latflow sample --json` for the
# flow chain). Cost per independent configuration = 2 tau_int x cost per configuration; for
# the flow, cost per configuration = (training + sampling CPU time) / FLOW_N.
# The flow (preset u1-best, GRADIENT gradients) is trained at 8x8 and the same beta, then
# fine-tuned at 16x16 starting from those weights (the context networks are convolutional,
# so they carry over to the larger lattice: `latflow train --init-from`); both trainings
# count as training time.
set -euo pipefail
[ -x /usr/bin/time ] || { echo "$0: needs /usr/bin/time (Debian package 'time': apt-get install time)" >&2; exit 2; }
B=$(cd "${1:-build}" && pwd)
O=${2:-out/freezing}
BETAS=${BETAS:-"3 4 5 6"}
HMC_TRAJ=${HMC_TRAJ:-50000}
FLOW_STEPS8=${FLOW_STEPS8:-2500}
FLOW_STEPS16=${FLOW_STEPS16:-300}
FLOW_N=${FLOW_N:-50000}
GRADIENT=${GRADIENT:-reparam} # path gradients diverged at beta = 6 (docs/benchmarks.md)
REUSE_HMC=${REUSE_HMC:-0}     # 1: keep an HMC run of an earlier call in OUT_DIR
export OMP_NUM_THREADS=1 LATFLOW_REGISTRY=none
mkdir -p "$O"
cpu() { # cpu FILE command... : run, store "user+sys" CPU seconds in FILE
  local f=$1; shift
  /usr/bin/time -f "%U %S" -o "$f.time" "$@"
  awk '{ printf "%.2f\n", $1 + $2 }' "$f.time" > "$f"
}
json() { sed -n 's/.*"'"$2"'":{\([^}]*\)}.*/\1/p' "$1" | tail -1; }
num() { sed -n 's/.*"'"$2"'":\([-0-9.eE+]*\).*/\1/p' <<< "$1"; }
echo "date: $(date -u +%Y-%m-%dT%H:%MZ)  commit: $(git -C "$(dirname "$0")" rev-parse --short HEAD)"
echo "cpu: $(lscpu | sed -n 's/^Model name: *//p'); HMC $HMC_TRAJ trajectories (tau 1, 10 Omelyan steps);"
echo "flow: preset u1-best, $GRADIENT gradients, $FLOW_STEPS8 steps at 8x8 + $FLOW_STEPS16 at 16x16, then $FLOW_N proposals"
printf '| beta | HMC acc | HMC tau_int(Q) | HMC CPU s/traj | HMC CPU s per indep. Q | flow acc | flow tau_int(Q) | flow CPU s (train + sample) | flow CPU s per indep. Q |\n'
printf '|---|---|---|---|---|---|---|---|---|\n'
for beta in $BETAS; do
  d="$O/b$beta"
  if [ "$REUSE_HMC" = 1 ] && [ -s "$d/hmc.cpu" ]; then
    rm -rf "$d/flow8" "$d/flow"
  else
    rm -rf "$d"
    mkdir -p "$d"
    cpu "$d/hmc.cpu" "$B/latflow" hmc --lattice 16x16 --beta "$beta" --ntraj "$HMC_TRAJ" --therm 1000 \
    --out "$d/hmc" --json > "$d/hmc.json" 2> "$d/hmc.err"
  fi
  # rows of phase 1 (measurement) only
  awk -F, 'NR == 1 || $2 == 1' "$d/hmc/measurements.csv" > "$d/hmc_meas.csv"
  hq=$("$B/tauint" "$d/hmc_meas.csv" Q || echo '{"tau_int":"frozen","tau_err":0}')
  hacc=$(num "$(tail -1 "$d/hmc.json")" acceptance)
  cpu "$d/train8.cpu" "$B/latflow" train --preset u1-best --lattice 8x8 --beta "$beta" \
    --steps "$FLOW_STEPS8" --gradient "$GRADIENT" --out "$d/flow8" --json > "$d/train8.json" 2> "$d/train8.err"
  cpu "$d/train16.cpu" "$B/latflow" train --init-from "$d/flow8/model.safetensors" --preset u1-best \
    --lattice 16x16 --beta "$beta" --steps "$FLOW_STEPS16" --lr 5e-4 --lr-min 5e-5 --gradient "$GRADIENT" \
    --out "$d/flow" --json > "$d/train.json" 2> "$d/train.err"
  awk '{ s += $1 } END { printf "%.2f\n", s }' "$d/train8.cpu" "$d/train16.cpu" > "$d/train.cpu"
  cpu "$d/sample.cpu" "$B/latflow" sample --model "$d/flow/model.safetensors" --n "$FLOW_N" \
    --batch 256 --json > "$d/sample.json" 2> "$d/sample.err"
  fq=$(json "$d/sample.json" topological_charge)
  facc=$(num "$(tail -1 "$d/sample.json")" acceptance)
  awk -v beta="$beta" -v hq="$hq" -v hacc="$hacc" -v hcpu="$(cat "$d/hmc.cpu")" -v ntraj="$HMC_TRAJ" \
      -v fq="$fq" -v facc="$facc" -v tcpu="$(cat "$d/train.cpu")" -v scpu="$(cat "$d/sample.cpu")" \
      -v nf="$FLOW_N" 'function get(s, k,   m) { if (match(s, "\"" k "\":[-0-9.eE+]+")) { m = substr(s, RSTART, RLENGTH); sub(/.*:/, "", m); return m + 0 } return -1 }
    BEGIN {
      ht = get(hq, "tau_int"); he = get(hq, "tau_err"); ft = get(fq, "tau_int"); fe = get(fq, "tau_int_err");
      hs = hcpu / (ntraj + 1000); fs = (tcpu + scpu) / nf;
      hts = ht > 0 ? sprintf("%.3g +- %.2g", ht, he) : "frozen (Q constant)";
      hpi = ht > 0 ? sprintf("%.3g", 2 * ht * hs) : "inf";
      printf "| %s | %.3f | %s | %.2e | %s | %.3f | %.3g +- %.2g | %.0f + %.0f | %.3g |\n", beta, hacc, hts, hs, hpi, facc, ft, fe, tcpu, scpu, 2 * ft * fs
    }'
done
