#!/usr/bin/python3
"""PyTorch's side of scripts/bench/sweep_compare: fine-tuning as a user would write it — a
torchvision-style Dataset and DataLoader, the checkpoint, a new classifier, SGD with momentum
0.9 at a constant rate, one plain loop per learning rate, the validation accuracy after every
epoch. The split is read from Podium's database so both sides train and validate on exactly
the same images. Two models, as the two cases of sweep_compare:

- efficientnet_lite0: every parameter frozen (requires_grad=False, eval mode) except the
  last stage and the classifier (with the dropout before it active), no augmentation,
  preprocessed as Podium's Lite0 preprocessing;
- mobilenet_v2 (torchvision's): the whole network trained (train mode), with
  RandomResizedCrop(224, scale=(0.5, 1)) and RandomHorizontalFlip as Podium's `light`,
  validated on resize 256 / centre crop 224, ImageNet normalisation.

    /usr/bin/python3 scripts/bench/sweep_torch.py --db DB --model efficientnet_lite0 --weights LITE0.pth --lrs 0.001 0.0003 0.0001 --epochs 5
"""
import argparse
import json
import os
import sqlite3
import sys
import time

import torch
import torch.nn as nn
import torchvision
from PIL import Image
from torchvision import transforms

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "reference"))
from make_backbone_fixtures import EfficientNetLite  # noqa: E402


def lite0_preprocessing(image):
    """Podium's Lite0 preprocessing: TensorFlow's central crop (87.5%), resize to 224, (x - 127) / 128."""
    w, h = image.size
    side = int(0.875 * min(w, h))
    left, top = (w - side + 1) // 2, (h - side + 1) // 2
    image = image.crop((left, top, left + side, top + side)).resize((224, 224), Image.BILINEAR)
    x = torch.frombuffer(bytearray(image.tobytes()), dtype=torch.uint8).reshape(224, 224, 3)
    return (x.permute(2, 0, 1).float() - 127.0) / 128.0


IMAGENET = transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])
LIGHT = transforms.Compose([transforms.RandomResizedCrop(224, scale=(0.5, 1.0)), transforms.RandomHorizontalFlip(),
                            transforms.ToTensor(), IMAGENET])
EVALUATION = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(), IMAGENET])


class Images(torch.utils.data.Dataset):
    """(path, label) pairs decoded with PIL and put through `transform`."""

    def __init__(self, root, items, transform):
        self.root, self.items, self.transform = root, items, transform

    def __len__(self):
        return len(self.items)

    def __getitem__(self, index):
        path, label = self.items[index]
        with Image.open(os.path.join(self.root, path)) as image:
            return self.transform(image.convert("RGB")), label


def split(db):
    connection = sqlite3.connect(db)
    root, classes, assignments = connection.execute(
        "SELECT datasets.root, datasets.class_names, splits.assignments FROM sweeps "
        "JOIN splits ON splits.id = sweeps.split_id JOIN datasets ON datasets.id = splits.dataset_id "
        "ORDER BY sweeps.id DESC LIMIT 1").fetchone()
    rows = json.loads(assignments)
    pick = lambda subset: [(path, int(label)) for path, which, label in rows if which == subset]
    return root, len(json.loads(classes)), pick("train"), pick("validation")


def lite0_last_stage(weights, classes):
    """Lite0 with a new classifier, all frozen but the last stage and the classifier; the
    modules that train (the dropout before the classifier trains with it, as in Podium)."""
    model = EfficientNetLite()
    model.load_state_dict(torch.load(weights, map_location="cpu"))
    model._fc = nn.Linear(model._fc.in_features, classes)
    for p in model.parameters():
        p.requires_grad = False
    top = [model._conv_head, model._bn1, model._fc]
    for module in top:
        for p in module.parameters():
            p.requires_grad = True
    return model, model._fc, top + [model._dropout]


def mobilenet_v2_whole(weights, classes):
    """torchvision's MobileNetV2 with a new classifier, every parameter trained."""
    model = torchvision.models.mobilenet_v2()
    model.load_state_dict(torch.load(weights, map_location="cpu"))
    model.classifier[1] = nn.Linear(model.classifier[1].in_features, classes)
    return model, model.classifier[1], [model]


MODELS = {
    "efficientnet_lite0": (lite0_last_stage, lite0_preprocessing, lite0_preprocessing),
    "mobilenet_v2": (mobilenet_v2_whole, LIGHT, EVALUATION),
}


def finetune(name, root, classes, train, validation, weights, lr, epochs, batch, seed=0, curves=False, head_init="default"):
    torch.manual_seed(seed)
    build, train_transform, evaluation_transform = MODELS[name]
    model, classifier, active = build(weights, classes)
    if head_init == "zero":  # Podium's default on pretrained features (Big Transfer's new head)
        nn.init.zeros_(classifier.weight)
        nn.init.zeros_(classifier.bias)
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=lr, momentum=0.9)
    train_loader = torch.utils.data.DataLoader(Images(root, train, train_transform), batch_size=batch, shuffle=True, num_workers=2)
    validation_loader = torch.utils.data.DataLoader(Images(root, validation, evaluation_transform), batch_size=batch, num_workers=2)
    accuracy = 0.0
    for epoch in range(epochs):
        model.eval()
        for module in active:
            module.train()
        for x, y in train_loader:
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
        model.eval()
        correct, loss = 0, 0.0
        with torch.no_grad():
            for x, y in validation_loader:
                logits = model(x)
                correct += (logits.argmax(1) == y).sum().item()
                loss += nn.functional.cross_entropy(logits, y, reduction="sum").item()
        accuracy = max(accuracy, correct / len(validation))
        if curves:
            print(f"lr {lr} epoch {epoch + 1}: valid_loss {loss / len(validation):.4f} accuracy {correct / len(validation):.4f}",
                  file=sys.stderr)
    return accuracy


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--model", choices=sorted(MODELS), default="efficientnet_lite0")
    parser.add_argument("--weights", required=True)
    parser.add_argument("--lrs", type=float, nargs="+", required=True)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0, help="torch seed: classifier initialisation, shuffling, dropout")
    parser.add_argument("--curves", action="store_true", help="print each epoch's validation loss and accuracy to stderr")
    parser.add_argument("--head-init", choices=["default", "zero"], default="default",
                        help="the new classifier's start: nn.Linear's own uniform draw (as a user writes it) or zeros (as Podium)")
    args = parser.parse_args()
    torch.set_num_threads(2)
    root, classes, train, validation = split(args.db)
    start = time.time()
    accuracies = [finetune(args.model, root, classes, train, validation, args.weights, lr, args.epochs, args.batch, args.seed, args.curves, args.head_init)
                  for lr in args.lrs]
    print(json.dumps({"seconds": time.time() - start, "accuracies": accuracies, "train": len(train), "validation": len(validation)}))


if __name__ == "__main__":
    main()
