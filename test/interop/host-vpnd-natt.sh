#!/bin/bash
# host-vpnd-natt: vpnd A behind a NAPT (nat.py in a middle namespace) to
# vpnd B, A initiating: NAT traversal end to end.
#
#   A 192.168.1.2 --- [inside 192.168.1.1  NAT  outside 198.18.0.1] --- B 198.18.0.2
#
# Checked: NAT detection (RFC 7296 2.23): A's NAT_DETECTION_* notifies in
# IKE_SA_INIT; A finds the NAT in front of itself ("detected inside"), B in
# front of its peer ("detected outside"); IKE moves to UDP 4500 from
# IKE_AUTH on (non-ESP marker, RFC 3948 2.2); ESP in UDP (RFC 3948) both
# ways through the NAT's mapped ports (not 500/4500); A's NAT keepalives
# (RFC 3948 2.3) reach B and are counted there; ICMP both ways; tshark
# decodes the UDP-encapsulated ESP on both sides of the NAT and decrypts it,
# inside with A's key files, outside with B's (each side's esp_sa names the
# addresses it sees); nothing reaches the NAT's outside that did not pass
# through its mapping (unsolicited inbound dropped by the NAT: counted).
# A mapping times out 8 s after its last outbound datagram: A's keepalives
# keep its 4500 mapping through 11 s without traffic, while the 500 one goes.
# Then a rebinding: the NAT forgets its mappings (SIGUSR1), A's next
# datagrams leave from new outside ports, and B must follow the peer to
# the new port from the latest authenticated packet (RFC 7296 2.23): ping
# A -> B recovers without a new SA, ping B -> A too, and B's
# `show crypto ikev2 sa` names the new port.
# Root only; a missing prerequisite is a failure that says what is missing.
#
# usage: host-vpnd-natt.sh VPND VPNCTL WORKDIR
set -u
source "$(dirname "$0")/ios-psk.sh"
VPND=$1 VPNCTL=$2 W=$3
HERE=$(cd "$(dirname "$0")" && pwd)
fail() { echo "FAIL: $*" >&2; echo "logs and captures kept in $W" >&2; exit 1; }

[ "$(id -u)" = 0 ] || fail "must run as root (network namespaces, TUN devices, UDP 500)"
for t in ip tshark python3 bc; do command -v $t >/dev/null || fail "$t is not installed (./scripts/deps)"; done
[ -c /dev/net/tun ] || fail "/dev/net/tun is missing"
[ -x "$VPND" ] && [ -x "$VPNCTL" ] || fail "vpnd/vpnctl not built: $VPND $VPNCTL"

NA=nattA$$ NN=nattN$$ NB=nattB$$
A_IN=192.168.1.2 NAT_IN=192.168.1.1 NAT_OUT=198.18.0.1 B_OUT=198.18.0.2
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
    for n in $NA $NN $NB; do ip netns del $n 2>/dev/null; done
}
trap cleanup EXIT
rm -rf "$W"; mkdir -p "$W"
for n in $NA $NN $NB; do ip netns add $n || fail "cannot create network namespaces"; ip -n $n link set dev lo up; done
ip link add vethA netns $NA type veth peer name natin netns $NN || fail "cannot create a veth pair"
ip link add vethB netns $NB type veth peer name natout netns $NN || fail "cannot create a veth pair"
ip -n $NA addr add $A_IN/24 dev vethA; ip -n $NB addr add $B_OUT/24 dev vethB
ip -n $NA addr add 10.0.1.1/32 dev lo; ip -n $NB addr add 10.0.2.1/32 dev lo   # no dummy interfaces here
ip -n $NA link set dev vethA up; ip -n $NB link set dev vethB up
# The NAT's namespace has no addresses: nat.py is its only router.
for i in natin natout; do
    ip netns exec $NN sysctl -qw net.ipv6.conf.$i.disable_ipv6=1 2>/dev/null
    ip -n $NN link set dev $i up
done
ip -n $NA route add default via $NAT_IN dev vethA || fail "no default route via the NAT"

ip netns exec $NN python3 "$HERE/nat.py" --inside natin --inside-addr $NAT_IN --outside natout \
    --outside-addr $NAT_OUT --port-base 40000 --timeout 8 --stats "$W/nat.json" >"$W/nat.log" 2>&1 &
NATPID=$!; PIDS+=($NATPID)
for i in $(seq 100); do [ -f "$W/nat.json.ready" ] && break; sleep 0.1; done
[ -f "$W/nat.json.ready" ] || fail "nat.py did not start: $(cat "$W/nat.log")"

