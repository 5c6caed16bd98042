"""Training pieces against the app's: schedule, loss, early stopping, and a whole continued epoch."""
import hashlib
import json
import math
import os
import zipfile

import numpy as np
import pytest
import torch

from cifar_tab import train
from cifar_tab.data import to_model_input
from cifar_tab.handover import read_handover


def test_schedule_equals_warmup_decay_rate(reference):
    for case in reference["schedule"]:
        s = case["schedule"]
        got = [train.warmup_decay_rate(step, case["totalSteps"], s["peak"], s["warmupFraction"], s["startFactor"],
                                       s["endFactor"]) for step in range(len(case["rates"]))]
        assert np.abs(np.array(got) - np.array(case["rates"])).max() <= 1e-15


def test_cross_entropy_clips_and_smooths_like_the_app():
    probs = torch.tensor([[1.0, 0.0, 0.0], [0.5, 0.25, 0.25]])
    labels = torch.tensor([1, 0])
    assert math.isclose(train.cross_entropy(probs, labels).item(), (-math.log(1e-7) - math.log(0.5)) / 2, rel_tol=1e-6)
    smooth = train.cross_entropy(probs, labels, 0.3).item()
    target = [[0.1, 0.8, 0.1], [0.8, 0.1, 0.1]]
    expected = -sum(t * math.log(max(p, 1e-7)) for row_t, row_p in zip(target, probs.tolist()) for t, p in zip(row_t, row_p)) / 2
    assert math.isclose(smooth, expected, rel_tol=1e-6)


def test_early_stopping_as_the_app_decides():
    assert train.early_stopping([1.0, 0.9, 0.95, 0.97], 2) == (2, False, True)
    assert train.early_stopping([1.0, 0.9, 0.95], 2) == (2, False, False)
    assert train.early_stopping([1.0, 0.9, 0.95, 0.97], 0) == (2, False, False)
    assert train.early_stopping([float("nan"), 2.0], 1) == (2, True, False)


def continue_one_epoch(reference_dir, data_dir, case, tmp_path):
    """Continues the tab's epoch-1 hand-over for one epoch in one process; returns the output and the tab's epoch 2."""
    train.main(["--from", os.path.join(reference_dir, case, "epoch-1"), "--run", str(tmp_path), "--data", data_dir])
    ours = read_handover(os.path.join(tmp_path, train.EXPORT))
    tab = read_handover(os.path.join(reference_dir, case, "epoch-2"))
    return ours, tab


def predict(model, run, pixels):
    model.eval()
    with torch.no_grad():
        return model(to_model_input(pixels, run["color"], run["mean"], run["std"])).numpy()


def test_sgd_continues_exactly_as_the_tab_would(reference_dir, data_dir, dataset, tmp_path):
    """tiny · gray trains with SGD + momentum: PyTorch's epoch 2 is the tab's, to float rounding."""
    (run, model, _, slots), (tab_run, tab_model, _, tab_slots) = continue_one_epoch(reference_dir, data_dir, "tiny-gray", tmp_path)
    assert run["step"] == tab_run["step"] and run["optimizer"]["iterations"] == tab_run["optimizer"]["iterations"]
    assert abs(run["curves"]["epochs"][1]["trainLoss"] - tab_run["curves"]["epochs"][1]["trainLoss"]) <= 1e-5
    assert abs(run["curves"]["epochs"][1]["valLoss"] - tab_run["curves"]["epochs"][1]["valLoss"]) <= 1e-5
    with open(os.path.join(reference_dir, "tiny-gray", "predictions.json")) as f:
        expected = json.load(f)
    pixels = dataset[1].pixels[np.array(expected["testIndices"])]
    assert np.abs(predict(model, run, pixels) - np.array(expected["epoch2"])).max() <= 1e-4
    assert all(np.abs(a - b).max() <= 1e-4 for (_, _, a), (_, _, b) in zip(slots, tab_slots))


def test_adam_continues_as_the_tab_would_except_where_only_rounding_drives_it(reference_dir, data_dir, dataset, tmp_path):
    """tiny · rgb trains with Adam. A convolution's bias right before BatchNorm has a gradient of
    exactly zero in exact arithmetic (BatchNorm subtracts the mean), so what reaches it is rounding
    noise, ~1e-9, which Adam divides by its own square root: steps of ±lr whose signs depend on the
    engine. Those biases (and the running means that follow them) are compared loosely, all else tightly."""
    (run, model, _, _), (tab_run, tab_model, _, _) = continue_one_epoch(reference_dir, data_dir, "tiny-rgb", tmp_path)
    assert abs(run["curves"]["epochs"][1]["trainLoss"] - tab_run["curves"]["epochs"][1]["trainLoss"]) <= 1e-5
    ours, theirs = model.state_dict(), tab_model.state_dict()
    noisy = {k for k in ours if k.endswith("conv1.bias") or k.endswith("conv2.bias") or k.endswith("running_mean")}
    lr, steps = run["settings"]["learningRate"], run["step"] - 4
    for key in ours:
        difference = (ours[key] - theirs[key]).abs().max().item()
        assert difference <= (2 * lr * steps if key in noisy else 1e-5), (key, difference)
    with open(os.path.join(reference_dir, "tiny-rgb", "predictions.json")) as f:
        expected = json.load(f)
    pixels = dataset[1].pixels[np.array(expected["testIndices"])]
    # measured 2.5e-4: the bias/running-mean gap above, seen through BatchNorm in inference mode
    assert np.abs(predict(model, run, pixels) - np.array(expected["epoch2"])).max() <= 2e-3


