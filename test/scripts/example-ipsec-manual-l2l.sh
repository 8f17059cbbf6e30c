#!/bin/sh
# The manually keyed example end to end, checked with tshark: only ESP on
# the WAN; with wireshark/esp_sa every packet decrypts, none is malformed,
# and the inner payloads equal the LAN's; identical reruns.
# Usage: example-ipsec-manual-l2l.sh EXAMPLE_BINARY WORK_DIR MODE TRANSFORM
set -eu
. "$(dirname "$0")/trace-checks.sh"
bin=$1 work=$2 mode=$3 transform=$4
need_tshark
rm -rf "$work"
mkdir -p "$work"
out=$work/a
"$bin" --out="$out" --mode="$mode" --transform="$transform" --duration=2
[ -s "$out/wireshark/esp_sa" ] || { echo "no esp_sa written" >&2; exit 1; }
check_wan_protected "$out/wan-GW1-1.pcap"
ike=$(tshark -r "$out/wan-GW1-1.pcap" -Y isakmp -T fields -e frame.number 2>/dev/null | count)
[ "$ike" -eq 0 ] || { echo "manual keying sent IKE" >&2; exit 1; }
check_decrypts "$out" "$out/wan-GW1-1.pcap"
check_payloads_match "$out" "$out/wan-GW1-1.pcap" "$out/lan1-hostA-0.pcap" 4000 "$work"
"$bin" --out="$work/b" --mode="$mode" --transform="$transform" --duration=2 >/dev/null
check_identical "$out" "$work/b" wan-GW1-1.pcap lan1-hostA-0.pcap tunnel0-gw1.pcap wireshark/esp_sa
