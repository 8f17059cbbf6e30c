#!/bin/sh
# ./scripts/run as a user calls it: an example by name into --out, its
# outputs listed; bad arguments get a clear error and a non-zero exit.
set -eu
root=$1 work=$2
rm -rf "$work"
out=$("$root/scripts/run" ipsec-manual-l2l --out "$work/run" --duration=1 2>&1)
echo "$out"
for f in wan-GW1-1.pcap lan1-hostA-0.pcap tunnel0-gw1.pcap wireshark/esp_sa summary.txt summary.json; do
    [ -s "$work/run/$f" ] || { echo "missing output $f" >&2; exit 1; }
done
echo "$out" | grep -q "Outputs in $work/run" || { echo "no output listing" >&2; exit 1; }
echo "$out" | grep -q "XDG_CONFIG_HOME=$work/run tshark .* -r $work/run/wan-GW1-1.pcap" || { echo "no tshark hint" >&2; exit 1; }
if err=$("$root/scripts/run" no-such-example --out "$work/x" 2>&1); then
    echo "unknown example accepted" >&2; exit 1
fi
echo "$err" | grep -q "no example named 'no-such-example'" || { echo "unclear error: $err" >&2; exit 1; }
if err=$("$root/scripts/run" ipsec-manual-l2l --out 2>&1); then
    echo "--out without a folder accepted" >&2; exit 1
fi
echo "$err" | grep -q -- "--out needs a folder" || { echo "unclear error: $err" >&2; exit 1; }
if err=$("$root/scripts/run" ipsec-manual-l2l --out "$work/y" --mode=sideways 2>&1); then
    echo "bad example option accepted" >&2; exit 1
fi
echo "$err" | grep -q "mode must be gre or vti" || { echo "unclear error: $err" >&2; exit 1; }
echo "scripts/run behaves"
