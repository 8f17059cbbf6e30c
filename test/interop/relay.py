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
The counts go to FILE (JSON) when the relay stops (SIGTERM); FILE.ready
appears once both sockets are open.
"""
import argparse
import collections
import json
import random
import select
import signal
import socket
import sys
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


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
    a = ap.parse_args()
    if len(a.ifs) != 2:
        sys.exit("relay.py: exactly two --if")
    if not 0.0 <= a.loss < 1.0:
        sys.exit("relay.py: --loss must be in [0, 1)")
    rng = random.Random(a.seed)
    socks = []
    for name in a.ifs:
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        s.bind((name, 0))
        socks.append(s)
    st = {"relayed": 0, "lost": 0, "fragments_dropped": 0, "too_long_dropped": 0,
          "udp_seen": 0, "delayed": 0, "by_if": {n: 0 for n in a.ifs}}
    held = collections.deque()  # (release time, socket, frame), in arrival order

    def send(out, frame):
        try:
            out.send(frame)
            st["relayed"] += 1
        except OSError:
            pass

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    if a.stats:
        open(a.stats + ".ready", "w").close()
    while not stop:
        wait = 0.2
        if held:
            wait = max(0.0, min(wait, held[0][0] - time.monotonic()))
        try:
            ready, _, _ = select.select(socks, [], [], wait)
        except InterruptedError:
            continue
        while held and held[0][0] <= time.monotonic():
            _, out, frame = held.popleft()
            send(out, frame)
        for s in ready:
            frame, addr = s.recvfrom(65535)
            if addr[2] == PACKET_OUTGOING:
                continue  # our own transmission on this interface
            i = socks.index(s)
            out = socks[1 - i]
            st["by_if"][a.ifs[i]] += 1
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
                    # veth leaves the UDP checksum to the hardware (checksum
                    # offload): fill it in, or the receiver drops the datagram
                    ihl = (ip[0] & 15) * 4
                    if total <= len(ip) and total >= ihl + 8:
                        c = udp_checksum(ip, ihl)
                        frame = frame[:14 + ihl + 6] + c.to_bytes(2, "big") + frame[14 + ihl + 8:]
            if a.delay:
                st["delayed"] += 1
                held.append((time.monotonic() + a.delay / 1000.0, out, frame))
                continue
            send(out, frame)
    if a.stats:
        with open(a.stats, "w") as f:
            json.dump(st, f)
    print(json.dumps(st))


if __name__ == "__main__":
    main()
