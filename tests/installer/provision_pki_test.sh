#!/usr/bin/env bash
# installer/provision-pki.sh makes a CA, an HQ server certificate and store client
# certificates that chain to it, with the right purposes, private keys 0600, and refuses
# to overwrite a key or take a bad store id.
set -euo pipefail
script=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$script" "$dir" ca >/dev/null
"$script" "$dir" hq localhost 127.0.0.1 >/dev/null
"$script" "$dir" store S001 >/dev/null
"$script" "$dir" store S002 >/dev/null
openssl verify -CAfile "$dir/ca.pem" -purpose sslserver "$dir/hq.pem" >/dev/null ||
  fail "HQ certificate does not verify as a server"
for s in S001 S002; do
  openssl verify -CAfile "$dir/ca.pem" -purpose sslclient "$dir/store-$s.pem" >/dev/null ||
    fail "store $s certificate does not verify as a client"
  openssl x509 -in "$dir/store-$s.pem" -noout -subject | grep -q "CN = store:$s" ||
    fail "store $s certificate does not name its store"
done
if openssl verify -CAfile "$dir/ca.pem" -purpose sslserver "$dir/store-S001.pem" >/dev/null 2>&1; then
  fail "a store certificate must not serve"
fi
openssl x509 -in "$dir/hq.pem" -noout -ext subjectAltName | grep -q "DNS:localhost" ||
  fail "HQ certificate lacks its DNS name"
for key in "$dir"/*.key; do
  [[ $(stat -c %a "$key") == 600 ]] || fail "$key is not 0600"
done
if "$script" "$dir" store S001 >/dev/null 2>&1; then fail "overwrote a store key"; fi
if "$script" "$dir" store 'bad id' >/dev/null 2>&1; then fail "took a bad store id"; fi
other=$(mktemp -d)
"$script" "$other" ca >/dev/null
"$script" "$other" store S001 >/dev/null
if openssl verify -CAfile "$dir/ca.pem" "$other/store-S001.pem" >/dev/null 2>&1; then
  fail "a certificate from another CA verifies"
fi
rm -rf "$other"
echo "ok"
