#!/bin/sh
# Runs every scenario in scenarios/ (each with its own scenario.ini) at its
# own short duration and checks the outputs: exit 0, summary.txt/json, the
# configurations copied, every voice/video flow received something, and
# where the run wrote ESP keys, every ESP packet of every pcap decrypts
# with them (tshark, and through scripts/wireshark), none malformed.
# Usage: scenario-all.sh VPN_SCENARIO_BINARY SOURCE_DIR WORK_DIR
set -eu
. "$(dirname "$0")/trace-checks.sh"
bin=$1 src=$2 work=$3
need_tshark
rm -rf "$work"
mkdir -p "$work"
n=0
for ini in "$src"/scenarios/*/scenario.ini; do
    d=$(dirname "$ini")
    name=$(basename "$d")
    out=$work/$name
    n=$((n + 1))
    echo "== $name"
    "$bin" "$d" --out="$out" >"$work/$name.log" 2>&1 || { cat "$work/$name.log" >&2; echo "$name failed" >&2; exit 1; }
    for f in summary.txt summary.json; do
        [ -s "$out/$f" ] || { echo "$name: no $f" >&2; exit 1; }
    done
    for cfg in "$d"/*.cfg; do
        [ -e "$cfg" ] || continue
        grep -q "$(basename "$cfg")" "$ini" || continue
        cmp -s "$cfg" "$out/$(basename "$cfg")" || { echo "$name: $(basename "$cfg") not copied" >&2; exit 1; }
    done
    # every RTP flow delivered packets
    python3 - "$out/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
for k, v in s.items():
    if k.startswith("flow_") and k.endswith("_received"):
        if v <= 0:
            sys.exit("%s: %s = %s" % (sys.argv[1], k, v))
        print("  %s = %s" % (k, v))
PY
    if [ -s "$out/wireshark/esp_sa" ]; then
        first=1
        for p in "$out"/*.pcap; do
            # one pass with the keys: every ESP frame, its decrypted next
            # header (empty when it did not decrypt), malformed/error marks
            # (ESP frames only: Wireshark cannot follow IKEv1's IV chain through
            # retransmitted GDOI messages, which then show as malformed ISAKMP)
            ts_keys "$out" -r "$p" -Y 'esp' -T fields \
                -e frame.number -e esp.protocol -e _ws.malformed -e _ws.expert.severity >"$work/f.txt"
            esp=$(awk -F'\t' '$2 != ""' "$work/f.txt" | count)
            # expert severity "error" is 0x00800000
            bad=$(awk -F'\t' '{ n = split($4, v, ","); e = 0; for (i = 1; i <= n; i++) if (v[i] + 0 >= 8388608) e = 1 }
                               $3 != "" || e' "$work/f.txt" | count)
            [ "$bad" -eq 0 ] || { echo "$name: $(basename "$p"): $bad frames malformed or in error" >&2; exit 1; }
            all=$(count <"$work/f.txt")
            [ "$all" -gt 0 ] || continue
            echo "  $(basename "$p"): $all ESP frames, $esp decrypted"
            [ "$esp" -eq "$all" ] || { echo "$name: $(basename "$p") does not decrypt in full" >&2; exit 1; }
            if [ $first -eq 1 ]; then
                # scripts/wireshark applies the same keys by itself
                viaws=$("$src/scripts/wireshark" "$out" "$(basename "$p")" --tshark -Y 'esp && esp.protocol' -T fields -e frame.number 2>/dev/null | count)
                [ "$viaws" -eq "$esp" ] || { echo "$name: scripts/wireshark decrypts $viaws of $esp" >&2; exit 1; }
                first=0
            fi
        done
    fi
done
[ $n -ge 2 ] || { echo "only $n scenarios found" >&2; exit 1; }

# scenarios/getvpn-multicast gives examples/getvpn-multicast's figures: 300
# packets to 239.1.1.1, all 300 at each of the three receiving sites, every
# member accepted KS1's multicast rekey (encrypted at BRANCH1, decrypted at
# each receiver). Its static multicast routes carry both: with the VRF's
# route for the stream to HQ only, and for the rekeys to HQ only, the other
# sites get neither.
fig() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$work/$1/summary.json" "$2"; }
mc=$work/getvpn-multicast
for k in flow_stream_sent flow_stream_hosthq_received flow_stream_host2_received flow_stream_host3_received \
    encrypted_branch1 decrypted_hq decrypted_branch2 decrypted_branch3; do
    [ "$(fig getvpn-multicast $k)" -eq 300 ] || { echo "getvpn-multicast: $k = $(fig getvpn-multicast $k), wanted 300" >&2; exit 1; }
done
for m in hq branch1 branch2 branch3; do
    [ "$(fig getvpn-multicast gdoi_rekeys_received_$m)" -eq 1 ] || { echo "getvpn-multicast: $m missed the multicast rekey" >&2; exit 1; }
done
"$bin" "$src/scenarios/getvpn-multicast" --out="$work/mc-hq" --set mroute.stream.out=hq-wan \
    --set mroute.rekeys.out=hq-wan >"$work/mc-hq.log" 2>&1 || { cat "$work/mc-hq.log" >&2; exit 1; }
[ "$(fig mc-hq flow_stream_hosthq_received)" -eq 300 ] && [ "$(fig mc-hq flow_stream_host2_received)" -eq 0 ] &&
    [ "$(fig mc-hq flow_stream_host3_received)" -eq 0 ] && [ "$(fig mc-hq gdoi_rekeys_received_hq)" -eq 1 ] &&
    [ "$(fig mc-hq gdoi_rekeys_received_branch2)" -eq 0 ] ||
    { echo "getvpn-multicast: the VRF's multicast routes to HQ only still reach the branches" >&2; exit 1; }
echo "getvpn-multicast: 300/300 at hostHQ, host2, host3; rekey at every member; routes to HQ only: host2 0, branch2 no rekey"

# scenarios/mpls-l3vpn gives examples/mpls-l3vpn's figures: 50 of 50 on
# each flow (B's to the same address as A's), the group at CE-A1 and CE-A3;
# CE-A4 listening but outside VRF A's multicast route gets nothing.
for k in flow_a1-a2_received flow_b1-b2_received flow_a3-a1_received flow_a2-group_ce-a1_received \
    flow_a2-group_ce-a3_received; do
    [ "$(fig mpls-l3vpn $k)" -eq 50 ] || { echo "mpls-l3vpn: $k = $(fig mpls-l3vpn $k), wanted 50" >&2; exit 1; }
done
"$bin" "$src/scenarios/mpls-l3vpn" --out="$work/l3-a4" --set "flow.a2-group.to=CE-A1 CE-A3 CE-A4" >"$work/l3-a4.log" 2>&1 ||
    { cat "$work/l3-a4.log" >&2; exit 1; }
[ "$(fig l3-a4 flow_a2-group_ce-a4_received)" -eq 0 ] && [ "$(fig l3-a4 flow_a2-group_ce-a1_received)" -eq 50 ] ||
    { echo "mpls-l3vpn: CE-A4 got the group without a route" >&2; exit 1; }
echo "mpls-l3vpn: 50/50 per flow and receiver; CE-A4 outside the VRF's route: 0"

# scenarios/ipsec-manual-l2l gives examples/ipsec-manual-l2l's figures: two
# SAs a gateway, 500 packets encrypted and 500 decrypted at each, no drop;
# in VTI mode with another transform the same (the ESP of both decrypts
# with the written keys: the loop above, and here the VTI run).
for g in gw1 gw2; do
    [ "$(fig ipsec-manual-l2l tunnel_sas_tunnel0_$g)" -eq 2 ] && [ "$(fig ipsec-manual-l2l tunnel_encrypted_tunnel0_$g)" -eq 500 ] &&
        [ "$(fig ipsec-manual-l2l tunnel_decrypted_tunnel0_$g)" -eq 500 ] && [ "$(fig ipsec-manual-l2l tunnel_dropped_tunnel0_$g)" -eq 0 ] ||
        { echo "ipsec-manual-l2l: $g's tunnel figures differ from the example's" >&2; exit 1; }
done
"$bin" "$src/scenarios/ipsec-manual-l2l" --out="$work/mk-vti" --set tunnel.tunnel0.mode=vti \
    --set "tunnel.tunnel0.transform=esp-aes 256 esp-sha256-hmac" >"$work/mk-vti.log" 2>&1 || { cat "$work/mk-vti.log" >&2; exit 1; }
vti=$(ts_keys "$work/mk-vti" -r "$(ls "$work"/mk-vti/wan-*.pcap)" -Y 'esp && udp.dstport == 16384' -T fields -e frame.number | count)
[ "$(fig mk-vti flow_a-b_received)" -eq 500 ] && [ "$vti" -eq 1000 ] ||
    { echo "ipsec-manual-l2l VTI: received $(fig mk-vti flow_a-b_received), $vti ESP frames decrypted to voice" >&2; exit 1; }
echo "ipsec-manual-l2l: 2 SAs, 500/500 each gateway; VTI with AES-CBC/SHA-256: 1000 ESP frames decrypt to voice"

# scenarios/flexvpn-remote-access gives examples/flexvpn-remote-access's
# figures (--users=2 --spokes=1): both users connect (EAP-MSCHAPv2), each
# with its own address of the hub's pool RA-POOL; their flows wait for it:
# each sends from the address's time (or its start) to the end, every
# 20 ms, all of it arriving, and on the hub's WAN every one of those packets
# is ESP that decrypts to voice from (or to) the pool address. The PSK
# spoke's site gets everything through the same template. With a pool of
# one address one user is refused (no address, nothing sent); with a wrong
# password, that user.
ra=$work/flexvpn-remote-access
for u in user1 user2; do
    [ "$(fig flexvpn-remote-access ra_connected_$u)" -eq 1 ] || { echo "remote access: $u did not connect" >&2; exit 1; }
done
a1=$(fig flexvpn-remote-access ra_address_user1) a2=$(fig flexvpn-remote-access ra_address_user2)
case "$a1 $a2" in "10.99.0.1 10.99.0.2" | "10.99.0.2 10.99.0.1") ;;
    *) echo "remote access: addresses $a1 $a2, wanted the pool's two" >&2; exit 1 ;; esac
python3 - "$ra/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
for u, flows in (("user1", ("u1-h", "h-u1")), ("user2", ("u2-h",))):
    at = s["ra_join_s_" + u] + s["ra_connect_ms_" + u] / 1000
    if not 0 < s["ra_connect_ms_" + u] < 1000 or not 0.5 <= s["ra_join_s_" + u] < 4.5:
        sys.exit("%s: joined %s s, connected in %s ms" % (u, s["ra_join_s_" + u], s["ra_connect_ms_" + u]))
    for f in flows:
        want = (10 - max(at, 1)) / 0.02  # from its address (or start) to the end, every 20 ms
        sent, got = s["flow_%s_sent" % f], s["flow_%s_received" % f]
        if abs(sent - want) > 2 or got != sent:
            sys.exit("%s: %s sent %s (wanted ~%.0f from %.3f s), received %s" % (u, f, sent, want, at, got))
        print("  %s: address at %.3f s, %s sent %s, received %s" % (u, at, f, sent, got))
PY
wan=$(ls "$ra"/hub-wan-*.pcap)
for f in "u1-h:ip.src == $a1" "h-u1:ip.dst == $a1" "u2-h:ip.src == $a2"; do
    esp=$(ts_keys "$ra" -r "$wan" -Y "esp && ${f#*:} && udp.dstport == 16384" -T fields -e frame.number | count)
    [ "$esp" -eq "$(fig flexvpn-remote-access "flow_${f%%:*}_sent")" ] ||
        { echo "remote access: ${f%%:*}: $esp ESP frames on the hub's WAN decrypt to it, sent $(fig flexvpn-remote-access "flow_${f%%:*}_sent")" >&2; exit 1; }
done
mkdir -p "$work/ra-pool1" "$work/ra-pw"
cp "$src"/scenarios/flexvpn-remote-access/* "$work/ra-pool1/"
cp "$src"/scenarios/flexvpn-remote-access/* "$work/ra-pw/"
sed -i 's/^ip local pool RA-POOL 10.99.0.1 10.99.0.2$/ip local pool RA-POOL 10.99.0.1 10.99.0.1/' "$work/ra-pool1/HUB.cfg"
sed -i 's/password pw-user2$/password wrong/' "$work/ra-pw/USER2.cfg"
grep -q 'RA-POOL 10.99.0.1 10.99.0.1$' "$work/ra-pool1/HUB.cfg" && grep -q 'password wrong$' "$work/ra-pw/USER2.cfg" ||
    { echo "remote access: the variants' edits did not apply" >&2; exit 1; }
for v in ra-pool1 ra-pw; do
    "$bin" "$work/$v" --out="$work/$v-out" >"$work/$v.log" 2>&1 || { cat "$work/$v.log" >&2; exit 1; }
done
c1=$(fig ra-pool1-out ra_connected_user1) c2=$(fig ra-pool1-out ra_connected_user2)
[ $((c1 + c2)) -eq 1 ] && [ "$(fig ra-pool1-out flow_site1-h_received)" -eq "$(fig flexvpn-remote-access flow_site1-h_received)" ] ||
    { echo "remote access, pool of one: $c1 + $c2 users connected, wanted 1" >&2; exit 1; }
refused=u2-h; [ "$c1" -eq 0 ] && refused=u1-h
[ "$(fig ra-pool1-out flow_${refused}_sent)" -eq 0 ] || { echo "remote access, pool of one: the refused user sent" >&2; exit 1; }
[ "$(fig ra-pw-out ra_connected_user2)" -eq 0 ] && [ "$(fig ra-pw-out flow_u2-h_sent)" -eq 0 ] &&
    [ "$(fig ra-pw-out ra_connected_user1)" -eq 1 ] && [ "$(fig ra-pw-out flow_u1-h_received)" -gt 0 ] ||
    { echo "remote access, USER2's wrong password: user2 connected $(fig ra-pw-out ra_connected_user2)" >&2; exit 1; }
echo "flexvpn-remote-access: users at $a1 and $a2, their voice from/to the pool address; pool of one: one refused; wrong password: refused"

echo "$n scenarios ran"
