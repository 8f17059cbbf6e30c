#!/usr/bin/env python3
"""ICMP echo through a tunnel (the namespaces have no ping binary).

  icmp-echo.py SRC DST COUNT [INTERVAL]

Sends COUNT echo requests from SRC to DST over a raw socket, INTERVAL
seconds apart (default 0), waiting up to 2 s for each reply. Prints
`replies/sent` after each request, then `SRC -> DST: replies/COUNT replies`;
exits 1 unless every request was answered. IPv4 only.
"""
import socket as S, struct, sys, time
src, dst, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
gap = float(sys.argv[4]) if len(sys.argv) > 4 else 0
def csum(b):
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b)); s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
s = S.socket(S.AF_INET, S.SOCK_RAW, S.IPPROTO_ICMP); s.bind((src, 0)); s.settimeout(1)
ok = 0
for i in range(count):
    time.sleep(gap)
    body = struct.pack('!HH', 0x4242, i) + b'vpnd-interop-echo' * 4
    pkt = struct.pack('!BBH', 8, 0, 0) + body
    pkt = pkt[:2] + struct.pack('!H', csum(pkt)) + pkt[4:]
    s.sendto(pkt, (dst, 0))
    end = time.time() + 2
    while time.time() < end:
        try: r = s.recv(2048)
        except OSError: break
        ihl = (r[0] & 15) * 4
        if r[ihl] == 0 and r[ihl + 4:ihl + 8] == body[:4]:
            ok += 1; break
    sys.stdout.write('%d/%d\n' % (ok, i + 1)); sys.stdout.flush()
print('%s -> %s: %d/%d replies' % (src, dst, ok, count))
sys.exit(0 if ok == count else 1)
