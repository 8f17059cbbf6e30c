#!/bin/bash
# host-gdoi: GET VPN with vpnd in network namespaces joined by a bridge (in
# a namespace of its own): a key server KS1 (192.0.2.1), members GMA, GMB,
# GMC (192.0.2.11-13, LANs 10.0.1-3.1 on lo, the provider routing each
# LAN to its member's WAN address, as address preservation needs) and an
# unauthorized member GMX (192.0.2.99). Root only; a missing prerequisite
# fails, never skips. Namespaces are gd-ROLE-PID; everything started is
# stopped and removed on exit, also after a failure, and a run killed
# outright is swept by the next.
#
# Cases:
#   main     multicast rekeys: every member registers, GMX is refused by the
#            authorization ACL; UDP between every pair of members is ESP
#            with the members' own addresses outside (no clear packet of the
#            policy on the bridge); `crypto gdoi ks rekey` under traffic with
#            no loss, the rekey sent once to 239.192.1.1 and applied by every
#            member; `clear crypto gdoi` re-registers a member under traffic
#            with no loss; tshark decrypts every ESP packet and the phase 1s
#            with the key files vpnd wrote, nothing malformed.
#   unicast  unicast rekeys acknowledged by every member (RFC 8263) under
#            traffic with no loss; hostile datagrams to UDP 848 (truncated,
#            junk, wrong cookies, a replayed rekey, a corrupted rekey) counted
#            and refused, the daemons alive and the traffic unharmed.
#   coop     two cooperative key servers (KS1 priority 100, KS2 priority 50)
#            and two members: KS1 is killed during traffic; KS2 takes over
#            and rekeys; the members accept its rekey and lose nothing.
#
# usage: host-gdoi.sh CASE VPND VPNCTL WORKDIR
set -u
CASE=$1 VPND=$2 VPNCTL=$3 W=$4
source "$(dirname "$0")/lib.sh"   # PIDS, NETNS, cleanup, vpnd_gdoi_start (log, fail: this file's own, below)
T0=$(date +%s%N)
log() { printf 'host-gdoi-%s [%5ss] %s\n' "$CASE" "$((($(date +%s%N) - T0) / 1000000000))" "$*"; }
fail() {
    echo "FAIL (host-gdoi-$CASE): $*" >&2
    echo "logs and capture kept in $W" >&2
    exit 1
}

[ "$(id -u)" = 0 ] || fail "must run as root (network namespaces, TUN devices, UDP 848, raw sockets)"
for t in ip tshark dumpcap python3; do command -v $t >/dev/null || fail "$t is not installed (./scripts/deps)"; done
[ -c /dev/net/tun ] || fail "/dev/net/tun is missing"
[ -x "$VPND" ] && [ -x "$VPNCTL" ] || fail "vpnd/vpnctl not built: $VPND $VPNCTL"

