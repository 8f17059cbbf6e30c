#!/bin/bash
# IKEv1 Main Mode against strongSwan (issue 7): charon with `version = 1`
# in one namespace, vpnd with `crypto isakmp policy` / `crypto isakmp key`
# in the other; our side as initiator (vpnctl initiate isakmp) or as
# responder (swanctl --initiate).
#   ikev1-mm.sh init|resp OUTDIR VPND VPNCTL
# Verdicts: strongSwan lists an ESTABLISHED IKEv1 SA with the suite of our
# policy and both identities; vpnd shows it QM_IDLE; strongSwan's Quick Mode
# is answered with NO_PROPOSAL_CHOSEN (we serve no phase 2: GDOI does) and
# its IKE SA stays up; tshark decrypts Main Mode messages 5 and 6 with our
# ikev1_decryption_table (identities visible) and finds nothing malformed;
# `clear crypto isakmp` deletes the SA on both sides.
set -u
ROLE=${1:?init or resp}; INTEROP_OUT=${2:-}; VPND=${3:-}; VPNCTL=${4:-}
US_KIND=vpnd
source "$(dirname "$0")/lib.sh"
[ "$ROLE" = init ] || [ "$ROLE" = resp ] || fail "role must be init or resp, not $ROLE"
PSK="ikev1-interop-psk-0123456789"

interop_require
interop_setup "interop-ikev1-mm-$ROLE"
log "work folder $W"
start_capture

charon_conf "$W/swan"
cat >"$W/swan/swanctl.conf" <<C
connections {
  v1 {
    version = 1
    local_addrs = $SWAN_OUTER
    remote_addrs = $US_OUTER
    proposals = aes256-sha256-modp2048
    reauth_time = 0
    local { auth = psk
      id = $SWAN_OUTER }
    remote { auth = psk
      id = $US_OUTER }
    children { c { mode = tunnel
        local_ts = $SWAN_NET
        remote_ts = $US_NET
        esp_proposals = aes128gcm16 } }
  }
}
secrets { ike-1 { id-1 = $SWAN_OUTER
    id-2 = $US_OUTER
    secret = "$PSK" } }
C
start_charon $NS_SWAN "$W/swan"

# Our side: two ISAKMP policies, the preferred one strongSwan does not offer,
# so the choice of the second is visible.
cat >"$W/us/vpnd.conf" <<C
hostname vpnd-ikev1
crypto isakmp policy 10
 encryption aes 128
 hash sha
 authentication pre-share
 group 19
crypto isakmp policy 20
 encryption aes 256
 hash sha256
 authentication pre-share
 group 14
 lifetime 28800
crypto isakmp key $PSK address $SWAN_OUTER
C
spawn $NS_US "$W/us/vpnd.stdout" "$VPND" -c "$W/us/vpnd.conf" -s "$W/us/vpnd.sock" -k "$W/ws/wireshark" \
    -l debug -L "$W/us/vpnd.log" -p "$W/us/vpnd.pid" -n
wait_for 10 test -S "$W/us/vpnd.sock" || fail "vpnd did not start: $(tail -5 "$W/us/vpnd.stdout" "$W/us/vpnd.log" 2>/dev/null)"

if [ "$ROLE" = init ]; then
    vpnctl initiate isakmp $SWAN_OUTER >"$W/initiate.log" 2>&1 || fail "vpnctl initiate isakmp: $(cat "$W/initiate.log")"
else
    # Initiating the CHILD_SA makes charon run Quick Mode after Main Mode;
    # that fails (we answer NO_PROPOSAL_CHOSEN), the IKE SA must not.
    swanctl_at "$W/swan" --initiate --child c --timeout 8 >"$W/initiate.log" 2>&1
    log "swanctl --initiate: rc $? (the CHILD_SA is expected to fail)"
fi
qm_idle() { vpnctl show crypto isakmp sa | grep -q "QM_IDLE"; }
swan_up() { swanctl_at "$W/swan" --list-sas --ike v1 2>/dev/null | grep -q "ESTABLISHED, IKEv1"; }
wait_for 10 qm_idle || fail "vpnd never reached QM_IDLE: $(vpnctl show crypto isakmp sa; tail -20 "$W/us/vpnd.log")"
wait_for 10 swan_up || fail "strongSwan lists no established IKEv1 SA: $(swanctl_at "$W/swan" --list-sas; tail -20 "$W/swan/charon.log")"
vpnctl show crypto isakmp sa >"$W/isakmp-sa.txt"
swanctl_at "$W/swan" --list-sas >"$W/swan-sas.txt"
log "phase 1 up on both sides"
cat "$W/isakmp-sa.txt" "$W/swan-sas.txt"

