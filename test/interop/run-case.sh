#!/bin/bash
# One interop case against strongSwan, our side as initiator or responder.
#   run-case.sh CASE init|resp OUTDIR VPND VPNCTL
# CASE: psk-ecp19-gcm psk-modp2048-cbc cert-rsa cert-ecdsa rekey dpd delete wrongpsk
#       frag-mtu1280 (cert-rsa over a 1280-octet path that drops IP fragments:
#       RFC 7383 fragments must fit whole, non-ESP marker included)
#       loss10 (10 % random loss on the path: five bring-ups and deletes)
#       cert-rsa-legacy (charon without RFC 7427: we sign with method 1)
#       cert-chain (our certificate from an intermediate CA strongSwan does not
#       hold: we send it as a second CERT payload)
#       chacha (ChaCha20-Poly1305 IKE and ESP, X25519: Wireshark 4.0 decrypts
#       neither, so vpnd writes no key line for them and KEYDIR/esp.plain.pcap
#       holds the inner packet of every ESP packet instead, KEYDIR/ike.plain.pcap
#       every encrypted IKE message decrypted)
#       window (`crypto ikev2 window 5`: vpnd announces SET_WINDOW_SIZE in
#       IKE_AUTH; strongSwan has no window setting and announces none, so vpnd
#       keeps one request in flight towards it through CHILD_SA and IKE_SA
#       rekeys asked for at once; RFC 7296 2.3)
#       collide-init, collide-child, collide-ike, collide-delete: both sides act
#       at once over a path that holds every frame 300 ms (relay.py), so the two
#       requests cross (RFC 7296 2.8.1 simultaneous rekeys, 2.25 exchange
#       collisions): both IKE_SA_INIT; both rekey the CHILD_SA; both rekey the
#       IKE SA; one deletes the CHILD_SA the other rekeys. The ROLE says who
#       brought the tunnel up. Each ends with one IKE SA and one CHILD_SA on both
#       sides (none for collide-delete's CHILD_SA ... then up again) and traffic.
#       collide-init: strongSwan keeps both IKE SAs it sees made at once (its
#       uniqueness check only meets established duplicates); vpnd deletes the
#       one with the higher SPIs (at once if it initiated the other, else
#       after 10 s), so both sides end with the same one.
#       collide-child-cdel, collide-child-ike, collide-child-idel,
#       collide-ike-idel, collide-ike-cdel: the rest of ikev2-collision's
#       matrix on the same path, two different actions at once (child: CHILD_SA
#       rekey, ike: IKE SA rekey, cdel: Delete of the CHILD_SA, idel: Delete of
#       the IKE SA). Here the ROLE says who does what: -init, our side takes the
#       first action named and strongSwan the second (and our side brought the
#       tunnel up); -resp the other way round. Each ends as the matrix does
#       (one IKE SA and one CHILD_SA; none after a CHILD_SA Delete, nothing
#       after an IKE SA Delete), then the tunnel is made whole again and
#       carries traffic; the capture shows the two requests in flight at once.
#       collide-child and collide-ike also check the survivor against the four
#       nonces read from the decrypted capture (RFC 7296 2.8.1/2.8.2) and
#       append the nonce order seen to OUTDIR/collisions.txt.
#       collide-child-lost, collide-ike-lost, collide-child-late,
#       collide-ike-late: collide-child / collide-ike with one message
#       perturbed by relay.py: -lost drops the first CREATE_CHILD_SA answer
#       (-init: ours, -resp: strongSwan's; the requester retransmits), -late
#       holds the first CREATE_CHILD_SA request 500 ms longer (-init:
#       strongSwan's, -resp: ours). The ROLE again says who brought the tunnel up.
#       natt (the initiator behind a NAPT, nat.py: our side as init, strongSwan
#       as resp; NAT detection, ESP in UDP through the mapped ports, then the
#       NAT rebinds and the side outside follows the new port, RFC 7296 2.23)
#       ipv6 (the psk-ecp19-gcm exchange over an IPv6 underlay, 2001:db8:18::/64,
#       IPv4 inside; the capture decrypts with our key files)
# INTEROP_US=charon puts a charon on our side instead of vpnd (harness self-check).
# INTEROP_STALL=S stops relay.py for S seconds, six times 0.7 s apart, in each
# traffic flow of a case with a relay: the stalls of a loaded machine, on
# purpose (harness self-check: the no-loss verdicts must hold through them).
# Exit 0 only when every verdict of the case holds; logs, configurations,
# key files and the capture stay in OUTDIR.
set -u
CASE=${1:?case}; ROLE=${2:?init or resp}; INTEROP_OUT=${3:-}; VPND=${4:-}; VPNCTL=${5:-}
US_KIND=${INTEROP_US:-vpnd}
source "$(dirname "$0")/lib.sh"
[ "$ROLE" = init ] || [ "$ROLE" = resp ] || fail "role must be init or resp, not $ROLE"

