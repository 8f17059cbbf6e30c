#!/bin/sh
# getvpn-mpls-any2any with HQ and 3 branches over MPLS: every member
# registers, every voice flow (12, EF, across a unicast and a multicast
# rekey) arrives in full within the budget and branch to branch takes the
# direct provider path; every pcap decodes with nothing malformed; every
# ESP packet on the PE-CE and core links decrypts with the written esp_sa
# (group SAs, "*" addresses) to an inner packet whose addresses and DSCP the
# outer header carries; no clear packet the policy covers is on the wire;
# core links carry labels; Main Mode decrypts with ikev1_decryption_table;
# two runs with one seed are byte-identical.
# Usage: example-getvpn-mpls-any2any.sh EXAMPLE_BINARY WORK_DIR
set -eu
. "$(dirname "$0")/trace-checks.sh"
bin=$1 work=$2
need_tshark
rm -rf "$work"
mkdir -p "$work"
a=$work/a b=$work/b
"$bin" --out="$a" --branches=3 --duration=4 >/dev/null
"$bin" --out="$b" --branches=3 --duration=4 >/dev/null
j=$a/summary.json
grep -q '"members_registered": 4' "$j" || { echo "not every member registered" >&2; exit 1; }
grep -q '"ks_rekeys": 2' "$j" || { echo "the key server did not rekey twice" >&2; exit 1; }
grep -q '"data_plane_drops": 0' "$j" || { echo "the data plane dropped packets" >&2; exit 1; }
flows=$(grep -c '"sent": 200, "received": 200' "$j")
[ "$flows" -eq 12 ] || { echo "only $flows of 12 voice flows delivered in full" >&2; exit 1; }
grep -q '"within_budget": false' "$j" && { echo "a flow is over its delay budget" >&2; exit 1; }
b2b=$(sed -n 's/.*"branch_to_branch_mean_delay_ms": "\([0-9.]*\)".*/\1/p' "$j")
hq=$(sed -n 's/.*"branch_via_hq_mean_delay_ms": "\([0-9.]*\)".*/\1/p' "$j")
awk -v x="$b2b" -v y="$hq" 'BEGIN { exit !(x > 0 && x < 0.6 * y) }' ||
    { echo "branch-to-branch delay $b2b ms is not the direct path (via HQ: $hq ms)" >&2; exit 1; }
echo "4 members, 12 flows in full; branch to branch $b2b ms, through HQ it would be $hq ms"

grep -c . "$a/wireshark/esp_sa" | grep -qx 3 || { echo "esp_sa should hold 3 TEKs" >&2; exit 1; }
grep -q '"IPv4","\*","\*"' "$a/wireshark/esp_sa" || { echo "group SAs without * addresses" >&2; exit 1; }
for f in "$a"/ce-PE*-site[1-9]*.pcap "$a"/core-*.pcap; do
    check_decrypts "$a" "$f"
    # address preservation and DSCP copy: outer and inner agree
    bad=$(ts_keys "$a" -r "$f" -Y 'esp && udp' -T fields -E 'separator=;' -e ip.src -e ip.dst -e ip.dsfield.dscp |
        awk -F';' '{ split($1, s, ","); split($2, d, ","); split($3, q, ",");
                   if (s[1] != s[2] || d[1] != d[2] || q[1] != 46 || q[2] != 46) n++ } END { print n + 0 }')
    [ "$bad" -eq 0 ] || { echo "$f: $bad ESP packets whose outer header differs from the inner" >&2; exit 1; }
    clear=$(tshark -r "$f" -Y 'ip.src == 10.0.0.0/8 && ip.dst == 10.0.0.0/8 && !esp' 2>/dev/null | count)
    [ "$clear" -eq 0 ] || { echo "$f: $clear clear packets the policy covers" >&2; exit 1; }
done
echo "PE-CE and core links: ESP only for the policy's traffic, outer = inner addresses, DSCP EF"
labels=$(tshark -r "$a/core-P1-P2.pcap" -Y 'mpls && esp' -T fields -e mpls.label 2>/dev/null | grep -c ',')
[ "$labels" -gt 0 ] || { echo "no two-label stack carrying ESP on core-P1-P2" >&2; exit 1; }
echo "core-P1-P2: $labels ESP frames under a two-label stack"

ks=$a/ce-PE0-site0.pcap
bad=$(XDG_CONFIG_HOME=$a tshark -r "$ks" -Y '_ws.malformed || _ws.expert.severity >= error' 2>/dev/null | count)
ids=$(XDG_CONFIG_HOME=$a tshark -r "$ks" -V 2>/dev/null | grep -c 'Payload: Identification (5)')
[ "$bad" -eq 0 ] || { echo "$ks: malformed GDOI" >&2; exit 1; }
[ "$ids" -ge 8 ] || { echo "$ks: Main Mode not decrypted with ikev1_decryption_table ($ids ID payloads)" >&2; exit 1; }
echo "key server link: 4 Main Modes decrypted ($ids ID payloads), nothing malformed"
for f in "$a"/gdoi-*.pcap; do
    bad=$(XDG_CONFIG_HOME=$a tshark -r "$f" -Y '_ws.malformed || _ws.expert.severity >= error' 2>/dev/null | count)
    [ "$bad" -eq 0 ] || { echo "$f: malformed" >&2; exit 1; }
done
n=$(XDG_CONFIG_HOME=$a tshark -r "$a/gdoi-KS1.plain.pcap" -Y 'isakmp.exchangetype == 33' 2>/dev/null | count)
[ "$n" -ge 5 ] || { echo "the decrypted view lacks the rekeys ($n GROUPKEY-PUSH)" >&2; exit 1; }
echo "GDOI pcaps: nothing malformed; decrypted view shows $n GROUPKEY-PUSH messages"
check_identical "$a" "$b" ce-PE1-site2.pcap core-P1-P2.pcap ce-PE0-site0.pcap gdoi-KS1.pcap \
    gdoi-KS1.plain.pcap wireshark/esp_sa wireshark/ikev1_decryption_table
