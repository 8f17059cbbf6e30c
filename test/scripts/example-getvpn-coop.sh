#!/bin/sh
# getvpn-coop with HQ and 2 branches: KS1 fails under voice, KS2 takes over
# (one takeover, primary at the end) and rekeys; no member re-registers, no
# voice packet is lost, the data plane drops nothing, and the PE-CE link's
# ESP decrypts with the written esp_sa (the TEK KS1 gave and the one KS2's
# rekey brought).
# Usage: example-getvpn-coop.sh EXAMPLE_BINARY WORK_DIR
set -eu
. "$(dirname "$0")/trace-checks.sh"
bin=$1 work=$2
need_tshark
rm -rf "$work"
mkdir -p "$work"
a=$work/a
"$bin" --out="$a" --branches=2 --duration=110 --failAt=20 >/dev/null
j=$a/summary.json
for want in '"members_registered": 3' '"re_registrations": 0' '"ks2_role": "primary"' \
    '"ks2_takeovers": 1' '"ks2_rekeys": 1' '"data_plane_drops": 0' '"wireshark_esp_sa_lines": 2'; do
    grep -q "$want" "$j" || { echo "summary lacks $want" >&2; exit 1; }
done
sent=$(sed -n 's/.*"voice_sent": \([0-9]*\).*/\1/p' "$j")
got=$(sed -n 's/.*"voice_received": \([0-9]*\).*/\1/p' "$j")
[ "$sent" -gt 0 ] && [ "$sent" -eq "$got" ] || { echo "voice lost: $got of $sent" >&2; exit 1; }
echo "KS2 took over and rekeyed; no re-registration; $got of $sent voice packets"
# (not check_decrypts: members retransmit GROUPKEY-PULL while the key
# servers elect, and Wireshark decrypts a retransmitted IKEv1 phase-2
# message with the next IV of its chain, so it shows those as malformed)
f=$a/ce-PE1-site3.pcap
esp=$(tshark -r "$f" -Y esp -T fields -e frame.number 2>/dev/null | count)
dec=$(ts_keys "$a" -r "$f" -Y 'esp && udp' -T fields -e frame.number | count)
bad=$(ts_keys "$a" -r "$f" -Y 'esp && (_ws.malformed || _ws.expert.severity >= error)' -T fields -e frame.number | count)
[ "$esp" -gt 0 ] && [ "$dec" -eq "$esp" ] && [ "$bad" -eq 0 ] || { echo "$f: $dec of $esp ESP frames decrypt, $bad malformed" >&2; exit 1; }
echo "with keys: $dec of $esp ESP frames decrypt to UDP, none malformed"
