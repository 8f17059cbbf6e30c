#!/bin/sh
# Issue 19: the GET VPN any-to-any scenario run serially and on 2 MPI ranks
# (ns-3's distributed simulator, sites split over the ranks) with the same
# seed gives the same figures: SAs (members registered, key server members
# and rekeys, key-file lines), packets encrypted and decrypted, voice sent
# and received, and every voice flow's delay sum and maximum (flows.csv).
# Also checks that both ranks did part of the work (else the "distributed"
# run was a serial one twice) and that a PE-CE capture merged from the
# ranks holds the packets the serial run captured. Last, that runs which
# would abort in ns-3 or run serially twice are refused with exit 2 and a
# message: one rank on the distributed simulator (either synchronizer),
# mpirun -np 2 of a one-rank run, and both for ipsec-manual-l2l (an example
# that runs on one process only) when the tree has it.
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
. "$here/mpi-tree.sh"
rc=0
mpi_tree_find "$tree" || rc=$?
case $rc in
    0) tree=$mpi_tree bin=$mpi_bin ;;
    77) skip "$mpi_tree_why" ;;
    *) fail "$mpi_tree_why" ;;
esac
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

# Runs that would abort inside ns-3 or simulate everything twice are
# refused by the example with exit 2 and a message (VpnMpi::Enable): one
# rank on ns-3's distributed simulator, and mpirun -np 2 of a one-rank run.
refused() { # NAME EXPECTED-TEXT COMMAND...
    name=$1 want=$2; shift 2
    rc=0
    "$@" >"$out/$name.log" 2>&1 || rc=$?
    # mpirun reports a rank's exit status as its own (Open MPI: the first non-zero one)
    [ "$rc" = 2 ] && grep -q -- "$want" "$out/$name.log" ||
        { cat "$out/$name.log"; fail "$name: exit $rc, expected 2 and \"$want\""; }
    echo "$name: refused (exit 2): $(grep -m1 -- "$want" "$out/$name.log")"
}
refused one-rank-distributed "needs --ranks=N with N >= 2" \
    "$bin" $args --SimulatorImplementationType=ns3::DistributedSimulatorImpl --out="$out/one-rank"
refused one-rank-null-message "needs --ranks=N with N >= 2" \
    "$bin" $args --SimulatorImplementationType=ns3::NullMessageSimulatorImpl --out="$out/one-rank"
refused np2-ranks1 "ranks=1 but mpirun started 2 processes" \
    env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
    mpirun -np 2 --oversubscribe "$bin" $args --out="$out/np2-ranks1"
# The examples without a partition over ranks refuse both too
# (VpnMpi::SerialOnly): here ns-3 has the distributed simulator and its
# constructor would abort without MPI set up. ipsec-manual-l2l when the
# tree built it (scripts/intree does by default), beside the binary above.
other=$(dirname "$bin")/$(basename "$bin" | sed 's/getvpn-mpls-any2any/ipsec-manual-l2l/')
if [ -x "$other" ]; then
    serial="runs on one process only"
    refused example-distributed "$serial" \
        "$other" --SimulatorImplementationType=ns3::DistributedSimulatorImpl --out="$out/example-distributed"
    refused example-np2 "$serial" \
        env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
        mpirun -np 2 --oversubscribe "$other" --out="$out/example-np2"
    for d in example-distributed example-np2; do
        [ ! -e "$out/$d" ] || fail "$d: the output folder was created"
    done
else
    echo "($other not built: the examples' refusals not checked here)"
fi
echo "PASS: serial and 2-rank runs agree"
