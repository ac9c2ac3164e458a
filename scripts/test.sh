#!/usr/bin/env bash
# Install what is missing, build latflow (Release and ASan+UBSan), run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh test
jobs=$(nproc)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$jobs"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DLATFLOW_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs"
echo "== Release build: full suite"
(cd build && ctest --output-on-failure -j"$jobs")
echo "== ASan+UBSan build: fast tests"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j"$jobs" -L fast)