# strongSwan's view: IKEv1, our second policy's suite, both identities.
grep -q "AES_CBC-256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048" "$W/swan-sas.txt" ||
    fail "strongSwan negotiated another suite than policy 20's"
grep -q "remote '$US_OUTER'" "$W/swan-sas.txt" || fail "strongSwan does not show our identity $US_OUTER"
# Ours: dst is the responder.
if [ "$ROLE" = init ]; then dst=$SWAN_OUTER src=$US_OUTER; else dst=$US_OUTER src=$SWAN_OUTER; fi
grep -Eq "^$dst +$src +QM_IDLE +[0-9]+ ACTIVE" "$W/isakmp-sa.txt" || fail "show crypto isakmp sa: no '$dst $src QM_IDLE' row"

if [ "$ROLE" = init ]; then
    # Let charon try a Quick Mode over the SA we set up.
    swanctl_at "$W/swan" --initiate --child c --timeout 8 >"$W/qm.log" 2>&1
    log "swanctl --initiate --child: rc $? (expected to fail)"
fi
wait_for 10 grep -q "Quick Mode from $SWAN_OUTER refused" "$W/us/vpnd.log" ||
    fail "vpnd never answered strongSwan's Quick Mode"
wait_for 10 grep -Eq "NO_PROPOSAL_CHOSEN" "$W/swan/charon.log" ||
    fail "strongSwan did not receive NO_PROPOSAL_CHOSEN: $(grep -i 'quick\|notify' "$W/swan/charon.log" | tail -5)"
swan_up || fail "strongSwan's IKEv1 SA did not survive the refused Quick Mode"
qm_idle || fail "our phase-1 SA did not survive the refused Quick Mode"

# Delete from our side: strongSwan must drop its SA.
vpnctl clear crypto isakmp >"$W/clear.log" 2>&1 || fail "clear crypto isakmp: $(cat "$W/clear.log")"
swan_gone() { ! swan_up; }
wait_for 10 swan_gone || fail "strongSwan kept its IKEv1 SA after our delete"
vpnctl show crypto isakmp sa | grep -q "DELETED" || fail "vpnd does not list the SA as deleted"
log "deleted on both sides"
stop_capture

# The capture: Main Mode decrypts with our key file, the identities show.
[ -s "$W/ws/wireshark/ikev1_decryption_table" ] || fail "vpnd wrote no ikev1_decryption_table"
XDG_CONFIG_HOME=$W/ws tshark -r "$W/wan.pcap" -V -Y isakmp >"$W/tshark.txt" 2>&1 || fail "tshark failed: $(tail -3 "$W/tshark.txt")"
grep -qi "malformed" "$W/tshark.txt" && fail "tshark finds a malformed packet (see $W/tshark.txt)"
n_mm=$(XDG_CONFIG_HOME=$W/ws tshark -r "$W/wan.pcap" -Y "isakmp.exchangetype == 2" 2>/dev/null | wc -l)
[ "$n_mm" -ge 6 ] || fail "capture holds $n_mm Main Mode messages, want 6"
n_id=$(XDG_CONFIG_HOME=$W/ws tshark -r "$W/wan.pcap" -Y "isakmp.exchangetype == 2 && isakmp.id.type" \
    -T fields -e isakmp.id.type 2>/dev/null | grep -c .)
[ "$n_id" -ge 2 ] || fail "Main Mode messages 5 and 6 did not decrypt (ID payloads seen: $n_id)"
# Our refusal of the Quick Mode decrypts too.
n_np=$(XDG_CONFIG_HOME=$W/ws tshark -r "$W/wan.pcap" -Y "ip.src == $US_OUTER && isakmp.notify.msgtype == 14" 2>/dev/null | wc -l)
[ "$n_np" -ge 1 ] || fail "our NO_PROPOSAL_CHOSEN notify does not decrypt in the capture"
log "capture: $n_mm Main Mode messages, $n_id decrypted ID payloads, $n_np decrypted NO_PROPOSAL_CHOSEN, nothing malformed"
log "PASS"
