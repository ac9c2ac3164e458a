#!/usr/bin/env bash
# Install what is missing, build latflow, run the main job on its built-in default.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"
exec ./build/latflow hmc "$@"
