#!/usr/bin/env bash
# Configures and builds the CPU preset into build/ (app at build/bin/ladder-bench). Idempotent.
# Extra arguments go to `cmake --build`, e.g. `--target ladder-bench` for the app alone.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset cpu >/dev/null
cmake --build --preset cpu "$@"
