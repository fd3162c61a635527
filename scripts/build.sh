#!/usr/bin/env bash
# Configures and builds weir. Usage: scripts/build.sh [--sanitize | --pgo] [extra cmake --build args]
#   default     Release build with -Wall -Wextra in build/
#   --sanitize  ASan+UBSan build (RelWithDebInfo) in build-asan/
#   --pgo       Release build in build-pgo/, optimized with a profile of benchmark traffic: an
#               instrumented weir is built, runs scripts/pgo-train.sh, and is rebuilt with the
#               profile (hot code laid out together; 1-4% less CPU per request, bench/RESULTS.md).
#               Builds the weir binary only unless targets are given.
set -euo pipefail
cd "$(dirname "$0")/.."

jobs="${WEIR_JOBS:-$(nproc)}"
build_dir=build
cmake_args=(-DCMAKE_BUILD_TYPE=Release)
case "${1:-}" in
  --sanitize)
    shift
    build_dir=build-asan
    cmake_args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DWEIR_SANITIZE=ON)
    ;;
  --pgo)
    shift
    build_dir=build-pgo
    [ $# -gt 0 ] || set -- --target weir
    # The profile (.gcda next to each object) is only valid for the objects of this build
    # directory, so both steps configure the same directory with different flags.
    cmake -S . -B "$build_dir" -G Ninja "${cmake_args[@]}" \
      -DCMAKE_CXX_FLAGS="-fprofile-generate -fprofile-update=atomic" >/dev/null
    cmake --build "$build_dir" -j "$jobs" --target weir
    find "$build_dir" -name '*.gcda' -delete
    scripts/pgo-train.sh "$build_dir/weir"
    # Partial training: code the run did not reach is optimized as usual, not as never-run.
    cmake_args+=(-DCMAKE_CXX_FLAGS="-fprofile-use -fprofile-partial-training -Wno-missing-profile")
    ;;
esac

cmake -S . -B "$build_dir" -G Ninja "${cmake_args[@]}" >/dev/null
cmake --build "$build_dir" -j "$jobs" "$@"
