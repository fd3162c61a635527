#!/usr/bin/env bash
# Quick start, step 1 of 2: install what is missing, build, and run the quickstart proxy config.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
exec build/weir --mode validate -c configs/quickstart.yaml
