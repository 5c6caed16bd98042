"""torchrun with 2 processes continues the tab's tiny export on 2,000 images: the loss falls,
both ranks end with the same weights, an interrupted run resumes from its checkpoint to the
very weights of an uninterrupted one, and the result loads in the app with PyTorch's predictions."""
import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest
import torch

from cifar_tab.data import split_training_set
from cifar_tab.handover import read_handover
from cifar_tab.predict import probabilities
from cifar_tab.train import EXPORT, evaluate

from conftest import ROOT

CASE = "tiny-rgb"
TRAIN_LIMIT = 2000
TIMEOUT = 600  # seconds per torchrun; a busy 2-core machine takes well under that


def launcher_workaround():
    """Debian's torch 1.13 on Python 3.11: torchrun cannot parse its own default --redirects and
    --tee of "0" (IntFlag no longer lists its zero member), so it gets values it can parse:
    each worker's stderr to a log file, teed back to the console."""
    from torch.distributed.elastic.multiprocessing.api import Std
    return [] if Std.from_str("0") is not None else ["--redirects", "2", "--tee", "2"]


def torchrun(handover, run_dir, data_dir, *extra):
    """`torchrun --standalone --nproc_per_node=2 -m cifar_tab.train …` (torchrun is torch.distributed.run)."""
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
               *launcher_workaround(), "-m", "cifar_tab.train", "--from", handover, "--run", str(run_dir), "--data", data_dir,
               "--train-limit", str(TRAIN_LIMIT), "--epochs", "3", *extra]
    env = {**os.environ, "PYTHONPATH": os.path.join(ROOT, "python"), "OMP_NUM_THREADS": "1"}
    # A session of its own, so that a timeout ends the workers too, not only torchrun.
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        pytest.fail(f"torchrun took over {TIMEOUT} s:\n{stdout}\n{stderr}")
    assert process.returncode == 0, stdout + stderr
    return stdout


def rank_digests(run_dir):
    return [open(os.path.join(run_dir, f"weights-rank{r}.sha256")).read() for r in (0, 1)]


@pytest.fixture(scope="module")
def runs(reference_dir, data_dir, tmp_path_factory):
    """One interrupted run (epoch 2, then resumed for epoch 3) and one uninterrupted (epochs 2-3)."""
    handover = os.path.join(reference_dir, CASE, "epoch-1")
    interrupted, straight = tmp_path_factory.mktemp("interrupted"), tmp_path_factory.mktemp("straight")
    first = torchrun(handover, interrupted, data_dir, "--stop-after", "1")
    after_first = {"run": json.load(open(os.path.join(interrupted, EXPORT, "run.json"))),
                   "digests": rank_digests(interrupted)}
    resumed = torchrun(handover, interrupted, data_dir)
    torchrun(handover, straight, data_dir)
    return dict(handover=handover, interrupted=interrupted, straight=straight, first=first,
                after_first=after_first, resumed=resumed)


def test_one_epoch_on_two_processes_lowers_the_loss(runs, dataset):
    run = runs["after_first"]["run"]
    assert run["epochsDone"] == 2
    steps = [s for s in run["curves"]["steps"] if s["epoch"] == 2]
    per_epoch = TRAIN_LIMIT // run["settings"]["batchSize"]
    assert steps[-1]["batchInEpoch"] == steps[-1]["batchesPerEpoch"] == per_epoch
    first, last = np.mean([s["loss"] for s in steps[:3]]), np.mean([s["loss"] for s in steps[-3:]])
    assert last < first, (first, last)
    # validation loss on the same 2,000-image run's validation images, before and after
    train_set = dataset[0]
    start_run, start_model, _, _ = read_handover(runs["handover"])
    _, val = split_training_set(train_set.labels, 0.1, TRAIN_LIMIT, start_run["seed"])
    before, _, _ = evaluate(start_model, train_set, val, start_run, torch.device("cpu"))
    assert run["curves"]["epochs"][1]["valLoss"] < before


def test_both_ranks_end_with_identical_weights(runs):
    digests = runs["after_first"]["digests"]
    assert digests[0] == digests[1]
    assert len(set(rank_digests(runs["interrupted"]) + rank_digests(runs["straight"]))) == 1


def test_resumed_run_continues_from_its_checkpoint(runs):
    assert "resumed from" in runs["resumed"] and "epoch 2, step" in runs["resumed"]
    run = json.load(open(os.path.join(runs["interrupted"], EXPORT, "run.json")))
    straight = json.load(open(os.path.join(runs["straight"], EXPORT, "run.json")))
    assert run["epochsDone"] == 3 and [e["epoch"] for e in run["curves"]["epochs"]] == [1, 2, 3]
    per_epoch = TRAIN_LIMIT // run["settings"]["batchSize"]
    start_step = runs["after_first"]["run"]["step"]
    assert run["step"] == start_step + per_epoch == run["optimizer"]["iterations"]
    assert [s["step"] for s in run["curves"]["steps"]] == [s["step"] for s in straight["curves"]["steps"]]
    assert [e["trainLoss"] for e in run["curves"]["epochs"]] == [e["trainLoss"] for e in straight["curves"]["epochs"]]
    tab, torch_part = run["segments"]
    assert (tab["engine"], tab["fromEpoch"], tab["toEpoch"]) == ("tfjs", 1, 1)
    assert (torch_part["engine"], torch_part["fromEpoch"], torch_part["toEpoch"]) == ("torch", 2, 3)
    assert (torch_part["worldSize"], torch_part["backend"], torch_part["device"]) == (2, "gloo", "cpu")
    assert (torch_part["fromStep"], torch_part["toStep"]) == (tab["toStep"], run["step"])
    assert os.path.exists(os.path.join(runs["interrupted"], EXPORT + ".zip"))


def test_the_app_loads_the_result_and_predicts_what_pytorch_does(runs, data_dir, dataset):
    folder = os.path.join(runs["interrupted"], EXPORT)
    done = subprocess.run(["npx", "tsx", "scripts/export-reference.ts", "--check", folder, "--data", data_dir],
                          cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT)
    assert done.returncode == 0, done.stderr
    app = json.loads(done.stdout.strip().splitlines()[-1])
    run, model, _, _ = read_handover(folder)
    ours = probabilities(model, run, dataset[1].pixels[np.array(app["testIndices"])])
    assert len(app["probs"]) == run["settings"]["testLimit"] == 64
    assert np.abs(ours - np.array(app["probs"])).max() <= 1e-4
