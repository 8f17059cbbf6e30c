#!/bin/sh
# Timed events happen at their simulated time: the site-to-site scenario
# with G.711 voice (50 packets/s) from 10 s to 16 s and the WAN down at
# 13 s: what was sent before 13 s arrives (150 packets, the last ones
# still in flight at 13 s excepted: the WAN delay is 20 ms), nothing after.
# The same scenario without the event delivers all 300. (And a key server
# stopped at t fails over, below.)
# Usage: scenario-events.sh VPN_SCENARIO_BINARY SOURCE_DIR WORK_DIR
set -eu
bin=$1 src=$2 work=$3
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
