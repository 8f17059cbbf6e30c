#!/usr/bin/env python3
"""A lossy path for the interop tests: a userspace bridge between two
interfaces of a middle network namespace (AF_PACKET sockets; this kernel
has neither netem nor tc actions nor netfilter).

  relay.py --if mu --if ms [--loss 0.1] [--seed N] [--drop-fragments]
           [--max-ip-len N] [--delay MS] [--stats FILE]

Every Ethernet frame that arrives on one interface leaves on the other,
unchanged (ARP included), except IPv4 datagrams that the options drop:
  --loss P            each IPv4 UDP datagram (IKE, ESP in UDP) with probability P
  --drop-fragments    every IPv4 fragment (MF set or a fragment offset): a path
                      that drops IP fragments, as some firewalls do
  --max-ip-len N      every IPv4 datagram longer than N octets
and holds back:
  --delay MS          every frame for MS milliseconds, in order (a long path:
                      IKE and ESP alike): two requests the sides send within
                      MS of each other cross on the path (the collision
                      cases, RFC 7296 2.8.1, 2.25)
and picks single IKE messages out of IPv4 UDP (port 500, or 4500 after the
non-ESP marker; the IKE header is in the clear, RFC 7296 3.1):
  --drop-ike-answer SRC       the first CREATE_CHILD_SA response SRC sends
                              (a lost answer: the requester retransmits)
  --hold-ike-request SRC:MS   the first CREATE_CHILD_SA request SRC sends, MS
                              milliseconds longer than the rest (a request
                              delayed past what follows it)
The counts go to FILE (JSON) when the relay stops (SIGTERM); FILE.ready
appears once both sockets are open.

Frames leave paced: at most PACE_BURST at once, then PACE_RATE a second.
On a loaded machine the relay is sometimes off the CPU for a few hundred
ms; without pacing it then sent everything that fell due meanwhile in one
burst (153 frames in 1 ms were seen), and the receivers' UDP 4500 sockets
(vpnd's, charon's kernel-libipsec ESP in UDP, ~208 KB of buffer each)
overflowed: datagrams lost on the receiving host (RcvbufErrors), not by
the path, failing the no-loss verdicts at random. Paced, a backlog drains
at several times the test traffic's rate.
"""
import argparse
import heapq
import ipaddress
import json
import random
import select
import signal
import socket
import sys
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
PACE_BURST = 48     # frames sent back to back at most (~60 KB: well inside a 208 KB buffer)
PACE_RATE = 16000.0  # frames a second after that (the tests send 2000-4000)


