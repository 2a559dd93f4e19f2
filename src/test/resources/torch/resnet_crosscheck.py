"""PyTorch side of the residual cross-checks (src/test/java/addernet/torch/TorchResNetCrossCheckTest.java).

make: builds ResNet-20 in the layout of the official huawei-noah/AdderNet resnet20.py (written anew
here from its structure, with adder2d from adder_ref.py), seeds it, wraps it in nn.DataParallel as
the official training script does, and saves its state_dict, its eval-mode logits and the gradients
of one training step (mean cross-entropy) on the given images. --layout official is resnet20.py
itself (3-channel input, nn.Conv2d first layer and classifier); --layout adder is
model/resnet20-adder.spec (1-channel input, every weighted layer an adder2d).
exported: loads the .py and .pt of `addernet export`, checks that its keys are the official
model's, and prints the logits of both the exported model and the official structure holding the
exported weights.
"""
import argparse
import collections
import importlib.util
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from adder_ref import adder2d  # noqa: E402


class BasicBlock(nn.Module):
    def __init__(self, inplanes, planes, stride, downsample):
        super().__init__()
        self.conv1 = adder2d(inplanes, planes, 3, stride=stride, padding=1)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU()
        self.conv2 = adder2d(planes, planes, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        residual = x if self.downsample is None else self.downsample(x)
        return self.relu(out + residual)


class ResNet20(nn.Module):
    def __init__(self, layout):
        super().__init__()
        official = layout == "official"
        channels = 3 if official else 1
        self.conv1 = (nn.Conv2d(channels, 16, 3, padding=1, bias=False) if official
                      else adder2d(channels, 16, 3, padding=1))
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU()
        self.inplanes = 16
        self.layer1 = self.stage(16, 1)
        self.layer2 = self.stage(32, 2)
        self.layer3 = self.stage(64, 2)
        self.avgpool = nn.AvgPool2d(8, stride=1)
        self.fc = nn.Conv2d(64, 10, 1, bias=False) if official else adder2d(64, 10, 1)
        self.bn2 = nn.BatchNorm2d(10)

    def stage(self, planes, stride):
        downsample = None
        if stride != 1 or self.inplanes != planes:
            downsample = nn.Sequential(adder2d(self.inplanes, planes, 1, stride=stride), nn.BatchNorm2d(planes))
        blocks = [BasicBlock(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes
        blocks += [BasicBlock(planes, planes, 1, None) for _ in range(2)]
        return nn.Sequential(*blocks)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        x = self.bn2(self.fc(self.avgpool(x)))
        return x.view(x.size(0), -1)


def cifar(path, mean, std):
    """A CIFAR-10 binary file: records of one label byte and the R, G, B 32x32 planes."""
    raw = np.fromfile(path, dtype=np.uint8).reshape(-1, 3073)
    # float64 then float32, as the Java side normalises each pixel.
    x = ((raw[:, 1:].astype(np.float64) / 255 - mean) / std).astype(np.float32).reshape(-1, 3, 32, 32)
    return torch.from_numpy(x), torch.from_numpy(raw[:, 0].astype(np.int64))


def inputs(args):
    if args.cifar:
        return cifar(args.cifar, args.mean, args.std)
    x = torch.from_numpy(np.fromfile(args.images, dtype="<f4").reshape(-1, 1, 32, 32))
    return x, torch.from_numpy(np.fromfile(args.labels, dtype="<i4").astype(np.int64))


def make(args):
    torch.manual_seed(args.seed)
    x, y = inputs(args)
    net = ResNet20(args.layout)
    bns = [m for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
    # Running statistics of this very batch (momentum 1), then random affine parameters and shifted
    # means: every layer's output stays in a sensible range, and eval and train mode differ.
    for bn in bns:
        bn.momentum = 1.0
    net.train()
    with torch.no_grad():
        net(x)
    for bn in bns:
        bn.momentum = 0.1
        with torch.no_grad():
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.normal_(0, 0.2)
            bn.running_mean.add_(torch.randn_like(bn.running_mean) * 0.1 * bn.running_var.sqrt())
    model = nn.DataParallel(net)
    torch.save(model.state_dict(), args.state)
    model.eval()
    with torch.no_grad():
        model(x).numpy().astype("<f4").tofile(args.logits)
    model.train()
    model.zero_grad()
    F.cross_entropy(model(x), y).backward()
    grads = collections.OrderedDict((name, p.grad.detach().clone()) for name, p in model.named_parameters())
    torch.save(grads, args.grads)


def exported(args):
    spec = importlib.util.spec_from_file_location("exported", args.model)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    adder_py = os.path.join(os.path.dirname(os.path.abspath(__file__)), "adder_ref.py")
    model = module.build(adder_py)
    state = torch.load(args.state)
    model.load_state_dict(state)
    official = ResNet20(args.layout)
    # strict: the exported keys and shapes are exactly the official model's, no more, no fewer.
    official.load_state_dict(state)
    x, _ = inputs(args)
    model.eval()
    official.eval()
    with torch.no_grad():
        out = {"keys": len(state), "same_keys": list(model.state_dict().keys()) == list(official.state_dict().keys()),
               "exported": model(x).flatten().tolist(), "official": official(x).flatten().tolist()}
    print(json.dumps(out))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="command", required=True)
    for name in ("make", "exported"):
        p = sub.add_parser(name)
        p.add_argument("--layout", choices=("official", "adder"), required=True)
        p.add_argument("--cifar")
        p.add_argument("--mean", type=float)
        p.add_argument("--std", type=float)
        p.add_argument("--images")
        p.add_argument("--labels")
        p.add_argument("--seed", type=int, default=1)
        if name == "make":
            for out in ("state", "logits", "grads"):
                p.add_argument("--" + out, required=True)
        else:
            p.add_argument("--model", required=True)
            p.add_argument("--state", required=True)
    args = ap.parse_args()
    torch.set_num_threads(1)
    {"make": make, "exported": exported}[args.command](args)


if __name__ == "__main__":
    main()
