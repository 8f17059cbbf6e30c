#!/bin/sh
# Issue 19: ./scripts/bench distributed takes getvpn-mpls-any2any only from
# the ns-3 tree ./scripts/intree --mpi leaves (test/scripts/mpi-tree.sh) and
# otherwise refuses with exit status 2 and a message naming the cause,
# building and running nothing. Fake work folders, one per cause: none,
# no tree, two trees, not configured with MPI, the example not built, a
# binary not linked with ns-3's mpi module, a binary older than the module
# sources it was built from (model/, test/, CMakeLists.txt; the module's
# library being newer makes it current), one built from another checkout.
# Usage: bench-distributed-refuses.sh WORK_DIR
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$1
rm -rf "$work"
mkdir -p "$work"
cc=$(command -v cc || command -v gcc)
n=0 fail=0
check() { # WORK_FOLDER EXPECTED-TEXT
    n=$((n + 1))
    rc=0
    "$root/scripts/bench" distributed --tree="$1" >"$work/log$n" 2>&1 || rc=$?
    if [ "$rc" != 2 ]; then
        echo "case $n ($1): exit status $rc, wanted 2:" >&2; cat "$work/log$n" >&2; fail=1
    elif ! grep -qF -- "$2" "$work/log$n"; then
        echo "case $n ($1): wanted '$2', got:" >&2; cat "$work/log$n" >&2; fail=1
    else
        echo "case $n: $(head -n 1 "$work/log$n")"
    fi
}
# tree W/src/ns-3.37 with ./ns3, configured with MPI or not
tree() { # DIR MPI(ON|OFF)
    mkdir -p "$1/src/ns-3.37/cmake-cache" "$1/src/ns-3.37/build/contrib/vpn/examples" "$1/src/ns-3.37/contrib"
    printf '#!/bin/sh\n' >"$1/src/ns-3.37/ns3"
    chmod +x "$1/src/ns-3.37/ns3"
    echo "NS3_MPI:BOOL=$2" >"$1/src/ns-3.37/cmake-cache/CMakeCache.txt"
}
bin=ns3.37-getvpn-mpls-any2any-debug
check "$work/none" "does not exist"
mkdir -p "$work/empty/src"
check "$work/empty" "holds no ns-3 source tree"
tree "$work/two" ON
mkdir -p "$work/two/src/ns-3.38" && cp "$work/two/src/ns-3.37/ns3" "$work/two/src/ns-3.38/"
check "$work/two" "holds several ns-3 trees"
tree "$work/nompi" OFF
check "$work/nompi" "is not configured with MPI"
tree "$work/nobin" ON
check "$work/nobin" "getvpn-mpls-any2any is not built"
tree "$work/serial" ON
cp /bin/true "$work/serial/src/ns-3.37/build/contrib/vpn/examples/$bin"
check "$work/serial" "is not linked with ns-3's mpi module"
# a program that needs a library named as ns-3's mpi module
lib=$work/lib
mkdir -p "$lib"
echo 'int ns3_mpi_stub(void) { return 0; }' >"$lib/stub.c"
echo 'int ns3_mpi_stub(void); int main(void) { return ns3_mpi_stub(); }' >"$lib/main.c"
"$cc" -shared -fPIC -o "$lib/libns3.37-mpi-debug.so" "$lib/stub.c"
"$cc" -o "$lib/$bin" "$lib/main.c" -L"$lib" -l:libns3.37-mpi-debug.so -Wl,-rpath,"$lib"
# older than its module's sources (contrib/vpn: a module whose source is newer)
tree "$work/stale" ON
mkdir -p "$work/stale/module/model"
cp "$lib/$bin" "$work/stale/src/ns-3.37/build/contrib/vpn/examples/"
touch -d '2000-01-01' "$work/stale/src/ns-3.37/build/contrib/vpn/examples/$bin"
echo '// newer' >"$work/stale/module/model/x.cc"
ln -s "$work/stale/module" "$work/stale/src/ns-3.37/contrib/vpn"
check "$work/stale" "is older than the module's sources"
# the same, the newer file under test/, then the module's CMakeLists.txt
for f in test/y-test.cc CMakeLists.txt; do
    case $f in test/*) d=$work/stale-test ;; *) d=$work/stale-cmake ;; esac
    tree "$d" ON
    mkdir -p "$d/module/model" "$d/module/test"
    echo '// older' >"$d/module/model/x.cc"
    touch -d '2000-01-01' "$d/module/model/x.cc"
    cp "$lib/$bin" "$d/src/ns-3.37/build/contrib/vpn/examples/"
    touch -d '2000-01-02' "$d/src/ns-3.37/build/contrib/vpn/examples/$bin"
    echo '# newer' >"$d/module/$f"
    ln -s "$d/module" "$d/src/ns-3.37/contrib/vpn"
    check "$d" "is older than the module's sources ($d/src/ns-3.37/contrib/vpn/$f"
done
# up to date, but built from another checkout than this one
tree "$work/other" ON
mkdir -p "$work/other/module/model"
echo '// older' >"$work/other/module/model/x.cc"
touch -d '2000-01-01' "$work/other/module/model/x.cc"
cp "$lib/$bin" "$work/other/src/ns-3.37/build/contrib/vpn/examples/"
ln -s "$work/other/module" "$work/other/src/ns-3.37/contrib/vpn"
check "$work/other" "not from this checkout"
# the binary older than a source but the module's library newer (ns-3
# relinks the library, not the executables that load it): not stale, so
# the next cause is the one named
tree "$work/libnewer" ON
mkdir -p "$work/libnewer/module/model" "$work/libnewer/src/ns-3.37/build/lib"
echo '// newer than the binary, older than the library' >"$work/libnewer/module/model/x.cc"
touch -d '2000-01-02' "$work/libnewer/module/model/x.cc"
cp "$lib/$bin" "$work/libnewer/src/ns-3.37/build/contrib/vpn/examples/"
touch -d '2000-01-01' "$work/libnewer/src/ns-3.37/build/contrib/vpn/examples/$bin"
: >"$work/libnewer/src/ns-3.37/build/lib/libns3.37-vpn-debug.so"
ln -s "$work/libnewer/module" "$work/libnewer/src/ns-3.37/contrib/vpn"
check "$work/libnewer" "not from this checkout"
[ $fail -eq 0 ] || exit 1
echo "PASS: $n work folders refused with exit 2 and the cause"
