#!/bin/bash
# FlexVPN remote access against strongSwan: charon as the client (EAP, a
# virtual IP asked for with the configuration payload), vpnd as the hub (a
# Virtual-Template, `authentication remote eap query-identity`, the local
# `username` database or FreeRADIUS, an `ip local pool`, a split-tunnel ACL).
#   ra-case.sh CASE OUTDIR VPND VPNCTL
# CASE: mschapv2 (EAP-MSCHAPv2), md5 (EAP-MD5), wrongpw (EAP-MSCHAPv2 with a
# wrong password: AUTHENTICATION_FAILED, no address taken from the pool);
# radius, radius-wrongpw: the same through Debian's FreeRADIUS (EAP
# passthrough: vpnd relays EAP in RADIUS Access-Requests, RFC 3579);
# radius-failover: the first RADIUS server of the group never answers,
# vpnd retransmits, then moves to the second.
# radius-authz: FreeRADIUS's users entry carries authorization attributes
# (Framed-IP-Address, Framed-Route, Cisco-AVPair ipsec:route-set and
# ipsec:dns-servers); with `aaa authorization user eap cached` they replace
# the authorization policy's pool address, split subnets and DNS.
# cert-hub: the usual IOS remote-access setup: the hub authenticates itself
# with an RSA certificate (`authentication local rsa-sig`, a trustpoint),
# the client with EAP-MSCHAPv2; strongSwan checks the hub's certificate
# against the test CA (RFC 7296 2.16).
# radius-tls: EAP-TLS through FreeRADIUS (EAP passthrough as for the other
# methods; the hub with its RSA certificate): strongSwan proves itself with
# its client certificate inside EAP-TLS (RFC 5216), FreeRADIUS (TLS 1.2,
# the test CA) decides and sends the MSK in MS-MPPE keys.
# hubblock: a site-to-site spoke (a second charon, PSK, its own subnet, in
# rap<pid>) beside the EAP user on the same Virtual-Template and profile.
# ipv6: IPv6 inner traffic only: strongSwan asks for `vips = ::`, vpnd
# gives a /128 from its `ipv6 local pool` (INTERNAL_IP6_ADDRESS, RFC 7296
# 3.15.1) and its Loopback6 network (`route set interface`, an
# INTERNAL_IP6_SUBNET); UDP and ICMPv6 both ways, ESP carrying IPv6.
# ipv6-nopool: `vips = ::` against a hub whose policy has no `ipv6 pool`:
# no address to give, and no IPv6 selector either (3.15.4): the client's
# CHILD_SA is refused (TS_UNACCEPTABLE), vpnd routes nothing, no pool
# address is taken.
# dualstack: `vips = 0.0.0.0,::`: one address of each pool, one CHILD_SA
# with a selector of each family, traffic of both families both ways.
# FreeRADIUS runs in a third namespace (rar<pid>, veth vr/vrad) with a
# configuration generated here from Debian's: one client (vpnd), one user,
# EAP with MSCHAPv2 as the default method.
# Namespaces are named ra[usrp]<pid> so that other interop runs (i[us]<pid>,
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
RADIUS_SECRET=radius-shared-s3cret
RADIUS_PASSWORD='Rad1us-only!'   # FreeRADIUS's password for $USER, not the local one
RAD_US=198.18.1.1
RAD_LIVE=198.18.1.2
RAD_DEAD=198.18.1.3              # an address without a server: requests go unanswered
RADIUS=no
AUTHZ=no
CERT_HUB=no
EAP_TLS=no
AUTHZ_IP=10.99.0.17              # radius-authz: inside the pool, not its first address
AUTHZ_DNS=10.0.1.99
AUTHZ_ROUTE1=172.16.9.0          # Framed-Route
AUTHZ_ROUTE2=172.16.10.0         # Cisco-AVPair ipsec:route-set
V4=yes                           # the client asks for an IPv4 address / an IPv6 one
V6=no
POOL6=yes                        # the hub's policy has an `ipv6 pool` (ipv6-nopool: not)
POOL6_FIRST=2001:db8:99::1       # the first /128 of 2001:db8:99::/124 (::0 is never given)
US_INNER6=2001:db8:1::1          # the hub's IPv6 LAN address (Loopback6, on lo)
US_NET6=2001:db8:1::/64
case $CASE in
    mschapv2) METHOD=mschapv2; SW_AUTH=eap-mschapv2; CLIENT_PW=$PASSWORD ;;
    md5) METHOD=md5; SW_AUTH=eap-md5; CLIENT_PW=$PASSWORD ;;
    wrongpw) METHOD=mschapv2; SW_AUTH=eap-mschapv2; CLIENT_PW='not-the-password' ;;
    radius | radius-failover) METHOD=mschapv2; SW_AUTH=eap-mschapv2; CLIENT_PW=$RADIUS_PASSWORD; RADIUS=yes ;;
    radius-authz) METHOD=mschapv2; SW_AUTH=eap-mschapv2; CLIENT_PW=$RADIUS_PASSWORD; RADIUS=yes; AUTHZ=yes ;;
    radius-wrongpw) METHOD=mschapv2; SW_AUTH=eap-mschapv2; CLIENT_PW=$PASSWORD; RADIUS=yes ;;
    hubblock) METHOD=mschapv2; SW_AUTH=eap-mschapv2; CLIENT_PW=$PASSWORD ;;
    cert-hub) METHOD=mschapv2; SW_AUTH=eap-mschapv2; CLIENT_PW=$PASSWORD; CERT_HUB=yes ;;
    ipv6) METHOD=mschapv2; SW_AUTH=eap-mschapv2; CLIENT_PW=$PASSWORD; V4=no; V6=yes ;;
    dualstack) METHOD=mschapv2; SW_AUTH=eap-mschapv2; CLIENT_PW=$PASSWORD; V6=yes ;;
    ipv6-nopool) METHOD=mschapv2; SW_AUTH=eap-mschapv2; CLIENT_PW=$PASSWORD; V4=no; V6=yes; POOL6=no ;;
    radius-tls) METHOD=tls; HUB_METHOD=; SW_AUTH=eap-tls; CLIENT_PW=unused; RADIUS=yes; CERT_HUB=yes; EAP_TLS=yes ;;
    *) fail "unknown case $CASE" ;;
