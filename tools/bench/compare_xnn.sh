#!/bin/sh
# Same-run comparison of edgetune and XNNPACK (Debian libxnnpack-dev, its C
# operator API; tools/bench/xnn_bench.c) on torchvision's MobileNetV2-1.0 at
# 224x224, batch 1 (random weights: speed does not depend on them).
# usage: sh tools/bench/compare_xnn.sh [BUILD]   (env: REPEATS=100 THREADS=2 OUT=dir)
# Needs /usr/bin/python3 with torch + torchvision, and libxnnpack-dev +
# libpthreadpool-dev. Prints a per-layer table (1 thread, median of REPEATS
# per layer, edgetune with every layer on its own), a per-block table
# (edgetune's fused expand/depthwise/project blocks against the sum of
# XNNPACK's three layers) and both whole-network latencies with 1 and
# THREADS threads.
# OUT=dir keeps the raw JSON (both libraries, one file) there.
set -eu
B=${1:-build}
R=${REPEATS:-100}
N=${THREADS:-2}
make --no-print-directory -s BUILD="$B" cli xnn-bench
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
/usr/bin/python3 - "$T/mnv2.onnx" <<'PY'
import sys, torch, torchvision
torch.manual_seed(0)
m = torchvision.models.mobilenet_v2().eval()
torch.onnx.export(m, torch.randn(1, 3, 224, 224), sys.argv[1], opset_version=13)
PY
"$B/edgetune" convert "$T/mnv2.onnx" "$T/mnv2.etm" >/dev/null
"$B/edgetune" info "$T/mnv2.etm" >"$T/info.txt"

# One process (xnn_bench --edgetune): XNNPACK and edgetune take turns in
# blocks of 5 runs, per layer (1 thread) and whole network (1 and N threads),
# so both see the same phase of a noisy machine.
echo "start $(date -u '+%Y-%m-%d %H:%M:%S') UTC, load average $(cut -d' ' -f1-3 /proc/loadavg)"
"$B/xnn_bench" --threads "$N" --repeats "$R" --edgetune "$T/mnv2.etm" >"$T/both.json"
echo "end   $(date -u '+%Y-%m-%d %H:%M:%S') UTC, load average $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -n "${OUT:-}" ]; then mkdir -p "$OUT" && cp "$T/both.json" "$T/info.txt" "$OUT/"; fi

REPEATS=$R XNN_VERSION=$(dpkg-query -W -f '${Version}' libxnnpack-dev 2>/dev/null || echo unknown) \
/usr/bin/python3 - "$T/info.txt" "$T/both.json" <<'PY'
import json, os, re, sys

info_path, both_path = sys.argv[1:3]
both = json.load(open(both_path))
et, xnn, etf = both["et"], both["xnn"], both["etf"]

# edgetune info rows: index, name, op, act, output NHWC, params, MACs, geometry
rows = [l.split() for l in open(info_path) if re.match(r"\s+\d+\s", l)]
info = [{"name": r[1], "op": r[2], "out": [int(v) for v in r[4].split("x")], "macs": int(r[6])} for r in rows]

def module_path(onnx_name):
    # "/features/features.2/conv/conv.1/conv.1.0/Conv_output_0" -> "features.2.conv.1.0"
    path = []
    for c in onnx_name.split("/")[1:-1]:
        if path and c.startswith(path[-1] + "."):
            path[-1] = c
        else:
            path.append(c)
    return ".".join(path)

ets, xs = et["layers"], xnn["layers"]
if not (len(info) == len(ets) == len(xs)):
    sys.exit("layer counts differ: edgetune info %d, edgetune bench %d, xnn_bench %d" % (len(info), len(ets), len(xs)))
