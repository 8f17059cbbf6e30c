#!/usr/bin/env python3
"""Traffic between the inner addresses of the interop namespaces, counted.

  traffic.py sink --bind ADDR --port P --out FILE
      Counts numbered UDP datagrams until SIGTERM, then writes
      {"received": n, "seqs": [...first..last runs...], "dups": d} to FILE.
  traffic.py send --src A --dst B --port P --count N --rate PPS [--icmp K] --out FILE
      Sends N numbered UDP datagrams from A to B:P at PPS, and K ICMP echo
      requests (raw socket, kernel answers) counting the replies;
      writes {"udp_sent": N, "icmp_sent": K, "icmp_replies": k} to FILE.
      With --echo-out FILE2 the destination echoes each datagram back (a UDP
      echo server, such as the simulated host of flexvpn-emulation): the
      echoes are counted as a sink counts, into FILE2, with the round-trip
      times (median, 99th percentile, max, in ms).
  traffic.py check --sent FILE --received FILE [--name NAME]
      Exits 1 unless every datagram sent arrived exactly once and every
      echo request got its reply.

Addresses of either family: an IPv6 one (a colon in it) sends UDP over
IPv6 and ICMPv6 echo requests (RFC 4443 4.1; the kernel fills the ICMPv6
checksum of a raw socket, RFC 3542 3.1).

Each datagram's payload is b"interop <flow> <seq>" padded to 64 bytes, so a
decrypted capture can be matched against what was sent.
"""
import argparse
import json
import os
import signal
import socket
import struct
import sys
import time

SEND_SPORT = 5002  # senders' UDP source port (see send)


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def sink(a):
    s = socket.socket(family(a.bind), socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # room for a few seconds of datagrams: on a loaded machine the sink may
    # be off the CPU a while, and what arrives meanwhile must wait, not drop
    try:
        s.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)  # SO_RCVBUFFORCE (root)
    except OSError:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind((a.bind, a.port))
    seen = set()
    dups = 0
    stop = []

    def on_term(*_):
        stop.append(1)

    signal.signal(signal.SIGTERM, on_term)
    s.settimeout(0.1)
    # Written once up front so the harness can tell the sink is listening.
    with open(a.out + ".ready", "w") as f:
        f.write("ready\n")
    while not stop:
        try:
            data, _ = s.recvfrom(2048)
        except socket.timeout:
            continue
        except InterruptedError:
            continue
        parts = data.split()
        if len(parts) < 3 or parts[0] != b"interop":
            continue
        seq = int(parts[2])
        if seq in seen:
            dups += 1
        seen.add(seq)
    with open(a.out, "w") as f:
        json.dump({"received": len(seen), "dups": dups, "seqs": sorted(seen)}, f)


def checksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def send(a):
    v6 = family(a.src) == socket.AF_INET6
    u = socket.socket(family(a.src), socket.SOCK_DGRAM)
    # A fixed source port: an ephemeral one can land on a port Wireshark
    # dissects as something else (44818 is EtherNet/IP), and the capture
    # check then sees "malformed" frames that are only our test datagrams.
    u.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    u.bind((a.src, SEND_SPORT))
    ident = os.getpid() & 0xFFFF
    r = None
    if a.icmp:
        r = socket.socket(family(a.src), socket.SOCK_RAW, socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP)
        r.bind((a.src, 0))
        r.setblocking(False)
    replies = set()
    echoes, echo_dups, sent_at, rtts = set(), [0], {}, []
    if a.echo_out:
        u.setblocking(False)
    icmp_sent = 0
    gap = 1.0 / a.rate
    t0 = time.monotonic()
    icmp_every = max(1, a.count // max(1, a.icmp)) if a.icmp else 0

    def drain():
        while r is not None:
            try:
                pkt = r.recv(2048)
            except BlockingIOError:
                return
            ihl = 0 if v6 else (pkt[0] & 15) * 4  # IPv6 raw sockets give no header
            if len(pkt) < ihl + 8:
                continue
            t, _, _, i, q = struct.unpack("!BBHHH", pkt[ihl:ihl + 8])
            if t == (129 if v6 else 0) and i == ident:
                replies.add(q)

    def drain_echoes():
        while a.echo_out:
            try:
                data = u.recv(2048)
            except BlockingIOError:
                return
            parts = data.split()
            if len(parts) < 3 or parts[0] != b"interop":
                continue
            seq = int(parts[2])
            if seq in echoes:
                echo_dups[0] += 1
            elif seq in sent_at:
                rtts.append((time.monotonic() - sent_at[seq]) * 1000.0)
            echoes.add(seq)

    for seq in range(a.count):
        payload = ("interop %s %d " % (a.flow, seq)).encode().ljust(a.size, b".")
        sent_at[seq] = time.monotonic()
        u.sendto(payload, (a.dst, a.port))
        drain_echoes()
        if r is not None and icmp_sent < a.icmp and seq % icmp_every == 0:
            body = b"interop-icmp".ljust(32, b".")
            if v6:
                hdr = struct.pack("!BBHHH", 128, 0, 0, ident, icmp_sent)
            else:
                hdr = struct.pack("!BBHHH", 8, 0, 0, ident, icmp_sent)
                hdr = struct.pack("!BBHHH", 8, 0, checksum(hdr + body), ident, icmp_sent)
            r.sendto(hdr + body, (a.dst, 0))
            icmp_sent += 1
        drain()
        delay = t0 + (seq + 1) * gap - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    # 3 s for the last echo replies: the collision cases' path holds every
    # frame 300 ms each way, and a loaded machine adds stalls of a second
    end = time.monotonic() + 3.0
    while r is not None and len(replies) < icmp_sent and time.monotonic() < end:
        drain()
        time.sleep(0.02)
    end = time.monotonic() + 1.5
    while a.echo_out and len(echoes) < a.count and time.monotonic() < end:
        drain_echoes()
        time.sleep(0.002)
    if a.echo_out:
        rtts.sort()

        def pct(p):
            return round(rtts[min(len(rtts) - 1, int(p * len(rtts)))], 3) if rtts else None
        with open(a.echo_out, "w") as f:
            json.dump({"received": len(echoes), "dups": echo_dups[0], "seqs": sorted(echoes),
                       "rtt_ms_median": pct(0.5), "rtt_ms_p99": pct(0.99),
                       "rtt_ms_max": round(rtts[-1], 3) if rtts else None}, f)
    with open(a.out, "w") as f:
        json.dump({"udp_sent": a.count, "icmp_sent": icmp_sent, "icmp_replies": len(replies),
                   "seconds": round(time.monotonic() - t0, 3)}, f)


def check(a):
    sent = json.load(open(a.sent))
    got = json.load(open(a.received))
    name = a.name or a.sent
    missing = sorted(set(range(sent["udp_sent"])) - set(got["seqs"]))
    ok = True
    if missing:
        runs = []
        for m in missing:
            if runs and runs[-1][1] == m - 1:
                runs[-1][1] = m
            else:
                runs.append([m, m])
        print("%s: %d of %d UDP datagrams lost (seq %s)" % (
            name, len(missing), sent["udp_sent"],
            ", ".join("%d-%d" % tuple(r) if r[0] != r[1] else str(r[0]) for r in runs[:10])))
        ok = False
    if got["dups"]:
        print("%s: %d duplicated datagrams" % (name, got["dups"]))
        ok = False
    if sent["icmp_replies"] != sent["icmp_sent"]:
        print("%s: %d of %d echo requests answered" % (name, sent["icmp_replies"], sent["icmp_sent"]))
        ok = False
    if ok:
        print("%s: %d UDP datagrams all arrived once, %d/%d echo replies" % (
            name, sent["udp_sent"], sent["icmp_replies"], sent["icmp_sent"]))
    return 0 if ok else 1


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("sink")
    s.add_argument("--bind", required=True)
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--out", required=True)
    s = sub.add_parser("send")
    s.add_argument("--src", required=True)
    s.add_argument("--dst", required=True)
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--count", type=int, required=True)
    s.add_argument("--rate", type=float, default=100.0)
    s.add_argument("--icmp", type=int, default=0)
    s.add_argument("--flow", default="f")
    s.add_argument("--echo-out")
    s.add_argument("--size", type=int, default=64, help="UDP payload bytes (at least 64)")
    s.add_argument("--out", required=True)
    s = sub.add_parser("check")
    s.add_argument("--sent", required=True)
    s.add_argument("--received", required=True)
    s.add_argument("--name")
    a = p.parse_args()
    return {"sink": sink, "send": send, "check": check}[a.cmd](a) or 0


if __name__ == "__main__":
    sys.exit(main())
