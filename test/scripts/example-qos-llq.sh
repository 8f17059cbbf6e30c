#!/bin/sh
# qos-llq end to end: the example writes its summary, CSV and two non-empty
# PNG plots; with the LLQ policy EF voice meets the 150 ms budget at a p99
# far below the FIFO run's, and class-default drops bulk TCP; the
# access-link trace decodes as RTP (PT 0 and 18 marked EF, PT 96 marked
# AF41) with nothing malformed.
# Usage: example-qos-llq.sh EXAMPLE_BINARY WORK_DIR
set -eu
. "$(dirname "$0")/trace-checks.sh"
bin=$1 work=$2
need_tshark
rm -rf "$work"
mkdir -p "$work"
fail() { echo "$*" >&2; exit 1; }

"$bin" --out="$work" --duration=8 >"$work/stdout.txt" || fail "qos-llq failed"
for f in summary.txt summary.json qos.csv delay-cdf.png p99-budget.png show-policy-map.txt \
    ce-config.txt llq-access-1-1.pcap fifo-access-1-1.pcap; do
    [ -s "$work/$f" ] || fail "missing output $f"
done
for f in delay-cdf.png p99-budget.png; do
    [ "$(head -c 4 "$work/$f" | od -An -tx1 | tr -d ' ')" = "89504e47" ] || fail "$f is not a PNG"
done
# Per class rows: design,class -> p99 (column 11) and verdict (17).
p99() { awk -F, -v d="$1" -v c="$2" '$1 == "class" && $2 == d && $4 == c { print $11 }' "$work/qos.csv"; }
llq=$(p99 llq EF) fifo=$(p99 fifo EF) be=$(p99 llq BE)
[ -n "$llq" ] && [ -n "$fifo" ] && [ -n "$be" ] || fail "qos.csv lacks class rows"
awk -v a="$llq" -v b="$fifo" 'BEGIN { exit !(a < 40 && b > 2 * a) }' ||
    fail "EF p99 llq $llq ms, fifo $fifo ms: LLQ did not protect voice"
grep -q '(queue depth/total drops/no-buffer drops) [0-9]*/[1-9][0-9]*/0' "$work/show-policy-map.txt" ||
    fail "class-default never dropped: the bulk TCP did not load the link"
grep -q '^class,llq,,EF,.*,within$' "$work/qos.csv" || fail "llq EF not within its budget"
grep -q '"mos": 4\.' "$work/summary.json" || fail "no MOS for voice in summary.json"
grep -q 'Class-map: VOICE (match-any)' "$work/show-policy-map.txt" || fail "show policy-map"
# The trace: RTP with its DSCP, nothing malformed.
pc=$work/llq-access-1-1.pcap
rtp() { tshark -r "$pc" -d udp.port==16384,rtp -Y "$1" 2>/dev/null | count; }
[ "$(rtp 'rtp.p_type == 0 && ip.dsfield.dscp == 46')" -gt 250 ] || fail "no G.711 RTP marked EF"
[ "$(rtp 'rtp.p_type == 18 && ip.dsfield.dscp == 46')" -gt 250 ] || fail "no G.729 RTP marked EF"
[ "$(rtp 'rtp.p_type == 96 && ip.dsfield.dscp == 34 && rtp.marker == 1')" -gt 100 ] || fail "no AF41 video frames"
[ "$(rtp '_ws.malformed || _ws.expert.severity >= error')" -eq 0 ] || fail "malformed frames in $pc"
echo "qos-llq: EF p99 $llq ms with LLQ, $fifo ms without; BE $be ms"
