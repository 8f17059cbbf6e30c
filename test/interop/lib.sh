# Interop test library, sourced by run-case.sh (bash, root).
#
# Two network namespaces joined by a veth pair:
#   US   (our side):     veth 198.18.0.1/24, inner 10.0.1.1/32 on lo, runs vpnd
#   SWAN (strongSwan):   veth 198.18.0.2/24, inner 10.0.2.1/32 on lo, runs charon
# charon uses kernel-libipsec (userland ESP over a TUN, routes in table 220):
# the kernel here has no XFRM ESP. INTEROP_US=charon puts a second charon on
# our side instead of vpnd, to check the harness itself.
#
# Everything this library starts is in PIDS and every namespace in NETNS;
# the EXIT trap set by interop_setup kills and removes all of them.

US_OUTER=198.18.0.1
SWAN_OUTER=198.18.0.2
US_INNER=10.0.1.1
SWAN_INNER=10.0.2.1
US_NET=10.0.1.0/24
SWAN_NET=10.0.2.0/24
US_ID=vpnd.test
SWAN_ID=swan.test

PIDS=()
NETNS=()
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=${PYTHON:-python3}

now_ms() { echo $(($(date +%s%N) / 1000000)); }
secs_since() { local d=$(($(now_ms) - $1)); printf '%d.%02d' $((d / 1000)) $((d % 1000 / 10)); }
log() { printf '%s [%6ss] %s\n' "${CASE_NAME:-interop}" "$(secs_since "${T0:-$(now_ms)}")" "$*"; }
fail() {
    echo "FAIL: $*" >&2
    [ -n "${W:-}" ] && echo "logs and capture kept in $W" >&2
    exit 1
}

