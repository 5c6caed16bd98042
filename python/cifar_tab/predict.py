"""The model of a hand-over, its probabilities on test images: what the app shows for the same images.

    python3 -m cifar_tab.predict --from runs/mine/export --data ../public/data/cifar10 \\
        --indices 0,1,2 --out probs.json

Writes {"testIndices": [...], "labels": [...], "probs": [[10 floats], ...]} (test split order).
"""
import argparse
import json
import sys
import tempfile

import numpy as np
import torch

from .data import read_data, to_model_input
from .handover import read_handover, unpack


def probabilities(model, run, pixels, flip_test_time=False):
    """Softmax outputs for uint8 HWC images, standardised as run.json says; with the mirror image averaged in (`fast`)."""
    model.eval()
    with torch.no_grad():
        x = to_model_input(pixels, run["color"], run["mean"], run["std"])
        probs = model(x)
        if flip_test_time:
            probs = (probs + model(torch.flip(x, dims=[3]))) / 2
    return probs.numpy()


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m cifar_tab.predict", description=__doc__.split("\n\n")[0])
    p.add_argument("--from", dest="handover", required=True, help="hand-over folder or .zip")
    p.add_argument("--data", required=True, help="the app's shard folder, or cifar-10-binary.tar.gz")
    p.add_argument("--indices", required=True, help="comma-separated indices into the test split")
    p.add_argument("--out", required=True, help="JSON file to write")
    args = p.parse_args(argv if argv is not None else sys.argv[1:])
    indices = np.array([int(i) for i in args.indices.split(",")])
    with tempfile.TemporaryDirectory() as tmp:
        run, model, _, _ = read_handover(unpack(args.handover, tmp))
    _, test, _ = read_data(args.data)
    probs = probabilities(model, run, test.pixels[indices])
    with open(args.out, "w") as f:
        json.dump({"testIndices": indices.tolist(), "labels": test.labels[indices].tolist(), "probs": probs.tolist()}, f)


if __name__ == "__main__":
    main()
