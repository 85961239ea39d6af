"""Each sampler's options as a typed object (bb.NUTS, bb.ChEES, bb.MEADS): named, defaulted and checked once,
in the C++ registry (csrc/infer/registry.cpp); an option a sampler does not take is refused, never ignored."""
import warnings

import numpy as np
import pytest

import brr_bayes as bb
from brr_bayes.infer import plan

OPTIONS = {
    "nuts": {"target_accept", "max_treedepth", "step_size", "init_buffer", "term_buffer", "base_window", "metric",
             "adapt"},
    "chees": {"target_accept", "step_size", "max_leapfrog", "adam_rate", "metric_freeze"},
    "meads": {"folds", "step_multiplier", "divergence"},
}
KINDS = {"nuts": bb.NUTS, "chees": bb.ChEES, "meads": bb.MEADS}


def model():
    with bb.Model() as m:
        bb.Normal("x", 0, np.array([1.0, 3.0]))
    return m


def quiet(f, *a, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return f(*a, **kw)


@pytest.mark.parametrize("name", list(OPTIONS))
def test_the_registry_row_lists_the_options_and_their_defaults(name):
    row = plan.samplers()[name]["options"]
    assert set(row) == OPTIONS[name]
    assert KINDS[name]().options == row          # the typed object's defaults are the registry's
    assert KINDS[name].name == name


def test_every_registry_row_has_its_typed_object():
    from brr_bayes.infer.samplers import Sampler
    assert {kind.name for kind in Sampler.__subclasses__()} == set(plan.samplers())


def test_defaults_are_each_samplers_own():
    assert bb.NUTS().options["target_accept"] == 0.8 and bb.ChEES().options["target_accept"] == 0.651
    assert bb.NUTS().options["max_treedepth"] == 10 and bb.MEADS().options["folds"] == 4
    assert isinstance(bb.ChEES().options["max_leapfrog"], int)


@pytest.mark.parametrize("make, match", [
    (lambda: bb.MEADS(target_accept=0.7), r"sampler='meads' takes no option target_accept=; its options: folds, "
                                          r"step_multiplier, divergence"),
    (lambda: bb.ChEES(max_treedepth=5), r"sampler='chees' takes no option max_treedepth="),
    (lambda: bb.ChEES(metric="dense"), r"sampler='chees' adapts a diagonal metric across chains"),
    (lambda: bb.NUTS(max_leapfrog=5), r"sampler='nuts' takes no option max_leapfrog=; its options: target_accept, "
                                      r"max_treedepth, step_size, init_buffer, term_buffer, base_window, metric, adapt"),
    (lambda: bb.ChEES(leapfrogs=5), r"sampler='chees' takes no option leapfrogs="),
    (lambda: bb.ChEES(max_leapfrog=0), r"max_leapfrog must be a whole number >= 1, got 0; a trajectory's leapfrog "
                                       r"steps at most \(default 1000\)"),
    (lambda: bb.ChEES(max_leapfrog=2.5), r"max_leapfrog must be a whole number, got 2.5"),
    (lambda: bb.ChEES(metric_freeze=1.5), r"metric_freeze must be in \(0, 1\], got 1.5"),
    (lambda: bb.ChEES(adam_rate="fast"), r"adam_rate must be a number, got 'fast'"),
    (lambda: bb.MEADS(folds=1), r"folds must be a whole number >= 2, got 1; the folds that tune each other \(default 4\)"),
    (lambda: bb.NUTS(target_accept=1.2), r"target_accept must be in \(0, 1\), got 1.2; 0.95-0.99 for hard geometry "
                                         r"\(default 0.8\)"),
    (lambda: bb.NUTS(metric=3), r"metric must be a name \(a str\), got 3"),
])
def test_a_bad_option_is_refused_by_name(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_an_option_the_sampler_does_not_take_is_refused_by_sample_too():
    with pytest.raises(ValueError, match=r"sampler='chees' takes no option max_treedepth="):
        bb.sample(model(), sampler="chees", chains=8, max_treedepth=5, progressbar=False)
    with pytest.raises(ValueError, match=r"sampler='meads' takes no option target_accept="):
        bb.sample(model(), sampler="meads", chains=8, target_accept=0.9, progressbar=False)
    with pytest.raises(ValueError, match=r"target_accept is given twice, 0.9 in sampler= and target_accept=0.95"):
        bb.sample(model(), sampler=bb.NUTS(target_accept=0.9), target_accept=0.95, progressbar=False)
    with pytest.raises(ValueError, match=r"sampler must be a name .* or a bb.NUTS, bb.ChEES or bb.MEADS"):
        bb.sample(model(), sampler=3, progressbar=False)


def test_a_typed_nuts_draws_what_its_arguments_draw():
    kw = dict(draws=50, tune=100, chains=2, seed=4, progressbar=False)
    a = quiet(bb.sample, model(), sampler=bb.NUTS(target_accept=0.9, max_treedepth=4), **kw)
    b = quiet(bb.sample, model(), target_accept=0.9, max_treedepth=4, **kw)
    np.testing.assert_array_equal(a.unconstrained, b.unconstrained)
    assert a.config["target_accept"] == 0.9 and a.config["max_treedepth"] == 4
    assert a.sample_stats["tree_depth"].max() <= 4


def test_chees_options_take_effect_and_are_recorded():
    kw = dict(sampler="chees", draws=40, tune=100, chains=8, seed=2, progressbar=False)
    short = quiet(bb.sample, model(), **dict(kw, sampler=bb.ChEES(max_leapfrog=2)))
    assert short.sample_stats["n_steps"].max() <= 2
    assert short.config["max_leapfrog"] == 2 and "max_treedepth" not in short.config and "metric" not in short.config
    low = quiet(bb.sample, model(), **dict(kw, target_accept=0.3))
    high = quiet(bb.sample, model(), **dict(kw, target_accept=0.95))
    assert low.config["target_accept"] == 0.3
    assert high.sample_stats["step_size"][0, 0] < low.sample_stats["step_size"][0, 0]   # a higher target, a smaller step


def test_meads_folds_set_the_chains_rule_and_resume_keeps_the_options():
    with pytest.raises(ValueError, match=r"pass chains a multiple of 8, at least 16"):
        bb.sample(model(), sampler=bb.MEADS(folds=8), chains=12, progressbar=False)
    kw = dict(sampler=bb.MEADS(folds=8, step_multiplier=0.4), tune=100, chains=16, seed=3, progressbar=False)
    full = quiet(bb.sample, model(), draws=60, **kw)
    first = quiet(bb.sample, model(), draws=30, **kw)
    assert first.config["folds"] == 8 and first.config["step_multiplier"] == 0.4
    more = quiet(bb.sample, model(), resume=first, draws=30, progressbar=False)
    np.testing.assert_array_equal(bb.concat(first, more).unconstrained, full.unconstrained)
    assert sorted({st["meads"]["fold"] for st in more.sampler_states}) == list(range(8))