# ---- case parameters ------------------------------------------------------------
AUTH=psk
PSK_US="interop-psk-0123456789"
PSK_SWAN="$PSK_US"
gcm() {
    IKE_PROPOSAL=aes128gcm16-prfsha256-ecp256; ESP_PROPOSAL=aes128gcm16
    IOS_ENCR=aes-gcm-128; IOS_INTEG=; IOS_PRF=sha256; IOS_GROUP=19; IOS_TSET="esp-gcm 128"
    SWAN_IKE_ALG="encr=AES_GCM_16 keysize=128 prf=PRF_HMAC_SHA2_256 dh=ECP_256"
    SWAN_ESP_ALG="encr=AES_GCM_16 keysize=128"
    WS_IKE_ENCR="AES-GCM-128 with 16 octet ICV [RFC5282]"; WS_IKE_INTEG="NONE [RFC4306]"
    WS_ESP_ENCR="AES-GCM with 16 octet ICV [RFC4106]"; WS_ESP_AUTH="NULL"
}
cbc() {
    IKE_PROPOSAL=aes256-sha256-modp2048; ESP_PROPOSAL=aes256-sha256
    IOS_ENCR=aes-cbc-256; IOS_INTEG=sha256; IOS_PRF=sha256; IOS_GROUP=14; IOS_TSET="esp-aes 256 esp-sha256-hmac"
    SWAN_IKE_ALG="encr=AES_CBC keysize=256 integ=HMAC_SHA2_256_128 prf=PRF_HMAC_SHA2_256 dh=MODP_2048"
    SWAN_ESP_ALG="encr=AES_CBC keysize=256 integ=HMAC_SHA2_256_128"
    WS_IKE_ENCR="AES-CBC-256 [RFC3602]"; WS_IKE_INTEG="HMAC_SHA2_256_128 [RFC4868]"
    WS_ESP_ENCR="AES-CBC [RFC3602]"; WS_ESP_AUTH="HMAC-SHA-256-128 [RFC4868]"
}
chacha() {
    IKE_PROPOSAL=chacha20poly1305-prfsha256-x25519; ESP_PROPOSAL=chacha20poly1305
    IOS_ENCR=chacha20-poly1305; IOS_INTEG=; IOS_PRF=sha256; IOS_GROUP=31; IOS_TSET="esp-chacha20-poly1305"
    SWAN_IKE_ALG="encr=CHACHA20_POLY1305 prf=PRF_HMAC_SHA2_256 dh=CURVE_25519"
    SWAN_ESP_ALG="encr=CHACHA20_POLY1305"
    WS_IKE_ENCR=; WS_IKE_INTEG=; WS_ESP_ENCR=; WS_ESP_AUTH=
}
case $CASE in
    psk-ecp19-gcm|rekey|dpd|delete|wrongpsk) gcm ;;
    chacha) chacha ;;
    psk-modp2048-cbc) cbc ;;
    cert-rsa) cbc; AUTH=rsa ;;
    cert-ecdsa) gcm; AUTH=ecdsa ;;
    frag-mtu1280) cbc; AUTH=rsa; PATH_MTU=1280; RELAY="--drop-fragments" ;;
    cert-chain) cbc; AUTH=rsa; PKI_CHAIN=yes ;;
    cert-rsa-legacy) cbc; AUTH=rsa; CHARON_RFC7427=no ;;
    window) gcm; IOS_GLOBAL="crypto ikev2 window 5" ;;
    collide-*-lost) gcm; BRINGUP_S=40   # -init: our answer lost; -resp: strongSwan's
        RELAY="--delay 300 --drop-ike-answer $([ "$ROLE" = init ] && echo $US_OUTER || echo $SWAN_OUTER)" ;;
    collide-*-late) gcm; BRINGUP_S=40   # -init: strongSwan's request late; -resp: ours
        RELAY="--delay 300 --hold-ike-request $([ "$ROLE" = init ] && echo $SWAN_OUTER || echo $US_OUTER):500" ;;
    collide-*) gcm; RELAY="--delay 300"; BRINGUP_S=40 ;;
    loss10) gcm; RELAY="--loss 0.1 --seed 18"; CHARON_TRIES=6
        IOS_GLOBAL="crypto ikev2 retransmit count 8 timeout 500 max-timeout 2" ;;
    natt) gcm; if [ "$ROLE" = init ]; then nat_use us; else nat_use swan; fi ;;
    ipv6) gcm; US_OUTER=2001:db8:18::1; SWAN_OUTER=2001:db8:18::2; OUTER_PLEN=64 ;;
    *) fail "unknown case $CASE" ;;
esac
[ "$CASE" = wrongpsk ] && PSK_US="wrong-psk-9876543210"
# DPD: the shortest IOS allows (10 s, retries every 2 s) and 2 s for charon.
[ "$CASE" = dpd ] && { IOS_DPD="10 2 periodic"; SW_DPD=2s; }

# What strongSwan's own view must show of every SA.
ALGS=(--swan-ike "$SWAN_IKE_ALG" --swan-esp "$SWAN_ESP_ALG" --swan-ids "$SWAN_ID $US_ID")

interop_require
interop_setup "interop-$CASE-$ROLE"
log "work folder $W (our side: $US_KIND)"
[ "$AUTH" = psk ] || make_pki "$W/pki" "$AUTH"
touch "$W/ike-spis"

start_capture
charon_conf "$W/swan"
swanctl_conf "$W/swan" $SWAN_ID $US_ID $SWAN_OUTER ${US_SEEN:-$US_OUTER} $SWAN_NET $US_NET "$PSK_SWAN" "$W/pki/ca.crt" "$W/pki"
start_charon $NS_SWAN "$W/swan"
SWAN_PID=$CHARON_PID_swan
us_start
log "charon (pid $SWAN_PID) and our side (pid $US_PID) running"

# ---- steps ----------------------------------------------------------------------
judge() { $PY "$HERE/judge.py" "$@"; }

# snap TAG: both views into $W/TAG-us.json and $W/TAG-swan.json; IKE SPIs recorded.
snap() {
    us_view "$W/$1-us.json"
    swan_list "$W/swan" "$W/$1-swan.raw"
    judge view-swan "$W/$1-swan.raw" "$W/$1-swan.json"
    $PY - "$W/$1-swan.json" "$W/ike-spis" <<'P'
import json, sys
v = json.load(open(sys.argv[1])); seen = open(sys.argv[2]).read().split("\n")
with open(sys.argv[2], "a") as f:
    for s in v["ike"]:
        l = "%s %s" % (s["spi_i"], s["spi_r"])
        if s["spi_r"] != "0000000000000000" and l not in seen:
            f.write(l + "\n"); seen.append(l)
P
}

# settled IKE CHILD: both views show exactly that many established SAs.
settled() { snap cur && judge pair "$W/cur-us.json" "$W/cur-swan.json" --ike "$1" --child "$2" "${ALGS[@]}"; }
empty() { snap cur && judge none "$W/cur-us.json" "$W/cur-swan.json"; }

# flowing N: our side's CHILD_SA has carried at least N packets each way.
flowing() {
    us_view "$W/flow-us.json" && $PY - "$W/flow-us.json" "$1" <<'P'
import json, sys
v = json.load(open(sys.argv[1])); n = int(sys.argv[2])
sys.exit(0 if v["child"] and all(c["pkts_in"] >= n and c["pkts_out"] >= n for c in v["child"]) else 1)
P
}

wait_settled() { # IKE CHILD SECONDS WHAT
    wait_for "$3" settled "$1" "$2" || { settled "$1" "$2"; fail "$4"; }
}
wait_empty() { # SECONDS WHAT
    wait_for "$1" empty || { empty; fail "$2"; }
}

# bring_up: the role's initiator starts IKE; both sides settle on one IKE SA
# and one CHILD_SA.
bring_up() {
    if [ "$ROLE" = init ]; then
        us_initiate || log "our initiate command returned non-zero"
    else
        swan --initiate --ike t --child c --timeout 10 >>"$W/swan/ctl.log" 2>&1 ||
            log "swanctl --initiate returned non-zero"
    fi
    wait_settled 1 1 ${BRINGUP_S:-15} "the tunnel did not come up (our side as $ROLE)"
    log "tunnel up"
}

