"""The PyTorch side of `addernet bench train --peer torch`.

Trains LeNet-5-BN (the layers of model/lenet5-cnn.spec: no biases, batch norm after every
weighted layer) with PyTorch's own convolutions, and optionally the same net with adder layers
built the way the AdderNet paper's official code builds them (unfold, then one broadcast
difference over outputs x patch rows x columns), on random batches of the given size.

It only times: the Java side tells it when to run, so that its rounds alternate with Java's and
a slow spell of a shared machine falls on both. Protocol, one line each way:
  stdout, once:  ready <torch version> <threads>
  stdin:         <net> <steps>      (net: native | adder)
  stdout:        <images per second>
End of stdin ends the process.
"""

import argparse
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class AdderProduct(torch.autograd.Function):
    """Y[o, j] = -sum_k |X[k, j] - W[o, k]|, with the paper's gradients (eqs. 4, 5 and 13)."""

    @staticmethod
    def forward(ctx, weights, patches):
        ctx.save_for_backward(weights, patches)
        diff = patches.unsqueeze(0) - weights.unsqueeze(2)  # outputs x rows x columns
        return -diff.abs().sum(1)

    @staticmethod
    def backward(ctx, grad):
        weights, patches = ctx.saved_tensors
        diff = patches.unsqueeze(0) - weights.unsqueeze(2)
        grad_w = (diff * grad.unsqueeze(1)).sum(2)
        # Adaptive rescale: eta * sqrt(k) of the gradient's norm, eta = 0.2 as in the recipe.
        grad_w = grad_w * (0.2 * math.sqrt(weights.numel()) / grad_w.norm().clamp(min=1e-12))
        grad_x = ((-diff).clamp(-1, 1) * grad.unsqueeze(1)).sum(0)
        return grad_w, grad_x


class AdderConv(nn.Module):
    def __init__(self, cin, cout, kernel):
        super().__init__()
        self.kernel = kernel
        self.weight = nn.Parameter(torch.randn(cout, cin * kernel * kernel))

    def forward(self, x):
        n, _, h, w = x.shape
        oh, ow = h - self.kernel + 1, w - self.kernel + 1
        cols = F.unfold(x, self.kernel)  # n x rows x positions
        cols = cols.permute(1, 0, 2).reshape(cols.shape[1], -1)  # rows x (n, positions)
        y = AdderProduct.apply(self.weight, cols)  # outputs x (n, positions)
        return y.reshape(-1, n, oh, ow).permute(1, 0, 2, 3)


class AdderLinear(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin))

    def forward(self, x):
        return AdderProduct.apply(self.weight, x.t()).t()


def lenet5(adder):
    conv = (lambda i, o, k: AdderConv(i, o, k)) if adder else (
        lambda i, o, k: nn.Conv2d(i, o, k, bias=False))
    fc = AdderLinear if adder else (lambda i, o: nn.Linear(i, o, bias=False))
    return nn.Sequential(
        conv(1, 6, 5), nn.BatchNorm2d(6), nn.ReLU(), nn.MaxPool2d(2),
        conv(6, 16, 5), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        conv(16, 120, 4), nn.BatchNorm2d(120), nn.ReLU(), nn.Flatten(),
        fc(120, 84), nn.BatchNorm1d(84), nn.ReLU(),
        fc(84, 10), nn.BatchNorm1d(10))


class Runner:
    """One net, its optimizer (the Java bench's: SGD, momentum 0.9, weight decay 5e-4) and data."""

    def __init__(self, adder, batch):
        self.net = lenet5(adder)
        self.opt = torch.optim.SGD(self.net.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
        self.batch = batch
        generator = torch.Generator().manual_seed(1)
        self.images = torch.randn(8, batch, 1, 28, 28, generator=generator)
        self.labels = torch.randint(0, 10, (8, batch), generator=generator)
        self.step_count = 0

    def step(self):
        i = self.step_count % self.images.shape[0]
        self.step_count += 1
        self.opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(self.net(self.images[i]), self.labels[i])
        loss.backward()
        self.opt.step()

    def rate(self, steps):
        start = time.perf_counter()
        for _ in range(steps):
            self.step()
        return steps * self.batch / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, required=True)
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--warmup-seconds", type=float, required=True)
    parser.add_argument("--adder", action="store_true", help="also the adder-layer net")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    runners = {"native": Runner(False, args.batch)}
    if args.adder:
        runners["adder"] = Runner(True, args.batch)
    end = time.perf_counter() + args.warmup_seconds
    runners["native"].step()
    while time.perf_counter() < end:
        runners["native"].step()
    if args.adder:
        # A few steps only: at a few hundred images/s a long warm-up would dominate the run.
        for _ in range(2):
            runners["adder"].step()
    print("ready", torch.__version__, torch.get_num_threads(), flush=True)
    for line in sys.stdin:
        name, steps = line.split()
        print("%.3f" % runners[name].rate(int(steps)), flush=True)


if __name__ == "__main__":
    main()
