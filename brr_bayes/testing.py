"""Checks for the user's own CI: does today's fit still give the posterior it gave before?

A forecasting pipeline refits its models every day and must notice, before a number ships, when a model
(or a dependency, or the data feed) has gone wrong. ``assert_posterior_matches`` compares a fit with a
reference posterior the team keeps (a saved run, or a summary table) element by element, in units of the
Monte Carlo error of both, so a real change fails and sampling noise does not. ``logp_grad_call``,
``speed`` and ``assert_not_slower`` time a model's log density and gradient, so the same CI notices when
a model (or an upgrade) got slower.
"""
from __future__ import annotations

import json
import os
import pathlib
import time
import warnings

import numpy as np

from .infer.result import Result
from .model import Model


def reference_table(result):
    """A fit's summary table by position (``"theta[3]"``, whatever its coords): mean, sd, mcse_mean,
    mcse_sd and the ESS (ArviZ's estimates). Save it (``to_csv``) as a reference for
    ``assert_posterior_matches``; a run loaded from disk gives the same names as the run in memory.

    Example:
        >>> import numpy as np, brr_bayes as bb
        >>> with bb.Model(coords={"g": ["a", "b"]}) as m:
        ...     _ = bb.Normal("theta", 0, 1, dims="g")
        >>> res = bb.sample(m, draws=200, tune=200, chains=2, seed=1, progressbar=False)
        >>> list(bb.testing.reference_table(res).index)
        ['theta[0]', 'theta[1]']
    """

    import arviz as az
    if isinstance(result, (str, os.PathLike)):
        result = Result.load(result)
    if not isinstance(result, Result):
        raise TypeError(f"reference_table: pass a bb.Result or the path of a saved one, got {type(result).__name__}")
    if result.draws == 0:
        raise ValueError("reference_table: this result holds no kept draws")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        idata = az.from_dict(posterior={k: np.asarray(v) for k, v in result.posterior.items()})
        # unrounded: ArviZ rounds to 2 significant digits by default, which makes a small posterior's MCSE 0
        return az.summary(idata, kind="all", hdi_prob=0.94, round_to="none")


def _table(x, what):
    """The summary table by position (mean, sd, mcse_mean, mcse_sd) of a Result, a saved run or a table."""
    import pandas as pd
    if isinstance(x, (str, os.PathLike, Result)):
        return reference_table(x)
    if isinstance(x, pd.DataFrame):
        missing = [c for c in ("mean", "sd") if c not in x.columns]
        if missing:
            raise ValueError(f"assert_posterior_matches: the {what} table needs the columns 'mean' and 'sd' (as "
                             f"bb.Result.summary() gives them), missing {missing}")
        return x
    raise TypeError(f"assert_posterior_matches: the {what} must be a bb.Result, the path of a saved one, or a "
                    f"summary table (pandas DataFrame with mean and sd by parameter), got {type(x).__name__}")


def assert_posterior_matches(result, reference, *, z=5.0, var_names=None):
    """Raise AssertionError unless every parameter's posterior mean and sd match the reference's.

    For each element (``"theta[3]"``) present in the reference: ``z_mean = (mean - ref_mean) /
    sqrt(mcse_mean^2 + ref_mcse_mean^2)`` and likewise for the sd with ``mcse_sd``; it fails where
    ``|z| > z``. A reference table without mcse columns counts as exact. For a correct fit both z's are
    about standard normal, so ``z=5`` false-alarms about once in a million comparisons, while a mean off by
    a fifth of a posterior sd at ESS 1,000 fails.

    Args:
        result: the fit to check (a bb.Result, or the path of a saved one).
        reference: a bb.Result, the path of a saved one, or a summary table by position
            (``bb.testing.reference_table(trusted_run)``, saved with ``to_csv`` and read back with
            ``index_col=0``).
        z: the tolerance in standard errors.
        var_names: compare only these variables (default: every variable the reference has).

    Example:
        >>> import numpy as np, brr_bayes as bb
        >>> with bb.Model() as m:
        ...     mu = bb.Normal("mu", 0, 10)
        ...     _ = bb.Normal("y", mu, 1, observed=np.array([1.8, 2.2, 2.0]))
        >>> kw = dict(draws=500, tune=300, chains=2, progressbar=False)
        >>> bb.testing.assert_posterior_matches(bb.sample(m, seed=1, **kw), bb.sample(m, seed=2, **kw))
    """
    if not (isinstance(z, (int, float)) and z > 0):
        raise ValueError(f"assert_posterior_matches: z must be a positive number of standard errors, got {z!r}")
    mine, ref = _table(result, "result"), _table(reference, "reference")
    names = list(ref.index)
    if var_names is not None:
        wanted = [var_names] if isinstance(var_names, str) else list(var_names)
        names = [n for n in names if n.split("[", 1)[0] in wanted]
        if not names:
            raise ValueError(f"assert_posterior_matches: the reference has none of {wanted}")
    problems = []
    for name in names:
        if name not in mine.index:
            problems.append(f"{name}: not in the result")
            continue
        for stat, se in (("mean", "mcse_mean"), ("sd", "mcse_sd")):
            a, b = float(mine.at[name, stat]), float(ref.at[name, stat])
            err = np.hypot(float(mine.at[name, se]) if se in mine.columns else 0.0,
                           float(ref.at[name, se]) if se in ref.columns else 0.0)
            score = (a - b) / err if err > 0 else (0.0 if a == b else np.inf)
            if not abs(score) <= z:
                problems.append(f"{name}: {stat} {a:.4g} vs the reference's {b:.4g} (z = {score:+.1f})")
    if problems:
        raise AssertionError(f"the posterior differs from the reference in {len(problems)} of {2 * len(names)} "
                             f"comparisons (|z| > {z:g}): " + "; ".join(problems[:20])
                             + (f"; and {len(problems) - 20} more" if len(problems) > 20 else ""))


