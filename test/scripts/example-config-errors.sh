#!/bin/sh
# A broken router configuration given to an example (--configDir) is answered
# with "FILE:LINE: message" on standard error, exit status 2, no abort and no
# output folder. One case per row: file, line number to replace (0: append),
# replacement text, expected line number, expected message.
# Usage: example-config-errors.sh EXAMPLE_BINARY SCENARIO_DIR WORK_DIR
set -eu
bin=$1 src=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
n=0
fail=0
check() {
    file=$1 at=$2 text=$3 want_line=$4 want_msg=$5
    n=$((n + 1))
    cfg=$work/cfg$n
    mkdir -p "$cfg"
    cp "$src/HUB1.cfg" "$src/SPOKE1.cfg" "$cfg/"
    if [ "$at" = 0 ]; then
        sed -i "/^end\$/i $text" "$cfg/$file"
    else
        sed -i "${at}s/.*/$text/" "$cfg/$file"
    fi
    out=$work/out$n
    set +e
    "$bin" --configDir="$cfg" --out="$out" --duration=1 >"$work/stdout$n" 2>"$work/stderr$n"
    rc=$?
    set -e
    want="$cfg/$file:$want_line: $want_msg"
    if [ $rc -ne 2 ]; then
        echo "case $n ($file:$at '$text'): exit status $rc, wanted 2" >&2; fail=1
    elif ! grep -qF "$want" "$work/stderr$n"; then
        echo "case $n: wanted '$want' on stderr, got:" >&2; cat "$work/stderr$n" >&2; fail=1
    elif [ -e "$out" ]; then
        echo "case $n: the output folder was created:" >&2; find "$out" >&2; fail=1
    else
        echo "case $n: $(cat "$work/stderr$n")"
    fi
}
check HUB1.cfg 4 " encryption aes-cbc-999" 4 "'aes-cbc-999' is not supported"
check SPOKE1.cfg 4 " encryption aes-cbc-999" 4 "'aes-cbc-999' is not supported"
check HUB1.cfg 3 "crypto ikev2 proposal" 3 "unknown 'crypto ikev2' command"
check SPOKE1.cfg 0 "frobnicate now" 46 "unknown command 'frobnicate'"
# refused by FlexVpnHelper::Check against the node (the parser accepts them)
check HUB1.cfg 0 "ip route 10.9.0.0 255.255.255.0 203.0.113.9" 45 "next hop 203.0.113.9 is on no connected subnet"
check HUB1.cfg 35 " ip address 10.7.0.1 255.255.255.0" 33 "interface GigabitEthernet0/1 address 10.7.0.1 is on no interface of the node"
check HUB1.cfg 41 " tunnel protection ipsec profile NOPE" 36 "interface Tunnel0: ipsec profile NOPE is not defined"
exit $fail