# A case never passes by being skipped: anything missing fails the test and
# says what is missing.
interop_require() {
    local missing=()
    [ "$(id -u)" -eq 0 ] || fail "interop tests need root (network namespaces, veth, TUN); run ctest as root"
    for c in ip swanctl tshark dumpcap openssl "$PY"; do
        command -v "$c" >/dev/null 2>&1 || missing+=("$c")
    done
    [ -x /usr/lib/ipsec/charon ] || missing+=("/usr/lib/ipsec/charon (strongswan-charon)")
    [ -e /usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so ] ||
        missing+=("kernel-libipsec plugin (libcharon-extra-plugins)")
    [ -e /usr/lib/ipsec/plugins/libstrongswan-openssl.so ] ||
        missing+=("openssl plugin (libstrongswan-standard-plugins)")
    [ -c /dev/net/tun ] || missing+=("/dev/net/tun")
    if [ "$US_KIND" = vpnd ]; then
        [ -x "$VPND" ] || missing+=("vpnd, not built at $VPND")
        [ -x "$VPNCTL" ] || missing+=("vpnctl, not built at $VPNCTL")
    fi
    [ ${#missing[@]} -eq 0 ] ||
        fail "missing prerequisites: ${missing[*]} (./scripts/deps installs the packages; cmake --build builds vpnd)"
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    for p in "${PIDS[@]}"; do kill -CONT "$p" 2>/dev/null; kill -TERM "$p" 2>/dev/null; done
    for i in $(seq 30); do
        local alive=0
        for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
        [ $alive = 0 ] && break
        sleep 0.1
    done
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
    wait 2>/dev/null
    for n in "${NETNS[@]}"; do ip netns del "$n" 2>/dev/null; done
    exit $rc
}

# A run killed outright (SIGKILL, e.g. a ctest timeout) cannot run its trap:
# the next run removes its namespaces (named after the dead run's pid) and
# the processes still inside them.
# PREFIX (default i) keeps families of cases apart: ra-case.sh uses ra.
sweep_stale() {
    local n pid prefix=${1:-i}
    for n in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^$prefix[usrp][0-9]+\$"); do
        pid=${n#$prefix?}
        kill -0 "$pid" 2>/dev/null && continue
        for p in $(ip netns pids "$n" 2>/dev/null); do kill -CONT "$p"; kill -KILL "$p"; done
        ip netns del "$n" 2>/dev/null && echo "removed namespace $n left by a killed run"
    done
}

# interop_setup CASE [PREFIX]: work folder, namespaces (PREFIXu<pid> and
# PREFIXs<pid>, PREFIX i by default), veth, addresses.
interop_setup() {
    CASE_NAME=$1
    local prefix=${2:-i}
    T0=$(now_ms)
    W=${INTEROP_OUT:-$(mktemp -d /tmp/interop.XXXXXX)}
    rm -rf "$W"; mkdir -p "$W/us" "$W/swan" "$W/ws/wireshark" "$W/keys"
    sweep_stale "$prefix"
    NS_US=${prefix}u$$; NS_SWAN=${prefix}s$$
    trap cleanup EXIT
    trap 'exit 130' INT TERM
    ip netns add $NS_US || fail "cannot create a network namespace"
    NETNS+=($NS_US)
    ip netns add $NS_SWAN || fail "cannot create a network namespace"
    NETNS+=($NS_SWAN)
    if [ -n "${RELAY:-}" ]; then
        relay_path "$prefix"
    elif [ -n "${NAT_SIDE:-}" ]; then
        nat_path "$prefix"
    else
        ip link add vu netns $NS_US type veth peer name vs netns $NS_SWAN || fail "cannot create a veth pair"
    fi
    if [ -n "${PATH_MTU:-}" ]; then
        ip -n $NS_US link set vu mtu $PATH_MTU
        ip -n $NS_SWAN link set vs mtu $PATH_MTU
    fi
    # OUTER_PLEN (default 24): an IPv6 underlay sets US_OUTER/SWAN_OUTER to
    # IPv6 addresses and 64 (no duplicate address detection: no waiting)
    local nodad=
    case $US_OUTER in *:*) nodad=nodad ;; esac
    ip -n $NS_US addr add $US_OUTER/${OUTER_PLEN:-24} dev vu $nodad
    ip -n $NS_SWAN addr add $SWAN_OUTER/${OUTER_PLEN:-24} dev vs $nodad
    ip -n $NS_US addr add $US_INNER/32 dev lo
    ip -n $NS_SWAN addr add $SWAN_INNER/32 dev lo
    for n in $NS_US $NS_SWAN; do ip -n $n link set lo up; done
    ip -n $NS_US link set vu up
    ip -n $NS_SWAN link set vs up
    if [ -n "${NAT_SIDE:-}" ]; then
        # the side behind the NAT reaches the other through it
        if [ "$NAT_SIDE" = us ]; then ip -n $NS_US route add default via $NAT_INSIDE dev vu
        else ip -n $NS_SWAN route add default via $NAT_INSIDE dev vs; fi || fail "no default route via the NAT"
    fi
}

# nat_use us|swan: the case's side NAT_SIDE sits behind a NAPT (nat.py in a
# third namespace, nat_path): its outer address becomes NAT_INSIDE_NET.2,
# and the other side knows it only as NAT_OUTSIDE (US_SEEN / SWAN_SEEN).
# Call before interop_setup.
NAT_INSIDE=192.168.18.1
NAT_OUTSIDE=198.18.0.9
nat_use() {
    NAT_SIDE=$1
    if [ "$1" = us ]; then US_OUTER=192.168.18.2; US_SEEN=$NAT_OUTSIDE
    else SWAN_OUTER=192.168.18.2; SWAN_SEEN=$NAT_OUTSIDE; fi
}

# nat_path PREFIX: the path through a third namespace (PREFIXr<pid>) where
# nat.py is NAT_SIDE's gateway ($NAT_INSIDE) and translates it to
# $NAT_OUTSIDE; neither interface there has an address of the kernel's.
# Counts and mappings in $W/nat.json (at once on SIGUSR2, and when it stops).
nat_path() {
    local in=vu out=vs
    [ "$NAT_SIDE" = swan ] && { in=vs; out=vu; }
    NS_MID=${1}r$$
    ip netns add $NS_MID || fail "cannot create a network namespace"
    NETNS+=($NS_MID)
    ip link add vu netns $NS_US type veth peer name mvu netns $NS_MID || fail "cannot create a veth pair"
    ip link add vs netns $NS_SWAN type veth peer name mvs netns $NS_MID || fail "cannot create a veth pair"
    for i in m$in m$out; do
        ip netns exec $NS_MID sysctl -qw net.ipv6.conf.$i.disable_ipv6=1 2>/dev/null
        ip -n $NS_MID link set dev $i up
    done
    ip -n $NS_MID link set dev lo up
    spawn $NS_MID "$W/nat.log" $PY "$HERE/nat.py" --inside m$in --inside-addr $NAT_INSIDE \
        --outside m$out --outside-addr $NAT_OUTSIDE --stats "$W/nat.json"
    NAT_PID=$SPAWNED
    wait_for 20 test -f "$W/nat.json.ready" || fail "nat.py did not start: $(cat "$W/nat.log")"
}

# nat_stats: nat.py's counts now, in $W/nat.json.
nat_stats() {
    rm -f "$W/nat.json"
    kill -USR2 "$NAT_PID" && wait_for 5 test -f "$W/nat.json" || fail "nat.py wrote no counts: $(cat "$W/nat.log")"
}

# relay_path PREFIX: the path through a third namespace (PREFIXr<pid>)
# where relay.py bridges vu's and vs's peers, dropping what RELAY (its
# options: --loss P, --drop-fragments, --max-ip-len N) says. Counts in
# $W/relay.json when it stops.
relay_path() {
    NS_MID=${1}r$$
    ip netns add $NS_MID || fail "cannot create a network namespace"
    NETNS+=($NS_MID)
    ip link add vu netns $NS_US type veth peer name mu netns $NS_MID || fail "cannot create a veth pair"
    ip link add vs netns $NS_SWAN type veth peer name ms netns $NS_MID || fail "cannot create a veth pair"
    for i in mu ms; do
        ip -n $NS_MID link set $i mtu 9000 promisc on up
    done
    ip -n $NS_MID link set lo up
    # shellcheck disable=SC2086
    spawn $NS_MID "$W/relay.log" $PY "$HERE/relay.py" --if mu --if ms --stats "$W/relay.json" $RELAY
    RELAY_PID=$SPAWNED
    wait_for 20 test -f "$W/relay.json.ready" || fail "relay.py did not start: $(cat "$W/relay.log")"
}

# relay_stop: stops relay.py; its counts are in $W/relay.json.
relay_stop() {
    kill -TERM "$RELAY_PID" 2>/dev/null
    wait "$RELAY_PID" 2>/dev/null
    [ -f "$W/relay.json" ] || fail "relay.py wrote no counts: $(cat "$W/relay.log")"
}

# net_drops: every drop counter of the case's namespaces, one per line
# (NS COUNTER VALUE): the UDP and IP MIB (RcvbufErrors: a socket's receive
# buffer was full), the kernel's ESP counters (xfrm_stat: strongSwan's SAs),
# each raw socket's drops (vpnd's ESP sockets), each
# device's rx/tx drops (tun txqueue, veth backlog), and the relay's failed sends.
net_drops() {
    local n
    for n in "${NETNS[@]}"; do
        ip netns exec "$n" awk -v ns="$n" '/^(Udp|Ip):/ { if (!h[$1]++) { split($0, k); next } for (i = 2; i <= NF; i++) if (k[i] ~ /Err|Discard|NoPorts|Fail|NoRoutes/) print ns, k[1] k[i], $i }' /proc/net/snmp
        ip netns exec "$n" awk -v ns="$n" '{ print ns, $1, $2 }' /proc/net/xfrm_stat 2>/dev/null
        ip netns exec "$n" awk -v ns="$n" 'NR > 1 { print ns, "raw:" $2 ":" $3 ":drops", $NF }' /proc/net/raw
        ip netns exec "$n" awk -v ns="$n" 'NR > 1 { print ns, "udp:" $2 ":drops", $NF }' /proc/net/udp
        ip netns exec "$n" sh -c 'for f in /sys/class/net/*/statistics/*_dropped; do echo "$f $(cat "$f")"; done' |
            awk -v ns="$n" '{ split($1, p, "/"); print ns, p[5] ":" p[7], $2 }'
    done
}

in_us() { ip netns exec $NS_US "$@"; }
in_swan() { ip netns exec $NS_SWAN "$@"; }

# spawn NS LOG CMD...: CMD in the background in NS, output to LOG; its pid
# (ip netns exec execs CMD, so the same process) in SPAWNED and PIDS.
spawn() {
    local ns=$1 out=$2; shift 2
    ip netns exec "$ns" "$@" >"$out" 2>&1 &
    SPAWNED=$!; PIDS+=($SPAWNED)
}

# wait_for SECONDS CMD...: runs CMD until it succeeds, at most SECONDS; 1 if it never did.
wait_for() {
    local end=$(($(now_ms) + $1 * 1000)); shift
    while :; do
        "$@" >/dev/null 2>&1 && return 0
        [ "$(now_ms)" -gt $end ] && return 1
        sleep 0.1
    done
}

# ---- capture ----------------------------------------------------------------
start_capture() {
    spawn $NS_US "$W/dumpcap.log" dumpcap -q -P -i vu -f 'udp port 500 or udp port 4500 or esp' -w "$W/wan.pcap"
    CAP_PID=$SPAWNED
    wait_for 5 grep -q Capturing "$W/dumpcap.log" || fail "dumpcap did not start: $(cat "$W/dumpcap.log")"
}

stop_capture() {
    sleep 0.3
    kill -INT "$CAP_PID" 2>/dev/null
    wait "$CAP_PID" 2>/dev/null
}

# ---- strongSwan ---------------------------------------------------------------
# charon_conf DIR: strongswan.conf for one charon instance. Short retransmission
# timers so that DPD and failures resolve in seconds, not minutes.
# CHARON_PLUGINS adds plugins (the EAP methods of a remote-access client),
# CHARON_VIP=yes installs a virtual IP the peer assigns, CHARON_TRIES sets
# retransmit_tries, CHARON_RFC7427=no leaves RFC 7427 signature authentication out.
charon_conf() {
    local d=$1
    cat >"$d/strongswan.conf" <<EOF
charon {
  load_modular = no
  load = random nonce openssl pem pkcs1 pkcs8 x509 pubkey constraints kdf aes sha1 sha2 ${CHARON_PLUGINS:-}hmac gcm gmp kernel-libipsec kernel-netlink socket-default vici
  retransmit_timeout = 1.0
  retransmit_base = 1.4
  retransmit_tries = ${CHARON_TRIES:-2}
  delete_rekeyed_delay = 1
  signature_authentication = ${CHARON_RFC7427:-yes}
  install_virtual_ip = ${CHARON_VIP:-no}
  filelog {
    f {
      path = $d/charon.log
      time_format = %H:%M:%S
      default = 1
      ike = ${CHARON_IKE_LOG:-2}
      chd = ${CHARON_CHD_LOG:-2}
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
}

# start_charon NS DIR: runs charon in NS with DIR/strongswan.conf, loads DIR/swanctl.conf.
# charon's pid file is fixed at /var/run/charon.pid; ip netns exec gives a private
# mount namespace, so a per-instance folder is bound over /run.
start_charon() {
    local ns=$1 d=$2
    STRONGSWAN_CONF="$d/strongswan.conf" ip netns exec "$ns" \
        sh -c "mount --bind '$d' /run && exec /usr/lib/ipsec/charon" >"$d/charon.stdout" 2>&1 &
    local pid=$!; PIDS+=($pid)
    eval "CHARON_PID_$(basename "$d")=$pid"
    wait_for 10 test -S "$d/charon.vici" || fail "charon did not start in $ns: $(tail -5 "$d/charon.stdout")"
    swanctl_at "$d" --load-all --file "$d/swanctl.conf" >"$d/load.log" 2>&1 ||
        fail "swanctl --load-all failed for $d: $(cat "$d/load.log")"
}

swanctl_at() { # DIR ARGS...
    local d=$1; shift
    STRONGSWAN_CONF="$d/strongswan.conf" swanctl "$@" --uri "unix://$d/charon.vici"
}
swan() { swanctl_at "$W/swan" "$@"; }

# swan_list DIR OUT: strongSwan's view, raw vici dump, for judge.py.
swan_list() { swanctl_at "$1" --list-sas --raw >"$2" 2>/dev/null; }

# swanctl_conf DIR ME PEER ME_OUTER PEER_OUTER ME_NET PEER_NET: writes DIR/swanctl.conf
# from the case variables (SW_*), shared by both charons in self-check mode.
swanctl_conf() {
    local d=$1 me=$2 peer=$3 mo=$4 po=$5 mn=$6 pn=$7 secret=$8 ca=$9 certdir=${10}
    local auth=psk
    if [ "$AUTH" != psk ]; then
        # swanctl loads keys from the private/ folder beside swanctl.conf.
        auth=pubkey
        mkdir -p "$d/private"
        cp "$certdir/$me.key" "$d/private/$me.key"
    fi
    {
        echo "connections {"
        echo " t {"
        echo "  version = 2"
        echo "  local_addrs = $mo"
        echo "  remote_addrs = $po"
        echo "  proposals = $IKE_PROPOSAL"
        echo "  mobike = no"
        echo "  fragmentation = yes"
        echo "  rekey_time = ${SW_IKE_REKEY:-4h}"
        echo "  dpd_delay = ${SW_DPD:-0}"
        echo "  keyingtries = 1"
        echo "  local {"
        echo "   auth = $auth"
        echo "   id = $me"
        [ "$auth" = pubkey ] && echo "   certs = $certdir/$me.crt"
        echo "  }"
        echo "  remote {"
        echo "   auth = $auth"
        echo "   id = $peer"
        [ "$auth" = pubkey ] && echo "   cacerts = $ca"
        echo "  }"
        echo "  children {"
        echo "   c {"
        echo "    mode = tunnel"
        echo "    local_ts = $mn"
        echo "    remote_ts = $pn"
        echo "    esp_proposals = $ESP_PROPOSAL"
        echo "    rekey_time = ${SW_CHILD_REKEY:-1h}"
        echo "    dpd_action = clear"
        echo "   }"
        echo "  }"
        echo " }"
        echo "}"
        echo "secrets {"
        if [ "$auth" = psk ]; then
            echo " ike-1 {"
            echo "  id-1 = $me"
            echo "  id-2 = $peer"
            echo "  secret = \"$secret\""
            echo " }"
        fi
        echo "}"
    } >"$d/swanctl.conf"
}

# ---- certificates --------------------------------------------------------------
# make_pki DIR rsa|ecdsa: a test CA and one certificate per identity, made now.
# PKI_CHAIN=yes: our certificate comes from an intermediate CA (inter.crt) that
# only our side holds: $US_ID.crt is then our certificate followed by inter.crt.
make_pki() {
    local d=$1 kind=$2 alg
    mkdir -p "$d"
    if [ "$kind" = rsa ]; then alg=(-algorithm RSA -pkeyopt rsa_keygen_bits:2048)
    else alg=(-algorithm EC -pkeyopt ec_paramgen_curve:P-256); fi
    {
        openssl genpkey "${alg[@]}" -out "$d/ca.key" &&
        openssl req -x509 -new -key "$d/ca.key" -subj "/O=interop/CN=Interop Test CA" -days 2 \
            -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
            -out "$d/ca.crt" &&
        if [ "${PKI_CHAIN:-}" = yes ]; then
            openssl genpkey "${alg[@]}" -out "$d/inter.key" &&
            openssl req -new -key "$d/inter.key" -subj "/O=interop/CN=Interop Intermediate CA" -out "$d/inter.csr" &&
            printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n' >"$d/inter.ext" &&
            openssl x509 -req -in "$d/inter.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
                -days 2 -extfile "$d/inter.ext" -out "$d/inter.crt" || return 1
        fi &&
        for id in $US_ID $SWAN_ID; do
            local by=ca
            [ "${PKI_CHAIN:-}" = yes ] && [ $id = $US_ID ] && by=inter
            openssl genpkey "${alg[@]}" -out "$d/$id.key" &&
            openssl req -new -key "$d/$id.key" -subj "/O=interop/CN=$id" -out "$d/$id.csr" &&
            printf 'subjectAltName=DNS:%s\nkeyUsage=critical,digitalSignature\nbasicConstraints=CA:FALSE\n' "$id" >"$d/$id.ext" &&
            openssl x509 -req -in "$d/$id.csr" -CA "$d/$by.crt" -CAkey "$d/$by.key" -CAcreateserial \
                -days 2 -extfile "$d/$id.ext" -out "$d/$id.crt" || return 1
            [ $by = ca ] || cat "$d/inter.crt" >>"$d/$id.crt"
        done
    } >"$d/openssl.log" 2>&1 || fail "openssl could not make the test PKI: $(tail -3 "$d/openssl.log")"
}

# ---- our side: vpnd, or a second charon standing in for it -----------------------
# vpnd_conf FILE: our configuration in the IOS vocabulary, from the case variables.
vpnd_conf() {
    local f=$1
    {
        echo "hostname VPND"
        echo "crypto ikev2 proposal PROP"
        echo " encryption $IOS_ENCR"
        [ -n "${IOS_INTEG:-}" ] && echo " integrity $IOS_INTEG"
        [ -n "${IOS_PRF:-}" ] && echo " prf $IOS_PRF"
        echo " group $IOS_GROUP"
        echo "crypto ikev2 policy POL"
        echo " proposal PROP"
        [ -n "${IOS_GLOBAL:-}" ] && echo "$IOS_GLOBAL"
        if [ "$AUTH" = psk ]; then
            echo "crypto ikev2 keyring KR"
            echo " peer SWAN"
            echo "  address ${SWAN_SEEN:-$SWAN_OUTER}"
            echo "  pre-shared-key local $PSK_US"
            echo "  pre-shared-key remote $PSK_US"
        else
            echo "crypto pki trustpoint TP"
            echo " ca-certificate file $W/pki/ca.crt"
            echo " certificate file $W/pki/$US_ID.crt"
            echo " private-key file $W/pki/$US_ID.key"
        fi
        echo "crypto ikev2 profile IKEP"
        echo " match identity remote fqdn $SWAN_ID"
        echo " identity local fqdn $US_ID"
        if [ "$AUTH" = psk ]; then
            echo " authentication remote pre-share"
            echo " authentication local pre-share"
            echo " keyring local KR"
        else
            echo " authentication remote $AUTH-sig"
            echo " authentication local $AUTH-sig"
            echo " pki trustpoint TP"
        fi
        [ -n "${IOS_DPD:-}" ] && echo " dpd $IOS_DPD"
        echo "crypto ipsec transform-set TS $IOS_TSET"
        echo " mode tunnel"
        echo "crypto ipsec profile IPSP"
        echo " set transform-set TS"
        echo " set ikev2-profile IKEP"
        echo "interface vu"
        case $US_OUTER in
            *:*) echo " ipv6 address $US_OUTER/${OUTER_PLEN:-64}" ;;
            *) echo " ip address $US_OUTER 255.255.255.0" ;;
        esac
        echo "interface Loopback0"
        echo " ip address $US_INNER 255.255.255.255"
        echo "interface Tunnel0"
        echo " ip unnumbered Loopback0"
        echo " tunnel source vu"
        echo " tunnel destination ${SWAN_SEEN:-$SWAN_OUTER}"
        echo " tunnel mode ipsec ipv4"
        echo " tunnel protection ipsec profile IPSP"
        echo "ip route ${SWAN_NET%/24} 255.255.255.0 Tunnel0"
        echo "end"
    } >"$f"
}

us_start() {
    if [ "$US_KIND" = charon ]; then
        CHARON_IKE_LOG=4 CHARON_CHD_LOG=4 charon_conf "$W/us"
        swanctl_conf "$W/us" $US_ID $SWAN_ID $US_OUTER $SWAN_OUTER $US_NET $SWAN_NET "$PSK_US" "$W/pki/ca.crt" "$W/pki"
        start_charon $NS_US "$W/us"
        US_PID=$CHARON_PID_us
        return
    fi
    vpnd_conf "$W/us/vpnd.conf"
    vpnd_spawn vti0
}

# vpnd_spawn TUN: vpnd in $NS_US on $W/us/vpnd.conf with tunnel device TUN
# (its socket, key files and logs under $W); waits for its control socket.
vpnd_spawn() {
    spawn $NS_US "$W/us/vpnd.stdout" "$VPND" -c "$W/us/vpnd.conf" -s "$W/us/vpnd.sock" -k "$W/keys" \
        -l debug -L "$W/us/vpnd.log" -t "$1" -p "$W/us/vpnd.pid" -n
    US_PID=$SPAWNED
    wait_for 10 test -S "$W/us/vpnd.sock" ||
        fail "vpnd did not start: $(tail -5 "$W/us/vpnd.stdout" "$W/us/vpnd.log" 2>/dev/null)"
}

vpnctl() { "$VPNCTL" -s "$W/us/vpnd.sock" "$@"; }

# vpnd_gdoi_start NS NAME [ARG...]: vpnd for GET VPN in namespace NS on
# $W/NAME.cfg (control socket $W/NAME.ctl, key files in $W/keys-NAME/wireshark,
# debug log $W/NAME.log, its output in $W/NAME.out; ARGs added, e.g. a key
# server's -r KEY -P PCAP); waits for the control socket. Pid in SPAWNED.
# Used by host-gdoi.sh and getvpn-emulation.sh (their own log and fail).
vpnd_gdoi_start() {
    local ns=$1 name=$2; shift 2
    spawn "$ns" "$W/$name.out" "$VPND" -n -c "$W/$name.cfg" -s "$W/$name.ctl" -k "$W/keys-$name/wireshark" \
        -l debug -L "$W/$name.log" "$@"
    wait_for 10 test -S "$W/$name.ctl" ||
        fail "vpnd $name did not start: $(tail -3 "$W/$name.log" "$W/$name.out" 2>/dev/null)"
}

us_initiate() {
    if [ "$US_KIND" = charon ]; then
        swanctl_at "$W/us" --initiate --ike t --child c --timeout 10 >>"$W/us/ctl.log" 2>&1
    else
        vpnctl initiate Tunnel0 >>"$W/us/ctl.log" 2>&1
    fi
}

# us_view OUT: our view, normalised by judge.py.
us_view() {
    if [ "$US_KIND" = charon ]; then
        swan_list "$W/us" "$1.raw"
        $PY "$HERE/judge.py" view-swan "$1.raw" "$1"
    else
        vpnctl show crypto ikev2 sa detail >"$1.ikev2" 2>&1
        vpnctl show crypto ipsec sa >"$1.ipsec" 2>&1
        $PY "$HERE/judge.py" view-vpnd "$1.ikev2" "$1.ipsec" "$1"
    fi
}

us_clear() {
    if [ "$US_KIND" = charon ]; then
        swanctl_at "$W/us" --terminate --ike t --timeout 10 >>"$W/us/ctl.log" 2>&1
    else
        vpnctl clear crypto ikev2 sa >>"$W/us/ctl.log" 2>&1
    fi
}

us_rekey() { # child|ike
    if [ "$US_KIND" = charon ]; then
        if [ "$1" = child ]; then swanctl_at "$W/us" --rekey --child c >>"$W/us/ctl.log" 2>&1
        else swanctl_at "$W/us" --rekey --ike t >>"$W/us/ctl.log" 2>&1; fi
    else
        vpnctl rekey "$1" Tunnel0 >>"$W/us/ctl.log" 2>&1
    fi
}

# us_keys: our Wireshark key files into $W/ws/wireshark.
us_keys() {
    if [ "$US_KIND" = charon ]; then
        # SAs that never settled (a failed authentication) were never listed:
        # take their SPIs from the IKE_SA_INIT responses.
        [ -s "$W/ike-spis" ] || tshark -r "$W/wan.pcap" -Y 'isakmp.exchangetype == 34 && isakmp.flags & 0x20' \
            -T fields -E separator=' ' -e isakmp.ispi -e isakmp.rspi 2>/dev/null >"$W/ike-spis"
        $PY "$HERE/charon-keys.py" "$W/us/charon.log" $US_OUTER "$W/ike-spis" "$W/ws/wireshark" \
            "$WS_IKE_ENCR" "$WS_IKE_INTEG" "$WS_ESP_ENCR" "$WS_ESP_AUTH" || fail "charon-keys.py failed"
    else
        for f in ikev2_decryption_table esp_sa; do
            [ -f "$W/keys/$f" ] || fail "vpnd wrote no $W/keys/$f"
            cp "$W/keys/$f" "$W/ws/wireshark/$f"
        done
    fi
}
