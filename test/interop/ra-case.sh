#!/bin/bash
# FlexVPN remote access against strongSwan: charon as the client (EAP, a
# virtual IP asked for with the configuration payload), vpnd as the hub (a
# Virtual-Template, `authentication remote eap query-identity`, the local
# `username` database, an `ip local pool`, a split-tunnel ACL).
#   ra-case.sh CASE OUTDIR VPND VPNCTL
# CASE: mschapv2 (EAP-MSCHAPv2), md5 (EAP-MD5), wrongpw (EAP-MSCHAPv2 with a
# wrong password: AUTHENTICATION_FAILED, no address taken from the pool).
# Namespaces are named ra[us]<pid> so that other interop runs (i[us]<pid>,
# gd...) never meet these. Exit 0 only when every verdict holds; logs,
# configurations, key files and the capture stay in OUTDIR.
set -u
CASE=${1:?case}; INTEROP_OUT=${2:-}; VPND=${3:-}; VPNCTL=${4:-}
US_KIND=vpnd
source "$(dirname "$0")/lib.sh"

POOL_FIRST=10.99.0.10
POOL_LAST=10.99.0.19
USER=alice
PASSWORD='Secr3t!'
HUB_PSK=ra-hub-psk-0123456789
SINK_PORT=5001
case $CASE in
    mschapv2) METHOD=mschapv2; SW_AUTH=eap-mschapv2; CLIENT_PW=$PASSWORD ;;
    md5) METHOD=md5; SW_AUTH=eap-md5; CLIENT_PW=$PASSWORD ;;
    wrongpw) METHOD=mschapv2; SW_AUTH=eap-mschapv2; CLIENT_PW='not-the-password' ;;
    *) fail "unknown case $CASE" ;;
esac

