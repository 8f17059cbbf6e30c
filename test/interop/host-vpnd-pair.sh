#!/bin/bash
# host-vpnd-pair: two vpnd instances in network namespaces joined by a veth
# pair, a PSK VTI between them (its transform set in `mode transport`,
# which a VTI ignores: tunnel mode), ICMP both ways through the TUN devices,
# `show crypto ikev2 sa` READY on both sides, the packet counters of the two
# sides agreeing, junk from the network counted and survived, CHILD_SA and
# IKE SA rekeys during traffic without loss, `initiate` after `clear crypto
# ipsec sa` making a CHILD_SA under the IKE SA that stayed, then a wrong PSK failing with AUTHENTICATION_FAILED and
# leaving no SA; tshark must decrypt the capture (IKE and ESP, the failed
# IKE_AUTH included) with vpnd's key files; an IKEv1 Main Mode (crypto
# isakmp) comes up and is cleared beside the tunnel. Root only; a missing
# prerequisite is a failure that says what is missing, never a skip.
#
# usage: host-vpnd-pair.sh VPND VPNCTL WORKDIR [4|6]   (the underlay's IP version)
set -u
source "$(dirname "$0")/ios-psk.sh"
VPND=$1 VPNCTL=$2 W=$3 FAM=${4:-4}
ECHO=$(cd "$(dirname "$0")" && pwd)/icmp-echo.py   # ICMP echo through the tunnel: SRC DST COUNT [INTERVAL]
fail() { echo "FAIL: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || fail "must run as root (network namespaces, TUN devices, UDP 500)"
for t in ip tshark python3; do command -v $t >/dev/null || fail "$t is not installed (./scripts/deps)"; done
[ -c /dev/net/tun ] || fail "/dev/net/tun is missing"
[ -x "$VPND" ] && [ -x "$VPNCTL" ] || fail "vpnd/vpnctl not built: $VPND $VPNCTL"

NA=vpnpairA$$ NB=vpnpairB$$
if [ "$FAM" = 6 ]; then
    O1=2001:db8::1 O2=2001:db8::2 PLEN=64 HOSTMASK=/128 AF=AF_INET6 NODAD=nodad
else
    O1=198.18.0.1 O2=198.18.0.2 PLEN=24 HOSTMASK=" 255.255.255.255" AF=AF_INET NODAD=
fi
O=("" $O1 $O2)   # ${O[1]}, ${O[2]}: the outer addresses of A and B
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
ip -n $NA addr add $O1/$PLEN dev vethA $NODAD; ip -n $NB addr add $O2/$PLEN dev vethB $NODAD
ip -n $NA addr add 10.0.1.1/32 dev lo; ip -n $NB addr add 10.0.2.1/32 dev lo   # no dummy interfaces here
for n in $NA $NB; do ip -n $n link set lo up; done
ip -n $NA link set vethA up; ip -n $NB link set vethB up

# conf NAME LOCAL REMOTE PSK: the IOS configuration of one side.
conf() {
cat <<C
hostname $1
$(ios_ikev2_psk PEER "${O[$3]}" "$4")
crypto ikev2 profile PROF
 match identity remote address ${O[$3]}$HOSTMASK
 identity local address ${O[$2]}
 authentication local pre-share
 authentication remote pre-share
 keyring local KR
crypto ipsec transform-set TS esp-gcm 128
 mode transport
crypto ipsec profile IPS
 set transform-set TS
 set ikev2-profile PROF
interface veth$1
 ip address ${O[$2]}/$PLEN
interface Tunnel0
 ip address 172.16.0.$2 255.255.255.0
 tunnel source veth$1
 tunnel mode ipsec ipv4
 tunnel destination ${O[$3]}
 tunnel protection ipsec profile IPS
ip route 10.0.$3.0 255.255.255.0 Tunnel0
crypto isakmp policy 10
 encryption aes 256
 hash sha256
 authentication pre-share
 group 14
crypto isakmp key pair-v1-$4 address ${O[$3]}
C
}
conf A 1 2 pair-test-psk-0123456789 >"$W/A.cfg"
conf B 2 1 pair-test-psk-0123456789 >"$W/B.cfg"
conf B 2 1 not-the-right-psk >"$W/B-wrong.cfg"

ip netns exec $NA tshark -q -i vethA -f 'udp port 500 or udp port 4500 or esp' -w "$W/veth.pcap" >"$W/tshark.log" 2>&1 &
PIDS+=($!)
for i in $(seq 100); do grep -qs Capturing "$W/tshark.log" && break; sleep 0.1; done
grep -qs Capturing "$W/tshark.log" || fail "tshark did not start: $(cat "$W/tshark.log")"

# start X CONFIG: vpnd in the foreground of its namespace, pid in $VPID_X
start() {
    ip netns exec vpnpair$1$$ "$VPND" -n -c "$2" -s "$W/$1.ctl" -k "$W/keys$1/wireshark" -l debug \
        -L "$W/$1.log" &
    local pid=$!
    PIDS+=($pid)
    eval VPID_$1=$pid
    for i in $(seq 50); do [ -S "$W/$1.ctl" ] && return 0; kill -0 $pid 2>/dev/null || break; sleep 0.1; done
    fail "vpnd $1 did not start: $(tail -3 "$W/$1.log")"
}
ctl() { local x=$1; shift; "$VPNCTL" -s "$W/$x.ctl" "$@"; }
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"; }
stop() { local v=VPID_$1; kill ${!v}; wait ${!v} 2>/dev/null; }

start A "$W/A.cfg"
start B "$W/B.cfg"
T0=$(date +%s.%N)
ctl A initiate Tunnel0 || fail "initiate refused"
for i in $(seq 100); do
    ctl A status | grep -q "state=up" && ctl B status | grep -q "state=up" && break; sleep 0.05
done
T1=$(date +%s.%N)
ctl A status | grep -q "state=up" || fail "tunnel did not come up: $(ctl A status)"
printf 'tunnel up in %.3f s\n' "$(echo "$T1 - $T0" | bc)"

ip netns exec $NA python3 "$ECHO" 10.0.1.1 10.0.2.1 5 || fail "ping A -> B through the tunnel"
ip netns exec $NB python3 "$ECHO" 10.0.2.1 10.0.1.1 3 || fail "ping B -> A through the tunnel"

for X in A B; do
    ctl $X show crypto ikev2 sa >"$W/$X.ikev2-sa.txt" || fail "vpnctl $X show crypto ikev2 sa"
    grep -q "$O1.*$O2.*READY\|$O2.*$O1.*READY" "$W/$X.ikev2-sa.txt" || fail "$X: IKE SA not READY: $(cat "$W/$X.ikev2-sa.txt")"
    ctl $X show crypto ipsec sa >"$W/$X.ipsec-sa.txt" || fail "vpnctl $X show crypto ipsec sa"
    ctl $X show drops >"$W/$X.drops.txt"
    ctl $X status >"$W/$X.status.txt"
done
SA=$(grep '^Tunnel0' "$W/A.status.txt") SB=$(grep '^Tunnel0' "$W/B.status.txt")
EA=$(field "$SA" pkts_encrypted) DA=$(field "$SA" pkts_decrypted)
EB=$(field "$SB" pkts_encrypted) DB=$(field "$SB" pkts_decrypted)
echo "A encrypted $EA decrypted $DA; B encrypted $EB decrypted $DB"
[ "$EA" = 8 ] && [ "$DB" = 8 ] || fail "A->B counters disagree or are wrong (want 8): A enc $EA, B dec $DB"
[ "$EB" = 8 ] && [ "$DA" = 8 ] || fail "B->A counters disagree or are wrong (want 8): B enc $EB, A dec $DA"
grep -q "#pkts encaps: 8" "$W/A.ipsec-sa.txt" || fail "show crypto ipsec sa: no '#pkts encaps: 8': $(cat "$W/A.ipsec-sa.txt")"
# The transform set says `mode transport`; on a VTI IOS ignores it, as vpnd must.
grep -q "in use settings ={Tunnel, }" "$W/A.ipsec-sa.txt" || fail "show crypto ipsec sa: a VTI's SA not in tunnel mode: $(cat "$W/A.ipsec-sa.txt")"
ctl A bogus command >/dev/null 2>&1 && fail "an unknown control command succeeded"

# Hostile input from the network: garbage IKE on 500 and 4500, short and
# unknown-SPI ESP in UDP and raw ESP. vpnd must count and survive it.
cat >"$W/garbage.py" <<'P'
import os, socket as S
import sys
A, F = sys.argv[1], getattr(S, sys.argv[2])
u = S.socket(F, S.SOCK_DGRAM); r = S.socket(F, S.SOCK_RAW, 50)
for i in range(200):
    n = 1 + i % 97
    u.sendto(os.urandom(n), (A, 500))
    u.sendto(b'\0\0\0\0' + os.urandom(n), (A, 4500))     # marker + junk IKE
    u.sendto(b'\x01' + os.urandom(n + 8), (A, 4500))        # ESP in UDP, unknown SPI
    u.sendto(os.urandom(3)[:1 + i % 3], (A, 4500))          # too short
    r.sendto(b'\x02' + os.urandom(n + 8), (A, 0))          # raw ESP, unknown SPI
P
ip netns exec $NB python3 "$W/garbage.py" $O1 $AF || fail "could not send the garbage"
sleep 0.3
ctl A show drops >"$W/A.drops-after-garbage.txt" || fail "vpnd A does not answer after garbage input"
grep -Eq "^esp: unknown SPI +[1-9]" "$W/A.drops-after-garbage.txt" || fail "unknown-SPI ESP not counted: $(cat "$W/A.drops-after-garbage.txt")"
grep -Eq "^ike: dropped by the engine +[1-9]" "$W/A.drops-after-garbage.txt" || fail "junk IKE not counted"
grep -Eq "^net: UDP 4500 datagram too short +[1-9]" "$W/A.drops-after-garbage.txt" || fail "short datagrams not counted"
ip netns exec $NA python3 "$ECHO" 10.0.1.1 10.0.2.1 1 >/dev/null || fail "tunnel broken by garbage input"
ctl A status | grep -q "pkts_encrypted=9 pkts_decrypted=9" || fail "counters moved by garbage: $(ctl A status)"

# Rekeys during traffic (RFC 7296 2.8, 2.18): no packet lost, and the new
# SAs' keys are written (the capture checks below decrypt all of it).
ip netns exec $NA python3 "$ECHO" 10.0.1.1 10.0.2.1 30 0.02 >"$W/rekey-ping.txt" &
PP=$!
sleep 0.15; ctl A rekey child Tunnel0 >/dev/null || fail "rekey child refused at A"
sleep 0.15; ctl B rekey ike Tunnel0 >/dev/null || fail "rekey ike refused at B"
sleep 0.15; ctl B rekey child Tunnel0 >/dev/null || fail "rekey child refused at B"
wait $PP || fail "packets lost during rekeys: $(cat "$W/rekey-ping.txt")"
cat "$W/rekey-ping.txt"
sleep 0.3
for X in A B; do
    [ "$(wc -l <"$W/keys$X/wireshark/esp_sa")" = 6 ] || fail "$X: want 6 ESP key lines after two CHILD_SA rekeys"
    [ "$(wc -l <"$W/keys$X/wireshark/ikev2_decryption_table")" = 2 ] || fail "$X: want 2 IKE key lines after an IKE rekey"
    ctl $X status | grep -q "state=up" || fail "$X: tunnel not up after the rekeys: $(ctl $X status)"
done

# `initiate` beside an IKE SA whose CHILD_SA went (clear crypto ipsec sa):
# a new CHILD_SA under that IKE SA (RFC 7296 1.3.1), as IOS and strongSwan
# do, not a second IKE SA to the same peer.
IKE_A=$(field "$(ctl A status | grep '^Tunnel0')" ike_sa) IKE_B=$(field "$(ctl B status | grep '^Tunnel0')" ike_sa)
ctl A clear crypto ipsec sa >/dev/null || fail "clear crypto ipsec sa refused"
for i in $(seq 100); do
    ctl A status | grep -q "child_sa=0 " && ctl B status | grep -q "child_sa=0 " && break; sleep 0.05
done
ctl B status | grep -q "child_sa=0 " || fail "B kept its CHILD_SA after A's clear: $(ctl B status)"
ctl A initiate Tunnel0 >/dev/null || fail "initiate refused with the IKE SA up"
for i in $(seq 100); do
    ctl A status | grep -q "state=up" && ctl B status | grep -q "state=up" && break; sleep 0.05
done
for X in A B; do
    ctl $X status | grep -q "state=up" || fail "$X: no CHILD_SA after initiate: $(ctl $X status)"
done
[ "$(field "$(ctl A status | grep '^Tunnel0')" ike_sa)" = "$IKE_A" ] &&
    [ "$(field "$(ctl B status | grep '^Tunnel0')" ike_sa)" = "$IKE_B" ] ||
    fail "initiate did not use the IKE SA that was up: $(ctl A status) / $(ctl B status)"
[ "$(ctl A show crypto ikev2 sa | grep -c READY)" = 1 ] || fail "A: not one IKE SA: $(ctl A show crypto ikev2 sa)"
[ "$(wc -l <"$W/keysA/wireshark/ikev2_decryption_table")" = 2 ] || fail "A: a new IKE SA was made by initiate"
ip netns exec $NA python3 "$ECHO" 10.0.1.1 10.0.2.1 2 >/dev/null || fail "ping through the CHILD_SA made by initiate"
echo "initiate with the IKE SA up: CHILD_SA under IKE SA $IKE_A"

# IKEv1 phase 1 beside the IKEv2 tunnel (crypto isakmp, UDP 500 version
# 1.0): Main Mode up on both sides, its key line written, and a clear at A
# deletes it at B too (RFC 2408 3.15).
ctl A initiate isakmp ${O[2]} >/dev/null || fail "initiate isakmp refused"
for i in $(seq 100); do
    ctl A show crypto isakmp sa | grep -q QM_IDLE && ctl B show crypto isakmp sa | grep -q QM_IDLE && break
    sleep 0.05
done
for X in A B; do
    ctl $X show crypto isakmp sa >"$W/$X.isakmp-sa.txt" || fail "vpnctl $X show crypto isakmp sa"
    grep -q "^$O2 *$O1 *QM_IDLE *[0-9]* ACTIVE" "$W/$X.isakmp-sa.txt" ||
        fail "$X: ISAKMP SA not QM_IDLE (dst B, src A): $(cat "$W/$X.isakmp-sa.txt")"
    [ "$(wc -l <"$W/keys$X/wireshark/ikev1_decryption_table")" = 1 ] || fail "$X: want 1 IKEv1 key line"
done
ctl A clear crypto isakmp >/dev/null || fail "clear crypto isakmp refused"
for i in $(seq 100); do ctl B show crypto isakmp sa | grep -q DELETED && break; sleep 0.05; done
ctl B show crypto isakmp sa | grep -q "MM_NO_STATE *[0-9]* DELETED" ||
    fail "B did not take A's Delete: $(ctl B show crypto isakmp sa)"
ctl A status | grep -q "state=up" || fail "the IKEv1 exchange disturbed the IKEv2 tunnel: $(ctl A status)"

# A wrong PSK: IKE_AUTH fails with AUTHENTICATION_FAILED, no SA stays.
stop B
ctl A clear crypto ikev2 sa >/dev/null
start B "$W/B-wrong.cfg"
ctl A initiate Tunnel0 >/dev/null || fail "initiate refused"
for i in $(seq 100); do grep -q "ike_failed=1" <<<"$(ctl A status)" && break; sleep 0.05; done
grep -q "ike_failed=1" <<<"$(ctl A status)" || fail "wrong PSK did not fail at A: $(ctl A status)"
grep -q "ike_failed=1" <<<"$(ctl B status)" || fail "wrong PSK did not fail at B: $(ctl B status)"
grep -q "failed: peer reports authentication failed" "$W/A.log" || fail "A's log does not say why"
for X in A B; do
    ctl $X show crypto ikev2 sa | grep -q "$O1" && fail "$X keeps an SA after a wrong PSK"
done
[ "$(wc -l <"$W/keysA/wireshark/ikev2_decryption_table")" = 3 ] || fail "A should have 3 IKE key lines (the failed SA too)"
[ "$(wc -l <"$W/keysB/wireshark/ikev2_decryption_table")" = 3 ] || fail "B should have 3 IKE key lines (the failed SA too)"
stop A; stop B

sleep 0.5; kill "${PIDS[0]}"; wait "${PIDS[0]}" 2>/dev/null   # tshark: let it flush
TS() { XDG_CONFIG_HOME="$W/keys$1" tshark -r "$W/veth.pcap" -o esp.enable_encryption_decode:TRUE "${@:2}" 2>/dev/null; }
TS A >"$W/decoded.txt"
NICMP=$(TS A -Y 'icmp.type == 8 or icmp.type == 0' | wc -l)
[ "$NICMP" = 82 ] || fail "tshark decrypted $NICMP ICMP packets from ESP with A's keys, want 82"
[ "$(TS B -Y 'icmp' | wc -l)" = 82 ] || fail "tshark with B's key files: ESP not decrypted"
# Our SAs' packets (not the garbage above) must all decode cleanly.
ESPF=$(sed 's/^"[^"]*","[^"]*","[^"]*","\(0x[0-9a-f]*\)".*/esp.spi == \1 or/' "$W/keysA/wireshark/esp_sa" | tr '\n' ' ')
IKEF=$(cut -d, -f1 "$W/keysA/wireshark/ikev2_decryption_table" | sed 's/^\(.*\)$/isakmp.ispi == \1 or/' | tr '\n' ' ')
NESP=$(TS A -Y "${ESPF% or }" | wc -l)
[ "$NESP" = 82 ] || fail "$NESP ESP packets of our SAs in the capture, want 82"
OURS="$ESPF $IKEF frame.number == 0"
[ "$(TS A -Y "$OURS" | wc -l)" -ge 26 ] || fail "filter for our packets finds too few: $OURS"
NBAD=$(TS A -Y "($OURS) and _ws.malformed" | wc -l)
[ "$NBAD" = 0 ] || fail "$NBAD malformed packets of our SAs in the decrypted capture"
NID=$(TS A -Y 'isakmp.exchangetype == 35 and isakmp.id.type' | wc -l)
# IDi and IDr of the good IKE_AUTH, IDi of the failed one
[ "$NID" = 3 ] || fail "IKE_AUTH not decrypted ($NID messages with identities, want 3)"
TS A -Y 'isakmp.notify.msgtype == 24' | grep -q . ||
    fail "the failed IKE_AUTH's AUTHENTICATION_FAILED notify did not decrypt"
TS B -Y 'isakmp.notify.msgtype == 24' | grep -q . || fail "B's key files do not decrypt the failed IKE_AUTH"
echo "PASS: tunnel, ping both ways, counters agree (8/8), junk survived, rekeys without loss, wrong PSK fails cleanly, capture decrypts"
