"""Writes {nuts,chees,meads}_state3.nc: W1 checkpoint files of a finished 10-draw run whose chain states are
in layout 3 (every field by name, csrc/infer/state_codec.hpp), and continuations_state3.json: what the commit
that introduced that layout drew when each was resumed for 20 more draws (the first 5 kept). Run from the
checkout, with its build:

    python tests/data/checkpoints/make_fixture_state3.py

tests/test_sampler_state.py resumes them with today's code; layouts 1 and 2 have their own fixtures here
(w1_881d5c4*.nc, *_bad20c6.nc).
"""
import json
import pathlib
import sys
import warnings

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2] / "benchmarks"))

import brr_bayes as bb  # noqa: E402
from workloads import data, models  # noqa: E402

RUNS = {"nuts": dict(chains=2), "chees": dict(sampler="chees", chains=8), "meads": dict(sampler="meads", chains=8)}
KW = dict(draws=10, tune=150, seed=20261208, progressbar=False)

if __name__ == "__main__":
    model = models.eight_schools(data.make_w1())
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, kw in RUNS.items():
            path = HERE / f"{name}_state3.nc"
            path.unlink(missing_ok=True)
            bb.sample(model, checkpoint=path, checkpoint_every=100, **KW, **kw)
            more = bb.sample(model, resume=str(path), draws=20, progressbar=False)
            out[name] = {"unconstrained": np.asarray(more.unconstrained)[:, :5].tolist(),
                         "step_size": np.asarray(more.sample_stats["step_size"])[:, :5].tolist()}
    (HERE / "continuations_state3.json").write_text(json.dumps(out) + "\n")
    print(f"wrote the fixtures in {HERE} with brr_bayes from {bb.__file__}")
