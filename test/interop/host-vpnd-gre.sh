#!/bin/bash
# host-vpnd-gre: two vpnd instances in network namespaces joined by a veth
# pair, a GRE/IPsec tunnel between them as IOS writes it (`interface
# Tunnel0` in the default `tunnel mode gre ip`, `tunnel key`, `tunnel
# protection ipsec profile` whose transform set says `mode transport`):
# IKEv2 negotiates a transport-mode CHILD_SA for protocol 47 between the
# two tunnel ends (RFC 4301 4.4.1; IOS's "permit 47 host A host B"), the
# router core puts GRE (RFC 2784/2890) around what the kernel routes into
# each TUN device (this kernel has no GRE of its own). Checked: ICMP both
# ways through the tunnel, `show crypto ipsec sa` in Transport mode with
# proto 47 host selectors on both sides, raw ESP on the wire (no UDP: no
# NAT here), and tshark, with vpnd's key files, decrypting every ESP
# packet to GRE (key 4242) carrying the ICMP, nothing malformed; clear
# GRE sent to A does not come out of its TUN.
# Root only; a missing prerequisite is a failure that says what is
# missing, never a skip.
#
# With 6, the same over an IPv6 underlay (GRE's delivery header and ESP's
# outer header IPv6, the tunnel still carrying IPv4).
#
# usage: host-vpnd-gre.sh VPND VPNCTL WORKDIR [4|6]   (the underlay's IP version)
set -u
source "$(dirname "$0")/ios-psk.sh"
VPND=$1 VPNCTL=$2 W=$3 FAM=${4:-4}
fail() { echo "FAIL: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || fail "must run as root (network namespaces, TUN devices, UDP 500)"
for t in ip tshark python3; do command -v $t >/dev/null || fail "$t is not installed (./scripts/deps)"; done
[ -c /dev/net/tun ] || fail "/dev/net/tun is missing"
[ -x "$VPND" ] && [ -x "$VPNCTL" ] || fail "vpnd/vpnctl not built: $VPND $VPNCTL"

NA=vpngreA$$ NB=vpngreB$$
if [ "$FAM" = 6 ]; then
    O=("" 2001:db8::1 2001:db8::2) PLEN=64 HOSTMASK=/128 SELMASK=128 AF=AF_INET6 NODAD=nodad IPF=ipv6
else
    O=("" 198.18.0.1 198.18.0.2) PLEN=24 HOSTMASK=" 255.255.255.255" SELMASK=255.255.255.255 AF=AF_INET NODAD= IPF=ip
fi
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
    ip netns del $NA 2>/dev/null
    ip netns del $NB 2>/dev/null
}
trap cleanup EXIT
rm -rf "$W"; mkdir -p "$W"
ip netns add $NA && ip netns add $NB || fail "cannot create network namespaces"
ip link add vethA netns $NA type veth peer name vethB netns $NB || fail "cannot create a veth pair"
ip -n $NA addr add ${O[1]}/$PLEN dev vethA $NODAD; ip -n $NB addr add ${O[2]}/$PLEN dev vethB $NODAD
ip -n $NA addr add 10.0.1.1/32 dev lo; ip -n $NB addr add 10.0.2.1/32 dev lo   # no dummy interfaces here
for n in $NA $NB; do ip -n $n link set lo up; done
ip -n $NA link set vethA up; ip -n $NB link set vethB up
# The kernel has no GRE module: make sure, so that nothing here but vpnd
# can be what puts GRE on the wire.
ip -n $NA link add gretest type gre remote ${O[2]} local ${O[1]} 2>/dev/null &&
    echo "note: this kernel has GRE (gretest created); the test still uses vpnd's user-space GRE only" &&
    ip -n $NA link del gretest

# conf NAME LOCAL REMOTE: the IOS configuration of one side.
conf() {
cat <<C
hostname $1
$(ios_ikev2_psk PEER "${O[$3]}" "gre-test-psk-0123456789")
crypto ikev2 profile PROF
 match identity remote address ${O[$3]}$HOSTMASK
 identity local address ${O[$2]}
 authentication local pre-share
 authentication remote pre-share
 keyring local KR
crypto ipsec transform-set TS esp-aes 256 esp-sha256-hmac
 mode transport
crypto ipsec profile IPS
 set transform-set TS
 set ikev2-profile PROF
interface veth$1
 ip address ${O[$2]}/$PLEN
interface Tunnel0
 ip address 172.16.0.$2 255.255.255.0
 tunnel source veth$1
 tunnel destination ${O[$3]}
 tunnel key 4242
 tunnel protection ipsec profile IPS
ip route 10.0.$3.0 255.255.255.0 Tunnel0
C
}
conf A 1 2 >"$W/A.cfg"
conf B 2 1 >"$W/B.cfg"
PING=$(cd "$(dirname "$0")" && pwd)/icmp-echo.py   # SRC DST COUNT [INTERVAL] [--iplen N]

