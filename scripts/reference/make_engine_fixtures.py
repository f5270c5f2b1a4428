#!/usr/bin/python3
"""Generates the Engine test fixtures from PyTorch.

Run once with Debian's interpreter and python3-torch (not a virtualenv's python):

    /usr/bin/python3 scripts/reference/make_engine_fixtures.py

It writes Tests/EngineTests/Fixtures/*.json. Every tensor is stored in Podium's layouts
(NHWC images, [KH, KW, IC, OC] convolution weights, [KH, KW, C] depthwise weights) as
{"shape": [...], "values": [...]}. Inputs are float32 values from a seeded generator; the
reference outputs and gradients are computed in float64 from those same values, so the
fixtures hold the exact answer for float32 inputs. The test suite never runs Python.
"""
import json
import os

import torch
import torch.nn.functional as F

torch.manual_seed(2024)
OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "EngineTests", "Fixtures")


def rand(*shape, scale=1.0):
    """Seeded float32 values, returned as float64 for the reference computation."""
    return (torch.randn(*shape) * scale).float().double()


def t(x):
    x = x.detach().double().contiguous()
    return {"shape": list(x.shape), "values": [float(v) for v in x.flatten().float()]}


def nhwc(x):
    return x.permute(0, 2, 3, 1)


def same_pad(h, w, k, s):
    """TensorFlow SAME padding as (left, right, top, bottom) for F.pad."""
    oh, ow = -(-h // s), -(-w // s)
    ph, pw = max((oh - 1) * s + k - h, 0), max((ow - 1) * s + k - w, 0)
    return (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2)


def conv_case(n, h, w, ic, oc, k, s, padding, depthwise=False):
    x = rand(n, ic, h, w).requires_grad_()
    groups = ic if depthwise else 1
    weight = rand(oc, ic // groups, k, k, scale=0.3).requires_grad_()
    bias = rand(oc).requires_grad_()
    if padding == "same":
        y = F.conv2d(F.pad(x, same_pad(h, w, k, s)), weight, bias, stride=s, groups=groups)
    else:
        y = F.conv2d(x, weight, bias, stride=s, padding=padding, groups=groups)
    dy = rand(*y.shape)
    y.backward(dy)
    w_layout = weight[:, 0].permute(1, 2, 0) if depthwise else weight.permute(2, 3, 1, 0)
    dw_layout = weight.grad[:, 0].permute(1, 2, 0) if depthwise else weight.grad.permute(2, 3, 1, 0)
    return {
        "kernel": k, "stride": s, "padding": padding, "depthwise": depthwise, "outChannels": oc,
        "input": t(nhwc(x)), "weight": t(w_layout), "bias": t(bias), "output": t(nhwc(y)),
        "dY": t(nhwc(dy)), "dX": t(nhwc(x.grad)), "dW": t(dw_layout), "dBias": t(bias.grad),
    }


def pool_case(kind, n, h, w, c, k, s, p):
    x = rand(n, c, h, w).requires_grad_()
    y = (F.max_pool2d if kind == "max" else F.avg_pool2d)(x, k, s, p)
    dy = rand(*y.shape)
    y.backward(dy)
    return {"kind": kind, "kernel": k, "stride": s, "padding": p,
            "input": t(nhwc(x)), "output": t(nhwc(y)), "dY": t(nhwc(dy)), "dX": t(nhwc(x.grad))}


def batchnorm_case():
    bn = torch.nn.BatchNorm2d(4, eps=1e-5, momentum=0.1).double()
    with torch.no_grad():
        bn.weight.copy_(rand(4))
        bn.bias.copy_(rand(4))
    x = rand(2, 4, 3, 3, scale=2.0).add(0.5).requires_grad_()
    y = bn(x)
    dy = rand(*y.shape)
    y.backward(dy)
    bn.eval()
    x_eval = rand(2, 4, 3, 3)
    y_eval = bn(x_eval)
    return {
        "gamma": t(bn.weight), "beta": t(bn.bias), "input": t(nhwc(x)), "output": t(nhwc(y)),
        "dY": t(nhwc(dy)), "dX": t(nhwc(x.grad)), "dGamma": t(bn.weight.grad), "dBeta": t(bn.bias.grad),
        "runningMean": t(bn.running_mean), "runningVar": t(bn.running_var),
        "evalInput": t(nhwc(x_eval)), "evalOutput": t(nhwc(y_eval)),
    }


def update_bn_case():
    """torch.optim.swa_utils.update_bn on BN → ReLU → BN over three batches of different
    sizes, starting from running statistics that are not the defaults."""
    from torch.optim.swa_utils import update_bn
    model = torch.nn.Sequential(torch.nn.BatchNorm2d(3), torch.nn.ReLU(), torch.nn.BatchNorm2d(3)).double()
    with torch.no_grad():
        for bn in (model[0], model[2]):
            bn.weight.copy_(rand(3))
            bn.bias.copy_(rand(3))
            bn.running_mean.copy_(rand(3))
            bn.running_var.copy_(rand(3).abs() + 0.5)
    batches = [rand(n, 3, 3, 2, scale=1.5).add(0.3) for n in (2, 3, 1)]
    before = {f"{i}.{k}": t(v) for i in (0, 2) for k, v in model[i].state_dict().items() if k != "num_batches_tracked"}
    update_bn(batches, model)
    return {
        "batches": [t(nhwc(b)) for b in batches], "before": before,
        "runningMean0": t(model[0].running_mean), "runningVar0": t(model[0].running_var),
        "runningMean2": t(model[2].running_mean), "runningVar2": t(model[2].running_var),
    }


def linear_case():
    x = rand(3, 5).requires_grad_()
    weight = rand(4, 5).requires_grad_()
    bias = rand(4).requires_grad_()
    y = F.linear(x, weight, bias)
    dy = rand(3, 4)
    y.backward(dy)
    return {"input": t(x), "weight": t(weight), "bias": t(bias), "output": t(y), "dY": t(dy),
            "dX": t(x.grad), "dW": t(weight.grad), "dBias": t(bias.grad)}


def loss_cases():
    logits = rand(4, 5, scale=2.0).requires_grad_()
    labels = torch.tensor([0, 3, 4, 1])
    ce = F.cross_entropy(logits, labels, label_smoothing=0.1)
    ce.backward()
    bce_logits = rand(3, 2, scale=3.0).requires_grad_()
    targets = torch.tensor([[1.0, 0.0], [0.0, 0.0], [1.0, 1.0]], dtype=torch.float64)
    bce = F.binary_cross_entropy_with_logits(bce_logits, targets)
    bce.backward()
    # Class weights (class_weight: balanced) with label smoothing, on the same logits: no new
    # random draws, so the fixtures after this one keep their values.
    weighted_logits = logits.detach().clone().requires_grad_()
    class_weights = torch.tensor([0.5, 2.0, 1.0, 1.5, 0.25], dtype=torch.float64)
    weighted = F.cross_entropy(weighted_logits, labels, weight=class_weights, label_smoothing=0.1)
    weighted.backward()
    return {
        "weightedCrossEntropy": {"logits": t(weighted_logits), "labels": labels.tolist(), "labelSmoothing": 0.1,
                                 "classWeights": class_weights.tolist(), "loss": float(weighted),
                                 "dLogits": t(weighted_logits.grad)},
        "crossEntropy": {"logits": t(logits), "labels": labels.tolist(), "labelSmoothing": 0.1,
                         "loss": float(ce), "dLogits": t(logits.grad)},
        "binaryCrossEntropy": {"logits": t(bce_logits), "targets": t(targets), "loss": float(bce),
                               "dLogits": t(bce_logits.grad)},
    }


def optimizer_cases():
    start = rand(6)
    gradients = [rand(6) for _ in range(5)]
    configs = {
        "sgdNesterov": lambda p: torch.optim.SGD([p], lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-2),
        "sgdMomentumDampening": lambda p: torch.optim.SGD([p], lr=0.05, momentum=0.8, dampening=0.3),
        "adam": lambda p: torch.optim.Adam([p], lr=1e-2, weight_decay=1e-2),
        "adamW": lambda p: torch.optim.AdamW([p], lr=1e-2, weight_decay=0.1),
    }
    cases = {"start": t(start), "gradients": [t(g) for g in gradients]}
    for name, make in configs.items():
        p = start.clone().float().requires_grad_()
        optimizer = make(p)
        steps = []
        for g in gradients:
            p.grad = g.float().clone()
            optimizer.step()
            steps.append(t(p))
        cases[name] = steps
    return cases


def schedule_cases():
    def run(make, steps):
        p = torch.zeros(1, requires_grad=True)
        optimizer = torch.optim.SGD([p], lr=0.1)
        scheduler = make(optimizer)
        rates = []
        for _ in range(steps):
            rates.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            scheduler.step()
        return rates
    sched = torch.optim.lr_scheduler
    return {
        "step": run(lambda o: sched.StepLR(o, step_size=3, gamma=0.5), 10),
        "cosine": run(lambda o: sched.CosineAnnealingLR(o, T_max=10, eta_min=0.001), 10),
        "oneCycle": run(lambda o: sched.OneCycleLR(o, max_lr=0.1, total_steps=20), 20),
        "warmup": run(lambda o: sched.LinearLR(o, start_factor=0.1, total_iters=5), 8),
    }


def main():
    os.makedirs(OUT, exist_ok=True)
    fixtures = {
        "convolution": {
            "conv3x3_s1_p1": conv_case(2, 5, 5, 3, 4, 3, 1, 1),
            "conv3x3_s2_same": conv_case(2, 6, 6, 3, 4, 3, 2, "same"),
            "conv5x5_s2_same_rect": conv_case(1, 7, 5, 2, 3, 5, 2, "same"),
            "conv1x1_s1": conv_case(2, 4, 4, 5, 3, 1, 1, 0),
            "conv1x1_s2": conv_case(2, 5, 5, 4, 6, 1, 2, 0),
            "conv7x7_s2_p3": conv_case(1, 9, 9, 3, 4, 7, 2, 3),
            "depthwise3x3_s1_p1": conv_case(2, 5, 5, 4, 4, 3, 1, 1, depthwise=True),
            "depthwise3x3_s2_same": conv_case(2, 6, 6, 4, 4, 3, 2, "same", depthwise=True),
            "depthwise5x5_s2_same": conv_case(1, 7, 7, 3, 3, 5, 2, "same", depthwise=True),
            "depthwise3x3_s1_p1_c12": conv_case(2, 6, 5, 12, 12, 3, 1, 1, depthwise=True),
        },
        "pooling": {
            "max3x3_s2_p1": pool_case("max", 2, 6, 6, 3, 3, 2, 1),
            "max2x2_s2": pool_case("max", 1, 4, 6, 2, 2, 2, 0),
            "avg2x2_s2": pool_case("avg", 2, 4, 4, 3, 2, 2, 0),
            "avg3x3_s1_p1": pool_case("avg", 1, 4, 5, 2, 3, 1, 1),
        },
        "batchnorm": batchnorm_case(),
        "linear": linear_case(),
        "loss": loss_cases(),
        "optimizers": optimizer_cases(),
        "schedules": schedule_cases(),
        "update_bn": update_bn_case(),
    }
    for name, content in fixtures.items():
        with open(os.path.join(OUT, name + ".json"), "w") as f:
            json.dump(content, f, separators=(",", ":"))
        print("wrote", name + ".json")


if __name__ == "__main__":
    main()
