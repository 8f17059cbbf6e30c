/*
 * The one reading of VPN_BENCH_QUICK for every benchmark (C and C++):
 * quick mode (a few iterations, figures not meaningful; the ctest smoke
 * run sets VPN_BENCH_QUICK=1) when the variable is set to a number other
 * than 0. Unset, empty or 0: the full run.
 */
#ifndef VPN_BENCH_QUICK_H
#define VPN_BENCH_QUICK_H

#include <stdlib.h>

static inline int vpn_bench_quick(void)
{
    const char *v = getenv("VPN_BENCH_QUICK");

    return v != NULL && atoi(v) != 0;
}

#endif
