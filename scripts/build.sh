#!/usr/bin/env bash
# Configures and builds the CPU preset into build/ (app at build/bin/ladder-bench). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset cpu >/dev/null
cmake --build --preset cpu
