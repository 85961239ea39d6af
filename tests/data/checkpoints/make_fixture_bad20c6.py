"""Writes {nuts,chees,meads}_bad20c6.nc: W1 checkpoint files of a finished 100-draw run in the append-only
format as commit bad20c6 wrote them (before the samplers shared one leapfrog and one dual averaging), and
continuations_bad20c6.json: what that commit drew when each was resumed for 20 more draws (the first 5 kept). Run it with
that commit's build on the path:

    git worktree add /tmp/old bad20c6 && cd /tmp/old && python setup.py build_ext --inplace
    PYTHONPATH=/tmp/old python tests/data/checkpoints/make_fixture_bad20c6.py   # from the current checkout

tests/test_checkpoint.py resumes them with today's code.
"""
import json
import pathlib
import warnings

import numpy as np

import brr_bayes as bb
from workloads import data, models

HERE = pathlib.Path(__file__).resolve().parent
RUNS = {"nuts": dict(chains=2), "chees": dict(sampler="chees", chains=8), "meads": dict(sampler="meads", chains=8)}
KW = dict(draws=100, tune=150, seed=20261207, progressbar=False)

if __name__ == "__main__":
    model = models.eight_schools(data.make_w1())
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, kw in RUNS.items():
            path = HERE / f"{name}_bad20c6.nc"
            path.unlink(missing_ok=True)
            bb.sample(model, checkpoint=path, checkpoint_every=50, **KW, **kw)
            more = bb.sample(model, resume=str(path), draws=20, progressbar=False)
            out[name] = {"unconstrained": np.asarray(more.unconstrained)[:, :5].tolist(),
                         "step_size": np.asarray(more.sample_stats["step_size"])[:, :5].tolist()}
    (HERE / "continuations_bad20c6.json").write_text(json.dumps(out) + "\n")
    print(f"wrote the fixtures in {HERE} with brr_bayes from {bb.__file__}")
