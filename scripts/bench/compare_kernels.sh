#!/usr/bin/env bash
# Runs `podium bench --kernels` and the same kernels in PyTorch alternately, and prints
# GFLOP/s side by side with Podium's ratio (> 1 means Podium is faster).
#
#   scripts/bench/compare_kernels.sh [--batch 32] [--repeats 5]
#
# Needs a release build (swift build -c release) and Debian's python3-torch. PyTorch runs
# with 2 threads and glibc malloc tuned as in its best case (no unmapping between steps).
set -euo pipefail
cd "$(dirname "$0")/../.."
batch=32 repeats=5
while [ $# -gt 0 ]; do
  case "$1" in
    --batch) batch=$2; shift 2 ;;
    --repeats) repeats=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
podium=.build/release/podium
[ -x "$podium" ] || { echo "build first: swift build -c release" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$podium" bench --kernels --json --batch "$batch" --repeats "$repeats" > "$out/podium.jsonl" 2> "$out/podium.err"
# PyTorch's own GEMM goes through the same OpenBLAS: give it the kernel Podium chose.
kernel=$(sed -n 's/^OpenBLAS kernel: //p' "$out/podium.err")
echo "OpenBLAS kernel for both: $kernel"
OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-$kernel} MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=68719476736 MALLOC_TOP_PAD_=1073741824 \
  /usr/bin/python3 scripts/bench/kernels_torch.py --batch "$batch" --threads 2 --repeats "$repeats" > "$out/torch.jsonl"
/usr/bin/python3 - "$out/podium.jsonl" "$out/torch.jsonl" <<'PY'
import json, sys
podium = {r["name"]: r for r in map(json.loads, open(sys.argv[1]))}
torch = {r["name"]: r for r in map(json.loads, open(sys.argv[2]))}
print(f"| kernel | Podium GFLOP/s | PyTorch GFLOP/s | ratio |")
print(f"|---|---:|---:|---:|")
for name, p in podium.items():
    t = torch.get(name)
    ratio = f"{p['gflops'] / t['gflops']:.2f}" if t else "n/a"
    print(f"| {name} | {p['gflops']:.1f} | {t['gflops'] if t else 'n/a'} | {ratio} |")
PY
