"""The app's augmentation (src/train/augment.ts), ported exactly: random flips and
shifts as a pure function of (step, seed), applied to standardised images
zero-padded by max_shift (zero = the training set's mean colour).
"""
import math

import torch

from .data import STREAMS, mix_seed, mulberry32

MAX_SHIFT = 4  # pixels: pad 4 and crop 32 (He et al. 2016), the app's default


def augment_params(step, seed, batch_size, max_shift=MAX_SHIFT):
    """augmentParams: per image of the GLOBAL batch, (flip 0/1, dx, dy); dx > 0 moves content right, dy > 0 down."""
    draw = mulberry32(mix_seed(seed, STREAMS["augment"], step))
    flip, dx, dy = [], [], []
    for _ in range(batch_size):
        flip.append(1 if draw() < 0.5 else 0)
        dx.append(math.floor(draw() * (2 * max_shift + 1)) - max_shift)
        dy.append(math.floor(draw() * (2 * max_shift + 1)) - max_shift)
    return torch.tensor(flip), torch.tensor(dx), torch.tensor(dy)


def augment_batch(x, flip, dx, dy, max_shift=MAX_SHIFT):
    """augmentBatch on NCHW images: output pixel (i, j) shows input (i − dy, j − dx), or, flipped,
    (i − dy, W − 1 − j + dx); zeros where nothing moves in. The app does this with one
    cropAndResize ('nearest') whose boxes land on pixel centres, i.e. a pure copy, as here."""
    b, _, h, w = x.shape
    if flip.numel() != b or dx.abs().max() > max_shift or dy.abs().max() > max_shift:
        raise ValueError("augmentation parameters do not fit the batch")
    m = max_shift
    padded = torch.nn.functional.pad(x, (m, m, m, m))
    device = x.device
    flip, dx, dy = flip.to(device), dx.to(device), dy.to(device)
    rows = (m - dy)[:, None] + torch.arange(h, device=device)[None, :]
    j = torch.arange(w, device=device)[None, :]
    cols = torch.where(flip[:, None] == 1, (m + dx + w - 1)[:, None] - j, (m - dx)[:, None] + j)
    picked = padded[torch.arange(b, device=device)[:, None, None], :, rows[:, :, None], cols[:, None, :]]
    return picked.permute(0, 3, 1, 2).contiguous()  # advanced indexing put channels last
