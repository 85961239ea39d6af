"""Models pickle with their data and unpickle in another process to the same log density, bit for bit
(joblib, multiprocessing, Dask workers and forecasting pipelines that cache models need it)."""
import pickle
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import brr_bayes as bb
import workloads as wl


def _glm():
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"state": rng.choice(["CA", "NY", "TX"], 300), "age": rng.normal(size=300)})
    df["vote"] = (rng.random(300) < 0.4).astype(int)
    return bb.GLM("vote ~ age + (1 | state)", df, family="bernoulli").model


MODELS = {"W1": lambda: wl.eight_schools(wl.make_w1()), "W3": lambda: wl.bym2(wl.make_w3()),
          "W4": lambda: wl.poll_rw(wl.make_w4()), "W5": lambda: wl.radon(wl.make_w5()), "glm": _glm}

CHILD = """
import pickle, sys
import numpy as np
m, x = pickle.loads(sys.stdin.buffer.read())
lp, g = m.logp_and_grad(x)
sys.stdout.buffer.write(pickle.dumps((lp, np.asarray(g))))
"""


@pytest.mark.parametrize("name", sorted(MODELS))
def test_a_compiled_model_unpickles_in_another_process_to_the_same_log_density(name, tmp_path):
    m = MODELS[name]()
    x = np.random.default_rng(0).normal(scale=0.3, size=m.dim)
    lp, g = m.logp_and_grad(x)           # compiled and evaluated: the kept evaluators and their lock exist
    blob = pickle.dumps((m, x))
    out = subprocess.run([sys.executable, "-c", CHILD], input=blob, capture_output=True, cwd=tmp_path, timeout=300)
    assert out.returncode == 0, out.stderr.decode()[-2000:]
    lp2, g2 = pickle.loads(out.stdout)
    assert lp2 == lp
    np.testing.assert_array_equal(g2, g)


def test_an_unpickled_model_samples_and_keeps_its_names_and_coords():
    m = wl.radon(wl.make_w5())
    m.logp(np.zeros(m.dim))
    m2 = pickle.loads(pickle.dumps(m))
    assert m2.dim == m.dim and list(m2.vars) == list(m.vars) and list(m2.coords) == list(m.coords)
    assert all(np.array_equal(np.asarray(m2.coords[k]), np.asarray(m.coords[k])) for k in m.coords)
    kw = dict(draws=50, tune=50, chains=2, seed=3, progressbar=False)
    a, b = bb.sample(m, **kw), bb.sample(m2, **kw)
    np.testing.assert_array_equal(a.unconstrained, b.unconstrained)
