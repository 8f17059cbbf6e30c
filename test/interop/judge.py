#!/usr/bin/env python3
"""Verdicts of the interop tests: both sides' views of the SAs, their packet
counters, and the capture decrypted with our key files.

Views are normalised to JSON:
  {"ike": [{"spi_i": hex16, "spi_r": hex16, "state": "ESTABLISHED"|..., "initiator": bool}],
   "child": [{"spi_in": hex8, "spi_out": hex8, "state": "INSTALLED"|...,
              "pkts_in": n, "pkts_out": n}]}

  judge.py view-swan RAW OUT            swanctl --list-sas --raw -> OUT
  judge.py view-vpnd IKEV2 IPSEC OUT    vpnctl show crypto ikev2 sa detail / ipsec sa -> OUT
  judge.py pair US SWAN [--ike N] [--child N] [--counters] [--pkts N]
      Each side has N established IKE SAs and N installed CHILD_SAs (nothing
      else), the same IKE SPIs, CHILD SPIs crosswise (our inbound = their
      outbound), and with --counters our out = their in and our in = their out
      per SA (with --pkts, each at least N).
  judge.py none US SWAN                 neither side holds any SA
  judge.py capture PCAP KEYDIR [--esp-spis US] [--notify NAME] [--min-ike N]
      With the key files: no malformed frame, no error, every ESP frame
      decrypts to an inner IP packet (IPv4 or IPv6 underlay), every encrypted IKE message decrypts;
      --esp-spis: the capture's per-SPI ESP counts equal the view's counters;
      --min-spis N: ESP under at least N SPIs; --amid-esp: every CREATE_CHILD_SA
      message lies between ESP frames (rekeys during traffic); --no-early-send
      OUR_ADDR: having answered a CHILD_SA rekey, we sent nothing on the new
      SA before the initiator showed it installed;
      --notify NAME[@SENDER]: a decrypted IKE message (from SENDER) carries that notify.
  judge.py crossed PCAP KEYDIR US_ADDR OURS THEIRS [--record FILE] [--tag TEXT]
      A request of ours of kind OURS and one of strongSwan's of kind THEIRS
      (crekey, irekey: CHILD_SA / IKE SA rekey; cdel, idel: Delete of a
      CHILD_SA / the IKE SA) were in flight at once; prints how each was answered.
  judge.py collision PCAP KEYDIR FINAL_US child|ike US_ADDR [--late|--lost] [--record FILE] [--tag TEXT]
      The two CREATE_CHILD_SA exchanges of a simultaneous rekey (one requested
      by each side, both in flight at once), decrypted with the key files: when
      both were answered with a nonce, the four nonces name the redundant SA
      (RFC 7296 2.8.1, 2.8.2: the one made by the exchange holding the lowest
      nonce) and the SA in FINAL_US (our view afterwards) must be the one the
      other exchange made. Prints (and appends to --record) which side's
      exchange held the lowest nonce and which side sent it. An answer
      without a nonce fails the check unless a request was held (--late) or
      an answer dropped (--lost).
Each check prints what it found; exit 1 on the first failed verdict.
"""
import json
import os
import re
import subprocess
import sys

NOTIFY = {"AUTHENTICATION_FAILED": 24, "NO_PROPOSAL_CHOSEN": 14, "TS_UNACCEPTABLE": 38,
          "INVALID_KE_PAYLOAD": 17}


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


# ---- strongSwan's view --------------------------------------------------------
def vici_parse(text):
    """swanctl --raw: 'name {k=v k2=[a b] sub {..}}' blocks, possibly several."""
    toks = re.findall(r'\{|\}|\[|\]|[^\s{}\[\]=]+=\[|[^\s{}\[\]]+', text)
    pos = 0

    def block():
        nonlocal pos
        d = {}
        while pos < len(toks):
            t = toks[pos]
            pos += 1
            if t == "}":
                return d
            if t.endswith("=["):
                items = []
                while toks[pos] != "]":
                    items.append(toks[pos])
                    pos += 1
                pos += 1
                d[t[:-2]] = items
            elif "=" in t:
                k, v = t.split("=", 1)
                d[k] = v
            elif pos < len(toks) and toks[pos] == "{":
                pos += 1
                d[t] = block()
        return d

    out = []
    while pos < len(toks):
        t = toks[pos]
        pos += 1
        if pos < len(toks) and toks[pos] == "{":
            pos += 1
            out.append((t, block()))
    return out


