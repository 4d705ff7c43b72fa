#!/usr/bin/env bash
# Every test: installs dependencies, builds, runs ctest (C++ unit and MPI tests at np 1/2/4, app
# end-to-end tests, and the Python suites).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
ctest --preset cpu -j 2
