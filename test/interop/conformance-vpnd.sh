#!/bin/bash
# conformance-vpnd: the router conformance scenarios (test/core/router-
# conformance-test.c, test/sim/conformance-test-suite.cc) through two vpnd in
# network namespaces joined by a veth pair, a PSK VTI between them:
#   dpd     on-demand DPD (`dpd 10 2 on-demand`) asks nothing while traffic is
#           answered, and takes the IKE SA down (dead peer) once the peer
#           stops answering (vpnd B frozen with SIGSTOP) and traffic goes on;
#   bytes   `lifetime kilobytes 2560`: ~3.6 MB through the tunnel, the
#           CHILD_SA is rekeyed on the soft byte limit, nothing is lost;
#   rekey   a CHILD_SA rekey under traffic both ways loses nothing and the
#           old pair is removed 2 s (the router's grace) after it is deleted;
#   natt    UDP 4500: NAT-keepalives taken as such, runts and unknown-SPI ESP
#           in UDP dropped and counted, the tunnel unharmed. (No NAT here:
#           ESP in UDP after a real NAT is checked by conformance-core.)
# Root only; a missing prerequisite is a failure, never a skip.
#
# usage: conformance-vpnd.sh VPND VPNCTL WORKDIR [SCENARIO...]
set -u
source "$(dirname "$0")/ios-psk.sh"
VPND=$1 VPNCTL=$2 W=$3
ECHO=$(cd "$(dirname "$0")" && pwd)/icmp-echo.py   # ICMP echo through the tunnel: SRC DST COUNT [INTERVAL]
shift 3
SCENARIOS=${*:-dpd bytes rekey natt}
fail() { echo "FAIL: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || fail "must run as root (network namespaces, TUN devices, UDP 500)"
for t in ip python3; do command -v $t >/dev/null || fail "$t is not installed (./scripts/deps)"; done
[ -c /dev/net/tun ] || fail "/dev/net/tun is missing"
[ -x "$VPND" ] && [ -x "$VPNCTL" ] || fail "vpnd/vpnctl not built: $VPND $VPNCTL"

NA=vpnconfA$$ NB=vpnconfB$$
O1=198.18.1.1 O2=198.18.1.2
O=("" $O1 $O2)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill -CONT "$p" 2>/dev/null; kill "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
    ip netns del $NA 2>/dev/null
    ip netns del $NB 2>/dev/null
}
trap cleanup EXIT
rm -rf "$W"; mkdir -p "$W"
ip netns add $NA && ip netns add $NB || fail "cannot create network namespaces"
ip link add vethA netns $NA type veth peer name vethB netns $NB || fail "cannot create a veth pair"
ip -n $NA addr add $O1/24 dev vethA; ip -n $NB addr add $O2/24 dev vethB
ip -n $NA addr add 10.0.1.1/32 dev lo; ip -n $NB addr add 10.0.2.1/32 dev lo
for n in $NA $NB; do ip -n $n link set lo up; done
ip -n $NA link set vethA up; ip -n $NB link set vethB up

# conf NAME LOCAL REMOTE PROFILE_EXTRA IPSEC_EXTRA
conf() {
cat <<C
hostname $1
$(ios_ikev2_psk PEER "${O[$3]}" "conformance-psk-0123456789")
crypto ikev2 profile PROF
 match identity remote address ${O[$3]} 255.255.255.255
 identity local address ${O[$2]}
 authentication local pre-share
 authentication remote pre-share
 keyring local KR
$4
crypto ipsec transform-set TS esp-aes 256 esp-sha256-hmac
crypto ipsec profile IPS
 set transform-set TS
 set ikev2-profile PROF
$5
interface veth$1
 ip address ${O[$2]}/24
interface Tunnel0
 ip address 172.16.0.$2 255.255.255.0
 tunnel source veth$1
 tunnel mode ipsec ipv4
 tunnel destination ${O[$3]}
 tunnel protection ipsec profile IPS
ip route 10.0.$3.0 255.255.255.0 Tunnel0
C
}

cat >"$W/udp.py" <<'P'
# Numbered UDP datagrams through the tunnel.
#   udp.py send SRC DST COUNT SIZE PPS   |   udp.py recv ADDR SECONDS (prints distinct numbers received)
import socket as S, struct, sys, time
if sys.argv[1] == 'send':
    src, dst, n, size, pps = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])
    s = S.socket(S.AF_INET, S.SOCK_DGRAM); s.bind((src, 0))
    t0 = time.time()
    for i in range(n):
        while time.time() < t0 + i / pps:
            time.sleep(0.0002)
        s.sendto(struct.pack('!I', i) + b'x' * (size - 4), (dst, 9999))
