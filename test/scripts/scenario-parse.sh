#!/bin/sh
# Scenario files (vpn-scenario): every key read back as written, every
# default filled in (--check prints the scenario), --set overrides, and a
# table of broken files each answered with the right "FILE:LINE: message",
# exit status 2 and no output folder.
# Usage: scenario-parse.sh VPN_SCENARIO_BINARY SOURCE_DIR WORK_DIR
set -eu
bin=$1 src=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
cfg=$(cd "$src" && pwd)/scenarios/flexvpn-l2l-static
fail=0

# --- defaults: only what is required --------------------------------------
mkdir -p "$work/min"
cat >"$work/min/scenario.ini" <<INI
[scenario]
[node a]
role = host
[node b]
role = host
[link l]
ends = a b
addresses = 10.0.0.1/24 10.0.0.2/24
[flow f]
profile = voice-g729
from = a
to = b
[event e]
at = 3
action = link-down
target = l
INI
"$bin" "$work/min" --check >"$work/min.out"
cat >"$work/min.want" <<'WANT'
[scenario]
title = min
duration = 20
budget = 150
pcap = all
routing = static
[provider]
type = ip
php = true
ttl = uniform
core-mtu = 1600
loopbacks = 10.255.0.0
core-network = 10.0.0.0
[node a]
role = host
config = 
initiate = false
start = 0.1
gateway = 
[node b]
role = host
config = 
initiate = false
start = 0.1
gateway = 
[link l]
ends = a b
type = p2p
addresses = 10.0.0.1/24 10.0.0.2/24
interfaces = - -
rate = 100Mbps
delay = 1ms
mtu = 1500
loss = 0
queue = 100p
vrf = 
prefixes =
[flow f]
profile = voice-g729
from = a
to = b
dscp = 46
start = 1
stop = 20
[event e]
at = 3
action = link-down
target = l
WANT
if diff -u "$work/min.want" "$work/min.out"; then echo "defaults: ok"; else echo "defaults differ" >&2; fail=1; fi

# --- every key given ------------------------------------------------------
mkdir -p "$work/full"
cat >"$work/full/scenario.ini" <<INI
# comment
[scenario]
title = Full house
duration = 30
budget = 100
pcap = wan
routing = global

[node h1]
role = host
gateway = 10.1.0.1
[node HUB1]
role = router
config = $cfg/HUB1.cfg
initiate = false
start = 0.2
[node SPOKE1]
role = router
config = $cfg/SPOKE1.cfg
initiate = true
start = 0.7
[node h2]
role = host
gateway = 10.2.0.1
[node h3]
role = host
gateway = 10.2.0.1

[link lan1]
ends = HUB1 h1
type = p2p
addresses = 10.1.0.1/24 10.1.0.2/24
interfaces = GigabitEthernet0/1 -
rate = 1Gbps
delay = 50us
mtu = 1400
loss = 0.01
queue = 50p
[link wan]
ends = HUB1 SPOKE1
addresses = 198.51.100.1/30 198.51.100.2/30
rate = 2.5Mbps
delay = 30ms
[link lan2]
ends = SPOKE1 h2 h3
type = csma
addresses = 10.2.0.1/24 10.2.0.2/24 10.2.0.3/24

