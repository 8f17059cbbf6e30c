#!/bin/sh
# Wireshark decodes every NHRP packet the engine test sends (GRE 0x2001 in
# IPv4, nothing configured): each frame is NHRP, all eight packet types
# occur, checksums are good, nothing is malformed or flagged as an error,
# and the fields we rely on carry the expected values.
# Usage: nhrp-wireshark.sh NHRP_ENGINE_TEST_BINARY OUT_DIR
set -eu
bin=$1 out=$2
. "$(dirname "$0")/trace-checks.sh"
need_tshark
mkdir -p "$out"
pcap=$out/nhrp-engine.pcap
rm -f "$pcap"
VPN_NHRP_PCAP=$pcap "$bin" >"$out/test.log" 2>&1 || { cat "$out/test.log"; echo "nhrp-engine failed" >&2; exit 1; }

fail() { echo "$*" >&2; exit 1; }

# Malformed or error-level expert items anywhere (nested packets included).
bad=$(tshark -r "$pcap" -Y '_ws.malformed || _ws.expert.severity >= error' -T fields -e frame.number 2>/dev/null | count)
[ "$bad" -eq 0 ] || { tshark -r "$pcap" -Y '_ws.malformed || _ws.expert.severity >= error' -V 2>/dev/null | head -80; fail "$bad frames malformed or in error"; }

# One pass for the fields; a field repeated in a frame (nested packets,
# several CIEs) comes comma-separated, the outer packet's first.
tshark -r "$pcap" -T fields -E separator=/t -E occurrence=a \
    -e gre.proto -e nhrp.hdr.op.type -e nhrp.hdr.version -e nhrp.hdr.afn -e nhrp.hdr.pro.type \
    -e nhrp.hdr.chksum.status -e nhrp.code -e nhrp.err.code -e nhrp.auth_ext.spi \
    -e nhrp.prefix -e nhrp.client.nbma.addr -e nhrp.flag.u -e nhrp.htime -e ip.dst \
    -e nhrp.src.prot.addr 2>/dev/null >"$out/fields.tsv"

awk -F'\t' '
function first(v) { sub(/,.*/, "", v); return v }
function has(list, v,   a, i, k) { k = split(list, a, ","); for (i = 1; i <= k; i++) if (a[i] == v) return 1; return 0 }
{
    total++
    if ($1 != "0x2001" || $2 == "") { print "frame " NR ": not NHRP over GRE" > "/dev/stderr"; err++ }
    t = first($2); types[t]++
    if (first($3) != 1 || first($4) != "0x0001" || first($5) != "0x0800") { print "frame " NR ": header values " $3 " " $4 " " $5 > "/dev/stderr"; err++ }
    if (has($6, 0) || first($6) != 1) { print "frame " NR ": checksum status " $6 > "/dev/stderr"; err++ }
    if (t == 4 && has($7, 14)) conflict++
    if (t == 2 && first($7) == 0 && has($10, 24) && has($11, "172.16.2.1")) reply24++
    if (t == 7) { errs[first($8)]++ }
    if (has($9, 1)) auth++
    if (t == 3 && first($12) == 1 && has($13, 7200)) unique++
    if (t == 8 && has($14, "192.168.2.10") && first($15) == "10.0.0.254") tind++
}
END {
    printf "%d frames, all NHRP over GRE 0x2001:", total
    for (t = 1; t <= 8; t++) printf " type%d=%d", t, types[t]
    printf "\n"
    for (t = 1; t <= 8; t++) if (!types[t]) { print "no NHRP packet of type " t > "/dev/stderr"; err++ }
    if (!conflict) { print "no registration refused with CIE code 14" > "/dev/stderr"; err++ }
    if (!reply24) { print "no resolution reply for a /24 from 172.16.2.1" > "/dev/stderr"; err++ }
    split("1 3 11 15", want, " ")
    for (i in want) if (!errs[want[i]]) { print "no error indication with code " want[i] > "/dev/stderr"; err++ }
    if (!auth) { print "no cleartext authentication extension (SPI 1)" > "/dev/stderr"; err++ }
    if (!unique) { print "no unique registration with holding time 7200" > "/dev/stderr"; err++ }
    if (!tind) { print "no traffic indication from the hub carrying the data packet" > "/dev/stderr"; err++ }
    if (total == 0) err++
    exit err ? 1 : 0
}' "$out/fields.tsv" || fail "nhrp-wireshark: checks failed (fields in $out/fields.tsv)"
echo "nhrp-wireshark: every packet decodes, nothing malformed, field values as expected"
