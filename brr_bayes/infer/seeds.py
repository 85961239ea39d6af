"""A run's seed: checked, or a fresh one (bb.sample, bb.pathfinder, bb.fit_many)."""
from __future__ import annotations

import numpy as np


def resolve_seed(seed):
    """The run's integer seed: ``seed`` checked, or a fresh one for None (used by bb.sample and bb.fit_many)."""
    if seed is None:
        return int(np.random.SeedSequence().entropy % (2 ** 63))
    if isinstance(seed, (bool, float)) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2 ** 64:
        raise ValueError(f"seed must be an integer in [0, 2**64) or None, got {seed!r}")
    return int(seed)