# PIDS, NETNS and cleanup (kill what PIDS holds, remove what NETNS names): lib.sh's
# a run killed outright leaves gd-ROLE-PID namespaces: remove those whose run is gone
for n in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^gd-[a-z0-9]+-[0-9]+$'); do
    # alive, and not a zombie nobody reaped
    kill -0 "${n##*-}" 2>/dev/null && ! grep -qs '^State:.*Z' /proc/${n##*-}/status && continue
    for p in $(ip netns pids "$n" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
    ip netns del "$n" 2>/dev/null && echo "removed namespace $n left by a killed run"
done
trap cleanup EXIT
trap 'exit 130' INT TERM
rm -rf "$W"; mkdir -p "$W"

BR=gd-br-$$
ip netns add $BR || fail "cannot create a network namespace"
NETNS+=($BR)
ip -n $BR link add br0 type bridge || fail "cannot create a bridge"
ip -n $BR link set br0 type bridge mcast_snooping 0
ip -n $BR link set br0 up

# node NAME WAN [LAN]: namespace gd-NAME-PID, eth0 on the bridge.
node() {
    local ns=gd-$1-$$
    ip netns add $ns || fail "cannot create namespace $ns"
    NETNS+=($ns)
    ip link add eth0 netns $ns type veth peer name p-$1 netns $BR || fail "cannot create a veth pair"
    ip -n $BR link set p-$1 master br0 up
    ip -n $ns addr add $2/24 dev eth0
    ip -n $ns link set lo up
    ip -n $ns link set eth0 up
    [ -n "${3:-}" ] && ip -n $ns addr add $3/32 dev lo
    # the crypto map's policy routing makes every reverse-path check look
    # at the TUN: strict rp_filter would drop the provider's packets
    ip netns exec $ns sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
        net.ipv4.conf.eth0.rp_filter=0 net.ipv4.conf.lo.rp_filter=0
    ip -n $ns route add 224.0.0.0/4 dev eth0
}
GMS=(a b c)
declare -A WAN=([ks1]=192.0.2.1 [ks2]=192.0.2.2 [a]=192.0.2.11 [b]=192.0.2.12 [c]=192.0.2.13 [x]=192.0.2.99 [ev]=192.0.2.66)
declare -A LAN=([a]=10.0.1.1 [b]=10.0.2.1 [c]=10.0.3.1 [x]=10.0.9.1)
[ "$CASE" = coop ] && GMS=(a b)
KSS=(ks1)
[ "$CASE" = coop ] && KSS=(ks1 ks2)
for k in "${KSS[@]}"; do node $k ${WAN[$k]}; done
for g in "${GMS[@]}" x; do node $g ${WAN[$g]} ${LAN[$g]}; done
node ev ${WAN[ev]}
# the provider: each LAN via its member's WAN address
for g in "${GMS[@]}" x; do
    for h in "${GMS[@]}" x; do
        [ $g = $h ] || ip -n gd-$g-$$ route add ${LAN[$h]%.1}.0/24 via ${WAN[$h]}
    done
done

# ---- configurations ---------------------------------------------------------
isakmp() {
cat <<C
crypto isakmp policy 10
 encryption aes 256
 hash sha256
 authentication pre-share
 group 14
crypto isakmp key $1 address $2
C
}
# ks NAME ADDR PRIORITY PEER
ks_conf() {
    echo "hostname ${1^^}"
    isakmp gdoi-test-psk "0.0.0.0 0.0.0.0"
    cat <<C
crypto key generate rsa label GETVPN-KEY modulus 2048
crypto ipsec transform-set TS esp-aes 256 esp-sha256-hmac
crypto ipsec profile GETVPN-PROF
 set transform-set TS
ip access-list extended POLICY
 deny udp any eq 848 any eq 848
 permit ip 10.0.0.0 0.255.255.255 10.0.0.0 0.255.255.255
ip access-list extended REKEY
 permit udp host $2 eq 848 host 239.192.1.1 eq 848
access-list 10 permit 192.0.2.0 0.0.0.15
crypto gdoi group GETVPN
 identity number 1234
 server local
  rekey authentication mypubkey rsa GETVPN-KEY
C
    [ "$CASE" = main ] && echo "  rekey address ipv4 REKEY"
    cat <<C
  authorization address ipv4 10
  sa ipsec 1
   profile GETVPN-PROF
   match address ipv4 POLICY
   replay time window-size 5
  address ipv4 $2
C
    [ -n "${4:-}" ] && printf '  redundancy\n   local priority %s\n   peer address ipv4 %s\n' "$3" "$4"
    printf 'interface eth0\n ip address %s 255.255.255.0\n' "$2"
}
gm_conf() {
    echo "hostname GM${1^^}"
    isakmp gdoi-test-psk ${WAN[ks1]}
    [ "$CASE" = coop ] && echo "crypto isakmp key gdoi-test-psk address ${WAN[ks2]}"
    printf 'crypto gdoi group GETVPN\n identity number 1234\n server address ipv4 %s\n' ${WAN[ks1]}
    [ "$CASE" = coop ] && echo " server address ipv4 ${WAN[ks2]}"
    cat <<C
crypto map GETMAP 10 gdoi
 set group GETVPN
interface eth0
 ip address ${WAN[$1]} 255.255.255.0
 crypto map GETMAP
C
}
if [ "$CASE" = coop ]; then
    ks_conf ks1 ${WAN[ks1]} 100 ${WAN[ks2]} >"$W/ks1.cfg"
    ks_conf ks2 ${WAN[ks2]} 50 ${WAN[ks1]} >"$W/ks2.cfg"
else
    ks_conf ks1 ${WAN[ks1]} >"$W/ks1.cfg"
fi
for g in "${GMS[@]}" x; do gm_conf $g >"$W/$g.cfg"; done

# ---- helpers ----------------------------------------------------------------------
cat >"$W/traffic.py" <<'P'
# ME PEERS COUNT INTERVAL OUT: COUNT UDP datagrams to port 5001 of each peer
# (comma-separated), from ME port 5002, while counting what arrives on
# ME:5001 per source until 1.5 s after the last one sent; OUT gets
# "SOURCE COUNT" lines.
import collections, socket, sys, threading, time
me, peers, count, gap, out = sys.argv[1], [p for p in sys.argv[2].split(',') if p], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); r.bind((me, 5001)); r.settimeout(0.1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((me, 5002))
got = collections.Counter(); done = []
def rx():
    end = None
    while end is None or time.time() < end:
        try:
            d, a = r.recvfrom(4096); got[a[0]] += 1
        except socket.timeout:
            pass
        if done and end is None:
            end = time.time() + 1.5
t = threading.Thread(target=rx); t.start()
time.sleep(0.5)  # the peers' receivers are up
start = time.time()
for i in range(count):
    for p in peers:
        s.sendto(b'%s seq %06d get-vpn-test ' % (me.encode(), i) + b'.' * 80, (p, 5001))
    dt = start + (i + 1) * gap - time.time()
    if dt > 0:
        time.sleep(dt)
done.append(1); t.join()
open(out, 'w').write(''.join('%s %d\n' % kv for kv in sorted(got.items())))
P

# start NAME: vpnd in gd-NAME-PID (debug log); pid in VPID_NAME
start() {
    local extra=()
    [[ $1 = ks* ]] && extra=(-r "$W/rekey-key.pem" -P "$W/$1-plain.pcap")
    vpnd_gdoi_start gd-$1-$$ $1 "${extra[@]}"
    eval VPID_$1=$SPAWNED
}
ctl() { local x=$1; shift; "$VPNCTL" -s "$W/$x.ctl" "$@"; }
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1" | head -1; }
gmline() { ctl $1 status | grep '^gm '; }
ksline() { ctl $1 status | grep '^ks '; }
registered() { gmline $1 | grep -q state=registered; }
wait_for() { # SECONDS CMD...
    local end=$(($(date +%s) + $1)); shift
    until "$@" >/dev/null 2>&1; do [ "$(date +%s)" -ge $end ] && return 1; sleep 0.1; done
}
# traffic COUNT INTERVAL TAG: every member sends to every other (background; TRAFFIC_PIDS)
traffic() {
    TRAFFIC_PIDS=()
    for g in "${GMS[@]}"; do
        local peers=""
        for h in "${GMS[@]}"; do [ $g = $h ] || peers="$peers${peers:+,}${LAN[$h]}"; done
        ip netns exec gd-$g-$$ python3 "$W/traffic.py" ${LAN[$g]} $peers $1 $2 "$W/rx-$3-$g.txt" &
        TRAFFIC_PIDS+=($!); PIDS+=($!)
    done
}
# traffic_check COUNT TAG: every member got COUNT from every other
traffic_check() {
    for p in "${TRAFFIC_PIDS[@]}"; do wait $p || fail "traffic generator failed"; done
    for g in "${GMS[@]}"; do
        for h in "${GMS[@]}"; do
            [ $g = $h ] && continue
            local n
            n=$(awk -v s=${LAN[$h]} '$1 == s {print $2}' "$W/rx-$2-$g.txt")
            [ "${n:-0}" = "$1" ] || fail "$2: ${LAN[$g]} received ${n:-0} of $1 datagrams from ${LAN[$h]}"
        done
    done
    log "$2: every pair $1/$1, nothing lost"
}

ip netns exec $BR dumpcap -q -P -i br0 -w "$W/bridge.pcap" >"$W/dumpcap.log" 2>&1 &
CAP=$!; PIDS+=($CAP)
wait_for 10 grep -q Capturing "$W/dumpcap.log" || fail "dumpcap did not start: $(cat "$W/dumpcap.log")"

for k in "${KSS[@]}"; do start $k; done
[ "$CASE" = coop ] && { wait_for 20 sh -c "\"$VPNCTL\" -s \"$W/ks1.ctl\" status | grep -q role=primary" ||
    fail "KS1 did not become primary: $(ksline ks1)"; }
for g in "${GMS[@]}"; do start $g; done
for g in "${GMS[@]}"; do wait_for 20 registered $g || fail "GM$g did not register: $(gmline $g)"; done
log "members registered: ${GMS[*]}"

# ---- registration and the unauthorized member -------------------------------------------------
if [ "$CASE" != coop ]; then
    start x
    wait_for 10 sh -c "\"$VPNCTL\" -s \"$W/ks1.ctl\" status | grep -q 'unauthorized=[1-9]'" ||
        fail "GMX (not in the authorization ACL) was not refused: $(ksline ks1)"
    registered x && fail "GMX registered although the authorization ACL refuses it"
    ctl ks1 show crypto gdoi ks members >"$W/ks1.members.txt" || fail "show crypto gdoi ks members"
    for g in "${GMS[@]}"; do grep -q "${WAN[$g]}" "$W/ks1.members.txt" || fail "GM$g not listed: $(cat "$W/ks1.members.txt")"; done
    grep -q "${WAN[x]}" "$W/ks1.members.txt" && grep -v -i refus "$W/ks1.members.txt" | grep -q "${WAN[x]}" &&
        fail "GMX listed as a member: $(cat "$W/ks1.members.txt")"
    [ "$(field "$(ksline ks1)" members)" = ${#GMS[@]} ] || fail "KS members: $(ksline ks1)"
    log "GMX refused (not authorized), ${#GMS[@]} members listed"
    kill $VPID_x; wait $VPID_x 2>/dev/null   # its retries would blur the counters below
fi
for x in "${KSS[@]}" "${GMS[@]}"; do
    ctl $x show crypto gdoi >"$W/$x.gdoi.txt" || fail "$x: show crypto gdoi"
done
ctl a show crypto gdoi gm >"$W/a.gdoi-gm.txt" || fail "show crypto gdoi gm"
grep -qi "registered\|Registration status" "$W/a.gdoi.txt" || fail "show crypto gdoi on GMA: $(cat "$W/a.gdoi.txt")"

# ---- traffic with rekeys ---------------------------------------------------------------------------
N=150 GAP=0.02
SEQ0=$(field "$(gmline a)" seq)
traffic $N $GAP rekey
sleep 1.2
ctl ks1 crypto gdoi ks rekey >"$W/rekey.txt" || fail "crypto gdoi ks rekey: $(cat "$W/rekey.txt")"
log "rekey forced during traffic: $(cat "$W/rekey.txt")"
traffic_check $N rekey
for g in "${GMS[@]}"; do
    [ "$(field "$(gmline $g)" seq)" -gt "$SEQ0" ] || fail "GM$g did not apply the rekey: $(gmline $g)"
    [ "$(field "$(gmline $g)" rekeys)" -ge 1 ] || fail "GM$g counts no rekey: $(gmline $g)"
done
if [ "$CASE" = unicast ]; then
    wait_for 5 sh -c "\"$VPNCTL\" -s \"$W/ks1.ctl\" status | grep -q 'acks=[${#GMS[@]}-9]'" ||
        fail "the unicast rekey was not acknowledged by every member: $(ksline ks1)"
    for g in "${GMS[@]}"; do [ "$(field "$(gmline $g)" acks)" -ge 1 ] || fail "GM$g sent no ACK"; done
    log "unicast rekey acknowledged by every member"
fi

if [ "$CASE" = main ]; then
    grep -q "joined rekey group 239.192.1.1 on eth0" "$W/a.log" || fail "GMA did not join the rekey group"
    MC=$(tshark -r "$W/bridge.pcap" -Y "ip.dst == 239.192.1.1 and udp.dstport == 848" 2>/dev/null | wc -l)
    UC=$(tshark -r "$W/bridge.pcap" -Y "ip.src == ${WAN[ks1]} and isakmp.exchangetype == 33 and not ip.dst == 239.192.1.1" \
        -d udp.port==848,isakmp 2>/dev/null | wc -l)
    [ "$MC" -ge 1 ] && [ "$UC" = 0 ] || fail "want the rekey to 239.192.1.1 only: $MC multicast, $UC unicast"
    log "multicast rekey: $MC datagram(s) to 239.192.1.1, none unicast"
    # clear crypto gdoi: GMB registers again under traffic
    REG0=$(field "$(gmline b)" registrations)
    traffic $N $GAP rereg
    sleep 1.2
    ctl b clear crypto gdoi >/dev/null || fail "clear crypto gdoi refused"
    traffic_check $N rereg
    [ "$(field "$(gmline b)" registrations)" -gt "$REG0" ] || fail "GMB did not register again: $(gmline b)"
    registered b || fail "GMB not registered after clear crypto gdoi"
    log "clear crypto gdoi: GMB registered again, nothing lost"
fi

if [ "$CASE" = unicast ]; then
    # hostile datagrams to 848 of GMA and KS1, from the attacker's namespace
    sleep 0.5
    PUSH=$(tshark -r "$W/bridge.pcap" -d udp.port==848,isakmp \
        -Y "ip.dst == ${WAN[a]} and udp.dstport == 848 and isakmp.exchangetype == 33" -T fields -e udp.payload 2>/dev/null |
        tail -1 | tr -d ':')
    [ -n "$PUSH" ] || fail "no rekey (GROUPKEY-PUSH) to GMA in the capture to replay"
    RA0=$(field "$(ctl a status | grep '^gdoi')" dgrams_refused)
    UA0=$(field "$(ctl a status | grep '^gdoi')" dgrams_unclaimed)
    RK0=$(field "$(ctl ks1 status | grep '^gdoi')" dgrams_refused)
    UK0=$(field "$(ctl ks1 status | grep '^gdoi')" dgrams_unclaimed)
    cat >"$W/hostile.py" <<'P'
import os, socket, sys
gm, ks, push = sys.argv[1], sys.argv[2], bytes.fromhex(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('0.0.0.0', 848))
for dst in (gm, ks):
    for n in (0, 1, 8, 27):                      # truncated: shorter than an ISAKMP header
        s.sendto(os.urandom(n), (dst, 848))
    for i in range(20):                           # junk with unknown cookies
        s.sendto(os.urandom(28 + i * 7), (dst, 848))
bad = bytearray(push); bad[0] ^= 0xff             # a PUSH with a KEK SPI (cookies) of no group
s.sendto(bytes(bad), (gm, 848))
s.sendto(push, (gm, 848))                         # the last rekey again: a replay
s.sendto(push, (gm, 848))
bad = bytearray(push); bad[-20] ^= 0x5a           # the same rekey, its body corrupted
s.sendto(bytes(bad), (gm, 848))
bad = bytearray(push); bad[60] ^= 0x01
s.sendto(bytes(bad), (gm, 848))
P
    ip netns exec gd-ev-$$ python3 "$W/hostile.py" ${WAN[a]} ${WAN[ks1]} "$PUSH" || fail "could not send the hostile datagrams"
    sleep 0.5
    ST=$(ctl a status) || fail "GMA does not answer after hostile datagrams"
    ctl ks1 status >/dev/null || fail "KS1 does not answer after hostile datagrams"
    RA=$(($(field "$(grep '^gdoi' <<<"$ST")" dgrams_refused) - RA0))
    UA=$(($(field "$(grep '^gdoi' <<<"$ST")" dgrams_unclaimed) - UA0))
    RK=$(($(field "$(ctl ks1 status | grep '^gdoi')" dgrams_refused) - RK0))
    UK=$(($(field "$(ctl ks1 status | grep '^gdoi')" dgrams_unclaimed) - UK0))
    log "hostile: GMA refused $RA unclaimed $UA; KS1 refused $RK unclaimed $UK"
    # GMA: 24 truncated or junk + 1 wrong cookies unclaimed; 4 replayed or corrupted refused
    [ $((RA + UA)) = 29 ] || fail "GMA counted $((RA + UA)) of 29 hostile datagrams"
    [ $RA -ge 4 ] || fail "GMA refused only $RA of the 4 replayed or corrupted rekeys"
    [ $((RK + UK)) = 24 ] || fail "KS1 counted $((RK + UK)) of 24 hostile datagrams"
    [ "$(field "$(grep '^gm ' <<<"$ST")" replays)" -ge 1 ] || fail "the replayed rekey was not counted as a replay: $ST"
    registered a || fail "GMA lost its registration to hostile datagrams"
    ctl a show drops >"$W/a.drops.txt"
    traffic 20 $GAP after-hostile
    traffic_check 20 after-hostile
fi

if [ "$CASE" = coop ]; then
    for k in ks1 ks2; do ctl $k show crypto gdoi ks coop >"$W/$k.coop.txt" || fail "$k: show crypto gdoi ks coop"; done
    wait_for 20 sh -c "\"$VPNCTL\" -s \"$W/ks2.ctl\" status | grep -q role=secondary" ||
        fail "KS2 is not secondary: $(ksline ks2)"
    SEQ1=$(field "$(gmline a)" seq)
    traffic 400 $GAP failover
    sleep 1
    kill -KILL $VPID_ks1
    log "KS1 killed; waiting for KS2 to take over"
    traffic_check 400 failover
    wait_for 120 sh -c "\"$VPNCTL\" -s \"$W/ks2.ctl\" status | grep -q role=primary" || fail "KS2 did not take over: $(ksline ks2)"
    log "KS2 is primary"
    traffic $N $GAP ks2-rekey
    sleep 1.2
    ctl ks2 crypto gdoi ks rekey >/dev/null || fail "KS2 refused to rekey"
    traffic_check $N ks2-rekey
    for g in "${GMS[@]}"; do
        [ "$(field "$(gmline $g)" seq)" -gt "$SEQ1" ] || fail "GM$g did not accept KS2's rekey: $(gmline $g)"
        [ "$(field "$(gmline $g)" registrations)" = 1 ] || fail "GM$g registered again: $(gmline $g)"
    done
    log "KS2 took over and rekeyed; members kept their registration"
fi

for x in "${GMS[@]}"; do ctl $x show crypto ipsec sa >"$W/$x.ipsec-sa.txt" || fail "$x: show crypto ipsec sa"; done
for x in "${KSS[@]}" "${GMS[@]}" x; do ctl $x status >"$W/$x.status.txt" 2>/dev/null; done

# ---- the capture ---------------------------------------------------------------------------------------
sleep 0.3
kill -INT $CAP; wait $CAP 2>/dev/null
mkdir -p "$W/ws/wireshark"
cat "$W"/keys-*/wireshark/esp_sa 2>/dev/null | sort -u >"$W/ws/wireshark/esp_sa"
cat "$W"/keys-*/wireshark/ikev1_decryption_table 2>/dev/null | sort -u >"$W/ws/wireshark/ikev1_decryption_table"
cp "$W/keys-${GMS[0]}/wireshark/decode_as_entries" "$W/ws/wireshark/" || fail "vpnd wrote no decode_as_entries"
TS() { XDG_CONFIG_HOME="$W/ws" tshark -r "$W/bridge.pcap" -o esp.enable_encryption_decode:TRUE "$@" 2>/dev/null; }
CLEAR=$(tshark -r "$W/bridge.pcap" -Y 'ip.src == 10.0.0.0/8 and ip.dst == 10.0.0.0/8 and not esp' 2>/dev/null | wc -l)
[ "$CLEAR" = 0 ] || fail "$CLEAR clear packets of the policy on the bridge"
for g in "${GMS[@]}"; do for h in "${GMS[@]}"; do
    [ $g = $h ] && continue
    n=$(tshark -r "$W/bridge.pcap" -Y "esp and ip.src == ${LAN[$g]} and ip.dst == ${LAN[$h]}" 2>/dev/null | wc -l)
    [ "$n" -gt 0 ] || fail "no ESP with preserved addresses ${LAN[$g]} -> ${LAN[$h]} on the bridge"
done; done
NESP=$(TS -Y 'esp' | wc -l)
NDEC=$(TS -Y 'esp and udp.dstport == 5001' | wc -l)
[ "$NESP" -gt 0 ] && [ "$NESP" = "$NDEC" ] || fail "tshark decrypted $NDEC of $NESP ESP packets with the written esp_sa"
# Malformed is allowed only for a byte-identical retransmission of an
# earlier GDOI message (GMX's GROUPKEY-PULL that the KS leaves unanswered):
# Wireshark decrypts a phase-2 message with the IV chained from the last
# one it saw, so a repeated message decrypts to garbage there.
TS -Y "(_ws.malformed or _ws.expert.severity >= error) and not ip.src == ${WAN[ev]}" -T fields -e frame.number >"$W/malformed.txt"
tshark -r "$W/bridge.pcap" -Y 'udp.port == 848' -T fields -e frame.number -e udp.payload 2>/dev/null >"$W/gdoi-payloads.txt"
NBAD=$(python3 - "$W/malformed.txt" "$W/gdoi-payloads.txt" <<'P'
import sys
bad = {l.strip() for l in open(sys.argv[1]) if l.strip()}
seen, real = set(), 0
for l in open(sys.argv[2]):
    f, _, pl = l.strip().partition('\t')
    if f in bad and pl not in seen:
        real += 1
    seen.add(pl)
    bad.discard(f)
print(real + len(bad))
P
)
[ "$NBAD" = 0 ] || fail "$NBAD malformed packets in the decrypted capture: $(TS -Y '_ws.malformed or _ws.expert.severity >= error' | head -3)"
NP1=$(wc -l <"$W/ws/wireshark/ikev1_decryption_table")
NID=$(TS -Y isakmp -V | grep -c 'Payload: Identification (5)')
[ "$NP1" -ge ${#GMS[@]} ] && [ "$NID" -ge $((2 * NP1)) ] ||
    fail "phase 1 not decrypted: $NP1 key lines, $NID identification payloads"
# the key server's decrypted view of what it sent: its rekeys readable
PP() { XDG_CONFIG_HOME="$W/ws" tshark -r "$W/${KSS[-1]}-plain.pcap" "$@" 2>/dev/null; }
# one pass over the pcap: the key server is still running and may push another
# rekey between two reads of a file it is writing
PUSHV=$(PP -Y 'isakmp.exchangetype == 33' -V)
NPUSH=$(grep -c '^Frame [0-9]*:' <<<"$PUSHV" || true)
NSIG=$(grep -c 'Payload: Signature (9)' <<<"$PUSHV" || true)
[ "$NPUSH" -ge 1 ] && [ "$NSIG" = "$NPUSH" ] || fail "the -P pcap shows $NSIG signatures in $NPUSH rekeys"
[ "$(PP -Y '_ws.malformed' | wc -l)" = 0 ] || fail "malformed datagrams in the key server's -P pcap"
[ "$(TS -Y 'isakmp.exchangetype == 33' -V | grep -c 'Payload: Signature (9)')" = 0 ] ||
    fail "rekeys readable in the capture itself: they should be KEK-encrypted"
log "-P pcap: $NPUSH rekeys with their signature payloads readable"
log "capture: $NESP ESP packets, all decrypted; $NP1 phase 1s decrypted; no clear packet of the policy"
echo "PASS: host-gdoi-$CASE"
