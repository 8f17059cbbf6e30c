#!/bin/sh
# Issue 19: the programs that have no partition of their nodes over MPI
# ranks (every example but getvpn-mpls-any2any, and the GET VPN bench; the
# hub bench and getvpn-mpls-any2any are checked by mpi-ranks-refused) refuse
# a distributed run with exit status 2 and a message, before anything is
# simulated or written (VpnMpi::SerialOnly): ns-3's distributed simulator
# named as SimulatorImplementationType, on the command line (without the
# check ns-3 aborts: it cannot find the type without the mpi module, or its
# constructor finds MPI not set up) or through NS_GLOBAL_VALUE, and a launcher
# that started several copies (each would simulate everything and write the
# same output folder).
# Usage: examples-serial-only.sh WORK_DIR SCENARIO_DIR PROGRAM...
#   SCENARIO_DIR  a scenario folder for vpn-scenario (given so that the run
#                 would otherwise go ahead)
set -eu
work=$1 scenario=$2
shift 2
rm -rf "$work"
mkdir -p "$work"
n=0 fail=0
want="runs on one process only"
for bin in "$@"; do
    prog=$(basename "$bin")
    args=""
    [ "$prog" = vpn-scenario ] && args=$scenario
    for how in cmdline env-global mpirun; do
        n=$((n + 1))
        out=$work/out$n log=$work/$prog-$how.log
        # the examples write under --out; the benches have no such option
        case $prog in vpn-bench-*) o="" ;; *) o="--out=$out" ;; esac
        rc=0
        case $how in
            cmdline) "$bin" $args $o --SimulatorImplementationType=ns3::DistributedSimulatorImpl \
                         >"$log" 2>&1 || rc=$? ;;
            env-global) env NS_GLOBAL_VALUE=SimulatorImplementationType=ns3::NullMessageSimulatorImpl \
                            "$bin" $args $o >"$log" 2>&1 || rc=$? ;;
            mpirun) env OMPI_COMM_WORLD_SIZE=2 "$bin" $args $o >"$log" 2>&1 || rc=$? ;;
        esac
        if [ "$rc" != 2 ]; then
            echo "$prog ($how): exit status $rc, wanted 2:" >&2; tail -n 5 "$log" >&2; fail=1
        elif ! grep -qF -- "$prog: " "$log" || ! grep -qF -- "$want" "$log"; then
            echo "$prog ($how): wanted '$prog: ... $want', got:" >&2; cat "$log" >&2; fail=1
        elif [ -e "$out" ]; then
            echo "$prog ($how): the output folder was created" >&2; fail=1
        else
            echo "$prog ($how): $(head -n 1 "$log")"
        fi
    done
done
[ $n -gt 0 ] || { echo "no program given" >&2; exit 1; }
[ $fail -eq 0 ] || exit 1
echo "PASS: $n runs of $# programs refused with exit 2 and a message"