# conf NAME: the IOS configuration of one side (PSK, FQDN identities; B
# knows A by the NAT's outside address, the only one it ever sees).
conf() {
    local me=$1 peer ifc addr peer_addr
    if [ $me = A ]; then peer=B ifc=vethA addr=$A_IN peer_addr=$B_OUT
    else peer=A ifc=vethB addr=$B_OUT peer_addr=$NAT_OUT; fi
cat <<C
hostname $me
$(ios_ikev2_psk PEER "$peer_addr" "natt-test-psk-0123456789")
crypto ikev2 profile PROF
 match identity remote fqdn $(tr A-Z a-z <<<$peer).natt.test
 identity local fqdn $(tr A-Z a-z <<<$me).natt.test
 authentication local pre-share
 authentication remote pre-share
 keyring local KR
crypto ikev2 nat keepalive 5
crypto ipsec transform-set TS esp-gcm 128
crypto ipsec profile IPS
 set transform-set TS
 set ikev2-profile PROF
interface $ifc
 ip address $addr 255.255.255.0
interface Tunnel0
 ip address 172.16.0.$([ $me = A ] && echo 1 || echo 2) 255.255.255.0
 tunnel source $ifc
 tunnel mode ipsec ipv4
 tunnel destination $peer_addr
 tunnel protection ipsec profile IPS
ip route 10.0.$([ $me = A ] && echo 2 || echo 1).0 255.255.255.0 Tunnel0
C
}
conf A >"$W/A.cfg"
conf B >"$W/B.cfg"

# ICMP echo through the tunnel: SRC DST COUNT [INTERVAL] [--wait S]
PING=$HERE/icmp-echo.py

# Captures on both sides of the NAT.
capture() { # NS IF FILE
    ip netns exec $1 tshark -q -i $2 -f 'udp or esp' -w "$3" >"$3.log" 2>&1 &
    PIDS+=($!)
    for i in $(seq 100); do grep -qs Capturing "$3.log" && return 0; sleep 0.1; done
    fail "tshark did not start on $2: $(cat "$3.log")"
}
capture $NA vethA "$W/inside.pcap"; CAP_IN=${PIDS[-1]}
capture $NB vethB "$W/outside.pcap"; CAP_OUT=${PIDS[-1]}

start() { # X: vpnd X in its namespace
    ip netns exec natt$1$$ "$VPND" -n -c "$W/$1.cfg" -s "$W/$1.ctl" -k "$W/keys$1/wireshark" -l debug \
        -L "$W/$1.log" &
    local pid=$!
    PIDS+=($pid)
    eval VPID_$1=$pid
    for i in $(seq 50); do [ -S "$W/$1.ctl" ] && return 0; kill -0 $pid 2>/dev/null || break; sleep 0.1; done
    fail "vpnd $1 did not start: $(tail -3 "$W/$1.log")"
}
ctl() { local x=$1; shift; "$VPNCTL" -s "$W/$x.ctl" "$@"; }
nat_stats() { # nat.py's counts now (signals are taken in order: after a rebinding, it is done)
    rm -f "$W/nat.json"; kill -USR2 $NATPID
    for i in $(seq 50); do [ -f "$W/nat.json" ] && break; sleep 0.1; done
    cat "$W/nat.json" || fail "nat.py wrote no counts: $(cat "$W/nat.log")"
}
natj() { python3 -c "import json,sys; print(json.load(open('$W/nat.json')).get('$1', 0))"; }

start A; start B
T0=$(date +%s.%N)
ctl A initiate Tunnel0 >/dev/null || fail "initiate refused"
for i in $(seq 100); do
    ctl A status | grep -q "state=up" && ctl B status | grep -q "state=up" && break; sleep 0.05
done
ctl A status | grep -q "state=up" || fail "tunnel did not come up through the NAT: $(ctl A status)"
printf 'tunnel up through the NAT in %.3f s\n' "$(echo "$(date +%s.%N) - $T0" | bc)"

# 2.23: who is behind the NAT, as each side's detail view says.
ctl A show crypto ikev2 sa detail >"$W/A.sa1.txt"; ctl B show crypto ikev2 sa detail >"$W/B.sa1.txt"
grep -q "NAT-T is detected inside" "$W/A.sa1.txt" || fail "A does not see the NAT in front of itself: $(cat "$W/A.sa1.txt")"
grep -q "NAT-T is detected  outside" "$W/B.sa1.txt" || fail "B does not see the NAT in front of A: $(cat "$W/B.sa1.txt")"
# B knows A only as the NAT's outside address and a mapped port (not 4500)
grep -Eq "$B_OUT/4500 +$NAT_OUT/4[0-9]{4} .*READY" "$W/B.sa1.txt" ||
    fail "B's IKE SA is not with $NAT_OUT and a mapped port: $(head -8 "$W/B.sa1.txt")"
