"""Ctrl-C at any moment keeps every chain's draws, and resume finishes each chain exactly.

4 chains on 2 threads: chains 2-3 wait for chains 0-1. A watcher thread reads the live run's
progress and sends SIGINT (as Ctrl-C does) once the run reaches the phase under test; resuming
without ``draws`` and joining with ``bb.concat`` must equal the uninterrupted run bit for bit.
"""
import warnings

import numpy as np
import pytest

import brr_bayes as bb
from helpers import regression, sample_interrupted

TUNE, DRAWS = 300, 300
KW = dict(chains=4, cores=2, seed=11, progressbar=False)


@pytest.fixture(scope="module")
def model():
    return regression(0)


@pytest.fixture(scope="module")
def full(model):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bb.sample(model, draws=DRAWS, tune=TUNE, **KW)


def _interrupted(model, monkeypatch, when):
    """Run bb.sample and press Ctrl-C once ``when(progress)`` holds."""
    part, last, seen = sample_interrupted(model, monkeypatch, when, draws=DRAWS, tune=TUNE, **KW)
    assert part.partial, f"the run ended before the watcher saw the phase (chain iterations seen: {last})"
    assert any("interrupted" in str(w.message) for w in seen)
    return part


END = TUNE + DRAWS
PHASES = {
    # chains 0-1 in warm-up, chains 2-3 not started
    "warmup": lambda done: 20 < max(done[:2]) < TUNE - 150,
    # chains 0-1 sampling, chains 2-3 not started
    "sampling": lambda done: any(TUNE + 30 < d < END - 150 for d in done[:2]),
    # chains 0-1 finished, chains 2-3 part-way
    "some_finished": lambda done: min(done[:2]) == END and any(TUNE + 50 < d < END - 150 for d in done[2:]),
}


@pytest.mark.parametrize("phase", list(PHASES))
def test_interrupt_keeps_every_chain_and_resume_completes_it_exactly(model, full, monkeypatch, phase):
    part = _interrupted(model, monkeypatch, PHASES[phase])
    assert part.partial and part.chains == 4 and len(part.sampler_states) == 4
    kept = part.chain_draws
    # the interruption lands ~0.05 s after the watcher fires: chains move on meanwhile, so the checks
    # say only what that cannot change
    started = [s is not None and s["iteration"] > 0 for s in part.sampler_states]
    if phase == "warmup":
        assert kept[2:] == [0, 0] and not any(started[2:]) and min(kept[:2]) == 0, kept
        assert min(s["iteration"] for s in part.sampler_states[:2]) < TUNE
    elif phase == "sampling":
        assert kept[2:] == [0, 0] and any(0 < k < DRAWS for k in kept[:2]), kept
    else:
        assert kept[:2] == [DRAWS, DRAWS] and any(0 < k < DRAWS for k in kept[2:]), kept
    for c, n in enumerate(kept):  # every chain's draws so far equal the uninterrupted run's
        np.testing.assert_array_equal(part.unconstrained[c, :n], full.unconstrained[c, :n])
        assert np.isnan(part.unconstrained[c, n:]).all()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rest = bb.sample(model, resume=part, progressbar=False)   # no draws=: finish each chain
    assert not rest.partial
    assert [a + b for a, b in zip(part.chain_draws, rest.chain_draws)] == [DRAWS] * 4
    joined = bb.concat(part, rest)
    assert joined.chain_draws == [DRAWS] * 4
    np.testing.assert_array_equal(joined.unconstrained, full.unconstrained)
    for k in full.sample_stats:
        np.testing.assert_array_equal(joined.sample_stats[k], full.sample_stats[k], err_msg=k)
    for k in full.posterior:
        np.testing.assert_array_equal(joined.posterior[k], full.posterior[k], err_msg=k)


def test_interrupted_run_survives_save_and_load(model, full, monkeypatch, tmp_path):
    part = _interrupted(model, monkeypatch, PHASES["sampling"])
    path = part.save(tmp_path / "part.nc")
    loaded = bb.Result.load(path)
    assert loaded.chain_draws == part.chain_draws
    # every chain's state as it was when interrupted, a never-started chain's too (which chains had started
    # depends on when the Ctrl-C landed: under load a third chain may have begun)
    assert loaded.sampler_states == part.sampler_states
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rest = bb.sample(model, resume=loaded, progressbar=False)
    np.testing.assert_array_equal(bb.concat(loaded, rest).unconstrained, full.unconstrained)
