#!/usr/bin/env python3
"""A NAPT for the interop tests: a userspace IPv4 router with port address
translation between two interfaces of a middle network namespace (AF_PACKET
sockets; this kernel has no netfilter NAT, no nft and no iptables NAT).

  nat.py --inside IF --inside-addr A --outside IF --outside-addr B
         [--port-base N] [--timeout S] [--stats FILE]

It behaves as a home router's NAPT does (RFC 4787 terms):
  - It is the inside hosts' gateway: it answers ARP for --inside-addr on
    the inside interface and for --outside-addr on the outside interface,
    and asks ARP itself for the addresses it sends to (frames wait for the
    answer). The kernel of its namespace has no address on either
    interface, so it neither answers nor forwards anything itself.
  - UDP from the inside leaves from --outside-addr and a port of its own
    choosing (from --port-base up, never the inside port: port 500 and 4500
    of the inside host become, say, 40000 and 40001, as most NATs do and
    as RFC 3948 and RFC 7296 2.23 have to survive). The IPv4 header checksum
    and the UDP checksum are recomputed; the TTL drops by one.
  - Endpoint-independent mapping (RFC 4787 4.1): one outside port per
    inside (address, port), whatever the destination.
  - Address- and port-dependent filtering (RFC 4787 5): a datagram to an
    outside port passes in only from an (address, port) that the inside
    end of that mapping has sent to; anything else inbound (no mapping, an
    unknown peer, not UDP) is unsolicited and dropped.
  - A mapping lives --timeout seconds (default 120) after its last
    outbound datagram (RFC 4787 4.3: inbound traffic does not refresh it).
  - SIGUSR1 is a rebinding, as a NAT that reboots or loses its state: every
    mapping is forgotten and the port counter moves on, so the next
    outbound datagram of a flow gets a new outside port and datagrams to
    the old port are dropped.
  - ICMP echo from the inside is translated by its identifier as UDP is by
    its port (for ping through the NAT). IP fragments, other protocols
    (raw ESP, protocol 50, cannot pass a NAPT: RFC 3948 1) and IPv6 are
    dropped and counted.
Bad options (or an interface or address that cannot be used) exit with 2.
The counts (mappings made, translated each way, dropped by reason, the
mappings themselves) go to FILE (JSON) when it stops (SIGTERM) and, on
SIGUSR2, to FILE at once; FILE.ready appears once both sockets are open.
"""
import argparse
import collections
import json
import signal
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
ETH_IP, ETH_ARP = b"\x08\x00", b"\x08\x06"
BCAST = b"\xff" * 6


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def fix_ip(ip, ihl):
    ip[10:12] = b"\0\0"
    ip[10:12] = csum(bytes(ip[:ihl])).to_bytes(2, "big")


def fix_l4(ip, ihl, total):
    """The UDP (RFC 768) or ICMP (RFC 792) checksum, over the whole datagram:
    veth leaves UDP checksums partial (offload), so they are never merely
    adjusted."""
    l4 = ip[ihl:total]
    if ip[9] == 17:
        l4[6:8] = b"\0\0"
        c = csum(bytes(ip[12:20]) + b"\0\x11" + len(l4).to_bytes(2, "big") + bytes(l4)) or 0xFFFF
        l4[6:8] = c.to_bytes(2, "big")
    else:
        l4[2:4] = b"\0\0"
        l4[2:4] = csum(bytes(l4)).to_bytes(2, "big")
    ip[ihl:total] = l4


