#!/usr/bin/env python3
"""The FAN stage-1 and stage-2 steps written in Python PyTorch: the reference
that `fan bench speed` is compared with (same networks, batches, threads)."""
import argparse
import json
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class Encoder(nn.Module):
    def __init__(self, c=1, latent=100):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(c, 20, 5), nn.BatchNorm2d(20)
        self.conv2, self.bn2 = nn.Conv2d(20, 50, 5), nn.BatchNorm2d(50)
        self.fc1, self.bn3 = nn.Linear(800, 500), nn.BatchNorm1d(500)
        self.fc2 = nn.Linear(500, latent)

    def forward(self, x):
        x = F.max_pool2d(self.bn1(F.relu(self.conv1(x))), 2)
        x = F.max_pool2d(self.bn2(F.relu(self.conv2(x))), 2)
        return self.fc2(self.bn3(F.relu(self.fc1(x.flatten(1)))))


class Decoder(nn.Module):
    def __init__(self, inp=60, c=1):
        super().__init__()
        self.fc, self.bn_fc = nn.Linear(inp, 300), nn.BatchNorm1d(300)
        self.conv1, self.bn1 = nn.Conv2d(3, 16, 5, padding=2), nn.BatchNorm2d(16)
        self.conv2, self.bn2 = nn.Conv2d(16, 16, 5, padding=2), nn.BatchNorm2d(16)
        self.conv3, self.bn3 = nn.Conv2d(16, 16, 3, padding=1), nn.BatchNorm2d(16)
        self.out = nn.Conv2d(16, c, 3, padding=1)

    def forward(self, z):
        x = self.bn_fc(F.relu(self.fc(z))).view(-1, 3, 10, 10)
        x = self.bn1(F.relu(self.conv1(x)))
        x = self.bn2(F.relu(self.conv2(x)))
        x = F.interpolate(x, size=(28, 28), mode="bilinear", align_corners=False)
        return self.out(self.bn3(F.relu(self.conv3(x))))


class FanNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder, self.logit_map, self.decoder = Encoder(), nn.Linear(50, 10), Decoder()

    def forward(self, x):
        h = self.encoder(x)
        hd, ht = h[:, :50], h[:, 50:]
        logits = self.logit_map(ht)
        return hd, ht, logits, self.decoder(torch.cat([hd, logits], 1))


def discriminator(bn=True):
    layers = [nn.Linear(10, 500), nn.ReLU()] + ([nn.BatchNorm1d(500)] if bn else [])
    layers += [nn.Linear(500, 500), nn.ReLU()] + ([nn.BatchNorm1d(500)] if bn else [])
    return nn.Sequential(*layers, nn.Linear(500, 1))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", required=True, help="folder written by `fan bench speed --dump`")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--threads", type=int, default=0)
    a = ap.parse_args()
    threads = a.threads or os.cpu_count()
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    b = a.batch
    xs = torch.from_numpy(np.fromfile(os.path.join(a.data, "source_images.f32"), np.float32).reshape(b, 1, 28, 28))
    ys = torch.from_numpy(np.fromfile(os.path.join(a.data, "source_labels.i64"), np.int64))
    xt = torch.from_numpy(np.fromfile(os.path.join(a.data, "target_images.f32"), np.float32).reshape(b, 1, 28, 28))

    source = FanNet()
    opt = torch.optim.Adam(source.parameters(), lr=2e-4, betas=(0.5, 0.999))

    def stage1_step():
        source.train()
        hd, ht, logits, rec = source(xs)
        loss = 2 * F.cross_entropy(logits, ys) + ((hd * ht).sum(1) ** 2).mean() + F.mse_loss(rec, xs)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(a.warmup):
        stage1_step()
    t = time.perf_counter()
    for _ in range(a.steps):
        stage1_step()
    s1 = time.perf_counter() - t

    target = FanNet()
    target.load_state_dict(source.state_dict())
    source.eval()
    for p in source.parameters():
        p.requires_grad_(False)
    with torch.no_grad():
        source_logits = source(xs)[2]  # computed once, as the C++ loop does
    d = discriminator(True)
    opt_t = torch.optim.Adam(target.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce = F.binary_cross_entropy_with_logits

    def stage2_step():
        target.train()
        d.train()
        idx = torch.arange(b)
        sl = source_logits[idx]
        hd, ht, logits, rec = target(xt)
        scores = d(torch.cat([sl, logits.detach()])).squeeze(1)
        loss_d = bce(scores[:b], torch.ones(b)) + bce(scores[b:], torch.zeros(b))
        opt_d.zero_grad()
        (2 * loss_d).backward()
        opt_d.step()
        for p in d.parameters():
            p.requires_grad_(False)
        scores_m = d(torch.cat([sl, logits])).squeeze(1)
        loss = bce(scores_m[b:], torch.ones(b)) + F.mse_loss(rec, xt)
        opt_t.zero_grad()
        loss.backward()
        opt_t.step()
        for p in d.parameters():
            p.requires_grad_(True)
        return float(torch.stack([loss_d.detach(), loss.detach()]).sum())

    for _ in range(a.warmup):
        stage2_step()
    t = time.perf_counter()
    for _ in range(a.steps):
        stage2_step()
    s2 = time.perf_counter() - t
    print(json.dumps({
        "implementation": f"python pytorch {torch.__version__}",
        "batch": b, "steps": a.steps, "threads": threads,
        "stage1_images_per_second": a.steps * b / s1, "stage1_seconds_per_step": s1 / a.steps,
        "stage2_iterations_per_second": a.steps / s2, "stage2_seconds_per_step": s2 / a.steps,
    }, indent=2))


if __name__ == "__main__":
    main()
