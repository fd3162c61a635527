#!/usr/bin/env bash
# Configures and builds weir. Usage: scripts/build.sh [--sanitize] [extra cmake --build args]
#   default     Release build with -Wall -Wextra in build/
#   --sanitize  ASan+UBSan build (RelWithDebInfo) in build-asan/
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=build
cmake_args=(-DCMAKE_BUILD_TYPE=Release)
if [ "${1:-}" = "--sanitize" ]; then
  shift
  build_dir=build-asan
  cmake_args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DWEIR_SANITIZE=ON)
fi

jobs="${WEIR_JOBS:-$(nproc)}"
cmake -S . -B "$build_dir" -G Ninja "${cmake_args[@]}" >/dev/null
cmake --build "$build_dir" -j "$jobs" "$@"
