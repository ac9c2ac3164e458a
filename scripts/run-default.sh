#!/usr/bin/env bash
# Install what is missing, build latflow, run the main job on its built-in default:
# a 2D U(1) HMC run (8x8, beta 2) whose plaquette is printed next to the exact value.
# Extra arguments are passed to `latflow hmc`. Output goes to a fresh directory.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"
out="out/default-$(date +%Y%m%d-%H%M%S)"
exec ./build/latflow hmc --out "$out" "$@"
