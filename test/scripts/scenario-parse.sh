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
join-spread = 0
gateway = 
[node b]
role = host
config = 
initiate = false
start = 0.1
join-spread = 0
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
group = 
dscp = 46
start = 1
stop = 20
[event e]
at = 3
action = link-down
target = l
peer = 
sa = 
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
[event start]
at = 22
action = node-start
target = HUB1
[event clear]
at = 24
action = clear-crypto-session
target = SPOKE1
peer = 198.51.100.1
[event rekey]
at = 26
action = rekey
target = SPOKE1
sa = ike
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
join-spread = 0
gateway = 10.1.0.1
[node HUB1]
role = router
config = $cfg/HUB1.cfg
initiate = false
start = 0.2
join-spread = 0
gateway = 
[node SPOKE1]
role = router
config = $cfg/SPOKE1.cfg
initiate = true
start = 0.7
join-spread = 0
gateway = 
[node h2]
role = host
config = 
initiate = false
start = 0.1
join-spread = 0
gateway = 10.2.0.1
[node h3]
role = host
config = 
initiate = false
start = 0.1
join-spread = 0
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
group = 
dscp = 34
start = 5
stop = 25
[flow t]
profile = bulk-tcp
from = h3
to = h1
group = 
dscp = 10
start = 2
stop = 28
[event down]
at = 12.5
action = link-down
target = wan
peer = 
sa = 
[event up]
at = 14
action = link-up
target = wan
peer = 
sa = 
[event stop]
at = 20
action = node-stop
target = HUB1
peer = 
sa = 
[event start]
at = 22
action = node-start
target = HUB1
peer = 
sa = 
[event clear]
at = 24
action = clear-crypto-session
target = SPOKE1
peer = 198.51.100.1
sa = 
[event rekey]
at = 26
action = rekey
target = SPOKE1
peer = 
sa = ike
WANT
if diff -u "$work/full.want" "$work/full.out"; then echo "every key: ok"; else echo "every key: differs" >&2; fail=1; fi

# --- --set overrides a key ------------------------------------------------
"$bin" "$work/full" --check --set link.wan.delay=45ms --set scenario.duration=40 >"$work/set.out"
grep -A6 '^\[link wan\]' "$work/set.out" | grep -qx 'delay = 45ms' &&
    grep -qx 'duration = 40' "$work/set.out" && echo "--set: ok" || { echo "--set not applied" >&2; fail=1; }

# --- a remote-access client: it initiates, join-spread read back ----------
"$bin" "$src/scenarios/flexvpn-remote-access" --check >"$work/ra.out"
if sed -n '/^\[node USER1\]/,/^gateway/p' "$work/ra.out" | sed 1d | paste -sd' ' |
    grep -qx 'role = client config = USER1.cfg initiate = true start = 0.5 join-spread = 4 gateway = ' &&
    sed -n '/^\[node HUB\]/,/^gateway/p' "$work/ra.out" | grep -qx 'join-spread = 0'; then
    echo "client: ok"
else
    echo "client: not read back" >&2; sed -n '/^\[node USER1\]/,/^gateway/p' "$work/ra.out" >&2; fail=1
fi

