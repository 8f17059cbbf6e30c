#!/usr/bin/env python3
"""ICMP echo through a tunnel (the namespaces have no ping binary).

  icmp-echo.py SRC DST COUNT [INTERVAL] [--wait SECONDS] [--iplen OCTETS]

Sends COUNT echo requests from SRC to DST over a raw socket, INTERVAL
seconds apart (default 0), waiting up to --wait seconds (default 2) for
each reply. With --iplen each request is an IPv4 packet of exactly that
many octets (20 IP + 8 ICMP + payload), e.g. a tunnel's MTU; else a small
fixed payload. Prints `replies/sent` after each request, then
`SRC -> DST: replies/COUNT replies`; exits 1 unless every request was
answered, 2 on bad arguments. IPv4 only: every caller's inner traffic is
IPv4 (the IPv6 cases change the underlay only).
"""
import argparse, os, socket as S, struct, sys, time

ap = argparse.ArgumentParser(description='ICMP echo through a tunnel')
ap.add_argument('src')
ap.add_argument('dst')
ap.add_argument('count', type=int)
ap.add_argument('interval', type=float, nargs='?', default=0)
ap.add_argument('--wait', type=float, default=2, help='seconds to wait for each reply')
ap.add_argument('--iplen', type=int, default=0, help='IPv4 length of each request')
a = ap.parse_args()  # exits 2 with a usage message on bad arguments
if a.count < 1 or a.wait <= 0 or a.interval < 0:
    ap.error('COUNT must be at least 1, --wait positive, INTERVAL not negative')
if a.iplen and not 32 <= a.iplen <= 65535:  # room for the identifier and sequence
    ap.error('--iplen must be 32..65535')

def csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b)); s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff

# A raw ICMP socket sees every echo reply in the namespace: tell ours
# apart by an identifier of this process and the sequence number.
ident = os.getpid() & 0xffff
s = S.socket(S.AF_INET, S.SOCK_RAW, S.IPPROTO_ICMP); s.bind((a.src, 0)); s.settimeout(0.2)
ok = 0
for i in range(a.count):
    time.sleep(a.interval)
    body = struct.pack('!HH', ident, i & 0xffff)
    body += bytes(a.iplen - 28 - 4) if a.iplen else b'vpnd-interop-echo' * 4
    pkt = struct.pack('!BBH', 8, 0, 0) + body
    pkt = pkt[:2] + struct.pack('!H', csum(pkt)) + pkt[4:]
    s.sendto(pkt, (a.dst, 0))
    end = time.time() + a.wait
    while time.time() < end:
        try: r = s.recv(65535)
        except S.timeout: continue  # short timeouts so that --wait is kept to
        ihl = (r[0] & 15) * 4
        if len(r) >= ihl + 8 and r[ihl] == 0 and r[ihl + 4:ihl + 8] == body[:4]:
            ok += 1; break
    sys.stdout.write('%d/%d\n' % (ok, i + 1)); sys.stdout.flush()
print('%s -> %s: %d/%d replies' % (a.src, a.dst, ok, a.count))
sys.exit(0 if ok == a.count else 1)
