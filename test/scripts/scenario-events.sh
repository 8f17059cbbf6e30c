#!/bin/sh
# Timed events happen at their simulated time: the site-to-site scenario
# with G.711 voice (50 packets/s) from 10 s to 16 s and the WAN down at
# 13 s: what was sent before 13 s arrives (150 packets, the last ones
# still in flight at 13 s excepted: the WAN delay is 20 ms), nothing after.
# The same scenario without the event delivers all 300. (And a key server
# stopped at t fails over, below.)
# Usage: scenario-events.sh VPN_SCENARIO_BINARY SOURCE_DIR WORK_DIR
set -eu
. "$(dirname "$0")/trace-checks.sh"
bin=$1 src=$2 work=$3
need_tshark
rm -rf "$work"
mkdir -p "$work/s"
cp "$src"/scenarios/flexvpn-l2l-static/*.cfg "$work/s/"
sed 's/^duration = .*/duration = 17/' "$src/scenarios/flexvpn-l2l-static/scenario.ini" >"$work/s/scenario.ini"
printf '\n[event wan-down]\nat = 13\naction = link-down\ntarget = wan\n' >>"$work/s/scenario.ini"
figure() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"; }
"$bin" "$work/s" --out="$work/down" --set flow.voice.stop=16 >/dev/null
"$bin" "$work/s" --out="$work/up" --set flow.voice.stop=16 --set event.wan-down.action=link-up >/dev/null
sent=$(figure "$work/down/summary.json" flow_voice_sent)
down=$(figure "$work/down/summary.json" flow_voice_received)
up=$(figure "$work/up/summary.json" flow_voice_received)
echo "sent $sent; received $down with the WAN down at 13 s, $up without"
[ "$sent" -eq 300 ] && [ "$up" -eq 300 ] || { echo "wanted 300 sent and 300 received without the event" >&2; exit 1; }
[ "$down" -ge 148 ] && [ "$down" -le 150 ] || { echo "wanted 148..150 received (sent before 13 s)" >&2; exit 1; }

# A key server stopped at t fails over to the other: scenarios/getvpn-coop
# stops KS1 at 30 s; KS2 declares it dead 90 s later (120 s) and is primary
# at the end (140 s), the members' voice losing nothing. KS1 stopped at 100 s
# instead (its last announcement at 70 s or later, dead at 160 s or later,
# after the end): KS2 still secondary. KS1 only rekeying at
# 30 s: no takeover.
coop=$src/scenarios/getvpn-coop
"$bin" "$coop" --out="$work/ks-30" >/dev/null
"$bin" "$coop" --out="$work/ks-100" --set event.ks1-fails.at=100 >/dev/null
"$bin" "$coop" --out="$work/ks-none" --set event.ks1-fails.action=rekey >/dev/null
for run in ks-30 ks-100 ks-none; do
    echo "$run: KS2 primary $(figure "$work/$run/summary.json" ks_primary_ks2)," \
        "takeovers $(figure "$work/$run/summary.json" ks_takeovers_ks2)," \
        "voice $(figure "$work/$run/summary.json" flow_hq-b1_received)/$(figure "$work/$run/summary.json" flow_hq-b1_sent)"
done
[ "$(figure "$work/ks-30/summary.json" ks_primary_ks2)" -eq 1 ] &&
    [ "$(figure "$work/ks-30/summary.json" ks_takeovers_ks2)" -eq 1 ] ||
    { echo "KS1 stopped at 30 s: KS2 did not take over" >&2; exit 1; }
[ "$(figure "$work/ks-30/summary.json" flow_hq-b1_received)" -eq "$(figure "$work/ks-30/summary.json" flow_hq-b1_sent)" ] &&
    [ "$(figure "$work/ks-30/summary.json" flow_b1-hq_received)" -eq "$(figure "$work/ks-30/summary.json" flow_b1-hq_sent)" ] ||
    { echo "voice lost packets across the failover" >&2; exit 1; }
for run in ks-100 ks-none; do
    [ "$(figure "$work/$run/summary.json" ks_primary_ks2)" -eq 0 ] &&
        [ "$(figure "$work/$run/summary.json" ks_takeovers_ks2)" -eq 0 ] ||
        { echo "$run: KS2 took over although KS1 was alive until 100 s" >&2; exit 1; }
