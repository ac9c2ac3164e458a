# tests/app/lib.sh -- helpers for the CLI tests: each check prints ok/FAIL with what it
# compared; finish() exits non-zero if any check failed.
set -u
: "${LATFLOW_BIN:?LATFLOW_BIN must point to the latflow executable}"
L="$LATFLOW_BIN"
fails=0
checks=0
T=$(mktemp -d /tmp/lf_app_XXXXXX)
trap 'rm -rf "$T"' EXIT
export LATFLOW_REGISTRY="$T/registry.db"
ok() { checks=$((checks + 1)); echo "ok   $*"; }
bad() { checks=$((checks + 1)); fails=$((fails + 1)); echo "FAIL $*"; }
check() { # check "what" command...
  local what=$1; shift
  if "$@"; then ok "$what"; else bad "$what"; fi
}
# expect_fail "what" expected_rc pattern -- command...: exit code, message on stderr
expect_fail() {
  local what=$1 want=$2 pat=$3; shift 4
  local err rc
  err=$("$@" 2>&1 >/dev/null); rc=$?
  if [ "$rc" -eq "$want" ] && printf '%s' "$err" | grep -qiE -- "$pat"; then
    ok "$what (exit $rc: $(printf '%s' "$err" | head -1))"
  else
    bad "$what: exit $rc (want $want), stderr: $err"
  fi
}
finish() { echo "$checks checks, $fails failed"; [ "$fails" -eq 0 ]; }