def view_swan(raw):
    v = {"ike": [], "child": []}
    for name, body in vici_parse(raw):
        if name != "event":  # "list-sa event {...}"
            continue
        for conn, sa in body.items():
            if not isinstance(sa, dict):
                continue
            v["ike"].append({"spi_i": sa.get("initiator-spi", ""), "spi_r": sa.get("responder-spi", ""),
                             "state": sa.get("state", "?"), "initiator": sa.get("initiator") == "yes",
                             "alg": algs(sa, True), "ids": "%s %s" % (sa.get("local-id"), sa.get("remote-id"))})
            for cname, c in (sa.get("child-sas") or {}).items():
                v["child"].append({"spi_in": c.get("spi-in", ""), "spi_out": c.get("spi-out", ""),
                                   "state": c.get("state", "?"),
                                   "pkts_in": int(c.get("packets-in", 0)),
                                   "pkts_out": int(c.get("packets-out", 0)), "alg": algs(c, False)})
    return v


def algs(sa, ike):
    """The negotiated algorithms as 'key=value' words (encr, keysize, integ, prf, dh)."""
    keys = [("encr-alg", "encr"), ("encr-keysize", "keysize"), ("integ-alg", "integ")]
    if ike:
        keys += [("prf-alg", "prf"), ("dh-group", "dh")]
    return " ".join("%s=%s" % (k, sa[f]) for f, k in keys if f in sa)


# ---- our view (vpnctl) ----------------------------------------------------------
def view_vpnd(ikev2, ipsec):
    v = {"ike": [], "child": []}
    cur = None
    for line in ikev2.splitlines():
        m = re.match(r'^(\d+)\s+\S+\s+\S+\s+\S+\s+(\S+)\s*$', line)
        if m:
            cur = {"state": "ESTABLISHED" if m.group(2) == "READY" else m.group(2),
                   "spi_i": "", "spi_r": "", "initiator": None}
            v["ike"].append(cur)
            continue
        if cur is None:
            continue
        m = re.search(r'Local spi: ([0-9A-Fa-f]+)\s+Remote spi: ([0-9A-Fa-f]+)', line)
        if m:
            cur["_l"], cur["_r"] = m.group(1).lower(), m.group(2).lower()
        m = re.search(r'Initiator of SA : (Yes|No)', line)
        if m:
            cur["initiator"] = m.group(1) == "Yes"
    for sa in v["ike"]:
        l, r = sa.pop("_l", ""), sa.pop("_r", "")
        if sa["initiator"]:
            sa["spi_i"], sa["spi_r"] = l, r
        else:
            sa["spi_i"], sa["spi_r"] = r, l
    # One block per CHILD_SA, starting at "interface:".
    for blk in re.split(r'\n(?=interface: )', "\n" + ipsec)[1:]:
        c = {"state": "INSTALLED"}
        m = re.search(r'#pkts encaps: (\d+)', blk)
        c["pkts_out"] = int(m.group(1)) if m else -1
        m = re.search(r'#pkts decaps: (\d+)', blk)
        c["pkts_in"] = int(m.group(1)) if m else -1
        m = re.search(r'inbound esp sas:\s*\n\s*spi: 0x([0-9A-Fa-f]+)', blk)
        c["spi_in"] = "%08x" % int(m.group(1), 16) if m else ""
        m = re.search(r'outbound esp sas:\s*\n\s*spi: 0x([0-9A-Fa-f]+)', blk)
        c["spi_out"] = "%08x" % int(m.group(1), 16) if m else ""
        v["child"].append(c)
    return v


