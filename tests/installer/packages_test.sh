#!/usr/bin/env bash
# The Debian packages (issue #15), built by cpack from a build folder (no compile):
#   tests/installer/packages_test.sh [BUILD_DIR]      (default: build/ci)
# 1. cpack -G DEB; dpkg-deb -c/-I of each package (paths, modes, Depends, conffiles), every
#    ELF file stripped with its symbols in the -dbgsym package, no RUNPATH; lintian (an
#    error fails; the accepted warnings are overridden in installer/debian/*/lintian-overrides);
#    systemd-analyze verify of the units and `security --offline=true --threshold=20`.
# 2. As root (CI: a disposable machine whose PID 1 is not systemd): the same build packaged
#    as VERSION~prev installed with apt-get, the user, group and folders checked, a ledger
#    made and a sale sold as the regulars user, a POS user of group regulars using it;
#    upgrade to VERSION (data kept, db verify ok), downgrade refused, removal with a sync
#    backlog refused, remove keeps the data, purge removes it and keeps the user. Whatever
#    happens, a trap purges the packages and removes what the test added.
# Not root: part 2 is skipped (exit 77 once part 1 passed).
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
build="$(cd "${1:-$root/build/ci}" && pwd)"
version="$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")"
[ -n "$version" ] || { echo "packages_test: no project version in $build/CMakeCache.txt" >&2; exit 1; }
prev="${version}~prev"
arch="$(dpkg --print-architecture)"
packages=(regulars libregulars1 libregulars-dev regulars-hq)
for tool in cpack dpkg-deb dpkg-shlibdeps lintian systemd-analyze file readelf fakeroot; do
  command -v "$tool" >/dev/null || { echo "packages_test: $tool is missing (installer/deps.sh installs it)" >&2; exit 1; }
done

