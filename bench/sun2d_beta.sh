#!/usr/bin/env bash
# bench/sun2d_beta.sh -- issue #6 target: 2D SU(3) at 8x8, ESS of the su3-2d spectral flow
# against beta (default 2, 4, 6): train with the preset (path gradients), then sample.
#
#   bench/sun2d_beta.sh [BUILD_DIR] [OUT_DIR]     (env: BETAS, STEPS, N)
#
# Prints one table row per beta: training steps and CPU seconds (one thread), ESS/N and
# acceptance of N independence-Metropolis proposals, the plaquette with its Gamma-method
# error and the exact infinite-volume value printed by `latflow sample`.
set -euo pipefail
[ -x /usr/bin/time ] || { echo "$0: needs /usr/bin/time (Debian package 'time': apt-get install time)" >&2; exit 2; }
B=$(cd "${1:-build}" && pwd)
O=${2:-out/sun2d_beta}
BETAS=${BETAS:-"2 4 6"}
STEPS=${STEPS:-300}
N=${N:-4000}
export OMP_NUM_THREADS=1 LATFLOW_REGISTRY=none
mkdir -p "$O"
echo "date: $(date -u +%Y-%m-%dT%H:%MZ)  commit: $(git -C "$(dirname "$0")" rev-parse --short HEAD)"
echo "| beta | steps | train CPU s | ESS/N | acceptance | plaquette | exact (V = inf) |"
echo "|---|---|---|---|---|---|---|"
for beta in $BETAS; do
  d="$O/b$beta"
  rm -rf "$d"
  /usr/bin/time -f "%U %S" -o "$d.time" "$B/latflow" train --preset su3-2d --beta "$beta" \
    --steps "$STEPS" --out "$d" > "$d.train.log" 2>&1
  "$B/latflow" sample --model "$d/model.safetensors" --n "$N" --json > "$d.sample.log" 2>&1
  tail -1 "$d.sample.log" > "$d.json" # the text summary and the JSON line of one run
  cpu=$(awk '{ printf "%.0f", $1 + $2 }' "$d.time")
  ess=$(sed -n 's/.*"ess":\([0-9.eE+-]*\).*/\1/p' "$d.json")
  acc=$(sed -n 's/.*"acceptance":\([0-9.eE+-]*\).*/\1/p' "$d.json")
  pl=$(sed -n 's/^  plaquette *\([0-9.]* +- [0-9.]*\).*/\1/p' "$d.sample.log")
  ex=$(sed -n 's/^  exact plaquette *\([0-9.]*\).*/\1/p' "$d.sample.log")
  printf '| %s | %s | %s | %.3f | %.3f | %s | %s |\n' "$beta" "$STEPS" "$cpu" "$ess" "$acc" "$pl" "$ex"
done
