#!/usr/bin/python3
"""PyTorch's side of `podium bench --backbone`: the same networks (torchvision's, and the
EfficientNet-Lite0 and small CNN definitions of scripts/reference/make_backbone_fixtures.py),
random input at the backbone's input size, 1000-class head, one warm-up step, then the
median of N timed steps; printed as the same JSON object.

    /usr/bin/python3 scripts/bench/backbones_torch.py --backbone resnet18 --mode infer --batch 32

Modes: infer (eval, no grad), train (forward, cross-entropy, backward, SGD momentum, all
layers trainable), finetune (only the last stage and the classifier trainable, the rest
requires_grad=False and in eval mode).
"""
import argparse
import json
import os
import resource
import sys
import time

import torch
import torch.nn as nn
import torchvision

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "reference"))
from make_backbone_fixtures import EfficientNetLite, SmallCNN  # noqa: E402


# (width, depth, input side, dropout) of each EfficientNet-Lite variant.
LITE = {"efficientnet_lite0": (1.0, 1.0, 224, 0.2), "efficientnet_lite1": (1.0, 1.1, 240, 0.2),
        "efficientnet_lite2": (1.1, 1.2, 260, 0.3)}


def build(name):
    """The network, its input size, and the modules of its last stage + classifier."""
    if name == "small_cnn":
        model = SmallCNN(150, 1000)
        return model, 150, [model.classifier]
    if name in LITE:
        width, depth, size, dropout = LITE[name]
        model = EfficientNetLite(width=width, depth=depth, dropout=dropout)
        return model, size, [model._blocks[-1], model._conv_head, model._bn1, model._fc]
    model = getattr(torchvision.models, name)()
    if name.startswith("resnet"):
        return model, 224, [model.layer4, model.fc]
    if name.startswith("vgg"):
        return model, 224, [model.classifier]
    return model, 224, [model.features[18], model.classifier]  # mobilenet_v2


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--backbone", required=True)
    parser.add_argument("--mode", default="infer", choices=["infer", "train", "finetune"])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model, size, top = build(args.backbone)
    images = torch.rand(args.batch, 3, size, size) * 2 - 1
    labels = torch.randint(0, 1000, (args.batch,))
    if args.mode == "infer":
        model.eval()

        def step():
            with torch.no_grad():
                model(images)
    else:
        model.train()
        if args.mode == "finetune":
            model.eval()
            for p in model.parameters():
                p.requires_grad = False
            for module in top:
                module.train()
                for p in module.parameters():
                    p.requires_grad = True
        optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.01, momentum=0.9)

        def step():
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(images), labels).backward()
            optimizer.step()
    step()
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    median = sorted(times)[len(times) // 2]
    print(json.dumps({"backbone": args.backbone, "mode": args.mode, "batch": args.batch,
                      "images_per_second": args.batch / median,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


if __name__ == "__main__":
    main()
