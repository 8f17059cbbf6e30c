# A GRE endpoint in user space for the strongSwan side of interop-gre
# (interop-gre.sh): this kernel has no GRE module (`ip link add type gre`
# fails), so the peer's GRE tunnel interface is a TUN device this program
# serves. What the kernel routes into the TUN leaves as GRE (RFC 2784,
# with the key of RFC 2890 2.1) in an IPv4 raw socket of protocol 47 to the
# remote tunnel end; charon's kernel-libipsec then protects it like any
# other packet its policy selects. GRE arriving from the remote end (the
# raw socket sees it after libipsec decrypted it) is checked and its
# payload written to the TUN. It writes READY when both are open and, on
# SIGTERM, its counts as JSON to --stats.
#
# usage: gre-endpoint.py --tun NAME --local A --remote B [--key K] --stats FILE
import argparse
import fcntl
import json
import os
import select
import signal
import socket
import struct
import sys

TUNSETIFF = 0x400454CA
IFF_TUN, IFF_NO_PI = 0x0001, 0x1000
GRE_IPV4 = 0x0800
GRE_K = 0x2000  # RFC 2890 2.1: key present


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--tun', required=True)
    ap.add_argument('--local', required=True)
    ap.add_argument('--remote', required=True)
    ap.add_argument('--key', type=int)
    ap.add_argument('--stats', required=True)
    a = ap.parse_args()

    tun = os.open('/dev/net/tun', os.O_RDWR)
    fcntl.ioctl(tun, TUNSETIFF, struct.pack('16sH', a.tun.encode(), IFF_TUN | IFF_NO_PI))
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, 47)
    raw.bind((a.local, 0))
    hdr = struct.pack('!HH', GRE_K if a.key is not None else 0, GRE_IPV4)
    if a.key is not None:
        hdr += struct.pack('!I', a.key)
    n = {'tun_to_gre': 0, 'gre_to_tun': 0, 'gre_bad': 0, 'gre_other_src': 0}
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    with open(a.stats + '.ready', 'w') as f:
        f.write('READY\n')
    while not stop:
        try:
            r, _, _ = select.select([tun, raw], [], [], 0.2)
        except InterruptedError:
            continue
        if tun in r:
            pkt = os.read(tun, 65535)
            if pkt and pkt[0] >> 4 == 4:
                raw.sendto(hdr + pkt, (a.remote, 0))
                n['tun_to_gre'] += 1
        if raw in r:
            d, src = raw.recvfrom(65535)
            if src[0] != a.remote:
                n['gre_other_src'] += 1
                continue
            ihl = (d[0] & 15) * 4
            g = d[ihl:]
            if len(g) < 4:
                n['gre_bad'] += 1
                continue
            flags, proto = struct.unpack('!HH', g[:4])
            off = 4
            # RFC 2784 2.5: version 0; C and S (RFC 2890) are not sent here
            if flags & 0x0007 or flags & 0x8000 or flags & 0x1000 or proto != GRE_IPV4:
                n['gre_bad'] += 1
                continue
            if flags & GRE_K:
                if len(g) < 8 or a.key is None or struct.unpack('!I', g[4:8])[0] != a.key:
                    n['gre_bad'] += 1
                    continue
                off = 8
            elif a.key is not None:
                n['gre_bad'] += 1
                continue
            os.write(tun, g[off:])
            n['gre_to_tun'] += 1
    with open(a.stats, 'w') as f:
        json.dump(n, f)
    return 0


if __name__ == '__main__':
    sys.exit(main())
