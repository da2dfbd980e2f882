#!/bin/sh
# valgrind --leak-check=full over the CLI's main paths (info, run, export-onnx,
# convert, and two failing commands) on a small MobileNetV2 from mkmodel.
# Usage: sh tests/fuzz/valgrind_cli.sh [BUILD_DIR]; exits non-zero on any error or leak.
set -u
B=${1:-build}
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
# 99, not 1: the failing commands below exit 1 by design
VG="valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99"
"$B/mkmodel" mobilenet_v2 "$d/m.etm" --classes 10 --size 64 --width 0.5 >/dev/null || exit 1
"$B/mkmodel" input 1,64,64,3 "$d/x.npy" >/dev/null || exit 1
fail=0
check() {  # check WANT_RC LABEL CMD...
    want=$1; label=$2; shift 2
    $VG "$@" >"$d/out" 2>&1; rc=$?
    if [ "$rc" -ne "$want" ]; then echo "valgrind $label: exit $rc (want $want)"; cat "$d/out"; fail=1
    else echo "valgrind $label: clean"; fi
}
check 0 info "$B/edgetune" info "$d/m.etm"
check 0 run "$B/edgetune" run "$d/m.etm" --input "$d/x.npy" --output "$d/y.npy" --top 3 --threads 2
check 0 export-onnx "$B/edgetune" export-onnx "$d/m.etm" "$d/m.onnx"
check 0 convert "$B/edgetune" convert "$d/m.onnx" "$d/c.etm"
check 1 "run (missing input)" "$B/edgetune" run "$d/m.etm" --input "$d/none.npy" --output "$d/y.npy"
check 1 "info (not a model)" "$B/edgetune" info "$d/x.npy"
exit $fail