class Nat:
    def __init__(self, a):
        self.a = a
        self.in_addr = socket.inet_aton(a.inside_addr)
        self.out_addr = socket.inet_aton(a.outside_addr)
        self.socks = {}
        self.mac = {}
        for side, name in (("in", a.inside), ("out", a.outside)):
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
            s.bind((name, 0))
            self.socks[side] = s
            self.mac[side] = s.getsockname()[4]
        self.arp = {"in": {}, "out": {}}            # IPv4 -> MAC, per side
        self.waiting = {"in": collections.defaultdict(list), "out": collections.defaultdict(list)}
        self.next_port = a.port_base
        # (proto, inside addr, inside port) -> mapping; outside (proto, port) -> the same
        self.by_inside, self.by_outside = {}, {}
        self.st = collections.Counter()
        self.log = []

    # ---- ARP (RFC 826) ---------------------------------------------------------
    def arp_in(self, side, frame):
        if len(frame) < 42:
            return
        op = frame[20:22]
        sha, spa, tpa = frame[22:28], frame[28:32], frame[38:42]
        self.learn(side, spa, sha)
        mine = self.in_addr if side == "in" else self.out_addr
        if op == b"\x00\x01" and tpa == mine:
            rep = (sha + self.mac[side] + ETH_ARP + b"\x00\x01\x08\x00\x06\x04\x00\x02" +
                   self.mac[side] + mine + sha + spa)
            self.socks[side].send(rep)
            self.st["arp_answered_" + side] += 1

    def learn(self, side, ip, mac):
        if ip == b"\0\0\0\0":
            return
        self.arp[side][ip] = mac
        for frame in self.waiting[side].pop(ip, []):
            self.socks[side].send(mac + frame[6:])

    def emit(self, side, dst_ip, ip):
        """ip (an IPv4 datagram) out of side to dst_ip's MAC, asking ARP first."""
        frame = b"\0" * 6 + self.mac[side] + ETH_IP + bytes(ip)
        mac = self.arp[side].get(dst_ip)
        if mac:
            self.socks[side].send(mac + frame[6:])
            return
        q = self.waiting[side][dst_ip]
        q.append(frame)
        if len(q) == 1:
            mine = self.in_addr if side == "in" else self.out_addr
            req = (BCAST + self.mac[side] + ETH_ARP + b"\x00\x01\x08\x00\x06\x04\x00\x01" +
                   self.mac[side] + mine + b"\0" * 6 + dst_ip)
            self.socks[side].send(req)
            self.st["arp_asked_" + side] += 1

    # ---- translation -----------------------------------------------------------
    def expire(self, now):
        for k, m in list(self.by_inside.items()):
            if now - m["last_out"] > self.a.timeout:
                del self.by_inside[k]
                self.by_outside.pop((m["proto"], m["port"]), None)
                self.st["mappings_expired"] += 1
                self.note("expired", m)

    def rebind(self):
        for m in self.by_inside.values():
            self.note("forgotten", m)
        self.st["mappings_forgotten"] += len(self.by_inside)
        self.by_inside.clear()
        self.by_outside.clear()
        self.st["rebinds"] += 1

    def note(self, what, m):
        self.log.append({"t": round(time.monotonic(), 3), "what": what, "proto": m["proto"],
                         "inside": "%s:%d" % (socket.inet_ntoa(m["addr"]), m["iport"]), "outside_port": m["port"]})

    @staticmethod
    def ports(ip, ihl, proto):
        """(source, destination) of UDP; (identifier, identifier) of an ICMP echo."""
        if proto == 17:
            return struct.unpack("!HH", ip[ihl:ihl + 4])
        ident = struct.unpack("!H", ip[ihl + 4:ihl + 6])[0]
        return ident, ident

    def ip_in(self, side, frame):
        ip = bytearray(frame[14:])
        if len(ip) < 20 or ip[0] >> 4 != 4:
            self.st["dropped_not_ipv4_" + side] += 1
            return
        ihl = (ip[0] & 15) * 4
        total = int.from_bytes(ip[2:4], "big")
        if total > len(ip) or total < ihl + 8:
            self.st["dropped_short_" + side] += 1
            return
        del ip[total:]
        self.learn(side, bytes(ip[12:16]), frame[6:12])
        if int.from_bytes(ip[6:8], "big") & 0x3FFF:
            self.st["dropped_fragment_" + side] += 1   # a NAPT that does not reassemble
            return
        proto = ip[9]
        echo = proto == 1 and ip[ihl] in (0, 8)
        if proto != 17 and not echo:
            self.st["dropped_proto_%d_%s" % (proto, side)] += 1
            return
        if ip[8] <= 1:
            self.st["dropped_ttl_" + side] += 1
            return
        ip[8] -= 1
        now = time.monotonic()
        self.expire(now)
        sport, dport = self.ports(ip, ihl, proto)
        if side == "in":
            if bytes(ip[16:20]) == self.in_addr:
                self.st["dropped_to_nat_in"] += 1
                return
            if echo and ip[ihl] != 8:
                self.st["dropped_proto_1_in"] += 1
                return
            key = (proto, bytes(ip[12:16]), sport)
            m = self.by_inside.get(key)
            if m is None:
                while (proto, self.next_port) in self.by_outside:
                    self.next_port += 1
                m = {"proto": proto, "addr": key[1], "iport": sport, "port": self.next_port,
                     "peers": set(), "last_out": now}
                self.next_port = self.next_port + 1 if self.next_port < 65535 else self.a.port_base
                self.by_inside[key] = m
                self.by_outside[(proto, m["port"])] = m
                self.st["mappings_made"] += 1
                self.note("made", m)
            m["last_out"] = now
            m["peers"].add((bytes(ip[16:20]), dport if proto == 17 else 0))
            ip[12:16] = self.out_addr
            if proto == 17:
                ip[ihl:ihl + 2] = m["port"].to_bytes(2, "big")
            else:
                ip[ihl + 4:ihl + 6] = m["port"].to_bytes(2, "big")
            fix_ip(ip, ihl)
            fix_l4(ip, ihl, total)
            self.st["out_" + ("udp" if proto == 17 else "icmp")] += 1
            self.emit("out", bytes(ip[16:20]), ip)
        else:
            if bytes(ip[16:20]) != self.out_addr:
                self.st["dropped_not_for_nat"] += 1
                return
            if echo and ip[ihl] != 0:
                self.st["dropped_unsolicited"] += 1   # echo requests to the NAT: no host answers
                return
            m = self.by_outside.get((proto, dport))
            if m is None or (bytes(ip[12:16]), sport if proto == 17 else 0) not in m["peers"]:
                self.st["dropped_unsolicited"] += 1
                return
            ip[16:20] = m["addr"]
            if proto == 17:
                ip[ihl + 2:ihl + 4] = m["iport"].to_bytes(2, "big")
            else:
                ip[ihl + 4:ihl + 6] = m["iport"].to_bytes(2, "big")
            fix_ip(ip, ihl)
            fix_l4(ip, ihl, total)
            self.st["in_" + ("udp" if proto == 17 else "icmp")] += 1
            self.emit("in", m["addr"], ip)

    def stats(self):
        d = dict(self.st)
        d["mappings"] = [{"proto": m["proto"], "inside": "%s:%d" % (socket.inet_ntoa(m["addr"]), m["iport"]),
                          "outside_port": m["port"]} for m in self.by_inside.values()]
        d["events"] = self.log
        return d

    def dump(self):
        if self.a.stats:
            with open(self.a.stats + ".tmp", "w") as f:
                json.dump(self.stats(), f)
            import os
            os.replace(self.a.stats + ".tmp", self.a.stats)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--inside", required=True)
    ap.add_argument("--inside-addr", required=True)
    ap.add_argument("--outside", required=True)
    ap.add_argument("--outside-addr", required=True)
    ap.add_argument("--port-base", type=int, default=40000)
    ap.add_argument("--timeout", type=float, default=120.0)
    ap.add_argument("--stats", default="")
    a = ap.parse_args()
    if not 1024 <= a.port_base <= 65000 or a.timeout <= 0:
        print("nat.py: --port-base must be in [1024, 65000] and --timeout above 0", file=sys.stderr)
        sys.exit(2)
    try:
        nat = Nat(a)
    except (OSError, ValueError) as e:
        print("nat.py: %s" % e, file=sys.stderr)
        sys.exit(2)
    flags = []
    signal.signal(signal.SIGTERM, lambda *_: flags.append("stop"))
    signal.signal(signal.SIGINT, lambda *_: flags.append("stop"))
    signal.signal(signal.SIGUSR1, lambda *_: flags.append("rebind"))
    signal.signal(signal.SIGUSR2, lambda *_: flags.append("dump"))
    if a.stats:
        open(a.stats + ".ready", "w").close()
    import select
    socks = {nat.socks["in"]: "in", nat.socks["out"]: "out"}

    def signals():
        # in the order they came: a dump asked after a rebinding shows it
        while flags and flags[0] != "stop":
            f = flags.pop(0)
            if f == "rebind":
                nat.rebind()
            elif f == "dump":
                nat.dump()

    while "stop" not in flags:
        signals()
        try:
            ready, _, _ = select.select(list(socks), [], [], 0.2)
        except InterruptedError:
            continue
        # a signal that came while select waited acts before the frames
        # that woke it: a rebinding applies to the very next datagram
        signals()
        for s in ready:
            try:
                frame, addr = s.recvfrom(65535)
            except OSError:
                continue  # interrupted, or the link not up yet
            if addr[2] == PACKET_OUTGOING:
                continue  # our own transmission
            side = socks[s]
            if len(frame) < 14:
                continue
            if frame[0:6] != nat.mac[side] and frame[0:6] != BCAST:
                continue  # not for the router
            try:
                if frame[12:14] == ETH_ARP:
                    nat.arp_in(side, frame)
                elif frame[12:14] == ETH_IP:
                    nat.ip_in(side, frame)
                else:
                    nat.st["dropped_ethertype_" + side] += 1
            except OSError as e:
                nat.st["send_errors"] += 1
                print("nat.py: send: %s" % e, file=sys.stderr)
    nat.dump()
    print(json.dumps(nat.stats(), default=str))


if __name__ == "__main__":
    main()