def udp_checksum(ip, ihl):
    """The UDP checksum of an unfragmented IPv4 datagram (RFC 768)."""
    udp = bytearray(ip[ihl:int.from_bytes(ip[2:4], "big")])
    udp[6:8] = b"\0\0"
    data = bytes(ip[12:20]) + b"\0\x11" + len(udp).to_bytes(2, "big") + bytes(udp)
    if len(data) % 2:
        data += b"\0"
    s = sum(int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    s = ~s & 0xFFFF
    return s or 0xFFFF


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--if", dest="ifs", action="append", required=True)
    ap.add_argument("--loss", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--drop-fragments", action="store_true")
    ap.add_argument("--max-ip-len", type=int, default=0)
    ap.add_argument("--delay", type=int, default=0)
    ap.add_argument("--stats", default="")
    ap.add_argument("--drop-ike-answer", default="")
    ap.add_argument("--hold-ike-request", default="")
    a = ap.parse_args()
    drop_src = ipaddress.IPv4Address(a.drop_ike_answer).packed if a.drop_ike_answer else None
    hold_src, hold_ms = None, 0
    if a.hold_ike_request:
        h, _, ms = a.hold_ike_request.partition(":")
        hold_src, hold_ms = ipaddress.IPv4Address(h).packed, int(ms)
    if len(a.ifs) != 2:
        sys.exit("relay.py: exactly two --if")
    if not 0.0 <= a.loss < 1.0:
        sys.exit("relay.py: --loss must be in [0, 1)")
    rng = random.Random(a.seed)
    socks = []
    for name in a.ifs:
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        # a large receive buffer (root: SO_RCVBUFFORCE past rmem_max): on a
        # loaded machine the relay may be off the CPU for a few hundred ms,
        # and frames arriving meanwhile must wait, not be dropped
        try:
            s.setsockopt(socket.SOL_SOCKET, 33, 16 << 20)  # SO_RCVBUFFORCE
        except OSError:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
        s.bind((name, 0))
        socks.append(s)
    st = {"relayed": 0, "lost": 0, "fragments_dropped": 0, "too_long_dropped": 0,
          "udp_seen": 0, "delayed": 0, "ike_answers_dropped": 0, "ike_requests_held": 0,
          "send_failed": 0, "max_burst": 0, "paced": 0,
          "by_if": {n: 0 for n in a.ifs}}
    held = []  # heap of (release time, arrival number, socket, frame)
    seq = 0
    tokens, last = float(PACE_BURST), time.monotonic()

    def ike_header(ip, ihl):
        """(exchange type, response?) of an IKE message in this UDP datagram, else None."""
        udp = ip[ihl:]
        dport = int.from_bytes(udp[2:4], "big")
        body = udp[8:]
        if dport == 4500:
            if len(body) < 4 or body[:4] != b"\0\0\0\0":
                return None  # ESP in UDP (RFC 3948)
            body = body[4:]
        elif dport != 500:
            return None
        if len(body) < 28:
            return None
        return body[18], bool(body[19] & 0x20)

    def send(out, frame):
        try:
            out.send(frame)
            st["relayed"] += 1
        except OSError:
            st["send_failed"] += 1  # ENOBUFS: the peer's backlog was full

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    if a.stats:
        open(a.stats + ".ready", "w").close()
    while not stop:
        wait = 0.2
        if held:
            wait = max(0.0, min(wait, held[0][0] - time.monotonic()))
            if tokens < 1.0:
                wait = max(wait, 1.0 / PACE_RATE)
        try:
            ready, _, _ = select.select(socks, [], [], wait)
        except InterruptedError:
            continue
        now = time.monotonic()
        tokens = min(float(PACE_BURST), tokens + (now - last) * PACE_RATE)
        last = now
        burst = 0
        while held and held[0][0] <= now and tokens >= 1.0:
            _, _, out, frame = heapq.heappop(held)
            send(out, frame)
            tokens -= 1.0
            burst += 1
        st["max_burst"] = max(st["max_burst"], burst)
        if held and held[0][0] <= now:
            st["paced"] += 1  # a backlog: the rest waits for tokens
        for s in ready:
            frame, addr = s.recvfrom(65535)
            if addr[2] == PACKET_OUTGOING:
                continue  # our own transmission on this interface
            i = socks.index(s)
            out = socks[1 - i]
            st["by_if"][a.ifs[i]] += 1
            extra = 0
            if len(frame) >= 34 and frame[12:14] == b"\x08\x00":
                ip = frame[14:]
                total = int.from_bytes(ip[2:4], "big")
                frag = int.from_bytes(ip[6:8], "big") & 0x3FFF
                if a.drop_fragments and frag:
                    st["fragments_dropped"] += 1
                    continue
                if a.max_ip_len and total > a.max_ip_len:
                    st["too_long_dropped"] += 1
                    continue
                if ip[9] == 17 and frag == 0:
                    st["udp_seen"] += 1
                    if a.loss and rng.random() < a.loss:
                        st["lost"] += 1
                        continue
                    h = ike_header(ip, (ip[0] & 15) * 4) if drop_src or hold_src else None
                    if h and h[0] == 36:  # CREATE_CHILD_SA
                        if h[1] and drop_src == ip[12:16]:
                            drop_src = None
                            st["ike_answers_dropped"] += 1
                            continue
                        if not h[1] and hold_src == ip[12:16]:
                            hold_src = None
                            st["ike_requests_held"] += 1
                            extra = hold_ms
                    # veth leaves the UDP checksum to the hardware (checksum
                    # offload): fill it in, or the receiver drops the datagram
                    ihl = (ip[0] & 15) * 4
                    if total <= len(ip) and total >= ihl + 8:
                        c = udp_checksum(ip, ihl)
                        frame = frame[:14 + ihl + 6] + c.to_bytes(2, "big") + frame[14 + ihl + 8:]
            if a.delay or extra:
                st["delayed"] += 1
            seq += 1  # through the heap even undelayed: paced as the rest
            heapq.heappush(held, (time.monotonic() + (a.delay + extra) / 1000.0, seq, out, frame))
    if a.stats:
        with open(a.stats, "w") as f:
            json.dump(st, f)
    print(json.dumps(st))


if __name__ == "__main__":
    main()
