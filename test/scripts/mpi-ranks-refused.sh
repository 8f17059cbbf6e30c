#!/bin/sh
# Issue 19: runs that would abort inside ns-3 or mislead are refused by the
# programs with a message and exit status 2 before anything is simulated or
# written (VpnMpi::Enable), in the standalone build (no ns-3 mpi module):
# one rank on ns-3's distributed simulator (either synchronizer; without the
# check ns-3 aborts), more than one rank, and a one-rank run started by a
# launcher that started several (the environment Open MPI and PMI launchers
# set). The same refusals in an MPI tree, with a real mpirun, are checked
# by mpi-serial-equal.sh.
# Usage: mpi-ranks-refused.sh GETVPN_MPLS_ANY2ANY_BINARY HUB_SCALE_BENCH_BINARY WORK_DIR
set -eu
any2any=$1 hub=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
n=0 fail=0
check() { # EXPECTED-TEXT COMMAND... (the output folder, --out, is added unless COMMAND is the hub bench)
    want=$1; shift
    n=$((n + 1))
    rc=0
    case " $* " in
        *" $hub "*) "$@" >"$work/log$n" 2>&1 || rc=$? ;;
        *) "$@" --out="$work/out$n" >"$work/log$n" 2>&1 || rc=$? ;;
    esac
    if [ "$rc" != 2 ]; then
        echo "case $n ($*): exit status $rc, wanted 2:" >&2; tail -n 5 "$work/log$n" >&2; fail=1
    elif ! grep -qF -- "$want" "$work/log$n"; then
        echo "case $n ($*): wanted '$want', got:" >&2; cat "$work/log$n" >&2; fail=1
    elif [ -e "$work/out$n" ]; then
        echo "case $n ($*): the output folder was created" >&2; fail=1
    else
        echo "case $n: $(head -n 1 "$work/log$n")"
    fi
}
one="needs --ranks=N with N >= 2"
check "$one" "$any2any" --branches=2 --duration=1 --SimulatorImplementationType=ns3::DistributedSimulatorImpl
check "$one" "$any2any" --branches=2 --duration=1 --SimulatorImplementationType=ns3::NullMessageSimulatorImpl
check "$one" env NS_GLOBAL_VALUE=SimulatorImplementationType=ns3::DistributedSimulatorImpl \
    "$any2any" --branches=2 --duration=1
check "no ns-3 MPI module" "$any2any" --branches=2 --duration=1 --ranks=2
check "--ranks=1 but mpirun started 2 processes" env OMPI_COMM_WORLD_SIZE=2 "$any2any" --branches=2 --duration=1
check "--ranks=1 but mpirun started 3 processes" env PMI_SIZE=3 "$any2any" --branches=2 --duration=1
check "$one" "$hub" --only=vpn --spokes=2 --duration=2 --SimulatorImplementationType=ns3::DistributedSimulatorImpl
[ $fail -eq 0 ] || exit 1
echo "PASS: $n runs refused with exit 2 and a message"