def logp_grad_call(model, point=None):
    """A zero-argument callable that evaluates the model's log density and gradient once, in the C++ loop the
    sampler uses: hand it to pytest-benchmark (``benchmark(bb.testing.logp_grad_call(model))``) to track a
    model's speed in your own CI. ``point``: the unconstrained point (default: zeros, or a Result's last
    draw of chain 0 when a Result is given).

    Example:
        >>> import numpy as np, brr_bayes as bb
        >>> with bb.Model() as m:
        ...     mu = bb.Normal("mu", 0, 1)
        ...     _ = bb.Normal("y", mu, 1, observed=np.zeros(100))
        >>> f = bb.testing.logp_grad_call(m)
        >>> f()
    """
    if not isinstance(model, Model):
        raise TypeError(f"logp_grad_call: pass a bb.Model, got {type(model).__name__}")
    if isinstance(point, Result):
        point = point.unconstrained[0, point.chain_draws[0] - 1]
    x = np.zeros(model.dim) if point is None else np.asarray(point, dtype=np.float64)
    if x.shape != (model.dim,) or not np.all(np.isfinite(x)):
        raise ValueError(f"logp_grad_call: point must be {model.dim} finite numbers (the unconstrained vector), got "
                         f"shape {x.shape}")
    program = model.compiled.program
    program.benchmark(x, 1, 1)   # the first call sizes the workspace: not part of what is timed

    def call():
        program.benchmark(x, 1, 1)
    return call


def speed(model, *, seconds=1.0, repeats=5, point=None):
    """The model's log density + gradient evaluations per second: the best of ``repeats`` timings of about
    ``seconds`` / ``repeats`` each (the best, as other work on a shared machine only slows a timing down).

    Example:
        >>> import numpy as np, brr_bayes as bb
        >>> with bb.Model() as m:
        ...     _ = bb.Normal("mu", 0, 1)
        >>> bb.testing.speed(m, seconds=0.05) > 1000
        True
    """
    if not seconds > 0 or not (isinstance(repeats, int) and repeats >= 1):
        raise ValueError(f"speed: seconds must be positive and repeats a positive integer, got {seconds}, {repeats}")
    call = logp_grad_call(model, point)
    t0 = time.perf_counter()
    call()
    one = max(time.perf_counter() - t0, 1e-7)
    n = max(1, int(seconds / repeats / one))
    best = 0.0
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(n):
            call()
        best = max(best, n / (time.perf_counter() - t0))
    return best


def assert_not_slower(model, baseline, *, tolerance=0.7, seconds=1.0, point=None):
    """Raise AssertionError if the model's logp+gradient speed fell below ``tolerance`` times the one
    recorded in the JSON file ``baseline``; the first run (no file yet) records it. Speeds are machine
    dependent: keep one baseline per CI machine type, and re-record (delete the file) after a deliberate
    change. Returns the speed measured.

    Example:
        >>> import numpy as np, tempfile, os, brr_bayes as bb
        >>> with bb.Model() as m:
        ...     _ = bb.Normal("mu", 0, 1)
        >>> path = os.path.join(tempfile.mkdtemp(), "speed.json")
        >>> first = bb.testing.assert_not_slower(m, path, seconds=0.05)      # records
        >>> _ = bb.testing.assert_not_slower(m, path, tolerance=0.01, seconds=0.05)
    """
    if not 0 < tolerance <= 1:
        raise ValueError(f"assert_not_slower: tolerance must be in (0, 1], got {tolerance}")
    now = speed(model, seconds=seconds, point=point)
    path = pathlib.Path(baseline)
    if not path.exists():
        path.write_text(json.dumps({"evals_per_second": now, "dim": model.dim}) + "\n")
        return now
    was = json.loads(path.read_text())
    if was.get("dim") != model.dim:
        raise ValueError(f"assert_not_slower: {path} was recorded for a model of {was.get('dim')} parameters, this "
                         f"one has {model.dim}; delete it to record this model's speed")
    if now < tolerance * was["evals_per_second"]:
        raise AssertionError(f"the model's logp+gradient speed is {now:,.0f} evaluations/s, {now / was['evals_per_second']:.2f}x "
                             f"the {was['evals_per_second']:,.0f}/s recorded in {path} (tolerance {tolerance:g}x)")
    return now


__all__ = ["assert_posterior_matches", "reference_table", "logp_grad_call", "speed", "assert_not_slower"]
