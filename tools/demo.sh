#!/bin/sh
# `make demo`: fine-tune the bundled Fashion-MNIST backbone (pretrained on five
# clothing classes) on the five held-out classes with fastai's fine_tune
# recipe, then classify a few held-out images with the fine-tuned model.
# Needs only the built CLI: no Python, no network. Variables: BUILD (build),
# EPOCHS (unfrozen epochs, 5), THREADS (2), LR (base_lr, 1e-2), BATCH (32).
set -eu
BUILD=${BUILD:-build}
EPOCHS=${EPOCHS:-5}
THREADS=${THREADS:-2}
LR=${LR:-1e-2}
BATCH=${BATCH:-32}
ET=$BUILD/edgetune
MODEL=models/fmnist5_mbv2.etm
DATA=models/data/fmnist_holdout
OUT=$BUILD/demo
FT=$OUT/fmnist_holdout.etm

[ -x "$ET" ] || { echo "demo: $ET is missing (run make first)" >&2; exit 1; }
rm -rf "$OUT"
mkdir -p "$OUT"

echo "== 1. the bundled backbone: $MODEL (pretrained on T-shirt/top, Trouser, Pullover, Dress, Coat)"
"$ET" info "$MODEL" | grep -E '^(total|arena)' || true
echo
echo "== 2. fine-tune on the held-out classes (ankle_boot, bag, sandal, shirt, sneaker: 300 train + 100 valid images each)"
echo "   edgetune finetune --recipe fine_tune: 1 frozen epoch (new head only), then $EPOCHS unfrozen epoch(s), $THREADS threads"
set -- "$ET" finetune "$MODEL" -o "$FT" --train "$DATA/train" --valid "$DATA/valid" \
    --recipe fine_tune --lr "$LR" --epochs "$EPOCHS" --batch-size "$BATCH" --augment off \
    --threads "$THREADS" --seed 42 --run-dir "$OUT/run"
start=$(date +%s.%N)
if [ -x /usr/bin/time ] && /usr/bin/time -f x -o /dev/null true 2>/dev/null; then
    /usr/bin/time -f '%M' -o "$OUT/maxrss_kb" "$@"
else
    "$@"
fi
end=$(date +%s.%N)

log=$OUT/run/run.jsonl
acc() { grep '"type":"epoch"' "$log" | grep "\"phase\":$1," | tail -n 1 | sed -n 's/.*"accuracy":\([0-9.]*\).*/\1/p'; }
frozen=$(acc 1)
tuned=$(acc 2)
echo
echo "== 3. results"
awk -v f="$frozen" -v t="$tuned" 'BEGIN {
    printf "   accuracy, frozen backbone + new head (after phase 1): %.2f%%\n", 100 * f
    printf "   accuracy, fine-tuned (after phase 2):                 %.2f%%\n", 100 * t }'
awk -v s="$start" -v e="$end" 'BEGIN { printf "   fine-tuning wall time: %.1f s\n", e - s }'
if [ -s "$OUT/maxrss_kb" ]; then
    awk '{ printf "   peak memory (max RSS of edgetune finetune): %.1f MiB\n", $1 / 1024 }' "$OUT/maxrss_kb"
else
    echo "   peak memory: not measured (GNU time missing at /usr/bin/time)"
fi
echo "   model: $FT   log: $log"
echo
echo "== 4. classify held-out images with the fine-tuned model"
echo "   (models/data/fmnist_holdout/samples/*.pgm; samples.npy holds them normalised, in samples.txt order)"
"$ET" run "$FT" --input "$DATA/samples/samples.npy" --output "$OUT/samples_out.npy" --top 1 > "$OUT/top1.txt"
echo "   image               top-1 (label, logit)"
i=0
while read -r name; do
    i=$((i + 1))
    top=$(grep -E '^ *1\. ' "$OUT/top1.txt" | sed -n "${i}p" | sed 's/^ *1\. *//')
    printf '   %-16s -> %s\n' "$name.pgm" "$top"
done < "$DATA/samples/samples.txt"
