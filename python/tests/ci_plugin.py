"""How the tests know they run under CI, and what CI makes of a skip.

A module of its own so that test_ci.py can load it into a pytest run of a
test written for the purpose (`-p ci_plugin`); conftest.py takes both from here.
"""
import os

import pytest


def in_ci(env=None):
    """CI is any non-empty CI other than 0 or false (.ci/run sets CI=1, CI services CI=true).

    The same rule as scripts/ci.ts, so that no guard reads only one spelling.
    """
    value = (os.environ if env is None else env).get("CI", "").strip().lower()
    return value not in ("", "0", "false")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under CI a skip is a failure: a test that CI cannot run has not passed."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and in_ci() and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.longrepr = f"skipped under CI, which must run every test: {reason}"
