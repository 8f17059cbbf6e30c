#!/bin/sh
# Issue 18: Wireshark 4.0 cannot decrypt ChaCha20-Poly1305 (RFC 7634), so
# for such SAs the trace's decrypted view is written instead of key lines.
# flexvpn-l2l-static with its scenario's configurations moved to
# ChaCha20-Poly1305 (IKE SA and CHILD_SA): the key files claim no key for
# them (esp_sa and ikev2_decryption_table hold no line for the WAN's SPIs),
# and <out>/wan-HUB1.plain.pcap holds the inner packet of every ESP packet
# on HUB1's WAN, which are exactly the echo requests and replies the LAN
# saw (same count, same payloads), nothing malformed. Then the scenario as
# it is (AES): its SAs have key lines, so the plain view stays empty.
# Usage: flexvpn-trace-chacha.sh EXAMPLE_BINARY SCENARIO_DIR WORK_DIR
set -eu
. "$(dirname "$0")/trace-checks.sh"
bin=$1 scen=$2 work=$3
need_tshark
rm -rf "$work"
mkdir -p "$work/cfg"
for r in HUB1 SPOKE1; do
    awk '/^ encryption / { print " encryption chacha20-poly1305"; next }
         /^ integrity / { print " prf sha256"; next }
         /^crypto ipsec transform-set / { print $1, $2, $3, $4, "esp-chacha20-poly1305"; next }
         { print }' "$scen/$r.cfg" >"$work/cfg/$r.cfg"
    grep -q "^ encryption chacha20-poly1305" "$work/cfg/$r.cfg" &&
        grep -q "esp-chacha20-poly1305" "$work/cfg/$r.cfg" ||
        { echo "could not move $r.cfg to ChaCha20-Poly1305" >&2; exit 1; }
done
out=$work/out
"$bin" --out="$out" --configDir="$work/cfg" --duration=2 >"$work/summary.txt"
wan=$out/wan-HUB1-1.pcap plain=$out/wan-HUB1.plain.pcap lan=$out/lan1-hostA-0.pcap
grep -q '"sent": 100, "received": 100' "$out/summary.json" || { echo "the flow was not delivered in full" >&2; exit 1; }
grep -q "ChaCha20-Poly1305" "$out/show-HUB1.txt" || grep -qi "chacha" "$out/show-HUB1.txt" ||
    { echo "HUB1 shows no ChaCha20-Poly1305 SA" >&2; exit 1; }

# The key files claim nothing Wireshark cannot use.
esp=$(tshark -r "$wan" -Y esp -T fields -e frame.number 2>/dev/null | count)
[ "$esp" -gt 0 ] || { echo "no ESP on the WAN" >&2; exit 1; }
for spi in $(tshark -r "$wan" -Y esp -T fields -e esp.spi 2>/dev/null | sort -u); do
    hex=$(printf '0x%08x' "$spi")
    ! grep -qi "\"$hex\"" "$out/wireshark/esp_sa" 2>/dev/null ||
        { echo "esp_sa claims a key for ChaCha20-Poly1305 SA $hex" >&2; exit 1; }
done
for ispi in $(tshark -r "$wan" -Y isakmp -T fields -e isakmp.ispi 2>/dev/null | sort -u); do
    ! grep -qi "^$ispi," "$out/wireshark/ikev2_decryption_table" 2>/dev/null ||
        { echo "ikev2_decryption_table claims keys for ChaCha20-Poly1305 IKE SA $ispi" >&2; exit 1; }
done
echo "key files: no line for the ChaCha20-Poly1305 SAs"

