#!/usr/bin/env bash
# Quick start, step 2 of 2: install what is missing, build, and run the whole test suite: first
# the Release build, then the same suite built with AddressSanitizer + UndefinedBehaviorSanitizer.
# Usage: scripts/test.sh [--release-only | --sanitize-only]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

run_suite() {  # run_suite <build dir> [build.sh flags]
  local dir="$1"
  shift
  scripts/build.sh "$@"
  (cd "$dir" && ctest --output-on-failure -j "${WEIR_JOBS:-$(nproc)}")
}

case "${1:-}" in
  --release-only) run_suite build ;;
  --sanitize-only) run_suite build-asan --sanitize ;;
  "") run_suite build && run_suite build-asan --sanitize ;;
  *) echo "usage: scripts/test.sh [--release-only | --sanitize-only]" >&2; exit 2 ;;
esac
