#!/bin/bash
# A real GET VPN member against a group simulated in real time (issue 22):
# examples/getvpn-emulation runs in namespace ge-sim-PID attached to the veth
# end vu by VpnEmuHelper (the simulated router P owns 198.18.0.1; behind it
# the simulated key server KS1 192.0.2.2 and member GM1 with host H1
# 10.0.1.1); vpnd runs as a group member in ge-gm-PID (eth0 198.18.0.2, its
# LAN 10.0.2.1 on lo).
#   getvpn-emulation.sh CASE OUTDIR EXAMPLE VPND VPNCTL
# CASE:
#   vpnd-gm  vpnd registers with the simulated KS1; UDP and ICMP from vpnd's
#     LAN to H1 and back, ESP with the addresses preserved both ways on the
#     wire (no clear packet of the policy); 400 datagrams from H1 to a sink
#     on vpnd's LAN (H1 initiates: SIGUSR2); a rekey pushed by KS1 (SIGUSR1 to
#     the simulation) under traffic reaches vpnd, which applies it with no
#     loss; the capture of eth0 decrypts with the key files the run wrote
#     (every ESP packet, under two TEKs, with the simulation's esp_sa; vpnd's
#     phase 1 with KS1 with vpnd's ikev1_decryption_table).
#   vpnd-ks  the other way round: vpnd is the key server (in ge-gm-PID at
#     198.18.0.2, unicast rekeys) and the simulation has no KS1 (--realKs):
#     the simulated GM1 registers with vpnd across the veth, vpnd lists it;
#     `crypto gdoi ks rekey` on vpnd reaches GM1, which applies it and ACKs;
#     the phase 1 between them decrypts with the key files the run wrote.
#     (Control plane only: with one simulated member nothing is encrypted.)
#   errors   exit 2, a message naming the cause and nothing written for: no
#     such interface, a --realKs that is no IPv4 address, a --rekeyAt out of
#     the run, a scenario folder without KS1.cfg and GM1.cfg, a KS1.cfg that
#     does not parse (its line named).
# Needs root; fails, never skips, without it. Logs, capture and the
# simulation's output stay in OUTDIR.
set -u
source "$(dirname "$0")/lib.sh"   # vpnd_gdoi_start (log, fail, spawn, cleanup: this file's own, below)
CASE=${1:?case} W=${2:?outdir} EXAMPLE=${3:?getvpn-emulation binary} VPND=${4:?vpnd} VPNCTL=${5:?vpnctl}
HERE=$(cd "$(dirname "$0")" && pwd)
T0=$(date +%s%N)
log() { printf 'emulation-getvpn-%s [%5ss] %s\n' "$CASE" "$((($(date +%s%N) - T0) / 1000000000))" "$*"; }
fail() {
    echo "FAIL (emulation-getvpn-$CASE): $*" >&2
    echo "logs and capture kept in $W" >&2
    exit 1
}
[ "$(id -u)" = 0 ] || fail "must run as root (network namespaces, TUN devices, AF_PACKET)"
for t in ip tshark dumpcap python3; do command -v $t >/dev/null || fail "$t is not installed (./scripts/deps)"; done
[ -c /dev/net/tun ] || fail "/dev/net/tun is missing"
[ -x "$EXAMPLE" ] || fail "getvpn-emulation not built: $EXAMPLE"
[ -x "$VPND" ] && [ -x "$VPNCTL" ] || fail "vpnd/vpnctl not built: $VPND $VPNCTL"
case $CASE in vpnd-gm|vpnd-ks|errors) ;; *) fail "unknown case $CASE" ;; esac

