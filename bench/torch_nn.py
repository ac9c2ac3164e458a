#!/usr/bin/python3
"""PyTorch reference for bench/bench_nn.c: forward+backward time of the same conv nets.

Run with Debian's python (apt-get install -y python3-torch; PyTorch 1.13):
    /usr/bin/python3 bench/torch_nn.py [seconds per case] [threads]
Same shapes, float64, circular padding, LeakyReLU(0.01) between layers, no output
activation, torch.set_num_threads(2) by default. Prints ms per forward+backward and
GFLOP/s counted like bench_nn (2 flops per multiply-add, backward = 2x forward).
BENCH_CPU=1 measures process CPU time (as bench_nn; use with 1 thread on a busy machine).
"""
import os
import sys
import time

import torch

CASES = [
    ("u1 tutorial b64 8x8 2-8-8-3", 2, (8, 8), 64, (2, 8, 8, 3)),
    ("4d b16 4^4 8-16-16-8", 4, (4, 4, 4, 4), 16, (8, 16, 16, 8)),
    ("4d b16 8^4 8-16-16-8", 4, (8, 8, 8, 8), 16, (8, 16, 16, 8)),
    ("2d b64 16x16 2-32-32-3", 2, (16, 16), 64, (2, 32, 32, 3)),
]


class ConvNd(torch.nn.Module):
    """Periodic conv for nd = 2 (torch.nn.Conv2d) or nd = 4 (sum of Conv3d over the
    4th axis, as torch has no Conv4d)."""

    def __init__(self, nd, cin, cout, k):
        super().__init__()
        self.nd, self.k = nd, k
        if nd == 2:
            self.conv = torch.nn.Conv2d(cin, cout, k, padding=k // 2, padding_mode="circular",
                                        dtype=torch.float64)
        else:
            self.convs = torch.nn.ModuleList(
                [torch.nn.Conv3d(cin, cout, k, padding=k // 2, padding_mode="circular",
                                 bias=(i == 0), dtype=torch.float64) for i in range(k)])

    def forward(self, x):
        if self.nd == 2:
            return self.conv(x)
        # x: [B, C, T, Z, Y, X]; y[t] = sum_i conv_i(x[t + i - k//2])
        h = self.k // 2
        out = 0
        for i, conv in enumerate(self.convs):
            xs = torch.roll(x, shifts=-(i - h), dims=2)
            B, C, T = xs.shape[:3]
            ys = conv(xs.reshape(B, C, T, *xs.shape[3:]).transpose(1, 2).reshape(B * T, C, *xs.shape[3:]))
            out = out + ys.reshape(B, T, -1, *xs.shape[3:]).transpose(1, 2)
        return out


clock = time.process_time if os.environ.get("BENCH_CPU", "0") != "0" else time.perf_counter


def run(name, nd, L, batch, ch, secs):
    layers = []
    for i in range(len(ch) - 1):
        layers.append(ConvNd(nd, ch[i], ch[i + 1], 3))
        if i < len(ch) - 2:
            layers.append(torch.nn.LeakyReLU(0.01))
    net = torch.nn.Sequential(*layers)
    shape = (batch, ch[0]) + tuple(reversed(L))  # torch: last axis = our x
    x = torch.randn(shape, dtype=torch.float64, requires_grad=True)
    dy = torch.randn((batch, ch[-1]) + tuple(reversed(L)), dtype=torch.float64)
    vol = 1
    for l in L:
        vol *= l
    macs = sum(batch * vol * ch[i] * ch[i + 1] * 3 ** nd for i in range(len(ch) - 1))
    best, n, t0 = 1e30, 0, clock()
    while clock() - t0 < secs or n < 3:
        t1 = clock()
        net.zero_grad(set_to_none=False)
        x.grad = None
        y = net(x)
        y.backward(dy)
        dt = clock() - t1
        best = min(best, dt)
        n += 1
    mean = (clock() - t0) / n
    print(f"{name:34s} {1e3 * mean:8.3f} ms (best {1e3 * best:8.3f} ms)  "
          f"{6 * macs / best * 1e-9:7.2f} GFLOP/s  ({n} iters, {torch.get_num_threads()} threads, torch {torch.__version__})")


def main():
    secs = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    torch.set_num_threads(int(sys.argv[2]) if len(sys.argv) > 2 else 2)
    for case in CASES:
        run(*case, secs)


if __name__ == "__main__":
    main()
