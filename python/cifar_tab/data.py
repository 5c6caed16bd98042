"""The app's data pipeline, ported bit for bit: reading CIFAR-10, the seeded
random streams, the stratified split and sample, the epoch order, and the
standardisation the model's inputs go through.

Each function names the TypeScript it ports; the tests compare the results
with that TypeScript's own output.
"""
import hashlib
import json
import math
import os
import tarfile
import zipfile

import numpy as np
import torch

HEIGHT, WIDTH, CHANNELS = 32, 32, 3
PIXELS = HEIGHT * WIDTH * CHANNELS  # bytes of one image
RECORD = 1 + PIXELS  # label byte + pixels, in the archive and in the shards
NUM_CLASSES = 10
LUMA = (0.299, 0.587, 0.114)  # ITU-R BT.601, src/data/grayscale.ts
M32 = 0xFFFFFFFF

# src/data/random.ts STREAMS: one stream of random numbers per purpose
STREAMS = {"split": 1, "sample": 2, "epoch_order": 3, "augment": 4, "weights": 5}


# ---- seeded randomness (src/data/random.ts) ----------------------------------------

def _imul(a, b):
    """Math.imul on uint32 inputs, kept as uint32 (int32 and uint32 share their low 32 bits)."""
    return (a * b) & M32


def mulberry32(seed):
    """Returns a function giving floats in [0, 1), the same sequence as mulberry32 in random.ts."""
    state = seed & M32

    def draw():
        nonlocal state
        state = (state + 0x6D2B79F5) & M32
        t = state
        t = _imul(t ^ (t >> 15), t | 1)
        t ^= (t + _imul(t ^ (t >> 7), t | 61)) & M32
        return ((t ^ (t >> 14)) & M32) / 4294967296

    return draw


def mix_seed(*parts):
    """mixSeed: murmur3's finaliser over the parts."""
    h = 0x9E3779B9
    for part in parts:
        h = _imul(h ^ (part & M32), 0x85EBCA6B)
        h ^= h >> 13
        h = _imul(h, 0xC2B2AE35)
        h ^= h >> 16
    return h & M32


def shuffle_in_place(values, draw):
    """shuffleInPlace: Fisher-Yates from the end, on a Python list."""
    for i in range(len(values) - 1, 0, -1):
        j = math.floor(draw() * (i + 1))
        values[i], values[j] = values[j], values[i]
    return values


def js_round(x):
    """Math.round: halves go up (Python's round() goes to even)."""
    floor = math.floor(x)
    return floor + 1 if x - floor >= 0.5 else floor


# ---- split and sample (src/data/split.ts) ------------------------------------------

def _group_by_class(labels, indices):
    groups = {}
    for index in indices:
        groups.setdefault(int(labels[index]), []).append(int(index))
    return {label: groups[label] for label in sorted(groups)}


def stratified_split(labels, val_share, seed):
    """stratifiedSplit: each class shuffled by (seed, class), round(n * share) of it to validation."""
    if not 0 <= val_share <= 1:
        raise ValueError(f"val_share must be in [0, 1], got {val_share}")
    train, val = [], []
    for label, members in _group_by_class(labels, range(len(labels))).items():
        shuffle_in_place(members, mulberry32(mix_seed(seed, STREAMS["split"], label)))
        n_val = js_round(len(members) * val_share)
        val.extend(members[:n_val])
        train.extend(members[n_val:])
    return np.array(sorted(train), dtype=np.int64), np.array(sorted(val), dtype=np.int64)


def stratified_sample(labels, indices, limit, seed):
    """stratifiedSample: `limit` of `indices`, each class keeping its share (largest remainders)."""
    if limit >= len(indices):
        return np.array(sorted(int(i) for i in indices), dtype=np.int64)
    groups = _group_by_class(labels, indices)
    quotas, remainders = {}, []
    for label, members in groups.items():
        exact = len(members) * limit / len(indices)
        quotas[label] = math.floor(exact)
        remainders.append((-(exact - math.floor(exact)), label))
    remainders.sort()  # largest fraction first, ties to the lower label
    for _, label in remainders[: limit - sum(quotas.values())]:
        quotas[label] += 1
    picked = []
    for label, members in groups.items():
        shuffle_in_place(members, mulberry32(mix_seed(seed, STREAMS["sample"], label)))
        picked.extend(members[: quotas[label]])
    return np.array(sorted(picked), dtype=np.int64)


def split_training_set(labels, validation_share, train_limit, seed):
    """splitTrainingSet: validation held out first; trainLimit thins both parts at the same share."""
    train, val = stratified_split(labels, validation_share, seed)
    if train_limit == 0:
        return train, val
    share = validation_share
    val_limit = js_round(train_limit * share / (1 - share)) if share < 1 else len(val)
    return (stratified_sample(labels, train, train_limit, seed),
            stratified_sample(labels, val, val_limit, seed))


def test_indices(labels, test_limit, seed):
    """The test images a run evaluates on (src/worker/run.ts): all, or a stratified sample."""
    everything = np.arange(len(labels), dtype=np.int64)
    return stratified_sample(labels, everything, test_limit, seed) if test_limit > 0 else everything


def epoch_order(indices, epoch, seed):
    """epochOrder (src/train/batches.ts): this epoch's shuffle of the training indices."""
    order = [int(i) for i in indices]
    return np.array(shuffle_in_place(order, mulberry32(mix_seed(seed, STREAMS["epoch_order"], epoch))), dtype=np.int64)


