"""The hand-over folder (python/README.md, src/handover/runFile.ts): the app's Layers
files, run.json, and the optimizer's slots in optimizer.weights.bin.
"""
import copy
import json
import os
import zipfile

import numpy as np

from .model import load_layers_model, to_tfjs_layout, write_layers_model

RUN_FILE = "run.json"
RUN_FORMAT = "cifar10-in-a-tab/run"
RUN_VERSION = 1
OPTIMIZER_FILE = "optimizer.weights.bin"


def unpack(path, into):
    """A hand-over as downloaded (.zip) or unpacked (folder); a zip is extracted into `into`
    (flat: members with a directory part or '..' are refused). Returns the folder."""
    if os.path.isdir(path):
        return path
    os.makedirs(into, exist_ok=True)
    with zipfile.ZipFile(path) as archive:
        for member in archive.infolist():
            name = member.filename
            if member.is_dir():
                continue
            if os.path.basename(name) != name or name in ("", ".", ".."):
                raise ValueError(f"{path}: member {name!r} is not a plain file name")
            with archive.open(member) as src, open(os.path.join(into, name), "wb") as dst:
                dst.write(src.read())
    return into


def pack(folder, path):
    """The folder's files as one flat zip, the form the app downloads and imports."""
    tmp = path + ".tmp"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(os.listdir(folder)):
            archive.write(os.path.join(folder, name), name)
    os.replace(tmp, path)
    return path


def read_run(folder):
    """run.json, checked for what the Python side relies on."""
    with open(os.path.join(folder, RUN_FILE)) as f:
        run = json.load(f)
    if run.get("format") != RUN_FORMAT or run.get("version") != RUN_VERSION:
        raise ValueError(f"{folder}/{RUN_FILE} is not a version {RUN_VERSION} run of the app")
    settings = run["settings"]
    if (run["preset"], run["color"], run["seed"]) != (settings["preset"], settings["color"], settings["seed"]):
        raise ValueError("run.json: preset, colour and seed differ from its settings")
    if "recipe" not in run:
        raise ValueError("run.json has no recipe (the app writes one since December 2026): export the run again from the app")
    if run["recipe"]["batchSize"] != settings["batchSize"]:
        raise ValueError("run.json: the recipe's batch size differs from its settings")
    if len(run["curves"]["epochs"]) != run["epochsDone"]:
        raise ValueError("run.json: the curves do not hold every epoch done")
    covered = [e for s in run["segments"] for e in range(s["fromEpoch"], s["toEpoch"] + 1)]
    if covered != list(range(1, run["epochsDone"] + 1)):
        raise ValueError("run.json: the segments do not cover epochs 1 … epochsDone in order")
    return run


def read_handover(folder):
    """(run dict, Network with the exported weights, model.json dict, optimizer slots or None).

    Optimizer slots: [(weight name, slot name, float32 array in tfjs layout)] in file order.
    """
    run = read_run(folder)
    model, model_json = load_layers_model(os.path.join(folder, run["model"]), run["preset"], run["color"], len(run["classes"]))
    slots = None
    if run.get("optimizer"):
        spec = run["optimizer"]
        data = np.fromfile(os.path.join(folder, spec["file"]), dtype="<f4")
        slots, offset = [], 0
        for slot in spec["slots"]:
            count = int(np.prod(slot["shape"], dtype=np.int64))
            slots.append((slot["weight"], slot["slot"], data[offset:offset + count].reshape(slot["shape"])))
            offset += count
        if offset != data.size:
            raise ValueError(f"{spec['file']} holds {data.size} floats, run.json describes {offset}")
    return run, model, model_json, slots


def write_handover(folder, run, model, model_json, optimizer_slots, stem, test_accuracy):
    """Writes a hand-over folder the app can import: Layers files, optimizer slots, run.json.

    optimizer_slots: [(weight name, slot name, torch tensor in the model's layout)] in file order, or None.
    """
    os.makedirs(folder, exist_ok=True)
    run = copy.deepcopy(run)
    run["model"] = write_layers_model(model, model_json, folder, stem, {
        "epochs": run["epochsDone"], "testAccuracy": test_accuracy,
        "classes": run["classes"], "mean": run["mean"], "std": run["std"],
        "preset": run["preset"], "color": run["color"], "version": 1,
    })
    if optimizer_slots is None:
        run["optimizer"] = None
    else:
        arrays = [to_tfjs_layout(weight, tensor) for weight, _, tensor in optimizer_slots]
        with open(os.path.join(folder, OPTIMIZER_FILE), "wb") as f:
            for a in arrays:
                f.write(a.astype("<f4").tobytes())
        run["optimizer"]["file"] = OPTIMIZER_FILE
        run["optimizer"]["slots"] = [{"weight": w, "slot": s, "shape": list(a.shape)}
                                     for (w, s, _), a in zip(optimizer_slots, arrays)]
    tmp = os.path.join(folder, RUN_FILE + ".tmp")
    with open(tmp, "w") as f:
        json.dump(run, f)
    os.replace(tmp, os.path.join(folder, RUN_FILE))
    return run