def load(path):
    with open(path) as f:
        return json.load(f)


def summary(v):
    return "%d IKE SA(s) [%s], %d CHILD_SA(s) [%s]" % (
        len(v["ike"]), ", ".join("%s_i %s_r %s" % (s["spi_i"], s["spi_r"], s["state"]) for s in v["ike"]),
        len(v["child"]), ", ".join("in %s out %s %s pkts %d/%d" % (
            c["spi_in"], c["spi_out"], c["state"], c["pkts_in"], c["pkts_out"]) for c in v["child"]))


def pair(a):
    us, sw = load(a.us), load(a.swan)
    print("ours:        " + summary(us))
    print("strongSwan:  " + summary(sw))
    for who, v in (("ours", us), ("strongSwan's", sw)):
        est = [s for s in v["ike"] if s["state"] == "ESTABLISHED"]
        if len(est) != a.ike or len(v["ike"]) != a.ike:
            fail("%s view has %d IKE SA(s), %d established; want %d established and nothing else"
                 % (who, len(v["ike"]), len(est), a.ike))
        inst = [c for c in v["child"] if c["state"] == "INSTALLED"]
        if len(inst) != a.child or len(v["child"]) != a.child:
            fail("%s view has %d CHILD_SA(s), %d installed; want %d installed and nothing else"
                 % (who, len(v["child"]), len(inst), a.child))
    ike_us = sorted((s["spi_i"], s["spi_r"]) for s in us["ike"])
    ike_sw = sorted((s["spi_i"], s["spi_r"]) for s in sw["ike"])
    if ike_us != ike_sw:
        fail("IKE SPIs differ: ours %s, strongSwan's %s" % (ike_us, ike_sw))
    for s in us["ike"]:
        t = [x for x in sw["ike"] if (x["spi_i"], x["spi_r"]) == (s["spi_i"], s["spi_r"])][0]
        if s["initiator"] is not None and s["initiator"] == t["initiator"]:
            fail("both sides think they are the %s of IKE SA %s" % (
                "initiator" if s["initiator"] else "responder", s["spi_i"]))
    for c in us["child"]:
        t = [x for x in sw["child"] if x["spi_out"] == c["spi_in"]]
        if not t or t[0]["spi_in"] != c["spi_out"]:
            fail("our CHILD_SA in %s out %s has no crosswise match at strongSwan" % (c["spi_in"], c["spi_out"]))
        t = t[0]
        if a.counters:
            if c["pkts_out"] != t["pkts_in"] or c["pkts_in"] != t["pkts_out"]:
                fail("packet counters disagree on CHILD_SA %s/%s: ours out %d in %d, strongSwan's in %d out %d"
                     % (c["spi_out"], c["spi_in"], c["pkts_out"], c["pkts_in"], t["pkts_in"], t["pkts_out"]))
            if a.pkts and (c["pkts_out"] < a.pkts or c["pkts_in"] < a.pkts):
                fail("too few packets on CHILD_SA %s/%s: out %d in %d, want at least %d each way"
                     % (c["spi_out"], c["spi_in"], c["pkts_out"], c["pkts_in"], a.pkts))
    for words, key, items in ((a.swan_ike, "alg", sw["ike"]), (a.swan_esp, "alg", sw["child"]),
                              (a.swan_ids, "ids", sw["ike"])):
        for x in items:
            have = x.get(key, "")
            if words and any(w not in have.split() for w in words.split()):
                fail("strongSwan negotiated '%s', want '%s'" % (have, words))
    print("views agree: %d IKE SA(s), %d CHILD_SA(s)%s" % (
        a.ike, a.child, ", packet counters equal" if a.counters else ""))


def none(a):
    us, sw = load(a.us), load(a.swan)
    print("ours:        " + summary(us))
    print("strongSwan:  " + summary(sw))
    if us["ike"] or us["child"]:
        fail("an SA is left on our side")
    if sw["ike"] or sw["child"]:
        fail("an SA is left on strongSwan's side")
    print("no SA left on either side")