for i, (a, e, x) in enumerate(zip(info, ets, xs)):
    mp = module_path(a["name"])
    if a["name"] != e["name"] or a["op"] != x["op"] or a["out"] != x["out"] or a["macs"] != x["macs"] \
            or (mp and not x["name"].startswith(mp)):
        sys.exit("layer %d does not line up: edgetune %s %s %s %d MACs, xnn_bench %s %s %s %d MACs"
                 % (i, a["name"], a["op"], a["out"], a["macs"], x["name"], x["op"], x["out"], x["macs"]))

print("edgetune (isa %s) vs XNNPACK %s (operator API), MobileNetV2-1.0 224x224 batch 1"
      % (et["isa"], os.environ.get("XNN_VERSION", "?")))
print("all %d layers line up (op, output shape, MACs); %d MACs in total\n" % (len(xs), sum(a["macs"] for a in info)))
print("%-3s %-22s %-28s %11s %11s %8s" % ("#", "layer", "what", "edgetune ms", "XNNPACK ms", "XNN/et"))
kinds = {}
for i, (e, x) in enumerate(zip(ets, xs)):
    ratio = x["ms"] / e["ms"] if e["ms"] > 0 else float("nan")
    print("%-3d %-22s %-28s %11.4f %11.4f %8.2f" % (i, x["name"], x["desc"], e["ms"], x["ms"], ratio))
    k = x["desc"].split()[0]
    k = {"conv": "first conv 3x3", "pw": "pointwise", "dw": "depthwise", "add": "add", "global": "avgpool", "fc": "linear"}[k]
    s = kinds.setdefault(k, [0, 0.0, 0.0])
    s[0] += 1; s[1] += e["ms"]; s[2] += x["ms"]

print("\nby kind (sum of per-layer medians)")
for k, (n, a, b) in kinds.items():
    print("  %-16s %3d layers %11.4f %11.4f %8.2f" % (k, n, a, b, b / a))
fl = etf["layers"]
print("\nfused blocks (edgetune: [expand+]depthwise+project in one pass; XNNPACK: the same layers one by one)")
print("%-3s %-22s %-28s %11s %11s %8s" % ("#", "block", "depthwise", "edgetune ms", "XNNPACK ms", "XNN/et"))
for i, f in enumerate(fl):
    if f.get("fused") != 1:
        continue
    j = i + 1
    while j < len(fl) and fl[j].get("fused") == 2:
        j += 1
    xs3 = sum(x["ms"] for x in xs[i:j])
    dw = next(x["desc"] for x in xs[i:j] if x["desc"].startswith("dw"))
    print("%-3d %-22s %-28s %11.4f %11.4f %8.2f" % (i, xs[i]["name"].rsplit(".conv", 1)[0], dw, f["ms"], xs3,
                                                   xs3 / f["ms"] if f["ms"] > 0 else float("nan")))
print("\n%-44s %11s %11s %8s" % ("", "edgetune", "XNNPACK", "XNN/et"))
for label, src, key in (("sum of per-layer medians, 1 thread (ms)", et, "sum_of_layers_ms"),
                        ("sum of per-layer/block medians, fused (ms)", etf, "sum_of_layers_ms"),
                        ("whole network, 1 thread (ms)", etf, "latency_ms_1_thread"),
                        ("whole network, %d threads (ms)" % etf["threads"], etf, "latency_ms_n_threads")):
    ref = xnn["sum_of_layers_ms"] if key == "sum_of_layers_ms" else xnn[key]
    print("%-44s %11.3f %11.3f %8.2f" % (label, src[key], ref, ref / src[key]))
print("%-44s %11.3f" % ("edgetune whole network unfused, 1 thread (ms)", etf["latency_ms_1_thread_unfused"]))
print("%-44s %11.2f %11.2f" % ("speed-up 1 -> %d threads" % etf["threads"], etf["speedup"], xnn["speedup"]))
print("(XNN/et > 1: edgetune faster; medians of %s runs each, the two libraries taking turns in blocks of %d runs)"
      % (os.environ.get("REPEATS", "?"), both["interleaved_blocks"]))
PY
