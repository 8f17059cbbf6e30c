# Shared tshark checks of an example's output folder, sourced by the
# example tests. Each function fails the test (exit 1) with a message.

need_tshark() {
    command -v tshark >/dev/null || { echo "tshark is missing (apt-get install tshark)" >&2; exit 1; }
}

# tshark with the output folder's key files and ESP decryption on.
ts_keys() { # OUT ARGS...
    d=$1; shift
    XDG_CONFIG_HOME=$d tshark -o esp.enable_encryption_decode:TRUE "$@" 2>/dev/null
}

count() { wc -l | tr -d ' '; }

# Without keys the WAN shows only ESP and IKE (UDP 500/4500): no inner packet.
check_wan_protected() { # PCAP
    total=$(tshark -r "$1" -T fields -e frame.number 2>/dev/null | count)
    esp=$(tshark -r "$1" -Y esp -T fields -e frame.number 2>/dev/null | count)
    ike=$(tshark -r "$1" -Y 'isakmp' -T fields -e frame.number 2>/dev/null | count)
    echo "WAN: $total frames: $esp ESP, $ike IKE"
    [ "$total" -gt 0 ] && [ "$total" -eq $((esp + ike)) ] || { echo "WAN carries something besides ESP and IKE" >&2; exit 1; }
}

# With the keys every ESP frame decrypts to an inner UDP packet and nothing
# is malformed or flagged as an error.
check_decrypts() { # OUT PCAP
    esp=$(tshark -r "$2" -Y esp -T fields -e frame.number 2>/dev/null | count)
    bad=$(ts_keys "$1" -r "$2" -Y '_ws.malformed || _ws.expert.severity >= error' -T fields -e frame.number | count)
    dec=$(ts_keys "$1" -r "$2" -Y 'esp && udp' -T fields -e frame.number | count)
    echo "with keys: $dec of $esp ESP frames decrypt to UDP; $bad malformed or in error"
    [ "$bad" -eq 0 ] || { echo "malformed packets in $2" >&2; exit 1; }
    [ "$esp" -gt 0 ] && [ "$dec" -eq "$esp" ] || { echo "not every ESP packet decrypted" >&2; exit 1; }
}

# The decrypted inner payloads to PORT equal the LAN capture's, in order.
check_payloads_match() { # OUT WAN_PCAP LAN_PCAP PORT WORK
    ts_keys "$1" -r "$2" -Y "esp && udp.dstport == $4" -T fields -e data.data >"$5/wan-payloads.txt"
    tshark -r "$3" -Y "udp.dstport == $4" -T fields -e data.data 2>/dev/null >"$5/lan-payloads.txt"
    [ -s "$5/lan-payloads.txt" ] && cmp -s "$5/wan-payloads.txt" "$5/lan-payloads.txt" || { echo "decrypted payloads differ from the LAN's" >&2; exit 1; }
    echo "decrypted payloads match the LAN capture ($(count <"$5/lan-payloads.txt") packets)"
}

# Two output folders of identical runs hold identical files.
check_identical() { # DIR_A DIR_B FILES...
    a=$1 b=$2; shift 2
    for f in "$@"; do
        cmp -s "$a/$f" "$b/$f" || { echo "$f differs between two identical runs" >&2; exit 1; }
    done
    echo "two runs are byte-identical ($*)"
}
