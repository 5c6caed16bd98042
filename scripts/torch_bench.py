"""The `seed` or `quick` network trained by PyTorch on the CPU: the native peer of `npm run bench -- --peer torch`.

The same network as src/model/model.ts (seed or quick preset), the same shard of real
CIFAR-10 images and the same kind of step: seed with Adam 1e-3 and 4 px shifts,
quick with Nesterov SGD, weight decay, label smoothing and 2 px shifts, both
with random flips. Written the way a PyTorch user would (nn.BatchNorm2d, not
python/cifar_tab's BatchNorm that matches the app to the bit), timed at
each thread count with the counts interleaved round by round in one process,
so that a change in the machine's load hits all of them alike. Optionally a
per-op profile of one step (torch.profiler) and the three passes of each
convolution alone (forward, input gradient, weight gradient).

Runs with Debian's python3-torch: /usr/bin/python3 scripts/torch_bench.py --help
"""

import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# The seed network (src/model/model.ts): three blocks of two conv 3x3 'same' +
# BatchNorm + ELU, then max-pool 2 and dropout; dense 10 on the flattened map.
FILTERS = (32, 64, 128)
DROPOUT = (0.2, 0.3, 0.4)
# tfjs-layers' BatchNormalization defaults (Keras): epsilon 1e-3; the app's
# momentum 0.9 is PyTorch's 0.1 (weight of the new batch).
BN_EPSILON = 1e-3
BN_MOMENTUM = 0.1
MAX_SHIFT = {"seed": 4, "quick": 2}  # pixels: the blog recipe's and QUICK_RECIPE's (src/model/config.ts)
IMAGE = (32, 32, 3)
RECORD = 1 + IMAGE[0] * IMAGE[1] * IMAGE[2]


def seed_network() -> nn.Sequential:
    layers: list = []
    channels = 3
    for filters, rate in zip(FILTERS, DROPOUT):
        for _ in range(2):
            layers += [
                nn.Conv2d(channels, filters, 3, padding=1),
                nn.BatchNorm2d(filters, eps=BN_EPSILON, momentum=BN_MOMENTUM),
                nn.ELU(),
            ]
            channels = filters
        layers += [nn.MaxPool2d(2), nn.Dropout(rate)]
    layers += [nn.Flatten(), nn.Linear(channels * 4 * 4, 10)]
    return nn.Sequential(*layers)


# The quick network (QUICK_WIDTHS, src/model/model.ts): a frozen 2×2 whitening convolution (random filters
# here: the time does not depend on their values), three blocks of conv → max-pool → BatchNorm (scale frozen
# at 1) → ReLU → conv → BatchNorm → ReLU, global max-pool, dense 10 without bias, logits × 0.125.
QUICK_WIDTHS = (32, 64, 128)
QUICK_BN_MOMENTUM = 0.4  # the app's 0.6 (Keras counts the old value's weight)


class Scale(nn.Module):
    def __init__(self, factor: float):
        super().__init__()
        self.factor = factor

    def forward(self, x):
        return x * self.factor


def quick_network() -> nn.Sequential:
    whiten = nn.Conv2d(3, 24, 2, bias=False)
    whiten.weight.requires_grad_(False)
    layers: list = [whiten, nn.ReLU()]

    def norm(c: int) -> nn.BatchNorm2d:
        bn = nn.BatchNorm2d(c, eps=BN_EPSILON, momentum=QUICK_BN_MOMENTUM)
        bn.weight.requires_grad_(False)
        return bn

    channels = 24
    for filters in QUICK_WIDTHS:
        layers += [nn.Conv2d(channels, filters, 3, padding=1, bias=False), nn.MaxPool2d(2), norm(filters), nn.ReLU(),
                   nn.Conv2d(filters, filters, 3, padding=1, bias=False), norm(filters), nn.ReLU()]
        channels = filters
    layers += [nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(channels, 10, bias=False), Scale(0.125)]
    return nn.Sequential(*layers)


