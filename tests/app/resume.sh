#!/usr/bin/env bash
# Checkpoint/restart: a run stopped by SIGTERM, or killed with SIGKILL at an arbitrary
# moment, and then resumed, gives bitwise the same measurements, configurations and
# manifest as the uninterrupted run.
. "$(dirname "$0")/lib.sh"
A="--group su2 --lattice 8x8 --beta 2.3 --ntraj 150 --therm 10 --save-every 20 --checkpoint-every 7 --seed 2385"
$L hmc $A --out "$T/full" > /dev/null || bad "uninterrupted run"
wait_ckpt() { for i in $(seq 1 400); do [ -s "$1/checkpoint.lime" ] && return 0; sleep 0.01; done; return 1; }
same_run() { # same_run DIR label
  cmp -s "$T/full/measurements.csv" "$1/measurements.csv" && ok "$2: measurements.csv identical" || bad "$2: measurements.csv differs"
  cmp -s "$T/full/ensemble.json" "$1/ensemble.json" && ok "$2: ensemble.json identical" || bad "$2: ensemble.json differs"
  local n=0 d=0
  for f in "$T"/full/cfg/*.lime; do n=$((n + 1)); cmp -s "$f" "$1/cfg/$(basename "$f")" || d=$((d + 1)); done
  [ $n -gt 0 ] && [ $d -eq 0 ] && ok "$2: all $n configurations identical" || bad "$2: $d of $n configurations differ"
}
# SIGTERM: checkpoint and exit 3
$L hmc $A --out "$T/term" > /dev/null 2> "$T/term.err" & p=$!
wait_ckpt "$T/term"; kill -TERM $p; wait $p; rc=$?
[ $rc -eq 3 ] && ok "SIGTERM exits with status 3" || bad "SIGTERM exit status $rc (want 3)"
grep -q "resume" "$T/term.err" && ok "SIGTERM message says how to resume" || bad "no resume hint: $(cat "$T/term.err")"
$L hmc --resume "$T/term" > /dev/null || bad "resume after SIGTERM"
same_run "$T/term" "SIGTERM + resume"
# SIGKILL at an arbitrary moment after the first checkpoint
$L hmc $A --out "$T/kill" > /dev/null 2>&1 & p=$!
wait_ckpt "$T/kill"; sleep 0.05; kill -KILL $p; wait $p 2>/dev/null
n=$(($(wc -l < "$T/kill/measurements.csv") - 1))
echo "     killed after $n trajectories"
$L hmc --resume "$T/kill" > /dev/null || bad "resume after SIGKILL"
same_run "$T/kill" "SIGKILL + resume"
# SIGKILL right after the first configuration file appears (the manifest may or may not
# have been written yet): the manifest rebuilt on resume must be identical as well
$L hmc $A --out "$T/kill2" > /dev/null 2>&1 & p=$!
for i in $(seq 1 2000); do [ -e "$T/kill2/cfg/cfg_000029.lime" ] && break; sleep 0.002; done
kill -KILL $p; wait $p 2>/dev/null
$L hmc --resume "$T/kill2" > /dev/null || bad "resume after SIGKILL at the first save"
same_run "$T/kill2" "SIGKILL at the first save + resume"
# a changed parameter is refused on resume, allowed with --allow-change; ntraj may grow
expect_fail "changed beta refused on resume" 2 "differs from the value" -- $L hmc --resume "$T/kill" --beta 2.4
$L hmc --resume "$T/kill" --ntraj 160 --json > "$T/ext.json" 2>/dev/null && ok "extending ntraj on resume" || bad "extending ntraj on resume"
rows=$(($(wc -l < "$T/kill/measurements.csv") - 1))
[ "$rows" -eq 170 ] && ok "extended run has 170 rows" || bad "extended run has $rows rows (want 170)"
# SIGUSR1 (what SLURM's --signal sends before the walltime) also checkpoints and exits 3
$L hmc $A --out "$T/usr1" > /dev/null 2>&1 & p=$!
wait_ckpt "$T/usr1"; kill -USR1 $p; wait $p; rc=$?
[ $rc -eq 3 ] && ok "SIGUSR1 exits with status 3" || bad "SIGUSR1 exit status $rc (want 3)"
$L hmc --resume "$T/usr1" > /dev/null || bad "resume after SIGUSR1"
cmp -s "$T/full/measurements.csv" "$T/usr1/measurements.csv" && ok "SIGUSR1 + resume: measurements.csv identical" || bad "SIGUSR1 + resume: measurements differ"
# heatbath resumes as well
B="--group su3 --lattice 4x4 --beta 3.1 --nsweep 60 --therm 5 --checkpoint-every 5 --seed 7"
$L heatbath $B --out "$T/hbfull" > /dev/null
$L heatbath $B --nsweep 20 --out "$T/hb" > /dev/null
$L heatbath --resume "$T/hb" --nsweep 60 > /dev/null
cmp -s "$T/hbfull/measurements.csv" "$T/hb/measurements.csv" && ok "heatbath: 20 + 40 sweeps = 60 sweeps bitwise" || bad "heatbath resume differs"
finish
