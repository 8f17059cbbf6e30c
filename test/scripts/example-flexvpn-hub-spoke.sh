#!/bin/sh
# flexvpn-hub-spoke with 3 spokes: every IKE SA and CHILD_SA comes up,
# every flow (spoke to hub and spoke to spoke through the hub) is delivered
# in full, the hub's WAN carries only IKE and ESP and decrypts with the
# written keys, and spoke-to-spoke takes two provider crossings.
# Usage: example-flexvpn-hub-spoke.sh EXAMPLE_BINARY WORK_DIR
set -eu
. "$(dirname "$0")/trace-checks.sh"
bin=$1 work=$2
need_tshark
rm -rf "$work"
mkdir -p "$work"
out=$work/a
"$bin" --out="$out" --spokes=3 --duration=2 --providerDelay=10ms
grep -q '"ike_sas_up_all_routers": 6' "$out/summary.json" || { echo "not every IKE SA came up" >&2; exit 1; }
grep -q '"child_sas_all_routers": 6' "$out/summary.json" || { echo "not every CHILD_SA came up" >&2; exit 1; }
flows=$(grep -c '"sent": 100, "received": 100' "$out/summary.json")
[ "$flows" -eq 12 ] || { echo "only $flows of 12 flows delivered in full" >&2; exit 1; }
grep -q '"within_budget": false' "$out/summary.json" && { echo "a flow is over its delay budget" >&2; exit 1; }
# Spoke to spoke crosses the provider twice (10 ms each), spoke to hub once.
awk '/10\.1\.0\.2:[0-9]+ -> 10\.2\.0\.2/ { split($0, a, "mean delay "); d = a[2] + 0; exit !(d > 20 && d < 25) }' \
    "$out/summary.txt" || { echo "spoke-to-spoke delay is not two provider crossings" >&2; exit 1; }
echo "3 spokes: all SAs up, 12 flows delivered, spoke-to-spoke through the hub"
check_wan_protected "$out/wan-HUB-0.pcap"
check_decrypts "$out" "$out/wan-HUB-0.pcap"
