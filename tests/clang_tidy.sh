#!/usr/bin/env bash
# Runs clang-tidy (the checks in .clang-tidy) over every product source in plugin/, sync/
# and pos-adapters/ that the given build folder compiles, one file per core at a time.
# Prints each finding and fails when there is one. Usage: tests/clang_tidy.sh build/ci
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:?usage: tests/clang_tidy.sh BUILD_DIR}"
root="$(pwd)"
files="$(mktemp)"
out="$(mktemp)"
trap 'rm -f "$files" "$out"' EXIT
python3 - "$build/compile_commands.json" "$root" >"$files" <<'PY'
import json, sys
root = sys.argv[2] + "/"
seen = set()
for entry in json.load(open(sys.argv[1])):
    f = entry["file"]
    if f.startswith(root) and f[len(root):].split("/")[0] in ("plugin", "sync", "pos-adapters"):
        seen.add(f)
print("\n".join(sorted(seen)))
PY
count="$(wc -l <"$files")"
echo "clang-tidy: $count files"
status=0
xargs -P "$(nproc)" -n 1 clang-tidy -p "$build" --quiet <"$files" >"$out" 2>/dev/null || status=1
if [ "$status" -ne 0 ] || grep -q "error:\|warning:" "$out"; then
  grep -E "(error|warning):" "$out" | sed "s#^$root/##" | sort -u
  echo "clang-tidy: findings (see above)"
  exit 1
fi
echo "clang-tidy: no findings in $count files"
