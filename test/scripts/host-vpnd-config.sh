#!/bin/sh
# vpnd refuses what it cannot run before it touches the system: a multipoint
# GRE tunnel (exit 2), an unknown line (exit 2, the line named), an undefined
# trustpoint, bad options (exit 64); vpnctl without a daemon exits 3 and
# an unknown command is refused. No root needed: these fail before any
# socket or TUN device is opened.
# usage: host-vpnd-config.sh VPND VPNCTL WORKDIR
set -u
VPND=$1 VPNCTL=$2 W=$3
fail() { echo "FAIL: $*" >&2; exit 1; }
rm -rf "$W"; mkdir -p "$W"
cat >"$W/good.cfg" <<'C'
crypto ikev2 keyring KR
 peer P
  address 198.18.0.2
  pre-shared-key k
crypto ikev2 profile PROF
 match identity remote address 198.18.0.2 255.255.255.255
 authentication local pre-share
 authentication remote pre-share
 keyring local KR
crypto ipsec profile IPS
 set ikev2-profile PROF
interface Tunnel0
 tunnel source 198.18.0.1
 tunnel mode ipsec ipv4
 tunnel destination 198.18.0.2
 tunnel protection ipsec profile IPS
C
# expect CODE NEEDLE ARGS...: vpnd exits CODE and says NEEDLE on stderr
expect() {
    code=$1 needle=$2; shift 2
    "$VPND" "$@" >"$W/out" 2>"$W/err"; rc=$?
    [ $rc = "$code" ] || fail "vpnd $*: exit $rc, want $code: $(cat "$W/err")"
    grep -qF -- "$needle" "$W/err" || fail "vpnd $*: no '$needle' in: $(cat "$W/err")"
}
sed 's/tunnel mode ipsec ipv4/tunnel mode gre multipoint/' "$W/good.cfg" >"$W/mgre.cfg"
expect 2 "mgre.cfg line 12: Tunnel0: tunnel mode gre multipoint is not supported" -n -c "$W/mgre.cfg" -s "$W/ctl"
{ cat "$W/good.cfg"; echo " tunnel shape round"; } >"$W/unknown.cfg"
expect 2 "unknown.cfg line 17:" -n -c "$W/unknown.cfg" -s "$W/ctl"
{ cat "$W/good.cfg"; echo "crypto ikev2 profile PROF"; echo " pki trustpoint NOPE"; } >"$W/tp.cfg"
expect 2 "pki trustpoint NOPE is not defined" -n -c "$W/tp.cfg" -s "$W/ctl"
{ cat "$W/good.cfg"; echo "crypto pki trustpoint TP"; echo " ca-certificate file $W/missing.pem"; } >"$W/tpfile.cfg"
expect 2 "missing.pem" -n -c "$W/tpfile.cfg" -s "$W/ctl"
expect 64 "-c CONFIG is required" -n
expect 64 "-l takes error, warn, info or debug" -l loud -c "$W/good.cfg"
expect 1 "missing.cfg" -n -c "$W/missing.cfg"
[ -e "$W/ctl" ] && fail "a refused start left a control socket"
"$VPND" -h | grep -q "rekey child TunnelN" || fail "vpnd -h does not list the control commands"
"$VPNCTL" -s "$W/nobody.ctl" status 2>"$W/err"; rc=$?
[ $rc = 3 ] && grep -q "cannot reach vpnd" "$W/err" || fail "vpnctl without a daemon: exit $rc: $(cat "$W/err")"
"$VPNCTL" 2>/dev/null; [ $? = 64 ] || fail "vpnctl without a command should exit 64"
"$VPNCTL" -h | grep -q "show crypto ikev2 sa" || fail "vpnctl -h does not list the commands"
echo "PASS: vpnd refuses bad configurations and options before touching the system"
