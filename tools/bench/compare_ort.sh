#!/bin/sh
# Same-run comparison of edgetune and ONNX Runtime on torchvision's
# MobileNetV2-1.0 at 224x224 (random weights: speed does not depend on them).
# usage: NODE_PATH=DIR/node_modules sh tools/bench/compare_ort.sh [BUILD]
#        (env: ROUNDS=5 REPEATS=40)
# Needs /usr/bin/python3 with torch + torchvision, and onnxruntime-node
# (npm install --ignore-scripts onnxruntime-node in DIR).
# The two run in separate processes, so they take turns in ROUNDS short
# rounds (ORT 1 thread, edgetune 1 and 2 threads, ORT 2 threads; REPEATS
# runs each): each round's ratio pairs runs a few seconds apart, which this
# VM's half-minute fast and slow phases would otherwise swamp.
set -eu
B=${1:-build}
ROUNDS=${ROUNDS:-5}
R=${REPEATS:-40}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
/usr/bin/python3 - "$T/mnv2.onnx" <<'PY'
import sys, torch, torchvision
torch.manual_seed(0)
m = torchvision.models.mobilenet_v2().eval()
torch.onnx.export(m, torch.randn(1, 3, 224, 224), sys.argv[1], opset_version=13)
PY
"$B/edgetune" convert "$T/mnv2.onnx" "$T/mnv2.etm" >/dev/null
echo "start $(date -u '+%Y-%m-%d %H:%M:%S') UTC, load average $(cut -d' ' -f1-3 /proc/loadavg)"
i=0
while [ "$i" -lt "$ROUNDS" ]; do
    node tools/bench/ort_bench.js "$T/mnv2.onnx" 1 "$R" >"$T/ort1.$i"
    "$B/edgetune" bench "$T/mnv2.etm" --threads 2 --repeats "$R" --json >"$T/et.$i"
    node tools/bench/ort_bench.js "$T/mnv2.onnx" 2 "$R" >"$T/ort2.$i"
    i=$((i + 1))
done
echo "end   $(date -u '+%Y-%m-%d %H:%M:%S') UTC, load average $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/python3 - "$T" "$ROUNDS" "$R" <<'PY'
import json, os, statistics, sys
d, rounds, reps = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rows = []
for i in range(rounds):
    o1 = json.load(open(os.path.join(d, "ort1.%d" % i)))
    o2 = json.load(open(os.path.join(d, "ort2.%d" % i)))
    e = json.load(open(os.path.join(d, "et.%d" % i)))
    rows.append((o1["median_ms"], e["latency_ms_1_thread"], o2["median_ms"], e["latency_ms_n_threads"]))
print("%s vs edgetune (isa %s), MobileNetV2-1.0 224x224 batch 1, medians of %s runs per round (ms)" % (o1["runtime"], e["isa"], reps))
print("%-6s %10s %10s %8s %10s %10s %8s" % ("round", "ORT 1T", "et 1T", "et/ORT", "ORT 2T", "et 2T", "et/ORT"))
for i, (a, b, c, f) in enumerate(rows):
    print("%-6d %10.3f %10.3f %8.2f %10.3f %10.3f %8.2f" % (i + 1, a, b, b / a, c, f, f / c))
r1 = [b / a for a, b, _, _ in rows]
r2 = [f / c for _, _, c, f in rows]
print("median et/ORT: 1 thread %.2f (%.2f-%.2f), 2 threads %.2f (%.2f-%.2f); < 1: edgetune faster"
      % (statistics.median(r1), min(r1), max(r1), statistics.median(r2), min(r2), max(r2)))
PY
