#!/usr/bin/env bash
# Podium against PyTorch on the same machine, model by model and mode by mode: runs
# `podium bench --backbone` and the same network in PyTorch alternately and prints images/s
# side by side with Podium's ratio (> 1: Podium is faster), the performance issue's bar for
# that pair, and both peak RSS figures.
#
#   scripts/bench/compare.sh [--batch 32] [--repeats 5] [BACKBONE:MODE ...]
#
# Modes: infer, train, finetune. Default pairs: the bar's (resnet18 infer/train/finetune,
# resnet50 infer, efficientnet_lite0 infer/finetune, mobilenet_v2 infer).
# Needs a release build (swift build -c release), Debian's python3-torch and
# python3-torchvision. PyTorch runs with 2 threads, glibc malloc tuned as in its best case
# (MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=68719476736 MALLOC_TOP_PAD_=1073741824), and
# the same OpenBLAS kernel Podium chose.
set -euo pipefail
cd "$(dirname "$0")/../.."
batch=32 repeats=5 pairs=()
while [ $# -gt 0 ]; do
  case "$1" in
    --batch) batch=$2; shift 2 ;;
    --repeats) repeats=$2; shift 2 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) pairs+=("$1"); shift ;;
  esac
done
[ ${#pairs[@]} -gt 0 ] || pairs=(resnet18:infer resnet18:train resnet18:finetune resnet50:infer
                                 efficientnet_lite0:infer efficientnet_lite0:finetune mobilenet_v2:infer)
podium=.build/release/podium
[ -x "$podium" ] || { echo "build first: swift build -c release" >&2; exit 1; }
kernel=$("$podium" bench --kernels --batch 1 --repeats 1 2>&1 >/dev/null | sed -n 's/^OpenBLAS kernel: //p')
echo "batch $batch, median of $repeats steps, OpenBLAS kernel $kernel for both, $(nproc) cores"
echo "| model | mode | Podium img/s | PyTorch img/s | ratio | bar | Podium peak RSS MB | PyTorch peak RSS MB |"
echo "|---|---|---:|---:|---:|---:|---:|---:|"
for pair in "${pairs[@]}"; do
  backbone=${pair%%:*} mode=${pair#*:}
  [ "$mode" != "$pair" ] || mode=infer
  ours=$("$podium" bench --backbone "$backbone" --mode "$mode" --batch "$batch" --repeats "$repeats" --json)
  theirs=$(OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-$kernel} MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=68719476736 \
    MALLOC_TOP_PAD_=1073741824 /usr/bin/python3 scripts/bench/backbones_torch.py \
    --backbone "$backbone" --mode "$mode" --batch "$batch" --repeats "$repeats")
  /usr/bin/python3 - "$ours" "$theirs" "$mode" <<'PY'
import json, sys
p, t, mode = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
bars = {("resnet18", "infer"): 1.0, ("resnet18", "train"): 1.0, ("resnet18", "finetune"): 1.0, ("resnet50", "infer"): 1.0,
        ("efficientnet_lite0", "infer"): 1.5, ("efficientnet_lite0", "finetune"): 1.5, ("mobilenet_v2", "infer"): 1.5}
ratio = p["images_per_second"] / t["images_per_second"]
bar = bars.get((p["backbone"], mode))
print(f"| {p['backbone']} | {mode} | {p['images_per_second']:.1f} | {t['images_per_second']:.1f} | {ratio:.2f} "
      f"| {'' if bar is None else f'≥ {bar:.1f}'} | {p['peak_rss_mb']:.0f} | {t['peak_rss_mb']:.0f} |")
PY
done