done

# A forced CHILD_SA rekey at its time: SPOKE1 rekeys at 13 s (two CHILD_SAs
# on each side by the end, no voice lost); without it (the run above whose
# event is a no-op) one.
"$bin" "$work/s" --out="$work/rekey" --set flow.voice.stop=16 --set event.wan-down.action=rekey \
    --set event.wan-down.target=SPOKE1 >/dev/null
echo "rekey at 13 s: CHILD_SAs $(figure "$work/rekey/summary.json" child_sas_spoke1)/$(figure "$work/rekey/summary.json" child_sas_hub1)," \
    "voice $(figure "$work/rekey/summary.json" flow_voice_received); without: $(figure "$work/up/summary.json" child_sas_spoke1)"
[ "$(figure "$work/rekey/summary.json" child_sas_spoke1)" -eq 2 ] && [ "$(figure "$work/rekey/summary.json" child_sas_hub1)" -eq 2 ] &&
    [ "$(figure "$work/rekey/summary.json" flow_voice_received)" -eq 300 ] &&
    [ "$(figure "$work/up/summary.json" child_sas_spoke1)" -eq 1 ] ||
    { echo "the forced rekey did not happen at its time, or lost voice" >&2; exit 1; }

# --- clear crypto session, forced IKE/CHILD rekeys, a router restarted -----
# The site-to-site scenario with voice both ways (10 s to 29 s), so that
# either side has traffic to bring IKE up again on demand. sa-counts.csv
# samples each router's IKE and ESP SAs every 100 ms; events.txt logs each
# event at its time.
sed 's/^duration = .*/duration = 30/' "$src/scenarios/flexvpn-l2l-static/scenario.ini" >"$work/s/scenario.ini"
printf '\n[flow back]\nprofile = voice-g729\nfrom = hostB\nto = hostA\nstart = 10\nstop = 29\n' >>"$work/s/scenario.ini"
printf '[event ev]\nat = 13\naction = clear-crypto-session\ntarget = HUB1\n' >>"$work/s/scenario.ini"
printf '[event on]\nat = 16\naction = link-up\ntarget = lan1\n' >>"$work/s/scenario.ini"
run() { out=$work/$1; shift; "$bin" "$work/s" --out="$out" --set flow.voice.stop=29 "$@" >/dev/null; }
# the first time (after FROM s) column COL of sa-counts.csv is VALUE, or none
when() {
    awk -F, -v c="$2" -v v="$3" -v t="$4" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == c) k = i; next }
        $1 + 0 >= t && $k == v { print $1; exit }' "$work/$1/sa-counts.csv"
}
check() { [ "$@" ] || { echo "FAILED: $check_what" >&2; exit 1; }; }
lost() { echo $(($(figure "$work/$1/summary.json" flow_$2_sent) - $(figure "$work/$1/summary.json" flow_$2_received))); }

# clear crypto session on HUB1 at 13 s: both sides' SAs go at 13 s, IKE is
# up again within 0.3 s (SPOKE1 initiates on its next packet); a second IKE SA
# and CHILD_SA on each side; a few voice packets lost at most.
run clear
check_what="clear-crypto-session: logged at 13 s"
check "$(grep -c '^13 s ev: clear-crypto-session HUB1: IKE SAs 1, ESP SAs 2 before; cleared 1 IKE SAs$' "$work/clear/events.txt")" -eq 1
down=$(when clear ike_sas_hub1 0 12) up=$(when clear ike_sas_hub1 1 13)
echo "clear crypto session at 13 s: HUB1's IKE SAs 0 at $down s, 1 again at $up s;" \
    "IKE SAs up $(figure "$work/clear/summary.json" ike_sas_up_hub1), voice lost $(lost clear voice)"
check_what="clear-crypto-session: SAs gone at 13 s and back by 13.3 s"
check "$down" = 13 -a "$(when clear esp_sas_spoke1 0 12)" = 13.1 -a -n "$up"
awk "BEGIN { exit !($up > 13 && $up <= 13.3) }" || { echo "FAILED: $check_what ($up)" >&2; exit 1; }
check_what="clear-crypto-session: a second IKE SA and CHILD_SA, little voice lost"
check "$(figure "$work/clear/summary.json" ike_sas_up_hub1)" -eq 2 -a "$(figure "$work/clear/summary.json" child_sas_spoke1)" -eq 2 \
    -a "$(lost clear voice)" -le 10 -a "$(lost clear back)" -le 10
