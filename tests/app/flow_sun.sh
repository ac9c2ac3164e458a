#!/bin/bash
# tests/app/flow_sun.sh -- `latflow train / sample / eval` with SU(N) spectral-flow presets
# (issue #6): a resumed run equals an uninterrupted one bitwise; the log weight of a
# configuration saved by `sample` (forward pass) equals the one `eval` recomputes from the
# ILDG file (inverse pass); bad combinations are refused with a message.
. "$(dirname "$0")/lib.sh"
export LATFLOW_REGISTRY=none
cols() { cut -d, -f1-6 "$1"; }
for p in su2-2d su3-2d; do
  # a constant rate: a cosine schedule depends on --steps, which the first leg changes
  args=(train --preset "$p" --lattice 4x4 --batch 8 --checkpoint-every 3 --lr 1e-3 --lr-min 1e-3)
  "$L" "${args[@]}" --steps 6 --out "$T/$p" > "$T/$p.log" 2>&1 || bad "$p: training failed: $(tail -2 "$T/$p.log")"
  "$L" "${args[@]}" --steps 3 --out "$T/$p.r" > /dev/null 2>&1 &&
    "$L" train --resume "$T/$p.r" --steps 6 > /dev/null 2>&1 || bad "$p: 3 steps + resume failed"
  check "$p: 3 steps + --resume to 6 == 6 steps (metrics)" cmp -s <(cols "$T/$p/metrics.csv") <(cols "$T/$p.r/metrics.csv")
  check "$p: 3 steps + --resume to 6 == 6 steps (model file bitwise)" \
    cmp -s "$T/$p/model.safetensors" "$T/$p.r/model.safetensors"
  check "$p: run.json records the theory" grep -q "\"theory\":.*\"${p%-2d} 2d\"" "$T/$p/run.json"
  "$L" sample --model "$T/$p/model.safetensors" --n 40 --batch 16 --save-every 20 --out "$T/$p.s" \
    --json > "$T/$p.s.log" 2>&1 || bad "$p: sampling failed: $(tail -2 "$T/$p.s.log")"
  check "$p: sample JSON has plaquette, no topological charge" \
    bash -c "tail -1 '$T/$p.s.log' | grep -q '\"plaquette\":{' && ! tail -1 '$T/$p.s.log' | grep -q topological"
  # log w of the state at proposal 39 = that of the last accepted proposal <= 39
  want=$(awk -F, 'NR > 1 && $1 <= 39 && $2 == 1 { w = $3 } END { print w }' "$T/$p.s/chain.csv")
  got=$("$L" eval --model "$T/$p/model.safetensors" "$T/$p.s/cfg_000040.lime" --json | tail -1 |
        sed -n 's/.*"logw":\[\([^]]*\)\].*/\1/p')
  check "$p: eval's log w of cfg_000040 ($got) = the chain's ($want)" \
    awk -v a="$got" -v b="$want" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "" && d < 1e-7 * (1 + (b < 0 ? -b : b))) }'
done
expect_fail "--rect-context with an SU(N) preset" 2 "rect-context" -- \
  "$L" train --preset su2-2d --rect-context --steps 1 --out "$T/x1"
expect_fail "4D lattice for a 2D preset" 2 "give 2 extents" -- \
  "$L" train --preset su3-2d --lattice 4x4x4x4 --steps 1 --out "$T/x2"
expect_fail "unknown preset lists both families" 2 "su3-2d" -- \
  "$L" train --preset su4-2d --steps 1 --out "$T/x3"
expect_fail "unknown --gradient" 2 "unknown gradient estimator" -- \
  "$L" train --preset su2-2d --gradient bogus --steps 1 --out "$T/x4"
expect_fail "negative --clip-grad" 2 "clip-grad >= 0" -- \
  "$L" train --preset u1-tutorial --clip-grad -1 --steps 1 --out "$T/x5"
expect_fail "bad --hidden list" 2 "hidden channel list '8,x'" -- \
  "$L" train --preset u1-best --hidden 8,x --steps 1 --out "$T/x6"
expect_fail "odd --layers" 2 "coupling layers" -- \
  "$L" train --preset u1-tutorial --layers 7 --steps 1 --out "$T/x7"
expect_fail "--layers with --init-from" 2 "architecture comes from the --init-from" -- \
  "$L" train --init-from "$T/su2-2d/model.safetensors" --layers 8 --steps 1 --out "$T/x8"
check "... and no run directory was created for them" \
  bash -c "! ls -d '$T'/x4 '$T'/x5 '$T'/x6 '$T'/x7 '$T'/x8 2>/dev/null | grep -q ."
expect_fail "negative --ess-samples" 2 "ess-samples" -- \
  "$L" train --preset u1-tutorial --ess-samples -1 --steps 1 --out "$T/x9"
"$L" train --preset u1-tutorial --steps 2 --batch 4 --ess-samples 0 --json --out "$T/noess" > "$T/noess.log" 2>&1
check "--ess-samples 0: JSON ess null, cpu_seconds present, metrics.csv has cpu_seconds" \
  bash -c "tail -1 '$T/noess.log' | grep -q '\"ess\":null' && tail -1 '$T/noess.log' | grep -q '\"cpu_seconds\":' && head -1 '$T/noess/metrics.csv' | grep -q ',seconds,cpu_seconds$'"
# architecture overrides reach the model: U(1) and SU(N)
"$L" train --preset u1-spline --layers 4 --hidden 4 --bins 5 --kernel 5 --steps 1 --batch 4 \
  --out "$T/arch1" > /dev/null 2>&1
check "U(1) --layers/--hidden/--bins/--kernel in the model" \
  grep -q 'layers=4 transform=spline K=5 weighted=0 hidden=4 kernel=5' "$T/arch1/run.json"
"$L" train --preset su2-2d --layers 8 --hidden none --bins 3 --steps 1 --batch 4 \
  --out "$T/arch2" > /dev/null 2>&1
check "SU(N) --layers/--hidden/--bins in the model" \
  grep -q 'layers=8 K=3 hidden=none' "$T/arch2/run.json"
sum0=$(cksum < "$T/su2-2d/model.safetensors")
expect_fail "sample --lattice of the wrong dimension" 1 "give 2 extents" -- \
  "$L" sample --model "$T/su2-2d/model.safetensors" --lattice 4x4x4x4 --n 10
check "... and the model file is unchanged" test "$(cksum < "$T/su2-2d/model.safetensors")" = "$sum0"
expect_fail "sample --decompose with an SU(N) model" 1 "U\(1\) flow models only" -- \
  "$L" sample --model "$T/su2-2d/model.safetensors" --decompose auto --n 4
expect_fail "SU(3) configuration under an SU(2) model" 1 "does not match the model" -- \
  "$L" eval --model "$T/su2-2d/model.safetensors" "$T/su3-2d.s/cfg_000020.lime"
finish