# rekey_by child|ike: the role's initiator rekeys.
rekey_by() {
    if [ "$ROLE" = init ]; then
        us_rekey "$1" || log "our rekey $1 command returned non-zero"
    else
        if [ "$1" = child ]; then swan --rekey --child c >>"$W/swan/ctl.log" 2>&1
        else swan --rekey --ike t >>"$W/swan/ctl.log" 2>&1; fi || log "swanctl --rekey $1 returned non-zero"
    fi
}

SINK_PORT=5001
FLOW=0
# traffic_start COUNT RATE ICMP: UDP both ways (and ICMP echo both ways) in the background.
traffic_start() {
    FLOW=$((FLOW + 1))
    local t="$W/traffic$FLOW"
    for side in us swan; do rm -f "$t-$side-sink.json.ready"; done
    spawn $NS_US "$t-us-sink.log" $PY "$HERE/traffic.py" sink --bind $US_INNER --port $SINK_PORT --out "$t-us-sink.json"
    SINK_US=$SPAWNED
    spawn $NS_SWAN "$t-swan-sink.log" $PY "$HERE/traffic.py" sink --bind $SWAN_INNER --port $SINK_PORT --out "$t-swan-sink.json"
    SINK_SWAN=$SPAWNED
    # 20 s: python3 may be a pyenv shim, slow to start on a loaded machine
    wait_for 20 test -f "$t-us-sink.json.ready" -a -f "$t-swan-sink.json.ready" || fail "traffic sinks did not start"
    net_drops > "$t-drops-before.txt"
    spawn $NS_US "$t-us-send.log" $PY "$HERE/traffic.py" send --src $US_INNER --dst $SWAN_INNER \
        --port $SINK_PORT --count "$1" --rate "$2" --icmp "$3" --flow us$FLOW --out "$t-us-sent.json"
    SEND_US=$SPAWNED
    spawn $NS_SWAN "$t-swan-send.log" $PY "$HERE/traffic.py" send --src $SWAN_INNER --dst $US_INNER \
        --port $SINK_PORT --count "$1" --rate "$2" --icmp "$3" --flow swan$FLOW --out "$t-swan-sent.json"
    SEND_SWAN=$SPAWNED
    if [ -n "${INTEROP_STALL:-}" ] && [ -n "${RELAY_PID:-}" ]; then
        ( for i in 1 2 3 4 5 6; do
              sleep 0.7; kill -STOP $RELAY_PID 2>/dev/null; sleep $INTEROP_STALL; kill -CONT $RELAY_PID 2>/dev/null
          done ) &
    fi
}

# traffic_end: waits for the senders, stops the sinks, checks nothing was lost.
traffic_end() {
    local t="$W/traffic$FLOW" rc=0
    wait $SEND_US $SEND_SWAN
    sleep 0.5
    kill -TERM $SINK_US $SINK_SWAN
    wait $SINK_US $SINK_SWAN
    [ -f "$t-us-sink.json" ] && [ -f "$t-swan-sink.json" ] || fail "a traffic sink wrote no count"
    net_drops > "$t-drops.txt"
    $PY "$HERE/traffic.py" check --sent "$t-us-sent.json" --received "$t-swan-sink.json" --name "ours -> strongSwan" || rc=1
    $PY "$HERE/traffic.py" check --sent "$t-swan-sent.json" --received "$t-us-sink.json" --name "strongSwan -> ours" || rc=1
    if [ $rc != 0 ]; then
        log "socket and device drop counters that moved during the flow:"
        diff "$t-drops-before.txt" "$t-drops.txt" | grep '^>' | sed 's/^> /    /'
        fail "traffic was lost"
    fi
}

traffic() { traffic_start "$@"; traffic_end; }

# final_capture ARGS: stops the capture and judges it with our key files.
final_capture() {
    stop_capture
    us_keys
    judge capture "$W/wan.pcap" "$W/ws" "$@" || fail "the capture does not decrypt cleanly with our key files"
}

swan_log_has() { grep -q -- "$1" "$W/swan/charon.log"; }

# collide_capture: the capture stopped and our key files beside it, for the
# collision verdicts read from the decrypted IKE messages; all of it must
# decrypt, the Delete of the redundant IKE SA of an IKE SA rekey collision
# too (vpnd writes a key line for every IKE SA once it has keys), but for
# collide-ike-lost-resp's: when strongSwan's answer to our rekey is lost
# and strongSwan wins, it deletes the SA that answer made, whose keys vpnd
# never learnt (INFORMATIONAL from strongSwan, unanswered, allowed alone).
collide_capture() {
    local foreign=()
    stop_capture
    us_keys
    [ "$CASE-$ROLE" = collide-ike-lost-resp ] && foreign=(--foreign-delete-from "$SWAN_OUTER")
    judge capture "$W/wan.pcap" "$W/ws" "${foreign[@]}" || fail "the capture does not decrypt cleanly with our key files"
}

# act_us / act_swan child|ike|cdel|idel: one side rekeys the CHILD_SA or the
# IKE SA, or deletes the CHILD_SA or the IKE SA (each in the background: the
# caller waits).
act_us() {
    case $1 in
        child|ike) us_rekey "$1" ;;
        cdel) vpnctl clear crypto ipsec sa >>"$W/us/ctl.log" 2>&1 ;;
        idel) us_clear ;;
    esac
}
act_swan() {
    case $1 in
        child) swan --rekey --child c ;;
        ike) swan --rekey --ike t ;;
        cdel) swan --terminate --child c --timeout 15 ;;
        idel) swan --terminate --ike t --timeout 15 ;;
    esac >>"$W/swan/ctl.log" 2>&1
}

