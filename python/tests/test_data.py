"""The data pipeline's ports against the TypeScript's own output (scripts/export-reference.ts)."""
import hashlib
import json
import os
import zipfile

import numpy as np
import pytest
import torch

from cifar_tab import data
from cifar_tab.data import read_data


def test_mulberry32_and_mix_seed_give_the_same_numbers(reference):
    for case in reference["mulberry"]:
        draw = data.mulberry32(case["seed"])
        assert [draw() for _ in case["values"]] == case["values"]
    for case in reference["mixSeed"]:
        assert data.mix_seed(*case["parts"]) == case["value"]


def test_js_round_rounds_halves_up_like_math_round():
    assert [data.js_round(x) for x in (0.5, 1.5, 2.5, -0.5, -1.5, 2.4999)] == [1, 2, 3, 0, -1, 2]


def test_split_and_sample_indices_equal_the_apps(reference, dataset):
    train, test, _ = dataset
    for case in reference["splits"]:
        got_train, got_val = data.split_training_set(train.labels, case["validationShare"], case["trainLimit"], case["seed"])
        assert got_train.tolist() == case["train"], case["seed"]
        assert got_val.tolist() == case["val"], case["seed"]
    for case in reference["testSamples"]:
        assert data.test_indices(test.labels, case["limit"], case["seed"]).tolist() == case["indices"]


def test_epoch_order_equals_the_apps(reference, dataset):
    train, _, _ = dataset
    indices, _ = data.split_training_set(train.labels, 0.1, 2000, 7)
    for case in reference["orders"]:
        assert data.epoch_order(indices, case["epoch"], case["seed"]).tolist() == case["order"]


def test_standardisation_equals_to_model_input(reference_dir, dataset):
    _, test, manifest = dataset
    folder = os.path.join(reference_dir, "augment")
    rgb = data.to_model_input(test.pixels[:8], "rgb", manifest["mean"], manifest["std"]).permute(0, 2, 3, 1).numpy()
    gray = data.to_model_input(test.pixels[:8], "gray", manifest["mean"], manifest["std"]).permute(0, 2, 3, 1).numpy()
    expected_rgb = np.fromfile(os.path.join(folder, "rgb.f32"), "<f4").reshape(rgb.shape)
    expected_gray = np.fromfile(os.path.join(folder, "gray.f32"), "<f4").reshape(gray.shape)
    # (x − mean) / std rounds the same in float32 everywhere; BT.601's sum of three products
    # may differ in the last bit, as TensorFlow.js backends do among themselves.
    assert np.array_equal(rgb, expected_rgb)
    assert np.abs(gray - expected_gray).max() <= 1e-6


def test_archive_reader_equals_the_shards_and_their_statistics(archive_path, dataset):
    train, test, manifest = dataset
    a_train, a_test, a_manifest = data.read_archive(archive_path)
    assert np.array_equal(a_train.pixels, train.pixels) and np.array_equal(a_train.labels, train.labels)
    assert np.array_equal(a_test.pixels, test.pixels) and np.array_equal(a_test.labels, test.labels)
    assert a_manifest["classes"] == manifest["classes"]
    # the same float64 sums in the same order as scripts/archive.ts channelStats: equal to the bit
    assert a_manifest["mean"] == manifest["mean"] and a_manifest["std"] == manifest["std"]


def test_to_model_input_keeps_gray_images_one_channel():
    pixels = np.full((2, 32, 32, 3), 128, dtype=np.uint8)
    x = data.to_model_input(torch.from_numpy(pixels), "gray", [128.0] * 3, [64.0] * 3)
    assert x.shape == (2, 1, 32, 32) and x.dtype == torch.float32 and float(x.abs().max()) < 1e-6


def _own_data_zip(path, classes, per_class, corrupt=None):
    """A data set zip laid out as the page's "Download … for Python" writes it (src/worker/ownData.ts)."""
    rng = np.random.default_rng(3)
    files, manifest_splits = {}, {}
    for split, count in (("train", per_class), ("test", 2)):
        labels = np.repeat(np.arange(len(classes), dtype=np.uint8), count)
        records = np.concatenate([labels[:, None], rng.integers(0, 256, (len(labels), 3072), dtype=np.uint8)], axis=1)
        data = records.tobytes()
        name = f"{split}-000.bin"
        files[name] = data
        manifest_splits[split] = {"count": len(labels), "shards": [
            {"file": name, "count": len(labels), "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}]}
    if corrupt:
        files[corrupt] = files[corrupt][:-1] + bytes([files[corrupt][-1] ^ 1])
    manifest = {"classes": classes, "image": {"height": 32, "width": 32, "channels": 3}, "splits": manifest_splits,
                "mean": [120.0, 120.0, 120.0], "std": [60.0, 60.0, 60.0]}
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("manifest.json", json.dumps(manifest))
        for name, data in files.items():
            z.writestr(name, data)
    return manifest


def test_reads_a_data_set_of_the_users_own_classes_from_the_pages_zip(tmp_path):
    path = str(tmp_path / "leaves-data.zip")
    manifest = _own_data_zip(path, ["oak", "maple", "birch"], per_class=5)
    train, test, read_manifest = read_data(path)
    assert read_manifest["classes"] == ["oak", "maple", "birch"]
    assert train.pixels.shape == (15, 32, 32, 3) and test.pixels.shape == (6, 32, 32, 3)
    assert sorted(set(train.labels.tolist())) == [0, 1, 2]
    assert read_manifest == manifest


def test_refuses_a_data_set_zip_whose_shard_does_not_match_its_manifest(tmp_path):
    path = str(tmp_path / "bad.zip")
    _own_data_zip(path, ["oak", "maple"], per_class=4, corrupt="test-000.bin")
    with pytest.raises(ValueError, match="test-000.bin does not match manifest.json"):
        read_data(path)
