#!/usr/bin/env bash
# Commands register their runs: hmc/heatbath/train/sample appear in the registry with the
# right end status (FINISHED, KILLED after SIGTERM), the trained model is listed by
# `runs models` with its ESS and is recorded as consumed by `sample`; an explicitly given
# registry that cannot be opened stops the run before it starts, and writes nothing.
. "$(dirname "$0")/lib.sh"
R="$T/reg.db"
export LATFLOW_REGISTRY="$R"
$L hmc --lattice 4x4 --ntraj 5 --therm 1 --out "$T/h" > /dev/null 2>&1 || bad "hmc run"
$L heatbath --lattice 4x4 --nsweep 5 --therm 1 --out "$T/hb" > /dev/null 2>&1 || bad "heatbath run"
$L train --preset u1-tutorial --steps 5 --out "$T/tr" > /dev/null 2>&1 || bad "train run"
$L sample --model "$T/tr/model.safetensors" --n 64 --out "$T/sa" > /dev/null 2>&1 || bad "sample run"
$L hmc --lattice 8x8 --ntraj 100000 --therm 0 --out "$T/k" > /dev/null 2>&1 & p=$!
for i in $(seq 1 500); do [ -s "$T/k/measurements.csv" ] && break; sleep 0.01; done
sleep 0.2; kill -TERM $p; wait $p
list=$($L runs list --json | tail -1)
py() { /usr/bin/python3 -c "import json,sys; d=json.loads(sys.argv[1]); $1" "$list"; }
n=$(py 'print(sum(1 for r in d["runs"] if r["status"]=="FINISHED"))')
[ "$n" = 4 ] && ok "hmc, heatbath, train, sample: 4 FINISHED runs" || bad "FINISHED runs: $n (want 4): $list"
cmds=$(py 'print(",".join(sorted(r["command"] for r in d["runs"])))')
[ "$cmds" = "heatbath,hmc,hmc,sample,train" ] && ok "commands recorded: $cmds" || bad "commands: $cmds"
k=$(py 'print(sum(1 for r in d["runs"] if r["status"]=="KILLED"))')
[ "$k" = 1 ] && ok "hmc stopped by SIGTERM is KILLED" || bad "KILLED runs: $k (want 1)"
models=$($L runs models --json | tail -1)
/usr/bin/python3 -c "
import json,sys
m=json.loads(sys.argv[1])['models']
assert len(m)==1 and m[0]['theory']=='u1 2d' and m[0]['lattice']=='8x8' and 0<m[0]['ess']<=1, m
" "$models" && ok "runs models lists the trained model (theory, lattice, ESS)" || bad "runs models: $models"
sid=$(py 'print([r["id"] for r in d["runs"] if r["command"]=="sample"][0])')
$L runs show "$sid" > "$T/show.txt" 2>&1
grep -q "model.safetensors" "$T/show.txt" && ok "sample run shows the model it consumed" || bad "sample run does not list its model"
expect_fail "explicit registry that cannot be opened" 1 "cannot open the run registry" -- $L hmc --registry "$T/nodir/x/reg.db" --out "$T/nothere"
rm -f "$T/bad.db"; printf 'not a database, just text\n' > "$T/bad.db"
before=$(sha256sum "$T/bad.db")
expect_fail "foreign file as registry" 1 "not a latflow registry" -- $L hmc --registry "$T/bad.db" --lattice 4x4 --ntraj 2 --out "$T/x2"
[ "$before" = "$(sha256sum "$T/bad.db")" ] && ok "foreign file untouched" || bad "foreign file changed"
finish