[flow v]
profile = voice-g711
from = h1
to = h2
dscp = af41
start = 5
stop = 25
[flow t]
profile = bulk-tcp
from = h3
to = h1
dscp = 10
start = 2
stop = 28
[event down]
at = 12.5
action = link-down
target = wan
[event up]
at = 14
action = link-up
target = wan
[event stop]
at = 20
action = node-stop
target = HUB1
INI
"$bin" "$work/full" --check >"$work/full.out"
cat >"$work/full.want" <<WANT
[scenario]
title = Full house
duration = 30
budget = 100
pcap = wan
routing = global
[provider]
type = ip
php = true
ttl = uniform
core-mtu = 1600
loopbacks = 10.255.0.0
core-network = 10.0.0.0
[node h1]
role = host
config = 
initiate = false
start = 0.1
gateway = 10.1.0.1
[node HUB1]
role = router
config = $cfg/HUB1.cfg
initiate = false
start = 0.2
gateway = 
[node SPOKE1]
role = router
config = $cfg/SPOKE1.cfg
initiate = true
start = 0.7
gateway = 
[node h2]
role = host
config = 
initiate = false
start = 0.1
gateway = 10.2.0.1
[node h3]
role = host
config = 
initiate = false
start = 0.1
gateway = 10.2.0.1
[link lan1]
ends = HUB1 h1
type = p2p
addresses = 10.1.0.1/24 10.1.0.2/24
interfaces = GigabitEthernet0/1 -
rate = 1Gbps
delay = 50us
mtu = 1400
loss = 0.01
queue = 50p
vrf = 
prefixes =
[link wan]
ends = HUB1 SPOKE1
type = p2p
addresses = 198.51.100.1/30 198.51.100.2/30
interfaces = - -
rate = 2.5Mbps
delay = 30ms
mtu = 1500
loss = 0
queue = 100p
vrf = 
prefixes =
[link lan2]
ends = SPOKE1 h2 h3
type = csma
addresses = 10.2.0.1/24 10.2.0.2/24 10.2.0.3/24
interfaces = - - -
rate = 100Mbps
delay = 1ms
mtu = 1500
loss = 0
queue = 100p
vrf = 
prefixes =
[flow v]
profile = voice-g711
from = h1
to = h2
dscp = 34
start = 5
stop = 25
[flow t]
profile = bulk-tcp
from = h3
to = h1
dscp = 10
start = 2
stop = 28
[event down]
at = 12.5
action = link-down
target = wan
[event up]
at = 14
action = link-up
target = wan
[event stop]
at = 20
action = node-stop
target = HUB1
WANT
if diff -u "$work/full.want" "$work/full.out"; then echo "every key: ok"; else echo "every key: differs" >&2; fail=1; fi

# --- --set overrides a key ------------------------------------------------
"$bin" "$work/full" --check --set link.wan.delay=45ms --set scenario.duration=40 >"$work/set.out"
grep -A6 '^\[link wan\]' "$work/set.out" | grep -qx 'delay = 45ms' &&
    grep -qx 'duration = 40' "$work/set.out" && echo "--set: ok" || { echo "--set not applied" >&2; fail=1; }

