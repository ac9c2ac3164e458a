#!/usr/bin/env bash
# Install what is missing, build latflow, run the main job on its built-in default:
# train the u1-tutorial flow (2D U(1), 8x8, beta 2; about 20 s on 2 cores), then sample
# from it with the exact independence-Metropolis correction and compare the plaquette with
# the exact value. Extra arguments go to `latflow train`. Output: a fresh out/default-* dir.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"
out="out/default-$(date +%Y%m%d-%H%M%S)"
./build/latflow train --preset u1-tutorial --out "$out/train" "$@"
exec ./build/latflow sample --model "$out/train/model.safetensors" --n 20000 --out "$out/sample"
