#!/usr/bin/env bash
# The main job: installs what is missing, builds, and runs `regulars demo`, a day at one
# store on a fresh SQLite ledger, ending with the nightly sync to a local `regulars-hq`
# over mutual TLS on loopback (certificates made by provision-pki.sh in a temporary
# folder); then shows what HQ received. Last, a till served over HTTP (`regulars serve`
# on loopback with a bearer token): a customer enrolled, two visits, the fifth pack free
# on the second, and the service's metrics. Extra arguments go to the demo (for example
# --db FILE --keep to look at the ledger afterwards).
set -euo pipefail
cd "$(dirname "$0")/.."
source installer/deps.sh

cmake --preset default >/dev/null
cmake --build --preset default --target regulars_cli regulars_hq -j "$(nproc)"
bin=./build/default

work="$(mktemp -d)"
hq_pid=""
serve_pid=""
cleanup() {
  for pid in $hq_pid $serve_pid; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

# wait_for_port PORT_FILE LOG NAME: waits up to 10 s for a server to write its port.
wait_for_port() {
  for _ in $(seq 100); do [[ -s "$1" ]] && return 0; sleep 0.1; done
  cat "$2" >&2
  echo "$3 did not start" >&2
  exit 1
}

./installer/provision-pki.sh "$work/pki" ca >/dev/null
./installer/provision-pki.sh "$work/pki" hq localhost 127.0.0.1 >/dev/null
./installer/provision-pki.sh "$work/pki" store S001 >/dev/null
"$bin/sync/regulars-hq" db init --db "$work/hq.sqlite" >/dev/null
"$bin/sync/regulars-hq" serve --db "$work/hq.sqlite" --listen 127.0.0.1:0 \
  --ca "$work/pki/ca.pem" --cert "$work/pki/hq.pem" --key "$work/pki/hq.key" \
  --port-file "$work/hq.port" >"$work/hq.log" 2>&1 &
hq_pid=$!
wait_for_port "$work/hq.port" "$work/hq.log" regulars-hq

"$bin/pos-adapters/cli/regulars" demo --hq "127.0.0.1:$(cat "$work/hq.port")" --pki "$work/pki" "$@"

echo
echo "== What HQ received (regulars-hq export --format csv --table purchases) =="
"$bin/sync/regulars-hq" export --db "$work/hq.sqlite" --since 0 --format csv --table purchases \
  2>/dev/null | cut -d, -f2-3,6-8,10-14
"$bin/sync/regulars-hq" status --db "$work/hq.sqlite"

echo
echo "== The same till over HTTP: regulars serve on 127.0.0.1, a bearer token =="
token="$(openssl rand -hex 32)"
# The demo store's config with an http section (the token is the secret's hex text).
sed '1s/^{/{"http": {"listen": "127.0.0.1", "token": {"secret_hex": "'"$token"'"}},/' \
  config/examples/demo-store.json >"$work/http-store.json"
"$bin/pos-adapters/cli/regulars" db init --config "$work/http-store.json" --db "$work/http-ledger.sqlite" >/dev/null
"$bin/pos-adapters/cli/regulars" serve --config "$work/http-store.json" --db "$work/http-ledger.sqlite" --port 0 \
  --port-file "$work/http.port" >"$work/serve.log" 2>&1 &
serve_pid=$!
wait_for_port "$work/http.port" "$work/serve.log" "regulars serve"
base="http://127.0.0.1:$(cat "$work/http.port")"
post() {  # post PATH JSON: prints the answer, fails on an HTTP error
  curl -sS --fail-with-body -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' --data-binary "$2" "$base$1"
}
basket() {  # basket TXN PACKS: Camille's basket with PACKS packs of diapers
  echo '{"pos_txn_id": "'"$1"'", "store_id": "S001", "till_id": "T01", "cashier_id": "C07",
    "at": "'"$(date -u +%Y-%m-%dT%H:%M:%SZ)"'", "currency": "EUR",
    "identifiers": [{"kind": "card", "value": "2900000000018"}],
    "lines": [{"line": 1, "sku": "3400000000001", "qty": '"$2"', "unit_price": 1299}]}'
}
echo "GET /healthz: $(curl -sS "$base/healthz")"
echo "GET /v1/panel without the token: HTTP $(curl -s -o /dev/null -w '%{http_code}' "$base/v1/panel")"
echo "POST /v1/enroll: $(post /v1/enroll '{"card": "2900000000018", "first_name": "Camille"}')"
totals() { grep -oE '"total_(gross|discount|net)":-?[0-9]+' | paste -sd ' ' || true; }
echo "POST /v1/commit, visit 1, 3 packs at 12.99: $(post /v1/commit "$(basket WEB-1 3)" | totals)"
echo "POST /v1/evaluate, visit 2, 2 packs (what the panel shows the cashier):"
post /v1/evaluate "$(basket WEB-2 2)" |
  grep -oE '"(first_name|en)":"[^"]*"' | sed 's/^/  /' | head -4 || true
echo "POST /v1/commit, visit 2: $(post /v1/commit "$(basket WEB-2 2)" | totals)"
echo "GET /metrics (excerpt):"
curl -sS -H "Authorization: Bearer $token" "$base/metrics" |
  grep -E '^regulars_(commits_total|http_requests_total)' | head -6 || true
echo "(The cashier panel is served at /panel/ too: docs/http-service.md. The service stops now.)"