# ---- cases ----------------------------------------------------------------------
case $CASE in
psk-*|cert-*|frag-*)
    bring_up
    # strongSwan verified our AUTH with the method of the case.
    case $AUTH in psk) how="pre-shared key" ;; rsa) how="RSA_EMSA" ;; ecdsa) how="ECDSA_WITH" ;; esac
    # without RFC 7427 RSA is RFC 7296 3.8 method 1, which charon logs so
    [ "$CASE" = cert-rsa-legacy ] && how="RSA signature"

    grep -q "authentication of '$US_ID' with $how.* successful" "$W/swan/charon.log" ||
        fail "strongSwan's log does not show our AUTH verified with $how"
    traffic 200 400 10
    sleep 0.3
    snap final
    judge pair "$W/final-us.json" "$W/final-swan.json" "${ALGS[@]}" --counters --pkts 220 || fail "views or counters disagree"
    final_capture --esp-spis "$W/final-us.json" --min-ike 2
    if [ "$CASE" = frag-mtu1280 ]; then
        # Both IKE_AUTH messages went in RFC 7383 fragments (payload 53),
        # every datagram fit 1280 octets, and none was IP-fragmented.
        relay_stop
        for who in $US_OUTER $SWAN_OUTER; do
            n=$(tshark -r "$W/wan.pcap" -Y "ip.src == $who && isakmp.nextpayload == 53" 2>/dev/null | wc -l)
            [ "$n" -ge 2 ] || fail "$who sent $n RFC 7383 fragments (the case needs IKE_AUTH in fragments)"
        done
        big=$(tshark -r "$W/wan.pcap" -Y 'ip.len > 1280 || ip.flags.mf == 1 || ip.frag_offset > 0' 2>/dev/null | wc -l)
        [ "$big" = 0 ] || fail "$big datagrams were larger than 1280 octets or IP fragments"
        log "relay: $(cat "$W/relay.json")"
    fi
    if [ "$CASE" = cert-chain ]; then
        # strongSwan built the path through the intermediate we sent.
        grep -q 'Interop Intermediate CA' "$W/swan/charon.log" ||
            fail "strongSwan's log does not name our intermediate CA"
        grep -q 'sending certificate .* with 1 intermediate' "$W/us/vpnd.log" ||
            fail "vpnd's log does not say it sends one intermediate"
    fi
    ;;
rekey)
    bring_up
    snap before
    # 6 s of traffic at 2000 pps, so that all three rekeys (each a swanctl or
    # vpnctl round trip) fall inside it; the first pair must carry traffic
    # before it is rekeyed (the capture is judged on six SPIs): wait for it
    # rather than for a fixed time, which a loaded machine overran.
    traffic_start 12000 2000 20
    wait_for 10 flowing 200 || log "traffic not seen on the first CHILD_SA within 10 s"
    log "CHILD_SA rekey by $( [ $ROLE = init ] && echo our side || echo strongSwan) during traffic"
    rekey_by child
    sleep 1.0
    log "IKE_SA rekey during traffic"
    rekey_by ike
    sleep 0.8
    # A CHILD_SA rekey under the new IKE SA: it works, and its keys decrypt.
    log "CHILD_SA rekey under the new IKE SA"
    rekey_by child
    traffic_end
    wait_settled 1 1 10 "after the rekeys the sides do not settle on one IKE SA and one CHILD_SA"
    # The last pair must carry traffic too, however late the rekeys fell.
    traffic 400 1000 5
    snap final
    judge pair "$W/final-us.json" "$W/final-swan.json" "${ALGS[@]}" --counters --pkts 300 ||
        fail "views or counters disagree after rekey (or the new CHILD_SA carried too little)"
    $PY - "$W/before-us.json" "$W/final-us.json" <<'P' || fail "the SAs were not rekeyed"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
if a["ike"][0]["spi_i"] == b["ike"][0]["spi_i"]: sys.exit("FAIL: IKE SA SPIs unchanged after rekey")
if a["child"][0]["spi_in"] == b["child"][0]["spi_in"]: sys.exit("FAIL: CHILD_SA SPIs unchanged after rekey")
print("rekeyed: IKE SA %s -> %s, CHILD_SA %s -> %s" % (a["ike"][0]["spi_i"], b["ike"][0]["spi_i"],
      a["child"][0]["spi_in"], b["child"][0]["spi_in"]))
P
    # 3 rekeys, each with its delete: 12 messages besides IKE_AUTH; ESP under 3 SA pairs.
    early=()
    [ "$ROLE" = resp ] && early=(--no-early-send $US_OUTER)
    final_capture --esp-spis "$W/final-us.json" --min-ike 14 --min-spis 6 --amid-esp "${early[@]}"
    ;;
dpd)
    bring_up
    traffic 50 400 5
    if [ "$ROLE" = init ]; then
        # strongSwan stops answering (a dead peer); our side must notice.
        log "charon frozen (SIGSTOP): a dead peer"
        kill -STOP $SWAN_PID
        t=$(now_ms)
        us_dead() { us_view "$W/cur-us.json" && $PY -c "import json,sys; v=json.load(open('$W/cur-us.json')); sys.exit(1 if v['ike'] or v['child'] else 0)"; }
        wait_for 40 us_dead || fail "our side did not detect the dead peer within 40 s"
        [ "$US_KIND" = charon ] || grep -q "dead peer" "$W/us/vpnd.log" || fail "vpnd's log does not say 'dead peer'"
        log "our side detected the dead peer after $(secs_since $t) s"
        kill -KILL $SWAN_PID
        final_capture --min-ike 4
    else
        # Our side stops answering; strongSwan must notice; then our side,
        # resumed, must notice that strongSwan no longer knows the SA.
        log "our side frozen (SIGSTOP): a dead peer for strongSwan"
        kill -STOP $US_PID
        t=$(now_ms)
        swan_dead() { swan_list "$W/swan" "$W/cur-swan.raw" && ! grep -q 'list-sa event' "$W/cur-swan.raw"; }
        wait_for 40 swan_dead || fail "strongSwan did not detect the dead peer within 40 s"
        log "strongSwan detected the dead peer after $(secs_since $t) s"
        swan_log_has "giving up after" || swan_log_has "retransmit" || fail "strongSwan's log shows no DPD retransmissions"
        kill -CONT $US_PID
        t=$(now_ms)
        wait_empty 40 "our side kept its SA after strongSwan dropped it"
        [ "$US_KIND" = charon ] || grep -q "dead peer" "$W/us/vpnd.log" || fail "vpnd's log does not say 'dead peer'"
        log "our side dropped its SA $(secs_since $t) s after resuming"
        final_capture --min-ike 4
    fi
    ;;
delete)
    bring_up
    traffic 50 400 5
    log "delete from our side"
    us_clear || log "our clear command returned non-zero"
    wait_empty 10 "SAs left after our side deleted the IKE SA"
    log "no SA left; up again"
    bring_up
    traffic 50 400 5
    log "strongSwan deletes the CHILD_SA"
    swan --terminate --child c --timeout 10 >>"$W/swan/ctl.log" 2>&1 || log "swanctl --terminate --child returned non-zero"
    wait_settled 1 0 10 "after strongSwan deleted the CHILD_SA the sides do not agree on one IKE SA and no CHILD_SA"
    log "strongSwan deletes the IKE SA"
    swan --terminate --ike t --timeout 10 >>"$W/swan/ctl.log" 2>&1 || log "swanctl --terminate --ike returned non-zero"
    wait_empty 10 "SAs left after strongSwan deleted the IKE SA"
    final_capture --min-ike 8
    ;;
