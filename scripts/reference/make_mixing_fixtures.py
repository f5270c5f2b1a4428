#!/usr/bin/python3
"""mixup and CutMix on one batch as timm's Mixup computes them, for Podium's BatchMixing.

The random draws (λ, CutMix's box centre) are fixed here and given to both sides, so the
check is of what is done with them: the mixed images (the batch blended with, or pasted
from, itself reversed, NHWC), CutMix's box clipped at the border and λ corrected to the
share of the image left (timm's rand_bbox and correct_lam), and the loss on mixed targets
with label smoothing 0.1 and class weights — λ·CE(z, y) + (1 − λ)·CE(z, y reversed), each
PyTorch's F.cross_entropy(weight=w, label_smoothing=0.1) — with its gradient by autograd;
without class weights also timm's SoftTargetCrossEntropy on mixup_target's soft labels,
which must be the same number.

Writes Tests/TrainingTests/Fixtures/mixing.json. Run with Debian's python3 (python3-torch).
"""
import json
import os

import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "TrainingTests", "Fixtures", "mixing.json")


def rand_bbox(height, width, lam, cy, cx):
    """timm's rand_bbox with the centre given (margin 0)."""
    ratio = (1 - lam) ** 0.5
    cut_h, cut_w = int(height * ratio), int(width * ratio)
    yl, yh = max(min(cy - cut_h // 2, height), 0), max(min(cy + cut_h // 2, height), 0)
    xl, xh = max(min(cx - cut_w // 2, width), 0), max(min(cx + cut_w // 2, width), 0)
    return yl, yh, xl, xh


def main():
    torch.manual_seed(0)
    n, h, w, c, k = 4, 6, 7, 3, 5
    images = torch.randn(n, c, h, w)
    logits = torch.randn(n, k)
    labels = torch.tensor([0, 3, 1, 3])
    weights = torch.tensor([1.0, 2.0, 0.5, 1.5, 1.0])
    lam = 0.7

    mixup = images * lam + images.flip(0) * (1 - lam)
    cy, cx, cut_lam = 1, 5, 0.6
    yl, yh, xl, xh = rand_bbox(h, w, cut_lam, cy, cx)
    cutmix = images.clone()
    cutmix[:, :, yl:yh, xl:xh] = images.flip(0)[:, :, yl:yh, xl:xh]
    corrected = 1 - (yh - yl) * (xh - xl) / (h * w)

    z = logits.clone().requires_grad_(True)
    loss = lam * F.cross_entropy(z, labels, weight=weights, label_smoothing=0.1) \
        + (1 - lam) * F.cross_entropy(z, labels.flip(0), weight=weights, label_smoothing=0.1)
    loss.backward()

    off, on = 0.1 / k, 1 - 0.1 + 0.1 / k
    soft = F.one_hot(labels, k) * on + (1 - F.one_hot(labels, k)) * off
    targets = soft * lam + soft.flip(0) * (1 - lam)
    timm_loss = torch.sum(-targets * F.log_softmax(logits, dim=-1), dim=-1).mean()
    plain = lam * F.cross_entropy(logits, labels, label_smoothing=0.1) + (1 - lam) * F.cross_entropy(logits, labels.flip(0), label_smoothing=0.1)

    nhwc = lambda t: [float(v) for v in t.permute(0, 2, 3, 1).flatten()]
    with open(OUT, "w") as f:
        json.dump({
            "shape": [n, h, w, c], "classes": k, "images": nhwc(images), "logits": [float(v) for v in logits.flatten()],
            "labels": labels.tolist(), "weights": weights.tolist(), "lambda": lam, "mixup": nhwc(mixup),
            "cutmix": {"centreY": cy, "centreX": cx, "lambda": cut_lam, "box": [yl, yh, xl, xh], "corrected": corrected,
                       "images": nhwc(cutmix)},
            "weightedLoss": float(loss), "weightedGradient": [float(v) for v in z.grad.flatten()],
            "unweightedLoss": float(plain), "timmSoftTargetLoss": float(timm_loss),
        }, f)
    print("box", (yl, yh, xl, xh), "corrected", corrected, "loss", float(loss), "timm", float(timm_loss), "plain", float(plain))


if __name__ == "__main__":
    main()
