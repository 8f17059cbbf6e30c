#!/bin/sh
# Runs a benchmark in quick mode and checks that it finishes and that its
# last line is metric=value with a positive number. Timings are not judged.
set -eu
out=$(VPN_BENCH_QUICK=1 "$1")
echo "$out"
last=$(printf '%s\n' "$out" | tail -n 1)
echo "$last" | grep -Eq '^[a-z0-9_]+=[0-9]+(\.[0-9]+)?$' || { echo "bad last line: $last" >&2; exit 1; }
value=${last#*=}
awk -v v="$value" 'BEGIN { exit !(v > 0) }' || { echo "metric is not positive: $last" >&2; exit 1; }