# clear crypto session remote ADDR: only that peer's IKE SAs
run peer-other --set event.ev.peer=203.0.113.9
run peer-spoke --set event.ev.peer=192.0.2.2
check_what="clear-crypto-session peer: another peer's untouched, SPOKE1's cleared"
check "$(figure "$work/peer-other/summary.json" ike_sas_up_hub1)" -eq 1 -a "$(figure "$work/peer-spoke/summary.json" ike_sas_up_hub1)" -eq 2
grep -q 'cleared 0 IKE SAs' "$work/peer-other/events.txt" && grep -q 'cleared 1 IKE SAs' "$work/peer-spoke/events.txt" ||
    { echo "FAILED: $check_what (events.txt)" >&2; exit 1; }
echo "clear crypto session remote 203.0.113.9: nothing cleared; remote 192.0.2.2: cleared"

# forced rekeys at 13 s: new SPIs (a second pair of ESP SAs, a second IKE SA
# pair of SPIs in the key files), the SAs never drop, no voice lost
run child --set event.ev.action=rekey
run ike --set event.ev.action=rekey --set event.ev.sa=ike
esp_spis() { cut -d, -f4 "$work/$1/wireshark/esp_sa" | sort -u | wc -l; }
ike_spis() { cut -d, -f1,2 "$work/$1/wireshark/ikev2_decryption_table" | sort -u | wc -l; }
echo "rekey CHILD at 13 s: ESP SPIs $(esp_spis child) (without: $(esp_spis peer-other)), CHILD_SAs $(figure "$work/child/summary.json" child_sas_hub1);" \
    "rekey IKE: IKE SPI pairs $(ike_spis ike) (without: $(ike_spis peer-other)); voice lost $(lost child voice)/$(lost ike voice)"
check_what="rekey sa=child: new ESP SPIs at 13 s, no loss"
check "$(esp_spis child)" -eq 4 -a "$(esp_spis peer-other)" -eq 2 -a "$(figure "$work/child/summary.json" child_sas_hub1)" -eq 2 \
    -a "$(lost child voice)" -eq 0 -a "$(lost child back)" -eq 0 -a -z "$(when child esp_sas_hub1 0 2)"
grep -q '^13 s ev: rekey HUB1: .*rekeying 1 CHILD_SAs$' "$work/child/events.txt" || { echo "FAILED: $check_what (log)" >&2; exit 1; }
check_what="rekey sa=ike: new IKE SPIs at 13 s, CHILD_SAs kept, no loss"
check "$(ike_spis ike)" -eq 2 -a "$(ike_spis peer-other)" -eq 1 -a "$(figure "$work/ike/summary.json" child_sas_hub1)" -eq 1 \
    -a "$(figure "$work/ike/summary.json" ike_sas_up_hub1)" -eq 1 -a "$(lost ike voice)" -eq 0 -a -z "$(when ike ike_sas_spoke1 0 2)"
grep -q '^13 s ev: rekey HUB1: .*rekeying 1 IKE SAs$' "$work/ike/events.txt" || { echo "FAILED: $check_what (log)" >&2; exit 1; }

