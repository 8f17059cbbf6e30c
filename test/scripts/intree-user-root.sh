#!/bin/sh
# scripts/intree as root with USER=root (sudo, su -, an ssh login: how CI
# runs it): ns-3's ./ns3 refuses to run when $USER is root, so intree must
# call it under another name. A stand-in ns-3 tree whose ./ns3 refuses as
# the real one does (and otherwise only configures) shows whether intree's
# configure step gets through; the build step after it fails (no real
# tree), which this test expects.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:?usage: intree-user-root.sh OUTDIR}
rm -rf "$out"
mkdir -p "$out/tree"
cat >"$out/tree/ns3" <<'NS3'
#!/bin/sh
if [ "${USER:-}" = root ]; then
    echo "Exception: Refusing to run as root. --enable-sudo will request your password when needed" >&2
    exit 1
fi
[ "$1" = configure ] && echo "Modules configured to be built:"
exit 0
NS3
chmod +x "$out/tree/ns3"
echo 3.99 >"$out/tree/VERSION"
USER=root "$root/scripts/intree" --work "$out/work" --examples "" "$out/tree" >"$out/log" 2>&1
rc=$?
cat "$out/log"
fail=0
grep -q "Refusing to run as root" "$out/log" && { echo "FAIL: ./ns3 ran with USER=root"; fail=1; }
grep -q "intree: configure took" "$out/log" || { echo "FAIL: configure did not get through"; fail=1; }
[ "$rc" -ne 0 ] || { echo "FAIL: the stand-in tree cannot build, yet intree exited 0"; fail=1; }
rm -rf "$out/tree/contrib"
[ $fail -eq 0 ] && echo "PASS: ./ns3 ran under another user name (intree exit $rc at the build step, as expected)"
exit $fail
