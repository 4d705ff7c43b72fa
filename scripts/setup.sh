#!/usr/bin/env bash
# Installs everything ladderbench needs on Debian 12 (idempotent: a second run changes nothing).
# System packages are pinned by the Debian 12 release; Python packages in analysis/requirements.txt.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

debian_packages=(
  build-essential cmake ninja-build pkg-config git
  openmpi-bin libopenmpi-dev
  libhdf5-openmpi-dev hdf5-tools
  libtrilinos-kokkos-dev libtrilinos-kokkos-kernels-dev
  libopenblas-dev libhwy-dev
  libcli11-dev nlohmann-json3-dev libgtest-dev
  slurm-wlm munge shellcheck
  clang libclang-rt-dev
)

missing=()
for p in "${debian_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: need root to install Debian packages (${missing[*]})" >&2; exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

python3 -m pip install -q --disable-pip-version-check -r "$here/analysis/requirements.txt"
echo "setup: dependencies present"