# The plain view: one inner packet per ESP packet, the echo traffic of the LAN.
[ -f "$plain" ] || { echo "no decrypted view $plain" >&2; exit 1; }
inner=$(tshark -r "$plain" -T fields -e frame.number 2>/dev/null | count)
udp=$(tshark -r "$plain" -Y 'udp.port == 4000' -T fields -e frame.number 2>/dev/null | count)
lanudp=$(tshark -r "$lan" -Y 'udp.port == 4000' -T fields -e frame.number 2>/dev/null | count)
bad=$(tshark -r "$plain" -Y '_ws.malformed || _ws.expert.severity >= error' -T fields -e frame.number 2>/dev/null | count)
echo "plain view: $inner packets ($udp echo), WAN: $esp ESP, LAN: $lanudp echo, $bad malformed"
[ "$inner" -eq "$esp" ] || { echo "plain view holds $inner packets for $esp ESP packets" >&2; exit 1; }
[ "$udp" -eq 200 ] && [ "$lanudp" -eq 200 ] || { echo "plain view or LAN lacks the 100 requests and 100 replies" >&2; exit 1; }
[ "$bad" -eq 0 ] || { echo "malformed frames in the plain view" >&2; exit 1; }
tshark -r "$plain" -Y 'udp.port == 4000' -T fields -e ip.src -e ip.dst -e data.data 2>/dev/null | sort >"$work/plain.txt"
tshark -r "$lan" -Y 'udp.port == 4000' -T fields -e ip.src -e ip.dst -e data.data 2>/dev/null | sort >"$work/lan.txt"
cmp -s "$work/plain.txt" "$work/lan.txt" || { echo "plain view and LAN differ" >&2; diff "$work/plain.txt" "$work/lan.txt" | head >&2; exit 1; }
echo "plain view = LAN echo traffic (addresses and payloads)"

# The IKE SA's messages: <out>/wan-HUB1.ike.plain.pcap holds each encrypted
# IKE message of HUB1's WAN once, unencrypted, nothing malformed.
ikep=$out/wan-HUB1.ike.plain.pcap
[ -f "$ikep" ] || { echo "no IKE decrypted view $ikep" >&2; exit 1; }
f='-T fields -e isakmp.ispi -e isakmp.messageid -e isakmp.exchangetype -e isakmp.flag_r'
tshark -r "$wan" -Y 'isakmp && isakmp.exchangetype != 34' $f 2>/dev/null | sort -u >"$work/ike-wire.txt"
tshark -r "$ikep" -Y isakmp $f 2>/dev/null | sort -u >"$work/ike-plain.txt"
ikebad=$(tshark -r "$ikep" -Y '_ws.malformed || _ws.expert.severity >= error || isakmp.typepayload == 46' \
    -T fields -e frame.number 2>/dev/null | count)
ids=$(tshark -r "$ikep" -Y 'isakmp.typepayload == 35 || isakmp.typepayload == 36' -T fields -e frame.number 2>/dev/null | count)
echo "IKE plain view: $(count <"$work/ike-plain.txt") messages for $(count <"$work/ike-wire.txt") encrypted on the WAN, $ids with IDi/IDr, $ikebad malformed or encrypted"
[ -s "$work/ike-wire.txt" ] && cmp -s "$work/ike-wire.txt" "$work/ike-plain.txt" ||
    { echo "IKE plain view and WAN differ" >&2; diff "$work/ike-wire.txt" "$work/ike-plain.txt" | head >&2; exit 1; }
[ "$ids" -eq 2 ] && [ "$ikebad" -eq 0 ] || { echo "IKE plain view: $ids IDi/IDr messages, $ikebad bad" >&2; exit 1; }

# AES SAs have key lines: nothing in the plain view.
"$bin" --out="$work/aes" --configDir="$scen" --duration=2 >/dev/null
[ -s "$work/aes/wireshark/esp_sa" ] || { echo "AES run wrote no esp_sa" >&2; exit 1; }
n=$(tshark -r "$work/aes/wan-HUB1.plain.pcap" -T fields -e frame.number 2>/dev/null | count)
[ "$n" -eq 0 ] || { echo "AES SAs in the plain view ($n packets)" >&2; exit 1; }
n=$(tshark -r "$work/aes/wan-HUB1.ike.plain.pcap" -T fields -e frame.number 2>/dev/null | count)
[ "$n" -eq 0 ] || { echo "AES IKE SAs in the IKE plain view ($n messages)" >&2; exit 1; }
echo "AES run: key lines, empty plain view"
