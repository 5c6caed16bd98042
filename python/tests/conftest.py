"""Shared inputs of the tests: the app's reference outputs (scripts/export-reference.ts) and the data.

CIFAR_TAB_REFERENCE  folder written by the reference script (npm run test:python makes one)
CIFAR_TAB_DATA       the app's shard folder (default public/data/cifar10)
CIFAR_TAB_ARCHIVE    cifar-10-binary.tar.gz (default ../shared/cifar10/cifar-10-binary.tar.gz)

A missing input skips the tests that need it, except under CI, where it fails them; and under CI
any skipped test is reported as a failure (ci_plugin.py).
"""
import json
import os
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "python"))

from cifar_tab.data import read_shards  # noqa: E402
from ci_plugin import in_ci, pytest_runtest_makereport  # noqa: E402,F401  (a hook, registered by being here)

CASES = [f"{p}-{c}" for p in ("tiny", "seed", "fast") for c in ("rgb", "gray")] + ["seed-rgb-tuned", "quick-rgb"]


def need(path, what):
    """The path, or a skip (a failure under CI) saying what is missing."""
    if path and os.path.exists(path):
        return path
    message = f"{what} not found at {path!r}"
    if in_ci():
        pytest.fail(message + " (CI must run these tests)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def reference_dir():
    return need(os.environ.get("CIFAR_TAB_REFERENCE"), "the reference outputs (CIFAR_TAB_REFERENCE)")


@pytest.fixture(scope="session")
def reference(reference_dir):
    with open(os.path.join(reference_dir, "reference.json")) as f:
        return json.load(f)


@pytest.fixture(scope="session")
def data_dir():
    return need(os.environ.get("CIFAR_TAB_DATA", os.path.join(ROOT, "public", "data", "cifar10")), "the shards")


@pytest.fixture(scope="session")
def archive_path():
    default = os.path.join(ROOT, "..", "shared", "cifar10", "cifar-10-binary.tar.gz")
    return need(os.environ.get("CIFAR_TAB_ARCHIVE", default), "the CIFAR-10 archive")


@pytest.fixture(scope="session")
def dataset(data_dir):
    """(train, test, manifest), read once."""
    return read_shards(data_dir)