loss10)
    # Five bring-ups and deletes in a row through a path that loses 10 % of
    # the datagrams: retransmissions (ours configured, charon's 6 tries) carry them.
    for i in 1 2 3 4 5; do
        t=$(now_ms)
        if [ "$ROLE" = init ]; then
            us_initiate || log "our initiate command returned non-zero"
        else
            swan --initiate --ike t --child c --timeout 40 >>"$W/swan/ctl.log" 2>&1 ||
                log "swanctl --initiate returned non-zero"
        fi
        wait_settled 1 1 40 "bring-up $i did not settle within 40 s at 10 % loss (our side as $ROLE)"
        log "bring-up $i settled after $(secs_since $t) s"
        if [ "$ROLE" = init ]; then
            us_clear || log "our clear command returned non-zero"
        else
            swan --terminate --ike t --timeout 40 >>"$W/swan/ctl.log" 2>&1 || log "swanctl --terminate returned non-zero"
        fi
        wait_empty 40 "delete $i left SAs at 10 % loss"
    done
    stop_capture
    relay_stop
    log "relay: $(cat "$W/relay.json")"
    $PY -c "import json,sys; sys.exit(0 if json.load(open('$W/relay.json'))['lost'] > 0 else 1)" ||
        fail "the relay dropped nothing: the case did not test loss"
    ;;
collide-init)
    # Both initiate at once: two IKE SAs are made (RFC 7296 2.8.1 does not
    # apply: neither is a rekey); the sides must end with one of them.
    t=$(now_ms)
    us_initiate & a=$!
    swan --initiate --ike t --child c --timeout 20 >>"$W/swan/ctl.log" 2>&1 & b=$!
    wait $a $b
    wait_settled 1 1 30 "after both sides initiated at once they do not settle on one IKE SA and one CHILD_SA"
    log "settled $(secs_since $t) s after both initiated"
    if [ "$US_KIND" = vpnd ]; then
        # they crossed: vpnd saw both IKE SAs up and deleted one
        grep -q "both ends initiated at once" "$W/us/vpnd.log" ||
            fail "vpnd never saw two IKE SAs made at once: the IKE_SA_INIT requests did not cross"
        log "vpnd: $(grep -o 'both ends initiated at once.*' "$W/us/vpnd.log" | head -1)"
    fi
    traffic 200 400 10
    ;;
collide-child|collide-ike|collide-child-lost|collide-ike-lost|collide-child-late|collide-ike-late)
    what=${CASE#collide-}; what=${what%%-*}
    bring_up
    snap before
    traffic_start 4000 1000 10
    wait_for 10 flowing 100 || log "traffic not seen on the first CHILD_SA within 10 s"
    log "both sides rekey the $what SA at once"
    us_rekey "$what" & a=$!
    if [ "$what" = child ]; then swan --rekey --child c >>"$W/swan/ctl.log" 2>&1 & b=$!
    else swan --rekey --ike t >>"$W/swan/ctl.log" 2>&1 & b=$!; fi
    wait $a $b
    traffic_end
    # 150 s with a lost answer: the SA an unanswered IKE rekey made at the
    # winner waits for a Delete that cannot come (its creator never learnt
    # its keys) until the winner drops it (charon: 30 s, then 5 s of its
    # unanswered Delete; vpnd: 10 s, then its unanswered Delete retransmitted
    # 1, 2, 4, 8, 16, 32 s apart, the SA shown READY all along)
    wait_settled 1 1 $(case $CASE in *-lost) echo 150 ;; *-late) echo 45 ;; *) echo 20 ;; esac) \
        "after both rekeyed the $what SA at once the sides do not settle on one IKE SA and one CHILD_SA"
    # the requests crossed: strongSwan saw the collision (2.8.1). Not asked
    # of -late: a request held back may arrive after the other side's rekey
    # ended (then it is refused, and neither logs a collision); the relay's
    # count below shows it was held, the capture that both were sent
    if [[ $CASE = *-late ]]; then
        :
    elif [ "$what" = child ]; then
        swan_log_has "CHILD_REKEY collision" || fail "strongSwan's log shows no CHILD_REKEY collision: the rekeys did not cross"
    else
        swan_log_has "IKE_REKEY collision" || fail "strongSwan's log shows no IKE_REKEY collision: the rekeys did not cross"
    fi
    traffic 400 1000 5
    snap final
    judge pair "$W/final-us.json" "$W/final-swan.json" "${ALGS[@]}" --counters --pkts 300 ||
        fail "views or counters disagree after the collision"
    $PY - "$W/before-us.json" "$W/final-us.json" "$what" <<'P' || fail "the $what SA was not rekeyed"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
key, sa = ("spi_in", "child") if sys.argv[3] == "child" else ("spi_i", "ike")
if a[sa][0][key] == b[sa][0][key]: sys.exit("FAIL: %s SA SPIs unchanged" % sa)
P
    # which side's SA survived, against the four nonces (RFC 7296 2.8.1, 2.8.2)
    collide_capture
    case $CASE in *-lost|*-late)
        relay_stop
        log "relay: $(cat "$W/relay.json")"
        $PY -c "import json,sys; d=json.load(open('$W/relay.json')); sys.exit(0 if d['ike_answers_dropped'] + d['ike_requests_held'] == 1 else 1)" ||
            fail "the relay did not drop or hold the CREATE_CHILD_SA message" ;;
    esac
    judge collision "$W/wan.pcap" "$W/ws" "$W/final-us.json" "$what" $US_OUTER --record "$W/collisions.txt" \
        $(case $CASE in *-late) echo --late ;; *-lost) echo --lost ;; esac) \
        --tag "$CASE-$ROLE:" || fail "the $what SA that survived is not the one the nonces name"
    log "strongSwan: $(grep -o '[A-Z_]* rekey collision [a-z]*' "$W/swan/charon.log" | head -1); vpnd: $(grep -o 'simultaneous [A-Za-z ]*rekey[^,]*, [a-z ]*' "$W/us/vpnd.log" | head -1)"
    ;;
collide-delete)
    # strongSwan rekeys the CHILD_SA while our side deletes the IKE SA: the
    # rekey meets a delete (RFC 7296 2.25: a request on an SA being deleted
    # is answered, or TEMPORARY_FAILURE/CHILD_SA_NOT_FOUND); nothing is left.
    bring_up
    traffic 50 400 5
    swan --rekey --child c >>"$W/swan/ctl.log" 2>&1 & b=$!
    us_clear & a=$!
    wait $a $b
    wait_empty 20 "after a delete met a rekey SAs were left"
    # they crossed: our Delete reached charon with its CHILD_SA still rekeying
    swan_log_has "REKEYING => DESTROYING" || fail "strongSwan's log shows no rekey cut short by our delete: they did not cross"
    log "nothing left; up again"
    bring_up
    traffic 100 400 5
    ;;
