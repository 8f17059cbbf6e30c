#!/bin/bash
# interop-gre: vpnd's GRE/IPsec tunnel (`interface Tunnel0` in the default
# `tunnel mode gre ip`, `tunnel key 4242`, the transform set in `mode
# transport`, as IOS writes it) against strongSwan, our side as initiator
# or responder.
#   interop-gre.sh init|resp OUTDIR VPND VPNCTL
#
# What strongSwan can do here decides the shape of this case:
# - charon's only usable kernel interface on this kernel is kernel-libipsec
#   (no ESP in XFRM), and libipsec installs tunnel-mode SAs only (strongSwan
#   5.9.8 src/libipsec/ipsec_sa.c, ipsec_sa_create: "IPsec SA: unsupported
#   mode" for anything else). So charon negotiates a TUNNEL-mode CHILD_SA
#   whose selectors are IOS's IPSEC FLOW of a GRE tunnel, host to host,
#   protocol 47 (198.18.0.2/32[47] <-> 198.18.0.1/32[47]). vpnd asks for
#   transport (USE_TRANSPORT_MODE) as initiator and is answered without it;
#   as responder it is asked for tunnel mode: both times it takes tunnel
#   mode, as IOS does (RFC 7296 1.3.1), and sends GRE with its delivery
#   header inside ESP. A transport-mode CHILD_SA against strongSwan is NOT
#   covered here (host-vpnd-gre covers transport mode vpnd to vpnd).
# - the selectors hold the IKE peer itself: kernel-libipsec refuses such a
#   route unless allow_peer_ts = yes, and then IKE (and libipsec's own ESP
#   in UDP) must be kept out of table 220 by a firewall mark (kernel-netlink
#   fwmark = !0x42, socket-default fwmark = 0x42), as strongSwan documents.
# - this kernel has no GRE module, so the strongSwan side's GRE interface is
#   gre-endpoint.py: a TUN device whose packets it sends as GRE in a raw
#   IPv4 socket of protocol 47 (which kernel-libipsec then protects), and
#   GRE from the peer back into the TUN. GRE in user space on that side too,
#   but not vpnd's code: a separate implementation in the harness.
# Checked: CHILD_SA up on both sides with proto 47 host selectors in tunnel
# mode; ICMP both ways between 10.0.1.1 and 10.0.2.1 through the two GRE
# interfaces; no GRE in the clear on the wire; every ESP packet (in UDP:
# kernel-libipsec always encapsulates) decrypts with vpnd's key files to
# IP proto 47 + GRE key 4242 + ICMP, nothing malformed; the counters of
# both sides agree.
set -u
source "$(dirname "$0")/ios-psk.sh"
ROLE=${1:?init or resp}; INTEROP_OUT=${2:-}; VPND=${3:-}; VPNCTL=${4:-}
US_KIND=vpnd
source "$(dirname "$0")/lib.sh"
[ "$ROLE" = init ] || [ "$ROLE" = resp ] || fail "role must be init or resp, not $ROLE"
AUTH=psk
PSK="interop-gre-psk-0123456789"
GRE_KEY=4242
IKE_PROPOSAL=aes256-sha256-ecp256; ESP_PROPOSAL=aes256-sha256

interop_require
interop_setup "gre-$ROLE" gre
for n in $NS_US $NS_SWAN; do ip netns exec $n sysctl -qw net.ipv4.conf.all.rp_filter=0; done

# ---- strongSwan: tunnel mode, proto 47 host to host ----------------------------
charon_conf "$W/swan"
sed -i 's/kernel-libipsec { allow_peer_ts = no }/kernel-libipsec { allow_peer_ts = yes }\
    kernel-netlink { fwmark = !0x42 }\
    socket-default { fwmark = 0x42 }/' "$W/swan/strongswan.conf"