# --- broken files ----------------------------------------------------------
# Each case: a sed expression applied to full/scenario.ini (or a file of its
# own), the expected LOCATION (line number, or the --set key) and message.
n=0
broken() {
    n=$((n + 1))
    expr=$1 where=$2 msg=$3
    shift 3
    d=$work/bad$n
    mkdir -p "$d"
    sed "$expr" "$work/full/scenario.ini" >"$d/scenario.ini"
    out=$work/bad$n-out
    set +e
    "$bin" "$d" --out="$out" "$@" >"$d/stdout" 2>"$d/stderr"
    rc=$?
    set -e
    case $where in
        --set*) want="$where: $msg" ;;
        *) want="$d/scenario.ini:$where: $msg" ;;
    esac
    if [ $rc -ne 2 ]; then
        echo "broken $n ($expr): exit $rc, wanted 2" >&2; cat "$d/stderr" >&2; fail=1
    elif ! grep -qF -- "$want" "$d/stderr"; then
        echo "broken $n ($expr): wanted '$want', got:" >&2; cat "$d/stderr" >&2; fail=1
    elif [ -e "$out" ]; then
        echo "broken $n: output folder written" >&2; fail=1
    else
        echo "broken $n: $(cat "$d/stderr")"
    fi
}
broken 's/^duration = 30/duration = soon/' 4 "duration 'soon': a number from"
broken 's/^duration = 30/duration = -1/' 4 "duration '-1': a number from"
broken 's/^routing = global/routing = ospf/' 7 "routing 'ospf' is not one of static, global"
broken 's/^\[node h1\]/[nod h1]/' 9 "unknown section '[nod h1]'"
broken 's/^\[node h1\]/[node h1/' 9 "a section header ends with ']'"
broken 's/^\[node h1\]/[node]/' 9 "[node NAME] takes one name"
broken 's/^\[node h2\]/[node h1]/' 22 "[node h1] again (first on line 9)"
broken 's/^gateway = 10.1.0.1/gatway = 10.1.0.1/' 11 "unknown key 'gatway' in [node h1]"
broken 's/^gateway = 10.1.0.1/gateway = 10.1.0.300/' 11 "gateway '10.1.0.300' is not an IPv4 address"
broken '11a gateway = 10.1.0.9' 12 "'gateway' again in [node h1] (first on line 11)"
broken 's/^role = host/role = server/' 10 "role 'server' is not one of host, router"
broken '/^role = router/{n;s/^config = .*/config = nowhere.cfg/}' 14 "cannot read"
broken 's/^initiate = false/initiate = maybe/' 15 "initiate 'maybe': true or false is needed"
broken '0,/^role = host/{/^role = host/a initiate = true
}' 11 "initiate is for FlexVPN routers"
broken 's/^ends = HUB1 h1/ends = HUB1 h9/' 30 "no [node h9]"
broken 's/^ends = HUB1 h1/ends = HUB1/' 30 "a link needs ends = NODE NODE"
broken 's/^ends = HUB1 h1/ends = HUB1 HUB1/' 30 "HUB1 twice on one link"
broken 's/^type = p2p/type = wifi/' 31 "type 'wifi' is not one of p2p, csma"
broken 's/^addresses = 10.1.0.1\/24 10.1.0.2\/24/addresses = 10.1.0.1\/24/' 32 "one address per end (2)"
broken 's/^addresses = 10.1.0.1\/24 10.1.0.2\/24/addresses = 10.1.0.1 10.1.0.2\/24/' 32 "'10.1.0.1' is not ADDRESS/LENGTH"
broken 's/^rate = 1Gbps/rate = fast/' 34 "rate 'fast': a rate such as 10Mbps is needed"
broken 's/^delay = 50us/delay = 50/' 35 "delay '50': a delay such as 20ms is needed"
broken 's/^mtu = 1400/mtu = 100000/' 36 "mtu '100000': a number from 576 to 9000"
broken 's/^loss = 0.01/loss = 2/' 37 "loss '2': a number from 0 to 1"
broken 's/^queue = 50p/queue = 50/' 38 "queue '50': a queue size in packets"
broken 's/^type = csma/type = p2p/' 46 "a p2p link has two ends"
broken 's/^profile = voice-g711/profile = voice-opus/' 50 "profile 'voice-opus' is not one of"
broken 's/^to = h2/to = h7/' 52 "no [node h7]"
broken 's/^dscp = af41/dscp = 99/' 53 "dscp '99': a number from 0 to 63"
broken 's/^stop = 25/stop = 4/' 55 "a flow stops after it starts"
broken 's/^stop = 25/stop = 31/' 55 "stop '31': a number from 0 to 30"
broken 's/^at = 12.5/at = later/' 64 "at 'later': a number from"
broken 's/^action = link-down/action = explode/' 65 "action 'explode' is not one of"
broken 's/^target = wan/target = wan2/' 66 "link-down needs target = LINK; no [link wan2]"
broken 's/^target = HUB1/target = h1/' 74 "node-stop stops a router's VPN daemon; h1 is a host"
broken 's/^pcap = wan/pcap = wan9/' 6 "pcap names no [link wan9]"
broken 's/^title = Full house/title = x\nwhat is this/' 4 "expected '[section]' or 'key = value', not 'what is this'"
broken '/^\[node h1\]/i [node x]' 9 "[node x] needs role (host, router"
broken 's/^delay = 30ms/delay = 30ms/' "--set link.wan.delay" "delay 'slow': a delay such as 20ms" --set link.wan.delay=slow
broken 's/^delay = 30ms/delay = 30ms/' "--set link.lan9.delay=1ms" "the scenario has no [link lan9]" --set link.lan9.delay=1ms
broken 's/^delay = 30ms/delay = 30ms/' "--set link.wan.colour=red" "unknown key 'colour' in [link wan]" --set link.wan.colour=red
broken 's/^config = .*HUB1.cfg/config = HUB1.cfg/' 14 "cannot read"
# Router configurations: the configuration's own file and line.
cfgcase() {
    n=$((n + 1))
    file=$1 line=$2 text=$3 msg=$4
    d=$work/bad$n
    mkdir -p "$d"
    cp "$cfg/HUB1.cfg" "$cfg/SPOKE1.cfg" "$d/"
    sed -i "${line}s/.*/$text/" "$d/$file"
    sed "s|^config = .*/\(.*\.cfg\)|config = \1|" "$work/full/scenario.ini" >"$d/scenario.ini"
    set +e
    "$bin" "$d" --out="$work/bad$n-out" >"$d/stdout" 2>"$d/stderr"
    rc=$?
    set -e
    want="$d/$file:$line: $msg"
    if [ $rc -ne 2 ] || ! grep -qF -- "$want" "$d/stderr" || [ -e "$work/bad$n-out" ]; then
        echo "config case $n: exit $rc, wanted 2 and '$want', got:" >&2; cat "$d/stderr" >&2; fail=1
    else
        echo "config case $n: $(cat "$d/stderr")"
    fi
}
cfgcase HUB1.cfg 4 " encryption aes-cbc-999" "'aes-cbc-999' is not supported"
cfgcase SPOKE1.cfg 45 "ip route 10.9.0.0 255.255.255.0 203.0.113.9" "next hop 203.0.113.9 is on no connected subnet"
# Provider and GET VPN scenarios (scenarios/getvpn-mpls): the same table.
gv=$(cd "$src" && pwd)/scenarios/getvpn-mpls
gbroken() {
    n=$((n + 1))
    file=$1 expr=$2 where=$3 msg=$4
    d=$work/bad$n
    mkdir -p "$d"
    cp "$gv"/* "$d/"
    sed -i "$expr" "$d/$file"
    set +e
    "$bin" "$d" --out="$work/bad$n-out" >"$d/stdout" 2>"$d/stderr"
    rc=$?
    set -e
    want="$d/$file:$where: $msg"
    if [ $rc -ne 2 ] || ! grep -qF -- "$want" "$d/stderr" || [ -e "$work/bad$n-out" ]; then
        echo "provider case $n ($file: $expr): exit $rc, wanted 2 and '$want', got:" >&2; cat "$d/stderr" >&2; fail=1
    else
        echo "provider case $n: $(cat "$d/stderr")"
    fi
}
gbroken scenario.ini '/^\[provider\]/,/^core-network/d' 19 "a provider router needs a [provider] section"
gbroken scenario.ini '83d' 79 "a link to a PE needs vrf = NAME"
gbroken scenario.ini 's/^addresses = - 192.0.2.2\/30/addresses = - 192.0.2.1\/30/' 81 "a PE-CE link is a /30: the PE is .1 (write -), the CE .2"
gbroken scenario.ini 's/^addresses = - 10.0.0.2\/24/addresses = 10.0.0.1\/24 10.0.0.2\/24/' 113 "HQ takes its addresses from HQ.cfg: write - for it"
gbroken scenario.ini 's/^interfaces = GigabitEthernet0\/1 -/interfaces = - -/' 114 "HQ needs the name of its interface in HQ.cfg"
gbroken scenario.ini '62a addresses = 10.9.9.1/30 10.9.9.2/30' 63 "a provider core link takes no addresses"
gbroken scenario.ini '62a mtu = 1500' 63 "MplsProviderHelper sets a provider link's mtu"
gbroken scenario.ini 's/^target = KS1/target = HQ/' 150 "rekey is for a key server (crypto gdoi ks rekey) or a FlexVPN router (its CHILD_SAs); HQ is a group-member"
gbroken scenario.ini '150a [event cut]\nat = 5\naction = link-down\ntarget = p1-p2' 154 "link-down of an MPLS core link is not supported yet"
# a GET VPN configuration error: the configuration's own file and line
gbroken HQ.cfg 's/^ encryption aes 256/ encryption aes 999/' 3 "999 is out of range"
gbroken HQ.cfg 's/^ crypto map GETVPN-MAP/ crypto map NOPE/' 15 "interface GigabitEthernet0/0: crypto map NOPE is not defined"
exit $fail