ip netns exec $NA tshark -q -i vethA -f 'udp port 500 or udp port 4500 or esp or proto 47' -w "$W/veth.pcap" \
    >"$W/tshark.log" 2>&1 &
PIDS+=($!)
for i in $(seq 100); do grep -qs Capturing "$W/tshark.log" && break; sleep 0.1; done
grep -qs Capturing "$W/tshark.log" || fail "tshark did not start: $(cat "$W/tshark.log")"

start() {
    ip netns exec vpngre$1$$ "$VPND" -n -c "$W/$1.cfg" -s "$W/$1.ctl" -k "$W/keys$1/wireshark" -l debug \
        -L "$W/$1.log" &
    local pid=$!
    PIDS+=($pid)
    for i in $(seq 50); do [ -S "$W/$1.ctl" ] && return 0; kill -0 $pid 2>/dev/null || break; sleep 0.1; done
    fail "vpnd $1 did not start: $(tail -3 "$W/$1.log")"
}
ctl() { local x=$1; shift; "$VPNCTL" -s "$W/$x.ctl" "$@"; }
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"; }

start A
start B
T0=$(date +%s.%N)
ctl A initiate Tunnel0 || fail "initiate refused"
for i in $(seq 100); do
    ctl A status | grep -q "state=up" && ctl B status | grep -q "state=up" && break; sleep 0.05
done
T1=$(date +%s.%N)
ctl A status | grep -q "state=up" || fail "tunnel did not come up: $(ctl A status)"
printf 'GRE/IPsec tunnel up in %.3f s\n' "$(echo "$T1 - $T0" | bc)"

ip netns exec $NA python3 "$PING" 10.0.1.1 10.0.2.1 5 || fail "ping A -> B through the GRE tunnel"
ip netns exec $NB python3 "$PING" 10.0.2.1 10.0.1.1 3 || fail "ping B -> A through the GRE tunnel"
# the tunnel's own subnet too (its addresses are on the TUN devices), with
# packets as large as the TUN's MTU: after GRE and ESP they must still fit
# the 1500-octet path without IP fragmentation (checked in the capture)
TMTU=$(ip -n $NA link show tunnel0 | sed -n 's/.* mtu \([0-9]*\).*/\1/p')
ip netns exec $NA python3 "$PING" 172.16.0.1 172.16.0.2 2 --iplen "$TMTU" ||
    fail "ping 172.16.0.1 -> 172.16.0.2 over Tunnel0 with $TMTU-octet packets"

for X in A B; do
    ctl $X show crypto ipsec sa >"$W/$X.ipsec-sa.txt" || fail "vpnctl $X show crypto ipsec sa"
    ctl $X status >"$W/$X.status.txt"
    ctl $X show drops >"$W/$X.drops.txt"
    grep -q "in use settings ={Transport, }" "$W/$X.ipsec-sa.txt" ||
        fail "$X: the GRE tunnel's SA is not in transport mode: $(cat "$W/$X.ipsec-sa.txt")"
    grep -q "in use settings ={Tunnel" "$W/$X.ipsec-sa.txt" && fail "$X: an SA in tunnel mode: $(cat "$W/$X.ipsec-sa.txt")"
done
# IOS's IPSEC FLOW of a GRE tunnel: permit 47 host A host B, each side its own view
for X in A B; do
    [ $X = A ] && L=${O[1]} R=${O[2]} || L=${O[2]} R=${O[1]}
    grep -q "local  ident (addr/mask/prot/port): ($L/$SELMASK/47/0)" "$W/$X.ipsec-sa.txt" ||
        fail "$X: local selector is not host $L proto 47: $(cat "$W/$X.ipsec-sa.txt")"
    grep -q "remote ident (addr/mask/prot/port): ($R/$SELMASK/47/0)" "$W/$X.ipsec-sa.txt" ||
        fail "$X: remote selector is not host $R proto 47: $(cat "$W/$X.ipsec-sa.txt")"
done
SA=$(grep '^Tunnel0' "$W/A.status.txt") SB=$(grep '^Tunnel0' "$W/B.status.txt")
EA=$(field "$SA" pkts_encrypted) DA=$(field "$SA" pkts_decrypted)
EB=$(field "$SB" pkts_encrypted) DB=$(field "$SB" pkts_decrypted)
echo "A encrypted $EA decrypted $DA; B encrypted $EB decrypted $DB"
[ "$EA" = 10 ] && [ "$DB" = 10 ] || fail "A->B counters wrong (want 10): A enc $EA, B dec $DB"
[ "$EB" = 10 ] && [ "$DA" = 10 ] || fail "B->A counters wrong (want 10): B enc $EB, A dec $DA"

