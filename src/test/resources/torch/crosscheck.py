"""PyTorch side of the cross-checks (src/test/java/addernet/torch/TorchCrossCheckTest.java).

random-net: builds random-net.spec's network as a PyTorch user would write it (adder2d from
adder_ref.py, the official layer's arithmetic), saves its state_dict, its eval-mode logits on the
given images and the gradients of one training step (mean cross-entropy) on them.
evaluate: loads an exported network (the .py and .pt from `addernet export`) and prints its
Fashion-MNIST test accuracy.
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

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
# fashion.py is the user-facing scripts' Fashion-MNIST reader; the test passes its folder.
sys.path.insert(0, os.environ["ADDERNET_TORCH_SCRIPTS"])
from adder_ref import adder2d  # noqa: E402
import fashion  # noqa: E402


class RandomNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = adder2d(1, 4, 3, stride=2, padding=1)
        self.bn1 = nn.BatchNorm2d(4)
        self.conv2 = nn.Conv2d(4, 6, 3, bias=False)
        self.bn2 = nn.BatchNorm2d(6)
        self.conv3 = adder2d(6, 8, 3, padding=1)
        self.bn3 = nn.BatchNorm2d(8)
        self.fc1 = adder2d(72, 16, 1)
        self.bn4 = nn.BatchNorm2d(16)
        self.fc2 = nn.Linear(16, 10, bias=False)
        self.bn5 = nn.BatchNorm1d(10)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        x = F.max_pool2d(F.relu(self.bn3(self.conv3(x))), 2)
        x = x.reshape(x.shape[0], -1, 1, 1)
        x = F.relu(self.bn4(self.fc1(x))).flatten(1)
        return self.bn5(self.fc2(x))


def random_net(args):
    torch.manual_seed(args.seed)
    x = torch.from_numpy(np.fromfile(args.images, dtype="<f4").reshape(-1, 1, 28, 28))
    y = torch.from_numpy(np.fromfile(args.labels, dtype="<i4").astype(np.int64))
    model = RandomNet()
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    # Running statistics of this very batch (momentum 1), then random affine parameters: every
    # layer's output stays in a sensible range, and eval and train mode differ.
    for bn in bns:
        bn.momentum = 1.0
    model.train()
    with torch.no_grad():
        model(x)
    for bn in bns:
        bn.momentum = 0.1
        with torch.no_grad():
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.normal_(0, 0.2)
            bn.running_mean.add_(torch.randn_like(bn.running_mean) * 0.1 * bn.running_var.sqrt())
    torch.save(model.state_dict(), args.state)
    model.eval()
    with torch.no_grad():
        model(x).numpy().astype("<f4").tofile(args.logits)
    model.train()
    model.zero_grad()
    F.cross_entropy(model(x), y).backward()
    grads = collections.OrderedDict((name, p.grad.detach().clone()) for name, p in model.named_parameters())
    torch.save(grads, args.grads)


def evaluate(args):
    spec = importlib.util.spec_from_file_location("exported", args.model)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model = module.build(args.adder)
    model.load_state_dict(torch.load(args.state))
    model.eval()
    images, labels = fashion.load("t10k", args.data)
    x = torch.from_numpy(((images.astype(np.float64) / 255 - module.MEAN) / module.STD).astype(np.float32)).unsqueeze(1)
    y = torch.from_numpy(labels)
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), 250):
            correct += (model(x[i:i + 250]).argmax(1) == y[i:i + 250]).sum().item()
    print(json.dumps({"correct": correct, "count": len(x), "accuracy": correct / len(x)}))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="command", required=True)
    r = sub.add_parser("random-net")
    for name in ("images", "labels", "state", "logits", "grads"):
        r.add_argument("--" + name, required=True)
    r.add_argument("--seed", type=int, default=1)
    e = sub.add_parser("evaluate")
    for name in ("model", "adder", "state"):
        e.add_argument("--" + name, required=True)
    e.add_argument("--data", default=fashion.DEFAULT_DIR)
    args = ap.parse_args()
    torch.set_num_threads(1)
    {"random-net": random_net, "evaluate": evaluate}[args.command](args)


if __name__ == "__main__":
    main()
