#!/bin/sh
# Runs every scenario in scenarios/ (each with its own scenario.ini) at its
# own short duration and checks the outputs: exit 0, summary.txt/json, the
# configurations copied, every voice/video flow received something, and
# where the run wrote ESP keys, every ESP packet of every pcap decrypts
# with them (tshark, and through scripts/wireshark), nothing malformed.
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
        for p in "$out"/*.pcap; do
            esp=$(tshark -r "$p" -Y esp -T fields -e frame.number 2>/dev/null | count)
            [ "$esp" -gt 0 ] || continue
            bad=$(ts_keys "$out" -r "$p" -Y '_ws.malformed || _ws.expert.severity >= error' -T fields -e frame.number | count)
            undec=$(ts_keys "$out" -r "$p" -Y 'esp && !esp.protocol' -T fields -e frame.number | count)
            echo "  $(basename "$p"): $esp ESP frames, $bad malformed, $undec not decrypted"
            [ "$bad" -eq 0 ] && [ "$undec" -eq 0 ] || { echo "$name: $(basename "$p") does not decrypt in full" >&2; exit 1; }
            # scripts/wireshark applies the same keys by itself
            viaws=$("$src/scripts/wireshark" "$out" "$(basename "$p")" --tshark -Y 'esp && esp.protocol' -T fields -e frame.number 2>/dev/null | count)
            [ "$viaws" -eq "$esp" ] || { echo "$name: scripts/wireshark decrypts $viaws of $esp" >&2; exit 1; }
        done
    fi
done
[ $n -ge 2 ] || { echo "only $n scenarios found" >&2; exit 1; }
echo "$n scenarios ran"
