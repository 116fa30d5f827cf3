#!/usr/bin/env bash
# Makes the chain's private PKI for the nightly sync (docs/sync-protocol.md, "Certificates"):
#   provision-pki.sh DIR ca                     the chain CA (once)
#   provision-pki.sh DIR hq HOSTNAME [IP]       HQ's server certificate, for that name
#   provision-pki.sh DIR store STORE_ID         a store's client certificate
# Everything uses the openssl command line; keys are P-256, written 0600 and never
# overwritten. HQ knows a store by its certificate's CN ("store:S001"), never by a claim
# in a request body.
set -euo pipefail

usage() {
  echo "usage: $0 DIR ca | DIR hq HOSTNAME [IP] | DIR store STORE_ID" >&2
  exit 2
}
[[ $# -ge 2 ]] || usage
dir=$1
what=$2
days_ca=${REGULARS_CA_DAYS:-3650}
days_leaf=${REGULARS_CERT_DAYS:-825}
mkdir -p "$dir"
umask 077

new_key() {
  if [[ -e "$1" ]]; then
    echo "refusing to overwrite $1" >&2
    exit 1
  fi
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null
}

require_ca() {
  [[ -f "$dir/ca.key" && -f "$dir/ca.pem" ]] || {
    echo "no chain CA in $dir: run '$0 $dir ca' first" >&2
    exit 1
  }
}

# Signs $1.csr into $1.pem with the extensions in $2.
sign() {
  openssl x509 -req -in "$1.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
    -days "$days_leaf" -sha256 -extfile "$2" -out "$1.pem" 2>/dev/null
  rm -f "$1.csr" "$2"
  chmod 0644 "$1.pem"
}

case "$what" in
  ca)
    [[ $# -eq 2 ]] || usage
    new_key "$dir/ca.key"
    openssl req -x509 -new -key "$dir/ca.key" -sha256 -days "$days_ca" \
      -subj "/O=Regulars chain/CN=Regulars chain CA" \
      -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
      -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$dir/ca.pem"
    chmod 0644 "$dir/ca.pem"
    echo "$dir/ca.pem"
    ;;
  hq)
    [[ $# -ge 3 && $# -le 4 ]] || usage
    require_ca
    host=$3
    san="DNS:$host"
    [[ $# -eq 4 ]] && san="$san,IP:$4"
    new_key "$dir/hq.key"
    openssl req -new -key "$dir/hq.key" -subj "/O=Regulars chain/CN=$host" -out "$dir/hq.csr"
    ext=$(mktemp)
    printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
      "extendedKeyUsage=serverAuth" "subjectAltName=$san" >"$ext"
    sign "$dir/hq" "$ext"
    echo "$dir/hq.pem"
    ;;
  store)
    [[ $# -eq 3 ]] || usage
    require_ca
    store=$3
    [[ "$store" =~ ^[A-Za-z0-9._-]{1,64}$ ]] || {
      echo "a store id uses only letters, digits, '-', '_' and '.'" >&2
      exit 2
    }
    new_key "$dir/store-$store.key"
    openssl req -new -key "$dir/store-$store.key" -subj "/O=Regulars chain/CN=store:$store" \
      -out "$dir/store-$store.csr"
    ext=$(mktemp)
    printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
      "extendedKeyUsage=clientAuth" >"$ext"
    sign "$dir/store-$store" "$ext"
    echo "$dir/store-$store.pem"
    ;;
  *)
    usage
    ;;
esac
