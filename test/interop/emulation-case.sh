#!/bin/bash
# A real strongSwan against a router simulated in real time (issue 22):
# examples/flexvpn-emulation runs in the namespace of our side, attached to
# the veth end vu by VpnEmuHelper (the kernel there has no address on vu: the
# simulated R1 owns 198.18.0.1); charon runs in the other namespace as the
# interop harness (lib.sh) starts it. Behind R1 the simulated host H1
# (10.0.1.1) echoes UDP and ICMP.
#   emulation-case.sh CASE OUTDIR EXAMPLE
# CASE:
#   swan-init   strongSwan initiates, R1 answers
#   swan-resp   R1 initiates, strongSwan answers
#     both: tunnel up, UDP and ICMP to H1 and back, a CHILD_SA rekey (by
#     strongSwan) under traffic with no loss, the capture of the veth
#     decrypted with the key files the simulation wrote.
#   fresh-keys  two runs with the same RngSeed/RngRun: R1's IKE SPI, nonce
#     and ESP SPI differ (OS entropy); with --osEntropy=0 they are equal
#     (the control that shows the check can fail).
#   rate (a measurement, not a ctest; RATE_PPS=N [RATE_COUNT=M]): strongSwan initiates, then
#     M (default 5 x N) 1,000-byte datagrams at N per second to H1 and back;
#     prints loss, round trip and the simulation's real-time lag.
#   spokes      --spokes 3: R1 is also the hub of three simulated spokes;
#     strongSwan (its remote traffic selector 10.0.0.0/16) initiates; the
#     spokes' tunnels come up in the simulation; UDP and ICMP from
#     strongSwan's LAN to H1 and to the host behind every spoke (10.0.1K.1)
#     and back, through R1 and the spoke's tunnel.
#   errors      no such interface, an interface that is down, one whose
#     checksum offload cannot be switched off (lo): exit 2 and a message
#     naming the interface and the cause.
# Needs root; fails, never skips, without it. Logs, captures and the
# simulation's output stay in OUTDIR.
set -u
CASE=${1:?case}; INTEROP_OUT=${2:-}; EXAMPLE=${3:?flexvpn-emulation binary}
US_KIND=emulation
source "$(dirname "$0")/lib.sh"

IKE_PROPOSAL=aes128gcm16-prfsha256-ecp256
ESP_PROPOSAL=aes128gcm16
AUTH=psk
PSK="interop-psk-0123456789" # as in scenarios/flexvpn-emulation/R1.cfg
H1=10.0.1.1                   # the simulated host behind R1

interop_require
[ -x "$EXAMPLE" ] || fail "missing prerequisites: flexvpn-emulation, not built at $EXAMPLE"
interop_setup "emulation-$CASE" em
log "work folder $W"
# The simulated R1 owns our side's addresses: the kernel must not answer for them.
ip -n $NS_US addr flush dev vu
ip -n $NS_US addr del $US_INNER/32 dev lo

# sim_start TAG ARGS...: the example in our namespace, output in $W/TAG.
sim_start() {
    local tag=$1; shift
    mkdir -p "$W/$tag"
    spawn $NS_US "$W/$tag.log" "$EXAMPLE" --interface=vu --peerNetns=$NS_SWAN --peerInterface=vs \
        --out="$W/$tag" "$@"
    SIM_PID=$SPAWNED
    # The simulated R1 answers ARP once it runs.
    wait_for 10 r1_answers || fail "the simulation did not start: $(tail -5 "$W/$tag.log")"
}
r1_answers() {
    kill -0 $SIM_PID || return 2
    in_swan $PY -c "import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'x', ('$US_OUTER', 9))"
    sleep 0.05
    ip -n $NS_SWAN neigh show $US_OUTER | grep -q lladdr
}

# sim_stop: SIGTERM ends the run cleanly (summary and key files written).
sim_stop() {
    kill -TERM $SIM_PID 2>/dev/null
    # (kill -0 would see the exited child as a zombie until wait reaps it.)
    (sleep 20; kill -KILL $SIM_PID 2>/dev/null) &
    local watchdog=$! rc
    wait $SIM_PID
    rc=$?
    # SIGKILL: a TERM can reach the just-forked watchdog before it resets the
    # traps it inherited, and it would then run this script's EXIT trap
    # (cleanup: namespaces deleted under the next step's feet).
    kill -KILL $watchdog 2>/dev/null
    log "simulation ended (exit $rc)"
    [ $rc = 0 ] || fail "the simulation exited with $rc: $(tail -5 "$W/$TAG.log")"
}

