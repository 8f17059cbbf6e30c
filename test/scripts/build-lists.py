#!/usr/bin/env python3
"""Checks that CMakeLists.txt and wscript build the same thing.

Both files keep the same named lists (VPN_CORE_SOURCES, VPN_NS3_HEADERS, ...):
set(NAME ...) blocks in CMake and NAME = [...] assignments in wscript. They
must hold the same entries, every listed file must exist, and every source or
header under model/, helper/, test/ and examples/ must be listed somewhere, so
a file added to one build and forgotten in the other fails here.
"""
import ast
import os
import re
import sys

LISTS = [
    "VPN_CORE_SOURCES", "VPN_CORE_HEADERS", "VPN_NS3_SOURCES", "VPN_NS3_HEADERS",
    "VPN_EXAMPLES", "VPN_EXAMPLE_SUPPORT", "VPN_CORE_TESTS", "VPN_FUZZERS", "VPN_BENCHES", "VPN_NS3_BENCHES",
    "VPN_BENCH_HEADERS", "VPN_SIM_TEST_SOURCES", "VPN_SIM_TEST_HEADERS", "VPN_SIM_SUITES", "VPN_TEST_SUPPORT",
    "VPN_HOST_SOURCES", "VPN_HOST_HEADERS", "VPN_HOST_VPND", "VPN_HOST_VPNCTL", "VPN_HOST_TESTS",
]


def cmake_lists(text):
    text = re.sub(r"#[^\n]*", "", text)
    out = {}
    for name in LISTS:
        m = re.search(r"set\(\s*%s\b([^)]*)\)" % name, text)
        if not m:
            raise SystemExit("CMakeLists.txt: no set(%s ...)" % name)
        out[name] = m.group(1).split()
    return out


def wscript_lists(text):
    tree = ast.parse(text)
    out = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name) and target.id in LISTS:
                out[target.id] = list(ast.literal_eval(node.value))
    missing = [n for n in LISTS if n not in out]
    if missing:
        raise SystemExit("wscript: missing lists %s" % ", ".join(missing))
    return out


def files_of(name, entries):
    if name in ("VPN_CORE_TESTS", "VPN_FUZZERS", "VPN_BENCHES", "VPN_NS3_BENCHES",
                "VPN_HOST_TESTS"):
        return [e.split(":", 1)[1] for e in entries]
    if name == "VPN_EXAMPLES":
        return ["examples/%s.cc" % e for e in entries]
    if name == "VPN_SIM_SUITES":
        return []
    return entries


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(
        os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(root, "CMakeLists.txt")) as f:
        cm = cmake_lists(f.read())
    with open(os.path.join(root, "wscript")) as f:
        ws = wscript_lists(f.read())
    errors = []
    listed = set()
    for name in LISTS:
        a, b = cm[name], ws[name]
        if sorted(a) != sorted(b):
            only_cm = sorted(set(a) - set(b))
            only_ws = sorted(set(b) - set(a))
            errors.append("%s differs: only in CMakeLists.txt %s; only in wscript %s"
                          % (name, only_cm, only_ws))
        if len(set(a)) != len(a):
            errors.append("%s has duplicate entries" % name)
        for path in files_of(name, a):
            listed.add(path)
            if not os.path.isfile(os.path.join(root, path)):
                errors.append("%s lists %s, which does not exist" % (name, path))
    # Files that the builds should know about but neither lists.
    support = {"test/sim/vpn-test-runner.cc"}
    for top in ("model", "helper", "examples", "test/core", "test/sim", "test/fuzz",
                "test/bench"):
        for dirpath, _, names in os.walk(os.path.join(root, top)):
            for n in names:
                if not n.endswith((".c", ".h", ".cc")):
                    continue
                rel = os.path.relpath(os.path.join(dirpath, n), root)
                if rel.startswith("test/core/support/") and rel.endswith(".h"):
                    continue  # headers of the listed support sources
                if rel not in listed and rel not in support:
                    errors.append("%s is in the tree but in no build list" % rel)
    if errors:
        print("\n".join(errors))
        return 1
    print("CMakeLists.txt and wscript agree on %d lists (%d files)"
          % (len(LISTS), len(listed)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
