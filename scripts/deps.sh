#!/usr/bin/env bash
# Install the Debian packages latflow needs, only those that are missing.
# Usage: scripts/deps.sh [build|test]   (test adds what the test suite needs)
set -euo pipefail
want=(build-essential cmake pkg-config zlib1g-dev libcjson-dev libinih-dev libsqlite3-dev
      libpq-dev libopenblas-dev openmpi-bin libopenmpi-dev)
if [ "${1:-build}" = test ]; then
  # independent readers for file-format tests, clang for the fuzz harness, a real
  # PostgreSQL server for the registry tests, headless Chromium for the report test
  want+=(python3 python3-numpy clang libclang-rt-dev postgresql chromium fonts-dejavu-core)
fi
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "latflow: installing Debian packages: ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
