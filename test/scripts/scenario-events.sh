#!/bin/sh
# Timed events happen at their simulated time: the site-to-site scenario
# with G.711 voice (50 packets/s) from 10 s to 16 s and the WAN down at
# 13 s: what was sent before 13 s arrives (150 packets, the last ones
# still in flight at 13 s excepted: the WAN delay is 20 ms), nothing after.
# The same scenario without the event delivers all 300.
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