# ---- capture -----------------------------------------------------------------
def tshark(pcap, keydir, filt, fields):
    env = dict(os.environ, XDG_CONFIG_HOME=keydir)
    cmd = ["tshark", "-r", pcap, "-o", "esp.enable_encryption_decode:TRUE", "-Y", filt, "-T", "fields",
           "-E", "separator=|"]
    for f in fields:
        cmd += ["-e", f]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        fail("tshark failed: " + r.stderr.strip()[-300:])
    return [l.split("|") for l in r.stdout.splitlines() if l.strip()]


def early_sends(rows, us):
    """Frames where we, having answered a CREATE_CHILD_SA, sent on a new SA
    before the peer showed it had installed its side (its own first packet
    on a new SA, or its next INFORMATIONAL request, e.g. the Delete of the
    old pair). The initiator installs its inbound SA only when our response
    arrives: a packet sent sooner can be lost (RFC 7296 2.8)."""
    seen = set()
    pending = None
    out = []
    for num, spi, src, xchg, _, _, flags in rows:
        src = src.split(",")[0]
        x = xchg.split(",")[0] if xchg else ""
        resp = bool(int(flags.split(",")[0], 16) & 0x20) if flags else False
        new = spi and spi.split(",")[0] not in seen
        if spi:
            seen.add(spi.split(",")[0])
        if src == us and x == "36" and resp:
            pending = num
        elif pending and src != us and (new or (x == "37" and not resp)):
            pending = None
        elif pending and src == us and new:
            out.append("frame %s: our first packet on new SA %s went out before strongSwan had installed it "
                       "(our CREATE_CHILD_SA response: frame %s)" % (num, spi, pending))
            pending = None
    return out


