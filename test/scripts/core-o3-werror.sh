#!/bin/sh
# Compiles every model/core/**/*.c with gcc at -O3 and the core library's
# warnings as errors (ns-3's release profile builds the core at -O3, where
# gcc's -Wmaybe-uninitialized looks across inlined callers: commit 0f2bc2e,
# radius.c). Compile only (-c -o /dev/null): -fsyntax-only runs no optimizer
# and would miss those warnings. No -fPIC: with it gcc may not inline a
# global function into its callers (it could be interposed), which hid the
# radius.c warnings that an in-tree ns-3 build (no PIC for the core) raised.
# Usage: core-o3-werror.sh GCC SRCDIR [FLAG...]
# (FLAGs: the library's warning options, from CMakeLists.txt's VPN_C_WARN).
set -eu
cc=$1
src=$2
shift 2
jobs=$(nproc 2>/dev/null || echo 2)
list=$(mktemp)
log=$(mktemp)
trap 'rm -f "$list" "$log"' EXIT
(cd "$src" && find model/core -name '*.c' | sort) >"$list"
n=$(wc -l <"$list")
[ "$n" -gt 0 ] || { echo "no sources under $src/model/core" >&2; exit 1; }
# Each compile prints "FAIL file" when it fails; xargs goes on with the rest.
if ! (cd "$src" && xargs -P "$jobs" -I{} sh -c \
        '"$0" -std=c11 -O3 -DNDEBUG "$@" -Imodel/core -c {} -o /dev/null || echo "FAIL {}"' \
        "$cc" "$@" <"$list") >"$log" 2>&1; then
    :
fi
if grep -q '^FAIL ' "$log"; then
    cat "$log"
    echo "core at -O3 -Werror: $(grep -c '^FAIL ' "$log") of $n sources fail" >&2
    exit 1
fi
echo "core at -O3 -Werror: $n sources compile clean ($cc)"