collide-child-cdel|collide-child-ike|collide-child-idel|collide-ike-idel|collide-ike-cdel)
    # The rest of ikev2-collision's matrix (RFC 7296 2.25: an exchange that
    # meets another on the same SA): two different actions at once, so the
    # nonce rule never applies; each must end as the engine-to-engine matrix.
    pair=${CASE#collide-}; first=${pair%-*}; second=${pair#*-}
    if [ "$ROLE" = init ]; then ours=$first; theirs=$second; else ours=$second; theirs=$first; fi
    bring_up
    snap before
    what() { case $1 in child) echo "rekeys the CHILD_SA" ;; ike) echo "rekeys the IKE SA" ;;
             cdel) echo "deletes the CHILD_SA" ;; idel) echo "deletes the IKE SA" ;; esac; }
    case "$ours $theirs" in
        *idel*) end=none ;;           # an IKE SA Delete wins: nothing left
        *cdel*) end=ike ;;            # a CHILD_SA Delete wins: the IKE SA alone
        *) end=both ;;                # two rekeys of different SAs: both kept
    esac
    if [ $end = both ]; then
        traffic_start 4000 1000 10
        wait_for 10 flowing 100 || log "traffic not seen on the first CHILD_SA within 10 s"
    else
        traffic 50 400 5
    fi
    log "at once: our side $(what $ours), strongSwan $(what $theirs)"
    act_us $ours & a=$!
    act_swan $theirs & b=$!
    wait $a $b
    # 40 s to settle: each look at both views is several seconds at load 10
    case $end in
    none)
        wait_empty 40 "after our side's $ours met strongSwan's $theirs SAs were left"
        log "nothing left on either side; up again"
        bring_up
        ;;
    ike)
        wait_settled 1 0 40 "after our side's $ours met strongSwan's $theirs the sides do not agree on one IKE SA and no CHILD_SA"
        # (by strongSwan: `vpnctl initiate` makes a new IKE SA beside one
        # without a CHILD_SA, as a tunnel interface would)
        log "one IKE SA, no CHILD_SA on either side; strongSwan asks for a CHILD_SA again"
        swan --initiate --child c --timeout 10 >>"$W/swan/ctl.log" 2>&1 || log "swanctl --initiate --child returned non-zero"
        wait_settled 1 1 40 "no CHILD_SA came up again under the IKE SA"
        ;;
    both)
        traffic_end
        wait_settled 1 1 40 "after our side's $ours met strongSwan's $theirs the sides do not settle on one IKE SA and one CHILD_SA"
        # a refused rekey is retried later (TEMPORARY_FAILURE, RFC 7296 2.25):
        # both SAs must have been rekeyed once that is over
        rekeyed() {
            snap cur && $PY - "$W/before-us.json" "$W/cur-us.json" <<'P'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
sys.exit(0 if len(b["ike"]) == 1 and len(b["child"]) == 1 and a["ike"][0]["spi_i"] != b["ike"][0]["spi_i"]
         and a["child"][0]["spi_in"] != b["child"][0]["spi_in"] else 1)
P
        }
        wait_for 90 rekeyed || fail "the IKE SA and the CHILD_SA were not both rekeyed after the collision: $(judge pair "$W/cur-us.json" "$W/cur-swan.json" | head -2 | tr "\n" " ")"
        wait_settled 1 1 40 "after both rekeys the sides do not settle on one IKE SA and one CHILD_SA"
        ;;
    esac
    traffic 400 1000 5
    snap final
    judge pair "$W/final-us.json" "$W/final-swan.json" "${ALGS[@]}" --counters --pkts 300 ||
        fail "views or counters disagree after the collision"
    collide_capture
    k() { case $1 in child) echo crekey ;; ike) echo irekey ;; *) echo "$1" ;; esac; }
    judge crossed "$W/wan.pcap" "$W/ws" $US_OUTER "$(k $ours)" "$(k $theirs)" --record "$W/collisions.txt" \
        --tag "$CASE-$ROLE:" || fail "our $ours and strongSwan's $theirs did not cross"
    log "strongSwan: $(grep -o 'detected [A-Z_]* collision with [A-Z_]*' "$W/swan/charon.log" | sort -u | tr '\n' ' ')"
    ;;
chacha)
    [ "$US_KIND" = vpnd ] || fail "the chacha case checks vpnd's own files"
    bring_up
    traffic 200 400 10
    sleep 0.3
    snap final
    judge pair "$W/final-us.json" "$W/final-swan.json" "${ALGS[@]}" --counters --pkts 220 || fail "views or counters disagree"
    stop_capture
    # No key file claims a key Wireshark cannot use (issue 18) ...
    for f in ikev2_decryption_table esp_sa; do
        [ ! -s "$W/keys/$f" ] || fail "vpnd wrote $f lines for ChaCha20-Poly1305 SAs: $(head -c 120 "$W/keys/$f")"
    done
    # ... and the decrypted view holds one inner packet per ESP packet: the
    # 200 UDP datagrams each way and the echoes.
    plain=$W/keys/esp.plain.pcap
    [ -s "$plain" ] || fail "vpnd wrote no $plain"
    esp=$(tshark -r "$W/wan.pcap" -Y "esp && ip.addr == $US_OUTER" 2>/dev/null | wc -l)
    inner=$(tshark -r "$plain" 2>/dev/null | wc -l)
    udp=$(tshark -r "$plain" -Y "udp.port == $SINK_PORT" 2>/dev/null | wc -l)
    icmp=$(tshark -r "$plain" -Y icmp 2>/dev/null | wc -l)
    bad=$(tshark -r "$plain" -Y '_ws.malformed || _ws.expert.severity >= error' 2>/dev/null | wc -l)
    log "plain view: $inner packets ($udp UDP, $icmp ICMP, $bad malformed) for $esp ESP packets on the wire"
    [ "$esp" -gt 0 ] && [ "$inner" = "$esp" ] || fail "the plain view holds $inner packets for $esp ESP packets"
    [ "$udp" = 400 ] || fail "the plain view holds $udp of the 400 UDP datagrams"
    [ "$icmp" -ge 20 ] || fail "the plain view holds $icmp ICMP packets (20 echo requests sent)"
    [ "$bad" = 0 ] || fail "malformed packets in the plain view"
    # The IKE SA is ChaCha20-Poly1305 too: KEYDIR/ike.plain.pcap holds every
    # encrypted IKE message decrypted, each exchange of the wire once,
    # unencrypted (no Encrypted payload), readable with nothing malformed.
    ikep=$W/keys/ike.plain.pcap
    [ -s "$ikep" ] || fail "vpnd wrote no $ikep"
    f='-T fields -e isakmp.ispi -e isakmp.messageid -e isakmp.exchangetype -e isakmp.flag_r'
    tshark -r "$W/wan.pcap" -Y 'isakmp && isakmp.exchangetype != 34' $f 2>/dev/null | sort -u >"$W/ike-wire.txt"
    tshark -r "$ikep" -Y isakmp $f 2>/dev/null | sort -u >"$W/ike-plain.txt"
    ikebad=$(tshark -r "$ikep" -Y '_ws.malformed || _ws.expert.severity >= error || isakmp.typepayload == 46' 2>/dev/null | wc -l)
    ids=$(tshark -r "$ikep" -Y 'isakmp.typepayload == 35 || isakmp.typepayload == 36' 2>/dev/null | wc -l)
    log "IKE plain view: $(wc -l <"$W/ike-plain.txt") messages for $(wc -l <"$W/ike-wire.txt") encrypted on the wire, $ids with IDi/IDr, $ikebad malformed or still encrypted"
    [ -s "$W/ike-wire.txt" ] && cmp -s "$W/ike-wire.txt" "$W/ike-plain.txt" ||
        fail "the IKE plain view does not hold the wire's encrypted messages: $(diff "$W/ike-wire.txt" "$W/ike-plain.txt" | head -5)"
    [ "$ids" = 2 ] || fail "the IKE plain view shows $ids IKE_AUTH messages with IDi/IDr (2 expected)"
    [ "$ikebad" = 0 ] || fail "malformed or encrypted messages in the IKE plain view"
    ;;