grep -Eq "$A_IN/4500 +$B_OUT/4500 .*READY" "$W/A.sa1.txt" || fail "A's IKE SA is not on port 4500: $(head -8 "$W/A.sa1.txt")"
APORT=$(sed -n "s|.*$B_OUT/4500 *$NAT_OUT/\([0-9]*\) .*|\1|p" "$W/B.sa1.txt" | head -1)
echo "B sees A at $NAT_OUT:$APORT"

ip netns exec $NA python3 "$PING" 10.0.1.1 10.0.2.1 5 || fail "ping A -> B through the tunnel and the NAT"
ip netns exec $NB python3 "$PING" 10.0.2.1 10.0.1.1 3 || fail "ping B -> A through the tunnel and the NAT"
ctl A show crypto ipsec sa >"$W/A.ipsec1.txt"
grep -q "#pkts encaps: 8" "$W/A.ipsec1.txt" || fail "A: want 8 packets encapsulated: $(cat "$W/A.ipsec1.txt")"

# NAT keepalives (RFC 3948 2.3), every 5 s from the side behind the NAT.
sleep 11
KA=$(ctl B show drops | sed -n 's/^natt: keepalives received *//p')
[ "${KA:-0}" -ge 2 ] || fail "B received ${KA:-0} NAT keepalives in 11 s (A sends one every 5 s)"
echo "B received $KA NAT keepalives"
# The NAT forgets a mapping 8 s after its last outbound datagram: in 11 s
# without traffic the keepalives (every 5 s) kept A's 4500 mapping, while
# its 500 mapping (nothing after IKE_SA_INIT) went; B reaches A unasked.
nat_stats >/dev/null
[ "$(natj mappings_expired)" = 1 ] || fail "want the port 500 mapping expired, and only it: $(cat "$W/nat.json")"
python3 -c "import json, sys; m = json.load(open('$W/nat.json'))['mappings']; sys.exit(0 if [x['outside_port'] for x in m] == [$APORT] else 1)" ||
    fail "the keepalives did not keep A's 4500 mapping ($APORT): $(cat "$W/nat.json")"
ip netns exec $NB python3 "$PING" 10.0.2.1 10.0.1.1 1 || fail "ping B -> A after 11 s of keepalives only"

# Unsolicited inbound: a datagram to A's mapped port from a stranger, and
# one to a port with no mapping, stop at the NAT.
ip -n $NB addr add 198.18.0.3/24 dev vethB
ip netns exec $NB python3 -c "
import socket as S
s = S.socket(S.AF_INET, S.SOCK_DGRAM); s.bind(('198.18.0.3', 0))
s.sendto(b'\x01\x02\x03\x04' * 8, ('$NAT_OUT', $APORT)); s.sendto(b'x' * 32, ('$NAT_OUT', 39999))" ||
    fail "could not send the unsolicited datagrams"
sleep 0.3
nat_stats >/dev/null
[ "$(natj dropped_unsolicited)" -ge 2 ] || fail "the NAT let unsolicited datagrams in: $(cat "$W/nat.json")"
ip -n $NB addr del 198.18.0.3/24 dev vethB

# ---- rebinding: the NAT forgets its mappings; A's flows get new ports ----
kill -USR1 $NATPID
nat_stats >/dev/null
# A speaks first (ESP: the NAT makes a new mapping for it); B must follow
# A to its new port from that authenticated packet (RFC 7296 2.23).
ip netns exec $NA python3 "$PING" 10.0.1.1 10.0.2.1 5 0.2 --wait 3 >"$W/rebind-ping.txt" ||
    fail "A -> B did not recover after the NAT rebinding: $(cat "$W/rebind-ping.txt")"
cat "$W/rebind-ping.txt"
ip netns exec $NB python3 "$PING" 10.0.2.1 10.0.1.1 3 || fail "ping B -> A after the rebinding"
ctl B show crypto ikev2 sa detail >"$W/B.sa2.txt"
APORT2=$(sed -n "s|.*$B_OUT/4500 *$NAT_OUT/\([0-9]*\) .*|\1|p" "$W/B.sa2.txt" | head -1)
[ -n "$APORT2" ] && [ "$APORT2" != "$APORT" ] ||
    fail "B's IKE SA did not move to A's new port (before $APORT, now ${APORT2:-none}): $(head -8 "$W/B.sa2.txt")"
grep -q "IKE SA [0-9]*: peer moved from $NAT_OUT port $APORT to $NAT_OUT port $APORT2 (RFC 7296 2.23)" "$W/B.log" ||
    fail "B's log does not say the peer moved"
grep -q "peer moved" "$W/A.log" && fail "A (behind the NAT) moved its peer: RFC 7296 2.23 says it should not"
echo "after the rebinding B sees A at $NAT_OUT:$APORT2 (was $APORT)"
# IKE follows too: a DPD-like exchange (a CHILD_SA rekey) from B reaches A.
ctl B rekey child Tunnel0 >/dev/null || fail "rekey child refused at B"
for i in $(seq 200); do
    [ "$(wc -l <"$W/keysA/wireshark/esp_sa")" = 4 ] && break; sleep 0.05
