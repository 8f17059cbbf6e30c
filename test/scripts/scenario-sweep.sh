#!/bin/sh
# A sweep of two WAN delays x two runs: four run folders, results.csv with
# four rows whose figures equal each run's summary.json, and aggregate.csv
# whose means and 95% confidence intervals are recomputed here. 5% loss on
# hostB's LAN makes the runs (RngRun 1, 2) differ, so the intervals are not 0.
# Usage: scenario-sweep.sh VPN_SCENARIO_BINARY SOURCE_DIR WORK_DIR
set -eu
bin=$1 src=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
python3 "$src/scripts/sweep.py" --bin "$bin" --scenario "$src/scenarios/flexvpn-l2l-static" \
    --out "$work/out" --sweep link.wan.delay=10ms,40ms --runs 2 --jobs 2 \
    --set scenario.duration=13 --set link.lan2.loss=0.05 --plot flow_voice_p50_ms >"$work/log" 2>&1 || { cat "$work/log" >&2; exit 1; }
cat "$work/log"
python3 - "$work/out" <<'PY'
import csv, json, math, os, sys
out = sys.argv[1]
runs = sorted(os.path.join(r, d) for r, ds, _ in os.walk(out) for d in ds if d.startswith("run-"))
assert len(runs) == 4, runs
rows = list(csv.DictReader(open(os.path.join(out, "results.csv"))))
assert len(rows) == 4, len(rows)
figs = [k for k in rows[0] if k not in ("link.wan.delay", "run", "folder")]
assert "flow_voice_p50_ms" in figs and "flow_voice_received" in figs, figs
for r in rows:
    s = json.load(open(os.path.join(out, r["folder"], "summary.json")))
    for k in figs:
        assert abs(float(r[k]) - float(s[k])) < 1e-9, (r["folder"], k, r[k], s[k])
# runs with 40 ms one-way WAN delay are 30 ms slower than with 10 ms
p50 = {r["link.wan.delay"]: float(r["flow_voice_p50_ms"]) for r in rows}
assert 29 < p50["40ms"] - p50["10ms"] < 31, p50
recv = [float(r["flow_voice_received"]) for r in rows]
assert len(set(recv)) > 1, ("the runs did not differ", recv)
agg = list(csv.DictReader(open(os.path.join(out, "aggregate.csv"))))
assert len(agg) == 2
for a in agg:
    mine = [r for r in rows if r["link.wan.delay"] == a["link.wan.delay"]]
    assert int(a["runs"]) == len(mine) == 2
    for k in figs:
        xs = [float(r[k]) for r in mine]
        m = sum(xs) / 2
        ci = 12.706 * math.sqrt(sum((x - m) ** 2 for x in xs) / 1 / 2)
        assert abs(float(a[k + "_mean"]) - m) < 1e-6, (k, a[k + "_mean"], m)
        assert abs(float(a[k + "_ci95"]) - ci) < 1e-6, (k, a[k + "_ci95"], ci)
assert any(float(a["flow_voice_received_ci95"]) > 0 for a in agg)
print("4 runs; results.csv equals the summaries; aggregate.csv recomputed (%d figures)" % len(figs))
PY
[ -s "$work/out/plots/flow_voice_p50_ms.png" ] || { echo "no plot" >&2; exit 1; }
echo "plot written"

# Progress: not on a terminal, one line per finished run (4, numbered) and no
# progress line; on a terminal (script(1) gives the sweep one) the progress
# line: runs done of total, elapsed and remaining time, each running run's
# simulated second.
[ "$(grep -c '^run [1-4]/4 link.wan.delay=[14]0ms/run-[12]: ok$' "$work/log")" -eq 4 ] && ! grep -q 'runs done' "$work/log" ||
    { echo "not on a terminal: wanted one line per finished run" >&2; exit 1; }
if command -v script >/dev/null 2>&1; then
    script -qec "python3 '$src/scripts/sweep.py' --bin '$bin' --scenario '$src/scenarios/flexvpn-l2l-static' \
        --out '$work/tty' --runs 2 --jobs 1 --set scenario.duration=12" /dev/null >"$work/tty.log" 2>&1 ||
        { cat "$work/tty.log" >&2; exit 1; }
    tr '\r' '\n' <"$work/tty.log" >"$work/tty.lines"
    grep -Eq '^0/2 runs done, elapsed [0-9]+s, ~0s left; base/run-1 (t=[0-9.]+s|starting)' "$work/tty.lines" &&
        grep -q '^1/2 runs done, elapsed [0-9]*s, ~[0-9]*s left; base/run-2 ' "$work/tty.lines" &&
        ! grep -q '^run 1/2' "$work/tty.lines" || { echo "on a terminal: no progress line" >&2; cat "$work/tty.lines" >&2; exit 1; }
    echo "progress: one line per run without a terminal; on one: $(grep -c 'runs done' "$work/tty.lines") progress updates"
fi

# --sweep scenario=A,B compares scenario folders (here the GET VPN and
# FlexVPN designs of the comparison, 6 s each): one folder per design, each
# run its own scenario (GET VPN members registered there, IKE SAs in the
# other), branch-to-branch voice through the FlexVPN hub slower than GET
# VPN's direct path.
python3 "$src/scripts/sweep.py" --bin "$bin" --scenario "$src/scenarios/get-vs-flex-getvpn" \
    --out "$work/cmp" --sweep scenario=get-vs-flex-getvpn,get-vs-flex-flexvpn --jobs 2 \
    --set scenario.duration=6 >"$work/cmp.log" 2>&1 || { cat "$work/cmp.log" >&2; exit 1; }
python3 - "$work/cmp" <<'PY'
import csv, os, sys
out = sys.argv[1]
rows = {r["scenario"]: r for r in csv.DictReader(open(os.path.join(out, "aggregate.csv")))}
assert sorted(rows) == ["get-vs-flex-flexvpn", "get-vs-flex-getvpn"], sorted(rows)
g, f = rows["get-vs-flex-getvpn"], rows["get-vs-flex-flexvpn"]
assert float(g["gdoi_registered_groups_branch1_mean"]) == 1 and f["gdoi_registered_groups_branch1_mean"] == "", (g, f)
assert float(f["ike_sas_up_branch1_mean"]) == 1, f
print("scenario sweep: b1-b2 voice p99 %s ms (GET VPN), %s ms (FlexVPN via the hub)" %
      (g["flow_b1-b2_p99_ms_mean"], f["flow_b1-b2_p99_ms_mean"]))
assert float(f["flow_b1-b2_p99_ms_mean"]) > float(g["flow_b1-b2_p99_ms_mean"]) + 20
PY