natt)
    [ "$US_KIND" = vpnd ] || fail "the natt case checks vpnd's own view and log"
    bring_up
    # RFC 7296 2.23 as each side sees it
    if [ "$NAT_SIDE" = us ]; then
        grep -q "NAT-T is detected inside" "$W/cur-us.json.ikev2" || fail "vpnd does not see the NAT in front of itself"
        swan_log_has "remote host is behind NAT" || fail "strongSwan did not detect the NAT in front of us"
    else
        grep -q "NAT-T is detected  outside" "$W/cur-us.json.ikev2" || fail "vpnd does not see the NAT in front of strongSwan"
        swan_log_has "local host is behind NAT" || fail "strongSwan did not detect the NAT in front of itself"
    fi
    grep -Eq "${US_OUTER}/4500 +${SWAN_SEEN:-$SWAN_OUTER}/4[0-9]{4} |${US_OUTER}/4500 +${SWAN_OUTER}/4500 " "$W/cur-us.json.ikev2" ||
        fail "vpnd's IKE SA is not on port 4500 (with the NAT's mapped port): $(grep -A2 Tunnel-id "$W/cur-us.json.ikev2")"
    traffic 200 400 10
    nat_stats
    p1=$($PY -c "import json; print([m['outside_port'] for m in json.load(open('$W/nat.json'))['mappings'] if m['inside'].endswith(':4500')][0])")
    log "the NAT maps 192.168.18.2:4500 to $NAT_OUTSIDE:$p1; it rebinds now"
    kill -USR1 $NAT_PID
    nat_stats   # answered after the rebinding: it is done
    if [ "$NAT_SIDE" = swan ]; then
        # One packet from strongSwan's side through the tunnel: its ESP
        # leaves the NAT from a new port, and vpnd follows it there (2.23).
        # (an ICMP echo: a datagram to a closed port would bring back an
        # ICMP error whose quoted header the capture check miscounts)
        in_swan $PY -c "import socket as S; s = S.socket(S.AF_INET, S.SOCK_RAW, S.IPPROTO_ICMP); s.bind(('$SWAN_INNER', 0)); s.sendto(bytes.fromhex('080022ef0042000072656269'), ('$US_INNER', 0))"
        wait_for 5 grep -q "peer moved from $NAT_OUTSIDE port $p1 to $NAT_OUTSIDE port" "$W/us/vpnd.log" ||
            fail "vpnd did not follow strongSwan to its new port"
        log "vpnd: $(grep -o "peer moved from .*" "$W/us/vpnd.log" | head -1)"
    else
        # Our next IKE request (a CHILD_SA rekey) leaves from the new port;
        # strongSwan follows it (2.23); vpnd, behind the NAT, moves nothing.
        us_rekey child || log "our rekey child command returned non-zero"
        wait_for 10 grep -q "rekeyed as" "$W/us/vpnd.log" || fail "the CHILD_SA rekey after the rebinding did not complete"
        wait_settled 1 1 15 "after the rebinding and the rekey the sides do not settle on one IKE SA and one CHILD_SA"
        grep -q "peer moved" "$W/us/vpnd.log" && fail "vpnd behind the NAT moved its peer (RFC 7296 2.23: it should not)"
        swan_log_has "remote endpoint changed from $NAT_OUTSIDE\[$p1\] to $NAT_OUTSIDE\[" ||
            fail "strongSwan did not follow us to the NAT's new port"
        log "strongSwan: $(grep -o "remote endpoint changed from $NAT_OUTSIDE\[$p1\].*" "$W/swan/charon.log" | head -1)"
    fi
    traffic 200 400 10
    sleep 0.3
    snap final
    judge pair "$W/final-us.json" "$W/final-swan.json" "${ALGS[@]}" --counters --pkts 200 || fail "views or counters disagree"
    final_capture --esp-spis "$W/final-us.json" --min-ike 2
    nat_stats
    log "NAT: $($PY -c "import json; d = json.load(open('$W/nat.json')); print({k: v for k, v in d.items() if k not in ('events', 'mappings')})")"
    $PY - "$W/nat.json" "$p1" <<'P' || fail "the NAT did not rebind to a new port"
import json, sys
d = json.load(open(sys.argv[1]))
now = [m["outside_port"] for m in d["mappings"] if m["inside"].endswith(":4500")]
sys.exit(0 if d.get("rebinds") == 1 and now and now[0] != int(sys.argv[2]) else 1)
P
    # ESP on the wire only in UDP; outside the NAT (our capture when
    # strongSwan is behind it), from and to the old mapped port and the new
    raw=$(tshark -r "$W/wan.pcap" -Y 'ip.proto == 50' 2>/dev/null | wc -l)
    [ "$raw" = 0 ] || fail "raw ESP through a NAPT"
    if [ "$NAT_SIDE" = swan ]; then
        ports=$(tshark -r "$W/wan.pcap" -Y "esp && ip.addr == $NAT_OUTSIDE" -T fields -e udp.srcport -e udp.dstport 2>/dev/null |
            tr '\t' '\n' | grep -v '^4500$' | sort -u | tr '\n' ' ')
        log "ESP in UDP through the NAT's ports: $ports"
        [ "$(wc -w <<<"$ports")" = 2 ] && grep -qw "$p1" <<<"$ports" || fail "ESP did not use the old and the new mapped port"
    fi
    ;;
