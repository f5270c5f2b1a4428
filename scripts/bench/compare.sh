#!/usr/bin/env bash
# Podium against PyTorch on the same machine, model by model and mode by mode: runs
# `podium bench --backbone` and the same network in PyTorch alternately, --rounds times per
# pair, and prints the median images/s of each side, Podium's ratio (> 1: Podium is faster)
# with its spread over the rounds (min–max, so a thin margin shows as one), the training-speed
# issue's bar for that pair, and both peak RSS figures (the largest over the rounds).
#
#   scripts/bench/compare.sh [--batch 32] [--repeats 5] [--rounds 2] [BACKBONE:MODE ...]
#
# Modes: infer, train, finetune. Default pairs: every backbone with pretrained weights in
# every mode. Needs a release build (swift build -c release), Debian's python3-torch and
# python3-torchvision. PyTorch runs with 2 threads, glibc malloc tuned as in its best case
# (MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=68719476736 MALLOC_TOP_PAD_=1073741824), and
# the same OpenBLAS kernel Podium chose.
set -euo pipefail
cd "$(dirname "$0")/../.."
batch=32 repeats=5 rounds=2 pairs=()
while [ $# -gt 0 ]; do
  case "$1" in
    --batch) batch=$2; shift 2 ;;
    --repeats) repeats=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) pairs+=("$1"); shift ;;
  esac
done
if [ ${#pairs[@]} -eq 0 ]; then
  for backbone in resnet18 resnet34 resnet50 vgg16 vgg16_bn mobilenet_v2 efficientnet_lite0 efficientnet_lite1 efficientnet_lite2; do
    for mode in infer train finetune; do pairs+=("$backbone:$mode"); done
  done
fi
podium=.build/release/podium
[ -x "$podium" ] || { echo "build first: swift build -c release" >&2; exit 1; }
choice=$("$podium" bench --kernels --batch 1 --repeats 1 2>&1 >/dev/null)
kernel=$(sed -n 's/^OpenBLAS kernel: //p' <<<"$choice") matrix=$(sed -n 's/^Matrix kernels: //p' <<<"$choice")
echo "batch $batch, median of $repeats steps, $rounds rounds per pair, OpenBLAS kernel $kernel for both, Podium's matrix kernels $matrix, $(nproc) cores"
echo "| model | mode | Podium img/s | PyTorch img/s | ratio | ratio min–max | bar | Podium peak RSS MB | PyTorch peak RSS MB |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
for pair in "${pairs[@]}"; do
  backbone=${pair%%:*} mode=${pair#*:}
  [ "$mode" != "$pair" ] || mode=infer
  runs=()
  for _ in $(seq "$rounds"); do
    runs+=("$("$podium" bench --backbone "$backbone" --mode "$mode" --batch "$batch" --repeats "$repeats" --json)")
    runs+=("$(OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-$kernel} MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=68719476736 \
      MALLOC_TOP_PAD_=1073741824 /usr/bin/python3 scripts/bench/backbones_torch.py \
      --backbone "$backbone" --mode "$mode" --batch "$batch" --repeats "$repeats")")
  done
  /usr/bin/python3 - "$mode" "${runs[@]}" <<'PY'
import json, statistics, sys
mode, runs = sys.argv[1], [json.loads(line) for line in sys.argv[2:]]
ours, theirs = runs[0::2], runs[1::2]
# The training-speed issue's bars: depthwise networks 2× in every mode; resnet18, resnet50
# and vgg16 1.5× on inference and 1.3× on training and fine-tuning.
name = ours[0]["backbone"]
bar = 2.0 if name in ("mobilenet_v2", "efficientnet_lite0") else \
    (1.5 if mode == "infer" else 1.3) if name in ("resnet18", "resnet50", "vgg16") else None
ratios = [p["images_per_second"] / t["images_per_second"] for p, t in zip(ours, theirs)]
podium = statistics.median(p["images_per_second"] for p in ours)
torch = statistics.median(t["images_per_second"] for t in theirs)
print(f"| {name} | {mode} | {podium:.1f} | {torch:.1f} | {podium / torch:.2f} | {min(ratios):.2f}–{max(ratios):.2f} "
      f"| {'' if bar is None else f'≥ {bar:.1f}'} | {max(p['peak_rss_mb'] for p in ours):.0f} "
      f"| {max(t['peak_rss_mb'] for t in theirs):.0f} |")
PY
done