done
[ "$(wc -l <"$W/keysA/wireshark/esp_sa")" = 4 ] || fail "B's CHILD_SA rekey did not reach A at its new port"
ip netns exec $NA python3 "$PING" 10.0.1.1 10.0.2.1 2 || fail "ping A -> B on the rekeyed SA"
for X in A B; do
    ctl $X status | grep -q "state=up" || fail "$X: tunnel not up at the end: $(ctl $X status)"
done
[ "$(wc -l <"$W/keysA/wireshark/ikev2_decryption_table")" = 1 ] || fail "a new IKE SA was made: the rebinding was not survived"
nat_stats >"$W/nat-final.json"
echo "NAT: $(python3 -c "import json; d=json.load(open('$W/nat.json')); print({k: v for k, v in d.items() if k not in ('events', 'mappings')})")"
[ "$(natj rebinds)" = 1 ] && [ "$(natj mappings_made)" = 3 ] || fail "the NAT did not rebind and make new mappings"

kill $VPID_A $VPID_B; wait $VPID_A $VPID_B 2>/dev/null
sleep 0.5; kill $CAP_IN $CAP_OUT; wait $CAP_IN $CAP_OUT 2>/dev/null   # tshark: let it flush

TS() { local k=$1 f=$2; shift 2; XDG_CONFIG_HOME="$W/keys$k" tshark -r "$f" -o esp.enable_encryption_decode:TRUE "$@" 2>/dev/null; }
OUT=$W/outside.pcap IN=$W/inside.pcap
# IKE_SA_INIT on 500, both NAT_DETECTION notifies (16388, 16389) each way.
for who in $NAT_OUT $B_OUT; do
    for n in 16388 16389; do
        TS B "$OUT" -Y "ip.src == $who && udp.port == 500 && isakmp.exchangetype == 34 && isakmp.notify.msgtype == $n" |
            grep -q . || fail "no NAT_DETECTION notify $n from $who in IKE_SA_INIT"
    done
done
# Nothing after IKE_SA_INIT on 500; IKE_AUTH on 4500 after the marker.
n500=$(TS B "$OUT" -Y 'udp.port == 500 && isakmp.exchangetype != 34' | wc -l)
[ "$n500" = 0 ] || fail "$n500 IKE messages other than IKE_SA_INIT on port 500"
TS B "$OUT" -Y "udp.dstport == 4500 && isakmp.exchangetype == 35 && ip.src == $NAT_OUT && udp.srcport != 4500" |
    grep -q . || fail "no IKE_AUTH from A's mapped port to 4500 on the outside"
# ESP in UDP only (no raw ESP: it could not pass the NAPT), decrypted.
[ "$(TS B "$OUT" -Y 'ip.proto == 50' | wc -l)" = 0 ] || fail "raw ESP on the outside"
for side in B:$OUT A:$IN; do
    k=${side%%:*} f=${side#*:}
    nesp=$(TS $k "$f" -Y 'udp && esp' | wc -l)   # 19 echoes and their replies
    nicmp=$(TS $k "$f" -Y 'udp && esp && icmp' | wc -l)
    nbad=$(TS $k "$f" -Y '(esp || isakmp) && _ws.malformed' | wc -l)
    echo "$(basename "$f"): $nesp ESP-in-UDP packets, $nicmp decrypted to ICMP with $k's keys, $nbad malformed"
    [ "$nesp" = 38 ] && [ "$nicmp" = "$nesp" ] || fail "$f: $nicmp of $nesp ESP-in-UDP packets decrypt to ICMP with $k's keys"
    [ "$nbad" = 0 ] || fail "$f: malformed packets"
    nka=$(TS $k "$f" -Y "udp.port == 4500 && udp.length == 9" -T fields -e _ws.col.Info | grep -c "NAT-keepalive")
    [ "$nka" -ge 2 ] || fail "$f: $nka NAT keepalives"
    TS $k "$f" -Y 'isakmp.exchangetype == 35 && isakmp.id.type' | grep -q . || fail "$f: IKE_AUTH not decrypted"
done
# The outside saw two outside ports for A's 4500: before and after the rebinding.
nports=$(TS B "$OUT" -Y "ip.src == $NAT_OUT && udp.srcport != 500 && esp" -T fields -e udp.srcport | sort -u | wc -l)
[ "$nports" = 2 ] || fail "ESP from A left the NAT from $nports ports, want 2 (before and after the rebinding)"
echo "PASS: NAT detected on both sides, IKE on 4500, ESP in UDP both ways through the NAT, keepalives, unsolicited inbound dropped, rebinding survived (B followed A from port $APORT to $APORT2), captures decrypt on both sides"
