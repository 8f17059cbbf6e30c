#!/bin/sh
# A trace that spans IKE SA and CHILD_SA rekeys decrypts in full with the
# key files VpnTraceHelper wrote: flexvpn-l2l-static with its scenario's
# configurations plus short lifetimes (IKE SA 150 s, CHILD_SA 120 s) over
# 330 s of traffic; every encrypted IKE message (CREATE_CHILD_SA and
# INFORMATIONAL under the first IKE SA and under its successors) and every
# ESP packet of every CHILD_SA decrypts, nothing is malformed.
# Usage: flexvpn-trace-rekeys.sh EXAMPLE_BINARY SCENARIO_DIR WORK_DIR
set -eu
. "$(dirname "$0")/trace-checks.sh"
bin=$1 scen=$2 work=$3
need_tshark
rm -rf "$work"
mkdir -p "$work/cfg"
for r in HUB1 SPOKE1; do
    awk '{ print }
         /^ keyring local/ { print " lifetime 150" }
         /^ set ikev2-profile/ { print " set security-association lifetime seconds 120" }' \
        "$scen/$r.cfg" >"$work/cfg/$r.cfg"
    grep -q "^ lifetime 150" "$work/cfg/$r.cfg" && grep -q "lifetime seconds 120" "$work/cfg/$r.cfg" ||
        { echo "could not shorten the lifetimes in $r.cfg" >&2; exit 1; }
done
out=$work/out
"$bin" --out="$out" --configDir="$work/cfg" --duration=330 --interval=0.1 >"$work/summary.txt"
wan=$out/wan-HUB1-1.pcap
grep -q '"sent": 3300, "received": 3300' "$out/summary.json" || { echo "the flow lost packets across the rekeys" >&2; exit 1; }

# The trace really spans rekeys: three or more IKE SAs (by initiator SPI)
# and six or more ESP SPIs (three CHILD_SAs or more, both directions).
ike_sas=$(tshark -r "$wan" -Y isakmp -T fields -e isakmp.ispi 2>/dev/null | sort -u | count)
spis=$(tshark -r "$wan" -Y esp -T fields -e esp.spi 2>/dev/null | sort -u | count)
rekeys=$(tshark -r "$wan" -Y 'isakmp.exchangetype == 36' -T fields -e frame.number 2>/dev/null | count)
echo "WAN trace: $ike_sas IKE SAs, $spis ESP SPIs, $rekeys CREATE_CHILD_SA messages"
[ "$ike_sas" -ge 3 ] || { echo "the IKE SA was not rekeyed twice" >&2; exit 1; }
[ "$spis" -ge 6 ] || { echo "the CHILD_SA was not rekeyed twice" >&2; exit 1; }
[ "$(count <"$out/wireshark/ikev2_decryption_table")" -ge "$ike_sas" ] || { echo "IKE SAs missing from ikev2_decryption_table" >&2; exit 1; }
[ "$(count <"$out/wireshark/esp_sa")" -ge "$spis" ] || { echo "SAs missing from esp_sa" >&2; exit 1; }

# Every encrypted IKE message decrypts, and each CREATE_CHILD_SA shows its
# nonce (so its SK payload was decrypted with the right IKE SA's keys).
ts_keys "$out" -r "$wan" -Y 'isakmp.exchangetype >= 35' -V >"$work/ike.txt"
# (IKE_AUTH, CREATE_CHILD_SA and INFORMATIONAL all carry an SK payload.)
enc=$(tshark -r "$wan" -Y 'isakmp.exchangetype >= 35' -T fields -e frame.number 2>/dev/null | count)
dec=$(grep -c "Decrypted Data (" "$work/ike.txt" || true)
ts_keys "$out" -r "$wan" -Y 'isakmp.exchangetype == 36' -V >"$work/ccsa.txt"
nonces=$(grep -c "Payload: Nonce" "$work/ccsa.txt" || true)
echo "with keys: $dec of $enc encrypted IKE messages decrypt; $nonces of $rekeys CREATE_CHILD_SA show a nonce"
[ "$enc" -gt 0 ] && [ "$dec" -eq "$enc" ] || { echo "not every IKE message decrypted" >&2; exit 1; }
[ "$nonces" -eq "$rekeys" ] || { echo "not every CREATE_CHILD_SA decrypted" >&2; exit 1; }
check_decrypts "$out" "$wan"
# Per SPI: each one's packets decrypt (no SA's key missing).
for spi in $(tshark -r "$wan" -Y esp -T fields -e esp.spi 2>/dev/null | sort -u); do
    n=$(tshark -r "$wan" -Y "esp.spi == $spi" -T fields -e frame.number 2>/dev/null | count)
    d=$(ts_keys "$out" -r "$wan" -Y "esp.spi == $spi && udp" -T fields -e frame.number | count)
    [ "$n" -eq "$d" ] || { echo "SPI $spi: $d of $n packets decrypt" >&2; exit 1; }
done
echo "every SPI's packets decrypt"