swan_capture() {
    spawn $NS_SWAN "$W/dumpcap.log" dumpcap -q -P -i vs -f 'udp port 500 or udp port 4500 or esp' -w "$W/$1"
    CAP_PID=$SPAWNED
    wait_for 5 grep -q Capturing "$W/dumpcap.log" || fail "dumpcap did not start: $(cat "$W/dumpcap.log")"
}

charon_up() {
    charon_conf "$W/swan"
    swanctl_conf "$W/swan" $SWAN_ID $US_ID $SWAN_OUTER $US_OUTER $SWAN_NET $US_NET "$PSK" "" ""
    start_charon $NS_SWAN "$W/swan"
}

# child_spis: strongSwan's installed CHILD_SA as "spi-in spi-out", one line per SA.
child_spis() {
    swan --list-sas --raw 2>/dev/null | grep -o 'spi-in=[0-9a-f]* spi-out=[0-9a-f]*' || true
}
installed() { [ "$(child_spis | wc -l)" -ge 1 ]; }

# sum KEY FILE: a figure from the simulation's summary.json.
sum() { $PY -c "import json,sys; print(json.load(open(sys.argv[2]))[sys.argv[1]])" "$1" "$2"; }

# echo_start N PPS TAG / echo_end TAG [HOST]: N UDP datagrams (and ICMP echoes) from strongSwan's
# LAN address to H1, echoed back by H1; every one must come back once.
echo_start() {
    spawn $NS_SWAN "$W/$3-send.log" $PY "$HERE/traffic.py" send --src $SWAN_INNER --dst $H1 --port 5001 \
        --count "$1" --rate "$2" --icmp 20 --flow $3 --out "$W/$3-sent.json" --echo-out "$W/$3-echo.json"
    ECHO_PID=$SPAWNED
}
echo_end() {
    wait $ECHO_PID
    [ -f "$W/$1-echo.json" ] || fail "traffic.py wrote no echo count: $(cat "$W/$1-send.log")"
    $PY "$HERE/traffic.py" check --sent "$W/$1-sent.json" --received "$W/$1-echo.json" \
        --name "strongSwan -> ${2:-H1} -> strongSwan ($1)" || fail "traffic was lost through the simulated router"
    log "round trip through R1 ($1): $($PY -c "import json,sys; d=json.load(open(sys.argv[1])); print('median %s ms, p99 %s ms, max %s ms' % (d['rtt_ms_median'], d['rtt_ms_p99'], d['rtt_ms_max']))" "$W/$1-echo.json")"
}

tunnel_case() {
    local init=0
    [ "$CASE" = swan-resp ] && init=1
    swan_capture veth.pcap
    charon_up
    TAG=sim
    sim_start sim --duration=120 --initiate=$init
    if [ $init = 0 ]; then
        swan --initiate --ike t --child c --timeout 10 >>"$W/swan/ctl.log" 2>&1 ||
            log "swanctl --initiate returned non-zero"
    fi
    wait_for 15 installed || fail "the tunnel did not come up (strongSwan $([ $init = 0 ] && echo initiator || echo responder)): $(tail -3 "$W/swan/charon.log")"
    local before; before=$(child_spis)
    log "tunnel up: strongSwan's CHILD_SA $before"
    echo_traffic_1() { echo_start 200 400 warm; echo_end warm; }
    echo_traffic_1
    # 2,000 datagrams at 500 pps; strongSwan rekeys the CHILD_SA 1.5 s in.
    echo_start 2000 500 rekey
    sleep 1.5
    log "CHILD_SA rekey by strongSwan during traffic"
    swan --rekey --child c >>"$W/swan/ctl.log" 2>&1 || log "swanctl --rekey returned non-zero"
    echo_end rekey
    wait_for 10 sh -c "[ \"\$(STRONGSWAN_CONF='$W/swan/strongswan.conf' swanctl --list-sas --raw --uri unix://$W/swan/charon.vici | grep -o 'spi-in=[0-9a-f]* spi-out=[0-9a-f]*' | wc -l)\" = 1 ]" ||
        fail "after the rekey strongSwan does not hold exactly one CHILD_SA"
    local after; after=$(child_spis)
    [ "$after" != "$before" ] || fail "the CHILD_SA was not rekeyed (still $after)"
    log "rekeyed: $before -> $after"
    echo_start 200 400 after; echo_end after
    sim_stop
    stop_capture
    cat "$W/sim/summary.txt"
    local n
    n=$(sum child_sas_installed "$W/sim/summary.json")
    [ "$n" -ge 2 ] || fail "the simulation installed $n CHILD_SAs, want 2 (initial and rekeyed)"
    n=$(sum h1_udp_echoed "$W/sim/summary.json")
    [ "$n" = 2400 ] || fail "H1 echoed $n UDP datagrams, want 2400"
    log "real-time lag: mean $(sum rt_lag_mean_ms "$W/sim/summary.json") ms, max $(sum rt_lag_max_ms "$W/sim/summary.json") ms"
    # The veth seen from strongSwan's side decrypts with the simulation's key files:
    # IKE_AUTH, the rekey and its delete; ESP under two SA pairs, the rekey amid it.
    $PY "$HERE/judge.py" capture "$W/veth.pcap" "$W/sim" --min-ike 6 --min-spis 4 --amid-esp ||
        fail "the capture does not decrypt cleanly with the simulation's key files"
    grep -q "vpnd.test" "$W/sim/show-R1.txt" || grep -q "198.18.0.2" "$W/sim/show-R1.txt" ||
        fail "show-R1.txt lists no session with the peer"
}

