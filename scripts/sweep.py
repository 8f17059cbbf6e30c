#!/usr/bin/env python3
"""Runs a scenario over a parameter sweep and repetitions, in parallel.

  sweep.py --bin build/vpn-scenario --scenario scenarios/NAME --out DIR
           [--sweep KEY=V1,V2,...]... [--runs N] [--set KEY=VALUE]...
           [--jobs J] [--plot FIGURE]...

Every combination of the --sweep lists (their product) runs N times (RngRun
1..N), each run as its own process into DIR/<variant>/run-<R>/, at most J at a
time (default: the number of cores). Then:
  DIR/results.csv    one row per run: the swept keys, run, and every number
                     of the run's summary.json
  DIR/aggregate.csv  one row per variant: per figure the mean and the half
                     width of its 95% confidence interval (Student's t)
  (--sweep scenario=NAME1,NAME2 runs other scenario folders, a path or a
  name beside --scenario: designs on one underlay compared)
  DIR/plots/FIG.png  each chosen figure (--plot, default: the flows' p99
                     delay, loss and goodput) against the first swept key,
                     with error bars (gnuplot)
Every variant is checked first (vpn-scenario --check): an error in any of
them stops everything before a run starts (exit 2). On a terminal a progress
line shows runs done, the simulated time of the running ones, elapsed and
estimated remaining time; otherwise one line per finished run.
"""
import argparse
import csv
import itertools
import json
import math
import os
import re
import shutil
import subprocess
import sys
import time

# Two-sided 95% Student t quantiles by degrees of freedom (1..30); 1.96 beyond.
T95 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
       2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
       2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042]


def t95(df):
    return T95[df - 1] if 1 <= df <= len(T95) else 1.96


def mean_ci(values):
    """Mean and half width of the 95% confidence interval (0 for one value)."""
    n = len(values)
    m = sum(values) / n
    if n < 2:
        return m, 0.0
    var = sum((v - m) ** 2 for v in values) / (n - 1)
    return m, t95(n - 1) * math.sqrt(var / n)


def folder_name(variant):
    if not variant:
        return "base"
    return "_".join(re.sub(r"[^A-Za-z0-9.+=-]", "-", "%s=%s" % kv) for kv in variant)


def figures(summary):
    """The numbers at the top level of a summary.json, in file order."""
    return [(k, v) for k, v in summary.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool)]