grep -q "fwmark = 0x42" "$W/swan/strongswan.conf" || fail "could not set the fwmark options in strongswan.conf"
cat >"$W/swan/swanctl.conf" <<EOF
connections {
 t {
  version = 2
  local_addrs = $SWAN_OUTER
  remote_addrs = $US_OUTER
  proposals = $IKE_PROPOSAL
  mobike = no
  keyingtries = 1
  local { auth = psk
   id = $SWAN_ID }
  remote { auth = psk
   id = $US_ID }
  children {
   c {
    mode = tunnel
    local_ts = $SWAN_OUTER/32[47]
    remote_ts = $US_OUTER/32[47]
    esp_proposals = $ESP_PROPOSAL
   }
   tr {
    mode = transport
    local_ts = $SWAN_OUTER/32[47]
    remote_ts = $US_OUTER/32[47]
    esp_proposals = $ESP_PROPOSAL
   }
  }
 }
}
secrets {
 ike-1 { id-1 = $SWAN_ID
  id-2 = $US_ID
  secret = "$PSK" }
}
EOF
start_charon $NS_SWAN "$W/swan"

# ---- vpnd: GRE/IPsec as IOS writes it -------------------------------------------
cat >"$W/us/vpnd.conf" <<EOF
hostname VPND
$(ios_ikev2_psk SWAN "$SWAN_OUTER" "$PSK")
crypto ikev2 profile IKEP
 match identity remote fqdn $SWAN_ID
 identity local fqdn $US_ID
 authentication remote pre-share
 authentication local pre-share
 keyring local KR
crypto ipsec transform-set TS esp-aes 256 esp-sha256-hmac
 mode transport
crypto ipsec profile IPSP
 set transform-set TS
 set ikev2-profile IKEP
interface vu
 ip address $US_OUTER 255.255.255.0
interface Tunnel0
 ip address 172.16.0.1 255.255.255.0
 tunnel source vu
 tunnel destination $SWAN_OUTER
 tunnel key $GRE_KEY
 tunnel protection ipsec profile IPSP
ip route ${SWAN_NET%/24} 255.255.255.0 Tunnel0
end
EOF
spawn $NS_US "$W/dumpcap.log" dumpcap -q -P -i vu -f 'udp port 500 or udp port 4500 or esp or proto 47' -w "$W/wan.pcap"
CAP_PID=$SPAWNED
wait_for 5 grep -q Capturing "$W/dumpcap.log" || fail "dumpcap did not start: $(cat "$W/dumpcap.log")"
vpnd_spawn gre0

# ---- the strongSwan side's GRE interface (no GRE in this kernel) ------------------
ip -n $NS_SWAN link add gretest type gre local $SWAN_OUTER remote $US_OUTER 2>/dev/null &&
    fail "this kernel has GRE after all: use a kernel GRE device on the strongSwan side instead of gre-endpoint.py"
spawn $NS_SWAN "$W/gre-endpoint.log" $PY "$HERE/gre-endpoint.py" --tun gre1 --local $SWAN_OUTER \
    --remote $US_OUTER --key $GRE_KEY --stats "$W/gre-endpoint.json"
GRE_PID=$SPAWNED
wait_for 10 test -f "$W/gre-endpoint.json.ready" || fail "gre-endpoint.py did not start: $(cat "$W/gre-endpoint.log")"
ip -n $NS_SWAN addr add 172.16.0.2/24 dev gre1
ip -n $NS_SWAN link set gre1 mtu 1400 up
ip -n $NS_SWAN route add $US_NET dev gre1

# ---- bring-up ---------------------------------------------------------------------
log "bring-up, vpnd as $ROLE"
if [ "$ROLE" = init ]; then
    vpnctl initiate Tunnel0 >>"$W/us/ctl.log" 2>&1 || fail "vpnctl initiate refused: $(cat "$W/us/ctl.log")"
else
    swan --initiate --ike t --child c --timeout 15 >"$W/swan/initiate.log" 2>&1 ||
        fail "charon could not bring the CHILD_SA up: $(tail -5 "$W/swan/initiate.log")"
fi
up() { vpnctl status | grep -q "^Tunnel0 .*state=up" && swan --list-sas 2>/dev/null | grep -q "INSTALLED"; }
wait_for 20 up || fail "tunnel not up: vpnd: $(vpnctl status) strongSwan: $(swan --list-sas 2>&1 | head -20)"
log "CHILD_SA installed on both sides"
grep -q "unsupported mode\|unable to install" "$W/swan/charon.log" && fail "charon could not install the SA: $(grep -m3 'unsupported mode\|unable to install' "$W/swan/charon.log")"

