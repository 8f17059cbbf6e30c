#!/bin/sh
# ./scripts/run as a user calls it: without an example name it runs the
# default (get-vs-flex); an example by name into --out; its outputs
# listed; bad arguments get a clear error and a non-zero exit.
set -eu
root=$1 work=$2
rm -rf "$work"
out=$("$root/scripts/run" ipsec-manual-l2l --out "$work/run" --duration=1 2>&1)
echo "$out"
for f in wan-GW1-1.pcap lan1-hostA-0.pcap tunnel0-gw1.pcap wireshark/esp_sa summary.txt summary.json; do
    [ -s "$work/run/$f" ] || { echo "missing output $f" >&2; exit 1; }
done
echo "$out" | grep -q "Outputs in $work/run" || { echo "no output listing" >&2; exit 1; }
echo "$out" | grep -q "XDG_CONFIG_HOME=$work/run tshark .* -r $work/run/wan-GW1-1.pcap" || { echo "no tshark hint" >&2; exit 1; }
# No example named: the default one, get-vs-flex (the comparison table, CSV, PNG plots).
out=$("$root/scripts/run" --out "$work/gvf" --duration=1 2>&1)
echo "$out"
for f in get-vs-flex.csv qos.csv summary.txt summary.json voice-cdf.png voice-cdf.txt p99-budget.png sas-per-router.png; do
    [ -s "$work/gvf/$f" ] || { echo "default run: missing output $f" >&2; exit 1; }
done
echo "$out" | grep -q "^| hqDelay | design .*| join ms | clear pre-SA |" || { echo "default run: no join column" >&2; exit 1; }
for f in voice-cdf.png p99-budget.png sas-per-router.png; do
    [ "$(head -c 4 "$work/gvf/$f" | od -An -tx1 | tr -d ' ')" = "89504e47" ] || { echo "default run: $f is not a PNG" >&2; exit 1; }
done
echo "$out" | grep -q "^| hqDelay | design .*| b2b voice p99 ms |" || { echo "default run: no table (not get-vs-flex?)" >&2; exit 1; }
for d in clear getvpn flexvpn dmvpn; do
    echo "$out" | grep -q "^| 20 *| $d " || { echo "default run: no table row for $d" >&2; exit 1; }
    echo "$out" | grep -q "^verdict $d (hqDelay 20 ms): voice " || { echo "default run: no verdict for $d" >&2; exit 1; }
done
[ "$(tail -n +2 "$work/gvf/get-vs-flex.csv" | wc -l)" -eq 4 ] || { echo "default run: CSV rows" >&2; exit 1; }
echo "$out" | grep -q "^Table: $work/gvf/get-vs-flex.csv; plots: $work/gvf/voice-cdf.png" || { echo "default run: no table location" >&2; exit 1; }
echo "$out" | grep -q "Outputs in $work/gvf" || { echo "default run: no output listing" >&2; exit 1; }
for d in clear getvpn flexvpn dmvpn; do
    [ -s "$work/gvf/$d/wan-BRANCH1.pcap" ] && [ -s "$work/gvf/$d/wan-HQ.pcap" ] ||
        { echo "default run: no captures for $d" >&2; exit 1; }
done
# the hint names a design's folder as XDG_CONFIG_HOME: its keys are there
echo "$out" | grep -q "XDG_CONFIG_HOME=$work/gvf/dmvpn tshark .* -r $work/gvf/dmvpn/wan-BRANCH1.pcap" ||
    { echo "default run: no tshark hint with a design's keys" >&2; exit 1; }
# flexvpn-l2l-static by name (HUB1 and SPOKE1), its traces and key files.
out=$("$root/scripts/run" flexvpn-l2l-static --out "$work/default" --duration=1 2>&1)
echo "$out"
for f in wan-HUB1-1.pcap lan1-hostA-0.pcap lan2-hostB-0.pcap tunnel0-hub1.pcap wireshark/esp_sa \
    wireshark/ikev2_decryption_table show-HUB1.txt show-SPOKE1.txt HUB1.cfg SPOKE1.cfg summary.txt summary.json; do
    [ -s "$work/default/$f" ] || { echo "default run: missing output $f" >&2; exit 1; }
done
echo "$out" | grep -q "^flexvpn-l2l-static: HUB1 <-> SPOKE1" || { echo "run is not flexvpn-l2l-static" >&2; exit 1; }
grep -q '"sent": 50, "received": 50' "$work/default/summary.json" || { echo "default run: the flow was not delivered" >&2; exit 1; }
echo "$out" | grep -q "Outputs in $work/default" || { echo "default run: no output listing" >&2; exit 1; }
echo "$out" | grep -q "XDG_CONFIG_HOME=$work/default tshark .* -r $work/default/wan-HUB1-1.pcap" ||
    { echo "default run: no tshark hint for the WAN capture" >&2; exit 1; }
if err=$("$root/scripts/run" no-such-example --out "$work/x" 2>&1); then
    echo "unknown example accepted" >&2; exit 1
fi
echo "$err" | grep -q "no example named 'no-such-example'" || { echo "unclear error: $err" >&2; exit 1; }
if err=$("$root/scripts/run" ipsec-manual-l2l --out 2>&1); then
    echo "--out without a folder accepted" >&2; exit 1
fi
echo "$err" | grep -q -- "--out needs a folder" || { echo "unclear error: $err" >&2; exit 1; }
if err=$("$root/scripts/run" ipsec-manual-l2l --out "$work/y" --mode=sideways 2>&1); then
    echo "bad example option accepted" >&2; exit 1
fi
echo "$err" | grep -q "mode must be gre or vti" || { echo "unclear error: $err" >&2; exit 1; }
# Scenarios: by name (no example of that name) or by folder, --set, a sweep.
out=$("$root/scripts/run" three-sites --out "$work/sc" --set scenario.duration=12 2>&1)
[ -s "$work/sc/summary.json" ] && [ -s "$work/sc/wireshark/esp_sa" ] || { echo "scenario by name: no outputs" >&2; echo "$out" >&2; exit 1; }
echo "$out" | grep -q "Outputs in $work/sc" || { echo "scenario: no output listing" >&2; exit 1; }
"$root/scripts/run" "$root/scenarios/three-sites" --out "$work/sw" --sweep link.wan-b2.rate=1Mbps,2Mbps \
    --set scenario.duration=12 --jobs 2 >/dev/null 2>&1 || { echo "scenario sweep failed" >&2; exit 1; }
[ "$(wc -l <"$work/sw/results.csv")" -eq 3 ] && [ -s "$work/sw/aggregate.csv" ] || { echo "sweep: wrong results.csv" >&2; exit 1; }
mkdir -p "$work/bad"
cp "$root"/scenarios/three-sites/* "$work/bad/"
sed -i 's/^delay = 5ms/delay = soon/' "$work/bad/scenario.ini"
if err=$("$root/scripts/run" "$work/bad" --out "$work/bad-out" 2>&1); then
    echo "broken scenario accepted" >&2; exit 1
fi
echo "$err" | grep -q "$work/bad/scenario.ini:[0-9]*: delay 'soon'" && [ ! -e "$work/bad-out" ] ||
    { echo "broken scenario: unclear error or output written: $err" >&2; exit 1; }
if err=$("$root/scripts/run" ipsec-manual-l2l --runs 2 2>&1); then
    echo "--runs accepted for an example" >&2; exit 1
fi
echo "$err" | grep -q -- "--sweep, --runs, --jobs and --plot are for scenarios" || { echo "unclear error: $err" >&2; exit 1; }
echo "scripts/run behaves"
