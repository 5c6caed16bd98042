"""Each preset × colour, exported by the app after a few training steps, predicts in PyTorch
what it predicted in the app: the same probabilities on 64 real test images, to 1e-4."""
import json
import os

import numpy as np
import pytest
import torch

from cifar_tab.handover import read_handover, unpack, write_handover
from cifar_tab.model import read_layers_model
from cifar_tab.predict import probabilities
from cifar_tab.train import make_optimizer, optimizer_slots, trainable_weights, load_optimizer_slots

from conftest import CASES

TOLERANCE = 1e-4  # max abs difference of probabilities


@pytest.mark.parametrize("case", CASES)
def test_probabilities_equal_the_apps(case, reference_dir, dataset):
    _, test, _ = dataset
    with open(os.path.join(reference_dir, case, "predictions.json")) as f:
        expected = json.load(f)
    run, model, _, _ = read_handover(os.path.join(reference_dir, case, "epoch-1"))
    pixels = test.pixels[np.array(expected["testIndices"])]
    assert len(pixels) == 64
    got = probabilities(model, run, pixels)
    difference = np.abs(got - np.array(expected["epoch1"])).max()
    assert difference <= TOLERANCE, f"{case}: max |Δp| = {difference:.2e}"
    if "epoch1Tta" in expected:  # fast: the app's evaluation averages each image and its mirror image
        tta = np.array(expected["epoch1Tta"])
        difference = np.abs(probabilities(model, run, pixels[:len(tta)], True) - tta).max()
        assert difference <= TOLERANCE, f"{case} with flip TTA: max |Δp| = {difference:.2e}"


@pytest.mark.parametrize("case", CASES)
def test_written_files_are_the_read_ones(case, reference_dir, tmp_path):
    """Layers weights and optimizer slots survive PyTorch's layouts unchanged, in the app's order."""
    folder = os.path.join(reference_dir, case, "epoch-1")
    run, model, model_json, slots = read_handover(folder)
    named = trainable_weights(model)
    optimizer = make_optimizer(run, named)
    load_optimizer_slots(optimizer, model, named, run, slots)
    ours = optimizer_slots(optimizer, named)
    assert [(w, s) for w, s, _ in ours] == [(w, s) for w, s, _ in slots]
    written = write_handover(str(tmp_path), run, model, model_json, ours, "copy", None)
    _, original = read_layers_model(os.path.join(folder, run["model"]))
    copy_json, copy = read_layers_model(os.path.join(tmp_path, written["model"]))
    assert list(copy) == list(original)  # names, in the app's order
    assert all(np.array_equal(copy[k], original[k]) for k in original)
    assert copy_json["modelTopology"] == model_json["modelTopology"]
    _, _, _, slots_back = read_handover(str(tmp_path))
    assert all(np.array_equal(a, b) for (_, _, a), (_, _, b) in zip(slots, slots_back))


def test_a_zipped_handover_reads_as_its_folder(reference_dir, tmp_path):
    import zipfile
    folder = os.path.join(reference_dir, "tiny-rgb", "epoch-1")
    archive = os.path.join(tmp_path, "run.zip")
    with zipfile.ZipFile(archive, "w") as z:
        for name in os.listdir(folder):
            z.write(os.path.join(folder, name), name)
    run, model, _, slots = read_handover(unpack(archive, os.path.join(tmp_path, "unpacked")))
    run0, model0, _, slots0 = read_handover(folder)
    assert run == run0
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), model0.state_dict().values()))
    with zipfile.ZipFile(os.path.join(tmp_path, "evil.zip"), "w") as z:
        z.writestr("../run.json", "{}")
    with pytest.raises(ValueError):
        unpack(os.path.join(tmp_path, "evil.zip"), os.path.join(tmp_path, "evil"))


def test_a_run_without_its_recipe_is_refused_in_words(reference_dir, tmp_path):
    """The trainer takes its optimizer, schedule and loss from run.json's recipe only, so a file without one stops."""
    import shutil
    folder = os.path.join(tmp_path, "run")
    shutil.copytree(os.path.join(reference_dir, "fast-rgb", "epoch-1"), folder)
    path = os.path.join(folder, "run.json")
    with open(path) as f:
        run = json.load(f)
    assert run["recipe"]["schedule"]["kind"] == "warmup-decay" and run["recipe"]["flipTestTime"] is True
    del run["recipe"]
    with open(path, "w") as f:
        json.dump(run, f)
    with pytest.raises(ValueError, match="no recipe"):
        read_handover(folder)
