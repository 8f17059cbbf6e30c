# Sourced (sh) by mpi-serial-equal.sh and test/bench/distributed-bench.sh:
# finds getvpn-mpls-any2any in the ns-3 tree `scripts/intree --mpi` leaves,
# deliberately: the one tree of a work folder (or a tree named directly),
# configured with MPI, the binary linked with ns-3's mpi module and not older
# than the module sources it was built from.
#
# mpi_tree_find DIR: sets mpi_tree and mpi_bin and returns 0; otherwise sets
# mpi_tree_why and returns 77 when there is no usable build (no tree, not
# configured with MPI, example not built or built without MPI) or 1 when
# there is one that must not be used (several trees, binary older than the
# sources).
mpi_tree_find() {
    mpi_tree=$1 mpi_bin="" mpi_tree_why=""
    if [ ! -d "$mpi_tree" ]; then
        mpi_tree_why="$mpi_tree does not exist (build it: ./scripts/intree --mpi --work $mpi_tree debian)"
        return 77
    fi
    # The work folder of scripts/intree --mpi: its ns-3 tree is under src/
    # (release tarball: src/ns-3.X; allinone: src/ns-allinone-3.X/ns-3.X).
    # Exactly one tree or none: never guess between two.
    if [ ! -x "$mpi_tree/ns3" ] && [ -d "$mpi_tree/src" ]; then
        _t=$(find "$mpi_tree/src" -maxdepth 3 -name ns3 -type f -perm -u+x -printf '%h\n' | sort)
        case $(printf '%s' "$_t" | grep -c .) in
            0) mpi_tree_why="$mpi_tree/src holds no ns-3 source tree (./scripts/intree --mpi has not unpacked one)"
               return 77 ;;
            1) mpi_tree=$_t ;;
            *) mpi_tree_why="$mpi_tree/src holds several ns-3 trees, name one: $(echo $_t)"
               return 1 ;;
        esac
    fi
    if [ ! -x "$mpi_tree/ns3" ]; then
        mpi_tree_why="$mpi_tree is neither an ns-3 source tree nor a work folder of ./scripts/intree --mpi"
        return 77
    fi
    if ! grep -q '^NS3_MPI:BOOL=ON' "$mpi_tree/cmake-cache/CMakeCache.txt" 2>/dev/null; then
        mpi_tree_why="$mpi_tree is not configured with MPI (./scripts/intree --mpi; ./ns3 configure --enable-mpi)"
        return 77
    fi
    # ns-3 names the binary PREFIX-getvpn-mpls-any2any-PROFILE: the newest
    # if several profiles were built
    mpi_bin=$(find "$mpi_tree/build" -name '*getvpn-mpls-any2any*' -type f -perm -u+x -printf '%T@ %p\n' \
              2>/dev/null | sort -rn | head -n 1 | cut -d' ' -f2-)
    if [ -z "$mpi_bin" ]; then
        mpi_tree_why="getvpn-mpls-any2any is not built in $mpi_tree (./scripts/intree --mpi builds it)"
        return 77
    fi
    # configured with MPI is not enough: a binary left from before
    # --enable-mpi has no distributed simulator
    # (ldd's output taken whole: `ldd | grep -q` under pipefail fails at
    # random when grep stops reading first and ldd gets SIGPIPE)
    _libs=$(ldd "$mpi_bin" 2>/dev/null || true)
    if ! grep -q 'libns3[^ ]*-mpi' <<EOF_LDD
$_libs
EOF_LDD
    then
        mpi_tree_why="$mpi_bin is not linked with ns-3's mpi module (rebuild: ./scripts/intree --mpi)"
        mpi_bin=""
        return 77
    fi
    # a binary older than the module it was built from runs old code; the
    # module's build reads test/ sources and its CMakeLists.txt too. The
    # module's code is mostly in its shared libraries, which ns-3 relinks
    # without relinking the executables that load them: the newest of the
    # binary and those libraries is what the build made last.
    if [ -d "$mpi_tree/contrib/vpn/" ]; then
        _v=$mpi_tree/contrib/vpn
        _ref=$(ls -t "$mpi_bin" "$mpi_tree"/build/lib/libns3*-vpn*.so 2>/dev/null | head -n 1 || true)
        _n=$(find -L "$_v/model" "$_v/helper" "$_v/examples" "$_v/test" "$_v/CMakeLists.txt" \
             -type f \( -name '*.cc' -o -name '*.h' -o -name '*.c' -o -name CMakeLists.txt \) \
             -newer "${_ref:-$mpi_bin}" 2>/dev/null | head -n 3 || true) # (find may get SIGPIPE)
        if [ -n "$_n" ]; then
            mpi_tree_why="$mpi_bin is older than the module's sources ($(echo $_n) ...): rebuild it
  (./scripts/intree --mpi, or cmake --build $mpi_tree/cmake-cache --target getvpn-mpls-any2any)"
            return 1
        fi
    fi
    return 0
}