def capture(a):
    keydir = a.keydir
    for f in ("esp_sa", "ikev2_decryption_table"):
        p = os.path.join(keydir, "wireshark", f)
        if not os.path.isfile(p):
            fail("key file %s is missing" % p)
    bad = tshark(a.pcap, keydir, "_ws.malformed || _ws.expert.severity >= error",
                 ["frame.number", "_ws.expert.message"])
    # One pass over every frame: two sources mean ESP decrypted to an inner
    # IP packet; isakmp.enc.pad_length exists only in a decrypted SK payload.
    rows = tshark(a.pcap, keydir, "frame", ["frame.number", "esp.spi", "ip.src", "isakmp.exchangetype",
                                            "isakmp.enc.pad_length", "isakmp.notify.msgtype", "isakmp.flags",
                                            "ipv6.src", "frame.protocols"])
    # An IPv6 underlay (frame.protocols eth:ethertype:ipv6:...): the outer
    # source is ipv6.src's first value, and a decrypted ESP frame adds the
    # inner header's source (ip.src, or ipv6.src's second). Rows keep their
    # first seven fields as before, the sources in ip.src's place in order.
    for r in rows:
        if len(r) > 8 and r[8].startswith("eth:ethertype:ipv6:"):
            r[2] = ",".join(r[7].split(",") + ([r[2]] if r[2] else []))
        del r[7:]
    esp, dec, ike, ike_dec, init, cc, notes = [], [], [], [], [], [], []
    info_from = {}  # frame -> (exchange type, sender) of each encrypted IKE message
    early = early_sends(rows, a.no_early_send) if a.no_early_send else []
    for num, spi, src, xchg, pad, notify, _ in rows:
        num = int(num)
        srcs = src.split(",")
        if spi:
            esp.append((num, "%08x" % int(spi.split(",")[0], 16)))
            if len(srcs) == 2:
                dec.append(num)
        if xchg:
            if xchg.split(",")[0] == "34":
                init.append(num)
            else:
                ike.append(num)
                info_from[num] = (xchg.split(",")[0], srcs[0])
                if pad:
                    ike_dec.append(num)
                if xchg.split(",")[0] == "36":
                    cc.append(num)
        for n in notify.split(",") if notify else []:
            notes.append((num, int(n), srcs[0]))
    print("capture: %d frames: %d IKE_SA_INIT, %d other IKE (%d decrypt), %d ESP (%d decrypt to IP), "
          "%d malformed or in error" % (len(rows), len(init), len(ike), len(ike_dec), len(esp), len(dec), len(bad)))
    if bad:
        fail("malformed or erroneous frames: %s" % "; ".join("%s %s" % tuple(b[:2]) for b in bad[:5]))
    if len(dec) != len(esp):
        nd = sorted(set(f[0] for f in esp) - set(dec))
        fail("%d ESP frame(s) do not decrypt with our key files (frames %s)" % (
            len(nd), ", ".join(map(str, nd[:10]))))
    if len(ike_dec) != len(ike) and a.foreign_delete_from:
        # only INFORMATIONAL messages the peer sent on an IKE SA we never
        # had the keys of (its answer to our rekey lost, RFC 7296 2.8.2):
        # said, and left out of the verdict
        nd = sorted(set(ike) - set(ike_dec))
        if all(info_from[f] == ("37", a.foreign_delete_from) for f in nd):
            print("capture: %d INFORMATIONAL message(s) from %s on an IKE SA our side never had the keys of "
                  "(frames %s)" % (len(nd), a.foreign_delete_from, ", ".join(map(str, nd[:10]))))
            ike = [f for f in ike if f not in nd]
    if len(ike_dec) != len(ike):
        nd = sorted(set(ike) - set(ike_dec))
        fail("%d IKE message(s) do not decrypt with our key files (frames %s)" % (
            len(nd), ", ".join(map(str, nd[:10]))))
    if len(ike) < a.min_ike:
        fail("only %d encrypted IKE messages in the capture, want at least %d" % (len(ike), a.min_ike))
    if a.min_esp and len(esp) < a.min_esp:
        fail("only %d ESP frames in the capture, want at least %d" % (len(esp), a.min_esp))
    if a.esp_spis:
        v = load(a.esp_spis)
        per = {}
        for _, spi in esp:
            per[spi] = per.get(spi, 0) + 1
        for c in v["child"]:
            for spi, n in ((c["spi_out"], c["pkts_out"]), (c["spi_in"], c["pkts_in"])):
                if per.get(spi, 0) != n:
                    fail("capture holds %d ESP frames with SPI %s, the view counts %d" % (per.get(spi, 0), spi, n))
        print("capture: per-SPI ESP counts equal the counters")
    if a.no_early_send:
        if early:
            fail("; ".join(early[:3]))
        print("capture: after answering a CHILD_SA rekey our side sent on the new SA only once the "
              "initiator had it installed")
    if a.min_spis:
        spis = set(spi for _, spi in esp)
        if len(spis) < a.min_spis:
            fail("the capture's ESP uses %d SPIs, want at least %d (old and new SAs)" % (len(spis), a.min_spis))
        print("capture: ESP under %d SPIs" % len(spis))
    if a.amid_esp:
        # Every CREATE_CHILD_SA message falls between ESP frames: rekeys happened during traffic.
        nums = [n for n, _ in esp]
        if not cc:
            fail("no CREATE_CHILD_SA exchange in the capture")
        if not nums or min(cc) < nums[0] or max(cc) > nums[-1]:
            fail("CREATE_CHILD_SA frames %s are not all between ESP frames %s and %s"
                 % (cc, nums[0] if nums else "-", nums[-1] if nums else "-"))
        print("capture: %d CREATE_CHILD_SA messages, all amid ESP traffic" % len(cc))
    for spec in a.notify or []:
        name, _, sender = spec.partition("@")
        hits = [n for n, code, src in notes if code == NOTIFY[name] and (not sender or src == sender)]
        if not hits:
            fail("no decrypted IKE message%s carries notify %s" % (" from " + sender if sender else "", name))
        print("capture: notify %s in frame(s) %s" % (name, ", ".join(map(str, hits))))
    print("capture decrypts with the key files")


