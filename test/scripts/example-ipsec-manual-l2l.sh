#!/bin/sh
# The default example end to end, checked with tshark:
#  - the WAN capture holds only ESP (nothing readable without keys);
#  - with the written wireshark/esp_sa every ESP packet decrypts, none is
#    malformed, and the decrypted inner UDP payloads equal what the LAN
#    capture shows, packet for packet;
#  - the same seed and run give byte-identical pcaps.
# Usage: example-ipsec-manual-l2l.sh EXAMPLE_BINARY WORK_DIR MODE TRANSFORM
set -eu
bin=$1 work=$2 mode=$3 transform=$4
command -v tshark >/dev/null || { echo "tshark is missing (apt-get install tshark)" >&2; exit 1; }
out=$work/$mode-a
rm -rf "$work"
mkdir -p "$work"
"$bin" --out="$out" --mode="$mode" --transform="$transform" --duration=2 >"$work/stdout.txt"
cat "$work/stdout.txt"
wan=$out/wan-GW1-1.pcap
lan=$out/lan1-hostA-0.pcap
[ -s "$out/wireshark/esp_sa" ] || { echo "no esp_sa written" >&2; exit 1; }

# Without keys: every frame on the WAN is ESP and nothing inside is visible.
total=$(tshark -r "$wan" -T fields -e frame.number 2>/dev/null | wc -l)
esp=$(tshark -r "$wan" -Y esp -T fields -e frame.number 2>/dev/null | wc -l)
clear_udp=$(tshark -r "$wan" -Y udp -T fields -e frame.number 2>/dev/null | wc -l)
echo "WAN: $total frames, $esp ESP, $clear_udp readable UDP without keys"
[ "$total" -gt 0 ] && [ "$total" -eq "$esp" ] && [ "$clear_udp" -eq 0 ] || { echo "WAN carries something other than ESP" >&2; exit 1; }

# With keys: everything decrypts, nothing is malformed.
ts() { XDG_CONFIG_HOME=$out tshark -o esp.enable_encryption_decode:TRUE "$@" 2>/dev/null; }
malformed=$(ts -r "$wan" -Y '_ws.malformed || _ws.expert.severity >= error' -T fields -e frame.number | wc -l)
decrypted=$(ts -r "$wan" -Y 'esp && udp' -T fields -e frame.number | wc -l)
echo "with keys: $decrypted of $esp ESP frames decrypt to UDP, $malformed malformed or in error"
[ "$malformed" -eq 0 ] || { echo "malformed packets in $wan" >&2; exit 1; }
[ "$decrypted" -eq "$esp" ] || { echo "not every ESP packet decrypted" >&2; exit 1; }

# Inner packets equal the LAN's: same payloads in the same order, per direction.
ts -r "$wan" -Y 'esp && udp.dstport == 4000' -T fields -e data.data >"$work/wan-req.txt"
tshark -r "$lan" -Y 'udp.dstport == 4000' -T fields -e data.data 2>/dev/null >"$work/lan-req.txt"
[ -s "$work/lan-req.txt" ] && cmp -s "$work/wan-req.txt" "$work/lan-req.txt" || { echo "decrypted payloads differ from the LAN's" >&2; exit 1; }
echo "decrypted payloads match the LAN capture ($(wc -l <"$work/lan-req.txt") packets)"

# Reproducible: the same seed and run again give identical files.
"$bin" --out="$work/$mode-b" --mode="$mode" --transform="$transform" --duration=2 >/dev/null
for f in wan-GW1-1.pcap lan1-hostA-0.pcap tunnel0-gw1.pcap wireshark/esp_sa; do
    cmp -s "$out/$f" "$work/$mode-b/$f" || { echo "$f differs between two identical runs" >&2; exit 1; }
done
echo "two runs are byte-identical"
