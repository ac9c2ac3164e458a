#!/usr/bin/env bash
# Same seed gives bitwise identical output with 1 and 2 OpenMP threads (HMC and heatbath,
# all groups, 2D and 4D). The lattices have more than 1024 sites (2048 in 4D, 2112 in 2D):
# smaller loops run on one thread by design (LF_OMP_MIN_SITES), which would make the
# comparison vacuous.
. "$(dirname "$0")/lib.sh"
run() { OMP_NUM_THREADS=$1 $L $2 --out "$T/$3_$1" $4 > /dev/null; }
for g in u1 su2 su3; do
  run 1 hmc "hmc$g" "--group $g --lattice 8x8x4x8 --beta 2.1 --ntraj 3 --therm 0 --steps 3"
  run 2 hmc "hmc$g" "--group $g --lattice 8x8x4x8 --beta 2.1 --ntraj 3 --therm 0 --steps 3"
  cmp -s "$T/hmc${g}_1/measurements.csv" "$T/hmc${g}_2/measurements.csv" && ok "hmc $g 8x8x4x8: 1 vs 2 threads identical" || bad "hmc $g 4D differs between 1 and 2 threads"
  run 1 heatbath "hb$g" "--group $g --lattice 48x44 --beta 1.7 --nsweep 6 --therm 0"
  run 2 heatbath "hb$g" "--group $g --lattice 48x44 --beta 1.7 --nsweep 6 --therm 0"
  cmp -s "$T/hb${g}_1/measurements.csv" "$T/hb${g}_2/measurements.csv" && ok "heatbath $g 48x44: 1 vs 2 threads identical" || bad "heatbath $g 2D differs between 1 and 2 threads"
  cmp -s "$T/hb${g}_1/checkpoint.lime" "$T/hb${g}_2/checkpoint.lime" && ok "heatbath $g 48x44: final field identical" || bad "heatbath $g final field differs"
done
finish
