"""Every example in a public docstring runs and prints what it says (doctest), so none can rot."""
import doctest
import importlib
import pkgutil
import warnings

import pytest

import brr_bayes

SKIP = ("__main__", "cli", "demo")      # command-line entry points: tested through the CLI tests
MODULES = ["brr_bayes"] + sorted(i.name for i in pkgutil.walk_packages(brr_bayes.__path__, "brr_bayes.")
                                 if not i.name.endswith(SKIP))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS, report=True)
    assert result.failed == 0, f"{result.failed} of {result.attempted} docstring examples in {name} failed"
