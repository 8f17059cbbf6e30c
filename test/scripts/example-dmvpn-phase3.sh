#!/bin/sh
# dmvpn-phase3 with 4 spokes: every voice flow is delivered in full, every
# spoke pair moves to its shortcut (time to shortcut reported, direct delay
# below the delay via the hub), the hub has one tunnel device and an IKE SA
# per spoke; the WAN captures carry only IKE and ESP, every ESP packet
# decrypts with the written esp_sa to NHRP or the voice (UDP), and every
# NHRP packet decodes with nothing malformed.
# Usage: example-dmvpn-phase3.sh EXAMPLE_BINARY WORK_DIR
set -eu
. "$(dirname "$0")/trace-checks.sh"
bin=$1 work=$2
need_tshark
rm -rf "$work"
mkdir -p "$work"
out=$work/a
"$bin" --out="$out" --spokes=4 --duration=3 --providerDelay=10ms
grep -q '"hub_ike_sas": 4' "$out/summary.json" || { echo "not every spoke has its IKE SA with the hub" >&2; exit 1; }
grep -q '"all_shortcuts": true' "$out/summary.json" || { echo "a spoke pair never got its shortcut" >&2; exit 1; }
grep -q '"lost": 0' "$out/summary.json" || { echo "voice packets were lost" >&2; exit 1; }
full=$(grep -c '"sent": 150, "received": 150' "$out/summary.json")
[ "$full" -eq 4 ] || { echo "only $full of 4 flows delivered in full" >&2; exit 1; }
# via the hub: four provider crossings (40 ms); direct: two (20 ms)
awk -F'"delay_via_hub_ms": |, "packets_via_hub": |"delay_direct_ms": |, "packets_direct": ' '/"from"/ {
    if (!($2 > 39 && $2 < 45 && $4 > 19.9 && $4 < 21 && $3 > 0 && $5 > 100)) bad = 1 } END { exit bad }' \
    "$out/summary.json" || { echo "delays are not 4 crossings via the hub and 2 direct" >&2; exit 1; }
grep -q 'UP-ACTIVE' "$out/show-SPOKE1.txt" || { echo "show dmvpn detail shows no active peer" >&2; exit 1; }
echo "4 spokes: every pair moved to its shortcut, 4 flows delivered in full"
for p in "$out/wan-HUB-0-1.pcap" "$out/wan-SPOKE1-2-1.pcap"; do
    check_wan_protected "$p"
    esp=$(tshark -r "$p" -Y esp -T fields -e frame.number 2>/dev/null | count)
    nhrp=$(ts_keys "$out" -r "$p" -Y 'esp && nhrp' -T fields -e frame.number | count)
    other=$(ts_keys "$out" -r "$p" -Y 'esp && !(udp || nhrp)' -T fields -e frame.number | count)
    bad=$(ts_keys "$out" -r "$p" -Y '_ws.malformed || _ws.expert.severity >= error' -T fields -e frame.number | count)
    echo "with keys: $esp ESP frames, $nhrp NHRP, $other neither NHRP nor UDP, $bad malformed or in error"
    [ "$bad" -eq 0 ] || { echo "malformed packets in $p" >&2; exit 1; }
    [ "$esp" -gt 0 ] && [ "$other" -eq 0 ] || { echo "not every ESP packet decrypted" >&2; exit 1; }
    [ "$nhrp" -gt 0 ] || { echo "no NHRP in $p" >&2; exit 1; }
done
# the hub saw registrations and sent redirects; spoke 1 resolved and was answered
ts_keys "$out" -r "$out/wan-HUB-0-1.pcap" -Y 'nhrp.hdr.op.type == 8' -T fields -e frame.number | grep -q . ||
    { echo "the hub sent no Traffic Indication" >&2; exit 1; }
ts_keys "$out" -r "$out/wan-SPOKE1-2-1.pcap" -Y 'nhrp.hdr.op.type == 2' -T fields -e frame.number | grep -q . ||
    { echo "spoke 1 got no Resolution Reply" >&2; exit 1; }
echo "NHRP: registrations, traffic indications and resolutions decode cleanly"
# --rip: no static routes to the LANs; spokes learn the hub's summary by RIP
# over the mGRE device, the shortcut adds the NHRP route (H), nothing lost
rip=$work/rip
"$bin" --out="$rip" --spokes=2 --duration=2 --rip=true --pcap=false >/dev/null
grep -q '"all_shortcuts": true' "$rip/summary.json" || { echo "--rip: no shortcut" >&2; exit 1; }
grep -q '"lost": 0' "$rip/summary.json" || { echo "--rip: voice packets were lost" >&2; exit 1; }
if grep -q 'ip route 10\.' "$rip"/config-*.txt; then echo "--rip: a static route to a LAN" >&2; exit 1; fi
grep -q '^R        10.0.0.0/8 \[120/2\] via 172.16.0.1, Tunnel0' "$rip/routes-SPOKE1.txt" ||
    { cat "$rip/routes-SPOKE1.txt"; echo "--rip: spoke 1 did not learn the summary via the hub" >&2; exit 1; }
grep -q '^H        10.1.2.0/24 \[250/0\] via 172.16.0.3, Tunnel0' "$rip/routes-SPOKE1.txt" ||
    { cat "$rip/routes-SPOKE1.txt"; echo "--rip: spoke 1 has no NHRP route to spoke 2's LAN" >&2; exit 1; }
grep -q '^R        10.1.2.0/24 \[120/2\] via 172.16.0.3, Tunnel0' "$rip/routes-HUB.txt" ||
    { cat "$rip/routes-HUB.txt"; echo "--rip: the hub did not learn spoke 2's LAN" >&2; exit 1; }
echo "--rip: summary by RIP over mGRE, NHRP route after the shortcut, nothing lost"

# --rip --ripSummary=false: no ip split-horizon on the hub, no summary; spoke 1
# learns spokes 2 and 3's LANs by RIP (via the hub) and keeps them
nosum=$work/rip-nosummary
"$bin" --out="$nosum" --spokes=3 --duration=2 --rip=true --ripSummary=false --pcap=false >/dev/null
grep -q '^ no ip split-horizon' "$nosum/config-HUB.txt" || { echo "--ripSummary=false: split horizon on" >&2; exit 1; }
if grep -q 'summary-address' "$nosum/config-HUB.txt"; then echo "--ripSummary=false: a summary" >&2; exit 1; fi
for lan in 10.1.2.0 10.1.3.0; do
    grep -q "^R        $lan/24 \[120/3\] via 172.16.0.1, Tunnel0" "$nosum/routes-SPOKE1.txt" ||
        { cat "$nosum/routes-SPOKE1.txt"; echo "--ripSummary=false: spoke 1 has no RIP route to $lan" >&2; exit 1; }
done
grep -q '"lost": 0' "$nosum/summary.json" || { echo "--ripSummary=false: voice packets were lost" >&2; exit 1; }
echo "--rip --ripSummary=false: every spoke's LAN by RIP, nothing lost"