esac
VIP_WANT=$POOL_FIRST
HUB_METHOD=${HUB_METHOD-$METHOD}   # the profile's method word (none for EAP-TLS: RADIUS runs it)
EAP_USER=$USER
[ $EAP_TLS = yes ] && EAP_USER=$SWAN_ID   # EAP-TLS: the identity of the client certificate
[ $AUTHZ = yes ] && VIP_WANT=$AUTHZ_IP

# ns_beside_hub NS HUB_DEV DEV HUB_ADDR ADDR: namespace NS (removed at exit),
# a veth from the hub's namespace (HUB_DEV, HUB_ADDR/24) to NS (DEV,
# ADDR/24), everything up.
ns_beside_hub() {
    ip netns add $1 || fail "cannot create a network namespace"
    NETNS+=("$1")
    ip link add $2 netns $NS_US type veth peer name $3 netns $1 || fail "cannot create a veth pair"
    ip -n $NS_US addr add $4/24 dev $2
    ip -n $1 addr add $5/24 dev $3
    ip -n $1 link set lo up
    ip -n $1 link set $3 up
    ip -n $NS_US link set $2 up
}

# radius_tls: FreeRADIUS's EAP-TLS (case radius-tls): the hub's test
# certificate as the server's (strongSwan checks it against the hub's IKE
# identity), the test CA for the clients, TLS 1.2 (RFC 5216's MSK).
radius_tls() {
    [ $EAP_TLS = yes ] || return 0
    cat <<RADEOF
	tls-config tls-common {
		private_key_file = $W/radius/raddb/test-tls/server.key
		certificate_file = $W/radius/raddb/test-tls/server.crt
		ca_file = $W/radius/raddb/test-tls/ca.crt
		cipher_list = "DEFAULT"
		ecdh_curve = "prime256v1"
		tls_min_version = "1.2"
		tls_max_version = "1.2"
	}
	tls {
		tls = tls-common
	}
RADEOF
}

