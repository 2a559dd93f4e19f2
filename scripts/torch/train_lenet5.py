"""Trains LeNet-5-BN as an AdderNet in PyTorch with the official layer (every weighted layer an adder2d,
as model/lenet5-adder.spec) on Fashion-MNIST, and saves its state_dict for `addernet import`.

    /usr/bin/python3 train_lenet5.py --adder path/to/AdderNet/adder.py --epochs 2 --out lenet5.pt

Recipe as `addernet train`'s default: SGD, momentum 0.9, weight decay 5e-4, learning rate 0.05 on a
cosine schedule per step, batch 128; inputs normalised with the training set's mean and std (printed:
give them to `addernet import --normalize`).
"""
import argparse
import importlib.util
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fashion  # noqa: E402


def load_adder(path):
    spec = importlib.util.spec_from_file_location("adder", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.adder2d


class LeNet5Adder(nn.Module):
    def __init__(self, adder2d):
        super().__init__()
        self.conv1 = adder2d(1, 6, 5)
        self.bn1 = nn.BatchNorm2d(6)
        self.conv2 = adder2d(6, 16, 5)
        self.bn2 = nn.BatchNorm2d(16)
        self.conv3 = adder2d(16, 120, 4)
        self.bn3 = nn.BatchNorm2d(120)
        self.fc1 = adder2d(120, 84, 1)  # an adder fc as in the official resnet20: kernel 1 on a 1x1 map
        self.bn4 = nn.BatchNorm2d(84)
        self.fc2 = adder2d(84, 10, 1)
        self.bn5 = nn.BatchNorm2d(10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        x = F.relu(self.bn3(self.conv3(x)))          # [N, 120, 1, 1]
        x = F.relu(self.bn4(self.fc1(x)))
        return self.bn5(self.fc2(x)).flatten(1)


def accuracy(model, images, labels, batch=500):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(images), batch):
            correct += (model(images[i:i + batch]).argmax(1) == labels[i:i + batch]).sum().item()
    return correct / len(images)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--adder", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "adder_ref.py"))
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--train-limit", type=int)
    ap.add_argument("--data", default=fashion.DEFAULT_DIR)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    tr_x, tr_y = fashion.load("train", args.data)
    te_x, te_y = fashion.load("t10k", args.data)
    if args.train_limit:
        tr_x, tr_y = tr_x[:args.train_limit], tr_y[:args.train_limit]
    scaled = tr_x.astype(np.float64) / 255
    mean, std = scaled.mean(), scaled.std()
    print(f"input normalisation: mean {mean!r} std {std!r}", flush=True)
    prep = lambda a: torch.from_numpy(((a.astype(np.float64) / 255 - mean) / std).astype(np.float32)).unsqueeze(1)
    tr_x, te_x = prep(tr_x), prep(te_x)
    tr_y, te_y = torch.from_numpy(tr_y), torch.from_numpy(te_y)
    model = LeNet5Adder(load_adder(args.adder))
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    batch = 128
    steps = len(tr_x) // batch
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * s / (steps * args.epochs))))
    for epoch in range(args.epochs):
        model.train()
        order = torch.randperm(len(tr_x))
        start = time.time()
        for s in range(steps):
            idx = order[s * batch:(s + 1) * batch]
            loss = F.cross_entropy(model(tr_x[idx]), tr_y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        seconds = time.time() - start
        print(f"epoch {epoch + 1}/{args.epochs}: loss {loss.item():.4f}, {steps * batch / seconds:.0f} img/s,"
              f" test accuracy {100 * accuracy(model, te_x, te_y):.2f}%", flush=True)
    torch.save(model.state_dict(), args.out)
    print(f"test accuracy {100 * accuracy(model, te_x, te_y):.4f}%; state_dict in {args.out}")


if __name__ == "__main__":
    main()
