#!/usr/bin/env bash
# Installs the Debian 12 packages Regulars builds with, when any is missing.
# Sourced by quickstart.sh and test.sh; safe to run again (does nothing when all are there).
set -euo pipefail

REGULARS_PACKAGES=(
  cmake ninja-build g++ pkg-config ccache clang-format sqlite3 clang libclang-rt-14-dev
  libboost1.81-dev libsqlite3-dev libssl-dev openssl libzxing-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev libstb-dev libpq-dev postgresql-15
  libpugixml-dev
)

regulars_install_missing() {
  local missing=()
  for p in "${REGULARS_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$p")
    fi
  done
  if [ ${#missing[@]} -eq 0 ]; then
    return 0
  fi
  echo "Installing missing packages: ${missing[*]}"
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    sudo=(sudo)
  fi
  "${sudo[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends \
    "${missing[@]}"
}

regulars_install_missing