swan --list-sas >"$W/swan-sas.txt" 2>&1
grep -q "c: #.*INSTALLED, TUNNEL-in-UDP" "$W/swan-sas.txt" || fail "strongSwan's CHILD_SA is not TUNNEL-in-UDP: $(cat "$W/swan-sas.txt")"
grep -q "local  $SWAN_OUTER/32\[gre\]\|local  $SWAN_OUTER/32\[47\]" "$W/swan-sas.txt" ||
    fail "strongSwan's local selector is not $SWAN_OUTER/32 proto 47: $(cat "$W/swan-sas.txt")"
grep -q "remote $US_OUTER/32\[gre\]\|remote $US_OUTER/32\[47\]" "$W/swan-sas.txt" ||
    fail "strongSwan's remote selector is not $US_OUTER/32 proto 47: $(cat "$W/swan-sas.txt")"
vpnctl show crypto ipsec sa >"$W/us-ipsec-sa.txt" 2>&1
grep -q "local  ident (addr/mask/prot/port): ($US_OUTER/255.255.255.255/47/0)" "$W/us-ipsec-sa.txt" &&
    grep -q "remote ident (addr/mask/prot/port): ($SWAN_OUTER/255.255.255.255/47/0)" "$W/us-ipsec-sa.txt" ||
    fail "vpnd's selectors are not proto 47 host to host: $(cat "$W/us-ipsec-sa.txt")"
grep -q "in use settings ={Tunnel UDP-Encaps, }" "$W/us-ipsec-sa.txt" ||
    fail "vpnd did not take tunnel mode with ESP in UDP: $(cat "$W/us-ipsec-sa.txt")"

# ---- traffic through the two GRE interfaces ------------------------------------------
in_us $PY "$HERE/icmp-echo.py" $US_INNER $SWAN_INNER 5 || fail "ICMP vpnd side -> strongSwan side through GRE/IPsec"
in_swan $PY "$HERE/icmp-echo.py" $SWAN_INNER $US_INNER 5 || fail "ICMP strongSwan side -> vpnd side through GRE/IPsec"
log "ICMP both ways through GRE/IPsec"
ST=$(vpnctl status | grep '^Tunnel0')
ENC=$(sed -n 's/.* pkts_encrypted=\([0-9]*\).*/\1/p' <<<"$ST") DEC=$(sed -n 's/.* pkts_decrypted=\([0-9]*\).*/\1/p' <<<"$ST")
[ "$ENC" = 10 ] && [ "$DEC" = 10 ] || fail "vpnd counters: encrypted $ENC decrypted $DEC, want 10 and 10"
swan --list-sas >"$W/swan-sas-after.txt" 2>&1
grep -q "in .*, *10 packets" "$W/swan-sas-after.txt" && grep -q "out .*, *10 packets" "$W/swan-sas-after.txt" ||
    fail "strongSwan's counters are not 10 in and 10 out: $(cat "$W/swan-sas-after.txt")"

kill -TERM $GRE_PID; wait $GRE_PID 2>/dev/null
[ -f "$W/gre-endpoint.json" ] || fail "gre-endpoint.py wrote no counts: $(cat "$W/gre-endpoint.log")"
read -r T2G G2T BAD <<<"$($PY -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["tun_to_gre"], d["gre_to_tun"], d["gre_bad"])' "$W/gre-endpoint.json")"
echo "gre-endpoint: $T2G sent as GRE, $G2T received from GRE, $BAD refused"
[ "$T2G" = 10 ] && [ "$G2T" = 10 ] && [ "$BAD" = 0 ] || fail "the strongSwan side's GRE counts are wrong: $(cat "$W/gre-endpoint.json")"