def nonce_lt(a, b):
    """a < b compared as octet strings over the shorter length (memcmp)."""
    n = min(len(a), len(b))
    return bytes.fromhex(a[:n]) < bytes.fromhex(b[:n])


def exchanges(pcap, keydir, us):
    """The CREATE_CHILD_SA and INFORMATIONAL exchanges of the capture, decrypted:
    each {"by": "us"|"swan" (who requested), "kind", "req", "resp"}; kind is
    crekey (ESP proposal with REKEY_SA, RFC 7296 1.3.3), irekey (IKE proposal,
    1.3.2), ccreate (ESP proposal without REKEY_SA), cdel / idel (a Delete
    payload for ESP / the IKE SA, 1.4.1), info (anything else)."""
    fields = ["frame.number", "ip.src", "ipv6.src", "isakmp.ispi", "isakmp.messageid", "isakmp.flag_r",
              "isakmp.nonce", "isakmp.spi", "isakmp.prop.protoid", "isakmp.notify.msgtype",
              "isakmp.exchangetype", "isakmp.delete.protoid"]
    rows = tshark(pcap, keydir, "isakmp.exchangetype == 36 || isakmp.exchangetype == 37", fields)
    ex = {}   # (ispi, mid, requester) -> exchange
    for r in rows:
        r += [""] * (len(fields) - len(r))
        num, src4, src6, ispi, mid, resp, nonce, spis, protos, notes, etype, delp = r
        src = src4 or src6
        is_resp = resp in ("1", "True")
        mine = src == us
        key = (ispi, mid, "us" if mine != is_resp else "swan")
        e = ex.setdefault(key, {"by": key[2], "req": None, "resp": None, "etype": etype})
        half = "resp" if is_resp else "req"
        if e[half] is None:  # a retransmission repeats the first
            e[half] = {"frame": int(num), "nonce": nonce.split(",")[0],
                       "spis": set(x.lower() for x in spis.split(",") if x),
                       "protos": protos.split(","), "notes": [n for n in notes.split(",") if n],
                       "del": [d for d in delp.split(",") if d]}
    out = []
    for e in ex.values():
        q = e["req"]
        if q is None:
            continue
        if e["etype"] == "36":
            if "1" in q["protos"]:
                e["kind"] = "irekey"
            else:
                e["kind"] = "crekey" if "16393" in q["notes"] else "ccreate"
        elif "1" in q["del"]:
            e["kind"] = "idel"
        elif "3" in q["del"]:
            e["kind"] = "cdel"
        else:
            e["kind"] = "info"
        out.append(e)
    return sorted(out, key=lambda e: e["req"]["frame"])


def in_flight_together(x, y):
    end = lambda e: e["resp"]["frame"] if e["resp"] else 1 << 60
    return x["req"]["frame"] < end(y) and y["req"]["frame"] < end(x)


def answer(e):
    """How an exchange was answered, for the log."""
    r = e["resp"]
    if r is None:
        return "no answer captured"
    names = {"43": "TEMPORARY_FAILURE", "44": "CHILD_SA_NOT_FOUND", "14": "NO_PROPOSAL_CHOSEN"}
    err = [names.get(n, n) for n in r["notes"] if n.isdigit() and int(n) < 16384]
    if err:
        return "answered %s (frame %d)" % ("+".join(err), r["frame"])
    if r["nonce"]:
        return "answered with a new SA (frame %d)" % r["frame"]
    if r["del"]:
        return "answered with a Delete (frame %d)" % r["frame"]
    return "answered empty (frame %d)" % r["frame"]


def crossed(a):
    """Our request of kind OURS and strongSwan's of kind THEIRS were in flight at once."""
    ex = exchanges(a.pcap, a.keydir, a.us_addr)
    print("capture: exchanges %s" % ", ".join("%s %s@%d" % (e["by"], e["kind"], e["req"]["frame"]) for e in ex))
    pairs = [(x, y) for x in ex if x["by"] == "us" and x["kind"] == a.ours
             for y in ex if y["by"] == "swan" and y["kind"] == a.theirs and in_flight_together(x, y)]
    if not pairs:
        fail("no %s of ours in flight together with a %s of strongSwan's: the requests did not cross" % (a.ours, a.theirs))
    x, y = pairs[0]
    line = "%s our %s %s; strongSwan's %s %s" % (a.tag, a.ours, answer(x), a.theirs, answer(y))
    print("crossed: " + line)
    if a.record:
        with open(a.record, "a") as f:
            f.write(line + "\n")


