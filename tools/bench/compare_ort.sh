#!/bin/sh
# Same-run comparison of edgetune and ONNX Runtime on torchvision's
# MobileNetV2-1.0 at 224x224 (random weights: speed does not depend on them).
# usage: NODE_PATH=DIR/node_modules sh tools/bench/compare_ort.sh [BUILD]
# Needs /usr/bin/python3 with torch + torchvision, and onnxruntime-node
# (npm install --ignore-scripts onnxruntime-node in DIR).
set -eu
B=${1:-build}
T=$(mktemp -d)
/usr/bin/python3 - "$T/mnv2.onnx" <<'PY'
import sys, torch, torchvision
torch.manual_seed(0)
m = torchvision.models.mobilenet_v2().eval()
torch.onnx.export(m, torch.randn(1, 3, 224, 224), sys.argv[1], opset_version=13)
PY
"$B/edgetune" convert "$T/mnv2.onnx" "$T/mnv2.etm" >/dev/null
for threads in 1 2; do
    node tools/bench/ort_bench.js "$T/mnv2.onnx" "$threads" 100
    "$B/edgetune" bench "$T/mnv2.etm" --threads "$threads" --repeats 100 --json | tr ',' '\n' | grep -E '"(isa|latency_ms_1_thread|latency_ms_n_threads|threads)"' | tr '\n' ' '
    echo
done
rm -rf "$T"
