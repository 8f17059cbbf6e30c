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
echo "$n scenarios ran"
