#!/usr/bin/env bash
# Quick start, step 2 of 2: install what is missing, build, and run the whole test suite.
# Usage: scripts/test.sh [--sanitize]   (--sanitize: the same suite under ASan+UBSan)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
build_dir=build
if [ "${1:-}" = "--sanitize" ]; then build_dir=build-asan; fi
scripts/build.sh "$@"
cd "$build_dir"
exec ctest --output-on-failure -j "${WEIR_JOBS:-$(nproc)}"
