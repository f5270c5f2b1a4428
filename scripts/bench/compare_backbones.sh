#!/usr/bin/env bash
# Runs `podium bench --backbone` and the same network in PyTorch alternately, for every
# backbone, and prints images/s side by side with Podium's ratio (> 1: Podium is faster).
#
#   scripts/bench/compare_backbones.sh [--mode infer|train|finetune] [--batch 32] [--repeats 5] [BACKBONE...]
#
# Needs a release build (swift build -c release), Debian's python3-torch and
# python3-torchvision. PyTorch runs with 2 threads, glibc malloc tuned as in its best
# case, and the same OpenBLAS kernel Podium chose.
set -euo pipefail
cd "$(dirname "$0")/../.."
mode=infer batch=32 repeats=5 backbones=()
while [ $# -gt 0 ]; do
  case "$1" in
    --mode) mode=$2; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    --repeats) repeats=$2; shift 2 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) backbones+=("$1"); shift ;;
  esac
done
[ ${#backbones[@]} -gt 0 ] || backbones=(small_cnn vgg16 vgg16_bn resnet18 resnet34 resnet50 mobilenet_v2 efficientnet_lite0)
podium=.build/release/podium
[ -x "$podium" ] || { echo "build first: swift build -c release" >&2; exit 1; }
kernel=$("$podium" bench --kernels --batch 1 --repeats 1 2>&1 >/dev/null | sed -n 's/^OpenBLAS kernel: //p')
echo "mode $mode, batch $batch, median of $repeats steps, OpenBLAS kernel $kernel for both"
echo "| backbone | Podium img/s | PyTorch img/s | ratio | Podium peak RSS MB | PyTorch peak RSS MB |"
echo "|---|---:|---:|---:|---:|---:|"
for backbone in "${backbones[@]}"; do
  ours=$("$podium" bench --backbone "$backbone" --mode "$mode" --batch "$batch" --repeats "$repeats" --json)
  theirs=$(OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-$kernel} MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=68719476736 \
    MALLOC_TOP_PAD_=1073741824 /usr/bin/python3 scripts/bench/backbones_torch.py \
    --backbone "$backbone" --mode "$mode" --batch "$batch" --repeats "$repeats")
  /usr/bin/python3 - "$ours" "$theirs" <<'PY'
import json, sys
p, t = json.loads(sys.argv[1]), json.loads(sys.argv[2])
ratio = p["images_per_second"] / t["images_per_second"]
print(f"| {p['backbone']} | {p['images_per_second']:.1f} | {t['images_per_second']:.1f} | {ratio:.2f} "
      f"| {p['peak_rss_mb']:.0f} | {t['peak_rss_mb']:.0f} |")
PY
done
