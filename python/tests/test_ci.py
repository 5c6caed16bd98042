"""Under CI a missing input fails the tests that need it, whichever way CI is spelled."""
import os
import subprocess
import sys

import pytest

from ci_plugin import in_ci
from conftest import ROOT


@pytest.mark.parametrize("value", ["1", "true", "TRUE", "yes"])
def test_ci_values_that_count(value):
    assert in_ci({"CI": value})


@pytest.mark.parametrize("value", ["", "0", "false", "False", " "])
def test_ci_values_that_do_not(value):
    assert not in_ci({"CI": value})
    assert not in_ci({})


def run_without_reference(ci):
    """Runs one test that needs the reference outputs, with none, under the given CI value."""
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["CIFAR_TAB_REFERENCE"] = os.path.join(ROOT, "no-such-reference")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if ci is not None:
        env["CI"] = ci
    test = os.path.join(ROOT, "python", "tests", "test_augment.py") + "::test_params_equal_the_apps"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=300,
    )


@pytest.mark.parametrize("ci", ["1", "true"])
def test_a_missing_reference_fails_under_ci(ci):
    result = run_without_reference(ci)
    assert result.returncode != 0, result.stdout
    assert "CI must run these tests" in result.stdout


def test_a_missing_reference_skips_outside_ci():
    result = run_without_reference(None)
    assert result.returncode == 0, result.stdout
    assert "1 skipped" in result.stdout


def test_a_skip_of_any_kind_fails_under_ci(tmp_path):
    (tmp_path / "test_skip.py").write_text("import pytest\n\ndef test_skipped():\n    pytest.skip('no reason to run')\n")
    tests = os.path.join(ROOT, "python", "tests")
    env = {**os.environ, "CI": "1", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": tests}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "ci_plugin", str(tmp_path)],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode != 0, result.stdout
    assert "skipped under CI" in result.stdout