PIDS=()
NETNS=()
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for i in $(seq 30); do
        local alive=0
        for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && ! grep -qs '^State:.*Z' /proc/$p/status && alive=1; done
        [ $alive = 0 ] && break
        sleep 0.1
    done
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
    wait 2>/dev/null
    for n in "${NETNS[@]}"; do ip netns del "$n" 2>/dev/null; done
    exit $rc
}
# a run killed outright leaves ge-ROLE-PID namespaces: remove those whose run is gone
for n in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^ge-[a-z]+-[0-9]+$'); do
    kill -0 "${n##*-}" 2>/dev/null && ! grep -qs '^State:.*Z' /proc/${n##*-}/status && continue
    for p in $(ip netns pids "$n" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
    ip netns del "$n" 2>/dev/null && echo "removed namespace $n left by a killed run"
done
trap cleanup EXIT
trap 'exit 130' INT TERM
rm -rf "$W"; mkdir -p "$W"

SIM=ge-sim-$$ GM=ge-gm-$$
H1=10.0.1.1 LAN=10.0.2.1 ME=198.18.0.2 P=198.18.0.1
for n in $SIM $GM; do ip netns add $n || fail "cannot create namespace $n"; NETNS+=($n); done
ip link add vu netns $SIM type veth peer name eth0 netns $GM || fail "cannot create a veth pair"
ip -n $SIM link set lo up; ip -n $SIM link set vu up
ip -n $GM link set lo up
ip -n $GM addr add $ME/24 dev eth0
ip -n $GM link set eth0 up
ip -n $GM addr add $LAN/32 dev lo
# the crypto map's policy routing makes reverse-path checks look at the TUN
ip netns exec $GM sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
    net.ipv4.conf.eth0.rp_filter=0 net.ipv4.conf.lo.rp_filter=0
# the simulated network: KS1, GM1's WAN and H1's LAN, all through P
for r in 192.0.2.0/30 198.51.100.4/30 10.0.1.0/24; do ip -n $GM route add $r via $P; done

if [ "$CASE" = vpnd-ks ]; then
# vpnd is the key server on the veth; GM1 sits behind P at 198.51.100.6.
ip -n $GM route del 192.0.2.0/30 via $P
cat >"$W/ks.cfg" <<C
hostname KSR
crypto isakmp policy 10
 encryption aes 256
 hash sha256
 authentication pre-share
 group 14
crypto isakmp key getvpn-emu-psk address 0.0.0.0 0.0.0.0
crypto key generate rsa label GETVPN-KEY modulus 2048
crypto ipsec transform-set TS esp-aes 256 esp-sha256-hmac
crypto ipsec profile GETVPN-PROF
 set transform-set TS
ip access-list extended POLICY
 deny udp any eq 848 any eq 848
 permit ip 10.0.0.0 0.255.255.255 10.0.0.0 0.255.255.255
crypto gdoi group GETVPN
 identity number 1234
 server local
  rekey authentication mypubkey rsa GETVPN-KEY
  sa ipsec 1
   profile GETVPN-PROF
   match address ipv4 POLICY
   replay time window-size 5
  address ipv4 $ME
interface eth0
 ip address $ME 255.255.255.0
C
fi
cat >"$W/gm.cfg" <<C
hostname GMR
crypto isakmp policy 10
 encryption aes 256
 hash sha256
 authentication pre-share
 group 14
crypto isakmp key getvpn-emu-psk address 192.0.2.2
crypto gdoi group GETVPN
 identity number 1234
 server address ipv4 192.0.2.2
crypto map GETMAP 10 gdoi
 set group GETVPN
interface eth0
 ip address $ME 255.255.255.0
 crypto map GETMAP
C

spawn() { # NS LOG CMD...: in the background; pid in SPAWNED
    local ns=$1 lg=$2; shift 2
    ip netns exec $ns "$@" >"$lg" 2>&1 &
    SPAWNED=$!
    PIDS+=($SPAWNED)
}
wait_for() { # SECONDS CMD...
    local end=$(($(date +%s) + $1)); shift
    until "$@" >/dev/null 2>&1; do [ "$(date +%s)" -ge $end ] && return 1; sleep 0.1; done
}
ctl() { "$VPNCTL" -s "$W/gm.ctl" "$@"; }
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1" | head -1; }
gmline() { ctl status | grep '^gm '; }
registered() { gmline | grep -q state=registered; }
sum() { python3 -c "import json,sys; print(json.load(open(sys.argv[2]))[sys.argv[1]])" "$1" "$W/sim/summary.json"; }
p_answers() {
    kill -0 $SIM_PID || return 2
    ip netns exec $GM python3 -c "import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'x', ('$P', 9))"
    sleep 0.05
    ip -n $GM neigh show $P | grep -q lladdr
}
# echo_start N PPS TAG / echo_end TAG: N datagrams and 20 ICMP echoes from vpnd's
# LAN to H1, echoed back by H1; every one must come back once.
echo_start() {
    spawn $GM "$W/$3-send.log" python3 "$HERE/traffic.py" send --src $LAN --dst $H1 --port 5001 \
        --count "$1" --rate "$2" --icmp 20 --flow $3 --out "$W/$3-sent.json" --echo-out "$W/$3-echo.json"
    ECHO_PID=$SPAWNED
}
echo_end() {
    wait $ECHO_PID
    [ -f "$W/$1-echo.json" ] || fail "traffic.py wrote no echo count: $(cat "$W/$1-send.log")"
    python3 "$HERE/traffic.py" check --sent "$W/$1-sent.json" --received "$W/$1-echo.json" \
        --name "vpnd -> H1 -> vpnd ($1)" || fail "traffic was lost between the real and the simulated member"
    log "round trip vpnd -> GM1 -> H1 -> GM1 -> vpnd ($1): $(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print('median %s ms, p99 %s ms' % (d['rtt_ms_median'], d['rtt_ms_p99']))" "$W/$1-echo.json")"
}

# refused TAG CAUSE ARGS...: exit 2, CAUSE in the message, no summary.
refused() {
    local tag=$1 cause=$2 rc; shift 2
    ip netns exec $SIM "$EXAMPLE" --out="$W/$tag" --duration=5 "$@" >"$W/$tag.log" 2>&1
    rc=$?
    [ $rc = 2 ] || fail "$tag: exit $rc, want 2: $(cat "$W/$tag.log")"
    grep -q -- "$cause" "$W/$tag.log" || fail "$tag: the message does not say '$cause': $(cat "$W/$tag.log")"
    [ ! -e "$W/$tag/summary.txt" ] || fail "$tag: a summary was written"
    log "$tag: exit 2, $(head -1 "$W/$tag.log")"
}
errors_case() {
    refused missing "interface nosuch0: does not exist" --interface=nosuch0
    refused realks "--realKs: '198.18.0' is not an IPv4 address" --interface=vu --realKs=198.18.0
    refused rekeyat "--rekeyAt: '9' is not a time within the run" --interface=vu --rekeyAt=2,9
    mkdir -p "$W/empty"
    refused scenario "cannot read KS1.cfg and GM1.cfg" --interface=vu --scenario="$W/empty"
    mkdir -p "$W/broken"
    cp "$HERE/../../scenarios/getvpn-emulation/GM1.cfg" "$W/broken/"
    sed 's/^  rekey lifetime seconds 86400$/  rekey lifetime seconds forever/' \
        "$HERE/../../scenarios/getvpn-emulation/KS1.cfg" >"$W/broken/KS1.cfg"
    cmp -s "$W/broken/KS1.cfg" "$HERE/../../scenarios/getvpn-emulation/KS1.cfg" && fail "the broken KS1.cfg is not broken"
    local line
    line=$(grep -n 'rekey lifetime seconds forever' "$W/broken/KS1.cfg" | cut -d: -f1)
    refused config "line $line" --interface=vu --scenario="$W/broken"
    echo "PASS: emulation-getvpn-$CASE"
}

# vpnd-ks: vpnd as key server, the simulated GM1 registers with it.
ks_case() {
    local st n
    kctl() { "$VPNCTL" -s "$W/ks.ctl" "$@"; }
    ksline() { kctl status | grep '^ks '; }
    vpnd_gdoi_start $GM ks -r "$W/rekey-key.pem"
    mkdir -p "$W/sim"
    spawn $SIM "$W/sim.log" "$EXAMPLE" --interface=vu --peerNetns=$GM --peerInterface=eth0 --out="$W/sim" \
        --duration=120 --realKs=$ME
    SIM_PID=$SPAWNED
    wait_for 10 p_answers || fail "the simulation did not start: $(tail -5 "$W/sim.log")"
    ip -n $GM route add 198.51.100.4/30 via $P 2>/dev/null
    wait_for 20 sh -c "'$VPNCTL' -s '$W/ks.ctl' status | grep -q '^ks .* members=1'" ||
        fail "the simulated GM1 did not register with vpnd: $(ksline)"
    kctl show crypto gdoi ks members >"$W/ks.members.txt" 2>&1
    grep -q 198.51.100.6 "$W/ks.members.txt" || fail "vpnd does not list GM1: $(cat "$W/ks.members.txt")"
    log "GM1 registered with vpnd: $(ksline)"
    kctl crypto gdoi ks rekey >"$W/rekey.txt" 2>&1 || fail "crypto gdoi ks rekey: $(cat "$W/rekey.txt")"
    wait_for 10 sh -c "'$VPNCTL' -s '$W/ks.ctl' status | grep -q '^ks .* acks=[1-9]'" ||
        fail "GM1 did not acknowledge vpnd's rekey: $(ksline)"
    log "vpnd rekeyed, GM1 acknowledged: $(ksline)"
    kill -TERM $SIM_PID
    wait $SIM_PID || fail "the simulation exited with $?: $(tail -5 "$W/sim.log")"
    sleep 0.3
    kill -INT $CAP_PID; wait $CAP_PID 2>/dev/null
    cat "$W/sim/summary.txt"
    n=$(sum gm1_registered); [ "$n" = 1 ] || fail "GM1 reports $n groups registered"
    n=$(sum gm1_rekeys); [ "$n" -ge 1 ] || fail "GM1 applied no rekey"
    mkdir -p "$W/ws/wireshark"
    cat "$W/sim/wireshark/ikev1_decryption_table" "$W/keys-ks/wireshark/ikev1_decryption_table" 2>/dev/null \
        >"$W/ws/wireshark/ikev1_decryption_table"
    cp "$W/sim/wireshark/decode_as_entries" "$W/ws/wireshark/" || fail "the simulation wrote no decode_as_entries"
    n=$(XDG_CONFIG_HOME="$W/ws" tshark -r "$W/eth0.pcap" -Y "isakmp and ip.addr == 198.51.100.6" -V 2>/dev/null |
        grep -c 'Payload: Identification (5)')
    [ "$n" -ge 2 ] || fail "GM1's phase 1 with vpnd not decrypted: $n identification payloads"
    n=$(tshark -r "$W/eth0.pcap" -d udp.port==848,isakmp -Y "isakmp.exchangetype == 33 and ip.dst == 198.51.100.6" 2>/dev/null | wc -l)
    [ "$n" -ge 1 ] || fail "no GROUPKEY-PUSH from vpnd to GM1 on the wire"
    log "capture: GM1's phase 1 with vpnd decrypted; $n rekey push(es) to GM1"
    echo "PASS: emulation-getvpn-$CASE"
}

spawn $GM "$W/dumpcap.log" dumpcap -q -P -i eth0 -f 'not arp' -w "$W/eth0.pcap"
CAP_PID=$SPAWNED
wait_for 5 grep -q Capturing "$W/dumpcap.log" || fail "dumpcap did not start: $(cat "$W/dumpcap.log")"

[ "$CASE" = vpnd-ks ] && { ks_case; exit; }
[ "$CASE" = errors ] && { errors_case; exit; }

mkdir -p "$W/sim"
spawn $SIM "$W/sim.log" "$EXAMPLE" --interface=vu --peerNetns=$GM --peerInterface=eth0 --out="$W/sim" --duration=120 \
    --h1Send=400
SIM_PID=$SPAWNED
wait_for 10 p_answers || fail "the simulation did not start: $(tail -5 "$W/sim.log")"
log "simulated P answers on the veth"

vpnd_gdoi_start $GM gm
VPND_PID=$SPAWNED
wait_for 20 registered || fail "vpnd did not register with the simulated KS1: $(gmline)"
log "vpnd registered: $(gmline)"
# GM1 registers at 0.5 s of simulated time: on a quick machine vpnd is
# registered before that, and traffic sent then would find GM1 without a TEK
gm1_has_tek() { grep -q 'GM1 installed a TEK' "$W/sim.log"; }
wait_for 20 gm1_has_tek || fail "the simulated GM1 installed no TEK: $(tail -5 "$W/sim.log")"

echo_start 200 200 warm; echo_end warm
SEQ0=$(field "$(gmline)" seq)
udp_out() { ip netns exec $GM awk '/^Udp:/ && $2 ~ /^[0-9]+$/ {print $5}' /proc/net/snmp; }
U0=$(udp_out)
echo_start 2000 400 rekey
# one second of the flow went out (python may take seconds to start under load)
flowing() { [ "$(udp_out)" -ge $((U0 + 400)) ]; }
wait_for 20 flowing || fail "the traffic did not start"
log "KS1 rekeys (SIGUSR1 to the simulation) under traffic"
kill -USR1 $SIM_PID
echo_end rekey
wait_for 10 sh -c "[ \"\$('$VPNCTL' -s '$W/gm.ctl' status | sed -n 's/^gm .* seq=\([0-9]*\).*/\1/p')\" -gt '$SEQ0' ]" ||
    fail "vpnd did not apply KS1's rekey: $(gmline) (seq was $SEQ0)"
[ "$(field "$(gmline)" rekeys)" -ge 1 ] || fail "vpnd counts no rekey: $(gmline)"
log "vpnd applied the rekey: $(gmline)"
echo_start 200 200 after; echo_end after
# the other way: H1 sends 400 datagrams (SIGUSR2) to a sink on vpnd's LAN
spawn $GM "$W/sink.log" python3 "$HERE/traffic.py" sink --bind $LAN --port 5003 --out "$W/h1-sink.json"
SINK_PID=$SPAWNED
wait_for 10 test -f "$W/h1-sink.json.ready" || fail "the sink did not start: $(cat "$W/sink.log")"
kill -USR2 $SIM_PID
sleep 4
kill -TERM $SINK_PID; wait $SINK_PID
N=$(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(d['received'], d['dups'])" "$W/h1-sink.json")
[ "$N" = "400 0" ] || fail "vpnd's LAN received (datagrams, duplicates) $N of H1's 400"
log "H1 -> vpnd's LAN: 400 datagrams received once each"
ctl show crypto gdoi >"$W/gm.show-gdoi.txt" 2>&1
ctl show crypto ipsec sa >"$W/gm.ipsec-sa.txt" 2>&1

kill -TERM $SIM_PID
(sleep 20; kill -KILL $SIM_PID 2>/dev/null) &
WD=$!
wait $SIM_PID; RC=$?
kill $WD 2>/dev/null
[ $RC = 0 ] || fail "the simulation exited with $RC: $(tail -5 "$W/sim.log")"
sleep 0.3
kill -INT $CAP_PID; wait $CAP_PID 2>/dev/null
cat "$W/sim/summary.txt"

N=$(sum h1_udp_echoed); [ "$N" = 2400 ] || fail "H1 echoed $N UDP datagrams, want 2400"
N=$(sum ks_registrations); [ "$N" -ge 2 ] || fail "KS1 counted $N registrations, want GM1 and vpnd"
N=$(sum ks_rekeys); [ "$N" -ge 1 ] || fail "KS1 sent no rekey"
N=$(sum gm1_rekeys); [ "$N" -ge 1 ] || fail "GM1 received no rekey"
N=$(sum gm1_decrypted); [ "$N" -ge 2440 ] || fail "GM1 decrypted $N packets, want at least 2440"
N=$(sum gm1_encrypted); [ "$N" -ge 2840 ] || fail "GM1 encrypted $N packets, want at least 2840 (echoes and H1's own)"
N=$(sum h1_udp_sent); [ "$N" = 400 ] || fail "H1 sent $N of its 400 datagrams"
grep -q "$ME" "$W/sim/show-KS1.txt" || fail "show-KS1.txt does not list vpnd ($ME) as a member"
log "real-time lag: mean $(sum rt_lag_mean_ms) ms, max $(sum rt_lag_max_ms) ms"

# ESP decrypts with the simulation's key files alone (every TEK GM1
# installed); the phase 1s with the simulation's and vpnd's tables together:
# the simulated KS1 exports no keys of the phase 1s it answered (a member
# does), so vpnd's line is the one for its own phase 1 with KS1.
mkdir -p "$W/ws"
cp -r "$W/sim/wireshark" "$W/ws/" || fail "the simulation wrote no key files"
cat "$W/keys-gm/wireshark/ikev1_decryption_table" >>"$W/ws/wireshark/ikev1_decryption_table" ||
    fail "vpnd wrote no ikev1_decryption_table"
TS() { XDG_CONFIG_HOME="$W/ws" tshark -r "$W/eth0.pcap" -o esp.enable_encryption_decode:TRUE "$@" 2>/dev/null; }
CLEAR=$(tshark -r "$W/eth0.pcap" -Y 'ip.src == 10.0.0.0/8 and ip.dst == 10.0.0.0/8 and not esp' 2>/dev/null | wc -l)
[ "$CLEAR" = 0 ] || fail "$CLEAR clear packets of the policy on the wire"
for d in "$LAN $H1" "$H1 $LAN"; do
    set -- $d
    N=$(tshark -r "$W/eth0.pcap" -Y "esp and ip.src == $1 and ip.dst == $2" 2>/dev/null | wc -l)
    [ "$N" -ge 2440 ] || fail "$N ESP packets $1 -> $2 with the addresses preserved, want at least 2420"
done
NESP=$(TS -Y esp | wc -l)
NDEC=$(TS -Y 'esp and (udp.port == 5001 or udp.port == 5003 or icmp)' | wc -l)
[ "$NESP" -gt 0 ] && [ "$NESP" = "$NDEC" ] || fail "tshark decrypted $NDEC of $NESP ESP packets with the simulation's esp_sa"
NSPI=$(TS -Y esp -T fields -e esp.spi | sort -u | wc -l)
[ "$NSPI" -ge 2 ] || fail "ESP under $NSPI SPIs, want the TEK before and after the rekey"
[ "$(TS -Y '_ws.malformed or _ws.expert.severity >= error' | wc -l)" = 0 ] ||
    fail "malformed packets in the decrypted capture: $(TS -Y '_ws.malformed or _ws.expert.severity >= error' | head -3)"
# the rekey came amid ESP: packets under the first TEK in the second before
# the first GROUPKEY-PUSH to vpnd, under a later one after it
TS -Y "esp or (isakmp.exchangetype == 33 and ip.dst == $ME)" -T fields -e frame.time_relative -e esp.spi \
    -e isakmp.exchangetype >"$W/esp-rekey.txt"
python3 - "$W/esp-rekey.txt" <<'PY' || fail "the rekey did not come amid ESP traffic"
import sys
rows = [l.rstrip('\n').split('\t') for l in open(sys.argv[1]) if l.strip()]
push = next(float(r[0]) for r in rows if len(r) > 2 and r[2] == '33')
esp = [(float(r[0]), r[1]) for r in rows if r[1]]
first = esp[0][1]
before = sum(1 for t, s in esp if push - 1.0 <= t <= push and s == first)
after = sum(1 for t, s in esp if t > push and s != first)
print("ESP under %s in the second before the push: %d; under new TEKs after it: %d" % (first, before, after))
sys.exit(0 if before > 0 and after > 0 else 1)
PY
NID=$(TS -Y "isakmp and ip.addr == $ME" -V | grep -c 'Payload: Identification (5)')
[ "$NID" -ge 2 ] || fail "vpnd's phase 1 with KS1 not decrypted: $NID identification payloads"
NREKEY=$(tshark -r "$W/eth0.pcap" -d udp.port==848,isakmp -Y "isakmp.exchangetype == 33 and ip.dst == $ME" 2>/dev/null | wc -l)
[ "$NREKEY" -ge 1 ] || fail "no GROUPKEY-PUSH to vpnd on the wire"
log "capture: $NESP ESP packets both ways under $NSPI SPIs, all decrypted; vpnd's phase 1 decrypted; $NREKEY rekey push(es) to vpnd"
echo "PASS: emulation-getvpn-$CASE"