# --- broken files ----------------------------------------------------------
# One row per case, fields separated by " | ": the scenario the case starts
# from (full: full/scenario.ini above, its configurations by absolute path;
# cfg: the same with HUB1.cfg and SPOKE1.cfg copied beside it; gv:
# scenarios/getvpn-mpls), the file the sed expression edits (- for none),
# the expected LOCATION (line, or the --set key) and message, and extra
# arguments. Each must exit 2 with "FILE:LINE: message" and write no output.
gv=$(cd "$src" && pwd)/scenarios/getvpn-mpls
gm=$(cd "$src" && pwd)/scenarios/getvpn-multicast
mk=$(cd "$src" && pwd)/scenarios/ipsec-manual-l2l
ra=$(cd "$src" && pwd)/scenarios/flexvpn-remote-access
n=0
while IFS= read -r row; do
    case $row in '' | '#'*) continue ;; esac
    field() { printf '%s\n' "$row" | awk -F' [|] ' -v i="$1" '{ sub(/^[ \t]+/, "", $i); sub(/[ \t]+$/, "", $i); print $i }'; }
    base=$(field 1) file=$(field 2) expr=$(field 3) where=$(field 4) msg=$(field 5) args=$(field 6)
    n=$((n + 1))
    d=$work/bad$n
    mkdir -p "$d"
    case $base in
        full) cp "$work/full/scenario.ini" "$d/" ;;
        cfg) cp "$cfg/HUB1.cfg" "$cfg/SPOKE1.cfg" "$d/"
             sed "s|^config = .*/\(.*\.cfg\)|config = \1|" "$work/full/scenario.ini" >"$d/scenario.ini" ;;
        gv) cp "$gv"/* "$d/" ;;
        gm) cp "$gm"/* "$d/" ;;
        mk) cp "$mk"/* "$d/" ;;
        ra) cp "$ra"/* "$d/" ;;
    esac
    [ "$expr" = - ] || sed -i "$expr" "$d/$file"
    out=$work/bad$n-out
    set +e
    # shellcheck disable=SC2086 # args: words
    "$bin" "$d" --out="$out" $args >"$d/stdout" 2>"$d/stderr"
    rc=$?
    set -e
    case $where in
        --set*) want="$where: $msg" ;;
        *) want="$d/$file:$where: $msg" ;;
    esac
    if [ $rc -ne 2 ]; then
        echo "broken $n ($base $file: $expr): exit $rc, wanted 2" >&2; cat "$d/stderr" >&2; fail=1
    elif ! grep -qF -- "$want" "$d/stderr"; then
        echo "broken $n ($base $file: $expr): wanted '$want', got:" >&2; cat "$d/stderr" >&2; fail=1
    elif [ -e "$out" ]; then
        echo "broken $n: output folder written" >&2; fail=1
    else
        echo "broken $n: $(cat "$d/stderr")"
    fi
done <<'TABLE'
# the scenario file
full | scenario.ini | s/^duration = 30/duration = soon/ | 4 | duration 'soon': a number from
full | scenario.ini | s/^duration = 30/duration = -1/ | 4 | duration '-1': a number from
full | scenario.ini | s/^routing = global/routing = ospf/ | 7 | routing 'ospf' is not one of static, global
full | scenario.ini | s/^\[node h1\]/[nod h1]/ | 9 | unknown section '[nod h1]'
full | scenario.ini | s/^\[node h1\]/[node h1/ | 9 | a section header ends with ']'
full | scenario.ini | s/^\[node h1\]/[node]/ | 9 | [node NAME] takes one name
full | scenario.ini | s/^\[node h2\]/[node h1]/ | 22 | [node h1] again (first on line 9)
full | scenario.ini | s/^gateway = 10.1.0.1/gatway = 10.1.0.1/ | 11 | unknown key 'gatway' in [node h1]
full | scenario.ini | s/^gateway = 10.1.0.1/gateway = 10.1.0.300/ | 11 | gateway '10.1.0.300' is not an IPv4 address
full | scenario.ini | 11a gateway = 10.1.0.9 | 12 | 'gateway' again in [node h1] (first on line 11)
full | scenario.ini | s/^role = host/role = server/ | 10 | role 'server' is not one of host, router
full | scenario.ini | /^role = router/{n;s/^config = .*/config = nowhere.cfg/} | 14 | cannot read
full | scenario.ini | s/^initiate = false/initiate = maybe/ | 15 | initiate 'maybe': true or false is needed
full | scenario.ini | 0,/^role = host/s/^role = host$/role = host\ninitiate = true/ | 11 | initiate is for FlexVPN routers
full | scenario.ini | s/^ends = HUB1 h1/ends = HUB1 h9/ | 30 | no [node h9]
full | scenario.ini | s/^ends = HUB1 h1/ends = HUB1/ | 30 | a link needs ends = NODE NODE
full | scenario.ini | s/^ends = HUB1 h1/ends = HUB1 HUB1/ | 30 | HUB1 twice on one link
full | scenario.ini | s/^type = p2p/type = wifi/ | 31 | type 'wifi' is not one of p2p, csma
full | scenario.ini | s/^addresses = 10.1.0.1\/24 10.1.0.2\/24/addresses = 10.1.0.1\/24/ | 32 | one address per end (2)
full | scenario.ini | s/^addresses = 10.1.0.1\/24 10.1.0.2\/24/addresses = 10.1.0.1 10.1.0.2\/24/ | 32 | '10.1.0.1' is not ADDRESS/LENGTH
full | scenario.ini | s/^addresses = 10.1.0.1\/24 10.1.0.2\/24/addresses = 2001:db8::1\/64 10.1.0.2\/24/ | 32 | '2001:db8::1/64': IPv6 is not supported in scenario files
full | scenario.ini | s/^rate = 1Gbps/rate = fast/ | 34 | rate 'fast': a rate such as 10Mbps is needed
full | scenario.ini | s/^delay = 50us/delay = 50/ | 35 | delay '50': a delay such as 20ms is needed
full | scenario.ini | s/^mtu = 1400/mtu = 100000/ | 36 | mtu '100000': a number from 576 to 9000
full | scenario.ini | s/^loss = 0.01/loss = 2/ | 37 | loss '2': a number from 0 to 1
full | scenario.ini | s/^queue = 50p/queue = 50/ | 38 | queue '50': a queue size in packets
full | scenario.ini | s/^type = csma/type = p2p/ | 46 | a p2p link has two ends
full | scenario.ini | s/^profile = voice-g711/profile = voice-opus/ | 50 | profile 'voice-opus' is not one of
full | scenario.ini | s/^to = h2/to = h7/ | 52 | no [node h7]
full | scenario.ini | s/^dscp = af41/dscp = 99/ | 53 | dscp '99': a number from 0 to 63
full | scenario.ini | s/^stop = 25/stop = 4/ | 55 | a flow stops after it starts
full | scenario.ini | s/^stop = 25/stop = 31/ | 55 | stop '31': a number from 0 to 30
full | scenario.ini | s/^at = 12.5/at = later/ | 64 | at 'later': a number from
full | scenario.ini | s/^action = link-down/action = explode/ | 65 | action 'explode' is not one of
full | scenario.ini | s/^target = wan/target = wan2/ | 66 | link-down needs target = LINK; no [link wan2]
full | scenario.ini | 0,/^target = HUB1/s/^target = HUB1/target = h1/ | 74 | node-stop switches a router off; h1 is a host
full | scenario.ini | s/^pcap = wan/pcap = wan9/ | 6 | pcap names no [link wan9]
full | scenario.ini | s/^title = Full house/title = x\nwhat is this/ | 4 | expected '[section]' or 'key = value', not 'what is this'
full | scenario.ini | /^\[node h1\]/i [node x] | 9 | [node x] needs role (host, router
full | scenario.ini | s/^config = .*HUB1.cfg/config = HUB1.cfg/ | 14 | cannot read
# timed events: node-start, clear-crypto-session (peer), rekey (sa)
full | scenario.ini | s/^at = 22/at = 19/ | 76 | node-start of HUB1 at 19 s: it is not stopped
full | scenario.ini | s/^action = node-start/action = node-stop/ | 76 | node-stop of HUB1 at 22 s: it is stopped already
full | scenario.ini | /^action = node-start/{n;s/^target = HUB1/target = h2/} | 78 | node-start switches a router on again; h2 is a host
full | scenario.ini | s/^peer = 198.51.100.1/peer = hub/ | 83 | peer 'hub' is not an IPv4 address
full | scenario.ini | s/^action = clear-crypto-session/action = node-stop/ | 83 | peer = is for clear-crypto-session and rekey on a FlexVPN/DMVPN router
full | scenario.ini | /^action = clear-crypto-session/{n;s/^target = SPOKE1/target = h3/} | 82 | clear-crypto-session is for a FlexVPN router (its IKE SAs) or a group member
full | scenario.ini | s/^sa = ike/sa = tek/ | 88 | sa 'tek' is not one of child, ike
full | scenario.ini | s/^action = rekey/action = clear-crypto-session/ | 88 | sa = is for rekey events
# --set
full | - | - | --set link.wan.delay | delay 'slow': a delay such as 20ms | --set link.wan.delay=slow
full | - | - | --set link.lan9.delay=1ms | the scenario has no [link lan9] | --set link.lan9.delay=1ms
full | - | - | --set link.wan.colour=red | unknown key 'colour' in [link wan] | --set link.wan.colour=red
# router configurations: the configuration's own file and line
cfg | HUB1.cfg | 4s/.*/ encryption aes-cbc-999/ | 4 | 'aes-cbc-999' is not supported
cfg | SPOKE1.cfg | 45s/.*/ip route 10.9.0.0 255.255.255.0 203.0.113.9/ | 45 | next hop 203.0.113.9 is on no connected subnet
# gm: scenarios/getvpn-multicast: static multicast routes and a multicast flow
gm | scenario.ini | s/^group = 239.192.1.1/group = 10.1.1.1/ | 164 | group '10.1.1.1' is not an IPv4 multicast address or prefix
gm | scenario.ini | 164d | 162 | an mroute needs group = ADDRESS[/LENGTH]
gm | scenario.ini | s/^source = 192.0.2.2/source = ks1/ | 165 | source 'ks1' is not ADDRESS[/LENGTH]
gm | scenario.ini | s/^out = hq-wan b1-wan b2-wan b3-wan/out = hq-wan b9-wan/ | 166 | no [link b9-wan]
gm | scenario.ini | s/^out = hq-wan b1-wan b2-wan b3-wan/out = hq-wan hq-lan/ | 166 | hq-lan is not a site of VRF INTRANET
gm | scenario.ini | 166d | 162 | an mroute needs out = LINK
gm | scenario.ini | 165a in = ks | 166 | a VRF route replicates at the PE the packets enter: no in =
gm | scenario.ini | 165a node = KS1 | 163 | an mroute is either on a node (node = NAME, in = LINK) or in the provider's VRF
gm | scenario.ini | s/^node = BRANCH1/node = BRANCH9/ | 175 | no [node BRANCH9]
gm | scenario.ini | s/^node = BRANCH1/node = PE1/ | 175 | PE1 is a provider router: write vrf = NAME
gm | scenario.ini | s/^in = b1-lan/in = b2-lan/ | 178 | link b2-lan does not end at BRANCH1
gm | scenario.ini | s/^out = b1-wan/out = b1-wan hq-lan/ | 179 | link hq-lan does not end at BRANCH1
gm | scenario.ini | 178d | 174 | an mroute on a node needs in = LINK
gm | scenario.ini | 176s/.*/group = 239.1.1.0\/24/ | 176 | a node's static multicast route is for one group
gm | scenario.ini | s/^\[mroute hq-in\]/[mroute]/ | 180 | [mroute NAME] takes one name
gm | scenario.ini | 203s/.*/group = 10.1.1.1/ | 203 | group '10.1.1.1' is not an IPv4 multicast address
gm | scenario.ini | 203d | 203 | one node receives a unicast flow (several: group = ADDRESS)
gm | scenario.ini | s/^to = hostHQ host2 host3/to = hostHQ host9/ | 204 | no [node host9]
gm | scenario.ini | s/^profile = voice-g711/profile = bulk-tcp/ | 203 | a multicast flow is RTP (voice or video), not TCP
# mk: scenarios/ipsec-manual-l2l: a manually keyed tunnel
mk | scenario.ini | 46s/.*/ends = GW1/ | 46 | a tunnel needs ends = NODE NODE
mk | scenario.ini | 46s/.*/ends = GW1 GW9/ | 46 | no [node GW9]
mk | scenario.ini | 46s/.*/ends = GW1 GW1/ | 46 | GW1 twice on one tunnel
mk | scenario.ini | s/^mode = gre/mode = ipip/ | 47 | mode 'ipip' is not one of gre, vti
mk | scenario.ini | s/^over = wan/over = wan2/ | 48 | a tunnel needs over = LINK
mk | scenario.ini | s/^over = wan/over = lan1/ | 48 | GW2 has no address on link lan1
mk | scenario.ini | s/^addresses = 172.16.0.1\/30 172.16.0.2\/30/addresses = 172.16.0.1\/30/ | 49 | a tunnel needs addresses = ADDRESS/LENGTH ADDRESS/LENGTH
mk | scenario.ini | s/^transform = esp-gcm 128/transform = esp-des/ | 50 | transform 'esp-des':
mk | scenario.ini | s/^routes = 10.2.0.0\/24 10.1.0.0\/24/routes = 10.2.0.0\/24/ | 51 | one prefix per end routed into the tunnel
mk | scenario.ini | s/^routes = 10.2.0.0\/24 10.1.0.0\/24/routes = 10.2.0.0 -/ | 51 | '10.2.0.0' is not ADDRESS/LENGTH
mk | scenario.ini | 46s/.*/ends = GW1 hostB/ | 48 | hostB has no address on link wan
# ra: scenarios/flexvpn-remote-access: remote-access clients (role = client, join-spread), rekey peer =
ra | scenario.ini | 0,/^join-spread = 4/s/^join-spread = 4/join-spread = soon/ | 37 | join-spread 'soon': a number from 0 to
ra | scenario.ini | 0,/^join-spread = 4/s/^join-spread = 4/join-spread = -1/ | 37 | join-spread '-1': a number from 0 to
ra | scenario.ini | 29a join-spread = 2 | 30 | join-spread is for clients (role = client)
ra | scenario.ini | 36a initiate = true | 37 | initiate is for FlexVPN routers (a client always initiates)
ra | scenario.ini | 35d | 33 | a client needs config = FILE
ra | scenario.ini | 34s/.*/role = laptop/ | 34 | role 'laptop' is not one of host, router, client
ra | USER1.cfg | 12s/.*/ authentication local pre-share key k/ | 8 | a client authenticates to its hub with EAP
ra | USER1.cfg | 12s/mschapv2/mschapv9/ | 12 | usage: authentication local eap mschapv2|md5|gtc
ra | scenario.ini | 90a group = 239.1.1.1 | 91 | a client's flows are unicast
ra | scenario.ini | 99s/.*/to = USER1/ | 99 | a flow between two clients is not supported
ra | scenario.ini | $a [event r]\nat = 5\naction = rekey\ntarget = HUB\npeer = user1 | 110 | peer 'user1' is not an IPv4 address
ra | scenario.ini | $a [event r]\nat = 5\naction = link-down\ntarget = user1\npeer = 100.64.1.1 | 110 | peer = is for clear-crypto-session and rekey
# a provider and GET VPN (scenarios/getvpn-mpls)
gv | scenario.ini | /^\[provider\]/,/^core-network/d | 19 | a provider router needs a [provider] section
gv | scenario.ini | 83d | 79 | a link to a PE needs vrf = NAME
gv | scenario.ini | s/^addresses = - 192.0.2.2\/30/addresses = - 192.0.2.1\/30/ | 81 | a PE-CE link is a /30: the PE is .1 (write -), the CE .2
gv | scenario.ini | s/^addresses = - 10.0.0.2\/24/addresses = 10.0.0.1\/24 10.0.0.2\/24/ | 113 | HQ takes its addresses from HQ.cfg: write - for it
gv | scenario.ini | s/^interfaces = GigabitEthernet0\/1 -/interfaces = - -/ | 114 | HQ needs the name of its interface in HQ.cfg
gv | scenario.ini | 62a addresses = 10.9.9.1/30 10.9.9.2/30 | 63 | a provider core link takes no addresses
gv | scenario.ini | 62a mtu = 1500 | 63 | MplsProviderHelper sets a provider link's mtu
gv | scenario.ini | s/^target = KS1/target = HQ/ | 150 | rekey is for a key server (crypto gdoi ks rekey) or a FlexVPN router (its CHILD_SAs); HQ is a group-member
gv | scenario.ini | s/^target = KS1/target = KS1\nsa = ike/ | 151 | sa 'ike' is not one of tek, kek
gv | scenario.ini | s/^target = KS1/target = KS1\npeer = 192.0.2.2/ | 151 | peer = is for clear-crypto-session and rekey on a FlexVPN/DMVPN router
# a GET VPN configuration error: the configuration's own file and line
gv | HQ.cfg | s/^ encryption aes 256/ encryption aes 999/ | 3 | 999 is out of range
gv | HQ.cfg | s/^ crypto map GETVPN-MAP/ crypto map NOPE/ | 15 | interface GigabitEthernet0/0: crypto map NOPE is not defined
TABLE
[ $n -ge 60 ] || { echo "only $n broken cases ran" >&2; fail=1; }
exit $fail