# A router stopped at 13 s and started at 16 s. SPOKE1 (the initiator):
# its SAs are gone at 13 s, it brings IKE up again as soon as it is on
# (by 16.2 s); about 3 s of voice lost each way (150 packets at 50/s).
run spoke --set event.ev.action=node-stop --set event.ev.target=SPOKE1 --set event.on.action=node-start --set event.on.target=SPOKE1
up=$(when spoke ike_sas_spoke1 1 13.05)
echo "SPOKE1 off 13..16 s: its SAs 0 at $(when spoke esp_sas_spoke1 0 12) s, IKE up again at $up s, voice lost $(lost spoke voice)/$(lost spoke back)"
check_what="SPOKE1 restarted: state lost at 13 s, IKE again by 16.2 s, ~150 packets lost"
check "$(when spoke esp_sas_spoke1 0 12)" = 13 -a -n "$up" -a "$(figure "$work/spoke/summary.json" ike_sas_up_spoke1)" -eq 2
awk "BEGIN { exit !($up >= 16 && $up <= 16.2) }" || { echo "FAILED: $check_what (up at $up)" >&2; exit 1; }
check "$(lost spoke voice)" -ge 145 -a "$(lost spoke voice)" -le 165 -a "$(lost spoke back)" -ge 145 -a "$(lost spoke back)" -le 165
grep -q '^16 s on: node-start SPOKE1: IKE SAs 0, ESP SAs 0 before; switched on$' "$work/spoke/events.txt" || { echo "FAILED: $check_what (log)" >&2; exit 1; }
# HUB1 (the responder) restarted: SPOKE1 keeps its SAs, finds them dead by
# DPD (dpd 10 2 on-demand) and brings IKE up again, well after 16 s.
# (DPD: 10 s without inbound traffic, then 5 retries 2 s apart: the run
# lasts 45 s, voice until 44 s)
run hub --set event.ev.action=node-stop --set event.ev.target=HUB1 --set event.on.action=node-start --set event.on.target=HUB1 \
    --set scenario.duration=45 --set flow.voice.stop=44 --set flow.back.stop=44
up=$(when hub ike_sas_hub1 1 13.05)
echo "HUB1 off 13..16 s: SPOKE1 recovers through DPD, HUB1's IKE SA up again at $up s; voice lost $(lost hub voice)"
check_what="HUB1 restarted: SPOKE1's SAs stay until DPD, IKE again after DPD (25..40 s)"
dead=$(when hub ike_sas_spoke1 0 2)
echo "  SPOKE1 held its old IKE SA until $dead s"
check -n "$up" -a -n "$dead" -a "$(when hub ike_sas_hub1 0 12)" = 13 -a "$(figure "$work/hub/summary.json" ike_sas_up_spoke1)" -eq 2
awk "BEGIN { exit !($dead > 25 && $up >= $dead && $up < 40) }" || { echo "FAILED: $check_what (up at $up)" >&2; exit 1; }

