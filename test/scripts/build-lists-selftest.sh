#!/bin/sh
# The drift check must catch drift: remove one source from a copy of wscript
# and expect build-lists.py to fail naming it.
set -eu
src=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for d in model helper examples test; do
    [ -e "$src/$d" ] && ln -s "$src/$d" "$tmp/$d"
done
cp "$src/CMakeLists.txt" "$tmp/"
grep -v "'model/core/common/wire.c'," "$src/wscript" >"$tmp/wscript"
if out=$(python3 "$src/test/scripts/build-lists.py" "$tmp"); then
    echo "drift not detected" >&2
    exit 1
fi
echo "$out"
echo "$out" | grep -q "VPN_CORE_SOURCES differs.*model/core/common/wire.c" || { echo "wrong message" >&2; exit 1; }
echo "drift detected as expected"