# ---- reading CIFAR-10 ----------------------------------------------------------------

class Split:
    """All images of one split as bytes: pixels [N, 32, 32, 3] uint8 (HWC, RGB) and labels [N] uint8."""

    def __init__(self, pixels, labels):
        self.pixels, self.labels = pixels, labels

    def __len__(self):
        return len(self.labels)


def _records_to_split(buffer):
    records = np.frombuffer(buffer, dtype=np.uint8).reshape(-1, RECORD)
    return records[:, 1:].reshape(-1, HEIGHT, WIDTH, CHANNELS), records[:, 0].copy()


def read_shards(folder):
    """The app's shards (README "The data"), each checked against manifest.json's size and SHA-256."""
    def read(name):
        with open(os.path.join(folder, name), "rb") as f:
            return f.read()
    return _shards_from(read, "rebuild with npm run data")


def read_shard_zip(path):
    """A data set of the user's own classes as the page exports it: manifest.json and the shards at the zip's top."""
    with zipfile.ZipFile(path) as z:
        def read(name):
            try:
                return z.read(name)
            except KeyError:
                raise ValueError(f"{os.path.basename(path)} has no {name}: export the data set from the page again") from None
        return _shards_from(read, "export the data set from the page again")


def _shards_from(read, remedy):
    manifest = json.loads(read("manifest.json"))
    splits = {}
    for name in ("train", "test"):
        shards = manifest["splits"][name]["shards"]
        parts = []
        for shard in shards:
            data = read(shard["file"])
            if len(data) != shard["bytes"] or hashlib.sha256(data).hexdigest() != shard["sha256"]:
                raise ValueError(f"{shard['file']} does not match manifest.json ({remedy})")
            parts.append(data)
        pixels, labels = _records_to_split(b"".join(parts))
        if len(labels) and int(labels.max()) >= len(manifest["classes"]):
            raise ValueError(f"a label of split {name} is beyond the manifest's {len(manifest['classes'])} classes ({remedy})")
        splits[name] = Split(np.ascontiguousarray(pixels), labels)
    return splits["train"], splits["test"], manifest


def read_archive(path):
    """The official cifar-10-binary.tar.gz: records are label + R, G, B planes; turned into HWC."""
    members = {}
    with tarfile.open(path, "r:gz") as tar:
        for member in tar:
            if member.isfile():
                members[os.path.basename(member.name)] = tar.extractfile(member).read()

    def split(names):
        records = np.frombuffer(b"".join(members[n] for n in names), dtype=np.uint8).reshape(-1, RECORD)
        planes = records[:, 1:].reshape(-1, CHANNELS, HEIGHT, WIDTH)
        return Split(np.ascontiguousarray(planes.transpose(0, 2, 3, 1)), records[:, 0].copy())

    train = split([f"data_batch_{i}.bin" for i in range(1, 6)])
    test = split(["test_batch.bin"])
    classes = [c for c in members["batches.meta.txt"].decode().split("\n") if c.strip()]
    mean, std = channel_stats(train.pixels)
    return train, test, {"classes": classes, "mean": mean, "std": std}


def read_data(path):
    """A shard folder (with manifest.json), a data set zip exported by the page, or the official archive;
    returns (train, test, manifest-like dict)."""
    if os.path.isdir(path):
        return read_shards(path)
    if path.lower().endswith(".zip"):
        return read_shard_zip(path)
    return read_archive(path)


def channel_stats(pixels):
    """channelStats (scripts/archive.ts): mean and std per channel from a histogram, in the same float64 order."""
    mean, std = [], []
    for c in range(CHANNELS):
        counts = np.bincount(pixels[..., c].ravel(), minlength=256).tolist()
        n = 0
        total = 0.0
        for v, k in enumerate(counts):
            n += k
            total += k * v
        m = total / n
        squares = 0.0
        for v, k in enumerate(counts):
            squares += k * (v - m) ** 2
        mean.append(m)
        std.append(math.sqrt(squares / n))
    return mean, std


# ---- what the model sees (src/data/preprocess.ts) --------------------------------------

def luma(rgb):
    """luma(): BT.601 weights on one RGB triple, in float64 like JavaScript."""
    return LUMA[0] * rgb[0] + LUMA[1] * rgb[1] + LUMA[2] * rgb[2]


def to_model_input(pixels, color, mean, std):
    """toModelInput: uint8 or float [B, 32, 32, 3] (0-255) → float32 NCHW tensor, standardised per channel.

    The arithmetic runs in float32 in NHWC order, as TensorFlow.js runs it; only the
    result is laid out as channels-first for PyTorch's convolutions.
    """
    x = torch.as_tensor(pixels).to(torch.float32)
    if color == "gray":
        weights = torch.tensor(LUMA, dtype=torch.float32)
        gray = (x[..., 0] * weights[0] + x[..., 1] * weights[1]) + x[..., 2] * weights[2]
        scalar = lambda v: torch.tensor(v, dtype=torch.float32)  # as TensorFlow.js turns a number into a tensor
        x = ((gray - scalar(luma(mean))) / scalar(luma(std))).unsqueeze(-1)
    else:
        x = (x - torch.tensor(mean, dtype=torch.float32)) / torch.tensor(std, dtype=torch.float32)
    return x.permute(0, 3, 1, 2).contiguous()

