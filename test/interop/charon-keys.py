#!/usr/bin/env python3
"""Wireshark key files from a charon log (ike = 4, chd = 4): used only when a
second charon stands in for vpnd (INTEROP_US=charon), to check the harness.

  charon-keys.py LOG LOCAL_ADDR IKE_SPIS OUTDIR IKE_ENCR IKE_INTEG ESP_ENCR ESP_AUTH

IKE_SPIS holds one "SPIi SPIr" line per IKE SA in the order they were set up
(the harness records them from swanctl --list-sas); the Sk_* dumps in the
log are paired with them in the same order. ESP keys: RFC 7296 2.17 takes
the initiator-to-responder key first; the exchange's initiator is whoever
parsed a response in the thread that derived the keys.
"""
import re
import sys

LINE = re.compile(r'^\S+ (\d+)\[(\w+)\] (.*)$')


def main():
    log_path, local, spis_path, out, ike_encr, ike_integ, esp_encr, esp_auth = sys.argv[1:9]
    lines = [LINE.match(l) for l in open(log_path, errors="replace").read().splitlines()]
    lines = [(m.group(1), m.group(2), m.group(3)) for m in lines if m]

    def dump(i, nbytes):
        th = lines[i][0]
        hx = ""
        for t, _, text in lines[i + 1:i + 60]:
            if t != th:
                continue
            m = re.match(r'\s*\d+: (.{1,48})', text)
            if not m:
                break
            hx += "".join(re.findall(r'[0-9A-F]{2}', m.group(1)))
        return hx[:2 * nbytes].lower()

    ike_keys, esp = [], []
    cur_ike = {}
    child = None
    last_parsed = {}
    for i, (th, grp, text) in enumerate(lines):
        m = re.match(r'parsed \S+ (request|response)', text)
        if m:
            last_parsed[th] = m.group(1)
        m = re.match(r'(Sk_\w+) secret => (\d+) bytes', text)
        if m:
            cur_ike[m.group(1)] = dump(i, int(m.group(2)))
            if m.group(1) == "Sk_pr":
                ike_keys.append(cur_ike)
                cur_ike = {}
            continue
        m = re.match(r'(encryption|integrity) (initiator|responder) key => (\d+) bytes', text)
        if m:
            if child is None or child.get("th") != th or child.get("done"):
                child = {"th": th, "we_init": last_parsed.get(th) == "response", "sas": []}
                esp.append(child)
            child[m.group(1)[0] + m.group(2)[0]] = dump(i, int(m.group(3)))
            continue
        m = re.match(r'\s*SPI 0x([0-9a-f]+), src (\S+) dst (\S+)', text)
        if m and child is not None and child.get("th") == th:
            child["sas"].append((m.group(1), m.group(2), m.group(3)))
            continue
        if child is not None and child.get("th") == th and "established with SPIs" in text:
            child["done"] = True

    spis = [l.split() for l in open(spis_path).read().splitlines() if l.strip()]
    with open(out + "/ikev2_decryption_table", "w") as f:
        for (si, sr), k in zip(spis, ike_keys):
            f.write('%s,%s,%s,%s,"%s",%s,%s,"%s"\n' % (si, sr, k["Sk_ei"], k["Sk_er"], ike_encr,
                                                      k.get("Sk_ai", ""), k.get("Sk_ar", ""), ike_integ))
    seen = set()
    with open(out + "/esp_sa", "w") as f:
        for c in esp:
            for spi, src, dst in c["sas"]:
                if spi in seen:
                    continue
                seen.add(spi)
                # The exchange initiator's outbound SA uses the initiator key.
                from_init = (src == local) == c["we_init"]
                d = "i" if from_init else "r"
                auth_key = c.get("i" + d, "")
                f.write('"IPv4","%s","%s","0x%s","%s","0x%s","%s","%s"\n' % (
                    src, dst, spi, esp_encr, c["e" + d], esp_auth, "0x" + auth_key if auth_key else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