ipv6)
    # IKE and ESP over an IPv6 underlay, IPv4 inside: both ends' outer
    # addresses are IPv6 (RFC 7296 and RFC 4303 do not care; charon's
    # kernel-libipsec still puts ESP in UDP 4500, RFC 3948 over IPv6).
    [ "$US_KIND" = vpnd ] || fail "the ipv6 case checks vpnd's own view"
    bring_up
    swan_log_has "established between $SWAN_OUTER\[$SWAN_ID\]...$US_OUTER\[$US_ID\]" ||
        fail "strongSwan's log does not show the IKE SA between $SWAN_OUTER and $US_OUTER"
    grep -q "$US_OUTER" "$W/cur-us.json.ikev2" || fail "our IKE SA is not over $US_OUTER: $(cat "$W/cur-us.json.ikev2")"
    traffic 200 400 10
    sleep 0.3
    snap final
    judge pair "$W/final-us.json" "$W/final-swan.json" "${ALGS[@]}" --counters --pkts 220 || fail "views or counters disagree"
    final_capture --esp-spis "$W/final-us.json" --min-ike 2
    # Every IKE and ESP datagram on the wire went over IPv6 (the capture
    # is read here without keys: the inner IPv4 stays encrypted).
    v4=$(tshark -r "$W/wan.pcap" -Y 'eth.type == 0x0800' 2>/dev/null | wc -l)
    v6esp=$(tshark -r "$W/wan.pcap" -Y "ipv6.src == $US_OUTER && udp.port == 4500 && esp" 2>/dev/null | wc -l)
    v6ike=$(tshark -r "$W/wan.pcap" -Y "ipv6.addr == $US_OUTER && isakmp" 2>/dev/null | wc -l)
    log "wire: $v6ike IKE and $v6esp of our ESP-in-UDP datagrams over IPv6, $v4 over IPv4"
    [ "$v4" = 0 ] && [ "$v6esp" -ge 220 ] && [ "$v6ike" -ge 4 ] || fail "the underlay was not IPv6 throughout"
    ;;
window)
    [ "$US_KIND" = vpnd ] || fail "the window case checks vpnd's own view"
    bring_up
    # strongSwan read our window in our IKE_AUTH message (request or response)
    if [ "$ROLE" = init ]; then m="parsed IKE_AUTH request"; else m="parsed IKE_AUTH response"; fi
    grep "$m" "$W/swan/charon.log" | grep -q 'N(SET_WINSIZE)' ||
        fail "strongSwan's log shows no SET_WINDOW_SIZE in our IKE_AUTH ($(grep "$m" "$W/swan/charon.log" | head -1))"
    grep 'generating IKE_AUTH' "$W/swan/charon.log" | grep -q 'N(SET_WINSIZE)' &&
        fail "strongSwan announced a window: the case assumes it has none"
    snap w
    grep -q 'Local window:      5 *Remote window:      1' "$W/w-us.json.ikev2" ||
        fail "vpnd does not show local window 5, remote window 1: $(grep window "$W/w-us.json.ikev2")"
    # Several requests of ours wanted at once (two CHILD_SA rekeys, an IKE SA
    # rekey): strongSwan's window is 1, so each waits for the one before.
    traffic_start 4000 1000 10
    wait_for 10 flowing 100 || log "traffic not seen within 10 s"
    us_rekey child || log "our rekey child command returned non-zero"
    us_rekey child || log "our second rekey child command returned non-zero"
    us_rekey ike || log "our rekey ike command returned non-zero"
    traffic_end
    wait_settled 1 1 15 "after the rekeys the sides do not settle on one IKE SA and one CHILD_SA"
    traffic 200 400 5
    stop_capture
    # From the unencrypted IKE headers: never more than one request of ours
    # without its response on any one IKE SA (the window is per IKE SA, RFC
    # 7296 2.3: the old SA's Delete after the IKE rekey and a request on the
    # new SA may be in flight together), and strongSwan answered every one of
    # our requests.
    tshark -r "$W/wan.pcap" -Y 'isakmp' -T fields -e frame.time_relative -e ip.src -e isakmp.ispi \
        -e isakmp.messageid -e isakmp.flag_r >"$W/ike-msgs.txt" 2>/dev/null
    $PY - "$W/ike-msgs.txt" $US_OUTER <<'P' || fail "vpnd went past strongSwan's window of 1"
import sys
us = sys.argv[2]; out = {}; peak = 0; reqs = 0
for line in open(sys.argv[1]):
    f = line.split("\t")
    if len(f) < 5: continue
    src, mid, resp = f[1], (f[2], int(f[3], 0)), f[4].strip() in ("1", "True")
    if src == us and not resp:
        out[mid] = 1; reqs += 1
    elif src != us and resp:
        out.pop(mid, None)
    per_sa = {}
    for spi, _ in out:
        per_sa[spi] = per_sa.get(spi, 0) + 1
    peak = max([peak] + list(per_sa.values()))
print("vpnd sent %d requests (retransmissions counted), at most %d in flight on one IKE SA; %d unanswered at the end" % (reqs, peak, len(out)))
sys.exit(0 if peak == 1 and reqs >= 4 and not out else 1)
P
    ;;
wrongpsk)
    if [ "$ROLE" = init ]; then
        us_initiate
    else
        swan --initiate --ike t --child c --timeout 10 >>"$W/swan/ctl.log" 2>&1 &&
            fail "swanctl --initiate succeeded with a wrong pre-shared key"
    fi
    sleep 1
    wait_empty 10 "an SA is left after authentication failed"
    if [ "$ROLE" = init ]; then
        swan_log_has "MAC mismatched" || fail "strongSwan's log does not show the failed PSK check"
    else
        swan_log_has "received AUTHENTICATION_FAILED" || fail "strongSwan did not receive AUTHENTICATION_FAILED"
    fi
    # The responder refuses the initiator's AUTH (RFC 7296 2.21.2).
    if [ "$ROLE" = init ]; then who=$SWAN_OUTER; else who=$US_OUTER; fi
    final_capture --notify AUTHENTICATION_FAILED@$who --min-ike 2
    ;;
esac
log "PASS"
