#!/usr/bin/env bash
# The main job: installs what is missing, builds, and runs `regulars demo`, a day at one
# store on a fresh SQLite ledger, ending with the nightly sync to a local `regulars-hq`
# over mutual TLS on loopback (certificates made by provision-pki.sh in a temporary
# folder); then shows what HQ received. Extra arguments go to the demo (for example
# --db FILE --keep to look at the ledger afterwards).
set -euo pipefail
cd "$(dirname "$0")/.."
source installer/deps.sh

cmake --preset default >/dev/null
cmake --build --preset default --target regulars_cli regulars_hq -j "$(nproc)"
bin=./build/default

work="$(mktemp -d)"
hq_pid=""
cleanup() {
  if [[ -n "$hq_pid" ]]; then kill "$hq_pid" 2>/dev/null || true; wait "$hq_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

./installer/provision-pki.sh "$work/pki" ca >/dev/null
./installer/provision-pki.sh "$work/pki" hq localhost 127.0.0.1 >/dev/null
./installer/provision-pki.sh "$work/pki" store S001 >/dev/null
"$bin/sync/regulars-hq" serve --db "$work/hq.sqlite" --listen 127.0.0.1:0 \
  --ca "$work/pki/ca.pem" --cert "$work/pki/hq.pem" --key "$work/pki/hq.key" \
  --port-file "$work/hq.port" >"$work/hq.log" 2>&1 &
hq_pid=$!
for _ in $(seq 100); do [[ -s "$work/hq.port" ]] && break; sleep 0.1; done
if [[ ! -s "$work/hq.port" ]]; then
  cat "$work/hq.log" >&2
  echo "regulars-hq did not start" >&2
  exit 1
fi

"$bin/pos-adapters/cli/regulars" demo --hq "127.0.0.1:$(cat "$work/hq.port")" --pki "$work/pki" "$@"

echo
echo "== What HQ received (regulars-hq export --format csv --table purchases) =="
"$bin/sync/regulars-hq" export --db "$work/hq.sqlite" --since 0 --format csv --table purchases \
  2>/dev/null | cut -d, -f2-3,6-8,10-14
"$bin/sync/regulars-hq" status --db "$work/hq.sqlite"
