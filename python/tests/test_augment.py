"""Augmentation: the same flips and shifts for the same (step, seed), and the same pixels."""
import json
import os

import numpy as np
import torch

from cifar_tab.augment import augment_batch, augment_params


def test_params_equal_the_apps(reference):
    for case in reference["augment"]:
        flip, dx, dy = augment_params(case["step"], case["seed"], case["batchSize"], case["maxShift"])
        assert (flip.tolist(), dx.tolist(), dy.tolist()) == (case["flip"], case["dx"], case["dy"])


def test_augmented_images_equal_the_apps_bit_for_bit(reference_dir):
    folder = os.path.join(reference_dir, "augment")
    with open(os.path.join(folder, "cases.json")) as f:
        spec = json.load(f)
    n = spec["testImages"]
    # the app's own standardised images, so only the augmentation is compared
    x = np.fromfile(os.path.join(folder, "rgb.f32"), "<f4").reshape(n, 32, 32, 3)
    x = torch.from_numpy(x.copy()).permute(0, 3, 1, 2)
    for i, case in enumerate(spec["cases"]):
        params = augment_params(case["step"], case["seed"], n, case["maxShift"])
        got = augment_batch(x, *params, max_shift=case["maxShift"]).permute(0, 2, 3, 1).numpy()
        expected = np.fromfile(os.path.join(folder, f"augmented-{i}.f32"), "<f4").reshape(got.shape)
        assert np.array_equal(got, expected), case


def test_shift_and_flip_move_pixels_as_documented():
    x = torch.arange(1, 5, dtype=torch.float32).reshape(1, 1, 1, 4)
    mirrored = augment_batch(x, torch.tensor([1]), torch.tensor([0]), torch.tensor([0]), 1)
    shifted = augment_batch(x, torch.tensor([0]), torch.tensor([1]), torch.tensor([0]), 1)
    assert mirrored.flatten().tolist() == [4, 3, 2, 1]
    assert shifted.flatten().tolist() == [0, 1, 2, 3]
