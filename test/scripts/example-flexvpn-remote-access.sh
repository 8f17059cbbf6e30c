#!/bin/sh
# flexvpn-remote-access: 5 users join the hub's Virtual-Template, each gets
# an address and echoes traffic through the hub from it (at most the last
# echo in flight at the end unanswered); the hub's WAN carries only IKE and
# ESP and decrypts with the written keys: every IKE message, the EAP
# exchanges and the CP payload with the addresses visible. Then a pool of 3
# for 4 users: one is refused, the other three connect.
# Usage: example-flexvpn-remote-access.sh EXAMPLE_BINARY WORK_DIR
set -eu
. "$(dirname "$0")/trace-checks.sh"
bin=$1 work=$2
need_tshark
rm -rf "$work"
mkdir -p "$work"
out=$work/a
"$bin" --out="$out" --users=5 --duration=4 --joinSpread=2
grep -q '"users_connected": 5' "$out/summary.json" || { echo "not every user connected" >&2; exit 1; }
n=0
for e in $(grep -o 'echoes [0-9]*/[0-9]*' "$out/summary.txt" | cut -d' ' -f2); do
    got=${e%/*} sent=${e#*/}
    [ "$sent" -gt 0 ] && [ "$got" -ge $((sent - 1)) ] || { echo "a user's echoes were lost: $got/$sent" >&2; exit 1; }
    n=$((n + 1))
done
[ "$n" -eq 5 ] || { echo "$n users report echoes, not 5" >&2; exit 1; }
addrs=$(grep -o 'address 10\.99\.0\.[0-9]*' "$out/summary.txt" | sort -u | wc -l | tr -d ' ')
[ "$addrs" -eq 5 ] || { echo "$addrs distinct addresses, not 5" >&2; exit 1; }
echo "5 users connected with distinct pool addresses, echoes returned"
pcap=$out/wan-HUB-0.pcap
check_wan_protected "$pcap"
check_decrypts "$out" "$pcap"
enc=$(ts_keys "$out" -r "$pcap" -Y 'isakmp.exchangetype >= 35' -T fields -e frame.number | count)
dec=$(ts_keys "$out" -r "$pcap" -Y 'isakmp.exchangetype >= 35 && isakmp.enc.decrypted' -T fields -e frame.number | count)
eap=$(ts_keys "$out" -r "$pcap" -Y 'eap' -T fields -e frame.number | count)
cp=$(ts_keys "$out" -r "$pcap" -Y 'isakmp.cfg.attr.internal_ip4_address' -T fields -e isakmp.cfg.attr.internal_ip4_address | sort -u | count)
echo "IKE: $dec of $enc encrypted messages decrypt; $eap EAP messages; CP addresses seen: $cp"
[ "$enc" -gt 0 ] && [ "$dec" -eq "$enc" ] || { echo "not every IKE message decrypts" >&2; exit 1; }
[ "$eap" -ge 20 ] || { echo "fewer EAP messages than 5 MSCHAPv2 exchanges make" >&2; exit 1; }
[ "$cp" -ge 5 ] || { echo "the CP replies do not show 5 addresses" >&2; exit 1; }

out=$work/b
"$bin" --out="$out" --users=4 --pool=3 --duration=3 --joinSpread=1
grep -q '"users_connected": 3' "$out/summary.json" || { echo "not 3 of 4 users connected on a pool of 3" >&2; exit 1; }
[ "$(grep -c 'refused (no address)' "$out/summary.txt")" -eq 1 ] || { echo "not exactly one user refused" >&2; exit 1; }
echo "pool of 3 for 4 users: 3 connected, 1 refused"

