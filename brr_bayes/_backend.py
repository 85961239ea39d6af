"""Loads the compiled extensions: _core always, _cuda when it was built and a GPU is visible."""
from __future__ import annotations

import importlib
import os

_core_mod = None


def core():
    global _core_mod
    if _core_mod is None:
        try:
            _core_mod = importlib.import_module("brr_bayes._core")
        except ImportError as e:  # pragma: no cover - a broken install
            raise ImportError("brr_bayes._core is not built. Fix: `pip install .` from the repository root "
                              f"(needs a C++17 compiler). Original error: {e}") from None
    return _core_mod


def cuda_module():
    try:
        return importlib.import_module("brr_bayes._cuda")
    except ImportError:
        return None


def cuda_built() -> bool:
    """Whether the CUDA extension was compiled into this install."""
    return cuda_module() is not None


def cuda_available() -> bool:
    """Whether CUDA kernels can run here: the extension is built and a GPU is visible."""
    mod = cuda_module()
    if mod is None:
        return False
    try:
        return mod.device_count() > 0
    except Exception:  # noqa: BLE001 - no driver means no GPU
        return False


def default_cores() -> int:
    """The cores this process may run on (its CPU affinity), which default thread counts divide."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1
