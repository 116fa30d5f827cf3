#!/usr/bin/env bash
# The main job: installs what is missing, builds, and runs `regulars demo`, a day at one
# store on a fresh SQLite ledger in a temporary folder. Extra arguments go to the demo
# (for example --db FILE --keep to look at the ledger afterwards).
set -euo pipefail
cd "$(dirname "$0")/.."
source installer/deps.sh

cmake --preset default >/dev/null
cmake --build --preset default --target regulars_cli -j "$(nproc)"
exec ./build/default/pos-adapters/cli/regulars demo "$@"
