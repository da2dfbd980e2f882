#!/bin/sh
# Full-size ONNX parity check (too big to commit as fixtures): exports
# torchvision mobilenet_v2, mobilenet_v3_small and resnet18 (random weights,
# 224x224) with torch.onnx, converts each with edgetune, compares with
# PyTorch (bound: max |d| <= 1e-4 * max |y|), exports back to ONNX and checks
# it with onnx.checker (and ONNX Runtime when NODE_PATH has onnxruntime-node).
# usage: tools/check_onnx_full.sh [BUILD_DIR]   (needs python3-torchvision, python3-onnx)
set -e
B=${1:-build}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
/usr/bin/python3 - "$T" <<'PY'
import sys, numpy as np, torch, torchvision, onnx
d = sys.argv[1]
torch.manual_seed(0)
for name in ("mobilenet_v2", "mobilenet_v3_small", "resnet18"):
    m = getattr(torchvision.models, name)().eval()
    for mod in m.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.running_mean.normal_(0, 0.1); mod.running_var.uniform_(0.5, 1.0)
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        y = m(x)
    torch.onnx.export(m, x, f"{d}/{name}.onnx", opset_version=13, input_names=["input"], output_names=["output"])
    np.save(f"{d}/{name}_x.npy", x.numpy()); np.save(f"{d}/{name}_y.npy", y.numpy())
PY
fail=0
for n in mobilenet_v2 mobilenet_v3_small resnet18; do
    "$B/edgetune" convert "$T/$n.onnx" "$T/$n.etm" >/dev/null
    "$B/edgetune" run "$T/$n.etm" --input "$T/${n}_x.npy" --output "$T/${n}_et.npy"
    "$B/edgetune" export-onnx "$T/$n.etm" "$T/${n}_rt.onnx" >/dev/null
    ort=""
    if [ -n "$NODE_PATH" ] && node "$(dirname "$0")/ort_run.js" "$T/${n}_rt.onnx" "$T/${n}_x.npy" "$T/${n}_ort.npy" >/dev/null 2>&1; then ort="$T/${n}_ort.npy"; fi
    /usr/bin/python3 - "$T" "$n" "$ort" <<'PY' || fail=1
import sys, numpy as np, onnx
d, n, ort = sys.argv[1:]
onnx.checker.check_model(onnx.load(f"{d}/{n}_rt.onnx"), full_check=True)
y, e = np.load(f"{d}/{n}_y.npy"), np.load(f"{d}/{n}_et.npy")
err = np.abs(e - y).max() / np.abs(y).max()
msg = f"{n:20s} edgetune vs PyTorch: {err:.3g}  exported ONNX passes onnx.checker"
if ort:
    o = np.load(ort)
    msg += f"; ONNX Runtime on export vs edgetune: {np.abs(o - e).max() / np.abs(e).max():.3g}"
print(msg)
sys.exit(0 if err <= 1e-4 else 1)
PY
done
exit $fail