# ---- namespaces (lib.sh's interop_setup names them i[us]PID; ours are ra[us]PID)
ra_sweep_stale() {
    local n pid
    for n in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^ra[us][0-9]+$'); do
        pid=${n#ra?}
        kill -0 "$pid" 2>/dev/null && continue
        for p in $(ip netns pids "$n" 2>/dev/null); do kill -CONT "$p"; kill -KILL "$p"; done
        ip netns del "$n" 2>/dev/null && echo "removed namespace $n left by a killed run"
    done
}

ra_setup() {
    CASE_NAME=$1
    T0=$(now_ms)
    W=${INTEROP_OUT:-$(mktemp -d /tmp/interop-ra.XXXXXX)}
    rm -rf "$W"; mkdir -p "$W/us" "$W/swan" "$W/ws/wireshark" "$W/keys"
    ra_sweep_stale
    NS_US=rau$$; NS_SWAN=ras$$
    trap cleanup EXIT
    trap 'exit 130' INT TERM
    ip netns add $NS_US || fail "cannot create a network namespace"
    NETNS+=($NS_US)
    ip netns add $NS_SWAN || fail "cannot create a network namespace"
    NETNS+=($NS_SWAN)
    ip link add vu netns $NS_US type veth peer name vs netns $NS_SWAN || fail "cannot create a veth pair"
    ip -n $NS_US addr add $US_OUTER/24 dev vu
    ip -n $NS_SWAN addr add $SWAN_OUTER/24 dev vs
    ip -n $NS_US addr add $US_INNER/32 dev lo
    for n in $NS_US $NS_SWAN; do ip -n $n link set lo up; done
    ip -n $NS_US link set vu up
    ip -n $NS_SWAN link set vs up
}

# ---- the hub: vpnd ------------------------------------------------------------------
hub_conf() {
    cat >"$1" <<EOF
hostname HUB
aaa new-model
aaa authorization network RA-AUTHOR local
username $USER password $PASSWORD
username bob password hunter2
ip local pool RA-POOL $POOL_FIRST $POOL_LAST
ip access-list standard SPLIT
 permit ${US_NET%/24} 0.0.0.255
crypto ikev2 authorization policy RA-POL
 pool RA-POOL
 dns 10.0.1.53
 route set access-list SPLIT
crypto ikev2 proposal PROP
 encryption aes-gcm-128
 prf sha256
 group 19
crypto ikev2 policy POL
 proposal PROP
crypto ikev2 profile RA
 match identity remote any
 identity local fqdn $US_ID
 authentication remote eap query-identity $METHOD
 authentication local pre-share key $HUB_PSK
 aaa authorization group eap list RA-AUTHOR RA-POL
 virtual-template 1
crypto ipsec transform-set TS esp-gcm 128
 mode tunnel
crypto ipsec profile IPSP
 set transform-set TS
 set ikev2-profile RA
interface vu
 ip address $US_OUTER 255.255.255.0
interface Loopback0
 ip address $US_INNER 255.255.255.255
interface Virtual-Template1 type tunnel
 ip unnumbered Loopback0
 tunnel source vu
 tunnel mode ipsec ipv4
 tunnel protection ipsec profile IPSP
end
EOF
}

# ---- the client: charon with EAP and a virtual IP -----------------------------------
client_conf() {
    local d=$1
    cat >"$d/strongswan.conf" <<EOF
charon {
  load_modular = no
  load = random nonce openssl gcrypt pem pkcs1 pkcs8 x509 pubkey kdf aes sha1 sha2 md5 hmac gcm gmp eap-identity eap-mschapv2 eap-md5 kernel-libipsec kernel-netlink socket-default vici
  retransmit_timeout = 1.0
  retransmit_base = 1.4
  retransmit_tries = 2
  install_virtual_ip = yes
  filelog {
    f {
      path = $d/charon.log
      time_format = %H:%M:%S
      default = 1
      ike = 2
      cfg = 2
      knl = 1
      flush_line = yes
    }
  }
  plugins {
    vici { socket = unix://$d/charon.vici }
    kernel-libipsec { allow_peer_ts = no }
  }
}
swanctl {
  load = random nonce openssl pem pkcs1 pkcs8 x509 pubkey
}
EOF
    cat >"$d/swanctl.conf" <<EOF
connections {
 ra {
  version = 2
  local_addrs = $SWAN_OUTER
  remote_addrs = $US_OUTER
  proposals = aes128gcm16-prfsha256-ecp256
  vips = 0.0.0.0
  mobike = no
  keyingtries = 1
  local {
   auth = $SW_AUTH
   id = $USER@$SWAN_ID
   eap_id = $USER
  }
  remote {
   auth = psk
   id = $US_ID
  }
  children {
   c {
    mode = tunnel
    remote_ts = $US_NET
    esp_proposals = aes128gcm16
   }
  }
 }
}
secrets {
 eap-user {
  id = $USER
  secret = "$CLIENT_PW"
 }
 ike-hub {
  id = $US_ID
  secret = "$HUB_PSK"
 }
}
EOF
}

# ts_count FILTER: packets of the capture matching FILTER, decrypted with
# vpnd's key files; a filter tshark refuses fails the case.
ts_count() {
    local out
    out=$(XDG_CONFIG_HOME="$W/ws" tshark -r "$W/wan.pcap" -o esp.enable_encryption_decode:TRUE -Y "$1" \
        -T fields -e frame.number 2>"$W/tshark.err") || fail "tshark refused '$1': $(cat "$W/tshark.err")"
    [ -z "$out" ] && echo 0 || echo "$out" | wc -l
}

# ---- run ------------------------------------------------------------------------------
interop_require
[ -e /usr/lib/ipsec/plugins/libstrongswan-eap-mschapv2.so ] ||
    fail "strongSwan's eap-mschapv2 plugin is missing (libcharon-extauth-plugins; ./scripts/deps)"
[ -e /usr/lib/ipsec/plugins/libstrongswan-eap-md5.so ] ||
    fail "strongSwan's eap-md5 plugin is missing (libcharon-extra-plugins; ./scripts/deps)"
ra_setup "interop-ra-$CASE"
log "work folder $W"

start_capture
hub_conf "$W/us/vpnd.conf"
spawn $NS_US "$W/us/vpnd.stdout" "$VPND" -c "$W/us/vpnd.conf" -s "$W/us/vpnd.sock" -k "$W/keys" \
    -l debug -L "$W/us/vpnd.log" -t vt -p "$W/us/vpnd.pid" -n
US_PID=$SPAWNED
wait_for 10 test -S "$W/us/vpnd.sock" ||
    fail "vpnd did not start: $(tail -5 "$W/us/vpnd.stdout" "$W/us/vpnd.log" 2>/dev/null)"
client_conf "$W/swan"
start_charon $NS_SWAN "$W/swan"
log "vpnd (pid $US_PID) and charon running"

vpnctl show ip local pool >"$W/pool-before.txt" 2>&1
swan --initiate --ike ra --child c --timeout 15 >"$W/swan/initiate.log" 2>&1
INIT_RC=$?
vpnctl show crypto ikev2 sa detail >"$W/ikev2-sa-detail.txt" 2>&1
vpnctl show crypto session >"$W/session.txt" 2>&1
vpnctl show crypto session username $USER detail >"$W/session-user.txt" 2>&1
vpnctl show ip local pool >"$W/pool-up.txt" 2>&1
vpnctl show crypto ipsec sa >"$W/ipsec-sa.txt" 2>&1
vpnctl status >"$W/status.txt" 2>&1

# pool_in_use FILE: the In-use column of RA-POOL in a `show ip local pool`.
pool_in_use() { awk '$1 == "RA-POOL" {print $(NF)}' "$1"; }
grep -q RA-POOL "$W/pool-before.txt" || fail "show ip local pool has no RA-POOL: $(cat "$W/pool-before.txt")"

if [ "$CASE" = wrongpw ]; then
    [ $INIT_RC -ne 0 ] || fail "strongSwan's initiate succeeded with a wrong password"
    grep -q "received AUTHENTICATION_FAILED notify" "$W/swan/charon.log" ||
        fail "strongSwan did not receive AUTHENTICATION_FAILED (see $W/swan/charon.log)"
    grep -qi "failed" "$W/us/vpnd.log" || fail "vpnd's log shows no failed authentication"
    [ "$(pool_in_use "$W/pool-up.txt")" = 0 ] || fail "an address was taken from the pool: $(cat "$W/pool-up.txt")"
    grep -q "$POOL_FIRST" "$W/ikev2-sa-detail.txt" && fail "the refused client shows an assigned address"
    stop_capture
    us_keys
    # The refused IKE_AUTH exchanges decrypt with vpnd's key file: EAP visible.
    n_eap=$(ts_count eap)
    log "decrypted EAP messages: $n_eap"
    [ "$n_eap" -ge 2 ] || fail "the capture shows no decrypted EAP"
    log "PASS: wrong password refused, pool untouched"
    exit 0
fi

[ $INIT_RC -eq 0 ] || fail "strongSwan could not connect: $(tail -5 "$W/swan/initiate.log")"
VIP=$(grep -o "installing new virtual IP [0-9.]*" "$W/swan/charon.log" | awk '{print $NF}' | tail -1)
[ -n "$VIP" ] || fail "strongSwan installed no virtual IP (see $W/swan/charon.log)"
log "strongSwan got virtual IP $VIP"
[ "$VIP" = "$POOL_FIRST" ] || fail "virtual IP $VIP is not the pool's first address $POOL_FIRST"
grep -q "EAP method EAP_$(echo "$METHOD" | tr a-z A-Z) succeeded" "$W/swan/charon.log" ||
    fail "strongSwan's log does not show EAP_$(echo "$METHOD" | tr a-z A-Z) succeeded"
grep -q "$POOL_FIRST" "$W/ikev2-sa-detail.txt" || fail "show crypto ikev2 sa detail lacks the assigned address: $(cat "$W/ikev2-sa-detail.txt")"
grep -q "$USER" "$W/ikev2-sa-detail.txt" || fail "show crypto ikev2 sa detail lacks the EAP identity"
grep -q "$SWAN_OUTER" "$W/session-user.txt" || fail "show crypto session username $USER shows no session: $(cat "$W/session-user.txt")"
grep -q "^Virtual-Template1 .* access sessions=1 " "$W/status.txt" || fail "vpnctl status does not show one session: $(cat "$W/status.txt")"
[ "$(pool_in_use "$W/pool-up.txt")" = 1 ] || fail "the pool does not show one address in use: $(cat "$W/pool-up.txt")"
in_us ip route show | grep -q "^$POOL_FIRST dev vt" || fail "vpnd installed no route to $POOL_FIRST: $(in_us ip route show)"

# Traffic both ways between the virtual IP and the hub's LAN address.
t="$W/traffic"
spawn $NS_US "$t-us-sink.log" $PY "$HERE/traffic.py" sink --bind $US_INNER --port $SINK_PORT --out "$t-us-sink.json"
SINK_US=$SPAWNED
spawn $NS_SWAN "$t-swan-sink.log" $PY "$HERE/traffic.py" sink --bind $VIP --port $SINK_PORT --out "$t-swan-sink.json"
SINK_SWAN=$SPAWNED
wait_for 20 test -f "$t-us-sink.json.ready" -a -f "$t-swan-sink.json.ready" || fail "traffic sinks did not start"
spawn $NS_SWAN "$t-swan-send.log" $PY "$HERE/traffic.py" send --src $VIP --dst $US_INNER \
    --port $SINK_PORT --count 100 --rate 200 --icmp 5 --flow swan1 --out "$t-swan-sent.json"
SEND_SWAN=$SPAWNED
spawn $NS_US "$t-us-send.log" $PY "$HERE/traffic.py" send --src $US_INNER --dst $VIP \
    --port $SINK_PORT --count 100 --rate 200 --icmp 5 --flow us1 --out "$t-us-sent.json"
SEND_US=$SPAWNED
wait $SEND_US $SEND_SWAN
sleep 0.5
kill -TERM $SINK_US $SINK_SWAN
wait $SINK_US $SINK_SWAN
rc=0
$PY "$HERE/traffic.py" check --sent "$t-swan-sent.json" --received "$t-us-sink.json" --name "client -> hub" || rc=1
$PY "$HERE/traffic.py" check --sent "$t-us-sent.json" --received "$t-swan-sink.json" --name "hub -> client" || rc=1
[ $rc = 0 ] || fail "traffic was lost"

# The client goes: the address returns to the pool, the route goes.
swan --terminate --ike ra --timeout 10 >>"$W/swan/ctl.log" 2>&1 || log "swanctl --terminate returned non-zero"
wait_for 5 sh -c "'$VPNCTL' -s '$W/us/vpnd.sock' show ip local pool | awk '\$1 == \"RA-POOL\" {exit \$NF != 0}'" ||
    fail "the address did not return to the pool: $(vpnctl show ip local pool)"
in_us ip route show | grep -q "^$POOL_FIRST " && fail "the route to $POOL_FIRST stayed after the client left"

stop_capture
us_keys
# Every IKE message and ESP packet decrypts with vpnd's key files; EAP, the
# CP payload with the address and the split-tunnel subnet, and the inner
# traffic are visible.
n_ike_enc=$(ts_count "isakmp.exchangetype >= 35")
n_ike_dec=$(ts_count "isakmp.exchangetype >= 35 && isakmp.enc.decrypted")
n_esp=$(ts_count "esp")
n_esp_dec=$(ts_count "esp && ip.addr == $VIP")
n_bad=$(ts_count "_ws.malformed")
n_eap=$(ts_count "eap")
n_cp=$(ts_count "isakmp.cfg.attr.type == 1")
n_ip4=$(ts_count "isakmp.cfg.attr.internal_ip4_address == $POOL_FIRST")
n_split=$(ts_count "isakmp.cfg.attr.internal_ip4_subnet_ip == ${US_NET%/24}")
n_inner=$(ts_count "esp && ip.src == $VIP && ip.dst == $US_INNER && udp.dstport == $SINK_PORT")
n_back=$(ts_count "esp && ip.src == $US_INNER && ip.dst == $VIP && udp.dstport == $SINK_PORT")
log "capture: IKE encrypted $n_ike_enc decrypted $n_ike_dec, ESP $n_esp decrypted $n_esp_dec, malformed $n_bad,"
log "  EAP $n_eap, CP address attributes $n_cp ($POOL_FIRST: $n_ip4), split subnet $n_split, inner UDP $n_inner / $n_back"
[ "$n_ike_enc" -ge 6 ] && [ "$n_ike_dec" = "$n_ike_enc" ] || fail "not every encrypted IKE message decrypts"
[ "$n_esp" -ge 200 ] && [ "$n_esp_dec" = "$n_esp" ] || fail "not every ESP packet decrypts"
[ "$n_bad" = 0 ] || fail "$n_bad malformed packets"
[ "$n_eap" -ge 4 ] || fail "fewer than 4 decrypted EAP messages"
[ "$n_cp" -ge 2 ] && [ "$n_ip4" -ge 1 ] || fail "the CP request and the reply with $POOL_FIRST are not both visible"
[ "$n_split" -ge 1 ] || fail "the CP reply does not carry the split-tunnel subnet"
[ "$n_inner" -ge 100 ] && [ "$n_back" -ge 100 ] || fail "the decrypted ESP does not show the inner traffic"
log "PASS: $SW_AUTH client got $VIP, traffic both ways, address returned"
