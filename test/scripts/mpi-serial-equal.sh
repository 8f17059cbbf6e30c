#!/bin/sh
# Issue 19: the GET VPN any-to-any scenario run serially and on 2 MPI ranks
# (ns-3's distributed simulator, sites split over the ranks) with the same
# seed gives the same figures: SAs (members registered, key server members
# and rekeys, key-file lines), packets encrypted and decrypted, voice sent
# and received, and every voice flow's delay sum and maximum (flows.csv).
# Also checks that both ranks did part of the work (else the "distributed"
# run was a serial one twice) and that a PE-CE capture merged from the
# ranks holds the packets the serial run captured.
#
# Usage: mpi-serial-equal.sh TREE OUT
#   TREE  an ns-3 tree built by `scripts/intree --mpi` (the example
#         getvpn-mpls-any2any built in it), or that script's work folder
#         (the tree is then the one ns-3 source tree under its src/)
# Exit status: 0 only when both runs ran and agree; 1 when a run fails or
# the figures differ, or when the tree holds a getvpn-mpls-any2any older
# than the module's sources (it would check old code); 77 (skipped, the
# message says why) when there is no such tree, it was configured without
# MPI, the example is not built in it, or there is no mpirun.
set -eu
tree=$1 out=$2
here=$(cd "$(dirname "$0")" && pwd)
merge=$here/../../scripts/mpi-merge
skip() { echo "skipped: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
[ -d "$tree" ] || skip "$tree does not exist (build it: ./scripts/intree --mpi)"
# The work folder of scripts/intree --mpi: its ns-3 tree is under src/
# (release tarball: src/ns-3.X; allinone: src/ns-allinone-3.X/ns-3.X).
# Exactly one tree or none: never guess between two, never fall back to
# another folder.
if [ ! -x "$tree/ns3" ] && [ -d "$tree/src" ]; then
    trees=$(find "$tree/src" -maxdepth 3 -name ns3 -type f -perm -u+x -printf '%h\n' | sort)
    case $(printf '%s' "$trees" | grep -c .) in
        0) skip "$tree/src holds no ns-3 source tree (./scripts/intree --mpi has not unpacked one)" ;;
        1) tree=$trees ;;
        *) fail "$tree/src holds several ns-3 trees, name one: $(echo $trees)" ;;
    esac
fi
[ -x "$tree/ns3" ] || skip "$tree is neither an ns-3 source tree nor a work folder of ./scripts/intree --mpi"
grep -q '^NS3_MPI:BOOL=ON' "$tree/cmake-cache/CMakeCache.txt" 2>/dev/null ||
    skip "$tree is not configured with MPI (./ns3 configure --enable-mpi; ./scripts/intree --mpi)"
# ns-3 names the binary PREFIX-getvpn-mpls-any2any-PROFILE; the newest if
# several profiles were built
bin=$(find "$tree/build" -name '*getvpn-mpls-any2any*' -type f -perm -u+x -printf '%T@ %p\n' 2>/dev/null |
      sort -rn | head -n 1 | cut -d' ' -f2-)
[ -n "$bin" ] || skip "getvpn-mpls-any2any is not built in $tree (./scripts/intree --mpi builds it)"
# a binary older than the module it was built from checks old code
if [ -d "$tree/contrib/vpn/" ]; then
    newer=$(find -L "$tree/contrib/vpn/model" "$tree/contrib/vpn/helper" "$tree/contrib/vpn/examples" \
            -type f \( -name '*.cc' -o -name '*.h' -o -name '*.c' \) -newer "$bin" 2>/dev/null | head -n 3)
    [ -z "$newer" ] || fail "$bin is older than the module's sources ($(echo $newer) ...): rebuild it" \
        "(./scripts/intree --mpi, or cmake --build $tree/cmake-cache --target getvpn-mpls-any2any)"
fi
echo "tree: $tree"
echo "binary: $bin"
command -v mpirun >/dev/null || { echo "skipped: no mpirun (openmpi-bin)"; exit 77; }
rm -rf "$out"
mkdir -p "$out"
args="--branches=3 --duration=2 --RngRun=3"

"$bin" $args --out="$out/serial" >"$out/serial.log" 2>&1 || { cat "$out/serial.log"; fail "serial run"; }
# root in a container: OpenMPI refuses root unless told
OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
    mpirun -np 2 --oversubscribe "$bin" $args --ranks=2 --out="$out/mpi" >"$out/mpi.log" 2>&1 ||
    { cat "$out/mpi.log"; fail "mpirun -np 2"; }
python3 "$merge" "$out/mpi" >"$out/merge.log" 2>&1 || { cat "$out/merge.log"; fail "mpi-merge"; }

python3 - "$out/serial" "$out/mpi" <<'EOF' || exit 1
import csv, json, sys
ser, mpi = sys.argv[1], sys.argv[2]
s = json.load(open(ser + "/summary.json"))
m = json.load(open(mpi + "/summary.json"))
keys = ["members_registered", "ks_members", "ks_rekeys", "packets_encrypted",
        "packets_decrypted", "data_plane_drops", "voice_sent", "voice_received",
        "wireshark_esp_sa_lines", "wireshark_ikev1_lines", "branch_to_branch_mean_delay_ms",
        "branch_via_hq_mean_delay_ms", "voice_max_one_way_delay_ms"]
bad = [k for k in keys if k not in s or s.get(k) != m.get(k)]
for k in keys:
    print("%-32s serial %-10s mpi %-10s%s" % (k, s.get(k), m.get(k), "" if k not in bad else "  DIFFERS"))
if bad:
    sys.exit("FAIL: figures differ: " + ", ".join(bad))
if not (s["members_registered"] == 4 and s["packets_encrypted"] > 0 and s["voice_received"] > 0):
    sys.exit("FAIL: the serial run did not register 4 members and carry voice")
sf = list(csv.reader(open(ser + "/flows.csv")))
mf = list(csv.reader(open(mpi + "/flows.csv")))
if sf != mf:
    diff = [(a, b) for a, b in zip(sf, mf) if a != b][:5]
    sys.exit("FAIL: flows.csv differs (from,to,sent,received,delay_sum_ms,delay_max_ms): %s" % diff)
if len(sf) != 1 + 4 * 3:
    sys.exit("FAIL: %d voice flows, expected 12" % (len(sf) - 1))
for r in (0, 1):
    p = json.load(open("%s/rank-%d/summary.json" % (mpi, r)))
    if p.get("mpi_ranks") != 2 or p.get("packets_encrypted", 0) == 0 or p.get("voice_received", 0) == 0:
        sys.exit("FAIL: rank %d did no part of the work: %s" % (r, p))
print("flows.csv: %d flows identical" % (len(sf) - 1))
EOF

# a link between ranks (PE1 on rank 0, BRANCH1's CE on rank 1): the merged
# capture has the serial run's packet count
for f in ce-PE1-site2.pcap core-P1-P2.pcap; do
    a=$(capinfos -c -M "$out/serial/$f" | awk '/Number of packets/ {print $NF}')
    b=$(capinfos -c -M "$out/mpi/$f" | awk '/Number of packets/ {print $NF}')
    echo "$f: serial $a packets, merged $b"
    [ -n "$a" ] && [ "$a" -gt 0 ] && [ "$a" = "$b" ] || fail "$f: serial $a packets, merged from ranks $b"
done
echo "PASS: serial and 2-rank runs agree"
