#!/usr/bin/env bash
# Bad input gives a clear message, a non-zero exit and writes nothing.
. "$(dirname "$0")/lib.sh"
o="$T/out"
expect_fail "unknown group" 2 "unknown gauge group 'so3'" -- $L hmc --group so3 --out "$o"
expect_fail "odd extent" 2 "odd" -- $L hmc --lattice 7x8 --out "$o"
expect_fail "zero extent" 2 "out of range" -- $L heatbath --lattice 0x8 --out "$o"
expect_fail "beta <= 0" 2 "beta" -- $L hmc --beta -1 --out "$o"
expect_fail "beta = 0 heatbath" 2 "beta" -- $L heatbath --beta 0 --out "$o"
expect_fail "non-numeric beta" 2 "expects a finite number, got 'abc'" -- $L hmc --beta abc --out "$o"
expect_fail "non-numeric count" 2 "expects an integer" -- $L hmc --ntraj 1e3x --out "$o"
expect_fail "NaN beta" 2 "finite number" -- $L hmc --beta nan --out "$o"
expect_fail "unknown flag" 2 "unknown option '--betta'" -- $L hmc --betta 2 --out "$o"
expect_fail "missing value" 2 "needs a value" -- $L hmc --out "$o" --beta
expect_fail "unknown integrator" 2 "integrator" -- $L hmc --integrator euler --out "$o"
expect_fail "heatbath with LW" 2 "Wilson" -- $L heatbath --action lw --out "$o"
expect_fail "bad plane coefficients" 2 "plane-coef" -- $L hmc --plane-coef 1,x --out "$o"
expect_fail "unknown command" 2 "unknown command" -- $L hmcc
printf 'beta = 2.5\nbogus = 1\n' > "$T/bad.ini"
expect_fail "unknown key in input file" 2 "unknown key 'bogus'" -- $L hmc --input "$T/bad.ini" --out "$o"
expect_fail "missing input file" 2 "cannot open input file" -- $L hmc --input "$T/none.ini" --out "$o"
expect_fail "resume of a missing run" 2 "no run to resume" -- $L hmc --resume "$T/nothing"
check "nothing was written by the failing commands" test ! -e "$o"
# an INI file sets options, flags override it
printf '[hmc]\nbeta = 1.5\nntraj = 3\ntherm = 1\n' > "$T/good.ini"
$L hmc --input "$T/good.ini" --ntraj 4 --out "$T/ini" --json > "$T/ini.txt" 2>&1
check "input file + flag override" grep -q '"beta":1.5,.*"ntraj":4' "$T/ini.txt"
# an existing run is never overwritten
expect_fail "refuse to overwrite a run" 2 "already holds a run" -- $L hmc --input "$T/good.ini" --out "$T/ini"
check "run.json left intact" grep -q '"ntraj":	4' "$T/ini/run.json"
for c in hmc heatbath measure train sample eval runs report; do
  out=$($L $c --help 2>&1); rc=$?
  if [ $rc -eq 0 ] && printf '%s' "$out" | grep -q "usage"; then ok "$c --help"; else bad "$c --help (exit $rc)"; fi
done
finish
