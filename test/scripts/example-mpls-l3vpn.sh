#!/bin/sh
# mpls-l3vpn end to end, checked with tshark: every core-link frame is MPLS
# and decodes with nothing malformed; PE1 -> P1 carries transport + VPN
# labels with EXP 5 for the EF flow and RFC 3443 TTLs; the last hop into
# PE3 carries the VPN label alone (PHP) or explicit-null over it; PE-CE
# links carry plain IPv4; every flow arrives, in its own VRF, and the
# multicast group reaches its two subscribers only.
# Usage: example-mpls-l3vpn.sh EXAMPLE_BINARY WORK_DIR
set -eu
. "$(dirname "$0")/trace-checks.sh"
bin=$1 work=$2
need_tshark
rm -rf "$work"
mkdir -p "$work"

fail() { echo "$*" >&2; exit 1; }
fields() { # PCAP FILTER FIELD...
    f=$1 y=$2; shift 2
    args=""
    for e in "$@"; do args="$args -e $e"; done
    # shellcheck disable=SC2086
    tshark -r "$f" -Y "$y" -T fields $args 2>/dev/null
}

run() { # NAME ARGS...
    name=$1; shift
    out=$work/$name
    "$bin" --out="$out" --packets=20 "$@" >"$work/$name.txt"
    for f in core-PE1-P1.pcap core-P1-P2.pcap core-P2-PE3.pcap core-PE2-P1.pcap core-PE2-P2.pcap \
        ce-PE1-site0.pcap ce-PE3-site2.pcap show-mpls-PE1.txt show-mpls-P1.txt show-mpls-P2.txt \
        show-mpls-PE3.txt summary.txt summary.json; do
        [ -s "$out/$f" ] || fail "$name: missing output $f"
    done
    # One tshark pass per capture: what is malformed or in error, and (core)
    # what is not labelled; the PHP run checks every capture, the others
    # the core links.
    for f in "$out"/core-*.pcap; do
        total=$(tshark -r "$f" 2>/dev/null | count)
        bad=$(tshark -r "$f" -Y '_ws.malformed || _ws.expert.severity >= error || !mpls.label' 2>/dev/null | count)
        [ "$total" -gt 0 ] && [ "$bad" -eq 0 ] || fail "$name: $f: $bad of $total frames malformed or unlabelled"
    done
    if [ "$name" = php ]; then
        for f in "$out"/ce-*.pcap; do
            bad=$(tshark -r "$f" -Y '_ws.malformed || _ws.expert.severity >= error || mpls' 2>/dev/null | count)
            [ "$bad" -eq 0 ] || fail "$name: $f: $bad frames malformed or labelled on a PE-CE link"
        done
    fi
    [ "$(fields "$out/ce-PE1-site0.pcap" 'ip && udp' frame.number | count)" -gt 0 ] || fail "$name: no IPv4 on the PE1-CE link"
    for k in A1_to_A2 B1_to_B2 A3_to_A1; do
        grep -q "\"${k}_sent\": 20" "$out/summary.json" || fail "$name: $k not sent"
        grep -q "\"${k}_received\": 20" "$out/summary.json" || fail "$name: $k not delivered in full"
    done
    grep -q '"A1_to_A2_received_at_CE-A2": 20' "$out/summary.json" || fail "$name: A's flow not at CE-A2"
    grep -q '"B1_to_B2_received_at_CE-B2": 20' "$out/summary.json" || fail "$name: B's flow not at CE-B2"
    grep -q '"A2_to_239_1_1_1_received_at_CE-A1": 20' "$out/summary.json" || fail "$name: multicast not at CE-A1"
    grep -q '"A2_to_239_1_1_1_received_at_CE-A3": 20' "$out/summary.json" || fail "$name: multicast not at CE-A3"
    ! grep -q 'received_at_CE-A4' "$out/summary.json" || fail "$name: multicast reached CE-A4, not a subscriber"
    grep -q "Local      Outgoing   Prefix           Bytes Label   Outgoing   Next Hop" "$out/show-mpls-P1.txt" ||
        fail "$name: show mpls forwarding-table header missing"
}

# The EF flow A1 -> A2 on its first core hop: two labels, EXP 5 on both.
check_first_hop() { # OUT WANT_TTLS
    fields "$1/core-PE1-P1.pcap" 'ip.dst == 192.168.2.2 && ip.dsfield.dscp == 46' mpls.label mpls.exp mpls.bottom mpls.ttl \
        >"$work/first-hop.txt"
    [ "$(count <"$work/first-hop.txt")" -eq 20 ] || fail "EF flow: not 20 frames PE1 -> P1"
    awk -F'\t' -v ttl="$2" '$1 !~ /^[0-9]+,[0-9]+$/ || $2 != "5,5" || $3 != "0,1" || $4 != ttl { bad++ }
        END { exit bad > 0 }' "$work/first-hop.txt" || { cat "$work/first-hop.txt" >&2; fail "EF flow: stack, EXP or TTL wrong PE1 -> P1"; }
    echo "PE1 -> P1: transport + VPN labels, EXP 5, TTL $2"
}

# The same flow into PE3: PHP leaves the VPN label, else explicit-null over it.
check_last_hop() { # OUT php|explicit-null
    vpn=$(fields "$1/core-PE1-P1.pcap" 'ip.dst == 192.168.2.2 && ip.dsfield.dscp == 46' mpls.label | head -1 | cut -d, -f2)
    fields "$1/core-P2-PE3.pcap" 'ip.dst == 192.168.2.2 && ip.dsfield.dscp == 46' mpls.label mpls.exp | sort -u >"$work/last-hop.txt"
    if [ "$2" = php ]; then want="$vpn	5"; else want="0,$vpn	5,5"; fi
    [ "$(cat "$work/last-hop.txt")" = "$want" ] || { cat "$work/last-hop.txt" >&2; fail "P2 -> PE3: want '$want'"; }
    echo "P2 -> PE3 ($2): labels $(cut -f1 "$work/last-hop.txt")"
}

run php
check_first_hop "$work/php" 63,63
check_last_hop "$work/php" php
grep -q "Pop Label" "$work/php/show-mpls-P2.txt" || fail "P2 shows no Pop Label with PHP"

run explicit-null --php=false
check_last_hop "$work/explicit-null" explicit-null
grep -q "explicit-n" "$work/explicit-null/show-mpls-P2.txt" || fail "P2 shows no explicit-null"

run pipe --ttl=pipe
check_first_hop "$work/pipe" 255,255

# Bad options get a clear error.
if err=$("$bin" --out="$work/x" --ttl=sideways 2>&1); then fail "bad --ttl accepted"; fi
echo "$err" | grep -q "ttl must be uniform or pipe" || fail "unclear error: $err"
echo "mpls-l3vpn: core pcaps decode as MPLS, stacks/EXP/TTL as configured, VRFs apart"
