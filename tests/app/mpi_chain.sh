#!/usr/bin/env bash
# latflow hmc / heatbath under mpirun (domain decomposition, docs/parallel.md):
#   - the CSVs (measurements, Wilson flow), configurations and manifest of 1 and 2 ranks (two
#     grids) are bitwise those of the serial run; rank 0 alone prints;
#   - a run checkpointed by SIGUSR1 (forwarded by mpirun) or by SIGTERM sent to one rank only
#     stops every rank with status 3 and resumes on another rank count bitwise;
#   - a failure on one rank (unreadable --resume directory, other parameters, a grid that
#     does not fit) stops every rank with one clear message.
. "$(dirname "$0")/lib.sh"
: "${MPIEXEC:?MPIEXEC must point to mpirun}"
export OMP_NUM_THREADS=1 LATFLOW_REGISTRY=none
M="$MPIEXEC --allow-run-as-root --oversubscribe"
A="--group su3 --lattice 4x4x4x8 --beta 5.7 --steps 6 --tau 0.6 --ntraj 12 --therm 2 --save-every 4 --seed 2385 --flow-time 0.1 --flow-dt 0.05 --flow-every 4"
$L hmc $A --out "$T/serial" > "$T/serial.out" 2>/dev/null || bad "serial run"
same_as_serial() { # same_as_serial DIR label
  cmp -s "$T/serial/measurements.csv" "$1/measurements.csv" && ok "$2: measurements.csv identical to the serial run" || bad "$2: measurements.csv differs"
  cmp -s "$T/serial/ensemble.json" "$1/ensemble.json" && ok "$2: ensemble.json identical" || bad "$2: ensemble.json differs"
  cmp -s "$T/serial/flow.csv" "$1/flow.csv" && ok "$2: flow.csv (Wilson flow, clover Q) identical" || bad "$2: flow.csv differs"
  local n=0 d=0
  for f in "$T"/serial/cfg/*.lime; do n=$((n + 1)); cmp -s "$f" "$1/cfg/$(basename "$f")" || d=$((d + 1)); done
  [ $n -gt 0 ] && [ $d -eq 0 ] && ok "$2: all $n configurations identical" || bad "$2: $d of $n configurations differ"
}
$M -np 1 $L hmc $A --out "$T/np1" > "$T/np1.out" 2>&1 || bad "mpirun -np 1"
same_as_serial "$T/np1" "mpirun -np 1"
$M -np 2 $L hmc $A --out "$T/np2" --json > "$T/np2.out" 2> "$T/np2.err" || bad "mpirun -np 2: $(cat "$T/np2.err")"
same_as_serial "$T/np2" "mpirun -np 2 (automatic grid)"
$M -np 2 $L hmc $A --grid 2x1x1x1 --out "$T/np2x" > /dev/null 2>&1 || bad "mpirun -np 2 --grid 2x1x1x1"
same_as_serial "$T/np2x" "mpirun -np 2 --grid 2x1x1x1"
n=$(grep -c "^latflow hmc: SU(3)\|^latflow hmc: su3" "$T/np2.out")
[ "$n" -eq 1 ] && ok "2 ranks: the summary is printed once" || bad "2 ranks: summary printed $n times"
tail -1 "$T/np2.out" | grep -q '"ranks":2,"grid":"1x1x1x2"' && ok "JSON summary reports 2 ranks and grid 1x1x1x2" || bad "JSON summary: $(tail -1 "$T/np2.out" | cut -c1-200)"
# heatbath
B="--group su2 --lattice 6x4x2x4 --beta 2.2 --nsweep 8 --therm 1 --or 2 --seed 7"
$L heatbath $B --out "$T/hbs" > /dev/null 2>&1
$M -np 2 $L heatbath $B --grid 2x1x1x1 --out "$T/hb2" > /dev/null 2>&1 || bad "heatbath -np 2"
cmp -s "$T/hbs/measurements.csv" "$T/hb2/measurements.csv" && ok "heatbath: 2 ranks (grid 2x1x1x1, local extent 3) = serial, bitwise" || bad "heatbath: 2 ranks differ from serial"

# SIGUSR1 to mpirun (forwarded to every rank): checkpoint, status 3, resume on 1 rank
C="--group su2 --lattice 4x4x4x8 --beta 2.3 --ntraj 300 --therm 0 --checkpoint-every 3 --seed 11"
$L hmc $C --ntraj 40 --out "$T/cfull" > /dev/null 2>&1
wait_ckpt() { for i in $(seq 1 1000); do [ -s "$1/checkpoint.lime" ] && return 0; sleep 0.01; done; return 1; }
$M -np 2 $L hmc $C --out "$T/usr1" > /dev/null 2> "$T/usr1.err" & p=$!
wait_ckpt "$T/usr1"; sleep 0.2; kill -USR1 $p; wait $p; rc=$?
[ $rc -eq 3 ] && ok "SIGUSR1 to mpirun: every rank checkpoints, status 3" || bad "SIGUSR1 to mpirun: status $rc (want 3)"
n=$(grep -c "stopped by signal" "$T/usr1.err")
[ "$n" -eq 1 ] && ok "stop message printed once (rank 0)" || bad "stop message printed $n times"
$M -np 1 $L hmc --resume "$T/usr1" --ntraj 40 > /dev/null 2>&1 || bad "resume on 1 rank after SIGUSR1 on 2"
cmp -s "$T/cfull/measurements.csv" "$T/usr1/measurements.csv" && ok "2-rank run stopped by SIGUSR1 + 1-rank resume = serial run, bitwise" || bad "SIGUSR1 + resume differs"
# SIGTERM to one rank only: the stop flag is reduced over ranks, all checkpoint together
$M -np 2 $L hmc $C --out "$T/term" > /dev/null 2> "$T/term.err" & p=$!
wait_ckpt "$T/term"; sleep 0.2
kid=$(pgrep -P $p | tail -1)
[ -n "$kid" ] && kill -TERM "$kid"; wait $p; rc=$?
[ $rc -eq 3 ] && ok "SIGTERM to one rank: all ranks checkpoint, status 3" || bad "SIGTERM to one rank: status $rc (want 3): $(head -3 "$T/term.err")"
$M -np 2 $L hmc --resume "$T/term" --ntraj 40 --grid 2x1x1x1 > /dev/null 2>&1 || bad "resume on 2 ranks with another grid"
cmp -s "$T/cfull/measurements.csv" "$T/term/measurements.csv" && ok "SIGTERM on one rank + resume with another grid = serial run, bitwise" || bad "SIGTERM + resume differs"

# a failure on one rank stops all, with that rank's message printed once
err=$($M -np 1 $L hmc --resume "$T/np1" : -np 1 $L hmc --resume "$T/missing" 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] && printf '%s' "$err" | grep -q "rank 1: .*missing holds no run to resume" && ok "unreadable --resume directory on rank 1: all ranks exit 2 with rank 1's message" || bad "bad resume dir on rank 1: exit $rc: $err"
[ "$(printf '%s\n' "$err" | grep -c 'holds no run')" -eq 1 ] && ok "that message is printed once" || bad "message printed $(printf '%s\n' "$err" | grep -c 'holds no run') times"
err=$($M -np 1 $L hmc $A --out "$T/mpmd" : -np 1 $L hmc $A --seed 9 --out "$T/mpmd" 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] && printf '%s' "$err" | grep -q "rank 1 was started with parameters that differ" && ok "another seed on rank 1 refused on all ranks (exit 2)" || bad "different parameters: exit $rc: $err"
[ ! -e "$T/mpmd/run.json" ] && ok "nothing written when the ranks disagree" || bad "run.json written although the ranks disagree"
expect_fail "--grid 1x1x1x4 on 2 ranks refused" 2 "has 4 ranks, but 2 ranks are running" -- $M -np 2 $L hmc $A --grid 1x1x1x4 --out "$T/badgrid"
expect_fail "--grid that does not divide the lattice refused" 2 "does not divide the lattice" -- $M -np 4 $L hmc --group su3 --lattice 4x4x4x6 --grid 1x1x1x4 --ntraj 1 --out "$T/badgrid2"
[ ! -e "$T/badgrid/run.json" ] && [ ! -e "$T/badgrid2/run.json" ] && ok "nothing written for a bad --grid" || bad "run.json written for a bad --grid"
expect_fail "automatic grid impossible (3 ranks, extents 4x4x4x8) refused" 1 "cannot split" -- $M -np 3 $L hmc --group su2 --lattice 4x4x4x8 --ntraj 1 --out "$T/auto3"
finish
