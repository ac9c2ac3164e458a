#!/usr/bin/env bash
# Strong and weak scaling of domain-decomposed HMC on 1 and 2 ranks (bench/dist_scaling.c),
# 3 repetitions each; waits for a quiet machine (1-minute load < 0.5) before every run.
#     bench/dist_scaling.sh [build-dir=build] > dist_scaling.txt
B=${1:-build}
M="mpirun --allow-run-as-root --oversubscribe --bind-to none"
quiet() { while awk '{exit !($1 >= 0.5)}' /proc/loadavg; do sleep 15; done; }
echo "# $(date -u +%FT%TZ) $(uname -n) commit $(git rev-parse --short HEAD 2>/dev/null) $(nproc) cores"
for rep in 1 2 3; do
  for run in "1 1 8x8x8x8" "2 1 8x8x8x16" "1 1 8x8x8x16" "1 2 8x8x8x16" "1 1 12x12x12x24" "2 1 12x12x12x24" "1 2 12x12x12x24"; do
    set -- $run
    quiet
    echo "# load $(cut -d' ' -f1 /proc/loadavg) rep $rep: OMP_NUM_THREADS=$2 $M -np $1 $B/dist_scaling $3 5"
    OMP_NUM_THREADS=$2 $M -np $1 $B/dist_scaling $3 5 | grep '^{'
  done
done
quiet
echo "# load $(cut -d' ' -f1 /proc/loadavg): OMP_NUM_THREADS=1 $M -np 2 $B/dist_scaling 8x8x8x16 2 auto 10 1 (ping-pong)"
OMP_NUM_THREADS=1 $M -np 2 $B/dist_scaling 8x8x8x16 2 auto 10 1 | grep pingpong
echo "# done $(date -u +%FT%TZ)"
