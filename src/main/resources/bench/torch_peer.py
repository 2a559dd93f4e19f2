"""The PyTorch side of `addernet bench train --peer torch`.

Builds, from a JSON description of a network's nodes that the Java side writes from its spec,
the same graph in PyTorch (chain or residual, no biases, a batch norm where the spec has one)
and trains it on random batches: once with PyTorch's own convolutions and fully connected
layers (the CNN twin), and once with every adder layer written as the AdderNet paper's official
code writes it (the whole batch unfolded into one patch matrix, then one broadcast difference
over outputs x patch rows x columns, and the paper's hand-written backward).

Graph file: {"input": [C, H, W], "nodes": [node, ...]}, each node
  {"kind": "conv", "op": "adder"|"multiply", "in", "out", "kernel", "stride", "padding", "inputs"}
  {"kind": "fc", "op", "in", "out", "inputs"}
  {"kind": "batchnorm", "channels", "inputs"}   {"kind": "relu", "inputs"}
  {"kind": "maxpool" | "avgpool", "kernel", "inputs"}   {"kind": "flatten", "inputs"}
  {"kind": "add", "inputs": [a, b]}
where inputs are indices of earlier nodes, -1 for the network's input. Every tensor is kept as
N x C x H x W (a flat one as N x C x 1 x 1), so a batch norm after a flatten is a BatchNorm2d over
1 x 1 maps, the same per-channel statistics as BatchNorm1d.

It only times: the Java side tells it when to run, so that its rounds alternate with Java's and
a slow spell of a shared machine falls on both. Protocol, one line each way:
  stdout, once:  ready <torch version> <threads> <native parameters> <adder parameters>
  stdin:         <net> <steps>      (net: native | adder)
  stdout:        <images per second>
End of stdin ends the process.
"""

import argparse
import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class OfficialAdder(torch.autograd.Function):
    """Y[o, j] = -sum_k |X[k, j] - W[o, k]| over a patch matrix X (rows x columns).

    Backward as the official code: the weight gradient is the full-precision X - W (paper eq. 4),
    rescaled to eta * sqrt(number of weights) of its norm with eta = 0.2; the input gradient is
    HardTanh(W - X) (eq. 5). Both rebuild the outputs x rows x columns difference tensor.
    """

    @staticmethod
    def forward(ctx, weights, columns):
        ctx.save_for_backward(weights, columns)
        return -(weights.unsqueeze(2) - columns.unsqueeze(0)).abs().sum(1)

    @staticmethod
    def backward(ctx, grad):
        weights, columns = ctx.saved_tensors
        spread = grad.unsqueeze(1)
        grad_w = ((columns.unsqueeze(0) - weights.unsqueeze(2)) * spread).sum(2)
        grad_w = grad_w / grad_w.norm(p=2).clamp(min=1e-12) * (0.2 * math.sqrt(weights.numel()))
        grad_x = ((weights.unsqueeze(2) - columns.unsqueeze(0)).clamp(-1, 1) * spread).sum(0)
        return grad_w, grad_x


class AdderConv(nn.Module):
    """An adder convolution laid out as the official adder2d: the batch is unfolded as one image
    of N * C channels, its columns ordered (position, image), the output permuted back."""

    def __init__(self, cin, cout, kernel, stride, padding):
        super().__init__()
        self.kernel, self.stride, self.padding = kernel, stride, padding
        self.weight = nn.Parameter(torch.randn(cout, cin, kernel, kernel))

    def forward(self, x):
        n, c, h, w = x.shape
        oh = (h + 2 * self.padding - self.kernel) // self.stride + 1
        ow = (w + 2 * self.padding - self.kernel) // self.stride + 1
        cols = F.unfold(x.reshape(1, n * c, h, w), self.kernel, padding=self.padding,
                        stride=self.stride).reshape(n, c * self.kernel * self.kernel, oh * ow)
        cols = cols.permute(1, 2, 0).contiguous().reshape(cols.shape[1], -1)
        y = OfficialAdder.apply(self.weight.reshape(self.weight.shape[0], -1), cols)
        return y.reshape(-1, oh, ow, n).permute(3, 0, 1, 2).contiguous()