# A GRE packet from the network without ESP (protocol 47 in the clear to
# A) must not reach the TUN (RFC 4301 5.2: traffic the SPD says is
# protected is dropped when it arrives unprotected). vpnd reads only ESP
# (raw protocol 50, UDP 4500), so this checks that nothing else on the host
# turns clear GRE into tunnel traffic, not a decision inside vpnd.
cat >"$W/cleargre.py" <<'P'
import socket as S, struct, sys
dst, fam = sys.argv[1], getattr(S, sys.argv[2])
inner = bytes.fromhex('4500001c000100004001') + b'\0\0' + S.inet_aton('10.0.2.1') + S.inet_aton('10.0.1.1')
inner += bytes.fromhex('0800f7fd00010001')
gre = struct.pack('!HHI', 0x2000, 0x0800, 4242) + inner
s = S.socket(fam, S.SOCK_RAW, 47)
for i in range(5):
    s.sendto(gre, (dst, 0))
P
ip netns exec $NB python3 "$W/cleargre.py" ${O[1]} $AF || fail "could not send clear GRE"
sleep 0.3
ctl A status | grep -q "pkts_decrypted=10 " || fail "clear GRE counted as decrypted: $(ctl A status)"
TO_TUN=$(field "$(ctl A status | grep '^Tunnel0')" tun_out)
[ "$TO_TUN" = 10 ] || fail "clear GRE reached A's TUN (tun_out $TO_TUN, want 10): $(ctl A status)"

kill "${PIDS[1]}" "${PIDS[2]}"; wait "${PIDS[1]}" "${PIDS[2]}" 2>/dev/null   # the two vpnd
sleep 0.5; kill "${PIDS[0]}"; wait "${PIDS[0]}" 2>/dev/null   # tshark: let it flush
TS() { XDG_CONFIG_HOME="$W/keys$1" tshark -r "$W/veth.pcap" -o esp.enable_encryption_decode:TRUE "${@:2}" 2>/dev/null; }
NESP=$(TS A -Y 'esp' | wc -l)
NUDP=$(TS A -Y 'udp.port == 4500' | wc -l)
NFRAG=$(TS A -Y 'ip.flags.mf == 1 or ip.frag_offset > 0 or ipv6.fragment' | wc -l)
[ "$NFRAG" = 0 ] || fail "$NFRAG IP fragments on the wire: the tunnel's MTU ($TMTU) does not fit GRE and ESP on the 1500-octet path"
[ "$NESP" = 20 ] || fail "$NESP ESP packets on the wire, want 20 (IP fragments count once)"
[ "$NUDP" = 0 ] || fail "ESP in UDP without a NAT ($NUDP datagrams on 4500)"
for X in A B; do
    # every ESP packet decrypts to GRE (key 4242, IPv4 inside) carrying the ICMP
    NG=$(TS $X -Y 'esp and gre.key == 4242 and gre.proto == 0x0800 and icmp' | wc -l)
    [ "$NG" = 20 ] || fail "tshark with $X's keys decoded $NG of 20 ESP packets as GRE with ICMP inside"
    NBAD=$(TS $X -Y 'esp and _ws.malformed' | wc -l)
    [ "$NBAD" = 0 ] || fail "$NBAD malformed ESP packets decoding with $X's keys"
done
# transport mode on the wire: ESP right after the tunnel ends' IP header,
# GRE right after ESP; two IP headers in all (outer, the inner ICMP's),
# where tunnel mode would have a third (the GRE delivery header inside ESP)
if [ "$FAM" = 6 ]; then HDRS='count(ipv6) == 1 and count(ip) == 1'; else HDRS='count(ip) == 2'; fi
NT=$(TS A -Y "esp and $HDRS and esp.protocol == 47 and gre" | wc -l)
[ "$NT" = 20 ] || fail "$NT of 20 ESP packets decode as transport-mode ESP with GRE directly inside"
# the clear GRE B sent is on the wire, and nothing of it counted as ours
[ "$(TS A -Y 'gre and not esp' | wc -l)" = 5 ] || fail "the 5 clear GRE packets are not in the capture"
TS A -Y 'esp and gre' -V | grep -m1 -A3 "Generic Routing Encapsulation" >"$W/gre-sample.txt"
echo "PASS: GRE/IPsec: tunnel up, ICMP both ways (10/10 each way), transport mode with proto 47 host selectors, ESP decrypts to GRE key 4242 + ICMP with both sides' keys, nothing malformed, clear GRE sent to A not out of its TUN"
