"""Chain states saved by name (layout 3, csrc/infer/state_codec.hpp) and every earlier layout migrated at load:
a fixture file of each layout resumes as the run that wrote it would have gone on."""
import copy
import json
import os
import shutil
import warnings

import numpy as np
import pytest

import brr_bayes as bb
from brr_bayes import _backend
from brr_bayes.infer import checkpoint_file

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "data", "checkpoints")
SAMPLERS = ["nuts", "chees", "meads"]
POSITIONAL = {"da", "est_flags", "bg_flags", "lr_vals", "win_meta", "win_q", "ensemble"}


def upgrade(state, sampler):
    return _backend.core().upgrade_sampler_state(state, sampler)


def w1():
    from workloads import data, models
    return models.eight_schools(data.make_w1())


def raw_states(name):
    """A fixture's chain states as its file holds them (Result.load would migrate them)."""
    return checkpoint_file.read(os.path.join(FIXTURES, name))["sampler_states"]


def quiet(f, *a, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return f(*a, **kw)


@pytest.mark.parametrize("name", SAMPLERS)
def test_a_layout_3_checkpoint_resumes_bit_for_bit(tmp_path, name):
    want = json.load(open(os.path.join(FIXTURES, "continuations_state3.json")))[name]
    path = tmp_path / f"{name}.nc"
    shutil.copy(os.path.join(FIXTURES, f"{name}_state3.nc"), path)
    more = quiet(bb.sample, w1(), resume=str(path), draws=20, progressbar=False)
    np.testing.assert_array_equal(np.asarray(more.unconstrained)[:, :5], want["unconstrained"])
    np.testing.assert_array_equal(np.asarray(more.sample_stats["step_size"])[:, :5], want["step_size"])


@pytest.mark.parametrize("name", SAMPLERS)
def test_states_name_every_field_and_read_back_unchanged(name):
    for st in raw_states(f"{name}_state3.nc"):
        assert st["version"] == 3 and not POSITIONAL & set(st)
        assert set(st["dual_averaging"]) == {"delta", "gamma", "kappa", "t0", "mu", "s_bar", "x_bar", "counter"}
        assert isinstance(st["iteration"], int) and isinstance(st["windows"]["enabled"], bool)
        assert (name in st) == (name != "nuts")         # a lock-step sampler's own part, under its name
        assert upgrade(st, name) == st                  # loading and saving again changes nothing
        assert json.loads(json.dumps(st)) == st


@pytest.mark.parametrize("name", SAMPLERS)
def test_layout_2_migrates_field_by_field(name):
    """The positional vectors of layout 2 land in the fields their order meant."""
    for old in raw_states(f"{name}_bad20c6.nc"):
        assert old["version"] == 2
        new = upgrade(old, name)
        assert new["version"] == 3
        for k in ("position", "step_size", "iteration", "rng", "inv_metric"):
            assert new[k] == old[k], k
        names = ["delta", "gamma", "kappa", "t0", "mu", "s_bar", "x_bar", "counter"]
        assert [new["dual_averaging"][k] for k in names] == old["da"]
        w = new["windows"]
        assert [w["num_warmup"], w["init_buffer"], w["term_buffer"], w["base_window"], w["counter"],
                w["window_size"], w["next_window"], int(w["enabled"])] == old["windows"]
        e = new["estimator"]
        assert [int(e["dense"]), int(e["use_grad"]), e["n"]] == old["est_flags"] and e["mean"] == old["est_mean"]
        assert new["low_rank"]["vals"] == old["lr_vals"]
        assert [new["draw_window"][k] for k in ("dim", "stride", "seen", "n")] == old["win_meta"]
        if name == "chees":
            c, e = new["chees"], old["ensemble"]
            assert [c["dual_averaging"]["mu"], c["adam"]["t"], c["T"], c["widest"]["var"]] == [e[0], e[6], e[9], e[11]]
            assert c["widest"]["v"] == e[12:]
        if name == "meads":
            m, e = new["meads"], old["ensemble"]
            assert [m["fold"], m["slice"], m["alpha"], m["delta"]] == e[:4] and m["momentum"] == e[4:]


def test_layout_1_migrates_with_the_defaults_of_what_it_lacked():
    """Layout 1: no version, and from before the nutpie schedule and the low-rank metric, no keys for them."""
    old = raw_states("nuts_bad20c6.nc")[0]
    v1 = {k: v for k, v in old.items() if k != "version" and k != "nutpie" and not k.startswith(("bg_", "lr_", "win_"))}
    new = upgrade(v1, "nuts")
    assert new["version"] == 3 and new["position"] == old["position"]
    assert new["low_rank"] == {"vals": [], "vecs": []} and new["nutpie"]["num_warmup"] == 0
    assert new["background"]["n"] == 0


@pytest.mark.parametrize("name", SAMPLERS)
def test_a_resume_from_layout_2_equals_one_from_its_migration(name):
    """Passing the saved states as they are (the C++ reads every layout) and passing them migrated draw the same."""
    saved = bb.Result.load(os.path.join(FIXTURES, f"{name}_bad20c6.nc"))    # migrated at load
    raw = copy.copy(saved)
    raw.sampler_states = raw_states(f"{name}_bad20c6.nc")
    assert all(s["version"] == 3 for s in saved.sampler_states) and all(s["version"] == 2 for s in raw.sampler_states)
    a = quiet(bb.sample, w1(), resume=saved, draws=5, progressbar=False)
    b = quiet(bb.sample, w1(), resume=raw, draws=5, progressbar=False)
    np.testing.assert_array_equal(a.unconstrained, b.unconstrained)


def test_a_malformed_state_names_the_field():
    st = raw_states("chees_state3.nc")[0]
    bad = copy.deepcopy(st)
    del bad["dual_averaging"]["mu"]
    with pytest.raises(ValueError, match="sampler state has no 'dual_averaging.mu'"):
        upgrade(bad, "chees")
    bad = copy.deepcopy(st)
    bad["iteration"] = 1.5
    with pytest.raises(ValueError, match="sampler state's 'iteration' is not a whole number"):
        upgrade(bad, "chees")
    bad = copy.deepcopy(st)
    bad["rng"] = bad["rng"][:3]
    with pytest.raises(ValueError, match="'rng' holds 3 words, not 4"):
        upgrade(bad, "chees")
    bad = copy.deepcopy(st)
    bad["draw_window"]["n"] = 2
    with pytest.raises(ValueError, match="draw window disagrees"):
        upgrade(bad, "chees")
    old = raw_states("meads_bad20c6.nc")[0]
    with pytest.raises(ValueError, match="sampler='nuts' keeps no 'ensemble'"):
        upgrade(old, "nuts")
    with pytest.raises(ValueError, match="sampler='hmc' is not known"):
        upgrade(st, "hmc")


def test_a_state_of_another_sampler_is_refused_by_the_run():
    saved = bb.Result.load(os.path.join(FIXTURES, "nuts_state3.nc"))
    chees = bb.Result.load(os.path.join(FIXTURES, "chees_state3.nc"))
    mixed = copy.copy(chees)
    mixed.sampler_states = [saved.sampler_states[0]] * len(chees.sampler_states)
    with pytest.raises((ValueError, RuntimeError), match="can only resume states saved by a ChEES run"):
        quiet(bb.sample, w1(), resume=mixed, draws=5, progressbar=False)
