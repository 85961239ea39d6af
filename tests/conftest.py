"""Shared fixtures: the reference posteriors kept in tests/data, and the gpu marker."""
import pathlib

import pytest

REFERENCES = pathlib.Path(__file__).resolve().parent / "data" / "posteriordb"


def pytest_collection_modifyitems(config, items):
    import brr_bayes as bb
    if bb.cuda_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device (none visible)")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def references():
    """tests/data/posteriordb: data and reference summaries of the posteriors the sampler is checked against."""
    return REFERENCES