# ---- the capture, decrypted with vpnd's key files ---------------------------------------
stop_capture
us_keys
TS() { XDG_CONFIG_HOME="$W/ws" tshark -r "$W/wan.pcap" -o esp.enable_encryption_decode:TRUE "$@" 2>/dev/null; }
NESP=$(TS -Y 'esp' | wc -l)
[ "$NESP" = 20 ] || fail "$NESP ESP packets in the capture, want 20"
NCLEAR=$(TS -Y 'ip.proto == 47 and not esp' | wc -l)
[ "$NCLEAR" = 0 ] || fail "$NCLEAR GRE packets crossed the wire unprotected"
NG=$(TS -Y "esp and count(ip) == 3 and gre.key == $GRE_KEY and gre.proto == 0x0800 and icmp" | wc -l)
[ "$NG" = 20 ] || fail "$NG of 20 ESP packets decrypt to IP 47 + GRE key $GRE_KEY + ICMP with vpnd's keys"
NBAD=$(TS -Y '_ws.malformed' | wc -l)
[ "$NBAD" = 0 ] || fail "$NBAD malformed packets in the decrypted capture"
# RFC 7296 1.3.1: as initiator vpnd asks for transport mode (its transform
# set says so) and strongSwan answers without USE_TRANSPORT_MODE (tunnel
# mode); as responder vpnd is asked for tunnel mode and grants it as is.
NREQ=$(TS -Y 'isakmp.exchangetype == 35 and isakmp.flags & 0x08 and isakmp.notify.msgtype == 16391' | wc -l)
NRSP=$(TS -Y 'isakmp.exchangetype == 35 and isakmp.flags & 0x20 and isakmp.notify.msgtype == 16391' | wc -l)
[ "$(TS -Y 'isakmp.exchangetype == 35 and isakmp.id.type' | wc -l)" = 2 ] || fail "IKE_AUTH did not decrypt with vpnd's keys"
if [ "$ROLE" = init ]; then
    [ "$NREQ" = 1 ] && [ "$NRSP" = 0 ] || fail "USE_TRANSPORT_MODE: $NREQ in vpnd's IKE_AUTH request (want 1), $NRSP in the answer (want 0)"
else
    [ "$NREQ" = 0 ] && [ "$NRSP" = 0 ] || fail "USE_TRANSPORT_MODE in IKE_AUTH: request $NREQ, response $NRSP (want none)"
fi
log "PASS: strongSwan $ROLE-side GRE/IPsec (tunnel mode, proto 47 host selectors): 20 ESP packets decrypted to GRE+ICMP"

# ---- the fact this case is built on: libipsec has no transport mode ----------------
# charon asks vpnd for a transport-mode CHILD_SA (child `tr`); vpnd grants
# it (USE_TRANSPORT_MODE back, as IOS would), and charon then cannot install
# it. Should a later strongSwan install it, this fails: the case can then
# become the transport-mode interop the issue asked for.
if [ "$ROLE" = resp ]; then
    swan --initiate --ike t --child tr --timeout 10 >"$W/swan/initiate-tr.log" 2>&1 &&
        fail "strongSwan installed a transport-mode CHILD_SA: kernel-libipsec has transport mode now, test it: $(cat "$W/swan/initiate-tr.log")"
    grep -q "IPsec SA: unsupported mode" "$W/swan/charon.log" ||
        fail "strongSwan's transport-mode CHILD_SA failed for another reason: $(tail -5 "$W/swan/initiate-tr.log")"
    vpnctl show crypto ipsec sa >"$W/us-ipsec-sa-tr.txt" 2>&1
    log "charon: 'IPsec SA: unsupported mode' for the transport-mode CHILD_SA vpnd granted"
    vpnctl status | grep -q "^Tunnel0 .*state=up" || fail "the failed transport-mode CHILD_SA broke the tunnel: $(vpnctl status)"
fi
# The TUN's MTU follows the SA carrying the traffic: tunnel mode in UDP over
# a 1500-octet path, AES-CBC (16-octet IV and blocks), HMAC-SHA-256-128:
# 1500 - 20 (IP) - 8 (UDP) - 8 (ESP) - 16 (IV) - 16 (ICV) = 1432 octets of
# ciphertext, 1424 usable as whole blocks, less 2 (ESP trailer), 20 (the GRE
# delivery header) and 8 (GRE with key): 1394.
TMTU=$(ip -n $NS_US link show gre0 | sed -n 's/.* mtu \([0-9]*\).*/\1/p')
[ "$TMTU" = 1394 ] || fail "vpnd's TUN MTU is $TMTU, want 1394 for GRE in tunnel-mode ESP in UDP: $(grep MTU "$W/us/vpnd.log")"
