#!/bin/sh
# Short libFuzzer run for ctest: a fixed seed, the committed seed corpus, and a
# time budget (VPN_FUZZ_SECONDS, default 15). Fails on any crash or sanitizer
# report. Usage: run-fuzzer.sh BINARY SEED_CORPUS_DIR WORK_CORPUS_DIR
set -eu
bin=$1 seeds=$2 work=$3
mkdir -p "$work"
[ -d "$seeds" ] || { echo "missing seed corpus $seeds" >&2; exit 1; }
exec "$bin" -seed=1 -max_total_time="${VPN_FUZZ_SECONDS:-15}" -print_final_stats=1 \
    -artifact_prefix="$work/" "$work" "$seeds"
