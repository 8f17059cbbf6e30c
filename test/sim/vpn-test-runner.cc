// Runs the module's ns-3 TestSuites. Debian's ns-3 ships no test.py, so ctest
// calls this once per suite: vpn-test-runner --suite=NAME. Every option of
// ns3::TestRunner works (--list, --verbose, --fullness=...).
#include "ns3/test.h"

int
main(int argc, char** argv)
{
    return ns3::TestRunner::Run(argc, argv);
}