@pytest.mark.parametrize("case", ["fast-rgb", "fast-gray", "quick-rgb"])
def test_fast_recipe_continues_as_the_tab(case, reference, reference_dir, data_dir, tmp_path, monkeypatch):
    """fast and quick: Nesterov momentum, warm-up/decay schedule, label smoothing and weight decay.
    The first step of epoch 2 (before any update of ours) gives the tab's loss; the next ones
    must too."""
    monkeypatch.setattr(train, "READ_EVERY", 1)
    (run, _, _, _), (tab_run, _, _, _) = continue_one_epoch(reference_dir, data_dir, case, tmp_path)
    ours = [s for s in run["curves"]["steps"] if s["epoch"] == 2]
    theirs = [s for s in tab_run["curves"]["steps"] if s["epoch"] == 2]
    assert [s["step"] for s in ours] == [s["step"] for s in theirs]
    assert abs(ours[0]["loss"] - theirs[0]["loss"]) <= 1e-5
    worst = max(abs(a["loss"] - b["loss"]) for a, b in zip(ours, theirs))
    assert worst <= 1e-4


@pytest.mark.parametrize("case", ["tiny-gray", "fast-rgb", "quick-rgb"])
def test_a_run_handed_over_before_its_first_step_trains_from_the_start_as_the_tab(
        case, reference_dir, data_dir, tmp_path, monkeypatch):
    """The hand-over of a run stopped before its first epoch ended (epoch-0: the initial weights, whitening
    fitted, no optimizer state): PyTorch's first epoch takes the tab's steps, from the first one on."""
    monkeypatch.setattr(train, "READ_EVERY", 1)
    start = os.path.join(reference_dir, case, "epoch-0")
    run, _, _, slots = read_handover(start)
    assert (run["epochsDone"], run["step"], run["segments"], run["optimizer"], slots) == (0, 0, [], None, None)
    train.main(["--from", start, "--run", str(tmp_path), "--data", data_dir, "--stop-after", "1"])
    ours = read_handover(os.path.join(tmp_path, train.EXPORT))[0]
    theirs = read_handover(os.path.join(reference_dir, case, "epoch-1"))[0]
    assert [(s["engine"], s["fromEpoch"], s["toEpoch"]) for s in ours["segments"]] == [("torch", 1, 1)]
    mine, tab = ours["curves"]["steps"], theirs["curves"]["steps"]
    assert [s["step"] for s in mine] == [s["step"] for s in tab] and len(mine) > 1
    assert abs(mine[0]["loss"] - tab[0]["loss"]) <= 1e-5
    assert max(abs(a["loss"] - b["loss"]) for a, b in zip(mine, tab)) <= 1e-4


def test_refuses_data_whose_classes_are_not_the_runs(reference_dir, tmp_path):
    """A CIFAR-10 run given a data set of the user's own three classes stops before its first step, naming both."""
    records = np.concatenate([np.repeat(np.arange(3, dtype=np.uint8), 4)[:, None], np.zeros((12, 3072), np.uint8)], axis=1).tobytes()
    shard = {"file": "train-000.bin", "count": 12, "bytes": len(records), "sha256": hashlib.sha256(records).hexdigest()}
    manifest = {"classes": ["oak", "maple", "birch"], "image": {"height": 32, "width": 32, "channels": 3},
                "splits": {"train": {"count": 12, "shards": [shard]},
                           "test": {"count": 12, "shards": [dict(shard, file="test-000.bin")]}},
                "mean": [0.0, 0.0, 0.0], "std": [1.0, 1.0, 1.0]}
    data = str(tmp_path / "leaves-data.zip")
    with zipfile.ZipFile(data, "w") as z:
        z.writestr("manifest.json", json.dumps(manifest))
        z.writestr("train-000.bin", records)
        z.writestr("test-000.bin", records)
    with pytest.raises(SystemExit, match="knows the classes airplane, automobile.*has oak, maple, birch"):
        train.main(["--from", os.path.join(reference_dir, "tiny-gray", "epoch-1"), "--run", str(tmp_path / "run"), "--data", data])
