"""The official AdderNet layer's arithmetic (huawei-noah/AdderNet, adder.py, BSD-3-Clause), written
anew for the cross-checks: same constructor, same parameter names ('adder', and 'b' with bias=True),
same forward and the same hand-written backward.

forward:   Y = -sum |X - W| over each window (unfold, then broadcast)
backward:  dL/dW = sum (X - W) * dL/dY, rescaled per call to L2 norm 0.2 * sqrt(number of weights)
           dL/dX = sum HardTanh(W - X) * dL/dY
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class AdderFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, w_col, x_col):
        # w_col [filters, k], x_col [k, positions] -> [filters, positions]
        ctx.save_for_backward(w_col, x_col)
        return -(w_col.unsqueeze(2) - x_col.unsqueeze(0)).abs().sum(1)

    @staticmethod
    def backward(ctx, grad):
        w_col, x_col = ctx.saved_tensors
        x_minus_w = x_col.unsqueeze(0) - w_col.unsqueeze(2)
        grad_w = (x_minus_w * grad.unsqueeze(1)).sum(2)
        grad_w = grad_w / grad_w.norm(p=2).clamp(min=1e-12) * math.sqrt(w_col.numel()) / 5
        grad_x = (-x_minus_w.clamp(-1, 1) * grad.unsqueeze(1)).sum(0)
        return grad_w, grad_x


class adder2d(nn.Module):
    def __init__(self, input_channel, output_channel, kernel_size, stride=1, padding=0, bias=False):
        super().__init__()
        self.stride = stride
        self.padding = padding
        self.kernel_size = kernel_size
        self.adder = nn.Parameter(torch.randn(output_channel, input_channel, kernel_size, kernel_size))
        self.bias = bias
        if bias:
            self.b = nn.Parameter(torch.rand(output_channel))

    def forward(self, x):
        n, _, h, w = x.shape
        filters = self.adder.shape[0]
        k = self.kernel_size
        h_out = (h + 2 * self.padding - k) // self.stride + 1
        w_out = (w + 2 * self.padding - k) // self.stride + 1
        cols = F.unfold(x, k, padding=self.padding, stride=self.stride)  # [n, c*k*k, L]
        x_col = cols.permute(1, 0, 2).reshape(cols.shape[1], -1)          # [c*k*k, n*L]
        out = AdderFunction.apply(self.adder.view(filters, -1), x_col)    # [filters, n*L]
        out = out.view(filters, n, h_out, w_out).permute(1, 0, 2, 3).contiguous()
        if self.bias:
            out = out + self.b.view(1, -1, 1, 1)
        return out
