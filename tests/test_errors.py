"""(The table of bad inputs is tests/test_bad_inputs.py.) Bad input is caught in Python before C++ runs, with messages naming the variable, the value and the fix."""
import numpy as np
import pytest

import brr_bayes as bb
from brr_bayes import _backend


def test_outside_a_model_context():
    with pytest.raises(TypeError, match=r"Normal\('mu'\) must be created inside a model context"):
        bb.Normal("mu", 0, 1)


def test_shapes_and_dims():
    with bb.Model(coords={"state": ["a", "b", "c"]}):
        with pytest.raises(ValueError, match=r"dims \['county'\] have no coords"):
            bb.Normal("z", 0, 1, dims="county")
        with pytest.raises(ValueError, match=r"observed data has shape \(4,\) but dims/shape say \(3,\)"):
            bb.Normal("y", 0, 1, observed=np.zeros(4), dims="state")
        x = bb.Normal("x", 0, 1, dims="state")
        with pytest.raises(ValueError, match=r"shapes \(3,\) and \(4,\) do not broadcast"):
            x + np.ones(4)
        with pytest.raises(ValueError, match="already exists"):
            bb.Normal("x", 0, 1)
    with pytest.raises(ValueError, match="duplicate labels"):
        bb.Model(coords={"g": ["a", "a"]})


def test_index_arrays():
    with bb.Model():
        a = bb.Normal("a", 0, 1, shape=4)
        with pytest.raises(ValueError, match=r"index value 4 is out of range for axis 0 of size 4; group ids must be "
                                             r"0-based integers in \[0, 3\]"):
            a[np.array([0, 4])]
        with pytest.raises(ValueError, match="index value -1 is out of range"):
            a[np.array([0, -1])]
        with pytest.raises(TypeError, match="index arrays must hold integers, got dtype float64"):
            a[np.array([0.0, 1.0])]
        with pytest.raises(TypeError, match="indexing with a model expression"):
            a[a]


def test_logp_vector_length_and_unconstrain():
    with bb.Model() as m:
        bb.Normal("mu", 0, 1)
        bb.HalfNormal("s", 1)
    with pytest.raises(ValueError, match=r"x must be a float64 vector of length model.dim = 2, got shape \(3,\)"):
        m.logp(np.zeros(3))
    with pytest.raises(ValueError, match="no value for 's'"):
        m.unconstrain({"mu": 0.0})
    with pytest.raises(ValueError, match="'s': values must be > 0"):
        m.unconstrain({"mu": 0.0, "s": -1.0})


def test_discrete_parameters_must_be_observed():
    with bb.Model():
        with pytest.raises(TypeError, match="discrete variables cannot be sampled by NUTS"):
            bb.Poisson("k", 3.0)


def test_sample_arguments():
    with bb.Model() as m:
        bb.Normal("mu", 0, 1)
    for kw, match in [(dict(target_accept=1.2), "target_accept must be in"), (dict(metric="full"), "Expected one of"),
                      (dict(chains=0), "chains must be a positive integer"), (dict(seed=-1), "seed must be"),
                      (dict(init={"nu": 1.0}), "unknown parameters"), (dict(draws=-5), "draws must be")]:
        with pytest.raises(ValueError, match=match):
            bb.sample(m, progressbar=False, **kw)


def test_cpp_program_rejects_malformed_ops_without_crashing():
    core = _backend.core()
    p = core.Program(3)
    s = p.add_slot(3)
    with pytest.raises(ValueError, match="input slot 9 does not exist"):
        p.add_op(0, [9], s)
    with pytest.raises(ValueError, match="expected 1 inputs"):
        p.add_op(0, [0, 0], s)
    with pytest.raises(ValueError, match="outside"):
        p.add_index(np.array([0, 5]), 3)
    with pytest.raises(ValueError, match="read-only"):
        p.add_op(0, [0], 0)
    with pytest.raises(ValueError, match="x has length 2, expected 3"):
        p.logp(np.zeros(2))
    with pytest.raises(ValueError, match="sampler state has no .step_size."):
        core.start_sampling(p, {}, [], [{"position": [0.0]}])