# The one hub block: 3 users and 2 site-to-site spokes on the same
# Virtual-Template and profile; each spoke's site echoes through the hub.
out=$work/c
"$bin" --out="$out" --users=3 --spokes=2 --duration=3 --joinSpread=1
grep -q '"users_connected": 3' "$out/summary.json" || { echo "not every user connected beside the spokes" >&2; exit 1; }
grep -q '"spokes_up": 2' "$out/summary.json" || { echo "not both spokes came up" >&2; exit 1; }
for j in 1 2; do
    e=$(grep -o "spoke$j.*echoes [0-9]*/[0-9]*" "$out/summary.txt" | grep -o '[0-9]*/[0-9]*$')
    got=${e%/*} sent=${e#*/}
    [ "$sent" -gt 0 ] && [ "$got" -ge $((sent - 1)) ] || { echo "spoke $j's site lost echoes: $e" >&2; exit 1; }
done
pcap=$out/wan-HUB-0.pcap
check_wan_protected "$pcap"
check_decrypts "$out" "$pcap"
sub=$(ts_keys "$out" -r "$pcap" -Y 'isakmp.cfg.attr.internal_ip4_subnet_ip == 10.2.1.0' -T fields -e frame.number | count)
[ "$sub" -ge 1 ] || { echo "spoke 1's CFG_REQUEST with its LAN is not visible" >&2; exit 1; }
echo "3 users and 2 spokes on one Virtual-Template: sites echoed, spoke routes announced in CP"

# --ipv6: 3 dual-stack users (`tunnel mode ipsec dual-overlay`): each gets a
# /128 of RA-POOL6 beside its IPv4 address and echoes over IPv6 too; the
# decrypted ESP shows the IPv6 inner packets, the CP replies the IPv6
# addresses and the hub's IPv6 LAN (INTERNAL_IP6_SUBNET).
out=$work/d
"$bin" --out="$out" --users=3 --ipv6=1 --duration=3 --joinSpread=1
grep -q '"users_connected": 3' "$out/summary.json" || { echo "not every dual-stack user connected" >&2; exit 1; }
n=0
for e in $(grep -o 'IPv6 echoes [0-9]*/[0-9]*' "$out/summary.txt" | cut -d' ' -f3); do
    got=${e%/*} sent=${e#*/}
    [ "$sent" -gt 0 ] && [ "$got" -ge $((sent - 1)) ] || { echo "a user's IPv6 echoes were lost: $got/$sent" >&2; exit 1; }
    n=$((n + 1))
done
[ "$n" -eq 3 ] || { echo "$n users report IPv6 echoes, not 3" >&2; exit 1; }
addrs=$(grep -o 'IPv6 address fd00:99::[0-9a-f]*' "$out/summary.txt" | sort -u | wc -l | tr -d ' ')
[ "$addrs" -eq 3 ] || { echo "$addrs distinct IPv6 addresses, not 3" >&2; exit 1; }
pcap=$out/wan-HUB-0.pcap
check_wan_protected "$pcap"
check_decrypts "$out" "$pcap"
esp6=$(ts_keys "$out" -r "$pcap" -Y 'esp && ipv6.dst == fd00:1::2 && udp.dstport == 4000' -T fields -e frame.number | count)
a6=$(ts_keys "$out" -r "$pcap" -Y 'isakmp.cfg.attr.internal_ip6_address' -T fields -e isakmp.cfg.attr.internal_ip6_address | sort -u | count)
s6=$(ts_keys "$out" -r "$pcap" -Y 'isakmp.cfg.attr.internal_ip6_subnet_ip == fd00:1::' -T fields -e frame.number | count)
echo "IPv6: $esp6 decrypted echo requests to fd00:1::2, CP IPv6 addresses seen: $a6, IPv6 subnet in $s6 replies"
[ "$esp6" -ge 30 ] || { echo "the decrypted ESP does not show the IPv6 echoes" >&2; exit 1; }
[ "$a6" -ge 3 ] || { echo "the CP replies do not show 3 IPv6 addresses" >&2; exit 1; }
[ "$s6" -ge 3 ] || { echo "the CP replies do not carry the hub's IPv6 LAN" >&2; exit 1; }
echo "3 dual-stack users: distinct IPv6 addresses, IPv6 echoes returned and decrypted"
