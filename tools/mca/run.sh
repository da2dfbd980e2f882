#!/bin/sh
# make mca: compiles the A64 NEON kernels with clang for each core, cuts out
# the hot inner loops (extract_loop.awk) and prints llvm-mca's throughput as
# FLOP/cycle against the core's FMA peak. Paper numbers: no board here.
set -eu
cd "$(dirname "$0")/../.."
pick() { for c in "$@"; do command -v "$c" >/dev/null 2>&1 && { echo "$c"; return 0; }; done; return 1; }
MCA=$(pick llvm-mca llvm-mca-19 llvm-mca-18 llvm-mca-17 llvm-mca-16 llvm-mca-15 llvm-mca-14) ||
    { echo "mca: llvm-mca not found (Debian package llvm)"; exit 1; }
CLANG=$(pick clang clang-19 clang-18 clang-17 clang-16 clang-15 clang-14) ||
    { echo "mca: clang not found"; exit 1; }
SYS=/usr/aarch64-linux-gnu
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Documented single-precision FMA peaks (FLOP/cycle, one 128-bit FMLA = 8):
#  A53: in-order, one 128-bit FMLA issued per cycle (128-bit loads cannot
#       dual-issue with it) -> 8.
#  A72: two FP pipes F0/F1, but a Q-form FMLA occupies both (Cortex-A72
#       optimization guide; LLVM's model agrees) -> 8.
#  A76: two 128-bit FMA pipes V0/V1, Q-form FMLA throughput 2 -> 16.
peak_doc() { case $1 in cortex-a53) echo 8 ;; cortex-a72) echo 8 ;; cortex-a76) echo 16 ;; esac; }

# Cycles per iteration of a loop body under llvm-mca.
cycles() {
    "$MCA" -mtriple=aarch64-linux-gnu -mcpu="$1" -iterations=200 "$2" 2>/dev/null |
        awk '/^Iterations:/{it=$2} /^Total Cycles:/{cy=$3} END{if (it) printf "%.3f", cy/it}'
}
# FLOP per iteration: 8 per Q-form fmla/fmls (by vector or by element).
flops() { awk '/^[ \t]+fml[as][ \t]+v[0-9]+\.4s/{f+=8} END{print f+0}' "$1"; }

# The model's own ceiling: an unrolled stream of 24 independent FMLAs.
i=0; while [ $i -lt 24 ]; do echo "	fmla	v$((i + 8)).4s, v$((i % 4)).4s, v$((4 + i % 4)).4s"; i=$((i + 1)); done > "$tmp/peak.s"

printf '%-26s %-11s %6s %7s %9s %9s %8s %10s\n' kernel core FLOP/it cyc/it FLOP/cyc peak %peak %mca-peak
for cpu in cortex-a53 cortex-a72 cortex-a76; do
    for k in gemm dwconv; do
        "$CLANG" --target=aarch64-linux-gnu --sysroot=$SYS -isystem $SYS/include -std=c11 -O2 -mcpu=$cpu \
            -Iinclude -Isrc -S -o "$tmp/$k.s" arch/arm/neon64/$k.c
    done
    awk -f tools/mca/extract_loop.awk "$tmp/gemm.s" > "$tmp/gemm_8x8.s"
    # gemm.c also holds the direct few-channel conv: its tile step is one
    # input channel of one tap for 10 pixels x 8 channels = 20 FMAs
    awk -v WANT=20 -f tools/mca/extract_loop.awk "$tmp/gemm.s" > "$tmp/dconv_10x8.s"
    awk -v WANT=18 -f tools/mca/extract_loop.awk "$tmp/dwconv.s" > "$tmp/dw_3x3.s"
    awk -v WANT=50 -f tools/mca/extract_loop.awk "$tmp/dwconv.s" > "$tmp/dw_5x5.s"
    mpk=$(awk -v c="$(cycles $cpu "$tmp/peak.s")" 'BEGIN{printf "%.2f", 24*8/c}')
    for l in gemm_8x8 dconv_10x8 dw_3x3 dw_5x5; do
        f=$(flops "$tmp/$l.s"); c=$(cycles $cpu "$tmp/$l.s"); p=$(peak_doc $cpu)
        awk -v l="$l" -v cpu=$cpu -v f="$f" -v c="$c" -v p="$p" -v m="$mpk" 'BEGIN{
            r = f / c; printf "%-26s %-11s %6d %7.2f %9.2f %9d %7.0f%% %9.0f%%\n",
            "et_f32_" l "__neon64", cpu, f, c, r, p, 100*r/p, 100*r/m }'
    done
done
echo "peak: documented FMA peak (see tools/mca/run.sh); %mca-peak: against llvm-mca's own"
echo "ceiling for an FMLA stream on that -mcpu ($("$MCA" --version | awk '/version/{print $NF; exit}'): A72/A76 use the Cortex-A57 model,"
echo "which issues one Q-form FMLA per cycle, so A76's second FMA pipe is invisible to it)."