def collision(a):
    kind, us = a.kind, a.us_addr
    rekeys = [e for e in exchanges(a.pcap, a.keydir, us) if e["kind"] == ("crekey" if kind == "child" else "irekey")]
    pairs = [(x, y) for x in rekeys if x["by"] == "us" for y in rekeys if y["by"] == "swan"
             and in_flight_together(x, y)]
    if a.late and not pairs:
        # a request held back may reach us after our own rekey ended: they
        # crossed at the other end only; the first rekey of each side
        firsts = [[e for e in rekeys if e["by"] == who][:1] for who in ("us", "swan")]
        pairs = [(firsts[0][0], firsts[1][0])] if all(firsts) else []
    print("capture: %d %s SA rekey exchange(s) (%s), %d crossing pair(s)" % (
        len(rekeys), kind.upper(), ", ".join("%s frame %d" % (e["by"], e["req"]["frame"]) for e in rekeys), len(pairs)))
    if len(pairs) != 1:
        fail("want exactly one pair of crossing %s SA rekeys (one requested by each side)" % kind.upper())
    ours, theirs = pairs[0]
    answered = all(e["resp"] and e["resp"]["nonce"] for e in (ours, theirs))
    if not answered and not (a.late or a.lost):
        # both requests crossed and nothing was dropped or held: each must
        # have been answered with a new SA (2.8.1), else a refusal (say a
        # TEMPORARY_FAILURE in place of resolving the collision) would pass
        fail("one %s SA rekey of the crossing pair was not answered with a nonce (%s; %s)" % (
            kind.upper(), answer(ours), answer(theirs)))
    if not answered:
        for e in (ours, theirs):
            if not (e["resp"] and e["resp"]["nonce"]):
                print("collision: %s rekey: %s: its nonce is unknown here, the nonce rule is not checked"
                      % ("our" if e["by"] == "us" else "strongSwan's",
                         "answered without a nonce (notify %s)" % e["resp"]["notes"] if e["resp"] else "no answer captured"))
        line = "%s %s nonces not checked (an answer without a nonce or never captured)" % (a.tag, kind)
    else:
        low = {}
        for e in (ours, theirs):
            ni, nr = e["req"]["nonce"], e["resp"]["nonce"]
            # who sent the lower of the exchange's two nonces
            low[e["by"]] = (ni, e["by"]) if nonce_lt(ni, nr) or ni == nr else (nr, "swan" if e["by"] == "us" else "us")
            print("collision: %s exchange: Ni %s... Nr %s..." % (e["by"], ni[:16], nr[:16]))
        lowest_in = "us" if nonce_lt(low["us"][0], low["swan"][0]) else "swan"
        sender = low[lowest_in][1]
        survivor_should = "swan" if lowest_in == "us" else "us"
        fin = load(a.final_us)
        if kind == "child":
            if len(fin["child"]) != 1:
                fail("our view after the collision has %d CHILD_SAs" % len(fin["child"]))
            have = {fin["child"][0]["spi_in"], fin["child"][0]["spi_out"]}
        else:
            if len(fin["ike"]) != 1:
                fail("our view after the collision has %d IKE SAs" % len(fin["ike"]))
            have = {fin["ike"][0]["spi_i"], fin["ike"][0]["spi_r"]}
        made = [e["by"] for e in (ours, theirs) if have <= (e["req"]["spis"] | e["resp"]["spis"])]
        if len(made) != 1:
            fail("the surviving %s SA %s was made by %s of the crossing exchanges" % (kind.upper(), sorted(have), len(made) or "none"))
        print("collision: lowest nonce in %s exchange (sent by %s): the SA %s exchange made must survive; %s exchange's did"
              % ("our" if lowest_in == "us" else "strongSwan's", "us" if sender == "us" else "strongSwan",
                 "our" if survivor_should == "us" else "strongSwan's", "our" if made[0] == "us" else "strongSwan's"))
        if made[0] != survivor_should:
            fail("the surviving %s SA is the one RFC 7296 2.8.1 names redundant" % kind.upper())
        line = "%s %s lowest nonce in %s exchange, sent by %s; %s exchange's SA survived" % (
            a.tag, kind, "our" if lowest_in == "us" else "strongSwan's",
            "us" if sender == "us" else "strongSwan", "our" if made[0] == "us" else "strongSwan's")
    if a.record:
        with open(a.record, "a") as f:
            f.write(line + "\n")
    print("collision: " + line)


