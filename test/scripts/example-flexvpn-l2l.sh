#!/bin/sh
# flexvpn-l2l-static / -dynamic end to end, checked with tshark: the WAN
# carries only IKEv2 and ESP; with the written key files the IKE_AUTH
# exchange decrypts (IDi, IDr, AUTH, SA and TS visible) and every ESP packet
# decrypts to its inner packet, none malformed; the show snapshots report
# the SAs; with "dynamic", RIP learned each far LAN via the tunnel; and the
# same seed and run give byte-identical pcaps.
# Usage: example-flexvpn-l2l.sh EXAMPLE_BINARY WORK_DIR [dynamic]
set -eu
. "$(dirname "$0")/trace-checks.sh"
bin=$1 work=$2 kind=${3:-static}
need_tshark
rm -rf "$work"
mkdir -p "$work"
out=$work/a
"$bin" --out="$out" --duration=2
wan=$out/wan-HUB1-1.pcap
for f in wireshark/esp_sa wireshark/ikev2_decryption_table show-HUB1.txt show-SPOKE1.txt HUB1.cfg SPOKE1.cfg; do
    [ -s "$out/$f" ] || { echo "missing output $f" >&2; exit 1; }
done
check_wan_protected "$wan"
ts_keys "$out" -r "$wan" -Y 'isakmp.exchangetype == 35' -V >"$work/ike-auth.txt"
# Payload lines (not "Next payload" fields) appear only once SK is decrypted.
for want in "Payload: Identification - Initiator" "Payload: Identification - Responder" \
    "Payload: Authentication" "Payload: Security Association" \
    "Payload: Traffic Selector - Initiator" "Payload: Traffic Selector - Responder"; do
    grep -q "$want" "$work/ike-auth.txt" || { echo "decrypted IKE_AUTH lacks '$want'" >&2; exit 1; }
done
echo "IKE_AUTH decrypts: IDi, IDr, AUTH, SA, TSi, TSr visible"
check_decrypts "$out" "$wan"
check_payloads_match "$out" "$wan" "$out/lan1-hostA-0.pcap" 4000 "$work"
grep -q "READY" "$out/show-HUB1.txt" || { echo "HUB1 shows no READY IKEv2 SA" >&2; exit 1; }
grep -q "permit 47 host 198.51.100.1 host 192.0.2.2" "$out/show-HUB1.txt" || { echo "HUB1 shows no GRE flow" >&2; exit 1; }
grep -q '"sent": 100, "received": 100' "$out/summary.json" || { echo "the flow was not delivered in full" >&2; exit 1; }
if [ "$kind" = dynamic ]; then
    # The RIP table: the far LAN learned from the tunnel peer, on the tunnel
    # interface (ns-3 interface 3: loopback, LAN, WAN, Tunnel0).
    grep -A6 "RIP table" "$out/routes-HUB1.txt" | grep -Eq '^10\.2\.0\.0 +172\.16\.0\.2 +255\.255\.255\.0 +UGS +2 .* 3$' ||
        { echo "HUB1 did not learn 10.2.0.0/24 via Tunnel0" >&2; cat "$out/routes-HUB1.txt" >&2; exit 1; }
    grep -A6 "RIP table" "$out/routes-SPOKE1.txt" | grep -Eq '^10\.1\.0\.0 +172\.16\.0\.1 +255\.255\.255\.0 +UGS +2 .* 3$' ||
        { echo "SPOKE1 did not learn 10.1.0.0/24 via Tunnel0" >&2; cat "$out/routes-SPOKE1.txt" >&2; exit 1; }
    echo "RIP learned each far LAN via Tunnel0"
fi
"$bin" --out="$work/b" --duration=2 >/dev/null
check_identical "$out" "$work/b" wan-HUB1-1.pcap lan1-hostA-0.pcap tunnel0-hub1.pcap \
    wireshark/esp_sa wireshark/ikev2_decryption_table
