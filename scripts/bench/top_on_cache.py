#!/usr/bin/python3
"""Where does a fine-tuning accuracy difference come from? Trains PyTorch's top of
EfficientNet-Lite0 (`_conv_head`, `_bn1`, dropout, `_fc`; SGD momentum 0.9) on the
activations Podium cached for a `finetune` sweep without augmentation, so the two sides
share their inputs exactly, from a chosen start of the new classifier; prints each epoch's
validation accuracy and loss. With `--compare N` it first runs PyTorch's frozen stages on
the first N training images (PIL preprocessing, as sweep_torch.py) and prints how far their
output is from Podium's cached activations.

    /usr/bin/python3 scripts/bench/top_on_cache.py --db DB --cache HOME/.cache/podium/features \\
        --weights LITE0.pth --lr 0.0001 --head-init default|zero|podium --seeds 0 1 2 [--compare 32]

`podium` draws the classifier as Podium's `head_init: uniform` does for a run of that seed
(SplitMix64 seeded with seed + 1, uniform ±1/√1280, weight then bias).
"""
import argparse
import json
import os
import struct

import numpy as np
import torch
import torch.nn as nn

from sweep_torch import EfficientNetLite, Images, split

MASK = (1 << 64) - 1


def read_safetensors(path):
    with open(path, "rb") as f:
        length = struct.unpack("<Q", f.read(8))[0]
        header, data = json.loads(f.read(length)), f.read()
    tensors = {name: np.frombuffer(data[entry["data_offsets"][0]:entry["data_offsets"][1]], dtype=np.float32).reshape(entry["shape"])
               for name, entry in header.items() if name != "__metadata__"}
    return tensors, header.get("__metadata__", {})


def cached(folder, paths):
    """Podium's cached activations `[N, 320, 7, 7]` and labels for exactly these image paths."""
    wanted = set(paths)
    for name in sorted(os.listdir(folder)):
        tensors, metadata = read_safetensors(os.path.join(folder, name))
        kept = json.loads(metadata.get("paths", "[]"))
        if set(kept) == wanted and tensors["features"].shape[1] == 7 * 7 * 320:
            x = torch.from_numpy(tensors["features"].copy()).reshape(-1, 7, 7, 320).permute(0, 3, 1, 2).contiguous()
            return x, torch.from_numpy(tensors["labels"].astype(np.int64)), kept
    raise SystemExit(f"no cached stage7 activations of these {len(paths)} images in {folder}")


def podium_uniform(seed, rows, columns):
    """Podium's SeededGenerator (SplitMix64) uniform draw in ±1/√columns: weight, then bias."""
    state, bound, values = seed, 1 / columns ** 0.5, []
    for _ in range(rows * columns + rows):
        state = (state + 0x9E3779B97F4A7C15) & MASK
        z = ((state ^ (state >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        values.append(-bound + 2 * bound * (((z ^ (z >> 31)) >> 40) / 16777216.0))
    values = torch.tensor(values, dtype=torch.float32)
    return values[:rows * columns].reshape(rows, columns), values[rows * columns:]


def train_top(weights, data, classes, lr, epochs, seed, head_init, batch=32):
    (xt, yt), (xv, yv) = data
    torch.manual_seed(seed)
    model = EfficientNetLite()
    model.load_state_dict(torch.load(weights, map_location="cpu"))
    model._fc = nn.Linear(1280, classes)
    with torch.no_grad():
        if head_init == "zero":
            model._fc.weight.zero_()
            model._fc.bias.zero_()
        elif head_init == "podium":
            weight, bias = podium_uniform(seed + 1, classes, 1280)
            model._fc.weight.copy_(weight)
            model._fc.bias.copy_(bias)
    top = [model._conv_head, model._bn1, model._fc]
    optimizer = torch.optim.SGD([p for module in top for p in module.parameters()], lr=lr, momentum=0.9)
    forward = lambda x: model._fc(model._dropout(nn.functional.relu6(model._bn1(model._conv_head(x))).mean((2, 3))))
    curve = []
    for _ in range(epochs):
        model.eval()  # the frozen part; the trainable batch norm and the dropout train
        model._bn1.train()
        model._dropout.train()
        order = torch.randperm(len(yt))
        for start in range(0, len(yt), batch):
            rows = order[start:start + batch]
            optimizer.zero_grad()
            nn.functional.cross_entropy(forward(xt[rows]), yt[rows]).backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            logits = forward(xv)
        curve.append(f"{(logits.argmax(1) == yv).float().mean().item():.4f}/{nn.functional.cross_entropy(logits, yv).item():.3f}")
    return curve


def compare(weights, root, paths, labels, activations):
    model = EfficientNetLite()
    model.load_state_dict(torch.load(weights, map_location="cpu"))
    model.eval()
    images = torch.stack([image for image, _ in Images(root, list(zip(paths, labels)))])
    with torch.no_grad():
        x = nn.functional.relu6(model._bn0(model._conv_stem(images)))
        for block in model._blocks:
            x = block(x)
    difference = (x - activations).abs()
    print(f"PyTorch's frozen stages on PIL input vs Podium's cache, {len(paths)} images: mean |difference| "
          f"{difference.mean().item():.4f}, max {difference.max().item():.4f}, mean |activation| {x.abs().mean().item():.4f}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True, help="the sweep's database (for the split)")
    parser.add_argument("--cache", required=True, help="Podium's feature cache folder (HOME/.cache/podium/features)")
    parser.add_argument("--weights", required=True)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--head-init", choices=["default", "zero", "podium"], default="default")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--compare", type=int, default=0, metavar="N")
    args = parser.parse_args()
    torch.set_num_threads(2)
    root, classes, train, validation = split(args.db)
    xt, yt, kept = cached(args.cache, [path for path, _ in train])
    xv, yv, _ = cached(args.cache, [path for path, _ in validation])
    if args.compare:
        compare(args.weights, root, kept[:args.compare], yt[:args.compare].tolist(), xt[:args.compare])
    for seed in args.seeds:
        curve = train_top(args.weights, ((xt, yt), (xv, yv)), classes, args.lr, args.epochs, seed, args.head_init)
        print(f"head {args.head_init}, seed {seed}: accuracy/loss per epoch {' '.join(curve)}")


if __name__ == "__main__":
    main()