# ---- FreeRADIUS in its own namespace ------------------------------------------------
# radius_start: namespace, veth to the hub, a raddb generated from Debian's
# (/etc/freeradius/3.0): our site (auth on $RAD_LIVE:1812), our client, our
# user, the eap module with MSCHAPv2 (and MD5) only, so no TLS certificates
# are needed; runs freeradius -X (debug log in $W/radius/radiusd.log).
radius_start() {
    local r=$W/radius/raddb
    [ -d /etc/freeradius/3.0 ] || fail "FreeRADIUS is missing (freeradius; ./scripts/deps)"
    NS_RAD=rar$$
    ns_beside_hub $NS_RAD vr vrad $RAD_US $RAD_LIVE
    ip -n $NS_RAD addr add $RAD_DEAD/24 dev vrad
    mkdir -p "$W/radius/log" "$W/radius/run"
    cp -a /etc/freeradius/3.0 "$r" || fail "cannot copy /etc/freeradius/3.0"
    rm -f "$r"/sites-enabled/* "$r/mods-enabled/eap"
    if [ $EAP_TLS = yes ]; then
        # the server reads its key beside its configuration (the test PKI's
        # key is 0600 elsewhere: FreeRADIUS refused it there)
        mkdir -p "$r/test-tls"
        cp "$W/pki/$US_ID.key" "$r/test-tls/server.key"
        cp "$W/pki/$US_ID.crt" "$r/test-tls/server.crt"
        cp "$W/pki/ca.crt" "$r/test-tls/ca.crt"
        chmod 0644 "$r/test-tls/"*
    fi
    # our paths; run as root (the work folder is not freerad's)
    sed -i -e "s|^raddbdir = .*|raddbdir = $r|" -e "s|^logdir = .*|logdir = $W/radius/log|" \
        -e "s|^run_dir = .*|run_dir = $W/radius/run|" -e 's|^\(\s*\)\(user\|group\) = freerad|\1#\2 = freerad|' \
        "$r/radiusd.conf"
    cat >"$r/mods-enabled/eap" <<RADEOF
eap {
	default_eap_type = $([ $EAP_TLS = yes ] && echo tls || echo mschapv2)
	timer_expire = 60
	ignore_unknown_eap_types = no
	cisco_accounting_username_bug = no
	max_sessions = \${max_requests}
	md5 {
	}
	mschapv2 {
	}
$(radius_tls)
}
RADEOF
    cat >"$r/sites-enabled/hub" <<RADEOF
server hub {
	listen {
		type = auth
		ipaddr = $RAD_LIVE
		port = 1812
	}
	authorize {
		eap {
			ok = return
		}
		files
	}
	authenticate {
		Auth-Type MS-CHAP {
			mschap
		}
		eap
	}
	post-auth {
		Post-Auth-Type REJECT {
			attr_filter.access_reject
			eap
			remove_reply_message_if_eap
		}
	}
}
RADEOF
    cat >"$r/clients.conf" <<RADEOF
client hub {
	ipaddr = $RAD_US
	secret = $RADIUS_SECRET
	require_message_authenticator = yes
}
RADEOF
    printf '%s Cleartext-Password := "%s"\n' "$USER" "$RADIUS_PASSWORD" >"$r/mods-config/files/authorize"
    if [ $AUTHZ = yes ]; then
        cat >>"$r/mods-config/files/authorize" <<RADEOF
	Framed-IP-Address = $AUTHZ_IP,
	Framed-Route = "$AUTHZ_ROUTE1/24 0.0.0.0 1",
	Cisco-AVPair += "ipsec:route-set=prefix $AUTHZ_ROUTE2/24",
	Cisco-AVPair += "ipsec:dns-servers=$AUTHZ_DNS"
RADEOF
    fi
    spawn $NS_RAD "$W/radius/radiusd.log" freeradius -X -d "$r"
    RAD_PID=$SPAWNED
    wait_for 10 grep -q "Ready to process requests" "$W/radius/radiusd.log" ||
        fail "FreeRADIUS did not start: $(tail -5 "$W/radius/radiusd.log")"
}

# ---- a site-to-site spoke on the same Virtual-Template (case hubblock) ----------------
SPOKE_US=198.18.2.1
SPOKE_OUTER=198.18.2.2
SPOKE_INNER=10.0.3.1
SPOKE_NET=10.0.3.0/24
SPOKE_ID=spoke.test

# spoke_start: namespace rap<pid> (veth vp/vsp to the hub), charon with PSK
# and the spoke's subnet, no EAP, no virtual IP; brought up at once.
spoke_start() {
    local d=$W/spoke
    NS_SPOKE=rap$$
    ns_beside_hub $NS_SPOKE vp vsp $SPOKE_US $SPOKE_OUTER
    ip -n $NS_SPOKE addr add $SPOKE_INNER/32 dev lo
    ip -n $NS_SPOKE route add ${US_OUTER}/32 via $SPOKE_US
    mkdir -p "$d"
    charon_conf "$d"
    cat >"$d/swanctl.conf" <<SPEOF
connections {
 site {
  version = 2
  local_addrs = $SPOKE_OUTER
  remote_addrs = $US_OUTER
  proposals = aes128gcm16-prfsha256-ecp256
  mobike = no
  keyingtries = 1
  local {
   auth = psk
   id = $SPOKE_ID
  }
  remote {
   auth = psk
   id = $US_ID
  }
  children {
   c {
    mode = tunnel
    local_ts = $SPOKE_NET
    remote_ts = $US_NET
    esp_proposals = aes128gcm16
   }
  }
 }
}
secrets {
 ike-spoke {
  id-1 = $SPOKE_ID
  id-2 = $US_ID
  secret = "$HUB_PSK"
 }
}
SPEOF
    start_charon $NS_SPOKE "$d"
    swanctl_at "$d" --initiate --ike site --child c --timeout 15 >"$d/initiate.log" 2>&1 ||
        fail "the site-to-site spoke could not connect: $(tail -5 "$d/initiate.log")"
}

# hub_spoke_keyring: the spoke's pre-shared key on the hub (case hubblock).
hub_spoke_keyring() {
    [ "$CASE" = hubblock ] || return 0
    cat <<SPEOF
crypto ikev2 keyring KR
 peer SPOKE
  address $SPOKE_OUTER
  pre-shared-key $HUB_PSK
SPEOF
}

# hub_radius: the RADIUS part of the hub's configuration.
hub_radius() {
    [ $RADIUS = yes ] || return 0
    cat <<RADEOF
radius server RAD-DEAD
 address ipv4 $RAD_DEAD auth-port 1812 acct-port 1813
 key $RADIUS_SECRET
 timeout 1
 retransmit 1
radius server RAD-LIVE
 address ipv4 $RAD_LIVE auth-port 1812 acct-port 1813
 key 0 $RADIUS_SECRET
 timeout 2
 retransmit 2
aaa group server radius RADIUS-GROUP
RADEOF
    [ "$CASE" = radius-failover ] && echo " server name RAD-DEAD"
    echo " server name RAD-LIVE"
    echo "aaa authentication eap RA-EAP group RADIUS-GROUP"
}

# hub_trustpoint: the hub's certificate and key (case cert-hub).
hub_trustpoint() {
    [ $CERT_HUB = yes ] || return 0
    cat <<TPEOF
crypto pki trustpoint TP
 ca-certificate file $W/pki/ca.crt
 certificate file $W/pki/$US_ID.crt
 private-key file $W/pki/$US_ID.key
TPEOF
}

# hub_local_auth: the profile's own authentication, a signature or the PSK.
hub_local_auth() {
    if [ $CERT_HUB = yes ]; then
        printf ' authentication local rsa-sig\n pki trustpoint TP\n'
    else
        echo " authentication local pre-share key $HUB_PSK"
    fi
}

# client_remote_auth: how strongSwan checks the hub.
client_remote_auth() {
    if [ $CERT_HUB = yes ]; then
        printf '   auth = pubkey\n   id = %s\n   cacerts = %s\n' "$US_ID" "$W/pki/ca.crt"
    else
        printf '   auth = psk\n   id = %s\n' "$US_ID"
    fi
}

# hub_v6_pool, hub_v6_policy: the IPv6 pool, the hub's IPv6 network
# (Loopback6) and the policy's IPv6 lines (cases ipv6, dualstack).
hub_v6_pool() {
    [ $V6 = yes ] || return 0
    [ $POOL6 = yes ] && echo "ipv6 local pool RA-POOL6 ${POOL6_FIRST%1}/124 128"
    cat <<V6EOF
interface Loopback6
 ipv6 address $US_INNER6/64
V6EOF
}
hub_v6_policy() {
    [ $V6 = yes ] || return 0
    [ $POOL6 = yes ] && echo " ipv6 pool RA-POOL6"
    printf ' ipv6 dns %s\n route set interface Loopback6\n' "${US_INNER6%1}53"
}

# ---- the hub: vpnd ------------------------------------------------------------------
hub_conf() {
    cat >"$1" <<EOF
hostname HUB
aaa new-model
aaa authorization network RA-AUTHOR local
$(hub_radius)
$(hub_spoke_keyring)
$(hub_trustpoint)
username $USER password $PASSWORD
username bob password hunter2
ip local pool RA-POOL $POOL_FIRST $POOL_LAST
$(hub_v6_pool)
ip access-list standard SPLIT
 permit ${US_NET%/24} 0.0.0.255
crypto ikev2 authorization policy RA-POL
 pool RA-POOL
 dns 10.0.1.53
 route set access-list SPLIT
$(hub_v6_policy)
crypto ikev2 proposal PROP
 encryption aes-gcm-128
 prf sha256
 group 19
crypto ikev2 policy POL
 proposal PROP
crypto ikev2 profile RA
 match identity remote any
 identity local fqdn $US_ID
 authentication remote eap query-identity $HUB_METHOD
$(hub_local_auth)
 aaa authorization group eap list RA-AUTHOR RA-POL
$([ $RADIUS = yes ] && echo " aaa authentication eap RA-EAP")
$([ $AUTHZ = yes ] && echo " aaa authorization user eap cached")
$([ "$CASE" = hubblock ] && printf ' authentication remote pre-share\n keyring local KR\n')
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
    CLIENT_VIPS=0.0.0.0 CLIENT_REMOTE_TS=$US_NET
    [ $V6 = yes ] && [ $V4 = no ] && CLIENT_VIPS=:: CLIENT_REMOTE_TS=$US_NET6
    [ $V6 = yes ] && [ $V4 = yes ] && CLIENT_VIPS=0.0.0.0,:: CLIENT_REMOTE_TS=$US_NET,$US_NET6
    local extra=""
    # radius-authz: the resolve plugin asks for DNS and writes what it gets
    # to a file of ours (never /etc/resolv.conf: no resolvconf here)
    [ $AUTHZ = yes ] && extra="resolve "
    [ $EAP_TLS = yes ] && extra="${extra}eap-tls "
    CHARON_PLUGINS="md5 gcrypt eap-identity eap-mschapv2 eap-md5 $extra" CHARON_VIP=yes CHARON_TRIES=4 charon_conf "$d"
    if [ $EAP_TLS = yes ]; then
        # the client's certificate and key, the CA for the EAP server's certificate
        mkdir -p "$d/private" "$d/x509" "$d/x509ca"
        cp "$W/pki/$SWAN_ID.key" "$d/private/"
        cp "$W/pki/$SWAN_ID.crt" "$d/x509/"
        cp "$W/pki/ca.crt" "$d/x509ca/"
    fi
    if [ $AUTHZ = yes ]; then
        [ -e /sbin/resolvconf ] || [ -e /usr/sbin/resolvconf ] && fail "resolvconf is installed: the resolve plugin would change the host's DNS"
        sed -i "s|^  plugins {|  plugins {\n    resolve { file = $d/resolv.conf }|" "$d/strongswan.conf"
        : >"$d/resolv.conf"
    fi
    cat >"$d/swanctl.conf" <<EOF
connections {
 ra {
  version = 2
  local_addrs = $SWAN_OUTER
  remote_addrs = $US_OUTER
  proposals = aes128gcm16-prfsha256-ecp256
  vips = $CLIENT_VIPS
  mobike = no
  keyingtries = 1
  local {
   auth = $SW_AUTH
   id = $USER@$SWAN_ID
   eap_id = $EAP_USER
$([ $EAP_TLS = yes ] && echo "   certs = $W/pki/$SWAN_ID.crt")
  }
  remote {
$(client_remote_auth)
  }
  children {
   c {
    mode = tunnel
    remote_ts = $CLIENT_REMOTE_TS
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

# traffic_both NS ADDR TAG N NAME [HUB]: 100 UDP datagrams (and 5 pings) each way
# between ADDR in namespace NS (TAG, its files and flow) and the hub's
# HUB (default $US_INNER; IPv6: ICMPv6 echoes) (flow usN), through sinks
# on $SINK_PORT; files $W/traffic-*.
# Returns 1 when either direction lost anything (both are checked).
traffic_both() {
    local ns=$1 addr=$2 tag=$3 n=$4 name=$5 hub=${6:-$US_INNER} t="$W/traffic" sfx rc=0
    local sink_us sink_far send_us send_far
    sfx=${n#1} # the first pair's hub files have no number
    spawn $NS_US "$t-us-sink$sfx.log" $PY "$HERE/traffic.py" sink --bind $hub --port $SINK_PORT \
        --out "$t-us-sink$sfx.json"
    sink_us=$SPAWNED
    spawn $ns "$t-$tag-sink.log" $PY "$HERE/traffic.py" sink --bind $addr --port $SINK_PORT --out "$t-$tag-sink.json"
    sink_far=$SPAWNED
    wait_for 20 test -f "$t-us-sink$sfx.json.ready" -a -f "$t-$tag-sink.json.ready" || fail "traffic sinks did not start"
    spawn $ns "$t-$tag-send.log" $PY "$HERE/traffic.py" send --src $addr --dst $hub \
        --port $SINK_PORT --count 100 --rate 200 --icmp 5 --flow ${tag}1 --out "$t-$tag-sent.json"
    send_far=$SPAWNED
    spawn $NS_US "$t-us-send$sfx.log" $PY "$HERE/traffic.py" send --src $hub --dst $addr \
        --port $SINK_PORT --count 100 --rate 200 --icmp 5 --flow us$n --out "$t-us-sent$sfx.json"
    send_us=$SPAWNED
    wait $send_us $send_far
    sleep 0.5
    kill -TERM $sink_us $sink_far
    wait $sink_us $sink_far
    $PY "$HERE/traffic.py" check --sent "$t-$tag-sent.json" --received "$t-us-sink$sfx.json" --name "$name -> hub" || rc=1
    $PY "$HERE/traffic.py" check --sent "$t-us-sent$sfx.json" --received "$t-$tag-sink.json" --name "hub -> $name" || rc=1
    return $rc
}

# ---- run ------------------------------------------------------------------------------
interop_require
[ -e /usr/lib/ipsec/plugins/libstrongswan-eap-mschapv2.so ] ||
    fail "strongSwan's eap-mschapv2 plugin is missing (libcharon-extauth-plugins; ./scripts/deps)"
[ -e /usr/lib/ipsec/plugins/libstrongswan-eap-md5.so ] ||
    fail "strongSwan's eap-md5 plugin is missing (libcharon-extra-plugins; ./scripts/deps)"
interop_setup "interop-ra-$CASE" ra
log "work folder $W"
[ $V6 = yes ] && ip -n $NS_US addr add $US_INNER6/128 dev lo nodad
[ $CERT_HUB = yes ] && make_pki "$W/pki" rsa
if [ $RADIUS = yes ]; then
    radius_start
    log "FreeRADIUS (pid $RAD_PID) listening on $RAD_LIVE"
fi
SESSIONS=1

start_capture
hub_conf "$W/us/vpnd.conf"
vpnd_spawn vt
client_conf "$W/swan"
start_charon $NS_SWAN "$W/swan"
log "vpnd (pid $US_PID) and charon running"
if [ "$CASE" = hubblock ]; then
    # the spoke first: the same Virtual-Template and profile, PSK, its subnet
    spoke_start
    SESSIONS=2
    log "site-to-site spoke up on the hub's Virtual-Template"
fi

vpnctl show ip local pool >"$W/pool-before.txt" 2>&1
swan --initiate --ike ra --child c --timeout 15 >"$W/swan/initiate.log" 2>&1
INIT_RC=$?
vpnctl show crypto ikev2 sa detail >"$W/ikev2-sa-detail.txt" 2>&1
vpnctl show crypto session >"$W/session.txt" 2>&1
vpnctl show crypto session username $EAP_USER detail >"$W/session-user.txt" 2>&1
vpnctl show ip local pool >"$W/pool-up.txt" 2>&1
vpnctl show crypto ipsec sa >"$W/ipsec-sa.txt" 2>&1
vpnctl status >"$W/status.txt" 2>&1
vpnctl show aaa servers >"$W/aaa-servers.txt" 2>&1

# pool_in_use FILE: the In-use column of RA-POOL in a `show ip local pool`.
pool_in_use() { awk '$1 == "RA-POOL" {print $(NF)}' "$1"; }
grep -q RA-POOL "$W/pool-before.txt" || fail "show ip local pool has no RA-POOL: $(cat "$W/pool-before.txt")"

if [ "$CASE" = wrongpw ] || [ "$CASE" = radius-wrongpw ]; then
    [ $INIT_RC -ne 0 ] || fail "strongSwan's initiate succeeded with a wrong password"
    grep -q "received AUTHENTICATION_FAILED notify" "$W/swan/charon.log" ||
        fail "strongSwan did not receive AUTHENTICATION_FAILED (see $W/swan/charon.log)"
    grep -qi "failed" "$W/us/vpnd.log" || fail "vpnd's log shows no failed authentication"
    if [ $RADIUS = yes ]; then
        grep -q "RADIUS RAD-LIVE: Access-Reject" "$W/us/vpnd.log" || fail "vpnd's log shows no Access-Reject"
        grep -q "Sent Access-Reject" "$W/radius/radiusd.log" || fail "FreeRADIUS sent no Access-Reject"
    fi
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

if [ $POOL6 = no ]; then
    # 3.15.4: nothing to give, no IPv6 selector kept: the CHILD_SA is
    # refused (TS_UNACCEPTABLE), nothing is routed
    [ $INIT_RC -ne 0 ] || fail "strongSwan's initiate succeeded without an IPv6 address to give"
    grep -q "installing new virtual IP" "$W/swan/charon.log" && fail "strongSwan installed a virtual IP"
    grep -q "received TS_UNACCEPTABLE notify" "$W/swan/charon.log" ||
        fail "strongSwan's log shows no TS_UNACCEPTABLE (see $W/swan/charon.log)"
    grep -q "traffic selectors unacceptable" "$W/us/vpnd.log" || fail "vpnd's log shows no refused CHILD_SA"
    [ "$(pool_in_use "$W/pool-up.txt")" = 0 ] || fail "an IPv4 address was taken: $(cat "$W/pool-up.txt")"
    in_us ip -6 route show | grep -v "^fe80::/64 " | grep -q " dev vt" &&
        fail "vpnd routed something into its TUN: $(in_us ip -6 route show)"
    # (the IKE SA itself stands, as RFC 7296 1.2 lets it: no CHILD_SA, no address)
    grep -q "Pushed IP address" "$W/ikev2-sa-detail.txt" && fail "the hub shows an address pushed"
    stop_capture
    us_keys
    n_cp6=$(ts_count "isakmp.cfg.attr.type == 8")
    n_a6=$(ts_count "isakmp.cfg.attr.internal_ip6_address")
    log "capture: CP INTERNAL_IP6_ADDRESS attributes $n_cp6, with an address $n_a6"
    [ "$n_cp6" -ge 1 ] && [ "$n_a6" = 0 ] || fail "the CP request is not visible, or an IPv6 address was given"
    log "PASS: IPv6-only client refused by a hub without an IPv6 pool, nothing routed, nothing given"
    exit 0
fi
[ $INIT_RC -eq 0 ] || fail "strongSwan could not connect: $(tail -5 "$W/swan/initiate.log")"
if [ $V6 = yes ]; then
    # ---- ipv6, dualstack: the IPv6 virtual IP (and the IPv4 one) -------------------------
    VIP6=$(grep -o "installing new virtual IP [0-9a-f:]*:[0-9a-f:]*" "$W/swan/charon.log" | awk '{print $NF}' | tail -1)
    [ -n "$VIP6" ] || fail "strongSwan installed no IPv6 virtual IP (see $W/swan/charon.log)"
    [ "$VIP6" = "$POOL6_FIRST" ] || fail "IPv6 virtual IP $VIP6 is not $POOL6_FIRST"
    log "strongSwan got IPv6 virtual IP $VIP6"
    VIP=
    if [ $V4 = yes ]; then
        VIP=$(grep -o "installing new virtual IP [0-9.]*$" "$W/swan/charon.log" | awk '{print $NF}' | tail -1)
        [ "$VIP" = "$POOL_FIRST" ] || fail "IPv4 virtual IP '$VIP' is not $POOL_FIRST"
        log "strongSwan got IPv4 virtual IP $VIP"
    else
        grep -q "installing new virtual IP [0-9.]*$" "$W/swan/charon.log" && fail "the IPv6-only client got an IPv4 address"
    fi
    grep -q "EAP method EAP_MSCHAPV2 succeeded" "$W/swan/charon.log" || fail "strongSwan's log shows no EAP_MSCHAPV2 success"
    grep -q "Pushed IP address: $POOL6_FIRST/128" "$W/ikev2-sa-detail.txt" ||
        fail "show crypto ikev2 sa detail lacks the IPv6 address: $(cat "$W/ikev2-sa-detail.txt")"
    grep -q "Assigned IPv6 address: $POOL6_FIRST/128" "$W/session.txt" ||
        fail "show crypto session lacks the IPv6 address: $(cat "$W/session.txt")"
    grep -q "$POOL6_FIRST/128" "$W/ikev2-sa-detail.txt" || fail "the narrowed IPv6 selector is not shown"
    awk '$1 == "RA-POOL6" {exit $NF != 1}' "$W/pool-up.txt" && grep -q RA-POOL6 "$W/pool-up.txt" ||
        fail "RA-POOL6 does not show one address in use: $(cat "$W/pool-up.txt")"
    [ "$(pool_in_use "$W/pool-up.txt")" = "$([ $V4 = yes ] && echo 1 || echo 0)" ] ||
        fail "RA-POOL's use is wrong for this client: $(cat "$W/pool-up.txt")"
    in_us ip -6 route show | grep -q "^$POOL6_FIRST dev vt" || fail "vpnd installed no route to $POOL6_FIRST: $(in_us ip -6 route show)"
    # the client's side: kernel-libipsec's TUN and its table 220 route
    ip netns exec $NS_SWAN ip -6 route show table 220 >"$W/swan/routes6.txt" 2>&1
    ip netns exec $NS_SWAN ip -6 addr show >"$W/swan/addr6.txt" 2>&1
    grep -q "^$US_NET6 .*src $POOL6_FIRST" "$W/swan/routes6.txt" ||
        fail "strongSwan routed no $US_NET6 into its TUN: $(cat "$W/swan/routes6.txt")"
    traffic_both $NS_SWAN $VIP6 swan 1 client6 $US_INNER6 || fail "IPv6 traffic was lost"
    [ $V4 = yes ] && { traffic_both $NS_SWAN $VIP swan4 2 client4 || fail "IPv4 traffic was lost"; }
    swan --terminate --ike ra --timeout 10 >>"$W/swan/ctl.log" 2>&1 || log "swanctl --terminate returned non-zero"
    wait_for 5 sh -c "'$VPNCTL' -s '$W/us/vpnd.sock' show ip local pool | awk '\$1 ~ /^RA-POOL6?\$/ && \$NF != 0 {bad=1} END {exit bad}'" ||
        fail "the addresses did not return to the pools: $(vpnctl show ip local pool)"
    in_us ip -6 route show | grep -q "^$POOL6_FIRST " && fail "the route to $POOL6_FIRST stayed after the client left"
    stop_capture
    us_keys
    n_ike_enc=$(ts_count "isakmp.exchangetype >= 35")
    n_ike_dec=$(ts_count "isakmp.exchangetype >= 35 && isakmp.enc.decrypted")
    n_esp=$(ts_count "esp")
    n_esp6=$(ts_count "esp && ipv6.addr == $VIP6")
    n_esp4=0
    [ $V4 = yes ] && n_esp4=$(ts_count "esp && ip.addr == $VIP && !ipv6")
    n_bad=$(ts_count "_ws.malformed")
    n_eap=$(ts_count "eap")
    n_cp6=$(ts_count "isakmp.cfg.attr.type == 8")
    n_a6=$(ts_count "isakmp.cfg.attr.internal_ip6_address == $POOL6_FIRST")
    n_sub6=$(ts_count "isakmp.cfg.attr.internal_ip6_subnet_ip == ${US_NET6%/64}")
    n_in6=$(ts_count "esp && ipv6.src == $VIP6 && ipv6.dst == $US_INNER6 && udp.dstport == $SINK_PORT")
    n_back6=$(ts_count "esp && ipv6.src == $US_INNER6 && ipv6.dst == $VIP6 && udp.dstport == $SINK_PORT")
    n_icmp6=$(ts_count "esp && icmpv6.type == 128")   # 5 each way (traffic_both)
    n_icmp6r=$(ts_count "esp && icmpv6.type == 129")
    log "capture: IKE encrypted $n_ike_enc decrypted $n_ike_dec, ESP $n_esp (IPv6 inner $n_esp6, IPv4 inner $n_esp4), malformed $n_bad,"
    log "  EAP $n_eap, CP IPv6 address attributes $n_cp6 ($POOL6_FIRST: $n_a6), IPv6 subnet $n_sub6,"
    log "  inner UDP over IPv6 $n_in6 / $n_back6, ICMPv6 echo $n_icmp6 / replies $n_icmp6r"
    [ "$n_ike_enc" -ge 6 ] && [ "$n_ike_dec" = "$n_ike_enc" ] || fail "not every encrypted IKE message decrypts"
    [ "$n_esp" -ge 200 ] && [ "$((n_esp6 + n_esp4))" = "$n_esp" ] || fail "not every ESP packet decrypts to the client's addresses"
    [ "$n_bad" = 0 ] || fail "$n_bad malformed packets"
    [ "$n_eap" -ge 4 ] || fail "fewer than 4 decrypted EAP messages"
    [ "$n_cp6" -ge 2 ] && [ "$n_a6" -ge 1 ] || fail "the CP request and the reply with $POOL6_FIRST are not both visible"
    [ "$n_sub6" -ge 1 ] || fail "the CP reply does not carry $US_NET6"
    [ "$n_in6" -ge 100 ] && [ "$n_back6" -ge 100 ] || fail "the decrypted ESP does not show the IPv6 inner traffic"
    [ "$n_icmp6" -ge 10 ] && [ "$n_icmp6r" -ge 10 ] || fail "the decrypted ESP does not show ICMPv6 echoes both ways"
    if [ $V4 = yes ]; then
        n_in4=$(ts_count "esp && ip.src == $VIP && ip.dst == $US_INNER && udp.dstport == $SINK_PORT && !ipv6")
        log "  inner UDP over IPv4 $n_in4"
        [ "$n_in4" -ge 100 ] || fail "the decrypted ESP does not show the IPv4 inner traffic"
        [ "$(ts_count "isakmp.cfg.attr.internal_ip4_address == $POOL_FIRST")" -ge 1 ] || fail "no INTERNAL_IP4_ADDRESS $POOL_FIRST"
    fi
    log "PASS: $SW_AUTH client got $VIP6${VIP:+ and $VIP}, traffic both ways, addresses returned"
    exit 0
fi

VIP=$(grep -o "installing new virtual IP [0-9.]*" "$W/swan/charon.log" | awk '{print $NF}' | tail -1)
[ -n "$VIP" ] || fail "strongSwan installed no virtual IP (see $W/swan/charon.log)"
log "strongSwan got virtual IP $VIP"
[ "$VIP" = "$VIP_WANT" ] || fail "virtual IP $VIP is not $VIP_WANT"
if [ $AUTHZ = yes ]; then
    # the address, DNS and routes came from FreeRADIUS, not from RA-POL
    grep -q "Framed-IP-Address $AUTHZ_IP" "$W/us/vpnd.log" || fail "vpnd's log shows no Framed-IP-Address $AUTHZ_IP"
    grep -q "RADIUS authorizes, 1 DNS, 2 routes" "$W/us/vpnd.log" || fail "vpnd did not take FreeRADIUS's DNS and routes"
    grep -q "Cisco-AVPair" "$W/radius/radiusd.log" || fail "FreeRADIUS sent no Cisco-AVPair"
    grep -q "installing DNS server $AUTHZ_DNS" "$W/swan/charon.log" && grep -q "$AUTHZ_DNS" "$W/swan/resolv.conf" ||
        fail "strongSwan did not install the DNS server $AUTHZ_DNS from RADIUS"
    log "FreeRADIUS's attributes applied: $AUTHZ_IP, DNS $AUTHZ_DNS, routes $AUTHZ_ROUTE1/24 $AUTHZ_ROUTE2/24"
fi
if [ $RADIUS = yes ]; then
    # FreeRADIUS decided (its password, not the local one), vpnd relayed
    grep -q "Sent Access-Accept" "$W/radius/radiusd.log" || fail "FreeRADIUS sent no Access-Accept"
    grep -q "MS-MPPE-Recv-Key" "$W/radius/radiusd.log" || fail "FreeRADIUS sent no MPPE keys"
    grep -q "RADIUS RAD-LIVE: Access-Accept" "$W/us/vpnd.log" || fail "vpnd's log shows no Access-Accept"
    grep -q "accept 1, reject 0" "$W/aaa-servers.txt" || fail "show aaa servers: $(cat "$W/aaa-servers.txt")"
    if [ "$CASE" = radius-failover ]; then
        grep -q "RADIUS server RAD-DEAD silent, now using RAD-LIVE" "$W/us/vpnd.log" ||
            fail "vpnd did not move from RAD-DEAD to RAD-LIVE"
        grep -q "RAD-DEAD" "$W/us/vpnd.conf" || fail "the failover case has no dead server"
        grep -q "failover 1, retransmission 1" "$W/aaa-servers.txt" &&
            grep -q "host $RAD_LIVE, auth-port 1812, in use" "$W/aaa-servers.txt" ||
            fail "show aaa servers does not show the failover: $(cat "$W/aaa-servers.txt")"
    fi
    if [ $EAP_TLS = yes ]; then
        # FreeRADIUS ran EAP-TLS with strongSwan's certificate, vpnd relayed every fragment
        grep -q "EAP_TLS" "$W/swan/charon.log" || fail "strongSwan's log shows no EAP-TLS"
        grep -q "CN=$SWAN_ID" "$W/radius/radiusd.log" || fail "FreeRADIUS's log does not show the client certificate"
    fi
    log "FreeRADIUS accepted $EAP_USER through vpnd"
fi
if [ $CERT_HUB = yes ]; then
    # strongSwan verified the hub's signature with its certificate, vpnd signed
    grep -q "authentication of '$US_ID' with RSA.* successful" "$W/swan/charon.log" ||
        fail "strongSwan did not verify the hub's RSA signature (see $W/swan/charon.log)"
    grep -q "authentication of '$US_ID' with pre-shared key" "$W/swan/charon.log" &&
        fail "strongSwan saw a pre-shared key from the hub"
    grep -q "CN=$US_ID" "$W/swan/charon.log" || fail "strongSwan's log does not show the hub's certificate"
    grep -q "Auth sign: RSA, Auth verify: EAP" "$W/ikev2-sa-detail.txt" ||
        fail "show crypto ikev2 sa detail does not show RSA signing and EAP: $(cat "$W/ikev2-sa-detail.txt")"
    log "the hub authenticated with its RSA certificate, the client with EAP"
fi
grep -q "EAP method EAP_$(echo "$METHOD" | tr a-z A-Z) succeeded" "$W/swan/charon.log" ||
    fail "strongSwan's log does not show EAP_$(echo "$METHOD" | tr a-z A-Z) succeeded"
grep -q "$VIP_WANT" "$W/ikev2-sa-detail.txt" || fail "show crypto ikev2 sa detail lacks the assigned address: $(cat "$W/ikev2-sa-detail.txt")"
grep -q "$EAP_USER" "$W/ikev2-sa-detail.txt" || fail "show crypto ikev2 sa detail lacks the EAP identity"
grep -q "$SWAN_OUTER" "$W/session-user.txt" || fail "show crypto session username $EAP_USER shows no session: $(cat "$W/session-user.txt")"
grep -q "^Virtual-Template1 .* access sessions=$SESSIONS " "$W/status.txt" || fail "vpnctl status does not show $SESSIONS sessions: $(cat "$W/status.txt")"
[ "$(pool_in_use "$W/pool-up.txt")" = 1 ] || fail "the pool does not show one address in use: $(cat "$W/pool-up.txt")"
in_us ip route show | grep -q "^$VIP_WANT dev vt" || fail "vpnd installed no route to $VIP_WANT: $(in_us ip route show)"

# Traffic both ways between the virtual IP and the hub's LAN address.
traffic_both $NS_SWAN $VIP swan 1 client || fail "traffic was lost"

if [ "$CASE" = hubblock ]; then
    # the spoke's subnet is routed into the same TUN, traffic both ways
    in_us ip route show | grep -q "^$SPOKE_NET dev vt" || fail "vpnd installed no route to $SPOKE_NET: $(in_us ip route show)"
    traffic_both $NS_SPOKE $SPOKE_INNER spoke 2 spoke || fail "spoke traffic was lost"
    grep -q "$SPOKE_OUTER" "$W/session.txt" || fail "show crypto session does not list the spoke: $(cat "$W/session.txt")"
    log "spoke and remote user on one Virtual-Template: both carried traffic, the spoke took no pool address"
fi

# The client goes: the address returns to the pool, the route goes.
swan --terminate --ike ra --timeout 10 >>"$W/swan/ctl.log" 2>&1 || log "swanctl --terminate returned non-zero"
wait_for 5 sh -c "'$VPNCTL' -s '$W/us/vpnd.sock' show ip local pool | awk '\$1 == \"RA-POOL\" {exit \$NF != 0}'" ||
    fail "the address did not return to the pool: $(vpnctl show ip local pool)"
if [ "$CASE" = hubblock ]; then
    vpnctl status >"$W/status-after.txt" 2>&1
    grep -q "^Virtual-Template1 .* access sessions=1 " "$W/status-after.txt" ||
        fail "the spoke's session did not stay when the user left: $(cat "$W/status-after.txt")"
fi
in_us ip route show | grep -q "^$VIP_WANT " && fail "the route to $VIP_WANT stayed after the client left"

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
n_ip4=$(ts_count "isakmp.cfg.attr.internal_ip4_address == $VIP_WANT")
n_split=$(ts_count "isakmp.cfg.attr.internal_ip4_subnet_ip == ${US_NET%/24}")
n_inner=$(ts_count "esp && ip.src == $VIP && ip.dst == $US_INNER && udp.dstport == $SINK_PORT")
n_back=$(ts_count "esp && ip.src == $US_INNER && ip.dst == $VIP && udp.dstport == $SINK_PORT")
log "capture: IKE encrypted $n_ike_enc decrypted $n_ike_dec, ESP $n_esp decrypted $n_esp_dec, malformed $n_bad,"
log "  EAP $n_eap, CP address attributes $n_cp ($VIP_WANT: $n_ip4), split subnet $n_split, inner UDP $n_inner / $n_back"
[ "$n_ike_enc" -ge 6 ] && [ "$n_ike_dec" = "$n_ike_enc" ] || fail "not every encrypted IKE message decrypts"
[ "$n_esp" -ge 200 ] && [ "$n_esp_dec" = "$n_esp" ] || fail "not every ESP packet decrypts"
[ "$n_bad" = 0 ] || fail "$n_bad malformed packets"
[ "$n_eap" -ge 4 ] || fail "fewer than 4 decrypted EAP messages"
[ "$n_cp" -ge 2 ] && [ "$n_ip4" -ge 1 ] || fail "the CP request and the reply with $VIP_WANT are not both visible"
if [ $AUTHZ = yes ]; then
    # FreeRADIUS's routes replace the policy's ACL; its DNS server is there
    n_r1=$(ts_count "isakmp.cfg.attr.internal_ip4_subnet_ip == $AUTHZ_ROUTE1")
    n_r2=$(ts_count "isakmp.cfg.attr.internal_ip4_subnet_ip == $AUTHZ_ROUTE2")
    n_dns=$(ts_count "isakmp.cfg.attr.internal_ip4_dns == $AUTHZ_DNS")
    log "  RADIUS routes $n_r1 / $n_r2, RADIUS DNS $n_dns"
    [ "$n_r1" -ge 1 ] && [ "$n_r2" -ge 1 ] || fail "the CP reply lacks FreeRADIUS's routes"
    [ "$n_split" = 0 ] || fail "the CP reply still carries the policy's split subnet"
    [ "$n_dns" -ge 1 ] || fail "the CP reply lacks FreeRADIUS's DNS server"
else
    [ "$n_split" -ge 1 ] || fail "the CP reply does not carry the split-tunnel subnet"
fi
[ "$n_inner" -ge 100 ] && [ "$n_back" -ge 100 ] || fail "the decrypted ESP does not show the inner traffic"
log "PASS: $SW_AUTH client got $VIP, traffic both ways, address returned"
