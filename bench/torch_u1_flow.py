#!/usr/bin/python3
"""PyTorch reference of latflow's `u1-tutorial` flow (Albergo et al. 2101.08176, sec. 5):
8x8 U(1), beta 2, 16 gauge-equivariant plaquette coupling layers, mixture of 2 NCPs
(equal weights) + shift, context CNN 2->8->8->3 (3x3, circular padding, LeakyReLU), Adam
lr 1e-3, batch 64, float64, reverse-KL loss. Masks as in latflow (docs/flows.md): active
links U_mu at x_nu = off mod 4, frozen plaquettes at x_nu = off+1, off+2 mod 4.

    /usr/bin/python3 bench/torch_u1_flow.py [--steps 1000] [--threads 2] [--time-only 50]

Prints seconds per training step and, at the end, the ESS of 1024 fresh samples and the
batch ESS averaged over the last 10% of steps (compare with `latflow train --json`).
"""
import argparse
import math
import time

import numpy as np
import torch

L, BETA = 8, 2.0
DT = torch.float64


def plaq(links):  # links [B, 2, L0, L1], axis 2 = x (mu 0), axis 3 = y (mu 1)
    return (links[:, 0] + torch.roll(links[:, 1], -1, 1)
            - torch.roll(links[:, 0], -1, 2) - links[:, 1])


def action(links):
    return -BETA * torch.sum(torch.cos(plaq(links)), dim=(1, 2))


def masks(mu, off):
    nu = 1 - mu
    coord = np.indices((L, L))[nu]  # x_nu of site (x, y)
    ph = (coord - off) % 4
    link = np.zeros((2, L, L))
    link[mu][ph == 0] = 1
    frozen = ((ph == 1) | (ph == 2)).astype(float)
    # active plaquette of the link at s: P(s) for mu = 0, P(s - x) for mu = 1
    act = (ph == 0).astype(float)
    if mu == 1:
        act = np.roll(act, -1, axis=0)
    t = lambda a: torch.tensor(a, dtype=DT)
    return t(link), t(frozen), t(act)


def tan_transform(x, s):
    return torch.remainder(2 * torch.atan(torch.exp(s) * torch.tan(x / 2)), 2 * math.pi)


def tan_transform_logJ(x, s):
    return -torch.log(torch.exp(-s) * torch.cos(x / 2) ** 2 + torch.exp(s) * torch.sin(x / 2) ** 2)


class Layer(torch.nn.Module):
    def __init__(self, mu, off):
        super().__init__()
        self.mu = mu
        self.link, self.frozen, self.active = masks(mu, off)
        self.net = torch.nn.Sequential(
            torch.nn.Conv2d(2, 8, 3, padding=1, padding_mode='circular'), torch.nn.LeakyReLU(),
            torch.nn.Conv2d(8, 8, 3, padding=1, padding_mode='circular'), torch.nn.LeakyReLU(),
            torch.nn.Conv2d(8, 3, 3, padding=1, padding_mode='circular')).to(DT)

    def forward(self, links):
        P = torch.remainder(plaq(links), 2 * math.pi)
        xf = self.frozen * P
        out = self.net(torch.stack((torch.cos(xf), torch.sin(xf)), 1))
        s, t = out[:, :-1], out[:, -1]
        x1 = P.unsqueeze(1)
        y = torch.mean(tan_transform(x1, s), dim=1) + t
        ld = torch.log(torch.mean(torch.exp(tan_transform_logJ(x1, s)), dim=1))
        logJ = torch.sum(self.active * ld, dim=(1, 2))
        delta = self.active * (y - P)  # change of the active plaquette at its site
        if self.mu == 1:  # the link at s owns the plaquette at s - x
            delta = torch.roll(delta, 1, 1)
        new = links.clone()
        new[:, self.mu] = links[:, self.mu] + self.link[self.mu] * delta
        return new, logJ


def sample(layers, n):
    z = 2 * math.pi * torch.rand(n, 2, L, L, dtype=DT) - math.pi
    logq = torch.full((n,), -2 * L * L * math.log(2 * math.pi), dtype=DT)
    x = z
    for ly in layers:
        x, lj = ly(x)
        logq = logq - lj
    return x, logq


def ess(logw):
    w = torch.exp(logw - logw.max())
    return (w.sum() ** 2 / (len(w) * (w * w).sum())).item()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--steps', type=int, default=1000)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--time-only', type=int, default=0, help='only time this many steps')
    ap.add_argument('--seed', type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    layers = torch.nn.ModuleList([Layer(i % 2, (i // 2) % 4) for i in range(16)])
    opt = torch.optim.Adam(layers.parameters(), lr=1e-3)
    steps = a.time_only or a.steps
    t0, hist = time.time(), []
    for step in range(steps):
        x, logq = sample(layers, 64)
        S = action(x)
        loss = (logq + S).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        hist.append(ess((-S - logq).detach()))
        if step == 0:
            t0 = time.time()  # exclude the first (warm-up) step
    dt = (time.time() - t0) / max(steps - 1, 1)
    print(f'torch {torch.__version__}, {a.threads} threads: {dt:.4f} s/step')
    if not a.time_only:
        with torch.no_grad():
            x, logq = sample(layers, 1024)
            e = ess(-action(x) - logq)
        k = max(steps // 10, 1)
        print(f'ESS (1024 fresh samples) {e:.4f}; batch ESS last {k} steps {np.mean(hist[-k:]):.4f}')


if __name__ == '__main__':
    main()