else:
    addr, secs = sys.argv[2], float(sys.argv[3])
    s = S.socket(S.AF_INET, S.SOCK_DGRAM); s.setsockopt(S.SOL_SOCKET, S.SO_RCVBUF, 1 << 22)
    s.bind((addr, 9999)); s.settimeout(0.2)
    seen = set(); end = time.time() + secs
    while time.time() < end:
        try: seen.add(struct.unpack('!I', s.recv(65536)[:4])[0])
        except OSError: pass
    print(len(seen))
P

ctl() { local x=$1; shift; "$VPNCTL" -s "$W/$SC.$x.ctl" "$@"; }
# begin SCENARIO PROFILE_EXTRA IPSEC_EXTRA: both vpnd up, the tunnel established
begin() {
    SC=$1
    conf A 1 2 "$2" "$3" >"$W/$SC.A.cfg"
    conf B 2 1 "$2" "$3" >"$W/$SC.B.cfg"
    for X in A B; do
        ip netns exec vpnconf$X$$ "$VPND" -n -c "$W/$SC.$X.cfg" -s "$W/$SC.$X.ctl" -l info -L "$W/$SC.$X.log" &
        local pid=$!
        PIDS+=($pid)
        eval VPID_$X=$pid
        for i in $(seq 50); do [ -S "$W/$SC.$X.ctl" ] && break; kill -0 $pid 2>/dev/null || break; sleep 0.1; done
        [ -S "$W/$SC.$X.ctl" ] || fail "$SC: vpnd $X did not start: $(tail -3 "$W/$SC.$X.log")"
    done
    ctl A initiate Tunnel0 >/dev/null || fail "$SC: initiate refused"
    for i in $(seq 100); do
        ctl A status | grep -q "state=up" && ctl B status | grep -q "state=up" && break; sleep 0.05
    done
    ctl A status | grep -q "state=up" || fail "$SC: tunnel did not come up: $(ctl A status)"
}
end() {
    for X in A B; do
        local v=VPID_$X
        kill -CONT ${!v} 2>/dev/null; kill ${!v} 2>/dev/null; wait ${!v} 2>/dev/null
        rm -f "$W/$SC.$X.ctl"
    done
    echo "ok: $SC"
}
out_requests() { ctl A show crypto ikev2 stats | sed -n 's/^Outgoing IKEv2 Requests: *\([0-9]*\).*/\1/p'; }
ms_of() { # the log time (HH:MM:SS.mmm) of the first line matching $2 in log $1, in ms
    local t; t=$(grep -m1 -- "$2" "$1" | cut -d' ' -f1) || return 1
    [ -n "$t" ] || return 1
    IFS=:. read -r h m s ms <<<"$t"
    echo $(( (10#$h * 3600 + 10#$m * 60 + 10#$s) * 1000 + 10#$ms ))
}

for S in $SCENARIOS; do
case $S in
dpd)
    begin dpd " dpd 10 2 on-demand" ""
    R0=$(out_requests)
    ip netns exec $NA python3 "$ECHO" 10.0.1.1 10.0.2.1 48 0.25 >"$W/dpd.ping1.txt" ||
        fail "dpd: answered traffic lost: $(tail -1 "$W/dpd.ping1.txt")"
    R1=$(out_requests)
    [ "$R0" = "$R1" ] || fail "dpd: liveness checks while every packet was answered ($R0 -> $R1 requests)"
    kill -STOP $VPID_B   # the peer stops answering anything
    T0=$(date +%s)
    ip netns exec $NA python3 "$ECHO" 10.0.1.1 10.0.2.1 100000 0.2 >"$W/dpd.ping2.txt" 2>&1 &
    PING=$!
    PIDS+=($PING)
    for i in $(seq 1200); do grep -q "down: dead peer" "$W/dpd.A.log" && break; sleep 0.1; done
    T1=$(date +%s)
    kill $PING 2>/dev/null; wait $PING 2>/dev/null
    grep -q "IKE SA [0-9]* with $O2 down: dead peer" "$W/dpd.A.log" ||
        fail "dpd: the silent peer was not found by DPD: $(tail -5 "$W/dpd.A.log")"
    [ $((T1 - T0)) -ge 10 ] || fail "dpd: found after $((T1 - T0)) s, before 10 s of silence"
    echo "dpd: dead peer found after $((T1 - T0)) s of silence"
    ctl A status | grep -q "state=up" && fail "dpd: the tunnel still claims an SA: $(ctl A status)"
    end
    ;;
bytes)
    begin bytes "" " set security-association lifetime kilobytes 2560"
    ip netns exec $NB python3 "$W/udp.py" recv 10.0.2.1 12 >"$W/bytes.recv.txt" &
    RCV=$!
    PIDS+=($RCV)
    sleep 0.5
    ip netns exec $NA python3 "$W/udp.py" send 10.0.1.1 10.0.2.1 3000 1200 1000 || fail "bytes: sender failed"
    wait $RCV
    GOT=$(cat "$W/bytes.recv.txt")
    grep -q "soft lifetime reached: rekey" "$W/bytes.A.log" "$W/bytes.B.log" ||
        fail "bytes: no rekey on the byte limit: $(grep -h CHILD_SA "$W/bytes.A.log" | tail -5)"
    grep -q "rekeyed as" "$W/bytes.A.log" || fail "bytes: CHILD_SA not rekeyed at A"
    [ "$GOT" = 3000 ] || fail "bytes: $GOT of 3000 datagrams arrived"
    echo "bytes: rekeyed on the byte limit, 3000/3000 datagrams"
    end
    ;;
rekey)
    begin rekey "" ""
    ip netns exec $NB python3 "$W/udp.py" recv 10.0.2.1 9 >"$W/rekey.recvB.txt" &
    R1=$!
    ip netns exec $NA python3 "$W/udp.py" recv 10.0.1.1 9 >"$W/rekey.recvA.txt" &
    R2=$!
    PIDS+=($R1 $R2)
    sleep 0.5
    ip netns exec $NA python3 "$W/udp.py" send 10.0.1.1 10.0.2.1 2000 200 500 &
    S1=$!
    ip netns exec $NB python3 "$W/udp.py" send 10.0.2.1 10.0.1.1 2000 200 500 &
    S2=$!
    PIDS+=($S1 $S2)
    sleep 1.5
    ctl A rekey child Tunnel0 >/dev/null || fail "rekey: refused at A"
    wait $S1 $S2 $R1 $R2
    [ "$(cat "$W/rekey.recvB.txt")" = 2000 ] || fail "rekey: A->B $(cat "$W/rekey.recvB.txt") of 2000"
    [ "$(cat "$W/rekey.recvA.txt")" = 2000 ] || fail "rekey: B->A $(cat "$W/rekey.recvA.txt") of 2000"
    OLD=$(sed -n 's/.*CHILD_SA \([0-9]*\) rekeyed as.*/\1/p' "$W/rekey.A.log" | head -1)
    [ -n "$OLD" ] || fail "rekey: no CHILD_SA rekeyed at A"
    for X in A B; do
        D=$(ms_of "$W/rekey.$X.log" "CHILD_SA $OLD down: rekeyed") || fail "rekey: $X: old CHILD_SA $OLD not deleted"
        G=$(ms_of "$W/rekey.$X.log" "CHILD_SA $OLD removed") || fail "rekey: $X: old CHILD_SA $OLD never removed"
        [ $((G - D)) -ge 1990 ] && [ $((G - D)) -le 2300 ] ||
            fail "rekey: $X removed the old pair $((G - D)) ms after its deletion, not the 2 s grace"
        echo "rekey: $X kept the old inbound SA $((G - D)) ms"
    done
    echo "rekey: 2000/2000 both ways"
    end
    ;;
