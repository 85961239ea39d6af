"""Shared fixtures: the path to ../shared (tests that need it skip without it) and the gpu marker."""
import os
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED = pathlib.Path(os.environ.get("BRR_SHARED", ROOT.parent / "shared"))


def pytest_collection_modifyitems(config, items):
    import brr_bayes as bb
    if bb.cuda_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device (none visible)")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def shared():
    if not SHARED.exists():
        pytest.skip(f"shared reference data not found at {SHARED}")
    return SHARED