def fmt(x):
    return ("%.6f" % x).rstrip("0").rstrip(".") if isinstance(x, float) else str(x)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--scenario", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--sweep", action="append", default=[])
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--set", action="append", default=[], dest="sets")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--plot", action="append", default=[])
    a, extra = ap.parse_known_args()

    keys, lists = [], []
    for s in a.sweep:
        if "=" not in s or not s.split("=", 1)[1]:
            print("--sweep %s: expected KEY=V1,V2,..." % s, file=sys.stderr)
            return 2
        k, v = s.split("=", 1)
        keys.append(k)
        lists.append(v.split(","))
    if a.runs < 1 or a.jobs < 1:
        print("--runs and --jobs must be at least 1", file=sys.stderr)
        return 2
    variants = [list(zip(keys, combo)) for combo in itertools.product(*lists)]
    passed = extra  # other options (ns-3 ones) go to every run

    def scenario_of(variant):  # noqa: E306
        # --sweep scenario=A,B: other scenario folders (a path, or a name
        # beside --scenario), so that designs on one underlay compare
        for k, v in variant:
            if k == "scenario":
                return v if os.path.exists(v) else os.path.join(os.path.dirname(os.path.normpath(a.scenario)), v)
        return a.scenario

    def command(variant, out, extra):  # noqa: E306
        c = [a.bin, scenario_of(variant), "--out=" + out]
        for s in a.sets:
            c += ["--set", s]
        for k, v in variant:
            if k != "scenario":
                c += ["--set", "%s=%s" % (k, v)]
        return c + passed + extra

    # Every variant must be valid before anything runs.
    for v in variants:
        p = subprocess.run(command(v, os.devnull, ["--check"]), stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True)
        if p.returncode != 0:
            sys.stderr.write(p.stderr)
            return 2

    os.makedirs(a.out, exist_ok=True)
    logs = os.path.join(a.out, "logs")
    os.makedirs(logs, exist_ok=True)
    jobs = []
    for v in variants:
        for r in range(1, a.runs + 1):
            d = os.path.join(a.out, folder_name(v), "run-%d" % r)
            shutil.rmtree(d, ignore_errors=True)
            name = "%s/run-%d" % (folder_name(v), r)
            jobs.append({"variant": v, "run": r, "dir": d, "name": name,
                         "log": os.path.join(logs, name.replace("/", "_") + ".log"),
                         "progress": os.path.join(logs, name.replace("/", "_") + ".t")})
    tty = sys.stderr.isatty()
    pending = list(jobs)
    running = []
    done = 0
    failed = []
    t0 = time.time()

    def draw():
        # the progress line: drawn when a run starts (so every run shows in it
        # however fast it is) and after each poll
        sims = []
        for j in running:
            try:
                with open(j["progress"]) as f:
                    sims.append("%s t=%ss" % (j["name"], f.read().strip() or "0"))
            except OSError:
                sims.append("%s starting" % j["name"])
        el = time.time() - t0
        left = el / done * (len(jobs) - done) if done else 0
        line = "\r%d/%d runs done, elapsed %ds, ~%ds left; %s" % (
            done, len(jobs), el, left, ", ".join(sims))
        cols = shutil.get_terminal_size((100, 20)).columns
        sys.stderr.write(line[:cols - 1].ljust(cols - 1))
        sys.stderr.flush()

    while pending or running:
        while pending and len(running) < a.jobs:
            j = pending.pop(0)
            j["fh"] = open(j["log"], "w")
            j["proc"] = subprocess.Popen(
                command(j["variant"], j["dir"], ["--RngRun=%d" % j["run"], "--progress=" + j["progress"]]),
                stdout=j["fh"], stderr=subprocess.STDOUT)
            running.append(j)
            if tty:
                draw()
        time.sleep(0.2)
        for j in list(running):
            rc = j["proc"].poll()
            if rc is None:
                continue
            j["fh"].close()
            running.remove(j)
            done += 1
            if rc != 0:
                failed.append(j)
            if not tty:
                print("run %d/%d %s: %s" % (done, len(jobs), j["name"],
                                            "ok" if rc == 0 else "FAILED (exit %d, see %s)" % (rc, j["log"])),
                      flush=True)
        if tty:
            draw()
    if tty:
        sys.stderr.write("\n")
    if failed:
        for j in failed:
            print("failed: %s (log %s)" % (j["name"], j["log"]), file=sys.stderr)
        return 1

    # results.csv: one row per run
    rows, figs = [], []
    for j in jobs:
        with open(os.path.join(j["dir"], "summary.json")) as f:
            s = json.load(f)
        vals = dict(figures(s))
        for k in vals:
            if k not in figs:
                figs.append(k)
        rows.append((j, vals))
    with open(os.path.join(a.out, "results.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(keys + ["run", "folder"] + figs)
        for j, vals in rows:
            w.writerow([v for _, v in j["variant"]] + [j["run"], os.path.relpath(j["dir"], a.out)] +
                       [fmt(vals[k]) if k in vals else "" for k in figs])

    # aggregate.csv: per variant mean and 95% CI of each figure
    agg = []
    with open(os.path.join(a.out, "aggregate.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(keys + ["runs"] + [c for k in figs for c in (k + "_mean", k + "_ci95")])
        for v in variants:
            mine = [vals for j, vals in rows if j["variant"] == v]
            out = []
            stats = {}
            for k in figs:
                xs = [float(m[k]) for m in mine if k in m]
                if xs:
                    stats[k] = mean_ci(xs)
                    out += [fmt(stats[k][0]), fmt(stats[k][1])]
                else:
                    out += ["", ""]
            agg.append((v, stats))
            w.writerow([val for _, val in v] + [len(mine)] + out)

    # plots against the first swept key
    if keys and shutil.which("gnuplot"):
        chosen = a.plot or [k for k in figs if re.search(r"_(p99_ms|loss_pct|goodput_mbps)$", k)]
        pdir = os.path.join(a.out, "plots")
        os.makedirs(pdir, exist_ok=True)
        for k in chosen:
            if k not in figs:
                print("--plot %s: no such figure in summary.json" % k, file=sys.stderr)
                continue
            dat = os.path.join(pdir, k + ".dat")
            with open(dat, "w") as f:
                for i, (v, stats) in enumerate(agg):
                    if k in stats:
                        label = ",".join(val for _, val in v)
                        f.write('%d "%s" %s %s\n' % (i, label, fmt(stats[k][0]), fmt(stats[k][1])))
            plt = os.path.join(pdir, k + ".plt")
            with open(plt, "w") as f:
                f.write('set terminal png size 800,500\nset output "%s.png"\n' % k)
                f.write('set title "%s (mean, 95%% CI, %d runs each)"\n' % (k.replace("_", "\\\\_"), a.runs))
                f.write('set xlabel "%s"\nset ylabel "%s"\nset grid\nset offsets 0.5,0.5,0,0\n'
                        % (",".join(keys), k.replace("_", "\\\\_")))
                f.write('plot "%s.dat" using 1:3:4:xticlabels(2) with yerrorlines title "%s"\n'
                        % (k, k.replace("_", "\\\\_")))
            subprocess.run(["gnuplot", k + ".plt"], cwd=pdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    print("%d runs in %s: results.csv, aggregate.csv%s" % (
        len(jobs), a.out, ", plots/" if keys and shutil.which("gnuplot") else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
