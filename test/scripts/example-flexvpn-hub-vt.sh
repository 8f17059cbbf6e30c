#!/bin/sh
# flexvpn-hub-vt with 4 spokes: the hub clones one Virtual-Access per spoke
# from its one Virtual-Template (one tunnel device), `show derived-config`
# shows the clone as IOS does; every spoke pair moves to its shortcut after
# the hub's redirect, each spoke cloning its own template for the other;
# every voice flow arrives in full; the WAN captures carry only IKE and
# ESP, every ESP packet decrypts with the written esp_sa to NHRP or the
# voice, every NHRP packet decodes with nothing malformed, the hub sends
# Traffic Indications and the spokes run IKEv2 between each other.
# Usage: example-flexvpn-hub-vt.sh EXAMPLE_BINARY WORK_DIR
set -eu
. "$(dirname "$0")/trace-checks.sh"
bin=$1 work=$2
need_tshark
rm -rf "$work"
mkdir -p "$work"
out=$work/a
"$bin" --out="$out" --spokes=4 --duration=3 --providerDelay=10ms
grep -q '"hub_ike_sas": 4' "$out/summary.json" || { echo "not every spoke has its IKE SA with the hub" >&2; exit 1; }
grep -q '"hub_virtual_access": 4' "$out/summary.json" || { echo "the hub did not clone 4 Virtual-Access" >&2; exit 1; }
grep -q '"spoke_virtual_access": 4' "$out/summary.json" ||
    { echo "the spokes did not clone a Virtual-Access per spoke-to-spoke session" >&2; exit 1; }
grep -q '"all_shortcuts": true' "$out/summary.json" || { echo "a spoke pair never got its shortcut" >&2; exit 1; }
grep -q '"lost": 0' "$out/summary.json" || { echo "voice packets were lost" >&2; exit 1; }
full=$(grep -c '"sent": 150, "received": 150' "$out/summary.json")
[ "$full" -eq 4 ] || { echo "only $full of 4 flows delivered in full" >&2; exit 1; }
awk -F'"delay_via_hub_ms": |, "packets_via_hub": |"delay_direct_ms": |, "packets_direct": ' '/"from"/ {
    if (!($2 > 39 && $2 < 45 && $4 > 19.9 && $4 < 21 && $3 > 0 && $5 > 100)) bad = 1 } END { exit bad }' \
    "$out/summary.json" || { echo "delays are not 4 crossings via the hub and 2 direct" >&2; exit 1; }
# the configuration: one template block on the hub, no per-spoke tunnel
grep -q '^interface Virtual-Template1 type tunnel$' "$out/config-HUB.txt" || { echo "no template on the hub" >&2; exit 1; }
grep -q '^ virtual-template 1$' "$out/config-HUB.txt" || { echo "no virtual-template in the hub's profile" >&2; exit 1; }
if grep -q '^interface Tunnel' "$out/config-HUB.txt"; then echo "the hub has per-spoke tunnels" >&2; exit 1; fi
# show derived-config interface Virtual-Access1, as IOS prints a clone
sed -n '/^HUB#show derived-config interface Virtual-Access1$/,/^end$/p' "$out/show-HUB.txt" >"$work/derived.txt"
bytes=$(sed -n 's/^Derived configuration : \([0-9]*\) bytes$/\1/p' "$work/derived.txt")
body=$(sed -n '/^!$/,/^end$/p' "$work/derived.txt" | wc -c)
[ -n "$bytes" ] && [ "$bytes" -eq "$body" ] || { echo "derived-config byte count $bytes, body $body" >&2; exit 1; }
for l in 'interface Virtual-Access1' ' ip unnumbered Loopback0' ' ip nhrp network-id 100' ' ip nhrp redirect' \
    ' tunnel source GigabitEthernet0/1' ' tunnel protection ipsec profile IPP' ' no tunnel protection ipsec initiate'; do
    grep -qx -- "$l" "$work/derived.txt" || { echo "derived-config lacks '$l'" >&2; cat "$work/derived.txt" >&2; exit 1; }
done
grep -q '^ tunnel destination 100\.64\.0\.[0-9]*$' "$work/derived.txt" || { echo "the clone has no spoke as destination" >&2; exit 1; }
for n in 1 2 3 4; do
    grep -q "^Virtual-Access$n is up, line protocol is up" "$out/show-HUB.txt" || { echo "Virtual-Access$n not shown" >&2; exit 1; }
done
grep -q 'cloned from Virtual-Template1' "$out/show-SPOKE1.txt" || { echo "spoke 1 shows no clone" >&2; exit 1; }
echo "4 spokes: 4 Virtual-Access on the hub, every pair moved to its shortcut, 4 flows delivered in full"
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
ts_keys "$out" -r "$out/wan-HUB-0-1.pcap" -Y 'nhrp.hdr.op.type == 8' -T fields -e frame.number | grep -q . ||
    { echo "the hub sent no Traffic Indication" >&2; exit 1; }
# spoke 1's capture holds IKE_SA_INIT with spoke 2 (not only with the hub)
ts_keys "$out" -r "$out/wan-SPOKE1-2-1.pcap" -Y 'isakmp.exchangetype == 34 && ip.addr == 100.64.0.5' -T fields \
    -e frame.number | grep -q . || { echo "no IKEv2 between spoke 1 and spoke 2" >&2; exit 1; }
echo "NHRP redirects and spoke-to-spoke IKEv2 decode cleanly"

# --rip: the template sends the hub's RIP updates on every Virtual-Access;
# spokes learn the summary, the hub every spoke's LAN, nothing static to a LAN
rip=$work/rip
"$bin" --out="$rip" --spokes=2 --duration=2 --rip=true --pcap=false >/dev/null
grep -q '"lost": 0' "$rip/summary.json" || { echo "--rip: voice packets were lost" >&2; exit 1; }
if grep -q 'ip route 10\.' "$rip"/config-*.txt; then echo "--rip: a static route to a LAN" >&2; exit 1; fi
grep -q '^R        10.0.0.0/8 \[120/2\] via 172.16.0.1, Tunnel0' "$rip/routes-SPOKE1.txt" ||
    { cat "$rip/routes-SPOKE1.txt"; echo "--rip: spoke 1 did not learn the summary" >&2; exit 1; }
grep -q '^R        10.1.2.0/24 \[120/2\] via 172.16.0.3, Virtual-Template1' "$rip/routes-HUB.txt" ||
    { cat "$rip/routes-HUB.txt"; echo "--rip: the hub did not learn spoke 2's LAN" >&2; exit 1; }
echo "--rip: RIP over the virtual template, nothing lost"
