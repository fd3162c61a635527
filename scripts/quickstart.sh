#!/usr/bin/env bash
# Quick start, step 1 of 2: install what is missing, build, and run the quickstart proxy config.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
echo "quickstart: gateway on http://localhost:9080 (90/10 between v1 and v2), admin on http://localhost:9901; Ctrl-C stops it"
exec build/weir -c configs/quickstart.yaml