# R1's IKE SPI, nonce and first ESP SPI as it answered strongSwan: one run.
# fresh_run TAG SIMARGS...
fresh_run() {
    local tag=$1; shift
    swan_capture "$tag.pcap"
    TAG=$tag
    sim_start $tag --duration=60 "$@"
    swan --initiate --ike t --child c --timeout 10 >>"$W/swan/ctl.log" 2>&1 || log "swanctl --initiate returned non-zero"
    wait_for 15 installed || fail "the tunnel did not come up ($tag)"
    # strongSwan's outbound SPI is the one R1 chose.
    child_spis | head -1 | sed 's/.*spi-out=//' >"$W/$tag.esp"
    swan --terminate --ike t --timeout 10 >>"$W/swan/ctl.log" 2>&1
    sim_stop
    stop_capture
    # The IKE_SA_INIT response (from R1): its responder SPI and nonce.
    tshark -r "$W/$tag.pcap" -Y "isakmp.exchangetype == 34 && ip.src == $US_OUTER" -T fields \
        -e isakmp.rspi -e isakmp.nonce 2>/dev/null | head -1 | tr -d '\n' >"$W/$tag.ike"
    echo " $(cat "$W/$tag.esp")" >>"$W/$tag.ike"
    [ -s "$W/$tag.ike" ] || fail "no IKE_SA_INIT response from R1 in $tag.pcap"
    log "$tag: R1's IKE SPI, nonce, ESP SPI: $(cat "$W/$tag.ike")"
}

fresh_case() {
    charon_up
    fresh_run os1
    fresh_run os2
    fresh_run seeded1 --osEntropy=0
    fresh_run seeded2 --osEntropy=0
    cmp -s "$W/seeded1.ike" "$W/seeded2.ike" ||
        fail "control: with --osEntropy=0 two runs should repeat R1's SPI and nonce (check broken?)"
    $PY - "$W/os1.ike" "$W/os2.ike" <<'P' || fail "two runs against a real peer used the same SPI or nonce"
import sys
a, b = (open(p).read().split() for p in sys.argv[1:3])
if len(a) != 3 or len(b) != 3:
    sys.exit("FAIL: cannot read IKE SPI, nonce and ESP SPI")
if a[0] == b[0]: sys.exit("FAIL: same IKE SPI %s" % a[0])
if a[1] == b[1]: sys.exit("FAIL: same nonce %s" % a[1])
if a[2] == b[2]: sys.exit("FAIL: same ESP SPI %s" % a[2])
print("two runs: R1's IKE SPIs %s / %s, ESP SPIs %s / %s, nonces differ" % (a[0], b[0], a[2], b[2]))
P
    grep -q '"entropy": "os"' "$W/os1/summary.json" || fail "the summary does not say entropy os"
}

# expect_exit2 WHAT IFNAME CAUSE: the example refuses IFNAME with exit 2 and
# a message naming it and the cause, and writes nothing.
expect_exit2() {
    local what=$1 ifname=$2 cause=$3 rc
    in_us "$EXAMPLE" --interface="$ifname" --out="$W/$what" --duration=2 >"$W/$what.log" 2>&1
    rc=$?
    [ $rc = 2 ] || fail "$what: exit $rc, want 2: $(cat "$W/$what.log")"
    grep -q "interface $ifname: .*$cause" "$W/$what.log" ||
        fail "$what: the message does not name interface $ifname and '$cause': $(cat "$W/$what.log")"
    [ ! -e "$W/$what/summary.txt" ] || fail "$what: a summary was written"
    log "$what: exit 2, $(cat "$W/$what.log")"
}

