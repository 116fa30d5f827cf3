#!/usr/bin/env bash
# Installs the Debian 12 packages Regulars builds with, when any is missing (and those the
# package checks use: lintian, dpkg-dev for dpkg-shlibdeps, fakeroot, file, systemd for
# systemd-analyze, adduser for the packages' postinst).
# Sourced by quickstart.sh and test.sh; safe to run again (does nothing when all are there).
set -euo pipefail

REGULARS_PACKAGES=(
  cmake ninja-build g++ pkg-config ccache clang-format clang-tidy sqlite3 clang libclang-rt-14-dev
  libboost1.81-dev libsqlite3-dev libssl-dev openssl libzxing-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev libstb-dev libpq-dev postgresql-15
  libpugixml-dev curl lld
  lintian dpkg-dev fakeroot file systemd adduser
)

# apt-get install of the packages given, through sudo when not root.
regulars_apt_install() {
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    sudo=(sudo)
  fi
  "${sudo[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "$@"
}

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
  regulars_apt_install "${missing[@]}"
}

# The cashier panel's browser test (tests/browser): Debian's chromium, Node.js and the
# playwright-core pinned by tests/browser/package-lock.json. Node may come from another
# repository (NodeSource's nodejs holds npm), so it is looked for as a command, not a package.
regulars_install_browser_test() {
  local missing=()
  if ! dpkg-query -W -f='${Status}' chromium 2>/dev/null | grep -q "install ok installed"; then
    missing+=(chromium)
  fi
  command -v node >/dev/null || missing+=(nodejs)
  command -v npm >/dev/null || missing+=(npm)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "Installing missing packages for the browser test: ${missing[*]}"
    regulars_apt_install "${missing[@]}"
  fi
  # playwright-core 1.65 wants Node 20 or later; Debian 12's own nodejs is 18.
  if ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)'; then
    echo "warning: Node.js $(node --version) is older than 20: the browser test may fail" >&2
  fi
  # Only the driver comes from npm; the browser is Debian's (never `playwright install`).
  if [ ! -d tests/browser/node_modules/playwright-core ]; then
    npm ci --prefix tests/browser --no-audit --no-fund
  fi
}

regulars_install_missing
