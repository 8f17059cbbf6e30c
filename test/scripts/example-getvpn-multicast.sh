#!/bin/sh
# getvpn-multicast with HQ and 3 branches: the stream from branch 1 to
# 239.1.1.1 reaches the three other sites in full across a multicast rekey;
# on every PE-CE and core link it is ESP that keeps the group address (no
# clear copy anywhere) and decrypts with the written esp_sa; the multicast
# rekey reached every member.
# Usage: example-getvpn-multicast.sh EXAMPLE_BINARY WORK_DIR
set -eu
. "$(dirname "$0")/trace-checks.sh"
bin=$1 work=$2
need_tshark
rm -rf "$work"
mkdir -p "$work"
a=$work/a
"$bin" --out="$a" --branches=3 --duration=4 >/dev/null
j=$a/summary.json
grep -q '"members_registered": 4' "$j" || { echo "not every member registered" >&2; exit 1; }
grep -q '"member_rekeys_received": 4' "$j" || { echo "the multicast rekey missed a member" >&2; exit 1; }
grep -q '"data_plane_drops": 0' "$j" || { echo "the data plane dropped packets" >&2; exit 1; }
grep -q '"stream_sent": 200' "$j" || { echo "the source did not send 200 packets" >&2; exit 1; }
grep -q '"receivers_complete": 3' "$j" || { echo "a receiver missed packets" >&2; exit 1; }
echo "the stream reached 3 sites in full; the multicast rekey reached 4 members"
for f in "$a"/ce-PE*-site[2-9]*.pcap "$a"/core-*.pcap; do
    clear=$(tshark -r "$f" -Y 'ip.dst == 239.1.1.1 && !esp' 2>/dev/null | count)
    [ "$clear" -eq 0 ] || { echo "$f: $clear clear multicast packets" >&2; exit 1; }
    esp=$(tshark -r "$f" -Y 'ip.dst == 239.1.1.1 && esp' 2>/dev/null | count)
    # ingress replication: a core link carries one copy per egress PE behind it
    [ "$esp" -gt 0 ] && [ $((esp % 200)) -eq 0 ] || { echo "$f: $esp encrypted multicast packets" >&2; exit 1; }
    check_decrypts "$a" "$f"
done
echo "every link carries the stream as ESP to 239.1.1.1 only, and it decrypts"