natt)
    begin natt "" ""
    cat >"$W/natt.py" <<'P'
import os, socket as S, sys
u = S.socket(S.AF_INET, S.SOCK_DGRAM)
a = (sys.argv[1], 4500)
for i in range(5): u.sendto(b'\xff', a)                             # NAT-keepalives (RFC 3948 2.3)
for i in range(3): u.sendto(b'\x01\x02', a)                         # too short to be anything
for i in range(4): u.sendto(b'\x7e\x11\x22\x33' + os.urandom(60), a) # ESP in UDP, unknown SPI
for i in range(2): u.sendto(b'\0\0\0\0' + os.urandom(40), a)          # marker + junk IKE
P
    ip netns exec $NB python3 "$W/natt.py" $O1 || fail "natt: could not send"
    sleep 0.3
    ctl A show drops >"$W/natt.drops.txt" || fail "natt: vpnd A does not answer"
    grep -Eq "^natt: keepalives received +5$" "$W/natt.drops.txt" || fail "natt: keepalives: $(grep natt "$W/natt.drops.txt")"
    grep -Eq "^net: UDP 4500 datagram too short +3$" "$W/natt.drops.txt" || fail "natt: runts: $(grep short "$W/natt.drops.txt")"
    grep -Eq "^esp: unknown SPI +4$" "$W/natt.drops.txt" || fail "natt: unknown SPI: $(grep SPI "$W/natt.drops.txt")"
    grep -Eq "^ike: dropped by the engine +[1-9]" "$W/natt.drops.txt" || fail "natt: junk IKE not counted"
    ip netns exec $NA python3 "$ECHO" 10.0.1.1 10.0.2.1 3 >/dev/null || fail "natt: tunnel broken"
    echo "natt: 5 keepalives taken, 3 runts and 4 unknown-SPI datagrams dropped and counted"
    end
    ;;
*) fail "unknown scenario $S" ;;
esac
done
echo "conformance-vpnd: all passed"