def load_shard(data_dir: str):
    """The first training shard (5,000 images, as the browser bench uses) and the manifest's channel statistics."""
    with open(os.path.join(data_dir, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    shard = manifest["splits"]["train"]["shards"][0]
    raw = np.fromfile(os.path.join(data_dir, shard["file"]), dtype=np.uint8)
    if raw.size != shard["count"] * RECORD:
        raise SystemExit(f"{shard['file']}: {raw.size} bytes, the manifest says {shard['count'] * RECORD}")
    records = raw.reshape(shard["count"], RECORD)
    labels = records[:, 0].astype(np.int64)
    pixels = records[:, 1:].reshape(shard["count"], *IMAGE)  # NHWC bytes
    mean = torch.tensor(manifest["mean"], dtype=torch.float32).view(1, 3, 1, 1)
    std = torch.tensor(manifest["std"], dtype=torch.float32).view(1, 3, 1, 1)
    return pixels, labels, mean, std


class Batches:
    """Shuffled batches: gather, standardise, then flip and shift each image (zero padding = the mean colour)."""

    def __init__(self, pixels, labels, mean, std, batch: int, max_shift: int, seed: int = 1):
        self.pixels, self.labels, self.mean, self.std, self.batch = pixels, labels, mean, std, batch
        self.max_shift = max_shift
        self.rng = np.random.default_rng(seed)
        self.order = self.rng.permutation(len(labels))
        self.step = 0

    def next(self):
        per_pass = len(self.order) // self.batch
        start = (self.step % per_pass) * self.batch
        self.step += 1
        idx = self.order[start : start + self.batch]
        x = torch.from_numpy(self.pixels[idx]).permute(0, 3, 1, 2).float()
        x = (x - self.mean) / self.std
        shift = self.max_shift
        padded = F.pad(x, (shift,) * 4)
        shifts = self.rng.integers(-shift, shift + 1, size=(self.batch, 2))
        flips = self.rng.random(self.batch) < 0.5
        out = torch.empty_like(x)
        for i in range(self.batch):
            top, left = shift - shifts[i, 0], shift - shifts[i, 1]
            crop = padded[i, :, top : top + IMAGE[0], left : left + IMAGE[1]]
            out[i] = crop.flip(2) if flips[i] else crop
        return out, torch.from_numpy(self.labels[idx])


class Trainer:
    """One model and its optimizer; `step` trains one batch and returns the loss as a float (a sync, as ours reads)."""

    def __init__(self, batches: Batches, preset: str):
        torch.manual_seed(1)
        if preset == "seed":
            self.model = seed_network().train()
            self.optimizer = torch.optim.Adam(self.model.parameters(), lr=1e-3)
            self.smoothing = 0.0
        else:
            # QUICK_RECIPE: Nesterov momentum 0.9, L2 5e-4 on the kernels, label smoothing 0.2. A constant,
            # small step size: the schedule costs nothing per step, and no step may run into NaNs.
            self.model = quick_network().train()
            trainable = [p for p in self.model.parameters() if p.requires_grad]
            groups = [{"params": [p for p in trainable if p.ndim > 1], "weight_decay": 5e-4},
                      {"params": [p for p in trainable if p.ndim == 1], "weight_decay": 0.0}]
            self.optimizer = torch.optim.SGD(groups, lr=0.04, momentum=0.9, nesterov=True)
            self.smoothing = 0.2
        self.batches = batches
        self.data_seconds = 0.0

    def step(self) -> float:
        start = time.perf_counter()
        x, y = self.batches.next()
        self.data_seconds += time.perf_counter() - start
        self.optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(self.model(x), y, label_smoothing=self.smoothing)
        loss.backward()
        self.optimizer.step()
        return loss.item()


def timed(trainers: dict, threads: list, rounds: int, per_round: int) -> dict:
    """ms per step at each thread count, the counts taking turns round by round."""
    totals = {t: 0.0 for t in threads}
    data = {t: 0.0 for t in threads}
    losses = {}
    for _ in range(rounds):
        for t in threads:
            torch.set_num_threads(t)
            trainer = trainers[t]
            before = trainer.data_seconds
            start = time.perf_counter()
            for _ in range(per_round):
                losses[t] = trainer.step()
            totals[t] += time.perf_counter() - start
            data[t] += trainer.data_seconds - before
    steps = rounds * per_round
    return {
        t: {"ms_per_step": 1000 * totals[t] / steps, "data_ms_per_step": 1000 * data[t] / steps, "last_loss": losses[t]}
        for t in threads
    }


def profile_step(trainer: Trainer, threads: int) -> list:
    """One step under torch.profiler: self CPU time and calls by op name, slowest first."""
    torch.set_num_threads(threads)
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        trainer.step()
    rows = [
        {"name": e.key, "calls": e.count, "self_ms": e.self_cpu_time_total / 1000, "total_ms": e.cpu_time_total / 1000}
        for e in prof.key_averages()
    ]
    return sorted(rows, key=lambda r: -r["self_ms"])


SEED_CONVS = ((3, 32, 32), (32, 32, 32), (32, 64, 16), (64, 64, 16), (64, 128, 8), (128, 128, 8))


def conv_passes(batch: int, threads: int, reps: int) -> list:
    """Each seed convolution's forward pass, input gradient and weight gradient alone, ms (median of `reps`)."""
    torch.set_num_threads(threads)
    gen = torch.Generator().manual_seed(7)
    rows = []
    for cin, cout, size in SEED_CONVS:
        x = torch.randn(batch, cin, size, size, generator=gen)
        w = torch.randn(cout, cin, 3, 3, generator=gen)
        b = torch.zeros(cout)
        dy = torch.randn(batch, cout, size, size, generator=gen)

        def backward(mask):
            return torch.ops.aten.convolution_backward(dy, x, w, [cout], [1, 1], [1, 1], [1, 1], False, [0, 0], 1, mask)

        passes = {
            "forward": lambda: F.conv2d(x, w, b, padding=1),
            "input_grad": lambda: backward([True, False, False]),
            "weight_grad": lambda: backward([False, True, True]),
        }
        row = {"in": cin, "out": cout, "size": size}
        for name, fn in passes.items():
            fn()
            times = []
            for _ in range(reps):
                start = time.perf_counter()
                fn()
                times.append(1000 * (time.perf_counter() - start))
            row[name] = float(np.median(times))
        rows.append(row)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="public/data/cifar10", help="shard folder of `npm run data`")
    parser.add_argument("--threads", default=f"1,{os.cpu_count() or 1}", help="thread counts, e.g. 1,2")
    parser.add_argument("--preset", choices=("seed", "quick"), default="seed")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=20, help="timed steps per thread count")
    parser.add_argument("--round", type=int, default=2, help="steps per thread count per round")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps per thread count first")
    parser.add_argument("--profile", action="store_true", help="also profile one step per thread count, and each convolution's passes")
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()
    threads = sorted({int(t) for t in args.threads.split(",")})

    pixels, labels, mean, std = load_shard(args.data)
    trainers = {t: Trainer(Batches(pixels, labels, mean, std, args.batch, MAX_SHIFT[args.preset]), args.preset) for t in threads}
    for t in threads:
        torch.set_num_threads(t)
        for _ in range(args.warmup):
            trainers[t].step()
    rounds = max(1, -(-args.steps // args.round))
    results = timed(trainers, threads, rounds, args.round)
    report = {
        "torch": torch.__version__,
        "preset": args.preset,
        "batch": args.batch,
        "steps": rounds * args.round,
        "runs": [{"threads": t, **results[t], "images_per_s": 1000 * args.batch / results[t]["ms_per_step"]} for t in threads],
    }
    print(f"PyTorch {torch.__version__} on the CPU, {args.preset} network, batch {args.batch}, {rounds * args.round} timed steps per thread count")
    for run in report["runs"]:
        print(
            f"  {run['threads']} thread(s): {run['ms_per_step']:.1f} ms/step, {run['images_per_s']:.1f} images/s "
            f"(of which data {run['data_ms_per_step']:.1f} ms), last loss {run['last_loss']:.3f}"
        )
    if args.profile:
        if args.preset != "seed":
            raise SystemExit("--profile compares the seed network's convolutions: use --preset seed")
        report["profiles"] = {str(t): profile_step(trainers[t], t) for t in threads}
        report["convs"] = {str(t): conv_passes(args.batch, t, 5) for t in threads}
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
