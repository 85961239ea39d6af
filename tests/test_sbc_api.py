"""bb.sbc: simulation-based calibration as a user runs it in their own CI. It passes a model that matches the
process that made its data and finds one whose likelihood has the wrong scale, naming the parameters; its
uniformity test holds its level on uniform ranks and rejects piled ones."""
import numpy as np
import pytest

import brr_bayes as bb
from brr_bayes.infer.sbc import SBCResult

FIT = dict(draws=200, tune=200, n_sims=100, seed=1)


def build(observed=None, scale=1.0):
    with bb.Model() as m:
        mu = bb.Normal("mu", 0, 1)
        tau = bb.HalfNormal("tau", 1)
        z = bb.Normal("z", 0, 1, shape=4)
        bb.Normal("y", mu + tau * z, scale, observed=np.zeros(4) if observed is None else observed["y"])
    return m


def simulate(rng, scale=1.0):
    """The process that made the data, written independently of the model."""
    mu, tau, z = rng.normal(), abs(rng.normal()), rng.normal(size=4)
    return dict(mu=mu, tau=tau, z=z), dict(y=rng.normal(mu + tau * z, scale))


def test_the_right_model_passes_and_a_likelihood_with_the_wrong_scale_fails():
    right = bb.sbc(build, simulate=simulate, **FIT)
    assert right.passed, right.summary()
    assert right.ranks["z"].shape == (100, 4) and right.n_draws == 100 and right.ranks["z"].max() <= 100
    wrong = bb.sbc(build, simulate=lambda rng: simulate(rng, scale=2.0), **FIT)   # the data are noisier than
    assert not wrong.passed                                                       # the model says
    assert "tau" in wrong.failed and "z[0]" in wrong.failed, wrong.summary()
    assert "failed: " in repr(wrong)


def test_the_template_model_s_own_prior_predictive_is_the_default_process():
    res = bb.sbc(build, **FIT)
    assert res.passed and set(res.ranks) == {"mu", "tau", "z"}


def test_the_uniformity_test_holds_its_level_and_rejects_piled_ranks():
    rng = np.random.default_rng(3)
    uniform = SBCResult({"x": rng.integers(0, 101, size=(100, 200))}, 100, 0.05, seed=1)
    p = uniform.p_values["x"]
    assert 0.01 < np.mean(p < 0.05) < 0.11            # about 5% of 200 uniform columns at the 5% level
    assert uniform.passed                              # and none at the family-wise level
    piled = SBCResult({"x": np.r_[np.zeros(30, int), rng.integers(0, 101, size=70)]}, 100, 0.05, seed=1)
    assert piled.p_values["x"] < 1e-3 and piled.failed == ["x"]
    middle = SBCResult({"x": rng.integers(40, 61, size=100)}, 100, 0.05, seed=1)   # too wide a posterior
    assert middle.failed == ["x"]


def test_the_ecdf_plot_draws_the_band_and_each_element():
    import matplotlib
    matplotlib.use("Agg")
    res = SBCResult({"x": np.random.default_rng(0).integers(0, 51, size=(80, 2))}, 50, 0.05, seed=0)
    ax = res.plot()
    assert len(ax.collections) == 1 and len(ax.lines) == 3      # the band, two elements and the zero line


@pytest.mark.parametrize("kw,exc,match", [
    (dict(n_sims=1), ValueError, "n_sims must be an integer >= 2"),
    (dict(thin=0), ValueError, "thin must be a positive integer"),
    (dict(alpha=1.5), ValueError, r"alpha must be in \(0, 1\)"),
    (dict(simulate=lambda rng: (dict(z=np.zeros(3)), dict(y=np.zeros(4)))), ValueError,
     r"the truth of 'z' has shape \(3,\), the model's is \(4,\)"),
    (dict(simulate=lambda rng: (dict(w=1.0), dict(y=np.zeros(4)))), ValueError, "names none of the parameters"),
])
def test_bad_arguments_are_named(kw, exc, match):
    with pytest.raises(exc, match=match):
        bb.sbc(build, **{**FIT, "n_sims": 3, **kw})


def test_build_must_give_a_model():
    with pytest.raises(TypeError, match=r"build\(None\) must return a bb.Model"):
        bb.sbc(lambda observed: None, n_sims=3)