work="$(mktemp -d)"
installed_by_us=0
pos_user=regulars-pos-test
user_existed=0
getent passwd regulars >/dev/null && user_existed=1
cleanup() {
  local rc=$?
  if [ "$installed_by_us" = 1 ]; then
    REGULARS_FORCE_REMOVE=1 dpkg --purge regulars-hq libregulars-dev regulars libregulars1 >/dev/null 2>&1 || true
    getent passwd "$pos_user" >/dev/null && userdel "$pos_user" >/dev/null 2>&1 || true
    # The packages keep the regulars user on purge (checked below); the test leaves the
    # machine as it found it.
    if [ "$user_existed" = 0 ] && getent passwd regulars >/dev/null; then
      userdel regulars >/dev/null 2>&1 || true
      getent group regulars >/dev/null && groupdel regulars >/dev/null 2>&1 || true
    fi
  fi
  rm -rf "$work"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() { echo "packages_test: FAIL: $*" >&2; exit 1; }
step() { echo "--- [${SECONDS}s] $*"; }
deb() { echo "$work/$2/${1}_${2/\~prev/~prev}_${arch}.deb"; }

step "cpack -G DEB in $build: $version and $prev"
# Both at once (2 cores): each installs the components and splits the symbols off.
(cd "$build" && cpack -G DEB -B "$work/$version" >"$work/cpack.log" 2>&1) &
cpack_n=$!
(cd "$build" && cpack -G DEB -B "$work/$prev" -D REGULARS_DEB_VERSION="$prev" >"$work/cpack-prev.log" 2>&1) &
cpack_prev=$!
wait "$cpack_n" || { cat "$work/cpack.log" >&2; fail "cpack -G DEB"; }
wait "$cpack_prev" || { cat "$work/cpack-prev.log" >&2; fail "cpack -G DEB -D REGULARS_DEB_VERSION=$prev"; }
for p in "${packages[@]}"; do
  for v in "$version" "$prev"; do
    [ -f "$work/$v/${p}_${v}_${arch}.deb" ] || fail "no ${p}_${v}_${arch}.deb"
  done
done
N="$work/$version"
P="$work/$prev"

step "dpkg-deb -c/-I: paths, modes, Depends, conffiles"
expect() {  # expect PACKAGE MODE PATH...: each PATH in the package with that mode
  local p="$1" mode="$2"; shift 2
  local list; list="$(dpkg-deb -c "$N/${p}_${version}_${arch}.deb")"
  for path in "$@"; do
    grep -qE "^${mode} root/root +[0-9]+ [0-9-]+ [0-9:]+ \./${path#/}( |$)" <<<"$list" \
      || fail "$p: no $path with mode $mode"
  done
}
multiarch="$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)"
lib="usr/lib/$multiarch"
expect regulars -rwxr-xr-x /usr/bin/regulars
expect regulars -rw-r--r-- /lib/systemd/system/regulars.service /lib/systemd/system/regulars-sync.service \
  /lib/systemd/system/regulars-sync.timer /lib/systemd/system/regulars-backup.service \
  /lib/systemd/system/regulars-backup.timer "/lib/systemd/system/regulars-scanner@.service" \
  /usr/share/doc/regulars/copyright /usr/share/doc/regulars/changelog.gz
expect libregulars1 -rw-r--r-- "/$lib/libregulars.so.$version"
expect libregulars1 lrwxrwxrwx "/$lib/libregulars.so.1"
expect libregulars-dev -rw-r--r-- /usr/include/regulars/regulars.h "/$lib/pkgconfig/regulars.pc"
expect libregulars-dev lrwxrwxrwx "/$lib/libregulars.so"
expect regulars-hq -rwxr-xr-x /usr/bin/regulars-hq /usr/bin/regulars-keys /usr/bin/regulars-provision-pki
expect regulars-hq -rw-r--r-- /lib/systemd/system/regulars-hq.service /etc/default/regulars-hq
for p in "${packages[@]}"; do
  f="$N/${p}_${version}_${arch}.deb"
  # Nothing under /etc but conffiles; nothing under /usr/local.
  ctl="$work/ctl-$p"; dpkg-deb -e "$f" "$ctl"
  while read -r path; do
    grep -qxF "$path" "$ctl/conffiles" 2>/dev/null || fail "$p: $path is under /etc but not a conffile"
  done < <(dpkg-deb -c "$f" | awk '$1 !~ /^d/ {print substr($6, 2)}' | grep '^/etc/' || true)
  dpkg-deb -c "$f" | grep -q ' \./usr/local/' && fail "$p: files under /usr/local"
  [ "$(dpkg-deb -f "$f" Version)" = "$version" ] || fail "$p: Version is not $version"
  [ "$(dpkg-deb -f "$P/${p}_${prev}_${arch}.deb" Version)" = "$prev" ] || fail "$p: Version is not $prev"
done
depends() { dpkg-deb -f "$N/${1}_${version}_${arch}.deb" Depends; }
grep -qF "libregulars1 (= $version)" <<<"$(depends regulars)" || fail "regulars does not depend on libregulars1 (= $version)"
grep -qE '(^|, )libc6 \(>= ' <<<"$(depends regulars)" || fail "regulars: no libc6 in Depends (dpkg-shlibdeps)"
grep -qE '(^|, )libc6 \(>= ' <<<"$(depends libregulars1)" || fail "libregulars1: no libc6 in Depends"
grep -qF "libregulars1 (= $version)" <<<"$(depends libregulars-dev)" || fail "libregulars-dev does not depend on libregulars1"
grep -qE '(^|, )libc6 \(>= ' <<<"$(depends regulars-hq)" || fail "regulars-hq: no libc6 in Depends"
grep -qF 'libregulars1' <<<"$(depends regulars-hq)" && fail "regulars-hq depends on libregulars1 (it links the core statically)"
grep -qxF /etc/default/regulars-hq "$work/ctl-regulars-hq/conffiles" || fail "regulars-hq: /etc/default/regulars-hq is not a conffile"
grep -qx 'activate-noawait ldconfig' "$work/ctl-libregulars1/triggers" || fail "libregulars1: no ldconfig trigger"
grep -q "libregulars 1 libregulars1 (= $version)" "$work/ctl-libregulars1/shlibs" || fail "libregulars1: shlibs"
for s in preinst postinst prerm postrm; do
  [ -x "$work/ctl-regulars/$s" ] || fail "regulars: no $s"
done
grep -qF "ours='$version'" "$work/ctl-regulars/prerm" || fail "regulars prerm: not version $version"
dpkg-deb -e "$P/regulars_${prev}_${arch}.deb" "$work/ctl-prev"
grep -qF "ours='$prev'" "$work/ctl-prev/prerm" || fail "regulars $prev prerm: not version $prev"

step "ELF files: stripped, symbols in -dbgsym, no RUNPATH, SONAME"
tree="$work/root"
mkdir -p "$tree"
for p in "${packages[@]}"; do dpkg-deb -x "$N/${p}_${version}_${arch}.deb" "$tree"; done
dbg="$work/dbgsym"
for p in regulars libregulars1 regulars-hq; do
  d="$N/${p}-dbgsym_${version}_${arch}.ddeb"
  [ -f "$d" ] || fail "no ${p}-dbgsym_${version}_${arch}.ddeb"
  dpkg-deb -x "$d" "$dbg"
done
elves=(usr/bin/regulars usr/bin/regulars-hq usr/bin/regulars-keys "$lib/libregulars.so.$version")
for e in "${elves[@]}"; do
  f="$tree/$e"
  file -b "$f" | grep -q ', stripped' || fail "$e is not stripped: $(file -b "$f")"
  readelf -d "$f" | grep -qE 'RUNPATH|RPATH' && fail "$e has a RUNPATH: $(readelf -d "$f" | grep -E 'RUNPATH|RPATH')"
  id="$(readelf -n "$f" | sed -n 's/.*Build ID: //p')"
  [ -n "$id" ] || fail "$e has no build id"
  [ -s "$dbg/usr/lib/debug/.build-id/${id:0:2}/${id:2}.debug" ] || fail "$e: its symbols are not in a -dbgsym package"
done
readelf -d "$tree/$lib/libregulars.so.$version" | grep -q 'SONAME.*\[libregulars.so.1\]' || fail "SONAME is not libregulars.so.1"

step "lintian (errors fail)"
if ! lintian --fail-on error --tag-display-limit 0 "$N"/*.deb >"$work/lintian.log" 2>&1; then
  grep -v 'running with root privileges' "$work/lintian.log" >&2
  fail "lintian"
fi
grep -v 'running with root privileges' "$work/lintian.log" || true
lintian_lines="$(grep -cE '^[EW]: ' "$work/lintian.log" || true)"
echo "lintian: $lintian_lines errors or warnings"

step "systemd-analyze verify and security --offline=true --threshold=20"
# The units against the unpacked packages (their ExecStart binaries) and this machine's
# own units (sysinit.target and the like).
cp -an /lib/systemd/system/. "$tree/lib/systemd/system/" 2>/dev/null || true
units=(regulars.service regulars-sync.service regulars-sync.timer regulars-backup.service
  regulars-backup.timer regulars-scanner@dev-ttyACM0.service regulars-hq.service)
(cd "$tree/lib/systemd/system" && systemd-analyze verify --root="$tree" "${units[@]}") \
  || fail "systemd-analyze verify"
scores=()
for u in "${units[@]}"; do
  case "$u" in *.timer) continue ;; esac
  out="$(systemd-analyze security --offline=true --root="$tree" --threshold=20 "$u" 2>&1)" \
    || { echo "$out" >&2; fail "systemd-analyze security --threshold=20 $u"; }
  scores+=("$u $(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' <<<"$out")")
done
printf '  exposure: %s\n' "${scores[@]}"

if [ "$(id -u)" -ne 0 ]; then
  echo "packages_test: not root: install, upgrade and removal skipped"
  exit 77
fi

# ---- Part 2: really installed -------------------------------------------------------
for p in "${packages[@]}"; do
  if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'installed'; then
    fail "$p is installed on this machine: this test installs and purges the packages"
  fi
done
[ -e /etc/regulars ] || [ -e /var/lib/regulars ] && fail "/etc/regulars or /var/lib/regulars exists: not ours to purge"
installed_by_us=1
config=/etc/regulars/store.json
db=/var/lib/regulars/ledger.db
as_regulars() { (umask 0007 && runuser -u regulars -- "$@"); }

step "install $prev with dpkg -i"
# (apt-get refuses a local package whose version has a "~": "Internal Error, Pathname to
# install is not absolute"; apt-get is checked with $version at the end.)
debs_prev=(); for p in "${packages[@]}"; do debs_prev+=("$P/${p}_${prev}_${arch}.deb"); done
dpkg -i "${debs_prev[@]}" >"$work/install.log" 2>"$work/install.err" \
  || { cat "$work/install.log" "$work/install.err" >&2; fail "dpkg -i of the $prev packages"; }
[ -s "$work/install.err" ] && { cat "$work/install.err" >&2; fail "the install wrote on stderr"; }
for p in "${packages[@]}"; do
  [ "$(dpkg-query -W -f='${Version}' "$p")" = "$prev" ] || fail "$p $prev is not installed"
done
getent passwd regulars >/dev/null || fail "no regulars user"
getent group regulars >/dev/null || fail "no regulars group"
[ "$(id -gn regulars)" = regulars ] || fail "the regulars user's group is not regulars"
[ "$(stat -c '%a %U:%G' /var/lib/regulars)" = "770 regulars:regulars" ] || fail "/var/lib/regulars: $(stat -c '%a %U:%G' /var/lib/regulars)"
[ "$(stat -c '%a %U:%G' /etc/regulars)" = "750 root:regulars" ] || fail "/etc/regulars: $(stat -c '%a %U:%G' /etc/regulars)"
[ -f /etc/default/regulars-hq ] || fail "no /etc/default/regulars-hq"

step "a till: config with a sync section, db init and a sale as the regulars user"
regulars-provision-pki /etc/regulars/pki ca >/dev/null
regulars-provision-pki /etc/regulars/pki store S001 >/dev/null
chgrp -R regulars /etc/regulars/pki && chmod 0750 /etc/regulars/pki && chmod 0640 /etc/regulars/pki/*
# HQ on a closed port: the sale is recorded, its events wait to be sent (a backlog).
python3 - "$root/config/examples/store.json" >"$config" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["sync"] = {"hq": "127.0.0.1:9", "ca": "pki/ca.pem", "cert": "pki/store-S001.pem",
             "key": "pki/store-S001.key"}
print(json.dumps(c, indent=2))
PY
chown root:regulars "$config" && chmod 0640 "$config"
as_regulars regulars db init --config "$config" --db "$db" >/dev/null || fail "regulars db init"
as_regulars regulars enroll --card 2900000000018 --config "$config" --db "$db" >/dev/null || fail "regulars enroll"
cat >"$work/basket.json" <<JSON
{"pos_txn_id": "S001-T01-000001", "store_id": "S001", "till_id": "T01", "cashier_id": "C07",
 "at": "$(date -u +%Y-%m-%dT%H:%M:%SZ)", "currency": "EUR",
 "identifiers": [{"kind": "card", "value": "2900000000018"}],
 "lines": [{"line": 1, "sku": "3400000000001", "qty": 2, "unit_price": 1290,
            "brand": "Dodo", "categories": ["baby/diapers"]}]}
JSON
chmod 0644 "$work/basket.json"; chmod 0755 "$work"
as_regulars regulars checkout --config "$config" --db "$db" "$work/basket.json" >"$work/receipt.json" \
  || fail "regulars checkout"
grep -q '"pos_txn_id":"S001-T01-000001"' "$work/receipt.json" || fail "receipt: $(cat "$work/receipt.json")"
[ "$(stat -c '%U:%G' "$db")" = "regulars:regulars" ] || fail "$db: $(stat -c '%U:%G' "$db")"
# As regulars.service's ExecStartPre does (SQLite makes it 0644 less the umask, 0640).
grep -qx 'ExecStartPre=-/bin/chmod 0660 /var/lib/regulars/ledger.db' /lib/systemd/system/regulars.service \
  || fail "regulars.service does not make the ledger group-writable"
as_regulars /bin/chmod 0660 "$db"
stat -c '%A' "$db" | grep -q '^-rw-rw----$' || fail "$db is not group read-write: $(stat -c '%A' "$db")"

step "a POS user of group regulars opens the installed ledger"
useradd --system --no-create-home --shell /usr/sbin/nologin --groups regulars "$pos_user"
runuser -u "$pos_user" -- regulars db verify --config "$config" --db "$db" >/dev/null \
  || fail "db verify as $pos_user (group regulars)"
# Through the C ABI, built against libregulars-dev (pkg-config regulars).
if command -v cc >/dev/null; then
  cat >"$work/pos.c" <<'C'
#include <regulars/regulars.h>
#include <stdio.h>
int main(int argc, char **argv) {
  regulars_till *till = NULL;
  char *out = NULL;
  if (argc != 3) return 2;
  if (regulars_open(&till, argv[1], argv[2], &out) != REGULARS_OK) {
    fprintf(stderr, "%s\n", out ? out : "open failed");
    return 1;
  }
  int rc = regulars_enroll(till, "{\"card\": \"2900000000025\"}", &out);
  if (rc != REGULARS_OK) fprintf(stderr, "%s\n", out ? out : "enroll failed");
  regulars_free(out);
  regulars_close(till);
  return rc == REGULARS_OK ? 0 : 1;
}
C
  # shellcheck disable=SC2046
  cc -o "$work/pos" "$work/pos.c" $(pkg-config --cflags --libs regulars) || fail "cc against pkg-config regulars"
  readelf -d "$work/pos" | grep -q 'NEEDED.*libregulars.so.1' || fail "pos does not need libregulars.so.1"
  chmod 0755 "$work/pos"
  (umask 0007 && runuser -u "$pos_user" -- "$work/pos" "$config" "$db") || fail "the C ABI as $pos_user"
fi

step "removal with a sync backlog is refused"
status="$(as_regulars regulars sync status --config "$config" --db "$db")"
grep -qE '"backlog":[1-9]' <<<"$status" || fail "no backlog in sync status: $status"
if dpkg -r regulars >"$work/remove.log" 2>&1; then fail "dpkg -r with a backlog was not refused"; fi
grep -q 'refusing to remove' "$work/remove.log" || { cat "$work/remove.log" >&2; fail "no clear message"; }
# (dpkg leaves the selection at "deinstall": the package stays installed.)
[ "$(dpkg-query -W -f='${db:Status-Status} ${Version}' regulars)" = "installed $prev" ] \
  || fail "regulars after the refused removal: $(dpkg-query -W -f='${Status} ${Version}' regulars)"

step "upgrade $prev -> $version with dpkg -i"
debs=(); for p in "${packages[@]}"; do debs+=("$N/${p}_${version}_${arch}.deb"); done
dpkg -i "${debs[@]}" >"$work/upgrade.log" 2>"$work/upgrade.err" || { cat "$work/upgrade.log" "$work/upgrade.err" >&2; fail "upgrade"; }
[ -s "$work/upgrade.err" ] && { cat "$work/upgrade.err" >&2; fail "the upgrade wrote on stderr"; }
for p in "${packages[@]}"; do
  [ "$(dpkg-query -W -f='${Version}' "$p")" = "$version" ] || fail "$p $version is not installed"
done
as_regulars regulars db verify --config "$config" --db "$db" >/dev/null || fail "db verify after the upgrade"
if regulars help | grep -q 'db backup'; then
  ls /var/lib/regulars/backups/* >/dev/null 2>&1 || fail "no backup made by the upgrade"
  echo "  the upgrade backed the ledger up: $(ls /var/lib/regulars/backups)"
else
  echo "  regulars db backup is not in this build: the upgrade made no backup"
fi
# The upgraded till sells on the same ledger.
sed 's/S001-T01-000001/S001-T01-000002/' "$work/basket.json" >"$work/basket2.json"
chmod 0644 "$work/basket2.json"
as_regulars regulars checkout --config "$config" --db "$db" "$work/basket2.json" >"$work/receipt2.json" \
  || fail "regulars checkout after the upgrade"
grep -q '"have":4' "$work/receipt2.json" || fail "the second sale does not count the first: $(cat "$work/receipt2.json")"

step "downgrade $version -> $prev is refused"
if dpkg -i "$P/regulars_${prev}_${arch}.deb" >"$work/downgrade.log" 2>&1; then fail "the downgrade of regulars was not refused"; fi
grep -q "refusing to downgrade from $version to $prev" "$work/downgrade.log" || { cat "$work/downgrade.log" >&2; fail "no clear message"; }
if dpkg -i "$P/regulars-hq_${prev}_${arch}.deb" >"$work/downgrade-hq.log" 2>&1; then fail "the downgrade of regulars-hq was not refused"; fi
for p in regulars regulars-hq; do
  [ "$(dpkg-query -W -f='${Status} ${Version}' "$p")" = "install ok installed $version" ] \
    || fail "$p after the refused downgrade: $(dpkg-query -W -f='${Status} ${Version}' "$p")"
done
as_regulars regulars db verify --config "$config" --db "$db" >/dev/null || fail "db verify after the refused downgrade"

step "remove keeps the data; purge removes it and keeps the user"
REGULARS_FORCE_REMOVE=1 dpkg -r regulars-hq libregulars-dev regulars libregulars1 >"$work/rm.log" 2>&1 \
  || { cat "$work/rm.log" >&2; fail "dpkg -r"; }
[ -f "$db" ] && [ -f "$config" ] || fail "dpkg -r deleted the ledger or the config"
dpkg -P regulars-hq libregulars-dev regulars libregulars1 >"$work/purge.log" 2>&1 \
  || { cat "$work/purge.log" >&2; fail "dpkg -P"; }
[ -e /var/lib/regulars ] && fail "dpkg -P left /var/lib/regulars"
[ -e /etc/regulars ] && fail "dpkg -P left /etc/regulars"
[ -e /etc/default/regulars-hq ] && fail "dpkg -P left /etc/default/regulars-hq"
getent passwd regulars >/dev/null || fail "dpkg -P deleted the regulars user"

step "apt-get install ./*.deb of $version (noninteractive; nothing to download), then purge"
(cd "$N" && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
   "${debs[@]/#$N/.}" >"$work/apt.log" 2>&1) || { cat "$work/apt.log" >&2; fail "apt-get install ./*.deb"; }
for p in "${packages[@]}"; do
  [ "$(dpkg-query -W -f='${Version}' "$p")" = "$version" ] || fail "apt-get: $p $version is not installed"
done
dpkg -P regulars-hq libregulars-dev regulars libregulars1 >"$work/purge.log" 2>&1 \
  || { cat "$work/purge.log" >&2; fail "dpkg -P"; }
echo "packages_test: all checks passed"