def main():
    import argparse
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("view-swan")
    s.add_argument("raw")
    s.add_argument("out")
    s = sub.add_parser("view-vpnd")
    s.add_argument("ikev2")
    s.add_argument("ipsec")
    s.add_argument("out")
    s = sub.add_parser("pair")
    s.add_argument("us")
    s.add_argument("swan")
    s.add_argument("--ike", type=int, default=1)
    s.add_argument("--child", type=int, default=1)
    s.add_argument("--counters", action="store_true")
    s.add_argument("--pkts", type=int, default=0)
    s.add_argument("--swan-ike", default="", help="words strongSwan's IKE SAs must show, e.g. 'encr=AES_GCM_16 dh=ECP_256'")
    s.add_argument("--swan-esp", default="", help="words strongSwan's CHILD_SAs must show")
    s.add_argument("--swan-ids", default="", help="strongSwan's 'local-id remote-id'")
    s = sub.add_parser("none")
    s.add_argument("us")
    s.add_argument("swan")
    s = sub.add_parser("capture")
    s.add_argument("pcap")
    s.add_argument("keydir")
    s.add_argument("--esp-spis")
    s.add_argument("--notify", action="append")
    s.add_argument("--min-ike", type=int, default=0)
    s.add_argument("--min-esp", type=int, default=0)
    s.add_argument("--min-spis", type=int, default=0)
    s.add_argument("--amid-esp", action="store_true")
    s.add_argument("--no-early-send", metavar="OUR_ADDR")
    s.add_argument("--foreign-delete-from", metavar="PEER_ADDR",
                   help="undecrypted IKE messages allowed if all are INFORMATIONAL from PEER_ADDR")
    s = sub.add_parser("crossed")
    s.add_argument("pcap")
    s.add_argument("keydir")
    s.add_argument("us_addr")
    s.add_argument("ours", choices=["crekey", "irekey", "cdel", "idel"])
    s.add_argument("theirs", choices=["crekey", "irekey", "cdel", "idel"])
    s.add_argument("--record")
    s.add_argument("--tag", default="")
    s = sub.add_parser("collision")
    s.add_argument("pcap")
    s.add_argument("keydir")
    s.add_argument("final_us")
    s.add_argument("kind", choices=["child", "ike"])
    s.add_argument("us_addr")
    s.add_argument("--late", action="store_true", help="a request was held back: the two may not overlap here")
    s.add_argument("--lost", action="store_true", help="an answer was dropped: it may be missing from the capture")
    s.add_argument("--record")
    s.add_argument("--tag", default="")
    a = p.parse_args()
    if a.cmd == "view-swan":
        json.dump(view_swan(open(a.raw).read()), open(a.out, "w"))
    elif a.cmd == "view-vpnd":
        json.dump(view_vpnd(open(a.ikev2).read(), open(a.ipsec).read()), open(a.out, "w"))
    elif a.cmd == "pair":
        pair(a)
    elif a.cmd == "none":
        none(a)
    elif a.cmd == "capture":
        capture(a)
    elif a.cmd == "crossed":
        crossed(a)
    elif a.cmd == "collision":
        collision(a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