errors_case() {
    expect_exit2 missing nosuch0 "does not exist"
    ip -n $NS_US link set vu down
    expect_exit2 down vu "is not up"
    ip -n $NS_US link set vu up
    # The loopback's checksum offload is fixed on.
    expect_exit2 offload lo "checksum offload"
    # The peer's side too: a veth end in another namespace that does not exist there.
    local rc
    in_us "$EXAMPLE" --interface=vu --peerNetns=$NS_SWAN --peerInterface=nosuch1 --out="$W/peer" \
        --duration=2 >"$W/peer.log" 2>&1
    rc=$?
    [ $rc = 2 ] && grep -q "interface nosuch1 in network namespace $NS_SWAN: does not exist" "$W/peer.log" ||
        fail "peer: exit $rc: $(cat "$W/peer.log")"
    log "peer: exit 2, $(cat "$W/peer.log")"
}

spokes_case() {
    local k n
    US_NET=10.0.0.0/16 # H1 and the spokes' LANs
    charon_up
    swan_capture veth.pcap
    TAG=sim
    sim_start sim --duration=120 --spokes=3
    swan --initiate --ike t --child c --timeout 10 >>"$W/swan/ctl.log" 2>&1 || log "swanctl --initiate returned non-zero"
    wait_for 15 installed || fail "the tunnel did not come up: $(tail -3 "$W/swan/charon.log")"
    log "tunnel up: strongSwan's CHILD_SA $(child_spis)"
    echo_start 200 400 h1; echo_end h1
    for k in 1 2 3; do
        spawn $NS_SWAN "$W/s$k-send.log" $PY "$HERE/traffic.py" send --src $SWAN_INNER --dst 10.0.1$k.1 --port 5001 \
            --count 200 --rate 400 --icmp 20 --flow s$k --out "$W/s$k-sent.json" --echo-out "$W/s$k-echo.json"
        ECHO_PID=$SPAWNED
        echo_end s$k H1$k
    done
    sim_stop
    stop_capture
    cat "$W/sim/summary.txt"
    for k in 1 2 3; do
        n=$(sum s${k}_ike_sas_up "$W/sim/summary.json")
        [ "$n" -ge 1 ] || fail "spoke S$k has no IKE SA with R1"
        n=$(sum h1${k}_udp_echoed "$W/sim/summary.json")
        [ "$n" = 200 ] || fail "H1$k echoed $n UDP datagrams, want 200"
    done
    n=$(sum ike_sas_up "$W/sim/summary.json")
    [ "$n" -ge 4 ] || fail "R1 counts $n IKE SAs up, want strongSwan's and three spokes'"
    $PY "$HERE/judge.py" capture "$W/veth.pcap" "$W/sim" --min-ike 2 --min-spis 2 ||
        fail "the capture does not decrypt cleanly with the simulation's key files"
}

rate_case() {
    local pps=${RATE_PPS:?rate needs PPS} count=${RATE_COUNT:-$((RATE_PPS * 5))}
    charon_up
    TAG=sim
    sim_start sim --duration=300
    swan --initiate --ike t --child c --timeout 10 >>"$W/swan/ctl.log" 2>&1
    wait_for 15 installed || fail "the tunnel did not come up"
    spawn $NS_SWAN "$W/rate-send.log" $PY "$HERE/traffic.py" send --src $SWAN_INNER --dst $H1 --port 5001 \
        --count "$count" --rate "$pps" --size 1000 --flow rate --out "$W/rate-sent.json" --echo-out "$W/rate-echo.json"
    wait $SPAWNED
    sim_stop
    $PY - "$W/rate-sent.json" "$W/rate-echo.json" "$W/sim/summary.json" "$pps" <<'P'
import json, sys
s, e, m = (json.load(open(p)) for p in sys.argv[1:4])
print("rate %s pps x %d (1,000-byte datagrams, sent in %.1f s): %d echoed back (loss %.2f %%), "
      "round trip median %s ms, p99 %s ms; real-time lag mean %.2f ms, max %.1f ms" % (
      sys.argv[4], s["udp_sent"], s["seconds"], e["received"], 100.0 * (s["udp_sent"] - e["received"]) / s["udp_sent"],
      e["rtt_ms_median"], e["rtt_ms_p99"], m["rt_lag_mean_ms"], m["rt_lag_max_ms"]))
P
}

case $CASE in
swan-init|swan-resp) tunnel_case ;;
rate) rate_case ;;
fresh-keys) fresh_case ;;
spokes) spokes_case ;;
errors) errors_case ;;
*) fail "unknown case $CASE" ;;
esac
log "PASS"