# GET VPN (scenarios/getvpn-mpls): `clear crypto gdoi` on BRANCH1 at 8 s:
# it registers again (4 registrations at KS1, 3 without); BRANCH1 off from 6
# to 9 s: 3 s of its voice lost, and it registers again when on.
gv=$src/scenarios/getvpn-mpls
"$bin" "$gv" --out="$work/gm-clear" --set event.rekey.action=clear-crypto-session --set event.rekey.target=BRANCH1 >/dev/null
"$bin" "$gv" --out="$work/gm-none" --set event.rekey.sa=kek >/dev/null
mkdir -p "$work/g"
cp "$gv"/* "$work/g/"
printf '[event off]\nat = 6\naction = node-stop\ntarget = BRANCH1\n[event on]\nat = 9\naction = node-start\ntarget = BRANCH1\n' >>"$work/g/scenario.ini"
"$bin" "$work/g" --out="$work/gm-restart" >/dev/null
echo "KS1 registrations: clear crypto gdoi on BRANCH1 $(figure "$work/gm-clear/summary.json" ks_registrations_ks1)," \
    "none $(figure "$work/gm-none/summary.json" ks_registrations_ks1), BRANCH1 restarted $(figure "$work/gm-restart/summary.json" ks_registrations_ks1);" \
    "BRANCH1->BRANCH2 voice lost while off: $(lost gm-restart b1-b2)"
check_what="GET VPN: clear crypto gdoi and a restart make the member register again"
check "$(figure "$work/gm-clear/summary.json" ks_registrations_ks1)" -eq 4 -a "$(figure "$work/gm-none/summary.json" ks_registrations_ks1)" -eq 3 \
    -a "$(figure "$work/gm-restart/summary.json" ks_registrations_ks1)" -eq 4 -a "$(lost gm-clear b1-b2)" -eq 0
# Off, BRANCH1 has no TEK and no registration (a rebooted router keeps no
# GDOI state); on at 9 s it registers anew (KS1's 8 s TEK), within 0.5 s:
# 3 s of voice and the registration's time lost.
check "$(lost gm-restart b1-b2)" -ge 150 -a "$(lost gm-restart b1-b2)" -le 175 -a "$(lost gm-restart b2-hq)" -eq 0
check_what="GET VPN: BRANCH1 switched off 6..9 s loses its TEKs and registers anew when on (sa-counts.csv)"
check "$(when gm-restart teks_branch1 0 5.5)" = 6 -a "$(when gm-restart gdoi_groups_branch1 0 5.5)" = 6
back=$(when gm-restart teks_branch1 1 6.05)
echo "BRANCH1: TEKs 0 from 6 s, a TEK again at $back s"
awk "BEGIN { exit !($back > 9 && $back <= 9.5) }" || { echo "FAILED: $check_what (TEK at $back)" >&2; exit 1; }
grep -q '^6 s off: node-stop BRANCH1: registered groups 1, TEKs 1 before; switched off$' "$work/gm-restart/events.txt" &&
    grep -q '^9 s on: node-start BRANCH1: registered groups 0, TEKs 0 before; switched on, registering anew$' "$work/gm-restart/events.txt" ||
    { echo "FAILED: $check_what (events.txt)" >&2; exit 1; }
grep -q '^8 s rekey: rekey KS1: key server; crypto gdoi ks rekey (new KEK): 0$' "$work/gm-none/events.txt" ||
    { echo "FAILED: the KEK rekey is not logged at 8 s" >&2; exit 1; }
# DMVPN per-peer rekeys (scenarios/dmvpn-phase3): a forced CHILD_SA rekey
# naming one peer of a multipoint GRE tunnel (each NHRP peer has its own IKE
# SA and CHILD_SA) at 6 s. On the hub, peer SPOKE1: a second CHILD_SA at the
# hub and at SPOKE1 only; on SPOKE1, peer SPOKE2 (their shortcut): at SPOKE1
# and SPOKE2 only; SPOKE1's ESP to SPOKE2 uses a new SPI from then on. A
# peer the router has no SA with: nothing. No voice lost in any.
dm=$work/dm
mkdir -p "$dm"
cp "$src"/scenarios/dmvpn-phase3/* "$dm/"
printf '\n[event rk]\nat = 6\naction = rekey\ntarget = HUB\npeer = 100.64.0.1\n' >>"$dm/scenario.ini"
"$bin" "$dm" --out="$work/dm-none" --set event.rk.peer=203.0.113.9 >/dev/null
"$bin" "$dm" --out="$work/dm-hub" >/dev/null
"$bin" "$dm" --out="$work/dm-spoke" --set event.rk.target=SPOKE1 --set event.rk.peer=100.64.0.5 >/dev/null
children() { for r in hub spoke1 spoke2 spoke3; do printf '%s ' "$(figure "$work/$1/summary.json" child_sas_$r)"; done; }
echo "DMVPN CHILD_SAs (hub spoke1 spoke2 spoke3): none $(children dm-none); hub->SPOKE1 $(children dm-hub); SPOKE1->SPOKE2 $(children dm-spoke)"
n0=$(children dm-none)
set -- $n0
check_what="DMVPN per-peer rekey: one more CHILD_SA at the two ends named, none elsewhere"
check "$(children dm-hub)" = "$(($1 + 1)) $(($2 + 1)) $3 $4 " -a "$(children dm-spoke)" = "$1 $(($2 + 1)) $(($3 + 1)) $4 "
grep -q '^6 s rk: rekey HUB: .*rekeying 1 CHILD_SAs$' "$work/dm-hub/events.txt" &&
    grep -q '^6 s rk: rekey SPOKE1: .*rekeying 1 CHILD_SAs$' "$work/dm-spoke/events.txt" &&
    grep -q '^6 s rk: rekey HUB: .*rekeying 0 CHILD_SAs$' "$work/dm-none/events.txt" || { echo "FAILED: $check_what (log)" >&2; exit 1; }
for run in dm-none dm-hub dm-spoke; do
    for f in s1-s2 s2-s1 s3-s1; do
        check_what="DMVPN per-peer rekey: no voice lost ($run $f)"
        check "$(lost $run $f)" -eq 0
    done
done
# SPOKE1's ESP to SPOKE2 (100.64.0.1 -> 100.64.0.5) on its WAN: after
# 6.2 s under one SPI not seen before 6 s (before: one or two, as both
# spokes may have brought the shortcut up); without the rekey, one seen before
spis() { tshark -r "$(ls "$work/$1"/s1-wan-SPOKE1-*.pcap)" -Y 'esp && ip.src == 100.64.0.1 && ip.dst == 100.64.0.5' \
    -T fields -e frame.time_epoch -e esp.spi 2>/dev/null | awk -v lo="$2" -v hi="$3" '$1 >= lo && $1 < hi { print $2 }' | sort -u; }
before=$(spis dm-spoke 0 6) after=$(spis dm-spoke 6.2 99) same=$(spis dm-none 6.2 99)
echo "SPOKE1 -> SPOKE2 ESP SPIs: before 6 s" $before", after $after (without the rekey: $same)"
check_what="DMVPN per-peer rekey: SPOKE1's ESP to SPOKE2 under a new SPI after the rekey"
check -n "$before" -a -n "$after" -a "$(echo "$after" | wc -l)" -eq 1 -a "$(echo "$same" | wc -l)" -eq 1
! echo "$before" | grep -qx "$after" && spis dm-none 0 6 | grep -qx "$same" || { echo "FAILED: $check_what" >&2; exit 1; }

# A link event on an MPLS core link (scenarios/getvpn-mpls): P1-P2 down from
# 4 s to 6 s. The provider's label paths are computed once (no IGP runs),
# so nothing reroutes: the flows crossing P1-P2 (BRANCH1's: b1-b2 and
# hq-b1) lose the 2 s in between (100 packets each at 50/s) and the flow
# that does not (b2-hq, PE2-P1-PE0) nothing; BRANCH2's LAN sees b1-b2's
# voice until 4 s, none from 4 s to 6 s, and again right after 6 s.
mkdir -p "$work/core"
cp "$gv"/* "$work/core/"
printf '[event core-down]\nat = 4\naction = link-down\ntarget = p1-p2\n[event core-up]\nat = 6\naction = link-up\ntarget = p1-p2\n' >>"$work/core/scenario.ini"
"$bin" "$work/core" --out="$work/core-cut" >/dev/null
arrivals() { tshark -r "$(ls "$work"/core-cut/b2-lan-BRANCH2-*.pcap)" -Y 'ip.src == 10.1.0.2 && udp.dstport == 16384' \
    -T fields -e frame.time_epoch 2>/dev/null | awk -v lo="$1" -v hi="$2" '$1 >= lo && $1 < hi' | wc -l; }
echo "P1-P2 down 4..6 s: lost b1-b2 $(lost core-cut b1-b2), hq-b1 $(lost core-cut hq-b1), b2-hq $(lost core-cut b2-hq)" \
    "(without: $(lost gm-none b1-b2), $(lost gm-none hq-b1), $(lost gm-none b2-hq));" \
    "b1-b2 at host2's LAN: 3.5-4 s $(arrivals 3.5 4), 4-6 s $(arrivals 4 6), 6-6.5 s $(arrivals 6 6.5)"
check_what="MPLS core link down 4..6 s: the flows across it lose those 2 s, the other nothing"
check "$(lost core-cut b1-b2)" -ge 98 -a "$(lost core-cut b1-b2)" -le 102 -a "$(lost core-cut hq-b1)" -ge 98 \
    -a "$(lost core-cut hq-b1)" -le 102 -a "$(lost core-cut b2-hq)" -eq 0 -a "$(lost gm-none b1-b2)" -eq 0 -a "$(lost gm-none hq-b1)" -eq 0
check_what="MPLS core link down 4..6 s: nothing arrives in between, traffic again after 6 s"
check "$(arrivals 3.5 4)" -ge 24 -a "$(arrivals 4.05 6)" -eq 0 -a "$(arrivals 6.05 6.5)" -ge 20
grep -q '^4 s core-down: link-down p1-p2: loss 1$' "$work/core-cut/events.txt" &&
    grep -q '^6 s core-up: link-up p1-p2: loss 0$' "$work/core-cut/events.txt" || { echo "FAILED: $check_what (log)" >&2; exit 1; }
echo "scenario-events: ok"
