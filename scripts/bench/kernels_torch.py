#!/usr/bin/python3
"""PyTorch's side of `podium bench --kernels`: the same GEMM and convolution shapes,
timed the same way (one warm-up, median of N), printed as the same JSON lines.

Run with Debian's interpreter and python3-torch:
    /usr/bin/python3 scripts/bench/kernels_torch.py [--batch 32] [--threads 2] [--repeats 5]
Convolutions run in PyTorch's default NCHW layout and in channels_last; the faster of the
two is reported, so Podium is compared with PyTorch's best case.
"""
import argparse
import json
import time

import torch
import torch.nn.functional as F


def median_ms(fn, repeats):
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return sorted(times)[len(times) // 2]


def emit(name, flops, ms):
    print(json.dumps({"name": name, "gflops": round(flops / (ms * 1e6), 2), "ms": round(ms, 3)}))


def gemm(size, repeats):
    a, b = torch.rand(size, size), torch.rand(size, size)
    emit(f"sgemm_{size}", 2 * size**3, median_ms(lambda: torch.mm(a, b), repeats))


def convolution(name, n, hw, ic, oc, k, s, depthwise, repeats):
    groups = ic if depthwise else 1
    best = {}
    for memory_format in (torch.contiguous_format, torch.channels_last):
        x = torch.rand(n, ic, hw, hw).to(memory_format=memory_format).requires_grad_()
        w = (torch.rand(oc, ic // groups, k, k) * 0.1).to(memory_format=memory_format).requires_grad_()
        y = F.conv2d(x, w, stride=s, padding=k // 2, groups=groups)
        dy = torch.rand_like(y)
        forward = median_ms(lambda: F.conv2d(x, w, stride=s, padding=k // 2, groups=groups), repeats)

        def backward():
            out = F.conv2d(x, w, stride=s, padding=k // 2, groups=groups)
            torch.autograd.grad(out, (x, w), dy)

        # backward() includes a forward; subtract it so the row times the backward alone.
        back = max(median_ms(backward, repeats) - forward, 1e-6)
        for key, ms in (("fwd", forward), ("bwd", back)):
            best[key] = min(best.get(key, float("inf")), ms)
    oh = (hw + 2 * (k // 2) - k) // s + 1
    macs = n * oh * oh * oc * k * k * (ic // groups)
    emit(f"{name}_fwd", 2 * macs, best["fwd"])
    emit(f"{name}_bwd", 4 * macs, best["bwd"])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with torch.no_grad():
        gemm(1024, args.repeats)
        gemm(2048, args.repeats)
    for spec in [("conv3x3_64_56", 56, 64, 64, 3, 1, False), ("conv3x3s2_64_56", 56, 64, 128, 3, 2, False),
                 ("conv1x1_256_64_56", 56, 256, 64, 1, 1, False), ("dw3x3_32_112", 112, 32, 32, 3, 1, True),
                 ("stem3x3s2_3_32_224", 224, 3, 32, 3, 2, False), ("stem7x7s2_3_64_224", 224, 3, 64, 7, 2, False)]:
        convolution(spec[0], args.batch, *spec[1:], args.repeats)


if __name__ == "__main__":
    main()