class AdderDense(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin))

    def forward(self, x):
        n = x.shape[0]
        return OfficialAdder.apply(self.weight, x.reshape(n, -1).t()).t().reshape(n, -1, 1, 1)


class Dense(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.linear = nn.Linear(cin, cout, bias=False)

    def forward(self, x):
        n = x.shape[0]
        return self.linear(x.reshape(n, -1)).reshape(n, -1, 1, 1)


class Flatten(nn.Module):
    def forward(self, x):
        return x.reshape(x.shape[0], -1, 1, 1)


class Add(nn.Module):
    pass


def module(node, official_adder):
    kind = node["kind"]
    if kind == "conv":
        args = (node["in"], node["out"], node["kernel"], node["stride"], node["padding"])
        if node["op"] == "adder" and official_adder:
            return AdderConv(*args)
        return nn.Conv2d(*args, bias=False)
    if kind == "fc":
        if node["op"] == "adder" and official_adder:
            return AdderDense(node["in"], node["out"])
        return Dense(node["in"], node["out"])
    if kind == "batchnorm":
        return nn.BatchNorm2d(node["channels"])
    if kind == "relu":
        return nn.ReLU()
    if kind == "maxpool":
        return nn.MaxPool2d(node["kernel"])
    if kind == "avgpool":
        return nn.AvgPool2d(node["kernel"])
    if kind == "flatten":
        return Flatten()
    if kind == "add":
        return Add()
    raise ValueError("unknown node kind %r" % kind)


class Graph(nn.Module):
    """The spec's nodes in order; node i reads the tensors its inputs name."""

    def __init__(self, graph, official_adder):
        super().__init__()
        self.inputs = [node["inputs"] for node in graph["nodes"]]
        self.layers = nn.ModuleList(module(node, official_adder) for node in graph["nodes"])

    def forward(self, x):
        out = []
        for layer, inputs in zip(self.layers, self.inputs):
            args = [x if i < 0 else out[i] for i in inputs]
            out.append(args[0] + args[1] if isinstance(layer, Add) else layer(args[0]))
        return out[-1].reshape(x.shape[0], -1)


class Runner:
    """One net, its optimizer (the Java bench's: SGD, momentum 0.9, weight decay 5e-4) and data."""

    def __init__(self, graph, official_adder, batch):
        self.net = Graph(graph, official_adder)
        self.opt = torch.optim.SGD(self.net.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
        self.batch = batch
        generator = torch.Generator().manual_seed(1)
        self.images = torch.randn(4, batch, *graph["input"], generator=generator)
        classes = graph["classes"]
        self.labels = torch.randint(0, classes, (4, batch), generator=generator)
        self.step_count = 0

    def parameters(self):
        return sum(p.numel() for p in self.net.parameters())

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
    parser.add_argument("--native-graph", required=True, help="the CNN twin's nodes")
    parser.add_argument("--adder-graph", help="the adder net's nodes (official adder layers)")
    parser.add_argument("--batch", type=int, required=True)
    parser.add_argument("--adder-batch", type=int, help="batch of the official-adder net")
    parser.add_argument("--adder-warmup-steps", type=int, default=1)
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--warmup-seconds", type=float, required=True)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    with open(args.native_graph) as f:
        runners = {"native": Runner(json.load(f), False, args.batch)}
    if args.adder_graph:
        with open(args.adder_graph) as f:
            runners["adder"] = Runner(json.load(f), True, args.adder_batch or args.batch)
    end = time.perf_counter() + args.warmup_seconds
    runners["native"].step()
    while time.perf_counter() < end:
        runners["native"].step()
    if "adder" in runners:
        # A step or two only: the official layer is slow enough that a long warm-up would
        # dominate the run.
        for _ in range(args.adder_warmup_steps):
            runners["adder"].step()
    adder_parameters = runners["adder"].parameters() if "adder" in runners else 0
    print("ready", torch.__version__, torch.get_num_threads(), runners["native"].parameters(),
          adder_parameters, flush=True)
    for line in sys.stdin:
        name, steps = line.split()
        print("%.3f" % runners[name].rate(int(steps)), flush=True)


if __name__ == "__main__":
    main()
